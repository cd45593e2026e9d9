import type { GraphBuilder } from '../onnx/graphBuilder';
import { croppingBackward, croppingForward, flattenBackward, flattenForward, reshapeBackward, zeroPadBackward, zeroPadForward } from '../onnx/grad';
import type { Dim } from '../shape';
import { onnxSampleShape, refuseChannelsFirst, toKerasLayout, toOnnxLayout } from '../onnx/layout';
import { nchwcFlattenBackward, nchwcFlattenForward } from '../onnx/nchwc';
import { readShape, choice, dataFormat, int, intTuple, ints, padAmounts, type ArgSpec, type DataFormat } from './args';
import { ShapeError, defineLayer } from './define';
import { joinChannels, padShape, product, sampleWords, scaleShape, splitChannels, spatialAxisNames, type SpatialRank } from '../shape';

/** `[[before, after], …]` per spatial axis → ONNX spatial pads `[before…, after…]`. */
const onnxPads = (p: [number, number][]): number[] => [...p.map((x) => x[0]), ...p.map((x) => x[1])];

/** Nearest-neighbour upsampling by whole factors, as a broadcast: (N, C, H, W) → (N, C, H·s₀, W·s₁). */
function upsample(g: GraphBuilder, x: string, spatial: readonly number[], size: readonly number[]): string {
  const split = g.reshape(x, [0, 0, ...spatial.flatMap((d) => [d, 1])]);
  const spread = g.expand(split, [1, 1, ...size.flatMap((s) => [1, s])]);
  return g.reshape(spread, [0, 0, ...spatial.map((d, i) => d * size[i])]);
}

/** Its backward pass: each input pixel receives the sum of the gradients of its copies. */
function upsampleBackward(g: GraphBuilder, dy: string, spatial: readonly number[], size: readonly number[]): string {
  const split = g.reshape(dy, [0, 0, ...spatial.flatMap((d, i) => [d, size[i]])]);
  return g.reduceSum(split, spatial.map((_, i) => 3 + 2 * i), false);
}

export const Flatten = defineLayer({
  name: 'Flatten',
  category: 'reshaping',
  doc: 'Flattens each sample into one vector (height × width × channels values), in the order Keras stores them.',
  args: { data_format: dataFormat() },
  inputRank: 'any',
  outputShape: (input) => [product(input)],
  receptiveField: () => ({ kind: 'identity' }),
  // Keras' flatten order (H, W, C), so Dense kernels after it keep their Keras layout.
  train: {
    refuse: (l) => refuseChannelsFirst(l.a),
    // From NCHWc, one reorder to channels-last is the Keras order already.
    acceptsNchwc: (l) => l.input.length === 3,
    forward(g, l, x) {
      if (l.inputLayout === 'nchwc') return { y: nchwcFlattenForward(g, x, l.input[2]) };
      return { y: l.input.length < 2 ? x : flattenForward(g, x, l.input.length - 1, true) };
    },
    backward(g, l, b) {
      if (!b.needDx) return { grads: {} };
      if (l.inputLayout === 'nchwc') return { dx: nchwcFlattenBackward(g, b.dy, l.input), grads: {} };
      return { dx: l.input.length < 2 ? b.dy : flattenBackward(g, b.dy, onnxSampleShape(l.input), true), grads: {} };
    },
  },
});

/** Reshape's target may contain one -1, inferred from the input size. */
const targetShape: ArgSpec<Dim[]> = {
  expected: 'a tuple of positive integers with at most one -1',
  required: true,
  parse: (v) => readShape(v, true),
};

export const Reshape = defineLayer({
  name: 'Reshape',
  category: 'reshaping',
  doc: 'Reshapes each sample to `target_shape` (one axis may be -1 and is inferred); the number of values must not change.',
  args: { target_shape: targetShape },
  inputRank: 'any',
  outputShape(input, a) {
    const target = a.target_shape;
    const unknownAt = target.findIndex((d) => d === -1);
    if (target.filter((d) => d === -1).length > 1) throw new ShapeError('Reshape: only one axis of target_shape can be -1', 'target_shape', [], 'reshape');
    const total = product(input);
    const known = product(target.filter((d) => d !== -1));
    const shownIn = `(None, ${input.map((d) => d ?? 'None').join(', ')})`;
    const shownOut = `(None, ${target.map((d) => d ?? 'None').join(', ')})`;
    if (total === null || known === null) return target.map((d) => (d === -1 ? null : d));
    if (unknownAt >= 0) {
      if (known === 0 || total % known !== 0) {
        throw new ShapeError(`Reshape: cannot reshape ${shownIn} (${total.toLocaleString('en-US')} values) into ${shownOut}: ${total} is not divisible by ${known}`, 'target_shape', [], 'reshape');
      }
      return target.map((d) => (d === -1 ? total / known : d));
    }
    if (known !== total) {
      throw new ShapeError(
        `Reshape: cannot reshape ${shownIn} (${total.toLocaleString('en-US')} values) into ${shownOut} (${known.toLocaleString('en-US')} values)`,
        'target_shape',
        [],
        'reshape',
      );
    }
    return target;
  },
  receptiveField: () => ({ kind: 'identity' }),
  // Keras reshapes channels_last data: move to Keras layout, reshape, move back.
  train: {
    forward: (g, l, x) => ({ y: toOnnxLayout(g, g.reshape(toKerasLayout(g, x, l.input), [-1, ...l.output]), l.output) }),
    backward(g, l, b) {
      if (!b.needDx) return { grads: {} };
      return { dx: toOnnxLayout(g, reshapeBackward(g, toKerasLayout(g, b.dy, l.output), l.input), l.input), grads: {} };
    },
  },
});

