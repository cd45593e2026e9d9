/**
 * The dataset readers on small fixtures: IDX (raw and gzip), CIFAR-10 binary (folder and
 * .tar.gz), .npy (NumPy-written, every header version and dtype), .npz (stored, deflated,
 * zip64), image folders (PNG / JPEG, resizing, channel conversion, seeded split), Keras'
 * load_data resolution, the synthetic digits, and the shared helpers (normalisation, one-hot,
 * shuffles, validation_split, batches).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import {
  argmaxRows,
  BatchFeeder,
  bytesToFloat,
  crc32,
  DataError,
  decodeImage,
  drawDigit,
  drawDigitFloat,
  epochOrder,
  fillBatch,
  fillLabels,
  fillOneHot,
  fmt,
  gatherSet,
  hex32,
  kerasDatasetName,
  labelHistogram,
  loadDataset,
  mulberry32,
  npyToImages,
  npyToLabels,
  parseNpy,
  permutation,
  readNpy,
  readZip,
  resizeInto,
  resolveKerasDataset,
  sliceSet,
  syntheticDigits,
  toCategorical,
  validationSplit,
  type Dataset,
  type ImageSet,
} from '../../src/train/datasets/index';
import { readBytesSync } from '../../src/train/datasets/files';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'data');
const fixture = (name: string): string => path.join(FIXTURES, name);

const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'convlens-datasets-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));
let tmpCount = 0;
/** A fresh empty folder under the test's temporary root. */
function tmpDir(name = 'd'): string {
  const d = path.join(tmpRoot, `${name}-${tmpCount++}`);
  mkdirSync(d, { recursive: true });
  return d;
}

/** The fixtures' pixel formula (make_fixtures.py): (i * 7 + j * 3) % 256. */
const pix = (i: number, j: number): number => (i * 7 + j * 3) % 256;
/** The fixtures' label formula: (i * 3 + 1) % 10. */
const lab = (i: number): number => (i * 3 + 1) % 10;

// ---------------------------------------------------------------------------------------------
// IDX writers
// ---------------------------------------------------------------------------------------------

function idx(magicDims: number, dims: number[], data: Uint8Array): Buffer {
  const h = Buffer.alloc(4 + 4 * dims.length);
  h.writeUInt32BE(0x800 | magicDims, 0);
  dims.forEach((d, k) => h.writeUInt32BE(d, 4 + 4 * k));
  return Buffer.concat([h, data]);
}

function idxImages(n: number, rows: number, cols: number, seed = 0): Buffer {
  const data = new Uint8Array(n * rows * cols);
  for (let i = 0; i < n; i++) for (let j = 0; j < rows * cols; j++) data[i * rows * cols + j] = pix(i + seed, j);
  return idx(3, [n, rows, cols], data);
}

function idxLabels(n: number, seed = 0): Buffer {
  return idx(1, [n], Uint8Array.from({ length: n }, (_, i) => lab(i + seed)));
}

/** An MNIST-style folder: train n images, test m images (each rows × cols). */
function writeIdxFolder(dir: string, o: { n?: number; m?: number; rows?: number; cols?: number; gz?: boolean; dotted?: boolean } = {}): void {
  const { n = 5, m = 3, rows = 4, cols = 3, gz = true, dotted = false } = o;
  const name = (base: string) => (dotted ? base.replace(/-(idx\d-ubyte)$/, '.$1') : base) + (gz ? '.gz' : '');
  const put = (base: string, b: Buffer) => writeFileSync(path.join(dir, name(base)), gz ? zlib.gzipSync(b) : b);
  put('train-images-idx3-ubyte', idxImages(n, rows, cols));
  put('train-labels-idx1-ubyte', idxLabels(n));
  put('t10k-images-idx3-ubyte', idxImages(m, rows, cols, 100));
  put('t10k-labels-idx1-ubyte', idxLabels(m, 100));
}

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

