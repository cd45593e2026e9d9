/**
 * The NCHWc recipes (src/core/onnx/nchwc.ts) against the standard-op recipes they replace, on
 * onnxruntime: max pooling's backward pass routes each window's gradient to the same first
 * maximum (inputs full of ties), and a training step of a small VGG-like model and of a ResNet
 * block with BatchNormalization gives the same loss, gradients and updated weights (and moving
 * statistics, and evaluation results) either way. The gradient checks against the float64
 * reference are in trainGrad.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { maxPoolBackward, maxPoolForward, type PoolSpec } from '../../src/core/onnx/grad';
import { GraphBuilder } from '../../src/core/onnx/graphBuilder';
import { nchwcMaxPoolBackward, nchwcMaxPoolForward, reorderInput, reorderOutput } from '../../src/core/onnx/nchwc';
import { compileEvalGraph, compileTrainGraph, GRAPH_NAMES, initialState } from '../../src/core/train/compile';
import { planTraining } from '../../src/core/train/plan';
import { mulberry32 } from '../../src/core/train/random';
import { nchwcBlockSize, sessionOptions } from '../../src/train/trainSession';
import { oneModel } from './helpers';

async function run(g: GraphBuilder, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.OnnxValueMapType> {
  const session = await ort.InferenceSession.create(g.toModelBytes(), sessionOptions(1));
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

describe('NCHWc recipes', async () => {
  const block = await nchwcBlockSize();
  const skip = block === 0 ? "this machine's onnxruntime has no NCHWc kernels" : false;

  it('finds the block size of this CPU', { skip: process.arch !== 'x64' ? 'NCHWc kernels are an x64 feature of onnxruntime' : false }, () => {
    assert.ok([0, 8, 16].includes(block), `block ${block}`);
  });

  it('max pooling backward sends each window to the same first maximum as the standard recipe, with ties everywhere', { skip }, async () => {
    const [n, c, h, w] = [2, 32, 8, 6];
    const rand = mulberry32(5);
    // Values from {0, 0.5, 1}: most windows hold tied maxima (and all-zero windows, as after a ReLU).
    const x = Float32Array.from({ length: n * c * h * w }, () => Math.floor(rand() * 3) / 2);
    const dy = Float32Array.from({ length: (n * c * h * w) / 4 }, () => rand() - 0.5);
    const spec: PoolSpec = { kernel: [2, 2], inputSpatial: [h, w] };
    for (const afterRelu of [false, true]) {
      const g = new GraphBuilder();
      g.input('x', [n, c, h, w]);
      g.input('dy', [n, c, h / 2, w / 2]);
      const f = maxPoolForward(g, spec, 'x', 'mask');
      g.output(g.identity(maxPoolBackward(g, spec, 'x', f, 'dy', { afterRelu }), 'standard'));
      const xb = reorderInput(g, 'x');
      const yb = nchwcMaxPoolForward(g, spec, xb);
      g.output(g.identity(reorderOutput(g, yb, c), 'y_nchwc'));
      g.output(g.identity(f.y, 'y_standard'));
      const dxb = nchwcMaxPoolBackward(g, spec, c, block, xb, yb, reorderInput(g, 'dy'), afterRelu);
      g.output(g.identity(reorderOutput(g, dxb, c), 'nchwc'));
      const out = await run(g, { x: new ort.Tensor('float32', x, [n, c, h, w]), dy: new ort.Tensor('float32', dy, [n, c, h / 2, w / 2]) });
      assert.deepEqual(out.y_nchwc.data, out.y_standard.data);
      assert.deepEqual(out.nchwc.data, out.standard.data, `afterRelu=${afterRelu}`);
      // Each window passes its gradient on exactly once.
      const dx = out.nchwc.data as Float32Array;
      let nonzero = 0;
      for (const v of dx) if (v !== 0) nonzero++;
      assert.ok(nonzero <= dy.length && nonzero > dy.length / 4, `${nonzero} nonzero of ${dx.length}`);
    }
  });

  it('a training step of a VGG-like model gives the standard graph\'s loss, gradients and new weights', { skip }, async () => {
    await sameStep(`
from tensorflow import keras
from keras import layers
model = keras.Sequential([
    keras.Input(shape=(8, 8, 3)),
    layers.Conv2D(16, 3, padding='same', activation='relu'),
    layers.Conv2D(16, 3, padding='same', activation='relu'),
    layers.MaxPooling2D(2),
    layers.Conv2D(32, 3, padding='same', activation='relu'),
    layers.MaxPooling2D(2),
    layers.Flatten(),
    layers.Dense(10, activation='softmax'),
])
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')
`, [8, 8, 3], block);
  });

  it('a ResNet block with BatchNormalization kept blocked gives the standard graph\'s loss, gradients, new weights, moving statistics and evaluation', { skip }, async () => {
    // Blocked BN with and without γ/β, on 16 and 32 channels (one and two blocks of 16; the
    // diagonal-convolution scaling) and 64 (elementwise), a blocked residual Add and ReLU, a
    // strided projection, GlobalAveragePooling from the blocks.
    await sameStep(`
from tensorflow import keras
from keras import layers
inputs = keras.Input(shape=(8, 8, 3))
x = layers.Conv2D(16, 3, padding='same', use_bias=False)(inputs)
x = layers.BatchNormalization(momentum=0.9)(x)
x = layers.Activation('relu')(x)
y = layers.Conv2D(16, 3, padding='same', use_bias=False)(x)
y = layers.BatchNormalization(scale=False, center=False)(y)
x = layers.ReLU()(layers.add([x, y]))
y = layers.Conv2D(32, 3, strides=2, padding='same', use_bias=False)(x)
y = layers.BatchNormalization(epsilon=0.01)(y)
y = layers.Activation('relu')(y)
y = layers.Conv2D(32, 3, padding='same', use_bias=False)(y)
y = layers.BatchNormalization()(y)
s = layers.BatchNormalization()(layers.Conv2D(32, 1, strides=2, use_bias=False)(x))
x = layers.Activation('relu')(layers.add([s, y]))
x = layers.Conv2D(64, 3, padding='same', use_bias=False)(x)
x = layers.Activation('relu')(layers.BatchNormalization()(x))
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(10, activation='softmax')(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')
`, [8, 8, 3], block);
  });
});

/** Largest difference between two arrays, relative to the largest magnitude in `p`. */
function close(p: Float32Array, q: Float32Array, what: string, tol = 1e-5): void {
  let num = 0;
  let den = 0;
  for (let i = 0; i < p.length; i++) {
    num = Math.max(num, Math.abs(p[i] - q[i]));
    den = Math.max(den, Math.abs(p[i]));
  }
  assert.ok(num <= tol * Math.max(den, 1e-6), `${what}: max difference ${num} (scale ${den})`);
}

