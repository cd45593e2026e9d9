// Shared by the integration suites: the core's own answer (from the built CLI) to compare the
// editor features with, and small waits.
'use strict';
const { execFileSync } = require('child_process');
const path = require('path');
const vscode = require('vscode');

const repoRoot = path.resolve(__dirname, '../../..');
const seeds = path.join(repoRoot, 'test', 'fixtures', 'seeds');

/** `convlens summary --json` of a file, run by the extension's own dist/cli.js. */
function coreJson(file, extensionRoot = repoRoot) {
  const out = execFileSync(process.execPath, [path.join(extensionRoot, 'dist', 'cli.js'), 'summary', '--json', file], {
    encoding: 'utf8',
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    // exit 1 only means the file has an error
  }).trim();
  return JSON.parse(out);
}

const shape = (s) => `(${s.map((d) => (d === null ? 'None' : d)).join(', ')})`;
const count = (n) => n.toLocaleString('en-US');

/** The hint label the core's numbers call for, for a layer run once. */
function expectedHint(layer) {
  return `→ ${shape(layer.outputShape)} · ${count(layer.params)} param${layer.params === 1 ? '' : 's'}`;
}

const labelText = (hint) => (typeof hint.label === 'string' ? hint.label : hint.label.map((p) => p.value).join(''));

async function until(what, fn, timeoutMs = 10000) {
  const start = Date.now();
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function open(file) {
  const doc = await vscode.workspace.openTextDocument(file);
  await vscode.window.showTextDocument(doc);
  return doc;
}

async function hints(doc) {
  const full = new vscode.Range(0, 0, doc.lineCount, 0);
  return (await vscode.commands.executeCommand('vscode.executeInlayHintProvider', doc.uri, full)) || [];
}

module.exports = { repoRoot, seeds, coreJson, expectedHint, labelText, until, open, hints, shape, count };
