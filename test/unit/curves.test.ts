/**
 * The runs view's curves: the trainer's running means turned back into the mean of the batches
 * between two reports (exactly, with a smaller last batch), the step / epoch / wall-time axes,
 * TensorBoard's debiased EMA, several runs on one axis, and the CSV export.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alignSeries, curvesCsv, emaSmooth, runCurves, type ProgressRecord } from '../../src/core/run/curves';

/** What the trainer writes: running sums over the epoch, a record every `every` batches and at the last. */
function trainerRecords(losses: number[][], batchSize: number, train: number, every: number): ProgressRecord[] {
  const out: ProgressRecord[] = [];
  losses.forEach((epochLosses, e) => {
    const batches = epochLosses.length;
    let sum = 0;
    let seen = 0;
    epochLosses.forEach((loss, b) => {
      const count = b === batches - 1 ? train - (batches - 1) * batchSize : batchSize;
      sum += loss * count;
      seen += count;
      if ((b + 1) % every === 0 || b === batches - 1) out.push({ epoch: e + 1, batch: b + 1, batches, loss: sum / seen, accuracy: 1 - sum / seen, epochSeconds: (b + 1) * 0.5 });
    });
  });
  return out;
}

describe('training curves', () => {
  it('turns running means back into per-batch means: no drop at the epoch boundary', () => {
    // 2 epochs of 5 batches of 32 samples, the last one of 12 (140 samples); loss falls steadily.
    const losses = [
      [2.0, 1.8, 1.6, 1.4, 1.2],
      [1.0, 0.9, 0.8, 0.7, 0.6],
    ];
    const records = trainerRecords(losses, 32, 140, 1);
    // The running mean restarts at the boundary: 1.6286 at the end of epoch 1, then 1.0 — a jump
    // down of 0.63 that the per-batch losses (1.2 → 1.0) do not have.
    assert.ok(records[4].loss - records[5].loss > 0.6);
    const c = runCurves(records, [], { batchSize: 32, trainSamples: 140 });
    c.batch.loss.forEach((v, i) => assert.ok(Math.abs(v - losses.flat()[i]) < 1e-12, `batch ${i}: ${v} vs ${losses.flat()[i]}`));
    assert.deepEqual(c.batch.step, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(c.batch.epoch, [0.2, 0.4, 0.6, 0.8, 1, 1.2, 1.4, 1.6, 1.8, 2]);
    // Reports every 2 batches: each point is the mean of the batches since the previous one.
    const sparse = runCurves(trainerRecords(losses, 32, 140, 2), [], { batchSize: 32, trainSamples: 140 });
    // The trainer's samples/s × seconds gives the sample count without being told the batch size.
    const timed = trainerRecords(losses, 32, 140, 1).map((r) => {
      const seen = r.batch === r.batches ? 140 : r.batch * 32;
      return { ...r, epochSeconds: r.batch * 0.37, samplesPerSecond: seen / (r.batch * 0.37) };
    });
    runCurves(timed, []).batch.loss.forEach((v, i) => assert.ok(Math.abs(v - losses.flat()[i]) < 1e-9, `timed batch ${i}: ${v}`));
    assert.deepEqual(sparse.batch.step, [2, 4, 5, 7, 9, 10]);
    const expect = [(2 + 1.8) / 2, (1.6 + 1.4) / 2, 1.2, (1.0 + 0.9) / 2, (0.8 + 0.7) / 2, 0.6];
    sparse.batch.loss.forEach((v, i) => assert.ok(Math.abs(v - expect[i]) < 1e-12, `${v} vs ${expect[i]}`));
  });

  it('puts epochs at their end on every axis, wall time counting finished epochs', () => {
    const records = trainerRecords([[1, 1], [0.5, 0.5]], 10, 20, 1);
    const epochs = [
      { epoch: 1, loss: 1, accuracy: 0.5, val_loss: 0.9, val_accuracy: 0.6, seconds: 3 },
      { epoch: 2, loss: 0.5, accuracy: 0.7, seconds: 4 },
    ];
    const c = runCurves(records, epochs);
    assert.deepEqual(c.batch.wall, [0.5, 1, 3.5, 4]);
    assert.deepEqual(c.epoch, { epoch: [1, 2], step: [2, 4], wall: [3, 7], loss: [1, 0.5], accuracy: [0.5, 0.7], val_loss: [0.9, null], val_accuracy: [0.6, null] });
  });

  it('smooths as TensorBoard does: a debiased EMA, non-finite values kept, weight 0 is no smoothing', () => {
    // w = 0.6: 0.4·1 / (1 − 0.6) = 1; (0.24 + 0.8) / (1 − 0.36) = 1.625; (0.624 + 1.2) / (1 − 0.216) = 2.32653…
    const s = emaSmooth([1, 2, 3], 0.6);
    assert.ok(Math.abs(s[0] - 1) < 1e-12 && Math.abs(s[1] - 1.625) < 1e-12 && Math.abs(s[2] - 1.824 / 0.784) < 1e-12, String(s));
    assert.deepEqual(emaSmooth([3, 1, 2], 0), [3, 1, 2]);
    assert.deepEqual(emaSmooth([2, 2, 2], 0.9), [2, 2, 2]);
    const withNaN = emaSmooth([1, NaN, 1], 0.5);
    assert.ok(Number.isNaN(withNaN[1]) && withNaN[0] === 1 && withNaN[2] === 1);
    // Heavy smoothing of a noisy falling curve stays between its values and lags behind.
    const noisy = Array.from({ length: 200 }, (_, i) => 2 * Math.exp(-i / 50) + 0.3 * Math.sin(i * 1.7));
    const smooth = emaSmooth(noisy, 0.95);
    const rough = (v: number[]) => v.slice(1).reduce((a, x, i) => a + Math.abs(x - v[i]), 0);
    assert.ok(rough(smooth) < rough(noisy) / 10, `${rough(smooth)} vs ${rough(noisy)}`);
  });

  it('aligns several runs on one x axis, null where a run has no point', () => {
    assert.deepEqual(alignSeries([{ x: [1, 2, 4], y: [1, 2, 4] }, { x: [2, 3], y: [20, NaN] }]), {
      x: [1, 2, 3, 4],
      ys: [
        [1, 2, null, 4],
        [null, 20, null, null],
      ],
    });
  });

  it('writes CSV with one row per report and per epoch, names quoted where needed', () => {
    const c = runCurves(trainerRecords([[1, 0.5]], 10, 20, 1), [{ epoch: 1, loss: 0.75, accuracy: 0.25, val_loss: 0.8, val_accuracy: 0.2, seconds: 2 }]);
    const csv = curvesCsv([{ run: 'a,b', curves: c }], 0);
    assert.equal(
      csv,
      'run,kind,epoch,step,wall_seconds,loss,accuracy,loss_smoothed,accuracy_smoothed,val_loss,val_accuracy\n' +
        '"a,b",batch,0.5,1,0.5,1,0,1,0,,\n' +
        '"a,b",batch,1,2,1,0.5,0.5,0.5,0.5,,\n' +
        '"a,b",epoch,1,2,2,0.75,0.25,,,0.8,0.2\n',
    );
  });
});
