// What a person sees in the workbench: inlay hints rendered after the layer calls, the hover card,
// and the status-bar item, asserted on the DOM and saved as screenshots.
'use strict';
const assert = require('assert');
const fs = require('fs');
const ui = require('../uiCheck');

describe('workbench UI: ConvLens annotations', () => {
  before(function () {
    if (!ui.remote.available) {
      console.log('    (skipped: UI checks need the offline runner, test/integration/runCodeServer.js)');
      this.skip();
    }
  });

  it('renders the inlay hints after each layer call', async () => {
    await ui.remote.openFile('model.py');
    const hints = await ui.remote.waitForInlayHints({ includes: '(None, 24, 24, 10) · 260 params', min: 4 });
    assert.deepStrictEqual(
      hints.map((t) => t.trim()),
      ['→ (None, 24, 24, 10) · 260 params', '→ (None, 12, 12, 10) · 0 params', '→ (None, 1440) · 0 params', '→ (None, 10) · 14,410 params'],
    );
    const lenses = await ui.remote.waitForCodeLens('14,670 params (57.30 KB)');
    assert.ok(lenses.some((t) => t.includes('Show summary')), `code lenses: ${lenses}`);
    const png = await ui.remote.screenshot('inlay-hints');
    assert.ok(fs.statSync(png).size > 10000);
  });

  it('shows the hover card with the parameter formula', async () => {
    const text = await ui.remote.hoverText('Conv2D', { includes: '10 × (5·5·1) + 10 = 260' });
    assert.match(text, /Conv2D/);
    assert.match(text, /\(None, 28, 28, 1\)\s*→\s*\(None, 24, 24, 10\)/);
    assert.match(text, /MACs: 144,000/);
    assert.match(text, /Receptive field: 5×5 input pixels, step 1×1/);
    await ui.remote.screenshot('hover');
    await ui.remote.closeHover();
  });

  it('shows the model total in the status bar', async () => {
    const texts = await ui.remote.waitForStatusBar('sequential: 14,670 params');
    assert.ok(texts.some((t) => t.includes('14,670 params')));
  });
});
