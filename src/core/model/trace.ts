/**
 * Building the graph: a layer's arguments are bound once, at its constructor call; each call of
 * a layer on tensors becomes a node whose output shapes, weights, MACs and receptive field are
 * computed on the spot by the layer's registry rules. Problems go to the exact source range:
 * the argument, the constructor, or the call that joins incompatible tensors.
 */
import type { Fix, Problem } from '../diagnostics';
import { BASE_ARGS, KNOWN_UNSUPPORTED, findLayer, layerNames, type FixHint, type LayerType } from '../layers/index';
import { suggest } from '../layers/args';
import { ShapeError, type BoundLayer, type ReceptiveFieldStep, type WeightSpec } from '../layers/define';
import type { Span } from '../parse/pythonAst';
import type { ArgValue, CallArgs } from '../parse/values';
import { product, torchShape, type Dim } from '../shape';
import { LineIndex } from '../text';
import type { FieldState, GraphNode, LayerInstance, NodeStatus, SymTensor } from './graph';

/** Where problems go; the interpreter retargets them when it runs code of another file. */
export interface Problems {
  report(p: Problem): void;
}

const problem = (severity: Problem['severity'], code: string, span: Span, message: string, fixes?: Fix[]): Problem => ({ severity, code, span, message, fixes });

/** Where a layer is called, in the analysed document. */
export interface CallSite {
  span: Span;
  /** Where an inlay hint for this call goes. */
  anchor: number;
  /** The call ran in code of another file (its problems are retargeted by the caller). */
  foreign: boolean;
  /** A replay of a model on new shapes: nothing of it is shown at its own line. */
  replay?: boolean;
  /** The source of each input argument (list items), for quick fixes that rewrite one input. */
  inputSpans?: (Span | undefined)[];
}

/** The bound arguments of a constructor call, or why there are none. */
export interface Binding {
  bound?: BoundLayer;
  failed?: 'error' | 'unknown';
}

/** Keyword arguments Keras reads from any layer, handled by the interpreter rather than the rules. */
const INPUT_ARGS = ['input_shape', 'batch_input_shape', 'input_dim', 'shape', 'batch_shape'];

export class Tracer {
  private nextNode = 0;
  private nextTensor = 0;
  /** Every node made, in creation order. */
  readonly nodes: GraphNode[] = [];
  private readonly lines: LineIndex;

  constructor(private readonly text: string) {
    this.lines = new LineIndex(text);
  }

  private lineOf(offset: number): number {
    return this.lines.position(offset).line + 1;
  }

  /** Reads a constructor call's arguments with the layer type's specs; every problem at its argument. */
  bind(type: LayerType, args: CallArgs, calleeSpan: Span, out: Problems): Binding {
    const names = Object.keys(type.args);
    const given = new Map<string, ArgValue>();
    let failed: Binding['failed'];
    args.positional.forEach((p, i) => {
      // PyTorch's signatures end in the factory arguments (`Linear(in, out, bias, device, dtype)`):
      // passed by position they change no shape, as they do by keyword.
      if (i >= names.length && type.framework === 'pytorch' && i - names.length < type.extraArgs.length) return;
      if (i >= names.length) {
        out.report(problem('error', 'too-many-args', p.span, `${type.name} takes at most ${names.length} positional argument${names.length === 1 ? '' : 's'}${names.length ? ` (${names.join(', ')})` : ''}; this is number ${i + 1}`));
        failed = 'error';
        return;
      }
      given.set(names[i], p);
    });
    for (const [k, v] of args.keyword) {
      if (k in type.args) {
        if (given.has(k)) {
          out.report(problem('error', 'duplicate-arg', v.nameSpan ?? v.span, `${type.name} got two values for '${k}': one by position and one by keyword`));
          failed = 'error';
          continue;
        }
        given.set(k, v);
      } else if (!(type.framework === 'keras' && BASE_ARGS.has(k)) && !type.extraArgs.includes(k) && !(type.name === 'LeakyReLU' && type.framework === 'keras' && k === 'alpha')) {
        const hint = suggest(k, [...names, ...type.extraArgs]);
        out.report(problem('warning', 'unknown-arg', v.nameSpan ?? v.span, `${type.name} has no argument '${k}'${hint ? `; did you mean ${hint}?` : ''}`));
      }
    }
    const values: Record<string, unknown> = {};
    for (const name of names) {
      const spec = type.args[name];
      const g = given.get(name);
      if (!g) {
        if (spec.required && !args.opaque) {
          out.report(problem('error', 'missing-arg', calleeSpan, `${type.name} needs '${name}' (${spec.expected})`));
          failed = 'error';
        } else if (spec.required) failed ??= 'unknown';
        values[name] = spec.default;
        continue;
      }
      const r = spec.parse(g.value);
      if (r.ok === true) values[name] = r.value;
      else if (r.ok === false) {
        const fixes = r.fix ? [{ title: `Use ${name}=${r.fix}`, edits: [{ span: g.span, newText: r.fix }] }] : undefined;
        out.report(problem('error', 'invalid-arg', g.span, `${type.name}: '${name}' ${r.message}`, fixes));
        failed = 'error';
      } else {
        out.report(problem('information', 'unknown-arg-value', g.span, `ConvLens cannot evaluate '${name}' without running the code${r.why ? ` (${r.why})` : ''}; shapes from here on are unknown`));
        failed ??= 'unknown';
      }
    }
    // Keras 2's LeakyReLU(alpha=…) is Keras 3's negative_slope.
    const alpha = args.keyword.get('alpha');
    if (type.name === 'LeakyReLU' && type.framework === 'keras' && alpha?.value.k === 'num' && !given.has('negative_slope')) values.negative_slope = alpha.value.v;
    if (failed) return { failed };
    return { bound: type.bind(values) };
  }

