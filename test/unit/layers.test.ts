/** Per layer family: shapes and parameter counts against facts of Keras 3 (and tf.keras 2). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LAYERS } from '../../src/core/index';
import { kerasSnakeCase } from '../../src/core/layers/index';
import { analyze, oneModel, readFixture, rows, seq } from './helpers';

/** Runs one layer on an input and returns [outputShape, params, trainable, nonTrainable, problems]. */
async function layer(input: string, call: string) {
  const { model, problems } = await oneModel(seq(input, call));
  const l = model.layers[0];
  return { out: l.outputShape, params: l.params, trainable: l.trainableParams, frozen: l.nonTrainableParams, macs: l.macs, rf: l.receptiveField, problems, formula: l.formula };
}

describe('registry', () => {
  it('every layer declares a doc, a shape rule and its framework-ordered arguments; a name is registered once per framework', () => {
    const names = new Set<string>();
    for (const def of LAYERS) {
      assert.ok(def.doc.length > 20, `${def.name} needs a doc line`);
      assert.equal(typeof def.bind({}).outputShape, 'function', `${def.name} needs a shape rule`);
      const key = `${def.framework}:${def.name}`;
      assert.ok(!names.has(key), `${key} is registered twice`);
      names.add(key);
      for (const [arg, spec] of Object.entries(def.args)) {
        assert.match(arg, /^[a-z][a-z0-9_]*$/, `${def.name}.${arg} must use the framework's (snake_case) spelling`);
        assert.ok(spec.expected.length > 0);
      }
    }
    for (const required of ['Conv1D', 'Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Conv2DTranspose', 'MaxPooling1D', 'MaxPooling2D', 'AveragePooling1D', 'AveragePooling2D', 'GlobalMaxPooling2D', 'GlobalAveragePooling2D', 'Flatten', 'Dense', 'Dropout', 'SpatialDropout2D', 'BatchNormalization', 'LayerNormalization', 'Activation', 'ReLU', 'LeakyReLU', 'Softmax', 'ZeroPadding2D', 'Cropping2D', 'Reshape', 'UpSampling2D', 'Rescaling', 'InputLayer']) {
      assert.ok(names.has(`keras:${required}`), `${required} is missing from the registry`);
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
  it('Dense acts on the last axis of a higher-rank input; it warns on a feature map, not on a sequence', async () => {
    const r = await layer('(10, 16)', 'Dense(32)');
    assert.deepEqual(r.out, [10, 32]);
    assert.equal(r.params, 16 * 32 + 32);
    assert.deepEqual(r.problems, []);
    const map = await layer('(4, 4, 16)', 'Dense(32)');
    assert.deepEqual(map.out, [4, 4, 32]);
    assert.equal(map.problems[0].code, 'dense-on-nd');
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

describe('3-D layers', () => {
  it('the keras.io 3-D CT classifier: every row and the totals of its published summary (1,352,897 = 1,351,873 + 1,024)', async () => {
    // keras-team/keras-io examples/vision/md/3D_image_classification.md (see the fixture's header).
    const { model, problems } = await oneModel(readFixture('layers', 'keras_io_3d_ct_classifier.py'));
    assert.deepEqual(rows(model), [
      ['conv3d', 'Conv3D', '(None, 126, 126, 62, 64)', 1792],
      ['max_pooling3d', 'MaxPooling3D', '(None, 63, 63, 31, 64)', 0],
      ['batch_normalization', 'BatchNormalization', '(None, 63, 63, 31, 64)', 256],
      ['conv3d_1', 'Conv3D', '(None, 61, 61, 29, 64)', 110656],
      ['max_pooling3d_1', 'MaxPooling3D', '(None, 30, 30, 14, 64)', 0],
      ['batch_normalization_1', 'BatchNormalization', '(None, 30, 30, 14, 64)', 256],
      ['conv3d_2', 'Conv3D', '(None, 28, 28, 12, 128)', 221312],
      ['max_pooling3d_2', 'MaxPooling3D', '(None, 14, 14, 6, 128)', 0],
      ['batch_normalization_2', 'BatchNormalization', '(None, 14, 14, 6, 128)', 512],
      ['conv3d_3', 'Conv3D', '(None, 12, 12, 4, 256)', 884992],
      ['max_pooling3d_3', 'MaxPooling3D', '(None, 6, 6, 2, 256)', 0],
      ['batch_normalization_3', 'BatchNormalization', '(None, 6, 6, 2, 256)', 1024],
      ['global_average_pooling3d', 'GlobalAveragePooling3D', '(None, 256)', 0],
      ['dense', 'Dense', '(None, 512)', 131584],
      ['dropout', 'Dropout', '(None, 512)', 0],
      ['dense_1', 'Dense', '(None, 1)', 513],
    ]);
    assert.deepEqual([model.totalParams, model.trainableParams, model.nonTrainableParams], [1352897, 1351873, 1024]);
    assert.deepEqual(problems, []);
  });
  it('Conv3D: 64 × (3·3·3·1) + 64 = 1,792; MACs 126·126·62·64 outputs × 27; receptive field 3×3×3, then 4×4×4 /2 after MaxPool3D(2)', async () => {
    const { model } = await oneModel(seq('(128, 128, 64, 1)', "Conv3D(64, 3, activation='relu')", 'MaxPool3D(2)'));
    const [conv, pool] = model.layers;
    assert.equal(conv.formula, '64 × (3·3·3·1) + 64 = 1,792');
    assert.deepEqual(conv.weights.map((w) => w.shape), [[3, 3, 3, 1, 64], [64]]);
    assert.equal(conv.macs, 126 * 126 * 62 * 64 * 27);
    assert.deepEqual(conv.receptiveField, { size: [3, 3, 3], stride: [1, 1, 1] });
    assert.deepEqual(pool.receptiveField, { size: [4, 4, 4], stride: [2, 2, 2] });
  });
  it("Conv3D 'same' stride 2 rounds up: ⌈9/2⌉ = 5; channels_first reads (channels, depth, height, width): 8 × 27 + 8 = 224", async () => {
    assert.deepEqual((await layer('(9, 9, 9, 2)', "Conv3D(4, 3, strides=2, padding='same')")).out, [5, 5, 5, 4]);
    const cf = await layer('(1, 16, 16, 16)', "Conv3D(8, 3, data_format='channels_first')");
    assert.deepEqual([cf.out, cf.params], [[8, 14, 14, 14], 224]);
  });
  it('Conv3D on a too-small volume: the error shows the arithmetic on the offending axis', async () => {
    const r = await layer('(2, 8, 8, 1)', 'Conv3D(4, 3)');
    assert.equal(r.problems[0].code, 'output-empty');
    assert.match(r.problems[0].message, /^Conv3D's 3×3×3 kernel is larger than its 2×8×8 input, so it has no output position: \(2 − 3\) \/ 1 \+ 1 = 0; use a kernel of at most 2×3×3, or padding='same'$/);
  });
  it('Conv3D wants a 4-D sample: a 2-D image input is reported with the expected axes', async () => {
    const r = await layer('(28, 28, 1)', 'Conv3D(4, 3)');
    assert.equal(r.problems[0].code, 'input-rank');
    assert.match(r.problems[0].message, /Conv3D expects a 4-D input per sample \(depth, height, width, channels\)/);
  });
  it("Conv3DTranspose 'same' s2: 4 → 8, kernel (3, 3, 3, filters 16, in 32): 16 × (3·3·3·32) + 16 = 13,840", async () => {
    const r = await layer('(4, 4, 4, 32)', "Conv3DTranspose(16, 3, strides=2, padding='same')");
    assert.deepEqual([r.out, r.params], [[8, 8, 8, 16], 13840]);
    assert.equal(r.formula, '16 × (3·3·3·32) + 16 = 13,840');
  });
  it('Conv3DTranspose takes data_format before output_padding (Keras order): the 6th positional is output_padding, (4 − 1)·2 + 3 − 2·1 + 1 = 8', async () => {
    assert.deepEqual((await layer('(4, 4, 4, 2)', "Conv3DTranspose(8, 3, 2, 'same', None, 1)")).out, [8, 8, 8, 8]);
    const bad = await layer('(4, 4, 4, 2)', "Conv3DTranspose(8, 3, 2, 'same', output_padding=2)");
    assert.equal(bad.problems[0].code, 'output-padding');
    assert.equal(bad.problems[0].message, 'Conv3DTranspose: output_padding (2, 2, 2) must be smaller than strides (2, 2, 2) on every axis');
  });
  it("pooling: AveragePooling3D 'same' rounds up 5 → 3; GlobalMaxPooling3D keeps (1, 1, 1, C) with keepdims", async () => {
    assert.deepEqual((await layer('(5, 6, 7, 3)', "AveragePooling3D(2, padding='same')")).out, [3, 3, 4, 3]);
    assert.deepEqual((await layer('(5, 6, 7, 3)', 'MaxPooling3D((1, 2, 3))')).out, [5, 3, 2, 3]);
    assert.deepEqual((await layer('(5, 6, 7, 3)', 'GlobalMaxPooling3D(keepdims=True)')).out, [1, 1, 1, 3]);
    assert.deepEqual((await layer('(5, 6, 7, 3)', 'GlobalAvgPool3D()')).out, [3]);
  });
  it('UpSampling3D, ZeroPadding3D, Cropping3D: 3·2 = 6; 4 + 1 + 2 = 7; 6 − 1 − 0 = 5', async () => {
    assert.deepEqual((await layer('(3, 4, 5, 2)', 'UpSampling3D((2, 1, 3))')).out, [6, 4, 15, 2]);
    assert.deepEqual((await layer('(4, 4, 4, 2)', 'ZeroPadding3D(((1, 2), (0, 1), 3))')).out, [7, 5, 10, 2]);
    assert.deepEqual((await layer('(6, 6, 6, 2)', 'Cropping3D(((1, 0), 2, (0, 3)))')).out, [5, 2, 3, 2]);
    assert.deepEqual((await layer('(2, 6, 6, 3)', "ZeroPadding3D(1, data_format='channels_first')")).out, [2, 8, 8, 5]);
    const r = await layer('(4, 6, 6, 2)', 'Cropping3D(((2, 2), 1, 1))');
    assert.equal(r.problems[0].message, 'Cropping3D: cropping 2 + 2 removes all 4 depth slices of the input');
  });
  it('SpatialDropout3D keeps the shape; a rate above 1 is an error on the argument', async () => {
    assert.deepEqual((await layer('(4, 4, 4, 8)', 'SpatialDropout3D(0.2)')).out, [4, 4, 4, 8]);
    assert.equal((await layer('(4, 4, 4, 8)', 'SpatialDropout3D(1.5)')).problems[0].code, 'invalid-arg');
  });
});

describe('adaptive pooling (Keras 3.13)', () => {
  it('AdaptiveAveragePooling2D(7) gives 7×7 whatever the input; 14 → 7 is an ordinary 2×2 pool (receptive field 2×2 /2)', async () => {
    const r = await layer('(14, 14, 512)', 'AdaptiveAveragePooling2D(7)');
    assert.deepEqual([r.out, r.params], [[7, 7, 512], 0]);
    assert.deepEqual(r.rf, { size: [2, 2], stride: [2, 2] });
    const uneven = await layer('(10, 9, 8)', "AdaptiveMaxPooling2D((4, 4))");
    assert.deepEqual([uneven.out, uneven.rf], [[4, 4, 8], null]);
    assert.deepEqual((await layer('(8, 6, 4, 2)', "AdaptiveMaxPooling3D((2, 3, 1), data_format='channels_last')")).out, [2, 3, 1, 2]);
  });
});

describe('1-D variants of the convolutions', () => {
  it('the keras.io timeseries anomaly autoencoder: Conv1DTranspose rows and 9,505 params as published', async () => {
    // keras-team/keras-io examples/timeseries/md/timeseries_anomaly_detection.md (see the fixture's header).
    const { model, problems } = await oneModel(readFixture('layers', 'keras_io_timeseries_anomaly_autoencoder.py'));
    assert.deepEqual(rows(model), [
      ['conv1d', 'Conv1D', '(None, 144, 32)', 256],
      ['dropout', 'Dropout', '(None, 144, 32)', 0],
      ['conv1d_1', 'Conv1D', '(None, 72, 16)', 3600],
      ['conv1d_transpose', 'Conv1DTranspose', '(None, 144, 16)', 1808],
      ['dropout_1', 'Dropout', '(None, 144, 16)', 0],
      ['conv1d_transpose_1', 'Conv1DTranspose', '(None, 288, 32)', 3616],
      ['conv1d_transpose_2', 'Conv1DTranspose', '(None, 288, 1)', 225],
    ]);
    assert.deepEqual([model.totalParams, model.trainableParams, model.nonTrainableParams], [9505, 9505, 0]);
    assert.deepEqual(problems, []);
  });
  it('Conv1DTranspose valid s3, kernel 2: 4·3 + max(2 − 3, 0) = 12; kernel stored (2, filters 5, in 3)', async () => {
    const r = await layer('(4, 3)', 'Conv1DTranspose(5, 2, strides=3)');
    assert.deepEqual(r.out, [12, 5]);
    assert.equal(r.params, 2 * 5 * 3 + 5);
  });
  it('DepthwiseConv1D multiplier 2: 3·4·2 + 8 = 32 params, 8 → 8 channels; SeparableConv1D 3·8·1 + 8·16 + 16 = 168', async () => {
    const d = await layer('(10, 4)', 'DepthwiseConv1D(3, depth_multiplier=2)');
    assert.deepEqual([d.out, d.params, d.formula], [[8, 8], 32, '3·4·2 + 8 = 32']);
    const s = await layer('(20, 8)', 'SeparableConv1D(16, 3)');
    assert.deepEqual([s.out, s.params, s.formula], [[18, 16], 168, '3·8·1 + 8·16 + 16 = 168']);
    assert.equal(s.macs, 18 * 8 * 3 + 18 * 8 * 16);
  });
  it("DepthwiseConv1D / SeparableConv1D have no 'causal' padding (only Conv1D has)", async () => {
    assert.equal((await layer('(10, 4)', "DepthwiseConv1D(3, padding='causal')")).problems[0].code, 'invalid-arg');
  });
});

describe('locally connected layers (tf.keras 2)', () => {
  it('the LocallyConnected2D docstring: (30·30)·(3·3·3·64) + (30·30)·64 = 1,612,800, then (None, 28, 28, 32)', async () => {
    const a = await analyze(readFixture('layers', 'tf_keras_locally_connected_docs.py'));
    const [m2, m1] = a.models;
    assert.deepEqual(rows(m2), [
      ['locally_connected2d', 'LocallyConnected2D', '(None, 30, 30, 64)', 30 * 30 * (3 * 3 * 3 * 64) + 30 * 30 * 64],
      ['locally_connected2d_1', 'LocallyConnected2D', '(None, 28, 28, 32)', 28 * 28 * (3 * 3 * 64 * 32) + 28 * 28 * 32],
    ]);
    assert.equal(m2.layers[0].params, 1612800);
    assert.equal(m2.layers[0].formula, '30·30 positions × (3·3·3·64) + 30·30·64 = 1,612,800');
    assert.deepEqual(m2.layers[0].weights.map((w) => w.shape), [[900, 27, 64], [30, 30, 64]]);
    // The LocallyConnected1D docstring: (None, 8, 64) then (None, 6, 32); 8·(3·32·64) + 8·64 = 49,664.
    assert.deepEqual(rows(m1), [
      ['locally_connected1d', 'LocallyConnected1D', '(None, 8, 64)', 49664],
      ['locally_connected1d_1', 'LocallyConnected1D', '(None, 6, 32)', 6 * (3 * 64 * 32) + 6 * 32],
    ]);
    assert.deepEqual(a.problems, []);
  });
  it('implementation=2 stores a masked dense kernel (10, 32, 8, 64): 163,840 + 512 bias', async () => {
    const r = await layer('(10, 32)', 'LocallyConnected1D(64, 3, implementation=2)');
    assert.equal(r.params, 10 * 32 * 8 * 64 + 8 * 64);
  });
  it("implementation=3 'same' keeps only in-bounds taps: 2 + 3 + 3 + 3 + 2 = 13 connections × 2 × 4 = 104 + 20 bias", async () => {
    const r = await layer('(5, 2)', "LocallyConnected1D(4, 3, padding='same', implementation=3)");
    assert.deepEqual([r.out, r.params], [[5, 4], 124]);
  });
  it('an input 2**40 wide is counted, not walked (the connections were summed position by position: a file with this input hung)', { timeout: 120_000 }, async () => {
    const r = await layer('(2**40, 2)', 'LocallyConnected1D(4, 3)');
    assert.equal(r.macs, (2 ** 40 - 2) * 3 * 2 * 4);
    const same = await layer('(2**40 + 1, 2)', "LocallyConnected1D(4, 5, strides=2, padding='same', implementation=3)");
    // 2^39 + 1 windows of 5 taps, less 2 clipped at the start and 2 at the end.
    assert.equal(same.params, ((2 ** 39 + 1) * 5 - 4) * 2 * 4 + (2 ** 39 + 1) * 4);
  });
  it("padding='same' with the default implementation=1 is Keras' ValueError, on the argument", async () => {
    const r = await layer('(5, 2)', "LocallyConnected1D(4, 3, padding='same')");
    assert.equal(r.problems[0].code, 'padding');
    assert.match(r.problems[0].message, /needs implementation=2 or 3/);
  });
});

describe('normalization layers', () => {
  it('GroupNormalization: γ and β per channel, 2 × 64 = 128; groups=-1 is one group per channel', async () => {
    const r = await layer('(8, 8, 64)', 'GroupNormalization(groups=8)');
    assert.deepEqual([r.params, r.trainable, r.frozen], [128, 128, 0]);
    assert.equal((await layer('(8, 8, 16)', 'GroupNormalization(-1, scale=False)')).params, 16);
  });
  it("GroupNormalization's default 32 groups on 16 channels, and 6 groups of 16 channels, are Keras' errors, on groups", async () => {
    const r = await layer('(8, 8, 16)', 'GroupNormalization()');
    assert.equal(r.problems[0].code, 'groups');
    assert.match(r.problems[0].message, /groups=32 is more than the 16 channels of the input/);
    assert.match((await layer('(8, 8, 16)', 'GroupNormalization(6)')).problems[0].message, /the 16 channels cannot be split into groups=6 equal groups/);
  });
  it('RMSNormalization learns one scale per index of its axis: 64; axis=(1, 2) on (4, 5, 3): 4·5 = 20', async () => {
    const r = await layer('(10, 64)', 'RMSNormalization()');
    assert.deepEqual([r.params, r.trainable, r.formula], [64, 64, '64 = 64 (a scale per index)']);
    assert.equal((await layer('(4, 5, 3)', 'RMSNormalization(axis=(1, 2))')).params, 20);
  });
  it('UnitNormalization has no weights; an axis outside the input is an error', async () => {
    const r = await layer('(10, 16)', 'UnitNormalization(axis=[1, 2])');
    assert.deepEqual([r.out, r.params], [[10, 16], 0]);
    assert.equal((await layer('(10, 16)', 'UnitNormalization(axis=3)')).problems[0].code, 'axis');
  });
  it('Normalization to be adapted holds mean, variance (per channel) and count, none trainable: 2·3 + 1 = 7', async () => {
    // keras/src/layers/preprocessing/normalization.py build(): mean and variance of the kept axes' shape, count of shape ().
    // Published: the keras.io transfer-learning guide's summary prints "normalization (Normalization (None, 150, 150, 3) 7"
    // within "Non-trainable params: 20,861,487" = Xception's 20,861,480 + 7 (test/fixtures/keras/published/transfer_learning_xception.txt).
    const r = await layer('(150, 150, 3)', 'Normalization()');
    assert.deepEqual([r.params, r.trainable, r.frozen], [7, 0, 7]);
    assert.equal(r.formula, 'mean 3 + variance 3 + count 1 = 7 (not trainable: adapt() sets them)');
    assert.equal((await layer('(32, 32, 3)', 'Normalization(axis=None)')).params, 3);
    assert.equal((await layer('(4, 5, 3)', 'Normalization(axis=(1, 2))')).params, 2 * 20 + 1);
  });
  it('Normalization(mean=…, variance=…) has no weights; Keras\' argument errors are reported on the argument', async () => {
    assert.equal((await layer('(3,)', 'Normalization(mean=[1.0, 2.0, 3.0], variance=[1.0, 1.0, 4.0])')).params, 0);
    assert.equal((await layer('(3,)', 'Normalization(mean=np.mean(x), variance=np.var(x))')).params, 0);
    assert.equal((await layer('(3,)', 'Normalization(mean=2.0)')).problems[0].code, 'normalization-stats');
    assert.match((await layer('(3,)', 'Normalization(mean=[1.0, 2.0], variance=[1.0, 2.0])')).problems[0].message, /cannot be broadcast to the 3 kept axes/);
    assert.match((await layer('(3,)', 'Normalization(axis=0)')).problems[0].message, /axis 0 is the batch axis/);
  });
});

describe('core, reshaping and regularization additions', () => {
  it('Embedding(1000, 64) on 10 token ids: (10, 64), 1,000 × 64 = 64,000 params', async () => {
    const r = await layer('(10,)', 'Embedding(1000, 64)');
    assert.deepEqual([r.out, r.params, r.formula, r.macs], [[10, 64], 64000, '1000 × 64 = 64,000', 0]);
    assert.deepEqual((await layer('(None,)', 'Embedding(input_dim=50, output_dim=8, mask_zero=True)')).out, [null, 8]);
  });
  it("Permute((2, 1)) of (10, 64) is (64, 10) and RepeatVector(3) of (32,) is (3, 32), as Keras' docstrings show", async () => {
    const p = await layer('(10, 64)', 'Permute((2, 1))');
    assert.deepEqual(p.out, [64, 10]);
    assert.equal(p.rf, null);
    assert.deepEqual((await layer('(32,)', 'RepeatVector(3)')).out, [3, 32]);
  });
  it('Permute: dims must be a permutation of 1…n and match the input rank', async () => {
    assert.match((await layer('(10, 64)', 'Permute((0, 1))')).problems[0].message, /'dims' must be a tuple of positive integers, got \(0, 1\)/);
    assert.match((await layer('(10, 64)', 'Permute((1, 1))')).problems[0].message, /dims=\(1, 1\) must be a permutation of 1, 2/);
    assert.match((await layer('(4, 4, 3)', 'Permute((2, 1))')).problems[0].message, /reorders 2 axes, but the input \(None, 4, 4, 3\) has 3/);
  });
  it('Identity, Masking, ThresholdedReLU, AlphaDropout and ActivityRegularization keep the shape and have no weights', async () => {
    for (const call of ['Identity()', 'Masking(mask_value=-1.0)', 'ThresholdedReLU(theta=0.5)', 'AlphaDropout(0.1)', 'ActivityRegularization(l1=0.01)']) {
      const r = await layer('(6, 6, 3)', call);
      assert.deepEqual([r.out, r.params, r.problems], [[6, 6, 3], 0, []], call);
    }
    assert.equal((await layer('(6, 6, 3)', 'ActivityRegularization(l2=-1.0)')).problems[0].code, 'invalid-arg');
  });
});

describe('preprocessing and augmentation layers', () => {
  it('the random augmentations keep the shape, have no weights, and the layers after them see the image', async () => {
    const { model, problems } = await oneModel(
      seq('(32, 32, 3)', "RandomFlip('horizontal')", 'RandomRotation(0.1)', 'RandomZoom(0.2, 0.3)', 'RandomTranslation(0.1, (-0.2, 0.2))', 'RandomContrast(0.2)', 'RandomBrightness(0.2)', 'Conv2D(8, 3)'),
    );
    assert.deepEqual(
      model.layers.map((l) => [l.className, l.outputShape, l.params]),
      [
        ['RandomFlip', [32, 32, 3], 0],
        ['RandomRotation', [32, 32, 3], 0],
        ['RandomZoom', [32, 32, 3], 0],
        ['RandomTranslation', [32, 32, 3], 0],
        ['RandomContrast', [32, 32, 3], 0],
        ['RandomBrightness', [32, 32, 3], 0],
        ['Conv2D', [30, 30, 8], 224],
      ],
    );
    assert.deepEqual(problems, []);
  });
  it("Keras' argument checks: an unknown flip mode, a contrast factor above 1, a zoom factor of -1", async () => {
    assert.match((await layer('(8, 8, 3)', "RandomFlip('diagonal')")).problems[0].message, /'mode' must be one of 'horizontal', 'vertical', 'horizontal_and_vertical'/);
    assert.equal((await layer('(8, 8, 3)', 'RandomContrast(1.5)')).problems[0].code, 'invalid-arg');
    assert.equal((await layer('(8, 8, 3)', 'RandomZoom(-1.0)')).problems[0].code, 'invalid-arg');
  });
  it('RandomCrop and CenterCrop give height × width; CenterCrop of a smaller image warns that Keras resizes it', async () => {
    assert.deepEqual((await layer('(32, 32, 3)', 'RandomCrop(24, 28)')).out, [24, 28, 3]);
    const c = await layer('(32, 32, 3)', 'CenterCrop(24, 24)');
    assert.deepEqual([c.out, c.problems], [[24, 24, 3], []]);
    const small = await layer('(20, 32, 3)', 'CenterCrop(24, 24)');
    assert.deepEqual(small.out, [24, 24, 3]);
    assert.equal(small.problems[0].code, 'center-crop-resize');
  });
  it("tf.keras 2's RandomHeight leaves the height unknown (None), as its compute_output_shape does", async () => {
    assert.deepEqual((await layer('(28, 28, 1)', 'RandomHeight(0.2)')).out, [null, 28, 1]);
  });
});
