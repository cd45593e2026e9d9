/**
 * An ONNX model as the graph view draws it: one node per operator (Constant nodes folded into the
 * operators that read them, as initializers are), the graph inputs as input nodes, an edge per
 * tensor an operator reads from another, parameters counted from the initializers each operator
 * reads, shapes from the file's value_info where it has them (or from a run, later).
 */
import { ELEM_TYPE_NAMES, type DecodedDim, type DecodedModel, type DecodedValueInfo } from '../onnx/decode';
import type { GraphEdge, GraphNode, ModelGraph } from './modelGraph';

/** `(batch, 3, 32, 32)`, `?` for an unknown size. */
export function onnxShapeLabel(shape: readonly DecodedDim[] | undefined): string {
  if (!shape) return '?';
  return `(${shape.map((d) => (d === null ? '?' : String(d))).join(', ')})`;
}

/** `float32 (batch, 3, 32, 32)`. */
export function valueInfoLabel(v: DecodedValueInfo): string {
  return `${v.elemType !== undefined ? (ELEM_TYPE_NAMES[v.elemType] ?? `type ${v.elemType}`) : '?'} ${onnxShapeLabel(v.shape)}`;
}

/** The operator graph of a decoded model. Node ids are `op<index>` and `in<index>`. */
export function graphOfOnnx(m: DecodedModel, shapes: ReadonlyMap<string, readonly DecodedDim[]> = new Map()): ModelGraph {
  const g = m.graph;
  const initializers = new Map(g.initializers.map((t) => [t.name, t.count]));
  const known = new Map<string, readonly DecodedDim[] | undefined>();
  for (const v of [...g.inputs, ...g.outputs, ...g.valueInfo]) if (v.shape) known.set(v.name, v.shape);
  for (const [k, v] of shapes) known.set(k, v);
  const producer = new Map<string, string>();
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  g.inputs.forEach((v, i) => {
    const id = `in${i}`;
    producer.set(v.name, id);
    nodes.push({ id, kind: 'input', name: v.name, className: 'Input', shape: onnxShapeLabel(v.shape), params: 0, status: 'ok', repeat: 1, shared: false, output: false });
  });
  const constants = new Set<string>();
  for (const n of g.nodes) if (n.opType === 'Constant') for (const o of n.outputs) constants.add(o);
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  const read = new Set<string>();
  for (const n of g.nodes) for (const i of n.inputs) read.add(i);
  g.nodes.forEach((n, i) => {
    if (n.opType === 'Constant') return;
    const id = `op${i}`;
    let params = 0;
    for (const x of n.inputs) params += initializers.get(x) ?? 0;
    const out = n.outputs[0] ?? '';
    nodes.push({
      id,
      kind: 'layer',
      name: n.name || `${n.opType}_${i}`,
      className: n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType,
      shape: onnxShapeLabel(known.get(out)),
      params,
      status: 'ok',
      repeat: 1,
      shared: false,
      output: n.outputs.some((o) => graphOutputs.has(o) || !read.has(o)),
    });
    n.inputs.forEach((x, port) => {
      const from = producer.get(x);
      if (from) edges.push({ from, to: id, port });
    });
    for (const o of n.outputs) producer.set(o, id);
  });
  return { model: g.name || m.producerName || 'onnx', nodes, edges, groups: [] };
}

/** The float tensors worth showing as feature maps: the outputs of these operators. */
export const FEATURE_OPS = new Set(['Conv', 'ConvTranspose', 'Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Sigmoid', 'Tanh', 'Clip', 'HardSigmoid', 'HardSwish', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'BatchNormalization', 'InstanceNormalization', 'Add', 'Sum', 'Mul', 'Concat', 'Gemm', 'MatMul', 'Softmax', 'Flatten', 'Upsample', 'Resize', 'Dropout', 'LRN']);