  // ------------------------------------------------------------------------------------------
  // Tensors and nodes

  private tensor(producer: GraphNode, index: number, batch: Dim, sample: Dim[] | null, partial: boolean, field: FieldState): SymTensor {
    return { id: this.nextTensor++, batch, sample, partial, field, producer, index };
  }

  private node(layer: LayerInstance, inputs: SymTensor[], site: CallSite, status: NodeStatus, macs: number | null): GraphNode {
    const node: GraphNode = {
      id: this.nextNode++,
      layer,
      callIndex: layer.nodes.length,
      inputs,
      outputs: [],
      span: site.span,
      anchor: site.anchor,
      status,
      macs,
      replay: site.replay ?? false,
      foreign: site.foreign,
    };
    layer.nodes.push(node);
    this.nodes.push(node);
    return node;
  }

  /**
   * An `Input`: a node without inputs whose tensor starts a graph. Its receptive field is one
   * pixel on every spatial axis: the axes before the channels (Keras) unless `field` says otherwise
   * (PyTorch's channels-first samples).
   */
  input(layer: LayerInstance, sample: Dim[] | null, batch: Dim, site: CallSite, field?: FieldState): SymTensor {
    const node = this.node(layer, [], site, 'ok', 0);
    const f: FieldState = field !== undefined ? field : sample === null ? null : { size: sample.slice(0, -1).map(() => 1), jump: sample.slice(0, -1).map(() => 1) };
    node.outputs = [this.tensor(node, 0, batch, sample, false, f)];
    return node.outputs[0];
  }

  /** A node whose outputs are known from elsewhere (a nested model's call, a replay); each output keeps the first input's batch unless it says otherwise. */
  composite(layer: LayerInstance, inputs: SymTensor[], outputs: { sample: Dim[] | null; partial: boolean; field: FieldState; batch?: Dim }[], site: CallSite, macs: number | null, status: NodeStatus = 'ok'): GraphNode {
    const node = this.node(layer, inputs, site, status, macs);
    const batch = inputs[0]?.batch ?? null;
    node.outputs = outputs.map((o, i) => this.tensor(node, i, o.batch !== undefined ? o.batch : batch, o.sample, o.partial, o.field));
    return node;
  }

  private unknownOutput(layer: LayerInstance, inputs: SymTensor[], site: CallSite, status: NodeStatus, params: 'zero' | 'unknown' = 'unknown'): SymTensor[] {
    const node = this.node(layer, inputs, site, status, params === 'zero' ? 0 : null);
    if (params === 'zero') layer.weights ??= [];
    node.outputs = [this.tensor(node, 0, inputs[0]?.batch ?? null, null, false, null)];
    return node.outputs;
  }

