// The panel's inference process (dist/inference.js, as the extension forks it) on a PyTorch model:
// feature maps, filters and evaluation of the pytorch/examples MNIST Net. PyTorch's tensors are
// channels-first; the panel draws channels-last, so the process transposes at the edge. A value of
// conv1's feature map is recomputed here from the input and PyTorch-layout weights.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodeTensor, encodeTensor, type TensorData } from '../../src/core/protocol/panel';
import { initialState } from '../../src/core/train/compile';
import { compileExplainGraph, EXPLAIN_NAMES } from '../../src/core/train/explain';
import { planTraining, planWeights, type TrainingPlan } from '../../src/core/train/plan';
import { analyze, readFixture } from './helpers';

const SCRIPT = path.join(__dirname, '..', '..', 'dist', 'inference.js');
let child: ChildProcess;
let plan: TrainingPlan;
let nextId = 1;

function request(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const on = (m: unknown) => {
      const msg = m as { method: string; params: { id: number; message?: string } };
      if (msg.params?.id !== id) return;
      child.off('message', on);
      if (msg.method === 'inference/error') reject(new Error(msg.params.message));
      else resolve(msg.params as Record<string, unknown>);
    };
    child.on('message', on);
    child.send({ method, params: { id, ...params } });
  });
}

before(async () => {
  const text = readFixture('pytorch', 'pytorch_examples', 'mnist_main.py');
  const a = await analyze(text);
  plan = planTraining(a.models.find((m) => m.name === 'Net')!, text).plan!;
  child = fork(SCRIPT, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' });
});
after(() => child.kill());

describe('the inference process on a PyTorch model (MNIST Net)', () => {
  it('feature maps: every layer channels-last as the panel draws them; conv1 recomputed from PyTorch-layout weights; probabilities from log_softmax', async () => {
    const r = await request('inference/activations', { plan, weights: { kind: 'random', seed: 1 }, input: { kind: 'sample', data: 'synthetic', index: 3 } });
    const layers = r.layers as { name: string; activation: TensorData }[];
    const shapes = Object.fromEntries(layers.map((l) => [l.name, l.activation.shape.join('×')]));
    assert.deepEqual(shapes, {
      conv1: '26×26×32', 'F.relu': '26×26×32', conv2: '24×24×64', 'F.relu_1': '24×24×64', 'F.max_pool2d': '12×12×64', dropout1: '12×12×64',
      'torch.flatten': '9216', fc1: '128', 'F.relu_2': '128', dropout2: '128', fc2: '10', 'F.log_softmax': '10',
    });
    const input = r.input as TensorData;
    assert.deepEqual(input.shape, [28, 28, 1]);
    const x = decodeTensor(input);
    const w = initialState(plan, 1);
    const weight = w.get('conv1.weight')!;
    const bias = w.get('conv1.bias')!;
    const conv1 = decodeTensor(layers[0].activation);
    for (const [y, xx, c] of [[5, 7, 3], [20, 2, 31], [0, 25, 0]]) {
      let v = bias[c];
      // The file's transforms.Normalize((0.1307,), (0.3081,)) is applied to what the model is given (the panel shows the pixels).
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) v += ((x[(y + i) * 28 + (xx + j)] - 0.1307) / 0.3081) * weight[c * 9 + i * 3 + j];
      assert.ok(Math.abs(conv1[(y * 26 + xx) * 32 + c] - v) < 1e-5, `conv1 at (${y}, ${xx}, ${c}): ${conv1[(y * 26 + xx) * 32 + c]} vs ${v}`);
    }
    const p = r.probabilities as number[];
    assert.equal(p.length, 10);
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    const logp = decodeTensor(layers[layers.length - 1].activation);
    p.forEach((q, k) => assert.ok(Math.abs(Math.log(q) - logp[k]) < 1e-4, `class ${k}: log ${Math.log(q)} vs log_softmax ${logp[k]}`));
  });

  it("filters: conv2's PyTorch weight (64, 32, 3, 3) drawn in the panel's (3, 3, 32, 64)", async () => {
    const r = await request('inference/filters', { plan, weights: { kind: 'random', seed: 1 }, layer: 'conv2' });
    const k = r.kernel as TensorData;
    assert.deepEqual(k.shape, [3, 3, 32, 64]);
    const got = decodeTensor(k);
    const w = initialState(plan, 1).get('conv2.weight')!;
    // weight[o=5, i=7, 1, 2] is kernel[1, 2, 7, 5].
    assert.equal(got[((1 * 3 + 2) * 32 + 7) * 64 + 5], w[((5 * 32 + 7) * 3 + 1) * 3 + 2]);
  });

  it('evaluation on synthetic digits: a confusion matrix and channels-last sample images', async () => {
    const r = await request('inference/evaluate', { plan, weights: { kind: 'random', seed: 1 }, data: 'synthetic', samples: 8, limit: 300 });
    const confusion = r.confusion as number[][];
    assert.equal(confusion.flat().reduce((a, b) => a + b, 0), 300);
    const samples = r.samples as { image: TensorData }[];
    // Untrained: wrong ones first (up to a quarter of the grid), then right ones where there are any.
    assert.ok(samples.length >= 2 && samples.length <= 8, `${samples.length} samples`);
    for (const s of samples) assert.deepEqual(s.image.shape, [28, 28, 1]);
  });
});

