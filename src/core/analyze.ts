import { ProblemSink, type Fix, type Problem } from './diagnostics';
import { checkKerasNames } from './kerasNames';
import { findLayer, type FrameworkName, type WeightSpec } from './layers/index';
import { Interpreter, type InterpreterLimits, type ModuleLoader } from './parse/interpreter';
import { readModule } from './parse/frontEnd';
import type { Module, Span } from './parse/pythonAst';
import type { PythonParse } from './parse/syntaxTree';
import type { CompileSpec, FitSpec } from './parse/values';
import { mapGraph, nodeIndex, paramCounts, tensorName, type GraphNode, type TrainableFlags, type LayerInstance, type ModelBuild, type ModelKind, type ModuleCall, type SymTensor } from './model/graph';
import type { ModuleRowData } from './parse/torch';
import { product, type Dim } from './shape';

/** Receptive field of one output position, in input pixels per spatial axis. */
export type ReceptiveField = { size: number[]; stride: number[] } | 'global';

export type LayerStatus = 'ok' | 'error' | 'unknown' | 'unsupported';

/** Operations on tensors (`x * 0.5`, `ops.exp(x)`) that Keras 3's summary shows under its op names (`Multiply`). */
const OP_TYPES: ReadonlySet<string> = new Set(['ScalarOp', 'UnaryOp']);

/** Everything ConvLens knows about one call of a layer in a model (one row per graph node, in execution order). */
export interface LayerReport {
  /** Whose layer it is (PyTorch's print `[1, 10, 24, 24]`, Keras' `(None, 24, 24, 10)`). */
  framework: FrameworkName;
  index: number;
  /** The node's id: unique in the analysis. */
  id: number;
  /** The layer object's id: several rows share it when a layer is called several times. */
  layerId: number;
  /** Which call of the layer this is (Keras' node index). */
  nodeIndex: number;
  /** Keras' name for the layer (`conv2d_1`). */
  name: string;
  /** The class (`Conv2D`, or a user subclass, `Functional` for a nested model). */
  className: string;
  /**
   * The registry layer type whose rules apply when it is not `className`'s own: `Conv2D` for a user
   * subclass of it, PyTorch's `relu` for `F.relu`, an operation on a tensor shown under Keras 3's op
   * name (`x * 0.5` is a `Multiply` row computed by `ScalarOp`).
   */
  typeName?: string;
  /** The constructor call in the source. */
  span: Span;
  /** The call that applied it: `layers.Conv2D(…)(x)`, `model.add(…)`, or a list item. */
  addSpan: Span;
  /** Where its inlay hint goes. */
  anchor: number;
  /** The first input's per-sample shape; null when unknown. */
  inputShape: Dim[] | null;
  /** Every input's per-sample shape (merge layers have several). */
  inputShapes: (Dim[] | null)[];
  /** Per-sample output shape, null when unknown. */
  outputShape: Dim[] | null;
  /** The output's batch size when the file fixes it (PyTorch's `torch.randn(1, …)`), else null. */
  batch: Dim;
  /** Each input's batch size. */
  inputBatches: Dim[];
  /** A PyTorch module's qualified name in its model (`layer1.0.conv1`); undefined for operations (`F.relu`, `+`). */
  module?: string;
  /** True when the leading axes are not known (the model has no input shape). */
  partialShape: boolean;
  /** Keras' "Connected to": the tensors this call reads, `conv2d[0][0]`. */
  inputs: string[];
  /** Rows of this model that produce the inputs (-1 for an input not produced inside the model). */
  inputRows: number[];
  params: number | null;
  trainableParams: number | null;
  nonTrainableParams: number | null;
  weights: WeightSpec[];
  formula?: string;
  macs: number | null;
  receptiveField: ReceptiveField | null;
  /** Bytes of this call's output for one sample, float32. */
  activationBytes: number | null;
  doc?: string;
  activation?: string | null;
  /** Arguments as read, with Keras defaults filled in (for hover and the trainer). */
  config: Record<string, unknown>;
  status: LayerStatus;
  /** The input declaration of a functional model (`input_layer (InputLayer)`). */
  isInput: boolean;
  /** The layer is called more than once in this model (shared weights, counted once). */
  shared: boolean;
  /** A nested model or custom composite layer: its own analysis (Keras' expand_nested). */
  nested?: ModelReport;
  /** Made while running another file's code (a sibling module, a bundled application). */
  foreign: boolean;
}