  /**
   * Calls a layer on tensors: checks the inputs, builds the weights on the first call, computes
   * the outputs. Never throws; a problem makes the outputs unknown and is reported once.
   */
  apply(layer: LayerInstance, inputs: SymTensor[], site: CallSite, out: Problems): SymTensor[] {
    const type = layer.type;
    if (!type) {
      if (!site.replay) this.reportUnknownClass(layer, out);
      return this.unknownOutput(layer, inputs, site, 'unsupported');
    }
    if (type.arity === 'one' && inputs.length !== 1) {
      if (!site.replay) out.report(problem('error', 'input-count', site.span, `${type.name} takes one tensor, but is called on a list of ${inputs.length}`));
      return this.unknownOutput(layer, inputs, site, 'error');
    }
    if (type.arity === 'many' && (inputs.length < type.minInputs || (type.maxInputs !== undefined && inputs.length > type.maxInputs))) {
      const want = type.maxInputs === type.minInputs ? `exactly ${type.minInputs}` : `at least ${type.minInputs}`;
      if (!site.replay) out.report(problem('error', 'input-count', site.span, `${type.name} needs a list of ${want} tensors, but got ${inputs.length}`));
      return this.unknownOutput(layer, inputs, site, 'error');
    }
    const bound = layer.bound;
    if (!bound || layer.opaque) {
      if (layer.opaque && !layer.bindFailed && !site.replay) out.report(problem('information', 'opaque-args', layer.span, `ConvLens cannot read this layer's arguments (${layer.opaque}); shapes after it are unknown`));
      return this.unknownOutput(layer, inputs, site, layer.bindFailed === 'error' ? 'error' : 'unknown', type.declares.weights ? 'unknown' : 'zero');
    }

    // The per-sample shapes the rules see (whole shapes for rules that move the batch axis);
    // a tensor of unknown rank gets unknown axes.
    const want = type.inputRank;
    const whole = type.withBatch;
    let rankKnown = true;
    const samples: Dim[][] = [];
    for (const t of inputs) {
      if (t.sample === null || (whole && t.partial)) {
        if (t.sample === null && want === 'any' && type.declares.weights && layer.weights === undefined) {
          // Weights that do not depend on the input (Embedding's table) are known all the same.
          let w: WeightSpec[] = [];
          try {
            w = bound.weights([[null]]);
          } catch {
            w = [];
          }
          if (w.length && w.every((x) => x.shape.every((d) => d !== null))) {
            layer.weights = w;
            layer.builtFor = [[null]];
          }
        }
        if (want === 'any' || type.arity === 'many' || whole) return this.unknownOutput(layer, inputs, site, 'unknown', type.declares.weights ? 'unknown' : 'zero');
        samples.push(Array(typeof want === 'number' ? want : want.min).fill(null));
        rankKnown = false;
        continue;
      }
      let s = whole ? [t.batch, ...t.sample] : t.sample;
      if (t.partial) rankKnown = false;
      const ok = want === 'any' || (typeof want === 'number' ? s.length === want : s.length >= want.min);
      if (!ok) {
        if (!t.partial) {
          if (!site.replay) out.report(problem('error', 'input-rank', layer.calleeSpan, this.rankMessage(type, t, layer, inputs, site)));
          return this.unknownOutput(layer, inputs, site, 'error');
        }
        if (typeof want === 'number') s = [...Array(Math.max(0, want - s.length)).fill(null), ...s.slice(-want)];
        else s = [...Array(Math.max(0, want.min - s.length)).fill(null), ...s];
      }
      samples.push(s);
    }

    // Weights are made by the first call; a later call on other shapes is the error Keras raises.
    let weights: WeightSpec[];
    try {
      weights = bound.weights(samples);
    } catch {
      weights = [];
    }
    if (layer.weights === undefined || layer.builtFor === undefined) {
      layer.weights = weights;
      layer.builtFor = samples;
    } else if (layer.weights.some((w, i) => weights[i] && w.shape.join() !== weights[i].shape.join() && weights[i].shape.every((d) => d !== null) && w.shape.every((d) => d !== null))) {
      if (!site.replay) {
        const was = layer.builtFor.map((s) => shapeText(type, null, s)).join(', ');
        const now = samples.map((s) => shapeText(type, null, s)).join(', ');
        out.report(problem('error', 'shared-layer-shape', site.span, `${layer.kerasName} (${layer.className}) was built for input ${was} and is now called on ${now}: a layer's weights have one shape, so a shared layer needs inputs of the same shape`));
      }
      return this.unknownOutput(layer, inputs, site, 'error');
    }

    const pending: { message: string; code: string; fixes?: FixHint[]; arg?: string }[] = [];
    let output: Dim[];
    try {
      output = bound.outputShape(samples, { warn: (message, o) => pending.push({ message, code: o?.code ?? 'warning', fixes: o?.fixes, arg: o?.arg }), batch: inputs[0]?.batch ?? null });
    } catch (e) {
      if (e instanceof ShapeError) {
        if (!site.replay) {
          const where = e.arg ? this.argSpan(layer, e.arg) ?? layer.calleeSpan : type.arity === 'many' ? site.span : layer.calleeSpan;
          const message = type.arity === 'many' || e.blameInput ? `${e.message}${this.provenance(inputs, e.blameInput && inputs.length === 1)}` : e.message;
          const fixes = type.arity === 'many' ? this.mergeFixes(layer, inputs, samples, site) : this.convertFixes(e.fixes, layer, site);
          out.report(problem('error', e.code, where, message, fixes));
        }
        return this.unknownOutput(layer, inputs, site, 'error');
      }
      if (!site.replay) out.report(problem('warning', 'internal', layer.calleeSpan, `ConvLens could not analyse this ${type.name} (internal error: ${(e as Error).message})`));
      return this.unknownOutput(layer, inputs, site, 'unknown');
    }
    if (rankKnown && !site.replay) {
      for (const w of pending) {
        // Published architectures at small inputs legitimately run 3×3 'same' kernels on 1×1 maps: that note is for the file's own layers.
        if (site.foreign && w.code === 'kernel-larger-than-input') continue;
        const where = w.arg ? this.argSpan(layer, w.arg) ?? layer.calleeSpan : layer.calleeSpan;
        out.report(problem('warning', w.code, where, w.message, this.convertFixes(w.fixes ?? [], layer, site)));
      }
    }
    const outRankKnown = rankKnown || typeof want === 'number';
    let macs: number | null;
    try {
      macs = bound.macs(samples, output);
    } catch {
      macs = null;
    }
    const step = bound.receptiveField(samples);
    const field = nextField(mergeFields(inputs.map((t) => t.field)), step);
    const node = this.node(layer, inputs, site, 'ok', macs);
    node.outputs = [whole ? this.tensor(node, 0, output[0] ?? null, output.slice(1), false, field) : this.tensor(node, 0, inputs[0].batch, output, !outRankKnown, field)];
    return node.outputs;
  }

