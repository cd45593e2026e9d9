/**
 * The training-graph compiler: a {@link TrainingPlan} becomes ONNX graphs that onnxruntime runs
 * with standard ops only.
 *
 * - training step: forward (training mode) → loss → backward → optimizer update, one `run` per batch;
 * - evaluation: forward (inference mode) → loss, correct count and predictions;
 * - inference: the model alone, trained weights as initializers (what `convlens export` writes);
 * - activations: every layer's output, for looking inside the model.
 *
 * Every graph takes Keras-layout data `x` (N, H, W, C) and transposes it once; between layers
 * tensors are channels-first (see `layout.ts`), and the model output is moved back to Keras
 * layout. Weights are always in Keras layout (the layers' emitters transpose kernels inside the
 * graph), so checkpoints hold Keras-compatible weights.
 */
import type { BackwardResult, ForwardResult, LayerTrain, TrainLayer } from '../layers/define';
import { findLayer } from '../layers/index';
import { activationBackward, activationForward, type ActivationSpec } from '../onnx/grad';
import { GraphBuilder } from '../onnx/graphBuilder';
import { activationSpec } from './activations';
import { initialize } from './initializers';
import { layoutIsTrivial, onnxAxis, toKerasLayout, toOnnxLayout } from '../onnx/layout';
import { emitLoss } from './losses';
import { needsStep, optimizerShared, optimizerSlots, optimizerStep } from './optimizers';
import { planWeights, type PlanLayer, type TrainingPlan } from './plan';
import { hashSeed } from './random';

/** A tensor a training step reads and replaces: a weight, an optimizer slot or a moving statistic. */
export interface CarriedTensor {
  /** Graph input name: the weight's (`conv2d/kernel`) or a slot's (`conv2d/kernel.velocity`). */
  name: string;
  /** Graph output holding the value after the step. */
  next: string;
  shape: number[];
  kind: 'weight' | 'slot';
}

/** The compiled training step. */
export interface TrainGraph {
  bytes: Uint8Array;
  /** Every weight and optimizer slot, fed in and read back each step. */
  carried: CarriedTensor[];
  /** Whether the graph reads the 1-based step number `t` (Adam). */
  usesStep: boolean;
  /** Output names of the exposed gradients by weight name (with {@link TrainGraphOptions.exposeGradients}). */
  gradients: Record<string, string>;
  /** Output names of the random draws, `mask:<layer>` / `noise:<layer>` (with {@link TrainGraphOptions.exposeGradients}); ONNX layout. */
  masks: Record<string, string>;
}

/** Fixed graph names shared by the compiler and the trainer. */
export const GRAPH_NAMES = {
  /** float32 (N, …inputShape), Keras layout. */
  x: 'x',
  /** int64 (N): class indices. */
  labels: 'labels',
  /** float32 scalar. */
  lr: 'lr',
  /** float32 scalar, 1-based step number. */
  step: 't',
  /** float32 scalar: mean loss over the batch. */
  loss: 'loss',
  /** float32 scalar: correctly classified samples in the batch. */
  correct: 'correct',
  /** float32 (N, …outputShape): the model's predictions. */
  output: 'output',
  /** The inference graph's input (what `convlens export` writes). */
  input: 'input',
} as const;

export interface TrainGraphOptions {
  /** Seed of the random ops (Dropout masks); the weights' seed is separate. */
  seed: number;
  /** Also output every trainable weight's gradient and every random mask (for gradient checks). */
  exposeGradients?: boolean;
}

const nextName = (name: string) => `${name}:next`;
const slotName = (weight: string, slot: string) => `${weight}.${slot}`;

/** One layer's forward pass, kept for its backward pass. */
interface LayerRun {
  plan: PlanLayer;
  def: LayerTrain;
  tl: TrainLayer;
  x: string;
  fwd: ForwardResult;
  /** Before the `activation=` argument. */
  z: string;
  y: string;
  act: ActivationSpec | null;
}

function layerSeed(seed: number, layer: string): number {
  // ONNX random ops take the seed as a float: stay within float32's exact integers.
  return hashSeed(seed, layer) % 16777216;
}

