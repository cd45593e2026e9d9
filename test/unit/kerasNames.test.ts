/** Keras' name rule as an editor diagnostic: a '/' in a layer's or model's name= is an error at the string. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kerasNameProblem } from '../../src/core/kerasNames';
import { analyze, covered } from './helpers';

describe("Keras' name rule", () => {
  it("refuses '/' as Keras 3 does (keras/src/ops/operation.py), and nothing else", () => {
    assert.match(kerasNameProblem('x/../../tmp/escaped')!, /a layer or model name cannot contain '\/' \(Keras raises ValueError\)/);
    for (const ok of ['conv_1', 'my model', '..', 'ünï', '']) assert.equal(kerasNameProblem(ok), undefined, ok);
  });

  it('reports the model and the layer name at their strings; the model is still analysed', async () => {
    const text = [
      'from keras import layers, models',
      "model = models.Sequential(name='x/../../../../tmp/escaped')",
      "model.add(layers.Dense(10, input_shape=(4,), name='a/b'))",
      '',
    ].join('\n');
    const a = await analyze(text);
    const names = a.problems.filter((p) => p.code === 'keras-name');
    assert.deepEqual(names.map((p) => [p.severity, covered(text, p)]), [
      ['error', "'x/../../../../tmp/escaped'"],
      ['error', "'a/b'"],
    ]);
    assert.equal(a.models[0].layers[0].outputShape?.join(), '10');
  });
});
