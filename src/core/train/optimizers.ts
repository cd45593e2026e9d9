/**
 * The optimizer registry: one declarative definition per optimizer (optax's and Keras' shape):
 * its class name in each framework that has it, its hyper-parameters with each framework's
 * keyword and default, the state it keeps per weight, and its update as graph nodes. Everything
 * else — reading `compile()` or `torch.optim.X(…)`, the CLI's `--optimizer` words, the summary
 * line, the trainer's slots — is derived from {@link OPTIMIZERS}. Adding an optimizer means adding
 * one definition to that list.
 *
 * Keras 3's rules are in `core/onnx/optim.ts` (keras/src/optimizers/*.py); PyTorch's follow
 * torch/optim/*.py (torch 1.13's single-tensor paths), written inline below.
 */
import type { FrameworkName } from '../layers/define';
import type { GraphBuilder } from '../onnx/graphBuilder';
import { adagradUpdate, adamStepSize, adamUpdate, rmspropUpdate, sgdMomentumUpdate, sgdUpdate, weightDecay } from '../onnx/optim';
import type { OptimizerSpec, Value } from '../parse/values';

/** An optimizer's registry name (`sgd`, `adam`, …): {@link OPTIMIZERS}' `name`s. */
export type OptimizerName = string;

/**
 * Every hyper-parameter of an optimizer, its framework's defaults filled in. `framework` is absent
 * for Keras (plans and checkpoints written before PyTorch training have none).
 */
export interface OptimizerConfig {
  name: OptimizerName;
  framework?: FrameworkName;
  learningRate: number;
  [hyper: string]: number | boolean | string | undefined;
}

/** How a framework spells a hyper-parameter: a keyword, or one item of a tuple keyword (`betas[0]`). */
type Keyword = string | readonly [string, number];

/** One hyper-parameter: its config key, and per framework its keywords and default. */
export interface HyperParam {
  key: string;
  doc: string;
  /** Keywords by framework, first the canonical one; a framework without an entry does not have it. */
  keywords: Partial<Record<FrameworkName, readonly Keyword[]>>;
  defaults: Partial<Record<FrameworkName, number | boolean>>;
  /** A switch ConvLens does not train: read only to refuse the optimizer when it is on. */
  refused?: boolean;
}

/** Per-graph values every weight's update reads (the learning rate, Adam's step size, …). */
export type OptimizerShared = Record<string, string> & { lr: string };

/** The declarative definition of one optimizer. */
export interface OptimizerDef {
  /** Registry name, what `--optimizer` takes (lower case). */
  readonly name: OptimizerName;
  /** Class names by framework (`keras.optimizers.SGD`, `torch.optim.SGD`); absent: not trained for that framework. */
  readonly classes: Partial<Record<FrameworkName, string>>;
  readonly doc: string;
  /** Hyper-parameters besides the learning rate, whose keywords and defaults are in {@link LEARNING_RATE}. */
  readonly hyper: readonly HyperParam[];
  /** The frameworks whose files that name no optimizer train with this one (Keras' compile() default; ConvLens' choice for PyTorch). */
  readonly defaultFor?: readonly FrameworkName[];
  /** Keywords accepted but not reproduced (said in a note), by framework. */
  readonly ignored?: Partial<Record<FrameworkName, readonly string[]>>;
  /** Why these settings cannot be trained (`amsgrad=True`), or undefined. */
  refuse?(cfg: OptimizerConfig): string | undefined;
  /** The state tensors kept per weight, with their initial value. */
  slots(cfg: OptimizerConfig): { slot: string; init: number }[];
  /** Whether the update reads the 1-based step number `t` (bias corrections, PyTorch's first momentum step). */
  needsStep(cfg: OptimizerConfig): boolean;
  /** Values computed once per step for every weight (from `lr` and `t`). */
  shared?(g: GraphBuilder, cfg: OptimizerConfig, lr: string, t: string | undefined): Record<string, string>;
  /**
   * One weight's update: its next value and each slot's. `out` names the tensors the final ops
   * write (the graph outputs), so no copy follows the update.
   */
  step(g: GraphBuilder, cfg: OptimizerConfig, shared: OptimizerShared, weight: string, grad: string, slots: Record<string, string>, out: StepOutputs): StepResult;
}

export interface StepOutputs {
  w?: string;
  slots?: Record<string, string>;
}

export interface StepResult {
  w: string;
  slots: Record<string, string>;
}

/** The learning rate, every optimizer's first hyper-parameter. Keras' defaults are per optimizer (below). */
const LEARNING_RATE = { keras: ['learning_rate', 'lr'], pytorch: ['lr'] } as const;

