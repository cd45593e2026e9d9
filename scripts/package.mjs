// Builds a platform-specific VSIX: `node scripts/package.mjs [--target linux-x64|linux-arm64|darwin-arm64|win32-x64|win32-arm64|all]`.
// onnxruntime-node ships every platform's native library (~290 MB unpacked); each VSIX keeps only
// its target's, plus the JS the native module needs at run time.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const ALL = ['linux-x64', 'linux-arm64', 'darwin-arm64', 'win32-x64', 'win32-arm64'];
const arg = process.argv.indexOf('--target');
const wanted = arg > 0 ? process.argv[arg + 1] : `${process.platform}-${process.arch}`;
const targets = wanted === 'all' ? ALL : [wanted];
for (const t of targets) {
  if (!ALL.includes(t)) {
    console.error(`package: unknown target '${t}'; use one of ${ALL.join(', ')} or all`);
    process.exit(2);
  }
}

rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--production'], { stdio: 'inherit' });

const ortBin = join(root, 'node_modules', 'onnxruntime-node', 'bin');
const napi = readdirSync(ortBin).find((d) => d.startsWith('napi-v'));
const work = mkdtempSync(join(tmpdir(), 'convlens-package-'));
try {
  for (const target of targets) {
    const [platform, arch] = target.split('-');
    // vsce --no-dependencies leaves node_modules out, so the runtime part of onnxruntime-node
    // (its JS, onnxruntime-common, and this target's native library) is staged under dist/,
    // where require('onnxruntime-node') from dist/*.js finds it.
    const staged = join(root, 'dist', 'node_modules');
    rmSync(staged, { recursive: true, force: true });
    const ort = join(root, 'node_modules', 'onnxruntime-node');
    const common = join(root, 'node_modules', 'onnxruntime-common');
    const copy = (from, to) => cpSync(from, to, { recursive: true, filter: (f) => !f.endsWith('.map') && !f.endsWith('.d.ts') });
    copy(join(ort, 'package.json'), join(staged, 'onnxruntime-node', 'package.json'));
    copy(join(ort, 'dist'), join(staged, 'onnxruntime-node', 'dist'));
    copy(join(ort, 'bin', napi, platform, arch), join(staged, 'onnxruntime-node', 'bin', napi, platform, arch));
    copy(join(common, 'package.json'), join(staged, 'onnxruntime-common', 'package.json'));
    copy(join(common, 'dist', 'cjs'), join(staged, 'onnxruntime-common', 'dist', 'cjs'));
    const ignore = ['**', '!package.json', '!README.md', '!LICENSE', '!CHANGELOG.md', '!dist/**', '!media/**'];
    const ignoreFile = join(work, `${target}.vscodeignore`);
    writeFileSync(ignoreFile, ignore.join('\n') + '\n');
    const out = join(root, `convlens-${target}-${pkg.version}.vsix`);
    const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
    execFileSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--no-rewrite-relative-links', '--target', target, '--ignoreFile', ignoreFile, '--out', out], {
      cwd: root,
      stdio: 'inherit',
    });
    console.log(`${target}: ${out} (${(statSync(out).size / 1024 / 1024).toFixed(1)} MB)`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  rmSync(join(root, 'dist', 'node_modules'), { recursive: true, force: true });
}
