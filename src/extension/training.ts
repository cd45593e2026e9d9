import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Message } from '../core/protocol/messages';
import { TrainingDone, TrainingEpoch, TrainingLog, TrainingProgress, TrainingStarted, type TrainingDoneParams, type TrainingProgressParams, type TrainingStartedParams } from '../core/protocol/training';
import { runLayout } from '../core/run/runHome';
import { architectureDiff, architectureFingerprint, architectureOf, checkpointMismatch } from '../core/train/architecture';
import { formatEpochLine } from '../core/train/format';
import type { TrainingPlan } from '../core/train/plan';
import { runDefaults, trainingQuestions, type RememberedChoices } from '../core/trainFlow';
import { readCheckpointFile } from '../train/checkpointFile';
import { applyRetention, recordRunEnd, resolveCheckpointRef, runSpecFor } from '../train/runStore';
import { startTrainer, type TrainerHandle } from '../train/trainerClient';
import type { Ctx } from './context';
import { chooseModel, configuredDataFolder, planOrExplain, type ChosenModel } from './models';

/** Settings a caller may pass to skip the questions (keybindings, tests, other extensions). */
export interface TrainOptions {
  data?: string;
  epochs?: number;
  batchSize?: number;
  /** Use at most this many training / test samples. */
  limit?: { train?: number; test?: number };
  /** Continue a run (its folder) or a checkpoint, in a new run. */
  resume?: string;
}

/** Where this workspace's runs go: `convlens.training.runsFolder`, relative to the model file (empty: `.convlens/runs`). */
export function runsFolderSetting(): string | undefined {
  return vscode.workspace.getConfiguration('convlens.training').get<string>('runsFolder', '').trim() || undefined;
}

/**
 * The device to train on: `convlens.train.device`; the earlier name `convlens.training.device`
 * is still read when only it is set, so a user's settings keep working.
 */
export function trainingDevice(): string {
  const current = vscode.workspace.getConfiguration('convlens.train').inspect<string>('device');
  const set = current && (current.workspaceFolderValue ?? current.workspaceValue ?? current.globalValue);
  if (set !== undefined) return set;
  const old = vscode.workspace.getConfiguration('convlens.training').inspect<string>('device');
  return (old && (old.workspaceFolderValue ?? old.workspaceValue ?? old.globalValue)) ?? current?.defaultValue ?? 'cpu';
}

/** A training run in progress or finished, for the panel and the feature maps. */
export interface TrainingRun {
  file: vscode.Uri;
  model: string;
  plan: TrainingPlan;
  data: string;
  dataHint?: string;
  /** The run folder, once the trainer has created it. */
  runDir?: string;
  /** The run's best checkpoint (in its folder), once one was written. */
  checkpoint?: string;
  /** The model file's text when the run started (to notice edits made while it trains). */
  source: string;
  handle?: TrainerHandle;
  done?: TrainingDoneParams;
  /** What the trainer said when it started, and its latest progress: a panel opened mid-run shows them. */
  started?: TrainingStartedParams;
  lastProgress?: TrainingProgressParams;
}

/**
 * Training runs started from VS Code: asks only for what the file does not say, runs the trainer
 * process (never in the extension host), shows progress with cancel, a status-bar item and a log,
 * and writes the checkpoint and the .onnx next to the model file.
 */
export class TrainingManager implements vscode.Disposable {
  private current: TrainingRun | undefined;
  private readonly status = vscode.window.createStatusBarItem('convlens.training', vscode.StatusBarAlignment.Left, 50);
  private readonly messages = new vscode.EventEmitter<{ run: TrainingRun; message: Message }>();
  /** Every trainer message of every run, for the panel. */
  readonly onMessage = this.messages.event;
  private readonly finished = new vscode.EventEmitter<TrainingRun>();
  readonly onDidFinish = this.finished.event;
  /** The last run per model file, so the panel can show trained weights. */
  readonly lastRuns = new Map<string, TrainingRun>();

  constructor(private readonly ctx: Ctx) {
    this.status.name = 'ConvLens training';
    this.status.command = 'convlens.stopTraining';
  }

