// Finite-difference checks of the backward recipes in src/core/onnx/grad.ts.
// Analytic gradients come from onnxruntime (float32); numeric ones from central
// differences of a float64 plain-JS forward pass, so the comparison is not
// limited by float32 noise.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../src/core/onnx/graphBuilder';
import * as grad from '../../src/core/onnx/grad';
import { mulberry32 } from '../../src/core/train/random';

const THRESHOLD = 1e-3;
const summary: string[] = [];


let rand = mulberry32(1234);

/** Float32-representable uniform values in [lo, hi), optionally kept at least `margin` away from `kinks`. */
function uniform(n: number, lo = -1, hi = 1, kinks: number[] = [], margin = 0.02): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v: number;
    do v = lo + (hi - lo) * rand();
    while (kinks.some((k) => Math.abs(v - k) < margin));
    out[i] = v;
  }
  return out;
}

const prod = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);

interface Param {
  dims: number[];
  data: Float32Array;
}

interface GradCase {
  params: Record<string, Param>;
  /** Non-differentiable inputs (labels...). */
  fixed?: Record<string, { dims: number[]; data: Float32Array | BigInt64Array; type?: 'float32' | 'int64' }>;
  /** When set, the scalar under test is L = Σ y·R for a random R of this shape, fed as input 'dy'. */
  outDims?: number[];
  build: (g: GraphBuilder, dy: string) => { y?: string; loss?: string; grads: Record<string, string> };
  /** float64 forward: the layer output (with outDims) or the scalar loss. */
  ref: (p: Record<string, Float64Array>) => Float64Array | number;
  /** Only check these many coordinates per parameter (spread evenly). */
  maxCoords?: number;
}

async function runGraph(g: GraphBuilder, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.OnnxValueMapType> {
  const session = await ort.InferenceSession.create(g.toModelBytes(), { intraOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

function maxRelError(analytic: ArrayLike<number>, numeric: ArrayLike<number>, idx?: number[]): number {
  let num = 0;
  let den = 0;
  const indices = idx ?? Array.from({ length: numeric.length }, (_, i) => i);
  for (const i of indices) {
    num = Math.max(num, Math.abs(analytic[i] - numeric[i]));
    den = Math.max(den, Math.abs(numeric[i]));
  }
  return den === 0 ? num : num / den;
}

async function gradCheck(label: string, c: GradCase): Promise<void> {
  const g = new GraphBuilder();
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, p] of Object.entries(c.params)) {
    g.input(name, p.dims);
    feeds[name] = new ort.Tensor('float32', p.data, p.dims);
  }
  for (const [name, f] of Object.entries(c.fixed ?? {})) {
    const type = f.type ?? (f.data instanceof BigInt64Array ? 'int64' : 'float32');
    g.input(name, f.dims, type);
    feeds[name] = new ort.Tensor(type, f.data, f.dims);
  }
  let r64: Float64Array | undefined;
  if (c.outDims) {
    const r = uniform(prod(c.outDims));
    r64 = Float64Array.from(r);
    g.input('dy', c.outDims);
    feeds.dy = new ort.Tensor('float32', r, c.outDims);
  }
  const built = c.build(g, 'dy');
  const forwardName = built.y ?? built.loss;
  if (forwardName) g.output(g.identity(forwardName, 'forward_out'));
  for (const [name, gname] of Object.entries(built.grads)) g.output(g.identity(gname, `grad_${name}`));
  const result = await runGraph(g, feeds);

  const p64: Record<string, Float64Array> = {};
  for (const [name, p] of Object.entries(c.params)) p64[name] = Float64Array.from(p.data);
  const scalarLoss = (): number => {
    const out = c.ref(p64);
    if (typeof out === 'number') return out;
    let s = 0;
    for (let i = 0; i < out.length; i++) s += out[i] * r64![i];
    return s;
  };

  const parts: string[] = [];
  // Forward check: the recipe's forward must match the reference semantics.
  if (forwardName) {
    const refOut = c.ref(p64);
    const got = result.forward_out.data as Float32Array;
    const fErr = typeof refOut === 'number' ? Math.abs(got[0] - refOut) / Math.max(Math.abs(refOut), 1e-12) : maxRelError(got, refOut);
    parts.push(`fwd ${fErr.toExponential(1)}`);
    assert.ok(fErr < 1e-4, `${label}: forward mismatch ${fErr}`);
  }
  let worst = 0;
  for (const name of Object.keys(built.grads)) {
    const analytic = result[`grad_${name}`].data as Float32Array;
    const p = p64[name];
    assert.equal(analytic.length, p.length, `${label}: grad_${name} has ${analytic.length} elements, expected ${p.length}`);
    const count = Math.min(p.length, c.maxCoords ?? Infinity);
    const idx = Array.from({ length: count }, (_, k) => Math.floor((k * p.length) / count));
    const numeric = new Float64Array(p.length);
    for (const i of idx) {
      const orig = p[i];
      const h = 1e-5 * Math.max(1, Math.abs(orig));
      p[i] = orig + h;
      const lp = scalarLoss();
      p[i] = orig - h;
      const lm = scalarLoss();
      p[i] = orig;
      numeric[i] = (lp - lm) / (2 * h);
    }
    const err = maxRelError(analytic, numeric, idx);
    worst = Math.max(worst, err);
    parts.push(`d${name} ${err.toExponential(1)}`);
    assert.ok(err < THRESHOLD, `${label}: d${name} max relative error ${err}`);
  }
  summary.push(`${label}: max rel err ${worst.toExponential(2)} (${parts.join(', ')})`);
}

// ---- float64 references ------------------------------------------------------

interface ConvRef {
  s: number[];
  d: number[];
  pads: number[]; // [top, left, bottom, right]
  groups: number;
}

/** 2-D convolution, x [N,C,H,W], w [M,C/G,kh,kw]. */
function conv2dRef(x: Float64Array, xd: number[], w: Float64Array, wd: number[], b: Float64Array | undefined, o: ConvRef): { data: Float64Array; dims: number[] } {
  const [N, C, H, W] = xd;
  const [M, Cg, kh, kw] = wd;
  const OH = Math.floor((H + o.pads[0] + o.pads[2] - (kh - 1) * o.d[0] - 1) / o.s[0]) + 1;
  const OW = Math.floor((W + o.pads[1] + o.pads[3] - (kw - 1) * o.d[1] - 1) / o.s[1]) + 1;
  const Mg = M / o.groups;
  const y = new Float64Array(N * M * OH * OW);
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) {
      const grp = Math.floor(m / Mg);
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let acc = b ? b[m] : 0;
          for (let cl = 0; cl < Cg; cl++) {
            const c = grp * Cg + cl;
            for (let i = 0; i < kh; i++) {
              const h = oh * o.s[0] - o.pads[0] + i * o.d[0];
              if (h < 0 || h >= H) continue;
              for (let j = 0; j < kw; j++) {
                const ww = ow * o.s[1] - o.pads[1] + j * o.d[1];
                if (ww < 0 || ww >= W) continue;
                acc += x[((n * C + c) * H + h) * W + ww] * w[((m * Cg + cl) * kh + i) * kw + j];
              }
            }
          }
          y[((n * M + m) * OH + oh) * OW + ow] = acc;
        }
    }
  return { data: y, dims: [N, M, OH, OW] };
}

