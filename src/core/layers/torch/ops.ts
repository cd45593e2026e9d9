/**
 * What PyTorch code does to tensors between modules, as nodes of the graph: arithmetic with
 * PyTorch's broadcasting (`x + identity`, `x * w`), `torch.cat`/`stack`, `view`/`reshape`,
 * `permute`/`transpose`, `squeeze`/`unsqueeze`, reductions (`.mean((2, 3))`), indexing
 * (`x[:, :c]`), `F.pad` and element-wise functions. Their rules see whole shapes, batch first:
 * a `view(-1, 4608)` may change the batch, and PyTorch's messages quote whole shapes.
 * (`F.relu`, `F.max_pool2d`, `torch.flatten` are calls of the module definitions.)
 */
import { showValue, type Value } from '../../parse/values';
import { product, type Dim } from '../../shape';
import { bool, choice, float, int, optional, type ArgSpec, type Parsed } from '../args';
import { ShapeError, defineLayer, defineMergeLayer, type LayerType } from '../define';
import { NOT_TRAINABLE_YET, dimArg, intList, torchAxis } from './common';
import { catTrain, constantPadTrain, elementwiseTrain, getitemTrain, permuteTrain, reduceTrain, reshapeTrain } from './train';

const shown = (s: readonly Dim[]): string => `[${s.map((d) => (d === null ? '?' : d)).join(', ')}]`;

/**
 * The shape of an element-wise operation on two whole shapes with PyTorch's broadcasting (axes
 * aligned from the right, sizes of 1 stretch); throws PyTorch's message when they cannot.
 */
export function broadcastShapes(op: string, a: readonly Dim[], b: readonly Dim[]): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = Array(n);
  // From the last axis backwards, as PyTorch checks them (its message names the last mismatch).
  for (let i = n - 1; i >= 0; i--) {
    const x = a.length - n + i >= 0 ? a[a.length - n + i] : 1;
    const y = b.length - n + i >= 0 ? b[b.length - n + i] : 1;
    if (x === null || y === null) out[i] = x === 1 ? y : y === 1 ? x : x ?? y;
    else if (x === 1) out[i] = y;
    else if (y === 1 || x === y) out[i] = x;
    else {
      throw new ShapeError(
        `${op}: ${shown(a)} and ${shown(b)} do not broadcast; PyTorch raises "The size of tensor a (${x}) must match the size of tensor b (${y}) at non-singleton dimension ${i}"`,
        undefined,
        [],
        'merge-shapes',
      );
    }
  }
  return out;
}

function elementwise(name: 'add' | 'sub' | 'mul' | 'div', doc: string): LayerType {
  return defineMergeLayer({
    name,
    framework: 'pytorch',
    withBatch: true,
    category: 'core',
    doc,
    args: {},
    minInputs: 2,
    maxInputs: 2,
    inputRank: 'any',
    outputShape: (inputs) => broadcastShapes(name === 'add' ? 'x + y' : name === 'sub' ? 'x - y' : name === 'mul' ? 'x * y' : 'x / y', inputs[0], inputs[1]),
    macs: () => 0,
    train: elementwiseTrain(name),
  });
}

export const Add = elementwise('add', 'Element-wise sum of two tensors with broadcasting (PyTorch `x + y`, a residual connection).');
export const Sub = elementwise('sub', 'Element-wise difference of two tensors with broadcasting (PyTorch `x - y`).');
export const Mul = elementwise('mul', 'Element-wise product of two tensors with broadcasting (PyTorch `x * y`, e.g. squeeze-and-excitation gating).');
export const Div = elementwise('div', 'Element-wise quotient of two tensors with broadcasting (PyTorch `x / y`).');

/** A tensor and a constant (a number, or an eager tensor of a known shape): `x * 0.5`, `1 - x`, `x * mask`. */
export const Arith = defineLayer({
  name: 'arith',
  framework: 'pytorch',
  withBatch: true,
  category: 'core',
  doc: 'Arithmetic between a tensor and a constant (PyTorch `x * 0.5`, `x + bias_tensor`), element by element with broadcasting.',
  args: { op: choice(['+', '-', '*', '/', '**']), scalar: optional(float()), shape: optional(intList({ min: 0 })), reversed: bool(false) },
  inputRank: 'any',
  outputShape: (input, a) => (a.shape ? broadcastShapes(`x ${a.op} constant`, input, a.shape) : input),
  macs: () => 0,
  untrainable: NOT_TRAINABLE_YET,
});

