/**
 * Training emitters shared by PyTorch's layer definitions. Tensors between layers are in ONNX
 * layout, which is PyTorch's own (N, C, spatial…), and PyTorch's weights are already in ONNX's
 * layout (a convolution's `weight` (out, in / groups, k…), Linear's (out, in)): nothing is
 * transposed. The shapes the emitters see are PyTorch's per-sample shapes (C, H, W).
 */
import { activationBackward, activationForward, type ActivationSpec } from '../../onnx/activations';
import {
  avgPoolBackward,
  avgPoolForward,
  batchNormBackward,
  batchNormInference,
  batchNormTrainForward,
  convBackward,
  convForward,
  dropoutBackward,
  dropoutForward,
  maxPoolBackward,
  maxPoolForward,
  type ConvSpec,
  type PoolSpec,
} from '../../onnx/grad';
import type { ArgSpecs, ArgValues } from '../args';
import type { LayerTrain, MergeTrain, MergeTrainLayer, TrainLayer } from '../define';

/** ONNX pads `[begin…, end…]` of PyTorch's `padding`: symmetric ints, or 'same' (the odd pixel at the end, as PyTorch pads). */
export function torchPads(padding: readonly number[] | 'same' | 'valid', kernel: readonly number[], dilation: readonly number[]): number[] {
  if (padding === 'valid') return [...kernel.map(() => 0), ...kernel.map(() => 0)];
  if (padding === 'same') {
    const total = kernel.map((k, i) => (k - 1) * dilation[i]);
    return [...total.map((t) => t >> 1), ...total.map((t) => t - (t >> 1))];
  }
  return [...padding, ...padding];
}

interface ConvArgs {
  in_channels: number;
  out_channels: number;
  kernel_size: number[];
  stride: number[];
  padding: number[] | 'same' | 'valid';
  dilation: number[];
  groups: number;
  bias: boolean;
  padding_mode: string;
}

const convSpec = (l: TrainLayer, a: ConvArgs): ConvSpec => ({
  inChannels: a.in_channels,
  outChannels: a.out_channels,
  kernel: a.kernel_size,
  inputSpatial: l.input.slice(1),
  strides: a.stride,
  dilations: a.dilation,
  pads: torchPads(a.padding, a.kernel_size, a.dilation),
  groups: a.groups,
});

/** nn.Conv1d/2d/3d: ONNX Conv with PyTorch's weight as it is. */
export function convTrain<A extends ArgSpecs>(): LayerTrain<A> {
  const args = (l: TrainLayer<A>) => l.a as unknown as ConvArgs;
  return {
    refuse: (l) => (args(l).padding_mode !== 'zeros' ? `padding_mode='${args(l).padding_mode}' is not trainable yet (use the default 'zeros')` : undefined),
    forward: (g, l, x) => ({ y: convForward(g, convSpec(l, args(l)), x, l.w.weight, args(l).bias ? l.w.bias : undefined) }),
    backward(g, l, b) {
      const a = args(l);
      const r = convBackward(g, convSpec(l, a), b.x, l.w.weight, b.dy, { dx: b.needDx, db: a.bias, dwLayout: 'onnx' });
      const grads: Record<string, string> = { weight: r.dw! };
      if (a.bias) grads.bias = r.db!;
      return { dx: r.dx, grads };
    },
  };
}

/** nn.Linear on (N, in_features): y = x·Wᵀ + b. */
export function linearTrain<A extends ArgSpecs>(): LayerTrain<A> {
  const bias = (l: TrainLayer<A>) => (l.a as unknown as { bias: boolean }).bias;
  return {
    refuse: (l) => (l.input.length > 1 ? `Linear on a [N, ${l.input.join(', ')}] input is not trainable yet: flatten it first (torch.flatten(x, 1))` : undefined),
    forward: (g, l, x) => ({ y: g.gemm(x, l.w.weight, bias(l) ? l.w.bias : undefined, { transB: true }) }),
    backward(g, l, b) {
      const grads: Record<string, string> = { weight: g.gemm(b.dy, b.x, undefined, { transA: true }) };
      if (bias(l)) grads.bias = g.reduceSum(b.dy, [0], false);
      return { dx: b.needDx ? g.gemm(b.dy, l.w.weight, undefined) : undefined, grads };
    },
  };
}

