/**
 * Arithmetic on symbolic tensors (`x * 0.5`, `1.0 - x`, `x / 4`) is trained as the arithmetic it
 * is. Keras 3's summary shows these nodes under its op names (`multiply`, `Multiply`), and the
 * plan used to look the layer up by that name: `x * 0.5` trained as a one-input Multiply merge,
 * i.e. the identity, and `x / 4` was refused as an unknown layer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { compileInferenceGraph, initialState } from '../../src/core/train/compile';
import { planTraining } from '../../src/core/train/plan';
import { oneModel } from './helpers';

const SOURCE = `import keras
from keras import layers
inputs = keras.Input(shape=(3,))
x = inputs * 0.5
x = x + 1.0
x = 1.0 - x
x = x / 4.0
outputs = layers.Dense(2, activation="softmax")(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
`;

describe('arithmetic on tensors in a functional model', () => {
  it('trains as the arithmetic: ((1 − (0.5·x + 1)) / 4) through Dense, not as the identity', async () => {
    const { model } = await oneModel(SOURCE);
    assert.deepEqual(
      model.layers.filter((l) => !l.isInput).map((l) => `${l.className}/${l.typeName ?? '-'}`),
      // `x / 4.0` is KerasTensor.__truediv__ → ops.TrueDivide (keras/src/backend/common/keras_tensor.py).
      ['Multiply/ScalarOp', 'Add/ScalarOp', 'Subtract/ScalarOp', 'TrueDivide/ScalarOp', 'Dense/-'],
      'Keras 3 names the rows after its ops; the registry computes them with ScalarOp',
    );
    const r = planTraining(model, SOURCE);
    assert.deepEqual(r.problems, []);
    const plan = r.plan!;
    assert.deepEqual(plan.layers.map((l) => l.className), ['ScalarOp', 'ScalarOp', 'ScalarOp', 'ScalarOp', 'Dense']);
    const weights = initialState(plan, 7);
    const session = await ort.InferenceSession.create(compileInferenceGraph(plan, weights));
    const x = Float32Array.from([0.3, -1.2, 2.5]);
    const out = (await session.run({ input: new ort.Tensor('float32', x, [1, 3]) })).output.data as Float32Array;
    await session.release();
    const h = Array.from(x, (v) => (1 - (v * 0.5 + 1)) / 4);
    const kernel = weights.get(plan.layers[4].weights[0].name)!;
    const logits = [0, 1].map((j) => h.reduce((s, v, i) => s + v * kernel[i * 2 + j], 0));
    const e = logits.map((z) => Math.exp(z - Math.max(...logits)));
    const expected = e.map((v) => v / (e[0] + e[1]));
    out.forEach((v, j) => assert.ok(Math.abs(v - expected[j]) < 1e-6, `output ${j}: ${v} vs ${expected[j]}`));
  });
});
