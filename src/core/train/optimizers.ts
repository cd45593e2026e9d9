/**
 * Keras optimizers as the trainer runs them: names, defaults and hyper-parameters read from a
 * `compile()` call, the state each one keeps per weight, and its update step as graph nodes
 * (the rules themselves are in `core/onnx/optim.ts`).
 */
import type { GraphBuilder } from '../onnx/graphBuilder';
import { adagradUpdate, adamStepSize, adamUpdate, rmspropUpdate, sgdMomentumUpdate, sgdUpdate, weightDecay } from '../onnx/optim';
import type { OptimizerSpec, Value } from '../parse/values';

export type OptimizerName = 'sgd' | 'rmsprop' | 'adam' | 'adamw' | 'adagrad';

/** Every hyper-parameter of an optimizer, Keras 3 defaults filled in. */
export type OptimizerConfig =
  | { name: 'sgd'; learningRate: number; momentum: number; nesterov: boolean; weightDecay: number }
  | { name: 'rmsprop'; learningRate: number; rho: number; momentum: number; epsilon: number; centered: boolean; weightDecay: number }
  | { name: 'adam' | 'adamw'; learningRate: number; beta1: number; beta2: number; epsilon: number; weightDecay: number }
  | { name: 'adagrad'; learningRate: number; initialAccumulator: number; epsilon: number; weightDecay: number };

export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['sgd', 'rmsprop', 'adam', 'adamw', 'adagrad'];

/** Keras 3 defaults per optimizer. */
export function defaultOptimizer(name: OptimizerName): OptimizerConfig {
  switch (name) {
    case 'sgd':
      return { name, learningRate: 0.01, momentum: 0, nesterov: false, weightDecay: 0 };
    case 'rmsprop':
      return { name, learningRate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false, weightDecay: 0 };
    case 'adam':
      return { name, learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0 };
    case 'adamw':
      return { name, learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0.004 };
    case 'adagrad':
      return { name, learningRate: 0.001, initialAccumulator: 0.1, epsilon: 1e-7, weightDecay: 0 };
  }
}

/** `SGD`, `'rmsprop'`, `RMSprop` → the optimizer's name, or undefined when ConvLens does not train with it. */
export function optimizerName(s: string): OptimizerName | undefined {
  const n = s.toLowerCase();
  return (OPTIMIZER_NAMES as readonly string[]).includes(n) ? (n as OptimizerName) : undefined;
}

/** Reads an optimizer from `compile()`: its arguments over the defaults; `notes` says what was assumed. */
export function readOptimizer(spec: OptimizerSpec, notes: string[]): OptimizerConfig | { error: string } {
  const name = optimizerName(spec.name);
  if (!name) return { error: `optimizer '${spec.name}' is not supported for training yet (use one of ${OPTIMIZER_NAMES.join(', ')})` };
  const cfg = defaultOptimizer(name) as Record<string, unknown>;
  const args: [string, string][] = [
    ['learning_rate', 'learningRate'], ['lr', 'learningRate'], ['momentum', 'momentum'], ['nesterov', 'nesterov'],
    ['rho', 'rho'], ['epsilon', 'epsilon'], ['centered', 'centered'], ['beta_1', 'beta1'], ['beta_2', 'beta2'],
    ['weight_decay', 'weightDecay'], ['initial_accumulator_value', 'initialAccumulator'],
  ];
  for (const [kw, key] of args) {
    const v = spec.args.get(kw);
    if (v === undefined || !(key in cfg)) continue;
    const read = readScalar(v);
    if (read === undefined) notes.push(`cannot read ${spec.name}(${kw}=…) without running the code; using ${String(cfg[key])}`);
    else if (v.k === 'none') continue;
    else cfg[key] = typeof cfg[key] === 'boolean' ? Boolean(read) : read;
  }
  const amsgrad = spec.args.get('amsgrad');
  if (amsgrad && readScalar(amsgrad)) return { error: `${spec.name}(amsgrad=True) is not supported for training yet` };
  for (const ignored of ['clipnorm', 'clipvalue', 'global_clipnorm', 'decay', 'use_ema']) {
    if (spec.args.has(ignored) && spec.args.get(ignored)!.k !== 'none') notes.push(`${spec.name}(${ignored}=…) is ignored by the ConvLens trainer`);
  }
  return cfg as OptimizerConfig;
}

function readScalar(v: Value): number | undefined {
  if (v.k === 'num') return v.v;
  if (v.k === 'bool') return v.v ? 1 : 0;
  if (v.k === 'none') return 0;
  return undefined;
}

/** The state tensors an optimizer keeps per weight, with their initial value. */
export function optimizerSlots(cfg: OptimizerConfig): { slot: string; init: number }[] {
  switch (cfg.name) {
    case 'sgd':
      return cfg.momentum > 0 ? [{ slot: 'momentum', init: 0 }] : [];
    case 'rmsprop':
      return [
        { slot: 'velocity', init: 0 },
        ...(cfg.centered ? [{ slot: 'average_gradient', init: 0 }] : []),
        ...(cfg.momentum > 0 ? [{ slot: 'momentum', init: 0 }] : []),
      ];
    case 'adam':
    case 'adamw':
      return [
        { slot: 'momentum', init: 0 },
        { slot: 'velocity', init: 0 },
      ];
    case 'adagrad':
      return [{ slot: 'accumulator', init: cfg.initialAccumulator }];
  }
}

