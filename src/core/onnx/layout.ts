import type { GraphBuilder } from './graphBuilder';

/**
 * Keras tensors are channels_last; ONNX Conv and pooling are channels-first. The training graphs
 * keep every activation channels-first (N, C, spatial…) between the input transpose and the
 * output, so a layer's emitters see ONNX layout and the rest of ConvLens sees Keras shapes.
 * A per-sample shape of rank 1 (a vector) is the same in both.
 */

/** The ONNX per-sample shape of a Keras per-sample shape: (H, W, C) → (C, H, W). */
export function onnxSampleShape(keras: readonly number[]): number[] {
  const r = keras.length;
  return r >= 2 ? [keras[r - 1], ...keras.slice(0, r - 1)] : [...keras];
}

/** The ONNX axis (batch included) of a Keras per-sample axis (0-based, negative from the end). */
export function onnxAxis(kerasSampleAxis: number, sampleRank: number): number {
  const i = kerasSampleAxis < 0 ? sampleRank + kerasSampleAxis : kerasSampleAxis;
  if (sampleRank < 2) return i + 1;
  return i === sampleRank - 1 ? 1 : i + 2;
}

/** Transpose permutation, batch included, from Keras layout (N, …, C) to ONNX layout (N, C, …). */
export function toOnnxPerm(sampleRank: number): number[] {
  if (sampleRank < 2) return Array.from({ length: sampleRank + 1 }, (_, i) => i);
  return [0, sampleRank, ...Array.from({ length: sampleRank - 1 }, (_, i) => i + 1)];
}

/** Transpose permutation, batch included, from ONNX layout (N, C, …) to Keras layout (N, …, C). */
export function toKerasPerm(sampleRank: number): number[] {
  if (sampleRank < 2) return Array.from({ length: sampleRank + 1 }, (_, i) => i);
  return [0, ...Array.from({ length: sampleRank - 1 }, (_, i) => i + 2), 1];
}

/** True when the transpose between the layouts only moves axes of size 1 (a reshape suffices). */
export function layoutIsTrivial(keras: readonly number[]): boolean {
  return keras.length < 2 || keras[keras.length - 1] === 1 || keras.slice(0, -1).every((d) => d === 1);
}

/** The refusal every spatial layer shares: training graphs are built for channels_last models. */
export function refuseChannelsFirst(a: { data_format?: unknown }): string | undefined {
  return a.data_format === 'channels_first' ? "data_format='channels_first' is not supported for training yet (use the default channels_last)" : undefined;
}

/** Permutation from a Keras convolution kernel (k…, c_in, filters) to ONNX's (filters, c_in, k…). */
export function kerasKernelToOnnxPerm(spatialRank: number): number[] {
  return [spatialRank + 1, spatialRank, ...Array.from({ length: spatialRank }, (_, i) => i)];
}

/** Permutation from an ONNX kernel (filters, c_in, k…) back to Keras' (k…, c_in, filters). */
export function onnxKernelToKerasPerm(spatialRank: number): number[] {
  return [...Array.from({ length: spatialRank }, (_, i) => i + 2), 1, 0];
}

/** `x` (ONNX layout, batch first) moved to Keras layout; a reshape when only unit axes move. */
export function toKerasLayout(g: GraphBuilder, x: string, keras: readonly number[]): string {
  if (keras.length < 2) return x;
  return layoutIsTrivial(keras) ? g.reshape(x, [-1, ...keras]) : g.transpose(x, toKerasPerm(keras.length));
}

/** `x` (Keras layout, batch first) moved to ONNX layout; a reshape when only unit axes move. */
export function toOnnxLayout(g: GraphBuilder, x: string, keras: readonly number[]): string {
  if (keras.length < 2) return x;
  return layoutIsTrivial(keras) ? g.reshape(x, [-1, ...onnxSampleShape(keras)]) : g.transpose(x, toOnnxPerm(keras.length));
}
