/**
 * The Keras fixture corpus (test/fixtures/keras): real public model files and the numbers their
 * authors published with them, parsed into expected.json by parse_summary.py. These tests check
 * the corpus itself — every fixture is valid Python that tree-sitter reads without error, every
 * expected entry is well formed and adds up, every cited text exists. The comparisons of
 * ConvLens' analysis against these numbers are added as that analysis lands (issue 8).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fixturePath, parser, readFixture } from './helpers';

interface Row {
  name: string;
  class: string | null;
  outputShape: string;
  params: number;
  connectedTo?: string[];
  nameTruncated?: boolean;
  classTruncated?: boolean;
  outputShapeTruncated?: boolean;
  connectedTruncated?: boolean;
}
interface ExpectedModel {
  var?: string | null;
  name?: string | null;
  totalParams: number;
  trainableParams?: number;
  nonTrainableParams?: number;
  outputShape?: string | string[];
  rows?: Row[];
  source: { text: string; quote?: string; row?: string; table?: string | null };
}
interface ExpectedFile {
  source: { repo: string; path: string; commit: string };
  licence: string;
  kerasVersion: string;
  trims: string[];
  models: ExpectedModel[];
}

const expected = JSON.parse(readFixture('keras', 'expected.json')) as { files: Record<string, ExpectedFile> };
const files = Object.entries(expected.files);

/** The Python a fixture holds: the file itself, or a notebook's code cells joined in order. */
function pythonOf(file: string): string {
  const text = readFixture('keras', file);
  if (!file.endsWith('.ipynb')) return text;
  const nb = JSON.parse(text) as { cells: { cell_type: string; source: string[] | string }[] };
  return nb.cells
    .filter((c) => c.cell_type === 'code')
    .map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source))
    // IPython shell escapes and magics are not Python.
    .map((src) => src.split('\n').filter((l) => !/^\s*[!%]/.test(l)).join('\n'))
    .join('\n\n');
}

describe('Keras fixture corpus', () => {
  it('has between 15 and 40 fixture files, each listed in expected.json', () => {
    const onDisk = readdirSync(fixturePath('keras')).filter((f) => /\.(py|ipynb)$/.test(f) && f !== 'parse_summary.py');
    assert.ok(files.length >= 15 && files.length <= 40, `${files.length} files`);
    assert.deepEqual(onDisk.sort(), files.map(([f]) => f).sort());
  });

  for (const [file, entry] of files) {
    describe(file, () => {
      it('is Python that tree-sitter parses without an error node', async () => {
        const tree = (await parser())(pythonOf(file))!;
        try {
          assert.equal(tree.rootNode?.hasError, false, `${file} has a syntax error`);
        } finally {
          tree.delete?.();
        }
      });

      it('cites its source, licence and Keras version', () => {
        assert.match(entry.source.repo, /^[\w.-]+\/[\w.-]+$/);
        assert.match(entry.source.commit, /^[0-9a-f]{40}$/);
        assert.ok(entry.source.path.length > 0);
        assert.ok(['Apache-2.0', 'MIT'].includes(entry.licence), entry.licence);
        assert.ok(entry.kerasVersion.length > 0);
        assert.ok(Array.isArray(entry.trims));
        assert.ok(entry.models.length > 0);
      });

      entry.models.forEach((m, i) => {
        it(`model ${i} (${m.var ?? m.name ?? 'builder'}): totals add up and every row is well formed`, () => {
          assert.ok(Number.isInteger(m.totalParams) && m.totalParams > 0, `total ${m.totalParams}`);
          if (m.trainableParams !== undefined || m.nonTrainableParams !== undefined) {
            assert.equal((m.trainableParams ?? NaN) + (m.nonTrainableParams ?? NaN), m.totalParams);
          }
          const cited = m.source.text.replace(/ \(code cell.*$/, '');
          assert.ok(existsSync(fixturePath('keras', cited)), `cited text ${cited} is missing`);
          if (m.source.quote !== undefined) {
            assert.ok(readFixture('keras', cited).includes(m.source.quote), 'the quoted line is in the cited text');
            assert.ok(m.source.quote.includes(m.totalParams.toLocaleString('en-US')), 'the quote shows the total');
          }
          if (m.rows) {
            assert.ok(m.rows.length > 0);
            const sum = m.rows.reduce((s, r) => s + r.params, 0);
            assert.equal(sum, m.totalParams, 'the rows add up to the printed total');
            const names = new Set<string>();
            for (const r of m.rows) {
              // A cell Keras cut (Keras 2 at the column width, Keras 3 with "…") is kept as printed.
              if (!r.nameTruncated) {
                assert.match(r.name, /^[\w.]+$/, `row name ${r.name}`);
                assert.ok(!names.has(r.name), `row ${r.name} appears twice`);
              }
              names.add(r.name);
              assert.ok(Number.isInteger(r.params) && r.params >= 0);
              assert.match(r.outputShape, /^\[?\(/, `row ${r.name} shape ${r.outputShape}`);
              if (!r.classTruncated) assert.match(r.class ?? '', /^\w+$/, `row ${r.name} class ${r.class}`);
              for (const c of r.connectedTo ?? []) {
                const from = c.replace(/\[\d+\]\[\d+\]$/, '');
                const known = c.endsWith('…') ? [...names].some((n) => n.startsWith(c.slice(0, -1))) : names.has(from);
                assert.ok(known, `row ${r.name} is connected to ${c}, which is not an earlier row`);
              }
            }
            assert.deepEqual(m.outputShape, Array.isArray(m.outputShape) ? m.outputShape : m.rows[m.rows.length - 1].outputShape);
          }
        });
      });
    });
  }
});
