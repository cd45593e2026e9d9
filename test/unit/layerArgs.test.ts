/**
 * The graph view's property-sheet edits: which text replaces an argument written as a keyword or
 * positionally, where a new one goes (same line, one per line, after a trailing comma), removing
 * one, and turning what the user typed into Python the layer's own argument rule accepts. Every
 * edited source is analysed again to check the layer now reads the new value.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { argFields, argumentCode, preferredQuote, readCall, setArgument, writtenArgument, type TextReplacement } from '../../src/core/edit/layerArgs';
import { findLayer } from '../../src/core/layers/index';
import { analyze } from './helpers';

const conv = findLayer('Conv2D')!;
const dense = findLayer('Dense')!;
const order = (t: typeof conv) => Object.keys(t.args);

/** Applies the edit to the first `Conv2D(`/`Dense(` call of `text`. */
function edit(text: string, name: string, code: string | null, type = conv): string {
  const start = text.indexOf(`${type.name}(`);
  const end = matchParen(text, text.indexOf('(', start)) + 1;
  const r = setArgument(text, { start, end }, order(type), name, code);
  if ('error' in r) throw new Error(r.error);
  return apply(text, r);
}
const apply = (text: string, r: TextReplacement) => text.slice(0, r.start) + r.newText + text.slice(r.end);
function matchParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    if (text[i] === ')' && --depth === 0) return i;
  }
  return -1;
}