/** 2-D pooling; padded positions are ignored (max) / excluded from the count (avg). */
function pool2dRef(kind: 'max' | 'avg', x: Float64Array, xd: number[], k: number[], s: number[], pads: number[]): { data: Float64Array; dims: number[] } {
  const [N, C, H, W] = xd;
  const OH = Math.floor((H + pads[0] + pads[2] - k[0]) / s[0]) + 1;
  const OW = Math.floor((W + pads[1] + pads[3] - k[1]) / s[1]) + 1;
  const y = new Float64Array(N * C * OH * OW);
  for (let nc = 0; nc < N * C; nc++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        let acc = kind === 'max' ? -Infinity : 0;
        let count = 0;
        for (let i = 0; i < k[0]; i++) {
          const h = oh * s[0] - pads[0] + i;
          if (h < 0 || h >= H) continue;
          for (let j = 0; j < k[1]; j++) {
            const w = ow * s[1] - pads[1] + j;
            if (w < 0 || w >= W) continue;
            const v = x[(nc * H + h) * W + w];
            if (kind === 'max') acc = Math.max(acc, v);
            else acc += v;
            count++;
          }
        }
        y[(nc * OH + oh) * OW + ow] = kind === 'max' ? acc : acc / count;
      }
  return { data: y, dims: [N, C, OH, OW] };
}

function denseRef(x: Float64Array, n: number, k: number, w: Float64Array, m: number, b?: Float64Array): Float64Array {
  const y = new Float64Array(n * m);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      let acc = b ? b[j] : 0;
      for (let t = 0; t < k; t++) acc += x[i * k + t] * w[t * m + j];
      y[i * m + j] = acc;
    }
  return y;
}

function softmaxRows(z: Float64Array, rows: number, cols: number, log = false): Float64Array {
  const out = new Float64Array(z.length);
  for (let r = 0; r < rows; r++) {
    let mx = -Infinity;
    for (let c = 0; c < cols; c++) mx = Math.max(mx, z[r * cols + c]);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(z[r * cols + c] - mx);
    for (let c = 0; c < cols; c++) {
      const v = z[r * cols + c] - mx - Math.log(s);
      out[r * cols + c] = log ? v : Math.exp(v);
    }
  }
  return out;
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

function activationRef(kind: grad.ActivationKind, x: Float64Array, rows: number, cols: number, alpha?: number): Float64Array {
  if (kind === 'softmax') return softmaxRows(x, rows, cols);
  const f = (v: number): number => {
    switch (kind) {
      case 'linear':
        return v;
      case 'relu':
        return Math.max(v, 0);
      case 'relu6':
        return Math.min(Math.max(v, 0), 6);
      case 'sigmoid':
        return sigmoid(v);
      case 'tanh':
        return Math.tanh(v);
      case 'elu':
        return v > 0 ? v : (alpha ?? 1) * Math.expm1(v);
      case 'selu':
        return 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * Math.expm1(v));
      case 'leaky_relu':
        return v > 0 ? v : (alpha ?? 0.3) * v;
      case 'softplus':
        return Math.log1p(Math.exp(v));
      case 'silu':
        return v * sigmoid(v);
      default:
        throw new Error(kind);
    }
  };
  return x.map(f);
}

// ---- cases -------------------------------------------------------------------

interface ConvCase {
  label: string;
  n: number;
  c: number;
  m: number;
  spatial: number[];
  kernel: number[];
  strides?: number[];
  dilations?: number[];
  padding: grad.KerasPadding;
  groups?: number;
  bias?: boolean;
}

const convCases: ConvCase[] = [
  { label: 'conv2d valid s1', n: 2, c: 3, m: 4, spatial: [6, 7], kernel: [3, 3], padding: 'valid' },
  { label: 'conv2d valid stride 2 (dropped row/col)', n: 2, c: 2, m: 3, spatial: [8, 9], kernel: [3, 2], strides: [2, 2], padding: 'valid' },
  { label: 'conv2d dilation 2', n: 2, c: 2, m: 3, spatial: [9, 8], kernel: [3, 3], dilations: [2, 2], padding: 'valid' },
  { label: "conv2d 'same' stride 2, odd extra pad bottom/right", n: 2, c: 2, m: 3, spatial: [8, 7], kernel: [3, 4], strides: [2, 2], padding: 'same' },
  { label: "conv2d 'same' even kernel s1", n: 1, c: 2, m: 2, spatial: [5, 6], kernel: [2, 2], padding: 'same' },
  { label: "conv2d 'same' stride 2 + dilation 2", n: 2, c: 2, m: 2, spatial: [9, 10], kernel: [3, 3], strides: [2, 2], dilations: [2, 2], padding: 'same' },
  { label: 'conv2d groups=2', n: 2, c: 4, m: 6, spatial: [6, 6], kernel: [3, 3], groups: 2, padding: 'same' },
  { label: 'conv2d groups=2 stride 2 dilation 2', n: 2, c: 4, m: 4, spatial: [9, 9], kernel: [2, 3], strides: [2, 2], dilations: [2, 2], groups: 2, padding: 'valid' },
  { label: 'conv2d depthwise (groups=C, multiplier 2)', n: 2, c: 3, m: 6, spatial: [6, 5], kernel: [3, 3], groups: 3, padding: 'same' },
  { label: 'conv2d no bias', n: 2, c: 2, m: 2, spatial: [5, 5], kernel: [3, 3], padding: 'valid', bias: false },
  { label: "conv1d 'same' stride 2", n: 2, c: 3, m: 4, spatial: [11], kernel: [3], strides: [2], padding: 'same' },
  { label: 'conv1d causal dilation 2', n: 2, c: 2, m: 3, spatial: [10], kernel: [3], dilations: [2], padding: 'causal' },
];

