/**
 * Turning one layer's activation tensor into pictures: per-channel planes, normalisation and a
 * grid layout. Activations arrive as a flat Float32Array in Keras layout (channels_last).
 */

/** Range of a channel, for the colour scale and the hover readout. */
export interface ChannelStats {
  min: number;
  max: number;
  mean: number;
}

/** One channel of an (H, W, C) tensor as an H·W plane. */
export function channelPlane(data: ArrayLike<number>, h: number, w: number, c: number, channel: number, out = new Float32Array(h * w)): Float32Array {
  for (let p = 0, i = channel; p < h * w; p++, i += c) out[p] = data[i];
  return out;
}

export function stats(values: ArrayLike<number>): ChannelStats {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    n++;
  }
  return n ? { min, max, mean: sum / n } : { min: 0, max: 0, mean: 0 };
}

/**
 * Scales values to [0, 1] by their own range (per-channel normalisation); a constant plane maps to 0
 * (a dead ReLU channel shows dark, not a flat mid-grey that looks like signal).
 */
export function normalize(values: ArrayLike<number>, range: { min: number; max: number } = stats(values), out = new Float32Array(values.length)): Float32Array {
  const span = range.max - range.min;
  for (let i = 0; i < values.length; i++) out[i] = span > 0 ? (values[i] - range.min) / span : 0;
  return out;
}

/** Symmetric scaling around 0 for signed values (kernels): −m → 0, 0 → 0.5, m → 1. */
export function normalizeSigned(values: ArrayLike<number>, out = new Float32Array(values.length)): Float32Array {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  for (let i = 0; i < values.length; i++) out[i] = m > 0 ? 0.5 + values[i] / (2 * m) : 0.5;
  return out;
}

/** Columns and rows to tile `count` images of aspect w/h into a roughly square-looking grid. */
export function gridLayout(count: number, tileW: number, tileH: number, maxColumns = 16): { columns: number; rows: number } {
  if (count <= 0) return { columns: 0, rows: 0 };
  const aspect = tileH / Math.max(1, tileW);
  const columns = Math.max(1, Math.min(maxColumns, count, Math.ceil(Math.sqrt(count * aspect))));
  return { columns, rows: Math.ceil(count / columns) };
}

/** How a feature map of size h×w is drawn: one canvas pixel per value, scaled up to about `target` CSS pixels. */
export function tileScale(h: number, w: number, target = 64): number {
  return Math.max(1, Math.floor(target / Math.max(h, w)));
}

/** The k largest entries as [index, value], for the class-probability readout. */
export function topK(values: ArrayLike<number>, k: number): [number, number][] {
  return Array.from(values, (v, i) => [i, v] as [number, number])
    .sort((a, b) => b[1] - a[1])
    .slice(0, k);
}

/**
 * Bilinear upsampling of an (h, w) map to (H, W), pixel centres aligned (as image resizing
 * does), for drawing a Grad-CAM map over its input.
 */
export function upsampleBilinear(map: ArrayLike<number>, h: number, w: number, H: number, W: number): Float32Array {
  const out = new Float32Array(H * W);
  for (let y = 0; y < H; y++) {
    const fy = Math.min(Math.max(((y + 0.5) * h) / H - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const ty = fy - y0;
    for (let x = 0; x < W; x++) {
      const fx = Math.min(Math.max(((x + 0.5) * w) / W - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const tx = fx - x0;
      const top = map[y0 * w + x0] * (1 - tx) + map[y0 * w + x1] * tx;
      const bottom = map[y1 * w + x0] * (1 - tx) + map[y1 * w + x1] * tx;
      out[y * W + x] = top * (1 - ty) + bottom * ty;
    }
  }
  return out;
}
