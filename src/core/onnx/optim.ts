/**
 * Optimizer update steps as graph fragments. Weights and optimizer state are
 * graph inputs and their updated values graph outputs, so the caller keeps
 * the state between `session.run` calls. Hyper-parameters that change during
 * training (learning rate, step count) are graph inputs too (float32 scalars).
 * Semantics follow Keras 3's optimizers.
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
): { w: string; velocity: string } {
  const step = g.mul(grad, lr);
  const v = g.sub(g.mul(velocity, g.scalar(momentum)), step);
  const next = nesterov ? g.sub(g.add(w, g.mul(v, g.scalar(momentum))), step) : g.add(w, v);
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
 * Adam (Keras): m ← m + (g − m)(1 − β1); v ← v + (g² − v)(1 − β2);
 * w ← w − α·m/(√v + ε) with α from {@link adamStepSize}.
 */
export function adamUpdate(
  g: GraphBuilder,
  w: string,
  grad: string,
  m: string,
  v: string,
  stepSize: string,
  spec: AdamSpec = {},
): { w: string; m: string; v: string } {
  const m2 = g.add(m, g.mul(g.sub(grad, m), g.scalar(1 - (spec.beta1 ?? 0.9))));
  const v2 = g.add(v, g.mul(g.sub(g.mul(grad, grad), v), g.scalar(1 - (spec.beta2 ?? 0.999))));
  const denom = g.add(g.sqrt(v2), g.scalar(spec.epsilon ?? 1e-7));
  const w2 = g.sub(w, g.div(g.mul(m2, stepSize), denom));
  return { w: w2, m: m2, v: v2 };
}
