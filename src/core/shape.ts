/**
 * Shapes and the arithmetic every layer family shares (as Keras' `compute_conv_output_shape`).
 * The bottom of the core: it imports nothing, and everything that deals in shapes imports it.
 */

/** A dimension: a size, or null when unknown (the batch axis, or a size not known statically). */
export type Dim = number | null;

/** The number of spatial axes of a 1-, 2- or 3-D layer (Conv1D/2D/3D, pooling, padding…). */
export type SpatialRank = 1 | 2 | 3;

/** Where the channels are: Keras' `data_format`. */
export type DataFormat = 'channels_last' | 'channels_first';

/** Length of one axis after a convolution, as Keras computes it; null when the input is unknown. */
export function convOutputLength(input: Dim, kernel: number, stride: number, padding: string, dilation = 1): Dim {
  if (input === null) return null;
  const k = (kernel - 1) * dilation + 1;
  if (padding === 'same' || padding === 'causal') return Math.floor((input - 1) / stride) + 1;
  if (padding === 'full') return Math.floor((input + k - 2) / stride) + 1;
  return windowLength(input, kernel, stride, 0, dilation);
}

/**
 * Length of one axis after a window of `kernel` taps `dilation` apart, moved by `stride` over an
 * input padded by `padTotal` in all: ⌊(n + p − d·(k − 1) − 1) / s⌋ + 1 (Keras' 'valid' is p = 0;
 * PyTorch pads p/2 on each side). With `ceilMode` (PyTorch's pooling) the division rounds up,
 * but a last window that would start inside the right padding is dropped.
 */
export function windowLength(input: Dim, kernel: number, stride: number, padTotal: number, dilation = 1, ceilMode = false): Dim {
  if (input === null) return null;
  const span = input + padTotal - (kernel - 1) * dilation - 1;
  if (!ceilMode) return Math.floor(span / stride) + 1;
  let out = Math.ceil(span / stride) + 1;
  if ((out - 1) * stride >= input + padTotal / 2) out--;
  return out;
}

/**
 * Length of one axis after a transposed convolution with explicit padding (PyTorch's
 * ConvTranspose, Keras' with `output_padding`): (n − 1)·s − p + d·(k − 1) + output_padding + 1.
 */
export function transposedLength(input: Dim, kernel: number, stride: number, padTotal: number, outputPadding: number, dilation = 1): Dim {
  if (input === null) return null;
  return (input - 1) * stride - padTotal + (kernel - 1) * dilation + outputPadding + 1;
}

/** Length of one axis after a transposed convolution (Keras' deconv_output_length). */
export function deconvOutputLength(
  input: Dim,
  kernel: number,
  stride: number,
  padding: string,
  outputPadding: number | null,
  dilation = 1,
): Dim {
  if (input === null) return null;
  const k = (kernel - 1) * dilation + 1;
  if (outputPadding === null) {
    if (padding === 'valid') return input * stride + Math.max(k - stride, 0);
    if (padding === 'full') return input * stride - (stride + k - 2);
    return input * stride;
  }
  const pad = padding === 'same' ? Math.floor(k / 2) : padding === 'valid' ? 0 : k - 1;
  return transposedLength(input, kernel, stride, 2 * pad, outputPadding, dilation);
}

/** Spatial output of a window (convolution or pooling) swept over every spatial axis (1-, 2- or 3-D). */
export function windowOutputShape(spatial: readonly Dim[], kernel: readonly number[], strides: readonly number[], padding: string, dilation?: readonly number[]): Dim[] {
  return spatial.map((d, i) => convOutputLength(d, kernel[i], strides[i], padding, dilation?.[i] ?? 1));
}

/** Spatial output of a transposed convolution on every spatial axis (Keras' compute_conv_transpose_output_shape). */
export function deconvOutputShape(
  spatial: readonly Dim[],
  kernel: readonly number[],
  strides: readonly number[],
  padding: string,
  outputPadding: readonly number[] | null,
  dilation?: readonly number[],
): Dim[] {
  return spatial.map((d, i) => deconvOutputLength(d, kernel[i], strides[i], padding, outputPadding ? outputPadding[i] : null, dilation?.[i] ?? 1));
}

/** Spatial axes grown by `[before, after]` amounts (ZeroPadding), or shrunk when `sign` is −1 (Cropping). */
export function padShape(spatial: readonly Dim[], amounts: readonly (readonly [number, number])[], sign: 1 | -1 = 1): Dim[] {
  return spatial.map((d, i) => (d === null ? null : d + sign * (amounts[i][0] + amounts[i][1])));
}

/** Spatial axes multiplied by whole factors (UpSampling). */
export function scaleShape(spatial: readonly Dim[], factors: readonly number[]): Dim[] {
  return spatial.map((d, i) => (d === null ? null : d * factors[i]));
}

/** Names of the spatial axes of a 1-, 2- or 3-D layer: steps; height, width; depth, height, width. */
export function spatialAxisNames(rank: number): string[] {
  return rank === 1 ? ['steps'] : rank === 2 ? ['height', 'width'] : ['depth', 'height', 'width'];
}

/** The per-sample input a spatial layer expects, in words: `(depth, height, width, channels)`. */
export function sampleWords(rank: number, fmt: DataFormat = 'channels_last'): string {
  const axes = spatialAxisNames(rank);
  return `(${(fmt === 'channels_first' ? ['channels', ...axes] : [...axes, 'channels']).join(', ')})`;
}

/** Splits a sample shape into its spatial axes and channel count by data format. */
export function splitChannels(input: Dim[], fmt: DataFormat): { spatial: Dim[]; channels: Dim } {
  return fmt === 'channels_first' ? { spatial: input.slice(1), channels: input[0] } : { spatial: input.slice(0, -1), channels: input[input.length - 1] };
}

export function joinChannels(spatial: Dim[], channels: Dim, fmt: DataFormat): Dim[] {
  return fmt === 'channels_first' ? [channels, ...spatial] : [...spatial, channels];
}

/** Product of known sizes; null when any is unknown. */
export function product(dims: Dim[]): number | null {
  let p = 1;
  for (const d of dims) {
    if (d === null) return null;
    p *= d;
  }
  return p;
}


/** A whole PyTorch shape as PyTorch prints it, batch first: `[1, 10, 24, 24]` (`?` for a size not known). */
export function torchShape(batch: Dim, sample: readonly Dim[]): string {
  return `[${[batch, ...sample].map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}
