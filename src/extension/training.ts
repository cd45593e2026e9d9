import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Message } from '../core/protocol/messages';
import { TrainingDone, TrainingEpoch, TrainingLog, TrainingProgress, TrainingStarted, type TrainingDoneParams } from '../core/protocol/training';
import { formatEpochLine } from '../core/train/format';
import type { TrainingPlan } from '../core/train/plan';
import { outputPaths, runDefaults, trainingQuestions, type RememberedChoices } from '../core/trainFlow';
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
}


/** A training run in progress or finished, for the panel and the feature maps. */
export interface TrainingRun {
  file: vscode.Uri;
  model: string;
  plan: TrainingPlan;
  data: string;
  dataHint?: string;
  checkpoint: string;
  exportPath: string;
  handle?: TrainerHandle;
  done?: TrainingDoneParams;
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
    const first = planOrExplain(chosen);
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
    const { plan, notes } = planOrExplain(chosen, { epochs: options.epochs ?? choices.epochs, batchSize: options.batchSize ?? choices.batchSize });
    if (!plan) return undefined;
    const out = outputPaths(chosen.doc.uri.fsPath, chosen.model.name, vscode.workspace.getConfiguration('convlens.training').get<string>('outputFolder', ''));
    const run: TrainingRun = {
      file: chosen.doc.uri,
      model: chosen.model.name,
      plan,
      data: choices.data,
      dataHint: chosen.datasetHint,
      checkpoint: path.resolve(out.checkpoint),
      exportPath: path.resolve(out.onnx),
    };
    for (const n of notes) this.ctx.log.info(`note: ${n}`);
    this.start(run, options.limit);
    return run;
  }

  private start(run: TrainingRun, limit?: TrainOptions['limit']): void {
    this.current = run;
    this.lastRuns.set(run.file.toString(), run);
    const cfg = vscode.workspace.getConfiguration('convlens.training');
    const threads = cfg.get<number>('threads', 0) || Math.max(1, Math.min(os.cpus().length, 4));
    this.ctx.log.info(`training ${run.model} of ${run.file.fsPath} on ${run.data}: ${run.plan.epochs} epochs, batch ${run.plan.batchSize}, checkpoint ${run.checkpoint}`);
    let report: ((p: { message?: string; increment?: number }) => void) | undefined;
    let lastFraction = 0;
    run.handle = startTrainer(
      {
        plan: run.plan,
        data: run.data,
        dataHint: run.dataHint,
        limit,
        seed: cfg.get<number>('seed', 1),
        threads,
        checkpoint: run.checkpoint,
        exportPath: run.exportPath,
        progressIntervalMs: 100,
      },
      {
        onMessage: (m) => {
          // The end is announced once, by finish(), whether the trainer said it or died.
          if (TrainingDone.is(m)) return;
          this.messages.fire({ run, message: m });
          if (TrainingStarted.is(m)) {
            this.ctx.log.info(`${m.params.dataset.name}: ${m.params.dataset.train} training, ${m.params.dataset.validation} validation, ${m.params.dataset.test} test samples; ${m.params.optimizer}, ${m.params.loss}`);
            for (const n of m.params.notes) this.ctx.log.info(`note: ${n}`);
          } else if (TrainingProgress.is(m)) {
            const p = m.params;
            const fraction = (p.epoch - 1 + p.batch / p.batches) / p.epochs;
            report?.({ message: `epoch ${p.epoch}/${p.epochs} · loss ${p.loss.toFixed(4)} · accuracy ${p.accuracy.toFixed(4)}`, increment: (fraction - lastFraction) * 100 });
            lastFraction = fraction;
            this.status.text = `$(sync~spin) ${run.model}: epoch ${p.epoch}/${p.epochs} · ${(p.accuracy * 100).toFixed(1)}%`;
          } else if (TrainingEpoch.is(m)) {
            this.ctx.log.info(`Epoch ${m.params.epoch}/${m.params.epochs}: ${formatEpochLine(m.params)}`);
            if (m.params.checkpoint) this.ctx.log.info(`${m.params.checkpoint.monitor} improved to ${m.params.checkpoint.value.toFixed(5)}, saved ${m.params.checkpoint.path}`);
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
    this.messages.fire({ run, message: TrainingDone.create(done) });
    this.status.hide();
    void vscode.commands.executeCommand('setContext', 'convlens.training', false);
    const test = done.test ? `: test accuracy ${(done.test.accuracy * 100).toFixed(2)}%` : '';
    const files = [existsSync(run.checkpoint) ? path.basename(run.checkpoint) : '', done.exported ? path.basename(done.exported) : ''].filter(Boolean).join(' and ');
    this.ctx.log.info(`training ${done.reason} after ${done.epochs} epochs in ${done.seconds.toFixed(1)} s${test}${done.message ? ` — ${done.message}` : ''}`);
    if (done.reason === 'completed') {
      void vscode.window.showInformationMessage(`ConvLens trained ${run.model} in ${done.seconds.toFixed(0)} s${test}.${files ? ` Saved ${files}.` : ''}`, 'Show Feature Maps').then((a) => a && vscode.commands.executeCommand('convlens.showFeatureMaps', run.file.toString()));
    } else if (done.reason === 'cancelled') {
      void vscode.window.showInformationMessage(`ConvLens stopped training ${run.model} after ${done.epochs} epoch${done.epochs === 1 ? '' : 's'}.${existsSync(run.checkpoint) ? ` The best checkpoint so far is ${path.basename(run.checkpoint)}.` : ''}`);
    } else {
      void vscode.window.showErrorMessage(`ConvLens: training ${run.model} ${done.reason === 'diverged' ? 'stopped because the loss diverged' : 'failed'}: ${done.message ?? 'see the log'}`, 'Show log').then((a) => a && this.ctx.log.show());
    }
    if (this.current === run) this.current = { ...run, handle: undefined };
    this.lastRuns.set(run.file.toString(), run);
    this.finished.fire(run);
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
