import { showValue, type Value } from '../parse/values';
import type { DataFormat, Dim } from '../shape';

/** The outcome of reading one argument's value. */
/** An argument's value read, or what is wrong with it (and the code that would fix it), or unknown. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string; fix?: string } | { ok: 'unknown'; why?: string };

/**
 * How a layer argument is read from Python: its Keras name is the key it is declared under,
 * its position is the declaration order (as in the Keras signature).
 */
export interface ArgSpec<T> {
  /** What the argument must be, in words for messages: "an integer ≥ 1". */
  readonly expected: string;
  readonly required: boolean;
  readonly default?: T;
  parse(v: Value): Parsed<T>;
}

export type ArgSpecs = Record<string, ArgSpec<unknown>>;
export type ArgValues<A extends ArgSpecs> = { [K in keyof A]: A[K] extends ArgSpec<infer T> ? T : never };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (message: string, fix?: string): Parsed<never> => ({ ok: false, message, fix });
const unknown = (why?: string): Parsed<never> => ({ ok: 'unknown', why });

function spec<T>(expected: string, parse: (v: Value) => Parsed<T>, dflt?: { value: T }): ArgSpec<T> {
  return { expected, required: dflt === undefined, default: dflt?.value, parse };
}

function readInt(v: Value, min: number | undefined, what: string): Parsed<number> {
  if (v.k === 'unknown') return unknown(v.why);
  if (v.k === 'num' && Number.isInteger(v.v) && !v.float) {
    if (min !== undefined && v.v < min) return bad(`must be ${what}, got ${v.v}`);
    return ok(v.v);
  }
  if (v.k === 'bool') return ok(v.v ? 1 : 0);
  return bad(`must be ${what}, got ${showValue(v)}`);
}

const intWords = (min: number | undefined): string =>
  min === undefined ? 'an integer' : min === 0 ? 'an integer ≥ 0' : min === 1 ? 'a positive integer' : `an integer ≥ ${min}`;

/** An integer, optionally bounded below. */
export function int(opts: { min?: number; default?: number } = {}): ArgSpec<number> {
  const words = intWords(opts.min);
  return spec(words, (v) => readInt(v, opts.min, words), 'default' in opts ? { value: opts.default as number } : undefined);
}

/**
 * An integer or a tuple/list of `n` integers (Keras' `kernel_size=3` or `kernel_size=(3, 3)`),
 * always read as an array of `n`.
 */
export function ints(n: number, opts: { min?: number; default?: number | number[] } = {}): ArgSpec<number[]> {
  const one = intWords(opts.min);
  const words = n === 1 ? `${one} or a tuple of 1 integer` : `${one} or a tuple of ${n} integers`;
  const dflt = opts.default === undefined ? undefined : { value: Array.isArray(opts.default) ? opts.default : Array(n).fill(opts.default) };
  return spec(
    words,
    (v) => {
      if (v.k === 'unknown') return unknown(v.why);
      if (v.k === 'seq') {
        if (v.items.length !== n) return bad(`must be ${words}, got ${showValue(v)} (${v.items.length} values)`);
        const out: number[] = [];
        for (const item of v.items) {
          const r = readInt(item, opts.min, one);
          if (r.ok !== true) return r.ok === 'unknown' ? r : bad(`must be ${words}, got ${showValue(v)}`);
          out.push(r.value);
        }
        return ok(out);
      }
      const r = readInt(v, opts.min, one);
      if (r.ok !== true) return r.ok === 'unknown' ? r : bad(`must be ${words}, got ${showValue(v)}`);
      return ok(Array(n).fill(r.value));
    },
    dflt,
  );
}

