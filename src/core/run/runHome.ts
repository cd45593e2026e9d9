/**
 * One home for a training run, the same for the CLI, the extension and the panel: where a run of
 * a model writes (`.convlens/runs/<model>/<timestamp>-<id>/` next to the model file, or a
 * configured folder), what each file in it is called, and the records it keeps (run.json,
 * result.json). Pure: the Node side (src/train/runStore.ts) creates the folders and files.
 *
 * ```
 * <model folder>/.convlens/runs/            the runs folder (configurable); holds a .gitignore of "*"
 *   mnist_cnn/                              one folder per model: the file's stem (+ ".<name>" for
 *                                           a model not called "sequential")
 *     2026-12-01T102203.456Z-3f9a1c/        one run: UTC start time and a random id
 *       run.json      settings, data, model fingerprint and architecture, where it resumed from
 *       model.py      the model file as it was when the run started
 *       epochs.jsonl  one JSON line per epoch (loss, accuracy, val_…, learning rate, seconds)
 *       batches.jsonl one JSON line per progress report within an epoch
 *       log.txt       notes and warnings: what the trainer assumed, honoured or ignored
 *       best.ckpt     the best epoch's checkpoint (ModelCheckpoint's monitor and mode)
 *       last.ckpt     the latest state: after every epoch, and where a stop interrupted an epoch
 *       model.onnx    the trained inference model (the last epoch's weights, as Keras' fit leaves them)
 *       result.json   how the run ended (written once, at the end)
 * ```
 * Nothing in an existing run folder is replaced by another run: a run that resumes another gets
 * a new folder and records where it came from.
 */
import type { TrainingDoneParams } from '../protocol/training';
import { basenameOf, checkOutputPath, dirnameOf, isAbsolutePath, joinPath, safeSegment } from './paths';

/** The runs folder relative to the model file's folder when nothing is configured. */
export const DEFAULT_RUNS_FOLDER = '.convlens/runs';

/** The files of a run folder. */
export const RUN_FILES = {
  settings: 'run.json',
  source: 'model.py',
  epochs: 'epochs.jsonl',
  batches: 'batches.jsonl',
  log: 'log.txt',
  best: 'best.ckpt',
  last: 'last.ckpt',
  onnx: 'model.onnx',
  result: 'result.json',
} as const;

export type RunFile = keyof typeof RUN_FILES;

/** What decides where a model's runs go. */
export interface RunHomeInput {
  /** Absolute path of the model file. */
  modelFile: string;
  /** The model's Keras name (`sequential`, or `name=`). */
  modelName: string;
  /** The runs folder: absolute, or relative to the model file's folder; default {@link DEFAULT_RUNS_FOLDER}. */
  runsFolder?: string;
}

/** The folder name of a model's runs: the file's stem, plus `.<model name>` unless it is Keras' default `sequential`. */
export function modelKey(modelFile: string, modelName: string): string {
  const stem = basenameOf(modelFile).replace(/\.(py|ipynb)$/i, '');
  const name = modelName === 'sequential' ? '' : `.${safeSegment(modelName)}`;
  return safeSegment(`${safeSegment(stem, 'model')}${name}`);
}

/** The runs folder and the model's folder in it, absolute. */
export function runsHome(input: RunHomeInput): { root: string; modelDir: string } {
  if (!isAbsolutePath(input.modelFile)) throw new Error(`runsHome needs an absolute model file path, got '${input.modelFile}'`);
  const folder = input.runsFolder?.trim() || DEFAULT_RUNS_FOLDER;
  const root = isAbsolutePath(folder) ? joinPath(folder) : joinPath(dirnameOf(input.modelFile), folder);
  const modelDir = joinPath(root, modelKey(input.modelFile, input.modelName));
  checkOutputPath(modelDir, { folders: [root] }, 'runs folder');
  return { root, modelDir };
}

/** `2026-12-01T102203.456Z-3f9a1c`: sortable by time, unique by the id, no characters a file system refuses. */
export function runFolderName(date: Date, id: string): string {
  const iso = date.toISOString(); // 2026-12-01T10:22:03.456Z
  const stamp = `${iso.slice(0, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 23)}Z`;
  return `${stamp}-${safeSegment(id, 'run')}`;
}

/** The pattern of run folder names. */
export const RUN_FOLDER_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{6}(\.\d{3})?Z-[A-Za-z0-9._-]+$/;

/** Every file path of a run folder. */
export function runLayout(runDir: string): Record<RunFile, string> {
  const out = {} as Record<RunFile, string>;
  for (const [k, f] of Object.entries(RUN_FILES)) out[k as RunFile] = joinPath(runDir, f);
  return out;
}

/** A new run's folder and files, every path checked to lie inside the model's runs folder. */
export function newRunPaths(input: RunHomeInput, date: Date, id: string): { root: string; modelDir: string; dir: string; files: Record<RunFile, string> } {
  const { root, modelDir } = runsHome(input);
  const dir = joinPath(modelDir, runFolderName(date, id));
  checkOutputPath(dir, { folders: [modelDir] }, 'run folder');
  const files = runLayout(dir);
  for (const f of Object.values(files)) checkOutputPath(f, { folders: [dir] });
  return { root, modelDir, dir, files };
}

