/**
 * Reading ONNX models (any producer: ConvLens, PyTorch's exporter, tf2onnx, the model zoo) for
 * the `.onnx` viewer: the graph's nodes and attributes, inputs and outputs with their shapes, and
 * the initializers' types and sizes. Tensor data is not copied: an initializer keeps a view of
 * its bytes. A damaged file is an {@link OnnxDecodeError} naming the byte and what was expected.
 *
 * Field numbers are those of onnx.proto3 (ModelProto, GraphProto, NodeProto, AttributeProto,
 * TensorProto, ValueInfoProto, TypeProto, TensorShapeProto), as onnxProto.ts writes them.
 */
import { utf8Decode, WireType } from './protobuf';
import { dataTypeSize } from './onnxProto';

/** A file that is not a (whole) ONNX model; `offset` is the byte where reading failed. */
export class OnnxDecodeError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`byte ${offset}: ${message}`);
    this.name = 'OnnxDecodeError';
  }
}

export type DecodedDim = number | string | null;

export interface DecodedValueInfo {
  name: string;
  /** TensorProto.DataType of a tensor type; undefined for sequences, maps or a missing type. */
  elemType?: number;
  /** Undefined when the file gives no shape (rank unknown). */
  shape?: DecodedDim[];
}

export interface DecodedTensor {
  name: string;
  dataType: number;
  dims: number[];
  /** Number of elements (product of dims). */
  count: number;
  /** Bytes the values take (count × the type's width; 0 for strings or unknown types). */
  bytes: number;
  /** The values' bytes, when stored inline as raw_data. */
  raw?: Uint8Array;
  /** Stored in another file (data_location EXTERNAL). */
  external: boolean;
}

export type AttributeValue = number | string | number[] | string[] | DecodedTensor | { graph: string } | null;

export interface DecodedAttribute {
  name: string;
  type: number;
  value: AttributeValue;
}

export interface DecodedNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: DecodedAttribute[];
}

export interface DecodedGraph {
  name: string;
  nodes: DecodedNode[];
  initializers: DecodedTensor[];
  /** The graph inputs that are not initializers (what a caller feeds). */
  inputs: DecodedValueInfo[];
  outputs: DecodedValueInfo[];
  valueInfo: DecodedValueInfo[];
}

export interface DecodedModel {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: number;
  docString: string;
  opsets: { domain: string; version: number }[];
  metadata: Record<string, string>;
  graph: DecodedGraph;
}

/** Element type names as ONNX spells them. */
export const ELEM_TYPE_NAMES: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16',
};

/** One field of a message, with where it is in the file. */
interface Field {
  field: number;
  wire: number;
  /** Varint value. */
  v: number;
  /** For length-delimited and fixed fields: the payload range in the buffer. */
  start: number;
  end: number;
  /** Where the field's key is (for messages). */
  at: number;
}

/** Reads the fields of the message in `buf[start, end)`; offsets stay absolute. */
function fields(buf: Uint8Array, start: number, end: number): Field[] {
  const out: Field[] = [];
  let p = start;
  const varint = (): number => {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (p >= end) throw new OnnxDecodeError('the file ends inside a number (truncated?)', p);
      const b = buf[p++];
      // Values above 2^53 lose precision; no size in a model comes near it.
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new OnnxDecodeError('a number is longer than 10 bytes: this is not protobuf data', p);
  };
  while (p < end) {
    const at = p;
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) throw new OnnxDecodeError('field number 0: this is not an ONNX model (or the file is damaged here)', at);
    if (wire === WireType.Varint) out.push({ field, wire, v: varint(), start: p, end: p, at });
    else if (wire === WireType.Fixed64 || wire === WireType.Fixed32) {
      const n = wire === WireType.Fixed64 ? 8 : 4;
      if (p + n > end) throw new OnnxDecodeError(`the file ends inside a ${n * 8}-bit value`, p);
      out.push({ field, wire, v: 0, start: p, end: p + n, at });
      p += n;
    } else if (wire === WireType.LengthDelimited) {
      const n = varint();
      if (p + n > end) throw new OnnxDecodeError(`a field of ${n} bytes runs past the end of its message (byte ${end}): the file is truncated or not ONNX`, at);
      out.push({ field, wire, v: n, start: p, end: p + n, at });
      p += n;
    } else throw new OnnxDecodeError(`wire type ${wire} is not used by ONNX: this is not an ONNX model (or the file is damaged here)`, at);
  }
  return out;
}

