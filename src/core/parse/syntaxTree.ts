/**
 * The slice of a tree-sitter tree cursor that the core reads. web-tree-sitter's `TreeCursor`
 * satisfies it structurally, so the core never imports the parser runtime (which needs wasm
 * loading, a host concern) and can be tested with any tree that offers these members.
 */
export interface SyntaxCursor {
  readonly nodeType: string;
  readonly nodeIsNamed: boolean;
  readonly nodeIsMissing: boolean;
  readonly currentFieldName: string | null;
  readonly startIndex: number;
  readonly endIndex: number;
  gotoFirstChild(): boolean;
  gotoNextSibling(): boolean;
  gotoParent(): boolean;
}

/** A parsed tree whose cursor the core walks; `delete()` frees wasm memory when present. */
export interface SyntaxTree {
  walk(): SyntaxCursor;
  delete?(): void;
}

/** Parses Python source text into a tree-sitter tree (injected by the host). */
export type PythonParse = (text: string) => SyntaxTree;

/** A named node (plus operator tokens) copied out of the wasm tree into plain JS. */
export interface RawNode {
  type: string;
  field: string | null;
  start: number;
  end: number;
  children: RawNode[];
  /** Inserted by error recovery: the source lacks this token. */
  missing: boolean;
}

/**
 * Node types whose inside the core never needs: their value comes from the source text.
 * Skipping them saves most of the wasm round-trips on a typical model file.
 */
const LEAF_TYPES = new Set(['string', 'comment', 'integer', 'float', 'identifier', 'concatenated_string_part']);

/**
 * Copies a tree-sitter tree into plain JS objects in one cursor walk. Anonymous tokens are
 * kept only where they carry meaning (an operator field, a keyword of a comparison).
 */
export function copyTree(tree: SyntaxTree): RawNode {
  const cursor = tree.walk();
  const root: RawNode = {
    type: cursor.nodeType,
    field: null,
    start: cursor.startIndex,
    end: cursor.endIndex,
    children: [],
    missing: false,
  };
  const stack: RawNode[] = [root];
  if (!cursor.gotoFirstChild()) return root;
  for (;;) {
    const parent = stack[stack.length - 1];
    const named = cursor.nodeIsNamed;
    const field = cursor.currentFieldName;
    const missing = cursor.nodeIsMissing;
    let node: RawNode | undefined;
    if (named || field !== null || missing) {
      node = {
        type: cursor.nodeType,
        field,
        start: cursor.startIndex,
        end: cursor.endIndex,
        children: [],
        missing,
      };
      parent.children.push(node);
    }
    if (node && !LEAF_TYPES.has(node.type) && cursor.gotoFirstChild()) {
      stack.push(node);
      continue;
    }
    while (!cursor.gotoNextSibling()) {
      if (stack.length === 1 || !cursor.gotoParent()) return root;
      stack.pop();
    }
  }
}
