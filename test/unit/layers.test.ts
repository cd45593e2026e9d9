/** Per layer family: shapes and parameter counts against facts of Keras 3 (and tf.keras 2). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LAYERS } from '../../src/core/index';
import { kerasSnakeCase } from '../../src/core/layers/index';
import { oneModel, seq } from './helpers';

/** Runs one layer on an input and returns [outputShape, params, trainable, nonTrainable, problems]. */
async function layer(input: string, call: string) {
  const { model, problems } = await oneModel(seq(input, call));
  const l = model.layers[0];
  return { out: l.outputShape, params: l.params, trainable: l.trainableParams, frozen: l.nonTrainableParams, macs: l.macs, rf: l.receptiveField, problems, formula: l.formula };
}

describe('registry', () => {
  it('every layer declares a doc, a shape rule and Keras-ordered arguments', () => {
    const names = new Set<string>();
    for (const def of LAYERS) {
      assert.ok(def.doc.length > 20, `${def.name} needs a doc line`);
      assert.equal(typeof def.bind({}).outputShape, 'function', `${def.name} needs a shape rule`);
      assert.ok(!names.has(def.name), `${def.name} is registered twice`);
      names.add(def.name);
      for (const [arg, spec] of Object.entries(def.args)) {
        assert.match(arg, /^[a-z_]+$/, `${def.name}.${arg} must use the Keras (snake_case) spelling`);
        assert.ok(spec.expected.length > 0);
      }
    }
    for (const required of ['Conv1D', 'Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Conv2DTranspose', 'MaxPooling1D', 'MaxPooling2D', 'AveragePooling1D', 'AveragePooling2D', 'GlobalMaxPooling2D', 'GlobalAveragePooling2D', 'Flatten', 'Dense', 'Dropout', 'SpatialDropout2D', 'BatchNormalization', 'LayerNormalization', 'Activation', 'ReLU', 'LeakyReLU', 'Softmax', 'ZeroPadding2D', 'Cropping2D', 'Reshape', 'UpSampling2D', 'Rescaling', 'InputLayer']) {
      assert.ok(names.has(required), `${required} is missing from the registry`);
    }
  });

  it('every weighted layer has a formula and a MAC rule', () => {
    for (const def of LAYERS) if (def.declares.weights && def.name !== 'PReLU' && !def.name.endsWith('Normalization')) assert.ok(def.declares.formula && def.declares.macs, def.name);
  });

  it("names layers with Keras' to_snake_case", () => {
    assert.equal(kerasSnakeCase('Conv2D'), 'conv2d');
    assert.equal(kerasSnakeCase('MaxPooling2D'), 'max_pooling2d');
    assert.equal(kerasSnakeCase('Conv2DTranspose'), 'conv2d_transpose');
    assert.equal(kerasSnakeCase('BatchNormalization'), 'batch_normalization');
    assert.equal(kerasSnakeCase('LeakyReLU'), 'leaky_re_lu');
    assert.equal(kerasSnakeCase('ReLU'), 're_lu');
    assert.equal(kerasSnakeCase('GlobalAveragePooling2D'), 'global_average_pooling2d');
    assert.equal(kerasSnakeCase('UpSampling2D'), 'up_sampling2d');
  });
});

