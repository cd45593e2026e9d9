/** Planning a training from a model file: settings from compile()/fit(), refusals at their lines, initialisers, the registry. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LAYERS } from '../../src/core/index';
import { computeFans, initialize } from '../../src/core/train/initializers';
import { describeOptimizer } from '../../src/core/train/optimizers';
import { planTraining, planWeights } from '../../src/core/train/plan';
import { analyze, oneModel, readFixture } from './helpers';

async function planOf(text: string, overrides = {}) {
  // The model named `model` (a file may also build models nested in it).
  const a = await analyze(text);
  const model = a.models.find((m) => m.varName === 'model') ?? (await oneModel(text)).model;
  return planTraining(model, text, overrides);
}

const model = (...lines: string[]) =>
  ['from tensorflow import keras', 'from tensorflow.keras import layers, models', 'model = models.Sequential()', ...lines, ''].join('\n');

describe('training plan', () => {
  it('reads the seed MNIST file: RMSprop(lr=1e-4), categorical cross-entropy, batch 128, 50 epochs, validation_data as the file selects it', async () => {
    const r = await planOf(readFixture('seeds', '001_mnist_cnn.py'));
    assert.deepEqual(r.problems, []);
    const p = r.plan!;
    assert.deepEqual(p.optimizer, { name: 'rmsprop', learningRate: 0.0001, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false, weightDecay: 0 });
    assert.equal(p.loss, 'categorical_crossentropy');
    assert.equal(p.batchSize, 128);
    assert.equal(p.epochs, 50);
    // validation_data=(x_valid_vec, …): the last 10,000 of a permutation of the training set (fitOptions.test.ts has the details).
    assert.equal(p.validationSplit, 0);
    assert.deepEqual(p.fit?.validation?.rows.slices, [{ start: 50000, stop: 60000 }]);
    assert.match(r.notes.join('\n'), /validation_data: rows 50000:60000 of the training set in np\.random\.permutation order/);
    assert.deepEqual(p.inputShape, [28, 28, 1]);
    assert.deepEqual(p.outputShape, [10]);
    assert.equal(p.macs, 497000);
    assert.deepEqual(
      planWeights(p).map((w) => `${w.name} ${w.shape.join('x')} ${w.initializer}`),
      [
        'conv2d/kernel 5x5x1x10 glorot_uniform', 'conv2d/bias 10 zeros', 'conv2d_1/kernel 5x5x10x20 glorot_uniform', 'conv2d_1/bias 20 zeros',
        'dense/kernel 320x100 glorot_uniform', 'dense/bias 100 zeros', 'dense_1/kernel 100x10 glorot_uniform', 'dense_1/bias 10 zeros',
      ],
    );
    assert.equal(describeOptimizer(p.optimizer), 'RMSprop(learning_rate=0.0001)');
  });

  it("reads the seed CIFAR-10 file: optimizer='rmsprop' with Keras' defaults, batch 32, 5 epochs", async () => {
    const r = await planOf(readFixture('seeds', '000_cifar10_cnn.py'));
    assert.deepEqual(r.problems, []);
    assert.equal(r.plan!.optimizer.name, 'rmsprop');
    assert.equal(r.plan!.optimizer.learningRate, 0.001);
    assert.equal(r.plan!.batchSize, 32);
    assert.equal(r.plan!.epochs, 5);
  });

  it('reads optimizer arguments (learning_rate / lr / positional, momentum, nesterov, weight_decay) and overrides', async () => {
    const base = ["model.add(layers.Dense(3, activation='softmax', input_shape=(4,)))"];
    let r = await planOf(model(...base, "model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True), loss='sparse_categorical_crossentropy')"));
    assert.deepEqual(r.plan!.optimizer, { name: 'sgd', learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0 });
    assert.equal(r.plan!.loss, 'sparse_categorical_crossentropy');
    r = await planOf(model(...base, "model.compile(keras.optimizers.Adam(0.003), 'mse')"));
    assert.deepEqual(r.plan!.optimizer, { name: 'adam', learningRate: 0.003, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0 });
    assert.equal(r.plan!.loss, 'mean_squared_error');
    r = await planOf(model(...base, "model.compile(optimizer='adamw', loss='categorical_crossentropy')"));
    assert.deepEqual(r.plan!.optimizer, { name: 'adamw', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0.004 });
    r = await planOf(model(...base, "model.compile(optimizer=keras.optimizers.Adagrad(lr=0.05), loss='mae')"), { learningRate: 0.2, batchSize: 7, epochs: 3 });
    assert.deepEqual(r.plan!.optimizer, { name: 'adagrad', learningRate: 0.2, initialAccumulator: 0.1, epsilon: 1e-7, weightDecay: 0 });
    assert.equal(r.plan!.loss, 'mean_absolute_error');
    assert.equal(r.plan!.batchSize, 7);
    assert.equal(r.plan!.epochs, 3);
    // --optimizer naming the file's optimizer keeps the file's arguments; another one starts from its defaults.
    r = await planOf(model(...base, "model.compile(optimizer=keras.optimizers.RMSprop(rho=0.8, momentum=0.5), loss='categorical_crossentropy')"), { optimizer: 'RMSprop' });
    assert.deepEqual(r.plan!.optimizer, { name: 'rmsprop', learningRate: 0.001, rho: 0.8, momentum: 0.5, epsilon: 1e-7, centered: false, weightDecay: 0 });
    r = await planOf(model(...base, "model.compile(optimizer=keras.optimizers.RMSprop(rho=0.8), loss='categorical_crossentropy')"), { optimizer: 'sgd' });
    assert.deepEqual(r.plan!.optimizer, { name: 'sgd', learningRate: 0.01, momentum: 0, nesterov: false, weightDecay: 0 });
  });

  it('fills in what the file does not say, and says so', async () => {
    const r = await planOf(model("model.add(layers.Dense(2, activation='sigmoid', input_shape=(4,)))"));
    assert.deepEqual(r.problems, []);
    assert.equal(r.plan!.loss, 'binary_crossentropy');
    assert.equal(r.plan!.optimizer.name, 'rmsprop');
    assert.equal(r.plan!.batchSize, 32);
    assert.equal(r.plan!.epochs, 1);
    assert.equal(r.plan!.validationSplit, 0);
    assert.match(r.notes.join('\n'), /does not call compile\(\); using binary_crossentropy/);
    const split = await planOf(model("model.add(layers.Dense(2, activation='softmax', input_shape=(4,)))", "model.compile('sgd', 'categorical_crossentropy')", 'model.fit(x, y, epochs=4, validation_split=0.2, batch_size=16)'));
    assert.equal(split.plan!.validationSplit, 0.2);
    assert.equal(split.plan!.epochs, 4);
    assert.equal(split.plan!.batchSize, 16);
  });

  it('reads initializer arguments (names, classes, aliases) and notes the ones it cannot reproduce', async () => {
    const r = await planOf(
      model(
        "model.add(layers.Conv2D(4, 3, kernel_initializer='he_normal', bias_initializer='ones', input_shape=(8, 8, 1)))",
        'model.add(layers.BatchNormalization())',
        "model.add(layers.DepthwiseConv2D(3, depthwise_initializer=keras.initializers.HeUniform))",
        'model.add(layers.Flatten())',
        "model.add(layers.Dense(3, kernel_initializer='orthogonal', activation='softmax'))",
      ),
    );
    assert.deepEqual(r.problems, []);
    const init = Object.fromEntries(planWeights(r.plan!).map((w) => [w.name, w.initializer]));
    assert.equal(init['conv2d/kernel'], 'he_normal');
    assert.equal(init['conv2d/bias'], 'ones');
    assert.equal(init['batch_normalization/gamma'], 'ones');
    assert.equal(init['batch_normalization/moving_variance'], 'ones');
    assert.equal(init['batch_normalization/moving_mean'], 'zeros');
    assert.equal(init['depthwise_conv2d/depthwise_kernel'], 'he_uniform');
    assert.equal(init['dense/kernel'], 'glorot_uniform');
    assert.match(r.notes.join('\n'), /initializer 'orthogonal' of dense is not reproduced by ConvLens; using glorot_uniform/);
  });

  it('refuses what it cannot train, every reason at its own line, before anything runs', async () => {
    const text = model(
      "model.add(layers.Conv2D(4, 3, input_shape=(16, 16, 3), data_format='channels_last'))",
      'model.add(layers.Masking())',
      "model.add(layers.Conv2D(4, 3, activation='softsign'))",
      "model.add(layers.UpSampling2D(interpolation='bilinear'))",
      'model.add(layers.Dropout(0.5, noise_shape=(None, 2, 1, 4)))',
      'model.add(layers.Dense(10))',
      "model.compile(optimizer='ftrl', loss='hinge')",
    );
    const r = await planOf(text);
    assert.equal(r.plan, undefined);
    const got = r.problems.map((p) => `${p.line}:${p.column} ${p.message}`);
    assert.deepEqual(got, [
      "5:11 Masking 'masking': Masking passes a mask to the layers after it (GlobalAveragePooling1D averages only unmasked steps), which ConvLens' trainer does not propagate yet",
      "6:11 Conv2D 'conv2d_1': activation='softsign' is not trainable yet",
      "7:11 UpSampling2D 'up_sampling2d': UpSampling2D(interpolation='bilinear') is not trainable yet (use 'nearest')",
      "8:11 Dropout 'dropout': Dropout(noise_shape=…) must list one size per axis of (None, 24, 24, 4), each None, 1 or the axis' size",
      "9:11 the model's output is (None, 24, 24, 10): ConvLens trains classifiers whose output is one vector per sample (add Flatten() and Dense(classes))",
      "10:1 loss 'hinge' is not supported for training yet (use one of categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy, mean_squared_error, mean_absolute_error)",
      "10:25 optimizer 'ftrl' is not supported for training yet (use one of sgd, rmsprop, adam, adamw, adagrad, adamax, nadam)",
    ]);
  });

  it('refuses channels_first layers, frozen BatchNormalization, unknown shapes and several inputs', async () => {
    let r = await planOf(model("model.add(layers.Conv2D(4, 3, input_shape=(3, 16, 16), data_format='channels_first'))", 'model.add(layers.Flatten())', 'model.add(layers.Dense(2))'));
    assert.match(r.problems[0].message, /data_format='channels_first' is not supported for training yet/);
    r = await planOf(model("model.add(layers.Dense(4, input_shape=(3,)))", 'model.add(layers.BatchNormalization(trainable=False))', 'model.add(layers.Dense(2))'));
    assert.match(r.problems[0].message, /frozen BatchNormalization/);
    r = await planOf(model('model.add(layers.Dense(4))', 'model.add(layers.Dense(2))'));
    assert.match(r.problems[0].message, /no complete input shape/);
    const twoInputs = ['from tensorflow import keras', 'a = keras.Input(shape=(4,))', 'b = keras.Input(shape=(4,))', 'outputs = keras.layers.Dense(2)(keras.layers.add([a, b]))', 'model = keras.Model([a, b], outputs)', ''].join('\n');
    r = await planOf(twoInputs);
    assert.match(r.problems[0].message, /has 2 inputs and 1 outputs: ConvLens trains models with one input and one output/);
    assert.equal(r.problems[0].line, 5);
  });

  it('refuses the layers it cannot train yet with their reason, at their line', async () => {
    const r = await planOf(
      model(
        'model.add(layers.Embedding(100, 8, input_shape=(10,)))',
        'model.add(layers.Flatten())',
        'model.add(layers.Reshape((8, 10, 1)))',
        'model.add(layers.RandomCrop(6, 6))',
        'model.add(layers.Normalization())',
        'model.add(layers.LocallyConnected2D(2, 3, implementation=2))',
        "model.add(layers.Conv2DTranspose(2, 4, strides=2, padding='same', output_padding=0))",
        'model.add(layers.ActivityRegularization(l2=0.01))',
        'model.add(layers.AdaptiveAveragePooling2D(4))',
        'model.add(layers.Flatten())',
        "model.add(layers.Dense(3, activation='softmax'))",
      ),
    );
    assert.deepEqual(
      r.problems.map((p) => `${p.line}: ${p.message}`),
      [
        "4: Embedding 'embedding': Embedding reads integer token ids; ConvLens trains on image data (float pixels) and cannot feed it token ids yet",
        "7: RandomCrop 'random_crop': RandomCrop is not trainable yet: Keras crops at a random place while training and differently at inference (Keras 3 does not crop there); use CenterCrop, or crop the data beforehand",
        "8: Normalization 'normalization': without mean= and variance= the statistics come from adapt() on the data, which ConvLens does not run yet: pass mean= and variance= to train this model",
        "9: LocallyConnected2D 'locally_connected2d': implementation=2 stores the kernel as a masked dense matrix, which is not trainable yet (use implementation=1)",
        // (4 − 1)·2 + 4 − 2·2 + 0 = 6, but the 'same' convolution from 6 back gives ⌈6/2⌉ = 3, not 4: TensorFlow rejects it.
        "10: Conv2DTranspose 'conv2d_transpose': output_padding=(0, 0) gives a 6×6 output that the convolution it transposes does not map back to 4×4; ConvLens cannot reproduce Keras' padding for it",
        "11: ActivityRegularization 'activity_regularization': ActivityRegularization(l1=0, l2=0.01) adds a penalty to the loss, which ConvLens' trainer does not add yet",
        "12: AdaptiveAveragePooling2D 'adaptive_average_pooling2d': AdaptiveAveragePooling2D from 6×6 to 4×4 uses windows of unequal sizes, which is not trainable yet (make output_size divide the input size)",
      ],
    );
  });

  it('trains through the random augmentations it does not reproduce, and says so before training, at their line', async () => {
    const r = await planOf(
      model(
        'model.add(layers.InputLayer(shape=(8, 8, 1)))',
        "model.add(layers.RandomFlip('horizontal'))",
        'model.add(layers.RandomRotation(0.1))',
        'model.add(layers.RandomZoom(0.2))',
        'model.add(layers.Flatten())',
        "model.add(layers.Dense(3, activation='softmax'))",
        "model.compile(optimizer='adam', loss='categorical_crossentropy')",
      ),
    );
    assert.deepEqual(r.problems, []);
    assert.ok(r.plan);
    const notes = r.notes.filter((n) => /augment|passes images/.test(n));
    assert.deepEqual(notes, [
      "line 6: RandomRotation 'random_rotation': passes images through unchanged while training: ConvLens does not reproduce Keras' random rotations yet, so the model sees less varied data than under Keras (inference is the same: Keras does not augment there either)",
      "line 7: RandomZoom 'random_zoom': passes images through unchanged while training: ConvLens does not reproduce Keras' random zooms yet, so the model sees less varied data than under Keras (inference is the same: Keras does not augment there either)",
    ]);
  });

  it('a nested model trains inlined; a frozen keras.applications base that expects imagenet weights is refused, saying why', async () => {
    const head = (base: string, freeze: string) => `from tensorflow import keras\nfrom tensorflow.keras import layers\nbase = ${base}\n${freeze}\nmodel = keras.Sequential([base, layers.Flatten(), layers.Dense(2, activation="softmax")])\nmodel.compile(optimizer="adam", loss="sparse_categorical_crossentropy")\n`;
    let r = await planOf(head('keras.applications.VGG16(include_top=False, input_shape=(32, 32, 3))', 'base.trainable = False'));
    assert.match(r.problems[0].message, /vgg16 is frozen \(trainable=False\) to keep its 'imagenet' weights, which ConvLens cannot download/);
    r = await planOf(head('keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))', 'base.trainable = False'));
    assert.deepEqual(r.problems, []);
    // VGG16's 13 convolutions then Flatten and Dense, in one plan; the base's weights frozen.
    assert.equal(r.plan!.layers.filter((l) => l.className === 'Conv2D').length, 13);
    assert.ok(r.plan!.layers.filter((l) => l.name.startsWith('block')).flatMap((l) => l.weights).every((w) => !w.trainable));
    r = await planOf(head('keras.applications.VGG16(include_top=False, input_shape=(32, 32, 3))', ''));
    assert.deepEqual(r.problems, []);
    assert.match(r.notes.join('\n'), /vgg16's 'imagenet' weights cannot be downloaded; ConvLens trains it from random initial weights/);
  });

  it('every registry layer has training emitters, except the ones refused by name', () => {
    const notYet = new Set(['InputLayer', 'Resizing']);
    for (const def of LAYERS) {
      if (def.untrainable) assert.equal(def.declares.train, false, `${def.name} has emitters and an untrainable reason`);
      else if (notYet.has(def.name)) assert.equal(def.declares.train, false, `${def.name} gained emitters: take it off the not-yet list`);
      else {
        assert.ok(def.declares.train, `${def.name} has no training emitters (add train: { forward, backward } beside its shape rule)`);
        const train = def.bind({}).train!;
        assert.equal(typeof train.forward, 'function');
        assert.equal(typeof train.backward, 'function');
      }
    }
  });
});

describe('initializers', () => {
  it("computes fans as Keras' compute_fans on Keras layouts", () => {
    assert.deepEqual(computeFans([5, 5, 1, 10]), { fanIn: 25, fanOut: 250 });
    assert.deepEqual(computeFans([320, 100]), { fanIn: 320, fanOut: 100 });
    assert.deepEqual(computeFans([7]), { fanIn: 7, fanOut: 7 });
  });

  it('draws glorot_uniform within its limit, he_normal with its variance, the same values for the same seed', () => {
    const g = initialize('glorot_uniform', [320, 100], 1);
    const limit = Math.sqrt(6 / 420);
    assert.ok(g.every((v) => Math.abs(v) <= limit));
    assert.ok(Math.max(...g) > 0.95 * limit);
    assert.deepEqual(initialize('glorot_uniform', [320, 100], 1), g);
    assert.notDeepEqual(initialize('glorot_uniform', [320, 100], 2), g);
    const h = initialize('he_normal', [3, 3, 64, 64], 3);
    const std = Math.sqrt(h.reduce((a, v) => a + v * v, 0) / h.length);
    assert.ok(Math.abs(std - Math.sqrt(2 / 576)) < 0.03 * Math.sqrt(2 / 576), `he_normal std ${std}`);
    assert.ok(h.every((v) => Math.abs(v) <= 2 * (Math.sqrt(2 / 576) / 0.8796256610342398) + 1e-7), 'truncated at two standard deviations');
    assert.ok(initialize('zeros', [4], 1).every((v) => v === 0));
    assert.ok(initialize('ones', [4], 1).every((v) => v === 1));
  });
});
