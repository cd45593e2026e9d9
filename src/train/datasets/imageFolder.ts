/**
 * A folder of images per class, as Keras' image_dataset_from_directory reads it:
 * root/<class name>/…/*.png|jpg|jpeg. Classes are the subfolders in sorted order (hidden ones,
 * such as .ipynb_checkpoints, are skipped); files are found recursively and sorted. Images are
 * decoded with pngjs / jpeg-js (by content, not by extension), converted to the target channel
 * count, resized to the target size, and split into train / test by a seeded shuffle.
 *
 * Conversions, documented:
 *  - Grayscale from colour: ITU-R BT.601 luma, 0.299 R + 0.587 G + 0.114 B (as PIL's
 *    convert('L') and libjpeg). Colour from grayscale: the value repeated in R, G and B.
 *  - Alpha is dropped (as tf.io.decode_image with channels=3 does), not composited.
 *  - Resizing: 'bilinear' (the default, as Keras' default) samples with half-pixel centres and no
 *    antialiasing, like tf.image.resize(…, 'bilinear'); 'area' averages the source pixels each
 *    output pixel covers, with fractional weights at the edges (a box filter, like
 *    tf.image.resize(…, 'area') and OpenCV's INTER_AREA): better when shrinking a lot.
 *    Values are not rounded back to integers.
 *  - The split: the files are shuffled with a seeded PRNG (mulberry32, not numpy's, so the split
 *    differs from Keras' for the same seed) and the last `testFraction` becomes the test set.
 */
import { promises as fsp, readdirSync, type Dirent } from 'node:fs';
import * as path from 'node:path';
import { fmt, mulberry32, normalizationLabel, shuffleInPlace, type PixelScale } from './common';
import { isDirectory } from './files';
import { decodeImage, imageRows, MAX_IMAGE_PIXELS, rgbaRows, type RgbaImage, type RowSource } from './imageDecode';
import { DataError, type Dataset, type ImageSet } from './types';

export { decodeImage, imageRows, MAX_IMAGE_PIXELS, type RgbaImage, type RowSource };

export type Interpolation = 'bilinear' | 'area';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

/** Per-axis resampling taps: for each output index, the source indices and their weights. */
interface Taps {
  start: Int32Array;
  len: Int32Array;
  index: Int32Array;
  weight: Float32Array;
}

function makeTaps(inSize: number, outSize: number, mode: Interpolation): Taps {
  const idx: number[] = [];
  const wts: number[] = [];
  const start = new Int32Array(outSize);
  const len = new Int32Array(outSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    start[o] = idx.length;
    if (mode === 'bilinear') {
      // Half-pixel centres, clamped at the borders, no antialiasing.
      let s = (o + 0.5) * scale - 0.5;
      if (s < 0) s = 0;
      if (s > inSize - 1) s = inSize - 1;
      const i0 = Math.floor(s);
      const f = s - i0;
      idx.push(i0);
      wts.push(1 - f);
      if (f > 0 && i0 + 1 < inSize) {
        idx.push(i0 + 1);
        wts.push(f);
      }
    } else {
      // Box filter: the output pixel covers source span [a, b); each source pixel weighs by its
      // overlap (this also enlarges, each output pixel then lying within one or two source pixels).
      const a = o * scale;
      const b = (o + 1) * scale;
      const i0 = Math.floor(a);
      const i1 = Math.min(Math.ceil(b) - 1, inSize - 1);
      for (let i = i0; i <= i1; i++) {
        const w = Math.min(b, i + 1) - Math.max(a, i);
        if (w > 1e-9) {
          idx.push(i);
          wts.push(w / scale);
        }
      }
    }
    len[o] = idx.length - start[o];
  }
  return { start, len, index: Int32Array.from(idx), weight: Float32Array.from(wts) };
}

/**
 * Converts an image to `channels` (1 or 3) and resizes it to outH × outW, writing floats
 * (0–255 × `valueScale`) into `out` at `offset`, HWC. The source is read one row at a time: each
 * row is resampled across, then added with its weights into the output rows it touches, so the
 * memory used is the output plus a row, whatever the source's shape.
 */
export function resizeRows(src: RowSource, channels: 1 | 3, outH: number, outW: number, mode: Interpolation, out: Float32Array, offset: number, valueScale = 1): void {
  const { width: w, height: h } = src;
  const line = new Float32Array(w * channels);
  if (w === outW && h === outH) {
    for (let y = 0; y < h; y++) {
      src.row(y, channels, line);
      const o = offset + y * w * channels;
      for (let i = 0; i < line.length; i++) out[o + i] = line[i] * valueScale;
    }
    return;
  }
  const tx = makeTaps(w, outW, mode);
  const ty = makeTaps(h, outH, mode);
  // For each source row, the output rows it feeds and with which weight.
  const feeds: { oy: number; weight: number }[][] = Array.from({ length: h }, () => []);
  for (let oy = 0; oy < outH; oy++) {
    for (let k = ty.start[oy]; k < ty.start[oy] + ty.len[oy]; k++) feeds[ty.index[k]].push({ oy, weight: ty.weight[k] });
  }
  const acc = new Float64Array(outH * outW * channels);
  const across = new Float64Array(outW * channels);
  for (let y = 0; y < h; y++) {
    if (feeds[y].length === 0) continue;
    src.row(y, channels, line);
    for (let ox = 0; ox < outW; ox++) {
      const s0 = tx.start[ox];
      const n = tx.len[ox];
      for (let c = 0; c < channels; c++) {
        let a = 0;
        for (let k = 0; k < n; k++) a += tx.weight[s0 + k] * line[tx.index[s0 + k] * channels + c];
        across[ox * channels + c] = a;
      }
    }
    for (const { oy, weight } of feeds[y]) {
      const o = oy * outW * channels;
      for (let i = 0; i < across.length; i++) acc[o + i] += weight * across[i];
    }
  }
  for (let i = 0; i < acc.length; i++) out[offset + i] = acc[i] * valueScale;
}

