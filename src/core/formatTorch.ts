/**
 * The summary of a PyTorch model as torchinfo prints it (`torchinfo.summary(model, input_size)`):
 * one row per module call, indented by depth with torchinfo's `Class: depth-idx` names, the
 * output shape batch first, torchinfo's rules for "Param #" (a container shows what its rows
 * below do not, or its total at the deepest level shown; a module seen before is "(recursive)")
 * and "Mult-Adds", then its footer in its units. ConvLens adds the receptive field.
 */
import type { ModelReport, ModuleRow, ReceptiveField } from './analyze';
import type { Dim } from './shape';

/** The columns torchinfo can print that ConvLens fills, and its receptive field. */
export type TorchColumn = 'output_size' | 'num_params' | 'mult_adds' | 'receptive_field';

const TITLES: Record<TorchColumn, string> = {
  output_size: 'Output Shape',
  num_params: 'Param #',
  mult_adds: 'Mult-Adds',
  receptive_field: 'Receptive field',
};

export interface TorchSummaryOptions {
  /** Rows deeper than this are not printed (they still count in the totals); torchinfo's default is 3. */
  depth?: number;
  /** Which columns, in order; default: output shape, parameters, mult-adds, receptive field. */
  columns?: TorchColumn[];
}

const COUNTS = new Intl.NumberFormat('en-US');
/** Bytes sys.getsizeof adds to a tensor's storage: what torchinfo's "Input size" counts besides the data. */
const STORAGE_HEADER = 56;
const count = (n: number): string => COUNTS.format(n);

/** Python's `str(list)` of a shape, `?` for a size not known. */
const shapeText = (s: Dim[] | null): string => (s === null ? '--' : `[${s.map((d) => (d === null ? '?' : String(d))).join(', ')}]`);

function rfText(rf: ReceptiveField | null): string {
  if (rf === null) return '--';
  if (rf === 'global') return 'global';
  if (rf.size.length === 0) return '--';
  const n = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2).replace(/\.?0+$/, ''));
  return `${rf.size.map(n).join('×')} /${rf.stride.map(n).join('×')}`;
}

/** torchinfo's `get_start_str`: the tree drawing before a row's name. */
function startText(depth: number): string {
  if (depth === 0) return '';
  if (depth === 1) return '├─';
  return '│    '.repeat(depth - 1) + '└─';
}

/** The indices of the rows under row `i` (deeper, until one as shallow comes), as torchinfo's get_children_layers. */
function childrenOf(rows: readonly ModuleRow[], i: number): number[] {
  const out: number[] = [];
  for (let k = i + 1; k < rows.length && rows[k].depth > rows[i].depth; k++) out.push(k);
  return out;
}

/**
 * Parameters of a row that no row below it shows (torchinfo's `_leftover`): every row below
 * takes away its own (a leaf) or its leftover (a container); a module shown before takes away
 * its whole count once and its rows below are skipped.
 */
function leftover(rows: readonly ModuleRow[], i: number): number | null {
  let total = rows[i].params;
  const children = childrenOf(rows, i);
  const seen = new Set<string>();
  for (let k = 0; k < children.length && total !== null; k++) {
    const child = rows[children[k]];
    if (child.recursive) {
      if (!seen.has(child.name)) {
        seen.add(child.name);
        total = child.params === null ? null : total - child.params;
      }
      while (k + 1 < children.length && rows[children[k + 1]].depth > child.depth) k++;
      continue;
    }
    seen.add(child.name);
    const v = child.leaf ? child.params : leftover(rows, children[k]);
    total = total === null || v === null ? null : total - v;
  }
  return total;
}

/** torchinfo's "Param #" of a row. */
function paramsText(rows: readonly ModuleRow[], i: number, atMaxDepth: boolean): string {
  const r = rows[i];
  if (r.params === null) return '?';
  if (r.params === 0) return '--';
  if (r.recursive) return '(recursive)';
  if (atMaxDepth || r.leaf) return r.trainableParams ? count(r.params) : `(${count(r.params)})`;
  const left = leftover(rows, i);
  return left === null ? '?' : left > 0 ? count(left) : '--';
}

/** torchinfo's "Mult-Adds" of a row: a leaf's own, a container's at the deepest level shown. */
function macsText(rows: readonly ModuleRow[], i: number, atMaxDepth: boolean): string {
  const r = rows[i];
  if (r.leaf) return r.multAdds === null ? '?' : r.multAdds > 0 ? count(r.multAdds) : '--';
  if (!atMaxDepth) return '--';
  let sum: number | null = 0;
  for (const k of childrenOf(rows, i)) {
    const c = rows[k];
    if (c.leaf) sum = sum === null || c.multAdds === null ? null : sum + c.multAdds;
  }
  return sum === null ? '?' : sum > 0 ? count(sum) : '--';
}

