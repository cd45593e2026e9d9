// Smoke test: the right VS Code, the right workspace, and (once it is built) the ConvLens extension loads.
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const vscode = require('vscode');

const repoRoot = path.resolve(__dirname, '../../..');
const EXTENSION_ID = 'convlens.convlens';
// runTest.js passes the version it launches; 1.139 = code-server 4.139.1 (scripts/setup-offline-vscode.sh)
const expectedVersion = process.env.CONVLENS_EXPECTED_VSCODE_VERSION || '1.139';

describe('smoke', () => {
  it(`runs in VS Code ${expectedVersion}`, () => {
    assert.ok(vscode.version === expectedVersion || vscode.version.startsWith(expectedVersion + '.'),
      `vscode.version is ${vscode.version}, expected ${expectedVersion}`);
  });

  it('opened test/fixtures/workspace as the workspace folder', async () => {
    const folders = vscode.workspace.workspaceFolders || [];
    assert.strictEqual(folders.length, 1, `workspace folders: ${folders.map((f) => f.uri.toString()).join(', ')}`);
    assert.strictEqual(path.resolve(folders[0].uri.fsPath), path.join(repoRoot, 'test', 'fixtures', 'workspace'));
    const found = await vscode.workspace.findFiles('model.py');
    assert.strictEqual(found.length, 1, 'model.py not found in the workspace');
    const doc = await vscode.workspace.openTextDocument(found[0]);
    assert.strictEqual(doc.languageId, 'python');
    assert.match(doc.getText(), /layers\.Conv2D\(10, \(5, 5\)/);
  });

  describe(`extension ${EXTENSION_ID}`, () => {
    const built = fs.existsSync(path.join(repoRoot, 'dist', 'extension.js'));
    before(function () {
      if (!built) {
        console.log(`    (skipped: ${path.join(repoRoot, 'dist', 'extension.js')} does not exist; run the build first)`);
        this.skip();
      }
    });

    it('is loaded from the development path', () => {
      const ext = vscode.extensions.getExtension(EXTENSION_ID);
      assert.ok(ext, `${EXTENSION_ID} is not among ${vscode.extensions.all.filter((e) => !e.id.startsWith('vscode.')).map((e) => e.id).join(', ')}`);
      assert.strictEqual(path.resolve(ext.extensionPath), repoRoot);
    });

    it('activates', async () => {
      const ext = vscode.extensions.getExtension(EXTENSION_ID);
      await ext.activate();
      assert.ok(ext.isActive);
    });
  });
});
