import type { RawNode } from './syntaxTree';

/** A half-open range of UTF-16 offsets into the document. */
export interface Span {
  start: number;
  end: number;
}

/** The Python expressions the model interpreter understands; anything else becomes `unknown`. */
export type Expr =
  | { t: 'name'; id: string; span: Span }
  | { t: 'num'; value: number; isFloat: boolean; span: Span }
  | { t: 'str'; value: string | null; span: Span }
  | { t: 'const'; value: boolean | null; span: Span }
  | { t: 'tuple' | 'list'; items: Expr[]; span: Span }
  | { t: 'attr'; obj: Expr; name: string; nameSpan: Span; span: Span }
  | { t: 'call'; fn: Expr; args: Arg[]; argsSpan: Span; span: Span }
  | { t: 'bin'; op: string; left: Expr; right: Expr; span: Span }
  | { t: 'unary'; op: string; arg: Expr; span: Span }
  | { t: 'boolop'; op: 'and' | 'or'; left: Expr; right: Expr; span: Span }
  | { t: 'not'; arg: Expr; span: Span }
  | { t: 'compare'; ops: string[]; operands: Expr[]; span: Span }
  | { t: 'cond'; body: Expr; test: Expr; orelse: Expr; span: Span }
  | { t: 'subscript'; value: Expr; index: Expr[]; span: Span }
  | { t: 'slice'; lower?: Expr; upper?: Expr; step?: Expr; span: Span }
  | { t: 'dict'; entries: ({ key: Expr; value: Expr } | { splat: Expr })[]; span: Span }
  | { t: 'set'; items: Expr[]; span: Span }
  /** `*xs` inside a list, tuple or set display. */
  | { t: 'starred'; value: Expr; span: Span }
  | { t: 'lambda'; params: Param[]; body: Expr; span: Span }
  /** A comprehension; `value` is the dict comprehension's value (`elt` its key). */
  | { t: 'comp'; kind: 'list' | 'set' | 'gen' | 'dict'; elt: Expr; value?: Expr; clauses: CompClause[]; span: Span }
  /** An f-string: literal text and interpolated expressions (with an optional format spec). */
  | { t: 'fstr'; parts: (string | { expr: Expr; spec?: string })[]; span: Span }
  | { t: 'unknown'; kind: string; span: Span };

/** A `for … in …` or `if …` clause of a comprehension. */
export type CompClause = { t: 'for'; target: Expr; iter: Expr } | { t: 'if'; test: Expr };

/** A call argument: positional, keyword, `*args` or `**kwargs`. */
export interface Arg {
  name?: string;
  nameSpan?: Span;
  value: Expr;
  star?: '*' | '**';
  span: Span;
}

export interface Param {
  name: string;
  default?: Expr;
  star?: '*' | '**';
  span: Span;
}

export type Stmt =
  | { t: 'expr'; expr: Expr; span: Span }
  /** `annotated`: written with a type (`x: int = 1`, `x: int`), as a dataclass field is. */
  | { t: 'assign'; targets: Expr[]; value: Expr; annotated?: boolean; span: Span }
  | { t: 'augassign'; target: Expr; op: string; value: Expr; span: Span }
  | { t: 'import'; names: { module: string; alias?: string }[]; span: Span }
  | { t: 'from'; module: string; names: { name: string; alias?: string }[] | '*'; span: Span }
  | { t: 'def'; name: string; params: Param[]; body: Stmt[]; generator: boolean; decorators: Expr[]; span: Span }
  | { t: 'class'; name: string; bases: Expr[]; body: Stmt[]; decorators: Expr[]; span: Span }
  | { t: 'if'; branches: { test?: Expr; body: Stmt[] }[]; span: Span }
  | { t: 'for'; target: Expr; iter: Expr; body: Stmt[]; orelse: Stmt[]; span: Span }
  | { t: 'while'; test: Expr; body: Stmt[]; span: Span }
  | { t: 'return'; value?: Expr; span: Span }
  | { t: 'block'; body: Stmt[]; span: Span }
  | { t: 'raise'; exc?: Expr; span: Span }
  | { t: 'global'; names: string[]; span: Span }
  /** A `match` statement: not followed; its arms are kept to tell the user. */
  | { t: 'match'; arms: Stmt[][]; span: Span }
  /** `break` and `continue`: they end the innermost loop, or its current pass. */
  /** `del a, d[k], obj.attr`: each target, as written. */
  | { t: 'del'; targets: Expr[]; span: Span }
  | { t: 'break'; span: Span }
  | { t: 'continue'; span: Span }
  | { t: 'pass'; span: Span };

