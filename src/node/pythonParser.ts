import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Language, Parser } from 'web-tree-sitter';
import type { PythonParse } from '../core/parse/syntaxTree';

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

/** A `PythonParse` for the core, backed by web-tree-sitter. */
export async function createPythonParse(): Promise<PythonParse> {
  const parser = await loadPythonParser();
  return (text: string) => {
    const tree = parser.parse(text);
    if (!tree) throw new Error('tree-sitter returned no tree');
    return tree;
  };
}