describe('shared helpers', () => {
  it('formats numbers and magics for messages', () => {
    assert.equal(fmt(47040016), '47,040,016');
    assert.equal(fmt(999), '999');
    assert.equal(fmt(-1234567), '-1,234,567');
    assert.equal(hex32(0x803), '0x00000803');
  });

  it('normalises uint8 pixels ÷255 exactly as float32(i / 255), on the fast and the general path', () => {
    const src = Uint8Array.from({ length: 1001 }, (_, i) => (i * 37) % 256);
    const fast = bytesToFloat(src);
    const unaligned = new Uint8Array(src.length + 1);
    unaligned.set(src, 1);
    const slow = bytesToFloat(unaligned.subarray(1));
    for (let i = 0; i < src.length; i++) {
      assert.equal(fast[i], Math.fround(src[i] / 255));
      assert.equal(slow[i], fast[i]);
    }
    assert.equal(bytesToFloat(Uint8Array.of(0, 255))[1], 1);
    assert.deepEqual(Array.from(bytesToFloat(Uint8Array.of(7, 200), 'none')), [7, 200]);
    const out = new Float32Array(5).fill(-1);
    bytesToFloat(Uint8Array.of(255, 0), 'div255', out, 2);
    assert.deepEqual(Array.from(out), [-1, -1, 1, 0, -1]);
  });

  it('one-hot encodes (to_categorical) and decodes (argmax)', () => {
    const y = Uint8Array.of(3, 0, 9, 3);
    const m = toCategorical(y, 10);
    assert.equal(m.length, 40);
    assert.equal(m[3], 1);
    assert.equal(m[10], 1);
    assert.equal(m.reduce((a, b) => a + b, 0), 4);
    assert.deepEqual(Array.from(argmaxRows(m, 10)), [3, 0, 9, 3]);
    assert.throws(() => toCategorical([10], 10), (e: Error) => e instanceof DataError && /label 10 at index 0 is outside 0–9/.test(e.message));
  });

  it('mulberry32 is deterministic; permutations are permutations, seeded', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    for (let i = 0; i < 100; i++) assert.equal(a(), b());
    const p = permutation(1000, 7);
    assert.deepEqual(Array.from(p).sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
    assert.deepEqual(p, permutation(1000, 7));
    assert.notDeepEqual(p, permutation(1000, 8));
    assert.notDeepEqual(Array.from(p), Array.from({ length: 1000 }, (_, i) => i));
    // Pinned values: a change of the shuffle changes every seeded split and epoch order.
    assert.deepEqual(Array.from(permutation(10, 1)), Array.from(permutation(10, mulberry32(1))));
  });

  it('epoch orders differ per epoch, repeat per (seed, epoch), and are 0…n−1 without shuffle', () => {
    assert.deepEqual(epochOrder(500, 3, 1), epochOrder(500, 3, 1));
    assert.notDeepEqual(epochOrder(500, 3, 1), epochOrder(500, 4, 1));
    assert.notDeepEqual(epochOrder(500, 3, 1), epochOrder(500, 3, 2));
    assert.deepEqual(Array.from(epochOrder(5, 0, 1, false)), [0, 1, 2, 3, 4]);
  });

  const set = (n: number, per = 2): ImageSet => ({
    x: Float32Array.from({ length: n * per }, (_, i) => Math.floor(i / per)),
    y: Uint8Array.from({ length: n }, (_, i) => i % 10),
    count: n,
  });

  it("validation_split holds out the last fraction before shuffling, as Keras' floor(n × (1 − f))", () => {
    const s = set(60000, 1);
    const { train, validation } = validationSplit(s, 0.1);
    assert.equal(train.count, 54000);
    assert.equal(validation.count, 6000);
    assert.equal(validation.x[0], 54000);
    assert.equal(validation.x[5999], 59999);
    assert.equal(train.x.buffer, s.x.buffer, 'views, not copies');
    assert.equal(validationSplit(set(10), 0.25).train.count, 7); // floor(10 × 0.75)
    assert.equal(validationSplit(set(3), 0.2).train.count, 2); // floor(2.4)
    for (const f of [0, 1, -0.1, Number.NaN]) assert.throws(() => validationSplit(set(10), f), DataError);
    assert.throws(() => validationSplit(set(3), 1e-17), /leaves no validation samples out of 3/);
    assert.throws(() => validationSplit(set(3), 0.9), /leaves no training samples out of 3/);
  });

  it('slices, gathers and counts', () => {
    const s = set(10);
    assert.deepEqual(Array.from(sliceSet(s, 8, 20).y), [8, 9]);
    const g = gatherSet(s, [9, 0, 4]);
    assert.deepEqual(Array.from(g.x), [9, 9, 0, 0, 4, 4]);
    assert.deepEqual(Array.from(g.y), [9, 0, 4]);
    assert.deepEqual(labelHistogram(Uint8Array.of(0, 2, 2), 3), [1, 0, 2]);
  });

  it('fills preallocated batch buffers: pixels, int64 / int32 / float labels, one-hot', () => {
    const s = set(10, 3);
    const x = new Float32Array(4 * 3).fill(-1);
    const y64 = new BigInt64Array(4);
    fillBatch(s, 3, [5, 7, 1, 2, 3], 1, 3, x, y64);
    assert.deepEqual(Array.from(x), [7, 7, 7, 1, 1, 1, 2, 2, 2, -1, -1, -1]);
    assert.deepEqual(Array.from(y64), [7n, 1n, 2n, 0n]);
    const y32 = new Int32Array(2);
    fillLabels(s.y, [9, 8], 0, 2, y32);
    assert.deepEqual(Array.from(y32), [9, 8]);
    const oh = new Float32Array(2 * 10).fill(5);
    fillOneHot(s.y, [9, 8], 0, 2, 10, oh);
    assert.deepEqual(Array.from(argmaxRows(oh, 10)), [9, 8]);
    assert.equal(oh.reduce((a, b) => a + b, 0), 2);
    assert.throws(() => fillBatch(s, 3, [10], 0, 1, x), RangeError);
    assert.throws(() => fillBatch(s, 3, [0, 1, 2, 3, 4], 0, 5, x), RangeError);
  });

  it('BatchFeeder visits every sample once per epoch, with a short last batch and matching labels', () => {
    const s = set(10, 2);
    const feeder = new BatchFeeder(s, [1, 2, 1], 10, { batchSize: 4, seed: 3, labels: 'int32' });
    assert.equal(feeder.batchesPerEpoch, 3);
    const seen: number[] = [];
    const counts: number[] = [];
    for (const b of feeder.epoch(0)) {
      counts.push(b.count);
      assert.equal(b.x.length, b.count * 2);
      for (let k = 0; k < b.count; k++) {
        seen.push(b.x[k * 2]);
        assert.equal(b.y[k], b.x[k * 2] % 10);
      }
    }
    assert.deepEqual(counts, [4, 4, 2]);
    assert.deepEqual([...seen].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const again: number[] = [];
    for (const b of new BatchFeeder(s, [1, 2, 1], 10, { batchSize: 4, seed: 3, labels: 'int32' }).epoch(0)) for (let k = 0; k < b.count; k++) again.push(b.x[k * 2]);
    assert.deepEqual(again, seen, 'same seed, same order');
    const onehot = new BatchFeeder(s, [1, 2, 1], 10, { batchSize: 4, labels: 'onehot', shuffle: false });
    const first = onehot.fill(onehot.order(0), 0);
    assert.deepEqual(Array.from(argmaxRows(first.y as Float32Array, 10)), [0, 1, 2, 3]);
    const int64 = new BatchFeeder(s, [1, 2, 1], 10, { batchSize: 8, shuffle: false });
    assert.ok(int64.fill(int64.order(0), 1).y instanceof BigInt64Array);
    assert.equal(int64.fill(int64.order(0), 1).count, 2);
  });

  it('gathers batches fast (a 128-sample MNIST batch in well under a millisecond)', (t) => {
    const n = 6000;
    const s: ImageSet = { x: new Float32Array(n * 784), y: new Uint8Array(n), count: n };
    const feeder = new BatchFeeder(s, [28, 28, 1], 10, { batchSize: 128, seed: 1 });
    const t0 = performance.now();
    let batches = 0;
    for (const _ of feeder.epoch(0)) batches++;
    const ms = performance.now() - t0;
    t.diagnostic(`${batches} batches of 128 × 784 in ${ms.toFixed(1)} ms (${((ms / batches) * 1000).toFixed(0)} µs per batch)`);
    assert.ok(ms / batches < 5, `${ms / batches} ms per batch`);
  });
});

// ---------------------------------------------------------------------------------------------
// Synthetic digits
// ---------------------------------------------------------------------------------------------

describe('synthetic digits', () => {
  let defaults: Dataset;
  it('generates the default 12,000 / 2,000 set quickly (time reported)', (t) => {
    const t0 = performance.now();
    defaults = syntheticDigits();
    const ms = performance.now() - t0;
    t.diagnostic(`synthetic digits: 12,000 train + 2,000 test in ${ms.toFixed(0)} ms`);
    console.log(`synthetic digits: 12,000 train + 2,000 test generated in ${ms.toFixed(0)} ms`);
    assert.equal(defaults.train.count, 12000);
    assert.equal(defaults.test?.count, 2000);
    assert.deepEqual(defaults.shape, [28, 28, 1]);
    assert.equal(defaults.numClasses, 10);
    assert.equal(defaults.normalization, '÷255');
    assert.equal(defaults.train.x.length, 12000 * 784);
    assert.ok(ms < 10000, `${ms} ms`);
  });

  it('is roughly balanced, in [0, 1], with ink in every image, centred like MNIST', () => {
    const h = labelHistogram(defaults.train.y, 10);
    for (const c of h) assert.ok(c > 1000 && c < 1400, `class counts ${h}`);
    const x = defaults.train.x;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < x.length; i++) {
      if (x[i] < min) min = x[i];
      if (x[i] > max) max = x[i];
    }
    assert.equal(min, 0);
    assert.equal(max, 1);
    for (let i = 0; i < 300; i++) {
      let ink = 0;
      let cx = 0;
      let cy = 0;
      for (let p = 0; p < 784; p++) {
        const v = x[i * 784 + p];
        ink += v;
        cx += v * (p % 28);
        cy += v * Math.floor(p / 28);
      }
      assert.ok(ink > 20, `sample ${i} has ink ${ink}`);
      assert.ok(Math.abs(cx / ink - 13.5) < 4.5 && Math.abs(cy / ink - 13.5) < 4.5, `sample ${i} centre of mass (${cx / ink}, ${cy / ink})`);
    }
  });

  it('is deterministic given the seed; sample i does not depend on the count; seeds differ', () => {
    const a = syntheticDigits({ train: 60, test: 10, seed: 5 });
    const b = syntheticDigits({ train: 60, test: 10, seed: 5 });
    assert.deepEqual(a.train.x, b.train.x);
    assert.deepEqual(a.train.y, b.train.y);
    assert.deepEqual(a.test?.x, b.test?.x);
    const shorter = syntheticDigits({ train: 20, test: 0, seed: 5 });
    assert.deepEqual(shorter.train.x, a.train.x.subarray(0, 20 * 784));
    assert.equal(shorter.test, undefined);
    const other = syntheticDigits({ train: 60, test: 10, seed: 6 });
    assert.notDeepEqual(other.train.x, a.train.x);
    assert.notDeepEqual(a.test?.x.subarray(0, 784), a.train.x.subarray(0, 784), 'test differs from train');
    assert.throws(() => syntheticDigits({ train: -1 }), RangeError);
  });

  it('draws single digits for sample inputs: deterministic, clean or jittered, floats ÷255', () => {
    for (let d = 0; d <= 9; d++) {
      const clean = drawDigit(d, 0, { style: 'clean' });
      assert.equal(clean.length, 784);
      assert.deepEqual(clean, drawDigit(d, 123, { style: 'clean' }), 'clean ignores the seed');
      assert.ok(clean.some((v) => v === 255));
      assert.deepEqual(drawDigit(d, 9), drawDigit(d, 9));
      assert.notDeepEqual(drawDigit(d, 9), drawDigit(d, 10));
      const f = drawDigitFloat(d, 9);
      assert.equal(f.length, 784);
      assert.deepEqual(f, Float32Array.from(drawDigit(d, 9), (v) => v / 255));
    }
    assert.throws(() => drawDigit(10), RangeError);
    assert.throws(() => drawDigit(1.5), RangeError);
  });

  it('is learnable: even a nearest-class-mean classifier gets most of the test set right', () => {
    const tr = defaults.train;
    const te = defaults.test!;
    const means = new Float64Array(10 * 784);
    const counts = labelHistogram(tr.y, 10);
    for (let i = 0; i < tr.count; i++) for (let p = 0; p < 784; p++) means[tr.y[i] * 784 + p] += tr.x[i * 784 + p];
    for (let c = 0; c < 10; c++) for (let p = 0; p < 784; p++) means[c * 784 + p] /= counts[c];
    let right = 0;
    for (let i = 0; i < te.count; i++) {
      let best = -1;
      let bd = Infinity;
      for (let c = 0; c < 10; c++) {
        let d = 0;
        for (let p = 0; p < 784; p++) {
          const e = te.x[i * 784 + p] - means[c * 784 + p];
          d += e * e;
        }
        if (d < bd) (bd = d), (best = c);
      }
      if (best === te.y[i]) right++;
    }
    // (A one-hidden-layer MLP reaches ~99% test accuracy in a few epochs; a small CNN more.)
    assert.ok(right / te.count > 0.8, `nearest-mean accuracy ${right / te.count}`);
  });
});