/** One row of Keras' `model.summary()`: a layer, whatever how often it is called. */
export interface SummaryRow {
  layerId: number;
  name: string;
  className: string;
  /** Rows of `layers` that are calls of this layer, in order. */
  calls: number[];
  params: number | null;
  trainableParams: number | null;
  nonTrainableParams: number | null;
  /** The layer has weights but was never called, so they do not exist yet (Keras prints `0 (unbuilt)`). */
  unbuilt: boolean;
}

export interface ModelReport {
  id: number;
  framework: FrameworkName;
  name: string;
  varName?: string;
  kind: ModelKind;
  span: Span;
  /** Whether ConvLens could follow the model's structure (its graph). */
  analysed: boolean;
  /** The first input's per-sample shape. */
  inputShape: Dim[] | null;
  /** The first output's per-sample shape. */
  outputShape: Dim[] | null;
  /** The batch sizes of the first input and output when the file fixes them (PyTorch), else null. */
  inputBatch: Dim;
  outputBatch: Dim;
  inputs: { name: string; shape: Dim[] | null }[];
  /** `key`: the output's key when the model returns a dict (PyTorch's `OrderedDict` of named outputs). */
  outputs: { name: string; shape: Dim[] | null; key?: string }[];
  /** Every call of a layer, in execution order. */
  layers: LayerReport[];
  /** Keras' summary rows (one per layer, in Keras' order). */
  summary: SummaryRow[];
  /** Keras prints a "Connected to" column (a functional model that is not a plain chain). */
  connected: boolean;
  totalParams: number | null;
  trainableParams: number | null;
  nonTrainableParams: number | null;
  macs: number | null;
  compile?: CompileSpec;
  fit?: FitSpec;
  incomplete?: string;
  /** How the input shape was found when it was not declared (`the data passed to fit()`). */
  inputFrom?: string;
  /** Built by ConvLens calling a builder the file never calls (`build_model()`). */
  speculative?: string;
  /** Built in another file's code (a bundled keras.applications model). */
  foreign: boolean;
  /** A keras.applications model asked for pretrained weights (`'imagenet'`) ConvLens cannot load. */
  pretrained?: string;
  hasErrors: boolean;
  /** What each `model.summary()` call prints at its point in the file (layers may be added or frozen after it). */
  snapshots: { span: Span; totalParams: number | null; trainableParams: number | null; nonTrainableParams: number | null; layers: number }[];
  /**
   * Where the trainable split comes from when later code changed `trainable`: the model's last
   * `compile()` (what training updates), or, never compiled, its last `summary()` call. Unset:
   * the flags at the end of the file (nothing changed them after those calls).
   */
  trainableFrom?: { call: 'compile' | 'summary'; span: Span };
  /** PyTorch: buffers (BatchNorm's running statistics), which are module state, not parameters. */
  buffers?: { tensors: number; elements: number | null };
  /** PyTorch: torchinfo's rows, every module call of the traced forward pass (containers included). */
  modules?: ModuleRow[];
}

/** One row of a torchinfo table: a module call, or a container never called put back above its children. */
export interface ModuleRow {
  /** Qualified name (`layer1.0.conv1`; `''` for the model). */
  name: string;
  className: string;
  /** Depth in the module tree and torchinfo's index among the rows of that depth (`2-3`). */
  depth: number;
  depthIndex: number;
  /** No child modules: torchinfo counts its mult-adds and activation memory. */
  leaf: boolean;
  /** An earlier row already shows this module (a second call, a shared module). */
  recursive: boolean;
  /** Whole output shape, batch first; null when unknown or never called. */
  outputShape: Dim[] | null;
  /** Every output's whole shape (a module returning a tuple has several). */
  outputShapes: (Dim[] | null)[];
  called: boolean;
  /** Parameters of the module and all it contains; trainable ones; parameters it holds itself. */
  params: number | null;
  trainableParams: number | null;
  /** torchinfo's mult-adds of this call (every weight and bias times the output positions, batch included). */
  multAdds: number | null;
  receptiveField: ReceptiveField | null;
  /** The call's row in `layers` (a leaf's node), if any. */
  layer?: number;
  /** The call in the document. */
  span?: Span;
}

