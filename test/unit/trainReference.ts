/**
 * A float64 plain-JS forward pass of a TrainingPlan, in Keras layout (N, H, W, C) with Keras
 * weight layouts, written from Keras' definitions independently of the ONNX emitters, for the
 * finite-difference checks of the compiled training graphs.
 */
import type { PlanLayer, TrainingPlan } from '../../src/core/train/plan';

/** A float64 tensor with its shape (batch axis first). */
export interface T {
  d: Float64Array;
  s: number[];
}

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const EPS = 1e-7;

/** Keras/TF padding of one axis: [before, after]. */
export function axisPads(padding: string, n: number, k: number, s: number, d: number): [number, number] {
  const extent = (k - 1) * d + 1;
  if (padding === 'same') {
    const out = Math.ceil(n / s);
    const total = Math.max((out - 1) * s + extent - n, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  }
  if (padding === 'causal') return [extent - 1, 0];
  return [0, 0];
}

/** 2-D convolution, x (N, H, W, C), kernel (kh, kw, C/groups, F), pads [top, bottom, left, right]. */
function conv2d(x: T, k: T, bias: Float64Array | undefined, s: number[], d: number[], pads: number[], groups: number): T {
  const [N, H, W, C] = x.s;
  const [kh, kw, cg, F] = k.s;
  const OH = Math.floor((H + pads[0] + pads[1] - (kh - 1) * d[0] - 1) / s[0]) + 1;
  const OW = Math.floor((W + pads[2] + pads[3] - (kw - 1) * d[1] - 1) / s[1]) + 1;
  const fg = F / groups;
  const y = new Float64Array(N * OH * OW * F);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let f = 0; f < F; f++) {
          const grp = Math.floor(f / fg);
          let acc = bias ? bias[f] : 0;
          for (let i = 0; i < kh; i++) {
            const h = oh * s[0] - pads[0] + i * d[0];
            if (h < 0 || h >= H) continue;
            for (let j = 0; j < kw; j++) {
              const w = ow * s[1] - pads[2] + j * d[1];
              if (w < 0 || w >= W) continue;
              for (let c = 0; c < cg; c++) acc += x.d[((n * H + h) * W + w) * C + grp * cg + c] * k.d[((i * kw + j) * cg + c) * F + f];
            }
          }
          y[((n * OH + oh) * OW + ow) * F + f] = acc;
        }
  return { d: y, s: [N, OH, OW, F] };
}

/** Depthwise 2-D convolution, kernel (kh, kw, C, multiplier); output channel c·multiplier + m. */
function depthwise2d(x: T, k: T, bias: Float64Array | undefined, s: number[], d: number[], pads: number[]): T {
  const [N, H, W, C] = x.s;
  const [kh, kw, , dm] = k.s;
  const OH = Math.floor((H + pads[0] + pads[1] - (kh - 1) * d[0] - 1) / s[0]) + 1;
  const OW = Math.floor((W + pads[2] + pads[3] - (kw - 1) * d[1] - 1) / s[1]) + 1;
  const y = new Float64Array(N * OH * OW * C * dm);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let c = 0; c < C; c++)
          for (let m = 0; m < dm; m++) {
            let acc = bias ? bias[c * dm + m] : 0;
            for (let i = 0; i < kh; i++) {
              const h = oh * s[0] - pads[0] + i * d[0];
              if (h < 0 || h >= H) continue;
              for (let j = 0; j < kw; j++) {
                const w = ow * s[1] - pads[2] + j * d[1];
                if (w < 0 || w >= W) continue;
                acc += x.d[((n * H + h) * W + w) * C + c] * k.d[((i * kw + j) * C + c) * dm + m];
              }
            }
            y[((n * OH + oh) * OW + ow) * C * dm + c * dm + m] = acc;
          }
  return { d: y, s: [N, OH, OW, C * dm] };
}

