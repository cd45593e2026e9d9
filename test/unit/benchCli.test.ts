/**
 * `convlens bench` as a user runs it (the built CLI): the JSON object, its figures consistent with
 * each other and with the model, the epoch estimate for the dataset the file loads, the text
 * report, and clear errors for bad input. Timings themselves are not asserted (the machine is
 * shared); what they must mean is.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { benchReport } from '../../src/cli/bench';
import { planTraining } from '../../src/core/train/plan';
import { fixturePath, oneModel, readFixture } from './helpers';

const root = path.join(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'cli.js');
const mnistSeed = fixturePath('seeds', '001_mnist_cnn.py');

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('convlens bench', () => {
  before(() => {
    if (!existsSync(cli)) {
      const b = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { encoding: 'utf8' });
      assert.equal(b.status, 0, b.stderr);
    }
  });

  it('--json prints one object whose figures agree with each other and with the model', () => {
    const r = run('bench', mnistSeed, '--batch', '16', '--threads', '1', '--steps', '3', '--json');
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n');
    assert.equal(lines.length, 1, 'one object');
    const j = JSON.parse(lines[0]);
    for (const k of ['ms_per_step', 'ms_min', 'samples_per_s', 'gflops', 'peak_rss_mb', 'params', 'macs_per_sample', 'batch', 'threads', 'steps']) {
      assert.equal(typeof j[k], 'number', k);
      assert.ok(Number.isFinite(j[k]) && j[k] > 0, `${k} = ${j[k]}`);
    }
    assert.equal(j.model, 'sequential');
    assert.equal(j.params, 38390);
    assert.equal(j.macs_per_sample, 497000);
    assert.equal(j.optimizer, 'RMSprop(learning_rate=0.0001)');
    assert.deepEqual([j.batch, j.threads, j.steps], [16, 1, 3]);
    assert.ok(j.ms_min <= j.ms_per_step);
    assert.ok(Math.abs(j.samples_per_s - (16 * 1000) / j.ms_per_step) < 1e-6 * j.samples_per_s);
    assert.ok(Math.abs(j.gflops - (6 * 497000 * 16) / (j.ms_per_step * 1e6)) < 1e-9 * j.gflops);
    assert.ok(j.peak_rss_mb > 20 && j.peak_rss_mb < 8192, `${j.peak_rss_mb} MB`);
    // The file trains on x_train[rand_indices[0:50000]] of MNIST's 60,000 (validation_data the rest).
    assert.deepEqual({ ...j.epoch, seconds: undefined }, { dataset: 'mnist', samples: 50000, steps: 3125, seconds: undefined });
    assert.ok(Math.abs(j.epoch.seconds - (3125 * j.ms_per_step) / 1000) < 1e-9 * j.epoch.seconds);
  });

  it('prints a readable report; the batch defaults to the file\'s fit()', () => {
    const r = run('bench', mnistSeed, '--threads', '1', '--steps', '2');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /001_mnist_cnn\.py: model 'sequential', 38,390 parameters, 0\.5 M MACs per sample; RMSprop\(learning_rate=0\.0001\), batch 128, 1 thread, 2 steps on random data/);
    assert.match(r.out, /\n {2}[\d.]+ ms\/step \(fastest [\d.]+\), [\d,]+ samples\/s, [\d.]+ GFLOP\/s, peak memory [\d,]+ MB\n/);
    assert.match(r.out, /one epoch of mnist \(50,000 samples the file trains on, 391 steps\): about [\d.]+ s of training steps/);
  });

  it('says when the file loads no dataset it knows, and reports models it cannot train at their line', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'convlens-bench-'));
    const plain = path.join(dir, 'plain.py');
    writeFileSync(plain, "from keras import layers, models\nmodel = models.Sequential([layers.Input(shape=(8,)), layers.Dense(4, activation='softmax')])\n");
    const ok = run('bench', plain, '--batch', '4', '--steps', '1', '--json');
    assert.equal(ok.code, 0, ok.err);
    assert.equal(JSON.parse(ok.out).epoch, null);
    assert.match(run('bench', plain, '--batch', '4', '--steps', '1').out, /loads no dataset ConvLens knows/);

    const bad = path.join(dir, 'bad.py');
    writeFileSync(bad, 'from keras import layers, models\nmodel = models.Sequential()\nmodel.add(layers.Input(shape=(8, 8, 1)))\nmodel.add(layers.Conv2D(2, 3))\n');
    const refused = run('bench', bad);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /bad\.py:4:11: error: the model's output is \(None, 6, 6, 2\): ConvLens trains classifiers whose output is one vector per sample/);
  });

  it('refuses bad usage with exit code 2 and a message naming the problem', () => {
    const missing = run('bench', path.join(tmpdir(), 'no-such-model.py'));
    assert.equal(missing.code, 2);
    assert.match(missing.err, /cannot read .*no-such-model\.py: no such file/);
    for (const [flag, value, words] of [['--steps', '0', 'an integer ≥ 1'], ['--batch', 'many', 'an integer ≥ 1'], ['--threads', '1.5', 'an integer ≥ 1']]) {
      const r = run('bench', mnistSeed, flag, value);
      assert.equal(r.code, 2, `${flag} ${value}`);
      assert.ok(r.err.includes(`${flag} must be ${words}, got '${value}'`), r.err);
    }
    assert.equal(run('bench').code, 2);
  });

  it('benchReport: the epoch counts the rows the file trains on, at the median step', async () => {
    const text = readFixture('seeds', '000_cifar10_cnn.py');
    const { model } = await oneModel(text);
    const plan = planTraining(model, text, { batchSize: 50 }).plan!;
    const r = benchReport('x.py', plan, { threads: 2 }, [30, 10, 20, 40], 123, 'cifar10');
    assert.equal(r.ms_per_step, 25);
    assert.equal(r.ms_min, 10);
    assert.equal(r.samples_per_s, 2000);
    assert.equal(r.threads, 2);
    assert.equal(r.peak_rss_mb, 123);
    // The file trains on x_train[5000:] of CIFAR-10's 50,000 images: 45,000 in 900 steps.
    assert.deepEqual(r.epoch, { dataset: 'cifar10', samples: 45000, steps: 900, seconds: 22.5 });
    // The rows fit() selects name their dataset themselves.
    assert.deepEqual(benchReport('x.py', plan, { threads: 1 }, [5], 1).epoch, { dataset: 'cifar10', samples: 45000, steps: 900, seconds: 4.5 });
  });
});
