/**
 * Grad-CAM and saliency graphs (src/core/train/explain.ts) against a float64 reference: the
 * model's forward pass in plain JS (test/unit/trainReference.ts, written from Keras' definitions,
 * BatchNormalization with its moving statistics as at inference), the class logit's gradient
 * w.r.t. the chosen layer and the input by central differences, and Grad-CAM computed from them
 * as the paper defines it. The ONNX graph is float32: agreement to 1e-3 of the largest value.
 * PyTorch models are checked against PyTorch itself (Debian's python3-torch, running the model
 * file's own class in eval() mode with autograd: test/pytorch/explain_check.py); skipped with a
 * message when `import torch` fails.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { initialState } from '../../src/core/train/compile';
import { compileExplainGraph, EXPLAIN_NAMES, explainableLayers } from '../../src/core/train/explain';
import { upsampleBilinear } from '../../src/core/render/featureMaps';
import { planTraining, planWeights, type PlanLayer, type TrainingPlan } from '../../src/core/train/plan';
import { mulberry32 } from '../../src/core/train/random';
import { analyze, fixturePath, pythonModulesMissing, readFixture } from './helpers';
import { layerForward, type T } from './trainReference';

async function planOf(text: string): Promise<TrainingPlan> {
  const a = await analyze(text);
  const m = a.models[a.models.length - 1];
  const r = planTraining(m, text, { epochs: 1, batchSize: 1 });
  assert.ok(r.plan, JSON.stringify(r.problems));
  return r.plan;
}

/** Float64 forward at inference, in Keras layout; `override` replaces one call's output. Returns every call's output; the last without its softmax. */
function forward64(plan: TrainingPlan, x: T, w: Record<string, Float64Array>, override?: { index: number; value: T }): T[] {
  const outs: T[] = [];
  plan.layers.forEach((l, i) => {
    if (override && override.index === i) {
      outs.push(override.value);
      return;
    }
    const xs = l.inputs.map((j) => (j < 0 ? x : outs[j]));
    const logits = i === plan.layers.length - 1 ? ({ ...l, config: { ...l.config, activation: null } } as PlanLayer) : l;
    outs.push(l.className === 'BatchNormalization' ? batchNormInference(l, xs[0], w) : ['Dropout', 'SpatialDropout2D', 'GaussianNoise'].includes(l.className) ? xs[0] : layerForward(logits, xs, w, {}));
  });
  return outs;
}

function batchNormInference(l: PlanLayer, x: T, w: Record<string, Float64Array>): T {
  const c = x.s[x.s.length - 1];
  const eps = l.config.epsilon as number;
  const y = new Float64Array(x.d.length);
  for (let i = 0; i < x.d.length; i++) {
    const k = i % c;
    y[i] = ((x.d[i] - w[`${l.name}/moving_mean`][k]) / Math.sqrt(w[`${l.name}/moving_variance`][k] + eps)) * w[`${l.name}/gamma`][k] + w[`${l.name}/beta`][k];
  }
  return { d: y, s: x.s };
}

/** ∂ logit[c] / ∂ v by central differences, v being the input (index −1) or a call's output. */
function numericGradient(plan: TrainingPlan, x: T, w: Record<string, Float64Array>, index: number, c: number): { at: T; grad: Float64Array } {
  const outs = forward64(plan, x, w);
  const at = index < 0 ? x : outs[index];
  const grad = new Float64Array(at.d.length);
  const h = 1e-6;
  const logit = (v: T) => forward64(plan, index < 0 ? v : x, w, index < 0 ? undefined : { index, value: v }).at(-1)!.d[c];
  for (let i = 0; i < at.d.length; i++) {
    const plus = new Float64Array(at.d);
    const minus = new Float64Array(at.d);
    plus[i] += h;
    minus[i] -= h;
    grad[i] = (logit({ d: plus, s: at.s }) - logit({ d: minus, s: at.s })) / (2 * h);
  }
  return { at, grad };
}

