import type { LayerReport, ModelReport, ReceptiveField } from './analyze';
import type { FrameworkName } from './layers/define';
import { formatTorchSummary } from './formatTorch';
import { torchShape, type Dim } from './shape';
import { printable } from './text';

/** 38390 → `38,390` (Keras' thousands separators). */
export const formatCount = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Bytes as Keras prints weight memory: 1024-based, two decimals (`149.96 KB`). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  for (const unit of units) {
    if (v / 1024 < 1) return `${v.toFixed(2)} ${unit}`;
    v /= 1024;
  }
  return `${v.toFixed(2)} PB`;
}

/** 1,296,000 → `1.3 M`; 497,000 → `497 K`. */
export function formatCompact(n: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [scale, unit] of units) {
    if (n >= scale) {
      const v = n / scale;
      return `${v >= 100 ? Math.round(v) : Number(v.toFixed(1))} ${unit}`;
    }
  }
  return String(n);
}

/** Keras notation with the batch axis: `(None, 24, 24, 10)`; `(None, …, 64)` when leading axes are unknown. */
export function formatShape(shape: Dim[] | null, partial = false, unknown = 'None', batch: Dim = null): string {
  if (shape === null) return '?';
  const dims = shape.map((d) => (d === null ? unknown : String(d)));
  // A batch fixed by the input (`keras.Input(shape, batch_size=128)`) is printed, as Keras does.
  const b = batch === null ? 'None' : String(batch);
  return partial ? `(${b}, …, ${dims.join(', ')})` : `(${[b, ...dims].join(', ')})`;
}

/**
 * A shape as the model's framework prints it: Keras' `(None, 24, 24, 10)`; PyTorch's
 * `[1, 10, 24, 24]` with the batch (`[…, 128]` when the leading axes are not known).
 */
export function formatFrameworkShape(framework: FrameworkName, batch: Dim, shape: Dim[] | null, partial = false, unknown = 'None'): string {
  if (framework !== 'pytorch') return formatShape(shape, partial, unknown);
  if (shape === null) return '?';
  return partial ? `[…, ${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]` : torchShape(batch, shape);
}

/** A size or step for display: integers as they are, fractions to two decimals (`0.5`, `0.33`). */
export const trimNum = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(2).replace(/\.?0+$/, ''));

/** `14×14 px, stride 4` or `global`. */
export function formatReceptiveField(rf: ReceptiveField | null): string {
  if (rf === null) return '—';
  if (rf === 'global') return 'global';
  if (rf.size.length === 0) return '—';
  return `${rf.size.map(trimNum).join('×')} /${rf.stride.map(trimNum).join('×')}`;
}

/** Parameter count with its memory, as Keras 3 prints totals: `38,390 (149.96 KB)`. */
export const formatParams = (n: number): string => `${formatCount(n)} (${formatBytes(n * 4)})`;

function pad(s: string, w: number): string {
  return s.length >= w ? `${s} ` : s + ' '.repeat(w - s.length);
}

export interface SummaryOptions {
  /** List the layers of nested models under their row, as Keras' `expand_nested=True`. */
  expandNested?: boolean;
  /** PyTorch models: the deepest module level printed (torchinfo's `depth`, default 3). */
  depth?: number;
  /** Where an offset of the file is, for the notes on summary() and compile() calls (`line 12`). */
  where?: (offset: number) => string;
}

/**
 * A `model.summary()` table with the extra ConvLens columns (MACs, receptive field), one row per
 * layer in Keras' order; functional models that are not a plain chain get Keras' "Connected to".
 */
