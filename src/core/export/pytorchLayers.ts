/**
 * Each Keras layer ConvLens trains, as PyTorch code that computes exactly what ConvLens' training
 * graph computes (the definitions in `core/layers/*.ts`, `core/onnx/grad.ts`): the module built in
 * `__init__`, the expression of the forward pass, and where each Keras weight goes in the
 * module's state with how its layout changes. A layer with no faithful PyTorch equivalent is
 * refused with the reason; the exporter says it at the layer's line.
 *
 * Tensors between layers are channels-first (N, C, spatial…), the layout ConvLens' graphs use
 * (`core/onnx/layout.ts`), so PyTorch's convolutions and pools apply directly; Keras' shapes and
 * axes are translated where a layer's meaning depends on them (Flatten, Reshape, Permute,
 * Concatenate's axis, Softmax's axis).
 */
import { mergeAligned } from '../layers/merge';
import { alphaDropoutAffine, noiseAxes } from '../layers/regularization';
import { normalizationAxes, normalizationConstants } from '../layers/preprocessing';
import type { NumericArray } from '../layers/args';
import { kerasPads, type KerasPadding } from '../onnx/grad';
import { kerasKernelToOnnxPerm, onnxAxis, onnxSampleShape, toKerasPerm, toOnnxPerm } from '../onnx/layout';
import type { Value } from '../parse/values';
import type { PlanLayer } from '../train/plan';
import { pyFloat, pySize, pyString, pyTuple } from './python';

/** Where one Keras weight goes in the layer's module, and how its layout changes on the way. */
export interface TorchWeight {
  /** The state_dict key below the layer's module: `weight`, `depthwise.weight`, `running_mean`. */
  key: string;
  /** Keras layout → PyTorch layout: first permute the Keras axes… */
  perm?: number[];
  /** …then reshape (a depthwise kernel (c, multiplier, k…) becomes (c·multiplier, 1, k…)). */
  reshape?: number[];
}

/** Helper classes the generated file defines when a layer needs one (see pytorchRuntime.ts). */
export type TorchHelper =
  | 'BatchNorm'
  | 'LayerNorm'
  | 'GroupNorm'
  | 'RMSNorm'
  | 'PReLU'
  | 'SeparableConv'
  | 'AvgPoolSame'
  | 'LocallyConnected'
  | 'GaussianNoise'
  | 'GaussianDropout'
  | 'SharedDropout'
  | 'AlphaDropout'
  | 'RandomFlip';

/** What an emitter sees of one layer call. */
export interface TorchLayerContext {
  layer: PlanLayer;
  /** Keras-layout per-sample shapes of the inputs and of the output. */
  inputs: readonly (readonly number[])[];
  output: readonly number[];
  /** Python expressions of the inputs (variables of `forward`). */
  xs: readonly string[];
  /** `self.<name>`: the layer's module (allocated on first use). */
  module(): string;
  /** `self.<name>_<suffix>`: a constant buffer of the layer (values in row-major order of `shape`). */
  buffer(suffix: string, shape: readonly number[], values: ArrayLike<number>): string;
  /** Marks a helper class as used; returns its name. */
  helper(name: TorchHelper): string;
}

/** One layer call as PyTorch code. */
export interface TorchCode {
  /** The module built in `__init__` (assigned to the context's `module()`). */
  module?: string;
  /** The forward expression of the output (before the layer's `activation=`). */
  call: string;
  /** A short comment for the forward line, where the code is not obvious. */
  comment?: string;
  /** Keras weight name (`kernel`) → where it goes. */
  weights?: Record<string, TorchWeight>;
}

/** A layer's PyTorch code, or why there is no faithful PyTorch equivalent. */
export type TorchEmitResult = TorchCode | { refuse: string };

type Emitter = (c: TorchLayerContext) => TorchEmitResult;

// ---------------------------------------------------------------------------------------------
// Shared pieces

const spatialOf = (shape: readonly number[]): number[] => shape.slice(0, -1);
const channelsOf = (shape: readonly number[]): number => shape[shape.length - 1];
const rankOf = (c: TorchLayerContext): number => c.inputs[0].length - 1;
const nd = (r: number): string => `${r}d`;

/** ONNX pads [begin…, end…] → F.pad's order (last axis first: (left, right, top, bottom, …)). */
export function torchPadOrder(pads: readonly number[]): number[] {
  const r = pads.length / 2;
  const out: number[] = [];
  for (let i = r - 1; i >= 0; i--) out.push(pads[i], pads[i + r]);
  return out;
}

/** How to apply Keras padding: in the module (symmetric), as F.pad before it (asymmetric), or not at all. */
function padPlan(pads: readonly number[]): { symmetric?: number[]; fpad?: number[] } {
  const r = pads.length / 2;
  if (pads.every((p) => p === 0)) return {};
  const begin = pads.slice(0, r);
  const end = pads.slice(r);
  if (begin.every((b, i) => b === end[i])) return { symmetric: begin };
  return { fpad: torchPadOrder(pads) };
}

const withPad = (x: string, fpad: number[] | undefined, value?: string): string =>
  fpad ? `F.pad(${x}, ${pyTuple(fpad)}${value ? `, value=${value}` : ''})` : x;

/** Keyword arguments, dropping the ones at their PyTorch default. */
function kwargs(parts: [string, string | undefined, string?][]): string {
  return parts
    .filter(([, v, dflt]) => v !== undefined && v !== dflt)
    .map(([k, v]) => `, ${k}=${v}`)
    .join('');
}

