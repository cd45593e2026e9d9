/**
 * The filters playground: the classic kernels from the lecture notes applied to a greyscale image
 * with a chosen stride and padding, and the output-size formula written out with its numbers so
 * ⌊(n + 2p − f)/s⌋ + 1 can be checked by eye.
 */

export interface Kernel {
  name: string;
  /** Row-major, size × size. */
  values: number[];
  size: number;
  note: string;
}

const k3 = (name: string, scale: number, rows: number[][], note: string): Kernel => ({ name, size: 3, values: rows.flat().map((v) => v * scale), note });

/** The kernels the seeds show (identity, edge detection, sharpen, box and Gaussian blur) and two directional edges. */
export const KERNELS: readonly Kernel[] = [
  k3('Identity', 1, [[0, 0, 0], [0, 1, 0], [0, 0, 0]], 'Leaves the image unchanged.'),
  k3('Edge detection', 1, [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], 'Zero on flat regions, strong where brightness changes in any direction.'),
  k3('Sharpen', 1, [[0, -1, 0], [-1, 5, -1], [0, -1, 0]], 'Adds the edges back onto the image.'),
  k3('Box blur', 1 / 9, [[1, 1, 1], [1, 1, 1], [1, 1, 1]], 'The mean of the 3×3 neighbourhood (normalised: sums to 1).'),
  k3('Gaussian blur', 1 / 16, [[1, 2, 1], [2, 4, 2], [1, 2, 1]], 'A weighted mean, heavier at the centre (approximation of a Gaussian).'),
  k3('Horizontal edges', 1, [[1, 1, 1], [0, 0, 0], [-1, -1, -1]], 'Responds to brightness changing from top to bottom.'),
  k3('Vertical edges', 1, [[1, 0, -1], [1, 0, -1], [1, 0, -1]], 'Responds to brightness changing from left to right.'),
];

export type PaddingChoice = 'valid' | 'same' | number;

/** Output length along one axis and the formula with numbers, as the lecture notes write it. */
export function outputLength(n: number, f: number, s: number, padding: PaddingChoice): { out: number; p: number; formula: string } {
  if (padding === 'same') {
    // Keras 'same': output ⌈n/s⌉, with the padding split (the odd extra pixel at the bottom/right).
    const out = Math.ceil(n / s);
    const total = Math.max((out - 1) * s + f - n, 0);
    return { out, p: total / 2, formula: `padding='same': ⌈n/s⌉ = ⌈${n}/${s}⌉ = ${out} (total padding ${total}: ${Math.floor(total / 2)} before, ${total - Math.floor(total / 2)} after)` };
  }
  const p = padding === 'valid' ? 0 : padding;
  const out = Math.floor((n + 2 * p - f) / s) + 1;
  return { out, p, formula: `⌊(n + 2p − f)/s⌋ + 1 = ⌊(${n} + 2·${p} − ${f})/${s}⌋ + 1 = ${out}` };
}

/**
 * Cross-correlation (what deep-learning libraries call convolution) of an h×w image with a
 * square kernel. Returns the output plane and its size; an empty output (kernel larger than the
 * padded image) has size 0 and says why.
 */
export function convolve(
  image: ArrayLike<number>,
  h: number,
  w: number,
  kernel: Kernel,
  stride: number,
  padding: PaddingChoice,
): { data: Float32Array; h: number; w: number; rows: ReturnType<typeof outputLength>; cols: ReturnType<typeof outputLength> } {
  const f = kernel.size;
  const s = Math.max(1, Math.floor(stride));
  const rows = outputLength(h, f, s, padding);
  const cols = outputLength(w, f, s, padding);
  const oh = Math.max(0, rows.out);
  const ow = Math.max(0, cols.out);
  const padTop = padding === 'same' ? Math.floor(Math.max((oh - 1) * s + f - h, 0) / 2) : padding === 'valid' ? 0 : padding;
  const padLeft = padding === 'same' ? Math.floor(Math.max((ow - 1) * s + f - w, 0) / 2) : padding === 'valid' ? 0 : padding;
  const data = new Float32Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let acc = 0;
      for (let ky = 0; ky < f; ky++) {
        const iy = y * s + ky - padTop;
        if (iy < 0 || iy >= h) continue;
        for (let kx = 0; kx < f; kx++) {
          const ix = x * s + kx - padLeft;
          if (ix < 0 || ix >= w) continue;
          acc += image[iy * w + ix] * kernel.values[ky * f + kx];
        }
      }
      data[y * ow + x] = acc;
    }
  }
  return { data, h: oh, w: ow, rows, cols };
}

/**
 * Reads a kernel the user typed: rows on lines (or separated by ';'), numbers separated by spaces
 * or commas, fractions allowed ("1/9"). Must be square. Returns the kernel or a message saying
 * which row or entry is wrong.
 */
export function parseKernel(text: string): Kernel | { error: string } {
  const rows = text
    .split(/[\n;]+/)
    .map((r) => r.trim())
    .filter(Boolean);
  if (!rows.length) return { error: 'Type the kernel rows, e.g. "0 -1 0; -1 5 -1; 0 -1 0".' };
  const values: number[] = [];
  let size = 0;
  for (let r = 0; r < rows.length; r++) {
    const cells = rows[r].split(/[\s,]+/).filter(Boolean);
    if (r === 0) size = cells.length;
    if (cells.length !== size) return { error: `Row ${r + 1} has ${cells.length} numbers; row 1 has ${size}. A kernel is square.` };
    for (const c of cells) {
      const m = /^(-?\d*\.?\d+(?:e-?\d+)?)(?:\/(\d*\.?\d+))?$/i.exec(c);
      if (!m) return { error: `Row ${r + 1}: '${c}' is not a number.` };
      const v = Number(m[1]) / (m[2] ? Number(m[2]) : 1);
      if (!Number.isFinite(v)) return { error: `Row ${r + 1}: '${c}' is not a finite number.` };
      values.push(v);
    }
  }
  if (rows.length !== size) return { error: `The kernel has ${rows.length} rows of ${size} numbers; it must be square (${size} rows).` };
  if (size > 15) return { error: `A ${size}×${size} kernel is larger than the playground allows (15×15).` };
  return { name: 'Custom', size, values, note: 'Your kernel.' };
}
