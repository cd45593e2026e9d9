// The registries of training concepts (optimizers, losses, activations, initialisers): every
// definition is complete, and what the CLI, the plan's refusals and the README say is derived from
// (or checked against) them, so adding an optimizer or a loss touches one file. Activations'
// backward recipes are checked against central differences of their own forward recipes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { registryOptions } from '../../src/cli/registryHelp';
import { ACTIVATIONS, activationBackward, activationForward, type ActivationKind } from '../../src/core/onnx/activations';
import { GraphBuilder } from '../../src/core/onnx/graphBuilder';
import { INITIALIZER_DEFS, initialize } from '../../src/core/train/initializers';
import { LOSSES, lossName } from '../../src/core/train/losses';
import { defaultOptimizer, describeOptimizer, OPTIMIZERS, optimizerName, optimizerSlots, optimizerShared, optimizerStep, readOptimizer, needsStep } from '../../src/core/train/optimizers';
import { planTraining } from '../../src/core/train/plan';
import { analyze } from './helpers';

const FRAMEWORKS = ['keras', 'pytorch'] as const;
const root = path.join(__dirname, '..', '..');

/** Every .ts file under src/. */
function sources(dir = path.join(root, 'src')): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('optimizer registry', () => {
  it('every optimizer has a doc, a class in at least one framework, defaults for every hyper-parameter it reads there, and an update that runs', async () => {
    for (const d of OPTIMIZERS) {
      assert.ok(d.doc.length > 20, d.name);
      const frameworks = FRAMEWORKS.filter((f) => d.classes[f]);
      assert.ok(frameworks.length > 0, d.name);
      for (const f of frameworks) {
        for (const h of d.hyper) if (h.keywords[f] && !h.refused) assert.notEqual(h.defaults[f], undefined, `${d.name}.${h.key} in ${f}`);
        const cfg = defaultOptimizer(d.name, f);
        assert.equal(optimizerName(d.classes[f]!, f), d.name);
        assert.match(describeOptimizer(cfg), new RegExp(`^${d.classes[f]}\\(`));
        // One step of the update on a 3-vector, through onnxruntime: it builds, runs and moves the weight.
        const g = new GraphBuilder();
        g.input('w', [3]);
        g.input('g', [3]);
        g.input('lr', []);
        if (needsStep(cfg)) g.input('t', []);
        const slots = optimizerSlots(cfg);
        for (const s of slots) g.input(`s_${s.slot}`, [3]);
        const shared = optimizerShared(g, cfg, 'lr', needsStep(cfg) ? 't' : undefined);
        const r = optimizerStep(g, cfg, shared, 'w', 'g', Object.fromEntries(slots.map((s) => [s.slot, `s_${s.slot}`])), { w: 'w_next' });
        g.output(r.w, [3]);
        const session = await ort.InferenceSession.create(g.toModelBytes(), { logSeverityLevel: 3 });
        const feeds: Record<string, ort.Tensor> = {
          w: new ort.Tensor('float32', Float32Array.of(1, -2, 3), [3]),
          g: new ort.Tensor('float32', Float32Array.of(0.5, 0.5, -1), [3]),
          lr: new ort.Tensor('float32', Float32Array.of(0.1), []),
        };
        if (needsStep(cfg)) feeds.t = new ort.Tensor('float32', Float32Array.of(1), []);
        for (const s of slots) feeds[`s_${s.slot}`] = new ort.Tensor('float32', new Float32Array(3).fill(s.init), [3]);
        const w = (await session.run(feeds)).w_next.data as Float32Array;
        assert.ok(w.every(Number.isFinite) && w[0] < 1 && w[2] > 3, `${d.name} (${f}) moves against the gradient: ${[...w]}`);
      }
    }
  });

  it('reads PyTorch keywords (betas, eps, dampening) with PyTorch defaults; refuses what it does not train', () => {
    const spec = (name: string, args: Record<string, unknown>) => ({ name, args: new Map(Object.entries(args).map(([k, v]) => [k, (Array.isArray(v) ? { k: 'seq', kind: 'tuple', items: v.map((x) => ({ k: 'num', v: x })) } : typeof v === 'boolean' ? { k: 'bool', v } : { k: 'num', v }) as never])), span: { start: 0, end: 0 } });
    const adam = readOptimizer(spec('Adam', { lr: 0.01, betas: [0.8, 0.9] }), [], 'pytorch');
    assert.deepEqual(adam, { config: { name: 'adam', framework: 'pytorch', learningRate: 0.01, beta1: 0.8, beta2: 0.9, epsilon: 1e-8, weightDecay: 0 } });
    assert.deepEqual(readOptimizer(spec('AdamW', {}), [], 'pytorch'), { config: { name: 'adamw', framework: 'pytorch', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 } });
    assert.deepEqual(readOptimizer(spec('SGD', { lr: 0.1, momentum: 0.9, dampening: 0.1 }), [], 'pytorch'), { config: { name: 'sgd', framework: 'pytorch', learningRate: 0.1, momentum: 0.9, dampening: 0.1, nesterov: false, weightDecay: 0 } });
    assert.deepEqual(readOptimizer(spec('Adam', { amsgrad: true }), [], 'pytorch'), { error: 'Adam(amsgrad=True) is not supported for training yet' });
    assert.match((readOptimizer(spec('SGD', { nesterov: true }), [], 'pytorch') as { error: string }).error, /nesterov=True\) requires a momentum/);
    assert.deepEqual(readOptimizer(spec('RMSprop', { lr: 0.001, alpha: 0.9 }), [], 'pytorch'), { config: { name: 'rmsprop', framework: 'pytorch', learningRate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-8, centered: false, weightDecay: 0 } });
    assert.deepEqual(readOptimizer(spec('Adagrad', {}), [], 'pytorch'), { config: { name: 'adagrad', framework: 'pytorch', learningRate: 0.01, initialAccumulator: 0, epsilon: 1e-10, lrDecay: 0, weightDecay: 0 } });
    assert.equal(describeOptimizer({ ...defaultOptimizer('rmsprop', 'pytorch'), rho: 0.9 }), 'RMSprop(lr=0.01, alpha=0.9)');
    assert.match((readOptimizer(spec('LBFGS', {}), [], 'pytorch') as { error: string }).error, /torch\.optim\.LBFGS' is not supported.*torch\.optim\.SGD, torch\.optim\.RMSprop, torch\.optim\.Adam, torch\.optim\.AdamW, torch\.optim\.Adagrad, torch\.optim\.Adadelta/);
    assert.equal(describeOptimizer(defaultOptimizer('adam', 'pytorch')), 'Adam(lr=0.001)');
    assert.equal(describeOptimizer({ ...defaultOptimizer('adam', 'pytorch'), beta2: 0.99 }), 'Adam(lr=0.001, betas=(0.9, 0.99))');
  });
});

