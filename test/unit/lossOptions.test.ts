/**
 * A loss's own arguments: Keras' `from_logits=True` and `label_smoothing=ε`, PyTorch's
 * `label_smoothing=ε` (core/train/losses.ts), read from the file and trained as the framework
 * computes them. The reference is the formula of each framework's loss in float64 (Keras'
 * losses.py and PyTorch's CrossEntropyLoss docs): for from_logits the softmax or sigmoid is taken
 * of the output itself; smoothing replaces the one-hot targets by (1 − ε)·y + ε/K (ε/2 for one
 * sigmoid output). The TensorFlow CNN tutorial (tensorflow/docs site/en/tutorials/images/cnn.ipynb,
 * copied in test/fixtures/notebooks) ends in Dense(10) and trains with
 * SparseCategoricalCrossentropy(from_logits=True): before this, ConvLens could not read that loss
 * and trained its logits as probabilities.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { readIpynb, notebookProgram } from '../../src/core/notebook';
import { compileInferenceGraph, compileTrainGraph, GRAPH_NAMES, initialState } from '../../src/core/train/compile';
import { planTraining, planWeights, type TrainingPlan } from '../../src/core/train/plan';
import { mulberry32 } from '../../src/core/train/random';
import { analyze, readFixture } from './helpers';

async function planOf(text: string, name?: string) {
  const a = await analyze(text);
  const m = name ? a.models.find((x) => x.name === name)! : a.models[a.models.length - 1];
  return planTraining(m, text, { epochs: 1, batchSize: 8 });
}

/** The train graph's loss at lr 0, and the inference graph's outputs on the same batch. */
async function lossAndOutputs(plan: TrainingPlan, seed = 3): Promise<{ loss: number; correct: number; out: Float32Array; labels: number[] }> {
  const n = 8;
  const rnd = mulberry32(seed);
  const per = plan.inputShape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: n * per }, () => rnd());
  const units = plan.outputShape[0];
  const labels = Array.from({ length: n }, (_, i) => (i * 7) % Math.max(units, 2));
  const state = initialState(plan, seed);
  const weights = new Map(planWeights(plan).map((w) => [w.name, state.get(w.name)!]));
  const inf = await ort.InferenceSession.create(compileInferenceGraph(plan, weights));
  const out = (await inf.run({ [GRAPH_NAMES.input]: new ort.Tensor('float32', x, [n, ...plan.inputShape]) }))[GRAPH_NAMES.output].data as Float32Array;
  const graph = compileTrainGraph(plan, { seed: 1 });
  const train = await ort.InferenceSession.create(graph.bytes);
  const feeds: Record<string, ort.Tensor> = {
    [GRAPH_NAMES.x]: new ort.Tensor('float32', x, [n, ...plan.inputShape]),
    [GRAPH_NAMES.labels]: new ort.Tensor('int64', BigInt64Array.from(labels.map(BigInt)), [n]),
    [GRAPH_NAMES.lr]: new ort.Tensor('float32', Float32Array.of(0), []),
  };
  if (graph.usesStep) feeds[GRAPH_NAMES.step] = new ort.Tensor('float32', Float32Array.of(1), []);
  for (const c of graph.carried) feeds[c.name] = new ort.Tensor('float32', state.get(c.name)!, c.shape);
  const r = await train.run(feeds);
  return { loss: (r[GRAPH_NAMES.loss].data as Float32Array)[0], correct: (r[GRAPH_NAMES.correct].data as Float32Array)[0], out, labels };
}

/** Mean over the batch of −Σ_k q_k·log softmax(z)_k, with q the (smoothed) one-hot targets. */
function softmaxCrossEntropy64(z: Float32Array, labels: number[], k: number, eps = 0): number {
  let total = 0;
  labels.forEach((y, i) => {
    const row = Array.from(z.subarray(i * k, (i + 1) * k));
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    row.forEach((v, j) => (total -= ((j === y ? 1 - eps : 0) + eps / k) * (v - lse)));
  });
  return total / labels.length;
}

/** Keras' categorical cross-entropy on probabilities: rescaled to sum 1, clipped to [1e-7, 1 − 1e-7]. */
function probabilityCrossEntropy64(p: Float32Array, labels: number[], k: number, eps = 0): number {
  let total = 0;
  labels.forEach((y, i) => {
    const row = Array.from(p.subarray(i * k, (i + 1) * k));
    const s = row.reduce((a, b) => a + b, 0);
    row.forEach((v, j) => (total -= ((j === y ? 1 - eps : 0) + eps / k) * Math.log(Math.min(Math.max(v / s, 1e-7), 1 - 1e-7))));
  });
  return total / labels.length;
}

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