/** A real number in an optional closed or half-open range. */
export function float(opts: { min?: number; max?: number; maxExclusive?: boolean; default?: number } = {}): ArgSpec<number> {
  let words = 'a number';
  if (opts.min !== undefined && opts.max !== undefined) words = `a number in [${opts.min}, ${opts.max}${opts.maxExclusive ? ')' : ']'}`;
  else if (opts.min !== undefined) words = `a number ≥ ${opts.min}`;
  return spec(
    words,
    (v) => {
      if (v.k === 'unknown') return unknown(v.why);
      if (v.k !== 'num') return bad(`must be ${words}, got ${showValue(v)}`);
      if (opts.min !== undefined && v.v < opts.min) return bad(`must be ${words}, got ${v.v}`);
      if (opts.max !== undefined && (opts.maxExclusive ? v.v >= opts.max : v.v > opts.max)) return bad(`must be ${words}, got ${v.v}`);
      return ok(v.v);
    },
    'default' in opts ? { value: opts.default as number } : undefined,
  );
}

/** A number, or a list of numbers (one per channel: `Rescaling([1 / 0.229, 1 / 0.224, 1 / 0.225])`). */
export function floatOrList(opts: { default?: number } = {}): ArgSpec<number | number[]> {
  const one = float();
  return spec<number | number[]>(
    'a number or a list of numbers',
    (v): Parsed<number | number[]> => {
      if (v.k === 'seq') {
        const out: number[] = [];
        for (const item of v.items) {
          const r = one.parse(item);
          if (r.ok !== true) return r.ok === 'unknown' ? r : bad(`must be a number or a list of numbers, got ${showValue(v)}`);
          out.push(r.value);
        }
        return ok(out);
      }
      return one.parse(v);
    },
    'default' in opts ? { value: opts.default as number } : undefined,
  );
}

/** The same argument, where None is also allowed (and the default). */
export function optional<T>(inner: ArgSpec<T>, dflt: T | null = null): ArgSpec<T | null> {
  return spec(`${inner.expected} or None`, (v) => (v.k === 'none' ? ok(null) : inner.parse(v)), { value: dflt });
}

/** A number or None (e.g. ReLU's `max_value`). */
export function optionalFloat(opts: { min?: number } = {}): ArgSpec<number | null> {
  const inner = float(opts);
  return spec(`${inner.expected} or None`, (v) => (v.k === 'none' ? ok(null) : inner.parse(v)), { value: null });
}

export function bool(dflt: boolean): ArgSpec<boolean> {
  return spec(
    'True or False',
    (v) => {
      if (v.k === 'unknown') return unknown(v.why);
      if (v.k === 'bool') return ok(v.v);
      if (v.k === 'num') return ok(v.v !== 0);
      return bad(`must be True or False, got ${showValue(v)}`);
    },
    { value: dflt },
  );
}

/** One of a few strings, compared case-insensitively as Keras does for `padding`. */
export function choice<T extends string>(values: readonly T[], dflt?: T): ArgSpec<T> {
  const words = values.map((x) => `'${x}'`).join(', ');
  return spec(
    `one of ${words}`,
    (v) => {
      if (v.k === 'unknown') return unknown(v.why);
      if (v.k === 'str') {
        const s = v.v.toLowerCase() as T;
        if (values.includes(s)) return ok(s);
      }
      return bad(`must be one of ${words}, got ${showValue(v)}`);
    },
    dflt === undefined ? undefined : { value: dflt },
  );
}

export type { DataFormat };

/** `data_format`: None means the Keras default, channels_last. */
export function dataFormat(): ArgSpec<DataFormat> {
  const inner = choice<DataFormat>(['channels_last', 'channels_first']);
  return spec(inner.expected, (v) => (v.k === 'none' ? ok('channels_last') : inner.parse(v)), { value: 'channels_last' });
}

/** Activation names Keras knows (keras.activations). */
export const ACTIVATIONS = new Set([
  'linear', 'relu', 'relu6', 'sigmoid', 'hard_sigmoid', 'softmax', 'log_softmax', 'tanh', 'elu', 'selu', 'softplus',
  'softsign', 'swish', 'silu', 'gelu', 'exponential', 'leaky_relu', 'mish', 'hard_silu', 'hard_swish', 'celu', 'glu',
  'sparse_plus', 'squareplus', 'soft_shrink', 'hard_shrink', 'tanh_shrink', 'hard_tanh', 'threshold', 'sparsemax',
]);

