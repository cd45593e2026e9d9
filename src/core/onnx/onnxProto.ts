/**
 * Plain-object model of the subset of onnx.proto that ConvLens emits, and its
 * encoder. Field numbers follow onnx/onnx `onnx/onnx.proto` (proto2): repeated
 * scalars are written unpacked unless the schema says `[packed = true]`.
 */
import { ProtoWriter, littleEndianBytes } from './protobuf';

/** TensorProto.DataType values. */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
} as const;

/** AttributeProto.AttributeType values. */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
} as const;

/**
 * IR version written by default: IR 8 came with opset 17 (ONNX 1.12). Chosen
 * for compatibility with older runtimes and viewers; onnxruntime-node 1.30
 * itself loads up to IR 13 / opset 26.
 */
export const DEFAULT_IR_VERSION = 8;

/**
 * Default-domain opset written by default. 17 has everything the training
 * graphs need (ScatterElements reduction='add' since 16, LayerNormalization)
 * while keeping ReduceMean/ReduceMax axes as attributes (they become inputs in 18).
 */
export const DEFAULT_OPSET = 17;

/** Element data accepted for tensors. */
export type TensorArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Int8Array | Uint16Array;

/** TensorProto (only the fields ConvLens writes). Numeric data always goes to raw_data. */
export interface TensorProto {
  name?: string;
  dims: readonly number[];
  dataType: number;
  /** Raw element data; encoded little-endian into raw_data. */
  data: TensorArray;
}

/** One dimension: a fixed size, a symbolic name (dim_param) or unknown (null). */
export type Dim = number | string | null;

/** ValueInfoProto for a tensor type. `shape` undefined means "rank unknown". */
export interface ValueInfoProto {
  name: string;
  elemType: number;
  shape?: readonly Dim[];
  docString?: string;
}

/** AttributeProto; exactly one of the value fields is set, matching `type`. */
export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number | bigint;
  s?: string | Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: readonly number[];
  ints?: readonly (number | bigint)[];
  strings?: readonly (string | Uint8Array)[];
}

/** NodeProto. An empty string in `inputs`/`outputs` marks an omitted optional argument. */
export interface NodeProto {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  domain?: string;
  attributes?: readonly AttributeProto[];
  docString?: string;
}

/** GraphProto. */
export interface GraphProto {
  name: string;
  nodes: readonly NodeProto[];
  initializers: readonly TensorProto[];
  inputs: readonly ValueInfoProto[];
  outputs: readonly ValueInfoProto[];
  valueInfo?: readonly ValueInfoProto[];
  docString?: string;
}

/** OperatorSetIdProto. */
export interface OpsetId {
  domain: string;
  version: number;
}

/** ModelProto. */
export interface ModelProto {
  irVersion: number;
  opsetImports: readonly OpsetId[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph: GraphProto;
  metadata?: Readonly<Record<string, string>>;
}

/** Bytes per element of fixed-width data types (0 for unsupported ones). */
export function dataTypeSize(dataType: number): number {
  switch (dataType) {
    case DataType.FLOAT:
    case DataType.INT32:
    case DataType.UINT32:
      return 4;
    case DataType.DOUBLE:
    case DataType.INT64:
    case DataType.UINT64:
      return 8;
    case DataType.UINT8:
    case DataType.INT8:
    case DataType.BOOL:
      return 1;
    case DataType.FLOAT16:
    case DataType.UINT16:
    case DataType.INT16:
      return 2;
    default:
      return 0;
  }
}

/** Writes TensorProto fields (without the enclosing key). */
export function writeTensor(w: ProtoWriter, t: TensorProto): void {
  const count = t.dims.reduce((a, b) => a * b, 1);
  const width = dataTypeSize(t.dataType);
  if (width === 0) throw new Error(`onnx: tensor '${t.name ?? ''}' has unsupported data type ${t.dataType}`);
  if (t.data.byteLength !== count * width) {
    throw new Error(`onnx: tensor '${t.name ?? ''}' has ${t.data.byteLength} bytes, dims [${t.dims.join(',')}] need ${count * width}`);
  }
  w.repeatedInt64(1, t.dims);
  w.int64(2, t.dataType);
  if (t.name !== undefined) w.string(8, t.name);
  w.bytes(9, littleEndianBytes(t.data));
}

function writeValueInfo(w: ProtoWriter, v: ValueInfoProto): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int64(1, v.elemType);
      if (v.shape) {
        tensor.message(2, (shape) => {
          for (const d of v.shape!) {
            shape.message(1, (dim) => {
              if (typeof d === 'number') dim.int64(1, d);
              else if (typeof d === 'string') dim.string(2, d);
            });
          }
        });
      }
    }),
  );
  if (v.docString) w.string(3, v.docString);
}

