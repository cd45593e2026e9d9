// `npm run test:integration`: runs test/integration/suite/*.test.js inside a real VS Code with the extension
// from this repository loaded, and exits with the tests' exit code.
//
// Two ways to get VS Code, same runTests() call from @vscode/test-electron:
//  - offline (used when the install PREFIX exists, or CONVLENS_VSCODE_OFFLINE=1): code-server 4.139.1 =
//    VS Code 1.139.1, installed from the npm registry by scripts/setup-offline-vscode.sh into
//    PREFIX = $CONVLENS_VSCODE_CACHE or ~/.cache/convlens-vscode, and driven by runCodeServer.js in headless
//    chromium;
//  - download (CONVLENS_VSCODE_OFFLINE=0, or no PREFIX): test-electron downloads desktop VS Code
//    $CONVLENS_VSCODE_VERSION (default 1.139.1) into .vscode-test/ as usual. Needs the internet and, on a
//    Linux machine without a display, `xvfb-run -a npm run test:integration`.
// Other knobs: CONVLENS_EXTRA_EXTENSION_DEV_PATHS (':'-separated extension folders loaded next to this one),
// and those of runCodeServer.js (CONVLENS_INSTALL_VSIX, CONVLENS_SCREENSHOT_DIR, CONVLENS_TEST_TIMEOUT_MS, ...).
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const repoRoot = path.resolve(__dirname, '../..');
const PREFIX = path.resolve(process.env.CONVLENS_VSCODE_CACHE || path.join(os.homedir(), '.cache', 'convlens-vscode'));
const VSCODE_VERSION = process.env.CONVLENS_VSCODE_VERSION || '1.139.1'; // = code-server 4.139.1 of the offline path
const SETUP_HINT = `run scripts/setup-offline-vscode.sh${process.env.CONVLENS_VSCODE_CACHE ? ' "$CONVLENS_VSCODE_CACHE"' : ''} ` +
  '(installs code-server = VS Code 1.139 from the npm registry; ~3 minutes once, then cached)';

function loadTestElectron() {
  // The project's devDependency first; the copy the setup script put into PREFIX/tools otherwise.
  for (const p of ['@vscode/test-electron', path.join(PREFIX, 'tools/node_modules/@vscode/test-electron')]) {
    try { return require(p); } catch { /* next */ }
  }
  return undefined;
}

async function main() {
  const mode = process.env.CONVLENS_VSCODE_OFFLINE;
  const offline = mode === '1' || (mode !== '0' && fs.existsSync(PREFIX));
  const installed = fs.existsSync(path.join(PREFIX, '.convlens-setup-stamp')) &&
    fs.existsSync(path.join(PREFIX, 'cs/node_modules/.bin/code-server'));
  if (offline && !installed) {
    console.error(`Offline VS Code is not (completely) installed in ${PREFIX}.\nTo fix: ${SETUP_HINT}.`);
    return 1;
  }
  const testElectron = loadTestElectron();
  if (!testElectron) {
    console.error(`@vscode/test-electron is not installed. Run \`npm install\`, or ${SETUP_HINT}.`);
    return 1;
  }
  // CONVLENS_TEST_VSIX=path.vsix: test the packaged extension instead of this repository. The
  // development path is then an empty host extension, the VSIX is installed before VS Code starts,
  // and only the tests titled "installed VSIX" run (unless CONVLENS_TEST_GREP says otherwise).
  const vsix = process.env.CONVLENS_TEST_VSIX ? path.resolve(process.env.CONVLENS_TEST_VSIX) : undefined;
  if (vsix) {
    if (!fs.existsSync(vsix)) {
      console.error(`CONVLENS_TEST_VSIX: ${vsix} does not exist (build it with npm run package)`);
      return 1;
    }
    process.env.CONVLENS_INSTALL_VSIX = [vsix, process.env.CONVLENS_INSTALL_VSIX].filter(Boolean).join(path.delimiter);
    process.env.CONVLENS_TEST_GREP = process.env.CONVLENS_TEST_GREP || 'installed VSIX';
  }
  const extensionDevelopmentPath = [vsix ? path.join(__dirname, 'vsixHost') : repoRoot,
    ...(process.env.CONVLENS_EXTRA_EXTENSION_DEV_PATHS || '').split(path.delimiter).filter(Boolean).map((p) => path.resolve(p))];
  const workspace = path.join(repoRoot, 'test', 'fixtures', 'workspace');
  const options = {
    extensionDevelopmentPath,
    extensionTestsPath: path.join(__dirname, 'suite', 'index.js'),
    extensionTestsEnv: { CONVLENS_EXPECTED_VSCODE_VERSION: offline ? '1.139' : VSCODE_VERSION, CONVLENS_TEST_VSIX: vsix || '', CONVLENS_TEST_GREP: process.env.CONVLENS_TEST_GREP || '' },
  };
  if (offline) {
    console.log(`[runTest] offline VS Code: code-server from ${PREFIX}`);
    // runTests() spawns vscodeExecutablePath with launchArgs first: running `node runCodeServer.js ...` this
    // way does not depend on the file's executable bit.
    options.vscodeExecutablePath = process.execPath;
    options.launchArgs = [path.join(__dirname, 'runCodeServer.js'), workspace];
  } else {
    options.launchArgs = [workspace]; // the profile (.vscode-test/user-data, extensions) is test-only anyway
  }
  try {
    if (!offline) {
      console.log(`[runTest] downloading (or reusing from .vscode-test/) desktop VS Code ${VSCODE_VERSION}`);
      options.vscodeExecutablePath = await testElectron.downloadAndUnzipVSCode({ version: VSCODE_VERSION });
      // CONVLENS_INSTALL_VSIX on this path: the usual test-electron way, into the same test profile runTests uses
      const [cli, ...cliArgs] = testElectron.resolveCliArgsFromVSCodeExecutablePath(options.vscodeExecutablePath);
      for (const vsix of (process.env.CONVLENS_INSTALL_VSIX || '').split(path.delimiter).filter(Boolean)) {
        const r = spawnSync(cli, [...cliArgs, '--install-extension', path.resolve(vsix), '--force'], { stdio: 'inherit' });
        if (r.status !== 0) throw new Error(`installing ${vsix} failed (exit ${r.status})`);
      }
    }
    await testElectron.runTests(options);
    return 0;
  } catch (e) {
    if (typeof e.code === 'number' || e.signal) return typeof e.code === 'number' ? e.code : 1; // the tests ran and failed
    console.error(`[runTest] could not run the tests: ${e && e.message || e}`);
    if (!offline) console.error(`If this machine cannot reach update.code.visualstudio.com, ${SETUP_HINT}, then re-run.`);
    return 1;
  }
}

main().then((code) => process.exit(code));