export interface FileAnalysis {
  models: ModelReport[];
  problems: Problem[];
  /** Keras datasets the file loads (`mnist` for `mnist.load_data()`), the trainer's default data. */
  datasets: string[];
  /** Every call of a layer in the document, models or not, for editor features (hints, hover). */
  calls: LayerReport[];
}

export interface AnalyzeOptions {
  limits?: InterpreterLimits;
  /** Reads another module of the file's folder (`from my_blocks import conv_block`). */
  loadModule?: ModuleLoader;
  /**
   * The whole input shape, batch first (`[1, 3, 32, 32]`), for PyTorch models whose file shows
   * none (`convlens summary --input-shape 1,3,32,32`).
   */
  inputShape?: number[];
}

/**
 * Cheap test before any parsing: may this text build a model (Keras' or PyTorch's)? A file that
 * mentions neither framework has nothing to show, and a host may skip its analysis.
 */
export function mayBuildModels(text: string): boolean {
  return MODEL_HINT.test(text);
}

const MODEL_HINT = /\b(?:keras|Sequential|Conv[123]D|Dense|torch|nn\.Module)\b/;

/** Parses and analyses one Python file. Never throws on any input text. */
export function analyzeSource(text: string, parse: PythonParse, opts: AnalyzeOptions = {}): FileAnalysis {
  const sink = new ProblemSink();
  const module = readModule(text, parse, sink);
  if (!module) return { models: [], problems: sink.problems, datasets: [], calls: [] };
  const interp = new Interpreter(sink, text, { parse: (t) => parsedOther(t, parse), loadModule: opts.loadModule }, opts.limits);
  if (opts.inputShape) interp.torch.setDefaultInput(opts.inputShape, 'the --input-shape option');
  try {
    interp.run(module);
    interp.fw.finish();
  } catch (e) {
    sink.warning('internal', { start: 0, end: 0 }, `ConvLens could not finish analysing this file (internal error: ${(e as Error).message})`);
  }
  checkKerasNames(interp.models, text, sink);
  const reporter = new Reporter(interp);
  const models: ModelReport[] = [];
  for (const b of interp.models) {
    try {
      models.push(reporter.fileModel(b));
    } catch (e) {
      sink.warning('internal', b.span, `ConvLens could not report model '${b.kerasName}' (internal error: ${(e as Error).message})`);
    }
  }
  for (const m of models) if (!m.foreign && !m.speculative) noteMissingInput(m, interp, sink, text);
  const noted = new Set<number>();
  for (const m of models) if (!m.foreign && m.framework === 'pytorch') noteMissingTorchInput(m, interp, sink, text, noted);
  return { models, problems: sink.problems, datasets: interp.datasets, calls: reporter.calls() };
}

/**
 * Other files' code (sibling modules, ConvLens' bundled definitions) parsed once per text: a
 * keystroke in the document does not re-read them.
 */
const otherModules = new Map<string, Module>();

function parsedOther(text: string, parse: PythonParse): Module {
  let m = otherModules.get(text);
  if (m) {
    otherModules.delete(text);
  } else {
    m = readModule(text, parse, new ProblemSink()) ?? { body: [], syntaxProblems: [] };
    if (otherModules.size >= 32) otherModules.delete(otherModules.keys().next().value!);
  }
  otherModules.set(text, m);
  return m;
}

