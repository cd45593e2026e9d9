/**
 * Ergonomic construction of ONNX graphs: named inputs/outputs, initializers,
 * cached constants, unique names and thin wrappers over the standard ops used
 * by ConvLens's forward, backward and optimizer graphs.
 */
import {
  AttributeType,
  DataType,
  DEFAULT_IR_VERSION,
  DEFAULT_OPSET,
  encodeModel,
  type AttributeProto,
  type Dim,
  type ModelProto,
  type NodeProto,
  type OpsetId,
  type TensorArray,
  type TensorProto,
  type ValueInfoProto,
} from './onnxProto';

/** Element types the builder knows by name. */
export type ElemType = 'float32' | 'float64' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

const ELEM_TYPE_CODES: Record<ElemType, number> = {
  float32: DataType.FLOAT,
  float64: DataType.DOUBLE,
  int64: DataType.INT64,
  int32: DataType.INT32,
  int8: DataType.INT8,
  uint8: DataType.UINT8,
  bool: DataType.BOOL,
};

/** ONNX TensorProto.DataType code of an element type. */
export function elemTypeCode(t: ElemType): number {
  return ELEM_TYPE_CODES[t];
}

/** Element type implied by a typed array (Uint8Array is uint8; pass 'bool' explicitly for booleans). */
export function elemTypeOf(data: TensorArray): ElemType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  throw new Error('onnx: unsupported typed array');
}

/** A constant tensor value (for initializers and tensor attributes). */
export interface TensorValue {
  data: TensorArray;
  dims: readonly number[];
  /** Defaults to {@link elemTypeOf}(data). */
  type?: ElemType;
}

/** An explicitly typed attribute value. */
export type Attr =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number | bigint }
  | { kind: 'string'; value: string }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'ints'; value: readonly (number | bigint)[] }
  | { kind: 'strings'; value: readonly string[] }
  | { kind: 'tensor'; value: TensorValue };

/**
 * Attribute value. Plain numbers are inferred: integers become INT, others
 * FLOAT; plain number arrays become INTS when every element is an integer (an
 * empty array too), else FLOATS. Use {@link attr} where the op wants a float
 * that happens to be integral (e.g. `attr.float(1)`), or ORT rejects the type.
 */
export type AttrValue = Attr | number | bigint | string | readonly number[] | readonly string[];

/** Explicit attribute constructors. */
export const attr = {
  float: (value: number): Attr => ({ kind: 'float', value }),
  int: (value: number | bigint): Attr => ({ kind: 'int', value }),
  string: (value: string): Attr => ({ kind: 'string', value }),
  floats: (value: readonly number[]): Attr => ({ kind: 'floats', value }),
  ints: (value: readonly (number | bigint)[]): Attr => ({ kind: 'ints', value }),
  strings: (value: readonly string[]): Attr => ({ kind: 'strings', value }),
  tensor: (value: TensorValue): Attr => ({ kind: 'tensor', value }),
};

/** Attributes of one node, by name; `undefined` entries are skipped. */
export type Attrs = Readonly<Record<string, AttrValue | undefined>>;

/** A shape-like operand: a tensor name, or literal int64 values (emitted as a cached initializer). */
export type IntsOrName = string | readonly number[];

/** Options of {@link GraphBuilder}. */
export interface GraphBuilderOptions {
  name?: string;
  /** Default-domain opset (>= 13); default {@link DEFAULT_OPSET}. */
  opset?: number;
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  /** Additional opset imports (e.g. other domains). */
  extraOpsets?: readonly OpsetId[];
}

/** Options of {@link GraphBuilder.node}. */
export interface NodeOptions {
  domain?: string;
  /** Node name; default: unique name derived from the op type. */
  name?: string;
}

/** Attributes of Conv / ConvTranspose (ONNX conventions: pads = [begin..., end...]). */
export interface ConvAttrs {
  kernelShape?: readonly number[];
  strides?: readonly number[];
  dilations?: readonly number[];
  pads?: readonly number[];
  group?: number;
  /** ConvTranspose only. */
  outputPadding?: readonly number[];
  /** ConvTranspose only. */
  outputShape?: readonly number[];
}

/** Attributes of MaxPool / AveragePool. */
export interface PoolAttrs {
  kernelShape: readonly number[];
  strides?: readonly number[];
  pads?: readonly number[];
  /** AveragePool only; default 0 (padding excluded from the divisor, like Keras 'same'). */
  countIncludePad?: boolean;
  ceilMode?: boolean;
}