const kernelWeights = (rank: number, bias: boolean, prefix = ''): Record<string, TorchWeight> => ({
  kernel: { key: `${prefix}weight`, perm: kerasKernelToOnnxPerm(rank) },
  ...(bias ? { bias: { key: `${prefix}bias` } } : {}),
});

/** Permutation (k…, c, multiplier) → (c, multiplier, k…); then a reshape to (c·multiplier, 1, k…). */
const depthwisePerm = (r: number): number[] => [r, r + 1, ...Array.from({ length: r }, (_, i) => i)];

function refuseChannelsFirst(l: PlanLayer): { refuse: string } | undefined {
  return l.config.data_format === 'channels_first' ? { refuse: "data_format='channels_first' is not exported (ConvLens trains channels_last models)" } : undefined;
}

/** `x.permute(0, 2, 3, 1)` (torch layout → Keras layout), or x for vectors. */
function toKeras(x: string, keras: readonly number[]): string {
  return keras.length < 2 ? x : `${x}.permute${pyTuple(toKerasPerm(keras.length))}`;
}

function toTorch(x: string, keras: readonly number[]): string {
  return keras.length < 2 ? x : `${x}.permute${pyTuple(toOnnxPerm(keras.length))}`;
}

// ---------------------------------------------------------------------------------------------
// Convolutions

interface ConvArgs {
  filters: number;
  kernel_size: number[];
  strides: number[];
  padding: string;
  dilation_rate: number[];
  groups?: number;
  use_bias: boolean;
  depth_multiplier?: number;
  output_padding?: number[] | null;
}

const conv: Emitter = (c) => {
  const a = c.layer.config as unknown as ConvArgs;
  const r = rankOf(c);
  const spatial = spatialOf(c.inputs[0]);
  const pads = kerasPads(a.padding as KerasPadding, spatial, a.kernel_size, a.strides, a.dilation_rate);
  const p = padPlan(pads);
  const module =
    `nn.Conv${nd(r)}(${channelsOf(c.inputs[0])}, ${a.filters}, kernel_size=${pySize(a.kernel_size)}` +
    kwargs([
      ['stride', pySize(a.strides), '1'],
      ['padding', p.symmetric && pySize(p.symmetric)],
      ['dilation', pySize(a.dilation_rate), '1'],
      ['groups', String(a.groups ?? 1), '1'],
      ['bias', a.use_bias ? undefined : 'False'],
    ]) +
    ')';
  return {
    module,
    call: `${c.module()}(${withPad(c.xs[0], p.fpad)})`,
    comment: p.fpad ? (a.padding === 'causal' ? "padding='causal': zeros before the sequence only" : `padding='same' pads ${describePads(pads)} here, as Keras does`) : undefined,
    weights: kernelWeights(r, a.use_bias),
  };
};

function describePads(pads: readonly number[]): string {
  const r = pads.length / 2;
  const names = r === 1 ? ['start/end'] : r === 2 ? ['top/bottom', 'left/right'] : ['front/back', 'top/bottom', 'left/right'];
  return names.map((n, i) => `${pads[i]}/${pads[i + r]} ${n}`).join(', ');
}

const convTranspose: Emitter = (c) => {
  const a = c.layer.config as unknown as ConvArgs;
  const r = rankOf(c);
  const inSpatial = spatialOf(c.inputs[0]);
  const outSpatial = spatialOf(c.output);
  // Keras' TensorFlow backend: the transposed convolution inverts a convolution of the output with these pads.
  const pads = kerasPads(a.padding as KerasPadding, outSpatial, a.kernel_size, a.strides, a.dilation_rate);
  const full = inSpatial.map((n, i) => (n - 1) * a.strides[i] + (a.kernel_size[i] - 1) * a.dilation_rate[i] + 1);
  const begin = pads.slice(0, r);
  const end = pads.slice(r);
  const extra = outSpatial.map((o, i) => o - (full[i] - begin[i] - end[i]));
  const limit = a.strides.map((s, i) => Math.max(s, a.dilation_rate[i]));
  const common = `nn.ConvTranspose${nd(r)}(${channelsOf(c.inputs[0])}, ${a.filters}, kernel_size=${pySize(a.kernel_size)}`;
  const tail = (padding: number[] | undefined, outputPadding: number[]) =>
    kwargs([
      ['stride', pySize(a.strides), '1'],
      ['padding', padding && pySize(padding), '0'],
      ['output_padding', pySize(outputPadding), '0'],
      ['dilation', pySize(a.dilation_rate), '1'],
      ['bias', a.use_bias ? undefined : 'False'],
    ]) + ')';
  if (begin.every((b, i) => b === end[i]) && extra.every((e, i) => e >= 0 && e < limit[i])) {
    return { module: common + tail(begin, extra), call: `${c.module()}(${c.xs[0]})`, weights: kernelWeights(r, a.use_bias) };
  }
  // Asymmetric: the whole transposed convolution (grown at the end where Keras' output is longer), then Keras' window of it.
  const grow = outSpatial.map((o, i) => Math.max(0, begin[i] + o - full[i]));
  if (grow.some((g, i) => g >= limit[i])) return { refuse: `its ${outSpatial.join('×')} output cannot be cut from PyTorch's transposed convolution (output_padding would be ${grow.join('×')})` };
  const window = outSpatial.map((o, i) => `${begin[i]}:${begin[i] + o}`).join(', ');
  return {
    module: common + tail(undefined, grow),
    call: `${c.module()}(${c.xs[0]})[:, :, ${window}]`,
    comment: `Keras' padding='${a.padding}' keeps this window of the full transposed convolution`,
    weights: kernelWeights(r, a.use_bias),
  };
};

