/**
 * onnxruntime's blocked channel layout ("NCHWc") and its CPU kernels (domain
 * com.microsoft.nchwc), used by the training and evaluation graphs where they are faster than
 * the standard ops. An NCHWc tensor has the logical shape [N, Cp, H, W] (Cp: the channels
 * rounded up to the block size B, 16 with AVX-512 and 8 with AVX2) and the memory order
 * [N, Cp/B, H, W, B]: each pixel's channels in blocks of B contiguous floats. onnxruntime's
 * direct NCHWc convolution kernels ran 15–40% faster than its im2col Conv on the VGG-style
 * layers (64→64 on 32×32, batch 64, one thread: 39 ms against 48 ms).
 *
 * Elementwise ops do not care about the layout; anything that broadcasts over channels or
 * pixels uses the 5-D view [N, Cp/B, H, W, B] ({@link blockedView}), whose logical order is the
 * memory order, or per-channel arithmetic on the [N, Cp/B, H·W, B] view (batch normalization,
 * global average pooling: see below). The block size depends on the CPU onnxruntime runs on, so the trainer measures
 * it and passes it in; 0 means standard ops only. Exported models never use these ops.
 */
import { convBackward, convOutputSpatial, convWeightGradChannelsLast, maxPoolFirstWeights, poolIsTiling, reluMask, type BatchNormSpec, type ConvSpec, type PoolSpec } from './grad';
import type { GraphBuilder } from './graphBuilder';

export const NCHWC_DOMAIN = 'com.microsoft.nchwc';
const NCHWC = { domain: NCHWC_DOMAIN };

/** Layout of an activation between layers: ONNX's (N, C, spatial…) or onnxruntime's NCHWc. */
export type ActLayout = 'nchw' | 'nchwc';

/** Channels rounded up to a whole number of blocks. */
export const blockedChannels = (channels: number, block: number): number => Math.ceil(channels / block) * block;

/** [N, C, H, W] (or [N, H, W, C] with `channelsLast`) → NCHWc; C must be a multiple of 4. */
export function reorderInput(g: GraphBuilder, x: string, channelsLast = false): string {
  return g.node('ReorderInput', [x], 1, { channels_last: channelsLast ? 1 : 0 }, NCHWC)[0];
}

/** NCHWc → [N, C, H, W] (or [N, H, W, C] with `channelsLast`), dropping the padding channels. */
export function reorderOutput(g: GraphBuilder, x: string, channels: number, channelsLast = false): string {
  return g.node('ReorderOutput', [x], 1, { channels, channels_last: channelsLast ? 1 : 0 }, NCHWC)[0];
}

/** The 5-D view [N, Cp/B, H, W, B] of an NCHWc tensor (a free Reshape: the memory order). */
export function blockedView(g: GraphBuilder, x: string, channels: number, block: number, spatial: readonly number[]): string {
  return g.reshape(x, [-1, blockedChannels(channels, block) / block, ...spatial, block]);
}

/** Back from {@link blockedView} to the logical NCHWc shape [N, Cp, H, W]. */
export function unblockedView(g: GraphBuilder, x5: string, channels: number, block: number, spatial: readonly number[]): string {
  return g.reshape(x5, [-1, blockedChannels(channels, block), ...spatial]);
}

/**
 * A Keras 2-D kernel (kh, kw, C, M) as the weights of an NCHWc convolution, reordered in the
 * graph (the weights change every step). With `transposed` it is the kernel of the input
 * gradient instead: flipped in space, C and M swapped. Layouts as MLAS's filter reorders:
 * OIHWBiBo [O/B, I/B, kh, kw, Bi, Bo] when the input is NCHWc, OIHWBo [O/B, I, kh, kw, Bo]
 * when the input is plain NCHW with fewer channels than a block; given the 4-D shape
 * [O, I, kh, kw] the kernel checks.
 */
