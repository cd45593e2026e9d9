/**
 * A built-in dataset of procedurally drawn digits, so that a model trains with no download:
 * 28×28×1 grayscale like MNIST (the digit in a ~20-pixel box near the centre, white on black).
 * Each digit is a few pen strokes (lines, elliptic arcs, Bézier curves; 2–3 handwriting
 * variants per digit), jittered per sample: stroke parameters, a smooth elastic warp, a random
 * affine map (scale, aspect, rotation, shear, offset), pen thickness and intensity, and slight
 * pixel noise. Everything is deterministic given the seed, and sample i does not depend on how
 * many samples are drawn. No Node imports: the webview draws sample inputs with `drawDigit`.
 */
import { bytesToFloat, gaussian, hashSeed, mulberry32, type Rng } from './common';
import { type Dataset, type ImageSet } from './types';

export const SYNTHETIC_SIDE = 28;
export const SYNTHETIC_DEFAULTS = { train: 12_000, test: 2_000, seed: 1 } as const;
const N_PIX = SYNTHETIC_SIDE * SYNTHETIC_SIDE;

/** A stroke: a polyline as [x0, y0, x1, y1, …], in a unit box (x right, y down). */
type Stroke = number[];

/** Draws (x, y) points into a stroke. */
class Pen {
  strokes: Stroke[] = [];
  private cur: Stroke | undefined;

  constructor(private readonly j: (v: number, s?: number) => number) {}

  /** Starts a new stroke. */
  up(): this {
    this.cur = undefined;
    return this;
  }

  private add(x: number, y: number): void {
    if (this.cur === undefined) {
      this.cur = [];
      this.strokes.push(this.cur);
    }
    this.cur.push(x, y);
  }

  /** A polyline through the points (jittered). */
  line(...pts: [number, number][]): this {
    for (const [x, y] of pts) this.add(this.j(x), this.j(y));
    return this;
  }

  /** An elliptic arc, angles in degrees (0 = right, 90 = down), from a0 to a1. */
  arc(cx: number, cy: number, rx: number, ry: number, a0: number, a1: number): this {
    cx = this.j(cx, 0.02);
    cy = this.j(cy, 0.02);
    rx = this.j(rx, 0.025);
    ry = this.j(ry, 0.025);
    a0 = this.j(a0, 8);
    a1 = this.j(a1, 8);
    const steps = Math.max(4, Math.ceil(Math.abs(a1 - a0) / 10));
    for (let i = 0; i <= steps; i++) {
      const a = ((a0 + ((a1 - a0) * i) / steps) * Math.PI) / 180;
      this.add(cx + rx * Math.cos(a), cy + ry * Math.sin(a));
    }
    return this;
  }

  /** A quadratic Bézier from the stroke's last point (or p0) through control c to p1. */
  curve(p0: [number, number] | undefined, c: [number, number], p1: [number, number]): this {
    let x0: number;
    let y0: number;
    if (p0 === undefined && this.cur !== undefined) {
      x0 = this.cur[this.cur.length - 2];
      y0 = this.cur[this.cur.length - 1];
    } else {
      [x0, y0] = p0 ?? [0.5, 0.5];
      x0 = this.j(x0);
      y0 = this.j(y0);
      this.add(x0, y0);
    }
    const cx = this.j(c[0], 0.04);
    const cy = this.j(c[1], 0.04);
    const x1 = this.j(p1[0]);
    const y1 = this.j(p1[1]);
    const steps = 8;
    for (let i = 1; i <= steps; i++) {
      const t = i / steps;
      const u = 1 - t;
      this.add(u * u * x0 + 2 * u * t * cx + t * t * x1, u * u * y0 + 2 * u * t * cy + t * t * y1);
    }
    return this;
  }
}

