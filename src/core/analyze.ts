import { ProblemSink, type Fix, type Problem } from './diagnostics';
import { BASE_ARGS, KNOWN_UNSUPPORTED, findLayer, layerNames, type FixHint, type LayerDef, type WeightSpec } from './layers/index';
import { suggest, type ArgSpecs } from './layers/args';
import { ShapeError, type ReceptiveFieldStep } from './layers/define';
import { product } from './shape';
import { Interpreter, inputShapeFromArgs, type InterpreterLimits } from './parse/interpreter';
import { lowerModule, type Span } from './parse/pythonAst';
import { copyTree, type PythonParse, type RawNode } from './parse/syntaxTree';
import { repairBrackets, unmapTree } from './parse/repair';
import type { Dim } from './shape';
import type { AddedLayer, ArgValue, CompileSpec, FitSpec, LayerInstance, ModelBuild, ModelKind } from './parse/values';

/** Receptive field of one output position, in input pixels per spatial axis. */
export type ReceptiveField = { size: number[]; stride: number[] } | 'global';

export type LayerStatus = 'ok' | 'error' | 'unknown' | 'unsupported';

/** Everything ConvLens knows about one layer of a model. */
export interface LayerReport {
  index: number;
  /** Keras' name for it (`conv2d_1`). */
  name: string;
  /** Keras class (`Conv2D`). */
  className: string;
  /** The constructor call in the source. */
  span: Span;
  /** The `model.add(…)` call or list item that put it in the model. */
  addSpan: Span;
  inputShape: Dim[] | null;
  /** Per-sample output shape, null when unknown. */
  outputShape: Dim[] | null;
  /** True when the leading axes are not known (the model has no input shape). */
  partialShape: boolean;
  params: number | null;
  trainableParams: number | null;
  nonTrainableParams: number | null;
  weights: WeightSpec[];
  formula?: string;
  macs: number | null;
  receptiveField: ReceptiveField | null;
  /** Bytes of this layer's output for one sample, float32. */
  activationBytes: number | null;
  doc?: string;
  activation?: string | null;
  /** Arguments as read, with Keras defaults filled in (for hover and the trainer). */
  config: Record<string, unknown>;
  status: LayerStatus;
}

export interface ModelReport {
  id: number;
  name: string;
  varName?: string;
  kind: ModelKind;
  span: Span;
  /** False for Functional and subclassed models, which are recognised but not analysed yet. */
  analysed: boolean;
  inputShape: Dim[] | null;
  layers: LayerReport[];
  totalParams: number | null;
  trainableParams: number | null;
  nonTrainableParams: number | null;
  macs: number | null;
  compile?: CompileSpec;
  fit?: FitSpec;
  incomplete?: string;
  hasErrors: boolean;
}

export interface FileAnalysis {
  models: ModelReport[];
  problems: Problem[];
  /** Keras datasets the file loads (`mnist` for `mnist.load_data()`), the trainer's default data. */
  datasets: string[];
}

export interface AnalyzeOptions {
  limits?: InterpreterLimits;
}

