import type { GraphBuilder } from '../onnx/graphBuilder';
import { convBackward, convForward, convTransposeBackward, convTransposeForward, kerasPads, windowOutputSpatial, type ConvSpec, type KerasPadding } from '../onnx/grad';
import type { Dim, SpatialRank } from '../shape';
import { kerasKernelToOnnxPerm, onnxKernelToKerasPerm, refuseChannelsFirst } from '../onnx/layout';
import { nchwcConvBackward, nchwcConvFits, nchwcConvForward, type ActLayout } from '../onnx/nchwc';
import { activation, bool, choice, dataFormat, initializer, int, ints, optional, type ArgSpecs, type DataFormat } from './args';
import { ShapeError, checkWindowOutput, defineLayer, dotJoin, type LayerContext, type LayerTrain, type TrainLayer } from './define';
import { deconvOutputShape, joinChannels, product, sampleWords, splitChannels, windowOutputShape } from '../shape';

const KERNEL_EXTRAS = [
  'kernel_regularizer', 'bias_regularizer', 'activity_regularizer',
  'kernel_constraint', 'bias_constraint', 'lora_rank', 'lora_alpha',
] as const;
const DEPTHWISE_EXTRAS = [
  'depthwise_regularizer', 'depthwise_constraint', 'bias_regularizer',
  'activity_regularizer', 'bias_constraint', 'kernel_initializer', 'kernel_regularizer', 'kernel_constraint',
] as const;
const SEPARABLE_EXTRAS = [
  'depthwise_regularizer', 'pointwise_regularizer',
  'bias_regularizer', 'activity_regularizer', 'depthwise_constraint', 'pointwise_constraint', 'bias_constraint',
] as const;

interface Window {
  kernel_size: number[];
  strides: number[];
  dilation_rate: number[];
  padding: string;
  data_format: DataFormat;
}

/** Keras refuses strides > 1 together with dilation_rate > 1 in the same layer. */
function checkStridesDilation(name: string, a: Window): void {
  if (a.strides.some((s) => s > 1) && a.dilation_rate.some((d) => d > 1)) {
    throw new ShapeError(
      `${name} cannot use strides > 1 together with dilation_rate > 1 (got strides=${fmtTuple(a.strides)}, dilation_rate=${fmtTuple(a.dilation_rate)}); Keras raises a ValueError`,
      'dilation_rate',
      [],
      'strides-dilation',
    );
  }
}

const fmtTuple = (xs: number[]): string => (xs.length === 1 ? `${xs[0]}` : `(${xs.join(', ')})`);

/** Spatial output of a convolution window, failing when it would be empty. */
function windowOutput(name: string, input: Dim[], a: Window, ctx?: LayerContext): { spatial: Dim[]; channels: Dim } {
  checkStridesDilation(name, a);
  const { spatial, channels } = splitChannels(input, a.data_format);
  const out = windowOutputShape(spatial, a.kernel_size, a.strides, a.padding, a.dilation_rate);
  checkWindowOutput(name, spatial, a.kernel_size, a.strides, a.dilation_rate, out, 'kernel_size', { padding: a.padding, ctx });
  return { spatial: out, channels };
}

function checkGroups(name: string, channels: Dim, filters: number, groups: number): void {
  if (groups === 1) return;
  if (channels !== null && channels % groups !== 0) {
    throw new ShapeError(`${name}: the ${channels} input channels cannot be split into groups=${groups} equal groups`, 'groups', [], 'groups');
  }
  if (filters % groups !== 0) {
    throw new ShapeError(`${name}: filters=${filters} must be divisible by groups=${groups}`, 'groups', [], 'groups');
  }
}

const CONV_DOCS: Record<SpatialRank, string> = {
  1: '1-D convolution over steps: each of `filters` kernels slides along the sequence and sums over all input channels.',
  2: '2-D convolution over height × width: each of `filters` kernels slides over the image and sums over all input channels.',
  3: '3-D convolution over depth × height × width (volumes, video): each of `filters` kernels slides through the volume and sums over all input channels.',
};