export function nchwcFilter(g: GraphBuilder, kernel: string, kh: number, kw: number, c: number, m: number, block: number, transposed = false): string {
  const [o, i] = transposed ? [c, m] : [m, c];
  // Keras axes: kh, kw, C, M. As [kh, kw, I…, O…] the roles follow `transposed`.
  let w: string;
  if (i < block) {
    // OIHWBo: [O/B, I, kh, kw, Bo].
    const split = transposed ? [kh, kw, o / block, block, i] : [kh, kw, i, o / block, block];
    const perm = transposed ? [2, 4, 0, 1, 3] : [3, 2, 0, 1, 4];
    w = g.transpose(g.reshape(kernel, split), perm);
  } else {
    // OIHWBiBo: [O/B, I/B, kh, kw, Bi, Bo].
    const split = transposed ? [kh, kw, o / block, block, i / block, block] : [kh, kw, i / block, block, o / block, block];
    const perm = transposed ? [2, 4, 0, 1, 5, 3] : [4, 2, 0, 1, 3, 5];
    w = g.transpose(g.reshape(kernel, split), perm);
  }
  if (transposed) w = g.slice(w, [-1, -1], [-(kh + 1), -(kw + 1)], [2, 3], [-1, -1]);
  return g.reshape(w, [o, i, kh, kw]);
}

/** Attributes of an NCHWc convolution (ONNX conventions). */
export interface NchwcConvAttrs {
  kernelShape: readonly number[];
  strides?: readonly number[];
  dilations?: readonly number[];
  pads?: readonly number[];
  /** An activation fused into the convolution's output ('Relu'). */
  activation?: 'Relu';
  /** An NCHWc tensor of the output's shape added to the output (before the activation). */
  sum?: string;
}

/** NCHWc Conv: x NCHWc (or NCHW with fewer channels than a block), w from {@link nchwcFilter}, optional bias [M]. */
export function nchwcConv(g: GraphBuilder, x: string, w: string, b: string | undefined, a: NchwcConvAttrs): string {
  const inputs = a.sum ? [x, w, b ?? '', a.sum] : b ? [x, w, b] : [x, w];
  return g.node('Conv', inputs, 1, {
    kernel_shape: [...a.kernelShape],
    strides: a.strides ? [...a.strides] : undefined,
    dilations: a.dilations ? [...a.dilations] : undefined,
    pads: a.pads ? [...a.pads] : undefined,
    activation: a.activation,
  }, NCHWC)[0];
}

/** NCHWc MaxPool (no indices). */
export function nchwcMaxPool(g: GraphBuilder, x: string, kernel: readonly number[], strides: readonly number[], pads?: readonly number[]): string {
  return g.node('MaxPool', [x], 1, { kernel_shape: [...kernel], strides: [...strides], pads: pads ? [...pads] : undefined }, NCHWC)[0];
}

/** NCHWc nearest-neighbour upsampling by whole factors per spatial axis. */
export function nchwcUpsample(g: GraphBuilder, x: string, factors: readonly number[]): string {
  return g.node('Upsample', [x], 1, { scales: [1, 1, ...factors], mode: 'nearest' }, NCHWC)[0];
}

// ---- convolution recipes ---------------------------------------------------

/** Whether a 2-D convolution can run as NCHWc: groups 1, filters a whole number of blocks, input channels too or fewer than a block. */
export function nchwcConvFits(spec: ConvSpec, block: number): boolean {
  const c = spec.inChannels;
  return block > 0 && spec.kernel.length === 2 && (spec.groups ?? 1) === 1 && spec.outChannels % block === 0 && (c % block === 0 || c < block);
}

/**
 * NCHWc convolution forward from a Keras kernel. `x` is NCHWc, or NCHW (reordered here when it
 * has whole blocks of channels; fewer channels than a block feed the kernel as NCHW). The
 * output is NCHWc; `relu` fuses the activation. Returns what the backward pass needs.
 */
export function nchwcConvForward(
  g: GraphBuilder,
  spec: ConvSpec,
  block: number,
  x: string,
  xLayout: ActLayout,
  kerasKernel: string,
  bias: string | undefined,
  relu: boolean,
): { y: string; xin: string; xinLayout: ActLayout } {
  const [kh, kw] = spec.kernel;
  const c = spec.inChannels;
  const xin = xLayout === 'nchw' && c % block === 0 ? reorderInput(g, x) : x;
  const xinLayout: ActLayout = c % block === 0 ? 'nchwc' : 'nchw';
  const w = nchwcFilter(g, kerasKernel, kh, kw, c, spec.outChannels, block);
  const y = nchwcConv(g, xin, w, bias, { kernelShape: spec.kernel, strides: spec.strides, dilations: spec.dilations, pads: spec.pads, activation: relu ? 'Relu' : undefined });
  return { y, xin, xinLayout };
}

