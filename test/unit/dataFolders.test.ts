/** `--data FOLDER` with a folder of images per class, resized to the model's input. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { PNG } from 'pngjs';
import { dataSpec, openDataset } from '../../src/train/data';
import { drawDigit } from '../../src/train/datasets/synthetic';

describe('a folder of images per class as training data', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'convlens-images-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  // 3 classes × 10 PNGs of 40×40 RGB (bigger than the model input, so they are resized).
  for (const digit of [1, 4, 7]) {
    mkdirSync(path.join(root, `digit_${digit}`));
    for (let i = 0; i < 10; i++) {
      const small = drawDigit(digit, i);
      const png = new PNG({ width: 40, height: 40 });
      for (let y = 0; y < 40; y++)
        for (let x = 0; x < 40; x++) {
          const v = small[Math.floor((y * 28) / 40) * 28 + Math.floor((x * 28) / 40)];
          png.data.set([v, v, v, 255], (y * 40 + x) * 4);
        }
      writeFileSync(path.join(root, `digit_${digit}`, `${i}.png`), PNG.sync.write(png));
    }
  }

  it('is recognised and sized to the model input, with a fifth held out as the test set', async () => {
    assert.deepEqual(dataSpec(root, undefined, [28, 28, 1]), { kind: 'imageFolder', root, size: [28, 28], channels: 1, interpolation: 'area', testFraction: 0.2 });
    const ds = await openDataset(root, undefined, undefined, [28, 28, 1]);
    assert.deepEqual(ds.classNames, ['digit_1', 'digit_4', 'digit_7']);
    assert.deepEqual(ds.shape, [28, 28, 1]);
    assert.equal(ds.train.count + (ds.test?.count ?? 0), 30);
    assert.equal(ds.test?.count, 6);
    assert.ok(Math.max(...ds.train.x) <= 1 && Math.max(...ds.train.x) > 0.9, 'pixels scaled to [0, 1]');
  });
  it('needs an image-shaped model input, and says so', () => {
    assert.throws(() => dataSpec(root, undefined, [784]), /a folder of images per class needs a model whose input is \(height, width, 1 or 3 channels\), not \(784\)/);
  });
  it('a folder with nothing usable says what it looked for', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'convlens-empty-'));
    try {
      assert.throws(() => dataSpec(empty), /found no MNIST-style IDX files .*, no CIFAR-10 batches, and no subfolders of PNG\/JPEG images/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
