/** A zero-based line and UTF-16 column, as VS Code and the Language Server Protocol count them. */
export interface Position {
  line: number;
  character: number;
}

/**
 * Converts between offsets and line/column positions of one text. Lines end at `\n`, `\r\n` or a
 * lone `\r`, as VS Code and the LSP count them (Python's universal newlines agree).
 */
export class LineIndex {
  /** Offset of each line's first character. */
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) this.starts.push(i + 1);
      else if (c === 13) {
        if (text.charCodeAt(i + 1) === 10) i++;
        this.starts.push(i + 1);
      }
    }
  }

  get lineCount(): number {
    return this.starts.length;
  }

  position(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: o - this.starts[lo] };
  }

  /** The offset of a position; a column past the end of its line means the line's end (before its break), a line past the last the text's end. */
  offset(pos: Position): number {
    if (pos.line >= this.starts.length) return this.text.length;
    const line = Math.max(0, pos.line);
    return Math.min(this.starts[line] + Math.max(0, pos.character), this.lineEnd(line));
  }

  /** The offset where a zero-based line's text ends, before its line break. */
  lineEnd(line: number): number {
    if (line + 1 >= this.starts.length) return this.text.length;
    const next = this.starts[line + 1];
    return this.text.charCodeAt(next - 1) === 10 && this.text.charCodeAt(next - 2) === 13 ? next - 2 : next - 1;
  }

  /** The offset where a zero-based line starts. */
  lineStart(line: number): number {
    return this.starts[Math.max(0, Math.min(line, this.starts.length - 1))];
  }

  /** The text of a zero-based line without its line break. */
  lineText(line: number): string {
    if (line >= this.starts.length) return '';
    return this.text.slice(this.starts[line], this.lineEnd(line));
  }
}

/**
 * Control characters shown as escapes (`\n`, `\x1b`), so a name or value read from a file cannot
 * move the cursor, recolour a terminal or fake a line of output. Tabs stay.
 */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
