/** Problems point at the exact source range, in words a student understands, with quick fixes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Fix, Problem } from '../../src/core/index';
import { analyze, covered } from './helpers';

function applyFix(text: string, fix: Fix): string {
  const edits = [...fix.edits].sort((a, b) => b.span.start - a.span.start);
  let out = text;
  for (const e of edits) out = out.slice(0, e.span.start) + e.newText + out.slice(e.span.end);
  return out;
}

const only = (problems: Problem[], code: string): Problem => {
  const found = problems.filter((p) => p.code === code);
  assert.equal(found.length, 1, `expected one '${code}' problem, got ${JSON.stringify(problems.map((p) => [p.code, p.message]))}`);
  return found[0];
};

describe('shape errors', () => {
  const text = `from keras import layers, models
model = models.Sequential()
model.add(layers.Conv2D(8, 3, input_shape=(4, 4, 1)))
model.add(layers.Conv2D(4, (5, 5), activation='relu'))
model.add(layers.Flatten())
model.add(layers.Dense(10))
`;
  it('a 5×5 kernel on a 2×2 input: the message explains the arithmetic and points at kernel_size', async () => {
    const a = await analyze(text.replace('(4, 4, 1)', '(6, 6, 1)'));
    const p = only(a.problems, 'output-empty');
    assert.equal(p.severity, 'error');
    assert.equal(p.message, "Conv2D's 5×5 kernel is larger than its 4×4 input, so it has no output position: (4 − 5) / 1 + 1 = 0; use a kernel of at most 4×4, or padding='same'");
    assert.equal(covered(text.replace('(4, 4, 1)', '(6, 6, 1)'), p), '(5, 5)');
  });
  it("offers the largest kernel that fits, and padding='same', each of which fixes it", async () => {
    const src = text.replace('(4, 4, 1)', '(6, 6, 1)');
    const p = only((await analyze(src)).problems, 'output-empty');
    assert.deepEqual(p.fixes?.map((f) => f.title), ['Use kernel_size=4, the largest that fits', "Use padding='same'"]);
    const smaller = applyFix(src, p.fixes![0]);
    assert.match(smaller, /layers\.Conv2D\(4, 4, activation='relu'\)/);
    assert.deepEqual((await analyze(smaller)).problems.filter((x) => x.severity === 'error'), []);
    const fixed = applyFix(src, p.fixes!.find((f) => f.title === "Use padding='same'")!);
    assert.match(fixed, /layers\.Conv2D\(4, \(5, 5\), activation='relu', padding='same'\)/);
    const after = await analyze(fixed);
    // Valid now, but the 5×5 kernel on a 4×4 input is still worth a warning.
    assert.deepEqual(after.problems.map((x) => x.code), ['kernel-larger-than-input']);
    assert.deepEqual(after.models[0].layers[1].outputShape, [4, 4, 4]);
  });
  it("replaces an existing padding='valid'", async () => {
    const src = "from keras import layers, models\nm = models.Sequential([layers.Conv2D(1, 7, padding='valid', input_shape=(5, 5, 1))])\n";
    const p = only((await analyze(src)).problems, 'output-empty');
    const same = p.fixes!.find((f) => f.title === "Use padding='same'")!;
    assert.match(applyFix(src, same), /padding='same'/);
    assert.doesNotMatch(applyFix(src, same), /valid/);
  });
  it("a dilated kernel too wide for its input: a smaller dilation_rate is offered", async () => {
    const src = 'from keras import layers, models\nm = models.Sequential([layers.Conv2D(2, 3, dilation_rate=4, input_shape=(6, 6, 1))])\n';
    const p = only((await analyze(src)).problems, 'output-empty');
    assert.match(p.message, /^Conv2D's 9×9 dilated kernel is larger than its 6×6 input/);
    assert.ok(p.fixes!.some((f) => f.title === 'Use dilation_rate=2, the largest that fits'), p.fixes!.map((f) => f.title).join(' | '));
  });
  it("padding='same' hiding a kernel larger than the input is a warning on the kernel, with the largest kernel that fits", async () => {
    const src = "from keras import layers, models\nm = models.Sequential([layers.Conv2D(8, 30, padding='same', input_shape=(28, 28, 1))])\n";
    const p = only((await analyze(src)).problems, 'kernel-larger-than-input');
    assert.equal(p.severity, 'warning');
    assert.equal(p.message, "Conv2D's 30×30 kernel is larger than its 28×28 input: padding='same' keeps the size, but most of the kernel then covers padding zeros");
    assert.equal(covered(src, p), '30');
    assert.equal(p.fixes?.[0].title, 'Use kernel_size=28, the largest that fits');
  });
  it('a misspelt layer class and activation name get "did you mean" with a quick fix', async () => {
    const src = "from keras import layers, models\nm = models.Sequential([layers.Input((8,)), layers.Dence(4, activation='rleu')])\n";
    let a = await analyze(src);
    const layer = only(a.problems, 'unknown-layer');
    assert.match(layer.message, /Keras has no layer 'Dence'; did you mean 'Dense'\?/);
    const fixed = applyFix(src, layer.fixes![0]);
    assert.match(fixed, /layers\.Dense\(4, activation='rleu'\)/);
    a = await analyze(fixed);
    const act = only(a.problems, 'invalid-arg');
    assert.equal(act.fixes?.[0].title, "Use activation='relu'");
    assert.deepEqual((await analyze(applyFix(fixed, act.fixes![0]))).problems, []);
  });
  it('pooling larger than its input', async () => {
    const src = 'from keras import layers, models\nm = models.Sequential([layers.MaxPooling2D(pool_size=3, input_shape=(2, 2, 1))])\n';
    const p = only((await analyze(src)).problems, 'output-empty');
    assert.match(p.message, /^MaxPooling2D's 3×3 pool is larger than its 2×2 input, so it has no output position: ⌊\(2 − 3\) \/ 3⌋ \+ 1 = 0; use a pool of at most 2×2$/);
  });
  it('errors stop the cascade: later layers are unknown, not wrong, and not reported again', async () => {
    const a = await analyze(text);
    assert.equal(a.problems.filter((p) => p.severity === 'error').length, 1);
    const after = a.models[0].layers.slice(1);
    // The failing Conv2D still has its 4·(5·5·8) + 4 parameters: they depend only on its input.
    assert.deepEqual(after.map((l) => l.params), [804, 0, null]);
    // Dense still knows its last axis; the leading axes are marked unknown.
    assert.deepEqual(after.map((l) => l.partialShape || l.outputShape === null), [true, true, true]);
    assert.equal(a.models[0].hasErrors, true);
  });
  it('Dense on a 4-D tensor warns, and the quick fix inserts Flatten() on its own line', async () => {
    const src = `from keras import layers, models
model = models.Sequential()
model.add(layers.Conv2D(8, 3, input_shape=(10, 10, 1)))
    
model.add(layers.Dense(10))
`;
    const p = only((await analyze(src)).problems, 'dense-on-nd');
    assert.equal(p.severity, 'warning');
    assert.match(p.message, /Dense acts on the last axis only: on \(None, 8, 8, 8\)/);
    assert.match(p.message, /Did you mean to add Flatten\(\) first\?/);
    assert.equal(covered(src, p), 'layers.Dense');
    const fixed = applyFix(src, p.fixes![0]);
    assert.match(fixed, /model\.add\(layers\.Flatten\(\)\)\nmodel\.add\(layers\.Dense\(10\)\)/);
    const after = await analyze(fixed);
    assert.deepEqual(after.problems, []);
    assert.deepEqual(after.models[0].layers.map((l) => l.outputShape), [[8, 8, 8], [512], [10]]);
  });
  it('the Flatten fix works in a Sequential([...]) list too', async () => {
    const src = 'import keras\nm = keras.Sequential([keras.Input((4, 4, 2)), keras.layers.Dense(3)])\n';
    const p = only((await analyze(src)).problems, 'dense-on-nd');
    const fixed = applyFix(src, p.fixes![0]);
    assert.match(fixed, /keras\.layers\.Flatten\(\), keras\.layers\.Dense\(3\)/);
    assert.deepEqual((await analyze(fixed)).problems, []);
  });
  it('Conv2D on a 2-D input says the channel axis is missing', async () => {
    const src = 'from keras import layers, models\nm = models.Sequential([layers.Conv2D(4, 3, input_shape=(28, 28))])\n';
    const p = only((await analyze(src)).problems, 'input-rank');
    assert.match(p.message, /Conv2D expects a 3-D input per sample \(height, width, channels\), but its input is \(None, 28, 28\); the input has no channel axis: use input_shape=\(28, 28, 1\)/);
  });
  it('Conv2D after Flatten explains that no spatial axes are left', async () => {
    const src = 'from keras import layers, models\nm = models.Sequential([layers.Flatten(input_shape=(8, 8, 1)), layers.Conv2D(4, 3)])\n';
    assert.match(only((await analyze(src)).problems, 'input-rank').message, /no spatial axes left/);
  });
  it('Reshape that changes the number of values', async () => {
    const src = 'from keras import layers, models\nm = models.Sequential([layers.Reshape((3, 100), input_shape=(784,))])\n';
    assert.match(only((await analyze(src)).problems, 'reshape').message, /cannot reshape \(None, 784\) \(784 values\) into \(None, 3, 100\) \(300 values\)/);
  });
  it('groups that do not divide the channels', async () => {
    const src = 'from keras import layers, models\nm = models.Sequential([layers.Conv2D(6, 3, groups=4, input_shape=(8, 8, 6))])\n';
    assert.match(only((await analyze(src)).problems, 'groups').message, /6 input channels cannot be split into groups=4/);
  });
  it('strides and dilation together (Keras refuses them)', async () => {
    const src = 'from keras import layers, models\nm = models.Sequential([layers.Conv2D(6, 3, strides=2, dilation_rate=2, input_shape=(8, 8, 6))])\n';
    assert.equal(only((await analyze(src)).problems, 'strides-dilation').severity, 'error');
  });
});

describe('invalid arguments point at the argument', () => {
  const cases: [string, string, RegExp][] = [
    ['Conv2D(-8, 3)', '-8', /Conv2D: 'filters' must be a positive integer, got -8/],
    ["Conv2D(8, 3, padding='full')", "'full'", /'padding' must be one of 'valid', 'same', got 'full'/],
    ['Conv2D(8, (3, 3, 3))', '(3, 3, 3)', /'kernel_size' must be a positive integer or a tuple of 2 integers, got \(3, 3, 3\) \(3 values\)/],
    ['Conv2D(8, 0)', '0', /'kernel_size' must be a positive integer/],
    ['Dropout(1.5)', '1.5', /Dropout: 'rate' must be a number in \[0, 1\], got 1.5/],
    ["Dense(10, activation='rleu')", "'rleu'", /'rleu' is not a Keras activation; did you mean 'relu'\?/],
    ["Dense('ten')", "'ten'", /'units' must be a positive integer, got 'ten'/],
  ];
  for (const [call, at, message] of cases) {
    it(call, async () => {
      const src = `from keras import layers, models\nm = models.Sequential([layers.Input((8, 8, 3)), layers.${call}])\n`;
      const p = only((await analyze(src)).problems, 'invalid-arg');
      assert.equal(p.severity, 'error');
      assert.match(p.message, message);
      assert.equal(covered(src, p), at);
    });
  }
  it('a missing required argument', async () => {
    const src = 'from keras import layers, models\nm = models.Sequential([layers.Input((8, 8, 3)), layers.Conv2D(kernel_size=3)])\n';
    const p = only((await analyze(src)).problems, 'missing-arg');
    assert.match(p.message, /Conv2D needs 'filters' \(a positive integer\)/);
    assert.equal(covered(src, p), 'layers.Conv2D');
  });
  it('an unknown keyword gets a did-you-mean, and the layer still counts', async () => {
    const src = 'from keras import layers, models\nm = models.Sequential([layers.Input((8,)), layers.Dense(4, activaton="relu")])\n';
    const a = await analyze(src);
    const p = only(a.problems, 'unknown-arg');
    assert.equal(p.message, "Dense has no argument 'activaton'; did you mean 'activation'?");
    assert.equal(covered(src, p), 'activaton');
    assert.equal(a.models[0].totalParams, 36);
  });
  it('too many positional arguments, and the same argument twice', async () => {
    const a = await analyze('from keras import layers, models\nm = models.Sequential([layers.Input((8,)), layers.Dropout(0.5, None, None, 4), layers.Dense(4, units=3)])\n');
    assert.ok(a.problems.some((p) => p.code === 'too-many-args'));
    assert.ok(a.problems.some((p) => p.code === 'duplicate-arg'));
  });
  it('a misspelt layer class gets a suggestion', async () => {
    const a = await analyze('from keras import layers, models\nm = models.Sequential([layers.Input((8,)), layers.Conv2d(4, 3)])\n');
    assert.match(only(a.problems, 'unknown-layer').message, /Keras has no layer 'Conv2d'; did you mean 'Conv2D'\?/);
  });
});

describe('missing input shape', () => {
  it('warns on the model, shows shapes as unknown and still counts the parameters it can', async () => {
    const src = `from keras import layers, models
model = models.Sequential()
model.add(layers.Conv2D(32, 3))
model.add(layers.Conv2D(64, 3))
model.add(layers.Flatten())
model.add(layers.Dense(128))
model.add(layers.Dense(10))
`;
    const a = await analyze(src);
    const p = only(a.problems, 'no-input-shape');
    assert.equal(p.severity, 'warning');
    assert.equal(covered(src, p), 'models.Sequential()');
    const m = a.models[0];
    assert.deepEqual(m.layers.map((l) => l.params), [null, 18496, 0, null, 1290]);
    assert.deepEqual(m.layers[1].outputShape, [null, null, 64]);
    assert.equal(m.totalParams, null);
  });
  it('an input_shape that comes from unknown data is information, not an error', async () => {
    const src = 'from keras import layers, models\nm = models.Sequential([layers.Dense(4, input_shape=X.shape[1:])])\n';
    const a = await analyze(src);
    assert.equal(only(a.problems, 'input-unknown').severity, 'information');
  });
});

describe('syntax errors', () => {
  it('an unclosed bracket is reported where it opens, and the rest of the file is read', async () => {
    const src = 'from keras import layers, models\nm = models.Sequential()\nm.add(layers.Dense(4, input_shape=(3,)\nm.add(layers.Dense(2))\n';
    const a = await analyze(src);
    const p = a.problems.find((x) => x.code === 'syntax')!;
    assert.equal(src.slice(p.span.start, p.span.end), '(');
    assert.equal(p.span.start, src.indexOf('m.add(') + 5);
    assert.deepEqual(a.models[0].layers.map((l) => l.params), [16, 10]);
  });
});
