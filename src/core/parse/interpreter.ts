/**
 * An abstract interpreter for the Python that builds models: constants and arithmetic, imports
 * (sibling files too), loops, comprehensions, functions and closures, classes and instances are
 * evaluated; anything it cannot know becomes `unknown`, never a guess. Framework calls (Keras
 * layers, models, tensors) are handed to the framework's semantics, which build the model graph.
 *
 * It is bounded whatever the file does: evaluation steps, call depth, the size of every value
 * and the elements allocated in all, and loops that stop changing any model are cut short.
 */
import type { Problem } from '../diagnostics';
import type { GraphNode, LayerInstance, ModelBuild, SourceFile } from '../model/graph';
import { Tracer, type Problems } from '../model/trace';
import { LineIndex } from '../text';
import { Frameworks } from './framework';
import { KerasSemantics } from './keras';
import { TorchSemantics } from './torch';
import { normalizeModulePath } from './kerasSymbols';
import { libraryAttribute, libraryCall, libraryMethod } from './library';
import { followRows } from './dataOrigin';
import { mathCall } from './fitArgs';
import type { Arg, Expr, Module, Param, Span, Stmt } from './pythonAst';
import {
  NONE,
  UNKNOWN,
  num,
  showValue,
  str,
  tuple,
  type ArgValue,
  type CallArgs,
  type ClassValue,
  type FunctionValue,
  type ObjectValue,
  type Value,
} from './values';

/** Limits that keep analysis fast and finite whatever the file does. */
export interface InterpreterLimits {
  /** Evaluation steps (statements, calls, loop iterations) before analysis stops. */
  maxSteps: number;
  /** Nested user-function calls. */
  maxDepth: number;
  /** Items in one list, tuple or dict, and characters in one string. */
  maxItems: number;
  /** Items allocated in all lists, tuples and strings together. */
  maxAllocated: number;
  /** Layer calls (graph nodes) in all models together. */
  maxNodes: number;
}

export const DEFAULT_LIMITS: InterpreterLimits = { maxSteps: 200_000, maxDepth: 32, maxItems: 100_000, maxAllocated: 4_000_000, maxNodes: 20_000 };

/**
 * Reads the text of another module of the same folder or workspace (`my_blocks`, `.parts`), if there is one.
 * Names are relative to the analysed file's folder: n leading dots go n - 1 folders up (`..resnet` is
 * the parent folder's `resnet.py`). `package`: the text is a package's `__init__.py`, whose own relative
 * imports start from its folder. `name`: the file's own name in that notation when the one asked for
 * differs (an absolute `torchvision.models.resnet` found as `..resnet`), so that one file is one module.
 */
export type ModuleLoader = (name: string) => { text: string; label: string; package?: boolean; name?: string } | undefined;

/** What the interpreter needs from its host: a parser for other files' text. */
export interface InterpreterHost {
  parse(text: string): Module;
  loadModule?: ModuleLoader;
}

export class Scope {
  readonly vars = new Map<string, Value>();
  /** Names a `global` statement sends to the module scope. */
  globalNames?: Set<string>;
  constructor(
    readonly parent?: Scope,
    readonly module?: Scope,
  ) {}
  get(name: string): Value | undefined {
    let s: Scope | undefined = this;
    while (s) {
      const v = s.vars.get(name);
      if (v !== undefined) return v;
      s = s.parent;
    }
    return undefined;
  }
  set(name: string, v: Value): void {
    if (this.globalNames?.has(name) && this.module) this.module.vars.set(name, v);
    else this.vars.set(name, v);
  }
}

class ReturnSignal {
  constructor(readonly value: Value) {}
}
class BreakSignal {}
class ContinueSignal {}
class RaiseSignal {
  constructor(
    readonly message: string | undefined,
    readonly span: Span,
  ) {}
}
class BudgetExceeded {
  constructor(
    readonly span: Span,
    readonly why: string,
  ) {}
}

/** Where the code being run comes from, and where its problems are shown. */
interface FileFrame {
  file: SourceFile;
  out: Problems;
  /** The call in the analysed document that entered this file (undefined for the document itself). */
  entry?: Span;
}

const BUILTINS = new Set([
  'range', 'len', 'int', 'float', 'min', 'max', 'abs', 'round', 'enumerate', 'zip', 'list', 'tuple', 'print', 'str',
  'sum', 'pow', 'bool', 'reversed', 'sorted', 'isinstance', 'dict', 'set', 'super', 'getattr', 'hasattr', 'setattr',
  'chr', 'ord', 'any', 'all', 'map', 'filter', 'divmod', 'type', 'callable', 'iter', 'next', 'repr', 'format', 'object',
  'hash', 'id', 'open', 'input', 'vars', 'frozenset',
]);

const DOCUMENT: SourceFile = { module: '', text: '' };

/** Problems of another file, shown at the call in the document that ran it. */
class RetargetProblems implements Problems {
  private lines?: LineIndex;
  constructor(
    private readonly target: Problems,
    private readonly entry: Span,
    private readonly label: string,
    private readonly text: string,
  ) {}
  report(p: Problem): void {
    this.lines ??= new LineIndex(this.text);
    const where = `${this.label} line ${this.lines.position(p.span.start).line + 1}`;
    this.target.report({ ...p, span: this.entry, message: `In ${where}: ${p.message}`, fixes: undefined });
  }
}

export class Interpreter {
  readonly models: ModelBuild[] = [];
  /** Every namespace `parser.parse_args()` returned (its attributes are the defaults), in order. */
  readonly parsedArguments: ObjectValue[] = [];
  /** Keras datasets the file loads (`mnist` for `mnist.load_data()`), in order. */
  readonly datasets: string[] = [];
  readonly tracer: Tracer;
  readonly keras: KerasSemantics;
  readonly torch: TorchSemantics;
  /** Asks the framework that owns a path or value what it means (Keras by default, PyTorch for `torch` code). */
  readonly fw: Frameworks;
  /** Every layer object made, in order. */
  readonly layers: LayerInstance[] = [];
  /** Bumped whenever a model, layer or graph changes: loops that stop changing it are cut short. */
  effects = 0;
  private steps = 0;
  private depth = 0;
  private allocated = 0;
  private stepLimit: number;
  private readonly frames: FileFrame[];
  private readonly modules = new Map<string, Scope | 'loading'>();
  /** Loaded modules that are packages (`__init__.py`): their relative imports start from their own folder. */
  private readonly packages = new Set<string>();
  private readonly called = new Set<FunctionValue | ClassValue>();
  private readonly globallyNamed = new WeakSet<ModelBuild>();
  private readonly topLevel: (FunctionValue | ClassValue)[] = [];
  readonly documentText: string;

  constructor(
    private readonly sink: Problems,
    text: string,
    private readonly host: InterpreterHost,
    readonly limits: InterpreterLimits = DEFAULT_LIMITS,
  ) {
    this.documentText = text;
    this.tracer = new Tracer(text);
    this.keras = new KerasSemantics(this);
    this.torch = new TorchSemantics(this);
    this.fw = new Frameworks(this.keras, [this.torch]);
    this.stepLimit = limits.maxSteps;
    this.frames = [{ file: { module: '', text }, out: sink }];
  }

  /** Where problems of the code running now go. */
  get out(): Problems {
    return this.frames[this.frames.length - 1].out;
  }

  /** True while running code of another file (its spans are not the document's). */
  get foreign(): boolean {
    return this.frames[this.frames.length - 1].entry !== undefined;
  }

  /** A span of the code running now, as a span of the document (the entering call, for other files). */
  here(span: Span): Span {
    const f = this.frames[this.frames.length - 1];
    return f.entry ?? span;
  }

  warn(code: string, span: Span, message: string): void {
    this.out.report({ severity: 'warning', code, span, message });
  }

  info(code: string, span: Span, message: string): void {
    this.out.report({ severity: 'information', code, span, message });
  }

  /** Runs the document, then the model builders it defines but never calls. */
  run(module: Module): ModelBuild[] {
    const globals = this.moduleScope('__main__');
    this.guard(() => this.execBlock(module.body, globals, true));
    this.buildUncalled(globals);
    return this.models;
  }

  private moduleScope(name: string): Scope {
    const s = new Scope();
    s.vars.set('__name__', str(name));
    return s;
  }

  /**
   * Runs `f`, turning the budget and unexpected ends into problems instead of throws. The
   * front-ends' finish() runs each model's last steps under it too (a subclassed model's call(),
   * a module's forward()): user code, run after run() returned.
   */
  guard(f: () => void): void {
    try {
      f();
    } catch (e) {
      if (e instanceof BudgetExceeded) {
        this.sink.report({
          severity: 'warning',
          code: 'analysis-budget',
          span: e.span,
          message: `ConvLens stopped evaluating here: ${e.why}; models after this point may be incomplete`,
        });
        for (const m of this.models) m.incomplete ??= 'analysis stopped early';
        this.frames.length = 1;
      } else if (e instanceof RaiseSignal) {
        // An exception the code raises on purpose ends the run, as it would in Python.
      } else if (!(e instanceof ReturnSignal || e instanceof BreakSignal || e instanceof ContinueSignal)) {
        throw e;
      }
    }
  }

