/**
 * `convlens train`, `convlens runs` and `convlens export`: the command-line face of the trainer
 * and of the run history. Training runs in the trainer process, into a new run folder
 * (core/run/runHome.ts); this side reads the model file, plans, checks every path and setting
 * before any work starts, prints Keras-style progress, and turns Ctrl-C, SIGTERM and SIGHUP into
 * a stop after the current step (the checkpoint to resume from is written; a second signal stops
 * at once, and the checkpoints on disk stay whole).
 */
import { channelsLastShape } from '../core/train/sampleLayout';
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as cliProgress from 'cli-progress';
import * as ort from 'onnxruntime-node';
import { analyzeSource, type ModelReport } from '../core/index';
import { siblingModuleLoader } from '../node/moduleLoader';
import { TrainingEpoch, TrainingLog, TrainingProgress, TrainingStarted, type TrainingDoneParams } from '../core/protocol/training';
import { RUN_FILES, matchRunRef, runsHome, type RunSummary } from '../core/run/runHome';
import { architectureDiff, architectureFingerprint, architectureOf, checkpointMismatch } from '../core/train/architecture';
import { CHECKPOINT_MAGIC } from '../core/train/checkpoint';
import { compileInferenceGraph, GRAPH_NAMES } from '../core/train/compile';
import { formatEpochHeader, formatEpochLine, formatMetrics } from '../core/train/format';
import { planTraining, type PlanOverrides, type TrainingPlan } from '../core/train/plan';
import { checkThreads, formatNumber } from '../core/train/validate';
import { createPythonParse } from '../node/pythonParser';
import { readCheckpointFile } from '../train/checkpointFile';
import { DEVICE_LABEL, type Device, type DeviceRequest } from '../core/train/device';
import { dataSpec } from '../train/data';
import { applyRetention, listRuns, modelRunDirs, recordRunEnd, resolveCheckpointRef, RunError, runSpecFor, summarizeRun } from '../train/runStore';
import { checkReplaceable, OutputError, removeStaleTemps, writeFileAtomic } from '../train/safeFs';
import { cpuCount } from '../train/trainer';
import { startTrainer, type TrainerHandle } from '../train/trainerClient';
import { releaseEarlySignals } from './earlySignals';
import { EXIT, exitCodeOfDone } from './exitCodes';

/** A usage or input error: printed as `convlens: …`, exit code 2. */
export class UsageError extends Error {}

/** Options of `convlens train`, as parsed from the command line. */
export interface TrainArgs extends PlanOverrides {
  file: string;
  data?: string;
  seed: number;
  threads?: number;
  /** Where to train (default cpu). */
  device?: DeviceRequest;
  out?: string;
  checkpoint?: string;
  resume?: string;
  limit?: number;
  model?: string;
  runsDir?: string;
  keepRuns?: number;
  json: boolean;
  force: boolean;
}

export interface Loaded {
  text: string;
  model: ModelReport;
  /** Keras datasets the file loads (`mnist` for `mnist.load_data()`). */
  datasets: string[];
}

/** Reads and analyses a model file and picks its model (`--model` names one by Keras name or variable). */
export async function loadModel(file: string, which?: string, quiet = false): Promise<Loaded> {
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw Object.assign(new Error(st.isDirectory() ? 'it is a folder' : 'not a regular file'), { code: 'ENOTREG' });
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const analysis = analyzeSource(text, await createPythonParse(), { loadModule: siblingModuleLoader(file) });
  const models = analysis.models;
  if (models.length === 0) throw new UsageError(`${file}: no Keras model found`);
  if (which !== undefined) {
    const m = models.find((x) => x.name === which || x.varName === which);
    if (!m) throw new UsageError(`${file}: no model named '${which}' (models: ${models.map((x) => x.name).join(', ')})`);
    return { text, model: m, datasets: analysis.datasets };
  }
  const compiled = models.filter((m) => m.analysed && m.compile);
  const model = compiled.length === 1 ? compiled[0] : (models.find((m) => m.analysed) ?? models[0]);
  if (models.length > 1 && !quiet) process.stderr.write(`note: ${file} defines ${models.length} models; using '${model.name}' (choose with --model)\n`);
  return { text, model, datasets: analysis.datasets };
}

/** The plan, or the refusals printed as FILE:LINE:COL: error: … (exit code 1). */
export function plan(file: string, loaded: Loaded, overrides: PlanOverrides): { plan?: TrainingPlan; notes: string[] } {
  const r = planTraining(loaded.model, loaded.text, overrides);
  for (const p of r.problems) process.stderr.write(`${file}:${p.line}:${p.column}: error: ${p.message}\n`);
  return { plan: r.plan, notes: r.notes };
}