/** Attributes of Gemm. */
export interface GemmAttrs {
  alpha?: number;
  beta?: number;
  transA?: boolean;
  transB?: boolean;
}

function toTensorProto(name: string | undefined, v: TensorValue): TensorProto {
  const type = v.type ?? elemTypeOf(v.data);
  return { name, dims: [...v.dims], dataType: ELEM_TYPE_CODES[type], data: v.data };
}

function toAttributeProto(name: string, v: AttrValue): AttributeProto {
  if (typeof v === 'number') {
    return Number.isInteger(v) ? { name, type: AttributeType.INT, i: v } : { name, type: AttributeType.FLOAT, f: v };
  }
  if (typeof v === 'bigint') return { name, type: AttributeType.INT, i: v };
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: v };
  if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === 'string') return { name, type: AttributeType.STRINGS, strings: v as string[] };
    const nums = v as number[];
    return nums.every(Number.isInteger)
      ? { name, type: AttributeType.INTS, ints: nums }
      : { name, type: AttributeType.FLOATS, floats: nums };
  }
  const a = v as Attr;
  switch (a.kind) {
    case 'float':
      return { name, type: AttributeType.FLOAT, f: a.value };
    case 'int':
      return { name, type: AttributeType.INT, i: a.value };
    case 'string':
      return { name, type: AttributeType.STRING, s: a.value };
    case 'floats':
      return { name, type: AttributeType.FLOATS, floats: a.value };
    case 'ints':
      return { name, type: AttributeType.INTS, ints: a.value };
    case 'strings':
      return { name, type: AttributeType.STRINGS, strings: a.value };
    case 'tensor':
      return { name, type: AttributeType.TENSOR, t: toTensorProto(undefined, a.value) };
  }
}

function sanitize(hint: string): string {
  const s = hint.replace(/[^A-Za-z0-9_.:/-]/g, '_');
  return s.length > 0 ? s : 't';
}

/**
 * Builds one ONNX graph. Nodes must be added in topological order: every
 * input of a node has to be a graph input, an initializer or the output of an
 * earlier node, which is checked as nodes are added so wiring mistakes fail
 * with a JS stack trace rather than an ORT load error.
 */
export class GraphBuilder {
  /** Default-domain opset of the model. */
  readonly opset: number;
  readonly irVersion: number;
  readonly name: string;
  private readonly producerName: string;
  private readonly producerVersion: string | undefined;
  private readonly extraOpsets: readonly OpsetId[];
  private readonly nodes: NodeProto[] = [];
  private readonly inits: TensorProto[] = [];
  private readonly graphInputs: ValueInfoProto[] = [];
  private readonly graphOutputs: ValueInfoProto[] = [];
  private readonly valueInfos: ValueInfoProto[] = [];
  private readonly defined = new Set<string>();
  private readonly reserved = new Set<string>();
  private readonly nodeNames = new Set<string>();
  private readonly counters = new Map<string, number>();
  private readonly constCache = new Map<string, string>();

  constructor(opts: GraphBuilderOptions = {}) {
    this.opset = opts.opset ?? DEFAULT_OPSET;
    if (this.opset < 13) throw new Error('GraphBuilder: opset 13 or later required');
    this.irVersion = opts.irVersion ?? DEFAULT_IR_VERSION;
    this.name = opts.name ?? 'convlens';
    this.producerName = opts.producerName ?? 'convlens';
    this.producerVersion = opts.producerVersion;
    this.extraOpsets = opts.extraOpsets ?? [];
  }

  /** Number of nodes added so far. */
  get nodeCount(): number {
    return this.nodes.length;
  }

  /** Whether `name` is already a defined tensor (input, initializer or node output). */
  has(name: string): boolean {
    return this.defined.has(name);
  }

  /** Returns a new tensor name `<hint>_<k>` that is not used anywhere in the graph and reserves it. */
  fresh(hint = 't'): string {
    const base = sanitize(hint);
    let k = this.counters.get(base) ?? 0;
    let name = `${base}_${k}`;
    while (this.reserved.has(name)) name = `${base}_${++k}`;
    this.counters.set(base, k + 1);
    this.reserved.add(name);
    return name;
  }