const depthwise: Emitter = (c) => {
  const a = c.layer.config as unknown as ConvArgs;
  const r = rankOf(c);
  const ch = channelsOf(c.inputs[0]);
  const dm = a.depth_multiplier ?? 1;
  const pads = kerasPads(a.padding as KerasPadding, spatialOf(c.inputs[0]), a.kernel_size, a.strides, a.dilation_rate);
  const p = padPlan(pads);
  const module =
    `nn.Conv${nd(r)}(${ch}, ${ch * dm}, kernel_size=${pySize(a.kernel_size)}` +
    kwargs([
      ['stride', pySize(a.strides), '1'],
      ['padding', p.symmetric && pySize(p.symmetric)],
      ['dilation', pySize(a.dilation_rate), '1'],
      ['groups', String(ch)],
      ['bias', a.use_bias ? undefined : 'False'],
    ]) +
    ')';
  return {
    module,
    call: `${c.module()}(${withPad(c.xs[0], p.fpad)})`,
    comment: p.fpad ? `padding='same' pads ${describePads(pads)} here, as Keras does` : undefined,
    weights: {
      depthwise_kernel: { key: 'weight', perm: depthwisePerm(r), reshape: [ch * dm, 1, ...a.kernel_size] },
      ...(a.use_bias ? { bias: { key: 'bias' } } : {}),
    },
  };
};

const separable: Emitter = (c) => {
  const a = c.layer.config as unknown as ConvArgs;
  const r = rankOf(c);
  const ch = channelsOf(c.inputs[0]);
  const dm = a.depth_multiplier ?? 1;
  const pads = kerasPads(a.padding as KerasPadding, spatialOf(c.inputs[0]), a.kernel_size, a.strides, a.dilation_rate);
  const p = padPlan(pads);
  const depthwiseConv =
    `nn.Conv${nd(r)}(${ch}, ${ch * dm}, kernel_size=${pySize(a.kernel_size)}` +
    kwargs([
      ['stride', pySize(a.strides), '1'],
      ['padding', p.symmetric && pySize(p.symmetric)],
      ['dilation', pySize(a.dilation_rate), '1'],
      ['groups', String(ch)],
      ['bias', 'False'],
    ]) +
    ')';
  const pointwiseConv = `nn.Conv${nd(r)}(${ch * dm}, ${a.filters}, kernel_size=1${a.use_bias ? '' : ', bias=False'})`;
  return {
    module: `${c.helper('SeparableConv')}(\n    ${depthwiseConv},\n    ${pointwiseConv},\n)`,
    call: `${c.module()}(${withPad(c.xs[0], p.fpad)})`,
    comment: p.fpad ? `padding='same' pads ${describePads(pads)} here, as Keras does` : undefined,
    weights: {
      depthwise_kernel: { key: 'depthwise.weight', perm: depthwisePerm(r), reshape: [ch * dm, 1, ...a.kernel_size] },
      pointwise_kernel: { key: 'pointwise.weight', perm: kerasKernelToOnnxPerm(r) },
      ...(a.use_bias ? { bias: { key: 'pointwise.bias' } } : {}),
    },
  };
};

const locallyConnected: Emitter = (c) => {
  const a = c.layer.config as unknown as ConvArgs & { implementation: number };
  if (a.implementation !== 1 || a.padding !== 'valid') return { refuse: `implementation=${a.implementation}, padding='${a.padding}' is not exported (ConvLens trains implementation=1, 'valid')` };
  return {
    module: `${c.helper('LocallyConnected')}(${pyTuple(spatialOf(c.inputs[0]))}, ${channelsOf(c.inputs[0])}, ${pyTuple(spatialOf(c.output))}, ${a.filters}, ${pyTuple(a.kernel_size)}, ${pyTuple(a.strides)}${a.use_bias ? '' : ', bias=False'})`,
    call: `${c.module()}(${c.xs[0]})`,
    // Keras' layouts are kept: kernel (positions, kernel·channels, filters), bias (…output, filters).
    weights: { kernel: { key: 'kernel' }, ...(a.use_bias ? { bias: { key: 'bias' } } : {}) },
  };
};

// ---------------------------------------------------------------------------------------------
// Pooling

