/**
 * Training emitters shared by PyTorch's layer definitions. Tensors between layers are in ONNX
 * layout, which is PyTorch's own (N, C, spatial…), and PyTorch's weights are already in ONNX's
 * layout (a convolution's `weight` (out, in / groups, k…), Linear's (out, in)): nothing is
 * transposed. The shapes the emitters see are PyTorch's per-sample shapes (C, H, W).
 */
import { activationBackward, activationForward, type ActivationSpec } from '../../onnx/activations';
import {
  avgPoolBackward,
  avgPoolCounts,
  avgPoolForward,
  batchNormBackward,
  batchNormInference,
  batchNormTrainForward,
  constantPadBackward,
  constantPadForward,
  convBackward,
  convForward,
  dropoutBackward,
  dropoutForward,
  maxPoolBackward,
  maxPoolForward,
  stridedSliceBackward,
  stridedSliceForward,
  sumToShape,
  type ConvSpec,
  type PoolSpec,
  type SliceAxis,
} from '../../onnx/grad';
import type { GraphBuilder } from '../../onnx/graphBuilder';
import type { IndexSpec } from './ops';
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

/**
 * The pooling as ONNX runs it: PyTorch's symmetric padding, and with ceil_mode the end padding
 * that makes a floor-mode window sweep give PyTorch's ceil-mode output (PyTorch drops a last
 * window that would start in the end padding, so every window still covers input or start padding).
 */
const poolSpec = (l: TrainLayer, a: PoolArgs): PoolSpec => {
  const strides = a.stride ?? a.kernel_size;
  const spatial = l.input.slice(1);
  const out = l.output.slice(1);
  const pads = torchPads(a.padding, a.kernel_size, a.kernel_size.map(() => 1));
  const r = spatial.length;
  const extra = spatial.map((n, i) => Math.max(0, (out[i] - 1) * strides[i] + a.kernel_size[i] - (n + pads[i] + pads[i + r])));
  return { kernel: a.kernel_size, inputSpatial: spatial, strides, pads: [...pads.slice(0, r), ...pads.slice(r).map((p, i) => p + extra[i])] };
};

/**
 * Per output position, PyTorch's average divided by ONNX's (AveragePool with count_include_pad=0
 * over {@link poolSpec}'s pads): the count of real inputs over PyTorch's divisor, which counts
 * the padding with count_include_pad=True (not the ceil-mode overhang), or is divisor_override.
 * Undefined where they agree everywhere.
 */
function avgPoolRatio(l: TrainLayer, a: PoolArgs): { ratio: Float32Array; shape: number[] } | undefined {
  const spec = poolSpec(l, a);
  const strides = spec.strides!;
  const spatial = l.input.slice(1);
  const out = l.output.slice(1);
  const divisors = out.map((o, i) =>
    Array.from({ length: o }, (_, j) => {
      const start = j * strides[i] - a.padding[i];
      const end = Math.min(start + a.kernel_size[i], spatial[i] + a.padding[i]);
      return a.count_include_pad !== false ? end - start : Math.min(end, spatial[i]) - Math.max(start, 0);
    }),
  );
  let divisor = [1];
  for (const axis of divisors) divisor = divisor.flatMap((c) => axis.map((d) => c * d));
  const real = avgPoolCounts(spec);
  const ratio = Float32Array.from(real, (c, i) => c / (a.divisor_override ?? divisor[i]));
  return ratio.every((x) => x === 1) ? undefined : { ratio, shape: [1, 1, ...out] };
}

