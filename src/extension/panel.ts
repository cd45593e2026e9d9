import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { argFields, argumentCode, preferredQuote, setArgument } from '../core/edit/layerArgs';
import { findLayer } from '../core/layers/index';
import type { InputSource, WeightsSource } from '../core/protocol/inference';
import { isMessage, type Message, type Notification } from '../core/protocol/messages';
import {
  PanelActivations,
  PanelClear,
  PanelError,
  PanelEvaluation,
  PanelExplain,
  PanelFilters,
  PanelGraph,
  PanelHighlight,
  PanelModel,
  PanelNodeArgs,
  PanelReady,
  PanelRuns,
  PanelShowTab,
  RequestActivations,
  RequestDataSource,
  RequestEditArg,
  RequestExplain,
  RequestFilters,
  RequestNodeArgs,
  RequestReveal,
  RequestSaveCsv,
  RequestStop,
  RequestTrain,
  encodeTensor,
  type PanelModelParams,
  type PanelRun,
  type PanelTopic,
} from '../core/protocol/panel';
import { TrainingStarted, TrainingProgress } from '../core/protocol/training';
import type { EpochRecord, ProgressRecord } from '../core/run/curves';
import { runLayout, runsHome } from '../core/run/runHome';
import { architectureFingerprint, architectureOf } from '../core/train/architecture';
import { explainableLayers } from '../core/train/explain';
import type { TrainingPlan } from '../core/train/plan';
import { attachProblems, findNode, graphOfModel, nodesAt, type ModelGraph } from '../core/view/modelGraph';
import { listRuns, newestCheckpoint, readJsonLines } from '../train/runStore';
import { CIFAR10_CLASS_NAMES } from '../train/datasets/cifar10';
import { FASHION_MNIST_CLASS_NAMES } from '../train/datasets/idx';
import type { Ctx } from './context';
import { chooseModel, configuredDataFolder, planOrExplain, type ChosenModel } from './models';
import { channelsLastShape } from '../core/train/sampleLayout';
import { runsFolderSetting, type TrainingRun } from './training';
import { panelHtml } from './webviewHtml';

const INCOMING = [PanelReady, RequestActivations, RequestFilters, RequestTrain, RequestStop, RequestReveal, RequestNodeArgs, RequestEditArg, RequestExplain, RequestSaveCsv, RequestDataSource] as Notification<object>[];

type Input = { source: 'sample' | 'drawing' | 'file'; index?: number; dataSource?: string; pixels?: number[]; path?: string };

/** Options of a panel opened on a particular checkpoint (from the explorer). */
export interface PanelOptions {
  checkpoint?: string;
  data?: string;
  evaluate?: boolean;
}

/**
 * The ConvLens panel for one model file: the model graph (linked to the source both ways, with a
 * property sheet that edits the source), the runs (history and the live run, curves, epochs,
 * evaluation), feature maps with Grad-CAM, and the filters playground. Everything it shows comes
 * from disk or the language server, so closing and reopening it loses nothing.
 */
export class ModelPanel implements vscode.Disposable {
  private static readonly panels = new Map<string, ModelPanel>();
  private readonly disposables: vscode.Disposable[] = [];
  private chosen: ChosenModel;
  private plan: TrainingPlan | undefined;
  private graph: ModelGraph | undefined;
  private ready = false;
  private lastInput: Input | undefined;
  /**
   * Counts the feature-map and explanation requests: answers come back in any order (a run's
   * end, an edit and a click can each ask), and only the newest request's answer is shown, so
   * an answer computed with older weights never replaces one computed with newer.
   */
  private activationRequests = 0;
  private explainRequests = 0;
  private refreshTimer: NodeJS.Timeout | undefined;
  private cursorTimer: NodeJS.Timeout | undefined;
  private disposed = false;
  /** A checkpoint chosen in the explorer: the feature maps run it instead of the newest. */
  private pinned: string | undefined;
  private evaluateOn: string | undefined;
  private sources: PanelModelParams['dataSources'] = [];