const UNARY = ['exp', 'log', 'log2', 'log1p', 'sqrt', 'rsqrt', 'abs', 'neg', 'sign', 'sin', 'cos', 'floor', 'ceil', 'round', 'square', 'reciprocal', 'clamp', 'normalize', 'erf', 'contiguous', 'layer_norm', 'group_norm', 'batch_norm', 'instance_norm'] as const;

export const Unary = defineLayer({
  name: 'unary',
  framework: 'pytorch',
  category: 'core',
  doc: 'An element-wise function of a tensor (PyTorch `torch.exp(x)`, `x.clamp(0, 1)`, `F.normalize(x)`, `F.layer_norm(x, shape, weight, bias)` with the weights of the module that calls it); the shape does not change.',
  args: { fn: choice(UNARY) },
  inputRank: 'any',
  outputShape: (input) => input,
  receptiveField: () => ({ kind: 'identity' }),
  untrainable: NOT_TRAINABLE_YET,
});

/** torch.cat / torch.stack of several tensors along `dim` (whole shapes). */
export const Cat = defineMergeLayer({
  name: 'cat',
  framework: 'pytorch',
  withBatch: true,
  category: 'core',
  doc: 'Concatenates tensors along `dim` (PyTorch `torch.cat`); every other axis must match (dim=1 joins channels, as in U-Net and DenseNet).',
  args: { dim: int({ default: 0 }) },
  minInputs: 1,
  inputRank: 'any',
  outputShape(inputs, a) {
    const first = inputs[0];
    if (inputs.some((s) => s.length !== first.length)) {
      const odd = inputs.findIndex((s) => s.length !== first.length);
      throw new ShapeError(`torch.cat: tensor ${odd} ${shown(inputs[odd])} has ${inputs[odd].length} dimensions, tensor 0 ${shown(first)} has ${first.length}; PyTorch raises "Tensors must have same number of dimensions"`, undefined, [], 'merge-shapes');
    }
    const d = torchAxis('torch.cat', a.dim, first.length);
    const out = first.slice();
    let total: Dim = 0;
    inputs.forEach((s, t) => {
      s.forEach((x, i) => {
        if (i === d || x === null || out[i] === null || x === out[i]) return;
        throw new ShapeError(
          `torch.cat on dim ${a.dim}: tensor ${t} is ${shown(s)} and tensor 0 is ${shown(first)}; every other axis must match. PyTorch raises "Sizes of tensors must match except in dimension ${d}. Expected size ${out[i]} but got size ${x} for tensor number ${t} in the list."`,
          undefined,
          [],
          'merge-shapes',
        );
      });
      total = total === null || s[d] === null ? null : total + (s[d] as number);
    });
    out[d] = total;
    return out;
  },
  macs: () => 0,
  train: catTrain(),
});

export const Stack = defineMergeLayer({
  name: 'stack',
  framework: 'pytorch',
  withBatch: true,
  category: 'core',
  doc: 'Stacks tensors of one shape along a new axis `dim` (PyTorch `torch.stack`).',
  args: { dim: int({ default: 0 }) },
  minInputs: 1,
  inputRank: 'any',
  outputShape(inputs, a) {
    const first = inputs[0];
    inputs.forEach((s, t) => {
      if (s.length !== first.length || s.some((x, i) => x !== null && first[i] !== null && x !== first[i])) {
        throw new ShapeError(`torch.stack: tensor ${t} is ${shown(s)} and tensor 0 is ${shown(first)}; PyTorch raises "stack expects each tensor to be equal size"`, undefined, [], 'merge-shapes');
      }
    });
    const d = torchAxis('torch.stack', a.dim, first.length + 1);
    return [...first.slice(0, d), inputs.length, ...first.slice(d)];
  },
  macs: () => 0,
  untrainable: NOT_TRAINABLE_YET,
});