/** Where a run came from when it continues another. */
export interface ResumedFrom {
  /** The run folder, when the checkpoint was a run's. */
  run?: string;
  checkpoint: string;
  /** Completed epochs and batches of the next epoch at that checkpoint. */
  epoch: number;
  batch: number;
}

/** run.json: written once when a run starts. */
export interface RunSettings {
  format: 'convlens-run';
  version: 1;
  /** The run folder's name. */
  id: string;
  /** ISO 8601, UTC. */
  created: string;
  convlens: string;
  /** Who started it. */
  host: 'cli' | 'vscode';
  /** The process that started it (to tell a run in progress from an interrupted one). */
  hostPid: number;
  modelFile: string;
  model: string;
  /** The model's architecture fingerprint (see architecture.ts) and its layers. */
  fingerprint: string;
  architecture: unknown;
  data: { source: string; hint?: string; limit?: { train?: number; test?: number } };
  settings: Record<string, unknown>;
  resumedFrom?: ResumedFrom;
  /** Copies the user asked for outside the run folder. */
  copies?: { onnx?: string; checkpoint?: string };
}

/** What a new run records, sent by the host (CLI, extension) to the trainer, which creates the folder once its checks pass. */
export interface NewRunSpec {
  /** Absolute path of the model file. */
  modelFile: string;
  modelName: string;
  runsFolder?: string;
  /** The model file's text when the run starts. */
  source: string;
  settings: Omit<RunSettings, 'format' | 'version' | 'id' | 'created' | 'hostPid' | 'modelFile' | 'model' | 'resumedFrom' | 'copies'>;
  resumedFrom?: ResumedFrom;
  /** The process that owns the run (the CLI or the extension host). */
  hostPid: number;
  copies?: { onnx?: string; checkpoint?: string };
}

/** result.json: written once when a run ends. */
export type RunResult = TrainingDoneParams & { finished: string };

/** How a run stands, as `convlens runs` lists it. */
export type RunStatus = TrainingDoneParams['reason'] | 'running' | 'interrupted';

/** One line of `convlens runs`. */
export interface RunSummary {
  id: string;
  dir: string;
  created: string;
  model: string;
  status: RunStatus;
  epochsDone: number;
  epochs: number;
  best?: { epoch: number; monitor: string; value: number };
  test?: { accuracy: number; loss: number };
  data: string;
  fingerprint: string;
  resumedFrom?: string;
  /** Which checkpoint files exist. */
  checkpoints: { best: boolean; last: boolean };
}

/** Checks the shape of a parsed run.json; returns a reason when it is not one. */
export function runSettingsProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return 'not a JSON object';
  const o = v as Record<string, unknown>;
  if (o.format !== 'convlens-run') return "no \"format\": \"convlens-run\"";
  if (o.version !== 1) return `version ${String(o.version)} is not supported (this ConvLens reads version 1)`;
  for (const k of ['id', 'created', 'model', 'modelFile', 'fingerprint'] as const) if (typeof o[k] !== 'string') return `"${k}" is not a string`;
  if (typeof o.data !== 'object' || o.data === null || typeof (o.data as { source?: unknown }).source !== 'string') return '"data.source" is missing';
  if (typeof o.settings !== 'object' || o.settings === null) return '"settings" is missing';
  return undefined;
}

/**
 * Which of a model's runs a retention setting removes: all but the newest `keep` (0 keeps
 * everything), never one in `protect` (the run just started, runs still in progress).
 */
export function runsToDelete(runs: readonly { id: string; status: RunStatus }[], keep: number, protect: ReadonlySet<string> = new Set()): string[] {
  if (!(keep > 0)) return [];
  const sorted = [...runs].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  return sorted
    .slice(Math.floor(keep))
    .filter((r) => !protect.has(r.id) && r.status !== 'running')
    .map((r) => r.id);
}

/**
 * Finds the run a reference names among a model's run folder names: the full name, its id
 * suffix (`3f9a1c`), a unique prefix of the name, or `last` / `latest`. Returns the name or a
 * reason in words.
 */
export function matchRunRef(ref: string, ids: readonly string[]): { id: string } | { error: string } {
  const sorted = [...ids].sort();
  if (sorted.length === 0) return { error: 'there are no runs yet' };
  if (ref === 'last' || ref === 'latest') return { id: sorted[sorted.length - 1] };
  if (sorted.includes(ref)) return { id: ref };
  const bySuffix = sorted.filter((id) => id.endsWith(`-${ref}`));
  if (bySuffix.length === 1) return { id: bySuffix[0] };
  const byPrefix = sorted.filter((id) => id.startsWith(ref));
  if (byPrefix.length === 1) return { id: byPrefix[0] };
  const many = bySuffix.length > 1 ? bySuffix : byPrefix;
  if (many.length > 1) return { error: `'${ref}' matches ${many.length} runs (${many.slice(0, 3).join(', ')}${many.length > 3 ? ', …' : ''}): give more of the name` };
  return { error: `no run called '${ref}' (the newest are ${sorted.slice(-3).reverse().join(', ')})` };
}