/**
 * One training step of the model in `text` compiled with standard ops and with the NCHWc
 * kernels: the same loss, gradients and carried state (new weights, moving statistics); then
 * the evaluation graphs of both on the new weights: the same loss and predictions.
 */
async function sameStep(text: string, inputShape: number[], block: number): Promise<void> {
  const { model } = await oneModel(text);
  // SGD: Adam's first step is lr·g/(|g| + ε), which amplifies rounding differences of tiny gradients.
  const plan = planTraining(model, text, { batchSize: 4, optimizer: 'sgd' }).plan!;
  const rand = mulberry32(9);
  const dims = [4, ...inputShape];
  const x = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rand());
  const labels = new ort.Tensor('int64', BigInt64Array.of(1n, 7n, 3n, 0n), [4]);
  const init = initialState(plan, 4);
  const results = [];
  for (const nchwcBlock of [0, block]) {
    const graph = compileTrainGraph(plan, { seed: 1, nchwcBlock, exposeGradients: true });
    assert.equal(Buffer.from(graph.bytes).includes(Buffer.from('com.microsoft.nchwc')), nchwcBlock > 0);
    const session = await ort.InferenceSession.create(graph.bytes, sessionOptions(1));
    const feeds: Record<string, ort.Tensor> = {
      [GRAPH_NAMES.x]: new ort.Tensor('float32', x, dims),
      [GRAPH_NAMES.labels]: labels,
      [GRAPH_NAMES.lr]: new ort.Tensor('float32', Float32Array.of(0.01), []),
    };
    for (const t of graph.carried) feeds[t.name] = new ort.Tensor('float32', init.get(t.name)!, t.shape);
    results.push({ graph, out: await session.run(feeds) });
    await session.release();
  }
  const [a, b] = results;
  close(a.out[GRAPH_NAMES.loss].data as Float32Array, b.out[GRAPH_NAMES.loss].data as Float32Array, 'loss');
  for (const [w, name] of Object.entries(a.graph.gradients)) close(a.out[name].data as Float32Array, b.out[b.graph.gradients[w]].data as Float32Array, `d${w}`);
  for (const t of a.graph.carried) close(a.out[t.next].data as Float32Array, b.out[t.next].data as Float32Array, t.next);

  // Evaluation (inference-mode BN from the moving statistics) on the stepped weights.
  const evals = [];
  for (const nchwcBlock of [0, block]) {
    const e = compileEvalGraph(plan, { nchwcBlock });
    const session = await ort.InferenceSession.create(e.bytes, sessionOptions(1));
    const feeds: Record<string, ort.Tensor> = { [GRAPH_NAMES.x]: new ort.Tensor('float32', x, dims), [GRAPH_NAMES.labels]: labels };
    for (const w of e.weights) feeds[w.name] = new ort.Tensor('float32', a.out[`${w.name}:next`].data as Float32Array, w.shape);
    evals.push(await session.run(feeds));
    await session.release();
  }
  close(evals[0][GRAPH_NAMES.loss].data as Float32Array, evals[1][GRAPH_NAMES.loss].data as Float32Array, 'evaluation loss');
  close(evals[0][GRAPH_NAMES.output].data as Float32Array, evals[1][GRAPH_NAMES.output].data as Float32Array, 'evaluation output');
}
