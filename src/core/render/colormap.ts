/**
 * Perceptual colormaps for heatmaps. Viridis (matplotlib's default) keeps equal steps in value as
 * equal steps in perceived lightness and reads in greyscale and for colour-blind eyes; the ten
 * published stops are interpolated linearly into a 256-entry table.
 */
const VIRIDIS_STOPS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'];
/** A diverging map (blue–white–red) for signed values such as kernels: 0 is white. */
const DIVERGING_STOPS = ['#2166ac', '#4393c3', '#92c5de', '#d1e5f0', '#f7f7f7', '#fddbc7', '#f4a582', '#d6604d', '#b2182b'];

/** Turbo (Mikhnenko, Google, 2019: an improved rainbow), for heat maps drawn over an image (Grad-CAM). */
const TURBO_STOPS = ['#30123b', '#4662d7', '#35abf8', '#1be5b5', '#74fe5d', '#c9ef34', '#fbb938', '#f56918', '#c92903', '#7a0403'];

export type ColormapName = 'viridis' | 'diverging' | 'gray' | 'turbo';

function table(stops: string[]): Uint8ClampedArray {
  const rgb = stops.map((h) => [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)]);
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (rgb.length - 1);
    const k = Math.min(rgb.length - 2, Math.floor(t));
    const f = t - k;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(rgb[k][c] + (rgb[k + 1][c] - rgb[k][c]) * f);
  }
  return lut;
}

const LUTS: Record<ColormapName, Uint8ClampedArray> = {
  viridis: table(VIRIDIS_STOPS),
  diverging: table(DIVERGING_STOPS),
  gray: table(['#000000', '#ffffff']),
  turbo: table(TURBO_STOPS),
};

/** The colour of t in [0, 1] (clamped) as [r, g, b]. */
export function colorAt(name: ColormapName, t: number): [number, number, number] {
  const lut = LUTS[name];
  const i = Math.max(0, Math.min(255, Math.round((Number.isFinite(t) ? t : 0) * 255))) * 3;
  return [lut[i], lut[i + 1], lut[i + 2]];
}

/**
 * Paints values already normalised to [0, 1] into RGBA pixels (an ImageData's data), one value
 * per pixel.
 */
export function paint(values: ArrayLike<number>, name: ColormapName, out: Uint8ClampedArray = new Uint8ClampedArray(values.length * 4)): Uint8ClampedArray {
  const lut = LUTS[name];
  for (let p = 0; p < values.length; p++) {
    const v = values[p];
    const i = Math.max(0, Math.min(255, Math.round((v === v ? v : 0) * 255))) * 3;
    out[p * 4] = lut[i];
    out[p * 4 + 1] = lut[i + 1];
    out[p * 4 + 2] = lut[i + 2];
    out[p * 4 + 3] = 255;
  }
  return out;
}
