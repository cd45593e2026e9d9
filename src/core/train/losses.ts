/**
 * The loss registry: one definition per loss of a classifier head — its names in its framework
 * (Keras' strings and classes, PyTorch's modules and functions), its doc, the activation it may be
 * fused with and its graph. Labels are class indices (int64, one per sample); each loss builds the
 * targets its framework would see (one-hot vectors for categorical losses on K outputs, the 0/1
 * label for a single output). When the model ends in the activation a loss fuses with (softmax and
 * categorical cross-entropy, sigmoid and binary cross-entropy, log_softmax and NLLLoss), the loss
 * is computed from that activation's input, which is exact and stable; otherwise from the output,
 * with Keras' clipping for probabilities. Adding a loss means adding one definition to {@link LOSSES}.
 */
import type { FrameworkName } from '../layers/define';
import type { ActivationKind } from '../onnx/activations';
import type { GraphBuilder } from '../onnx/graphBuilder';
import { meanAbsoluteError, meanSquaredError, sigmoidBinaryCrossEntropy, softmaxCrossEntropy, sparseSoftmaxCrossEntropy, type LossResult } from '../onnx/grad';
import type { Value } from '../parse/values';

/** A loss's registry name: {@link LOSSES}' `name`s. */
export type LossName = string;

/** The model's last tensors, as the loss sees them. */
export interface LossHead {
  /** The model output (after the final activation), (N, K). */
  output: string;
  /** The input of a final activation over the K classes (softmax, log_softmax, sigmoid), when there is one. */
  logits?: { tensor: string; kind: ActivationKind };
  units: number;
}

/** A loss's settings as the file makes it (`CategoricalCrossentropy(from_logits=True)`); absent: the default. */
export interface LossOptions {
  /** Keras' `from_logits=True`: the model output is taken as logits, the softmax/sigmoid is applied inside the loss. */
  fromLogits?: boolean;
  /** `label_smoothing=ε`: targets (1 − ε)·y + ε/K, for one sigmoid output (1 − ε)·y + ε/2. */
  labelSmoothing?: number;
}

/** The keywords a loss reads, refuses or accepts without reproducing. */
export interface LossKeywords {
  /** The keyword of each option it takes, and the position of a positional argument (Keras' classes). */
  fromLogits?: { keyword: string; position?: number };
  labelSmoothing?: { keyword: string; position?: number };
  /** Keywords whose value, unless the default, changes the loss in a way not trained yet: why, or undefined for the default. */
  refused?: Record<string, (v: Value) => string | undefined>;
  /** Keywords that do not change the loss ConvLens computes (`name`, `dtype`). */
  ignored?: readonly string[];
}

/** The declarative definition of one loss. */
export interface LossDef {
  readonly name: LossName;
  readonly framework: FrameworkName;
  /** Other spellings of the framework (`mse`, `MeanSquaredError`; `CrossEntropyLoss`, `F.cross_entropy`). */
  readonly aliases: readonly string[];
  readonly doc: string;
  /** Needs one output per class (K ≥ 2). */
  readonly perClass?: boolean;
  /**
   * The loss the trainer takes when the file names none: `true` for the framework's fallback, or
   * the final activations that imply it (a sigmoid output: binary cross-entropy).
   */
  readonly implied?: true | readonly string[];
  /** The final activation the loss computes through, from its input (exact and stable). */
  readonly fusesWith?: ActivationKind;
  /** The arguments of its class or function that ConvLens reads (absent: none). */
  readonly keywords?: LossKeywords;
  /** Loss and gradient from the logits (with {@link fusesWith}, or the output under from_logits); the gradient is w.r.t. them. */
  fused?(g: GraphBuilder, logits: string, labels: string, units: number, o: LossOptions): LossResult;
  /** Loss and gradient from the model output. */
  plain(g: GraphBuilder, output: string, labels: string, units: number, o: LossOptions): LossResult;
}

/** Keras' backend epsilon, used to clip probabilities. */
export const EPSILON = 1e-7;

