/**
 * Issue 10's findings on the command line, each a regression test: outputs that stay where they
 * belong, files that are never replaced unless they are regular and allowed, a full or read-only
 * disk reported cleanly, corrupt and foreign checkpoints refused with the reason, settings
 * checked against the machine and the data, one exit code per kind of error, a stop that writes
 * the checkpoint and says how to resume, and the run history (list, resume, delete, retention).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { readCheckpointFile } from '../../src/train/checkpointFile';
import { fixturePath } from './helpers';

const root = path.join(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'cli.js');
const seed = fixturePath('seeds', '001_mnist_cnn.py');
const QUICK = ['--data', 'synthetic', '--limit', '300', '--batch-size', '50', '--epochs', '1', '--threads', '1'];

function run(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function workspace(text?: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'convlens-runs-cli-'));
  made.push(dir);
  if (text === undefined) copyFileSync(seed, path.join(dir, 'model.py'));
  else writeFileSync(path.join(dir, 'model.py'), text);
  return dir;
}

const runsOf = (dir: string, key = 'model') => {
  const d = path.join(dir, '.convlens', 'runs', key);
  return existsSync(d) ? readdirSync(d).sort().map((x) => path.join(d, x)) : [];
};

/** Every file under a folder with its bytes, to show nothing changed. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), readFileSync(p).toString('base64'));
    }
  };
  walk(dir);
  return out;
}

/** No stack trace, no comma inside an exponent (`7.9,228,…e+28`). */
function clean(text: string): void {
  assert.doesNotMatch(text, /\n\s+at .+\(.+:\d+:\d+\)/, 'no stack trace');
  assert.doesNotMatch(text, /\d,\d{3}(,\d{3})*e[+-]\d/, 'numbers are formatted correctly');
}