// ---------------------------------------------------------------------------------------------
// IDX
// ---------------------------------------------------------------------------------------------

describe('IDX (MNIST / Fashion-MNIST)', () => {
  for (const gz of [true, false]) {
    it(`reads a folder of ${gz ? 'gzip-compressed' : 'raw'} IDX files`, async () => {
      const dir = tmpDir('idx');
      writeIdxFolder(dir, { gz });
      const ds = await loadDataset({ kind: 'idx', folder: dir });
      assert.deepEqual(ds.shape, [4, 3, 1]);
      assert.equal(ds.train.count, 5);
      assert.equal(ds.test?.count, 3);
      assert.deepEqual(Array.from(ds.train.y), [1, 4, 7, 0, 3]);
      assert.deepEqual(Array.from(ds.test!.y), [1, 4, 7].map((_, i) => lab(i + 100)));
      for (let i = 0; i < 5; i++) for (let j = 0; j < 12; j++) assert.equal(ds.train.x[i * 12 + j], Math.fround(pix(i, j) / 255));
      assert.equal(ds.test!.x[13], Math.fround(pix(101, 1) / 255));
      assert.equal(ds.normalization, '÷255');
      assert.equal(ds.numClasses, 10);
      assert.equal(ds.name, `MNIST (${dir})`);
    });
  }

  it("accepts mirrors' train-images.idx3-ubyte spelling, a test-less folder, and scale 'none'", async () => {
    const dir = tmpDir('idx');
    writeIdxFolder(dir, { dotted: true, gz: false });
    const ds = await loadDataset({ kind: 'idx', folder: dir, scale: 'none' });
    assert.equal(ds.train.x[1], pix(0, 1));
    assert.equal(ds.normalization, 'none (0–255)');
    const trainOnly = tmpDir('idx');
    writeFileSync(path.join(trainOnly, 'train-images-idx3-ubyte'), idxImages(2, 2, 2));
    writeFileSync(path.join(trainOnly, 'train-labels-idx1-ubyte'), idxLabels(2));
    const t = await loadDataset({ kind: 'idx', folder: trainOnly, label: 'Fashion-MNIST' });
    assert.equal(t.test, undefined);
    assert.match(t.name, /^Fashion-MNIST/);
  });

  it('decompresses by content: a .gz name holding raw bytes (a browser already gunzipped it) still loads', async () => {
    const dir = tmpDir('idx');
    writeIdxFolder(dir, { gz: false });
    for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      copyFileSync(path.join(dir, f), path.join(dir, `${f}.gz`));
      rmSync(path.join(dir, f));
    }
    assert.equal((await loadDataset({ kind: 'idx', folder: dir })).train.count, 5);
  });

  it('limits the number of samples on request', async () => {
    const dir = tmpDir('idx');
    writeIdxFolder(dir);
    const ds = await loadDataset({ kind: 'idx', folder: dir, limit: { train: 2, test: 1 } });
    assert.equal(ds.train.count, 2);
    assert.equal(ds.train.x.length, 24);
    assert.equal(ds.test?.count, 1);
  });
});