/** Max or average pooling (N, H, W, C); padding is ignored by max and not counted by average. */
function pool2d(kind: 'max' | 'avg', x: T, k: number[], s: number[], pads: number[]): T {
  const [N, H, W, C] = x.s;
  const OH = Math.floor((H + pads[0] + pads[1] - k[0]) / s[0]) + 1;
  const OW = Math.floor((W + pads[2] + pads[3] - k[1]) / s[1]) + 1;
  const y = new Float64Array(N * OH * OW * C);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let c = 0; c < C; c++) {
          let acc = kind === 'max' ? -Infinity : 0;
          let count = 0;
          for (let i = 0; i < k[0]; i++) {
            const h = oh * s[0] - pads[0] + i;
            if (h < 0 || h >= H) continue;
            for (let j = 0; j < k[1]; j++) {
              const w = ow * s[1] - pads[2] + j;
              if (w < 0 || w >= W) continue;
              const v = x.d[((n * H + h) * W + w) * C + c];
              acc = kind === 'max' ? Math.max(acc, v) : acc + v;
              count++;
            }
          }
          y[((n * OH + oh) * OW + ow) * C + c] = kind === 'max' ? acc : acc / count;
        }
  return { d: y, s: [N, OH, OW, C] };
}

/** (N, L, C) → (N, 1, L, C) and back: 1-D layers run through the 2-D references. */
const lift = (x: T): T => ({ d: x.d, s: [x.s[0], 1, x.s[1], x.s[2]] });
const drop = (x: T): T => ({ d: x.d, s: [x.s[0], x.s[2], x.s[3]] });

export function activation(name: string | null | undefined, x: T, alpha?: number): T {
  if (!name || name === 'linear') return x;
  if (name === 'softmax') return softmax(x, x.s.length - 1);
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const f: Record<string, (v: number) => number> = {
    relu: (v) => Math.max(v, 0),
    relu6: (v) => Math.min(Math.max(v, 0), 6),
    sigmoid: sig,
    tanh: Math.tanh,
    elu: (v) => (v > 0 ? v : (alpha ?? 1) * Math.expm1(v)),
    selu: (v) => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * Math.expm1(v)),
    softplus: (v) => Math.log1p(Math.exp(v)),
    silu: (v) => v * sig(v),
    swish: (v) => v * sig(v),
    leaky_relu: (v) => (v > 0 ? v : (alpha ?? 0.2) * v),
  };
  if (!f[name]) throw new Error(`reference: activation ${name}`);
  return { d: x.d.map(f[name]), s: x.s };
}

/** Softmax along axis `ax` (batch axis included). */
function softmax(x: T, ax: number): T {
  const y = new Float64Array(x.d.length);
  const inner = size(x.s.slice(ax + 1));
  const len = x.s[ax];
  const outer = size(x.s.slice(0, ax));
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      let mx = -Infinity;
      for (let k = 0; k < len; k++) mx = Math.max(mx, x.d[(o * len + k) * inner + i]);
      let sum = 0;
      for (let k = 0; k < len; k++) sum += Math.exp(x.d[(o * len + k) * inner + i] - mx);
      for (let k = 0; k < len; k++) y[(o * len + k) * inner + i] = Math.exp(x.d[(o * len + k) * inner + i] - mx) / sum;
    }
  return { d: y, s: x.s };
}

/** x · m where m broadcasts (its axes are 1 or equal to x's). */
function broadcastMul(x: T, m: T): T {
  const y = new Float64Array(x.d.length);
  const r = x.s.length;
  const idx = new Array<number>(r).fill(0);
  for (let e = 0; e < x.d.length; e++) {
    let mi = 0;
    for (let a = 0; a < r; a++) mi = mi * m.s[a] + (m.s[a] === 1 ? 0 : idx[a]);
    y[e] = x.d[e] * m.d[mi];
    for (let a = r - 1; a >= 0 && ++idx[a] >= x.s[a]; a--) idx[a] = 0;
  }
  return { d: y, s: x.s };
}

/** A tensor in ONNX layout (N, C, …) moved to Keras layout (N, …, C). */
export function fromOnnxLayout(data: ArrayLike<number>, onnxShape: number[]): T {
  const r = onnxShape.length;
  if (r <= 2) return { d: Float64Array.from(data), s: onnxShape };
  const [N, C, ...sp] = onnxShape;
  const plane = size(sp);
  const y = new Float64Array(data.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let p = 0; p < plane; p++) y[(n * plane + p) * C + c] = data[(n * C + c) * plane + p];
  return { d: y, s: [N, ...sp, C] };
}

