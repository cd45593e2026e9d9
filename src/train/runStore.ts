/**
 * Run folders on disk (the layout is core/run/runHome.ts): creating a run (its folder, run.json,
 * the model source as trained), listing a model's runs, finding the checkpoint a `--resume`
 * names, and the retention setting. Used by the CLI and the extension alike, so both produce
 * the same layout. Every write goes through safeFs, checked to stay inside the run folder.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { TrainingDoneParams } from '../core/protocol/training';
import { isInside } from '../core/run/paths';
import { architectureFingerprint, architectureOf } from '../core/train/architecture';
import type { TrainingPlan } from '../core/train/plan';
import {
  matchRunRef,
  modelKey,
  newRunPaths,
  RUN_FILES,
  RUN_FOLDER_PATTERN,
  runLayout,
  runSettingsProblem,
  runsHome,
  runsToDelete,
  type NewRunSpec,
  type ResumedFrom,
  type RunFile,
  type RunResult,
  type RunSettings,
  type RunStatus,
  type RunSummary,
} from '../core/run/runHome';
import { OutputError, removeStaleTemps, writeError, writeFileAtomic, type WritePolicy } from './safeFs';

/** A run that cannot be found or used (`--resume` to nothing, a damaged run.json). */
export class RunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunError';
  }
}

/** A run folder ready to be written by the trainer. */
export interface RunHandle {
  id: string;
  dir: string;
  files: Record<RunFile, string>;
  settings: RunSettings;
  /** What this run may write: its folder, and the copies the user asked for. */
  policy: WritePolicy;
}

/** What the CLI and the extension both record for a new run: one function, so both produce the same run.json. */
export function runSpecFor(o: {
  modelFile: string;
  plan: TrainingPlan;
  source: string;
  data: string;
  dataHint?: string;
  limit?: { train?: number; test?: number };
  seed: number;
  threads?: number;
  /** The device asked for (`--device`, convlens.training.device); the log says which one trained. */
  device?: string;
  host: 'cli' | 'vscode';
  runsFolder?: string;
  convlens: string;
  resumedFrom?: ResumedFrom;
  copies?: { onnx?: string; checkpoint?: string };
}): NewRunSpec {
  const arch = architectureOf(o.plan);
  const p = o.plan;
  return {
    modelFile: path.resolve(o.modelFile),
    modelName: p.model,
    runsFolder: o.runsFolder,
    source: o.source,
    hostPid: process.pid,
    settings: {
      convlens: o.convlens,
      host: o.host,
      fingerprint: architectureFingerprint(arch),
      architecture: arch,
      data: { source: o.data, ...(o.dataHint ? { hint: o.dataHint } : {}), ...(o.limit ? { limit: o.limit } : {}) },
      settings: { optimizer: p.optimizer, loss: p.loss, batchSize: p.batchSize, epochs: p.epochs, validationSplit: p.validationSplit, shuffle: p.shuffle, seed: o.seed, threads: o.threads ?? null, device: o.device ?? 'cpu', fit: p.fit },
    },
    resumedFrom: o.resumedFrom,
    copies: o.copies,
  };
}

function mkdirChecked(dir: string, recursive: boolean): void {
  try {
    mkdirSync(dir, { recursive });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST' && !recursive) throw e;
    throw writeError(dir, e, 'runs folder');
  }
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new OutputError(`cannot use ${dir} for runs: it is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}`, dir, 'ENOTDIR');
}

/**
 * Creates a new run folder with run.json and model.py; nothing existing is replaced (a clash of
 * names picks another id). Stale temporary files of killed runs of the same model are removed.
 */
