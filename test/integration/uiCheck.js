#!/usr/bin/env node
// Playwright helpers for checking ConvLens' UI in the real VS Code workbench (code-server in headless
// chromium, see scripts/setup-offline-vscode.sh). Three ways to use it:
//
//  1. As a module in a Node script that drives a browser itself:
//       const ui = require('./uiCheck');
//       const browser = await ui.launchBrowser(); const page = await ui.newPage(browser);
//       await ui.openWorkbench(page, url); await ui.openFile(page, 'model.py');
//       await ui.waitForInlayHints(page, { includes: '(26, 26, 10)' }); await ui.screenshot(page, dir, 'hints');
//  2. From integration tests running INSIDE VS Code (test/integration/suite/*.test.js): the page belongs to
//     the runner (runCodeServer.js), which serves these same functions over HTTP; use ui.remote:
//       await require('../uiCheck').remote.screenshot('after-open');
//       const text = await require('../uiCheck').remote.hoverAt(3, 10);
//     (the page argument is supplied by the runner; screenshot names are relative to CONVLENS_SCREENSHOT_DIR).
//  3. As a CLI against a running server (start one with `node test/integration/runCodeServer.js --serve`):
//       node test/integration/uiCheck.js --url URL --file model.py --expect-inlay '(26, 26, 10)' \
//            --hover-text Conv2D --expect-hover 'Conv2D' --command 'ConvLens: ...' --out /tmp/shots
//     Exit code 0 when every --expect-* was seen; screenshots (NN-step.png) go to --out.
//
// Selectors are those of VS Code 1.139 (code-server 4.139.1); they are plain DOM, no test ids.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const DEFAULT_PREFIX = path.join(os.homedir(), '.cache', 'convlens-vscode');
const prefix = () => path.resolve(process.env.CONVLENS_VSCODE_CACHE || DEFAULT_PREFIX);

// playwright-core is installed by the setup script into PREFIX/tools (not a project dependency): loaded
// lazily so that `remote` works inside the extension host, where it is not needed.
function playwright() {
  const candidates = [process.env.PLAYWRIGHT_CORE, path.join(prefix(), 'tools/node_modules/playwright-core'), 'playwright-core'];
  for (const c of candidates.filter(Boolean)) {
    try { return require(c); } catch { /* try the next */ }
  }
  throw new Error(`playwright-core not found in ${prefix()}/tools; run scripts/setup-offline-vscode.sh`);
}

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

/**
 * Headless Debian chromium. Its XDG dirs (crash reports, dconf) and TMPDIR (singleton socket, shared-memory
 * files) go to stateDir instead of $HOME and /tmp; without a stateDir a temporary one is made and removed
 * when the browser closes.
 */
async function launchBrowser({ stateDir } = {}) {
  const own = !stateDir;
  if (own) stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlens-chromium-'));
  const browser = await playwright().chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    env: { ...process.env, XDG_CONFIG_HOME: stateDir, XDG_CACHE_HOME: stateDir, TMPDIR: stateDir },
    args: CHROMIUM_ARGS, // playwright always uses a fresh temporary profile (no --user-data-dir with launch())
  });
  if (own) browser.on('disconnected', () => fs.rmSync(stateDir, { recursive: true, force: true }));
  return browser;
}

async function newPage(browser, { width = 1400, height = 900 } = {}) {
  const page = await browser.newPage({ viewport: { width, height } });
  page.on('pageerror', (e) => console.log('[pageerror]', e.message));
  return page;
}

/** Loads the workbench at url (as printed by `runCodeServer.js --serve`) and waits until it is usable. */
async function openWorkbench(page, url, { timeout = 90000 } = {}) {
  await page.goto(url);
  await page.waitForSelector('.monaco-workbench', { timeout });
  // the activity bar / status bar are the last parts to appear once extensions are registered
  await page.waitForSelector('.part.statusbar', { timeout });
  return page;
}

async function quickInput(page, prefixKey, text) {
  await page.keyboard.press(prefixKey);
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 20000 });
  await page.keyboard.type(text);
}

/**
 * Opens a workspace file and waits for its editor: a click in the Explorer when the file is a visible
 * top-level entry (fast), Quick Open with (part of) its relative path otherwise (its first search takes seconds).
 */
