/**
 * The language server as any editor drives it: `dist/cli.js lsp --stdio`, spoken to by a plain LSP
 * client (test/unit/lspClient.ts: Content-Length framing and JSON-RPC written from the spec).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { analyzeSource, toJsonReport } from '../../src/core/index';
import { hintLabel, layerSites } from '../../src/core/present';
import { fixturePath, parser, readFixture } from './helpers';
import { cli, LspClient, root } from './lspClient';
import { mutations } from './mutations';

type Hint = { position: { line: number; character: number }; label: string; tooltip?: { value: string } };
const everything = { start: { line: 0, character: 0 }, end: { line: 1_000_000, character: 0 } };

const BROKEN = [
  'from keras import layers, models',
  'model = models.Sequential()',
  "model.add(layers.Conv2D(8, 3, input_shape=(6, 6, 1)))",
  "model.add(layers.Conv2D(4, (5, 5), activation='relu'))",
  'model.add(layers.Flatten())',
  'model.add(layers.Dense(10))',
  '',
].join('\n');

// A failed assertion skips a test's close(): kill what is left, or the test process would wait on it.
after(() => LspClient.killAll());

before(() => {
  if (!existsSync(cli) || !existsSync(path.join(root, 'dist', 'analysisWorker.js'))) {
    const b = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
  }
});

describe('language server: a generic LSP client over stdio', () => {
  let c: LspClient;
  before(async () => {
    c = new LspClient();
    const init = await c.initialize({ initializationOptions: { analysisTimeoutMs: 10_000, settings: { diagnostics: { debounceMs: 0 } } } });
    assert.equal(init.serverInfo?.name, 'convlens');
    assert.equal(init.capabilities.inlayHintProvider, true);
    assert.equal(init.capabilities.hoverProvider, true);
    assert.deepEqual(init.capabilities.codeActionProvider, { codeActionKinds: ['quickfix'] });
    assert.equal(init.capabilities.textDocumentSync, 2, 'incremental sync');
  });
  after(async () => {
    assert.equal(await c.close(), 0, c.stderr);
  });

  it('inlay hints: one per layer, the core’s labels, at the end of each model.add(…)', async () => {
    const text = readFixture('seeds', '001_mnist_cnn.py');
    const uri = 'file:///seeds/001_mnist_cnn.py';
    c.open(uri, text);
    const hints = await c.request<Hint[]>('textDocument/inlayHint', { textDocument: { uri }, range: everything });
    const expected = layerSites(analyzeSource(text, await parser())).map((s) => hintLabel(s, 'both'));
    assert.deepEqual(hints.map((h) => h.label), expected);
    assert.equal(hints[0].label, '→ (None, 24, 24, 10) · 260 params');
    assert.deepEqual(hints[0].position, { line: 33, character: 80 });
    assert.match(hints[0].tooltip!.value, /Params: `10 × \(5·5·1\) \+ 10 = 260`/);
    // A range asks for that range only.
    const some = await c.request<Hint[]>('textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: 35, character: 0 }, end: { line: 36, character: 200 } } });
    assert.deepEqual(some.map((h) => h.label), ['→ (None, 8, 8, 20) · 5,020 params', '→ (None, 4, 4, 20) · 0 params']);
  });

  it('hover: input → output, the formula, MACs, receptive field; code lens: the totals', async () => {
    const uri = 'file:///seeds/001_mnist_cnn.py';
    const hover = await c.request<{ contents: { kind: string; value: string }; range: unknown }>('textDocument/hover', { textDocument: { uri }, position: { line: 33, character: 20 } });
    assert.equal(hover.contents.kind, 'markdown');
    assert.match(hover.contents.value, /^\*\*Conv2D\*\* — /);
    assert.match(hover.contents.value, /`\(None, 28, 28, 1\)` → `\(None, 24, 24, 10\)`/);
    assert.match(hover.contents.value, /MACs: 144,000/);
    assert.deepEqual(hover.range, { start: { line: 33, character: 0 }, end: { line: 33, character: 80 } });
    const nothing = await c.request('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 0 } });
    assert.equal(nothing, null);
    const lenses = await c.request<{ range: { start: { line: number } }; command: { title: string; command: string } }[]>('textDocument/codeLens', { textDocument: { uri } });
    // Without clientCommands the lens is a title only: a generic editor has no convlens.* commands.
    assert.deepEqual(lenses.map((l) => [l.range.start.line, l.command.title, l.command.command]), [[32, '38,390 params (149.96 KB) · 497 K MACs', '']]);
  });

  it('diagnostics are pushed with the exact range and message; the quick fix edits the argument list', async () => {
    const uri = 'file:///broken.py';
    c.open(uri, BROKEN);
    const published = await c.diagnosticsFor(uri, (p) => p.diagnostics.length > 0);
    assert.deepEqual(published.diagnostics, [
      {
        range: { start: { line: 3, character: 27 }, end: { line: 3, character: 33 } },
        message: "Conv2D's 5×5 kernel is larger than its 4×4 input, so it has no output position: (4 − 5) / 1 + 1 = 0; use a kernel of at most 4×4, or padding='same'",
        severity: 1,
        source: 'ConvLens',
        code: 'output-empty',
      },
    ]);
    assert.equal(published.version, 1);
    type Action = { title: string; kind: string; isPreferred: boolean; edit: { changes: Record<string, { range: unknown; newText: string }[]> } };
    const actions = await c.request<Action[]>('textDocument/codeAction', { textDocument: { uri }, range: published.diagnostics[0].range, context: { diagnostics: published.diagnostics } });
    const same = actions.find((a) => a.title === "Use padding='same'");
    assert.ok(same, JSON.stringify(actions));
    assert.equal(same.kind, 'quickfix');
    assert.deepEqual(same.edit.changes[uri], [{ range: { start: { line: 3, character: 52 }, end: { line: 3, character: 52 } }, newText: ", padding='same'" }]);
    // The preferred fix keeps the layer valid without padding: the largest kernel that fits.
    const fix = actions.find((a) => a.isPreferred);
    assert.equal(fix?.title, 'Use kernel_size=4, the largest that fits');
    assert.deepEqual(fix.edit.changes[uri], [{ range: { start: { line: 3, character: 27 }, end: { line: 3, character: 33 } }, newText: '4' }]);

    // The user applies it (incremental sync): the error goes away.
    c.change(uri, 2, [{ range: { start: { line: 3, character: 27 }, end: { line: 3, character: 33 } }, text: '4' }]);
    const after = await c.diagnosticsFor(uri, (p) => p.version === 2);
    assert.deepEqual(after.diagnostics, []);
    const hints = await c.request<Hint[]>('textDocument/inlayHint', { textDocument: { uri }, range: everything });
    // 4·(4·4·8) + 4 = 516; the dense 4·10 + 10 = 50.
    assert.deepEqual(hints.map((h) => h.label), ['→ (None, 4, 4, 8) · 80 params', '→ (None, 1, 1, 4) · 516 params', '→ (None, 4) · 0 params', '→ (None, 10) · 50 params']);
  });

  it('a PyTorch file (no Keras in it): shapes at the calls in forward, parameters at the definitions, the mat1/mat2 error fixed by its quick fix', async () => {
    const uri = 'file:///torch_net.py';
    const text = [
      'import torch',
      'import torch.nn as nn',
      'import torch.nn.functional as F',
      '',
      'class Net(nn.Module):',
      '    def __init__(self):',
      '        super().__init__()',
      '        self.conv = nn.Conv2d(1, 8, 3)',
      '        self.fc = nn.Linear(1024, 10)',
      '',
      '    def forward(self, x):',
      '        x = F.relu(self.conv(x))',
      '        return self.fc(torch.flatten(x, 1))',
      '',
      'model = Net()',
      'out = model(torch.randn(2, 1, 28, 28))',
      '',
    ].join('\n');
    c.open(uri, text);
    const published = await c.diagnosticsFor(uri, (p) => p.diagnostics.length > 0);
    const [d] = published.diagnostics;
    assert.equal(d.code, 'in-features-mismatch');
    assert.deepEqual(d.range, { start: { line: 8, character: 28 }, end: { line: 8, character: 32 } });
    assert.match(d.message, /mat1 and mat2 shapes cannot be multiplied \(2x5408 and 1024x10\)/);
    type Action = { title: string; edit: { changes: Record<string, { range: unknown; newText: string }[]> } };
    const actions = await c.request<Action[]>('textDocument/codeAction', { textDocument: { uri }, range: d.range, context: { diagnostics: published.diagnostics } });
    const fix = actions.find((a) => a.title === 'Set in_features to 5408');
    assert.ok(fix, JSON.stringify(actions));
    c.change(uri, 2, [{ range: d.range as never, text: fix.edit.changes[uri][0].newText }]);
    assert.deepEqual((await c.diagnosticsFor(uri, (p) => p.version === 2)).diagnostics, []);
    const hints = await c.request<Hint[]>('textDocument/inlayHint', { textDocument: { uri }, range: everything });
    assert.deepEqual(hints.map((h) => [h.position.line, h.label]), [
      [7, '80 params'],
      [8, '54,090 params'],
      [11, '→ [2, 8, 26, 26]'],
      // self.fc(…) starts before the torch.flatten(…) it wraps; each hint sits after its own call.
      [12, '→ [2, 10]'],
      [12, '→ [2, 5408]'],
    ]);
  });

  it('typing: each keystroke is an incremental change; the hints follow', async () => {
    const uri = 'file:///typing.py';
    c.open(uri, BROKEN.replace('(6, 6, 1)', '(12, 12, 1)'));
    const at = { line: 2, character: 24 };
    c.change(uri, 2, [{ range: { start: at, end: { line: 2, character: 25 } }, text: '1' }]);
    c.change(uri, 3, [{ range: { start: { line: 2, character: 25 }, end: { line: 2, character: 25 } }, text: '6' }]);
    const hints = await c.request<Hint[]>('textDocument/inlayHint', { textDocument: { uri }, range: everything });
    assert.equal(hints[0].label, '→ (None, 10, 10, 16) · 160 params');
  });

  it('custom requests: the analysis, the model under the cursor, the summary, the training plan', async () => {
    const uri = 'file:///seeds/001_mnist_cnn.py';
    const a = await c.request<{ uri: string; models: { name: string; totalParams: number; layers: { name: string; config?: unknown }[] }[]; datasets: string[]; text: string }>('convlens/analysis', { uri });
    assert.equal(a.uri, uri);
    assert.deepEqual(a.models.map((m) => [m.name, m.totalParams, m.layers.length]), [['sequential', 38390, 7]]);
    assert.equal(a.models[0].layers[0].config, undefined, 'argument values stay on the server');
    assert.deepEqual(a.datasets, ['mnist']);
    assert.equal(a.text, readFixture('seeds', '001_mnist_cnn.py'));
    const at = await c.request<{ statusText: string; tooltip: string; id: number }>('convlens/modelAt', { uri, position: { line: 36, character: 0 } });
    assert.equal(at.statusText, 'sequential: 38,390 params');
    assert.match(at.tooltip, /^\*\*sequential\*\* \(`model`\) — 7 layers/);
    const summary = await c.request<{ text: string }>('convlens/summary', { uri, model: 'all' });
    assert.match(summary.text, /^Total params: 38,390 \(149\.96 KB\)$/m);
    const plan = await c.request<{ plan: { batchSize: number; epochs: number; inputShape: number[] }; problems: unknown[] }>('convlens/plan', { uri, model: at.id, overrides: { epochs: 2 } });
    assert.deepEqual([plan.plan.inputShape, plan.plan.epochs, plan.problems], [[28, 28, 1], 2, []]);
  });

  it('settings: from initializationOptions and workspace/didChangeConfiguration (push)', async () => {
    const uri = 'file:///seeds/001_mnist_cnn.py';
    c.notify('workspace/didChangeConfiguration', { settings: { convlens: { inlayHints: { show: 'shapes' }, codeLens: { enabled: false } } } });
    const refreshed = await c.waitFor('textDocument/publishDiagnostics', (p: { uri: string }) => p.uri === uri).catch(() => undefined);
    assert.ok(refreshed, 'a settings change re-publishes diagnostics');
    const hints = await c.request<Hint[]>('textDocument/inlayHint', { textDocument: { uri }, range: everything });
    assert.equal(hints[0].label, '→ (None, 24, 24, 10)');
    assert.deepEqual(await c.request('textDocument/codeLens', { textDocument: { uri } }), []);
    c.notify('workspace/didChangeConfiguration', { settings: { convlens: { diagnostics: { debounceMs: 0 } } } });
  });

  it('a document closed while it is analysed, and another opened under its name: the answer is for the new text', async () => {
    // VS Code reuses untitled names (Untitled-1) and versions restart at 1: an analysis of the closed
    // document that ends after the new one was opened must not answer for it.
    const uri = 'untitled:Untitled-7';
    // A warm worker, as in an editor session, so the first document's analysis starts at once.
    c.open('untitled:Untitled-6', BROKEN);
    await c.request<Hint[]>('textDocument/inlayHint', { textDocument: { uri: 'untitled:Untitled-6' }, range: everything });
    c.notify('textDocument/didClose', { textDocument: { uri: 'untitled:Untitled-6' } });
    // Long enough to be still in the worker when the close arrives (~0.3 s to analyse).
    c.open(uri, BROKEN + 'model.add(layers.Dense(10))\n'.repeat(3000));
    await new Promise((r) => setTimeout(r, 60));
    const old = c.request<Hint[]>('textDocument/inlayHint', { textDocument: { uri }, range: everything });
    c.notify('textDocument/didClose', { textDocument: { uri } });
    const other = BROKEN.replace('(6, 6, 1)', '(12, 12, 1)').replace('Conv2D(8, 3', 'Conv2D(16, 3');
    c.open(uri, other);
    const hints = await c.request<Hint[]>('textDocument/inlayHint', { textDocument: { uri }, range: everything });
    assert.equal(hints.length, 4);
    assert.equal(hints[0].label, '→ (None, 10, 10, 16) · 160 params', 'Conv2D(16, 3) on 12×12×1: (3·3·1 + 1)·16');
    assert.ok(Array.isArray(await old), 'the closed document\'s request is answered too');
    c.notify('textDocument/didClose', { textDocument: { uri } });
  });

  it('closing a document clears its diagnostics', async () => {
    const uri = 'file:///broken.py';
    c.notify('textDocument/didClose', { textDocument: { uri } });
    await c.diagnosticsFor(uri, (p) => p.diagnostics.length === 0);
  });
});

describe('language server: settings pulled with workspace/configuration', () => {
  it('reads the convlens section when the client supports pulling', async () => {
    const c = new LspClient();
    c.settings = { inlayHints: { show: 'params' } };
    await c.initialize({ configuration: true, initializationOptions: { analysisTimeoutMs: 10_000 } });
    const uri = 'file:///m.py';
    c.open(uri, readFixture('workspace', 'model.py'));
    // The pull happens after `initialized`; hints asked after the first diagnostics see it.
    await c.diagnosticsFor(uri);
    const hints = await c.request<Hint[]>('textDocument/inlayHint', { textDocument: { uri }, range: everything });
    assert.deepEqual(hints.map((h) => h.label), ['→ 260 params', '→ 0 params', '→ 0 params', '→ 14,410 params']);
    assert.equal(await c.close(), 0);
  });
});

describe('language server: notebooks', () => {
  it('analyses the code cells as one program and answers in the right cell', async () => {
    const nb = JSON.parse(readFixture('notebooks', '5.1-introduction-to-convnets.ipynb')) as { cells: { cell_type: string; source: string[] }[] };
    const c = new LspClient();
    await c.initialize({ initializationOptions: { analysisTimeoutMs: 10_000, settings: { diagnostics: { debounceMs: 0 } } } });
    const uri = 'file:///nb/5.1.ipynb';
    const cellUri = (i: number) => `vscode-notebook-cell:/nb/5.1.ipynb#cell${i}`;
    c.notify('notebookDocument/didOpen', {
      notebookDocument: { uri, notebookType: 'jupyter-notebook', version: 1, cells: nb.cells.map((cell, i) => ({ kind: cell.cell_type === 'code' ? 2 : 1, document: cellUri(i) })) },
      cellTextDocuments: nb.cells.map((cell, i) => ({ uri: cellUri(i), languageId: cell.cell_type === 'code' ? 'python' : 'markdown', version: 1, text: cell.source.join('') })),
    });
    // Cell 2 (0-based) builds the convolution base, cell 6 adds the dense head to the same model.
    const base = await c.request<Hint[]>('textDocument/inlayHint', { textDocument: { uri: cellUri(2) }, range: everything });
    assert.deepEqual(base.map((h) => [h.position.line, h.label]), [
      [4, '→ (None, 26, 26, 32) · 320 params'],
      [5, '→ (None, 13, 13, 32) · 0 params'],
      [6, '→ (None, 11, 11, 64) · 18,496 params'],
      [7, '→ (None, 5, 5, 64) · 0 params'],
      [8, '→ (None, 3, 3, 64) · 36,928 params'],
    ]);
    const head = await c.request<Hint[]>('textDocument/inlayHint', { textDocument: { uri: cellUri(6) }, range: everything });
    assert.deepEqual(head.map((h) => [h.position.line, h.label]), [
      [0, '→ (None, 576) · 0 params'],
      [1, '→ (None, 64) · 36,928 params'],
      [2, '→ (None, 10) · 650 params'],
    ]);
    const hover = await c.request<{ contents: { value: string } }>('textDocument/hover', { textDocument: { uri: cellUri(6) }, position: { line: 1, character: 20 } });
    assert.match(hover.contents.value, /`dense` in `model`: `\(None, 576\)` → `\(None, 64\)`/);
    const lens = await c.request<{ command: { title: string } }[]>('textDocument/codeLens', { textDocument: { uri: cellUri(2) } });
    assert.deepEqual(lens.map((l) => l.command.title), ['93,322 params (364.54 KB) · 2.8 M MACs']);
    const a = await c.request<{ uri: string; cells: { index: number }[] }>('convlens/analysis', { uri: cellUri(6) });
    assert.equal(a.uri, uri, 'a cell means its notebook');
    assert.deepEqual(a.cells.map((x) => x.index), [0, 2, 4, 6, 8, 10, 11, 13, 14]);

    // An error typed into the head cell is reported in that cell, on its line.
    c.notify('notebookDocument/didChange', {
      notebookDocument: { uri, version: 2 },
      change: { cells: { textContent: [{ document: { uri: cellUri(6), version: 2 }, changes: [{ range: { start: { line: 1, character: 23 }, end: { line: 1, character: 25 } }, text: '0' }] }] } },
    });
    const d = await c.diagnosticsFor(cellUri(6), (p) => p.diagnostics.length > 0);
    assert.deepEqual(d.diagnostics.map((x) => [x.range.start.line, x.code]), [[1, 'invalid-arg']]);
    assert.deepEqual(c.diagnostics.get(cellUri(2))?.diagnostics ?? [], []);
    assert.equal(await c.close(), 0);
  });
});

describe('language server: never blocks, never dies', () => {
  /**
   * Inputs that crashed or froze the analysis, generated here rather than committed. Each must be
   * answered (hints and diagnostics) with the listed diagnostic codes, in far less than the bound
   * (a hang check, not a speed test: `npm run bench` reports the times).
   */
  const LINES = 'from keras import layers, models\nmodel = models.Sequential()\nmodel.add(layers.Dense(4, input_shape=(8,)))\n';
  const N = 100_000;
  const CASES: { name: string; text: string; codes: string[] }[] = [
    { name: '16,000 comment lines (tree-sitter-python scans comment blocks in O(n²))', text: LINES + Array.from({ length: 16000 }, (_, i) => `# comment ${i}\n`).join('') + 'model.add(layers.Dense(2))\n', codes: [] },
    { name: `${N.toLocaleString('en-US')} nested brackets`, text: LINES + `x = ${'('.repeat(N)}1${')'.repeat(N)}\n`, codes: ['too-deep'] },
    { name: `1+1+… with ${N.toLocaleString('en-US')} terms`, text: LINES + `x = ${Array(N).fill('1').join('+')}\n`, codes: ['too-deep'] },
    { name: `an attribute chain ${N.toLocaleString('en-US')} long`, text: LINES + `x = a${'.b'.repeat(N)}\n`, codes: ['too-deep'] },
    { name: `${N.toLocaleString('en-US')} unary minus signs`, text: LINES + `x = ${'-'.repeat(N)}1\n`, codes: ['too-deep'] },
    { name: `${N.toLocaleString('en-US')} nested lambdas`, text: LINES + `x = ${'lambda: '.repeat(N)}1\n`, codes: ['too-deep'] },
    { name: `${N.toLocaleString('en-US')} nested lists in a layer argument`, text: LINES + `model.add(layers.Dense(${'['.repeat(N)}1${']'.repeat(N)}))\n`, codes: ['invalid-arg', 'too-deep'] },
    { name: '200 unclosed brackets at the end of the file', text: LINES + `model.add(layers.Dense(${'('.repeat(200)}\n`, codes: ['invalid-arg', 'syntax'] },
    { name: 'CR-only line endings', text: LINES.replace(/\n/g, '\r') + 'model.add(layers.Dense(2))\r', codes: [] },
    // The interpreter's own bounds (issue 8): value sizes, ** unpacking, constructs it does not follow.
    { name: 'ls = ls + ls 26 times (a list of 67 million layers)', text: 'from keras import layers, models\nls = [layers.Dense(1)]\n' + 'ls = ls + ls\n'.repeat(26) + 'model = models.Sequential([layers.Input((8,)), *ls])\n', codes: ['opaque-layer'] },
    { name: 'Conv2D(**dict(…)) and Conv2D(**{…})', text: "from keras import layers, models\nmodel = models.Sequential()\nmodel.add(layers.Conv2D(**dict(filters=8, kernel_size=3), input_shape=(28, 28, 1)))\nmodel.add(layers.Conv2D(**{'filters': 4, 'kernel_size': 3}))\n", codes: [] },
    { name: 'model.add in a match arm', text: "from keras import layers, models\nmodel = models.Sequential([layers.Input((8,))])\nmatch 'a':\n    case 'a':\n        model.add(layers.Dense(4))\nmodel.add(layers.Dense(2))\n", codes: ['not-followed'] },
  ];

  let c: LspClient;
  before(async () => {
    c = new LspClient();
    // A deadline far above what these take, so the answers are the same on a loaded machine; the
    // deadline itself is tested below.
    await c.initialize({ initializationOptions: { analysisTimeoutMs: 20_000, settings: { diagnostics: { debounceMs: 0 } } } });
  });
  after(async () => {
    assert.equal(await c.close(), 0, c.stderr);
  });

  for (const [i, k] of CASES.entries()) {
    it(k.name, async () => {
      const uri = `file:///adversarial/${i}.py`;
      const t0 = performance.now();
      c.open(uri, k.text);
      const hints = await c.request<Hint[]>('textDocument/inlayHint', { textDocument: { uri }, range: everything });
      const d = await c.diagnosticsFor(uri);
      const ms = performance.now() - t0;
      assert.ok(ms < 15_000, `answered after ${ms.toFixed(0)} ms`);
      assert.deepEqual([...new Set(d.diagnostics.map((x) => x.code))].sort(), k.codes);
      assert.ok(hints.length >= 1, 'the layers before the odd code are still analysed');
      for (const x of d.diagnostics) assert.ok(x.range.start.line >= 0 && x.message.length > 0);
      c.notify('textDocument/didClose', { textDocument: { uri } });
    });
  }

  it('the CLI survives the same inputs: a diagnostic, never a stack trace', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'convlens-'));
    for (const [i, k] of CASES.entries()) {
      const file = path.join(dir, `${i}.py`);
      writeFileSync(file, k.text);
      const r = spawnSync(process.execPath, [cli, 'summary', '--json', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
      assert.ok(r.status === 0 || r.status === 1, `${k.name}: exit ${r.status}: ${r.stderr.slice(0, 500)}`);
      const report = JSON.parse(r.stdout) as ReturnType<typeof toJsonReport>;
      assert.deepEqual([...new Set(report.diagnostics.map((x) => x.code))].sort(), k.codes, k.name);
    }
  });

  it('an analysis past its deadline is stopped: a "too complex" warning, and the server answers the next file', async () => {
    const slow = new LspClient();
    await slow.initialize({ initializationOptions: { analysisTimeoutMs: 400, settings: { diagnostics: { debounceMs: 0 } } } });
    // About 3 s of parsing on this machine when nothing else runs.
    const big = 'import keras\n' + Array.from({ length: 500_000 }, (_, i) => `x${i} = (${i} + 1) * 2\n`).join('');
    slow.open('file:///big.py', big);
    const d = await slow.diagnosticsFor('file:///big.py');
    assert.deepEqual(d.diagnostics.map((x) => x.code), ['too-complex']);
    assert.match(d.diagnostics[0].message, /^ConvLens did not analyse this file: (reading it took longer than the time allowed|analysing it took longer than 400 ms)\. The file is too large or complex/);
    slow.open('file:///m.py', readFixture('workspace', 'model.py'));
    const hints = await slow.request<Hint[]>('textDocument/inlayHint', { textDocument: { uri: 'file:///m.py' }, range: everything });
    assert.equal(hints.length, 4);
    assert.equal(await slow.close(), 0);
  });

  it('an analysis that runs out of memory stops its worker, not the server', async () => {
    const small = new LspClient();
    await small.initialize({ initializationOptions: { analysisMemoryMb: 32, analysisTimeoutMs: 60_000, settings: { diagnostics: { debounceMs: 0 } } } });
    // Its syntax tree alone needs more than 32 MB.
    const big = 'import keras\n' + Array.from({ length: 150_000 }, (_, i) => `x${i} = [${i}, (${i} + 1) * 2]\n`).join('');
    small.open('file:///big.py', big);
    const d = await small.diagnosticsFor('file:///big.py', () => true, 60_000);
    assert.deepEqual(d.diagnostics.map((x) => x.code), ['too-complex']);
    assert.match(d.diagnostics[0].message, /^ConvLens did not analyse this file: analysing it needed more than 32 MB\./);
    small.open('file:///m.py', readFixture('workspace', 'model.py'));
    const hints = await small.request<Hint[]>('textDocument/inlayHint', { textDocument: { uri: 'file:///m.py' }, range: everything });
    assert.equal(hints.length, 4);
    assert.equal(await small.close(), 0);
  });

  it('a burst of edits: stale versions are skipped, the answer is for the latest text', async () => {
    const uri = 'file:///burst.py';
    const text = readFixture('workspace', 'model.py');
    c.open(uri, text);
    for (let v = 2; v <= 40; v++) c.change(uri, v, [{ text: text.replace('Dense(10', `Dense(${v}`) }]);
    const hints = await c.request<Hint[]>('textDocument/inlayHint', { textDocument: { uri }, range: everything });
    assert.equal(hints[3].label, '→ (None, 40) · 57,640 params');
  });

  it(`the seed fixtures' 1,000 random mutations each, through the server: every answer inside the document`, async () => {
    for (const file of readdirSync(fixturePath('seeds')).filter((f) => f.endsWith('.py'))) {
      const uri = `file:///fuzz/${file}`;
      const original = readFixture('seeds', file);
      c.open(uri, original);
      let version = 1;
      for (const text of mutations(original, file)) {
        c.change(uri, ++version, [{ text }]);
        const lines = text.split(/\r\n|\r|\n/);
        const hints = await c.request<Hint[]>('textDocument/inlayHint', { textDocument: { uri }, range: everything });
        const d = await c.diagnosticsFor(uri, (p) => p.version === version);
        for (const p of [...hints.map((h) => h.position), ...d.diagnostics.flatMap((x) => [x.range.start, x.range.end])]) {
          assert.ok(p.line < lines.length && p.character <= lines[p.line].length, `mutation ${version}: ${JSON.stringify(p)} outside the text\n${text}`);
        }
      }
      c.notify('textDocument/didClose', { textDocument: { uri } });
    }
  });
});

describe('convlens summary on a notebook', () => {
  it('reads the code cells in order; problems name their cell', () => {
    const r = spawnSync(process.execPath, [cli, 'summary', fixturePath('notebooks', '5.1-introduction-to-convnets.ipynb')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /5\.1-introduction-to-convnets\.ipynb#cell3:4:\n/);
    assert.match(r.stdout, /^Total params: 93,322 \(364\.54 KB\)$/m);
  });
  it('an unreadable notebook is a clear error naming the file', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'convlens-')), 'bad.ipynb');
    writeFileSync(file, '{"cells": 3}');
    const r = spawnSync(process.execPath, [cli, 'summary', file], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(r.stderr, `convlens: cannot read ${file}: not a notebook: it has no "cells" list\n`);
  });
});
