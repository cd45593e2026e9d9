/**
 * The ConvLens checkpoint format (`.ckpt`): a small JSON header and the tensors as float32 blobs,
 * with checksums over both, so a damaged or edited file is always an error, never read as
 * something else.
 *
 * ```
 * bytes 0–7     magic "CLCKPT\r\n" (the CR LF catches text-mode copies)
 * bytes 8–11    format version, uint32 little-endian (2; version 1 files are still read)
 * bytes 12–15   header length H, uint32 little-endian
 * bytes 16–19   CRC-32 of bytes 0–15 and of the H header bytes                  (version 2)
 * bytes 20–23   CRC-32 of the whole data section, padding included               (version 2)
 * bytes 24…     header: H bytes of UTF-8 JSON (CheckpointHeader), then zero bytes up to a multiple of 8
 *               (version 1: the header starts at byte 16 and there are no file checksums)
 * data section  each tensor's float32 little-endian values at data start + its `offset`
 * ```
 *
 * Weights keep Keras' layout and names (`conv2d/kernel` (kh, kw, c_in, filters), `dense/kernel`
 * (in, units)), so they map one to one onto a Keras model's `get_weights()`. Optimizer slots are
 * named `<weight>.<slot>` (`conv2d/kernel.velocity`). Each tensor also carries its own CRC-32, so
 * a damaged file is reported with the tensor and byte range that is wrong; a truncated file with
 * the byte it ends at. Every header field is checked before anything is allocated from it.
 */
import { littleEndianBytes, utf8Decode, utf8Encode } from '../onnx/protobuf';
import { architectureProblem, type Architecture } from './architecture';
import type { OptimizerConfig } from './optimizers';

export const CHECKPOINT_MAGIC = 'CLCKPT\r\n';
export const CHECKPOINT_VERSION = 2;

/** The largest header accepted (a real one is a few kilobytes per layer). */
export const MAX_CHECKPOINT_HEADER = 64 * 1024 * 1024;

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
  /**
   * The architecture fingerprint (architecture.ts: `arch1-…`); version 1 files hold the weight
   * names and shapes here instead.
   */
  fingerprint: string;
  /** The architecture the weights belong to (version 2), to name what changed when it no longer matches. */
  architecture?: Architecture;
  /** Epochs completed (1-based count). */
  epoch: number;
  /** Batches of the next epoch already trained (a stop inside an epoch); 0 at an epoch's end. */
  batch?: number;
  /** Optimizer steps taken. */
  step: number;
  /** The quantity the best checkpoint is chosen by, whether lower or higher is better, and the best value so far. */
  monitor: string;
  mode?: 'min' | 'max';
  best: number;
  metrics: CheckpointMetrics;
  optimizer: OptimizerConfig;
  /** The learning rate in force (after ReduceLROnPlateau / LearningRateScheduler), when it differs from the optimizer's. */
  learningRate?: number;
  /** The callbacks' counters (EarlyStopping, ReduceLROnPlateau), for an exact resume. */
  callbacks?: Record<string, Record<string, number | null>>;
  /** Running sums of the interrupted epoch (with `batch` > 0). */
  partial?: { lossSum: number; correct: number; seen: number };
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

/** Where the header starts in each version. */
const HEADER_START: Record<number, number> = { 1: 16, 2: 24 };

/** CRC-32 of several byte ranges in a row. */
function crc32Parts(parts: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const bytes of parts) for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Serialises a checkpoint (version 2). */
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
  // JSON has no Infinity: a best value not reached yet is written as null and read back as ±Infinity.
  const json = utf8Encode(JSON.stringify(header, (k, v) => (k === 'best' && typeof v === 'number' && !Number.isFinite(v) ? null : v)));
  const start = HEADER_START[CHECKPOINT_VERSION];
  const dataStart = align8(start + json.length);
  const out = new Uint8Array(dataStart + offset);
  for (let i = 0; i < 8; i++) out[i] = CHECKPOINT_MAGIC.charCodeAt(i);
  const view = new DataView(out.buffer);
  view.setUint32(8, CHECKPOINT_VERSION, true);
  view.setUint32(12, json.length, true);
  out.set(json, start);
  tensors.forEach((t, i) => out.set(blobs[i], dataStart + t.offset));
  view.setUint32(16, crc32Parts([out.subarray(0, 16), json]), true);
  view.setUint32(20, crc32(out.subarray(dataStart)), true);
  return out;
}

