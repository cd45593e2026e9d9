/**
 * The training loop on onnxruntime-node: one `run` of the compiled training graph per batch,
 * validation per epoch, the run folder kept up to date (metrics as JSON lines, the log, the best
 * and last checkpoints, written atomically), fit()'s callbacks and learning-rate schedule, a
 * test evaluation and an export at the end. It runs in the trainer process (src/worker/trainer.ts)
 * but has no process concerns itself, so tests drive it directly: messages go to `hooks.emit`,
 * cancellation is polled before every step, and a cancel writes the checkpoint to resume from.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as ort from 'onnxruntime-node';
import type { Message } from '../core/protocol/messages';
import {
  TrainingEpoch,
  TrainingLog,
  TrainingProgress,
  TrainingStarted,
  type TrainingDoneParams,
  type TrainingErrorKind,
  type TrainingStartParams,
} from '../core/protocol/training';
import { runLayout, type RunFile } from '../core/run/runHome';
import { architectureFingerprint, architectureOf, checkpointMismatch } from '../core/train/architecture';
import type { CheckpointHeader, CheckpointMetrics } from '../core/train/checkpoint';
import { compileEvalGraph, compileInferenceGraph, compileTrainGraph, GRAPH_NAMES, initialState, type WeightMap } from '../core/train/compile';
import { BestTracker, describeRows, FitCallbacks, formatRate, scheduleRate, type CheckpointPolicy, type PlannedRows } from '../core/train/fitOptions';
import { DEVICE_LABEL, DEVICE_REQUESTS, parseDeviceRequest, planDevice, type Device } from '../core/train/device';
import { describeLossOptions } from '../core/train/losses';
import { describeOptimizer } from '../core/train/optimizers';
import { planWeights, type TrainingPlan } from '../core/train/plan';
import { checkBatchSize, checkEpochs, checkLearningRate, checkThreads, formatNumber, LossWatch } from '../core/train/validate';
import { selectRows } from '../core/parse/dataOrigin';
import { readCheckpointFile, writeCheckpointFile } from './checkpointFile';
import { checkFinite, checkFit, datasetForModel, openDataset } from './data';
import { channelsLastShape } from '../core/train/sampleLayout';
import { BatchFeeder, DataError, gatherSet, hashSeed, permutation, sliceSet, validationSplit, type Dataset, type ImageSet } from './datasets/index';
import { deviceFacts, openOnDevice } from './devices';
import { createRun } from './runStore';
import { appendLine, writeFileAtomic, type WritePolicy } from './safeFs';
import { cpuCount, nchwcBlockSize, sessionOptions, TrainSession } from './trainSession';

/** How the loop talks to its host. */
export interface TrainerHooks {
  emit(message: Message): void;
  /** Polled before every step: true stops the run after the current step (the checkpoint to resume from is written). */
  cancelled(): boolean;
}

/** Start parameters, plus an already loaded dataset (tests, benchmarks). */
export type TrainerRun = TrainingStartParams & { dataset?: Dataset };

export { cpuCount, defaultThreads, sessionOptions } from './trainSession';

const floatTensor = (data: Float32Array, dims: readonly number[]) => new ort.Tensor('float32', data, dims as number[]);

class Diverged extends Error {}

/** A setting that cannot work with this data or machine (batch size, threads, epochs). */
export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

/** A checkpoint that does not fit the run (another architecture, missing optimizer state). */
export class ResumeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResumeError';
  }
}

/** Which kind of problem an error is, for the host's exit code. */
export function errorKind(e: unknown): TrainingErrorKind {
  const name = e instanceof Error ? e.name : '';
  if (name === 'DataError') return 'data';
  if (name === 'CheckpointFileError' || name === 'CheckpointError' || name === 'ResumeError' || name === 'RunError') return 'checkpoint';
  if (name === 'OutputError') return 'output';
  if (name === 'SettingsError') return 'settings';
  return 'internal';
}

/**
 * What a run writes: the run folder's files (when there is one) and the copies the user chose,
 * every path checked against the policy, metrics appended as JSON lines.
 */
class RunWriter {
  files?: Record<RunFile, string>;
  dir?: string;
  private policy: WritePolicy;