describe('loss options: from_logits and label_smoothing', () => {
  it('the TensorFlow CNN tutorial: SparseCategoricalCrossentropy(from_logits=True) on its Dense(10) logits, as Keras computes it', async () => {
    const program = notebookProgram(readIpynb(readFixture('notebooks', 'tf_docs_cnn.ipynb')));
    const r = await planOf(program.text);
    assert.deepEqual(r.problems, []);
    const plan = r.plan!;
    assert.equal(plan.loss, 'sparse_categorical_crossentropy');
    assert.deepEqual(plan.lossOptions, { fromLogits: true });
    assert.ok(!r.notes.some((n) => /cannot read the loss/.test(n)), r.notes.join('\n'));
    const { loss, out, labels, correct } = await lossAndOutputs(plan);
    close(loss, softmaxCrossEntropy64(out, labels, 10), 'loss');
    // Not the loss of the logits taken as probabilities (what was trained before).
    assert.ok(Math.abs(loss - probabilityCrossEntropy64(out, labels, 10)) > 0.1);
    const argmax = labels.filter((y, i) => { const row = Array.from(out.subarray(i * 10, i * 10 + 10)); return row.indexOf(Math.max(...row)) === y; }).length;
    assert.equal(correct, argmax);
  });

  const model = (head: string, loss: string) => `import keras
from keras import layers
model = keras.Sequential([keras.Input((6, 6, 1)), layers.Conv2D(3, 3, activation="relu"), layers.Flatten(), ${head}])
model.compile(optimizer="sgd", loss=${loss})
`;

  it('CategoricalCrossentropy(label_smoothing=0.1) on a softmax: the smoothed targets, through the logits; positional from_logits read too', async () => {
    let r = await planOf(model('layers.Dense(4, activation="softmax")', 'keras.losses.CategoricalCrossentropy(label_smoothing=0.1)'));
    assert.deepEqual(r.plan!.lossOptions, { labelSmoothing: 0.1 });
    let o = await lossAndOutputs(r.plan!);
    close(o.loss, probabilityCrossEntropy64(o.out, o.labels, 4, 0.1), 'smoothed loss');
    r = await planOf(model('layers.Dense(4)', 'keras.losses.CategoricalCrossentropy(True, 0.2)'));
    assert.deepEqual(r.plan!.lossOptions, { fromLogits: true, labelSmoothing: 0.2 });
    o = await lossAndOutputs(r.plan!);
    close(o.loss, softmaxCrossEntropy64(o.out, o.labels, 4, 0.2), 'from logits, smoothed');
  });

  it('BinaryCrossentropy(from_logits=True, label_smoothing=0.2) on one output: sigmoid inside the loss, targets (1 − ε)·y + ε/2', async () => {
    const r = await planOf(model('layers.Dense(1)', 'keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.2)'));
    assert.deepEqual(r.plan!.lossOptions, { fromLogits: true, labelSmoothing: 0.2 });
    const o = await lossAndOutputs(r.plan!);
    let ref = 0;
    o.labels.forEach((y, i) => {
      const z = o.out[i];
      const t = y * 0.8 + 0.1;
      ref += Math.max(z, 0) - z * t + Math.log1p(Math.exp(-Math.abs(z)));
    });
    close(o.loss, ref / o.labels.length, 'binary from logits');
    assert.equal(o.correct, o.labels.filter((y, i) => (o.out[i] > 0 ? 1 : 0) === y).length, 'a logit above 0 is class 1');
  });

  it('from_logits=True on a softmax output: trained as Keras does (the probabilities taken as logits), with a note saying so', async () => {
    const r = await planOf(model('layers.Dense(4, activation="softmax")', 'keras.losses.SparseCategoricalCrossentropy(from_logits=True)'));
    assert.ok(r.notes.some((n) => /from_logits=True\), but the model ends in a softmax: its probabilities are taken as logits/.test(n)), r.notes.join('\n'));
    const o = await lossAndOutputs(r.plan!);
    close(o.loss, softmaxCrossEntropy64(o.out, o.labels, 4), 'softmax output taken as logits');
  });

  it('PyTorch: nn.CrossEntropyLoss(label_smoothing=0.1) and F.cross_entropy(..., label_smoothing=0.05), as torch defines them', async () => {
    const torchModel = (loss: string, call: string) => `import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3)
        self.fc = nn.Linear(3 * 4 * 4, 5)

    def forward(self, x):
        return self.fc(torch.flatten(F.relu(self.conv(x)), 1))


model = Net()
${loss}
out = model(torch.randn(8, 1, 6, 6))
loss = ${call}
`;
    let r = await planOf(torchModel('criterion = nn.CrossEntropyLoss(label_smoothing=0.1)', 'criterion(out, torch.zeros(8, dtype=torch.long))'), 'Net');
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.plan!.lossOptions, { labelSmoothing: 0.1 });
    let o = await lossAndOutputs(r.plan!);
    close(o.loss, softmaxCrossEntropy64(o.out, o.labels, 5, 0.1), 'CrossEntropyLoss(label_smoothing=0.1)');
    r = await planOf(torchModel('', 'F.cross_entropy(out, torch.zeros(8, dtype=torch.long), label_smoothing=0.05)'), 'Net');
    assert.deepEqual(r.plan!.lossOptions, { labelSmoothing: 0.05 });
    o = await lossAndOutputs(r.plan!);
    close(o.loss, softmaxCrossEntropy64(o.out, o.labels, 5, 0.05), 'F.cross_entropy(label_smoothing=0.05)');
    // Class weights change the loss in a way not trained yet: refused at the loss's line, not ignored.
    r = await planOf(torchModel('criterion = nn.CrossEntropyLoss(weight=torch.ones(5))', 'criterion(out, torch.zeros(8, dtype=torch.long))'), 'Net');
    assert.equal(r.plan, undefined);
    assert.match(r.problems[0].message, /CrossEntropyLoss\(weight=…\): class weights \(weight=…\) are not trained yet/);
  });

  it('refuses, in words, what would change the loss: reduction="sum", a label_smoothing outside [0, 1], an unreadable from_logits', async () => {
    const refused = async (loss: string) => {
      const r = await planOf(model('layers.Dense(4)', loss));
      assert.equal(r.plan, undefined, loss);
      return r.problems.map((p) => `${p.line}: ${p.message}`).join('\n');
    };
    assert.match(await refused('keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")'), /^4: SparseCategoricalCrossentropy\(reduction=…\): reduction other than the default 'sum_over_batch_size' is not trained yet$/);
    assert.match(await refused('keras.losses.CategoricalCrossentropy(label_smoothing=1.5)'), /label_smoothing must be between 0 and 1/);
    assert.match(await refused('keras.losses.CategoricalCrossentropy(from_logits=flag)'), /from_logits=…\) cannot be read without running the code/);
  });
});