/** A place where tree-sitter had to recover from a syntax error, or that is nested too deeply to read. */
export interface SyntaxProblem {
  span: Span;
  /** The token error recovery inserted, when it inserted one (e.g. `)`). */
  missing?: string;
  /** The code here is nested more than {@link MAX_NESTING} levels deep and was skipped. */
  tooDeep?: boolean;
}

/**
 * How deeply expressions and statements may nest before the lowering stops descending (CPython
 * itself refuses 200 nested brackets). Keeps every recursive walk over the AST, here and in the
 * interpreter, far from the stack's end whatever the file holds.
 */
export const MAX_NESTING = 500;

export interface Module {
  body: Stmt[];
  syntaxProblems: SyntaxProblem[];
}

const span = (n: RawNode): Span => ({ start: n.start, end: n.end });

/** Lowers the copied tree-sitter tree to the interpreter's AST. Never throws on odd trees. */
export function lowerModule(root: RawNode, text: string): Module {
  const problems: SyntaxProblem[] = [];
  const lower = new Lowering(text, problems);
  if (root.type === 'ERROR') {
    // Error recovery gave up on the module as a whole (many unclosed brackets at the end, say): the
    // statements it salvaged are children, the tokens it could not place are loose beside them.
    const loose = root.children.find((c) => !/_statement$|_definition$|^comment$/.test(c.type));
    problems.push({ span: span(loose ?? root) });
  }
  const body = lower.block(root);
  return { body, syntaxProblems: problems };
}

class Lowering {
  private depth = 0;
  private reportedDeep = false;

  constructor(
    private readonly text: string,
    private readonly problems: SyntaxProblem[],
  ) {}

  private src(n: RawNode): string {
    return this.text.slice(n.start, n.end);
  }

  private child(n: RawNode, field: string): RawNode | undefined {
    for (const c of n.children) if (c.field === field) return c;
    return undefined;
  }

  private named(n: RawNode): RawNode[] {
    return n.children.filter((c) => c.type !== 'comment' && !c.missing && c.field !== 'operator' && c.field !== 'operators');
  }

  private noteProblems(n: RawNode): void {
    if (n.type === 'ERROR') {
      this.problems.push({ span: span(n) });
      return;
    }
    if (n.missing) {
      this.problems.push({ span: span(n), missing: n.type });
      return;
    }
  }

  /** Statements of a module or block; an ERROR node's statements are salvaged where possible. */
  block(n: RawNode | undefined): Stmt[] {
    const out: Stmt[] = [];
    if (!n) return out;
    for (const c of n.children) {
      if (c.type === 'comment') continue;
      if (c.type === 'ERROR') {
        this.problems.push({ span: span(c) });
        continue;
      }
      if (c.missing) {
        this.problems.push({ span: span(c), missing: c.type });
        continue;
      }
      const s = this.stmt(c);
      if (s) out.push(s);
    }
    return out;
  }

  private stmt(n: RawNode): Stmt | undefined {
    this.scanMissing(n);
    if (this.depth >= MAX_NESTING) return this.tooDeep(n);
    this.depth++;
    try {
      return this.stmtInner(n);
    } finally {
      this.depth--;
    }
  }

  /** Records (once) that the lowering stopped descending here, and stands in a `pass`. */
  private tooDeep(n: RawNode): { t: 'pass'; span: Span } {
    if (!this.reportedDeep) this.problems.push({ span: span(n), tooDeep: true });
    this.reportedDeep = true;
    return { t: 'pass', span: span(n) };
  }