const text = (buf: Uint8Array, f: Field): string => utf8Decode(buf.subarray(f.start, f.end));
const signed = (v: number): number => (v >= 2 ** 63 ? v - 2 ** 64 : v);

function expectWire(f: Field, wire: number, what: string): void {
  if (f.wire !== wire) throw new OnnxDecodeError(`${what} has the wrong wire type (${f.wire}, expected ${wire})`, f.at);
}

/** Packed or unpacked repeated varints. */
function varints(buf: Uint8Array, f: Field): number[] {
  if (f.wire === WireType.Varint) return [signed(f.v)];
  expectWire(f, WireType.LengthDelimited, 'a list of integers');
  const out: number[] = [];
  let p = f.start;
  while (p < f.end) {
    let result = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      if (p >= f.end || i >= 10) throw new OnnxDecodeError('a packed integer list ends inside a number', p);
      const b = buf[p++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 128;
    }
    out.push(signed(result));
  }
  return out;
}

function floats(buf: Uint8Array, f: Field): number[] {
  const view = new DataView(buf.buffer, buf.byteOffset);
  if (f.wire === WireType.Fixed32) return [view.getFloat32(f.start, true)];
  expectWire(f, WireType.LengthDelimited, 'a list of floats');
  if ((f.end - f.start) % 4) throw new OnnxDecodeError('a packed float list is not a whole number of floats', f.start);
  const out: number[] = [];
  for (let p = f.start; p < f.end; p += 4) out.push(view.getFloat32(p, true));
  return out;
}

function tensor(buf: Uint8Array, start: number, end: number): DecodedTensor {
  const t: DecodedTensor = { name: '', dataType: 0, dims: [], count: 1, bytes: 0, external: false };
  for (const f of fields(buf, start, end)) {
    if (f.field === 1) t.dims.push(...varints(buf, f));
    else if (f.field === 2) t.dataType = f.v;
    else if (f.field === 8) t.name = text(buf, f);
    else if (f.field === 9) {
      t.raw = buf.subarray(f.start, f.end);
    } else if (f.field === 14) t.external = f.v === 1;
  }
  for (const d of t.dims) if (d < 0) throw new OnnxDecodeError(`tensor '${t.name}' has a negative dimension (${d})`, start);
  t.count = t.dims.reduce((a, b) => a * b, 1);
  t.bytes = t.count * dataTypeSize(t.dataType);
  if (t.raw && t.bytes && t.raw.length !== t.bytes) throw new OnnxDecodeError(`tensor '${t.name}' holds ${t.raw.length} bytes; its dims (${t.dims.join(', ')}) and type need ${t.bytes}`, start);
  return t;
}

function valueInfo(buf: Uint8Array, start: number, end: number): DecodedValueInfo {
  const v: DecodedValueInfo = { name: '' };
  for (const f of fields(buf, start, end)) {
    if (f.field === 1) v.name = text(buf, f);
    else if (f.field === 2) {
      expectWire(f, WireType.LengthDelimited, 'a value type');
      for (const t of fields(buf, f.start, f.end)) {
        if (t.field !== 1 || t.wire !== WireType.LengthDelimited) continue; // sequence, map, optional: no tensor shape
        for (const tt of fields(buf, t.start, t.end)) {
          if (tt.field === 1) v.elemType = tt.v;
          else if (tt.field === 2) {
            v.shape = [];
            for (const d of fields(buf, tt.start, tt.end)) {
              if (d.field !== 1) continue;
              let dim: DecodedDim = null;
              for (const x of fields(buf, d.start, d.end)) {
                if (x.field === 1) dim = signed(x.v);
                else if (x.field === 2) dim = text(buf, x);
              }
              v.shape.push(dim);
            }
          }
        }
      }
    }
  }
  return v;
}

