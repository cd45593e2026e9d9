/**
 * Minimal protocol-buffers wire-format writer (and a small reader for tests and
 * inspection). No dependencies, no `TextEncoder` (not in the pure core's lib).
 *
 * The writer records a flat list of operations and assembles the message in a
 * single allocation in {@link ProtoWriter.finish}; large byte blobs (tensor
 * raw_data) are referenced, not copied, until then. Nested messages reserve a
 * length slot whose size is fixed when the nested message is closed, so the
 * total cost is linear in the output size whatever the nesting depth.
 */

/** Protobuf wire types. */
export const WireType = {
  Varint: 0,
  Fixed64: 1,
  LengthDelimited: 2,
  Fixed32: 5,
} as const;

const OP_VARINT = 0; // non-negative integer number < 2^53
const OP_VARINT64 = 1; // bigint, already reduced to unsigned 64-bit
const OP_BYTES = 2; // Uint8Array copied verbatim
const OP_F32 = 3;
const OP_F64 = 4;
const OP_F32S = 5; // packed little-endian float32 array (number[] or Float32Array)
const OP_VARINTS = 6; // sequence of varints (number | bigint)[]
const OP_LEN = 7; // length prefix of a nested message, filled in by `join`

const TWO_POW_64 = 1n << 64n;

/** True when the host stores typed arrays little-endian (every mainstream platform). */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Number of bytes of the varint encoding of a non-negative integer below 2^53. */
export function varintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  let n = 4;
  v = Math.floor(v / 0x10000000);
  while (v > 0) {
    n++;
    v = Math.floor(v / 128);
  }
  return n;
}

function varint64Size(v: bigint): number {
  let n = 1;
  while (v >= 0x80n) {
    n++;
    v >>= 7n;
  }
  return n;
}

/**
 * Normalises an int64 value for varint encoding: non-negative safe integers stay
 * numbers (fast path), everything else becomes an unsigned 64-bit bigint
 * (negative values are two's complement, 10 bytes on the wire, as protobuf requires).
 */
function toVarintValue(v: number | bigint): number | bigint {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new RangeError(`protobuf: integer expected, got ${v}`);
    if (v >= 0 && v <= Number.MAX_SAFE_INTEGER) return v;
    v = BigInt(v);
  }
  if (v < -(1n << 63n) || v >= TWO_POW_64) throw new RangeError(`protobuf: ${v} does not fit in 64 bits`);
  return v < 0n ? v + TWO_POW_64 : v;
}

function sizeOfVarintValue(v: number | bigint): number {
  return typeof v === 'number' ? varintSize(v) : varint64Size(v);
}

/** UTF-8 byte length of a JS string. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Encodes a JS string as UTF-8 (lone surrogates become U+FFFD, like TextEncoder). */
export function utf8Encode(s: string): Uint8Array {
  const out = new Uint8Array(utf8Length(s));
  let p = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[p++] = c;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && (next & 0xfc00) === 0xdc00) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        out[p++] = 0xf0 | (c >> 18);
        out[p++] = 0x80 | ((c >> 12) & 0x3f);
        out[p++] = 0x80 | ((c >> 6) & 0x3f);
        out[p++] = 0x80 | (c & 0x3f);
        continue;
      }
      c = 0xfffd;
    }
    if (c < 0x800) {
      out[p++] = 0xc0 | (c >> 6);
      out[p++] = 0x80 | (c & 0x3f);
    } else {
      out[p++] = 0xe0 | (c >> 12);
      out[p++] = 0x80 | ((c >> 6) & 0x3f);
      out[p++] = 0x80 | (c & 0x3f);
    }
  }
  return out;
}

