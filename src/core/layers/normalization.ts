import { bool, float, int } from './args';
import { defineLayer, sampleAxis } from './define';

export const BatchNormalization = defineLayer({
  name: 'BatchNormalization',
  category: 'normalization',
  doc: 'Normalises each channel with the batch mean and variance while training, and with moving averages at inference; learns a scale γ and offset β.',
  args: {
    axis: int({ default: -1 }),
    momentum: float({ min: 0, max: 1, default: 0.99 }),
    epsilon: float({ min: 0, default: 0.001 }),
    center: bool(true),
    scale: bool(true),
  },
  extraArgs: [
    'beta_initializer', 'gamma_initializer', 'moving_mean_initializer', 'moving_variance_initializer', 'beta_regularizer',
    'gamma_regularizer', 'beta_constraint', 'gamma_constraint', 'synchronized', 'renorm', 'renorm_clipping',
    'renorm_momentum', 'fused', 'virtual_batch_size', 'adjustment',
  ],
  inputRank: { min: 1 },
  outputShape: (input, a) => {
    sampleAxis('BatchNormalization', a.axis, input);
    return input;
  },
  weights(input, a) {
    const c = input[sampleAxis('BatchNormalization', a.axis, input)];
    return [
      ...(a.scale ? [{ name: 'gamma', shape: [c], trainable: true }] : []),
      ...(a.center ? [{ name: 'beta', shape: [c], trainable: true }] : []),
      { name: 'moving_mean', shape: [c], trainable: false },
      { name: 'moving_variance', shape: [c], trainable: false },
    ];
  },
  formula(input, a, total) {
    const c = input[sampleAxis('BatchNormalization', a.axis, input)] ?? '?';
    const learned = [a.scale ? 'γ' : '', a.center ? 'β' : ''].filter(Boolean);
    const k = learned.length + 2;
    return `${k} × ${c} = ${total.toLocaleString('en-US')} (${learned.length ? `${learned.join(', ')} trainable; ` : ''}moving mean and variance not trainable)`;
  },
});

export const LayerNormalization = defineLayer({
  name: 'LayerNormalization',
  category: 'normalization',
  doc: 'Normalises each sample over its last axis (mean 0, variance 1), then applies a learned scale γ and offset β.',
  args: {
    axis: int({ default: -1 }),
    epsilon: float({ min: 0, default: 0.001 }),
    center: bool(true),
    scale: bool(true),
  },
  extraArgs: ['beta_initializer', 'gamma_initializer', 'beta_regularizer', 'gamma_regularizer', 'beta_constraint', 'gamma_constraint', 'rms_scaling'],
  inputRank: { min: 1 },
  outputShape: (input, a) => {
    sampleAxis('LayerNormalization', a.axis, input);
    return input;
  },
  weights(input, a) {
    const c = input[sampleAxis('LayerNormalization', a.axis, input)];
    return [
      ...(a.scale ? [{ name: 'gamma', shape: [c], trainable: true }] : []),
      ...(a.center ? [{ name: 'beta', shape: [c], trainable: true }] : []),
    ];
  },
  formula(input, a, total) {
    const c = input[sampleAxis('LayerNormalization', a.axis, input)] ?? '?';
    return `${(a.scale ? 1 : 0) + (a.center ? 1 : 0)} × ${c} = ${total.toLocaleString('en-US')} (γ, β)`;
  },
});
