// Graph models in a real VS Code: a functional ResNet (hints on `x = layer(...)(x)` lines, the merge's
// hover with both inputs, the totals lens, a merge mismatch with its quick fix), a subclassed model
// (shapes at the calls in call(), parameters at the layers made in __init__), and the feature maps
// of a residual network.
'use strict';
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const vscode = require('vscode');
const ui = require('../uiCheck');
const h = require('./helpers');

const graphs = path.join(h.repoRoot, 'test', 'fixtures', 'graphs');
const residual = path.join(graphs, 'residual_digits.py');
const subclassed = path.join(graphs, 'subclassed_net.py');

const lineOf = (doc, needle, from = 0) => {
  for (let i = from; i < doc.lineCount; i++) if (doc.lineAt(i).text.includes(needle)) return i;
  throw new Error(`no line with ${needle}`);
};

async function hoverText(doc, pos) {
  const hovers = await h.until('hover', async () => {
    const r = await vscode.commands.executeCommand('vscode.executeHoverProvider', doc.uri, pos);
    return r && r.length ? r : undefined;
  });
  return hovers.flatMap((x) => x.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
}

describe('graph models in the editor', function () {
  this.timeout(120000);
  before(async () => {
    await vscode.extensions.getExtension('convlens.convlens').activate();
  });
  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('a functional ResNet: hints at every layer call in the helper (×2 where it runs twice), the merge hover lists both inputs, the lens its totals', async () => {
    const core = h.coreJson(residual).models.find((m) => m.name === 'residual_digits');
    const doc = await h.open(residual);
    const hs = await h.until('hints', async () => {
      const got = await h.hints(doc);
      return got.length >= 8 ? got : undefined;
    });
    const byLine = new Map(hs.map((x) => [x.position.line, h.labelText(x)]));
    // The stem conv runs once; the helper's first conv runs for both blocks, with two shapes.
    assert.strictEqual(byLine.get(lineOf(doc, 'x = layers.Conv2D(16, 3, strides=2')), '→ (None, 14, 14, 16) · 160 params');
    assert.strictEqual(byLine.get(lineOf(doc, 'x = layers.Conv2D(filters, 3, strides=stride')), '×2 → (None, 14, 14, 16) · 2,304 params | (None, 7, 7, 32) · 4,608 params');
    assert.strictEqual(byLine.get(lineOf(doc, 'x = layers.add([x, shortcut])')), '×2 → (None, 14, 14, 16) · 0 params | (None, 7, 7, 32) · 0 params');
    const addLine = lineOf(doc, 'x = layers.add([x, shortcut])');
    const md = await hoverText(doc, new vscode.Position(addLine, doc.lineAt(addLine).text.indexOf('add') + 1));
    assert.match(md, /\*\*Add\*\*/);
    assert.match(md, /\[`\(None, 14, 14, 16\)` \(batch_normalization_1\[0\]\[0\]\), `\(None, 14, 14, 16\)` \(conv2d\[0\]\[0\]\)\] → `\(None, 14, 14, 16\)`/);
    const lenses = await h.until('lenses', async () => {
      const r = await vscode.commands.executeCommand('vscode.executeCodeLensProvider', doc.uri, 10);
      return r && r.length ? r : undefined;
    });
    assert.ok(lenses.some((l) => l.command && l.command.title.startsWith(`${h.count(core.totalParams)} params (`)), lenses.map((l) => l.command && l.command.title).join(' | '));
    if (ui.remote.available) await ui.remote.screenshot('graph-functional-resnet-hints');
  });

  it('an Add of different sizes: an error on the call naming both shapes, fixed by the 1×1 projection quick fix', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlens-graph-'));
    const file = path.join(dir, 'merge.py');
    fs.writeFileSync(file, 'import keras\nfrom keras import layers\ninputs = keras.Input((32, 32, 3))\nx = layers.Conv2D(64, 3, padding="same")(inputs)\ny = layers.Conv2D(64, 3, strides=2, padding="same")(x)\nz = layers.Add()([x, y])\nmodel = keras.Model(inputs, z)\n');
    const doc = await h.open(file);
    const diag = await h.until('diagnostic', async () => vscode.languages.getDiagnostics(doc.uri).find((d) => d.severity === vscode.DiagnosticSeverity.Error));
    assert.strictEqual(doc.getText(diag.range), 'layers.Add()([x, y])');
    assert.match(diag.message, /input 1 is \(None, 32, 32, 64\) and input 2 is \(None, 16, 16, 64\)/);
    const actions = await vscode.commands.executeCommand('vscode.executeCodeActionProvider', doc.uri, diag.range);
    const fix = actions.find((a) => /1×1 Conv2D/.test(a.title));
    assert.ok(fix, actions.map((a) => a.title).join(' | '));
    await vscode.workspace.applyEdit(fix.edit);
    assert.match(doc.lineAt(5).text, /layers\.Add\(\)\(\[layers\.Conv2D\(64, 1, strides=2, padding='same'\)\(x\), y\]\)/);
    await h.until('the error to go', async () => (vscode.languages.getDiagnostics(doc.uri).some((d) => d.severity === vscode.DiagnosticSeverity.Error) ? undefined : true));
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  it('a subclassed model: shapes at the calls in call(), parameters at the layers made in __init__, hover on a call', async () => {
    const doc = await h.open(subclassed);
    const hs = await h.until('hints', async () => {
      const got = await h.hints(doc);
      return got.length >= 7 ? got : undefined;
    });
    const byLine = new Map();
    for (const x of hs) byLine.set(x.position.line, [...(byLine.get(x.position.line) || []), h.labelText(x)]);
    assert.deepStrictEqual(byLine.get(lineOf(doc, 'self.conv1 = layers.Conv2D')), ['160 params']);
    assert.deepStrictEqual(byLine.get(lineOf(doc, 'self.head = layers.Dense')), ['8,010 params']);
    const first = lineOf(doc, 'x = self.pool(self.conv1(x))');
    assert.deepStrictEqual(byLine.get(first).sort(), ['→ (None, 13, 13, 16)', '→ (None, 26, 26, 16)'].sort());
    const md = await hoverText(doc, new vscode.Position(first, doc.lineAt(first).text.indexOf('conv1') + 1));
    assert.match(md, /\*\*Conv2D\*\*/);
    assert.match(md, /`\(None, 28, 28, 1\)` → `\(None, 26, 26, 16\)`/);
    if (ui.remote.available) await ui.remote.screenshot('graph-subclassed-hints');
  });

  it('Train Model trains the functional ResNet from the command (BatchNormalization, skip connections), writing its outputs', async function () {
    const api = vscode.extensions.getExtension('convlens.convlens').exports.ctx;
    const outputs = [residual.replace(/\.py$/, '.residual_digits.best.ckpt'), residual.replace(/\.py$/, '.residual_digits.onnx'), residual.replace(/\.py$/, '.best.ckpt'), residual.replace(/\.py$/, '.onnx')];
    const finished = new Promise((resolve) => {
      const sub = api.training.onDidFinish((run) => {
        sub.dispose();
        resolve(run);
      });
    });
    await h.open(residual);
    await vscode.commands.executeCommand('convlens.train', vscode.Uri.file(residual).toString(), undefined, { data: 'synthetic', epochs: 1, batchSize: 32, limit: { train: 1200, test: 300 } });
    const done = (await finished).done;
    try {
      assert.strictEqual(done.reason, 'completed', done.message);
      assert.strictEqual(done.epochs, 1);
    } finally {
      for (const f of outputs) fs.rmSync(f, { force: true });
      fs.rmSync(path.join(graphs, '.convlens'), { recursive: true, force: true });
    }
  });

  it('feature maps of a residual network: every call in execution order, the merges marked with their branches', async function () {
    await h.open(residual);
    await vscode.commands.executeCommand('convlens.showFeatureMaps', vscode.Uri.file(residual).toString());
    if (!ui.remote.available) return;
    const headers = await ui.remote.webviewQuery('section.layer h3', { min: 20 });
    const names = headers.map((t) => t.split(' ')[0]);
    assert.strictEqual(names[0], 'conv2d');
    assert.ok(names.indexOf('add') > names.indexOf('batch_normalization_1'), names.join(' '));
    const add = headers.find((t) => t.startsWith('add '));
    assert.match(add, /\(Add\) → \(None, 14, 14, 16\) ← batch_normalization_1 \+ conv2d/);
    await ui.remote.screenshot('graph-feature-maps-residual');
  });
});
