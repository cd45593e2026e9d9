/**
 * The seam between the interpreter and the frameworks whose code it reads. The interpreter
 * evaluates Python; what a framework's path (`torch.nn.Conv2d`), value (a layer, a model, a
 * tensor, a data loader) or class (`class Net(nn.Module)`) means is asked of the framework that
 * owns it. A framework is one object implementing {@link FrameworkSemantics}; adding one means
 * writing it and listing it in the interpreter's {@link Frameworks}.
 */
import type { FrameworkName } from '../layers/define';
import type { LayerInstance, ModelBuild } from '../model/graph';
import type { Scope } from './interpreter';
import type { Expr, Span } from './pythonAst';
import type { CallArgs, ClassValue, Value } from './values';
import { stdlibModule } from './stdlibModules';

type CallExpr = Extract<Expr, { t: 'call' }>;

/** A subscript item: an evaluated index, or a slice with its evaluated bounds. */
export type IndexItem = Value | { slice: true; lower?: Value; upper?: Value; step?: Value };

/** What a framework answers for the interpreter. */
export interface FrameworkSemantics {
  readonly name: FrameworkName;
  /** Whether a module path (`torch.nn.Conv2d`, `keras.layers.Dense`) is this framework's. */
  ownsPath(path: string): boolean;
  /** Whether a layer, model, tensor, array or library object was made by this framework. */
  ownsValue(v: Value): boolean;
  /** Whether calling the path makes layers or models (for notes on code ConvLens skips). */
  buildsModels(path: string): boolean;
  /**
   * Whether calling a layer or model value builds a model (a Keras layer called on a tensor adds
   * to a functional graph; calling a PyTorch module only runs it): skipping such a call deserves a note.
   */
  callBuildsModels(v: Value): boolean;
  /** What a bare name the file never imported may mean (notebook snippets). */
  lenientName(id: string): Value | undefined;
  importStar(path: string, scope: Scope): void;
  /**
   * ConvLens' own Python definition of a module the file imports and no file of its folder
   * provides (torchvision's `ops.misc`, imported by a copy of a torchvision model file).
   */
  bundledModule(name: string): { module: string; source: string } | undefined;
  /** A user class that builds a model when instantiated (`class Net(nn.Module)`). */
  isModelClass(cls: ClassValue): boolean;
  /** Instantiates a user class deriving from one of the framework's classes; undefined when it does not. */
  instantiate(cls: ClassValue, args: CallArgs, span: Span): Value | undefined;
  call(path: string, args: CallArgs, span: Span, e?: CallExpr): Value;
  callLayerOrModel(callee: Extract<Value, { k: 'layer' | 'model' }>, args: CallArgs, span: Span, e?: CallExpr): Value;
  attribute(obj: Value, name: string, span: Span): Value;
  method(self: Value, name: string, args: CallArgs, span: Span, e?: CallExpr): Value;
  setAttribute(target: Value, name: string, v: Value): void;
  /** `del obj.name` on one of the framework's objects; a framework without it ignores the statement. */
  deleteAttribute?(target: Value, name: string): void;
  /** `del obj[key]` on one of the framework's objects (a container's item). */
  deleteItem?(target: Value, key: Value): void;
  subscript(v: Value, index: IndexItem[], span: Span): Value;
  binary(op: string, l: Value, r: Value, span: Span): Value;
  /** `super().X` on an instance of a class deriving from the framework's classes. */
  superAttribute(self: Value, name: string, after: ClassValue): Value;
  userClassOf(v: Value): ClassValue | undefined;
  isInstance(v: Value, path: string): boolean | undefined;
  /** What a `for` loop over the value visits; undefined when unknown. */
  iterate(v: Value, span: Span): Iterable<Value> | undefined;
  len(v: Value): Value;
  /** The document binds a value to a name (a model's variable). */
  named(v: Value, name: string, global: boolean): void;
  /** Ends the analysis: models built with what is known. */
  finish(): void;
  /** The layers a model's summary lists, in the framework's order. */
  reportLayers(m: ModelBuild): LayerInstance[];
  /** The layers inside a composite layer (a nested model, a custom layer, a container module). */
  innerLayers(layer: LayerInstance): LayerInstance[];
}

/**
 * Routes each question to the framework that owns the path or value: the others are asked
 * first, the default framework (Keras, whose bare names notebook snippets use) answers the rest.
 */