describe('onnx grad recipes: convolution', () => {
  for (const base of convCases) {
    // Every dw formulation the geometry allows, each with every dx formulation it allows.
    const dwMethods = (base.groups ?? 1) === 1 ? (['gemm', 'conv', 'im2col'] as const) : (['conv'] as const);
    const dxMethods = (base.strides ?? []).every((s) => s === 1) ? (['conv', 'convTranspose'] as const) : (['convTranspose'] as const);
    for (const [dwMethod, dxMethod] of dwMethods.flatMap((dw) => dxMethods.map((dx) => [dw, dx] as const))) {
    const cc = { ...base, label: `${base.label} [dw ${dwMethod}, dx ${dxMethod}]` };
    test(cc.label, async () => {
      const r = cc.spatial.length;
      const strides = cc.strides ?? cc.kernel.map(() => 1);
      const dilations = cc.dilations ?? cc.kernel.map(() => 1);
      const groups = cc.groups ?? 1;
      const pads = grad.kerasPads(cc.padding, cc.spatial, cc.kernel, strides, dilations);
      const spec: grad.ConvSpec = { inChannels: cc.c, outChannels: cc.m, kernel: cc.kernel, inputSpatial: cc.spatial, strides, dilations, pads, groups };
      const out = grad.convOutputSpatial(spec);
      const xd = [cc.n, cc.c, ...cc.spatial];
      const wd = [cc.m, cc.c / groups, ...cc.kernel];
      const params: Record<string, Param> = { x: { dims: xd, data: uniform(prod(xd)) }, w: { dims: wd, data: uniform(prod(wd)) } };
      const bias = cc.bias ?? true;
      if (bias) params.b = { dims: [cc.m], data: uniform(cc.m) };
      // 1-D is checked against the 2-D reference with H = 1.
      const lift = (v: number[], one: number) => (r === 1 ? [one, ...v] : v);
      const refOpts: ConvRef = {
        s: lift(strides, 1),
        d: lift(dilations, 1),
        pads: r === 1 ? [0, pads[0], 0, pads[1]] : pads,
        groups,
      };
      await gradCheck(cc.label, {
        params,
        outDims: [cc.n, cc.m, ...out],
        build: (g, dy) => {
          const y = grad.convForward(g, spec, 'x', 'w', bias ? 'b' : undefined);
          const gr = grad.convBackward(g, spec, 'x', 'w', dy, { db: bias, dwMethod, dxMethod });
          const grads: Record<string, string> = { x: gr.dx!, w: gr.dw! };
          if (bias) grads.b = gr.db!;
          return { y, grads };
        },
        ref: (p) => conv2dRef(p.x, r === 1 ? [cc.n, cc.c, 1, cc.spatial[0]] : xd, p.w, r === 1 ? [cc.m, cc.c / groups, 1, cc.kernel[0]] : wd, p.b, refOpts).data,
      });
    });
    }
  }
});

interface PoolCase {
  label: string;
  kind: 'max' | 'avg';
  spatial: number[];
  kernel: number[];
  strides?: number[];
  padding: 'valid' | 'same';
  method?: grad.MaxPoolGradMethod;
}

const poolCases: PoolCase[] = [
  { label: 'maxpool 2x2 s2 (mask)', kind: 'max', spatial: [6, 8], kernel: [2, 2], padding: 'valid', method: 'mask' },
  { label: 'maxpool 2x2 s2 (scatter)', kind: 'max', spatial: [6, 8], kernel: [2, 2], padding: 'valid', method: 'scatter' },
  { label: 'maxpool 2x2 s2 odd input (mask: slice + pad)', kind: 'max', spatial: [7, 5], kernel: [2, 2], padding: 'valid', method: 'mask' },
  { label: 'maxpool 2x2 s2 odd input (scatter)', kind: 'max', spatial: [7, 5], kernel: [2, 2], padding: 'valid', method: 'scatter' },
  { label: 'maxpool 3x3 s3 (mask)', kind: 'max', spatial: [9, 10], kernel: [3, 3], padding: 'valid', method: 'mask' },
  { label: 'maxpool 3x2 s(3,2) (auto)', kind: 'max', spatial: [9, 8], kernel: [3, 2], padding: 'valid' },
  { label: 'maxpool 3x3 s2 overlapping (auto → scatter)', kind: 'max', spatial: [9, 8], kernel: [3, 3], strides: [2, 2], padding: 'valid' },
  { label: "maxpool 3x3 s2 'same'", kind: 'max', spatial: [8, 7], kernel: [3, 3], strides: [2, 2], padding: 'same' },
  { label: "maxpool 2x2 s2 'same' odd input (padded → scatter)", kind: 'max', spatial: [7, 7], kernel: [2, 2], padding: 'same' },
  { label: 'maxpool1d 3 s3 (mask)', kind: 'max', spatial: [11], kernel: [3], padding: 'valid', method: 'mask' },
  { label: 'maxpool1d 3 s2 (scatter)', kind: 'max', spatial: [11], kernel: [3], strides: [2], padding: 'valid', method: 'scatter' },
  { label: 'avgpool 2x2 s2 (tiled)', kind: 'avg', spatial: [6, 8], kernel: [2, 2], padding: 'valid' },
  { label: 'avgpool 2x2 s2 odd input (tiled + pad)', kind: 'avg', spatial: [7, 5], kernel: [2, 2], padding: 'valid' },
  { label: 'avgpool 3x3 s2 overlapping', kind: 'avg', spatial: [9, 8], kernel: [3, 3], strides: [2, 2], padding: 'valid' },
  { label: "avgpool 3x3 s2 'same' (padding not counted)", kind: 'avg', spatial: [8, 7], kernel: [3, 3], strides: [2, 2], padding: 'same' },
  { label: "avgpool 2x2 s1 'same'", kind: 'avg', spatial: [5, 6], kernel: [2, 2], strides: [1, 1], padding: 'same' },
  { label: 'avgpool1d 2 s2', kind: 'avg', spatial: [9], kernel: [2], padding: 'valid' },
];

