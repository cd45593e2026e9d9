// npm run test:integration: the suite in a real (offline) VS Code against this repository, then,
// on platforms we package for, the packaged VSIX installed into a fresh VS Code.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (label, env = {}) => {
  console.log(`\n=== ${label}`);
  const r = spawnSync(process.execPath, [join(root, 'test', 'integration', 'runTest.js')], { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
};

execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
let failed = run('extension from this repository') !== 0;

const target = `${process.platform}-${process.arch}`;
if (['linux-x64', 'linux-arm64', 'darwin-arm64', 'win32-x64', 'win32-arm64'].includes(target) && !process.env.CONVLENS_SKIP_VSIX) {
  execFileSync(process.execPath, [join(root, 'scripts', 'package.mjs'), '--target', target], { stdio: ['ignore', 'ignore', 'inherit'] });
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  // Packaging rebuilt dist/ for production; rebuild the development bundles with source maps.
  failed = run(`installed VSIX (${target})`, { CONVLENS_TEST_VSIX: join(root, `convlens-${target}-${version}.vsix`) }) !== 0 || failed;
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
}
process.exitCode = failed ? 1 : 0;
