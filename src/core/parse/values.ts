import type { Dim } from '../shape';
import type { FrameworkName } from '../layers/define';
import type { LayerInstance, ModelBuild, SourceFile, SymTensor } from '../model/graph';
import type { DataOrigin } from './dataOrigin';
import type { CompileExtras, FitExtrasSpec } from './fitArgs';
import type { Expr, Param, Span, Stmt } from './pythonAst';

/** One evaluated argument and where it is written. */
export interface ArgValue {
  value: Value;
  span: Span;
  /** The keyword's own range, for keyword arguments. */
  nameSpan?: Span;
}

export interface CallArgs {
  positional: ArgValue[];
  keyword: Map<string, ArgValue>;
  /** Some arguments were passed with `*` or `**` from values ConvLens could not read. */
  opaque?: boolean;
  /** The parenthesised argument list, where an inserted keyword argument goes. */
  span: Span;
}

export interface OptimizerSpec {
  name: string;
  args: Map<string, Value>;
  /** Positional arguments after the first (a scheduler's after its optimizer), read by the registry that knows the signature. */
  positional?: Value[];
  span: Span;
}

/** What `compile()` said, for the trainer. */
export interface CompileSpec {
  optimizer?: OptimizerSpec;
  loss?: string;
  /** The arguments the loss was made or called with (`SparseCategoricalCrossentropy(from_logits=True)`, `nn.CrossEntropyLoss(label_smoothing=0.1)`). */
  lossArgs?: LossArgs;
  metrics: string[];
  span: Span;
  /** A learning-rate schedule given as the optimizer's learning_rate (fitArgs.ts). */
  extras?: CompileExtras;
  /** PyTorch: a torch.optim.lr_scheduler made on the optimizer (`StepLR(optimizer, step_size=1, gamma=0.7)`). */
  scheduler?: OptimizerSpec;
  /** PyTorch: the training set's `transforms.Normalize(mean, std)`, per channel, after ToTensor's ÷ 255. */
  normalize?: InputNormalization;
}

/** The arguments of a loss's constructor or function call, for the trainer's loss registry. */
export interface LossArgs {
  keywords: Map<string, Value>;
  positional: Value[];
}

/** `transforms.Normalize(mean, std)` as written: one value (every channel) or one per channel. */
export interface InputNormalization {
  mean: number[];
  std: number[];
  span: Span;
}

/** What `fit()` said, for the trainer. */
export interface FitSpec {
  batchSize?: number;
  epochs?: number;
  validationSplit?: number;
  hasValidationData: boolean;
  shuffle?: boolean;
  span: Span;
  /** What fit() trains and validates on, and its callbacks (fitArgs.ts). */
  extras?: FitExtrasSpec;
}

/** A user-defined function or lambda, callable by the interpreter. */
export interface FunctionValue {
  name: string;
  params: Param[];
  /** The statements of a `def`, or the expression of a `lambda`. */
  body: Stmt[] | Expr;
  defaults: (Value | undefined)[];
  /** The scope the function was defined in (closures read it). */
  closure: unknown;
  /** The file the function is written in. */
  file: SourceFile;
  /** A generator (its body yields): calling it runs nothing. */
  generator: boolean;
  span: Span;
  /** The fields of the `__init__` that `@dataclass` wrote, for subclasses that are dataclasses too. */
  dataclassFields?: { name: string; value?: Value }[];
}

/** A class the file defines. */
export interface ClassValue {
  name: string;
  bases: Value[];
  /** Methods and class attributes, by name. */
  members: Map<string, Value>;
  file: SourceFile;
  span: Span;
  /** A class of a library ConvLens implements itself (argparse's parser). */
  native?: string;
}

/** An instance of a user class: its attributes, in assignment order. */
export interface ObjectValue {
  cls: ClassValue;
  attrs: Map<string, Value>;
}

