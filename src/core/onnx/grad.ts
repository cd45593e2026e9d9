/**
 * Forward and backward graph recipes for the layers ConvLens trains, using
 * standard ONNX ops only (no com.microsoft training ops: onnxruntime-node has
 * no training API) and float32 throughout (ORT's CPU Conv has no float64
 * kernel). Layouts are ONNX's channels-first (N, C, spatial...); the batch
 * dimension may be symbolic, every other dimension is static and described by
 * the spec objects below.
 *
 * Backward functions take the names of forward tensors plus the upstream
 * gradient `dy` and return the names of the gradients they emit.
 */
import { reluMask } from './activations';
import { attr, type GraphBuilder } from './graphBuilder';

// ---- shape helpers ---------------------------------------------------------

/** Keras padding modes ('causal' is Conv1D's). */
export type KerasPadding = 'valid' | 'same' | 'causal';

/**
 * ONNX pads `[begin..., end...]` reproducing Keras/TensorFlow padding. For
 * 'same' the odd extra pixel goes to the end (bottom/right), as in TF.
 */
export function kerasPads(
  padding: KerasPadding,
  inputSpatial: readonly number[],
  kernel: readonly number[],
  strides: readonly number[] = kernel.map(() => 1),
  dilations: readonly number[] = kernel.map(() => 1),
): number[] {
  const r = inputSpatial.length;
  const begin = new Array<number>(r).fill(0);
  const end = new Array<number>(r).fill(0);
  for (let i = 0; i < r; i++) {
    const extent = (kernel[i] - 1) * dilations[i] + 1;
    if (padding === 'same') {
      const out = Math.ceil(inputSpatial[i] / strides[i]);
      const total = Math.max((out - 1) * strides[i] + extent - inputSpatial[i], 0);
      begin[i] = Math.floor(total / 2);
      end[i] = total - begin[i];
    } else if (padding === 'causal') {
      if (r !== 1) throw new Error("kerasPads: 'causal' padding is for 1-D convolutions");
      begin[i] = extent - 1;
    }
  }
  return [...begin, ...end];
}

/** Output spatial size of a convolution/pooling window sweep (floor mode). */
export function windowOutputSpatial(
  inputSpatial: readonly number[],
  kernel: readonly number[],
  strides: readonly number[],
  dilations: readonly number[],
  pads: readonly number[],
): number[] {
  const r = inputSpatial.length;
  return inputSpatial.map((n, i) => {
    const out = Math.floor((n + pads[i] + pads[i + r] - (kernel[i] - 1) * dilations[i] - 1) / strides[i]) + 1;
    if (out < 1) throw new Error(`window larger than padded input on spatial axis ${i}`);
    return out;
  });
}

/** Static description of a convolution (N-D, channels-first, ONNX conventions). */
export interface ConvSpec {
  inChannels: number;
  outChannels: number;
  kernel: readonly number[];
  /** Input spatial size, e.g. [H, W] (or [L] for Conv1D). */
  inputSpatial: readonly number[];
  strides?: readonly number[];
  dilations?: readonly number[];
  /** ONNX pads [begin..., end...]; see {@link kerasPads}. */
  pads?: readonly number[];
  groups?: number;
}

interface ConvNorm {
  c: number;
  m: number;
  k: number[];
  in: number[];
  s: number[];
  d: number[];
  pads: number[];
  groups: number;
  out: number[];
  r: number;
}

function normConv(spec: ConvSpec): ConvNorm {
  const r = spec.kernel.length;
  if (spec.inputSpatial.length !== r) throw new Error('ConvSpec: kernel and inputSpatial ranks differ');
  const s = [...(spec.strides ?? spec.kernel.map(() => 1))];
  const d = [...(spec.dilations ?? spec.kernel.map(() => 1))];
  const pads = [...(spec.pads ?? new Array<number>(2 * r).fill(0))];
  const groups = spec.groups ?? 1;
  if (spec.inChannels % groups || spec.outChannels % groups) throw new Error('ConvSpec: channels not divisible by groups');
  const out = windowOutputSpatial(spec.inputSpatial, spec.kernel, s, d, pads);
  return { c: spec.inChannels, m: spec.outChannels, k: [...spec.kernel], in: [...spec.inputSpatial], s, d, pads, groups, out, r };
}

/** Output spatial size of a {@link ConvSpec}. */
export function convOutputSpatial(spec: ConvSpec): number[] {
  return normConv(spec).out;
}

/** Which gradients a backward recipe should emit (all by default). */
export interface GradNeeds {
  dx?: boolean;
  dw?: boolean;
  db?: boolean;
}

function spatialAxes(r: number): number[] {
  return Array.from({ length: r }, (_, i) => i + 2);
}

// ---- convolution -----------------------------------------------------------

/** Conv forward: x [N, C, ...in], w [M, C/groups, ...k], optional b [M]. */
export function convForward(g: GraphBuilder, spec: ConvSpec, x: string, w: string, b?: string): string {
  const n = normConv(spec);
  return g.conv(x, w, b, { kernelShape: n.k, strides: n.s, dilations: n.d, pads: n.pads, group: n.groups });
}

/** Options of {@link convBackward}. */
export interface ConvGradOptions extends GradNeeds {
  /**
   * How dw is computed (all give the same values; they differ in speed and memory):
   * - 'gemm' (groups = 1): one Conv of spatial rank r + 1 whose single GEMM is exactly
   *   dw[M, k·C] = dy[M, N·out] × patches[N·out, k·C]: x laid out [1, N, …in, C] is its input
   *   (the batch is the reduction "channel" axis and C a trailing spatial axis with a
   *   1-wide kernel), dy laid out [M, N, …out, 1] its kernel, strides and dilations swapped.
   *   onnxruntime's CPU Conv (MLAS) expands patches into a cache-sized buffer panel by panel,
   *   so no im2col tensor is materialised, and the expanded rows are runs of C contiguous
   *   floats. Measured at the forward convolution's speed on the VGG-style CIFAR layers
   *   (64→64 on 32×32: 48 ms against 121 ms for 'conv' and 73 ms for 'im2col', one thread).
   * - 'conv': a convolution of the input by the output gradient with the batch axis as the
   *   reduction ("channel") axis (strides and dilations swap roles); grouped convolutions
   *   arrange x as [C/G, G·N, ...] so one grouped Conv yields only the block-diagonal terms.
   *   Any geometry, low memory, but MLAS runs it as C small GEMMs with k columns each.
   * - 'im2col': one Gather builds the patch matrix [C·k, out·N] from x laid out [C, H·W, N],
   *   then a single Gemm with dy laid out [M, out·N]. Materialises C·k·out·N floats; groups = 1.
   * - 'auto' (default): {@link autoConvGradMethods}.
   */
  dwMethod?: 'auto' | 'gemm' | 'conv' | 'im2col';
  /**
   * How dx is computed:
   * - 'convTranspose': ConvTranspose(dy, w) with output_padding restoring what a strided
   *   forward pass dropped. Any geometry.
   * - 'conv' (strides 1 only): a plain Conv of dy by the kernel flipped in space with its
   *   in/out channels swapped (per group), padded by (k − 1)·d − pad. onnxruntime runs it as
   *   fast as the forward convolution, where its ConvTranspose (a GEMM then col2im per
   *   image) was measured 10–25% slower on the VGG-style layers.
   * - 'auto' (default): {@link autoConvGradMethods}.
   */
  dxMethod?: 'auto' | 'convTranspose' | 'conv';
  /** Layout of the returned dw: ONNX [M, C/G, …k] (default) or Keras' [(…k), C/G, M]. */
  dwLayout?: 'onnx' | 'keras';
}