/** The plan with its notes printed, or undefined after printing why the model cannot be trained. */
export function planOrReport(file: string, loaded: Loaded, overrides: PlanOverrides): TrainingPlan | undefined {
  const r = plan(file, loaded, overrides);
  for (const n of r.notes) process.stderr.write(`note: ${n}\n`);
  return r.plan;
}

/** True for a file ConvLens wrote (a checkpoint, or an ONNX model whose producer is convlens). */
function writtenByConvLens(file: string): boolean {
  try {
    const head = readFileSync(file).subarray(0, 64);
    return head.subarray(0, 8).toString('latin1') === CHECKPOINT_MAGIC || head.includes(Buffer.from('convlens'));
  } catch {
    return false;
  }
}

/** The same file: equal paths after resolving links, or the same inode. */
export function sameFile(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      try {
        return path.join(realpathSync(path.dirname(path.resolve(p))), path.basename(p));
      } catch {
        return path.resolve(p);
      }
    }
  };
  if (real(a) === real(b)) return true;
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/**
 * A path the user chose to write: its folder must exist, and an existing target must be a
 * regular file (never a device, pipe, link or folder, even with --force) that --force allows
 * replacing.
 */
export function checkUserOutput(file: string, what: string, force: boolean, protect: { file: string; why: string }[]): void {
  for (const p of protect) if (sameFile(file, p.file)) throw new UsageError(`--${what === 'model' ? 'out' : 'checkpoint'} ${file} is ${p.why}: choose another path`);
  const dir = path.dirname(path.resolve(file));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`cannot write the ${what} ${file}: folder ${dir} does not exist`);
  let state: 'absent' | 'file';
  try {
    state = checkReplaceable(path.resolve(file), what);
  } catch (e) {
    throw new OutputError((e as Error).message, file, 'ENOTREG');
  }
  if (state === 'file' && !force) {
    const whose = writtenByConvLens(file) ? 'from an earlier run' : 'and was not written by ConvLens';
    throw new UsageError(`${file} already exists (${whose}); pass --force to replace it, or choose another path`);
  }
}

const plural = (n: number, word: string) => `${formatNumber(n)} ${word}${n === 1 ? '' : 's'}`;

