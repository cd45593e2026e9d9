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

/** Any request that failed: what went wrong, in words for the user. */
export const InferenceError = new Notification<{ id: number; message: string }>('inference/error', { id: 'number', message: 'string' });