/** Runs every layer forward; returns the runs and the model output (ONNX layout). */
function forward(g: GraphBuilder, plan: TrainingPlan, x: string, mode: 'train' | 'infer', seed: number): LayerRun[] {
  let cur = toOnnxLayout(g, x, plan.inputShape);
  const runs: LayerRun[] = [];
  for (const layer of plan.layers) {
    const def = findLayer(layer.className)?.train;
    if (!def) throw new Error(`${layer.className} '${layer.name}' (line ${layer.line}) has no training emitters`);
    const w: Record<string, string> = {};
    for (const pw of layer.weights) w[pw.name.slice(layer.name.length + 1)] = pw.name;
    const tl: TrainLayer = { name: layer.name, a: layer.config as never, input: layer.input, output: layer.output, w, seed: layerSeed(seed, layer.name) };
    const fwd = def.forward(g, tl, cur, mode);
    const act = activationSpec(layer.config.activation as string | null | undefined) ?? null;
    const y = act ? activationForward(g, act, fwd.y) : fwd.y;
    runs.push({ plan: layer, def, tl, x: cur, fwd, z: fwd.y, y, act });
    cur = y;
  }
  return runs;
}

/** The model output in Keras layout, and the logits of a final softmax/sigmoid over the classes. */
function head(g: GraphBuilder, plan: TrainingPlan, runs: LayerRun[]): { output: string; logits?: { tensor: string; kind: 'softmax' | 'sigmoid' } } {
  const last = runs[runs.length - 1];
  const output = toKerasLayout(g, last.y, plan.outputShape);
  if (plan.outputShape.length !== 1) return { output };
  if (last.act?.kind === 'softmax' || last.act?.kind === 'sigmoid') return { output, logits: { tensor: last.z, kind: last.act.kind } };
  if (last.plan.className === 'Softmax' && softmaxLayerAxis(last.plan) === 1) return { output, logits: { tensor: last.x, kind: 'softmax' } };
  return { output };
}

function softmaxLayerAxis(l: PlanLayer): number {
  const axis = l.config.axis as number;
  return onnxAxis(axis < 0 ? axis : axis - 1, l.input.length);
}

const isReluOutput = (r: LayerRun): boolean => (r.act ? r.act.kind === 'relu' : (r.def.reluOutput?.(r.tl) ?? false));

