/**
 * Decoding PNG and JPEG files within a memory bound. The dimensions are read from the header
 * (PNG's IHDR, JPEG's SOF marker) and checked before anything is decoded: each side at most
 * {@link MAX_IMAGE_SIDE}, at most {@link MAX_IMAGE_PIXELS} pixels, and a JPEG must be large enough
 * to hold the pixels it claims (every 8×8 block costs at least one bit), so a 2 KB file cannot
 * make the decoder allocate for 7000×7000. Non-interlaced PNGs are decoded here row by row from
 * one inflated buffer of exactly the size the header implies (no RGBA copy of the whole image);
 * interlaced PNGs go through pngjs, JPEGs through jpeg-js with its own memory limit.
 */
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { fmt } from './common';
import { DataError } from './types';

/** The longest side accepted, in pixels. */
export const MAX_IMAGE_SIDE = 16384;
/** The most pixels accepted (4096 × 4096). */
export const MAX_IMAGE_PIXELS = 4096 * 4096;

/** A decoded image: 8-bit RGBA, row-major. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** An image read one row at a time. */
export interface RowSource {
  width: number;
  height: number;
  /** Writes row `y` as `channels` values (0–255) per pixel into `out` (width × channels). */
  row(y: number, channels: 1 | 3, out: Float32Array): void;
}

/** What a header says about an image. */
export interface ImageInfo {
  kind: 'png' | 'jpeg';
  width: number;
  height: number;
  /** Where the dimensions are in the file. */
  at: number;
}

const isPngSig = (b: Buffer) => b.length >= 8 && b.readUInt32BE(0) === 0x89504e47 && b.readUInt32BE(4) === 0x0d0a1a0a;
const isJpegSig = (b: Buffer) => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

/** The width and height a JPEG's first SOF marker states, without decoding. */
function jpegSize(b: Buffer, name: string, file: string): ImageInfo {
  let p = 2;
  while (p + 4 <= b.length) {
    if (b[p] !== 0xff) throw new DataError(`${name}: corrupt JPEG: expected a marker at byte ${fmt(p)}, found 0x${b[p].toString(16).padStart(2, '0')}`, file, p);
    const m = b[p + 1];
    if (m === 0xff) {
      p++;
      continue;
    }
    if (m === 0xd8 || (m >= 0xd0 && m <= 0xd7) || m === 0x01) {
      p += 2;
      continue;
    }
    const len = b.readUInt16BE(p + 2);
    if (len < 2) throw new DataError(`${name}: corrupt JPEG: segment at byte ${fmt(p)} has length ${len}`, file, p + 2);
    // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      if (p + 9 > b.length) break;
      return { kind: 'jpeg', height: b.readUInt16BE(p + 5), width: b.readUInt16BE(p + 7), at: p + 5 };
    }
    if (m === 0xda || m === 0xd9) break;
    p += 2 + len;
  }
  throw new DataError(`${name}: corrupt JPEG: no frame header (SOF marker) before byte ${fmt(Math.min(p, b.length))}, so its size is unknown`, file, Math.min(p, b.length));
}