/** Parses and analyses one Python file. Never throws on any input text. */
export function analyzeSource(text: string, parse: PythonParse, opts: AnalyzeOptions = {}): FileAnalysis {
  let module = lowerModule(parseRaw(parse, text), text);
  const sink = new ProblemSink();
  if (module.syntaxProblems.length > 0) {
    // A half-typed call swallows the rest of the file; close its brackets and read again.
    const repair = repairBrackets(text);
    if (repair) {
      const raw = parseRaw(parse, repair.text);
      unmapTree(raw, repair);
      module = lowerModule(raw, text);
      for (const ins of repair.inserts) {
        const opener = text[ins.opener];
        sink.error('syntax', { start: ins.opener, end: ins.opener + 1 }, `Syntax error: this '${opener}' is never closed (ConvLens reads the statement as if '${ins.text}' followed on this line)`);
      }
    }
  }
  for (const p of module.syntaxProblems) {
    const lineEnd = text.indexOf('\n', p.span.start);
    const end = p.missing ? p.span.end : Math.max(p.span.start, Math.min(p.span.end, lineEnd < 0 ? text.length : lineEnd));
    const shownEnd = end === p.span.start && p.missing === undefined ? Math.min(text.length, end + 1) : end;
    sink.error(
      'syntax',
      { start: p.span.start, end: shownEnd },
      p.missing ? `Syntax error: missing '${p.missing}'` : 'Syntax error: ConvLens skipped the code it could not read here',
    );
  }
  const interpreter = new Interpreter(sink, opts.limits);
  let builds: ModelBuild[] = [];
  try {
    builds = interpreter.run(module);
  } catch (e) {
    sink.warning('internal', { start: 0, end: 0 }, `ConvLens could not finish analysing this file (internal error: ${(e as Error).message})`);
    builds = interpreter.models;
  }
  const models = builds.map((b) => analyzeModel(b, text, sink));
  return { models, problems: sink.problems, datasets: interpreter.datasets };
}

function parseRaw(parse: PythonParse, text: string): RawNode {
  const tree = parse(text);
  try {
    return copyTree(tree);
  } finally {
    tree.delete?.();
  }
}

/** Shape state flowing through the layers. `rankKnown` is false after a layer of unknown input. */
interface Flow {
  shape: Dim[] | null;
  rankKnown: boolean;
  rf: { size: number[]; jump: number[] } | 'global' | null;
}

function analyzeModel(model: ModelBuild, text: string, sink: ProblemSink): ModelReport {
  const report: ModelReport = {
    id: model.id,
    name: model.kerasName,
    varName: model.varName,
    kind: model.kind,
    span: model.span,
    analysed: model.kind === 'sequential',
    inputShape: null,
    layers: [],
    totalParams: null,
    trainableParams: null,
    nonTrainableParams: null,
    macs: null,
    compile: model.compile,
    fit: model.fit,
    incomplete: model.incomplete,
    hasErrors: false,
  };
  if (model.kind !== 'sequential') {
    const what = model.kind === 'functional' ? `Functional-API model '${model.kerasName}'` : `Subclassed model '${model.kerasName}'`;
    sink.info('model-not-analysed', headSpan(model.span, text), `${what} is recognised but not analysed yet: ConvLens analyses Sequential models`);
    return report;
  }
  const errorsBefore = sink.problems.filter((p) => p.severity === 'error').length;

  // The input: an explicit Input/InputLayer/build(), else the first layer's input_shape.
  let input: Dim[] | undefined = model.input?.shape;
  const first = model.layers[0]?.layer;
  if (!input && first) {
    input = inputShapeFromArgs(first.args);
    const declared = ['input_shape', 'batch_input_shape', 'input_dim', 'shape', 'batch_shape'].find((k) => first.args.keyword.has(k));
    if (!input && declared) {
      const arg = first.args.keyword.get(declared)!;
      sink.info(
        'input-unknown',
        arg.span,
        `ConvLens cannot evaluate ${declared}=${text.slice(arg.span.start, arg.span.end)} without running the code, so the shapes of this model are unknown`,
      );
    }
  }
  if (!input && model.layers.length > 0 && !model.input) {
    const declaredSomewhere = first && ['input_shape', 'batch_input_shape', 'input_dim'].some((k) => first.args.keyword.has(k));
    if (!declaredSomewhere) {
      sink.warning(
        'no-input-shape',
        headSpan(model.span, text),
        `Model '${model.kerasName}' has no input shape, so its shapes are unknown: give the first layer input_shape=(…), or add keras.Input(shape=(…)) first`,
      );
    }
  }
  report.inputShape = input ?? null;
  if (input) {
    const bad = input.findIndex((d) => d !== null && d <= 0);
    if (bad >= 0) {
      sink.error('input-shape', model.input?.span ?? first!.span, `Input shape has a size ${input[bad]}: every size must be a positive integer`);
      input = undefined;
    }
  }

  let flow: Flow = {
    shape: input ?? null,
    rankKnown: input !== undefined,
    rf: input ? { size: input.slice(0, -1).map(() => 1), jump: input.slice(0, -1).map(() => 1) } : null,
  };
  model.layers.forEach((added, index) => {
    const { row, next } = analyzeLayer(added, index, flow, text, sink);
    report.layers.push(row);
    flow = next;
  });

  const sum = (f: (l: LayerReport) => number | null): number | null => {
    let s = 0;
    for (const l of report.layers) {
      const v = f(l);
      if (v === null) return null;
      s += v;
    }
    return s;
  };
  report.totalParams = sum((l) => l.params);
  report.trainableParams = sum((l) => l.trainableParams);
  report.nonTrainableParams = sum((l) => l.nonTrainableParams);
  report.macs = sum((l) => l.macs);
  report.hasErrors = sink.problems.filter((p) => p.severity === 'error').length > errorsBefore || report.layers.some((l) => l.status === 'error');
  return report;
}

