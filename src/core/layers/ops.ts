/**
 * Operations Keras records when code does arithmetic on symbolic tensors (`x * 0.5`, `1 - x`):
 * nodes of the graph without weights, shown in summaries under Keras 3's op names (`multiply`).
 */
import { windowOutputShape, type Dim } from '../shape';
import { any, axes, bool, choice, float, int, ints, intTuple } from './args';
import { ShapeError, defineLayer } from './define';

export const ScalarOp = defineLayer({
  name: 'ScalarOp',
  category: 'core',
  doc: 'Arithmetic between a tensor and a number (`x * 0.5`), element by element; the shape does not change.',
  args: { op: choice(['+', '-', '*', '/']), scalar: float(), reversed: bool(false) },
  inputRank: 'any',
  outputShape: (input) => input,
  train: {
    forward(g, l, x) {
      const c = g.scalar(l.a.scalar);
      switch (l.a.op) {
        case '+':
          return { y: g.add(x, c) };
        case '-':
          return { y: l.a.reversed ? g.sub(c, x) : g.sub(x, c) };
        case '*':
          return { y: g.mul(x, c) };
        default:
          return { y: l.a.reversed ? g.div(c, x) : g.div(x, c) };
      }
    },
    backward(g, l, b) {
      if (!b.needDx) return { grads: {} };
      switch (l.a.op) {
        case '+':
          return { dx: b.dy, grads: {} };
        case '-':
          return { dx: l.a.reversed ? g.neg(b.dy) : b.dy, grads: {} };
        case '*':
          return { dx: g.mul(b.dy, g.scalar(l.a.scalar)), grads: {} };
        default:
          // d(x/c) = dy/c; d(c/x) = −c·dy/x² = −dy·y/x.
          return { dx: l.a.reversed ? g.neg(g.div(g.mul(b.dy, b.fwd.y), b.x)) : g.div(b.dy, g.scalar(l.a.scalar)), grads: {} };
      }
    },
  },
});

/** Element-wise functions code applies to tensors (`tf.exp(x)`, `ops.sqrt(x)`). */
const UNARY = ['exp', 'log', 'sqrt', 'square', 'abs', 'negative', 'sign', 'sin', 'cos', 'floor', 'ceil', 'round', 'rsqrt', 'reciprocal', 'stop_gradient', 'cast', 'constant_op'] as const;

export const UnaryOp = defineLayer({
  name: 'UnaryOp',
  category: 'core',
  doc: 'An element-wise function of a tensor (`tf.exp(x)`, `ops.square(x)`), or arithmetic with a constant array; the shape does not change.',
  args: { fn: choice(UNARY) },
  inputRank: 'any',
  outputShape: (input) => input,
  train: {
    refuse: (l) => (['exp', 'log', 'sqrt', 'square', 'abs', 'negative', 'stop_gradient', 'cast'].includes(l.a.fn) ? undefined : `${l.a.fn}() of a tensor is not trainable yet`),
    forward(g, l, x) {
      switch (l.a.fn) {
        case 'exp':
          return { y: g.exp(x) };
        case 'log':
          return { y: g.log(x) };
        case 'sqrt':
          return { y: g.sqrt(x) };
        case 'square':
          return { y: g.mul(x, x) };
        case 'abs':
          return { y: g.abs(x) };
        case 'negative':
          return { y: g.neg(x) };
        default:
          return { y: g.identity(x) };
      }
    },
    backward(g, l, b) {
      if (!b.needDx) return { grads: {} };
      const dy = b.dy;
      switch (l.a.fn) {
        case 'exp':
          return { dx: g.mul(dy, b.fwd.y), grads: {} };
        case 'log':
          return { dx: g.div(dy, b.x), grads: {} };
        case 'sqrt':
          return { dx: g.div(dy, g.mul(b.fwd.y, g.scalar(2))), grads: {} };
        case 'square':
          return { dx: g.mul(dy, g.mul(b.x, g.scalar(2))), grads: {} };
        case 'abs':
          return { dx: g.mul(dy, g.sign(b.x)), grads: {} };
        case 'negative':
          return { dx: g.neg(dy), grads: {} };
        case 'stop_gradient':
          return { dx: g.mul(dy, g.scalar(0)), grads: {} };
        default:
          return { dx: dy, grads: {} };
      }
    },
  },
});