  constructor(private readonly p: TrainerRun) {
    this.policy = { folders: [], files: [p.checkpoint, p.exportPath].filter((x): x is string => !!x) };
  }

  /** Creates the run folder (once the run's checks pass) and writes there from now on. */
  open(): void {
    if (!this.p.run || this.dir) return;
    const run = createRun(this.p.run);
    this.dir = run.dir;
    this.files = runLayout(run.dir);
    this.policy = { folders: [run.dir], files: this.policy.files };
  }

  log(level: 'info' | 'warning', message: string): void {
    if (this.files) appendLine(this.files.log, `${new Date().toISOString()} ${level === 'warning' ? 'warning' : 'note'}: ${message}`, { policy: this.policy, what: 'run log' });
  }

  line(which: 'epochs' | 'batches', record: object): void {
    if (this.files) appendLine(this.files[which], JSON.stringify(record), { policy: this.policy, what: `run ${which}` });
  }

  checkpoint(which: 'best' | 'last', ckpt: Parameters<typeof writeCheckpointFile>[1]): string | undefined {
    let written: string | undefined;
    if (this.files) {
      writeCheckpointFile(this.files[which], ckpt, { policy: this.policy });
      written = this.files[which];
    }
    if (which === 'best' && this.p.checkpoint) {
      writeCheckpointFile(this.p.checkpoint, ckpt, { policy: this.policy });
      written ??= this.p.checkpoint;
    }
    return written;
  }

  model(bytes: Uint8Array): string | undefined {
    let written: string | undefined;
    if (this.files) {
      writeFileAtomic(this.files.onnx, bytes, { policy: this.policy, what: 'model' });
      written = this.files.onnx;
    }
    if (this.p.exportPath) {
      writeFileAtomic(this.p.exportPath, bytes, { policy: this.policy, what: 'model' });
      written = this.p.exportPath;
    }
    return written;
  }

  result(done: TrainingDoneParams): void {
    if (!this.files) return;
    try {
      writeFileAtomic(this.files.result, new TextEncoder().encode(`${JSON.stringify({ ...done, finished: new Date().toISOString() }, null, 2)}\n`), { policy: this.policy, what: 'run result', noReplace: true });
    } catch {
      // The run's end is reported to the host anyway; a full disk must not hide it.
    }
  }
}

/** Runs a training to its end; never throws: failures end as `reason: 'failed'` with the user-facing message. */
export async function runTraining(p: TrainerRun, hooks: TrainerHooks): Promise<TrainingDoneParams> {
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  let epochsDone = 0;
  let best: TrainingDoneParams['best'];
  let last: TrainingDoneParams['last'];
  let writer: RunWriter | undefined;
  let done: TrainingDoneParams;
  try {
    writer = new RunWriter(p);
    done = await train(p, hooks, writer, t0, (e, b, l) => {
      epochsDone = e;
      best = b;
      last = l;
    });
  } catch (e) {
    const reason = e instanceof Diverged ? 'diverged' : 'failed';
    const kind = errorKind(e);
    const message = kind === 'internal' && !(e instanceof Diverged) ? `internal error: ${(e as Error).message ?? String(e)}` : (e as Error).message;
    done = { reason, message, ...(reason === 'failed' ? { errorKind: kind } : {}), epochs: epochsDone, best, last, seconds: seconds(), runDir: writer?.dir };
    try {
      writer?.log('warning', message);
    } catch {
      /* the disk may be what failed */
    }
  }
  try {
    writer?.log(done.reason === 'completed' ? 'info' : 'warning', `${done.reason} after ${done.epochs} epoch${done.epochs === 1 ? '' : 's'} in ${done.seconds.toFixed(1)} s${done.test ? `; test accuracy ${done.test.accuracy.toFixed(4)}, loss ${formatNumber(done.test.loss)}` : ''}`);
  } catch {
    /* a full disk: the result is still reported */
  }
  writer?.result(done);
  return done;
}