/** Per-sample patch-matrix size (elements) up to which 'im2col' may be chosen for dw. */
export const IM2COL_AUTO_LIMIT = 1 << 17;

function im2colSize(n: ConvNorm): number {
  return n.c * n.k.reduce((a, b) => a * b, 1) * n.out.reduce((a, b) => a * b, 1);
}

/**
 * The formulations 'auto' picks for a convolution's gradients, from timings of each one on
 * onnxruntime 1.30 CPU over layer shapes from the MNIST CNN to VGG (README, "Training speed"):
 * - dx by the flipped-kernel Conv when every stride is 1, the padding keeps the size ('same':
 *   the dx Conv is 'same' too, so its patches are mostly real data) and there are at least
 *   {@link DX_CONV_MIN_CHANNELS} input channels (the dx Conv's GEMM has that many rows); else
 *   ConvTranspose, which was up to 9× faster on 'valid' 5×5 layers with few channels.
 * - dw by 'gemm' from {@link DW_GEMM_MIN_CHANNELS} input channels (its patch rows are runs of
 *   C floats); below that by 'im2col' while the per-sample patch matrix has at most
 *   {@link IM2COL_AUTO_LIMIT} elements, else 'conv'; grouped convolutions by 'conv'.
 */
export function autoConvGradMethods(spec: ConvSpec): { dx: 'conv' | 'convTranspose'; dw: 'gemm' | 'conv' | 'im2col' } {
  const n = normConv(spec);
  const keepsSize = n.k.every((k, i) => n.pads[i] + n.pads[i + n.r] === (k - 1) * n.d[i]);
  const dx = n.s.every((s) => s === 1) && keepsSize && n.c / n.groups >= DX_CONV_MIN_CHANNELS ? 'conv' : 'convTranspose';
  let dw: 'gemm' | 'conv' | 'im2col' = 'conv';
  // 'gemm' is a convolution of rank r (last axis merged with the channels, when its dilation is
  // 1) or r + 1: up to 3-D, where onnxruntime's MLAS kernels go.
  const gemmRank = n.d[n.r - 1] === 1 ? n.r : n.r + 1;
  if (n.groups === 1) dw = n.c >= DW_GEMM_MIN_CHANNELS && gemmRank <= 3 ? 'gemm' : im2colSize(n) <= IM2COL_AUTO_LIMIT ? 'im2col' : 'conv';
  return { dx, dw };
}

/** Input channels (per group) from which 'auto' computes dx with a Conv. */
export const DX_CONV_MIN_CHANNELS = 32;
/** Input channels from which 'auto' computes dw with the 'gemm' Conv. */
export const DW_GEMM_MIN_CHANNELS = 16;

/**
 * End pads that only produce taps beyond the kernel are trimmed (a dw convolution sweeps the
 * kernel offsets as its output); `ext` is the output extent that remains, sliced to the kernel
 * when it is still larger.
 */
function dwConvEndPads(n: ConvNorm): { endPads: number[]; ext: number[] } {
  const endPads: number[] = [];
  const ext: number[] = [];
  for (let i = 0; i < n.r; i++) {
    const rem = (n.in[i] + n.pads[i] + n.pads[i + n.r] - (n.k[i] - 1) * n.d[i] - 1) % n.s[i];
    endPads.push(Math.max(0, n.pads[i + n.r] - rem));
    ext.push(Math.floor((n.in[i] + n.pads[i] + endPads[i] - n.s[i] * (n.out[i] - 1) - 1) / n.d[i]) + 1);
  }
  return { endPads, ext };
}

/** dw as one GEMM inside a rank-(r + 1) Conv (see {@link ConvGradOptions.dwMethod} 'gemm'); returns [M, …k, C]. */
function convWeightGradGemm(g: GraphBuilder, n: ConvNorm, x: string, dy: string): string {
  const sp = spatialAxes(n.r);
  return convWeightGradGemmOf(g, n, g.transpose(x, [0, ...sp, 1]), g.transpose(dy, [1, 0, ...sp]));
}

/**
 * The 'gemm' weight gradient from operands already laid out: the input channels-last
 * [N, …in, C] and the output gradient [M, N, …out] (what the NCHWc path produces directly).
 * Returns dw in Keras layout (…k, C, M) for groups = 1.
 */
export function convWeightGradChannelsLast(g: GraphBuilder, spec: ConvSpec, xChannelsLast: string, dyMN: string): string {
  const n = normConv(spec);
  if (n.groups !== 1) throw new Error('convWeightGradChannelsLast: groups = 1 only');
  return g.transpose(convWeightGradGemmOf(g, n, xChannelsLast, dyMN), [...Array.from({ length: n.r + 1 }, (_, i) => i + 1), 0]);
}