/** Decodes UTF-8 bytes to a JS string (malformed sequences become U+FFFD). */
export function utf8Decode(b: Uint8Array): string {
  let s = '';
  const codes: number[] = [];
  for (let i = 0; i < b.length; ) {
    const c = b[i++];
    let cp: number;
    if (c < 0x80) cp = c;
    else if (c >= 0xc0 && c < 0xe0 && i < b.length) cp = ((c & 0x1f) << 6) | (b[i++] & 0x3f);
    else if (c >= 0xe0 && c < 0xf0 && i + 1 < b.length) {
      cp = ((c & 0x0f) << 12) | ((b[i] & 0x3f) << 6) | (b[i + 1] & 0x3f);
      i += 2;
    } else if (c >= 0xf0 && i + 2 < b.length) {
      cp = ((c & 0x07) << 18) | ((b[i] & 0x3f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f);
      i += 3;
    } else cp = 0xfffd;
    if (cp > 0xffff) {
      cp -= 0x10000;
      codes.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else codes.push(cp);
    if (codes.length >= 4096) {
      s += String.fromCharCode(...codes);
      codes.length = 0;
    }
  }
  return s + String.fromCharCode(...codes);
}

/** Views the bytes of a typed array in little-endian order (copying only on big-endian hosts). */
export function littleEndianBytes(a: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Uint16Array): Uint8Array {
  if (a instanceof Uint8Array) return a;
  const view = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (HOST_LITTLE_ENDIAN || a instanceof Int8Array) return view;
  const width = a.BYTES_PER_ELEMENT;
  const out = new Uint8Array(view.length);
  for (let i = 0; i < view.length; i += width) for (let j = 0; j < width; j++) out[i + j] = view[i + width - 1 - j];
  return out;
}

/**
 * Append-only protobuf writer. Field methods take the field number first; nested
 * messages are written with {@link ProtoWriter.message} (or `fork`/`join`).
 */
export class ProtoWriter {
  private kinds: number[] = [];
  private vals: unknown[] = [];
  private sizes: number[] = [];
  private total = 0;
  private openLens: number[] = [];
  private openTotals: number[] = [];

  /** Bytes written so far (nested messages still open are counted without their length prefix). */
  get length(): number {
    return this.total;
  }

  private push(kind: number, val: unknown, size: number): void {
    this.kinds.push(kind);
    this.vals.push(val);
    this.sizes.push(size);
    this.total += size;
  }

  /** Writes a field key. */
  tag(field: number, wire: number): this {
    if (!(field > 0 && field < 0x20000000)) throw new RangeError(`protobuf: bad field number ${field}`);
    const key = field * 8 + wire;
    this.push(OP_VARINT, key, varintSize(key));
    return this;
  }

  /** Writes a bare varint (no key); negative values use 64-bit two's complement. */
  rawVarint(v: number | bigint): this {
    const n = toVarintValue(v);
    this.push(typeof n === 'number' ? OP_VARINT : OP_VARINT64, n, sizeOfVarintValue(n));
    return this;
  }

  /** `int64`/`int32`/`uint64`/`enum` field (varint; negative values take 10 bytes). */
  int64(field: number, v: number | bigint): this {
    return this.tag(field, WireType.Varint).rawVarint(v);
  }

  /** `bool` field. */
  bool(field: number, v: boolean): this {
    return this.int64(field, v ? 1 : 0);
  }

  /** `float` field (fixed32, little-endian IEEE 754). */
  float(field: number, v: number): this {
    this.tag(field, WireType.Fixed32);
    this.push(OP_F32, v, 4);
    return this;
  }

  /** `double` field (fixed64). */
  double(field: number, v: number): this {
    this.tag(field, WireType.Fixed64);
    this.push(OP_F64, v, 8);
    return this;
  }

  /** `bytes` field; the array is referenced until {@link finish}, so do not mutate it before then. */
  bytes(field: number, data: Uint8Array): this {
    this.tag(field, WireType.LengthDelimited).rawVarint(data.length);
    if (data.length > 0) this.push(OP_BYTES, data, data.length);
    return this;
  }

  /** `string` field (UTF-8). */
  string(field: number, s: string): this {
    return this.bytes(field, utf8Encode(s));
  }

  /** Packed `repeated float` field. */
  packedFloats(field: number, values: ArrayLike<number>): this {
    this.tag(field, WireType.LengthDelimited).rawVarint(values.length * 4);
    if (values.length > 0) this.push(OP_F32S, values, values.length * 4);
    return this;
  }

  /** Packed `repeated int64/int32/uint64` field. */
  packedVarints(field: number, values: ArrayLike<number | bigint>): this {
    const normalised: (number | bigint)[] = new Array(values.length);
    let size = 0;
    for (let i = 0; i < values.length; i++) {
      const n = toVarintValue(values[i]);
      normalised[i] = n;
      size += sizeOfVarintValue(n);
    }
    this.tag(field, WireType.LengthDelimited).rawVarint(size);
    if (size > 0) this.push(OP_VARINTS, normalised, size);
    return this;
  }

  /** Unpacked `repeated int64` field: one key per element (proto2 default). */
  repeatedInt64(field: number, values: ArrayLike<number | bigint>): this {
    for (let i = 0; i < values.length; i++) this.int64(field, values[i]);
    return this;
  }

  /** Unpacked `repeated float` field. */
  repeatedFloat(field: number, values: ArrayLike<number>): this {
    for (let i = 0; i < values.length; i++) this.float(field, values[i]);
    return this;
  }

  /** Unpacked `repeated string` field. */
  repeatedString(field: number, values: readonly string[]): this {
    for (const s of values) this.string(field, s);
    return this;
  }

  /** Opens a nested message in `field`; close it with {@link join}. */
  fork(field: number): this {
    this.tag(field, WireType.LengthDelimited);
    this.openLens.push(this.kinds.length);
    this.openTotals.push(this.total);
    this.push(OP_LEN, 0, 0);
    return this;
  }

  /** Closes the innermost message opened with {@link fork}. */
  join(): this {
    const idx = this.openLens.pop();
    const start = this.openTotals.pop();
    if (idx === undefined || start === undefined) throw new Error('protobuf: join() without fork()');
    const len = this.total - start;
    const size = varintSize(len);
    this.vals[idx] = len;
    this.sizes[idx] = size;
    this.total += size;
    return this;
  }

  /** Writes a nested message whose body is produced by `body`. */
  message(field: number, body: (w: this) => void): this {
    this.fork(field);
    body(this);
    return this.join();
  }

  /** Assembles the encoded bytes. The writer may not be used afterwards. */
  finish(): Uint8Array {
    if (this.openLens.length) throw new Error('protobuf: finish() with unclosed nested message');
    const out = new Uint8Array(this.total);
    const dv = new DataView(out.buffer);
    const { kinds, vals, sizes } = this;
    let p = 0;
    for (let i = 0; i < kinds.length; i++) {
      const v = vals[i];
      switch (kinds[i]) {
        case OP_VARINT:
        case OP_LEN:
          p = writeVarint(out, p, v as number);
          break;
        case OP_VARINT64:
          p = writeVarint64(out, p, v as bigint);
          break;
        case OP_BYTES:
          out.set(v as Uint8Array, p);
          p += sizes[i];
          break;
        case OP_F32:
          dv.setFloat32(p, v as number, true);
          p += 4;
          break;
        case OP_F64:
          dv.setFloat64(p, v as number, true);
          p += 8;
          break;
        case OP_F32S: {
          const a = v as ArrayLike<number>;
          if (a instanceof Float32Array && HOST_LITTLE_ENDIAN) {
            out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), p);
            p += a.byteLength;
          } else {
            for (let j = 0; j < a.length; j++, p += 4) dv.setFloat32(p, a[j], true);
          }
          break;
        }
        case OP_VARINTS:
          for (const x of v as (number | bigint)[]) p = typeof x === 'number' ? writeVarint(out, p, x) : writeVarint64(out, p, x);
          break;
      }
    }
    if (p !== out.length) throw new Error(`protobuf: internal size mismatch (${p} != ${out.length})`);
    this.kinds = [];
    this.vals = [];
    this.sizes = [];
    return out;
  }
}