function writeAttribute(w: ProtoWriter, a: AttributeProto): void {
  w.string(1, a.name);
  switch (a.type) {
    case AttributeType.FLOAT:
      w.float(2, a.f ?? 0);
      break;
    case AttributeType.INT:
      w.int64(3, a.i ?? 0);
      break;
    case AttributeType.STRING:
      if (typeof a.s === 'string') w.string(4, a.s);
      else w.bytes(4, a.s ?? new Uint8Array(0));
      break;
    case AttributeType.TENSOR:
      if (!a.t) throw new Error(`onnx: tensor attribute '${a.name}' without a tensor`);
      w.message(5, (tw) => writeTensor(tw, a.t!));
      break;
    case AttributeType.GRAPH:
      if (!a.g) throw new Error(`onnx: graph attribute '${a.name}' without a graph`);
      w.message(6, (gw) => writeGraph(gw, a.g!));
      break;
    case AttributeType.FLOATS:
      w.repeatedFloat(7, a.floats ?? []);
      break;
    case AttributeType.INTS:
      w.repeatedInt64(8, a.ints ?? []);
      break;
    case AttributeType.STRINGS:
      for (const s of a.strings ?? []) {
        if (typeof s === 'string') w.string(9, s);
        else w.bytes(9, s);
      }
      break;
    default:
      throw new Error(`onnx: unsupported attribute type ${a.type} for '${a.name}'`);
  }
  w.int64(20, a.type);
}

function writeNode(w: ProtoWriter, n: NodeProto): void {
  w.repeatedString(1, n.inputs);
  w.repeatedString(2, n.outputs);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attributes ?? []) w.message(5, (aw) => writeAttribute(aw, a));
  if (n.docString) w.string(6, n.docString);
  if (n.domain) w.string(7, n.domain);
}

/** Writes GraphProto fields (without the enclosing key). */
export function writeGraph(w: ProtoWriter, g: GraphProto): void {
  for (const n of g.nodes) w.message(1, (nw) => writeNode(nw, n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, (tw) => writeTensor(tw, t));
  if (g.docString) w.string(10, g.docString);
  for (const v of g.inputs) w.message(11, (vw) => writeValueInfo(vw, v));
  for (const v of g.outputs) w.message(12, (vw) => writeValueInfo(vw, v));
  for (const v of g.valueInfo ?? []) w.message(13, (vw) => writeValueInfo(vw, v));
}

/** Encodes a ModelProto to bytes (what `InferenceSession.create` accepts). */
export function encodeModel(m: ModelProto): Uint8Array {
  const w = new ProtoWriter();
  w.int64(1, m.irVersion);
  if (m.producerName) w.string(2, m.producerName);
  if (m.producerVersion) w.string(3, m.producerVersion);
  if (m.domain) w.string(4, m.domain);
  if (m.modelVersion !== undefined) w.int64(5, m.modelVersion);
  if (m.docString) w.string(6, m.docString);
  w.message(7, (gw) => writeGraph(gw, m.graph));
  for (const o of m.opsetImports) {
    w.message(8, (ow) => {
      if (o.domain) ow.string(1, o.domain);
      ow.int64(2, o.version);
    });
  }
  for (const [key, value] of Object.entries(m.metadata ?? {})) {
    w.message(14, (kv) => kv.string(1, key).string(2, value));
  }
  return w.finish();
}