const pool =
  (kind: 'Max' | 'Avg'): Emitter =>
  (c) => {
    const a = c.layer.config as { pool_size: number[]; strides: number[] | null; padding: string };
    const r = rankOf(c);
    const strides = a.strides ?? a.pool_size;
    const pads = kerasPads(a.padding as KerasPadding, spatialOf(c.inputs[0]), a.pool_size, strides);
    const p = padPlan(pads);
    const stride = strides.join() === a.pool_size.join() ? undefined : pySize(strides);
    if (kind === 'Max') {
      return {
        module: `nn.MaxPool${nd(r)}(${pySize(a.pool_size)}${kwargs([['stride', stride], ['padding', p.symmetric && pySize(p.symmetric)]])})`,
        call: `${c.module()}(${withPad(c.xs[0], p.fpad, '-math.inf')})`,
        comment: p.fpad ? `padding='same': Keras pads ${describePads(pads)} (never the maximum)` : undefined,
      };
    }
    if (p.fpad) {
      // Keras divides by the number of real values under each window; with uneven padding that needs the counts.
      return {
        module: `${c.helper('AvgPoolSame')}(${pyTuple(a.pool_size)}, ${pyTuple(strides)}, ${pyTuple(p.fpad)}, ${pyTuple(spatialOf(c.inputs[0]))})`,
        call: `${c.module()}(${c.xs[0]})`,
      };
    }
    return {
      module: `nn.AvgPool${nd(r)}(${pySize(a.pool_size)}${kwargs([['stride', stride], ['padding', p.symmetric && pySize(p.symmetric)], ['count_include_pad', p.symmetric ? 'False' : undefined]])})`,
      call: `${c.module()}(${c.xs[0]})`,
    };
  };

const globalPool =
  (kind: 'max' | 'mean'): Emitter =>
  (c) => {
    const a = c.layer.config as { keepdims: boolean };
    const dims = spatialOf(c.inputs[0]).map((_, i) => i + 2);
    const fn = kind === 'max' ? 'amax' : 'mean';
    return { call: `${c.xs[0]}.${fn}(dim=${dims.length === 1 ? dims[0] : pyTuple(dims)}${a.keepdims ? ', keepdim=True' : ''})` };
  };

const adaptivePool =
  (kind: 'Max' | 'Avg'): Emitter =>
  (c) => {
    const a = c.layer.config as { output_size: number[] };
    return { module: `nn.Adaptive${kind}Pool${nd(rankOf(c))}(${pySize(a.output_size)})`, call: `${c.module()}(${c.xs[0]})` };
  };

// ---------------------------------------------------------------------------------------------
// Core, normalization, activations

const dense: Emitter = (c) => {
  const a = c.layer.config as { units: number; use_bias: boolean };
  const input = c.inputs[0];
  // On (…, features), nn.Linear acts on the last dim: the channels-first tensor moves its channels there and back.
  const call = input.length === 1 ? `${c.module()}(${c.xs[0]})` : `${c.module()}(${c.xs[0]}.movedim(1, -1)).movedim(-1, 1)`;
  return {
    module: `nn.Linear(${input[input.length - 1]}, ${a.units}${a.use_bias ? '' : ', bias=False'})`,
    call,
    weights: { kernel: { key: 'weight', perm: [1, 0] }, ...(a.use_bias ? { bias: { key: 'bias' } } : {}) },
  };
};

/** The channel axis (Keras axis=-1) is dim 1 in PyTorch's layout; other axes are not trained by ConvLens. */
function channelAxisOnly(c: TorchLayerContext, axis: number): { refuse: string } | undefined {
  const r = c.inputs[0].length;
  const i = axis < 0 ? r + axis : axis - 1;
  return onnxAxis(i, r) === 1 ? undefined : { refuse: `axis=${axis} is not exported (ConvLens trains the channel axis, axis=-1)` };
}

const batchNorm: Emitter = (c) => {
  const a = c.layer.config as { axis: number; momentum: number; epsilon: number; center: boolean; scale: boolean };
  const bad = channelAxisOnly(c, a.axis);
  if (bad) return bad;
  return {
    module: `${c.helper('BatchNorm')}(${channelsOf(c.inputs[0])}, eps=${pyFloat(a.epsilon)}, momentum=${pyFloat(Number((1 - a.momentum).toPrecision(12)))}${a.scale ? '' : ', scale=False'}${a.center ? '' : ', center=False'})`,
    call: `${c.module()}(${c.xs[0]})`,
    weights: {
      ...(a.scale ? { gamma: { key: 'weight' } } : {}),
      ...(a.center ? { beta: { key: 'bias' } } : {}),
      moving_mean: { key: 'running_mean' },
      moving_variance: { key: 'running_var' },
    },
  };
};

const layerNorm: Emitter = (c) => {
  const a = c.layer.config as { axis: number; epsilon: number; center: boolean; scale: boolean };
  const bad = channelAxisOnly(c, a.axis);
  if (bad) return bad;
  return {
    module: `${c.helper('LayerNorm')}(${channelsOf(c.inputs[0])}, eps=${pyFloat(a.epsilon)}${a.scale ? '' : ', scale=False'}${a.center ? '' : ', center=False'})`,
    call: `${c.module()}(${c.xs[0]})`,
    weights: { ...(a.scale ? { gamma: { key: 'weight' } } : {}), ...(a.center ? { beta: { key: 'bias' } } : {}) },
  };
};

const groupNorm: Emitter = (c) => {
  const a = c.layer.config as { groups: number; axis: number; epsilon: number; center: boolean; scale: boolean };
  const bad = channelAxisOnly(c, a.axis);
  if (bad) return bad;
  const ch = channelsOf(c.inputs[0]);
  const groups = a.groups === -1 ? ch : a.groups;
  const weights = { ...(a.scale ? { gamma: { key: 'weight' } } : {}), ...(a.center ? { beta: { key: 'bias' } } : {}) };
  // nn.GroupNorm groups consecutive channels and uses the biased variance, as Keras does.
  if (a.scale && a.center) return { module: `nn.GroupNorm(${groups}, ${ch}, eps=${pyFloat(a.epsilon)})`, call: `${c.module()}(${c.xs[0]})`, weights };
  return {
    module: `${c.helper('GroupNorm')}(${groups}, ${ch}, eps=${pyFloat(a.epsilon)}${a.scale ? '' : ', scale=False'}${a.center ? '' : ', center=False'})`,
    call: `${c.module()}(${c.xs[0]})`,
    weights,
  };
};

