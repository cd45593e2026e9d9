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

/** Row-major strides of a shape. */
function stridesOf(shape: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = shape.length - 1, acc = 1; i >= 0; i--) {
    out[i] = acc;
    acc *= shape[i];
  }
  return out;
}

/** Calls `f` with every index of `shape`, row-major (the index array is reused). */
function eachIndex(shape: readonly number[], f: (idx: number[], flat: number) => void): void {
  const n = size(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let e = 0; e < n; e++) {
    f(idx, e);
    for (let a = shape.length - 1; a >= 0 && ++idx[a] >= shape[a]; a--) idx[a] = 0;
  }
}

/** Output length of a window sweep with explicit pads. */
const sweep = (n: number, k: number, s: number, d: number, before: number, after: number) => Math.floor((n + before + after - (k - 1) * d - 1) / s) + 1;

/**
 * N-D convolution in Keras layout: x (N, …S, C), kernel (…k, C/groups, F), pads [[before, after]…]:
 * y[o, f] = b[f] + Σ_t Σ_c x[o·s − before + t·d, g·C/groups + c]·kernel[t, c, f].
 */
function convNd(x: T, k: T, bias: Float64Array | undefined, s: number[], d: number[], pads: [number, number][], groups: number): T {
  const N = x.s[0];
  const S = x.s.slice(1, -1);
  const C = x.s[x.s.length - 1];
  const r = S.length;
  const K = k.s.slice(0, r);
  const [cg, F] = k.s.slice(r);
  const O = S.map((n, i) => sweep(n, K[i], s[i], d[i], pads[i][0], pads[i][1]));
  const fg = F / groups;
  const xs = stridesOf(x.s);
  const y = new Float64Array(N * size(O) * F);
  const taps = size(K);
  const tapIdx: number[][] = [];
  eachIndex(K, (t) => tapIdx.push([...t]));
  let e = 0;
  for (let n = 0; n < N; n++)
    eachIndex(O, (o) => {
      for (let f = 0; f < F; f++) {
        const grp = Math.floor(f / fg);
        let acc = bias ? bias[f] : 0;
        for (let t = 0; t < taps; t++) {
          let at = n * xs[0];
          let inside = true;
          for (let i = 0; i < r && inside; i++) {
            const p = o[i] * s[i] - pads[i][0] + tapIdx[t][i] * d[i];
            inside = p >= 0 && p < S[i];
            at += p * xs[i + 1];
          }
          if (!inside) continue;
          for (let c = 0; c < cg; c++) acc += x.d[at + grp * cg + c] * k.d[(t * cg + c) * F + f];
        }
        y[e++] = acc;
      }
    });
  return { d: y, s: [N, ...O, F] };
}

/** N-D depthwise convolution, kernel (…k, C, multiplier); output channel c·multiplier + m. */
function depthwiseNd(x: T, k: T, bias: Float64Array | undefined, s: number[], d: number[], pads: [number, number][]): T {
  const C = x.s[x.s.length - 1];
  const r = x.s.length - 2;
  const dm = k.s[r + 1];
  // A grouped convolution with groups = C and kernel (…k, 1, C·dm), whose output f = c·dm + m reads kernel[t, c, m].
  const grouped = new Float64Array(k.d.length);
  const taps = size(k.s.slice(0, r));
  for (let t = 0; t < taps; t++) for (let c = 0; c < C; c++) for (let m = 0; m < dm; m++) grouped[t * C * dm + c * dm + m] = k.d[(t * C + c) * dm + m];
  return convNd(x, { d: grouped, s: [...k.s.slice(0, r), 1, C * dm] }, bias, s, d, pads, C);
}

/**
 * N-D transposed convolution as Keras (TensorFlow) defines it, the input gradient of the
 * convolution from the output back to the input: kernel (…k, F, C),
 * y[i·s − before + t·d, f] += x[i, c]·kernel[t, f, c], for an output of size `out`.
 */