export const View = defineLayer({
  name: 'view',
  framework: 'pytorch',
  withBatch: true,
  category: 'reshaping',
  doc: 'Reshapes a tensor to `shape` (PyTorch `x.view(…)` / `reshape`); one size may be -1 and is inferred. `x.view(x.size(0), -1)` keeps the batch.',
  args: { shape: intList({ allowMinusOne: true, min: 0 }) },
  inputRank: 'any',
  outputShape(input, a, ctx) {
    const shape = a.shape;
    const total = product(input);
    const free = shape.filter((d) => d === -1).length;
    if (free > 1) throw new ShapeError(`view(${shape.join(', ')}): only one dimension can be inferred`, 'shape', [], 'view-size');
    const known = shape.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
    if (total === null) return shape.map((d) => (d === -1 ? null : d));
    if ((free === 0 && known !== total) || (free === 1 && (known === 0 || total % known !== 0))) {
      throw new ShapeError(`view: shape '[${shape.join(', ')}]' is invalid for input of size ${total} (the tensor is ${shown(input)}; the sizes must multiply to ${total})`, 'shape', [], 'view-size', true);
    }
    const out = shape.map((d) => (d === -1 ? total / known : d));
    const batch = input[0];
    if (shape[0] === -1 && batch !== null && out[0] !== batch && input.length > 1) {
      const perSample = product(input.slice(1));
      ctx.warn(
        `view(${shape.join(', ')}) turns the batch of ${batch} into ${out[0]}: one sample has ${perSample} values, not ${known}. The next layer will see ${shown(out)}; view(x.size(0), -1) keeps the batch`,
        { code: 'view-batch' },
      );
    }
    return out;
  },
  receptiveField: () => ({ kind: 'identity' }),
  train: reshapeTrain(() => true, 'a view'),
});

export const Permute = defineLayer({
  name: 'permute',
  framework: 'pytorch',
  withBatch: true,
  category: 'reshaping',
  doc: 'Reorders the axes (PyTorch `x.permute(0, 2, 1, 3)`, `x.transpose(1, 2)`).',
  args: { dims: intList() },
  inputRank: 'any',
  outputShape(input, a) {
    if (a.dims.length !== input.length) throw new ShapeError(`permute(${a.dims.join(', ')}): the tensor ${shown(input)} has ${input.length} dimensions, the permutation ${a.dims.length}`, 'dims', [], 'axis');
    const axes = a.dims.map((d) => torchAxis('permute', d, input.length, 'dims'));
    if (new Set(axes).size !== axes.length) throw new ShapeError(`permute(${a.dims.join(', ')}): repeated dim`, 'dims', [], 'axis');
    return axes.map((i) => input[i]);
  },
  receptiveField: (a) => ({ kind: a.dims.every((d, i) => d === i) ? 'identity' : 'unknown' }),
  train: permuteTrain(),
});

export const Squeeze = defineLayer({
  name: 'squeeze',
  framework: 'pytorch',
  withBatch: true,
  category: 'reshaping',
  doc: 'Removes axes of size 1 (PyTorch `x.squeeze()`, or only `dim`).',
  args: { dim: dimArg(null) },
  inputRank: 'any',
  outputShape(input, a) {
    if (a.dim === null) return input.filter((d) => d !== 1);
    const i = torchAxis('squeeze', a.dim, input.length);
    return input[i] === 1 ? [...input.slice(0, i), ...input.slice(i + 1)] : input;
  },
  receptiveField: () => ({ kind: 'identity' }),
  untrainable: NOT_TRAINABLE_YET,
});

export const Unsqueeze = defineLayer({
  name: 'unsqueeze',
  framework: 'pytorch',
  withBatch: true,
  category: 'reshaping',
  doc: 'Inserts an axis of size 1 at `dim` (PyTorch `x.unsqueeze(1)`).',
  args: { dim: int() },
  inputRank: 'any',
  outputShape(input, a) {
    const i = torchAxis('unsqueeze', a.dim, input.length + 1);
    return [...input.slice(0, i), 1, ...input.slice(i)];
  },
  receptiveField: () => ({ kind: 'identity' }),
  untrainable: NOT_TRAINABLE_YET,
});

/** A list of axes or one axis or None. */
function dims(): ArgSpec<number[] | null> {
  return {
    expected: 'an axis, a tuple of axes, or None',
    required: false,
    default: null,
    parse(v: Value): Parsed<number[] | null> {
      if (v.k === 'unknown') return { ok: 'unknown', why: v.why };
      if (v.k === 'none') return { ok: true, value: null };
      const items = v.k === 'seq' ? v.items : [v];
      if (items.every((x) => x.k === 'num' && Number.isInteger(x.v))) return { ok: true, value: items.map((x) => (x as { v: number }).v) };
      return { ok: false, message: `must be an axis, a tuple of axes, or None, got ${showValue(v)}` };
    },
  };
}

