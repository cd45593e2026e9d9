/** Rendering helpers of the panel: colormap, normalisation, tiling, and the filters playground. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { colorAt, paint } from '../../src/core/render/colormap';
import { channelPlane, gridLayout, normalize, normalizeSigned, stats, topK } from '../../src/core/render/featureMaps';
import { KERNELS, convolve, outputLength, parseKernel } from '../../src/core/render/playground';

describe('colormap', () => {
  it('viridis runs from dark purple to yellow and gets lighter all the way', () => {
    assert.deepEqual(colorAt('viridis', 0), [0x44, 0x01, 0x54]);
    assert.deepEqual(colorAt('viridis', 1), [0xfd, 0xe7, 0x25]);
    const luma = (c: number[]) => 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    let prev = -1;
    for (let t = 0; t <= 1; t += 1 / 64) {
      const l = luma(colorAt('viridis', t));
      assert.ok(l > prev, `lightness must increase at t=${t}`);
      prev = l;
    }
  });
  it('clamps out-of-range and NaN values, and paints opaque RGBA', () => {
    assert.deepEqual(colorAt('viridis', -3), colorAt('viridis', 0));
    assert.deepEqual(colorAt('viridis', 7), colorAt('viridis', 1));
    const px = paint([0, NaN, 1], 'gray');
    assert.deepEqual([...px], [0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 255]);
  });
  it('the diverging map is near-white at 0.5, blue below, red above', () => {
    assert.ok(colorAt('diverging', 0.5).every((c) => c >= 240));
    const [r0, , b0] = colorAt('diverging', 0);
    const [r1, , b1] = colorAt('diverging', 1);
    assert.ok(b0 > r0 && r1 > b1);
  });
});

describe('feature maps', () => {
  it('extracts a channel of an (H, W, C) tensor', () => {
    const data = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
    assert.deepEqual([...channelPlane(data, 2, 3, 4, 1)], [1, 5, 9, 13, 17, 21]);
  });
  it('normalises per channel; a constant channel is 0, not mid-grey', () => {
    assert.deepEqual([...normalize([2, 4, 6])], [0, 0.5, 1]);
    assert.deepEqual([...normalize([3, 3, 3])], [0, 0, 0]);
    assert.deepEqual(stats([1, NaN, 3]), { min: 1, max: 3, mean: 2 });
    assert.deepEqual([...normalizeSigned([-2, 0, 1])], [0, 0.5, 0.75]);
  });
  it('tiles channels in a near-square grid', () => {
    assert.deepEqual(gridLayout(10, 24, 24), { columns: 4, rows: 3 });
    assert.deepEqual(gridLayout(64, 8, 8), { columns: 8, rows: 8 });
    assert.deepEqual(gridLayout(1, 5, 5), { columns: 1, rows: 1 });
    assert.deepEqual(gridLayout(0, 5, 5), { columns: 0, rows: 0 });
  });
  it('ranks class probabilities', () => {
    assert.deepEqual(topK([0.1, 0.7, 0.2], 2), [[1, 0.7], [2, 0.2]]);
  });
});

describe('filters playground', () => {
  it('has the kernels of the lecture notes', () => {
    assert.deepEqual(KERNELS.map((k) => k.name).slice(0, 5), ['Identity', 'Edge detection', 'Sharpen', 'Box blur', 'Gaussian blur']);
    for (const k of KERNELS) assert.equal(k.values.length, k.size * k.size);
  });
  it('reproduces the seeds: the edge kernel gives 0 on a flat patch and 0.8 on a brighter centre', () => {
    const edge = KERNELS[1];
    assert.ok(Math.abs(convolve(Array(9).fill(0.1), 3, 3, edge, 1, 'valid').data[0]) < 1e-6);
    const bright = [0.1, 0.1, 0.1, 0.1, 0.2, 0.1, 0.1, 0.1, 0.1];
    assert.ok(Math.abs(convolve(bright, 3, 3, edge, 1, 'valid').data[0] - 0.8) < 1e-6);
    const sharpen = KERNELS[2];
    assert.ok(Math.abs(convolve(bright, 3, 3, sharpen, 1, 'valid').data[0] - 0.6) < 1e-6);
  });
  it('reproduces the seed 000 example: a 5×5 image and 3×3 kernel give a 3×3 output with 4 in the corner', () => {
    const image = [1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0];
    const kernel = { name: 'x', size: 3, values: [1, 0, 1, 0, 1, 0, 1, 0, 1], note: '' };
    const r = convolve(image, 5, 5, kernel, 1, 'valid');
    assert.deepEqual([r.h, r.w], [3, 3]);
    assert.deepEqual([...r.data], [4, 3, 4, 2, 4, 3, 2, 3, 4]);
  });
  it('writes the output-size formula with the numbers', () => {
    assert.equal(outputLength(28, 3, 2, 1).formula, '⌊(n + 2p − f)/s⌋ + 1 = ⌊(28 + 2·1 − 3)/2⌋ + 1 = 14');
    assert.equal(outputLength(7, 3, 2, 1).out, 4);
    assert.equal(outputLength(39, 3, 1, 'valid').out, 37);
    assert.equal(outputLength(37, 5, 2, 'valid').out, 17);
    assert.equal(outputLength(7, 3, 2, 'same').out, 4);
    assert.match(outputLength(7, 3, 2, 'same').formula, /⌈7\/2⌉ = 4/);
    assert.equal(convolve(Array(16).fill(1), 4, 4, KERNELS[0], 1, 'same').h, 4);
  });
  it('an empty output has size 0', () => {
    const k5 = { name: 'k', size: 5, values: Array(25).fill(1), note: '' };
    const r = convolve(Array(16).fill(1), 4, 4, k5, 1, 'valid');
    assert.deepEqual([r.h, r.w, r.rows.out], [0, 0, 0]);
  });
  it('reads a typed kernel, with fractions, and says what is wrong', () => {
    const k = parseKernel('1/9 1/9 1/9\n1/9 1/9 1/9\n1/9 1/9 1/9');
    assert.ok(!('error' in k));
    assert.ok(Math.abs((k as { values: number[] }).values[0] - 1 / 9) < 1e-12);
    assert.deepEqual(parseKernel('0 -1 0; -1 5 -1; 0 -1 0'), { name: 'Custom', size: 3, values: [0, -1, 0, -1, 5, -1, 0, -1, 0], note: 'Your kernel.' });
    assert.match((parseKernel('1 2; 3') as { error: string }).error, /Row 2 has 1 numbers; row 1 has 2/);
    assert.match((parseKernel('1 x; 3 4') as { error: string }).error, /Row 1: 'x' is not a number/);
    assert.match((parseKernel('1 2 3; 4 5 6') as { error: string }).error, /must be square/);
  });
});
