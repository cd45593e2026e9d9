/**
 * The training loop on onnxruntime-node: one `run` of the compiled training graph per batch,
 * validation per epoch, the best checkpoint written atomically, a test evaluation and an export
 * at the end. It runs in the trainer process (src/worker/trainer.ts) but has no process concerns
 * itself, so tests drive it directly: messages go to `hooks.emit`, cancellation is polled
 * before every step.
 */
import * as os from 'node:os';
import * as ort from 'onnxruntime-node';
import type { Message } from '../core/protocol/messages';
import {
  TrainingEpoch,
  TrainingLog,
  TrainingProgress,
  TrainingStarted,
  type TrainingDoneParams,
  type TrainingStartParams,
} from '../core/protocol/training';
import { compileEvalGraph, compileInferenceGraph, compileTrainGraph, GRAPH_NAMES, initialState, type TrainGraph, type WeightMap } from '../core/train/compile';
import { describeOptimizer } from '../core/train/optimizers';
import { planFingerprint, planWeights, weightMismatch, type TrainingPlan } from '../core/train/plan';
import { readCheckpointFile, writeCheckpointFile, writeFileAtomic } from './checkpointFile';
import { checkFit, openDataset } from './data';
import { BatchFeeder, validationSplit, type Dataset, type ImageSet } from './datasets/index';

/** How the loop talks to its host. */
export interface TrainerHooks {
  emit(message: Message): void;
  /** Polled before every step: true stops the run after the current step. */
  cancelled(): boolean;
}

/** Start parameters, plus an already loaded dataset (tests, benchmarks). */
export type TrainerRun = TrainingStartParams & { dataset?: Dataset };

/** Session options shared by the trainer's graphs. */
export function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  };
}

