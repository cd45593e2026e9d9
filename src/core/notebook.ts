/**
 * Jupyter notebooks as one program: the code cells in order, joined, so a model built across cells
 * (layers in one, the head in a later one) is analysed as Python runs it, top to bottom. Offsets of
 * the program map back to a cell and an offset inside it.
 */
import { LineIndex, type Position } from './text';

/** One cell as a notebook holds it. */
export interface NotebookCell {
  kind: 'code' | 'markdown' | 'raw';
  source: string;
  /** The cell's language when the notebook says (VS Code cells: `python`); code cells default to the notebook's. */
  language?: string;
}

/** Where a code cell's source sits in the program. */
export interface ProgramCell {
  /** The cell's index among all the notebook's cells, 0-based. */
  index: number;
  /** Program offset of the cell's first character. */
  start: number;
  /** Program offset just past the cell's source (the separator follows). */
  end: number;
}

export interface NotebookProgram {
  /** The code cells' sources with IPython-only lines blanked, each followed by a line break. */
  text: string;
  cells: ProgramCell[];
}

/** A notebook file that could not be read, with why. */
export class NotebookError extends Error {
  override readonly name = 'NotebookError';
}

/**
 * The cells of an `.ipynb` file (nbformat 4). Throws {@link NotebookError} saying what is wrong.
 */
export function readIpynb(json: string): NotebookCell[] {
  let nb: unknown;
  try {
    nb = JSON.parse(json);
  } catch (e) {
    throw new NotebookError(`not a notebook: the file is not valid JSON${jsonErrorPlace(json, (e as Error).message)} (${(e as Error).message})`);
  }
  const o = nb as { cells?: unknown; nbformat?: unknown; worksheets?: unknown; metadata?: { language_info?: { name?: unknown }; kernelspec?: { language?: unknown } } };
  if (typeof o !== 'object' || o === null) throw new NotebookError('not a notebook: the JSON is not an object');
  if (!Array.isArray(o.cells)) {
    if (Array.isArray(o.worksheets)) throw new NotebookError(`nbformat ${String(o.nbformat)} notebooks are not supported: open and save it in Jupyter to upgrade it to nbformat 4`);
    throw new NotebookError('not a notebook: it has no "cells" list');
  }
  const language = o.metadata?.language_info?.name ?? o.metadata?.kernelspec?.language;
  return o.cells.map((c: unknown, i: number) => {
    const cell = c as { cell_type?: unknown; source?: unknown };
    if (typeof cell !== 'object' || cell === null) throw new NotebookError(`cell ${i + 1} is not an object`);
    const kind = cell.cell_type === 'code' || cell.cell_type === 'markdown' ? cell.cell_type : 'raw';
    const src = cell.source;
    const source = typeof src === 'string' ? src : Array.isArray(src) && src.every((l) => typeof l === 'string') ? src.join('') : undefined;
    if (source === undefined) throw new NotebookError(`cell ${i + 1}: "source" must be a string or a list of strings`);
    return { kind, source, language: kind === 'code' && typeof language === 'string' ? language : undefined };
  });
}

/**
 * ` at line 12, column 5` for a JSON.parse error that gives a character position (or ends early):
 * a notebook is a few hundred kilobytes, and `position 356842` does not say where to look.
 */
function jsonErrorPlace(json: string, message: string): string {
  const m = /at position (\d+)/.exec(message);
  const at = m ? Number(m[1]) : /end of JSON input/.test(message) ? json.length : undefined;
  if (at === undefined) return '';
  let line = 1;
  let lineStart = 0;
  for (let i = json.indexOf('\n'); i >= 0 && i < at; i = json.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return ` at line ${line}, column ${at - lineStart + 1}`;
}

/** IPython syntax Python cannot read: line magics (`%matplotlib inline`) and shell escapes (`!pip install`). */
const IPYTHON_LINE = /^([ \t]*)([%!][^\r\n]*)/gm;

/**
 * The program a notebook's Python code cells make, in cell order. IPython-only lines become spaces
 * (offsets stay), and a cell that starts with a cell magic (`%%bash`) is left out entirely.
 */
export function notebookProgram(cells: readonly NotebookCell[]): NotebookProgram {
  let text = '';
  const out: ProgramCell[] = [];
  cells.forEach((cell, index) => {
    if (cell.kind !== 'code' || (cell.language !== undefined && cell.language.toLowerCase() !== 'python')) return;
    let source = cell.source;
    if (/^\s*%%/.test(source)) source = source.replace(/[^\r\n]/g, ' ');
    else source = source.replace(IPYTHON_LINE, (_, indent: string, rest: string) => indent + ' '.repeat(rest.length));
    out.push({ index, start: text.length, end: text.length + source.length });
    text += source + '\n';
  });
  return { text, cells: out };
}

/** The code cell holding a program offset (the separator after a cell counts as its end). */
export function cellAt(program: NotebookProgram, offset: number): ProgramCell | undefined {
  let lo = 0;
  let hi = program.cells.length - 1;
  if (hi < 0) return undefined;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (program.cells[mid].start <= offset) lo = mid;
    else hi = mid - 1;
  }
  return program.cells[lo];
}

/** A program offset as a cell (0-based index among all cells) and a position inside that cell's source. */
export function cellPosition(program: NotebookProgram, cellLines: ReadonlyMap<number, LineIndex>, offset: number): { cell: number; position: Position } | undefined {
  const cell = cellAt(program, offset);
  if (!cell) return undefined;
  const lines = cellLines.get(cell.index) ?? new LineIndex(program.text.slice(cell.start, cell.end));
  return { cell: cell.index, position: lines.position(Math.min(offset, cell.end) - cell.start) };
}
