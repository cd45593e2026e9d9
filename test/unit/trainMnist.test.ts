/**
 * The accuracy check on real data: the seed MNIST model (test/fixtures/seeds/001_mnist_cnn.py)
 * trained exactly as the file says (RMSprop(lr=1e-4), batch 128) on ../shared/datasets/mnist
 * must reach at least 98.6% test accuracy. It takes minutes, so it runs only with
 * CONVLENS_MNIST=1 (CONVLENS_MNIST_EPOCHS overrides the file's 50 epochs, CONVLENS_MNIST_DIR the
 * data folder, CONVLENS_THREADS the thread count).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { it } from 'node:test';
import { fixturePath } from './helpers';

const root = path.join(__dirname, '..', '..');
const data = process.env.CONVLENS_MNIST_DIR ?? path.join(root, '..', 'shared', 'datasets', 'mnist');
const skip =
  process.env.CONVLENS_MNIST !== '1'
    ? 'set CONVLENS_MNIST=1 to train the seed MNIST model on real MNIST (several minutes)'
    : !existsSync(data)
      ? `MNIST is not at ${data} (set CONVLENS_MNIST_DIR)`
      : false;

it('the seed MNIST model, trained as the file says, reaches ≥ 98.6% test accuracy on MNIST', { skip, timeout: 60 * 60 * 1000 }, async () => {
  const cli = path.join(root, 'dist', 'cli.js');
  if (!existsSync(cli)) assert.equal(spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')]).status, 0);
  // The run folder goes next to the model file: train a copy in a temporary folder.
  const dir = mkdtempSync(path.join(tmpdir(), 'convlens-mnist-'));
  copyFileSync(fixturePath('seeds', '001_mnist_cnn.py'), path.join(dir, '001_mnist_cnn.py'));
  const args = [cli, 'train', '001_mnist_cnn.py', '--data', data, '--json', '--out', 'mnist.onnx'];
  if (process.env.CONVLENS_MNIST_EPOCHS) args.push('--epochs', process.env.CONVLENS_MNIST_EPOCHS);
  if (process.env.CONVLENS_THREADS) args.push('--threads', process.env.CONVLENS_THREADS);
  const t0 = Date.now();
  const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Record<string, number>[] = [];
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = JSON.parse(buffered.slice(0, nl)) as Record<string, number>;
      buffered = buffered.slice(nl + 1);
      lines.push(line);
      console.log(`  ${JSON.stringify(line)}`);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const seconds = (Date.now() - t0) / 1000;
  assert.equal(code, 0);
  const final = lines[lines.length - 1];
  const epochs = lines.filter((l) => 'epoch' in l);
  const best = epochs.reduce((b, e) => (e.val_loss < b.val_loss ? e : b));
  console.log(`  ${epochs.length} epochs in ${seconds.toFixed(0)} s (${(epochs.reduce((a, e) => a + e.seconds, 0) / epochs.length).toFixed(1)} s per epoch); best val_loss at epoch ${best.epoch}; test accuracy ${final.test_accuracy}`);
  // The file trains on 50,000 samples and validates on the other 10,000 of a permutation (as its
  // Keras run did: 98.83%). ConvLens' own seeds vary by about ±0.1% (98.67–98.84% measured), so
  // the bar is 98.6%.
  assert.ok(final.test_accuracy >= 0.986, `test accuracy ${final.test_accuracy}`);
});

it('the pytorch/examples MNIST Net, trained as its file says (Adadelta lr=1, StepLR γ=0.7, F.nll_loss, batch 64), reaches ≥ 98% test accuracy on MNIST after one epoch', { skip, timeout: 60 * 60 * 1000 }, async () => {
  // test/fixtures/pytorch/pytorch_examples/mnist_main.py is https://github.com/pytorch/examples mnist/main.py @ 77f55b9121.
  // Its 14 epochs take most of an hour here; CONVLENS_MNIST_TORCH_EPOCHS runs more than the one epoch checked.
  const cli = path.join(root, 'dist', 'cli.js');
  if (!existsSync(cli)) assert.equal(spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')]).status, 0);
  const dir = mkdtempSync(path.join(tmpdir(), 'convlens-mnist-torch-'));
  copyFileSync(fixturePath('pytorch', 'pytorch_examples', 'mnist_main.py'), path.join(dir, 'mnist_main.py'));
  const args = [cli, 'train', 'mnist_main.py', '--data', data, '--json', '--epochs', process.env.CONVLENS_MNIST_TORCH_EPOCHS ?? '1'];
  if (process.env.CONVLENS_THREADS) args.push('--threads', process.env.CONVLENS_THREADS);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
  for (const l of lines) console.log(`  ${JSON.stringify(l)}`);
  const final = lines[lines.length - 1];
  console.log(`  pytorch/examples MNIST Net: ${lines.length - 1} epoch(s) in ${((Date.now() - t0) / 1000).toFixed(0)} s; test accuracy ${final.test_accuracy}`);
  // PyTorch's example reports 98–99% after its first epoch (its inputs normalised; ConvLens feeds pixels ÷ 255).
  assert.ok(final.test_accuracy >= 0.98, `test accuracy ${final.test_accuracy}`);
});