  private claim(name: string, what: string): void {
    if (!name) throw new Error(`GraphBuilder: empty ${what} name`);
    if (this.defined.has(name)) throw new Error(`GraphBuilder: ${what} name '${name}' is already defined`);
    this.reserved.add(name);
    this.defined.add(name);
  }

  /** Declares a graph input. `shape` entries may be numbers, symbolic names ('N') or null. */
  input(name: string, shape: readonly Dim[], type: ElemType = 'float32'): string {
    this.claim(name, 'input');
    this.graphInputs.push({ name, elemType: ELEM_TYPE_CODES[type], shape: [...shape] });
    return name;
  }

  /** Declares an existing (or later-defined) tensor as a graph output. */
  output(name: string, shape?: readonly Dim[], type: ElemType = 'float32'): string {
    if (this.graphOutputs.some((o) => o.name === name)) throw new Error(`GraphBuilder: output '${name}' declared twice`);
    this.graphOutputs.push({ name, elemType: ELEM_TYPE_CODES[type], shape: shape ? [...shape] : undefined });
    return name;
  }

  /** Adds shape/type information for an intermediate tensor (optional, helps ORT's planner). */
  annotate(name: string, shape: readonly Dim[], type: ElemType = 'float32'): void {
    this.valueInfos.push({ name, elemType: ELEM_TYPE_CODES[type], shape: [...shape] });
  }

  /** Adds an initializer (a constant, or a default for a same-named input) under an exact name. */
  initializer(name: string, data: TensorArray, dims: readonly number[], type?: ElemType): string {
    this.claim(name, 'initializer');
    this.inits.push(toTensorProto(name, { data, dims, type }));
    return name;
  }

  /** Adds a constant under a fresh name as a `Constant` node carrying a tensor attribute. */
  constant(data: TensorArray, dims: readonly number[], type?: ElemType, hint = 'const'): string {
    const [out] = this.node('Constant', [], [this.fresh(hint)], { value: attr.tensor({ data, dims, type }) });
    return out;
  }

  /** A cached 0-d initializer holding `value`. */
  scalar(value: number, type: ElemType = 'float32'): string {
    return this.cachedConstant(type, [value], []);
  }

  /** A cached 1-D int64 initializer. */
  int64s(values: readonly number[]): string {
    return this.cachedConstant('int64', values, [values.length]);
  }

  /** A cached 1-D float32 initializer. */
  float32s(values: readonly number[]): string {
    return this.cachedConstant('float32', values, [values.length]);
  }