  private reportUnknownClass(layer: LayerInstance, out: Problems): void {
    if (layer.framework === 'pytorch') {
      if (layer.opaque) out.report(problem('information', 'unsupported-layer', layer.calleeSpan, `ConvLens does not analyse ${layer.className} yet (${layer.opaque}); shapes after it are unknown`));
      else {
        const hint = suggest(layer.className, layerNames('pytorch'));
        out.report(problem('warning', 'unknown-layer', layer.calleeSpan, `torch.nn has no module '${layer.className}'${hint ? `; did you mean ${hint}?` : ''} Shapes after it are unknown`));
      }
      return;
    }
    if (layer.opaque && layer.className === '?') {
      out.report(problem('information', 'opaque-layer', layer.span, `ConvLens cannot see what this is (${layer.opaque}); shapes after it are unknown`));
    } else if (KNOWN_UNSUPPORTED.has(layer.className)) {
      out.report(problem('information', 'unsupported-layer', layer.calleeSpan, `${layer.className} is a Keras layer ConvLens does not analyse yet; shapes after it are unknown`));
    } else if (layer.opaque) {
      out.report(problem('information', 'opaque-layer', layer.calleeSpan, `ConvLens cannot see what ${layer.className} computes (${layer.opaque}); shapes after it are unknown`));
    } else {
      const hint = suggest(layer.className, layerNames());
      // The fix replaces the class name where it ends the callee (`layers.Conv2d` → `layers.Conv2D`).
      const callee = this.text.slice(layer.calleeSpan.start, layer.calleeSpan.end);
      const fixes = hint && callee.endsWith(layer.className)
        ? [{ title: `Use ${hint.slice(1, -1)}`, edits: [{ span: { start: layer.calleeSpan.end - layer.className.length, end: layer.calleeSpan.end }, newText: hint.slice(1, -1) }] }]
        : undefined;
      out.report(problem('warning', 'unknown-layer', layer.calleeSpan, `Keras has no layer '${layer.className}'${hint ? `; did you mean ${hint}?` : ''} Shapes after it are unknown`, fixes));
    }
  }