/** The first line of a range, so a diagnostic on a long call does not paint many lines. */
function headSpan(span: Span, text: string): Span {
  const nl = text.indexOf('\n', span.start);
  return { start: span.start, end: nl >= 0 && nl < span.end ? nl : span.end };
}

function emptyRow(added: AddedLayer, index: number, flow: Flow, status: LayerStatus): LayerReport {
  const l = added.layer;
  return {
    index,
    name: l.kerasName,
    className: l.className,
    span: l.span,
    addSpan: added.span,
    inputShape: flow.shape,
    outputShape: null,
    partialShape: false,
    params: null,
    trainableParams: null,
    nonTrainableParams: null,
    weights: [],
    macs: null,
    receptiveField: null,
    activationBytes: null,
    config: {},
    status,
  };
}

const UNKNOWN_FLOW: Flow = { shape: null, rankKnown: false, rf: null };

function analyzeLayer(added: AddedLayer, index: number, flow: Flow, text: string, sink: ProblemSink): { row: LayerReport; next: Flow } {
  const layer = added.layer;
  if ((layer.opaque && layer.className === '?') || layer.className === 'Sequential') {
    sink.info('opaque-layer', added.span, `ConvLens cannot see what is added here (${layer.opaque}); shapes after it are unknown`);
    return { row: emptyRow(added, index, flow, 'unknown'), next: UNKNOWN_FLOW };
  }
  const def = findLayer(layer.className);
  if (!def) {
    if (KNOWN_UNSUPPORTED.has(layer.className)) {
      sink.info('unsupported-layer', layer.calleeSpan, `${layer.className} is a Keras layer ConvLens does not analyse yet; shapes after it are unknown`);
    } else {
      const hint = suggest(layer.className, layerNames());
      sink.warning(
        'unknown-layer',
        layer.calleeSpan,
        `Keras has no layer '${layer.className}'${hint ? `; did you mean ${hint}?` : ''} Shapes after it are unknown`,
      );
    }
    return { row: emptyRow(added, index, flow, 'unsupported'), next: UNKNOWN_FLOW };
  }

  const row = emptyRow(added, index, flow, 'ok');
  row.doc = def.doc;
  const bound = bindArgs(def, layer, sink);
  row.config = bound.values;
  row.activation = (bound.values.activation as string | null | undefined) ?? undefined;
  if (bound.failed || layer.opaque) {
    if (layer.opaque && !bound.failed) sink.info('opaque-args', layer.span, `ConvLens cannot read this layer's arguments (${layer.opaque}); shapes after it are unknown`);
    row.status = bound.failed === 'error' ? 'error' : 'unknown';
    return { row, next: UNKNOWN_FLOW };
  }
  const a = bound.values;

  // Decide the input the rules see.
  let input: Dim[];
  let rankKnown = flow.rankKnown;
  const want = def.inputRank;
  if (flow.shape === null) {
    input = Array(typeof want === 'number' ? want : typeof want === 'object' ? want.min : 1).fill(null);
    if (want === 'any') {
      // Shape unknown, but a layer without weights still has no parameters.
      const none = def.weights ? null : 0;
      return { row: { ...row, status: 'unknown', params: none, trainableParams: none, nonTrainableParams: none, macs: def.macs ? null : 0 }, next: UNKNOWN_FLOW };
    }
    rankKnown = false;
  } else {
    input = flow.shape;
    const rank = input.length;
    const rankOk = want === 'any' || (typeof want === 'number' ? rank === want : rank >= want.min);
    if (!rankOk) {
      if (flow.rankKnown) {
        sink.error('input-rank', layer.calleeSpan, rankMessage(def, input, index));
        row.status = 'error';
        return { row, next: UNKNOWN_FLOW };
      }
      // Only the trailing axes are known: pad with unknown leading axes.
      if (typeof want === 'number') input = [...Array(Math.max(0, want - rank)).fill(null), ...input.slice(-want)];
      else input = [...Array(Math.max(0, want.min - rank)).fill(null), ...input];
    }
  }
  row.inputShape = rankKnown ? input : null;

  countParams(row, def, layer, input, a);
  const pending: { message: string; code: string; fixes?: FixHint[]; arg?: string }[] = [];
  let output: Dim[];
  try {
    output = def.outputShape(input, a as never, {
      warn: (message, opts) => pending.push({ message, code: opts?.code ?? 'warning', fixes: opts?.fixes, arg: opts?.arg }),
    });
  } catch (e) {
    if (e instanceof ShapeError) {
      const where = e.arg ? argSpan(def, layer, e.arg) ?? layer.calleeSpan : layer.calleeSpan;
      sink.error(e.code, where, e.message, convertFixes(e.fixes, def, added, text));
      row.status = 'error';
      return { row, next: UNKNOWN_FLOW };
    }
    sink.warning('internal', layer.calleeSpan, `ConvLens could not analyse this ${def.name} (internal error: ${(e as Error).message})`);
    row.status = 'unknown';
    return { row, next: UNKNOWN_FLOW };
  }
  if (rankKnown) {
    for (const w of pending) {
      const where = w.arg ? argSpan(def, layer, w.arg) ?? layer.calleeSpan : layer.calleeSpan;
      sink.warning(w.code, where, w.message, convertFixes(w.fixes ?? [], def, added, text));
    }
  }
  const outRankKnown = rankKnown || typeof want === 'number';
  row.outputShape = output;
  row.partialShape = !outRankKnown;

  row.macs = def.macs ? def.macs(input, output, a as never) : 0;
  const outCount = outRankKnown ? product(output) : null;
  row.activationBytes = outCount === null ? null : outCount * 4;

  // Receptive field.
  const step: ReceptiveFieldStep = def.receptiveField ? def.receptiveField(a as never, input) : { kind: 'identity' };
  const rf = nextReceptiveField(flow.rf, step);
  row.receptiveField = rf === null ? null : rf === 'global' ? 'global' : { size: rf.size, stride: rf.jump };
  return { row, next: { shape: output, rankKnown: outRankKnown, rf } };
}

