import { attr, type GraphBuilder } from '../onnx/graphBuilder';
import { dropoutBackward } from '../onnx/grad';
import { onnxAxis, refuseChannelsFirst } from '../onnx/layout';
import type { Value } from '../parse/values';
import { any, dataFormat, float, type ArgSpecs } from './args';
import { sampleWords, type SpatialRank } from '../shape';
import { defineLayer, type LayerTrain } from './define';

/** Emitters of a layer that multiplies by a random mask while training and is the identity at inference. */
function maskTrain<A extends ArgSpecs>(mask: (g: GraphBuilder, x: string, a: Record<string, unknown>, input: readonly number[], seed: number) => string | undefined): LayerTrain<A> {
  return {
    forward(g, l, x, mode) {
      const m = mode === 'train' ? mask(g, x, l.a as Record<string, unknown>, l.input, l.seed) : undefined;
      return m ? { y: g.mul(x, m), saved: { mask: m } } : { y: x };
    },
    backward(g, _l, b) {
      if (!b.needDx) return { grads: {} };
      const m = b.fwd.saved?.mask;
      return { dx: m ? dropoutBackward(g, m, b.dy) : b.dy, grads: {} };
    },
  };
}

/** 0 or 1/(1 − rate) per element of `like`'s shape, drawn as Keras' Dropout does (grad.ts' dropoutForward mask, without its product). */
function keepMask(g: GraphBuilder, like: string, rate: number, seed: number): string {
  const u = g.randomUniformLike(like, 0, 1, seed);
  return g.where(g.less(u, g.scalar(rate)), g.scalar(0), g.scalar(1 / (1 - rate)));
}

function normalLike(g: GraphBuilder, like: string, mean: number, scale: number, seed: number): string {
  return g.node('RandomNormalLike', [like], 1, { mean: attr.float(mean), scale: attr.float(scale), seed: attr.float(seed), dtype: 1 })[0];
}

const dropoutArgs = {
  rate: float({ min: 0, max: 1 }),
  noise_shape: any(),
  seed: any(),
};

export const Dropout = defineLayer({
  name: 'Dropout',
  category: 'regularization',
  doc: 'While training, sets a random fraction `rate` of the inputs to 0 and scales the rest by 1/(1 − rate); does nothing at inference.',
  args: dropoutArgs,
  inputRank: 'any',
  outputShape: (input) => input,
  train: {
    ...maskTrain<typeof dropoutArgs>((g, x, a, input, seed) => {
      if (a.rate === 0) return undefined;
      // noise_shape: one draw per kept axis, broadcast along the axes given as 1 (EfficientNet's
      // (None, 1, 1, 1) drops whole samples: stochastic depth).
      const shared = noiseAxes(a.noise_shape as Value | undefined, input);
      return keepMask(g, shared && shared.length ? g.reduceMean(x, shared.map((k) => (k === 0 ? 0 : onnxAxis(k - 1, input.length))), true) : x, a.rate as number, seed);
    }),
    refuse: (l) => {
      const axes = noiseAxes(l.a.noise_shape, l.input);
      if (axes === undefined) return `Dropout(noise_shape=…) must list one size per axis of (None, ${l.input.join(', ')}), each None, 1 or the axis' size`;
      return l.a.rate >= 1 ? 'Dropout(rate=1) drops every value: nothing can be learned' : undefined;
    },
  },
});

/**
 * The axes (0 = batch, k = per-sample axis k − 1) along which a Dropout `noise_shape` shares one
 * draw: those given as 1 where the input is longer. [] without a noise_shape; undefined when it
 * cannot be read or does not fit the input (Keras raises then).
 */
export function noiseAxes(noise: Value | undefined, input: readonly number[]): number[] | undefined {
  if (noise === undefined || noise.k === 'none') return [];
  if (noise.k !== 'seq' || noise.items.length !== input.length + 1) return undefined;
  const full = [null, ...input];
  const axes: number[] = [];
  for (let k = 0; k < noise.items.length; k++) {
    const v = noise.items[k];
    if (v.k === 'none') continue;
    if (v.k !== 'num') return undefined;
    if (v.v === 1 && full[k] !== 1) axes.push(k);
    else if (v.v !== full[k] && v.v !== 1) return undefined;
  }
  return axes;
}

function spatialDropout(rank: SpatialRank) {
  // Keras: SpatialDropout1D(rate, seed); SpatialDropout2D/3D(rate, data_format, seed).
  const rate = { rate: float({ min: 0, max: 1 }) };
  const args = rank === 1 ? { ...rate, seed: any() } : { ...rate, data_format: dataFormat(), seed: any() };
  return defineLayer({
    name: `SpatialDropout${rank}D`,
    category: 'regularization',
    doc: `Like Dropout, but drops whole feature maps (channels) at once, which suits ${rank}-D convolutional features.`,
    args,
    inputRank: rank + 1,
    inputWords: sampleWords(rank),
    outputShape: (input) => input,
    train: {
      // One draw per sample and channel, broadcast over the positions.
      ...maskTrain<typeof args>((g, x, a, _input, seed) =>
        a.rate === 0 ? undefined : keepMask(g, g.reduceMean(x, Array.from({ length: rank }, (_, i) => i + 2), true), a.rate as number, seed),
      ),
      refuse: (l) => refuseChannelsFirst(l.a as { data_format?: unknown }) ?? (l.a.rate >= 1 ? `SpatialDropout${rank}D(rate=1) drops every channel: nothing can be learned` : undefined),
    },
  });
}

