/**
 * PyTorch's normalization layers. BatchNorm's running statistics (`running_mean`, `running_var`,
 * `num_batches_tracked`) are buffers: module state that no parameter total counts, as
 * `sum(p.numel() for p in model.parameters())` does not.
 */
import { type Dim } from '../../shape';
import { bool, float, int, optional } from '../args';
import { ShapeError, countText, defineLayer, type LayerType, type WeightSpec } from '../define';
import { FACTORY_ARGS, NOT_TRAINABLE_YET, channelMismatch, inputText, intList, torchInputWords } from './common';
import { batchNormTrain } from './train';

/** The affine weight and bias of `features` channels, and BatchNorm-style running statistics as buffers. */
function normWeights(features: number, affine: boolean, running: boolean): WeightSpec[] {
  return [
    ...(affine ? [{ name: 'weight', shape: [features], trainable: true, init: 'torch_ones' }, { name: 'bias', shape: [features], trainable: true, init: 'torch_zeros' }] : []),
    ...(running
      ? [
          { name: 'running_mean', shape: [features], trainable: false, buffer: true, init: 'torch_zeros' },
          { name: 'running_var', shape: [features], trainable: false, buffer: true, init: 'torch_ones' },
          { name: 'num_batches_tracked', shape: [] as Dim[], trainable: false, buffer: true, init: 'torch_zeros' },
        ]
      : []),
  ];
}

const affineFormula = (features: number, affine: boolean, total: number): string => (affine ? `weight ${features} + bias ${features} = ${countText(total)}` : '0');

/** BatchNorm1d accepts (N, C) or (N, C, L); BatchNorm2d (N, C, H, W); BatchNorm3d (N, C, D, H, W). */
function batchNorm(rank: 1 | 2 | 3): LayerType {
  const name = `BatchNorm${rank}d`;
  return defineLayer({
    name,
    framework: 'pytorch',
    category: 'normalization',
    doc: `Batch normalization over ${rank === 1 ? '(N, C) or (N, C, L)' : rank === 2 ? '(N, C, H, W)' : '(N, C, D, H, W)'} inputs (PyTorch): each channel is normalised with the batch's statistics while training and with its running mean and variance (buffers) at inference, then scaled and shifted.`,
    args: { num_features: int({ min: 1 }), eps: float({ min: 0, default: 1e-5 }), momentum: optional(float({ min: 0 }), 0.1), affine: bool(true), track_running_stats: bool(true) },
    extraArgs: FACTORY_ARGS,
    inputRank: rank === 1 ? { min: 1 } : rank + 1,
    inputWords: rank === 1 ? '[N, C] or [N, C, L]' : torchInputWords(rank),
    outputShape(input, a, ctx) {
      if (rank === 1 && input.length > 2) throw new ShapeError(`BatchNorm1d expects a 2-D or 3-D input, but got a ${input.length + 1}-D input ${inputText(ctx, input)}; use BatchNorm${input.length - 1}d`, undefined, [], 'input-rank', true);
      const c = input[0];
      if (c !== null && c !== a.num_features) {
        throw channelMismatch(name, 'num_features', a.num_features, c, inputText(ctx, input), `running_mean should contain ${c} elements not ${a.num_features}`);
      }
      return input;
    },
    weights: (_input, a) => normWeights(a.num_features, a.affine, a.track_running_stats),
    formula: (_input, a, total) => affineFormula(a.num_features, a.affine, total),
    macs: () => 0,
    receptiveField: () => ({ kind: 'identity' }),
    train: batchNormTrain(),
  });
}

/** InstanceNorm: per sample and channel; affine and running statistics off by default. */
function instanceNorm(rank: 1 | 2 | 3): LayerType {
  const name = `InstanceNorm${rank}d`;
  return defineLayer({
    name,
    framework: 'pytorch',
    category: 'normalization',
    doc: `Instance normalization (PyTorch): each channel of each sample is normalised over its own ${rank === 1 ? 'length' : rank === 2 ? 'height × width' : 'volume'}; \`affine=True\` adds a per-channel scale and shift.`,
    args: { num_features: int({ min: 1 }), eps: float({ min: 0, default: 1e-5 }), momentum: optional(float({ min: 0 })), affine: bool(false), track_running_stats: bool(false) },
    extraArgs: FACTORY_ARGS,
    inputRank: rank + 1,
    inputWords: torchInputWords(rank),
    outputShape(input, a, ctx) {
      const c = input[0];
      // Without weights or statistics PyTorch only warns about a channel count that differs.
      if (c !== null && c !== a.num_features && (a.affine || a.track_running_stats)) {
        throw channelMismatch(name, 'num_features', a.num_features, c, inputText(ctx, input), `expected input's size at dim=1 to match num_features (${a.num_features}), but got: ${c}.`);
      }
      return input;
    },
    weights: (_input, a) => normWeights(a.num_features, a.affine, a.track_running_stats),
    formula: (_input, a, total) => affineFormula(a.num_features, a.affine, total),
    macs: () => 0,
    receptiveField: () => ({ kind: 'identity' }),
    untrainable: NOT_TRAINABLE_YET,
  });
}