const hp = (key: string, doc: string, keywords: HyperParam['keywords'], defaults: HyperParam['defaults'], refused = false): HyperParam => ({ key, doc, keywords, defaults, ...(refused ? { refused } : {}) });
const weightDecayParam = (keras: number, pytorch?: number): HyperParam =>
  hp('weightDecay', 'weight decay', { keras: ['weight_decay'], ...(pytorch === undefined ? {} : { pytorch: ['weight_decay'] }) }, { keras, ...(pytorch === undefined ? {} : { pytorch }) });

/** Keras 3 applies `weight_decay` to any optimizer as a decoupled decay before its step (optimizer.py `_apply_weight_decay`). */
const kerasDecayed = (g: GraphBuilder, cfg: OptimizerConfig, lr: string, w: string): string =>
  (cfg.weightDecay as number) > 0 ? weightDecay(g, w, lr, cfg.weightDecay as number) : w;

/** PyTorch's L2 `weight_decay` (SGD, Adam, Adadelta): added to the gradient, g + λ·w. */
const torchL2 = (g: GraphBuilder, cfg: OptimizerConfig, grad: string, w: string): string =>
  (cfg.weightDecay as number) !== 0 ? g.add(grad, g.mul(w, g.scalar(cfg.weightDecay as number))) : grad;

const isTorch = (cfg: OptimizerConfig): boolean => cfg.framework === 'pytorch';

/** Learning-rate defaults per framework, declared with each optimizer (Keras' and PyTorch's differ). */
const LR_DEFAULTS = new Map<OptimizerName, Partial<Record<FrameworkName, number>>>();

function defineOptimizer(def: OptimizerDef, lr: Partial<Record<FrameworkName, number>>): OptimizerDef {
  LR_DEFAULTS.set(def.name, lr);
  return def;
}

const sgd = defineOptimizer(
  {
    name: 'sgd',
    classes: { keras: 'SGD', pytorch: 'SGD' },
    doc: 'Stochastic gradient descent, with optional (Nesterov) momentum.',
    hyper: [
      hp('momentum', 'momentum factor', { keras: ['momentum'], pytorch: ['momentum'] }, { keras: 0, pytorch: 0 }),
      hp('dampening', 'dampening of the momentum (PyTorch)', { pytorch: ['dampening'] }, { pytorch: 0 }),
      hp('nesterov', 'Nesterov momentum', { keras: ['nesterov'], pytorch: ['nesterov'] }, { keras: false, pytorch: false }),
      weightDecayParam(0, 0),
    ],
    ignored: { pytorch: ['maximize', 'foreach', 'differentiable'] },
    refuse: (cfg) => (isTorch(cfg) && cfg.nesterov && ((cfg.momentum as number) <= 0 || cfg.dampening !== 0) ? 'SGD(nesterov=True) requires a momentum and zero dampening (PyTorch raises ValueError)' : undefined),
    slots: (cfg) => ((cfg.momentum as number) > 0 ? [{ slot: 'momentum', init: 0 }] : []),
    // PyTorch's momentum buffer starts as the first gradient (not (1 − dampening)·g): only dampening makes that differ.
    needsStep: (cfg) => isTorch(cfg) && (cfg.momentum as number) > 0 && cfg.dampening !== 0,
    step(g, cfg, shared, w, grad, slots, out): StepResult {
      const o = out.slots ?? {};
      if (!isTorch(cfg)) {
        const wd = kerasDecayed(g, cfg, shared.lr, w);
        if (cfg.momentum === 0) return { w: sgdUpdate(g, wd, grad, shared.lr, out.w), slots: {} };
        const r = sgdMomentumUpdate(g, wd, grad, slots.momentum, shared.lr, cfg.momentum as number, cfg.nesterov as boolean, { w: out.w, velocity: o.momentum });
        return { w: r.w, slots: { momentum: r.velocity } };
      }
      // torch/optim/sgd.py: d = g + λw; buf ← μ·buf + (1 − τ)·d (buf = d at the first step); d ← d + μ·buf (Nesterov) or buf; w ← w − lr·d.
      let d = torchL2(g, cfg, grad, w);
      const mu = cfg.momentum as number;
      if (mu === 0) return { w: g.sub(w, g.mul(d, shared.lr), out.w), slots: {} };
      const tau = cfg.dampening as number;
      const damped = tau === 0 ? d : g.mul(d, g.scalar(1 - tau));
      let buf: string;
      if (tau === 0) buf = g.add(g.mul(slots.momentum, g.scalar(mu)), damped, o.momentum);
      else buf = g.where(g.equal(shared.t, g.scalar(1)), d, g.add(g.mul(slots.momentum, g.scalar(mu)), damped), o.momentum);
      d = cfg.nesterov ? g.add(d, g.mul(buf, g.scalar(mu))) : buf;
      return { w: g.sub(w, g.mul(d, shared.lr), out.w), slots: { momentum: buf } };
    },
  },
  { keras: 0.01, pytorch: 0.001 },
);