describe('onnx grad recipes: pooling', () => {
  for (const pc of poolCases) {
    test(pc.label, async () => {
      const n = 2;
      const c = 3;
      const strides = pc.strides ?? pc.kernel;
      const pads = grad.kerasPads(pc.padding, pc.spatial, pc.kernel, strides);
      const spec: grad.PoolSpec = { kernel: pc.kernel, inputSpatial: pc.spatial, strides, pads };
      const out = grad.poolOutputSpatial(spec);
      const xd = [n, c, ...pc.spatial];
      const oneD = pc.spatial.length === 1;
      const lift = (v: number[], one: number) => (oneD ? [one, ...v] : v);
      await gradCheck(pc.label, {
        params: { x: { dims: xd, data: uniform(prod(xd)) } },
        outDims: [n, c, ...out],
        build: (g, dy) => {
          if (pc.kind === 'max') {
            const fwd = grad.maxPoolForward(g, spec, 'x', pc.method);
            if (pc.method === 'mask') assert.equal(fwd.indices, undefined);
            if (pc.method === 'scatter') assert.ok(fwd.indices);
            return { y: fwd.y, grads: { x: grad.maxPoolBackward(g, spec, 'x', fwd, dy) } };
          }
          const y = grad.avgPoolForward(g, spec, 'x');
          return { y, grads: { x: grad.avgPoolBackward(g, spec, c, dy) } };
        },
        ref: (p) => pool2dRef(pc.kind, p.x, oneD ? [n, c, 1, pc.spatial[0]] : xd, lift(pc.kernel, 1), lift(strides, 1), oneD ? [0, pads[0], 0, pads[1]] : pads).data,
      });
    });
  }

  test('maxpool ties: mask and scatter both route to the first maximum (TF semantics), ReLU fold is exact', async () => {
    // Quantized values make tied maxima common, including all-zero windows after ReLU.
    const n = 2;
    const c = 3;
    const spatial = [8, 6];
    const xd = [n, c, ...spatial];
    const spec: grad.PoolSpec = { kernel: [2, 2], inputSpatial: spatial };
    const pre = Float32Array.from({ length: prod(xd) }, () => Math.round(rand() * 4) - 2);
    const dy = Float32Array.from({ length: n * c * 4 * 3 }, () => Math.round(rand() * 8) + 1);
    // JS reference: first max in row-major window order, then ReLU backward.
    const refPool = new Float64Array(pre.length);
    const refFold = new Float64Array(pre.length);
    for (let nc = 0; nc < n * c; nc++)
      for (let oh = 0; oh < 4; oh++)
        for (let ow = 0; ow < 3; ow++) {
          let best = -1;
          for (let i = 0; i < 2; i++)
            for (let j = 0; j < 2; j++) {
              const idx = (nc * 8 + 2 * oh + i) * 6 + 2 * ow + j;
              if (best < 0 || Math.max(pre[idx], 0) > Math.max(pre[best], 0)) best = idx;
            }
          const d = dy[(nc * 4 + oh) * 3 + ow];
          refPool[best] += d;
          if (pre[best] > 0) refFold[best] += d;
        }
    const g = new GraphBuilder();
    g.input('pre', xd);
    g.input('dy', [n, c, 4, 3]);
    const a = g.relu('pre');
    for (const method of ['mask', 'scatter'] as const) {
      const fwd = grad.maxPoolForward(g, spec, a, method);
      g.output(g.identity(grad.maxPoolBackward(g, spec, a, fwd, 'dy'), `pool_${method}`));
      const unfused = grad.activationBackward(g, { kind: 'relu' }, 'pre', a, grad.maxPoolBackward(g, spec, a, fwd, 'dy'));
      g.output(g.identity(unfused, `unfused_${method}`));
      g.output(g.identity(grad.maxPoolBackward(g, spec, a, fwd, 'dy', { afterRelu: true }), `fused_${method}`));
    }
    const res = await runGraph(g, { pre: new ort.Tensor('float32', pre, xd), dy: new ort.Tensor('float32', dy, [n, c, 4, 3]) });
    let tiedWindows = 0;
    for (let nc = 0; nc < n * c; nc++)
      for (let oh = 0; oh < 4; oh++)
        for (let ow = 0; ow < 3; ow++) {
          const vals = [0, 1, 2, 3].map((q) => Math.max(pre[(nc * 8 + 2 * oh + (q >> 1)) * 6 + 2 * ow + (q & 1)], 0));
          if (vals.filter((v) => v === Math.max(...vals)).length > 1) tiedWindows++;
        }
    assert.ok(tiedWindows > 10, `test data should contain tied windows (${tiedWindows})`);
    for (const method of ['mask', 'scatter']) {
      assert.deepEqual(Array.from(res[`pool_${method}`].data as Float32Array), Array.from(refPool), `${method}: pooled gradient`);
      assert.deepEqual(Array.from(res[`unfused_${method}`].data as Float32Array), Array.from(refFold), `${method}: relu after pool`);
      assert.deepEqual(Array.from(res[`fused_${method}`].data as Float32Array), Array.from(refFold), `${method}: afterRelu fold`);
    }
    summary.push('maxpool ties (quantized data): mask, scatter and the afterRelu fold equal the first-max JS reference exactly');
  });

  test('global average pooling', async () => {
    const xd = [2, 3, 4, 5];
    await gradCheck('global avgpool', {
      params: { x: { dims: xd, data: uniform(prod(xd)) } },
      outDims: [2, 3],
      build: (g, dy) => ({ y: grad.globalAvgPoolForward(g, 2, 'x'), grads: { x: grad.globalAvgPoolBackward(g, [4, 5], dy) } }),
      ref: (p) => {
        const y = new Float64Array(6);
        for (let i = 0; i < 6; i++) for (let j = 0; j < 20; j++) y[i] += p.x[i * 20 + j] / 20;
        return y;
      },
    });
  });
});

// ---- N-D (1-, 2-, 3-D) references in ONNX layout --------------------------------

/** Visits every index of `shape`, row-major. */
function eachIndex(shape: readonly number[], f: (idx: number[], flat: number) => void): void {
  const idx = new Array<number>(shape.length).fill(0);
  for (let e = 0, n = prod(shape); e < n; e++) {
    f(idx, e);
    for (let a = shape.length - 1; a >= 0 && ++idx[a] >= shape[a]; a--) idx[a] = 0;
  }
}

/** Flat offset of a spatial position in a [.., ...S] plane; -1 outside. */
function planeOffset(pos: readonly number[], S: readonly number[]): number {
  let at = 0;
  for (let i = 0; i < S.length; i++) {
    if (pos[i] < 0 || pos[i] >= S[i]) return -1;
    at = at * S[i] + pos[i];
  }
  return at;
}

/** N-D convolution, x [N, C, ...S], w [M, C/G, ...k], pads [begin..., end...]. */
function convNdRef(x: Float64Array, xd: number[], w: Float64Array, wd: number[], b: Float64Array | undefined, s: number[], d: number[], pads: number[], groups: number): Float64Array {
  const [N, C, ...S] = xd;
  const [M, Cg, ...K] = wd;
  const r = S.length;
  const O = S.map((n, i) => Math.floor((n + pads[i] + pads[i + r] - (K[i] - 1) * d[i] - 1) / s[i]) + 1);
  const y = new Float64Array(N * M * prod(O));
  const plane = prod(S);
  const kCount = prod(K);
  let e = 0;
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) {
      const grp = Math.floor(m / (M / groups));
      eachIndex(O, (o) => {
        let acc = b ? b[m] : 0;
        eachIndex(K, (t, tf) => {
          const at = planeOffset(o.map((v, i) => v * s[i] - pads[i] + t[i] * d[i]), S);
          if (at < 0) return;
          for (let cl = 0; cl < Cg; cl++) acc += x[(n * C + grp * Cg + cl) * plane + at] * w[(m * Cg + cl) * kCount + tf];
        });
        y[e++] = acc;
      });
    }
  return y;
}

/**
 * Transposed convolution by its definition (Keras/TensorFlow's, the input gradient of the
 * convolution `spec` from the output back to the input): x [N, C, ...S], w [C, F, ...k],
 * y[i·s − begin + t·d] += x[i]·w, output spatial `out`.
 */
function convTransposeNdRef(x: Float64Array, xd: number[], w: Float64Array, wd: number[], b: Float64Array | undefined, s: number[], d: number[], begin: number[], out: number[]): Float64Array {
  const [N, C, ...S] = xd;
  const [, F, ...K] = wd;
  const y = new Float64Array(N * F * prod(out));
  const plane = prod(out);
  if (b) for (let e = 0; e < y.length; e++) y[e] = b[Math.floor(e / plane) % F];
  const kCount = prod(K);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      eachIndex(S, (i, iflat) => {
        const v = x[(n * C + c) * prod(S) + iflat];
        eachIndex(K, (t, tf) => {
          const at = planeOffset(i.map((q, a) => q * s[a] - begin[a] + t[a] * d[a]), out);
          if (at < 0) return;
          for (let f = 0; f < F; f++) y[(n * F + f) * plane + at] += v * w[(c * F + f) * kCount + tf];
        });
      });
  return y;
}