/** {@link resizeRows} for an image already decoded to RGBA. */
export function resizeInto(img: RgbaImage, channels: 1 | 3, outH: number, outW: number, mode: Interpolation, out: Float32Array, offset: number, valueScale = 1): void {
  resizeRows(rgbaRows(img), channels, outH, outW, mode, out, offset, valueScale);
}

export interface ImageFolderOptions {
  root: string;
  /** Target [height, width]. */
  size: [number, number];
  /** Target channels: 1 (grayscale) or 3 (RGB). */
  channels: 1 | 3;
  /** Default 'bilinear'. */
  interpolation?: Interpolation;
  /** Fraction of the images held out as the test set (0 ≤ f < 1); default 0 (no test set). */
  testFraction?: number;
  /** Seed of the shuffle before the split; default 1337. */
  seed?: number;
  scale?: PixelScale;
}

function listImages(dir: string, depth = 0): string[] {
  if (depth > 32) return [];
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw new DataError(`${dir}: cannot list the folder (${(e as Error).message})`);
  }
  const out: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listImages(p, depth + 1));
    else if (e.isFile() && IMAGE_EXTENSIONS.includes(path.extname(e.name).toLowerCase())) out.push(p);
  }
  return out;
}

/** The class names (sorted subfolders) and image files of a folder. */
export function scanImageFolder(root: string): { classNames: string[]; files: { file: string; label: number }[] } {
  if (!isDirectory(root)) throw new DataError(`${root}: not a folder; expected <root>/<class name>/*.png|jpg|jpeg`);
  const classNames = readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (classNames.length === 0) throw new DataError(`${root}: no class subfolders; expected <root>/<class name>/*.png|jpg|jpeg`);
  if (classNames.length > 256) throw new DataError(`${root}: ${classNames.length} class subfolders; at most 256 are supported`);
  const files: { file: string; label: number }[] = [];
  classNames.forEach((c, label) => {
    for (const file of listImages(path.join(root, c))) files.push({ file, label });
  });
  if (files.length === 0) {
    throw new DataError(`${root}: no .png, .jpg or .jpeg files in its class subfolders (${classNames.slice(0, 5).join(', ')}${classNames.length > 5 ? ', …' : ''})`);
  }
  return { classNames, files };
}

/** Loads a folder of images per class, resized to `size` with `channels` channels. */
export async function loadImageFolder(o: ImageFolderOptions): Promise<Dataset> {
  const [outH, outW] = o.size;
  if (!(Number.isInteger(outH) && Number.isInteger(outW) && outH > 0 && outW > 0 && outH * outW <= 4096 * 4096)) {
    throw new DataError(`image size must be two positive integers, got [${o.size.join(', ')}]`);
  }
  if (o.channels !== 1 && o.channels !== 3) throw new DataError(`channels must be 1 or 3, got ${String(o.channels)}`);
  const frac = o.testFraction ?? 0;
  if (!(frac >= 0 && frac < 1)) throw new DataError(`testFraction must be in [0, 1), got ${frac}`);
  const mode = o.interpolation ?? 'bilinear';
  const scale = o.scale ?? 'div255';
  const { classNames, files } = scanImageFolder(o.root);

  shuffleInPlace(files, mulberry32(o.seed ?? 1337));
  const numTest = Math.floor(frac * files.length);
  const per = outH * outW * o.channels;
  const x = new Float32Array(files.length * per);
  const y = new Uint8Array(files.length);
  const valueScale = scale === 'div255' ? 1 / 255 : 1;
  let resized = 0;
  // One file at a time: read, check its size from the header, decode row by row, resize, drop.
  for (const [i, f] of files.entries()) {
    const bytes = await fsp.readFile(f.file).catch((e: Error) => {
      throw new DataError(`${path.basename(f.file)}: cannot read (${e.message})`, f.file);
    });
    const img = imageRows(bytes, f.file);
    if (img.width !== outW || img.height !== outH) resized++;
    resizeRows(img, o.channels, outH, outW, mode, x, i * per, valueScale);
    y[i] = f.label;
  }
  const n = files.length - numTest;
  const train: ImageSet = { x: x.subarray(0, n * per), y: y.subarray(0, n), count: n };
  const test: ImageSet | undefined = numTest > 0 ? { x: x.subarray(n * per), y: y.subarray(n), count: numTest } : undefined;
  return {
    name: `images (${o.root}${resized > 0 ? `, ${fmt(resized)} resized to ${outH}×${outW} (${mode})` : ''})`,
    shape: [outH, outW, o.channels],
    numClasses: classNames.length,
    classNames,
    train,
    test,
    normalization: normalizationLabel(scale),
  };
}