interface PoolArgs {
  kernel_size: number[];
  stride: number[] | null;
  padding: number[];
  dilation?: number[];
  ceil_mode: boolean;
  count_include_pad?: boolean;
  divisor_override?: number | null;
}

const poolSpec = (l: TrainLayer, a: PoolArgs): PoolSpec => ({
  kernel: a.kernel_size,
  inputSpatial: l.input.slice(1),
  strides: a.stride ?? a.kernel_size,
  pads: torchPads(a.padding, a.kernel_size, a.kernel_size.map(() => 1)),
});

/** nn.MaxPool / AvgPool (and F.max_pool2d, F.avg_pool2d). */
export function poolTrain<A extends ArgSpecs>(kind: 'max' | 'avg'): LayerTrain<A> {
  const args = (l: TrainLayer<A>) => l.a as unknown as PoolArgs;
  return {
    refuse(l) {
      const a = args(l);
      if (a.ceil_mode) return 'ceil_mode=True is not trainable yet';
      if (a.dilation?.some((d) => d !== 1)) return 'a dilated max pooling is not trainable yet';
      if (kind === 'avg' && a.padding.some((p) => p > 0) && a.count_include_pad !== false) return 'average pooling with padding and count_include_pad=True is not trainable yet (pass count_include_pad=False)';
      if (a.divisor_override) return 'divisor_override is not trainable yet';
      return undefined;
    },
    forward(g, l, x) {
      if (kind === 'avg') return { y: avgPoolForward(g, poolSpec(l, args(l)), x) };
      const f = maxPoolForward(g, poolSpec(l, args(l)), x);
      return { y: f.y, saved: f.indices ? { indices: f.indices } : {} };
    },
    backward(g, l, b) {
      if (!b.needDx) return { grads: {} };
      const spec = poolSpec(l, args(l));
      if (kind === 'avg') return { dx: avgPoolBackward(g, spec, l.input[0], b.dy), grads: {} };
      const dx = maxPoolBackward(g, spec, b.x, { y: b.fwd.y, indices: b.fwd.saved?.indices }, b.dy, { afterRelu: b.inputIsRelu });
      return { dx, grads: {}, throughRelu: b.inputIsRelu };
    },
  };
}

/** AdaptiveAvg/MaxPool: trained when every output size divides its input size (then it is an ordinary pooling). */
export function adaptiveTrain<A extends ArgSpecs>(kind: 'max' | 'avg'): LayerTrain<A> {
  const spec = (l: TrainLayer<A>): PoolSpec | undefined => {
    const spatial = l.input.slice(1);
    const out = l.output.slice(1);
    if (out.some((o, i) => spatial[i] % o !== 0)) return undefined;
    const k = spatial.map((n, i) => n / out[i]);
    return { kernel: k, inputSpatial: spatial, strides: k };
  };
  return {
    refuse: (l) => ((l.a as unknown as { return_indices?: boolean }).return_indices ? 'return_indices=True is not trainable' : spec(l) ? undefined : `adaptive pooling of ${l.input.slice(1).join('×')} to ${l.output.slice(1).join('×')} has uneven windows, which is not trainable yet`),
    forward(g, l, x) {
      if (kind === 'avg') return { y: avgPoolForward(g, spec(l)!, x) };
      const f = maxPoolForward(g, spec(l)!, x);
      return { y: f.y, saved: f.indices ? { indices: f.indices } : {} };
    },
    backward(g, l, b) {
      if (!b.needDx) return { grads: {} };
      if (kind === 'avg') return { dx: avgPoolBackward(g, spec(l)!, l.input[0], b.dy), grads: {} };
      const dx = maxPoolBackward(g, spec(l)!, b.x, { y: b.fwd.y, indices: b.fwd.saved?.indices }, b.dy, { afterRelu: b.inputIsRelu });
      return { dx, grads: {}, throughRelu: b.inputIsRelu };
    },
  };
}

