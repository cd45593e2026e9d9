/**
 * Training speed of a planned model on this machine: steps of the compiled training graph (the
 * trainer's own session handling, on random data of the model's input shape), timed one by
 * one. Used by `convlens bench` and `npm run bench`; the onnxruntime profile summary says where
 * a step's time goes, by operator type.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { compileTrainGraph, initialState } from '../core/train/compile';
import { selectRows } from '../core/parse/dataOrigin';
import { DATASET_SHAPES } from '../core/parse/kerasSymbols';
import type { TrainingPlan } from '../core/train/plan';
import { planDevice, type Device, type DeviceRequest } from '../core/train/device';
import { Random } from '../core/train/random';
import { deviceFacts, openOnDevice } from './devices';
import { nchwcBlockSize, TrainSession, type SessionSettings } from './trainSession';

/** FLOPs of one training step: 2 per multiply-accumulate, forward + input gradient + weight gradient (the usual 3× forward). */
export function stepFlops(plan: TrainingPlan, batch: number): number {
  return 6 * plan.macs * batch;
}

/** Session settings of a benchmark: the device as asked for (`auto` included), resolved as the trainer resolves it. */
export type BenchSettings = Omit<SessionSettings, 'device'> & { device?: DeviceRequest };

/** A training session on fixed random data, stepped on demand (so a caller can alternate it with another). */
export class BenchStepper {
  private t = 0;
  private constructor(
    private readonly session: TrainSession,
    readonly plan: TrainingPlan,
    readonly batch: number,
    private readonly x: Float32Array,
    private readonly y: BigInt64Array,
    /** How the device was chosen, and devices that could not be had. */
    readonly notes: string[] = [],
    readonly warnings: string[] = [],
  ) {}

  static async create(plan: TrainingPlan, batch: number, settings: BenchSettings = {}, seed = 1): Promise<BenchStepper> {
    const cpuBlock = await nchwcBlockSize();
    const opened = await openOnDevice(planDevice(settings.device ?? 'cpu', deviceFacts()), (device) =>
      // As the trainer: NCHWc kernels only on the CPU provider.
      TrainSession.create(compileTrainGraph(plan, { seed, nchwcBlock: device === 'cpu' ? cpuBlock : 0 }), plan.inputShape, initialState(plan, seed), { ...settings, device }),
    );
    const session = opened.value;
    const rng = new Random(seed);
    const per = plan.inputShape.reduce((a, b) => a * b, 1);
    const x = Float32Array.from({ length: batch * per }, () => rng.next());
    const y = BigInt64Array.from({ length: batch }, () => BigInt(rng.int(Math.max(2, plan.outputShape[0]))));
    return new BenchStepper(session, plan, batch, x, y, opened.notes, opened.warnings);
  }

  get threads(): number {
    return this.session.threads;
  }

  /** The device the steps run on. */
  get device(): Device {
    return this.session.device;
  }

  /** Where the first step's nodes ran (devices other than the CPU), once a step has run. */
  get placement(): string | undefined {
    return this.session.placement;
  }

