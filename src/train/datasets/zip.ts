/**
 * A zip reader for .npz files held in memory: the central directory (with zip64 records and
 * extra fields), stored and deflated entries, CRC-32 checked. Errors name the byte offset.
 */
import * as zlib from 'node:zlib';
import { fmt, hex32 } from './common';
import { decompressionBudget, displayName, MAX_DECOMPRESSED, type SizeFromHead } from './files';
import { DataError } from './types';

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  /** Offset of the entry's local header in the archive. */
  localHeaderOffset: number;
  /** Offset of the entry's central directory record. */
  centralOffset: number;
  flags: number;
}

export interface ZipArchive {
  file: string;
  entries: ZipEntry[];
  /** The entry's decompressed, CRC-checked bytes. */
  read(entry: ZipEntry | string): Buffer;
  /**
   * The same, inflated on libuv's thread pool into one buffer of exactly the size the central
   * directory states (never more); `sizeFromHead` checks that the entry's own header (a .npy's
   * shape) agrees with that size before the rest is inflated.
   */
  readAsync(entry: ZipEntry | string, sizeFromHead?: SizeFromHead): Promise<Buffer>;
}

let crcTable: Int32Array | undefined;

/** CRC-32 (zlib's when available, Node ≥ 20.15). */
export function crc32(data: Uint8Array): number {
  const native = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
  if (native) return native(data) >>> 0;
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  let c = -1;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function u64(dv: DataView, at: number): number {
  const v = dv.getBigUint64(at, true);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** Parses a zip archive's central directory. */
export function readZip(bytes: Uint8Array, file: string): ZipArchive {
  const name = displayName(file);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (msg: string, at: number): never => {
    throw new DataError(`${name}: ${msg}`, file, at);
  };
  const need = (at: number, len: number, what: string): void => {
    if (at < 0 || at + len > bytes.length) {
      fail(`expected ${what} (${len} bytes) at byte ${fmt(at)}, the file ends at byte ${fmt(bytes.length)}`, Math.min(Math.max(at, 0), bytes.length));
    }
  };

  // End of central directory: 22 bytes + a comment of up to 65,535 bytes, at the very end.
  let eocd = -1;
  for (let p = bytes.length - 22; p >= 0 && p >= bytes.length - 22 - 0xffff; p--) {
    if (dv.getUint32(p, true) === SIG_EOCD && p + 22 + dv.getUint16(p + 20, true) <= bytes.length) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) {
    const head = bytes.length >= 4 ? dv.getUint32(0, true) : 0;
    fail(
      head === SIG_LOCAL
        ? `no end-of-central-directory record in the last ${fmt(Math.min(bytes.length, 22 + 0xffff))} bytes: the zip file is truncated (it ends at byte ${fmt(bytes.length)})`
        : `not a zip file: no end-of-central-directory record (expected signature ${hex32(SIG_EOCD)} near the end; the file starts with ${hex32(head)})`,
      bytes.length,
    );
  }
  if (dv.getUint16(eocd + 4, true) !== 0 || dv.getUint16(eocd + 6, true) !== 0) fail(`multi-disk (split) zip archives are not supported (end record at byte ${fmt(eocd)})`, eocd + 4);
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOffset = dv.getUint32(eocd + 16, true);

  // Zip64: a locator just before the end record points to the zip64 end record, whose 8-byte
  // fields replace the saturated (0xFFFF / 0xFFFFFFFF) ones. As Python's zipfile does, the
  // zip64 record is used whenever the locator is there.
  const loc = eocd - 20;
  const hasLocator = loc >= 0 && dv.getUint32(loc, true) === SIG_ZIP64_LOCATOR;
  if (hasLocator) {
    const z64 = u64(dv, loc + 8);
    need(z64, 56, 'the zip64 end-of-central-directory record');
    if (dv.getUint32(z64, true) !== SIG_ZIP64_EOCD) fail(`bad zip64 end record signature ${hex32(dv.getUint32(z64, true))} at byte ${fmt(z64)}, expected ${hex32(SIG_ZIP64_EOCD)}`, z64);
    count = u64(dv, z64 + 32);
    cdSize = u64(dv, z64 + 40);
    cdOffset = u64(dv, z64 + 48);
  } else if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    fail(`the end record at byte ${fmt(eocd)} has saturated (zip64) fields but no zip64 locator (signature ${hex32(SIG_ZIP64_LOCATOR)}) at byte ${fmt(Math.max(loc, 0))}`, Math.max(loc, 0));
  }
  need(cdOffset, cdSize, 'the central directory');

  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    need(p, 46, `central directory record ${i}`);
    if (dv.getUint32(p, true) !== SIG_CENTRAL) fail(`bad central directory signature ${hex32(dv.getUint32(p, true))} at byte ${fmt(p)}, expected ${hex32(SIG_CENTRAL)}`, p);
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let localHeaderOffset = dv.getUint32(p + 42, true);
    need(p + 46, nameLen + extraLen + commentLen, `the name and extra fields of central record ${i}`);
    const entryName = Buffer.from(bytes.subarray(p + 46, p + 46 + nameLen)).toString(flags & 0x800 ? 'utf8' : 'latin1');
    // Zip64 extended information (0x0001): the 8-byte values of the fields saturated above.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = dv.getUint16(e, true);
      const len = dv.getUint16(e + 2, true);
      if (e + 4 + len > extraEnd) break;
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff && q + 8 <= e + 4 + len) (size = u64(dv, q)), (q += 8);
        if (compressedSize === 0xffffffff && q + 8 <= e + 4 + len) (compressedSize = u64(dv, q)), (q += 8);
        if (localHeaderOffset === 0xffffffff && q + 8 <= e + 4 + len) (localHeaderOffset = u64(dv, q)), (q += 8);
      }
      e += 4 + len;
    }
    entries.push({ name: entryName, method, crc32: crc, compressedSize, size, localHeaderOffset, centralOffset: p, flags });
    p += 46 + nameLen + extraLen + commentLen;
  }

  const read = (which: ZipEntry | string): Buffer => {
    const entry = typeof which === 'string' ? entries.find((x) => x.name === which) : which;
    if (entry === undefined) throw new DataError(`${name}: no entry "${String(which)}"; it holds ${entries.map((x) => x.name).join(', ') || 'nothing'}`, file);
    const label = `entry "${entry.name}"`;
    if (entry.flags & 1) fail(`${label} is encrypted (not supported)`, entry.centralOffset + 8);
    const lh = entry.localHeaderOffset;
    need(lh, 30, `the local header of ${label}`);
    if (dv.getUint32(lh, true) !== SIG_LOCAL) fail(`bad local header signature ${hex32(dv.getUint32(lh, true))} at byte ${fmt(lh)} for ${label}, expected ${hex32(SIG_LOCAL)}`, lh);
    const dataStart = lh + 30 + dv.getUint16(lh + 26, true) + dv.getUint16(lh + 28, true);
    if (dataStart + entry.compressedSize > bytes.length) {
      fail(
        `${label} needs ${fmt(entry.compressedSize)} bytes of ${entry.method === 8 ? 'compressed ' : ''}data from byte ${fmt(dataStart)}, the file ends at byte ${fmt(bytes.length)}`,
        bytes.length,
      );
    }
    const raw = bytes.subarray(dataStart, dataStart + entry.compressedSize);
    let out: Buffer;
    if (entry.method === 0) {
      if (entry.compressedSize !== entry.size) fail(`stored ${label} has a compressed size ${fmt(entry.compressedSize)} ≠ its size ${fmt(entry.size)}`, entry.centralOffset + 20);
      out = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    } else if (entry.method === 8) {
      if (entry.size > MAX_DECOMPRESSED) fail(`${label} decompresses to ${fmt(entry.size)} bytes, too large to load`, entry.centralOffset + 24);
      try {
        out = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
      } catch (err) {
        const e2 = err as NodeJS.ErrnoException;
        if (e2.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) fail(`${label} inflates to more than the ${fmt(entry.size)} bytes its header states`, dataStart);
        if (e2.code === 'Z_BUF_ERROR') fail(`${label}: the deflate stream (bytes ${fmt(dataStart)}–${fmt(dataStart + raw.length)}) ends before its end marker: truncated or corrupt`, dataStart + raw.length);
        fail(`${label}: corrupt deflate data in bytes ${fmt(dataStart)}–${fmt(dataStart + raw.length)} (${e2.message})`, dataStart);
      }
      if (out!.length !== entry.size) fail(`${label} inflates to ${fmt(out!.length)} bytes, its header states ${fmt(entry.size)}`, dataStart);
    } else {
      const methods: Record<number, string> = { 9: 'deflate64', 12: 'bzip2', 14: 'LZMA', 93: 'zstd', 95: 'xz' };
      return fail(`${label} uses compression method ${entry.method}${methods[entry.method] ? ` (${methods[entry.method]})` : ''}; only stored (0) and deflated (8) entries are supported`, entry.centralOffset + 10);
    }
    const actual = crc32(out!);
    if (actual !== entry.crc32) {
      fail(`${label} (data from byte ${fmt(dataStart)}) has CRC-32 ${hex32(actual)}, the central directory at byte ${fmt(entry.centralOffset)} states ${hex32(entry.crc32)}: the data is corrupt`, dataStart);
    }
    return out!;
  };
  const readAsync = async (which: ZipEntry | string, sizeFromHead?: SizeFromHead): Promise<Buffer> => {
    const entry = typeof which === 'string' ? entries.find((x) => x.name === which) : which;
    if (entry === undefined || entry.method !== 8) return read(which);
    const label = `entry "${entry.name}"`;
    if (entry.flags & 1) fail(`${label} is encrypted (not supported)`, entry.centralOffset + 8);
    const lh = entry.localHeaderOffset;
    need(lh, 30, `the local header of ${label}`);
    if (dv.getUint32(lh, true) !== SIG_LOCAL) fail(`bad local header signature ${hex32(dv.getUint32(lh, true))} at byte ${fmt(lh)} for ${label}, expected ${hex32(SIG_LOCAL)}`, lh);
    const dataStart = lh + 30 + dv.getUint16(lh + 26, true) + dv.getUint16(lh + 28, true);
    if (dataStart + entry.compressedSize > bytes.length) {
      fail(`${label} needs ${fmt(entry.compressedSize)} bytes of compressed data from byte ${fmt(dataStart)}, the file ends at byte ${fmt(bytes.length)}`, bytes.length);
    }
    const budget = decompressionBudget();
    if (entry.size > budget) fail(`${label} decompresses to ${fmt(entry.size)} bytes (the central directory at byte ${fmt(entry.centralOffset)} says), more than the ${fmt(budget)} bytes ConvLens loads on this machine`, entry.centralOffset + 24);
    const raw = bytes.subarray(dataStart, dataStart + entry.compressedSize);
    if (sizeFromHead) {
      let head: Buffer;
      try {
        head = zlib.inflateRawSync(raw.subarray(0, Math.min(raw.length, 4096)), { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: Math.min(entry.size, 4 << 20) || 1 });
      } catch {
        head = Buffer.alloc(0);
      }
      const claim = head.length > 0 ? sizeFromHead(head) : undefined;
      if (claim && 'size' in claim && claim.size !== entry.size) {
        fail(`${label}: ${claim.what.replace(/^its /, 'its own header implies ')} ${fmt(claim.size)} bytes, but the central directory at byte ${fmt(entry.centralOffset)} states ${fmt(entry.size)}: the archive is damaged or crafted`, dataStart);
      }
    }
    const out = await new Promise<Buffer>((resolve, reject) => {
      const buf = Buffer.allocUnsafe(entry.size);
      let n = 0;
      let done = false;
      const z = zlib.createInflateRaw({ chunkSize: 64 * 1024 });
      const stop = (e: unknown) => {
        if (done) return;
        done = true;
        z.destroy();
        reject(e);
      };
      z.on('data', (chunk: Buffer) => {
        if (done) return;
        if (n + chunk.length > entry.size) {
          try {
            fail(`${label} inflates to more than the ${fmt(entry.size)} bytes its header states`, dataStart);
          } catch (e) {
            stop(e);
          }
          return;
        }
        chunk.copy(buf, n);
        n += chunk.length;
      });
      z.on('error', (err: NodeJS.ErrnoException) => {
        try {
          if (err.code === 'Z_BUF_ERROR') fail(`${label}: the deflate stream (bytes ${fmt(dataStart)}–${fmt(dataStart + raw.length)}) ends before its end marker: truncated or corrupt`, dataStart + raw.length);
          fail(`${label}: corrupt deflate data in bytes ${fmt(dataStart)}–${fmt(dataStart + raw.length)} (${err.message})`, dataStart);
        } catch (e) {
          stop(e);
        }
      });
      z.on('end', () => {
        if (done) return;
        done = true;
        if (n !== entry.size) {
          try {
            fail(`${label} inflates to ${fmt(n)} bytes, its header states ${fmt(entry.size)}`, dataStart);
          } catch (e) {
            reject(e);
          }
          return;
        }
        resolve(buf);
      });
      z.end(raw);
    });
    const actual = crc32(out);
    if (actual !== entry.crc32) {
      fail(`${label} (data from byte ${fmt(dataStart)}) has CRC-32 ${hex32(actual)}, the central directory at byte ${fmt(entry.centralOffset)} states ${hex32(entry.crc32)}: the data is corrupt`, dataStart);
    }
    return out;
  };
  return { file, entries, read, readAsync };
}