/** Fills in weights, counts and the formula; they depend only on the input and arguments. */
function countParams(row: LayerReport, def: LayerDef<ArgSpecs>, layer: LayerInstance, input: Dim[], a: Record<string, unknown>): void {
  let weights: WeightSpec[] = [];
  try {
    weights = def.weights ? def.weights(input, a as never) : [];
  } catch {
    weights = [];
  }
  const frozen = layer.args.keyword.get('trainable')?.value;
  const isFrozen = frozen?.k === 'bool' && !frozen.v;
  row.weights = weights.map((w) => ({ ...w, trainable: w.trainable && !isFrozen }));
  let trainable: number | null = 0;
  let nonTrainable: number | null = 0;
  for (const w of row.weights) {
    const n = product(w.shape);
    if (n === null) {
      trainable = nonTrainable = null;
      break;
    }
    if (w.trainable) trainable! += n;
    else nonTrainable! += n;
  }
  row.trainableParams = trainable;
  row.nonTrainableParams = nonTrainable;
  row.params = trainable === null || nonTrainable === null ? null : trainable + nonTrainable;
  if (row.params !== null && row.weights.length > 0) {
    row.formula = def.formula ? def.formula(input, a as never, row.params) : `${row.weights.map((w) => w.shape.join('·')).join(' + ')} = ${row.params.toLocaleString('en-US')}`;
  }
}