function convWeightGradGemmOf(g: GraphBuilder, n: ConvNorm, xLast: string, dyMN: string): string {
  const { r } = n;
  const sp = spatialAxes(r);
  const { endPads, ext } = dwConvEndPads(n);
  let dw: string;
  if (n.d[r - 1] === 1) {
    // The last spatial axis and C merged into one axis of in·C values: a tap one pixel further is
    // C values further, so the dy "kernel" is dilated by stride·C along it and the output runs
    // over (k, C) there. One spatial rank less; MLAS' 2-D patch expansion copies runs of k·C.
    // Same values as the form below; measured 5–15% faster on the VGG-style layers.
    const c = n.c;
    const last = (v: readonly number[], scale: number) => [...v.slice(0, r - 1), v[r - 1] * scale];
    dw = g.conv(g.reshape(xLast, [1, -1, ...last(n.in, c)]), g.reshape(dyMN, [n.m, -1, ...n.out]), undefined, {
      kernelShape: n.out,
      strides: [...n.d.slice(0, r - 1), 1],
      dilations: last(n.s, c),
      pads: [...last(n.pads.slice(0, r), c), ...last(endPads, c)],
    });
    if (ext.some((e, i) => e !== n.k[i])) dw = g.slice(dw, new Array<number>(r).fill(0), last(n.k, c), sp);
  } else {
    dw = g.conv(g.reshape(xLast, [1, -1, ...n.in, n.c]), g.reshape(dyMN, [n.m, -1, ...n.out, 1]), undefined, {
      kernelShape: [...n.out, 1],
      strides: [...n.d, 1],
      dilations: [...n.s, 1],
      pads: [...n.pads.slice(0, r), 0, ...endPads, 0],
    });
    if (ext.some((e, i) => e !== n.k[i])) dw = g.slice(dw, new Array<number>(r).fill(0), n.k, sp);
  }
  return g.reshape(dw, [n.m, ...n.k, n.c]);
}

function convWeightGradIm2col(g: GraphBuilder, n: ConvNorm, x: string, dy: string): string {
  const { r } = n;
  const plane = n.in.reduce((a, b) => a * b, 1);
  const kCount = n.k.reduce((a, b) => a * b, 1);
  const oCount = n.out.reduce((a, b) => a * b, 1);
  const toChannelsFirstBatchLast = [1, ...spatialAxes(r), 0];
  const planeStrides: number[] = [];
  for (let i = r - 1, acc = 1; i >= 0; i--) {
    planeStrides[i] = acc;
    acc *= n.in[i];
  }
  // Row `plane` of the gathered tensor is an appended zero row standing for padding.
  // int32 indices (Gather accepts them) keep the initializer half the size of int64.
  const idx = new Int32Array(kCount * oCount);
  const kPos = new Array<number>(r).fill(0);
  let padded = false;
  for (let kk = 0, e = 0; kk < kCount; kk++) {
    const oPos = new Array<number>(r).fill(0);
    for (let oo = 0; oo < oCount; oo++, e++) {
      let flat = 0;
      for (let i = 0; i < r && flat >= 0; i++) {
        const coord = oPos[i] * n.s[i] - n.pads[i] + kPos[i] * n.d[i];
        flat = coord < 0 || coord >= n.in[i] ? -1 : flat + coord * planeStrides[i];
      }
      if (flat < 0) padded = true;
      idx[e] = flat < 0 ? plane : flat;
      for (let a = r - 1; a >= 0 && ++oPos[a] >= n.out[a]; a--) oPos[a] = 0;
    }
    for (let a = r - 1; a >= 0 && ++kPos[a] >= n.k[a]; a--) kPos[a] = 0;
  }
  let xr = g.reshape(g.transpose(x, toChannelsFirstBatchLast), [n.c, plane, -1]);
  if (padded) xr = g.pad(xr, [0, 0, 0, 0, 1, 0]);
  const idxName = g.initializer(g.fresh('im2col_idx'), idx, [idx.length]);
  const patches = g.reshape(g.gather(xr, idxName, 1), [n.c * kCount, -1]);
  const dyr = g.reshape(g.transpose(dy, toChannelsFirstBatchLast), [n.m, -1]);
  return g.reshape(g.gemm(dyr, patches, undefined, { transB: true }), [n.m, n.c, ...n.k]);
}

function convWeightGradConv(g: GraphBuilder, n: ConvNorm, x: string, dy: string): string {
  const { r } = n;
  const swapNC = [1, 0, ...spatialAxes(r)];
  const cg = n.c / n.groups;
  let xt: string;
  if (n.groups === 1) xt = g.transpose(x, swapNC);
  else {
    const x5 = g.reshape(x, [0, n.groups, cg, ...n.in]);
    const t = g.transpose(x5, [2, 1, 0, ...spatialAxes(r).map((a) => a + 1)]);
    xt = g.reshape(t, [cg, -1, ...n.in]);
  }
  const dyt = g.transpose(dy, swapNC);
  const { endPads, ext } = dwConvEndPads(n);
  let dwt = g.conv(xt, dyt, undefined, {
    kernelShape: n.out,
    strides: n.d,
    dilations: n.s,
    pads: [...n.pads.slice(0, r), ...endPads],
    group: n.groups,
  });
  if (ext.some((e, i) => e !== n.k[i])) dwt = g.slice(dwt, new Array<number>(r).fill(0), n.k, spatialAxes(r));
  return g.transpose(dwt, swapNC);
}

/** dx of a stride-1 convolution as a Conv of dy by the flipped, channel-swapped kernel. */
function convInputGradConv(g: GraphBuilder, n: ConvNorm, w: string, dy: string): string {
  const { r } = n;
  const sp = spatialAxes(r);
  const G = n.groups;
  // [M, C/G, …k] → [C, M/G, …k]: within each group, in and out channels swap.
  const swapped =
    G === 1
      ? g.transpose(w, [1, 0, ...sp])
      : g.reshape(g.transpose(g.reshape(w, [G, n.m / G, n.c / G, ...n.k]), [0, 2, 1, ...sp.map((a) => a + 1)]), [n.c, n.m / G, ...n.k]);
  const flipped = g.slice(swapped, n.k.map(() => -1), n.k.map((k) => -(k + 1)), sp, n.k.map(() => -1));
  const pads = n.pads.map((p, i) => (n.k[i % r] - 1) * n.d[i % r] - p);
  return g.conv(dy, flipped, undefined, { kernelShape: n.k, dilations: n.d, pads, group: G });
}

/**
 * The gradient of a convolution with respect to its input: ConvTranspose(dy, w) with
 * output_padding restoring the rows/columns a strided forward pass dropped.
 */
function convInputGrad(g: GraphBuilder, n: ConvNorm, w: string, dy: string, b?: string): string {
  const { r } = n;
  const outputPadding = n.in.map((h, i) => (h + n.pads[i] + n.pads[i + r] - (n.k[i] - 1) * n.d[i] - 1) % n.s[i]);
  return g.convTranspose(dy, w, b, {
    kernelShape: n.k,
    strides: n.s,
    dilations: n.d,
    pads: n.pads,
    group: n.groups,
    outputPadding: outputPadding.some((p) => p > 0) ? outputPadding : undefined,
  });
}

/**
 * Conv backward.
 * - dx: see {@link ConvGradOptions.dxMethod}.
 * - dw: see {@link ConvGradOptions.dwMethod}.
 * - db = ReduceSum(dy) over batch and spatial axes.
 */
