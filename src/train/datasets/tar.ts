/** A minimal reader for (uncompressed) ustar/GNU tar archives held in memory. */
import { fmt } from './common';
import { displayName } from './files';
import { DataError } from './types';

export interface TarEntry {
  /** The path inside the archive ("cifar-10-batches-bin/data_batch_1.bin"). */
  name: string;
  /** The file's bytes (a view of the archive). */
  data: Uint8Array;
  /** Where the file's data starts in the archive. */
  offset: number;
}

function str(b: Uint8Array, start: number, len: number): string {
  let end = start;
  while (end < start + len && b[end] !== 0) end++;
  return Buffer.from(b.subarray(start, end)).toString('utf8');
}

function octal(b: Uint8Array, start: number, len: number, file: string): number {
  if (b[start] & 0x80) {
    // GNU base-256 encoding for sizes ≥ 8 GiB.
    let v = b[start] & 0x7f;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + b[i];
    return v;
  }
  const s = str(b, start, len).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new DataError(`${displayName(file)}: bad tar header at byte ${fmt(start)}: size field "${s}" is not octal`, file, start);
  return parseInt(s, 8);
}

/** The regular files of a tar archive. */
export function readTar(bytes: Uint8Array, file: string): TarEntry[] {
  const out: TarEntry[] = [];
  let pos = 0;
  let longName: string | undefined;
  while (pos + 512 <= bytes.length) {
    let zero = true;
    for (let i = pos; i < pos + 512; i++) {
      if (bytes[i] !== 0) {
        zero = false;
        break;
      }
    }
    if (zero) return out; // end-of-archive marker
    const size = octal(bytes, pos + 124, 12, file);
    const type = String.fromCharCode(bytes[pos + 156] || 0x30);
    const magic = str(bytes, pos + 257, 6);
    let name = str(bytes, pos, 100);
    if (magic.startsWith('ustar')) {
      const prefix = str(bytes, pos + 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    const dataStart = pos + 512;
    if (dataStart + size > bytes.length) {
      throw new DataError(
        `${displayName(file)}: tar entry "${longName ?? name}" needs ${fmt(size)} bytes from byte ${fmt(dataStart)}, the archive ends at byte ${fmt(bytes.length)}`,
        file,
        bytes.length,
      );
    }
    const data = bytes.subarray(dataStart, dataStart + size);
    if (type === 'L') {
      longName = str(data, 0, data.length);
    } else {
      if (type === '0' || type === '\0' || type === '7') out.push({ name: longName ?? name, data, offset: dataStart });
      longName = undefined;
    }
    pos = dataStart + Math.ceil(size / 512) * 512;
  }
  if (pos !== bytes.length) {
    throw new DataError(`${displayName(file)}: truncated tar archive: a 512-byte header was expected at byte ${fmt(pos)}, the archive ends at byte ${fmt(bytes.length)}`, file, bytes.length);
  }
  return out;
}