/** The values the abstract interpreter computes. `unknown` stands for anything it cannot know. */
export type Value =
  | { k: 'num'; v: number; float: boolean }
  | { k: 'str'; v: string }
  | { k: 'bool'; v: boolean }
  | { k: 'none' }
  | { k: 'seq'; kind: 'tuple' | 'list' | 'set'; items: Value[] }
  | { k: 'module'; path: string }
  | { k: 'range'; start: number; stop: number; step: number }
  | { k: 'builtin'; name: string }
  | { k: 'method'; self: Value; name: string }
  | { k: 'layer'; layer: LayerInstance }
  | { k: 'model'; model: ModelBuild }
  | { k: 'func'; fn: FunctionValue; self?: Value }
  | { k: 'class'; cls: ClassValue }
  | { k: 'object'; obj: ObjectValue }
  | { k: 'super'; self: Value; after: ClassValue }
  | { k: 'dict'; entries: Map<string, { key: Value; value: Value }> }
  /**
   * A NumPy array or an eager tensor whose shape the file fixes (`np.zeros((1, 28, 28))`,
   * `torch.randn(1, 3, 32, 32)`); `framework` says whose methods it has (a torch tensor's `.size()`).
   */
  | { k: 'array'; shape: Dim[]; origin?: DataOrigin; framework?: FrameworkName }
  /** A symbolic tensor of the model graph (Keras' `KerasTensor`). */
  | { k: 'tensor'; t: SymTensor }
  | { k: 'optimizer'; spec: OptimizerSpec }
  /** A Keras callback or learning-rate schedule (fitArgs.ts reads them). */
  | { k: 'kerasObject'; className: string; args: CallArgs; span: Span }
  /** Anything ConvLens cannot know; `missing`: an attribute the object certainly does not have (`hasattr` is False). */
  | { k: 'unknown'; why?: string; missing?: boolean };

export const UNKNOWN: Value = { k: 'unknown' };
export const NONE: Value = { k: 'none' };

export const num = (v: number, float = false): Value => ({ k: 'num', v, float });
export const str = (v: string): Value => ({ k: 'str', v });
export const tuple = (items: Value[]): Value => ({ k: 'seq', kind: 'tuple', items });

/**
 * Renders a value as Python would print it, for messages: bounded in depth and length whatever
 * the value (a list doubled twenty times prints as `[…]`, not a megabyte).
 */
export function showValue(v: Value, depth = 0): string {
  const items = (xs: Value[], open: string, close: string, single = false): string => {
    if (depth >= 4) return `${open}…${close}`;
    const shown = xs.slice(0, 8).map((x) => showValue(x, depth + 1));
    if (xs.length > 8) shown.push(`… ${xs.length - 8} more`);
    return `${open}${shown.join(', ')}${single && xs.length === 1 ? ',' : ''}${close}`;
  };
  switch (v.k) {
    case 'num':
      return v.float && Number.isInteger(v.v) ? `${v.v}.0` : String(v.v);
    case 'str':
      return v.v.length > 60 ? `'${v.v.slice(0, 57)}…'` : `'${v.v}'`;
    case 'bool':
      return v.v ? 'True' : 'False';
    case 'none':
      return 'None';
    case 'seq':
      return v.kind === 'list' ? items(v.items, '[', ']') : v.kind === 'set' ? items(v.items, '{', '}') : items(v.items, '(', ')', true);
    case 'dict':
      return depth >= 4 ? '{…}' : `{${[...v.entries.values()].slice(0, 8).map((e) => `${showValue(e.key, depth + 1)}: ${showValue(e.value, depth + 1)}`).join(', ')}${v.entries.size > 8 ? ', …' : ''}}`;
    case 'module':
      return v.path;
    case 'range':
      return `range(${v.start}, ${v.stop}, ${v.step})`;
    case 'layer':
      return `${v.layer.className}(…)`;
    case 'model':
      return v.model.kerasName;
    case 'class':
      return `<class '${v.cls.name}'>`;
    case 'object':
      return `<${v.obj.cls.name} object>`;
    case 'func':
      return `<function ${v.fn.name}>`;
    case 'array':
      return `array of shape (${v.shape.map((d) => (d === null ? 'None' : d)).join(', ')})`;
    case 'tensor':
      return v.t.sample === null ? 'a tensor of unknown shape' : `a tensor of shape (${[v.t.batch, ...v.t.sample].map((d) => (d === null ? 'None' : d)).join(', ')})`;
    default:
      return '…';
  }
}