  get running(): TrainingRun | undefined {
    return this.current?.handle && !this.current.done ? this.current : undefined;
  }

  async train(uri?: unknown, modelId?: unknown, options: TrainOptions = {}): Promise<TrainingRun | undefined> {
    if (this.running) {
      const stop = await vscode.window.showWarningMessage(`ConvLens is already training ${this.running.model}.`, 'Stop it', 'Keep it');
      if (stop === 'Stop it') this.stop();
      return undefined;
    }
    const chosen = await chooseModel(this.ctx, uri, modelId);
    if (!chosen) return undefined;
    const first = await planOrExplain(this.ctx, chosen);
    if (!first.plan) {
      this.ctx.log.error(`cannot train ${chosen.model.name}:\n${first.explanation}`);
      void vscode.window.showErrorMessage(`ConvLens cannot train ${chosen.model.name}: ${first.problems[0]?.message ?? 'see the log'} (line ${first.problems[0]?.line ?? '?'})`, 'Show log').then((a) => a && this.ctx.log.show());
      return undefined;
    }
    const choices =
      options.data !== undefined
        ? { data: options.data, dataLabel: options.data, epochs: options.epochs ?? chosen.model.fit?.epochs ?? 1, batchSize: options.batchSize ?? chosen.model.fit?.batchSize ?? 32 }
        : await this.ask(chosen, first.plan);
    if (!choices) return undefined;
    const { plan, notes } = await planOrExplain(this.ctx, chosen, { epochs: options.epochs ?? choices.epochs, batchSize: options.batchSize ?? choices.batchSize });
    if (!plan) return undefined;
    let resume: { checkpoint: string; run?: string } | undefined;
    if (options.resume) {
      try {
        resume = resolveCheckpointRef(options.resume, { modelFile: chosen.doc.uri.fsPath, modelName: plan.model, runsFolder: runsFolderSetting(), prefer: 'last' });
        const ckpt = readCheckpointFile(resume.checkpoint);
        const mismatch = checkpointMismatch(plan, ckpt.header, ckpt.tensors);
        if (mismatch) throw new Error(`${path.basename(resume.checkpoint)} does not belong to ${plan.model} as the file is now: ${mismatch}`);
      } catch (e) {
        this.ctx.log.error(`cannot resume: ${(e as Error).message}`);
        void vscode.window.showErrorMessage(`ConvLens cannot resume ${plan.model}: ${(e as Error).message.split('\n')[0]}`, 'Show log').then((a) => a && this.ctx.log.show());
        return undefined;
      }
    }
    const run: TrainingRun = { file: chosen.doc.uri, model: chosen.model.name, plan, data: choices.data, dataHint: chosen.datasetHint, source: chosen.text };
    for (const n of notes) this.ctx.log.info(`note: ${n}`);
    this.start(run, options.limit, resume, notes);
    return run;
  }