/** The warning a model without any input shape gets, at its constructor. */
function noteMissingInput(m: ModelReport, interp: Interpreter, sink: ProblemSink, text: string): void {
  if (m.kind !== 'sequential' || m.inputShape !== null || m.layers.length === 0) return;
  // Something ConvLens could not see into was added: that is what it says, not a missing input.
  if (m.layers.some((l) => l.className === '?')) return;
  const b = interp.models.find((x) => x.id === m.id);
  const first = b?.sequence[0]?.layer;
  const declared = first && ['input_shape', 'batch_input_shape', 'input_dim', 'shape', 'batch_shape'].some((k) => first.args.keyword.has(k));
  if (declared || b?.input) return;
  sink.warning('no-input-shape', headSpan(m.span, text), `Model '${m.name}' has no input shape, so its shapes are unknown: give the first layer input_shape=(…), or add keras.Input(shape=(…)) first`);
}

/**
 * A PyTorch model the file never gives an input (no call on an example, no summary, no data):
 * where to give one, with a quick fix writing a `# convlens: input_shape=…` comment above its
 * class (or its constructor), the shape guessed from the first layer. Once per source line.
 */
function noteMissingTorchInput(m: ModelReport, interp: Interpreter, sink: ProblemSink, text: string, noted: Set<number>): void {
  if (m.inputShape !== null) return;
  const b = interp.models.find((x) => x.id === m.id);
  if (!b || b.input) return;
  const cls = interp.torch.classOf(b);
  const at = cls && cls.file.module === '' ? cls.span : b.span;
  const lineStart = text.lastIndexOf('\n', at.start - 1) + 1;
  if (noted.has(lineStart)) return;
  noted.add(lineStart);
  const indent = /^[ \t]*/.exec(text.slice(lineStart))![0];
  const guess = interp.torch.guessInput(b);
  const shape = `(${guess.join(', ')})`;
  const fix: Fix = { title: `Add '# convlens: input_shape=${shape}' (edit it to your data)`, edits: [{ span: { start: lineStart, end: lineStart }, newText: `${indent}# convlens: input_shape=${shape}\n` }] };
  const example = `${m.varName ?? 'model'}(torch.randn${shape})`;
  sink.report({
    severity: 'information',
    code: 'no-input-shape',
    span: headSpan(at, text),
    message: `${m.name} has no input shape in this file, so its output shapes are unknown (its parameters are counted): call it on an example input, e.g. ${example}, or add a comment '# convlens: input_shape=${shape}' above it`,
    fixes: [fix],
  });
}

/** The first line of a range, so a diagnostic on a long call does not paint many lines. */
export function headSpan(span: Span, text: string): Span {
  const nl = text.indexOf('\n', span.start);
  return { start: span.start, end: nl >= 0 && nl < span.end ? nl : span.end };
}

const sampleOf = (t: SymTensor): Dim[] | null => t.sample;

/** Builds reports from the interpreter's graphs. */
class Reporter {
  /**
   * Reports of models and custom layers, one cache per set of trainable flags applied: a model
   * nested in another is reported with the flags of the outer one's compile() (a GAN's
   * discriminator is frozen inside the GAN and trainable on its own).
   */
  private readonly reportsIn = new Map<TrainableFlags | undefined, Map<ModelBuild | LayerInstance, ModelReport>>();
  private applied: TrainableFlags | undefined;

  private get nested(): Map<ModelBuild | LayerInstance, ModelReport> {
    let m = this.reportsIn.get(this.applied);
    if (!m) this.reportsIn.set(this.applied, (m = new Map()));
    return m;
  }
  private readonly rowsOfNode = new Map<GraphNode, LayerReport>();

  constructor(private readonly interp: Interpreter) {}

  /** The trainable and non-trainable counts of a layer's weights (composites: their inner layers, each once). */
  /** A layer's weights (Keras' trainable flags applied) and parameter counts. */
  private counts(layer: LayerInstance): { weights: WeightSpec[]; trainable: number | null; nonTrainable: number | null } {
    const c = paramCounts(layer, (l) => this.innerLayers(l));
    const weights = layer.composite ? [] : (layer.weights ?? []).map((w) => ({ ...w, trainable: w.trainable && layer.trainable }));
    return { weights, ...c };
  }

