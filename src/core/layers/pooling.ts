import {
  avgPoolBackward,
  avgPoolForward,
  globalAvgPoolBackward,
  globalAvgPoolForward,
  kerasPads,
  maxPoolBackward,
  maxPoolForward,
  type PoolSpec,
} from '../onnx/grad';
import { refuseChannelsFirst } from '../onnx/layout';
import { nchwcGlobalAvgPoolBackward, nchwcGlobalAvgPoolForward, nchwcMaxPoolBackward, nchwcMaxPoolFits, nchwcMaxPoolForward } from '../onnx/nchwc';
import { bool, choice, dataFormat, ints, optional } from './args';
import { checkWindowOutput, defineLayer, type TrainLayer } from './define';
import { joinChannels, sampleWords, splitChannels, spatialAxisNames, windowOutputShape, type SpatialRank } from '../shape';

/** The grad.ts description of a pooling layer on its (channels_last) input. */
function poolSpec(l: TrainLayer, a: { pool_size: number[]; strides: number[] | null; padding: string }): PoolSpec {
  const spatial = l.input.slice(0, -1);
  const strides = a.strides ?? a.pool_size;
  return { kernel: a.pool_size, inputSpatial: spatial, strides, pads: kerasPads(a.padding as 'valid' | 'same', spatial, a.pool_size, strides) };
}

function windowPool(kind: 'Max' | 'Average', rank: SpatialRank) {
  const name = `${kind}Pooling${rank}D`;
  const what = kind === 'Max' ? 'the maximum' : 'the average';
  return defineLayer({
    name,
    aliases: [`${kind === 'Max' ? 'Max' : 'Avg'}Pool${rank}D`],
    category: 'pooling',
    doc: `Downsamples each channel by taking ${what} of every ${rank === 1 ? 'window' : `${spatialAxisNames(rank).join(' × ')} pool_size window`}; strides default to pool_size.`,
    args: {
      pool_size: ints(rank, { min: 1, default: 2 }),
      strides: optional(ints(rank, { min: 1 })),
      padding: choice(['valid', 'same'], 'valid'),
      data_format: dataFormat(),
    },
    inputRank: rank + 1,
    inputWords: sampleWords(rank),
    outputShape(input, a, ctx) {
      const strides = a.strides ?? a.pool_size;
      const { spatial, channels } = splitChannels(input, a.data_format);
      const out = windowOutputShape(spatial, a.pool_size, strides, a.padding);
      checkWindowOutput(name, spatial, a.pool_size, strides, [], out, 'pool_size', { padding: a.padding, ctx });
      return joinChannels(out, channels, a.data_format);
    },
    receptiveField: (a) => ({ kind: 'window', kernel: a.pool_size, stride: a.strides ?? a.pool_size }),
    train: {
      refuse: (l) => refuseChannelsFirst(l.a),
      // NCHWc max pooling of tiling windows: layers between NCHWc convolutions stay blocked.
      acceptsNchwc: (l) => kind === 'Max' && rank === 2 && nchwcMaxPoolFits(poolSpec(l, l.a), l.input[l.input.length - 1], l.nchwc),
      forward(g, l, x) {
        if (kind === 'Average') return { y: avgPoolForward(g, poolSpec(l, l.a), x) };
        if (l.inputLayout === 'nchwc') return { y: nchwcMaxPoolForward(g, poolSpec(l, l.a), x), layout: 'nchwc' };
        const f = maxPoolForward(g, poolSpec(l, l.a), x);
        return { y: f.y, saved: f.indices ? { indices: f.indices } : {} };
      },
      backward(g, l, b) {
        if (!b.needDx) return { grads: {} };
        const spec = poolSpec(l, l.a);
        if (kind === 'Average') return { dx: avgPoolBackward(g, spec, l.input[l.input.length - 1], b.dy), grads: {} };
        if (l.inputLayout === 'nchwc') {
          const dx = nchwcMaxPoolBackward(g, spec, l.input[l.input.length - 1], l.nchwc, b.x, b.fwd.y, b.dy, b.inputIsRelu);
          return { dx, grads: {}, throughRelu: b.inputIsRelu };
        }
        const dx = maxPoolBackward(g, spec, b.x, { y: b.fwd.y, indices: b.fwd.saved?.indices }, b.dy, { afterRelu: b.inputIsRelu });
        return { dx, grads: {}, throughRelu: b.inputIsRelu };
      },
    },
  });
}

