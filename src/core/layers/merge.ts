/**
 * Merge layers: several tensors in, one out (`Add()([a, b])`, `layers.concatenate([a, b])`).
 * Shapes follow Keras' `Merge._compute_elemwise_op_output_shape` (broadcasting over axes of size
 * 1 and unknown sizes) and `Concatenate.build` (every axis equal but the concatenation axis).
 */
import type { GraphBuilder } from '../onnx/graphBuilder';
import { onnxAxis, onnxSampleShape } from '../onnx/layout';
import { product, type Dim } from '../shape';
import { bool, int, ints, type ArgSpecs } from './args';
import { ShapeError, defineMergeLayer, type ForwardResult, type MergeTrain, type MergeTrainLayer } from './define';

const fmt = (s: Dim[]): string => `(None, ${s.map((d) => (d === null ? 'None' : d)).join(', ')})`;

/**
 * The shape of an element-wise operation on two per-sample shapes, as Keras computes it; throws
 * with both shapes when they cannot broadcast.
 */
export function elementwiseShape(layer: string, a: Dim[], b: Dim[], ia = 0, ib = 1): Dim[] {
  if (a.length < b.length) return elementwiseShape(layer, b, a, ib, ia);
  if (b.length === 0) return a;
  const out: Dim[] = a.slice(0, a.length - b.length);
  const tail = a.slice(a.length - b.length);
  for (let k = 0; k < b.length; k++) {
    const i = tail[k];
    const j = b[k];
    if (i === null || j === null) out.push(null);
    else if (i === 1) out.push(j);
    else if (j === 1) out.push(i);
    else if (i !== j) {
      throw new ShapeError(
        `${layer} needs inputs of the same shape (or sizes of 1 that broadcast), but input ${ia + 1} is ${fmt(a)} and input ${ib + 1} is ${fmt(b)}`,
        undefined,
        [],
        'merge-shapes',
      );
    } else out.push(i);
  }
  return out;
}

function elementwise(layer: string, inputs: Dim[][]): Dim[] {
  let out = inputs[0];
  for (let i = 1; i < inputs.length; i++) out = elementwiseShape(layer, out, inputs[i], 0, i);
  return out;
}

const sameShapes = (l: MergeTrainLayer<ArgSpecs>): boolean => l.inputs.every((s) => s.join('×') === l.inputs[0].join('×'));

/**
 * An input of a broadcasting merge as the graph holds it, ready for ONNX's broadcasting: a
 * per-sample shape of lower rank is aligned to the output's trailing axes as Keras aligns it
 * ((C,) against (H, W, C)), then moved to the graphs' channels-first layout ((C, 1, 1)).
 */
function aligned(g: GraphBuilder, x: string, shape: readonly number[], rank: number): string {
  return shape.length === rank ? x : g.reshape(x, [-1, ...onnxSampleShape(mergeAligned(shape, rank))]);
}

/**
 * A merge input's per-sample shape expanded to `rank` as Keras' merges expand it (sizes of 1 in
 * front: `expand_dims(x, axis=1)` after the batch), for the graphs and the PyTorch export alike.
 */
export function mergeAligned(shape: readonly number[], rank: number): number[] {
  return [...new Array<number>(rank - shape.length).fill(1), ...shape];
}

/** The gradient of a broadcast input: summed over the axes it was repeated along, in its own shape. */
function unbroadcast(g: GraphBuilder, d: string, shape: readonly number[], out: readonly number[]): string {
  const padded = mergeAligned(shape, out.length);
  const axes = padded.flatMap((s, k) => (s === 1 && out[k] !== 1 ? [onnxAxis(k, out.length)] : []));
  const summed = axes.length ? g.reduceSum(d, axes, true) : d;
  return padded.length === shape.length ? summed : g.reshape(summed, [-1, ...onnxSampleShape(shape)]);
}

/**
 * Element-wise merges, with Keras' broadcasting (squeeze-and-excitation's (H, W, C) × (1, 1, C)):
 * every input aligned to the output's rank for the forward pass; each input's gradient summed
 * back to its own shape.
 */
