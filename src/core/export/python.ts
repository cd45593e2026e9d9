/**
 * Writing Python source from TypeScript values: literals that Python reads back to the same
 * values, identifiers that are safe as attributes of an `nn.Module` and as local variables, and
 * indentation. Pure; used by the PyTorch exporter.
 */

/** Python's keywords and the soft keywords a name must not take. */
const PYTHON_KEYWORDS = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else',
  'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise',
  'return', 'try', 'while', 'with', 'yield', 'match', 'case', 'type', 'print', 'super', 'self', 'exec',
]);

/**
 * Public attributes of `torch.nn.Module` (torch 1.13's `dir(nn.Module())`, plus what torch 2.x
 * added): a submodule or buffer of that name would shadow them (a layer named `train` or
 * `float` would break `model.train()`). A unit test checks this list against the installed torch.
 */
export const NN_MODULE_ATTRIBUTES: ReadonlySet<string> = new Set([
  'T_destination', 'add_module', 'apply', 'bfloat16', 'buffers', 'call_super_init', 'children', 'compile', 'cpu', 'cuda', 'double',
  'dump_patches', 'eval', 'extra_repr', 'float', 'forward', 'get_buffer', 'get_extra_state', 'get_parameter', 'get_submodule', 'half',
  'ipu', 'load_state_dict', 'modules', 'mtia', 'named_buffers', 'named_children', 'named_modules', 'named_parameters', 'parameters',
  'register_backward_hook', 'register_buffer', 'register_forward_hook', 'register_forward_pre_hook', 'register_full_backward_hook',
  'register_full_backward_pre_hook', 'register_load_state_dict_post_hook', 'register_load_state_dict_pre_hook', 'register_module',
  'register_parameter', 'register_state_dict_post_hook', 'register_state_dict_pre_hook', 'requires_grad_', 'set_extra_state',
  'set_submodule', 'share_memory', 'state_dict', 'to', 'to_empty', 'train', 'training', 'type', 'xpu', 'zero_grad',
]);

/**
 * Hands out Python identifiers: each name is made a valid identifier (`dense_1[1]` → `dense_1_1`),
 * kept clear of keywords and of `reserved`, and made unique with a suffix.
 */
export class NameAllocator {
  private readonly used = new Set<string>();

  constructor(private readonly reserved: ReadonlySet<string> = new Set()) {}

  /** Marks names as taken (module-level names the code refers to). */
  take(...names: string[]): void {
    for (const n of names) this.used.add(n);
  }

  /** A fresh identifier close to `name`. */
  allocate(name: string): string {
    let base = name
      .normalize('NFKD')
      .replace(/[^A-Za-z0-9_]+/g, '_')
      .replace(/_+$/g, '')
      .replace(/^_+/, '');
    if (base === '' || /^[0-9]/.test(base)) base = `layer_${base}`;
    if (PYTHON_KEYWORDS.has(base) || this.reserved.has(base)) base = `${base}_`;
    let candidate = base;
    for (let i = 2; this.used.has(candidate); i++) candidate = `${base}_${i}`;
    this.used.add(candidate);
    return candidate;
  }
}

/** A number as Python writes it (`1e-07` style is fine: Python reads `1e-7` too); infinities via `math`. */
export function pyNumber(v: number): string {
  if (Number.isNaN(v)) return 'math.nan';
  if (v === Infinity) return 'math.inf';
  if (v === -Infinity) return '-math.inf';
  return String(v);
}

/** A float literal: `2.0` rather than `2`, so Python computes in floating point. */
export function pyFloat(v: number): string {
  const s = pyNumber(v);
  return /^-?\d+$/.test(s) ? `${s}.0` : s;
}

/** A string literal (JSON's escapes are Python's). */
export function pyString(s: string): string {
  return JSON.stringify(s);
}

/** Any JSON-like value as a Python literal: dicts, lists, tuples (for `tuple: true` arrays), numbers, strings, None, booleans. */
export function pyLiteral(v: unknown, opts: { tuples?: boolean } = {}): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return pyNumber(v);
  if (typeof v === 'string') return pyString(v);
  if (Array.isArray(v)) {
    const items = v.map((x) => pyLiteral(x, opts));
    if (!opts.tuples) return `[${items.join(', ')}]`;
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
  }
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    return `{${entries.map(([k, x]) => `${pyString(k)}: ${pyLiteral(x, opts)}`).join(', ')}}`;
  }
  return pyString(String(v));
}

/** A tuple of integers: `(5, 5)`, `(7,)`. */
export function pyTuple(xs: readonly number[]): string {
  return pyLiteral([...xs], { tuples: true });
}

/** A size argument as PyTorch takes it: one integer when every axis agrees (`5`), a tuple otherwise (`(1, 3)`). */
export function pySize(xs: readonly number[]): string {
  return xs.every((x) => x === xs[0]) ? String(xs[0]) : pyTuple(xs);
}

/** Indents every non-empty line of `text` by `spaces`. */
export function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((l) => (l.trim() === '' ? '' : pad + l))
    .join('\n');
}

/** Wraps a list of items into lines of at most `width` characters (for long literal lists). */
export function wrapItems(items: readonly string[], width: number, pad: string): string {
  const lines: string[] = [];
  let line = '';
  for (const it of items) {
    const next = line === '' ? it : `${line}, ${it}`;
    if (next.length + pad.length > width && line !== '') {
      lines.push(`${pad}${line},`);
      line = it;
    } else line = next;
  }
  if (line !== '') lines.push(`${pad}${line}`);
  return lines.join('\n');
}
