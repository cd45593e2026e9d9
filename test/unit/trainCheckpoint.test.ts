/** The checkpoint format, atomic writes, and the trainer protocol's validation. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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

/** Where the JSON header starts in a version-2 file. */
const HEADER = 24;
const headerLengthOf = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true);
const dataStartOf = (bytes: Uint8Array) => Math.ceil((HEADER + headerLengthOf(bytes)) / 8) * 8;

/** A version-2 file around any header text, with valid checksums (what an attacker could write). */
function craft(header: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const dataStart = Math.ceil((HEADER + json.length) / 8) * 8;
  const out = new Uint8Array(dataStart + data.length);
  out.set(new TextEncoder().encode('CLCKPT\r\n'));
  const v = new DataView(out.buffer);
  v.setUint32(8, 2, true);
  v.setUint32(12, json.length, true);
  out.set(json, HEADER);
  out.set(data, dataStart);
  const both = new Uint8Array(16 + json.length);
  both.set(out.subarray(0, 16));
  both.set(json, 16);
  v.setUint32(16, crc32(both), true);
  v.setUint32(20, crc32(out.subarray(dataStart)), true);
  return out;
}

describe('checkpoint format', () => {
  it('round-trips the header and every tensor exactly; tensors are 8-byte aligned after the JSON header', () => {
    const bytes = encodeCheckpoint(sample());
    assert.equal(String.fromCharCode(...bytes.subarray(0, 8)), 'CLCKPT\r\n');
    const back = decodeCheckpoint(bytes);
    assert.equal(back.header.version, 2);
    assert.equal(back.header.epoch, 3);
    assert.deepEqual(back.header.optimizer, defaultOptimizer('rmsprop'));
    for (const [name, t] of sample().tensors) {
      assert.deepEqual(back.tensors.get(name)!.shape, t.shape);
      assert.deepEqual(Array.from(back.tensors.get(name)!.data), Array.from(t.data));
      assert.equal(back.tensors.get(name)!.kind, t.kind);
    }
    for (const t of back.header.tensors) assert.equal((dataStartOf(bytes) + t.offset) % 8, 0);
  });

  it('writes a best value not reached yet as null and reads it back as infinity (JSON has no Infinity)', () => {
    const c = sample();
    c.header.best = Infinity;
    assert.equal(decodeCheckpoint(encodeCheckpoint(c)).header.best, Infinity);
    c.header.mode = 'max';
    c.header.best = -Infinity;
    assert.equal(decodeCheckpoint(encodeCheckpoint(c)).header.best, -Infinity);
  });

  it('names the byte where a truncated file ends, at every cut', () => {
    const bytes = encodeCheckpoint(sample());
    for (let cut = 0; cut < bytes.length; cut++) {
      assert.throws(
        () => decodeCheckpoint(bytes.subarray(0, cut)),
        (e: unknown) => e instanceof CheckpointError && e.byteOffset === cut && /truncated/.test(e.message) && e.message.includes(`byte ${cut}`),
        `cut at ${cut}`,
      );
    }
    assert.throws(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 1)), /inside tensor 'conv2d\/kernel\.velocity' \(bytes \d+–\d+\)/);
  });

  it('finds a flipped byte in a tensor and names the tensor and its bytes', () => {
    const bytes = encodeCheckpoint(sample());
    const back = decodeCheckpoint(bytes);
    const start = dataStartOf(bytes) + back.header.tensors[1].offset;
    const bad = bytes.slice();
    bad[start + 3] ^= 0x40;
    assert.throws(
      () => decodeCheckpoint(bad),
      (e: unknown) => e instanceof CheckpointError && e.byteOffset === start && e.message === `tensor 'conv2d/bias' (bytes ${start}–${start + 7}) is corrupt: its CRC-32 does not match`,
    );
  });

  it('rejects every single-byte change anywhere in the file (header, padding, data), each as a CheckpointError', () => {
    // The issue found 61 of 277 flips accepted silently and 16 crashing export. Every byte, three ways.
    const bytes = encodeCheckpoint(sample());
    let rejected = 0;
    for (let i = 0; i < bytes.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const bad = bytes.slice();
        bad[i] ^= mask;
        assert.throws(() => decodeCheckpoint(bad), (e: unknown) => e instanceof CheckpointError, `byte ${i} ^ 0x${mask.toString(16)} was accepted`);
        rejected++;
      }
    }
    assert.equal(rejected, bytes.length * 3);
    console.log(`  ${rejected} single-byte changes over all ${bytes.length} bytes: every one rejected`);
  });

  it('rejects crafted headers with valid checksums cleanly, before allocating anything they claim', () => {
    const good = JSON.parse(new TextDecoder().decode(encodeCheckpoint(sample()).subarray(HEADER, HEADER + headerLengthOf(encodeCheckpoint(sample())))));
    const data = encodeCheckpoint(sample()).subarray(dataStartOf(encodeCheckpoint(sample())));
    const t0 = good.tensors[0];
    const cases: [string, unknown, RegExp][] = [
      ['not an object', [1, 2], /not a JSON object/],
      ['no format', { ...good, format: 'x' }, /"format"/],
      ['epoch a string', { ...good, epoch: '3' }, /"epoch" is not a whole number/],
      ['negative step', { ...good, step: -1 }, /"step"/],
      ['best a string', { ...good, best: 'low' }, /"best"/],
      ['optimizer without name', { ...good, optimizer: { learningRate: 1 } }, /"optimizer"/],
      ['metrics a list', { ...good, metrics: [1] }, /"metrics"/],
      ['tensors not a list', { ...good, tensors: {} }, /"tensors"/],
      ['huge shape', { ...good, tensors: [{ ...t0, shape: [2 ** 31, 2 ** 31] }] }, /lies beyond|invalid shape/],
      ['negative dimension', { ...good, tensors: [{ ...t0, shape: [-3, 6] }] }, /invalid shape/],
      ['fractional dimension', { ...good, tensors: [{ ...t0, shape: [1.5, 4] }] }, /invalid shape/],
      ['nine dimensions', { ...good, tensors: [{ ...t0, shape: [1, 1, 1, 1, 1, 1, 1, 1, 1] }] }, /invalid shape/],
      ['offset beyond the data', { ...good, tensors: [{ ...t0, offset: 1024 }] }, /lies beyond/],
      ['unaligned offset', { ...good, tensors: [{ ...t0, offset: 4 }] }, /multiple of 8/],
      ['overlapping tensors', { ...good, tensors: [good.tensors[0], { ...good.tensors[2], offset: 8 }] }, /overlap/],
      ['a name twice', { ...good, tensors: [t0, { ...t0 }] }, /appears twice/],
      ['empty name', { ...good, tensors: [{ ...t0, name: '' }] }, /no valid name/],
      ['bad kind', { ...good, tensors: [{ ...t0, kind: 'bias' }] }, /kind/],
      ['bad CRC field', { ...good, tensors: [{ ...t0, crc32: -5 }] }, /CRC-32/],
      ['dataBytes too small (trailing bytes)', { ...good, dataBytes: 8 }, /goes on to byte/],
      ['dataBytes not a number', { ...good, dataBytes: 'many' }, /"dataBytes"/],
      ['architecture without layers', { ...good, architecture: { model: 'x' } }, /"architecture"/],
      ['partial without sums', { ...good, partial: { seen: 3 } }, /"partial"/],
      ['version mismatch inside', { ...good, version: 7 }, /says version 7/],
    ];
    let n = 0;
    for (const [what, header, why] of cases) {
      const t = performance.now();
      assert.throws(() => decodeCheckpoint(craft(header, data)), (e: unknown) => e instanceof CheckpointError && why.test(e.message), what);
      assert.ok(performance.now() - t < 1000, `${what}: ${performance.now() - t} ms`);
      n++;
    }
    assert.throws(() => decodeCheckpoint(craft('{"format": "convlens-checkpoint"', data)), /not valid JSON/);
    assert.throws(() => decodeCheckpoint(craft('null', data)), /not a JSON object/);
    console.log(`  ${n + 2} crafted headers with valid checksums: every one a clean CheckpointError`);
  });

  it('rejects other files and unknown versions, saying where; still reads version 1 files', () => {
    const bytes = encodeCheckpoint(sample());
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...bytes.subarray(8)]);
    assert.throws(() => decodeCheckpoint(png), /not a ConvLens checkpoint: byte 0 is 0x89/);
    const v3 = bytes.slice();
    v3[8] = 3;
    assert.throws(() => decodeCheckpoint(v3), (e: unknown) => e instanceof CheckpointError && e.byteOffset === 8 && /version 3 \(bytes 8–11\) is not supported/.test(e.message));
    // A version 1 file as ConvLens 0.1 wrote it: header at byte 16, no file checksums, CRC per tensor.
    const c = sample();
    const tensors: { name: string; kind: string; shape: number[]; offset: number; crc32: number }[] = [];
    const blobs: Uint8Array[] = [];
    let offset = 0;
    for (const [name, t] of c.tensors) {
      const b = new Uint8Array(t.data.buffer.slice(0));
      tensors.push({ name, kind: t.kind, shape: t.shape, offset, crc32: crc32(b) });
      blobs.push(b);
      offset = Math.ceil((offset + b.length) / 8) * 8;
    }
    const json = new TextEncoder().encode(JSON.stringify({ format: 'convlens-checkpoint', version: 1, ...c.header, dataBytes: offset, tensors }));
    const start = Math.ceil((16 + json.length) / 8) * 8;
    const v1 = new Uint8Array(start + offset);
    v1.set(new TextEncoder().encode('CLCKPT\r\n'));
    new DataView(v1.buffer).setUint32(8, 1, true);
    new DataView(v1.buffer).setUint32(12, json.length, true);
    v1.set(json, 16);
    tensors.forEach((t, i) => v1.set(blobs[i], start + t.offset));
    const back = decodeCheckpoint(v1);
    assert.equal(back.header.version, 1);
    assert.deepEqual(Array.from(back.tensors.get('conv2d/bias')!.data), [0.5, -0.25]);
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
    assert.throws(() => writeFileAtomic(path.join(dir, 'missing', 'x.bin'), Uint8Array.of(1)), /cannot write the file .*x\.bin: its folder does not exist/);
    assert.equal(readFileSync(file, 'utf8'), 'precious');
    assert.deepEqual(readdirSync(dir), ['keep.bin']);
  });

  it('never reads a pipe, a device or a folder as a checkpoint (no hang, a clear error)', () => {
    assert.throws(() => readCheckpointFile('/dev/zero'), /dev\/zero: is not a regular file/);
    assert.throws(() => readCheckpointFile(tmp()), /is a folder, not a checkpoint file/);
    const dir = tmp();
    const fifo = path.join(dir, 'pipe.ckpt');
    if (spawnSync('mkfifo', [fifo]).status === 0) assert.throws(() => readCheckpointFile(fifo), /is not a regular file/);
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