/** Compiles the training step for `plan`. */
export function compileTrainGraph(plan: TrainingPlan, opts: TrainGraphOptions): TrainGraph {
  const g = new GraphBuilder({ name: `${plan.model}_train` });
  const N = 'N';
  g.input(GRAPH_NAMES.x, [N, ...plan.inputShape]);
  g.input(GRAPH_NAMES.labels, [N], 'int64');
  g.input(GRAPH_NAMES.lr, []);
  const usesStep = needsStep(plan.optimizer);
  if (usesStep) g.input(GRAPH_NAMES.step, []);
  const carried: CarriedTensor[] = [];
  const slots = optimizerSlots(plan.optimizer);
  for (const w of planWeights(plan)) {
    g.input(w.name, w.shape);
    carried.push({ name: w.name, next: nextName(w.name), shape: w.shape, kind: 'weight' });
    if (!w.trainable) continue;
    for (const s of slots) {
      g.input(slotName(w.name, s.slot), w.shape);
      carried.push({ name: slotName(w.name, s.slot), next: nextName(slotName(w.name, s.slot)), shape: w.shape, kind: 'slot' });
    }
  }

  const runs = forward(g, plan, GRAPH_NAMES.x, 'train', opts.seed);
  const h = head(g, plan, runs);
  const lossOut = emitLoss(g, plan.loss, { ...h, units: plan.outputShape[0] }, GRAPH_NAMES.labels);
  g.identity(lossOut.loss, GRAPH_NAMES.loss);
  g.identity(lossOut.correct, GRAPH_NAMES.correct);
  g.output(GRAPH_NAMES.loss, []);
  g.output(GRAPH_NAMES.correct, []);

  // Backward, last layer first. `dy` is the gradient w.r.t. the current layer's output; `skipAct`
  // says it is already w.r.t. the output before its activation (a fused loss, a folded ReLU).
  const grads = new Map<string, string>();
  const trainableBefore = runs.map((_, i) => runs.slice(0, i).some((r) => r.plan.weights.some((w) => w.trainable)));
  let dy = lossOut.grad;
  let skipAct = false;
  let skipLayer = false;
  const lastRun = runs[runs.length - 1];
  if (lossOut.fused && !(lastRun.act && (lastRun.act.kind === 'softmax' || lastRun.act.kind === 'sigmoid'))) {
    // A final Softmax layer: the fused gradient is already w.r.t. its input.
    skipLayer = true;
  } else if (lossOut.fused) skipAct = true;
  else if (plan.outputShape.length >= 2 && !layoutIsTrivial(plan.outputShape)) dy = toOnnxLayout(g, dy, plan.outputShape);
  for (let i = runs.length - 1; i >= 0; i--) {
    const r = runs[i];
    if (skipLayer) {
      skipLayer = false;
      skipAct = false;
      continue;
    }
    const needDx = trainableBefore[i];
    if (!needDx && !r.plan.weights.some((w) => w.trainable)) break;
    let dz = dy;
    if (r.act && !skipAct) dz = activationBackward(g, r.act, r.z, r.y, dy);
    skipAct = false;
    const inputIsRelu = i > 0 && isReluOutput(runs[i - 1]);
    const b: BackwardResult = r.def.backward(g, r.tl, { x: r.x, fwd: r.fwd, dy: dz, needDx, inputIsRelu });
    for (const w of r.plan.weights) {
      if (!w.trainable) continue;
      const key = w.name.slice(r.plan.name.length + 1);
      const gr = b.grads[key];
      if (!gr) throw new Error(`${r.plan.className} '${r.plan.name}': the backward emitter gave no gradient for '${key}'`);
      grads.set(w.name, gr);
    }
    if (!needDx) break;
    if (!b.dx) throw new Error(`${r.plan.className} '${r.plan.name}': the backward emitter gave no input gradient`);
    dy = b.dx;
    if (b.throughRelu) {
      const prev = runs[i - 1];
      if (prev.act) skipAct = true;
      else skipLayer = true;
    }
  }

  // Optimizer step and the moving statistics.
  const shared = optimizerShared(g, plan.optimizer, GRAPH_NAMES.lr, usesStep ? GRAPH_NAMES.step : undefined);
  const gradients: Record<string, string> = {};
  const masks: Record<string, string> = {};
  const updates = new Map<string, string>();
  for (const r of runs) for (const [k, v] of Object.entries(r.fwd.updates ?? {})) updates.set(`${r.plan.name}/${k}`, v);
  for (const w of planWeights(plan)) {
    if (w.trainable) {
      const gr = grads.get(w.name);
      if (!gr) throw new Error(`no gradient reaches '${w.name}'`);
      const state = Object.fromEntries(slots.map((s) => [s.slot, slotName(w.name, s.slot)]));
      const step = optimizerStep(g, plan.optimizer, shared, w.name, gr, state);
      g.output(g.identity(step.w, nextName(w.name)), w.shape);
      for (const s of slots) g.output(g.identity(step.slots[s.slot], nextName(slotName(w.name, s.slot))), w.shape);
      if (opts.exposeGradients) gradients[w.name] = g.output(g.identity(gr, `grad:${w.name}`), w.shape);
    } else {
      g.output(g.identity(updates.get(w.name) ?? w.name, nextName(w.name)), w.shape);
    }
  }
  if (opts.exposeGradients) {
    for (const r of runs) {
      for (const kind of ['mask', 'noise']) {
        const t = r.fwd.saved?.[kind];
        if (t) masks[`${kind}:${r.plan.name}`] = g.output(g.identity(t, `${kind}:${r.plan.name}`));
      }
    }
  }
  return { bytes: g.toModelBytes(), carried, usesStep, gradients, masks };
}

/** The compiled evaluation graph: weights are inputs, so one session serves every epoch. */
export interface EvalGraph {
  bytes: Uint8Array;
  /** Weight inputs (all weights, moving statistics included). */
  weights: { name: string; shape: number[] }[];
}

