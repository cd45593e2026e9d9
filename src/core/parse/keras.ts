/**
 * What Keras code means: layers and their calls on tensors, `Input`, `Sequential`, the
 * functional `Model`, subclassed models and layers, nested models, tensor arithmetic and the
 * backend helpers files read shapes with. Each call of a layer becomes a node of the model graph
 * (see `model/graph.ts`), shape-checked at once by the layer's registry rules.
 */
import { findLayer, kerasSnakeCase, layerNames, type LayerType } from '../layers/index';
import { indexText, type IndexSpec } from '../layers/ops';
import { mapGraph, paramCounts, type FieldState, type GraphNode, type LayerInstance, type ModelBuild, type SymTensor } from '../model/graph';
import { Tracer, dimsOf, mergeFields, type CallSite } from '../model/trace';
import type { Dim } from '../shape';
import { buildApplication, isApplication } from './applications';
import { frameworkDefaultOptimizer } from '../train/optimizers';
import { DATASET_SHAPES, classifyKerasPath, normalizeModulePath } from './kerasSymbols';
import { keepOrigin, loadDataOrigin } from './dataOrigin';
import { kerasObjectCall, readCompileExtras, readFitExtras } from './fitArgs';
import type { FrameworkSemantics, IndexItem } from './framework';
import type { Interpreter, Scope } from './interpreter';
import { reshapeArray } from './library';
import type { Expr, Span } from './pythonAst';
import { NONE, UNKNOWN, num, str, tuple, type ArgValue, type CallArgs, type ClassValue, type ObjectValue, type OptimizerSpec, type Value } from './values';

type CallExpr = Extract<Expr, { t: 'call' }>;

/** The names a bare identifier may mean when the file never imported it (notebook snippets). */
const LENIENT = new Set(['Sequential', 'Model', 'Input', ...layerNames()]);

/** Keras-side state of a Sequential model while layers are added. */
interface SequenceState {
  input?: SymTensor;
  last?: SymTensor;
  /** Index in `model.sequence` of the first layer not applied yet (no input shape known then). */
  pending: number;
  /** The names of the layers added so far (Keras requires them unique). */
  names?: Map<string, LayerInstance>;
}

/** Internal state of a user subclass instance (model or layer). */
interface Subclass {
  cls: ClassValue;
  obj: ObjectValue;
  /** For custom layers: the weights `add_weight` made in `build`. */
  built?: boolean;
}

/** Models nested inside models beyond this depth are not followed (Keras applications nest 2–3). */
export const MAX_MODEL_NESTING = 64;

export class KerasSemantics implements FrameworkSemantics {
  readonly name = 'keras' as const;
  private readonly uids = new Map<string, number>();
  private readonly sequences = new WeakMap<ModelBuild, SequenceState>();
  private readonly subclasses = new WeakMap<ModelBuild | LayerInstance, Subclass>();
  /** How many models deep each model's graph nests (1: none inside), computed once per model. */
  private readonly depths = new WeakMap<ModelBuild, number>();
  /** Models the file saves (`model.save('model.keras')`), by path: `load_model` of that path gives the model back. */
  private readonly saved = new Map<string, ModelBuild>();
  private nextLayerId = 0;
  private nextModelId = 0;
  private dataFormat: 'channels_last' | 'channels_first' = 'channels_last';

  constructor(private readonly interp: Interpreter) {}

  private get tracer(): Tracer {
    return this.interp.tracer;
  }

  /** Keras is the default framework: it answers for every path and value no other framework owns. */
  ownsPath(path: string): boolean {
    return /^(keras|tensorflow)(\.|$)/.test(path);
  }

  ownsValue(v: Value): boolean {
    void v;
    return true;
  }

  callBuildsModels(): boolean {
    return true;
  }

  /** keras.applications are built through their call paths (see applications.ts), not imported. */
  bundledModule(): undefined {
    return undefined;
  }

  /** A variable name is recorded on models in the interpreter's assignment itself. */
  named(v: Value, name: string, global: boolean): void {
    void v;
    void name;
    void global;
  }

  /** Keras' unique names: `conv2d`, `conv2d_1`, … per prefix, in creation order. */
  uid(prefix: string): string {
    const n = this.uids.get(prefix) ?? 0;
    this.uids.set(prefix, n + 1);
    return n === 0 ? prefix : `${prefix}_${n}`;
  }

  private site(span: Span, anchor?: number, inputSpans?: (Span | undefined)[]): CallSite {
    const s = this.interp.here(span);
    const foreign = this.interp.foreign;
    return { span: s, anchor: anchor ?? s.end, foreign, inputSpans: foreign ? undefined : inputSpans };
  }

  /** Whether calling a Keras path makes layers or models (for notes on code ConvLens skips). */
  buildsModels(path: string): boolean {
    if (isApplication(path)) return true;
    const c = classifyKerasPath(path);
    return c.kind === 'layer' || c.kind === 'sequential' || c.kind === 'functionalModel' || c.kind === 'input' || c.kind === 'mergeFunction';
  }

  lenientName(id: string): Value | undefined {
    if (!LENIENT.has(id)) return undefined;
    return { k: 'module', path: id === 'Sequential' || id === 'Model' || id === 'Input' ? `keras.${id}` : `keras.layers.${id}` };
  }