describe('argument edits on a layer call', () => {
  it('reads a call: positional and keyword arguments, strings with commas and brackets, comments', () => {
    const text = `x = layers.Conv2D(32, (3, 3),  # the kernel\n    padding="sa,me)", name=f"c{i}", **extra)(x)`;
    const c = readCall(text, { start: 4, end: text.lastIndexOf(')(x)') + 1 });
    assert.ok(!('error' in c));
    assert.deepEqual(
      c.args.map((a) => [text.slice(a.start, a.end), a.keyword ?? a.star ?? '', text.slice(a.valueStart, a.valueEnd)]),
      [
        ['32', '', '32'],
        ['(3, 3)', '', '(3, 3)'],
        ['padding="sa,me)"', 'padding', '"sa,me)"'],
        ['name=f"c{i}"', 'name', 'f"c{i}"'],
        ['**extra', '**', '**extra'],
      ],
    );
  });

  it('replaces a keyword value, a positional value, and keeps the rest of the line', () => {
    const src = 'm.add(layers.Conv2D(32, 3, padding="valid", activation="relu"))\n';
    assert.equal(edit(src, 'padding', '"same"'), 'm.add(layers.Conv2D(32, 3, padding="same", activation="relu"))\n');
    assert.equal(edit(src, 'filters', '64'), 'm.add(layers.Conv2D(64, 3, padding="valid", activation="relu"))\n');
    assert.equal(edit(src, 'kernel_size', '(5, 5)'), 'm.add(layers.Conv2D(32, (5, 5), padding="valid", activation="relu"))\n');
    assert.equal(edit(src, 'activation', 'None'), 'm.add(layers.Conv2D(32, 3, padding="valid", activation=None))\n');
  });

  it('adds a missing argument as a keyword: after the last one, on its own line in a one-per-line call, after a trailing comma', () => {
    assert.equal(edit('Conv2D(32, 3)', 'strides', '2'), 'Conv2D(32, 3, strides=2)');
    assert.equal(edit('Conv2D()', 'filters', '8'), 'Conv2D(filters=8)');
    assert.equal(edit('Conv2D(32, 3,)', 'strides', '2'), 'Conv2D(32, 3, strides=2)');
    assert.equal(
      edit('layers.Conv2D(\n    filters=32,\n    kernel_size=3,\n)(x)', 'padding', "'same'"),
      "layers.Conv2D(\n    filters=32,\n    kernel_size=3,\n    padding='same',\n)(x)",
    );
    assert.equal(edit('layers.Conv2D(\n    32,\n    3\n)(x)', 'strides', '2'), 'layers.Conv2D(\n    32,\n    3,\n    strides=2\n)(x)');
    // Dense's units is its first positional argument.
    assert.equal(edit('Dense(10, activation="softmax")', 'units', '5', dense), 'Dense(5, activation="softmax")');
  });

  it('removes an argument (back to its default) with its comma; refuses a positional one with others after it', () => {
    assert.equal(edit('Conv2D(32, 3, strides=2, padding="same")', 'strides', null), 'Conv2D(32, 3, padding="same")');
    assert.equal(edit('Conv2D(32, 3, strides=2)', 'strides', null), 'Conv2D(32, 3)');
    assert.equal(edit('Conv2D(strides=2, filters=3)', 'strides', null), 'Conv2D(filters=3)');
    assert.equal(edit('Conv2D(32, 3, padding="same")', 'kernel_size', null), 'Conv2D(32, padding="same")');
    assert.throws(() => edit('Conv2D(32, 3, 2)', 'kernel_size', null), /positional argument with others after it/);
    assert.equal(edit('Conv2D(32, 3)', 'padding', null), 'Conv2D(32, 3)');
  });

  it('refuses to guess where *args or **kwargs might already set it', () => {
    assert.throws(() => edit('Conv2D(32, 3, **cfg)', 'padding', "'same'"), /\*\*kwargs/);
    assert.throws(() => edit('Conv2D(*a)', 'kernel_size', '3'), /\*args/);
    // A keyword written before **kwargs is still edited in place.
    assert.equal(edit('Conv2D(32, 3, padding="valid", **cfg)', 'padding', '"same"'), 'Conv2D(32, 3, padding="same", **cfg)');
  });

  it('writes what the user typed as Python, checked by the layer’s own rule', () => {
    const k = conv.args.kernel_size;
    assert.deepEqual(argumentCode(k, 'kernel_size', '3'), { code: '3' });
    assert.deepEqual(argumentCode(k, 'kernel_size', '3x5'), { code: '(3, 5)' });
    assert.deepEqual(argumentCode(k, 'kernel_size', '(3,3)'), { code: '(3, 3)' });
    assert.deepEqual(argumentCode(k, 'kernel_size', '3, 3'), { code: '(3, 3)' });
    assert.match((argumentCode(k, 'kernel_size', '3, 3, 3') as { error: string }).error, /kernel_size must be a positive integer or a tuple of 2 integers/);
    assert.match((argumentCode(conv.args.filters, 'filters', '0') as { error: string }).error, /filters must be a positive integer, got 0/);
    assert.deepEqual(argumentCode(conv.args.padding, 'padding', 'same'), { code: "'same'" });
    assert.deepEqual(argumentCode(conv.args.padding, 'padding', "'same'", '"'), { code: '"same"' });
    assert.match((argumentCode(conv.args.padding, 'padding', 'sane') as { error: string }).error, /padding must be one of 'valid', 'same'/);
    assert.deepEqual(argumentCode(conv.args.activation, 'activation', 'none'), { code: 'None' });
    assert.match((argumentCode(conv.args.activation, 'activation', 'rleu') as { error: string }).error, /'rleu' is not a Keras activation; did you mean 'relu'\?/);
    assert.deepEqual(argumentCode(conv.args.filters, 'filters', ''), { code: null });
    assert.match((argumentCode(conv.args.filters, 'filters', 'x; import os') as { error: string }).error, /not a value ConvLens can write/);
    assert.equal(preferredQuote('a = "x"\nb = "y"\nc = \'z\''), '"');
  });

  it('lists the fields of the property sheet with their written values and defaults', () => {
    const text = 'layers.Conv2D(32, 3, activation="relu")';
    const fields = argFields(conv, text, { start: 0, end: text.length });
    assert.deepEqual(
      fields.map((f) => [f.name, f.kind, f.written ?? '', f.default ?? '']),
      [
        ['filters', 'number', '32', ''],
        ['kernel_size', 'size', '3', ''],
        ['strides', 'size', '', '(1, 1)'],
        ['padding', 'choice', '', "'valid'"],
        ['activation', 'choice', '"relu"', 'None'],
      ],
    );
    assert.deepEqual(fields.find((f) => f.name === 'padding')!.choices, ["'valid'", "'same'"]);
    assert.equal(writtenArgument(text, { start: 0, end: text.length }, order(conv), 'strides'), undefined);
  });

  it('an edit of the source changes what the analysis reads: padding same keeps 28×28, kernel 5 gives 24×24', async () => {
    const src = 'import keras\nfrom keras import layers\nmodel = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, 3)])\n';
    const shapeAfter = async (text: string) => (await analyze(text)).models[0].layers[0].outputShape;
    assert.deepEqual(await shapeAfter(src), [26, 26, 8]);
    assert.deepEqual(await shapeAfter(edit(src, 'padding', "'same'")), [28, 28, 8]);
    assert.deepEqual(await shapeAfter(edit(src, 'kernel_size', '5')), [24, 24, 8]);
    assert.deepEqual(await shapeAfter(edit(src, 'strides', '(2, 2)')), [13, 13, 8]);
  });
});
