import type { Span } from './parse/pythonAst';

export type Severity = 'error' | 'warning' | 'information' | 'hint';

/** A text replacement in the analysed document. */
export interface TextEdit {
  span: Span;
  newText: string;
}

/** A quick fix the editor can offer for a problem. */
export interface Fix {
  title: string;
  edits: TextEdit[];
}

/** A problem found in a model file, with the exact source range it is about. */
export interface Problem {
  severity: Severity;
  /** Stable identifier (e.g. `conv-output-empty`), used by quick fixes and tests. */
  code: string;
  message: string;
  span: Span;
  fixes?: Fix[];
}

/** Collects problems, dropping exact duplicates (a layer in a loop reports once per source range). */
export class ProblemSink {
  readonly problems: Problem[] = [];
  private readonly seen = new Set<string>();

  report(p: Problem): void {
    const key = `${p.span.start}:${p.span.end}:${p.code}:${p.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.problems.push(p);
  }

  error(code: string, span: Span, message: string, fixes?: Fix[]): void {
    this.report({ severity: 'error', code, span, message, fixes });
  }

  warning(code: string, span: Span, message: string, fixes?: Fix[]): void {
    this.report({ severity: 'warning', code, span, message, fixes });
  }

  info(code: string, span: Span, message: string): void {
    this.report({ severity: 'information', code, span, message });
  }
}
