/**
 * Idioms of Keras code in well-known books and course notebooks (Hands-On Machine Learning,
 * Deep Learning Illustrated, Hvass-Labs' TensorFlow tutorials) that ConvLens once got wrong or
 * could not follow, found by comparing with the model.summary() tables saved in the notebooks'
 * output cells: each test is the smallest program with the idiom and the numbers Keras gives for
 * it. The whole notebooks are in the Keras corpus (test/fixtures/keras).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyze } from './helpers';

async function rowsOf(text: string, model = -1): Promise<string[]> {
  const a = await analyze(text);
  const m = a.models.at(model)!;
  const shape = (s: (number | null)[], partial: boolean): string => `(None, ${partial ? '…, ' : ''}${s.map((d) => d ?? 'None').join(', ')})`;
  return m.layers.map((l) => `${l.name} (${l.className}) ${l.outputShape === null ? '?' : shape(l.outputShape, l.partialShape)} ${l.params}`);
}

describe('Keras book idioms', () => {
  it("a layer's constructor arguments are its attributes: MCDropout(layer.rate) copies a Dropout of another model", async () => {
    // Hands-On ML (2nd and 3rd ed.), chapter 11: Monte Carlo dropout.
    const rows = await rowsOf(
      [
        'import tensorflow as tf',
        'class MCDropout(tf.keras.layers.Dropout):',
        '    def call(self, inputs, training=False):',
        '        return super().call(inputs, training=True)',
        'model = tf.keras.Sequential([',
        '    tf.keras.layers.Flatten(input_shape=[28, 28]),',
        '    tf.keras.layers.Dropout(rate=0.2),',
        '    tf.keras.layers.Dense(100, activation="relu"),',
        '    tf.keras.layers.Dense(10, activation="softmax"),',
        '])',
        'mc_model = tf.keras.Sequential([',
        '    MCDropout(layer.rate) if isinstance(layer, tf.keras.layers.Dropout) else layer',
        '    for layer in model.layers',
        '])',
        '',
      ].join('\n'),
    );
    assert.deepEqual(rows, ['flatten (Flatten) (None, 784) 0', 'mc_dropout (MCDropout) (None, 784) 0', 'dense (Dense) (None, 100) 78500', 'dense_1 (Dense) (None, 10) 1010']);
    const a = await analyze(['import keras', 'd = keras.layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False)', 'p = keras.layers.MaxPooling2D(pool_size=3)', 'x = (d.filters, d.kernel_size, d.strides, d.padding, d.use_bias, p.pool_size)', 'model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(x[0], x[1], strides=x[2], padding=x[3], use_bias=x[4]), keras.layers.MaxPooling2D(x[5])])', ''].join('\n'));
    const m = a.models.at(-1)!;
    assert.deepEqual(m.layers.map((l) => [l.outputShape, l.params]), [[[4, 4, 8], 72], [[1, 1, 8], 0]]);
  });
  it('np.reshape of an array read from a file to (data.shape[0], 28, 28, 1) gives the sizes it names (the image sides the model is built for)', async () => {
    // Deep Learning Illustrated, generative_adversarial_network.ipynb: Quick, Draw! bitmaps.
    const rows = await rowsOf(
      [
        'import numpy as np',
        'from keras.models import Model',
        'from keras.layers import Input, Dense, Conv2D, Flatten',
        'data = np.load("apple.npy")',
        'data = data/255',
        'data = np.reshape(data,(data.shape[0],28,28,1))',
        'img_w,img_h = data.shape[1:3]',
        'image = Input((img_w,img_h,1))',
        'x = Flatten()(Conv2D(8, 5, strides=2, padding="same")(image))',
        'd = Model(image, Dense(1)(x))',
        '',
      ].join('\n'),
    );
    assert.equal(rows[0].replace(/^\S+/, ''), ' (InputLayer) (None, 28, 28, 1) 0');
    assert.deepEqual(rows.slice(1), ['conv2d (Conv2D) (None, 14, 14, 8) 208', 'flatten (Flatten) (None, 1568) 0', 'dense (Dense) (None, 1) 1569']);
    // A size of -1 next to an unknown one cannot be worked out.
    const a = await analyze(['import numpy as np', 'import keras', 'data = np.reshape(np.load("x.npy"), (-1, 28, 28))', 'model = keras.Sequential([keras.Input(data.shape[1:]), keras.layers.Flatten()])', ''].join('\n'));
    assert.deepEqual(a.models.at(-1)!.layers.map((l) => l.outputShape), [[784]]);
  });
  it('load_model of the path the file saved a model to gives that model back; another path stays unknown', async () => {
    // Hvass-Labs TensorFlow-Tutorials 03C_Keras_API.ipynb: model2.save(path_model), del model2, model3 = load_model(path_model).
    const program = (loaded: string) =>
      [
        'from tensorflow.keras.models import Model',
        'from tensorflow.keras.layers import Input, Dense, Flatten',
        'inputs = Input(shape=(28, 28))',
        'model2 = Model(inputs=inputs, outputs=Dense(10)(Flatten()(inputs)))',
        "path_model = 'model.keras'",
        'model2.save(path_model)',
        'del model2',
        'from tensorflow.python.keras.models import load_model',
        `model3 = load_model(${loaded})`,
        'model3.summary()',
        '',
      ].join('\n');
    const a = await analyze(program('path_model'));
    assert.equal(a.models.length, 1);
    assert.deepEqual(a.models[0].snapshots.map((s) => s.totalParams), [7850]);
    const other = await analyze(program("'other.keras'"));
    assert.deepEqual(other.models[0].snapshots, []);
  });
});
