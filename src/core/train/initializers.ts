/**
 * The initialiser registry: one definition per weight initialiser, seeded. Keras' draw with the
 * fans of the Keras weight layout as Keras computes them (`compute_fans`: the last axis is
 * fan-out, the one before it fan-in, the rest the receptive field); PyTorch's with the fans of its
 * own layout (`_calculate_fan_in_and_fan_out`: axis 1 is fan-in, axis 0 fan-out, times the rest),
 * or with the fan-in of the layer's weight for a bias. Which initialiser a weight gets is declared
 * by its layer (PyTorch) or Keras' rule {@link kerasDefaultInitializer}; adding an initialiser
 * means adding one definition to {@link INITIALIZER_DEFS}.
 */
import type { FrameworkName } from '../layers/define';
import { Random } from './random';

/** What an initialiser draws from. */
export interface InitContext {
  readonly shape: readonly number[];
  readonly fanIn: number;
  readonly fanOut: number;
  readonly rng: Random;
}

/** The declarative definition of one initialiser. */
export interface InitializerDef {
  readonly name: string;
  readonly framework: FrameworkName;
  /** Other names it is written with (`xavier_uniform`, `kaiming_uniform`). */
  readonly aliases?: readonly string[];
  readonly doc: string;
  /** Fills `out` (zeros on entry). */
  fill(out: Float32Array, c: InitContext): void;
}

/** Keras' truncated normal is cut at two standard deviations; this constant restores the variance. */
const TRUNCATED_STDDEV_CORRECTION = 0.8796256610342398;

const uniform = (out: Float32Array, rng: Random, limit: number): void => {
  for (let i = 0; i < out.length; i++) out[i] = (rng.next() * 2 - 1) * limit;
};
const truncated = (out: Float32Array, rng: Random, stddev: number): void => {
  for (let i = 0; i < out.length; i++) {
    let v: number;
    do v = rng.normal();
    while (Math.abs(v) > 2);
    out[i] = v * stddev;
  }
};

const keras = (name: string, doc: string, fill: InitializerDef['fill'], aliases?: string[]): InitializerDef => ({ name, framework: 'keras', doc, fill, aliases });

export const INITIALIZER_DEFS = [
  keras('glorot_uniform', 'U(±√(6/(fan_in + fan_out))): Keras’ default for kernels.', (o, c) => uniform(o, c.rng, Math.sqrt(6 / (c.fanIn + c.fanOut))), ['xavier_uniform']),
  keras('glorot_normal', 'Truncated normal, σ = √(2/(fan_in + fan_out)).', (o, c) => truncated(o, c.rng, Math.sqrt(2 / (c.fanIn + c.fanOut)) / TRUNCATED_STDDEV_CORRECTION), ['xavier_normal']),
  keras('he_uniform', 'U(±√(6/fan_in)).', (o, c) => uniform(o, c.rng, Math.sqrt(6 / c.fanIn)), ['kaiming_uniform']),
  keras('he_normal', 'Truncated normal, σ = √(2/fan_in).', (o, c) => truncated(o, c.rng, Math.sqrt(2 / c.fanIn) / TRUNCATED_STDDEV_CORRECTION), ['kaiming_normal']),
  keras('lecun_uniform', 'U(±√(3/fan_in)).', (o, c) => uniform(o, c.rng, Math.sqrt(3 / c.fanIn))),
  keras('lecun_normal', 'Truncated normal, σ = √(1/fan_in).', (o, c) => truncated(o, c.rng, Math.sqrt(1 / c.fanIn) / TRUNCATED_STDDEV_CORRECTION)),
  keras('zeros', 'All zeros.', () => undefined, ['zero']),
  keras('ones', 'All ones.', (o) => o.fill(1), ['one']),
  keras('random_uniform', 'U(±0.05).', (o, c) => uniform(o, c.rng, 0.05), ['uniform']),
  keras('random_normal', 'Normal, σ = 0.05.', (o, c) => {
    for (let i = 0; i < o.length; i++) o[i] = c.rng.normal() * 0.05;
  }, ['normal']),
  keras('truncated_normal', 'Truncated normal, σ = 0.05.', (o, c) => truncated(o, c.rng, 0.05)),
  {
    name: 'torch_kaiming_uniform',
    framework: 'pytorch',
    doc: 'PyTorch’s default for Conv and Linear weights: kaiming_uniform_(a=√5), i.e. U(±gain·√(3/fan_in)) with gain √(2/(1 + 5)) = U(±1/√fan_in), fan-in from PyTorch’s layout.',
    fill: (o, c) => uniform(o, c.rng, Math.sqrt(2 / (1 + 5)) * Math.sqrt(3 / c.fanIn)),
  },
  {
    name: 'torch_bias_uniform',
    framework: 'pytorch',
    doc: 'PyTorch’s default for Conv and Linear biases: U(±1/√fan_in), with the fan-in of the layer’s weight.',
    fill: (o, c) => uniform(o, c.rng, c.fanIn > 0 ? 1 / Math.sqrt(c.fanIn) : 0),
  },
  { name: 'torch_ones', framework: 'pytorch', doc: 'All ones (BatchNorm’s weight, running_var).', fill: (o) => o.fill(1) },
  { name: 'torch_zeros', framework: 'pytorch', doc: 'All zeros (BatchNorm’s bias, running_mean).', fill: () => undefined },
] as const satisfies readonly InitializerDef[];

/** Every initialiser name, registry order. */
export const INITIALIZERS = INITIALIZER_DEFS.map((d) => d.name);

export type InitializerName = (typeof INITIALIZER_DEFS)[number]['name'];

const byName = new Map<string, InitializerDef>();
for (const d of INITIALIZER_DEFS as readonly InitializerDef[]) {
  byName.set(d.name, d);
  for (const a of d.aliases ?? []) byName.set(a, d);
}

/** The Keras initialiser a name stands for, or undefined when ConvLens does not reproduce it. */
export function resolveInitializer(name: string): InitializerName | undefined {
  const d = byName.get(name);
  return d && d.framework === 'keras' ? (d.name as InitializerName) : undefined;
}

/** Keras' default initialiser of a weight, by its Keras name (kernels glorot_uniform, gamma and moving variance ones). */
export function kerasDefaultInitializer(weight: string): InitializerName {
  if (weight === 'gamma' || weight === 'moving_variance') return 'ones';
  if (weight.endsWith('kernel')) return 'glorot_uniform';
  return 'zeros';
}

/** Keras' fan-in and fan-out of a weight shape. */
export function computeFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  if (shape.length === 2) return { fanIn: shape[0], fanOut: shape[1] };
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[shape.length - 2] * receptive, fanOut: shape[shape.length - 1] * receptive };
}

/** PyTorch's fan-in and fan-out (`torch.nn.init._calculate_fan_in_and_fan_out`): (out, in, k…). */
export function torchFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) return { fanIn: shape[0] ?? 1, fanOut: shape[0] ?? 1 };
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/**
 * Fills a new Float32Array of `shape` with `name`'s values drawn from `seed`; `fanIn` overrides the
 * fan-in (a PyTorch bias takes its weight's).
 */
export function initialize(name: InitializerName, shape: readonly number[], seed: number, fanIn?: number): Float32Array {
  const d = byName.get(name);
  if (!d) throw new Error(`unknown initializer '${name}'`);
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const fans = d.framework === 'pytorch' ? torchFans(shape) : computeFans(shape);
  d.fill(out, { shape, fanIn: fanIn ?? fans.fanIn, fanOut: fans.fanOut, rng: new Random(seed) });
  return out;
}