const PADDING_DOCS: Record<SpatialRank, string> = {
  1: 'Adds zeros at the start and end of the steps axis.',
  2: 'Adds rows and columns of zeros around each feature map (top/bottom, left/right).',
  3: 'Adds zeros around each volume (front/back, top/bottom, left/right).',
};

function padding(rank: SpatialRank) {
  return defineLayer({
    name: `ZeroPadding${rank}D`,
    category: 'reshaping',
    doc: PADDING_DOCS[rank],
    // Keras' defaults: 1 (1-D), (1, 1) (2-D), ((1, 1), (1, 1), (1, 1)) (3-D): one zero on each side.
    args: { padding: padAmounts(rank, 1), data_format: dataFormat() },
    inputRank: rank + 1,
    inputWords: sampleWords(rank),
    outputShape(input, a) {
      const { spatial, channels } = splitChannels(input, a.data_format);
      return joinChannels(padShape(spatial, a.padding), channels, a.data_format);
    },
    receptiveField: () => ({ kind: 'identity' }),
    train: {
      refuse: (l) => refuseChannelsFirst(l.a),
      forward: (g, l, x) => ({ y: zeroPadForward(g, x, onnxPads(l.a.padding)) }),
      backward: (g, l, b) => ({ dx: b.needDx ? zeroPadBackward(g, b.dy, onnxPads(l.a.padding), l.input.slice(0, -1)) : undefined, grads: {} }),
    },
  });
}

export const ZeroPadding1D = padding(1);
export const ZeroPadding2D = padding(2);
export const ZeroPadding3D = padding(3);

const CROPPING_DOCS: Record<SpatialRank, string> = {
  1: 'Removes steps at the start and end of the sequence.',
  2: 'Removes rows and columns at the borders of each feature map.',
  3: 'Removes slices at the borders of each volume (front/back, top/bottom, left/right).',
};

function cropping(rank: SpatialRank) {
  const name = `Cropping${rank}D`;
  // Keras' defaults: (1, 1) (1-D), ((0, 0), (0, 0)) (2-D), ((1, 1), (1, 1), (1, 1)) (3-D); Cropping1D has no data_format.
  const cropArg = { cropping: padAmounts(rank, rank === 2 ? 0 : 1) };
  const args = rank === 1 ? cropArg : { ...cropArg, data_format: dataFormat() };
  return defineLayer({
    name,
    category: 'reshaping',
    doc: CROPPING_DOCS[rank],
    args,
    inputRank: rank + 1,
    inputWords: sampleWords(rank),
    outputShape(input, a) {
      const fmt = (a as { data_format?: DataFormat }).data_format ?? 'channels_last';
      const { spatial, channels } = splitChannels(input, fmt);
      const out = padShape(spatial, a.cropping, -1);
      const bad = out.findIndex((d) => d !== null && d <= 0);
      if (bad >= 0) {
        const axis = rank === 1 ? 'steps' : rank === 2 ? (bad === 0 ? 'rows' : 'columns') : `${spatialAxisNames(rank)[bad]} slices`;
        throw new ShapeError(`${name}: cropping ${a.cropping[bad][0]} + ${a.cropping[bad][1]} removes all ${spatial[bad]} ${axis} of the input`, 'cropping', [], 'cropping');
      }
      return joinChannels(out, channels, fmt);
    },
    receptiveField: () => ({ kind: 'identity' }),
    train: {
      refuse: (l) => refuseChannelsFirst(l.a as { data_format?: unknown }),
      forward: (g, l, x) => ({ y: croppingForward(g, x, onnxPads(l.a.cropping), l.input.slice(0, -1)) }),
      backward: (g, l, b) => ({ dx: b.needDx ? croppingBackward(g, b.dy, onnxPads(l.a.cropping)) : undefined, grads: {} }),
    },
  });
}

export const Cropping1D = cropping(1);
export const Cropping2D = cropping(2);
export const Cropping3D = cropping(3);