export function formatSummary(model: ModelReport, opts: SummaryOptions = {}): string {
  if (model.framework === 'pytorch') return formatTorchSummary(model, { depth: opts.depth });
  const header = ['Layer (type)', 'Output Shape', 'Param #', 'MACs', 'Receptive field', ...(model.connected ? ['Connected to'] : [])];
  const rows: string[][] = [];
  const addRows = (m: ModelReport, depth: number): void => {
    for (const s of m.summary) {
      const calls = s.calls.map((i) => m.layers[i]);
      const last: LayerReport | undefined = calls[calls.length - 1];
      let macs: number | null = 0;
      for (const c of calls) macs = macs === null || c.macs === null ? null : macs + c.macs;
      const prefix = depth > 0 ? `${'   '.repeat(depth)}└ ` : '';
      const params = s.unbuilt ? '0 (unbuilt)' : s.params === null ? '?' : formatCount(s.params);
      const row = [
        `${prefix}${printable(s.name)} (${printable(s.className)})`,
        last ? formatShape(last.outputShape, last.partialShape, 'None', last.batch) : '?',
        params,
        calls.length === 0 ? '?' : macs === null ? '?' : formatCount(macs),
        last ? formatReceptiveField(last.receptiveField) : '—',
      ];
      if (model.connected) row.push(calls.flatMap((c) => c.inputs).join(', ') || '-');
      rows.push(row);
      const nested = last?.nested;
      if (opts.expandNested && nested && depth < 8) addRows(nested, depth + 1);
    }
  };
  addRows(model, 0);
  // Loops, not Math.max(...rows): a model may have more layers than a call takes arguments.
  const widths = header.map((h) => h.length + 2);
  for (const r of rows) r.forEach((cell, i) => (widths[i] = Math.max(widths[i], cell.length + 2)));
  widths[0] = Math.max(widths[0], 29);
  widths[1] = Math.max(widths[1], 26);
  const total = widths.reduce((a, b) => a + b, 1);
  const line = (cells: string[]): string => ` ${cells.map((c, i) => pad(c, widths[i])).join('')}`.trimEnd();
  const out: string[] = [];
  out.push(`Model: "${printable(model.name)}"${model.varName ? `  (${printable(model.varName)})` : ''}`);
  out.push('_'.repeat(total));
  out.push(line(header));
  out.push('='.repeat(total));
  rows.forEach((r, i) => {
    out.push(line(r));
    if (i < rows.length - 1) out.push('');
  });
  out.push('='.repeat(total));
  const p = (n: number | null): string => (n === null ? '? (some layers could not be analysed)' : formatParams(n));
  out.push(`Total params: ${p(model.totalParams)}`);
  out.push(`Trainable params: ${p(model.trainableParams)}`);
  out.push(`Non-trainable params: ${p(model.nonTrainableParams)}`);
  out.push(`Total MACs: ${model.macs === null ? '?' : `${formatCount(model.macs)} (${formatCompact(model.macs)})`}`);
  out.push(...trainableNotes(model, opts.where));
  if (model.inputFrom) out.push(`Input shape from ${model.inputFrom}.`);
  if (model.speculative) out.push(`Built by ConvLens calling ${model.speculative} with its default arguments (the file never calls it).`);
  if (model.incomplete) out.push(`Note: this summary may be incomplete: ${printable(model.incomplete)}.`);
  out.push('_'.repeat(total));
  return out.join('\n');
}

/**
 * Where the trainable split above comes from when code changed `trainable` after it, and what
 * the file's other `summary()` calls printed when that differs from the table.
 */
export function trainableNotes(model: ModelReport, where: (offset: number) => string = (o) => `offset ${o}`): string[] {
  const out: string[] = [];
  const from = model.trainableFrom;
  if (from?.call === 'compile') out.push(`Trainable split as compile() at ${where(from.span.start)} fixed it for training; code after it changes trainable for the next compile().`);
  if (from?.call === 'summary') out.push(`Trainable split as summary() at ${where(from.span.start)} printed it; code after it changes trainable.`);
  for (const s of model.snapshots) {
    if (s.totalParams === model.totalParams && s.trainableParams === model.trainableParams && s.nonTrainableParams === model.nonTrainableParams) continue;
    const n = (x: number | null): string => (x === null ? '?' : formatCount(x));
    out.push(`summary() at ${where(s.span.start)} printed: Total params ${n(s.totalParams)}, Trainable ${n(s.trainableParams)}, Non-trainable ${n(s.nonTrainableParams)}.`);
  }
  return out;
}
