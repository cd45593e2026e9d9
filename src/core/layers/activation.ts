import { activation, any, float, int, optionalFloat } from './args';
import { defineLayer, sampleAxis } from './define';

export const Activation = defineLayer({
  name: 'Activation',
  category: 'activation',
  doc: 'Applies an activation function element-wise; the shape does not change.',
  args: { activation: { ...activation(), required: true } },
  inputRank: 'any',
  outputShape: (input) => input,
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
});

export const LeakyReLU = defineLayer({
  name: 'LeakyReLU',
  category: 'activation',
  doc: 'Leaky ReLU: x for x ≥ 0, negative_slope·x otherwise (Keras 2 called the slope `alpha`).',
  args: { negative_slope: float({ min: 0, default: 0.3 }) },
  extraArgs: ['alpha'],
  inputRank: 'any',
  outputShape: (input) => input,
});

export const ELU = defineLayer({
  name: 'ELU',
  category: 'activation',
  doc: 'Exponential linear unit: x for x > 0, alpha·(eˣ − 1) otherwise.',
  args: { alpha: float({ default: 1 }) },
  inputRank: 'any',
  outputShape: (input) => input,
});

export const Softmax = defineLayer({
  name: 'Softmax',
  category: 'activation',
  doc: 'Softmax along `axis`: turns scores into probabilities that sum to 1.',
  args: { axis: int({ default: -1 }) },
  inputRank: { min: 1 },
  outputShape: (input, a) => {
    sampleAxis('Softmax', a.axis, input);
    return input;
  },
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
});
