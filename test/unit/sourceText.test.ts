/** What tree-sitter is given, notebooks as programs, and the text-safety helpers: small pure functions. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineIndex, printable } from '../../src/core/text';
import { parseableText } from '../../src/core/parse/sourceText';
import { cellAt, notebookProgram, readIpynb, NotebookError } from '../../src/core/notebook';
import { codeSpan, escapeIcons, escapeMarkdown, layerHover, layerSites, modelTooltip } from '../../src/core/present';
import { analyze } from './helpers';

describe('parseableText', () => {
  it('keeps length and offsets; comment-only lines become spaces, lone CRs line feeds', () => {
    const text = 'x = 1  # stays\n   # gone\r\ny = "# not a comment"\r# gone too\rz = 2\n';
    const out = parseableText(text);
    assert.equal(out.length, text.length);
    assert.equal(out, 'x = 1  # stays\n         \r\ny = "# not a comment"\n          \nz = 2\n');
  });
  it('leaves comments inside strings, triple-quoted or continued, alone', () => {
    const text = 's = """\n# inside a docstring\n"""\nt = \'a\\\n# continued\'\n# real\n';
    assert.equal(parseableText(text), 's = """\n# inside a docstring\n"""\nt = \'a\\\n# continued\'\n      \n');
  });
  it('turns line continuations outside strings into spaces (tree-sitter crawls over runs of them), keeping offsets', async () => {
    const text = 'x = 1 + \\\n    2 + \\\r\n3\ns = "a\\\nb"\ny = "\\\\" \\\n# not a comment line\n';
    const out = parseableText(text);
    assert.equal(out.length, text.length);
    assert.equal(out, 'x = 1 +       2 +    3\ns = "a\\\nb"\ny = "\\\\"   # not a comment line\n');
    // The same model as without the continuations, and 5,000 `\\` lines analyse (they took 2-9 s to parse).
    const a = await analyze('import keras\nfrom keras import layers\nm = keras.Sequential([keras.Input((8,)), \\\n  layers.Dense(3),\\\r\n layers.Dense(4)])\n' + '\\\n'.repeat(5000));
    assert.deepEqual(a.models[0].layers.map((l) => l.outputShape), [[3], [4]]);
  });
  it('returns the same string when there is nothing to change', () => {
    const text = 'import keras\n';
    assert.equal(parseableText(text), text);
  });
});

describe('LineIndex', () => {
  it('ends lines at \\n, \\r\\n and a lone \\r, as the LSP does', () => {
    const lines = new LineIndex('a\r\nbb\rccc\nd');
    assert.equal(lines.lineCount, 4);
    assert.deepEqual([0, 3, 6, 10].map((o) => lines.position(o)), [{ line: 0, character: 0 }, { line: 1, character: 0 }, { line: 2, character: 0 }, { line: 3, character: 0 }]);
    assert.deepEqual([0, 1, 2, 3].map((l) => lines.lineText(l)), ['a', 'bb', 'ccc', 'd']);
    assert.equal(lines.offset({ line: 0, character: 99 }), 1, 'past the end of a line: before its break');
    assert.equal(lines.offset({ line: 99, character: 0 }), 11, 'past the last line: the end');
  });
});

describe('notebooks', () => {
  it('joins the Python code cells in order, IPython lines blanked, and maps offsets back to cells', () => {
    const cells = readIpynb(JSON.stringify({
      nbformat: 4,
      metadata: { language_info: { name: 'python' } },
      cells: [
        { cell_type: 'markdown', source: ['# Title'] },
        { cell_type: 'code', source: ['%matplotlib inline\n', 'import keras'] },
        { cell_type: 'code', source: '%%bash\nls\n' },
        { cell_type: 'code', source: ['!pip install x\n', 'm = keras.Sequential()'] },
      ],
    }));
    const p = notebookProgram(cells);
    assert.equal(p.text, '                  \nimport keras\n      \n  \n\n              \nm = keras.Sequential()\n');
    assert.deepEqual(p.cells.map((c) => [c.index, c.start, c.end]), [[1, 0, 31], [2, 32, 42], [3, 43, 80]]);
    assert.equal(cellAt(p, p.text.indexOf('m ='))!.index, 3);
  });
  it('says what is wrong with a file that is not a notebook', () => {
    assert.throws(() => readIpynb('{'), (e: Error) => e instanceof NotebookError && /^not a notebook: the file is not valid JSON at line 1, column 2/.test(e.message));
    // Where a corrupted byte is: the line and column, not only V8's character position.
    assert.throws(() => readIpynb('{\n "cells": [\n  {"source": "a\u0001b"}\n ]\n}'), (e: Error) => /not valid JSON at line 3, column 16 \(/.test(e.message));
    assert.throws(() => readIpynb('{"worksheets": [], "nbformat": 3}'), /nbformat 3 notebooks are not supported/);
    assert.throws(() => readIpynb('{"cells": [{"cell_type": "code", "source": 3}]}'), /cell 1: "source" must be a string or a list of strings/);
  });
});

describe('names from the file are shown as written, never as markup', () => {
  it('code spans take a fence longer than any backtick run inside', () => {
    assert.equal(codeSpan('conv2d'), '`conv2d`');
    assert.equal(codeSpan('a`b'), '``a`b``');
    assert.equal(codeSpan('`x'), '`` `x ``');
    assert.equal(codeSpan('a\nb'), '`a\\nb`');
  });
  it('plain text escapes markdown punctuation; status-bar text cannot draw icons; control characters show as escapes', () => {
    assert.equal(escapeMarkdown('**bold** [x](y) _em_ <b>'), '\\*\\*bold\\*\\* [x\\](y) \\_em\\_ \\<b\\>');
    assert.equal(escapeMarkdown('batch_normalization_1[0][0]'), 'batch_normalization_1[0][0]');
    assert.equal(escapeIcons('m $(bug) x'), 'm $\u200b(bug) x');
    assert.equal(printable('a\x1b[31m\nb\u202e'), 'a\\x1b[31m\\nb\\u202e');
  });
  it('a backtick in a layer or model name stays inside its code span in the hover and tooltip', async () => {
    const a = await analyze("from keras import layers, models\nmodel = models.Sequential(name='a`b**c**')\nmodel.add(layers.Dense(4, name='x`y', input_shape=(8,)))\n");
    const hover = layerHover(layerSites(a)[0]);
    assert.match(hover, /^``x`y`` in `model`: `\(None, 8\)` → `\(None, 4\)` {2}$/m);
    assert.match(modelTooltip(a.models[0]), /^\*\*a\\`b\\\*\\\*c\\\*\\\*\*\* \(`model`\)/);
  });
});
