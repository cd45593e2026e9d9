/**
 * Every Keras model in ../shared/seeds is a fixture whose printed model.summary() numbers must
 * match exactly. Where a printed table disagrees with its own code, the code wins; each such
 * place is named below with the reason.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyze, readFixture, rows } from './helpers';

describe('seed 000: CIFAR-10 CNN (printed table matches the code)', () => {
  it('matches every row and the totals of the printed summary', async () => {
    const a = await analyze(readFixture('seeds', '000_cifar10_cnn.py'));
    assert.equal(a.models.length, 1);
    const m = a.models[0];
    assert.equal(m.name, 'sequential');
    assert.deepEqual(rows(m), [
      ['conv2d', 'Conv2D', '(None, 32, 32, 16)', 208],
      ['max_pooling2d', 'MaxPooling2D', '(None, 16, 16, 16)', 0],
      ['conv2d_1', 'Conv2D', '(None, 16, 16, 32)', 2080],
      ['max_pooling2d_1', 'MaxPooling2D', '(None, 8, 8, 32)', 0],
      ['conv2d_2', 'Conv2D', '(None, 8, 8, 64)', 8256],
      ['max_pooling2d_2', 'MaxPooling2D', '(None, 4, 4, 64)', 0],
      ['dropout', 'Dropout', '(None, 4, 4, 64)', 0],
      ['flatten', 'Flatten', '(None, 1024)', 0],
      ['dense', 'Dense', '(None, 500)', 512500],
      ['dropout_1', 'Dropout', '(None, 500)', 0],
      ['dense_1', 'Dense', '(None, 10)', 5010],
    ]);
    assert.equal(m.totalParams, 528054);
    assert.equal(m.trainableParams, 528054);
    assert.equal(m.nonTrainableParams, 0);
    assert.deepEqual(a.problems, []);
  });

  it('reads compile() and fit() for the trainer', async () => {
    const m = (await analyze(readFixture('seeds', '000_cifar10_cnn.py'))).models[0];
    assert.equal(m.compile?.optimizer?.name, 'rmsprop');
    assert.equal(m.compile?.loss, 'categorical_crossentropy');
    assert.deepEqual(m.compile?.metrics, ['accuracy']);
    assert.equal(m.fit?.batchSize, 32);
    assert.equal(m.fit?.epochs, 5);
    assert.equal(m.fit?.hasValidationData, true);
    assert.equal(m.fit?.shuffle, true);
  });
});

describe('seed 001: MNIST CNN', () => {
  // The printed table says conv2d_1, max_pooling2d_1, …, dense_2: Keras before 2.2.5 numbered
  // layers from 1. The code, run by today's Keras (2.3+ and 3), names the first layer of each
  // kind without a suffix: conv2d, conv2d_1. The code wins; every number matches the table.
  it('matches the printed shapes and parameters (names as current Keras gives them)', async () => {
    const a = await analyze(readFixture('seeds', '001_mnist_cnn.py'));
    const m = a.models[0];
    assert.deepEqual(rows(m), [
      ['conv2d', 'Conv2D', '(None, 24, 24, 10)', 260],
      ['max_pooling2d', 'MaxPooling2D', '(None, 12, 12, 10)', 0],
      ['conv2d_1', 'Conv2D', '(None, 8, 8, 20)', 5020],
      ['max_pooling2d_1', 'MaxPooling2D', '(None, 4, 4, 20)', 0],
      ['flatten', 'Flatten', '(None, 320)', 0],
      ['dense', 'Dense', '(None, 100)', 32100],
      ['dense_1', 'Dense', '(None, 10)', 1010],
    ]);
    assert.equal(m.totalParams, 38390);
    assert.equal(m.trainableParams, 38390);
    assert.equal(m.nonTrainableParams, 0);
    assert.deepEqual(a.problems, []);
  });

  it("computes the lecture's hand counts: 250 + 5000 + 32000 weights without the intercepts", async () => {
    const m = (await analyze(readFixture('seeds', '001_mnist_cnn.py'))).models[0];
    const kernels = m.layers.flatMap((l) => l.weights.filter((w) => w.name === 'kernel').map((w) => w.shape.reduce<number>((p, d) => p * (d as number), 1)));
    assert.deepEqual(kernels, [250, 5000, 32000, 1000]);
  });

  it("reads the optimizer with Keras 2's lr= spelling", async () => {
    const m = (await analyze(readFixture('seeds', '001_mnist_cnn.py'))).models[0];
    assert.equal(m.compile?.optimizer?.name, 'RMSprop');
    const lr = m.compile?.optimizer?.args.get('lr');
    assert.deepEqual(lr, { k: 'num', v: 0.0001, float: true });
    assert.equal(m.fit?.batchSize, 128);
    assert.equal(m.fit?.epochs, 50);
  });
});

describe('seed 002: the network described in prose', () => {
  it('reproduces 37x37x10 → 17x17x20 → 7x7x40 → 1960 values', async () => {
    const m = (await analyze(readFixture('seeds', '002_conv_arithmetic.py'))).models[0];
    assert.deepEqual(
      m.layers.map((l) => l.outputShape),
      [
        [37, 37, 10],
        [17, 17, 20],
        [7, 7, 40],
        [1960],
        [10],
      ],
    );
  });
});

describe('seed 003: the Keras Conv1D/Conv2D documentation examples', () => {
  it('Conv1D keeps 10 steps with padding=same: (None, 10, 64) then (None, 10, 32)', async () => {
    const a = await analyze(readFixture('seeds', '003_keras_conv_docs.py'));
    assert.equal(a.models.length, 2);
    assert.deepEqual(rows(a.models[0]), [
      ['conv1d', 'Conv1D', '(None, 10, 64)', 64 * (3 * 32) + 64],
      ['conv1d_1', 'Conv1D', '(None, 10, 32)', 32 * (3 * 64) + 32],
    ]);
  });

  // The comments say (None, 256, 256, 64) for input_shape=(3, 256, 256). Under Keras' default
  // data_format='channels_last' that input is 3 rows × 256 columns × 256 channels, so the code
  // gives (None, 3, 256, 64) (and channels_first would give (None, 64, 256, 256)): the comment
  // matches neither format. The code wins.
  it('Conv2D on input_shape=(3, 256, 256) is channels_last: (None, 3, 256, 64), not the comment', async () => {
    const m = (await analyze(readFixture('seeds', '003_keras_conv_docs.py'))).models[1];
    assert.deepEqual(rows(m), [
      ['conv2d', 'Conv2D', '(None, 3, 256, 64)', 64 * (3 * 3 * 256) + 64],
      ['conv2d_1', 'Conv2D', '(None, 3, 256, 32)', 32 * (3 * 3 * 64) + 32],
    ]);
  });
});

describe('seed 004: padding and strides', () => {
  // The printed tables come from a notebook whose earlier cells had already built models, so
  // they say sequential_2 / conv2d_4 … and, for the third model, conv2d again (kernel restarted).
  // Run as one file, Keras numbers the layers of the three models on from each other, as below.
  // The first printed table also stops at dense_2; the code adds Dense(10) after it (1,290
  // params, as in the other two tables). Every printed shape and parameter count matches.
  it('valid padding: 26 → 24 → 22, flatten 15488, dense 1,982,592', async () => {
    const m = (await analyze(readFixture('seeds', '004_padding_strides.py'))).models[0];
    assert.deepEqual(rows(m), [
      ['conv2d', 'Conv2D', '(None, 26, 26, 32)', 320],
      ['conv2d_1', 'Conv2D', '(None, 24, 24, 32)', 9248],
      ['conv2d_2', 'Conv2D', '(None, 22, 22, 32)', 9248],
      ['flatten', 'Flatten', '(None, 15488)', 0],
      ['dense', 'Dense', '(None, 128)', 1982592],
      ['dense_1', 'Dense', '(None, 10)', 1290],
    ]);
  });

  it("same padding keeps 28×28: flatten 25088, dense 3,211,392", async () => {
    const m = (await analyze(readFixture('seeds', '004_padding_strides.py'))).models[1];
    assert.equal(m.name, 'sequential_1');
    assert.deepEqual(rows(m), [
      ['conv2d_3', 'Conv2D', '(None, 28, 28, 32)', 320],
      ['conv2d_4', 'Conv2D', '(None, 28, 28, 32)', 9248],
      ['conv2d_5', 'Conv2D', '(None, 28, 28, 32)', 9248],
      ['flatten_1', 'Flatten', '(None, 25088)', 0],
      ['dense_2', 'Dense', '(None, 128)', 3211392],
      ['dense_3', 'Dense', '(None, 10)', 1290],
    ]);
  });

  it('strides 2 with same padding: 14 → 7 → 4 (⌊(7 + 2 − 3)/2⌋ + 1), flatten 512, dense 65,664', async () => {
    const m = (await analyze(readFixture('seeds', '004_padding_strides.py'))).models[2];
    assert.deepEqual(
      rows(m).map((r) => r.slice(1)),
      [
        ['Conv2D', '(None, 14, 14, 32)', 320],
        ['Conv2D', '(None, 7, 7, 32)', 9248],
        ['Conv2D', '(None, 4, 4, 32)', 9248],
        ['Flatten', '(None, 512)', 0],
        ['Dense', '(None, 128)', 65664],
        ['Dense', '(None, 10)', 1290],
      ],
    );
  });
});
