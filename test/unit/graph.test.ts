/**
 * Graph models: the Keras functional API, merge layers, shared layers, nested models,
 * subclassed models and layers, and the real-script idioms around them. Expected numbers are
 * Keras' rules worked by hand in each test's name (conv: filters·(k·k·c_in) + filters).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { analyzeSource, formatSummary, type FileAnalysis, type ModelReport } from '../../src/core/index';
import { siblingModuleLoader } from '../../src/node/moduleLoader';
import { analyze, covered, parser } from './helpers';

const shape = (s: (number | null)[] | null): string => (s === null ? '?' : `(None, ${s.map((d) => d ?? 'None').join(', ')})`);
/** Keras summary rows: name, class, output shape of the last call, params. */
const summaryRows = (m: ModelReport): string[] =>
  m.summary.map((s) => {
    const last = m.layers[s.calls[s.calls.length - 1]];
    return `${s.name} ${s.className} ${last ? shape(last.outputShape) : '?'} ${s.unbuilt ? '0 (unbuilt)' : s.params}`;
  });
const byVar = (a: FileAnalysis, v: string): ModelReport => {
  const m = a.models.find((x) => x.varName === v);
  assert.ok(m, `no model '${v}' (have ${a.models.map((x) => x.varName ?? x.name).join(', ')})`);
  return m;
};
const errors = (a: FileAnalysis) => a.problems.filter((p) => p.severity === 'error');

const HEAD = 'import keras\nfrom keras import layers\n';