function convTransposeNd(x: T, k: T, bias: Float64Array | undefined, s: number[], d: number[], before: number[], out: number[]): T {
  const N = x.s[0];
  const S = x.s.slice(1, -1);
  const C = x.s[x.s.length - 1];
  const r = S.length;
  const K = k.s.slice(0, r);
  const F = k.s[r];
  const ys = stridesOf([N, ...out, F]);
  const y = new Float64Array(N * size(out) * F);
  if (bias) for (let e = 0; e < y.length; e++) y[e] = bias[e % F];
  const taps: number[][] = [];
  eachIndex(K, (t) => taps.push([...t]));
  let xe = 0;
  for (let n = 0; n < N; n++)
    eachIndex(S, (i) => {
      for (let t = 0; t < taps.length; t++) {
        let at = n * ys[0];
        let inside = true;
        for (let a = 0; a < r && inside; a++) {
          const p = i[a] * s[a] - before[a] + taps[t][a] * d[a];
          inside = p >= 0 && p < out[a];
          at += p * ys[a + 1];
        }
        if (!inside) continue;
        for (let f = 0; f < F; f++) for (let c = 0; c < C; c++) y[at + f] += x.d[xe + c] * k.d[(t * F + f) * C + c];
      }
      xe += C;
    });
  return { d: y, s: [N, ...out, F] };
}

/** N-D max or average pooling; padding is ignored by max and not counted by average. */
function poolNd(kind: 'max' | 'avg', x: T, k: number[], s: number[], pads: [number, number][]): T {
  const N = x.s[0];
  const S = x.s.slice(1, -1);
  const C = x.s[x.s.length - 1];
  const r = S.length;
  const O = S.map((n, i) => sweep(n, k[i], s[i], 1, pads[i][0], pads[i][1]));
  const xs = stridesOf(x.s);
  const y = new Float64Array(N * size(O) * C);
  let e = 0;
  for (let n = 0; n < N; n++)
    eachIndex(O, (o) => {
      for (let c = 0; c < C; c++) {
        let acc = kind === 'max' ? -Infinity : 0;
        let count = 0;
        eachIndex(k, (t) => {
          let at = n * xs[0] + c;
          for (let i = 0; i < r; i++) {
            const p = o[i] * s[i] - pads[i][0] + t[i];
            if (p < 0 || p >= S[i]) return;
            at += p * xs[i + 1];
          }
          acc = kind === 'max' ? Math.max(acc, x.d[at]) : acc + x.d[at];
          count++;
        });
        y[e++] = kind === 'max' ? acc : acc / count;
      }
    });
  return { d: y, s: [N, ...O, C] };
}

/** Spatial axes padded with zeros (sign 1) or cropped (sign −1) by [before, after] each. */
function padNd(x: T, amounts: [number, number][], sign: 1 | -1): T {
  const N = x.s[0];
  const S = x.s.slice(1, -1);
  const C = x.s[x.s.length - 1];
  const O = S.map((n, i) => n + sign * (amounts[i][0] + amounts[i][1]));
  const xs = stridesOf(x.s);
  const y = new Float64Array(N * size(O) * C);
  let e = 0;
  for (let n = 0; n < N; n++)
    eachIndex(O, (o) => {
      let at = n * xs[0];
      let inside = true;
      o.forEach((v, i) => {
        const p = v - sign * amounts[i][0];
        if (p < 0 || p >= S[i]) inside = false;
        at += p * xs[i + 1];
      });
      for (let c = 0; c < C; c++) y[e++] = inside ? x.d[at + c] : 0;
    });
  return { d: y, s: [N, ...O, C] };
}

/** Nearest-neighbour upsampling by whole factors. */
function upsampleNd(x: T, factors: number[]): T {
  const N = x.s[0];
  const S = x.s.slice(1, -1);
  const C = x.s[x.s.length - 1];
  const O = S.map((n, i) => n * factors[i]);
  const xs = stridesOf(x.s);
  const y = new Float64Array(N * size(O) * C);
  let e = 0;
  for (let n = 0; n < N; n++)
    eachIndex(O, (o) => {
      let at = n * xs[0];
      o.forEach((v, i) => (at += Math.floor(v / factors[i]) * xs[i + 1]));
      for (let c = 0; c < C; c++) y[e++] = x.d[at + c];
    });
  return { d: y, s: [N, ...O, C] };
}

