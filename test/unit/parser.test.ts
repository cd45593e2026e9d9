/** Reading real Keras code: import styles, model styles, inputs, constants, loops and helpers. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyze, oneModel, rows } from './helpers';

const BODY = (prefix: string) => `
model.add(${prefix}Conv2D(10, (5, 5), activation='relu', input_shape=(28, 28, 1)))
model.add(${prefix}MaxPooling2D((2, 2)))
model.add(${prefix}Flatten())
model.add(${prefix}Dense(10))
`;
const EXPECTED = [
  ['conv2d', 'Conv2D', '(None, 24, 24, 10)', 260],
  ['max_pooling2d', 'MaxPooling2D', '(None, 12, 12, 10)', 0],
  ['flatten', 'Flatten', '(None, 1440)', 0],
  ['dense', 'Dense', '(None, 10)', 14410],
];

describe('import styles', () => {
  const cases: [string, string][] = [
    ['from keras.layers import Conv2D, MaxPooling2D, Flatten, Dense\nfrom keras.models import Sequential\nmodel = Sequential()', ''],
    ['from tensorflow.keras import layers, models\nmodel = models.Sequential()', 'layers.'],
    ['import keras\nmodel = keras.Sequential()', 'keras.layers.'],
    ['import keras\nmodel = keras.models.Sequential()', 'keras.layers.'],
    ['import tensorflow as tf\nmodel = tf.keras.Sequential()', 'tf.keras.layers.'],
    ['import tensorflow as tf\nmodel = tf.keras.models.Sequential()', 'tf.keras.layers.'],
    ['from keras import Sequential, layers\nmodel = Sequential()', 'layers.'],
    ['from tensorflow.keras import layers as L\nfrom tensorflow.keras.models import Sequential as Seq\nmodel = Seq()', 'L.'],
    ['from tensorflow.keras.layers import *\nfrom tensorflow.keras.models import Sequential\nmodel = Sequential()', ''],
    ['import tensorflow.keras as K\nmodel = K.Sequential()', 'K.layers.'],
    ['from tensorflow import keras\nmodel = keras.Sequential()', 'keras.layers.'],
    ['from keras.layers.convolutional import Conv2D\nfrom keras.layers.pooling import MaxPooling2D\nfrom keras.layers.core import Flatten, Dense\nfrom keras.models import Sequential\nmodel = Sequential()', ''],
  ];
  for (const [imports, prefix] of cases) {
    it(imports.split('\n').slice(0, -1).join('; '), async () => {
      const { model, problems } = await oneModel(imports + BODY(prefix));
      assert.deepEqual(rows(model), EXPECTED);
      assert.deepEqual(problems, []);
    });
  }
});

describe('model styles and inputs', () => {
  it('Sequential([...]) with layers given in a list', async () => {
    const { model } = await oneModel(`from tensorflow import keras
from tensorflow.keras import layers
model = keras.Sequential([
    layers.Conv2D(10, 5, activation='relu', input_shape=(28, 28, 1)),
    layers.MaxPooling2D(),
    layers.Flatten(),
    layers.Dense(10),
], name="mnist")`);
    assert.equal(model.name, 'mnist');
    assert.deepEqual(rows(model), EXPECTED);
  });
  for (const [label, first] of [
    ['keras.Input(shape=...) in the list', 'keras.Input(shape=(28, 28, 1)),'],
    ['layers.Input((28, 28, 1)) positional', 'layers.Input((28, 28, 1)),'],
    ['InputLayer(input_shape=...) (Keras 2)', 'layers.InputLayer(input_shape=(28, 28, 1)),'],
    ['InputLayer(shape=...) (Keras 3)', 'layers.InputLayer(shape=(28, 28, 1)),'],
    ['batch_input_shape on the first layer', ''],
  ] as const) {
    it(label, async () => {
      const conv = first === '' ? "layers.Conv2D(10, 5, batch_input_shape=(None, 28, 28, 1))," : 'layers.Conv2D(10, 5),';
      const { model, problems } = await oneModel(`from tensorflow import keras\nfrom tensorflow.keras import layers\nmodel = keras.Sequential([\n    ${first}\n    ${conv}\n    layers.MaxPooling2D(),\n    layers.Flatten(),\n    layers.Dense(10),\n])`);
      assert.deepEqual(rows(model).map((r) => r.slice(2)), EXPECTED.map((r) => r.slice(2)));
      assert.deepEqual(problems, []);
    });
  }
  it('model.add(keras.Input(...)) and model.build((None, …))', async () => {
    const a = await analyze(`import keras
m1 = keras.Sequential()
m1.add(keras.Input(shape=(8,)))
m1.add(keras.layers.Dense(4))
m2 = keras.Sequential()
m2.add(keras.layers.Dense(4))
m2.build((None, 16))`);
    assert.equal(a.models[0].layers[0].params, 36);
    assert.equal(a.models[1].layers[0].params, 68);
  });
  it('Dense(input_dim=...) (Keras 2) declares the input', async () => {
    const { model } = await oneModel('from keras.models import Sequential\nfrom keras.layers import Dense\nmodel = Sequential()\nmodel.add(Dense(64, input_dim=784))\nmodel.add(Dense(10))');
    assert.deepEqual(rows(model).map((r) => r[3]), [50240, 650]);
  });
  it('arguments positional or keyword, ints or tuples or lists, padding in any case', async () => {
    const { model } = await oneModel(`from keras import layers, models
model = models.Sequential()
model.add(layers.Conv2D(filters=8, kernel_size=[3, 3], strides=1, padding="Same", input_shape=[32, 32, 3]))
model.add(layers.Conv2D(8, 3, 2, 'VALID'))`);
    assert.deepEqual(rows(model).map((r) => r[2]), ['(None, 32, 32, 8)', '(None, 15, 15, 8)']);
  });
  it('several models in one file are analysed on their own, numbered as Keras numbers them', async () => {
    const a = await analyze(`from keras import layers, models
a = models.Sequential([layers.Dense(2, input_shape=(3,))])
b = models.Sequential([layers.Dense(5, input_shape=(4,)), layers.Dense(1)])`);
    assert.deepEqual(a.models.map((m) => [m.name, m.varName, m.totalParams]), [['sequential', 'a', 8], ['sequential_1', 'b', 31]]);
    assert.deepEqual(a.models[1].layers.map((l) => l.name), ['dense_1', 'dense_2']);
  });
  it('name= overrides the Keras name', async () => {
    const { model } = await oneModel("from keras import layers, models\nm = models.Sequential()\nm.add(layers.Dense(2, input_shape=(3,), name='hidden'))");
    assert.equal(model.layers[0].name, 'hidden');
  });
});

describe('constants, arithmetic, loops and helper functions', () => {
  it('module constants and arithmetic', async () => {
    const { model } = await oneModel(`from keras import layers, models
NUM_CLASSES = 10
IMG = 28
filters = 16
model = models.Sequential()
model.add(layers.Conv2D(filters * 2, 3, input_shape=(IMG, IMG, 1)))
model.add(layers.Conv2D(filters // 2 + 1, kernel_size=3 - 1))
model.add(layers.Flatten())
model.add(layers.Dense(NUM_CLASSES))`);
    assert.deepEqual(rows(model).map((r) => r[2]), ['(None, 26, 26, 32)', '(None, 25, 25, 9)', '(None, 5625)', '(None, 10)']);
  });
  it('for _ in range(k) around model.add', async () => {
    const { model } = await oneModel(`from keras import layers, models
model = models.Sequential([layers.Input((32, 32, 3))])
for _ in range(3):
    model.add(layers.Conv2D(8, 3, padding='same'))
for f in [16, 32]:
    model.add(layers.Conv2D(f, 3))`);
    assert.deepEqual(model.layers.map((l) => l.outputShape), [[32, 32, 8], [32, 32, 8], [32, 32, 8], [30, 30, 16], [28, 28, 32]]);
    assert.deepEqual(model.layers.map((l) => l.name), ['conv2d', 'conv2d_1', 'conv2d_2', 'conv2d_3', 'conv2d_4']);
  });
  it('helper functions that add layers, called with arguments, with if on those arguments', async () => {
    const { model, problems } = await oneModel(`from tensorflow.keras import layers, models

def conv_block(model, filters, pool=True, bn=False):
    model.add(layers.Conv2D(filters, (3, 3), padding='same', activation='relu'))
    if bn:
        model.add(layers.BatchNormalization())
    if pool:
        model.add(layers.MaxPooling2D((2, 2)))

model = models.Sequential()
model.add(layers.InputLayer(input_shape=(32, 32, 3)))
conv_block(model, 32)
conv_block(model, 64, bn=True)
conv_block(model, 128, pool=False)
model.add(layers.GlobalAveragePooling2D())
model.add(layers.Dense(10, activation='softmax'))`);
    assert.deepEqual(problems, []);
    assert.deepEqual(rows(model), [
      ['conv2d', 'Conv2D', '(None, 32, 32, 32)', 896],
      ['max_pooling2d', 'MaxPooling2D', '(None, 16, 16, 32)', 0],
      ['conv2d_1', 'Conv2D', '(None, 16, 16, 64)', 18496],
      ['batch_normalization', 'BatchNormalization', '(None, 16, 16, 64)', 256],
      ['max_pooling2d_1', 'MaxPooling2D', '(None, 8, 8, 64)', 0],
      ['conv2d_2', 'Conv2D', '(None, 8, 8, 128)', 73856],
      ['global_average_pooling2d', 'GlobalAveragePooling2D', '(None, 128)', 0],
      ['dense', 'Dense', '(None, 10)', 1290],
    ]);
    assert.equal(model.nonTrainableParams, 128);
  });
  it('a function that returns a model, and a list of layers built in a loop', async () => {
    const { model } = await oneModel(`import keras
from keras import layers

def build(num_classes=10, widths=(8, 16)):
    stack = [keras.Input(shape=(28, 28, 1))]
    for w in widths:
        stack.append(layers.Conv2D(w, 3, activation="relu"))
        stack.append(layers.MaxPooling2D())
    stack += [layers.Flatten(), layers.Dense(num_classes)]
    return keras.Sequential(stack)

model = build(num_classes=5)`);
    assert.deepEqual(model.layers.map((l) => l.outputShape), [[26, 26, 8], [13, 13, 8], [11, 11, 16], [5, 5, 16], [400], [5]]);
  });
  it('input_shape from the data: mnist.load_data() shapes are known', async () => {
    const { model } = await oneModel(`from keras.datasets import mnist
from keras import layers, models
(x_train, y_train), _ = mnist.load_data()
x_train = x_train.reshape(-1, 28, 28, 1).astype("float32") / 255
model = models.Sequential([layers.Conv2D(4, 3, input_shape=x_train.shape[1:])])`);
    assert.deepEqual(model.layers[0].outputShape, [26, 26, 4]);
  });
});

describe('functional and subclassed models, unknown layers', () => {
  it('a Functional-API model is analysed like a Sequential one', async () => {
    const a = await analyze(`from tensorflow import keras
from tensorflow.keras import layers
inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(32, 3)(inputs)
x = layers.Flatten()(x)
outputs = layers.Dense(10)(x)
model = keras.Model(inputs=inputs, outputs=outputs, name="func")`);
    assert.equal(a.models.length, 1);
    const m = a.models[0];
    assert.equal(m.kind, 'functional');
    assert.equal(m.analysed, true);
    assert.deepEqual(rows(m), [
      ['input_layer', 'InputLayer', '(None, 28, 28, 1)', 0],
      ['conv2d', 'Conv2D', '(None, 26, 26, 32)', 320],
      ['flatten', 'Flatten', '(None, 21632)', 0],
      ['dense', 'Dense', '(None, 10)', 216330],
    ]);
    assert.equal(m.totalParams, 216650);
    assert.deepEqual(a.problems, []);
  });
  it('a subclassed model the file never builds is traced with an input of unknown shape', async () => {
    const a = await analyze('import keras\nclass Net(keras.Model):\n    def call(self, x):\n        return x\n');
    assert.equal(a.models[0].kind, 'subclassed');
    assert.equal(a.models[0].name, 'net');
    assert.equal(a.models[0].speculative, 'Net()');
  });
  it('an unknown layer is reported as information and analysis goes on where it can', async () => {
    const { model, problems } = await oneModel(`from keras import layers, models
model = models.Sequential()
model.add(layers.Conv2D(8, 3, input_shape=(32, 32, 3)))
model.add(layers.EinsumDense("abcd,de->abce", output_shape=(30, 30, 32)))
model.add(layers.Dense(16))
model.add(layers.Dense(4))`);
    assert.equal(problems[0].severity, 'information');
    assert.match(problems[0].message, /EinsumDense is a Keras layer ConvLens does not analyse yet/);
    assert.deepEqual(model.layers.map((l) => l.params), [224, null, null, 68]);
    assert.equal(model.totalParams, null);
  });
  it('a file without models has none', async () => {
    const a = await analyze('import numpy as np\nprint(np.zeros(3))\n');
    assert.deepEqual(a.models, []);
    assert.deepEqual(a.problems, []);
  });
});

describe('error tolerance while typing', () => {
  it('a half-typed line does not lose the rest of the file', async () => {
    const a = await analyze(`from keras import layers, models
model = models.Sequential()
model.add(layers.Conv2D(10, (5, 5), activation='relu', input_shape=(28, 28, 1)))
model.add(layers.MaxPooling2D((2,
model.add(layers.Flatten())
model.add(layers.Dense(10))

other = models.Sequential([layers.Dense(3, input_shape=(2,))])
`);
    assert.ok(a.problems.some((p) => p.code === 'syntax'));
    const other = a.models.find((m) => m.varName === 'other');
    assert.ok(other, 'the model after the broken line is still found');
    assert.equal(other.totalParams, 9);
    assert.equal(a.models[0].layers[0].outputShape?.join(','), '24,24,10');
  });
  it('unterminated strings and brackets anywhere never throw', async () => {
    for (const text of ["model.add(layers.Conv2D('", 'model = models.Sequential([', '(((((', 'def f(:\n  model.add(', '"""', '\\', 'for in range(:']) {
      await analyze(text);
    }
  });
  it('analysis is bounded: an enormous loop stops with a warning instead of hanging', async () => {
    const a = await analyze(`from keras import layers, models
model = models.Sequential([layers.Input((4,))])
for i in range(10 ** 9):
    model.add(layers.Dense(4))`);
    assert.ok(a.problems.some((p) => p.code === 'analysis-budget'));
    assert.match(a.models[0].incomplete ?? '', /stopped/);
  });
  it('infinite recursion stops at the depth limit', async () => {
    const a = await analyze('def f(m):\n    f(m)\nf(1)\n');
    assert.ok(a.problems.some((p) => p.code === 'analysis-depth'));
  });
});
