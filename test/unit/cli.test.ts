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
    assert.match(r.out, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:24: error: Conv2D's 5×5 kernel is larger than its 4×4 input, so it has no output position: \\(4 − 5\\) / 1 \\+ 1 = 0`, 'm'));
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

describe('convlens summary: hostile and unusual input', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'convlens-cli-'));
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('exits quietly when the reader closes the pipe (summary --json | head -c 200)', () => {
    const file = fixturePath('seeds', '000_cifar10_cnn.py');
    const r = spawnSync('bash', ['-c', `set -o pipefail; for i in 1 2 3 4 5 6 7 8; do echo ${JSON.stringify(file)}; done | xargs node ${JSON.stringify(cli)} summary --json | head -c 200 >/dev/null; echo "exit \${PIPESTATUS[2]}"`], { encoding: 'utf8' });
    assert.equal(r.stderr, '', 'no EPIPE stack trace');
    assert.match(r.stdout, /^exit 0$/m);
  });

  it('shows control characters in names and values as escapes: a value cannot fake a problem line', () => {
    const file = write('ctrl.py', "from keras import layers, models\nmodel = models.Sequential(name='m\\x1b[31mred')\nmodel.add(layers.Conv2D(8, 3, padding='x\\nfake.py:1:1: error: boo', input_shape=(28, 28, 1)))\n");
    const r = run('summary', file);
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.out, /^fake\.py/m);
    assert.doesNotMatch(r.out, /\x1b/);
    assert.match(r.out, /Model: "m\\x1b\[31mred"/);
    assert.match(r.out, /got 'x\\nfake\.py:1:1: error: boo'/);
  });

  it('reads files with CR-only and CRLF line endings, lines counted as editors count them', () => {
    const lf = "from keras import layers, models\nmodel = models.Sequential()\nmodel.add(layers.Conv2D(8, 3, input_shape=(6, 6, 1)))\nmodel.add(layers.Conv2D(4, (5, 5)))\n";
    for (const [name, text] of [['cr.py', lf.replace(/\n/g, '\r')], ['crlf.py', lf.replace(/\n/g, '\r\n')]]) {
      const r = run('summary', write(name, text), '--json');
      const j = JSON.parse(r.out);
      assert.deepEqual(j.models[0].layers.map((l: { outputShape: unknown }) => l.outputShape), [[null, 4, 4, 8], null], name);
      assert.deepEqual(j.diagnostics.map((d: { line: number; column: number; code: string }) => [d.line, d.column, d.code]), [[4, 28, 'output-empty']], name);
    }
  });

  it('reports unclosed brackets at the end of a file, however many', () => {
    for (const n of [1, 12, 13, 50]) {
      const r = run('summary', write(`open${n}.py`, `from keras import layers, models\nmodel = models.Sequential()\nmodel.add(layers.Flatten(${'('.repeat(n)}\n`), '--json');
      const j = JSON.parse(r.out);
      assert.ok(j.diagnostics.some((d: { code: string; message: string; line: number }) => d.code === 'syntax' && d.line === 3 && /is never closed/.test(d.message)), `${n}: ${JSON.stringify(j.diagnostics)}`);
    }
  });

  it('a notebook: --json names each layer’s and problem’s cell, lines inside it', () => {
    const r = run('summary', fixturePath('notebooks', '5.1-introduction-to-convnets.ipynb'), '--json');
    assert.equal(r.code, 0, r.err);
    const m = JSON.parse(r.out).models[0];
    assert.deepEqual([m.cell, m.line, m.totalParams, m.macs], [3, 4, 93322, 2794240]);
    assert.deepEqual(m.layers.map((l: { name: string; cell: number; line: number; params: number }) => [l.name, l.cell, l.line, l.params]), [
      ['conv2d', 3, 5, 320],
      ['max_pooling2d', 3, 6, 0],
      ['conv2d_1', 3, 7, 18496],
      ['max_pooling2d_1', 3, 8, 0],
      ['conv2d_2', 3, 9, 36928],
      ['flatten', 7, 1, 0],
      ['dense', 7, 2, 36928],
      ['dense_1', 7, 3, 650],
    ]);
  });
});

describe('convlens summary on PyTorch files', () => {
  before(() => {
    if (!existsSync(cli)) {
      const b = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { encoding: 'utf8' });
      assert.equal(b.status, 0, b.stderr);
    }
  });

  it("--model picks a builder the file never calls, --input-shape gives it an input, --depth 1 prints torchinfo's top level", () => {
    const r = run('summary', fixturePath('pytorch', 'torchvision', 'models', 'resnet.py'), '--model', 'resnet18', '--input-shape', '1,3,224,224', '--depth', '1');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Layer \(type:depth-idx\) +Output Shape +Param # +Mult-Adds +Receptive field$/m);
    assert.match(r.out, /^├─Sequential: 1-5 +\[1, 64, 56, 56\] +147,968 /m);
    assert.match(r.out, /^├─Linear: 1-10 +\[1, 1000\] +513,000 +513,000 +global$/m);
    // torchvision publishes resnet18's num_params as 11,689,512; torchinfo prints 1.81 G mult-adds at 224x224.
    assert.match(r.out, /^Total params: 11,689,512$/m);
    assert.match(r.out, /^Total mult-adds \(G\): 1\.81$/m);
    assert.match(r.out, /^Input \[1, 3, 224, 224\] from the --input-shape option\.$/m);
    assert.equal((r.out.match(/^Layer \(type:depth-idx\)/gm) ?? []).length, 1, 'one model');
  });

  it('--json says the framework, the variable and whole shapes with the batch', () => {
    const r = run('summary', fixturePath('pytorch', 'tutorials', 'neural_networks_tutorial.py'), '--json');
    assert.equal(r.code, 0, r.err);
    const m = JSON.parse(r.out).models[0];
    assert.equal(m.framework, 'pytorch');
    assert.equal(m.varName, 'net');
    assert.deepEqual(m.inputShape, [1, 1, 32, 32]);
    assert.deepEqual(m.outputShape, [1, 10]);
    assert.equal(m.totalParams, 61706);
  });

  it('an unknown --model or a bad --input-shape is said, with what the file has or what is expected', () => {
    const missing = run('summary', fixturePath('pytorch', 'kuangliu', 'lenet.py'), '--model', 'VGG');
    assert.equal(missing.code, 2);
    assert.match(missing.err, /has no model 'VGG' \(it has LeNet\(\)\)/);
    const bad = run('summary', fixturePath('pytorch', 'kuangliu', 'lenet.py'), '--input-shape', '1,3,0,32');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--input-shape must be positive sizes separated by commas, batch first \(e\.g\. 1,3,32,32\), got '1,3,0,32'/);
  });
});