const rmsprop = defineOptimizer(
  {
    name: 'rmsprop',
    classes: { keras: 'RMSprop', pytorch: 'RMSprop' },
    defaultFor: ['keras'],
    doc: 'RMSprop: the gradient divided by a running root mean square.',
    hyper: [
      hp('rho', 'discount of the squared-gradient average', { keras: ['rho'], pytorch: ['alpha'] }, { keras: 0.9, pytorch: 0.99 }),
      hp('momentum', 'momentum factor', { keras: ['momentum'], pytorch: ['momentum'] }, { keras: 0, pytorch: 0 }),
      hp('epsilon', 'added to the denominator', { keras: ['epsilon'], pytorch: ['eps'] }, { keras: 1e-7, pytorch: 1e-8 }),
      hp('centered', 'divide by the gradient variance', { keras: ['centered'], pytorch: ['centered'] }, { keras: false, pytorch: false }),
      weightDecayParam(0, 0),
    ],
    ignored: { pytorch: ['maximize', 'foreach', 'differentiable'] },
    // PyTorch's state_dict names (square_avg, grad_avg, momentum_buffer); Keras' variables.
    slots: (cfg) =>
      isTorch(cfg)
        ? [{ slot: 'square_avg', init: 0 }, ...(cfg.centered ? [{ slot: 'grad_avg', init: 0 }] : []), ...((cfg.momentum as number) > 0 ? [{ slot: 'momentum_buffer', init: 0 }] : [])]
        : [
            { slot: 'velocity', init: 0 },
            ...(cfg.centered ? [{ slot: 'average_gradient', init: 0 }] : []),
            ...((cfg.momentum as number) > 0 ? [{ slot: 'momentum', init: 0 }] : []),
          ],
    needsStep: () => false,
    step(g, cfg, shared, w, grad, slots, out) {
      const o = out.slots ?? {};
      if (isTorch(cfg)) {
        // torch/optim/rmsprop.py: d = g + λw; s ← αs + (1 − α)d²; (centered: a ← αa + (1 − α)d, s − a²);
        // avg = √(…) + ε (ε outside the root); buf ← μ·buf + d/avg, w ← w − lr·buf; or w ← w − lr·d/avg.
        const alpha = cfg.rho as number;
        const d = torchL2(g, cfg, grad, w);
        const sq = g.add(g.mul(slots.square_avg, g.scalar(alpha)), g.mul(d, g.mul(d, g.scalar(1 - alpha))), o.square_avg);
        const next: Record<string, string> = { square_avg: sq };
        let variance = sq;
        if (cfg.centered) {
          const ga = g.add(g.mul(slots.grad_avg, g.scalar(alpha)), g.mul(d, g.scalar(1 - alpha)), o.grad_avg);
          next.grad_avg = ga;
          variance = g.sub(sq, g.mul(ga, ga));
        }
        const avg = g.add(g.sqrt(variance), g.scalar(cfg.epsilon as number));
        const mu = cfg.momentum as number;
        if (mu > 0) {
          const buf = g.add(g.mul(slots.momentum_buffer, g.scalar(mu)), g.div(d, avg), o.momentum_buffer);
          next.momentum_buffer = buf;
          return { w: g.sub(w, g.mul(buf, shared.lr), out.w), slots: next };
        }
        return { w: g.sub(w, g.mul(g.div(d, avg), shared.lr), out.w), slots: next };
      }
      const spec = { rho: cfg.rho as number, momentum: cfg.momentum as number, epsilon: cfg.epsilon as number, centered: cfg.centered as boolean };
      const r = rmspropUpdate(g, kerasDecayed(g, cfg, shared.lr, w), grad, slots.velocity, shared.lr, spec, slots.average_gradient, slots.momentum, {
        w: out.w,
        velocity: o.velocity,
        average: o.average_gradient,
        momentum: o.momentum,
      });
      const next: Record<string, string> = { velocity: r.velocity };
      if (r.average) next.average_gradient = r.average;
      if (r.momentum) next.momentum = r.momentum;
      return { w: r.w, slots: next };
    },
  },
  { keras: 0.001, pytorch: 0.01 },
);

