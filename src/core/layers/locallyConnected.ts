/**
 * tf.keras 2's LocallyConnected1D / LocallyConnected2D (removed in Keras 3): a convolution whose
 * weights are not shared, every output position has its own kernel. How Keras stores the
 * weights depends on `implementation` (1: one kernel per position; 2: a masked dense matrix;
 * 3: only the connected entries), and so does the parameter count.
 */
import type { GraphBuilder } from '../onnx/graphBuilder';
import { refuseChannelsFirst, toKerasLayout, toOnnxLayout } from '../onnx/layout';
import { activation, any, bool, choice, dataFormat, initializer, int, ints, type ArgSpecs, type DataFormat } from './args';
import { ShapeError, checkWindowOutput, defineLayer, dotJoin, type LayerTrain, type TrainLayer } from './define';
import { joinChannels, product, sampleWords, splitChannels, windowOutputShape, type Dim } from '../shape';

interface LocalArgs {
  filters: number;
  kernel_size: number[];
  strides: number[];
  padding: string;
  data_format: DataFormat;
  use_bias: boolean;
  implementation: number;
}

/**
 * Input positions each output position connects to, summed over the output (Keras 2's
 * conv_connected_inputs: a window of the kernel centred with ⌊k/2⌋ before it under 'same',
 * clipped at the borders). Equals positions × ∏k under 'valid'. Along each axis, output o's window
 * is [o·s − shift, o·s − shift + k) clipped to [0, n): k taps less what is clipped at either end,
 * two arithmetic series over the windows that cross a border, taken in closed form, so an axis of
 * 2⁴⁰ positions costs no more than one of 3 (summed window by window, such a file hung).
 */
export function localConnections(inSpatial: readonly number[], outSpatial: readonly number[], kernel: readonly number[], strides: readonly number[], padding: string): number {
  let total = 1;
  for (let d = 0; d < inSpatial.length; d++) {
    const [n, out, k, s] = [inSpatial[d], outSpatial[d], kernel[d], strides[d]];
    const shift = padding === 'valid' ? 0 : Math.floor(k / 2);
    // Σ (o·s + c) for o in from..to.
    const series = (from: number, to: number, c: number) => (to < from ? 0 : (to - from + 1) * (c + (s * (from + to)) / 2));
    const lastInside = Math.min(out - 1, Math.max(-1, Math.floor((n - k + shift) / s))); // windows up to here end by n
    const firstInside = Math.min(out, Math.max(0, Math.ceil(shift / s))); // windows from here start at 0 or later
    const clippedBefore = -series(0, firstInside - 1, -shift);
    const clippedAfter = series(lastInside + 1, out - 1, k - shift - n);
    total *= out * k - clippedBefore - clippedAfter;
  }
  return total;
}

function spatialIO(input: Dim[], a: LocalArgs): { inSpatial: Dim[]; outSpatial: Dim[]; channels: Dim } {
  const { spatial, channels } = splitChannels(input, a.data_format);
  return { inSpatial: spatial, outSpatial: windowOutputShape(spatial, a.kernel_size, a.strides, a.padding), channels };
}

/** Kernel entries of one layer: its shape per implementation, and the connections it holds. */
function kernelShape(input: Dim[], a: LocalArgs): Dim[] {
  const { inSpatial, outSpatial, channels } = spatialIO(input, a);
  const known = [...inSpatial, ...outSpatial, channels].every((d) => d !== null);
  if (a.implementation === 2) {
    return a.data_format === 'channels_first' ? [channels, ...inSpatial, a.filters, ...outSpatial] : [...inSpatial, channels, ...outSpatial, a.filters];
  }
  if (a.implementation === 3) {
    if (!known) return [null];
    return [localConnections(inSpatial as number[], outSpatial as number[], a.kernel_size, a.strides, a.padding) * (channels as number) * a.filters];
  }
  return [product(outSpatial), channels === null ? null : product(a.kernel_size)! * channels, a.filters];
}

/**
 * Where each entry of Keras' patch matrix (positions × kernel·channels, implementation 1) comes
 * from in the flattened channels_last sample: position p (row-major over the output), tap t
 * (row-major over the kernel), channel c → (Σ (o·s + t)·stride)·C + c, as Keras' local_conv
 * slices and reshapes the input.
 */
