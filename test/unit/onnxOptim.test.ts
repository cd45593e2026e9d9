// Optimizer update graphs (src/core/onnx/optim.ts) against float64 JS
// implementations of Keras' update rules, over several steps with the state
// carried between session runs as the trainer will do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../src/core/onnx/graphBuilder';
import { adagradUpdate, adamStepSize, adamUpdate, adamwUpdate, rmspropUpdate, sgdMomentumUpdate, sgdUpdate, type RmspropSpec } from '../../src/core/onnx/optim';
import { defaultOptimizer, optimizerShared, optimizerSlots, optimizerStep } from '../../src/core/train/optimizers';

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

// ---- RMSprop, Adagrad, AdamW: against Keras 3's update rules written out by hand ----------------

/** Runs `steps` updates of a graph whose state inputs/outputs are named `<s>` / `<s>_new`, feeding `lr` (and `t`). */
async function runSteps(g: GraphBuilder, state: Record<string, Float32Array>, lr: number, withT = false): Promise<Record<string, Float32Array>> {
  const s = await session(g);
  let cur = { ...state };
  for (let t = 1; t <= grads.length; t++) {
    const feeds: Record<string, ort.Tensor> = { g: vec(grads[t - 1]), lr: scalar(lr) };
    for (const [k, v] of Object.entries(cur)) feeds[k] = vec(v);
    if (withT) feeds.t = scalar(t);
    const r = await s.run(feeds);
    cur = Object.fromEntries(Object.keys(cur).map((k) => [k, r[`${k}_new`].data as Float32Array]));
  }
  return cur;
}

function stateGraph(names: string[], withT = false): GraphBuilder {
  const g = new GraphBuilder();
  for (const n of [...names, 'g']) g.input(n, [SIZE]);
  g.input('lr', []);
  if (withT) g.input('t', []);
  return g;
}

for (const variant of [
  { name: 'defaults', spec: {} },
  { name: 'centered', spec: { centered: true } },
  { name: 'momentum 0.5', spec: { momentum: 0.5 } },
  { name: 'centered + momentum, rho 0.8', spec: { centered: true, momentum: 0.5, rho: 0.8 } },
] as { name: string; spec: RmspropSpec }[]) {
  test(`rmsprop (${variant.name})`, async () => {
    const { spec } = variant;
    const names = ['w', 'v', ...(spec.centered ? ['a'] : []), ...(spec.momentum ? ['m'] : [])];
    const g = stateGraph(names);
    const u = rmspropUpdate(g, 'w', 'g', 'v', 'lr', spec, spec.centered ? 'a' : undefined, spec.momentum ? 'm' : undefined);
    g.output(g.identity(u.w, 'w_new'));
    g.output(g.identity(u.velocity, 'v_new'));
    if (spec.centered) g.output(g.identity(u.average!, 'a_new'));
    if (spec.momentum) g.output(g.identity(u.momentum!, 'm_new'));
    const init: Record<string, Float32Array> = Object.fromEntries(names.map((n) => [n, n === 'w' ? w0 : new Float32Array(SIZE)]));
    const got = await runSteps(g, init, 0.01);
    // Keras 3 RMSprop.update_step, element by element.
    const rho = spec.rho ?? 0.9;
    const eps = 1e-7;
    const rw = Float64Array.from(w0);
    const rv = new Float64Array(SIZE);
    const ra = new Float64Array(SIZE);
    const rm = new Float64Array(SIZE);
    for (const gr of grads) {
      for (let i = 0; i < SIZE; i++) {
        rv[i] = rho * rv[i] + (1 - rho) * gr[i] * gr[i];
        let denom = rv[i] + eps;
        if (spec.centered) {
          ra[i] = rho * ra[i] + (1 - rho) * gr[i];
          denom = rv[i] - ra[i] * ra[i] + eps;
        }
        const increment = (0.01 * gr[i]) / Math.sqrt(denom);
        if (spec.momentum) {
          rm[i] = spec.momentum * rm[i] + increment;
          rw[i] -= rm[i];
        } else rw[i] -= increment;
      }
    }
    assertClose(got.w, rw, 1e-5, 'w');
    assertClose(got.v, rv, 1e-5, 'v');
    if (spec.centered) assertClose(got.a, ra, 1e-5, 'a');
    if (spec.momentum) assertClose(got.m, rm, 1e-5, 'm');
  });
}