/** Adam and AdamW: the same moments; they differ in their weight decay and defaults. */
function adamDef(name: 'adam' | 'adamw', keras: string, pytorch: string, decay: { keras: number; pytorch: number }, doc: string): OptimizerDef {
  return defineOptimizer(
    {
      name,
      classes: { keras, pytorch },
      doc,
      defaultFor: name === 'adam' ? ['pytorch'] : [],
      hyper: [
        hp('beta1', 'decay of the first moment', { keras: ['beta_1'], pytorch: [['betas', 0]] }, { keras: 0.9, pytorch: 0.9 }),
        hp('beta2', 'decay of the second moment', { keras: ['beta_2'], pytorch: [['betas', 1]] }, { keras: 0.999, pytorch: 0.999 }),
        hp('epsilon', 'added to the denominator', { keras: ['epsilon'], pytorch: ['eps'] }, { keras: 1e-7, pytorch: 1e-8 }),
        weightDecayParam(decay.keras, decay.pytorch),
        hp('amsgrad', 'the AMSGrad variant', { keras: ['amsgrad'], pytorch: ['amsgrad'] }, {}, true),
      ],
      ignored: { pytorch: ['maximize', 'foreach', 'capturable', 'differentiable', 'fused'] },
      slots: () => [
        { slot: 'momentum', init: 0 },
        { slot: 'velocity', init: 0 },
      ],
      needsStep: () => true,
      shared(g, cfg, lr, t): Record<string, string> {
        const spec = { beta1: cfg.beta1 as number, beta2: cfg.beta2 as number, epsilon: cfg.epsilon as number };
        if (!isTorch(cfg)) return { stepSize: adamStepSize(g, lr, t!, spec) };
        // torch/optim/adam.py: step_size = lr / (1 − β1^t); denom = √v / √(1 − β2^t) + ε (ε outside the correction).
        const one = g.scalar(1);
        return {
          stepSize: g.div(lr, g.sub(one, g.pow(g.scalar(spec.beta1), t!))),
          invRootBc2: g.div(one, g.sqrt(g.sub(one, g.pow(g.scalar(spec.beta2), t!)))),
        };
      },
      step(g, cfg, shared, w, grad, slots, out) {
        const o = out.slots ?? {};
        const b1 = cfg.beta1 as number;
        const b2 = cfg.beta2 as number;
        if (!isTorch(cfg)) {
          const r = adamUpdate(g, kerasDecayed(g, cfg, shared.lr, w), grad, slots.momentum, slots.velocity, shared.stepSize, { beta1: b1, beta2: b2, epsilon: cfg.epsilon as number }, { w: out.w, m: o.momentum, v: o.velocity });
          return { w: r.w, slots: { momentum: r.m, velocity: r.v } };
        }
        const lambda = cfg.weightDecay as number;
        // Adam: L2 in the gradient; AdamW: w ← w·(1 − lr·λ) before the step (decoupled).
        const d = name === 'adam' ? torchL2(g, cfg, grad, w) : grad;
        const w0 = name === 'adamw' && lambda !== 0 ? g.sub(w, g.mul(w, g.mul(shared.lr, g.scalar(lambda)))) : w;
        const m = g.add(g.mul(slots.momentum, g.scalar(b1)), g.mul(d, g.scalar(1 - b1)), o.momentum);
        const v = g.add(g.mul(slots.velocity, g.scalar(b2)), g.mul(d, g.mul(d, g.scalar(1 - b2))), o.velocity);
        const denom = g.add(g.mul(g.sqrt(v), shared.invRootBc2), g.scalar(cfg.epsilon as number));
        return { w: g.sub(w0, g.div(g.mul(m, shared.stepSize), denom), out.w), slots: { momentum: m, velocity: v } };
      },
    },
    { keras: 0.001, pytorch: 0.001 },
  );
}

const adam = adamDef('adam', 'Adam', 'Adam', { keras: 0, pytorch: 0 }, 'Adam: bias-corrected first and second moments of the gradient.');
const adamw = adamDef('adamw', 'AdamW', 'AdamW', { keras: 0.004, pytorch: 0.01 }, 'AdamW: Adam with decoupled weight decay.');