/** `activation=`: a name, None (linear), or a callable such as `tf.nn.relu`; read as its name. Default: `dflt` (None for most layers, 'tanh' for recurrent ones). */
export function activation(dflt: string | null = null): ArgSpec<string | null> {
  return spec(
    'an activation name such as \'relu\' or None',
    (v) => {
      if (v.k === 'unknown') return unknown(v.why);
      if (v.k === 'none') return ok(null);
      if (v.k === 'str') {
        const name = v.v.toLowerCase();
        if (!ACTIVATIONS.has(name)) {
          const close = suggest(name, [...ACTIVATIONS]);
          return bad(close ? `'${v.v}' is not a Keras activation; did you mean ${close}?` : `'${v.v}' is not a Keras activation (for example 'relu', 'sigmoid', 'softmax')`, close);
        }
        return ok(name);
      }
      if (v.k === 'module') return ok(v.path.slice(v.path.lastIndexOf('.') + 1).toLowerCase());
      if (v.k === 'layer') return ok(v.layer.className.toLowerCase());
      return unknown();
    },
    { value: dflt },
  );
}

/** A per-sample shape such as `(28, 28, 1)`, where None stands for a size not fixed in advance. */
export function shape(opts: { default?: Dim[] | null } = {}): ArgSpec<Dim[] | null> {
  return spec(
    'a tuple of positive integers or None',
    (v) => {
      if (v.k === 'unknown') return unknown(v.why);
      if (v.k === 'none') return ok(null);
      return readShape(v);
    },
    'default' in opts ? { value: opts.default ?? null } : undefined,
  );
}

/** Reads a shape tuple (or a bare int, as Keras accepts for 1-D shapes). */
export function readShape(v: Value, allowMinusOne = false): Parsed<Dim[]> {
  if (v.k === 'unknown') return unknown(v.why);
  if (v.k === 'num' && Number.isInteger(v.v)) return v.v > 0 ? ok([v.v]) : bad(`must contain positive sizes, got ${v.v}`);
  if (v.k === 'array') return unknown('a NumPy shape');
  if (v.k !== 'seq') return bad(`must be a tuple such as (28, 28, 1), got ${showValue(v)}`);
  const out: Dim[] = [];
  for (const item of v.items) {
    if (item.k === 'none') out.push(null);
    else if (item.k === 'num' && Number.isInteger(item.v) && (item.v > 0 || (allowMinusOne && item.v === -1))) out.push(item.v);
    else if (item.k === 'unknown') return unknown(item.why);
    else return bad(`must contain positive integers or None, got ${showValue(item)} in ${showValue(v)}`);
  }
  return ok(out);
}

/** A layer instance (`TimeDistributed(Dense(10))`); a value ConvLens cannot follow leaves the layer unknown. */
export function layerInstance(example: string): ArgSpec<Value> {
  return spec(`a layer instance such as ${example}`, (v) => {
    if (v.k === 'unknown') return unknown(v.why);
    if (v.k !== 'layer') return bad(`must be a layer instance such as ${example}, got ${showValue(v)}`);
    return ok(v);
  });
}

/** Any value, unchecked (arguments that do not affect shapes). */
export function any(): ArgSpec<Value | undefined> {
  return spec('any value', (v) => ok(v), { value: undefined });
}

/**
 * Padding/cropping amounts: an int, a pair (symmetric per axis), or a pair of pairs
 * ((top, bottom), (left, right)); read as `[[before, after], …]` per spatial axis.
 */