export const Reduce = defineLayer({
  name: 'reduce',
  framework: 'pytorch',
  withBatch: true,
  category: 'pooling',
  doc: 'A reduction over axes (PyTorch `x.mean((2, 3))`, `x.sum(1)`, `x.amax(dim=1, keepdim=True)`): the axes go, or stay as 1 with keepdim.',
  args: { fn: choice(['mean', 'sum', 'amax', 'amin', 'prod', 'std', 'var', 'logsumexp', 'norm']), dim: dims(), keepdim: bool(false) },
  inputRank: 'any',
  outputShape(input, a) {
    const axes = a.dim === null ? input.map((_, i) => i) : a.dim.map((d) => torchAxis(a.fn, d, input.length));
    return a.keepdim ? input.map((d, i) => (axes.includes(i) ? 1 : d)) : input.filter((_, i) => !axes.includes(i));
  },
  receptiveField: (a, input) => (a.dim !== null && a.dim.map((d) => (d < 0 ? d + input.length + 1 : d)).every((d) => d >= 2) ? { kind: 'global' } : { kind: 'identity' }),
  train: reduceTrain(),
});

/** One item of an index: a slice, an int, None (a new axis) or `...`. */
export type IndexSpec = { kind: 'slice'; start: number | null; stop: number | null; step: number } | { kind: 'int'; i: number } | { kind: 'none' } | { kind: 'ellipsis' };

/** Reads index items encoded as tuples (`('slice', 0, 8, 1)`, `('int', 0)`, `('none',)`, `('ellipsis',)`), as the interpreter builds them. */
function indexSpec(): ArgSpec<IndexSpec[]> {
  return {
    expected: 'an index',
    required: true,
    parse(v: Value): Parsed<IndexSpec[]> {
      if (v.k !== 'seq') return { ok: 'unknown' };
      const out: IndexSpec[] = [];
      const n = (x: Value | undefined): number | null | undefined => (x === undefined || x.k === 'none' ? null : x.k === 'num' && Number.isInteger(x.v) ? x.v : undefined);
      for (const item of v.items) {
        if (item.k !== 'seq' || item.items[0]?.k !== 'str') return { ok: 'unknown' };
        const kind = item.items[0].v;
        if (kind === 'slice') {
          const [start, stop, step] = [n(item.items[1]), n(item.items[2]), n(item.items[3])];
          if (start === undefined || stop === undefined || step === undefined) return { ok: 'unknown', why: 'a slice ConvLens cannot evaluate' };
          out.push({ kind: 'slice', start, stop, step: step ?? 1 });
        } else if (kind === 'int') {
          const i = n(item.items[1]);
          if (i === undefined || i === null) return { ok: 'unknown' };
          out.push({ kind: 'int', i });
        } else if (kind === 'none') out.push({ kind: 'none' });
        else if (kind === 'ellipsis') out.push({ kind: 'ellipsis' });
        else return { ok: 'unknown' };
      }
      return { ok: true, value: out };
    },
  };
}

/** Length of `range(len)[start:stop:step]`. */
function sliceLength(len: number, start: number | null, stop: number | null, step: number): number {
  const norm = (x: number): number => (x < 0 ? Math.max(0, len + x) : Math.min(len, x));
  if (step > 0) {
    const a = start === null ? 0 : norm(start);
    const b = stop === null ? len : norm(stop);
    return Math.max(0, Math.ceil((b - a) / step));
  }
  const a = start === null ? len - 1 : start < 0 ? len + start : Math.min(start, len - 1);
  const b = stop === null ? -1 : stop < 0 ? len + stop : stop;
  return Math.max(0, Math.ceil((a - b) / -step));
}

export const GetItem = defineLayer({
  name: 'getitem',
  framework: 'pytorch',
  withBatch: true,
  category: 'reshaping',
  doc: 'Indexing a tensor (PyTorch `x[:, :c]`, `x[..., 0]`, `x[:, None]`): slices keep an axis, an int removes it, None adds one.',
  args: { index: indexSpec() },
  inputRank: 'any',
  outputShape(input, a) {
    const items = a.index;
    const used = items.filter((i) => i.kind === 'slice' || i.kind === 'int').length;
    if (used > input.length) throw new ShapeError(`indexing a ${input.length}-D tensor ${shown(input)} with ${used} indices (PyTorch raises "too many indices for tensor of dimension ${input.length}")`, undefined, [], 'index');
    const out: Dim[] = [];
    let axis = 0;
    for (const it of items) {
      if (it.kind === 'ellipsis') {
        const rest = items.slice(items.indexOf(it) + 1).filter((i) => i.kind === 'slice' || i.kind === 'int').length;
        while (input.length - axis > rest) out.push(input[axis++]);
      } else if (it.kind === 'none') out.push(1);
      else if (it.kind === 'int') {
        const d = input[axis];
        if (d !== null && (it.i >= d || it.i < -d)) throw new ShapeError(`index ${it.i} is out of bounds for dimension ${axis} with size ${d}`, undefined, [], 'index');
        axis++;
      } else {
        const d = input[axis++];
        out.push(d === null ? null : sliceLength(d, it.start, it.stop, it.step));
      }
    }
    while (axis < input.length) out.push(input[axis++]);
    return out;
  },
  receptiveField: () => ({ kind: 'identity' }),
  train: getitemTrain(),
});

