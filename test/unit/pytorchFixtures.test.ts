/**
 * The PyTorch fixture corpus (test/fixtures/pytorch): real public nn.Module files and what PyTorch
 * recorded about them (test/pytorch/record.py → expected.json). These tests check the corpus itself:
 * every fixture is Python that tree-sitter reads without error, every recorded model is well formed
 * and consistent, and the torchvision totals agree with the "num_params" torchvision publishes in the
 * same files. The comparisons of ConvLens' analysis with these numbers come with issue 12.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { fixturePath, parser, readFixture } from './helpers';

/** A tensor's shape, a tuple's list of them, or a dict's shapes by key (a segmentation model's `{'out': …}`). */
type Shape = number[] | Shape[] | { [key: string]: Shape };
interface Leaf {
  name: string;
  class: string;
  params: number;
  outputShapes: Shape[];
}
interface RecordedModel {
  builder: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  input: number[];
  modelClass: string;
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
  bufferElements: number;
  buffers: number;
  outputShape: Shape;
  leaves: Leaf[];
  callOrder: string[];
}
interface RecordedFile {
  source: { repo: string; path: string; commit?: string; tag?: string };
  licence: string;
  load: 'defs' | 'package' | 'installed';
  trims: string[];
  models: RecordedModel[];
}

const expected = JSON.parse(readFixture('pytorch', 'expected.json')) as {
  torch: string;
  torchvision: string;
  files: Record<string, RecordedFile>;
};
const files = Object.entries(expected.files);

/** Every .py under a folder, as paths relative to test/fixtures/pytorch. */
function pythonFiles(dir: string, rel = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    const r = rel ? `${rel}/${name}` : name;
    if (statSync(full).isDirectory()) return name === '__pycache__' ? [] : pythonFiles(full, r);
    return name.endsWith('.py') ? [r] : [];
  });
}

const isShape = (s: Shape): boolean =>
  Array.isArray(s)
    ? s.every((d) => Number.isInteger(d) && (d as number) > 0) || s.every((x) => isShape(x as Shape))
    : typeof s === 'object' && s !== null && Object.values(s).length > 0 && Object.values(s).every(isShape);

describe('PyTorch fixture corpus', () => {
  it('was recorded by a named torch and torchvision', () => {
    assert.match(expected.torch, /^\d+\.\d+/);
    assert.match(expected.torchvision, /^\d+\.\d+/);
  });

  it('has between 20 and 80 model files, each recorded, and every .py parses', async () => {
    assert.ok(files.length >= 20 && files.length <= 80, `${files.length} files`);
    const all = pythonFiles(fixturePath('pytorch'));
    for (const [f] of files) assert.ok(all.includes(f), `${f} is recorded but missing`);
    const parse = await parser();
    for (const f of all) {
      const tree = parse(readFixture('pytorch', f))!;
      try {
        assert.equal(tree.rootNode?.hasError, false, `${f} has a syntax error`);
      } finally {
        tree.delete?.();
      }
    }
  });

  for (const [file, entry] of files) {
    describe(file, () => {
      it('cites its source and licence', () => {
        assert.match(entry.source.repo, /^[\w.-]+\/[\w.-]+$/);
        assert.ok(/^[0-9a-f]{40}$/.test(entry.source.commit ?? '') || /^v\d/.test(entry.source.tag ?? ''), 'a commit or a tag');
        assert.ok(['BSD-2-Clause', 'BSD-3-Clause', 'MIT', 'GPL-3.0'].includes(entry.licence), entry.licence);
        assert.ok(existsSync(fixturePath('pytorch', file)));
      });

      entry.models.forEach((m, i) => {
        it(`model ${i} ${m.builder}: counts, leaves and shapes are consistent`, () => {
          assert.ok(Number.isInteger(m.totalParams) && m.totalParams > 0);
          assert.equal(m.trainableParams + m.nonTrainableParams, m.totalParams);
          // Leaves own every parameter (no fixture keeps a bare nn.Parameter on a container).
          assert.equal(m.leaves.reduce((s, l) => s + l.params, 0), m.totalParams, 'leaf params add up to the total');
          assert.ok(m.input.every((d) => Number.isInteger(d) && d > 0));
          assert.ok(isShape(m.outputShape), `output shape ${JSON.stringify(m.outputShape)}`);
          const names = new Set(m.leaves.map((l) => l.name));
          assert.equal(names.size, m.leaves.length, 'leaf names are unique');
          for (const l of m.leaves) for (const s of l.outputShapes) assert.ok(isShape(s), `${l.name} shape ${JSON.stringify(s)}`);
          for (const n of m.callOrder) assert.ok(names.has(n), `${n} ran but is not a leaf`);
          assert.equal(m.callOrder.length, m.leaves.reduce((s, l) => s + l.outputShapes.length, 0), 'one call-order entry per recorded call');
          // Every recorded shape keeps the batch of the input.
          for (const l of m.leaves) for (const s of l.outputShapes) if (Array.isArray(s) && typeof s[0] === 'number') assert.equal(s[0], m.input[0], `${l.name}`);
        });
      });

      if (entry.load === 'installed') {
        it('agrees with the "num_params" torchvision publishes in the file', () => {
          const text = readFixture('pytorch', file);
          for (const m of entry.models) {
            assert.ok(text.includes(`"num_params": ${m.totalParams},`), `${m.builder}: ${m.totalParams} is not a published num_params of ${file}`);
          }
        });
      }
    });
  }
});
