/**
 * A compiled training step in an onnxruntime session, and the weights and optimizer state it
 * carries from step to step. The state stays put: one buffer per weight and slot, fed to every
 * step and given to onnxruntime as that output's pre-allocated destination, so each step's
 * update overwrites the buffer it read (the graph orders every update after the last reader of
 * the old values: `optimizerShared`'s `after`). No new state tensors per step, no state copies
 * kept by the session between steps.
 *
 * onnxruntime-node still copies every fetched output into a new ArrayBuffer when `run` returns;
 * those copies are dropped at once, and on large models (≥ 64 MB of state) the session asks
 * V8 to collect them before the next step, so they never pile up.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../core/onnx/graphBuilder';
import { reorderInput } from '../core/onnx/nchwc';
import { GRAPH_NAMES, type CarriedTensor, type TrainGraph } from '../core/train/compile';
import { describePlacement, placementOf, type Device } from '../core/train/device';
import { deviceSessionOptions } from './devices';

/** How the session runs; every field has a default. */
export interface SessionSettings {
  /** onnxruntime intra-op threads (default: {@link defaultThreads}). */
  threads?: number;
  /**
   * Whether idle intra-op threads spin waiting for work (onnxruntime's default). Spinning cuts
   * the hand-over latency between the many small ops of a step, but when other processes keep
   * the CPUs busy a spinning thread takes time they need and the step waits for whichever of its
   * threads was descheduled. Default: {@link spinningPays}.
   */
  spinning?: boolean;
  /** onnxruntime's CPU memory arena (default: on below {@link LARGE_STATE_BYTES} of state, off above). */
  memoryArena?: boolean;
  /** Write an onnxruntime profile (JSON) with this path prefix. */
  profilePrefix?: string;
  /** Where the session runs (default: the CPU); see src/train/devices.ts. */
  device?: Device;
  /**
   * Record where the first step's nodes ran (onnxruntime's per-node fallback) in
   * {@link TrainSession.placement}: one profiled step, then profiling ends. Default: on for a
   * device other than the CPU.
   */
  placement?: boolean;
}

/** State (weights and slots) above which a model counts as large: no arena, copies collected every step. */
export const LARGE_STATE_BYTES = 64 * 1024 * 1024;

/**
 * Spin only with several threads and CPUs to spare for them: the load average of the last
 * minute (other processes, before this one starts) plus our threads within the CPU count. On
 * the 2-CPU machine of the README, shared with other jobs (load average ~10), the MNIST step at
 * 2 threads took 162 ms spinning and 108 ms without (1 thread: 84 ms). Spinning never changes
 * results, only timing.
 */
export function spinningPays(threads: number, load = os.loadavg()[0], cpus = cpuCount()): boolean {
  return threads > 1 && load + threads <= cpus + 0.5;
}