  private stmtInner(n: RawNode): Stmt | undefined {
    switch (n.type) {
      case 'expression_statement': {
        const parts = this.named(n);
        if (parts.length === 0) return undefined;
        const first = parts[0];
        if (first.type === 'assignment') return this.assignment(first, span(n));
        if (first.type === 'augmented_assignment') {
          const op = n.children[0].children.find((c) => c.field === 'operator');
          return {
            t: 'augassign',
            target: this.expr(this.child(first, 'left')),
            op: op ? this.src(op).replace('=', '') : '+',
            value: this.expr(this.child(first, 'right')),
            span: span(n),
          };
        }
        if (parts.length === 1) return { t: 'expr', expr: this.expr(first), span: span(n) };
        return { t: 'expr', expr: { t: 'tuple', items: parts.map((p) => this.expr(p)), span: span(n) }, span: span(n) };
      }
      case 'import_statement': {
        const names: { module: string; alias?: string }[] = [];
        for (const c of n.children) {
          if (c.type === 'dotted_name') names.push({ module: this.src(c) });
          else if (c.type === 'aliased_import') {
            const name = this.child(c, 'name');
            const alias = this.child(c, 'alias');
            if (name) names.push({ module: this.src(name), alias: alias ? this.src(alias) : undefined });
          }
        }
        return { t: 'import', names, span: span(n) };
      }
      case 'import_from_statement': {
        const mod = this.child(n, 'module_name');
        const module = mod ? this.src(mod) : '';
        if (n.children.some((c) => c.type === 'wildcard_import')) return { t: 'from', module, names: '*', span: span(n) };
        const names: { name: string; alias?: string }[] = [];
        for (const c of n.children) {
          if (c === mod) continue;
          if (c.type === 'dotted_name') names.push({ name: this.src(c) });
          else if (c.type === 'aliased_import') {
            const name = this.child(c, 'name');
            const alias = this.child(c, 'alias');
            if (name) names.push({ name: this.src(name), alias: alias ? this.src(alias) : undefined });
          }
        }
        return { t: 'from', module, names, span: span(n) };
      }
      case 'function_definition': {
        const name = this.child(n, 'name');
        const params = this.params(this.child(n, 'parameters'));
        const body = this.child(n, 'body');
        return { t: 'def', name: name ? this.src(name) : '', params, body: this.block(body), generator: body ? yields(body) : false, decorators: [], span: span(n) };
      }
      case 'decorated_definition': {
        const def = this.child(n, 'definition');
        const lowered = def ? this.stmt(def) : undefined;
        if (lowered?.t === 'def' || lowered?.t === 'class') lowered.decorators = n.children.filter((c) => c.type === 'decorator').map((c) => this.expr(this.named(c)[0]));
        return lowered;
      }
      case 'class_definition': {
        const name = this.child(n, 'name');
        const sup = this.child(n, 'superclasses');
        const bases = sup ? this.named(sup).map((b) => this.expr(b)) : [];
        return { t: 'class', name: name ? this.src(name) : '', bases, body: this.block(this.child(n, 'body')), decorators: [], span: span(n) };
      }
      case 'if_statement': {
        const branches: { test?: Expr; body: Stmt[] }[] = [
          { test: this.expr(this.child(n, 'condition')), body: this.block(this.child(n, 'consequence')) },
        ];
        for (const c of n.children) {
          if (c.field !== 'alternative') continue;
          if (c.type === 'elif_clause') {
            branches.push({ test: this.expr(this.child(c, 'condition')), body: this.block(this.child(c, 'consequence')) });
          } else if (c.type === 'else_clause') {
            branches.push({ body: this.block(this.child(c, 'body')) });
          }
        }
        return { t: 'if', branches, span: span(n) };
      }
      case 'for_statement': {
        const alt = this.child(n, 'alternative');
        return {
          t: 'for',
          target: this.expr(this.child(n, 'left')),
          iter: this.expr(this.child(n, 'right')),
          body: this.block(this.child(n, 'body')),
          orelse: alt ? this.block(this.child(alt, 'body')) : [],
          span: span(n),
        };
      }
      case 'while_statement':
        return { t: 'while', test: this.expr(this.child(n, 'condition')), body: this.block(this.child(n, 'body')), span: span(n) };
      case 'return_statement': {
        const parts = this.named(n);
        return { t: 'return', value: parts.length ? this.expr(parts[0]) : undefined, span: span(n) };
      }
      case 'break_statement':
        return { t: 'break', span: span(n) };
      case 'continue_statement':
        return { t: 'continue', span: span(n) };
      case 'with_statement':
        return { t: 'block', body: this.block(this.child(n, 'body')), span: span(n) };
      case 'try_statement': {
        // The try body is what normally runs; handlers and finally are skipped.
        return { t: 'block', body: this.block(this.child(n, 'body')), span: span(n) };
      }
      case 'block':
        return { t: 'block', body: this.block(n), span: span(n) };
      case 'raise_statement': {
        const parts = this.named(n);
        return { t: 'raise', exc: parts.length ? this.expr(parts[0]) : undefined, span: span(n) };
      }
      case 'delete_statement': {
        // `del a, b` is one expression_list child; `del a` one expression.
        const parts = this.named(n);
        const targets = parts.length === 1 && parts[0].type === 'expression_list' ? this.named(parts[0]) : parts;
        return { t: 'del', targets: targets.map((c) => this.expr(c)), span: span(n) };
      }
      case 'global_statement':
      case 'nonlocal_statement':
        return { t: 'global', names: n.children.filter((c) => c.type === 'identifier').map((c) => this.src(c)), span: span(n) };
      case 'match_statement': {
        const arms: Stmt[][] = [];
        const body = this.child(n, 'body');
        for (const c of body?.children ?? []) if (c.type === 'case_clause') arms.push(this.block(this.child(c, 'consequence')));
        return { t: 'match', arms, span: span(n) };
      }
      default:
        return { t: 'pass', span: span(n) };
    }
  }

