import type { ProblemSink } from '../diagnostics';
import type { Dim } from '../shape';
import { findLayer, kerasSnakeCase, layerNames } from '../layers/index';
import type { Arg, Expr, Module, Span, Stmt } from './pythonAst';
import { DATASET_SHAPES, classifyKerasPath, normalizeModulePath, type KerasCallee } from './kerasSymbols';
import {
  NONE,
  UNKNOWN,
  num,
  showValue,
  str,
  tuple,
  type ArgValue,
  type CallArgs,
  type LayerInstance,
  type ModelBuild,
  type OptimizerSpec,
  type Value,
} from './values';

/** Limits that keep analysis fast and finite whatever the file does. */
export interface InterpreterLimits {
  /** Evaluation steps (statements and calls) before analysis stops. */
  maxSteps: number;
  /** Nested user-function calls. */
  maxDepth: number;
}

export const DEFAULT_LIMITS: InterpreterLimits = { maxSteps: 200_000, maxDepth: 32 };

class Scope {
  readonly vars = new Map<string, Value>();
  constructor(readonly parent?: Scope) {}
  get(name: string): Value | undefined {
    return this.vars.get(name) ?? this.parent?.get(name);
  }
}

class ReturnSignal {
  constructor(readonly value: Value) {}
}
class BreakSignal {}
class ContinueSignal {}
class BudgetExceeded {
  constructor(readonly span: Span) {}
}

const BUILTINS = new Set([
  'range', 'len', 'int', 'float', 'min', 'max', 'abs', 'round', 'enumerate', 'zip', 'list', 'tuple', 'print', 'str',
  'sum', 'pow', 'bool', 'reversed', 'sorted',
]);

/** The names a bare identifier may mean when the file never imported it (notebook snippets). */
const LENIENT = new Set(['Sequential', 'Model', 'Input', ...layerNames()]);

/**
 * An abstract interpreter for the Python that builds Keras models: constants and arithmetic,
 * imports, loops, helper functions and conditionals are evaluated; anything it cannot know
 * becomes `unknown`, never a guess. It records every model and the layers added to it.
 */
export class Interpreter {
  readonly models: ModelBuild[] = [];
  /** Keras datasets the file loads (`mnist` for `mnist.load_data()`), in order. */
  readonly datasets: string[] = [];
  private readonly globals = new Scope();
  private steps = 0;
  private depth = 0;
  private nextLayerId = 0;
  private nextModelId = 0;
  private readonly uids = new Map<string, number>();

  constructor(
    private readonly sink: ProblemSink,
    private readonly limits: InterpreterLimits = DEFAULT_LIMITS,
  ) {}

  run(module: Module): ModelBuild[] {
    try {
      this.execBlock(module.body, this.globals);
    } catch (e) {
      if (e instanceof BudgetExceeded) {
        this.sink.warning(
          'analysis-budget',
          e.span,
          `ConvLens stopped evaluating here after ${this.limits.maxSteps.toLocaleString('en-US')} steps (a very long loop or deep recursion?); models after this point may be incomplete`,
        );
        for (const m of this.models) m.incomplete ??= 'analysis stopped early';
      } else if (!(e instanceof ReturnSignal || e instanceof BreakSignal || e instanceof ContinueSignal)) {
        throw e;
      }
    }
    return this.models;
  }

  // ------------------------------------------------------------------------------------------
  // Statements

  private tick(span: Span): void {
    if (++this.steps > this.limits.maxSteps) throw new BudgetExceeded(span);
  }

  private execBlock(body: Stmt[], scope: Scope): void {
    for (const s of body) this.exec(s, scope);
  }

