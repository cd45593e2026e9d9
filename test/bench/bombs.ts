/**
 * Peak memory of the worst dataset inputs (issue 10): the generated bombs of test/unit/bombs.ts,
 * and for scale, legitimate inputs at the limits. Each loads in a fresh process; the figure is
 * its peak RSS above where it started, against the data the input's header claims.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as jpeg from 'jpeg-js';
import { makeBombs, measure, pngZeros, type Bomb } from '../unit/bombs';

const MB = 2 ** 20;

export async function benchBombs(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'convlens-bench-bombs-'));
  try {
    const rows: Bomb[] = makeBombs(dir);
    // Legitimate inputs at the limits, for comparison.
    writeFileSync(path.join(dir, 'gray4096.png'), pngZeros(4096, 4096));
    rows.push({ name: 'a real 4096×4096 grayscale PNG (the pixel limit)', bytes: pngZeros(4096, 4096).length, claim: 4096 * 4096, load: { image: path.join(dir, 'gray4096.png') } });
    const w = 2048;
    const data = Buffer.alloc(w * w * 4);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    const jpg = Buffer.from(jpeg.encode({ width: w, height: w, data }, 90).data);
    writeFileSync(path.join(dir, 'noise2048.jpg'), jpg);
    rows.push({ name: 'a real 2048×2048 RGB JPEG of noise', bytes: jpg.length, claim: w * w * 3, load: { image: path.join(dir, 'noise2048.jpg') } });
    const mnist = path.join(__dirname, '..', '..', '..', 'shared', 'datasets', 'mnist');
    // MNIST as ConvLens holds it: float32 pixels, 4 bytes for each byte the files claim.
    if (existsSync(mnist)) rows.push({ name: 'real MNIST (4 .gz IDX files), as float32 samples', bytes: 11_594_722, claim: 4 * (47_040_000 + 7_840_000) + 70_000, load: { spec: { kind: 'idx', folder: mnist } } });
    console.log('\nDataset inputs: peak RSS above the process start (fresh process each)');
    console.log('| input | file | claims | result | peak RSS rise | rise / claim |');
    console.log('|---|---|---|---|---|---|');
    for (const b of rows) {
      const m = measure(dir, b);
      const rise = (m.peak - m.base) / MB;
      const result = m.error ? `${m.error.name} in ${m.ms} ms` : `loaded in ${m.ms} ms`;
      console.log(`| ${b.name} | ${(b.bytes / MB).toFixed(2)} MB | ${(b.claim / MB).toFixed(2)} MB | ${result} | ${rise.toFixed(1)} MB | ${b.claim > 0 ? (rise / (b.claim / MB)).toFixed(2) : '–'} |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
