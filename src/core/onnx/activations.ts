/**
 * The activation registry: one definition per activation function — its names (Keras'
 * `activation=` string, PyTorch's function and module), its parameters, its forward and backward
 * recipes as graph nodes, and whether a loss may fuse with it. The `activation=` argument, the
 * activation layers of both frameworks and the losses all read {@link ACTIVATIONS}; adding an
 * activation means adding one definition here.
 */
import { attr, type GraphBuilder } from './graphBuilder';

/** An activation and its parameters. */
export interface ActivationSpec {
  kind: ActivationKind;
  /** elu (default 1) and leaky_relu (Keras default 0.3) slope parameter. */
  alpha?: number;
  /** softmax / log_softmax axis (default −1). */
  axis?: number;
  /** gelu: the tanh approximation (PyTorch's `approximate='tanh'`, Keras' `approximate=True`) instead of the exact erf form. */
  approximate?: boolean;
}

/** The declarative definition of one activation. */
export interface ActivationDef {
  readonly kind: string;
  readonly doc: string;
  /** Keras `activation=` strings that mean it (`swish` for silu); empty: not a Keras activation string. */
  readonly keras: readonly string[];
  /** The parameters the Keras string implies (`leaky_relu`: keras.activations.leaky_relu's slope 0.2). */
  readonly kerasParams?: Omit<ActivationSpec, 'kind'>;
  /** A loss may compute from this activation's input (`softmax` + cross-entropy): see `core/train/losses.ts`. */
  readonly fusable?: boolean;
  forward(g: GraphBuilder, s: ActivationSpec, x: string): string;
  /** Backward given the forward input `x`, output `y` and upstream `dy`; recipes prefer `y` where it determines the derivative. */
  backward(g: GraphBuilder, s: ActivationSpec, x: string, y: string, dy: string): string;
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** `value` where the mask holds, 0 elsewhere, as value·float(mask): ORT's CPU Mul is about twice as fast as its broadcasting Where (see grad.ts). */
const keep = (g: GraphBuilder, mask: string, value: string): string => g.mul(value, g.cast(mask, 'float32'));

const def = <K extends string>(d: ActivationDef & { kind: K }) => d;

const DEFS = [
  def({ kind: 'linear', doc: 'The identity.', keras: ['linear'], forward: (_g, _s, x) => x, backward: (_g, _s, _x, _y, dy) => dy }),
  def({ kind: 'relu', doc: 'max(x, 0).', keras: ['relu'], forward: (g, _s, x) => g.relu(x), backward: (g, _s, _x, y, dy) => g.mul(dy, reluMask(g, y)) }),
  def({
    kind: 'relu6',
    doc: 'min(max(x, 0), 6).',
    keras: ['relu6'],
    forward: (g, _s, x) => g.clip(x, 0, 6),
    backward: (g, _s, _x, y, dy) => keep(g, g.node('And', [g.greater(y, g.scalar(0)), g.less(y, g.scalar(6))])[0], dy),
  }),
  def({ kind: 'sigmoid', doc: '1 / (1 + e^−x).', keras: ['sigmoid'], fusable: true, forward: (g, _s, x) => g.sigmoid(x), backward: (g, _s, _x, y, dy) => g.mul(dy, g.mul(y, g.sub(g.scalar(1), y))) }),
  def({ kind: 'tanh', doc: 'The hyperbolic tangent.', keras: ['tanh'], forward: (g, _s, x) => g.tanh(x), backward: (g, _s, _x, y, dy) => g.mul(dy, g.sub(g.scalar(1), g.mul(y, y))) }),
  def({
    kind: 'softmax',
    doc: 'e^x normalised to sum to 1 along an axis.',
    keras: ['softmax'],
    // The channel axis, which is ONNX axis 1 in the training graphs' layout.
    kerasParams: { axis: 1 },
    fusable: true,
    forward: (g, s, x) => g.softmax(x, s.axis ?? -1),
    backward: (g, s, _x, y, dy) => g.mul(y, g.sub(dy, g.reduceSum(g.mul(dy, y), [s.axis ?? -1], true))),
  }),
  def({
    kind: 'log_softmax',
    doc: 'log(softmax(x)) along an axis, computed stably (PyTorch’s log_softmax).',
    keras: ['log_softmax'],
    kerasParams: { axis: 1 },
    fusable: true,
    forward: (g, s, x) => g.logSoftmax(x, s.axis ?? -1),
    // d/dx: dy − softmax(x)·Σdy, with softmax(x) = e^y.
    backward: (g, s, _x, y, dy) => g.sub(dy, g.mul(g.exp(y), g.reduceSum(dy, [s.axis ?? -1], true))),
  }),
  def({
    kind: 'elu',
    doc: 'x for x > 0, α(e^x − 1) below.',
    keras: ['elu'],
    forward: (g, s, x) => g.elu(x, s.alpha ?? 1),
    backward: (g, s, _x, y, dy) => g.where(g.greater(y, g.scalar(0)), dy, g.mul(dy, g.add(y, g.scalar(s.alpha ?? 1)))),
  }),
  def({
    kind: 'selu',
    doc: 'Scaled ELU with the self-normalising constants.',
    keras: ['selu'],
    forward: (g, _s, x) => g.node('Selu', [x], 1, { alpha: attr.float(SELU_ALPHA), gamma: attr.float(SELU_SCALE) })[0],
    backward: (g, _s, _x, y, dy) => g.mul(g.where(g.greater(y, g.scalar(0)), g.scalar(SELU_SCALE), g.add(y, g.scalar(SELU_SCALE * SELU_ALPHA))), dy),
  }),
  def({
    kind: 'leaky_relu',
    doc: 'x for x > 0, α·x below.',
    keras: ['leaky_relu'],
    // keras.activations.leaky_relu's default slope (the LeakyReLU layer's is 0.3).
    kerasParams: { alpha: 0.2 },
    forward: (g, s, x) => g.leakyRelu(x, s.alpha ?? 0.3),
    backward: (g, s, x, y, dy) => {
      const alpha = s.alpha ?? 0.3;
      return g.where(g.greater(alpha >= 0 ? y : x, g.scalar(0)), dy, g.mul(dy, g.scalar(alpha)));
    },
  }),
  def({ kind: 'softplus', doc: 'log(1 + e^x).', keras: ['softplus'], forward: (g, _s, x) => g.softplus(x), backward: (g, _s, x, _y, dy) => g.mul(dy, g.sigmoid(x)) }),
  def({
    kind: 'silu',
    doc: 'x·sigmoid(x) (swish).',
    keras: ['silu', 'swish'],
    forward: (g, _s, x) => g.mul(x, g.sigmoid(x)),
    backward: (g, _s, x, y, dy) => {
      const s = g.sigmoid(x);
      return g.mul(dy, g.add(s, g.mul(y, g.sub(g.scalar(1), s))));
    },
  }),
  def({
    kind: 'gelu',
    doc: 'x·Φ(x) with Φ the standard normal CDF, 0.5·x·(1 + erf(x/√2)); or its tanh approximation.',
    keras: ['gelu'],
    kerasParams: { approximate: false },
    forward: (g, s, x) => (s.approximate ? g.mul(g.mul(x, g.scalar(0.5)), g.add(g.scalar(1), g.tanh(geluInner(g, x)))) : g.mul(x, normalCdf(g, x))),
    backward: (g, s, x, _y, dy) => {
      if (s.approximate) {
        // d/dx 0.5·x·(1 + tanh u) = 0.5·(1 + tanh u) + 0.5·x·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715·x²).
        const t = g.tanh(geluInner(g, x));
        const du = g.mul(g.scalar(Math.sqrt(2 / Math.PI)), g.add(g.scalar(1), g.mul(g.scalar(3 * 0.044715), g.mul(x, x))));
        const d = g.add(g.mul(g.scalar(0.5), g.add(g.scalar(1), t)), g.mul(g.mul(g.scalar(0.5), x), g.mul(g.sub(g.scalar(1), g.mul(t, t)), du)));
        return g.mul(dy, d);
      }
      // Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π).
      const pdf = g.mul(g.scalar(1 / Math.sqrt(2 * Math.PI)), g.exp(g.mul(g.mul(x, x), g.scalar(-0.5))));
      return g.mul(dy, g.add(normalCdf(g, x), g.mul(x, pdf)));
    },
  }),
  def({
    kind: 'hard_sigmoid',
    doc: 'ReLU6(x + 3)/6: 0 below −3, 1 above 3, x/6 + 0.5 between (Keras 3, PyTorch).',
    keras: ['hard_sigmoid'],
    forward: (g, _s, x) => g.node('HardSigmoid', [x], 1, { alpha: attr.float(1 / 6), beta: attr.float(0.5) })[0],
    backward: (g, _s, x, _y, dy) => g.mul(keep(g, between(g, x, -3, 3), dy), g.scalar(1 / 6)),
  }),
  def({
    kind: 'hard_silu',
    doc: 'x·ReLU6(x + 3)/6 (hard swish; MobileNetV3).',
    keras: ['hard_silu', 'hard_swish'],
    forward: (g, _s, x) => g.node('HardSwish', [x])[0],
    // 0 below −3, 1 above 3, (2x + 3)/6 between.
    backward: (g, _s, x, _y, dy) => {
      const mid = g.add(g.mul(x, g.scalar(1 / 3)), g.scalar(0.5));
      const d = g.add(keep(g, between(g, x, -3, 3), mid), g.cast(g.greater(x, g.scalar(3)), 'float32'));
      return g.mul(dy, d);
    },
  }),
  def({
    kind: 'mish',
    doc: 'x·tanh(softplus(x)).',
    keras: ['mish'],
    forward: (g, _s, x) => g.mul(x, g.tanh(g.softplus(x))),
    // tanh(sp) + x·(1 − tanh²(sp))·σ(x).
    backward: (g, _s, x, _y, dy) => {
      const t = g.tanh(g.softplus(x));
      return g.mul(dy, g.add(t, g.mul(x, g.mul(g.sub(g.scalar(1), g.mul(t, t)), g.sigmoid(x)))));
    },
  }),
] as const;

/** Φ(x) = 0.5·(1 + erf(x/√2)). */
function normalCdf(g: GraphBuilder, x: string): string {
  return g.mul(g.scalar(0.5), g.add(g.scalar(1), g.node('Erf', [g.mul(x, g.scalar(Math.SQRT1_2))])[0]));
}

/** √(2/π)·(x + 0.044715·x³), the tanh approximation's argument. */
function geluInner(g: GraphBuilder, x: string): string {
  return g.mul(g.scalar(Math.sqrt(2 / Math.PI)), g.add(x, g.mul(g.scalar(0.044715), g.mul(x, g.mul(x, x)))));
}

/** lo < x < hi. */
function between(g: GraphBuilder, x: string, lo: number, hi: number): string {
  return g.node('And', [g.greater(x, g.scalar(lo)), g.less(x, g.scalar(hi))])[0];
}

/** Activations with forward and backward recipes. */
export type ActivationKind = (typeof DEFS)[number]['kind'];

/** The registry, in declaration order. */
export const ACTIVATIONS: readonly ActivationDef[] = DEFS;

const byKind = new Map<string, ActivationDef>(DEFS.map((d) => [d.kind, d]));
const byKeras = new Map<string, ActivationDef>(DEFS.flatMap((d) => d.keras.map((k) => [k, d] as const)));

/** The definition of an activation kind. */
export function activationDef(kind: string): ActivationDef | undefined {
  return byKind.get(kind);
}

/**
 * The recipe a Keras `activation=` string stands for: null for none/linear, undefined when there
 * is none yet.
 */
export function kerasActivation(name: string | null | undefined): ActivationSpec | null | undefined {
  if (name === null || name === undefined) return null;
  const d = byKeras.get(name);
  if (!d) return undefined;
  if (d.kind === 'linear') return null;
  return { kind: d.kind as ActivationKind, ...(d.kerasParams ?? {}) };
}

/** Activation forward. */
export function activationForward(g: GraphBuilder, spec: ActivationSpec, x: string): string {
  return byKind.get(spec.kind)!.forward(g, spec, x);
}

/** Activation backward given the forward input `x`, output `y` and upstream gradient `dy`. */
export function activationBackward(g: GraphBuilder, spec: ActivationSpec, x: string, y: string, dy: string): string {
  return byKind.get(spec.kind)!.backward(g, spec, x, y, dy);
}

/**
 * The derivative mask of a ReLU from its output y ≥ 0: 1 where y > 0, else 0, in float32, as
 * one HardSigmoid max(0, min(1, 2¹²⁶·y)): every positive normal float times 2¹²⁶ is at least 1
 * (larger ones overflow to +∞, still clipped to 1) and 0 stays 0. The same values as
 * float(y > 0) (denormal y aside, which the trainer's sessions flush to zero) in one pass where
 * Greater then Cast took two: 64×16×32×32, one thread, mask and multiply 0.78 ms against 1.04.
 */
export function reluMask(g: GraphBuilder, y: string): string {
  return g.node('HardSigmoid', [y], 1, { alpha: attr.float(2 ** 126), beta: attr.float(0) })[0];
}