/** Compiles the evaluation graph: inference-mode forward, loss, correct count and predictions. */
export function compileEvalGraph(plan: TrainingPlan): EvalGraph {
  const g = new GraphBuilder({ name: `${plan.model}_eval` });
  g.input(GRAPH_NAMES.x, ['N', ...plan.inputShape]);
  g.input(GRAPH_NAMES.labels, ['N'], 'int64');
  const weights = planWeights(plan).map((w) => ({ name: w.name, shape: w.shape }));
  for (const w of weights) g.input(w.name, w.shape);
  const runs = forward(g, plan, GRAPH_NAMES.x, 'infer', 0);
  const h = head(g, plan, runs);
  const l = emitLoss(g, plan.loss, { ...h, units: plan.outputShape[0] }, GRAPH_NAMES.labels);
  g.output(g.identity(l.loss, GRAPH_NAMES.loss), []);
  g.output(g.identity(l.correct, GRAPH_NAMES.correct), []);
  g.output(g.identity(h.output, GRAPH_NAMES.output), ['N', ...plan.outputShape]);
  return { bytes: g.toModelBytes(), weights };
}

/** Weights by name (Keras layout), as checkpoints hold them. */
export type WeightMap = ReadonlyMap<string, Float32Array>;

function weightInitializers(g: GraphBuilder, plan: TrainingPlan, weights: WeightMap): void {
  for (const w of planWeights(plan)) {
    const data = weights.get(w.name);
    if (!data) throw new Error(`no value for weight '${w.name}'`);
    const count = w.shape.reduce((a, b) => a * b, 1);
    if (data.length !== count) throw new Error(`weight '${w.name}' has ${data.length} values, expected ${count} for shape (${w.shape.join(', ')})`);
    g.initializer(w.name, data, w.shape);
  }
}

/**
 * Compiles the inference model `convlens export` writes: input `input` (N, …inputShape) in Keras
 * layout, output `output` (N, …outputShape) with the final activation applied, weights baked in.
 */
export function compileInferenceGraph(plan: TrainingPlan, weights: WeightMap, producerVersion?: string): Uint8Array {
  const g = new GraphBuilder({ name: plan.model, producerVersion });
  g.input(GRAPH_NAMES.input, ['N', ...plan.inputShape]);
  weightInitializers(g, plan, weights);
  const runs = forward(g, plan, GRAPH_NAMES.input, 'infer', 0);
  g.output(g.identity(head(g, plan, runs).output, GRAPH_NAMES.output), ['N', ...plan.outputShape]);
  return g.toModelBytes();
}

/** One output of the activations graph. */
export interface ActivationOutput {
  layer: string;
  className: string;
  /** Graph output name (`act:conv2d`). */
  name: string;
  /** Per-sample shape, Keras layout (H, W, C). */
  shape: number[];
}

/** Compiles a graph whose outputs are every layer's activation (Keras layout), for feature maps. */
export function compileActivationsGraph(plan: TrainingPlan, weights: WeightMap): { bytes: Uint8Array; outputs: ActivationOutput[] } {
  const g = new GraphBuilder({ name: `${plan.model}_activations` });
  g.input(GRAPH_NAMES.input, ['N', ...plan.inputShape]);
  weightInitializers(g, plan, weights);
  const runs = forward(g, plan, GRAPH_NAMES.input, 'infer', 0);
  const outputs = runs.map((r) => {
    const name = `act:${r.plan.name}`;
    g.output(g.identity(toKerasLayout(g, r.y, r.plan.output), name), ['N', ...r.plan.output]);
    return { layer: r.plan.name, className: r.plan.className, name, shape: r.plan.output };
  });
  return { bytes: g.toModelBytes(), outputs };
}

/** Fresh weights (Keras initialisers, seeded per weight) and optimizer slots for a plan. */
export function initialState(plan: TrainingPlan, seed: number): Map<string, Float32Array> {
  const state = new Map<string, Float32Array>();
  const slots = optimizerSlots(plan.optimizer);
  for (const w of planWeights(plan)) {
    state.set(w.name, initialize(w.initializer, w.shape, hashSeed(seed, w.name)));
    if (!w.trainable) continue;
    const count = w.shape.reduce((a, b) => a * b, 1);
    for (const s of slots) state.set(slotName(w.name, s.slot), new Float32Array(count).fill(s.init));
  }
  return state;
}