/** N-D pooling; padded positions are ignored (max) / not counted (avg). */
function poolNdRef(kind: 'max' | 'avg', x: Float64Array, xd: number[], k: number[], s: number[], pads: number[]): Float64Array {
  const [N, C, ...S] = xd;
  const r = S.length;
  const O = S.map((n, i) => Math.floor((n + pads[i] + pads[i + r] - k[i]) / s[i]) + 1);
  const y = new Float64Array(N * C * prod(O));
  let e = 0;
  for (let nc = 0; nc < N * C; nc++)
    eachIndex(O, (o) => {
      let acc = kind === 'max' ? -Infinity : 0;
      let count = 0;
      eachIndex(k, (t) => {
        const at = planeOffset(o.map((v, i) => v * s[i] - pads[i] + t[i]), S);
        if (at < 0) return;
        const v = x[nc * prod(S) + at];
        acc = kind === 'max' ? Math.max(acc, v) : acc + v;
        count++;
      });
      y[e++] = kind === 'max' ? acc : acc / count;
    });
  return y;
}

const conv3dCases: ConvCase[] = [
  { label: "conv3d 'same' stride 2", n: 2, c: 2, m: 3, spatial: [5, 4, 6], kernel: [3, 2, 3], strides: [2, 2, 2], padding: 'same' },
  { label: 'conv3d valid dilation 2 no bias', n: 1, c: 3, m: 2, spatial: [5, 6, 5], kernel: [2, 2, 3], dilations: [2, 2, 1], padding: 'valid', bias: false },
  { label: 'conv3d groups=2', n: 2, c: 4, m: 2, spatial: [4, 4, 3], kernel: [2, 3, 2], groups: 2, padding: 'valid' },
];

describe('onnx grad recipes: 3-D convolution and pooling', () => {
  for (const base of conv3dCases) {
    for (const dwMethod of (base.groups ?? 1) === 1 ? (['conv', 'im2col'] as const) : (['conv'] as const)) {
      const cc = { ...base, label: `${base.label} [dw ${dwMethod}]` };
      test(cc.label, async () => {
        const strides = cc.strides ?? cc.kernel.map(() => 1);
        const dilations = cc.dilations ?? cc.kernel.map(() => 1);
        const groups = cc.groups ?? 1;
        const pads = grad.kerasPads(cc.padding, cc.spatial, cc.kernel, strides, dilations);
        const spec: grad.ConvSpec = { inChannels: cc.c, outChannels: cc.m, kernel: cc.kernel, inputSpatial: cc.spatial, strides, dilations, pads, groups };
        const xd = [cc.n, cc.c, ...cc.spatial];
        const wd = [cc.m, cc.c / groups, ...cc.kernel];
        const params: Record<string, Param> = { x: { dims: xd, data: uniform(prod(xd)) }, w: { dims: wd, data: uniform(prod(wd)) } };
        const bias = cc.bias ?? true;
        if (bias) params.b = { dims: [cc.m], data: uniform(cc.m) };
        await gradCheck(cc.label, {
          params,
          outDims: [cc.n, cc.m, ...grad.convOutputSpatial(spec)],
          maxCoords: 40,
          build: (g, dy) => {
            const y = grad.convForward(g, spec, 'x', 'w', bias ? 'b' : undefined);
            const gr = grad.convBackward(g, spec, 'x', 'w', dy, { db: bias, dwMethod });
            const grads: Record<string, string> = { x: gr.dx!, w: gr.dw! };
            if (bias) grads.b = gr.db!;
            return { y, grads };
          },
          ref: (p) => convNdRef(p.x, xd, p.w, wd, p.b, strides, dilations, pads, groups),
        });
      });
    }
  }

  const pool3d: PoolCase[] = [
    { label: 'maxpool3d 2 s2 (mask)', kind: 'max', spatial: [4, 6, 4], kernel: [2, 2, 2], padding: 'valid', method: 'mask' },
    { label: 'maxpool3d 2 s2 odd input (mask: slice + pad)', kind: 'max', spatial: [5, 4, 3], kernel: [2, 2, 2], padding: 'valid', method: 'mask' },
    { label: "maxpool3d 3 s2 'same' (scatter)", kind: 'max', spatial: [5, 4, 5], kernel: [3, 3, 3], strides: [2, 2, 2], padding: 'same' },
    { label: 'avgpool3d 2 s2 (tiled)', kind: 'avg', spatial: [4, 4, 6], kernel: [2, 2, 2], padding: 'valid' },
    { label: "avgpool3d (2, 3, 2) s1 'same' (padding not counted)", kind: 'avg', spatial: [3, 4, 3], kernel: [2, 3, 2], strides: [1, 1, 1], padding: 'same' },
  ];
  for (const pc of pool3d) {
    test(pc.label, async () => {
      const n = 2;
      const c = 2;
      const strides = pc.strides ?? pc.kernel;
      const pads = grad.kerasPads(pc.padding, pc.spatial, pc.kernel, strides);
      const spec: grad.PoolSpec = { kernel: pc.kernel, inputSpatial: pc.spatial, strides, pads };
      const xd = [n, c, ...pc.spatial];
      await gradCheck(pc.label, {
        params: { x: { dims: xd, data: uniform(prod(xd)) } },
        outDims: [n, c, ...grad.poolOutputSpatial(spec)],
        build: (g, dy) => {
          if (pc.kind === 'max') {
            const fwd = grad.maxPoolForward(g, spec, 'x', pc.method);
            return { y: fwd.y, grads: { x: grad.maxPoolBackward(g, spec, 'x', fwd, dy) } };
          }
          return { y: grad.avgPoolForward(g, spec, 'x'), grads: { x: grad.avgPoolBackward(g, spec, c, dy) } };
        },
        ref: (p) => poolNdRef(pc.kind, p.x, xd, pc.kernel, strides, pads),
      });
    });
  }
});

interface TransposeCase {
  label: string;
  n: number;
  c: number;
  f: number;
  spatial: number[];
  kernel: number[];
  strides?: number[];
  dilations?: number[];
  padding: 'valid' | 'same';
  /** The transposed layer's output size (Keras' deconv_output_length). */
  out: number[];
  bias?: boolean;
}

const transposeCases: TransposeCase[] = [
  { label: "conv1d transpose 'same' s2", n: 2, c: 3, f: 2, spatial: [5], kernel: [3], strides: [2], padding: 'same', out: [10] },
  { label: 'conv1d transpose valid s3, kernel < stride (output_padding fills the gap)', n: 2, c: 2, f: 3, spatial: [4], kernel: [2], strides: [3], padding: 'valid', out: [12] },
  { label: 'conv2d transpose valid s2', n: 2, c: 2, f: 3, spatial: [3, 4], kernel: [3, 3], strides: [2, 2], padding: 'valid', out: [7, 9] },
  { label: "conv2d transpose 'same' s2 even kernel, output_padding 1: (3 − 1)·2 + 4 − 2·2 + 1 = 5", n: 2, c: 2, f: 2, spatial: [3, 3], kernel: [4, 4], strides: [2, 2], padding: 'same', out: [5, 5] },
  { label: 'conv2d transpose dilation 2 no bias', n: 1, c: 3, f: 2, spatial: [4, 3], kernel: [3, 2], dilations: [2, 2], padding: 'valid', out: [8, 5], bias: false },
  { label: "conv3d transpose 'same' s(2, 1, 2)", n: 2, c: 2, f: 2, spatial: [2, 3, 3], kernel: [3, 2, 3], strides: [2, 1, 2], padding: 'same', out: [4, 3, 6] },
];