describe('the inference process on an RGB PyTorch model (the CIFAR-10 tutorial Net)', () => {
  it('Grad-CAM and saliency of a channels-last picture: fed channels-first and normalized, as the same graph gives them on that input', async () => {
    const text = readFixture('pytorch', 'tutorials', 'cifar10_tutorial.py');
    const a = await analyze(text);
    const rgb = planTraining(a.models.find((m) => m.name === 'Net')!, text).plan!;
    assert.deepEqual(rgb.inputShape, [3, 32, 32]);
    // A picture whose three channels differ: (h, w, c) as the panel sends drawings and images.
    const hwc = Float32Array.from({ length: 32 * 32 * 3 }, (_, i) => ((i % 3) * 0.4 + Math.sin(i / 7) * 0.3 + 0.3) % 1);
    const r = await request('inference/explain', { plan: rgb, weights: { kind: 'random', seed: 4 }, input: { kind: 'pixels', tensor: encodeTensor(hwc, [32, 32, 3]) }, layer: 'conv2', cls: 2 });
    const chw = new Float32Array(hwc.length);
    // Transposed, and normalized as the tutorial's transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)) says.
    for (let p = 0; p < 32 * 32; p++) for (let c = 0; c < 3; c++) chw[c * 1024 + p] = (hwc[p * 3 + c] - 0.5) / 0.5;
    const state = initialState(rgb, 4);
    const weights = new Map(planWeights(rgb).map((w) => [w.name, state.get(w.name)!]));
    const session = await ort.InferenceSession.create(compileExplainGraph(rgb, weights, 'conv2'));
    const onehot = Float32Array.from({ length: 10 }, (_, k) => (k === 2 ? 1 : 0));
    const out = await session.run({ [EXPLAIN_NAMES.input]: new ort.Tensor('float32', chw, [1, 3, 32, 32]), [EXPLAIN_NAMES.classOneHot]: new ort.Tensor('float32', onehot, [1, 10]) });
    const cam = r.cam as TensorData;
    assert.deepEqual(cam.shape, [10, 10], "conv2's 10×10 map");
    const expected = out[EXPLAIN_NAMES.cam].data as Float32Array;
    assert.ok(expected.some((v) => v > 0), 'a map that is not all zeros');
    decodeTensor(cam).forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= 1e-6 + 1e-5 * Math.abs(expected[i]), `cam[${i}]: ${v} vs ${expected[i]}`));
    const sal = r.saliency as TensorData;
    assert.deepEqual(sal.shape, [32, 32]);
    const expectedSal = out[EXPLAIN_NAMES.saliency].data as Float32Array;
    decodeTensor(sal).forEach((v, i) => assert.ok(Math.abs(v - expectedSal[i]) <= 1e-6 + 1e-5 * Math.abs(expectedSal[i]), `saliency[${i}]: ${v} vs ${expectedSal[i]}`));
  });
});
