/**
 * The training session's state stays put: each step overwrites the weight and slot buffers it
 * fed in. Checked against the same compiled graph run the plain way (state fed in, fresh output
 * tensors read back): every carried tensor must be bit-identical after several steps, for
 * layers whose backward pass reads their weights (Dense, Conv, BatchNormalization) and for
 * optimizers with and without slots. A misordered in-place write would show as a difference.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { compileTrainGraph, GRAPH_NAMES, initialState } from '../../src/core/train/compile';
import { planTraining, type TrainingPlan } from '../../src/core/train/plan';
import { mulberry32 } from '../../src/core/train/random';
import { sessionOptions, TrainSession } from '../../src/train/trainSession';
import { oneModel } from './helpers';

const MODEL = `
from tensorflow import keras
from keras import layers
model = keras.Sequential([
    keras.Input(shape=(10, 10, 3)),
    layers.Conv2D(8, 3, padding='same', activation='relu'),
    layers.BatchNormalization(),
    layers.Conv2D(16, 3, padding='same', activation='relu'),
    layers.MaxPooling2D(2),
    layers.Conv2D(4, 3, activation='relu', trainable=False),
    layers.Flatten(),
    layers.Dense(12, activation='relu'),
    layers.Dense(5, activation='softmax'),
])
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')
`;

async function planWith(optimizer: string): Promise<TrainingPlan> {
  const { model } = await oneModel(MODEL);
  const r = planTraining(model, MODEL, { optimizer, learningRate: 0.01, batchSize: 6 });
  assert.deepEqual(r.problems, []);
  return r.plan!;
}

function batches(plan: TrainingPlan, n: number): { x: Float32Array; y: BigInt64Array }[] {
  const rand = mulberry32(7);
  const per = plan.inputShape.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, () => ({
    x: Float32Array.from({ length: 6 * per }, () => rand()),
    y: BigInt64Array.from({ length: 6 }, () => BigInt(Math.floor(rand() * 5))),
  }));
}

describe('training session', () => {
  for (const optimizer of ['adam', 'sgd', 'rmsprop']) {
    it(`${optimizer}: stepping in place gives bit-identical state to fresh output tensors, frozen weights untouched`, async () => {
      const plan = await planWith(optimizer);
      const graph = compileTrainGraph(plan, { seed: 3 });
      const init = initialState(plan, 3);
      const data = batches(plan, 4);

      // The plain way: feed the state, read fresh outputs, carry them to the next step.
      const plain = await ort.InferenceSession.create(graph.bytes, sessionOptions(1));
      let state = new Map([...init].map(([k, v]) => [k, Float32Array.from(v)]));
      const plainLoss: number[] = [];
      for (const [i, b] of data.entries()) {
        const feeds: Record<string, ort.Tensor> = {
          [GRAPH_NAMES.x]: new ort.Tensor('float32', b.x, [6, ...plan.inputShape]),
          [GRAPH_NAMES.labels]: new ort.Tensor('int64', b.y, [6]),
          [GRAPH_NAMES.lr]: new ort.Tensor('float32', Float32Array.of(plan.optimizer.learningRate), []),
        };
        if (graph.usesStep) feeds[GRAPH_NAMES.step] = new ort.Tensor('float32', Float32Array.of(i + 1), []);
        for (const t of graph.carried) feeds[t.name] = new ort.Tensor('float32', state.get(t.name)!, t.shape);
        const out = await plain.run(feeds);
        plainLoss.push((out[GRAPH_NAMES.loss].data as Float32Array)[0]);
        state = new Map(graph.carried.map((t) => [t.name, Float32Array.from(out[t.next].data as Float32Array)]));
      }
      await plain.release();

      const session = await TrainSession.create(graph, plan.inputShape, init, { threads: 1 });
      try {
        const frozen = graph.carried.filter((t) => !t.updated).map((t) => t.name);
        assert.deepEqual(frozen, ['conv2d_2/kernel', 'conv2d_2/bias'], 'the frozen layer passes through');
        const before = session.snapshot();
        const buffers = new Map(session.state);
        for (const [i, b] of data.entries()) {
          const r = await session.step(b.x, b.y, 6, plan.optimizer.learningRate, i + 1);
          assert.equal(r.loss, plainLoss[i], `step ${i + 1} loss`);
        }
        for (const t of graph.carried) {
          assert.equal(session.state.get(t.name), buffers.get(t.name), `${t.name}: the same buffer all along`);
          assert.deepEqual(session.state.get(t.name), state.get(t.name), `${t.name} after ${data.length} steps`);
        }
        for (const name of frozen) assert.deepEqual(session.state.get(name), before.get(name));
        assert.notDeepEqual(session.state.get('dense/kernel'), before.get('dense/kernel'), 'snapshot() is a copy');
      } finally {
        await session.release();
      }
    });
  }

  it('refuses state of the wrong size, naming the tensor', async () => {
    const plan = await planWith('sgd');
    const graph = compileTrainGraph(plan, { seed: 1 });
    const init = initialState(plan, 1);
    init.set('dense/bias', new Float32Array(3));
    await assert.rejects(TrainSession.create(graph, plan.inputShape, init), /'dense\/bias' has 3 values, expected 12 for shape \(12\)/);
    const session = await TrainSession.create(graph, plan.inputShape, initialState(plan, 1));
    try {
      assert.throws(() => session.load(new Map([['dense/kernel', new Float32Array(2)]])), /'dense\/kernel' has 2 values, expected 432/);
      assert.throws(() => session.load(new Map([['nope', new Float32Array(2)]])), /'nope' is not part of this training state/);
    } finally {
      await session.release();
    }
  });
});
