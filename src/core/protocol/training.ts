/**
 * The trainer process's messages. The host (CLI, extension) forks the trainer and sends
 * {@link TrainingStart}; the trainer answers with {@link TrainingStarted}, then
 * {@link TrainingProgress} per batch and {@link TrainingEpoch} per epoch, and always ends with
 * exactly one {@link TrainingDone}. {@link TrainingCancel} stops it after the current step.
 */
import type { TrainingPlan } from '../train/plan';
import { Notification } from './messages';

/** Host → trainer: what to train, on what, and where to write. */
export interface TrainingStartParams {
  plan: TrainingPlan;
  /** `synthetic`, a Keras dataset name (`mnist`, `fashion_mnist`, `cifar10`), a folder or a file. */
  data: string;
  /** The dataset the model file loads (`mnist` from `mnist.load_data()`), used to find `data` when it is a folder. */
  dataHint?: string;
  /** Use at most this many training / test samples (quick runs, tests). */
  limit?: { train?: number; test?: number };
  seed: number;
  /** ORT intra-op threads; default: the number of CPUs. */
  threads?: number;
  /** Where the best checkpoint goes (written atomically). */
  checkpoint?: string;
  /** A checkpoint to continue from. */
  resume?: string;
  /** After training, write the inference model of the last epoch's weights here (the best are in `checkpoint`). */
  exportPath?: string;
  /** Minimum milliseconds between progress messages (the last batch of an epoch is always sent); default 0. */
  progressIntervalMs?: number;
}

export const TrainingStart = new Notification<TrainingStartParams>('training/start', {
  plan: 'object',
  data: 'string',
  seed: 'number',
  threads: 'number?',
  checkpoint: 'string?',
  resume: 'string?',
  exportPath: 'string?',
});

/** Host → trainer: stop after the current step (the best checkpoint stays as it is). */
export const TrainingCancel = new Notification<Record<string, never>>('training/cancel');

/** Trainer → host: the data is loaded and the graphs are built. */
export interface TrainingStartedParams {
  dataset: { name: string; shape: number[]; numClasses: number; train: number; validation: number; test: number };
  epochs: number;
  /** The first epoch that will run (1-based; > 1 when resuming). */
  startEpoch: number;
  batchSize: number;
  stepsPerEpoch: number;
  optimizer: string;
  loss: string;
  threads: number;
  /** What the trainer assumed or adapted (data reshaped, resumed from …). */
  notes: string[];
  /** Seconds spent loading data and building the graphs. */
  setupSeconds: number;
}

export const TrainingStarted = new Notification<TrainingStartedParams>('training/started', {
  dataset: 'object',
  epochs: 'number',
  startEpoch: 'number',
  batchSize: 'number',
  stepsPerEpoch: 'number',
  threads: 'number',
  notes: 'array',
});

/** Trainer → host, per batch: running means over the epoch so far. */
export interface TrainingProgressParams {
  /** 1-based. */
  epoch: number;
  epochs: number;
  /** Batches done in this epoch (1-based). */
  batch: number;
  batches: number;
  loss: number;
  accuracy: number;
  samplesPerSecond: number;
  /** Seconds left in this epoch (training steps only). */
  etaSeconds: number;
  /** Seconds since the epoch started. */
  epochSeconds: number;
}

export const TrainingProgress = new Notification<TrainingProgressParams>('training/progress', {
  epoch: 'number',
  epochs: 'number',
  batch: 'number',
  batches: 'number',
  loss: 'number',
  accuracy: 'number',
  samplesPerSecond: 'number',
  etaSeconds: 'number',
  epochSeconds: 'number',
});

/** Trainer → host, per epoch, after validation. Field names as Keras' History. */
export interface TrainingEpochParams {
  epoch: number;
  epochs: number;
  loss: number;
  accuracy: number;
  val_loss?: number;
  val_accuracy?: number;
  /** Wall-clock seconds of the epoch, validation included. */
  seconds: number;
  samplesPerSecond: number;
  /** Milliseconds per training step. */
  msPerStep: number;
  steps: number;
  /** Set when this epoch improved the monitored value and its checkpoint was written. */
  checkpoint?: { path: string; monitor: 'val_loss' | 'loss'; value: number };
}

export const TrainingEpoch = new Notification<TrainingEpochParams>('training/epoch', {
  epoch: 'number',
  epochs: 'number',
  loss: 'number',
  accuracy: 'number',
  val_loss: 'number?',
  val_accuracy: 'number?',
  seconds: 'number',
  checkpoint: 'object?',
});

/** Trainer → host: a note or warning while training. */
export interface TrainingLogParams {
  level: 'info' | 'warning';
  message: string;
}

export const TrainingLog = new Notification<TrainingLogParams>('training/log', { level: ['info', 'warning'], message: 'string' });

/** How a training run ended. */
export type TrainingEnd = 'completed' | 'cancelled' | 'diverged' | 'failed';

/** Trainer → host, always the last message. */
export interface TrainingDoneParams {
  reason: TrainingEnd;
  /** For 'diverged' and 'failed': what happened, for the user. */
  message?: string;
  /** Epochs completed in total (resumed ones included). */
  epochs: number;
  /** The test set evaluation of the last epoch's weights (those exported), as Keras' evaluate() after fit(). */
  test?: { loss: number; accuracy: number; count: number; epoch: number };
  best?: { epoch: number; monitor: 'val_loss' | 'loss'; value: number; path?: string };
  exported?: string;
  seconds: number;
}

export const TrainingDone = new Notification<TrainingDoneParams>('training/done', {
  reason: ['completed', 'cancelled', 'diverged', 'failed'],
  message: 'string?',
  epochs: 'number',
  test: 'object?',
  best: 'object?',
  exported: 'string?',
  seconds: 'number',
});
