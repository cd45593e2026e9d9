import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Language, Parser, type Tree } from 'web-tree-sitter';
import type { PythonParse, SyntaxTree, TypeTable } from '../core/parse/syntaxTree';

/**
 * Finds a wasm file: beside the bundle (dist/wasm/, where the build copies them) or in
 * node_modules when running from source.
 */
function locate(file: string, pkg: string): string {
  const candidates = [
    path.join(__dirname, 'wasm', file),
    path.join(__dirname, '..', 'wasm', file),
    path.join(__dirname, '..', '..', 'node_modules', pkg, file),
    path.join(__dirname, '..', '..', 'dist', 'wasm', file),
  ];
  for (const c of candidates) if (existsSync(c)) return c;
  try {
    return require.resolve(`${pkg}/${file}`);
  } catch {
    throw new Error(`ConvLens could not find ${file} (looked in ${candidates.join(', ')}); run 'npm run build'`);
  }
}

let loading: Promise<Parser> | undefined;

/** Loads tree-sitter and the Python grammar once; later calls share the parser. */
export function loadPythonParser(): Promise<Parser> {
  loading ??= (async () => {
    await Parser.init({ wasmBinary: readFileSync(locate('web-tree-sitter.wasm', 'web-tree-sitter')) });
    const language = await Language.load(readFileSync(locate('tree-sitter-python.wasm', 'tree-sitter-python')));
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })();
  return loading;
}

const tables = new WeakMap<Language, TypeTable>();

/** The grammar's node-type names and namedness by id, read once, so the core's tree copy avoids a wasm call per node. */
export function typeTable(language: Language): TypeTable {
  let t = tables.get(language);
  if (!t) {
    const names: string[] = [];
    const named: boolean[] = [];
    for (let id = 0; id < language.nodeTypeCount; id++) {
      names.push(language.types[id] ?? 'ERROR');
      named.push(language.nodeTypeIsNamed(id));
    }
    t = { names, named };
    tables.set(language, t);
  }
  return t;
}

/** A tree for the core: the tree-sitter tree plus the type table. */
export function asSyntaxTree(tree: Tree, own: boolean): SyntaxTree {
  const table = typeTable(tree.language);
  return { walk: () => tree.walk(), rootNode: tree.rootNode, typeTable: table, delete: own ? () => tree.delete() : undefined };
}

/** A `PythonParse` for the core, backed by web-tree-sitter. */
export async function createPythonParse(): Promise<PythonParse> {
  const parser = await loadPythonParser();
  return (text: string) => {
    const tree = parser.parse(text);
    if (!tree) throw new Error('tree-sitter returned no tree');
    return asSyntaxTree(tree, true);
  };
}
