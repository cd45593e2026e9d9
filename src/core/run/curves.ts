/**
 * Training curves of a run, as the runs view draws them: per-batch loss and accuracy from the
 * trainer's progress records, epoch means, validation, on a step / epoch / wall-time axis,
 * smoothed with TensorBoard's debiased exponential moving average, and written as CSV.
 *
 * The trainer reports *running means over the epoch so far* (Keras' progress bar convention);
 * drawn as they are they fall at every epoch boundary, where the mean restarts. Two consecutive
 * running means give the exact mean of the batches between them:
 * `(seen_b · m_b − seen_a · m_a) / (seen_b − seen_a)`, which is what is drawn.
 */

/** One progress record (a line of batches.jsonl, or a live `training/progress` message). */
export interface ProgressRecord {
  epoch: number;
  batch: number;
  batches: number;
  /** Running means over the epoch so far. */
  loss: number;
  accuracy: number;
  /** Seconds since the epoch started. */
  epochSeconds?: number;
  /** The optimizer step (batches.jsonl records it). */
  step?: number;
  /** Samples per second so far in the epoch: with `epochSeconds`, the samples the means are over. */
  samplesPerSecond?: number;
}

/** One epoch record (a line of epochs.jsonl, or a `training/epoch` message). */
export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy: number;
  val_loss?: number;
  val_accuracy?: number;
  seconds: number;
  learning_rate?: number;
}

/** What the counts of samples are, when known: the last batch of an epoch may be smaller. */
export interface CurveOptions {
  batchSize?: number;
  trainSamples?: number;
}

/** The drawable curves of one run. */
export interface RunCurves {
  /** Per progress record: the mean of the batches since the previous record. */
  batch: { step: number[]; epoch: number[]; wall: number[]; loss: number[]; accuracy: number[] };
  /** Per epoch: the epoch means and validation, at the epoch's end. */
  epoch: { epoch: number[]; step: number[]; wall: number[]; loss: number[]; accuracy: number[]; val_loss: (number | null)[]; val_accuracy: (number | null)[] };
}

export type XAxis = 'step' | 'epoch' | 'wall';

/**
 * Samples the running means of a record are over: the trainer's `samplesPerSecond` is
 * `seen / epochSeconds`, so their product is `seen`; else from the batch size and sample count;
 * else the batches (exact but for a smaller last batch).
 */
function seenAt(r: ProgressRecord, o: CurveOptions): number {
  if (r.samplesPerSecond !== undefined && r.epochSeconds !== undefined && r.epochSeconds > 0 && Number.isFinite(r.samplesPerSecond)) return Math.round(r.samplesPerSecond * r.epochSeconds);
  if (o.batchSize && o.trainSamples) return r.batch >= r.batches ? o.trainSamples : Math.min(r.batch * o.batchSize, o.trainSamples);
  return r.batch;
}

/** Builds a run's curves from its progress and epoch records (in the order they were written). */
export function runCurves(progress: readonly ProgressRecord[], epochs: readonly EpochRecord[], o: CurveOptions = {}): RunCurves {
  const batch: RunCurves['batch'] = { step: [], epoch: [], wall: [], loss: [], accuracy: [] };
  // Seconds before each epoch started (the epochs this run trained; a resumed run starts at 0).
  const startOf = new Map<number, number>();
  let t = 0;
  for (const e of [...epochs].sort((a, b) => a.epoch - b.epoch)) {
    startOf.set(e.epoch, t);
    t += e.seconds;
  }
  const epochStart = (epoch: number): number => {
    if (startOf.has(epoch)) return startOf.get(epoch)!;
    // An epoch in progress: after every finished one.
    let s = 0;
    for (const e of epochs) if (e.epoch < epoch) s += e.seconds;
    return s;
  };
  let prev: ProgressRecord | undefined;
  for (const r of progress) {
    if (!(r.batches > 0) || !(r.batch > 0)) continue;
    // The first record of an epoch is the mean of its batches so far (for a run resumed inside
    // an epoch, including those before the stop); later ones are turned back into interval means.
    let loss = r.loss;
    let accuracy = r.accuracy;
    if (prev && prev.epoch === r.epoch && prev.batch < r.batch) {
      const a = seenAt(prev, o);
      const b = seenAt(r, o);
      if (b > a) {
        loss = (b * r.loss - a * prev.loss) / (b - a);
        accuracy = (b * r.accuracy - a * prev.accuracy) / (b - a);
      }
    }
    const step = r.step ?? (r.epoch - 1) * r.batches + r.batch;
    batch.step.push(step);
    batch.epoch.push(r.epoch - 1 + r.batch / r.batches);
    batch.wall.push(epochStart(r.epoch) + (r.epochSeconds ?? 0));
    batch.loss.push(loss);
    batch.accuracy.push(accuracy);
    prev = r;
  }
  const epoch: RunCurves['epoch'] = { epoch: [], step: [], wall: [], loss: [], accuracy: [], val_loss: [], val_accuracy: [] };
  for (const e of [...epochs].sort((a, b) => a.epoch - b.epoch)) {
    // The step at the epoch's end: its last progress record's, else epochs × batches per epoch.
    let step: number | undefined;
    for (const r of progress) if (r.epoch === e.epoch && r.batch === r.batches) step = r.step ?? r.epoch * r.batches;
    const batches = progress.find((r) => r.batches > 0)?.batches ?? 0;
    epoch.epoch.push(e.epoch);
    epoch.step.push(step ?? e.epoch * batches);
    epoch.wall.push((startOf.get(e.epoch) ?? 0) + e.seconds);
    epoch.loss.push(e.loss);
    epoch.accuracy.push(e.accuracy);
    epoch.val_loss.push(e.val_loss ?? null);
    epoch.val_accuracy.push(e.val_accuracy ?? null);
  }
  return { batch, epoch };
}