/** nn.MaxPool / AvgPool (and F.max_pool2d, F.avg_pool2d), ceil_mode, count_include_pad and divisor_override included. */
export function poolTrain<A extends ArgSpecs>(kind: 'max' | 'avg'): LayerTrain<A> {
  const args = (l: TrainLayer<A>) => l.a as unknown as PoolArgs;
  const ratio = (g: GraphBuilder, l: TrainLayer<A>): string | undefined => {
    const r = avgPoolRatio(l, args(l));
    return r && g.initializer(g.fresh('avgpool_torch_ratio'), r.ratio, r.shape);
  };
  return {
    refuse(l) {
      const a = args(l);
      if (a.dilation?.some((d) => d !== 1)) return 'a dilated max pooling is not trainable yet';
      const spec = poolSpec(l, a);
      const r = spec.kernel.length;
      // onnxruntime's pooling wants every pad smaller than the window.
      if (spec.pads!.some((p, i) => p >= spec.kernel[i % r])) return `ceil_mode=True with padding ${a.padding.join(', ')} needs a pad as large as the ${a.kernel_size.join('×')} window, which onnxruntime does not run`;
      return undefined;
    },
    forward(g, l, x) {
      const spec = poolSpec(l, args(l));
      if (kind === 'avg') {
        const y = avgPoolForward(g, spec, x);
        const k = ratio(g, l);
        return { y: k ? g.mul(y, k) : y, saved: k ? { ratio: k } : {} };
      }
      const f = maxPoolForward(g, spec, x);
      return { y: f.y, saved: f.indices ? { indices: f.indices } : {} };
    },
    backward(g, l, b) {
      if (!b.needDx) return { grads: {} };
      const spec = poolSpec(l, args(l));
      if (kind === 'avg') {
        const k = b.fwd.saved?.ratio;
        return { dx: avgPoolBackward(g, spec, l.input[0], k ? g.mul(b.dy, k) : b.dy), grads: {} };
      }
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

/**
 * Element-wise `x + y`, `x - y`, `x * y`, `x / y` of two tensors with PyTorch's broadcasting
 * (a residual connection, squeeze-and-excitation's [N, C, H, W] * [N, C, 1, 1]): the gradient of
 * a broadcast operand is summed over the axes it was stretched along.
 */
export function elementwiseTrain<A extends ArgSpecs>(op: 'add' | 'sub' | 'mul' | 'div'): MergeTrain<A> {
  return {
    refuse: (l) =>
      l.inputs.some((s) => s.length !== l.output.length)
        ? `${l.inputs.map((s) => `[N, ${s.join(', ')}]`).join(' and ')} have different ranks, which is not trainable yet (unsqueeze the smaller one, or view it to the same rank)`
        : undefined,
    forward(g, _l, xs) {
      const [a, b] = xs;
      return { y: op === 'add' ? g.add(a, b) : op === 'sub' ? g.sub(a, b) : op === 'mul' ? g.mul(a, b) : g.div(a, b) };
    },
    backward(g, l, b) {
      const [x0, x1] = b.xs;
      const back = (k: number, d: () => string) => (b.needDx[k] ? sumToShape(g, d(), l.output, l.inputs[k]) : undefined);
      if (op === 'add') return { dxs: [back(0, () => b.dy), back(1, () => b.dy)] };
      if (op === 'sub') return { dxs: [back(0, () => b.dy), back(1, () => g.neg(b.dy))] };
      if (op === 'mul') return { dxs: [back(0, () => g.mul(b.dy, x1)), back(1, () => g.mul(b.dy, x0))] };
      // d(a/b)/da = 1/b, d(a/b)/db = −(a/b)/b.
      return { dxs: [back(0, () => g.div(b.dy, x1)), back(1, () => g.neg(g.div(g.mul(b.dy, b.fwd.y), x1)))] };
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

/**
 * Indexing `x[:, :c]`, `x[:, :, ::2, ::2]`, `x[..., 0]`, `x[:, None]` (and the parts of `.chunk`,
 * `.split`): what each per-sample axis keeps, or why it is not trainable. The batch axis must
 * stay whole and first.
 */
export function indexPlan(index: readonly IndexSpec[], input: readonly number[], output: readonly number[]): SliceAxis[] | string {
  const whole = [-1, ...input];
  const axes: SliceAxis[] = input.map((n) => ({ start: 0, count: n, step: 1 }));
  let axis = 0;
  for (let k = 0; k < index.length; k++) {
    const it = index[k];
    if (it.kind === 'ellipsis') {
      axis = whole.length - index.slice(k + 1).filter((i) => i.kind === 'slice' || i.kind === 'int').length;
      continue;
    }
    if (it.kind === 'none') {
      if (axis === 0) return 'indexing with None before the batch axis (x[None]) moves the batch, which is not trainable';
      continue;
    }
    if (axis === 0) {
      if (it.kind === 'int' || it.start !== null || it.stop !== null || it.step !== 1) return 'indexing the batch axis (x[0], x[:4]) is not trainable: keep it whole (x[:, …])';
      axis++;
      continue;
    }
    const n = whole[axis];
    if (it.kind === 'int') axes[axis - 1] = { start: it.i < 0 ? n + it.i : it.i, count: 1, step: 1 };
    else {
      if (it.step < 1) return `a slice with step ${it.step} is not trainable yet`;
      const norm = (x: number): number => (x < 0 ? Math.max(0, n + x) : Math.min(n, x));
      const start = it.start === null ? 0 : norm(it.start);
      const stop = it.stop === null ? n : norm(it.stop);
      const count = Math.max(0, Math.ceil((stop - start) / it.step));
      if (count === 0) return 'the index selects nothing on one axis, which is not trainable';
      axes[axis - 1] = { start, count, step: it.step };
    }
    axis++;
  }
  const kept = axes.reduce((p, a) => p * a.count, 1);
  if (kept !== output.reduce((p, d) => p * d, 1)) return 'ConvLens could not follow this index, so it cannot train it';
  return axes;
}

/** getitem: one Slice (steps included), reshaped for ints and None; the gradient put back by padding. */
export function getitemTrain<A extends ArgSpecs>(): LayerTrain<A> {
  const plan = (l: TrainLayer<A>) => indexPlan((l.a as unknown as { index: IndexSpec[] }).index, l.input, l.output);
  const sliced = (l: TrainLayer<A>) => (plan(l) as SliceAxis[]).map((a) => a.count);
  return {
    refuse: (l) => {
      const p = plan(l);
      return typeof p === 'string' ? p : undefined;
    },
    forward(g, l, x) {
      const y = stridedSliceForward(g, x, l.input, plan(l) as SliceAxis[]);
      return { y: sliced(l).join() === l.output.join() ? y : g.reshape(y, [-1, ...l.output]) };
    },
    backward(g, l, b) {
      if (!b.needDx) return { grads: {} };
      const dy = sliced(l).join() === l.output.join() ? b.dy : g.reshape(b.dy, [-1, ...sliced(l)]);
      return { dx: stridedSliceBackward(g, dy, l.input, plan(l) as SliceAxis[]), grads: {} };
    },
  };
}

/** `x.permute(…)`, `x.transpose(i, j)`: an ONNX Transpose; the gradient transposed back. The batch stays first. */
export function permuteTrain<A extends ArgSpecs>(): LayerTrain<A> {
  const perm = (l: TrainLayer<A>) => {
    const rank = l.input.length + 1;
    return (l.a as unknown as { dims: number[] }).dims.map((d) => (d < 0 ? rank + d : d));
  };
  return {
    refuse: (l) => (perm(l)[0] !== 0 ? `moving the batch axis (dims ${perm(l).join(', ')}) is not trainable: keep dim 0 first` : undefined),
    forward: (g, l, x) => ({ y: perm(l).every((p, i) => p === i) ? x : g.transpose(x, perm(l)) }),
    backward(g, l, b) {
      if (!b.needDx) return { grads: {} };
      const p = perm(l);
      const inverse = p.map((_, i) => p.indexOf(i));
      return { dx: p.every((q, i) => q === i) ? b.dy : g.transpose(b.dy, inverse), grads: {} };
    },
  };
}

/** `x.mean((2, 3))`, `x.sum(1, keepdim=True)`: ReduceMean / ReduceSum; the gradient spread back evenly. */
export function reduceTrain<A extends ArgSpecs>(): LayerTrain<A> {
  const args = (l: TrainLayer<A>) => l.a as unknown as { fn: string; dim: number[] | null; keepdim: boolean };
  const axes = (l: TrainLayer<A>): number[] => {
    const rank = l.input.length + 1;
    const d = args(l).dim;
    return d === null ? [...Array(rank).keys()] : [...new Set(d.map((x) => (x < 0 ? rank + x : x)))].sort((a, b) => a - b);
  };
  return {
    refuse(l) {
      const a = args(l);
      if (a.fn !== 'mean' && a.fn !== 'sum') return `.${a.fn}() is not trainable yet (mean and sum are)`;
      if (axes(l).includes(0)) return `${a.fn} over the batch axis is not trainable: reduce per sample (e.g. x.${a.fn}((2, 3)))`;
      return undefined;
    },
    forward: (g, l, x) => ({ y: args(l).fn === 'mean' ? g.reduceMean(x, axes(l), args(l).keepdim) : g.reduceSum(x, axes(l), args(l).keepdim) }),
    backward(g, l, b) {
      if (!b.needDx) return { grads: {} };
      const ax = axes(l);
      const kept = l.input.map((n, i) => (ax.includes(i + 1) ? 1 : n));
      const count = l.input.reduce((p, n, i) => (ax.includes(i + 1) ? p * n : p), 1);
      let d = args(l).keepdim ? b.dy : g.reshape(b.dy, [-1, ...kept]);
      if (args(l).fn === 'mean' && count !== 1) d = g.mul(d, g.scalar(1 / count));
      return { dx: g.expand(d, [1, ...l.input]), grads: {} };
    },
  };
}

/**
 * A constant pad of the per-sample axes (F.pad(mode='constant'), nn.ZeroPad2d, nn.ConstantPad2d):
 * `amounts` per per-sample axis `[begin, end]` (negative crops), or why it is not trainable.
 */
export function constantPadTrain<A extends ArgSpecs>(amounts: (l: TrainLayer<A>) => { amounts: [number, number][]; value: number } | string): LayerTrain<A> {
  const get = (l: TrainLayer<A>) => amounts(l) as { amounts: [number, number][]; value: number };
  return {
    refuse: (l) => {
      const r = amounts(l);
      return typeof r === 'string' ? r : undefined;
    },
    forward: (g, l, x) => ({ y: constantPadForward(g, x, l.input, get(l).amounts, get(l).value) }),
    backward: (g, l, b) => ({ dx: b.needDx ? constantPadBackward(g, b.dy, l.output, get(l).amounts) : undefined, grads: {} }),
  };
}

/**
 * nn.Dropout1d/2d/3d: whole channels zeroed with probability p (one draw per sample and channel,
 * broadcast over the spatial axes), the rest scaled by 1/(1 − p); the identity in eval().
 */
export function channelDropoutTrain<A extends ArgSpecs>(spatialRank: number): LayerTrain<A> {
  const p = (l: TrainLayer<A>) => (l.a as unknown as { p: number }).p;
  return {
    refuse: (l) =>
      p(l) >= 1
        ? 'Dropout(p=1) zeroes everything; it cannot be trained'
        : l.input.length !== spatialRank + 1
          ? `Dropout${spatialRank}d on a [N, ${l.input.join(', ')}] input is not trainable (it expects [N, C, ${spatialRank === 1 ? 'L' : spatialRank === 2 ? 'H, W' : 'D, H, W'}])`
          : undefined,
    forward(g, l, x, mode) {
      if (mode === 'infer' || p(l) === 0) return { y: x };
      const axes = Array.from({ length: spatialRank }, (_, i) => i + 2);
      const perChannel = g.slice(x, axes.map(() => 0), axes.map(() => 1), axes);
      const u = g.randomUniformLike(perChannel, 0, 1, l.seed);
      const mask = g.where(g.less(u, g.scalar(p(l))), g.scalar(0), g.scalar(1 / (1 - p(l))));
      return { y: g.mul(x, mask), saved: { mask } };
    },
    backward: (g, _l, b) => ({ dx: b.needDx ? (b.fwd.saved?.mask ? g.mul(b.dy, b.fwd.saved.mask) : b.dy) : undefined, grads: {} }),
  };
}