  private cachedConstant(type: ElemType, values: readonly number[], dims: readonly number[]): string {
    const key = `${type}|${dims.join(',')}|${values.map((v) => (Object.is(v, -0) ? '-0' : String(v))).join(',')}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    let data: TensorArray;
    switch (type) {
      case 'float32':
        data = Float32Array.from(values);
        break;
      case 'float64':
        data = Float64Array.from(values);
        break;
      case 'int64':
        data = BigInt64Array.from(values, (v) => BigInt(v));
        break;
      case 'int32':
        data = Int32Array.from(values);
        break;
      case 'int8':
        data = Int8Array.from(values);
        break;
      case 'uint8':
      case 'bool':
        data = Uint8Array.from(values);
        break;
    }
    const name = this.fresh(dims.length === 0 ? `c_${type}` : `c_${type}_vec`);
    this.initializer(name, data, dims, type);
    this.constCache.set(key, name);
    return name;
  }

  private ints(v: IntsOrName): string {
    return typeof v === 'string' ? v : this.int64s(v);
  }

  /**
   * Adds a node. `outputs` is either a count (fresh names derived from the op
   * type) or explicit names ('' skips an optional output). Inputs may be '' for
   * omitted optional inputs. Returns the output names.
   */
  node(opType: string, inputs: readonly string[], outputs: number | readonly string[] = 1, attrs: Attrs = {}, opts: NodeOptions = {}): string[] {
    for (const i of inputs) {
      if (i !== '' && !this.defined.has(i)) throw new Error(`GraphBuilder: ${opType} input '${i}' is not defined yet`);
    }
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase())) : [...outputs];
    for (const o of outs) if (o !== '') this.claim(o, `${opType} output`);
    let name = opts.name;
    if (name === undefined) {
      const base = `${opType}_${this.nodes.length}`;
      name = base;
      for (let k = 1; this.nodeNames.has(name); k++) name = `${base}_${k}`;
    } else if (this.nodeNames.has(name)) throw new Error(`GraphBuilder: node name '${name}' is already used`);
    this.nodeNames.add(name);
    const attributes: AttributeProto[] = [];
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) attributes.push(toAttributeProto(k, v));
    this.nodes.push({ opType, inputs: [...inputs], outputs: outs, name, domain: opts.domain, attributes });
    return outs;
  }

  private op1(opType: string, inputs: readonly string[], attrs: Attrs = {}, out?: string): string {
    return this.node(opType, inputs, out === undefined ? 1 : [out], attrs)[0];
  }

  /**
   * `x`, but only once every tensor in `deps` has been computed: x + 0 where the 0 comes from
   * one element of each dependency (Cast(Less(e, e)) is exactly 0, also for NaN or ±Inf). A
   * data dependency is the only ordering ONNX has; onnxruntime's sequential executor otherwise
   * picks any topological order. Costs a few scalar-sized nodes.
   */
  after(x: string, deps: readonly string[], out?: string): string {
    if (deps.length === 0) return out === undefined ? x : this.identity(x, out);
    const firsts = deps.map((d) => this.slice(this.reshape(d, [-1]), [0], [1], [0]));
    const picked = firsts.length === 1 ? firsts[0] : this.concat(firsts, 0);
    const zero = this.reduceSum(this.cast(this.less(picked, picked), 'float32'), [0], false);
    return this.add(x, zero, out);
  }

  // ---- elementwise -------------------------------------------------------

  /** a + b (broadcasting). */
  add(a: string, b: string, out?: string): string {
    return this.op1('Add', [a, b], {}, out);
  }
  /** a − b. */
  sub(a: string, b: string, out?: string): string {
    return this.op1('Sub', [a, b], {}, out);
  }
  /** a · b. */
  mul(a: string, b: string, out?: string): string {
    return this.op1('Mul', [a, b], {}, out);
  }
  /** a / b. */
  div(a: string, b: string, out?: string): string {
    return this.op1('Div', [a, b], {}, out);
  }
  /** a ^ b. */
  pow(a: string, b: string, out?: string): string {
    return this.op1('Pow', [a, b], {}, out);
  }
  /** a mod b (integer; fmod=0). */
  mod(a: string, b: string, out?: string): string {
    return this.op1('Mod', [a, b], {}, out);
  }
  /** Elementwise maximum. */
  max(xs: readonly string[], out?: string): string {
    return this.op1('Max', xs, {}, out);
  }
  /** Elementwise minimum. */
  min(xs: readonly string[], out?: string): string {
    return this.op1('Min', xs, {}, out);
  }
  /** −x. */
  neg(x: string, out?: string): string {
    return this.op1('Neg', [x], {}, out);
  }
  /** |x|. */
  abs(x: string, out?: string): string {
    return this.op1('Abs', [x], {}, out);
  }
  /** sign(x). */
  sign(x: string, out?: string): string {
    return this.op1('Sign', [x], {}, out);
  }
  /** e^x. */
  exp(x: string, out?: string): string {
    return this.op1('Exp', [x], {}, out);
  }
  /** ln x. */
  log(x: string, out?: string): string {
    return this.op1('Log', [x], {}, out);
  }
  /** √x. */
  sqrt(x: string, out?: string): string {
    return this.op1('Sqrt', [x], {}, out);
  }
  /** 1/x. */
  reciprocal(x: string, out?: string): string {
    return this.op1('Reciprocal', [x], {}, out);
  }
  /** Identity (e.g. to expose a tensor under a chosen output name). */
  identity(x: string, out?: string): string {
    return this.op1('Identity', [x], {}, out);
  }
  /** a == b (bool). */
  equal(a: string, b: string, out?: string): string {
    return this.op1('Equal', [a, b], {}, out);
  }
  /** a > b (bool). */
  greater(a: string, b: string, out?: string): string {
    return this.op1('Greater', [a, b], {}, out);
  }
  /** a < b (bool). */
  less(a: string, b: string, out?: string): string {
    return this.op1('Less', [a, b], {}, out);
  }
  /** cond ? a : b (broadcasting). */
  where(cond: string, a: string, b: string, out?: string): string {
    return this.op1('Where', [cond, a, b], {}, out);
  }
  /** Cast to another element type. */
  cast(x: string, to: ElemType, out?: string): string {
    return this.op1('Cast', [x], { to: ELEM_TYPE_CODES[to] }, out);
  }
  /** Clip(x, min, max); either bound may be omitted. */
  clip(x: string, min?: number, max?: number, out?: string): string {
    return this.op1('Clip', [x, min === undefined ? '' : this.scalar(min), max === undefined ? '' : this.scalar(max)], {}, out);
  }

  // ---- activations -------------------------------------------------------

  /** max(x, 0). */
  relu(x: string, out?: string): string {
    return this.op1('Relu', [x], {}, out);
  }
  /** 1/(1+e^−x). */
  sigmoid(x: string, out?: string): string {
    return this.op1('Sigmoid', [x], {}, out);
  }
  /** tanh x. */
  tanh(x: string, out?: string): string {
    return this.op1('Tanh', [x], {}, out);
  }
  /** ln(1+e^x). */
  softplus(x: string, out?: string): string {
    return this.op1('Softplus', [x], {}, out);
  }
  /** x > 0 ? x : alpha·(e^x − 1). */
  elu(x: string, alpha = 1, out?: string): string {
    return this.op1('Elu', [x], { alpha: attr.float(alpha) }, out);
  }
  /** x > 0 ? x : alpha·x. */
  leakyRelu(x: string, alpha: number, out?: string): string {
    return this.op1('LeakyRelu', [x], { alpha: attr.float(alpha) }, out);
  }
  /** Softmax along `axis`. */
  softmax(x: string, axis = -1, out?: string): string {
    return this.op1('Softmax', [x], { axis }, out);
  }
  /** LogSoftmax along `axis`. */
  logSoftmax(x: string, axis = -1, out?: string): string {
    return this.op1('LogSoftmax', [x], { axis }, out);
  }

  // ---- shape ops ---------------------------------------------------------

  /** Reshape; literal shapes may use 0 (copy input dim) and −1 (infer). */
  reshape(x: string, shape: IntsOrName, out?: string): string {
    return this.op1('Reshape', [x, this.ints(shape)], {}, out);
  }
  /** Transpose by `perm`. */
  transpose(x: string, perm: readonly number[], out?: string): string {
    return this.op1('Transpose', [x], { perm: attr.ints(perm) }, out);
  }
  /** Flatten to 2-D at `axis`. */
  flatten(x: string, axis = 1, out?: string): string {
    return this.op1('Flatten', [x], { axis }, out);
  }
  /** Shape of x (int64 1-D), optionally the [start, end) slice of it. */
  shape(x: string, start?: number, end?: number, out?: string): string {
    return this.op1('Shape', [x], { start, end }, out);
  }
  /** Number of elements of x (int64 scalar). */
  size(x: string, out?: string): string {
    return this.op1('Size', [x], {}, out);
  }
  /** Insert unit axes. */
  unsqueeze(x: string, axes: readonly number[], out?: string): string {
    return this.op1('Unsqueeze', [x, this.int64s(axes)], {}, out);
  }
  /** Remove unit axes. */
  squeeze(x: string, axes: readonly number[], out?: string): string {
    return this.op1('Squeeze', [x, this.int64s(axes)], {}, out);
  }
  /** Broadcast x to `shape`. */
  expand(x: string, shape: IntsOrName, out?: string): string {
    return this.op1('Expand', [x, this.ints(shape)], {}, out);
  }
  /** Concatenate along `axis`. */
  concat(xs: readonly string[], axis: number, out?: string): string {
    return this.op1('Concat', xs, { axis }, out);
  }
  /** Slice (ONNX semantics; ends may exceed the dim). */
  slice(x: string, starts: IntsOrName, ends: IntsOrName, axes?: IntsOrName, steps?: IntsOrName, out?: string): string {
    const inputs = [x, this.ints(starts), this.ints(ends)];
    if (axes !== undefined || steps !== undefined) inputs.push(axes === undefined ? '' : this.ints(axes));
    if (steps !== undefined) inputs.push(this.ints(steps));
    return this.op1('Slice', inputs, {}, out);
  }
  /** Pad with `pads` = [begin per axis..., end per axis...] (all axes). */
  pad(x: string, pads: IntsOrName, value = 0, mode: 'constant' | 'reflect' | 'edge' = 'constant', out?: string): string {
    const inputs = [x, this.ints(pads)];
    if (mode === 'constant' && value !== 0) inputs.push(this.scalar(value));
    return this.op1('Pad', inputs, { mode }, out);
  }
  /** A tensor of the given (int64 1-D) shape filled with `value`. */
  constantOfShape(shape: IntsOrName, value = 0, type: ElemType = 'float32', out?: string): string {
    const v: TensorValue = { data: valueArray(type, value), dims: [1], type };
    return this.op1('ConstantOfShape', [this.ints(shape)], { value: attr.tensor(v) }, out);
  }
  /** Integers [start, limit) with `delta` (scalar tensors). */
  range(start: string, limit: string, delta: string, out?: string): string {
    return this.op1('Range', [start, limit, delta], {}, out);
  }

  // ---- reductions --------------------------------------------------------

  private reduce(opType: string, x: string, axes: readonly number[] | undefined, keepdims: boolean, out?: string): string {
    const keep = keepdims ? 1 : 0;
    if (opType === 'ReduceSum' || this.opset >= 18) {
      return this.op1(opType, axes === undefined ? [x] : [x, this.int64s(axes)], { keepdims: keep }, out);
    }
    return this.op1(opType, [x], { axes: axes === undefined ? undefined : attr.ints(axes), keepdims: keep }, out);
  }
  /** Sum over `axes` (all axes when undefined). */
  reduceSum(x: string, axes?: readonly number[], keepdims = true, out?: string): string {
    return this.reduce('ReduceSum', x, axes, keepdims, out);
  }
  /** Mean over `axes` (all axes when undefined). */
  reduceMean(x: string, axes?: readonly number[], keepdims = true, out?: string): string {
    return this.reduce('ReduceMean', x, axes, keepdims, out);
  }
  /** Sum of squares over `axes` (all axes when undefined): one pass, where Mul then ReduceSum take two. */
  reduceSumSquare(x: string, axes?: readonly number[], keepdims = true, out?: string): string {
    return this.reduce('ReduceSumSquare', x, axes, keepdims, out);
  }
  /** Max over `axes` (all axes when undefined). */
  reduceMax(x: string, axes?: readonly number[], keepdims = true, out?: string): string {
    return this.reduce('ReduceMax', x, axes, keepdims, out);
  }

  // ---- neural-network ops ------------------------------------------------

  /** Conv (NCHW). `b` may be undefined. */
  conv(x: string, w: string, b: string | undefined, a: ConvAttrs = {}, out?: string): string {
    const inputs = b ? [x, w, b] : [x, w];
    return this.op1('Conv', inputs, convAttrs(a), out);
  }
  /** ConvTranspose (weights [C_in, C_out/group, k...]). */
  convTranspose(x: string, w: string, b: string | undefined, a: ConvAttrs = {}, out?: string): string {
    const inputs = b ? [x, w, b] : [x, w];
    return this.op1('ConvTranspose', inputs, { ...convAttrs(a), output_padding: ints(a.outputPadding), output_shape: ints(a.outputShape) }, out);
  }
  /** MaxPool with a single output. */
  maxPool(x: string, a: PoolAttrs, out?: string): string {
    return this.op1('MaxPool', [x], poolAttrs(a), out);
  }
  /** MaxPool returning [values, flat int64 argmax indices over the whole input tensor]. */
  maxPoolWithIndices(x: string, a: PoolAttrs): [string, string] {
    const [y, i] = this.node('MaxPool', [x], 2, poolAttrs(a));
    return [y, i];
  }
  /** AveragePool (count_include_pad defaults to 0). */
  averagePool(x: string, a: PoolAttrs, out?: string): string {
    return this.op1('AveragePool', [x], { ...poolAttrs(a), count_include_pad: a.countIncludePad ? 1 : 0 }, out);
  }
  /** Gemm: alpha·op(A)·op(B) + beta·C. */
  gemm(a: string, b: string, c: string | undefined, g: GemmAttrs = {}, out?: string): string {
    const inputs = c ? [a, b, c] : [a, b];
    return this.op1(
      'Gemm',
      inputs,
      {
        alpha: g.alpha === undefined ? undefined : attr.float(g.alpha),
        beta: g.beta === undefined ? undefined : attr.float(g.beta),
        transA: g.transA ? 1 : undefined,
        transB: g.transB ? 1 : undefined,
      },
      out,
    );
  }
  /** MatMul (numpy semantics). */
  matMul(a: string, b: string, out?: string): string {
    return this.op1('MatMul', [a, b], {}, out);
  }
  /** Inference-mode BatchNormalization. */
  batchNormalization(x: string, scale: string, bias: string, mean: string, variance: string, epsilon: number, out?: string): string {
    return this.op1('BatchNormalization', [x, scale, bias, mean, variance], { epsilon: attr.float(epsilon) }, out);
  }
  /** ScatterElements along `axis` with an optional reduction. */
  scatterElements(data: string, indices: string, updates: string, axis = 0, reduction?: 'add' | 'mul', out?: string): string {
    return this.op1('ScatterElements', [data, indices, updates], { axis, reduction }, out);
  }
  /** GatherElements along `axis`. */
  gatherElements(data: string, indices: string, axis = 0, out?: string): string {
    return this.op1('GatherElements', [data, indices], { axis }, out);
  }
  /** Gather along `axis`. */
  gather(data: string, indices: string, axis = 0, out?: string): string {
    return this.op1('Gather', [data, indices], { axis }, out);
  }
  /** OneHot with float32 off/on values 0/1 along the last axis. */
  oneHot(indices: string, depth: number, out?: string): string {
    return this.op1('OneHot', [indices, this.scalar(depth, 'int64'), this.float32s([0, 1])], { axis: -1 }, out);
  }
  /** Uniform random numbers in [low, high) shaped like x; a fixed seed makes the sequence reproducible per session. */
  randomUniformLike(x: string, low = 0, high = 1, seed?: number, out?: string): string {
    return this.op1(
      'RandomUniformLike',
      [x],
      { low: attr.float(low), high: attr.float(high), seed: seed === undefined ? undefined : attr.float(seed), dtype: DataType.FLOAT },
      out,
    );
  }

  // ---- output ------------------------------------------------------------

  /** The model as a plain object (validates graph outputs). */
  toModel(): ModelProto {
    for (const o of this.graphOutputs) {
      if (!this.defined.has(o.name)) throw new Error(`GraphBuilder: output '${o.name}' is never produced`);
    }
    // Domains used by nodes but not declared are imported at version 1 (onnxruntime's
    // com.microsoft and com.microsoft.nchwc kernels are all version 1).
    const declared = new Set(['', 'ai.onnx', ...this.extraOpsets.map((o) => o.domain)]);
    const used = [...new Set(this.nodes.map((n) => n.domain ?? ''))].filter((d) => !declared.has(d));
    return {
      irVersion: this.irVersion,
      opsetImports: [{ domain: '', version: this.opset }, ...this.extraOpsets, ...used.map((domain) => ({ domain, version: 1 }))],
      producerName: this.producerName,
      producerVersion: this.producerVersion,
      graph: {
        name: this.name,
        nodes: this.nodes,
        initializers: this.inits,
        inputs: this.graphInputs,
        outputs: this.graphOutputs,
        valueInfo: this.valueInfos,
      },
    };
  }

  /** The serialized ModelProto, ready for `InferenceSession.create(bytes)`. */
  toModelBytes(): Uint8Array {
    return encodeModel(this.toModel());
  }
}

function ints(v: readonly number[] | undefined): Attr | undefined {
  return v === undefined ? undefined : attr.ints(v);
}

function convAttrs(a: ConvAttrs): Attrs {
  return {
    kernel_shape: ints(a.kernelShape),
    strides: ints(a.strides),
    dilations: ints(a.dilations),
    pads: ints(a.pads),
    group: a.group === undefined || a.group === 1 ? undefined : a.group,
  };
}

function poolAttrs(a: PoolAttrs): Attrs {
  return {
    kernel_shape: attr.ints(a.kernelShape),
    strides: ints(a.strides),
    pads: ints(a.pads),
    ceil_mode: a.ceilMode ? 1 : undefined,
  };
}

function valueArray(type: ElemType, value: number): TensorArray {
  switch (type) {
    case 'float32':
      return Float32Array.of(value);
    case 'float64':
      return Float64Array.of(value);
    case 'int64':
      return BigInt64Array.of(BigInt(value));
    case 'int32':
      return Int32Array.of(value);
    case 'int8':
      return Int8Array.of(value);
    case 'uint8':
    case 'bool':
      return Uint8Array.of(value);
  }
}