// ---------------------------------------------------------------------------------------------
// CIFAR-10 binary
// ---------------------------------------------------------------------------------------------

/** CIFAR records with pixel (record r, channel c, plane position p) = (r * 11 + c * 80 + p) % 256. */
function cifarBatch(records: number, firstRecord: number, labels?: number[]): Buffer {
  const b = Buffer.alloc(records * 3073);
  for (let r = 0; r < records; r++) {
    const R = firstRecord + r;
    b[r * 3073] = labels ? labels[r] : R % 10;
    for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) b[r * 3073 + 1 + c * 1024 + p] = (R * 11 + c * 80 + p) % 256;
  }
  return b;
}

function writeCifarFolder(dir: string, meta?: string): void {
  for (let k = 1; k <= 5; k++) writeFileSync(path.join(dir, `data_batch_${k}.bin`), cifarBatch(2, (k - 1) * 2));
  writeFileSync(path.join(dir, 'test_batch.bin'), cifarBatch(3, 100));
  if (meta !== undefined) writeFileSync(path.join(dir, 'batches.meta.txt'), meta);
}

/** A ustar archive of (name, bytes) entries. */
function tar(entries: [string, Uint8Array][]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, data] of entries) {
    const h = Buffer.alloc(512);
    h.write(name, 0, 'utf8');
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(data.length.toString(8).padStart(11, '0') + '\0', 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148);
    h.write('0', 156);
    h.write('ustar\0' + '00', 257);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    parts.push(h, Buffer.from(data), Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

describe('CIFAR-10 binary', () => {
  const checkHwc = (ds: Dataset) => {
    assert.deepEqual(ds.shape, [32, 32, 3]);
    assert.equal(ds.train.count, 10);
    assert.equal(ds.test?.count, 3);
    assert.deepEqual(Array.from(ds.train.y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // sample 7, pixel (row 2, col 5) → plane position 69; channel c at HWC index 69 × 3 + c
    for (let c = 0; c < 3; c++) assert.equal(ds.train.x[7 * 3072 + 69 * 3 + c], Math.fround(((7 * 11 + c * 80 + 69) % 256) / 255));
    assert.equal(ds.test!.x[2 * 3072 + 1023 * 3 + 2], Math.fround(((102 * 11 + 160 + 1023) % 256) / 255));
  };

  it('reads the .bin batches of a folder, converting the R, G, B planes to HWC', async () => {
    const dir = tmpDir('cifar');
    writeCifarFolder(dir);
    const ds = await loadDataset({ kind: 'cifar10', path: dir });
    checkHwc(ds);
    assert.deepEqual(ds.classNames, ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
    assert.equal(ds.normalization, '÷255');
  });

  it('takes class names from batches.meta.txt, and finds a cifar-10-batches-bin subfolder', async () => {
    const dir = tmpDir('cifar');
    const sub = path.join(dir, 'cifar-10-batches-bin');
    mkdirSync(sub);
    writeCifarFolder(sub, 'a0\na1\na2\na3\na4\na5\na6\na7\na8\na9\n\n');
    const ds = await loadDataset({ kind: 'cifar10', path: dir });
    assert.deepEqual(ds.classNames, ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9']);
    checkHwc(ds);
  });

  it('reads cifar-10-binary.tar.gz directly', async () => {
    const dir = tmpDir('cifar');
    const entries: [string, Uint8Array][] = [];
    for (let k = 1; k <= 5; k++) entries.push([`cifar-10-batches-bin/data_batch_${k}.bin`, cifarBatch(2, (k - 1) * 2)]);
    entries.push(['cifar-10-batches-bin/test_batch.bin', cifarBatch(3, 100)]);
    entries.push(['cifar-10-batches-bin/batches.meta.txt', Buffer.from('b0\nb1\nb2\nb3\nb4\nb5\nb6\nb7\nb8\nb9\n')]);
    writeFileSync(path.join(dir, 'cifar-10-binary.tar.gz'), zlib.gzipSync(tar(entries)));
    const ds = await loadDataset({ kind: 'cifar10', path: dir });
    checkHwc(ds);
    assert.equal(ds.classNames[9], 'b9');
    const direct = await loadDataset({ kind: 'cifar10', path: path.join(dir, 'cifar-10-binary.tar.gz') });
    assert.deepEqual(direct.train.x, ds.train.x);
  });
});

// ---------------------------------------------------------------------------------------------
// .npy and .npz (files written by NumPy: test/fixtures/data/make_fixtures.py)
// ---------------------------------------------------------------------------------------------

describe('NumPy .npy', () => {
  it('reads header versions 1.0, 2.0 and 3.0', async () => {
    const v1 = await readNpy(fixture('u1_v1.npy'));
    assert.equal(v1.version, '1.0');
    assert.equal(v1.descr, '|u1');
    assert.deepEqual(v1.shape, [4, 6, 5]);
    assert.equal(v1.dataOffset % 16, 0);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 30; j++) assert.equal(v1.data[i * 30 + j], pix(i, j));
    const v2 = await readNpy(fixture('u1_rgb_v2.npy'));
    assert.equal(v2.version, '2.0');
    assert.deepEqual(v2.shape, [3, 4, 4, 3]);
    assert.equal(v2.data[2 * 48 + 47], pix(2, 47));
    const v3 = await readNpy(fixture('f4_v3.npy'));
    assert.equal(v3.version, '3.0');
    assert.equal(v3.descr, '<f4');
    assert.ok(v3.data instanceof Float32Array);
    assert.equal(v3.data[35], Math.fround(pix(1, 5) / 255));
  });

  it('converts every supported dtype: f8, big-endian f4, i8, i4, f4 and b1 labels, one-hot labels', async () => {
    const f8 = await readNpy(fixture('f8.npy'));
    assert.ok(f8.data instanceof Float64Array);
    const be = await readNpy(fixture('f4_be.npy'));
    assert.equal(be.descr, '>f4');
    const v3 = await readNpy(fixture('f4_v3.npy'));
    assert.deepEqual(Array.from(be.data as Float32Array), Array.from(v3.data as Float32Array));
    const images = npyToImages(f8);
    assert.deepEqual(images.shape, [6, 5, 1]);
    assert.equal(images.x[35], Math.fround(pix(1, 5) / 255));
    assert.match(images.normalization, /^none \(<f8 as stored\)/);
    for (const f of ['labels_u1.npy', 'labels_i8.npy', 'labels_i4.npy', 'labels_f4.npy', 'labels_onehot.npy']) {
      const l = npyToLabels(await readNpy(fixture(f)), 10);
      assert.deepEqual(Array.from(l.y), [1, 4, 7, 0], f);
    }
    assert.deepEqual(Array.from(npyToLabels(await readNpy(fixture('labels_b1.npy'))).y), [0, 1, 0, 1]);
    assert.equal(npyToLabels(await readNpy(fixture('labels_u1.npy'))).numClasses, 8, 'inferred as max + 1');
    const rgb = npyToImages(await readNpy(fixture('u1_rgb_v2.npy')));
    assert.deepEqual(rgb.shape, [4, 4, 3]);
    assert.equal(rgb.normalization, '÷255');
  });

  it('loads x / y .npy files as a dataset', async () => {
    const ds = await loadDataset({ kind: 'npy', xTrain: fixture('u1_v1.npy'), yTrain: fixture('labels_i8.npy'), xTest: fixture('f4_v3.npy'), yTest: fixture('labels_u1.npy'), numClasses: 10 });
    assert.deepEqual(ds.shape, [6, 5, 1]);
    assert.equal(ds.train.count, 4);
    assert.equal(ds.numClasses, 10);
    assert.deepEqual(ds.train.x.subarray(0, 30), ds.test!.x.subarray(0, 30));
  });

  it('parses a header with Python 2 long sizes and double quotes', () => {
    const header = '{"descr": "|u1", "fortran_order": False, "shape": (2L, 3L), }';
    const pad = 64 - ((10 + header.length + 1) % 64);
    const h = header + ' '.repeat(pad) + '\n';
    const b = Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]), Buffer.from([h.length & 255, h.length >> 8]), Buffer.from(h, 'latin1'), Buffer.from([1, 2, 3, 4, 5, 6])]);
    const a = parseNpy(b, 'py2.npy');
    assert.deepEqual(a.shape, [2, 3]);
    assert.deepEqual(Array.from(a.data as Uint8Array), [1, 2, 3, 4, 5, 6]);
  });
});

describe('NumPy .npz (Keras mnist.npz layout)', () => {
  for (const f of ['mnist_stored.npz', 'mnist_deflated.npz', 'mnist_zip64.npz']) {
    it(`reads ${f}`, async () => {
      const ds = await loadDataset({ kind: 'npz', file: fixture(f) });
      assert.deepEqual(ds.shape, [28, 28, 1]);
      assert.equal(ds.train.count, 6);
      assert.equal(ds.test?.count, 2);
      assert.deepEqual(Array.from(ds.train.y), [1, 4, 7, 0, 3, 6]);
      assert.equal(ds.train.x[5 * 784 + 783], Math.fround(pix(5, 783) / 255));
      assert.equal(ds.test!.x[784 + 10], Math.fround(pix(1, 10) / 255));
      assert.equal(ds.normalization, '÷255');
      assert.equal(ds.numClasses, 8, 'inferred from the labels when not given');
    });
  }

  it('lists entries with their methods; zip64 extra fields give the sizes', () => {
    const stored = readZip(readBytesSync(fixture('mnist_stored.npz')), 'mnist_stored.npz');
    assert.deepEqual(
      stored.entries.map((e) => e.name),
      ['x_train.npy', 'y_train.npy', 'x_test.npy', 'y_test.npy'],
    );
    assert.ok(stored.entries.every((e) => e.method === 0));
    const z64 = readZip(readBytesSync(fixture('mnist_zip64.npz')), 'mnist_zip64.npz');
    assert.ok(z64.entries.every((e) => e.method === 8));
    assert.equal(z64.entries[0].size, 4832);
    assert.deepEqual(z64.read('y_test.npy'), stored.read('y_test.npy'));
  });

  it('computes CRC-32', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32(new Uint8Array(0)), 0);
  });
});