  /** The layers inside a composite: a nested model's, or those a custom layer's call used. */
  private innerLayers(layer: LayerInstance): LayerInstance[] {
    return this.interp.fw.innerLayers(layer);
  }

  private buildLayers(m: ModelBuild): LayerInstance[] {
    return this.interp.fw.reportLayers(m);
  }

  private row(node: GraphNode, index: number, model: ModelBuild | undefined, rowOf: Map<GraphNode, number>): LayerReport {
    const layer = node.layer;
    const c = this.counts(layer);
    const output = node.outputs[0];
    const bound = layer.bound;
    const samples = node.inputs.map(sampleOf);
    let formula: string | undefined;
    const params = c.trainable === null || c.nonTrainable === null ? null : c.trainable + c.nonTrainable;
    if (params !== null && c.weights.length > 0 && bound && layer.builtFor) {
      try {
        formula = bound.formula(layer.builtFor, params) ?? `${c.weights.map((w) => w.shape.join('·')).join(' + ')} = ${params.toLocaleString('en-US')}`;
      } catch {
        formula = undefined;
      }
    }
    const outCount = output && output.sample !== null && !output.partial ? product(output.sample) : null;
    const field = output?.field ?? null;
    const config: Record<string, unknown> = bound ? { ...bound.config } : {};
    const report: LayerReport = {
      framework: layer.framework ?? 'keras',
      index,
      id: node.id,
      layerId: layer.id,
      nodeIndex: nodeIndex(node),
      name: layer.kerasName,
      className: layer.className,
      // Operations ConvLens made (`ops.relu(x)` as a `Relu` row, `tf.nn.depth_to_space` as `TFOpLambda`), ScalarOp/UnaryOp
      // rows, and PyTorch's functional calls (`F.relu` shown as `relu`). Not a Keras subclass of a layer: its call() may differ.
      ...(layer.type && (layer.op || OP_TYPES.has(layer.type.name) || layer.framework === 'pytorch') && layer.type.name !== layer.className ? { typeName: layer.type.name } : {}),
      span: layer.span,
      addSpan: node.span,
      anchor: node.anchor,
      inputShape: samples[0] ?? null,
      inputShapes: samples,
      outputShape: output ? output.sample : null,
      batch: output ? output.batch : null,
      inputBatches: node.inputs.map((t) => t.batch),
      module: layer.framework === 'pytorch' && this.interp.torch.isModule(layer) ? layer.kerasName : undefined,
      partialShape: output ? output.partial : false,
      inputs: node.inputs.map(tensorName),
      inputRows: node.inputs.map((t) => rowOf.get(t.producer) ?? -1),
      params,
      trainableParams: c.trainable,
      nonTrainableParams: c.nonTrainable,
      weights: c.weights,
      formula,
      macs: node.macs,
      receptiveField: field === null ? null : field === 'global' ? 'global' : { size: field.size, stride: field.jump },
      activationBytes: outCount === null ? null : outCount * 4,
      doc: layer.type?.doc ?? (layer.composite ? `A nested ${layer.composite.kind === 'sequential' ? 'Sequential' : 'functional'} model used as a layer.` : undefined),
      activation: (config.activation as string | null | undefined) ?? undefined,
      config,
      status: node.status,
      isInput: layer.type?.isInput ?? false,
      shared: false,
      foreign: node.foreign,
    };
    if (layer.composite) report.nested = this.model(layer.composite);
    else if (node.inner) report.nested = this.innerReport(layer, node);
    void model;
    return report;
  }

  /** The analysis of a custom layer's call (its sublayers), for expand_nested and the hover. */
  private innerReport(layer: LayerInstance, node: GraphNode): ModelReport {
    const cached = this.nested.get(layer);
    if (cached) return cached;
    const inner = node.inner!;
    const report = this.graphReport({ id: -1 - layer.id, name: layer.kerasName, kind: 'subclassed', span: layer.span, foreign: layer.foreign, framework: layer.framework ?? 'keras' }, inner.inputs, inner.outputs, undefined);
    this.nested.set(layer, report);
    return report;
  }