describe('onnx grad recipes: transposed convolution', () => {
  for (const tc of transposeCases) {
    test(tc.label, async () => {
      const strides = tc.strides ?? tc.kernel.map(() => 1);
      const dilations = tc.dilations ?? tc.kernel.map(() => 1);
      // The convolution it transposes runs from the output back to the input, padded as TensorFlow pads it.
      const pads = grad.kerasPads(tc.padding, tc.out, tc.kernel, strides, dilations);
      const spec: grad.ConvSpec = { inChannels: tc.f, outChannels: tc.c, kernel: tc.kernel, inputSpatial: tc.out, strides, dilations, pads };
      assert.deepEqual(grad.convOutputSpatial(spec), tc.spatial, `${tc.label}: the transposed convolution maps the output back to the input`);
      const xd = [tc.n, tc.c, ...tc.spatial];
      const wd = [tc.c, tc.f, ...tc.kernel];
      const bias = tc.bias ?? true;
      const params: Record<string, Param> = { x: { dims: xd, data: uniform(prod(xd)) }, w: { dims: wd, data: uniform(prod(wd)) } };
      if (bias) params.b = { dims: [tc.f], data: uniform(tc.f) };
      await gradCheck(tc.label, {
        params,
        outDims: [tc.n, tc.f, ...tc.out],
        build: (g, dy) => {
          const y = grad.convTransposeForward(g, spec, 'x', 'w', bias ? 'b' : undefined);
          const gr = grad.convTransposeBackward(g, spec, 'x', 'w', dy, { db: bias });
          const grads: Record<string, string> = { x: gr.dx!, w: gr.dw! };
          if (bias) grads.b = gr.db!;
          return { y, grads };
        },
        ref: (p) => convTransposeNdRef(p.x, xd, p.w, wd, p.b, strides, dilations, pads.slice(0, tc.kernel.length), tc.out),
      });
    });
  }
});

describe('onnx grad recipes: dense, activations, reshaping', () => {
  test('dense (Gemm)', async () => {
    await gradCheck('dense', {
      params: { x: { dims: [3, 5], data: uniform(15) }, w: { dims: [5, 4], data: uniform(20) }, b: { dims: [4], data: uniform(4) } },
      outDims: [3, 4],
      build: (g, dy) => {
        const y = grad.denseForward(g, 'x', 'w', 'b');
        const gr = grad.denseBackward(g, 'x', 'w', dy);
        return { y, grads: { x: gr.dx!, w: gr.dw!, b: gr.db! } };
      },
      ref: (p) => denseRef(p.x, 3, 5, p.w, 4, p.b),
    });
  });

  const acts: grad.ActivationSpec[] = [
    { kind: 'linear' },
    { kind: 'relu' },
    { kind: 'relu6' },
    { kind: 'sigmoid' },
    { kind: 'tanh' },
    { kind: 'softmax' },
    { kind: 'elu', alpha: 1 },
    { kind: 'elu', alpha: 0.5 },
    { kind: 'selu' },
    { kind: 'leaky_relu', alpha: 0.3 },
    { kind: 'leaky_relu', alpha: -0.2 },
    { kind: 'softplus' },
    { kind: 'silu' },
  ];
  for (const a of acts) {
    const label = `activation ${a.kind}${a.alpha !== undefined ? ` alpha=${a.alpha}` : ''}`;
    test(label, async () => {
      const rows = 3;
      const cols = 8;
      const x = a.kind === 'relu6' ? uniform(rows * cols, -3, 9, [0, 6]) : uniform(rows * cols, -3, 3, [0]);
      await gradCheck(label, {
        params: { x: { dims: [rows, cols], data: x } },
        outDims: [rows, cols],
        build: (g, dy) => {
          const y = grad.activationForward(g, a, 'x');
          return { y, grads: { x: grad.activationBackward(g, a, 'x', y, dy) } };
        },
        ref: (p) => activationRef(a.kind, p.x, rows, cols, a.alpha),
      });
    });
  }

  for (const channelsLast of [false, true]) {
    test(`flatten (channelsLast=${channelsLast})`, async () => {
      const xd = [2, 3, 2, 4];
      await gradCheck(`flatten channelsLast=${channelsLast}`, {
        params: { x: { dims: xd, data: uniform(prod(xd)) } },
        outDims: [2, 24],
        build: (g, dy) => ({ y: grad.flattenForward(g, 'x', 2, channelsLast), grads: { x: grad.flattenBackward(g, dy, [3, 2, 4], channelsLast) } }),
        ref: (p) => {
          if (!channelsLast) return p.x.slice();
          const y = new Float64Array(48);
          for (let n = 0; n < 2; n++)
            for (let c = 0; c < 3; c++)
              for (let h = 0; h < 2; h++) for (let w = 0; w < 4; w++) y[n * 24 + (h * 4 + w) * 3 + c] = p.x[((n * 3 + c) * 2 + h) * 4 + w];
          return y;
        },
      });
    });
  }

  test('zero padding (asymmetric) and cropping', async () => {
    const xd = [2, 2, 4, 5];
    const pads = [1, 0, 2, 3]; // top, left, bottom, right
    await gradCheck('zero padding 2d', {
      params: { x: { dims: xd, data: uniform(prod(xd)) } },
      outDims: [2, 2, 7, 8],
      build: (g, dy) => ({ y: grad.zeroPadForward(g, 'x', pads), grads: { x: grad.zeroPadBackward(g, dy, pads, [4, 5]) } }),
      ref: (p) => {
        const y = new Float64Array(2 * 2 * 7 * 8);
        for (let nc = 0; nc < 4; nc++) for (let h = 0; h < 4; h++) for (let w = 0; w < 5; w++) y[(nc * 7 + h + 1) * 8 + w] = p.x[(nc * 4 + h) * 5 + w];
        return y;
      },
    });
    const crops = [1, 2, 0, 1];
    await gradCheck('cropping 2d', {
      params: { x: { dims: xd, data: uniform(prod(xd)) } },
      outDims: [2, 2, 3, 2],
      build: (g, dy) => ({ y: grad.croppingForward(g, 'x', crops, [4, 5]), grads: { x: grad.croppingBackward(g, dy, crops) } }),
      ref: (p) => {
        const y = new Float64Array(2 * 2 * 3 * 2);
        for (let nc = 0; nc < 4; nc++) for (let h = 0; h < 3; h++) for (let w = 0; w < 2; w++) y[(nc * 3 + h) * 2 + w] = p.x[(nc * 4 + h + 1) * 5 + w + 2];
        return y;
      },
    });
  });
});

