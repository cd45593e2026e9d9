/**
 * Which samples an array holds, followed from `load_data()` through the steps a model file
 * takes before `fit()`: `.astype`, `/ 255`, `.reshape`, `np.expand_dims`, `to_categorical`,
 * slices (`x_train[5000:]`), and indexing by a slice of `np.random.permutation(n)`
 * (`x_train[idx[:50000]]`). The trainer uses it to train and validate on the rows the file
 * chooses (`fit(x_train[5000:], …, validation_data=(x_train[:5000], …))`). The interpreter calls
 * these helpers at each of those steps; anything else drops the origin (never a guess).
 */
import type { Expr, Span } from './pythonAst';
import type { Value } from './values';

/** A Python slice with step 1 (`[a:b]`); bounds may be negative, as in Python. */
export interface RowSlice {
  start?: number;
  stop?: number;
}

/**
 * Rows of a split: optionally shuffled first (`np.random.permutation`, seeded by ConvLens), then
 * each slice applied in turn. `of` is the split's length the file's numbers refer to (60,000 for
 * MNIST's training set), so they can be scaled when the data at hand is smaller.
 */
export interface RowSelection {
  shuffled: boolean;
  slices: RowSlice[];
  of?: number;
}

/** Where an array's rows come from. */
export type DataOrigin =
  | { kind: 'data'; dataset: string; split: 'train' | 'test'; part: 'x' | 'y'; rows: RowSelection }
  /** An index array: a slice of `np.random.permutation(n)`. */
  | { kind: 'permutation'; n: number; slices: RowSlice[] };

/** What `fit()` trains or validates on, as plain data. */
export interface DataSelection {
  dataset: string;
  split: 'train' | 'test';
  rows: RowSelection;
  /** Where the file writes it (the argument), for messages. */
  span: Span;
}

type ArrayValue = Extract<Value, { k: 'array' }>;

/** The arrays `load_data()` returns, with their origin. */
export function loadDataOrigin(dataset: string, split: 'train' | 'test', part: 'x' | 'y', length: number): DataOrigin {
  return { kind: 'data', dataset, split, part, rows: { shuffled: false, slices: [], of: length } };
}

/** The result of a shape-changing step that keeps the rows (`reshape` with the same first axis, `expand_dims` past axis 0). */
export function keepOrigin(result: Value, from: Value): Value {
  if (result.k !== 'array' || from.k !== 'array' || !from.origin) return result;
  if (result.shape[0] !== from.shape[0] || result.shape[0] === undefined) return result;
  return { ...result, origin: from.origin };
}

/** `a[lo:hi:step]` on an array with an origin. */
export function sliceOrigin(result: Value, from: ArrayValue, lo: number | undefined, hi: number | undefined, step: number): Value {
  if (result.k !== 'array' || !from.origin || step !== 1) return result;
  const s: RowSlice = {};
  if (lo !== undefined) s.start = lo;
  if (hi !== undefined) s.stop = hi;
  const o = from.origin;
  if (o.kind === 'permutation') return { ...result, origin: { ...o, slices: [...o.slices, s] } };
  return { ...result, origin: { ...o, rows: { ...o.rows, slices: [...o.rows.slices, s] } } };
}

/**
 * `x[idx]` or `x[idx, :, :, :]`, where `idx` is a slice of `np.random.permutation(n)` and `x`
 * holds a whole split: the rows are the split shuffled, then the slices of `idx`.
 */
export function indexByPermutation(from: ArrayValue, index: Value): Value | undefined {
  if (index.k !== 'array' || index.origin?.kind !== 'permutation') return undefined;
  const o = from.origin;
  const count = index.shape[0] ?? null;
  const shape = [count, ...from.shape.slice(1)];
  if (!o || o.kind !== 'data' || o.rows.shuffled || o.rows.slices.length > 0) return { k: 'array', shape };
  return { k: 'array', shape, origin: { ...o, rows: { shuffled: true, slices: index.origin.slices, of: index.origin.n } } };
}

