/**
 * Optimizer update steps as graph fragments. Weights and optimizer state are graph inputs and
 * their updated values graph outputs, so the caller keeps the state between `session.run`
 * calls. Hyper-parameters that change during training (learning rate, step count) are graph
 * inputs too (float32 scalars). Semantics follow Keras 3's optimizers.
 *
 * Each update takes optional output names for its final values, so the last op of the rule
 * writes the graph output itself (no Identity copy), and uses as few full-size passes as
 * standard ops allow: the trainer has onnxruntime write these outputs straight into the
 * buffers it fed as inputs, and on a large model every pass over the weights and slots costs
 * memory bandwidth (VGG16: 553 MB per tensor).
 */
import type { GraphBuilder } from './graphBuilder';

/** Plain SGD: w − lr·g. */
export function sgdUpdate(g: GraphBuilder, w: string, grad: string, lr: string, out?: string): string {
  return g.sub(w, g.mul(grad, lr), out);
}

/**
 * SGD with momentum (Keras): v ← momentum·v − lr·g; w ← w + v, or with
 * Nesterov w ← w + momentum·v − lr·g.
 */
export function sgdMomentumUpdate(
  g: GraphBuilder,
  w: string,
  grad: string,
  velocity: string,
  lr: string,
  momentum: number,
  nesterov = false,
  out: { w?: string; velocity?: string } = {},
): { w: string; velocity: string } {
  const step = g.mul(grad, lr);
  const v = g.sub(g.mul(velocity, g.scalar(momentum)), step, out.velocity);
  const next = nesterov ? g.sub(g.add(w, g.mul(v, g.scalar(momentum))), step, out.w) : g.add(w, v, out.w);
  return { w: next, velocity: v };
}

/** Adam hyper-parameters (Keras defaults: 0.9, 0.999, 1e-7). */
export interface AdamSpec {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/**
 * The bias-corrected step size lr·√(1 − β2^t)/(1 − β1^t), computed once per
 * graph from the scalar inputs `lr` and `t` (the 1-based step number).
 */
export function adamStepSize(g: GraphBuilder, lr: string, t: string, spec: AdamSpec = {}): string {
  const one = g.scalar(1);
  const b1t = g.pow(g.scalar(spec.beta1 ?? 0.9), t);
  const b2t = g.pow(g.scalar(spec.beta2 ?? 0.999), t);
  return g.div(g.mul(lr, g.sqrt(g.sub(one, b2t))), g.sub(one, b1t));
}

/**
 * Adam (Keras): m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²;
 * w ← w − α·m/(√v + ε) with α from {@link adamStepSize}. (Keras writes m + (g − m)(1 − β1),
 * the same value; this form reads m once.)
 */
export function adamUpdate(
  g: GraphBuilder,
  w: string,
  grad: string,
  m: string,
  v: string,
  stepSize: string,
  spec: AdamSpec = {},
  out: { w?: string; m?: string; v?: string } = {},
): { w: string; m: string; v: string } {
  const b1 = spec.beta1 ?? 0.9;
  const b2 = spec.beta2 ?? 0.999;
  const m2 = g.add(g.mul(m, g.scalar(b1)), g.mul(grad, g.scalar(1 - b1)), out.m);
  const v2 = g.add(g.mul(v, g.scalar(b2)), g.mul(grad, g.mul(grad, g.scalar(1 - b2))), out.v);
  const denom = g.add(g.sqrt(v2), g.scalar(spec.epsilon ?? 1e-7));
  const w2 = g.sub(w, g.div(g.mul(m2, stepSize), denom), out.w);
  return { w: w2, m: m2, v: v2 };
}

/** RMSprop hyper-parameters (Keras defaults: rho 0.9, epsilon 1e-7, momentum 0, centered false). */
export interface RmspropSpec {
  rho?: number;
  epsilon?: number;
  momentum?: number;
  centered?: boolean;
}

/**
 * RMSprop (Keras 3): v ← ρ·v + (1 − ρ)·g²; centered: a ← ρ·a + (1 − ρ)·g and the denominator
 * is v − a² + ε, else v + ε; step = lr·g/√denominator; with momentum m ← momentum·m + step,
 * w ← w − m, else w ← w − step. `average` is needed when centered, `momentumBuffer` when momentum > 0.
 */
export function rmspropUpdate(
  g: GraphBuilder,
  w: string,
  grad: string,
  velocity: string,
  lr: string,
  spec: RmspropSpec = {},
  average?: string,
  momentumBuffer?: string,
  out: { w?: string; velocity?: string; average?: string; momentum?: string } = {},
): { w: string; velocity: string; average?: string; momentum?: string } {
  const rho = spec.rho ?? 0.9;
  const v = g.add(g.mul(velocity, g.scalar(rho)), g.mul(grad, g.mul(grad, g.scalar(1 - rho))), out.velocity);
  let denom: string;
  let avg: string | undefined;
  if (spec.centered) {
    if (!average) throw new Error('rmspropUpdate: centered RMSprop needs the average-gradient state');
    avg = g.add(g.mul(average, g.scalar(rho)), g.mul(grad, g.scalar(1 - rho)), out.average);
    denom = g.add(g.sub(v, g.mul(avg, avg)), g.scalar(spec.epsilon ?? 1e-7));
  } else {
    denom = g.add(v, g.scalar(spec.epsilon ?? 1e-7));
  }
  const step = g.div(g.mul(grad, lr), g.sqrt(denom));
  if ((spec.momentum ?? 0) > 0) {
    if (!momentumBuffer) throw new Error('rmspropUpdate: momentum > 0 needs the momentum state');
    const m = g.add(g.mul(momentumBuffer, g.scalar(spec.momentum!)), step, out.momentum);
    return { w: g.sub(w, m, out.w), velocity: v, average: avg, momentum: m };
  }
  return { w: g.sub(w, step, out.w), velocity: v, average: avg };
}

/** Adagrad (Keras 3): acc ← acc + g²; w ← w − lr·g/√(acc + ε). Keras starts acc at 0.1 and ε = 1e-7. */
export function adagradUpdate(
  g: GraphBuilder,
  w: string,
  grad: string,
  accumulator: string,
  lr: string,
  epsilon = 1e-7,
  out: { w?: string; accumulator?: string } = {},
): { w: string; accumulator: string } {
  const acc = g.add(accumulator, g.mul(grad, grad), out.accumulator);
  return { w: g.sub(w, g.div(g.mul(grad, lr), g.sqrt(g.add(acc, g.scalar(epsilon)))), out.w), accumulator: acc };
}

/**
 * Keras 3's decoupled weight decay, applied to a variable before its optimizer step:
 * w ← w − w·lr·weight_decay (AdamW's default weight_decay is 0.004; any optimizer accepts it).
 */
export function weightDecay(g: GraphBuilder, w: string, lr: string, decay: number): string {
  return g.sub(w, g.mul(w, g.mul(lr, g.scalar(decay))));
}

/** AdamW (Keras 3): {@link weightDecay} then {@link adamUpdate} on the decayed weight. */
export function adamwUpdate(
  g: GraphBuilder,
  w: string,
  grad: string,
  m: string,
  v: string,
  lr: string,
  stepSize: string,
  decay = 0.004,
  spec: AdamSpec = {},
  out: { w?: string; m?: string; v?: string } = {},
): { w: string; m: string; v: string } {
  return adamUpdate(g, weightDecay(g, w, lr, decay), grad, m, v, stepSize, spec, out);
}