function attribute(buf: Uint8Array, start: number, end: number): DecodedAttribute {
  const a: DecodedAttribute = { name: '', type: 0, value: null };
  const ints: number[] = [];
  const fl: number[] = [];
  const strs: string[] = [];
  let single: AttributeValue = null;
  for (const f of fields(buf, start, end)) {
    if (f.field === 1) a.name = text(buf, f);
    else if (f.field === 20) a.type = f.v;
    else if (f.field === 2) single = floats(buf, f)[0];
    else if (f.field === 3) single = signed(f.v);
    else if (f.field === 4) single = text(buf, f);
    else if (f.field === 5) single = tensor(buf, f.start, f.end);
    else if (f.field === 6) single = { graph: graphName(buf, f.start, f.end) };
    else if (f.field === 7) fl.push(...floats(buf, f));
    else if (f.field === 8) ints.push(...varints(buf, f));
    else if (f.field === 9) strs.push(text(buf, f));
  }
  // AttributeType: FLOAT 1, INT 2, STRING 3, TENSOR 4, GRAPH 5, FLOATS 6, INTS 7, STRINGS 8.
  a.value = a.type === 6 ? fl : a.type === 7 ? ints : a.type === 8 ? strs : single ?? (ints.length ? ints : fl.length ? fl : strs.length ? strs : null);
  return a;
}

function graphName(buf: Uint8Array, start: number, end: number): string {
  for (const f of fields(buf, start, end)) if (f.field === 2) return text(buf, f);
  return '';
}

function node(buf: Uint8Array, start: number, end: number): DecodedNode {
  const n: DecodedNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: [] };
  for (const f of fields(buf, start, end)) {
    if (f.field === 1) n.inputs.push(text(buf, f));
    else if (f.field === 2) n.outputs.push(text(buf, f));
    else if (f.field === 3) n.name = text(buf, f);
    else if (f.field === 4) n.opType = text(buf, f);
    else if (f.field === 5) n.attributes.push(attribute(buf, f.start, f.end));
    else if (f.field === 7) n.domain = text(buf, f);
  }
  if (!n.opType) throw new OnnxDecodeError('a node has no operator type', start);
  return n;
}

function graph(buf: Uint8Array, start: number, end: number): DecodedGraph {
  const g: DecodedGraph = { name: '', nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] };
  for (const f of fields(buf, start, end)) {
    if (f.wire !== WireType.LengthDelimited) continue;
    if (f.field === 1) g.nodes.push(node(buf, f.start, f.end));
    else if (f.field === 2) g.name = text(buf, f);
    else if (f.field === 5) g.initializers.push(tensor(buf, f.start, f.end));
    else if (f.field === 11) g.inputs.push(valueInfo(buf, f.start, f.end));
    else if (f.field === 12) g.outputs.push(valueInfo(buf, f.start, f.end));
    else if (f.field === 13) g.valueInfo.push(valueInfo(buf, f.start, f.end));
  }
  // IR < 4 lists initializers among the inputs too: those are not fed.
  const init = new Set(g.initializers.map((t) => t.name));
  g.inputs = g.inputs.filter((i) => !init.has(i.name));
  return g;
}

