/**
 * The real MNIST, when the shared data folder is there (../shared/datasets/mnist beside the
 * repository; a fresh machine has none, and these tests are then skipped). Checked against its
 * README: sha256 of each decompressed file, counts, label histograms; and timed.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { labelHistogram, loadDataset, readDataFile, validationSplit, type Dataset } from '../../src/train/datasets/index';

const repoRoot = path.join(__dirname, '..', '..');
const MNIST = path.join(repoRoot, '..', 'shared', 'datasets', 'mnist');
const present = existsSync(path.join(MNIST, 'train-images-idx3-ubyte.gz'));
const skip = present ? false : `real MNIST not found at ${MNIST} (a machine without ../shared/datasets): skipped`;

/** From ../shared/datasets/README.md. */
const SHA256: Record<string, string> = {
  'train-images-idx3-ubyte.gz': 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
  'train-labels-idx1-ubyte.gz': '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5',
  't10k-images-idx3-ubyte.gz': '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7',
  't10k-labels-idx1-ubyte.gz': 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2',
};
const TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
const TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

if (!present) console.log(skip);

describe('real MNIST (../shared/datasets/mnist)', { skip }, () => {

  it('decompresses each file to the sha256 of its README', async () => {
    for (const [file, sha] of Object.entries(SHA256)) {
      const bytes = await readDataFile(path.join(MNIST, file));
      assert.equal(createHash('sha256').update(bytes).digest('hex'), sha, file);
    }
  });

  let ds: Dataset;
  it('loads through mnist.load_data() resolution, decoding 60,000 + 10,000 images quickly (time reported)', async (t) => {
    // One warm-up-free, cold measurement: what a user waits for.
    const t0 = performance.now();
    ds = await loadDataset({ kind: 'keras', name: 'mnist', folder: MNIST, kerasHome: path.join(MNIST, 'no-keras-home') });
    const ms = performance.now() - t0;
    t.diagnostic(`MNIST: 60,000 + 10,000 images read, gunzipped and converted to float32 in ${ms.toFixed(0)} ms`);
    console.log(`MNIST: 60,000 + 10,000 images read, gunzipped and converted to float32 in ${ms.toFixed(0)} ms`);
    assert.ok(ms < 5000, `${ms} ms`);
    assert.equal(ds.name, `MNIST (${MNIST})`);
    assert.deepEqual(ds.shape, [28, 28, 1]);
    assert.equal(ds.numClasses, 10);
    assert.equal(ds.normalization, '÷255');
  });

  it('has the counts and label histograms of the README; the first label is 5', () => {
    assert.equal(ds.train.count, 60000);
    assert.equal(ds.test?.count, 10000);
    assert.equal(ds.train.x.length, 60000 * 784);
    assert.equal(ds.test!.x.length, 10000 * 784);
    assert.deepEqual(labelHistogram(ds.train.y, 10), TRAIN_COUNTS);
    assert.deepEqual(labelHistogram(ds.test!.y, 10), TEST_COUNTS);
    assert.equal(ds.train.y[0], 5);
    assert.equal(ds.test!.y[0], 7);
  });

  it('has pixels in [0, 1] after ÷255, reaching both ends', () => {
    for (const x of [ds.train.x, ds.test!.x]) {
      let min = Infinity;
      let max = -Infinity;
      for (let i = 0; i < x.length; i++) {
        const v = x[i];
        if (v < min) min = v;
        if (v > max) max = v;
      }
      assert.equal(min, 0);
      assert.equal(max, 1);
    }
    // The first training image (a 5): its ink sum is fixed by the data.
    let ink = 0;
    for (let p = 0; p < 784; p++) ink += ds.train.x[p] * 255;
    assert.equal(Math.round(ink), 27525);
  });

  it("splits 54,000 / 6,000 with validation_split=0.1, as Keras does", () => {
    const { train, validation } = validationSplit(ds.train, 0.1);
    assert.equal(train.count, 54000);
    assert.equal(validation.count, 6000);
  });
});
