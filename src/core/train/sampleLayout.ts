/**
 * Samples between the layout datasets, images and the panel use — channels-last, (H, W, C) — and
 * a model's own: Keras' is the same; PyTorch's is channels-first, (C, H, W), as torchvision's
 * ToTensor gives images. One transposition at the edge, so everything inside a plan stays in its
 * framework's layout.
 */
import type { TrainingPlan } from './plan';

const channelsFirst = (plan: Pick<TrainingPlan, 'framework'>): boolean => plan.framework === 'pytorch';

/** A per-sample shape of the model as channels-last: PyTorch's (C, H, W) → (H, W, C); rank 1 and Keras' unchanged. */
export function channelsLastShape(plan: Pick<TrainingPlan, 'framework'>, shape: readonly number[]): number[] {
  return channelsFirst(plan) && shape.length >= 2 ? [...shape.slice(1), shape[0]] : [...shape];
}

/** `count` samples of channels-last `shape` (the model's shape as {@link channelsLastShape} gives it) moved to the model's layout. */
export function toModelLayout(plan: Pick<TrainingPlan, 'framework'>, data: Float32Array, modelShape: readonly number[], count: number): Float32Array {
  return swapChannels(plan, data, modelShape, count, 'first');
}

/**
 * `count` channels-last samples (pixels ÷ 255, as datasets and images are read) as the model is
 * given them: in its layout, then normalized as the file's `transforms.Normalize` says. Always a
 * new array when anything changes, so a cached dataset is never altered.
 */
export function toModelInput(plan: Pick<TrainingPlan, 'framework' | 'inputNormalization'>, data: Float32Array, modelShape: readonly number[], count: number): Float32Array {
  const x = toModelLayout(plan, data, modelShape, count);
  return plan.inputNormalization ? normalizeChannelsFirst(plan.inputNormalization, x, modelShape, count) : x;
}

/** (x − mean[c]) / std[c] for samples in (C, …) layout. */
function normalizeChannelsFirst(n: { mean: number[]; std: number[] }, x: Float32Array, modelShape: readonly number[], count: number): Float32Array {
  const c = modelShape.length >= 2 ? modelShape[0] : 1;
  const plane = modelShape.length >= 2 ? modelShape.slice(1).reduce((a, b) => a * b, 1) : modelShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(x.length);
  for (let s = 0; s < count; s++) {
    for (let k = 0; k < c; k++) {
      const base = (s * c + k) * plane;
      const m = n.mean[k];
      const inv = 1 / n.std[k];
      for (let p = 0; p < plane; p++) out[base + p] = (x[base + p] - m) * inv;
    }
  }
  return out;
}

/** `count` samples of the model's `shape` moved to channels-last, for showing them. */
export function toChannelsLast(plan: Pick<TrainingPlan, 'framework'>, data: Float32Array, modelShape: readonly number[], count = 1): Float32Array {
  return swapChannels(plan, data, modelShape, count, 'last');
}

/** Moves the channel axis of `count` samples to the front (`first`) or the back (`last`); channels-last models and single channels are left as they are. */
function swapChannels(plan: Pick<TrainingPlan, 'framework'>, data: Float32Array, modelShape: readonly number[], count: number, to: 'first' | 'last'): Float32Array {
  if (!channelsFirst(plan) || modelShape.length < 2 || modelShape[0] === 1) return data;
  const c = modelShape[0];
  const plane = modelShape.slice(1).reduce((x, y) => x * y, 1);
  const out = new Float32Array(count * c * plane);
  for (let n = 0; n < count; n++) {
    const base = n * c * plane;
    for (let p = 0; p < plane; p++) {
      for (let k = 0; k < c; k++) {
        if (to === 'first') out[base + k * plane + p] = data[base + p * c + k];
        else out[base + p * c + k] = data[base + k * plane + p];
      }
    }
  }
  return out;
}