  /** Runs `n` steps; returns each one's wall time in milliseconds. */
  async run(n: number): Promise<number[]> {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = performance.now();
      const r = await this.session.step(this.x, this.y, this.batch, this.plan.optimizer.learningRate, ++this.t);
      times.push(performance.now() - s);
      if (!Number.isFinite(r.loss)) throw new Error(`the loss became ${r.loss} at benchmark step ${this.t}`);
    }
    return times;
  }

  endProfiling(): string | undefined {
    return this.session.endProfiling();
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/**
 * How many samples one epoch trains on, as the trainer will choose them: the rows the file's
 * fit() selects (`x_train[idx[:50000]]`), less Keras' validation_split when there is no
 * validation_data; from the sizes of the Keras dataset the file loads.
 */
export function trainingSamples(plan: TrainingPlan, dataset?: string): { dataset: string; count: number } | undefined {
  const rows = plan.fit?.train;
  const name = rows?.dataset ?? dataset;
  const shapes = name === undefined ? undefined : DATASET_SHAPES[name];
  if (!name || !shapes) return undefined;
  const total = shapes[rows?.split ?? 'train'][0];
  let count = rows ? selectRows(rows.rows, total, (n) => Uint32Array.from({ length: n }, (_, i) => i)).indices.length : total;
  // The trainer holds out the last validation_split of the training rows, as Keras' fit() does.
  if (!plan.fit?.validation && plan.validationSplit > 0) count = Math.floor(count * (1 - plan.validationSplit));
  return { dataset: name, count };
}

/** What `convlens bench` measures. */
export interface BenchResult {
  batch: number;
  threads: number;
  /** Timed steps (after the warm-up). */
  steps: number;
  /** Median wall time of a step. */
  msPerStep: number;
  msMin: number;
  samplesPerSecond: number;
  /** {@link stepFlops} per second at the median step time. */
  gflops: number;
  /** The process' peak resident memory so far (Node, onnxruntime and the data). */
  peakRssMb: number;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Peak resident set size of this process, in MiB. */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Times `steps` training steps after `warmup` untimed ones. */
export async function benchTraining(plan: TrainingPlan, opts: { batch: number; steps: number; warmup?: number } & BenchSettings): Promise<BenchResult> {
  const stepper = await BenchStepper.create(plan, opts.batch, opts);
  try {
    await stepper.run(opts.warmup ?? 2);
    const times = await stepper.run(opts.steps);
    const ms = median(times);
    return {
      batch: opts.batch,
      threads: stepper.threads,
      steps: opts.steps,
      msPerStep: ms,
      msMin: Math.min(...times),
      samplesPerSecond: (opts.batch * 1000) / ms,
      gflops: stepFlops(plan, opts.batch) / (ms * 1e6),
      peakRssMb: peakRssMb(),
    };
  } finally {
    await stepper.release();
  }
}

/** Kernel time of one operator type per step, from an onnxruntime profile. */
export interface OpTime {
  op: string;
  ms: number;
  share: number;
  nodes: number;
}

/** Runs `steps` profiled steps (after `skip` warm-up runs that are left out) and sums kernel time by operator type. */
export async function profileTraining(plan: TrainingPlan, opts: { batch: number; steps: number; skip?: number; threads?: number }): Promise<{ msPerRun: number; ops: OpTime[] }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'convlens-profile-'));
  try {
    const stepper = await BenchStepper.create(plan, opts.batch, { threads: opts.threads ?? 1, profilePrefix: path.join(dir, 'train') });
    const skip = opts.skip ?? 2;
    await stepper.run(skip + opts.steps);
    stepper.endProfiling();
    await stepper.release();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) throw new Error('onnxruntime wrote no profile');
    return summarizeProfile(JSON.parse(readFileSync(path.join(dir, file), 'utf8')), skip);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface ProfileEvent {
  cat: string;
  name: string;
  dur: number;
  ts: number;
  args?: { op_name?: string };
}

/** Per-step kernel time by operator type from onnxruntime's profile events, leaving out the first `skip` runs. */
export function summarizeProfile(events: ProfileEvent[], skip: number): { msPerRun: number; ops: OpTime[] } {
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const counted = runs.slice(skip);
  if (counted.length === 0) return { msPerRun: 0, ops: [] };
  const from = counted[0].ts;
  const byOp = new Map<string, { us: number; nodes: Set<string> }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < from) continue;
    const op = e.args?.op_name ?? '?';
    const entry = byOp.get(op) ?? { us: 0, nodes: new Set<string>() };
    entry.us += e.dur;
    entry.nodes.add(e.name);
    byOp.set(op, entry);
  }
  const total = [...byOp.values()].reduce((a, v) => a + v.us, 0);
  const ops = [...byOp]
    .map(([op, v]) => ({ op, ms: v.us / counted.length / 1000, share: total ? v.us / total : 0, nodes: v.nodes.size }))
    .sort((a, b) => b.ms - a.ms);
  return { msPerRun: counted.reduce((a, e) => a + e.dur, 0) / counted.length / 1000, ops };
}
