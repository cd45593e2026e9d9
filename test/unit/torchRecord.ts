/**
 * What test/pytorch/record.py records of a PyTorch model (totals, buffers, every leaf's class,
 * parameters and output shapes, the call order) and the comparison of ConvLens' report with it,
 * shared by the tests that hold ConvLens to PyTorch's numbers.
 */
import type { ModelReport } from '../../src/core/index';

/** A tensor's shape, a tuple's list of them, or a dict's shapes by key (torchvision's segmentation models' `{'out': …}`). */
type Shape = number[] | Shape[] | { [key: string]: Shape };
interface Leaf {
  name: string;
  class: string;
  params: number;
  outputShapes: Shape[];
}
export interface RecordedModel {
  builder: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  input: number[];
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
  bufferElements: number;
  buffers: number;
  outputShape: Shape;
  leaves: Leaf[];
  callOrder: string[];
}

/** Differences between a recorded model and ConvLens' report of it. */
export function compareWithTorch(m: RecordedModel, got: ModelReport): string[] {
  const diffs: string[] = [];
  const eq = (what: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) diffs.push(`${what}: ${JSON.stringify(a)}, PyTorch ${JSON.stringify(b)}`);
  };
  eq('total params', got.totalParams, m.totalParams);
  eq('trainable params', got.trainableParams, m.trainableParams);
  eq('non-trainable params', got.nonTrainableParams, m.nonTrainableParams);
  eq('buffer elements', got.buffers?.elements, m.bufferElements);
  eq('buffers', got.buffers?.tensors, m.buffers);
  const outputs = got.outputs.map((o, i) => (o.shape === null ? null : [i === 0 ? got.outputBatch : got.outputBatch, ...o.shape]));
  const keyed = got.outputs.length > 0 && got.outputs.every((o) => o.key !== undefined) ? Object.fromEntries(got.outputs.map((o, i) => [o.key, outputs[i]])) : undefined;
  eq('output shape', keyed ?? (outputs.length === 1 ? outputs[0] : outputs), m.outputShape);
  const rows = got.modules ?? [];
  // Every leaf: its class, its own parameters, the output of each of its calls.
  for (const leaf of m.leaves) {
    const calls = rows.filter((r) => r.name === leaf.name && r.called);
    // A module returning a tuple (ShuffleNet's SplitBlock) records a list of shapes.
    const shapes = calls.map((r) => JSON.stringify(r.outputShapes.length === 1 ? r.outputShape : r.outputShapes));
    const want = leaf.outputShapes.map((s) => JSON.stringify(s));
    if (shapes.join(' ') !== want.join(' ')) diffs.push(`${leaf.name} (${leaf.class}): outputs ${shapes.join(' ') || 'none'}, PyTorch ${want.join(' ') || 'none'}`);
    const row = got.summary.find((s) => s.name === leaf.name);
    if (!row) diffs.push(`${leaf.name} (${leaf.class}): not a module of the model`);
    else {
      if (row.className !== leaf.class) diffs.push(`${leaf.name}: class ${row.className}, PyTorch ${leaf.class}`);
      if (row.params !== leaf.params) diffs.push(`${leaf.name} (${leaf.class}): params ${row.params}, PyTorch ${leaf.params}`);
    }
  }
  const order = rows.filter((r) => r.leaf && r.called).map((r) => r.name);
  if (order.join(' ') !== m.callOrder.join(' ')) {
    const k = order.findIndex((n, i) => n !== m.callOrder[i]);
    diffs.push(`call order differs at call ${k}: ${order.slice(k, k + 3).join(', ')}…, PyTorch ${m.callOrder.slice(k, k + 3).join(', ')}… (${order.length} calls, PyTorch ${m.callOrder.length})`);
  }
  return diffs;
}