function elementwiseTrain(
  forward: (g: GraphBuilder, xs: string[]) => string,
  backward: (g: GraphBuilder, xs: string[], y: string, dy: string, needDx: boolean[]) => (string | undefined)[],
): MergeTrain<ArgSpecs> {
  return {
    // Inputs of one shape, all NCHWc (a residual Add after blocked convolutions): the same
    // elementwise ops on the blocked tensors, whose padding channels never mix with real ones.
    acceptsNchwc: (l) => sameShapes(l) && l.inputLayouts.length > 0 && l.inputLayouts.every((k) => k === 'nchwc'),
    forward: (g, l, xs): ForwardResult => {
      if (sameShapes(l)) return { y: forward(g, xs), layout: l.inputLayouts[0] };
      return { y: forward(g, xs.map((x, i) => aligned(g, x, l.inputs[i], l.output.length))) };
    },
    backward: (g, l, b) => {
      if (sameShapes(l)) return { dxs: backward(g, b.xs, b.fwd.y, b.dy, b.needDx) };
      const xs = b.xs.map((x, i) => aligned(g, x, l.inputs[i], l.output.length));
      const ds = backward(g, xs, b.fwd.y, b.dy, b.needDx);
      return { dxs: ds.map((d, i) => (d === undefined ? undefined : l.inputs[i].join('×') === l.output.join('×') ? d : unbroadcast(g, d, l.inputs[i], l.output))) };
    },
  };
}

const sumAll = (g: GraphBuilder, xs: string[]): string => (xs.length === 1 ? g.identity(xs[0]) : g.node('Sum', xs)[0]);

/** Gradient masks of max/min: the first input holding the extreme value takes the gradient (ties go once). */
function extremeBackward(g: GraphBuilder, xs: string[], y: string, dy: string, needDx: boolean[]): (string | undefined)[] {
  let taken: string | undefined;
  return xs.map((x, i) => {
    let m = g.cast(g.equal(x, y), 'float32');
    if (taken) m = g.mul(m, g.sub(g.scalar(1), taken));
    taken = taken ? g.add(taken, m) : m;
    return needDx[i] ? g.mul(dy, m) : undefined;
  });
}

const elementwiseDoc = (what: string): string => `Merges a list of tensors of the same shape by ${what}, element by element (sizes of 1 broadcast).`;

export const Add = defineMergeLayer({
  name: 'Add',
  category: 'core',
  doc: elementwiseDoc('adding them'),
  args: {},
  minInputs: 1,
  outputShape: (inputs) => elementwise('Add', inputs),
  train: elementwiseTrain(sumAll, (_g, xs, _y, dy, need) => xs.map((_, i) => (need[i] ? dy : undefined))),
});

export const Subtract = defineMergeLayer({
  name: 'Subtract',
  category: 'core',
  doc: 'Subtracts the second of two tensors from the first, element by element.',
  args: {},
  minInputs: 2,
  maxInputs: 2,
  outputShape: (inputs) => elementwise('Subtract', inputs),
  train: elementwiseTrain(
    (g, xs) => g.sub(xs[0], xs[1]),
    (g, _xs, _y, dy, need) => [need[0] ? dy : undefined, need[1] ? g.neg(dy) : undefined],
  ),
});

export const Multiply = defineMergeLayer({
  name: 'Multiply',
  category: 'core',
  doc: elementwiseDoc('multiplying them'),
  args: {},
  minInputs: 1,
  outputShape: (inputs) => elementwise('Multiply', inputs),
  train: elementwiseTrain(
    (g, xs) => xs.slice(1).reduce((acc, x) => g.mul(acc, x), xs[0]),
    (g, xs, _y, dy, need) =>
      xs.map((_, i) => {
        if (!need[i]) return undefined;
        const others = xs.filter((__, j) => j !== i);
        return others.reduce((acc, x) => g.mul(acc, x), dy);
      }),
  ),
});

