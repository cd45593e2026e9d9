/**
 * Typed messages between the extension, the CLI, the trainer process and (later) the webview.
 * Each message type is declared once as a {@link Notification} object; every side builds
 * messages with `create` and checks what it receives with `is`, which validates the parameters'
 * shape, so a malformed or foreign message is never mistaken for a valid one.
 */

/** What travels: a method name and its parameters. */
export interface Message<P = unknown> {
  method: string;
  params: P;
}

/** How a parameter is checked on receipt; `?` suffix: may be absent (or null). */
export type FieldCheck =
  | 'number'
  | 'string'
  | 'boolean'
  | 'object'
  | 'array'
  | 'number?'
  | 'string?'
  | 'boolean?'
  | 'object?'
  | 'array?'
  | readonly string[];

/** The checks of a parameter object, field by field (fields not listed are not checked). */
export type ParamChecks<P> = { readonly [K in keyof P]?: FieldCheck };

/** Why `params` does not satisfy `checks`, or undefined when it does. */
export function checkParams(params: unknown, checks: Record<string, FieldCheck | undefined>): string | undefined {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return 'params must be an object';
  const p = params as Record<string, unknown>;
  for (const [field, check] of Object.entries(checks)) {
    if (check === undefined) continue;
    const v = p[field];
    if (Array.isArray(check)) {
      if (!check.includes(v as string)) return `${field} must be one of ${check.join(', ')}`;
      continue;
    }
    const c = check as string;
    const optional = c.endsWith('?');
    if (optional && (v === undefined || v === null)) continue;
    const kind = optional ? c.slice(0, -1) : c;
    const ok =
      kind === 'array'
        ? Array.isArray(v)
        : kind === 'object'
          ? typeof v === 'object' && v !== null && !Array.isArray(v)
          : kind === 'number'
            ? typeof v === 'number'
            : typeof v === kind;
    if (!ok) return `${field} must be ${optional ? `${kind} or absent` : `a ${kind}`}`;
  }
  return undefined;
}

/** A one-way message type with validated parameters. */
export class Notification<P extends object> {
  constructor(
    readonly method: string,
    private readonly checks: ParamChecks<P> = {},
  ) {}

  /** Builds a message of this type. */
  create(params: P): Message<P> {
    return { method: this.method, params };
  }

  /** True when `m` is a message of this type whose parameters pass the checks. */
  is(m: unknown): m is Message<P> {
    return isMessage(m) && m.method === this.method && this.problem(m) === undefined;
  }

  /** Why `m` (of this method) is malformed, or undefined. */
  problem(m: Message): string | undefined {
    return checkParams(m.params, this.checks as Record<string, FieldCheck | undefined>);
  }
}

/** True for anything shaped like a {@link Message}. */
export function isMessage(m: unknown): m is Message {
  return typeof m === 'object' && m !== null && typeof (m as Message).method === 'string' && 'params' in m;
}