  /**
   * Model builders the file defines but never calls (`def build_model(input_shape=(28, 28, 1))`,
   * `class Net(keras.Model)`): called with their defaults, each with its own step budget, so a
   * library of builders is analysed as its author would call it.
   */
  private buildUncalled(globals: Scope): void {
    for (const f of this.topLevel) {
      if (this.called.has(f)) continue;
      if ('members' in f) {
        if (!this.fw.isModelClass(f)) continue;
        const init = f.members.get('__init__');
        if (init?.k === 'func' && !allDefaulted(init.fn.params.slice(1))) continue;
      } else if (f.generator || !allDefaulted(f.params)) continue;
      const before = this.models.length;
      this.steps = 0;
      this.stepLimit = Math.min(this.limits.maxSteps, 100_000);
      // What a speculative call reports counts only if it builds a model.
      const held: Problem[] = [];
      this.frames[0] = { ...this.frames[0], out: { report: (p) => held.push(p) } };
      const value: Value = 'members' in f ? { k: 'class', cls: f } : { k: 'func', fn: f };
      try {
        this.guard(() => this.callValue(value, { positional: [], keyword: new Map(), span: f.span }, f.span, globals));
      } finally {
        this.frames[0] = { ...this.frames[0], out: this.sink };
      }
      const made = this.models.slice(before);
      for (const m of made) m.speculative ??= `${f.name}()`;
      if (made.length) for (const p of held) this.sink.report(p);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Budgets

  tick(span: Span): void {
    // At the document's call if this runs in another file: the frames are gone when guard() catches it.
    if (++this.steps > this.stepLimit) throw new BudgetExceeded(this.here(span), `after ${this.stepLimit.toLocaleString('en-US')} steps (a very long loop or deep recursion?)`);
    if (this.tracer.nodes.length > this.limits.maxNodes) throw new BudgetExceeded(this.here(span), `the file makes more than ${this.limits.maxNodes.toLocaleString('en-US')} layer calls`);
  }

  /** Accounts for a new list/tuple/string of `n` items; undefined when it is too large to keep. */
  allocate(n: number, span: Span): boolean {
    if (n > this.limits.maxItems) return false;
    this.allocated += n;
    if (this.allocated > this.limits.maxAllocated) throw new BudgetExceeded(this.here(span), `the file builds more than ${this.limits.maxAllocated.toLocaleString('en-US')} list items in all`);
    return true;
  }

  seq(kind: 'tuple' | 'list' | 'set', items: Value[], span: Span): Value {
    if (!this.allocate(items.length, span)) return { k: 'unknown', why: `a ${kind} of more than ${this.limits.maxItems.toLocaleString('en-US')} items` };
    return { k: 'seq', kind, items };
  }

  // ------------------------------------------------------------------------------------------
  // Statements

  execBlock(body: Stmt[], scope: Scope, topLevel = false): void {
    for (const s of body) this.exec(s, scope, topLevel);
  }

  private exec(s: Stmt, scope: Scope, topLevel = false): void {
    this.tick(s.span);
    switch (s.t) {
      case 'expr':
        this.eval(s.expr, scope);
        return;
      case 'assign': {
        const v = this.eval(s.value, scope);
        for (const target of s.targets) this.assign(target, v, scope);
        return;
      }
      case 'augassign': {
        const cur = this.eval(s.target, scope);
        const v = this.binary(s.op, cur, this.eval(s.value, scope), s.span, true);
        this.assign(s.target, v, scope);
        return;
      }
      case 'import':
        for (const { module, alias } of s.names) {
          if (alias) scope.set(alias, this.importModule(module, s.span));
          else {
            // `import tensorflow.keras` binds `tensorflow`.
            const top = module.split('.')[0];
            scope.set(top, this.importModule(top, s.span));
          }
        }
        return;
      case 'from':
        this.importFrom(s, scope);
        return;
      case 'def': {
        const fn = this.makeFunction(s.name, s.params, s.body, scope, s.span, s.generator);
        const v: Value = { k: 'func', fn };
        scope.set(s.name, v);
        if (topLevel && !this.foreign) this.topLevel.push(fn);
        return;
      }
      case 'class': {
        const cls = this.makeClass(s, scope);
        scope.set(s.name, { k: 'class', cls });
        if (topLevel && !this.foreign) this.topLevel.push(cls);
        return;
      }
      case 'if':
        for (const branch of s.branches) {
          if (!branch.test) {
            this.execBlock(branch.body, scope);
            return;
          }
          const test = this.eval(branch.test, scope);
          const t = truthy(test);
          if (t === undefined) {
            if (this.containsModelWork(branch.body, scope)) {
              const why = test.k === 'unknown' && test.why ? ` (it depends on ${test.why})` : '';
              this.info('undecided-condition', this.here(branch.test.span), `ConvLens cannot decide this condition without running the code${why}, so the layers added under it are not counted`);
              for (const m of this.models) m.incomplete ??= 'a condition could not be decided';
            }
            return;
          }
          if (t) {
            this.execBlock(branch.body, scope);
            return;
          }
        }
        return;
      case 'for':
        this.execFor(s, scope);
        return;
      case 'while':
        this.execWhile(s, scope);
        return;
      case 'return':
        throw new ReturnSignal(s.value ? this.eval(s.value, scope) : NONE);
      case 'block':
        this.execBlock(s.body, scope);
        return;
      case 'raise': {
        let message: string | undefined;
        if (s.exc?.t === 'call') {
          const first = s.exc.args[0];
          const v = first ? this.eval(first.value, scope) : undefined;
          message = v?.k === 'str' ? v.v : undefined;
        }
        throw new RaiseSignal(message, s.span);
      }
      case 'global':
        scope.globalNames ??= new Set();
        for (const n of s.names) scope.globalNames.add(n);
        return;
      case 'match':
        if (s.arms.some((arm) => this.containsModelWork(arm, scope))) {
          this.info('not-followed', this.here(s.span), 'ConvLens does not follow `match` statements, so the layers added in its cases are not counted');
          for (const m of this.models) m.incomplete ??= 'layers were added in a match statement';
        }
        return;
      case 'del':
        for (const target of s.targets) this.delete(target, scope);
        return;
      case 'break':
        throw new BreakSignal();
      case 'continue':
        throw new ContinueSignal();
      case 'pass':
        return;
    }
  }

  private execFor(s: Extract<Stmt, { t: 'for' }>, scope: Scope): void {
    const over = this.eval(s.iter, scope);
    const iter = this.iterate(over, s.iter.span);
    if (iter === undefined) {
      if (this.containsModelWork(s.body, scope)) {
        const why = over.k === 'unknown' && over.why ? ` (it loops over ${over.why})` : '';
        this.info('undecided-loop', this.here(s.iter.span), `ConvLens cannot tell how often this loop runs${why}, so the layers added in it are not counted`);
        for (const m of this.models) m.incomplete ??= 'a loop could not be evaluated';
      }
      return;
    }
    let broke = false;
    let quiet = 0;
    for (const item of iter) {
      this.tick(s.span);
      this.assign(s.target, item, scope);
      const before = this.effects;
      try {
        this.execBlock(s.body, scope);
      } catch (e) {
        if (e instanceof BreakSignal) {
          broke = true;
          break;
        }
        if (!(e instanceof ContinueSignal)) throw e;
      }
      quiet = this.effects === before ? quiet + 1 : 0;
      if (quiet >= 64) {
        // A training or data loop: it no longer changes any model. What it computes is unknown.
        this.forgetAssigned([s.target, ...assignedIn(s.body)], scope);
        return;
      }
    }
    if (!broke) this.execBlock(s.orelse, scope);
  }

  private execWhile(s: Extract<Stmt, { t: 'while' }>, scope: Scope): void {
    let quiet = 0;
    for (;;) {
      this.tick(s.span);
      const t = truthy(this.eval(s.test, scope));
      if (t === undefined) {
        if (this.containsModelWork(s.body, scope)) {
          this.info('undecided-loop', this.here(s.test.span), 'ConvLens cannot tell how often this loop runs, so the layers added in it are not counted');
          for (const m of this.models) m.incomplete ??= 'a loop could not be evaluated';
        }
        return;
      }
      if (!t) return;
      const before = this.effects;
      try {
        this.execBlock(s.body, scope);
      } catch (e) {
        if (e instanceof BreakSignal) return;
        if (!(e instanceof ContinueSignal)) throw e;
      }
      quiet = this.effects === before ? quiet + 1 : 0;
      if (quiet >= 64) {
        this.forgetAssigned(assignedIn(s.body), scope);
        return;
      }
    }
  }

  private forgetAssigned(targets: Expr[], scope: Scope): void {
    for (const t of targets) {
      if (t.t === 'name') scope.set(t.id, { k: 'unknown', why: `'${t.id}' changes in a loop ConvLens did not run to its end` });
      else if (t.t === 'tuple' || t.t === 'list') this.forgetAssigned(t.items, scope);
    }
  }

  /**
   * Whether a block skipped without running could have built layers, so skipping it deserves a
   * note: a call in it resolves (without running anything) to a layer, a model, `.add(…)`, or a
   * function of the file that does so.
   */
  private containsModelWork(body: Stmt[], scope?: Scope, depth = 0, seen = new Set<FunctionValue>()): boolean {
    const calls: Extract<Expr, { t: 'call' }>[] = [];
    const exprs: Expr[] = [];
    const stmts = [...body];
    while (stmts.length) {
      const st = stmts.pop()!;
      switch (st.t) {
        case 'expr':
          exprs.push(st.expr);
          break;
        case 'assign':
        case 'augassign':
          exprs.push(st.value);
          break;
        case 'return':
          if (st.value) exprs.push(st.value);
          break;
        case 'if':
          for (const b of st.branches) {
            if (b.test) exprs.push(b.test);
            pushAll(stmts, b.body);
          }
          break;
        case 'for':
          exprs.push(st.iter);
          pushAll(stmts, st.body);
          pushAll(stmts, st.orelse);
          break;
        case 'while':
          pushAll(stmts, st.body);
          break;
        case 'block':
          pushAll(stmts, st.body);
          break;
        case 'match':
          for (const arm of st.arms) pushAll(stmts, arm);
          break;
        default:
          break;
      }
    }
    while (exprs.length) {
      const e = exprs.pop()!;
      switch (e.t) {
        case 'call':
          calls.push(e);
          exprs.push(e.fn, ...e.args.map((a) => a.value));
          break;
        case 'attr':
          exprs.push(e.obj);
          break;
        case 'bin':
          exprs.push(e.left, e.right);
          break;
        case 'tuple':
        case 'list':
        case 'set':
          pushAll(exprs, e.items);
          break;
        case 'comp':
          exprs.push(e.elt, ...e.clauses.map((c) => (c.t === 'for' ? c.iter : c.test)));
          break;
        case 'subscript':
          exprs.push(e.value);
          break;
        case 'cond':
          exprs.push(e.body, e.orelse);
          break;
        default:
          break;
      }
    }
    for (const c of calls) {
      if (c.fn.t === 'attr' && c.fn.name === 'add') return true;
      const callee = scope ? this.resolveStatic(c.fn, scope) : undefined;
      if (!callee) continue;
      if ((callee.k === 'layer' || callee.k === 'model') && this.fw.callBuildsModels(callee)) return true;
      if (callee.k === 'module' && this.fw.buildsModels(callee.path)) return true;
      if (callee.k === 'class' && this.frameworkBases(callee.cls).length > 0) return true;
      if (callee.k === 'func' && Array.isArray(callee.fn.body) && depth < 3 && !seen.has(callee.fn)) {
        seen.add(callee.fn);
        if (this.containsModelWork(callee.fn.body, callee.fn.closure as Scope, depth + 1, seen)) return true;
      }
    }
    return false;
  }

  /** What an expression names, found without running anything (names, attributes of modules and classes). */
  private resolveStatic(e: Expr, scope: Scope): Value | undefined {
    if (e.t === 'name') return scope.get(e.id) ?? this.fw.lenientName(e.id);
    if (e.t !== 'attr') return undefined;
    const obj = this.resolveStatic(e.obj, scope);
    if (!obj) return undefined;
    if (obj.k === 'module') return { k: 'module', path: normalizeModulePath(`${obj.path}.${e.name}`) };
    if (obj.k === 'object') return obj.obj.attrs.get(e.name) ?? this.classMember(obj.obj.cls, e.name);
    if (obj.k === 'class') return this.classMember(obj.cls, e.name);
    return undefined;
  }

  assign(target: Expr, v: Value, scope: Scope): void {
    switch (target.t) {
      case 'name':
        scope.set(target.id, v);
        if (v.k === 'model' && !this.foreign) {
          // The document's own variable for it: a module-level name wins over a builder's local one.
          const global = !scope.parent;
          if (v.model.varName === undefined || (global && !this.globallyNamed.has(v.model))) v.model.varName = target.id;
          if (global) this.globallyNamed.add(v.model);
        } else if (!this.foreign) this.fw.named(v, target.id, !scope.parent);
        return;
      case 'tuple':
      case 'list': {
        const star = target.items.findIndex((t) => t.t === 'starred');
        const items = this.iterate(v, target.span);
        const list = items ? [...items] : undefined;
        if (star >= 0 && list && list.length >= target.items.length - 1) {
          const after = target.items.length - star - 1;
          target.items.forEach((t, i) => {
            if (i < star) this.assign(t, list[i], scope);
            else if (i === star) this.assign((t as Extract<Expr, { t: 'starred' }>).value, this.seq('list', list.slice(star, list.length - after), t.span), scope);
            else this.assign(t, list[list.length - (target.items.length - i)], scope);
          });
          return;
        }
        const ok = list && list.length === target.items.length;
        target.items.forEach((t, i) => this.assign(t.t === 'starred' ? t.value : t, ok ? list[i] : { k: 'unknown', why: 'an unpacking ConvLens could not follow' }, scope));
        return;
      }
      case 'attr':
        this.setAttribute(this.eval(target.obj, scope), target.name, v);
        return;
      case 'subscript': {
        const obj = this.eval(target.value, scope);
        if (target.index.length !== 1) return;
        const key = this.eval(target.index[0], scope);
        if (obj.k === 'dict') {
          const k = dictKey(key);
          if (k !== undefined) obj.entries.set(k, { key, value: v });
        } else if (obj.k === 'seq' && obj.kind === 'list' && key.k === 'num' && Number.isInteger(key.v)) {
          const i = key.v < 0 ? obj.items.length + key.v : key.v;
          if (i >= 0 && i < obj.items.length) obj.items[i] = v;
        } else if (obj.k === 'layer') {
          // A module container's item (`model.classifier[6] = nn.Linear(4096, 2)`).
          this.fw.method(obj, '__setitem__', { positional: [{ value: key, span: target.index[0].span }, { value: v, span: target.span }], keyword: new Map(), span: target.span }, target.span);
        }
        return;
      }
      default:
        return;
    }
  }

  /**
   * `del name`, `del d[key]`, `del xs[i]`, `del xs[a:b]`, `del obj.attr`. A target ConvLens cannot
   * resolve leaves its container as it was, as an assignment to an unknown key does.
   */
  private delete(target: Expr, scope: Scope): void {
    switch (target.t) {
      case 'name':
        // Only the innermost scope's binding goes; a later read falls back as Python's NameError would not, but never invents a value.
        if (scope.vars.has(target.id)) scope.vars.set(target.id, { k: 'unknown', why: `'${target.id}' was deleted` });
        return;
      case 'tuple':
      case 'list':
        for (const t of target.items) this.delete(t, scope);
        return;
      case 'attr': {
        const obj = this.eval(target.obj, scope);
        if (obj.k === 'object') obj.obj.attrs.delete(target.name);
        else if (obj.k === 'model' || obj.k === 'layer') this.fw.deleteAttribute(obj, target.name);
        return;
      }
      case 'subscript': {
        const obj = this.eval(target.value, scope);
        if (target.index.length !== 1) return;
        const index = target.index[0];
        if (obj.k === 'seq' && obj.kind === 'list' && index.t === 'slice') {
          const part = (e: Expr | undefined): number | undefined | null => {
            if (!e) return undefined;
            const v = this.eval(e, scope);
            return v.k === 'num' && Number.isInteger(v.v) ? v.v : v.k === 'none' ? undefined : null;
          };
          const lo = part(index.lower);
          const hi = part(index.upper);
          const step = part(index.step) ?? 1;
          if (lo === null || hi === null || step === null || step === 0) return;
          const drop = new Set(sliceIndices(obj.items.length, lo, hi, step));
          const kept = obj.items.filter((_, i) => !drop.has(i));
          obj.items.length = 0;
          pushAll(obj.items, kept);
          return;
        }
        const key = this.eval(index, scope);
        if (obj.k === 'dict') {
          const k = dictKey(key);
          if (k !== undefined) obj.entries.delete(k);
        } else if (obj.k === 'seq' && obj.kind === 'list' && key.k === 'num' && Number.isInteger(key.v)) {
          const i = key.v < 0 ? obj.items.length + key.v : key.v;
          if (i >= 0 && i < obj.items.length) obj.items.splice(i, 1);
        } else if (obj.k === 'model' || obj.k === 'layer') this.fw.deleteItem(obj, key);
        return;
      }
      default:
        return;
    }
  }

  private setAttribute(obj: Value, name: string, v: Value): void {
    if (obj.k === 'object') {
      obj.obj.attrs.set(name, v);
      return;
    }
    if (obj.k === 'model' || obj.k === 'layer' || obj.k === 'array') {
      this.fw.setAttribute(obj, name, v);
      return;
    }
  }

  /** The items a `for` loop visits, lazily; undefined when they cannot be known. */
  iterate(v: Value, span: Span): Iterable<Value> | undefined {
    if (v.k === 'seq') return v.items;
    if (v.k === 'str') return [...v.v].map(str);
    if (v.k === 'dict') return [...v.entries.values()].map((e) => e.key);
    if (v.k === 'model' || v.k === 'layer' || (v.k === 'object' && v.obj.cls.native)) return this.fw.iterate(v, span);
    if (v.k === 'range') {
      const { start: a, stop: b, step: c } = v;
      const self = this;
      return {
        *[Symbol.iterator]() {
          for (let i = a; c > 0 ? i < b : i > b; i += c) {
            self.tick(span);
            yield num(i);
          }
        },
      };
    }
    return undefined;
  }

  // ------------------------------------------------------------------------------------------
  // Imports

  /**
   * A relative module name (`..resnet`, `._utils`) as the loader reads it, from the analysed file's
   * folder: resolved against the package of the file whose code is running, as Python resolves it
   * (torchvision's `segmentation/deeplabv3.py` imports `..mobilenetv3`, which imports `._utils`:
   * that is `models/_utils.py`, not `segmentation/_utils.py`). Absolute names are unchanged.
   */
  private resolveModule(name: string): string {
    const dots = /^\.*/.exec(name)![0].length;
    if (dots === 0) return name;
    const from = this.frames[this.frames.length - 1].file.module;
    // The importing file's package: `up` folders above the analysed file's, then `down` into it.
    // A file's module name is in the loader's notation (`..resnet`), or absolute for one found
    // under the analysed file's folder by an absolute name (`my_blocks`), or the document's ('').
    const fromDots = /^\.*/.exec(from)![0].length;
    let up = Math.max(fromDots - 1, 0);
    const down = from.slice(fromDots).split('.').filter(Boolean);
    if (!this.packages.has(from)) down.pop();
    for (let i = 1; i < dots; i++) {
      if (down.length) down.pop();
      else up++;
    }
    return '.'.repeat(up + 1) + [...down, ...name.slice(dots).split('.').filter(Boolean)].join('.');
  }

  private importModule(module: string, span: Span): Value {
    const sibling = this.loadSibling(module, span);
    if (sibling) return sibling;
    return { k: 'module', path: normalizeModulePath(module) };
  }

  private importFrom(s: Extract<Stmt, { t: 'from' }>, scope: Scope): void {
    const base = s.module.replace(/^\.+/, '');
    const module = this.resolveModule(s.module);
    const sibling = this.loadSibling(module, s.span);
    if (sibling?.k === 'object') {
      const attrs = sibling.obj.attrs;
      if (s.names === '*') {
        for (const [k, v] of attrs) if (!k.startsWith('_')) scope.set(k, v);
      } else {
        for (const { name, alias } of s.names) scope.set(alias ?? name, attrs.get(name) ?? { k: 'unknown', why: `'${name}' is not defined in ${s.module}` });
      }
      return;
    }
    if (s.names === '*') {
      this.fw.importStar(normalizeModulePath(base), scope);
      return;
    }
    for (const { name, alias } of s.names) {
      // `from . import resnet` names `.resnet`, `from .models import resnet` `.models.resnet`.
      const sub = this.loadSibling(module.endsWith('.') ? `${module}${name}` : `${module}.${name}`, s.span);
      scope.set(alias ?? name, sub ?? { k: 'module', path: normalizeModulePath(`${base}.${name}`) });
    }
  }

  /**
   * Another file of the folder imported by name (`from my_blocks import conv_block`): run once,
   * its top-level names become a module object. Undefined when the host has no such file.
   */
  private loadSibling(module: string, span: Span): Value | undefined {
    const load = this.host.loadModule;
    // Libraries are ConvLens' own knowledge, never a file; but a copy of one of torchvision's own
    // modules beside the file (a copy of torchvision's sources) is the module it imports.
    const library = /^(keras|tensorflow|tf_keras|torch|torchvision|numpy|math|os|sys|argparse|copy|random|json|time|pathlib|typing|collections|functools|itertools)(\.|$)/.test(module) && !/^torchvision\./.test(module);
    const cached = this.modules.get(module);
    if (cached === 'loading') return { k: 'unknown', why: `${module} imports itself` };
    if (cached) return moduleObject(cached, span);
    const found = load && !library ? load(module) : undefined;
    if (found) {
      // One file is one module, however it is named (`torchvision.models.resnet` and `..resnet`).
      const key = found.name ?? module;
      const known = this.modules.get(key);
      if (known === 'loading') return { k: 'unknown', why: `${module} imports itself` };
      if (found.package) this.packages.add(key);
      const scope = known ?? this.runModule(key, found.text, found.label, span);
      this.modules.set(module, scope);
      return moduleObject(scope, span);
    }
    // A module no file of the folder provides that ConvLens defines itself (torchvision's ops).
    const bundled = this.fw.bundledModule(module);
    if (bundled) return moduleObject(this.bundledModule(bundled.module, bundled.source, span), span);
    return undefined;
  }

  /** The top-level names of a module of ConvLens' own (a bundled keras.applications definition), run once. */
  bundledModule(module: string, text: string, span: Span): Scope {
    const cached = this.modules.get(module);
    if (cached && cached !== 'loading') return cached;
    // Its text never changes: parse it once per process, not once per analysis (keystroke).
    let parsed = bundledParses.get(text);
    if (!parsed) bundledParses.set(text, (parsed = this.host.parse(text)));
    return this.runModule(module, text, `ConvLens' definition of ${module}`, span, parsed, true);
  }

  private runModule(module: string, text: string, label: string, span: Span, parsed = this.host.parse(text), bundled = false): Scope {
    this.modules.set(module, 'loading');
    const scope = this.moduleScope(module);
    const file: SourceFile = { module, text };
    if (bundled) bundledFiles.add(file);
    this.labels.set(file, label);
    try {
      this.inFile(file, span, () => {
        try {
          this.execBlock(parsed.body, scope, true);
        } catch (e) {
          if (!(e instanceof RaiseSignal)) throw e;
        }
      });
    } finally {
      this.modules.set(module, scope);
    }
    return scope;
  }

  private readonly labels = new WeakMap<SourceFile, string>();

  /**
   * Runs code written in another file (a sibling module, a bundled definition) as part of the
   * call at `span` in the document: its layers and problems are shown at that call. Code of the
   * document called back from there is the document's again.
   */
  inFile<T>(file: SourceFile, span: Span, f: () => T): T {
    const top = this.frames[this.frames.length - 1];
    if (top.file === file || (file.module === '' && top.file.module === '')) return f();
    if (file.module === '') this.frames.push({ file: this.frames[0].file, out: this.frames[0].out });
    else {
      const entry = this.here(span);
      const label = this.labels.get(file) ?? `${file.module}.py`;
      this.frames.push({ file, out: new RetargetProblems(this.frames[0].out, entry, label, file.text), entry });
    }
    try {
      return f();
    } finally {
      this.frames.pop();
    }
  }

  // ------------------------------------------------------------------------------------------
  // Functions and classes

  makeFunction(name: string, params: Param[], body: Stmt[] | Expr, scope: Scope, span: Span, generator = false): FunctionValue {
    const defaults = params.map((p) => (p.default ? this.eval(p.default, scope) : undefined));
    return { name, params, body, defaults, closure: scope, file: this.frames[this.frames.length - 1].file, generator, span };
  }

  private makeClass(s: Extract<Stmt, { t: 'class' }>, scope: Scope): ClassValue {
    const bases = s.bases.map((b) => this.eval(b, scope));
    const cls: ClassValue = { name: s.name, bases, members: new Map(), file: this.frames[this.frames.length - 1].file, span: s.span };
    const body = new Scope(scope, scope.module ?? scope);
    for (const st of s.body) {
      this.tick(st.span);
      if (st.t === 'def') {
        // Methods see the enclosing scope, not the class body (Python's rule).
        const fn = this.makeFunction(st.name, st.params, st.body, scope, st.span, st.generator);
        const decorated = (name: string) => st.decorators.some((d) => d.t === 'name' && d.id === name);
        // The marker in `self` says how the member binds: none (static), the class (classmethod), a property.
        const marker: Value | undefined = decorated('staticmethod') ? NONE : decorated('classmethod') ? str('classmethod') : decorated('property') ? str('property') : undefined;
        cls.members.set(st.name, { k: 'func', fn, self: marker });
        body.vars.set(st.name, { k: 'func', fn });
      } else {
        try {
          this.exec(st, body);
        } catch (e) {
          if (!(e instanceof RaiseSignal)) throw e;
        }
      }
    }
    for (const [k, v] of body.vars) if (!cls.members.has(k)) cls.members.set(k, v);
    if (s.decorators.some(isDataclassDecorator) && !cls.members.has('__init__')) cls.members.set('__init__', { k: 'func', fn: this.dataclassInit(s, cls, body, scope) });
    return cls;
  }

  /**
   * The `__init__` that `@dataclass` writes: one parameter per annotated field of the class body,
   * in order (fields of dataclass bases first, as Python orders them), each stored on `self`;
   * a field's default is its value in the class body.
   */
  private dataclassInit(s: Extract<Stmt, { t: 'class' }>, cls: ClassValue, body: Scope, scope: Scope): FunctionValue {
    const inherited: { name: string; value?: Value }[] = [];
    for (const base of cls.bases) {
      const init = base.k === 'class' ? this.classMember(base.cls, '__init__') : undefined;
      if (init?.k === 'func' && init.fn.name === '__init__' && init.fn.dataclassFields) inherited.push(...init.fn.dataclassFields);
    }
    const own: { name: string; value?: Value }[] = [];
    for (const st of s.body) {
      if (st.t !== 'assign' || !st.annotated || st.targets.length !== 1 || st.targets[0].t !== 'name') continue;
      const annotationOnly = st.value.t === 'unknown' && st.value.kind === 'annotation';
      own.push({ name: st.targets[0].id, value: annotationOnly ? undefined : body.vars.get(st.targets[0].id) });
    }
    const fields = [...inherited.filter((f) => !own.some((o) => o.name === f.name)), ...own];
    const at = s.span;
    const params: Param[] = [{ name: 'self', span: at }, ...fields.map((f) => ({ name: f.name, span: at }))];
    const assign = (name: string): Stmt => ({
      t: 'assign',
      targets: [{ t: 'attr', obj: { t: 'name', id: 'self', span: at }, name, nameSpan: at, span: at }],
      value: { t: 'name', id: name, span: at },
      span: at,
    });
    const fn = this.makeFunction('__init__', params, fields.map((f) => assign(f.name)), scope, at);
    fn.defaults = [undefined, ...fields.map((f) => f.value)];
    fn.dataclassFields = fields;
    return fn;
  }

  /** The method resolution order: the class, then its user-class bases depth-first. */
  mro(cls: ClassValue): ClassValue[] {
    const out: ClassValue[] = [];
    const visit = (c: ClassValue, depth: number): void => {
      if (out.includes(c) || depth > 32) return;
      out.push(c);
      for (const b of c.bases) if (b.k === 'class') visit(b.cls, depth + 1);
    };
    visit(cls, 0);
    return out;
  }

  /** The framework base classes of a user class (`keras.Model`, `keras.layers.Conv2D`), nearest first. */
  frameworkBases(cls: ClassValue): string[] {
    const out: string[] = [];
    for (const c of this.mro(cls)) for (const b of c.bases) if (b.k === 'module') out.push(b.path);
    return out;
  }

  /** Looks a name up on a class and its bases. */
  classMember(cls: ClassValue, name: string, after?: ClassValue): Value | undefined {
    const order = this.mro(cls);
    const start = after ? order.indexOf(after) + 1 : 0;
    for (const c of order.slice(start)) {
      const v = c.members.get(name);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  /** Instantiates a user class: the framework decides what a subclass of its classes is. */
  private instantiate(cls: ClassValue, args: CallArgs, span: Span, scope: Scope): Value {
    this.called.add(cls);
    const made = this.fw.instantiate(cls, args, span);
    if (made) return made;
    const obj: ObjectValue = { cls, attrs: new Map() };
    const self: Value = { k: 'object', obj };
    const init = this.classMember(cls, '__init__');
    if (init?.k === 'func') this.callFunction(init.fn, args, span, self);
    void scope;
    return self;
  }

  /** Calls a user function with bound arguments; `self` is prepended for methods. */
  callFunction(fn: FunctionValue, args: CallArgs, span: Span, self?: Value): Value {
    if (fn.file !== this.frames[this.frames.length - 1].file && !(fn.file.module === '' && this.frames[this.frames.length - 1].file.module === '')) {
      if (!isBundled(fn.file)) return this.inFile(fn.file, span, () => this.callFunction(fn, args, span, self));
      // A builder of ConvLens' own definitions refuses arguments as Keras does: a raise anywhere
      // inside it is an error at the call that entered it, and there is no model.
      try {
        return this.inFile(fn.file, span, () => this.callFunction(fn, args, span, self));
      } catch (e) {
        if (!(e instanceof RaiseSignal)) throw e;
        this.out.report({ severity: 'error', code: 'invalid-arg', span: this.here(span), message: e.message ?? `${fn.name}() refuses these arguments` });
        return { k: 'unknown', why: e.message ?? `${fn.name}() refuses these arguments` };
      }
    }
    this.called.add(fn);
    if (fn.generator) return { k: 'unknown', why: `${fn.name}() is a generator` };
    if (this.depth >= this.limits.maxDepth) {
      this.warn('analysis-depth', this.here(span), `ConvLens stopped following calls here: more than ${this.limits.maxDepth} nested calls`);
      return UNKNOWN;
    }
    const closure = fn.closure as Scope;
    const local = new Scope(closure, closure.module ?? closure);
    const params = fn.params;
    let pi = 0;
    const positional = self ? [{ value: self, span }, ...args.positional] : args.positional;
    const rest: Value[] = [];
    for (const a of positional) {
      while (pi < params.length && params[pi].star === '**') pi++;
      if (pi < params.length && params[pi].star === '*') {
        rest.push(a.value);
        continue;
      }
      if (pi < params.length) local.vars.set(params[pi++].name, a.value);
    }
    const extra = new Map<string, { key: Value; value: Value }>();
    const names = new Set(params.map((p) => p.name));
    for (const [k, v] of args.keyword) if (!names.has(k) || params.find((p) => p.name === k)?.star) extra.set(`s:${k}`, { key: str(k), value: v.value });
    params.forEach((p, i) => {
      if (p.star === '*') local.vars.set(p.name, tuple(rest));
      else if (p.star === '**') local.vars.set(p.name, args.opaque ? { k: 'unknown', why: 'keyword arguments passed with **' } : { k: 'dict', entries: extra });
      else if (args.keyword.has(p.name)) local.vars.set(p.name, args.keyword.get(p.name)!.value);
      else if (!local.vars.has(p.name)) local.vars.set(p.name, fn.defaults[i] ?? (args.opaque ? UNKNOWN : { k: 'unknown', why: `argument '${p.name}' was not passed` }));
    });
    this.depth++;
    this.callStack.push(fn);
    const run = (): Value => {
      try {
        if (!Array.isArray(fn.body)) return this.eval(fn.body, local);
        this.execBlock(fn.body, local);
      } catch (e) {
        if (e instanceof ReturnSignal) return e.value;
        // Inside ConvLens' own definitions an exception goes up to the builder the user called.
        if (e instanceof RaiseSignal && isBundled(fn.file)) throw e;
        if (e instanceof RaiseSignal) return { k: 'unknown', why: 'the function raises an exception' };
        throw e;
      } finally {
        this.depth--;
        this.callStack.pop();
      }
      return NONE;
    };
    return run();
  }

  // ------------------------------------------------------------------------------------------
  // Expressions

  eval(e: Expr, scope: Scope): Value {
    switch (e.t) {
      case 'num':
        return num(e.value, e.isFloat);
      case 'str':
        return e.value === null ? { k: 'unknown', why: 'a formatted string' } : str(e.value);
      case 'fstr':
        return this.fstring(e, scope);
      case 'const':
        return e.value === null ? NONE : { k: 'bool', v: e.value };
      case 'tuple':
      case 'list':
      case 'set': {
        const items: Value[] = [];
        for (const x of e.items) {
          if (x.t === 'starred') {
            const it = this.iterate(this.eval(x.value, scope), x.span);
            if (!it) return { k: 'unknown', why: 'a starred value ConvLens could not read' };
            for (const v of it) items.push(v);
          } else items.push(this.eval(x, scope));
        }
        return this.seq(e.t, items, e.span);
      }
      case 'dict':
        return this.dict(e, scope);
      case 'name':
        return this.lookup(e.id, scope);
      case 'attr':
        return this.attribute(this.eval(e.obj, scope), e.name, e.span);
      case 'call':
        return this.call(e, scope);
      case 'bin':
        return this.binary(e.op, this.eval(e.left, scope), this.eval(e.right, scope), e.span);
      case 'unary': {
        const v = this.eval(e.arg, scope);
        if (v.k === 'num') return e.op === '-' ? num(-v.v, v.float) : e.op === '~' && !v.float ? num(~v.v) : v;
        if (v.k === 'bool' && e.op === '-') return num(v.v ? -1 : 0);
        if (v.k === 'tensor' || v.k === 'array') return e.op === '-' ? this.fw.binary('*', v, num(-1), e.span) : v;
        return UNKNOWN;
      }
      case 'not': {
        const t = truthy(this.eval(e.arg, scope));
        return t === undefined ? UNKNOWN : { k: 'bool', v: !t };
      }
      case 'boolop': {
        const l = this.eval(e.left, scope);
        const t = truthy(l);
        if (t === undefined) return UNKNOWN;
        if (e.op === 'and') return t ? this.eval(e.right, scope) : l;
        return t ? l : this.eval(e.right, scope);
      }
      case 'compare':
        return this.compare(e.ops, e.operands.map((o) => this.eval(o, scope)));
      case 'cond': {
        const t = truthy(this.eval(e.test, scope));
        if (t === undefined) return UNKNOWN;
        return t ? this.eval(e.body, scope) : this.eval(e.orelse, scope);
      }
      case 'subscript':
        return this.subscript(this.eval(e.value, scope), e.index, scope, e.span);
      case 'lambda':
        return { k: 'func', fn: this.makeFunction('<lambda>', e.params, e.body, scope, e.span) };
      case 'comp':
        return this.comprehension(e, scope);
      case 'starred':
      case 'slice':
      case 'unknown':
        return UNKNOWN;
    }
  }

  private fstring(e: Extract<Expr, { t: 'fstr' }>, scope: Scope): Value {
    let out = '';
    for (const p of e.parts) {
      if (typeof p === 'string') {
        out += p;
        continue;
      }
      const v = this.eval(p.expr, scope);
      const s = formatValue(v, p.spec);
      if (s === undefined) return { k: 'unknown', why: 'a formatted string' };
      if (out.length + s.length > MAX_TEXT) return VERY_LONG;
      out += s;
    }
    return str(out);
  }

  private dict(e: Extract<Expr, { t: 'dict' }>, scope: Scope): Value {
    const entries = new Map<string, { key: Value; value: Value }>();
    for (const en of e.entries) {
      if ('splat' in en) {
        const d = this.eval(en.splat, scope);
        if (d.k !== 'dict') return { k: 'unknown', why: 'a dict unpacked with ** that ConvLens could not read' };
        for (const [k, v] of d.entries) entries.set(k, v);
        continue;
      }
      const key = this.eval(en.key, scope);
      const k = dictKey(key);
      if (k === undefined) return { k: 'unknown', why: 'a dict with keys ConvLens cannot read' };
      entries.set(k, { key, value: this.eval(en.value, scope) });
    }
    if (!this.allocate(entries.size, e.span)) return { k: 'unknown', why: 'a very large dict' };
    return { k: 'dict', entries };
  }

  private comprehension(e: Extract<Expr, { t: 'comp' }>, scope: Scope): Value {
    const local = new Scope(scope, scope.module ?? scope);
    const items: Value[] = [];
    const entries = new Map<string, { key: Value; value: Value }>();
    let failed: string | undefined;
    const run = (i: number): void => {
      if (failed) return;
      if (i === e.clauses.length) {
        this.tick(e.span);
        if (e.kind === 'dict') {
          const key = this.eval(e.elt, local);
          const k = dictKey(key);
          if (k === undefined) failed = 'a dict with keys ConvLens cannot read';
          else entries.set(k, { key, value: this.eval(e.value!, local) });
        } else {
          items.push(this.eval(e.elt, local));
          if (items.length > this.limits.maxItems) failed = `a list of more than ${this.limits.maxItems.toLocaleString('en-US')} items`;
        }
        return;
      }
      const c = e.clauses[i];
      if (c.t === 'if') {
        const t = truthy(this.eval(c.test, local));
        if (t === undefined) failed = 'a condition ConvLens cannot decide';
        else if (t) run(i + 1);
        return;
      }
      const it = this.iterate(this.eval(c.iter, local), c.iter.span);
      if (!it) {
        failed = 'a loop over values ConvLens cannot know';
        return;
      }
      for (const v of it) {
        this.assign(c.target, v, local);
        run(i + 1);
        if (failed) return;
      }
    };
    run(0);
    if (failed) return { k: 'unknown', why: failed };
    if (e.kind === 'dict') return { k: 'dict', entries };
    return this.seq(e.kind === 'set' ? 'set' : e.kind === 'gen' ? 'tuple' : 'list', items, e.span);
  }

  lookup(id: string, scope: Scope): Value {
    const v = scope.get(id);
    if (v !== undefined) return v;
    if (BUILTINS.has(id)) return { k: 'builtin', name: id };
    if (id === '...' || id === 'Ellipsis') return { k: 'module', path: 'Ellipsis' };
    const lenient = this.fw.lenientName(id);
    if (lenient) return lenient;
    // In ConvLens' own definitions an undefined name is a bug of ours: say so rather than go on quietly.
    if (this.frames[this.frames.length - 1].file.module.startsWith('keras.')) {
      this.out.report({ severity: 'warning', code: 'internal', span: { start: 0, end: 0 }, message: `internal: '${id}' is not defined in ConvLens' definition` });
    }
    return { k: 'unknown', why: `'${id}' is not defined in this file` };
  }

  attribute(obj: Value, name: string, span: Span): Value {
    switch (obj.k) {
      case 'module': {
        const lib = libraryAttribute(obj.path, name);
        if (lib) return lib;
        return { k: 'module', path: normalizeModulePath(`${obj.path}.${name}`) };
      }
      case 'object': {
        const own = obj.obj.attrs.get(name);
        if (own !== undefined) return own;
        if (obj.obj.cls.native) return { k: 'method', self: obj, name };
        const m = this.classMember(obj.obj.cls, name);
        if (m?.k === 'func') return this.bindMember(m, obj, span);
        if (m !== undefined) return m;
        return { k: 'unknown', why: `'${obj.obj.cls.name}' has no attribute '${name}' ConvLens could see` };
      }
      case 'class': {
        const m = this.classMember(obj.cls, name);
        // `block.__name__` names modules in pytorch-cifar100's Inception-v4 (`add_module("{}_{}".format(block.__name__, l), …)`).
        if (name === '__name__' && m === undefined) return str(obj.cls.name);
        // A static method read from the class (`Config.adjust_channels`) is a plain function: its
        // marker must not be passed as `self` when it is called.
        if (m?.k === 'func' && m.self?.k === 'none') return { k: 'func', fn: m.fn };
        // A classmethod read from a class gets that class as `cls` (a subclass's, when read from one: torchvision's `ResNet50_Weights.verify`).
        if (m?.k === 'func' && m.self?.k === 'str' && m.self.v === 'classmethod') return { k: 'func', fn: m.fn, self: obj };
        return m ?? UNKNOWN;
      }
      case 'super': {
        const self = obj.self;
        const cls = self.k === 'object' ? self.obj.cls : self.k === 'model' || self.k === 'layer' ? this.fw.userClassOf(self) : undefined;
        const m = cls ? this.classMember(cls, name, obj.after) : undefined;
        if (m?.k === 'func') return { k: 'func', fn: m.fn, self };
        return this.fw.superAttribute(self, name, obj.after);
      }
      case 'seq':
      case 'str':
      case 'dict':
        return { k: 'method', self: obj, name };
      case 'model':
      case 'layer':
      case 'tensor':
      case 'array':
        return this.fw.attribute(obj, name, span);
      default:
        return UNKNOWN;
    }
  }

  /** A method of an object, bound to it (properties are evaluated at once). */
  bindMember(m: Extract<Value, { k: 'func' }>, self: Value, span: Span): Value {
    if (m.self?.k === 'none') return { k: 'func', fn: m.fn };
    if (m.self?.k === 'str' && m.self.v === 'property') return this.callFunction(m.fn, { positional: [], keyword: new Map(), span }, span, self);
    if (m.self?.k === 'str' && m.self.v === 'classmethod') {
      const cls = self.k === 'object' ? self.obj.cls : self.k === 'model' || self.k === 'layer' ? this.fw.userClassOf(self) : undefined;
      return { k: 'func', fn: m.fn, self: cls ? { k: 'class', cls } : UNKNOWN };
    }
    return { k: 'func', fn: m.fn, self };
  }

  private subscript(v: Value, index: Expr[], scope: Scope, span: Span): Value {
    if (v.k === 'array' || v.k === 'tensor' || v.k === 'layer') {
      const vals = index.map((i) =>
        i.t === 'slice'
          ? { slice: true as const, lower: i.lower ? this.eval(i.lower, scope) : undefined, upper: i.upper ? this.eval(i.upper, scope) : undefined, step: i.step ? this.eval(i.step, scope) : undefined }
          : this.eval(i, scope),
      );
      const r = this.fw.subscript(v, vals, span);
      return v.k === 'array' && (v.origin || vals.some((x) => 'k' in x && x.k === 'array')) ? followRows(r, v, index, vals, (x) => this.eval(x, scope)) : r;
    }
    if (index.length !== 1) return UNKNOWN;
    const ix = index[0];
    if (ix.t === 'slice') {
      const lo = ix.lower ? this.eval(ix.lower, scope) : undefined;
      const hi = ix.upper ? this.eval(ix.upper, scope) : undefined;
      const st = ix.step ? this.eval(ix.step, scope) : undefined;
      const asInt = (x: Value | undefined): number | undefined | null => (x === undefined || x.k === 'none' ? undefined : x.k === 'num' && Number.isInteger(x.v) ? x.v : null);
      const l = asInt(lo);
      const h = asInt(hi);
      const s = asInt(st) ?? 1;
      if (l === null || h === null || s === null || s === 0) return UNKNOWN;
      const len = v.k === 'seq' ? v.items.length : v.k === 'str' ? v.v.length : undefined;
      if (len === undefined) return UNKNOWN;
      const picked = sliceIndices(len, l, h, s);
      if (v.k === 'seq') return this.seq(v.kind, picked.map((i) => v.items[i]), span);
      if (v.k === 'str') return str(picked.map((i) => v.v[i]).join(''));
      return UNKNOWN;
    }
    const i = this.eval(ix, scope);
    if (v.k === 'dict') {
      const k = dictKey(i);
      const found = k === undefined ? undefined : v.entries.get(k);
      return found ? found.value : UNKNOWN;
    }
    if (i.k !== 'num' || !Number.isInteger(i.v)) return UNKNOWN;
    if (v.k === 'seq' || v.k === 'str') {
      const len = v.k === 'seq' ? v.items.length : v.v.length;
      const k = i.v < 0 ? len + i.v : i.v;
      if (k < 0 || k >= len) return UNKNOWN;
      return v.k === 'seq' ? v.items[k] : str(v.v[k]);
    }
    if (v.k === 'object') {
      const getitem = this.classMember(v.obj.cls, '__getitem__');
      if (getitem?.k === 'func') return this.callFunction(getitem.fn, { positional: [{ value: i, span }], keyword: new Map(), span }, span, v);
    }
    return UNKNOWN;
  }

  binary(op: string, l: Value, r: Value, span: Span, inPlace = false): Value {
    // What made an operand unknown makes the result unknown, for the same reason.
    if (l.k === 'unknown' && l.why) return l;
    if (r.k === 'unknown' && r.why) return r;
    const lb = l.k === 'bool' ? num(l.v ? 1 : 0) : l;
    const rb = r.k === 'bool' ? num(r.v ? 1 : 0) : r;
    if (lb.k === 'num' && rb.k === 'num') return numeric(op, lb.v, rb.v, lb.float || rb.float);
    // A size a shape function left None (`h, w = ops.shape(x)[1:3]` on an image of any size) is a
    // dynamic size when the model is traced, and arithmetic on it (`h * 2`) is one too: None again.
    if (((l.k === 'none' && rb.k === 'num') || (lb.k === 'num' && r.k === 'none')) && ['+', '-', '*', '//'].includes(op)) return NONE;
    if (l.k === 'tensor' || r.k === 'tensor' || l.k === 'array' || r.k === 'array') return this.fw.binary(op, l, r, span);
    if (op === '+' && l.k === 'str' && r.k === 'str') {
      if (l.v.length + r.v.length > this.limits.maxItems * 10) return { k: 'unknown', why: 'a very long string' };
      return str(l.v + r.v);
    }
    if (op === '%' && l.k === 'str') return formatPercent(l.v, r);
    if (op === '+' && l.k === 'seq' && r.k === 'seq') {
      if (inPlace && l.kind === 'list') {
        if (!this.allocate(r.items.length, span) || l.items.length + r.items.length > this.limits.maxItems) return { k: 'unknown', why: 'a list that grows past the limit' };
        pushAll(l.items, r.items);
        return l;
      }
      return this.seq(l.kind, [...l.items, ...r.items], span);
    }
    if (op === '*' && ((l.k === 'seq' && rb.k === 'num') || (r.k === 'seq' && lb.k === 'num'))) {
      const s = (l.k === 'seq' ? l : r) as Extract<Value, { k: 'seq' }>;
      const n = (l.k === 'seq' ? rb : lb) as Extract<Value, { k: 'num' }>;
      if (!Number.isInteger(n.v)) return UNKNOWN;
      const count = Math.max(0, n.v) * s.items.length;
      if (count > this.limits.maxItems) return { k: 'unknown', why: `a list of ${count.toLocaleString('en-US')} items` };
      return this.seq(s.kind, Array.from({ length: Math.max(0, n.v) }, () => s.items).flat(), span);
    }
    if (op === '*' && ((l.k === 'str' && rb.k === 'num') || (r.k === 'str' && lb.k === 'num'))) {
      const s = (l.k === 'str' ? l : r) as Extract<Value, { k: 'str' }>;
      const n = (l.k === 'str' ? rb : lb) as Extract<Value, { k: 'num' }>;
      if (!Number.isInteger(n.v) || n.v * s.v.length > this.limits.maxItems * 10) return UNKNOWN;
      return str(s.v.repeat(Math.max(0, n.v)));
    }
    if (op === '|' && l.k === 'dict' && r.k === 'dict') return { k: 'dict', entries: new Map([...l.entries, ...r.entries]) };
    return UNKNOWN;
  }

  private compare(ops: string[], vals: Value[]): Value {
    for (let i = 0; i < ops.length; i++) {
      const r = compareOne(ops[i], vals[i], vals[i + 1]);
      if (r === undefined) return UNKNOWN;
      if (!r) return { k: 'bool', v: false };
    }
    return { k: 'bool', v: true };
  }

  // ------------------------------------------------------------------------------------------
  // Calls

  evalArgs(args: Arg[], scope: Scope, span: Span): CallArgs {
    const positional: ArgValue[] = [];
    const keyword = new Map<string, ArgValue>();
    let opaque = false;
    for (const a of args) {
      const value = this.eval(a.value, scope);
      if (a.star === '*') {
        const it = this.iterate(value, a.span);
        if (it) for (const item of it) positional.push({ value: item, span: a.value.span });
        else opaque = true;
      } else if (a.star === '**') {
        if (value.k === 'dict') {
          for (const { key, value: v } of value.entries.values()) {
            if (key.k === 'str') keyword.set(key.v, { value: v, span: a.value.span, nameSpan: a.value.span });
          }
        } else opaque = true;
      } else if (a.name !== undefined) {
        keyword.set(a.name, { value, span: a.value.span, nameSpan: a.nameSpan });
      } else {
        positional.push({ value, span: a.value.span });
      }
    }
    return { positional, keyword, span, opaque };
  }

  private call(e: Extract<Expr, { t: 'call' }>, scope: Scope): Value {
    this.tick(e.span);
    const callee = this.eval(e.fn, scope);
    const args = this.evalArgs(e.args, scope, e.argsSpan);
    return this.callValue(callee, args, e.span, scope, e);
  }

  /** Calls any value; `e` is the call expression when there is one in the code being run. */
  callValue(callee: Value, args: CallArgs, span: Span, scope: Scope, e?: Extract<Expr, { t: 'call' }>): Value {
    switch (callee.k) {
      case 'builtin':
        return this.builtin(callee.name, args, span, scope);
      case 'func':
        return this.callFunction(callee.fn, args, span, callee.self);
      case 'class':
        return this.instantiate(callee.cls, args, span, scope);
      case 'method':
        return this.method(callee.self, callee.name, args, span, e);
      case 'module': {
        const lib = mathCall(callee.path, args) ?? libraryCall(this, callee.path, args, span);
        if (lib) return lib;
        return this.fw.call(callee.path, args, span, e);
      }
      case 'layer':
      case 'model':
        return this.fw.callLayerOrModel(callee, args, span, e);
      case 'object': {
        const f = this.classMember(callee.obj.cls, '__call__');
        if (f?.k === 'func') return this.callFunction(f.fn, args, span, callee);
        return UNKNOWN;
      }
      default:
        return UNKNOWN;
    }
  }

  private method(self: Value, name: string, args: CallArgs, span: Span, e?: Extract<Expr, { t: 'call' }>): Value {
    const p = args.positional.map((a) => a.value);
    if (self.k === 'seq') {
      if (self.kind === 'list') {
        switch (name) {
          case 'append':
            if (p.length === 1 && this.allocate(1, span) && self.items.length < this.limits.maxItems) self.items.push(p[0]);
            return NONE;
          case 'extend': {
            const it = p[0] ? this.iterate(p[0], span) : undefined;
            if (it) {
              const items = [...it];
              if (this.allocate(items.length, span) && self.items.length + items.length <= this.limits.maxItems) pushAll(self.items, items);
            }
            return NONE;
          }
          case 'insert':
            if (p.length === 2 && p[0].k === 'num' && this.allocate(1, span)) self.items.splice(p[0].v < 0 ? self.items.length + p[0].v : p[0].v, 0, p[1]);
            return NONE;
          case 'pop': {
            const i = p[0]?.k === 'num' ? p[0].v : -1;
            const k = i < 0 ? self.items.length + i : i;
            return k >= 0 && k < self.items.length ? self.items.splice(k, 1)[0] : UNKNOWN;
          }
          case 'reverse':
            self.items.reverse();
            return NONE;
          case 'copy':
            return this.seq('list', self.items.slice(), span);
          default:
            break;
        }
      }
      if (name === 'index' && p.length === 1) {
        const i = self.items.findIndex((x) => equal(x, p[0]) === true);
        return i >= 0 ? num(i) : UNKNOWN;
      }
      if (name === 'count' && p.length === 1) return num(self.items.filter((x) => equal(x, p[0]) === true).length);
      return UNKNOWN;
    }
    if (self.k === 'dict') {
      switch (name) {
        case 'get': {
          const k = p[0] ? dictKey(p[0]) : undefined;
          const found = k === undefined ? undefined : self.entries.get(k);
          return found ? found.value : (p[1] ?? NONE);
        }
        case 'items':
          return this.seq('list', [...self.entries.values()].map((en) => tuple([en.key, en.value])), span);
        case 'keys':
          return this.seq('list', [...self.entries.values()].map((en) => en.key), span);
        case 'values':
          return this.seq('list', [...self.entries.values()].map((en) => en.value), span);
        case 'update':
          if (p[0]?.k === 'dict') for (const [k, v] of p[0].entries) self.entries.set(k, v);
          for (const [k, v] of args.keyword) self.entries.set(`s:${k}`, { key: str(k), value: v.value });
          return NONE;
        case 'pop': {
          const k = p[0] ? dictKey(p[0]) : undefined;
          const found = k === undefined ? undefined : self.entries.get(k);
          if (k !== undefined) self.entries.delete(k);
          return found ? found.value : (p[1] ?? UNKNOWN);
        }
        case 'setdefault': {
          const k = p[0] ? dictKey(p[0]) : undefined;
          if (k === undefined) return UNKNOWN;
          if (!self.entries.has(k)) self.entries.set(k, { key: p[0], value: p[1] ?? NONE });
          return self.entries.get(k)!.value;
        }
        case 'copy':
          return { k: 'dict', entries: new Map(self.entries) };
        default:
          return UNKNOWN;
      }
    }
    if (self.k === 'str') return stringMethod(this, self.v, name, args, span);
    if (self.k === 'object') {
      const r = libraryMethod(self.obj, name, args);
      // The options a script runs with (argparse's defaults), for front-ends that read settings from them (PyTorch's epochs).
      if (r && name === 'parse_args' && r.k === 'object') this.parsedArguments.push(r.obj);
      return r ?? (self.obj.cls.native ? this.fw.method(self, name, args, span, e) : UNKNOWN);
    }
    return this.fw.method(self, name, args, span, e);
  }

  private builtin(name: string, args: CallArgs, span: Span, scope: Scope): Value {
    const p = args.positional.map((a) => a.value);
    const ints = p.every((v) => v.k === 'num' && Number.isInteger(v.v));
    switch (name) {
      case 'range': {
        if (!ints || p.length === 0 || p.length > 3) return UNKNOWN;
        const [a, b, c] = p.length === 1 ? [0, (p[0] as { v: number }).v, 1] : [(p[0] as { v: number }).v, (p[1] as { v: number }).v, p.length === 3 ? (p[2] as { v: number }).v : 1];
        if (c === 0) return UNKNOWN;
        // Ranges stay lazy: a huge range costs nothing until iterated, and iteration is budgeted.
        return { k: 'range', start: a, stop: b, step: c };
      }
      case 'len': {
        const v = p[0];
        if (v?.k === 'seq') return num(v.items.length);
        if (v?.k === 'dict') return num(v.entries.size);
        if (v?.k === 'range') return num(Math.max(0, Math.ceil((v.stop - v.start) / v.step)));
        if (v?.k === 'str') return num(v.v.length);
        if (v?.k === 'array' && v.shape[0] !== null && v.shape.length) return num(v.shape[0] as number);
        if (v?.k === 'model' || v?.k === 'layer' || (v?.k === 'object' && v.obj.cls.native)) return this.fw.len(v);
        return UNKNOWN;
      }
      case 'int':
        if (p[0]?.k === 'bool') return num(p[0].v ? 1 : 0);
        return p[0]?.k === 'num' ? num(Math.trunc(p[0].v)) : p[0]?.k === 'str' && /^\s*-?\d+\s*$/.test(p[0].v) ? num(parseInt(p[0].v, 10)) : UNKNOWN;
      case 'float':
        return p[0]?.k === 'num' ? num(p[0].v, true) : p[0]?.k === 'str' && !Number.isNaN(Number(p[0].v)) ? num(Number(p[0].v), true) : UNKNOWN;
      case 'abs':
        return p[0]?.k === 'num' ? num(Math.abs(p[0].v), p[0].float) : UNKNOWN;
      case 'round': {
        if (p[0]?.k !== 'num') return UNKNOWN;
        if (p.length === 1) return num(roundHalfEven(p[0].v));
        if (p[1]?.k === 'num') return num(Math.round(p[0].v * 10 ** p[1].v) / 10 ** p[1].v, true);
        return UNKNOWN;
      }
      case 'min':
      case 'max': {
        const items = p.length === 1 ? [...(this.iterate(p[0], span) ?? [])] : p;
        if (!items.length || !items.every((v) => v.k === 'num')) return UNKNOWN;
        // A loop, not Math.min(...): a list may hold more items than a call takes arguments.
        let best = 0;
        for (let i = 1; i < items.length; i++) {
          const a = (items[i] as { v: number }).v;
          const b = (items[best] as { v: number }).v;
          if (name === 'min' ? a < b : a > b) best = i;
        }
        return items[best];
      }
      case 'sum': {
        const it = p[0] ? this.iterate(p[0], span) : undefined;
        const items = it ? [...it] : undefined;
        if (!items || !items.every((v) => v.k === 'num')) return UNKNOWN;
        return num(items.reduce((s, v) => s + (v as { v: number }).v, 0), items.some((v) => (v as { float: boolean }).float));
      }
      case 'pow':
        return p.length === 2 ? this.binary('**', p[0], p[1], span) : UNKNOWN;
      case 'divmod':
        return p.length === 2 ? tuple([this.binary('//', p[0], p[1], span), this.binary('%', p[0], p[1], span)]) : UNKNOWN;
      case 'bool': {
        const t = p.length ? truthy(p[0]) : false;
        return t === undefined ? UNKNOWN : { k: 'bool', v: t };
      }
      case 'str':
      case 'repr':
      case 'format': {
        if (p.length === 0) return str('');
        const s = name === 'format' ? formatValue(p[0], p[1]?.k === 'str' ? p[1].v : undefined) : name === 'repr' && p[0].k === 'str' ? `'${p[0].v}'` : formatValue(p[0]);
        return s === undefined ? UNKNOWN : str(s);
      }
      case 'chr':
        return p[0]?.k === 'num' && Number.isInteger(p[0].v) && p[0].v >= 0 && p[0].v < 0x110000 ? str(String.fromCodePoint(p[0].v)) : UNKNOWN;
      case 'ord':
        return p[0]?.k === 'str' && p[0].v.length === 1 ? num(p[0].v.codePointAt(0)!) : UNKNOWN;
      case 'list':
      case 'tuple':
      case 'set':
      case 'frozenset': {
        const kind = name === 'list' ? 'list' : name === 'tuple' ? 'tuple' : 'set';
        if (p.length === 0) return this.seq(kind, [], span);
        const it = this.iterate(p[0], span);
        if (!it) return UNKNOWN;
        return this.seq(kind, [...it], span);
      }
      case 'dict': {
        const entries = new Map<string, { key: Value; value: Value }>();
        if (p[0]?.k === 'dict') for (const [k, v] of p[0].entries) entries.set(k, v);
        else if (p[0]) {
          const it = this.iterate(p[0], span);
          if (!it) return UNKNOWN;
          for (const pair of it) {
            if (pair.k !== 'seq' || pair.items.length !== 2) return UNKNOWN;
            const k = dictKey(pair.items[0]);
            if (k === undefined) return UNKNOWN;
            entries.set(k, { key: pair.items[0], value: pair.items[1] });
          }
        }
        for (const [k, v] of args.keyword) entries.set(`s:${k}`, { key: str(k), value: v.value });
        if (args.opaque) return { k: 'unknown', why: 'a dict built from values ConvLens could not read' };
        return { k: 'dict', entries };
      }
      case 'reversed':
      case 'sorted': {
        const it = p[0] ? this.iterate(p[0], span) : undefined;
        if (!it) return UNKNOWN;
        const items = [...it];
        if (name === 'reversed') return this.seq('list', items.reverse(), span);
        if (!items.every((v) => v.k === 'num') && !items.every((v) => v.k === 'str')) return UNKNOWN;
        const sorted = items.slice().sort((x, y) => {
          const a = (x as { v: number | string }).v;
          const b = (y as { v: number | string }).v;
          return a < b ? -1 : a > b ? 1 : 0;
        });
        const rev = args.keyword.get('reverse')?.value;
        if (rev?.k === 'bool' && rev.v) sorted.reverse();
        return this.seq('list', sorted, span);
      }
      case 'enumerate': {
        const it = p[0] ? this.iterate(p[0], span) : undefined;
        if (!it) return UNKNOWN;
        const startArg = p[1] ?? args.keyword.get('start')?.value;
        const start = startArg?.k === 'num' ? startArg.v : 0;
        return this.seq('list', [...it].map((v, i) => tuple([num(i + start), v])), span);
      }
      case 'zip': {
        const its = p.map((v) => this.iterate(v, span));
        if (its.some((x) => !x)) return UNKNOWN;
        const lists = its.map((x) => [...x!]);
        const n = lists.length ? Math.min(...lists.map((l) => l.length)) : 0;
        return this.seq('list', Array.from({ length: n }, (_, i) => tuple(lists.map((l) => l[i]))), span);
      }
      case 'map': {
        if (p.length < 2) return UNKNOWN;
        const its = p.slice(1).map((v) => this.iterate(v, span));
        if (its.some((x) => !x)) return UNKNOWN;
        const lists = its.map((x) => [...x!]);
        const n = Math.min(...lists.map((l) => l.length));
        const out: Value[] = [];
        for (let i = 0; i < n; i++) out.push(this.callValue(p[0], { positional: lists.map((l) => ({ value: l[i], span })), keyword: new Map(), span }, span, scope));
        return this.seq('list', out, span);
      }
      case 'filter': {
        const it = p[1] ? this.iterate(p[1], span) : undefined;
        if (!it) return UNKNOWN;
        const out: Value[] = [];
        for (const v of it) {
          const keep = p[0].k === 'none' ? truthy(v) : truthy(this.callValue(p[0], { positional: [{ value: v, span }], keyword: new Map(), span }, span, scope));
          if (keep === undefined) return UNKNOWN;
          if (keep) out.push(v);
        }
        return this.seq('list', out, span);
      }
      case 'any':
      case 'all': {
        const it = p[0] ? this.iterate(p[0], span) : undefined;
        if (!it) return UNKNOWN;
        let unknown = false;
        for (const v of it) {
          const t = truthy(v);
          if (t === undefined) unknown = true;
          else if (t === (name === 'any')) return { k: 'bool', v: t };
        }
        return unknown ? UNKNOWN : { k: 'bool', v: name === 'all' };
      }
      case 'isinstance':
        return p.length === 2 ? isInstance(this, p[0], p[1]) : UNKNOWN;
      case 'callable':
        return p[0] ? { k: 'bool', v: ['func', 'builtin', 'class', 'layer', 'model'].includes(p[0].k) } : UNKNOWN;
      case 'getattr':
      case 'hasattr': {
        if (p.length < 2 || p[1].k !== 'str') return UNKNOWN;
        const v = this.attribute(p[0], p[1].v, span);
        if (name === 'hasattr') return v.k === 'unknown' ? (v.missing ? { k: 'bool', v: false } : UNKNOWN) : { k: 'bool', v: true };
        return v.k === 'unknown' && p[2] ? p[2] : v;
      }
      case 'setattr':
        if (p.length === 3 && p[1].k === 'str') this.setAttribute(p[0], p[1].v, p[2]);
        return NONE;
      case 'super': {
        const self = scope.get('self');
        const cls = p[0]?.k === 'class' ? p[0].cls : this.enclosingClass(scope, self);
        if (!self || !cls) return UNKNOWN;
        return { k: 'super', self, after: cls };
      }
      case 'iter': {
        // The items an iterator would give (a data loader's first batch): `next` takes the first.
        const it = p[0] ? this.iterate(p[0], span) : undefined;
        return it ? this.seq('list', [...it], span) : UNKNOWN;
      }
      case 'next':
        return p[0]?.k === 'seq' && p[0].items.length ? p[0].items[0] : (p[1] ?? UNKNOWN);
      case 'print':
        return NONE;
      default:
        return UNKNOWN;
    }
  }

  /** The class defining the method that is running (what a bare `super()` starts after). */
  private enclosingClass(scope: Scope, self: Value | undefined): ClassValue | undefined {
    void scope;
    if (!self) return undefined;
    const cls = self.k === 'object' ? self.obj.cls : self.k === 'model' || self.k === 'layer' ? this.fw.userClassOf(self) : undefined;
    if (!cls) return undefined;
    const order = this.mro(cls);
    for (let i = this.callStack.length - 1; i >= 0; i--) {
      const fn = this.callStack[i];
      const owner = order.find((c) => [...c.members.values()].some((m) => m.k === 'func' && m.fn === fn));
      if (owner) return owner;
    }
    return cls;
  }

  /** User functions running now, innermost last. */
  readonly callStack: FunctionValue[] = [];

  // Problems of the document (for the semantics modules).
  report(p: Problem): void {
    this.out.report(p);
  }

  /** Marks a new layer or model change, so loops that build models run to their end. */
  touched(): void {
    this.effects++;
  }

  nodeCount(): number {
    return this.tracer.nodes.length;
  }

  /** Every node of the analysis. */
  get nodes(): readonly GraphNode[] {
    return this.tracer.nodes;
  }
}

/** Appends without spreading: a list may hold more items than a call takes arguments. */
function pushAll<T>(target: T[], items: readonly T[]): void {
  for (const x of items) target.push(x);
}

/** A module's top-level names as an object (`import my_blocks`, `my_blocks.conv_block`). */
function moduleObject(scope: Scope, span: Span): Value {
  const cls: ClassValue = { name: 'module', bases: [], members: new Map(), file: DOCUMENT, span };
  return { k: 'object', obj: { cls, attrs: scope.vars } };
}

/** ConvLens' own definitions (keras.applications), parsed: the AST is read-only, so analyses share it. */
const bundledParses = new Map<string, Module>();

/** The files of ConvLens' own definitions (keras.applications, torchvision.models, torchvision.ops). */
const bundledFiles = new WeakSet<SourceFile>();

/** Code of ConvLens' own definitions (a bundled keras.applications or torchvision module), not the user's. */
function isBundled(file: SourceFile): boolean {
  return file.module.startsWith('keras.') || bundledFiles.has(file);
}

function allDefaulted(params: Param[]): boolean {
  return params.every((p) => p.default !== undefined || p.star !== undefined);
}

/** Names and targets a block assigns (for loops cut short). */
function assignedIn(body: Stmt[]): Expr[] {
  const out: Expr[] = [];
  const stack = [...body];
  while (stack.length) {
    const s = stack.pop()!;
    switch (s.t) {
      case 'assign':
        pushAll(out, s.targets);
        break;
      case 'augassign':
        out.push(s.target);
        break;
      case 'del':
        pushAll(out, s.targets);
        break;
      case 'for':
        out.push(s.target);
        pushAll(stack, s.body);
        pushAll(stack, s.orelse);
        break;
      case 'while':
      case 'block':
        pushAll(stack, s.body);
        break;
      case 'if':
        for (const b of s.branches) pushAll(stack, b.body);
        break;
      default:
        break;
    }
  }
  return out;
}

/** A hashable value's key in a dict; undefined for values Python could not hash or ConvLens cannot compare. */
export function dictKey(v: Value): string | undefined {
  switch (v.k) {
    case 'str':
      return `s:${v.v}`;
    case 'num':
      return `n:${v.v}`;
    case 'bool':
      return `n:${v.v ? 1 : 0}`;
    case 'none':
      return 'none';
    case 'seq': {
      if (v.kind !== 'tuple') return undefined;
      const parts = v.items.map(dictKey);
      return parts.some((p) => p === undefined) ? undefined : `t:(${parts.join(',')})`;
    }
    default:
      return undefined;
  }
}

function numeric(op: string, a: number, b: number, f: boolean): Value {
  switch (op) {
    case '+':
      return num(a + b, f);
    case '-':
      return num(a - b, f);
    case '*':
      return num(a * b, f);
    case '/':
      return b === 0 ? UNKNOWN : num(a / b, true);
    case '//':
      return b === 0 ? UNKNOWN : num(Math.floor(a / b), f);
    case '%':
      return b === 0 ? UNKNOWN : num(a - b * Math.floor(a / b), f);
    case '**': {
      const p = Math.pow(a, b);
      return Number.isFinite(p) ? num(p, f || b < 0) : UNKNOWN;
    }
    case '<<':
      return f || b > 52 ? UNKNOWN : num(a * Math.pow(2, b));
    case '>>':
      return f ? UNKNOWN : num(Math.floor(a / Math.pow(2, b)));
    case '&':
      return f ? UNKNOWN : num(a & b);
    case '|':
      return f ? UNKNOWN : num(a | b);
    case '^':
      return f ? UNKNOWN : num(a ^ b);
    default:
      return UNKNOWN;
  }
}

/** `@dataclass`, `@dataclasses.dataclass` or `@dataclass(...)`. */
function isDataclassDecorator(d: Expr): boolean {
  const callee = d.t === 'call' ? d.fn : d;
  return (callee.t === 'name' && callee.id === 'dataclass') || (callee.t === 'attr' && callee.name === 'dataclass');
}

/** Python truthiness, or undefined when the value is not known. */
export function truthy(v: Value): boolean | undefined {
  switch (v.k) {
    case 'bool':
      return v.v;
    case 'num':
      return v.v !== 0;
    case 'str':
      return v.v.length > 0;
    case 'none':
      return false;
    case 'seq':
      return v.items.length > 0;
    case 'dict':
      return v.entries.size > 0;
    case 'layer':
    case 'model':
    case 'func':
    case 'module':
    case 'optimizer':
    case 'class':
    case 'object':
    case 'tensor':
    case 'builtin':
      return true;
    default:
      return undefined;
  }
}

/** Kinds of plain Python values: of different kinds, never equal (a tuple is not a string). */
const plainKinds = ['num', 'bool', 'str', 'seq', 'dict', 'none'];

export function equal(a: Value, b: Value): boolean | undefined {
  if (a.k === 'unknown' || b.k === 'unknown') return undefined;
  const an = a.k === 'bool' ? num(a.v ? 1 : 0) : a;
  const bn = b.k === 'bool' ? num(b.v ? 1 : 0) : b;
  if (an.k === 'num' && bn.k === 'num') return an.v === bn.v;
  if (a.k === 'str' && b.k === 'str') return a.v === b.v;
  if (a.k === 'none' || b.k === 'none') return a.k === b.k;
  if (a.k === 'seq' && b.k === 'seq') {
    if (a.items.length !== b.items.length) return false;
    for (let i = 0; i < a.items.length; i++) {
      const r = equal(a.items[i], b.items[i]);
      if (r !== true) return r;
    }
    return true;
  }
  if (a.k === 'layer' && b.k === 'layer') return a.layer === b.layer;
  if (a.k === 'model' && b.k === 'model') return a.model === b.model;
  if (a.k === 'tensor' && b.k === 'tensor') return a.t === b.t;
  if (a.k === 'object' && b.k === 'object') return a.obj === b.obj;
  if (a.k === 'module' && b.k === 'module') return a.path === b.path;
  // Classes and functions compare by identity (`block == BasicBlock` picks a depth formula in bearpaw's DenseNet).
  if (a.k === 'class' && b.k === 'class') return a.cls === b.cls;
  if (a.k === 'func' && b.k === 'func' && !a.self && !b.self) return a.fn === b.fn;
  if (a.k === 'builtin' && b.k === 'builtin') return a.name === b.name;
  const named = ['class', 'func', 'builtin'];
  if (named.includes(a.k) && named.includes(b.k) && a.k !== b.k) return false;
  if ((named.includes(a.k) && plainKinds.includes(b.k)) || (named.includes(b.k) && plainKinds.includes(a.k))) return false;
  if ((a.k === 'str') !== (b.k === 'str') && (a.k === 'num' || b.k === 'num')) return false;
  if (plainKinds.includes(an.k) && plainKinds.includes(bn.k) && an.k !== bn.k) return false;
  if (a.k === 'str' && (b.k === 'tensor' || b.k === 'layer' || b.k === 'model')) return false;
  return undefined;
}

function compareOne(op: string, a: Value, b: Value): boolean | undefined {
  switch (op) {
    case '==':
      return equal(a, b);
    case '!=': {
      const r = equal(a, b);
      return r === undefined ? undefined : !r;
    }
    case 'is':
      if (a.k === 'unknown' || b.k === 'unknown') return undefined;
      return a.k === 'none' || b.k === 'none' ? a.k === b.k : equal(a, b);
    case 'is not': {
      const r = compareOne('is', a, b);
      return r === undefined ? undefined : !r;
    }
    case 'in':
    case 'not in': {
      let r: boolean | undefined;
      if (b.k === 'seq') {
        r = false;
        for (const item of b.items) {
          const eq = equal(a, item);
          if (eq === undefined) return undefined;
          if (eq) {
            r = true;
            break;
          }
        }
      } else if (b.k === 'dict') {
        const k = dictKey(a);
        if (k === undefined) return undefined;
        r = b.entries.has(k);
      } else if (b.k === 'str' && a.k === 'str') r = b.v.includes(a.v);
      else return undefined;
      return op === 'in' ? r : !r;
    }
    default: {
      const x = a.k === 'bool' ? (a.v ? 1 : 0) : a.k === 'num' ? a.v : a.k === 'str' ? a.v : undefined;
      const y = b.k === 'bool' ? (b.v ? 1 : 0) : b.k === 'num' ? b.v : b.k === 'str' ? b.v : undefined;
      if (x === undefined || y === undefined || typeof x !== typeof y) return undefined;
      switch (op) {
        case '<':
          return x < y;
        case '<=':
          return x <= y;
        case '>':
          return x > y;
        case '>=':
          return x >= y;
        default:
          return undefined;
      }
    }
  }
}

function sliceIndices(len: number, lo: number | undefined, hi: number | undefined, step: number): number[] {
  const norm = (x: number): number => {
    if (x < 0) x += len;
    return Math.max(step > 0 ? 0 : -1, Math.min(step > 0 ? len : len - 1, x));
  };
  const start = lo === undefined ? (step > 0 ? 0 : len - 1) : norm(lo);
  const stop = hi === undefined ? (step > 0 ? len : -1) : norm(hi);
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** `str(v)` / `format(v, spec)` for the values names are built from; undefined when unknown. */
/**
 * Characters in one string the interpreter builds: past it (`s.replace('a', 'aaaaaaaaaa')` ten
 * times, `'%s%s' % (s, s)` in a loop) the value is unknown, checked before the string is made;
 * such strings took gigabytes and ended in V8's 'Invalid string length'.
 */
const MAX_TEXT = 1_000_000;
const VERY_LONG: Value = { k: 'unknown', why: 'a very long string' };
const text = (s: string | undefined): Value => (s === undefined ? VERY_LONG : str(s));

export function formatValue(v: Value, spec?: string): string | undefined {
  if (spec) {
    const m = /^(0?)(\d*)(?:\.(\d+))?([dfs%]?)$/.exec(spec);
    if (!m) return undefined;
    const [, zero, width, prec, type] = m;
    // Python allows any precision; JavaScript's toFixed throws past 100 digits.
    if (Number(prec ?? 0) > 100) return undefined;
    let s: string | undefined;
    if (v.k === 'num' && (type === 'f' || (prec && type === ''))) s = v.v.toFixed(Number(prec ?? 6));
    else if (v.k === 'num' && type === '%') s = `${(v.v * 100).toFixed(Number(prec ?? 6))}%`;
    else if (v.k === 'num' && (type === 'd' || type === '') && Number.isInteger(v.v)) s = String(v.v);
    else if (v.k === 'str' && (type === 's' || type === '')) s = v.v;
    if (s === undefined) return undefined;
    const w = Number(width || 0);
    if (w > MAX_TEXT) return undefined;
    return s.length >= w ? s : zero ? s.padStart(w, '0') : v.k === 'str' ? s.padEnd(w) : s.padStart(w);
  }
  switch (v.k) {
    case 'str':
      return v.v;
    case 'num':
      return v.float && Number.isInteger(v.v) ? `${v.v}.0` : String(v.v);
    case 'bool':
    case 'none':
    case 'seq':
      return showValue(v);
    case 'layer':
      return v.layer.kerasName;
    case 'model':
      return v.model.kerasName;
    default:
      return undefined;
  }
}

/** `'%s_%d' % (a, b)`. */
function formatPercent(fmt: string, r: Value): Value {
  const args = r.k === 'seq' && r.kind === 'tuple' ? r.items : [r];
  let i = 0;
  let failed = false;
  let length = fmt.length;
  const out = fmt.replace(/%(0?\d*)(?:\.(\d+))?([sdifr%])/g, (_, width: string, prec: string | undefined, type: string) => {
    if (type === '%') return '%';
    const v = args[i++];
    if (!v || failed) {
      failed = true;
      return '';
    }
    const s = formatValue(v, `${width}${prec ? `.${prec}` : ''}${type === 'i' ? 'd' : type === 'r' ? 's' : type}`);
    length += s?.length ?? 0;
    if (s === undefined || length > MAX_TEXT) failed = true;
    return failed ? '' : s!;
  });
  return failed ? UNKNOWN : str(out);
}

function stringMethod(interp: Interpreter, s: string, name: string, args: CallArgs, span: Span): Value {
  const p = args.positional.map((a) => a.value);
  const sArg = (i: number): string | undefined => (p[i]?.k === 'str' ? (p[i] as { v: string }).v : undefined);
  switch (name) {
    case 'lower':
      return str(s.toLowerCase());
    case 'upper':
      return str(s.toUpperCase());
    case 'strip':
      return str(s.trim());
    case 'capitalize':
      return str(s.charAt(0).toUpperCase() + s.slice(1).toLowerCase());
    case 'title':
      return str(s.replace(/\w\S*/g, (w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()));
    case 'startswith':
      return sArg(0) === undefined ? UNKNOWN : { k: 'bool', v: s.startsWith(sArg(0)!) };
    case 'endswith':
      return sArg(0) === undefined ? UNKNOWN : { k: 'bool', v: s.endsWith(sArg(0)!) };
    case 'replace': {
      if (sArg(0) === undefined || sArg(1) === undefined) return UNKNOWN;
      const parts = s.split(sArg(0)!);
      return text(parts.length - 1 > (MAX_TEXT - s.length) / Math.max(1, sArg(1)!.length) ? undefined : parts.join(sArg(1)!));
    }
    case 'split': {
      const parts = sArg(0) === undefined ? s.trim().split(/\s+/) : s.split(sArg(0)!);
      return interp.seq('list', parts.map(str), span);
    }
    case 'join': {
      const it = p[0] ? interp.iterate(p[0], span) : undefined;
      if (!it) return UNKNOWN;
      const items = [...it];
      if (!items.every((v) => v.k === 'str')) return UNKNOWN;
      const strings = items.map((v) => (v as { v: string }).v);
      return text(strings.reduce((n, x) => n + x.length, s.length * strings.length) > MAX_TEXT ? undefined : strings.join(s));
    }
    case 'format': {
      let auto = 0;
      let failed = false;
      let length = s.length;
      const out = s.replace(/\{\{|\}\}|\{([^{}:!]*)(?:![rs])?(?::([^{}]*))?\}/g, (m, field: string | undefined, spec: string | undefined) => {
        if (m === '{{') return '{';
        if (m === '}}') return '}';
        let v: Value | undefined;
        if (field === undefined || field === '') v = p[auto++];
        else if (/^\d+$/.test(field)) v = p[Number(field)];
        else v = args.keyword.get(field)?.value;
        const r = v && !failed ? formatValue(v, spec) : undefined;
        length += r?.length ?? 0;
        if (r === undefined || length > MAX_TEXT) failed = true;
        return failed ? '' : r!;
      });
      return failed ? UNKNOWN : str(out);
    }
    default:
      return UNKNOWN;
  }
}

function isInstance(interp: Interpreter, v: Value, t: Value): Value {
  const types = t.k === 'seq' ? t.items : [t];
  let unknown = false;
  for (const ty of types) {
    if (ty.k === 'builtin') {
      const map: Record<string, string[]> = { int: ['num-int', 'bool'], float: ['num-float'], str: ['str'], list: ['list'], tuple: ['tuple'], dict: ['dict'], bool: ['bool'], set: ['set'] };
      const kinds = map[ty.name];
      if (!kinds) {
        unknown = true;
        continue;
      }
      const kind = v.k === 'num' ? (Number.isInteger(v.v) && !v.float ? 'num-int' : 'num-float') : v.k === 'seq' ? v.kind : v.k;
      if (v.k === 'unknown') return UNKNOWN;
      if (kinds.includes(kind)) return { k: 'bool', v: true };
    } else if (ty.k === 'class') {
      if (v.k === 'object' && interp.mro(v.obj.cls).includes(ty.cls)) return { k: 'bool', v: true };
      const uc = v.k === 'model' || v.k === 'layer' ? interp.fw.userClassOf(v) : undefined;
      if (uc && interp.mro(uc).includes(ty.cls)) return { k: 'bool', v: true };
      if (v.k === 'unknown') return UNKNOWN;
    } else if (ty.k === 'module') {
      const r = interp.fw.isInstance(v, ty.path);
      if (r === undefined) unknown = true;
      else if (r) return { k: 'bool', v: true };
    } else unknown = true;
  }
  return unknown ? UNKNOWN : { k: 'bool', v: false };
}