export const MaxPooling1D = windowPool('Max', 1);
export const MaxPooling2D = windowPool('Max', 2);
export const MaxPooling3D = windowPool('Max', 3);
export const AveragePooling1D = windowPool('Average', 1);
export const AveragePooling2D = windowPool('Average', 2);
export const AveragePooling3D = windowPool('Average', 3);

function globalPool(kind: 'Max' | 'Average', rank: SpatialRank) {
  return defineLayer({
    name: `Global${kind}Pooling${rank}D`,
    aliases: [`Global${kind === 'Max' ? 'Max' : 'Avg'}Pool${rank}D`],
    category: 'pooling',
    doc: `Reduces each channel to one number, ${kind === 'Max' ? 'its maximum' : 'its mean'} over all ${rank === 1 ? 'steps' : 'positions'}.`,
    args: {
      data_format: dataFormat(),
      keepdims: bool(false),
    },
    inputRank: rank + 1,
    inputWords: sampleWords(rank),
    outputShape(input, a) {
      const { spatial, channels } = splitChannels(input, a.data_format);
      return a.keepdims ? joinChannels(spatial.map(() => 1), channels, a.data_format) : [channels];
    },
    receptiveField: () => ({ kind: 'global' }),
    train: {
      refuse: (l) => refuseChannelsFirst(l.a),
      // The mean of a blocked input is taken on its blocks (no reorder after the last convolution).
      acceptsNchwc: (l) => kind === 'Average' && rank === 2 && l.inputLayout === 'nchwc' && l.input[l.input.length - 1] % l.nchwc === 0,
      forward(g, l, x) {
        const spatial = l.input.slice(0, -1);
        const kept = (t: string) => (l.a.keepdims ? t : g.reshape(t, [0, 0]));
        if (l.inputLayout === 'nchwc') {
          const y = nchwcGlobalAvgPoolForward(g, x, l.input[l.input.length - 1], l.nchwc, spatial);
          return { y: l.a.keepdims ? g.reshape(y, [0, 0, ...spatial.map(() => 1)]) : y };
        }
        if (kind === 'Average') {
          const y = globalAvgPoolForward(g, rank, x);
          return { y: l.a.keepdims ? g.reshape(y, [0, 0, ...spatial.map(() => 1)]) : y };
        }
        // A max over the whole map is a MaxPool whose one window tiles the input.
        const f = maxPoolForward(g, { kernel: spatial, inputSpatial: spatial }, x);
        return { y: kept(f.y), saved: f.indices ? { pooled: f.y, indices: f.indices } : { pooled: f.y } };
      },
      backward(g, l, b) {
        if (!b.needDx) return { grads: {} };
        const spatial = l.input.slice(0, -1);
        if (l.inputLayout === 'nchwc') return { dx: nchwcGlobalAvgPoolBackward(g, l.a.keepdims ? g.reshape(b.dy, [0, 0]) : b.dy, l.input[l.input.length - 1], l.nchwc, spatial), grads: {} };
        if (kind === 'Average') return { dx: globalAvgPoolBackward(g, spatial, l.a.keepdims ? g.reshape(b.dy, [0, 0]) : b.dy), grads: {} };
        const dy = l.a.keepdims ? b.dy : g.reshape(b.dy, [0, 0, ...spatial.map(() => 1)]);
        const s = b.fwd.saved!;
        const dx = maxPoolBackward(g, { kernel: spatial, inputSpatial: spatial }, b.x, { y: s.pooled!, indices: s.indices }, dy, { afterRelu: b.inputIsRelu });
        return { dx, grads: {}, throughRelu: b.inputIsRelu };
      },
    },
  });
}