const adagrad = defineOptimizer(
  {
    name: 'adagrad',
    classes: { keras: 'Adagrad', pytorch: 'Adagrad' },
    doc: 'Adagrad: per-weight rates from the accumulated squared gradients.',
    hyper: [
      hp('initialAccumulator', 'starting value of the accumulator', { keras: ['initial_accumulator_value'], pytorch: ['initial_accumulator_value'] }, { keras: 0.1, pytorch: 0 }),
      hp('epsilon', 'added to the denominator (Keras: inside the square root; PyTorch: outside)', { keras: ['epsilon'], pytorch: ['eps'] }, { keras: 1e-7, pytorch: 1e-10 }),
      hp('lrDecay', 'learning-rate decay per step (PyTorch)', { pytorch: ['lr_decay'] }, { pytorch: 0 }),
      weightDecayParam(0, 0),
    ],
    ignored: { pytorch: ['maximize', 'foreach', 'differentiable'] },
    // PyTorch's state_dict name is `sum`; Keras' variable `accumulator`.
    slots: (cfg) => [{ slot: isTorch(cfg) ? 'sum' : 'accumulator', init: cfg.initialAccumulator as number }],
    needsStep: (cfg) => isTorch(cfg) && (cfg.lrDecay as number) !== 0,
    step(g, cfg, shared, w, grad, slots, out): StepResult {
      if (isTorch(cfg)) {
        // torch/optim/adagrad.py: d = g + λw; clr = lr / (1 + (t − 1)·lr_decay); sum ← sum + d²; w ← w − clr·d/(√sum + ε).
        const d = torchL2(g, cfg, grad, w);
        const decay = cfg.lrDecay as number;
        const clr = decay === 0 ? shared.lr : g.div(shared.lr, g.add(g.scalar(1), g.mul(g.sub(shared.t, g.scalar(1)), g.scalar(decay))));
        const sum = g.add(slots.sum, g.mul(d, d), out.slots?.sum);
        const std = g.add(g.sqrt(sum), g.scalar(cfg.epsilon as number));
        return { w: g.sub(w, g.mul(g.div(d, std), clr), out.w), slots: { sum } };
      }
      const r = adagradUpdate(g, kerasDecayed(g, cfg, shared.lr, w), grad, slots.accumulator, shared.lr, cfg.epsilon as number, { w: out.w, accumulator: out.slots?.accumulator });
      return { w: r.w, slots: { accumulator: r.accumulator } };
    },
  },
  { keras: 0.001, pytorch: 0.01 },
);

const adamax = defineOptimizer(
  {
    name: 'adamax',
    classes: { keras: 'Adamax' },
    doc: 'Adamax: Adam with the infinity norm of the gradients in place of the second moment (Keras 3).',
    hyper: [
      hp('beta1', 'decay of the first moment', { keras: ['beta_1'] }, { keras: 0.9 }),
      hp('beta2', 'decay of the infinity norm', { keras: ['beta_2'] }, { keras: 0.999 }),
      hp('epsilon', 'added to the denominator', { keras: ['epsilon'] }, { keras: 1e-7 }),
      weightDecayParam(0),
    ],
    slots: () => [
      { slot: 'momentum', init: 0 },
      { slot: 'norm', init: 0 },
    ],
    needsStep: () => true,
    // keras/src/optimizers/adamax.py: lr / (1 − β1^t), once per step.
    shared: (g, cfg, lr, t) => ({ stepSize: g.div(lr, g.sub(g.scalar(1), g.pow(g.scalar(cfg.beta1 as number), t!))) }),
    step(g, cfg, shared, w, grad, slots, out): StepResult {
      // m ← m + (g − m)(1 − β1); u ← max(β2·u, |g|); w ← w − lr·m / ((1 − β1^t)(u + ε)).
      const o = out.slots ?? {};
      const m = g.add(slots.momentum, g.mul(g.sub(grad, slots.momentum), g.scalar(1 - (cfg.beta1 as number))), o.momentum);
      const u = g.max([g.mul(slots.norm, g.scalar(cfg.beta2 as number)), g.abs(grad)], o.norm);
      const next = g.sub(kerasDecayed(g, cfg, shared.lr, w), g.div(g.mul(m, shared.stepSize), g.add(u, g.scalar(cfg.epsilon as number))), out.w);
      return { w: next, slots: { momentum: m, norm: u } };
    },
  },
  { keras: 0.001 },
);

/** Steps of Nadam's momentum-schedule product kept in a table; beyond it the product is 0 in float32. */
const NADAM_TABLE = 1024;