const rmsNorm: Emitter = (c) => {
  const a = c.layer.config as { axis: number[]; epsilon: number };
  if (a.axis.length !== 1) return { refuse: 'RMSNormalization over several axes is not exported' };
  const bad = channelAxisOnly(c, a.axis[0]);
  if (bad) return bad;
  return { module: `${c.helper('RMSNorm')}(${channelsOf(c.inputs[0])}, eps=${pyFloat(a.epsilon)})`, call: `${c.module()}(${c.xs[0]})`, weights: { scale: { key: 'scale' } } };
};

const unitNorm: Emitter = (c) => {
  const a = c.layer.config as { axis: number[] };
  const r = c.inputs[0].length;
  const dims = a.axis.map((ax) => onnxAxis((ax < 0 ? r + 1 + ax : ax) - 1, r)).sort((p, q) => p - q);
  const d = dims.length === 1 ? String(dims[0]) : pyTuple(dims);
  return {
    call: `${c.xs[0]} * torch.rsqrt(torch.clamp((${c.xs[0]} * ${c.xs[0]}).sum(dim=${d}, keepdim=True), min=1e-24))`,
    comment: "Keras' normalize: the squared norm clamped at (1e-12)²",
  };
};

/** A Keras activation name as a Python expression of `x`; softmax over the channel axis (dim 1). */
export function activationCode(name: string | null | undefined, x: string): string | undefined {
  switch (name) {
    case null:
    case undefined:
    case 'linear':
      return x;
    case 'relu':
      return `F.relu(${x})`;
    case 'relu6':
      return `F.relu6(${x})`;
    case 'sigmoid':
      return `torch.sigmoid(${x})`;
    case 'tanh':
      return `torch.tanh(${x})`;
    case 'softmax':
      return `torch.softmax(${x}, dim=1)`;
    case 'elu':
      return `F.elu(${x})`;
    case 'selu':
      return `F.selu(${x})`;
    case 'softplus':
      return `F.softplus(${x})`;
    case 'leaky_relu':
      // keras.activations.leaky_relu's default slope (the LeakyReLU layer's is 0.3).
      return `F.leaky_relu(${x}, 0.2)`;
    case 'silu':
    case 'swish':
      return `F.silu(${x})`;
    case 'gelu':
      // keras.activations.gelu's default: the exact erf form (approximate=False).
      return `F.gelu(${x})`;
    case 'hard_sigmoid':
      return `F.hardsigmoid(${x})`;
    case 'hard_silu':
    case 'hard_swish':
      return `F.hardswish(${x})`;
    case 'mish':
      return `F.mish(${x})`;
    default:
      return undefined;
  }
}

const relu: Emitter = (c) => {
  const a = c.layer.config as { max_value: number | null; negative_slope: number; threshold: number };
  const x = c.xs[0];
  if (a.threshold === 0 && a.negative_slope === 0) {
    if (a.max_value === null) return { call: `F.relu(${x})` };
    if (a.max_value === 6) return { call: `F.relu6(${x})` };
    return { call: `torch.clamp(${x}, 0.0, ${pyFloat(a.max_value)})` };
  }
  const thr = pyFloat(a.threshold);
  const below = a.negative_slope === 0 ? 'torch.zeros_like(' + x + ')' : `${pyFloat(a.negative_slope)} * (${x} - ${thr})`;
  let y = `torch.where(${x} >= ${thr}, ${x}, ${below})`;
  if (a.max_value !== null) y = `${y}.masked_fill(${x} >= ${pyFloat(a.max_value)}, ${pyFloat(a.max_value)})`;
  return { call: y, comment: `Keras' ReLU(max_value=${a.max_value ?? 'None'}, negative_slope=${a.negative_slope}, threshold=${a.threshold})` };
};

const softmax: Emitter = (c) => {
  const a = c.layer.config as { axis: number };
  const r = c.inputs[0].length;
  const i = a.axis < 0 ? r + a.axis : a.axis - 1;
  return { call: `torch.softmax(${c.xs[0]}, dim=${onnxAxis(i, r)})` };
};

const prelu: Emitter = (c) => {
  const input = c.inputs[0];
  const shared = c.layer.config.shared_axes as { k: string; v?: number; items?: { k: string; v?: number }[] } | undefined;
  const axes = shared?.k === 'seq' ? (shared.items ?? []) : shared?.k === 'num' ? [shared] : [];
  const keras = [...input];
  for (const ax of axes) if (ax.k === 'num' && ax.v! >= 1 && ax.v! <= keras.length) keras[ax.v! - 1] = 1;
  const r = keras.length;
  return {
    module: `${c.helper('PReLU')}(${pyTuple(onnxSampleShape(keras))})`,
    call: `${c.module()}(${c.xs[0]})`,
    weights: { alpha: r >= 2 ? { key: 'alpha', perm: [r - 1, ...Array.from({ length: r - 1 }, (_, i) => i)] } : { key: 'alpha' } },
  };
};

// ---------------------------------------------------------------------------------------------
// Regularization