export class Frameworks {
  private readonly all: readonly FrameworkSemantics[];

  constructor(
    private readonly fallback: FrameworkSemantics,
    private readonly others: readonly FrameworkSemantics[],
  ) {
    this.all = [...others, fallback];
  }

  forPath(path: string): FrameworkSemantics {
    for (const f of this.others) if (f.ownsPath(path)) return f;
    return this.fallback;
  }

  forValue(v: Value): FrameworkSemantics {
    for (const f of this.others) if (f.ownsValue(v)) return f;
    return this.fallback;
  }

  byName(name: FrameworkName | undefined): FrameworkSemantics {
    return this.all.find((f) => f.name === (name ?? 'keras')) ?? this.fallback;
  }

  buildsModels(path: string): boolean {
    return this.forPath(path).buildsModels(path);
  }

  callBuildsModels(v: Value): boolean {
    return this.forValue(v).callBuildsModels(v);
  }

  lenientName(id: string): Value | undefined {
    for (const f of [this.fallback, ...this.others]) {
      const v = f.lenientName(id);
      if (v) return v;
    }
    return undefined;
  }

  importStar(path: string, scope: Scope): void {
    this.forPath(path).importStar(path, scope);
  }

  bundledModule(name: string): { module: string; source: string } | undefined {
    const std = stdlibModule(name);
    if (std) return std;
    for (const f of this.all) {
      const found = f.bundledModule(name);
      if (found) return found;
    }
    return undefined;
  }

  isModelClass(cls: ClassValue): boolean {
    return this.all.some((f) => f.isModelClass(cls));
  }

  instantiate(cls: ClassValue, args: CallArgs, span: Span): Value | undefined {
    for (const f of this.all) {
      const v = f.instantiate(cls, args, span);
      if (v) return v;
    }
    return undefined;
  }

  call(path: string, args: CallArgs, span: Span, e?: CallExpr): Value {
    return this.forPath(path).call(path, args, span, e);
  }

  callLayerOrModel(callee: Extract<Value, { k: 'layer' | 'model' }>, args: CallArgs, span: Span, e?: CallExpr): Value {
    return this.forValue(callee).callLayerOrModel(callee, args, span, e);
  }

  attribute(obj: Value, name: string, span: Span): Value {
    return this.forValue(obj).attribute(obj, name, span);
  }

  method(self: Value, name: string, args: CallArgs, span: Span, e?: CallExpr): Value {
    return this.forValue(self).method(self, name, args, span, e);
  }

  setAttribute(target: Value, name: string, v: Value): void {
    this.forValue(target).setAttribute(target, name, v);
  }

  deleteAttribute(target: Value, name: string): void {
    this.forValue(target).deleteAttribute?.(target, name);
  }

  deleteItem(target: Value, key: Value): void {
    this.forValue(target).deleteItem?.(target, key);
  }

  subscript(v: Value, index: IndexItem[], span: Span): Value {
    return this.forValue(v).subscript(v, index, span);
  }

  /** Arithmetic goes to the framework owning either operand. */
  binary(op: string, l: Value, r: Value, span: Span): Value {
    for (const f of this.others) if (f.ownsValue(l) || f.ownsValue(r)) return f.binary(op, l, r, span);
    return this.fallback.binary(op, l, r, span);
  }

  superAttribute(self: Value, name: string, after: ClassValue): Value {
    return this.forValue(self).superAttribute(self, name, after);
  }

  userClassOf(v: Value): ClassValue | undefined {
    return this.forValue(v).userClassOf(v);
  }

  isInstance(v: Value, path: string): boolean | undefined {
    return this.forPath(path).isInstance(v, path);
  }

  iterate(v: Value, span: Span): Iterable<Value> | undefined {
    return this.forValue(v).iterate(v, span);
  }

  len(v: Value): Value {
    return this.forValue(v).len(v);
  }

  named(v: Value, name: string, global: boolean): void {
    this.forValue(v).named(v, name, global);
  }

  finish(): void {
    for (const f of this.all) f.finish();
  }

  reportLayers(m: ModelBuild): LayerInstance[] {
    return this.byName(m.framework).reportLayers(m);
  }

  innerLayers(layer: LayerInstance): LayerInstance[] {
    return this.byName(layer.framework).innerLayers(layer);
  }
}
