/**
 * Reading data files from disk: whole-file reads, transparent gunzip (by the gzip magic, not
 * the name: browsers often decompress a downloaded .gz and keep its name), and DataErrors that
 * say where a gzip stream is corrupt or truncated.
 */
import { constants as bufferConstants } from 'node:buffer';
import { promises as fsp, readFileSync, statSync } from 'node:fs';
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

/** How many bytes a truncated gzip stream yields before it stops. */
function partialGunzipLength(bytes: Uint8Array): number | undefined {
  try {
    return zlib.gunzipSync(bytes, { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: MAX_DECOMPRESSED }).length;
  } catch {
    return undefined;
  }
}

/** A zlib failure on a gzip file → a DataError with the byte offset (in the compressed file). */
export function gzipError(file: string, bytes: Uint8Array, e: unknown): DataError {
  const name = displayName(file);
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
    return new DataError(`${name}: decompresses to more than ${fmt(MAX_DECOMPRESSED)} bytes, too large to load`, file);
  }
  if (err.code === 'Z_BUF_ERROR') {
    const got = partialGunzipLength(bytes);
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

/** Decompresses `bytes` when gzip, synchronously. */
export function maybeGunzipSync(file: string, bytes: Buffer): Buffer {
  if (!isGzip(bytes)) return bytes;
  try {
    return zlib.gunzipSync(bytes, { maxOutputLength: MAX_DECOMPRESSED });
  } catch (e) {
    throw gzipError(file, bytes, e);
  }
}

/** Decompresses `bytes` when gzip, on libuv's thread pool (several files decompress in parallel). */
export function maybeGunzip(file: string, bytes: Buffer): Promise<Buffer> {
  if (!isGzip(bytes)) return Promise.resolve(bytes);
  return new Promise((resolve, reject) => {
    zlib.gunzip(bytes, { maxOutputLength: MAX_DECOMPRESSED }, (e, out) => {
      if (e) reject(gzipError(file, bytes, e));
      else resolve(out);
    });
  });
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

/** Reads a file, gunzipping it when it is gzip-compressed. */
export async function readDataFile(file: string): Promise<Buffer> {
  return maybeGunzip(file, await readBytes(file));
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
