/**
 * `convlens train` and `convlens export`: the command-line face of the trainer. Training runs in
 * the trainer process; this side reads the model file, plans, checks the paths it will write
 * before any work starts, prints Keras-style progress, and turns Ctrl-C into a cancel (twice:
 * a kill).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as cliProgress from 'cli-progress';
import * as ort from 'onnxruntime-node';
import { analyzeSource, type ModelReport } from '../core/index';
import { siblingModuleLoader } from '../node/moduleLoader';
import { TrainingEpoch, TrainingLog, TrainingProgress, TrainingStarted, type TrainingDoneParams } from '../core/protocol/training';
import { CHECKPOINT_MAGIC } from '../core/train/checkpoint';
import { compileInferenceGraph, GRAPH_NAMES } from '../core/train/compile';
import { formatEpochHeader, formatEpochLine, formatMetrics } from '../core/train/format';
import { planTraining, weightMismatch, type PlanOverrides, type TrainingPlan } from '../core/train/plan';
import { createPythonParse } from '../node/pythonParser';
import { readCheckpointFile, writeFileAtomic } from '../train/checkpointFile';
import { dataSpec } from '../train/data';
import { startTrainer } from '../train/trainerClient';

/** A usage or input error: printed as `convlens: …`, exit code 2. */
export class UsageError extends Error {}

/** Options of `convlens train`, as parsed from the command line. */
export interface TrainArgs extends PlanOverrides {
  file: string;
  data?: string;
  seed: number;
  threads?: number;
  out?: string;
  checkpoint?: string;
  resume?: string;
  limit?: number;
  model?: string;
  json: boolean;
  force: boolean;
}

interface Loaded {
  text: string;
  model: ModelReport;
  /** Keras datasets the file loads (`mnist` for `mnist.load_data()`). */
  datasets: string[];
}

/** Reads and analyses a model file and picks its model (`--model` names one by Keras name or variable). */
async function loadModel(file: string, which?: string): Promise<Loaded> {
  let text: string;
  try {
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
  if (models.length > 1) process.stderr.write(`note: ${file} defines ${models.length} models; training '${model.name}' (choose with --model)\n`);
  return { text, model, datasets: analysis.datasets };
}

/** The plan, or the refusals printed as FILE:LINE:COL: error: … (exit code 1). */
function plan(file: string, loaded: Loaded, overrides: PlanOverrides): { plan?: TrainingPlan; notes: string[] } {
  const r = planTraining(loaded.model, loaded.text, overrides);
  for (const p of r.problems) process.stderr.write(`${file}:${p.line}:${p.column}: error: ${p.message}\n`);
  return { plan: r.plan, notes: r.notes };
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

/** Refuses to replace a file the user did not ask ConvLens to replace. */
function checkWritable(file: string, what: string, force: boolean): void {
  if (!existsSync(file)) {
    const dir = path.dirname(path.resolve(file));
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`cannot write the ${what} ${file}: folder ${dir} does not exist`);
    return;
  }
  if (statSync(file).isDirectory()) throw new UsageError(`cannot write the ${what} ${file}: it is a folder`);
  if (!force) {
    const whose = writtenByConvLens(file) ? 'from an earlier run' : 'and was not written by ConvLens';
    throw new UsageError(`${file} already exists (${whose}); pass --force to replace it, or choose another path`);
  }
}

/** `model.ckpt`, or `model-2.ckpt`, … when it exists: a default path never replaces a file. */
function freshPath(file: string): string {
  if (!existsSync(file)) return file;
  const ext = path.extname(file);
  const stem = file.slice(0, file.length - ext.length);
  for (let i = 2; ; i++) if (!existsSync(`${stem}-${i}${ext}`)) return `${stem}-${i}${ext}`;
}

/** `convlens train FILE …`; returns the exit code. */
export async function trainCommand(a: TrainArgs): Promise<number> {
  const loaded = await loadModel(a.file, a.model);
  const { plan: p, notes } = plan(a.file, loaded, a);
  if (!p) return 1;
  for (const n of notes) process.stderr.write(`note: ${n}\n`);
  const hint = loaded.datasets[0];
  const data = a.data ?? hint;
  if (!data) throw new UsageError(`${a.file} does not load a known dataset: pass --data (synthetic, mnist, fashion_mnist, cifar10, a folder or a .npz file)`);
  dataSpec(data, hint, p.inputShape);

  if (a.out) checkWritable(a.out, 'model', a.force);
  let checkpoint = a.checkpoint;
  if (checkpoint) {
    if (path.resolve(checkpoint) !== (a.resume && path.resolve(a.resume))) checkWritable(checkpoint, 'checkpoint', a.force);
  } else if (a.resume) checkpoint = a.resume;
  else {
    const base = a.out ? a.out.replace(/\.onnx$/i, '') : path.basename(a.file).replace(/\.py$/i, '');
    checkpoint = freshPath(`${base}.ckpt`);
  }
  if (a.resume) {
    const mismatch = weightMismatch(p, readCheckpointFile(a.resume).tensors);
    if (mismatch) throw new UsageError(`${a.resume} does not hold the weights of '${p.model}' in ${a.file}: ${mismatch}`);
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
      checkpoint,
      resume: a.resume,
      exportPath: a.out,
      limit: a.limit === undefined ? undefined : { train: a.limit, test: a.limit },
      progressIntervalMs: tty ? 100 : 1000,
    },
    {
      onMessage(m) {
        if (TrainingStarted.is(m)) {
          const s = m.params;
          const d = s.dataset;
          for (const n of s.notes) process.stderr.write(`note: ${n}\n`);
          if (!a.json) {
            out(`Training '${p.model}' on ${d.name}: ${d.train.toLocaleString('en-US')} samples, ${d.validation.toLocaleString('en-US')} for validation, ${d.test.toLocaleString('en-US')} for test`);
            out(`${s.optimizer}, loss ${s.loss}, batch size ${s.batchSize}, ${s.threads} thread${s.threads === 1 ? '' : 's'}; best checkpoint: ${checkpoint}`);
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
          if (e.checkpoint) out(`Epoch ${e.epoch}: ${e.checkpoint.monitor} improved to ${e.checkpoint.value.toFixed(5)}, saving model to ${e.checkpoint.path}`);
        } else if (TrainingLog.is(m)) {
          process.stderr.write(`${m.params.level === 'warning' ? 'warning' : 'note'}: ${m.params.message}\n`);
        }
      },
      onInvalid: (_m, why) => process.stderr.write(`warning: ignored a malformed message from the trainer (${why})\n`),
      onStderr: (line) => process.stderr.write(`trainer: ${line}\n`),
    },
  );
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write('\nStopping after the current step (Ctrl-C again to stop at once)…\n');
      handle.cancel(15_000);
    } else handle.kill();
  };
  process.on('SIGINT', onSigint);
  const done = await handle.done;
  process.off('SIGINT', onSigint);
  bar?.stop();
  return report(done, a, checkpoint);
}