/** The handwriting variants of each digit. */
const DIGITS: ((p: Pen, r: Rng) => void)[] = [
  // 0: an ellipse, its ends overlapping a little
  (p, r) => {
    const start = -100 + 30 * r();
    p.arc(0.5, 0.5, 0.26, 0.4, start, start + 360 + 10 * r());
  },
  // 1: a stem; sometimes a flag; sometimes a base
  (p, r) => {
    const v = r();
    if (v < 0.5) p.line([0.52, 0.1], [0.48, 0.9]);
    else p.line([0.34, 0.27], [0.54, 0.1], [0.5, 0.9]);
    if (v > 0.8) p.up().line([0.33, 0.9], [0.67, 0.9]);
  },
  // 2: a hook, a diagonal (straight or curved), a base
  (p, r) => {
    p.arc(0.5, 0.32, 0.26, 0.22, 195, 380);
    if (r() < 0.5) p.line([0.22, 0.88]);
    else p.curve(undefined, [0.45, 0.65], [0.2, 0.88]);
    p.line([0.82, 0.88]);
  },
  // 3: two bowls; or a flat top and one bowl
  (p, r) => {
    if (r() < 0.65) {
      p.arc(0.48, 0.3, 0.24, 0.19, 200, 450);
      p.arc(0.48, 0.69, 0.27, 0.21, 270, 520);
    } else {
      p.line([0.26, 0.12], [0.73, 0.12], [0.46, 0.42]);
      p.arc(0.48, 0.66, 0.27, 0.24, 250, 520);
    }
  },
  // 4: closed (a triangle) or open top
  (p, r) => {
    if (r() < 0.5) {
      p.line([0.62, 0.1], [0.18, 0.64], [0.84, 0.64]);
      p.up().line([0.62, 0.12], [0.62, 0.92]);
    } else {
      p.line([0.3, 0.1], [0.24, 0.58], [0.84, 0.58]);
      p.up().line([0.66, 0.28], [0.66, 0.92]);
    }
  },
  // 5: a flag, a short stem, a bowl
  (p) => {
    p.line([0.75, 0.12], [0.34, 0.12], [0.31, 0.45]);
    p.arc(0.49, 0.65, 0.26, 0.24, 235, 510);
  },
  // 6: a curved stem into a bottom loop
  (p) => {
    p.curve([0.7, 0.1], [0.28, 0.3], [0.26, 0.68]);
    p.arc(0.5, 0.68, 0.24, 0.21, 180, 540);
  },
  // 7: a bar and a diagonal (straight or curved); sometimes crossed
  (p, r) => {
    if (r() < 0.6) p.line([0.2, 0.12], [0.8, 0.12], [0.42, 0.9]);
    else p.line([0.2, 0.12], [0.8, 0.12]).curve(undefined, [0.55, 0.45], [0.48, 0.9]);
    if (r() < 0.25) p.up().line([0.4, 0.52], [0.72, 0.5]);
  },
  // 8: two loops
  (p) => {
    p.arc(0.5, 0.29, 0.2, 0.18, 90, 450);
    p.up().arc(0.5, 0.7, 0.25, 0.21, -90, 270);
  },
  // 9: a top loop and a stem (straight or curved)
  (p, r) => {
    p.arc(0.5, 0.32, 0.24, 0.2, 0, 360);
    if (r() < 0.6) p.up().line([0.74, 0.32], [0.7, 0.9]);
    else p.up().curve([0.74, 0.34], [0.74, 0.75], [0.45, 0.9]);
  },
];

export interface DrawDigitOptions {
  /** 'random' (the default): jittered like the dataset's samples; 'clean': the plain template. */
  style?: 'random' | 'clean';
}

