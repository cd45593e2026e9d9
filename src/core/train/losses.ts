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
  /** Loss and gradient from the logits (with {@link fusesWith}); the gradient is w.r.t. them. */
  fused?(g: GraphBuilder, logits: string, labels: string, units: number): LossResult;
  /** Loss and gradient from the model output. */
  plain(g: GraphBuilder, output: string, labels: string, units: number): LossResult;
}

/** Keras' backend epsilon, used to clip probabilities. */
export const EPSILON = 1e-7;

/** The targets a loss compares against, from int64 labels: one-hot for K > 1, the label itself for K = 1. */
function targets(g: GraphBuilder, labels: string, units: number): string {
  return units > 1 ? g.oneHot(labels, units) : g.reshape(g.cast(labels, 'float32'), [-1, 1]);
}

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
    fused: (g, z, labels, units) => softmaxCrossEntropy(g, z, targets(g, labels, units)),
    plain: (g, p, labels, units) => probabilityCrossEntropy(g, p, targets(g, labels, units)),
  },
  {
    name: 'sparse_categorical_crossentropy',
    framework: 'keras',
    aliases: ['SparseCategoricalCrossentropy'],
    doc: 'Cross-entropy of integer class labels against class probabilities.',
    perClass: true,
    fusesWith: 'softmax',
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
    fused: (g, z, labels, units) => sigmoidBinaryCrossEntropy(g, z, targets(g, labels, units)),
    plain: (g, p, labels, units) => probabilityBinaryCrossEntropy(g, p, targets(g, labels, units)),
  },
  {
    name: 'mean_squared_error',
    framework: 'keras',
    aliases: ['mse', 'MeanSquaredError'],
    doc: 'Mean squared difference from the one-hot targets.',
    plain: (g, p, labels, units) => meanSquaredError(g, p, targets(g, labels, units)),
  },
  {
    name: 'mean_absolute_error',
    framework: 'keras',
    aliases: ['mae', 'MeanAbsoluteError'],
    doc: 'Mean absolute difference from the one-hot targets.',
    plain: (g, p, labels, units) => meanAbsoluteError(g, p, targets(g, labels, units)),
  },
  {
    name: 'cross_entropy',
    framework: 'pytorch',
    aliases: ['CrossEntropyLoss', 'F.cross_entropy'],
    implied: true,
    doc: 'nn.CrossEntropyLoss: log_softmax of the raw outputs (logits) and NLL of the class index, averaged over the batch.',
    perClass: true,
    // The output itself is the logits: the gradient is (softmax(z) − onehot)/N w.r.t. it.
    plain: (g, z, labels, units) => sparseSoftmaxCrossEntropy(g, z, labels, units),
  },
  {
    name: 'nll_loss',
    framework: 'pytorch',
    aliases: ['NLLLoss', 'F.nll_loss'],
    implied: ['log_softmax'],
    doc: 'nn.NLLLoss: minus the output at the class index (log-probabilities, from log_softmax), averaged over the batch.',
    perClass: true,
    fusesWith: 'log_softmax',
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

export function emitLoss(g: GraphBuilder, loss: LossName, head: LossHead, labels: string): LossOutputs {
  const d = lossDef(loss);
  const fused = lossIsFused(loss, head);
  const r = fused ? d.fused!(g, head.logits!.tensor, labels, head.units) : d.plain(g, head.output, labels, head.units);
  return { loss: r.loss, grad: r.grad, fused, correct: correctCount(g, head, labels) };
}

/** Correct predictions: the arg-max class for K > 1 outputs, output > 0.5 for one. */
function correctCount(g: GraphBuilder, head: LossHead, labels: string): string {
  let predicted: string;
  if (head.units > 1) predicted = g.node('ArgMax', [head.output], 1, { axis: 1, keepdims: 0 })[0];
  else {
    const positive = head.logits?.kind === 'sigmoid' ? g.greater(head.logits.tensor, g.scalar(0)) : g.greater(head.output, g.scalar(0.5));
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