export function createRun(r: NewRunSpec): RunHandle {
  const modelFile = path.resolve(r.modelFile);
  const { root, modelDir } = runsHome({ modelFile, modelName: r.modelName, runsFolder: r.runsFolder });
  mkdirChecked(root, true);
  const ignore = path.join(root, '.gitignore');
  if (!existsSync(ignore)) {
    try {
      writeFileAtomic(ignore, new TextEncoder().encode('# ConvLens training runs (see README: where runs go)\n*\n'), { what: 'runs folder .gitignore', noReplace: true });
    } catch (e) {
      if (!(e instanceof OutputError && e.code === 'EEXIST')) throw e;
    }
  }
  mkdirChecked(modelDir, true);
  // A link must not lead the model's runs elsewhere.
  const realRoot = realpathSync(root);
  const realModel = realpathSync(modelDir);
  if (!isInside(realRoot, realModel)) throw new OutputError(`refusing to write runs to ${modelDir}: it really is ${realModel}, outside ${realRoot}`, modelDir, 'EPOLICY');
  for (const d of safeReaddir(modelDir)) if (RUN_FOLDER_PATTERN.test(d)) removeStaleTemps(path.join(modelDir, d));

  for (let attempt = 0; ; attempt++) {
    const id = randomBytes(3).toString('hex');
    const p = newRunPaths({ modelFile, modelName: r.modelName, runsFolder: r.runsFolder }, new Date(), id);
    try {
      mkdirSync(p.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 20) continue;
      throw writeError(p.dir, e, 'run folder');
    }
    const settings: RunSettings = {
      format: 'convlens-run',
      version: 1,
      id: path.basename(p.dir),
      created: new Date().toISOString(),
      hostPid: r.hostPid,
      modelFile,
      model: r.modelName,
      ...r.settings,
      ...(r.resumedFrom ? { resumedFrom: r.resumedFrom } : {}),
      ...(r.copies && (r.copies.onnx || r.copies.checkpoint) ? { copies: r.copies } : {}),
    };
    const policy: WritePolicy = { folders: [p.dir], files: [r.copies?.onnx, r.copies?.checkpoint].filter((x): x is string => !!x).map((x) => path.resolve(x)) };
    const files = p.files;
    writeFileAtomic(files.settings, new TextEncoder().encode(`${JSON.stringify(settings, null, 2)}\n`), { policy, what: 'run settings', noReplace: true });
    writeFileAtomic(files.source, new TextEncoder().encode(r.source), { policy, what: 'model source', noReplace: true });
    return { id: settings.id, dir: p.dir, files, settings, policy };
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Parses JSON lines, skipping a last line cut short by a kill. */
export function readJsonLines<T>(file: string): T[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      /* a partial last line */
    }
  }
  return out;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function alive(pid: unknown): boolean {
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One run folder as `convlens runs` shows it, or a reason it cannot be read. */
export function summarizeRun(dir: string): RunSummary | { dir: string; problem: string } {
  const files = runLayout(dir);
  const settings = readJson(files.settings);
  const problem = runSettingsProblem(settings);
  if (problem) return { dir, problem: `${RUN_FILES.settings}: ${problem}` };
  const s = settings as RunSettings;
  const result = readJson(files.result) as RunResult | undefined;
  const epochs = readJsonLines<{ epoch: number }>(files.epochs);
  const status: RunStatus = result && typeof result.reason === 'string' ? result.reason : alive(s.hostPid) ? 'running' : 'interrupted';
  const planned = typeof s.settings.epochs === 'number' ? s.settings.epochs : 0;
  return {
    id: s.id,
    dir,
    created: s.created,
    model: s.model,
    status,
    epochsDone: result?.epochs ?? epochs.reduce((m, e) => Math.max(m, typeof e.epoch === 'number' ? e.epoch : 0), s.resumedFrom?.epoch ?? 0),
    epochs: planned,
    best: result?.best ? { epoch: result.best.epoch, monitor: result.best.monitor, value: result.best.value } : undefined,
    test: result?.test ? { accuracy: result.test.accuracy, loss: result.test.loss } : undefined,
    data: s.data.source,
    fingerprint: s.fingerprint,
    resumedFrom: s.resumedFrom?.run ? path.basename(s.resumedFrom.run) : s.resumedFrom?.checkpoint,
    checkpoints: { best: existsSync(files.best), last: existsSync(files.last) },
  };
}

/**
 * Records how a run ended when the trainer could not (it was killed, or crashed): result.json is
 * written once, by whoever knows first; an existing one is left as it is.
 */
export function recordRunEnd(runDir: string, done: TrainingDoneParams): void {
  const file = runLayout(runDir).result;
  if (existsSync(file)) return;
  try {
    writeFileAtomic(file, new TextEncoder().encode(`${JSON.stringify({ ...done, finished: new Date().toISOString() }, null, 2)}\n`), { policy: { folders: [runDir] }, what: 'run result', noReplace: true });
  } catch {
    // A full disk or a removed folder: the listing then says 'interrupted'.
  }
}

/** The run folders of one model, oldest first. */
export function modelRunDirs(modelDir: string): string[] {
  return safeReaddir(modelDir)
    .filter((d) => RUN_FOLDER_PATTERN.test(d))
    .sort()
    .map((d) => path.join(modelDir, d))
    .filter((d) => {
      try {
        return lstatSync(d).isDirectory();
      } catch {
        return false;
      }
    });
}

/** Every run of every model of a file (the folders `<stem>` and `<stem>.<model>`), oldest first. */
export function listRuns(modelFile: string, runsFolder?: string, modelName?: string): (RunSummary | { dir: string; problem: string })[] {
  const abs = path.resolve(modelFile);
  const { root } = runsHome({ modelFile: abs, modelName: modelName ?? 'sequential', runsFolder });
  const stem = modelKey(abs, 'sequential');
  const dirs = modelName !== undefined ? [modelKey(abs, modelName)] : safeReaddir(root).filter((d) => d === stem || d.startsWith(`${stem}.`));
  return dirs.flatMap((d) => modelRunDirs(path.join(root, d))).map(summarizeRun);
}

/**
 * The best checkpoint of the newest run of a model trained with this architecture (fingerprint),
 * for showing trained weights; undefined when there is none.
 */
export function newestCheckpoint(modelFile: string, modelName: string, fingerprint: string, runsFolder?: string): { checkpoint: string; run: string } | undefined {
  let modelDir: string;
  try {
    modelDir = runsHome({ modelFile: path.resolve(modelFile), modelName, runsFolder }).modelDir;
  } catch {
    return undefined;
  }
  for (const dir of modelRunDirs(modelDir).reverse()) {
    const s = summarizeRun(dir);
    if (!('id' in s) || s.fingerprint !== fingerprint) continue;
    const best = runLayout(dir).best;
    if (existsSync(best)) return { checkpoint: best, run: dir };
  }
  return undefined;
}

/** Finds the checkpoint a `--resume` (or `--weights`) value names: a checkpoint file, a run folder, or a run's name or id. */
export function resolveCheckpointRef(
  ref: string,
  o: { modelFile: string; modelName: string; runsFolder?: string; prefer: 'last' | 'best' },
): { checkpoint: string; run?: string } {
  const fromRun = (dir: string) => {
    const files = runLayout(dir);
    const order = o.prefer === 'last' ? [files.last, files.best] : [files.best, files.last];
    const found = order.find((f) => existsSync(f));
    if (!found) throw new RunError(`run ${dir} has no checkpoint (it ended before its first checkpoint was written)`);
    return { checkpoint: found, run: dir };
  };
  if (existsSync(ref)) {
    const st = statSync(ref);
    if (st.isDirectory()) {
      if (!existsSync(path.join(ref, RUN_FILES.settings))) throw new RunError(`${ref} is a folder but not a ConvLens run (it has no ${RUN_FILES.settings})`);
      return fromRun(path.resolve(ref));
    }
    return { checkpoint: ref };
  }
  if (/[\\/]/.test(ref) || /\.ckpt$/i.test(ref)) throw new RunError(`${ref}: no such checkpoint file or run folder`);
  const { modelDir } = runsHome({ modelFile: path.resolve(o.modelFile), modelName: o.modelName, runsFolder: o.runsFolder });
  const ids = modelRunDirs(modelDir).map((d) => path.basename(d));
  const m = matchRunRef(ref, ids);
  if ('error' in m) throw new RunError(`${ref}: ${m.error} in ${modelDir}`);
  return fromRun(path.join(modelDir, m.id));
}

/** Deletes a model's oldest runs beyond `keep` (0 keeps all), never `protect`ed or running ones; returns the folders deleted. */
export function applyRetention(modelFile: string, modelName: string, keep: number, protect: ReadonlySet<string>, runsFolder?: string): string[] {
  if (!(keep > 0)) return [];
  const { modelDir } = runsHome({ modelFile: path.resolve(modelFile), modelName, runsFolder });
  const runs = modelRunDirs(modelDir)
    .map(summarizeRun)
    .filter((r): r is RunSummary => 'id' in r);
  const removed: string[] = [];
  for (const id of runsToDelete(runs, keep, protect)) {
    const dir = path.join(modelDir, id);
    // Only a folder holding a run.json is a run ConvLens made: anything else is left alone.
    if (!RUN_FOLDER_PATTERN.test(id) || !existsSync(path.join(dir, RUN_FILES.settings))) continue;
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
