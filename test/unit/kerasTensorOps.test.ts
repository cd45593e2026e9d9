/**
 * TensorFlow functions and Keras ops applied to Keras tensors in functional code and inside
 * Lambda functions: `tf.nn.depth_to_space`, `tf.image.resize`, reductions, `expand_dims`, … and
 * the random tensors a Lambda's function draws (`K.random_normal(shape=…)`). The real files these
 * come from (keras.io's sub-pixel super-resolution, DLWP 8.4's VAE) are in the Keras corpus.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyze } from './helpers';

const head = ['import tensorflow as tf', 'from tensorflow import keras', 'from tensorflow.keras import layers', 'from tensorflow.keras import backend as K'];

async function rowsOf(...lines: string[]): Promise<{ rows: string[]; problems: string[] }> {
  const a = await analyze([...head, ...lines, ''].join('\n'));
  const m = a.models[a.models.length - 1];
  return {
    rows: m.layers.map((l) => `${l.name} (${l.className}) ${l.outputShape === null ? '?' : `(None, ${l.outputShape.map((d) => d ?? 'None').join(', ')})`} ${l.params}`),
    problems: a.problems.map((p) => `${p.severity}: ${p.message}`),
  };
}

describe('TensorFlow functions on Keras tensors', () => {
  it('tf.nn.depth_to_space and tf.nn.space_to_depth are TFOpLambda layers named after the function', async () => {
    const r = await rowsOf(
      'inputs = keras.Input(shape=(100, 100, 1))',
      'x = layers.Conv2D(9, 3, padding="same")(inputs)',
      'x = tf.nn.depth_to_space(x, 3)',
      'y = tf.nn.space_to_depth(x, block_size=2)',
      'y = tf.nn.depth_to_space(y, 2)',
      'model = keras.Model(inputs, y)',
    );
    assert.deepEqual(r.rows.slice(2), ['tf.nn.depth_to_space (TFOpLambda) (None, 300, 300, 1) 0', 'tf.nn.space_to_depth (TFOpLambda) (None, 150, 150, 4) 0', 'tf.nn.depth_to_space_1 (TFOpLambda) (None, 300, 300, 1) 0']);
  });

  it('depth_to_space needs channels divisible by block_size²', async () => {
    const r = await rowsOf('inputs = keras.Input(shape=(8, 8, 6))', 'model = keras.Model(inputs, tf.nn.depth_to_space(inputs, 2))');
    assert.ok(r.problems.some((p) => /^error: .*6 channels do not divide by block_size² = 4/.test(p)), r.problems.join('\n'));
  });

  it('tf.image.resize, reductions, expand_dims, squeeze and transpose', async () => {
    const r = await rowsOf(
      'inputs = keras.Input(shape=(32, 32, 3))',
      'a = tf.image.resize(inputs, (64, 48), method="bilinear")',
      'b = tf.reduce_mean(a, axis=[1, 2], keepdims=True)',
      'c = tf.math.reduce_max(a, axis=-1)',
      'd = tf.expand_dims(c, -1)',
      'e = tf.squeeze(b, axis=[1, 2])',
      'f = tf.transpose(inputs, perm=[0, 3, 1, 2])',
      'model = keras.Model(inputs, [d, e, f])',
    );
    // In Keras' summary order (by depth from the outputs).
    assert.deepEqual(r.rows.slice(1), [
      'tf.image.resize (TFOpLambda) (None, 64, 48, 3) 0',
      'tf.math.reduce_max (TFOpLambda) (None, 64, 48) 0',
      'tf.expand_dims (TFOpLambda) (None, 64, 48, 1) 0',
      'tf.math.reduce_mean (TFOpLambda) (None, 1, 1, 3) 0',
      'tf.squeeze (TFOpLambda) (None, 3) 0',
      'tf.transpose (TFOpLambda) (None, 3, 32, 32) 0',
    ]);
  });

  it('Keras ops get Keras 3 operation names', async () => {
    const a = await analyze(
      [
        'import keras',
        'from keras import layers, ops',
        'inputs = keras.Input(shape=(16, 16, 8))',
        'x = ops.mean(inputs, axis=(1, 2))',
        'y = ops.image.resize(inputs, (32, 32))',
        'model = keras.Model(inputs, [x, y])',
        '',
      ].join('\n'),
    );
    const m = a.models[0];
    assert.deepEqual(
      m.layers.slice(1).map((l) => `${l.name} (${l.className}) ${JSON.stringify(l.outputShape)}`),
      ['mean (Mean) [8]', 'resize (Resize) [32,32,8]'],
    );
  });
});

describe('Lambda functions traced for their output shape', () => {
  it("a sampling Lambda (DLWP 8.4): K.random_normal(shape=(K.shape(z_mean)[0], 2)) keeps z_mean's shape", async () => {
    const r = await rowsOf(
      'inputs = keras.Input(shape=(8,))',
      'z_mean = layers.Dense(2)(inputs)',
      'z_log_var = layers.Dense(2)(inputs)',
      'def sampling(args):',
      '    z_mean, z_log_var = args',
      '    epsilon = K.random_normal(shape=(K.shape(z_mean)[0], 2), mean=0., stddev=1.)',
      '    return z_mean + K.exp(z_log_var) * epsilon',
      'z = layers.Lambda(sampling)([z_mean, z_log_var])',
      'model = keras.Model(inputs, z)',
    );
    assert.equal(r.rows[3], 'lambda (Lambda) (None, 2) 0');
    assert.ok(!r.problems.some((p) => /Lambda/.test(p)), r.problems.join('\n'));
  });

  it('tf.random.normal(shape=(4,)) in a lambda given to Lambda', async () => {
    const r = await rowsOf(
      'inputs = keras.Input(shape=(8,))',
      'z_mean = layers.Dense(4)(inputs)',
      'z = layers.Lambda(lambda t: t + tf.random.normal(shape=(4,)) * 0.1)(z_mean)',
      'model = keras.Model(inputs, z)',
    );
    assert.equal(r.rows[2], 'lambda (Lambda) (None, 4) 0');
  });
});
