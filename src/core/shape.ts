/**
 * Shapes and the arithmetic every layer family shares (as Keras' `compute_conv_output_shape`).
 * The bottom of the core: it imports nothing, and everything that deals in shapes imports it.
 */

/** A dimension: a size, or null when unknown (the batch axis, or a size not known statically). */
export type Dim = number | null;

/** Where the channels are: Keras' `data_format`. */
export type DataFormat = 'channels_last' | 'channels_first';

/** Length of one axis after a convolution, as Keras computes it; null when the input is unknown. */
export function convOutputLength(input: Dim, kernel: number, stride: number, padding: string, dilation = 1): Dim {
  if (input === null) return null;
  const k = (kernel - 1) * dilation + 1;
  if (padding === 'same' || padding === 'causal') return Math.floor((input - 1) / stride) + 1;
  if (padding === 'full') return Math.floor((input + k - 2) / stride) + 1;
  return Math.floor((input - k) / stride) + 1;
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
  return (input - 1) * stride + k - 2 * pad + outputPadding;
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