/** Renders strokes (in pixel coordinates) with radius `r` and peak intensity into `img`. */
function render(strokes: Stroke[], r: number, peak: number, img: Float32Array): void {
  const S = SYNTHETIC_SIDE;
  const reach2 = (r + 0.5) * (r + 0.5);
  const core2 = r > 0.5 ? (r - 0.5) * (r - 0.5) : 0;
  for (const s of strokes) {
    const last = Math.max(0, s.length - 4); // a 1-point stroke is drawn as a dot
    for (let k = 0; k <= last; k += 2) {
      const ax = s[k];
      const ay = s[k + 1];
      const bx = s.length >= 4 ? s[k + 2] : ax;
      const by = s.length >= 4 ? s[k + 3] : ay;
      const dx = bx - ax;
      const dy = by - ay;
      const len2 = dx * dx + dy * dy;
      const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - r - 1));
      const x1 = Math.min(S - 1, Math.ceil(Math.max(ax, bx) + r + 1));
      const y0 = Math.max(0, Math.floor(Math.min(ay, by) - r - 1));
      const y1 = Math.min(S - 1, Math.ceil(Math.max(ay, by) + r + 1));
      for (let py = y0; py <= y1; py++) {
        const cy = py + 0.5;
        for (let px = x0; px <= x1; px++) {
          const cx = px + 0.5;
          let t = len2 > 0 ? ((cx - ax) * dx + (cy - ay) * dy) / len2 : 0;
          t = t < 0 ? 0 : t > 1 ? 1 : t;
          const ex = cx - (ax + t * dx);
          const ey = cy - (ay + t * dy);
          const d2 = ex * ex + ey * ey;
          if (d2 < reach2) {
            const val = d2 <= core2 ? peak : (r + 0.5 - Math.sqrt(d2)) * peak;
            const i = py * S + px;
            if (val > img[i]) img[i] = val;
          }
        }
      }
    }
  }
}

const scratch = new Float32Array(N_PIX);

/** 1,024 normal(0, 1) samples (fixed), for cheap per-pixel noise. */
const NORMAL_TABLE = (() => {
  const r = mulberry32(0x6e6f6973);
  return Float32Array.from({ length: 1024 }, () => gaussian(r));
})();

/**
 * Draws one 28×28 digit (0–9) as grayscale bytes (0 background, 255 ink), deterministic given
 * `seed`. Into `out` at `offset` when given.
 */
export function drawDigit(digit: number, seed = 0, options: DrawDigitOptions = {}, out?: Uint8Array, offset = 0): Uint8Array {
  if (!(Number.isInteger(digit) && digit >= 0 && digit <= 9)) throw new RangeError(`digit must be 0–9, got ${digit}`);
  const clean = options.style === 'clean';
  const rng = mulberry32(hashSeed(seed, digit, 0x5eed));
  const jit = clean ? (v: number) => v : (v: number, s = 0.022) => v + gaussian(rng) * s;
  const pen = new Pen(jit);
  DIGITS[digit](pen, clean ? () => 0 : rng);

  // Smooth elastic warp, then an affine map, both about the centre of the unit box.
  const amp = clean ? 0 : 0.012 + 0.02 * rng();
  const fx = 2 + 3 * rng();
  const fy = 2 + 3 * rng();
  const px = 6.283 * rng();
  const py = 6.283 * rng();
  const sy = clean ? 1 : 0.82 + 0.22 * rng();
  const sx = clean ? 1 : sy * (0.8 + 0.35 * rng());
  const rot = clean ? 0 : ((rng() - 0.5) * 26 * Math.PI) / 180;
  const shear = clean ? 0 : (rng() - 0.5) * 0.4;
  const cos = Math.cos(rot);
  const sin = Math.sin(rot);
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (const s of pen.strokes) {
    for (let k = 0; k < s.length; k += 2) {
      let x = s[k] - 0.5;
      let y = s[k + 1] - 0.5;
      x += amp * Math.sin(fy * y * 6.283 + px);
      y += amp * Math.sin(fx * x * 6.283 + py);
      x = (x + shear * y) * sx;
      y = y * sy;
      const X = cos * x - sin * y;
      const Y = sin * x + cos * y;
      s[k] = X;
      s[k + 1] = Y;
      if (X < minX) minX = X;
      if (X > maxX) maxX = X;
      if (Y < minY) minY = Y;
      if (Y > maxY) maxY = Y;
    }
  }
  // Fit the digit's height to ~20 px (MNIST's box), never wider than 22 px, centred ± 1.5 px.
  const radius = clean ? 1.2 : 0.75 + 0.85 * rng();
  const scale = Math.min(20 / Math.max(maxY - minY, 1e-6), 22 / Math.max(maxX - minX, 1e-6));
  const offX = SYNTHETIC_SIDE / 2 + (clean ? 0 : (rng() - 0.5) * 3) - ((minX + maxX) / 2) * scale;
  const offY = SYNTHETIC_SIDE / 2 + (clean ? 0 : (rng() - 0.5) * 3) - ((minY + maxY) / 2) * scale;
  for (const s of pen.strokes) {
    for (let k = 0; k < s.length; k += 2) {
      s[k] = s[k] * scale + offX;
      s[k + 1] = s[k + 1] * scale + offY;
    }
  }
  const img = scratch;
  img.fill(0);
  render(pen.strokes, radius, clean ? 1 : 0.8 + 0.2 * rng(), img);

  // Slight noise: normal(0, σ ≤ 0.04) per pixel, from a table driven by a fast LCG.
  const noise = clean ? 0 : 0.04 * rng();
  let state = (rng() * 4294967296) >>> 0;
  const dst = out ?? new Uint8Array(N_PIX);
  for (let i = 0; i < N_PIX; i++) {
    let v = img[i];
    if (noise > 0) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      v += NORMAL_TABLE[state >>> 22] * noise;
    }
    dst[offset + i] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
  }
  return dst;
}

