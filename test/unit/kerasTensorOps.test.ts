/**
 * TensorFlow functions and Keras ops applied to Keras tensors in functional code and inside
 * Lambda functions: `tf.nn.depth_to_space`, `tf.image.resize`, reductions, `expand_dims`, … and
 * the random tensors a Lambda's function draws (`K.random_normal(shape=…)`). The real files these
 * come from (keras.io's sub-pixel super-resolution, DLWP 8.4's VAE) are in the Keras corpus.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSummary } from '../../src/core/index';
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

describe('indexing, patches and attention', () => {
  it('x[..., :5], x[:, 0], x[:, :, None, ::2], x[:, -1, 1:-1]: GetItem rows with NumPy shapes', async () => {
    const a = await analyze(
      [
        'import keras',
        'from keras import layers',
        'inputs = keras.Input(shape=(6, 6, 96))',
        'box = inputs[..., :5]',
        'cls = layers.Activation("softmax")(inputs[..., 5:])',
        'a = inputs[:, 0]',
        'b = inputs[:, :, None, ::2]',
        'c = inputs[:, -1, 1:-1]',
        'model = keras.Model(inputs, {"box": box, "class": cls, "a": a, "b": b, "c": c})',
        '',
      ].join('\n'),
    );
    const shapes = new Map(a.models[0].layers.map((l) => [l.name, l.outputShape]));
    assert.deepEqual(
      ['get_item', 'get_item_1', 'get_item_2', 'get_item_3', 'get_item_4'].map((n) => shapes.get(n)),
      [[6, 6, 5], [6, 6, 91], [6, 96], [6, 1, 3, 96], [4, 96]],
    );
  });

  it('an index that moves the batch axis is not guessed at', async () => {
    const a = await analyze(['import keras', 'inputs = keras.Input(shape=(6, 4))', 'model = keras.Model(inputs, inputs[0])', ''].join('\n'));
    assert.equal(a.models[0].analysed, false);
  });

  it("keras.io's ViT patches and patch encoder: extract_patches, reshape by ops.shape, arange positions, MultiHeadAttention", async () => {
    // The Patches and PatchEncoder layers of keras.io's image_classification_with_vision_transformer
    // (Keras 3), on 72×72 images with 6×6 patches and 64-wide projections.
    const a = await analyze(
      [
        'import keras',
        'from keras import layers, ops',
        'class Patches(layers.Layer):',
        '    def __init__(self, patch_size):',
        '        super().__init__()',
        '        self.patch_size = patch_size',
        '    def call(self, images):',
        '        input_shape = ops.shape(images)',
        '        batch_size = input_shape[0]',
        '        num_patches_h = input_shape[1] // self.patch_size',
        '        num_patches_w = input_shape[2] // self.patch_size',
        '        patches = keras.ops.image.extract_patches(images, size=self.patch_size)',
        '        return ops.reshape(patches, (batch_size, num_patches_h * num_patches_w, self.patch_size * self.patch_size * input_shape[3]))',
        'class PatchEncoder(layers.Layer):',
        '    def __init__(self, num_patches, projection_dim):',
        '        super().__init__()',
        '        self.num_patches = num_patches',
        '        self.projection = layers.Dense(units=projection_dim)',
        '        self.position_embedding = layers.Embedding(input_dim=num_patches, output_dim=projection_dim)',
        '    def call(self, patch):',
        '        positions = ops.expand_dims(ops.arange(start=0, stop=self.num_patches, step=1), axis=0)',
        '        return self.projection(patch) + self.position_embedding(positions)',
        'inputs = keras.Input(shape=(72, 72, 3))',
        'encoded = PatchEncoder(144, 64)(Patches(6)(inputs))',
        'x1 = layers.LayerNormalization(epsilon=1e-6)(encoded)',
        'attention = layers.MultiHeadAttention(num_heads=4, key_dim=64, dropout=0.1)(x1, x1)',
        'model = keras.Model(inputs, layers.Add()([attention, encoded]))',
        '',
      ].join('\n'),
    );
    const m = a.models[0];
    assert.deepEqual(
      m.layers.map((l) => [l.name, l.outputShape, l.params]),
      [
        ['input_layer', [72, 72, 3], 0],
        ['patches', [144, 108], 0],
        // Dense 108 → 64 and a 144 × 64 position table.
        ['patch_encoder', [144, 64], 108 * 64 + 64 + 144 * 64],
        ['layer_normalization', [144, 64], 128],
        // query, key, value: 64 × 4 × 64 + 4 × 64 each; output: 4 × 64 × 64 + 64.
        ['multi_head_attention', [144, 64], 3 * (64 * 4 * 64 + 4 * 64) + 4 * 64 * 64 + 64],
        ['add', [144, 64], 0],
      ],
    );
    assert.deepEqual(m.layers[4].inputs, ['layer_normalization[0][0]', 'layer_normalization[0][0]']);
    assert.ok(!a.problems.some((p) => p.code === 'dense-on-nd'), 'Dense on a sequence is not a slip');
  });
});

describe('a keras.Model subclass without __init__, built as EDSRModel(inputs, outputs)', () => {
  it("keras.io's EDSR: the functional graph, named after the class, two depth_to_space upsamplings", async () => {
    const a = await analyze(
      [
        ...head,
        'class EDSRModel(tf.keras.Model):',
        '    def train_step(self, data):',
        '        x, y = data',
        '        return {}',
        'def ResBlock(inputs):',
        '    x = layers.Conv2D(64, 3, padding="same", activation="relu")(inputs)',
        '    x = layers.Conv2D(64, 3, padding="same")(x)',
        '    return layers.Add()([inputs, x])',
        'def Upsampling(inputs, factor=2, **kwargs):',
        '    x = layers.Conv2D(64 * (factor**2), 3, padding="same", **kwargs)(inputs)',
        '    x = tf.nn.depth_to_space(x, block_size=factor)',
        '    x = layers.Conv2D(64 * (factor**2), 3, padding="same", **kwargs)(x)',
        '    return tf.nn.depth_to_space(x, block_size=factor)',
        'def make_model(num_filters, num_of_residual_blocks):',
        '    input_layer = layers.Input(shape=(None, None, 3))',
        '    x = layers.Rescaling(scale=1.0 / 255)(input_layer)',
        '    x = x_new = layers.Conv2D(num_filters, 3, padding="same")(x)',
        '    for _ in range(num_of_residual_blocks):',
        '        x_new = ResBlock(x_new)',
        '    x_new = layers.Conv2D(num_filters, 3, padding="same")(x_new)',
        '    x = layers.Add()([x, x_new])',
        '    x = Upsampling(x)',
        '    x = layers.Conv2D(3, 3, padding="same")(x)',
        '    return EDSRModel(input_layer, layers.Rescaling(scale=255)(x))',
        'model = make_model(num_filters=64, num_of_residual_blocks=16)',
        '',
      ].join('\n'),
    );
    const m = a.models[0];
    assert.equal(m.name, 'edsr_model');
    assert.equal(m.kind, 'functional');
    // 3→64 conv, 16 blocks of two 64→64 convs, a 64→64 conv, two 64→256 convs, a 64→3 conv.
    const conv = (cin: number, cout: number): number => 9 * cin * cout + cout;
    assert.equal(m.totalParams, conv(3, 64) + 32 * conv(64, 64) + conv(64, 64) + 2 * conv(64, 256) + conv(64, 3));
    assert.equal(m.totalParams, 1_517_571);
    assert.deepEqual(m.layers.filter((l) => l.className === 'TFOpLambda').map((l) => l.outputShape), [[null, null, 64], [null, null, 64]]);
  });
});

describe('a batch fixed by the input', () => {
  it('keras.Input(shape, batch_size=128) prints (128, …) on every row, as keras.io PixelCNN\'s summary shows', async () => {
    // keras.io generative/pixelcnn (Keras 3) prints `input_layer (InputLayer) (128, 28, 28, 1)` and
    // `conv2d_18 (Conv2D) (128, 28, 28, 1) 129` for an input made with batch_size=128.
    const a = await analyze(['import keras', 'inputs = keras.Input(shape=(28, 28, 1), batch_size=128)', 'out = keras.layers.Conv2D(filters=1, kernel_size=1)(inputs)', 'model = keras.Model(inputs, out)', ''].join('\n'));
    const table = formatSummary(a.models[0]);
    assert.match(table, /input_layer \(InputLayer\)\s+\(128, 28, 28, 1\)/);
    assert.match(table, /conv2d \(Conv2D\)\s+\(128, 28, 28, 1\)\s+2 /);
  });
});

describe('keras.applications preprocess_input on a symbolic tensor', () => {
  const build = (lines: string[]) => analyze([...lines, ''].join('\n'));
  it("keras.io's keypoint detector: MobileNetV2's 'tf' mode is true_divide and subtract rows; 2,354,256 params", async () => {
    // Total 2,354,256 as the keras.io keypoint_detection example's model prints it (quoted in
    // the Ascend ModelZoo port of that example: "网络总参数2,354,256"); the frozen backbone is
    // MobileNetV2's include_top=False base, 2,257,984 (keras.io applications table: 3,538,984
    // with the 1,281,000-weight classifier).
    const a = await build([
      'import keras',
      'from keras import layers',
      'backbone = keras.applications.MobileNetV2(weights="imagenet", include_top=False, input_shape=(224, 224, 3))',
      'backbone.trainable = False',
      'inputs = layers.Input((224, 224, 3))',
      'x = keras.applications.mobilenet_v2.preprocess_input(inputs)',
      'x = backbone(x)',
      'x = layers.Dropout(0.3)(x)',
      'x = layers.SeparableConv2D(48, kernel_size=5, strides=1, activation="relu")(x)',
      'outputs = layers.SeparableConv2D(48, kernel_size=3, strides=1, activation="sigmoid")(x)',
      'model = keras.Model(inputs, outputs, name="keypoint_detector")',
    ]);
    const m = a.models.find((x) => x.name === 'keypoint_detector')!;
    assert.deepEqual(m.layers.slice(1, 4).map((l) => `${l.name} (${l.className})`), ['true_divide (TrueDivide)', 'subtract (Subtract)', 'mobilenetv2_1.00_224 (Functional)']);
    assert.deepEqual([m.totalParams, m.trainableParams, m.nonTrainableParams], [2_354_256, 2_354_256 - 2_257_984, 2_257_984]);
  });

  it("VGG16's 'caffe' mode flips the channels and adds the negated ImageNet mean, as Keras 3 records it", async () => {
    const keras3 = await build(['import keras', 'inputs = keras.Input((32, 32, 3))', 'model = keras.Model(inputs, keras.applications.vgg16.preprocess_input(inputs))']);
    assert.deepEqual(
      keras3.models[0].layers.slice(1).map((l) => `${l.name} (${l.className}) ${JSON.stringify(l.outputShape)}`),
      ['get_item (GetItem) [32,32]', 'get_item_1 (GetItem) [32,32]', 'get_item_2 (GetItem) [32,32]', 'stack (Stack) [32,32,3]', 'add (Add) [32,32,3]'],
    );
  });

  it('EfficientNet preprocess_input passes the tensor through (no row)', async () => {
    const a = await build(['import keras', 'inputs = keras.Input((32, 32, 3))', 'x = keras.applications.efficientnet.preprocess_input(inputs)', 'model = keras.Model(inputs, keras.layers.Flatten()(x))']);
    assert.deepEqual(a.models[0].layers.map((l) => l.className), ['InputLayer', 'Flatten']);
  });
});

describe('operations keep their rules under Keras names', () => {
  it('ops.relu(x) is a relu (Relu) row and x * 0.5 a multiply row; training applies the Activation and ScalarOp rules', async () => {
    const { planTraining } = await import('../../src/core/train/plan');
    const text = [
      'import keras',
      'from keras import layers, ops',
      'inputs = keras.Input((8,))',
      'x = layers.Dense(4)(inputs)',
      'x = ops.relu(x * 0.5)',
      'model = keras.Model(inputs, layers.Dense(2, activation="softmax")(x))',
      'model.compile(optimizer="adam", loss="categorical_crossentropy")',
      '',
    ].join('\n');
    const a = await analyze(text);
    const m = a.models[0];
    assert.deepEqual(m.layers.slice(2, 4).map((l) => [l.name, l.className, l.typeName]), [['multiply', 'Multiply', 'ScalarOp'], ['relu', 'Relu', 'Activation']]);
    const r = planTraining(m, text);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.plan!.layers.map((l) => l.className), ['Dense', 'ScalarOp', 'Activation', 'Dense']);
  });

  it('tf.nn.relu at graph level is a TFOpLambda row named tf.nn.relu', async () => {
    const a = await analyze([...head, 'inputs = keras.Input((8,))', 'model = keras.Model(inputs, tf.nn.relu(layers.Dense(4)(inputs)))', ''].join('\n'));
    assert.deepEqual(a.models[0].layers.slice(2).map((l) => `${l.name} (${l.className})`), ['tf.nn.relu (TFOpLambda)']);
  });
});