  private exec(s: Stmt, scope: Scope): void {
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
        const v = this.binary(s.op, cur, this.eval(s.value, scope));
        this.assign(s.target, v, scope);
        return;
      }
      case 'import':
        for (const { module, alias } of s.names) {
          if (alias) scope.vars.set(alias, { k: 'module', path: normalizeModulePath(module) });
          else {
            // `import tensorflow.keras` binds `tensorflow`.
            const top = module.split('.')[0];
            scope.vars.set(top, { k: 'module', path: normalizeModulePath(top) });
          }
        }
        return;
      case 'from': {
        const base = s.module.replace(/^\.+/, '');
        if (s.names === '*') {
          const path = normalizeModulePath(base);
          if (/^keras(\.layers)?$/.test(path) || path === 'keras.models') {
            for (const n of LENIENT) scope.vars.set(n, { k: 'module', path: normalizeModulePath(`keras.layers.${n}`) });
            scope.vars.set('Sequential', { k: 'module', path: 'keras.Sequential' });
            scope.vars.set('Model', { k: 'module', path: 'keras.Model' });
            scope.vars.set('Input', { k: 'module', path: 'keras.Input' });
          }
          return;
        }
        for (const { name, alias } of s.names) {
          scope.vars.set(alias ?? name, { k: 'module', path: normalizeModulePath(`${base}.${name}`) });
        }
        return;
      }
      case 'def': {
        const defaults = s.params.map((p) => (p.default ? this.eval(p.default, scope) : undefined));
        scope.vars.set(s.name, { k: 'func', fn: { def: s, defaults } });
        return;
      }
      case 'class': {
        for (const base of s.bases) {
          const b = this.eval(base, scope);
          if (b.k === 'module') {
            const callee = classifyKerasPath(b.path);
            if (callee.kind === 'functionalModel' || callee.kind === 'sequential') {
              this.models.push(this.newModel('subclassed', s.span, s.name));
              break;
            }
          }
        }
        scope.vars.set(s.name, UNKNOWN);
        return;
      }
      case 'if':
        for (const branch of s.branches) {
          if (!branch.test) {
            this.execBlock(branch.body, scope);
            return;
          }
          const t = truthy(this.eval(branch.test, scope));
          if (t === undefined) {
            if (this.containsModelWork(branch.body)) {
              this.sink.info(
                'undecided-condition',
                branch.test.span,
                'ConvLens cannot decide this condition without running the code, so the layers added under it are not counted',
              );
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
      case 'for': {
        const iter = this.iterate(this.eval(s.iter, scope), s.iter.span);
        if (iter === undefined) {
          if (this.containsModelWork(s.body)) {
            this.sink.info('undecided-loop', s.iter.span, 'ConvLens cannot tell how often this loop runs, so the layers added in it are not counted');
            for (const m of this.models) m.incomplete ??= 'a loop could not be evaluated';
          }
          return;
        }
        let broke = false;
        for (const item of iter) {
          this.tick(s.span);
          this.assign(s.target, item, scope);
          try {
            this.execBlock(s.body, scope);
          } catch (e) {
            if (e instanceof BreakSignal) {
              broke = true;
              break;
            }
            if (!(e instanceof ContinueSignal)) throw e;
          }
        }
        if (!broke) this.execBlock(s.orelse, scope);
        return;
      }
      case 'while': {
        for (;;) {
          const t = truthy(this.eval(s.test, scope));
          if (!t) return;
          try {
            this.execBlock(s.body, scope);
          } catch (e) {
            if (e instanceof BreakSignal) return;
            if (!(e instanceof ContinueSignal)) throw e;
          }
        }
      }
      case 'return':
        throw new ReturnSignal(s.value ? this.eval(s.value, scope) : NONE);
      case 'block':
        this.execBlock(s.body, scope);
        return;
      case 'pass':
        return;
    }
  }

  /** Whether a block could add layers (so skipping it deserves a note). */
  private containsModelWork(body: Stmt[]): boolean {
    const walk = (e: Expr): boolean => {
      switch (e.t) {
        case 'call':
          return true;
        case 'attr':
          return walk(e.obj);
        default:
          return false;
      }
    };
    return body.some((s) => {
      switch (s.t) {
        case 'expr':
          return walk(s.expr);
        case 'assign':
          return walk(s.value);
        case 'if':
          return s.branches.some((b) => this.containsModelWork(b.body));
        case 'for':
        case 'while':
        case 'block':
          return this.containsModelWork(s.body);
        default:
          return false;
      }
    });
  }

  private assign(target: Expr, v: Value, scope: Scope): void {
    if (target.t === 'name') {
      scope.vars.set(target.id, v);
      if (v.k === 'model' && v.model.varName === undefined) v.model.varName = target.id;
      return;
    }
    if (target.t === 'tuple' || target.t === 'list') {
      const items = v.k === 'seq' && v.items.length === target.items.length ? v.items : undefined;
      target.items.forEach((t, i) => this.assign(t, items ? items[i] : UNKNOWN, scope));
    }
    // Attribute and subscript targets do not affect models.
  }

  /** The items a `for` loop visits, lazily; undefined when they cannot be known. */
  private iterate(v: Value, span: Span): Iterable<Value> | undefined {
    if (v.k === 'seq') return v.items;
    if (v.k === 'str') return [...v.v].map(str);
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
  // Expressions

  private eval(e: Expr, scope: Scope): Value {
    switch (e.t) {
      case 'num':
        return num(e.value, e.isFloat);
      case 'str':
        return e.value === null ? { k: 'unknown', why: 'an f-string' } : str(e.value);
      case 'const':
        return e.value === null ? NONE : { k: 'bool', v: e.value };
      case 'tuple':
      case 'list':
        return { k: 'seq', kind: e.t, items: e.items.map((x) => this.eval(x, scope)) };
      case 'name':
        return this.lookup(e.id, scope);
      case 'attr':
        return this.attribute(this.eval(e.obj, scope), e.name);
      case 'call':
        return this.call(e, scope);
      case 'bin':
        return this.binary(e.op, this.eval(e.left, scope), this.eval(e.right, scope));
      case 'unary': {
        const v = this.eval(e.arg, scope);
        if (v.k === 'num') return e.op === '-' ? num(-v.v, v.float) : e.op === '~' && !v.float ? num(~v.v) : v;
        if (v.k === 'bool' && e.op === '-') return num(v.v ? -1 : 0);
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
        return this.subscript(this.eval(e.value, scope), e.index, scope);
      case 'dict':
      case 'slice':
      case 'unknown':
        return UNKNOWN;
    }
  }

  private lookup(id: string, scope: Scope): Value {
    const v = scope.get(id);
    if (v !== undefined) return v;
    if (BUILTINS.has(id)) return { k: 'builtin', name: id };
    if (LENIENT.has(id)) {
      const path = id === 'Sequential' || id === 'Model' || id === 'Input' ? `keras.${id}` : `keras.layers.${id}`;
      return { k: 'module', path };
    }
    return { k: 'unknown', why: `'${id}' is not defined in this file` };
  }

  private attribute(obj: Value, name: string): Value {
    switch (obj.k) {
      case 'module':
        return { k: 'module', path: normalizeModulePath(`${obj.path}.${name}`) };
      case 'model':
      case 'seq':
        return { k: 'method', self: obj, name };
      case 'array':
        if (name === 'shape') return tuple(obj.shape.map((d) => (d === null ? UNKNOWN : num(d))));
        if (name === 'ndim') return num(obj.shape.length);
        if (name === 'T') return { k: 'array', shape: [...obj.shape].reverse() };
        return { k: 'method', self: obj, name };
      case 'str':
        return { k: 'method', self: obj, name };
      default:
        return UNKNOWN;
    }
  }

  private subscript(v: Value, index: Expr[], scope: Scope): Value {
    if (index.length !== 1) return v.k === 'array' ? { k: 'array', shape: [] } : UNKNOWN;
    const ix = index[0];
    if (ix.t === 'slice') {
      const lo = ix.lower ? this.eval(ix.lower, scope) : undefined;
      const hi = ix.upper ? this.eval(ix.upper, scope) : undefined;
      const st = ix.step ? this.eval(ix.step, scope) : undefined;
      const asInt = (x: Value | undefined): number | undefined | null => (x === undefined || x.k === 'none' ? undefined : x.k === 'num' && Number.isInteger(x.v) ? x.v : null);
      const l = asInt(lo);
      const h = asInt(hi);
      const s = asInt(st) ?? 1;
      if (l === null || h === null || s === null || s === 0) return v.k === 'array' ? { k: 'array', shape: [null, ...v.shape.slice(1)] } : UNKNOWN;
      const len = v.k === 'seq' ? v.items.length : v.k === 'str' ? v.v.length : v.k === 'array' ? v.shape[0] : undefined;
      if (len === undefined) return UNKNOWN;
      if (len === null) return v.k === 'array' ? { k: 'array', shape: [null, ...v.shape.slice(1)] } : UNKNOWN;
      const picked = sliceIndices(len, l, h, s);
      if (v.k === 'seq') return { k: 'seq', kind: v.kind, items: picked.map((i) => v.items[i]) };
      if (v.k === 'str') return str(picked.map((i) => v.v[i]).join(''));
      if (v.k === 'array') return { k: 'array', shape: [picked.length, ...v.shape.slice(1)] };
      return UNKNOWN;
    }
    const i = this.eval(ix, scope);
    if (i.k !== 'num' || !Number.isInteger(i.v)) return v.k === 'array' ? { k: 'array', shape: v.shape.slice(1) } : UNKNOWN;
    if (v.k === 'seq' || v.k === 'str') {
      const len = v.k === 'seq' ? v.items.length : v.v.length;
      const k = i.v < 0 ? len + i.v : i.v;
      if (k < 0 || k >= len) return UNKNOWN;
      return v.k === 'seq' ? v.items[k] : str(v.v[k]);
    }
    if (v.k === 'array') return { k: 'array', shape: v.shape.slice(1) };
    return UNKNOWN;
  }

  private binary(op: string, l: Value, r: Value): Value {
    const lb = l.k === 'bool' ? num(l.v ? 1 : 0) : l;
    const rb = r.k === 'bool' ? num(r.v ? 1 : 0) : r;
    if (lb.k === 'num' && rb.k === 'num') {
      const a = lb.v;
      const b = rb.v;
      const f = lb.float || rb.float;
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
          return f ? UNKNOWN : num(a * Math.pow(2, b));
        case '>>':
          return f ? UNKNOWN : num(Math.floor(a / Math.pow(2, b)));
        default:
          return UNKNOWN;
      }
    }
    if (op === '+' && l.k === 'str' && r.k === 'str') return str(l.v + r.v);
    if (op === '+' && l.k === 'seq' && r.k === 'seq') return { k: 'seq', kind: l.kind, items: [...l.items, ...r.items] };
    if (op === '*' && l.k === 'seq' && rb.k === 'num' && Number.isInteger(rb.v) && rb.v * l.items.length < 100_000) {
      return { k: 'seq', kind: l.kind, items: Array.from({ length: Math.max(0, rb.v) }, () => l.items).flat() };
    }
    if (l.k === 'array' && (r.k === 'num' || r.k === 'array')) return l;
    if (r.k === 'array' && l.k === 'num') return r;
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

  private evalArgs(args: Arg[], scope: Scope, span: Span): CallArgs & { opaque: boolean } {
    const positional: ArgValue[] = [];
    const keyword = new Map<string, ArgValue>();
    let opaque = false;
    for (const a of args) {
      const value = this.eval(a.value, scope);
      if (a.star === '*') {
        if (value.k === 'seq') for (const item of value.items) positional.push({ value: item, span: a.value.span });
        else opaque = true;
      } else if (a.star === '**') {
        opaque = true;
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
    switch (callee.k) {
      case 'builtin':
        return this.builtin(callee.name, args);
      case 'func':
        return this.callFunction(callee.fn, args, e.span);
      case 'method':
        return this.method(callee.self, callee.name, args, e);
      case 'module':
        return this.kerasCall(callee.path, classifyKerasPath(callee.path), args, e);
      case 'layer':
        // Calling a layer on a tensor is the Functional API.
        return { k: 'tensor' };
      default:
        return UNKNOWN;
    }
  }

  private callFunction(fn: { def: Extract<Stmt, { t: 'def' }>; defaults: (Value | undefined)[] }, args: CallArgs & { opaque: boolean }, span: Span): Value {
    if (this.depth >= this.limits.maxDepth) {
      this.sink.warning('analysis-depth', span, `ConvLens stopped following calls here: more than ${this.limits.maxDepth} nested calls`);
      return UNKNOWN;
    }
    const local = new Scope(this.globals);
    const params = fn.def.params;
    let pi = 0;
    const rest: Value[] = [];
    for (const a of args.positional) {
      while (pi < params.length && params[pi].star === '**') pi++;
      if (pi < params.length && params[pi].star === '*') {
        rest.push(a.value);
        continue;
      }
      if (pi < params.length) local.vars.set(params[pi++].name, a.value);
    }
    params.forEach((p, i) => {
      if (p.star === '*') local.vars.set(p.name, tuple(rest));
      else if (p.star === '**') local.vars.set(p.name, UNKNOWN);
      else if (args.keyword.has(p.name)) local.vars.set(p.name, args.keyword.get(p.name)!.value);
      else if (!local.vars.has(p.name)) local.vars.set(p.name, fn.defaults[i] ?? (args.opaque ? UNKNOWN : { k: 'unknown', why: `argument '${p.name}' was not passed` }));
    });
    this.depth++;
    try {
      this.execBlock(fn.def.body, local);
    } catch (e) {
      if (e instanceof ReturnSignal) return e.value;
      throw e;
    } finally {
      this.depth--;
    }
    return NONE;
  }

  private builtin(name: string, args: CallArgs): Value {
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
        if (v?.k === 'range') return num(Math.max(0, Math.ceil((v.stop - v.start) / v.step)));
        if (v?.k === 'str') return num(v.v.length);
        if (v?.k === 'array' && v.shape[0] !== null && v.shape.length) return num(v.shape[0] as number);
        return UNKNOWN;
      }
      case 'int':
        return p[0]?.k === 'num' ? num(Math.trunc(p[0].v)) : p[0]?.k === 'str' && /^\s*-?\d+\s*$/.test(p[0].v) ? num(parseInt(p[0].v, 10)) : UNKNOWN;
      case 'float':
        return p[0]?.k === 'num' ? num(p[0].v, true) : UNKNOWN;
      case 'abs':
        return p[0]?.k === 'num' ? num(Math.abs(p[0].v), p[0].float) : UNKNOWN;
      case 'round':
        return p[0]?.k === 'num' && p.length === 1 ? num(roundHalfEven(p[0].v)) : UNKNOWN;
      case 'min':
      case 'max': {
        const items = p.length === 1 && p[0].k === 'seq' ? p[0].items : p;
        if (!items.length || !items.every((v) => v.k === 'num')) return UNKNOWN;
        const vals = items.map((v) => (v as { v: number }).v);
        return num(name === 'min' ? Math.min(...vals) : Math.max(...vals), items.some((v) => (v as { float: boolean }).float));
      }
      case 'sum': {
        const items = p[0]?.k === 'seq' ? p[0].items : undefined;
        if (!items || !items.every((v) => v.k === 'num')) return UNKNOWN;
        return num(items.reduce((s, v) => s + (v as { v: number }).v, 0));
      }
      case 'pow':
        return p.length === 2 ? this.binary('**', p[0], p[1]) : UNKNOWN;
      case 'bool': {
        const t = p.length ? truthy(p[0]) : false;
        return t === undefined ? UNKNOWN : { k: 'bool', v: t };
      }
      case 'str':
        return p[0]?.k === 'str' ? p[0] : p[0]?.k === 'num' ? str(String(p[0].v)) : UNKNOWN;
      case 'list':
      case 'tuple': {
        if (p.length === 0) return { k: 'seq', kind: name, items: [] };
        const it = this.iterate(p[0], args.span);
        if (!it) return UNKNOWN;
        return { k: 'seq', kind: name, items: [...it] };
      }
      case 'reversed':
      case 'sorted': {
        const it = p[0] ? this.iterate(p[0], args.span) : undefined;
        if (!it) return UNKNOWN;
        const items = [...it];
        if (name === 'reversed') return { k: 'seq', kind: 'list', items: items.reverse() };
        if (!items.every((v) => v.k === 'num')) return UNKNOWN;
        return { k: 'seq', kind: 'list', items: items.sort((x, y) => (x as { v: number }).v - (y as { v: number }).v) };
      }
      case 'enumerate': {
        const it = p[0] ? this.iterate(p[0], args.span) : undefined;
        if (!it) return UNKNOWN;
        const start = p[1]?.k === 'num' ? p[1].v : 0;
        return { k: 'seq', kind: 'list', items: [...it].map((v, i) => tuple([num(i + start), v])) };
      }
      case 'zip': {
        const its = p.map((v) => this.iterate(v, args.span));
        if (its.some((x) => !x)) return UNKNOWN;
        const lists = its.map((x) => [...x!]);
        const n = Math.min(...lists.map((l) => l.length));
        return { k: 'seq', kind: 'list', items: Array.from({ length: n }, (_, i) => tuple(lists.map((l) => l[i]))) };
      }
      case 'print':
        return NONE;
      default:
        return UNKNOWN;
    }
  }

  private method(self: Value, name: string, args: CallArgs, e: Extract<Expr, { t: 'call' }>): Value {
    if (self.k === 'model') return this.modelMethod(self.model, name, args, e);
    if (self.k === 'seq') {
      if (self.kind === 'list' && name === 'append' && args.positional.length === 1) {
        self.items.push(args.positional[0].value);
        return NONE;
      }
      if (self.kind === 'list' && name === 'extend' && args.positional[0]?.value.k === 'seq') {
        self.items.push(...args.positional[0].value.items);
        return NONE;
      }
      if (name === 'index' || name === 'count') return UNKNOWN;
      return UNKNOWN;
    }
    if (self.k === 'array') {
      if (name === 'reshape') {
        const dims = args.positional.length === 1 ? args.positional[0].value : tuple(args.positional.map((a) => a.value));
        return reshapeArray(self.shape, dims);
      }
      if (name === 'astype' || name === 'copy' || name === 'clip') return self;
      if (name === 'squeeze') return { k: 'array', shape: self.shape.filter((d) => d !== 1) };
      return UNKNOWN;
    }
    if (self.k === 'str') {
      if (name === 'lower') return str(self.v.toLowerCase());
      if (name === 'upper') return str(self.v.toUpperCase());
      return UNKNOWN;
    }
    return UNKNOWN;
  }

  private modelMethod(model: ModelBuild, name: string, args: CallArgs, e: Extract<Expr, { t: 'call' }>): Value {
    switch (name) {
      case 'add': {
        const a = args.positional[0] ?? args.keyword.get('layer');
        if (a) this.addToModel(model, a.value, e.span);
        return NONE;
      }
      case 'pop':
        model.layers.pop();
        return NONE;
      case 'build': {
        const a = args.positional[0] ?? args.keyword.get('input_shape');
        if (a && a.value.k === 'seq' && a.value.items.length >= 1) {
          const dims = a.value.items.slice(1).map((d) => (d.k === 'num' ? d.v : null));
          model.input = { shape: dims, span: a.span };
        }
        return NONE;
      }
      case 'compile': {
        const get = (kw: string, pos: number): ArgValue | undefined => args.keyword.get(kw) ?? args.positional[pos];
        const opt = get('optimizer', 0);
        const loss = get('loss', 1);
        const metrics = get('metrics', 3);
        let optimizer: OptimizerSpec | undefined;
        if (opt?.value.k === 'optimizer') optimizer = opt.value.spec;
        else if (opt?.value.k === 'str') optimizer = { name: opt.value.v, args: new Map(), span: opt.span };
        else if (!opt) optimizer = { name: 'rmsprop', args: new Map(), span: e.span };
        model.compile = {
          optimizer,
          loss: loss?.value.k === 'str' ? loss.value.v : loss?.value.k === 'module' ? loss.value.path.split('.').pop() : undefined,
          metrics: metrics?.value.k === 'seq' ? metrics.value.items.flatMap((m) => (m.k === 'str' ? [m.v] : [])) : metrics?.value.k === 'str' ? [metrics.value.v] : [],
          span: e.span,
        };
        return NONE;
      }
      case 'fit': {
        const get = (kw: string, pos: number): Value | undefined => (args.keyword.get(kw) ?? args.positional[pos])?.value;
        const n = (v: Value | undefined): number | undefined => (v?.k === 'num' ? v.v : undefined);
        const shuffle = get('shuffle', 9);
        model.fit = {
          batchSize: n(get('batch_size', 2)),
          epochs: n(get('epochs', 3)),
          validationSplit: n(get('validation_split', 6)),
          hasValidationData: get('validation_data', 7) !== undefined && get('validation_data', 7)?.k !== 'none',
          shuffle: shuffle?.k === 'bool' ? shuffle.v : undefined,
          span: e.span,
        };
        return { k: 'unknown', why: 'a training history' };
      }
      default:
        return UNKNOWN;
    }
  }

  private addToModel(model: ModelBuild, v: Value, span: Span): void {
    if (v.k === 'layer') {
      const def = findLayer(v.layer.className);
      if (def?.isInput) {
        const shape = inputShapeFromArgs(v.layer.args);
        if (shape) model.input = { shape, span: v.layer.span };
        return;
      }
      model.layers.push({ layer: v.layer, span });
      return;
    }
    if (v.k === 'tensor') {
      if (v.shape) model.input = { shape: v.shape, span };
      return;
    }
    // Something ConvLens cannot see into: keep a placeholder so later shapes become unknown
    // instead of being computed from the wrong input.
    const placeholder: LayerInstance = {
      id: this.nextLayerId++,
      className: v.k === 'model' ? 'Sequential' : '?',
      kerasName: v.k === 'model' ? v.model.kerasName : '?',
      args: { positional: [], keyword: new Map(), span },
      span,
      calleeSpan: span,
      opaque: v.k === 'model' ? 'a nested model' : v.k === 'unknown' && v.why ? v.why : `${showValue(v)}`,
    };
    model.layers.push({ layer: placeholder, span });
  }

  private uid(prefix: string): string {
    const n = this.uids.get(prefix) ?? 0;
    this.uids.set(prefix, n + 1);
    return n === 0 ? prefix : `${prefix}_${n}`;
  }

  private newModel(kind: ModelBuild['kind'], span: Span, name?: string): ModelBuild {
    const prefix = kind === 'sequential' ? 'sequential' : 'functional';
    return { id: this.nextModelId++, kind, kerasName: name ?? this.uid(prefix), span, layers: [] };
  }

  private kerasCall(path: string, callee: KerasCallee, args: CallArgs & { opaque: boolean }, e: Extract<Expr, { t: 'call' }>): Value {
    switch (callee.kind) {
      case 'layer': {
        const nameArg = args.keyword.get('name')?.value;
        const layer: LayerInstance = {
          id: this.nextLayerId++,
          className: callee.className,
          kerasName: nameArg?.k === 'str' ? nameArg.v : this.uid(kerasSnakeCase(callee.className)),
          args,
          span: e.span,
          calleeSpan: e.fn.span,
          opaque: args.opaque ? 'arguments passed with * or ** could not be read' : undefined,
        };
        return { k: 'layer', layer };
      }
      case 'sequential': {
        const nameArg = args.keyword.get('name')?.value;
        const model = this.newModel('sequential', e.span, nameArg?.k === 'str' ? nameArg.v : undefined);
        this.models.push(model);
        const list = args.keyword.get('layers') ?? args.positional[0];
        if (list) {
          if (list.value.k === 'seq') {
            const itemSpans = listItemSpans(e, list);
            list.value.items.forEach((item, i) => this.addToModel(model, item, itemSpans[i] ?? list.span));
          } else if (list.value.k !== 'none') {
            this.addToModel(model, list.value, list.span);
          }
        }
        return { k: 'model', model };
      }
      case 'functionalModel': {
        const nameArg = args.keyword.get('name')?.value;
        const hasIO = args.positional.length > 0 || args.keyword.has('inputs') || args.keyword.has('outputs');
        if (!hasIO) return UNKNOWN;
        const model = this.newModel('functional', e.span, nameArg?.k === 'str' ? nameArg.v : undefined);
        this.models.push(model);
        return { k: 'model', model };
      }
      case 'input': {
        const shapeArg = args.keyword.get('shape') ?? args.positional[0];
        const batchShape = args.keyword.get('batch_shape');
        let shape: Dim[] | undefined;
        if (shapeArg) shape = dimsOf(shapeArg.value);
        else if (batchShape) shape = dimsOf(batchShape.value)?.slice(1);
        return { k: 'tensor', shape };
      }
      case 'optimizer': {
        const a = new Map<string, Value>();
        for (const [k, v] of args.keyword) a.set(k, v.value);
        if (args.positional[0] && !a.has('learning_rate')) a.set('learning_rate', args.positional[0].value);
        return { k: 'optimizer', spec: { name: callee.name, args: a, span: e.span } };
      }
      case 'loadData': {
        if (!this.datasets.includes(callee.dataset)) this.datasets.push(callee.dataset);
        const ds = DATASET_SHAPES[callee.dataset];
        if (!ds) return UNKNOWN;
        const labels = (n: number): Value => ({ k: 'array', shape: ds.labels === 'flat' ? [n] : [n, 1] });
        return tuple([
          tuple([{ k: 'array', shape: ds.train }, labels(ds.train[0])]),
          tuple([{ k: 'array', shape: ds.test }, labels(ds.test[0])]),
        ]);
      }
      case 'toCategorical': {
        const y = args.positional[0]?.value;
        const n = (args.keyword.get('num_classes') ?? args.positional[1])?.value;
        if (y?.k === 'array' && n?.k === 'num') return { k: 'array', shape: [y.shape[0] ?? null, n.v] };
        return UNKNOWN;
      }
      case 'other': {
        if (path === 'numpy.expand_dims') {
          const a = args.positional[0]?.value;
          const ax = (args.keyword.get('axis') ?? args.positional[1])?.value;
          if (a?.k === 'array' && ax?.k === 'num') {
            const s = a.shape.slice();
            const i = ax.v < 0 ? s.length + 1 + ax.v : ax.v;
            s.splice(i, 0, 1);
            return { k: 'array', shape: s };
          }
        }
        if (path === 'numpy.reshape') {
          const a = args.positional[0]?.value;
          const dims = (args.keyword.get('newshape') ?? args.positional[1])?.value;
          if (a?.k === 'array' && dims) return reshapeArray(a.shape, dims);
        }
        return UNKNOWN;
      }
    }
  }
}

/** Python truthiness, or undefined when the value is not known. */
function truthy(v: Value): boolean | undefined {
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
    case 'layer':
    case 'model':
    case 'func':
    case 'module':
    case 'optimizer':
      return true;
    default:
      return undefined;
  }
}

function equal(a: Value, b: Value): boolean | undefined {
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
  if ((a.k === 'str') !== (b.k === 'str') && (a.k === 'num' || b.k === 'num')) return false;
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
      return a.k === 'none' || b.k === 'none' ? (a.k === 'unknown' || b.k === 'unknown' ? undefined : a.k === b.k) : equal(a, b);
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
  const norm = (x: number, dflt: number): number => {
    if (x < 0) x += len;
    return Math.max(step > 0 ? 0 : -1, Math.min(step > 0 ? len : len - 1, x));
  };
  const start = lo === undefined ? (step > 0 ? 0 : len - 1) : norm(lo, 0);
  const stop = hi === undefined ? (step > 0 ? len : -1) : norm(hi, len);
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function dimsOf(v: Value): Dim[] | undefined {
  if (v.k === 'num' && Number.isInteger(v.v)) return [v.v];
  if (v.k !== 'seq') return undefined;
  const out: Dim[] = [];
  for (const d of v.items) {
    if (d.k === 'num' && Number.isInteger(d.v)) out.push(d.v);
    else if (d.k === 'none') out.push(null);
    else return undefined;
  }
  return out;
}

function reshapeArray(shape: Dim[], dims: Value): Value {
  const target = dims.k === 'num' ? [dims] : dims.k === 'seq' ? dims.items : undefined;
  if (!target || !target.every((d) => d.k === 'num')) return { k: 'array', shape: [] };
  const t = target.map((d) => (d as { v: number }).v);
  const known = shape.every((d) => d !== null) ? shape.reduce<number>((p, d) => p * (d as number), 1) : null;
  const rest = t.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  return { k: 'array', shape: t.map((d) => (d === -1 ? (known !== null && rest > 0 ? known / rest : null) : d)) };
}

/** Reads `input_shape=` / `batch_input_shape=` / `shape=` / `input_dim=` of a layer call. */
export function inputShapeFromArgs(args: CallArgs): Dim[] | undefined {
  const shape = args.keyword.get('input_shape') ?? args.keyword.get('shape');
  if (shape) return dimsOf(shape.value);
  const batch = args.keyword.get('batch_input_shape') ?? args.keyword.get('batch_shape');
  if (batch) return dimsOf(batch.value)?.slice(1);
  const dim = args.keyword.get('input_dim');
  if (dim && dim.value.k === 'num') return [dim.value.v];
  return undefined;
}

/** Each list item's own range, so a layer given in `Sequential([...])` points at itself. */
function listItemSpans(e: Extract<Expr, { t: 'call' }>, list: ArgValue): Span[] {
  const arg = e.args.find((a) => a.value.span.start === list.span.start && a.value.span.end === list.span.end);
  if (arg && (arg.value.t === 'list' || arg.value.t === 'tuple')) return arg.value.items.map((i) => i.span);
  return [];
}
