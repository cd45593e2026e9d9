import type { Dim } from '../shape';
import type { Span, Stmt } from './pythonAst';

/** A layer object created by a call such as `layers.Conv2D(32, 3)`. */
export interface LayerInstance {
  /** Creation order in the file, unique per instance. */
  id: number;
  /** The Keras class name as resolved (`Conv2D`), after aliases. */
  className: string;
  /** Name Keras gives the layer: auto-numbered (`conv2d_1`) or the `name=` argument. */
  kerasName: string;
  args: CallArgs;
  /** The whole constructor call, `layers.Conv2D(32, 3)`. */
  span: Span;
  /** Just the callee, `layers.Conv2D`. */
  calleeSpan: Span;
  /** Why ConvLens cannot see what this layer is (something opaque was added). */
  opaque?: string;
}

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
  /** The parenthesised argument list, where an inserted keyword argument goes. */
  span: Span;
}

export interface AddedLayer {
  layer: LayerInstance;
  /** The statement or list item that put the layer into the model. */
  span: Span;
}

export interface OptimizerSpec {
  name: string;
  args: Map<string, Value>;
  span: Span;
}

/** What `compile()` said, for the trainer. */
export interface CompileSpec {
  optimizer?: OptimizerSpec;
  loss?: string;
  metrics: string[];
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
}

export type ModelKind = 'sequential' | 'functional' | 'subclassed';

/** A model as the file builds it: the Sequential call and the layers added to it, in order. */
export interface ModelBuild {
  id: number;
  kind: ModelKind;
  kerasName: string;
  /** The variable the model was first assigned to (`model`), when there is one. */
  varName?: string;
  span: Span;
  layers: AddedLayer[];
  /** Explicit input: `Input(shape=…)`, `InputLayer(…)` or `model.build(…)`. */
  input?: { shape: Dim[]; span: Span; batch?: number | null };
  compile?: CompileSpec;
  fit?: FitSpec;
  /** Layers were added under a condition ConvLens could not decide, or analysis stopped early. */
  incomplete?: string;
}

/** A user-defined function, callable by the interpreter. */
export interface FunctionValue {
  def: Extract<Stmt, { t: 'def' }>;
  defaults: (Value | undefined)[];
}

/** The values the abstract interpreter computes. `unknown` stands for anything it cannot know. */
export type Value =
  | { k: 'num'; v: number; float: boolean }
  | { k: 'str'; v: string }
  | { k: 'bool'; v: boolean }
  | { k: 'none' }
  | { k: 'seq'; kind: 'tuple' | 'list'; items: Value[] }
  | { k: 'module'; path: string }
  | { k: 'range'; start: number; stop: number; step: number }
  | { k: 'builtin'; name: string }
  | { k: 'method'; self: Value; name: string }
  | { k: 'layer'; layer: LayerInstance }
  | { k: 'model'; model: ModelBuild }
  | { k: 'func'; fn: FunctionValue }
  | { k: 'array'; shape: Dim[] }
  | { k: 'tensor'; shape?: Dim[] }
  | { k: 'optimizer'; spec: OptimizerSpec }
  | { k: 'unknown'; why?: string };

export const UNKNOWN: Value = { k: 'unknown' };
export const NONE: Value = { k: 'none' };

export const num = (v: number, float = false): Value => ({ k: 'num', v, float });
export const str = (v: string): Value => ({ k: 'str', v });
export const tuple = (items: Value[]): Value => ({ k: 'seq', kind: 'tuple', items });

/** Renders a value as Python would print it (for messages). */
export function showValue(v: Value): string {
  switch (v.k) {
    case 'num':
      return v.float && Number.isInteger(v.v) ? `${v.v}.0` : String(v.v);
    case 'str':
      return `'${v.v}'`;
    case 'bool':
      return v.v ? 'True' : 'False';
    case 'none':
      return 'None';
    case 'seq': {
      const inner = v.items.map(showValue).join(', ');
      return v.kind === 'list' ? `[${inner}]` : v.items.length === 1 ? `(${inner},)` : `(${inner})`;
    }
    case 'module':
      return v.path;
    case 'range':
      return `range(${v.start}, ${v.stop}, ${v.step})`;
    case 'layer':
      return `${v.layer.className}(…)`;
    case 'model':
      return v.model.kerasName;
    case 'array':
      return `array of shape (${v.shape.map((d) => (d === null ? 'None' : d)).join(', ')})`;
    default:
      return '…';
  }
}