/** Reads an image's type and size from its header and checks them against the limits. */
export function imageInfo(bytes: Uint8Array, file: string): ImageInfo {
  const name = path.basename(file);
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let info: ImageInfo;
  if (isPngSig(b)) {
    if (b.length < 24) throw new DataError(`${name}: truncated PNG: the file ends at byte ${b.length}, inside the IHDR header`, file, b.length);
    info = { kind: 'png', width: b.readUInt32BE(16), height: b.readUInt32BE(20), at: 16 };
  } else if (isJpegSig(b)) {
    info = jpegSize(b, name, file);
  } else {
    const head = Array.from(b.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join(' ');
    throw new DataError(`${name}: not a PNG or JPEG (the file starts with ${head || 'nothing'} at byte 0; expected 89 50 4e 47 or ff d8 ff)`, file, 0);
  }
  const { width: w, height: h } = info;
  const kind = info.kind.toUpperCase();
  if (w === 0 || h === 0 || w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE || w * h > MAX_IMAGE_PIXELS) {
    throw new DataError(
      `${name}: ${kind} of ${fmt(w)}×${fmt(h)} pixels (at byte ${info.at}): expected 1 to ${fmt(MAX_IMAGE_SIDE)} pixels a side and at most ${fmt(MAX_IMAGE_PIXELS)} pixels (4096×4096); it was not decoded`,
      file,
      info.at,
    );
  }
  if (info.kind === 'jpeg') {
    // Every 8×8 block of the luminance plane costs at least one bit, even in a progressive file.
    const least = Math.ceil((Math.ceil(w / 8) * Math.ceil(h / 8)) / 8);
    if (b.length < least) {
      throw new DataError(`${name}: a ${fmt(b.length)}-byte JPEG cannot hold ${fmt(w)}×${fmt(h)} pixels (at least ${fmt(least)} bytes are needed): it is truncated, or built to exhaust memory; it was not decoded`, file, info.at);
    }
  }
  return info;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

/**
 * A non-interlaced PNG as rows: the IDAT data inflated once into a buffer of exactly the size the
 * header implies, unfiltered in place; each row converted on request. Undefined for an
 * interlaced PNG (pngjs decodes those).
 */
function pngRows(b: Buffer, name: string, file: string): RowSource | undefined {
  const fail = (msg: string, at?: number): never => {
    throw new DataError(`${name}: cannot decode the PNG (${msg})`, file, at);
  };
  const width = b.readUInt32BE(16);
  const height = b.readUInt32BE(20);
  const depth = b[24];
  const colorType = b[25];
  if (b.readUInt32BE(12) !== 0x49484452) fail('the first chunk is not IHDR', 12);
  if (!(colorType in CHANNELS) || !DEPTHS[colorType].includes(depth)) fail(`color type ${colorType} with bit depth ${depth} is not valid`, 24);
  if (b[26] !== 0 || b[27] !== 0) fail('unknown compression or filter method', 26);
  if (b[28] !== 0) return undefined;
  const chans = CHANNELS[colorType];
  const bitsPerPixel = chans * depth;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel / 8);
  const rawSize = height * (1 + stride);
  const idat: Buffer[] = [];
  let palette: Buffer | undefined;
  let p = 8;
  let ended = false;
  while (p + 8 <= b.length) {
    const len = b.readUInt32BE(p);
    const type = b.toString('latin1', p + 4, p + 8);
    if (p + 12 + len > b.length) fail(`chunk ${type} at byte ${fmt(p)} needs ${fmt(len)} bytes, the file ends at byte ${fmt(b.length)}`, b.length);
    const data = b.subarray(p + 8, p + 8 + len);
    if (type === 'IDAT') idat.push(data);
    else if (type === 'PLTE') palette = data;
    else if (type === 'IEND') {
      ended = true;
      break;
    }
    p += 12 + len;
  }
  if (!ended) fail(`no IEND chunk: the file ends at byte ${fmt(b.length)}`, b.length);
  if (idat.length === 0) fail('no image data (IDAT)');
  if (colorType === 3 && !palette) fail('a palette image without a PLTE chunk');
  let raw: Buffer;
  try {
    // One buffer of exactly the size the header implies: more data is an error, not more memory.
    raw = zlib.inflateSync(idat.length === 1 ? idat[0] : Buffer.concat(idat), { chunkSize: Math.max(64, rawSize), maxOutputLength: Math.max(1, rawSize) });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return fail(err.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError ? `the image data inflates to more than the ${fmt(rawSize)} bytes its header implies` : err.message);
  }
  if (raw.length !== rawSize) fail(`the image data inflates to ${fmt(raw.length)} bytes, its header implies ${fmt(rawSize)}`);
  // Unfilter in place, row by row (PNG filter types 0–4).
  for (let y = 0; y < height; y++) {
    const at = y * (1 + stride);
    const f = raw[at];
    const cur = at + 1;
    const prev = at - stride; // the previous row's first byte (invalid for y = 0)
    if (f > 4) fail(`row ${y} has filter type ${f}`);
    if (f === 0) continue;
    for (let i = 0; i < stride; i++) {
      const left = i >= bpp ? raw[cur + i - bpp] : 0;
      const up = y > 0 ? raw[prev + i] : 0;
      const upLeft = y > 0 && i >= bpp ? raw[prev + i - bpp] : 0;
      let v: number;
      if (f === 1) v = left;
      else if (f === 2) v = up;
      else if (f === 3) v = (left + up) >> 1;
      else {
        const pa = Math.abs(up - upLeft);
        const pb = Math.abs(left - upLeft);
        const pc = Math.abs(left + up - 2 * upLeft);
        v = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      }
      raw[cur + i] = (raw[cur + i] + v) & 0xff;
    }
  }
  const maxv = (1 << depth) - 1;
  /** Sample `c` of pixel `x` in row `y`, scaled to 0–255. */
  const sample = (rowStart: number, x: number, c: number): number => {
    if (depth === 8) return raw[rowStart + x * chans + c];
    if (depth === 16) {
      const o = rowStart + (x * chans + c) * 2;
      return ((raw[o] << 8) | raw[o + 1]) / 257;
    }
    const bit = (x * chans + c) * depth;
    const v = (raw[rowStart + (bit >> 3)] >> (8 - depth - (bit & 7))) & maxv;
    return colorType === 3 ? v : (v * 255) / maxv;
  };
  return {
    width,
    height,
    row(y, channels, out) {
      const start = y * (1 + stride) + 1;
      for (let x = 0; x < width; x++) {
        let r: number;
        let g: number;
        let bl: number;
        if (colorType === 3) {
          const i = sample(start, x, 0);
          if (3 * i + 2 >= palette!.length) fail(`palette index ${i} in row ${y} is beyond the ${palette!.length / 3} colours`);
          r = palette![3 * i];
          g = palette![3 * i + 1];
          bl = palette![3 * i + 2];
        } else if (chans <= 2) {
          r = g = bl = sample(start, x, 0);
        } else {
          r = sample(start, x, 0);
          g = sample(start, x, 1);
          bl = sample(start, x, 2);
        }
        if (channels === 1) out[x] = chans <= 2 && colorType !== 3 ? r : 0.299 * r + 0.587 * g + 0.114 * bl;
        else {
          out[3 * x] = r;
          out[3 * x + 1] = g;
          out[3 * x + 2] = bl;
        }
      }
    },
  };
}

/** An RGBA image as rows. */
export function rgbaRows(img: RgbaImage): RowSource {
  const { width, data } = img;
  return {
    width,
    height: img.height,
    row(y, channels, out) {
      for (let x = 0, q = y * width * 4; x < width; x++, q += 4) {
        if (channels === 1) out[x] = 0.299 * data[q] + 0.587 * data[q + 1] + 0.114 * data[q + 2];
        else {
          out[3 * x] = data[q];
          out[3 * x + 1] = data[q + 1];
          out[3 * x + 2] = data[q + 2];
        }
      }
    },
  };
}

/** Decodes a PNG or JPEG (recognised by its signature) as rows, after checking its size. */
export function imageRows(bytes: Uint8Array, file: string): RowSource {
  const name = path.basename(file);
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const info = imageInfo(buf, file);
  if (info.kind === 'png') {
    const rows = pngRows(buf, name, file);
    if (rows) return rows;
    try {
      const png = PNG.sync.read(buf);
      return rgbaRows({ width: png.width, height: png.height, data: png.data });
    } catch (e) {
      throw new DataError(`${name}: cannot decode the PNG (${(e as Error).message})`, file);
    }
  }
  try {
    const claim = info.width * info.height;
    // jpeg-js keeps coefficients, component planes and the RGBA output: up to about 24 bytes a pixel.
    const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6, maxMemoryUsageInMB: Math.ceil((claim * 24) / 2 ** 20) + 32 });
    if (!(img.width > 0 && img.height > 0)) throw new Error('no image data');
    return rgbaRows({ width: img.width, height: img.height, data: img.data });
  } catch (e) {
    throw new DataError(`${name}: cannot decode the JPEG (${(e as Error).message})`, file);
  }
}

/** Decodes a PNG or JPEG into 8-bit RGBA (alpha 255), after checking its size. */
export function decodeImage(bytes: Uint8Array, file: string): RgbaImage {
  const rows = imageRows(bytes, file);
  const data = new Uint8Array(rows.width * rows.height * 4);
  const line = new Float32Array(rows.width * 3);
  for (let y = 0; y < rows.height; y++) {
    rows.row(y, 3, line);
    for (let x = 0, q = y * rows.width * 4; x < rows.width; x++, q += 4) {
      data[q] = Math.round(line[3 * x]);
      data[q + 1] = Math.round(line[3 * x + 1]);
      data[q + 2] = Math.round(line[3 * x + 2]);
      data[q + 3] = 255;
    }
  }
  return { width: rows.width, height: rows.height, data };
}