/** Grad-CAM from A (h, w, k) and ∂score/∂A, float64. */
function gradCam64(a: T, g: Float64Array): Float64Array {
  const [, h, wd, k] = a.s;
  const alpha = new Float64Array(k);
  for (let i = 0; i < h * wd * k; i++) alpha[i % k] += g[i] / (h * wd);
  const cam = new Float64Array(h * wd);
  for (let p = 0; p < h * wd; p++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += alpha[j] * a.d[p * k + j];
    cam[p] = Math.max(0, s);
  }
  return cam;
}

function closeTo(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): number {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  assert.ok(scale > 0, `${what}: the reference is all zeros; the test would prove nothing`);
  assert.ok(worst <= 1e-3 * scale, `${what}: worst difference ${worst} against the largest value ${scale}`);
  return worst / scale;
}

async function check(text: string, target: string, cls: number, seed: number): Promise<{ camError: number; saliencyError: number }> {
  const plan = await planOf(text);
  const state = initialState(plan, seed);
  const rnd = mulberry32(seed);
  // Moving statistics away from (0, 1), so BatchNormalization does something.
  for (const pw of planWeights(plan)) {
    if (pw.name.endsWith('/moving_mean')) state.set(pw.name, Float32Array.from(state.get(pw.name)!, () => rnd() - 0.5));
    if (pw.name.endsWith('/moving_variance')) state.set(pw.name, Float32Array.from(state.get(pw.name)!, () => 0.5 + rnd()));
    if (pw.name.endsWith('/gamma') || pw.name.endsWith('/beta')) state.set(pw.name, Float32Array.from(state.get(pw.name)!, () => rnd() + 0.5));
  }
  const weights = new Map(planWeights(plan).map((p) => [p.name, state.get(p.name)!]));
  const w64: Record<string, Float64Array> = Object.fromEntries([...weights].map(([k, v]) => [k, Float64Array.from(v)]));
  const size = plan.inputShape.reduce((a, b) => a * b, 1);
  const x32 = Float32Array.from({ length: size }, () => rnd());
  const x: T = { d: Float64Array.from(x32), s: [1, ...plan.inputShape] };
  const classes = plan.outputShape[0];
  const onehot = new Float32Array(classes);
  onehot[cls] = 1;
  const session = await ort.InferenceSession.create(compileExplainGraph(plan, weights, target));
  const out = await session.run({ [EXPLAIN_NAMES.input]: new ort.Tensor('float32', x32, [1, ...plan.inputShape]), [EXPLAIN_NAMES.classOneHot]: new ort.Tensor('float32', onehot, [1, classes]) });
  const index = plan.layers.findIndex((l) => l.node === target);
  const ref = numericGradient(plan, x, w64, index, cls);
  closeTo(out[EXPLAIN_NAMES.activation].data as Float32Array, ref.at.d, 'activation');
  closeTo(out[EXPLAIN_NAMES.gradient].data as Float32Array, ref.grad, 'gradient');
  const camError = closeTo(out[EXPLAIN_NAMES.cam].data as Float32Array, gradCam64(ref.at, ref.grad), 'Grad-CAM');
  const input = numericGradient(plan, x, w64, -1, cls);
  const c = plan.inputShape[2];
  const sal = new Float64Array(size / c);
  for (let p = 0; p < sal.length; p++) for (let k = 0; k < c; k++) sal[p] = Math.max(sal[p], Math.abs(input.grad[p * c + k]));
  const saliencyError = closeTo(out[EXPLAIN_NAMES.saliency].data as Float32Array, sal, 'saliency');
  // The probabilities are the model's softmax output.
  const probs = out[EXPLAIN_NAMES.probabilities].data as Float32Array;
  assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  return { camError, saliencyError };
}

