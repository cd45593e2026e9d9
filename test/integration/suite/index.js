// extensionTestsPath for runTests(): VS Code loads this module in the extension host and awaits run();
// a rejected promise makes VS Code exit with a non-zero code (that is how failures reach CI).
// Runs every test/integration/suite/*.test.js with mocha's BDD interface (describe / it).
//   CONVLENS_TEST_GREP=pattern   run only the tests whose full title matches
'use strict';
const fs = require('fs');
const path = require('path');
const Mocha = require('mocha');

async function run() {
  const mocha = new Mocha({
    ui: 'bdd',
    reporter: 'spec',
    color: false, // the output travels through the workbench's log channel, not a terminal
    timeout: +(process.env.CONVLENS_MOCHA_TIMEOUT_MS || 60000),
    grep: process.env.CONVLENS_TEST_GREP || undefined,
  });
  const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort();
  if (!files.length) throw new Error(`no *.test.js files in ${__dirname}`);
  for (const f of files) mocha.addFile(path.join(__dirname, f));
  await mocha.loadFilesAsync(); // a syntax/require error in a test file rejects here, i.e. fails the run
  const failures = await new Promise((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} integration test(s) failed`);
}

module.exports = { run };
