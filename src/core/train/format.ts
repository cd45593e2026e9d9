/** Keras-style progress text for training, shared by the CLI and the extension's output. */
import type { TrainingEpochParams, TrainingProgressParams } from '../protocol/training';

/** Keras 3's bar: 20 heavy horizontals. */
export const BAR_WIDTH = 20;

/** `12s` / `30ms/step` as Keras prints step times. */
export function formatStepTime(msPerStep: number): string {
  if (msPerStep >= 1000) return `${Math.round(msPerStep / 1000)}s/step`;
  if (msPerStep >= 1) return `${Math.round(msPerStep)}ms/step`;
  return `${Math.round(msPerStep * 1000)}us/step`;
}

/** The metrics part, in Keras' (alphabetical) order: `accuracy: 0.7200 - loss: 1.2400 - val_accuracy: … - val_loss: …`. */
export function formatMetrics(m: { loss: number; accuracy: number; val_loss?: number; val_accuracy?: number }): string {
  const parts = [`accuracy: ${m.accuracy.toFixed(4)}`, `loss: ${m.loss.toFixed(4)}`];
  if (m.val_accuracy !== undefined) parts.push(`val_accuracy: ${m.val_accuracy.toFixed(4)}`);
  if (m.val_loss !== undefined) parts.push(`val_loss: ${m.val_loss.toFixed(4)}`);
  return parts.join(' - ');
}

/** `Epoch 1/5` */
export const formatEpochHeader = (epoch: number, epochs: number): string => `Epoch ${epoch}/${epochs}`;

/** The line Keras prints when an epoch ends: `391/391 ━━━━━━━━━━━━━━━━━━━━ 12s 30ms/step - accuracy: 0.7200 - loss: 1.2400 - val_…`. */
export function formatEpochLine(e: TrainingEpochParams): string {
  return `${e.steps}/${e.steps} ${'━'.repeat(BAR_WIDTH)} ${Math.round(e.seconds)}s ${formatStepTime(e.msPerStep)} - ${formatMetrics(e)}`;
}

/** A progress line during an epoch: `120/391 ━━━━━━────────────── 8s - accuracy: 0.6812 - loss: 1.4017` (ETA). */
export function formatProgressLine(p: TrainingProgressParams): string {
  const done = Math.round((p.batch / p.batches) * BAR_WIDTH);
  const width = String(p.batches).length;
  return `${String(p.batch).padStart(width)}/${p.batches} ${'━'.repeat(done)}${'─'.repeat(BAR_WIDTH - done)} ${Math.round(p.etaSeconds)}s - ${formatMetrics(p)}`;
}
