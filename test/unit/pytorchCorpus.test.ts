/**
 * ConvLens against real public PyTorch code: every model of test/fixtures/pytorch must give what
 * PyTorch itself recorded (test/pytorch/record.py → expected.json, Debian's torch 1.13): total,
 * trainable and non-trainable parameters, buffers, the output shape, and every leaf module's
 * class, parameters and output shape of each call, in the order the calls ran. The model is built
 * as record.py builds it (its builder with the manifest's arguments) and called on zeros of the
 * recorded input size, both written after the file's own code, as a user would.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { analyzeSource, type FileAnalysis } from '../../src/core/index';
import { siblingModuleLoader } from '../../src/node/moduleLoader';
import { fixturePath, parser } from './helpers';
import { compareWithTorch as compare, type RecordedModel } from './torchRecord';

interface RecordedFile {
  load: 'defs' | 'package' | 'installed';
  models: RecordedModel[];
}

const dir = fixturePath('pytorch');
const expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as { files: Record<string, RecordedFile> };
/** The script values record.py sets from the manifest (the DCGAN's `nc`, which depends on a required --dataset option). */
const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { fixtures: { file: string; globals?: Record<string, unknown> }[] };
const globalsOf = (file: string): string =>
  Object.entries(manifest.fixtures.find((f) => f.file === file)?.globals ?? {})
    .map(([k, v]) => `\n${k} = ${py(v)}`)
    .join('');

/** A JSON value as Python source (`True`, `'VGG11'`, `[2, 2]`). */
function py(v: unknown): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return `'${v}'`;
  if (v === null) return 'None';
  if (Array.isArray(v)) return `[${v.map(py).join(', ')}]`;
  return String(v);
}

/** The code a user writes after the definitions to build and call the model, as record.py does. */
function callOf(m: RecordedModel, i: number): string {
  const args = [...m.args.map(py), ...Object.entries(m.kwargs).map(([k, v]) => `${k}=${py(v)}`)].join(', ');
  // `import torch.nn as nn` alone does not bind `torch` (LeNet's file): import it for the call.
  return `\nimport torch\n__expected_${i} = ${m.builder}(${args})\n__output_${i} = __expected_${i}(torch.zeros(${m.input.join(', ')}))\n`;
}


/** Fixtures whose numbers need something ConvLens does not do yet, with what. */
const PENDING: Record<string, string> = {};

describe('real PyTorch code gives the numbers PyTorch records', () => {
  for (const [file, f] of Object.entries(expected.files)) {
    it(file, { todo: PENDING[file] }, async () => {
      const full = path.join(dir, file);
      let text = readFileSync(full, 'utf8') + globalsOf(file);
      f.models.forEach((m, i) => (text += callOf(m, i)));
      const a: FileAnalysis = analyzeSource(text, await parser(), { loadModule: siblingModuleLoader(full) });
      const diffs: string[] = [];
      f.models.forEach((m, i) => {
        const label = `${m.builder}(${m.args.map(py).join(', ')})`;
        const got = a.models.find((x) => x.varName === `__expected_${i}`);
        if (!got) {
          diffs.push(`${label}: no model (found ${a.models.map((x) => x.varName ?? x.name).join(', ')})`);
          return;
        }
        diffs.push(...compare(m, got).map((d) => `${label}: ${d}`));
      });
      const errors = a.problems.filter((p) => p.severity === 'error').map((p) => `error at line ${text.slice(0, p.span.start).split('\n').length}: ${p.message}`);
      const all = [...diffs, ...errors];
      // The first differences say what is wrong; hundreds of rows after them say nothing more.
      assert.deepEqual(all.length > 16 ? [...all.slice(0, 16), `… and ${all.length - 16} more`] : all, []);
    });
  }
});