  private rankMessage(type: LayerType, t: SymTensor, layer: LayerInstance, inputs: SymTensor[], site: CallSite): string {
    const want = type.inputRank;
    const input = t.sample ?? [];
    if (type.framework === 'pytorch') return torchRankMessage(type, t) + this.provenance(inputs, true);
    const shown = `(None, ${input.map((d) => d ?? 'None').join(', ')})`;
    const wanted = typeof want === 'number' ? `${want}-D input per sample${type.inputWords ? ` ${type.inputWords}` : ''}` : `at least ${(want as { min: number }).min}-D input`;
    const producer = inputs[0]?.producer;
    const first = !producer || producer.layer.type?.isInput;
    let hint = '';
    if (typeof want === 'number' && input.length === want - 1 && first) {
      hint = `; the input has no channel axis: use input_shape=(${[...input, 1].map((d) => d ?? 'None').join(', ')}) for one channel`;
    } else if (typeof want === 'number' && input.length < want) {
      hint = '; after Flatten or Dense there are no spatial axes left: use Reshape, or move this layer before Flatten';
    } else if (typeof want === 'number' && input.length > want) {
      hint = `; ${type.name} works on ${want - 1} spatial ${want - 1 === 1 ? 'axis' : 'axes'}`;
    }
    void layer;
    void site;
    return `${type.name} expects a ${wanted}, but its input is ${shown}${hint}`;
  }

  /** "; input 1 comes from conv2d_3 (Conv2D, line 12), input 2 from …" (`one`: "; the input comes from …"). */
  private provenance(inputs: SymTensor[], one = false): string {
    const parts = inputs.map((t, i) => {
      const p = t.producer;
      const line = p.replay || p.foreign ? '' : `line ${this.lineOf(p.span.start)}`;
      // An operation is named by its call (`torch.flatten`); a layer by its name and class.
      const what = p.layer.type?.isInput
        ? p.layer.framework === 'pytorch'
          ? "the model's input"
          : `the input ${p.layer.kerasName}`
        : p.layer.kerasName === p.layer.className
          ? `${p.layer.className}${line ? ` (${line})` : ''}`
          : `${p.layer.kerasName} (${p.layer.className}${line ? `, ${line}` : ''})`;
      return `${one && inputs.length === 1 ? 'the input' : `input ${i + 1}`} comes from ${what}`;
    });
    return `; ${parts.join(', ')}`;
  }

  /**
   * Quick fixes for an element-wise merge of tensors that differ: a 1×1 Conv2D projection of the
   * odd input to the other's channels and size (the ResNet shortcut), written around that input.
   */
  private mergeFixes(layer: LayerInstance, inputs: SymTensor[], samples: Dim[][], site: CallSite): Fix[] | undefined {
    if (!site.inputSpans || samples.length !== 2 || layer.type?.name === 'Concatenate' || layer.type?.name === 'Dot') return undefined;
    const [a, b] = samples;
    if (a.length !== 3 || b.length !== 3 || [...a, ...b].some((d) => d === null)) return undefined;
    const fixes: Fix[] = [];
    // Project the input with more pixels (or, at equal size, the second one) onto the other's shape.
    const bigger = (a[0] as number) * (a[1] as number) > (b[0] as number) * (b[1] as number) ? 0 : (a[0] as number) * (a[1] as number) < (b[0] as number) * (b[1] as number) ? 1 : 1;
    const src = samples[bigger] as number[];
    const dst = samples[1 - bigger] as number[];
    const span = site.inputSpans[bigger];
    if (!span) return undefined;
    const sy = src[0] / dst[0];
    const sx = src[1] / dst[1];
    if (!Number.isInteger(sy) || !Number.isInteger(sx) || sy < 1 || sx < 1) return undefined;
    const callee = this.text.slice(layer.calleeSpan.start, layer.calleeSpan.end);
    const prefix = callee.slice(0, Math.max(0, callee.lastIndexOf('.') + 1));
    const strides = sy === 1 && sx === 1 ? '' : sy === sx ? `, strides=${sy}` : `, strides=(${sy}, ${sx})`;
    const expr = this.text.slice(span.start, span.end);
    const conv = `${prefix}Conv2D(${dst[2]}, 1${strides}, padding='same')(${expr})`;
    fixes.push({ title: `Project input ${bigger + 1} with a 1×1 Conv2D(${dst[2]}${strides}) to (None, ${dst.join(', ')})`, edits: [{ span, newText: conv }] });
    void inputs;
    return fixes;
  }

