/**
 * Bounded memory on hostile dataset inputs (issue 10's findings): each is generated here, loaded
 * in a fresh process, and must end in a clean DataError naming the file, quickly, with a peak
 * RSS above the process's start of at most twice the data its header claims (plus the
 * compressed input itself and a fixed allowance for the runtime).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { makeBombs, measure } from './bombs';

const dir = mkdtempSync(path.join(tmpdir(), 'convlens-bombs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const MB = 2 ** 20;

describe('dataset bombs', () => {
  const bombs = makeBombs(dir);
  const expected: Record<string, RegExp> = {
    '1.5 MB .gz IDX': /train-images-idx3-ubyte\.gz: decompresses to more than the 78,416 bytes its IDX header implies/,
    'four 1 MB': /train-images-idx3-ubyte\.gz: decompresses to more than the 47,040,016 bytes its IDX header implies/,
    '.gz IDX header claiming': /train-images-idx3-ubyte\.gz: its data would take 3,367,254,359,296 bytes once decompressed \(as its IDX header implies \(4,294,967,295 × 28 × 28 bytes after a 16-byte header\)\), more than the [\d,]+ bytes ConvLens loads on this machine/,
    'CIFAR .tar.gz': /cifar-10-binary\.tar\.gz: decompresses to more than the 10,240 bytes its gzip trailer states/,
    'PNG of 1×50,000,000': /png\.png: PNG of 50,000,000×1 pixels \(at byte 16\): expected 1 to 16,384 pixels a side/,
    'JPEG claiming 7000': /jpeg\.jpg: JPEG of 7,000×7,000 pixels \(at byte \d+\): expected 1 to 16,384 pixels a side and at most 16,777,216 pixels \(4096×4096\); it was not decoded/,
    'JPEG claiming 4000': /jpeg4000\.jpg: a [\d,]+-byte JPEG cannot hold 4,000×4,000 pixels \(at least 31,250 bytes are needed\): it is truncated, or built to exhaust memory; it was not decoded/,
    'PNG claiming 4096×16': /rows\.png: cannot decode the PNG \(the image data inflates to more than the 65,552 bytes its header implies\)/,
  };
  for (const b of bombs) {
    it(`${b.name}: a clean error, bounded memory and time`, () => {
      const m = measure(dir, b);
      const rise = m.peak - m.base;
      const limit = 2 * b.claim + b.bytes + 48 * MB;
      console.log(`  ${b.name}: ${m.error ? `${m.error.name}` : `loaded ${m.ok}`} in ${m.ms} ms, peak RSS +${(rise / MB).toFixed(1)} MB (claim ${(b.claim / MB).toFixed(2)} MB, file ${(b.bytes / MB).toFixed(2)} MB)`);
      assert.ok(m.error, `expected an error, it loaded: ${m.ok}`);
      assert.equal(m.error.name, 'DataError', m.error.message);
      const key = Object.keys(expected).find((k) => b.name.includes(k));
      assert.ok(key, b.name);
      assert.match(m.error.message, expected[key]);
      assert.ok(rise <= limit, `peak RSS rose ${(rise / MB).toFixed(1)} MB, more than ${(limit / MB).toFixed(1)} MB`);
      assert.ok(m.ms < 20_000, `${m.ms} ms`);
    });
  }
});