// ---------------------------------------------------------------------------------------------
// Image folders
// ---------------------------------------------------------------------------------------------

function pngBytes(w: number, h: number, rgba: (x: number, y: number) => [number, number, number, number], opts: { colorType?: 0 | 2 | 6 } = {}): Buffer {
  const png = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const [r, g, b, a] = rgba(x, y);
      const o = (y * w + x) * 4;
      png.data[o] = r;
      png.data[o + 1] = g;
      png.data[o + 2] = b;
      png.data[o + 3] = a;
    }
  return PNG.sync.write(png, opts.colorType === undefined ? {} : { colorType: opts.colorType, inputHasAlpha: true });
}

function jpegBytes(w: number, h: number, rgb: [number, number, number]): Buffer {
  const data = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) data.set([...rgb, 255], i * 4);
  return jpeg.encode({ width: w, height: h, data }, 95).data;
}

describe('image folders', () => {
  /** root/circle (5 RGB PNGs 8×8), root/square (3 JPEGs 16×12), root/triangle (2 grayscale PNGs 4×4) */
  function writeImageFolder(): string {
    const root = tmpDir('images');
    for (const c of ['square', 'circle', 'triangle']) mkdirSync(path.join(root, c));
    for (let i = 0; i < 5; i++) writeFileSync(path.join(root, 'circle', `c${i}.png`), pngBytes(8, 8, () => [200, 100, 50, 255]));
    for (let i = 0; i < 3; i++) writeFileSync(path.join(root, 'square', `s${i}.JPG`), jpegBytes(16, 12, [30, 60, 240]));
    mkdirSync(path.join(root, 'triangle', 'nested'));
    writeFileSync(path.join(root, 'triangle', 't0.png'), pngBytes(4, 4, () => [90, 90, 90, 255], { colorType: 0 }));
    writeFileSync(path.join(root, 'triangle', 'nested', 't1.jpeg'), jpegBytes(4, 4, [90, 90, 90]));
    writeFileSync(path.join(root, 'triangle', 'notes.txt'), 'not an image');
    writeFileSync(path.join(root, 'README.md'), 'ignored: not in a class folder');
    return root;
  }

  it('reads classes in sorted order, converts to RGB, resizes, splits by a seeded fraction', async () => {
    const root = writeImageFolder();
    const ds = await loadDataset({ kind: 'imageFolder', root, size: [4, 4], channels: 3, testFraction: 0.3, seed: 7 });
    assert.deepEqual(ds.classNames, ['circle', 'square', 'triangle']);
    assert.deepEqual(ds.shape, [4, 4, 3]);
    assert.equal(ds.train.count + ds.test!.count, 10);
    assert.equal(ds.test!.count, 3); // floor(0.3 × 10)
    assert.match(ds.name, /resized to 4×4 \(bilinear\)/);
    const all = [...ds.train.y, ...ds.test!.y].sort();
    assert.deepEqual(all, [0, 0, 0, 0, 0, 1, 1, 1, 2, 2]);
    // Every sample is uniform, so its resized pixels equal its colour.
    const set = (i: number) => (i < ds.train.count ? { s: ds.train, k: i } : { s: ds.test!, k: i - ds.train.count });
    for (let i = 0; i < 10; i++) {
      const { s, k } = set(i);
      const px = Array.from(s.x.subarray(k * 48, k * 48 + 3), (v) => v * 255);
      const expected = [
        [200, 100, 50],
        [30, 60, 240],
        [90, 90, 90],
      ][s.y[k]];
      px.forEach((v, c) => assert.ok(Math.abs(v - expected[c]) < 6, `sample ${i} class ${s.y[k]}: ${px} vs ${expected}`));
    }
    const again = await loadDataset({ kind: 'imageFolder', root, size: [4, 4], channels: 3, testFraction: 0.3, seed: 7 });
    assert.deepEqual(again.test!.y, ds.test!.y);
    assert.deepEqual(again.train.x, ds.train.x);
    const orders = new Set<string>();
    for (let seed = 0; seed < 6; seed++) {
      const d = await loadDataset({ kind: 'imageFolder', root, size: [4, 4], channels: 3, testFraction: 0.3, seed });
      orders.add(Array.from(d.train.y).join());
    }
    assert.ok(orders.size > 1, 'seeds change the split');
  });

  it('converts to grayscale with BT.601 luma, without a test set by default', async () => {
    const root = writeImageFolder();
    const ds = await loadDataset({ kind: 'imageFolder', root, size: [8, 8], channels: 1, interpolation: 'area' });
    assert.equal(ds.test, undefined);
    assert.deepEqual(ds.shape, [8, 8, 1]);
    const i = Array.from(ds.train.y).indexOf(0);
    assert.ok(Math.abs(ds.train.x[i * 64] * 255 - (0.299 * 200 + 0.587 * 100 + 0.114 * 50)) < 1e-3);
  });

  it('resizes with bilinear (half-pixel centres) and area (box average) interpolation', () => {
    const img = { width: 2, height: 1, data: Uint8Array.of(0, 0, 0, 255, 255, 255, 255, 255) };
    const out = new Float32Array(4);
    resizeInto(img, 1, 1, 4, 'bilinear', out, 0);
    assert.deepEqual(
      Array.from(out, (v) => Math.round(v * 100) / 100),
      [0, 63.75, 191.25, 255],
    );
    resizeInto(img, 1, 1, 4, 'area', out, 0);
    assert.deepEqual(Array.from(out), [0, 0, 255, 255]);
    // 4×4 checkerboard of 0 / 255 → 2×2 area: every output averages 2 black and 2 white pixels
    const checker = { width: 4, height: 4, data: new Uint8Array(64) };
    for (let p = 0; p < 16; p++) checker.data.fill(((p % 4) + Math.floor(p / 4)) % 2 ? 255 : 0, p * 4, p * 4 + 3);
    const small = new Float32Array(4);
    resizeInto(checker, 1, 2, 2, 'area', small, 0);
    for (const v of small) assert.ok(Math.abs(v - 127.5) < 1e-3);
    // 3 → 2 area: weights 2/3, 1/3 | 1/3, 2/3
    const row = { width: 3, height: 1, data: Uint8Array.of(0, 0, 0, 0, 90, 90, 90, 0, 180, 180, 180, 0) };
    const two = new Float32Array(2);
    resizeInto(row, 1, 1, 2, 'area', two, 0);
    assert.ok(Math.abs(two[0] - 30) < 1e-3 && Math.abs(two[1] - 150) < 1e-3, `${two}`);
  });

  it('decodes PNG and JPEG by content', () => {
    const p = decodeImage(pngBytes(3, 2, (x, y) => [x * 50, y * 50, 7, 255]), 'a.jpg');
    assert.equal(p.width, 3);
    assert.equal(p.height, 2);
    assert.deepEqual(Array.from(p.data.subarray(5 * 4, 5 * 4 + 4)), [100, 50, 7, 255]);
    const j = decodeImage(jpegBytes(5, 5, [250, 10, 10]), 'b.png');
    assert.equal(j.width, 5);
    assert.ok(j.data[0] > 230 && j.data[1] < 30);
  });
});