/**
 * Tensor functions that only move values around (`tf.nn.depth_to_space`, `tf.image.resize`,
 * `tf.reduce_mean`, `ops.expand_dims`): graph nodes without weights. Their axes count the batch
 * axis as TensorFlow's do (axis=1 is the first axis of a sample). ConvLens does not train them
 * yet; the trainer refuses them by name.
 */
const NOT_TRAINED = 'ConvLens cannot train tensor functions that rearrange values (depth_to_space, resize, reductions, …) yet';

/** The sample axis (0-based, batch excluded) of a TensorFlow axis over a sample of `rank`; throws for the batch axis. */
function sampleAxis(axis: number, rank: number, what: string): number {
  const full = axis < 0 ? axis + rank + 1 : axis;
  if (full === 0) throw new ShapeError(`${what}: axis ${axis} is the batch axis, which ConvLens keeps apart from a sample's shape`, 'axis');
  if (full < 1 || full > rank) throw new ShapeError(`${what}: axis ${axis} is out of range for a tensor of rank ${rank + 1}`, 'axis');
  return full - 1;
}

export const DepthToSpace = defineLayer({
  name: 'DepthToSpace',
  category: 'reshaping',
  doc: '`tf.nn.depth_to_space(x, block_size)`: moves channels into blocks of block_size × block_size pixels (sub-pixel upsampling); channels must divide by block_size².',
  args: { block_size: int({ min: 2 }) },
  inputRank: 3,
  inputWords: 'an image batch (batch, height, width, channels)',
  outputShape([h, w, c], a) {
    const b = a.block_size;
    if (c !== null && c % (b * b) !== 0) throw new ShapeError(`depth_to_space: ${c} channels do not divide by block_size² = ${b * b}`, 'block_size', [], 'shape', true);
    return [h === null ? null : h * b, w === null ? null : w * b, c === null ? null : c / (b * b)];
  },
  macs: () => 0,
  receptiveField: (a) => ({ kind: 'upsample', factor: [a.block_size, a.block_size] }),
  untrainable: NOT_TRAINED,
});

export const SpaceToDepth = defineLayer({
  name: 'SpaceToDepth',
  category: 'reshaping',
  doc: '`tf.nn.space_to_depth(x, block_size)`: moves each block_size × block_size block of pixels into channels; height and width must divide by block_size.',
  args: { block_size: int({ min: 2 }) },
  inputRank: 3,
  inputWords: 'an image batch (batch, height, width, channels)',
  outputShape([h, w, c], a) {
    const b = a.block_size;
    for (const [d, axis] of [[h, 'height'], [w, 'width']] as const) {
      if (d !== null && d % b !== 0) throw new ShapeError(`space_to_depth: ${axis} ${d} does not divide by block_size ${b}`, 'block_size', [], 'shape', true);
    }
    return [h === null ? null : h / b, w === null ? null : w / b, c === null ? null : c * b * b];
  },
  macs: () => 0,
  receptiveField: (a) => ({ kind: 'window', kernel: [a.block_size, a.block_size], stride: [a.block_size, a.block_size] }),
  untrainable: NOT_TRAINED,
});

export const ResizeImages = defineLayer({
  name: 'ResizeImages',
  category: 'reshaping',
  doc: '`tf.image.resize(x, size)` / `ops.image.resize`: resamples each image to height × width = size; channels unchanged.',
  args: { size: ints(2, { min: 1 }), method: choice(['bilinear', 'nearest', 'bicubic', 'area', 'lanczos3', 'lanczos5', 'gaussian', 'mitchellcubic', 'lanczos', 'linear', 'cubic'], 'bilinear') },
  inputRank: 3,
  inputWords: 'an image batch (batch, height, width, channels)',
  outputShape: ([, , c], a) => [a.size[0], a.size[1], c],
  macs: () => 0,
  receptiveField: () => ({ kind: 'unknown' }),
  untrainable: NOT_TRAINED,
});

const REDUCTIONS = ['mean', 'sum', 'max', 'min', 'prod', 'std', 'variance', 'logsumexp', 'any', 'all', 'argmax', 'argmin'] as const;