export const GlobalMaxPooling1D = globalPool('Max', 1);
export const GlobalMaxPooling2D = globalPool('Max', 2);
export const GlobalMaxPooling3D = globalPool('Max', 3);
export const GlobalAveragePooling1D = globalPool('Average', 1);
export const GlobalAveragePooling2D = globalPool('Average', 2);
export const GlobalAveragePooling3D = globalPool('Average', 3);

/**
 * Keras 3.13's adaptive pooling: output_size windows per axis, window i covering
 * [⌊i·n/out⌋, ⌈(i+1)·n/out⌉). When out divides n every window is n/out wide and as far apart,
 * which is an ordinary pooling (and trains as one).
 */
export function evenWindows(spatial: readonly (number | null)[], out: readonly number[]): number[] | undefined {
  const k = spatial.map((n, i) => (n !== null && n % out[i] === 0 ? n / out[i] : 0));
  return k.every((x) => x > 0) ? k : undefined;
}

function adaptivePool(kind: 'Max' | 'Average', rank: SpatialRank) {
  const name = `Adaptive${kind}Pooling${rank}D`;
  return defineLayer({
    name,
    category: 'pooling',
    doc: `Pools each channel down to exactly \`output_size\` (${spatialAxisNames(rank).join(' × ')}), taking ${kind === 'Max' ? 'the maximum' : 'the average'} of windows sized to fit whatever the input size is.`,
    args: { output_size: ints(rank, { min: 1 }), data_format: dataFormat() },
    inputRank: rank + 1,
    inputWords: sampleWords(rank),
    outputShape(input, a) {
      const { channels } = splitChannels(input, a.data_format);
      return joinChannels(a.output_size, channels, a.data_format);
    },
    receptiveField(a, input) {
      const k = evenWindows(splitChannels(input, a.data_format).spatial, a.output_size);
      return k ? { kind: 'window', kernel: k, stride: k } : { kind: 'unknown' };
    },
    train: {
      refuse: (l) =>
        refuseChannelsFirst(l.a) ??
        (evenWindows(l.input.slice(0, -1), l.a.output_size)
          ? undefined
          : `${name} from ${l.input.slice(0, -1).join('×')} to ${l.a.output_size.join('×')} uses windows of unequal sizes, which is not trainable yet (make output_size divide the input size)`),
      forward(g, l, x) {
        const k = evenWindows(l.input.slice(0, -1), l.a.output_size)!;
        const spec: PoolSpec = { kernel: k, inputSpatial: l.input.slice(0, -1) };
        if (kind === 'Average') return { y: avgPoolForward(g, spec, x) };
        const f = maxPoolForward(g, spec, x);
        return { y: f.y, saved: f.indices ? { indices: f.indices } : {} };
      },
      backward(g, l, b) {
        if (!b.needDx) return { grads: {} };
        const spec: PoolSpec = { kernel: evenWindows(l.input.slice(0, -1), l.a.output_size)!, inputSpatial: l.input.slice(0, -1) };
        if (kind === 'Average') return { dx: avgPoolBackward(g, spec, l.input[l.input.length - 1], b.dy), grads: {} };
        const dx = maxPoolBackward(g, spec, b.x, { y: b.fwd.y, indices: b.fwd.saved?.indices }, b.dy, { afterRelu: b.inputIsRelu });
        return { dx, grads: {}, throughRelu: b.inputIsRelu };
      },
    },
  });
}

export const AdaptiveMaxPooling1D = adaptivePool('Max', 1);
export const AdaptiveMaxPooling2D = adaptivePool('Max', 2);
export const AdaptiveMaxPooling3D = adaptivePool('Max', 3);
export const AdaptiveAveragePooling1D = adaptivePool('Average', 1);
export const AdaptiveAveragePooling2D = adaptivePool('Average', 2);
export const AdaptiveAveragePooling3D = adaptivePool('Average', 3);
