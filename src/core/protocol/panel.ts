/**
 * Messages between the extension host and the ConvLens panel (webview). Training messages are
 * forwarded unchanged from the trainer (see ./training.ts); these add the model, inference results
 * and the user's requests. Both sides build with `create` and check with `is`.
 */
import type { ArgField } from '../edit/layerArgs';
import type { EpochRecord, ProgressRecord } from '../run/curves';
import type { ModelGraph } from '../view/modelGraph';
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
  /** Whose model it is: a PyTorch model's shapes are printed as PyTorch prints them, `[1, 32, 26, 26]`. */
  framework?: 'keras' | 'pytorch';
  layers: PanelLayer[];
  inputShape: number[] | null;
  classNames: string[];
  /** Why the model cannot be run (no input shape, unsupported layer …), when it cannot. */
  problem?: string;
  /** `random (seed 1)` or `checkpoint: epoch 5, val_loss 0.0412`. */
  weights: string;
  /** Datasets the panel offers samples from, the one to show first at the top. */
  dataSources: { id: string; label: string }[];
  /** The data source shown by default (the run's training data, or the one the user last chose). */
  dataSource?: string;
  /** Layers whose Grad-CAM the panel can show (spatial outputs), by call name. */
  explainable?: string[];
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
  /** Which data: `MNIST (…/mnist) test images`, and how many were evaluated. */
  dataset?: string;
  count?: number;
  /** Which weights: `best.ckpt of run 2026-…-3f9a1c (epoch 3)`. */
  weights?: string;
  classNames: string[];
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  accuracy: number;
  /** Test images with their labels and predictions, for the grid. */
  samples: { image: TensorData; label: number; predicted: number; probability: number }[];
}

export const PanelEvaluation = new Notification<PanelEvaluationParams>('panel/evaluation', { classNames: 'array', confusion: 'array', accuracy: 'number', samples: 'array' });

/** Where a message applies: it is shown there, once, and cleared when its cause is gone. */
export type PanelTopic = 'model' | 'features' | 'filters' | 'explain' | 'training' | 'evaluation' | 'graph' | 'runs' | 'onnx';
export const PANEL_TOPICS: readonly PanelTopic[] = ['model', 'features', 'filters', 'explain', 'training', 'evaluation', 'graph', 'runs', 'onnx'];

/** Host → panel: something went wrong; say what, in words for the user, where it applies. */
export const PanelError = new Notification<{ message: string; topic?: PanelTopic }>('panel/error', { message: 'string', topic: 'string?' });

/** Host → panel: the cause of a topic's message is gone (a request of that kind succeeded). */
export const PanelClear = new Notification<{ topic: PanelTopic }>('panel/clear', { topic: [...PANEL_TOPICS] });

/** Host → panel: the model's graph (sent with the model, and after every analysis of the file). */
export interface PanelGraphParams {
  graph: ModelGraph;
  /** The file, as the panel names it. */
  file: string;
}
export const PanelGraph = new Notification<PanelGraphParams>('panel/graph', { graph: 'object', file: 'string' });

/** Host → panel: show this tab (a command asked for the graph, the runs or the feature maps). */
export const PanelShowTab = new Notification<{ tab: string }>('panel/showTab', { tab: 'string' });

/** Host → panel: the nodes at the cursor in the source (empty: none). */
export const PanelHighlight = new Notification<{ nodes: string[] }>('panel/highlight', { nodes: 'array' });

/** Host → panel: a node's editable arguments, for the property sheet. */
export interface PanelNodeArgsParams {
  node: string;
  fields: ArgField[];
  /** Why the arguments cannot be edited here (another file's code, an unknown layer class). */
  readOnly?: string;
  /** The edit changes more than this call (a helper run several times, a shared layer). */
  note?: string;
  /** The last edit's problem, in words. */
  error?: string;
}
export const PanelNodeArgs = new Notification<PanelNodeArgsParams>('panel/nodeArgs', { node: 'string', fields: 'array', readOnly: 'string?', note: 'string?', error: 'string?' });