describe('functional API', () => {
  it('Input → layer calls → Model: rows in Keras order with Connected to', async () => {
    const a = await analyze(`${HEAD}inputs = keras.Input(shape=(32, 32, 3), name="img")
x = layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
y = layers.Conv2D(16, 3, padding="same")(x)
z = layers.add([x, y])
outputs = layers.Dense(10)(layers.GlobalAveragePooling2D()(z))
model = keras.Model(inputs, outputs, name="tiny")
`);
    const m = byVar(a, 'model');
    assert.equal(m.name, 'tiny');
    assert.equal(m.connected, true);
    // conv: 16·(3·3·3) + 16 = 448; 16·(3·3·16) + 16 = 2,320; dense: 16·10 + 10 = 170.
    assert.deepEqual(summaryRows(m), [
      'img InputLayer (None, 32, 32, 3) 0',
      'conv2d Conv2D (None, 32, 32, 16) 448',
      'conv2d_1 Conv2D (None, 32, 32, 16) 2320',
      'add Add (None, 32, 32, 16) 0',
      'global_average_pooling2d GlobalAveragePooling2D (None, 16) 0',
      'dense Dense (None, 10) 170',
    ]);
    assert.deepEqual(m.layers.find((l) => l.name === 'add')?.inputs, ['conv2d[0][0]', 'conv2d_1[0][0]']);
    assert.equal(m.totalParams, 2938);
    assert.deepEqual(shape(m.outputShape), '(None, 10)');
    assert.deepEqual(errors(a), []);
  });

  it('a chain built with the functional API prints without Connected to, as Keras does', async () => {
    const a = await analyze(`${HEAD}i = keras.Input((8,))\nm = keras.Model(i, layers.Dense(2)(layers.Dense(4)(i)))\n`);
    assert.equal(a.models[0].connected, false);
    assert.doesNotMatch(formatSummary(a.models[0]), /Connected to/);
  });

  it('tensors reassigned in loops and returned from helpers; x.shape[-1] and int_shape read statically', async () => {
    const a = await analyze(`import keras
from keras import layers
from keras import backend as K
def block(x, filters):
    if x.shape[-1] != filters:
        x = layers.Conv2D(filters, 1)(x)
    c = K.int_shape(x)[-1]
    y = layers.Conv2D(c, 3, padding="same")(x)
    return layers.add([x, y])
inputs = keras.Input((16, 16, 8))
x = inputs
for f in [8, 16, 16]:
    x = block(x, f)
channel_axis = 1 if keras.backend.image_data_format() == "channels_first" else -1
model = keras.Model(inputs, x)
`);
    const m = byVar(a, 'model');
    // block(8): no projection; conv 8·(9·8)+8 = 584. block(16): 1×1 16·8+16 = 144, conv 16·(9·16)+16 = 2,320. block(16): 2,320.
    assert.equal(m.totalParams, 584 + 144 + 2320 + 2320);
    assert.deepEqual(m.summary.filter((s) => s.className === 'Add').map((s) => s.name), ['add', 'add_1', 'add_2']);
    assert.deepEqual(errors(a), []);
  });

  it('a layer called twice shares its weights: counted once, two calls, one summary row', async () => {
    const a = await analyze(`${HEAD}a = keras.Input((16,))
b = keras.Input((16,))
shared = layers.Dense(8)
merged = layers.concatenate([shared(a), shared(b)])
model = keras.Model([a, b], layers.Dense(1)(merged))
`);
    const m = byVar(a, 'model');
    // shared: 16·8 + 8 = 136 (once); head: 16·1 + 1 = 17.
    assert.equal(m.totalParams, 153);
    const row = m.summary.find((s) => s.name === 'dense')!;
    assert.equal(row.calls.length, 2);
    assert.ok(m.layers.filter((l) => l.name === 'dense').every((l) => l.shared));
    assert.deepEqual(m.layers.filter((l) => l.name === 'dense').map((l) => l.nodeIndex), [0, 1]);
    assert.equal(m.inputs.length, 2);
  });

  it('several outputs and a dict of outputs', async () => {
    const a = await analyze(`${HEAD}x = keras.Input((8,))
h = layers.Dense(4)(x)
model = keras.Model(inputs=x, outputs={"a": layers.Dense(1, name="a")(h), "b": layers.Dense(2, name="b")(h)})
`);
    const m = byVar(a, 'model');
    assert.deepEqual(m.outputs.map((o) => o.name), ['a', 'b']);
    assert.equal(m.totalParams, 36 + 5 + 10);
  });

  it('a graph whose output needs an Input that is not among the inputs is disconnected, at the Model call', async () => {
    const text = `${HEAD}a = keras.Input((4,))
b = keras.Input((4,))
out = layers.add([a, b])
model = keras.Model(a, out)
`;
    const a = await analyze(text);
    const e = errors(a)[0];
    assert.equal(e.code, 'graph-disconnected');
    assert.match(e.message, /outputs need 'input_layer_1', which is not among its inputs/);
    assert.equal(covered(text, e), 'keras.Model(a, out)');
  });
});