/**
 * NCHWc convolution backward; `dy` is NCHWc. dw by the 'gemm' formulation (grad.ts) with x
 * reordered to channels-last and dy transposed to [M, N, …out] straight from its blocks; dx by
 * an NCHWc Conv of the flipped kernel when the strides are 1 and the input has whole blocks of
 * channels, else ConvTranspose in NCHW. dx comes back in `xLayout`, dw in Keras layout.
 */
export function nchwcConvBackward(
  g: GraphBuilder,
  spec: ConvSpec,
  block: number,
  fwd: { xin: string; xinLayout: ActLayout },
  xLayout: ActLayout,
  kerasKernel: string,
  dy: string,
  need: { dx: boolean; db: boolean },
): { dx?: string; dw: string; db?: string } {
  const c = spec.inChannels;
  const m = spec.outChannels;
  const [kh, kw] = spec.kernel;
  const result: { dx?: string; dw: string; db?: string } = { dw: '' };
  // MLAS' reorder to NCHW, then swapping N and M, took 4 ms on a 64×64×32×32 gradient where one
  // Transpose straight from the blocks took 15; db sums the swapped rows (a contiguous reduction).
  const dyMN = g.transpose(reorderOutput(g, dy, m), [1, 0, 2, 3]);
  if (need.db) result.db = g.reduceSum(dyMN, [1, 2, 3], false);
  // One block of channels is already channels-last in memory ([N, 1, H, W, B]): a free Reshape
  // where MLAS' reorder copied 4 MB in 0.6 ms (64×16×32×32).
  const xLast = fwd.xinLayout !== 'nchwc' ? g.transpose(fwd.xin, [0, 2, 3, 1]) : c === block ? g.reshape(fwd.xin, [-1, ...spec.inputSpatial, c]) : reorderOutput(g, fwd.xin, c, true);
  result.dw = convWeightGradChannelsLast(g, spec, xLast, dyMN);
  if (need.dx) {
    const strides = spec.strides ?? [1, 1];
    const dilations = spec.dilations ?? [1, 1];
    const pads = spec.pads ?? [0, 0, 0, 0];
    if (strides.every((s) => s === 1) && c % block === 0) {
      const w = nchwcFilter(g, kerasKernel, kh, kw, c, m, block, true);
      const dxPads = pads.map((p, i) => (spec.kernel[i % 2] - 1) * dilations[i % 2] - p);
      const dx = nchwcConv(g, dy, w, undefined, { kernelShape: spec.kernel, dilations, pads: dxPads });
      result.dx = xLayout === 'nchwc' ? dx : reorderOutput(g, dx, c);
    } else {
      const wOnnx = g.transpose(kerasKernel, [3, 2, 0, 1]);
      const r = convBackward(g, spec, '', wOnnx, reorderOutput(g, dy, m), { dw: false, db: false, dxMethod: 'convTranspose' });
      result.dx = xLayout === 'nchwc' ? reorderInput(g, r.dx!) : r.dx;
    }
  }
  return result;
}

// ---- pooling and flattening ------------------------------------------------

/** Whether a 2-D max pooling can run as NCHWc: windows that tile the input exactly (stride = pool size, no padding, no remainder). */
export function nchwcMaxPoolFits(spec: PoolSpec, channels: number, block: number): boolean {
  return block > 0 && spec.kernel.length === 2 && channels % block === 0 && poolIsTiling(spec) && spec.inputSpatial.every((n, i) => n % spec.kernel[i] === 0);
}

/** NCHWc max pooling forward of tiling windows. */
export function nchwcMaxPoolForward(g: GraphBuilder, spec: PoolSpec, x: string): string {
  return nchwcMaxPool(g, x, spec.kernel, spec.kernel);
}

/**
 * NCHWc max pooling backward, the 'mask' method of `maxPoolBackward` on blocked tensors: each
 * window's gradient goes to its first maximum (TensorFlow's tie rule), the position weights
 * broadcast over the 5-D view. `afterRelu` folds the ReLU before the pooling, as there.
 */
export function nchwcMaxPoolBackward(g: GraphBuilder, spec: PoolSpec, channels: number, block: number, x: string, y: string, dy: string, afterRelu: boolean): string {
  const k = spec.kernel;
  const spatial = spec.inputSpatial;
  const dyIn = afterRelu ? g.mul(dy, reluMask(g, y)) : dy;
  const up = (t: string) => nchwcUpsample(g, t, k);
  const weights = g.initializer(g.fresh('maxpool_first_weight'), maxPoolFirstWeights(k, spatial), [1, 1, ...spatial, 1]);
  const eq = blockedView(g, g.cast(g.equal(x, up(y)), 'float32'), channels, block, spatial);
  const key = unblockedView(g, g.mul(eq, weights), channels, block, spatial);
  const firstKey = nchwcMaxPool(g, key, k, k);
  return g.mul(up(dyIn), g.cast(g.equal(key, up(firstKey)), 'float32'));
}

