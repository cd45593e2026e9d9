/**
 * Recurrent layers and the wrappers around them: ConvLSTM2D, LSTM, GRU, SimpleRNN,
 * TimeDistributed and Bidirectional, against a published table and Keras' weight shapes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyze, rows } from './helpers';

describe('recurrent layers', () => {
  it('the ConvLSTM video classifier: every row of its published tf.keras summary', async () => {
    // The widely copied UCF50 ConvLSTM model; its table as printed in harish-AK/Human-activity-
    // and-energy-emission-calculation README.md @ 0fea9c7c52 (tf.keras 2.13+ layout): 1024,
    // 3488, 11144, 17344, 144050; Total params: 177050. The layer stack is the one printed.
    const a = await analyze(
      [
        'from tensorflow.keras.models import Sequential',
        'from tensorflow.keras.layers import ConvLSTM2D, MaxPooling3D, TimeDistributed, Dropout, Flatten, Dense',
        'model = Sequential()',
        "model.add(ConvLSTM2D(filters=4, kernel_size=(3, 3), activation='tanh', data_format='channels_last', recurrent_dropout=0.2, return_sequences=True, input_shape=(20, 64, 64, 3)))",
        "model.add(MaxPooling3D(pool_size=(1, 2, 2), padding='same', data_format='channels_last'))",
        'model.add(TimeDistributed(Dropout(0.2)))',
        "model.add(ConvLSTM2D(filters=8, kernel_size=(3, 3), activation='tanh', data_format='channels_last', recurrent_dropout=0.2, return_sequences=True))",
        "model.add(MaxPooling3D(pool_size=(1, 2, 2), padding='same', data_format='channels_last'))",
        'model.add(TimeDistributed(Dropout(0.2)))',
        "model.add(ConvLSTM2D(filters=14, kernel_size=(3, 3), activation='tanh', data_format='channels_last', recurrent_dropout=0.2, return_sequences=True))",
        "model.add(MaxPooling3D(pool_size=(1, 2, 2), padding='same', data_format='channels_last'))",
        'model.add(TimeDistributed(Dropout(0.2)))',
        "model.add(ConvLSTM2D(filters=16, kernel_size=(3, 3), activation='tanh', data_format='channels_last', recurrent_dropout=0.2, return_sequences=True))",
        "model.add(MaxPooling3D(pool_size=(1, 2, 2), padding='same', data_format='channels_last'))",
        'model.add(Flatten())',
        "model.add(Dense(50, activation='softmax'))",
        '',
      ].join('\n'),
    );
    const m = a.models[0];
    assert.deepEqual(rows(m), [
      ['conv_lstm2d', 'ConvLSTM2D', '(None, 20, 62, 62, 4)', 1024],
      ['max_pooling3d', 'MaxPooling3D', '(None, 20, 31, 31, 4)', 0],
      ['time_distributed', 'TimeDistributed', '(None, 20, 31, 31, 4)', 0],
      ['conv_lstm2d_1', 'ConvLSTM2D', '(None, 20, 29, 29, 8)', 3488],
      ['max_pooling3d_1', 'MaxPooling3D', '(None, 20, 15, 15, 8)', 0],
      ['time_distributed_1', 'TimeDistributed', '(None, 20, 15, 15, 8)', 0],
      ['conv_lstm2d_2', 'ConvLSTM2D', '(None, 20, 13, 13, 14)', 11144],
      ['max_pooling3d_2', 'MaxPooling3D', '(None, 20, 7, 7, 14)', 0],
      ['time_distributed_2', 'TimeDistributed', '(None, 20, 7, 7, 14)', 0],
      ['conv_lstm2d_3', 'ConvLSTM2D', '(None, 20, 5, 5, 16)', 17344],
      ['max_pooling3d_3', 'MaxPooling3D', '(None, 20, 3, 3, 16)', 0],
      ['flatten', 'Flatten', '(None, 2880)', 0],
      ['dense', 'Dense', '(None, 50)', 144050],
    ]);
    assert.equal(m.totalParams, 177050);
  });

  it("LSTM, GRU (reset_after), SimpleRNN and Bidirectional: Keras' weight shapes", async () => {
    const a = await analyze(
      [
        'import keras',
        'from keras import layers',
        'model = keras.Sequential([keras.Input((100, 16)), layers.Bidirectional(layers.LSTM(64, return_sequences=True)), layers.GRU(32, return_sequences=True), layers.SimpleRNN(8), layers.Dense(1)])',
        '',
      ].join('\n'),
    );
    const m = a.models[0];
    assert.deepEqual(rows(m), [
      // 2 × 4·(64·(16 + 64) + 64)
      ['bidirectional', 'Bidirectional', '(None, 100, 128)', 41472],
      // 3·32·(128 + 32) + 2·3·32
      ['gru', 'GRU', '(None, 100, 32)', 15552],
      ['simple_rnn', 'SimpleRNN', '(None, 8)', 8 * (32 + 8) + 8],
      ['dense', 'Dense', '(None, 1)', 9],
    ]);
    assert.deepEqual(m.layers[1].weights.map((w) => [w.name, w.shape]), [['kernel', [128, 96]], ['recurrent_kernel', [32, 96]], ['bias', [2, 96]]]);
  });

  it('TimeDistributed runs the wrapped layer on each step, with its weights', async () => {
    const a = await analyze(
      [
        'from tensorflow import keras',
        'from tensorflow.keras import layers',
        'model = keras.Sequential([keras.Input((10, 32, 32, 3)), layers.TimeDistributed(layers.Conv2D(16, 3)), layers.TimeDistributed(layers.GlobalAveragePooling2D()), layers.LSTM(8)])',
        '',
      ].join('\n'),
    );
    assert.deepEqual(rows(a.models[0]), [
      ['time_distributed', 'TimeDistributed', '(None, 10, 30, 30, 16)', 448],
      ['time_distributed_1', 'TimeDistributed', '(None, 10, 16)', 0],
      ['lstm', 'LSTM', '(None, 8)', 4 * (8 * (16 + 8) + 8)],
    ]);
  });

  it('a layer ConvLens cannot follow inside TimeDistributed leaves the shapes unknown, said once', async () => {
    const a = await analyze(
      [
        'from tensorflow import keras',
        'from tensorflow.keras import layers',
        'from somewhere import MagicLayer',
        'model = keras.Sequential([keras.Input((10, 8)), layers.TimeDistributed(MagicLayer()), layers.Dense(2)])',
        '',
      ].join('\n'),
    );
    assert.equal(a.models[0].totalParams, null);
    assert.ok(!a.problems.some((p) => p.severity === 'error' && /TimeDistributed/.test(p.message) && !/does not know/.test(p.message)), JSON.stringify(a.problems));
  });
});