/** drawDigit, as float32 pixels ÷255 (a model input of shape [28, 28, 1]). */
export function drawDigitFloat(digit: number, seed = 0, options: DrawDigitOptions = {}): Float32Array {
  return bytesToFloat(drawDigit(digit, seed, options), 'div255');
}

export interface SyntheticOptions {
  /** Training samples (default 12,000). */
  train?: number;
  /** Test samples (default 2,000). */
  test?: number;
  seed?: number;
}

/** The label and drawing seed of sample `i` of a split (0 train, 1 test). */
function sampleOf(seed: number, split: number, i: number): { label: number; drawSeed: number } {
  const h = hashSeed(seed, split, i);
  return { label: Math.floor(mulberry32(h)() * 10), drawSeed: hashSeed(h, 0xd1617) };
}

function makeSet(count: number, seed: number, split: number): ImageSet {
  const bytes = new Uint8Array(count * N_PIX);
  const y = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const { label, drawSeed } = sampleOf(seed, split, i);
    y[i] = label;
    drawDigit(label, drawSeed, {}, bytes, i * N_PIX);
  }
  return { x: bytesToFloat(bytes, 'div255'), y, count };
}

/** The synthetic digits dataset: [28, 28, 1], 10 classes, pixels ÷255. */
export function syntheticDigits(options: SyntheticOptions = {}): Dataset {
  const train = options.train ?? SYNTHETIC_DEFAULTS.train;
  const test = options.test ?? SYNTHETIC_DEFAULTS.test;
  const seed = options.seed ?? SYNTHETIC_DEFAULTS.seed;
  for (const [k, v] of [
    ['train', train],
    ['test', test],
  ] as const) {
    if (!(Number.isInteger(v) && v >= 0 && v <= 1_000_000)) throw new RangeError(`synthetic ${k} count must be an integer in 0–1,000,000, got ${v}`);
  }
  return {
    name: `synthetic digits (seed ${seed})`,
    shape: [SYNTHETIC_SIDE, SYNTHETIC_SIDE, 1],
    numClasses: 10,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    train: makeSet(train, seed, 0),
    test: test > 0 ? makeSet(test, seed, 1) : undefined,
    normalization: '÷255',
  };
}
