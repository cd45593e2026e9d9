/**
 * The parts of Python's standard library and NumPy that model files compute shapes with:
 * `math`, `numpy` array constructors and shape functions, `argparse` defaults. Arrays are
 * shapes, never values.
 */
import type { Span } from './pythonAst';
import type { Dim } from '../shape';
import { NONE, UNKNOWN, num, str, tuple, type CallArgs, type ClassValue, type ObjectValue, type Value } from './values';
import type { Interpreter } from './interpreter';
import { keepOrigin } from './dataOrigin';

const LIBRARY_FILE = { module: '<library>', text: '' };

/** Constants read as attributes (`math.pi`, `np.newaxis`). */
export function libraryAttribute(path: string, name: string): Value | undefined {
  const full = `${path}.${name}`;
  switch (full) {
    case 'math.pi':
    case 'numpy.pi':
      return num(Math.PI, true);
    case 'math.e':
      return num(Math.E, true);
    case 'math.inf':
    case 'numpy.inf':
      return num(Infinity, true);
    case 'numpy.newaxis':
      return NONE;
    default:
      return undefined;
  }
}

/** A shape given as `(2, 3)`, `[2, 3]`, `2`, or as separate arguments `randn(2, 3)`. */
export function shapeArg(args: CallArgs, key = 'shape', separate = false): Dim[] | undefined {
  const given = args.keyword.get(key)?.value ?? args.keyword.get('size')?.value;
  const vals = given ? [given] : separate && args.positional.length > 1 ? [tuple(args.positional.map((a) => a.value))] : args.positional.slice(0, 1).map((a) => a.value);
  const v = vals[0];
  if (!v) return separate ? [] : undefined;
  if (v.k === 'num' && Number.isInteger(v.v)) return [v.v];
  if (v.k !== 'seq') return undefined;
  const out: Dim[] = [];
  for (const d of v.items) {
    if (d.k === 'num' && Number.isInteger(d.v) && d.v >= 0) out.push(d.v);
    else if (d.k === 'none') out.push(null);
    else return undefined;
  }
  return out;
}

/** The shape of a nested list of numbers (`np.array([[1, 2], [3, 4]])`), bounded in depth. */
function nestedShape(v: Value, depth = 0): Dim[] | undefined {
  if (v.k === 'num' || v.k === 'bool') return [];
  if (v.k === 'array') return v.shape;
  if (v.k !== 'seq' || depth > 8) return undefined;
  if (v.items.length === 0) return [0];
  const inner = nestedShape(v.items[0], depth + 1);
  if (!inner) return undefined;
  return [v.items.length, ...inner];
}

const mathUnary: Record<string, (x: number) => number> = {
  ceil: Math.ceil,
  floor: Math.floor,
  sqrt: Math.sqrt,
  log: Math.log,
  log2: Math.log2,
  log10: Math.log10,
  exp: Math.exp,
  fabs: Math.abs,
  trunc: Math.trunc,
};

/** TensorFlow's element-wise comparisons, on two numbers. */
const TF_COMPARE: Record<string, (a: number, b: number) => boolean> = {
  equal: (a, b) => a === b,
  not_equal: (a, b) => a !== b,
  greater: (a, b) => a > b,
  greater_equal: (a, b) => a >= b,
  less: (a, b) => a < b,
  less_equal: (a, b) => a <= b,
};

