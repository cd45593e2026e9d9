/**
 * What `compile()` and `fit()` say beyond the plain numbers: the data fit() trains and validates
 * on (`validation_data=(x_test, y_test)`), its `callbacks=[…]`, a learning-rate schedule passed
 * as the optimizer's `learning_rate`, and the math a schedule function uses. The interpreter
 * calls these helpers from its `compile`/`fit` handling and turns Keras objects into plain data
 * here; src/core/train/fitOptions.ts decides what each means for training.
 */
import { dataSelection, permutationArray, type DataSelection } from './dataOrigin';
import { defaultLearningRate, optimizerName } from '../train/optimizers';
import type { Span } from './pythonAst';
import type { ModelBuild } from '../model/graph';
import { NONE, num, type ArgValue, type CallArgs, type OptimizerSpec, type Value } from './values';

/** A Keras object's argument as plain data; what cannot be known statically is `{ unknown }`. */
export type PlainArg = number | string | boolean | null | PlainArg[] | { unknown: string };

/** A Keras callback or schedule as the file creates it. */
export interface KerasObjectSpec {
  className: string;
  /** Keyword arguments, and positional ones under their Keras names where {@link POSITIONAL} knows them. */
  args: Record<string, PlainArg>;
  span: Span;
}

/** A LearningRateScheduler's function evaluated per epoch (Keras calls `schedule(epoch, lr)` before each epoch). */
export interface LrTable {
  /** The learning rate set before epoch 0, 1, …. */
  values: number[];
  /** The optimizer's learning rate the chain started from. */
  initialLr: number;
  /** Whether the function reads its `lr` argument. */
  usesLr: boolean;
  /** Whether doubling the starting rate doubles every value (so another starting rate scales the table). */
  linearInLr: boolean;
}

/** What compile() adds beyond the optimizer: a schedule object given as its learning rate. */
export interface CompileExtras {
  schedule?: KerasObjectSpec;
}

/** What fit() adds beyond batch size, epochs and validation_split. */
export interface FitExtrasSpec {
  /** The rows fit()'s `x` holds, when they can be followed from load_data(). */
  train?: DataSelection;
  /** validation_data's rows, when followed; `unknown` when given but not followed. */
  validation?: DataSelection | { unknown: string };
  /** Each callback in `callbacks=[…]`, or why the list cannot be read. */
  callbacks: (KerasObjectSpec & { lrTable?: LrTable | { unknown: string } })[] | { unknown: string };
}

/** Keras classes read as objects (callbacks and learning-rate schedules), and their positional argument names. */
const POSITIONAL: Record<string, string[]> = {
  EarlyStopping: ['monitor', 'min_delta', 'patience', 'verbose', 'mode', 'baseline', 'restore_best_weights', 'start_from_epoch'],
  ReduceLROnPlateau: ['monitor', 'factor', 'patience', 'verbose', 'mode', 'min_delta', 'cooldown', 'min_lr'],
  ModelCheckpoint: ['filepath', 'monitor', 'verbose', 'save_best_only', 'save_weights_only', 'mode', 'save_freq', 'initial_value_threshold'],
  LearningRateScheduler: ['schedule', 'verbose'],
  ExponentialDecay: ['initial_learning_rate', 'decay_steps', 'decay_rate', 'staircase', 'name'],
  InverseTimeDecay: ['initial_learning_rate', 'decay_steps', 'decay_rate', 'staircase', 'name'],
  CosineDecay: ['initial_learning_rate', 'decay_steps', 'alpha', 'name', 'warmup_target', 'warmup_steps'],
  PiecewiseConstantDecay: ['boundaries', 'values', 'name'],
  PolynomialDecay: ['initial_learning_rate', 'decay_steps', 'end_learning_rate', 'power', 'cycle', 'name'],
};

/** Schedules that can be an optimizer's learning_rate. */
export const SCHEDULE_CLASSES = ['ExponentialDecay', 'InverseTimeDecay', 'CosineDecay', 'PiecewiseConstantDecay', 'PolynomialDecay', 'CosineDecayRestarts'];

/**
 * `keras.callbacks.X(…)` or `keras.optimizers.schedules.X(…)` (the module path after
 * normalisation): an object value; other paths: undefined.
 */