export function padAmounts(axes: number, dflt: number): ArgSpec<[number, number][]> {
  const words = axes === 1 ? 'an integer or a tuple of 2 integers' : `an integer, a tuple of ${axes} integers, or a tuple of ${axes} pairs`;
  return spec(
    words,
    (v) => {
      if (v.k === 'unknown') return unknown(v.why);
      const int0 = (x: Value): number | undefined => (x.k === 'num' && Number.isInteger(x.v) && x.v >= 0 ? x.v : undefined);
      const single = int0(v);
      if (single !== undefined) return ok(Array.from({ length: axes }, () => [single, single] as [number, number]));
      if (v.k !== 'seq') return bad(`must be ${words}, got ${showValue(v)}`);
      if (axes === 1) {
        if (v.items.length !== 2) return bad(`must be ${words}, got ${showValue(v)}`);
        const a = int0(v.items[0]);
        const b = int0(v.items[1]);
        return a === undefined || b === undefined ? bad(`must be ${words}, got ${showValue(v)}`) : ok([[a, b]]);
      }
      if (v.items.length !== axes) return bad(`must be ${words}, got ${showValue(v)}`);
      const out: [number, number][] = [];
      for (const item of v.items) {
        const s = int0(item);
        if (s !== undefined) {
          out.push([s, s]);
          continue;
        }
        if (item.k === 'seq' && item.items.length === 2) {
          const a = int0(item.items[0]);
          const b = int0(item.items[1]);
          if (a !== undefined && b !== undefined) {
            out.push([a, b]);
            continue;
          }
        }
        if (item.k === 'unknown') return unknown(item.why);
        return bad(`must be ${words}, got ${showValue(v)}`);
      }
      return ok(out);
    },
    { value: Array.from({ length: axes }, () => [dflt, dflt] as [number, number]) },
  );
}

/** The closest candidate by edit distance, quoted, for "did you mean" hints. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? `'${best}'` : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/**
 * An initializer argument (`kernel_initializer='he_normal'`, `initializers.HeNormal`), read as
 * Keras' snake_case name. One ConvLens cannot evaluate (`HeNormal(seed=1)`) reads as `''`: the
 * shapes do not depend on it, and the trainer says which default it uses instead.
 */
export function initializer(dflt: string): ArgSpec<string> {
  return spec(
    "an initializer name such as 'glorot_uniform'",
    (v) => {
      if (v.k === 'str') return ok(initializerName(v.v));
      if (v.k === 'module') return ok(initializerName(v.path.slice(v.path.lastIndexOf('.') + 1)));
      if (v.k === 'none') return ok(dflt);
      return ok('');
    },
    { value: dflt },
  );
}