/** torchinfo's `format_output_num`: a number with the units it picks (`(M): 12.05`, `: 1,199,882`). */
function withUnits(n: number | null, bytes: boolean, auto = true): string {
  if (n === null) return ': ?';
  let unit = '';
  let v = n;
  if (auto) {
    for (const [scale, u] of [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']] as const) {
      if (n >= scale) {
        unit = u;
        v = n / scale;
        break;
      }
    }
  }
  const shown = Number.isInteger(v) ? count(v) : v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return `${unit ? ` (${unit}${bytes ? 'B' : ''})` : ''}: ${shown}`;
}

const sum = (xs: (number | null)[]): number | null => xs.reduce<number | null>((a, x) => (a === null || x === null ? null : a + x), 0);

/** A PyTorch model's summary in torchinfo's layout, with its footer. */
export function formatTorchSummary(model: ModelReport, opts: TorchSummaryOptions = {}): string {
  const depth = opts.depth ?? 3;
  const columns = opts.columns ?? ['output_size', 'num_params', 'mult_adds', 'receptive_field'];
  const rows = model.modules ?? [];
  const colWidth = 25;
  const title = (r: ModuleRow): string => `${r.className}${r.depth > 0 ? `: ${r.depth}-${r.depthIndex}` : ''}`;
  // torchinfo widens the name column to the longest row, in steps of 5.
  let nameWidth = 40;
  const longest = Math.max(0, ...rows.map((r) => title(r).length + r.depth * 5 + 1));
  if (longest >= nameWidth) nameWidth = Math.ceil(longest / 5) * 5;
  const line = (name: string, cells: string[]): string => `${name.padEnd(nameWidth)} ${cells.map((c) => `${c.padEnd(colWidth)} `).join('')}`.trimEnd();
  const divider = '='.repeat(columns.length * colWidth + nameWidth);
  const out: string[] = [divider, line('Layer (type:depth-idx)', columns.map((c) => TITLES[c])), divider];
  rows.forEach((r, i) => {
    if (r.depth > depth) return;
    const atMax = r.depth === depth;
    const cells = columns.map((c) => {
      switch (c) {
        case 'output_size':
          return r.called ? shapeText(r.outputShape) : '--';
        case 'num_params':
          return paramsText(rows, i, atMax);
        case 'mult_adds':
          return macsText(rows, i, atMax);
        case 'receptive_field':
          return r.called ? rfText(r.receptiveField) : '--';
      }
      return '';
    });
    out.push(line(`${startText(r.depth)}${title(r)}`, cells));
  });
  out.push(divider);
  out.push(`Total params${withUnits(model.totalParams, false, false)}`);
  out.push(`Trainable params${withUnits(model.trainableParams, false, false)}`);
  out.push(`Non-trainable params${withUnits(model.nonTrainableParams, false, false)}`);
  const known = model.inputShape !== null && rows.some((r) => r.called);
  if (known) {
    const leaves = rows.filter((r) => r.leaf && r.called);
    out.push(`Total mult-adds${withUnits(sum(leaves.map((r) => r.multAdds)), false)}`);
    out.push(divider);
    // float32: 4 bytes an element; torchinfo measures the input with sys.getsizeof, which adds
    // the 56-byte header of the tensor's storage object (CPython, 64-bit).
    const inputs = model.inputs.map((t, i) => (t.shape === null || t.shape.some((d) => d === null) || (i === 0 && model.inputBatch === null) ? null : STORAGE_HEADER + 4 * t.shape.reduce<number>((p, d) => p * (d as number), model.inputBatch ?? 1)));
    const inputBytes = sum(inputs);
    const passBytes = sum(leaves.filter((r) => (r.params ?? 0) > 0).map((r) => (r.outputShape === null || r.outputShape.some((d) => d === null) ? null : 2 * 4 * r.outputShape.reduce<number>((p, d) => p * (d as number), 1))));
    const paramBytes = model.totalParams === null ? null : 4 * model.totalParams;
    out.push(`Input size${withUnits(inputBytes, true)}`);
    out.push(`Forward/backward pass size${withUnits(passBytes, true)}`);
    out.push(`Params size${withUnits(paramBytes, true)}`);
    out.push(`Estimated Total Size${withUnits(sum([inputBytes, passBytes, paramBytes]), true)}`);
  }
  out.push(divider);
  if (model.buffers && model.buffers.tensors > 0) out.push(`Buffers (not parameters): ${model.buffers.tensors} tensors, ${model.buffers.elements === null ? '?' : count(model.buffers.elements)} values (BatchNorm running statistics).`);
  if (!known) out.push('Input shape unknown: output shapes and sizes need one (call the model on an example, torchinfo.summary(model, input_size=…), or a # convlens: input_shape=(…) comment).');
  if (model.inputFrom) out.push(`Input ${shapeText(model.inputShape === null ? null : [model.inputBatch, ...model.inputShape])} from ${model.inputFrom}.`);
  if (model.speculative) out.push(`Built by ConvLens calling ${model.speculative} with its default arguments (the file never calls it).`);
  if (model.incomplete) out.push(`Note: this summary may be incomplete: ${model.incomplete}.`);
  return out.join('\n');
}
