/**
 * The trainer process's messages. The host (CLI, extension) forks the trainer and sends
 * {@link TrainingStart}; the trainer answers with {@link TrainingStarted}, then
 * {@link TrainingProgress} per batch and {@link TrainingEpoch} per epoch, and always ends with
 * exactly one {@link TrainingDone}. {@link TrainingCancel} stops it after the current step.
 */
import type { NewRunSpec } from '../run/runHome';
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
  /**
   * Where to train: `auto`, `cpu`, `webgpu`, `dml` or `cuda` (core/train/device.ts); default `cpu`.
   * A device that cannot be had is a warning and the CPU.
   */
  device?: string;
  /**
   * The run to record (core/run/runHome.ts): once the data is loaded and the settings pass their
   * checks, the trainer creates the run folder and writes the settings, the model source, the
   * metrics, log, checkpoints, model and result there. Without it (tests), only `checkpoint`
   * and `exportPath` are written.
   */
  run?: NewRunSpec;
  /** Also write the best checkpoint here (a path the user chose; written atomically). */
  checkpoint?: string;
  /** A checkpoint to continue from. */
  resume?: string;
  /** The run folder `resume` belongs to, when it is a run's. */
  resumeRun?: string;
  /** Also write the inference model of the final weights here (a path the user chose). */
  exportPath?: string;
  /** The CPUs the host counts (threads above it are reduced with a warning); default: the trainer's own count. */
  cpus?: number;
  /** What the host assumed when it planned the run (the plan's notes), for the run's log. */
  notes?: string[];
  /** Minimum milliseconds between progress messages (the last batch of an epoch is always sent); default 0. */
  progressIntervalMs?: number;
}

export const TrainingStart = new Notification<TrainingStartParams>('training/start', {
  plan: 'object',
  data: 'string',
  seed: 'number',
  threads: 'number?',
  device: 'string?',
  run: 'object?',
  checkpoint: 'string?',
  resume: 'string?',
  resumeRun: 'string?',
  exportPath: 'string?',
  cpus: 'number?',
});

/** Host → trainer: stop after the current step and write the checkpoint to resume from. */
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
  /** The device the training step runs on (`cpu`, `webgpu`, `dml`, `cuda`). */
  device: string;
  /** The learning rate training starts with. */
  learningRate: number;
  /** `about 45.2 MB per training step`. */
  memoryEstimate: string;
  /** The run folder, when there is one. */
  runDir?: string;
  /** What the trainer assumed or adapted (data reshaped, resumed from …). */
  notes: string[];
  /** Settings it changed or doubts (threads above the CPU count, a very high learning rate). */
  warnings: string[];
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
  device: 'string',
  learningRate: 'number',
  memoryEstimate: 'string',
  runDir: 'string?',
  notes: 'array',
  warnings: 'array',
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
  /** The learning rate the epoch trained with (its last step's). */
  learning_rate: number;
  /** Set when this epoch improved the monitored value and its checkpoint was written. */
  checkpoint?: { path: string; monitor: string; value: number };
  /** What the callbacks did (early stopping, learning rate reduced). */
  messages?: string[];
}

export const TrainingEpoch = new Notification<TrainingEpochParams>('training/epoch', {
  epoch: 'number',
  epochs: 'number',
  loss: 'number',
  accuracy: 'number',
  val_loss: 'number?',
  val_accuracy: 'number?',
  seconds: 'number',
  learning_rate: 'number',
  checkpoint: 'object?',
  messages: 'array?',
});

/** Trainer → host: a note or warning while training. */
export interface TrainingLogParams {
  level: 'info' | 'warning';
  message: string;
}

export const TrainingLog = new Notification<TrainingLogParams>('training/log', { level: ['info', 'warning'], message: 'string' });

/** How a training run ended. */
export type TrainingEnd = 'completed' | 'cancelled' | 'diverged' | 'failed';

/** What kind of problem failed a run: the host maps each to one exit code (src/cli/exitCodes.ts). */
export type TrainingErrorKind = 'data' | 'checkpoint' | 'output' | 'settings' | 'internal';

/** Trainer → host, always the last message. */
export interface TrainingDoneParams {
  reason: TrainingEnd;
  /** For 'diverged' and 'failed': what happened, for the user (for 'cancelled': a problem writing the checkpoint). */
  message?: string;
  /** For 'failed': which kind of problem. */
  errorKind?: TrainingErrorKind;
  /** Epochs completed in total (resumed ones included). */
  epochs: number;
  /** The test set evaluation of the last epoch's weights (those exported), as Keras' evaluate() after fit(). */
  test?: { loss: number; accuracy: number; count: number; epoch: number };
  best?: { epoch: number; monitor: string; value: number; path?: string };
  /** The latest state written: what `--resume` continues from. */
  last?: { path: string; epoch: number; batch: number };
  exported?: string;
  /** The run folder, when there is one. */
  runDir?: string;
  /** Set when a callback ended training early (EarlyStopping). */
  stoppedEarly?: string;
  /** Warnings about the result (an exploding loss). */
  warnings?: string[];
  seconds: number;
}

export const TrainingDone = new Notification<TrainingDoneParams>('training/done', {
  reason: ['completed', 'cancelled', 'diverged', 'failed'],
  message: 'string?',
  errorKind: 'string?',
  epochs: 'number',
  test: 'object?',
  best: 'object?',
  last: 'object?',
  exported: 'string?',
  runDir: 'string?',
  stoppedEarly: 'string?',
  warnings: 'array?',
  seconds: 'number',
});
