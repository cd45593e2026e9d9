/** Incremental re-parsing after edits gives exactly what a fresh parse gives. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineIndex, analyzeSource } from '../../src/core/index';
import { IncrementalParser } from '../../src/node/incrementalParser';
import { loadPythonParser } from '../../src/node/pythonParser';
import { parser, readFixture } from './helpers';

describe('incremental parsing', () => {
  it('300 random edits (typing, deleting, pasting lines) match a fresh parse each time', async () => {
    const ts = await loadPythonParser();
    const fresh = await parser();
    let text = readFixture('seeds', '000_cifar10_cnn.py');
    const doc = new IncrementalParser(ts);
    analyzeSource(text, doc.parseFor(text));
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pieces = ['model.add(Dense(16))\n', '(', ')', ', ', '3', "'same'", '\n', 'x', ''];
    for (let i = 0; i < 300; i++) {
      const at = Math.floor(random() * text.length);
      const len = random() < 0.5 ? 0 : Math.floor(random() * 6);
      const insert = pieces[Math.floor(random() * pieces.length)];
      const lines = new LineIndex(text);
      const start = lines.position(at);
      const end = lines.position(Math.min(text.length, at + len));
      const removed = Math.min(text.length, at + len) - at;
      text = text.slice(0, at) + insert + text.slice(at + removed);
      doc.applyChanges([{ rangeOffset: at, rangeLength: removed, text: insert, start, end }]);
      const a = analyzeSource(text, doc.parseFor(text));
      const b = analyzeSource(text, fresh);
      assert.deepEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)), `edit ${i} diverged`);
    }
    doc.dispose();
  });
  it('several changes at once fall back to a full parse', async () => {
    const doc = new IncrementalParser(await loadPythonParser());
    const text = 'import keras\nm = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])\n';
    analyzeSource(text, doc.parseFor(text));
    doc.applyChanges([
      { rangeOffset: 0, rangeLength: 0, text: '#', start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      { rangeOffset: 14, rangeLength: 0, text: '#', start: { line: 1, character: 0 }, end: { line: 1, character: 0 } },
    ]);
    const edited = '#import keras\n#m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])\n';
    assert.equal(analyzeSource(edited, doc.parseFor(edited)).models.length, 0);
  });
});