  /** Where an argument is written: the keyword's value, or the positional argument. */
  argSpan(layer: LayerInstance, name: string): Span | undefined {
    const kw = layer.args.keyword.get(name);
    if (kw) return kw.span;
    const i = layer.type ? Object.keys(layer.type.args).indexOf(name) : -1;
    return i >= 0 ? layer.args.positional[i]?.span : undefined;
  }

  private convertFixes(hints: FixHint[], layer: LayerInstance, site: CallSite): Fix[] | undefined {
    const fixes: Fix[] = [];
    const text = this.text;
    for (const h of hints) {
      if (h.kind === 'setArg') {
        const at = this.argSpan(layer, h.arg);
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
        const added = site.span;
        if (added.start === layer.span.start && added.end === layer.span.end) {
          // A list item of Sequential([...]).
          fixes.push({ title: h.title, edits: [{ span: { start: added.start, end: added.start }, newText: `${inserted}, ` }] });
        } else if (layer.span.start > added.start && layer.span.end <= added.end && /^\s*[\w.]*\.add\(\s*$/.test(text.slice(added.start, layer.span.start))) {
          // model.add(Layer(...)): add the new layer on its own line before.
          const lineStart = text.lastIndexOf('\n', added.start - 1) + 1;
          const indent = /^[ \t]*/.exec(text.slice(lineStart, added.start))![0];
          if (lineStart + indent.length !== added.start) continue;
          const before = text.slice(added.start, layer.span.start);
          const after = text.slice(layer.span.end, added.end);
          fixes.push({ title: h.title, edits: [{ span: { start: added.start, end: added.start }, newText: `${before}${inserted}${after}\n${indent}` }] });
        } else if (site.inputSpans?.[0] && layer.span.start === added.start) {
          // Functional: Layer(...)(x) → Layer(...)(Flatten()(x)).
          const x = site.inputSpans[0];
          fixes.push({ title: h.title, edits: [{ span: x, newText: `${inserted}(${text.slice(x.start, x.end)})` }] });
        }
      }
    }
    return fixes.length ? fixes : undefined;
  }

  /**
   * Reads `input_shape=`-style keywords of a layer call (the first layer declares the model input).
   * A keyword that is the layer's own argument is not one (Embedding's `input_dim` is its vocabulary;
   * tf.keras 2's `input_length=` is then the input).
   */
  static declaredInput(args: CallArgs, type?: LayerType): { sample: Dim[]; batch: Dim } | 'unreadable' | undefined {
    const embedding = !!type && 'input_dim' in type.args;
    const length = embedding ? args.keyword.get('input_length')?.value : undefined;
    const shapeGiven = args.keyword.has('input_shape') || args.keyword.has('batch_input_shape');
    if (length?.k === 'num' && Number.isInteger(length.v) && !shapeGiven) return { sample: [length.v], batch: null };
    // tf.keras 2's Embedding declares input_shape=(input_length,) itself, (None,) when no length is
    // given (keras/layers/core/embedding.py before Keras 3), so a Sequential model starting with one
    // is built: (batch, sequence) token ids.
    if (embedding && (length === undefined || length.k === 'none') && !shapeGiven && !args.keyword.has('batch_size')) return { sample: [null], batch: null };
    for (const k of INPUT_ARGS) {
      if (type && !type.isInput && k in type.args) continue;
      const a = args.keyword.get(k);
      if (!a) continue;
      const dims = dimsOf(a.value);
      if (k === 'input_dim') return a.value.k === 'num' && Number.isInteger(a.value.v) ? { sample: [a.value.v], batch: null } : 'unreadable';
      if (!dims) return 'unreadable';
      if (k === 'batch_input_shape' || k === 'batch_shape') return { sample: dims.slice(1), batch: dims[0] };
      return { sample: dims, batch: null };
    }
    return undefined;
  }
}

/** A tuple of ints/None (or one int) as dims; undefined when it is not one. */
export function dimsOf(v: import('../parse/values').Value): Dim[] | undefined {
  if (v.k === 'num' && Number.isInteger(v.v)) return [v.v];
  if (v.k !== 'seq') return undefined;
  const out: Dim[] = [];
  for (const d of v.items) {
    if (d.k === 'num' && Number.isInteger(d.v)) out.push(d.v);
    else if (d.k === 'none') out.push(null);
    else return undefined;
  }
  return out;
}

/** The field where several tensors meet: the widest view of the inputs (null if any is unknown). */
export function mergeFields(fields: FieldState[]): FieldState {
  if (fields.length === 1) return fields[0];
  if (fields.length === 0) return null;
  if (fields.some((f) => f === null)) return null;
  if (fields.some((f) => f === 'global')) return 'global';
  const fs = fields as { size: number[]; jump: number[] }[];
  const axes = fs[0].size.length;
  if (fs.some((f) => f.size.length !== axes)) return null;
  return { size: fs[0].size.map((_, i) => Math.max(...fs.map((f) => f.size[i]))), jump: fs[0].jump.map((_, i) => Math.max(...fs.map((f) => f.jump[i]))) };
}

/** The receptive field after one layer. */
export function nextField(rf: FieldState, step: ReceptiveFieldStep): FieldState {
  if (rf === null || step.kind === 'unknown') return null;
  if (step.kind === 'global' || rf === 'global') return 'global';
  if (step.kind === 'identity') return rf;
  const axes = rf.size.length;
  if (step.kind === 'window') {
    if (step.kernel.length !== axes) return null;
    const size = rf.size.map((s, i) => s + (step.kernel[i] - 1) * (step.dilation?.[i] ?? 1) * rf.jump[i]);
    const jump = rf.jump.map((j, i) => j * step.stride[i]);
    return { size, jump };
  }
  if (step.factor.length !== axes) return null;
  const jump = rf.jump.map((j, i) => j / step.factor[i]);
  const size = rf.size.map((s, i) => s + (step.kernel ? (step.kernel[i] - 1) * jump[i] : 0));
  return { size, jump };
}

/** A shape as the layer's framework prints it: Keras' `(None, 24, 24, 10)`, PyTorch's `[1, 10, 24, 24]`. */
function shapeText(type: LayerType, batch: Dim, sample: Dim[]): string {
  if (type.framework === 'pytorch') return torchShape(batch, sample);
  return `(None, ${sample.map((d) => d ?? 'None').join(', ')})`;
}

/** PyTorch's `expected 4D input (got 2D input)`, in words for the axes. */
function torchRankMessage(type: LayerType, t: SymTensor): string {
  const want = type.inputRank;
  const got = t.sample === null ? '?' : t.sample.length + 1;
  const batchAxis = type.withBatch ? 0 : 1;
  const wanted = typeof want === 'number' ? `${want + batchAxis}-D input${type.inputWords ? ` ${type.inputWords}` : ''}` : want === 'any' ? 'an input' : `an input of at least ${want.min + batchAxis} dimensions`;
  let hint = '';
  if (t.producer.layer.type?.isInput) hint = `: the model's input has ${got} dimensions, so give it an example of ${type.inputWords ?? 'the shape this layer expects'}`;
  else if (typeof want === 'number' && t.sample && t.sample.length + 1 - batchAxis < want) hint = ': after flatten or view there are no spatial axes left; move this layer before the flatten, or view the tensor back to [N, C, …]';
  return `${type.name} expects a ${wanted}, but got a ${got}-D input ${torchShape(t.batch, t.sample ?? [])}${hint}`;
}

/** Elements of one sample, or null when any size is unknown. */
export const sampleSize = (t: SymTensor): number | null => (t.sample === null || t.partial ? null : product(t.sample));

export { findLayer };