/** The CPUs this process may use. */
export function cpuCount(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** The default thread count: every CPU the process may use. */
export const defaultThreads = cpuCount;

/**
 * onnxruntime session options for ConvLens' graphs: sequential execution with `threads`
 * intra-op threads, spinning as {@link spinningPays} decides, and denormals flushed to zero
 * (TensorFlow does the same on CPU; a denormal multiply can cost a hundred cycles).
 */
export function sessionOptions(threads: number, settings: Omit<SessionSettings, 'threads'> = {}): ort.InferenceSession.SessionOptions {
  const spinning = settings.spinning ?? spinningPays(threads);
  return {
    ...deviceSessionOptions(settings.device ?? 'cpu'),
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableCpuMemArena: settings.memoryArena ?? true,
    logSeverityLevel: 3,
    ...(settings.profilePrefix ? { enableProfiling: true, profileFilePrefix: settings.profilePrefix } : {}),
    extra: {
      session: {
        'intra_op.allow_spinning': spinning ? '1' : '0',
        set_denormal_as_zero: '1',
      },
    },
  };
}

let nchwcProbe: Promise<number> | undefined;

/**
 * onnxruntime's NCHWc block size on this machine (16 with AVX-512, 8 with AVX2), read from what
 * its ReorderInput kernel does to 4 channels; 0 where the kernels are missing (no AVX2, other
 * architectures) or CONVLENS_NCHWC=0 turns them off. The training and evaluation graphs use
 * the NCHWc kernels where they are faster (`core/onnx/nchwc.ts`).
 */
export function nchwcBlockSize(): Promise<number> {
  if (process.env.CONVLENS_NCHWC === '0') return Promise.resolve(0);
  nchwcProbe ??= (async () => {
    try {
      const g = new GraphBuilder({ name: 'nchwc_probe' });
      g.input('x', [1, 4, 1, 1]);
      g.output(reorderInput(g, 'x'), [1, null, 1, 1]);
      const session = await ort.InferenceSession.create(g.toModelBytes(), { logSeverityLevel: 4 });
      try {
        const out = await session.run({ x: new ort.Tensor('float32', new Float32Array(4), [1, 4, 1, 1]) });
        const block = Object.values(out)[0].dims[1];
        return block >= 4 && block % 4 === 0 ? block : 0;
      } finally {
        await session.release();
      }
    } catch {
      return 0;
    }
  })();
  return nchwcProbe;
}

/** Asks V8 for a full collection; undefined where the runtime refuses. */
function collector(): (() => void) | undefined {
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

/** The result of one step. */
export interface StepResult {
  /** Mean loss over the batch. */
  loss: number;
  /** Correctly classified samples in the batch. */
  correct: number;
}

export class TrainSession {
  /** The live state by carried name (Keras layout); overwritten by every step. */
  readonly state: ReadonlyMap<string, Float32Array>;
  private readonly fetches: Record<string, ort.Tensor | null>;
  private readonly feeds: Record<string, ort.Tensor> = {};
  private readonly collect?: () => void;
  private released = false;
  /** The folder of the one-step placement profile, until it is read. */
  private placementDir?: string;
  /**
   * Where the first step's nodes ran, in words (`WebGPU ran 180 of 200 nodes …; the CPU ran 20
   * that WebGPU has no kernel for (ScatterND ×4, …)`), once a step has run with placement on.
   */
  placement?: string;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly graph: TrainGraph,
    readonly inputShape: readonly number[],
    readonly threads: number,
    initial: ReadonlyMap<string, Float32Array>,
    large: boolean,
    readonly device: Device,
    placementDir: string | undefined,
  ) {
    this.placementDir = placementDir;
    const state = new Map<string, Float32Array>();
    this.fetches = { [GRAPH_NAMES.loss]: null, [GRAPH_NAMES.correct]: null };
    for (const t of graph.carried) {
      const data = initial.get(t.name);
      if (!data) throw new Error(`no initial value for '${t.name}'`);
      if (data.length !== count(t)) throw new Error(`'${t.name}' has ${data.length} values, expected ${count(t)} for shape (${t.shape.join(', ')})`);
      state.set(t.name, data);
      const tensor = new ort.Tensor('float32', data, t.shape);
      this.feeds[t.name] = tensor;
      if (t.updated) this.fetches[t.next] = tensor;
    }
    this.state = state;
    if (large) this.collect = collector();
  }

  /**
   * Creates the session for `graph`, starting from `initial`: the session takes those arrays as
   * its state buffers (no copy: on VGG16 the state is 1.6 GB), so the caller must not keep
   * using them as anything but the session's live state.
   */
  static async create(graph: TrainGraph, inputShape: readonly number[], initial: ReadonlyMap<string, Float32Array>, settings: SessionSettings = {}): Promise<TrainSession> {
    const threads = Math.max(1, Math.floor(settings.threads ?? defaultThreads()));
    const bytes = graph.carried.reduce((a, t) => a + 4 * count(t), 0);
    const large = bytes >= LARGE_STATE_BYTES;
    const device = settings.device ?? 'cpu';
    const placementDir = (settings.placement ?? device !== 'cpu') && !settings.profilePrefix ? mkdtempSync(path.join(os.tmpdir(), 'convlens-placement-')) : undefined;
    const profile = placementDir ? { profilePrefix: path.join(placementDir, 'step') } : {};
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(graph.bytes, sessionOptions(threads, { memoryArena: settings.memoryArena ?? !large, ...settings, ...profile }));
    } catch (e) {
      if (placementDir) rmSync(placementDir, { recursive: true, force: true });
      throw e;
    }
    try {
      return new TrainSession(session, graph, inputShape, threads, initial, large, device, placementDir);
    } catch (e) {
      await session.release();
      if (placementDir) rmSync(placementDir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Replaces part or all of the state (resuming from a checkpoint). */
  load(values: ReadonlyMap<string, Float32Array>): void {
    for (const [name, v] of values) {
      const buf = this.state.get(name);
      if (!buf) throw new Error(`'${name}' is not part of this training state`);
      if (buf.length !== v.length) throw new Error(`'${name}' has ${v.length} values, expected ${buf.length}`);
      buf.set(v);
    }
  }

  /** A copy of the named state tensors (all by default), safe to keep while training goes on. */
  snapshot(names?: Iterable<string>): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const name of names ?? this.state.keys()) out.set(name, Float32Array.from(this.state.get(name)!));
    return out;
  }

  /**
   * One training step on `count` samples: `x` (count × sample values, Keras layout) and int64
   * class indices; `t` is the 1-based step number (Adam's bias correction).
   */
  async step(x: Float32Array, labels: BigInt64Array, count: number, lr: number, t: number): Promise<StepResult> {
    if (this.released) throw new Error('the training session was released');
    const feeds = this.feeds;
    feeds[GRAPH_NAMES.x] = new ort.Tensor('float32', x.length === count * sampleSize(this.inputShape) ? x : x.subarray(0, count * sampleSize(this.inputShape)), [count, ...this.inputShape]);
    feeds[GRAPH_NAMES.labels] = new ort.Tensor('int64', labels.length === count ? labels : labels.subarray(0, count), [count]);
    feeds[GRAPH_NAMES.lr] = new ort.Tensor('float32', Float32Array.of(lr), []);
    if (this.graph.usesStep) feeds[GRAPH_NAMES.step] = new ort.Tensor('float32', Float32Array.of(t), []);
    const result = await this.run();
    // The copies of the state outputs are unreachable once run() has returned.
    this.collect?.();
    if (this.placementDir) await this.readPlacement();
    return result;
  }

  /** Ends the one-step profile and reads where its nodes ran; a profile that cannot be read only costs the note. */
  private async readPlacement(): Promise<void> {
    const dir = this.placementDir!;
    this.placementDir = undefined;
    try {
      await this.session.endProfiling();
      const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
      if (files.length > 0) this.placement = describePlacement(this.device, placementOf(JSON.parse(readFileSync(path.join(dir, files[0]), 'utf8')) as unknown[]));
    } catch {
      /* the placement is a note, never a reason to stop training */
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** One session run; only the two scalars leave it, so the output copies die with its frame. */
  private async run(): Promise<StepResult> {
    const out = await this.session.run(this.feeds, this.fetches);
    return { loss: (out[GRAPH_NAMES.loss].data as Float32Array)[0], correct: (out[GRAPH_NAMES.correct].data as Float32Array)[0] };
  }

  /** Ends onnxruntime profiling (when a profile prefix was given); returns the file it wrote. */
  endProfiling(): string | undefined {
    return (this.session as unknown as { endProfiling(): string | undefined }).endProfiling();
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.placementDir) rmSync(this.placementDir, { recursive: true, force: true });
    await this.session.release();
  }
}

const count = (t: CarriedTensor) => t.shape.reduce((a, b) => a * b, 1);
const sampleSize = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
