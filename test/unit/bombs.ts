/**
 * Hostile dataset inputs, generated (never committed): gzip and zlib streams that inflate to
 * gigabytes from a megabyte, IDX headers whose claims disagree with their data, a PNG of
 * 1×50,000,000 pixels in 48 KB, a 2 KB JPEG claiming 7000×7000, and a way to measure what
 * loading each costs: a child process reports its peak RSS above where it started. Shared by
 * test/unit/dataBombs.test.ts (bounds) and test/bench/bombs.ts (the figures).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as esbuild from 'esbuild';
import * as jpeg from 'jpeg-js';
import { crc32 } from '../../src/core/train/checkpoint';

const MB = 1 << 20;
/** 1 MiB of zeros as raw deflate, full-flushed: copies of it concatenate into a valid stream. */
const ZERO_SEGMENT = zlib.deflateRawSync(Buffer.alloc(MB), { finishFlush: zlib.constants.Z_FULL_FLUSH });
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

/** Raw deflate of `prefix` followed by zeros up to `total` bytes (whole MiB after the first), cheaply. */
function deflateZeros(prefix: Buffer, total: number): Buffer {
  const first = Buffer.alloc(Math.min(total, MB));
  prefix.copy(first);
  const parts = [zlib.deflateRawSync(first, { finishFlush: zlib.constants.Z_FULL_FLUSH })];
  let done = first.length;
  for (; done + MB <= total; done += MB) parts.push(ZERO_SEGMENT);
  if (done < total) parts.push(zlib.deflateRawSync(Buffer.alloc(total - done), { finishFlush: zlib.constants.Z_FULL_FLUSH }));
  parts.push(FINAL_BLOCK);
  return Buffer.concat(parts);
}

/** A gzip file whose content is `prefix` then zeros, `total` bytes in all (trailer ISIZE: `isize`, default the truth mod 2³²). */
export function gzipBomb(prefix: Buffer, total: number, isize = total % 2 ** 32): Buffer {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(0, 0); // the CRC is never reached: reading stops long before
  trailer.writeUInt32LE(isize >>> 0, 4);
  return Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), deflateZeros(prefix, total), trailer]);
}

/** An IDX header. */
export function idxHeader(magic: number, dims: number[]): Buffer {
  const h = Buffer.alloc(4 + 4 * dims.length);
  h.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => h.writeUInt32BE(d >>> 0, 4 + 4 * i));
  return h;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A grayscale PNG of width × height whose pixels are all 0, built without holding the pixels. */
export function pngZeros(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grayscale
  const raw = height * (1 + width);
  // zlib wrapper: header, the deflate stream, Adler-32 of `raw` zero bytes (a = 1, b = raw mod 65521).
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE((((raw % 65521) << 16) | 1) >>> 0);
  const idat = Buffer.concat([Buffer.from([0x78, 0x9c]), deflateZeros(Buffer.alloc(0), raw), adler]);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}

/** A valid small JPEG whose frame header is changed to claim width × height. */
export function jpegClaiming(width: number, height: number): Buffer {
  const data = Buffer.alloc(16 * 16 * 4, 128);
  const jpg = Buffer.from(jpeg.encode({ width: 16, height: 16, data }, 50).data);
  const sof = jpg.indexOf(Buffer.from([0xff, 0xc0]));
  jpg.writeUInt16BE(height, sof + 5);
  jpg.writeUInt16BE(width, sof + 7);
  return jpg;
}

/** One hostile input: how to load it and the real data its headers claim. */
export interface Bomb {
  name: string;
  /** Bytes on disk. */
  bytes: number;
  /** The data its header (or gzip trailer) claims, decompressed. */
  claim: number;
  /** What the child runs: a loadDataset spec, or an image to decode. */
  load: { spec: object } | { image: string };
}

