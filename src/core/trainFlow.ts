/**
 * The decisions of "ConvLens: Train Model", kept pure so they are unit-tested without VS Code:
 * which questions to ask (only what the file does not say). Where outputs go is core/run/runHome.ts.
 */
import type { FitSpec } from './parse/values';

/** What a previous run of the same model chose. */
export interface RememberedChoices {
  data: string;
  dataLabel: string;
  epochs: number;
  batchSize: number;
}

export type TrainQuestion = 'data' | 'epochs' | 'batchSize';

/**
 * The questions to ask before training: the data always (it is confirmable, with the last choice
 * first), epochs and batch size only when neither fit() nor a previous run says them.
 */
export function trainingQuestions(fit: FitSpec | undefined, remembered?: RememberedChoices): TrainQuestion[] {
  const q: TrainQuestion[] = ['data'];
  if (fit?.epochs === undefined && remembered?.epochs === undefined) q.push('epochs');
  if (fit?.batchSize === undefined && remembered?.batchSize === undefined) q.push('batchSize');
  return q;
}

/** Epochs and batch size: fit() wins, then the last run, then Keras' defaults (1 epoch, batch 32). */
export function runDefaults(fit: FitSpec | undefined, remembered?: RememberedChoices): { epochs: number; batchSize: number } {
  return { epochs: fit?.epochs ?? remembered?.epochs ?? 1, batchSize: fit?.batchSize ?? remembered?.batchSize ?? 32 };
}

/** Whether a dataset's samples fit the model input; a message saying what to do when not. */
export function dataFitsModel(dataShape: readonly number[], inputShape: readonly number[]): string | undefined {
  if (dataShape.join() === inputShape.join()) return undefined;
  return `the data's images are (${dataShape.join(', ')}) but the model's input is (${inputShape.join(', ')}); pick matching data or change input_shape`;
}