export const BatchNorm1d = batchNorm(1);
export const BatchNorm2d = batchNorm(2);
export const BatchNorm3d = batchNorm(3);
export const InstanceNorm1d = instanceNorm(1);
export const InstanceNorm2d = instanceNorm(2);
export const InstanceNorm3d = instanceNorm(3);

export const GroupNorm = defineLayer({
  name: 'GroupNorm',
  framework: 'pytorch',
  category: 'normalization',
  doc: 'Group normalization (PyTorch): the channels are split into `num_groups` groups, each normalised over its channels and positions, per sample.',
  args: { num_groups: int({ min: 1 }), num_channels: int({ min: 1 }), eps: float({ min: 0, default: 1e-5 }), affine: bool(true) },
  extraArgs: FACTORY_ARGS,
  inputRank: { min: 1 },
  inputWords: '[N, C, …]',
  outputShape(input, a, ctx) {
    if (a.num_channels % a.num_groups !== 0) throw new ShapeError(`GroupNorm: num_channels=${a.num_channels} must be divisible by num_groups=${a.num_groups} (PyTorch raises "num_channels must be divisible by num_groups")`, 'num_groups', [], 'groups');
    const c = input[0];
    if (c !== null && c !== a.num_channels) {
      throw channelMismatch('GroupNorm', 'num_channels', a.num_channels, c, inputText(ctx, input), `Expected number of channels in input to be divisible by num_groups, or the weight of size [${a.num_channels}] to match [${c}]`);
    }
    return input;
  },
  weights: (_input, a) => normWeights(a.num_channels, a.affine, false),
  formula: (_input, a, total) => affineFormula(a.num_channels, a.affine, total),
  macs: () => 0,
  receptiveField: () => ({ kind: 'identity' }),
  untrainable: NOT_TRAINABLE_YET,
});

export const LayerNorm = defineLayer({
  name: 'LayerNorm',
  framework: 'pytorch',
  category: 'normalization',
  doc: 'Layer normalization (PyTorch): each sample is normalised over its last axes (`normalized_shape`), then scaled and shifted element-wise.',
  args: { normalized_shape: intList({ min: 1 }), eps: float({ min: 0, default: 1e-5 }), elementwise_affine: bool(true), bias: bool(true) },
  extraArgs: FACTORY_ARGS,
  inputRank: { min: 1 },
  outputShape(input, a, ctx) {
    const n = a.normalized_shape;
    const tail = input.slice(-n.length);
    if (input.length < n.length || tail.some((d, i) => d !== null && d !== n[i])) {
      const fix = input.length >= n.length && tail.every((d) => d !== null) ? [{ kind: 'setArg' as const, arg: 'normalized_shape', code: n.length === 1 ? String(tail[0]) : `(${tail.join(', ')})`, title: `Set normalized_shape to ${n.length === 1 ? tail[0] : `(${tail.join(', ')})`}` }] : [];
      throw new ShapeError(`LayerNorm(normalized_shape=[${n.join(', ')}]) does not match the last axes of its input ${inputText(ctx, input)}; PyTorch raises "Given normalized_shape=[${n.join(', ')}], expected input with shape [*, ${n.join(', ')}]"`, 'normalized_shape', fix, 'normalized-shape', true);
    }
    return input;
  },
  weights: (_input, a) => (a.elementwise_affine ? [{ name: 'weight', shape: a.normalized_shape, trainable: true }, ...(a.bias ? [{ name: 'bias', shape: a.normalized_shape, trainable: true }] : [])] : []),
  formula: (_input, a, total) => (a.elementwise_affine ? `${a.bias ? 2 : 1} × ${a.normalized_shape.join('·')} = ${countText(total)}` : '0'),
  macs: () => 0,
  receptiveField: () => ({ kind: 'identity' }),
  untrainable: NOT_TRAINABLE_YET,
});

export const LocalResponseNorm = defineLayer({
  name: 'LocalResponseNorm',
  framework: 'pytorch',
  category: 'normalization',
  doc: 'Local response normalization (PyTorch, AlexNet-era): each value is divided by a power of the sum of squares of its `size` neighbouring channels.',
  args: { size: int({ min: 1 }), alpha: float({ default: 1e-4 }), beta: float({ default: 0.75 }), k: float({ default: 1 }) },
  inputRank: { min: 2 },
  outputShape: (input) => input,
  receptiveField: () => ({ kind: 'identity' }),
  untrainable: NOT_TRAINABLE_YET,
});

export const TORCH_NORMALIZATION: readonly LayerType[] = [BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, GroupNorm, LayerNorm, LocalResponseNorm];