describe('convolutions', () => {
  it('Conv2D same padding with stride 2: 32 → 16, 3·3·3·64 + 64 = 1,792 params', async () => {
    const r = await layer('(32, 32, 3)', "Conv2D(64, 3, strides=2, padding='same')");
    assert.deepEqual(r.out, [16, 16, 64]);
    assert.equal(r.params, 1792);
    assert.equal(r.macs, 16 * 16 * 64 * 27);
    assert.equal(r.formula, '64 × (3·3·3) + 64 = 1,792');
  });
  it('Conv2D same padding rounds up on odd sizes: 7 → 4 with stride 2', async () => {
    assert.deepEqual((await layer('(7, 7, 1)', "Conv2D(1, 3, strides=2, padding='SAME')")).out, [4, 4, 1]);
  });
  it('Conv2D valid with stride 2 floors: ⌊(28 − 3)/2⌋ + 1 = 13', async () => {
    assert.deepEqual((await layer('(28, 28, 1)', 'Conv2D(4, (3, 3), (2, 2))')).out, [13, 13, 4]);
  });
  it('Conv2D dilation_rate=2 makes a 3×3 kernel span 5: 32 → 28', async () => {
    const r = await layer('(32, 32, 3)', 'Conv2D(8, 3, dilation_rate=2)');
    assert.deepEqual(r.out, [28, 28, 8]);
    assert.equal(r.params, 224);
    assert.deepEqual(r.rf, { size: [5, 5], stride: [1, 1] });
  });
  it('Conv2D groups=2 splits input channels: 3·3·(4/2)·8 + 8 = 152', async () => {
    const r = await layer('(10, 10, 4)', 'Conv2D(8, 3, groups=2)');
    assert.deepEqual(r.out, [8, 8, 8]);
    assert.equal(r.params, 152);
  });
  it('Conv2D rectangular kernels and strides', async () => {
    assert.deepEqual((await layer('(20, 30, 2)', 'Conv2D(5, (3, 5), strides=(1, 2))')).out, [18, 13, 5]);
  });
  it('Conv2D use_bias=False drops the bias', async () => {
    assert.equal((await layer('(8, 8, 3)', 'Conv2D(4, 3, use_bias=False)')).params, 108);
  });
  it("Conv2D data_format='channels_first' reads (channels, height, width)", async () => {
    const r = await layer('(3, 32, 32)', "Conv2D(16, 3, data_format='channels_first')");
    assert.deepEqual(r.out, [16, 30, 30]);
    assert.equal(r.params, 448);
  });
  it('Conv1D causal padding keeps the length; dilation widens the receptive field', async () => {
    const r = await layer('(100, 8)', "Conv1D(16, 3, padding='causal', dilation_rate=2)");
    assert.deepEqual(r.out, [100, 16]);
    assert.equal(r.params, 3 * 8 * 16 + 16);
    assert.deepEqual(r.rf, { size: [5], stride: [1] });
  });
  it('Conv1D valid with stride 2: ⌊(100 − 5)/2⌋ + 1 = 48', async () => {
    assert.deepEqual((await layer('(100, 8)', 'Conv1D(4, 5, strides=2)')).out, [48, 4]);
  });
  it('Conv2DTranspose doubles with stride 2 (same), kernel stored (kh, kw, filters, in)', async () => {
    const r = await layer('(8, 8, 32)', "Conv2DTranspose(16, 3, strides=2, padding='same')");
    assert.deepEqual(r.out, [16, 16, 16]);
    assert.equal(r.params, 3 * 3 * 16 * 32 + 16);
  });
  it('Conv2DTranspose valid: 8·2 + max(3 − 2, 0) = 17; output_padding=1 with same: 16', async () => {
    assert.deepEqual((await layer('(8, 8, 32)', 'Conv2DTranspose(16, 3, strides=2)')).out, [17, 17, 16]);
    assert.deepEqual((await layer('(8, 8, 32)', "Conv2DTranspose(16, 3, strides=2, padding='same', output_padding=1)")).out, [16, 16, 16]);
  });
  it('DepthwiseConv2D multiplies channels by depth_multiplier: 3·3·16·2 + 32 = 320', async () => {
    const r = await layer('(32, 32, 16)', 'DepthwiseConv2D(3, depth_multiplier=2)');
    assert.deepEqual(r.out, [30, 30, 32]);
    assert.equal(r.params, 320);
  });
  it('SeparableConv2D = depthwise 288 + pointwise 2,048 + bias 64 = 2,400', async () => {
    const r = await layer('(32, 32, 32)', 'SeparableConv2D(64, 3)');
    assert.deepEqual(r.out, [30, 30, 64]);
    assert.equal(r.params, 2400);
  });
});

describe('pooling', () => {
  it('MaxPooling2D strides default to pool_size', async () => {
    assert.deepEqual((await layer('(24, 24, 10)', 'MaxPooling2D((2, 2))')).out, [12, 12, 10]);
    assert.deepEqual((await layer('(25, 25, 10)', 'MaxPooling2D(2)')).out, [12, 12, 10]);
  });
  it('overlapping pools: pool 3, stride 2: 13 → 6; same padding 13 → 7', async () => {
    assert.deepEqual((await layer('(13, 13, 4)', 'MaxPooling2D(pool_size=3, strides=2)')).out, [6, 6, 4]);
    assert.deepEqual((await layer('(13, 13, 4)', "MaxPooling2D(3, 2, 'same')")).out, [7, 7, 4]);
  });
  it('AveragePooling1D and 2D', async () => {
    assert.deepEqual((await layer('(10, 4)', 'AveragePooling1D()')).out, [5, 4]);
    assert.deepEqual((await layer('(9, 9, 2)', 'AveragePooling2D(3)')).out, [3, 3, 2]);
  });
  it('global pooling keeps the channels (keepdims keeps 1×1)', async () => {
    assert.deepEqual((await layer('(7, 7, 512)', 'GlobalAveragePooling2D()')).out, [512]);
    assert.deepEqual((await layer('(7, 7, 512)', 'GlobalMaxPooling2D(keepdims=True)')).out, [1, 1, 512]);
    assert.equal((await layer('(7, 7, 512)', 'GlobalMaxPooling2D()')).rf, 'global');
  });
  it('pooling has no parameters', async () => {
    assert.equal((await layer('(8, 8, 3)', 'MaxPooling2D()')).params, 0);
  });
});