export function convBackward(g: GraphBuilder, spec: ConvSpec, x: string, w: string, dy: string, need: ConvGradOptions = {}): { dx?: string; dw?: string; db?: string } {
  const n = normConv(spec);
  const { r } = n;
  const result: { dx?: string; dw?: string; db?: string } = {};
  const auto = autoConvGradMethods(spec);
  const dwMethod = need.dwMethod === undefined || need.dwMethod === 'auto' ? auto.dw : need.dwMethod;
  const dxMethod = need.dxMethod === undefined || need.dxMethod === 'auto' ? auto.dx : need.dxMethod;
  if ((dwMethod === 'im2col' || dwMethod === 'gemm') && n.groups !== 1) throw new Error(`convBackward: dwMethod '${dwMethod}' supports groups = 1 only`);
  if (dxMethod === 'conv' && n.s.some((s) => s !== 1)) throw new Error("convBackward: dxMethod 'conv' needs strides of 1");
  if (need.dx ?? true) result.dx = dxMethod === 'conv' ? convInputGradConv(g, n, w, dy) : convInputGrad(g, n, w, dy);
  if (need.dw ?? true) {
    const sp = spatialAxes(r);
    const keras = need.dwLayout === 'keras';
    if (dwMethod === 'gemm') {
      // [M, …k, C] → Keras (…k, C, M) or ONNX [M, C, …k].
      const dw = convWeightGradGemm(g, n, x, dy);
      result.dw = keras ? g.transpose(dw, [...Array.from({ length: r + 1 }, (_, i) => i + 1), 0]) : g.transpose(dw, [0, r + 1, ...sp.map((a) => a - 1)]);
    } else {
      const dw = dwMethod === 'im2col' ? convWeightGradIm2col(g, n, x, dy) : convWeightGradConv(g, n, x, dy);
      result.dw = keras ? g.transpose(dw, [...sp, 1, 0]) : dw;
    }
  }
  if (need.db ?? true) result.db = g.reduceSum(dy, [0, ...spatialAxes(r)], false);
  return result;
}

// ---- transposed convolution ------------------------------------------------

/**
 * Transposed convolution forward, described by the convolution it transposes: `spec` maps the
 * transposed layer's OUTPUT (spec.inputSpatial, spec.inChannels = filters) back to its input
 * (spec.outChannels channels), so the forward pass is that convolution's input gradient applied
 * to x. w [spec.outChannels, spec.inChannels, ...k] (ONNX ConvTranspose layout), optional b
 * [spec.inChannels]. This is Keras/TensorFlow's definition (conv_transpose is the gradient of
 * conv with the same padding), so 'same' padding and output_padding follow from the spec's pads.
 */
export function convTransposeForward(g: GraphBuilder, spec: ConvSpec, x: string, w: string, b?: string): string {
  return convInputGrad(g, normConv(spec), w, x, b);
}

/**
 * Transposed convolution backward: dx = Conv(dy, w) (the convolution `spec` itself);
 * dw is that convolution's weight gradient with the roles of input and output gradient
 * swapped (dy is its input, x its output gradient); db = ReduceSum(dy).
 */
export function convTransposeBackward(g: GraphBuilder, spec: ConvSpec, x: string, w: string, dy: string, need: GradNeeds = {}): { dx?: string; dw?: string; db?: string } {
  const result: { dx?: string; dw?: string; db?: string } = {};
  if (need.dx ?? true) result.dx = convForward(g, spec, dy, w);
  if (need.dw ?? true) result.dw = convBackward(g, spec, dy, w, x, { dx: false, db: false }).dw;
  if (need.db ?? true) result.db = g.reduceSum(dy, [0, ...spatialAxes(spec.kernel.length)], false);
  return result;
}

// ---- pooling ---------------------------------------------------------------

/** Static description of a pooling layer (channels-first). */
export interface PoolSpec {
  kernel: readonly number[];
  inputSpatial: readonly number[];
  /** Default: the kernel (Keras' default). */
  strides?: readonly number[];
  /** ONNX pads [begin..., end...]; see {@link kerasPads}. */
  pads?: readonly number[];
}

interface PoolNorm {
  k: number[];
  in: number[];
  s: number[];
  pads: number[];
  out: number[];
  r: number;
}

function normPool(spec: PoolSpec): PoolNorm {
  const r = spec.kernel.length;
  const s = [...(spec.strides ?? spec.kernel)];
  const pads = [...(spec.pads ?? new Array<number>(2 * r).fill(0))];
  const out = windowOutputSpatial(spec.inputSpatial, spec.kernel, s, spec.kernel.map(() => 1), pads);
  return { k: [...spec.kernel], in: [...spec.inputSpatial], s, pads, out, r };
}

/** Output spatial size of a {@link PoolSpec}. */
export function poolOutputSpatial(spec: PoolSpec): number[] {
  return normPool(spec).out;
}

/** True when windows tile the input without overlap or padding (stride = kernel, no pads). */
export function poolIsTiling(spec: PoolSpec): boolean {
  const p = normPool(spec);
  return p.pads.every((x) => x === 0) && p.s.every((s, i) => s === p.k[i]);
}

/**
 * Backward strategies for MaxPool; both route each window's gradient to its
 * first maximum in row-major window order, as TensorFlow does, so tied
 * maxima (e.g. constant image background after Conv+ReLU) are handled exactly.
 * - 'scatter': the forward pass also emits MaxPool's flat argmax `Indices`;
 *   the backward pass is ScatterElements(reduction='add') of dy into zeros.
 *   Any window geometry (MaxUnpool is wrong where windows overlap).
 * - 'mask': windows must tile the input (stride = kernel, no padding; a
 *   remainder at the end is allowed). The forward pass is a plain MaxPool
 *   (ORT's Indices output is several times slower than the pooling itself);
 *   the backward pass upsamples y with Resize, compares it with x, breaks ties
 *   with a second MaxPool over in-window position weights, and selects the
 *   upsampled dy where the first maximum sits. Elementwise ops only.
 * - 'auto': 'mask' when the windows tile the input, else 'scatter'.
 */
export type MaxPoolGradMethod = 'scatter' | 'mask' | 'auto';

/** Tensors produced by {@link maxPoolForward}; `indices` is set for the 'scatter' method. */
export interface MaxPoolForwardResult {
  y: string;
  indices?: string;
}