  private start(run: TrainingRun, limit?: TrainOptions['limit'], resume?: { checkpoint: string; run?: string }, notes: string[] = []): void {
    this.current = run;
    this.lastRuns.set(run.file.toString(), run);
    const cfg = vscode.workspace.getConfiguration('convlens.training');
    const cpus = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    const threads = cfg.get<number>('threads', 0) || Math.max(1, Math.min(cpus, 4));
    const seed = cfg.get<number>('seed', 1);
    const device = trainingDevice();
    this.ctx.log.info(`training ${run.model} of ${run.file.fsPath} on ${run.data}: ${run.plan.epochs} epochs, batch ${run.plan.batchSize}${resume ? `, resuming ${resume.checkpoint}` : ''}`);
    let report: ((p: { message?: string; increment?: number }) => void) | undefined;
    let lastFraction = 0;
    const resumed = resume ? readCheckpointFile(resume.checkpoint).header : undefined;
    run.handle = startTrainer(
      {
        plan: run.plan,
        data: run.data,
        dataHint: run.dataHint,
        limit,
        seed,
        threads,
        device,
        cpus,
        resume: resume?.checkpoint,
        resumeRun: resume?.run,
        notes,
        run: runSpecFor({
          modelFile: run.file.fsPath,
          plan: run.plan,
          source: run.source,
          data: run.data,
          dataHint: run.dataHint,
          limit,
          seed,
          threads,
          device,
          host: 'vscode',
          runsFolder: runsFolderSetting(),
          convlens: String(this.ctx.extension.extension.packageJSON.version),
          resumedFrom: resume && resumed ? { run: resume.run, checkpoint: resume.checkpoint, epoch: resumed.epoch, batch: resumed.batch ?? 0 } : undefined,
        }),
        progressIntervalMs: 100,
      },
      {
        onMessage: (m) => {
          // The end is announced once, by finish(), whether the trainer said it or died.
          if (TrainingDone.is(m)) return;
          this.messages.fire({ run, message: m });
          if (TrainingStarted.is(m)) {
            run.runDir = m.params.runDir;
            run.started = m.params;
            this.ctx.log.info(`${m.params.dataset.name}: ${m.params.dataset.train} training, ${m.params.dataset.validation} validation, ${m.params.dataset.test} test samples; ${m.params.optimizer}, ${m.params.loss}, batch ${m.params.batchSize} (${m.params.memoryEstimate}), on ${m.params.device}; run folder ${m.params.runDir ?? '(none)'}`);
            for (const n of m.params.notes) this.ctx.log.info(`note: ${n}`);
            for (const w of m.params.warnings) this.ctx.log.warn(w);
          } else if (TrainingProgress.is(m)) {
            const p = m.params;
            run.lastProgress = p;
            const fraction = (p.epoch - 1 + p.batch / p.batches) / p.epochs;
            report?.({ message: `epoch ${p.epoch}/${p.epochs} · loss ${p.loss.toFixed(4)} · accuracy ${p.accuracy.toFixed(4)}`, increment: (fraction - lastFraction) * 100 });
            lastFraction = fraction;
            this.status.text = `$(sync~spin) ${run.model}: epoch ${p.epoch}/${p.epochs} · ${(p.accuracy * 100).toFixed(1)}%`;
          } else if (TrainingEpoch.is(m)) {
            this.ctx.log.info(`Epoch ${m.params.epoch}/${m.params.epochs}: ${formatEpochLine(m.params)}`);
            if (m.params.checkpoint) {
              run.checkpoint = m.params.checkpoint.path;
              this.ctx.log.info(`${m.params.checkpoint.monitor} improved to ${m.params.checkpoint.value.toFixed(5)}, saved ${m.params.checkpoint.path}`);
            }
          } else if (TrainingLog.is(m)) {
            (m.params.level === 'warning' ? this.ctx.log.warn : this.ctx.log.info).call(this.ctx.log, m.params.message);
          }
        },
        onInvalid: (_m, why) => this.ctx.log.warn(`ignored a malformed trainer message: ${why}`),
        onStderr: (line) => this.ctx.log.debug(`trainer: ${line}`),
      },
    );
    this.status.text = `$(sync~spin) ${run.model}: starting`;
    this.status.tooltip = 'ConvLens is training. Click to stop.';
    this.status.show();
    void vscode.commands.executeCommand('setContext', 'convlens.training', true);
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Training ${run.model}`, cancellable: true },
      async (progress, token) => {
        report = (p) => progress.report(p);
        token.onCancellationRequested(() => this.stop());
        const done = await run.handle!.done;
        run.done = done;
        return done;
      },
    );
    void run.handle.done.then((done) => this.finish(run, done));
  }

  private finish(run: TrainingRun, done: TrainingDoneParams): void {
    run.done = done;
    run.runDir ??= done.runDir;
    if (run.runDir) {
      recordRunEnd(run.runDir, done);
      const best = runLayout(run.runDir).best;
      if (existsSync(best)) run.checkpoint = best;
    }
    this.messages.fire({ run, message: TrainingDone.create(done) });
    this.status.hide();
    void vscode.commands.executeCommand('setContext', 'convlens.training', false);
    const test = done.test ? `: test accuracy ${(done.test.accuracy * 100).toFixed(2)}%` : '';
    const folder = run.runDir ? vscode.workspace.asRelativePath(run.runDir) : undefined;
    this.ctx.log.info(`training ${done.reason} after ${done.epochs} epochs in ${done.seconds.toFixed(1)} s${test}${done.message ? ` — ${done.message}` : ''}${folder ? `; run folder ${folder}` : ''}`);
    for (const w of done.warnings ?? []) this.ctx.log.warn(w);
    this.warnIfEdited(run);
    if (done.reason === 'completed') {
      void vscode.window.showInformationMessage(`ConvLens trained ${run.model} in ${done.seconds.toFixed(0)} s${test}.${folder ? ` Saved in ${folder}.` : ''}${done.stoppedEarly ? ` ${done.stoppedEarly}.` : ''}`, 'Show Feature Maps').then((a) => a && vscode.commands.executeCommand('convlens.showFeatureMaps', run.file.toString()));
    } else if (done.reason === 'cancelled') {
      const where = done.last ? `epoch ${done.last.epoch + (done.last.batch ? 1 : 0)}${done.last.batch ? `, batch ${done.last.batch}` : ''}` : `${done.epochs} epoch${done.epochs === 1 ? '' : 's'}`;
      const resume = done.last && existsSync(done.last.path) ? done.last.path : undefined;
      void vscode.window
        .showInformationMessage(`ConvLens stopped training ${run.model} at ${where}.${resume ? ` The checkpoint to resume from is in ${folder}.` : ''}${done.message ? ` ${done.message}` : ''}`, ...(resume ? ['Resume'] : []))
        .then((a) => a === 'Resume' && vscode.commands.executeCommand('convlens.train', run.file.toString(), undefined, { data: run.data, epochs: run.plan.epochs, batchSize: run.plan.batchSize, resume: run.runDir ?? resume }));
    } else {
      void vscode.window.showErrorMessage(`ConvLens: training ${run.model} ${done.reason === 'diverged' ? 'stopped because the loss diverged' : 'failed'}: ${done.message?.split('\n')[0] ?? 'see the log'}`, 'Show log').then((a) => a && this.ctx.log.show());
    }
    const keep = vscode.workspace.getConfiguration('convlens.training').get<number>('keepRuns', 0);
    if (keep > 0) {
      for (const d of applyRetention(run.file.fsPath, run.model, keep, new Set(run.runDir ? [path.basename(run.runDir)] : []), runsFolderSetting())) this.ctx.log.info(`deleted the old run ${d} (convlens.training.keepRuns ${keep})`);
    }
    if (this.current === run) this.current = { ...run, handle: undefined };
    this.lastRuns.set(run.file.toString(), run);
    this.finished.fire(run);
  }

  /** The model file changed while it trained: the run's outputs belong to the architecture as trained. */
  private warnIfEdited(run: TrainingRun): void {
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === run.file.toString());
    const text = doc?.getText();
    if (text === undefined || text === run.source) return;
    void (async () => {
      // The language server analyses the file as it stands now and makes its plan.
      const a = await this.ctx.server.analysis(run.file.toString());
      const m = a?.models.find((x) => x.name === run.model);
      const now = m ? (await this.ctx.server.plan(a!.uri, m.id))?.plan : undefined;
      const was = architectureOf(run.plan);
      if (now && architectureFingerprint(architectureOf(now)) === architectureFingerprint(was)) return;
      const diff = now ? architectureDiff(was, architectureOf(now)) : [`${run.model} cannot be trained as the file stands now`];
      this.ctx.log.warn(`${vscode.workspace.asRelativePath(run.file)} changed while it trained: the run's checkpoints and model belong to the architecture as trained (kept in the run folder as model.py):\n  - ${diff.join('\n  - ')}`);
      void vscode.window.showWarningMessage(`ConvLens: ${path.basename(run.file.fsPath)} changed while ${run.model} trained; the run's checkpoints belong to the model as it was (see the log).`);
    })();
  }

  stop(): void {
    const run = this.running;
    if (!run) {
      void vscode.window.showInformationMessage('ConvLens is not training anything.');
      return;
    }
    this.status.text = `$(debug-stop) ${run.model}: stopping…`;
    run.handle!.cancel(15_000);
  }

  /** Asks for what the file does not say: the data (always confirmable), and epochs / batch size when fit() lacks them. */
  private async ask(chosen: ChosenModel, plan: TrainingPlan): Promise<RememberedChoices | undefined> {
    const key = `convlens.train:${chosen.doc.uri.toString()}#${chosen.model.name}`;
    const remembered = this.ctx.extension.workspaceState.get<RememberedChoices>(key);
    const hint = chosen.datasetHint;
    const data = await this.pickData(hint, remembered);
    if (!data) return undefined;
    const questions = trainingQuestions(chosen.model.fit, remembered);
    let { epochs, batchSize } = runDefaults(chosen.model.fit, remembered);
    if (questions.includes('epochs')) {
      const v = await vscode.window.showInputBox({ title: 'Epochs', prompt: 'How many passes over the training data (the file has no fit(epochs=…))', value: '5', validateInput: (s) => (/^\d+$/.test(s) && +s > 0 ? undefined : 'a whole number ≥ 1') });
      if (!v) return undefined;
      epochs = +v;
    }
    if (questions.includes('batchSize')) {
      const v = await vscode.window.showQuickPick(['32', '64', '128', '256'], { title: 'Batch size (the file has no fit(batch_size=…); Keras uses 32)', placeHolder: '32' });
      if (!v) return undefined;
      batchSize = +v;
    }
    const choices = { ...data, epochs, batchSize };
    await this.ctx.extension.workspaceState.update(key, choices);
    return choices;
  }

  private async pickData(hint: string | undefined, remembered?: RememberedChoices): Promise<{ data: string; dataLabel: string } | undefined> {
    type Item = vscode.QuickPickItem & { data?: string; browse?: 'folder' | 'file' };
    const items: Item[] = [];
    if (remembered) items.push({ label: `$(history) ${remembered.dataLabel}`, description: 'last used for this model', data: remembered.data });
    const configured = configuredDataFolder(hint);
    if (configured && existsSync(configured)) items.push({ label: `$(database) ${hint} from ${configured}`, description: 'convlens.data.folders', data: configured });
    items.push({ label: '$(sparkle) Built-in synthetic digits', description: 'drawn procedurally, 28×28, no download', data: 'synthetic' });
    const kerasHome = process.env.KERAS_HOME ?? path.join(os.homedir(), '.keras');
    for (const name of ['mnist', 'fashion_mnist', 'cifar10']) {
      const cached = name === 'cifar10' ? undefined : path.join(kerasHome, 'datasets', `${name}.npz`);
      if (cached && existsSync(cached)) items.push({ label: `$(database) ${name} from the Keras cache`, description: cached, data: name });
    }
    items.push({ label: `$(folder) ${hint ?? 'MNIST / CIFAR-10'} folder…`, description: 'IDX files (MNIST, Fashion-MNIST) or CIFAR-10 binary batches', browse: 'folder' });
    items.push({ label: '$(file-media) Folder of images, one subfolder per class…', description: 'PNG/JPEG, resized to the model input; a fifth is the test set', browse: 'folder' });
    items.push({ label: '$(file) Keras .npz or CIFAR-10 .tar.gz file…', browse: 'file' });
    const pick = await vscode.window.showQuickPick(items, { title: 'Train on which data?', placeHolder: hint ? `The file loads ${hint}.load_data()` : 'Choose a dataset' });
    if (!pick) return undefined;
    if (pick.data) return { data: pick.data, dataLabel: pick.label.replace(/^\$\([^)]*\)\s*/, '') };
    const uris = await vscode.window.showOpenDialog({ canSelectFolders: pick.browse === 'folder', canSelectFiles: pick.browse === 'file', filters: pick.browse === 'file' ? { Datasets: ['npz', 'gz', 'tgz'] } : undefined, openLabel: 'Train on this' });
    if (!uris?.[0]) return undefined;
    return { data: uris[0].fsPath, dataLabel: uris[0].fsPath };
  }

  dispose(): void {
    this.running?.handle?.kill();
    this.status.dispose();
    this.messages.dispose();
    this.finished.dispose();
  }
}
