// The live annotations in a real VS Code: inlay hints, hover, code lens, diagnostics, quick fixes
// and the summary document, each checked against the core's own numbers for the seed models.
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const vscode = require('vscode');
const h = require('./helpers');

const SEEDS = fs.readdirSync(h.seeds).filter((f) => f.endsWith('.py')).sort();

describe('editor features on the seed models', function () {
  before(async () => {
    await vscode.extensions.getExtension('convlens.convlens').activate();
  });
  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  for (const seed of SEEDS) {
    it(`${seed}: one inlay hint per layer with the core's shape and parameter count`, async () => {
      const file = path.join(h.seeds, seed);
      const core = h.coreJson(file);
      const doc = await h.open(file);
      const expected = core.models.flatMap((m) => m.layers.map(h.expectedHint));
      const got = await h.until('inlay hints', async () => {
        const hs = await h.hints(doc);
        return hs.length === expected.length ? hs : undefined;
      });
      assert.deepStrictEqual(got.map(h.labelText), expected);
      // Each hint sits on the line of its layer's call (or the end line of a multi-line call).
      const layers = core.models.flatMap((m) => m.layers);
      got.forEach((hint, i) => assert.ok(hint.position.line + 1 >= layers[i].line, `hint ${i} on line ${hint.position.line + 1}, layer on ${layers[i].line}`));
    });

    it(`${seed}: hover shows input → output, the formula, MACs and receptive field`, async () => {
      const file = path.join(h.seeds, seed);
      const core = h.coreJson(file);
      const doc = await h.open(file);
      for (const layer of core.models.flatMap((m) => m.layers)) {
        const pos = new vscode.Position(layer.line - 1, layer.column - 1 + 1);
        const hovers = await h.until(`hover on ${layer.name}`, async () => {
          const r = await vscode.commands.executeCommand('vscode.executeHoverProvider', doc.uri, pos);
          return r && r.length ? r : undefined;
        });
        const text = hovers.flatMap((x) => x.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
        assert.match(text, new RegExp(`\\*\\*${layer.type}\\*\\*`));
        assert.ok(text.includes(`→ \`${h.shape(layer.outputShape)}\``), `${layer.name}: ${text}`);
        if (layer.formula) assert.ok(text.includes(layer.formula), `${layer.name} formula ${layer.formula} not in ${text}`);
        assert.ok(text.includes(`MACs: ${h.count(layer.macs)}`), `${layer.name}: MACs`);
        assert.match(text, /Receptive field: /);
        assert.match(text, /Activation memory: /);
      }
    });

    it(`${seed}: a code lens above each model with its totals`, async () => {
      const file = path.join(h.seeds, seed);
      const core = h.coreJson(file);
      const doc = await h.open(file);
      const lenses = await h.until('code lenses', async () => {
        const r = await vscode.commands.executeCommand('vscode.executeCodeLensProvider', doc.uri, 10);
        return r && r.length >= core.models.length ? r : undefined;
      });
      for (const m of core.models) {
        const onLine = lenses.filter((l) => l.range.start.line === m.line - 1).map((l) => l.command && l.command.title);
        assert.ok(onLine.some((t) => t && t.startsWith(`${h.count(m.totalParams)} params (`)), `model on line ${m.line}: ${onLine}`);
        assert.ok(onLine.includes('Show summary'));
      }
    });
  }

  it('the seed MNIST model: exact hint, hover and lens texts', async () => {
    const doc = await h.open(path.join(h.seeds, '001_mnist_cnn.py'));
    const hs = await h.until('hints', async () => ((await h.hints(doc)).length === 7 ? h.hints(doc) : undefined));
    assert.strictEqual(h.labelText(hs[0]), '→ (None, 24, 24, 10) · 260 params');
    const hover = await vscode.commands.executeCommand('vscode.executeHoverProvider', doc.uri, new vscode.Position(33, 20));
    const md = hover[0].contents[0].value;
    assert.match(md, /`\(None, 28, 28, 1\)` → `\(None, 24, 24, 10\)`/);
    assert.match(md, /Params: `10 × \(5·5·1\) \+ 10 = 260`/);
    const lenses = await vscode.commands.executeCommand('vscode.executeCodeLensProvider', doc.uri, 10);
    assert.ok(lenses.some((l) => l.command && l.command.title === '38,390 params (149.96 KB) · 497 K MACs'));
  });

  it('Show summary opens the Keras-style table in a read-only document', async () => {
    const file = path.join(h.seeds, '001_mnist_cnn.py');
    await h.open(file);
    await vscode.commands.executeCommand('convlens.showSummary', vscode.Uri.file(file).toString(), 0);
    const editor = await h.until('the summary editor', async () => vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'convlens-summary'));
    const text = editor.document.getText();
    assert.match(text, / conv2d \(Conv2D\) +\(None, 24, 24, 10\) +260/);
    assert.match(text, /Total params: 38,390 \(149\.96 KB\)/);
  });
});

