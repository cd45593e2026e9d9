/**
 * ConvLens against real public Keras code: every model of test/fixtures/keras (keras.io examples,
 * the Keras guides, Deep Learning with Python notebooks, the keras.applications sources) must
 * give the numbers its author published — totals, trainable split, and where the published
 * table shows them, every row's class, output shape, parameters and "Connected to". Expected
 * numbers are parsed from the published text (see test/fixtures/keras/README.md); none is ours.
 *
 * Layer names are compared where the printing Keras names layers as ConvLens does (tf.keras 2.x
 * and Keras 3 number `conv2d`, `conv2d_1`, …; Keras 2.0.8 counted from `_1`); input layers and
 * nested models are named by version (`input_1` / `input_layer`, `model_1` / `functional_1`), so
 * they are matched by position.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { FileAnalysis, ModelReport } from '../../src/core/index';
import { analyze, fixturePath } from './helpers';

interface ExpectedRow {
  name: string;
  class: string;
  outputShape: string;
  params: number;
  connectedTo?: string[];
  classTruncated?: boolean;
  outputShapeTruncated?: boolean;
  nameTruncated?: boolean;
}
interface ExpectedModel {
  var: string | null;
  builder?: string;
  call?: string;
  when?: string;
  totalParams: number;
  /** Where the table was printed; `cell` for a notebook's output cell. */
  source?: { cell?: number };
  trainableParams?: number;
  nonTrainableParams?: number;
  outputShape?: string | string[];
  rows?: ExpectedRow[];
}
interface ExpectedFile {
  kerasVersion: string;
  models: ExpectedModel[];
  namesFromWholeGuide?: unknown;
  /** Modules the fixture imports that are other fixtures: their text runs first, `bind` (after the fixture) names the module. */
  imports?: { files: string[]; bind: string };
}

const dir = fixturePath('keras');
const expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as { files: Record<string, ExpectedFile> };

/** Where each code cell of a notebook fixture sits in its program: cell index (from 0, markdown counted) → [start, end). */
const cellRanges = new Map<string, Map<number, [number, number]>>();

/** A notebook's code cells in order, as one program (shell and magic lines left out). */
function source(file: string): string {
  const raw = readFileSync(path.join(dir, file), 'utf8');
  if (!file.endsWith('.ipynb')) return raw;
  const nb = JSON.parse(raw) as { cells: { cell_type: string; source: string | string[] }[] };
  const ranges = new Map<number, [number, number]>();
  let text = '';
  nb.cells.forEach((c, i) => {
    if (c.cell_type !== 'code') return;
    const code = (Array.isArray(c.source) ? c.source.join('') : c.source).split('\n').map((l) => (/^\s*[%!]/.test(l) ? '' : l)).join('\n');
    if (text) text += '\n\n';
    ranges.set(i, [text.length, text.length + code.length + 1]);
    text += code;
  });
  cellRanges.set(file, ranges);
  return text;
}

const fmt = (s: (number | null)[] | null, partial = false): string => (s === null ? '?' : partial ? `(None, …, ${s.join(', ')})` : `(None, ${s.map((d) => d ?? 'None').join(', ')})`);

/** The printed shape without tf.keras' list brackets around an input's shape. */
const normShape = (s: string): string => s.replace(/^\[/, '').replace(/\]$/, '');

interface Totals {
  totalParams: number | null;
  trainableParams: number | null;
  nonTrainableParams: number | null;
}

/** The model (or the `summary()` state of it) an expected entry describes. */
function find(a: FileAnalysis, f: ExpectedFile, m: ExpectedModel, i: number, offset: number, file: string): { totals: Totals; model?: ModelReport } | undefined {
  // A table printed by a notebook cell: that cell's summary() call (a notebook rebinds `model` many times).
  const range = m.source?.cell !== undefined ? cellRanges.get(file)?.get(m.source.cell) : undefined;
  if (range && m.var) {
    const inCell = a.models.flatMap((x) => x.snapshots.map((s) => ({ s, x }))).filter(({ s }) => s.span.start - offset >= range[0] && s.span.start - offset < range[1]);
    const same = f.models.filter((x) => x.source?.cell === m.source!.cell);
    const hit = inCell.length === same.length ? inCell[same.indexOf(m)] : undefined;
    if (!hit || hit.x.varName !== m.var) return undefined;
    // The rows are those of the model's final state; they are compared only when that is what was printed.
    const final = hit.x.snapshots[hit.x.snapshots.length - 1] === hit.s && hit.s.layers === hit.x.summary.length;
    return { totals: hit.s, model: final ? hit.x : undefined };
  }
  if (m.call && !m.var) {
    const model = a.models.find((x) => x.varName === `__expected_${i}`);
    return model && { totals: model, model };
  }
  if (m.builder) {
    const model = a.models.find((x) => x.speculative === `${m.builder}()`);
    return model && { totals: model, model };
  }
  // A variable printed several times (or rebound): the k-th summary() call of it.
  const entries = f.models.filter((x) => x.var === m.var && !x.builder);
  const k = entries.indexOf(m);
  const candidates = a.models.filter((x) => x.varName === m.var);
  const snapshots = candidates.flatMap((x) => x.snapshots.map((s) => ({ s, x })));
  if (snapshots.length === entries.length) {
    const { s, x } = snapshots[k];
    const last = candidates[candidates.length - 1];
    // The rows are those of the model's final state; they are compared only when that is what was printed.
    const final = x === last && snapshots.filter((y) => y.x === x).pop()?.s === s;
    return { totals: s, model: final ? x : undefined };
  }
  const model = candidates[k] ?? candidates[candidates.length - 1];
  return model && { totals: model, model };
}