export const Reduce = defineLayer({
  name: 'Reduce',
  category: 'core',
  doc: 'A reduction over axes (`tf.reduce_mean(x, axis=[1, 2])`, `ops.max(x, axis=-1, keepdims=True)`): those axes go, or stay as 1 with keepdims.',
  args: { fn: choice(REDUCTIONS), axis: axes([]), keepdims: bool(false) },
  inputRank: { min: 1 },
  outputShape(input, a) {
    const gone = new Set(a.axis.map((x) => sampleAxis(x, input.length, `reduce_${a.fn}`)));
    return input.flatMap((d, i) => (gone.has(i) ? (a.keepdims ? [1] : []) : [d]));
  },
  macs: () => 0,
  receptiveField: () => ({ kind: 'global' }),
  untrainable: NOT_TRAINED,
});

export const ExpandDims = defineLayer({
  name: 'ExpandDims',
  category: 'reshaping',
  doc: '`tf.expand_dims(x, axis)`: inserts an axis of size 1.',
  args: { axis: int() },
  inputRank: 'any',
  outputShape(input, a) {
    const at = sampleAxis(a.axis, input.length + 1, 'expand_dims');
    return [...input.slice(0, at), 1, ...input.slice(at)];
  },
  macs: () => 0,
  receptiveField: () => ({ kind: 'unknown' }),
  untrainable: NOT_TRAINED,
});

export const Squeeze = defineLayer({
  name: 'Squeeze',
  category: 'reshaping',
  doc: '`tf.squeeze(x, axis)`: removes axes of size 1 (every one of them without axis).',
  args: { axis: axes([], { noneMeansAll: true }) },
  inputRank: { min: 1 },
  outputShape(input, a) {
    if (a.axis.length === 0) {
      if (input.some((d) => d === null)) throw new ShapeError('squeeze without axis: ConvLens cannot tell which axes of unknown size are 1; give axis=', 'axis');
      return input.filter((d) => d !== 1);
    }
    const gone = new Set(a.axis.map((x) => sampleAxis(x, input.length, 'squeeze')));
    for (const i of gone) if (input[i] !== null && input[i] !== 1) throw new ShapeError(`squeeze: axis ${i + 1} has size ${input[i]}, not 1`, 'axis', [], 'shape', true);
    return input.filter((_, i) => !gone.has(i));
  },
  macs: () => 0,
  receptiveField: () => ({ kind: 'unknown' }),
  untrainable: NOT_TRAINED,
});

export const Transpose = defineLayer({
  name: 'Transpose',
  category: 'reshaping',
  doc: '`tf.transpose(x, perm)`: permutes the axes; the batch axis must stay first.',
  args: { perm: intTuple({ min: 0 }) },
  inputRank: { min: 1 },
  outputShape(input, a) {
    const rank = input.length + 1;
    if (a.perm.length !== rank || [...a.perm].sort((x, y) => x - y).some((p, i) => p !== i)) throw new ShapeError(`transpose: perm ${JSON.stringify(a.perm)} is not a permutation of the ${rank} axes`, 'perm');
    if (a.perm[0] !== 0) throw new ShapeError('transpose: perm moves the batch axis, which ConvLens keeps first', 'perm');
    return a.perm.slice(1).map((p) => input[p - 1]);
  },
  macs: () => 0,
  receptiveField: () => ({ kind: 'unknown' }),
  untrainable: NOT_TRAINED,
});

/**
 * One index item of `x[…]` over a sample's axes (the batch axis is kept by the caller):
 * a slice with its bounds, an integer (the axis goes), a new axis of size 1, or `...`.
 */
export type IndexSpec = { kind: 'slice'; start: number | null; stop: number | null; step: number } | { kind: 'index'; at: number } | { kind: 'newaxis' } | { kind: 'ellipsis' };

/** Python's `len(range(*slice(start, stop, step).indices(n)))`. */
function sliceLength(n: number, start: number | null, stop: number | null, step: number): number {
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
  if (step > 0) {
    const a = start === null ? 0 : clamp(start < 0 ? start + n : start, 0, n);
    const b = stop === null ? n : clamp(stop < 0 ? stop + n : stop, 0, n);
    return Math.max(0, Math.ceil((b - a) / step));
  }
  const a = start === null ? n - 1 : clamp(start < 0 ? start + n : start, -1, n - 1);
  const b = stop === null ? -1 : clamp(stop < 0 ? stop + n : stop, -1, n - 1);
  return Math.max(0, Math.ceil((a - b) / -step));
}