const nadam = defineOptimizer(
  {
    name: 'nadam',
    classes: { keras: 'Nadam' },
    doc: "Nadam: Adam with Nesterov momentum and Keras' momentum schedule β1·(1 − 0.5·0.96^t) (Keras 3).",
    hyper: [
      hp('beta1', 'decay of the first moment', { keras: ['beta_1'] }, { keras: 0.9 }),
      hp('beta2', 'decay of the second moment', { keras: ['beta_2'] }, { keras: 0.999 }),
      hp('epsilon', 'added to the denominator', { keras: ['epsilon'] }, { keras: 1e-7 }),
      weightDecayParam(0),
    ],
    slots: () => [
      { slot: 'momentum', init: 0 },
      { slot: 'velocity', init: 0 },
    ],
    needsStep: () => true,
    shared(g, cfg, lr, t): Record<string, string> {
      // keras/src/optimizers/nadam.py: u_t = β1(1 − 0.5·0.96^t); Keras keeps Π u_1…u_t in a variable
      // multiplied once a step; here it is read from a table by t (the same product, computed once).
      const b1 = cfg.beta1 as number;
      const table = new Float32Array(NADAM_TABLE);
      let p = 1;
      for (let i = 0; i < NADAM_TABLE; i++) table[i] = p *= b1 * (1 - 0.5 * 0.96 ** (i + 1));
      const products = g.initializer(g.fresh('nadam_u_product'), table, [NADAM_TABLE]);
      const index = g.cast(g.sub(g.node('Min', [t!, g.scalar(NADAM_TABLE)])[0], g.scalar(1)), 'int64');
      const inTable = g.cast(g.less(t!, g.scalar(NADAM_TABLE + 0.5)), 'float32');
      const one = g.scalar(1);
      const decay = g.scalar(0.96);
      const uT = g.mul(g.scalar(b1), g.sub(one, g.mul(g.scalar(0.5), g.pow(decay, t!))));
      const uT1 = g.mul(g.scalar(b1), g.sub(one, g.mul(g.scalar(0.5), g.pow(decay, g.add(t!, one)))));
      const product = g.mul(g.gather(products, index, 0), inTable);
      const product1 = g.mul(product, uT1);
      return {
        // m̂ = u_{t+1}·m/(1 − Π_{t+1}) + (1 − u_t)·g/(1 − Π_t): the two coefficients, once per step.
        mCoef: g.div(uT1, g.sub(one, product1)),
        gCoef: g.div(g.sub(one, uT), g.sub(one, product)),
        vCoef: g.div(one, g.sub(one, g.pow(g.scalar(cfg.beta2 as number), t!))),
      };
    },
    step(g, cfg, shared, w, grad, slots, out): StepResult {
      const o = out.slots ?? {};
      const b1 = cfg.beta1 as number;
      const b2 = cfg.beta2 as number;
      const m = g.add(slots.momentum, g.mul(g.sub(grad, slots.momentum), g.scalar(1 - b1)), o.momentum);
      const v = g.add(slots.velocity, g.mul(g.sub(g.mul(grad, grad), slots.velocity), g.scalar(1 - b2)), o.velocity);
      const mHat = g.add(g.mul(m, shared.mCoef), g.mul(grad, shared.gCoef));
      const denom = g.add(g.sqrt(g.mul(v, shared.vCoef)), g.scalar(cfg.epsilon as number));
      const next = g.sub(kerasDecayed(g, cfg, shared.lr, w), g.div(g.mul(mHat, shared.lr), denom), out.w);
      return { w: next, slots: { momentum: m, velocity: v } };
    },
  },
  { keras: 0.001 },
);

const adadelta = defineOptimizer(
  {
    name: 'adadelta',
    classes: { pytorch: 'Adadelta' },
    doc: 'Adadelta (PyTorch): steps scaled by the running RMS of past steps over that of the gradients.',
    hyper: [
      hp('rho', 'decay of the running averages', { pytorch: ['rho'] }, { pytorch: 0.9 }),
      hp('epsilon', 'added inside both square roots', { pytorch: ['eps'] }, { pytorch: 1e-6 }),
      weightDecayParam(0, 0),
    ],
    ignored: { pytorch: ['maximize', 'foreach', 'differentiable'] },
    slots: () => [
      { slot: 'square_avg', init: 0 },
      { slot: 'acc_delta', init: 0 },
    ],
    needsStep: () => false,
    step(g, cfg, shared, w, grad, slots, out) {
      // torch/optim/adadelta.py: s ← ρs + (1 − ρ)g²; δ = √(a + ε)/√(s + ε)·g; a ← ρa + (1 − ρ)δ²; w ← w − lr·δ.
      const o = out.slots ?? {};
      const rho = cfg.rho as number;
      const eps = g.scalar(cfg.epsilon as number);
      const d = torchL2(g, cfg, grad, w);
      const s = g.add(g.mul(slots.square_avg, g.scalar(rho)), g.mul(d, g.mul(d, g.scalar(1 - rho))), o.square_avg);
      const delta = g.mul(g.div(g.sqrt(g.add(slots.acc_delta, eps)), g.sqrt(g.add(s, eps))), d);
      const a = g.add(g.mul(slots.acc_delta, g.scalar(rho)), g.mul(delta, g.mul(delta, g.scalar(1 - rho))), o.acc_delta);
      return { w: g.sub(w, g.mul(delta, shared.lr), out.w), slots: { square_avg: s, acc_delta: a } };
    },
  },
  { pytorch: 1.0 },
);