/** Picks the samples fit() names out of a split (seeded permutation for np.random.permutation). */
function pickRows(ds: Dataset, sel: PlannedRows, seed: number, what: string, notes: string[]): ImageSet {
  const set = sel.split === 'train' ? ds.train : ds.test;
  if (!set) throw new DataError(`${ds.name} has no test set, but fit() at line ${sel.line} takes its ${what} from the test set`);
  const { indices, scaled } = selectRows(sel.rows, set.count, (n) => permutation(n, hashSeed(seed, 0x9e3779b9)));
  if (scaled) notes.push(`the file selects its ${what} rows of ${sel.dataset}'s ${formatNumber(sel.rows.of ?? 0)} ${sel.split === 'train' ? 'training' : 'test'} samples; ${ds.name} has ${formatNumber(set.count)}, so the same fractions are used`);
  if (indices.length === 0) throw new DataError(`fit() at line ${sel.line} selects no ${what} samples out of the ${formatNumber(set.count)} of ${ds.name} (${describeRows(sel)})`);
  const contiguous = indices.every((v, i) => i === 0 || v === indices[i - 1] + 1);
  return contiguous ? sliceSet(set, indices[0], indices[0] + indices.length) : gatherSet(set, indices);
}

/** The training and validation sets as fit() chooses them. */
function splitData(ds: Dataset, plan: TrainingPlan, seed: number, notes: string[]): { trainSet: ImageSet; validation?: ImageSet } {
  const f = plan.fit;
  let trainSet = f?.train ? pickRows(ds, f.train, seed, 'training', notes) : ds.train;
  let validation: ImageSet | undefined;
  if (f?.validation) validation = pickRows(ds, f.validation, seed, 'validation', notes);
  else if (plan.validationSplit > 0) ({ train: trainSet, validation } = validationSplit(trainSet, plan.validationSplit));
  if (f?.validation && f.train && f.validation.split === f.train.split && JSON.stringify(f.validation.rows) === JSON.stringify(f.train.rows)) {
    notes.push('the validation data is the training data itself');
  }
  if (trainSet.count === 0) throw new DataError(`${ds.name} has no training samples`);
  return { trainSet, validation };
}

interface Position {
  epoch: number;
  batch: number;
  step: number;
}

async function train(
  p: TrainerRun,
  hooks: TrainerHooks,
  writer: RunWriter,
  t0: number,
  report: (epochs: number, best: TrainingDoneParams['best'], last: TrainingDoneParams['last']) => void,
): Promise<TrainingDoneParams> {
  const plan: TrainingPlan = p.plan;
  const notes: string[] = [];
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);

  const epochsProblem = checkEpochs(plan.epochs);
  if (epochsProblem) throw new SettingsError(epochsProblem);
  const lrCheck = checkLearningRate(plan.optimizer.learningRate);
  if (lrCheck.error) throw new SettingsError(lrCheck.error);
  if (lrCheck.warning) warn(lrCheck.warning);
  const threadCheck = checkThreads(p.threads, p.cpus ?? cpuCount(), cpuCount());
  if (threadCheck.error) throw new SettingsError(threadCheck.error);
  if (threadCheck.warning) warn(threadCheck.warning);
  const threads = threadCheck.threads;
  const deviceRequest = parseDeviceRequest(p.device ?? 'cpu');
  if (!deviceRequest) throw new SettingsError(`the device must be ${DEVICE_REQUESTS.join(', ')}; got '${p.device}'`);

  const ds = datasetForModel(p.dataset ?? (await openDataset(p.data, p.dataHint, p.limit, channelsLastShape(p.plan, p.plan.inputShape))), plan);
  checkFinite(ds);
  notes.push(...checkFit(ds, plan.inputShape, plan.outputShape));
  const { trainSet, validation } = splitData(ds, plan, p.seed, notes);
  const batchCheck = checkBatchSize(plan, trainSet.count, os.totalmem());
  if (batchCheck.error) throw new SettingsError(batchCheck.error);

  writer.open();
  writer.log('info', `${plan.model}: ${describeOptimizer(plan.optimizer)}, loss ${plan.loss}${plan.lossOptions ? `(${describeLossOptions(plan.lossOptions)})` : ''}, batch size ${plan.batchSize} (${batchCheck.estimate}), ${plan.epochs} epochs, ${threads} thread${threads === 1 ? '' : 's'}, seed ${p.seed}, data ${ds.name}: ${trainSet.count} training, ${validation?.count ?? 0} validation, ${ds.test?.count ?? 0} test samples`);
  const fitLines = new Set([...(plan.fit?.honoured ?? []), ...(plan.fit?.ignored ?? [])]);
  for (const line of [...(p.notes ?? []).filter((n) => !fitLines.has(n)), ...fitLines]) writer.log('info', line);

  const cpuBlock = await nchwcBlockSize();
  const opened = await openOnDevice(planDevice(deviceRequest, deviceFacts()), async (device: Device) => {
    // onnxruntime's NCHWc kernels are the CPU provider's own: on another device they would run
    // on the CPU with a copy each way, so a device graph keeps plain NCHW operators.
    const nchwcBlock = device === 'cpu' ? cpuBlock : 0;
    const trainGraph = compileTrainGraph(plan, { seed: p.seed, nchwcBlock });
    const evalGraph = compileEvalGraph(plan, { nchwcBlock });
    const trainSession = await TrainSession.create(trainGraph, plan.inputShape, initialState(plan, p.seed), { threads, device });
    const evalSession = await ort.InferenceSession.create(evalGraph.bytes, sessionOptions(threads, { device })).catch(async (e) => {
      await trainSession.release();
      throw e;
    });
    return { trainSession, evalSession };
  });
  const { trainSession, evalSession } = opened.value;
  notes.push(...opened.notes);
  warnings.push(...opened.warnings);
  try {
    return await loop({ p, hooks, writer, t0, report, plan, ds, trainSet, validation, threads, notes, warnings, memoryEstimate: batchCheck.estimate, trainSession, evalSession });
  } finally {
    await trainSession.release();
    await evalSession.release();
  }
}

