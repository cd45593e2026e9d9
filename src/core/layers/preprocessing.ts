import type { GraphBuilder } from '../onnx/graphBuilder';
import { croppingBackward, croppingForward } from '../onnx/grad';
import { onnxSampleShape, refuseChannelsFirst } from '../onnx/layout';
import { any, axes, bool, choice, dataFormat, float, floatOrList, int, numericArray, type NumericArray } from './args';
import { ShapeError, defineLayer, dotJoin, type TrainLayer } from './define';
import { joinChannels, product, splitChannels, type Dim } from '../shape';

export const Rescaling = defineLayer({
  name: 'Rescaling',
  category: 'preprocessing',
  doc: 'Multiplies inputs by `scale` and adds `offset` (Rescaling(1./255) maps pixels to [0, 1]); a list scales each channel.',
  args: { scale: floatOrList(), offset: floatOrList({ default: 0 }) },
  inputRank: 'any',
  outputShape(input, a) {
    const c = input[input.length - 1];
    for (const [name, v] of [['scale', a.scale], ['offset', a.offset]] as const) {
      if (Array.isArray(v) && v.length !== 1 && c !== null && v.length !== c) {
        throw new ShapeError(`Rescaling: '${name}' has ${v.length} values but the input has ${c} channels`, name, [], 'channels');
      }
    }
    return input;
  },
  train: {
    forward: (g, l, x) => ({ y: g.add(g.mul(x, channelConstant(g, l.a.scale, l.input)), channelConstant(g, l.a.offset, l.input)) }),
    backward: (g, l, b) => ({ dx: b.needDx ? g.mul(b.dy, channelConstant(g, l.a.scale, l.input)) : undefined, grads: {} }),
  },
});

export const Resizing = defineLayer({
  name: 'Resizing',
  category: 'preprocessing',
  doc: 'Resizes images to height × width with the chosen interpolation.',
  args: {
    height: int({ min: 1 }),
    width: int({ min: 1 }),
    interpolation: choice(['bilinear', 'nearest', 'bicubic', 'lanczos3', 'lanczos5', 'area'], 'bilinear'),
    crop_to_aspect_ratio: any(),
    pad_to_aspect_ratio: any(),
    fill_mode: any(),
    fill_value: any(),
    data_format: dataFormat(),
  },
  inputRank: 3,
  inputWords: '(height, width, channels)',
  outputShape(input, a) {
    const { channels } = splitChannels(input, a.data_format);
    return joinChannels([a.height, a.width], channels, a.data_format);
  },
  receptiveField: () => ({ kind: 'global' }),
});

/** A number, or one number per channel shaped to broadcast over an ONNX-layout (N, C, …) tensor. */
function channelConstant(g: GraphBuilder, v: number | number[], input: readonly number[]): string {
  if (!Array.isArray(v)) return g.scalar(v);
  if (v.length === 1) return g.scalar(v[0]);
  const rank = input.length;
  const dims = rank < 2 ? [v.length] : [v.length, ...Array(rank - 1).fill(1)];
  return g.constant(new Float32Array(v), dims);
}

/** Where CenterCrop's window starts, or undefined when the input is smaller and Keras resizes instead. */
function centerCropStart(spatial: readonly Dim[], height: number, width: number): [number, number] | undefined {
  const [h, w] = spatial;
  if (h === null || w === null || h < height || w < width) return undefined;
  return [Math.floor((h - height) / 2), Math.floor((w - width) / 2)];
}

/** ONNX crops [top, left, bottom, right] of CenterCrop on its (channels_last) input. */
function centerCrops(l: TrainLayer, height: number, width: number): number[] | undefined {
  const [h, w] = l.input;
  const start = centerCropStart([h, w], height, width);
  return start && [start[0], start[1], h - height - start[0], w - width - start[1]];
}

