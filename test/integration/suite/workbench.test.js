// Keeps the UI channel working: the test drives the real workbench page that the offline runner owns
// (test/integration/uiCheck.js `remote`), opens model.py and saves a screenshot to CONVLENS_SCREENSHOT_DIR.
// Skipped with desktop VS Code (download path), where no runner page exists.
'use strict';
const assert = require('assert');
const fs = require('fs');
const ui = require('../uiCheck');

describe('workbench UI (offline runner)', () => {
  before(function () {
    if (!ui.remote.available) {
      console.log('    (skipped: CONVLENS_UI_URL not set; UI checks need test/integration/runCodeServer.js)');
      this.skip();
    }
  });

  it('opens model.py in an editor and saves a screenshot', async () => {
    await ui.remote.openFile('model.py');
    assert.match(await ui.remote.editorText(), /layers\.Conv2D/);
    const png = await ui.remote.screenshot('workbench-model-py');
    assert.ok(fs.statSync(png).size > 10000, `${png} is suspiciously small`);
  });
});