/** MaxPool forward, emitting what the chosen backward method needs. */
export function maxPoolForward(g: GraphBuilder, spec: PoolSpec, x: string, method: MaxPoolGradMethod = 'auto'): MaxPoolForwardResult {
  const p = normPool(spec);
  const tiling = poolIsTiling(spec);
  if (method === 'mask' && !tiling) throw new Error("maxPoolForward: 'mask' needs stride = kernel and no padding");
  const attrs = { kernelShape: p.k, strides: p.s, pads: p.pads };
  if (method === 'scatter' || !tiling) {
    const [y, indices] = g.maxPoolWithIndices(x, attrs);
    return { y, indices };
  }
  return { y: g.maxPool(x, attrs) };
}

/** Options of {@link maxPoolBackward}. */
export interface MaxPoolGradOptions {
  /**
   * The pooled tensor `x` is a ReLU output: fold the ReLU backward in and
   * return the gradient w.r.t. the ReLU's input. Exact, because a window's
   * maximum is positive exactly when the ReLU passes at its argmax, and it
   * masks dy at pooled size instead of the 4×-larger input size.
   */
  afterRelu?: boolean;
}

/**
 * `where(mask, value, 0)` as `value · float(mask)`: the same result for finite values, and ORT's
 * CPU Mul is about twice as fast as its broadcasting Where (1.2 vs 2.7 ms on 128×10×24×24, measured),
 * which matters because ReLU and max-pool masks were ~15% of a training step.
 */
function keepWhere(g: GraphBuilder, mask: string, value: string): string {
  return g.mul(value, g.cast(mask, 'float32'));
}

/**
 * Per-position weights over a tiled plane (shape `covered`, windows `k`): kCount − (the
 * position's row-major rank in its window), so the first maximum of a window has the largest
 * weight. Exact small integers in float32.
 */
export function maxPoolFirstWeights(k: readonly number[], covered: readonly number[]): Float32Array {
  const r = k.length;
  const kCount = k.reduce((a, b) => a * b, 1);
  const w = new Float32Array(covered.reduce((a, b) => a * b, 1));
  const pos = new Array<number>(r).fill(0);
  for (let e = 0; e < w.length; e++) {
    let rank = 0;
    for (let i = 0; i < r; i++) rank = rank * k[i] + (pos[i] % k[i]);
    w[e] = kCount - rank;
    for (let a = r - 1; a >= 0 && ++pos[a] >= covered[a]; a--) pos[a] = 0;
  }
  return w;
}

/**
 * MaxPool backward; the method is the one {@link maxPoolForward} used
 * (`fwd.indices` present means 'scatter').
 */
export function maxPoolBackward(g: GraphBuilder, spec: PoolSpec, x: string, fwd: MaxPoolForwardResult, dy: string, opts: MaxPoolGradOptions = {}): string {
  const p = normPool(spec);
  const { r } = p;
  const dyIn = opts.afterRelu ? g.mul(dy, reluMask(g, fwd.y)) : dy;
  if (fwd.indices) {
    const zeros = g.constantOfShape(g.reshape(g.size(x), [1]));
    const flat = g.scatterElements(zeros, g.reshape(fwd.indices, [-1]), g.reshape(dyIn, [-1]), 0, 'add');
    return g.reshape(flat, g.shape(x));
  }
  if (!poolIsTiling(spec)) throw new Error("maxPoolBackward: 'mask' needs stride = kernel and no padding");
  const covered = p.out.map((o, i) => o * p.k[i]);
  const partial = covered.some((c, i) => c !== p.in[i]);
  const xc = partial ? g.slice(x, new Array<number>(r).fill(0), covered, spatialAxes(r)) : x;
  const scales = g.float32s([1, 1, ...p.k]);
  const up = (t: string) => g.node('Resize', [t, '', scales], 1, { mode: 'nearest', nearest_mode: 'floor', coordinate_transformation_mode: 'asymmetric' })[0];
  const weights = g.initializer(g.fresh('maxpool_first_weight'), maxPoolFirstWeights(p.k, covered), [1, 1, ...covered]);
  // key: the window position's weight where x is the window's maximum, else 0; the largest key
  // in a window marks its first maximum. (Cast and Mul: 2.3 + 2.3 ms on a 64×64×32×32 tensor,
  // against 8.3 ms for onnxruntime's broadcasting Where.)
  const key = g.mul(g.cast(g.equal(xc, up(fwd.y)), 'float32'), weights);
  const firstKey = g.maxPool(key, { kernelShape: p.k, strides: p.k });
  const dx = keepWhere(g, g.equal(key, up(firstKey)), up(dyIn));
  if (!partial) return dx;
  return g.pad(dx, [0, 0, ...new Array<number>(r).fill(0), 0, 0, ...p.in.map((n, i) => n - covered[i])]);
}

/** AveragePool forward; padding is excluded from the divisor (Keras 'same' semantics). */
export function avgPoolForward(g: GraphBuilder, spec: PoolSpec, x: string): string {
  const p = normPool(spec);
  return g.averagePool(x, { kernelShape: p.k, strides: p.s, pads: p.pads, countIncludePad: false });
}

/** Number of non-padding inputs under each output window, row-major over the output. */
export function avgPoolCounts(spec: PoolSpec): number[] {
  const p = normPool(spec);
  const perAxis = p.out.map((o, i) =>
    Array.from({ length: o }, (_, j) => {
      const start = j * p.s[i] - p.pads[i];
      return Math.min(start + p.k[i], p.in[i]) - Math.max(start, 0);
    }),
  );
  let counts = [1];
  for (const axis of perAxis) counts = counts.flatMap((c) => axis.map((a) => c * a));
  return counts;
}

/**
 * AveragePool backward: dy is divided by each window's count of real inputs,
 * then spread back over the window. Tiling windows use a broadcast (Expand);
 * others a depthwise ConvTranspose with a ones kernel.
 */
export function avgPoolBackward(g: GraphBuilder, spec: PoolSpec, channels: number, dy: string): string {
  const p = normPool(spec);
  const { r } = p;
  const counts = avgPoolCounts(spec);
  const uniform = counts.every((c) => c === counts[0]);
  const scale = uniform
    ? g.scalar(1 / counts[0])
    : g.initializer(g.fresh('avgpool_inv_count'), Float32Array.from(counts, (c) => 1 / c), [1, 1, ...p.out]);
  const dys = g.mul(dy, scale);
  if (poolIsTiling(spec)) {
    const interleaved = [0, 0, ...p.out.flatMap((o) => [o, 1])];
    const expandTo = [1, 1, ...p.k.flatMap((k) => [1, k])];
    const covered = p.out.map((o, i) => o * p.k[i]);
    let dx = g.reshape(g.expand(g.reshape(dys, interleaved), expandTo), [0, 0, ...covered]);
    if (covered.some((c, i) => c !== p.in[i])) {
      dx = g.pad(dx, [0, 0, ...new Array<number>(r).fill(0), 0, 0, ...p.in.map((n, i) => n - covered[i])]);
    }
    return dx;
  }
  const kernelSize = p.k.reduce((a, b) => a * b, 1);
  const ones = g.initializer(g.fresh('avgpool_ones'), new Float32Array(channels * kernelSize).fill(1), [channels, 1, ...p.k]);
  const outputPadding = p.in.map((h, i) => (h + p.pads[i] + p.pads[i + r] - p.k[i]) % p.s[i]);
  return g.convTranspose(dys, ones, undefined, {
    kernelShape: p.k,
    strides: p.s,
    pads: p.pads,
    group: channels,
    outputPadding: outputPadding.some((o) => o > 0) ? outputPadding : undefined,
  });
}

