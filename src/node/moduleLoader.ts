/**
 * Reads the modules a model file imports from its own folder (`from my_blocks import conv_block`,
 * `from .parts import *`), for the core's interpreter. Only files next to (or under) the model
 * file's folder are read, at most 1 MB each; anything else is left to the interpreter as unknown.
 */
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { ModuleLoader } from '../core/parse/interpreter';

const MAX_BYTES = 1_000_000;

/** A loader resolving module names against the folder of `file` (and `roots`, e.g. the workspace folders). */
export function siblingModuleLoader(file: string, roots: readonly string[] = []): ModuleLoader {
  const dir = path.dirname(path.resolve(file));
  const self = path.resolve(file);
  return (name) => {
    const dots = /^\.*/.exec(name)![0].length;
    const rest = name.slice(dots).split('.').filter(Boolean);
    const bases = dots > 0 ? [path.resolve(dir, ...Array(dots - 1).fill('..'))] : [dir, ...roots];
    for (const base of bases) {
      const stem = path.join(base, ...rest);
      for (const candidate of [`${stem}.py`, path.join(stem, '__init__.py')]) {
        if (path.resolve(candidate) === self) continue;
        try {
          const st = statSync(candidate);
          if (!st.isFile() || st.size > MAX_BYTES) continue;
          return { text: readFileSync(candidate, 'utf8'), label: path.relative(dir, candidate) || path.basename(candidate) };
        } catch {
          // not there: try the next place
        }
      }
    }
    return undefined;
  };
}