/**
 * The targets a loss compares against, from int64 labels: one-hot for K > 1, the label itself for
 * K = 1; with label smoothing ε, (1 − ε)·y + ε/K (K > 1) or (1 − ε)·y + ε/2 (one output), as
 * Keras' and PyTorch's losses smooth them.
 */
function targets(g: GraphBuilder, labels: string, units: number, o: LossOptions = {}): string {
  const y = units > 1 ? g.oneHot(labels, units) : g.reshape(g.cast(labels, 'float32'), [-1, 1]);
  const e = o.labelSmoothing ?? 0;
  return e === 0 ? y : g.add(g.mul(y, g.scalar(1 - e)), g.scalar(e / (units > 1 ? units : 2)));
}

/** Value checks for refused keywords. */
const isNone = (v: Value) => v.k === 'none';
const refuseUnless = (ok: (v: Value) => boolean, why: string) => (v: Value) => (ok(v) ? undefined : why);
const KERAS_REDUCTION = refuseUnless((v) => isNone(v) || (v.k === 'str' && ['sum_over_batch_size', 'auto', 'mean'].includes(v.v)), "reduction other than the default 'sum_over_batch_size' is not trained yet");
const KERAS_AXIS = refuseUnless((v) => v.k === 'num' && v.v === -1, 'axis other than -1 (the classes last) is not trained yet');
const TORCH_REDUCTION = refuseUnless((v) => v.k === 'str' && v.v === 'mean', "reduction other than the default 'mean' is not trained yet");
const TORCH_WEIGHT = refuseUnless(isNone, 'class weights (weight=…) are not trained yet');
// Labels are class indices 0…K−1, so an ignore_index below 0 (PyTorch's −100) never applies.
const TORCH_IGNORE = refuseUnless((v) => v.k === 'num' && v.v < 0, 'ignore_index of a class (≥ 0) is not trained yet');
const KERAS_IGNORED = ['name', 'dtype'] as const;
const TORCH_IGNORED = ['size_average', 'reduce'] as const;

const batchCount = (g: GraphBuilder, x: string): string => g.reshape(g.cast(g.shape(x, 0, 1), 'float32'), []);