/** `np.random.permutation(n)`: an index array that remembers it is one. */
export function permutationArray(n: Value | undefined): Value | undefined {
  if (n?.k !== 'num' || !Number.isInteger(n.v) || n.v < 1) return undefined;
  return { k: 'array', shape: [n.v], origin: { kind: 'permutation', n: n.v, slices: [] } };
}

/** The data selection an `x` argument of fit() (or validation_data's first item) stands for. */
export function dataSelection(v: Value | undefined, span: Span): DataSelection | undefined {
  if (v?.k !== 'array' || v.origin?.kind !== 'data' || v.origin.part !== 'x') return undefined;
  return { dataset: v.origin.dataset, split: v.origin.split, rows: v.origin.rows, span };
}

/** Python's slice semantics on a length: the [start, stop) it selects. */
export function resolveSlice(s: RowSlice, length: number): [number, number] {
  const norm = (x: number | undefined, dflt: number) => {
    if (x === undefined) return dflt;
    const v = x < 0 ? x + length : x;
    return Math.max(0, Math.min(length, v));
  };
  const a = norm(s.start, 0);
  const b = norm(s.stop, length);
  return [a, Math.max(a, b)];
}

/**
 * The sample indices a selection picks out of a split of `count` samples. When `count` differs
 * from the length the file's numbers refer to (`of`), each slice keeps the same fractions.
 * `permute` gives the seeded permutation used for `shuffled`.
 */
export function selectRows(rows: RowSelection, count: number, permute: (n: number) => ArrayLike<number>): { indices: Uint32Array; scaled: boolean } {
  let idx: Uint32Array = rows.shuffled ? Uint32Array.from(permute(count)) : Uint32Array.from({ length: count }, (_, i) => i);
  const scale = rows.of !== undefined && rows.of !== count && rows.of > 0 ? count / rows.of : 1;
  let len = rows.of ?? count;
  for (const s of rows.slices) {
    const [a, b] = resolveSlice(s, len);
    len = b - a;
    const from = Math.round(a * scale);
    const to = Math.min(idx.length, Math.round(b * scale));
    idx = idx.subarray(Math.min(from, idx.length), Math.max(from, to));
  }
  return { indices: idx, scaled: scale !== 1 };
}

/**
 * The interpreter's hook for `a[…]` on an array: `result` is the shape-only answer; this adds
 * the origin for a slice `a[lo:hi]` (bounds evaluated with `evaluate`) and for indexing by a
 * permutation slice `a[idx]` / `a[idx, :, :, :]`. Anything else keeps `result` as it is.
 */
export function followRows(result: Value, from: ArrayValue, index: Expr[], values: (Value | { slice: true })[], evaluate: (e: Expr) => Value): Value {
  const first = index[0];
  if (index.length === 1 && first?.t === 'slice') {
    if (!from.origin) return result;
    const asInt = (e: Expr | undefined): number | undefined | null => {
      if (!e) return undefined;
      const v = evaluate(e);
      return v.k === 'none' ? undefined : v.k === 'num' && Number.isInteger(v.v) ? v.v : null;
    };
    const lo = asInt(first.lower);
    const hi = asInt(first.upper);
    const step = asInt(first.step) ?? 1;
    if (lo === null || hi === null || step !== 1 || result.k !== 'array') return result;
    const n = from.shape[0];
    const shaped: Value = typeof n === 'number' ? { ...result, shape: [Math.max(0, resolveSlice({ start: lo, stop: hi }, n)[1] - resolveSlice({ start: lo, stop: hi }, n)[0]), ...result.shape.slice(1)] } : result;
    return sliceOrigin(shaped, from, lo, hi, 1);
  }
  const idx = values[0];
  const restFull = index.slice(1).every((x) => x.t === 'slice' && !x.lower && !x.upper && !x.step);
  if (idx && 'k' in idx && restFull) return indexByPermutation(from, idx) ?? result;
  return result;
}