/** Whether the update needs the 1-based step number `t` as an input (Adam's bias correction). */
export const needsStep = (cfg: OptimizerConfig): boolean => cfg.name === 'adam' || cfg.name === 'adamw';

/** Per-graph values shared by every weight's update (Adam's bias-corrected step size). */
export interface OptimizerShared {
  lr: string;
  stepSize?: string;
}

/**
 * The learning rate (and Adam's step size) every weight update reads. With `after`, they exist
 * only once those tensors are computed, so every weight's new value is written after them: the
 * trainer lets onnxruntime write each new weight over the buffer it fed the old one in, which is
 * safe once every reader of the old weights (the forward pass, the input gradients) has run;
 * passing the loss and every weight gradient covers them, since each of those readers feeds one.
 */
export function optimizerShared(g: GraphBuilder, cfg: OptimizerConfig, lr: string, t: string | undefined, after: readonly string[] = []): OptimizerShared {
  const ordered = g.after(lr, after);
  if (cfg.name === 'adam' || cfg.name === 'adamw') {
    return { lr: ordered, stepSize: adamStepSize(g, ordered, t!, { beta1: cfg.beta1, beta2: cfg.beta2, epsilon: cfg.epsilon }) };
  }
  return { lr: ordered };
}

/**
 * One weight's update: its next value and the next value of each state slot. `out` names the
 * tensors the final ops write (the graph outputs), so no copy follows the update.
 */
export function optimizerStep(
  g: GraphBuilder,
  cfg: OptimizerConfig,
  shared: OptimizerShared,
  weight: string,
  grad: string,
  slots: Record<string, string>,
  out: { w?: string; slots?: Record<string, string> } = {},
): { w: string; slots: Record<string, string> } {
  const w = cfg.weightDecay > 0 ? weightDecay(g, weight, shared.lr, cfg.weightDecay) : weight;
  const o = out.slots ?? {};
  switch (cfg.name) {
    case 'sgd': {
      if (cfg.momentum === 0) return { w: sgdUpdate(g, w, grad, shared.lr, out.w), slots: {} };
      const r = sgdMomentumUpdate(g, w, grad, slots.momentum, shared.lr, cfg.momentum, cfg.nesterov, { w: out.w, velocity: o.momentum });
      return { w: r.w, slots: { momentum: r.velocity } };
    }
    case 'rmsprop': {
      const r = rmspropUpdate(g, w, grad, slots.velocity, shared.lr, cfg, slots.average_gradient, slots.momentum, {
        w: out.w,
        velocity: o.velocity,
        average: o.average_gradient,
        momentum: o.momentum,
      });
      const next: Record<string, string> = { velocity: r.velocity };
      if (r.average) next.average_gradient = r.average;
      if (r.momentum) next.momentum = r.momentum;
      return { w: r.w, slots: next };
    }
    case 'adam':
    case 'adamw': {
      const r = adamUpdate(g, w, grad, slots.momentum, slots.velocity, shared.stepSize!, { beta1: cfg.beta1, beta2: cfg.beta2, epsilon: cfg.epsilon }, { w: out.w, m: o.momentum, v: o.velocity });
      return { w: r.w, slots: { momentum: r.m, velocity: r.v } };
    }
    case 'adagrad': {
      const r = adagradUpdate(g, w, grad, slots.accumulator, shared.lr, cfg.epsilon, { w: out.w, accumulator: o.accumulator });
      return { w: r.w, slots: { accumulator: r.accumulator } };
    }
  }
}

/** `RMSprop(learning_rate=0.0001, rho=0.9)`, for summaries. */
export function describeOptimizer(cfg: OptimizerConfig): string {
  const display = { sgd: 'SGD', rmsprop: 'RMSprop', adam: 'Adam', adamw: 'AdamW', adagrad: 'Adagrad' }[cfg.name];
  const d = defaultOptimizer(cfg.name) as Record<string, unknown>;
  const keras: Record<string, string> = {
    learningRate: 'learning_rate', momentum: 'momentum', nesterov: 'nesterov', rho: 'rho', epsilon: 'epsilon', centered: 'centered',
    beta1: 'beta_1', beta2: 'beta_2', weightDecay: 'weight_decay', initialAccumulator: 'initial_accumulator_value',
  };
  const parts = Object.entries(cfg)
    .filter(([k, v]) => k !== 'name' && (k === 'learningRate' || v !== d[k]))
    .map(([k, v]) => `${keras[k] ?? k}=${typeof v === 'boolean' ? (v ? 'True' : 'False') : v}`);
  return `${display}(${parts.join(', ')})`;
}
