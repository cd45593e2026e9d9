/**
 * What PyTorch's layers share: argument readers for PyTorch's spellings (`padding=1`,
 * `padding='same'`, `output_size=(None, 7)`), the words for its shapes (`[N, C, H, W]`) and the
 * errors it raises, so that a message quotes what PyTorch would say at run time.
 */
import { showValue, type Value } from '../../parse/values';
import { torchShape, type Dim } from '../../shape';
import type { ArgSpec, Parsed } from '../args';
import { ShapeError, type FixHint, type LayerContext } from '../define';

/** Keyword arguments every PyTorch module constructor accepts that change no shape. */
export const FACTORY_ARGS = ['device', 'dtype'] as const;

/**
 * Why the trainer refuses a PyTorch layer that has no training emitters yet: the analysis reads
 * it (shapes, parameters), the training graphs cannot run it.
 */
export const NOT_TRAINABLE_YET = 'ConvLens analyses this PyTorch layer but cannot train it yet';

/** `[N, C, H, W]`-style words for a layer's input, batch first. */
export function torchInputWords(rank: number): string {
  const axes = rank === 1 ? ['L'] : rank === 2 ? ['H', 'W'] : ['D', 'H', 'W'];
  return `[N, C, ${axes.join(', ')}]`;
}

/** A tuple as PyTorch prints one in messages: `(3, 3)`; a single int plainly. */
export const tupleText = (xs: readonly number[]): string => (xs.length === 1 ? String(xs[0]) : `(${xs.join(', ')})`);

/** `2 x 2`, as PyTorch prints sizes in its convolution and pooling errors. */
export const sizeText = (xs: readonly Dim[]): string => xs.map((d) => (d === null ? '?' : String(d))).join(' x ');

/** The whole input shape for a message, batch first when the file fixes it. */
export const inputText = (ctx: LayerContext, sample: readonly Dim[]): string => torchShape(ctx.batch ?? null, sample);

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (message: string): Parsed<never> => ({ ok: false, message });
const unknown = (why?: string): Parsed<never> => ({ ok: 'unknown', why });

function spec<T>(expected: string, parse: (v: Value) => Parsed<T>, dflt?: { value: T }): ArgSpec<T> {
  return { expected, required: dflt === undefined, default: dflt?.value, parse };
}

function intsOf(v: Value, n: number, min: number): number[] | undefined {
  const one = (x: Value): number | undefined => (x.k === 'num' && Number.isInteger(x.v) && !x.float && x.v >= min ? x.v : x.k === 'bool' && min <= 0 ? Number(x.v) : undefined);
  const single = one(v);
  if (single !== undefined) return Array(n).fill(single);
  if (v.k !== 'seq' || v.items.length !== n) return undefined;
  const out = v.items.map(one);
  return out.every((x) => x !== undefined) ? (out as number[]) : undefined;
}

/** A convolution's `padding`: an int or a tuple per spatial axis, or the strings 'same' and 'valid'. */
export type ConvPadding = number[] | 'same' | 'valid';

export function convPadding(rank: number): ArgSpec<ConvPadding> {
  const words = rank === 1 ? "an integer ≥ 0, 'same' or 'valid'" : `an integer ≥ 0, a tuple of ${rank}, 'same' or 'valid'`;
  return spec<ConvPadding>(
    words,
    (v): Parsed<ConvPadding> => {
      if (v.k === 'unknown') return unknown(v.why);
      if (v.k === 'str') {
        const s = v.v.toLowerCase();
        if (s === 'same' || s === 'valid') return ok(s);
        return bad(`must be ${words}, got ${showValue(v)} (PyTorch: Invalid padding string)`);
      }
      const pads = intsOf(v, rank, 0);
      return pads ? ok(pads) : bad(`must be ${words}, got ${showValue(v)}`);
    },
    { value: Array(rank).fill(0) },
  );
}

/**
 * Padding amounts of PyTorch's padding layers and `F.pad`: an int for every side, or a tuple
 * `(left, right, top, bottom, front, back)` from the last axis backwards; read as
 * `[before, after]` per axis, first axis first.
 */