describe('merge layers', () => {
  const merge = (expr: string) => analyze(`${HEAD}a = keras.Input((4, 4, 8))\nb = keras.Input((4, 4, 8))\nc = keras.Input((4, 4, 1))\nd = keras.Input((2, 2, 8))\nout = ${expr}\nmodel = keras.Model([a, b, c, d], out)\n`);
  it('Add, Subtract, Multiply, Average, Maximum, Minimum keep the shape; a size of 1 broadcasts', async () => {
    for (const [expr, want] of [
      ['layers.Add()([a, b])', '(None, 4, 4, 8)'],
      ['layers.subtract([a, b])', '(None, 4, 4, 8)'],
      ['layers.Multiply()([a, c])', '(None, 4, 4, 8)'],
      ['layers.average([a, b, a])', '(None, 4, 4, 8)'],
      ['layers.Maximum()([a, b])', '(None, 4, 4, 8)'],
      ['layers.minimum([c, a])', '(None, 4, 4, 8)'],
    ]) {
      const a = await merge(expr);
      assert.equal(shape(byVar(a, 'model').layers.at(-1)!.outputShape), want, expr);
      assert.deepEqual(errors(a), [], expr);
    }
  });
  it('Concatenate sums the concatenation axis: 8 + 8 + 1 = 17 channels; axis=1 joins rows', async () => {
    let a = await merge('layers.concatenate([a, b, c])');
    assert.equal(shape(byVar(a, 'model').layers.at(-1)!.outputShape), '(None, 4, 4, 17)');
    a = await merge('layers.Concatenate(axis=1)([a, b])');
    assert.equal(shape(byVar(a, 'model').layers.at(-1)!.outputShape), '(None, 8, 4, 8)');
  });
  it('Add of different sizes is an error on the call, naming both shapes and where each came from, with a 1×1 projection as the fix', async () => {
    const text = `${HEAD}inputs = keras.Input((32, 32, 3))
x = layers.Conv2D(64, 3, padding="same")(inputs)
y = layers.Conv2D(64, 3, strides=2, padding="same")(x)
z = layers.Add()([x, y])
`;
    const a = await analyze(text);
    const e = errors(a)[0];
    assert.equal(e.code, 'merge-shapes');
    assert.equal(covered(text, e), 'layers.Add()([x, y])');
    assert.match(e.message, /Add needs inputs of the same shape .*input 1 is \(None, 32, 32, 64\) and input 2 is \(None, 16, 16, 64\)/);
    assert.match(e.message, /input 1 comes from conv2d \(Conv2D, line 4\), input 2 comes from conv2d_1 \(Conv2D, line 5\)/);
    const fix = e.fixes?.[0];
    assert.ok(fix, 'a quick fix');
    assert.match(fix.title, /1×1 Conv2D\(64, strides=2\)/);
    assert.equal(fix.edits[0].newText, "layers.Conv2D(64, 1, strides=2, padding='same')(x)");
    assert.equal(covered(text, { ...e, span: fix.edits[0].span }), 'x');
  });
  it('Concatenate with other axes that differ is an error; Subtract needs exactly two inputs', async () => {
    let a = await merge('layers.concatenate([a, d])');
    assert.match(errors(a)[0].message, /Concatenate along axis -1 needs every other axis to match/);
    a = await merge('layers.subtract([a, b, a])');
    assert.match(errors(a)[0].message, /Subtract needs a list of exactly 2 tensors, but got 3/);
  });
  it('Dot of two vectors: (None, 1); arithmetic on tensors makes op nodes', async () => {
    const a = await analyze(`${HEAD}u = keras.Input((8,))\nv = keras.Input((8,))\nm = keras.Model([u, v], layers.Dot(axes=1)([u, v]) * 0.5 + 1)\n`);
    const m = a.models[0];
    assert.deepEqual(m.summary.map((s) => s.className), ['InputLayer', 'InputLayer', 'Dot', 'Multiply', 'Add']);
    assert.equal(shape(m.outputShape), '(None, 1)');
  });
});

