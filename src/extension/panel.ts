import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { WeightsSource } from '../core/protocol/inference';
import { isMessage, type Message, type Notification } from '../core/protocol/messages';
import {
  PanelActivations,
  PanelError,
  PanelEvaluation,
  PanelFilters,
  PanelModel,
  PanelReady,
  RequestActivations,
  RequestFilters,
  RequestStop,
  RequestTrain,
  encodeTensor,
  type PanelModelParams,
} from '../core/protocol/panel';
import type { TrainingPlan } from '../core/train/plan';
import { architectureFingerprint, architectureOf } from '../core/train/architecture';
import { newestCheckpoint } from '../train/runStore';
import { CIFAR10_CLASS_NAMES } from '../train/datasets/cifar10';
import { FASHION_MNIST_CLASS_NAMES } from '../train/datasets/idx';
import type { Ctx } from './context';
import type { InferenceClient } from './inferenceClient';
import { chooseModel, configuredDataFolder, planOrExplain, type ChosenModel } from './models';
import { runsFolderSetting, type TrainingManager, type TrainingRun } from './training';

const INCOMING = [PanelReady, RequestActivations, RequestFilters, RequestTrain, RequestStop] as Notification<object>[];

/**
 * The ConvLens panel for one model file: training curves, feature maps, filters and the
 * playground. Strict CSP with a nonce, local assets only, typed and validated messages.
 */
export class ModelPanel implements vscode.Disposable {
  private static readonly panels = new Map<string, ModelPanel>();
  private readonly disposables: vscode.Disposable[] = [];
  private chosen: ChosenModel;
  private plan: TrainingPlan | undefined;
  private ready = false;
  private lastInput: { source: 'sample' | 'drawing' | 'file'; index?: number; dataSource?: string; pixels?: number[]; path?: string } | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private disposed = false;

