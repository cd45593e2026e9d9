/**
 * Reading data files from disk: whole-file reads, transparent gunzip (by the gzip magic, not
 * the name: browsers often decompress a downloaded .gz and keep its name), and DataErrors that
 * say where a gzip stream is corrupt or truncated. Decompression is bounded: it stops at the size
 * the file's own header implies (IDX dimensions, a .npy shape; else the gzip trailer), into one
 * buffer of exactly that size, so a small file that inflates to gigabytes (a "bomb") costs no
 * more than the data it claims to hold, and a claim larger than the machine can load is refused
 * before anything is inflated.
 */
import { constants as bufferConstants } from 'node:buffer';
import { promises as fsp, readFileSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { fmt } from './common';
import { DataError } from './types';

/** The largest decompressed file accepted (2 GiB: a bound against gzip bombs; CIFAR-10 is 185 MB). */
export const MAX_DECOMPRESSED = Math.min(bufferConstants.MAX_LENGTH, 2 ** 31);

/** True when the bytes start with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** A file's name for messages: its base name. */
export function displayName(file: string): string {
  return path.basename(file);
}

function readError(file: string, e: unknown): DataError {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT') return new DataError(`${displayName(file)}: file not found (${file})`, file);
  if (err.code === 'EISDIR') return new DataError(`${displayName(file)}: is a folder, expected a file (${file})`, file);
  if (err.code === 'EACCES' || err.code === 'EPERM') return new DataError(`${displayName(file)}: permission denied (${file})`, file);
  return new DataError(`${displayName(file)}: cannot read (${err.message})`, file);
}

/**
 * Locates the first corrupt byte of a gzip stream: the shortest prefix that zlib rejects even
 * when allowed to stop early (a binary search, only run on the error path). Exact up to 1 MB;
 * for larger files it stops within 1/1024 of the file (≤ 10 decompressions of a prefix), so that
 * a corrupt 170 MB archive is reported in seconds.
 */
function locateGzipError(bytes: Uint8Array): { at: number; exact: boolean } {
  const fails = (k: number): boolean => {
    try {
      zlib.gunzipSync(bytes.subarray(0, k), { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: MAX_DECOMPRESSED });
      return false;
    } catch {
      return true;
    }
  };
  const precision = bytes.length <= 1 << 20 ? 1 : Math.ceil(bytes.length / 1024);
  let lo = 1; // passes (a 1-byte prefix only holds part of the magic)
  let hi = bytes.length; // fails
  if (!fails(hi)) return { at: bytes.length, exact: true };
  while (hi - lo > precision) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (fails(mid)) hi = mid;
    else lo = mid;
  }
  return { at: hi - 1, exact: precision === 1 };
}

/** How many bytes a truncated gzip stream yields before it stops (at most `limit`). */
function partialGunzipLength(bytes: Uint8Array, limit: number): number | undefined {
  try {
    return zlib.gunzipSync(bytes, { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: Math.max(1, limit) }).length;
  } catch {
    return undefined;
  }
}

/** A zlib failure on a gzip file → a DataError with the byte offset (in the compressed file). */
export function gzipError(file: string, bytes: Uint8Array, e: unknown, limit = MAX_DECOMPRESSED): DataError {
  const name = displayName(file);
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
    return new DataError(`${name}: decompresses to more than ${fmt(limit)} bytes, too large to load`, file);
  }
  if (err.code === 'Z_BUF_ERROR') {
    const got = partialGunzipLength(bytes, limit);
    return new DataError(
      `${name}: truncated gzip stream: the file ends at byte ${fmt(bytes.length)} before the end of the compressed data` +
        (got === undefined ? '' : ` (${fmt(got)} bytes decompressed so far)`) +
        '; download it again',
      file,
      bytes.length,
    );
  }
  const { at, exact } = locateGzipError(bytes);
  const what = err.message === 'incorrect data check' ? 'CRC-32 check failed: the decompressed data is corrupt' : err.message;
  return new DataError(`${name}: corrupt gzip data ${exact ? 'at' : 'near'} byte ${fmt(at)} (${what}); download it again`, file, at);
}

/** Decompresses `bytes` when gzip, synchronously, bounded by its gzip trailer's size. */
export function maybeGunzipSync(file: string, bytes: Buffer): Buffer {
  if (!isGzip(bytes)) return bytes;
  const limit = bytes.length >= 18 ? Math.min(bytes.readUInt32LE(bytes.length - 4), decompressionBudget()) : 1;
  try {
    return zlib.gunzipSync(bytes, { maxOutputLength: Math.max(1, limit) });
  } catch (e) {
    throw gzipError(file, bytes, e, limit);
  }
}

/**
 * What a file's decompressed size is, read from its first bytes: `{ size }` (the whole file, as
 * its header implies), `{ need }` (give me this many bytes first), `{ prefix }` (the header is
 * wrong: these first bytes are enough for the reader's error message), or undefined (the format
 * has no size in its header: the gzip trailer decides).
 */