function patchIndices(inSpatial: readonly number[], channels: number, outSpatial: readonly number[], kernel: readonly number[], strides: readonly number[]): Int32Array {
  const r = inSpatial.length;
  const planeStride: number[] = [];
  for (let d = r - 1, acc = 1; d >= 0; d--) {
    planeStride[d] = acc;
    acc *= inSpatial[d];
  }
  const positions = outSpatial.reduce((a, b) => a * b, 1);
  const taps = kernel.reduce((a, b) => a * b, 1);
  const idx = new Int32Array(positions * taps * channels);
  const o = new Array<number>(r).fill(0);
  let e = 0;
  for (let p = 0; p < positions; p++) {
    const t = new Array<number>(r).fill(0);
    for (let k = 0; k < taps; k++) {
      let flat = 0;
      for (let d = 0; d < r; d++) flat += (o[d] * strides[d] + t[d]) * planeStride[d];
      for (let c = 0; c < channels; c++) idx[e++] = flat * channels + c;
      for (let d = r - 1; d >= 0 && ++t[d] >= kernel[d]; d--) t[d] = 0;
    }
    for (let d = r - 1; d >= 0 && ++o[d] >= outSpatial[d]; d--) o[d] = 0;
  }
  return idx;
}

interface LocalGeometry {
  inSpatial: number[];
  channels: number;
  outSpatial: number[];
  positions: number;
  patch: number;
}

function geometry(l: TrainLayer<ArgSpecs>, a: LocalArgs): LocalGeometry {
  const inSpatial = l.input.slice(0, -1);
  const outSpatial = l.output.slice(0, -1);
  const channels = l.input[l.input.length - 1];
  return { inSpatial, channels, outSpatial, positions: product(outSpatial)!, patch: product(a.kernel_size)! * channels };
}

/**
 * Implementation 1 as Keras computes it: one Gather builds the patch matrix, then a batched
 * MatMul per position, (P, N, K·C) × (P, K·C, F). Backward: dkernel = patchesᵀ·dy per position,
 * dbias = Σ_N dy, dx = the patches' gradient (dy·kernelᵀ) scattered back with addition.
 */
function localTrain<A extends ArgSpecs>(): LayerTrain<A> {
  const args = (l: TrainLayer<A>) => l.a as unknown as LocalArgs;
  const indices = (g: GraphBuilder, l: TrainLayer<A>, gm: LocalGeometry) =>
    g.initializer(g.fresh(`${l.name}_patch_idx`), patchIndices(gm.inSpatial, gm.channels, gm.outSpatial, args(l).kernel_size, args(l).strides), [1, gm.positions * gm.patch]);
  return {
    refuse: (l) =>
      refuseChannelsFirst(args(l)) ??
      (args(l).implementation !== 1 ? `implementation=${args(l).implementation} stores the kernel as a ${args(l).implementation === 2 ? 'masked dense matrix' : 'sparse list'}, which is not trainable yet (use implementation=1)` : undefined),
    forward(g, l, x) {
      const gm = geometry(l, args(l));
      const xflat = g.reshape(toKerasLayout(g, x, l.input), [0, -1]);
      const idx = indices(g, l, gm);
      const patches = g.transpose(g.reshape(g.gather(xflat, idx, 1), [0, gm.positions, gm.patch]), [1, 0, 2]);
      let y = g.transpose(g.matMul(patches, l.w.kernel), [1, 0, 2]);
      if (args(l).use_bias) y = g.add(y, g.reshape(l.w.bias, [gm.positions, args(l).filters]));
      return { y: toOnnxLayout(g, g.reshape(y, [0, ...l.output]), l.output), saved: { patches, xflat, idx } };
    },
    backward(g, l, b) {
      const a = args(l);
      const gm = geometry(l, a);
      const s = b.fwd.saved!;
      const dy = g.transpose(g.reshape(toKerasLayout(g, b.dy, l.output), [0, gm.positions, a.filters]), [1, 0, 2]);
      const grads: Record<string, string> = { kernel: g.matMul(g.transpose(s.patches!, [0, 2, 1]), dy) };
      if (a.use_bias) grads.bias = g.reshape(g.reduceSum(dy, [1], false), [...gm.outSpatial, a.filters]);
      if (!b.needDx) return { grads };
      const dpatches = g.reshape(g.transpose(g.matMul(dy, g.transpose(l.w.kernel, [0, 2, 1])), [1, 0, 2]), [0, gm.positions * gm.patch]);
      const dflat = g.scatterElements(g.constantOfShape(g.shape(s.xflat!)), g.expand(s.idx!, g.shape(dpatches)), dpatches, 1, 'add');
      return { dx: toOnnxLayout(g, g.reshape(dflat, [0, ...l.input]), l.input), grads };
    },
  };
}