/** `x[..., :5]` on one sample's shape: the per-axis rule of NumPy basic indexing. */
export function indexShape(input: readonly Dim[], items: readonly IndexSpec[]): Dim[] {
  const consumes = items.filter((i) => i.kind === 'slice' || i.kind === 'index').length;
  if (items.filter((i) => i.kind === 'ellipsis').length > 1) throw new ShapeError('an index can only have a single ellipsis (...)', 'key');
  if (consumes > input.length) throw new ShapeError(`too many indices: the tensor has ${input.length + 1} axes, the index uses ${consumes + 1}`, 'key', [], 'shape', true);
  const out: Dim[] = [];
  let axis = 0;
  for (const it of items) {
    if (it.kind === 'ellipsis') {
      const rest = input.length - consumes;
      for (let k = 0; k < rest; k++) out.push(input[axis++]);
    } else if (it.kind === 'newaxis') out.push(1);
    else if (it.kind === 'index') {
      const d = input[axis++];
      if (d !== null && (it.at >= d || it.at < -d)) throw new ShapeError(`index ${it.at} is out of range for an axis of size ${d}`, 'key', [], 'shape', true);
    } else {
      const d = input[axis++];
      out.push(d === null ? null : sliceLength(d, it.start, it.stop, it.step));
    }
  }
  while (axis < input.length) out.push(input[axis++]);
  return out;
}

/** The index of a GetItem node as Python writes it (`..., :5`), for its hover and config. */
export function indexText(items: readonly IndexSpec[]): string {
  return items
    .map((i) => (i.kind === 'ellipsis' ? '...' : i.kind === 'newaxis' ? 'None' : i.kind === 'index' ? String(i.at) : `${i.start ?? ''}:${i.stop ?? ''}${i.step !== 1 ? `:${i.step}` : ''}`))
    .join(', ');
}

/** Reads back {@link indexText}. */
function parseIndexText(text: string): IndexSpec[] {
  if (text.trim() === '') return [];
  return text.split(',').map((raw) => {
    const t = raw.trim();
    if (t === '...') return { kind: 'ellipsis' } as const;
    if (t === 'None') return { kind: 'newaxis' } as const;
    if (!t.includes(':')) return { kind: 'index', at: Number(t) } as const;
    const [a, b, c] = t.split(':');
    const n = (s: string | undefined): number | null => (s === undefined || s === '' ? null : Number(s));
    return { kind: 'slice', start: n(a), stop: n(b), step: n(c) ?? 1 } as const;
  });
}

export const GetItem = defineLayer({
  name: 'GetItem',
  category: 'reshaping',
  doc: 'Indexing or slicing a tensor (`x[..., :5]`, `x[:, 0]`, `x[:, None]`): NumPy basic indexing over each sample; the batch axis stays.',
  args: { key: any() },
  inputRank: 'any',
  outputShape: (input, a) => indexShape(input, parseIndexText(a.key?.k === 'str' ? a.key.v : '')),
  macs: () => 0,
  receptiveField: () => ({ kind: 'unknown' }),
  untrainable: 'ConvLens cannot train tensor indexing yet',
});

export const ExtractPatches = defineLayer({
  name: 'ExtractPatches',
  category: 'reshaping',
  doc: '`ops.image.extract_patches(x, size)` / `tf.image.extract_patches`: every size × size patch (moved by strides, default the size) laid out along the channels: (h, w, c) → (h′, w′, size·size·c).',
  args: { size: ints(2, { min: 1 }), strides: ints(2, { min: 1, default: [0, 0] }), dilation_rate: ints(2, { min: 1, default: 1 }), padding: choice(['valid', 'same'], 'valid') },
  inputRank: 3,
  inputWords: 'an image batch (batch, height, width, channels)',
  outputShape([h, w, c], a) {
    const strides = a.strides[0] === 0 ? a.size : a.strides;
    const spatial = windowOutputShape([h, w], a.size, strides, a.padding, a.dilation_rate);
    if (spatial.some((d) => d !== null && d <= 0)) throw new ShapeError(`extract_patches: ${a.size[0]}×${a.size[1]} patches do not fit in ${h ?? 'None'}×${w ?? 'None'}`, 'size', [], 'shape', true);
    return [...spatial, c === null ? null : a.size[0] * a.size[1] * c];
  },
  macs: () => 0,
  receptiveField: (a) => ({ kind: 'window', kernel: a.size, stride: a.strides[0] === 0 ? a.size : a.strides, dilation: a.dilation_rate }),
  untrainable: NOT_TRAINED,
});
