/**
 * `convlens train` / `convlens export` as a user runs them (the built CLI, which forks the built
 * trainer), including the end-to-end check: the seed MNIST model on the built-in synthetic
 * digits reaches ≥ 95% test accuracy in well under a minute on two threads.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { fixturePath } from './helpers';

const root = path.join(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'cli.js');
const mnistSeed = fixturePath('seeds', '001_mnist_cnn.py');

function run(cwd: string, ...args: string[]) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr, seconds: (Date.now() - t0) / 1000 };
}

const tmp = () => mkdtempSync(path.join(tmpdir(), 'convlens-cli-'));

/** A working folder holding a copy of the seed MNIST model (runs go next to the model file). */
function workspace(): { dir: string; model: string } {
  const dir = tmp();
  copyFileSync(mnistSeed, path.join(dir, 'mnist_cnn.py'));
  return { dir, model: 'mnist_cnn.py' };
}

/** The run folders of the workspace's model, oldest first. */
const runDirs = (dir: string) => {
  const root = path.join(dir, '.convlens', 'runs', 'mnist_cnn');
  return existsSync(root) ? readdirSync(root).sort().map((d) => path.join(root, d)) : [];
};

describe('convlens train / export', () => {
  before(() => {
    if (!existsSync(cli) || !existsSync(path.join(root, 'dist', 'trainer.js'))) {
      const b = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { encoding: 'utf8' });
      assert.equal(b.status, 0, b.stderr);
    }
  });

  it('end to end: the seed MNIST model reaches ≥ 95% test accuracy on synthetic digits in under 60 s (2 threads), --json lines, the run folder, then export', () => {
    const { dir, model } = workspace();
    const r = run(dir, 'train', model, '--data', 'synthetic', '--optimizer', 'adam', '--lr', '0.001', '--batch-size', '64', '--epochs', '2', '--threads', '2', '--out', 'digits.onnx', '--json');
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 3, r.out);
    for (const [i, e] of lines.slice(0, 2).entries()) {
      assert.deepEqual(Object.keys(e), ['epoch', 'loss', 'accuracy', 'val_loss', 'val_accuracy', 'seconds']);
      assert.equal(e.epoch, i + 1);
    }
    const final = lines[2];
    assert.deepEqual(Object.keys(final), ['test_loss', 'test_accuracy']);
    console.log(`  synthetic digits, seed MNIST model, Adam 1e-3, batch 64, 2 epochs, 2 threads: test accuracy ${final.test_accuracy}, ${r.seconds.toFixed(1)} s wall (epochs ${lines[0].seconds.toFixed(1)} s, ${lines[1].seconds.toFixed(1)} s)`);
    assert.ok(final.test_accuracy >= 0.95, `test accuracy ${final.test_accuracy}`);
    assert.ok(r.seconds < 60, `${r.seconds} s`);
    const [runDir] = runDirs(dir);
    assert.deepEqual(readdirSync(runDir).sort(), ['batches.jsonl', 'best.ckpt', 'epochs.jsonl', 'last.ckpt', 'log.txt', 'model.onnx', 'model.py', 'result.json', 'run.json']);
    assert.deepEqual(readFileSync(path.join(dir, 'digits.onnx')), readFileSync(path.join(runDir, 'model.onnx')), '--out is a copy of the run\'s model');
    assert.equal(readFileSync(path.join(runDir, 'model.py'), 'utf8'), readFileSync(mnistSeed, 'utf8'));
    assert.deepEqual(readFileSync(path.join(runDir, 'epochs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).epoch), [1, 2]);
    assert.equal(JSON.parse(readFileSync(path.join(runDir, 'result.json'), 'utf8')).reason, 'completed');

    const id = path.basename(runDir).split('-').pop()!;
    const e = run(dir, 'export', model, '--weights', id, '--out', 'again.onnx');
    assert.equal(e.code, 0, e.err);
    assert.match(e.out, /^Wrote again\.onnx: input 'input' \(N, 28, 28, 1\) float32 \(channels_last, as Keras\) → output 'output' \(N, 10\); weights of epoch \d \(val_loss \d\.\d{4}\) from .*best\.ckpt$/m);
    if (lines[1].val_loss < lines[0].val_loss) {
      assert.deepEqual(readFileSync(path.join(dir, 'again.onnx')), readFileSync(path.join(dir, 'digits.onnx')), 'the last epoch is the best: export of the checkpoint = the model train wrote');
    }
    // A run folder alone exports with the model as trained.
    const e2 = run(dir, 'export', runDir, '--out', 'third.onnx');
    assert.equal(e2.code, 0, e2.err);
    assert.deepEqual(readFileSync(path.join(dir, 'third.onnx')), readFileSync(path.join(dir, 'again.onnx')));
  });

  it('end to end: the pytorch/examples MNIST Net trains as its file says (Adadelta lr=1, StepLR γ=0.7, F.nll_loss, batch 64) to ≥ 95% on synthetic digits; export is channels-first and returns log-probabilities', async () => {
    // test/fixtures/pytorch/pytorch_examples/mnist_main.py: https://github.com/pytorch/examples mnist/main.py @ 77f55b9121.
    const dir = tmp();
    copyFileSync(fixturePath('pytorch', 'pytorch_examples', 'mnist_main.py'), path.join(dir, 'mnist_main.py'));
    const r = run(dir, 'train', 'mnist_main.py', '--data', 'synthetic', '--epochs', '1', '--threads', '2', '--out', 'net.onnx', '--json');
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /note: StepLR \(line 130\): the learning rate × 0\.7 every 1 epoch/);
    const final = JSON.parse(r.out.trim().split('\n').pop()!);
    console.log(`  synthetic digits, pytorch/examples MNIST Net, Adadelta(lr=1), batch 64, 1 epoch, 2 threads: test accuracy ${final.test_accuracy}, ${r.seconds.toFixed(1)} s wall`);
    assert.ok(final.test_accuracy >= 0.95, `test accuracy ${final.test_accuracy}`);
    const runRoot = path.join(dir, '.convlens', 'runs', 'mnist_main.Net');
    const [runDir] = readdirSync(runRoot).map((d) => path.join(runRoot, d));
    assert.match(readFileSync(path.join(runDir, 'log.txt'), 'utf8'), /Net: Adadelta\(lr=1\), loss nll_loss, batch size 64/);
    const e = run(dir, 'export', 'mnist_main.py', '--weights', runDir, '--out', 'again.onnx');
    assert.equal(e.code, 0, e.err);
    assert.match(e.out, /^Wrote again\.onnx: input 'input' \(N, 1, 28, 28\) float32 \(channels-first, as PyTorch\) → output 'output' \(N, 10\)/m);
    // The exported model returns log-probabilities, as Net.forward does.
    const s = await ort.InferenceSession.create(path.join(dir, 'again.onnx'));
    const out = (await s.run({ input: new ort.Tensor('float32', new Float32Array(2 * 784).fill(0.5), [2, 1, 28, 28]) })).output.data as Float32Array;
    for (const row of [out.subarray(0, 10), out.subarray(10)]) assert.ok(Math.abs(row.reduce((a, v) => a + Math.exp(v), 0) - 1) < 1e-4);
  });

  it('end to end: a functional residual network (BatchNormalization, skip connections) reaches ≥ 95% on synthetic digits; its DAG exports and runs', async () => {
    const dir = tmp();
    const file = path.join(dir, 'residual_digits.py');
    copyFileSync(fixturePath('graphs', 'residual_digits.py'), file);
    // 6,000 digits, batch 32, 3 epochs: ~500 steps, enough for BatchNormalization's moving statistics (momentum 0.99).
    const r = run(dir, 'train', file, '--data', 'synthetic', '--limit', '6000', '--batch-size', '32', '--epochs', '3', '--threads', '2', '--out', 'res.onnx', '--json');
    assert.equal(r.code, 0, r.err);
    const final = JSON.parse(r.out.trim().split('\n').pop()!);
    console.log(`  synthetic digits, functional ResNet (2 residual blocks), Adam 1e-3, batch 32, 3 epochs: test accuracy ${final.test_accuracy}`);
    assert.ok(final.test_accuracy >= 0.95, `test accuracy ${final.test_accuracy}`);
    const session = await ort.InferenceSession.create(path.join(dir, 'res.onnx'));
    const out = await session.run({ input: new ort.Tensor('float32', new Float32Array(2 * 28 * 28), [2, 28, 28, 1]) });
    assert.deepEqual(out.output.dims, [2, 10]);
    const probs = out.output.data as Float32Array;
    assert.ok(Math.abs(probs.slice(0, 10).reduce((a, b) => a + b, 0) - 1) < 1e-4, 'softmax rows sum to 1');
    await session.release();
  });

  it('prints Keras-style epoch lines when not on a terminal; a second run gets its own folder and replaces nothing', () => {
    const { dir, model } = workspace();
    const r = run(dir, 'train', model, '--data', 'synthetic', '--limit', '600', '--batch-size', '100', '--epochs', '1', '--threads', '1');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Epoch 1\/1$/m);
    assert.match(r.out, /^5\/5 ━{20} \d+s \d+ms\/step - accuracy: \d\.\d{4} - loss: \d\.\d{4} - val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}$/m);
    assert.match(r.out, /^Epoch 1: val_loss improved to \d\.\d{5}, saving model to \.convlens\/runs\/mnist_cnn\/\d{4}-\d\d-\d\dT\d{6}\.\d{3}Z-[0-9a-f]{6}\/best\.ckpt$/m);
    assert.match(r.out, /^Test \(600 samples, weights of epoch 1\): accuracy: \d\.\d{4} - loss: \d\.\d{4}$/m);
    assert.match(r.out, /^Run folder: \.convlens\/runs\/mnist_cnn\//m);
    assert.match(r.err, /note: validation_data: rows 50000:60000 of the training set in np\.random\.permutation order/);
    const first = runDirs(dir);
    const bytes = readFileSync(path.join(first[0], 'best.ckpt'));
    const again = run(dir, 'train', model, '--data', 'synthetic', '--limit', '300', '--batch-size', '100', '--epochs', '1', '--threads', '1');
    assert.equal(again.code, 0, again.err);
    const both = runDirs(dir);
    assert.equal(both.length, 2);
    assert.deepEqual(readFileSync(path.join(first[0], 'best.ckpt')), bytes, 'the first run is untouched');
    assert.deepEqual(readdirSync(dir).sort(), ['.convlens', 'mnist_cnn.py'], 'nothing written beside the model but the runs folder');
  });

  it('refuses an untrainable model with FILE:LINE:COL errors (exit 1) before training', () => {
    const dir = tmp();
    const file = path.join(dir, 'model.py');
    writeFileSync(file, ['from keras import layers, models', 'model = models.Sequential()', 'model.add(layers.Resizing(8, 8, input_shape=(8, 8, 1)))', 'model.add(layers.Flatten())', 'model.add(layers.Dense(10))', ''].join('\n'));
    const r = run(dir, 'train', file, '--data', 'synthetic');
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:11: error: Resizing 'resizing': ConvLens cannot train Resizing layers yet$`, 'm'));
    assert.equal(r.out, '');
  });

  it("never replaces a user's file without --force, and checks paths and data before training (nothing is created)", () => {
    const { dir, model } = workspace();
    writeFileSync(path.join(dir, 'mine.onnx'), 'my own model');
    let r = run(dir, 'train', model, '--data', 'synthetic', '--out', 'mine.onnx');
    assert.equal(r.code, 2);
    assert.match(r.err, /mine\.onnx already exists \(and was not written by ConvLens\); pass --force to replace it/);
    assert.equal(readFileSync(path.join(dir, 'mine.onnx'), 'utf8'), 'my own model');
    r = run(dir, 'train', model, '--data', path.join(dir, 'nowhere'));
    assert.equal(r.code, 4, 'a data error');
    assert.match(r.err, /nowhere: no such file or folder/);
    r = run(dir, 'train', model, '--lr=-1');
    assert.equal(r.code, 2);
    assert.match(r.err, /--lr must be a positive number, got '-1'/);
    assert.deepEqual(runDirs(dir), []);
  });

  it('export names the byte where a damaged checkpoint goes wrong (exit 5)', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'bad.ckpt'), Buffer.concat([Buffer.from('CLCKPT\r\n', 'latin1'), Buffer.from([1, 0, 0, 0, 255, 0, 0, 0]), Buffer.from('{"format"')]));
    const r = run(dir, 'export', mnistSeed, '--weights', 'bad.ckpt', '--out', 'x.onnx');
    assert.equal(r.code, 5);
    assert.match(r.err, /^convlens: bad\.ckpt: byte 25: file is truncated: the header needs bytes 16–270, but the file ends at byte 25$/m);
    assert.ok(!existsSync(path.join(dir, 'x.onnx')));
  });

  it('the exported model runs in onnxruntime on Keras-layout input', async () => {
    const { dir, model } = workspace();
    const r = run(dir, 'train', model, '--data', 'synthetic', '--limit', '300', '--batch-size', '100', '--epochs', '1', '--threads', '1', '--out', 'm.onnx');
    assert.equal(r.code, 0, r.err);
    const s = await ort.InferenceSession.create(path.join(dir, 'm.onnx'));
    assert.deepEqual(s.inputNames, ['input']);
    assert.deepEqual(s.outputNames, ['output']);
    const y = (await s.run({ input: new ort.Tensor('float32', new Float32Array(3 * 784), [3, 28, 28, 1]) })).output;
    assert.deepEqual(y.dims, [3, 10]);
  });
});