export const Pad = defineLayer({
  name: 'pad',
  framework: 'pytorch',
  withBatch: true,
  category: 'reshaping',
  doc: 'Pads the last axes by `pad` = (left, right, top, bottom, …) from the last axis backwards (PyTorch `F.pad`; negative amounts crop).',
  args: { pad: intList(), mode: choice(['constant', 'reflect', 'replicate', 'circular'], 'constant'), value: optional(float()) },
  inputRank: 'any',
  outputShape(input, a) {
    if (a.pad.length % 2 !== 0) throw new ShapeError(`F.pad: the padding (${a.pad.join(', ')}) must have an even length (PyTorch raises "Padding length must be divisible by 2")`, 'pad', [], 'pad');
    if (a.pad.length / 2 > input.length) throw new ShapeError(`F.pad: the padding (${a.pad.join(', ')}) pads ${a.pad.length / 2} axes of a ${input.length}-D tensor (PyTorch raises "Padding length too large")`, 'pad', [], 'pad');
    const out = input.slice();
    for (let k = 0; k < a.pad.length / 2; k++) {
      const i = input.length - 1 - k;
      const d = out[i];
      out[i] = d === null ? null : d + a.pad[2 * k] + a.pad[2 * k + 1];
      if (out[i] !== null && (out[i] as number) < 0) throw new ShapeError(`F.pad: the padding (${a.pad.join(', ')}) leaves axis ${i} of ${shown(input)} with a negative size`, 'pad', [], 'pad');
    }
    return out;
  },
  receptiveField: () => ({ kind: 'identity' }),
  train: constantPadTrain((l) => {
    const a = l.a as unknown as { pad: number[]; mode: string; value: number | null };
    if (a.mode !== 'constant') return `F.pad(mode='${a.mode}') is not trainable yet (mode='constant' is)`;
    if (a.pad.length / 2 > l.input.length) return 'F.pad of the batch axis is not trainable';
    // (left, right) pads the last axis, the next pair the one before it.
    const amounts = l.input.map((): [number, number] => [0, 0]);
    for (let k = 0; k < a.pad.length / 2; k++) amounts[l.input.length - 1 - k] = [a.pad[2 * k], a.pad[2 * k + 1]];
    return { amounts, value: a.value ?? 0 };
  }),
});

export const Expand = defineLayer({
  name: 'expand',
  framework: 'pytorch',
  withBatch: true,
  category: 'reshaping',
  doc: 'Repeats axes of size 1 to `sizes` without copying (PyTorch `x.expand(…)`, `x.expand_as(y)`; -1 keeps an axis).',
  args: { sizes: intList({ allowMinusOne: true, min: 0 }) },
  inputRank: 'any',
  outputShape(input, a) {
    const sizes = a.sizes;
    if (sizes.length < input.length) throw new ShapeError(`expand(${sizes.join(', ')}): the number of sizes (${sizes.length}) must be at least the tensor's ${input.length} dimensions`, 'sizes', [], 'expand');
    const lead = sizes.length - input.length;
    return sizes.map((s, i) => {
      const d = i >= lead ? input[i - lead] : 1;
      if (s === -1) return d;
      if (d !== null && d !== 1 && d !== s) throw new ShapeError(`expand: the size ${d} of ${shown(input)} at dimension ${i - lead} cannot become ${s} (only axes of size 1 expand)`, 'sizes', [], 'expand');
      return s;
    });
  },
  receptiveField: () => ({ kind: 'identity' }),
  untrainable: NOT_TRAINABLE_YET,
});

export const TORCH_OPS: readonly LayerType[] = [Add, Sub, Mul, Div, Arith, Unary, Cat, Stack, View, Permute, Squeeze, Unsqueeze, Reduce, GetItem, Pad, Expand];