/** Keras' Flatten (H, W, C order) of an NCHWc tensor: one reorder to channels-last. */
export function nchwcFlattenForward(g: GraphBuilder, x: string, channels: number): string {
  return g.flatten(reorderOutput(g, x, channels, true), 1);
}

/** Its backward: dy [N, H·W·C] back to NCHWc. */
export function nchwcFlattenBackward(g: GraphBuilder, dy: string, kerasShape: readonly number[]): string {
  return reorderInput(g, g.reshape(dy, [-1, ...kerasShape]), true);
}

// ---- per-channel arithmetic: batch normalization, global average pooling --------------------

/**
 * The view [N, Cp/B, P, B] of an NCHWc tensor with P pixels (a free Reshape). Per-channel
 * statistics sum over axes 2 then 0: onnxruntime reduced a 64×16×32×32 tensor that way in
 * 0.33 ms, and over axes [0, 2, 3] of the 5-D view in 2.7 ms (its fast paths keep the last
 * axis only after a single reduced run).
 */
function laneView(g: GraphBuilder, x: string, channels: number, block: number, pixels: number): string {
  return g.reshape(x, [-1, blockedChannels(channels, block) / block, pixels, block]);
}

/** Per-channel sums of a {@link laneView}: [1, Cp/B, 1, B]. */
function channelSums(g: GraphBuilder, x4: string): string {
  return g.reduceSum(g.reduceSum(x4, [2], true), [0], true);
}

/**
 * A per-channel vector (C values in channel order, any shape) tiled over one sample's pixels,
 * [1, Cp/B, P, B], to scale or shift a {@link laneView}: broadcasting the [1, Cp/B, 1, B] form
 * instead runs onnxruntime's elementwise ops over runs of B floats, which took twice as long
 * (0.94 against 0.47 ms for a Mul on 64×16×32×32). The tile is one sample's size.
 */
function tiled(g: GraphBuilder, v: string, channels: number, block: number, pixels: number): string {
  const cb = blockedChannels(channels, block) / block;
  return g.expand(g.reshape(v, [1, cb, 1, block]), [1, cb, pixels, block]);
}

/**
 * Channels up to which a per-channel scale runs as an NCHWc 1×1 convolution by a diagonal
 * kernel ({@link channelAffine}): it costs C multiply-adds per value but makes one pass that
 * also adds a bias and a tensor, where the elementwise ops make one pass each. Measured on
 * 64×C×H×W (one thread): dy·a + xc·b + c in 1.55 ms against 2.45 (C = 16, 32×32), 0.81 against
 * 1.32 (C = 32, 16×16), and even at C = 64 (8×8: 0.54 against 0.58, and a lone scale and shift
 * slower, 0.28 against 0.24).
 */
export const DIAGONAL_CONV_MAX_CHANNELS = 32;

/** The NCHWc 1×1 kernel (OIHWBiBo, as [C, C, 1, 1]) whose convolution multiplies channel c by `v[c]`. */
function diagonalFilter(g: GraphBuilder, v: string, channels: number, block: number): string {
  const cb = channels / block;
  // [O/B, I/B, Bi, Bo]: 1 where the output channel is the input channel.
  const eye = new Float32Array(channels * channels);
  for (let c = 0; c < channels; c++) {
    const b = Math.floor(c / block);
    const l = c % block;
    eye[((b * cb + b) * block + l) * block + l] = 1;
  }
  const ones = g.initializer(g.fresh(`diagonal${channels}x${block}`), eye, [cb, cb, block, block]);
  return g.reshape(g.mul(ones, g.reshape(v, [cb, 1, 1, block])), [channels, channels, 1, 1]);
}

/**
 * x·scale + shift (+ sum) per channel of an NCHWc tensor, returned NCHWc ([N, C, …spatial]):
 * `x` and `sum` as NCHWc or lane views, `scale` and `shift` C values in channel order. Up to
 * {@link DIAGONAL_CONV_MAX_CHANNELS} channels one diagonal 1×1 convolution, else elementwise
 * ops on the lane view.
 */
