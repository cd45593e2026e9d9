import { batchNormBackward, batchNormInference, batchNormTrainForward, type BatchNormSpec } from '../onnx/grad';
import { onnxAxis } from '../onnx/layout';
import { bool, float, initializer, int } from './args';
import { defineLayer, sampleAxis, type TrainLayer } from './define';

/** Training graphs normalise over the channel axis only, ONNX axis 1 (Keras' default axis=-1). */
function refuseOtherAxis(name: string, l: TrainLayer, axis: number): string | undefined {
  const i = sampleAxis(name, axis, [...l.input]);
  return onnxAxis(i, l.input.length) === 1 ? undefined : `${name}(axis=${axis}) is not trainable yet: only the channel axis (axis=-1) is supported`;
}

function bnSpec(l: TrainLayer, a: { momentum: number; epsilon: number }): BatchNormSpec {
  return { channels: l.input[l.input.length - 1], rank: l.input.length + 1, momentum: a.momentum, epsilon: a.epsilon };
}

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
    beta_initializer: initializer('zeros'),
    gamma_initializer: initializer('ones'),
    moving_mean_initializer: initializer('zeros'),
    moving_variance_initializer: initializer('ones'),
  },
  extraArgs: [
    'beta_regularizer',
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
  train: {
    refuse: (l) => refuseOtherAxis('BatchNormalization', l, l.a.axis),
    forward(g, l, x, mode) {
      const gamma = l.a.scale ? l.w.gamma : undefined;
      const beta = l.a.center ? l.w.beta : undefined;
      if (mode === 'infer') return { y: batchNormInference(g, bnSpec(l, l.a), x, gamma, beta, l.w.moving_mean, l.w.moving_variance) };
      const f = batchNormTrainForward(g, bnSpec(l, l.a), x, gamma, beta, l.w.moving_mean, l.w.moving_variance);
      return { y: f.y, saved: { xhat: f.xhat, invStd: f.invStd }, updates: { moving_mean: f.newMovingMean, moving_variance: f.newMovingVar } };
    },
    backward(g, l, b) {
      const s = b.fwd.saved!;
      const r = batchNormBackward(g, bnSpec(l, l.a), s.xhat!, s.invStd!, l.a.scale ? l.w.gamma : undefined, b.dy);
      const grads: Record<string, string> = {};
      if (l.a.scale) grads.gamma = r.dgamma;
      if (l.a.center) grads.beta = r.dbeta;
      return { dx: r.dx, grads };
    },
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
    beta_initializer: initializer('zeros'),
    gamma_initializer: initializer('ones'),
  },
  extraArgs: ['beta_regularizer', 'gamma_regularizer', 'beta_constraint', 'gamma_constraint', 'rms_scaling'],
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
  train: {
    refuse: (l) => refuseOtherAxis('LayerNormalization', l, l.a.axis),
    // Per position, over the channels (ONNX axis 1): x̂ = (x − mean)/√(var + ε), y = γ·x̂ + β.
    forward(g, l, x) {
      const shape = [1, l.input[l.input.length - 1], ...l.input.slice(0, -1).map(() => 1)];
      const mean = g.reduceMean(x, [1], true);
      const xc = g.sub(x, mean);
      const invStd = g.reciprocal(g.sqrt(g.add(g.reduceMean(g.mul(xc, xc), [1], true), g.scalar(l.a.epsilon))));
      const xhat = g.mul(xc, invStd);
      let y = l.a.scale ? g.mul(xhat, g.reshape(l.w.gamma, shape)) : xhat;
      if (l.a.center) y = g.add(y, g.reshape(l.w.beta, shape));
      return { y, saved: { xhat, invStd } };
    },
    // dx = invStd·(d − mean₁(d) − x̂·mean₁(d·x̂)) with d = γ·dy; dγ = Σ dy·x̂, dβ = Σ dy over batch and positions.
    backward(g, l, b) {
      const c = l.input[l.input.length - 1];
      const shape = [1, c, ...l.input.slice(0, -1).map(() => 1)];
      const s = b.fwd.saved!;
      const others = [0, ...l.input.slice(0, -1).map((_, i) => i + 2)];
      const grads: Record<string, string> = {};
      if (l.a.scale) grads.gamma = g.reshape(g.reduceSum(g.mul(b.dy, s.xhat!), others, false), [c]);
      if (l.a.center) grads.beta = g.reshape(g.reduceSum(b.dy, others, false), [c]);
      if (!b.needDx) return { grads };
      const d = l.a.scale ? g.mul(b.dy, g.reshape(l.w.gamma, shape)) : b.dy;
      const centered = g.sub(g.sub(d, g.reduceMean(d, [1], true)), g.mul(s.xhat!, g.reduceMean(g.mul(d, s.xhat!), [1], true)));
      return { dx: g.mul(centered, s.invStd!), grads };
    },
  },
});
