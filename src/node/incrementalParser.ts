import { Edit, type Parser, type Tree } from 'web-tree-sitter';
import type { PythonParse, SyntaxTree } from '../core/parse/syntaxTree';
import { asSyntaxTree } from './pythonParser';

/** One text change, as an editor reports it (UTF-16 offsets, zero-based lines). */
export interface TextChange {
  rangeOffset: number;
  rangeLength: number;
  text: string;
  start: { line: number; character: number };
  end: { line: number; character: number };
}

/**
 * Keeps one document's tree-sitter tree between edits, so a keystroke re-parses only what
 * changed. The editor reports changes; `parseFor` then gives the core a parse function.
 */
export class IncrementalParser {
  private tree: Tree | undefined;

  constructor(private readonly parser: Parser) {}

  /** Tells the kept tree about an edit. Several changes at once drop it (their order is not trusted). */
  applyChanges(changes: readonly TextChange[]): void {
    if (!this.tree || changes.length === 0) return;
    if (changes.length > 1) {
      this.invalidate();
      return;
    }
    const c = changes[0];
    const lines = c.text.split('\n');
    const endRow = c.start.line + lines.length - 1;
    const endColumn = lines.length === 1 ? c.start.character + c.text.length : lines[lines.length - 1].length;
    this.tree.edit(
      new Edit({
        startIndex: c.rangeOffset,
        oldEndIndex: c.rangeOffset + c.rangeLength,
        newEndIndex: c.rangeOffset + c.text.length,
        startPosition: { row: c.start.line, column: c.start.character },
        oldEndPosition: { row: c.end.line, column: c.end.character },
        newEndPosition: { row: endRow, column: endColumn },
      }),
    );
  }

  invalidate(): void {
    this.tree?.delete();
    this.tree = undefined;
  }

  /**
   * A parse function for the core: the document's own text is parsed incrementally and its tree
   * kept; any other text (the core's bracket-repaired copy) is parsed from scratch.
   */
  parseFor(documentText: string): PythonParse {
    return (text: string): SyntaxTree => {
      if (text !== documentText) return asSyntaxTree(this.parser.parse(text)!, true);
      const tree = this.parser.parse(text, this.tree ?? null)!;
      this.tree?.delete();
      this.tree = tree;
      // The core deletes the trees it is given; this one is kept for the next keystroke.
      return asSyntaxTree(tree, false);
    };
  }

  dispose(): void {
    this.invalidate();
  }
}
