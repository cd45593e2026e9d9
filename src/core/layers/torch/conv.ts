/**
 * PyTorch's convolutions, `torch.nn.Conv1d/2d/3d` and `ConvTranspose1d/2d/3d`, with PyTorch's
 * argument order and weight layout (`weight` (out_channels, in_channels / groups, k…) and
 * `bias`). Samples are channels-first: (C, L), (C, H, W), (C, D, H, W). The window arithmetic is
 * shape.ts', shared with Keras' convolutions.
 */
import { product, transposedLength, windowLength, type Dim, type SpatialRank } from '../../shape';
import { bool, choice, int, ints } from '../args';
import { ShapeError, countText, defineLayer, dotJoin, type LayerType } from '../define';
import { convTrain } from './train';
import { FACTORY_ARGS, channelMismatch, convPadding, inputText, sizeText, torchInputWords, tupleText } from './common';

const PADDING_MODES = ['zeros', 'reflect', 'replicate', 'circular'] as const;

/** PyTorch refuses channels or outputs that do not split into `groups` equal groups, at construction. */
function checkGroups(name: string, inChannels: number, outChannels: number, groups: number): void {
  if (inChannels % groups !== 0) throw new ShapeError(`${name}: in_channels=${inChannels} must be divisible by groups=${groups} (PyTorch raises "in_channels must be divisible by groups")`, 'groups', [], 'groups');
  if (outChannels % groups !== 0) throw new ShapeError(`${name}: out_channels=${outChannels} must be divisible by groups=${groups} (PyTorch raises "out_channels must be divisible by groups")`, 'groups', [], 'groups');
}

/** The effective extent of a dilated kernel on each axis. */
const effective = (kernel: readonly number[], dilation: readonly number[]): number[] => kernel.map((k, i) => (k - 1) * dilation[i] + 1);

function convFamily(rank: SpatialRank): LayerType {
  const name = `Conv${rank}d`;
  return defineLayer({
    name,
    framework: 'pytorch',
    category: 'convolution',
    doc: `${rank}-D convolution (PyTorch): each of \`out_channels\` kernels slides over the ${rank === 1 ? 'sequence' : rank === 2 ? 'image' : 'volume'} and sums over the input channels of its group.`,
    args: {
      in_channels: int({ min: 1 }),
      out_channels: int({ min: 1 }),
      kernel_size: ints(rank, { min: 1 }),
      stride: ints(rank, { min: 1, default: 1 }),
      padding: convPadding(rank),
      dilation: ints(rank, { min: 1, default: 1 }),
      groups: int({ min: 1, default: 1 }),
      bias: bool(true),
      padding_mode: choice(PADDING_MODES, 'zeros'),
    },
    extraArgs: FACTORY_ARGS,
    inputRank: rank + 1,
    inputWords: torchInputWords(rank),
    outputShape(input, a, ctx) {
      checkGroups(name, a.in_channels, a.out_channels, a.groups);
      if (a.padding === 'same' && a.stride.some((s) => s > 1)) {
        const pads = effective(a.kernel_size, a.dilation).map((k) => (k - 1) >> 1);
        throw new ShapeError(
          `${name}: padding='same' is not supported for strided convolutions (stride=${tupleText(a.stride)}); PyTorch raises this when the layer is built. Pad explicitly instead: padding=${tupleText(pads)} gives ⌈size / stride⌉ for odd kernels`,
          'padding',
          [{ kind: 'setArg', arg: 'padding', code: tupleText(pads), title: `Use padding=${tupleText(pads)}` }],
          'same-padding-stride',
        );
      }
      const [c, ...spatial] = input;
      if (c !== null && c !== a.in_channels) {
        const weight = `[${[a.out_channels, a.in_channels / a.groups, ...a.kernel_size].join(', ')}]`;
        throw channelMismatch(name, 'in_channels', a.in_channels, c, inputText(ctx, input), `Given groups=${a.groups}, weight of size ${weight}, expected input${inputText(ctx, input)} to have ${a.in_channels} channels, but got ${c} channels instead`);
      }
      const k = effective(a.kernel_size, a.dilation);
      const padTotal = spatial.map((_, i) => (a.padding === 'same' ? k[i] - 1 : a.padding === 'valid' ? 0 : 2 * a.padding[i]));
      const padded = spatial.map((d, i) => (d === null ? null : d + padTotal[i]));
      if (padded.some((d, i) => d !== null && d < k[i])) {
        const fix = a.stride.every((s) => s === 1) ? [{ kind: 'setArg' as const, arg: 'padding', code: "'same'", title: "Use padding='same'" }] : [];
        throw new ShapeError(
          `${name}: its ${sizeText(k)} kernel is larger than the padded input ${sizeText(padded)} (${inputText(ctx, input)}, padding=${a.padding === 'same' || a.padding === 'valid' ? `'${a.padding}'` : tupleText(a.padding)}); PyTorch raises "Calculated padded input size per channel: (${sizeText(padded)}). Kernel size: (${sizeText(k)}). Kernel size can't be greater than actual input size"`,
          'kernel_size',
          fix,
          'kernel-too-large',
          true,
        );
      }
      const out = spatial.map((d, i) => (a.padding === 'same' ? d : windowLength(d, a.kernel_size[i], a.stride[i], padTotal[i], a.dilation[i])));
      return [a.out_channels, ...out];
    },
    weights: (_input, a) => [
      { name: 'weight', shape: [a.out_channels, a.in_channels / a.groups, ...a.kernel_size], trainable: true, init: 'torch_kaiming_uniform' },
      ...(a.bias ? [{ name: 'bias', shape: [a.out_channels], trainable: true, init: 'torch_bias_uniform', fanIn: (a.in_channels / a.groups) * a.kernel_size.reduce((x, y) => x * y, 1) }] : []),
    ],
    formula: (_input, a, total) => `${a.out_channels} × (${dotJoin([a.in_channels / a.groups, ...a.kernel_size])})${a.bias ? ` + ${a.out_channels}` : ''} = ${countText(total)}`,
    macs(_input, output, a) {
      const n = product(output);
      return n === null ? null : n * (a.in_channels / a.groups) * product(a.kernel_size)!;
    },
    receptiveField: (a) => ({ kind: 'window', kernel: a.kernel_size, stride: a.stride, dilation: a.dilation }),
    train: convTrain(),
  });
}