export function kerasObjectCall(path: string, args: CallArgs, span: Span): Value | undefined {
  const parts = path.split('.');
  const last = parts[parts.length - 1];
  if (parts[0] !== 'keras' || !/^[A-Z]/.test(last)) return undefined;
  if (parts[1] === 'callbacks' || (parts[1] === 'optimizers' && SCHEDULE_CLASSES.includes(last))) return { k: 'kerasObject', className: last, args, span };
  return undefined;
}

const MATH_MODULES = /^(math|numpy|tensorflow\.math|tensorflow|keras\.ops|keras\.backend|tensorflow\.experimental\.numpy)\.([a-z_0-9]+)$/;

/** `math.exp(x)`, `np.exp`, `tf.math.exp`, `keras.ops.exp`, … on known numbers (what schedule functions compute with). */
export function mathCall(path: string, args: CallArgs): Value | undefined {
  if (path === 'numpy.random.permutation') return permutationArray(args.positional[0]?.value) ?? undefined;
  const m = MATH_MODULES.exec(path);
  if (!m) return undefined;
  const xs = args.positional.map((a) => a.value);
  if (xs.length === 0 || !xs.every((x) => x.k === 'num')) return undefined;
  const [a, b] = xs.map((x) => (x as { v: number }).v);
  const f: Record<string, () => number> = {
    exp: () => Math.exp(a),
    log: () => Math.log(a),
    log10: () => Math.log10(a),
    sqrt: () => Math.sqrt(a),
    cos: () => Math.cos(a),
    sin: () => Math.sin(a),
    tanh: () => Math.tanh(a),
    floor: () => Math.floor(a),
    ceil: () => Math.ceil(a),
    abs: () => Math.abs(a),
    pow: () => Math.pow(a, b),
    power: () => Math.pow(a, b),
    minimum: () => Math.min(a, b),
    maximum: () => Math.max(a, b),
    float32: () => Math.fround(a),
    float64: () => a,
  };
  const fn = f[m[2]];
  if (!fn || (['pow', 'power', 'minimum', 'maximum'].includes(m[2]) && xs.length < 2)) return undefined;
  const v = fn();
  if (!Number.isFinite(v)) return undefined;
  return num(v, !['floor', 'ceil'].includes(m[2]) || path.startsWith('numpy') || path.startsWith('tensorflow') || path.startsWith('keras'));
}

/** A value as plain data. */
export function plainArg(v: Value): PlainArg {
  switch (v.k) {
    case 'num':
      return v.v;
    case 'str':
      return v.v;
    case 'bool':
      return v.v;
    case 'none':
      return null;
    case 'seq':
      return v.items.map(plainArg);
    case 'func':
      return { unknown: 'a function' };
    case 'kerasObject':
      return { unknown: `a ${v.className} object` };
    case 'unknown':
      return { unknown: v.why ?? 'a value known only when the code runs' };
    default:
      return { unknown: `${v.k} value` };
  }
}

/** A Keras object's arguments by name, positional ones named after Keras' signature. */
function objectSpec(v: Extract<Value, { k: 'kerasObject' }>): KerasObjectSpec {
  const names = POSITIONAL[v.className] ?? [];
  const args: Record<string, PlainArg> = {};
  v.args.positional.forEach((a, i) => {
    args[names[i] ?? `#${i}`] = plainArg(a.value);
  });
  for (const [k, a] of v.args.keyword) args[k] = plainArg(a.value);
  return { className: v.className, args, span: v.span };
}

/**
 * compile(): a schedule object given as the optimizer's `learning_rate` is recorded, and the
 * optimizer reads its initial rate, so the plan shows the rate training starts with.
 */
export function readCompileExtras(optimizer: OptimizerSpec | undefined): CompileExtras | undefined {
  const lr = optimizer?.args.get('learning_rate') ?? optimizer?.args.get('lr');
  if (!optimizer || lr?.k !== 'kerasObject' || !SCHEDULE_CLASSES.includes(lr.className)) return undefined;
  const schedule = objectSpec(lr);
  const first = schedule.args.initial_learning_rate ?? (Array.isArray(schedule.args.values) ? schedule.args.values[0] : undefined);
  optimizer.args.delete('lr');
  if (typeof first === 'number') optimizer.args.set('learning_rate', num(first, true));
  else optimizer.args.set('learning_rate', { k: 'unknown', why: `the initial rate of ${lr.className}` });
  return { schedule };
}