function convFamily(rank: SpatialRank) {
  const name = `Conv${rank}D`;
  const args = {
    filters: int({ min: 1 }),
    kernel_size: ints(rank, { min: 1 }),
    strides: ints(rank, { min: 1, default: 1 }),
    padding: choice(rank === 1 ? ['valid', 'same', 'causal'] : ['valid', 'same'], 'valid'),
    data_format: dataFormat(),
    dilation_rate: ints(rank, { min: 1, default: 1 }),
    groups: int({ min: 1, default: 1 }),
    activation: activation(),
    use_bias: bool(true),
    kernel_initializer: initializer('glorot_uniform'),
    bias_initializer: initializer('zeros'),
  };
  return defineLayer({
    name,
    aliases: [`Convolution${rank}D`],
    category: 'convolution',
    doc: CONV_DOCS[rank],
    args,
    extraArgs: KERNEL_EXTRAS,
    inputRank: rank + 1,
    inputWords: sampleWords(rank),
    outputShape(input, a, ctx) {
      const { spatial, channels } = windowOutput(name, input, a, ctx);
      checkGroups(name, channels, a.filters, a.groups);
      return joinChannels(spatial, a.filters, a.data_format);
    },
    weights(input, a) {
      const { channels } = splitChannels(input, a.data_format);
      const perGroup = channels === null ? null : channels / a.groups;
      return [
        { name: 'kernel', shape: [...a.kernel_size, perGroup, a.filters], trainable: true },
        ...(a.use_bias ? [{ name: 'bias', shape: [a.filters], trainable: true }] : []),
      ];
    },
    formula(input, a, total) {
      const { channels } = splitChannels(input, a.data_format);
      const perGroup = channels === null ? null : channels / a.groups;
      const bias = a.use_bias ? ` + ${a.filters}` : '';
      return `${a.filters} × (${dotJoin([...a.kernel_size, perGroup])})${bias} = ${total.toLocaleString('en-US')}`;
    },
    macs(input, output, a) {
      const { channels } = splitChannels(input, a.data_format);
      const outCount = product(output);
      return outCount === null || channels === null ? null : outCount * product(a.kernel_size)! * (channels / a.groups);
    },
    receptiveField: (a) => ({ kind: 'window', kernel: a.kernel_size, stride: a.strides, dilation: a.dilation_rate }),
    train: convTrain<typeof args>(rank),
  });
}

interface ConvTrainArgs extends Window {
  filters: number;
  groups: number;
  use_bias: boolean;
  activation: string | null;
}

/** The grad.ts description of a convolution on its (channels_last) input. */
function convSpec(l: TrainLayer<ArgSpecs>, a: ConvTrainArgs): ConvSpec {
  const spatial = l.input.slice(0, -1);
  return {
    inChannels: l.input[l.input.length - 1],
    outChannels: a.filters,
    kernel: a.kernel_size,
    inputSpatial: spatial,
    strides: a.strides,
    dilations: a.dilation_rate,
    pads: kerasPads(a.padding as KerasPadding, spatial, a.kernel_size, a.strides, a.dilation_rate),
    groups: a.groups,
  };
}

/**
 * Whether a Conv2D runs on onnxruntime's NCHWc kernels (`core/onnx/nchwc.ts`): in graphs that
 * allow them, for groups = 1 with the filters (and the input channels, unless fewer than a
 * block) in whole blocks, and an elementwise activation.
 */
function usesNchwc(l: TrainLayer<ArgSpecs>, a: ConvTrainArgs, rank: SpatialRank): boolean {
  return rank === 2 && l.nchwc > 0 && a.activation !== 'softmax' && nchwcConvFits(convSpec(l, a), l.nchwc);
}

function convTrain<A extends ArgSpecs>(rank: SpatialRank): LayerTrain<A> {
  const args = (l: TrainLayer<A>) => l.a as unknown as ConvTrainArgs;
  return {
    refuse: (l) => refuseChannelsFirst(l.a),
    acceptsNchwc: (l) => usesNchwc(l, args(l), rank) && l.input[l.input.length - 1] % l.nchwc === 0,
    forward(g, l, x) {
      const a = args(l);
      if (usesNchwc(l, a, rank)) {
        const relu = a.activation === 'relu';
        const f = nchwcConvForward(g, convSpec(l, a), l.nchwc, x, l.inputLayout, l.w.kernel, a.use_bias ? l.w.bias : undefined, relu);
        return { y: f.y, saved: { xin: f.xin, xinLayout: f.xinLayout }, layout: 'nchwc', activated: relu };
      }
      const w = g.transpose(l.w.kernel, kerasKernelToOnnxPerm(rank));
      return { y: convForward(g, convSpec(l, a), x, w, a.use_bias ? l.w.bias : undefined), saved: { w } };
    },
    backward(g, l, b) {
      const a = args(l);
      const saved = b.fwd.saved!;
      if (saved.xin) {
        const fwd = { xin: saved.xin, xinLayout: saved.xinLayout as ActLayout };
        const r = nchwcConvBackward(g, convSpec(l, a), l.nchwc, fwd, l.inputLayout, l.w.kernel, b.dy, { dx: b.needDx, db: a.use_bias });
        const grads: Record<string, string> = { kernel: r.dw };
        if (a.use_bias) grads.bias = r.db!;
        return { dx: r.dx, grads };
      }
      const r = convBackward(g, convSpec(l, a), b.x, saved.w!, b.dy, { dx: b.needDx, db: a.use_bias, dwLayout: 'keras' });
      const grads: Record<string, string> = { kernel: r.dw! };
      if (a.use_bias) grads.bias = r.db!;
      return { dx: r.dx, grads };
    },
  };
}