  importStar(path: string, scope: Scope): void {
    if (/^keras(\.layers)?$/.test(path) || path === 'keras.models') {
      for (const n of LENIENT) scope.set(n, this.lenientName(n)!);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Layers and models as values

  newLayer(className: string, type: LayerType | undefined, args: CallArgs, span: Span, calleeSpan: Span, opaque?: string): LayerInstance {
    const nameArg = args.keyword.get('name')?.value;
    const trainable = args.keyword.get('trainable')?.value;
    const here = this.interp.here(span);
    const layer: LayerInstance = {
      id: this.nextLayerId++,
      className,
      kerasName: nameArg?.k === 'str' ? nameArg.v : this.uid(kerasSnakeCase(className)),
      type,
      args,
      span: here,
      calleeSpan: this.interp.foreign ? here : calleeSpan,
      opaque: opaque ?? (args.opaque ? 'arguments passed with * or ** could not be read' : undefined),
      trainable: !(trainable?.k === 'bool' && !trainable.v),
      nodes: [],
      foreign: this.interp.foreign,
    };
    if (type) {
      const b = this.tracer.bind(type, args, calleeSpan, this.interp.out);
      layer.bound = b.bound;
      layer.bindFailed = b.failed;
    }
    this.interp.layers.push(layer);
    this.interp.touched();
    return layer;
  }

  private newModel(kind: ModelBuild['kind'], span: Span, name?: string, prefix?: string): ModelBuild {
    const model: ModelBuild = {
      id: this.nextModelId++,
      kind,
      kerasName: name ?? this.uid(prefix ?? (kind === 'sequential' ? 'sequential' : 'functional')),
      span: this.interp.here(span),
      sequence: [],
      tracked: [],
      snapshots: [],
      trainable: true,
      foreign: this.interp.foreign,
    };
    this.interp.models.push(model);
    this.interp.touched();
    return model;
  }

  /** The layer standing for a model used inside another (`model.add(conv_base)`, `encoder(x)`). */
  asLayer(model: ModelBuild): LayerInstance {
    if (model.asLayer) return model.asLayer;
    const sub = this.subclasses.get(model);
    model.asLayer = {
      id: this.nextLayerId++,
      className: sub ? sub.cls.name : model.kind === 'sequential' ? 'Sequential' : 'Functional',
      kerasName: model.kerasName,
      args: { positional: [], keyword: new Map(), span: model.span },
      span: model.span,
      calleeSpan: model.span,
      trainable: model.trainable,
      nodes: [],
      composite: model,
      foreign: model.foreign,
    };
    return model.asLayer;
  }

  userClassOf(v: Value): ClassValue | undefined {
    if (v.k === 'model') return this.subclasses.get(v.model)?.cls;
    if (v.k === 'layer') return this.subclasses.get(v.layer)?.cls;
    return undefined;
  }

  isModelClass(cls: ClassValue): boolean {
    return this.interp.frameworkBases(cls).some((p) => {
      const c = classifyKerasPath(p);
      return c.kind === 'functionalModel' || c.kind === 'sequential';
    });
  }

  // ------------------------------------------------------------------------------------------
  // Calls of Keras paths

  call(path: string, args: CallArgs, span: Span, e?: CallExpr): Value {
    if (isApplication(path)) return buildApplication(this.interp, path, args, span);
    const callee = classifyKerasPath(path);
    const p = args.positional.map((a) => a.value);
    const kw = (k: string, i?: number): Value | undefined => args.keyword.get(k)?.value ?? (i === undefined ? undefined : p[i]);
    const calleeSpan = e ? e.fn.span : span;
    switch (callee.kind) {
      case 'layer': {
        const type = findLayer(callee.className);
        if (callee.className === 'Lambda') return { k: 'layer', layer: this.newLayer('Lambda', undefined, args, span, calleeSpan) };
        return { k: 'layer', layer: this.newLayer(type?.name ?? callee.className, type, args, span, calleeSpan) };
      }
      case 'sequential': {
        const nameArg = kw('name');
        const model = this.newModel('sequential', span, nameArg?.k === 'str' ? nameArg.v : undefined);
        this.sequences.set(model, { pending: 0 });
        const list = args.keyword.get('layers') ?? args.positional[0];
        if (list) {
          if (list.value.k === 'seq') {
            const itemSpans = listItemSpans(e, list);
            list.value.items.forEach((item, i) => {
              const s = itemSpans[i] ?? list.span;
              this.sequentialAdd(model, item, s, this.interp.here(s).end);
            });
          } else if (list.value.k !== 'none') this.sequentialAdd(model, list.value, list.span, this.interp.here(list.span).end);
        }
        return { k: 'model', model };
      }
      case 'functionalModel': {
        const inputs = kw('inputs', 0);
        const outputs = kw('outputs', 1);
        if (!inputs && !outputs) return { k: 'unknown', why: 'a Model without inputs and outputs' };
        const nameArg = kw('name');
        const model = this.newModel('functional', span, nameArg?.k === 'str' ? nameArg.v : undefined);
        this.setFunctionalGraph(model, inputs, outputs, span);
        return { k: 'model', model };
      }
      case 'input':
        return this.makeInput(args, span);
      case 'optimizer': {
        const a = new Map<string, Value>();
        for (const [k, v] of args.keyword) a.set(k, v.value);
        if (p[0] && !a.has('learning_rate')) a.set('learning_rate', p[0]);
        const spec: OptimizerSpec = { name: callee.name, args: a, span: this.interp.here(span) };
        return { k: 'optimizer', spec };
      }
      case 'loss': {
        // An object compile() reads: its class names the loss, its arguments the options.
        const cls: ClassValue = { name: callee.name, bases: [], members: new Map(), file: { module: '<keras>', text: '' }, span: { start: 0, end: 0 }, native: `keras.losses.${callee.name}` };
        const attrs = new Map<string, Value>([...args.keyword].map(([k, v]) => [k, v.value]));
        p.forEach((v, i) => attrs.set(`#${i}`, v));
        return { k: 'object', obj: { cls, attrs } };
      }
      case 'loadData': {
        if (!this.interp.datasets.includes(callee.dataset)) this.interp.datasets.push(callee.dataset);
        const ds = DATASET_SHAPES[callee.dataset];
        if (!ds) return UNKNOWN;
        const d = callee.dataset;
        const labels = (n: number, split: 'train' | 'test'): Value => ({ k: 'array', shape: ds.labels === 'flat' ? [n] : [n, 1], origin: loadDataOrigin(d, split, 'y', n) });
        return tuple([
          tuple([{ k: 'array', shape: ds.train, origin: loadDataOrigin(d, 'train', 'x', ds.train[0]) }, labels(ds.train[0], 'train')]),
          tuple([{ k: 'array', shape: ds.test, origin: loadDataOrigin(d, 'test', 'x', ds.test[0]) }, labels(ds.test[0], 'test')]),
        ]);
      }
      case 'toCategorical': {
        const y = p[0];
        const n = kw('num_classes', 1);
        if (y?.k === 'array' && n?.k === 'num') return { k: 'array', shape: [y.shape[0] ?? null, n.v], origin: y.origin };
        return UNKNOWN;
      }
      case 'mergeFunction': {
        // keras.layers.add(inputs, **kwargs) is Add(**kwargs)(inputs).
        const inputs = args.keyword.get('inputs') ?? args.positional[0];
        const rest = args.positional.slice(1);
        const keyword = new Map([...args.keyword].filter(([k]) => k !== 'inputs'));
        const type = findLayer(callee.className);
        const layer = this.newLayer(callee.className, type, { positional: rest, keyword, span: args.span, opaque: args.opaque }, span, calleeSpan);
        if (!inputs) return { k: 'layer', layer };
        return this.callLayerOrModel({ k: 'layer', layer }, { positional: [inputs], keyword: new Map(), span: args.span }, span, e);
      }
      case 'other':
        return this.otherCall(path, args, span, e);
    }
  }

  /** Backend helpers, tensor ops and utilities real files call. */
  private otherCall(path: string, args: CallArgs, span: Span, e?: CallExpr): Value {
    const extra = kerasObjectCall(path, args, this.interp.here(span));
    if (extra) return extra;
    const p = args.positional.map((a) => a.value);
    const last = path.slice(path.lastIndexOf('.') + 1);
    const isKeras = /^keras(\.|$)/.test(path);
    const isTf = /^tensorflow(\.|$)/.test(path);
    if (isKeras && /\.backend\.|^keras\.config\./.test(`${path}.`)) {
      switch (last) {
        case 'image_data_format':
          return str(this.dataFormat);
        case 'set_image_data_format':
          if (p[0]?.k === 'str' && (p[0].v === 'channels_first' || p[0].v === 'channels_last')) this.dataFormat = p[0].v;
          return NONE;
        case 'int_shape':
          return p[0] ? this.shapeOf(p[0]) : UNKNOWN;
        case 'is_keras_tensor':
          return p[0]?.k === 'tensor' ? { k: 'bool', v: true } : p[0]?.k === 'unknown' ? UNKNOWN : { k: 'bool', v: false };
        case 'backend':
          return str('tensorflow');
        case 'floatx':
          return str('float32');
        case 'epsilon':
          return num(1e-7, true);
        case 'clear_session':
          return NONE;
        default:
          break;
      }
    }
    // Before the ops: Keras keeps it in keras.src.ops.operation_utils.
    if (isKeras && last === 'get_source_inputs') return p[0] ? sourceInputs(p[0]) : UNKNOWN;
    if (last === 'preprocess_input' && /(^|\.)applications\./.test(path) && p[0]?.k === 'tensor') return this.preprocessInput(path, args, p[0].t, span) ?? UNKNOWN;
    if ((isKeras && /\.(ops|backend|activations)\./.test(path)) || isTf) {
      if (last === 'shape' && p[0]) return this.shapeOf(p[0]);
      const op = this.tensorFunction(path, last, args, span, e);
      if (op) return op;
    }
    if (isKeras && last === 'obtain_input_shape') return obtainInputShape(args);
    if (isKeras && last === 'correct_pad') return this.correctPad(args);
    if (isKeras && last === 'validate_activation') return NONE;
    if (isKeras && last === 'plot_model') return NONE;
    if (isKeras && last === 'load_model') {
      // A model this file saved to that path earlier: Keras loads the same architecture back.
      const file = (args.keyword.get('filepath') ?? args.positional[0])?.value;
      const model = file?.k === 'str' ? this.saved.get(file.v) : undefined;
      if (model) return { k: 'model', model };
    }
    if (isKeras && (last === 'load_model' || last === 'model_from_json')) return { k: 'unknown', why: 'a model loaded from a file' };
    if (path === 'keras.models.clone_model' && p[0]?.k === 'model') return p[0];
    return UNKNOWN;
  }

  /** `int_shape(x)` / `ops.shape(x)`: the full shape as a tuple, batch first. */
  private shapeOf(v: Value): Value {
    if (v.k === 'tensor') {
      if (v.t.sample === null || v.t.partial) return { k: 'unknown', why: 'the shape of a tensor ConvLens does not know' };
      return tuple([v.t.batch, ...v.t.sample].map((d) => (d === null ? NONE : num(d))));
    }
    if (v.k === 'array') return tuple(v.shape.map((d) => (d === null ? NONE : num(d))));
    return UNKNOWN;
  }

  /** keras.applications' `correct_pad(inputs, kernel_size)`: the ZeroPadding2D amounts before a strided conv. */
  private correctPad(args: CallArgs): Value {
    const x = args.positional[0]?.value;
    const k = args.positional[1]?.value ?? args.keyword.get('kernel_size')?.value;
    if (x?.k !== 'tensor' || x.t.sample === null || !k) return UNKNOWN;
    const axisH = this.dataFormat === 'channels_first' ? 1 : 0;
    const size = [x.t.sample[axisH], x.t.sample[axisH + 1]];
    const ks = k.k === 'num' ? [k.v, k.v] : k.k === 'seq' && k.items.every((i) => i.k === 'num') ? k.items.map((i) => (i as { v: number }).v) : undefined;
    if (!ks) return UNKNOWN;
    const adjust = size[0] === null ? [1, 1] : [1 - (size[0] as number) % 2, 1 - (size[1] as number) % 2];
    const correct = [Math.floor(ks[0] / 2), Math.floor(ks[1] / 2)];
    return tuple([tuple([num(correct[0] - adjust[0]), num(correct[0])]), tuple([num(correct[1] - adjust[1]), num(correct[1])])]);
  }

  private makeInput(args: CallArgs, span: Span): Value {
    const shapeArg = args.keyword.get('shape') ?? args.positional[0];
    const batchShape = args.keyword.get('batch_shape') ?? args.keyword.get('batch_input_shape');
    const batchSizeArg = args.keyword.get('batch_size')?.value;
    let sample: Dim[] | null = null;
    let batch: Dim = batchSizeArg?.k === 'num' ? batchSizeArg.v : null;
    if (shapeArg) sample = dimsOf(shapeArg.value) ?? null;
    else if (batchShape) {
      const d = dimsOf(batchShape.value);
      if (d) {
        sample = d.slice(1);
        batch = d[0];
      }
    }
    const type = findLayer('InputLayer');
    const layer = this.newLayer('InputLayer', type, { positional: [], keyword: new Map([...args.keyword].filter(([k]) => k === 'name')), span: args.span }, span, span);
    if (shapeArg && sample === null) {
      this.interp.info('input-unknown', this.interp.here(shapeArg.span), 'ConvLens cannot evaluate this input shape without running the code, so the shapes of this model are unknown');
    }
    if (sample?.some((d) => d !== null && d <= 0)) {
      this.interp.report({ severity: 'error', code: 'input-shape', span: this.interp.here(shapeArg?.span ?? span), message: `Input shape has a size ${sample.find((d) => d !== null && d <= 0)}: every size must be a positive integer` });
      sample = null;
    }
    return { k: 'tensor', t: this.tracer.input(layer, sample, batch, this.site(span)) };
  }

  /** `Model(inputs, outputs)`: the graph between them, checked for disconnection as Keras does. */
  private setFunctionalGraph(model: ModelBuild, inputs: Value | undefined, outputs: Value | undefined, span: Span): void {
    const ins = inputs ? flattenTensors(inputs) : [];
    const outs = outputs ? flattenTensors(outputs) : [];
    if (ins === undefined || outs === undefined || ins.length === 0 || outs.length === 0) {
      model.incomplete = 'its inputs or outputs could not be followed';
      return;
    }
    model.graph = { inputs: ins, outputs: outs };
    const { layers, disconnected } = mapGraph(ins, outs);
    const seen = new Map<string, number>();
    for (const l of layers) seen.set(l.kerasName, (seen.get(l.kerasName) ?? 0) + 1);
    const dup = [...seen].find(([, n]) => n > 1);
    if (dup) {
      this.interp.report({ severity: 'error', code: 'duplicate-name', span: this.interp.here(span), message: `The name "${dup[0]}" is used ${dup[1]} times in the model. All layer names should be unique (Keras raises a ValueError)` });
    }
    const known = new Set(model.tracked);
    for (const l of layers) if (!known.has(l)) model.tracked.push(l);
    const real = disconnected.filter((t) => t.producer.layer.type?.isInput);
    if (real.length) {
      this.interp.report({
        severity: 'error',
        code: 'graph-disconnected',
        span: this.interp.here(span),
        message: `Graph disconnected: the model's outputs need ${real.map((t) => `'${t.producer.layer.kerasName}'`).join(', ')}, which ${real.length === 1 ? 'is' : 'are'} not among its inputs`,
      });
    }
  }

  // ------------------------------------------------------------------------------------------
  // Sequential

  private seqState(model: ModelBuild): SequenceState {
    let s = this.sequences.get(model);
    if (!s) {
      s = { pending: 0 };
      this.sequences.set(model, s);
    }
    return s;
  }

  /** `model.add(item)` or an item of `Sequential([...])`: applied at once when the input is known. */
  sequentialAdd(model: ModelBuild, v: Value, span: Span, anchor: number): void {
    const state = this.seqState(model);
    const here = this.interp.here(span);
    if (v.k === 'tensor' && v.t.producer.layer.type?.isInput && model.sequence.length === 0) {
      // Sequential([keras.Input(shape=…), …]): a declaration, not a layer of the model.
      v.t.producer.replay = true;
      state.input = v.t;
      state.last = v.t;
      if (v.t.sample) model.input = { sample: v.t.sample, span: here, batch: v.t.batch };
      return;
    }
    let layer: LayerInstance;
    if (v.k === 'layer') layer = v.layer;
    else if (v.k === 'model' && this.nestingDepth(v.model) >= MAX_MODEL_NESTING) {
      this.interp.report({ severity: 'warning', code: 'nesting-limit', span: here, message: `Model '${v.model.kerasName}' already nests ${MAX_MODEL_NESTING} models deep; ConvLens stops following deeper nesting here, so shapes from this layer on are unknown` });
      layer = { ...this.asLayer(v.model), id: this.nextLayerId++, composite: undefined, nodes: [], opaque: `nested more than ${MAX_MODEL_NESTING} models deep` };
    } else if (v.k === 'model') layer = this.asLayer(v.model);
    else {
      layer = {
        id: this.nextLayerId++,
        className: '?',
        kerasName: '?',
        args: { positional: [], keyword: new Map(), span: here },
        span: here,
        calleeSpan: here,
        opaque: v.k === 'unknown' && v.why ? v.why : `${v.k}`,
        trainable: true,
        nodes: [],
        foreign: this.interp.foreign,
      };
    }
    if (layer.type?.isInput) {
      // InputLayer(input_shape=…) declares the input; it is not a layer of the model. An input
      // layer taken from another model (`Sequential(functional.layers[:-1])`) declares the shape
      // its tensor has.
      const made = layer.nodes[0]?.outputs[0];
      const declared = Tracer.declaredInput(layer.args, layer.type) ?? (made?.sample && !made.partial ? { sample: made.sample, batch: made.batch } : undefined);
      if (declared && declared !== 'unreadable' && model.sequence.length === 0) {
        model.input = { sample: declared.sample, span: here, batch: declared.batch };
        state.input = this.tracer.input(layer, declared.sample, declared.batch, { span: here, anchor, foreign: this.interp.foreign, replay: true });
        state.last = state.input;
      }
      return;
    }
    this.interp.touched();
    // Keras refuses a layer already in the model, or one named like another (names are unique).
    const names = (state.names ??= new Map(model.sequence.map((s) => [s.layer.kerasName, s.layer])));
    const clash = layer.className === '?' ? undefined : names.get(layer.kerasName);
    if (clash) {
      const msg = clash === layer
        ? `This ${layer.className} '${layer.kerasName}' is already in the model: a layer instance can be added only once (make a new one, or share it in a functional model)`
        : `All layers added to a Sequential model should have unique names: '${layer.kerasName}' is already the name of a layer in this model`;
      this.interp.report({ severity: 'error', code: 'duplicate-layer', span: here, message: msg });
      return;
    }
    if (model.sequence.length === 0 && !state.last && layer.composite?.graph?.inputs.length === 1) {
      // Sequential([conv_base, …]): a nested model with an input builds the Sequential model.
      const t = layer.composite.graph.inputs[0];
      if (t.sample) {
        model.input = { sample: t.sample, span: here, batch: t.batch };
        state.input = this.hiddenInput(model, t.sample, t.batch, here);
        state.last = state.input;
      }
    }
    if (model.sequence.length === 0 && !state.last) {
      const declared = Tracer.declaredInput(layer.args, layer.type);
      if (declared === 'unreadable') {
        const k = ['input_shape', 'batch_input_shape', 'input_dim', 'shape', 'batch_shape'].find((key) => layer.args.keyword.has(key))!;
        const arg = layer.args.keyword.get(k)!;
        this.interp.info('input-unknown', this.interp.here(arg.span), `ConvLens cannot evaluate ${k}=${this.interp.documentText.slice(arg.span.start, arg.span.end)} without running the code, so the shapes of this model are unknown`);
      } else if (declared) {
        if (declared.sample.some((d) => d !== null && d <= 0)) {
          this.interp.report({ severity: 'error', code: 'input-shape', span: layer.span, message: `Input shape has a size ${declared.sample.find((d) => d !== null && d <= 0)}: every size must be a positive integer` });
        } else {
          model.input = { sample: declared.sample, span: layer.span, batch: declared.batch };
          state.input = this.hiddenInput(model, declared.sample, declared.batch, here);
          state.last = state.input;
        }
      }
    }
    model.sequence.push({ layer, span: here, anchor });
    if (layer.className !== '?') names.set(layer.kerasName, layer);
    if (state.last) {
      state.last = this.applySequenceItem(layer, state.last, { span: here, anchor, foreign: this.interp.foreign });
      state.pending = model.sequence.length;
    }
  }

  private hiddenInput(model: ModelBuild, sample: Dim[] | null, batch: Dim, span: Span): SymTensor {
    const type = findLayer('InputLayer');
    const layer: LayerInstance = {
      id: this.nextLayerId++,
      className: 'InputLayer',
      kerasName: `${model.kerasName}_input`,
      type,
      bound: type?.bind({}),
      args: { positional: [], keyword: new Map(), span },
      span,
      calleeSpan: span,
      trainable: true,
      nodes: [],
      foreign: model.foreign,
    };
    return this.tracer.input(layer, sample, batch, { span, anchor: span.end, foreign: this.interp.foreign, replay: true });
  }

  private applySequenceItem(layer: LayerInstance, x: SymTensor, site: CallSite): SymTensor {
    const out = layer.composite ? this.callComposite(layer, [x], site) : this.tracer.apply(layer, [x], site, this.interp.out);
    return out[0];
  }

  /**
   * Applies the layers added before the input was known: at `build()`, `fit()` on data of a
   * known shape, a call on a tensor, or (with an input of unknown rank) when the analysis ends.
   */
  materializeSequential(model: ModelBuild, sample: Dim[] | null, batch: Dim, span?: Span, from?: string): void {
    const state = this.seqState(model);
    if (!state.last) {
      if (sample !== null && span) model.input = { sample, span: this.interp.here(span), batch, from };
      state.input = this.hiddenInput(model, sample, batch, model.span);
      state.last = state.input;
    }
    for (let i = state.pending; i < model.sequence.length; i++) {
      const item = model.sequence[i];
      state.last = this.applySequenceItem(item.layer, state.last, { span: item.span, anchor: item.anchor, foreign: item.layer.foreign });
    }
    state.pending = model.sequence.length;
    model.graph = { inputs: [state.input!], outputs: [state.last] };
  }

  /** Finishes every model at the end of the analysis (Sequential models built with what is known). */
  finish(): void {
    for (const m of this.interp.models) {
      if (m.kind === 'sequential') {
        const state = this.seqState(m);
        if (!state.last || state.pending < m.sequence.length) this.interp.guard(() => this.materializeSequential(m, null, null));
        else m.graph = { inputs: [state.input!], outputs: [state.last] };
      } else if (m.kind === 'subclassed' && !m.graph) {
        this.interp.guard(() => this.buildSubclassed(m, null, null));
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // Calling layers and models

  callLayerOrModel(callee: Extract<Value, { k: 'layer' | 'model' }>, args: CallArgs, span: Span, e?: CallExpr): Value {
    const x = args.positional[0] ?? args.keyword.get('inputs') ?? args.keyword.get('x');
    if (!x) return UNKNOWN;
    const inputSpans = e && x === args.positional[0] ? inputItemSpans(e) : undefined;
    const layer = callee.k === 'layer' ? callee.layer : this.asLayer(callee.model);
    // Eager calls on data (`model(np.zeros((1, 28, 28, 1)))`): shapes only, after building the model.
    if (x.value.k === 'array') return this.callOnArray(callee, layer, x.value, span);
    let tensors = flattenTensors(x.value);
    if (layer.type?.name === 'MultiHeadAttention' && tensors?.length === 1) {
      // mha(query, value[, key]): the query is the first argument, the others follow it.
      const more = [args.positional[1] ?? args.keyword.get('value'), args.positional[2] ?? args.keyword.get('key')].filter((a): a is ArgValue => !!a).map((a) => flattenTensors(a.value));
      tensors = more.some((t) => !t || t.length !== 1) ? undefined : [...tensors, ...more.flatMap((t) => t!)];
    }
    if (!tensors || tensors.length === 0) {
      if (x.value.k === 'unknown' && callee.k === 'layer' && !this.interp.foreign) {
        // Not a model input we can follow (a training batch): nothing to record.
      }
      return { k: 'unknown', why: 'the result of calling a layer on values ConvLens could not follow' };
    }
    const site = this.site(span, undefined, inputSpans);
    let outs: SymTensor[];
    if (layer.composite || layer.custom) outs = this.callComposite(layer, tensors, site);
    else if (layer.className === 'Lambda' && !layer.type) outs = this.callLambda(layer, tensors, site);
    else outs = this.tracer.apply(layer, tensors, site, this.interp.out);
    this.interp.touched();
    return outs.length === 1 ? { k: 'tensor', t: outs[0] } : tuple(outs.map((t) => ({ k: 'tensor', t })));
  }

  private callOnArray(callee: Extract<Value, { k: 'layer' | 'model' }>, layer: LayerInstance, x: Extract<Value, { k: 'array' }>, span: Span): Value {
    const sample = x.shape.slice(1);
    const batch = x.shape[0] ?? null;
    if (callee.k === 'model') {
      const m = callee.model;
      if (m.kind === 'subclassed' && !m.graph) this.buildSubclassed(m, sample, batch, span, 'the array the model is called on');
      if (m.kind === 'sequential' && !m.graph && !this.seqState(m).last) this.materializeSequential(m, sample, batch, span, 'the array the model is called on');
    }
    // The result's shape, from a replay of the call that shows nowhere.
    const t = this.hiddenInput(callee.k === 'model' ? callee.model : ({ kerasName: layer.kerasName, foreign: true } as ModelBuild), sample, batch, this.interp.here(span));
    const site: CallSite = { span: this.interp.here(span), anchor: this.interp.here(span).end, foreign: true, replay: true };
    const outs = layer.composite ? this.callComposite(layer, [t], site) : this.tracer.apply(layer, [t], site, this.interp.out);
    const o = outs[0];
    if (!o || o.sample === null || o.partial) return UNKNOWN;
    return { k: 'array', shape: [batch, ...o.sample] };
  }

  /**
   * A call of a nested model or a custom layer: one node in the outer graph whose outputs come
   * from running the inner model (a replay for functional and Sequential models, the `call`
   * method for subclassed ones).
   */
  callComposite(layer: LayerInstance, inputs: SymTensor[], site: CallSite): SymTensor[] {
    const model = layer.composite;
    if (model && this.nestingDepth(model) >= MAX_MODEL_NESTING) {
      // Real models nest a handful of levels; thousands (generated code, a loop wrapping a model
      // in itself) would make every count and report walk the whole tower again.
      this.interp.report({
        severity: 'warning',
        code: 'nesting-limit',
        span: site.span,
        message: `Model '${model.kerasName}' already nests ${MAX_MODEL_NESTING} models deep; ConvLens stops following deeper nesting here, so shapes from this call on are unknown`,
      });
      // A stand-in that is not the model (no composite to walk): the counts and reports of every
      // model around it stop here too, instead of walking the whole tower for each of them.
      const cut: LayerInstance = { ...layer, id: this.nextLayerId++, composite: undefined, nodes: [], opaque: `nested more than ${MAX_MODEL_NESTING} models deep` };
      return this.tracer.composite(cut, inputs, [{ sample: null, partial: false, field: null }], site, null, 'unknown').outputs;
    }
    const sub = this.subclasses.get(model ?? layer);
    let inner: { inputs: SymTensor[]; outputs: SymTensor[] } | undefined;
    if (sub && (!model || model.kind === 'subclassed')) {
      inner = this.traceCall(model ?? layer, sub, inputs.map((t) => ({ sample: t.sample, batch: t.batch, partial: t.partial, field: t.field })), site);
    } else if (model) {
      if (model.kind === 'sequential' && !model.graph) {
        const first = inputs[0];
        this.materializeSequential(model, first.sample, first.batch, undefined);
      }
      if (model.graph) inner = this.replay(model, inputs, site);
    }
    if (!inner) {
      const node = this.tracer.composite(layer, inputs, [{ sample: null, partial: false, field: null }], site, null, 'unknown');
      return node.outputs;
    }
    let macs: number | null = 0;
    const innerNodes = mapGraph(inner.inputs, inner.outputs).nodes;
    for (const n of innerNodes) macs = macs === null || n.macs === null ? null : macs + n.macs;
    const status = innerNodes.some((n) => n.status === 'error') ? 'error' : 'ok';
    const node = this.tracer.composite(
      layer,
      inputs,
      inner.outputs.map((t) => ({ sample: t.sample, partial: t.partial, field: t.field })),
      site,
      macs,
      status,
    );
    node.inner = inner;
    return node.outputs;
  }

  /** Models nested inside `model`'s graph, counting itself: 1 for a model of plain layers. */
  private nestingDepth(model: ModelBuild): number {
    const known = this.depths.get(model);
    if (known !== undefined) return known;
    let depth = 1;
    const layers = model.graph ? mapGraph(model.graph.inputs, model.graph.outputs).nodes.map((n) => n.layer) : model.sequence.map((e) => e.layer);
    for (const l of layers) {
      const inner = l.composite;
      if (inner && inner !== model) depth = Math.max(depth, 1 + (this.depths.get(inner) ?? this.nestingDepth(inner)));
    }
    this.depths.set(model, depth);
    return depth;
  }

  /** Runs a model's graph on new input tensors (Keras calling a functional model on new inputs). */
  private replay(model: ModelBuild, inputs: SymTensor[], site: CallSite): { inputs: SymTensor[]; outputs: SymTensor[] } | undefined {
    const g = model.graph!;
    if (g.inputs.length !== inputs.length) {
      this.interp.report({ severity: 'error', code: 'input-count', span: site.span, message: `Model '${model.kerasName}' takes ${g.inputs.length} input${g.inputs.length === 1 ? '' : 's'}, but is called on ${inputs.length}` });
      return undefined;
    }
    // The same shapes as the model was built for: its own graph answers.
    const same = g.inputs.every((t, i) => sameShape(t, inputs[i]));
    if (same) return g;
    const map = new Map<SymTensor, SymTensor>();
    g.inputs.forEach((t, i) => map.set(t, inputs[i]));
    const replaySite: CallSite = { ...site, replay: true };
    let failed: GraphNode | undefined;
    for (const node of mapGraph(g.inputs, g.outputs).nodes) {
      if (node.inputs.length === 0) continue;
      const ins = node.inputs.map((t) => map.get(t));
      if (ins.some((t) => t === undefined)) return undefined;
      const outs = node.layer.composite || node.layer.custom ? this.callComposite(node.layer, ins as SymTensor[], replaySite) : this.tracer.apply(node.layer, ins as SymTensor[], replaySite, this.interp.out);
      if (!failed && outs[0]?.producer.status === 'error') failed = outs[0].producer;
      node.outputs.forEach((t, i) => map.set(t, outs[i] ?? outs[0]));
    }
    if (failed) {
      const shown = inputs.map((t) => (t.sample ? `(None, ${t.sample.map((d) => d ?? 'None').join(', ')})` : '?')).join(', ');
      const built = g.inputs.map((t) => (t.sample ? `(None, ${t.sample.map((d) => d ?? 'None').join(', ')})` : '?')).join(', ');
      this.interp.report({
        severity: 'error',
        code: 'model-input',
        span: site.span,
        message: `Model '${model.kerasName}' was built for input ${built}; on ${shown} its layer ${failed.layer.kerasName} (${failed.layer.className}) fails`,
      });
    }
    const outputs = g.outputs.map((t) => map.get(t));
    if (outputs.some((t) => t === undefined)) return undefined;
    return { inputs, outputs: outputs as SymTensor[] };
  }

  private callLambda(layer: LayerInstance, inputs: SymTensor[], site: CallSite): SymTensor[] {
    const fn = layer.args.positional[0]?.value ?? layer.args.keyword.get('function')?.value;
    const declared = layer.args.keyword.get('output_shape') ?? layer.args.positional[1];
    let out: { sample: Dim[] | null; partial: boolean; field: FieldState } | undefined;
    if (fn?.k === 'func') {
      // Trace the function on copies of the inputs, in a graph of its own: one Lambda node outside.
      const copies = inputs.map((t) => this.hiddenInput({ kerasName: layer.kerasName, foreign: true } as ModelBuild, t.sample, t.batch, site.span));
      this.traceDepth++;
      let r: Value;
      try {
        r = this.interp.callFunction(fn.fn, { positional: [{ value: copies.length === 1 ? { k: 'tensor', t: copies[0] } : tuple(copies.map((t) => ({ k: 'tensor', t }))), span: site.span }], keyword: new Map(), span: site.span }, site.span);
      } finally {
        this.traceDepth--;
      }
      if (r.k === 'tensor' && r.t.sample !== null) out = { sample: r.t.sample, partial: r.t.partial, field: mergeFields(inputs.map((t) => t.field)) };
    }
    if (!out && declared) {
      const dims = dimsOf(declared.value);
      if (dims) out = { sample: dims, partial: false, field: null };
    }
    if (!out) {
      if (!site.replay) this.interp.info('opaque-layer', layer.calleeSpan, 'ConvLens cannot tell the output shape of this Lambda; give it output_shape=(…) to keep the shapes after it known');
      out = { sample: null, partial: false, field: null };
    }
    layer.weights ??= [];
    const node = this.tracer.composite(layer, inputs, [out], site, 0, out.sample === null ? 'unknown' : 'ok');
    return node.outputs;
  }

  // ------------------------------------------------------------------------------------------
  // Subclassing

  /** A user class deriving from a Keras class: a subclassed model, a custom layer, or a Keras layer subclass. */
  instantiate(cls: ClassValue, args: CallArgs, span: Span): Value | undefined {
    const bases = this.interp.frameworkBases(cls);
    let kind: 'model' | 'sequential' | 'layer' | LayerType | undefined;
    for (const b of bases) {
      const c = classifyKerasPath(b);
      if (c.kind === 'functionalModel') kind = 'model';
      else if (c.kind === 'sequential') kind = 'sequential';
      else if (c.kind === 'layer' && (c.className === 'Layer' || !findLayer(c.className))) kind = c.className === 'Layer' ? 'layer' : undefined;
      else if (c.kind === 'layer') kind = findLayer(c.className);
      if (kind) break;
    }
    if (!kind) return undefined;
    const obj: ObjectValue = { cls, attrs: new Map() };
    const init = this.interp.classMember(cls, '__init__');
    if (kind === 'model' || kind === 'sequential') {
      const model = this.newModel(kind === 'sequential' ? 'sequential' : 'subclassed', span, undefined, kerasSnakeCase(cls.name));
      if (kind === 'sequential') this.sequences.set(model, { pending: 0 });
      this.subclasses.set(model, { cls, obj });
      const self: Value = { k: 'model', model };
      if (init?.k === 'func') this.interp.inFile(cls.file, span, () => this.interp.callFunction(init.fn, args, span, self));
      // No __init__ of its own (a subclass that only overrides train_step): keras.Model's, which
      // builds a functional model from `EDSRModel(inputs, outputs)`.
      else if (kind === 'model') this.superInit(self, args, span);
      return self;
    }
    if (kind === 'layer') {
      const layer = this.newLayer(cls.name, undefined, { positional: [], keyword: new Map([...args.keyword].filter(([k]) => k === 'name' || k === 'trainable')), span: args.span }, span, span);
      layer.custom = true;
      layer.sublayers = [];
      this.subclasses.set(layer, { cls, obj });
      const self: Value = { k: 'layer', layer };
      if (init?.k === 'func') this.interp.inFile(cls.file, span, () => this.interp.callFunction(init.fn, args, span, self));
      return self;
    }
    // A subclass of a Keras layer (`class StandardizedConv2D(layers.Conv2D)`): the base's rules,
    // with the arguments its own __init__ hands to super().__init__ (or the call's, without one).
    const type = kind;
    const ownInit = init?.k === 'func' && this.interp.mro(cls).some((c) => c.members.get('__init__') === init);
    if (!ownInit) {
      const layer = this.newLayer(cls.name, type, args, span, span);
      this.subclasses.set(layer, { cls, obj });
      return { k: 'layer', layer };
    }
    const layer = this.newLayer(cls.name, type, { positional: [], keyword: new Map(), span: args.span }, span, span, 'its __init__ did not call super().__init__()');
    layer.bound = undefined;
    this.subclasses.set(layer, { cls, obj });
    const self: Value = { k: 'layer', layer };
    this.interp.inFile(cls.file, span, () => this.interp.callFunction((init as { fn: import('./values').FunctionValue }).fn, args, span, self));
    return self;
  }

  /** `super().X` on a Keras-derived instance. */
  superAttribute(self: Value, name: string, after: ClassValue): Value {
    void after;
    if (name === '__init__') return { k: 'method', self, name: '__super_init__' };
    if (name === 'call' && self.k === 'layer') return { k: 'method', self, name: '__super_call__' };
    if (name === 'build' || name === 'get_config' || name === 'compute_output_shape') return { k: 'method', self, name: '__noop__' };
    return UNKNOWN;
  }

  private superInit(self: Value, args: CallArgs, span: Span): Value {
    const nameArg = args.keyword.get('name')?.value;
    if (self.k === 'model') {
      const m = self.model;
      if (nameArg?.k === 'str') {
        m.kerasName = nameArg.v;
        if (m.asLayer) m.asLayer.kerasName = nameArg.v;
      }
      const inputs = args.keyword.get('inputs')?.value ?? args.positional[0]?.value;
      const outputs = args.keyword.get('outputs')?.value ?? args.positional[1]?.value;
      if (inputs && outputs) {
        (m as { kind: ModelBuild['kind'] }).kind = 'functional';
        this.setFunctionalGraph(m, inputs, outputs, span);
      }
      return NONE;
    }
    if (self.k === 'layer') {
      const layer = self.layer;
      if (nameArg?.k === 'str') layer.kerasName = nameArg.v;
      const trainable = args.keyword.get('trainable')?.value;
      if (trainable?.k === 'bool') layer.trainable = trainable.v;
      if (layer.type && !layer.type.isInput) {
        // The base layer's arguments, as the subclass passes them on.
        (layer as { args: CallArgs }).args = args;
        const b = this.tracer.bind(layer.type, args, layer.calleeSpan, this.interp.out);
        layer.bound = b.bound;
        layer.bindFailed = b.failed;
        layer.opaque = args.opaque ? 'arguments passed with * or ** could not be read' : undefined;
      }
    }
    return NONE;
  }

  /** Builds a subclassed model: its `call` traced on an input of the given shape (unknown rank when null). */
  buildSubclassed(model: ModelBuild, sample: Dim[] | null, batch: Dim, span?: Span, from?: string): void {
    const sub = this.subclasses.get(model);
    if (!sub) return;
    if (sample !== null && span) model.input = { sample, span: this.interp.here(span), batch, from };
    const g = this.traceCall(model, sub, [{ sample, batch, partial: false, field: sample === null ? null : { size: sample.slice(0, -1).map(() => 1), jump: sample.slice(0, -1).map(() => 1) } }], { span: model.span, anchor: model.span.end, foreign: model.foreign });
    if (g) model.graph = g;
    else model.incomplete ??= 'its call() could not be followed';
  }

  /**
   * Runs the `call` of a subclassed model or custom layer on fresh inputs of the given shapes:
   * the layers it calls become nodes at their own lines (this is how hints appear in `call`).
   */
  private traceCall(owner: ModelBuild | LayerInstance, sub: Subclass, shapes: { sample: Dim[] | null; batch: Dim; partial: boolean; field: FieldState }[], site: CallSite): { inputs: SymTensor[]; outputs: SymTensor[] } | undefined {
    const call = this.interp.classMember(sub.cls, 'call');
    const self: Value = 'sequence' in owner ? { k: 'model', model: owner } : { k: 'layer', layer: owner };
    const ownerName = owner.kerasName;
    const inputs = shapes.map((s) => this.hiddenInput({ kerasName: ownerName, foreign: true } as ModelBuild, s.sample, s.batch, site.span));
    const arg: Value = inputs.length === 1 ? { k: 'tensor', t: inputs[0] } : this.interp.seq('list', inputs.map((t) => ({ k: 'tensor', t })), site.span);
    // A custom layer's build(input_shape) makes its weights (add_weight) before the first call.
    if (!('sequence' in owner) && !sub.built) {
      sub.built = true;
      const build = this.interp.classMember(sub.cls, 'build');
      if (build?.k === 'func') {
        const shapeValue = shapes.length === 1 ? shapeTuple(shapes[0]) : tuple(shapes.map(shapeTuple));
        owner.weights ??= [];
        this.interp.inFile(sub.cls.file, site.span, () => this.interp.callFunction(build.fn, { positional: [{ value: shapeValue, span: site.span }], keyword: new Map(), span: site.span }, site.span, self));
      }
    }
    if (call?.k !== 'func') {
      if ('sequence' in owner && owner.kind === 'sequential') {
        this.materializeSequential(owner, shapes[0].sample, shapes[0].batch);
        return owner.graph;
      }
      return undefined;
    }
    this.traceDepth++;
    let r: Value;
    try {
      r = this.interp.inFile(sub.cls.file, site.span, () =>
        this.interp.callFunction(call.fn, { positional: [{ value: arg, span: site.span }], keyword: new Map(), span: site.span }, site.span, self),
      );
    } finally {
      this.traceDepth--;
    }
    let outputs = flattenTensors(r);
    if ((!outputs || outputs.length === 0 || outputs.some((t) => t.sample === null)) && !('sequence' in owner)) {
      // The output shape from compute_output_shape, when call() is beyond ConvLens.
      const cos = this.interp.classMember(sub.cls, 'compute_output_shape');
      if (cos?.k === 'func') {
        const shapeValue = shapes.length === 1 ? shapeTuple(shapes[0]) : tuple(shapes.map(shapeTuple));
        const s = this.interp.callFunction(cos.fn, { positional: [{ value: shapeValue, span: site.span }], keyword: new Map(), span: site.span }, site.span, self);
        const dims = dimsOf(s);
        if (dims) {
          const t = this.hiddenInput({ kerasName: ownerName, foreign: true } as ModelBuild, dims.slice(1), dims[0], site.span);
          outputs = [t];
        }
      }
    }
    if (!outputs || outputs.length === 0) return undefined;
    return { inputs, outputs };
  }

  // ------------------------------------------------------------------------------------------
  // Attributes and methods

  setAttribute(target: Value, name: string, v: Value): void {
    if (target.k === 'model') {
      const m = target.model;
      if (name === 'trainable') {
        const t = v.k === 'bool' ? v.v : undefined;
        if (t !== undefined) this.setTrainable(m, t);
        return;
      }
      const sub = this.subclasses.get(m);
      if (sub) {
        sub.obj.attrs.set(name, v);
        this.track(m.tracked, v);
        this.interp.touched();
      }
      return;
    }
    if (target.k === 'layer') {
      const l = target.layer;
      if (name === 'trainable') {
        if (v.k === 'bool') {
          l.trainable = v.v;
          if (l.composite) this.setTrainable(l.composite, v.v);
        }
        this.interp.touched();
        return;
      }
      const sub = this.subclasses.get(l);
      if (sub) {
        sub.obj.attrs.set(name, v);
        if (l.sublayers) this.track(l.sublayers, v);
        this.interp.touched();
      }
    }
  }

  private setTrainable(m: ModelBuild, t: boolean): void {
    m.trainable = t;
    if (m.asLayer) m.asLayer.trainable = t;
    for (const l of this.modelLayers(m)) {
      l.trainable = t;
      if (l.composite && l.composite !== m) this.setTrainable(l.composite, t);
    }
    this.interp.touched();
  }

  /** Layers (and models, as layers) assigned to a subclass's attributes, directly or in lists and dicts. */
  private track(tracked: LayerInstance[], v: Value, depth = 0): void {
    if (depth > 4) return;
    if (v.k === 'layer' && !tracked.includes(v.layer)) tracked.push(v.layer);
    else if (v.k === 'model') {
      const l = this.asLayer(v.model);
      if (!tracked.includes(l)) tracked.push(l);
    } else if (v.k === 'seq') for (const x of v.items) this.track(tracked, x, depth + 1);
    else if (v.k === 'dict') for (const e of v.entries.values()) this.track(tracked, e.value, depth + 1);
  }

  /** Every layer's own `trainable` flag now, nested models' and custom layers' layers included. */
  private trainableFlags(m: ModelBuild): Map<LayerInstance, boolean> {
    const flags = new Map<LayerInstance, boolean>();
    const visit = (l: LayerInstance): void => {
      if (flags.has(l)) return;
      flags.set(l, l.trainable);
      if (l.composite || l.custom) for (const x of this.innerLayers(l)) visit(x);
    };
    for (const l of this.reportLayers(m)) visit(l);
    return flags;
  }

  /** The layers a summary lists for a model, in Keras' order (no InputLayer for Sequential models). */
  reportLayers(m: ModelBuild): LayerInstance[] {
    // A subclassed model lists the layers its attributes hold, as Keras tracks them; what its
    // call() does besides (tensor arithmetic) runs as backend ops, not layers.
    return this.modelLayers(m).filter((l) => !isHidden(l) && !(m.kind === 'sequential' && l.type?.isInput));
  }

  /** The layers inside a nested model or a custom layer, for its parameter count. */
  innerLayers(layer: LayerInstance): LayerInstance[] {
    if (layer.composite) return this.reportLayers(layer.composite);
    const out = [...(layer.sublayers ?? [])];
    const known = new Set(out);
    const traced = layer.nodes.find((n) => n.inner);
    if (traced?.inner) for (const l of mapGraph(traced.inner.inputs, traced.inner.outputs).layers) if (!known.has(l) && !l.type?.isInput) out.push(l);
    return out;
  }

  /** `model.layers` in Keras' order. */
  modelLayers(m: ModelBuild): LayerInstance[] {
    if (m.kind === 'sequential') return m.sequence.map((s) => s.layer);
    if (m.kind === 'functional' && m.graph) return mapGraph(m.graph.inputs, m.graph.outputs).layers;
    return m.tracked;
  }

  iterateModel(m: ModelBuild): Iterable<Value> | undefined {
    void m;
    return undefined;
  }

  iterate(v: Value): Iterable<Value> | undefined {
    return v.k === 'model' ? this.iterateModel(v.model) : undefined;
  }

  len(v: Value): Value {
    return v.k === 'model' ? num(this.modelLayers(v.model).length) : UNKNOWN;
  }

  attribute(obj: Value, name: string, span: Span): Value {
    if (obj.k === 'model' || obj.k === 'layer') {
      const sub = obj.k === 'model' ? this.subclasses.get(obj.model) : this.subclasses.get(obj.layer);
      if (sub) {
        const own = sub.obj.attrs.get(name);
        if (own !== undefined) return own;
        const m = this.interp.classMember(sub.cls, name);
        if (m?.k === 'func') return this.interp.bindMember(m, obj, span);
        if (m !== undefined) return m;
      }
    }
    switch (obj.k) {
      case 'model':
        return this.modelAttribute(obj.model, name, span);
      case 'layer':
        return this.layerAttribute(obj.layer, name);
      case 'tensor':
        return this.tensorAttribute(obj.t, name, obj);
      case 'array':
        if (name === 'shape') return tuple(obj.shape.map((d) => (d === null ? UNKNOWN : num(d))));
        if (name === 'ndim') return num(obj.shape.length);
        if (name === 'T') return { k: 'array', shape: [...obj.shape].reverse() };
        if (name === 'size') return obj.shape.every((d) => d !== null) ? num(obj.shape.reduce<number>((a, d) => a * (d as number), 1)) : UNKNOWN;
        if (name === 'dtype') return UNKNOWN;
        return { k: 'method', self: obj, name };
      default:
        return UNKNOWN;
    }
  }

  private modelAttribute(m: ModelBuild, name: string, span: Span): Value {
    switch (name) {
      case 'layers':
        return this.interp.seq('list', this.modelLayers(m).filter((l) => !(m.kind === 'sequential' && l.type?.isInput)).map((l) => this.layerValue(l)), span);
      case 'name':
        return str(m.kerasName);
      case 'trainable':
        return { k: 'bool', v: m.trainable };
      case 'input':
      case 'inputs':
      case 'output':
      case 'outputs': {
        this.ensureGraph(m);
        const ts = m.graph ? (name.startsWith('input') ? m.graph.inputs : m.graph.outputs) : undefined;
        if (!ts) return { k: 'unknown', why: `the ${name} of a model ConvLens could not follow` };
        const vals: Value[] = ts.map((t) => ({ k: 'tensor', t }));
        return name.endsWith('s') ? this.interp.seq('list', vals, span) : vals.length === 1 ? vals[0] : this.interp.seq('list', vals, span);
      }
      case 'output_shape':
      case 'input_shape': {
        this.ensureGraph(m);
        const ts = m.graph ? (name === 'input_shape' ? m.graph.inputs : m.graph.outputs) : undefined;
        if (!ts || ts.length !== 1) return UNKNOWN;
        return this.shapeOf({ k: 'tensor', t: ts[0] });
      }
      default:
        return { k: 'method', self: { k: 'model', model: m }, name };
    }
  }

  private ensureGraph(m: ModelBuild): void {
    if (m.kind === 'sequential' && !m.graph) {
      const s = this.seqState(m);
      if (s.last && s.pending === m.sequence.length) m.graph = { inputs: [s.input!], outputs: [s.last] };
    }
  }

  private layerValue(l: LayerInstance): Value {
    return l.composite ? { k: 'model', model: l.composite } : { k: 'layer', layer: l };
  }

  private layerAttribute(l: LayerInstance, name: string): Value {
    switch (name) {
      case 'name':
        return str(l.kerasName);
      case 'trainable':
        return { k: 'bool', v: l.trainable };
      case 'output':
      case 'input': {
        const node = l.nodes.find((n) => !n.replay) ?? l.nodes[0];
        if (!node) return { k: 'unknown', why: `${l.kerasName} has not been called yet` };
        const ts = name === 'output' ? node.outputs : node.inputs;
        if (ts.length === 0 && name === 'input') return { k: 'tensor', t: node.outputs[0] };
        return ts.length === 1 ? { k: 'tensor', t: ts[0] } : tuple(ts.map((t) => ({ k: 'tensor', t })));
      }
      case 'output_shape': {
        const node = l.nodes[0];
        return node?.outputs[0] ? this.shapeOf({ k: 'tensor', t: node.outputs[0] }) : UNKNOWN;
      }
      default: {
        // Keras layers keep their constructor arguments as attributes of the same name
        // (`layer.rate`, `layer.units`, `layer.pool_size`): `MCDropout(layer.rate)` copies one.
        const config = l.bound?.config;
        if (config && Object.prototype.hasOwnProperty.call(config, name)) return configValue(config[name]);
        if (l.type?.args && Object.prototype.hasOwnProperty.call(l.type.args, name)) return UNKNOWN;
        return { k: 'method', self: { k: 'layer', layer: l }, name };
      }
    }
  }

  private tensorAttribute(t: SymTensor, name: string, self: Value): Value {
    switch (name) {
      case 'shape':
        if (t.sample === null || t.partial) return { k: 'unknown', why: 'the shape of a tensor ConvLens does not know' };
        return tuple([t.batch, ...t.sample].map((d) => (d === null ? NONE : num(d))));
      case 'ndim':
        return t.sample === null || t.partial ? UNKNOWN : num(t.sample.length + 1);
      case 'dtype':
        return str('float32');
      case 'name':
        return str(t.producer.layer.kerasName);
      default:
        return { k: 'method', self, name };
    }
  }

  method(self: Value, name: string, args: CallArgs, span: Span, e?: CallExpr): Value {
    if (name === '__super_init__') return this.superInit(self, args, span);
    if (name === '__noop__') return NONE;
    if (name === '__super_call__' && self.k === 'layer') {
      const l = self.layer;
      const x = args.positional[0]?.value;
      const ts = x ? flattenTensors(x) : undefined;
      if (!ts || !ts.length || !l.type) return UNKNOWN;
      const outs = this.tracer.apply(l, ts, this.site(span), this.interp.out);
      return { k: 'tensor', t: outs[0] };
    }
    if (self.k === 'model') return this.modelMethod(self.model, name, args, span, e);
    if (self.k === 'layer') return this.layerMethod(self.layer, name, args, span);
    if (self.k === 'array') return this.arrayMethod(self, name, args);
    if (self.k === 'tensor') return this.tensorMethod(self.t, name, args, span);
    return UNKNOWN;
  }

  private layerMethod(l: LayerInstance, name: string, args: CallArgs, span: Span): Value {
    switch (name) {
      case 'count_params': {
        const n = l.weights?.reduce<number | null>((s, w) => (s === null || w.shape.some((d) => d === null) ? null : s + w.shape.reduce<number>((a, d) => a * (d as number), 1)), 0);
        return n === null || n === undefined ? UNKNOWN : num(n);
      }
      case 'add_weight': {
        // A custom layer's weight: its shape counts as the layer's parameters.
        const shape = args.keyword.get('shape')?.value ?? args.positional[0]?.value;
        const dims = shape ? dimsOf(shape) : undefined;
        const nameArg = args.keyword.get('name')?.value;
        const trainable = args.keyword.get('trainable')?.value;
        l.weights ??= [];
        l.weights.push({ name: nameArg?.k === 'str' ? nameArg.v : `weight_${l.weights.length}`, shape: dims ?? [null], trainable: !(trainable?.k === 'bool' && !trainable.v) });
        return { k: 'unknown', why: 'a weight variable' };
      }
      case 'build':
      case 'set_weights':
      case 'load_weights':
        return NONE;
      default:
        void span;
        return UNKNOWN;
    }
  }

  private modelMethod(model: ModelBuild, name: string, args: CallArgs, span: Span, e?: CallExpr): Value {
    const kw = (k: string, i: number): ArgValue | undefined => args.keyword.get(k) ?? args.positional[i];
    switch (name) {
      case 'add': {
        const a = kw('layer', 0);
        if (a) {
          if (model.kind === 'subclassed') return NONE;
          const here = this.interp.here(e?.span ?? span);
          this.sequentialAdd(model, a.value, here, here.end);
        }
        return NONE;
      }
      case 'pop': {
        model.sequence.pop();
        const s = this.seqState(model);
        s.names = undefined;
        if (s.input) {
          // Keras rebuilds the chain; so does ConvLens, at the end.
          s.last = undefined;
          s.input = undefined;
          s.pending = 0;
          model.graph = undefined;
        }
        this.interp.touched();
        return NONE;
      }
      case 'build': {
        const a = kw('input_shape', 0);
        const dims = a ? dimsOf(a.value) : undefined;
        if (dims && dims.length >= 1) {
          const sample = dims.slice(1);
          if (model.kind === 'sequential') {
            if (!this.seqState(model).last) this.materializeSequential(model, sample, dims[0], a!.span, 'build()');
          } else if (model.kind === 'subclassed' && !model.graph) this.buildSubclassed(model, sample, dims[0], a!.span, 'build()');
        }
        this.interp.touched();
        return NONE;
      }
      case 'compile': {
        const get = (k: string, pos: number): ArgValue | undefined => args.keyword.get(k) ?? args.positional[pos];
        const opt = get('optimizer', 0);
        const loss = get('loss', 1);
        const metrics = get('metrics', 3);
        let optimizer: OptimizerSpec | undefined;
        if (opt?.value.k === 'optimizer') optimizer = opt.value.spec;
        else if (opt?.value.k === 'str') optimizer = { name: opt.value.v, args: new Map(), span: this.interp.here(opt.span) };
        else if (!opt) optimizer = { name: frameworkDefaultOptimizer('keras'), args: new Map(), span: this.interp.here(span) };
        const extras = readCompileExtras(optimizer);
        const lossObject = loss?.value.k === 'object' && loss.value.obj.cls.native?.startsWith('keras.losses.') ? loss.value.obj : undefined;
        model.compile = {
          extras,
          optimizer,
          loss: loss?.value.k === 'str' ? loss.value.v : loss?.value.k === 'module' ? loss.value.path.split('.').pop() : lossObject?.cls.name,
          ...(lossObject
            ? {
                lossArgs: {
                  keywords: new Map([...lossObject.attrs].filter(([k]) => !k.startsWith('#'))),
                  positional: [...lossObject.attrs].filter(([k]) => k.startsWith('#')).map(([, v]) => v),
                },
              }
            : {}),
          metrics: metrics?.value.k === 'seq' ? metrics.value.items.flatMap((m) => (m.k === 'str' ? [m.v] : [])) : metrics?.value.k === 'str' ? [metrics.value.v] : [],
          span: this.interp.here(span),
        };
        model.compiledFlags = this.trainableFlags(model);
        this.interp.touched();
        return NONE;
      }
      case 'fit': {
        const get = (k: string, pos: number): Value | undefined => (args.keyword.get(k) ?? args.positional[pos])?.value;
        const n = (v: Value | undefined): number | undefined => (v?.k === 'num' ? v.v : undefined);
        const shuffle = get('shuffle', 9);
        const x = get('x', 0);
        if (x?.k === 'array' && x.shape.length >= 2) {
          const sample = x.shape.slice(1);
          if (model.kind === 'sequential' && !this.seqState(model).last) this.materializeSequential(model, sample, null, (args.keyword.get('x') ?? args.positional[0])!.span, 'the data passed to fit()');
          if (model.kind === 'subclassed' && !model.graph) this.buildSubclassed(model, sample, null, (args.keyword.get('x') ?? args.positional[0])!.span, 'the data passed to fit()');
        }
        const vd = get('validation_data', 7);
        model.fit = {
          batchSize: n(get('batch_size', 2)),
          epochs: n(get('epochs', 3)),
          validationSplit: n(get('validation_split', 6)),
          hasValidationData: vd !== undefined && vd.k !== 'none',
          shuffle: shuffle?.k === 'bool' ? shuffle.v : undefined,
          span: this.interp.here(span),
        };
        const call = (fn: Value, a: Value[]): Value => (fn.k === 'func' ? this.interp.callFunction(fn.fn, { positional: a.map((value) => ({ value, span })), keyword: new Map(), span }, span) : UNKNOWN);
        model.fit.extras = readFitExtras(args, model, call, model.fit.epochs);
        this.interp.touched();
        return { k: 'unknown', why: 'a training history' };
      }
      case 'predict':
      case 'predict_on_batch':
      case '__call__': {
        const x = args.positional[0]?.value;
        if (x?.k === 'array') return this.callOnArray({ k: 'model', model }, this.asLayer(model), x, span);
        return UNKNOWN;
      }
      case 'get_layer': {
        const nameArg = kw('name', 0)?.value;
        const index = args.keyword.get('index')?.value ?? (nameArg?.k === 'num' ? nameArg : undefined);
        const layers = this.modelLayers(model);
        if (nameArg?.k === 'str') {
          const found = layers.find((l) => l.kerasName === nameArg.v);
          if (!found) this.interp.report({ severity: 'error', code: 'no-such-layer', span: this.interp.here(span), message: `Model '${model.kerasName}' has no layer named '${nameArg.v}'${layers.length ? ` (it has ${layers.slice(0, 6).map((l) => `'${l.kerasName}'`).join(', ')}${layers.length > 6 ? ', …' : ''})` : ''}` });
          return found ? this.layerValue(found) : UNKNOWN;
        }
        if (index?.k === 'num') {
          const shown = layers.filter((l) => !(model.kind === 'sequential' && l.type?.isInput));
          const l = shown[index.v < 0 ? shown.length + index.v : index.v];
          return l ? this.layerValue(l) : UNKNOWN;
        }
        return UNKNOWN;
      }
      case 'count_params':
        return UNKNOWN;
      case 'summary': {
        // The totals as printed now: later code may add layers or freeze them.
        this.ensureGraph(model);
        let trainable: number | null = 0;
        let nonTrainable: number | null = 0;
        const layers = this.reportLayers(model);
        for (const l of layers) {
          const c = paramCounts(l, (x) => this.innerLayers(x));
          trainable = trainable === null || c.trainable === null ? null : trainable + c.trainable;
          nonTrainable = nonTrainable === null || c.nonTrainable === null ? null : nonTrainable + c.nonTrainable;
        }
        if (!this.interp.foreign) model.snapshots.push({ span: this.interp.here(e?.span ?? span), trainable, nonTrainable, layers: layers.length, flags: this.trainableFlags(model) });
        return NONE;
      }
      case 'save': {
        const file = (args.keyword.get('filepath') ?? args.positional[0])?.value;
        if (file?.k === 'str') this.saved.set(file.v, model);
        return NONE;
      }
      case 'save_weights':
      case 'load_weights':
      case 'evaluate':
        return NONE;
      default:
        return UNKNOWN;
    }
  }

  private arrayMethod(self: Extract<Value, { k: 'array' }>, name: string, args: CallArgs): Value {
    switch (name) {
      case 'reshape': {
        const dims = args.positional.length === 1 ? args.positional[0].value : tuple(args.positional.map((a) => a.value));
        return keepOrigin(reshapeArray(self.shape, dims), self);
      }
      case 'astype':
      case 'copy':
      case 'clip':
      case 'numpy':
        return self;
      case 'squeeze':
        return keepOrigin({ k: 'array', shape: self.shape.filter((d) => d !== 1) }, self);
      case 'flatten':
      case 'ravel':
        return { k: 'array', shape: [self.shape.every((d) => d !== null) ? self.shape.reduce<number>((a, d) => a * (d as number), 1) : null] };
      case 'transpose':
        return { k: 'array', shape: [...self.shape].reverse() };
      case 'mean':
      case 'std':
      case 'max':
      case 'min':
      case 'sum':
        return args.positional.length || args.keyword.has('axis') ? UNKNOWN : num(0, true);
      default:
        return UNKNOWN;
    }
  }

  private tensorMethod(t: SymTensor, name: string, args: CallArgs, span: Span): Value {
    void t;
    void args;
    void span;
    if (name === 'get_shape') return this.shapeOf({ k: 'tensor', t });
    return UNKNOWN;
  }

  // ------------------------------------------------------------------------------------------
  // Tensor arithmetic and ops

  /**
   * A node for an operation on tensors, shown as Keras 3 names it (`multiply`, `exp`). Inside a
   * traced `call()` Keras runs the backend's ops, which take no names from the layers' counters.
   */
  private opLayer(typeName: string, args: CallArgs, span: Span, display = typeName): LayerInstance {
    const type = findLayer(typeName);
    const named = this.traceDepth > 0 ? { ...args, keyword: new Map([...args.keyword, ['name', { value: str(kerasSnakeCase(display)), span }]]) } : args;
    const layer = this.newLayer(display, type, named, span, span);
    (layer as { args: CallArgs }).args = args;
    layer.op = true;
    return layer;
  }

  /** Depth of `call()`s being traced (ops inside them are not graph-level operations). */
  private traceDepth = 0;

  binary(op: string, l: Value, r: Value, span: Span): Value {
    // Arrays (data) stay arrays: element-wise ops keep the shape.
    if (l.k === 'array' && (r.k === 'num' || r.k === 'array' || r.k === 'bool')) return l;
    if (r.k === 'array' && (l.k === 'num' || l.k === 'bool')) return r;
    if (l.k === 'tensor' && r.k === 'tensor') {
      const cls = op === '+' ? 'Add' : op === '-' ? 'Subtract' : op === '*' ? 'Multiply' : undefined;
      if (!cls) return { k: 'unknown', why: `'${op}' between tensors` };
      const layer = this.opLayer(cls, { positional: [], keyword: new Map(), span }, span);
      const outs = this.tracer.apply(layer, [l.t, r.t], this.site(span), this.interp.out);
      return { k: 'tensor', t: outs[0] };
    }
    if ((l.k === 'tensor' && r.k === 'array') || (r.k === 'tensor' && l.k === 'array')) {
      // A tensor and a constant array (`x * epsilon` with epsilon = tf.random.normal(...)): the tensor's shape.
      const t = (l.k === 'tensor' ? l : r) as Extract<Value, { k: 'tensor' }>;
      const display = op === '+' ? 'Add' : op === '-' ? 'Subtract' : op === '*' ? 'Multiply' : 'TrueDivide';
      const layer = this.opLayer('UnaryOp', { positional: [], keyword: new Map<string, ArgValue>([['fn', { value: str('constant_op'), span }]]), span }, span, display);
      return { k: 'tensor', t: this.tracer.apply(layer, [t.t], this.site(span), this.interp.out)[0] };
    }
    if ((l.k === 'tensor' && r.k === 'num') || (r.k === 'tensor' && l.k === 'num')) {
      const t = (l.k === 'tensor' ? l : r) as Extract<Value, { k: 'tensor' }>;
      const c = (l.k === 'num' ? l : r) as Extract<Value, { k: 'num' }>;
      if (!['+', '-', '*', '/'].includes(op)) return { k: 'unknown', why: `'${op}' of a tensor` };
      const display = op === '+' ? 'Add' : op === '-' ? 'Subtract' : op === '*' ? 'Multiply' : 'TrueDivide';
      const layer = this.opLayer('ScalarOp', { positional: [], keyword: new Map<string, ArgValue>([['op', { value: str(op), span }], ['scalar', { value: c, span }], ['reversed', { value: { k: 'bool', v: l.k === 'num' }, span }]]), span }, span, display);
      const outs = this.tracer.apply(layer, [t.t], this.site(span), this.interp.out);
      return { k: 'tensor', t: outs[0] };
    }
    return UNKNOWN;
  }

  /** `tf.concat`, `ops.add`, `tf.nn.relu`, … on symbolic tensors: the layer that does the same. */
  private tensorFunction(path: string, last: string, args: CallArgs, span: Span, e?: CallExpr): Value | undefined {
    const p = args.positional.map((a) => a.value);
    const first = p[0];
    const tensorsIn = first ? flattenTensors(first) : undefined;
    if (!tensorsIn || tensorsIn.length === 0) {
      // A constant of a given shape (`K.random_normal(shape=(K.shape(z)[0], 2))`): data, which
      // arithmetic with a tensor keeps at the tensor's shape.
      if (last === 'arange') {
        // arange(stop) / arange(start, stop, step): data of that length (position indices).
        const get = (k: string, i: number): Value | undefined => (args.keyword.get(k) ?? args.positional[i])?.value;
        const [a, b, c] = [get('start', 0), get('stop', 1), get('step', 2)];
        const n = (v: Value | undefined, d: number): number | undefined => (v === undefined || v.k === 'none' ? d : v.k === 'num' ? v.v : undefined);
        const start = b === undefined || b.k === 'none' ? 0 : n(a, 0);
        const stop = b === undefined || b.k === 'none' ? n(a, NaN) : n(b, NaN);
        const step = n(c, 1);
        if (start !== undefined && stop !== undefined && step !== undefined && Number.isFinite(stop) && step !== 0) return { k: 'array', shape: [Math.max(0, Math.ceil((stop - start) / step))] };
        return undefined;
      }
      if (first?.k === 'array' && last === 'expand_dims') {
        const axis = (args.keyword.get('axis') ?? args.positional[1])?.value;
        if (axis?.k !== 'num') return undefined;
        const at = axis.v < 0 ? axis.v + first.shape.length + 1 : axis.v;
        return at < 0 || at > first.shape.length ? undefined : { k: 'array', shape: [...first.shape.slice(0, at), 1, ...first.shape.slice(at)] };
      }
      const random = path.split('.').slice(-2)[0] === 'random' && ['normal', 'uniform', 'truncated_normal'].includes(last);
      if (random || ['random_normal', 'random_uniform', 'truncated_normal', 'zeros', 'ones'].includes(last)) {
        const dims = dimsOf((args.keyword.get('shape') ?? args.positional[0])?.value ?? NONE);
        if (dims) return { k: 'array', shape: dims };
      }
      return undefined;
    }
    const merge: Record<string, string> = { add: 'Add', subtract: 'Subtract', multiply: 'Multiply', maximum: 'Maximum', minimum: 'Minimum', concat: 'Concatenate', concatenate: 'Concatenate', add_n: 'Add' };
    const site = this.site(span, undefined, e ? inputItemSpans(e) : undefined);
    if (last === 'stack' && tensorsIn.length >= 1) {
      const axis = args.keyword.get('axis') ?? args.positional[1];
      const kwArgs = new Map<string, ArgValue>(axis ? [['axis', axis]] : []);
      const tf = path.startsWith('tensorflow') && this.traceDepth === 0;
      const layer = tf ? this.newLayer('TFOpLambda', findLayer('Stack'), { positional: [], keyword: new Map([...kwArgs, ['name', { value: str(this.uid('tf.stack')), span }]]), span }, span, span) : this.opLayer('Stack', { positional: [], keyword: kwArgs, span }, span);
      if (tf) {
        (layer as { args: CallArgs }).args = { positional: [], keyword: kwArgs, span };
        layer.op = true;
      }
      return { k: 'tensor', t: this.tracer.apply(layer, tensorsIn, site, this.interp.out)[0] };
    }
    if (merge[last]) {
      const ts = last === 'concat' || last === 'concatenate' || last === 'add_n' ? tensorsIn : [...tensorsIn, ...(p[1] ? flattenTensors(p[1]) ?? [] : [])];
      const axis = args.keyword.get('axis') ?? (last === 'concat' || last === 'concatenate' ? args.positional[1] : undefined);
      const kwArgs = new Map<string, ArgValue>(axis ? [['axis', axis]] : []);
      const layer = this.opLayer(merge[last], { positional: [], keyword: kwArgs, span }, span);
      const outs = this.tracer.apply(layer, ts, site, this.interp.out);
      return { k: 'tensor', t: outs[0] };
    }
    const act: Record<string, string> = { relu: 'relu', sigmoid: 'sigmoid', tanh: 'tanh', softmax: 'softmax', relu6: 'relu6', swish: 'swish', silu: 'silu', gelu: 'gelu', elu: 'elu', leaky_relu: 'leaky_relu', selu: 'selu', softplus: 'softplus', hard_sigmoid: 'hard_sigmoid', hard_swish: 'hard_swish', hard_silu: 'hard_silu', mish: 'mish', softsign: 'softsign', exponential: 'exponential', linear: 'linear' };
    const camel = (n: string): string => n.charAt(0).toUpperCase() + n.slice(1).replace(/_(\w)/g, (_, c: string) => c.toUpperCase());
    if (act[last] && tensorsIn.length === 1) {
      if (last === 'linear') return { k: 'tensor', t: tensorsIn[0] };
      const fn = act[last] === 'swish' ? 'silu' : act[last];
      const op = fn === 'exponential' ? 'Exp' : camel(fn);
      const tfName = TF_NAMES[fn] ?? `tf.nn.${fn}`;
      return { k: 'tensor', t: this.namedOp(path, 'Activation', { positional: [{ value: str(act[last]), span }], keyword: new Map(), span }, tfName, op, tensorsIn, site, span) };
    }
    const unary: Record<string, string> = { exp: 'exp', log: 'log', sqrt: 'sqrt', square: 'square', abs: 'abs', negative: 'negative', sign: 'sign', sin: 'sin', cos: 'cos', floor: 'floor', ceil: 'ceil', round: 'round', rsqrt: 'rsqrt', reciprocal: 'reciprocal', stop_gradient: 'stop_gradient', cast: 'cast' };
    if (unary[last] && tensorsIn.length === 1) {
      const tfName = last === 'stop_gradient' || last === 'cast' ? `tf.${last}` : `tf.math.${last}`;
      return { k: 'tensor', t: this.namedOp(path, 'UnaryOp', { positional: [], keyword: new Map<string, ArgValue>([['fn', { value: str(unary[last]), span }]]), span }, tfName, camel(last), tensorsIn, site, span) };
    }
    const shaped = this.shapeFunction(path, last, args, tensorsIn[0], site, span);
    if (shaped) return shaped;
    const target = (args.keyword.get('shape') ?? args.keyword.get('newshape') ?? args.positional[1])?.value;
    if (last === 'reshape' && tensorsIn.length === 1 && target) {
      // Keras' compute_reshape_output_shape: a size that is not a Python int (None, a dynamic
      // ops.shape(x)[i] or arithmetic on one) is None in the result; the batch slot is the batch.
      // A value ConvLens could not follow leaves the shape unknown.
      const items = target.k === 'seq' ? target.items : undefined;
      const size = (d: Value): boolean => (d.k === 'num' && Number.isInteger(d.v) && (d.v > 0 || d.v === -1)) || d.k === 'none';
      if (items && items.length >= 1 && items.every(size)) {
        const dims = items.slice(1).map((d) => (d.k === 'num' ? d : NONE));
        const layer = this.opLayer('Reshape', { positional: [{ value: tuple(dims), span }], keyword: new Map(), span }, span);
        return { k: 'tensor', t: this.tracer.apply(layer, tensorsIn, site, this.interp.out)[0] };
      }
    }
    return { k: 'unknown', why: `${path.replace(/^tensorflow/, 'tf')}() on a tensor` };
  }

  /**
   * One operation on symbolic tensors: a TensorFlow function at graph level is tf.keras 2's
   * `TFOpLambda` layer named after the function (`tf.nn.relu`); a Keras op, or anything inside a
   * traced call(), is Keras 3's operation (`relu (Relu)`).
   */
  private namedOp(path: string, type: string, args: CallArgs, tfName: string, display: string, inputs: SymTensor[], site: CallSite, span: Span): SymTensor {
    let layer: LayerInstance;
    if (path.startsWith('tensorflow') && this.traceDepth === 0) {
      layer = this.newLayer('TFOpLambda', findLayer(type), { ...args, keyword: new Map([...args.keyword, ['name', { value: str(this.uid(tfName)), span }]]) }, span, span);
      (layer as { args: CallArgs }).args = args;
      layer.op = true;
    } else layer = this.opLayer(type, args, span, display);
    return this.tracer.apply(layer, inputs, site, this.interp.out)[0];
  }

  /**
   * Shape-only tensor functions (`tf.nn.depth_to_space`, `tf.image.resize`, `tf.reduce_mean`,
   * `ops.expand_dims`, `K.mean`): one node each. TensorFlow's functions on Keras tensors become
   * tf.keras 2's `TFOpLambda` layers, named after the function (`tf.nn.depth_to_space`); Keras'
   * ops are named as Keras 3 names its operations (`depth_to_space`, class `DepthToSpace`).
   */
  private shapeFunction(path: string, last: string, args: CallArgs, x: SymTensor, site: CallSite, span: Span): Value | undefined {
    const tf = path.startsWith('tensorflow');
    const arg = (name: string, pos: number): Value | undefined => (args.keyword.get(name) ?? args.positional[pos])?.value;
    const node = (type: string, kw: Record<string, Value>, tfName: string, opsClass: string): Value => {
      const keyword = new Map<string, ArgValue>(Object.entries(kw).map(([k, value]) => [k, { value, span }]));
      const plain: CallArgs = { positional: [], keyword, span };
      let layer: LayerInstance;
      if (tf && this.traceDepth === 0) {
        layer = this.newLayer('TFOpLambda', findLayer(type), { ...plain, keyword: new Map([...keyword, ['name', { value: str(this.uid(tfName)), span }]]) }, span, span);
        (layer as { args: CallArgs }).args = plain;
        layer.op = true;
      } else layer = this.opLayer(type, plain, span, opsClass);
      return { k: 'tensor', t: this.tracer.apply(layer, [x], site, this.interp.out)[0] };
    };
    const tfPath = path.replace(/^tensorflow\./, '').replace(/^compat\.v[12]\./, '');
    const channelsFirst = (v: Value | undefined): boolean => v?.k === 'str' && /^(NCHW|channels_first)$/.test(v.v);
    if (last === 'depth_to_space' || last === 'space_to_depth') {
      const b = arg('block_size', 1);
      if (!b || channelsFirst(arg('data_format', 2))) return undefined;
      return node(last === 'depth_to_space' ? 'DepthToSpace' : 'SpaceToDepth', { block_size: b }, `tf.nn.${last}`, last === 'depth_to_space' ? 'DepthToSpace' : 'SpaceToDepth');
    }
    const resize: Record<string, string | undefined> = { 'image.resize': undefined, 'image.resize_images': undefined, 'image.resize_bilinear': 'bilinear', 'image.resize_nearest_neighbor': 'nearest', 'image.resize_bicubic': 'bicubic', 'image.resize_area': 'area' };
    const kerasResize = !tf && /\.image\.resize$/.test(path);
    if (tf ? tfPath in resize : kerasResize) {
      const size = arg('size', 1);
      if (!size || channelsFirst(args.keyword.get('data_format')?.value)) return undefined;
      const m = arg(tf ? 'method' : 'interpolation', 2);
      const method = m?.k === 'str' ? m.v : m?.k === 'module' ? m.path.split('.').pop()!.toLowerCase() : (resize[tfPath] ?? 'bilinear');
      return node('ResizeImages', { size, method: str(method === 'nearest_neighbor' ? 'nearest' : method) }, `tf.${tfPath === 'image.resize_images' ? 'compat.v1.image.resize' : tfPath}`, 'Resize');
    }
    const reduce = tf ? /^(?:math\.)?reduce_(mean|sum|max|min|prod|std|variance|logsumexp|any|all)$/.exec(tfPath)?.[1] : ({ mean: 'mean', sum: 'sum', max: 'max', min: 'min', prod: 'prod', std: 'std', var: 'variance', logsumexp: 'logsumexp', argmax: 'argmax', argmin: 'argmin' } as Record<string, string>)[last];
    if (reduce) {
      const axis = arg('axis', 1);
      if (!axis || axis.k === 'none') return undefined;
      const keepdims = arg(tf ? 'keepdims' : 'keepdims', 2) ?? { k: 'bool', v: false };
      const cls = reduce === 'variance' ? 'Var' : reduce.charAt(0).toUpperCase() + reduce.slice(1);
      return node('Reduce', { fn: str(reduce), axis, keepdims }, `tf.math.reduce_${reduce}`, cls);
    }
    if (last === 'extract_patches') {
      // Keras: (images, size, strides=None, dilation_rate=1, padding='valid'); TensorFlow: (images, sizes=[1, p, p, 1], strides, rates, padding).
      const inner = (v: Value | undefined): Value | undefined => (tf && v?.k === 'seq' && v.items.length === 4 ? tuple(v.items.slice(1, 3)) : v);
      const size = inner(arg(tf ? 'sizes' : 'size', 1));
      if (!size) return undefined;
      const kw: Record<string, Value> = { size };
      const strides = inner(arg('strides', 2));
      if (strides && strides.k !== 'none') kw.strides = strides;
      const rates = inner(arg(tf ? 'rates' : 'dilation_rate', 3));
      if (rates) kw.dilation_rate = rates;
      const padding = arg('padding', 4);
      if (padding?.k === 'str') kw.padding = str(padding.v.toLowerCase());
      return node('ExtractPatches', kw, 'tf.image.extract_patches', 'ExtractPatches');
    }
    if (last === 'expand_dims') {
      const axis = arg('axis', 1);
      return axis ? node('ExpandDims', { axis }, 'tf.expand_dims', 'ExpandDims') : undefined;
    }
    if (last === 'squeeze') return node('Squeeze', { axis: arg('axis', 1) ?? NONE }, 'tf.squeeze', 'Squeeze');
    if (last === 'transpose' || last === 'permute_dimensions') {
      const perm = arg(tf ? 'perm' : last === 'permute_dimensions' ? 'pattern' : 'axes', 1);
      return perm && perm.k !== 'none' ? node('Transpose', { perm }, 'tf.transpose', 'Transpose') : undefined;
    }
    return undefined;
  }

  /**
   * `keras.applications.<family>.preprocess_input(x)` on a symbolic tensor: the operations
   * Keras 3 records for the family's mode (imagenet_utils._preprocess_tensor_input), under its
   * names (`true_divide`, `subtract`). tf.keras 2 printed them as TFOpLambda rows
   * (`tf.math.truediv`); ConvLens does not tell the two apart once imports are normalised.
   */
  private preprocessInput(path: string, args: CallArgs, x: SymTensor, span: Span): Value | undefined {
    const family = path.split('.').slice(-2)[0];
    const modeArg = args.keyword.get('mode')?.value;
    const MODES: Record<string, 'tf' | 'caffe' | 'torch' | 'none'> = {
      mobilenet: 'tf', mobilenet_v2: 'tf', inception_v3: 'tf', inception_resnet_v2: 'tf', xception: 'tf', resnet_v2: 'tf', nasnet: 'tf',
      vgg16: 'caffe', vgg19: 'caffe', resnet: 'caffe', resnet50: 'caffe', densenet: 'torch',
      efficientnet: 'none', efficientnet_v2: 'none', convnext: 'none', regnet: 'none', mobilenet_v3: 'none', resnet_rs: 'none',
    };
    const mode = family === 'imagenet_utils' ? (modeArg?.k === 'str' ? modeArg.v : 'caffe') : MODES[family];
    if (mode === 'none') return { k: 'tensor', t: x };
    const format = args.keyword.get('data_format')?.value;
    if (format?.k === 'str' && format.v === 'channels_first') return undefined;
    const site = this.site(span);
    const apply = (type: string, kw: [string, Value][], display: string, inputs: SymTensor[]): SymTensor => {
      const layer = this.opLayer(type, { positional: [], keyword: new Map<string, ArgValue>(kw.map(([k, value]) => [k, { value, span }])), span }, span, display);
      return this.tracer.apply(layer, inputs, site, this.interp.out)[0];
    };
    const scalar = (t: SymTensor, op: string, c: number, display: string): SymTensor => apply('ScalarOp', [['op', str(op)], ['scalar', num(c, true)], ['reversed', { k: 'bool', v: false }]], display, [t]);
    const constant = (t: SymTensor, display: string): SymTensor => apply('UnaryOp', [['fn', str('constant_op')]], display, [t]);
    if (mode === 'tf') return { k: 'tensor', t: scalar(scalar(x, '/', 127.5, 'TrueDivide'), '-', 1, 'Subtract') };
    if (mode === 'torch') return { k: 'tensor', t: constant(constant(scalar(x, '/', 255, 'TrueDivide'), 'Add'), 'TrueDivide') };
    if (mode !== 'caffe') return undefined;
    // RGB → BGR (Keras 3 stacks x[..., 2], x[..., 1], x[..., 0]), then the ImageNet mean is added.
    const channels = [2, 1, 0].map((i) => apply('GetItem', [['key', str(`..., ${i}`)]], 'GetItem', [x]));
    return { k: 'tensor', t: constant(apply('Stack', [['axis', num(-1)]], 'Stack', channels), 'Add') };
  }

  subscript(v: Value, index: IndexItem[], span: Span): Value {
    if (v.k === 'array') {
      // a[..., None], a[:1000], a[0]
      const ix = index.length === 1 && 'k' in index[0] && index[0].k === 'seq' ? index[0].items : index;
      let shape = v.shape.slice();
      const out: Dim[] = [];
      let axis = 0;
      const ellipsis = ix.findIndex((i) => 'k' in i && i.k === 'module' && i.path === 'Ellipsis');
      for (let i = 0; i < ix.length; i++) {
        const it = ix[i];
        if (i === ellipsis) {
          const remaining = ix.slice(i + 1).filter((x) => !('k' in x && x.k === 'none')).length;
          while (shape.length - axis > remaining) out.push(shape[axis++]);
          continue;
        }
        if ('slice' in it) {
          out.push(index.length === 1 && ix === index ? null : shape[axis] ?? null);
          axis++;
        } else if (it.k === 'none') out.push(1);
        else if (it.k === 'num') axis++;
        else return UNKNOWN;
      }
      while (axis < shape.length) out.push(shape[axis++]);
      shape = out;
      return { k: 'array', shape };
    }
    if (v.k === 'tensor') return this.indexTensor(v.t, index as IndexItem[], span) ?? { k: 'unknown', why: 'indexing a tensor with an index ConvLens cannot follow' };
    return { k: 'unknown', why: 'indexing a tensor' };
  }

  /**
   * `x[..., :5]`, `x[:, 0]`, `x[:, None]` on a symbolic tensor: one GetItem node (Keras 3's
   * `get_item` operation). Only indexes that keep the batch axis first, with constant bounds.
   */
  private indexTensor(t: SymTensor, index: IndexItem[], span: Span): Value | undefined {
    const raw = index.length === 1 && 'k' in index[0] && index[0].k === 'seq' ? index[0].items : index;
    const items: IndexSpec[] = [];
    const int = (x: Value | undefined): number | null | undefined => (x === undefined || x.k === 'none' ? null : x.k === 'num' && Number.isInteger(x.v) && !x.float ? x.v : undefined);
    for (const it of raw) {
      if ('slice' in it) {
        const start = int(it.lower), stop = int(it.upper), step = int(it.step);
        if (start === undefined || stop === undefined || step === undefined || step === 0) return undefined;
        items.push({ kind: 'slice', start, stop, step: step ?? 1 });
      } else if (it.k === 'module' && it.path === 'Ellipsis') items.push({ kind: 'ellipsis' });
      else if (it.k === 'none') items.push({ kind: 'newaxis' });
      else if (it.k === 'num' && Number.isInteger(it.v) && !it.float) items.push({ kind: 'index', at: it.v });
      else return undefined;
    }
    // The batch axis must stay where it is: a first ':' or an ellipsis that covers it.
    const first = items[0];
    let sample: IndexSpec[];
    if (first?.kind === 'slice' && first.start === null && first.stop === null && first.step === 1) sample = items.slice(1);
    else if (first?.kind === 'ellipsis' && t.sample !== null && items.filter((i) => i.kind === 'slice' || i.kind === 'index').length <= t.sample.length) sample = items;
    else return undefined;
    const key = indexText(sample);
    const layer = this.opLayer('GetItem', { positional: [], keyword: new Map<string, ArgValue>([['key', { value: str(key), span }]]), span }, span);
    return { k: 'tensor', t: this.tracer.apply(layer, [t], this.site(span), this.interp.out)[0] };
  }

  isInstance(v: Value, path: string): boolean | undefined {
    const c = classifyKerasPath(path);
    if (c.kind === 'layer' && c.className === 'Layer') return v.k === 'layer' || v.k === 'model' ? true : v.k === 'unknown' ? undefined : false;
    if (c.kind === 'functionalModel') return v.k === 'model' ? true : v.k === 'unknown' ? undefined : false;
    if (c.kind === 'layer') return v.k === 'layer' ? v.layer.type?.name === c.className : v.k === 'unknown' ? undefined : false;
    return undefined;
  }
}

/** TensorFlow's canonical names of activation functions (what a TFOpLambda layer is called). */
const TF_NAMES: Record<string, string> = { sigmoid: 'tf.math.sigmoid', tanh: 'tf.math.tanh', softplus: 'tf.math.softplus', exponential: 'tf.math.exp', hard_sigmoid: 'tf.keras.activations.hard_sigmoid', mish: 'tf.keras.activations.mish' };

/** The tensors of a value: one tensor, or a list/tuple/dict of them; undefined if any is not a tensor. */
/** An input ConvLens made itself (for a model without `Input`, a replay, a traced call). */
/** A bound layer argument as the Python value its attribute holds (numbers, strings, flags, tuples). */
function configValue(v: unknown): Value {
  if (typeof v === 'number') return num(v);
  if (typeof v === 'string') return str(v);
  if (typeof v === 'boolean') return { k: 'bool', v };
  if (v === null) return NONE;
  if (Array.isArray(v) && v.every((x) => typeof x === 'number' || x === null)) return tuple(v.map((x) => (x === null ? NONE : num(x as number))));
  return UNKNOWN;
}

function isHidden(l: LayerInstance): boolean {
  return !!l.type?.isInput && l.nodes.every((n) => n.replay);
}

export function flattenTensors(v: Value, depth = 0): SymTensor[] | undefined {
  if (v.k === 'tensor') return [v.t];
  if (depth > 4) return undefined;
  if (v.k === 'seq') {
    const out: SymTensor[] = [];
    for (const x of v.items) {
      const ts = flattenTensors(x, depth + 1);
      if (!ts) return undefined;
      out.push(...ts);
    }
    return out;
  }
  if (v.k === 'dict') {
    const out: SymTensor[] = [];
    for (const e of v.entries.values()) {
      const ts = flattenTensors(e.value, depth + 1);
      if (!ts) return undefined;
      out.push(...ts);
    }
    return out;
  }
  return undefined;
}

function sameShape(a: SymTensor, b: SymTensor): boolean {
  if (a.partial !== b.partial) return false;
  if (a.sample === null || b.sample === null) return a.sample === b.sample;
  return a.sample.length === b.sample.length && a.sample.every((d, i) => d === b.sample![i]);
}

function shapeTuple(s: { sample: Dim[] | null; batch: Dim }): Value {
  if (s.sample === null) return { k: 'unknown', why: 'an input shape ConvLens does not know' };
  return tuple([s.batch, ...s.sample].map((d) => (d === null ? NONE : num(d))));
}

/**
 * keras.applications' `obtain_input_shape`: the given shape; without one, the size the weights
 * were trained at when the classifier is kept (`require_flatten`), else a free height and width.
 * (Its argument checks are not repeated here: ConvLens' own definitions make them.)
 */
function obtainInputShape(args: CallArgs): Value {
  const get = (k: string, i: number): Value | undefined => args.keyword.get(k)?.value ?? args.positional[i]?.value;
  const given = get('input_shape', 0);
  const size = get('default_size', 1);
  const first = get('data_format', 3)?.k === 'str' && (get('data_format', 3) as { v: string }).v === 'channels_first';
  const flatten = get('require_flatten', 4);
  const weights = get('weights', 5);
  const imagenetTop = weights?.k === 'str' && weights.v === 'imagenet' && flatten?.k === 'bool' && flatten.v;
  const image = (side: Value): Value => (first ? tuple([num(3), side, side]) : tuple([side, side, num(3)]));
  if (given?.k === 'seq' && given.items.length > 0 && !imagenetTop) return given;
  if (given && given.k !== 'seq' && given.k !== 'none') return UNKNOWN;
  if (size?.k !== 'num' || flatten?.k !== 'bool') return UNKNOWN;
  return flatten.v ? image(num(size.v)) : image(NONE);
}

/** `get_source_inputs(x)`: the Input tensors `x` is computed from, in the order they are found. */
function sourceInputs(v: Value): Value {
  const start = flattenTensors(v);
  if (!start) return UNKNOWN;
  const found: SymTensor[] = [];
  const seen = new Set<GraphNode>();
  const visit = (t: SymTensor): void => {
    const node = t.producer;
    if (node.inputs.length === 0) {
      if (!found.includes(t)) found.push(t);
      return;
    }
    if (seen.has(node)) return;
    seen.add(node);
    node.inputs.forEach(visit);
  };
  start.forEach(visit);
  return { k: 'seq', kind: 'list', items: found.map((t) => ({ k: 'tensor', t })) };
}

/** Each list item's own range, so a layer given in `Sequential([...])` points at itself. */
function listItemSpans(e: CallExpr | undefined, list: ArgValue): Span[] {
  if (!e) return [];
  const arg = e.args.find((a) => a.value.span.start === list.span.start && a.value.span.end === list.span.end);
  if (arg && (arg.value.t === 'list' || arg.value.t === 'tuple')) return arg.value.items.map((i) => i.span);
  return [];
}

/** The source of each input of `layer(x)` / `Add()([a, b])`, for quick fixes that rewrite one. */
function inputItemSpans(e: CallExpr): (Span | undefined)[] {
  const a = e.args[0];
  if (!a) return [];
  if (a.value.t === 'list' || a.value.t === 'tuple') return a.value.items.map((i) => i.span);
  return [a.value.span];
}

export { normalizeModulePath };
