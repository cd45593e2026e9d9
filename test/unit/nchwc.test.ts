/**
 * The NCHWc recipes (src/core/onnx/nchwc.ts) against the standard-op recipes they replace, on
 * onnxruntime: max pooling's backward pass routes each window's gradient to the same first
 * maximum (inputs full of ties), and a training step of a small VGG-like model gives the same
 * loss, gradients and updated weights either way. The gradient checks against the float64
 * reference are in trainGrad.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { maxPoolBackward, maxPoolForward, type PoolSpec } from '../../src/core/onnx/grad';
import { GraphBuilder } from '../../src/core/onnx/graphBuilder';
import { nchwcMaxPoolBackward, nchwcMaxPoolForward, reorderInput, reorderOutput } from '../../src/core/onnx/nchwc';
import { compileTrainGraph, GRAPH_NAMES, initialState } from '../../src/core/train/compile';
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
    const text = `
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
`;
    const { model } = await oneModel(text);
    // SGD: Adam's first step is lr·g/(|g| + ε), which amplifies rounding differences of tiny gradients.
    const plan = planTraining(model, text, { batchSize: 4, optimizer: 'sgd' }).plan!;
    const rand = mulberry32(9);
    const x = Float32Array.from({ length: 4 * 8 * 8 * 3 }, () => rand());
    const init = initialState(plan, 4);
    const results = [];
    for (const nchwcBlock of [0, block]) {
      const graph = compileTrainGraph(plan, { seed: 1, nchwcBlock, exposeGradients: true });
      assert.equal(Buffer.from(graph.bytes).includes(Buffer.from('com.microsoft.nchwc')), nchwcBlock > 0);
      const session = await ort.InferenceSession.create(graph.bytes, sessionOptions(1));
      const feeds: Record<string, ort.Tensor> = {
        [GRAPH_NAMES.x]: new ort.Tensor('float32', x, [4, 8, 8, 3]),
        [GRAPH_NAMES.labels]: new ort.Tensor('int64', BigInt64Array.of(1n, 7n, 3n, 0n), [4]),
        [GRAPH_NAMES.lr]: new ort.Tensor('float32', Float32Array.of(0.01), []),
      };
      for (const t of graph.carried) feeds[t.name] = new ort.Tensor('float32', init.get(t.name)!, t.shape);
      results.push({ graph, out: await session.run(feeds) });
      await session.release();
    }
    const [a, b] = results;
    const close = (p: Float32Array, q: Float32Array, what: string) => {
      let num = 0;
      let den = 0;
      for (let i = 0; i < p.length; i++) {
        num = Math.max(num, Math.abs(p[i] - q[i]));
        den = Math.max(den, Math.abs(p[i]));
      }
      assert.ok(num <= 1e-5 * Math.max(den, 1e-6), `${what}: max difference ${num} (scale ${den})`);
    };
    close(a.out[GRAPH_NAMES.loss].data as Float32Array, b.out[GRAPH_NAMES.loss].data as Float32Array, 'loss');
    for (const [w, name] of Object.entries(a.graph.gradients)) close(a.out[name].data as Float32Array, b.out[b.graph.gradients[w]].data as Float32Array, `d${w}`);
    for (const t of a.graph.carried) close(a.out[t.next].data as Float32Array, b.out[t.next].data as Float32Array, t.next);
  });
});