export const LOSSES: readonly LossDef[] = [
  {
    name: 'categorical_crossentropy',
    framework: 'keras',
    aliases: ['CategoricalCrossentropy'],
    implied: true,
    doc: 'Cross-entropy of one-hot targets against class probabilities.',
    perClass: true,
    fusesWith: 'softmax',
    keywords: { fromLogits: { keyword: 'from_logits', position: 0 }, labelSmoothing: { keyword: 'label_smoothing', position: 1 }, refused: { axis: KERAS_AXIS, reduction: KERAS_REDUCTION }, ignored: KERAS_IGNORED },
    fused: (g, z, labels, units, o) => softmaxCrossEntropy(g, z, targets(g, labels, units, o)),
    plain: (g, p, labels, units, o) => probabilityCrossEntropy(g, p, targets(g, labels, units, o)),
  },
  {
    name: 'sparse_categorical_crossentropy',
    framework: 'keras',
    aliases: ['SparseCategoricalCrossentropy'],
    doc: 'Cross-entropy of integer class labels against class probabilities.',
    perClass: true,
    fusesWith: 'softmax',
    keywords: { fromLogits: { keyword: 'from_logits', position: 0 }, refused: { axis: KERAS_AXIS, reduction: KERAS_REDUCTION, ignore_class: refuseUnless(isNone, 'ignore_class is not trained yet') }, ignored: KERAS_IGNORED },
    fused: (g, z, labels, units) => sparseSoftmaxCrossEntropy(g, z, labels, units),
    plain: (g, p, labels, units) => probabilityCrossEntropy(g, p, targets(g, labels, units)),
  },
  {
    name: 'binary_crossentropy',
    framework: 'keras',
    aliases: ['BinaryCrossentropy'],
    implied: ['sigmoid'],
    doc: 'Cross-entropy of 0/1 targets against sigmoid probabilities, averaged over every output.',
    fusesWith: 'sigmoid',
    keywords: { fromLogits: { keyword: 'from_logits', position: 0 }, labelSmoothing: { keyword: 'label_smoothing', position: 1 }, refused: { axis: KERAS_AXIS, reduction: KERAS_REDUCTION }, ignored: KERAS_IGNORED },
    fused: (g, z, labels, units, o) => sigmoidBinaryCrossEntropy(g, z, targets(g, labels, units, o)),
    plain: (g, p, labels, units, o) => probabilityBinaryCrossEntropy(g, p, targets(g, labels, units, o)),
  },
  {
    name: 'mean_squared_error',
    framework: 'keras',
    aliases: ['mse', 'MeanSquaredError'],
    doc: 'Mean squared difference from the one-hot targets.',
    keywords: { refused: { reduction: KERAS_REDUCTION }, ignored: KERAS_IGNORED },
    plain: (g, p, labels, units) => meanSquaredError(g, p, targets(g, labels, units)),
  },
  {
    name: 'mean_absolute_error',
    framework: 'keras',
    aliases: ['mae', 'MeanAbsoluteError'],
    doc: 'Mean absolute difference from the one-hot targets.',
    keywords: { refused: { reduction: KERAS_REDUCTION }, ignored: KERAS_IGNORED },
    plain: (g, p, labels, units) => meanAbsoluteError(g, p, targets(g, labels, units)),
  },
  {
    name: 'cross_entropy',
    framework: 'pytorch',
    aliases: ['CrossEntropyLoss', 'F.cross_entropy'],
    implied: true,
    doc: 'nn.CrossEntropyLoss: log_softmax of the raw outputs (logits) and NLL of the class index, averaged over the batch.',
    perClass: true,
    keywords: { labelSmoothing: { keyword: 'label_smoothing' }, refused: { weight: TORCH_WEIGHT, reduction: TORCH_REDUCTION, ignore_index: TORCH_IGNORE }, ignored: TORCH_IGNORED },
    // The output itself is the logits: the gradient is (softmax(z) − targets)/N w.r.t. it.
    plain: (g, z, labels, units, o) => (o.labelSmoothing ? softmaxCrossEntropy(g, z, targets(g, labels, units, o)) : sparseSoftmaxCrossEntropy(g, z, labels, units)),
  },
  {
    name: 'nll_loss',
    framework: 'pytorch',
    aliases: ['NLLLoss', 'F.nll_loss'],
    implied: ['log_softmax'],
    doc: 'nn.NLLLoss: minus the output at the class index (log-probabilities, from log_softmax), averaged over the batch.',
    perClass: true,
    fusesWith: 'log_softmax',
    keywords: { refused: { weight: TORCH_WEIGHT, reduction: TORCH_REDUCTION, ignore_index: TORCH_IGNORE }, ignored: TORCH_IGNORED },
    fused: (g, z, labels, units) => sparseSoftmaxCrossEntropy(g, z, labels, units),
    plain: (g, out, labels, units) => {
      const y = targets(g, labels, units);
      const n = batchCount(g, out);
      return { loss: g.div(g.neg(g.reduceSum(g.mul(y, out), undefined, false)), n), grad: g.div(g.neg(y), n) };
    },
  },
];

/** Every registry name, registry order. */
export const LOSS_NAMES: readonly LossName[] = LOSSES.map((l) => l.name);

/** The losses a framework trains with. */
export const lossesFor = (framework: FrameworkName): LossDef[] => LOSSES.filter((l) => l.framework === framework);

/** The definition of a registry name (throws on an unknown one: plans are made from the registry). */
export function lossDef(name: LossName): LossDef {
  const d = LOSSES.find((l) => l.name === name);
  if (!d) throw new Error(`unknown loss '${name}'`);
  return d;
}

