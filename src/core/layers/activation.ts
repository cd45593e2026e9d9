import type { GraphBuilder } from '../onnx/graphBuilder';
import { activationBackward, activationForward, type ActivationSpec } from '../onnx/grad';
import { onnxAxis, onnxSampleShape, toOnnxPerm, toKerasPerm } from '../onnx/layout';
import { activation, any, float, int, optionalFloat, type ArgSpecs } from './args';
import { defineLayer, sampleAxis, type LayerTrain, type TrainLayer } from './define';

/** Emitters of a layer that is one activation recipe of the registry (`core/onnx/activations.ts`). */
function recipe<A extends ArgSpecs>(spec: (l: TrainLayer<A>) => ActivationSpec): LayerTrain<A> {
  return {
    outputActivation: (l) => spec(l),
    forward: (g, l, x) => ({ y: activationForward(g, spec(l), x) }),
    backward: (g, l, b) => ({ dx: b.needDx ? activationBackward(g, spec(l), b.x, b.fwd.y, b.dy) : undefined, grads: {} }),
  };
}

/** ReLU with Keras' max_value / negative_slope / threshold: max_value above it, x from threshold, slope·(x − threshold) below. */
function generalRelu(g: GraphBuilder, x: string, a: { max_value: number | null; negative_slope: number; threshold: number }): { y: string; dx: (dy: string) => string } {
  const thr = g.scalar(a.threshold);
  const above = g.node('Not', [g.less(x, thr)])[0];
  const below = a.negative_slope === 0 ? g.scalar(0) : g.mul(g.sub(x, thr), g.scalar(a.negative_slope));
  let y = g.where(above, x, below);
  let capped: string | undefined;
  if (a.max_value !== null) {
    capped = g.node('Not', [g.less(x, g.scalar(a.max_value))])[0];
    y = g.where(capped, g.scalar(a.max_value), y);
  }
  return {
    y,
    dx: (dy) => {
      let d = g.where(above, dy, a.negative_slope === 0 ? g.scalar(0) : g.mul(dy, g.scalar(a.negative_slope)));
      if (capped) d = g.where(capped, g.scalar(0), d);
      return d;
    },
  };
}

const isPlainRelu = (a: { max_value: number | null; negative_slope: number; threshold: number }) => a.max_value === null && a.negative_slope === 0 && a.threshold === 0;

export const Activation = defineLayer({
  name: 'Activation',
  category: 'activation',
  doc: 'Applies an activation function element-wise; the shape does not change.',
  args: { activation: { ...activation(), required: true } },
  inputRank: 'any',
  outputShape: (input) => input,
  // The compiler applies every layer's `activation=` argument; this layer adds nothing else.
  // Elementwise activations keep an NCHWc input blocked (softmax runs over the channels).
  train: {
    acceptsNchwc: (l) => l.a.activation !== 'softmax',
    isRelu: (l) => l.a.activation === 'relu',
    forward: (_g, l, x) => ({ y: x, layout: l.inputLayout }),
    backward: (_g, _l, b) => ({ dx: b.dy, grads: {} }),
  },
});

export const ReLU = defineLayer({
  name: 'ReLU',
  category: 'activation',
  doc: 'Rectified linear unit max(x, 0), optionally capped at `max_value` (ReLU(6.0) is ReLU6).',
  args: {
    max_value: optionalFloat({ min: 0 }),
    negative_slope: float({ min: 0, default: 0 }),
    threshold: float({ default: 0 }),
  },
  inputRank: 'any',
  outputShape: (input) => input,
  train: {
    reluOutput: (l) => isPlainRelu(l.a),
    acceptsNchwc: () => true,
    isRelu: (l) => isPlainRelu(l.a),
    forward(g, l, x) {
      if (isPlainRelu(l.a)) return { y: activationForward(g, { kind: 'relu' }, x), layout: l.inputLayout };
      return { y: generalRelu(g, x, l.a).y, layout: l.inputLayout };
    },
    backward(g, l, b) {
      if (!b.needDx) return { grads: {} };
      if (isPlainRelu(l.a)) return { dx: activationBackward(g, { kind: 'relu' }, b.x, b.fwd.y, b.dy), grads: {} };
      return { dx: generalRelu(g, b.x, l.a).dx(b.dy), grads: {} };
    },
  },
});

const leakyArgs = { negative_slope: float({ min: 0, default: 0.3 }) };
const eluArgs = { alpha: float({ default: 1 }) };
const softmaxArgs = { axis: int({ default: -1 }) };

export const LeakyReLU = defineLayer({
  name: 'LeakyReLU',
  category: 'activation',
  doc: 'Leaky ReLU: x for x ≥ 0, negative_slope·x otherwise (Keras 2 called the slope `alpha`).',
  args: leakyArgs,
  extraArgs: ['alpha'],
  inputRank: 'any',
  outputShape: (input) => input,
  train: recipe<typeof leakyArgs>((l) => ({ kind: 'leaky_relu', alpha: l.a.negative_slope })),
});

