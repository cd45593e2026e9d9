// A PyTorch model file in a real VS Code: the pytorch/examples MNIST Net
// (test/fixtures/pytorch/pytorch_examples/mnist_main.py, from https://github.com/pytorch/examples
// mnist/main.py) gets its hints, hover, the mat1/mat2 diagnostic and its quick fix, trains from the
// command as its file says, and opens in the panel with its feature maps.
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const vscode = require('vscode');
const ui = require('../uiCheck');
const h = require('./helpers');

const workspace = path.join(h.repoRoot, 'test', 'fixtures', 'workspace');
const source = path.join(h.repoRoot, 'test', 'fixtures', 'pytorch', 'pytorch_examples', 'mnist_main.py');
const netFile = path.join(workspace, 'torch_mnist_net.py');
const brokenFile = path.join(workspace, 'torch_mnist_broken.py');
const runsRoot = path.join(workspace, '.convlens');

function api() {
  return vscode.extensions.getExtension('convlens.convlens').exports.ctx;
}

function nextFinish() {
  return new Promise((resolve) => {
    const sub = api().training.onDidFinish((run) => {
      sub.dispose();
      resolve(run);
    });
  });
}

const lineOf = (doc, text) => doc.getText().split('\n').findIndex((l) => l.includes(text));

describe('a PyTorch model file', function () {
  this.timeout(240000);
  before(async () => {
    await vscode.extensions.getExtension('convlens.convlens').activate();
    fs.copyFileSync(source, netFile);
    // The classic mistake: fc1 sized for the flattened 12×12×32 instead of 12×12×64.
    fs.writeFileSync(brokenFile, fs.readFileSync(source, 'utf8').replace('nn.Linear(9216, 128)', 'nn.Linear(4608, 128)'));
  });
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const f of [netFile, brokenFile]) fs.rmSync(f, { force: true });
    fs.rmSync(runsRoot, { recursive: true, force: true });
  });

  it('inlay hints: output shapes in forward (batch first), parameters in __init__', async () => {
    const doc = await h.open(netFile);
    const hs = await h.until('PyTorch hints', async () => {
      const r = await h.hints(doc);
      return r.length >= 6 ? r : undefined;
    });
    const at = (text) => hs.filter((x) => x.position.line === lineOf(doc, text)).map(h.labelText).join(' | ');
    assert.match(at('x = self.conv1(x)'), /\[64, 32, 26, 26\]/);
    assert.match(at('x = F.max_pool2d(x, 2)'), /\[64, 64, 12, 12\]/);
    assert.match(at('self.conv1 = nn.Conv2d(1, 32, 3, 1)'), /320 params/);
    assert.match(at('self.fc1 = nn.Linear(9216, 128)'), /1,179,776 params/);
  });

  it("hover on a module shows PyTorch's shapes and the parameter formula", async () => {
    const doc = await h.open(netFile);
    const line = lineOf(doc, 'self.conv2 = nn.Conv2d(32, 64, 3, 1)');
    const col = doc.lineAt(line).text.indexOf('Conv2d') + 2;
    const hovers = await h.until('hover on conv2', async () => {
      const r = await vscode.commands.executeCommand('vscode.executeHoverProvider', doc.uri, new vscode.Position(line, col));
      return r && r.length ? r : undefined;
    });
    const text = hovers.flatMap((x) => x.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /Conv2d/);
    assert.ok(text.includes('64 × (32·3·3) + 64 = 18,496'), text);
    assert.ok(text.includes('[64, 64, 24, 24]'), text);
  });

  it('the mat1/mat2 error sits on in_features, and its quick fix makes it go away', async () => {
    const doc = await h.open(brokenFile);
    const diag = await h.until('the in_features error', async () => vscode.languages.getDiagnostics(doc.uri).find((d) => /mat1 and mat2/.test(d.message)));
    assert.strictEqual(diag.severity, vscode.DiagnosticSeverity.Error);
    assert.strictEqual(doc.getText(diag.range), '4608');
    const actions = await vscode.commands.executeCommand('vscode.executeCodeActionProvider', doc.uri, diag.range);
    const fix = actions.find((a) => a.title === 'Set in_features to 9216');
    assert.ok(fix, `actions: ${actions.map((a) => a.title).join(', ')}`);
    await vscode.workspace.applyEdit(fix.edit);
    assert.match(doc.lineAt(diag.range.start.line).text, /nn\.Linear\(9216, 128\)/);
    await h.until('no in_features error after the fix', async () => !vscode.languages.getDiagnostics(doc.uri).some((d) => /mat1 and mat2/.test(d.message)));
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  it('trains from the command as the file says (Adadelta, F.nll_loss), into a run folder', async () => {
    await h.open(netFile);
    const finished = nextFinish();
    const run = await vscode.commands.executeCommand('convlens.train', vscode.Uri.file(netFile).toString(), undefined, { data: 'synthetic', epochs: 1, limit: { train: 2000, test: 400 } });
    assert.ok(run, 'the command returned the run');
    const done = (await finished).done;
    assert.strictEqual(done.reason, 'completed', done.message);
    assert.ok(done.test && done.test.accuracy > 0.5, `test accuracy ${done.test && done.test.accuracy}`);
    const dir = done.runDir;
    assert.ok(dir && dir.startsWith(path.join(runsRoot, 'runs', 'torch_mnist_net.Net') + path.sep), dir);
    assert.match(fs.readFileSync(path.join(dir, 'log.txt'), 'utf8'), /Net: Adadelta\(lr=1\), loss nll_loss, batch size 64/);
    assert.ok(fs.existsSync(path.join(dir, 'model.onnx')));
  });

  it("Show Feature Maps opens the panel with the Net's layers (on the synthetic digits, the data of its run)", async function () {
    await h.open(netFile);
    await vscode.commands.executeCommand('convlens.showFeatureMaps', vscode.Uri.file(netFile).toString());
    if (!ui.remote.available) return;
    const headers = await ui.remote.webviewQuery('section.layer h3', { min: 12 });
    // Shapes as PyTorch prints them: batch (one image), channels, height, width.
    assert.match(headers[0], /^conv1 \(Conv2d\) → \[1, 32, 26, 26\]/);
    assert.ok(headers.some((t) => t.startsWith('F.log_softmax')), headers.join(' | '));
    const tiles = await ui.remote.webviewQuery('section.layer[data-layer="conv1"] figure.tile canvas', { min: 32 });
    assert.strictEqual(tiles.length, 32, 'one heatmap per channel of conv1');
    const probs = await ui.remote.webviewQuery('#probabilities .bar-row', { min: 10 });
    assert.strictEqual(probs.length, 10);
    // The maps are computed with the weights the header names: the checkpoint of the run above.
    const header = (await ui.remote.webviewQuery('#weights'))[0];
    assert.match(header, /^weights: checkpoint .+\/best\.ckpt$/);
    await h.until('the feature maps of the trained weights', async () => /· weights: checkpoint: epoch 1\b/.test((await ui.remote.webviewQuery('#input-label'))[0]), 20000);
    // Grad-CAM over the last convolution, the class score taken before log_softmax.
    const cam = await ui.remote.webviewQuery('#explain figcaption', { min: 2, timeout: 30000 });
    assert.match(cam[0], /Grad-CAM over conv2 \(24×24, upsampled\)/);
    assert.match((await ui.remote.webviewQuery('#explain p.muted'))[0], /^Class \d+ \(the predicted class\), probability/);
    await ui.remote.screenshot('panel-feature-maps-pytorch');
  });
});
