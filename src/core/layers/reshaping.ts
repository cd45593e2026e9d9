import type { GraphBuilder } from '../onnx/graphBuilder';
import { croppingBackward, croppingForward, flattenBackward, flattenForward, reshapeBackward, zeroPadBackward, zeroPadForward } from '../onnx/grad';
import type { Dim } from '../shape';
import { onnxSampleShape, refuseChannelsFirst, toKerasLayout, toOnnxLayout } from '../onnx/layout';
import { readShape, choice, dataFormat, ints, padAmounts, type ArgSpec } from './args';
import { ShapeError, defineLayer, type LayerTrain } from './define';
import { joinChannels, product, splitChannels } from '../shape';

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

function upsampleTrain(rank: 1 | 2): LayerTrain {
  return {
    refuse: (l) => {
      const a = l.a as { data_format?: string; interpolation?: string };
      return refuseChannelsFirst(a) ?? (a.interpolation && a.interpolation !== 'nearest' ? `UpSampling${rank}D(interpolation='${a.interpolation}') is not trainable yet (use 'nearest')` : undefined);
    },
    forward: (g, l, x) => ({ y: upsample(g, x, l.input.slice(0, -1), l.a.size as number[]) }),
    backward: (g, l, b) => ({ dx: b.needDx ? upsampleBackward(g, b.dy, l.input.slice(0, -1), l.a.size as number[]) : undefined, grads: {} }),
  };
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
    forward: (g, l, x) => ({ y: l.input.length < 2 ? x : flattenForward(g, x, l.input.length - 1, true) }),
    backward: (g, l, b) => ({ dx: !b.needDx ? undefined : l.input.length < 2 ? b.dy : flattenBackward(g, b.dy, onnxSampleShape(l.input), true), grads: {} }),
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

function padding(rank: 1 | 2) {
  return defineLayer({
    name: `ZeroPadding${rank}D`,
    category: 'reshaping',
    doc: rank === 1 ? 'Adds zeros at the start and end of the steps axis.' : 'Adds rows and columns of zeros around each feature map (top/bottom, left/right).',
    args: rank === 1 ? { padding: padAmounts(1, 1), data_format: dataFormat() } : { padding: padAmounts(2, 1), data_format: dataFormat() },
    inputRank: rank + 1,
    inputWords: rank === 1 ? '(steps, channels)' : '(height, width, channels)',
    outputShape(input, a) {
      const { spatial, channels } = splitChannels(input, rank === 1 ? 'channels_last' : a.data_format);
      return joinChannels(
        spatial.map((d, i) => (d === null ? null : d + a.padding[i][0] + a.padding[i][1])),
        channels,
        rank === 1 ? 'channels_last' : a.data_format,
      );
    },
    receptiveField: () => ({ kind: 'identity' }),
    train: {
      refuse: (l) => refuseChannelsFirst(l.a as { data_format?: string }),
      forward: (g, l, x) => ({ y: zeroPadForward(g, x, onnxPads(l.a.padding)) }),
      backward: (g, l, b) => ({ dx: b.needDx ? zeroPadBackward(g, b.dy, onnxPads(l.a.padding), l.input.slice(0, -1)) : undefined, grads: {} }),
    },
  });
}

export const ZeroPadding1D = padding(1);
export const ZeroPadding2D = padding(2);

function cropping(rank: 1 | 2) {
  const name = `Cropping${rank}D`;
  return defineLayer({
    name,
    category: 'reshaping',
    doc: rank === 1 ? 'Removes steps at the start and end of the sequence.' : 'Removes rows and columns at the borders of each feature map.',
    args: rank === 1 ? { cropping: padAmounts(1, 1), data_format: dataFormat() } : { cropping: padAmounts(2, 0), data_format: dataFormat() },
    inputRank: rank + 1,
    inputWords: rank === 1 ? '(steps, channels)' : '(height, width, channels)',
    outputShape(input, a) {
      const fmt = rank === 1 ? 'channels_last' : a.data_format;
      const { spatial, channels } = splitChannels(input, fmt);
      const out = spatial.map((d, i) => (d === null ? null : d - a.cropping[i][0] - a.cropping[i][1]));
      const bad = out.findIndex((d) => d !== null && d <= 0);
      if (bad >= 0) {
        throw new ShapeError(
          `${name}: cropping ${a.cropping[bad][0]} + ${a.cropping[bad][1]} removes all ${spatial[bad]} ${rank === 1 ? 'steps' : bad === 0 ? 'rows' : 'columns'} of the input`,
          'cropping',
          [],
          'cropping',
        );
      }
      return joinChannels(out, channels, fmt);
    },
    receptiveField: () => ({ kind: 'identity' }),
    train: {
      refuse: (l) => refuseChannelsFirst(l.a as { data_format?: string }),
      forward: (g, l, x) => ({ y: croppingForward(g, x, onnxPads(l.a.cropping), l.input.slice(0, -1)) }),
      backward: (g, l, b) => ({ dx: b.needDx ? croppingBackward(g, b.dy, onnxPads(l.a.cropping)) : undefined, grads: {} }),
    },
  });
}

export const Cropping1D = cropping(1);
export const Cropping2D = cropping(2);

export const UpSampling1D = defineLayer({
  name: 'UpSampling1D',
  category: 'reshaping',
  doc: 'Repeats each step `size` times.',
  args: { size: ints(1, { min: 1, default: 2 }) },
  inputRank: 2,
  inputWords: '(steps, channels)',
  outputShape: (input, a) => [input[0] === null ? null : input[0] * a.size[0], input[1]],
  receptiveField: (a) => ({ kind: 'upsample', factor: a.size }),
  train: upsampleTrain(1) as LayerTrain<never>,
});

export const UpSampling2D = defineLayer({
  name: 'UpSampling2D',
  category: 'reshaping',
  doc: 'Repeats rows and columns `size` times (nearest) or interpolates (bilinear).',
  args: { size: ints(2, { min: 1, default: 2 }), data_format: dataFormat(), interpolation: choice(['nearest', 'bilinear', 'bicubic', 'lanczos3', 'lanczos5', 'area'], 'nearest') },
  inputRank: 3,
  inputWords: '(height, width, channels)',
  outputShape(input, a) {
    const { spatial, channels } = splitChannels(input, a.data_format);
    return joinChannels(spatial.map((d, i) => (d === null ? null : d * a.size[i])), channels, a.data_format);
  },
  receptiveField: (a) => ({ kind: 'upsample', factor: a.size }),
  train: upsampleTrain(2) as LayerTrain<never>,
});