const dropout: Emitter = (c) => {
  const a = c.layer.config as { rate: number; noise_shape?: Value };
  if (a.rate === 0) return { call: c.xs[0] };
  // noise_shape: the axes that share a draw (the trainer's reading, Keras layout with the batch
  // first), as channels-first dims.
  const axes = noiseAxes(a.noise_shape, c.inputs[0]) ?? [];
  if (axes.length > 0) {
    const r = c.inputs[0].length;
    const shared = axes.filter((k) => k > 0).map((k) => onnxAxis(k - 1, r));
    const batch = axes.includes(0);
    return { module: `${c.helper('SharedDropout')}(${pyFloat(a.rate)}, ${pyTuple(shared)}${batch ? ', batch=True' : ''})`, call: `${c.module()}(${c.xs[0]})` };
  }
  return { module: `nn.Dropout(${pyFloat(a.rate)})`, call: `${c.module()}(${c.xs[0]})` };
};

const spatialDropout =
  (rank: 1 | 2 | 3): Emitter =>
  (c) => {
    const a = c.layer.config as { rate: number };
    if (a.rate === 0) return { call: c.xs[0] };
    // Zeroes whole channels, one draw per sample and channel, and scales the rest by 1/(1 − rate), as Keras.
    return { module: `nn.Dropout${rank}d(${pyFloat(a.rate)})`, call: `${c.module()}(${c.xs[0]})` };
  };

const gaussianNoise: Emitter = (c) => ({ module: `${c.helper('GaussianNoise')}(${pyFloat((c.layer.config as { stddev: number }).stddev)})`, call: `${c.module()}(${c.xs[0]})` });
const gaussianDropout: Emitter = (c) => ({ module: `${c.helper('GaussianDropout')}(${pyFloat((c.layer.config as { rate: number }).rate)})`, call: `${c.module()}(${c.xs[0]})` });
const alphaDropout: Emitter = (c) => {
  const rate = (c.layer.config as { rate: number }).rate;
  const { a, b, alphaP } = alphaDropoutAffine(rate);
  return { module: `${c.helper('AlphaDropout')}(${pyFloat(rate)}, a=${pyFloat(a)}, b=${pyFloat(b)}, alpha_p=${pyFloat(alphaP)})`, call: `${c.module()}(${c.xs[0]})` };
};

// ---------------------------------------------------------------------------------------------
// Reshaping

const flatten: Emitter = (c) => {
  const input = c.inputs[0];
  if (input.length < 2) return { call: c.xs[0] };
  const axes = input.length === 2 ? 'steps, channels' : input.length === 3 ? 'height, width, channels' : 'depth, height, width, channels';
  return { call: `torch.flatten(${toKeras(c.xs[0], input)}, 1)`, comment: `Keras flattens in (${axes}) order: the Dense weights after it keep their layout` };
};

const reshape: Emitter = (c) => {
  const input = c.inputs[0];
  const out = c.output;
  const y = `${toKeras(c.xs[0], input)}.reshape(-1, ${out.join(', ')})`;
  return { call: toTorch(y, out), comment: input.length >= 2 || out.length >= 2 ? 'Keras reshapes channels_last data' : undefined };
};

/** The composition `x.permute(p).permute(q)` as one permutation. */
const compose = (p: readonly number[], q: readonly number[]): number[] => q.map((i) => p[i]);

const permute: Emitter = (c) => {
  const input = c.inputs[0];
  const dims = (c.layer.config as { dims: number[] }).dims;
  let perm = Array.from({ length: input.length + 1 }, (_, i) => i);
  if (input.length >= 2) perm = compose(perm, toKerasPerm(input.length));
  perm = compose(perm, [0, ...dims]);
  if (c.output.length >= 2) perm = compose(perm, toOnnxPerm(c.output.length));
  return { call: `${c.xs[0]}.permute${pyTuple(perm)}`, comment: `Keras' Permute(${pyTuple(dims)}) on channels_last data` };
};

const repeatVector: Emitter = (c) => ({ call: `${c.xs[0]}.unsqueeze(2).expand(-1, -1, ${(c.layer.config as { n: number }).n})`, comment: "Keras' (n, features) is (features, n) channels-first" });

const zeroPadding: Emitter = (c) => {
  const pads = (c.layer.config as { padding: [number, number][] }).padding;
  return { call: `F.pad(${c.xs[0]}, ${pyTuple(torchPadOrder([...pads.map((p) => p[0]), ...pads.map((p) => p[1])]))})` };
};

function cropSlice(x: string, spatial: readonly number[], begin: readonly number[], end: readonly number[]): string {
  return `${x}[:, :, ${spatial.map((n, i) => `${begin[i]}:${n - end[i]}`).join(', ')}]`;
}

const cropping: Emitter = (c) => {
  const crops = (c.layer.config as { cropping: [number, number][] }).cropping;
  return { call: cropSlice(c.xs[0], spatialOf(c.inputs[0]), crops.map((p) => p[0]), crops.map((p) => p[1])) };
};

const upSampling: Emitter = (c) => {
  const a = c.layer.config as { size: number[]; interpolation?: string };
  if (a.interpolation && a.interpolation !== 'nearest') return { refuse: `interpolation='${a.interpolation}' is not exported (ConvLens trains 'nearest')` };
  let y = c.xs[0];
  a.size.forEach((s, i) => {
    if (s !== 1) y = `${y}.repeat_interleave(${s}, dim=${i + 2})`;
  });
  return { call: y };
};