export const Conv1D = convFamily(1);
export const Conv2D = convFamily(2);
export const Conv3D = convFamily(3);

const TRANSPOSE_ALIASES: Record<SpatialRank, string[]> = {
  1: ['Convolution1DTranspose'],
  // Deconvolution2D / Deconv2D and the 3-D ones are tf.keras 2 aliases.
  2: ['Convolution2DTranspose', 'Deconvolution2D', 'Deconv2D'],
  3: ['Convolution3DTranspose', 'Deconvolution3D', 'Deconv3D'],
};

interface TransposeArgs extends Window {
  filters: number;
  output_padding: number[] | null;
  use_bias: boolean;
}

/**
 * The convolution a transposed layer transposes, from its output (filters channels) back to its
 * input, with the padding Keras' TensorFlow backend derives from the output size; undefined when
 * that convolution does not map the output size back to the input size (an output_padding the
 * TensorFlow backend rejects).
 */
function transposedConvSpec(l: TrainLayer, a: TransposeArgs): ConvSpec | undefined {
  const inSpatial = l.input.slice(0, -1);
  const outSpatial = l.output.slice(0, -1);
  const pads = kerasPads(a.padding as KerasPadding, outSpatial, a.kernel_size, a.strides, a.dilation_rate);
  let back: number[];
  try {
    back = windowOutputSpatial(outSpatial, a.kernel_size, a.strides, a.dilation_rate, pads);
  } catch {
    return undefined;
  }
  if (back.some((n, i) => n !== inSpatial[i])) return undefined;
  return {
    inChannels: a.filters,
    outChannels: l.input[l.input.length - 1],
    kernel: a.kernel_size,
    inputSpatial: outSpatial,
    strides: a.strides,
    dilations: a.dilation_rate,
    pads,
  };
}

function transposeTrain<A extends ArgSpecs>(rank: SpatialRank): LayerTrain<A> {
  const args = (l: TrainLayer<A>) => l.a as unknown as TransposeArgs;
  return {
    refuse(l) {
      const a = args(l);
      if (refuseChannelsFirst(a) || transposedConvSpec(l, a)) return refuseChannelsFirst(a);
      const given = a.output_padding ? `output_padding=${fmtTuple(a.output_padding)} gives ` : 'it gives ';
      return `${given}a ${l.output.slice(0, -1).join('×')} output that the convolution it transposes does not map back to ${l.input.slice(0, -1).join('×')}; ConvLens cannot reproduce Keras' padding for it`;
    },
    // Keras' kernel (k…, filters, in_channels) is ONNX ConvTranspose's (in_channels, filters, k…) after one transpose.
    forward(g, l, x) {
      const a = args(l);
      const w = g.transpose(l.w.kernel, kerasKernelToOnnxPerm(rank));
      return { y: convTransposeForward(g, transposedConvSpec(l, a)!, x, w, a.use_bias ? l.w.bias : undefined), saved: { w } };
    },
    backward(g, l, b) {
      const a = args(l);
      const r = convTransposeBackward(g, transposedConvSpec(l, a)!, b.x, b.fwd.saved!.w!, b.dy, { dx: b.needDx, db: a.use_bias });
      const grads: Record<string, string> = { kernel: g.transpose(r.dw!, onnxKernelToKerasPerm(rank)) };
      if (a.use_bias) grads.bias = r.db!;
      return { dx: r.dx, grads };
    },
  };
}

