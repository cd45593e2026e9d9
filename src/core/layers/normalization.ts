import { batchNormBackward, batchNormInference, batchNormTrainForward, type BatchNormSpec } from '../onnx/grad';
import { onnxAxis, onnxSampleShape } from '../onnx/layout';
import { nchwcBatchNormBackward, nchwcBatchNormFits, nchwcBatchNormInference, nchwcBatchNormTakesEpilogue, nchwcBatchNormTrainForward } from '../onnx/nchwc';
import type { Dim } from '../shape';
import { axes, bool, float, initializer, int } from './args';
import { ShapeError, defineLayer, dotJoin, sampleAxis, type TrainLayer } from './define';

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
    refuse: (l) => (l.frozen.includes('gamma') || l.frozen.includes('beta') ? 'a frozen BatchNormalization (trainable=False) is not trainable yet' : refuseOtherAxis('BatchNormalization', l, l.a.axis)),
    // After an NCHWc convolution the statistics and the scaling run on the blocked tensor, so
    // conv → BN → ReLU (→ Add) chains stay blocked instead of reordering around every BN.
    acceptsNchwc: (l) => l.inputLayout === 'nchwc' && l.input.length >= 2 && !refuseOtherAxis('BatchNormalization', l, l.a.axis) && nchwcBatchNormFits(l.input[l.input.length - 1], l.nchwc),
    // ResNet's relu(BN(conv(y)) + x) in the scaling's single pass.
    acceptsEpilogue: (l) => l.inputLayout === 'nchwc' && nchwcBatchNormTakesEpilogue(l.input[l.input.length - 1], l.nchwc),
    forward(g, l, x, mode) {
      const gamma = l.a.scale ? l.w.gamma : undefined;
      const beta = l.a.center ? l.w.beta : undefined;
      if (l.inputLayout === 'nchwc') {
        const spatial = l.input.slice(0, -1);
        if (mode === 'infer') return { y: nchwcBatchNormInference(g, bnSpec(l, l.a), l.nchwc, spatial, x, gamma, beta, l.w.moving_mean, l.w.moving_variance, l.epilogue), layout: 'nchwc' };
        const f = nchwcBatchNormTrainForward(g, bnSpec(l, l.a), l.nchwc, spatial, x, gamma, beta, l.w.moving_mean, l.w.moving_variance, l.epilogue);
        return { y: f.y, saved: { ...f.saved }, updates: { moving_mean: f.newMovingMean, moving_variance: f.newMovingVar }, layout: 'nchwc' };
      }
      if (mode === 'infer') return { y: batchNormInference(g, bnSpec(l, l.a), x, gamma, beta, l.w.moving_mean, l.w.moving_variance) };
      const f = batchNormTrainForward(g, bnSpec(l, l.a), x, gamma, beta, l.w.moving_mean, l.w.moving_variance);
      return { y: f.y, saved: { xhat: f.xhat, invStd: f.invStd }, updates: { moving_mean: f.newMovingMean, moving_variance: f.newMovingVar } };
    },
    backward(g, l, b) {
      const s = b.fwd.saved!;
      if (l.inputLayout === 'nchwc') {
        const saved = { xc: s.xc!, invStd: s.invStd!, scale: s.scale!, invCount: s.invCount! };
        const r = nchwcBatchNormBackward(g, bnSpec(l, l.a), l.nchwc, l.input.slice(0, -1), saved, b.dy, b.needDx);
        const grads: Record<string, string> = {};
        if (l.a.scale) grads.gamma = r.dgamma;
        if (l.a.center) grads.beta = r.dbeta;
        return { dx: r.dx, grads };
      }
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

/** The channel count a GroupNormalization splits, checked against `groups` as Keras' build() does. */
function groupChannels(input: Dim[], a: { groups: number; axis: number }): { channels: Dim; groups: number | null } {
  const i = sampleAxis('GroupNormalization', a.axis, input);
  const channels = input[i];
  if (a.groups === 0 || a.groups < -1) throw new ShapeError(`GroupNormalization: groups=${a.groups} must be a positive number of groups, or -1 for one group per channel`, 'groups', [], 'groups');
  if (channels === null) return { channels, groups: a.groups === -1 ? null : a.groups };
  const groups = a.groups === -1 ? channels : a.groups;
  if (channels < groups) {
    throw new ShapeError(`GroupNormalization: groups=${groups} is more than the ${channels} channels of the input (Keras' default is 32 groups: pass groups= a divisor of ${channels})`, 'groups', [], 'groups');
  }
  if (channels % groups !== 0) throw new ShapeError(`GroupNormalization: the ${channels} channels cannot be split into groups=${groups} equal groups`, 'groups', [], 'groups');
  return { channels, groups };
}

/** GroupNormalization's statistics shape in ONNX layout: (N, G, C/G, spatial…). */
const groupShape = (l: TrainLayer, groups: number): number[] => {
  const c = l.input[l.input.length - 1];
  return [0, groups, c / groups, ...l.input.slice(0, -1)];
};

export const GroupNormalization = defineLayer({
  name: 'GroupNormalization',
  category: 'normalization',
  doc: 'Splits the channels into `groups` and normalises each sample over every position and channel of a group (groups=-1: one per channel, i.e. instance normalization); learns γ and β per channel.',
  args: {
    groups: int({ default: 32 }),
    axis: int({ default: -1 }),
    epsilon: float({ min: 0, default: 0.001 }),
    center: bool(true),
    scale: bool(true),
    beta_initializer: initializer('zeros'),
    gamma_initializer: initializer('ones'),
  },
  extraArgs: ['beta_regularizer', 'gamma_regularizer', 'beta_constraint', 'gamma_constraint'],
  inputRank: { min: 1 },
  outputShape(input, a) {
    groupChannels(input, a);
    return input;
  },
  weights(input, a) {
    const { channels } = groupChannels(input, a);
    return [
      ...(a.scale ? [{ name: 'gamma', shape: [channels], trainable: true }] : []),
      ...(a.center ? [{ name: 'beta', shape: [channels], trainable: true }] : []),
    ];
  },
  formula(input, a, total) {
    const { channels, groups } = groupChannels(input, a);
    return `${(a.scale ? 1 : 0) + (a.center ? 1 : 0)} × ${channels ?? '?'} = ${total.toLocaleString('en-US')} (γ, β per channel; statistics over ${groups ?? '?'} groups of ${channels !== null && groups ? channels / groups : '?'} channels)`;
  },
  receptiveField: () => ({ kind: 'identity' }),
  train: {
    refuse: (l) => refuseOtherAxis('GroupNormalization', l, l.a.axis),
    // Per sample and group: x̂ = (x − mean)/√(var + ε) over the group's channels and every position; y = γ·x̂ + β.
    forward(g, l, x) {
      const c = l.input[l.input.length - 1];
      const groups = groupChannels([...l.input], l.a).groups!;
      const stat = groupShape(l, groups);
      const axes = stat.slice(2).map((_, i) => i + 2);
      const xg = g.reshape(x, stat);
      const mean = g.reduceMean(xg, axes, true);
      const xc = g.sub(xg, mean);
      const invStd = g.reciprocal(g.sqrt(g.add(g.reduceMean(g.mul(xc, xc), axes, true), g.scalar(l.a.epsilon))));
      const xhatG = g.mul(xc, invStd);
      const xhat = g.reshape(xhatG, [0, ...onnxSampleShape(l.input)]);
      const shape = [1, c, ...l.input.slice(0, -1).map(() => 1)];
      let y = l.a.scale ? g.mul(xhat, g.reshape(l.w.gamma, shape)) : xhat;
      if (l.a.center) y = g.add(y, g.reshape(l.w.beta, shape));
      return { y, saved: { xhat, xhatG, invStd } };
    },
    // dx = invStd·(d − mean_g(d) − x̂·mean_g(d·x̂)) with d = γ·dy, means over each group; dγ = Σ dy·x̂, dβ = Σ dy.
    backward(g, l, b) {
      const c = l.input[l.input.length - 1];
      const s = b.fwd.saved!;
      const others = [0, ...l.input.slice(0, -1).map((_, i) => i + 2)];
      const grads: Record<string, string> = {};
      if (l.a.scale) grads.gamma = g.reshape(g.reduceSum(g.mul(b.dy, s.xhat!), others, false), [c]);
      if (l.a.center) grads.beta = g.reshape(g.reduceSum(b.dy, others, false), [c]);
      if (!b.needDx) return { grads };
      const shape = [1, c, ...l.input.slice(0, -1).map(() => 1)];
      const groups = groupChannels([...l.input], l.a).groups!;
      const stat = groupShape(l, groups);
      const axes = stat.slice(2).map((_, i) => i + 2);
      const d = g.reshape(l.a.scale ? g.mul(b.dy, g.reshape(l.w.gamma, shape)) : b.dy, stat);
      const centered = g.sub(g.sub(d, g.reduceMean(d, axes, true)), g.mul(s.xhatG!, g.reduceMean(g.mul(d, s.xhatG!), axes, true)));
      return { dx: g.reshape(g.mul(centered, s.invStd!), [0, ...onnxSampleShape(l.input)]), grads };
    },
  },
});

/** UnitNormalization's axes as per-sample indices; Keras' axis counts the batch axis (0). */
function unitAxes(input: readonly Dim[], axis: number[]): number[] {
  const full = input.length + 1;
  return axis.map((ax) => {
    if (ax >= full || ax < -full) {
      throw new ShapeError(`UnitNormalization: axis=${ax} does not exist for an input of rank ${full} (with the batch axis)`, 'axis', [], 'axis');
    }
    return (ax < 0 ? full + ax : ax) - 1;
  });
}

/** Keras' ops.normalize clamps the squared norm at epsilon² = (1e-12)². */
const UNIT_NORM_MIN_SQUARE = 1e-24;

export const UnitNormalization = defineLayer({
  name: 'UnitNormalization',
  category: 'normalization',
  doc: 'Scales each sample to unit L2 norm along `axis` (x / ‖x‖); no weights.',
  args: { axis: axes([-1]) },
  inputRank: { min: 1 },
  outputShape(input, a) {
    unitAxes(input, a.axis);
    return input;
  },
  receptiveField: () => ({ kind: 'identity' }),
  train: {
    refuse: (l) => (unitAxes(l.input, l.a.axis).some((i) => i < 0) ? `UnitNormalization(axis=${l.a.axis.length === 1 ? l.a.axis[0] : `(${l.a.axis.join(', ')})`}) normalises across the samples of a batch, which is not trainable yet` : undefined),
    // y = x·r with r = (max(Σx², ε²))^(−1/2) over the axes.
    forward(g, l, x) {
      const onnxAxes = unitAxes(l.input, l.a.axis).map((i) => onnxAxis(i, l.input.length));
      const square = g.reduceSum(g.mul(x, x), onnxAxes, true);
      const r = g.reciprocal(g.sqrt(g.max([square, g.scalar(UNIT_NORM_MIN_SQUARE)])));
      const y = g.mul(x, r);
      return { y, saved: { r, square } };
    },
    // dx = r·(dy − y·Σ(dy·y)) where the norm is not clamped; r·dy where it is.
    backward(g, l, b) {
      if (!b.needDx) return { grads: {} };
      const onnxAxes = unitAxes(l.input, l.a.axis).map((i) => onnxAxis(i, l.input.length));
      const s = b.fwd.saved!;
      const free = g.cast(g.greater(s.square!, g.scalar(UNIT_NORM_MIN_SQUARE)), 'float32');
      const dot = g.mul(g.reduceSum(g.mul(b.dy, b.fwd.y), onnxAxes, true), free);
      return { dx: g.mul(g.sub(b.dy, g.mul(b.fwd.y, dot)), s.r!), grads: {} };
    },
  },
});

/** RMSNormalization's scale shape: the input's size on each of its axes. */
function rmsAxes(input: readonly Dim[], axis: number[]): number[] {
  return [...new Set(axis.map((ax) => sampleAxis('RMSNormalization', ax, [...input])))].sort((p, q) => p - q);
}

export const RMSNormalization = defineLayer({
  name: 'RMSNormalization',
  category: 'normalization',
  doc: 'Divides each sample by its root mean square over `axis` (no centring) and multiplies by a learned scale per index of that axis.',
  args: { axis: axes([-1]), epsilon: float({ min: 0, default: 1e-6 }) },
  inputRank: { min: 1 },
  outputShape(input, a) {
    rmsAxes(input, a.axis);
    return input;
  },
  weights: (input, a) => [{ name: 'scale', shape: rmsAxes(input, a.axis).map((i) => input[i]), trainable: true }],
  formula: (input, a, total) => `${dotJoin(rmsAxes(input, a.axis).map((i) => input[i]))} = ${total.toLocaleString('en-US')} (a scale per index)`,
  receptiveField: () => ({ kind: 'identity' }),
  train: {
    refuse: (l) =>
      rmsAxes(l.input, l.a.axis).join() === String(l.input.length - 1) ? undefined : `RMSNormalization(axis=${l.a.axis.length === 1 ? l.a.axis[0] : `(${l.a.axis.join(', ')})`}) is not trainable yet: only the channel axis (axis=-1) is supported`,
    // y = x·r·scale, r = 1/√(mean(x²) + ε) over the channels (ONNX axis 1).
    forward(g, l, x) {
      const shape = [1, l.input[l.input.length - 1], ...l.input.slice(0, -1).map(() => 1)];
      const r = g.reciprocal(g.sqrt(g.add(g.reduceMean(g.mul(x, x), [1], true), g.scalar(l.a.epsilon))));
      const xhat = g.mul(x, r);
      return { y: g.mul(xhat, g.reshape(l.w.scale, shape)), saved: { xhat, r } };
    },
    // dx = r·(d − x̂·mean₁(d·x̂)) with d = scale·dy; dscale = Σ dy·x̂ over batch and positions.
    backward(g, l, b) {
      const c = l.input[l.input.length - 1];
      const shape = [1, c, ...l.input.slice(0, -1).map(() => 1)];
      const s = b.fwd.saved!;
      const others = [0, ...l.input.slice(0, -1).map((_, i) => i + 2)];
      const grads = { scale: g.reshape(g.reduceSum(g.mul(b.dy, s.xhat!), others, false), [c]) };
      if (!b.needDx) return { grads };
      const d = g.mul(b.dy, g.reshape(l.w.scale, shape));
      return { dx: g.mul(g.sub(d, g.mul(s.xhat!, g.reduceMean(g.mul(d, s.xhat!), [1], true))), s.r!), grads };
    },
  },
});
