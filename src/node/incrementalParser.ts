import { Edit, type Parser, type Point, type Tree } from 'web-tree-sitter';
import type { PythonParse, SyntaxTree } from '../core/parse/syntaxTree';
import { asSyntaxTree } from './pythonParser';

/** Where tree-sitter counts an offset: rows end at `\n`, columns in UTF-16 units. */
function pointAt(text: string, offset: number): Point {
  let row = 0;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    row++;
    lineStart = i + 1;
  }
  return { row, column: offset - lineStart };
}

/** The one edit that turns `before` into `after`: their common prefix and suffix stay. */
export function diffEdit(before: string, after: string): Edit | undefined {
  if (before === after) return undefined;
  const max = Math.min(before.length, after.length);
  let start = 0;
  while (start < max && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let tail = 0;
  while (tail < max - start && before.charCodeAt(before.length - 1 - tail) === after.charCodeAt(after.length - 1 - tail)) tail++;
  const oldEnd = before.length - tail;
  const newEnd = after.length - tail;
  return new Edit({
    startIndex: start,
    oldEndIndex: oldEnd,
    newEndIndex: newEnd,
    startPosition: pointAt(before, start),
    oldEndPosition: pointAt(before, oldEnd),
    newEndPosition: pointAt(after, newEnd),
  });
}

/**
 * Keeps one document's tree-sitter tree between analyses, so a keystroke re-parses only what
 * changed. The edit is found by comparing the new text with the last one (common prefix and
 * suffix), so it needs no change events and works for any source of text: an editor's incremental
 * sync, a full-text sync, a notebook's concatenated cells. A parse past `budgetMs` is abandoned.
 */
export class IncrementalParser {
  private tree: Tree | undefined;
  private text: string | undefined;

  constructor(
    private readonly parser: Parser,
    private readonly budgetMs = Infinity,
  ) {}

  invalidate(): void {
    this.tree?.delete();
    this.tree = undefined;
    this.text = undefined;
  }

  /**
   * A parse function for one analysis: its first call (the document) is parsed incrementally and
   * the tree kept; later calls (the core's bracket-repaired copy) are parsed from scratch. All of
   * them share one deadline.
   */
  parse(): PythonParse {
    const deadline = performance.now() + this.budgetMs;
    let first = true;
    return (text: string): SyntaxTree | null => {
      const options = Number.isFinite(this.budgetMs) ? { progressCallback: () => performance.now() > deadline } : undefined;
      if (!first) {
        const t = this.parser.parse(text, null, options);
        if (!t) this.parser.reset();
        return t ? asSyntaxTree(t, true) : null;
      }
      first = false;
      let old: Tree | null = null;
      if (this.tree && this.text !== undefined) {
        const edit = diffEdit(this.text, text);
        if (edit) this.tree.edit(edit);
        old = this.tree;
      }
      const tree = this.parser.parse(text, old, options);
      if (!tree) {
        // Cancelled: the parser would resume this parse on its next call unless reset.
        this.parser.reset();
        this.invalidate();
        return null;
      }
      this.tree?.delete();
      this.tree = tree;
      this.text = text;
      // The core deletes the trees it is given; this one is kept for the next keystroke.
      return asSyntaxTree(tree, false);
    };
  }

  dispose(): void {
    this.invalidate();
  }
}