  static async show(ctx: Ctx, uri?: unknown, modelId?: unknown, tab = 'features', opts: PanelOptions = {}): Promise<ModelPanel | undefined> {
    const chosen = await chooseModel(ctx, uri, modelId);
    if (!chosen) return undefined;
    const key = chosen.doc.uri.toString();
    const existing = ModelPanel.panels.get(key);
    if (existing) {
      existing.chosen = chosen;
      existing.pinned = opts.checkpoint ?? existing.pinned;
      existing.evaluateOn = opts.data;
      existing.panel.reveal(undefined, true);
      existing.post(PanelShowTab.create({ tab }));
      void existing.refresh(true);
      if (opts.evaluate) void existing.evaluatePinned();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel('convlens.panel', `ConvLens: ${path.basename(chosen.doc.uri.fsPath)}`, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [vscode.Uri.joinPath(ctx.extension.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(ctx.extension.extensionUri, 'media')],
    });
    const p = new ModelPanel(ctx, panel, chosen, tab, opts);
    ModelPanel.panels.set(key, p);
    return p;
  }

  /** The open panel of a model file, if any. */
  static of(uri: vscode.Uri): ModelPanel | undefined {
    return ModelPanel.panels.get(uri.toString());
  }

  private constructor(
    private readonly ctx: Ctx,
    readonly panel: vscode.WebviewPanel,
    chosen: ChosenModel,
    tab: string,
    opts: PanelOptions,
  ) {
    this.chosen = chosen;
    this.pinned = opts.checkpoint;
    this.evaluateOn = opts.evaluate ? (opts.data ?? '') : undefined;
    panel.iconPath = vscode.Uri.joinPath(ctx.extension.extensionUri, 'media', 'icon.svg');
    panel.webview.html = panelHtml(panel.webview, ctx.extension.extensionUri, { view: 'model', tab });
    const training = ctx.training;
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m) => this.receive(m)),
      training.onMessage(({ run, message }) => {
        if (this.mine(run)) this.post(message);
      }),
      training.onDidFinish((run) => {
        if (!this.mine(run)) return;
        // The header names the weights sendModel chose; the feature maps are then run with the same ones.
        void this.sendModel().then(async () => {
          this.sendRuns();
          if (this.lastInput) await this.runInput(this.lastInput);
          await this.evaluate(run);
        });
      }),
      ctx.server.onDidAnalyze((a) => {
        if (a.uri !== this.chosen.doc.uri.toString()) return;
        // The model file changed: the graph, the plan and the feature maps follow (debounced).
        clearTimeout(this.refreshTimer);
        this.refreshTimer = setTimeout(() => void this.refresh(false), 250);
      }),
      vscode.languages.onDidChangeDiagnostics((e) => {
        // Problems arrive after the analysis: the graph is redrawn from the newest one (never an older model).
        if (!e.uris.some((u) => this.owns(u)) || !this.graph) return;
        clearTimeout(this.refreshTimer);
        this.refreshTimer = setTimeout(() => void this.refresh(false), 250);
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (!this.owns(e.textEditor.document.uri)) return;
        clearTimeout(this.cursorTimer);
        this.cursorTimer = setTimeout(() => this.highlightAt(e.textEditor), 60);
      }),
    );
  }

  private mine(run: TrainingRun): boolean {
    return run.file.toString() === this.chosen.doc.uri.toString();
  }

  /** The model file, or one of its notebook's cells. */
  private owns(uri: vscode.Uri): boolean {
    const s = uri.toString();
    return s === this.chosen.doc.uri.toString() || !!this.chosen.cells?.some((c) => c.uri === s);
  }

  private async refresh(again: boolean): Promise<void> {
    const chosen = await chooseModel(this.ctx, this.chosen.doc.uri.toString(), this.chosen.model.name);
    if (!chosen || this.disposed) return;
    this.chosen = chosen;
    await this.sendModel();
    this.sendGraph();
    if (again) this.sendRuns();
    if (this.lastInput && this.plan) await this.runInput(this.lastInput);
  }

  private post(m: Message): void {
    // Answers (a plan from the language server, an evaluation) may arrive after the panel closed.
    if (this.ready && !this.disposed) void this.panel.webview.postMessage(m);
  }

  private postError(e: unknown, topic: PanelTopic): void {
    const message = e instanceof Error ? e.message : String(e);
    this.ctx.log.warn(`panel (${topic}): ${message}`);
    this.post(PanelError.create({ message, topic }));
  }

  private clear(topic: PanelTopic): void {
    this.post(PanelClear.create({ topic }));
  }

  // ---- weights and data ----------------------------------------------------------------------

  /**
   * The weights the panel runs: a checkpoint chosen in the explorer, else the last run's best
   * checkpoint, else the newest run on disk trained with this very architecture, else random.
   */
  private weights(): { source: WeightsSource; label: string } {
    if (this.pinned && existsSync(this.pinned)) return { source: { kind: 'checkpoint', path: this.pinned }, label: `checkpoint ${this.where(this.pinned)}` };
    const run = this.ctx.training.lastRuns.get(this.chosen.doc.uri.toString());
    const fp = this.plan ? architectureFingerprint(architectureOf(this.plan)) : undefined;
    const sameArch = run && this.plan && run.model === this.chosen.model.name && architectureFingerprint(architectureOf(run.plan)) === fp;
    if (run?.checkpoint && sameArch && existsSync(run.checkpoint)) return { source: { kind: 'checkpoint', path: run.checkpoint }, label: `checkpoint ${this.where(run.checkpoint)}` };
    const found = fp ? newestCheckpoint(this.chosen.doc.uri.fsPath, this.chosen.model.name, fp, runsFolderSetting()) : undefined;
    if (found) return { source: { kind: 'checkpoint', path: found.checkpoint }, label: `checkpoint ${this.where(found.checkpoint)}` };
    const seed = vscode.workspace.getConfiguration('convlens.training').get<number>('seed', 1);
    return { source: { kind: 'random', seed }, label: `random (untrained, seed ${seed})` };
  }

  /** `2026-12-01T102203.456Z-3f9a1c/best.ckpt`. */
  private where(checkpoint: string): string {
    return `${path.basename(path.dirname(checkpoint))}/${path.basename(checkpoint)}`;
  }

  private get dataKey(): string {
    return `convlens.panelData:${this.chosen.doc.uri.toString()}#${this.chosen.model.name}`;
  }

  /**
   * The data the feature maps can show, the training data of this model's runs first (newest
   * first), then the configured folder, the Keras cache where its file exists, and the built-in
   * digits; and the one shown first: the user's last choice, else the newest run's data, else the
   * built-in digits.
   */
  private dataSources(): { sources: PanelModelParams['dataSources']; chosen?: string } {
    const hint = this.chosen.datasetHint;
    const out: PanelModelParams['dataSources'] = [];
    const seen = new Set<string>();
    const add = (id: string, label: string) => {
      if (seen.has(id)) return;
      seen.add(id);
      out.push({ id, label });
    };
    const live = this.ctx.training.lastRuns.get(this.chosen.doc.uri.toString());
    const runData = [...(live ? [live.data] : []), ...this.runSummaries().map((r) => r.data)];
    for (const d of runData) add(d, d === 'synthetic' ? 'synthetic digits (the training data of this model’s runs)' : `training data: ${path.basename(d)} (${d})`);
    const configured = configuredDataFolder(hint);
    if (configured && existsSync(configured)) add(configured, `${hint} (${configured}, convlens.data.folders)`);
    if (hint && ['mnist', 'fashion_mnist'].includes(hint)) {
      const cached = path.join(process.env.KERAS_HOME ?? path.join(os.homedir(), '.keras'), 'datasets', `${hint}.npz`);
      if (existsSync(cached)) add(hint, `${hint} (Keras cache ${cached})`);
    }
    // A PyTorch model's (1, 28, 28) input takes the digits as a Keras (28, 28, 1) one does.
    const shown = this.plan ? channelsLastShape(this.plan, this.plan.inputShape).join() : '';
    if (shown === '28,28,1' || shown === '784') add('synthetic', 'synthetic digits (built in)');
    // The user's last choice, else the newest run's training data, else the data the file loads
    // (a configured folder, the Keras cache), else the built-in digits.
    const remembered = this.ctx.extension.workspaceState.get<string>(this.dataKey);
    const fileData = [configured, hint].find((d) => d && seen.has(d));
    const chosen = remembered && seen.has(remembered) ? remembered : (runData.find((d) => seen.has(d)) ?? fileData ?? (seen.has('synthetic') ? 'synthetic' : out[0]?.id));
    return { sources: out, chosen };
  }

  private runSummaries() {
    try {
      return listRuns(this.chosen.doc.uri.fsPath, runsFolderSetting(), this.chosen.model.name)
        .filter((r): r is Extract<typeof r, { id: string }> => 'id' in r)
        .reverse();
    } catch {
      return [];
    }
  }

  // ---- what the panel shows ------------------------------------------------------------------

  async sendModel(): Promise<void> {
    const r = await planOrExplain(this.ctx, this.chosen);
    this.plan = r.plan;
    const m = this.chosen.model;
    const classes = this.plan ? this.plan.outputShape[this.plan.outputShape.length - 1] : 0;
    const hint = this.chosen.datasetHint;
    const names = hint === 'cifar10' ? CIFAR10_CLASS_NAMES : hint === 'fashion_mnist' ? FASHION_MNIST_CLASS_NAMES : [];
    const { sources, chosen } = this.dataSources();
    this.sources = sources;
    this.post(
      PanelModel.create({
        file: vscode.workspace.asRelativePath(this.chosen.doc.uri),
        model: m.name,
        framework: m.framework,
        layers: m.layers.map((l) => ({ name: l.name, className: l.className, outputShape: l.outputShape, params: l.params, line: this.chosen.lineOf(l.span.start) })),
        // The panel draws inputs channels-last; a PyTorch model's (C, H, W) is shown as (H, W, C).
        inputShape: m.inputShape && m.inputShape.every((d) => d !== null) ? channelsLastShape(m, m.inputShape as number[]) : null,
        classNames: names.length === classes ? names : Array.from({ length: classes }, (_, i) => String(i)),
        problem: r.plan ? undefined : `${m.name} cannot run yet, so there are no feature maps or training: ${r.problems.map((p) => `${p.message} (line ${p.line})`).join('; ')}`,
        weights: this.weights().label,
        dataSources: sources,
        dataSource: chosen,
        explainable: this.plan ? explainableLayers(this.plan).map((l) => l.node) : [],
      }),
    );
  }

  private sendGraph(): void {
    const g = graphOfModel(this.chosen.model, this.chosen.text);
    attachProblems(g, this.problems());
    this.graph = g;
    this.post(PanelGraph.create({ graph: g, file: vscode.workspace.asRelativePath(this.chosen.doc.uri) }));
  }

  /** ConvLens' diagnostics of the file (or the notebook's cells) as program offsets. */
  private problems(): { start: number; end: number; severity: 'error' | 'warning' | 'info'; message: string }[] {
    const out: { start: number; end: number; severity: 'error' | 'warning' | 'info'; message: string }[] = [];
    const docs = this.chosen.cells ? this.chosen.cells.map((c) => ({ uri: vscode.Uri.parse(c.uri), base: c.start })) : [{ uri: this.chosen.doc.uri, base: 0 }];
    for (const { uri, base } of docs) {
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      if (!doc) continue;
      for (const d of vscode.languages.getDiagnostics(uri)) {
        if (d.source !== 'ConvLens') continue;
        const severity = d.severity === vscode.DiagnosticSeverity.Error ? 'error' : d.severity === vscode.DiagnosticSeverity.Warning ? 'warning' : 'info';
        out.push({ start: base + doc.offsetAt(d.range.start), end: base + doc.offsetAt(d.range.end), severity, message: d.message });
      }
    }
    return out;
  }

  /** The model's runs from disk (newest first, up to 30), with their records. */
  private sendRuns(): void {
    const fp = this.plan ? architectureFingerprint(architectureOf(this.plan)) : undefined;
    const running = this.ctx.training.running;
    const runningId = running && this.mine(running) && running.runDir ? path.basename(running.runDir) : undefined;
    const runs: PanelRun[] = this.runSummaries()
      .slice(0, 30)
      .map((r) => {
        const files = runLayout(r.dir);
        let batchSize: number | undefined;
        try {
          const s = JSON.parse(readFileSync(files.settings, 'utf8')) as { settings?: { batchSize?: number } };
          batchSize = typeof s.settings?.batchSize === 'number' ? s.settings.batchSize : undefined;
        } catch {
          /* the summary already said what is wrong */
        }
        const progress = readJsonLines<ProgressRecord & { step?: number }>(files.batches)
          .filter((x) => typeof x.epoch === 'number' && typeof x.batch === 'number' && typeof x.loss === 'number')
          .map((x) => ({ epoch: x.epoch, batch: x.batch, batches: x.batches, loss: x.loss, accuracy: x.accuracy, epochSeconds: x.epochSeconds, step: x.step, samplesPerSecond: x.samplesPerSecond }));
        const epochRecords = readJsonLines<EpochRecord>(files.epochs)
          .filter((x) => typeof x.epoch === 'number' && typeof x.loss === 'number')
          .map((x) => ({ epoch: x.epoch, loss: x.loss, accuracy: x.accuracy, val_loss: x.val_loss, val_accuracy: x.val_accuracy, seconds: x.seconds, learning_rate: x.learning_rate }));
        return {
          id: r.id,
          status: r.id === runningId ? 'running' : r.status,
          created: r.created,
          data: r.data,
          epochs: r.epochs,
          epochsDone: r.epochsDone,
          batchSize,
          best: r.best,
          test: r.test,
          current: !fp || r.fingerprint === fp,
          progress,
          epochRecords,
        };
      });
    let folder = '';
    try {
      folder = vscode.workspace.asRelativePath(runsHome({ modelFile: this.chosen.doc.uri.fsPath, modelName: this.chosen.model.name, runsFolder: runsFolderSetting() }).modelDir);
    } catch {
      /* a runs folder setting that cannot hold runs: the training command says why */
    }
    this.post(PanelRuns.create({ runs, running: runningId, folder }));
  }

  // ---- messages from the panel ---------------------------------------------------------------

  private async receive(m: unknown): Promise<void> {
    const type = isMessage(m) ? INCOMING.find((t) => t.method === m.method) : undefined;
    if (!type || !type.is(m)) {
      this.ctx.log.warn(`panel: ignored a malformed message ${isMessage(m) ? m.method : typeof m}`);
      return;
    }
    try {
      if (PanelReady.is(m)) await this.onReady();
      else if (RequestActivations.is(m)) {
        if (m.params.source === 'file') {
          const uris = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { Images: ['png', 'jpg', 'jpeg'] }, openLabel: 'Show its feature maps' });
          if (!uris?.[0]) return;
          await this.runInput({ source: 'file', path: uris[0].fsPath });
        } else await this.runInput(m.params);
      } else if (RequestFilters.is(m)) {
        if (!this.plan) return;
        try {
          const r = await this.ctx.inference.filters({ plan: this.plan, weights: this.weights().source, layer: m.params.layer });
          this.post(PanelFilters.create({ layer: r.layer, kernel: r.kernel, weights: r.weights }));
          this.clear('filters');
        } catch (e) {
          this.postError(e, 'filters');
        }
      } else if (RequestExplain.is(m)) await this.explain(m.params.layer, m.params.cls);
      else if (RequestTrain.is(m)) await vscode.commands.executeCommand('convlens.train', this.chosen.doc.uri.toString(), this.chosen.model.id);
      else if (RequestStop.is(m)) this.ctx.training.stop();
      else if (RequestReveal.is(m)) await this.reveal(m.params.node);
      else if (RequestNodeArgs.is(m)) this.sendNodeArgs(m.params.node);
      else if (RequestEditArg.is(m)) await this.editArg(m.params.node, m.params.arg, m.params.value);
      else if (RequestSaveCsv.is(m)) await this.saveCsv(m.params.csv, m.params.name);
      else if (RequestDataSource.is(m)) await this.ctx.extension.workspaceState.update(this.dataKey, m.params.id);
    } catch (e) {
      this.postError(e, 'model');
    }
  }

  private async onReady(): Promise<void> {
    this.ready = true;
    await this.sendModel();
    this.sendGraph();
    this.sendRuns();
    // A run in progress: what it said when it started and where it is now (its history came from disk).
    const running = this.ctx.training.running;
    if (running && this.mine(running)) {
      if (running.started) this.post(TrainingStarted.create(running.started));
      if (running.lastProgress) this.post(TrainingProgress.create(running.lastProgress));
    }
    const { chosen } = this.dataSources();
    if (this.plan) {
      const [h, w] = channelsLastShape(this.plan, this.plan.inputShape);
      await this.runInput(chosen ? { source: 'sample', dataSource: chosen, index: 0 } : { source: 'drawing', pixels: new Array(h * (w ?? 1)).fill(0) });
    }
    const editor = vscode.window.visibleTextEditors.find((e) => this.owns(e.document.uri));
    if (editor) this.highlightAt(editor);
    if (this.evaluateOn !== undefined) await this.evaluatePinned();
    else if (!this.pinned) {
      // The last run's evaluation; a panel on a chosen checkpoint shows only that checkpoint's.
      const run = this.ctx.training.lastRuns.get(this.chosen.doc.uri.toString());
      if (run?.done) void this.evaluate(run);
    }
  }

  private async runInput(input: Input): Promise<void> {
    if (!this.plan) return;
    this.lastInput = input;
    const w = this.weights();
    const request = ++this.activationRequests;
    try {
      const r = await this.ctx.inference.activations({ plan: this.plan, weights: w.source, input: this.inputSource(input, this.plan) });
      if (request !== this.activationRequests) return;
      this.post(PanelActivations.create({ input: r.input, inputLabel: r.inputLabel, layers: r.layers, probabilities: r.probabilities, weights: r.weights, milliseconds: r.milliseconds }));
      this.clear('features');
    } catch (e) {
      if (request === this.activationRequests) this.postError(e, 'features');
    }
  }

  private inputSource(input: Input, plan: TrainingPlan): InputSource {
    const [h, wd] = channelsLastShape(plan, plan.inputShape);
    return input.source === 'file'
      ? { kind: 'image', path: input.path! }
      : input.source === 'drawing'
        ? { kind: 'pixels', tensor: encodeTensor(Float32Array.from(input.pixels ?? []), [h, wd ?? 1]) }
        : { kind: 'sample', data: input.dataSource ?? 'synthetic', dataHint: this.chosen.datasetHint, index: input.index ?? 0 };
  }

  private async explain(layer: string, cls: number | undefined): Promise<void> {
    if (!this.plan || !this.lastInput) return;
    const request = ++this.explainRequests;
    try {
      const r = await this.ctx.inference.explain({ plan: this.plan, weights: this.weights().source, input: this.inputSource(this.lastInput, this.plan), layer, cls });
      if (request !== this.explainRequests) return;
      this.post(PanelExplain.create({ layer: r.layer, cls: r.cls, predicted: r.predicted, cam: r.cam, saliency: r.saliency, weights: r.weights, inputLabel: r.inputLabel }));
      this.clear('explain');
    } catch (e) {
      if (request === this.explainRequests) this.postError(e, 'explain');
    }
  }

  private async evaluate(run: TrainingRun): Promise<void> {
    if (!this.plan || !run.checkpoint || !existsSync(run.checkpoint)) return;
    try {
      const ev = await this.ctx.inference.evaluate({ plan: this.plan, weights: { kind: 'checkpoint', path: run.checkpoint }, data: run.data, dataHint: run.dataHint, samples: 32 });
      this.post(PanelEvaluation.create({ ...ev, weights: this.where(run.checkpoint) }));
      this.clear('evaluation');
    } catch (e) {
      this.postError(e, 'evaluation');
    }
  }

  /** Evaluates the checkpoint chosen in the explorer on the data chosen there. */
  private async evaluatePinned(): Promise<void> {
    const data = this.evaluateOn;
    this.evaluateOn = undefined;
    if (!this.plan || !this.pinned || !data) return;
    try {
      const ev = await this.ctx.inference.evaluate({ plan: this.plan, weights: { kind: 'checkpoint', path: this.pinned }, data, dataHint: this.chosen.datasetHint, samples: 32 });
      this.post(PanelEvaluation.create({ ...ev, weights: this.where(this.pinned) }));
      this.clear('evaluation');
    } catch (e) {
      this.postError(e, 'evaluation');
    }
  }

  // ---- the graph and the source --------------------------------------------------------------

  /** A program offset as a document and an offset in it (a notebook cell, or the file). */
  private location(offset: number): { uri: vscode.Uri; offset: number } {
    const cell = this.chosen.cells?.find((c) => offset >= c.start && offset <= c.end);
    return cell ? { uri: vscode.Uri.parse(cell.uri), offset: offset - cell.start } : { uri: this.chosen.doc.uri, offset };
  }

  private async reveal(nodeId: string): Promise<void> {
    const node = this.graph && findNode(this.graph, nodeId);
    if (!node?.call) return;
    const start = this.location(node.call.start);
    const end = this.location(node.call.end);
    const doc = await vscode.workspace.openTextDocument(start.uri);
    const range = new vscode.Range(doc.positionAt(start.offset), doc.positionAt(end.uri.toString() === start.uri.toString() ? end.offset : start.offset));
    const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === doc.uri.toString());
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: visible?.viewColumn ?? vscode.ViewColumn.One, preserveFocus: false, selection: new vscode.Selection(range.start, range.start) });
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  private highlightAt(editor: vscode.TextEditor): void {
    if (!this.graph) return;
    const uri = editor.document.uri.toString();
    const cell = this.chosen.cells?.find((c) => c.uri === uri);
    const offset = (cell?.start ?? 0) + editor.document.offsetAt(editor.selection.active);
    this.post(PanelHighlight.create({ nodes: nodesAt(this.graph, offset) }));
  }

  private sendNodeArgs(nodeId: string, error?: string): void {
    const node = this.graph && findNode(this.graph, nodeId);
    if (!node) return;
    const type = findLayer(node.className);
    const readOnly = !node.ctor
      ? `${node.name} is made by another file's code (a keras.applications model or a module), so it is not edited from here.`
      : node.kind === 'input'
        ? 'The input: edit its shape in the source.'
        : node.kind === 'model'
          ? `${node.name} is a nested model: expand it (⊞) to edit its layers.`
          : !type
            ? `${node.className} is not a Keras layer class ConvLens knows, so its arguments are not edited from the graph.`
            : undefined;
    const fields = !readOnly && type && node.ctor ? argFields(type, this.chosen.text, node.ctor) : [];
    const note = node.repeat > 1 ? `This line makes ${node.repeat} calls (a loop or a helper run ${node.repeat} times): an edit changes every one of them.` : node.shared ? 'This layer is shared (called more than once): an edit changes every call.' : undefined;
    this.post(PanelNodeArgs.create({ node: nodeId, fields, ...(readOnly ? { readOnly } : {}), ...(note ? { note } : {}), ...(error ? { error } : {}) }));
  }

  /** Sets one argument of a node's layer in the source: one workspace edit (Ctrl+Z undoes it). */
  private async editArg(nodeId: string, arg: string, value: string): Promise<void> {
    const node = this.graph && findNode(this.graph, nodeId);
    const type = node && findLayer(node.className);
    const spec = type?.args[arg];
    if (!node?.ctor || !type || !spec) return this.sendNodeArgs(nodeId, `${arg} cannot be edited here`);
    const code = argumentCode(spec, arg, value, preferredQuote(this.chosen.text));
    if ('error' in code) return this.sendNodeArgs(nodeId, code.error);
    const r = setArgument(this.chosen.text, node.ctor, Object.keys(type.args), arg, code.code);
    if ('error' in r) return this.sendNodeArgs(nodeId, r.error);
    const start = this.location(r.start);
    const end = this.location(r.end);
    if (start.uri.toString() !== end.uri.toString()) return this.sendNodeArgs(nodeId, 'the call spans two notebook cells');
    const doc = await vscode.workspace.openTextDocument(start.uri);
    const range = new vscode.Range(doc.positionAt(start.offset), doc.positionAt(end.offset));
    // The analysis the graph came from must be of the text as it is now.
    if (doc.getText(range) !== this.chosen.text.slice(r.start, r.end)) {
      await this.refresh(false);
      return this.sendNodeArgs(nodeId, 'the file changed since the graph was drawn: try again');
    }
    if (r.newText === doc.getText(range)) return this.sendNodeArgs(nodeId);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(doc.uri, range, r.newText);
    if (!(await vscode.workspace.applyEdit(edit))) return this.sendNodeArgs(nodeId, 'VS Code did not apply the edit (is the file read-only?)');
    this.ctx.log.info(`graph: set ${arg} of ${node.name} to ${code.code ?? 'its default'} (${vscode.workspace.asRelativePath(doc.uri)} line ${range.start.line + 1})`);
  }

  private async saveCsv(csv: string, name: string): Promise<void> {
    const folder = vscode.workspace.getWorkspaceFolder(this.chosen.doc.uri)?.uri ?? vscode.Uri.file(path.dirname(this.chosen.doc.uri.fsPath));
    const out = await vscode.window.showSaveDialog({ title: 'Save the training curves as CSV', defaultUri: vscode.Uri.joinPath(folder, name.replace(/[^\w.-]/g, '_')), filters: { CSV: ['csv'] } });
    if (!out) return;
    try {
      writeFileSync(out.fsPath, csv);
      void vscode.window.showInformationMessage(`ConvLens saved the curves to ${vscode.workspace.asRelativePath(out)}.`);
    } catch (e) {
      this.postError(new Error(`could not write ${out.fsPath}: ${(e as Error).message}`), 'runs');
    }
  }

  dispose(): void {
    this.disposed = true;
    ModelPanel.panels.delete(this.chosen.doc.uri.toString());
    clearTimeout(this.refreshTimer);
    clearTimeout(this.cursorTimer);
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}