function rankMessage(def: LayerDef<ArgSpecs>, input: Dim[], index: number): string {
  const want = def.inputRank;
  const shown = `(None, ${input.map((d) => d ?? 'None').join(', ')})`;
  const wanted = typeof want === 'number' ? `${want}-D input per sample${def.inputWords ? ` ${def.inputWords}` : ''}` : `at least ${(want as { min: number }).min}-D input`;
  let hint = '';
  if (typeof want === 'number' && input.length === want - 1 && index === 0) {
    hint = `; the input has no channel axis: use input_shape=(${[...input, 1].map((d) => d ?? 'None').join(', ')}) for one channel`;
  } else if (typeof want === 'number' && input.length < want) {
    hint = '; after Flatten or Dense there are no spatial axes left: use Reshape, or move this layer before Flatten';
  } else if (typeof want === 'number' && input.length > want) {
    hint = `; ${def.name} works on ${want - 1} spatial ${want - 1 === 1 ? 'axis' : 'axes'}`;
  }
  return `${def.name} expects a ${wanted}, but its input is ${shown}${hint}`;
}

function nextReceptiveField(rf: Flow['rf'], step: ReceptiveFieldStep): Flow['rf'] {
  if (rf === null || step.kind === 'unknown') return null;
  if (step.kind === 'global' || rf === 'global') return 'global';
  if (step.kind === 'identity') return rf;
  const axes = rf.size.length;
  if (step.kind === 'window') {
    if (step.kernel.length !== axes) return null;
    const size = rf.size.map((s, i) => s + ((step.kernel[i] - 1) * (step.dilation?.[i] ?? 1)) * rf.jump[i]);
    const jump = rf.jump.map((j, i) => j * step.stride[i]);
    return { size, jump };
  }
  if (step.factor.length !== axes) return null;
  const jump = rf.jump.map((j, i) => j / step.factor[i]);
  const size = rf.size.map((s, i) => s + (step.kernel ? (step.kernel[i] - 1) * jump[i] : 0));
  return { size, jump };
}

// ---------------------------------------------------------------------------------------------
// Arguments

interface Bound {
  values: Record<string, unknown>;
  /** 'error' when an argument is invalid; 'unknown' when one cannot be evaluated. */
  failed?: 'error' | 'unknown';
}