  /**
   * A model of the file, with the trainable flags Keras uses for it: those of its last
   * `compile()` (they fix what training updates), else those of its last `summary()` call (what
   * the file printed), else the flags at the end of the file.
   */
  fileModel(b: ModelBuild): ModelReport {
    const last = b.snapshots[b.snapshots.length - 1];
    const state = b.compiledFlags && b.compile ? { flags: b.compiledFlags, from: { call: 'compile' as const, span: b.compile.span } } : last ? { flags: last.flags, from: { call: 'summary' as const, span: last.span } } : undefined;
    if (!state || [...state.flags].every(([l, t]) => l.trainable === t)) return this.model(b);
    const saved = [...state.flags.keys()].map((l) => [l, l.trainable] as const);
    const before = this.applied;
    for (const [l, t] of state.flags) l.trainable = t;
    this.applied = state.flags;
    try {
      const report = this.model(b);
      report.trainableFrom = state.from;
      return report;
    } finally {
      for (const [l, t] of saved) l.trainable = t;
      this.applied = before;
    }
  }

  model(b: ModelBuild): ModelReport {
    const cached = this.nested.get(b);
    if (cached) return cached;
    const g = b.graph;
    const report = g
      ? this.graphReport({ id: b.id, name: b.kerasName, kind: b.kind, span: b.span, foreign: b.foreign, framework: b.framework ?? 'keras' }, g.inputs, g.outputs, b, g.nodes)
      : this.emptyReport(b);
    if (b.framework === 'pytorch') this.torchDetails(b, report);
    const keys = g?.outputKeys;
    if (keys) report.outputs.forEach((o, i) => (o.key = keys[i]));
    report.varName = b.varName;
    report.compile = b.compile;
    report.fit = b.fit;
    report.incomplete = b.incomplete;
    report.speculative = b.speculative;
    report.pretrained = b.pretrained;
    report.inputFrom = b.input?.from;
    report.snapshots = b.snapshots.map((x) => ({
      span: x.span,
      totalParams: x.trainable === null || x.nonTrainable === null ? null : x.trainable + x.nonTrainable,
      trainableParams: x.trainable,
      nonTrainableParams: x.nonTrainable,
      layers: x.layers,
    }));
    this.nested.set(b, report);
    return report;
  }

  private emptyReport(b: ModelBuild): ModelReport {
    return {
      id: b.id,
      framework: b.framework ?? 'keras',
      name: b.kerasName,
      kind: b.kind,
      span: b.span,
      analysed: false,
      inputShape: null,
      outputShape: null,
      inputBatch: null,
      outputBatch: null,
      inputs: [],
      outputs: [],
      layers: [],
      summary: [],
      connected: false,
      totalParams: null,
      trainableParams: null,
      nonTrainableParams: null,
      macs: null,
      foreign: b.foreign,
      hasErrors: false,
      snapshots: [],
    };
  }

