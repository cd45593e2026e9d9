import * as path from 'node:path';
import * as vscode from 'vscode';
import { decodeOnnx, ELEM_TYPE_NAMES, imageInput, type DecodedModel } from '../core/onnx/decode';
import type { OnnxImageInput } from '../core/protocol/inference';
import { isMessage, type Message, type Notification } from '../core/protocol/messages';
import {
  OnnxSummary,
  PanelActivations,
  PanelClear,
  PanelError,
  PanelFilters,
  PanelGraph,
  PanelModel,
  PanelNodeArgs,
  PanelReady,
  RequestActivations,
  RequestFilters,
  RequestNodeArgs,
  RequestOnnxScale,
  encodeTensor,
  type PanelTopic,
} from '../core/protocol/panel';
import { FEATURE_OPS, graphOfOnnx, valueInfoLabel } from '../core/view/onnxGraph';
import type { Ctx } from './context';
import { panelHtml } from './webviewHtml';

const INCOMING = [PanelReady, RequestActivations, RequestFilters, RequestNodeArgs, RequestOnnxScale] as Notification<object>[];

/**
 * A read-only custom editor for `.onnx` files, whoever made them: the operator graph, inputs and
 * outputs, initializers and their sizes, and, for a model with one image input, the feature maps
 * of an image (run in the inference process) and its first convolution's kernels.
 */
/** Registers the `.onnx` viewer. */
export function registerOnnxEditor(ctx: Ctx): vscode.Disposable {
  return OnnxEditorProvider.register(ctx);
}

export class OnnxEditorProvider implements vscode.CustomReadonlyEditorProvider {
  static readonly viewType = 'convlens.onnx';

  static register(ctx: Ctx): vscode.Disposable {
    return vscode.window.registerCustomEditorProvider(OnnxEditorProvider.viewType, new OnnxEditorProvider(ctx), { webviewOptions: { retainContextWhenHidden: true }, supportsMultipleEditorsPerDocument: true });
  }

  constructor(private readonly ctx: Ctx) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  async resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): Promise<void> {
    panel.webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'media')] };
    panel.webview.html = panelHtml(panel.webview, this.ctx.extension.extensionUri, { view: 'onnx', tab: 'graph' });
    const view = new OnnxView(this.ctx, document.uri, panel);
    panel.onDidDispose(() => view.dispose());
  }
}