  /** Records MISSING tokens and ERROR nodes nested inside a statement (iteratively: nesting may be deep). */
  private scanMissing(n: RawNode): void {
    const stack: RawNode[] = [n];
    while (stack.length) {
      const node = stack.pop()!;
      for (let i = node.children.length - 1; i >= 0; i--) {
        const c = node.children[i];
        if (c.type === 'ERROR' || c.missing) this.noteProblems(c);
        else if (c.children.length && c.type !== 'block') stack.push(c);
      }
    }
  }

  private assignment(n: RawNode, s: Span): Stmt {
    const targets: Expr[] = [this.expr(this.child(n, 'left'))];
    let right = this.child(n, 'right');
    // a = b = value nests as assignment(left=a, right=assignment(left=b, right=value)).
    while (right && right.type === 'assignment') {
      targets.push(this.expr(this.child(right, 'left')));
      right = this.child(right, 'right');
    }
    const value: Expr = right ? this.expr(right) : { t: 'unknown', kind: 'annotation', span: s };
    return this.child(n, 'type') ? { t: 'assign', targets, value, annotated: true, span: s } : { t: 'assign', targets, value, span: s };
  }

  private params(n: RawNode | undefined): Param[] {
    const out: Param[] = [];
    if (!n) return out;
    for (const c of n.children) {
      switch (c.type) {
        case 'identifier':
          out.push({ name: this.src(c), span: span(c) });
          break;
        case 'typed_parameter': {
          const id = c.children.find((x) => x.type === 'identifier');
          if (id) out.push({ name: this.src(id), span: span(c) });
          else {
            const splat = c.children.find((x) => x.type === 'list_splat_pattern' || x.type === 'dictionary_splat_pattern');
            if (splat) out.push(this.splatParam(splat));
          }
          break;
        }
        case 'default_parameter':
        case 'typed_default_parameter': {
          const name = this.child(c, 'name');
          const value = this.child(c, 'value');
          if (name) out.push({ name: this.src(name), default: value ? this.expr(value) : undefined, span: span(c) });
          break;
        }
        case 'list_splat_pattern':
        case 'dictionary_splat_pattern':
          out.push(this.splatParam(c));
          break;
        default:
          break;
      }
    }
    return out;
  }

  private splatParam(c: RawNode): Param {
    const id = c.children.find((x) => x.type === 'identifier');
    return { name: id ? this.src(id) : '', star: c.type === 'list_splat_pattern' ? '*' : '**', span: span(c) };
  }

  expr(n: RawNode | undefined): Expr {
    if (!n) return { t: 'unknown', kind: 'missing', span: { start: 0, end: 0 } };
    if (n.missing) return { t: 'unknown', kind: 'missing', span: span(n) };
    if (this.depth >= MAX_NESTING) {
      this.tooDeep(n);
      return { t: 'unknown', kind: 'too-deep', span: span(n) };
    }
    this.depth++;
    try {
      return this.exprInner(n);
    } finally {
      this.depth--;
    }
  }