export const CenterCrop = defineLayer({
  name: 'CenterCrop',
  category: 'preprocessing',
  doc: 'Crops the central height × width window of each image (an image smaller than that is resized, keeping its aspect ratio, instead).',
  args: { height: int({ min: 1 }), width: int({ min: 1 }), data_format: dataFormat() },
  inputRank: 3,
  inputWords: '(height, width, channels)',
  outputShape(input, a, ctx) {
    const { spatial, channels } = splitChannels(input, a.data_format);
    const [h, w] = spatial;
    if (h !== null && w !== null && (h < a.height || w < a.width)) {
      ctx.warn(`CenterCrop: the ${h}×${w} input is smaller than ${a.height}×${a.width}, so Keras resizes it (smart_resize, bilinear) instead of cropping`, { code: 'center-crop-resize' });
    }
    return joinChannels([a.height, a.width], channels, a.data_format);
  },
  receptiveField: (a, input) => (centerCropStart(splitChannels(input, a.data_format).spatial, a.height, a.width) ? { kind: 'identity' } : { kind: 'global' }),
  train: {
    refuse: (l) =>
      refuseChannelsFirst(l.a) ??
      (centerCrops(l, l.a.height, l.a.width) ? undefined : `CenterCrop on a ${l.input[0]}×${l.input[1]} input smaller than ${l.a.height}×${l.a.width} resizes it, which is not trainable yet`),
    forward: (g, l, x) => ({ y: croppingForward(g, x, centerCrops(l, l.a.height, l.a.width)!, l.input.slice(0, 2)) }),
    backward: (g, l, b) => ({ dx: b.needDx ? croppingBackward(g, b.dy, centerCrops(l, l.a.height, l.a.width)!) : undefined, grads: {} }),
  },
});

/**
 * The per-sample axes Normalization keeps (one mean and variance per index along them), from
 * Keras' `axis`, which counts the batch axis; checked as Keras' build() does.
 */
export function normalizationAxes(input: readonly Dim[], axis: number[]): number[] {
  const full = input.length + 1;
  const kept = new Set<number>();
  for (const ax of axis) {
    if (ax >= full || ax < -full) {
      throw new ShapeError(`Normalization: axis=${ax} does not exist for an input of rank ${full} (with the batch axis)`, 'axis', [], 'axis');
    }
    const d = ax < 0 ? ax + full : ax;
    if (d === 0) throw new ShapeError('Normalization: axis 0 is the batch axis, whose size is not known; Keras needs every kept axis to have a known size', 'axis', [], 'axis');
    kept.add(d - 1);
  }
  return [...kept].sort((x, y) => x - y);
}

/** Checks `mean=` / `variance=` against the kept axes as Keras does (both or neither, same shape, broadcastable). */
function checkStatistics(input: readonly Dim[], kept: number[], a: { mean: NumericArray | null; variance: NumericArray | null }): void {
  if ((a.mean === null) !== (a.variance === null)) {
    throw new ShapeError('Normalization: give both mean= and variance=, or neither (then adapt() sets them)', a.mean === null ? 'variance' : 'mean', [], 'normalization-stats');
  }
  if (!a.mean || !a.variance || !a.mean.shape || !a.variance.shape) return;
  const ms = a.mean.shape;
  const vs = a.variance.shape;
  if (ms.join(',') !== vs.join(',')) {
    throw new ShapeError(`Normalization: mean has shape (${ms.join(', ')}) but variance has shape (${vs.join(', ')}); they must match`, 'variance', [], 'normalization-stats');
  }
  if (ms.length > kept.length) {
    throw new ShapeError(`Normalization: mean has ${ms.length} axes, more than the ${kept.length} axes normalised separately (axis=…)`, 'mean', [], 'normalization-stats');
  }
  ms.forEach((m, t) => {
    const size = input[kept[kept.length - ms.length + t]];
    if (m !== 1 && size !== null && m !== size) {
      throw new ShapeError(`Normalization: mean of shape (${ms.join(', ')}) cannot be broadcast to the ${kept.map((k) => input[k] ?? 'None').join('×')} kept axes`, 'mean', [], 'normalization-stats');
    }
  });
}

/** Keras' backend.epsilon(), the smallest standard deviation Normalization divides by. */
const KERAS_EPSILON = 1e-7;