describe('convlens train: paths and files', () => {
  before(() => {
    if (!existsSync(cli)) assert.equal(spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')]).status, 0);
  });

  it('--out and --checkpoint can never be the same file (exit 2, nothing written)', () => {
    const dir = workspace();
    const r = run(dir, 'train', 'model.py', ...QUICK, '--out', 'x.bin', '--checkpoint', './x.bin');
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /--out and --checkpoint are the same file \(x\.bin\): the model would replace the checkpoint/);
    assert.ok(!existsSync(path.join(dir, 'x.bin')));
    assert.deepEqual(runsOf(dir), []);
    const onModel = run(dir, 'train', 'model.py', ...QUICK, '--out', 'model.py', '--force');
    assert.equal(onModel.code, 2);
    assert.match(onModel.err, /--out model\.py is the model file: choose another path/);
  });

  it('--force never replaces a device, a pipe, a link or a folder (exit 6)', () => {
    const dir = workspace();
    let r = run(dir, 'train', 'model.py', ...QUICK, '--out', '/dev/null', '--force');
    assert.equal(r.code, 6, r.err);
    assert.match(r.err, /refusing to replace the model \/dev\/null: it is a device, and ConvLens only ever replaces regular files/);
    if (spawnSync('mkfifo', [path.join(dir, 'pipe.onnx')]).status === 0) {
      r = run(dir, 'train', 'model.py', ...QUICK, '--checkpoint', 'pipe.onnx', '--force');
      assert.equal(r.code, 6);
      assert.match(r.err, /it is a named pipe/);
    }
    assert.deepEqual(runsOf(dir), [], 'refused before anything was created');
    clean(r.err);
  });

  it("a model named 'x/../../../../tmp/escaped-…' trains inside its runs folder and writes nothing outside it", () => {
    const tag = `escaped-${process.pid}-${Date.now()}`;
    const text = readFileSync(seed, 'utf8').replace('model = models.Sequential()', `model = models.Sequential(name='x/../../../../tmp/${tag}')`);
    const dir = workspace(text);
    const before = new Set(readdirSync(tmpdir()));
    const r = run(dir, 'train', 'model.py', ...QUICK);
    assert.equal(r.code, 0, r.err);
    const [runDir] = runsOf(dir, `model.x_._._._._tmp_${tag}`);
    assert.ok(runDir && existsSync(path.join(runDir, 'best.ckpt')), r.out);
    const after = readdirSync(tmpdir()).filter((n) => !before.has(n) && n.includes(tag));
    assert.deepEqual(after, [], 'nothing appeared in /tmp');
    assert.deepEqual(readdirSync(dir).sort(), ['.convlens', 'model.py']);
  });

  it('export to a full disk or a read-only file system: a clean error (exit 6), no stack trace, no temporary file, nothing replaced', (t) => {
    const dir = workspace();
    assert.equal(run(dir, 'train', 'model.py', ...QUICK).code, 0);
    const mnt = path.join(dir, 'mnt');
    mkdirSync(mnt);
    const script = [
      `mount -t tmpfs -o size=64k tmpfs ${mnt}`,
      `echo precious > ${mnt}/keep.onnx`,
      `head -c 60000 /dev/zero > ${mnt}/fill || true`,
      `${process.execPath} ${cli} export model.py --weights last --out ${mnt}/model.onnx; echo "exit=$?"`,
      `ls -a ${mnt}`,
      `cat ${mnt}/keep.onnx`,
      `mount -o remount,ro ${mnt}`,
      `${process.execPath} ${cli} export model.py --weights last --out ${mnt}/keep.onnx --force; echo "exit=$?"`,
      `cat ${mnt}/keep.onnx`,
    ].join('\n');
    const r = spawnSync('unshare', ['-rm', 'sh', '-c', script], { encoding: 'utf8', cwd: dir });
    if (r.status !== 0 && /unshare|Operation not permitted|mount/.test(r.stderr) && !r.stdout.includes('exit=')) {
      t.skip(`no user namespaces here (${r.stderr.trim().split('\n')[0]})`);
      return;
    }
    const out = r.stdout + r.stderr;
    assert.deepEqual(r.stdout.match(/^exit=\d+$/gm), ['exit=6', 'exit=6']);
    assert.match(r.stderr, /^convlens: cannot write the model .*\/mnt\/model\.onnx: the disk is full \(free some space and try again; nothing was replaced\)$/m);
    assert.match(r.stderr, /^convlens: cannot write the model .*\/mnt\/keep\.onnx: the file system is read-only$/m);
    const listing = r.stdout.split('\n').filter((l) => /^\.?[\w.-]+$/.test(l));
    assert.ok(!listing.some((l) => l.endsWith('.tmp')), `temporary files left: ${listing.join(' ')}`);
    assert.equal(r.stdout.match(/^precious$/gm)?.length, 2, 'the existing file is untouched');
    clean(out);
  });
});