describe('nested models', () => {
  it('a Sequential used inside a functional model is one row with its totals; expand_nested lists its layers', async () => {
    const a = await analyze(`${HEAD}augment = keras.Sequential([layers.RandomFlip(), layers.Rescaling(1 / 255)], name="augment")
encoder = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, 3), layers.Flatten()], name="encoder")
inputs = keras.Input((28, 28, 1))
x = augment(inputs)
x = encoder(x)
model = keras.Model(inputs, layers.Dense(10)(x))
`);
    const m = byVar(a, 'model');
    // encoder: 8·(3·3·1) + 8 = 80; dense: 26·26·8 = 5,408 → 5,408·10 + 10 = 54,090.
    assert.deepEqual(summaryRows(m), [
      'input_layer_1 InputLayer (None, 28, 28, 1) 0',
      'augment Sequential (None, 28, 28, 1) 0',
      'encoder Sequential (None, 5408) 80',
      'dense Dense (None, 10) 54090',
    ]);
    assert.match(formatSummary(m, { expandNested: true }), /└ conv2d \(Conv2D\)\s+\(None, 26, 26, 8\)\s+80/);
    assert.equal(m.layers.find((l) => l.name === 'encoder')?.nested?.totalParams, 80);
  });
  it('model.add(conv_base) makes the Sequential model take the base model input; trainable = False moves its weights', async () => {
    const a = await analyze(`${HEAD}inp = keras.Input((8, 8, 3))
base = keras.Model(inp, layers.Conv2D(4, 3)(inp), name="base")
model = keras.Sequential()
model.add(base)
model.add(layers.Flatten())
model.add(layers.Dense(2))
base.trainable = False
`);
    const m = byVar(a, 'model');
    // base: 4·(3·3·3) + 4 = 112; dense: 6·6·4 = 144 → 144·2 + 2 = 290.
    assert.deepEqual([m.totalParams, m.trainableParams, m.nonTrainableParams], [402, 290, 112]);
    assert.equal(shape(m.inputShape), '(None, 8, 8, 3)');
  });
  it('a functional model called on new shapes is replayed; a shape it cannot take is an error at the call', async () => {
    const text = `${HEAD}i = keras.Input((None, None, 3))
block = keras.Model(i, layers.Conv2D(4, 3, padding="same")(i))
x = keras.Input((16, 16, 3))
y = block(x)
model = keras.Model(x, y)
bad = keras.Input((16, 16, 5))
z = block(bad)
`;
    const a = await analyze(text);
    assert.equal(shape(byVar(a, 'model').outputShape), '(None, 16, 16, 4)');
    const e = errors(a).find((p) => p.code === 'model-input');
    assert.ok(e);
    assert.equal(covered(text, e), 'block(bad)');
  });
  it('summary() prints the state at its call: later freezing changes the final counts, not the snapshot', async () => {
    const a = await analyze(`${HEAD}model = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
model.summary()
model.layers[0].trainable = False
model.summary()
`);
    const m = byVar(a, 'model');
    assert.deepEqual(m.snapshots.map((s) => [s.trainableParams, s.nonTrainableParams]), [[15, 0], [0, 15]]);
  });
});