/** Axes permuted: y = transpose(x, perm) (batch included). */
function transpose(x: T, perm: number[]): T {
  const out = perm.map((p) => x.s[p]);
  const xs = stridesOf(x.s);
  const y = new Float64Array(x.d.length);
  eachIndex(out, (o, e) => {
    let at = 0;
    o.forEach((v, i) => (at += v * xs[perm[i]]));
    y[e] = x.d[at];
  });
  return { d: y, s: out };
}

/** Keras/TF 'same' / 'valid' / 'causal' pads of every spatial axis. */
const padsOf = (padding: string, S: number[], k: number[], s: number[], d: number[]): [number, number][] => S.map((n, i) => axisPads(padding, n, k[i], s[i], d[i]));

/** erf by its Maclaurin series (float64-exact for |x| < 4, where the terms are summed to 1e-17), ±1 beyond. */
function erf(x: number): number {
  if (Math.abs(x) >= 4) return Math.sign(x);
  let term = x;
  let sum = x;
  for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

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
    gelu: (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)),
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

/** Element-wise combination of same-shaped tensors. */
/**
 * An element-wise op with Keras' merge broadcasting: a lower-rank input is expanded at axis 1
 * until the ranks agree (base_merge.py's `expand_dims(x, axis=1)`, after the batch), then sizes
 * of 1 repeat.
 */
function zipWith(xs: T[], f: (vals: number[]) => number): T {
  const rank = Math.max(...xs.map((x) => x.s.length));
  const padded = xs.map((x) => [x.s[0], ...new Array<number>(rank - x.s.length).fill(1), ...x.s.slice(1)]);
  const s = Array.from({ length: rank }, (_, a) => Math.max(...padded.map((p) => p[a])));
  const out = new Float64Array(size(s));
  const idx = new Array<number>(rank).fill(0);
  for (let e = 0; e < out.length; e++) {
    out[e] = f(
      xs.map((x, j) => {
        let k = 0;
        for (let a = 0; a < rank; a++) k = k * padded[j][a] + (padded[j][a] === 1 ? 0 : idx[a]);
        return x.d[k];
      }),
    );
    for (let a = rank - 1; a >= 0 && ++idx[a] >= s[a]; a--) idx[a] = 0;
  }
  return { d: out, s };
}

/** Concatenation along a Keras axis (batch axis counted). */
function concatenate(xs: T[], axis: number): T {
  const rank = xs[0].s.length;
  const ax = axis < 0 ? rank + axis : axis;
  const outer = size(xs[0].s.slice(0, ax));
  const inner = size(xs[0].s.slice(ax + 1));
  const total = xs.reduce((n, x) => n + x.s[ax], 0);
  const out = new Float64Array(outer * total * inner);
  let offset = 0;
  for (const x of xs) {
    const len = x.s[ax] * inner;
    for (let o = 0; o < outer; o++) out.set(x.d.subarray(o * len, (o + 1) * len), o * total * inner + offset);
    offset += len;
  }
  const s = xs[0].s.slice();
  s[ax] = total;
  return { d: out, s };
}

