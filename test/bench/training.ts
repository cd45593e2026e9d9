/**
 * Training speed of the compiled graphs on onnxruntime-node, side by side with PyTorch (Debian's
 * python3-torch) when it is installed: the same architectures, batch, optimizer and thread
 * count, ConvLens and PyTorch steps alternating in rounds within one run, so both see the same
 * machine load; medians and the ratio PyTorch time / ConvLens time (above 1: ConvLens is faster).
 * Then a full real-MNIST epoch of the seed model both ways, the peak memory of training a
 * VGG16-size model (each side in a fresh process), and the onnxruntime profile of a VGG step.
 *
 * Adding a model is one entry in MODELS: a Keras file and its PyTorch twin (test/bench/models/).
 * The models: issue 11's VGG-style CIFAR-10 CNN, a functional ResNet-20, the seed MNIST CNN.
 * GFLOP/s counts 6 · MACs · batch per step (forward, input gradient, weight gradient).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyzeSource } from '../../src/core/index';
import { TrainingEpoch } from '../../src/core/protocol/training';
import { describeOptimizer } from '../../src/core/train/optimizers';
import { planTraining, type TrainingPlan } from '../../src/core/train/plan';
import { createPythonParse } from '../../src/node/pythonParser';
import { BenchStepper, median, profileTraining, stepFlops, trainingSamples } from '../../src/train/bench';
import { loadDataset, type Dataset } from '../../src/train/datasets/index';
import { runTraining } from '../../src/train/trainer';
import { TorchPeer, torchAvailable } from './torchPeer';

const root = path.join(__dirname, '..', '..');
const models = path.join(__dirname, 'models');
const seeds = path.join(root, 'test', 'fixtures', 'seeds');
const mnistFolder = path.join(root, '..', 'shared', 'datasets', 'mnist');

/** A benchmark model: a Keras file, its PyTorch twin, and how to time it. */
interface BenchModel {
  label: string;
  file: string;
  twin: string;
  batch: number;
  threads: number[];
  /** Alternating rounds, and steps per side in each round. */
  rounds: number;
  steps: number;
}

const MODELS: BenchModel[] = [
  { label: 'VGG-style CIFAR-10 CNN', file: path.join(models, 'vgg_cifar.py'), twin: path.join(models, 'vgg_cifar.torch.py'), batch: 64, threads: [1, 2], rounds: 6, steps: 2 },
  { label: 'functional ResNet-20 (BatchNormalization, skip connections)', file: path.join(models, 'resnet20.py'), twin: path.join(models, 'resnet20.torch.py'), batch: 64, threads: [1, 2], rounds: 6, steps: 2 },
  { label: 'seed MNIST CNN (001)', file: path.join(seeds, '001_mnist_cnn.py'), twin: path.join(models, 'mnist_cnn.torch.py'), batch: 128, threads: [1, 2], rounds: 6, steps: 25 },
];

async function planOf(file: string, batch: number, overrides: { epochs?: number } = {}): Promise<TrainingPlan> {
  const text = readFileSync(file, 'utf8');
  const model = analyzeSource(text, await createPythonParse()).models[0];
  const r = planTraining(model, text, { batchSize: batch, ...overrides });
  if (!r.plan) throw new Error(`${file}: ${r.problems.map((p) => p.message).join('; ')}`);
  return r.plan;
}

const load = () => os.loadavg()[0].toFixed(2);
const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));

/** One model at one thread count: ConvLens and (when present) PyTorch, alternating. */
async function sideBySide(m: BenchModel, plan: TrainingPlan, threads: number, torch: boolean): Promise<{ ours: number; theirs?: number }> {
  const ours = await BenchStepper.create(plan, m.batch, { threads });
  const peer = torch ? await TorchPeer.start(m.twin, m.batch, threads) : undefined;
  try {
    await ours.run(2);
    await peer?.steps(2);
    const a: number[] = [];
    const b: number[] = [];
    const loadBefore = load();
    for (let r = 0; r < m.rounds; r++) {
      // Who goes first alternates too, so neither side always follows the other's cache damage.
      if (r % 2 === 0 || !peer) a.push(...(await ours.run(m.steps)));
      if (peer) b.push(...(await peer.steps(m.steps)));
      if (r % 2 === 1 && peer) a.push(...(await ours.run(m.steps)));
    }
    const oursMs = median(a);
    const flops = stepFlops(plan, m.batch);
    let line =
      `  ${threads} thread${threads === 1 ? ': ' : 's:'} ConvLens ${fmt(oursMs)} ms/step (${((m.batch * 1000) / oursMs).toFixed(0)} samples/s, ` +
      `${(flops / oursMs / 1e6).toFixed(0)} GFLOP/s)`;
    let theirs: number | undefined;
    if (peer) {
      theirs = median(b);
      line += ` · PyTorch ${fmt(theirs)} ms/step · ratio ${(theirs / oursMs).toFixed(2)}×`;
    }
    console.log(`${line}  [${a.length}+${b.length} steps, load ${loadBefore}→${load()}]`);
    return { ours: oursMs, theirs };
  } finally {
    peer?.close();
    await ours.release();
  }
}

/**
 * Seconds of the training steps of one real-MNIST epoch through the trainer's own loop (batch
 * feeding, steps, the loss check; validation excluded): samples seen / samples per second.
 */
async function convlensMnistEpoch(plan: TrainingPlan, dataset: Dataset, trainCount: number): Promise<number> {
  let seconds = NaN;
  const done = await runTraining(
    { plan, data: mnistFolder, seed: 1, threads: 1, dataset: { ...dataset, test: undefined } },
    {
      emit: (m) => {
        if (TrainingEpoch.is(m)) seconds = trainCount / m.params.samplesPerSecond;
      },
      cancelled: () => false,
    },
  );
  if (done.reason !== 'completed') throw new Error(`the MNIST epoch ended ${done.reason}: ${done.message ?? ''}`);
  return seconds;
}