function convTransposeFamily(rank: SpatialRank) {
  const name = `Conv${rank}DTranspose`;
  const common = {
    filters: int({ min: 1 }),
    kernel_size: ints(rank, { min: 1 }),
    strides: ints(rank, { min: 1, default: 1 }),
    padding: choice(['valid', 'same'], 'valid'),
  };
  const rest = {
    dilation_rate: ints(rank, { min: 1, default: 1 }),
    activation: activation(),
    use_bias: bool(true),
    kernel_initializer: initializer('glorot_uniform'),
    bias_initializer: initializer('zeros'),
  };
  // Keras' Conv3DTranspose takes data_format before output_padding; the 1-D and 2-D ones after.
  const args =
    rank === 3
      ? { ...common, data_format: dataFormat(), output_padding: optional(ints(rank, { min: 0 })), ...rest }
      : { ...common, output_padding: optional(ints(rank, { min: 0 })), data_format: dataFormat(), ...rest };
  return defineLayer({
    name,
    aliases: TRANSPOSE_ALIASES[rank],
    category: 'convolution',
    doc: `Transposed ${rank}-D convolution ("deconvolution"): upsamples by \`strides\`, each input ${rank === 1 ? 'step' : rank === 2 ? 'pixel' : 'voxel'} spreading a kernel into the output.`,
    args,
    extraArgs: KERNEL_EXTRAS,
    inputRank: rank + 1,
    inputWords: sampleWords(rank),
    outputShape(input, a) {
      const op = a.output_padding;
      if (op) {
        op.forEach((p, i) => {
          if (p >= a.strides[i]) {
            throw new ShapeError(
              `${name}: output_padding ${fmtTuple(op)} must be smaller than strides ${fmtTuple(a.strides)} on every axis`,
              'output_padding',
              [],
              'output-padding',
            );
          }
        });
      }
      checkStridesDilation(name, a);
      const { spatial } = splitChannels(input, a.data_format);
      const out = deconvOutputShape(spatial, a.kernel_size, a.strides, a.padding, op, a.dilation_rate);
      checkWindowOutput(name, spatial, a.kernel_size, a.strides, a.dilation_rate, out, 'kernel_size');
      return joinChannels(out, a.filters, a.data_format);
    },
    weights(input, a) {
      const { channels } = splitChannels(input, a.data_format);
      // Keras stores a transposed kernel as (k…, filters, in_channels).
      return [
        { name: 'kernel', shape: [...a.kernel_size, a.filters, channels], trainable: true },
        ...(a.use_bias ? [{ name: 'bias', shape: [a.filters], trainable: true }] : []),
      ];
    },
    formula(input, a, total) {
      const { channels } = splitChannels(input, a.data_format);
      return `${a.filters} × (${dotJoin([...a.kernel_size, channels])})${a.use_bias ? ` + ${a.filters}` : ''} = ${total.toLocaleString('en-US')}`;
    },
    // Every input value is multiplied by the whole kernel once.
    macs(input, _output, a) {
      const n = product(input);
      return n === null ? null : n * product(a.kernel_size)! * a.filters;
    },
    receptiveField: (a) => ({ kind: 'upsample', factor: a.strides, kernel: a.kernel_size }),
    train: transposeTrain<typeof args>(rank),
  });
}

export const Conv1DTranspose = convTransposeFamily(1);
export const Conv2DTranspose = convTransposeFamily(2);
export const Conv3DTranspose = convTransposeFamily(3);

/** Permutation from a Keras depthwise kernel (k…, c_in, multiplier) to (c_in, multiplier, k…). */
const depthwiseToOnnxPerm = (r: number): number[] => [r, r + 1, ...Array.from({ length: r }, (_, i) => i)];
const depthwiseToKerasPerm = (r: number): number[] => [...Array.from({ length: r }, (_, i) => i + 2), 0, 1];

/** A Keras depthwise kernel (k…, c_in, multiplier) as ONNX grouped-Conv weights (c_in·multiplier, 1, k…). */
function depthwiseToOnnx(g: GraphBuilder, kernel: string, c: number, dm: number, k: readonly number[]): string {
  return g.reshape(g.transpose(kernel, depthwiseToOnnxPerm(k.length)), [c * dm, 1, ...k]);
}

function depthwiseToKeras(g: GraphBuilder, dw: string, c: number, dm: number, k: readonly number[]): string {
  return g.transpose(g.reshape(dw, [c, dm, ...k]), depthwiseToKerasPerm(k.length));
}