  private graphReport(head: { id: number; name: string; kind: ModelKind; span: Span; foreign: boolean; framework: FrameworkName }, inputs: SymTensor[], outputs: SymTensor[], b: ModelBuild | undefined, traced?: GraphNode[]): ModelReport {
    // A traced forward pass lists its nodes in execution order, calls whose results go unused included.
    const nodes = traced ?? mapGraph(inputs, outputs).nodes;
    const shown = nodes.filter((n) => !isHiddenInput(n.layer) && !(head.kind === 'sequential' && n.layer.type?.isInput));
    const rowOf = new Map<GraphNode, number>();
    shown.forEach((n, i) => rowOf.set(n, i));
    const layers = shown.map((n, i) => {
      const r = this.row(n, i, b, rowOf);
      if (!this.rowsOfNode.has(n)) this.rowsOfNode.set(n, r);
      return r;
    });
    // Keras' summary rows: the model's layers in its order, each with every call it has here.
    const order = b ? this.buildLayers(b) : [...new Set(shown.map((n) => n.layer))];
    const inOrder = new Set(order);
    if (head.kind !== 'subclassed') for (const l of new Set(shown.map((n) => n.layer))) if (!inOrder.has(l)) order.push(l);
    const callsOf = new Map<number, number[]>();
    for (const r of layers) {
      const c = callsOf.get(r.layerId);
      if (c) c.push(r.index);
      else callsOf.set(r.layerId, [r.index]);
    }
    const summary: SummaryRow[] = order.map((l) => {
      const calls = callsOf.get(l.id) ?? [];
      const c = this.counts(l);
      return {
        layerId: l.id,
        name: l.kerasName,
        className: l.className,
        calls,
        params: c.trainable === null || c.nonTrainable === null ? null : c.trainable + c.nonTrainable,
        trainableParams: c.trainable,
        nonTrainableParams: c.nonTrainable,
        unbuilt: calls.length === 0 && l.weights === undefined && !!l.type?.declares.weights,
      };
    });
    for (const r of layers) r.shared = (callsOf.get(r.layerId)?.length ?? 0) > 1;
    const sum = (f: (s: SummaryRow) => number | null): number | null => {
      let total = 0;
      for (const s of summary) {
        const v = s.unbuilt ? null : f(s);
        if (v === null) return null;
        total += v;
      }
      return total;
    };
    let macs: number | null = 0;
    for (const r of layers) macs = macs === null || r.macs === null ? null : macs + r.macs;
    const nonChain = nodes.some((n) => n.inputs.length > 1) || summary.some((s) => s.calls.length > 1) || outputs.length > 1 || inputs.length > 1 || (() => {
      const uses = new Map<SymTensor, number>();
      for (const n of nodes) for (const t of n.inputs) uses.set(t, (uses.get(t) ?? 0) + 1);
      return [...uses.values()].some((u) => u > 1);
    })();
    const errors = layers.some((l) => l.status === 'error');
    return {
      id: head.id,
      framework: head.framework,
      name: head.name,
      kind: head.kind,
      span: head.span,
      analysed: true,
      inputShape: inputs[0]?.sample ?? null,
      outputShape: outputs[0] && !outputs[0].partial ? outputs[0].sample : null,
      inputBatch: inputs[0]?.batch ?? null,
      outputBatch: outputs[0]?.batch ?? null,
      inputs: inputs.map((t) => ({ name: t.producer.layer.kerasName, shape: t.sample })),
      outputs: outputs.map((t) => ({ name: t.producer.layer.kerasName, shape: t.partial ? null : t.sample })),
      layers,
      summary,
      connected: head.kind === 'functional' && nonChain,
      totalParams: sum((s) => s.params),
      trainableParams: sum((s) => s.trainableParams),
      nonTrainableParams: sum((s) => s.nonTrainableParams),
      macs,
      foreign: head.foreign,
      hasErrors: errors,
      snapshots: [],
    };
  }

  /** Every call of a layer made by the document's own code (not replays, not other files), for editor features. */
  calls(): LayerReport[] {
    const out: LayerReport[] = [];
    const rowOf = new Map<GraphNode, number>();
    for (const n of this.interp.nodes) {
      if (n.replay || n.foreign || isHiddenInput(n.layer)) continue;
      const existing = this.rowsOfNode.get(n);
      out.push(existing ?? this.row(n, out.length, undefined, rowOf));
    }
    // PyTorch containers and blocks called in forward (`self.layer1(x)`): their result, at the call.
    out.push(...this.moduleCallRows);
    return out;
  }

  private readonly moduleCallRows: LayerReport[] = [];
  private nextModuleCallId = -1;