describe('Grad-CAM and saliency against a float64 reference', () => {
  it('a Sequential CNN (conv relu → conv → max-pool → dense softmax), Grad-CAM over the second convolution', async () => {
    const text = `import keras
from keras import layers
model = keras.Sequential([keras.Input((10, 10, 1)), layers.Conv2D(3, 3, activation="relu"), layers.Conv2D(4, 3), layers.MaxPooling2D(), layers.Flatten(), layers.Dense(3, activation="softmax")])
`;
    const plan = await planOf(text);
    assert.deepEqual(explainableLayers(plan).map((l) => `${l.node} ${l.shape.join('×')}`), ['conv2d 8×8×3', 'conv2d_1 6×6×4', 'max_pooling2d 3×3×4']);
    for (const cls of [0, 2]) await check(text, 'conv2d_1', cls, 7 + cls);
  });

  it('a residual network with BatchNormalization (moving statistics), Dropout and an Add; Grad-CAM over the first convolution, through both branches', async () => {
    const text = `import keras
from keras import layers
inputs = keras.Input((8, 8, 2))
x = layers.Conv2D(4, 3, padding="same")(inputs)
y = layers.BatchNormalization()(x)
y = layers.Activation("relu")(y)
y = layers.Conv2D(4, 3, padding="same", activation="tanh")(y)
z = layers.add([x, y])
z = layers.Dropout(0.5)(z)
z = layers.GlobalAveragePooling2D()(z)
outputs = layers.Dense(3, activation="softmax")(z)
model = keras.Model(inputs, outputs)
`;
    const r = await check(text, "conv2d", 1, 3);
    console.log(`    Grad-CAM relative error ${r.camError.toExponential(2)}, saliency ${r.saliencyError.toExponential(2)} (float32 graph vs float64 reference)`);
    assert.ok(r.camError < 1e-3 && r.saliencyError < 1e-3);
  });

  it('upsamples a map with pixel centres aligned: a 2×2 map to 4×4', () => {
    const up = upsampleBilinear([0, 1, 2, 3], 2, 2, 4, 4);
    assert.deepEqual(Array.from(up), [0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3]);
  });

  it('refuses a layer without a spatial output, in words', async () => {
    const plan = await planOf(`import keras\nfrom keras import layers\nmodel = keras.Sequential([keras.Input((6, 6, 1)), layers.Conv2D(2, 3), layers.Flatten(), layers.Dense(2, activation="softmax")])\n`);
    const weights = new Map(planWeights(plan).map((p) => [p.name, initialState(plan, 1).get(p.name)!]));
    assert.throws(() => compileExplainGraph(plan, weights, 'flatten'), /Grad-CAM needs a layer with a spatial output \(height, width, channels\); flatten gives \(32\)/);
    assert.throws(() => compileExplainGraph(plan, weights, 'nope'), /no layer call 'nope'/);
  });
});

const PYTHON = '/usr/bin/python3';
const torchMissing = pythonModulesMissing('torch', 'the Grad-CAM comparisons with PyTorch');