function bindArgs(def: LayerDef<ArgSpecs>, layer: LayerInstance, sink: ProblemSink): Bound {
  const names = Object.keys(def.args);
  const given = new Map<string, ArgValue>();
  let failed: Bound['failed'];
  layer.args.positional.forEach((p, i) => {
    if (i >= names.length) {
      sink.error('too-many-args', p.span, `${def.name} takes at most ${names.length} positional argument${names.length === 1 ? '' : 's'} (${names.join(', ')}); this is number ${i + 1}`);
      failed = 'error';
      return;
    }
    given.set(names[i], p);
  });
  for (const [k, v] of layer.args.keyword) {
    if (k in def.args) {
      if (given.has(k)) {
        sink.error('duplicate-arg', v.nameSpan ?? v.span, `${def.name} got two values for '${k}': one by position and one by keyword`);
        failed = 'error';
        continue;
      }
      given.set(k, v);
    } else if (!BASE_ARGS.has(k) && !(def.extraArgs ?? []).includes(k)) {
      const hint = suggest(k, [...names, ...(def.extraArgs ?? [])]);
      sink.warning('unknown-arg', v.nameSpan ?? v.span, `${def.name} has no argument '${k}'${hint ? `; did you mean ${hint}?` : ''}`);
    }
  }
  const values: Record<string, unknown> = {};
  for (const name of names) {
    const spec = def.args[name];
    const g = given.get(name);
    if (!g) {
      if (spec.required) {
        sink.error('missing-arg', layer.calleeSpan, `${def.name} needs '${name}' (${spec.expected})`);
        failed = 'error';
      }
      values[name] = spec.default;
      continue;
    }
    const r = spec.parse(g.value);
    if (r.ok === true) values[name] = r.value;
    else if (r.ok === false) {
      sink.error('invalid-arg', g.span, `${def.name}: '${name}' ${r.message}`);
      failed = 'error';
    } else {
      sink.info('unknown-arg-value', g.span, `ConvLens cannot evaluate '${name}' without running the code${r.why ? ` (${r.why})` : ''}; shapes from here on are unknown`);
      failed ??= 'unknown';
    }
  }
  // Keras 2's LeakyReLU(alpha=…) is Keras 3's negative_slope.
  const alpha = layer.args.keyword.get('alpha');
  if (def.name === 'LeakyReLU' && alpha && alpha.value.k === 'num' && !given.has('negative_slope')) values.negative_slope = alpha.value.v;
  return { values, failed };
}

/** Where an argument is written: the keyword's value, or the positional argument. */
function argSpan(def: LayerDef<ArgSpecs>, layer: LayerInstance, name: string): Span | undefined {
  const kw = layer.args.keyword.get(name);
  if (kw) return kw.span;
  const i = Object.keys(def.args).indexOf(name);
  return i >= 0 ? layer.args.positional[i]?.span : undefined;
}

function convertFixes(hints: FixHint[], def: LayerDef<ArgSpecs>, added: AddedLayer, text: string): Fix[] | undefined {
  const fixes: Fix[] = [];
  const layer = added.layer;
  for (const h of hints) {
    if (h.kind === 'setArg') {
      const at = argSpan(def, layer, h.arg);
      if (at) {
        fixes.push({ title: h.title, edits: [{ span: at, newText: h.code }] });
        continue;
      }
      const close = layer.args.span.end - 1;
      if (text[close] !== ')') continue;
      const inner = text.slice(layer.args.span.start + 1, close);
      const sep = inner.trim().length === 0 ? '' : inner.trimEnd().endsWith(',') ? ' ' : ', ';
      const insertAt = inner.trim().length === 0 ? close : layer.args.span.start + 1 + inner.trimEnd().length;
      fixes.push({ title: h.title, edits: [{ span: { start: insertAt, end: insertAt }, newText: `${sep}${h.arg}=${h.code}` }] });
    } else {
      const callee = text.slice(layer.calleeSpan.start, layer.calleeSpan.end);
      const prefix = callee.slice(0, Math.max(0, callee.lastIndexOf('.') + 1));
      const inserted = `${prefix}${h.layer}()`;
      if (added.span.start === layer.span.start && added.span.end === layer.span.end) {
        fixes.push({ title: h.title, edits: [{ span: { start: added.span.start, end: added.span.start }, newText: `${inserted}, ` }] });
      } else if (layer.span.start > added.span.start && layer.span.end <= added.span.end) {
        const lineStart = text.lastIndexOf('\n', added.span.start - 1) + 1;
        const indent = /^[ \t]*/.exec(text.slice(lineStart, added.span.start))![0];
        if (lineStart + indent.length !== added.span.start) continue;
        const before = text.slice(added.span.start, layer.span.start);
        const after = text.slice(layer.span.end, added.span.end);
        fixes.push({ title: h.title, edits: [{ span: { start: added.span.start, end: added.span.start }, newText: `${before}${inserted}${after}\n${indent}` }] });
      }
    }
  }
  return fixes.length ? fixes : undefined;
}

