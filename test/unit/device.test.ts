/**
 * Devices: which execution providers ConvLens tries for each request, from backend lists shaped as
 * onnxruntime-node's `listSupportedBackends()` reports them on each platform; the words for a
 * device that cannot be had; where a step's nodes ran, from onnxruntime's profile; and the
 * fall-back to the CPU for real on this machine (the trainer and `convlens bench`).
 *
 * The backend lists: `listSupportedBackends()` in onnxruntime's js/node/src/inference_session_wrap.cc
 * puts `cpu` (bundled) first, then `dml` (bundled, Windows builds), `webgpu` (bundled), `cuda` and
 * `tensorrt` (not bundled: downloaded by the install script for linux/x64), `coreml` (bundled,
 * macOS), as each build was compiled. LINUX_X64 is what onnxruntime-node 1.30 reports on this
 * machine (checked below against the real call); the others are fakes of that shape.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { Message } from '../../src/core/protocol/messages';
import { TrainingEpoch, TrainingLog, TrainingStarted, type TrainingEpochParams, type TrainingStartedParams } from '../../src/core/protocol/training';
import { compileTrainGraph, initialState } from '../../src/core/train/compile';
import {
  describeDeviceFailure,
  describePlacement,
  parseDeviceRequest,
  placementOf,
  planDevice,
  type BackendInfo,
  type Device,
  type DeviceFacts,
} from '../../src/core/train/device';
import { planTraining, type TrainingPlan } from '../../src/core/train/plan';
import { syntheticDigits, type Dataset } from '../../src/train/datasets/index';
import { deviceFacts, deviceSessionOptions, executionProviders, openOnDevice, ortBinaryFolder } from '../../src/train/devices';
import { runTraining } from '../../src/train/trainer';
import { sessionOptions, TrainSession } from '../../src/train/trainSession';
import { fixturePath, oneModel, readFixture } from './helpers';

const b = (name: string, bundled = true): BackendInfo => ({ name, bundled });
const LINUX_X64: BackendInfo[] = [b('cpu'), b('webgpu'), b('cuda', false), b('tensorrt', false)];
const LINUX_ARM64: BackendInfo[] = [b('cpu')];
const WIN_X64: BackendInfo[] = [b('cpu'), b('dml'), b('webgpu'), b('cuda', false), b('tensorrt', false)];
const DARWIN_ARM64: BackendInfo[] = [b('cpu'), b('webgpu'), b('coreml')];
const facts = (backends: BackendInfo[], platform: string, installed: string[] = []): DeviceFacts => ({ backends, installed, platform });

describe('devices: the choice from the backend list', () => {
  it('parses --device values (any case) and nothing else', () => {
    for (const d of ['auto', 'cpu', 'webgpu', 'dml', 'cuda']) assert.equal(parseDeviceRequest(d), d);
    assert.equal(parseDeviceRequest(' CUDA '), 'cuda');
    for (const bad of ['', 'gpu', 'tensorrt', 'coreml', 'cuda:0']) assert.equal(parseDeviceRequest(bad), undefined, bad);
  });

  it('cpu is the CPU alone, wherever it is asked', () => {
    for (const f of [facts(LINUX_X64, 'linux'), facts(WIN_X64, 'win32', ['cuda']), facts(LINUX_ARM64, 'linux')]) {
      const p = planDevice('cpu', f);
      assert.deepEqual([p.tries, p.unavailable], [['cpu'], []]);
    }
  });

  it('linux x64 as shipped (CUDA not installed): auto tries WebGPU then the CPU and says why CUDA and DirectML are not tried', () => {
    const f = facts(LINUX_X64, 'linux');
    const auto = planDevice('auto', f);
    assert.deepEqual(auto.tries, ['webgpu', 'cpu']);
    assert.deepEqual(auto.unavailable.map((u) => u.device), ['cuda', 'dml']);
    assert.match(auto.reason, /^--device auto: trying WebGPU, then the CPU \(not tried: CUDA: onnxruntime-node does not bundle the CUDA execution provider and it is not installed: reinstall with npm_config_onnxruntime_node_install=cuda12 .*; DirectML: DirectML is only in onnxruntime-node's Windows builds \(this is linux\)\)$/);
    assert.deepEqual(planDevice('webgpu', f).tries, ['webgpu', 'cpu']);
    const cuda = planDevice('cuda', f);
    assert.deepEqual(cuda.tries, ['cpu']);
    assert.match(cuda.reason, /^CUDA cannot be used: .*npm_config_onnxruntime_node_install=cuda12.*; training on the CPU instead$/);
    const dml = planDevice('dml', f);
    assert.deepEqual(dml.tries, ['cpu']);
    assert.equal(dml.unavailable[0].why, "DirectML is only in onnxruntime-node's Windows builds (this is linux)");
  });

  it('linux x64 with the cuda12 providers installed: auto and cuda try CUDA first', () => {
    const f = facts(LINUX_X64, 'linux', ['cuda']);
    assert.deepEqual(planDevice('auto', f).tries, ['cuda', 'webgpu', 'cpu']);
    assert.deepEqual(planDevice('cuda', f).tries, ['cuda', 'cpu']);
    assert.match(planDevice('cuda', f).reason, /^trying CUDA \(--device cuda\), the CPU if it cannot be had$/);
  });

  it('windows x64: DirectML and WebGPU bundled, CUDA when installed', () => {
    assert.deepEqual(planDevice('auto', facts(WIN_X64, 'win32')).tries, ['dml', 'webgpu', 'cpu']);
    assert.deepEqual(planDevice('auto', facts(WIN_X64, 'win32', ['cuda'])).tries, ['cuda', 'dml', 'webgpu', 'cpu']);
    assert.deepEqual(planDevice('dml', facts(WIN_X64, 'win32')).tries, ['dml', 'cpu']);
  });

  it('macOS (no CUDA build) and a build with the CPU alone: the requested device is named as missing, auto settles on the CPU', () => {
    const mac = planDevice('cuda', facts(DARWIN_ARM64, 'darwin'));
    assert.deepEqual(mac.tries, ['cpu']);
    assert.match(mac.unavailable[0].why, /^onnxruntime-node has no CUDA backend for darwin/);
    assert.deepEqual(planDevice('auto', facts(DARWIN_ARM64, 'darwin')).tries, ['webgpu', 'cpu']);
    const arm = planDevice('webgpu', facts(LINUX_ARM64, 'linux'));
    assert.deepEqual([arm.tries, arm.unavailable[0].why], [['cpu'], 'this onnxruntime-node build (linux) has no WebGPU backend']);
    const auto = planDevice('auto', facts(LINUX_ARM64, 'linux'));
    assert.deepEqual(auto.tries, ['cpu']);
    assert.match(auto.reason, /^--device auto: no GPU backend can be tried here \(CUDA: .*; DirectML: .*; WebGPU: .*\); training on the CPU$/);
  });

  it("words onnxruntime's failures (the messages it gave on this machine) and keeps what it said", () => {
    const webgpu = describeDeviceFailure(
      'webgpu',
      "/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n",
    );
    assert.equal(webgpu, 'no WebGPU adapter was found (no GPU, or no Vulkan, Metal or Direct3D 12 driver for it) (onnxruntime: Failed to get a WebGPU adapter: No supported adapters)');
    assert.match(describeDeviceFailure('cuda', 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library'), /^the CUDA libraries could not be loaded \(onnxruntime 1\.30 needs CUDA 12 and cuDNN 9 on the library path\) \(onnxruntime: OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library\)$/);
    assert.match(describeDeviceFailure('dml', 'no available backend found. ERR: [dml] backend not found.'), /^this onnxruntime-node build has no DirectML backend/);
    assert.match(describeDeviceFailure('cuda', 'CUDA failure 100: no CUDA-capable device is detected ; GPU=0'), /^no usable CUDA GPU or driver was found/);
    assert.match(describeDeviceFailure('webgpu', 'x'.repeat(1000)), /^WebGPU refused the model \(onnxruntime: x{300}…\)$/);
  });

  it('reads where nodes ran from profile events: per device, the operator types left to the CPU, the copies', () => {
    const node = (name: string, op: string, provider: string) => ({ cat: 'Node', name: `${name}_kernel_time`, args: { op_name: op, provider } });
    const events = [
      { cat: 'Session', name: 'model_run' },
      node('conv', 'Conv', 'WebGpuExecutionProvider'),
      node('conv', 'Conv', 'WebGpuExecutionProvider'), // a second run of the same node counts once
      node('relu', 'Relu', 'WebGpuExecutionProvider'),
      node('mm', 'MatMul', 'WebGpuExecutionProvider'),
      node('s1', 'ScatterND', 'CPUExecutionProvider'),
      node('s2', 'ScatterND', 'CPUExecutionProvider'),
      node('g', 'GatherElements', 'CPUExecutionProvider'),
      node('c1', 'MemcpyToHost', 'WebGpuExecutionProvider'),
      node('c2', 'MemcpyFromHost', 'WebGpuExecutionProvider'),
      { cat: 'Node', name: 'conv_fence_before', args: { op_name: 'Conv' } },
      null,
    ];
    const p = placementOf(events);
    assert.deepEqual(p, { nodes: { webgpu: 3, cpu: 3 }, other: {}, onCpu: { ScatterND: 2, GatherElements: 1 }, copies: 2 });
    assert.equal(
      describePlacement('webgpu', p),
      'WebGPU ran 3 of 6 nodes of the training step; the CPU ran 3 that WebGPU has no kernel for (ScatterND ×2, GatherElements); 2 copies between device and host per step',
    );
    const cpuOnly = placementOf([node('a', 'Conv', 'CPUExecutionProvider'), node('b', 'Relu', 'CPUExecutionProvider')]);
    assert.deepEqual(cpuOnly.onCpu, {}, 'nothing fell back when everything ran on the CPU');
    assert.equal(describePlacement('cpu', cpuOnly), 'all 2 nodes ran on the CPU');
  });
});

describe('devices: this machine', () => {
  let plan: TrainingPlan;
  let digits: Dataset;
  before(async () => {
    const text = readFixture('seeds', '001_mnist_cnn.py');
    const { model } = await oneModel(text);
    plan = planTraining(model, text, { batchSize: 32, epochs: 1 }).plan!;
    digits = syntheticDigits({ train: 200, test: 64, seed: 4 });
  });

  it("deviceFacts is onnxruntime-node's own list, and a backend counts as installed exactly when its provider library is there", () => {
    const f = deviceFacts();
    assert.deepEqual(f.backends, ort.listSupportedBackends().map((x) => ({ name: x.name, bundled: x.bundled })));
    assert.equal(f.backends[0].name, 'cpu');
    const folder = ortBinaryFolder();
    assert.ok(folder && existsSync(folder), `onnxruntime's binaries at ${folder}`);
    for (const x of f.backends.filter((y) => !y.bundled)) {
      const lib = process.platform === 'win32' ? `onnxruntime_providers_${x.name}.dll` : `libonnxruntime_providers_${x.name}.so`;
      assert.equal(f.installed.includes(x.name), existsSync(path.join(folder!, lib)), x.name);
    }
  });

  it('the CPU keeps the session options it always had; other devices list their provider, then the CPU', () => {
    assert.equal(executionProviders('cpu'), undefined);
    assert.equal('executionProviders' in sessionOptions(2), false);
    assert.deepEqual(sessionOptions(2, { device: 'cpu' }), sessionOptions(2));
    assert.deepEqual(executionProviders('cuda'), [{ name: 'cuda', deviceId: 0 }, 'cpu']);
    assert.deepEqual(deviceSessionOptions('dml'), { executionProviders: [{ name: 'dml', deviceId: 0 }, 'cpu'], enableMemPattern: false });
    assert.deepEqual(sessionOptions(1, { device: 'webgpu' }).executionProviders, [{ name: 'webgpu' }, 'cpu']);
  });

  it('openOnDevice: a device that fails is a warning with its reason and the next device; the CPU failing is the error itself', async () => {
    const tried: Device[] = [];
    const open = async (d: Device) => {
      tried.push(d);
      if (d === 'cuda') throw new Error('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library');
      if (d === 'webgpu') throw new Error('Failed to get a WebGPU adapter: No supported adapters');
      return d;
    };
    const r = await openOnDevice(planDevice('auto', facts(LINUX_X64, 'linux', ['cuda'])), open);
    assert.deepEqual([tried, r.device, r.value], [['cuda', 'webgpu', 'cpu'], 'cpu', 'cpu']);
    assert.deepEqual(r.warnings, [
      'CUDA could not be used: the CUDA libraries could not be loaded (onnxruntime 1.30 needs CUDA 12 and cuDNN 9 on the library path) (onnxruntime: OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library); trying WebGPU',
      'WebGPU could not be used: no WebGPU adapter was found (no GPU, or no Vulkan, Metal or Direct3D 12 driver for it) (onnxruntime: Failed to get a WebGPU adapter: No supported adapters); training on the CPU instead',
    ]);
    assert.deepEqual(r.notes, ['--device auto: trying CUDA, then WebGPU, then the CPU (not tried: DirectML: DirectML is only in onnxruntime-node\'s Windows builds (this is linux))', '--device auto picked the CPU']);
    const ok = await openOnDevice(planDevice('webgpu', facts(LINUX_X64, 'linux')), async (d) => d);
    assert.deepEqual([ok.device, ok.warnings, ok.notes], ['webgpu', [], ['trying WebGPU (--device webgpu), the CPU if it cannot be had']]);
    const cpu = await openOnDevice(planDevice('cpu', facts(LINUX_X64, 'linux')), async (d) => d);
    assert.deepEqual([cpu.notes, cpu.warnings], [[], []], 'the CPU asked for says nothing');
    await assert.rejects(openOnDevice(planDevice('cpu', facts(LINUX_X64, 'linux')), async () => { throw new Error('bad model'); }), /^Error: bad model$/);
  });

  it('a CPU session can record its placement too: one profiled step, every node on the CPU, the profile removed', async () => {
    const graph = compileTrainGraph(plan, { seed: 1 });
    const profiles = () => readdirSync(tmpdir()).filter((f) => f.startsWith('convlens-placement-')).length;
    const before = profiles();
    const s = await TrainSession.create(graph, plan.inputShape, initialState(plan, 1), { threads: 1, placement: true });
    try {
      const x = new Float32Array(4 * 28 * 28);
      const y = BigInt64Array.of(1n, 2n, 3n, 4n);
      assert.equal(s.placement, undefined);
      assert.equal(profiles(), before + 1, 'a profile folder while the first step is to come');
      await s.step(x, y, 4, 0.001, 1);
      assert.match(s.placement ?? '', /^all \d+ nodes ran on the CPU$/);
      const n = Number(/\d+/.exec(s.placement!)![0]);
      assert.ok(n > 20, `${n} nodes in a training step of a conv net`);
      const first = s.placement;
      await s.step(x, y, 4, 0.001, 2);
      assert.equal(s.placement, first, 'profiled once');
      assert.equal(profiles(), before, 'the profile folder is removed once read');
    } finally {
      await s.release();
    }
  });

  async function train(device: string | undefined) {
    const messages: Message[] = [];
    const done = await runTraining({ plan, data: 'synthetic', dataset: digits, seed: 7, threads: 1, ...(device ? { device } : {}) }, { emit: (m) => messages.push(m), cancelled: () => false });
    const started = messages.find((m) => TrainingStarted.is(m))?.params as TrainingStartedParams | undefined;
    const epochs = messages.filter((m) => TrainingEpoch.is(m)).map((m) => m.params as TrainingEpochParams);
    const logs = messages.filter((m) => TrainingLog.is(m)).map((m) => (m.params as { message: string }).message);
    return { done, started, epochs, logs };
  }

  it('--device webgpu trains: on WebGPU where an adapter exists (the log says where the nodes ran), else on the CPU with the reason, exactly as --device cpu', async () => {
    const cpu = await train(undefined);
    assert.equal(cpu.done.reason, 'completed', cpu.done.message);
    assert.equal(cpu.started?.device, 'cpu');
    assert.ok(!cpu.started?.notes.some((n) => /device|WebGPU|CUDA/.test(n)), 'the default says nothing about devices');
    const gpu = await train('webgpu');
    assert.equal(gpu.done.reason, 'completed', gpu.done.message);
    assert.ok(gpu.started?.notes.includes('trying WebGPU (--device webgpu), the CPU if it cannot be had'));
    if (gpu.started?.device === 'cpu') {
      // This machine: Dawn finds no adapter it supports (no GPU; Mesa 22's lavapipe lacks a Vulkan feature it requires).
      assert.ok(gpu.started.warnings.some((w) => /^WebGPU could not be used: .*; training on the CPU instead$/.test(w)), gpu.started.warnings.join('\n'));
      assert.deepEqual(gpu.epochs.map((e) => [e.loss, e.accuracy, e.val_loss]), cpu.epochs.map((e) => [e.loss, e.accuracy, e.val_loss]), 'the fall-back is the CPU path itself');
      assert.deepEqual(gpu.done.test, cpu.done.test);
    } else {
      assert.equal(gpu.started?.device, 'webgpu');
      assert.ok(gpu.logs.some((l) => /^on WebGPU: WebGPU ran \d+ of \d+ nodes/.test(l)), gpu.logs.join('\n'));
      assert.ok(Math.abs(gpu.epochs[0].loss - cpu.epochs[0].loss) < 1e-3 * Math.abs(cpu.epochs[0].loss), `${gpu.epochs[0].loss} vs ${cpu.epochs[0].loss}`);
    }
  });

  it('--device cuda without the CUDA providers installed trains on the CPU and says how to install them; an unknown device is a settings error', async () => {
    const installed = deviceFacts().installed.includes('cuda');
    const r = await train('cuda');
    assert.equal(r.done.reason, 'completed', r.done.message);
    if (!installed) {
      assert.equal(r.started?.device, 'cpu');
      assert.ok(r.started?.warnings.some((w) => w.startsWith('CUDA cannot be used: ') && w.includes('npm_config_onnxruntime_node_install=cuda12')), r.started?.warnings.join('\n'));
    }
    const bad = await train('gpu');
    assert.equal(bad.done.reason, 'failed');
    assert.equal(bad.done.errorKind, 'settings');
    assert.equal(bad.done.message, "the device must be auto, cpu, webgpu, dml, cuda; got 'gpu'");
  });
});

describe('the command line: --device', () => {
  const root = path.join(__dirname, '..', '..');
  const cli = path.join(root, 'dist', 'cli.js');
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  before(() => {
    if (!existsSync(cli)) assert.equal(spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')]).status, 0);
  });
  const seed = fixturePath('seeds', '001_mnist_cnn.py');

  it('reports the device in --json ("cpu" by default, placement null) and in the text', () => {
    const j = JSON.parse(run('bench', seed, '--batch', '8', '--threads', '1', '--steps', '1', '--json').out);
    assert.deepEqual([j.device, j.placement], ['cpu', null]);
    const text = run('bench', seed, '--batch', '8', '--threads', '1', '--steps', '1', '--device', 'cpu');
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /, 1 steps on random data, on the CPU\n/);
  });

  it('--device webgpu and cuda: the device used, and a warning naming the one that could not be had', () => {
    const facts = deviceFacts();
    const w = run('bench', seed, '--batch', '8', '--threads', '1', '--steps', '1', '--device', 'webgpu', '--json');
    assert.equal(w.code, 0, w.err);
    const j = JSON.parse(w.out);
    assert.ok(['cpu', 'webgpu'].includes(j.device));
    if (j.device === 'cpu') {
      assert.equal(j.placement, null);
      assert.match(w.err, /\nwarning: WebGPU could not be used: .+; training on the CPU instead\n/);
    } else assert.match(j.placement, /^WebGPU ran \d+ of \d+ nodes/);
    if (!facts.installed.includes('cuda')) {
      const c = run('bench', seed, '--batch', '8', '--threads', '1', '--steps', '1', '--device', 'cuda');
      assert.equal(c.code, 0, c.err);
      assert.match(c.out, /on random data, on the CPU\n/);
      assert.match(c.err, /warning: CUDA cannot be used: onnxruntime-node does not bundle the CUDA execution provider and it is not installed: reinstall with npm_config_onnxruntime_node_install=cuda12/);
    }
  });

  it('convlens train --device cuda without the providers: trains on the CPU, the warning on stderr and in the run log, run.json records the request', () => {
    if (deviceFacts().installed.includes('cuda')) return;
    const dir = mkdtempSync(path.join(tmpdir(), 'convlens-device-'));
    const file = path.join(dir, 'm.py');
    copyFileSync(seed, file);
    const r = run('train', file, '--data', 'synthetic', '--epochs', '1', '--limit', '64', '--batch-size', '16', '--threads', '1', '--device', 'cuda');
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /warning: CUDA cannot be used: .*npm_config_onnxruntime_node_install=cuda12/);
    assert.match(r.out, /, 1 thread\n/, 'the CPU is not named on the settings line');
    const runs = path.join(dir, '.convlens', 'runs', 'm');
    const [one] = readdirSync(runs);
    assert.equal(JSON.parse(readFileSync(path.join(runs, one, 'run.json'), 'utf8')).settings.device, 'cuda');
    assert.match(readFileSync(path.join(runs, one, 'log.txt'), 'utf8'), / warning: CUDA cannot be used: /);
  });

  it('an unknown --device is a usage error (exit 2) listing the devices', () => {
    for (const cmd of ['bench', 'train']) {
      const r = run(cmd, seed, '--device', 'gpu');
      assert.equal(r.code, 2, cmd);
      assert.match(r.err, /^convlens: --device must be auto, cpu, webgpu, dml, cuda, got 'gpu'\n$/m);
    }
  });
});
