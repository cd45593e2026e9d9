/** `convlens summary` as a user runs it: the built CLI in a child process. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { fixturePath } from './helpers';

const root = path.join(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'cli.js');

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: root });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('convlens summary', () => {
  before(() => {
    if (!existsSync(cli)) {
      const b = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { encoding: 'utf8' });
      assert.equal(b.status, 0, b.stderr);
    }
  });

  it('prints a Keras-style table with MACs and receptive fields, and the totals footer', () => {
    const r = run('summary', fixturePath('seeds', '001_mnist_cnn.py'));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Model: "sequential"/);
    assert.match(r.out, / Layer \(type\) +Output Shape +Param # +MACs +Receptive field/);
    assert.match(r.out, / conv2d \(Conv2D\) +\(None, 24, 24, 10\) +260 +144,000 +5×5 \/1×1/);
    assert.match(r.out, / dense_1 \(Dense\) +\(None, 10\) +1,010 +1,000 +global/);
    assert.match(r.out, /^Total params: 38,390 \(149\.96 KB\)$/m);
    assert.match(r.out, /^Trainable params: 38,390 \(149\.96 KB\)$/m);
    assert.match(r.out, /^Non-trainable params: 0 \(0\.00 B\)$/m);
    assert.match(r.out, /^Total MACs: 497,000 \(497 K\)$/m);
  });

  it('--json prints the documented object, lines and columns 1-based', () => {
    const file = fixturePath('seeds', '001_mnist_cnn.py');
    const r = run('summary', file, '--json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.file, file);
    assert.equal(j.models.length, 1);
    const m = j.models[0];
    assert.equal(m.name, 'sequential');
    assert.equal(m.line, 33);
    assert.deepEqual(m.inputShape, [null, 28, 28, 1]);
    assert.deepEqual(m.outputShape, [null, 10]);
    assert.deepEqual(m.layers[1].inputs, ['conv2d']);
    assert.deepEqual(m.layers[0], {
      name: 'conv2d',
      type: 'Conv2D',
      nodeIndex: 0,
      line: 34,
      column: 11,
      inputs: [],
      connectedTo: [],
      inputShapes: [[null, 28, 28, 1]],
      outputShape: [null, 24, 24, 10],
      params: 260,
      trainableParams: 260,
      nonTrainableParams: 0,
      macs: 144000,
      receptiveField: { size: [5, 5], stride: [1, 1] },
      activationBytes: 23040,
      formula: '10 × (5·5·1) + 10 = 260',
    });
    assert.deepEqual([m.totalParams, m.trainableParams, m.nonTrainableParams, m.macs], [38390, 38390, 0, 497000]);
    assert.deepEqual(j.diagnostics, []);
  });

  it('prints problems as FILE:LINE:COL: severity: message and exits 1 on an error', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'convlens-cli-'));
    const file = path.join(dir, 'bad.py');
    writeFileSync(file, 'from keras import layers, models\nm = models.Sequential()\nm.add(layers.Conv2D(4, 5, input_shape=(4, 4, 1)))\n');
    const r = run('summary', file);
    assert.equal(r.code, 1);
    assert.match(r.out, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:24: error: Conv2D output would be 0×0: \\(4 − 5\\) / 1 \\+ 1 = 0`, 'm'));
    const j = JSON.parse(run('summary', file, '--json').out);
    assert.deepEqual(
      { line: j.diagnostics[0].line, column: j.diagnostics[0].column, endLine: j.diagnostics[0].endLine, endColumn: j.diagnostics[0].endColumn, severity: j.diagnostics[0].severity },
      { line: 3, column: 24, endLine: 3, endColumn: 25, severity: 'error' },
    );
  });

  it('one JSON line per file for several files', () => {
    const r = run('summary', fixturePath('seeds', '000_cifar10_cnn.py'), fixturePath('seeds', '004_padding_strides.py'), '--json');
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.models.length), [1, 3]);
  });

  it('a missing file is a clear error with exit code 2', () => {
    const r = run('summary', '/nonexistent/model.py');
    assert.equal(r.code, 2);
    assert.match(r.err, /convlens: cannot read \/nonexistent\/model\.py: no such file/);
  });

  it('unknown commands and options print the usage', () => {
    assert.equal(run('frobnicate').code, 2);
    assert.match(run('summary', '--nope').err, /Unknown option '--nope'/);
    assert.match(run('--help').out, /Usage: convlens <command>/);
  });
});