/**
 * Normalization's scale and shift as constants broadcast over a sample in ONNX layout:
 * y = x·scale + shift, with scale = 1/max(√var, ε), shift = −mean·scale (or, inverted,
 * scale = max(√var, ε), shift = mean).
 */
export function normalizationConstants(l: Pick<TrainLayer, 'input'>, kept: number[], mean: NumericArray, variance: NumericArray, invert: boolean): { scale: Float32Array; shift: Float32Array; dims: number[] } {
  const r = l.input.length;
  const keras = l.input.map((d, i) => (kept.includes(i) ? d : 1));
  const count = product(keras)!;
  const ms = mean.shape!;
  const scale = new Float32Array(count);
  const shift = new Float32Array(count);
  const idx = new Array<number>(r).fill(0);
  for (let e = 0; e < count; e++) {
    let k = 0;
    ms.forEach((m, t) => (k = k * m + (m === 1 ? 0 : idx[kept[kept.length - ms.length + t]])));
    const sd = Math.max(Math.sqrt(variance.values![k]), KERAS_EPSILON);
    scale[e] = invert ? sd : 1 / sd;
    shift[e] = invert ? mean.values![k] : -mean.values![k] / sd;
    for (let a = r - 1; a >= 0 && ++idx[a] >= keras[a]; a--) idx[a] = 0;
  }
  // Keras layout (…, C) → ONNX layout (C, …): only the channel axis moves to the front.
  const onnx = onnxSampleShape(keras);
  if (r < 2 || keras[r - 1] === 1) return { scale, shift, dims: [1, ...onnx] };
  const c = keras[r - 1];
  const plane = count / c;
  const move = (src: Float32Array) => Float32Array.from({ length: count }, (_, e) => src[(e % plane) * c + Math.floor(e / plane)]);
  return { scale: move(scale), shift: move(shift), dims: [1, ...onnx] };
}

export const Normalization = defineLayer({
  name: 'Normalization',
  category: 'preprocessing',
  doc: 'Standardises inputs as (x − mean) / √variance, with a mean and variance per index of `axis` given as mean=/variance= or learned from data by adapt() (non-trainable weights).',
  args: { axis: axes([-1], { noneMeansAll: true }), mean: numericArray(), variance: numericArray(), invert: bool(false) },
  inputRank: 'any',
  outputShape(input, a) {
    checkStatistics(input, normalizationAxes(input, a.axis), a);
    return input;
  },
  // Without mean=/variance=, adapt() fills three non-trainable weights: mean, variance and the sample count.
  weights(input, a) {
    if (a.mean !== null) return [];
    const shape = normalizationAxes(input, a.axis).map((i) => input[i]);
    return [
      { name: 'mean', shape, trainable: false },
      { name: 'variance', shape, trainable: false },
      { name: 'count', shape: [], trainable: false },
    ];
  },
  formula(input, a, total) {
    const shape = normalizationAxes(input, a.axis).map((i) => input[i]);
    const n = shape.length ? dotJoin(shape) : '1';
    return `mean ${n} + variance ${n} + count 1 = ${total.toLocaleString('en-US')} (not trainable: adapt() sets them)`;
  },
  receptiveField: () => ({ kind: 'identity' }),
  train: {
    refuse(l) {
      if (l.a.mean === null) return 'without mean= and variance= the statistics come from adapt() on the data, which ConvLens does not run yet: pass mean= and variance= to train this model';
      if (l.a.mean.values === null || l.a.variance?.values == null) return 'ConvLens cannot read mean= / variance= without running the code';
      return undefined;
    },
    forward(g, l, x) {
      const c = normalizationConstants(l, normalizationAxes(l.input, l.a.axis), l.a.mean!, l.a.variance!, l.a.invert);
      const scale = g.initializer(g.fresh(`${l.name}_scale`), c.scale, c.dims);
      return { y: g.add(g.mul(x, scale), g.initializer(g.fresh(`${l.name}_shift`), c.shift, c.dims)), saved: { scale } };
    },
    backward: (g, _l, b) => ({ dx: b.needDx ? g.mul(b.dy, b.fwd.saved!.scale!) : undefined, grads: {} }),
  },
});
