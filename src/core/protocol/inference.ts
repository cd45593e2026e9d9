/**
 * Requests to the inference process, which runs the model (onnxruntime-node) for the panel:
 * every layer's activations for one input, a layer's kernels, and a test-set evaluation. Each
 * request carries an id; the answer carries the same id.
 */
import type { TrainingPlan } from '../train/plan';
import { Notification } from './messages';
import type { PanelActivationsParams, PanelEvaluationParams, TensorData } from './panel';

/** Which weights to run: freshly initialised (seeded), or a checkpoint file. */
export type WeightsSource = { kind: 'random'; seed: number } | { kind: 'checkpoint'; path: string };

/** Where an input comes from. */
export type InputSource =
  | { kind: 'sample'; data: string; dataHint?: string; index: number }
  | { kind: 'pixels'; tensor: TensorData }
  | { kind: 'image'; path: string };

export interface ActivationsRequestParams {
  id: number;
  plan: TrainingPlan;
  weights: WeightsSource;
  input: InputSource;
}
export const ActivationsRequest = new Notification<ActivationsRequestParams>('inference/activations', { id: 'number', plan: 'object', weights: 'object', input: 'object' });

export interface FiltersRequestParams {
  id: number;
  plan: TrainingPlan;
  weights: WeightsSource;
  layer: string;
}
export const FiltersRequest = new Notification<FiltersRequestParams>('inference/filters', { id: 'number', plan: 'object', weights: 'object', layer: 'string' });

export interface EvaluateRequestParams {
  id: number;
  plan: TrainingPlan;
  weights: WeightsSource;
  data: string;
  dataHint?: string;
  /** Test images to return for the grid. */
  samples: number;
  limit?: number;
}
export const EvaluateRequest = new Notification<EvaluateRequestParams>('inference/evaluate', { id: 'number', plan: 'object', weights: 'object', data: 'string', samples: 'number' });

/** The panel's activations message, with the request's id. */
export type ActivationsResultParams = PanelActivationsParams & { id: number };
export const ActivationsResult = new Notification<ActivationsResultParams>('inference/activationsResult', { id: 'number', input: 'object', layers: 'array', probabilities: 'array', weights: 'string', milliseconds: 'number' });

export const FiltersResult = new Notification<{ id: number; layer: string; kernel: TensorData; weights: string }>('inference/filtersResult', { id: 'number', layer: 'string', kernel: 'object', weights: 'string' });

export const EvaluateResult = new Notification<PanelEvaluationParams & { id: number }>('inference/evaluateResult', { id: 'number', confusion: 'array', accuracy: 'number', samples: 'array' });

/** Grad-CAM and saliency of one input over a layer call, for a class (absent: the predicted one). */
export interface ExplainRequestParams {
  id: number;
  plan: TrainingPlan;
  weights: WeightsSource;
  input: InputSource;
  layer: string;
  cls?: number;
}
export const ExplainRequest = new Notification<ExplainRequestParams>('inference/explain', { id: 'number', plan: 'object', weights: 'object', input: 'object', layer: 'string', cls: 'number?' });

export interface ExplainResultParams {
  id: number;
  layer: string;
  cls: number;
  predicted: number;
  cam: TensorData;
  saliency: TensorData;
  probabilities: number[];
  weights: string;
  inputLabel: string;
}
export const ExplainResult = new Notification<ExplainResultParams>('inference/explainResult', { id: 'number', layer: 'string', cls: 'number', predicted: 'number', cam: 'object', saliency: 'object', probabilities: 'array' });

/** How an image becomes an arbitrary ONNX model's input. */
export interface OnnxImageInput {
  /** The input tensor, its layout and size (from the model's declared input). */
  name: string;
  layout: 'NCHW' | 'NHWC';
  channels: number;
  height: number;
  width: number;
  /** Pixels in [0, 1], in [0, 255], or standardised with ImageNet's mean and deviation. */
  scale: 'unit' | 'byte' | 'imagenet';
}

/** Every feature map of an ONNX file (any producer) for one image. */
export interface OnnxActivationsRequestParams {
  id: number;
  /** The .onnx file. */
  path: string;
  input: OnnxImageInput;
  /** An image file, or a built-in synthetic digit (resized, repeated over the channels). */
  source: { kind: 'image'; path: string } | { kind: 'synthetic'; index: number };
  /** The tensors to read (operator outputs), with what to call them. */
  tensors: { tensor: string; name: string; opType: string }[];
}
export const OnnxActivationsRequest = new Notification<OnnxActivationsRequestParams>('inference/onnxActivations', { id: 'number', path: 'string', input: 'object', source: 'object', tensors: 'array' });

export interface OnnxActivationsResultParams {
  id: number;
  /** The image as fed, (H, W, C) in [0, 1]. */
  input: TensorData;
  inputLabel: string;
  /** Each tensor read, channels last (H, W, C) or a vector. */
  layers: { name: string; className: string; activation: TensorData }[];
  /** Shapes of the tensors read, for the graph (batch axis included). */
  shapes: { tensor: string; shape: number[] }[];
  /** The model's first output as probabilities, when it is a vector of scores. */
  probabilities: number[];
  milliseconds: number;
}
export const OnnxActivationsResult = new Notification<OnnxActivationsResultParams>('inference/onnxActivationsResult', { id: 'number', input: 'object', layers: 'array', shapes: 'array', probabilities: 'array' });

/** Any request that failed: what went wrong, in words for the user. */
export const InferenceError = new Notification<{ id: number; message: string }>('inference/error', { id: 'number', message: 'string' });