export const Average = defineMergeLayer({
  name: 'Average',
  category: 'core',
  doc: elementwiseDoc('averaging them'),
  args: {},
  minInputs: 1,
  outputShape: (inputs) => elementwise('Average', inputs),
  train: elementwiseTrain(
    (g, xs) => g.mul(sumAll(g, xs), g.scalar(1 / xs.length)),
    (g, xs, _y, dy, need) => {
      const d = g.mul(dy, g.scalar(1 / xs.length));
      return xs.map((_, i) => (need[i] ? d : undefined));
    },
  ),
});

export const Maximum = defineMergeLayer({
  name: 'Maximum',
  category: 'core',
  doc: elementwiseDoc('taking the largest'),
  args: {},
  minInputs: 1,
  outputShape: (inputs) => elementwise('Maximum', inputs),
  train: elementwiseTrain((g, xs) => g.max(xs), extremeBackward),
});

export const Minimum = defineMergeLayer({
  name: 'Minimum',
  category: 'core',
  doc: elementwiseDoc('taking the smallest'),
  args: {},
  minInputs: 1,
  outputShape: (inputs) => elementwise('Minimum', inputs),
  train: elementwiseTrain((g, xs) => g.min(xs), extremeBackward),
});

/** The per-sample axis of Keras' `axis` (which counts the batch axis) for a rank. */
function concatAxis(axis: number, rank: number): number {
  return axis < 0 ? rank + axis : axis - 1;
}

const concatArgs = { axis: int({ default: -1 }) };

export const Concatenate = defineMergeLayer({
  name: 'Concatenate',
  category: 'core',
  doc: 'Joins a list of tensors along one axis (the channels by default); every other axis must match.',
  args: concatArgs,
  minInputs: 1,
  outputShape(inputs, a) {
    const rank = inputs[0].length;
    const axis = concatAxis(a.axis, rank);
    if (axis < 0 || axis >= rank) {
      throw new ShapeError(`Concatenate: axis=${a.axis} does not exist for inputs of rank ${rank + 1} (with the batch axis)`, 'axis', [], 'axis');
    }
    const shown = inputs.map(fmt).join(', ');
    for (let i = 1; i < inputs.length; i++) {
      const s = inputs[i];
      if (s.length !== rank) {
        throw new ShapeError(`Concatenate needs inputs of one rank, but input 1 is ${fmt(inputs[0])} and input ${i + 1} is ${fmt(s)}`, undefined, [], 'merge-shapes');
      }
      for (let k = 0; k < rank; k++) {
        if (k === axis) continue;
        const x = inputs[0][k];
        const y = s[k];
        if (x !== null && y !== null && x !== y && x !== 1 && y !== 1) {
          throw new ShapeError(
            `Concatenate along axis ${a.axis} needs every other axis to match, but input 1 is ${fmt(inputs[0])} and input ${i + 1} is ${fmt(s)} (inputs: ${shown})`,
            undefined,
            [],
            'merge-shapes',
          );
        }
      }
    }
    const out = inputs[0].slice();
    let total: Dim = 0;
    for (const s of inputs) total = total === null || s[axis] === null ? null : total + (s[axis] as number);
    out[axis] = total;
    return out;
  },
  train: {
    refuse(l) {
      const axis = concatAxis(l.a.axis, l.inputs[0].length);
      const others = (s: readonly number[]) => s.filter((_, k) => k !== axis).join('×');
      return l.inputs.every((s) => others(s) === others(l.inputs[0])) ? undefined : 'inputs whose other axes differ only by broadcasting are not trainable yet';
    },
    forward(g, l, xs) {
      const rank = l.inputs[0].length;
      return { y: g.concat(xs, onnxAxis(concatAxis(l.a.axis, rank), rank)) };
    },
    backward(g, l, b) {
      const rank = l.inputs[0].length;
      const sampleAxis = concatAxis(l.a.axis, rank);
      const axis = onnxAxis(sampleAxis, rank);
      let start = 0;
      return {
        dxs: l.inputs.map((s, i) => {
          const size = s[sampleAxis];
          const from = start;
          start += size;
          return b.needDx[i] ? g.slice(b.dy, [from], [from + size], [axis]) : undefined;
        }),
      };
    },
  },
});