/**
 * TensorBoard's smoothing: an exponential moving average debiased for its start (so the first
 * points are not pulled towards 0), `weight` in [0, 1) (0: none). Non-finite values are kept as
 * they are and do not enter the average; a constant series is returned unchanged.
 */
export function emaSmooth(values: readonly number[], weight: number): number[] {
  const w = Math.min(Math.max(weight, 0), 0.999);
  const constant = values.every((v) => v === values[0]);
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (constant || !Number.isFinite(v)) return v;
    last = last * w + (1 - w) * v;
    n++;
    const debias = w === 0 ? 1 : 1 - Math.pow(w, n);
    return last / debias;
  });
}

/**
 * Puts several runs' series on one x axis (uPlot draws aligned data): the union of their x
 * values, sorted, and each series' values where it has them (null elsewhere).
 */
export function alignSeries(series: readonly { x: readonly number[]; y: readonly (number | null)[] }[]): { x: number[]; ys: (number | null)[][] } {
  const xs = [...new Set(series.flatMap((s) => s.x))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = series.map((s) => {
    const y: (number | null)[] = new Array(xs.length).fill(null);
    s.x.forEach((x, i) => {
      const v = s.y[i];
      y[index.get(x)!] = v === null || v === undefined || Number.isNaN(v) ? null : v;
    });
    return y;
  });
  return { x: xs, ys };
}

const csvCell = (v: string | number | null | undefined): string => {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : String(v);
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
};

/**
 * The curves of the runs as CSV: one row per progress record (`batch`: the mean of the batches
 * since the previous record, and its smoothed value) and per epoch (`epoch`: the epoch means and
 * validation).
 */
export function curvesCsv(runs: readonly { run: string; curves: RunCurves }[], smoothing: number): string {
  const rows = [['run', 'kind', 'epoch', 'step', 'wall_seconds', 'loss', 'accuracy', 'loss_smoothed', 'accuracy_smoothed', 'val_loss', 'val_accuracy']];
  const out = rows.map((r) => r.join(','));
  for (const { run, curves } of runs) {
    const b = curves.batch;
    const ls = emaSmooth(b.loss, smoothing);
    const as = emaSmooth(b.accuracy, smoothing);
    for (let i = 0; i < b.step.length; i++) {
      out.push([run, 'batch', round(b.epoch[i]), b.step[i], round(b.wall[i]), b.loss[i], b.accuracy[i], ls[i], as[i], null, null].map(csvCell).join(','));
    }
    const e = curves.epoch;
    for (let i = 0; i < e.epoch.length; i++) {
      out.push([run, 'epoch', e.epoch[i], e.step[i], round(e.wall[i]), e.loss[i], e.accuracy[i], null, null, e.val_loss[i], e.val_accuracy[i]].map(csvCell).join(','));
    }
  }
  return `${out.join('\n')}\n`;
}

const round = (x: number): number => Math.round(x * 1e6) / 1e6;