// ---------------------------------------------------------------------------------------------
// Preprocessing

/** A constant per channel, shaped to broadcast over (N, C, …); a plain number when it is one. */
function channelConstant(c: TorchLayerContext, suffix: string, v: number | number[]): string {
  if (!Array.isArray(v)) return pyFloat(v);
  if (v.length === 1) return pyFloat(v[0]);
  const r = c.inputs[0].length;
  return c.buffer(suffix, r < 2 ? [v.length] : [v.length, ...Array(r - 1).fill(1)], v);
}

const rescaling: Emitter = (c) => {
  const a = c.layer.config as { scale: number | number[]; offset: number | number[] };
  const scale = channelConstant(c, 'scale', a.scale);
  const offsetZero = Array.isArray(a.offset) ? a.offset.every((o) => o === 0) : a.offset === 0;
  return { call: offsetZero ? `${c.xs[0]} * ${scale}` : `${c.xs[0]} * ${scale} + ${channelConstant(c, 'offset', a.offset)}` };
};

const normalization: Emitter = (c) => {
  const a = c.layer.config as { axis: number[]; mean: NumericArray | null; variance: NumericArray | null; invert: boolean };
  if (!a.mean?.values || !a.variance?.values) return { refuse: 'its mean and variance come from adapt(), which ConvLens does not run' };
  const k = normalizationConstants({ input: c.inputs[0] }, normalizationAxes(c.inputs[0], a.axis), a.mean, a.variance, a.invert);
  const dims = k.dims.slice(1);
  return {
    call: `${c.xs[0]} * ${c.buffer('scale', dims, k.scale)} + ${c.buffer('shift', dims, k.shift)}`,
    comment: a.invert ? 'Keras: x·max(√variance, 1e-7) + mean' : 'Keras: (x − mean) / max(√variance, 1e-7)',
  };
};

const centerCrop: Emitter = (c) => {
  const a = c.layer.config as { height: number; width: number };
  const [h, w] = c.inputs[0];
  if (h < a.height || w < a.width) return { refuse: 'CenterCrop on a smaller input resizes it, which is not exported' };
  const top = Math.floor((h - a.height) / 2);
  const left = Math.floor((w - a.width) / 2);
  return { call: cropSlice(c.xs[0], [h, w], [top, left], [h - a.height - top, w - a.width - left]) };
};

const randomFlip: Emitter = (c) => ({ module: `${c.helper('RandomFlip')}(${pyString((c.layer.config as { mode: string }).mode)})`, call: `${c.module()}(${c.xs[0]})` });

const identity: Emitter = (c) => ({ call: c.xs[0] });

// ---------------------------------------------------------------------------------------------
// Merges and operations on tensors

const joined = (xs: readonly string[], op: string): string => xs.join(` ${op} `);

const concatenate: Emitter = (c) => {
  const axis = (c.layer.config as { axis: number }).axis;
  const r = c.inputs[0].length;
  const i = axis < 0 ? r + axis : axis - 1;
  return { call: `torch.cat([${c.xs.join(', ')}], dim=${onnxAxis(i, r)})` };
};

/**
 * A merge's inputs as PyTorch broadcasts them like Keras does: a lower-rank input expanded after
 * the batch (Keras' expand_dims(x, axis=1)) and laid out channels-first, `(N, C)` → `(N, C, 1, 1)`.
 */
function mergeInputs(c: TorchLayerContext): string[] {
  const rank = c.output.length;
  return c.xs.map((x, i) => {
    const s = c.inputs[i];
    return s.length === rank ? x : `${x}.reshape(-1, ${onnxSampleShape(mergeAligned(s, rank)).join(', ')})`;
  });
}

const extreme =
  (fn: 'maximum' | 'minimum'): Emitter =>
  (c) => {
    const xs = mergeInputs(c);
    return { call: xs.slice(1).reduce((acc, x) => `torch.${fn}(${acc}, ${x})`, xs[0]) };
  };

const scalarOp: Emitter = (c) => {
  const a = c.layer.config as { op: string; scalar: number; reversed: boolean };
  const s = pyFloat(a.scalar);
  return { call: a.reversed ? `${s} ${a.op} ${c.xs[0]}` : `${c.xs[0]} ${a.op} ${s}` };
};

const UNARY: Record<string, (x: string) => string> = {
  exp: (x) => `torch.exp(${x})`,
  log: (x) => `torch.log(${x})`,
  sqrt: (x) => `torch.sqrt(${x})`,
  square: (x) => `${x} * ${x}`,
  abs: (x) => `torch.abs(${x})`,
  negative: (x) => `-${x}`,
  stop_gradient: (x) => `${x}.detach()`,
  cast: (x) => x,
};

const unaryOp: Emitter = (c) => {
  const fn = (c.layer.config as { fn: string }).fn;
  const f = UNARY[fn];
  return f ? { call: f(c.xs[0]) } : { refuse: `${fn}() of a tensor is not exported` };
};

const augmentation = (what: string): Emitter => () => ({
  refuse: `PyTorch has no faithful equivalent of Keras' random ${what} (ConvLens passes images through it unchanged while training); remove the layer to export the model, or augment the data in the script`,
});

