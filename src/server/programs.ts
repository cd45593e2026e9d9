import { LineIndex, type Position } from '../core/index';
import { notebookProgram, type NotebookCell } from '../core/notebook';
import type { Span } from '../core/index';

/** One editor document's part of a program: the whole text document, or a notebook cell. */
export interface ProgramPart {
  uri: string;
  /** Program offsets of the part's text. */
  start: number;
  end: number;
  /** The part's own lines (positions the editor speaks in). */
  lines: LineIndex;
  /** Index among the notebook's cells, for cells. */
  cell?: number;
}

/**
 * What is analysed as one: a text document, or a notebook's Python code cells joined in order.
 * Maps editor positions to program offsets and program spans back to a document and range.
 */
export class Program {
  readonly lines: LineIndex;

  constructor(
    readonly key: string,
    readonly version: number,
    readonly text: string,
    readonly parts: readonly ProgramPart[],
    readonly notebook: boolean,
  ) {
    this.lines = new LineIndex(text);
  }

  static ofText(uri: string, version: number, text: string): Program {
    const lines = new LineIndex(text);
    return new Program(uri, version, text, [{ uri, start: 0, end: text.length, lines }], false);
  }

  static ofNotebook(uri: string, version: number, cells: readonly (NotebookCell & { uri: string })[]): Program {
    const p = notebookProgram(cells);
    const parts = p.cells.map((c) => ({ uri: cells[c.index].uri, start: c.start, end: c.end, lines: new LineIndex(p.text.slice(c.start, c.end)), cell: c.index }));
    return new Program(uri, version, p.text, parts, true);
  }

  part(uri: string): ProgramPart | undefined {
    return this.parts.find((p) => p.uri === uri);
  }

  /** The program offset of a position in one of its documents. */
  offset(part: ProgramPart, position: Position): number {
    return part.start + part.lines.offset(position);
  }

  /** The part holding a program offset (a cell's trailing separator belongs to it). */
  partAt(offset: number): ProgramPart | undefined {
    for (const p of this.parts) if (offset >= p.start && offset <= p.end) return p;
    return undefined;
  }

  /** A program span as a range in the document that holds its start (clipped to that document). */
  range(span: Span): { part: ProgramPart; range: { start: Position; end: Position } } | undefined {
    const part = this.partAt(span.start);
    if (!part) return undefined;
    const s = Math.max(0, span.start - part.start);
    const e = Math.max(s, Math.min(span.end, part.end) - part.start);
    return { part, range: { start: part.lines.position(s), end: part.lines.position(e) } };
  }

  position(offset: number): { part: ProgramPart; position: Position } | undefined {
    const part = this.partAt(offset);
    return part && { part, position: part.lines.position(offset - part.start) };
  }
}