describe('diagnostics and quick fixes', function () {
  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  const BROKEN = [
    'from keras import layers, models',
    'model = models.Sequential()',
    "model.add(layers.Conv2D(8, 3, input_shape=(6, 6, 1)))",
    "model.add(layers.Conv2D(4, (5, 5), activation='relu'))",
    'model.add(layers.Flatten())',
    'model.add(layers.Dense(10))',
    '',
  ].join('\n');

  async function untitled(content) {
    const doc = await vscode.workspace.openTextDocument({ language: 'python', content });
    await vscode.window.showTextDocument(doc);
    return doc;
  }
  const ours = (uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'ConvLens');

  it('a shape error is a red squiggle on the exact argument, with the arithmetic', async () => {
    const doc = await untitled(BROKEN);
    const [d] = await h.until('diagnostics', async () => (ours(doc.uri).length ? ours(doc.uri) : undefined));
    assert.strictEqual(d.severity, vscode.DiagnosticSeverity.Error);
    assert.strictEqual(d.message, "Conv2D's 5×5 kernel is larger than its 4×4 input, so it has no output position: (4 − 5) / 1 + 1 = 0; use a kernel of at most 4×4, or padding='same'");
    assert.strictEqual(doc.getText(d.range), '(5, 5)');
    assert.strictEqual(d.range.start.line, 3);
    assert.strictEqual(d.code, 'output-empty');
  });

  it("the quick fixes: the largest kernel that fits clears the error; padding='same' leaves a warning that the kernel covers padding", async () => {
    let doc = await untitled(BROKEN);
    let [d] = await h.until('diagnostics', async () => (ours(doc.uri).length ? ours(doc.uri) : undefined));
    let actions = await vscode.commands.executeCommand('vscode.executeCodeActionProvider', doc.uri, d.range, vscode.CodeActionKind.QuickFix.value);
    const kernel = actions.find((a) => a.title === 'Use kernel_size=4, the largest that fits');
    assert.ok(kernel, `actions: ${actions.map((a) => a.title)}`);
    assert.ok(await vscode.workspace.applyEdit(kernel.edit));
    assert.match(doc.lineAt(3).text, /Conv2D\(4, 4, activation='relu'\)\)$/);
    await h.until('the error to clear', async () => ours(doc.uri).length === 0);
    doc = await untitled(BROKEN);
    [d] = await h.until('diagnostics', async () => (ours(doc.uri).length ? ours(doc.uri) : undefined));
    actions = await vscode.commands.executeCommand('vscode.executeCodeActionProvider', doc.uri, d.range, vscode.CodeActionKind.QuickFix.value);
    const same = actions.find((a) => a.title === "Use padding='same'");
    assert.ok(await vscode.workspace.applyEdit(same.edit));
    assert.match(doc.lineAt(3).text, /padding='same'\)\)$/);
    const w = await h.until('the warning', async () => ours(doc.uri).find((x) => x.code === 'kernel-larger-than-input'));
    assert.strictEqual(w.severity, vscode.DiagnosticSeverity.Warning);
    assert.ok(!ours(doc.uri).some((x) => x.severity === vscode.DiagnosticSeverity.Error));
  });

  it('Dense on a 4-D tensor warns, and the quick fix inserts Flatten() before it', async () => {
    const doc = await untitled(BROKEN.replace('model.add(layers.Flatten())\n', '').replace('(6, 6, 1)', '(12, 12, 1)'));
    const d = await h.until('the warning', async () => ours(doc.uri).find((x) => x.code === 'dense-on-nd'));
    assert.strictEqual(d.severity, vscode.DiagnosticSeverity.Warning);
    const actions = await vscode.commands.executeCommand('vscode.executeCodeActionProvider', doc.uri, d.range, vscode.CodeActionKind.QuickFix.value);
    const fix = actions.find((a) => a.title.startsWith('Insert Flatten()'));
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.strictEqual(doc.lineAt(4).text, 'model.add(layers.Flatten())');
    await h.until('the warning to clear', async () => ours(doc.uri).length === 0);
  });

  it('hints follow typing: changing the filters updates the shape and parameter count', async () => {
    const doc = await untitled(BROKEN.replace('(6, 6, 1)', '(12, 12, 1)'));
    await h.until('hints', async () => ((await h.hints(doc)).length === 4 ? true : undefined));
    const edit = new vscode.WorkspaceEdit();
    const at = doc.getText().indexOf('Conv2D(8') + 7;
    edit.replace(doc.uri, new vscode.Range(doc.positionAt(at), doc.positionAt(at + 1)), '16');
    assert.ok(await vscode.workspace.applyEdit(edit));
    const first = await h.until('the updated hint', async () => {
      const hs = await h.hints(doc);
      return hs.length && h.labelText(hs[0]) === '→ (None, 10, 10, 16) · 160 params' ? hs[0] : undefined;
    });
    assert.ok(first);
  });

  it('the convlens.inlayHints.show setting switches to shapes only, and off', async () => {
    const doc = await h.open(path.join(h.seeds, '001_mnist_cnn.py'));
    const config = vscode.workspace.getConfiguration('convlens');
    try {
      await config.update('inlayHints.show', 'shapes', vscode.ConfigurationTarget.Global);
      await h.until('shape-only hints', async () => {
        const hs = await h.hints(doc);
        return hs.length && h.labelText(hs[0]) === '→ (None, 24, 24, 10)';
      });
      await config.update('inlayHints.show', 'off', vscode.ConfigurationTarget.Global);
      await h.until('no hints', async () => (await h.hints(doc)).length === 0);
    } finally {
      await config.update('inlayHints.show', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('declares support for untrusted workspaces, where the runs folder comes from user settings only, and virtual workspaces', () => {
    const pkg = vscode.extensions.getExtension('convlens.convlens').packageJSON;
    assert.strictEqual(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
    assert.deepStrictEqual(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations, ['convlens.training.runsFolder']);
    assert.deepStrictEqual(pkg.activationEvents, ['onLanguage:python', 'onNotebook:jupyter-notebook']);
  });
});
