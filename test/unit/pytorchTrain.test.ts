// PyTorch models trained by ConvLens' ONNX graphs, checked against real PyTorch (Debian's
// python3-torch, run as /usr/bin/python3 test/pytorch/train_check.py; skipped with a message when
// `import torch` fails): from the same initial weights, batches and dropout masks,
//  - the gradients of every parameter of a model holding every trainable PyTorch layer
//    (test/fixtures/pytorch/train/all_layers.py) equal PyTorch's autograd, and so do those of a
//    model of the tensor code real classifiers use between layers (tensor_ops.py: broadcasting
//    arithmetic, slices with steps, chunk, permute, mean/sum, F.pad, Dropout2d, ceil_mode pooling);
//  - a few steps of SGD (momentum, dampening, Nesterov, weight decay), Adam, AdamW and Adadelta
//    give the same weights and BatchNorm buffers within 1e-5;
//  - ConvLens' initial weights lie within the bounds of PyTorch's default initialisers and fill them.
// And, without PyTorch, the same models' gradients against central differences of their loss.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { compileTrainGraph, GRAPH_NAMES, initialState, type TrainGraph } from '../../src/core/train/compile';
import { defaultOptimizer, type OptimizerConfig } from '../../src/core/train/optimizers';
import { planTraining, planWeights, type TrainingPlan } from '../../src/core/train/plan';
import { Random } from '../../src/core/train/random';
import { analyze, fixturePath, pythonModulesMissing, readFixture } from './helpers';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(__dirname, '..', 'pytorch', 'train_check.py');
const FIXTURE = fixturePath('pytorch', 'train', 'all_layers.py');
const TENSOR_OPS = { path: ['pytorch', 'train', 'tensor_ops.py'], cls: 'TensorOps' };
const torchMissing = pythonModulesMissing('torch', 'the comparisons with PyTorch');

let dir = '';
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'convlens-torch-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The plan of model `cls` of a fixture; `call` is code appended to build and call it (a builder's model). */
async function plan(file = ['pytorch', 'train', 'all_layers.py'], cls = 'AllLayers', call = ''): Promise<TrainingPlan> {
  const text = readFixture(...file) + call;
  const a = await analyze(text);
  const model = a.models.find((m) => m.name === cls)!;
  const r = planTraining(model, text);
  assert.deepEqual(r.problems, []);
  return r.plan!;
}

const N = 6;
function batch(seed: number, p: TrainingPlan): { x: Float32Array; labels: BigInt64Array } {
  const rng = new Random(seed);
  const per = p.inputShape.reduce((a, b) => a * b, 1);
  return { x: Float32Array.from({ length: N * per }, () => rng.normal()), labels: BigInt64Array.from({ length: N }, (_, i) => BigInt(i % p.outputShape[0])) };
}

/** Runs `steps` training steps of the compiled graph; the gradients of the first, every step's masks, the state after. */
async function runConvLens(p: TrainingPlan, steps: number, opts: { graph?: TrainGraph; state?: Map<string, Float32Array>; lr?: number } = {}) {
  const graph = opts.graph ?? compileTrainGraph(p, { seed: 3, exposeGradients: true });
  const session = await ort.InferenceSession.create(graph.bytes, { logSeverityLevel: 3, intraOpNumThreads: 1 });
  const state = new Map(opts.state ?? initialState(p, 11));
  const initial = new Map([...state].map(([k, v]) => [k, Float32Array.from(v)]));
  const maskNames = p.layers.map((l) => graph.masks[`mask:${l.node}`]).filter((m): m is string => !!m);
  const batches: { x: Float32Array; labels: BigInt64Array; masks: { shape: number[]; data: number[] }[] }[] = [];
  let grads: Record<string, Float32Array> = {};
  let loss0 = NaN;
  for (let s = 0; s < steps; s++) {
    const b = batch(100 + s, p);
    const feeds: Record<string, ort.Tensor> = {
      [GRAPH_NAMES.x]: new ort.Tensor('float32', b.x, [N, ...p.inputShape]),
      [GRAPH_NAMES.labels]: new ort.Tensor('int64', b.labels, [N]),
      [GRAPH_NAMES.lr]: new ort.Tensor('float32', Float32Array.of(opts.lr ?? p.optimizer.learningRate), []),
    };
    if (graph.usesStep) feeds[GRAPH_NAMES.step] = new ort.Tensor('float32', Float32Array.of(s + 1), []);
    for (const c of graph.carried) feeds[c.name] = new ort.Tensor('float32', state.get(c.name)!, c.shape);
    const out = await session.run(feeds);
    if (s === 0) {
      loss0 = (out[GRAPH_NAMES.loss].data as Float32Array)[0];
      grads = Object.fromEntries(Object.entries(graph.gradients).map(([w, name]) => [w, Float32Array.from(out[name].data as Float32Array)]));
    }
    batches.push({ ...b, masks: maskNames.map((m) => ({ shape: [...out[m].dims], data: [...(out[m].data as Float32Array)] })) });
    for (const c of graph.carried) if (c.updated) state.set(c.name, Float32Array.from(out[c.next].data as Float32Array));
  }
  return { initial, state, grads, loss0, batches };
}

