/**
 * `convlens bench FILE`: how fast this machine trains the model in a file. Times training steps
 * (forward, loss, backward, the file's optimizer; the trainer's own session) on random data of
 * the model's input shape, and turns the median step into samples/s, GFLOP/s and the time one
 * epoch of the dataset the file loads would take.
 */
import type { TrainingPlan } from '../core/train/plan';
import { DEVICE_LABEL, type Device, type DeviceRequest } from '../core/train/device';
import { describeOptimizer } from '../core/train/optimizers';
import { planWeights } from '../core/train/plan';
import { BenchStepper, median, peakRssMb, stepFlops, trainingSamples } from '../train/bench';
import { defaultThreads } from '../train/trainSession';
import { loadModel, planOrReport, UsageError } from './train';

/** Options of `convlens bench`. */
export interface BenchArgs {
  file: string;
  batch?: number;
  threads?: number;
  /** Where the steps run (default cpu; `auto` as for train). */
  device?: DeviceRequest;
  /** Timed steps; by default as many as fill about three seconds (3 to 20). */
  steps?: number;
  model?: string;
  json: boolean;
}

/** What `convlens bench --json` prints (one object). */
export interface BenchReport {
  file: string;
  model: string;
  params: number;
  macs_per_sample: number;
  optimizer: string;
  batch: number;
  threads: number;
  /** The device the steps ran on (`cpu`, `webgpu`, `dml`, `cuda`): where a requested one could not be had, the CPU. */
  device: Device;
  /** Where the nodes of a step ran, on a device other than the CPU (onnxruntime's per-node fallback); null on the CPU. */
  placement: string | null;
  steps: number;
  ms_per_step: number;
  ms_min: number;
  samples_per_s: number;
  gflops: number;
  peak_rss_mb: number;
  /** One epoch of the dataset the file loads, from the median step; null when it loads none ConvLens knows. */
  epoch: { dataset: string; samples: number; steps: number; seconds: number } | null;
}

const WARMUP = 2;
const TARGET_MS = 3000;

/** `convlens bench FILE …`; returns the exit code. */
export async function benchCommand(a: BenchArgs): Promise<number> {
  const loaded = await loadModel(a.file, a.model);
  const plan = planOrReport(a.file, loaded, a.batch === undefined ? {} : { batchSize: a.batch });
  if (!plan) return 1;
  const batch = plan.batchSize;
  const stepper = await BenchStepper.create(plan, batch, { threads: a.threads ?? defaultThreads(), device: a.device });
  for (const n of stepper.notes) process.stderr.write(`note: ${n}\n`);
  for (const w of stepper.warnings) process.stderr.write(`warning: ${w}\n`);
  let times: number[];
  try {
    const warm = await stepper.run(WARMUP);
    const steps = a.steps ?? Math.min(20, Math.max(3, Math.ceil(TARGET_MS / warm[warm.length - 1])));
    times = await stepper.run(steps);
  } finally {
    await stepper.release();
  }
  const report = benchReport(a.file, plan, { threads: stepper.threads, device: stepper.device, placement: stepper.placement }, times, peakRssMb(), loaded.datasets[0]);
  process.stdout.write(a.json ? `${JSON.stringify(report)}\n` : formatBench(report, plan));
  return 0;
}

/** The report of timed steps (`times`, ms) of `plan` run as `on` says; `dataset` is the Keras dataset the file loads. */
export function benchReport(
  file: string,
  plan: TrainingPlan,
  on: { threads: number; device?: Device; placement?: string },
  times: readonly number[],
  rssMb: number,
  dataset?: string,
): BenchReport {
  if (times.length === 0) throw new UsageError('no steps were timed');
  const ms = median(times);
  const batch = plan.batchSize;
  let epoch: BenchReport['epoch'] = null;
  const samples = trainingSamples(plan, dataset);
  if (samples) {
    const steps = Math.ceil(samples.count / batch);
    epoch = { dataset: samples.dataset, samples: samples.count, steps, seconds: (steps * ms) / 1000 };
  }
  return {
    file,
    model: plan.model,
    params: planWeights(plan).reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0),
    macs_per_sample: plan.macs,
    optimizer: describeOptimizer(plan.optimizer),
    batch,
    threads: on.threads,
    device: on.device ?? 'cpu',
    placement: on.placement ?? null,
    steps: times.length,
    ms_per_step: ms,
    ms_min: Math.min(...times),
    samples_per_s: (batch * 1000) / ms,
    gflops: stepFlops(plan, batch) / (ms * 1e6),
    peak_rss_mb: rssMb,
    epoch,
  };
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');

function duration(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - 60 * m)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** The human-readable report. */
export function formatBench(r: BenchReport, plan: TrainingPlan): string {
  const lines = [
    `${r.file}: model '${r.model}', ${int(r.params)} parameters, ${(r.macs_per_sample / 1e6).toFixed(1)} M MACs per sample; ${r.optimizer}, batch ${r.batch}, ${r.threads} thread${r.threads === 1 ? '' : 's'}, ${r.steps} steps on random data, on ${DEVICE_LABEL[r.device]}`,
    `  ${r.ms_per_step.toFixed(1)} ms/step (fastest ${r.ms_min.toFixed(1)}), ${int(r.samples_per_s)} samples/s, ${r.gflops.toFixed(1)} GFLOP/s, peak memory ${int(r.peak_rss_mb)} MB`,
  ];
  if (r.placement) lines.push(`  ${r.placement}`);
  if (r.epoch) {
    const which = plan.fit?.train ? ' the file trains on' : '';
    const split = !plan.fit?.validation && plan.validationSplit > 0 ? ` after validation_split=${plan.validationSplit}` : '';
    lines.push(`  one epoch of ${r.epoch.dataset} (${int(r.epoch.samples)} samples${which}${split}, ${int(r.epoch.steps)} steps): about ${duration(r.epoch.seconds)} of training steps`);
  } else {
    lines.push('  (the file loads no dataset ConvLens knows, so there is no epoch estimate)');
  }
  return `${lines.join('\n')}\n`;
}