/** The registry: every optimizer ConvLens trains with. */
export const OPTIMIZERS: readonly OptimizerDef[] = [sgd, rmsprop, adam, adamw, adagrad, adamax, nadam, adadelta];

/** Every registry name, in registry order. */
export const OPTIMIZER_NAMES: readonly OptimizerName[] = OPTIMIZERS.map((d) => d.name);

/** The registry names a framework trains with. */
export const optimizerNamesFor = (framework: FrameworkName): OptimizerName[] => OPTIMIZERS.filter((d) => d.classes[framework]).map((d) => d.name);

/** The optimizer a framework's file trains with when it names none. */
export function frameworkDefaultOptimizer(framework: FrameworkName): OptimizerName {
  return OPTIMIZERS.find((d) => d.defaultFor?.includes(framework))!.name;
}

/** The definition of a registry name (throws on an unknown one: configs are made from the registry). */
export function optimizerDef(name: OptimizerName): OptimizerDef {
  const d = OPTIMIZERS.find((x) => x.name === name);
  if (!d) throw new Error(`unknown optimizer '${name}'`);
  return d;
}

/** An optimizer's learning-rate default in a framework. */
export function defaultLearningRate(name: OptimizerName, framework: FrameworkName = 'keras'): number | undefined {
  return LR_DEFAULTS.get(name)?.[framework];
}

/** The framework's defaults for an optimizer (Keras' unless `framework` says otherwise). */
export function defaultOptimizer(name: OptimizerName, framework: FrameworkName = 'keras'): OptimizerConfig {
  const d = optimizerDef(name);
  const cfg: OptimizerConfig = { name, ...(framework === 'keras' ? {} : { framework }), learningRate: defaultLearningRate(name, framework) ?? 0.001 };
  for (const h of d.hyper) {
    const v = h.defaults[framework];
    if (v !== undefined) cfg[h.key] = v;
  }
  return cfg;
}

/** `SGD`, `'rmsprop'`, `RMSprop` → the optimizer's name, or undefined when ConvLens does not train with it in that framework. */
export function optimizerName(s: string, framework: FrameworkName = 'keras'): OptimizerName | undefined {
  const n = s.toLowerCase();
  return OPTIMIZERS.find((d) => d.classes[framework] && (d.name === n || d.classes[framework]!.toLowerCase() === n))?.name;
}

/** Reads an optimizer from `compile()` or `torch.optim.X(…)`: its arguments over the defaults; `notes` says what was assumed. */
export function readOptimizer(spec: OptimizerSpec, notes: string[], framework: FrameworkName = 'keras'): { config: OptimizerConfig } | { error: string } {
  const name = optimizerName(spec.name, framework);
  const where = framework === 'pytorch' ? `torch.optim.${spec.name}` : spec.name;
  if (!name) {
    const names = optimizerNamesFor(framework).map((n) => (framework === 'keras' ? n : `torch.optim.${optimizerDef(n).classes[framework]}`));
    return { error: `optimizer '${where}' is not supported for training yet (use one of ${names.join(', ')})` };
  }
  const d = optimizerDef(name);
  const cfg = defaultOptimizer(name, framework);
  const read = (kw: Keyword): { value?: number; unknown?: boolean } | undefined => {
    const [k, i] = typeof kw === 'string' ? [kw, undefined] : kw;
    let v = spec.args.get(k);
    if (v === undefined) return undefined;
    if (i !== undefined) v = v.k === 'seq' ? v.items[i] : v.k === 'unknown' ? v : undefined;
    if (v === undefined) return undefined;
    if (v.k === 'none') return {};
    const s = readScalar(v);
    return s === undefined ? { unknown: true } : { value: s };
  };
  const params: { key: string; keywords: readonly Keyword[]; refused?: boolean }[] = [{ key: 'learningRate', keywords: LEARNING_RATE[framework] }, ...d.hyper.map((h) => ({ key: h.key, keywords: h.keywords[framework] ?? [], refused: h.refused }))];
  for (const p of params) {
    for (const kw of p.keywords) {
      const r = read(kw);
      if (!r) continue;
      const shown = typeof kw === 'string' ? kw : `${kw[0]}[${kw[1]}]`;
      if (p.refused) {
        if (r.value) return { error: `${d.classes[framework]}(${shown}=True) is not supported for training yet` };
        break;
      }
      if (r.unknown) notes.push(`cannot read ${where}(${shown}=…) without running the code; using ${String(cfg[p.key])}`);
      else if (r.value !== undefined) cfg[p.key] = typeof cfg[p.key] === 'boolean' ? Boolean(r.value) : r.value;
      break;
    }
  }
  const why = d.refuse?.(cfg);
  if (why) return { error: why };
  const ignored = [...(d.ignored?.[framework] ?? []), ...(framework === 'keras' ? ['clipnorm', 'clipvalue', 'global_clipnorm', 'decay', 'use_ema'] : [])];
  for (const kw of ignored) {
    const v = spec.args.get(kw);
    if (v && v.k !== 'none' && !(v.k === 'bool' && !v.v)) notes.push(`${where}(${kw}=…) is ignored by the ConvLens trainer`);
  }
  return { config: cfg };
}

