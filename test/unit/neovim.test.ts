/**
 * The server in another editor: headless Neovim (Debian's `neovim`, installed by .ci/run) starts
 * `convlens lsp --stdio` with its built-in LSP client, attaches it to a model file, and reads back a
 * diagnostic (vim.diagnostic) and an inlay hint (a plain textDocument/inlayHint request: Neovim 0.7
 * has no inlay-hint UI, later versions show them with vim.lsp.inlay_hint.enable()).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { cli } from './lspClient';

const nvim = spawnSync('nvim', ['--version'], { encoding: 'utf8' });
const available = nvim.status === 0;

const MODEL = [
  'from keras import layers, models',
  'model = models.Sequential()',
  'model.add(layers.Conv2D(8, 3, input_shape=(6, 6, 1)))',
  "model.add(layers.Conv2D(4, (5, 5), activation='relu'))",
  'model.add(layers.Flatten())',
  'model.add(layers.Dense(10))',
  '',
].join('\n');

/** The Lua a user would put in their config (README: "Neovim"), plus what the test reads back. */
const LUA = (server: string[], out: string) => `
local client_id = vim.lsp.start_client({
  name = 'convlens',
  cmd = ${JSON.stringify(server).replace(/^\[/, '{').replace(/\]$/, '}')},
  root_dir = vim.fn.getcwd(),
  -- Not needed in a config: a long deadline keeps a loaded CI machine from reporting 'too complex'.
  init_options = { analysisTimeoutMs = 10000 },
})
local buf = vim.api.nvim_get_current_buf()
vim.lsp.buf_attach_client(buf, client_id)
local result = { diagnostics = {}, hints = {} }
vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
for _, d in ipairs(vim.diagnostic.get(buf)) do
  table.insert(result.diagnostics, { lnum = d.lnum, col = d.col, message = d.message, source = d.source, code = d.code })
end
local client = vim.lsp.get_client_by_id(client_id)
local answer = client.request_sync('textDocument/inlayHint', {
  textDocument = { uri = vim.uri_from_bufnr(buf) },
  range = { start = { line = 0, character = 0 }, ['end'] = { line = vim.api.nvim_buf_line_count(buf), character = 0 } },
}, 20000, buf)
for _, h in ipairs((answer and answer.result) or {}) do
  table.insert(result.hints, { line = h.position.line, character = h.position.character, label = h.label })
end
vim.fn.writefile({ vim.fn.json_encode(result) }, ${JSON.stringify(out)})
vim.lsp.stop_client(client_id)
vim.wait(3000, function() return vim.lsp.get_client_by_id(client_id) == nil end, 50)
vim.cmd('qall!')
`;

describe('Neovim (built-in LSP client, headless)', () => {
  it('attaches convlens lsp --stdio to a model file and shows a diagnostic and an inlay hint', (t) => {
    if (!available) {
      // CI installs Debian's neovim (.ci/run); a developer machine without it skips, saying so.
      if (process.env.CI) assert.fail('nvim is not installed: .ci/run installs the Debian package neovim');
      t.skip('nvim is not installed (apt-get install neovim)');
      return;
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'convlens-nvim-'));
    const file = path.join(dir, 'model.py');
    const out = path.join(dir, 'result.json');
    const script = path.join(dir, 'attach.lua');
    writeFileSync(file, MODEL);
    writeFileSync(script, LUA([process.execPath, cli, 'lsp', '--stdio'], out));
    const r = spawnSync('nvim', ['--headless', '-u', 'NONE', '-i', 'NONE', '-n', file, '-c', `luafile ${script}`], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, XDG_STATE_HOME: dir, XDG_CACHE_HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
    });
    assert.equal(r.status, 0, `nvim exited ${r.status} ${r.signal ?? ''}: ${r.stderr}${r.stdout}`);
    const result = JSON.parse(readFileSync(out, 'utf8')) as {
      diagnostics: { lnum: number; col: number; message: string; source: string; code: string }[];
      hints: { line: number; character: number; label: string }[];
    };
    assert.deepEqual(result.diagnostics, [
      {
        lnum: 3,
        col: 27,
        message: "Conv2D's 5×5 kernel is larger than its 4×4 input, so it has no output position: (4 − 5) / 1 + 1 = 0; use a kernel of at most 4×4, or padding='same'",
        source: 'ConvLens',
        code: 'output-empty',
      },
    ]);
    assert.deepEqual(result.hints[0], { line: 2, character: 53, label: '→ (None, 4, 4, 8) · 80 params' });
    assert.equal(result.hints.length, 4);
  });
});