/** Writes the bombs into `dir`. */
export function makeBombs(dir: string): Bomb[] {
  const out: Bomb[] = [];
  const put = (rel: string, b: Buffer) => {
    const f = path.join(dir, rel);
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, b);
    return b.length;
  };
  // 1. A 1.5 MB .gz whose header claims 100 images but which inflates to 1.5 GB.
  {
    const claim = 16 + 100 * 28 * 28;
    const bytes = put('claims100/train-images-idx3-ubyte.gz', gzipBomb(idxHeader(0x803, [100, 28, 28]), 1500 * MB));
    put('claims100/train-labels-idx1-ubyte', Buffer.concat([idxHeader(0x801, [100]), Buffer.alloc(100)]));
    out.push({ name: '1.5 MB .gz IDX, header claims 100 images, inflates to 1.5 GB', bytes, claim, load: { spec: { kind: 'idx', folder: path.join(dir, 'claims100') } } });
  }
  // 2. Four 1 MB .gz IDX files, each inflating to 1 GB (the headers claim MNIST's sizes).
  {
    let bytes = 0;
    let claim = 0;
    for (const [f, magic, dims] of [
      ['train-images-idx3-ubyte.gz', 0x803, [60000, 28, 28]],
      ['train-labels-idx1-ubyte.gz', 0x801, [60000]],
      ['t10k-images-idx3-ubyte.gz', 0x803, [10000, 28, 28]],
      ['t10k-labels-idx1-ubyte.gz', 0x801, [10000]],
    ] as const) {
      bytes += put(`four/${f}`, gzipBomb(idxHeader(magic, [...dims]), 1000 * MB));
      claim = Math.max(claim, 8 + 4 * dims.length + dims.reduce((a, b) => a * b, 1));
    }
    out.push({ name: 'four 1 MB .gz IDX files, each inflating to 1 GB (headers claim MNIST)', bytes, claim, load: { spec: { kind: 'idx', folder: path.join(dir, 'four') } } });
  }
  // 3. A header claiming 4,294,967,295 images.
  {
    const bytes = put('huge/train-images-idx3-ubyte.gz', gzipBomb(idxHeader(0x803, [0xffffffff, 28, 28]), 4 * MB));
    put('huge/train-labels-idx1-ubyte', Buffer.concat([idxHeader(0x801, [1]), Buffer.alloc(1)]));
    out.push({ name: '.gz IDX header claiming 4,294,967,295 images of 28×28', bytes, claim: 0, load: { spec: { kind: 'idx', folder: path.join(dir, 'huge') } } });
  }
  // 4. A CIFAR-10 .tar.gz whose gzip trailer says 10 KB but which inflates to 1 GB.
  {
    const bytes = put('cifar-10-binary.tar.gz', gzipBomb(Buffer.alloc(0), 1000 * MB, 10240));
    out.push({ name: 'CIFAR .tar.gz, trailer says 10 KB, inflates to 1 GB', bytes, claim: 10240, load: { spec: { kind: 'cifar10', path: path.join(dir, 'cifar-10-binary.tar.gz') } } });
  }
  // 5. A 48 KB PNG of 1 × 50,000,000 pixels.
  {
    const bytes = put('png.png', pngZeros(50_000_000, 1));
    out.push({ name: `${Math.round(bytes / 1024)} KB PNG of 1×50,000,000 pixels`, bytes, claim: 50_000_000, load: { image: path.join(dir, 'png.png') } });
  }
  // 6. A 2 KB JPEG claiming 7000 × 7000.
  {
    const bytes = put('jpeg.jpg', jpegClaiming(7000, 7000));
    out.push({ name: `${(bytes / 1024).toFixed(1)} KB JPEG claiming 7000×7000`, bytes, claim: 7000 * 7000 * 3, load: { image: path.join(dir, 'jpeg.jpg') } });
  }
  // 6b. A JPEG within the pixel limit claiming more pixels than its bytes can hold.
  {
    const bytes = put('jpeg4000.jpg', jpegClaiming(4000, 4000));
    out.push({ name: `${(bytes / 1024).toFixed(1)} KB JPEG claiming 4000×4000`, bytes, claim: 4000 * 4000 * 3, load: { image: path.join(dir, 'jpeg4000.jpg') } });
  }
  // 7. A PNG within the limits whose zlib stream holds more than its header implies.
  {
    const good = pngZeros(4096, 1024);
    const ihdrHeight = 8 + 8 + 4;
    good.writeUInt32BE(16, ihdrHeight); // claim 16 rows; the data holds 1024
    const body = good.subarray(12, 12 + 4 + 13);
    good.writeUInt32BE(crc32(body), 12 + 4 + 13);
    const bytes = put('rows.png', good);
    out.push({ name: 'PNG claiming 4096×16, data for 4096×1024', bytes, claim: 16 * 4097, load: { image: path.join(dir, 'rows.png') } });
  }
  return out;
}

let bundled: string | undefined;

/** The dataset readers bundled once into a plain CommonJS file, so each measurement is a bare `node` process. */
function probeScript(dir: string): string {
  if (bundled) return bundled;
  const entry = path.join(dir, 'probe-entry.ts');
  const root = path.join(__dirname, '..', '..');
  writeFileSync(
    entry,
    `import { loadDataset } from ${JSON.stringify(path.join(root, 'src/train/datasets/index'))};
import { imageRows, resizeRows } from ${JSON.stringify(path.join(root, 'src/train/datasets/imageFolder'))};
import { readFileSync } from 'node:fs';
const arg = JSON.parse(process.argv[2]);
const base = process.memoryUsage().rss;
const t0 = Date.now();
(async () => {
  let error;
  let ok;
  try {
    if (arg.image) {
      const img = imageRows(readFileSync(arg.image), arg.image);
      const out = new Float32Array(28 * 28);
      resizeRows(img, 1, 28, 28, 'area', out, 0);
      ok = img.width + 'x' + img.height;
    } else {
      const ds = await loadDataset(arg.spec);
      ok = ds.name;
    }
  } catch (e) {
    error = { name: e.name, message: e.message };
  }
  process.stdout.write(JSON.stringify({ base, peak: process.resourceUsage().maxRSS * 1024, ms: Date.now() - t0, error, ok }));
})();
`,
  );
  bundled = path.join(dir, 'probe.cjs');
  esbuild.buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', outfile: bundled, logLevel: 'error', external: ['onnxruntime-node'] });
  return bundled;
}

/** What loading a bomb cost: peak RSS above the process's start, time, and the error (or the result). */
export interface Measured {
  base: number;
  peak: number;
  ms: number;
  error?: { name: string; message: string };
  ok?: string;
}

/** Loads one bomb in a fresh process and measures it. */
export function measure(dir: string, b: Bomb): Measured {
  const r = spawnSync(process.execPath, [probeScript(dir), JSON.stringify(b.load)], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`the probe for ${b.name} failed (${r.status ?? r.signal}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as Measured;
}