interface LoopArgs {
  p: TrainerRun;
  hooks: TrainerHooks;
  writer: RunWriter;
  t0: number;
  report: (epochs: number, best: TrainingDoneParams['best'], last: TrainingDoneParams['last']) => void;
  plan: TrainingPlan;
  ds: Dataset;
  trainSet: ImageSet;
  validation: ImageSet | undefined;
  threads: number;
  notes: string[];
  warnings: string[];
  memoryEstimate: string;
  trainSession: TrainSession;
  evalSession: ort.InferenceSession;
}

/** The rule for the best checkpoint: ModelCheckpoint's, or val_loss (loss without validation), lower is better. */
function checkpointPolicy(plan: TrainingPlan, hasValidation: boolean, notes: string[]): CheckpointPolicy {
  const given = plan.fit?.checkpoint;
  const fallback: CheckpointPolicy = { monitor: hasValidation ? 'val_loss' : 'loss', mode: 'min', initial: null };
  if (!given) return fallback;
  if (given.monitor.startsWith('val_') && !hasValidation) {
    notes.push(`ModelCheckpoint monitors ${given.monitor}, but this run has no validation data: the best checkpoint follows loss`);
    return { monitor: 'loss', mode: 'min', initial: null };
  }
  return given;
}

async function loop(a: LoopArgs): Promise<TrainingDoneParams> {
  const { p, hooks, writer, t0, report, plan, ds, trainSet, validation, threads, notes, warnings, trainSession, evalSession } = a;
  const trainGraph = trainSession.graph;
  const now = () => (performance.now() - t0) / 1000;
  const arch = architectureOf(plan);
  const fingerprint = architectureFingerprint(arch);
  const callbacks = new FitCallbacks(plan.fit?.callbacks ?? []);
  const policy = checkpointPolicy(plan, validation !== undefined, notes);
  const tracker = new BestTracker(policy.monitor, policy.mode, policy.initial);
  let bestPath: string | undefined;
  let lastInfo: TrainingDoneParams['last'];
  let learningRate = plan.optimizer.learningRate;

  // Weights and optimizer slots: fresh (the session starts with them), or from the checkpoint to
  // resume. `state` is the session's live buffers, which every step overwrites.
  const state = trainSession.state;
  const pos: Position = { epoch: 0, batch: 0, step: 0 };
  let partial: { lossSum: number; correct: number; seen: number } | undefined;
  if (p.resume) {
    const ckpt = readCheckpointFile(p.resume);
    const h = ckpt.header;
    const weights = new Set(planWeights(plan).map((w) => w.name));
    const expected = new Set([...trainGraph.carried.map((t) => t.name), ...[...ckpt.tensors.keys()].filter((n) => ckpt.tensors.get(n)!.kind === 'slot' && weights.has(n.slice(0, n.lastIndexOf('.'))))]);
    const mismatch = checkpointMismatch(plan, h, ckpt.tensors, expected);
    if (mismatch) throw new ResumeError(`${p.resume} cannot be resumed: ${mismatch}`);
    const sameOptimizer = h.optimizer.name === plan.optimizer.name;
    const restored = new Map<string, Float32Array>();
    for (const t of trainGraph.carried) {
      const saved = ckpt.tensors.get(t.name);
      if (t.kind === 'slot' && sameOptimizer && !saved) throw new ResumeError(`${p.resume} cannot be resumed: it lacks the ${plan.optimizer.name} state '${t.name}' (the checkpoint is damaged or was edited)`);
      if (saved && saved.shape.join() !== t.shape.join()) throw new ResumeError(`${p.resume} cannot be resumed: '${t.name}' is ${saved.shape.join('×')} there, ${t.shape.join('×')} here`);
      if (saved && (t.kind === 'weight' || sameOptimizer)) restored.set(t.name, saved.data);
    }
    trainSession.load(restored);
    if (!sameOptimizer) notes.push(`the checkpoint was trained with ${h.optimizer.name}; the ${plan.optimizer.name} state starts fresh`);
    if (!h.architecture) notes.push(`${p.resume} was written by an earlier ConvLens (format version ${h.version}): its header has no checksum and no architecture record; only its weights' names and shapes were checked`);
    pos.epoch = h.epoch;
    pos.batch = h.batch ?? 0;
    pos.step = h.step;
    partial = pos.batch > 0 ? h.partial : undefined;
    // The rate callbacks had reached, unless the optimizer or its rate were changed for this run.
    if (h.learningRate !== undefined && !plan.fit?.schedule && sameOptimizer && h.optimizer.learningRate === plan.optimizer.learningRate) learningRate = h.learningRate;
    callbacks.restore(h.callbacks);
    if (h.monitor === policy.monitor && (h.mode ?? 'min') === policy.mode && Number.isFinite(h.best)) {
      tracker.best = h.best;
      tracker.epoch = h.epoch;
    }
    if (pos.epoch >= plan.epochs) throw new SettingsError(`${p.resume} has already trained ${pos.epoch} epochs; pass more epochs than that (--epochs) to continue`);
    notes.push(`resumed from ${p.resume} (epoch ${h.epoch}${pos.batch ? `, batch ${pos.batch}` : ''}, ${h.monitor} ${Number.isFinite(h.best) ? h.best.toFixed(4) : 'not yet measured'})`);
  }

  const feeder = new BatchFeeder(trainSet, ds.shape, ds.numClasses, { batchSize: plan.batchSize, shuffle: plan.shuffle, seed: p.seed });
  const batches = feeder.batchesPerEpoch;
  if (pos.batch >= batches) {
    // A checkpoint written at the very end of an epoch: the next epoch starts afresh.
    pos.epoch++;
    pos.batch = 0;
    partial = undefined;
  }
  if (p.resumeRun && tracker.best !== null && writer.files) {
    // The run continues another: it starts with that run's best checkpoint, so it is whole on its own.
    const parentBest = runLayout(p.resumeRun).best;
    if (existsSync(parentBest)) {
      writeFileAtomic(writer.files.best, readFileSync(parentBest), { policy: { folders: [writer.dir!] }, what: 'checkpoint' });
      bestPath = writer.files.best;
    }
  }
  for (const n of notes) writer.log('info', n);
  for (const w of warnings) writer.log('warning', w);
  hooks.emit(
    TrainingStarted.create({
      dataset: { name: ds.name, shape: [...ds.shape], numClasses: ds.numClasses, train: trainSet.count, validation: validation?.count ?? 0, test: ds.test?.count ?? 0 },
      epochs: plan.epochs,
      startEpoch: pos.epoch + 1,
      batchSize: plan.batchSize,
      stepsPerEpoch: batches,
      optimizer: describeOptimizer(plan.optimizer),
      loss: plan.lossOptions ? `${plan.loss}(${describeLossOptions(plan.lossOptions)})` : plan.loss,
      threads,
      device: trainSession.device,
      learningRate,
      memoryEstimate: a.memoryEstimate,
      runDir: writer.dir,
      notes,
      warnings,
      setupSeconds: now(),
    }),
  );

  const bestInfo = () => (tracker.best !== null && tracker.epoch > 0 ? { epoch: tracker.epoch, monitor: tracker.monitor, value: tracker.best, path: bestPath } : undefined);
  const header = (extra: Partial<CheckpointHeader>, metrics: CheckpointMetrics): Parameters<typeof writeCheckpointFile>[1]['header'] => ({
    model: plan.model,
    fingerprint,
    architecture: arch,
    epoch: pos.epoch,
    batch: 0,
    step: pos.step,
    monitor: tracker.monitor,
    mode: tracker.mode,
    best: tracker.best ?? (tracker.mode === 'min' ? Infinity : -Infinity),
    metrics,
    optimizer: plan.optimizer,
    learningRate,
    callbacks: callbacks.save(),
    seed: p.seed,
    created: new Date().toISOString(),
    ...extra,
  });
  const tensorsOf = (s: ReadonlyMap<string, Float32Array>) => new Map(trainGraph.carried.map((t) => [t.name, { kind: t.kind, shape: t.shape, data: s.get(t.name)! }]));

  const evaluate = (set: ImageSet, weights: WeightMap) => evaluateSet(evalSession, plan, ds, set, weights);
  const interval = p.progressIntervalMs ?? 0;
  const watch = new LossWatch(learningRate);
  let placementLogged = false;
  const schedule = plan.fit?.schedule;
  let keptWeights: { epoch: number; weights: WeightMap } | undefined;
  let stoppedEarly: string | undefined;
  report(pos.epoch, bestInfo(), lastInfo);

  for (; pos.epoch < plan.epochs; pos.epoch++) {
    const order = feeder.order(pos.epoch);
    const epochStart = performance.now();
    if (pos.batch === 0) learningRate = callbacks.epochBegin(pos.epoch, learningRate);
    let lossSum = partial?.lossSum ?? 0;
    let correct = partial?.correct ?? 0;
    let seen = partial?.seen ?? 0;
    const resumedAt = pos.batch;
    partial = undefined;
    let lastSent = 0;
    let stepMs = 0;
    for (let b = pos.batch; b < batches; b++) {
      if (hooks.cancelled()) {
        pos.batch = b;
        const m = seen > 0 ? { loss: lossSum / seen, accuracy: correct / seen } : { loss: NaN, accuracy: NaN };
        let message: string | undefined;
        try {
          const path = writer.checkpoint('last', { header: header({ batch: b, partial: { lossSum, correct, seen } }, { loss: Number.isFinite(m.loss) ? m.loss : 0, accuracy: Number.isFinite(m.accuracy) ? m.accuracy : 0 }), tensors: tensorsOf(state) });
          if (path) lastInfo = { path, epoch: pos.epoch, batch: b };
        } catch (e) {
          message = `could not write the checkpoint to resume from: ${(e as Error).message}`;
          writer.log('warning', message);
        }
        writer.log('info', `stopped at epoch ${pos.epoch + 1}, batch ${b} of ${batches}`);
        return { reason: 'cancelled', message, epochs: pos.epoch, best: bestInfo(), last: lastInfo, seconds: now(), runDir: writer.dir, warnings: warnings.length ? warnings : undefined };
      }
      const batch = feeder.fill(order, b);
      if (schedule) learningRate = scheduleRate(schedule, pos.step);
      pos.step++;
      const s0 = performance.now();
      const { loss, correct: right } = await trainSession.step(batch.x, batch.y as BigInt64Array, batch.count, learningRate, pos.step);
      stepMs += performance.now() - s0;
      if (trainSession.placement !== undefined && !placementLogged) {
        placementLogged = true;
        const m = `on ${DEVICE_LABEL[trainSession.device]}: ${trainSession.placement}`;
        notes.push(m);
        writer.log('info', m);
        hooks.emit(TrainingLog.create({ level: 'info', message: m }));
      }
      if (!Number.isFinite(loss)) {
        throw new Diverged(
          `the loss became ${loss} at epoch ${pos.epoch + 1}, batch ${b + 1}: training stopped. ` +
            `The learning rate (${formatNumber(learningRate)}) may be too high for this model and data (the data itself holds no NaN)` +
            (tracker.epoch > 0 ? `; the best checkpoint (epoch ${tracker.epoch}) is kept` : ''),
        );
      }
      const exploding = watch.observe(loss, pos.epoch + 1, b + 1);
      if (exploding) {
        warnings.push(exploding);
        writer.log('warning', exploding);
        hooks.emit(TrainingLog.create({ level: 'warning', message: exploding }));
      }
      lossSum += loss * batch.count;
      correct += right;
      seen += batch.count;
      const t = performance.now();
      if (b === batches - 1 || t - lastSent >= interval) {
        lastSent = t;
        const elapsed = (t - epochStart) / 1000;
        const progress = {
          epoch: pos.epoch + 1,
          epochs: plan.epochs,
          batch: b + 1,
          batches,
          loss: lossSum / seen,
          accuracy: correct / seen,
          samplesPerSecond: seen / elapsed,
          etaSeconds: (elapsed / (b + 1 - resumedAt)) * (batches - b - 1),
          epochSeconds: elapsed,
        };
        writer.line('batches', { ...progress, step: pos.step, batchLoss: loss, learning_rate: learningRate });
        hooks.emit(TrainingProgress.create(progress));
      }
    }
    pos.batch = 0;
    const trainSeconds = (performance.now() - epochStart) / 1000;
    const metrics: CheckpointMetrics = { loss: lossSum / seen, accuracy: correct / seen };
    const weights = weightsOf(plan, state);
    if (validation) {
      const v = await evaluate(validation, weights);
      metrics.val_loss = v.loss;
      metrics.val_accuracy = v.accuracy;
      if (!Number.isFinite(v.loss)) throw new Diverged(`the validation loss became ${v.loss} after epoch ${pos.epoch + 1}: training stopped`);
    }
    const logs: Record<string, number | undefined> = { ...metrics, learning_rate: learningRate };
    const epochLr = learningRate;
    const decision = callbacks.epochEnd(pos.epoch, logs, learningRate);
    learningRate = decision.learningRate;
    // A copy: the session's buffers move on with the next step.
    if (decision.keepWeights) keptWeights = { epoch: pos.epoch + 1, weights: trainSession.snapshot(weights.keys()) };
    const epochNo = pos.epoch + 1;
    let checkpoint: { path: string; monitor: string; value: number } | undefined;
    if (tracker.offer(logs[tracker.monitor], epochNo)) {
      const path = writer.checkpoint('best', { header: header({ epoch: epochNo }, metrics), tensors: tensorsOf(state) });
      if (path) {
        bestPath = path;
        checkpoint = { path, monitor: tracker.monitor, value: tracker.best! };
      }
    }
    const lastPath = writer.checkpoint('last', { header: header({ epoch: epochNo }, metrics), tensors: tensorsOf(state) });
    if (lastPath) lastInfo = { path: lastPath, epoch: epochNo, batch: 0 };
    for (const m of decision.messages) {
      writer.log('info', m);
      hooks.emit(TrainingLog.create({ level: 'info', message: m }));
    }
    const epochRecord = {
      epoch: epochNo,
      epochs: plan.epochs,
      ...metrics,
      learning_rate: epochLr,
      seconds: (performance.now() - epochStart) / 1000,
      samplesPerSecond: seen / trainSeconds,
      msPerStep: stepMs / Math.max(1, batches - resumedAt),
      steps: batches,
      checkpoint,
      messages: decision.messages.length ? decision.messages : undefined,
    };
    writer.line('epochs', { ...epochRecord, checkpoint: checkpoint?.path, step: pos.step });
    report(epochNo, bestInfo(), lastInfo);
    hooks.emit(TrainingEpoch.create(epochRecord));
    if (decision.stop) {
      stoppedEarly = decision.messages.find((m) => /early stopping/.test(m)) ?? `stopped early after epoch ${epochNo}`;
      pos.epoch++;
      break;
    }
  }

  // As after Keras' fit(): the model holds the last epoch's weights (the best ones are in the
  // checkpoint file), unless EarlyStopping(restore_best_weights=True) restores its best epoch's.
  let kept: { epoch: number; weights: WeightMap } = { epoch: pos.epoch, weights: weightsOf(plan, state) };
  if (keptWeights && plan.fit?.callbacks.some((c) => c.kind === 'EarlyStopping' && c.restoreBestWeights)) {
    kept = keptWeights;
    const m = `EarlyStopping(restore_best_weights=True): the model keeps the weights of epoch ${kept.epoch}`;
    writer.log('info', m);
    hooks.emit(TrainingLog.create({ level: 'info', message: m }));
  }
  let test: TrainingDoneParams['test'];
  if (ds.test && ds.test.count > 0) {
    const r = await evaluate(ds.test, kept.weights);
    test = { loss: r.loss, accuracy: r.accuracy, count: ds.test.count, epoch: kept.epoch };
    if (watch.exploded && !warnings.some((w) => w.startsWith('the test loss'))) warnings.push(`the test loss is ${formatNumber(r.loss)} after an exploding training loss: this model has not learned (learning rate ${formatRate(plan.optimizer.learningRate)})`);
  } else {
    const m = `${ds.name} has no test set: no test evaluation`;
    writer.log('info', m);
    hooks.emit(TrainingLog.create({ level: 'info', message: m }));
  }
  const exported = writer.model(compileInferenceGraph(plan, kept.weights, typeof VERSION === 'string' ? VERSION : undefined));
  return { reason: 'completed', epochs: pos.epoch, test, best: bestInfo(), last: lastInfo, exported, runDir: writer.dir, stoppedEarly, warnings: warnings.length ? warnings : undefined, seconds: now() };
}