/** GlobalAveragePooling forward: mean over spatial axes, [N, C, ...] → [N, C]. */
export function globalAvgPoolForward(g: GraphBuilder, spatialRank: number, x: string): string {
  return g.reduceMean(x, spatialAxes(spatialRank), false);
}

/** GlobalAveragePooling backward: dy/(spatial size) broadcast over the input's spatial extent. */
export function globalAvgPoolBackward(g: GraphBuilder, inputSpatial: readonly number[], dy: string): string {
  const count = inputSpatial.reduce((a, b) => a * b, 1);
  const scaled = g.mul(g.reshape(dy, [0, 0, ...inputSpatial.map(() => 1)]), g.scalar(1 / count));
  return g.expand(scaled, [1, 1, ...inputSpatial]);
}

// ---- dense -----------------------------------------------------------------

/** Dense forward: x [N, in] · w [in, out] (+ b [out]), Keras weight layout. */
export function denseForward(g: GraphBuilder, x: string, w: string, b?: string): string {
  return g.gemm(x, w, b);
}

/** Dense backward with Gemm: dx = dy·wᵀ, dw = xᵀ·dy, db = Σ_N dy. */
export function denseBackward(g: GraphBuilder, x: string, w: string, dy: string, need: GradNeeds = {}): { dx?: string; dw?: string; db?: string } {
  const result: { dx?: string; dw?: string; db?: string } = {};
  if (need.dx ?? true) result.dx = g.gemm(dy, w, undefined, { transB: true });
  if (need.dw ?? true) result.dw = g.gemm(x, dy, undefined, { transA: true });
  if (need.db ?? true) result.db = g.reduceSum(dy, [0], false);
  return result;
}

// ---- activations: the registry in activations.ts ---------------------------

export { activationBackward, activationForward, reluMask, type ActivationKind, type ActivationSpec } from './activations';

// ---- losses ----------------------------------------------------------------

/** A loss value (float32 scalar) and its gradient w.r.t. the prediction or logits. */
export interface LossResult {
  loss: string;
  grad: string;
}

function batchCount(g: GraphBuilder, x: string): string {
  return g.reshape(g.cast(g.shape(x, 0, 1), 'float32'), []);
}

function elementCount(g: GraphBuilder, x: string): string {
  return g.cast(g.size(x), 'float32');
}

function softmaxXentFromOneHot(g: GraphBuilder, logits: string, oneHot: string): LossResult {
  const logp = g.logSoftmax(logits, -1);
  const n = batchCount(g, logits);
  const loss = g.div(g.neg(g.reduceSum(g.mul(oneHot, logp), undefined, false)), n);
  const grad = g.div(g.sub(g.exp(logp), oneHot), n);
  return { loss, grad };
}

/**
 * Categorical cross-entropy fused with softmax, from logits [N, K] and
 * one-hot (or soft) labels [N, K]: loss = mean_N(−Σ_K y·logsoftmax(z)),
 * grad = (softmax(z) − y)/N. Use instead of Dense(softmax) + CE.
 */
export function softmaxCrossEntropy(g: GraphBuilder, logits: string, labels: string): LossResult {
  return softmaxXentFromOneHot(g, logits, labels);
}

/** Sparse categorical cross-entropy fused with softmax; labels are int64 class ids [N]. */
export function sparseSoftmaxCrossEntropy(g: GraphBuilder, logits: string, labels: string, numClasses: number): LossResult {
  return softmaxXentFromOneHot(g, logits, g.oneHot(labels, numClasses));
}

/**
 * Binary cross-entropy fused with sigmoid, from logits: per element
 * max(z,0) − z·y + ln(1+e^−|z|), averaged over all elements (Keras' mean
 * over the last axis then the batch); grad = (σ(z) − y)/count.
 */
export function sigmoidBinaryCrossEntropy(g: GraphBuilder, logits: string, labels: string): LossResult {
  const perElement = g.add(g.sub(g.relu(logits), g.mul(logits, labels)), g.softplus(g.neg(g.abs(logits))));
  const loss = g.reduceMean(perElement, undefined, false);
  const grad = g.div(g.sub(g.sigmoid(logits), labels), elementCount(g, logits));
  return { loss, grad };
}

/** Mean squared error over all elements; grad = 2(p − t)/count. */
export function meanSquaredError(g: GraphBuilder, pred: string, target: string): LossResult {
  const diff = g.sub(pred, target);
  const loss = g.reduceMean(g.mul(diff, diff), undefined, false);
  const grad = g.div(g.mul(diff, g.scalar(2)), elementCount(g, pred));
  return { loss, grad };
}

/** Mean absolute error over all elements; grad = sign(p − t)/count. */
export function meanAbsoluteError(g: GraphBuilder, pred: string, target: string): LossResult {
  const diff = g.sub(pred, target);
  const loss = g.reduceMean(g.abs(diff), undefined, false);
  const grad = g.div(g.sign(diff), elementCount(g, pred));
  return { loss, grad };
}

// ---- reshaping -------------------------------------------------------------

/**
 * Flatten [N, C, ...spatial] → [N, F]. With `channelsLast` the features are
 * ordered like Keras' Flatten on NHWC data (spatial first, channel last), so
 * Keras Dense weights that follow a Flatten can be used unchanged.
 */
export function flattenForward(g: GraphBuilder, x: string, spatialRank: number, channelsLast = false): string {
  const src = channelsLast && spatialRank > 0 ? g.transpose(x, [0, ...spatialAxes(spatialRank), 1]) : x;
  return g.flatten(src, 1);
}

