/**
 * The run home and the path policy (core/run/), the run store and safe writes (src/train/): where
 * a run goes, that names from a model file can never lead a write elsewhere, that nothing is
 * replaced but a regular file, and that runs are listed, found, resumed and pruned as documented.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { checkOutputPath, isInside, joinPath, normalizePath, PathPolicyError, safeSegment, samePath } from '../../src/core/run/paths';
import { matchRunRef, modelKey, newRunPaths, RUN_FILES, runFolderName, RUN_FOLDER_PATTERN, runsHome, runsToDelete } from '../../src/core/run/runHome';
import { architectureDiff, architectureFingerprint, architectureOf, checkpointMismatch } from '../../src/core/train/architecture';
import { planTraining, type TrainingPlan } from '../../src/core/train/plan';
import { applyRetention, createRun, listRuns, resolveCheckpointRef, RunError } from '../../src/train/runStore';
import { appendLine, checkReplaceable, OutputError, removeStaleTemps, writeFileAtomic } from '../../src/train/safeFs';
import { oneModel, seq } from './helpers';

const made: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'convlens-runs-'));
  made.push(d);
  return d;
};
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

describe('path policy', () => {
  it('turns any name into one safe segment: no separators, no .., no control characters, no reserved device names', () => {
    assert.equal(safeSegment('x/../../../../tmp/escaped'), 'x_._._._._tmp_escaped');
    assert.equal(safeSegment('..'), 'model');
    assert.equal(safeSegment('../..'), 'model');
    assert.equal(safeSegment('.hidden'), 'hidden');
    assert.equal(safeSegment('a\\b'), 'a_b');
    assert.equal(safeSegment('tab\there\nnew\u0000null'), 'tab_here_new_null');
    assert.equal(safeSegment('CON'), '_CON');
    assert.equal(safeSegment('nul.txt'), '_nul.txt');
    assert.equal(safeSegment('mnist cnn (v2)'), 'mnist_cnn_v2_');
    assert.equal(safeSegment('sequential_1'), 'sequential_1');
    assert.equal(safeSegment('ünïcødé'), 'n_c_d_');
    assert.equal(safeSegment('x'.repeat(500)).length, 80);
    assert.equal(safeSegment(''), 'model');
    for (const evil of ['../', '/', 'C:\\Windows', '\\\\server\\share', 'a/./b', '...', 'x..y']) {
      const s = safeSegment(evil);
      assert.ok(!/[\\/]/.test(s) && s !== '..' && s !== '.' && !s.includes('..'), `${evil} → ${s}`);
    }
  });

  it('normalises and compares paths without the file system, on both separator styles', () => {
    assert.equal(normalizePath('/a/b/../c/./d/'), '/a/c/d');
    assert.equal(normalizePath('/a/../../b'), undefined);
    assert.equal(normalizePath('C:\\x\\..\\y'), 'C:/y');
    assert.equal(joinPath('/models', '.convlens/runs', 'mnist'), '/models/.convlens/runs/mnist');
    assert.equal(joinPath('/models', '/abs/runs'), '/abs/runs');
    assert.ok(isInside('/a/b', '/a/b/c'));
    assert.ok(!isInside('/a/b', '/a/bc'), 'a prefix of the name is not inside');
    assert.ok(!isInside('/a/b', '/a/b'));
    assert.ok(isInside('/a/b', '/a/b', true));
    assert.ok(!isInside('/a/b', '/a/b/../c'));
    assert.ok(isInside('C:\\Users\\me', 'c:/users/ME/x'), 'Windows drives compare case-insensitively');
    assert.ok(!isInside('/a', 'relative/b'), 'a relative path is never inside');
    assert.ok(samePath('/a/b/../c', '/a/c'));
  });

  it('checkOutputPath refuses anything outside the allowed folders or files, naming both', () => {
    checkOutputPath('/run/x/best.ckpt', { folders: ['/run/x'] });
    checkOutputPath('/home/me/model.onnx', { folders: ['/run/x'], files: ['/home/me/model.onnx'] });
    assert.throws(() => checkOutputPath('/run/x/../y/best.ckpt', { folders: ['/run/x'] }), (e: unknown) => e instanceof PathPolicyError && /refusing to write the output \/run\/x\/\.\.\/y\/best\.ckpt: ConvLens only writes inside \/run\/x/.test((e as Error).message));
    assert.throws(() => checkOutputPath('/tmp/escaped.onnx', { folders: ['/run/x'], files: ['/home/me/model.onnx'] }), /only writes inside \/run\/x or at \/home\/me\/model\.onnx/);
    assert.throws(() => checkOutputPath('rel/x', { folders: ['/run/x'] }), /not absolute/);
  });
});

describe('run home', () => {
  it('puts runs in .convlens/runs/<file stem>[.<model name>]/<UTC time>-<id>/ next to the model file, or a configured folder', () => {
    assert.equal(modelKey('/w/mnist_cnn.py', 'sequential'), 'mnist_cnn');
    assert.equal(modelKey('/w/mnist_cnn.py', 'classifier'), 'mnist_cnn.classifier');
    assert.equal(modelKey('/w/5.1-introduction-to-convnets.ipynb', 'sequential'), '5.1-introduction-to-convnets');
    assert.deepEqual(runsHome({ modelFile: '/w/nb/mnist_cnn.py', modelName: 'sequential' }), { root: '/w/nb/.convlens/runs', modelDir: '/w/nb/.convlens/runs/mnist_cnn' });
    assert.equal(runsHome({ modelFile: '/w/nb/m.py', modelName: 'sequential', runsFolder: '../runs' }).root, '/w/runs');
    assert.equal(runsHome({ modelFile: '/w/nb/m.py', modelName: 'sequential', runsFolder: '/data/runs' }).modelDir, '/data/runs/m');
    assert.equal(runFolderName(new Date('2026-12-01T10:22:03.456Z'), '3f9a1c'), '2026-12-01T102203.456Z-3f9a1c');
    assert.ok(RUN_FOLDER_PATTERN.test('2026-12-01T102203Z-3f9a1c'));
    const p = newRunPaths({ modelFile: '/w/m.py', modelName: 'sequential' }, new Date('2026-12-01T10:22:03Z'), 'abc123');
    assert.equal(p.dir, '/w/.convlens/runs/m/2026-12-01T102203.000Z-abc123');
    assert.deepEqual(Object.keys(p.files).sort(), Object.keys(RUN_FILES).sort());
    assert.equal(p.files.best, `${p.dir}/best.ckpt`);
  });

  it("a model named 'x/../../../../tmp/escaped' still writes inside the model's runs folder", () => {
    const p = newRunPaths({ modelFile: '/w/m.py', modelName: 'x/../../../../tmp/escaped' }, new Date(), 'abc123');
    assert.ok(isInside('/w/.convlens/runs', p.dir), p.dir);
    assert.equal(path.basename(path.dirname(p.dir)), 'm.x_._._._._tmp_escaped');
    for (const f of Object.values(p.files)) assert.ok(isInside(p.dir, f), f);
  });

  it('retention keeps the newest N and never a protected or running run; run references resolve by name, id, prefix or "last"', () => {
    const runs = ['2026-01-01T000000Z-aaaaaa', '2026-01-02T000000Z-bbbbbb', '2026-01-03T000000Z-cccccc', '2026-01-04T000000Z-dddddd'].map((id) => ({ id, status: 'completed' as const }));
    assert.deepEqual(runsToDelete(runs, 2), ['2026-01-02T000000Z-bbbbbb', '2026-01-01T000000Z-aaaaaa']);
    assert.deepEqual(runsToDelete(runs, 0), []);
    assert.deepEqual(runsToDelete([...runs.slice(0, 3), { id: '2026-01-00T000000Z-running', status: 'running' }], 1, new Set(['2026-01-01T000000Z-aaaaaa'])), ['2026-01-02T000000Z-bbbbbb']);
    const ids = runs.map((r) => r.id);
    assert.deepEqual(matchRunRef('bbbbbb', ids), { id: ids[1] });
    assert.deepEqual(matchRunRef('last', ids), { id: ids[3] });
    assert.deepEqual(matchRunRef('2026-01-03', ids), { id: ids[2] });
    assert.match((matchRunRef('2026-01', ids) as { error: string }).error, /matches 4 runs/);
    assert.match((matchRunRef('zzz', ids) as { error: string }).error, /no run called 'zzz'/);
    assert.match((matchRunRef('x', []) as { error: string }).error, /no runs yet/);
  });
});

async function plans(): Promise<{ a: TrainingPlan; b: TrainingPlan; c: TrainingPlan; reformatted: TrainingPlan }> {
  const planOf = async (text: string) => {
    const { model } = await oneModel(text);
    const r = planTraining(model, text, { epochs: 1 });
    assert.deepEqual(r.problems, []);
    return r.plan!;
  };
  const a = await planOf(seq('(28, 28, 1)', 'Conv2D(8, 3, activation="relu")', 'Flatten()', 'Dense(10, activation="softmax")'));
  const b = await planOf(seq('(28, 28, 1)', 'Conv2D(8, 5, activation="tanh")', 'Flatten()', 'Dense(10, activation="softmax")'));
  const c = await planOf(seq('(28, 28, 1)', 'Conv2D(8, 3, activation="relu")', 'Flatten()', 'Dense(32, activation="relu")', 'Dense(10, activation="softmax")'));
  const reformatted = await planOf(
    ['from tensorflow.keras import layers, models', '', 'K = 3', 'model = models.Sequential([', '    layers.InputLayer(shape=(28, 28, 1)),', '    layers.Conv2D(8, (K, K), activation="relu"),', '    layers.Flatten(),', '    layers.Dense(10, activation="softmax"),', '])', ''].join('\n'),
  );
  return { a, b, c, reformatted };
}

describe('architecture fingerprint', () => {
  it('is the same for the same model however the file writes it, and different for any change', async () => {
    const { a, b, c, reformatted } = await plans();
    const fp = (p: TrainingPlan) => architectureFingerprint(architectureOf(p));
    assert.match(fp(a), /^arch1-[0-9a-f]{16}$/);
    assert.equal(fp(a), fp(reformatted));
    assert.notEqual(fp(a), fp(b));
    assert.notEqual(fp(a), fp(c));
  });

  it('names what differs, layer by layer', async () => {
    const { a, b, c } = await plans();
    const d = architectureDiff(architectureOf(a), architectureOf(b));
    assert.ok(d.includes("layer 'conv2d' outputs (None, 26, 26, 8) in the checkpoint, (None, 24, 24, 8) in the file"), d.join('\n'));
    assert.ok(d.includes("layer 'conv2d' has weights kernel 3×3×1×8, bias 8 in the checkpoint, kernel 5×5×1×8, bias 8 in the file"), d.join('\n'));
    assert.ok(d.includes(`layer 'conv2d': activation="relu" in the checkpoint, activation="tanh" in the file`), d.join('\n'));
    const e = architectureDiff(architectureOf(a), architectureOf(c));
    assert.ok(e.includes("layer 'dense_1' (Dense) is in the file but not in the checkpoint"), e.join('\n'));
    assert.ok(e.some((l) => /layer 'dense' has weights kernel 5408×10, bias 10 in the checkpoint, kernel 5408×32, bias 32 in the file/.test(l)), e.join('\n'));
  });

  it('of a graph model records its connections: rewiring a skip connection is another architecture', async () => {
    const text = (skip: string) =>
      [
        'import keras',
        'from keras import layers',
        'inputs = keras.Input(shape=(8,))',
        'a = layers.Dense(8, activation="relu")(inputs)',
        'b = layers.Dense(8, activation="relu")(a)',
        `c = layers.Add()([b, ${skip}])`,
        'outputs = layers.Dense(3, activation="softmax")(c)',
        'model = keras.Model(inputs, outputs)',
        '',
      ].join('\n');
    const planOf = async (t: string) => {
      const { model } = await oneModel(t);
      const r = planTraining(model, t, { epochs: 1 });
      assert.deepEqual(r.problems, []);
      return r.plan!;
    };
    const x = architectureOf(await planOf(text('a')));
    const y = architectureOf(await planOf(text('inputs')));
    assert.notEqual(architectureFingerprint(x), architectureFingerprint(y));
    assert.deepEqual(architectureDiff(x, y), ["layer 'add' reads dense_1, dense in the checkpoint, dense_1, input in the file"]);
  });

  it('checkpointMismatch: another architecture, a missing weight, or a tensor the model does not have', async () => {
    const { a, b } = await plans();
    const arch = architectureOf(b);
    const tensors = new Map<string, { shape: number[]; kind: string }>(a.layers.flatMap((l) => l.weights.map((w) => [w.name, { shape: w.shape, kind: 'weight' }] as [string, { shape: number[]; kind: string }])));
    assert.equal(checkpointMismatch(a, { fingerprint: architectureFingerprint(architectureOf(a)), architecture: architectureOf(a), model: 'sequential' }, tensors), undefined);
    assert.match(checkpointMismatch(a, { fingerprint: architectureFingerprint(arch), architecture: arch, model: 'sequential' }, tensors)!, /another architecture of 'sequential' than the file builds now:\n {2}- layer 'conv2d' outputs/);
    const missing = new Map(tensors);
    missing.delete('dense/bias');
    assert.match(checkpointMismatch(a, { fingerprint: 'v1', model: 'sequential' }, missing)!, /it has no 'dense\/bias'/);
    const extra = new Map([...tensors, ['conv2d/kernel.velocitx', { shape: [3, 3, 1, 8], kind: 'slot' }]]);
    assert.match(checkpointMismatch(a, { fingerprint: 'v1', model: 'sequential' }, extra, new Set(tensors.keys()))!, /holds a tensor the model does not have: 'conv2d\/kernel\.velocitx'/);
  });
});

describe('run store', () => {
  const spec = (dir: string, name = 'sequential', extra: object = {}) => ({
    modelFile: path.join(dir, 'model.py'),
    modelName: name,
    source: 'model = ...\n',
    hostPid: process.pid,
    settings: { convlens: 'test', host: 'cli' as const, fingerprint: 'arch1-0', architecture: {}, data: { source: 'synthetic' }, settings: { epochs: 1 } },
    ...extra,
  });

  it('creates a run folder with run.json and the model source as trained, a .gitignore, and never reuses a folder', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'model.py'), 'model = ...\n');
    const a = createRun(spec(dir));
    const b = createRun(spec(dir));
    assert.notEqual(a.dir, b.dir);
    assert.equal(readFileSync(path.join(dir, '.convlens', 'runs', '.gitignore'), 'utf8').split('\n')[1], '*');
    assert.deepEqual(readdirSync(a.dir).sort(), ['model.py', 'run.json']);
    const s = JSON.parse(readFileSync(a.files.settings, 'utf8'));
    assert.equal(s.format, 'convlens-run');
    assert.equal(s.modelFile, path.join(dir, 'model.py'));
    assert.equal(readFileSync(a.files.source, 'utf8'), 'model = ...\n');
    assert.throws(() => writeFileAtomic(a.files.settings, Uint8Array.of(1), { noReplace: true }), /already exists/);
  });

  it("a model name with separators stays inside the runs folder; a link in the runs folder cannot lead writes out of it", () => {
    const dir = tmp();
    const r = createRun(spec(dir, 'x/../../../../tmp/escaped'));
    assert.ok(r.dir.startsWith(path.join(dir, '.convlens', 'runs') + path.sep), r.dir);
    const outside = tmp();
    mkdirSync(path.join(dir, '.convlens', 'runs'), { recursive: true });
    symlinkSync(outside, path.join(dir, '.convlens', 'runs', 'model.evil'));
    assert.throws(() => createRun(spec(dir, 'evil')), (e: unknown) => e instanceof OutputError && /is a symbolic link|outside/.test((e as Error).message));
    assert.deepEqual(readdirSync(outside), []);
  });

  it('lists runs with their status; finds a run by id, folder or "last"; retention deletes only run folders', () => {
    const dir = tmp();
    const runs = [createRun(spec(dir)), createRun(spec(dir)), createRun(spec(dir))];
    writeFileSync(runs[0].files.result, JSON.stringify({ reason: 'completed', epochs: 1, seconds: 1, best: { epoch: 1, monitor: 'val_loss', value: 0.5 }, test: { loss: 0.4, accuracy: 0.9, count: 10, epoch: 1 } }));
    writeFileSync(runs[1].files.last, 'x');
    const listed = listRuns(path.join(dir, 'model.py'));
    assert.equal(listed.length, 3);
    assert.deepEqual(
      listed.map((r) => ('status' in r ? r.status : r.problem)),
      ['completed', 'running', 'running'],
      'this process owns the unfinished ones',
    );
    const id1 = runs[1].id.slice(runs[1].id.lastIndexOf('-') + 1);
    assert.deepEqual(resolveCheckpointRef(id1, { modelFile: path.join(dir, 'model.py'), modelName: 'sequential', prefer: 'last' }), { checkpoint: runs[1].files.last, run: runs[1].dir });
    assert.deepEqual(resolveCheckpointRef(runs[1].dir, { modelFile: path.join(dir, 'model.py'), modelName: 'sequential', prefer: 'best' }).checkpoint, runs[1].files.last);
    assert.throws(() => resolveCheckpointRef('last', { modelFile: path.join(dir, 'model.py'), modelName: 'sequential', prefer: 'last' }), (e: unknown) => e instanceof RunError && /has no checkpoint/.test((e as Error).message));
    assert.throws(() => resolveCheckpointRef('nope.ckpt', { modelFile: path.join(dir, 'model.py'), modelName: 'sequential', prefer: 'last' }), /nope\.ckpt: no such checkpoint file or run folder/);
    // A folder that is not a run is never deleted by retention.
    const stranger = path.join(path.dirname(runs[0].dir), '2020-01-01T000000Z-notarun');
    mkdirSync(stranger);
    writeFileSync(path.join(path.dirname(runs[0].dir), 'notes.txt'), 'mine');
    const removed = applyRetention(path.join(dir, 'model.py'), 'sequential', 1, new Set([runs[2].id]));
    assert.deepEqual(removed, [runs[0].dir], 'the running ones are kept too');
    assert.ok(existsSync(stranger) && existsSync(path.join(path.dirname(runs[0].dir), 'notes.txt')));
  });
});

describe('safe writes', () => {
  it('refuses to replace anything but a regular file: a link, a folder, a device, a pipe', () => {
    const dir = tmp();
    const target = path.join(dir, 'target.txt');
    writeFileSync(target, 'precious');
    symlinkSync(target, path.join(dir, 'link.onnx'));
    assert.throws(() => writeFileAtomic(path.join(dir, 'link.onnx'), Uint8Array.of(1)), /it is a symbolic link, and ConvLens only ever replaces regular files/);
    assert.equal(readFileSync(target, 'utf8'), 'precious');
    mkdirSync(path.join(dir, 'folder.onnx'));
    assert.throws(() => writeFileAtomic(path.join(dir, 'folder.onnx'), Uint8Array.of(1)), /it is a folder/);
    assert.throws(() => checkReplaceable('/dev/null'), /it is a device/);
    if (spawnSync('mkfifo', [path.join(dir, 'pipe.onnx')]).status === 0) assert.throws(() => writeFileAtomic(path.join(dir, 'pipe.onnx'), Uint8Array.of(1)), /a named pipe/);
    assert.throws(() => appendLine(path.join(dir, 'link.onnx'), 'x'), /symbolic link/);
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
  });

  it('a policy keeps writes inside the run folder even through a link in it', () => {
    const run = tmp();
    const outside = tmp();
    symlinkSync(outside, path.join(run, 'sub'));
    assert.throws(() => writeFileAtomic(path.join(run, 'sub', 'best.ckpt'), Uint8Array.of(1), { policy: { folders: [run] } }), /its folder is really .*, outside/);
    assert.throws(() => writeFileAtomic(path.join(run, '..', 'x.ckpt'), Uint8Array.of(1), { policy: { folders: [run] } }), /ConvLens only writes inside/);
    writeFileAtomic(path.join(run, 'best.ckpt'), Uint8Array.of(1), { policy: { folders: [run] } });
    assert.deepEqual(readdirSync(outside), []);
  });

  it("removes temporary files of processes that no longer run, and no one else's", () => {
    const dir = tmp();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(path.join(dir, `.best.ckpt.${dead}-abc123.tmp`), 'partial');
    writeFileSync(path.join(dir, `.best.ckpt.${dead}.lz3k2.tmp`), 'partial (the 0.1 naming)');
    writeFileSync(path.join(dir, `.best.ckpt.${process.pid}-zzz.tmp`), 'mine, in progress');
    writeFileSync(path.join(dir, 'notes.tmp'), 'not ours');
    assert.deepEqual(removeStaleTemps(dir).sort(), [`.best.ckpt.${dead}-abc123.tmp`, `.best.ckpt.${dead}.lz3k2.tmp`]);
    assert.deepEqual(readdirSync(dir).sort(), [`.best.ckpt.${process.pid}-zzz.tmp`, 'notes.tmp']);
  });
});