/** PyTorch's answer for the same start, batches and masks. */
function runTorch(p: TrainingPlan, run: Awaited<ReturnType<typeof runConvLens>>, optimizer: { name: string; kwargs: Record<string, unknown> }, model: { file: string; cls: string; float64?: boolean } = { file: FIXTURE, cls: 'AllLayers' }) {
  const req = {
    float64: model.float64 ?? false,
    file: model.file,
    class: model.cls,
    weights: Object.fromEntries([...run.initial].filter(([k]) => planWeights(p).some((w) => w.name === k)).map(([k, v]) => [k, { shape: planWeights(p).find((w) => w.name === k)!.shape, data: [...v] }])),
    batches: run.batches.map((b) => ({ x: { shape: [N, ...p.inputShape], data: [...b.x] }, labels: [...b.labels].map(Number), masks: b.masks })),
    loss: p.loss,
    optimizer,
  };
  const reqFile = path.join(dir, 'request.json');
  const outFile = path.join(dir, 'answer.json');
  writeFileSync(reqFile, JSON.stringify(req));
  execFileSync(PYTHON, [SCRIPT, reqFile, outFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  return JSON.parse(readFileSync(outFile, 'utf8')) as { loss0: number; grads: Record<string, number[]>; state: Record<string, number[]>; init: Record<string, { kind: string; bound?: number; value?: number; torchMaxAbs: number }>; torch: string };
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('PyTorch training against PyTorch', { skip: torchMissing }, () => {
  /** Every trainable parameter's gradient at the first batch against torch's autograd. */
  async function gradientsMatchTorch(p: TrainingPlan, model: { file: string; cls: string; float64?: boolean } = { file: FIXTURE, cls: 'AllLayers' }): Promise<void> {
    const run = await runConvLens(p, 1);
    const t = runTorch(p, run, { name: 'SGD', kwargs: { lr: 0 } }, model);
    assert.ok(Math.abs(run.loss0 - t.loss0) < 1e-5, `loss ${run.loss0} vs PyTorch ${t.loss0}`);
    const report: string[] = [];
    for (const w of planWeights(p).filter((x) => x.trainable)) {
      const d = maxDiff(run.grads[w.name], t.grads[w.name]);
      const scale = maxAbs(t.grads[w.name]);
      report.push(`${w.name} ${d.toExponential(1)}`);
      assert.ok(d <= 1e-5 + 1e-4 * scale, `${w.name}: largest difference ${d} (largest gradient ${scale})`);
    }
    console.log(`  gradients vs torch ${t.torch}${model.float64 ? ' in float64' : ''} (max |Δ|): ${report.join(', ')}`);
  }

  it("every parameter's gradient of a model with every trainable PyTorch layer equals PyTorch's autograd (same weights, batch, dropout mask)", async () => {
    await gradientsMatchTorch(await plan());
  });

  it("every parameter's gradient of a model of real classifiers' tensor code (broadcasting *, -, /; chunk; slices with steps; permute; mean/sum; F.pad; Dropout2d; ceil_mode and count_include_pad pooling) equals PyTorch's autograd", async () => {
    await gradientsMatchTorch(await plan(TENSOR_OPS.path, TENSOR_OPS.cls), { file: fixturePath(...TENSOR_OPS.path), cls: TENSOR_OPS.cls });
  });

  it("akamaster's CIFAR resnet20 (its option-A shortcut: F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4))): every gradient equals PyTorch's", async () => {
    const file = ['pytorch', 'akamaster', 'resnet.py'];
    const p = await plan(file, 'ResNet', '\nmodel = resnet20()\nout = model(torch.zeros(1, 3, 32, 32))\n');
    assert.ok(p.layers.some((l) => l.className === 'getitem') && p.layers.some((l) => l.className === 'pad'));
    // Against torch in float64: 20 layers deep, float32 rounding alone moves ReLU inputs across 0.
    await gradientsMatchTorch(p, { file: fixturePath(...file), cls: 'resnet20', float64: true });
  });

  it('the pytorch/examples MNIST Net (F.relu, F.max_pool2d, Dropout, torch.flatten, F.log_softmax fused with F.nll_loss): gradients equal PyTorch’s', async () => {
    const p = await plan(['pytorch', 'pytorch_examples', 'mnist_main.py'], 'Net');
    assert.equal(p.loss, 'nll_loss');
    const run = await runConvLens(p, 1);
    const t = runTorch(p, run, { name: 'SGD', kwargs: { lr: 0 } }, { file: fixturePath('pytorch', 'pytorch_examples', 'mnist_main.py'), cls: 'Net' });
    assert.ok(Math.abs(run.loss0 - t.loss0) < 1e-5, `loss ${run.loss0} vs PyTorch ${t.loss0}`);
    for (const w of planWeights(p)) {
      const d = maxDiff(run.grads[w.name], t.grads[w.name]);
      const scale = maxAbs(t.grads[w.name]);
      assert.ok(d <= 1e-6 + 1e-4 * scale, `${w.name}: largest difference ${d} (largest gradient ${scale})`);
    }
  });

  const cases: { label: string; cfg: Partial<OptimizerConfig> & { name: string }; torch: { name: string; kwargs: Record<string, unknown> } }[] = [
    { label: 'SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3) (the file’s)', cfg: { name: 'sgd', learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }, torch: { name: 'SGD', kwargs: { lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 1e-3 } } },
    { label: 'SGD(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01)', cfg: { name: 'sgd', learningRate: 0.05, momentum: 0.8, dampening: 0.3, weightDecay: 0.01 }, torch: { name: 'SGD', kwargs: { lr: 0.05, momentum: 0.8, dampening: 0.3, weight_decay: 0.01 } } },
    { label: 'Adam(lr=0.01, weight_decay=1e-3)', cfg: { name: 'adam', learningRate: 0.01, weightDecay: 1e-3 }, torch: { name: 'Adam', kwargs: { lr: 0.01, weight_decay: 1e-3 } } },
    { label: 'AdamW(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)', cfg: { name: 'adamw', learningRate: 0.01, beta1: 0.8, beta2: 0.99, weightDecay: 0.1 }, torch: { name: 'AdamW', kwargs: { lr: 0.01, betas: [0.8, 0.99], weight_decay: 0.1 } } },
    { label: 'Adadelta(lr=1.0)', cfg: { name: 'adadelta', learningRate: 1.0 }, torch: { name: 'Adadelta', kwargs: { lr: 1.0 } } },
    { label: 'RMSprop() (PyTorch’s defaults: lr=0.01, alpha=0.99, eps=1e-8)', cfg: { name: 'rmsprop' }, torch: { name: 'RMSprop', kwargs: {} } },
    { label: 'RMSprop(lr=0.005, alpha=0.9, momentum=0.8, centered=True, weight_decay=1e-3)', cfg: { name: 'rmsprop', learningRate: 0.005, rho: 0.9, momentum: 0.8, centered: true, weightDecay: 1e-3 }, torch: { name: 'RMSprop', kwargs: { lr: 0.005, alpha: 0.9, momentum: 0.8, centered: true, weight_decay: 1e-3 } } },
    { label: 'Adagrad() (PyTorch’s defaults: lr=0.01, eps=1e-10)', cfg: { name: 'adagrad' }, torch: { name: 'Adagrad', kwargs: {} } },
    { label: 'Adagrad(lr=0.05, lr_decay=0.1, initial_accumulator_value=0.2, weight_decay=0.01)', cfg: { name: 'adagrad', learningRate: 0.05, lrDecay: 0.1, initialAccumulator: 0.2, weightDecay: 0.01 }, torch: { name: 'Adagrad', kwargs: { lr: 0.05, lr_decay: 0.1, initial_accumulator_value: 0.2, weight_decay: 0.01 } } },
  ];
  for (const c of cases) {
    it(`4 steps of ${c.label}: the same weights and BatchNorm buffers as torch.optim within 1e-5`, async () => {
      const base = await plan();
      const p: TrainingPlan = { ...base, optimizer: { ...defaultOptimizer(c.cfg.name, 'pytorch'), ...c.cfg } };
      const run = await runConvLens(p, 4);
      const t = runTorch(p, run, c.torch);
      let worst = 0;
      for (const w of planWeights(p)) {
        const d = maxDiff(run.state.get(w.name)!, t.state[w.name]);
        worst = Math.max(worst, d);
        assert.ok(d <= 1e-5, `${w.name}: largest difference ${d} after 4 steps`);
      }
      console.log(`  ${c.label}: 4 steps, largest |Δweight| vs torch.optim ${worst.toExponential(2)}`);
    });
  }

  it("initial weights: within PyTorch's default bounds (kaiming_uniform a=√5, U(±1/√fan_in) biases, BatchNorm 1 and 0) and filling them", async () => {
    const p = await plan();
    const run = await runConvLens(p, 1);
    const t = runTorch(p, run, { name: 'SGD', kwargs: { lr: 0 } });
    for (const [name, b] of Object.entries(t.init)) {
      const ours = run.initial.get(name)!;
      assert.ok(ours, `no initial value for ${name}`);
      if (b.kind === 'constant') {
        assert.ok(ours.every((v) => v === b.value), `${name} should be all ${b.value}`);
        continue;
      }
      const bound = b.bound!;
      const max = maxAbs(ours);
      assert.ok(max <= bound * (1 + 1e-6), `${name}: |value| ${max} beyond the bound ${bound}`);
      // PyTorch's own draws come close to the same bound (so the bound is what PyTorch does).
      assert.ok(b.torchMaxAbs <= bound * (1 + 1e-6) && b.torchMaxAbs > 0.7 * bound, `${name}: PyTorch drew up to ${b.torchMaxAbs}, bound ${bound}`);
      if (ours.length >= 20) assert.ok(max > 0.7 * bound, `${name}: largest |value| ${max} does not fill the bound ${bound}`);
    }
  });
});

describe('PyTorch training graphs against central differences', () => {
  /** Two entries of each parameter's gradient against central differences of the loss (fresh sessions, so the same dropout mask). */
  async function gradientsMatchDifferences(p: TrainingPlan): Promise<void> {
    const graph = compileTrainGraph({ ...p, optimizer: { ...defaultOptimizer('sgd', 'pytorch'), learningRate: 0 } }, { seed: 3, exposeGradients: true });
    const state = initialState(p, 11);
    const run = await runConvLens(p, 1, { graph, state, lr: 0 });
    const lossAt = async (name: string, i: number, delta: number): Promise<number> => {
      const s = new Map(state);
      const v = Float32Array.from(s.get(name)!);
      v[i] += delta;
      s.set(name, v);
      return (await runConvLens(p, 1, { graph, state: s, lr: 0 })).loss0;
    };
    const rng = new Random(5);
    const h = 2e-3;
    let checked = 0;
    for (const w of planWeights(p).filter((x) => x.trainable)) {
      const size = w.shape.reduce((a, b) => a * b, 1);
      for (let k = 0; k < 2; k++) {
        const i = Math.floor(rng.next() * size);
        const fd = ((await lossAt(w.name, i, h)) - (await lossAt(w.name, i, -h))) / (2 * h);
        const g = run.grads[w.name][i];
        assert.ok(Math.abs(fd - g) <= 2e-3 + 0.03 * Math.abs(g), `${w.name}[${i}]: gradient ${g}, central difference ${fd}`);
        checked++;
      }
    }
    console.log(`  ${checked} gradient entries of ${planWeights(p).filter((x) => x.trainable).length} parameters checked against central differences (h = ${h})`);
  }

  it("the model with every trainable PyTorch layer: each parameter's gradient against central differences of the loss (fresh sessions, so the same dropout mask)", async () => {
    await gradientsMatchDifferences(await plan());
  });

  it("the model of real classifiers' tensor code: each parameter's gradient against central differences of the loss", async () => {
    await gradientsMatchDifferences(await plan(TENSOR_OPS.path, TENSOR_OPS.cls));
  });
});
