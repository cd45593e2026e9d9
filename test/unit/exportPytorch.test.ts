/**
 * `convlens export --to pytorch`: the generator (structure, refusals, names), the command line
 * (targets, output paths), and — with a Python that imports torch — the exported module against
 * ConvLens itself: the same parameter count, the same outputs as the ONNX inference graph within
 * 1e-4, the same gradients and optimizer step as the ONNX training graph, the same data and
 * selection as ConvLens' readers, ConvLens checkpoints read (with their checks) and written, and
 * the script run as one process and as two under torchrun (gloo, CPU). Tests that need torch
 * skip with the reason where it is absent.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { PNG } from 'pngjs';
import { exportPytorch } from '../../src/core/export/pytorch';
import { TORCH_LAYERS } from '../../src/core/export/pytorchLayers';
import { NameAllocator } from '../../src/core/export/python';
import { LAYERS } from '../../src/core/layers/index';
import { selectRows } from '../../src/core/parse/dataOrigin';
import { compileInferenceGraph, compileTrainGraph, initialState } from '../../src/core/train/compile';
import { decodeCheckpoint } from '../../src/core/train/checkpoint';
import { FitCallbacks, scheduleRate, type CallbackPlan, type SchedulePlan } from '../../src/core/train/fitOptions';
import { planWeights, type TrainingPlan } from '../../src/core/train/plan';
import { hashSeed, loadDataset, permutation, syntheticDigits, type Dataset, type DatasetSpec } from '../../src/train/datasets/index';
import { fixturePath } from './helpers';
import {
  anyPython,
  convlens,
  digitBatch,
  drive,
  driveWith,
  exportScript,
  maxDiff,
  planOf,
  python,
  randomWeights,
  readF32,
  root,
  tmp,
  torchPython,
  writeCheckpoint,
  writeF32,
} from './torchExport';

const seedFile = fixturePath('seeds', '001_mnist_cnn.py');
const residualFile = fixturePath('graphs', 'residual_digits.py');
const everyFile = fixturePath('export', 'every_layer.py');
const EVERY = ['images', 'sequences', 'volumes'];
const sharedNestedFile = fixturePath('export', 'shared_nested.py');
/** Every model the module tests run: the seed, the residual network, a shared layer and a nested model, every layer family. */
const ALL: [string, string | undefined][] = [[seedFile, undefined], [residualFile, undefined], [sharedNestedFile, 'shared_nested'], ...EVERY.map((m): [string, string] => [everyFile, m])];

const torch = torchPython();
const noTorch = torch.python ? false : `skipped: ${torch.why}`;
const dir = tmp();
after(() => rmSync(dir, { recursive: true, force: true }));

before(() => {
  if (!existsSync(path.join(root, 'dist', 'cli.js'))) {
    const b = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
  }
});

/** The exported text of a plan (no file written). */
function exported(plan: TrainingPlan) {
  const r = exportPytorch(plan, { source: 'model.py', line: 1 });
  assert.ok(r.ok, r.ok ? '' : r.problems.map((p) => `${p.line}: ${p.message}`).join('\n'));
  return r.export;
}

