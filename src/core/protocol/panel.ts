/**
 * Messages between the extension host and the ConvLens panel (webview). Training messages are
 * forwarded unchanged from the trainer (see ./training.ts); these add the model, inference results
 * and the user's requests. Both sides build with `create` and check with `is`.
 */
import { Notification } from './messages';

/** A float32 tensor in Keras layout, its bytes as base64 (compact and exact across postMessage). */
export interface TensorData {
  shape: number[];
  base64: string;
}

export interface PanelLayer {
  name: string;
  className: string;
  /** Per-sample output shape; null dims unknown. */
  outputShape: (number | null)[] | null;
  params: number | null;
  line: number;
}

/** Host → panel: the model the panel shows (sent on open and whenever the file changes). */
export interface PanelModelParams {
  file: string;
  model: string;
  layers: PanelLayer[];
  inputShape: number[] | null;
  classNames: string[];
  /** Why the model cannot be run (no input shape, unsupported layer …), when it cannot. */
  problem?: string;
  /** `random (seed 1)` or `checkpoint: epoch 5, val_loss 0.0412`. */
  weights: string;
  /** Datasets the panel offers samples from. */
  dataSources: { id: string; label: string }[];
}

export const PanelModel = new Notification<PanelModelParams>('panel/model', { file: 'string', model: 'string', layers: 'array', classNames: 'array', weights: 'string', dataSources: 'array' });

/** Host → panel: one input's activations through every layer, and the class probabilities. */
export interface PanelActivationsParams {
  input: TensorData;
  /** What the input is: "MNIST test sample 17 (label 2)", "digit.png", "your drawing". */
  inputLabel: string;
  /** Every layer call in execution order, with the calls it reads (its branch). */
  layers: { name: string; className: string; inputs?: string[]; activation: TensorData }[];
  probabilities: number[];
  weights: string;
  milliseconds: number;
}

export const PanelActivations = new Notification<PanelActivationsParams>('panel/activations', { input: 'object', inputLabel: 'string', layers: 'array', probabilities: 'array', weights: 'string', milliseconds: 'number' });

/** Host → panel: a convolution layer's kernels (kh, kw, c_in, filters). */
export interface PanelFiltersParams {
  layer: string;
  kernel: TensorData;
  weights: string;
}

export const PanelFilters = new Notification<PanelFiltersParams>('panel/filters', { layer: 'string', kernel: 'object', weights: 'string' });

/** Host → panel: after training, how the model does on the test set. */
export interface PanelEvaluationParams {
  classNames: string[];
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  accuracy: number;
  /** Test images with their labels and predictions, for the grid. */
  samples: { image: TensorData; label: number; predicted: number; probability: number }[];
}

export const PanelEvaluation = new Notification<PanelEvaluationParams>('panel/evaluation', { classNames: 'array', confusion: 'array', accuracy: 'number', samples: 'array' });

/** Host → panel: something went wrong; say what, in words for the user. */
export const PanelError = new Notification<{ message: string }>('panel/error', { message: 'string' });

/** Panel → host: the panel has loaded and listens. */
export const PanelReady = new Notification<Record<string, never>>('panel/ready');

/** Panel → host: run an input through the model. */
export interface RequestActivationsParams {
  source: 'sample' | 'drawing' | 'file';
  /** For 'sample': which data source and sample index. */
  dataSource?: string;
  index?: number;
  /** For 'drawing': pixels in [0, 1], row-major, the model's input height × width (one channel). */
  pixels?: number[];
}

export const RequestActivations = new Notification<RequestActivationsParams>('panel/requestActivations', { source: ['sample', 'drawing', 'file'], dataSource: 'string?', index: 'number?', pixels: 'array?' });

/** Panel → host: show the kernels of a convolution layer. */
export const RequestFilters = new Notification<{ layer: string }>('panel/requestFilters', { layer: 'string' });

/** Panel → host: start or stop training the model shown. */
export const RequestTrain = new Notification<Record<string, never>>('panel/train');
export const RequestStop = new Notification<Record<string, never>>('panel/stop');

// ---------------------------------------------------------------------------------------------
// Float32 tensors as base64, without Buffer or btoa (the core runs anywhere).

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = new Uint8Array(128);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

export function bytesToBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  const chunk: string[] = [];
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    chunk.push(ALPHABET[n >> 18], ALPHABET[(n >> 12) & 63], ALPHABET[(n >> 6) & 63], ALPHABET[n & 63]);
    if (chunk.length >= 4096) {
      out += chunk.join('');
      chunk.length = 0;
    }
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    chunk.push(ALPHABET[n >> 18], ALPHABET[(n >> 12) & 63], '==');
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    chunk.push(ALPHABET[n >> 18], ALPHABET[(n >> 12) & 63], ALPHABET[(n >> 6) & 63], '=');
  }
  return out + chunk.join('');
}

export function base64ToBytes(s: string): Uint8Array {
  const clean = s.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let o = 0;
  for (let i = 0; i < clean.length; i += 4) {
    const n = (LOOKUP[clean.charCodeAt(i)] << 18) | (LOOKUP[clean.charCodeAt(i + 1)] << 12) | (LOOKUP[clean.charCodeAt(i + 2)] << 6) | LOOKUP[clean.charCodeAt(i + 3)];
    if (o < out.length) out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

export function encodeTensor(data: Float32Array, shape: number[]): TensorData {
  return { shape, base64: bytesToBase64(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) };
}

/** Decodes a tensor, checking that its size matches its shape. */
export function decodeTensor(t: TensorData): Float32Array {
  const bytes = base64ToBytes(t.base64);
  const expected = t.shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== expected * 4) throw new Error(`tensor of shape (${t.shape.join(', ')}) needs ${expected * 4} bytes, got ${bytes.length}`);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