/** Keras' default learning rate for an optimizer name (the starting point of a LearningRateScheduler chain), from the optimizer registry. */
function defaultLr(name: string | undefined): number {
  const known = name === undefined ? undefined : optimizerName(name);
  return (known ? defaultLearningRate(known) : undefined) ?? 0.001;
}

/** The optimizer's learning rate as the file sets it, or Keras' default. */
function fileLr(model: ModelBuild): number {
  const spec = model.compile?.optimizer;
  const v = spec?.args.get('learning_rate') ?? spec?.args.get('lr');
  return v?.k === 'num' ? v.v : defaultLr(spec?.name);
}

/** How many epochs a schedule function is evaluated for when fit() does not say (further epochs keep the last rate). */
export const SCHEDULE_EPOCHS = 200;

/** Calls a file's function (def or lambda) on numbers, through the interpreter. */
export type CallFunction = (fn: Value, args: Value[]) => Value;

function lrTable(fn: Value, epochs: number, lr0: number, call: CallFunction): LrTable | { unknown: string } {
  if (fn.k !== 'func') return { unknown: 'the schedule is not a function defined in the file' };
  const arity = fn.fn.params.filter((p) => !p.star).length;
  const chain = (start: number): number[] | string => {
    const out: number[] = [];
    let lr = start;
    for (let e = 0; e < epochs; e++) {
      const r = call(fn, arity >= 2 ? [num(e), num(lr, true)] : [num(e)]);
      if (r.k !== 'num' || !Number.isFinite(r.v)) return `its value at epoch ${e} is known only when the code runs`;
      lr = r.v;
      out.push(lr);
    }
    return out;
  };
  const values = chain(lr0);
  if (typeof values === 'string') return { unknown: values };
  const doubled = arity >= 2 ? chain(2 * lr0) : values;
  const usesLr = typeof doubled !== 'string' && doubled.some((v, i) => v !== values[i]);
  const linearInLr = typeof doubled !== 'string' && (!usesLr || doubled.every((v, i) => Math.abs(v - 2 * values[i]) <= 1e-12 * Math.abs(v)));
  return { values, initialLr: lr0, usesLr: usesLr || typeof doubled === 'string', linearInLr };
}

/** fit(): the rows of `x` and `validation_data`, and each callback. */
export function readFitExtras(args: CallArgs, model: ModelBuild, call: CallFunction, epochs: number | undefined): FitExtrasSpec {
  const get = (kw: string, pos: number): ArgValue | undefined => args.keyword.get(kw) ?? args.positional[pos];
  const x = get('x', 0);
  const out: FitExtrasSpec = { callbacks: [] };
  const train = x ? dataSelection(x.value, x.span) : undefined;
  if (train) out.train = train;
  const vd = get('validation_data', 7);
  if (vd && vd.value.k !== 'none') {
    const first = vd.value.k === 'seq' ? vd.value.items[0] : undefined;
    const sel = first ? dataSelection(first, vd.span) : undefined;
    out.validation = sel ?? { unknown: 'which samples validation_data holds is known only when the code runs' };
  }
  const cb = get('callbacks', 5);
  if (cb && cb.value.k !== 'none') {
    if (cb.value.k !== 'seq') out.callbacks = { unknown: 'the callbacks list is known only when the code runs' };
    else {
      const list: Exclude<FitExtrasSpec['callbacks'], { unknown: string }> = [];
      for (const item of cb.value.items) {
        if (item.k !== 'kerasObject') {
          list.push({ className: item.k === 'unknown' ? '?' : item.k, args: {}, span: cb.span });
          continue;
        }
        const spec: KerasObjectSpec & { lrTable?: LrTable | { unknown: string } } = objectSpec(item);
        if (item.className === 'LearningRateScheduler') {
          const fn = item.args.keyword.get('schedule')?.value ?? item.args.positional[0]?.value ?? NONE;
          spec.lrTable = lrTable(fn, Math.max(1, Math.min(epochs ?? SCHEDULE_EPOCHS, 10_000)), fileLr(model), call);
        }
        list.push(spec);
      }
      out.callbacks = list;
    }
  }
  return out;
}
