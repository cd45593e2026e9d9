/**
 * PyTorch's pooling: `MaxPool1d/2d/3d` (dilation, ceil_mode), `AvgPool1d/2d/3d` and the
 * adaptive ones. `stride` defaults to `kernel_size`; padding is explicit and at most half the
 * window. The window arithmetic is shape.ts' (ceil_mode included), the adaptive windows the same
 * as Keras' adaptive pooling.
 */
import { windowLength, type Dim, type SpatialRank } from '../../shape';
import { bool, int, ints, optional } from '../args';
import { ShapeError, defineLayer, type LayerContext, type LayerType } from '../define';
import { evenWindows } from '../pooling';
import { inputText, outputSize, sizeText, torchInputWords, tupleText } from './common';
import { adaptiveTrain, poolTrain } from './train';

/** Output of a pooling window on a (C, spatial…) sample, with PyTorch's checks and errors. */
function poolShape(name: string, input: Dim[], kernel: number[], stride: number[], padding: number[], dilation: number[], ceilMode: boolean, ctx: LayerContext): Dim[] {
  const k = kernel.map((kk, i) => (kk - 1) * dilation[i] + 1);
  padding.forEach((p, i) => {
    if (p > k[i] / 2) {
      throw new ShapeError(`${name}: padding ${tupleText(padding)} must be at most half of the kernel (PyTorch raises "pad should be at most half of kernel size, but got pad=${p} and kernel_size=${kernel[i]}")`, 'padding', [], 'pool-padding');
    }
  });
  const [c, ...spatial] = input;
  const out = spatial.map((d, i) => windowLength(d, kernel[i], stride[i], 2 * padding[i], dilation[i], ceilMode));
  if (out.some((d) => d !== null && d <= 0)) {
    const shown = (xs: Dim[]) => xs.map((d) => (d === null ? '?' : String(Math.max(0, d)))).join('x');
    throw new ShapeError(
      `${name}: a ${sizeText(kernel)} window does not fit the ${sizeText(spatial)} input ${inputText(ctx, input)}; PyTorch raises "Given input size: (${shown([c, ...spatial])}). Calculated output size: (${shown([c, ...out])}). Output size is too small"`,
      'kernel_size',
      [],
      'output-empty',
      true,
    );
  }
  return [c, ...out];
}

function maxPool(rank: SpatialRank): LayerType {
  const name = `MaxPool${rank}d`;
  return defineLayer({
    name,
    framework: 'pytorch',
    category: 'pooling',
    doc: `${rank}-D max pooling (PyTorch): the maximum of each \`kernel_size\` window (taps \`dilation\` apart), moved by \`stride\` (default: the kernel size).`,
    args: {
      kernel_size: ints(rank, { min: 1 }),
      stride: optional(ints(rank, { min: 1 })),
      padding: ints(rank, { min: 0, default: 0 }),
      dilation: ints(rank, { min: 1, default: 1 }),
      return_indices: bool(false),
      ceil_mode: bool(false),
    },
    inputRank: rank + 1,
    inputWords: torchInputWords(rank),
    outputShape: (input, a, ctx) => poolShape(name, input, a.kernel_size, a.stride ?? a.kernel_size, a.padding, a.dilation, a.ceil_mode, ctx),
    macs: () => 0,
    receptiveField: (a) => ({ kind: 'window', kernel: a.kernel_size, stride: a.stride ?? a.kernel_size, dilation: a.dilation }),
    train: poolTrain('max'),
  });
}

function avgPool(rank: SpatialRank): LayerType {
  const name = `AvgPool${rank}d`;
  return defineLayer({
    name,
    framework: 'pytorch',
    category: 'pooling',
    doc: `${rank}-D average pooling (PyTorch): the mean of each \`kernel_size\` window, moved by \`stride\` (default: the kernel size).`,
    args: {
      kernel_size: ints(rank, { min: 1 }),
      stride: optional(ints(rank, { min: 1 })),
      padding: ints(rank, { min: 0, default: 0 }),
      ceil_mode: bool(false),
      count_include_pad: bool(true),
      divisor_override: optional(int({ min: 1 })),
    },
    inputRank: rank + 1,
    inputWords: torchInputWords(rank),
    outputShape: (input, a, ctx) => poolShape(name, input, a.kernel_size, a.stride ?? a.kernel_size, a.padding, a.kernel_size.map(() => 1), a.ceil_mode, ctx),
    macs: () => 0,
    receptiveField: (a) => ({ kind: 'window', kernel: a.kernel_size, stride: a.stride ?? a.kernel_size }),
    train: poolTrain('avg'),
  });
}

function adaptiveFamily(kind: 'Max' | 'Avg', rank: SpatialRank): LayerType {
  const name = `Adaptive${kind}Pool${rank}d`;
  // AdaptiveMaxPool's return_indices comes after output_size; AdaptiveAvgPool has none.
  const args = { output_size: outputSize(rank), return_indices: bool(false) };
  return defineLayer({
    name,
    framework: 'pytorch',
    category: 'pooling',
    doc: `Adaptive ${rank}-D ${kind === 'Max' ? 'max' : 'average'} pooling (PyTorch): pools each channel to exactly \`output_size\`, whatever the input size (None keeps an axis).`,
    args,
    inputRank: rank + 1,
    inputWords: torchInputWords(rank),
    outputShape(input, a) {
      const [c, ...spatial] = input;
      return [c, ...a.output_size.map((o, i) => (o === null ? spatial[i] : o))];
    },
    macs: () => 0,
    receptiveField(a, input) {
      const spatial = input.slice(1);
      const out = a.output_size.map((o, i) => o ?? spatial[i]);
      if (out.every((o) => o === 1)) return { kind: 'global' };
      const k = out.every((o) => o !== null) ? evenWindows(spatial, out as number[]) : undefined;
      return k ? { kind: 'window', kernel: k, stride: k } : { kind: 'unknown' };
    },
    train: adaptiveTrain(kind === 'Max' ? 'max' : 'avg'),
  });
}

export const MaxPool1d = maxPool(1);
export const MaxPool2d = maxPool(2);
export const MaxPool3d = maxPool(3);
export const AvgPool1d = avgPool(1);
export const AvgPool2d = avgPool(2);
export const AvgPool3d = avgPool(3);
export const AdaptiveMaxPool1d = adaptiveFamily('Max', 1);
export const AdaptiveMaxPool2d = adaptiveFamily('Max', 2);
export const AdaptiveMaxPool3d = adaptiveFamily('Max', 3);
export const AdaptiveAvgPool1d = adaptiveFamily('Avg', 1);
export const AdaptiveAvgPool2d = adaptiveFamily('Avg', 2);
export const AdaptiveAvgPool3d = adaptiveFamily('Avg', 3);

export const TORCH_POOLING: readonly LayerType[] = [
  MaxPool1d, MaxPool2d, MaxPool3d, AvgPool1d, AvgPool2d, AvgPool3d,
  AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d, AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d,
];