  static async show(ctx: Ctx, inference: InferenceClient, training: TrainingManager, uri?: unknown, modelId?: unknown, tab = 'features'): Promise<ModelPanel | undefined> {
    const chosen = await chooseModel(ctx, uri, modelId);
    if (!chosen) return undefined;
    const key = chosen.doc.uri.toString();
    const existing = ModelPanel.panels.get(key);
    if (existing) {
      existing.chosen = chosen;
      existing.panel.reveal(vscode.ViewColumn.Beside, true);
      void existing.sendModel();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel('convlens.panel', `ConvLens: ${path.basename(chosen.doc.uri.fsPath)}`, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [vscode.Uri.joinPath(ctx.extension.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(ctx.extension.extensionUri, 'media')],
    });
    const p = new ModelPanel(ctx, inference, training, panel, chosen, tab);
    ModelPanel.panels.set(key, p);
    return p;
  }

  /** The open panel of a model file, if any. */
  static of(uri: vscode.Uri): ModelPanel | undefined {
    return ModelPanel.panels.get(uri.toString());
  }

  private constructor(
    private readonly ctx: Ctx,
    private readonly inference: InferenceClient,
    private readonly training: TrainingManager,
    readonly panel: vscode.WebviewPanel,
    chosen: ChosenModel,
    tab: string,
  ) {
    this.chosen = chosen;
    panel.iconPath = vscode.Uri.joinPath(ctx.extension.extensionUri, 'media', 'icon.svg');
    panel.webview.html = this.html(tab);
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m) => this.receive(m)),
      training.onMessage(({ run, message }) => {
        if (run.file.toString() === this.chosen.doc.uri.toString()) void panel.webview.postMessage(message);
      }),
      training.onDidFinish((run) => {
        if (run.file.toString() !== this.chosen.doc.uri.toString()) return;
        void this.sendModel().then(() => this.evaluate(run));
        if (this.lastInput) void this.runInput(this.lastInput);
      }),
      ctx.server.onDidAnalyze((a) => {
        if (a.uri !== this.chosen.doc.uri.toString()) return;
        // The model file changed: re-plan and refresh what the panel shows (debounced).
        clearTimeout(this.refreshTimer);
        this.refreshTimer = setTimeout(() => void this.refresh(), 400);
      }),
    );
  }

  private async refresh(): Promise<void> {
    const chosen = await chooseModel(this.ctx, this.chosen.doc.uri.toString(), this.chosen.model.id);
    if (!chosen) return;
    this.chosen = chosen;
    await this.sendModel();
    if (this.lastInput && this.plan) await this.runInput(this.lastInput);
  }

  private html(tab: string): string {
    const w = this.panel.webview;
    const nonce = randomBytes(16).toString('base64');
    const asset = (...p: string[]) => w.asWebviewUri(vscode.Uri.joinPath(this.ctx.extension.extensionUri, ...p)).toString();
    const csp = [`default-src 'none'`, `img-src ${w.cspSource} data:`, `style-src ${w.cspSource}`, `script-src 'nonce-${nonce}'`, `font-src ${w.cspSource}`].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${asset('dist', 'webview', 'uPlot.min.css')}">
<link rel="stylesheet" href="${asset('media', 'panel.css')}">
<title>ConvLens</title>
</head>
<body data-tab="${tab}">
<header>
  <h2 id="model-title">ConvLens</h2>
  <span id="weights"></span>
  <button id="train" class="primary" title="Train this model (ConvLens: Train Model)">Train</button>
  <button id="stop" title="Stop training after the current step">Stop</button>
</header>
<div id="messages" role="status" aria-live="polite"></div>
<div id="model-problem" class="error"></div>
<nav role="tablist">
  <button role="tab" data-tab="training">Training</button>
  <button role="tab" data-tab="features">Feature maps</button>
  <button role="tab" data-tab="playground">Filters playground</button>
</nav>
<main>
<section id="tab-training">
  <div id="training-status" class="muted">No training run yet: press Train, or run ConvLens: Train Model.</div>
  <progress id="training-bar" max="100" value="0"></progress>
  <div id="training-progress"></div>
  <div id="charts"><div id="chart-loss"></div><div id="chart-accuracy"></div></div>
  <h3>Epochs</h3>
  <table id="epochs"><thead><tr><th>epoch</th><th>loss</th><th>accuracy</th><th>val_loss</th><th>val_accuracy</th><th>time</th><th>samples/s</th><th>checkpoint</th></tr></thead><tbody id="epoch-rows"></tbody></table>
  <div id="evaluation"></div>
</section>
<section id="tab-features">
  <div class="inputs">
    <fieldset><legend>Input</legend>
      <div class="row">
        <select id="sample-source" aria-label="data source"></select>
        <input id="sample-index" type="number" min="0" value="0" aria-label="sample index" style="width:5em">
        <button id="sample-go">Show</button> <button id="sample-random">Random</button>
        <button id="pick-file">Image file…</button>
      </div>
      <div class="row"><div id="input-preview"></div><div id="input-label" class="muted"></div></div>
    </fieldset>
    <fieldset><legend>Draw a digit</legend><canvas id="draw" width="28" height="28" aria-label="drawing canvas"></canvas><br><button id="draw-clear">Clear</button></fieldset>
    <fieldset><legend>Class probabilities</legend><div id="probabilities"></div></fieldset>
  </div>
  <div id="readout" class="muted"></div>
  <div id="layers"></div>
  <h3>Filters</h3>
  <select id="filters-layer" aria-label="convolution layer"></select>
  <div id="filters"></div>
</section>
<section id="tab-playground">
  <div class="inputs">
    <fieldset><legend>Kernel</legend>
      <select id="kernel-preset" aria-label="kernel"></select><br>
      <textarea id="kernel-text" spellcheck="false" aria-label="kernel values"></textarea>
      <div id="kernel-error" class="error"></div><div id="kernel-note" class="muted"></div>
    </fieldset>
    <fieldset><legend>Stride and padding</legend>
      <label>stride <select id="stride"><option>1</option><option>2</option><option>3</option></select></label>
      <label>padding <select id="padding"><option value="valid">valid (p = 0)</option><option value="same">same</option><option value="1">p = 1</option><option value="2">p = 2</option></select></label>
    </fieldset>
  </div>
  <div id="playground-output"></div>
</section>
</main>
<div id="overlay" role="dialog"><div id="overlay-content"></div></div>
<script nonce="${nonce}" src="${asset('dist', 'webview', 'main.js')}"></script>
</body>
</html>`;
  }

  private post(m: Message): void {
    // Answers (a plan from the language server, an evaluation) may arrive after the panel closed.
    if (this.ready && !this.disposed) void this.panel.webview.postMessage(m);
  }

  private postError(e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    this.ctx.log.warn(`panel: ${message}`);
    this.post(PanelError.create({ message }));
  }

  /**
   * The weights the panel runs: the last run's best checkpoint, else the newest run on disk trained
   * with this very architecture, else random.
   */
  private weights(): { source: WeightsSource; label: string } {
    const run = this.training.lastRuns.get(this.chosen.doc.uri.toString());
    const fp = this.plan ? architectureFingerprint(architectureOf(this.plan)) : undefined;
    const sameArch = run && this.plan && run.model === this.chosen.model.name && architectureFingerprint(architectureOf(run.plan)) === fp;
    if (run?.checkpoint && sameArch && existsSync(run.checkpoint)) return { source: { kind: 'checkpoint', path: run.checkpoint }, label: `checkpoint ${this.where(run.checkpoint)}` };
    const found = fp ? newestCheckpoint(this.chosen.doc.uri.fsPath, this.chosen.model.name, fp, runsFolderSetting()) : undefined;
    if (found) return { source: { kind: 'checkpoint', path: found.checkpoint }, label: `checkpoint ${this.where(found.checkpoint)}` };
    const seed = vscode.workspace.getConfiguration('convlens.training').get<number>('seed', 1);
    return { source: { kind: 'random', seed }, label: `random (untrained, seed ${seed})` };
  }

  /** `run 2026-12-01T102203.456Z-3f9a1c / best.ckpt`. */
  private where(checkpoint: string): string {
    return `${path.basename(path.dirname(checkpoint))}/${path.basename(checkpoint)}`;
  }

  private dataSources(): PanelModelParams['dataSources'] {
    const hint = this.chosen.datasetHint;
    const run = this.training.lastRuns.get(this.chosen.doc.uri.toString());
    const out: PanelModelParams['dataSources'] = [];
    if (run && run.data !== 'synthetic') out.push({ id: run.data, label: `training data (${path.basename(run.data)})` });
    const configured = configuredDataFolder(hint);
    if (configured && existsSync(configured) && (!run || run.data !== configured)) out.push({ id: configured, label: `${hint} (${path.basename(configured)})` });
    else if (hint && (!run || run.data !== hint)) out.push({ id: hint, label: `${hint} (Keras cache)` });
    if (this.plan && this.plan.inputShape.join() === '28,28,1') out.push({ id: 'synthetic', label: 'synthetic digits' });
    return out;
  }

  async sendModel(): Promise<void> {
    const r = await planOrExplain(this.ctx, this.chosen);
    this.plan = r.plan;
    const m = this.chosen.model;
    const classes = this.plan ? this.plan.outputShape[this.plan.outputShape.length - 1] : 0;
    const hint = this.chosen.datasetHint;
    const names = hint === 'cifar10' ? CIFAR10_CLASS_NAMES : hint === 'fashion_mnist' ? FASHION_MNIST_CLASS_NAMES : [];
    this.post(
      PanelModel.create({
        file: vscode.workspace.asRelativePath(this.chosen.doc.uri),
        model: m.name,
        layers: m.layers.map((l) => ({ name: l.name, className: l.className, outputShape: l.outputShape, params: l.params, line: this.chosen.lineOf(l.span.start) })),
        inputShape: m.inputShape && m.inputShape.every((d) => d !== null) ? (m.inputShape as number[]) : null,
        classNames: names.length === classes ? names : Array.from({ length: classes }, (_, i) => String(i)),
        problem: r.plan ? undefined : `This model cannot run yet: ${r.problems.map((p) => `${p.message} (line ${p.line})`).join('; ')}`,
        weights: this.weights().label,
        dataSources: this.dataSources(),
      }),
    );
  }

  private async receive(m: unknown): Promise<void> {
    const type = isMessage(m) ? INCOMING.find((t) => t.method === m.method) : undefined;
    if (!type || !type.is(m)) {
      this.ctx.log.warn(`panel: ignored a malformed message ${isMessage(m) ? m.method : typeof m}`);
      return;
    }
    try {
      if (PanelReady.is(m)) {
        this.ready = true;
        await this.sendModel();
        const sources = this.dataSources();
        if (this.plan) await this.runInput(sources.length ? { source: 'sample', dataSource: sources[0].id, index: 0 } : { source: 'drawing', pixels: new Array(this.plan.inputShape[0] * this.plan.inputShape[1]).fill(0) });
        const run = this.training.lastRuns.get(this.chosen.doc.uri.toString());
        if (run?.done) void this.evaluate(run);
      } else if (RequestActivations.is(m)) {
        if (m.params.source === 'file') {
          const uris = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { Images: ['png', 'jpg', 'jpeg'] }, openLabel: 'Show its feature maps' });
          if (!uris?.[0]) return;
          await this.runInput({ source: 'file', path: uris[0].fsPath });
        } else await this.runInput(m.params);
      } else if (RequestFilters.is(m)) {
        if (!this.plan) return;
        const w = this.weights();
        const r = await this.inference.filters({ plan: this.plan, weights: w.source, layer: m.params.layer });
        this.post(PanelFilters.create({ layer: r.layer, kernel: r.kernel, weights: r.weights }));
      } else if (RequestTrain.is(m)) {
        await vscode.commands.executeCommand('convlens.train', this.chosen.doc.uri.toString(), this.chosen.model.id);
      } else if (RequestStop.is(m)) {
        this.training.stop();
      }
    } catch (e) {
      this.postError(e);
    }
  }

  private async runInput(input: NonNullable<ModelPanel['lastInput']>): Promise<void> {
    if (!this.plan) return;
    this.lastInput = input;
    const w = this.weights();
    const [h, wd] = this.plan.inputShape;
    const source =
      input.source === 'file'
        ? { kind: 'image' as const, path: input.path! }
        : input.source === 'drawing'
          ? { kind: 'pixels' as const, tensor: encodeTensor(Float32Array.from(input.pixels ?? []), [h, wd]) }
          : { kind: 'sample' as const, data: input.dataSource ?? 'synthetic', dataHint: this.chosen.datasetHint, index: input.index ?? 0 };
    try {
      const r = await this.inference.activations({ plan: this.plan, weights: w.source, input: source });
      this.post(PanelActivations.create({ input: r.input, inputLabel: r.inputLabel, layers: r.layers, probabilities: r.probabilities, weights: r.weights, milliseconds: r.milliseconds }));
    } catch (e) {
      this.postError(e);
    }
  }

  private async evaluate(run: TrainingRun): Promise<void> {
    if (!this.plan || !run.checkpoint || !existsSync(run.checkpoint)) return;
    try {
      const ev = await this.inference.evaluate({ plan: this.plan, weights: { kind: 'checkpoint', path: run.checkpoint }, data: run.data, dataHint: run.dataHint, samples: 32 });
      this.post(PanelEvaluation.create(ev));
    } catch (e) {
      this.postError(e);
    }
  }

  dispose(): void {
    this.disposed = true;
    ModelPanel.panels.delete(this.chosen.doc.uri.toString());
    clearTimeout(this.refreshTimer);
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}