/** A merge layer or tensor op, from its inputs. */
function mergeForward(l: PlanLayer, xs: T[]): T | undefined {
  const a = l.config as Record<string, any>;
  switch (l.className) {
    case 'Add':
      return zipWith(xs, (v) => v.reduce((p, q) => p + q, 0));
    case 'Subtract':
      return zipWith(xs, (v) => v[0] - v[1]);
    case 'Multiply':
      return zipWith(xs, (v) => v.reduce((p, q) => p * q, 1));
    case 'Average':
      return zipWith(xs, (v) => v.reduce((p, q) => p + q, 0) / v.length);
    case 'Maximum':
      return zipWith(xs, (v) => Math.max(...v));
    case 'Minimum':
      return zipWith(xs, (v) => Math.min(...v));
    case 'Concatenate':
      return concatenate(xs, a.axis);
    case 'Dot': {
      const [x, y] = xs;
      const [N, F] = x.s;
      const out = new Float64Array(N);
      for (let n = 0; n < N; n++) for (let f = 0; f < F; f++) out[n] += x.d[n * F + f] * y.d[n * F + f];
      return { d: out, s: [N, 1] };
    }
    case 'ScalarOp': {
      const c = a.scalar as number;
      const f = { '+': (v: number) => v + c, '-': (v: number) => (a.reversed ? c - v : v - c), '*': (v: number) => v * c, '/': (v: number) => (a.reversed ? c / v : v / c) }[a.op as '+'];
      return zipWith(xs, (v) => f(v[0]));
    }
    case 'UnaryOp': {
      const f = ({ exp: Math.exp, log: Math.log, sqrt: Math.sqrt, square: (v: number) => v * v, abs: Math.abs, negative: (v: number) => -v } as Record<string, (v: number) => number>)[a.fn] ?? ((v: number) => v);
      return zipWith(xs, (v) => f(v[0]));
    }
    default:
      return undefined;
  }
}