async function openFile(page, relPath, { timeout = 30000 } = {}) {
  relPath = relPath.replace(/^\.\//, '');
  const base = path.basename(relPath);
  const row = page.locator(`.explorer-folders-view .monaco-list-row[aria-label=${JSON.stringify(base)}]`);
  if (!relPath.includes('/') && await row.first().waitFor({ timeout: 3000 }).then(() => true, () => false)) {
    await row.first().click();
  } else {
    await quickInput(page, 'Control+P', relPath);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: base }).first().waitFor({ timeout });
    await page.keyboard.press('Enter');
  }
  await page.locator('.tabs-container .tab.active', { hasText: base }).first().waitFor({ timeout });
  await page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor({ timeout });
  await page.waitForFunction(() => (document.querySelector('.editor-instance .view-lines')?.textContent || '').trim().length > 0,
    null, { timeout });
  return page;
}

/** Runs a command from the palette by its title as shown there (e.g. 'ConvLens: Show Model Summary'). */
async function runCommand(page, title, { timeout = 20000 } = {}) {
  await quickInput(page, 'F1', title);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout });
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout }).catch(() => {});
}

/** Text of the visible lines of the active editor, inlay hints included (they are injected text). */
async function editorText(page) {
  return page.evaluate(() => document.querySelector('.editor-instance .view-lines')?.innerText || '');
}

/**
 * Inlay hints of the active editor. Monaco renders them as injected-text spans carrying a generated
 * "dyn-rule-*" class (the style of the hint); the text of the file itself has "mtk*" token classes only.
 * Waits until at least `min` hints are shown (and, with `includes`, one contains that text); returns their texts.
 */
async function waitForInlayHints(page, { includes, min = 1, timeout = 30000 } = {}) {
  const handle = await page.waitForFunction(({ includes, min }) => {
    const spans = [...document.querySelectorAll('.editor-instance .view-lines span[class*="dyn-rule"]')];
    const texts = spans.map((s) => s.textContent.replace(/\u00a0/g, ' ')).filter((t) => t.trim());
    if (texts.length < min) return null;
    if (includes && !texts.some((t) => t.includes(includes))) return null;
    return texts;
  }, { includes, min }, { timeout });
  return handle.jsonValue();
}

async function readHover(page, { includes, timeout = 20000 } = {}) {
  const handle = await page.waitForFunction((includes) => {
    const texts = [...document.querySelectorAll('.monaco-hover')]
      .filter((h) => !h.classList.contains('hidden') && h.offsetParent !== null)
      .map((h) => h.innerText.trim()).filter(Boolean);
    if (!texts.length) return null;
    if (includes && !texts.some((t) => t.includes(includes))) return null;
    return texts.join('\n');
  }, includes, { timeout });
  await page.waitForTimeout(300); // let the fade-in finish before anyone takes a screenshot
  return handle.jsonValue();
}

/** Moves the mouse over the first occurrence of `text` in the visible editor lines; returns the hover text. */
async function hoverText(page, text, { includes, timeout = 20000 } = {}) {
  const box = await page.evaluate((text) => {
    for (const line of document.querySelectorAll('.editor-instance .view-lines .view-line')) {
      const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (n.parentElement.closest('span[class*="dyn-rule"]')) continue; // skip inlay hints
        const i = n.textContent.indexOf(text);
        if (i < 0) continue;
        const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + text.length);
        const b = r.getBoundingClientRect();
        return { x: b.x, y: b.y, w: b.width, h: b.height };
      }
    }
    return null;
  }, text);
  if (!box) throw new Error(`text ${JSON.stringify(text)} is not visible in the active editor`);
  await page.mouse.move(5, 5); // reset, so that a hover from before closes
  await page.mouse.move(box.x + Math.min(box.w / 2, 8), box.y + box.h / 2, { steps: 3 });
  return readHover(page, { includes, timeout });
}

/** Puts the cursor on line:column (1-based) with Go to Line and shows the hover from the keyboard. */
async function hoverAt(page, line, column = 1, { includes, timeout = 20000 } = {}) {
  await page.mouse.move(5, 5);
  await quickInput(page, 'Control+G', `${line}:${column}`);
  await page.keyboard.press('Enter');
  await runCommand(page, 'Show or Focus Hover');
  return readHover(page, { includes, timeout });
}

async function closeHover(page) {
  await page.keyboard.press('Escape');
  await page.mouse.move(5, 5);
}

