/**
 * Checks of a run's settings against the machine and the data, before anything is allocated:
 * threads (1 … the CPU count), batch size (at most the training set, and what a step costs in
 * memory), epochs, the learning rate; and, while training, a loss that stays finite but
 * explodes. Pure: the trainer passes in the CPU count and the memory it has.
 */
import { formatBytes } from '../format';
import { optimizerSlots } from './optimizers';
import type { TrainingPlan } from './plan';

/** The most epochs a run accepts. */
export const MAX_EPOCHS = 1_000_000;

/** A number for messages: `1,000,000,000`, `0.001`, `1e+30` (never digit groups inside an exponent). */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return n.toLocaleString('en-US');
  const abs = Math.abs(n);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-4)) return n.toExponential(4).replace(/\.?0+e/, 'e');
  return String(Number(n.toPrecision(6)));
}

/** The thread count to use: the request within 1 … `cpus`, with a warning when it asked for more. */
export function checkThreads(requested: number | undefined, cpus: number, fallback: number): { threads: number; warning?: string; error?: string } {
  const n = Math.max(1, Math.floor(cpus));
  if (requested === undefined) return { threads: Math.max(1, Math.min(fallback, n)) };
  if (!Number.isSafeInteger(requested) || requested < 1) return { threads: 1, error: `threads must be a whole number from 1 to ${n}, got ${formatNumber(requested)}` };
  if (requested > n) {
    return { threads: n, warning: `${formatNumber(requested)} threads asked for, but this machine has ${n} CPU${n === 1 ? '' : 's'}: using ${n} (more threads than CPUs only slow training down)` };
  }
  return { threads: requested };
}

/** Float32 values one sample keeps alive in a training step: the input and every layer's output, with their gradients. */
function valuesPerSample(plan: TrainingPlan): number {
  const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  return size(plan.inputShape) * 2 + plan.layers.reduce((sum, l) => sum + size(l.output) * 3, 0);
}

/** Parameters of a plan (weights only). */
function paramCount(plan: TrainingPlan): number {
  return plan.layers.reduce((s, l) => s + l.weights.reduce((t, w) => t + w.shape.reduce((a, b) => a * b, 1), 0), 0);
}

/**
 * An estimate of the memory a training step needs at a batch size: activations and their
 * gradients for the batch, plus weights, gradients and optimizer state (fed in and read back).
 */
export function stepMemoryBytes(plan: TrainingPlan, batchSize: number): number {
  const slots = optimizerSlots(plan.optimizer).length;
  return 4 * (batchSize * valuesPerSample(plan) + paramCount(plan) * (3 + 2 * slots));
}

/**
 * The batch size against the training set and the memory: an error when it exceeds the
 * training samples (`fix` says what to pass) or needs more than half the machine's memory.
 */
export function checkBatchSize(plan: TrainingPlan, trainCount: number, memoryBytes: number): { error?: string; estimate: string } {
  const b = plan.batchSize;
  const need = stepMemoryBytes(plan, Math.min(b, Math.max(1, trainCount)));
  const estimate = `about ${formatBytes(need)} per training step`;
  if (!Number.isSafeInteger(b) || b < 1) return { error: `batch size must be a whole number ≥ 1, got ${formatNumber(b)}`, estimate };
  if (b > trainCount) {
    return { error: `batch size ${formatNumber(b)} is larger than the ${formatNumber(trainCount)} training samples: use at most ${formatNumber(trainCount)}`, estimate };
  }
  if (need > memoryBytes / 2) {
    return { error: `batch size ${formatNumber(b)} needs ${estimate}, more than half of this machine's ${formatBytes(memoryBytes)}: use a smaller batch size`, estimate };
  }
  return { estimate };
}

/** Epochs: a whole number from 1 to {@link MAX_EPOCHS}. */
export function checkEpochs(epochs: number): string | undefined {
  if (!Number.isSafeInteger(epochs) || epochs < 1 || epochs > MAX_EPOCHS) return `epochs must be a whole number from 1 to ${formatNumber(MAX_EPOCHS)}, got ${formatNumber(epochs)}`;
  return undefined;
}

/** The learning rate: positive and finite; a warning when it is far outside what Keras' optimizers use. */
export function checkLearningRate(lr: number): { error?: string; warning?: string } {
  if (!(Number.isFinite(lr) && lr > 0)) return { error: `the learning rate must be a positive number, got ${formatNumber(lr)}` };
  if (lr >= 10) return { warning: `a learning rate of ${formatNumber(lr)} is very high (Keras' optimizers default to 0.001–0.01): expect the loss to explode` };
  return {};
}

/**
 * Watches the loss for a run that stays finite but explodes (a learning rate far too high):
 * one warning when a batch's loss exceeds both 1,000 times the first batch's and 100.
 */
export class LossWatch {
  private first: number | undefined;
  private warned = false;

  constructor(private readonly learningRate: number) {}

  /** The warning to log, once, or undefined. */
  observe(loss: number, epoch: number, batch: number): string | undefined {
    if (!Number.isFinite(loss)) return undefined;
    if (this.first === undefined) {
      this.first = loss;
      return undefined;
    }
    if (this.warned || !(loss > 100 && loss > 1000 * Math.max(this.first, 1e-3))) return undefined;
    this.warned = true;
    return (
      `the loss is exploding: ${formatNumber(this.first)} at the first step, ${formatNumber(loss)} at epoch ${epoch}, batch ${batch}. ` +
      `The learning rate (${formatNumber(this.learningRate)}) is probably too high; try ${formatNumber(Math.min(this.learningRate / 100, 1e-3))}`
    );
  }

  /** Whether a warning was given. */
  get exploded(): boolean {
    return this.warned;
  }
}