describe('loss registry', () => {
  it('every loss has a doc and a plain graph; a loss that fuses names a fusable activation and has a fused graph', () => {
    for (const l of LOSSES) {
      assert.ok(l.doc.length > 20, l.name);
      assert.equal(typeof l.plain, 'function', l.name);
      if (l.fusesWith) {
        assert.ok(ACTIVATIONS.find((a) => a.kind === l.fusesWith)?.fusable, `${l.name} fuses with ${l.fusesWith}`);
        assert.equal(typeof l.fused, 'function', l.name);
      }
      assert.equal(lossName(l.name, l.framework), l.name);
      for (const a of l.aliases) assert.equal(lossName(a, l.framework), l.name, a);
    }
    assert.equal(lossName('CrossEntropyLoss', 'pytorch'), 'cross_entropy');
    assert.equal(lossName('F.nll_loss', 'pytorch'), 'nll_loss');
    assert.equal(lossName('mse'), 'mean_squared_error');
    assert.equal(lossName('nll_loss'), undefined, 'a PyTorch loss is not a Keras one');
  });
});

describe('activation registry', () => {
  it('every activation has a doc, and its backward recipe matches central differences of its forward recipe', async () => {
    const x0 = Float32Array.from({ length: 12 }, (_, i) => ((i * 7) % 12) / 3 - 1.9);
    const r = Float32Array.from({ length: 12 }, (_, i) => Math.cos(i));
    for (const d of ACTIVATIONS) {
      assert.ok(d.doc.length > 5, d.kind);
      for (const spec of d.kind === 'gelu' ? [{ kind: d.kind as ActivationKind }, { kind: d.kind as ActivationKind, approximate: true }] : [{ kind: d.kind as ActivationKind, alpha: 0.3, axis: 1 }]) {
        const g = new GraphBuilder();
        g.input('x', [3, 4]);
        g.input('r', [3, 4]);
        const y = activationForward(g, spec, 'x');
        g.output(g.identity(g.reduceSum(g.mul(y, 'r'), undefined, false), 'loss'), []);
        g.output(g.identity(activationBackward(g, spec, 'x', y, 'r'), 'dx'), [3, 4]);
        const s = await ort.InferenceSession.create(g.toModelBytes(), { logSeverityLevel: 3 });
        const run = async (v: Float32Array) => s.run({ x: new ort.Tensor('float32', v, [3, 4]), r: new ort.Tensor('float32', r, [3, 4]) });
        // The piecewise ones are also checked beyond their kinks at ±3 (none of the points lies within h of one).
        const xs = d.kind.startsWith('hard_') ? Float32Array.from(x0, (v) => v * 2.5) : x0;
        const x = xs;
        const dx = (await run(x)).dx.data as Float32Array;
        const h = 1e-2;
        for (let i = 0; i < x.length; i++) {
          const plus = Float32Array.from(x);
          const minus = Float32Array.from(x);
          plus[i] += h;
          minus[i] -= h;
          const fd = (((await run(plus)).loss.data as Float32Array)[0] - ((await run(minus)).loss.data as Float32Array)[0]) / (2 * h);
          assert.ok(Math.abs(fd - dx[i]) < 5e-3 * Math.max(1, Math.abs(fd)), `${d.kind} at ${x[i]}: backward ${dx[i]}, differences ${fd}`);
        }
      }
    }
  });
});