// Notifications: with the smoke-test driver enabled (which the runner needs, see runCodeServer.js) VS Code
// never shows notification toasts; they only reach the notification center. So these open the center.
const CENTER = '.notifications-center';
async function showNotificationCenter(page) {
  if (!(await page.locator(`${CENTER}.visible`).count())) await runCommand(page, 'Notifications: Show Notifications');
  await page.locator(`${CENTER}.visible`).waitFor({ timeout: 10000 });
}
async function hideNotificationCenter(page) {
  if (await page.locator(`${CENTER}.visible`).count()) await runCommand(page, 'Notifications: Hide Notifications');
}
const centerTexts = (page) => page.evaluate((c) => [...document.querySelectorAll(`${c} .notification-list-item`)]
  .map((n) => n.innerText.trim()).filter(Boolean), CENTER);

/** Texts of all notifications (from the notification center, which is closed again afterwards). */
async function notifications(page) {
  await showNotificationCenter(page);
  const texts = await centerTexts(page);
  await hideNotificationCenter(page);
  return texts;
}

/** Waits until a notification containing `includes` exists; returns all notification texts. */
async function waitForNotification(page, includes, { timeout = 20000 } = {}) {
  await showNotificationCenter(page);
  try {
    await page.waitForFunction(({ c, s }) => [...document.querySelectorAll(`${c} .notification-list-item`)].some((n) => n.innerText.includes(s)),
      { c: CENTER, s: includes }, { timeout });
    return await centerTexts(page);
  } finally {
    await hideNotificationCenter(page);
  }
}

/** Webview content lives in nested iframes; polls every frame's body for `includes`; returns that frame's text. */
async function waitForWebviewText(page, includes, { timeout = 30000 } = {}) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    for (const f of page.frames()) {
      try {
        const t = await f.textContent('body', { timeout: 200 });
        if (t && t.includes(includes)) return t;
      } catch { /* frame detached or not ready */ }
    }
    await page.waitForTimeout(300);
  }
  throw new Error(`no webview shows ${JSON.stringify(includes)} after ${timeout} ms`);
}

/** Waits until a code lens containing `includes` is rendered in the active editor; returns all lens texts. */
async function waitForCodeLens(page, includes, { timeout = 20000 } = {}) {
  const handle = await page.waitForFunction((s) => {
    const texts = [...document.querySelectorAll('.editor-instance .codelens-decoration')].map((e) => e.innerText.trim()).filter(Boolean);
    return texts.some((t) => t.includes(s)) ? texts : null;
  }, includes, { timeout });
  return handle.jsonValue();
}

/** Texts of the status-bar items, left to right. */
async function statusBarTexts(page) {
  return page.evaluate(() => [...document.querySelectorAll('.statusbar-item')].map((e) => e.innerText.trim()).filter(Boolean));
}

/** Waits until a status-bar item contains `includes`; returns all the texts. */
async function waitForStatusBar(page, includes, { timeout = 20000 } = {}) {
  const handle = await page.waitForFunction((s) => {
    const texts = [...document.querySelectorAll('.statusbar-item')].map((e) => e.innerText.trim()).filter(Boolean);
    return texts.some((t) => t.includes(s)) ? texts : null;
  }, includes, { timeout });
  return handle.jsonValue();
}

/** The frame whose document has an element matching `selector` (webviews live in nested iframes). */
async function webviewFrame(page, selector, { timeout = 30000 } = {}) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    for (const f of page.frames()) {
      try {
        if (await f.$(selector)) return f;
      } catch { /* detached */ }
    }
    await page.waitForTimeout(200);
  }
  throw new Error(`no webview has an element matching ${JSON.stringify(selector)} after ${timeout} ms`);
}

/** Texts of the webview elements matching `selector` (waits until at least `min` exist). */
async function webviewQuery(page, selector, { min = 1, timeout = 30000 } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const f = await webviewFrame(page, selector, { timeout: Math.max(1000, end - Date.now()) });
    const texts = await f.$$eval(selector, (els) => els.map((e) => e.textContent || ''));
    if (texts.length >= min || Date.now() > end) return texts;
    await page.waitForTimeout(200);
  }
}

/** Clicks the first webview element matching `selector`. */
async function webviewClick(page, selector, { timeout = 30000 } = {}) {
  const f = await webviewFrame(page, selector, { timeout });
  await f.click(selector);
}

/** Types `value` into the webview input matching `selector` and fires its change event (as leaving the field does). */
async function webviewFill(page, selector, value, { timeout = 30000 } = {}) {
  const f = await webviewFrame(page, selector, { timeout });
  await f.fill(selector, String(value));
  await f.dispatchEvent(selector, 'input');
  await f.dispatchEvent(selector, 'change');
}

