/**
 * The slice of a tree-sitter tree cursor that the core reads. web-tree-sitter's `TreeCursor`
 * satisfies it structurally, so the core never imports the parser runtime (which needs wasm
 * loading, a host concern) and can be tested with any tree that offers these members.
 */
export interface SyntaxCursor {
  readonly nodeType: string;
  /** Numeric node type, when the host also gives a `TypeTable` (saves a wasm call per node). */
  readonly nodeTypeId?: number;
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
  readonly rootNode?: { readonly hasError: boolean };
  /** Names and namedness of the grammar's node types, indexed by `nodeTypeId`. */
  readonly typeTable?: TypeTable;
  delete?(): void;
}

export interface TypeTable {
  names: readonly string[];
  named: readonly boolean[];
}

/**
 * Parses Python source text into a tree-sitter tree (injected by the host). Null when the host
 * gave up, its time budget spent: the core then reports the file as too large or complex.
 */
export type PythonParse = (text: string) => SyntaxTree | null;

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
  // Every cursor property is a call into wasm; on a clean tree, MISSING nodes cannot occur and
  // the check is skipped, and an anonymous token's field is read only under an operator.
  const mayMiss = tree.rootNode?.hasError ?? true;
  const cursor = tree.walk();
  const table = tree.typeTable;
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
    let type: string | undefined;
    let named: boolean;
    if (table) {
      const id = cursor.nodeTypeId!;
      type = table.names[id] ?? 'ERROR';
      named = table.named[id] ?? true;
    } else {
      named = cursor.nodeIsNamed;
    }
    const missing = mayMiss && cursor.nodeIsMissing;
    let node: RawNode | undefined;
    if (named || missing) {
      const field = NO_FIELDS.has(parent.type) ? null : cursor.currentFieldName;
      node = { type: type ?? cursor.nodeType, field, start: cursor.startIndex, end: cursor.endIndex, children: [], missing };
      parent.children.push(node);
    } else if (OPERATOR_PARENTS.has(parent.type)) {
      const field = cursor.currentFieldName;
      if (field !== null) {
        node = { type: type ?? cursor.nodeType, field, start: cursor.startIndex, end: cursor.endIndex, children: [], missing: false };
        parent.children.push(node);
      }
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

/** Parents whose children the lowering reads by position, never by field name. */
const NO_FIELDS = new Set(['module', 'block', 'argument_list', 'tuple', 'list', 'expression_statement', 'parenthesized_expression', 'expression_list', 'pattern_list', 'tuple_pattern', 'list_pattern', 'dictionary', 'parameters', 'concatenated_string', 'ERROR']);

/** Node types whose anonymous children carry meaning in a field (the operator). */
const OPERATOR_PARENTS = new Set(['binary_operator', 'unary_operator', 'boolean_operator', 'comparison_operator', 'augmented_assignment', 'not_operator']);