export const Dot = defineMergeLayer({
  name: 'Dot',
  category: 'core',
  doc: 'Dot product of two tensors along the given axes (e.g. two vectors → one number per sample).',
  args: { axes: ints(2), normalize: bool(false) },
  minInputs: 2,
  maxInputs: 2,
  outputShape(inputs, a) {
    const [x, y] = inputs;
    const ax = concatAxis(a.axes[0], x.length);
    const ay = concatAxis(a.axes[1], y.length);
    if (ax < 0 || ax >= x.length || ay < 0 || ay >= y.length) {
      throw new ShapeError(`Dot: axes=(${a.axes.join(', ')}) do not exist for inputs ${fmt(x)} and ${fmt(y)}`, 'axes', [], 'axis');
    }
    if (x[ax] !== null && y[ay] !== null && x[ax] !== y[ay]) {
      throw new ShapeError(`Dot needs equal sizes on the dotted axes, but input 1 ${fmt(x)} has ${x[ax]} on axis ${a.axes[0]} and input 2 ${fmt(y)} has ${y[ay]} on axis ${a.axes[1]}`, 'axes', [], 'merge-shapes');
    }
    const out = [...x.filter((_, i) => i !== ax), ...y.filter((_, i) => i !== ay)];
    return out.length === 0 ? [1] : out;
  },
  train: {
    refuse(l) {
      const [x, y] = l.inputs;
      const ok = x.length === 1 && y.length === 1 && l.a.axes.every((ax) => ax === 1 || ax === -1) && !l.a.normalize;
      return ok ? undefined : 'only the dot product of two vectors (axes=1, normalize=False) is trainable yet';
    },
    forward: (g, _l, xs) => ({ y: g.reduceSum(g.mul(xs[0], xs[1]), [1], true) }),
    backward: (g, _l, b) => ({ dxs: [b.needDx[0] ? g.mul(b.dy, b.xs[1]) : undefined, b.needDx[1] ? g.mul(b.dy, b.xs[0]) : undefined] }),
  },
  macs(inputs, output, a) {
    const contracted = inputs[0][concatAxis(a.axes[0], inputs[0].length)];
    const outCount = product(output);
    return contracted === null || contracted === undefined || outCount === null ? null : outCount * contracted;
  },
});

/** `ops.stack(xs, axis)` / `tf.stack`: tensors of one shape joined along a new axis (counting the batch, as TensorFlow does). */
export const Stack = defineMergeLayer({
  name: 'Stack',
  category: 'core',
  doc: 'Stacks tensors of one shape along a new axis (`ops.stack([a, b, c], axis=-1)`): the new axis has one entry per tensor.',
  args: { axis: int({ default: 0 }) },
  minInputs: 1,
  outputShape(inputs, a) {
    const rank = inputs[0].length;
    for (let i = 1; i < inputs.length; i++) {
      const s = inputs[i];
      if (s.length !== rank || s.some((d, k) => d !== null && inputs[0][k] !== null && d !== inputs[0][k])) {
        throw new ShapeError(`stack needs tensors of one shape, but input 1 is ${fmt(inputs[0])} and input ${i + 1} is ${fmt(s)}`, undefined, [], 'merge-shapes');
      }
    }
    // The batch axis is axis 0; a new axis at 0 would move it, which ConvLens does not follow.
    const at = a.axis < 0 ? a.axis + rank + 2 : a.axis;
    if (at < 1 || at > rank + 1) throw new ShapeError(`stack: axis=${a.axis} would ${at === 0 ? 'move the batch axis' : 'not exist'} for tensors of rank ${rank + 1}`, 'axis', [], 'axis');
    return [...inputs[0].slice(0, at - 1), inputs.length, ...inputs[0].slice(at - 1)];
  },
  macs: () => 0,
  untrainable: 'ConvLens cannot train stack() yet',
});