describe('subclassed models and layers', () => {
  const SUB = `import keras
from keras import layers
class Net(keras.Model):
    def __init__(self, classes=10):
        super().__init__(name="net")
        self.conv = layers.Conv2D(8, 3, activation="relu")
        self.blocks = [layers.Conv2D(8, 3, padding="same") for _ in range(2)]
        self.pool = layers.GlobalAveragePooling2D()
        self.head = layers.Dense(classes)
    def call(self, x, training=False):
        x = self.conv(x)
        for b in self.blocks:
            x = x + b(x)
        return self.head(self.pool(x))
`;
  it('layers made in __init__, data flow in call(): input from model.build((None, …))', async () => {
    const text = `${SUB}model = Net()\nmodel.build((None, 28, 28, 1))\n`;
    const a = await analyze(text);
    const m = byVar(a, 'model');
    assert.equal(m.kind, 'subclassed');
    assert.equal(m.name, 'net');
    // conv 8·9·1 + 8 = 80; blocks 2 × (8·9·8 + 8) = 1,168; head 8·10 + 10 = 90.
    assert.equal(m.totalParams, 80 + 1168 + 90);
    // Keras lists a subclassed model's layers in attribute order.
    assert.deepEqual(m.summary.map((s) => s.name), ['conv2d', 'conv2d_1', 'conv2d_2', 'global_average_pooling2d', 'dense']);
    // The calls in call() get their shapes at their own lines.
    const call = a.calls.find((c) => covered(text, { span: c.addSpan } as never) === 'self.conv(x)');
    assert.equal(shape(call!.outputShape), '(None, 26, 26, 8)');
  });
  it('input from calling the model on an array, or from the data fit() is given', async () => {
    let a = await analyze(`${SUB}import numpy as np\nmodel = Net(4)\nmodel(np.zeros((1, 32, 32, 3)))\n`);
    assert.equal(byVar(a, 'model').totalParams, 8 * 27 + 8 + 1168 + 36);
    a = await analyze(`${SUB}from keras.datasets import mnist\n(x_train, y_train), _ = mnist.load_data()\nx_train = x_train.reshape(-1, 28, 28, 1) / 255.0\nmodel = Net()\nmodel.compile("adam", "sparse_categorical_crossentropy")\nmodel.fit(x_train, y_train, epochs=1)\n`);
    const m = byVar(a, 'model');
    assert.equal(m.totalParams, 80 + 1168 + 90);
    assert.equal(m.inputFrom, 'the data passed to fit()');
  });
  it('a class never instantiated is built with its default arguments, its layers unbuilt without an input', async () => {
    const a = await analyze(SUB);
    const m = a.models[0];
    assert.equal(m.speculative, 'Net()');
    assert.equal(m.totalParams, null);
  });
  it('a subclass of a Keras layer is analysed as its base, with the arguments its __init__ passes on', async () => {
    const a = await analyze(`import keras
from keras import layers
class StandardizedConv2D(layers.Conv2D):
    def __init__(self, filters, **kwargs):
        super().__init__(filters, 3, padding="same", **kwargs)
    def call(self, inputs):
        return super().call(inputs)
class Plain(layers.Dense):
    pass
inputs = keras.Input((8, 8, 3))
x = StandardizedConv2D(16, name="std")(inputs)
model = keras.Model(inputs, Plain(4)(layers.Flatten()(x)))
`);
    const m = byVar(a, 'model');
    assert.deepEqual(summaryRows(m).slice(1), ['std StandardizedConv2D (None, 8, 8, 16) 448', 'flatten Flatten (None, 1024) 0', 'plain Plain (None, 4) 4100']);
  });
  it('a custom layer: sublayers and add_weight weights count, the output from call() or compute_output_shape', async () => {
    const a = await analyze(`import keras
from keras import layers
import tensorflow as tf
class Scale(layers.Layer):
    def build(self, input_shape):
        self.gamma = self.add_weight(shape=(input_shape[-1],), name="gamma")
    def call(self, x):
        return x * self.gamma
    def compute_output_shape(self, input_shape):
        return input_shape
class Residual(layers.Layer):
    def __init__(self, filters):
        super().__init__()
        self.a = layers.Conv2D(filters, 3, padding="same")
        self.b = layers.Conv2D(filters, 3, padding="same")
    def call(self, x):
        return tf.nn.relu(x + self.b(self.a(x)))
inputs = keras.Input((8, 8, 4))
x = Residual(4)(inputs)
x = Scale()(x)
model = keras.Model(inputs, x)
`);
    const m = byVar(a, 'model');
    // residual: 2 × (4·9·4 + 4) = 296; scale: 4.
    assert.deepEqual(summaryRows(m).slice(1), ['residual Residual (None, 8, 8, 4) 296', 'scale Scale (None, 8, 8, 4) 4']);
  });
  it('Lambda: its function is traced for the shape, or output_shape= is read; opaque otherwise, once', async () => {
    const a = await analyze(`${HEAD}i = keras.Input((8, 8, 3))
x = layers.Lambda(lambda t: t * 2.0)(i)
y = layers.Lambda(lambda t: some_function(t), output_shape=(4, 4, 3))(x)
z = layers.Lambda(lambda t: other(t))(y)
m = keras.Model(i, z)
`);
    const rows = byVar(a, 'm').layers;
    assert.deepEqual(rows.slice(1).map((l) => shape(l.outputShape)), ['(None, 8, 8, 3)', '(None, 4, 4, 3)', '?']);
    assert.equal(a.problems.filter((p) => p.code === 'opaque-layer').length, 1);
  });
});

