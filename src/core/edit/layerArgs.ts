/**
 * Editing a layer's arguments in the source, as the graph view's property sheet does: which text
 * to replace for an argument written positionally or as a keyword, where to add one that is not
 * written, how to remove one, and how to write a value the user typed as Python the layer reads.
 * Pure text work on the layer's constructor call (`layers.Conv2D(32, 3, padding="same")`); the
 * host turns the result into a workspace edit (one undo step).
 */
import { ACTIVATIONS, type ArgSpec } from '../layers/args';
import type { LayerType } from '../layers/define';
import { NONE, num, str, tuple, type Value } from '../parse/values';
import type { Span } from '../parse/pythonAst';

/** One argument of a call as written. */
export interface WrittenArg {
  /** The whole argument (`padding="same"`, `32`). */
  start: number;
  end: number;
  /** For `name=value`: the name. */
  keyword?: string;
  /** The value's text range. */
  valueStart: number;
  valueEnd: number;
  /** `*args` or `**kwargs`. */
  star?: '*' | '**';
}

/** A call's argument list: where its parentheses are and every argument in it. */
export interface WrittenCall {
  open: number;
  close: number;
  args: WrittenArg[];
}

/** A replacement in the program text. */
export interface TextReplacement {
  start: number;
  end: number;
  newText: string;
}

/**
 * Reads the argument list of the call `ctor` spans (`layers.Conv2D(32, 3, …)`): the first
 * parenthesis after the callee, to its match; strings, comments and brackets are skipped.
 */
export function readCall(text: string, ctor: Span): WrittenCall | { error: string } {
  let i = ctor.start;
  while (i < ctor.end && /[\w.\s]/.test(text[i])) i++;
  if (text[i] !== '(') return { error: 'the layer is not created by a call ConvLens can edit' };
  const open = i;
  const args: WrittenArg[] = [];
  let depth = 0;
  // The current argument: where its first and past its last code character are (comments and
  // whitespace around it are not part of it).
  let argStart = -1;
  let argEnd = -1;
  const finish = () => {
    if (argStart < 0) return;
    const s = argStart;
    const e = argEnd;
    const a: WrittenArg = { start: s, end: e, valueStart: s, valueEnd: e };
    const star = /^\*\*?/.exec(text.slice(s, s + 2));
    const kw = /^([A-Za-z_]\w*)\s*=(?!=)\s*/.exec(text.slice(s, e));
    if (star) a.star = star[0] as '*' | '**';
    else if (kw) {
      a.keyword = kw[1];
      a.valueStart = s + kw[0].length;
    }
    args.push(a);
    argStart = argEnd = -1;
  };
  const code = (from: number, to: number) => {
    if (argStart < 0) argStart = from;
    argEnd = to;
  };
  for (i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '#') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl - 1;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = skipString(text, i);
      if (depth >= 1) code(i, end);
      i = end - 1;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') {
      depth++;
      if (depth > 1) code(i, i + 1);
      continue;
    }
    if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) {
        finish();
        return { open, close: i, args };
      }
      code(i, i + 1);
      continue;
    }
    if (depth === 1 && c === ',') {
      finish();
      continue;
    }
    if (!/\s/.test(c)) code(i, i + 1);
  }
  return { error: 'the call has no closing parenthesis' };
}

/** Index just past the string literal starting at `i` (prefixes are part of the preceding word). */
function skipString(text: string, i: number): number {
  const q = text[i];
  const triple = text.startsWith(q.repeat(3), i);
  const close = triple ? q.repeat(3) : q;
  let j = i + close.length;
  while (j < text.length) {
    if (text[j] === '\\') {
      j += 2;
      continue;
    }
    if (text.startsWith(close, j)) return j + close.length;
    if (!triple && text[j] === '\n') return j;
    j++;
  }
  return j;
}

/**
 * Sets (or, with `code` null, removes) the argument `name` of the call `ctor` spans. `positional`
 * is the layer's signature order (the registry's argument order), so `Conv2D(32, 3)` has its
 * kernel_size at position 1. A keyword is replaced in place, a positional argument likewise, a
 * missing one is added after the last argument (on its own line when the call writes one
 * argument per line).
 */