/** Per-channel (last axis) statistics over every other axis. */
function channelStats(x: T): { mean: Float64Array; variance: Float64Array } {
  const C = x.s[x.s.length - 1];
  const count = x.d.length / C;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  for (let e = 0; e < x.d.length; e++) mean[e % C] += x.d[e] / count;
  for (let e = 0; e < x.d.length; e++) variance[e % C] += (x.d[e] - mean[e % C]) ** 2 / count;
  return { mean, variance };
}

/** The random draws of the training step (`mask:<layer>` / `noise:<layer>`), ONNX layout. */
export type Draws = Record<string, { data: ArrayLike<number>; dims: number[] }>;

/** One layer forward in training mode. */
export function layerForward(l: PlanLayer, x: T, w: Record<string, Float64Array>, draws: Draws): T {
  const a = l.config as Record<string, any>;
  const key = (k: string) => w[`${l.name}/${k}`];
  const rank = l.input.length;
  let y: T;
  switch (l.className) {
    case 'Conv1D':
    case 'Conv2D': {
      const k: T = { d: key('kernel'), s: l.weights[0].shape };
      const bias = a.use_bias ? key('bias') : undefined;
      if (l.className === 'Conv1D') {
        const p = axisPads(a.padding, x.s[1], a.kernel_size[0], a.strides[0], a.dilation_rate[0]);
        y = drop(conv2d(lift(x), { d: k.d, s: [1, ...k.s] }, bias, [1, a.strides[0]], [1, a.dilation_rate[0]], [0, 0, ...p], a.groups));
      } else {
        const p0 = axisPads(a.padding, x.s[1], a.kernel_size[0], a.strides[0], a.dilation_rate[0]);
        const p1 = axisPads(a.padding, x.s[2], a.kernel_size[1], a.strides[1], a.dilation_rate[1]);
        y = conv2d(x, k, bias, a.strides, a.dilation_rate, [...p0, ...p1], a.groups);
      }
      break;
    }
    case 'DepthwiseConv2D':
    case 'SeparableConv2D': {
      const p0 = axisPads(a.padding, x.s[1], a.kernel_size[0], a.strides[0], a.dilation_rate[0]);
      const p1 = axisPads(a.padding, x.s[2], a.kernel_size[1], a.strides[1], a.dilation_rate[1]);
      const dk = l.weights.find((q) => q.name.endsWith('/depthwise_kernel'))!;
      const separable = l.className === 'SeparableConv2D';
      y = depthwise2d(x, { d: key('depthwise_kernel'), s: dk.shape }, !separable && a.use_bias ? key('bias') : undefined, a.strides, a.dilation_rate, [...p0, ...p1]);
      if (separable) {
        const pk = l.weights.find((q) => q.name.endsWith('/pointwise_kernel'))!;
        y = conv2d(y, { d: key('pointwise_kernel'), s: pk.shape }, a.use_bias ? key('bias') : undefined, [1, 1], [1, 1], [0, 0, 0, 0], 1);
      }
      break;
    }
    case 'MaxPooling1D':
    case 'AveragePooling1D':
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const kind = l.className.startsWith('Max') ? 'max' : 'avg';
      const strides: number[] = a.strides ?? a.pool_size;
      if (rank === 2) {
        const p = axisPads(a.padding, x.s[1], a.pool_size[0], strides[0], 1);
        y = drop(pool2d(kind, lift(x), [1, a.pool_size[0]], [1, strides[0]], [0, 0, ...p]));
      } else {
        const p0 = axisPads(a.padding, x.s[1], a.pool_size[0], strides[0], 1);
        const p1 = axisPads(a.padding, x.s[2], a.pool_size[1], strides[1], 1);
        y = pool2d(kind, x, a.pool_size, strides, [...p0, ...p1]);
      }
      break;
    }
    case 'GlobalMaxPooling1D':
    case 'GlobalMaxPooling2D':
    case 'GlobalAveragePooling1D':
    case 'GlobalAveragePooling2D': {
      const max = l.className.includes('Max');
      const N = x.s[0];
      const C = x.s[x.s.length - 1];
      const plane = x.d.length / N / C;
      const out = new Float64Array(N * C);
      for (let n = 0; n < N; n++)
        for (let c = 0; c < C; c++) {
          let acc = max ? -Infinity : 0;
          for (let p = 0; p < plane; p++) {
            const v = x.d[(n * plane + p) * C + c];
            acc = max ? Math.max(acc, v) : acc + v / plane;
          }
          out[n * C + c] = acc;
        }
      y = { d: out, s: a.keepdims ? [N, ...x.s.slice(1, -1).map(() => 1), C] : [N, C] };
      break;
    }
    case 'Dense': {
      const [N, F] = x.s;
      const U = a.units;
      const k = key('kernel');
      const out = new Float64Array(N * U);
      for (let n = 0; n < N; n++)
        for (let u = 0; u < U; u++) {
          let acc = a.use_bias ? key('bias')[u] : 0;
          for (let f = 0; f < F; f++) acc += x.d[n * F + f] * k[f * U + u];
          out[n * U + u] = acc;
        }
      y = { d: out, s: [N, U] };
      break;
    }
    case 'BatchNormalization': {
      const C = x.s[x.s.length - 1];
      const { mean, variance } = channelStats(x);
      y = { d: x.d.map((v, e) => ((v - mean[e % C]) / Math.sqrt(variance[e % C] + a.epsilon)) * (a.scale ? key('gamma')[e % C] : 1) + (a.center ? key('beta')[e % C] : 0)), s: x.s };
      break;
    }
    case 'LayerNormalization': {
      const C = x.s[x.s.length - 1];
      const out = new Float64Array(x.d.length);
      for (let p = 0; p < x.d.length / C; p++) {
        let mean = 0;
        for (let c = 0; c < C; c++) mean += x.d[p * C + c] / C;
        let v = 0;
        for (let c = 0; c < C; c++) v += (x.d[p * C + c] - mean) ** 2 / C;
        for (let c = 0; c < C; c++) out[p * C + c] = ((x.d[p * C + c] - mean) / Math.sqrt(v + a.epsilon)) * (a.scale ? key('gamma')[c] : 1) + (a.center ? key('beta')[c] : 0);
      }
      y = { d: out, s: x.s };
      break;
    }
    case 'Dropout':
    case 'SpatialDropout1D':
    case 'SpatialDropout2D':
    case 'GaussianDropout': {
      const m = draws[`mask:${l.name}`];
      y = m ? broadcastMul(x, fromOnnxLayout(m.data, m.dims)) : x;
      break;
    }
    case 'GaussianNoise': {
      const m = draws[`noise:${l.name}`];
      const noise = m ? fromOnnxLayout(m.data, m.dims) : undefined;
      y = noise ? { d: x.d.map((v, e) => v + noise.d[e]), s: x.s } : x;
      break;
    }
    case 'Activation':
      y = x;
      break;
    case 'ReLU': {
      const mv: number | null = a.max_value;
      y = { d: x.d.map((v) => (mv !== null && v >= mv ? mv : v >= a.threshold ? v : a.negative_slope * (v - a.threshold))), s: x.s };
      break;
    }
    case 'LeakyReLU':
      y = activation('leaky_relu', x, a.negative_slope);
      break;
    case 'ELU':
      y = activation('elu', x, a.alpha);
      break;
    case 'Softmax':
      y = softmax(x, a.axis < 0 ? x.s.length + a.axis : a.axis);
      break;
    case 'PReLU': {
      const alpha: T = { d: key('alpha'), s: [1, ...l.weights[0].shape] };
      const neg = broadcastMul(x, alpha);
      y = { d: x.d.map((v, e) => (v > 0 ? v : neg.d[e])), s: x.s };
      break;
    }
    case 'Flatten':
      y = { d: x.d, s: [x.s[0], size(x.s.slice(1))] };
      break;
    case 'Reshape':
      y = { d: x.d, s: [x.s[0], ...l.output] };
      break;
    case 'Rescaling':
      y = { d: x.d.map((v) => v * a.scale + a.offset), s: x.s };
      break;
    case 'ZeroPadding1D':
    case 'ZeroPadding2D':
    case 'Cropping1D':
    case 'Cropping2D': {
      const pad = l.className.startsWith('Zero');
      const amounts: [number, number][] = pad ? a.padding : a.cropping;
      const x4 = rank === 2 ? lift(x) : x;
      const am = rank === 2 ? [[0, 0] as [number, number], amounts[0]] : amounts;
      const [N, H, W, C] = x4.s;
      const sign = pad ? 1 : -1;
      const OH = H + sign * (am[0][0] + am[0][1]);
      const OW = W + sign * (am[1][0] + am[1][1]);
      const out = new Float64Array(N * OH * OW * C);
      for (let n = 0; n < N; n++)
        for (let oh = 0; oh < OH; oh++)
          for (let ow = 0; ow < OW; ow++) {
            const h = oh - sign * am[0][0];
            const w2 = ow - sign * am[1][0];
            if (h < 0 || h >= H || w2 < 0 || w2 >= W) continue;
            for (let c = 0; c < C; c++) out[((n * OH + oh) * OW + ow) * C + c] = x4.d[((n * H + h) * W + w2) * C + c];
          }
      y = { d: out, s: [N, OH, OW, C] };
      if (rank === 2) y = drop(y);
      break;
    }
    case 'UpSampling1D':
    case 'UpSampling2D': {
      const x4 = rank === 2 ? lift(x) : x;
      const sz = rank === 2 ? [1, a.size[0]] : a.size;
      const [N, H, W, C] = x4.s;
      const OH = H * sz[0];
      const OW = W * sz[1];
      const out = new Float64Array(N * OH * OW * C);
      for (let n = 0; n < N; n++)
        for (let oh = 0; oh < OH; oh++)
          for (let ow = 0; ow < OW; ow++)
            for (let c = 0; c < C; c++) out[((n * OH + oh) * OW + ow) * C + c] = x4.d[((n * H + Math.floor(oh / sz[0])) * W + Math.floor(ow / sz[1])) * C + c];
      y = { d: out, s: [N, OH, OW, C] };
      if (rank === 2) y = drop(y);
      break;
    }
    default:
      throw new Error(`reference: no forward for ${l.className}`);
  }
  const name = a.activation as string | null | undefined;
  return activation(name, y, name === 'leaky_relu' ? 0.2 : undefined);
}

