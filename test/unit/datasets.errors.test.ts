/**
 * Every error path of the dataset readers: each bad input gives a DataError naming the file, the
 * byte offset and what was expected; and random corruption of every format never crashes or
 * hangs (only DataErrors, or a successful load of data that happened to stay valid).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import {
  DataError,
  decodeImage,
  loadDataset,
  mulberry32,
  npyToLabels,
  parseIdx,
  parseNpy,
  parseNpz,
  readDataFile,
  readZip,
  resolveKerasDataset,
} from '../../src/train/datasets/index';
import { checkCifarBatch } from '../../src/train/datasets/cifar10';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'data');
const fixture = (name: string): string => path.join(FIXTURES, name);
const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'convlens-dataset-errors-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));
let tmpCount = 0;
function tmpDir(name = 'd'): string {
  const d = path.join(tmpRoot, `${name}-${tmpCount++}`);
  mkdirSync(d, { recursive: true });
  return d;
}

/** Asserts a DataError whose message matches every pattern (and, when given, its byteOffset). */
function isDataError(patterns: (RegExp | string)[], byteOffset?: number) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof DataError, `expected a DataError, got ${String(e)}`);
    for (const p of patterns) {
      if (typeof p === 'string') assert.ok(e.message.includes(p), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(p)}`);
      else assert.match(e.message, p);
    }
    if (byteOffset !== undefined) assert.equal(e.byteOffset, byteOffset, `byteOffset of: ${e.message}`);
    return true;
  };
}

function idx(magic: number, dims: number[], data: Uint8Array | number = 0): Buffer {
  const h = Buffer.alloc(4 + 4 * dims.length);
  h.writeUInt32BE(magic, 0);
  dims.forEach((d, k) => h.writeUInt32BE(d, 4 + 4 * k));
  return Buffer.concat([h, typeof data === 'number' ? Buffer.alloc(data) : data]);
}

function writeIdx(dir: string, files: Partial<Record<'ti' | 'tl' | 'ei' | 'el', Buffer>>, gz = false): void {
  const names = { ti: 'train-images-idx3-ubyte', tl: 'train-labels-idx1-ubyte', ei: 't10k-images-idx3-ubyte', el: 't10k-labels-idx1-ubyte' };
  for (const [k, b] of Object.entries(files)) writeFileSync(path.join(dir, names[k as keyof typeof names] + (gz ? '.gz' : '')), gz ? zlib.gzipSync(b) : b);
}

const goodImages = (n = 3) => idx(0x803, [n, 2, 2], n * 4);
const goodLabels = (n = 3) => idx(0x801, [n], Uint8Array.from({ length: n }, (_, i) => i % 10));

describe('IDX errors', () => {
  it('a truncated image file: how many pixel bytes were expected, where the file ends', () => {
    const b = idx(0x803, [60000, 28, 28], 1024 - 16);
    assert.throws(
      () => parseIdx(b, '/data/train-images-idx3-ubyte.gz', 0x803),
      isDataError(
        [
          'train-images-idx3-ubyte.gz: expected 47,040,000 bytes of pixels after the 16-byte header (60,000 images of 28×28), 47,040,016 bytes in all; the file ends at byte 1,024 (after decompression)',
        ],
        1024,
      ),
    );
  });

  it('bad magic, with a hint when it is the other IDX kind, an HTML page, or another element type', () => {
    assert.throws(
      () => parseIdx(idx(0x802, [1, 1], 1), 'train-images-idx3-ubyte', 0x803),
      isDataError(['train-images-idx3-ubyte: bad magic 0x00000802 at byte 0, expected 0x00000803 for an IDX image file'], 0),
    );
    assert.throws(() => parseIdx(goodLabels(), 'train-images-idx3-ubyte', 0x803), isDataError(['bad magic 0x00000801 at byte 0', '(this is an IDX label file)']));
    assert.throws(() => parseIdx(goodImages(), 'train-labels-idx1-ubyte', 0x801), isDataError(['expected 0x00000801 for an IDX label file (this is an IDX image file)']));
    assert.throws(() => parseIdx(Buffer.from('<!DOCTYPE html><html>Not Found</html>'), 'x', 0x803), isDataError(['an HTML/XML page, not data: the download failed']));
    assert.throws(() => parseIdx(idx(0x0d03, [1, 1, 1], 4), 'x', 0x803), isDataError(['bad magic 0x00000d03', 'only unsigned bytes, type 0x08']));
  });

  it('a file too short for its magic or its header; a zero dimension; extra bytes', () => {
    assert.throws(() => parseIdx(Buffer.from([0, 0]), 'a', 0x801), isDataError(['a: the file ends at byte 2, expected a 4-byte magic number 0x00000801 for an IDX label file'], 2));
    assert.throws(() => parseIdx(idx(0x803, [5, 28]), 'b', 0x803), isDataError(['b: the file ends at byte 12 inside the header, expected 16 header bytes (3 dimension sizes)'], 12));
    assert.throws(() => parseIdx(idx(0x803, [5, 0, 28]), 'c', 0x803), isDataError(['c: dimension 1 is 0 (at byte 8), expected a positive size'], 8));
    assert.throws(
      () => parseIdx(idx(0x801, [3], 5), 'd', 0x801),
      isDataError(['d: 2 unexpected bytes after the data: the header (3) accounts for 11 bytes, the file has 13 (extra data from byte 11)'], 11),
    );
  });

  it('a label outside 0–9, at its byte offset', async () => {
    const dir = tmpDir('idx');
    writeIdx(dir, { ti: goodImages(), tl: idx(0x801, [3], Uint8Array.of(1, 2, 12)) });
    await assert.rejects(
      loadDataset({ kind: 'idx', folder: dir }),
      isDataError(['train-labels-idx1-ubyte: label 12 at byte 10 (sample 2) is outside 0–9'], 10),
    );
  });

  it('image and label counts that differ; test images of another size', async () => {
    const dir = tmpDir('idx');
    writeIdx(dir, { ti: goodImages(3), tl: goodLabels(2) });
    await assert.rejects(loadDataset({ kind: 'idx', folder: dir }), isDataError(['train-labels-idx1-ubyte holds 2 labels but train-images-idx3-ubyte holds 3 images']));
    const d2 = tmpDir('idx');
    writeIdx(d2, { ti: goodImages(3), tl: goodLabels(3), ei: idx(0x803, [1, 3, 3], 9), el: goodLabels(1) });
    await assert.rejects(loadDataset({ kind: 'idx', folder: d2 }), isDataError(['t10k-images-idx3-ubyte holds 3×3 images but train-images-idx3-ubyte holds 2×2']));
  });

  it('missing files are listed', async () => {
    const dir = tmpDir('idx');
    writeIdx(dir, { ti: goodImages(), ei: goodImages() });
    await assert.rejects(
      loadDataset({ kind: 'idx', folder: dir }),
      isDataError([`${dir}: missing train-labels-idx1-ubyte(.gz), t10k-labels-idx1-ubyte(.gz); expected train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz`]),
    );
  });
});

describe('gzip errors', () => {
  const noise = mulberry32(11);
  const content = Buffer.concat([idx(0x803, [50, 28, 28]), Buffer.from(Array.from({ length: 50 * 784 }, () => Math.floor(noise() * 256)))]);
  const gz = zlib.gzipSync(content);

  it('a truncated gzip stream: where the file ends, how much was decompressed', async () => {
    const dir = tmpDir('gz');
    const f = path.join(dir, 'train-images-idx3-ubyte.gz');
    writeFileSync(f, gz.subarray(0, 1000));
    await assert.rejects(
      readDataFile(f),
      isDataError([/^train-images-idx3-ubyte\.gz: truncated gzip stream: the file ends at byte 1,000 before the end of the compressed data \([\d,]+ bytes decompressed so far\); download it again$/], 1000),
    );
    // …and through the folder loader, with the other files fine
    writeIdx(dir, { tl: goodLabels(50) }, true);
    await assert.rejects(loadDataset({ kind: 'idx', folder: dir }), isDataError(['truncated gzip stream']));
  });

  it('corrupt compressed data: the byte offset where zlib stops', async () => {
    const bad = Buffer.from(gz);
    bad[500] ^= 0xff;
    bad[501] ^= 0x55;
    const f = path.join(tmpDir('gz'), 'x.gz');
    writeFileSync(f, bad);
    await assert.rejects(readDataFile(f), (e: unknown) => {
      isDataError([/^x\.gz: (corrupt gzip data at byte [\d,]+ \(.+\)|truncated gzip stream.*); download it again$/])(e);
      const at = (e as DataError).byteOffset!;
      assert.ok(at >= 450 && at <= bad.length, `offset ${at}`);
      return true;
    });
  });

  it('a CRC-32 mismatch in the gzip trailer', async () => {
    const bad = Buffer.from(gz);
    bad[bad.length - 6] ^= 1;
    const f = path.join(tmpDir('gz'), 'y.gz');
    writeFileSync(f, bad);
    await assert.rejects(readDataFile(f), isDataError([/^y\.gz: corrupt gzip data at byte [\d,]+ \(CRC-32 check failed: the decompressed data is corrupt\)/]));
  });

  it('a missing file, a folder instead of a file', async () => {
    await assert.rejects(readDataFile(path.join(tmpRoot, 'nope.gz')), isDataError(['nope.gz: file not found']));
    await assert.rejects(readDataFile(tmpRoot), isDataError(['is a folder, expected a file']));
  });
});

/** CIFAR-style batch of n records, labels given. */
function cifar(labels: number[]): Buffer {
  const b = Buffer.alloc(labels.length * 3073, 9);
  labels.forEach((l, r) => (b[r * 3073] = l));
  return b;
}

describe('CIFAR-10 errors', () => {
  it('a truncated record', () => {
    assert.throws(
      () => checkCifarBatch(cifar([1, 2]).subarray(0, 4000), 'data_batch_3.bin'),
      isDataError(['data_batch_3.bin: the file ends at byte 4,000, in the middle of record 1 (which starts at byte 3,073): expected a whole number of 3,073-byte records (1 label byte + 3,072 pixel bytes)'], 4000),
    );
    assert.throws(() => checkCifarBatch(Buffer.alloc(0), 'e.bin'), isDataError(['e.bin: empty file'], 0));
  });

  it('a label outside 0–9 at its byte offset', async () => {
    const dir = tmpDir('cifar');
    for (let k = 1; k <= 5; k++) writeFileSync(path.join(dir, `data_batch_${k}.bin`), cifar([1, 2]));
    writeFileSync(path.join(dir, 'test_batch.bin'), cifar([0, 1, 10]));
    await assert.rejects(loadDataset({ kind: 'cifar10', path: dir }), isDataError(['test_batch.bin: label 10 at byte 6,146 (record 2) is outside 0–9'], 6146));
  });

  it('missing batches are listed; an empty folder says what is expected', async () => {
    const dir = tmpDir('cifar');
    writeFileSync(path.join(dir, 'data_batch_1.bin'), cifar([1]));
    writeFileSync(path.join(dir, 'data_batch_4.bin'), cifar([1]));
    await assert.rejects(loadDataset({ kind: 'cifar10', path: dir }), isDataError(['missing data_batch_2.bin, data_batch_3.bin, data_batch_5.bin, test_batch.bin', 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz']));
    await assert.rejects(loadDataset({ kind: 'cifar10', path: tmpDir('empty') }), isDataError(['no CIFAR-10 binary data: expected data_batch_1.bin', 'cifar-10-binary.tar.gz']));
  });

  it('a truncated tar archive', async () => {
    const dir = tmpDir('cifar');
    const h = Buffer.alloc(512);
    h.write('cifar-10-batches-bin/data_batch_1.bin', 0);
    h.write('00000006001\0', 124); // 3,073 bytes
    writeFileSync(path.join(dir, 'cifar-10-binary.tar.gz'), zlib.gzipSync(Buffer.concat([h, Buffer.alloc(100)])));
    await assert.rejects(
      loadDataset({ kind: 'cifar10', path: dir }),
      isDataError(['cifar-10-binary.tar.gz: tar entry "cifar-10-batches-bin/data_batch_1.bin" needs 3,073 bytes from byte 512, the archive ends at byte 612'], 612),
    );
  });
});

/** A .npy file with a hand-written header. */
function npy(header: string, data: Uint8Array, version = 1): Buffer {
  const pre = version === 1 ? 10 : 12;
  const pad = 64 - ((pre + header.length + 1) % 64);
  const h = Buffer.from(header + ' '.repeat(pad % 64) + '\n', 'latin1');
  const len = Buffer.alloc(version === 1 ? 2 : 4);
  if (version === 1) len.writeUInt16LE(h.length);
  else len.writeUInt32LE(h.length);
  return Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]), len, h, data]);
}

describe('.npy errors', () => {
  it('bad magic, unsupported version, a header past the end', () => {
    assert.throws(() => parseNpy(Buffer.from('PK\x03\x04 not an npy file'), 'x.npy'), isDataError(['x.npy: not a .npy file: bad magic (50 4b 03 04 20 6e) at byte 0, expected 93 4e 55 4d 50 59'], 0));
    const v4 = npy("{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }", Uint8Array.of(1));
    v4[6] = 4;
    assert.throws(() => parseNpy(v4, 'v4.npy'), isDataError(['v4.npy: unsupported .npy format version 4.0 at byte 6, expected 1.0, 2.0 or 3.0'], 6));
    const short = npy("{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }", Uint8Array.of(1)).subarray(0, 40);
    assert.throws(() => parseNpy(short, 's.npy'), isDataError(['s.npy: the header is 118 bytes from byte 10, the file ends at byte 40'], 40));
    assert.throws(() => parseNpy(Buffer.from([0x93, 0x4e]), 't.npy'), isDataError(['t.npy: the file ends at byte 2, expected at least a 10-byte .npy preamble'], 2));
  });

  it("fortran_order True (NumPy's own file)", async () => {
    assert.throws(
      () => parseNpy(readFileSync(fixture('fortran.npy')), 'fortran.npy'),
      isDataError(['fortran.npy: fortran_order is True (column-major data; header at byte 10): only C order is supported; save the array with np.save(path, np.ascontiguousarray(a))']),
    );
  });

  it('unsupported dtypes: complex, objects, strings, structured', () => {
    assert.throws(() => parseNpy(npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)), 'c.npy'), isDataError(["c.npy: unsupported dtype '<c8' in the header at byte 10; supported: |u1"]));
    assert.throws(() => parseNpy(npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)), 'o.npy'), isDataError(["unsupported dtype '|O' (Python objects, pickled)"]));
    assert.throws(() => parseNpy(npy("{'descr': '<U5', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(20)), 'u.npy'), isDataError(["unsupported dtype '<U5' (strings)"]));
    assert.throws(() => parseNpy(npy("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)), 'r.npy'), isDataError(['r.npy: structured dtypes']));
    assert.throws(() => parseNpy(npy("{'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)), 'm.npy'), isDataError(["m.npy: bad header at byte 10: missing 'descr'"]));
  });

  it('truncated data and trailing bytes', () => {
    const b = readFileSync(fixture('f4_v3.npy'));
    assert.throws(
      () => parseNpy(b.subarray(0, 300), 'f4_v3.npy'),
      isDataError(['f4_v3.npy: expected 480 bytes of data after the 128-byte header (shape (4, 6, 5) of <f4), 608 bytes in all; the file ends at byte 300'], 300),
    );
    assert.throws(() => parseNpy(Buffer.concat([b, Buffer.alloc(3)]), 'f4_v3.npy'), isDataError(['f4_v3.npy: 3 unexpected bytes after the data, which ends at byte 608'], 608));
  });

  it('labels out of range, negative, fractional or not one-hot, at their byte offsets', () => {
    const i8 = parseNpy(readFileSync(fixture('labels_i8.npy')), 'labels_i8.npy'); // [1, 4, 7, 0] after a 128-byte header
    assert.throws(() => npyToLabels(i8, 5), isDataError(['labels_i8.npy: label 7 at byte 144 (sample 2) is outside 0–4'], 144));
    const neg = parseNpy(npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(new Int32Array([3, -1]).buffer)), 'neg.npy');
    assert.throws(() => npyToLabels(neg), isDataError(['neg.npy: label -1 at byte 132 (sample 1) is outside 0–255'], 132));
    const frac = parseNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(new Float32Array([3, 2.5]).buffer)), 'frac.npy');
    assert.throws(() => npyToLabels(frac, 10), isDataError(['frac.npy: label 2.5 at byte 132 (sample 1) is not an integer in 0–9'], 132));
    const soft = parseNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", new Uint8Array(new Float32Array([0, 1, 0, 0.5, 0.5, 0]).buffer)), 'soft.npy');
    assert.throws(() => npyToLabels(soft), isDataError(['soft.npy: row 1 of the (2, 3) labels (at byte 140) is not one-hot'], 140));
  });

  it('images of an unusable shape; counts that differ', async () => {
    await assert.rejects(
      loadDataset({ kind: 'npy', xTrain: fixture('labels_u1.npy'), yTrain: fixture('labels_u1.npy') }),
      isDataError(['labels_u1.npy: an image array of shape (4): expected (count, height, width) or (count, height, width, channels)']),
    );
    await assert.rejects(
      loadDataset({ kind: 'npy', xTrain: fixture('u1_rgb_v2.npy'), yTrain: fixture('labels_u1.npy') }),
      isDataError(['labels_u1.npy holds 4 labels but u1_rgb_v2.npy holds 3 images']),
    );
  });
});

describe('.npz / zip errors', () => {
  const stored = readFileSync(fixture('mnist_stored.npz'));

  it('a zip entry with a bad CRC: the entry, where its data starts, both CRCs', () => {
    const zip = readZip(stored, 'mnist.npz');
    const e = zip.entries.find((x) => x.name === 'x_train.npy')!;
    const dataStart = e.localHeaderOffset + 30 + stored.readUInt16LE(e.localHeaderOffset + 26) + stored.readUInt16LE(e.localHeaderOffset + 28);
    const bad = Buffer.from(stored);
    bad[dataStart + 500] ^= 0x20;
    assert.throws(
      () => parseNpz(bad, 'mnist.npz'),
      isDataError([new RegExp(`^mnist\\.npz: entry "x_train\\.npy" \\(data from byte ${dataStart}\\) has CRC-32 0x[0-9a-f]{8}, the central directory at byte [\\d,]+ states 0x${e.crc32.toString(16).padStart(8, '0')}: the data is corrupt$`)], dataStart),
    );
  });

  it('a truncated zip; not a zip at all', () => {
    assert.throws(() => readZip(stored.subarray(0, 5000), 'mnist.npz'), isDataError(['mnist.npz: no end-of-central-directory record in the last 5,000 bytes: the zip file is truncated (it ends at byte 5,000)'], 5000));
    assert.throws(() => readZip(Buffer.from('hello, world: not a zip archive'), 'h.npz'), isDataError(['h.npz: not a zip file: no end-of-central-directory record (expected signature 0x06054b50 near the end; the file starts with 0x6c6c6568)']));
  });

  it('a central directory pointing past the end; a bad local header', () => {
    const eocd = stored.length - 22;
    const bad = Buffer.from(stored);
    bad.writeUInt32LE(stored.length + 100, eocd + 16);
    assert.throws(() => readZip(bad, 'a.npz'), isDataError([/^a\.npz: expected the central directory \(\d+ bytes\) at byte [\d,]+, the file ends at byte [\d,]+$/]));
    const zip = readZip(stored, 'b.npz');
    const lh = Buffer.from(stored);
    lh.writeUInt32LE(0x12345678, zip.entries[1].localHeaderOffset);
    assert.throws(() => readZip(lh, 'b.npz').read('y_train.npy'), isDataError([`b.npz: bad local header signature 0x12345678 at byte ${zip.entries[1].localHeaderOffset.toLocaleString('en-US')} for entry "y_train.npy", expected 0x04034b50`]));
  });

  it('unsupported compression and encryption', () => {
    const zip = readZip(stored, 'm.npz');
    const c = zip.entries[0].centralOffset;
    const bz = Buffer.from(stored);
    bz.writeUInt16LE(12, c + 10);
    assert.throws(() => readZip(bz, 'm.npz').read('x_train.npy'), isDataError(['m.npz: entry "x_train.npy" uses compression method 12 (bzip2); only stored (0) and deflated (8) entries are supported'], c + 10));
    const enc = Buffer.from(stored);
    enc.writeUInt16LE(1, c + 8);
    assert.throws(() => readZip(enc, 'm.npz').read('x_train.npy'), isDataError(['m.npz: entry "x_train.npy" is encrypted (not supported)']));
  });

  it('corrupt deflate data', () => {
    const deflated = readFileSync(fixture('mnist_deflated.npz'));
    const zip = readZip(deflated, 'd.npz');
    const e = zip.entries[0];
    const start = e.localHeaderOffset + 30 + deflated.readUInt16LE(e.localHeaderOffset + 26) + deflated.readUInt16LE(e.localHeaderOffset + 28);
    const bad = Buffer.from(deflated);
    for (let k = 0; k < 8; k++) bad[start + 20 + k] ^= 0xa5;
    assert.throws(() => readZip(bad, 'd.npz').read(e.name), isDataError([/^d\.npz: entry "x_train\.npy"(: corrupt deflate data in bytes|: the deflate stream| inflates to| \(data from byte)/]));
  });

  it('an archive without the expected arrays lists what it holds', async () => {
    const dir = tmpDir('npz');
    const f = path.join(dir, 'other.npz');
    const zip = readZip(stored, 'x');
    // Rename the entries in place (same lengths): x_train → a_train, y_train → b_train.
    const renamed = Buffer.from(stored);
    for (const e of zip.entries) {
      for (const at of [e.localHeaderOffset + 30, e.centralOffset + 46]) {
        if (renamed.toString('latin1', at, at + 7) === 'x_train') renamed.write('a_train', at, 'latin1');
        if (renamed.toString('latin1', at, at + 7) === 'y_train') renamed.write('b_train', at, 'latin1');
      }
    }
    writeFileSync(f, renamed);
    await assert.rejects(loadDataset({ kind: 'npz', file: f }), isDataError(['other.npz: no x_train, y_train array; it holds a_train, b_train, x_test, y_test (expected x_train, y_train, x_test, y_test)']));
    await assert.rejects(loadDataset({ kind: 'npz', file: path.join(dir, 'absent.npz') }), isDataError(['absent.npz: file not found']));
  });

  it('an npy inside the npz names the archive and the entry', () => {
    const zip = readZip(stored, 'mnist.npz');
    const e = zip.entries.find((x) => x.name === 'y_train.npy')!;
    assert.ok(e);
    const arrays = parseNpz(stored, '/home/u/.keras/datasets/mnist.npz', ['y_train']);
    assert.throws(() => npyToLabels(arrays.get('y_train')!, 5), isDataError([/^mnist\.npz:y_train\.npy: label 7 at byte 130 \(sample 2\) is outside 0–4$/], 130));
  });
});

describe('image folder errors', () => {
  it('not an image; a truncated PNG; an absurd PNG size; a corrupt JPEG', () => {
    assert.throws(() => decodeImage(Buffer.from('just text'), 'cat/a.png'), isDataError(['a.png: not a PNG or JPEG (the file starts with 6a 75 73 74 at byte 0; expected 89 50 4e 47 or ff d8 ff)'], 0));
    const png = new PNG({ width: 8, height: 8 });
    png.data.fill(200);
    const good = PNG.sync.write(png);
    assert.throws(() => decodeImage(good.subarray(0, good.length - 30), 'b.png'), isDataError([/^b\.png: cannot decode the PNG \(.+\)$/]));
    const huge = Buffer.from(good);
    huge.writeUInt32BE(100000, 16);
    huge.writeUInt32BE(100000, 20);
    assert.throws(() => decodeImage(huge, 'c.png'), isDataError(['c.png: PNG of 100,000×100,000 pixels (at byte 16): expected 1 to 16,384 pixels a side and at most 16,777,216 pixels (4096×4096); it was not decoded'], 16));
    const jpg = jpeg.encode({ width: 16, height: 16, data: Buffer.alloc(16 * 16 * 4, 128) }, 90).data;
    assert.throws(() => decodeImage(jpg.subarray(0, 200), 'd.jpg'), (e: unknown) => {
      // jpeg-js decodes tolerantly: a truncated file may decode (grey) or fail; failures are DataErrors.
      assert.ok(e instanceof DataError && /^d\.jpg: cannot decode the JPEG/.test(e.message), String(e));
      return true;
    });
  });

  it('folder problems: absent, no classes, no images, bad options; a bad image names the file', async () => {
    const base = { kind: 'imageFolder' as const, size: [8, 8] as [number, number], channels: 1 as const };
    await assert.rejects(loadDataset({ ...base, root: path.join(tmpRoot, 'absent') }), isDataError(['absent: not a folder; expected <root>/<class name>/*.png|jpg|jpeg']));
    const flat = tmpDir('flat');
    writeFileSync(path.join(flat, 'a.png'), 'x');
    await assert.rejects(loadDataset({ ...base, root: flat }), isDataError(['no class subfolders']));
    const empty = tmpDir('noimg');
    mkdirSync(path.join(empty, 'cats'));
    writeFileSync(path.join(empty, 'cats', 'a.bmp'), 'x');
    await assert.rejects(loadDataset({ ...base, root: empty }), isDataError(['no .png, .jpg or .jpeg files in its class subfolders (cats)']));
    const badImg = tmpDir('bad');
    mkdirSync(path.join(badImg, 'cats'));
    writeFileSync(path.join(badImg, 'cats', 'broken.jpg'), 'GIF89a');
    await assert.rejects(loadDataset({ ...base, root: badImg }), isDataError(['broken.jpg: not a PNG or JPEG']));
    await assert.rejects(loadDataset({ ...base, root: badImg, size: [0, 8] }), isDataError(['image size must be two positive integers, got [0, 8]']));
    await assert.rejects(loadDataset({ ...base, root: badImg, channels: 4 as never }), isDataError(['channels must be 1 or 3, got 4']));
    await assert.rejects(loadDataset({ ...base, root: badImg, testFraction: 1 }), isDataError(['testFraction must be in [0, 1), got 1']));
  });
});

describe("Keras' load_data: what to put where", () => {
  it('MNIST: the IDX files into the folder, or mnist.npz into ~/.keras/datasets/', () => {
    const folder = tmpDir('mnist');
    const home = tmpDir('home');
    assert.throws(
      () => resolveKerasDataset('mnist', { folder, kerasHome: home }),
      isDataError([
        `MNIST not found. Looked in: ${folder} (no IDX files and no mnist.npz); ${path.join(home, 'datasets', 'mnist.npz')} (absent). ` +
          `Put train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz into ${folder} ` +
          '(from https://storage.googleapis.com/tensorflow/tf-keras-datasets/ or http://yann.lecun.com/exdb/mnist/), ' +
          `or mnist.npz into ${path.join(home, 'datasets')}${path.sep} (from https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz).`,
      ]),
    );
    assert.throws(() => resolveKerasDataset('mnist', { kerasHome: home }), isDataError(['into a folder of your choice (then set it as the MNIST folder)']));
    assert.throws(() => resolveKerasDataset('mnist', { kerasHome: home, folderHint: 'the folder of the setting convlens.datasets.folder' }), isDataError(['into the folder of the setting convlens.datasets.folder']));
    assert.throws(() => resolveKerasDataset('mnist', { folder: path.join(folder, 'typo'), kerasHome: home }), isDataError([`${path.join(folder, 'typo')} (no such folder)`]));
  });

  it('a folder with only some of the IDX files says which are missing', async () => {
    const folder = tmpDir('mnist');
    writeIdx(folder, { ti: goodImages() }, true);
    await assert.rejects(loadDataset({ kind: 'keras', name: 'mnist', folder, kerasHome: tmpDir('home') }), isDataError(['missing train-labels-idx1-ubyte(.gz), t10k-images-idx3-ubyte(.gz), t10k-labels-idx1-ubyte(.gz)']));
  });

  it('Fashion-MNIST: the IDX files into the folder or ~/.keras/datasets/fashion-mnist/', () => {
    const home = tmpDir('home');
    assert.throws(
      () => resolveKerasDataset('fashion_mnist', { kerasHome: home }),
      isDataError(['Fashion-MNIST not found.', `into a folder of your choice (then set it as the Fashion-MNIST folder), or into ${path.join(home, 'datasets', 'fashion-mnist')}${path.sep}.`]),
    );
  });

  it("CIFAR-10: Keras' pickled cache is not supported, and the message points to the binary version", () => {
    const home = tmpDir('home');
    mkdirSync(path.join(home, 'datasets', 'cifar-10-batches-py'), { recursive: true });
    const folder = tmpDir('cifar');
    assert.throws(
      () => resolveKerasDataset('cifar10', { folder, kerasHome: home }),
      isDataError([
        `CIFAR-10: found Keras' Python version at ${path.join(home, 'datasets', 'cifar-10-batches-py')}, which is pickled Python objects that ConvLens cannot read (not supported). ` +
          `Download the binary version (https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz) and put cifar-10-binary.tar.gz, or its cifar-10-batches-bin folder ` +
          `(data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin, test_batch.bin, batches.meta.txt), into ${folder} or into ${path.join(home, 'datasets')}${path.sep}.`,
      ]),
    );
    assert.throws(() => resolveKerasDataset('cifar10', { kerasHome: tmpDir('home') }), isDataError(['CIFAR-10 not found. Looked in: ', 'Download the binary version']));
  });
});