declare const VERSION: string;

/** The weights (not the optimizer slots) of a training state: views of the session's buffers, valid until its next step. */
function weightsOf(plan: TrainingPlan, state: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> {
  return new Map(planWeights(plan).map((w) => [w.name, state.get(w.name)!]));
}

/** Mean loss and accuracy of `weights` on a set, with the evaluation graph. */
export async function evaluateSet(
  session: ort.InferenceSession,
  plan: TrainingPlan,
  ds: Pick<Dataset, 'shape' | 'numClasses'>,
  set: ImageSet,
  weights: WeightMap,
): Promise<{ loss: number; accuracy: number }> {
  const batchSize = Math.min(Math.max(plan.batchSize, 256), Math.max(1, set.count));
  const feeder = new BatchFeeder(set, ds.shape, ds.numClasses, { batchSize, shuffle: false });
  const order = feeder.order(0);
  const weightFeeds: Record<string, ort.Tensor> = {};
  for (const w of planWeights(plan)) weightFeeds[w.name] = floatTensor(weights.get(w.name)!, w.shape);
  let lossSum = 0;
  let correct = 0;
  for (let b = 0; b < feeder.batchesPerEpoch; b++) {
    const batch = feeder.fill(order, b);
    const out = await session.run(
      {
        ...weightFeeds,
        [GRAPH_NAMES.x]: floatTensor(batch.x, [batch.count, ...plan.inputShape]),
        [GRAPH_NAMES.labels]: new ort.Tensor('int64', batch.y as BigInt64Array, [batch.count]),
      },
      [GRAPH_NAMES.loss, GRAPH_NAMES.correct],
    );
    lossSum += (out[GRAPH_NAMES.loss].data as Float32Array)[0] * batch.count;
    correct += (out[GRAPH_NAMES.correct].data as Float32Array)[0];
  }
  return { loss: lossSum / set.count, accuracy: correct / set.count };
}