const isInt = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Why a parsed header is not a valid checkpoint header (the first problem found), or undefined. */
export function checkpointHeaderProblem(h: unknown, fileBytes: number, dataStart: number): string | undefined {
  if (typeof h !== 'object' || h === null || Array.isArray(h)) return 'it is not a JSON object';
  const o = h as Record<string, unknown>;
  if (o.format !== 'convlens-checkpoint') return 'it has no "format": "convlens-checkpoint"';
  for (const k of ['model', 'fingerprint', 'monitor', 'created'] as const) if (typeof o[k] !== 'string') return `"${k}" is not a string`;
  for (const k of ['epoch', 'step'] as const) if (!isInt(o[k])) return `"${k}" is not a whole number ≥ 0`;
  if (o.batch !== undefined && !isInt(o.batch)) return '"batch" is not a whole number ≥ 0';
  if (!(isNum(o.best) || o.best === null)) return '"best" is not a number';
  if (o.mode !== undefined && o.mode !== 'min' && o.mode !== 'max') return '"mode" is not "min" or "max"';
  if (typeof o.seed !== 'number') return '"seed" is not a number';
  if (o.learningRate !== undefined && !(isNum(o.learningRate) && o.learningRate > 0)) return '"learningRate" is not a positive number';
  const m = o.metrics as Record<string, unknown> | null;
  if (typeof m !== 'object' || m === null || Array.isArray(m) || !Object.values(m).every((v) => typeof v === 'number' || v === null)) return '"metrics" is not an object of numbers';
  const opt = o.optimizer as Record<string, unknown> | null;
  if (typeof opt !== 'object' || opt === null || typeof opt.name !== 'string' || !isNum(opt.learningRate)) return '"optimizer" needs a "name" and a "learningRate"';
  if (o.architecture !== undefined) {
    const why = architectureProblem(o.architecture);
    if (why) return `"architecture" ${why}`;
  }
  if (o.partial !== undefined) {
    const p = o.partial as Record<string, unknown> | null;
    if (typeof p !== 'object' || p === null || !isNum(p.lossSum) || !isNum(p.correct) || !isInt(p.seen)) return '"partial" needs "lossSum", "correct" and "seen"';
  }
  if (o.callbacks !== undefined && (typeof o.callbacks !== 'object' || o.callbacks === null)) return '"callbacks" is not an object';
  if (!isInt(o.dataBytes)) return '"dataBytes" is not a whole number ≥ 0';
  if (dataStart + o.dataBytes < fileBytes) return `the data section should end at byte ${dataStart + o.dataBytes}, but the file goes on to byte ${fileBytes}`;
  if (!Array.isArray(o.tensors)) return '"tensors" is not a list';
  const names = new Set<string>();
  const spans: [number, number, string][] = [];
  for (const [i, t] of (o.tensors as unknown[]).entries()) {
    if (typeof t !== 'object' || t === null) return `tensor ${i} is not an object`;
    const x = t as Record<string, unknown>;
    const who = typeof x.name === 'string' ? `tensor '${x.name}'` : `tensor ${i}`;
    if (typeof x.name !== 'string' || x.name === '' || x.name.length > 1024) return `${who} has no valid name`;
    if (names.has(x.name)) return `${who} appears twice`;
    names.add(x.name);
    if (x.kind !== 'weight' && x.kind !== 'slot') return `${who} has kind ${JSON.stringify(x.kind)}, expected "weight" or "slot"`;
    if (!Array.isArray(x.shape) || x.shape.length > 8 || !x.shape.every((d) => isInt(d) && d <= 2 ** 31)) return `${who} has an invalid shape ${JSON.stringify(x.shape)}`;
    const bytes = 4 * (x.shape as number[]).reduce((a, b) => a * b, 1);
    if (!isInt(x.offset) || x.offset % 8 !== 0) return `${who} has an invalid offset ${JSON.stringify(x.offset)} (a multiple of 8 is expected)`;
    if (x.offset + bytes > o.dataBytes) return `${who} (${bytes} bytes from offset ${x.offset}) lies beyond the ${o.dataBytes}-byte data section`;
    if (!isInt(x.crc32) || x.crc32 > 0xffffffff) return `${who} has an invalid CRC-32`;
    spans.push([x.offset, x.offset + bytes, x.name]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) if (spans[i][0] < spans[i - 1][1]) return `tensors '${spans[i - 1][2]}' and '${spans[i][2]}' overlap`;
  return undefined;
}

/** Reads a checkpoint, checking its checksums and every field; throws {@link CheckpointError} naming the byte that is wrong. */
export function decodeCheckpoint(bytes: Uint8Array): Checkpoint & { header: CheckpointHeader } {
  if (bytes.length < 16) throw new CheckpointError(`file is truncated: ${bytes.length} bytes, the fixed header alone is 16 (it ends at byte ${bytes.length})`, bytes.length);
  for (let i = 0; i < 8; i++) {
    if (bytes[i] !== CHECKPOINT_MAGIC.charCodeAt(i)) {
      throw new CheckpointError(`not a ConvLens checkpoint: byte ${i} is 0x${bytes[i].toString(16).padStart(2, '0')}, expected the signature "CLCKPT\\r\\n" at bytes 0–7`, i);
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  const start = HEADER_START[version];
  if (start === undefined) {
    throw new CheckpointError(`checkpoint format version ${version} (bytes 8–11) is not supported: this ConvLens reads versions 1 and ${CHECKPOINT_VERSION}`, 8);
  }
  if (bytes.length < start) throw new CheckpointError(`file is truncated: the fixed header is ${start} bytes, but the file ends at byte ${bytes.length}`, bytes.length);
  const headerLength = view.getUint32(12, true);
  if (start + headerLength > bytes.length) {
    throw new CheckpointError(`file is truncated: the header needs bytes ${start}–${start + headerLength - 1}, but the file ends at byte ${bytes.length}`, bytes.length);
  }
  if (headerLength > MAX_CHECKPOINT_HEADER) throw new CheckpointError(`the header length ${headerLength} (bytes 12–15) is implausible (at most ${MAX_CHECKPOINT_HEADER})`, 12);
  const json = bytes.subarray(start, start + headerLength);
  if (version >= 2 && crc32Parts([bytes.subarray(0, 16), json]) !== view.getUint32(16, true)) {
    throw new CheckpointError(`the header (bytes 0–15 and ${start}–${start + headerLength - 1}) is corrupt: its CRC-32 (bytes 16–19) does not match`, 16);
  }
  let header: CheckpointHeader;
  try {
    header = JSON.parse(utf8Decode(json)) as CheckpointHeader;
  } catch (e) {
    throw new CheckpointError(`the header at bytes ${start}–${start + headerLength - 1} is not valid JSON (${(e as Error).message})`, start);
  }
  const dataStart = align8(start + headerLength);
  if (typeof header === 'object' && header !== null && isInt((header as { dataBytes?: unknown }).dataBytes) && dataStart + header.dataBytes > bytes.length) {
    const list = Array.isArray(header.tensors) ? header.tensors : [];
    const size = (t: CheckpointTensor) => (Array.isArray(t?.shape) ? 4 * t.shape.reduce((a, b) => a * (Number(b) || 0), 1) : 0);
    const missing = list.find((t) => t && isInt(t.offset) && dataStart + t.offset + size(t) > bytes.length);
    const where = missing ? ` inside tensor '${String(missing.name)}' (bytes ${dataStart + missing.offset}–${dataStart + missing.offset + size(missing) - 1})` : '';
    throw new CheckpointError(`file is truncated: it should be ${dataStart + header.dataBytes} bytes but ends at byte ${bytes.length}${where}`, bytes.length);
  }
  const problem = checkpointHeaderProblem(header, bytes.length, dataStart);
  if (problem) throw new CheckpointError(`the header at bytes ${start}–${start + headerLength - 1} is not a valid ConvLens checkpoint header: ${problem}`, start);
  if (header.version !== version) throw new CheckpointError(`the header says version ${String(header.version)} but bytes 8–11 say ${version}`, 8);
  for (let i = start + headerLength; i < dataStart; i++) {
    if (bytes[i] !== 0) throw new CheckpointError(`byte ${i} (padding between the header and the data) is 0x${bytes[i].toString(16).padStart(2, '0')}, expected 0: the file is corrupt`, i);
  }
  if (header.best === null) header.best = header.mode === 'max' ? -Infinity : Infinity;
  const data = bytes.subarray(dataStart, dataStart + header.dataBytes);
  const dataOk = version < 2 || crc32(data) === view.getUint32(20, true);
  const tensors: Checkpoint['tensors'] = new Map();
  for (const t of header.tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    const at = dataStart + t.offset;
    const raw = bytes.subarray(at, at + 4 * count);
    if (!dataOk && crc32(raw) !== t.crc32) throw new CheckpointError(`tensor '${t.name}' (bytes ${at}–${at + 4 * count - 1}) is corrupt: its CRC-32 does not match`, at);
    if (version < 2 && crc32(raw) !== t.crc32) throw new CheckpointError(`tensor '${t.name}' (bytes ${at}–${at + 4 * count - 1}) is corrupt: its CRC-32 does not match`, at);
    const out = new Float32Array(count);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < count; i++) out[i] = dv.getFloat32(4 * i, true);
    tensors.set(t.name, { kind: t.kind, shape: t.shape, data: out });
  }
  if (!dataOk) throw new CheckpointError(`the data section (bytes ${dataStart}–${dataStart + header.dataBytes - 1}) is corrupt: its CRC-32 (bytes 20–23) does not match (the damage is outside every tensor)`, dataStart);
  return { header, tensors };
}