/** The default thread count: every CPU the process may use. */
export function defaultThreads(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

const floatTensor = (data: Float32Array, dims: readonly number[]) => new ort.Tensor('float32', data, dims as number[]);
const scalar = (v: number) => new ort.Tensor('float32', Float32Array.of(v), []);

class Diverged extends Error {}

/** Runs a training to its end; never throws: failures end as `reason: 'failed'` with the user-facing message. */
export async function runTraining(p: TrainerRun, hooks: TrainerHooks): Promise<TrainingDoneParams> {
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  let epochsDone = 0;
  let best: TrainingDoneParams['best'];
  try {
    return await train(p, hooks, t0, (e, b) => {
      epochsDone = e;
      best = b;
    });
  } catch (e) {
    const reason = e instanceof Diverged ? 'diverged' : 'failed';
    return { reason, message: (e as Error).message, epochs: epochsDone, best, seconds: seconds() };
  }
}

async function train(
  p: TrainerRun,
  hooks: TrainerHooks,
  t0: number,
  report: (epochs: number, best: TrainingDoneParams['best']) => void,
): Promise<TrainingDoneParams> {
  const plan: TrainingPlan = p.plan;
  const notes: string[] = [];
  const ds = p.dataset ?? (await openDataset(p.data, p.dataHint, p.limit, p.plan.inputShape));
  notes.push(...checkFit(ds, plan.inputShape, plan.outputShape));
  let trainSet: ImageSet = ds.train;
  let validation: ImageSet | undefined;
  if (plan.validationSplit > 0) ({ train: trainSet, validation } = validationSplit(ds.train, plan.validationSplit));
  if (trainSet.count === 0) throw new Error(`${ds.name} has no training samples`);

  const threads = Math.max(1, Math.floor(p.threads ?? defaultThreads()));
  const opts = sessionOptions(threads);
  const trainGraph = compileTrainGraph(plan, { seed: p.seed });
  const evalGraph = compileEvalGraph(plan);
  const trainSession = await ort.InferenceSession.create(trainGraph.bytes, opts);
  const evalSession = await ort.InferenceSession.create(evalGraph.bytes, opts).catch(async (e) => {
    await trainSession.release();
    throw e;
  });
  try {
    return await loop({ p, hooks, t0, report, plan, ds, trainSet, validation, threads, notes, trainGraph, trainSession, evalSession });
  } finally {
    await trainSession.release();
    await evalSession.release();
  }
}

interface LoopArgs {
  p: TrainerRun;
  hooks: TrainerHooks;
  t0: number;
  report: (epochs: number, best: TrainingDoneParams['best']) => void;
  plan: TrainingPlan;
  ds: Dataset;
  trainSet: ImageSet;
  validation: ImageSet | undefined;
  threads: number;
  notes: string[];
  trainGraph: TrainGraph;
  trainSession: ort.InferenceSession;
  evalSession: ort.InferenceSession;
}

async function loop({ p, hooks, t0, report, plan, ds, trainSet, validation, threads, notes, trainGraph, trainSession, evalSession }: LoopArgs): Promise<TrainingDoneParams> {
  // Weights and optimizer slots: fresh, or from the checkpoint to resume.
  let state = initialState(plan, p.seed);
  let startEpoch = 0;
  let step = 0;
  const monitor: 'val_loss' | 'loss' = validation ? 'val_loss' : 'loss';
  let best: { epoch: number; value: number; weights: WeightMap } | undefined;
  if (p.resume) {
    const ckpt = readCheckpointFile(p.resume);
    const mismatch = weightMismatch(plan, ckpt.tensors);
    if (mismatch) throw new Error(`${p.resume} was written for a different model: ${mismatch}`);
    const sameOptimizer = ckpt.header.optimizer.name === plan.optimizer.name;
    for (const t of trainGraph.carried) {
      const saved = ckpt.tensors.get(t.name);
      if (saved && (t.kind === 'weight' || sameOptimizer)) state.set(t.name, saved.data);
    }
    if (!sameOptimizer) notes.push(`the checkpoint was trained with ${ckpt.header.optimizer.name}; the ${plan.optimizer.name} state starts fresh`);
    startEpoch = ckpt.header.epoch;
    step = ckpt.header.step;
    if (ckpt.header.monitor === monitor) best = { epoch: ckpt.header.epoch, value: ckpt.header.best, weights: weightsOf(plan, state) };
    notes.push(`resumed from ${p.resume} (epoch ${ckpt.header.epoch}, ${monitor} ${ckpt.header.best.toFixed(4)})`);
  }
  const bestInfo = () => (best ? { epoch: best.epoch, monitor, value: best.value, path: p.checkpoint } : undefined);

  const feeder = new BatchFeeder(trainSet, ds.shape, ds.numClasses, { batchSize: plan.batchSize, shuffle: plan.shuffle, seed: p.seed });
  const batches = feeder.batchesPerEpoch;
  hooks.emit(
    TrainingStarted.create({
      dataset: {
        name: ds.name,
        shape: [...ds.shape],
        numClasses: ds.numClasses,
        train: trainSet.count,
        validation: validation?.count ?? 0,
        test: ds.test?.count ?? 0,
      },
      epochs: plan.epochs,
      startEpoch: startEpoch + 1,
      batchSize: plan.batchSize,
      stepsPerEpoch: batches,
      optimizer: describeOptimizer(plan.optimizer),
      loss: plan.loss,
      threads,
      notes,
      setupSeconds: (performance.now() - t0) / 1000,
    }),
  );

  const evaluate = (set: ImageSet, weights: WeightMap) => evaluateSet(evalSession, plan, ds, set, weights);
  const interval = p.progressIntervalMs ?? 0;
  const lr = scalar(plan.optimizer.learningRate);
  report(startEpoch, bestInfo());
  for (let epoch = startEpoch; epoch < plan.epochs; epoch++) {
    const order = feeder.order(epoch);
    const epochStart = performance.now();
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    let lastSent = 0;
    let stepMs = 0;
    for (let b = 0; b < batches; b++) {
      if (hooks.cancelled()) {
        return { reason: 'cancelled', epochs: epoch, best: bestInfo(), seconds: (performance.now() - t0) / 1000 };
      }
      const batch = feeder.fill(order, b);
      const feeds: Record<string, ort.Tensor> = {
        [GRAPH_NAMES.x]: floatTensor(batch.x, [batch.count, ...plan.inputShape]),
        [GRAPH_NAMES.labels]: new ort.Tensor('int64', batch.y as BigInt64Array, [batch.count]),
        [GRAPH_NAMES.lr]: lr,
      };
      step++;
      if (trainGraph.usesStep) feeds[GRAPH_NAMES.step] = scalar(step);
      for (const t of trainGraph.carried) feeds[t.name] = floatTensor(state.get(t.name)!, t.shape);
      const s0 = performance.now();
      const out = await trainSession.run(feeds);
      stepMs += performance.now() - s0;
      const loss = (out[GRAPH_NAMES.loss].data as Float32Array)[0];
      if (!Number.isFinite(loss)) {
        throw new Diverged(
          `the loss became ${loss} at epoch ${epoch + 1}, batch ${b + 1}: training stopped. ` +
            `The learning rate (${plan.optimizer.learningRate}) may be too high for this model and data` +
            (best ? `; the best checkpoint (epoch ${best.epoch}) is kept` : ''),
        );
      }
      const next = new Map<string, Float32Array>();
      for (const t of trainGraph.carried) next.set(t.name, out[t.next].data as Float32Array);
      state = next;
      lossSum += loss * batch.count;
      correct += (out[GRAPH_NAMES.correct].data as Float32Array)[0];
      seen += batch.count;
      const now = performance.now();
      if (b === batches - 1 || now - lastSent >= interval) {
        lastSent = now;
        const elapsed = (now - epochStart) / 1000;
        hooks.emit(
          TrainingProgress.create({
            epoch: epoch + 1,
            epochs: plan.epochs,
            batch: b + 1,
            batches,
            loss: lossSum / seen,
            accuracy: correct / seen,
            samplesPerSecond: seen / elapsed,
            etaSeconds: (elapsed / (b + 1)) * (batches - b - 1),
            epochSeconds: elapsed,
          }),
        );
      }
    }
    const trainSeconds = (performance.now() - epochStart) / 1000;
    const metrics = { loss: lossSum / seen, accuracy: correct / seen } as { loss: number; accuracy: number; val_loss?: number; val_accuracy?: number };
    const weights = weightsOf(plan, state);
    if (validation) {
      const v = await evaluate(validation, weights);
      metrics.val_loss = v.loss;
      metrics.val_accuracy = v.accuracy;
      if (!Number.isFinite(v.loss)) throw new Diverged(`the validation loss became ${v.loss} after epoch ${epoch + 1}: training stopped`);
    }
    const value = monitor === 'val_loss' ? metrics.val_loss! : metrics.loss;
    let checkpoint: { path: string; monitor: 'val_loss' | 'loss'; value: number } | undefined;
    if (!best || value < best.value) {
      best = { epoch: epoch + 1, value, weights };
      if (p.checkpoint) {
        writeCheckpointFile(p.checkpoint, {
          header: {
            model: plan.model,
            fingerprint: planFingerprint(plan),
            epoch: epoch + 1,
            step,
            monitor,
            best: value,
            metrics,
            optimizer: plan.optimizer,
            seed: p.seed,
            created: new Date().toISOString(),
          },
          tensors: new Map(trainGraph.carried.map((t) => [t.name, { kind: t.kind, shape: t.shape, data: state.get(t.name)! }])),
        });
        checkpoint = { path: p.checkpoint, monitor, value };
      }
    }
    report(epoch + 1, bestInfo());
    hooks.emit(
      TrainingEpoch.create({
        epoch: epoch + 1,
        epochs: plan.epochs,
        ...metrics,
        seconds: (performance.now() - epochStart) / 1000,
        samplesPerSecond: seen / trainSeconds,
        msPerStep: stepMs / batches,
        steps: batches,
        checkpoint,
      }),
    );
  }

  // As after Keras' fit(): the model holds the last epoch's weights (the best ones are in the
  // checkpoint file), and evaluate() and save() use those.
  const kept = { epoch: plan.epochs, weights: weightsOf(plan, state) };
  let test: TrainingDoneParams['test'];
  if (ds.test && ds.test.count > 0) {
    const r = await evaluate(ds.test, kept.weights);
    test = { loss: r.loss, accuracy: r.accuracy, count: ds.test.count, epoch: kept.epoch };
  } else {
    hooks.emit(TrainingLog.create({ level: 'info', message: `${ds.name} has no test set: no test evaluation` }));
  }
  let exported: string | undefined;
  if (p.exportPath) {
    writeFileAtomic(p.exportPath, compileInferenceGraph(plan, kept.weights, typeof VERSION === 'string' ? VERSION : undefined));
    exported = p.exportPath;
  }
  return { reason: 'completed', epochs: plan.epochs, test, best: bestInfo(), exported, seconds: (performance.now() - t0) / 1000 };
}

declare const VERSION: string;

/** The weights (not the optimizer slots) of a training state. */
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
  const batchSize = Math.max(plan.batchSize, 256);
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
