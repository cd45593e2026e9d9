/**
 * Reads the modules a model file imports from its own folder (`from my_blocks import conv_block`,
 * `from .parts import *`), for the core's interpreter. Only files next to (or under) the model
 * file's folder, or inside a package folder the model file is in (see below), are read, at most
 * 1 MB each; anything else is left to the interpreter as unknown.
 */
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { ModuleLoader } from '../core/parse/interpreter';

const MAX_BYTES = 1_000_000;
/** How many folders up an absolute import may find the package the model file is in. */
const MAX_PACKAGE_DEPTH = 8;

/**
 * A loader resolving module names against the folder of `file` (and `roots`, e.g. the workspace folders).
 * An absolute name whose first part is the name of a folder the file is in (`torchvision.models.resnet`
 * in a copy of `torchvision/models/quantization/resnet.py`) is also looked for under that folder, as
 * Python finds it when the package is the one installed: the copy of the package's own module.
 */
export function siblingModuleLoader(file: string, roots: readonly string[] = []): ModuleLoader {
  const dir = path.dirname(path.resolve(file));
  const self = path.resolve(file);
  const read = (stem: string) => {
    for (const candidate of [`${stem}.py`, path.join(stem, '__init__.py')]) {
      if (path.resolve(candidate) === self) continue;
      try {
        const st = statSync(candidate);
        if (!st.isFile() || st.size > MAX_BYTES) continue;
        const text = readFileSync(candidate, 'utf8');
        const rel = path.relative(dir, candidate);
        const pkg = path.basename(candidate) === '__init__.py';
        return { text, label: rel || path.basename(candidate), ...(pkg ? { package: true } : {}), name: loaderName(rel, pkg) };
      } catch {
        // not there: try the next place
      }
    }
    return undefined;
  };
  return (name) => {
    const dots = /^\.*/.exec(name)![0].length;
    const rest = name.slice(dots).split('.').filter(Boolean);
    const bases = dots > 0 ? [path.resolve(dir, ...Array(dots - 1).fill('..'))] : [dir, ...roots];
    for (const base of bases) {
      const found = read(path.join(base, ...rest));
      if (found) return found;
    }
    if (dots > 0 || rest.length < 2) return undefined;
    let folder = dir;
    for (let i = 0; i < MAX_PACKAGE_DEPTH; i++) {
      if (path.basename(folder) === rest[0]) return read(path.join(folder, ...rest.slice(1)));
      const up = path.dirname(folder);
      if (up === folder) break;
      folder = up;
    }
    return undefined;
  };
}

/** A found file's name in the loader's notation, from its path relative to the model file's folder (`../resnet.py` → `..resnet`). */
function loaderName(rel: string, pkg: boolean): string | undefined {
  const parts = rel.split(path.sep);
  if (pkg) parts.pop();
  else parts[parts.length - 1] = parts[parts.length - 1].replace(/\.py$/, '');
  let up = 0;
  while (parts[0] === '..') {
    parts.shift();
    up++;
  }
  if (parts.some((p) => p === '..' || p === '' || p.includes('.'))) return undefined;
  return '.'.repeat(up + 1) + parts.join('.');
}