/** Every layer the exporter knows, by ConvLens' canonical class name. */
export const TORCH_LAYERS: Readonly<Record<string, Emitter>> = {
  Conv1D: conv, Conv2D: conv, Conv3D: conv,
  Conv1DTranspose: convTranspose, Conv2DTranspose: convTranspose, Conv3DTranspose: convTranspose,
  DepthwiseConv1D: depthwise, DepthwiseConv2D: depthwise,
  SeparableConv1D: separable, SeparableConv2D: separable,
  LocallyConnected1D: locallyConnected, LocallyConnected2D: locallyConnected,
  MaxPooling1D: pool('Max'), MaxPooling2D: pool('Max'), MaxPooling3D: pool('Max'),
  AveragePooling1D: pool('Avg'), AveragePooling2D: pool('Avg'), AveragePooling3D: pool('Avg'),
  GlobalMaxPooling1D: globalPool('max'), GlobalMaxPooling2D: globalPool('max'), GlobalMaxPooling3D: globalPool('max'),
  GlobalAveragePooling1D: globalPool('mean'), GlobalAveragePooling2D: globalPool('mean'), GlobalAveragePooling3D: globalPool('mean'),
  AdaptiveMaxPooling1D: adaptivePool('Max'), AdaptiveMaxPooling2D: adaptivePool('Max'), AdaptiveMaxPooling3D: adaptivePool('Max'),
  AdaptiveAveragePooling1D: adaptivePool('Avg'), AdaptiveAveragePooling2D: adaptivePool('Avg'), AdaptiveAveragePooling3D: adaptivePool('Avg'),
  Dense: dense,
  Identity: identity,
  BatchNormalization: batchNorm, LayerNormalization: layerNorm, GroupNormalization: groupNorm, UnitNormalization: unitNorm, RMSNormalization: rmsNorm,
  Activation: identity,
  ReLU: relu,
  LeakyReLU: (c) => ({ call: `F.leaky_relu(${c.xs[0]}, ${pyFloat((c.layer.config as { negative_slope: number }).negative_slope)})` }),
  ELU: (c) => ({ call: `F.elu(${c.xs[0]}, ${pyFloat((c.layer.config as { alpha: number }).alpha)})` }),
  Softmax: softmax,
  PReLU: prelu,
  ThresholdedReLU: (c) => ({ call: `${c.xs[0]} * (${c.xs[0]} > ${pyFloat((c.layer.config as { theta: number }).theta)}).to(${c.xs[0]}.dtype)` }),
  Dropout: dropout, SpatialDropout1D: spatialDropout(1), SpatialDropout2D: spatialDropout(2), SpatialDropout3D: spatialDropout(3),
  GaussianNoise: gaussianNoise, GaussianDropout: gaussianDropout, AlphaDropout: alphaDropout,
  ActivityRegularization: identity,
  Flatten: flatten, Reshape: reshape, Permute: permute, RepeatVector: repeatVector,
  ZeroPadding1D: zeroPadding, ZeroPadding2D: zeroPadding, ZeroPadding3D: zeroPadding,
  Cropping1D: cropping, Cropping2D: cropping, Cropping3D: cropping,
  UpSampling1D: upSampling, UpSampling2D: upSampling, UpSampling3D: upSampling,
  Rescaling: rescaling, Normalization: normalization, CenterCrop: centerCrop,
  RandomFlip: randomFlip,
  RandomRotation: augmentation('rotations'), RandomZoom: augmentation('zooms'), RandomTranslation: augmentation('translations'),
  RandomContrast: augmentation('contrast changes'), RandomBrightness: augmentation('brightness changes'), RandomHeight: augmentation('height changes'),
  RandomWidth: augmentation('width changes'), RandomGrayscale: augmentation('grayscale conversions'), RandomHue: augmentation('hue shifts'),
  RandomSaturation: augmentation('saturation changes'), RandomSharpness: augmentation('sharpness changes'), RandomShear: augmentation('shears'),
  RandomColorJitter: augmentation('colour jitter'), RandomInvert: augmentation('inversions'), RandomPosterization: augmentation('posterization'),
  RandomErasing: augmentation('erasing'), RandomGaussianBlur: augmentation('blurs'), RandomPerspective: augmentation('perspective warps'),
  RandomColorDegeneration: augmentation('colour degeneration'), RandomElasticTransform: augmentation('elastic deformations'),
  Add: (c) => ({ call: joined(mergeInputs(c), '+') }),
  Subtract: (c) => ({ call: joined(mergeInputs(c), '-') }),
  Multiply: (c) => ({ call: joined(mergeInputs(c), '*') }),
  Average: (c) => ({ call: `(${joined(mergeInputs(c), '+')}) / ${c.xs.length}` }),
  Maximum: extreme('maximum'),
  Minimum: extreme('minimum'),
  Concatenate: concatenate,
  Dot: (c) => ({ call: `(${c.xs[0]} * ${c.xs[1]}).sum(dim=1, keepdim=True)` }),
  ScalarOp: scalarOp,
  UnaryOp: unaryOp,
};

/** The PyTorch code of one layer call, or why it is not exported. */
export function emitTorchLayer(c: TorchLayerContext): TorchEmitResult {
  const emit = TORCH_LAYERS[c.layer.className];
  if (!emit) return { refuse: `ConvLens has no PyTorch equivalent of ${c.layer.className} yet` };
  return refuseChannelsFirst(c.layer) ?? emit(c);
}

