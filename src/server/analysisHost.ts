import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { mayBuildModels, type FileAnalysis } from '../core/index';
import { tooComplexProblem, type TooComplexReason } from '../core/parse/frontEnd';
import type { FromWorker, ToWorker, WorkerOptions } from './workerProtocol';

/** One analysed version of a program (a text document, or a notebook's code cells joined). */
export interface AnalysedVersion {
  key: string;
  version: number;
  text: string;
  analysis: FileAnalysis;
  /** Milliseconds from handing the text to the worker to its answer. */
  ms: number;
}

export interface AnalysisHostOptions {
  /** The worker's script (dist/analysisWorker.js). */
  workerScript?: string;
  /** An analysis running longer is stopped (worker terminated) and reported as too complex. */
  timeoutMs: number;
  /** The worker's heap limit. */
  memoryMb: number;
  log(message: string): void;
}


interface Job {
  key: string;
  version: number;
  text: string;
  file?: string;
  /** The program's generation when the job was queued (see `forget`). */
  gen: number;
}

/** A kept result answers a request for `version` of `text` when it is that version of that text, or newer. */
function answers(done: AnalysedVersion | undefined, version: number, text: string): done is AnalysedVersion {
  // The same version with another text is another document under a reused name (VS Code's Untitled-1).
  return done !== undefined && (done.version > version || (done.version === version && done.text === text));
}

const emptyAnalysis = (): FileAnalysis => ({ models: [], problems: [], datasets: [], calls: [] });

interface Waiter {
  version: number;
  resolve(v: AnalysedVersion): void;
}

/**
 * Runs analyses in a worker thread, newest version first, one at a time. The worker has a heap
 * limit and each analysis a deadline; a worker that runs out of either is terminated (its thread
 * only: the server keeps answering), the version is reported as too complex, and a fresh worker
 * takes the next job. Results are cached per program version.
 */
export class AnalysisHost {
  private worker: Worker | undefined;
  private ready = false;
  private running: (Job & { id: number; timer: NodeJS.Timeout; started: number }) | undefined;
  private nextId = 1;
  /** Programs waiting for analysis: their latest text only (older versions are never analysed). */
  private readonly queue = new Map<string, Job>();
  private readonly results = new Map<string, AnalysedVersion>();
  private readonly waiters = new Map<string, Waiter[]>();
  /**
   * Bumped when a program is closed: an analysis of the closed program still running in the worker
   * must not be kept for a new program opened under the same key (versions restart at 1).
   */
  private readonly generations = new Map<string, number>();
  private disposed = false;
  /** Called with every new result. */
  onDidAnalyze: (a: AnalysedVersion) => void = () => {};
  /** Workers started so far (the first included), for the log and tests. */
  starts = 0;

  constructor(private readonly options: AnalysisHostOptions) {}

  /** The newest result of a program, whatever its version. */
  latest(key: string): AnalysedVersion | undefined {
    return this.results.get(key);
  }

  /**
   * The analysis of a program's given version (or a newer one, if the text moved on meanwhile).
   * `file`: where it is on disk, so `from my_blocks import …` reads the module beside it.
   */
  analyse(key: string, version: number, text: string, file?: string): Promise<AnalysedVersion> {
    const done = this.results.get(key);
    if (answers(done, version, text)) return Promise.resolve(done);
    const gen = this.generation(key);
    if (!mayBuildModels(text)) {
      // Not a model file: nothing to parse, nothing to show.
      const empty: AnalysedVersion = { key, version, text, analysis: emptyAnalysis(), ms: 0 };
      this.settle(empty, gen);
      return Promise.resolve(empty);
    }
    const queued = this.queue.get(key);
    if (!queued || queued.version < version || queued.text !== text) this.queue.set(key, { key, version, text, file, gen });
    const p = new Promise<AnalysedVersion>((resolve) => {
      const list = this.waiters.get(key) ?? [];
      list.push({ version, resolve });
      this.waiters.set(key, list);
    });
    this.pump();
    return p;
  }

  /**
   * Drops what is kept for a closed program. Requests still waiting for it get an empty analysis
   * (the document is gone), and an analysis of it that is running now is not kept when it ends.
   */
  forget(key: string): void {
    this.generations.set(key, this.generation(key) + 1);
    this.results.delete(key);
    const queued = this.queue.get(key);
    this.queue.delete(key);
    const list = this.waiters.get(key);
    this.waiters.delete(key);
    for (const w of list ?? []) w.resolve({ key, version: w.version, text: queued?.text ?? '', analysis: emptyAnalysis(), ms: 0 });
    this.post({ type: 'forget', key });
  }

  private generation(key: string): number {
    return this.generations.get(key) ?? 0;
  }