describe('robustness: random corruption never crashes or hangs', () => {
  /** Random truncations, byte flips and splices of `good`; each parse must succeed or throw a DataError. */
  function fuzz(name: string, good: Buffer, parse: (b: Buffer) => unknown, runs = 150): void {
    const rng = mulberry32(name.length * 7919 + good.length);
    let errors = 0;
    const t0 = performance.now();
    for (let r = 0; r < runs; r++) {
      let b = Buffer.from(good);
      const kind = rng();
      if (kind < 0.3) b = b.subarray(0, Math.floor(rng() * b.length));
      else if (kind < 0.8) {
        const flips = 1 + Math.floor(rng() * 6);
        for (let k = 0; k < flips; k++) b[Math.floor(rng() * b.length)] = Math.floor(rng() * 256);
      } else {
        const at = Math.floor(rng() * b.length);
        b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: Math.floor(rng() * 40) }, () => Math.floor(rng() * 256))), b.subarray(at)]);
      }
      try {
        parse(b);
      } catch (e) {
        if (!(e instanceof DataError)) assert.fail(`${name} run ${r}: ${(e as Error).stack}`);
        errors++;
      }
    }
    assert.ok(errors > 0, `${name}: some corruption was detected`);
    assert.ok(performance.now() - t0 < 8000, `${name}: ${runs} runs took ${performance.now() - t0} ms`);
  }

  it('IDX (gzip)', async () => {
    const content = Buffer.concat([idx(0x803, [20, 28, 28]), Buffer.from(Array.from({ length: 20 * 784 }, (_, i) => (i * 31) % 256))]);
    const f = path.join(tmpDir('fuzz'), 'train-images-idx3-ubyte.gz');
    const gz = zlib.gzipSync(content);
    const rng = mulberry32(3);
    for (let r = 0; r < 60; r++) {
      let b = Buffer.from(gz);
      if (r % 2) b[Math.floor(rng() * b.length)] ^= 1 + Math.floor(rng() * 255);
      else b = b.subarray(0, Math.floor(rng() * b.length));
      writeFileSync(f, b);
      try {
        parseIdx(await readDataFile(f), f, 0x803);
      } catch (e) {
        if (!(e instanceof DataError)) assert.fail(`run ${r}: ${(e as Error).stack}`);
      }
    }
    fuzz('idx raw', content, (b) => parseIdx(b, 'x', 0x803));
  });

  it('.npy, .npz (stored, deflated, zip64)', () => {
    for (const f of ['u1_v1.npy', 'f4_v3.npy', 'u1_rgb_v2.npy', 'labels_onehot.npy']) fuzz(f, readFileSync(fixture(f)), (b) => npyToLabels(parseNpy(b, f)));
    for (const f of ['mnist_stored.npz', 'mnist_deflated.npz', 'mnist_zip64.npz']) fuzz(f, readFileSync(fixture(f)), (b) => parseNpz(b, f), 200);
  });

  it('CIFAR batches', () => {
    const b = cifar([1, 2, 3]);
    fuzz('cifar', b, (x) => checkCifarBatch(x, 'data_batch_1.bin'));
  });

  it('PNG and JPEG decoding', () => {
    const png = new PNG({ width: 12, height: 10 });
    for (let i = 0; i < png.data.length; i++) png.data[i] = (i * 13) % 256;
    fuzz('png', PNG.sync.write(png), (b) => decodeImage(b, 'a.png'), 120);
    const data = Buffer.alloc(16 * 16 * 4);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 256;
    fuzz('jpeg', jpeg.encode({ width: 16, height: 16, data }, 80).data, (b) => decodeImage(b, 'a.jpg'), 120);
  });

  it('a Keras cache file that is not an npz', async () => {
    const home = tmpDir('home');
    mkdirSync(path.join(home, 'datasets'));
    copyFileSync(fixture('u1_v1.npy'), path.join(home, 'datasets', 'mnist.npz'));
    await assert.rejects(loadDataset({ kind: 'keras', name: 'mnist', kerasHome: home }), isDataError(['mnist.npz: not a zip file']));
  });
});
