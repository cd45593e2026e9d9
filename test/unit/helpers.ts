import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { analyzeSource, type FileAnalysis, type ModelReport, type Problem } from '../../src/core/index';
import type { PythonParse } from '../../src/core/parse/syntaxTree';
import { createPythonParse } from '../../src/node/pythonParser';

let parse: PythonParse | undefined;

/** The shared tree-sitter parser (loaded once per test process). */
export async function parser(): Promise<PythonParse> {
  parse ??= await createPythonParse();
  return parse;
}

export async function analyze(text: string): Promise<FileAnalysis> {
  return analyzeSource(text, await parser());
}

/** Analyses a snippet and returns its only model. */
export async function oneModel(text: string): Promise<{ model: ModelReport; problems: Problem[] }> {
  const a = await analyze(text);
  if (a.models.length !== 1) throw new Error(`expected one model, got ${a.models.length}: ${JSON.stringify(a.problems)}`);
  return { model: a.models[0], problems: a.problems };
}

/** `(None, 24, 24, 10)`-style rows: [name, class, shape, params]. */
export function rows(m: ModelReport): [string, string, string, number | null][] {
  return m.layers.map((l) => [l.name, l.className, l.outputShape === null ? '?' : `(None, ${l.outputShape.map((d) => d ?? 'None').join(', ')})`, l.params]);
}

export const fixturePath = (...p: string[]): string => path.join(__dirname, '..', 'fixtures', ...p);
export const readFixture = (...p: string[]): string => readFileSync(fixturePath(...p), 'utf8');

/** The text a problem's range covers. */
export const covered = (text: string, p: Problem): string => text.slice(p.span.start, p.span.end);

/** A model built from `lines` (each a layer call) with the given imports, for layer tests. */
export function seq(input: string, ...layers: string[]): string {
  return [
    'from tensorflow.keras import layers, models',
    'model = models.Sequential()',
    `model.add(layers.InputLayer(shape=${input}))`,
    ...layers.map((l) => `model.add(layers.${l})`),
    '',
  ].join('\n');
}

/**
 * Why a comparison with Debian's PyTorch cannot run (`import torch` — or the modules named —
 * fails for /usr/bin/python3, the interpreter .ci/run installs python3-torch for), or undefined
 * when it can. Tests skip with this message, and say it once when the file loads.
 */
export function pythonModulesMissing(modules = 'torch', what = 'the comparisons with PyTorch'): string | undefined {
  const r = spawnSync('/usr/bin/python3', ['-c', `import ${modules}`], { encoding: 'utf8' });
  const why = r.status === 0 ? undefined : `${modules} cannot be imported by /usr/bin/python3 (apt-get install python3-torch python3-torchvision): ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
  if (why) console.log(`  skipping ${what}: ${why}`);
  return why;
}