async function mnistEpochs(torch: boolean): Promise<void> {
  console.log("\nSeed MNIST CNN, one epoch of real MNIST (the 50,000 training images the file's fit() takes), batch 128, RMSprop, 1 thread:");
  if (!existsSync(mnistFolder)) {
    console.log(`  skipped: no MNIST at ${mnistFolder}`);
    return;
  }
  const plan = await planOf(path.join(seeds, '001_mnist_cnn.py'), 128, { epochs: 1 });
  const dataset = await loadDataset({ kind: 'idx', folder: mnistFolder });
  const trainCount = trainingSamples(plan, 'mnist')!.count;
  const peer = torch ? await TorchPeer.start(path.join(models, 'mnist_cnn.torch.py'), 128, 1) : undefined;
  try {
    const a: number[] = [];
    const b: number[] = [];
    const loadBefore = load();
    await peer?.mnistEpoch(mnistFolder, trainCount); // warm-up and data load
    for (let r = 0; r < 5; r++) {
      a.push(await convlensMnistEpoch(plan, dataset, trainCount));
      if (peer) b.push(await peer.mnistEpoch(mnistFolder, trainCount));
    }
    let line = `  ConvLens ${median(a).toFixed(2)} s (${a.map((s) => s.toFixed(2)).join(', ')})`;
    if (peer) line += ` · PyTorch ${median(b).toFixed(2)} s (${b.map((s) => s.toFixed(2)).join(', ')}) · ratio ${(median(b) / median(a)).toFixed(2)}×`;
    console.log(`${line}  [load ${loadBefore}→${load()}]`);
  } finally {
    peer?.close();
  }
}

/** Peak RSS of `convlens bench` on the VGG16-size model and of PyTorch doing the same, each in a fresh process. */
async function vgg16Memory(torch: boolean): Promise<void> {
  const file = path.join(models, 'vgg16.py');
  console.log('\nVGG16-size model (138 M parameters, 224×224×3, batch 8, Adam, 1 thread), peak resident memory of a fresh process:');
  const cli = path.join(root, 'dist', 'cli.js');
  if (!existsSync(cli) && spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' }).status !== 0) throw new Error('build failed');
  const ours = await new Promise<Record<string, number>>((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'bench', file, '--batch', '8', '--threads', '1', '--steps', '2', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Record<string, number>) : reject(new Error(`convlens bench exited with ${code}`))));
  });
  let line = `  ConvLens ${ours.peak_rss_mb.toFixed(0)} MB (${(ours.ms_per_step / 1000).toFixed(1)} s/step)`;
  if (torch) {
    const peer = await TorchPeer.start(path.join(models, 'vgg16.torch.py'), 8, 1);
    try {
      const ms = median(await peer.steps(3));
      const rss = await peer.peakRssMb();
      line += ` · PyTorch ${rss.toFixed(0)} MB (${(ms / 1000).toFixed(1)} s/step) · ratio ${(ours.peak_rss_mb / rss).toFixed(2)}× PyTorch's memory`;
    } finally {
      peer.close();
    }
  }
  console.log(line);
}

/** Peak memory training the VGG16-size model, ConvLens and PyTorch each in a fresh process. */
export async function benchMemory(): Promise<void> {
  await vgg16Memory('version' in torchAvailable());
}

/** Prints the side-by-side table, the MNIST epoch and a VGG profile. */
export async function benchTraining(): Promise<void> {
  const t = torchAvailable();
  const torch = 'version' in t;
  console.log(`\nTraining steps, onnxruntime-node ${(await import('onnxruntime-node')).env.versions?.common ?? ''} vs ${torch ? `PyTorch ${t.version} (CPU)` : `no PyTorch: ${t.missing}`}`);
  console.log(`${os.cpus()[0]?.model ?? 'CPU'}, ${os.availableParallelism()} CPUs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const m of MODELS) {
    const plan = await planOf(m.file, m.batch);
    console.log(`${m.label}, batch ${m.batch}, ${describeOptimizer(plan.optimizer)}, ${(plan.macs / 1e6).toFixed(1)} M MACs/sample:`);
    const ours: number[] = [];
    for (const threads of m.threads) ours.push((await sideBySide(m, plan, threads, torch)).ours);
    if (ours.length > 1) console.log(`  ${m.threads[1]} threads vs 1: ConvLens ${(ours[0] / ours[1]).toFixed(2)}× faster`);
  }
  await mnistEpochs(torch);
  const vgg = MODELS[0];
  const plan = await planOf(vgg.file, vgg.batch);
  const prof = await profileTraining(plan, { batch: vgg.batch, steps: 3, threads: 1 });
  const kernels = prof.ops.reduce((a, o) => a + o.ms, 0);
  console.log(`\nWhere a ${vgg.label} step goes (onnxruntime profile, 1 thread, batch ${vgg.batch}): ${prof.msPerRun.toFixed(0)} ms per run, ${kernels.toFixed(0)} ms in kernels:`);
  for (const o of prof.ops.slice(0, 12)) console.log(`    ${o.op.padEnd(22)} ${o.ms.toFixed(1).padStart(7)} ms  ${(100 * o.share).toFixed(1).padStart(5)}%  (${o.nodes} node${o.nodes === 1 ? '' : 's'})`);
  const rest = prof.ops.slice(12).reduce((a, o) => a + o.ms, 0);
  if (rest > 0) console.log(`    ${'(other)'.padEnd(22)} ${rest.toFixed(1).padStart(7)} ms  ${((100 * rest) / kernels).toFixed(1).padStart(5)}%`);
}