/** Flatten backward: reshape dy to the (static, batch-less) input shape [C, ...spatial]. */
export function flattenBackward(g: GraphBuilder, dy: string, inputShape: readonly number[], channelsLast = false): string {
  const r = inputShape.length - 1;
  if (!channelsLast || r <= 0) return g.reshape(dy, [-1, ...inputShape]);
  const nhwc = g.reshape(dy, [-1, ...inputShape.slice(1), inputShape[0]]);
  return g.transpose(nhwc, [0, r + 1, ...Array.from({ length: r }, (_, i) => i + 1)]);
}

/** Reshape backward: reshape dy back to the (static, batch-less) input shape. */
export function reshapeBackward(g: GraphBuilder, dy: string, inputShape: readonly number[]): string {
  return g.reshape(dy, [-1, ...inputShape]);
}

// ---- dropout ---------------------------------------------------------------

/**
 * Training-mode Dropout: keeps an element when its uniform draw is ≥ rate
 * (Keras) and scales kept elements by 1/(1 − rate). `mask` holds the scale
 * (0 or 1/(1 − rate)) and is all the backward pass needs. With a seed the
 * masks are a reproducible sequence over the runs of one session.
 */
export function dropoutForward(g: GraphBuilder, x: string, rate: number, seed?: number): { y: string; mask: string } {
  if (!(rate >= 0 && rate < 1)) throw new Error('dropoutForward: rate must be in [0, 1)');
  const u = g.randomUniformLike(x, 0, 1, seed);
  const mask = g.where(g.less(u, g.scalar(rate)), g.scalar(0), g.scalar(1 / (1 - rate)));
  return { y: g.mul(x, mask), mask };
}

/** Dropout backward: dx = dy · mask. */
export function dropoutBackward(g: GraphBuilder, mask: string, dy: string): string {
  return g.mul(dy, mask);
}

// ---- batch normalization ---------------------------------------------------

/** Static description of a BatchNormalization over axis 1 of a rank-`rank` tensor. */
export interface BatchNormSpec {
  channels: number;
  /** Rank of the input: 2 for [N, C], 4 for [N, C, H, W]. */
  rank: number;
  /** Keras default 0.99: moving = moving·momentum + batch·(1 − momentum). */
  momentum?: number;
  /** Keras default 1e-3. */
  epsilon?: number;
  /**
   * The moving variance takes the batch's unbiased variance (× n/(n − 1), n values per channel),
   * as PyTorch's running_var does; Keras uses the biased one for both.
   */
  unbiasedMovingVar?: boolean;
}

/** Tensors produced by {@link batchNormTrainForward}. */
export interface BatchNormTrainOutputs {
  y: string;
  /** Normalized input, kept for the backward pass. */
  xhat: string;
  /** 1/√(var + ε), shaped [1, C, 1...], kept for the backward pass. */
  invStd: string;
  /** Batch mean and (biased) variance, [C]. */
  mean: string;
  variance: string;
  newMovingMean: string;
  newMovingVar: string;
}

function bnAxes(spec: BatchNormSpec): number[] {
  return [0, ...Array.from({ length: spec.rank - 2 }, (_, i) => i + 2)];
}

function bnBroadcastShape(spec: BatchNormSpec): number[] {
  return [1, spec.channels, ...new Array<number>(spec.rank - 2).fill(1)];
}

/**
 * Training-mode BatchNormalization with batch statistics (biased variance,
 * as Keras uses for both normalization and the moving variance) and the
 * moving-statistics update. `gamma`/`beta` may be omitted (Keras scale/center false).
 */
export function batchNormTrainForward(
  g: GraphBuilder,
  spec: BatchNormSpec,
  x: string,
  gamma: string | undefined,
  beta: string | undefined,
  movingMean: string,
  movingVar: string,
): BatchNormTrainOutputs {
  const axes = bnAxes(spec);
  const momentum = spec.momentum ?? 0.99;
  const eps = spec.epsilon ?? 1e-3;
  const bshape = bnBroadcastShape(spec);
  const mean4 = g.reduceMean(x, axes, true);
  const xc = g.sub(x, mean4);
  const var4 = g.reduceMean(g.mul(xc, xc), axes, true);
  const invStd = g.reciprocal(g.sqrt(g.add(var4, g.scalar(eps))));
  const xhat = g.mul(xc, invStd);
  let y = gamma ? g.mul(xhat, g.reshape(gamma, bshape)) : xhat;
  if (beta) y = g.add(y, g.reshape(beta, bshape));
  const mean = g.reshape(mean4, [spec.channels]);
  const variance = g.reshape(var4, [spec.channels]);
  const m = g.scalar(momentum);
  const oneMinus = g.scalar(1 - momentum);
  const newMovingMean = g.add(g.mul(movingMean, m), g.mul(mean, oneMinus));
  // n/(n − 1) with n = size(x)/C values per channel, i.e. size/(size − C).
  const size = spec.unbiasedMovingVar ? g.cast(g.size(x), 'float32') : '';
  const batchVar = spec.unbiasedMovingVar ? g.mul(variance, g.div(size, g.sub(size, g.scalar(spec.channels)))) : variance;
  const newMovingVar = g.add(g.mul(movingVar, m), g.mul(batchVar, oneMinus));
  return { y, xhat, invStd, mean, variance, newMovingMean, newMovingVar };
}

/**
 * BatchNormalization backward (training mode):
 * dx = γ·invStd·(dy − mean(dy) − x̂·mean(dy·x̂)), dγ = Σ dy·x̂, dβ = Σ dy.
 */
export function batchNormBackward(
  g: GraphBuilder,
  spec: BatchNormSpec,
  xhat: string,
  invStd: string,
  gamma: string | undefined,
  dy: string,
): { dx: string; dgamma: string; dbeta: string } {
  const axes = bnAxes(spec);
  const sumDy = g.reduceSum(dy, axes, true);
  const sumDyXhat = g.reduceSum(g.mul(dy, xhat), axes, true);
  const invCount = g.div(g.scalar(spec.channels), g.cast(g.size(dy), 'float32'));
  const centered = g.sub(g.sub(dy, g.mul(sumDy, invCount)), g.mul(xhat, g.mul(sumDyXhat, invCount)));
  const k = gamma ? g.mul(g.reshape(gamma, bnBroadcastShape(spec)), invStd) : invStd;
  return {
    dx: g.mul(centered, k),
    dgamma: g.reshape(sumDyXhat, [spec.channels]),
    dbeta: g.reshape(sumDy, [spec.channels]),
  };
}