describe('convlens train: settings and data', () => {
  it('--threads above the CPU count is reduced with a warning; --threads 1000000000 does not crash', () => {
    const dir = workspace();
    const cpus = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(require("os").availableParallelism()))'], { encoding: 'utf8' }).stdout);
    for (const n of ['999', '1000000000']) {
      const r = run(dir, 'train', 'model.py', ...QUICK.slice(0, -2), '--threads', n);
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, new RegExp(`warning: ${Number(n).toLocaleString('en-US')} threads asked for, but this machine has ${cpus} CPUs?: using ${cpus}`));
      assert.match(r.out, new RegExp(`, ${cpus} threads?\\n`));
    }
    assert.equal(run(dir, 'train', 'model.py', ...QUICK.slice(0, -2), '--threads', '0').code, 2);
  });

  it('--batch-size beyond the training set is refused with the count and a memory estimate is shown (no run folder for a refused run)', () => {
    const dir = workspace();
    const r = run(dir, 'train', 'model.py', '--data', 'synthetic', '--limit', '300', '--batch-size', '1000000000', '--epochs', '1');
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /convlens: batch size 1,000,000,000 is larger than the 250 training samples: use at most 250/);
    assert.deepEqual(runsOf(dir), []);
    const ok = run(dir, 'train', 'model.py', ...QUICK);
    assert.match(ok.out, /batch size 50 \(about [\d.]+ MB per training step\)/);
    assert.equal(run(dir, 'train', 'model.py', ...QUICK, '--epochs', '2000000').code, 2);
    clean(r.err);
  });

  it('--lr 1e6: the exploding (or diverging) loss is named, the numbers print correctly', () => {
    const dir = workspace();
    const r = run(dir, 'train', 'model.py', '--data', 'synthetic', '--limit', '600', '--batch-size', '20', '--epochs', '2', '--threads', '1', '--optimizer', 'sgd', '--lr', '1e6');
    assert.match(r.err, /warning: a learning rate of 1,000,000 is very high/);
    if (r.code === 0) assert.match(r.err, /warning: the loss is exploding: [\d.e+]+ at the first step, [\d.e+]+ at epoch \d, batch \d+\. The learning rate \(1,000,000\) is probably too high/);
    else {
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, /the loss became (NaN|Infinity|-Infinity) at epoch \d, batch \d+: training stopped\. The learning rate \(1,000,000\) may be too high/);
    }
    clean(r.out + r.err);
  });

  it('NaN in the data is reported as such (exit 4), not as a learning-rate problem', () => {
    const dir = workspace();
    const x = new Float32Array(20 * 28 * 28).fill(0.5);
    x[7 * 784 + 300] = NaN;
    const npy = (arr: Float32Array | Uint8Array, descr: string, shape: number[]) => {
      const header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
      const pad = 64 - ((10 + header.length + 1) % 64);
      const h = Buffer.from(`${header}${' '.repeat(pad)}\n`, 'latin1');
      const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length & 255, h.length >> 8]);
      return Buffer.concat([pre, h, Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength)]);
    };
    // A stored (uncompressed) zip: x_train (float32 with a NaN) and y_train.
    const entries = [
      ['x_train.npy', npy(x, '<f4', [20, 28, 28])],
      ['y_train.npy', npy(Uint8Array.from({ length: 20 }, (_, i) => i % 10), '|u1', [20])],
    ] as const;
    const parts: Buffer[] = [];
    const central: Buffer[] = [];
    let offset = 0;
    for (const [name, data] of entries) {
      const crc = zlib.crc32(data);
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt32LE(crc, 14);
      local.writeUInt32LE(data.length, 18);
      local.writeUInt32LE(data.length, 22);
      local.writeUInt16LE(name.length, 26);
      parts.push(local, Buffer.from(name), data);
      const c = Buffer.alloc(46);
      c.writeUInt32LE(0x02014b50, 0);
      c.writeUInt16LE(20, 4);
      c.writeUInt16LE(20, 6);
      c.writeUInt32LE(crc, 16);
      c.writeUInt32LE(data.length, 20);
      c.writeUInt32LE(data.length, 24);
      c.writeUInt16LE(name.length, 28);
      c.writeUInt32LE(offset, 42);
      central.push(c, Buffer.from(name));
      offset += 30 + name.length + data.length;
    }
    const cd = Buffer.concat(central);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(2, 8);
    end.writeUInt16LE(2, 10);
    end.writeUInt32LE(cd.length, 12);
    end.writeUInt32LE(offset, 16);
    writeFileSync(path.join(dir, 'nan.npz'), Buffer.concat([...parts, cd, end]));
    const r = run(dir, 'train', 'model.py', '--data', 'nan.npz', '--batch-size', '5', '--epochs', '1', '--threads', '1');
    assert.equal(r.code, 4, r.err);
    assert.match(r.err, /the training data holds NaN at sample 7 \(value 300 of its 784\); ConvLens cannot train on NaN or infinite inputs/);
    assert.doesNotMatch(r.err, /learning rate/);
  });

  it('every data error exits 4, whichever process finds it', () => {
    const dir = workspace();
    // Found by the command line: no such data.
    assert.equal(run(dir, 'train', 'model.py', '--data', 'nowhere').code, 4);
    // Found by the trainer: an IDX folder whose label count disagrees with its images.
    const idx = path.join(dir, 'idx');
    mkdirSync(idx);
    const header = (magic: number, dims: number[]) => {
      const h = Buffer.alloc(4 + 4 * dims.length);
      h.writeUInt32BE(magic, 0);
      dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
      return h;
    };
    writeFileSync(path.join(idx, 'train-images-idx3-ubyte'), Buffer.concat([header(0x803, [10, 28, 28]), Buffer.alloc(7840)]));
    writeFileSync(path.join(idx, 'train-labels-idx1-ubyte'), Buffer.concat([header(0x801, [9]), Buffer.alloc(9)]));
    const r = run(dir, 'train', 'model.py', '--data', idx, '--epochs', '1');
    assert.equal(r.code, 4, r.err);
    assert.match(r.err, /train-labels-idx1-ubyte holds 9 labels but train-images-idx3-ubyte holds 10 images/);
  });
});

