/**
 * Keras losses on a classifier head, with the accuracy metric. Labels are class indices
 * (int64, one per sample); each loss builds the targets Keras would see (one-hot vectors for
 * categorical losses on K outputs, the 0/1 label for a single output). When the model ends in
 * softmax (sigmoid) and the loss is categorical (binary) cross-entropy, the loss is computed from
 * the logits, which is exact and stable; otherwise from the probabilities, with Keras' clipping.
 */
import type { GraphBuilder } from '../onnx/graphBuilder';
import { meanAbsoluteError, meanSquaredError, sigmoidBinaryCrossEntropy, softmaxCrossEntropy, sparseSoftmaxCrossEntropy, type LossResult } from '../onnx/grad';

export type LossName = 'categorical_crossentropy' | 'sparse_categorical_crossentropy' | 'binary_crossentropy' | 'mean_squared_error' | 'mean_absolute_error';

export const LOSS_NAMES: readonly LossName[] = ['categorical_crossentropy', 'sparse_categorical_crossentropy', 'binary_crossentropy', 'mean_squared_error', 'mean_absolute_error'];

const ALIASES: Record<string, LossName> = {
  mse: 'mean_squared_error',
  mae: 'mean_absolute_error',
  categoricalcrossentropy: 'categorical_crossentropy',
  sparsecategoricalcrossentropy: 'sparse_categorical_crossentropy',
  binarycrossentropy: 'binary_crossentropy',
  meansquarederror: 'mean_squared_error',
  meanabsoluteerror: 'mean_absolute_error',
};

/** `'mse'`, `'MeanSquaredError'`, `'categorical_crossentropy'` → the loss, or undefined when not supported. */
export function lossName(s: string): LossName | undefined {
  const n = s.toLowerCase();
  if ((LOSS_NAMES as readonly string[]).includes(n)) return n as LossName;
  return ALIASES[n.replace(/_/g, '')];
}

/** Keras' backend epsilon, used to clip probabilities. */
export const EPSILON = 1e-7;

/** The model's last tensors, as the loss sees them. */
export interface LossHead {
  /** The model output (after the final activation), (N, K). */
  output: string;
  /** The input of a final softmax over K (or sigmoid), when there is one. */
  logits?: { tensor: string; kind: 'softmax' | 'sigmoid' };
  units: number;
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
  if (!head.logits) return false;
  if (head.logits.kind === 'softmax') return loss === 'categorical_crossentropy' || loss === 'sparse_categorical_crossentropy';
  return loss === 'binary_crossentropy';
}

/** The targets a loss compares against, from int64 labels: one-hot for K > 1, the label itself for K = 1. */
function targets(g: GraphBuilder, labels: string, units: number): string {
  return units > 1 ? g.oneHot(labels, units) : g.reshape(g.cast(labels, 'float32'), [-1, 1]);
}

export function emitLoss(g: GraphBuilder, loss: LossName, head: LossHead, labels: string): LossOutputs {
  const fused = lossIsFused(loss, head);
  let r: LossResult;
  if (fused && loss === 'sparse_categorical_crossentropy') r = sparseSoftmaxCrossEntropy(g, head.logits!.tensor, labels, head.units);
  else if (fused && loss === 'categorical_crossentropy') r = softmaxCrossEntropy(g, head.logits!.tensor, targets(g, labels, head.units));
  else if (fused) r = sigmoidBinaryCrossEntropy(g, head.logits!.tensor, targets(g, labels, head.units));
  else if (loss === 'mean_squared_error') r = meanSquaredError(g, head.output, targets(g, labels, head.units));
  else if (loss === 'mean_absolute_error') r = meanAbsoluteError(g, head.output, targets(g, labels, head.units));
  else if (loss === 'binary_crossentropy') r = probabilityBinaryCrossEntropy(g, head.output, targets(g, labels, head.units));
  else r = probabilityCrossEntropy(g, head.output, targets(g, labels, head.units));
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