  private post(m: ToWorker): void {
    if (this.worker && this.ready) this.worker.postMessage(m);
  }

  private start(): void {
    if (this.disposed) return;
    this.starts++;
    this.ready = false;
    const script = this.options.workerScript ?? path.join(__dirname, 'analysisWorker.js');
    const workerData: WorkerOptions = { parseBudgetMs: Math.max(50, Math.floor(this.options.timeoutMs * 0.7)) };
    const worker = new Worker(script, {
      workerData,
      resourceLimits: { maxOldGenerationSizeMb: this.options.memoryMb, maxYoungGenerationSizeMb: Math.min(64, Math.max(8, this.options.memoryMb >> 3)), stackSizeMb: 4 },
      stdout: true,
      stderr: true,
    });
    worker.stdout.resume();
    worker.stderr.on('data', (d: Buffer) => this.options.log(`analysis worker: ${d.toString().trimEnd()}`));
    worker.on('message', (m: FromWorker) => this.receive(worker, m));
    worker.on('error', (e: Error & { code?: string }) => {
      if (worker !== this.worker) return;
      const memory = e.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.options.log(`analysis worker ${memory ? 'ran out of memory' : `failed: ${e.stack ?? e.message}`}`);
      this.abandon(memory ? 'memory' : 'crash');
    });
    worker.on('exit', (code) => {
      if (worker !== this.worker) return;
      this.options.log(`analysis worker exited (code ${code})`);
      this.abandon('crash');
    });
    this.worker = worker;
  }

  /** The running job cannot finish: report it as too complex, and start a fresh worker for the rest. */
  private abandon(reason: TooComplexReason): void {
    const old = this.worker;
    this.worker = undefined;
    this.ready = false;
    void old?.terminate();
    const job = this.running;
    this.running = undefined;
    if (job) {
      clearTimeout(job.timer);
      const limit = reason === 'time' ? this.options.timeoutMs : reason === 'memory' ? this.options.memoryMb : undefined;
      const ms = performance.now() - job.started;
      this.options.log(`${job.key} v${job.version}: not analysed (${reason}, after ${ms.toFixed(0)} ms)`);
      this.settle({ key: job.key, version: job.version, text: job.text, analysis: { models: [], problems: [tooComplexProblem(job.text, reason, limit)], datasets: [], calls: [] }, ms }, job.gen);
      // The worker's trees are gone with it; results already cached stay valid.
    }
    this.pump();
  }

  private receive(worker: Worker, m: FromWorker): void {
    if (worker !== this.worker) return;
    if (m.type === 'ready') {
      this.ready = true;
      this.pump();
      return;
    }
    const job = this.running;
    if (!job || m.id !== job.id) return;
    clearTimeout(job.timer);
    this.running = undefined;
    if (m.type === 'result') {
      this.settle({ key: job.key, version: job.version, text: job.text, analysis: m.analysis, ms: performance.now() - job.started }, job.gen);
    } else {
      this.options.log(`${job.key} v${job.version}: the analysis failed: ${m.message}`);
      this.settle({ key: job.key, version: job.version, text: job.text, analysis: { models: [], problems: [tooComplexProblem(job.text, 'crash')], datasets: [], calls: [] }, ms: performance.now() - job.started }, job.gen);
    }
    this.pump();
  }

  private settle(result: AnalysedVersion, gen: number): void {
    // The program was closed since: its result belongs to no open document.
    if (gen !== this.generation(result.key)) return;
    const current = this.results.get(result.key);
    if (!current || current.version <= result.version) this.results.set(result.key, result);
    const list = this.waiters.get(result.key);
    if (list) {
      const rest = list.filter((w) => w.version > result.version);
      for (const w of list) if (w.version <= result.version) w.resolve(result);
      if (rest.length) this.waiters.set(result.key, rest);
      else this.waiters.delete(result.key);
    }
    this.onDidAnalyze(result);
  }

  private pump(): void {
    if (this.disposed || this.running || this.queue.size === 0) return;
    if (!this.worker) this.start();
    if (!this.ready) return;
    const [key, job] = this.queue.entries().next().value as [string, Job];
    this.queue.delete(key);
    const done = this.results.get(key);
    if (answers(done, job.version, job.text)) {
      this.settle(done, job.gen);
      this.pump();
      return;
    }
    const id = this.nextId++;
    const timer = setTimeout(() => {
      if (this.running?.id === id) this.abandon('time');
    }, this.options.timeoutMs);
    this.running = { ...job, id, timer, started: performance.now() };
    this.post({ type: 'analyze', id, key: job.key, text: job.text, file: job.file });
  }

  dispose(): void {
    this.disposed = true;
    if (this.running) clearTimeout(this.running.timer);
    void this.worker?.terminate();
    this.worker = undefined;
  }
}
