/**
 * Training speed of the compiled graphs on onnxruntime-node: one training step (forward, loss,
 * backward, the file's optimizer update) of the seed MNIST model at batch 128 and the seed
 * CIFAR-10 model at batch 32, at 1 and 2 threads, on random data; then an ORT profile of where
 * a step's time goes, by operator type.
 *
 * GFLOP/s counts 2 FLOPs per multiply-accumulate and a training step as 3 forward passes
 * (forward, input gradient, weight gradient), the usual convention: 6 · MACs · batch per step.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { analyzeSource } from '../../src/core/index';
import { compileTrainGraph, GRAPH_NAMES, initialState, type TrainGraph } from '../../src/core/train/compile';
import { describeOptimizer } from '../../src/core/train/optimizers';
import { planTraining, type TrainingPlan } from '../../src/core/train/plan';
import { Random } from '../../src/core/train/random';
import { createPythonParse } from '../../src/node/pythonParser';
import { sessionOptions } from '../../src/train/trainer';

const fixtures = path.join(__dirname, '..', 'fixtures', 'seeds');

interface Case {
  label: string;
  file: string;
  batch: number;
  steps: number;
}

const CASES: Case[] = [
  { label: 'seed MNIST CNN (001)', file: '001_mnist_cnn.py', batch: 128, steps: 150 },
  { label: 'seed CIFAR-10 CNN (000)', file: '000_cifar10_cnn.py', batch: 32, steps: 150 },
];

async function planOf(c: Case): Promise<TrainingPlan> {
  const text = readFileSync(path.join(fixtures, c.file), 'utf8');
  const model = analyzeSource(text, await createPythonParse()).models[0];
  const r = planTraining(model, text, { batchSize: c.batch });
  if (!r.plan) throw new Error(`${c.file}: ${r.problems.map((p) => p.message).join('; ')}`);
  return r.plan;
}

/** A training loop on random data, carrying the state between steps as the trainer does. */
class Stepper {
  private state: Map<string, Float32Array>;
  private readonly x: ort.Tensor;
  private readonly y: ort.Tensor;
  private readonly lr: ort.Tensor;
  private step = 0;

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly graph: TrainGraph,
    plan: TrainingPlan,
    batch: number,
  ) {
    const rng = new Random(1);
    const per = plan.inputShape.reduce((a, b) => a * b, 1);
    this.x = new ort.Tensor('float32', Float32Array.from({ length: batch * per }, () => rng.next()), [batch, ...plan.inputShape]);
    this.y = new ort.Tensor('int64', BigInt64Array.from({ length: batch }, () => BigInt(rng.int(plan.outputShape[0]))), [batch]);
    this.lr = new ort.Tensor('float32', Float32Array.of(plan.optimizer.learningRate), []);
    this.state = initialState(plan, 1);
  }

  async run(): Promise<void> {
    const feeds: Record<string, ort.Tensor> = { [GRAPH_NAMES.x]: this.x, [GRAPH_NAMES.labels]: this.y, [GRAPH_NAMES.lr]: this.lr };
    this.step++;
    if (this.graph.usesStep) feeds[GRAPH_NAMES.step] = new ort.Tensor('float32', Float32Array.of(this.step), []);
    for (const t of this.graph.carried) feeds[t.name] = new ort.Tensor('float32', this.state.get(t.name)!, t.shape);
    const out = await this.session.run(feeds);
    const next = new Map<string, Float32Array>();
    for (const t of this.graph.carried) next.set(t.name, out[t.next].data as Float32Array);
    this.state = next;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(c: Case, plan: TrainingPlan, graph: TrainGraph, threads: number): Promise<void> {
  const session = await ort.InferenceSession.create(graph.bytes, sessionOptions(threads));
  const stepper = new Stepper(session, graph, plan, c.batch);
  for (let i = 0; i < 15; i++) await stepper.run();
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < c.steps; i++) {
    const s = performance.now();
    await stepper.run();
    times.push(performance.now() - s);
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const med = median(times);
  const min = Math.min(...times);
  const flops = 6 * plan.macs * c.batch;
  console.log(
    `  ${threads} thread${threads === 1 ? ' ' : 's'}: ${med.toFixed(1)} ms/step median (min ${min.toFixed(1)}), ` +
      `${((c.batch * 1000) / med).toFixed(0)} samples/s, ${(1000 / med).toFixed(1)} steps/s, ` +
      `${(c.steps / cpuSeconds).toFixed(1)} steps per CPU-second, ${(flops / (med / 1000) / 1e9).toFixed(2)} GFLOP/s` +
      ` (mean ${((wall * 1000) / c.steps).toFixed(1)} ms/step over ${c.steps})`,
  );
  await session.release();
}

/** Runs a few profiled steps at one thread and prints the time per operator type. */
async function profile(c: Case, plan: TrainingPlan, graph: TrainGraph): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'convlens-profile-'));
  const session = await ort.InferenceSession.create(graph.bytes, { ...sessionOptions(1), enableProfiling: true, profileFilePrefix: path.join(dir, 'train') });
  const stepper = new Stepper(session, graph, plan, c.batch);
  const steps = 40;
  for (let i = 0; i < steps; i++) await stepper.run();
  session.endProfiling();
  await session.release();
  const file = readdirSync(dir).find((f) => f.endsWith('.json'));
  if (!file) {
    console.log('  (onnxruntime wrote no profile)');
    return;
  }
  const events = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
  rmSync(dir, { recursive: true, force: true });
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  const counted = runs.slice(5);
  const runUs = counted.reduce((a, e) => a + e.dur, 0) / Math.max(1, counted.length);
  const byOp = new Map<string, { us: number; nodes: Set<string> }>();
  const kernels = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
  // Skip the warm-up runs' kernels in the same proportion.
  const kernelsPerRun = kernels.length / Math.max(1, runs.length);
  for (const e of kernels.slice(Math.round(5 * kernelsPerRun))) {
    const op = e.args?.op_name ?? '?';
    const entry = byOp.get(op) ?? { us: 0, nodes: new Set<string>() };
    entry.us += e.dur;
    entry.nodes.add(e.name);
    byOp.set(op, entry);
  }
  const perStep = [...byOp].map(([op, v]) => ({ op, ms: v.us / counted.length / 1000, nodes: v.nodes.size })).sort((a, b) => b.ms - a.ms);
  const kernelMs = perStep.reduce((a, r) => a + r.ms, 0);
  console.log(`  profile (1 thread, ${counted.length} steps): ${(runUs / 1000).toFixed(1)} ms per run, ${kernelMs.toFixed(1)} ms in kernels; by operator type:`);
  for (const r of perStep.slice(0, 12)) {
    console.log(`    ${r.op.padEnd(22)} ${r.ms.toFixed(2).padStart(7)} ms  ${((100 * r.ms) / kernelMs).toFixed(1).padStart(5)}%  (${r.nodes} node${r.nodes === 1 ? '' : 's'})`);
  }
  const rest = perStep.slice(12).reduce((a, r) => a + r.ms, 0);
  if (rest > 0) console.log(`    ${'(other)'.padEnd(22)} ${rest.toFixed(2).padStart(7)} ms  ${((100 * rest) / kernelMs).toFixed(1).padStart(5)}%`);
}

/** Prints samples/s, GFLOP/s and a profile for the seed models. */
export async function benchTraining(): Promise<void> {
  console.log('\nTraining step (forward + backward + the file’s optimizer), onnxruntime-node', ort.env.versions?.common ?? '');
  for (const c of CASES) {
    const plan = await planOf(c);
    const graph = compileTrainGraph(plan, { seed: 1 });
    console.log(`${c.label}, batch ${c.batch}, ${describeOptimizer(plan.optimizer)}, ${(plan.macs / 1e6).toFixed(3)} M MACs/sample, ${(graph.bytes.length / 1024).toFixed(0)} KiB graph:`);
    for (const threads of [1, 2]) await measure(c, plan, graph, threads);
    await profile(c, plan, graph);
  }
}