export const SpatialDropout1D = spatialDropout(1);
export const SpatialDropout2D = spatialDropout(2);
export const SpatialDropout3D = spatialDropout(3);

export const GaussianNoise = defineLayer({
  name: 'GaussianNoise',
  category: 'regularization',
  doc: 'While training, adds zero-centred Gaussian noise with standard deviation `stddev`.',
  args: { stddev: float({ min: 0 }) },
  extraArgs: ['seed'],
  inputRank: 'any',
  outputShape: (input) => input,
  train: {
    forward(g, l, x, mode) {
      if (mode !== 'train' || l.a.stddev === 0) return { y: x };
      const noise = normalLike(g, x, 0, l.a.stddev, l.seed);
      return { y: g.add(x, noise), saved: { noise } };
    },
    backward: (_g, _l, b) => ({ dx: b.needDx ? b.dy : undefined, grads: {} }),
  },
});

const gaussianDropoutArgs = { rate: float({ min: 0, max: 1 }) };

export const GaussianDropout = defineLayer({
  name: 'GaussianDropout',
  category: 'regularization',
  doc: 'While training, multiplies inputs by Gaussian noise centred on 1 with variance rate/(1 − rate).',
  args: gaussianDropoutArgs,
  extraArgs: ['seed'],
  inputRank: 'any',
  outputShape: (input) => input,
  train: {
    ...maskTrain<typeof gaussianDropoutArgs>((g, x, a, _input, seed) =>
      a.rate === 0 ? undefined : normalLike(g, x, 1, Math.sqrt((a.rate as number) / (1 - (a.rate as number))), seed),
    ),
    refuse: (l) => (l.a.rate >= 1 ? 'GaussianDropout(rate=1) has infinite noise: nothing can be learned' : undefined),
  },
});

/** SELU's constants, which AlphaDropout's noise keeps the mean and variance of. */
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

const alphaDropoutArgs = { rate: float({ min: 0, max: 1 }), noise_shape: any(), seed: any() };

export const AlphaDropout = defineLayer({
  name: 'AlphaDropout',
  category: 'regularization',
  doc: 'Dropout for SELU networks: while training, sets dropped inputs to SELU\'s negative saturation and rescales so the mean and variance stay the same; does nothing at inference.',
  args: alphaDropoutArgs,
  inputRank: 'any',
  outputShape: (input) => input,
  // Keras: kept = (u ≥ rate); y = a·(x·kept + α′·(1 − kept)) + b, α′ = −α·scale,
  // a = ((1 − rate)(1 + rate·α′²))^(−1/2), b = −a·α′·rate.
  train: {
    refuse: (l) =>
      l.a.noise_shape !== undefined && l.a.noise_shape.k !== 'none'
        ? 'AlphaDropout(noise_shape=…) is not trainable yet'
        : l.a.rate >= 1
          ? 'AlphaDropout(rate=1) drops every value: nothing can be learned'
          : undefined,
    forward(g, l, x, mode) {
      if (mode !== 'train' || l.a.rate === 0) return { y: x };
      const { a, b, alphaP } = alphaDropoutAffine(l.a.rate);
      const u = g.randomUniformLike(x, 0, 1, l.seed);
      const kept = g.cast(g.node('Not', [g.less(u, g.scalar(l.a.rate))])[0], 'float32');
      const mixed = g.add(g.mul(x, kept), g.mul(g.sub(g.scalar(1), kept), g.scalar(alphaP)));
      return { y: g.add(g.mul(mixed, g.scalar(a)), g.scalar(b)), saved: { mask: kept } };
    },
    backward(g, l, b) {
      if (!b.needDx) return { grads: {} };
      const kept = b.fwd.saved?.mask;
      return { dx: kept ? g.mul(b.dy, g.mul(kept, g.scalar(alphaDropoutAffine(l.a.rate).a))) : b.dy, grads: {} };
    },
  },
});

/** AlphaDropout's affine correction for a drop rate. */
export function alphaDropoutAffine(rate: number): { a: number; b: number; alphaP: number } {
  const alphaP = -SELU_ALPHA * SELU_SCALE;
  const a = ((1 - rate) * (1 + rate * alphaP ** 2)) ** -0.5;
  return { a, b: -a * alphaP * rate, alphaP };
}

export const ActivityRegularization = defineLayer({
  name: 'ActivityRegularization',
  category: 'regularization',
  doc: 'Passes its input through unchanged and adds l1·Σ|x| + l2·Σx² (divided by the batch size) to the training loss.',
  args: { l1: float({ min: 0, default: 0 }), l2: float({ min: 0, default: 0 }) },
  inputRank: 'any',
  outputShape: (input) => input,
  receptiveField: () => ({ kind: 'identity' }),
  train: {
    refuse: (l) =>
      l.a.l1 !== 0 || l.a.l2 !== 0
        ? `ActivityRegularization(l1=${l.a.l1}, l2=${l.a.l2}) adds a penalty to the loss, which ConvLens' trainer does not add yet`
        : undefined,
    forward: (_g, _l, x) => ({ y: x }),
    backward: (_g, _l, b) => ({ dx: b.needDx ? b.dy : undefined, grads: {} }),
  },
});
