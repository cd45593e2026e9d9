/** Incremental re-parsing after edits gives exactly what a fresh parse gives. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeSource } from '../../src/core/index';
import { IncrementalParser } from '../../src/node/incrementalParser';
import { loadPythonParser } from '../../src/node/pythonParser';
import { parser, readFixture } from './helpers';

describe('incremental parsing', () => {
  it('300 random edits (typing, deleting, pasting lines, CR and CRLF breaks) match a fresh parse each time', async () => {
    const ts = await loadPythonParser();
    const fresh = await parser();
    let text = readFixture('seeds', '000_cifar10_cnn.py');
    const doc = new IncrementalParser(ts);
    analyzeSource(text, doc.parse());
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pieces = ['model.add(Dense(16))\n', '(', ')', ', ', '3', "'same'", '\n', '\r', '\r\n', '# note\n', 'x', ''];
    for (let i = 0; i < 300; i++) {
      const at = Math.floor(random() * text.length);
      const len = random() < 0.5 ? 0 : Math.floor(random() * 6);
      const insert = pieces[Math.floor(random() * pieces.length)];
      text = text.slice(0, at) + insert + text.slice(Math.min(text.length, at + len));
      const a = analyzeSource(text, doc.parse());
      const b = analyzeSource(text, fresh);
      assert.deepEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)), `edit ${i} diverged`);
    }
    doc.dispose();
  });

  it('a whole new text (several changes at once) is parsed right too', async () => {
    const doc = new IncrementalParser(await loadPythonParser());
    const text = 'import keras\nm = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])\n';
    assert.equal(analyzeSource(text, doc.parse()).models.length, 1);
    const edited = '#import keras\n#m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])\n';
    assert.equal(analyzeSource(edited, doc.parse()).models.length, 0);
    assert.equal(analyzeSource(text, doc.parse()).models[0].layers.length, 1);
  });

  it('a parse past its time budget is abandoned with a warning, and the next parse starts clean', async () => {
    const ts = await loadPythonParser();
    const doc = new IncrementalParser(ts, 0);
    const big = 'import keras\n' + Array.from({ length: 20000 }, (_, i) => `x${i} = (${i} + 1) * 2\n`).join('');
    const a = analyzeSource(big, doc.parse());
    assert.deepEqual(a.problems.map((p) => p.code), ['too-complex']);
    assert.match(a.problems[0].message, /^ConvLens did not analyse this file: reading it took longer than the time allowed/);
    // Without the reset the parser would resume the abandoned parse on the next call.
    const small = new IncrementalParser(ts);
    const b = analyzeSource('import keras\nm = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])\n', small.parse());
    assert.equal(b.models[0].layers[0].params, 8);
  });
});