/**
 * An activation module or function (`nn.ReLU`, `F.relu`, `F.log_softmax(x, dim=1)`): the
 * registry's recipe, or undefined (with the reason) when its arguments are not trainable.
 */
export function activationTrain<A extends ArgSpecs>(spec: (a: ArgValues<A>, l: TrainLayer<A>) => ActivationSpec | string): LayerTrain<A> {
  const recipe = (l: TrainLayer<A>): ActivationSpec => spec(l.a, l) as ActivationSpec;
  return {
    refuse: (l) => {
      const s = spec(l.a, l);
      return typeof s === 'string' ? s : undefined;
    },
    reluOutput: (l) => recipe(l).kind === 'relu',
    outputActivation: (l) => recipe(l),
    forward: (g, l, x) => ({ y: activationForward(g, recipe(l), x) }),
    backward: (g, l, b) => ({ dx: b.needDx ? activationBackward(g, recipe(l), b.x, b.fwd.y, b.dy) : undefined, grads: {} }),
  };
}

/** nn.Dropout(p): a mask scaled by 1/(1 − p) while training, the identity in eval(). */
export function dropoutTrain<A extends ArgSpecs>(): LayerTrain<A> {
  const p = (l: TrainLayer<A>) => (l.a as unknown as { p: number }).p;
  return {
    refuse: (l) => (p(l) >= 1 ? 'Dropout(p=1) zeroes everything; it cannot be trained' : undefined),
    forward(g, l, x, mode) {
      if (mode === 'infer' || p(l) === 0) return { y: x };
      const r = dropoutForward(g, x, p(l), l.seed);
      return { y: r.y, saved: { mask: r.mask } };
    },
    backward: (g, _l, b) => ({ dx: b.needDx ? (b.fwd.saved?.mask ? dropoutBackward(g, b.fwd.saved.mask, b.dy) : b.dy) : undefined, grads: {} }),
  };
}

/** A reshape that keeps the batch axis (Flatten(1), x.view(x.size(0), -1)): the per-sample shapes say it all. */
export function reshapeTrain<A extends ArgSpecs>(keepsBatch: (a: ArgValues<A>) => boolean, what: string): LayerTrain<A> {
  const size = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);
  return {
    refuse: (l) => (!keepsBatch(l.a) || size(l.input) !== size(l.output) ? `${what} that merges or splits the batch axis is not trainable (keep the batch: x.view(x.size(0), -1) or torch.flatten(x, 1))` : undefined),
    forward: (g, l, x) => ({ y: g.reshape(x, [-1, ...l.output]) }),
    backward: (g, l, b) => ({ dx: b.needDx ? g.reshape(b.dy, [-1, ...l.input]) : undefined, grads: {} }),
  };
}

interface BatchNormArgs {
  num_features: number;
  eps: number;
  momentum: number | null;
  affine: boolean;
  track_running_stats: boolean;
}

/**
 * nn.BatchNorm1d/2d/3d: batch statistics while training (biased variance to normalise, the
 * unbiased one into running_var), running_x ← (1 − momentum)·running_x + momentum·batch_x, and
 * num_batches_tracked + 1; the running statistics at inference.
 */