/** The model's output (N, K) for data x (Keras layout). */
export function modelForward(plan: TrainingPlan, x: T, w: Record<string, Float64Array>, draws: Draws): T {
  let cur = x;
  for (const l of plan.layers) cur = layerForward(l, cur, w, draws);
  return cur;
}

/** Keras' loss (mean over the batch) of predictions p (N, K) for class labels. */
export function kerasLoss(loss: string, p: T, labels: number[]): number {
  const [N, K] = p.s;
  const target = (n: number, k: number) => (K === 1 ? labels[n] : labels[n] === k ? 1 : 0);
  let total = 0;
  for (let n = 0; n < N; n++) {
    const row = p.d.subarray(n * K, (n + 1) * K);
    if (loss === 'categorical_crossentropy' || loss === 'sparse_categorical_crossentropy') {
      const sum = row.reduce((a, b) => a + b, 0);
      for (let k = 0; k < K; k++) total -= target(n, k) * Math.log(Math.min(Math.max(row[k] / sum, EPS), 1 - EPS));
    } else {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const t = target(n, k);
        if (loss === 'binary_crossentropy') {
          const c = Math.min(Math.max(row[k], EPS), 1 - EPS);
          s -= t * Math.log(c) + (1 - t) * Math.log(1 - c);
        } else if (loss === 'mean_squared_error') s += (row[k] - t) ** 2;
        else s += Math.abs(row[k] - t);
      }
      total += s / K;
    }
  }
  return total / N;
}