describe('convlens train: checkpoints, stops and the run history', () => {
  it('a damaged checkpoint is refused at the byte (exit 5); one of another architecture names the differences (exit 5); neither touches a run', () => {
    const dir = workspace();
    assert.equal(run(dir, 'train', 'model.py', ...QUICK).code, 0);
    const [runDir] = runsOf(dir);
    const bad = readFileSync(path.join(runDir, 'last.ckpt'));
    bad[bad.length - 9] ^= 0x10;
    writeFileSync(path.join(dir, 'bad.ckpt'), bad);
    const before = snapshot(path.join(dir, '.convlens'));
    let r = run(dir, 'train', 'model.py', ...QUICK, '--resume', 'bad.ckpt');
    assert.equal(r.code, 5, r.err);
    assert.match(r.err, /^convlens: bad\.ckpt: byte \d+: tensor 'dense_1\/bias\.velocity' \(bytes \d+–\d+\) is corrupt: its CRC-32 does not match$/m);
    r = run(dir, 'export', 'model.py', '--weights', 'bad.ckpt', '--out', 'm.onnx');
    assert.equal(r.code, 5);
    writeFileSync(path.join(dir, 'model.py'), readFileSync(seed, 'utf8').replace("layers.Dense(100, activation='relu')", "layers.Dense(64, activation='relu')"));
    r = run(dir, 'train', 'model.py', ...QUICK, '--resume', 'last');
    assert.equal(r.code, 5, r.err);
    assert.match(r.err, /does not belong to 'sequential' in model\.py: it was trained with another architecture of 'sequential' than the file builds now:\n {2}- layer 'dense' outputs \(None, 100\) in the checkpoint, \(None, 64\) in the file/);
    r = run(dir, 'export', 'model.py', '--weights', 'last', '--out', 'm.onnx');
    assert.equal(r.code, 5);
    assert.ok(!existsSync(path.join(dir, 'm.onnx')));
    assert.deepEqual(snapshot(path.join(dir, '.convlens')), before, 'no run was created or changed');
    // The run folder keeps the model as trained: export RUN still works.
    r = run(dir, 'export', runDir, '--out', 'm.onnx');
    assert.equal(r.code, 0, r.err);
    clean(r.err);
  });

  it('SIGTERM stops after the current step, writes last.ckpt, prints how to resume (exit 130); --resume continues it in a new run; runs lists, deletes and keeps', async () => {
    const dir = workspace();
    const child = spawn(process.execPath, [cli, 'train', 'model.py', '--data', 'synthetic', '--limit', '3000', '--batch-size', '50', '--epochs', '200', '--threads', '1'], { cwd: dir });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (/^Epoch 2\/200$/m.test(out)) {
          clearInterval(timer);
          child.kill('SIGTERM');
          resolve();
        }
      }, 20);
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 130, err);
    const [runDir] = runsOf(dir);
    const id = path.basename(runDir).split('-').pop()!;
    assert.match(err, new RegExp(`convlens: training stopped at epoch \\d+, batch \\d+\\. The checkpoint to resume from is \\.convlens/runs/model/[^ ]+/last\\.ckpt\\..* Continue with: convlens train model\\.py --resume ${id}`));
    const last = readCheckpointFile(path.join(runDir, 'last.ckpt'));
    assert.ok(last.header.epoch >= 1 && (last.header.batch ?? 0) > 0, `stopped inside an epoch: ${last.header.epoch}/${last.header.batch}`);
    assert.equal(JSON.parse(readFileSync(path.join(runDir, 'result.json'), 'utf8')).reason, 'cancelled');
    const stopped = snapshot(runDir);

    const r = run(dir, 'train', 'model.py', '--data', 'synthetic', '--limit', '3000', '--batch-size', '50', '--epochs', String(last.header.epoch + 1), '--threads', '1', '--resume', id);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, new RegExp(`note: resumed from .*last\\.ckpt \\(epoch ${last.header.epoch}, batch ${last.header.batch}, val_loss`));
    assert.match(r.out, new RegExp(`^Epoch ${last.header.epoch + 1}/${last.header.epoch + 1}$`, 'm'));
    const runs = runsOf(dir);
    assert.equal(runs.length, 2);
    assert.deepEqual(snapshot(runDir), stopped, 'the stopped run is untouched');
    const settings = JSON.parse(readFileSync(path.join(runs[1], 'run.json'), 'utf8'));
    assert.deepEqual([settings.resumedFrom.run, settings.resumedFrom.epoch, settings.resumedFrom.batch], [runDir, last.header.epoch, last.header.batch]);
    assert.ok(existsSync(path.join(runs[1], 'best.ckpt')), 'the new run starts with the best checkpoint it continues');

    const listed = run(dir, 'runs', 'model.py');
    assert.equal(listed.code, 0);
    assert.match(listed.out, new RegExp(`${path.basename(runDir)} +sequential +cancelled +\\d+/200 +val_loss \\d\\.\\d{4} \\(epoch \\d+\\) +– +synthetic`));
    assert.match(listed.out, /completed/);
    const json = run(dir, 'runs', 'model.py', '--json').out.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(json.map((j) => j.status), ['cancelled', 'completed']);

    assert.equal(run(dir, 'train', 'model.py', ...QUICK, '--keep-runs', '2').code, 0);
    assert.equal(runsOf(dir).length, 2, '--keep-runs 2 deleted the oldest');
    assert.ok(!existsSync(runDir));
    const del = run(dir, 'runs', 'model.py', '--delete', 'last');
    assert.equal(del.code, 0, del.err);
    assert.equal(runsOf(dir).length, 1);
    assert.equal(run(dir, 'runs', 'model.py', '--delete', 'nope').code, 5);
  });

  it('editing the model file while it trains is named at the end: the outputs belong to the architecture as trained', async () => {
    const dir = workspace();
    const child = spawn(process.execPath, [cli, 'train', 'model.py', '--data', 'synthetic', '--limit', '1000', '--batch-size', '50', '--epochs', '3', '--threads', '1'], { cwd: dir });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (/Run folder:/.test(out)) {
          clearInterval(timer);
          writeFileSync(path.join(dir, 'model.py'), readFileSync(seed, 'utf8').replace('layers.Conv2D(20, (5, 5)', 'layers.Conv2D(24, (5, 5)'));
          resolve();
        }
      }, 10);
    });
    assert.equal(await new Promise((resolve) => child.on('exit', resolve)), 0, err);
    assert.match(err, /warning: model\.py changed while it trained: this run's checkpoints and model belong to the architecture as trained \(kept in the run folder as model\.py\), not to the file as it is now:\n {2}- layer 'conv2d_1' outputs \(None, 8, 8, 20\) in the checkpoint, \(None, 8, 8, 24\) in the file/);
    const [runDir] = runsOf(dir);
    assert.equal(readFileSync(path.join(runDir, 'model.py'), 'utf8'), readFileSync(seed, 'utf8'));
    rmSync(dir, { recursive: true, force: true });
  });
});