function locallyConnected(rank: 1 | 2) {
  const name = `LocallyConnected${rank}D`;
  const args = {
    filters: int({ min: 1 }),
    kernel_size: ints(rank, { min: 1 }),
    strides: ints(rank, { min: 1, default: 1 }),
    padding: choice(['valid', 'same'], 'valid'),
    data_format: dataFormat(),
    activation: activation(),
    use_bias: bool(true),
    kernel_initializer: initializer('glorot_uniform'),
    bias_initializer: initializer('zeros'),
    kernel_regularizer: any(),
    bias_regularizer: any(),
    activity_regularizer: any(),
    kernel_constraint: any(),
    bias_constraint: any(),
    implementation: int({ min: 1, default: 1 }),
  };
  return defineLayer({
    name,
    category: 'convolution',
    doc: `tf.keras 2 (removed in Keras 3): like Conv${rank}D, but every output position has its own kernel (weights are not shared), so the parameter count grows with the output size.`,
    args,
    inputRank: rank + 1,
    inputWords: sampleWords(rank),
    outputShape(input, a) {
      if (a.implementation > 3) throw new ShapeError(`${name}: implementation=${a.implementation} is not 1, 2 or 3 (Keras raises a ValueError)`, 'implementation', [], 'implementation');
      if (a.padding !== 'valid' && a.implementation === 1) {
        throw new ShapeError(`${name}: padding='${a.padding}' needs implementation=2 or 3; implementation=1 (the default) supports only 'valid'`, 'padding', [], 'padding');
      }
      const { inSpatial, outSpatial } = spatialIO(input, a);
      checkWindowOutput(name, inSpatial, a.kernel_size, a.strides, [], outSpatial, 'kernel_size');
      return joinChannels(outSpatial, a.filters, a.data_format);
    },
    weights(input, a) {
      const { outSpatial } = spatialIO(input, a);
      return [
        { name: 'kernel', shape: kernelShape(input, a), trainable: true },
        ...(a.use_bias ? [{ name: 'bias', shape: [...outSpatial, a.filters], trainable: true }] : []),
      ];
    },
    formula(input, a, total) {
      const { outSpatial, channels } = spatialIO(input, a);
      const positions = dotJoin(outSpatial);
      const bias = a.use_bias ? ` + ${positions}·${a.filters}` : '';
      if (a.implementation === 1) return `${positions} positions × (${dotJoin([...a.kernel_size, channels])}·${a.filters})${bias} = ${total.toLocaleString('en-US')}`;
      return `${dotJoin(kernelShape(input, a))} (implementation=${a.implementation})${bias} = ${total.toLocaleString('en-US')}`;
    },
    // Each connection multiplies every input channel by every filter once.
    macs(input, _output, a) {
      const { inSpatial, outSpatial, channels } = spatialIO(input, a);
      if ([...inSpatial, ...outSpatial, channels].some((d) => d === null)) return null;
      return localConnections(inSpatial as number[], outSpatial as number[], a.kernel_size, a.strides, a.padding) * (channels as number) * a.filters;
    },
    receptiveField: (a) => ({ kind: 'window', kernel: a.kernel_size, stride: a.strides }),
    train: localTrain<typeof args>(),
  });
}

export const LocallyConnected1D = locallyConnected(1);
export const LocallyConnected2D = locallyConnected(2);