/** `HeNormal` / `he_normal` / `GlorotUniform` → Keras' snake_case initializer name. */
export function initializerName(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** A tuple or list of integers (Permute's `dims`), each ≥ `min` when given. */
export function intTuple(opts: { min?: number } = {}): ArgSpec<number[]> {
  const one = intWords(opts.min);
  const words = opts.min === 1 ? 'a tuple of positive integers' : opts.min === undefined ? 'a tuple of integers' : `a tuple of integers ≥ ${opts.min}`;
  return spec(words, (v) => {
    if (v.k === 'unknown') return unknown(v.why);
    if (v.k !== 'seq') return bad(`must be ${words}, got ${showValue(v)}`);
    const out: number[] = [];
    for (const item of v.items) {
      const r = readInt(item, opts.min, one);
      if (r.ok !== true) return r.ok === 'unknown' ? r : bad(`must be ${words}, got ${showValue(v)}`);
      out.push(r.value);
    }
    return ok(out);
  });
}

/**
 * An axis or a tuple/list of axes (`axis=-1`, `axis=(1, 2)`), read as a list. Keras counts the
 * batch axis (axis=1 is the first per-sample axis). With `noneMeansAll`, None is the empty list
 * (Normalization(axis=None): one mean and variance for every element).
 */
export function axes(dflt: number[], opts: { noneMeansAll?: boolean } = {}): ArgSpec<number[]> {
  const words = opts.noneMeansAll ? 'an integer, a tuple of integers, or None' : 'an integer or a tuple of integers';
  return spec(
    words,
    (v) => {
      if (v.k === 'unknown') return unknown(v.why);
      if (v.k === 'none' && opts.noneMeansAll) return ok([]);
      if (v.k === 'num' && Number.isInteger(v.v) && !v.float) return ok([v.v]);
      if (v.k === 'seq') {
        const out: number[] = [];
        for (const item of v.items) {
          if (item.k === 'unknown') return unknown(item.why);
          if (item.k !== 'num' || !Number.isInteger(item.v) || item.float) return bad(`must be ${words}, got ${showValue(v)}`);
          out.push(item.v);
        }
        return ok(out);
      }
      return bad(`must be ${words}, got ${showValue(v)}`);
    },
    { value: dflt },
  );
}

/**
 * An augmentation factor: a number or a (lower, upper) pair, each within the layer's bounds
 * (a single f stands for the range [−|f|, |f|]); read as the pair.
 */
export function factor(opts: { min: number; max?: number; minExclusive?: boolean }): ArgSpec<[number, number]> {
  const lower = `${opts.minExclusive ? '>' : '≥'} ${opts.min}`;
  const words = opts.max === undefined ? `a number ${lower} or a pair of them` : `a number in ${opts.minExclusive ? '(' : '['}${opts.min}, ${opts.max}] or a pair of them`;
  const inRange = (x: number) => (opts.minExclusive ? x > opts.min : x >= opts.min) && (opts.max === undefined || x <= opts.max);
  return spec(words, (v) => {
    if (v.k === 'unknown') return unknown(v.why);
    if (v.k === 'num') return inRange(v.v) ? ok([-Math.abs(v.v), Math.abs(v.v)]) : bad(`must be ${words}, got ${showValue(v)}`);
    if (v.k === 'seq' && v.items.length === 2) {
      const [a, b] = v.items;
      if (a.k === 'unknown') return unknown(a.why);
      if (b.k === 'unknown') return unknown(b.why);
      if (a.k === 'num' && b.k === 'num' && inRange(a.v) && inRange(b.v)) return ok([Math.min(a.v, b.v), Math.max(a.v, b.v)]);
    }
    return bad(`must be ${words}, got ${showValue(v)}`);
  });
}

/** A constant given as a number, a (nested) list/tuple of numbers or an array of known shape. */
export interface NumericArray {
  /** Its shape (`[]` for a number); null when ConvLens cannot tell. */
  shape: number[] | null;
  /** Its values in row-major order; null when they cannot be read without running the code. */
  values: number[] | null;
}

/**
 * A numeric constant such as Normalization's `mean=` (None when not given). A value ConvLens
 * cannot evaluate (`mean=np.mean(x)`) is read as given-but-unknown rather than making the shapes
 * unknown: they do not depend on it.
 */
export function numericArray(): ArgSpec<NumericArray | null> {
  const read = (v: Value): NumericArray | string => {
    if (v.k === 'num' || v.k === 'bool') return { shape: [], values: [v.k === 'num' ? v.v : v.v ? 1 : 0] };
    if (v.k === 'array') return { shape: v.shape.every((d) => d !== null) ? (v.shape as number[]) : null, values: null };
    if (v.k === 'seq') {
      const items = v.items.map(read);
      const bad = items.find((i): i is string => typeof i === 'string');
      if (bad !== undefined) return bad;
      const parts = items as NumericArray[];
      if (parts.length === 0) return { shape: [0], values: [] };
      const first = parts[0].shape;
      const same = first !== null && parts.every((p) => p.shape !== null && p.shape.join(',') === first.join(','));
      if (!same) return parts.some((p) => p.shape === null) ? { shape: null, values: null } : `must be a rectangular array of numbers, got ${showValue(v)}`;
      const values = parts.every((p) => p.values !== null) ? parts.flatMap((p) => p.values!) : null;
      return { shape: [parts.length, ...first!], values };
    }
    if (v.k === 'str' || v.k === 'none') return `must be a number or a list of numbers, got ${showValue(v)}`;
    return { shape: null, values: null };
  };
  return spec(
    'a number, a list of numbers or None',
    (v) => {
      if (v.k === 'none') return ok(null);
      const r = read(v);
      return typeof r === 'string' ? bad(r) : ok(r);
    },
    { value: null },
  );
}