/** A run folder for messages: relative to the working folder when it is below it. */
export function shown(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

/** `convlens train FILE …`; returns the exit code. */
export async function trainCommand(a: TrainArgs): Promise<number> {
  // Signals are caught from the start: one arriving before the trainer runs stops here, cleanly.
  const stop = { interrupts: 0, handle: undefined as TrainerHandle | undefined, onStop: () => {} };
  const onSignal = (signal: NodeJS.Signals) => {
    stop.interrupts++;
    stop.onStop();
    if (!stop.handle) return;
    if (stop.interrupts === 1) {
      process.stderr.write(`\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping after the current step and writing the checkpoint to resume from (again to stop at once)…\n`);
      stop.handle.cancel(30_000);
    } else stop.handle.kill();
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, onSignal);
  releaseEarlySignals();
  try {
    return await train(a, stop);
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}

async function train(a: TrainArgs, stop: { interrupts: number; handle: TrainerHandle | undefined; onStop: () => void }): Promise<number> {
  const loaded = await loadModel(a.file, a.model);
  const { plan: p, notes } = plan(a.file, loaded, a);
  if (!p) return EXIT.model;
  for (const n of notes) process.stderr.write(`note: ${n}\n`);
  const hint = loaded.datasets[0];
  const data = a.data ?? hint;
  if (!data) throw new UsageError(`${a.file} does not load a known dataset: pass --data (synthetic, mnist, fashion_mnist, cifar10, a folder or a .npz file)`);
  dataSpec(data, hint, channelsLastShape(p, p.inputShape));
  const threads = checkThreads(a.threads, cpuCount(), cpuCount());
  if (threads.error) throw new UsageError(`--threads: ${threads.error}`);

  const modelFile = path.resolve(a.file);
  let resume: { checkpoint: string; run?: string } | undefined;
  if (a.resume) {
    resume = resolveCheckpointRef(a.resume, { modelFile, modelName: p.model, runsFolder: a.runsDir, prefer: 'last' });
    const ckpt = readCheckpointFile(resume.checkpoint);
    const mismatch = checkpointMismatch(p, ckpt.header, ckpt.tensors);
    if (mismatch) throw new RunError(`${resume.checkpoint} does not belong to '${p.model}' in ${a.file}: ${mismatch}`);
  }
  const protect = [
    { file: modelFile, why: 'the model file' },
    ...(resume ? [{ file: resume.checkpoint, why: 'the checkpoint to resume from' }] : []),
  ];
  if (a.out) checkUserOutput(a.out, 'model', a.force, protect);
  if (a.checkpoint) checkUserOutput(a.checkpoint, 'checkpoint', a.force, protect);
  if (a.out && a.checkpoint && sameFile(a.out, a.checkpoint)) throw new UsageError(`--out and --checkpoint are the same file (${a.out}): the model would replace the checkpoint`);
  // Temporary files a killed run left beside the copies it was writing.
  for (const f of [a.out, a.checkpoint]) if (f) removeStaleTemps(path.dirname(path.resolve(f)), [path.basename(f)]);

  const resumedCkpt = resume ? readCheckpointFile(resume.checkpoint).header : undefined;
  const runSpec = runSpecFor({
    modelFile,
    plan: p,
    source: loaded.text,
    data,
    dataHint: hint,
    limit: a.limit !== undefined ? { train: a.limit, test: a.limit } : undefined,
    seed: a.seed,
    threads: threads.threads,
    device: a.device,
    host: 'cli',
    runsFolder: a.runsDir,
    convlens: typeof VERSION === 'string' ? VERSION : 'dev',
    resumedFrom: resume && resumedCkpt ? { run: resume.run, checkpoint: resume.checkpoint, epoch: resumedCkpt.epoch, batch: resumedCkpt.batch ?? 0 } : undefined,
    copies: { onnx: a.out && path.resolve(a.out), checkpoint: a.checkpoint && path.resolve(a.checkpoint) },
  });
  let runDir: string | undefined;
  if (stop.interrupts > 0) {
    process.stderr.write('convlens: stopped before training started; nothing was written\n');
    return EXIT.stopped;
  }

  const tty = !a.json && process.stdout.isTTY === true;
  let bar: cliProgress.SingleBar | undefined;
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const handle = startTrainer(
    {
      plan: p,
      data,
      dataHint: hint,
      seed: a.seed,
      threads: a.threads,
      device: a.device,
      cpus: cpuCount(),
      run: runSpec,
      notes,
      checkpoint: a.checkpoint && path.resolve(a.checkpoint),
      resume: resume?.checkpoint,
      resumeRun: resume?.run,
      exportPath: a.out && path.resolve(a.out),
      limit: a.limit === undefined ? undefined : { train: a.limit, test: a.limit },
      progressIntervalMs: tty ? 100 : 1000,
    },
    {
      onMessage(m) {
        if (TrainingStarted.is(m)) {
          const s = m.params;
          const d = s.dataset;
          for (const n of s.notes) process.stderr.write(`note: ${n}\n`);
          for (const w of s.warnings) process.stderr.write(`warning: ${w}\n`);
          runDir = s.runDir;
          if (!a.json) {
            out(`Training '${p.model}' on ${d.name}: ${plural(d.train, 'sample')}, ${formatNumber(d.validation)} for validation, ${formatNumber(d.test)} for test`);
            out(`${s.optimizer}, loss ${s.loss}, batch size ${s.batchSize} (${s.memoryEstimate}), ${plural(s.threads, 'thread')}${s.device === 'cpu' ? '' : `, on ${DEVICE_LABEL[s.device as Device] ?? s.device}`}`);
            if (s.runDir) out(`Run folder: ${shown(s.runDir)}`);
          }
        } else if (TrainingProgress.is(m)) {
          const pr = m.params;
          if (!tty) return;
          if (pr.batch === 1 || !bar) {
            bar?.stop();
            out(formatEpochHeader(pr.epoch, pr.epochs));
            bar = new cliProgress.SingleBar(
              {
                format: (o, params, payload: { text: string }) => {
                  const width = String(params.total).length;
                  const done = Math.round((params.value / params.total) * (o.barsize ?? 20));
                  return `${String(params.value).padStart(width)}/${params.total} ${'━'.repeat(done)}${'─'.repeat((o.barsize ?? 20) - done)} ${payload.text}`;
                },
                barsize: 20,
                hideCursor: true,
                clearOnComplete: true,
                stream: process.stdout,
              },
              cliProgress.Presets.shades_classic,
            );
            bar.start(pr.batches, 0, { text: '' });
          }
          bar.update(pr.batch, { text: `${Math.round(pr.etaSeconds)}s - ${formatMetrics(pr)}` });
        } else if (TrainingEpoch.is(m)) {
          const e = m.params;
          if (a.json) {
            out(JSON.stringify({ epoch: e.epoch, loss: e.loss, accuracy: e.accuracy, val_loss: e.val_loss ?? null, val_accuracy: e.val_accuracy ?? null, seconds: e.seconds }));
            return;
          }
          if (bar) {
            bar.stop();
            bar = undefined;
          } else out(formatEpochHeader(e.epoch, e.epochs));
          out(formatEpochLine(e));
          if (e.checkpoint) out(`Epoch ${e.epoch}: ${e.checkpoint.monitor} improved to ${e.checkpoint.value.toFixed(5)}, saving model to ${shown(e.checkpoint.path)}`);
        } else if (TrainingLog.is(m)) {
          bar?.stop();
          bar = undefined;
          process.stderr.write(`${m.params.level === 'warning' ? 'warning' : 'note'}: ${m.params.message}\n`);
        }
      },
      onInvalid: (_m, why) => process.stderr.write(`warning: ignored a malformed message from the trainer (${why})\n`),
      onStderr: (line) => process.stderr.write(`trainer: ${line}\n`),
    },
  );
  stop.handle = handle;
  stop.onStop = () => {
    bar?.stop();
    bar = undefined;
  };
  const done = await handle.done;
  bar?.stop();
  runDir ??= done.runDir;
  if (runDir) recordRunEnd(runDir, done);
  const code = report(done, a, runDir);
  await driftWarning(a, loaded, p);
  if (a.keepRuns !== undefined) {
    const protect = new Set(runDir ? [path.basename(runDir)] : []);
    for (const d of applyRetention(modelFile, p.model, a.keepRuns, protect, a.runsDir)) process.stderr.write(`note: deleted the old run ${shown(d)} (--keep-runs ${a.keepRuns})\n`);
  }
  return stop.interrupts > 0 && done.reason !== 'completed' ? EXIT.stopped : code;
}

/** Warns when the model file changed while it trained: the run's outputs belong to the architecture as trained. */
async function driftWarning(a: TrainArgs, loaded: Loaded, p: TrainingPlan): Promise<void> {
  let text: string;
  try {
    text = readFileSync(a.file, 'utf8');
  } catch {
    return;
  }
  if (text === loaded.text) return;
  const analysis = analyzeSource(text, await createPythonParse());
  const m = analysis.models.find((x) => x.name === p.model);
  const now = m ? planTraining(m, text, a).plan : undefined;
  const was = architectureOf(p);
  if (now && architectureFingerprint(architectureOf(now)) === architectureFingerprint(was)) return;
  const diff = now ? architectureDiff(was, architectureOf(now)) : [`'${p.model}' cannot be trained as the file stands now`];
  process.stderr.write(
    `warning: ${a.file} changed while it trained: this run's checkpoints and model belong to the architecture as trained (kept in the run folder as ${RUN_FILES.source}), not to the file as it is now:\n  - ${diff.join('\n  - ')}\n`,
  );
}

function report(done: TrainingDoneParams, a: TrainArgs, runDir: string | undefined): number {
  if (a.json) {
    if (done.test) process.stdout.write(`${JSON.stringify({ test_loss: done.test.loss, test_accuracy: done.test.accuracy })}\n`);
  } else if (done.test) {
    process.stdout.write(`Test (${formatNumber(done.test.count)} samples, weights of epoch ${done.test.epoch}): accuracy: ${done.test.accuracy.toFixed(4)} - loss: ${formatNumber(Number(done.test.loss.toFixed(4)) || done.test.loss)}\n`);
  }
  for (const w of done.warnings ?? []) if (!/^the loss is exploding/.test(w)) process.stderr.write(`warning: ${w}\n`);
  if (done.exported && !a.json) process.stdout.write(`Wrote ${shown(done.exported)} (inference model, input '${GRAPH_NAMES.input}', output '${GRAPH_NAMES.output}')\n`);
  const kept = done.best?.path && existsSync(done.best.path) ? ` The best checkpoint (epoch ${done.best.epoch}, ${done.best.monitor} ${done.best.value.toFixed(4)}) is ${shown(done.best.path)}.` : '';
  const id = runDir ? path.basename(runDir) : '';
  const resumeRef = done.last && runDir && done.last.path.startsWith(runDir) ? id.slice(id.lastIndexOf('-') + 1) : done.last?.path;
  const resumeHint = done.last && existsSync(done.last.path) ? ` Continue with: convlens train ${a.file} --resume ${resumeRef}${a.runsDir ? ` --runs-dir ${a.runsDir}` : ''}` : '';
  switch (done.reason) {
    case 'completed':
      if (done.stoppedEarly) process.stderr.write(`note: ${done.stoppedEarly}\n`);
      if (!a.json) process.stdout.write(`Done in ${Math.round(done.seconds)}s.${kept}${runDir ? ` Run: ${shown(runDir)}` : ''}\n`);
      break;
    case 'cancelled': {
      const where = done.last ? `epoch ${done.last.epoch + (done.last.batch ? 1 : 0)}${done.last.batch ? `, batch ${done.last.batch}` : ' (its end)'}` : `${plural(done.epochs, 'epoch')}`;
      process.stderr.write(
        `convlens: training stopped at ${where}.${done.last ? ` The checkpoint to resume from is ${shown(done.last.path)}.` : ''}${kept}${done.message ? ` ${done.message}.` : ''}${resumeHint}\n`,
      );
      break;
    }
    case 'diverged':
    case 'failed':
      process.stderr.write(`convlens: ${done.message ?? 'training failed'}${kept && !done.message?.includes('checkpoint') ? kept : ''}\n`);
      break;
  }
  return exitCodeOfDone(done);
}

/** Options of `convlens runs`. */
export interface RunsArgs {
  file?: string;
  model?: string;
  runsDir?: string;
  json: boolean;
  delete?: string;
  keep?: number;
}

/** `convlens runs [FILE] [--delete RUN] [--keep N]`: lists (or prunes) the runs of a model file, or of every model file in the working folder. */
export async function runsCommand(a: RunsArgs): Promise<number> {
  const files: string[] = [];
  if (a.file) files.push(a.file);
  else {
    const root = path.resolve(a.runsDir ?? '.convlens/runs');
    if (!existsSync(root)) {
      process.stdout.write(`No runs in ${shown(root)} (give a model file: convlens runs model.py)\n`);
      return EXIT.ok;
    }
  }
  const rows: (RunSummary | { dir: string; problem: string })[] = [];
  let modelName: string | undefined;
  if (a.file) {
    const loaded = await loadModel(a.file, a.model, true);
    modelName = a.model !== undefined ? loaded.model.name : undefined;
    if (a.delete !== undefined || a.keep !== undefined) modelName = loaded.model.name;
    const modelFile = path.resolve(a.file);
    if (a.delete !== undefined) {
      const { modelDir } = runsHome({ modelFile, modelName: loaded.model.name, runsFolder: a.runsDir });
      const ids = modelRunDirs(modelDir).map((d) => path.basename(d));
      const m = matchRunRef(a.delete, ids);
      if ('error' in m) throw new RunError(`${a.delete}: ${m.error} in ${shown(modelDir)}`);
      const dir = path.join(modelDir, m.id);
      const s = summarizeRun(dir);
      if ('status' in s && s.status === 'running') throw new RunError(`${m.id} is still running (process ${JSON.parse(readFileSync(path.join(dir, RUN_FILES.settings), 'utf8')).hostPid}): stop it first`);
      if (lstatSync(dir).isDirectory() && existsSync(path.join(dir, RUN_FILES.settings))) rmSync(dir, { recursive: true, force: true });
      process.stdout.write(`Deleted ${shown(dir)}\n`);
      return EXIT.ok;
    }
    if (a.keep !== undefined) {
      const removed = applyRetention(modelFile, loaded.model.name, a.keep, new Set(), a.runsDir);
      for (const d of removed) process.stdout.write(`Deleted ${shown(d)}\n`);
      process.stdout.write(`${plural(removed.length, 'run')} deleted; the newest ${a.keep} kept\n`);
      return EXIT.ok;
    }
    rows.push(...listRuns(modelFile, a.runsDir, modelName));
  } else {
    const root = path.resolve(a.runsDir ?? '.convlens/runs');
    for (const d of allRunDirs(root)) rows.push(summarizeRun(d));
  }
  if (a.json) {
    for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
    return EXIT.ok;
  }
  if (rows.length === 0) {
    process.stdout.write(`No runs yet${a.file ? ` of ${a.file}` : ''}.\n`);
    return EXIT.ok;
  }
  const table: string[][] = [['run', 'model', 'status', 'epochs', 'best', 'test acc', 'data']];
  for (const r of rows) {
    if (!('id' in r)) {
      table.push([path.basename(r.dir), '?', `unreadable: ${r.problem}`, '', '', '', '']);
      continue;
    }
    table.push([
      r.id,
      r.model,
      r.status,
      `${r.epochsDone}/${r.epochs}`,
      r.best ? `${r.best.monitor} ${r.best.value.toFixed(4)} (epoch ${r.best.epoch})` : '–',
      r.test ? r.test.accuracy.toFixed(4) : '–',
      path.basename(r.data),
    ]);
  }
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  for (const row of table) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()}\n`);
  const dirs = [...new Set(rows.map((r) => path.dirname(r.dir)))];
  process.stdout.write(`\nIn ${dirs.map(shown).join(', ')}. Resume: convlens train FILE --resume RUN; export: convlens export FILE --weights RUN --out model.onnx; delete: convlens runs FILE --delete RUN.\n`);
  return EXIT.ok;
}

/** Every run folder under a runs folder (all models). */
function allRunDirs(root: string): string[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  return names
    .map((d) => path.join(root, d))
    .filter((d) => {
      try {
        return lstatSync(d).isDirectory();
      } catch {
        return false;
      }
    })
    .flatMap((d) => modelRunDirs(d));
}

/** Options of `convlens export`. */
export interface ExportArgs {
  file: string;
  weights?: string;
  out?: string;
  model?: string;
  runsDir?: string;
  force: boolean;
}

/**
 * What an export reads: a model file (and the weights given), or a run folder — then the run's
 * model source as trained, and its checkpoints unless other weights were given.
 */
export function exportSource(file: string, weights: string | undefined): { file: string; weights: string | undefined } {
  if (!existsSync(file) || !statSync(file).isDirectory()) return { file, weights };
  if (!existsSync(path.join(file, RUN_FILES.settings))) throw new UsageError(`${file} is a folder but not a ConvLens run (it has no ${RUN_FILES.settings})`);
  return { file: path.join(file, RUN_FILES.source), weights: weights ?? file };
}

/**
 * `convlens export FILE --weights CKPT|RUN --out model.onnx`, or `convlens export RUN --out …`
 * (the run's model source as trained and its best checkpoint); returns the exit code.
 */
export async function exportCommand(a: ExportArgs): Promise<number> {
  if (!a.out) throw new UsageError('export needs --out FILE.onnx');
  const { file, weights } = exportSource(a.file, a.weights);
  if (!weights) throw new UsageError('export needs --weights CHECKPOINT or RUN (written by convlens train)');
  const loaded = await loadModel(file, a.model);
  const { plan: p } = plan(file, loaded, {});
  if (!p) return EXIT.model;
  const ref = resolveCheckpointRef(weights, { modelFile: path.resolve(file), modelName: p.model, runsFolder: a.runsDir, prefer: 'best' });
  const ckpt = readCheckpointFile(ref.checkpoint);
  const mismatch = checkpointMismatch(p, ckpt.header, ckpt.tensors);
  if (mismatch) throw new RunError(`${ref.checkpoint} does not belong to '${p.model}' in ${file}: ${mismatch}`);
  checkUserOutput(a.out, 'model', a.force, [
    { file: path.resolve(file), why: 'the model file' },
    { file: ref.checkpoint, why: 'the checkpoint being exported' },
  ]);
  const w = new Map([...ckpt.tensors].filter(([, t]) => t.kind === 'weight').map(([n, t]) => [n, t.data]));
  const bytes = compileInferenceGraph(p, w, typeof VERSION === 'string' ? VERSION : undefined);
  // onnxruntime must load what is written.
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  await session.release();
  writeFileAtomic(a.out, bytes, { what: 'model', policy: { folders: [], files: [path.resolve(a.out)] } });
  const dims = (s: number[]) => `(N, ${s.join(', ')})`;
  const h = ckpt.header;
  process.stdout.write(
    `Wrote ${a.out}: input '${GRAPH_NAMES.input}' ${dims(p.inputShape)} float32 (${p.framework === 'pytorch' ? 'channels-first, as PyTorch' : 'channels_last, as Keras'}) → output '${GRAPH_NAMES.output}' ${dims(p.outputShape)}; weights of epoch ${h.epoch}${h.batch ? `, batch ${h.batch}` : ''} (${h.monitor} ${Number.isFinite(h.best) ? h.best.toFixed(4) : 'not measured'}) from ${shown(ref.checkpoint)}\n`,
  );
  return EXIT.ok;
}

declare const VERSION: string;