/** One layer call forward in training mode, on its inputs. */
export function layerForward(l: PlanLayer, xs: T[], w: Record<string, Float64Array>, draws: Draws): T {
  const a = l.config as Record<string, any>;
  const key = (k: string) => w[`${l.name}/${k}`];
  const x = xs[0];
  let y: T;
  const merged = mergeForward(l, xs);
  if (merged) {
    const name = a.activation as string | null | undefined;
    return activation(name, merged);
  }
  switch (l.className) {
    case 'Conv1D':
    case 'Conv2D':
    case 'Conv3D': {
      const S = x.s.slice(1, -1);
      y = convNd(x, { d: key('kernel'), s: l.weights[0].shape }, a.use_bias ? key('bias') : undefined, a.strides, a.dilation_rate, padsOf(a.padding, S, a.kernel_size, a.strides, a.dilation_rate), a.groups);
      break;
    }
    case 'Conv1DTranspose':
    case 'Conv2DTranspose':
    case 'Conv3DTranspose': {
      // TensorFlow pads the convolution this one transposes, from the output size back to the input.
      const out = l.output.slice(0, -1);
      const before = padsOf(a.padding, out, a.kernel_size, a.strides, a.dilation_rate).map((p) => p[0]);
      y = convTransposeNd(x, { d: key('kernel'), s: l.weights[0].shape }, a.use_bias ? key('bias') : undefined, a.strides, a.dilation_rate, before, out);
      break;
    }
    case 'DepthwiseConv1D':
    case 'DepthwiseConv2D':
    case 'SeparableConv1D':
    case 'SeparableConv2D': {
      const S = x.s.slice(1, -1);
      const dk = l.weights.find((q) => q.name.endsWith('/depthwise_kernel'))!;
      const separable = l.className.startsWith('Separable');
      const pads = padsOf(a.padding, S, a.kernel_size, a.strides, a.dilation_rate);
      y = depthwiseNd(x, { d: key('depthwise_kernel'), s: dk.shape }, !separable && a.use_bias ? key('bias') : undefined, a.strides, a.dilation_rate, pads);
      if (separable) {
        const pk = l.weights.find((q) => q.name.endsWith('/pointwise_kernel'))!;
        const ones = S.map(() => 1);
        y = convNd(y, { d: key('pointwise_kernel'), s: pk.shape }, a.use_bias ? key('bias') : undefined, ones, ones, S.map(() => [0, 0] as [number, number]), 1);
      }
      break;
    }
    case 'LocallyConnected1D':
    case 'LocallyConnected2D': {
      // Keras 2's local_conv: every output position o has its own kernel[o] of shape (∏k·C, F) over the patch x[o·s : o·s + k, :].
      const C = x.s[x.s.length - 1];
      const O = l.output.slice(0, -1);
      const F = a.filters;
      const k = key('kernel');
      const patch = size(a.kernel_size) * C;
      const xs = stridesOf(x.s);
      const out = new Float64Array(x.s[0] * size(O) * F);
      for (let n = 0; n < x.s[0]; n++)
        eachIndex(O, (o, p) => {
          for (let f = 0; f < F; f++) {
            let acc = a.use_bias ? key('bias')[p * F + f] : 0;
            eachIndex(a.kernel_size, (t, tf) => {
              let at = n * xs[0];
              o.forEach((v, i) => (at += (v * a.strides[i] + t[i]) * xs[i + 1]));
              for (let c = 0; c < C; c++) acc += x.d[at + c] * k[(p * patch + tf * C + c) * F + f];
            });
            out[((n * size(O) + p) * F) + f] = acc;
          }
        });
      y = { d: out, s: [x.s[0], ...O, F] };
      break;
    }
    case 'MaxPooling1D':
    case 'AveragePooling1D':
    case 'MaxPooling2D':
    case 'AveragePooling2D':
    case 'MaxPooling3D':
    case 'AveragePooling3D': {
      const strides: number[] = a.strides ?? a.pool_size;
      y = poolNd(l.className.startsWith('Max') ? 'max' : 'avg', x, a.pool_size, strides, padsOf(a.padding, x.s.slice(1, -1), a.pool_size, strides, a.pool_size.map(() => 1)));
      break;
    }
    case 'AdaptiveMaxPooling1D':
    case 'AdaptiveMaxPooling2D':
    case 'AdaptiveMaxPooling3D':
    case 'AdaptiveAveragePooling1D':
    case 'AdaptiveAveragePooling2D':
    case 'AdaptiveAveragePooling3D': {
      // Keras: window i of an axis covers [⌊i·n/out⌋, ⌈(i + 1)·n/out⌉).
      const max = l.className.includes('Max');
      const S = x.s.slice(1, -1);
      const C = x.s[x.s.length - 1];
      const O: number[] = a.output_size;
      const xs = stridesOf(x.s);
      const out = new Float64Array(x.s[0] * size(O) * C);
      let e = 0;
      for (let n = 0; n < x.s[0]; n++)
        eachIndex(O, (o) => {
          const start = o.map((v, i) => Math.floor((v * S[i]) / O[i]));
          const extent = o.map((v, i) => Math.ceil(((v + 1) * S[i]) / O[i]) - start[i]);
          for (let c = 0; c < C; c++) {
            let acc = max ? -Infinity : 0;
            eachIndex(extent, (t) => {
              let at = n * xs[0] + c;
              t.forEach((v, i) => (at += (start[i] + v) * xs[i + 1]));
              acc = max ? Math.max(acc, x.d[at]) : acc + x.d[at] / size(extent);
            });
            out[e++] = acc;
          }
        });
      y = { d: out, s: [x.s[0], ...O, C] };
      break;
    }
    case 'RMSNormalization': {
      const C = x.s[x.s.length - 1];
      const out = new Float64Array(x.d.length);
      for (let p = 0; p < x.d.length / C; p++) {
        let ms = 0;
        for (let c = 0; c < C; c++) ms += x.d[p * C + c] ** 2 / C;
        for (let c = 0; c < C; c++) out[p * C + c] = (x.d[p * C + c] / Math.sqrt(ms + a.epsilon)) * key('scale')[c];
      }
      y = { d: out, s: x.s };
      break;
    }
    case 'GlobalMaxPooling1D':
    case 'GlobalMaxPooling2D':
    case 'GlobalMaxPooling3D':
    case 'GlobalAveragePooling1D':
    case 'GlobalAveragePooling2D':
    case 'GlobalAveragePooling3D': {
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
      // On the last axis, every leading position (batch included) a row of its own.
      const F = x.s[x.s.length - 1];
      const N = x.d.length / F;
      const U = a.units;
      const k = key('kernel');
      const out = new Float64Array(N * U);
      for (let n = 0; n < N; n++)
        for (let u = 0; u < U; u++) {
          let acc = a.use_bias ? key('bias')[u] : 0;
          for (let f = 0; f < F; f++) acc += x.d[n * F + f] * k[f * U + u];
          out[n * U + u] = acc;
        }
      y = { d: out, s: [...x.s.slice(0, -1), U] };
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
    case 'SpatialDropout3D':
    case 'GaussianDropout': {
      const m = draws[`mask:${l.node}`];
      y = m ? broadcastMul(x, fromOnnxLayout(m.data, m.dims)) : x;
      break;
    }
    case 'GaussianNoise': {
      const m = draws[`noise:${l.node}`];
      const noise = m ? fromOnnxLayout(m.data, m.dims) : undefined;
      y = noise ? { d: x.d.map((v, e) => v + noise.d[e]), s: x.s } : x;
      break;
    }
    case 'Activation':
    case 'ActivityRegularization':
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
    case 'ZeroPadding3D':
      y = padNd(x, a.padding, 1);
      break;
    case 'Cropping1D':
    case 'Cropping2D':
    case 'Cropping3D':
      y = padNd(x, a.cropping, -1);
      break;
    case 'CenterCrop': {
      const [H, W] = x.s.slice(1, 3);
      const top = Math.floor((H - a.height) / 2);
      const left = Math.floor((W - a.width) / 2);
      y = padNd(x, [[top, H - a.height - top], [left, W - a.width - left]], -1);
      break;
    }
    case 'UpSampling1D':
    case 'UpSampling2D':
    case 'UpSampling3D':
      y = upsampleNd(x, a.size);
      break;
    case 'Permute':
      y = transpose(x, [0, ...a.dims]);
      break;
    case 'RepeatVector': {
      const [N, F] = x.s;
      const out = new Float64Array(N * a.n * F);
      for (let n = 0; n < N; n++) for (let t = 0; t < a.n; t++) for (let f = 0; f < F; f++) out[(n * a.n + t) * F + f] = x.d[n * F + f];
      y = { d: out, s: [N, a.n, F] };
      break;
    }
    case 'Identity':
      y = x;
      break;
    case 'ThresholdedReLU':
      y = { d: x.d.map((v) => (v > a.theta ? v : 0)), s: x.s };
      break;
    case 'AlphaDropout': {
      // Keras: y = a·(x·kept + α′·(1 − kept)) + b, α′ = −αλ of SELU.
      const m = draws[`mask:${l.node}`];
      if (!m) {
        y = x;
        break;
      }
      const kept = fromOnnxLayout(m.data, m.dims);
      const alphaP = -1.6732632423543772 * 1.0507009873554805;
      const aa = ((1 - a.rate) * (1 + a.rate * alphaP ** 2)) ** -0.5;
      const bb = -aa * alphaP * a.rate;
      y = { d: x.d.map((v, e) => aa * (v * kept.d[e] + alphaP * (1 - kept.d[e])) + bb), s: x.s };
      break;
    }
    case 'RandomFlip': {
      // Keras 3: one draw per image flips every axis of the mode together.
      const m = draws[`mask:${l.node}`];
      if (!m) {
        y = x;
        break;
      }
      const [N, H, W, C] = x.s;
      const out = new Float64Array(x.d.length);
      for (let n = 0; n < N; n++) {
        const flip = m.data[n] === 1;
        for (let h = 0; h < H; h++)
          for (let w2 = 0; w2 < W; w2++) {
            const sh = flip && a.mode !== 'horizontal' ? H - 1 - h : h;
            const sw = flip && a.mode !== 'vertical' ? W - 1 - w2 : w2;
            for (let c = 0; c < C; c++) out[((n * H + h) * W + w2) * C + c] = x.d[((n * H + sh) * W + sw) * C + c];
          }
      }
      y = { d: out, s: x.s };
      break;
    }
    case 'RandomRotation':
    case 'RandomZoom':
    case 'RandomTranslation':
    case 'RandomContrast':
    case 'RandomBrightness':
      // Passed through while training (the trainer notes it).
      y = x;
      break;
    case 'GroupNormalization': {
      const C = x.s[x.s.length - 1];
      const groups = a.groups === -1 ? C : a.groups;
      const cg = C / groups;
      const plane = x.d.length / x.s[0] / C;
      const out = new Float64Array(x.d.length);
      for (let n = 0; n < x.s[0]; n++)
        for (let grp = 0; grp < groups; grp++) {
          const at = (p: number, c: number) => (n * plane + p) * C + grp * cg + c;
          let mean = 0;
          for (let p = 0; p < plane; p++) for (let c = 0; c < cg; c++) mean += x.d[at(p, c)] / (plane * cg);
          let v = 0;
          for (let p = 0; p < plane; p++) for (let c = 0; c < cg; c++) v += (x.d[at(p, c)] - mean) ** 2 / (plane * cg);
          for (let p = 0; p < plane; p++)
            for (let c = 0; c < cg; c++) {
              const ch = grp * cg + c;
              out[at(p, c)] = ((x.d[at(p, c)] - mean) / Math.sqrt(v + a.epsilon)) * (a.scale ? key('gamma')[ch] : 1) + (a.center ? key('beta')[ch] : 0);
            }
        }
      y = { d: out, s: x.s };
      break;
    }
    case 'UnitNormalization': {
      // x / √max(Σx², 1e-24) over the axes (Keras' axis counts the batch axis).
      const full = x.s.length;
      const axesSet = new Set((a.axis as number[]).map((ax) => (ax < 0 ? full + ax : ax)));
      const reduced = x.s.map((d, i) => (axesSet.has(i) ? 1 : d));
      const rs = stridesOf(reduced);
      const sums = new Float64Array(size(reduced));
      const cell = (idx: number[]) => idx.reduce((acc, v, i) => acc + (axesSet.has(i) ? 0 : v * rs[i]), 0);
      eachIndex(x.s, (idx, e) => (sums[cell(idx)] += x.d[e] ** 2));
      const out = new Float64Array(x.d.length);
      eachIndex(x.s, (idx, e) => (out[e] = x.d[e] / Math.sqrt(Math.max(sums[cell(idx)], 1e-24))));
      y = { d: out, s: x.s };
      break;
    }
    case 'Normalization': {
      // (x − mean)/max(√var, 1e-7) with mean/variance broadcast over the kept axes, aligned from the right.
      const full = x.s.length;
      const kept = [...new Set((a.axis as number[]).map((ax) => (ax < 0 ? full + ax : ax)))].sort((p, q) => p - q);
      const ms: number[] = a.mean.shape;
      const out = new Float64Array(x.d.length);
      eachIndex(x.s, (idx, e) => {
        let k = 0;
        ms.forEach((m, t) => (k = k * m + (m === 1 ? 0 : idx[kept[kept.length - ms.length + t]])));
        const sd = Math.max(Math.sqrt(a.variance.values[k]), 1e-7);
        out[e] = a.invert ? a.mean.values[k] + x.d[e] * sd : (x.d[e] - a.mean.values[k]) / sd;
      });
      y = { d: out, s: x.s };
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
  const outs: T[] = [];
  // A shared layer's later calls read the weights its first call declares.
  const owner = new Map(plan.layers.filter((l) => l.weights.length > 0).map((l) => [l.name, l.weights]));
  for (const l of plan.layers) {
    const call = l.weights.length === 0 && owner.has(l.name) ? { ...l, weights: owner.get(l.name)! } : l;
    outs.push(layerForward(call, l.inputs.map((i) => (i < 0 ? x : outs[i])), w, draws));
  }
  return outs[outs.length - 1];
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
