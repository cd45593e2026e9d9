/**
 * Helpers of the PyTorch export tests: finding a Python with torch, exporting a model file with
 * the built CLI, driving the exported script (test/export/driver.py), and ConvLens checkpoints
 * with weights that make every layer matter (random biases, BatchNormalization statistics).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { analyzeSource } from '../../src/core/index';
import { architectureFingerprint, architectureOf } from '../../src/core/train/architecture';
import { encodeCheckpoint } from '../../src/core/train/checkpoint';
import { initialState } from '../../src/core/train/compile';
import { planTraining, planWeights, type TrainingPlan } from '../../src/core/train/plan';
import { Random } from '../../src/core/train/random';
import { loadIdxFolder, syntheticDigits } from '../../src/train/datasets/index';
import { parser } from './helpers';

export const root = path.join(__dirname, '..', '..');
export const cli = path.join(root, 'dist', 'cli.js');
export const driverScript = path.join(root, 'test', 'export', 'driver.py');
export const shared = path.join(root, '..', 'shared');
export const mnistFolder = path.join(shared, 'datasets', 'mnist');

let found: { python?: string; why?: string } | undefined;

/**
 * A Python interpreter that imports torch: $CONVLENS_PYTHON, python3 on the PATH, or Debian's
 * /usr/bin/python3 (where .ci/run installs python3-torch); undefined with the reason otherwise.
 */
export function torchPython(): { python?: string; why?: string } {
  if (found) return found;
  const candidates = [process.env.CONVLENS_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  for (const c of candidates) {
    const r = spawnSync(c, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return (found = { python: c });
  }
  return (found = { why: `no Python with torch and numpy (tried ${candidates.join(', ')}); install python3-torch (Debian) or set CONVLENS_PYTHON` });
}

/** Any Python 3 (for syntax checks that do not need torch). */
export function anyPython(): string | undefined {
  for (const c of [process.env.CONVLENS_PYTHON, 'python3', '/usr/bin/python3'].filter((x): x is string => !!x)) {
    if (spawnSync(c, ['-c', 'import ast'], { encoding: 'utf8' }).status === 0) return c;
  }
  return undefined;
}

export const tmp = (prefix = 'convlens-torch-'): string => mkdtempSync(path.join(tmpdir(), prefix));

/** Runs the built CLI. */
export function convlens(cwd: string, ...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** `convlens export FILE --to pytorch --out DIR/NAME.py`; throws with the CLI's words when it fails. */
export function exportScript(dir: string, modelFile: string, opts: { model?: string; weights?: string; name?: string } = {}): string {
  const out = path.join(dir, opts.name ?? 'train_model.py');
  const args = ['export', modelFile, '--to', 'pytorch', '--out', out, '--force'];
  if (opts.model) args.push('--model', opts.model);
  if (opts.weights) args.push('--weights', opts.weights);
  const r = convlens(dir, ...args);
  if (r.code !== 0) throw new Error(`export failed (${r.code}): ${r.err}${r.out}`);
  return out;
}

/** Runs Python with torch. */
export function python(args: string[], opts: { cwd?: string; timeout?: number; env?: Record<string, string> } = {}): SpawnSyncReturns<string> {
  const py = torchPython().python;
  if (!py) throw new Error(torchPython().why);
  return spawnSync(py, args, { encoding: 'utf8', cwd: opts.cwd, timeout: opts.timeout ?? 300_000, env: { ...process.env, ...opts.env } });
}

/** One driver.py question; its JSON answer. */
export function drive<T = Record<string, unknown>>(...args: string[]): T {
  return driveWith<T>({}, ...args);
}

/** {@link drive} with more environment variables. */
export function driveWith<T = Record<string, unknown>>(env: Record<string, string>, ...args: string[]): T {
  const r = python([driverScript, ...args], { env });
  if (r.status !== 0) throw new Error(`driver.py ${args[0]} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

/** The training plan of a model in a file. */
export async function planOf(file: string, model?: string): Promise<TrainingPlan> {
  const text = readFileSync(file, 'utf8');
  const a = analyzeSource(text, await parser());
  const m = model ? a.models.find((x) => x.name === model) : a.models[0];
  if (!m) throw new Error(`no model ${model ?? ''} in ${file}`);
  const r = planTraining(m, text);
  if (!r.plan) throw new Error(`${file}: ${r.problems.map((p) => `${p.line}: ${p.message}`).join('; ')}`);
  return r.plan;
}

/**
 * Weights where every value matters: Keras' initial kernels, and random biases, γ, β and
 * moving statistics (variances in [0.5, 1.5]), so a wrong bias, scale or statistic shows.
 */
export function randomWeights(plan: TrainingPlan, seed: number): Map<string, Float32Array> {
  const state = initialState(plan, seed);
  const rng = new Random(seed + 1);
  const weights = new Map<string, Float32Array>();
  for (const w of planWeights(plan)) {
    const v = state.get(w.name)!;
    const leaf = w.name.slice(w.name.lastIndexOf('/') + 1);
    if (leaf === 'moving_variance') v.forEach((_, i) => (v[i] = 0.5 + rng.next()));
    else if (leaf === 'gamma' || leaf === 'scale') v.forEach((_, i) => (v[i] = 0.5 + rng.next()));
    else if (leaf === 'alpha') v.forEach((_, i) => (v[i] = rng.next() * 0.5));
    else if (!leaf.endsWith('kernel')) v.forEach((_, i) => (v[i] = (rng.next() - 0.5) * 0.4));
    weights.set(w.name, v);
  }
  return weights;
}

/** A checkpoint (format 2) of these weights for the plan, as `convlens train` writes one. */
export function writeCheckpoint(file: string, plan: TrainingPlan, weights: Map<string, Float32Array>, epoch = 1): void {
  const arch = architectureOf(plan);
  const tensors = new Map(planWeights(plan).map((w) => [w.name, { kind: 'weight' as const, shape: w.shape, data: weights.get(w.name)! }]));
  const bytes = encodeCheckpoint({
    header: {
      model: plan.model,
      fingerprint: architectureFingerprint(arch),
      architecture: arch,
      epoch,
      step: 10,
      monitor: 'loss',
      mode: 'min',
      best: 0.5,
      metrics: { loss: 0.5, accuracy: 0.9 },
      optimizer: plan.optimizer,
      seed: 1,
      created: '2026-12-01T00:00:00.000Z',
    },
    tensors,
  });
  writeFileSync(file, bytes);
}

/** float32 values as the little-endian bytes driver.py reads. */
export function writeF32(file: string, values: Float32Array): void {
  writeFileSync(file, Buffer.from(values.buffer, values.byteOffset, values.byteLength));
}

export function readF32(file: string): Float32Array {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/**
 * `count` digit images (28×28×1, ÷255) with labels: real MNIST test images from
 * ../shared/datasets/mnist where present, else ConvLens' synthetic digits.
 */
export async function digitBatch(count: number): Promise<{ x: Float32Array; y: Uint8Array; source: string }> {
  if (existsSync(path.join(mnistFolder, 't10k-images-idx3-ubyte.gz'))) {
    const ds = await loadIdxFolder(mnistFolder);
    const t = ds.test!;
    return { x: t.x.slice(0, count * 784), y: t.y.slice(0, count), source: `the first ${count} MNIST test images` };
  }
  const ds = syntheticDigits({ train: count, test: 1, seed: 3 });
  return { x: ds.train.x.slice(0, count * 784), y: ds.train.y.slice(0, count), source: `${count} synthetic digits (no ../shared/datasets/mnist)` };
}

/** Largest absolute difference. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
