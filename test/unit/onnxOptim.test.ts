// Optimizer update graphs (src/core/onnx/optim.ts) against float64 JS
// implementations of Keras' update rules, over several steps with the state
// carried between session runs as the trainer will do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../src/core/onnx/graphBuilder';
import { adamStepSize, adamUpdate, sgdMomentumUpdate, sgdUpdate } from '../../src/core/onnx/optim';

const SIZE = 16;
const grads = Array.from({ length: 4 }, (_, s) => Float32Array.from({ length: SIZE }, (_, i) => Math.sin(1.7 * i + s) * (1 + s)));
const w0 = Float32Array.from({ length: SIZE }, (_, i) => Math.cos(i));
const scalar = (v: number) => new ort.Tensor('float32', Float32Array.of(v), []);
const vec = (v: Float32Array) => new ort.Tensor('float32', v, [SIZE]);

async function session(g: GraphBuilder): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(g.toModelBytes(), { intraOpNumThreads: 1, logSeverityLevel: 3 });
}

function assertClose(got: Float32Array, want: Float64Array, tol: number, what: string): void {
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= tol * Math.max(1, Math.abs(want[i])), `${what}[${i}]: ${got[i]} vs ${want[i]}`);
}

test('sgd', async () => {
  const g = new GraphBuilder();
  for (const n of ['w', 'g']) g.input(n, [SIZE]);
  g.input('lr', []);
  g.output(sgdUpdate(g, 'w', 'g', 'lr', 'w_new'));
  const s = await session(g);
  let w: Float32Array = w0;
  const ref = Float64Array.from(w0);
  for (const gr of grads) {
    w = (await s.run({ w: vec(w), g: vec(gr), lr: scalar(0.1) })).w_new.data as Float32Array;
    for (let i = 0; i < SIZE; i++) ref[i] -= 0.1 * gr[i];
  }
  assertClose(w, ref, 1e-6, 'w');
});

for (const nesterov of [false, true]) {
  test(`sgd momentum (nesterov=${nesterov})`, async () => {
    const g = new GraphBuilder();
    for (const n of ['w', 'g', 'v']) g.input(n, [SIZE]);
    g.input('lr', []);
    const u = sgdMomentumUpdate(g, 'w', 'g', 'v', 'lr', 0.9, nesterov);
    g.output(g.identity(u.w, 'w_new'));
    g.output(g.identity(u.velocity, 'v_new'));
    const s = await session(g);
    let w: Float32Array = w0;
    let v: Float32Array = new Float32Array(SIZE);
    const rw = Float64Array.from(w0);
    const rv = new Float64Array(SIZE);
    for (const gr of grads) {
      const r = await s.run({ w: vec(w), g: vec(gr), v: vec(v), lr: scalar(0.05) });
      w = r.w_new.data as Float32Array;
      v = r.v_new.data as Float32Array;
      for (let i = 0; i < SIZE; i++) {
        rv[i] = 0.9 * rv[i] - 0.05 * gr[i];
        rw[i] += nesterov ? 0.9 * rv[i] - 0.05 * gr[i] : rv[i];
      }
    }
    assertClose(w, rw, 1e-5, 'w');
    assertClose(v, rv, 1e-5, 'v');
  });
}

test('adam (bias-corrected, Keras epsilon)', async () => {
  const g = new GraphBuilder();
  for (const n of ['w', 'g', 'm', 'v']) g.input(n, [SIZE]);
  g.input('lr', []);
  g.input('t', []);
  const alpha = adamStepSize(g, 'lr', 't');
  const u = adamUpdate(g, 'w', 'g', 'm', 'v', alpha);
  g.output(g.identity(u.w, 'w_new'));
  g.output(g.identity(u.m, 'm_new'));
  g.output(g.identity(u.v, 'v_new'));
  const s = await session(g);
  let [w, m, v]: Float32Array[] = [w0, new Float32Array(SIZE), new Float32Array(SIZE)];
  const [rw, rm, rv] = [Float64Array.from(w0), new Float64Array(SIZE), new Float64Array(SIZE)];
  const lr = 0.01;
  for (let t = 1; t <= grads.length; t++) {
    const gr = grads[t - 1];
    const r = await s.run({ w: vec(w), g: vec(gr), m: vec(m), v: vec(v), lr: scalar(lr), t: scalar(t) });
    [w, m, v] = [r.w_new.data, r.m_new.data, r.v_new.data] as Float32Array[];
    const a = (lr * Math.sqrt(1 - 0.999 ** t)) / (1 - 0.9 ** t);
    for (let i = 0; i < SIZE; i++) {
      rm[i] += (gr[i] - rm[i]) * 0.1;
      rv[i] += (gr[i] * gr[i] - rv[i]) * 0.001;
      rw[i] -= (a * rm[i]) / (Math.sqrt(rv[i]) + 1e-7);
    }
  }
  assertClose(w, rw, 1e-5, 'w');
  assertClose(m, rm, 1e-5, 'm');
  assertClose(v, rv, 1e-5, 'v');
});
