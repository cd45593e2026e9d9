// The packaged extension as a user installs it: the VSIX (not this repository) is installed into
// the offline VS Code before it starts; opening a model file must light up the annotations, and the
// onnxruntime-node it ships for this platform must load in the extension host.
'use strict';
const assert = require('assert');
const path = require('path');
const vscode = require('vscode');
const h = require('./helpers');

describe('installed VSIX', function () {
  before(function () {
    if (!process.env.CONVLENS_TEST_VSIX) {
      console.log('    (skipped: set CONVLENS_TEST_VSIX=path.vsix; npm run test:integration does after packaging)');
      this.skip();
    }
  });

  it('is installed from the VSIX, not loaded from the repository', () => {
    const ext = vscode.extensions.getExtension('convlens.convlens');
    assert.ok(ext, 'convlens.convlens is not installed');
    assert.notStrictEqual(path.resolve(ext.extensionPath), h.repoRoot);
    assert.match(ext.extensionPath, /convlens\.convlens-\d+\.\d+\.\d+/);
  });

  it('activates on a Python file and shows the inlay hints and code lens', async () => {
    const doc = await h.open(path.join(h.seeds, '001_mnist_cnn.py'));
    const hints = await h.until('hints from the installed extension', async () => {
      const hs = await h.hints(doc);
      return hs.length === 7 ? hs : undefined;
    }, 20000);
    assert.strictEqual(h.labelText(hints[0]), '→ (None, 24, 24, 10) · 260 params');
    const lenses = await vscode.commands.executeCommand('vscode.executeCodeLensProvider', doc.uri, 10);
    assert.ok(lenses.some((l) => l.command && l.command.title === '38,390 params (149.96 KB) · 497 K MACs'));
    assert.ok(vscode.extensions.getExtension('convlens.convlens').isActive);
  });

  it("ships this platform's onnxruntime-node, which loads and runs in the extension host", async () => {
    const ext = vscode.extensions.getExtension('convlens.convlens');
    const ort = require(path.join(ext.extensionPath, 'dist', 'node_modules', 'onnxruntime-node'));
    assert.strictEqual(typeof ort.InferenceSession.create, 'function');
    assert.ok(ort.listSupportedBackends().some((b) => b.name === 'cpu'));
  });
});
