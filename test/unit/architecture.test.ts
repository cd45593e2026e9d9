/** The core stays pure: no vscode, no node:*, no DOM, no runtime-loading packages. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const core = path.join(__dirname, '..', '..', 'src', 'core');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('architecture', () => {
  it('the extension bundle never loads onnxruntime-node (training and inference run in child processes)', () => {
    const bundle = path.join(__dirname, '..', '..', 'dist', 'extension.js');
    const text = readFileSync(bundle, 'utf8');
    assert.doesNotMatch(text, /require\(["']onnxruntime-node["']\)/);
    assert.doesNotMatch(text, /require\(["']vscode["']\)[\s\S]*onnxruntime_binding/);
  });
  it('the webview imports only the core protocol, render helpers, the graph view and the run curves (pure, DOM-free), uPlot and dagre', () => {
    const dir = path.join(__dirname, '..', '..', 'webview', 'src');
    for (const f of readdirSync(dir)) {
      const text = readFileSync(path.join(dir, f), 'utf8');
      for (const m of text.matchAll(/from\s+['"]([^'"]+)['"]/g)) {
        const spec = m[1];
        assert.ok(spec.startsWith('./') || spec === 'uplot' || spec === '@dagrejs/dagre' || /^\.\.\/\.\.\/src\/core\/(protocol|render|view)\//.test(spec) || spec === '../../src/core/run/curves', `${f} imports '${spec}'`);
      }
    }
  });
  it('src/core imports only src/core', () => {
    const offenders: string[] = [];
    for (const f of files(core)) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
        const spec = m[1] ?? m[2] ?? m[3];
        if (!spec.startsWith('.')) offenders.push(`${path.relative(core, f)} imports '${spec}'`);
        else if (!path.resolve(path.dirname(f), spec).startsWith(core)) offenders.push(`${path.relative(core, f)} reaches outside the core: '${spec}'`);
      }
    }
    assert.deepEqual(offenders, []);
  });
  it("the core's tsconfig has no ambient types and no DOM", () => {
    const cfg = JSON.parse(readFileSync(path.join(core, 'tsconfig.json'), 'utf8').replace(/^\s*\/\/.*$/gm, ''));
    assert.deepEqual(cfg.compilerOptions.types, []);
    assert.ok(Array.isArray(cfg.compilerOptions.lib) && !cfg.compilerOptions.lib.some((l: string) => /^dom/i.test(l)), `lib: ${cfg.compilerOptions.lib}`);
  });
});