interface DepthwiseTrainArgs extends Window {
  depth_multiplier: number;
}

function depthwiseSpec(l: TrainLayer, a: DepthwiseTrainArgs): ConvSpec {
  const spatial = l.input.slice(0, -1);
  const c = l.input[l.input.length - 1];
  return {
    inChannels: c,
    outChannels: c * a.depth_multiplier,
    kernel: a.kernel_size,
    inputSpatial: spatial,
    strides: a.strides,
    dilations: a.dilation_rate,
    pads: kerasPads(a.padding as KerasPadding, spatial, a.kernel_size, a.strides, a.dilation_rate),
    groups: c,
  };
}

function depthwiseFamily(rank: 1 | 2) {
  const name = `DepthwiseConv${rank}D`;
  return defineLayer({
    name,
    category: 'convolution',
    doc: `Depthwise ${rank}-D convolution: each input channel is convolved with its own \`depth_multiplier\` kernels, without mixing channels.`,
    args: {
      kernel_size: ints(rank, { min: 1 }),
      strides: ints(rank, { min: 1, default: 1 }),
      padding: choice(['valid', 'same'], 'valid'),
      depth_multiplier: int({ min: 1, default: 1 }),
      data_format: dataFormat(),
      dilation_rate: ints(rank, { min: 1, default: 1 }),
      activation: activation(),
      use_bias: bool(true),
      depthwise_initializer: initializer('glorot_uniform'),
      bias_initializer: initializer('zeros'),
    },
    extraArgs: DEPTHWISE_EXTRAS,
    inputRank: rank + 1,
    inputWords: sampleWords(rank),
    outputShape(input, a, ctx) {
      const { spatial, channels } = windowOutput(name, input, a, ctx);
      return joinChannels(spatial, channels === null ? null : channels * a.depth_multiplier, a.data_format);
    },
    weights(input, a) {
      const { channels } = splitChannels(input, a.data_format);
      const outC = channels === null ? null : channels * a.depth_multiplier;
      return [
        { name: 'depthwise_kernel', shape: [...a.kernel_size, channels, a.depth_multiplier], trainable: true },
        ...(a.use_bias ? [{ name: 'bias', shape: [outC], trainable: true }] : []),
      ];
    },
    formula(input, a, total) {
      const { channels } = splitChannels(input, a.data_format);
      const outC = channels === null ? null : channels * a.depth_multiplier;
      return `${dotJoin([...a.kernel_size, channels, a.depth_multiplier])}${a.use_bias ? ` + ${outC ?? '?'}` : ''} = ${total.toLocaleString('en-US')}`;
    },
    macs(_input, output, a) {
      const n = product(output);
      return n === null ? null : n * product(a.kernel_size)!;
    },
    receptiveField: (a) => ({ kind: 'window', kernel: a.kernel_size, stride: a.strides, dilation: a.dilation_rate }),
    train: {
      refuse: (l) => refuseChannelsFirst(l.a),
      forward(g, l, x) {
        const c = l.input[rank];
        const w = depthwiseToOnnx(g, l.w.depthwise_kernel, c, l.a.depth_multiplier, l.a.kernel_size);
        return { y: convForward(g, depthwiseSpec(l, l.a), x, w, l.a.use_bias ? l.w.bias : undefined), saved: { w } };
      },
      backward(g, l, b) {
        const c = l.input[rank];
        const r = convBackward(g, depthwiseSpec(l, l.a), b.x, b.fwd.saved!.w!, b.dy, { dx: b.needDx, db: l.a.use_bias });
        const grads: Record<string, string> = { depthwise_kernel: depthwiseToKeras(g, r.dw!, c, l.a.depth_multiplier, l.a.kernel_size) };
        if (l.a.use_bias) grads.bias = r.db!;
        return { dx: r.dx, grads };
      },
    },
  });
}

export const DepthwiseConv1D = depthwiseFamily(1);
export const DepthwiseConv2D = depthwiseFamily(2);

/** A separable convolution's 1×…×1 pointwise convolution on the depthwise output. */
function pointwiseSpec(l: TrainLayer, mid: number): ConvSpec {
  const spatial = l.output.slice(0, -1);
  return { inChannels: mid, outChannels: l.output[l.output.length - 1], kernel: spatial.map(() => 1), inputSpatial: spatial };
}