  private exprInner(n: RawNode): Expr {
    const s = span(n);
    switch (n.type) {
      case 'identifier':
        return { t: 'name', id: this.src(n), span: s };
      case 'integer':
        return { t: 'num', value: parseIntLiteral(this.src(n)), isFloat: false, span: s };
      case 'float': {
        const raw = this.src(n).replace(/_/g, '');
        if (/[jJ]$/.test(raw)) return { t: 'unknown', kind: 'complex', span: s };
        return { t: 'num', value: Number(raw), isFloat: true, span: s };
      }
      case 'string': {
        const raw = this.src(n);
        if (/^[rRbBuU]?[fF][rRbBuU]?['"]/.test(raw)) return lowerFString(raw, n.start) ?? { t: 'str', value: null, span: s };
        return { t: 'str', value: parseStringLiteral(raw), span: s };
      }
      case 'concatenated_string': {
        const parts = n.children.filter((c) => c.type === 'string').map((c) => parseStringLiteral(this.src(c)));
        return { t: 'str', value: parts.some((p) => p === null) ? null : parts.join(''), span: s };
      }
      case 'ellipsis':
        return { t: 'name', id: '...', span: s };
      case 'true':
        return { t: 'const', value: true, span: s };
      case 'false':
        return { t: 'const', value: false, span: s };
      case 'none':
        return { t: 'const', value: null, span: s };
      case 'parenthesized_expression': {
        const inner = this.named(n);
        return inner.length === 1 ? this.expr(inner[0]) : { t: 'unknown', kind: 'parenthesized', span: s };
      }
      case 'tuple':
      case 'pattern_list':
      case 'tuple_pattern':
      case 'expression_list':
        return { t: 'tuple', items: this.named(n).map((c) => this.expr(c)), span: s };
      case 'list':
      case 'list_pattern':
        return { t: 'list', items: this.named(n).map((c) => this.expr(c)), span: s };
      case 'set':
        return { t: 'set', items: this.named(n).map((c) => this.expr(c)), span: s };
      case 'list_splat':
      case 'list_splat_pattern': {
        const inner = this.named(n)[0];
        return { t: 'starred', value: this.expr(inner), span: s };
      }
      case 'lambda':
        return { t: 'lambda', params: this.params(this.child(n, 'parameters')), body: this.expr(this.child(n, 'body')), span: s };
      case 'list_comprehension':
      case 'set_comprehension':
      case 'generator_expression':
      case 'dictionary_comprehension': {
        const kind = n.type === 'list_comprehension' ? 'list' : n.type === 'set_comprehension' ? 'set' : n.type === 'generator_expression' ? 'gen' : 'dict';
        const body = this.child(n, 'body');
        const clauses: CompClause[] = [];
        for (const c of n.children) {
          if (c.type === 'for_in_clause') clauses.push({ t: 'for', target: this.expr(this.child(c, 'left')), iter: this.expr(this.child(c, 'right')) });
          else if (c.type === 'if_clause') clauses.push({ t: 'if', test: this.expr(this.named(c)[0]) });
        }
        if (kind === 'dict') {
          return { t: 'comp', kind, elt: this.expr(body ? this.child(body, 'key') : undefined), value: this.expr(body ? this.child(body, 'value') : undefined), clauses, span: s };
        }
        return { t: 'comp', kind, elt: this.expr(body), clauses, span: s };
      }
      case 'attribute': {
        const obj = this.child(n, 'object');
        const attr = this.child(n, 'attribute');
        if (!attr) return { t: 'unknown', kind: 'attribute', span: s };
        return { t: 'attr', obj: this.expr(obj), name: this.src(attr), nameSpan: span(attr), span: s };
      }
      case 'call': {
        const fn = this.child(n, 'function');
        const argList = this.child(n, 'arguments');
        const args: Arg[] = [];
        // `sum(x for x in xs)`: a generator expression is the whole argument list.
        if (argList && argList.type === 'generator_expression') args.push({ value: this.expr(argList), span: span(argList) });
        if (argList && argList.type === 'argument_list') {
          for (const a of argList.children) {
            if (a.type === 'comment') continue;
            // Already recorded by scanMissing for the enclosing statement.
            if (a.missing || a.type === 'ERROR') continue;
            if (a.type === 'keyword_argument') {
              const name = this.child(a, 'name');
              const value = this.child(a, 'value');
              args.push({
                name: name ? this.src(name) : '',
                nameSpan: name ? span(name) : undefined,
                value: this.expr(value),
                span: span(a),
              });
            } else if (a.type === 'list_splat' || a.type === 'dictionary_splat') {
              const inner = this.named(a)[0];
              args.push({ value: this.expr(inner), star: a.type === 'list_splat' ? '*' : '**', span: span(a) });
            } else {
              args.push({ value: this.expr(a), span: span(a) });
            }
          }
        }
        return { t: 'call', fn: this.expr(fn), args, argsSpan: argList ? span(argList) : s, span: s };
      }
      case 'binary_operator': {
        const op = this.child(n, 'operator');
        return {
          t: 'bin',
          op: op ? this.src(op) : '?',
          left: this.expr(this.child(n, 'left')),
          right: this.expr(this.child(n, 'right')),
          span: s,
        };
      }
      case 'unary_operator': {
        const op = this.child(n, 'operator');
        return { t: 'unary', op: op ? this.src(op) : '-', arg: this.expr(this.child(n, 'argument')), span: s };
      }
      case 'boolean_operator': {
        const op = this.child(n, 'operator');
        return {
          t: 'boolop',
          op: op && this.src(op) === 'or' ? 'or' : 'and',
          left: this.expr(this.child(n, 'left')),
          right: this.expr(this.child(n, 'right')),
          span: s,
        };
      }
      case 'not_operator':
        return { t: 'not', arg: this.expr(this.child(n, 'argument')), span: s };
      case 'comparison_operator': {
        const ops: string[] = [];
        const operands: Expr[] = [];
        for (const c of n.children) {
          if (c.field === 'operators') ops.push(this.src(c).replace(/\s+/g, ' '));
          else if (c.type !== 'comment') operands.push(this.expr(c));
        }
        return { t: 'compare', ops, operands, span: s };
      }
      case 'conditional_expression': {
        const parts = this.named(n);
        if (parts.length !== 3) return { t: 'unknown', kind: 'conditional', span: s };
        return { t: 'cond', body: this.expr(parts[0]), test: this.expr(parts[1]), orelse: this.expr(parts[2]), span: s };
      }
      case 'subscript': {
        const value = this.child(n, 'value');
        const index = n.children.filter((c) => c.field === 'subscript').map((c) => this.expr(c));
        return { t: 'subscript', value: this.expr(value), index, span: s };
      }
      case 'slice': {
        // Children are up to three optional expressions separated by ':' tokens, which are not
        // copied; recover their positions from the source text between the children.
        const parts: (Expr | undefined)[] = [undefined, undefined, undefined];
        let slot = 0;
        let pos = n.start;
        for (const c of this.named(n)) {
          slot += countColons(this.text, pos, c.start);
          if (slot < 3) parts[slot] = this.expr(c);
          pos = c.end;
        }
        return { t: 'slice', lower: parts[0], upper: parts[1], step: parts[2], span: s };
      }
      case 'dictionary': {
        const entries: ({ key: Expr; value: Expr } | { splat: Expr })[] = [];
        for (const c of n.children) {
          if (c.type === 'pair') entries.push({ key: this.expr(this.child(c, 'key')), value: this.expr(this.child(c, 'value')) });
          else if (c.type === 'dictionary_splat') entries.push({ splat: this.expr(this.named(c)[0]) });
        }
        return { t: 'dict', entries, span: s };
      }
      case 'keyword_argument':
        return this.expr(this.child(n, 'value'));
      default:
        return { t: 'unknown', kind: n.type, span: s };
    }
  }
}

function countColons(text: string, from: number, to: number): number {
  let k = 0;
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === 58) k++;
  return k;
}

/** Python integer literal (decimal, hex, octal, binary, with underscores) → number. */
export function parseIntLiteral(raw: string): number {
  const s = raw.replace(/_/g, '').replace(/[lL]$/, '');
  if (/^0[xX]/.test(s)) return parseInt(s.slice(2), 16);
  if (/^0[oO]/.test(s)) return parseInt(s.slice(2), 8);
  if (/^0[bB]/.test(s)) return parseInt(s.slice(2), 2);
  return Number(s);
}

/**
 * Python string literal → its value; null for f-strings (their value is not static).
 * Handles prefixes (r, b, u), single/triple quotes and the common escapes.
 */
export function parseStringLiteral(raw: string): string | null {
  const m = /^([rRbBuUfF]{0,2})('''|"""|'|")/.exec(raw);
  if (!m) return null;
  const prefix = m[1].toLowerCase();
  if (prefix.includes('f')) return null;
  const q = m[2];
  let body = raw.slice(m[0].length);
  if (body.endsWith(q)) body = body.slice(0, body.length - q.length);
  if (prefix.includes('r')) return body;
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[\s\S])/g, (_, e: string) => {
    switch (e[0]) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case '0':
        return '\0';
      case 'x':
      case 'u':
        return e.length > 1 ? String.fromCharCode(parseInt(e.slice(1), 16)) : e;
      case '\n':
        return '';
      default:
        return e;
    }
  });
}

/** Whether a function body yields (a generator), not counting nested functions and classes. */
function yields(body: RawNode): boolean {
  const stack: RawNode[] = [body];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.type === 'yield') return true;
    for (const c of n.children) {
      if (c.type !== 'function_definition' && c.type !== 'lambda' && c.type !== 'class_definition') stack.push(c);
    }
  }
  return false;
}

/**
 * An f-string's literal parts and interpolations. The interpolated expressions are read by a
 * small parser of the expressions layer names are built from (`f"block{i + 1}_{name}"`): names,
 * attributes, numbers, strings, indexing, calls and arithmetic. Undefined when an expression
 * is beyond it (the value is then unknown).
 */
export function lowerFString(raw: string, offset: number): Expr | undefined {
  const m = /^([rRbBuUfF]{1,2})('''|"""|'|")/.exec(raw);
  if (!m) return undefined;
  const q = m[2];
  const bodyStart = m[0].length;
  const bodyEnd = raw.endsWith(q) && raw.length - q.length >= bodyStart ? raw.length - q.length : raw.length;
  const raw_ = m[1].toLowerCase().includes('r');
  const parts: (string | { expr: Expr; spec?: string })[] = [];
  let lit = '';
  let i = bodyStart;
  while (i < bodyEnd) {
    const c = raw[i];
    if (c === '{' && raw[i + 1] === '{') {
      lit += '{';
      i += 2;
      continue;
    }
    if (c === '}' && raw[i + 1] === '}') {
      lit += '}';
      i += 2;
      continue;
    }
    if (c === '{') {
      // Find the end of the interpolation: the '}' at depth 0, outside strings.
      let depth = 0;
      let j = i + 1;
      let quote = '';
      let split = -1;
      for (; j < bodyEnd; j++) {
        const d = raw[j];
        if (quote) {
          if (d === quote) quote = '';
          continue;
        }
        if (d === '"' || d === "'") quote = d;
        else if (d === '(' || d === '[' || d === '{') depth++;
        else if (d === ')' || d === ']') depth--;
        else if (d === '}') {
          if (depth === 0) break;
          depth--;
        } else if ((d === ':' || d === '!') && depth === 0 && split < 0) split = j;
      }
      if (j >= bodyEnd) return undefined;
      const exprEnd = split >= 0 ? split : j;
      let spec: string | undefined;
      if (split >= 0) {
        const tail = raw.slice(split, j);
        const colon = tail.indexOf(':');
        spec = colon >= 0 ? tail.slice(colon + 1) : undefined;
      }
      const exprText = raw.slice(i + 1, exprEnd).replace(/=\s*$/, '');
      const expr = new MiniParser(exprText, offset + i + 1).parse();
      if (!expr) return undefined;
      if (lit) parts.push(lit);
      lit = '';
      parts.push({ expr, spec });
      i = j + 1;
      continue;
    }
    if (c === '\\' && !raw_) {
      const decoded = parseStringLiteral(`"${raw.slice(i, i + 2)}"`);
      lit += decoded ?? raw[i + 1];
      i += 2;
      continue;
    }
    lit += c;
    i++;
  }
  if (lit) parts.push(lit);
  return { t: 'fstr', parts, span: { start: offset, end: offset + raw.length } };
}

/** A tiny Pratt parser for f-string interpolations; undefined for anything it does not know. */
class MiniParser {
  private i = 0;
  private static readonly PREC: Record<string, number> = { '+': 1, '-': 1, '*': 2, '/': 2, '//': 2, '%': 2, '**': 3 };

  constructor(
    private readonly s: string,
    private readonly base: number,
  ) {}

  parse(): Expr | undefined {
    const e = this.comparison();
    this.ws();
    return e && this.i === this.s.length ? e : undefined;
  }

  /** `a == b`, `a < b`: one comparison, the loosest binding an interpolation needs. */
  private comparison(): Expr | undefined {
    const start = this.i;
    const left = this.binary(0);
    if (!left) return undefined;
    this.ws();
    const m = /^(==|!=|<=|>=|<|>)/.exec(this.s.slice(this.i));
    if (!m) return left;
    this.i += m[0].length;
    const right = this.binary(0);
    return right && { t: 'compare', ops: [m[0]], operands: [left, right], span: this.span(start) };
  }

  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  private span(start: number): Span {
    return { start: this.base + start, end: this.base + this.i };
  }

  private op(): string | undefined {
    this.ws();
    const two = this.s.slice(this.i, this.i + 2);
    if (two === '//' || two === '**') return two;
    const one = this.s[this.i];
    return one !== undefined && '+-*/%'.includes(one) ? one : undefined;
  }

  private binary(min: number): Expr | undefined {
    const start = this.i;
    let left = this.unary();
    for (;;) {
      if (!left) return undefined;
      const op = this.op();
      if (!op || MiniParser.PREC[op] < min) return left;
      this.i += op.length;
      const right = this.binary(op === '**' ? MiniParser.PREC[op] : MiniParser.PREC[op] + 1);
      if (!right) return undefined;
      left = { t: 'bin', op, left, right, span: this.span(start) };
    }
  }

  private unary(): Expr | undefined {
    this.ws();
    const start = this.i;
    if (this.s[this.i] === '-' || this.s[this.i] === '+') {
      const op = this.s[this.i++];
      const arg = this.unary();
      return arg && { t: 'unary', op, arg, span: this.span(start) };
    }
    return this.postfix();
  }

  private postfix(): Expr | undefined {
    const start = this.i;
    let e = this.atom();
    for (;;) {
      if (!e) return undefined;
      this.ws();
      const c = this.s[this.i];
      if (c === '.') {
        this.i++;
        const m = /^[A-Za-z_]\w*/.exec(this.s.slice(this.i));
        if (!m) return undefined;
        const nameStart = this.i;
        this.i += m[0].length;
        e = { t: 'attr', obj: e, name: m[0], nameSpan: this.span(nameStart), span: this.span(start) };
      } else if (c === '[') {
        this.i++;
        const index = this.binary(0);
        this.ws();
        if (!index || this.s[this.i] !== ']') return undefined;
        this.i++;
        e = { t: 'subscript', value: e, index: [index], span: this.span(start) };
      } else if (c === '(') {
        const argsStart = this.i;
        this.i++;
        const args: Arg[] = [];
        this.ws();
        while (this.s[this.i] !== ')') {
          const aStart = this.i;
          const v = this.binary(0);
          if (!v) return undefined;
          args.push({ value: v, span: this.span(aStart) });
          this.ws();
          if (this.s[this.i] === ',') this.i++;
          else if (this.s[this.i] !== ')') return undefined;
          this.ws();
        }
        this.i++;
        e = { t: 'call', fn: e, args, argsSpan: this.span(argsStart), span: this.span(start) };
      } else return e;
    }
  }

  private atom(): Expr | undefined {
    this.ws();
    const start = this.i;
    const rest = this.s.slice(this.i);
    let m = /^[A-Za-z_]\w*/.exec(rest);
    if (m) {
      this.i += m[0].length;
      if (m[0] === 'True' || m[0] === 'False') return { t: 'const', value: m[0] === 'True', span: this.span(start) };
      if (m[0] === 'None') return { t: 'const', value: null, span: this.span(start) };
      return { t: 'name', id: m[0], span: this.span(start) };
    }
    m = /^\d[\d_]*(\.\d*)?([eE][-+]?\d+)?/.exec(rest);
    if (m) {
      this.i += m[0].length;
      const isFloat = /[.eE]/.test(m[0]);
      return { t: 'num', value: isFloat ? Number(m[0].replace(/_/g, '')) : parseIntLiteral(m[0]), isFloat, span: this.span(start) };
    }
    m = /^('[^'\\]*'|"[^"\\]*")/.exec(rest);
    if (m) {
      this.i += m[0].length;
      return { t: 'str', value: m[0].slice(1, -1), span: this.span(start) };
    }
    if (rest[0] === '(') {
      this.i++;
      const e = this.binary(0);
      this.ws();
      if (!e || this.s[this.i] !== ')') return undefined;
      this.i++;
      return e;
    }
    return undefined;
  }
}
