/**
 * The ConvLens checkpoint format (`.ckpt`): a small JSON header and the tensors as float32 blobs.
 *
 * ```
 * bytes 0–7     magic "CLCKPT\r\n" (the CR LF catches text-mode copies)
 * bytes 8–11    format version, uint32 little-endian (currently 1)
 * bytes 12–15   header length H, uint32 little-endian
 * bytes 16…     header: H bytes of UTF-8 JSON (CheckpointHeader), then zero bytes up to a multiple of 8
 * data section  each tensor's float32 little-endian values at data start + its `offset`
 * ```
 *
 * Weights keep Keras' layout and names (`conv2d/kernel` (kh, kw, c_in, filters), `dense/kernel`
 * (in, units)), so they map one to one onto a Keras model's `get_weights()`. Optimizer slots are
 * named `<weight>.<slot>` (`conv2d/kernel.velocity`). Each tensor carries a CRC-32, so a damaged
 * file is reported with the byte range that is wrong; a truncated file with the byte it ends at.
 */
import { littleEndianBytes, utf8Decode, utf8Encode } from '../onnx/protobuf';
import type { OptimizerConfig } from './optimizers';

export const CHECKPOINT_MAGIC = 'CLCKPT\r\n';
export const CHECKPOINT_VERSION = 1;

/** One tensor of a checkpoint. */
export interface CheckpointTensor {
  name: string;
  kind: 'weight' | 'slot';
  shape: number[];
  /** Byte offset from the start of the data section. */
  offset: number;
  /** CRC-32 of the tensor's bytes. */
  crc32: number;
}

/** Metrics of the epoch a checkpoint was written after. */
export interface CheckpointMetrics {
  loss: number;
  accuracy: number;
  val_loss?: number;
  val_accuracy?: number;
}

/** The JSON header. */
export interface CheckpointHeader {
  format: 'convlens-checkpoint';
  version: number;
  /** Keras name of the model. */
  model: string;
  /** Weight names and shapes of the model it belongs to (see planFingerprint). */
  fingerprint: string;
  /** Epochs completed (1-based count). */
  epoch: number;
  /** Optimizer steps taken. */
  step: number;
  /** The quantity the best checkpoint is chosen by, and its value here. */
  monitor: 'val_loss' | 'loss';
  best: number;
  metrics: CheckpointMetrics;
  optimizer: OptimizerConfig;
  seed: number;
  /** When it was written (ISO 8601). */
  created: string;
  /** Size of the data section in bytes. */
  dataBytes: number;
  tensors: CheckpointTensor[];
}

/** A checkpoint in memory. */
export interface Checkpoint {
  header: Omit<CheckpointHeader, 'format' | 'version' | 'dataBytes' | 'tensors'>;
  /** Values by tensor name, with their kind; shapes come from the map given to encode. */
  tensors: Map<string, { kind: 'weight' | 'slot'; shape: number[]; data: Float32Array }>;
}

/** A checkpoint that cannot be read: what is wrong and at which byte of the file. */
export class CheckpointError extends Error {
  constructor(
    message: string,
    readonly byteOffset?: number,
  ) {
    super(message);
    this.name = 'CheckpointError';
  }
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as zlib and PNG). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** Serialises a checkpoint. */
export function encodeCheckpoint(ckpt: Checkpoint): Uint8Array {
  const tensors: CheckpointTensor[] = [];
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of ckpt.tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== count) throw new Error(`checkpoint tensor '${name}' has ${t.data.length} values, expected ${count}`);
    const bytes = littleEndianBytes(t.data);
    tensors.push({ name, kind: t.kind, shape: t.shape, offset, crc32: crc32(bytes) });
    blobs.push(bytes);
    offset = align8(offset + bytes.length);
  }
  const header: CheckpointHeader = { format: 'convlens-checkpoint', version: CHECKPOINT_VERSION, ...ckpt.header, dataBytes: offset, tensors };
  const json = utf8Encode(JSON.stringify(header));
  const dataStart = align8(16 + json.length);
  const out = new Uint8Array(dataStart + offset);
  for (let i = 0; i < 8; i++) out[i] = CHECKPOINT_MAGIC.charCodeAt(i);
  const view = new DataView(out.buffer);
  view.setUint32(8, CHECKPOINT_VERSION, true);
  view.setUint32(12, json.length, true);
  out.set(json, 16);
  tensors.forEach((t, i) => out.set(blobs[i], dataStart + t.offset));
  return out;
}

/** Reads a checkpoint, checking every tensor; throws {@link CheckpointError} naming the byte that is wrong. */
export function decodeCheckpoint(bytes: Uint8Array): Checkpoint & { header: CheckpointHeader } {
  if (bytes.length < 16) throw new CheckpointError(`file is truncated: ${bytes.length} bytes, the fixed header alone is 16 (it ends at byte ${bytes.length})`, bytes.length);
  for (let i = 0; i < 8; i++) {
    if (bytes[i] !== CHECKPOINT_MAGIC.charCodeAt(i)) {
      throw new CheckpointError(`not a ConvLens checkpoint: byte ${i} is 0x${bytes[i].toString(16).padStart(2, '0')}, expected the signature "CLCKPT\\r\\n" at bytes 0–7`, i);
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== CHECKPOINT_VERSION) {
    throw new CheckpointError(`checkpoint format version ${version} (bytes 8–11) is not supported: this ConvLens reads version ${CHECKPOINT_VERSION}`, 8);
  }
  const headerLength = view.getUint32(12, true);
  if (16 + headerLength > bytes.length) {
    throw new CheckpointError(`file is truncated: the header needs bytes 16–${16 + headerLength - 1}, but the file ends at byte ${bytes.length}`, bytes.length);
  }
  let header: CheckpointHeader;
  try {
    header = JSON.parse(utf8Decode(bytes.subarray(16, 16 + headerLength))) as CheckpointHeader;
  } catch (e) {
    throw new CheckpointError(`the header at bytes 16–${16 + headerLength - 1} is not valid JSON (${(e as Error).message})`, 16);
  }
  if (header.format !== 'convlens-checkpoint' || !Array.isArray(header.tensors) || typeof header.dataBytes !== 'number') {
    throw new CheckpointError(`the header at bytes 16–${16 + headerLength - 1} is not a ConvLens checkpoint header`, 16);
  }
  const dataStart = align8(16 + headerLength);
  if (dataStart + header.dataBytes > bytes.length) {
    const missing = header.tensors.find((t) => dataStart + t.offset + 4 * t.shape.reduce((a, b) => a * b, 1) > bytes.length);
    const where = missing ? ` inside tensor '${missing.name}' (bytes ${dataStart + missing.offset}–${dataStart + missing.offset + 4 * missing.shape.reduce((a, b) => a * b, 1) - 1})` : '';
    throw new CheckpointError(`file is truncated: it should be ${dataStart + header.dataBytes} bytes but ends at byte ${bytes.length}${where}`, bytes.length);
  }
  const tensors: Checkpoint['tensors'] = new Map();
  for (const t of header.tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    const start = dataStart + t.offset;
    const raw = bytes.subarray(start, start + 4 * count);
    if (crc32(raw) !== t.crc32) throw new CheckpointError(`tensor '${t.name}' (bytes ${start}–${start + 4 * count - 1}) is corrupt: its CRC-32 does not match`, start);
    const data = new Float32Array(count);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < count; i++) data[i] = dv.getFloat32(4 * i, true);
    tensors.set(t.name, { kind: t.kind, shape: t.shape, data });
  }
  return { header, tensors };
}