/** Calls into `math`, `numpy`, eager TensorFlow constructors and `argparse`; undefined when not one of them. */
export function libraryCall(interp: Interpreter, path: string, args: CallArgs, span: Span): Value | undefined {
  const p = args.positional.map((a) => a.value);
  const [mod, ...rest] = path.split('.');
  const fn = rest.join('.');
  if (mod === 'math') {
    const f = mathUnary[fn];
    if (f) {
      if (p[0]?.k !== 'num') return UNKNOWN;
      const r = f(p[0].v);
      const integer = fn === 'ceil' || fn === 'floor' || fn === 'trunc';
      return Number.isFinite(r) ? num(r, !integer) : UNKNOWN;
    }
    if (fn === 'pow' && p[0]?.k === 'num' && p[1]?.k === 'num') return num(Math.pow(p[0].v, p[1].v), true);
    if (fn === 'gcd' && p.every((x) => x.k === 'num')) return num(p.map((x) => (x as { v: number }).v).reduce((a, b) => gcd(a, b), 0));
    if (fn === 'prod') {
      const it = p[0] ? interp.iterate(p[0], span) : undefined;
      const items = it ? [...it] : undefined;
      if (!items || !items.every((x) => x.k === 'num')) return UNKNOWN;
      return num(items.reduce((a, x) => a * (x as { v: number }).v, 1));
    }
    if (fn === 'isqrt' && p[0]?.k === 'num') return num(Math.floor(Math.sqrt(p[0].v)));
    return UNKNOWN;
  }
  if (mod === 'numpy') return numpyCall(interp, fn, p, args, span);
  if (mod === 'copy' && (fn === 'deepcopy' || fn === 'copy')) return p[0] ? copyValue(p[0], fn === 'deepcopy' ? 16 : 1) : UNKNOWN;
  // typing.cast(T, v) is v; an OrderedDict keeps insertion order, as every dict ConvLens makes does.
  if (mod === 'typing' && fn === 'cast') return p[1] ?? UNKNOWN;
  if (mod === 'collections' && fn === 'OrderedDict') return orderedDict(interp, p[0], args, span);
  if (mod === 'tensorflow') {
    // tf.math.equal(x.shape[-1], filters) on two Python numbers is an eager boolean tensor, and
    // `if` reads its value (MobileNet-style blocks choose their residual Add with it).
    const compare = TF_COMPARE[fn.replace(/^math\./, '')];
    if (compare && p.length === 2 && p[0].k === 'num' && p[1].k === 'num') return { k: 'bool', v: compare(p[0].v, p[1].v) };
    // Eager tensors made to build or call a model: their shape is what matters.
    if (['zeros', 'ones', 'random.normal', 'random.uniform', 'random.truncated_normal', 'fill', 'zeros_like', 'ones_like'].includes(fn)) {
      if (fn.endsWith('_like')) return p[0]?.k === 'array' || p[0]?.k === 'tensor' ? p[0] : UNKNOWN;
      const shape = shapeArg(args);
      return shape ? { k: 'array', shape } : UNKNOWN;
    }
    if (fn === 'constant' || fn === 'convert_to_tensor') {
      const shape = p[0] ? nestedShape(p[0]) : undefined;
      return shape ? { k: 'array', shape } : UNKNOWN;
    }
    return undefined;
  }
  if (mod === 'argparse' && fn === 'ArgumentParser') return argumentParser();
  return undefined;
}

/** `OrderedDict([(k, v), …])`, `OrderedDict(a=1)`, `OrderedDict(d)`. */
function orderedDict(interp: Interpreter, items: Value | undefined, args: CallArgs, span: Span): Value {
  const entries = new Map<string, { key: Value; value: Value }>();
  if (items?.k === 'dict') for (const [k, v] of items.entries) entries.set(k, v);
  else if (items) {
    const it = interp.iterate(items, span);
    if (!it) return { k: 'unknown', why: 'an OrderedDict of items ConvLens could not read' };
    for (const pair of it) {
      if (pair.k !== 'seq' || pair.items.length !== 2) return { k: 'unknown', why: 'an OrderedDict of items ConvLens could not read' };
      const k = pair.items[0].k === 'str' ? `s:${pair.items[0].v}` : pair.items[0].k === 'num' ? `n:${pair.items[0].v}` : undefined;
      if (k === undefined) return { k: 'unknown', why: 'an OrderedDict with keys ConvLens cannot read' };
      entries.set(k, { key: pair.items[0], value: pair.items[1] });
    }
  }
  for (const [k, v] of args.keyword) entries.set(`s:${k}`, { key: str(k), value: v.value });
  return { k: 'dict', entries };
}

/** `copy.copy` (depth 1) / `copy.deepcopy`: new lists and dicts; everything else is shared. */
function copyValue(v: Value, depth: number): Value {
  if (depth <= 0) return v;
  if (v.k === 'seq') return { k: 'seq', kind: v.kind, items: v.items.map((x) => copyValue(x, depth - 1)) };
  if (v.k === 'dict') return { k: 'dict', entries: new Map([...v.entries].map(([k, e]) => [k, { key: e.key, value: copyValue(e.value, depth - 1) }])) };
  return v;
}

function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b) [a, b] = [b, a % b];
  return a;
}