describe('onnx grad recipes: dropout and batch normalization', () => {
  test('dropout: mask statistics, determinism, gradient', async () => {
    const rate = 0.3;
    const xd = [64, 50];
    const build = () => {
      const g = new GraphBuilder();
      g.input('x', ['N', 50]);
      g.input('dy', ['N', 50]);
      const { y, mask } = grad.dropoutForward(g, 'x', rate, 42);
      g.output(g.identity(y, 'y'));
      g.output(g.identity(mask, 'mask'));
      g.output(g.identity(grad.dropoutBackward(g, mask, 'dy'), 'dx'));
      return g;
    };
    const x = uniform(prod(xd));
    const dy = uniform(prod(xd));
    const feeds = { x: new ort.Tensor('float32', x, xd), dy: new ort.Tensor('float32', dy, xd) };
    const a = await runGraph(build(), feeds);
    const b = await runGraph(build(), feeds);
    const mask = a.mask.data as Float32Array;
    assert.deepEqual(Array.from(mask), Array.from(b.mask.data as Float32Array), 'same seed, same first mask');
    const keep = 1 / (1 - rate);
    let dropped = 0;
    for (let i = 0; i < mask.length; i++) {
      assert.ok(mask[i] === 0 || Math.abs(mask[i] - keep) < 1e-6);
      if (mask[i] === 0) dropped++;
      assert.ok(Math.abs((a.y.data as Float32Array)[i] - x[i] * mask[i]) < 1e-6);
      assert.ok(Math.abs((a.dx.data as Float32Array)[i] - dy[i] * mask[i]) < 1e-6);
    }
    const frac = dropped / mask.length;
    assert.ok(Math.abs(frac - rate) < 0.03, `dropped fraction ${frac}`);
    summary.push(`dropout: dropped fraction ${frac.toFixed(3)} (rate ${rate}); y and dx exact (mask reused)`);
  });

  for (const rank of [4, 2]) {
    test(`batch normalization training mode (rank ${rank})`, async () => {
      const C = 3;
      const xd = rank === 4 ? [3, C, 4, 3] : [6, C];
      const spatial = rank === 4 ? 12 : 1;
      const N = xd[0];
      const spec: grad.BatchNormSpec = { channels: C, rank };
      const mm = uniform(C);
      const mv = uniform(C, 0.5, 2);
      const bnRef = (x: Float64Array, gamma: Float64Array, beta: Float64Array) => {
        const y = new Float64Array(x.length);
        const mean = new Float64Array(C);
        const variance = new Float64Array(C);
        const M = N * spatial;
        for (let c = 0; c < C; c++) {
          let s = 0;
          for (let n = 0; n < N; n++) for (let j = 0; j < spatial; j++) s += x[(n * C + c) * spatial + j];
          mean[c] = s / M;
          let v = 0;
          for (let n = 0; n < N; n++) for (let j = 0; j < spatial; j++) v += (x[(n * C + c) * spatial + j] - mean[c]) ** 2;
          variance[c] = v / M;
          const inv = 1 / Math.sqrt(variance[c] + 1e-3);
          for (let n = 0; n < N; n++)
            for (let j = 0; j < spatial; j++) {
              const i = (n * C + c) * spatial + j;
              y[i] = gamma[c] * (x[i] - mean[c]) * inv + beta[c];
            }
        }
        return { y, mean, variance };
      };
      let moving: { mean: Float32Array; variance: Float32Array } | undefined;
      const label = `batchnorm train rank ${rank}`;
      const params = {
        x: { dims: xd, data: uniform(prod(xd), -2, 3) },
        gamma: { dims: [C], data: uniform(C, 0.5, 1.5) },
        beta: { dims: [C], data: uniform(C) },
      };
      await gradCheck(label, {
        params,
        fixed: { mm: { dims: [C], data: mm }, mv: { dims: [C], data: mv } },
        outDims: xd,
        build: (g, dy) => {
          const f = grad.batchNormTrainForward(g, spec, 'x', 'gamma', 'beta', 'mm', 'mv');
          const b = grad.batchNormBackward(g, spec, f.xhat, f.invStd, 'gamma', dy);
          g.output(g.identity(f.newMovingMean, 'new_mm'));
          g.output(g.identity(f.newMovingVar, 'new_mv'));
          return { y: f.y, grads: { x: b.dx, gamma: b.dgamma, beta: b.dbeta } };
        },
        ref: (p) => bnRef(p.x, p.gamma, p.beta).y,
      });
      // Moving statistics: re-run the same graph shape to read them back.
      const g = new GraphBuilder();
      g.input('x', xd);
      g.input('gamma', [C]);
      g.input('beta', [C]);
      g.input('mm', [C]);
      g.input('mv', [C]);
      const f = grad.batchNormTrainForward(g, spec, 'x', 'gamma', 'beta', 'mm', 'mv');
      g.output(g.identity(f.newMovingMean, 'new_mm'));
      g.output(g.identity(f.newMovingVar, 'new_mv'));
      const res = await runGraph(g, {
        x: new ort.Tensor('float32', params.x.data, xd),
        gamma: new ort.Tensor('float32', params.gamma.data, [C]),
        beta: new ort.Tensor('float32', params.beta.data, [C]),
        mm: new ort.Tensor('float32', mm, [C]),
        mv: new ort.Tensor('float32', mv, [C]),
      });
      moving = { mean: res.new_mm.data as Float32Array, variance: res.new_mv.data as Float32Array };
      const ref = bnRef(Float64Array.from(params.x.data), Float64Array.from(params.gamma.data), Float64Array.from(params.beta.data));
      for (let c = 0; c < C; c++) {
        assert.ok(Math.abs(moving.mean[c] - (mm[c] * 0.99 + ref.mean[c] * 0.01)) < 1e-6);
        assert.ok(Math.abs(moving.variance[c] - (mv[c] * 0.99 + ref.variance[c] * 0.01)) < 1e-6);
      }
    });
  }

  test('batch normalization inference matches moving statistics', async () => {
    const C = 2;
    const xd = [2, C, 3, 3];
    const x = uniform(prod(xd));
    const gamma = uniform(C, 0.5, 1.5);
    const beta = uniform(C);
    const mm = uniform(C);
    const mv = uniform(C, 0.5, 2);
    const g = new GraphBuilder();
    g.input('x', xd);
    const spec: grad.BatchNormSpec = { channels: C, rank: 4 };
    const y = grad.batchNormInference(g, spec, 'x', g.initializer('gamma', gamma, [C]), g.initializer('beta', beta, [C]), g.initializer('mm', mm, [C]), g.initializer('mv', mv, [C]));
    g.output(y);
    const res = await runGraph(g, { x: new ort.Tensor('float32', x, xd) });
    const got = res[y].data as Float32Array;
    for (let i = 0; i < x.length; i++) {
      const c = Math.floor(i / 9) % C;
      const want = (gamma[c] * (x[i] - mm[c])) / Math.sqrt(mv[c] + 1e-3) + beta[c];
      assert.ok(Math.abs(got[i] - want) < 1e-5);
    }
  });
});

