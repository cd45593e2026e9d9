/**
 * Keras' weight initialisers, seeded: glorot_uniform for kernels and zeros for biases unless the
 * layer says otherwise. Fans are computed from the Keras weight layout as Keras does
 * (`compute_fans`: the last axis is fan-out, the one before it fan-in, the rest the receptive field).
 */
import { Random } from './random';

/** Initialiser names ConvLens reproduces. */
export const INITIALIZERS = [
  'glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal', 'lecun_uniform', 'lecun_normal',
  'zeros', 'ones', 'random_uniform', 'random_normal', 'truncated_normal',
] as const;

export type InitializerName = (typeof INITIALIZERS)[number];

const ALIASES: Record<string, InitializerName> = {
  zero: 'zeros',
  one: 'ones',
  uniform: 'random_uniform',
  normal: 'random_normal',
  xavier_uniform: 'glorot_uniform',
  xavier_normal: 'glorot_normal',
  kaiming_uniform: 'he_uniform',
  kaiming_normal: 'he_normal',
};

/** The initialiser a name stands for, or undefined when ConvLens does not reproduce it. */
export function resolveInitializer(name: string): InitializerName | undefined {
  const n = ALIASES[name] ?? name;
  return (INITIALIZERS as readonly string[]).includes(n) ? (n as InitializerName) : undefined;
}

/** Keras' fan-in and fan-out of a weight shape. */
export function computeFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  if (shape.length === 2) return { fanIn: shape[0], fanOut: shape[1] };
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[shape.length - 2] * receptive, fanOut: shape[shape.length - 1] * receptive };
}

/** Keras' truncated normal is cut at two standard deviations; this constant restores the variance. */
const TRUNCATED_STDDEV_CORRECTION = 0.8796256610342398;

/** Fills a new Float32Array of `shape` with `name`'s values drawn from `seed`. */
export function initialize(name: InitializerName, shape: readonly number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const rng = new Random(seed);
  const { fanIn, fanOut } = computeFans(shape);
  const uniform = (limit: number) => {
    for (let i = 0; i < n; i++) out[i] = (rng.next() * 2 - 1) * limit;
  };
  const truncated = (stddev: number) => {
    for (let i = 0; i < n; i++) {
      let v: number;
      do v = rng.normal();
      while (Math.abs(v) > 2);
      out[i] = v * stddev;
    }
  };
  switch (name) {
    case 'zeros':
      break;
    case 'ones':
      out.fill(1);
      break;
    case 'glorot_uniform':
      uniform(Math.sqrt(6 / (fanIn + fanOut)));
      break;
    case 'glorot_normal':
      truncated(Math.sqrt(2 / (fanIn + fanOut)) / TRUNCATED_STDDEV_CORRECTION);
      break;
    case 'he_uniform':
      uniform(Math.sqrt(6 / fanIn));
      break;
    case 'he_normal':
      truncated(Math.sqrt(2 / fanIn) / TRUNCATED_STDDEV_CORRECTION);
      break;
    case 'lecun_uniform':
      uniform(Math.sqrt(3 / fanIn));
      break;
    case 'lecun_normal':
      truncated(Math.sqrt(1 / fanIn) / TRUNCATED_STDDEV_CORRECTION);
      break;
    case 'random_uniform':
      uniform(0.05);
      break;
    case 'random_normal':
      for (let i = 0; i < n; i++) out[i] = rng.normal() * 0.05;
      break;
    case 'truncated_normal':
      truncated(0.05);
      break;
  }
  return out;
}