function numpyCall(interp: Interpreter, fn: string, p: Value[], args: CallArgs, span: Span): Value | undefined {
  switch (fn) {
    case 'zeros':
    case 'ones':
    case 'empty':
    case 'full': {
      const shape = shapeArg(args);
      return shape ? { k: 'array', shape } : UNKNOWN;
    }
    case 'random.rand':
    case 'random.randn': {
      const shape = shapeArg(args, 'shape', true);
      return shape ? { k: 'array', shape } : UNKNOWN;
    }
    case 'random.normal':
    case 'random.uniform':
    case 'random.random':
    case 'random.randint':
    case 'random.standard_normal': {
      const shape = shapeArg({ ...args, positional: fn === 'random.random' || fn === 'random.standard_normal' ? args.positional : [] }, 'size');
      return shape ? { k: 'array', shape } : UNKNOWN;
    }
    case 'zeros_like':
    case 'ones_like':
    case 'asarray':
    case 'float32':
    case 'copy':
      return p[0]?.k === 'array' ? p[0] : p[0] ? arrayOf(p[0]) : UNKNOWN;
    case 'array':
      return p[0] ? arrayOf(p[0]) : UNKNOWN;
    case 'arange': {
      const ints = p.map((x) => (x.k === 'num' ? x.v : undefined));
      if (ints.some((x) => x === undefined) || ints.length === 0) return UNKNOWN;
      const [a, b, c] = ints.length === 1 ? [0, ints[0]!, 1] : [ints[0]!, ints[1]!, ints[2] ?? 1];
      return { k: 'array', shape: [Math.max(0, Math.ceil((b - a) / c))] };
    }
    case 'expand_dims': {
      const a = p[0];
      const ax = (args.keyword.get('axis') ?? args.positional[1])?.value;
      if (a?.k === 'array' && ax?.k === 'num') {
        const s = a.shape.slice();
        const i = axisIndex(ax.v, s.length + 1);
        if (i === undefined) return UNKNOWN;
        s.splice(i, 0, 1);
        return i === 0 ? { k: 'array', shape: s } : keepOrigin({ k: 'array', shape: s }, a);
      }
      return UNKNOWN;
    }
    case 'reshape': {
      const a = p[0];
      const dims = (args.keyword.get('newshape') ?? args.keyword.get('shape') ?? args.positional[1])?.value;
      if (a?.k === 'array' && dims) return keepOrigin(reshapeArray(a.shape, dims), a);
      // An array read from a file (`np.load`): its new shape is the one asked for.
      return a?.k === 'unknown' && dims ? reshapeArray([null], dims) : UNKNOWN;
    }
    case 'concatenate':
    case 'vstack':
    case 'hstack': {
      const it = p[0] ? interp.iterate(p[0], span) : undefined;
      const arrays = it ? [...it] : undefined;
      if (!arrays || !arrays.length || !arrays.every((a) => a.k === 'array')) return UNKNOWN;
      const shapes = arrays.map((a) => (a as { shape: Dim[] }).shape);
      const axArg = args.keyword.get('axis')?.value ?? p[1];
      const axis = fn === 'hstack' ? (shapes[0].length > 1 ? 1 : 0) : axArg?.k === 'num' ? axArg.v : 0;
      const out = shapes[0].slice();
      const i = axisIndex(axis, out.length);
      if (i === undefined) return UNKNOWN;
      let total: Dim = 0;
      for (const s of shapes) total = total === null || s[i] === null || s[i] === undefined ? null : total + (s[i] as number);
      out[i] = total;
      return { k: 'array', shape: out };
    }
    case 'prod': {
      if (p[0]?.k === 'array') return UNKNOWN;
      const it = p[0] ? interp.iterate(p[0], span) : undefined;
      const items = it ? [...it] : undefined;
      if (!items || !items.every((x) => x.k === 'num')) return UNKNOWN;
      return num(items.reduce((a, x) => a * (x as { v: number }).v, 1));
    }
    case 'ceil':
    case 'floor':
    case 'sqrt':
    case 'log2':
      if (p[0]?.k === 'num') return num(mathUnary[fn](p[0].v), true);
      return p[0]?.k === 'array' ? p[0] : UNKNOWN;
    case 'int32':
    case 'int64':
    case 'float64':
      return p[0]?.k === 'num' ? num(fn.startsWith('int') ? Math.trunc(p[0].v) : p[0].v, !fn.startsWith('int')) : p[0]?.k === 'array' ? p[0] : UNKNOWN;
    case 'load':
      return UNKNOWN;
    default:
      return UNKNOWN;
  }
}

function arrayOf(v: Value): Value {
  const shape = nestedShape(v);
  return shape ? { k: 'array', shape } : UNKNOWN;
}

