/**
 * Idioms of real keras.io example code that ConvLens once got wrong (found by comparing with the
 * pages' published model.summary() tables): each test is the smallest program with the idiom and
 * the numbers Keras gives for it. The whole examples are in the Keras corpus
 * (test/fixtures/keras: super_resolution_depth_to_space_layer.py, mobilevit.py,
 * working_with_rnns.py, serialization_extracted_layers.py).
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

describe('keras.io idioms', () => {
  it('ops.reshape with sizes from ops.shape() of unknown dimensions gives None there (compute_reshape_output_shape)', async () => {
    // super_resolution_sub_pixel.py's custom DepthToSpace layer on an image of any size.
    const rows = await rowsOf(
      [
        'import keras',
        'from keras import layers, ops',
        'class DepthToSpace(layers.Layer):',
        '    def __init__(self, block_size):',
        '        super().__init__()',
        '        self.block_size = block_size',
        '    def call(self, input):',
        '        batch, height, width, depth = ops.shape(input)',
        '        depth = depth // (self.block_size**2)',
        '        x = ops.reshape(input, [batch, height, width, self.block_size, self.block_size, depth])',
        '        x = ops.transpose(x, [0, 1, 3, 2, 4, 5])',
        '        return ops.reshape(x, [batch, height * self.block_size, width * self.block_size, depth])',
        'inputs = keras.Input(shape=(None, None, 1))',
        'x = layers.Conv2D(9, 3, padding="same")(inputs)',
        'model = keras.Model(inputs, DepthToSpace(3)(x))',
        '',
      ].join('\n'),
    );
    assert.equal(rows.at(-1), 'depth_to_space (DepthToSpace) (None, None, None, 1) 0');
  });

  it('ops.reshape keeps a known size and an unknown one apart; a size ConvLens cannot read leaves the shape unknown', async () => {
    const known = await rowsOf(['import keras', 'from keras import ops', 'inputs = keras.Input(shape=(4, 6))', 'model = keras.Model(inputs, ops.reshape(inputs, (-1, 2, 12)))', ''].join('\n'));
    assert.equal(known.at(-1), 'reshape (Reshape) (None, 2, 12) 0');
    const unread = await rowsOf(['import keras', 'from keras import ops', 'n = load_size()', 'inputs = keras.Input(shape=(4, 6))', 'model = keras.Model(inputs, ops.reshape(inputs, (-1, n, 12)))', ''].join('\n'));
    assert.notEqual(unread.at(-1), 'reshape (Reshape) (None, None, 12) 0');
  });

  it('tf.math.equal on two numbers is a boolean an if statement reads (MobileViT chooses its residual Add so)', async () => {
    const block = (filters: number) => [
      'import tensorflow as tf',
      'import keras',
      'from keras import layers',
      'def block(x, out):',
      '    m = layers.Conv2D(out, 1, use_bias=False)(x)',
      '    if tf.math.equal(x.shape[-1], out):',
      '        return layers.Add()([m, x])',
      '    return m',
      'inputs = keras.Input(shape=(8, 8, 16))',
      `model = keras.Model(inputs, block(inputs, ${filters}))`,
      '',
    ].join('\n');
    assert.deepEqual((await rowsOf(block(16))).slice(1), ['conv2d (Conv2D) (None, 8, 8, 16) 256', 'add (Add) (None, 8, 8, 16) 0']);
    assert.deepEqual((await rowsOf(block(32))).slice(1), ['conv2d (Conv2D) (None, 8, 8, 32) 512']);
  });

  it("tf.keras 2's Embedding declares an input of (None,) token ids: a Sequential model starting with one is built", async () => {
    const rows = await rowsOf(
      ['import keras', 'from keras import layers', 'model = keras.Sequential()', 'model.add(layers.Embedding(input_dim=1000, output_dim=64))', 'model.add(layers.LSTM(128))', 'model.add(layers.Dense(10))', ''].join('\n'),
    );
    // The published tf.keras 2.15 table of guides/working_with_rnns: 64,000 + 98,816 + 1,290.
    assert.deepEqual(rows, ['embedding (Embedding) (None, None, 64) 64000', 'lstm (LSTM) (None, 128) 98816', 'dense (Dense) (None, 10) 1290']);
    const fixed = await rowsOf(['import keras', 'from keras import layers', 'model = keras.Sequential([layers.Embedding(1000, 8, input_length=12), layers.Flatten()])', ''].join('\n'));
    assert.deepEqual(fixed, ['embedding (Embedding) (None, 12, 8) 8000', 'flatten (Flatten) (None, 96) 0']);
  });

  it("a functional model's input layer, reused in a Sequential model, declares its input shape", async () => {
    const rows = await rowsOf(
      [
        'import keras',
        'inputs = keras.Input(shape=(784,), name="digits")',
        'x = keras.layers.Dense(64, name="dense_1")(inputs)',
        'outputs = keras.layers.Dense(10, name="predictions")(x)',
        'pretrained = keras.Model(inputs=inputs, outputs=outputs)',
        'extracted = pretrained.layers[:-1]',
        'extracted.append(keras.layers.Dense(5, name="dense_3"))',
        'model = keras.Sequential(extracted)',
        '',
      ].join('\n'),
    );
    assert.deepEqual(rows.filter((r) => !r.includes('InputLayer')), ['dense_1 (Dense) (None, 64) 50240', 'dense_3 (Dense) (None, 5) 325']);
  });
});