function channelAffine(g: GraphBuilder, x: string, scale: string, shift: string | undefined, sum: string | undefined, channels: number, block: number, spatial: readonly number[], relu = false): string {
  const pixels = spatial.reduce((p, d) => p * d, 1);
  const nchwc = (t: string) => g.reshape(t, [-1, channels, ...spatial]);
  if (channels <= DIAGONAL_CONV_MAX_CHANNELS) {
    const w = diagonalFilter(g, scale, channels, block);
    return nchwcConv(g, nchwc(x), w, shift && g.reshape(shift, [channels]), { kernelShape: spatial.map(() => 1), sum: sum && nchwc(sum), activation: relu ? 'Relu' : undefined });
  }
  let y = g.mul(laneView(g, x, channels, block, pixels), tiled(g, scale, channels, block, pixels));
  if (shift) y = g.add(y, tiled(g, shift, channels, block, pixels));
  if (sum) y = g.add(y, laneView(g, sum, channels, block, pixels));
  return nchwc(relu ? g.relu(y) : y);
}

/** What {@link nchwcBatchNormTrainForward} may fold into its output: relu?(y + sum), sum NCHWc of the output's shape. */
export interface NchwcEpilogue {
  sum?: string;
  relu: boolean;
}

/**
 * Whether a blocked BatchNormalization folds an {@link NchwcEpilogue} into its last op for
 * free: when its scaling is the diagonal convolution, whose Sum input and fused ReLU add the
 * residual and rectify in the same pass (on ResNet-20's 16-channel blocks, relu(BN + x) took
 * 0.94 ms against 1.69 for the scaling, the Add and the ReLU one after the other).
 */
export function nchwcBatchNormTakesEpilogue(channels: number, block: number): boolean {
  return nchwcBatchNormFits(channels, block) && channels <= DIAGONAL_CONV_MAX_CHANNELS;
}

/** Whether a BatchNormalization over the channels of an NCHWc input can stay blocked: whole blocks, every spatial rank. */
export function nchwcBatchNormFits(channels: number, block: number): boolean {
  return block > 0 && channels % block === 0;
}

/** What {@link nchwcBatchNormTrainForward} keeps for the backward pass. */
export interface NchwcBatchNormSaved {
  /** x − mean, as the {@link laneView}. */
  xc: string;
  /** 1/√(var + ε), [1, C/B, 1, B]. */
  invStd: string;
  /** γ·invStd (invStd without γ), [1, C/B, 1, B]. */
  scale: string;
  /** 1/(N·P), [1]. */
  invCount: string;
}

/**
 * Training-mode BatchNormalization of an NCHWc tensor (P pixels per channel and whole blocks of
 * channels), the output NCHWc too: batch mean, biased variance of x − mean (two passes, as
 * Keras' moments), y = (x − mean)·(γ·invStd) + β with the two per-channel factors applied to the
 * centred input in one {@link channelAffine} (where x̂ = (x − mean)·invStd then ·γ and + β took
 * three passes), with the `epilogue` (a residual Add, a ReLU) folded in when it is the diagonal
 * convolution ({@link nchwcBatchNormTakesEpilogue}).
 */
export function nchwcBatchNormTrainForward(
  g: GraphBuilder,
  spec: BatchNormSpec,
  block: number,
  spatial: readonly number[],
  x: string,
  gamma: string | undefined,
  beta: string | undefined,
  movingMean: string,
  movingVar: string,
  epilogue?: NchwcEpilogue,
): { y: string; saved: NchwcBatchNormSaved; newMovingMean: string; newMovingVar: string } {
  const c = spec.channels;
  const pixels = spatial.reduce((p, d) => p * d, 1);
  const momentum = spec.momentum ?? 0.99;
  const x4 = laneView(g, x, c, block, pixels);
  const invCount = g.reciprocal(g.mul(g.cast(g.shape(x, 0, 1), 'float32'), g.scalar(pixels)));
  const mean = g.mul(channelSums(g, x4), invCount);
  const xc = g.sub(x4, tiled(g, mean, c, block, pixels));
  const variance = g.mul(g.reduceSum(g.reduceSumSquare(xc, [2], true), [0], true), invCount);
  const invStd = g.reciprocal(g.sqrt(g.add(variance, g.scalar(spec.epsilon ?? 1e-3))));
  const scale = gamma ? g.mul(g.reshape(gamma, [1, c / block, 1, block]), invStd) : invStd;
  const y = channelAffine(g, xc, scale, beta, epilogue?.sum, c, block, spatial, epilogue?.relu);
  const m = g.scalar(momentum);
  const oneMinus = g.scalar(1 - momentum);
  const newMovingMean = g.add(g.mul(movingMean, m), g.mul(g.reshape(mean, [c]), oneMinus));
  const newMovingVar = g.add(g.mul(movingVar, m), g.mul(g.reshape(variance, [c]), oneMinus));
  return { y, saved: { xc, invStd, scale, invCount }, newMovingMean, newMovingVar };
}