function compareRows(m: ExpectedModel, got: ModelReport, namesComparable: boolean): string[] {
  const diffs: string[] = [];
  const rows = got.summary.map((s) => {
    const last = got.layers[s.calls[s.calls.length - 1]];
    return { name: s.name, cls: s.className, shape: last ? fmt(last.outputShape, last.partialShape) : '?', params: s.unbuilt ? 0 : s.params, connected: s.calls.flatMap((c) => got.layers[c].inputs) };
  });
  const exp = m.rows!;
  if (rows.length !== exp.length) diffs.push(`${rows.length} rows, published ${exp.length}: ${rows.map((r) => r.name).join(' ')}`);
  // Names that differ by Keras version (inputs, nested models) are mapped by position.
  const rename = new Map<string, string>();
  exp.forEach((e, i) => {
    if (rows[i] && (e.class === 'InputLayer' || ['Functional', 'Model', 'Sequential'].includes(e.class) || !namesComparable)) rename.set(e.name, rows[i].name);
  });
  exp.forEach((e, i) => {
    const r = rows[i];
    if (!r) return;
    const where = `row ${i + 1} (${e.name})`;
    const cls = e.class === 'Model' ? 'Functional' : e.class;
    if (e.classTruncated ? !r.cls.startsWith(cls) : r.cls !== cls) diffs.push(`${where}: class ${r.cls}, published ${e.class}`);
    if (namesComparable && !rename.has(e.name) && (e.nameTruncated ? !r.name.startsWith(e.name.replace(/…$/, '')) : r.name !== e.name)) diffs.push(`${where}: name ${r.name}`);
    const shape = normShape(e.outputShape);
    if (e.outputShapeTruncated ? !r.shape.startsWith(shape) : r.shape !== shape) diffs.push(`${where}: output ${r.shape}, published ${e.outputShape}`);
    if (r.params !== e.params) diffs.push(`${where}: params ${r.params}, published ${e.params}`);
    if (e.connectedTo && e.connectedTo.length && namesComparable) {
      const want = e.connectedTo.map((c) => c.replace(/^([^[]+)/, (n) => rename.get(n) ?? n));
      if (want.join(' ') !== r.connected.join(' ')) diffs.push(`${where}: connected to ${r.connected.join(', ')}, published ${e.connectedTo.join(', ')}`);
    }
  });
  return diffs;
}

/** Fixtures whose numbers need something not built yet, with what. */
const PENDING: Record<string, string> = {
};

describe('real Keras code gives its published numbers', () => {
  for (const [file, f] of Object.entries(expected.files)) {
    it(file, { todo: PENDING[file] }, async () => {
      const before = [...(f.imports?.files.map(source) ?? []), ''].join('\n');
      let text = before + [source(file), f.imports?.bind ?? ''].join('\n');
      f.models.forEach((m, i) => {
        if (m.call && !m.var) text += `\n__expected_${i} = ${m.call}\n`;
      });
      const a = await analyze(text);
      const namesComparable = !/Keras 2\.0|Keras 1|count from _1|names as the notebook ran/.test(f.kerasVersion) && !f.namesFromWholeGuide;
      const diffs: string[] = [];
      f.models.forEach((m, i) => {
        const label = `${m.var ?? m.builder ?? m.call}${m.when ? ` (${m.when})` : ''}`;
        const found = find(a, f, m, i, before.length, file);
        if (!found) {
          diffs.push(`${label}: no such model (found ${a.models.map((x) => x.varName ?? x.name).join(', ')})`);
          return;
        }
        const t = found.totals;
        if (t.totalParams !== m.totalParams) diffs.push(`${label}: total ${t.totalParams}, published ${m.totalParams}`);
        if (m.trainableParams !== undefined && t.trainableParams !== m.trainableParams) diffs.push(`${label}: trainable ${t.trainableParams}, published ${m.trainableParams}`);
        if (m.nonTrainableParams !== undefined && t.nonTrainableParams !== m.nonTrainableParams) diffs.push(`${label}: non-trainable ${t.nonTrainableParams}, published ${m.nonTrainableParams}`);
        const model = found.model;
        if (!model) return;
        if (typeof m.outputShape === 'string' && fmt(model.outputShape) !== normShape(m.outputShape)) diffs.push(`${label}: output ${fmt(model.outputShape)}, published ${m.outputShape}`);
        if (m.rows) diffs.push(...compareRows(m, model, namesComparable).map((d) => `${label}: ${d}`));
      });
      assert.deepEqual(diffs, []);
    });
  }
});