/** The loss a framework trains with when the file names none, given the model's final activation. */
export function impliedLoss(framework: FrameworkName, finalActivation: string | undefined): LossName {
  const own = lossesFor(framework);
  const d = own.find((l) => Array.isArray(l.implied) && finalActivation !== undefined && l.implied.includes(finalActivation)) ?? own.find((l) => l.implied === true);
  return d!.name;
}

const squash = (s: string): string => s.toLowerCase().replace(/_/g, '');

/** `'mse'`, `'MeanSquaredError'`, `CrossEntropyLoss` → the loss of that framework, or undefined when not supported. */
export function lossName(s: string, framework: FrameworkName = 'keras'): LossName | undefined {
  const n = squash(s.replace(/^(torch\.nn\.functional\.|torch\.nn\.|nn\.|F\.)/, ''));
  return lossesFor(framework).find((l) => squash(l.name) === n || l.aliases.some((a) => squash(a.replace(/^F\./, '')) === n))?.name;
}

/**
 * The options of a loss as its class or function was called (keywords, and Keras' positional
 * `from_logits, label_smoothing`), over the defaults; `notes` says what is accepted but not
 * reproduced. An error, in words, for a setting that would change the loss in a way not trained.
 */
export function readLossOptions(name: LossName, keywords: ReadonlyMap<string, Value>, positional: readonly Value[], notes: string[], where: string): { options: LossOptions } | { error: string } {
  const d = lossDef(name);
  const k = d.keywords ?? {};
  const options: LossOptions = {};
  const arg = (spec?: { keyword: string; position?: number }) => (spec ? (keywords.get(spec.keyword) ?? (spec.position !== undefined ? positional[spec.position] : undefined)) : undefined);
  const fromLogits = arg(k.fromLogits);
  if (fromLogits && !isNone(fromLogits)) {
    if (fromLogits.k !== 'bool') return { error: `${where}(from_logits=…) cannot be read without running the code` };
    if (fromLogits.v) options.fromLogits = true;
  }
  const smoothing = arg(k.labelSmoothing);
  if (smoothing && !isNone(smoothing)) {
    if (smoothing.k !== 'num') return { error: `${where}(label_smoothing=…) cannot be read without running the code` };
    if (!(smoothing.v >= 0 && smoothing.v <= 1)) return { error: `${where}(label_smoothing=${smoothing.v}): label_smoothing must be between 0 and 1` };
    if (smoothing.v > 0) options.labelSmoothing = smoothing.v;
  }
  const read = new Set([k.fromLogits?.keyword, k.labelSmoothing?.keyword]);
  for (const [kw, v] of keywords) {
    if (read.has(kw)) continue;
    const refuse = k.refused?.[kw];
    if (refuse) {
      const why = refuse(v);
      if (why) return { error: `${where}(${kw}=…): ${why}` };
    } else if (!k.ignored?.includes(kw)) notes.push(`${where}(${kw}=…) is not read by the ConvLens trainer`);
  }
  return { options };
}

/** `from_logits=True, label_smoothing=0.1` (empty for the defaults), for summaries and logs. */
export function describeLossOptions(o: LossOptions | undefined): string {
  const parts: string[] = [];
  if (o?.fromLogits) parts.push('from_logits=True');
  if (o?.labelSmoothing) parts.push(`label_smoothing=${o.labelSmoothing}`);
  return parts.join(', ');
}

/** What {@link emitLoss} produced. */
export interface LossOutputs {
  /** Mean loss over the batch (float32 scalar). */
  loss: string;
  /** Gradient of the loss with respect to `head.logits.tensor` when `fused`, else `head.output`. */
  grad: string;
  fused: boolean;
  /** Number of correctly classified samples in the batch (float32 scalar). */
  correct: string;
}

/** Whether the loss is computed from the logits for this head. */
export function lossIsFused(loss: LossName, head: Pick<LossHead, 'logits'>): boolean {
  const d = lossDef(loss);
  return !!head.logits && !!d.fused && d.fusesWith === head.logits.kind;
}