/** One run of the model, as the runs view shows it. */
export interface PanelRun {
  /** The run folder's name. */
  id: string;
  status: string;
  created: string;
  /** The training data, as the run recorded it. */
  data: string;
  epochs: number;
  epochsDone: number;
  batchSize?: number;
  trainSamples?: number;
  best?: { epoch: number; monitor: string; value: number };
  test?: { accuracy: number; loss: number };
  /** The model's architecture matches the file as it is now. */
  current: boolean;
  progress: ProgressRecord[];
  epochRecords: EpochRecord[];
}

/** Host → panel: the model's runs (newest first), and which one is training now. */
export interface PanelRunsParams {
  runs: PanelRun[];
  running?: string;
  /** Where they are (the runs folder of the model), for the empty state. */
  folder: string;
}
export const PanelRuns = new Notification<PanelRunsParams>('panel/runs', { runs: 'array', running: 'string?', folder: 'string' });

/** Host → panel: Grad-CAM / saliency of the current input. */
export interface PanelExplainParams {
  layer: string;
  /** The class explained, and whether it is the predicted one. */
  cls: number;
  predicted: number;
  /** (h, w) Grad-CAM map at the layer's resolution, and (H, W) saliency. */
  cam: TensorData;
  saliency: TensorData;
  weights: string;
  inputLabel: string;
}
export const PanelExplain = new Notification<PanelExplainParams>('panel/explain', { layer: 'string', cls: 'number', predicted: 'number', cam: 'object', saliency: 'object', weights: 'string', inputLabel: 'string' });

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

/** Panel → host: show a node's call in the source. */
export const RequestReveal = new Notification<{ node: string }>('panel/reveal', { node: 'string' });

/** Panel → host: a node was selected; send its editable arguments. */
export const RequestNodeArgs = new Notification<{ node: string }>('panel/requestNodeArgs', { node: 'string' });

/** Panel → host: set (value '' : remove) an argument of a node's layer in the source. */
export const RequestEditArg = new Notification<{ node: string; arg: string; value: string }>('panel/editArg', { node: 'string', arg: 'string', value: 'string' });

/** Panel → host: Grad-CAM of the current input over a layer, for a class (absent: the predicted one). */
export const RequestExplain = new Notification<{ layer: string; cls?: number }>('panel/requestExplain', { layer: 'string', cls: 'number?' });

/** Panel → host: save these curves as CSV (asks where). */
export const RequestSaveCsv = new Notification<{ csv: string; name: string }>('panel/saveCsv', { csv: 'string', name: 'string' });

/** Panel → host: the user chose this data source for the feature maps (remembered per model). */
export const RequestDataSource = new Notification<{ id: string }>('panel/dataSource', { id: 'string' });

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

// ---------------------------------------------------------------------------------------------
// The .onnx viewer (a custom editor): the same webview, with the graph, this summary and feature maps.

/** Host → viewer: what the file holds. */
export interface OnnxSummaryParams {
  file: string;
  /** `pytorch 1.13.0, IR 7, opset 13`. */
  producer: string;
  inputs: { name: string; type: string }[];
  outputs: { name: string; type: string }[];
  initializers: { name: string; dims: number[]; type: string; count: number; bytes: number }[];
  /** Operators by type, most frequent first. */
  ops: { op: string; count: number }[];
  /** The image input feature maps are shown for, if the model has one. */
  image?: { name: string; layout: 'NCHW' | 'NHWC'; channels: number; height: number; width: number };
  /** Why the file cannot be shown (a damaged file), with the byte. */
  error?: string;
}
export const OnnxSummary = new Notification<OnnxSummaryParams>('onnx/summary', { file: 'string', producer: 'string', inputs: 'array', outputs: 'array', initializers: 'array', ops: 'array', error: 'string?' });

/** Viewer → host: how to scale the image's pixels for the model. */
export const RequestOnnxScale = new Notification<{ scale: 'unit' | 'byte' | 'imagenet' }>('onnx/scale', { scale: ['unit', 'byte', 'imagenet'] });
