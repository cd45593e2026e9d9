// Bundles the CLI (with the language server), the analysis worker, the trainer process, the extension (and later the webview) with esbuild, and copies
// the tree-sitter wasm files beside the bundles. `node scripts/build.mjs --watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, chmodSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

mkdirSync(join(dist, 'wasm'), { recursive: true });
for (const [pkg, file] of [
  ['web-tree-sitter', 'web-tree-sitter.wasm'],
  ['tree-sitter-python', 'tree-sitter-python.wasm'],
]) {
  copyFileSync(join(root, 'node_modules', pkg, file), join(dist, 'wasm', file));
}

const entries = [
  { in: 'src/cli/main.ts', out: 'cli' },
  { in: 'src/worker/trainer.ts', out: 'trainer' },
  { in: 'src/worker/inference.ts', out: 'inference' },
  // The language server runs in the CLI bundle (`convlens lsp --stdio`); its analyses in this worker thread.
  { in: 'src/server/analysisWorker.ts', out: 'analysisWorker' },
  ...(existsSync(join(root, 'src/extension/extension.ts')) ? [{ in: 'src/extension/extension.ts', out: 'extension' }] : []),
];

const options = {
  absWorkingDir: root,
  entryPoints: entries.map((e) => ({ in: e.in, out: e.out })),
  outdir: dist,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  external: ['vscode', 'onnxruntime-node'],
  banner: { js: '#!/usr/bin/env node' },
  // The ESM build of web-tree-sitter needs import.meta.url, which a CJS bundle lacks.
  alias: { 'web-tree-sitter': join(root, 'node_modules/web-tree-sitter/web-tree-sitter.cjs') },
  define: { VERSION: JSON.stringify(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version) },
  logLevel: 'warning',
};

// The panel runs in a browser: its own bundle, no node built-ins, uPlot's stylesheet beside it.
mkdirSync(join(dist, 'webview'), { recursive: true });
copyFileSync(join(root, 'node_modules', 'uplot', 'dist', 'uPlot.min.css'), join(dist, 'webview', 'uPlot.min.css'));
const webview = {
  absWorkingDir: root,
  entryPoints: ['webview/src/main.ts'],
  outfile: join(dist, 'webview', 'main.js'),
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
};

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  await (await esbuild.context(webview)).watch();
  console.log('esbuild: watching for changes');
} else {
  const t0 = Date.now();
  await Promise.all([esbuild.build(options), esbuild.build(webview)]);
  if (existsSync(join(dist, 'cli.js'))) chmodSync(join(dist, 'cli.js'), 0o755);
  console.log(`built ${entries.map((e) => `dist/${e.out}.js`).join(', ')}, dist/webview/main.js in ${Date.now() - t0} ms`);
}