/** Decodes an ONNX model file. */
export function decodeOnnx(buf: Uint8Array): DecodedModel {
  if (buf.length === 0) throw new OnnxDecodeError('the file is empty', 0);
  const m: DecodedModel = { irVersion: 0, producerName: '', producerVersion: '', domain: '', modelVersion: 0, docString: '', opsets: [], metadata: {}, graph: { name: '', nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] } };
  let hasGraph = false;
  for (const f of fields(buf, 0, buf.length)) {
    if (f.field === 1) m.irVersion = f.v;
    else if (f.field === 2) m.producerName = text(buf, f);
    else if (f.field === 3) m.producerVersion = text(buf, f);
    else if (f.field === 4) m.domain = text(buf, f);
    else if (f.field === 5) m.modelVersion = f.v;
    else if (f.field === 6) m.docString = text(buf, f);
    else if (f.field === 7) {
      expectWire(f, WireType.LengthDelimited, 'the graph');
      m.graph = graph(buf, f.start, f.end);
      hasGraph = true;
    } else if (f.field === 8) {
      const o = { domain: '', version: 0 };
      for (const x of fields(buf, f.start, f.end)) {
        if (x.field === 1) o.domain = text(buf, x);
        else if (x.field === 2) o.version = x.v;
      }
      m.opsets.push(o);
    } else if (f.field === 14) {
      let key = '';
      let value = '';
      for (const x of fields(buf, f.start, f.end)) {
        if (x.field === 1) key = text(buf, x);
        else if (x.field === 2) value = text(buf, x);
      }
      m.metadata[key] = value;
    }
  }
  if (!hasGraph) throw new OnnxDecodeError('the file has no graph: it is not an ONNX model', buf.length);
  if (m.irVersion === 0) throw new OnnxDecodeError('the file has no IR version: it is not an ONNX model', 0);
  return m;
}

/**
 * The model with more graph outputs (to read intermediate tensors, e.g. feature maps), made by
 * appending ValueInfoProto fields to the graph message: the rest of the file is copied byte for
 * byte, so any producer's model keeps everything it had.
 */
export function withExtraOutputs(buf: Uint8Array, outputs: readonly { name: string; elemType: number }[]): Uint8Array {
  const top = fields(buf, 0, buf.length);
  const g = top.find((f) => f.field === 7 && f.wire === WireType.LengthDelimited);
  if (!g) throw new OnnxDecodeError('the file has no graph', buf.length);
  const extra = concat(outputs.map((o) => lengthField(12, concat([lengthField(1, utf8(o.name)), lengthField(2, lengthField(1, varintField(1, o.elemType)))]))));
  const graphBytes = concat([buf.subarray(g.start, g.end), extra]);
  return concat([buf.subarray(0, g.at), lengthField(7, graphBytes), buf.subarray(g.end)]);
}

function varintBytes(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}
const varintField = (field: number, v: number) => Uint8Array.from([...varintBytes(field * 8 + WireType.Varint), ...varintBytes(v)]);
const lengthField = (field: number, payload: Uint8Array) => concat([Uint8Array.from([...varintBytes(field * 8 + WireType.LengthDelimited), ...varintBytes(payload.length)]), payload]);
function utf8(s: string): Uint8Array {
  const bytes: number[] = [];
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) bytes.push(c);
    else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else {
      bytes.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
  }
  return Uint8Array.from(bytes);
}
function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The graph inputs that look like one image: rank 4, NCHW or NHWC with 1 or 3 channels. */
export function imageInput(m: DecodedModel): { name: string; layout: 'NCHW' | 'NHWC'; channels: number; height: number; width: number } | undefined {
  if (m.graph.inputs.length !== 1) return undefined;
  const i = m.graph.inputs[0];
  if (i.elemType !== 1 || !i.shape || i.shape.length !== 4) return undefined;
  const [, a, b, c] = i.shape;
  const n = (d: DecodedDim) => (typeof d === 'number' && d > 0 ? d : undefined);
  if ((n(a) === 1 || n(a) === 3) && n(b) && n(c)) return { name: i.name, layout: 'NCHW', channels: n(a)!, height: n(b)!, width: n(c)! };
  if ((n(c) === 1 || n(c) === 3) && n(a) && n(b)) return { name: i.name, layout: 'NHWC', channels: n(c)!, height: n(a)!, width: n(b)! };
  return undefined;
}