test('rmsprop: first step by hand (rho 0.9, eps 1e-7)', async () => {
  // g = 2, v₀ = 0: v = 0.1·4 = 0.4; w = 1 − 0.1·2/√(0.4 + 1e-7) = 0.683772…
  const g = new GraphBuilder();
  for (const n of ['w', 'g', 'v']) g.input(n, [1]);
  g.input('lr', []);
  const u = rmspropUpdate(g, 'w', 'g', 'v', 'lr');
  g.output(g.identity(u.w, 'w_new'));
  const s = await session(g);
  const one = (v: number) => new ort.Tensor('float32', Float32Array.of(v), [1]);
  const r = await s.run({ w: one(1), g: one(2), v: one(0), lr: scalar(0.1) });
  assert.ok(Math.abs((r.w_new.data as Float32Array)[0] - (1 - 0.2 / Math.sqrt(0.4 + 1e-7))) < 1e-6);
});

test('adagrad (initial accumulator 0.1)', async () => {
  const g = stateGraph(['w', 'acc']);
  const u = adagradUpdate(g, 'w', 'g', 'acc', 'lr');
  g.output(g.identity(u.w, 'w_new'));
  g.output(g.identity(u.accumulator, 'acc_new'));
  const got = await runSteps(g, { w: w0, acc: new Float32Array(SIZE).fill(0.1) }, 0.05);
  const rw = Float64Array.from(w0);
  const racc = new Float64Array(SIZE).fill(0.1);
  for (const gr of grads) {
    for (let i = 0; i < SIZE; i++) {
      racc[i] += gr[i] * gr[i];
      rw[i] -= (0.05 * gr[i]) / Math.sqrt(racc[i] + 1e-7);
    }
  }
  assertClose(got.w, rw, 1e-5, 'w');
  assertClose(got.acc, racc, 1e-5, 'acc');
});

test('adamw (weight decay 0.004 applied before the Adam step)', async () => {
  const g = stateGraph(['w', 'm', 'v'], true);
  const alpha = adamStepSize(g, 'lr', 't');
  const u = adamwUpdate(g, 'w', 'g', 'm', 'v', 'lr', alpha);
  g.output(g.identity(u.w, 'w_new'));
  g.output(g.identity(u.m, 'm_new'));
  g.output(g.identity(u.v, 'v_new'));
  const lr = 0.01;
  const got = await runSteps(g, { w: w0, m: new Float32Array(SIZE), v: new Float32Array(SIZE) }, lr, true);
  const [rw, rm, rv] = [Float64Array.from(w0), new Float64Array(SIZE), new Float64Array(SIZE)];
  for (let t = 1; t <= grads.length; t++) {
    const gr = grads[t - 1];
    const a = (lr * Math.sqrt(1 - 0.999 ** t)) / (1 - 0.9 ** t);
    for (let i = 0; i < SIZE; i++) {
      rw[i] -= rw[i] * 0.004 * lr;
      rm[i] += (gr[i] - rm[i]) * 0.1;
      rv[i] += (gr[i] * gr[i] - rv[i]) * 0.001;
      rw[i] -= (a * rm[i]) / (Math.sqrt(rv[i]) + 1e-7);
    }
  }
  assertClose(got.w, rw, 1e-5, 'w');
  assertClose(got.m, rm, 1e-5, 'm');
  assertClose(got.v, rv, 1e-5, 'v');
});