export type SizeFromHead = (head: Uint8Array) => { size: number; what: string } | { need: number } | { prefix: number } | undefined;

/** The most a dataset file may decompress to here: 2 GiB, and half the machine's memory. */
export function decompressionBudget(): number {
  return Math.min(MAX_DECOMPRESSED, Math.floor(os.totalmem() / 2));
}

/** The first bytes of a gzip stream (at least `want`, unless it is shorter), inflating only a prefix of the compressed data. */
function gunzipHead(file: string, bytes: Uint8Array, want: number): Buffer {
  // Deflate expands at most ~1032:1, so `want` output bytes need at least want/1032 input bytes.
  for (let take = Math.min(bytes.length, 1024 + Math.ceil(want / 1000)); ; take = Math.min(bytes.length, take * 4)) {
    let out: Buffer;
    try {
      out = zlib.gunzipSync(bytes.subarray(0, take), { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: Math.max(want, 1) + 1_100_000 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) return Buffer.alloc(0);
      throw gzipError(file, bytes, e, want);
    }
    if (out.length >= want || take === bytes.length) return out;
  }
}

/**
 * Inflates a gzip stream into one buffer of exactly `size` bytes; more data than that, or less,
 * is an error. The stream stops at the first byte beyond `size`.
 */
function gunzipInto(file: string, bytes: Uint8Array, size: number, what: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const out = Buffer.allocUnsafe(size);
    let n = 0;
    let settled = false;
    const z = zlib.createGunzip({ chunkSize: 64 * 1024 });
    const fail = (e: DataError) => {
      if (settled) return;
      settled = true;
      z.destroy();
      reject(e);
    };
    z.on('data', (chunk: Buffer) => {
      if (settled) return;
      if (n + chunk.length > size) {
        fail(new DataError(`${displayName(file)}: decompresses to more than the ${fmt(size)} bytes ${what}: the file holds more data than it says (or is a decompression bomb); stopped at byte ${fmt(size)} of the output`, file));
        return;
      }
      chunk.copy(out, n);
      n += chunk.length;
    });
    z.on('error', (e) => fail(gzipError(file, bytes, e, size)));
    z.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(n === size ? out : out.subarray(0, n));
    });
    z.end(bytes);
  });
}

/**
 * Decompresses `bytes` when gzip, bounded by the size the file claims: its header (through
 * `sizeFromHead`) or, without one, the gzip trailer. A claim beyond what this machine can load is
 * refused before inflating.
 */
export async function maybeGunzip(file: string, bytes: Buffer, sizeFromHead?: SizeFromHead): Promise<Buffer> {
  if (!isGzip(bytes)) return bytes;
  const name = displayName(file);
  const budget = decompressionBudget();
  let claim: { size: number; what: string } | undefined;
  if (sizeFromHead) {
    let want = 64;
    for (let i = 0; i < 8; i++) {
      const head = gunzipHead(file, bytes, want);
      const r = sizeFromHead(head);
      if (r === undefined) break;
      if ('prefix' in r) return head.subarray(0, Math.min(head.length, r.prefix));
      if ('size' in r) {
        claim = r;
        break;
      }
      if (head.length < r.need) return head; // the stream ends inside the header: the reader says so
      want = r.need;
    }
  }
  if (!claim) {
    if (bytes.length < 18) throw new DataError(`${name}: truncated gzip stream: the file ends at byte ${fmt(bytes.length)}, before the 8-byte trailer; download it again`, file, bytes.length);
    const isize = bytes.readUInt32LE(bytes.length - 4);
    claim = { size: isize, what: 'its gzip trailer states (bytes ' + fmt(bytes.length - 4) + '–' + fmt(bytes.length - 1) + ')' };
  }
  if (claim.size > budget) {
    throw new DataError(`${name}: its data would take ${fmt(claim.size)} bytes once decompressed (${claim.what.replace(/^its /, 'as its ')}), more than the ${fmt(budget)} bytes ConvLens loads on this machine`, file);
  }
  return gunzipInto(file, bytes, claim.size, claim.what);
}

/** Reads a whole file, without decompressing. */
export async function readBytes(file: string): Promise<Buffer> {
  try {
    return await fsp.readFile(file);
  } catch (e) {
    throw readError(file, e);
  }
}

export function readBytesSync(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw readError(file, e);
  }
}

/** Reads a file, gunzipping it when it is gzip-compressed (bounded by the size its header or trailer claims). */
export async function readDataFile(file: string, sizeFromHead?: SizeFromHead): Promise<Buffer> {
  return maybeGunzip(file, await readBytes(file), sizeFromHead);
}

export function readDataFileSync(file: string): Buffer {
  return maybeGunzipSync(file, readBytesSync(file));
}

/** The first of `names` that exists as a file in `folder`, or undefined. */
export function findFile(folder: string, names: readonly string[]): string | undefined {
  for (const n of names) {
    const p = path.join(folder, n);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      /* absent */
    }
  }
  return undefined;
}

export function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
