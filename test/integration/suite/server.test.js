// The language server behind the editor features: killed mid-session it comes back and the editor
// keeps working; a Jupyter notebook's cells are analysed as one program, with hints, hovers and
// diagnostics in the right cell, and its model trains from the command.
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const vscode = require('vscode');
const h = require('./helpers');
const ui = require('../uiCheck');

const NOTEBOOK = path.join(h.repoRoot, 'test', 'fixtures', 'notebooks', '5.1-introduction-to-convnets.ipynb');

function api() {
  return vscode.extensions.getExtension('convlens.convlens').exports.ctx;
}

describe('the ConvLens language server', function () {
  this.timeout(120000);
  before(async () => {
    await vscode.extensions.getExtension('convlens.convlens').activate();
  });
  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('runs in its own process, not in the extension host', async () => {
    const doc = await h.open(path.join(h.seeds, '001_mnist_cnn.py'));
    await h.until('hints', async () => ((await h.hints(doc)).length === 7 ? true : undefined), 20000);
    const pid = api().server.pid;
    assert.ok(typeof pid === 'number' && pid !== process.pid, `server pid ${pid}, extension host ${process.pid}`);
    process.kill(pid, 0); // it exists
  });

  it('killed mid-session, it is restarted with a message and the editor keeps working', async () => {
    const doc = await h.open(path.join(h.seeds, '001_mnist_cnn.py'));
    await h.until('hints', async () => ((await h.hints(doc)).length === 7 ? true : undefined), 20000);
    const server = api().server;
    const before = { pid: server.pid, restarts: server.restartCount };
    process.kill(before.pid, 'SIGKILL');
    await h.until('a new server process', async () => (server.running && server.pid && server.pid !== before.pid ? true : undefined), 30000);
    assert.strictEqual(server.restartCount, before.restarts + 1);
    // The reopened documents are analysed again: hints, hovers and diagnostics come back.
    const hs = await h.until('hints from the new server', async () => {
      const got = await h.hints(doc);
      return got.length === 7 ? got : undefined;
    }, 30000);
    assert.strictEqual(h.labelText(hs[0]), '→ (None, 24, 24, 10) · 260 params');
    const hover = await vscode.commands.executeCommand('vscode.executeHoverProvider', doc.uri, new vscode.Position(33, 20));
    assert.match(hover[0].contents[0].value, /Params: `10 × \(5·5·1\) \+ 10 = 260`/);
    // Typing still updates the hints.
    const edit = new vscode.WorkspaceEdit();
    const line = doc.lineAt(33);
    const at = line.text.indexOf('Conv2D(10') + 7;
    edit.replace(doc.uri, new vscode.Range(33, at, 33, at + 2), '12');
    assert.ok(await vscode.workspace.applyEdit(edit));
    await h.until('the edited hint', async () => {
      const got = await h.hints(doc);
      return got.length && h.labelText(got[0]) === '→ (None, 24, 24, 12) · 312 params' ? true : undefined;
    }, 20000);
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  describe('a Jupyter notebook (fchollet, Deep Learning with Python, 5.1: the model built across cells)', () => {
    // Runs of the notebook's model go to .convlens/runs/5.1-introduction-to-convnets/ beside it.
    const runsRoot = path.join(path.dirname(NOTEBOOK), '.convlens');
    let notebook;
    before(async () => {
      fs.rmSync(runsRoot, { recursive: true, force: true });
      notebook = await vscode.workspace.openNotebookDocument(vscode.Uri.file(NOTEBOOK));
      await vscode.window.showNotebookDocument(notebook);
    });
    after(() => {
      fs.rmSync(runsRoot, { recursive: true, force: true });
    });
    const cell = (i) => notebook.cellAt(i).document;

    it('shows each layer’s hint in its own cell: the base in cell 3, the head added in cell 7', async () => {
      const base = await h.until('hints in cell 3', async () => {
        const got = await h.hints(cell(2));
        return got.length === 5 ? got : undefined;
      }, 30000);
      assert.deepStrictEqual(base.map((x) => [x.position.line, h.labelText(x)]), [
        [4, '→ (None, 26, 26, 32) · 320 params'],
        [5, '→ (None, 13, 13, 32) · 0 params'],
        [6, '→ (None, 11, 11, 64) · 18,496 params'],
        [7, '→ (None, 5, 5, 64) · 0 params'],
        [8, '→ (None, 3, 3, 64) · 36,928 params'],
      ]);
      const head = await h.hints(cell(6));
      assert.deepStrictEqual(head.map(h.labelText), ['→ (None, 576) · 0 params', '→ (None, 64) · 36,928 params', '→ (None, 10) · 650 params']);
      const hover = await vscode.commands.executeCommand('vscode.executeHoverProvider', cell(6).uri, new vscode.Position(1, 20));
      assert.match(hover[0].contents[0].value, /`\(None, 576\)` → `\(None, 64\)`/);
      const lenses = await vscode.commands.executeCommand('vscode.executeCodeLensProvider', cell(2).uri, 10);
      assert.ok(lenses.some((l) => l.command && l.command.title === '93,322 params (364.54 KB) · 2.8 M MACs'), lenses.map((l) => l.command && l.command.title).join(' | '));
    });

    it('reports an error typed into a cell in that cell', async () => {
      const doc = cell(6);
      const edit = new vscode.WorkspaceEdit();
      edit.replace(doc.uri, new vscode.Range(1, 23, 1, 25), '0');
      assert.ok(await vscode.workspace.applyEdit(edit));
      const d = await h.until('the diagnostic in cell 7', async () => {
        const ds = vscode.languages.getDiagnostics(doc.uri).filter((x) => x.source === 'ConvLens');
        return ds.length ? ds : undefined;
      }, 20000);
      assert.strictEqual(d[0].range.start.line, 1);
      assert.strictEqual(vscode.languages.getDiagnostics(cell(2).uri).filter((x) => x.source === 'ConvLens').length, 0);
      const undo = new vscode.WorkspaceEdit();
      undo.replace(doc.uri, new vscode.Range(1, 23, 1, 24), '64');
      assert.ok(await vscode.workspace.applyEdit(undo));
      await h.until('the diagnostic to clear', async () => vscode.languages.getDiagnostics(doc.uri).filter((x) => x.source === 'ConvLens').length === 0, 20000);
    });

    it('trains the notebook’s model from the command, its run folder beside the notebook', async () => {
      const finished = new Promise((resolve) => {
        const sub = api().training.onDidFinish((run) => {
          sub.dispose();
          resolve(run);
        });
      });
      const run = await vscode.commands.executeCommand('convlens.train', notebook.uri.toString(), undefined, { data: 'synthetic', epochs: 1, batchSize: 64, limit: { train: 1000, test: 200 } });
      assert.ok(run, 'the command returned the run');
      const done = (await finished).done;
      assert.strictEqual(done.reason, 'completed', done.message);
      assert.ok(done.runDir && done.runDir.startsWith(path.join(runsRoot, 'runs', '5.1-introduction-to-convnets') + path.sep), done.runDir);
      assert.ok(fs.existsSync(path.join(done.runDir, 'best.ckpt')), 'the best checkpoint was written');
      assert.strictEqual(run.plan.inputShape.join(), '28,28,1');
      assert.strictEqual(run.plan.layers.length, 8);
    });

    it('opens the feature maps panel for the notebook’s model, every layer shown', async () => {
      // The notebook loads mnist: the panel's first input is an MNIST test image, from the shared copy.
      const mnist = path.join(h.repoRoot, '..', 'shared', 'datasets', 'mnist');
      const config = vscode.workspace.getConfiguration('convlens.data');
      if (fs.existsSync(mnist)) await config.update('folders', { mnist }, vscode.ConfigurationTarget.Global);
      try {
        const panel = await vscode.commands.executeCommand('convlens.showFeatureMaps', notebook.uri.toString());
        assert.ok(panel, 'the command returned the panel');
        assert.strictEqual(panel.panel.title, 'ConvLens: 5.1-introduction-to-convnets.ipynb');
        if (!ui.remote.available || !fs.existsSync(mnist)) return;
        await checkLayers();
      } finally {
        await config.update('folders', undefined, vscode.ConfigurationTarget.Global);
      }
    });

    async function checkLayers() {
      const headers = await ui.remote.webviewQuery('section.layer h3', { min: 8 });
      assert.deepStrictEqual(headers.map((t) => t.split(' ')[0]), ['conv2d', 'max_pooling2d', 'conv2d_1', 'max_pooling2d_1', 'conv2d_2', 'flatten', 'dense', 'dense_1']);
      assert.match(headers[4], /\(Conv2D\) → \(None, 3, 3, 64\)/);
      await ui.remote.screenshot('panel-notebook-feature-maps');
    }
  });
});