// ---------------------------------------------------------------------------------------------
// Keras load_data resolution
// ---------------------------------------------------------------------------------------------

describe("Keras' load_data resolution", () => {
  it('parses dataset names as written in scripts', () => {
    assert.equal(kerasDatasetName('mnist'), 'mnist');
    assert.equal(kerasDatasetName('keras.datasets.fashion_mnist.load_data()'), 'fashion_mnist');
    assert.equal(kerasDatasetName('Fashion-MNIST'), 'fashion_mnist');
    assert.equal(kerasDatasetName('tf.keras.datasets.cifar10'), 'cifar10');
    assert.equal(kerasDatasetName('cifar100'), undefined);
  });

  it('prefers the configured folder (IDX or mnist.npz), then ~/.keras/datasets/mnist.npz', async () => {
    const folder = tmpDir('mnist');
    writeIdxFolder(folder);
    const home = tmpDir('keras-home');
    mkdirSync(path.join(home, 'datasets'));
    copyFileSync(fixture('mnist_deflated.npz'), path.join(home, 'datasets', 'mnist.npz'));
    assert.deepEqual(resolveKerasDataset('mnist', { folder, kerasHome: home }), { name: 'mnist', kind: 'idx', path: folder });
    const fromFolder = await loadDataset({ kind: 'keras', name: 'mnist', folder, kerasHome: home });
    assert.equal(fromFolder.train.count, 5);
    assert.deepEqual(fromFolder.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const empty = tmpDir('empty');
    assert.equal(resolveKerasDataset('mnist', { folder: empty, kerasHome: home }).kind, 'npz');
    const cached = await loadDataset({ kind: 'keras', name: 'mnist', kerasHome: home });
    assert.equal(cached.train.count, 6);
    assert.equal(cached.numClasses, 10, 'MNIST has 10 classes even when the labels do not show all');
    assert.match(cached.name, /^MNIST \(/);
    const npzFolder = tmpDir('npz');
    copyFileSync(fixture('mnist_stored.npz'), path.join(npzFolder, 'mnist.npz'));
    assert.equal(resolveKerasDataset('mnist', { folder: npzFolder, kerasHome: tmpDir('none') }).kind, 'npz');
  });

  it('finds Fashion-MNIST in ~/.keras/datasets/fashion-mnist/ with its class names', async () => {
    const home = tmpDir('keras-home');
    const cache = path.join(home, 'datasets', 'fashion-mnist');
    mkdirSync(cache, { recursive: true });
    writeIdxFolder(cache);
    const ds = await loadDataset({ kind: 'keras', name: 'fashion_mnist', kerasHome: home });
    assert.equal(ds.classNames[9], 'Ankle boot');
    assert.match(ds.name, /^Fashion-MNIST/);
  });

  it('finds CIFAR-10 binary batches in the folder or in ~/.keras/datasets/cifar-10-batches-bin', async () => {
    const folder = tmpDir('cifar');
    writeCifarFolder(folder);
    assert.equal(resolveKerasDataset('cifar10', { folder, kerasHome: tmpDir('none') }).path, folder);
    const home = tmpDir('keras-home');
    const bin = path.join(home, 'datasets', 'cifar-10-batches-bin');
    mkdirSync(bin, { recursive: true });
    writeCifarFolder(bin);
    const ds = await loadDataset({ kind: 'keras', name: 'cifar10', kerasHome: home });
    assert.equal(ds.train.count, 10);
  });

  it('reads $KERAS_HOME when no home is given', () => {
    const home = tmpDir('keras-env');
    mkdirSync(path.join(home, 'datasets'));
    copyFileSync(fixture('mnist_stored.npz'), path.join(home, 'datasets', 'mnist.npz'));
    const old = process.env.KERAS_HOME;
    process.env.KERAS_HOME = home;
    try {
      assert.equal(resolveKerasDataset('mnist').path, path.join(home, 'datasets', 'mnist.npz'));
    } finally {
      if (old === undefined) delete process.env.KERAS_HOME;
      else process.env.KERAS_HOME = old;
    }
  });
});

describe('loadDataset', () => {
  it('builds the synthetic set from a spec, with limits', async () => {
    const ds = await loadDataset({ kind: 'synthetic', train: 30, test: 5, seed: 2, limit: { train: 10 } });
    assert.equal(ds.train.count, 10);
    assert.equal(ds.test?.count, 5);
  });

  it('rejects an unknown kind with a DataError', async () => {
    await assert.rejects(loadDataset({ kind: 'hdf5' } as never), (e: Error) => e instanceof DataError && /unknown dataset kind "hdf5"/.test(e.message));
  });
});