export const Conv1d = convFamily(1);
export const Conv2d = convFamily(2);
export const Conv3d = convFamily(3);

function convTransposeFamily(rank: SpatialRank): LayerType {
  const name = `ConvTranspose${rank}d`;
  return defineLayer({
    name,
    framework: 'pytorch',
    category: 'convolution',
    doc: `Transposed ${rank}-D convolution (PyTorch, "deconvolution"): upsamples by \`stride\`, each input position spreading a kernel into the output.`,
    args: {
      in_channels: int({ min: 1 }),
      out_channels: int({ min: 1 }),
      kernel_size: ints(rank, { min: 1 }),
      stride: ints(rank, { min: 1, default: 1 }),
      padding: ints(rank, { min: 0, default: 0 }),
      output_padding: ints(rank, { min: 0, default: 0 }),
      groups: int({ min: 1, default: 1 }),
      bias: bool(true),
      dilation: ints(rank, { min: 1, default: 1 }),
      padding_mode: choice(['zeros'], 'zeros'),
    },
    extraArgs: FACTORY_ARGS,
    inputRank: rank + 1,
    inputWords: torchInputWords(rank),
    outputShape(input, a, ctx) {
      checkGroups(name, a.in_channels, a.out_channels, a.groups);
      a.output_padding.forEach((p, i) => {
        if (p >= a.stride[i] && p >= a.dilation[i]) {
          throw new ShapeError(`${name}: output_padding ${tupleText(a.output_padding)} must be smaller than either stride or dilation (PyTorch raises "output padding must be smaller than either stride or dilation")`, 'output_padding', [], 'output-padding');
        }
      });
      const [c, ...spatial] = input;
      if (c !== null && c !== a.in_channels) {
        throw channelMismatch(name, 'in_channels', a.in_channels, c, inputText(ctx, input), `expected input${inputText(ctx, input)} to have ${a.in_channels} channels, but got ${c} channels instead`);
      }
      const out = spatial.map((d, i) => transposedLength(d, a.kernel_size[i], a.stride[i], 2 * a.padding[i], a.output_padding[i], a.dilation[i]));
      if (out.some((d) => d !== null && d <= 0)) {
        throw new ShapeError(`${name}: the output would be ${sizeText(out)} (padding=${tupleText(a.padding)} removes more than the transposed kernel adds)`, 'padding', [], 'output-empty', true);
      }
      return [a.out_channels, ...out];
    },
    // PyTorch stores a transposed kernel as (in_channels, out_channels / groups, k…).
    weights: (_input, a) => [
      { name: 'weight', shape: [a.in_channels, a.out_channels / a.groups, ...a.kernel_size], trainable: true },
      ...(a.bias ? [{ name: 'bias', shape: [a.out_channels], trainable: true }] : []),
    ],
    formula: (_input, a, total) => `${a.in_channels} × (${dotJoin([a.out_channels / a.groups, ...a.kernel_size])})${a.bias ? ` + ${a.out_channels}` : ''} = ${countText(total)}`,
    // Every input value is multiplied by the kernels of its group once.
    macs(input, _output, a) {
      const n = product(input as Dim[]);
      return n === null ? null : n * (a.out_channels / a.groups) * product(a.kernel_size)!;
    },
    receptiveField: (a) => ({ kind: 'upsample', factor: a.stride, kernel: a.kernel_size }),
    untrainable: `ConvLens does not train PyTorch's ${name} yet`,
  });
}

export const ConvTranspose1d = convTransposeFamily(1);
export const ConvTranspose2d = convTransposeFamily(2);
export const ConvTranspose3d = convTransposeFamily(3);

export const TORCH_CONV: readonly LayerType[] = [Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d];