describe('onnx grad recipes: losses', () => {
  const N = 5;
  const K = 4;
  const oneHot = new Float32Array(N * K);
  const classes = new BigInt64Array(N);
  for (let i = 0; i < N; i++) {
    const k = Math.floor(rand() * K);
    classes[i] = BigInt(k);
    oneHot[i * K + k] = 1;
  }

  const xent = (z: Float64Array, y: ArrayLike<number>) => {
    const logp = softmaxRows(z, N, K, true);
    let s = 0;
    for (let i = 0; i < z.length; i++) s -= y[i] * logp[i];
    return s / N;
  };

  test('softmax cross-entropy (one-hot labels)', async () => {
    await gradCheck('softmax cross-entropy', {
      params: { z: { dims: [N, K], data: uniform(N * K, -3, 3) } },
      fixed: { y: { dims: [N, K], data: oneHot } },
      build: (g) => {
        const l = grad.softmaxCrossEntropy(g, 'z', 'y');
        return { loss: l.loss, grads: { z: l.grad } };
      },
      ref: (p) => xent(p.z, oneHot),
    });
  });

  test('softmax cross-entropy (soft labels)', async () => {
    const soft = new Float32Array(N * K);
    for (let i = 0; i < N; i++) {
      const row = uniform(K, 0.1, 1);
      const s = row.reduce((a, b) => a + b, 0);
      for (let k = 0; k < K; k++) soft[i * K + k] = row[k] / s;
    }
    await gradCheck('softmax cross-entropy soft labels', {
      params: { z: { dims: [N, K], data: uniform(N * K, -3, 3) } },
      fixed: { y: { dims: [N, K], data: soft } },
      build: (g) => {
        const l = grad.softmaxCrossEntropy(g, 'z', 'y');
        return { loss: l.loss, grads: { z: l.grad } };
      },
      ref: (p) => xent(p.z, soft),
    });
  });

  test('sparse softmax cross-entropy (int64 labels)', async () => {
    await gradCheck('sparse softmax cross-entropy', {
      params: { z: { dims: [N, K], data: uniform(N * K, -3, 3) } },
      fixed: { y: { dims: [N], data: classes } },
      build: (g) => {
        const l = grad.sparseSoftmaxCrossEntropy(g, 'z', 'y', K);
        return { loss: l.loss, grads: { z: l.grad } };
      },
      ref: (p) => xent(p.z, oneHot),
    });
  });

  test('binary cross-entropy from logits', async () => {
    const y = Float32Array.from({ length: N * 3 }, () => (rand() < 0.5 ? 0 : 1));
    await gradCheck('sigmoid binary cross-entropy', {
      params: { z: { dims: [N, 3], data: uniform(N * 3, -4, 4) } },
      fixed: { y: { dims: [N, 3], data: y } },
      build: (g) => {
        const l = grad.sigmoidBinaryCrossEntropy(g, 'z', 'y');
        return { loss: l.loss, grads: { z: l.grad } };
      },
      ref: (p) => {
        let s = 0;
        for (let i = 0; i < p.z.length; i++) {
          const q = sigmoid(p.z[i]);
          s -= y[i] * Math.log(q) + (1 - y[i]) * Math.log(1 - q);
        }
        return s / p.z.length;
      },
    });
  });

  for (const kind of ['mse', 'mae'] as const) {
    test(`${kind} loss`, async () => {
      const t = uniform(N * 3);
      await gradCheck(`${kind} loss`, {
        params: { p: { dims: [N, 3], data: uniform(N * 3) } },
        fixed: { t: { dims: [N, 3], data: t } },
        build: (g) => {
          const l = kind === 'mse' ? grad.meanSquaredError(g, 'p', 't') : grad.meanAbsoluteError(g, 'p', 't');
          return { loss: l.loss, grads: { p: l.grad } };
        },
        ref: (p) => {
          let s = 0;
          for (let i = 0; i < p.p.length; i++) s += kind === 'mse' ? (p.p[i] - t[i]) ** 2 : Math.abs(p.p[i] - t[i]);
          return s / p.p.length;
        },
      });
    });
  }
});

describe('onnx grad recipes: composed network', () => {
  const variants = [
    { name: 'scatter maxpool, conv dw', maxpool: 'scatter', dwMethod: 'conv', afterRelu: false },
    { name: 'mask maxpool + ReLU fold, im2col dw', maxpool: 'mask', dwMethod: 'im2col', afterRelu: true },
  ] as const;
  for (const v of variants) {
  test(`conv → relu → maxpool → flatten → dense → softmax cross-entropy, all weights (${v.name})`, async () => {
    const N = 3;
    const xd = [N, 2, 8, 8];
    const convSpec: grad.ConvSpec = { inChannels: 2, outChannels: 3, kernel: [3, 3], inputSpatial: [8, 8], pads: grad.kerasPads('same', [8, 8], [3, 3]) };
    const poolSpec: grad.PoolSpec = { kernel: [2, 2], inputSpatial: [8, 8] };
    const K = 4;
    const F = 3 * 4 * 4;
    const labels = new Float32Array(N * K);
    for (let i = 0; i < N; i++) labels[i * K + (i % K)] = 1;
    await gradCheck(`composed CNN + softmax CE (${v.name})`, {
      params: {
        x: { dims: xd, data: uniform(prod(xd)) },
        w1: { dims: [3, 2, 3, 3], data: uniform(54, -0.5, 0.5) },
        b1: { dims: [3], data: uniform(3, -0.1, 0.1) },
        w2: { dims: [F, K], data: uniform(F * K, -0.3, 0.3) },
        b2: { dims: [K], data: uniform(K, -0.1, 0.1) },
      },
      fixed: { y: { dims: [N, K], data: labels } },
      build: (g) => {
        const c = grad.convForward(g, convSpec, 'x', 'w1', 'b1');
        const a = grad.activationForward(g, { kind: 'relu' }, c);
        const p = grad.maxPoolForward(g, poolSpec, a, v.maxpool);
        const f = grad.flattenForward(g, p.y, 2, true);
        const z = grad.denseForward(g, f, 'w2', 'b2');
        const l = grad.softmaxCrossEntropy(g, z, 'y');
        const d2 = grad.denseBackward(g, f, 'w2', l.grad);
        const dp = grad.flattenBackward(g, d2.dx!, [3, 4, 4], true);
        const da = grad.maxPoolBackward(g, poolSpec, a, p, dp, { afterRelu: v.afterRelu });
        const dc = v.afterRelu ? da : grad.activationBackward(g, { kind: 'relu' }, c, a, da);
        const d1 = grad.convBackward(g, convSpec, 'x', 'w1', dc, { dwMethod: v.dwMethod });
        return { loss: l.loss, grads: { x: d1.dx!, w1: d1.dw!, b1: d1.db!, w2: d2.dw!, b2: d2.db! } };
      },
      ref: (p) => {
        const c = conv2dRef(p.x, xd, p.w1, [3, 2, 3, 3], p.b1, { s: [1, 1], d: [1, 1], pads: convSpec.pads as number[], groups: 1 });
        const a = c.data.map((val) => Math.max(val, 0));
        const pool = pool2dRef('max', a, c.dims, [2, 2], [2, 2], [0, 0, 0, 0]);
        const f = new Float64Array(N * F);
        for (let n = 0; n < N; n++)
          for (let ch = 0; ch < 3; ch++) for (let h = 0; h < 4; h++) for (let w = 0; w < 4; w++) f[n * F + (h * 4 + w) * 3 + ch] = pool.data[((n * 3 + ch) * 4 + h) * 4 + w];
        const z = denseRef(f, N, F, p.w2, K, p.b2);
        const logp = softmaxRows(z, N, K, true);
        let s = 0;
        for (let i = 0; i < z.length; i++) s -= labels[i] * logp[i];
        return s / N;
      },
    });
  });
  }
});

after(() => {
  console.log(`\nonnx gradient checks (max relative error = max|analytic − numeric| / max|numeric|, threshold ${THRESHOLD}):\n  ${summary.join('\n  ')}`);
});
