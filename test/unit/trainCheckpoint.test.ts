/** The checkpoint format, atomic writes, and the trainer protocol's validation. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { checkParams, isMessage } from '../../src/core/protocol/messages';
import { TrainingDone, TrainingEpoch, TrainingProgress, TrainingStart } from '../../src/core/protocol/training';
import { CheckpointError, crc32, decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../../src/core/train/checkpoint';
import { defaultOptimizer } from '../../src/core/train/optimizers';
import { CheckpointFileError, readCheckpointFile, writeCheckpointFile, writeFileAtomic } from '../../src/train/checkpointFile';

function sample(): Checkpoint {
  return {
    header: {
      model: 'sequential',
      fingerprint: 'conv2d/kernel:3x3x1x2,conv2d/bias:2',
      epoch: 3,
      step: 120,
      monitor: 'val_loss',
      best: 0.25,
      metrics: { loss: 0.3, accuracy: 0.9, val_loss: 0.25, val_accuracy: 0.92 },
      optimizer: defaultOptimizer('rmsprop'),
      seed: 1,
      created: '2026-01-01T00:00:00.000Z',
    },
    tensors: new Map([
      ['conv2d/kernel', { kind: 'weight' as const, shape: [3, 3, 1, 2], data: Float32Array.from({ length: 18 }, (_, i) => i / 7 - 1) }],
      ['conv2d/bias', { kind: 'weight' as const, shape: [2], data: Float32Array.of(0.5, -0.25) }],
      ['conv2d/kernel.velocity', { kind: 'slot' as const, shape: [3, 3, 1, 2], data: new Float32Array(18).fill(1e-3) }],
    ]),
  };
}

const tmp = () => mkdtempSync(path.join(tmpdir(), 'convlens-ckpt-'));

describe('checkpoint format', () => {
  it('round-trips the header and every tensor exactly; tensors are 8-byte aligned after the JSON header', () => {
    const bytes = encodeCheckpoint(sample());
    assert.equal(String.fromCharCode(...bytes.subarray(0, 8)), 'CLCKPT\r\n');
    const back = decodeCheckpoint(bytes);
    assert.equal(back.header.version, 1);
    assert.equal(back.header.epoch, 3);
    assert.deepEqual(back.header.optimizer, defaultOptimizer('rmsprop'));
    for (const [name, t] of sample().tensors) {
      assert.deepEqual(back.tensors.get(name)!.shape, t.shape);
      assert.deepEqual(Array.from(back.tensors.get(name)!.data), Array.from(t.data));
      assert.equal(back.tensors.get(name)!.kind, t.kind);
    }
    const headerLength = new DataView(bytes.buffer).getUint32(12, true);
    const dataStart = Math.ceil((16 + headerLength) / 8) * 8;
    for (const t of back.header.tensors) assert.equal((dataStart + t.offset) % 8, 0);
  });

  it('names the byte where a truncated file ends, at every cut', () => {
    const bytes = encodeCheckpoint(sample());
    for (const cut of [0, 7, 15, 16, 40, bytes.length - 100, bytes.length - 1]) {
      assert.throws(
        () => decodeCheckpoint(bytes.subarray(0, cut)),
        (e: unknown) => e instanceof CheckpointError && e.byteOffset === cut && /truncated/.test(e.message) && e.message.includes(`byte ${cut}`),
        `cut at ${cut}`,
      );
    }
    assert.throws(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 1)), /inside tensor 'conv2d\/kernel\.velocity' \(bytes \d+–\d+\)/);
  });

  it('finds a flipped byte in a tensor by its CRC-32 and names the tensor and its bytes', () => {
    const bytes = encodeCheckpoint(sample());
    const back = decodeCheckpoint(bytes);
    const headerLength = new DataView(bytes.buffer).getUint32(12, true);
    const start = Math.ceil((16 + headerLength) / 8) * 8 + back.header.tensors[1].offset;
    const bad = bytes.slice();
    bad[start + 3] ^= 0x40;
    assert.throws(
      () => decodeCheckpoint(bad),
      (e: unknown) => e instanceof CheckpointError && e.byteOffset === start && e.message === `tensor 'conv2d/bias' (bytes ${start}–${start + 7}) is corrupt: its CRC-32 does not match`,
    );
  });

  it('rejects other files, newer versions and a damaged header, saying where', () => {
    const bytes = encodeCheckpoint(sample());
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...bytes.subarray(8)]);
    assert.throws(() => decodeCheckpoint(png), /not a ConvLens checkpoint: byte 0 is 0x89/);
    const v2 = bytes.slice();
    v2[8] = 2;
    assert.throws(() => decodeCheckpoint(v2), (e: unknown) => e instanceof CheckpointError && e.byteOffset === 8 && /version 2 \(bytes 8–11\) is not supported/.test(e.message));
    const json = bytes.slice();
    json[16] = 0x20;
    json[17] = 0x5d;
    assert.throws(() => decodeCheckpoint(json), /the header at bytes 16–\d+ is not valid JSON/);
  });

  it('CRC-32 matches the standard check value', () => {
    assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  });
});

describe('checkpoint files', () => {
  it('writes atomically: the target is replaced whole, no temporary file is left behind', () => {
    const dir = tmp();
    const file = path.join(dir, 'best.ckpt');
    writeCheckpointFile(file, sample());
    const first = readFileSync(file);
    const next = sample();
    next.header.epoch = 4;
    writeCheckpointFile(file, next);
    assert.equal(readCheckpointFile(file).header.epoch, 4);
    assert.notDeepEqual(readFileSync(file), first);
    assert.deepEqual(readdirSync(dir), ['best.ckpt']);
  });

  it('leaves the existing file untouched when a write fails', () => {
    const dir = tmp();
    const file = path.join(dir, 'keep.bin');
    writeFileSync(file, 'precious');
    assert.throws(() => writeFileAtomic(path.join(dir, 'missing', 'x.bin'), Uint8Array.of(1)));
    assert.equal(readFileSync(file, 'utf8'), 'precious');
    assert.deepEqual(readdirSync(dir), ['keep.bin']);
  });

  it('reports a truncated file with its name and byte offset', () => {
    const dir = tmp();
    const file = path.join(dir, 'cut.ckpt');
    const bytes = encodeCheckpoint(sample());
    writeFileSync(file, bytes.subarray(0, 200));
    assert.throws(
      () => readCheckpointFile(file),
      (e: unknown) => e instanceof CheckpointFileError && e.byteOffset === 200 && e.message.startsWith(`${file}: byte 200: file is truncated`),
    );
    assert.throws(() => readCheckpointFile(path.join(dir, 'nope.ckpt')), /nope\.ckpt: no such file/);
    assert.ok(!existsSync(path.join(dir, 'nope.ckpt')));
  });
});

describe('trainer protocol', () => {
  const progress = { epoch: 1, epochs: 2, batch: 3, batches: 10, loss: 0.5, accuracy: 0.8, samplesPerSecond: 1000, etaSeconds: 2, epochSeconds: 1 };

  it('builds messages and recognises them by method and parameters', () => {
    const m = TrainingProgress.create(progress);
    assert.deepEqual(m, { method: 'training/progress', params: progress });
    assert.ok(TrainingProgress.is(m));
    assert.ok(!TrainingEpoch.is(m));
    assert.ok(isMessage(JSON.parse(JSON.stringify(m))));
    assert.ok(TrainingProgress.is(JSON.parse(JSON.stringify(m))), 'survives JSON (the IPC channel)');
  });

  it('rejects malformed parameters, saying which field', () => {
    assert.ok(!TrainingProgress.is({ method: 'training/progress', params: { ...progress, loss: 'NaN' } }));
    assert.equal(TrainingProgress.problem({ method: 'training/progress', params: { ...progress, loss: 'x' } }), 'loss must be a number');
    assert.ok(!TrainingProgress.is({ method: 'training/progress' }));
    assert.ok(!TrainingProgress.is(null));
    assert.ok(!TrainingDone.is({ method: 'training/done', params: { reason: 'exploded', epochs: 1, seconds: 1 } }));
    assert.ok(TrainingDone.is({ method: 'training/done', params: { reason: 'cancelled', epochs: 1, seconds: 1 } }));
    assert.equal(TrainingStart.problem({ method: 'training/start', params: { plan: {}, data: 'synthetic' } }), 'seed must be a number');
    assert.equal(checkParams({ a: null }, { a: 'number?' }), undefined);
    assert.equal(checkParams([], {}), 'params must be an object');
  });
});