function separableFamily(rank: 1 | 2) {
  const name = `SeparableConv${rank}D`;
  return defineLayer({
    name,
    aliases: [`SeparableConvolution${rank}D`],
    category: 'convolution',
    doc: `Depthwise separable ${rank}-D convolution: a depthwise convolution per channel, then a ${rank === 1 ? '1' : '1×1'} pointwise convolution mixing channels into \`filters\`.`,
    args: {
      filters: int({ min: 1 }),
      kernel_size: ints(rank, { min: 1 }),
      strides: ints(rank, { min: 1, default: 1 }),
      padding: choice(['valid', 'same'], 'valid'),
      data_format: dataFormat(),
      dilation_rate: ints(rank, { min: 1, default: 1 }),
      depth_multiplier: int({ min: 1, default: 1 }),
      activation: activation(),
      use_bias: bool(true),
      depthwise_initializer: initializer('glorot_uniform'),
      pointwise_initializer: initializer('glorot_uniform'),
      bias_initializer: initializer('zeros'),
    },
    extraArgs: SEPARABLE_EXTRAS,
    inputRank: rank + 1,
    inputWords: sampleWords(rank),
    outputShape(input, a, ctx) {
      const { spatial } = windowOutput(name, input, a, ctx);
      return joinChannels(spatial, a.filters, a.data_format);
    },
    weights(input, a) {
      const { channels } = splitChannels(input, a.data_format);
      const mid = channels === null ? null : channels * a.depth_multiplier;
      return [
        { name: 'depthwise_kernel', shape: [...a.kernel_size, channels, a.depth_multiplier], trainable: true },
        { name: 'pointwise_kernel', shape: [...a.kernel_size.map(() => 1), mid, a.filters], trainable: true },
        ...(a.use_bias ? [{ name: 'bias', shape: [a.filters], trainable: true }] : []),
      ];
    },
    formula(input, a, total) {
      const { channels } = splitChannels(input, a.data_format);
      const mid = channels === null ? null : channels * a.depth_multiplier;
      return `${dotJoin([...a.kernel_size, channels, a.depth_multiplier])} + ${dotJoin([mid, a.filters])}${a.use_bias ? ` + ${a.filters}` : ''} = ${total.toLocaleString('en-US')}`;
    },
    macs(input, output, a) {
      const { channels } = splitChannels(input, a.data_format);
      const { spatial } = splitChannels(output, a.data_format);
      const positions = product(spatial);
      if (positions === null || channels === null) return null;
      const mid = channels * a.depth_multiplier;
      return positions * mid * product(a.kernel_size)! + positions * mid * a.filters;
    },
    receptiveField: (a) => ({ kind: 'window', kernel: a.kernel_size, stride: a.strides, dilation: a.dilation_rate }),
    train: {
      refuse: (l) => refuseChannelsFirst(l.a),
      forward(g, l, x) {
        const c = l.input[rank];
        const mid = c * l.a.depth_multiplier;
        const dw = depthwiseToOnnx(g, l.w.depthwise_kernel, c, l.a.depth_multiplier, l.a.kernel_size);
        const z = convForward(g, depthwiseSpec(l, l.a), x, dw);
        const pw = g.transpose(l.w.pointwise_kernel, kerasKernelToOnnxPerm(rank));
        const y = convForward(g, pointwiseSpec(l, mid), z, pw, l.a.use_bias ? l.w.bias : undefined);
        return { y, saved: { dw, pw, z } };
      },
      backward(g, l, b) {
        const c = l.input[rank];
        const mid = c * l.a.depth_multiplier;
        const s = b.fwd.saved!;
        const p = convBackward(g, pointwiseSpec(l, mid), s.z!, s.pw!, b.dy, { db: l.a.use_bias, dwLayout: 'keras' });
        const d = convBackward(g, depthwiseSpec(l, l.a), b.x, s.dw!, p.dx!, { dx: b.needDx, db: false });
        const grads: Record<string, string> = {
          depthwise_kernel: depthwiseToKeras(g, d.dw!, c, l.a.depth_multiplier, l.a.kernel_size),
          pointwise_kernel: p.dw!,
        };
        if (l.a.use_bias) grads.bias = p.db!;
        return { dx: d.dx, grads };
      },
    },
  });
}

export const SeparableConv1D = separableFamily(1);
export const SeparableConv2D = separableFamily(2);