/** `a.reshape(-1, 28, 28, 1)`: the new shape with one -1 inferred when the size is known. */
export function reshapeArray(shape: Dim[], dims: Value): Value {
  const target = dims.k === 'num' ? [dims] : dims.k === 'seq' ? dims.items : undefined;
  // A size read from data ConvLens does not have (`data.shape[0]`) stays unknown; the others hold
  // whatever the array was: `np.reshape(data, (data.shape[0], 28, 28, 1))` is (?, 28, 28, 1).
  if (!target || !target.every((d) => d.k === 'num' || d.k === 'unknown')) return { k: 'unknown', why: 'a reshape to sizes ConvLens cannot read' };
  const t = target.map((d) => (d.k === 'num' ? d.v : null));
  if (t.every((d) => d === null)) return { k: 'unknown', why: 'a reshape to sizes ConvLens cannot read' };
  const known = shape.every((d) => d !== null) ? shape.reduce<number>((p, d) => p * (d as number), 1) : null;
  const rest = t.every((d) => d !== null) ? t.filter((d) => d !== -1).reduce<number>((p, d) => p * (d as number), 1) : 0;
  return { k: 'array', shape: t.map((d) => (d === -1 ? (known !== null && rest > 0 ? known / rest : null) : d)) };
}

// ---------------------------------------------------------------------------------------------
// argparse: the defaults a script runs with when given no arguments.

const ARGPARSE: ClassValue = { name: 'ArgumentParser', bases: [], members: new Map(), file: LIBRARY_FILE, span: { start: 0, end: 0 }, native: 'argparse' };
const NAMESPACE: ClassValue = { name: 'Namespace', bases: [], members: new Map(), file: LIBRARY_FILE, span: { start: 0, end: 0 } };

function argumentParser(): Value {
  return { k: 'object', obj: { cls: ARGPARSE, attrs: new Map([['__defaults__', { k: 'dict', entries: new Map() }]]) } };
}

/** Methods of library objects (argparse's parser); undefined when the object is not one. */
export function libraryMethod(self: ObjectValue, name: string, args: CallArgs): Value | undefined {
  if (self.cls !== ARGPARSE) return undefined;
  const defaults = self.attrs.get('__defaults__') as Extract<Value, { k: 'dict' }>;
  switch (name) {
    case 'add_argument': {
      const flags = args.positional.map((a) => a.value).filter((v) => v.k === 'str') as { v: string }[];
      const long = flags.find((f) => f.v.startsWith('--')) ?? flags[0];
      const destArg = args.keyword.get('dest')?.value;
      const dest = destArg?.k === 'str' ? destArg.v : long ? long.v.replace(/^-+/, '').replace(/-/g, '_') : undefined;
      if (!dest) return NONE;
      const action = args.keyword.get('action')?.value;
      const dflt = args.keyword.get('default')?.value;
      let value: Value;
      const required = args.keyword.get('required')?.value;
      if (dflt) value = dflt;
      else if (required?.k === 'bool' && required.v) value = { k: 'unknown', why: `the command-line argument '${long?.v ?? dest}' is required and has no default` };
      else if (action?.k === 'str' && action.v === 'store_true') value = { k: 'bool', v: false };
      else if (action?.k === 'str' && action.v === 'store_false') value = { k: 'bool', v: true };
      else if (long && !long.v.startsWith('-')) value = { k: 'unknown', why: `the command-line argument '${dest}' has no default` };
      else value = NONE;
      defaults.entries.set(`s:${dest}`, { key: str(dest), value });
      return NONE;
    }
    case 'parse_args':
    case 'parse_known_args': {
      const ns: Value = { k: 'object', obj: { cls: NAMESPACE, attrs: new Map([...defaults.entries.values()].map((e) => [(e.key as { v: string }).v, e.value])) } };
      return name === 'parse_args' ? ns : tuple([ns, { k: 'seq', kind: 'list', items: [] }]);
    }
    case 'set_defaults':
      for (const [k, v] of args.keyword) defaults.entries.set(`s:${k}`, { key: str(k), value: v.value });
      return NONE;
    default:
      return NONE;
  }
}

/**
 * An axis of an array of `rank` axes, counted from the end when negative; undefined when NumPy
 * raises AxisError (not an integer, out of range). Written unchecked, `axis=10**9` made a shape
 * a sparse array of a billion entries that the next copy filled: the analysis hung.
 */
function axisIndex(axis: number, rank: number): number | undefined {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) return undefined;
  return axis < 0 ? rank + axis : axis;
}