export function batchNormTrain<A extends ArgSpecs>(): LayerTrain<A> {
  const args = (l: TrainLayer<A>) => l.a as unknown as BatchNormArgs;
  const spec = (l: TrainLayer<A>) => ({ channels: args(l).num_features, rank: l.input.length + 1, momentum: 1 - (args(l).momentum ?? 0.1), epsilon: args(l).eps, unbiasedMovingVar: true });
  return {
    refuse(l) {
      const a = args(l);
      if (!a.track_running_stats) return 'track_running_stats=False is not trainable yet';
      if (l.frozen.includes('weight') || l.frozen.includes('bias')) return 'a frozen BatchNorm (requires_grad False) is not trainable yet';
      if (a.momentum === null) return 'momentum=None (a cumulative average) is not trainable yet';
      return undefined;
    },
    forward(g, l, x, mode) {
      const a = args(l);
      const gamma = a.affine ? l.w.weight : undefined;
      const beta = a.affine ? l.w.bias : undefined;
      if (mode === 'infer') return { y: batchNormInference(g, spec(l), x, gamma, beta, l.w.running_mean, l.w.running_var) };
      const f = batchNormTrainForward(g, spec(l), x, gamma, beta, l.w.running_mean, l.w.running_var);
      return {
        y: f.y,
        saved: { xhat: f.xhat, invStd: f.invStd },
        updates: { running_mean: f.newMovingMean, running_var: f.newMovingVar, num_batches_tracked: g.add(l.w.num_batches_tracked, g.scalar(1)) },
      };
    },
    backward(g, l, b) {
      const a = args(l);
      const s = b.fwd.saved!;
      const r = batchNormBackward(g, spec(l), s.xhat!, s.invStd!, a.affine ? l.w.weight : undefined, b.dy);
      const grads: Record<string, string> = a.affine ? { weight: r.dgamma, bias: r.dbeta } : {};
      return { dx: b.needDx ? r.dx : undefined, grads };
    },
  };
}

/** nn.Identity: the input, and the gradient, passed through. */
export function identityTrain<A extends ArgSpecs>(): LayerTrain<A> {
  return { forward: (_g, _l, x) => ({ y: x }), backward: (_g, _l, b) => ({ dx: b.needDx ? b.dy : undefined, grads: {} }) };
}

/** Element-wise `x + y`, `x - y`, `x * y` of two tensors of the same shape (a residual connection). */
export function elementwiseTrain<A extends ArgSpecs>(op: 'add' | 'sub' | 'mul' | 'div'): MergeTrain<A> {
  return {
    refuse: (l) =>
      op === 'div'
        ? 'x / y of two tensors is not trainable yet'
        : l.inputs.some((s) => s.join() !== l.output.join())
          ? `broadcasting ${l.inputs.map((s) => `[N, ${s.join(', ')}]`).join(' and ')} is not trainable yet (only tensors of the same shape)`
          : undefined,
    forward: (g, _l, xs) => ({ y: op === 'add' ? g.add(xs[0], xs[1]) : op === 'sub' ? g.sub(xs[0], xs[1]) : g.mul(xs[0], xs[1]) }),
    backward(g, _l, b) {
      if (op === 'add') return { dxs: b.needDx.map((n) => (n ? b.dy : undefined)) };
      if (op === 'sub') return { dxs: [b.needDx[0] ? b.dy : undefined, b.needDx[1] ? g.neg(b.dy) : undefined] };
      return { dxs: [b.needDx[0] ? g.mul(b.dy, b.xs[1]) : undefined, b.needDx[1] ? g.mul(b.dy, b.xs[0]) : undefined] };
    },
  };
}

/** torch.cat(xs, dim): ONNX Concat on the same axis (PyTorch's axes are ONNX's); the gradient sliced back. */
export function catTrain<A extends ArgSpecs>(): MergeTrain<A> {
  const axis = (l: MergeTrainLayer<A>) => {
    const dim = (l.a as unknown as { dim: number }).dim;
    const rank = l.output.length + 1;
    return dim < 0 ? rank + dim : dim;
  };
  return {
    refuse: (l) => (axis(l) === 0 ? 'torch.cat along the batch axis (dim=0) is not trainable' : undefined),
    forward: (g, l, xs) => ({ y: g.concat(xs, axis(l)) }),
    backward(g, l, b) {
      const ax = axis(l);
      let start = 0;
      return {
        dxs: l.inputs.map((s, k) => {
          const size = s[ax - 1];
          const from = start;
          start += size;
          return b.needDx[k] ? g.slice(b.dy, [from], [from + size], [ax]) : undefined;
        }),
      };
    },
  };
}