describe('initialiser registry', () => {
  it('every initialiser has a doc and fills a weight deterministically', () => {
    for (const d of INITIALIZER_DEFS) {
      assert.ok(d.doc.length > 5, d.name);
      assert.deepEqual(initialize(d.name, [4, 3, 2, 2], 7), initialize(d.name, [4, 3, 2, 2], 7), d.name);
    }
  });
});

describe('one file per optimizer and loss', () => {
  it('no file but the registry spells an optimizer or loss name as a string', () => {
    const names = [...OPTIMIZERS.map((d) => d.name), ...LOSSES.map((l) => l.name)];
    const owners = new Set(['optimizers.ts', 'losses.ts']);
    for (const file of sources()) {
      if (owners.has(path.basename(file))) continue;
      // The PyTorch front-end lists torch.nn.functional's loss functions (PyTorch's API, including
      // the ones ConvLens does not train) to record which one the training code calls.
      if (file.endsWith(path.join('parse', 'torch.ts'))) continue;
      // The PyTorch export (convlens export --to pytorch) writes each Keras optimizer as a Python
      // class of its own, keyed by the registry name; exportPytorch.test.ts checks each against
      // ConvLens' training graph, and an optimizer without one is refused in words.
      if (file.includes(`${path.sep}export${path.sep}`)) continue;
      const text = readFileSync(file, 'utf8');
      for (const n of names) assert.ok(!text.includes(`'${n}'`) && !text.includes(`"${n}"`), `${path.relative(root, file)} spells '${n}': read it from the registry`);
    }
  });

  it("the CLI's --optimizer and --loss help lists every registry entry under its framework", () => {
    const text = registryOptions().replace(/\s+/g, ' ');
    for (const f of FRAMEWORKS) {
      const label = f === 'keras' ? 'Keras:' : 'PyTorch:';
      for (const d of OPTIMIZERS.filter((o) => o.classes[f])) assert.match(text, new RegExp(`--optimizer NAME.*${label}[^;]*\\b${d.name}\\b`), `${d.name} (${f})`);
      for (const l of LOSSES.filter((x) => x.framework === f)) assert.match(text, new RegExp(`--loss NAME.*${label}[^;]*\\b${l.name}\\b`), `${l.name} (${f})`);
    }
  });

  it("the plan's refusal of an unknown optimizer or loss lists the registry's", async () => {
    const a = await analyze(
      ['from tensorflow import keras', 'm = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])', "m.compile(optimizer='ftrl', loss='hinge')"].join('\n'),
    );
    const r = planTraining(a.models[0], '');
    const words = r.problems.map((p) => p.message).join('\n');
    for (const d of OPTIMIZERS.filter((o) => o.classes.keras)) assert.ok(words.includes(d.name), d.name);
    for (const l of LOSSES.filter((x) => x.framework === 'keras')) assert.ok(words.includes(l.name), l.name);
  });

  it('the README names every optimizer, loss and activation the registries hold', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    for (const d of OPTIMIZERS) for (const c of Object.values(d.classes)) assert.ok(readme.includes(c!), `README lacks ${c}`);
    for (const l of LOSSES) assert.ok(readme.includes(l.name) || l.aliases.some((a) => readme.includes(a)), `README lacks ${l.name}`);
  });
});