describe('real scripts', () => {
  it("code under if __name__ == '__main__' runs; builders are analysed where they are called", async () => {
    const a = await analyze(`import keras
from keras import layers
def build_model(input_shape, classes):
    return keras.Sequential([keras.Input(input_shape), layers.Flatten(), layers.Dense(classes)])
def main():
    model = build_model((28, 28, 1), 10)
    model.summary()
if __name__ == "__main__":
    main()
`);
    assert.equal(a.models.length, 1);
    assert.equal(a.models[0].totalParams, 784 * 10 + 10);
    assert.equal(a.models[0].speculative, undefined);
  });
  it('a builder the file never calls is offered with its default arguments', async () => {
    const a = await analyze(`import keras
from keras import layers
def build_model(input_shape=(32, 32, 3), classes=10):
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, layers.Dense(classes)(layers.Flatten()(inputs)))
`);
    assert.equal(a.models[0].speculative, 'build_model()');
    assert.equal(a.models[0].totalParams, 3072 * 10 + 10);
  });
  it('generators are not run and a long training loop does not exhaust the budget: the model after it is analysed', async () => {
    const a = await analyze(`import keras
from keras import layers
import numpy as np
def batches():
    while True:
        yield np.zeros((32, 28, 28, 1))
gen = batches()
model = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
loss = 0.0
for epoch in range(1000000):
    for step in range(100):
        loss = loss + 0.5 * step
after = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
`);
    assert.deepEqual(a.models.map((m) => m.totalParams), [10, 15]);
    assert.ok(!a.problems.some((p) => p.code === 'analysis-budget'), JSON.stringify(a.problems));
  });
  it('argparse defaults are read; ** unpacking of dict(...) and {...} passes keywords', async () => {
    const a = await analyze(`import argparse
import keras
from keras import layers
parser = argparse.ArgumentParser()
parser.add_argument("--filters", type=int, default=16)
parser.add_argument("--classes", type=int, default=10)
args = parser.parse_args()
conv = dict(filters=args.filters, kernel_size=3)
model = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(**conv), layers.Flatten(), layers.Dense(**{"units": args.classes})])
`);
    assert.deepEqual(a.problems.filter((p) => p.severity !== 'information'), []);
    // conv: 16·9 + 16 = 160; dense: 6·6·16 = 576 → 5,770.
    assert.equal(a.models[0].totalParams, 160 + 5770);
  });
  it('follows `from my_blocks import conv_block` to a file of the same folder; its layers show at the call', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'convlens-graph-'));
    writeFileSync(path.join(dir, 'my_blocks.py'), 'from keras import layers\n\ndef conv_block(x, filters):\n    x = layers.Conv2D(filters, 3, padding="same")(x)\n    return layers.ReLU()(x)\n');
    const file = path.join(dir, 'model.py');
    const text = 'import keras\nfrom my_blocks import conv_block\ninputs = keras.Input((8, 8, 3))\nx = conv_block(inputs, 4)\nmodel = keras.Model(inputs, x)\n';
    writeFileSync(file, text);
    const a = analyzeSource(text, await parser(), { loadModule: siblingModuleLoader(file) });
    assert.equal(a.models[0].totalParams, 4 * 27 + 4);
    const conv = a.models[0].layers.find((l) => l.className === 'Conv2D')!;
    assert.equal(covered(text, { span: conv.addSpan } as never), 'conv_block(inputs, 4)');
    // A mistake in the other file is reported at the call that ran it, saying where it is.
    writeFileSync(path.join(dir, 'my_blocks.py'), 'from keras import layers\n\ndef conv_block(x, filters):\n    return layers.Conv2D(filters, 30)(x)\n');
    const b = analyzeSource(text, await parser(), { loadModule: siblingModuleLoader(file) });
    const e = errors(b)[0];
    assert.equal(covered(text, e), 'conv_block(inputs, 4)');
    assert.match(e.message, /^In my_blocks\.py line 4: Conv2D's 30×30 kernel is larger than its 8×8 input/);
  });
  it('an undecidable condition around layers is noted; one around plain code is not', async () => {
    const a = await analyze(`import keras, os
from keras import layers
if os.environ.get("X"):
    print("debug")
model = keras.Sequential([keras.Input((4,))])
if os.environ.get("BIG"):
    model.add(layers.Dense(8))
`);
    assert.deepEqual(a.problems.map((p) => p.code), ['undecided-condition']);
  });
});