/** Chooses the option with `value` in the webview select matching `selector` (fires change). */
async function webviewSelect(page, selector, value, { timeout = 30000 } = {}) {
  const f = await webviewFrame(page, selector, { timeout });
  await f.selectOption(selector, String(value));
}

/**
 * Evaluates a JavaScript expression in the webview frame that has an element matching `probe`
 * (the expression's value must be JSON), e.g. `document.body.scrollWidth`.
 */
async function webviewEvaluate(page, probe, expression, { timeout = 30000 } = {}) {
  const f = await webviewFrame(page, probe, { timeout });
  return f.evaluate(expression);
}

/** Polls `expression` in the webview that has `probe` until it is truthy; returns its value. */
async function webviewWaitFor(page, probe, expression, { timeout = 30000 } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const f = await webviewFrame(page, probe, { timeout: Math.max(1000, end - Date.now()) });
      last = await f.evaluate(expression);
      if (last) return last;
    } catch (e) { last = e.message; }
    if (Date.now() > end) throw new Error(`webview: ${expression} stayed falsy for ${timeout} ms (last: ${JSON.stringify(last)})`);
    await page.waitForTimeout(250);
  }
}

/**
 * Texts of the workbench elements (outside webviews) matching `selector`, waiting until at least `min`
 * exist; `hasText` keeps only those containing it. For what no dedicated helper reads: squiggles, the
 * quick-fix menu, the Problems view.
 */
async function workbenchQuery(page, selector, { min = 1, hasText, timeout = 20000 } = {}) {
  const read = () => page.$$eval(selector, (els, t) => els.filter((e) => e.getClientRects().length > 0)
    .map((e) => (e.innerText ?? e.textContent ?? '').trim()).filter((x) => !t || x.includes(t)), hasText ?? null);
  const end = Date.now() + timeout;
  for (;;) {
    const texts = await read();
    if (texts.length >= min || Date.now() > end) return texts;
    await page.waitForTimeout(200);
  }
}

/** Clicks the first visible workbench element matching `selector` (and containing `hasText`, when given). */
async function workbenchClick(page, selector, { hasText, timeout = 20000 } = {}) {
  await page.locator(selector, hasText ? { hasText } : {}).filter({ visible: true }).first().click({ timeout });
}

/** Presses a key (Playwright's names: 'Escape', 'Control+.') in the workbench. */
async function pressKey(page, key) {
  await page.keyboard.press(key);
}

/** The titles of the action buttons in the active editor group's title bar. */
async function editorActions(page) {
  return page.evaluate(() => [...document.querySelectorAll('.editor-group-container.active .editor-actions .action-item .action-label')]
    .map((a) => a.getAttribute('aria-label') || a.getAttribute('title') || '').filter(Boolean));
}

