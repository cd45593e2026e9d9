/**
 * The training loop in-process (the trainer process runs the same function): determinism,
 * resume, divergence, cancellation, and that the exported inference model and the activations
 * graph agree with the evaluation graph.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { Message } from '../../src/core/protocol/messages';
import { TrainingEpoch, TrainingProgress, TrainingStarted, type TrainingEpochParams } from '../../src/core/protocol/training';
import { compileActivationsGraph, compileEvalGraph, compileInferenceGraph, GRAPH_NAMES, initialState } from '../../src/core/train/compile';
import { planTraining, planWeights, type PlanOverrides, type TrainingPlan } from '../../src/core/train/plan';
import { readCheckpointFile } from '../../src/train/checkpointFile';
import { syntheticDigits, type Dataset } from '../../src/train/datasets/index';
import { runTraining } from '../../src/train/trainer';
import { oneModel, readFixture } from './helpers';

let digits: Dataset;
const tmp = () => mkdtempSync(path.join(tmpdir(), 'convlens-trainer-'));

async function planFor(text: string, overrides: PlanOverrides): Promise<TrainingPlan> {
  const { model } = await oneModel(text);
  const r = planTraining(model, text, overrides);
  assert.deepEqual(r.problems, []);
  return r.plan!;
}

const mnist = () => planFor(readFixture('seeds', '001_mnist_cnn.py'), { optimizer: 'adam', learningRate: 0.002, batchSize: 50, epochs: 2 });

async function train(plan: TrainingPlan, extra: Partial<Parameters<typeof runTraining>[0]> = {}, cancelAfter?: number) {
  const messages: Message[] = [];
  let progress = 0;
  const done = await runTraining(
    { plan, data: 'synthetic', dataset: digits, seed: 5, threads: 1, ...extra },
    {
      emit: (m) => {
        messages.push(m);
        if (TrainingProgress.is(m)) progress++;
      },
      cancelled: () => cancelAfter !== undefined && progress >= cancelAfter,
    },
  );
  return { done, messages, progress };
}

describe('trainer', () => {
  before(() => {
    digits = syntheticDigits({ train: 1000, test: 300, seed: 3 });
  });

  it('trains the seed MNIST model, reports per batch and per epoch, checkpoints the best epoch, evaluates and exports the last', async () => {
    const dir = tmp();
    const plan = await mnist();
    const { done, messages } = await train(plan, { checkpoint: path.join(dir, 'best.ckpt'), exportPath: path.join(dir, 'model.onnx') });
    assert.equal(done.reason, 'completed', done.message);
    const started = messages.find((m) => TrainingStarted.is(m));
    assert.ok(started && TrainingStarted.is(started));
    // The seed validates on the last 10,000 of a permutation of 60,000: the same fraction of these 1,000.
    assert.deepEqual(started.params.dataset, { name: 'synthetic digits (seed 3)', shape: [28, 28, 1], numClasses: 10, train: 833, validation: 167, test: 300 });
    assert.equal(started.params.stepsPerEpoch, 17);
    const progress = messages.filter((m) => TrainingProgress.is(m));
    assert.equal(progress.length, 34, 'one progress message per batch');
    const epochs = messages.filter((m): m is Message<TrainingEpochParams> => TrainingEpoch.is(m)).map((m) => m.params);
    assert.deepEqual(epochs.map((e) => e.epoch), [1, 2]);
    assert.ok(epochs[1].loss < epochs[0].loss, 'loss falls');
    assert.ok(epochs.every((e) => e.val_loss !== undefined && e.val_accuracy !== undefined && e.seconds > 0 && e.msPerStep > 0));
    assert.ok(done.test && done.test.count === 300 && done.test.accuracy > 0.5, JSON.stringify(done.test));
    const ckpt = readCheckpointFile(path.join(dir, 'best.ckpt'));
    assert.equal(ckpt.header.epoch, done.best!.epoch);
    assert.equal(ckpt.header.monitor, 'val_loss');
    assert.ok(ckpt.tensors.has('conv2d/kernel.momentum') && ckpt.tensors.has('conv2d/kernel.velocity'), 'Adam state is saved for resuming');

    // The exported model (the last epoch's weights; here also the best) gives the evaluation graph's predictions.
    assert.equal(done.best!.epoch, 2);
    const weights = new Map(planWeights(plan).map((w) => [w.name, ckpt.tensors.get(w.name)!.data]));
    const exported = await ort.InferenceSession.create(readFileSync(path.join(dir, 'model.onnx')));
    const evalGraph = await ort.InferenceSession.create(compileEvalGraph(plan).bytes);
    const n = 16;
    const x = new ort.Tensor('float32', digits.test!.x.subarray(0, n * 784), [n, 28, 28, 1]);
    const feeds: Record<string, ort.Tensor> = { [GRAPH_NAMES.x]: x, [GRAPH_NAMES.labels]: new ort.Tensor('int64', new BigInt64Array(n), [n]) };
    for (const w of planWeights(plan)) feeds[w.name] = new ort.Tensor('float32', weights.get(w.name)!, w.shape);
    const a = (await exported.run({ [GRAPH_NAMES.input]: x }))[GRAPH_NAMES.output];
    const b = (await evalGraph.run(feeds))[GRAPH_NAMES.output];
    assert.deepEqual(a.dims, [n, 10]);
    // Baked-in weights let onnxruntime fold constants and fuse differently: equal to float32 rounding.
    const ad = a.data as Float32Array;
    const bd = b.data as Float32Array;
    const worst = ad.reduce((m, v, i) => Math.max(m, Math.abs(v - bd[i])), 0);
    assert.ok(worst < 1e-5, `largest difference ${worst}`);
    const rowSum = Array.from((a.data as Float32Array).subarray(0, 10)).reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(rowSum - 1) < 1e-5, 'softmax probabilities');
  });

  it('is deterministic for a seed, and resuming from a checkpoint continues exactly where it stopped', async () => {
    const dir = tmp();
    const plan = await mnist();
    const full = await train(plan, { exportPath: path.join(dir, 'full.onnx') });
    const again = await train(plan, { exportPath: path.join(dir, 'again.onnx') });
    assert.equal(full.done.reason, 'completed');
    assert.deepEqual(again.done.test, full.done.test);
    assert.deepEqual(readFileSync(path.join(dir, 'again.onnx')), readFileSync(path.join(dir, 'full.onnx')), 'same seed, same weights');
    // One epoch, then the second from its checkpoint: the same weights as two epochs in one run.
    const ckpt = path.join(dir, 'one.ckpt');
    const first = await train({ ...plan, epochs: 1 }, { checkpoint: ckpt });
    assert.equal(first.done.reason, 'completed');
    const resumed = await train(plan, { resume: ckpt, checkpoint: ckpt, exportPath: path.join(dir, 'resumed.onnx') });
    assert.equal(resumed.done.reason, 'completed', resumed.done.message);
    assert.deepEqual(resumed.messages.filter((m) => TrainingEpoch.is(m)).map((m) => (m.params as TrainingEpochParams).epoch), [2]);
    assert.deepEqual(readFileSync(path.join(dir, 'resumed.onnx')), readFileSync(path.join(dir, 'full.onnx')), 'resumed = uninterrupted');
    const otherSeed = await runTraining({ plan, data: 'synthetic', dataset: digits, seed: 6, threads: 1, exportPath: path.join(dir, 'other.onnx') }, { emit: () => {}, cancelled: () => false });
    assert.equal(otherSeed.reason, 'completed');
    assert.notDeepEqual(readFileSync(path.join(dir, 'other.onnx')), readFileSync(path.join(dir, 'full.onnx')));
  });

  it('refuses a checkpoint of another model', async () => {
    const dir = tmp();
    const plan = await mnist();
    await train({ ...plan, epochs: 1 }, { checkpoint: path.join(dir, 'a.ckpt') });
    const other = await planFor(
      ['from keras import layers, models', 'model = models.Sequential()', "model.add(layers.Flatten(input_shape=(28, 28, 1)))", "model.add(layers.Dense(10, activation='softmax'))", "model.compile('sgd', 'categorical_crossentropy')", ''].join('\n'),
      {},
    );
    const r = await train(other, { resume: path.join(dir, 'a.ckpt') });
    assert.equal(r.done.reason, 'failed');
    assert.equal(r.done.errorKind, 'checkpoint');
    assert.match(r.done.message!, /a\.ckpt cannot be resumed: it was trained with another architecture of 'sequential' than the file builds now:\n {2}- layer 'conv2d' \(Conv2D\) is in the checkpoint but not in the file\n/);
    assert.match(r.done.message!, /- layer 'dense' has weights kernel 320×100, bias 100 in the checkpoint, kernel 784×10, bias 10 in the file/);
  });

  it('stops with a clear message when the loss becomes NaN or infinite, keeping the best checkpoint as it was', async () => {
    const dir = tmp();
    const ckpt = path.join(dir, 'best.ckpt');
    const good = await train({ ...(await mnist()), epochs: 1 }, { checkpoint: ckpt });
    assert.equal(good.done.reason, 'completed');
    const before = readFileSync(ckpt);
    const plan = await planFor(readFixture('seeds', '001_mnist_cnn.py'), { optimizer: 'sgd', learningRate: 1e4, batchSize: 50, epochs: 3 });
    const r = await train(plan, { resume: ckpt, checkpoint: ckpt });
    assert.equal(r.done.reason, 'diverged');
    assert.match(r.done.message!, /^the loss became (NaN|Infinity|-Infinity) at epoch 2, batch \d+: training stopped\. The learning rate \(10,000\) may be too high for this model and data \(the data itself holds no NaN\); the best checkpoint \(epoch 1\) is kept$/);
    assert.equal(r.done.best?.epoch, 1);
    assert.deepEqual(readFileSync(ckpt), before, 'the checkpoint is untouched');
  });

  it('cancels within one step', async () => {
    const plan = await mnist();
    const r = await train(plan, {}, 3);
    assert.equal(r.done.reason, 'cancelled');
    assert.equal(r.progress, 3, 'no step after the cancel');
    assert.equal(r.done.epochs, 0);
  });

  it('trains BatchNormalization, Dropout and a 1-D stack: the loss falls, moving statistics move', async () => {
    const dir = tmp();
    const text = [
      'from keras import layers, models',
      'model = models.Sequential()',
      "model.add(layers.Conv2D(8, 3, strides=2, padding='same', use_bias=False, input_shape=(28, 28, 1)))",
      'model.add(layers.BatchNormalization())',
      "model.add(layers.Activation('relu'))",
      'model.add(layers.Reshape((196, 8)))',
      "model.add(layers.Conv1D(8, 5, strides=4, activation='relu'))",
      'model.add(layers.GlobalMaxPooling1D())',
      'model.add(layers.Dropout(0.2))',
      "model.add(layers.Dense(10, activation='softmax'))",
      "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])",
      'model.fit(x, y, epochs=3, batch_size=32, validation_split=0.1)',
      '',
    ].join('\n');
    const plan = await planFor(text, {});
    const { done, messages } = await train(plan, { checkpoint: path.join(dir, 'bn.ckpt') });
    assert.equal(done.reason, 'completed', done.message);
    const epochs = messages.filter((m) => TrainingEpoch.is(m)).map((m) => m.params as TrainingEpochParams);
    assert.ok(epochs[2].loss < epochs[0].loss);
    const ckpt = readCheckpointFile(path.join(dir, 'bn.ckpt'));
    const mean = ckpt.tensors.get('batch_normalization/moving_mean')!.data;
    assert.ok(mean.some((v) => v !== 0), 'moving mean updated');
    assert.ok(!ckpt.tensors.has('batch_normalization/moving_mean.momentum'), 'no optimizer state for moving statistics');
  });
});

describe('activations graph', () => {
  it("outputs every layer's activation in Keras layout; the last one is the model output", async () => {
    const plan = await mnist();
    const weights = initialState(plan, 1);
    const g = compileActivationsGraph(plan, weights);
    assert.deepEqual(
      g.outputs.map((o) => `${o.layer} ${o.shape.join('x')}`),
      ['conv2d 24x24x10', 'max_pooling2d 12x12x10', 'conv2d_1 8x8x20', 'max_pooling2d_1 4x4x20', 'flatten 320', 'dense 100', 'dense_1 10'],
    );
    const s = await ort.InferenceSession.create(g.bytes);
    const x = new ort.Tensor('float32', syntheticDigits({ train: 2, test: 0 }).train.x, [2, 28, 28, 1]);
    const out = await s.run({ [GRAPH_NAMES.input]: x });
    assert.deepEqual(out['act:conv2d'].dims, [2, 24, 24, 10]);
    const inference = await ort.InferenceSession.create(compileInferenceGraph(plan, weights));
    const y = (await inference.run({ [GRAPH_NAMES.input]: x }))[GRAPH_NAMES.output];
    assert.deepEqual(Array.from(out['act:dense_1'].data as Float32Array), Array.from(y.data as Float32Array));
    // Flatten's output is the pooled map in Keras' (H, W, C) order.
    assert.deepEqual(Array.from((out['act:flatten'].data as Float32Array).subarray(0, 320)), Array.from((out['act:max_pooling2d_1'].data as Float32Array).subarray(0, 320)));
  });
  it('of a residual network: every call in execution order, each with the calls it reads (its branch)', async () => {
    const plan = await planFor(readFixture('graphs', 'residual_digits.py'), {});
    const g = compileActivationsGraph(plan, initialState(plan, 1));
    const add = g.outputs.find((o) => o.layer === 'add')!;
    assert.deepEqual(add.inputs, ['batch_normalization_1', 'conv2d']);
    const projection = g.outputs.find((o) => o.layer === 'conv2d_5')!;
    assert.deepEqual([projection.inputs, projection.shape], [['activation_1'], [7, 7, 32]]);
    assert.equal(g.outputs.length, plan.layers.length);
    const s = await ort.InferenceSession.create(g.bytes);
    const out = await s.run({ [GRAPH_NAMES.input]: new ort.Tensor('float32', new Float32Array(28 * 28), [1, 28, 28, 1]) });
    assert.deepEqual(out['act:add_1'].dims, [1, 7, 7, 32]);
  });
});