const UPSAMPLING_DOCS: Record<SpatialRank, string> = {
  1: 'Repeats each step `size` times.',
  2: 'Repeats rows and columns `size` times (nearest) or interpolates (bilinear).',
  3: 'Repeats each volume along depth, height and width `size` times (nearest).',
};

function upSampling(rank: SpatialRank) {
  const size = { size: ints(rank, { min: 1, default: 2 }) };
  // Keras: UpSampling1D(size), UpSampling2D(size, data_format, interpolation), UpSampling3D(size, data_format).
  const args =
    rank === 1
      ? size
      : rank === 2
        ? { ...size, data_format: dataFormat(), interpolation: choice(['nearest', 'bilinear', 'bicubic', 'lanczos3', 'lanczos5', 'area'], 'nearest') }
        : { ...size, data_format: dataFormat() };
  return defineLayer({
    name: `UpSampling${rank}D`,
    category: 'reshaping',
    doc: UPSAMPLING_DOCS[rank],
    args,
    inputRank: rank + 1,
    inputWords: sampleWords(rank),
    outputShape(input, a) {
      const fmt = (a as { data_format?: DataFormat }).data_format ?? 'channels_last';
      const { spatial, channels } = splitChannels(input, fmt);
      return joinChannels(scaleShape(spatial, a.size), channels, fmt);
    },
    receptiveField: (a) => ({ kind: 'upsample', factor: a.size }),
    train: {
      refuse: (l) => {
        const a = l.a as { data_format?: string; interpolation?: string };
        return refuseChannelsFirst(a) ?? (a.interpolation && a.interpolation !== 'nearest' ? `UpSampling${rank}D(interpolation='${a.interpolation}') is not trainable yet (use 'nearest')` : undefined);
      },
      forward: (g, l, x) => ({ y: upsample(g, x, l.input.slice(0, -1), l.a.size) }),
      backward: (g, l, b) => ({ dx: b.needDx ? upsampleBackward(g, b.dy, l.input.slice(0, -1), l.a.size) : undefined, grads: {} }),
    },
  });
}

export const UpSampling1D = upSampling(1);
export const UpSampling2D = upSampling(2);
export const UpSampling3D = upSampling(3);

/** The inverse of a permutation. */
const inverse = (perm: readonly number[]): number[] => {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
};

export const Permute = defineLayer({
  name: 'Permute',
  category: 'reshaping',
  doc: 'Reorders the axes of each sample: `dims` lists, for each output axis, the input axis it takes (1 is the first axis after the batch).',
  args: { dims: intTuple({ min: 1 }) },
  inputRank: 'any',
  outputShape(input, a) {
    const n = a.dims.length;
    const sorted = [...a.dims].sort((x, y) => x - y);
    if (sorted.some((d, i) => d !== i + 1)) {
      throw new ShapeError(`Permute: dims=(${a.dims.join(', ')}) must be a permutation of ${Array.from({ length: n }, (_, i) => i + 1).join(', ')} (axis 0, the batch, stays first)`, 'dims', [], 'permute');
    }
    if (input.length !== n) {
      throw new ShapeError(
        `Permute: dims=(${a.dims.join(', ')}) reorders ${n} axes, but the input (None, ${input.map((d) => d ?? 'None').join(', ')}) has ${input.length} after the batch axis`,
        'dims',
        [],
        'permute',
      );
    }
    return a.dims.map((d) => input[d - 1]);
  },
  receptiveField: (a) => ({ kind: a.dims.every((d, i) => d === i + 1) ? 'identity' : 'unknown' }),
  // Keras permutes channels_last data: to Keras layout, transpose, back to ONNX layout.
  train: {
    forward: (g, l, x) => ({ y: toOnnxLayout(g, g.transpose(toKerasLayout(g, x, l.input), [0, ...l.a.dims]), l.output) }),
    backward(g, l, b) {
      if (!b.needDx) return { grads: {} };
      const back = g.transpose(toKerasLayout(g, b.dy, l.output), inverse([0, ...l.a.dims]));
      return { dx: toOnnxLayout(g, back, l.input), grads: {} };
    },
  },
});

export const RepeatVector = defineLayer({
  name: 'RepeatVector',
  category: 'reshaping',
  doc: 'Repeats each input vector `n` times: (features,) becomes (n, features), e.g. to feed a sequence decoder.',
  args: { n: int({ min: 1 }) },
  inputRank: 1,
  inputWords: '(features,)',
  outputShape: (input, a) => [a.n, input[0]],
  receptiveField: () => ({ kind: 'global' }),
  // In ONNX layout the (n, features) output is (N, features, n): a broadcast along a new last axis.
  train: {
    forward: (g, l, x) => ({ y: g.expand(g.unsqueeze(x, [2]), [1, 1, l.a.n]) }),
    backward: (g, _l, b) => ({ dx: b.needDx ? g.reduceSum(b.dy, [2], false) : undefined, grads: {} }),
  },
});