  /** A PyTorch model's torchinfo rows, buffers and totals as PyTorch counts them (each parameter once). */
  private torchDetails(b: ModelBuild, report: ModelReport): void {
    const torch = this.interp.torch;
    const root = torch.rootOf(b);
    if (!root) return;
    const totals = torch.totals(root);
    report.totalParams = totals.params;
    report.trainableParams = totals.trainable;
    report.nonTrainableParams = totals.params === null || totals.trainable === null ? null : totals.params - totals.trainable;
    report.buffers = { tensors: totals.bufferTensors, elements: totals.buffers };
    if (!b.graph) return;
    const rowById = new Map(report.layers.map((l, i) => [l.id, i]));
    const rows = torch.moduleRows(b);
    report.modules = rows.map((r) => moduleRow(r, rowById));
    // The MACs and errors of the leaves inside each call, added up the call tree once.
    const inside = new Map<ModuleCall, { macs: number | null; error: boolean }>();
    for (const c of b.moduleCalls ?? []) {
      if (!c.node) continue;
      for (let p = c.parent; p; p = p.parent) {
        const acc = inside.get(p) ?? { macs: 0, error: false };
        acc.macs = acc.macs === null || c.node.macs === null ? null : acc.macs + c.node.macs;
        acc.error ||= c.node.status === 'error';
        inside.set(p, acc);
      }
    }
    for (const r of rows) if (r.call && !r.call.node && r.depth > 0 && !r.call.foreign) this.moduleCallRows.push(this.moduleCallRow(r, r.call, inside.get(r.call)));
  }

  /** A row for the editor at a container's or block's call: its output, its parameters, the MACs inside. */
  private moduleCallRow(r: ModuleRowData, call: ModuleCall, inside: { macs: number | null; error: boolean } | undefined): LayerReport {
    const out = call.outputs[0];
    const macs = inside ? inside.macs : 0;
    const status: LayerStatus = inside?.error ? 'error' : out && out.sample !== null ? 'ok' : 'unknown';
    const field = out?.field ?? null;
    const outCount = out && out.sample !== null && !out.partial ? product(out.sample) : null;
    const layer = r.layer;
    return {
      framework: 'pytorch',
      index: -1,
      id: this.nextModuleCallId--,
      layerId: layer.id,
      nodeIndex: 0,
      name: r.name,
      className: r.className,
      span: layer.span,
      addSpan: call.span,
      anchor: call.span.end,
      inputShape: call.inputs[0]?.sample ?? null,
      inputShapes: call.inputs.map((t) => t.sample),
      outputShape: out ? out.sample : null,
      batch: out ? out.batch : null,
      inputBatches: call.inputs.map((t) => t.batch),
      module: r.name,
      partialShape: out ? out.partial : false,
      inputs: [],
      inputRows: [],
      params: r.totals.params,
      trainableParams: r.totals.trainable,
      nonTrainableParams: r.totals.params === null || r.totals.trainable === null ? null : r.totals.params - r.totals.trainable,
      weights: [],
      macs,
      receptiveField: field === null ? null : field === 'global' ? 'global' : { size: field.size, stride: field.jump },
      activationBytes: outCount === null ? null : outCount * 4,
      doc: layer.className === 'Sequential' ? 'A container (PyTorch): runs its modules in order.' : `A block of the model (PyTorch module ${layer.className}): its forward() runs the modules it holds.`,
      config: {},
      status,
      isInput: false,
      shared: false,
      foreign: false,
    };
  }
}

/** The report's view of a torchinfo row. */
function moduleRow(r: ModuleRowData, rowById: Map<number, number>): ModuleRow {
  const out = r.call?.outputs[0];
  const field = out?.field ?? null;
  return {
    name: r.name,
    className: r.className,
    depth: r.depth,
    depthIndex: r.depthIndex,
    leaf: r.leaf,
    recursive: r.recursive,
    outputShape: r.output,
    outputShapes: r.outputs,
    called: !!r.call,
    params: r.totals.params,
    trainableParams: r.totals.trainable,
    multAdds: r.multAdds,
    receptiveField: field === null ? null : field === 'global' ? 'global' : { size: field.size, stride: field.jump },
    layer: r.call?.node ? rowById.get(r.call.node.id) : undefined,
    span: r.call?.span,
  };
}

/** The input ConvLens makes for a model whose input was not declared with Input (`<model>_input`). */
function isHiddenInput(l: LayerInstance): boolean {
  return !!l.type?.isInput && l.nodes.every((n) => n.replay);
}

export { findLayer };