function writeVarint(out: Uint8Array, p: number, v: number): number {
  while (v >= 0x80) {
    out[p++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[p++] = v;
  return p;
}

function writeVarint64(out: Uint8Array, p: number, v: bigint): number {
  while (v >= 0x80n) {
    out[p++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  out[p++] = Number(v);
  return p;
}

/** One decoded field: varints as bigint, fixed32/64 as raw bytes, length-delimited as a byte view. */
export interface ProtoField {
  field: number;
  wire: number;
  /** Varint value (wire 0). */
  varint?: bigint;
  /** Payload for wire types 1, 2 and 5 (a view into the input). */
  bytes?: Uint8Array;
}

/**
 * Splits one message into its fields (non-recursive). Enough to inspect
 * encoded ONNX models in tests and tooling; not a general decoder.
 */
export function readFields(buf: Uint8Array): ProtoField[] {
  const out: ProtoField[] = [];
  let p = 0;
  const readVarint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (p >= buf.length) throw new Error('protobuf: truncated varint');
      const b = buf[p++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      shift += 7n;
      if (shift > 63n) throw new Error('protobuf: varint too long');
    }
  };
  while (p < buf.length) {
    const key = Number(readVarint());
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === WireType.Varint) out.push({ field, wire, varint: readVarint() });
    else if (wire === WireType.Fixed64 || wire === WireType.Fixed32) {
      const n = wire === WireType.Fixed64 ? 8 : 4;
      if (p + n > buf.length) throw new Error('protobuf: truncated fixed field');
      out.push({ field, wire, bytes: buf.subarray(p, p + n) });
      p += n;
    } else if (wire === WireType.LengthDelimited) {
      const n = Number(readVarint());
      if (p + n > buf.length) throw new Error('protobuf: truncated length-delimited field');
      out.push({ field, wire, bytes: buf.subarray(p, p + n) });
      p += n;
    } else throw new Error(`protobuf: unsupported wire type ${wire}`);
  }
  return out;
}

/** Interprets a varint as a signed 64-bit integer (two's complement). */
export function varintToSigned(v: bigint): bigint {
  return v >= 1n << 63n ? v - TWO_POW_64 : v;
}