describe('PyTorch export: the generator', () => {
  it('every Keras layer ConvLens trains has PyTorch code (or a refusal in words) in the one table', () => {
    const missing = LAYERS.filter((d) => (d.framework ?? 'keras') === 'keras' && d.declares.train && !TORCH_LAYERS[d.name]).map((d) => d.name);
    assert.deepEqual(missing, []);
  });

  it('the every-layer models, the seed and the residual network export; each Keras weight has exactly one place in the state', async () => {
    for (const [file, model] of ALL) {
      const plan = await planOf(file, model);
      const e = exported(plan);
      assert.deepEqual(e.weights.map((w) => w.keras), planWeights(plan).map((w) => w.name), `${model ?? file}: weights in plan order`);
      assert.equal(new Set(e.weights.map((w) => w.torch)).size, e.weights.length, `${model ?? file}: two weights share a state key`);
    }
  });

  it("'same' padding: symmetric in the module, uneven as F.pad before it (Keras pads the extra row at the end)", async () => {
    const text = exported(await planOf(residualFile)).text;
    // 28×28, stride 2, 3×3: Keras pads 0 before and 1 after.
    assert.match(text, /self\.conv2d = nn\.Conv2d\(1, 16, kernel_size=3, stride=2\)/);
    assert.match(text, /self\.conv2d\(F\.pad\(x, \(0, 1, 0, 1\)\)\)/);
    // 14×14, stride 1, 3×3: one on each side.
    assert.match(text, /self\.conv2d_1 = nn\.Conv2d\(16, 16, kernel_size=3, padding=1, bias=False\)/);
    // Keras momentum 0.99 is PyTorch's 0.01; epsilon 1e-3 kept.
    assert.match(text, /BatchNorm\(16, eps=0\.001, momentum=0\.01\)/);
  });

  it("Flatten in Keras' order: channels-first tensors are moved to channels last first", async () => {
    const text = exported(await planOf(seedFile)).text;
    assert.match(text, /torch\.flatten\(x\.permute\(0, 2, 3, 1\), 1\)/);
  });

  it('a layer with no faithful PyTorch equivalent is refused at its line and column, by name, and nothing is written', async () => {
    const file = path.join(dir, 'augmented.py');
    writeFileSync(
      file,
      [
        'import keras',
        'from keras import layers',
        'model = keras.Sequential([',
        '    keras.Input(shape=(28, 28, 1)),',
        '    layers.RandomRotation(0.1),',
        '    layers.Flatten(),',
        '    layers.Dense(10, activation="softmax"),',
        '])',
        'model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")',
        '',
      ].join('\n'),
    );
    const r = exportPytorch(await planOf(file), { source: 'augmented.py' });
    assert.equal(r.ok, false);
    const problems = r.ok ? [] : r.problems;
    assert.equal(problems.length, 1);
    assert.deepEqual([problems[0].line, problems[0].column], [5, 5]);
    assert.match(problems[0].message, /^RandomRotation 'random_rotation': PyTorch has no faithful equivalent of Keras' random rotations/);
    const c = convlens(dir, 'export', file, '--to', 'pytorch', '--out', 'aug.py');
    assert.equal(c.code, 1, c.err);
    assert.match(c.err, /augmented\.py:5:5: error: RandomRotation 'random_rotation': PyTorch has no faithful equivalent/);
    assert.equal(existsSync(path.join(dir, 'aug.py')), false);
  });

  it('layers named like nn.Module methods or Python keywords get attributes that shadow nothing', async () => {
    const names = new NameAllocator(new Set(['train', 'float']));
    assert.deepEqual(['train', 'float', 'class', 'dense_1[1]', '2d', 'dense_1[1]'].map((n) => names.allocate(n)), ['train_', 'float_', 'class_', 'dense_1_1', 'layer_2d', 'dense_1_1_2']);
    const file = path.join(dir, 'names.py');
    writeFileSync(
      file,
      [
        'import keras',
        'from keras import layers',
        'model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(8, name="train"), layers.Dense(8, name="float"), layers.Dense(3, activation="softmax", name="eval")])',
        'model.compile(optimizer="sgd", loss="categorical_crossentropy")',
        '',
      ].join('\n'),
    );
    const text = exported(await planOf(file)).text;
    assert.match(text, /self\.train_ = nn\.Linear\(4, 8\)/);
    assert.match(text, /self\.float_ = nn\.Linear\(8, 8\)/);
    assert.match(text, /self\.eval_ = nn\.Linear\(8, 3\)/);
    assert.doesNotMatch(text, /self\.(train|float|eval) =/);
  });

  it("the file is laid out as PEP 8 asks: two blank lines around every top-level definition", async () => {
    const lines = exported(await planOf(everyFile, 'images')).text.split('\n');
    let checked = 0;
    lines.forEach((l, i) => {
      if (!/^(class|def) /.test(l) || lines[i - 1]?.startsWith('@')) return;
      let j = i - 1;
      while (lines[j]?.startsWith('@') || lines[j]?.startsWith('#')) j--;
      assert.deepEqual([lines[j], lines[j - 1], lines[j - 2] === ''], ['', '', false], `line ${i + 1}: ${l}`);
      checked++;
    });
    assert.ok(checked > 40, `${checked} definitions`);
  });

  it('the exported files are valid Python', { skip: anyPython() ? false : 'skipped: no python3' }, async () => {
    const files: string[] = [];
    for (const [file, model] of [[seedFile], [residualFile], ...EVERY.map((m) => [everyFile, m])] as [string, string?][]) {
      const out = path.join(dir, `syntax_${model ?? path.basename(file, '.py')}.py`);
      writeFileSync(out, exported(await planOf(file, model)).text);
      files.push(out);
    }
    const r = spawnSync(anyPython()!, ['-c', 'import ast, sys\nfor f in sys.argv[1:]: ast.parse(open(f, encoding="utf-8").read(), f)', ...files], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
});

describe('PyTorch export: the command line', () => {
  it("--to names a target: onnx or pytorch (exit 2 otherwise)", () => {
    const r = convlens(dir, 'export', seedFile, '--to', 'keras', '--out', 'x.py');
    assert.equal(r.code, 2);
    assert.match(r.err, /--to must be onnx or pytorch, got 'keras'/);
  });

  it('--out must be a .py file, and is never replaced without --force', () => {
    const w = tmp();
    let r = convlens(w, 'export', seedFile, '--to', 'pytorch');
    assert.equal(r.code, 2);
    assert.match(r.err, /needs --out FILE\.py/);
    r = convlens(w, 'export', seedFile, '--to', 'pytorch', '--out', 'model.txt');
    assert.equal(r.code, 2);
    assert.match(r.err, /must end in \.py/);
    r = convlens(w, 'export', seedFile, '--to', 'pytorch', '--out', 'train_model.py');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Wrote train_model\.py: sequential as a PyTorch Model\(\) \(38,390 parameters\), rmsprop, categorical_crossentropy, batch size 128, 50 epochs\./);
    const first = readFileSync(path.join(w, 'train_model.py'), 'utf8');
    writeFileSync(path.join(w, 'mine.py'), 'print("my own file")\n');
    r = convlens(w, 'export', seedFile, '--to', 'pytorch', '--out', 'mine.py');
    assert.equal(r.code, 2);
    assert.match(r.err, /mine\.py already exists \(and was not written by ConvLens\); pass --force/);
    assert.equal(readFileSync(path.join(w, 'mine.py'), 'utf8'), 'print("my own file")\n');
    r = convlens(w, 'export', seedFile, '--to', 'pytorch', '--out', 'train_model.py');
    assert.match(r.err, /train_model\.py already exists \(from an earlier export\)/);
    r = convlens(w, 'export', seedFile, '--to', 'pytorch', '--out', 'train_model.py', '--force');
    assert.equal(r.code, 0, r.err);
    assert.equal(readFileSync(path.join(w, 'train_model.py'), 'utf8').replace(/on \d{4}-\d\d-\d\d/, ''), first.replace(/on \d{4}-\d\d-\d\d/, ''));
    mkdirSync(path.join(w, 'folder.py'));
    r = convlens(w, 'export', seedFile, '--to', 'pytorch', '--out', 'folder.py', '--force');
    assert.equal(r.code, 6);
    assert.match(r.err, /refusing to replace .*folder\.py: it is a folder/);
    symlinkSync(path.join(w, 'mine.py'), path.join(w, 'link.py'));
    r = convlens(w, 'export', seedFile, '--to', 'pytorch', '--out', 'link.py', '--force');
    assert.equal(r.code, 6);
    assert.match(r.err, /it is a symbolic link/);
    assert.equal(readFileSync(path.join(w, 'mine.py'), 'utf8'), 'print("my own file")\n');
    r = convlens(w, 'export', seedFile, '--to', 'pytorch', '--out', path.join('nowhere', 'x.py'));
    assert.equal(r.code, 2);
    assert.match(r.err, /folder .*nowhere does not exist/);
  });

  it('--weights must belong to the model (exit 5, naming what differs); the model file itself is never the output', async () => {
    const w = tmp();
    copyFileSync(seedFile, path.join(w, 'seed.py'));
    const residual = await planOf(residualFile);
    writeCheckpoint(path.join(w, 'residual.ckpt'), residual, randomWeights(residual, 1));
    let r = convlens(w, 'export', 'seed.py', '--to', 'pytorch', '--out', 'x.py', '--weights', 'residual.ckpt');
    assert.equal(r.code, 5);
    assert.match(r.err, /residual\.ckpt does not belong to 'sequential' in seed\.py/);
    r = convlens(w, 'export', 'seed.py', '--to', 'pytorch', '--out', 'seed.py', '--force');
    assert.equal(r.code, 2);
    assert.match(r.err, /--out seed\.py is the model file/);
    r = convlens(w, 'export', 'seed.py', '--to', 'pytorch', '--out', 'x.py', '--weights', 'missing.ckpt');
    assert.equal(r.code, 5);
    assert.match(r.err, /missing\.ckpt: no such checkpoint file or run folder/);
  });
});

// ---------------------------------------------------------------------------------------------
// With torch

const label = (file: string, model?: string) => model ?? path.basename(file, '.py');

describe('PyTorch export: the module in torch', { skip: noTorch }, () => {
  it("has exactly ConvLens' parameter count: seed MNIST 38,390; residual network; every layer family", async (t) => {
    for (const [file, model] of ALL) {
      const plan = await planOf(file, model);
      const script = exportScript(dir, file, { model, name: `params_${label(file, model)}.py` });
      const p = drive<{ parameters: number; trainable: number; state: number; stateKeys: string[]; mappedKeys: string[]; shapesAgree: boolean; roundTrip: boolean }>('params', script);
      const total = planWeights(plan).reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
      const trainable = planWeights(plan).filter((w) => w.trainable).reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
      t.diagnostic(`${label(file, model)}: ${p.parameters} parameters (${p.trainable} trainable), ${p.state} values in state_dict; ConvLens: ${total} (${trainable} trainable)`);
      assert.equal(p.trainable, trainable, `${label(file, model)}: trainable`);
      assert.equal(p.parameters, trainable, `${label(file, model)}: nn.Parameters are the trainable weights`);
      assert.equal(p.state, total, `${label(file, model)}: parameters + BatchNormalization statistics`);
      assert.deepEqual(p.stateKeys, p.mappedKeys, `${label(file, model)}: every state entry is a Keras weight`);
      assert.ok(p.shapesAgree, `${label(file, model)}: converted shapes`);
      assert.ok(p.roundTrip, `${label(file, model)}: Keras → PyTorch → Keras layouts`);
    }
    assert.equal(drive<{ parameters: number }>('params', exportScript(dir, seedFile, { name: 'seed_count.py' })).parameters, 38390);
  });

  it("with --weights, computes the ONNX inference graph's outputs within 1e-4 (BatchNormalization in inference mode)", async (t) => {
    const digits = await digitBatch(64);
    for (const [file, model] of ALL) {
      const plan = await planOf(file, model);
      const weights = randomWeights(plan, 11);
      const ckpt = path.join(dir, `fw_${label(file, model)}.ckpt`);
      writeCheckpoint(ckpt, plan, weights);
      const per = plan.inputShape.reduce((a, b) => a * b, 1);
      const n = 64;
      let x: Float32Array;
      let what: string;
      if (per === 784) {
        x = digits.x;
        what = digits.source;
      } else {
        x = Float32Array.from({ length: n * per }, (_, i) => ((hashSeed(i, 5) % 1000) / 1000) * (model === 'images' ? 255 : 1));
        what = `${n} random inputs`;
      }
      const session = await ort.InferenceSession.create(compileInferenceGraph(plan, weights));
      const expected = (await session.run({ input: new ort.Tensor('float32', x, [n, ...plan.inputShape]) })).output.data as Float32Array;
      await session.release();
      const script = exportScript(dir, file, { model, name: `fw_${label(file, model)}.py`, weights: ckpt });
      writeF32(path.join(dir, 'in.f32'), x);
      drive('forward', script, ckpt, path.join(dir, 'in.f32'), path.join(dir, 'out.f32'));
      const got = readF32(path.join(dir, 'out.f32'));
      const d = maxDiff(got, expected);
      t.diagnostic(`${label(file, model)}: largest difference ${d.toExponential(2)} over ${expected.length} outputs (${what})`);
      assert.ok(d < 1e-4, `${label(file, model)}: outputs differ by ${d}`);
    }
  });

  // The residual network takes a batch of 8: with 32, a few of its pre-ReLU values lie within
  // 1e-5 of zero, and float32 rounding flips their ReLU in one implementation and not in the
  // other (torch in float32 against torch in float64 shows the same flips), which moves a few
  // gradients by percents. The comparison is of the computation, not of rounding at a kink.
  it("one training step equals ConvLens': the same gradients, optimizer update (RMSprop, Adam) and moving statistics; losses with from_logits and label_smoothing", async (t) => {
    // The TensorFlow CNN tutorial's head (Dense(10) logits, SparseCategoricalCrossentropy(from_logits=True)),
    // and a softmax head with CategoricalCrossentropy(label_smoothing=0.1), on digits.
    const lossFile = (name: string, head: string, loss: string) => {
      const f = path.join(dir, `${name}.py`);
      writeFileSync(f, `import keras\nfrom keras import layers\nmodel = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(), ${head}])\nmodel.compile(optimizer="adam", loss=${loss})\n`);
      return f;
    };
    const logitsFile = lossFile('from_logits', 'layers.Dense(10)', 'keras.losses.SparseCategoricalCrossentropy(from_logits=True)');
    const smoothedFile = lossFile('smoothed', 'layers.Dense(10, activation="softmax")', 'keras.losses.CategoricalCrossentropy(label_smoothing=0.1)');
    for (const [file, n] of [[seedFile, 32], [residualFile, 8], [logitsFile, 16], [smoothedFile, 16]] as const) {
      const digits = await digitBatch(n);
      const plan = await planOf(file);
      const weights = randomWeights(plan, 5);
      const ckpt = path.join(dir, `step_${label(file)}.ckpt`);
      writeCheckpoint(ckpt, plan, weights);
      const labels = BigInt64Array.from(digits.y, (v) => BigInt(v));
      const graph = compileTrainGraph(plan, { seed: 1, exposeGradients: true });
      const session = await ort.InferenceSession.create(graph.bytes);
      const state = initialState(plan, 1);
      for (const [k, v] of weights) state.set(k, v);
      const feeds: Record<string, ort.Tensor> = {
        x: new ort.Tensor('float32', digits.x, [n, ...plan.inputShape]),
        labels: new ort.Tensor('int64', labels, [n]),
        lr: new ort.Tensor('float32', Float32Array.of(plan.optimizer.learningRate), []),
      };
      if (graph.usesStep) feeds.t = new ort.Tensor('float32', Float32Array.of(1), []);
      for (const c of graph.carried) feeds[c.name] = new ort.Tensor('float32', state.get(c.name)!, c.shape);
      const out = await session.run(feeds);
      await session.release();
      const work = tmp();
      writeF32(path.join(work, 'x.f32'), digits.x);
      writeFileSync(path.join(work, 'y.i64'), Buffer.from(labels.buffer));
      const script = exportScript(dir, file, { name: `step_${label(file)}.py` });
      const r = drive<{ loss: number }>('step', script, ckpt, path.join(work, 'x.f32'), path.join(work, 'y.i64'), work);
      assert.ok(Math.abs(r.loss - (out.loss.data as Float32Array)[0]) < 1e-5, `${label(file)}: loss ${r.loss} vs ${(out.loss.data as Float32Array)[0]}`);
      const grads = decodeCheckpoint(readFileSync(path.join(work, 'grads.ckpt'))).tensors;
      const next = decodeCheckpoint(readFileSync(path.join(work, 'weights.ckpt'))).tensors;
      let worstGrad = 0;
      let worstStep = 0;
      for (const w of planWeights(plan)) {
        const mine = next.get(w.name)!.data;
        const theirs = out[`${w.name}:next`].data as Float32Array;
        if (!w.trainable) {
          assert.ok(maxDiff(mine, theirs) < 1e-5, `${label(file)}: moving statistic ${w.name}`);
          continue;
        }
        const g = out[graph.gradients[w.name]].data as Float32Array;
        const scale = Math.max(...Array.from(g, Math.abs), 1e-12);
        worstGrad = Math.max(worstGrad, maxDiff(grads.get(w.name)!.data, g) / scale);
        // The update, relative to the learning rate (Adam's and RMSprop's first steps are ~lr per weight).
        const before = weights.get(w.name)!;
        const step = (v: ArrayLike<number>) => Array.from(v, (x, i) => x - before[i]);
        worstStep = Math.max(worstStep, maxDiff(step(mine), step(theirs)) / plan.optimizer.learningRate);
      }
      t.diagnostic(`${label(file)} (${plan.optimizer.name}, batch of ${n}): gradients differ by ≤ ${worstGrad.toExponential(2)} of each weight's largest, updates by ≤ ${worstStep.toExponential(2)} × lr`);
      assert.ok(worstGrad < 1e-4, `${label(file)}: gradients differ by ${worstGrad}`);
      // Adam's first step divides by √v + ε ≈ 0.03·|g| + 1e-7: for a weight whose gradient is near 0,
      // a gradient difference of 1e-8 moves the update by 1e-2·lr.
      assert.ok(worstStep < 5e-2, `${label(file)}: updates differ by ${worstStep} × lr`);
    }
  });

  it("every optimizer ConvLens trains with, two steps: SGD (momentum, Nesterov), RMSprop (plain, centered, momentum), Adam, AdamW, Adagrad, Adamax, Nadam, each with weight decay too", async (t) => {
    const digits = await digitBatch(16);
    const labels = BigInt64Array.from(digits.y, (v) => BigInt(v));
    for (const optimizer of [
      'keras.optimizers.SGD(0.05)',
      'keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True, weight_decay=0.01)',
      'keras.optimizers.SGD(0.05, momentum=0.8)',
      'keras.optimizers.RMSprop(0.001, rho=0.8, momentum=0.5, centered=True)',
      'keras.optimizers.Adam(0.002, beta_1=0.8, beta_2=0.99, epsilon=1e-6)',
      'keras.optimizers.AdamW(0.001)',
      'keras.optimizers.Adagrad(0.01, initial_accumulator_value=0.2)',
      // Keras' weight_decay is one rule for every optimizer (w -= lr * decay * w before the update);
      // the script applies it in each class, so each class is checked with it.
      'keras.optimizers.RMSprop(0.002, weight_decay=0.05)',
      'keras.optimizers.Adam(0.002, weight_decay=0.05)',
      'keras.optimizers.AdamW(0.002, weight_decay=0.2, epsilon=1e-5)',
      'keras.optimizers.Adagrad(0.02, weight_decay=0.05)',
      'keras.optimizers.Adamax(0.002, beta_1=0.8)',
      'keras.optimizers.Nadam(0.002, weight_decay=0.05)',
    ]) {
      const w = tmp();
      const file = path.join(w, 'opt.py');
      writeFileSync(
        file,
        `import keras\nfrom keras import layers\nmodel = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Conv2D(4, 3, activation="tanh"), layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(10, activation="softmax")])\nmodel.compile(optimizer=${optimizer}, loss="sparse_categorical_crossentropy")\n`,
      );
      const plan = await planOf(file);
      const weights = randomWeights(plan, 3);
      writeCheckpoint(path.join(w, 'start.ckpt'), plan, weights);
      const graph = compileTrainGraph(plan, { seed: 1 });
      const session = await ort.InferenceSession.create(graph.bytes);
      let state = initialState(plan, 1);
      for (const [k, v] of weights) state.set(k, v);
      for (let step = 1; step <= 2; step++) {
        const feeds: Record<string, ort.Tensor> = {
          x: new ort.Tensor('float32', digits.x, [16, 28, 28, 1]),
          labels: new ort.Tensor('int64', labels, [16]),
          lr: new ort.Tensor('float32', Float32Array.of(plan.optimizer.learningRate), []),
        };
        if (graph.usesStep) feeds.t = new ort.Tensor('float32', Float32Array.of(step), []);
        for (const c of graph.carried) feeds[c.name] = new ort.Tensor('float32', state.get(c.name)!, c.shape);
        const out = await session.run(feeds);
        state = new Map(graph.carried.map((c) => [c.name, out[c.next].data as Float32Array]));
      }
      await session.release();
      writeF32(path.join(w, 'x.f32'), digits.x);
      writeFileSync(path.join(w, 'y.i64'), Buffer.from(labels.buffer));
      drive('step', exportScript(w, file), path.join(w, 'start.ckpt'), path.join(w, 'x.f32'), path.join(w, 'y.i64'), w, '2');
      const next = decodeCheckpoint(readFileSync(path.join(w, 'weights.ckpt'))).tensors;
      let worst = 0;
      for (const pw of planWeights(plan)) {
        const before = weights.get(pw.name)!;
        const moved = (v: ArrayLike<number>) => Array.from(v, (x, i) => x - before[i]);
        const theirs = moved(state.get(pw.name)!);
        const scale = Math.max(...theirs.map(Math.abs), 1e-12);
        worst = Math.max(worst, maxDiff(moved(next.get(pw.name)!.data), theirs) / scale);
      }
      t.diagnostic(`${optimizer}: after two steps the weights moved the same within ${worst.toExponential(2)} of the largest move`);
      assert.ok(worst < 1e-3, `${optimizer}: ${worst}`);
    }
  });

  it("fit()'s learning-rate schedules and callbacks decide as ConvLens' (EarlyStopping, ReduceLROnPlateau, LearningRateScheduler)", async () => {
    const schedules = [
      { kind: 'ExponentialDecay', initial: 0.1, decaySteps: 7, decayRate: 0.5, staircase: false },
      { kind: 'ExponentialDecay', initial: 0.1, decaySteps: 7, decayRate: 0.5, staircase: true },
      { kind: 'InverseTimeDecay', initial: 0.1, decaySteps: 5, decayRate: 0.3, staircase: true },
      { kind: 'CosineDecay', initial: 0.1, decaySteps: 20, alpha: 0.1, warmupTarget: null, warmupSteps: 0 },
      { kind: 'CosineDecay', initial: 0.0, decaySteps: 20, alpha: 0, warmupTarget: 0.2, warmupSteps: 5 },
      { kind: 'PiecewiseConstantDecay', boundaries: [3, 10], values: [0.3, 0.2, 0.1] },
      { kind: 'PolynomialDecay', initial: 0.1, decaySteps: 8, end: 0.001, power: 2, cycle: false },
      { kind: 'PolynomialDecay', initial: 0.1, decaySteps: 8, end: 0.001, power: 1, cycle: true },
    ] as const;
    const steps = Array.from({ length: 30 }, (_, i) => i);
    const callbacks: CallbackPlan[] = [
      { kind: 'ReduceLROnPlateau', monitor: 'val_loss', mode: 'min', factor: 0.5, patience: 1, minDelta: 0.01, cooldown: 1, minLr: 0.0002, line: 9 },
      { kind: 'EarlyStopping', monitor: 'val_accuracy', mode: 'max', minDelta: 0, patience: 2, baseline: null, restoreBestWeights: true, startFromEpoch: 1, line: 10 },
      { kind: 'LearningRateScheduler', values: [0.01, 0.008, 0.004], line: 11 },
    ];
    const valLoss = [1.0, 0.8, 0.79, 0.795, 0.7, 0.71, 0.72, 0.73, 0.74];
    const valAccuracy = [0.5, 0.6, 0.61, 0.6, 0.65, 0.64, 0.63, 0.62, 0.6];
    const logs = valLoss.map((v, i) => ({ loss: v + 0.1, accuracy: valAccuracy[i] - 0.05, val_loss: v, val_accuracy: valAccuracy[i] }));
    const script = exportScript(dir, seedFile, { name: 'fit.py' });
    const got = drive<{ rates: number[][]; decisions: { stop: boolean; learningRate: number; keepWeights: boolean; messages: string[] }[] }>(
      'fit',
      script,
      JSON.stringify({ schedules, steps, callbacks, logs, learningRate: 0.01 }),
    );
    schedules.forEach((sch, k) => steps.forEach((st, i) => assert.ok(Math.abs(got.rates[k][i] - scheduleRate(sch as SchedulePlan, st)) < 1e-12, `${sch.kind} at step ${st}`)));
    const fc = new FitCallbacks(callbacks);
    let lr = 0.01;
    logs.forEach((l, epoch) => {
      lr = fc.epochBegin(epoch, lr);
      const d = fc.epochEnd(epoch, { ...l, learning_rate: lr }, lr);
      lr = d.learningRate;
      assert.deepEqual(got.decisions[epoch], { stop: d.stop, learningRate: d.learningRate, keepWeights: d.keepWeights, messages: d.messages }, `epoch ${epoch + 1}`);
    });
    assert.ok(got.decisions.some((d) => d.stop) && got.decisions.some((d) => d.messages.some((m) => /ReduceLROnPlateau/.test(m))), 'the logs make both callbacks act');
  });

  it('reads ConvLens checkpoints with their checks: a changed byte, a cut file and another architecture are errors naming the file and byte', async () => {
    const plan = await planOf(seedFile);
    const good = path.join(dir, 'good.ckpt');
    writeCheckpoint(good, plan, randomWeights(plan, 2));
    const script = exportScript(dir, seedFile, { name: 'reader.py' });
    const ok = drive<{ ok: boolean; weights: string[] }>('read', script, good);
    assert.deepEqual(ok.weights, planWeights(plan).map((w) => w.name).sort());
    const bytes = readFileSync(good);
    const header = decodeCheckpoint(bytes).header;
    const dataStart = bytes.length - header.dataBytes;
    const kernel = header.tensors.find((t) => t.name === 'dense/kernel')!;
    const at = dataStart + kernel.offset + 100;
    const damaged = Buffer.from(bytes);
    damaged[at] ^= 0x40;
    writeFileSync(path.join(dir, 'damaged.ckpt'), damaged);
    const d = drive<{ error: string; message: string }>('read', script, path.join(dir, 'damaged.ckpt'));
    assert.equal(d.error, 'CheckpointError');
    assert.match(d.message, new RegExp(`damaged\\.ckpt: byte ${dataStart + kernel.offset}: tensor 'dense/kernel' \\(bytes ${dataStart + kernel.offset}-\\d+\\) is corrupt: its CRC-32 does not match`));
    writeFileSync(path.join(dir, 'cut.ckpt'), bytes.subarray(0, 3000));
    assert.match(drive<{ message: string }>('read', script, path.join(dir, 'cut.ckpt')).message, /cut\.ckpt: byte 3000: file is truncated: it should be \d+ bytes but ends at byte 3000/);
    const head = Buffer.from(bytes);
    head[30] ^= 1;
    writeFileSync(path.join(dir, 'head.ckpt'), head);
    assert.match(drive<{ message: string }>('read', script, path.join(dir, 'head.ckpt')).message, /head\.ckpt: byte 16: the header .* is corrupt: its CRC-32 \(bytes 16-19\) does not match/);
    writeFileSync(path.join(dir, 'text.ckpt'), 'not a checkpoint at all');
    assert.match(drive<{ message: string }>('read', script, path.join(dir, 'text.ckpt')).message, /byte 0: not a ConvLens checkpoint: byte 0 is 0x6e/);
    const residual = await planOf(residualFile);
    writeCheckpoint(path.join(dir, 'other.ckpt'), residual, randomWeights(residual, 1));
    const w = tmp();
    const digits = writeIdxFolder(path.join(w, 'digits'), syntheticDigits({ train: 64, test: 16, seed: 1 }));
    const r2 = python([script, '--weights', path.join(dir, 'other.ckpt'), '--data', digits, '--out', path.join(w, 'out'), '--epochs', '1'], { cwd: w });
    assert.equal(r2.status, 5, r2.stderr);
    assert.match(r2.stderr, /other\.ckpt does not belong to 'sequential' as exported here: 'conv2d\/kernel' is 3x3x1x16 there but 5x5x1x10 in this model; .* \(and \d+ more\)/);
  });
});

/** Writes a dataset as MNIST-style IDX files (training gzipped, test raw) and returns the folder. */
function writeIdxFolder(folder: string, ds: Dataset): string {
  mkdirSync(folder, { recursive: true });
  const images = (set: Dataset['train']) => {
    const [h, w] = ds.shape;
    const head = Buffer.alloc(16);
    head.writeUInt32BE(0x803, 0);
    head.writeUInt32BE(set.count, 4);
    head.writeUInt32BE(h, 8);
    head.writeUInt32BE(w, 12);
    return Buffer.concat([head, Buffer.from(Uint8Array.from(set.x, (v) => Math.round(v * 255)))]);
  };
  const labels = (set: Dataset['train']) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(0x801, 0);
    head.writeUInt32BE(set.count, 4);
    return Buffer.concat([head, Buffer.from(set.y)]);
  };
  writeFileSync(path.join(folder, 'train-images-idx3-ubyte.gz'), gzipSync(images(ds.train)));
  writeFileSync(path.join(folder, 'train-labels-idx1-ubyte.gz'), gzipSync(labels(ds.train)));
  writeFileSync(path.join(folder, 't10k-images-idx3-ubyte'), images(ds.test!));
  writeFileSync(path.join(folder, 't10k-labels-idx1-ubyte'), labels(ds.test!));
  return folder;
}

/** CIFAR-10 binary batches of random pixels and labels. */
function writeCifarFolder(folder: string): string {
  mkdirSync(folder, { recursive: true });
  let s = 1;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
  for (const f of ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin']) {
    const records = 7;
    const b = Buffer.alloc(records * 3073);
    for (let r = 0; r < records; r++) {
      b[r * 3073] = next() % 10;
      for (let i = 1; i < 3073; i++) b[r * 3073 + i] = next();
    }
    writeFileSync(path.join(folder, f), b);
  }
  return folder;
}

/** A folder of PNG images per class, of other sizes than the model's input (ConvLens resizes them). */
function writeImageFolder(folder: string): string {
  let s = 9;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
  ['cats', 'dogs', 'owls'].forEach((c, k) => {
    mkdirSync(path.join(folder, c, 'more'), { recursive: true });
    for (let i = 0; i < 5; i++) {
      const width = 20 + 7 * i + k;
      const height = 33 - 3 * i;
      const png = new PNG({ width, height, colorType: i % 2 ? 0 : 6, inputColorType: 6 });
      for (let p = 0; p < width * height * 4; p++) png.data[p] = next();
      writeFileSync(path.join(folder, c, i === 4 ? 'more' : '', `img${i}.png`), PNG.sync.write(png, { colorType: i % 2 ? 0 : 6, inputColorType: 6 }));
    }
  });
  return folder;
}

describe("PyTorch export: the script's data is ConvLens' data", { skip: noTorch }, () => {
  const cases: [string, () => string, DatasetSpec['kind'], string, string | undefined][] = [
    ['MNIST IDX files (.gz and raw)', () => writeIdxFolder(path.join(dir, 'idx'), syntheticDigits({ train: 200, test: 40, seed: 4 })), 'idx', seedFile, undefined],
    ['a Keras .npz archive', () => fixturePath('data', 'mnist_deflated.npz'), 'npz', seedFile, undefined],
    ['CIFAR-10 binary batches', () => writeCifarFolder(path.join(dir, 'cifar')), 'cifar10', '', undefined],
    ['a folder of PNG images per class (resized by area)', () => writeImageFolder(path.join(dir, 'images')), 'imageFolder', '', undefined],
  ];
  for (const [what, make, kind] of cases) {
    it(`${what}: the same pixels, labels and training / validation / test sets`, async (t) => {
      const data = make();
      // A model whose input fits the data: the seed for digits, a small CIFAR-shaped one otherwise.
      let modelFile = seedFile;
      if (kind === 'cifar10' || kind === 'imageFolder') {
        modelFile = path.join(dir, `${kind}_model.py`);
        const classes = kind === 'cifar10' ? 10 : 3;
        const shape = kind === 'cifar10' ? '(32, 32, 3)' : '(24, 18, 1)';
        writeFileSync(
          modelFile,
          `import keras\nfrom keras import layers\nmodel = keras.Sequential([keras.Input(shape=${shape}), layers.Flatten(), layers.Dense(${classes}, activation="softmax")])\nmodel.compile(optimizer="adam", loss="sparse_categorical_crossentropy")\nmodel.fit(x, y, validation_split=0.25, epochs=1)\n`,
        );
      }
      const plan = await planOf(modelFile);
      const script = exportScript(dir, modelFile, { name: `data_${kind}.py` });
      const out = tmp();
      const got = drive<Record<string, { count: number; shape: number[]; labels: number[] }> & { classes: number }>('data', script, data, '3', '0', out);
      const spec: DatasetSpec =
        kind === 'idx' ? { kind, folder: data } : kind === 'npz' ? { kind, file: data } : kind === 'cifar10' ? { kind, path: data } : { kind: 'imageFolder', root: data, size: [24, 18], channels: 1, interpolation: 'area', testFraction: 0.2 };
      const ds = await loadDataset(spec);
      // ConvLens' split of the training set: fit()'s rows (the seed: a seeded permutation), or validation_split.
      const sets: Record<string, { x: Float32Array; y: ArrayLike<number>; count: number }> = {};
      const f = plan.fit;
      if (f?.train && f.validation) {
        const pick = (rows: typeof f.train) => {
          const { indices } = selectRows(rows!.rows, ds.train.count, (n) => permutation(n, hashSeed(3, 0x9e3779b9)));
          const per = ds.train.x.length / ds.train.count;
          return { x: Float32Array.from(Array.from(indices).flatMap((i) => Array.from(ds.train.x.subarray(i * per, (i + 1) * per)))), y: Array.from(indices, (i) => ds.train.y[i]), count: indices.length };
        };
        sets.train = pick(f.train);
        sets.validation = pick(f.validation);
      } else if (plan.validationSplit > 0) {
        const at = Math.floor(ds.train.count * (1 - plan.validationSplit));
        const per = ds.train.x.length / ds.train.count;
        sets.train = { x: ds.train.x.subarray(0, at * per), y: ds.train.y.subarray(0, at), count: at };
        sets.validation = { x: ds.train.x.subarray(at * per), y: ds.train.y.subarray(at), count: ds.train.count - at };
      } else sets.train = ds.train;
      if (ds.test) sets.test = ds.test;
      assert.equal(got.classes, ds.numClasses, JSON.stringify(got));
      for (const [name, set] of Object.entries(sets)) {
        assert.ok(got[name], `${name} set missing`);
        assert.equal(got[name].count, set.count, `${name}: count`);
        assert.deepEqual(got[name].labels, Array.from(set.y), `${name}: labels`);
        const keras = readF32(path.join(out, `${name}.f32`));
        const d = maxDiff(keras, set.x);
        t.diagnostic(`${name}: ${set.count} samples, largest pixel difference ${d.toExponential(2)}`);
        assert.ok(d <= (kind === 'imageFolder' ? 1e-6 : 0), `${name}: pixels differ by ${d}`);
      }
    });
  }

  it("mnist names Keras' cache ($KERAS_HOME/datasets/mnist.npz), as mnist.load_data() finds it", async () => {
    const home = tmp();
    mkdirSync(path.join(home, 'datasets'));
    copyFileSync(fixturePath('data', 'mnist_stored.npz'), path.join(home, 'datasets', 'mnist.npz'));
    const script = exportScript(dir, seedFile, { name: 'cache.py' });
    const got = driveWith<{ name: string; train: { count: number }; test: { count: number } }>({ KERAS_HOME: home }, 'data', script, 'mnist', '1', '0', tmp());
    assert.match(got.name, /^mnist\.npz \(.*datasets\/mnist\.npz\)$/);
    assert.equal(got.train.count + (got as unknown as { validation: { count: number } }).validation.count, 6);
    assert.equal(got.test.count, 2);
    const missing = driveWith<{ error: string; message: string }>({ KERAS_HOME: tmp() }, 'data', script, 'cifar10', '1', '0', tmp());
    assert.match(missing.message, /^CIFAR-10 not found in .*datasets; pass --data with the folder that holds its files$/);
  });

  it("fit()'s rows: the seeded permutation and slices ConvLens takes for np.random.permutation, scaled to the data at hand", async () => {
    const script = exportScript(dir, seedFile, { name: 'select.py' });
    for (const [count, seed, rows] of [
      [60000, 1, { shuffled: true, slices: [{ start: 0, stop: 50000 }], of: 60000 }],
      [1000, 7, { shuffled: true, slices: [{ start: 50000, stop: 60000 }], of: 60000 }],
      [999, 2, { shuffled: false, slices: [{ start: -100 }, { stop: 37 }], of: 1000 }],
    ] as const) {
      const got = drive<{ index: number[] }>('select', script, String(count), String(seed), JSON.stringify(rows)).index;
      const want = Array.from(selectRows({ shuffled: rows.shuffled, slices: [...rows.slices], of: rows.of }, count, (n) => permutation(n, hashSeed(seed, 0x9e3779b9))).indices);
      assert.deepEqual(got, want, `${count} rows, seed ${seed}`);
    }
  });
});

describe('PyTorch export: the script trains', { skip: noTorch }, () => {
  let digits: string;
  before(() => {
    digits = writeIdxFolder(path.join(dir, 'train_digits'), syntheticDigits({ train: 1200, test: 300, seed: 2 }));
  });

  it('as one process: Keras-style epoch lines, then test_accuracy; its checkpoints are ConvLens checkpoints (convlens export reads them)', async (t) => {
    const w = tmp();
    const script = exportScript(w, seedFile);
    const t0 = Date.now();
    const r = python([script, '--data', digits, '--epochs', '2', '--lr', '0.001', '--batch-size', '32', '--out', 'run'], { cwd: w });
    t.diagnostic(`python3 train_model.py, 2 epochs of 1,000 synthetic digits: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0], /^sequential: RMSprop\(learning_rate=0\.0001\), loss categorical_crossentropy, batch size 32 \(1 process x 32, gloo, cpu\), 2 epochs, seed 1; IDX files .*: 1000 training, 200 validation, 300 test samples$/);
    assert.equal(lines[1], 'Epoch 1/2');
    assert.match(lines[2], /^32\/32 ━{20} \d+s \d+ms\/step - accuracy: 0\.\d{4} - loss: \d\.\d{4} - val_accuracy: 0\.\d{4} - val_loss: \d\.\d{4}$/);
    assert.match(lines[lines.length - 1], /^test_accuracy: (0|1)\.\d{4}$/);
    const accuracy = Number(lines[lines.length - 1].split(': ')[1]);
    assert.ok(accuracy >= 0.8, `test accuracy ${accuracy} on synthetic digits after 2 epochs`);
    assert.deepEqual(readdirSync(path.join(w, 'run')).sort(), ['best.ckpt', 'last.ckpt', 'metrics.jsonl', 'model.pt']);
    const metrics = readFileSync(path.join(w, 'run', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(metrics.map((m) => m.epoch), [1, 2]);
    // Back into ConvLens: export the checkpoint the script wrote, and compare both models' outputs.
    copyFileSync(seedFile, path.join(w, 'seed.py'));
    const e = convlens(w, 'export', 'seed.py', '--weights', path.join('run', 'best.ckpt'), '--out', 'back.onnx');
    assert.equal(e.code, 0, e.err);
    const batch = await digitBatch(16);
    const session = await ort.InferenceSession.create(readFileSync(path.join(w, 'back.onnx')));
    const expected = (await session.run({ input: new ort.Tensor('float32', batch.x, [16, 28, 28, 1]) })).output.data as Float32Array;
    await session.release();
    writeF32(path.join(w, 'in.f32'), batch.x);
    drive('forward', script, path.join(w, 'run', 'best.ckpt'), path.join(w, 'in.f32'), path.join(w, 'out.f32'));
    assert.ok(maxDiff(readF32(path.join(w, 'out.f32')), expected) < 1e-4);
    // A second run into the same folder needs --force.
    const again = python([script, '--data', digits, '--epochs', '1', '--out', 'run'], { cwd: w });
    assert.equal(again.status, 6);
    assert.match(again.stderr, /run\/model\.pt already exists; pass --force to replace it, or choose another --out/);
    const bad = python([script, '--data', digits, '--epochs', 'two'], { cwd: w });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /argument --epochs: must be a whole number >= 0, got 'two'/);
    // Exported with --weights, the script starts from that checkpoint; --epochs 0 only evaluates it.
    const evaluating = exportScript(w, path.join(w, 'seed.py'), { name: 'evaluate.py', weights: path.join('run', 'best.ckpt') });
    assert.match(readFileSync(evaluating, 'utf8'), /^DEFAULT_WEIGHTS = os\.path\.join\(os\.path\.dirname\(os\.path\.abspath\(__file__\)\), "run\/best\.ckpt"\)$/m);
    const e0 = python([evaluating, '--data', digits, '--epochs', '0', '--out', 'eval'], { cwd: tmp() });
    assert.equal(e0.status, 0, e0.stderr);
    assert.match(e0.stdout, /^Loaded .*run\/best\.ckpt: weights of epoch \d of 'sequential'$/m);
    assert.match(e0.stdout, /\ntest_accuracy: (0|1)\.\d{4}\n$/);
    // A model file that loads no known dataset: --data is required.
    const residual = exportScript(w, residualFile, { name: 'residual.py' });
    const noData = python([residual], { cwd: w });
    assert.equal(noData.status, 2);
    assert.match(noData.stderr, /the following arguments are required: --data/);
  });

  it('as two processes under torchrun (gloo, CPU): one set of lines from process 0, the batch split in two, the same checkpoint format', async (t) => {
    const w = tmp();
    const script = exportScript(w, seedFile);
    const t0 = Date.now();
    const r = python([path.join(root, 'test', 'export', 'torchrun.py'), '--standalone', '--nproc_per_node=2', script, '--data', digits, '--epochs', '2', '--lr', '0.001', '--batch-size', '32', '--out', 'run'], { cwd: w });
    t.diagnostic(`torchrun --nproc_per_node=2, 2 epochs of 1,000 synthetic digits: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0], /batch size 32 \(2 processes x 16, gloo, cpu\)/);
    assert.equal(lines.filter((l) => l.startsWith('test_accuracy: ')).length, 1, r.stdout);
    assert.equal(lines.filter((l) => l.startsWith('Epoch ')).length, 2, r.stdout);
    assert.match(lines[2], /^32\/32 ━{20} /, 'each process takes 16 of the 32 samples of each of the 32 steps');
    const accuracy = Number(lines[lines.length - 1].split(': ')[1]);
    assert.ok(accuracy >= 0.8, `test accuracy ${accuracy}`);
    const h = decodeCheckpoint(readFileSync(path.join(w, 'run', 'last.ckpt'))).header;
    assert.equal(h.epoch, 2);
    assert.equal(h.step, 2 * 32);
  });
});