describe('core, normalization, activations, regularization', () => {
  it('Dense on a vector: units × inputs + units', async () => {
    const r = await layer('(320,)', "Dense(100, activation='relu')");
    assert.deepEqual(r.out, [100]);
    assert.equal(r.params, 32100);
    assert.equal(r.formula, '100 × 320 + 100 = 32,100');
  });
  it('Dense acts on the last axis of a higher-rank input (and warns)', async () => {
    const r = await layer('(10, 16)', 'Dense(32)');
    assert.deepEqual(r.out, [10, 32]);
    assert.equal(r.params, 16 * 32 + 32);
    assert.equal(r.problems[0].code, 'dense-on-nd');
  });
  it('BatchNormalization: 4 per channel, 2 trainable (γ, β) and 2 not (moving mean, variance)', async () => {
    const r = await layer('(28, 28, 32)', 'BatchNormalization()');
    assert.deepEqual([r.params, r.trainable, r.frozen], [128, 64, 64]);
    const noCenter = await layer('(28, 28, 32)', 'BatchNormalization(center=False)');
    assert.deepEqual([noCenter.params, noCenter.trainable, noCenter.frozen], [96, 32, 64]);
    const channelsFirst = await layer('(32, 28, 28)', 'BatchNormalization(axis=1)');
    assert.equal(channelsFirst.params, 128);
  });
  it('LayerNormalization: γ and β over the last axis', async () => {
    assert.equal((await layer('(10, 64)', 'LayerNormalization()')).params, 128);
  });
  it('trainable=False moves every weight to non-trainable', async () => {
    const r = await layer('(320,)', 'Dense(10, trainable=False)');
    assert.deepEqual([r.trainable, r.frozen], [0, 3210]);
  });
  it('activation layers keep the shape', async () => {
    for (const call of ["Activation('relu')", 'ReLU(max_value=6.0)', 'LeakyReLU(0.1)', 'LeakyReLU(alpha=0.2)', 'Softmax()', 'ELU()']) {
      const r = await layer('(4, 4, 3)', call);
      assert.deepEqual(r.out, [4, 4, 3], call);
      assert.equal(r.params, 0, call);
      assert.deepEqual(r.problems, [], call);
    }
  });
  it('PReLU learns one slope per element, or per shared axis', async () => {
    assert.equal((await layer('(10, 8)', 'PReLU()')).params, 80);
    assert.equal((await layer('(10, 8)', 'PReLU(shared_axes=[1])')).params, 8);
  });
  it('Dropout, SpatialDropout2D, Rescaling keep the shape', async () => {
    for (const call of ['Dropout(0.5)', 'SpatialDropout2D(0.2)', 'Rescaling(1./255)', 'GaussianNoise(0.1)']) {
      assert.deepEqual((await layer('(6, 6, 3)', call)).out, [6, 6, 3], call);
    }
  });
});

describe('reshaping', () => {
  it('Flatten multiplies all axes', async () => {
    assert.deepEqual((await layer('(4, 4, 20)', 'Flatten()')).out, [320]);
  });
  it('Reshape infers one -1', async () => {
    assert.deepEqual((await layer('(196,)', 'Reshape((7, 7, -1))')).out, [7, 7, 4]);
    assert.deepEqual((await layer('(784,)', 'Reshape(target_shape=(28, 28, 1))')).out, [28, 28, 1]);
  });
  it('ZeroPadding2D: int, per-axis pair, or ((top, bottom), (left, right))', async () => {
    assert.deepEqual((await layer('(28, 28, 1)', 'ZeroPadding2D(2)')).out, [32, 32, 1]);
    assert.deepEqual((await layer('(28, 28, 1)', 'ZeroPadding2D((1, 2))')).out, [30, 32, 1]);
    assert.deepEqual((await layer('(28, 28, 1)', 'ZeroPadding2D(((1, 2), (3, 4)))')).out, [31, 35, 1]);
  });
  it('Cropping2D removes borders', async () => {
    assert.deepEqual((await layer('(28, 28, 3)', 'Cropping2D(((2, 2), (4, 4)))')).out, [24, 20, 3]);
  });
  it('UpSampling2D repeats rows and columns; the receptive-field step shrinks', async () => {
    const r = await layer('(4, 4, 8)', 'UpSampling2D(size=(2, 3))');
    assert.deepEqual(r.out, [8, 12, 8]);
    assert.deepEqual(r.rf, { size: [1, 1], stride: [0.5, 1 / 3] });
  });
});

describe('receptive field and MACs through a stack', () => {
  it('two 3×3 convs see 5×5; a 2×2 pool then doubles the step', async () => {
    const { model } = await oneModel(seq('(32, 32, 3)', "Conv2D(8, 3, padding='same')", "Conv2D(8, 3, padding='same')", 'MaxPooling2D()', 'Conv2D(8, 3)'));
    assert.deepEqual(
      model.layers.map((l) => l.receptiveField),
      [
        { size: [3, 3], stride: [1, 1] },
        { size: [5, 5], stride: [1, 1] },
        { size: [6, 6], stride: [2, 2] },
        { size: [10, 10], stride: [2, 2] },
      ],
    );
  });
  it('activation memory is the output size in float32 bytes', async () => {
    const { model } = await oneModel(seq('(28, 28, 1)', 'Conv2D(10, 5)'));
    assert.equal(model.layers[0].activationBytes, 24 * 24 * 10 * 4);
  });
});