/**
 * The loss and its gradient. Under `from_logits=True` the output itself is the logits (Keras
 * applies the softmax or sigmoid inside the loss, whatever the model ends with): the gradient is
 * w.r.t. the output, so `fused` is false.
 */
export function emitLoss(g: GraphBuilder, loss: LossName, head: LossHead, labels: string, options: LossOptions = {}): LossOutputs {
  const d = lossDef(loss);
  if (options.fromLogits) {
    if (!d.fused) throw new Error(`${loss} has no from_logits form`);
    const r = d.fused(g, head.output, labels, head.units, options);
    return { loss: r.loss, grad: r.grad, fused: false, correct: correctCount(g, head, labels, true) };
  }
  const fused = lossIsFused(loss, head);
  const r = fused ? d.fused!(g, head.logits!.tensor, labels, head.units, options) : d.plain(g, head.output, labels, head.units, options);
  return { loss: r.loss, grad: r.grad, fused, correct: correctCount(g, head, labels, false) };
}

/** Correct predictions: the arg-max class for K > 1 outputs, output > 0.5 for one (> 0 when it is a logit). */
function correctCount(g: GraphBuilder, head: LossHead, labels: string, outputIsLogit: boolean): string {
  let predicted: string;
  if (head.units > 1) predicted = g.node('ArgMax', [head.output], 1, { axis: 1, keepdims: 0 })[0];
  else {
    const positive = outputIsLogit ? g.greater(head.output, g.scalar(0)) : head.logits?.kind === 'sigmoid' ? g.greater(head.logits.tensor, g.scalar(0)) : g.greater(head.output, g.scalar(0.5));
    predicted = g.reshape(g.cast(positive, 'int64'), [-1]);
  }
  return g.reduceSum(g.cast(g.equal(predicted, labels), 'float32'), undefined, false);
}

/**
 * Keras' categorical cross-entropy on probabilities (from_logits=False): the outputs are
 * rescaled to sum to 1 and clipped to [ε, 1 − ε]; loss = mean over the batch of −Σ y·log p.
 * With q = p/S (S = Σp) and gq = −y/(N·q) where not clipped: dL/dp = (gq − Σ gq·q)/S.
 */
function probabilityCrossEntropy(g: GraphBuilder, p: string, y: string): LossResult {
  const n = g.reshape(g.cast(g.shape(p, 0, 1), 'float32'), []);
  const s = g.reduceSum(p, [1], true);
  const q = g.div(p, s);
  const clipped = g.clip(q, EPSILON, 1 - EPSILON);
  const loss = g.div(g.neg(g.reduceSum(g.mul(y, g.log(clipped)), undefined, false)), n);
  const inside = g.node('And', [g.greater(q, g.scalar(EPSILON)), g.less(q, g.scalar(1 - EPSILON))])[0];
  const gq = g.where(inside, g.div(g.neg(y), g.mul(clipped, n)), g.scalar(0));
  const grad = g.div(g.sub(gq, g.reduceSum(g.mul(gq, q), [1], true)), s);
  return { loss, grad };
}

/** Keras' binary cross-entropy on probabilities: p clipped to [ε, 1 − ε], averaged over every output. */
function probabilityBinaryCrossEntropy(g: GraphBuilder, p: string, y: string): LossResult {
  const count = g.cast(g.size(p), 'float32');
  const one = g.scalar(1);
  const c = g.clip(p, EPSILON, 1 - EPSILON);
  const oneMinusY = g.sub(one, y);
  const perElement = g.add(g.mul(y, g.log(c)), g.mul(oneMinusY, g.log(g.sub(one, c))));
  const loss = g.neg(g.reduceMean(perElement, undefined, false));
  const inside = g.node('And', [g.greater(p, g.scalar(EPSILON)), g.less(p, g.scalar(1 - EPSILON))])[0];
  const d = g.sub(g.div(oneMinusY, g.sub(one, c)), g.div(y, c));
  const grad = g.where(inside, g.div(d, count), g.scalar(0));
  return { loss, grad };
}