function report(done: TrainingDoneParams, a: TrainArgs, checkpoint: string): number {
  if (a.json) {
    if (done.test) process.stdout.write(`${JSON.stringify({ test_loss: done.test.loss, test_accuracy: done.test.accuracy })}\n`);
  } else if (done.test) {
    process.stdout.write(`Test (${done.test.count.toLocaleString('en-US')} samples, weights of epoch ${done.test.epoch}): accuracy: ${done.test.accuracy.toFixed(4)} - loss: ${done.test.loss.toFixed(4)}\n`);
  }
  if (done.exported && !a.json) process.stdout.write(`Wrote ${done.exported} (inference model, input '${GRAPH_NAMES.input}', output '${GRAPH_NAMES.output}')\n`);
  const kept = done.best?.path && existsSync(done.best.path) ? ` The best checkpoint (epoch ${done.best.epoch}, ${done.best.monitor} ${done.best.value.toFixed(4)}) is in ${done.best.path}.` : '';
  switch (done.reason) {
    case 'completed':
      if (!a.json) process.stdout.write(`Done in ${Math.round(done.seconds)}s.${kept}\n`);
      return 0;
    case 'cancelled':
      process.stderr.write(`convlens: training stopped after ${done.epochs} epoch${done.epochs === 1 ? '' : 's'}.${kept}${kept ? ` Continue with --resume ${checkpoint}.` : ''}\n`);
      return 130;
    case 'diverged':
    case 'failed':
      process.stderr.write(`convlens: ${done.message ?? 'training failed'}${kept && !done.message?.includes('checkpoint') ? kept : ''}\n`);
      return 1;
  }
}

/** Options of `convlens export`. */
export interface ExportArgs {
  file: string;
  weights?: string;
  out?: string;
  model?: string;
  force: boolean;
}

/** `convlens export FILE --weights CKPT --out model.onnx`; returns the exit code. */
export async function exportCommand(a: ExportArgs): Promise<number> {
  if (!a.weights) throw new UsageError('export needs --weights CHECKPOINT (written by convlens train)');
  if (!a.out) throw new UsageError('export needs --out FILE.onnx');
  const loaded = await loadModel(a.file, a.model);
  const { plan: p } = plan(a.file, loaded, {});
  if (!p) return 1;
  const ckpt = readCheckpointFile(a.weights);
  const mismatch = weightMismatch(p, ckpt.tensors);
  if (mismatch) throw new UsageError(`${a.weights} does not hold the weights of '${p.model}' in ${a.file}: ${mismatch}`);
  checkWritable(a.out, 'model', a.force);
  const weights = new Map([...ckpt.tensors].filter(([, t]) => t.kind === 'weight').map(([n, t]) => [n, t.data]));
  const bytes = compileInferenceGraph(p, weights, typeof VERSION === 'string' ? VERSION : undefined);
  // onnxruntime must load what is written.
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  await session.release();
  writeFileAtomic(a.out, bytes);
  const dims = (s: number[]) => `(N, ${s.join(', ')})`;
  process.stdout.write(
    `Wrote ${a.out}: input '${GRAPH_NAMES.input}' ${dims(p.inputShape)} float32 (channels_last, as Keras) → output '${GRAPH_NAMES.output}' ${dims(p.outputShape)}; weights of epoch ${ckpt.header.epoch} (${ckpt.header.monitor} ${ckpt.header.best.toFixed(4)})\n`,
  );
  return 0;
}

declare const VERSION: string;