/** Runs `steps` registry updates of a Keras optimizer with its state carried between runs (t = 1, 2, …). */
async function registrySteps(cfg: ReturnType<typeof defaultOptimizer>, steps: number): Promise<Float32Array> {
  const g = new GraphBuilder();
  for (const n of ['w', 'g']) g.input(n, [SIZE]);
  g.input('lr', []);
  g.input('t', []);
  const slots = optimizerSlots(cfg);
  for (const sl of slots) g.input(`s_${sl.slot}`, [SIZE]);
  const r = optimizerStep(g, cfg, optimizerShared(g, cfg, 'lr', 't'), 'w', 'g', Object.fromEntries(slots.map((sl) => [sl.slot, `s_${sl.slot}`])), { w: 'w_new' });
  g.output(r.w, [SIZE]);
  for (const sl of slots) g.output(g.identity(r.slots[sl.slot], `next_${sl.slot}`), [SIZE]);
  const sess = await session(g);
  let w: Float32Array = w0;
  const state = new Map(slots.map((sl) => [sl.slot, new Float32Array(SIZE).fill(sl.init)]));
  for (let k = 0; k < steps; k++) {
    const feeds: Record<string, ort.Tensor> = { w: vec(w), g: vec(grads[k % grads.length]), lr: scalar(cfg.learningRate), t: scalar(k + 1) };
    for (const sl of slots) feeds[`s_${sl.slot}`] = vec(state.get(sl.slot)!);
    const out = await sess.run(feeds);
    w = out.w_new.data as Float32Array;
    for (const sl of slots) state.set(sl.slot, Float32Array.from(out[`next_${sl.slot}`].data as Float32Array));
  }
  return w;
}

test("adamax as keras/src/optimizers/adamax.py (6 steps, beta_1 0.8)", async () => {
  const cfg = { ...defaultOptimizer('adamax'), learningRate: 0.01, beta1: 0.8 };
  const w = await registrySteps(cfg, 6);
  const ref = Float64Array.from(w0);
  const m = new Float64Array(SIZE);
  const u = new Float64Array(SIZE);
  for (let k = 0; k < 6; k++) {
    const gr = grads[k % grads.length];
    for (let i = 0; i < SIZE; i++) {
      m[i] += (gr[i] - m[i]) * (1 - 0.8);
      u[i] = Math.max(0.999 * u[i], Math.abs(gr[i]));
      ref[i] -= (0.01 * m[i]) / ((1 - 0.8 ** (k + 1)) * (u[i] + 1e-7));
    }
  }
  assertClose(w, ref, 2e-6, 'w');
});

test("nadam as keras/src/optimizers/nadam.py (6 steps, Keras' momentum schedule and its running product; weight decay 0.05)", async () => {
  const cfg = { ...defaultOptimizer('nadam'), learningRate: 0.01, weightDecay: 0.05 };
  const w = await registrySteps(cfg, 6);
  const ref = Float64Array.from(w0);
  const m = new Float64Array(SIZE);
  const v = new Float64Array(SIZE);
  let product = 1;
  for (let k = 0; k < 6; k++) {
    const t = k + 1;
    const gr = grads[k % grads.length];
    // _backend_update_step: the product first, then every variable's update_step.
    product *= 0.9 * (1 - 0.5 * 0.96 ** t);
    const uT = 0.9 * (1 - 0.5 * 0.96 ** t);
    const uT1 = 0.9 * (1 - 0.5 * 0.96 ** (t + 1));
    const product1 = product * uT1;
    for (let i = 0; i < SIZE; i++) {
      ref[i] -= ref[i] * 0.01 * 0.05;
      m[i] += (gr[i] - m[i]) * 0.1;
      v[i] += (gr[i] * gr[i] - v[i]) * 0.001;
      const mHat = (uT1 * m[i]) / (1 - product1) + ((1 - uT) * gr[i]) / (1 - product);
      const vHat = v[i] / (1 - 0.999 ** t);
      ref[i] -= (mHat * 0.01) / (Math.sqrt(vHat) + 1e-7);
    }
  }
  assertClose(w, ref, 2e-6, 'w');
});