export function sidePadding(axes: number, opts: { allowNegative?: boolean } = {}): ArgSpec<[number, number][]> {
  const words = `an integer or a tuple of ${2 * axes} integers`;
  return spec(words, (v) => {
    if (v.k === 'unknown') return unknown(v.why);
    const int = (x: Value): number | undefined => (x.k === 'num' && Number.isInteger(x.v) && (opts.allowNegative || x.v >= 0) ? x.v : undefined);
    const single = int(v);
    if (single !== undefined) return ok(Array.from({ length: axes }, () => [single, single] as [number, number]));
    if (v.k !== 'seq' || v.items.length !== 2 * axes) return bad(`must be ${words}, got ${showValue(v)}`);
    const xs = v.items.map(int);
    if (xs.some((x) => x === undefined)) return v.items.some((x) => x.k === 'unknown') ? unknown() : bad(`must be ${words}, got ${showValue(v)}`);
    const out: [number, number][] = [];
    // (left, right) pads the last axis, (top, bottom) the one before it.
    for (let i = axes - 1; i >= 0; i--) out.push([xs[2 * i]!, xs[2 * i + 1]!]);
    return ok(out);
  });
}

/** An `output_size`: an int, or a tuple whose None keeps the input's size on that axis. */
export function outputSize(rank: number): ArgSpec<(number | null)[]> {
  const words = rank === 1 ? 'a positive integer' : `a positive integer or a tuple of ${rank} (None keeps the input size)`;
  return spec(words, (v) => {
    if (v.k === 'unknown') return unknown(v.why);
    if (v.k === 'num' && Number.isInteger(v.v) && v.v >= 1) return ok(Array(rank).fill(v.v));
    if (v.k === 'seq' && v.items.length === rank) {
      const out: (number | null)[] = [];
      for (const x of v.items) {
        if (x.k === 'none') out.push(null);
        else if (x.k === 'num' && Number.isInteger(x.v) && x.v >= 1) out.push(x.v);
        else if (x.k === 'unknown') return unknown(x.why);
        else return bad(`must be ${words}, got ${showValue(v)}`);
      }
      return ok(out);
    }
    return bad(`must be ${words}, got ${showValue(v)}`);
  });
}

/** A `dim` argument: an int or None. */
export function dimArg(dflt: number | null = null, required = false): ArgSpec<number | null> {
  return spec(
    'an integer axis or None',
    (v) => {
      if (v.k === 'unknown') return unknown(v.why);
      if (v.k === 'none') return ok(null);
      if (v.k === 'num' && Number.isInteger(v.v)) return ok(v.v);
      return bad(`must be an integer axis or None, got ${showValue(v)}`);
    },
    required ? undefined : { value: dflt },
  );
}

/** A list of ints (sizes or axes), given as a tuple/list or as separate ints. */
export function intList(opts: { allowMinusOne?: boolean; min?: number } = {}): ArgSpec<number[]> {
  const words = opts.allowMinusOne ? 'a tuple of sizes (one may be -1)' : 'a tuple of integers';
  return spec(words, (v) => {
    if (v.k === 'unknown') return unknown(v.why);
    const items = v.k === 'seq' ? v.items : [v];
    const out: number[] = [];
    for (const x of items) {
      if (x.k === 'unknown') return unknown(x.why);
      if (x.k !== 'num' || !Number.isInteger(x.v) || x.float) return bad(`must be ${words}, got ${showValue(v)}`);
      if (opts.min !== undefined && x.v < opts.min && !(opts.allowMinusOne && x.v === -1)) return bad(`must be ${words}, got ${showValue(v)}`);
      out.push(x.v);
    }
    return ok(out);
  });
}

/** Resolves a PyTorch axis (negative counts from the end) on a shape of `rank` axes, or throws PyTorch's IndexError. */
export function torchAxis(op: string, dim: number, rank: number, arg = 'dim'): number {
  const i = dim < 0 ? rank + dim : dim;
  if (i < 0 || i >= rank) {
    throw new ShapeError(`${op}: Dimension out of range (expected to be in range of [${-rank}, ${rank - 1}], but got ${dim})`, arg, [], 'axis');
  }
  return i;
}

/**
 * The input does not have the channels the layer was built for (`in_channels`, `num_features`):
 * an error at that argument, blaming the input, with the number that fits as the fix.
 */
export function channelMismatch(layer: string, arg: string, expected: number, got: number, input: string, pytorchSays: string): ShapeError {
  const fix: FixHint = { kind: 'setArg', arg, code: String(got), title: `Set ${arg} to ${got}` };
  return new ShapeError(`${layer}(${arg}=${expected}) gets an input with ${got} channel${got === 1 ? '' : 's'} ${input}; PyTorch raises "${pytorchSays}"`, arg, [fix], `${arg.replace(/_/g, '-')}-mismatch`, true);
}