/** Saves OUTDIR/NAME.png (name may lack .png) and returns the path. */
async function screenshot(page, outDir, name) {
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, name.endsWith('.png') ? name : `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

// ---- remote: for tests inside the extension host; the runner owns the page (see runCodeServer.js) ----
const REMOTE_FUNCTIONS = ['openFile', 'runCommand', 'editorText', 'waitForInlayHints', 'hoverText', 'hoverAt',
  'closeHover', 'notifications', 'waitForNotification', 'waitForWebviewText', 'screenshot', 'statusBarTexts', 'waitForStatusBar', 'waitForCodeLens', 'webviewQuery', 'webviewClick',
  'webviewFill', 'webviewSelect', 'webviewEvaluate', 'webviewWaitFor', 'editorActions', 'workbenchQuery', 'workbenchClick', 'pressKey'];
async function callRunner(fn, ...args) {
  const url = process.env.CONVLENS_UI_URL;
  if (!url) throw new Error('CONVLENS_UI_URL is not set: UI calls need the offline runner (test/integration/runCodeServer.js)');
  const res = await fetch(`${url}/call`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fn, args }) });
  const body = await res.json();
  if (!res.ok) throw new Error(`ui.${fn} failed in the runner: ${body.error}`);
  return body.result;
}
/** remote.X(...args) calls X(page, ...args) in the runner; remote.available tells whether a runner serves UI calls. */
const remote = Object.fromEntries(REMOTE_FUNCTIONS.map((fn) => [fn, (...args) => callRunner(fn, ...args)]));
Object.defineProperty(remote, 'available', { get: () => !!process.env.CONVLENS_UI_URL });

module.exports = {
  launchBrowser, newPage, openWorkbench, openFile, runCommand, editorText, waitForInlayHints, readHover,
  hoverText, hoverAt, closeHover, notifications, waitForNotification, waitForWebviewText, screenshot,
  statusBarTexts, waitForStatusBar, waitForCodeLens, webviewQuery, webviewClick, webviewFill, webviewSelect, webviewEvaluate, webviewWaitFor, editorActions, workbenchQuery, workbenchClick, pressKey, remote, REMOTE_FUNCTIONS, CHROMIUM_ARGS,
};

// ---- CLI ----
const USAGE = `usage: node test/integration/uiCheck.js --url URL [--out DIR] [steps...]
steps run in this order, each followed by a screenshot NN-step.png in --out (default ./.vscode-test/screenshots):
  --file REL                open a workspace file (Explorer click, or Quick Open)
  --expect-inlay TEXT       wait for an inlay hint containing TEXT ('' = any hint)
  --hover-text TEXT         hover the first occurrence of TEXT in the editor  (or --hover-at LINE:COL)
  --expect-hover TEXT       the hover must contain TEXT
  --command TITLE           run TITLE from the command palette
  --expect-notification T   a notification containing T must exist (read from the notification center)
  --expect-webview TEXT     a webview must show TEXT
exit 0 when all expectations held, 1 otherwise.`;

async function cli(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(argv[i]);
    if (!m) throw new Error(`unexpected argument ${argv[i]}\n${USAGE}`);
    o[m[1]] = m[2] !== undefined ? m[2] : argv[++i];
  }
  if (!o.url) { console.error(USAGE); return 2; }
  const out = path.resolve(o.out || '.vscode-test/screenshots');
  const t0 = Date.now();
  const log = (...a) => console.log(`[uiCheck ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
  let n = 0; let failed = 0;
  const browser = await launchBrowser();
  const page = await newPage(browser);
  const shot = async (name) => log('screenshot', await screenshot(page, out, `${String(++n).padStart(2, '0')}-${name}`));
  const check = async (what, fn) => {
    try { const r = await fn(); log(`ok   ${what}${r !== undefined ? ': ' + JSON.stringify(r).slice(0, 300) : ''}`); }
    catch (e) { failed++; log(`FAIL ${what}: ${e.message.split('\n')[0]}`); }
  };
  try {
    await check('workbench', () => openWorkbench(page, o.url).then(() => undefined));
    await shot('workbench');
    if (o.file) { await check(`open ${o.file}`, () => openFile(page, o.file).then(() => undefined)); }
    if (o['expect-inlay'] !== undefined) {
      await check(`inlay hint ${JSON.stringify(o['expect-inlay'])}`, () => waitForInlayHints(page, { includes: o['expect-inlay'] || undefined }));
    }
    if (o.file || o['expect-inlay'] !== undefined) await shot('file');
    if (o['hover-text'] || o['hover-at']) {
      const includes = o['expect-hover'];
      await check(`hover ${o['hover-text'] || o['hover-at']}${includes ? ' contains ' + JSON.stringify(includes) : ''}`, () => {
        if (o['hover-text']) return hoverText(page, o['hover-text'], { includes });
        const [l, c] = o['hover-at'].split(':').map(Number);
        return hoverAt(page, l, c || 1, { includes });
      });
      await shot('hover');
      await closeHover(page);
    }
    if (o.command) await check(`command ${o.command}`, () => runCommand(page, o.command));
    if (o['expect-notification']) await check(`notification ${JSON.stringify(o['expect-notification'])}`, () => waitForNotification(page, o['expect-notification']));
    if (o['expect-webview']) await check(`webview ${JSON.stringify(o['expect-webview'])}`, () => waitForWebviewText(page, o['expect-webview']).then((t) => t.trim().slice(0, 200)));
    if (o.command || o['expect-notification'] || o['expect-webview']) await shot('command');
  } catch (e) {
    failed++; log('ERROR', e.message);
    await shot('error').catch(() => {});
  } finally {
    await browser.close();
  }
  log(failed ? `${failed} check(s) FAILED` : 'all checks passed');
  return failed ? 1 : 0;
}

if (require.main === module) {
  cli(process.argv.slice(2)).then((c) => process.exit(c), (e) => { console.error(e.message); process.exit(2); });
}
