/** The Train Model command's decisions: what to ask, which defaults, where outputs go. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dataFitsModel, runDefaults, trainingQuestions } from '../../src/core/trainFlow';
import { analyze, readFixture } from './helpers';

describe('Train Model command flow', () => {
  it('asks only for the data when fit() gives epochs and batch size (seed 001)', async () => {
    const m = (await analyze(readFixture('seeds', '001_mnist_cnn.py'))).models[0];
    assert.deepEqual(trainingQuestions(m.fit), ['data']);
    assert.deepEqual(runDefaults(m.fit), { epochs: 50, batchSize: 128 });
  });
  it('asks for epochs and batch size when the file has no fit(), unless a previous run chose them', async () => {
    const m = (await analyze(readFixture('seeds', '002_conv_arithmetic.py'))).models[0];
    assert.deepEqual(trainingQuestions(m.fit), ['data', 'epochs', 'batchSize']);
    const remembered = { data: 'synthetic', dataLabel: 'synthetic', epochs: 3, batchSize: 64 };
    assert.deepEqual(trainingQuestions(m.fit, remembered), ['data']);
    assert.deepEqual(runDefaults(m.fit, remembered), { epochs: 3, batchSize: 64 });
    assert.deepEqual(runDefaults(undefined), { epochs: 1, batchSize: 32 });
  });
  it('says when the data does not fit the model', () => {
    assert.equal(dataFitsModel([28, 28, 1], [28, 28, 1]), undefined);
    assert.match(dataFitsModel([32, 32, 3], [28, 28, 1])!, /the data's images are \(32, 32, 3\) but the model's input is \(28, 28, 1\)/);
  });
});