/**
 * Its backward pass from the centred input xc = x − mean kept by the forward pass (x̂ = xc·invStd
 * folded into per-channel factors): with Σ over the batch and pixels and M = N·P,
 * dβ = Σ dy, dγ = invStd·Σ dy·xc, and
 * dx = γ·invStd·(dy − Σdy/M − x̂·Σ(dy·x̂)/M) = a·dy + b·xc + c per channel, where a = γ·invStd,
 * b = −a·invStd²·Σ(dy·xc)/M and c = −a·Σdy/M. `dy` and dx are NCHWc.
 */
export function nchwcBatchNormBackward(
  g: GraphBuilder,
  spec: BatchNormSpec,
  block: number,
  spatial: readonly number[],
  saved: NchwcBatchNormSaved,
  dy: string,
  needDx: boolean,
): { dx?: string; dgamma: string; dbeta: string } {
  const c = spec.channels;
  const pixels = spatial.reduce((p, d) => p * d, 1);
  const dy4 = laneView(g, dy, c, block, pixels);
  const sumDy = channelSums(g, dy4);
  const sumDyXc = channelSums(g, g.mul(dy4, saved.xc));
  const result: { dx?: string; dgamma: string; dbeta: string } = { dbeta: g.reshape(sumDy, [c]), dgamma: g.reshape(g.mul(sumDyXc, saved.invStd), [c]) };
  if (!needDx) return result;
  const a = saved.scale;
  const b = g.neg(g.mul(g.mul(a, g.mul(saved.invStd, saved.invStd)), g.mul(sumDyXc, saved.invCount)));
  const k = g.neg(g.mul(a, g.mul(sumDy, saved.invCount)));
  result.dx = channelAffine(g, dy4, a, k, g.mul(saved.xc, tiled(g, b, c, block, pixels)), c, block, spatial);
  return result;
}

/**
 * Inference-mode BatchNormalization of an NCHWc tensor: the moving statistics folded into one
 * scale and one shift per channel (what ONNX's BatchNormalization computes, on the blocked view).
 */
export function nchwcBatchNormInference(
  g: GraphBuilder,
  spec: BatchNormSpec,
  block: number,
  spatial: readonly number[],
  x: string,
  gamma: string | undefined,
  beta: string | undefined,
  movingMean: string,
  movingVar: string,
  epilogue?: NchwcEpilogue,
): string {
  const c = spec.channels;
  const invStd = g.reciprocal(g.sqrt(g.add(movingVar, g.scalar(spec.epsilon ?? 1e-3))));
  const scale = gamma ? g.mul(gamma, invStd) : invStd;
  const shift = g.sub(beta ?? g.scalar(0), g.mul(movingMean, scale));
  return channelAffine(g, x, scale, shift, epilogue?.sum, c, block, spatial, epilogue?.relu);
}

/**
 * Global average pooling of an NCHWc tensor (whole blocks of channels) to [N, C]: the mean over
 * the pixels of the {@link laneView}, whose [N, C/B, B] result is already in channel order.
 */
export function nchwcGlobalAvgPoolForward(g: GraphBuilder, x: string, channels: number, block: number, spatial: readonly number[]): string {
  const pixels = spatial.reduce((p, d) => p * d, 1);
  return g.reshape(g.reduceMean(laneView(g, x, channels, block, pixels), [2], false), [-1, channels]);
}

/** Its backward pass: dy [N, C] / P spread over every pixel, NCHWc. */
export function nchwcGlobalAvgPoolBackward(g: GraphBuilder, dy: string, channels: number, block: number, spatial: readonly number[]): string {
  const pixels = spatial.reduce((p, d) => p * d, 1);
  const cb = channels / block;
  const scaled = g.mul(g.reshape(dy, [0, cb, 1, block]), g.scalar(1 / pixels));
  return g.reshape(g.expand(scaled, [1, cb, pixels, block]), [-1, channels, ...spatial]);
}