export function setArgument(text: string, ctor: Span, positional: readonly string[], name: string, code: string | null): TextReplacement | { error: string } {
  const call = readCall(text, ctor);
  if ('error' in call) return call;
  const at = findArgument(call, positional, name);
  if (at && 'error' in at) return at;
  if (at) {
    if (code !== null) return { start: at.arg.valueStart, end: at.arg.valueEnd, newText: code };
    if (!at.arg.keyword && call.args.slice(call.args.indexOf(at.arg) + 1).some((a) => !a.keyword && !a.star)) {
      return { error: `${name} is written as a positional argument with others after it: give it a value instead of removing it` };
    }
    // Remove the argument with its comma: the one before it, or else the one after.
    const i = call.args.indexOf(at.arg);
    const prev = call.args[i - 1];
    const next = call.args[i + 1];
    if (prev) return { start: prev.end, end: at.arg.end, newText: '' };
    if (next) return { start: at.arg.start, end: next.start, newText: '' };
    return { start: call.open + 1, end: call.close, newText: '' };
  }
  if (code === null) return { start: call.close, end: call.close, newText: '' };
  if (call.args.some((a) => a.star)) return { error: `the call passes *args or **kwargs, which may already set ${name}: edit it in the source` };
  const inserted = `${name}=${code}`;
  const last = call.args[call.args.length - 1];
  if (!last) return { start: call.open + 1, end: call.open + 1, newText: inserted };
  // One argument per line (the list starts with a line break): the new one gets its own line.
  const firstBreak = /^\(\s*\n/.test(text.slice(call.open, call.args[0].start + 1));
  const between = text.slice(last.end, call.close);
  const trailingComma = /^\s*,/.test(between);
  if (firstBreak) {
    const lineStart = text.lastIndexOf('\n', last.start - 1) + 1;
    const indent = /^[ \t]*/.exec(text.slice(lineStart))![0];
    const commaEnd = trailingComma ? last.end + between.indexOf(',') + 1 : last.end;
    return { start: commaEnd, end: commaEnd, newText: `${trailingComma ? '' : ','}\n${indent}${inserted}${trailingComma ? ',' : ''}` };
  }
  if (trailingComma) {
    const commaEnd = last.end + between.indexOf(',') + 1;
    return { start: commaEnd, end: commaEnd, newText: ` ${inserted}` };
  }
  return { start: last.end, end: last.end, newText: `, ${inserted}` };
}

function findArgument(call: WrittenCall, positional: readonly string[], name: string): { arg: WrittenArg } | { error: string } | undefined {
  const kw = call.args.find((a) => a.keyword === name);
  if (kw) return { arg: kw };
  const index = positional.indexOf(name);
  if (index < 0) return undefined;
  const plain = call.args.filter((a) => !a.keyword);
  for (let i = 0; i < plain.length && i <= index; i++) {
    if (plain[i].star) return i === index || plain[i].star === '*' ? { error: `the call passes *args, which may hold ${name}: edit it in the source` } : undefined;
  }
  return plain[index] ? { arg: plain[index] } : undefined;
}

/** The argument's value as written, or undefined when the call does not write it. */
export function writtenArgument(text: string, ctor: Span, positional: readonly string[], name: string): string | undefined {
  const call = readCall(text, ctor);
  if ('error' in call) return undefined;
  const at = findArgument(call, positional, name);
  return at && 'arg' in at ? text.slice(at.arg.valueStart, at.arg.valueEnd) : undefined;
}

/** The arguments the property sheet edits, when the layer declares them. */
export const EDITABLE_ARGS = ['filters', 'units', 'kernel_size', 'pool_size', 'strides', 'padding', 'activation', 'rate'] as const;

/** How the property sheet shows one argument of a layer. */
export interface ArgField {
  name: string;
  /** `number` (an integer or float), `size` (an integer or a tuple), `choice` (a fixed list). */
  kind: 'number' | 'size' | 'choice';
  /** The value as the call writes it (Python source), if it does. */
  written?: string;
  /** Keras' default, as Python, when it has one. */
  default?: string;
  /** For a choice: the values (`'valid'`, `'same'`; activations with `None`). */
  choices?: string[];
  /** What the layer expects, in words ("a positive integer"). */
  expected: string;
}

/** The editable arguments of a layer type, with their values as `ctor`'s call writes them. */
export function argFields(type: LayerType, text: string, ctor: Span): ArgField[] {
  const order = Object.keys(type.args);
  const out: ArgField[] = [];
  for (const name of EDITABLE_ARGS) {
    const spec = type.args[name];
    if (!spec) continue;
    const written = writtenArgument(text, ctor, order, name);
    const field: ArgField = { name, kind: 'number', expected: spec.expected, ...(written !== undefined ? { written } : {}) };
    if (spec.default !== undefined) field.default = pythonOf(spec.default);
    if (name === 'activation') {
      field.kind = 'choice';
      field.choices = ['None', ...[...ACTIVATIONS].map((a) => `'${a}'`)];
    } else if (/^one of /.test(spec.expected)) {
      field.kind = 'choice';
      field.choices = [...spec.expected.matchAll(/'([^']*)'/g)].map((m) => `'${m[1]}'`);
    } else if (/tuple of \d+ integer/.test(spec.expected)) field.kind = 'size';
    out.push(field);
  }
  return out;
}

/** A default value as Python source. */
function pythonOf(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return v.length === 1 ? `(${pythonOf(v[0])},)` : `(${v.map(pythonOf).join(', ')})`;
  return String(v);
}

/**
 * What the user typed in the property sheet, as Python the layer reads, checked with the layer's
 * own argument rule: `3` → `3`, `3x3` / `3, 3` / `(3,3)` → `(3, 3)`, `same` → `'same'` (quoted
 * as the file quotes), `none` → `None`. An empty entry means "back to the default" (null).
 */
export function argumentCode(spec: ArgSpec<unknown>, name: string, input: string, quote: '"' | "'" = "'"): { code: string | null } | { error: string } {
  const s = input.trim();
  if (s === '') return { code: null };
  let value: Value;
  let code: string;
  const numbers = /^\(?\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)(?:\s*(?:,|x|×|\*)\s*(-?\d+(?:\.\d+)?))*\s*,?\s*\)?$/i;
  const unquoted = s.replace(/^(['"])(.*)\1$/, '$2');
  if (/^none$/i.test(s)) {
    value = NONE;
    code = 'None';
  } else if (numbers.test(s)) {
    const parts = s.replace(/[()]/g, '').split(/\s*(?:,|x|×|\*)\s*/i).filter((p) => p !== '');
    const nums = parts.map(Number);
    const isFloat = parts.some((p) => /[.e]/i.test(p));
    if (nums.length === 1 && !/,\s*\)?$/.test(s)) {
      value = num(nums[0], isFloat);
      code = parts[0];
    } else {
      value = tuple(nums.map((n, i) => num(n, /[.e]/i.test(parts[i]))));
      code = nums.length === 1 ? `(${parts[0]},)` : `(${parts.join(', ')})`;
    }
  } else if (/^[A-Za-z_][\w-]*$/.test(unquoted)) {
    value = str(unquoted);
    code = `${quote}${unquoted}${quote}`;
  } else {
    return { error: `${name}: '${s}' is not a value ConvLens can write (${spec.expected})` };
  }
  const r = spec.parse(value);
  if (r.ok === false) return { error: `${name} ${r.message}` };
  return { code };
}

/** The quote the file uses most for strings (`"` or `'`), for values the sheet writes. */
export function preferredQuote(text: string): '"' | "'" {
  let single = 0;
  let double = 0;
  for (const m of text.matchAll(/(["'])[A-Za-z_][\w-]*\1/g)) (m[1] === '"' ? double++ : single++);
  return double > single ? '"' : "'";
}
