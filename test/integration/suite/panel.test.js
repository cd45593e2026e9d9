// Training from VS Code and the panel: feature maps with random weights, a short training run on
// the built-in synthetic digits through the command, a cancelled run, and what the panel shows.
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const vscode = require('vscode');
const ui = require('../uiCheck');
const h = require('./helpers');

const { execFileSync } = require('child_process');

const workspace = path.join(h.repoRoot, 'test', 'fixtures', 'workspace');
const modelFile = path.join(workspace, 'model.py');
const runsRoot = path.join(workspace, '.convlens');

/** The files of a run folder, and its run.json keys. */
function layout(dir) {
  return { files: fs.readdirSync(dir).sort(), settings: Object.keys(JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'))).sort() };
}

function api() {
  return vscode.extensions.getExtension('convlens.convlens').exports.ctx;
}

/** Resolves with the next finished run of the model file. */
function nextFinish() {
  return new Promise((resolve) => {
    const sub = api().training.onDidFinish((run) => {
      sub.dispose();
      resolve(run);
    });
  });
}

describe('training and the panel', function () {
  this.timeout(240000);
  before(async () => {
    await vscode.extensions.getExtension('convlens.convlens').activate();
    fs.rmSync(runsRoot, { recursive: true, force: true });
  });
  after(async () => {
    fs.rmSync(runsRoot, { recursive: true, force: true });
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    // The screenshots closed the side bar; later UI checks open files from the Explorer.
    await vscode.commands.executeCommand('workbench.view.explorer');
  });

  it('Show Feature Maps opens the panel with every layer of an untrained model', async function () {
    await h.open(modelFile);
    await vscode.commands.executeCommand('convlens.showFeatureMaps', vscode.Uri.file(modelFile).toString());
    if (!ui.remote.available) return;
    const headers = await ui.remote.webviewQuery('section.layer h3', { min: 4 });
    assert.deepStrictEqual(
      headers.map((t) => t.split(' ')[0]),
      ['conv2d', 'max_pooling2d', 'flatten', 'dense'],
    );
    assert.match(headers[0], /\(Conv2D\) → \(None, 24, 24, 10\)/);
    const tiles = await ui.remote.webviewQuery('section.layer[data-layer="conv2d"] figure.tile canvas', { min: 10 });
    assert.strictEqual(tiles.length, 10, 'one heatmap per channel');
    const weights = await ui.remote.webviewQuery('#input-label');
    assert.match(weights[0], /random \(untrained, seed 1\)/);
    const probs = await ui.remote.webviewQuery('#probabilities .bar-row', { min: 10 });
    assert.strictEqual(probs.length, 10);
    const filters = await ui.remote.webviewQuery('#filters canvas', { min: 10 });
    assert.strictEqual(filters.length, 10, 'the ten 5×5 kernels of conv2d');
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await ui.remote.screenshot('panel-feature-maps-untrained');
  });

  it('trains on the synthetic digits from the command into a run folder (the same layout as convlens train), with live curves', async function () {
    const finished = nextFinish();
    const progress = [];
    const sub = api().training.onMessage(({ message }) => progress.push(message.method));
    const run = await vscode.commands.executeCommand('convlens.train', vscode.Uri.file(modelFile).toString(), undefined, { data: 'synthetic', epochs: 2, batchSize: 64, limit: { train: 3000, test: 600 } });
    assert.ok(run, 'the command returned the run');
    const done = (await finished).done;
    sub.dispose();
    assert.strictEqual(done.reason, 'completed', done.message);
    assert.strictEqual(done.epochs, 2);
    assert.ok(done.test && done.test.accuracy > 0.5, `test accuracy ${done.test && done.test.accuracy}`);
    assert.ok(progress.includes('training/started') && progress.includes('training/progress') && progress.includes('training/epoch'));
    // The run folder: .convlens/runs/model/<time>-<id>/ next to the file, nothing else beside it.
    assert.ok(done.runDir && done.runDir.startsWith(path.join(runsRoot, 'runs', 'model') + path.sep), done.runDir);
    assert.deepStrictEqual(fs.readdirSync(workspace).sort(), ['.convlens', 'model.py']);
    const vscodeRun = layout(done.runDir);
    assert.deepStrictEqual(vscodeRun.files, ['batches.jsonl', 'best.ckpt', 'epochs.jsonl', 'last.ckpt', 'log.txt', 'model.onnx', 'model.py', 'result.json', 'run.json']);
    assert.strictEqual(JSON.parse(fs.readFileSync(path.join(done.runDir, 'run.json'), 'utf8')).host, 'vscode');
    // The command line writes the same layout for the same file.
    execFileSync(process.execPath, [path.join(h.repoRoot, 'dist', 'cli.js'), 'train', modelFile, '--data', 'synthetic', '--epochs', '1', '--batch-size', '64', '--limit', '300', '--threads', '1'], {
      encoding: 'utf8',
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    const runs = fs.readdirSync(path.join(runsRoot, 'runs', 'model')).sort();
    assert.strictEqual(runs.length, 2);
    const cliRun = layout(path.join(runsRoot, 'runs', 'model', runs.find((r) => r !== path.basename(done.runDir))));
    assert.deepStrictEqual(cliRun, vscodeRun, 'the CLI and the extension produce the same run layout');
    if (!ui.remote.available) return;
    const rows = await ui.remote.webviewQuery('#epoch-rows tr', { min: 2 });
    assert.strictEqual(rows.length, 2);
    const status = await ui.remote.webviewQuery('#training-progress');
    assert.match(status[0], /Training finished after 2 epochs · test accuracy/);
    const evalTitle = await ui.remote.webviewQuery('#evaluation h3', { min: 1, timeout: 60000 });
    // It says which data and which weights: '2,000 synthetic digits (seed 1) test images: 97.00% correct with <run>/best.ckpt'.
    assert.match(evalTitle[0], /^[\d,]+ synthetic digits \(seed 1\) test images: \d+\.\d\d% correct with .*\/best\.ckpt$/);
    const confusion = await ui.remote.webviewQuery('table.confusion tr', { min: 11 });
    assert.strictEqual(confusion.length, 11, 'header + 10 classes');
    const grid = await ui.remote.webviewQuery('.sample-grid figure', { min: 8 });
    assert.ok(grid.length >= 8);
    await ui.remote.webviewClick('nav button[data-tab="training"]');
    await ui.remote.screenshot('panel-training');
    const label = await ui.remote.webviewQuery('#input-label');
    assert.match(label[0], /checkpoint/, 'the feature maps switched to the trained weights');
    await ui.remote.webviewClick('nav button[data-tab="features"]');
    await ui.remote.screenshot('panel-feature-maps-trained');
  });

  it('convlens.train.device reaches the trainer: a device this machine cannot have trains on the CPU, the reason in the log and the started message, the request in run.json', async function () {
    // DirectML exists only in onnxruntime-node's Windows builds, so on Linux the fall-back is certain.
    if (process.platform === 'win32') this.skip();
    const config = vscode.workspace.getConfiguration('convlens.train');
    await config.update('device', 'dml', vscode.ConfigurationTarget.Global);
    try {
      const finished = nextFinish();
      let started;
      const sub = api().training.onMessage(({ message }) => {
        if (message.method === 'training/started') started = message.params;
      });
      await vscode.commands.executeCommand('convlens.train', vscode.Uri.file(modelFile).toString(), undefined, { data: 'synthetic', epochs: 1, batchSize: 64, limit: { train: 300, test: 100 } });
      const done = (await finished).done;
      sub.dispose();
      assert.strictEqual(done.reason, 'completed', done.message);
      assert.strictEqual(started && started.device, 'cpu');
      assert.ok(started.warnings.some((w) => /^DirectML cannot be used: DirectML is only in onnxruntime-node's Windows builds \(this is linux\); training on the CPU instead$/.test(w)), started.warnings.join('\n'));
      assert.strictEqual(JSON.parse(fs.readFileSync(path.join(done.runDir, 'run.json'), 'utf8')).settings.device, 'dml');
      assert.match(fs.readFileSync(path.join(done.runDir, 'log.txt'), 'utf8'), / warning: DirectML cannot be used: /);
    } finally {
      await config.update('device', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('Stop Training cancels a run within a step, and the extension host stays up', async function () {
    const finished = nextFinish();
    let first;
    const started = new Promise((resolve) => {
      const sub = api().training.onMessage(({ message }) => {
        if (message.method === 'training/progress') {
          sub.dispose();
          first = Date.now();
          resolve();
        }
      });
    });
    await vscode.commands.executeCommand('convlens.train', vscode.Uri.file(modelFile).toString(), undefined, { data: 'synthetic', epochs: 50, batchSize: 32 });
    await started;
    await vscode.commands.executeCommand('convlens.stopTraining');
    const run = await finished;
    assert.strictEqual(run.done.reason, 'cancelled', run.done.message);
    assert.ok(Date.now() - first < 15000, `stopped after ${Date.now() - first} ms`);
    // The stop wrote the checkpoint to resume from, inside the run folder, and recorded how it ended.
    assert.ok(run.done.last && fs.existsSync(run.done.last.path) && run.done.last.path.startsWith(run.runDir), JSON.stringify(run.done.last));
    assert.strictEqual(JSON.parse(fs.readFileSync(path.join(run.runDir, 'result.json'), 'utf8')).reason, 'cancelled');
    // The host still answers.
    const hints = await h.hints(await h.open(modelFile));
    assert.ok(hints.length === 4);
  });

  it('the filters playground shows the output-size formula with the numbers', async function () {
    if (!ui.remote.available) this.skip();
    await h.open(modelFile);
    await vscode.commands.executeCommand('convlens.showFeatureMaps', vscode.Uri.file(modelFile).toString());
    await ui.remote.webviewClick('nav button[data-tab="playground"]');
    const formula = await ui.remote.webviewQuery('.formula div', { min: 3 });
    assert.match(formula.join('\n'), /rows: ⌊\(n \+ 2p − f\)\/s⌋ \+ 1 = ⌊\(28 \+ 2·0 − 3\)\/1⌋ \+ 1 = 26/);
    await ui.remote.screenshot('panel-playground');
  });
  it('shows real MNIST test images when convlens.data.folders names the MNIST folder', async function () {
    const mnist = path.join(h.repoRoot, '..', 'shared', 'datasets', 'mnist');
    if (!fs.existsSync(mnist) || !ui.remote.available) {
      console.log(`    (skipped: ${mnist} is absent or there is no UI runner)`);
      this.skip();
    }
    // Only this panel may exist: hidden webviews keep their frames, and the UI checks search all frames.
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const config = vscode.workspace.getConfiguration('convlens.data');
    await config.update('folders', { mnist }, vscode.ConfigurationTarget.Global);
    try {
      const seed = path.join(h.seeds, '001_mnist_cnn.py');
      await h.open(seed);
      await vscode.commands.executeCommand('convlens.showFeatureMaps', vscode.Uri.file(seed).toString());
      const label = await ui.remote.webviewQuery('#input-label', { min: 1 });
      await h.until('an MNIST sample', async () => {
        const t = await ui.remote.webviewQuery('#input-label');
        return /MNIST.*test image 0 \(label 7\)/.test(t[0]) ? t : undefined;
      }, 30000);
      assert.ok(label.length === 1);
      const headers = await ui.remote.webviewQuery('section.layer h3', { min: 7 });
      assert.strictEqual(headers.length, 7);
    } finally {
      await config.update('folders', undefined, vscode.ConfigurationTarget.Global);
    }
  });

});