function readScalar(v: Value): number | undefined {
  if (v.k === 'num') return v.v;
  if (v.k === 'bool') return v.v ? 1 : 0;
  if (v.k === 'none') return 0;
  return undefined;
}

/** The state tensors an optimizer keeps per weight, with their initial value. */
export const optimizerSlots = (cfg: OptimizerConfig): { slot: string; init: number }[] => optimizerDef(cfg.name).slots(cfg);

/** Whether the update needs the 1-based step number `t` as an input. */
export const needsStep = (cfg: OptimizerConfig): boolean => optimizerDef(cfg.name).needsStep(cfg);

/**
 * The learning rate (and the optimizer's shared values) every weight update reads. With `after`,
 * they exist only once those tensors are computed, so every weight's new value is written after
 * them: the trainer lets onnxruntime write each new weight over the buffer it fed the old one in,
 * which is safe once every reader of the old weights (the forward pass, the input gradients) has
 * run; passing the loss and every weight gradient covers them, since each of those readers feeds one.
 */
export function optimizerShared(g: GraphBuilder, cfg: OptimizerConfig, lr: string, t: string | undefined, after: readonly string[] = []): OptimizerShared {
  const ordered = g.after(lr, after);
  const step = t === undefined ? undefined : g.after(t, after);
  return { ...(optimizerDef(cfg.name).shared?.(g, cfg, ordered, step) ?? {}), lr: ordered, ...(step ? { t: step } : {}) };
}

/** One weight's update: its next value and the next value of each state slot. */
export function optimizerStep(
  g: GraphBuilder,
  cfg: OptimizerConfig,
  shared: OptimizerShared,
  weight: string,
  grad: string,
  slots: Record<string, string>,
  out: StepOutputs = {},
): StepResult {
  return optimizerDef(cfg.name).step(g, cfg, shared, weight, grad, slots, out);
}

/** `RMSprop(learning_rate=0.0001, rho=0.9)`, `torch.optim.SGD(lr=0.1, momentum=0.9)`, for summaries. */
export function describeOptimizer(cfg: OptimizerConfig): string {
  const framework = cfg.framework ?? 'keras';
  const d = optimizerDef(cfg.name);
  const defaults = defaultOptimizer(cfg.name, framework);
  const parts = [`${LEARNING_RATE[framework][0]}=${cfg.learningRate}`];
  const tuples = new Map<string, string[]>();
  for (const h of d.hyper) {
    const kw = h.keywords[framework]?.[0];
    const v = cfg[h.key];
    if (kw === undefined || v === undefined) continue;
    const text = typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v);
    if (typeof kw !== 'string') {
      // A tuple keyword (`betas`) is shown whole when any of its items differs from the default.
      const items = tuples.get(kw[0]) ?? [];
      items[kw[1]] = text;
      tuples.set(kw[0], items);
      if (v !== defaults[h.key]) tuples.set(`${kw[0]}!`, []);
      continue;
    }
    if (v !== defaults[h.key]) parts.push(`${kw}=${text}`);
  }
  for (const [k, items] of tuples) if (!k.endsWith('!') && tuples.has(`${k}!`)) parts.push(`${k}=(${items.join(', ')})`);
  return `${d.classes[framework]}(${parts.join(', ')})`;
}