class OnnxView {
  private model?: DecodedModel;
  private bytes?: Uint8Array;
  private ready = false;
  private scale: OnnxImageInput['scale'] = 'unit';
  private last: { kind: 'synthetic'; index: number } | { kind: 'image'; path: string } | { kind: 'pixels'; pixels: number[] } = { kind: 'synthetic', index: 0 };
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly ctx: Ctx,
    private readonly uri: vscode.Uri,
    private readonly panel: vscode.WebviewPanel,
  ) {
    this.subs.push(panel.webview.onDidReceiveMessage((m) => this.receive(m)));
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(uri.fsPath)), path.basename(uri.fsPath)));
    watcher.onDidChange(() => void this.load());
    this.subs.push(watcher);
  }

  private post(m: Message): void {
    if (this.ready) void this.panel.webview.postMessage(m);
  }

  private error(e: unknown, topic: PanelTopic): void {
    const message = e instanceof Error ? e.message : String(e);
    this.ctx.log.warn(`onnx viewer: ${message}`);
    this.post(PanelError.create({ message, topic }));
  }

  private get file(): string {
    return vscode.workspace.asRelativePath(this.uri);
  }

  private async load(): Promise<void> {
    try {
      this.bytes = await vscode.workspace.fs.readFile(this.uri);
      this.model = decodeOnnx(this.bytes);
    } catch (e) {
      this.model = undefined;
      this.post(OnnxSummary.create({ file: this.file, producer: '', inputs: [], outputs: [], initializers: [], ops: [], error: `${this.file} cannot be shown: ${(e as Error).message}` }));
      return;
    }
    const m = this.model;
    const counts = new Map<string, number>();
    for (const n of m.graph.nodes) counts.set(n.opType, (counts.get(n.opType) ?? 0) + 1);
    const image = imageInput(m);
    this.post(
      OnnxSummary.create({
        file: this.file,
        producer: `${m.producerName || 'unknown producer'} ${m.producerVersion}`.trim() + `, IR ${m.irVersion}, opset ${m.opsets.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ')}`,
        inputs: m.graph.inputs.map((v) => ({ name: v.name, type: valueInfoLabel(v) })),
        outputs: m.graph.outputs.map((v) => ({ name: v.name, type: valueInfoLabel(v) })),
        initializers: m.graph.initializers.map((t) => ({ name: t.name, dims: t.dims, type: ELEM_TYPE_NAMES[t.dataType] ?? String(t.dataType), count: t.count, bytes: t.bytes })),
        ops: [...counts].sort((a, b) => b[1] - a[1]).map(([op, count]) => ({ op, count })),
        ...(image ? { image } : {}),
      }),
    );
    this.sendGraph();
    const out = m.graph.outputs[0]?.shape;
    const classes = out && out.length === 2 && typeof out[1] === 'number' ? out[1] : 0;
    this.post(
      PanelModel.create({
        file: this.file,
        model: m.graph.name || path.basename(this.uri.fsPath),
        layers: this.featureNodes().map((f) => ({ name: f.name, className: f.opType, outputShape: null, params: null, line: 0 })),
        inputShape: image ? [image.height, image.width, image.channels] : null,
        classNames: Array.from({ length: classes }, (_, i) => String(i)),
        weights: 'the file’s own',
        dataSources: image ? [{ id: 'synthetic', label: `synthetic digits (resized to ${image.height}×${image.width})` }] : [],
        dataSource: image ? 'synthetic' : undefined,
        explainable: [],
      }),
    );
    if (image) await this.activations();
  }

  private sendGraph(shapes = new Map<string, number[]>()): void {
    if (!this.model) return;
    this.post(PanelGraph.create({ graph: graphOfOnnx(this.model, shapes), file: this.file }));
  }

  /** The operator outputs shown as feature maps, with a name each. */
  private featureNodes(): { tensor: string; name: string; opType: string }[] {
    if (!this.model) return [];
    return this.model.graph.nodes
      .map((n, i) => ({ tensor: n.outputs[0], name: n.name || `${n.opType}_${i}`, opType: n.opType }))
      .filter((t) => t.tensor && FEATURE_OPS.has(t.opType));
  }

  private async activations(): Promise<void> {
    const image = this.model && imageInput(this.model);
    if (!this.model || !image) return;
    const source = this.last.kind === 'pixels' ? { kind: 'synthetic' as const, index: 0 } : this.last;
    try {
      const r = await this.ctx.inference.onnxActivations({ path: this.uri.fsPath, input: { ...image, scale: this.scale }, source, tensors: this.featureNodes() });
      this.post(PanelActivations.create({ input: r.input, inputLabel: `${r.inputLabel}, pixels ${this.scale === 'unit' ? 'in [0, 1]' : this.scale === 'byte' ? 'in [0, 255]' : 'standardised as ImageNet'}`, layers: r.layers.map((l) => ({ ...l, inputs: [] })), probabilities: r.probabilities, weights: 'the file’s own', milliseconds: r.milliseconds }));
      this.sendGraph(new Map(r.shapes.map((s) => [s.tensor, s.shape])));
      this.post(PanelClear.create({ topic: 'features' }));
    } catch (e) {
      this.error(e, 'features');
    }
  }

  private async receive(m: unknown): Promise<void> {
    const type = isMessage(m) ? INCOMING.find((t) => t.method === m.method) : undefined;
    if (!type || !type.is(m)) return;
    if (PanelReady.is(m)) {
      this.ready = true;
      await this.load();
    } else if (RequestActivations.is(m)) {
      if (m.params.source === 'file') {
        const uris = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { Images: ['png', 'jpg', 'jpeg'] }, openLabel: 'Show its feature maps' });
        if (!uris?.[0]) return;
        this.last = { kind: 'image', path: uris[0].fsPath };
      } else if (m.params.source === 'sample') this.last = { kind: 'synthetic', index: m.params.index ?? 0 };
      else {
        this.error(new Error('drawing is not available for .onnx files: choose a synthetic digit or an image file'), 'features');
        return;
      }
      await this.activations();
    } else if (RequestOnnxScale.is(m)) {
      this.scale = m.params.scale;
      await this.activations();
    } else if (RequestFilters.is(m)) this.filters(m.params.layer);
    else if (RequestNodeArgs.is(m)) this.nodeArgs(m.params.node);
  }

  /** A Conv node's kernel, from its initializer (ONNX (M, C/g, kh, kw) → Keras (kh, kw, C/g, M)). */
  private filters(layer: string): void {
    const m = this.model;
    const node = m?.graph.nodes.find((n, i) => (n.name || `${n.opType}_${i}`) === layer);
    const w = node && m!.graph.initializers.find((t) => t.name === node.inputs[1]);
    if (!node || node.opType !== 'Conv' || !w || !w.raw || w.dataType !== 1 || w.dims.length !== 4) {
      this.error(new Error(`${layer} has no float32 convolution kernel stored in the file`), 'filters');
      return;
    }
    const [M, C, kh, kw] = w.dims;
    const src = new Float32Array(w.raw.buffer.slice(w.raw.byteOffset, w.raw.byteOffset + w.raw.byteLength));
    const out = new Float32Array(src.length);
    for (let o = 0; o < M; o++) for (let c = 0; c < C; c++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) out[((y * kw + x) * C + c) * M + o] = src[((o * C + c) * kh + y) * kw + x];
    this.post(PanelFilters.create({ layer, kernel: encodeTensor(out, [kh, kw, C, M]), weights: 'the file’s own' }));
  }

  /** The property sheet of an operator: its attributes, read-only. */
  private nodeArgs(id: string): void {
    const i = Number(id.replace(/^op/, ''));
    const n = this.model?.graph.nodes[i];
    if (!n) {
      this.post(PanelNodeArgs.create({ node: id, fields: [], readOnly: 'A graph input.' }));
      return;
    }
    const attrs = n.attributes.map((a) => `${a.name} = ${typeof a.value === 'object' && a.value !== null && !Array.isArray(a.value) ? ('graph' in a.value ? `graph ${a.value.graph}` : `tensor (${a.value.dims.join(', ')})`) : JSON.stringify(a.value)}`);
    this.post(PanelNodeArgs.create({ node: id, fields: [], readOnly: `${n.opType}${n.domain ? ` (${n.domain})` : ''} · inputs ${n.inputs.join(', ')} · outputs ${n.outputs.join(', ')}${attrs.length ? ` · ${attrs.join(' · ')}` : ''}. An .onnx file is shown read-only.` }));
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}