export const ELU = defineLayer({
  name: 'ELU',
  category: 'activation',
  doc: 'Exponential linear unit: x for x > 0, alpha·(eˣ − 1) otherwise.',
  args: eluArgs,
  inputRank: 'any',
  outputShape: (input) => input,
  train: recipe<typeof eluArgs>((l) => ({ kind: 'elu', alpha: l.a.alpha })),
});

export const Softmax = defineLayer({
  name: 'Softmax',
  category: 'activation',
  doc: 'Softmax along `axis`: turns scores into probabilities that sum to 1.',
  args: softmaxArgs,
  inputRank: { min: 1 },
  outputShape: (input, a) => {
    sampleAxis('Softmax', a.axis, input);
    return input;
  },
  train: recipe<typeof softmaxArgs>((l) => ({ kind: 'softmax', axis: onnxAxis(sampleAxis('Softmax', l.a.axis, [...l.input]), l.input.length) })),
});

export const PReLU = defineLayer({
  name: 'PReLU',
  category: 'activation',
  doc: 'Parametric ReLU: like LeakyReLU, but the negative slope is learned for every input element.',
  args: {
    alpha_initializer: any(),
    alpha_regularizer: any(),
    alpha_constraint: any(),
    shared_axes: any(),
  },
  inputRank: { min: 1 },
  outputShape: (input) => input,
  weights(input, a) {
    // shared_axes counts the batch axis (1 = the first per-sample axis); shared axes get one alpha.
    const shared = a.shared_axes;
    const axes = shared?.k === 'seq' ? shared.items : shared?.k === 'num' ? [shared] : [];
    const shape = input.slice();
    for (const ax of axes) if (ax.k === 'num' && ax.v >= 1 && ax.v <= shape.length) shape[ax.v - 1] = 1;
    return [{ name: 'alpha', shape, trainable: true }];
  },
  // alpha is kept in Keras layout; in the graph it is moved to ONNX layout, where it broadcasts.
  train: {
    forward(g, l, x) {
      const alpha = prelu(g, l);
      return { y: g.where(g.greater(x, g.scalar(0)), x, g.mul(x, alpha.onnx)), saved: { alpha: alpha.onnx } };
    },
    // dα = Σ dy·min(x, 0) over the batch and the shared axes.
    backward(g, l, b) {
      const shape = onnxSampleShape(weightShape(l));
      const positive = g.greater(b.x, g.scalar(0));
      const reduceAxes = [0, ...shape.flatMap((d, i) => (d === 1 && onnxSampleShape(l.input)[i] !== 1 ? [i + 1] : []))];
      const da = g.reshape(g.reduceSum(g.mul(b.dy, g.where(positive, g.scalar(0), b.x)), reduceAxes, true), shape);
      const grads = { alpha: shape.length >= 2 ? g.transpose(da, toKerasPerm(shape.length).slice(1).map((p) => p - 1)) : da };
      return { dx: b.needDx ? g.where(positive, b.dy, g.mul(b.dy, b.fwd.saved!.alpha!)) : undefined, grads };
    },
  },
});

/** PReLU's alpha moved to ONNX layout (without the batch axis). */
function prelu(g: GraphBuilder, l: TrainLayer): { onnx: string } {
  const keras = weightShape(l);
  return { onnx: keras.length >= 2 ? g.transpose(l.w.alpha, toOnnxPerm(keras.length).slice(1).map((p) => p - 1)) : l.w.alpha };
}

/** alpha's Keras shape: the input's, with 1 on every shared axis. */
function weightShape(l: TrainLayer): number[] {
  const a = l.a as { shared_axes?: { k: string; v?: number; items?: { k: string; v?: number }[] } };
  const shared = a.shared_axes;
  const axes = shared?.k === 'seq' ? shared.items ?? [] : shared?.k === 'num' ? [shared] : [];
  const shape = [...l.input];
  for (const ax of axes) if (ax.k === 'num' && ax.v! >= 1 && ax.v! <= shape.length) shape[ax.v! - 1] = 1;
  return shape;
}

export const ThresholdedReLU = defineLayer({
  name: 'ThresholdedReLU',
  category: 'activation',
  doc: 'tf.keras 2 (removed in Keras 3; use ReLU(threshold=…)): x where x > theta, 0 elsewhere.',
  args: { theta: float({ min: 0, default: 1 }) },
  inputRank: 'any',
  outputShape: (input) => input,
  // y = x·[x > θ]; dy passes where x > θ.
  train: {
    forward(g, l, x) {
      const above = g.cast(g.greater(x, g.scalar(l.a.theta)), 'float32');
      return { y: g.mul(x, above), saved: { above } };
    },
    backward: (g, _l, b) => ({ dx: b.needDx ? g.mul(b.dy, b.fwd.saved!.above!) : undefined, grads: {} }),
  },
});