/** Inference-mode BatchNormalization with moving statistics (ONNX BatchNormalization). */
export function batchNormInference(
  g: GraphBuilder,
  spec: BatchNormSpec,
  x: string,
  gamma: string | undefined,
  beta: string | undefined,
  movingMean: string,
  movingVar: string,
): string {
  const ones = gamma ?? g.float32s(new Array<number>(spec.channels).fill(1));
  const zeros = beta ?? g.float32s(new Array<number>(spec.channels).fill(0));
  return g.batchNormalization(x, ones, zeros, movingMean, movingVar, spec.epsilon ?? 1e-3);
}

// ---- padding / cropping ----------------------------------------------------

/** ZeroPadding forward; `pads` = ONNX spatial pads [begin..., end...]. */
export function zeroPadForward(g: GraphBuilder, x: string, pads: readonly number[]): string {
  const r = pads.length / 2;
  return g.pad(x, [0, 0, ...pads.slice(0, r), 0, 0, ...pads.slice(r)]);
}

/** ZeroPadding backward: slice the un-padded region out of dy. */
export function zeroPadBackward(g: GraphBuilder, dy: string, pads: readonly number[], inputSpatial: readonly number[]): string {
  const r = inputSpatial.length;
  const starts = pads.slice(0, r);
  return g.slice(dy, starts, starts.map((s, i) => s + inputSpatial[i]), spatialAxes(r));
}

/** Cropping forward; `crops` = [begin..., end...] per spatial axis. */
export function croppingForward(g: GraphBuilder, x: string, crops: readonly number[], inputSpatial: readonly number[]): string {
  const r = inputSpatial.length;
  return g.slice(x, crops.slice(0, r), inputSpatial.map((n, i) => n - crops[i + r]), spatialAxes(r));
}

/** Cropping backward: zero-pad dy back to the input size. */
export function croppingBackward(g: GraphBuilder, dy: string, crops: readonly number[]): string {
  return zeroPadForward(g, dy, crops);
}

// ---- broadcasting, slicing and constant padding (PyTorch's tensor code) -----

/**
 * The gradient of an operand that was broadcast to `to`: `dy` summed over the axes where the
 * operand had size 1 and the result more, keeping them (so the result has the operand's shape).
 * Shapes are per-sample and of one rank; axis 0 of `dy` is the batch.
 */
export function sumToShape(g: GraphBuilder, dy: string, from: readonly number[], to: readonly number[]): string {
  if (from.length !== to.length) throw new Error('sumToShape: the shapes must have one rank');
  const axes = to.flatMap((d, i) => (d === 1 && from[i] !== 1 ? [i + 1] : []));
  return axes.length ? g.reduceSum(dy, axes, true) : dy;
}

/** One axis of a strided slice: `count` elements from `start`, `step` apart (step ≥ 1). */
export interface SliceAxis {
  start: number;
  count: number;
  step: number;
}

/**
 * Forward of a slice of per-sample axes (`axes[i]` is the slice of per-sample axis i; the batch
 * axis is kept whole): one ONNX Slice.
 */
export function stridedSliceForward(g: GraphBuilder, x: string, inShape: readonly number[], axes: readonly SliceAxis[]): string {
  const moved = axes.flatMap((a, i) => (a.start === 0 && a.step === 1 && a.count === inShape[i] ? [] : [i]));
  if (moved.length === 0) return x;
  return g.slice(
    x,
    moved.map((i) => axes[i].start),
    moved.map((i) => axes[i].start + (axes[i].count - 1) * axes[i].step + 1),
    moved.map((i) => i + 1),
    moved.map((i) => axes[i].step),
  );
}

/**
 * Backward of {@link stridedSliceForward}: `dy` (the sliced shape) put back where it was taken
 * from, zeros elsewhere, with reshapes and Pads only. A strided axis of m elements is first spread
 * to m·step by padding a new axis of 1 after it to `step` and merging the two (element j lands at
 * j·step), then trimmed to what fits and padded to the input's extent.
 */
export function stridedSliceBackward(g: GraphBuilder, dy: string, inShape: readonly number[], axes: readonly SliceAxis[]): string {
  let cur = axes.map((a) => a.count);
  let t = dy;
  const r = inShape.length;
  axes.forEach((a, i) => {
    if (a.step === 1 || a.count === 1) return;
    const withOne = [...cur.slice(0, i + 1), 1, ...cur.slice(i + 1)];
    const pads = new Array<number>(2 * (r + 2)).fill(0);
    pads[r + 2 + i + 2] = a.step - 1;
    t = g.pad(g.reshape(t, [-1, ...withOne]), pads);
    cur = cur.map((c, k) => (k === i ? c * a.step : c));
    t = g.reshape(t, [-1, ...cur]);
  });
  const extent = axes.map((a, i) => (a.step === 1 || a.count === 1 ? a.count : Math.min(cur[i], inShape[i] - a.start)));
  const trim = extent.flatMap((e, i) => (e < cur[i] ? [i] : []));
  if (trim.length) t = g.slice(t, trim.map(() => 0), trim.map((i) => extent[i]), trim.map((i) => i + 1));
  const begin = axes.map((a) => a.start);
  const end = axes.map((a, i) => inShape[i] - a.start - extent[i]);
  if (begin.every((b) => b === 0) && end.every((e) => e === 0)) return t;
  return g.pad(t, [0, ...begin, 0, ...end]);
}

/**
 * A constant pad of per-sample axes by `[begin, end]` each (negative amounts crop, as F.pad's
 * do): a Pad of the positive amounts, then a Slice of the negative ones. Its backward is the
 * same with the amounts negated and the value 0.
 */
export function constantPadForward(g: GraphBuilder, x: string, inShape: readonly number[], amounts: readonly (readonly [number, number])[], value = 0): string {
  let t = x;
  if (amounts.some(([b, e]) => b > 0 || e > 0)) t = g.pad(t, [0, ...amounts.map(([b]) => Math.max(0, b)), 0, ...amounts.map(([, e]) => Math.max(0, e))], value);
  const crop = amounts.flatMap(([b, e], i) => (b < 0 || e < 0 ? [i] : []));
  if (crop.length === 0) return t;
  const padded = inShape.map((n, i) => n + Math.max(0, amounts[i][0]) + Math.max(0, amounts[i][1]));
  return g.slice(
    t,
    crop.map((i) => Math.max(0, -amounts[i][0])),
    crop.map((i) => padded[i] - Math.max(0, -amounts[i][1])),
    crop.map((i) => i + 1),
  );
}

/** Backward of {@link constantPadForward}: the padded region sliced out, the cropped one zero-padded back. */
export function constantPadBackward(g: GraphBuilder, dy: string, outShape: readonly number[], amounts: readonly (readonly [number, number])[]): string {
  return constantPadForward(g, dy, outShape, amounts.map(([b, e]) => [-b, -e] as [number, number]), 0);
}