/** ConvLens' explanation graph and PyTorch's autograd on the same weights, input and class. */
async function checkTorch(file: string[], cls: string, target: string, logits: string, klass: number, seed: number): Promise<{ camError: number; saliencyError: number; torch: string }> {
  const text = readFixture(...file);
  const a = await analyze(text);
  const r = planTraining(a.models.find((m) => m.name === cls)!, text);
  assert.deepEqual(r.problems, []);
  const plan = r.plan!;
  assert.ok(explainableLayers(plan).some((l) => l.node === target), explainableLayers(plan).map((l) => l.node).join(', '));
  const state = initialState(plan, seed);
  const rnd = mulberry32(seed);
  // Running statistics and affine weights away from (0, 1), so eval()-mode BatchNorm does something.
  for (const pw of planWeights(plan)) {
    if (pw.name.endsWith('.running_mean')) state.set(pw.name, Float32Array.from(state.get(pw.name)!, () => rnd() - 0.5));
    if (pw.name.endsWith('.running_var')) state.set(pw.name, Float32Array.from(state.get(pw.name)!, () => 0.5 + rnd()));
    if (/(^|\.)bn[^.]*\.(weight|bias)$/.test(pw.name)) state.set(pw.name, Float32Array.from(state.get(pw.name)!, () => rnd() + 0.5));
  }
  const weights = new Map(planWeights(plan).map((p) => [p.name, state.get(p.name)!]));
  const size = plan.inputShape.reduce((x, y) => x * y, 1);
  const x32 = Float32Array.from({ length: size }, () => rnd());
  const classes = plan.outputShape[0];
  const onehot = new Float32Array(classes);
  onehot[klass] = 1;
  const session = await ort.InferenceSession.create(compileExplainGraph(plan, weights, target));
  const out = await session.run({ [EXPLAIN_NAMES.input]: new ort.Tensor('float32', x32, [1, ...plan.inputShape]), [EXPLAIN_NAMES.classOneHot]: new ort.Tensor('float32', onehot, [1, classes]) });
  const dir = mkdtempSync(path.join(tmpdir(), 'convlens-explain-'));
  try {
    const req = {
      file: fixturePath(...file),
      class: cls,
      weights: Object.fromEntries(planWeights(plan).map((p) => [p.name, { shape: p.shape, data: [...weights.get(p.name)!] }])),
      input: { shape: plan.inputShape, data: [...x32] },
      cls: klass,
      target,
      logits,
    };
    writeFileSync(path.join(dir, 'request.json'), JSON.stringify(req));
    execFileSync(PYTHON, [path.join(__dirname, '..', 'pytorch', 'explain_check.py'), path.join(dir, 'request.json'), path.join(dir, 'answer.json')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const torch = JSON.parse(readFileSync(path.join(dir, 'answer.json'), 'utf8')) as { cam: number[]; saliency: number[]; probabilities: number[]; torch: string };
    const target3 = plan.layers.find((l) => l.node === target)!.output;
    assert.deepEqual(out[EXPLAIN_NAMES.cam].dims.slice(1).map(Number), target3.slice(1), 'the map has the layer\'s height and width');
    const camError = closeTo(out[EXPLAIN_NAMES.cam].data as Float32Array, torch.cam, 'Grad-CAM');
    assert.deepEqual(out[EXPLAIN_NAMES.saliency].dims.slice(1).map(Number), plan.inputShape.slice(1), 'the saliency map has the input\'s height and width');
    const saliencyError = closeTo(out[EXPLAIN_NAMES.saliency].data as Float32Array, torch.saliency, 'saliency');
    // What the panel shows as probabilities: the softmax of the model's output (log-probabilities or logits).
    const o = Array.from(out[EXPLAIN_NAMES.probabilities].data as Float32Array);
    const m = Math.max(...o);
    const e = o.map((v) => Math.exp(v - m));
    closeTo(e.map((v) => v / e.reduce((p, q) => p + q, 0)), torch.probabilities, 'probabilities');
    return { camError, saliencyError, torch: torch.torch };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('Grad-CAM and saliency of PyTorch models against PyTorch autograd', { skip: torchMissing }, () => {
  it("pytorch/examples' MNIST Net (conv → relu → conv → max_pool2d → dropout → fc → log_softmax), Grad-CAM over conv2", async () => {
    for (const klass of [3, 7]) {
      const r = await checkTorch(['pytorch', 'pytorch_examples', 'mnist_main.py'], 'Net', 'conv2', 'fc2', klass, 5 + klass);
      console.log(`    class ${klass}: Grad-CAM relative error ${r.camError.toExponential(2)}, saliency ${r.saliencyError.toExponential(2)} (ONNX float32 vs torch ${r.torch})`);
    }
  });

  it('a residual block with eval()-mode BatchNorm2d/1d, a torch.cat branch and Dropout: Grad-CAM over the max-pool after the block, saliency through the block', async () => {
    const r = await checkTorch(['pytorch', 'train', 'all_layers.py'], 'AllLayers', 'pool', 'fc2', 1, 11);
    console.log(`    Grad-CAM relative error ${r.camError.toExponential(2)}, saliency ${r.saliencyError.toExponential(2)} (ONNX float32 vs torch ${r.torch})`);
  });
});
