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
import type { BoundTrain, Epilogue, ForwardResult, TrainNode } from '../layers/define';
import { findLayer } from '../layers/index';
import { activationBackward, activationDef, activationForward, type ActivationKind, type ActivationSpec } from '../onnx/activations';
import { GraphBuilder } from '../onnx/graphBuilder';
import { activationSpec } from './activations';
import { initialize } from './initializers';
import { layoutIsTrivial, toKerasLayout, toOnnxLayout } from '../onnx/layout';
import { reorderInput, reorderOutput, type ActLayout } from '../onnx/nchwc';
import { emitLoss } from './losses';
import { needsStep, optimizerShared, optimizerSlots, optimizerStep } from './optimizers';
import { layerWeights, planWeights, type PlanLayer, type TrainingPlan } from './plan';
import { hashSeed } from './random';

/** A tensor a training step reads and replaces: a weight, an optimizer slot or a moving statistic. */
export interface CarriedTensor {
  /** Graph input name: the weight's (`conv2d/kernel`) or a slot's (`conv2d/kernel.velocity`). */
  name: string;
  /** Graph output holding the value after the step. */
  next: string;
  shape: number[];
  kind: 'weight' | 'slot';
  /** False for a frozen weight the step passes through unchanged (the trainer keeps what it fed). */
  updated: boolean;
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
  /**
   * onnxruntime's NCHWc block size on the machine that will run the graph (16 with AVX-512, 8
   * with AVX2), letting layers that gain from it use its NCHWc kernels; 0 or absent: standard
   * ops only. The trainer measures it (`src/train/trainSession.ts`).
   */
  nchwcBlock?: number;
  /** Also output every trainable weight's gradient and every random mask (for gradient checks). */
  exposeGradients?: boolean;
}

const nextName = (name: string) => `${name}:next`;
const slotName = (weight: string, slot: string) => `${weight}.${slot}`;

/** One layer call's forward pass, kept for its backward pass. */
export interface LayerRun {
  plan: PlanLayer;
  train: BoundTrain;
  node: TrainNode;
  xs: string[];
  fwd: ForwardResult;
  /** Before the `activation=` argument. */
  z: string;
  y: string;
  act: ActivationSpec | null;
  /** Layouts of `xs` as the call received them, and of `z`/`y`. */
  inLayouts: ActLayout[];
  outLayout: ActLayout;
}

/** Channels of a Keras per-sample shape (its last axis). */
const channelsOf = (shape: readonly number[]): number => shape[shape.length - 1];

/** `t` moved between the activation layouts (NCHWc ↔ ONNX's NCHW). */
function relayout(g: GraphBuilder, t: string, from: ActLayout, to: ActLayout, shape: readonly number[]): string {
  if (from === to) return t;
  return to === 'nchw' ? reorderOutput(g, t, channelsOf(shape)) : reorderInput(g, t);
}

function layerSeed(seed: number, node: string): number {
  // ONNX random ops take the seed as a float: stay within float32's exact integers.
  return hashSeed(seed, node) % 16777216;
}

/**
 * Runs every layer call forward in plan order (a DAG: each reads earlier outputs). A call's output
 * stays in the layout it was produced in (NCHWc along chains of convolutions and pooling) for the
 * calls that take it; the others get it converted to ONNX's NCHW, once per tensor.
 */
export function forward(g: GraphBuilder, plan: TrainingPlan, x: string, mode: 'train' | 'infer', seed: number, nchwcBlock = 0): LayerRun[] {
  const input = toGraphLayout(g, plan, x);
  const runs: LayerRun[] = [];
  const asNchw = new Map<number, string>();
  // NCHWc blocks the channel axis as Keras shapes name it (the last); PyTorch plans use standard ops.
  if (plan.framework === 'pytorch') nchwcBlock = 0;
  const trains = plan.layers.map((layer) => {
    const train = findLayer(layer.className, plan.framework)?.bind(layer.config).train;
    if (!train) throw new Error(`${layer.className} '${layer.name}' (line ${layer.line}) has no training emitters`);
    return train;
  });
  const nodeOf = (i: number, inputLayouts: ActLayout[]): TrainNode => {
    const layer = plan.layers[i];
    return { name: layer.node, inputs: layer.inputShapes, output: layer.output, w: layerWeights(plan, layer), seed: layerSeed(seed, layer.node), nchwc: nchwcBlock, inputLayouts };
  };
  const uses = plan.layers.map(() => [] as number[]);
  plan.layers.forEach((layer, j) => layer.inputs.forEach((i) => i >= 0 && uses[i].push(j)));
  // Calls whose output an earlier call's epilogue already computed (a residual Add, a ReLU).
  const fused = new Map<number, string>();
  plan.layers.forEach((layer, idx) => {
    const train = trains[idx];
    const given: ActLayout[] = layer.inputs.map((i) => (i < 0 ? 'nchw' : runs[i].outLayout));
    const act = activationSpec(layer.config.activation as string | null | undefined) ?? null;
    if (fused.has(idx)) {
      const y = fused.get(idx)!;
      const xs = layer.inputs.map((i) => runs[i].y);
      runs.push({ plan: layer, train, node: nodeOf(idx, given), xs, fwd: { y, layout: 'nchwc', activated: true }, z: y, y, act, inLayouts: given, outLayout: 'nchwc' });
      return;
    }
    let node = nodeOf(idx, given);
    const keep = nchwcBlock > 0 && train.acceptsNchwc(node);
    const inLayouts = given.map((l) => (keep ? l : 'nchw'));
    const xs = layer.inputs.map((i, k) => {
      if (i < 0) return input;
      if (inLayouts[k] === given[k]) return runs[i].y;
      if (!asNchw.has(i)) asNchw.set(i, relayout(g, runs[i].y, given[k], 'nchw', runs[i].plan.output));
      return asNchw.get(i)!;
    });
    node = { ...node, inputLayouts: inLayouts };
    const fusion = act ? undefined : epilogueAfter(plan, trains, uses, runs, idx, nodeOf);
    if (fusion && train.acceptsEpilogue(node)) node = { ...node, epilogue: fusion.epilogue };
    const fwd = train.forward(g, node, xs, mode);
    const y = act && !fwd.activated ? activationForward(g, act, fwd.y) : fwd.y;
    if (node.epilogue) for (const j of fusion!.calls) fused.set(j, y);
    runs.push({ plan: layer, train, node, xs, fwd, z: fwd.y, y, act, inLayouts, outLayout: fwd.layout ?? 'nchw' });
  });
  return runs;
}

/** Data in the graphs' layout: Keras' channels-last data transposed once; PyTorch's is already channels-first. */
function toGraphLayout(g: GraphBuilder, plan: TrainingPlan, x: string): string {
  return plan.framework === 'pytorch' ? x : toOnnxLayout(g, x, plan.inputShape);
}

/**
 * What call `idx` could fold into its last op from the calls after it, NCHWc throughout: a
 * residual Add (its only consumer, whose other input is already computed and blocked), then a
 * plain ReLU (the only consumer of that), or a ReLU alone. The folded calls keep their place in
 * the backward pass (an Add passes its gradient on, a ReLU masks it by its output), so only the
 * forward pass changes.
 */
function epilogueAfter(
  plan: TrainingPlan,
  trains: BoundTrain[],
  uses: number[][],
  runs: LayerRun[],
  idx: number,
  nodeOf: (i: number, layouts: ActLayout[]) => TrainNode,
): { epilogue: Epilogue; calls: number[] } | undefined {
  const only = (i: number): number | undefined => (uses[i].length === 1 ? uses[i][0] : undefined);
  const isRelu = (j: number) => plan.layers[j].inputs.length === 1 && trains[j].isRelu(nodeOf(j, ['nchwc']));
  const next = only(idx);
  if (next === undefined) return undefined;
  if (isRelu(next)) return { epilogue: { relu: true }, calls: [next] };
  const add = plan.layers[next];
  if (findLayer(add.className, plan.framework)?.name !== 'Add' || add.inputs.length !== 2) return undefined;
  const other = add.inputs[0] === idx ? add.inputs[1] : add.inputs[0];
  if (other < 0 || other >= idx || runs[other].outLayout !== 'nchwc' || add.inputShapes[0].join() !== add.inputShapes[1].join()) return undefined;
  const after = only(next);
  if (after !== undefined && isRelu(after)) return { epilogue: { sum: runs[other].y, relu: true }, calls: [next, after] };
  return { epilogue: { sum: runs[other].y, relu: false }, calls: [next] };
}

/** A tensor in the model's own layout (Keras': channels-last; PyTorch's: as the graphs hold it). */
function toModelLayout(g: GraphBuilder, plan: TrainingPlan, x: string, shape: readonly number[]): string {
  return plan.framework === 'pytorch' ? x : toKerasLayout(g, x, shape);
}

/**
 * The model output in its framework's layout, and the logits of a final activation over the
 * classes (the `activation=` argument, or a final layer that is one, such as Softmax or
 * PyTorch's log_softmax along dim 1), for a loss that fuses with it.
 */
function head(g: GraphBuilder, plan: TrainingPlan, runs: LayerRun[]): { output: string; logits?: { tensor: string; kind: ActivationKind } } {
  const last = runs[runs.length - 1];
  const output = toModelLayout(g, plan, relayout(g, last.y, last.outLayout, 'nchw', last.plan.output), plan.outputShape);
  if (plan.outputShape.length !== 1) return { output };
  if (last.act && activationDef(last.act.kind)?.fusable) return { output, logits: { tensor: last.z, kind: last.act.kind } };
  const layerAct = last.act ? undefined : last.train.outputActivation(last.node);
  // On (N, K) the class axis is 1 (or −1).
  if (layerAct && activationDef(layerAct.kind)?.fusable && (layerAct.axis === undefined || layerAct.axis === 1 || layerAct.axis === -1)) return { output, logits: { tensor: last.xs[0], kind: layerAct.kind } };
  return { output };
}

const isReluOutput = (r: LayerRun): boolean => (r.act ? r.act.kind === 'relu' : r.train.reluOutput(r.node));

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
    carried.push({ name: w.name, next: nextName(w.name), shape: w.shape, kind: 'weight', updated: w.trainable });
    if (!w.trainable) continue;
    for (const s of slots) {
      g.input(slotName(w.name, s.slot), w.shape);
      carried.push({ name: slotName(w.name, s.slot), next: nextName(slotName(w.name, s.slot)), shape: w.shape, kind: 'slot', updated: true });
    }
  }

  const runs = forward(g, plan, GRAPH_NAMES.x, 'train', opts.seed, opts.nchwcBlock);
  const updates = new Map<string, string>();
  for (const r of runs) {
    for (const [k, v] of Object.entries(r.fwd.updates ?? {})) {
      const weight = r.node.w[k];
      if (weight && !updates.has(weight)) updates.set(weight, v);
    }
  }
  for (const c of carried) if (updates.has(c.name)) c.updated = true;
  const h = head(g, plan, runs);
  const lossOut = emitLoss(g, plan.loss, { ...h, units: plan.outputShape[0] }, GRAPH_NAMES.labels, plan.lossOptions);
  g.identity(lossOut.loss, GRAPH_NAMES.loss);
  g.identity(lossOut.correct, GRAPH_NAMES.correct);
  g.output(GRAPH_NAMES.loss, []);
  g.output(GRAPH_NAMES.correct, []);

  // Backward, last call first. Where a tensor feeds several calls (a skip connection), the
  // gradients that come back are summed. `grad[i]` is the gradient of call i's output; `stage[i]`
  // says it is already w.r.t. the output before the activation ('z', a fused loss or a folded
  // ReLU) or w.r.t. the call's input ('x': a ReLU layer folded into its consumer).
  const grads = new Map<string, string>();
  const n = runs.length;
  const consumers = new Array<number>(n).fill(0);
  for (const r of runs) for (const i of r.plan.inputs) if (i >= 0) consumers[i]++;
  // Whether anything before call i's output has trainable weights (its input gradient is needed).
  const needsGrad: boolean[] = [];
  runs.forEach((r, i) => {
    needsGrad[i] = r.plan.weights.some((w) => w.trainable) || r.plan.inputs.some((j) => j >= 0 && needsGrad[j]) || (r.plan.weights.length === 0 && sharedTrainable(plan, r.plan));
  });
  const grad: (string | undefined)[] = new Array(n);
  const stage: ('y' | 'z' | 'x')[] = new Array(n).fill('y');
  // Gradients are kept in the layout of the output they belong to; `from` is the layout the
  // consumer received that output in.
  const addGrad = (i: number, d: string, from: ActLayout): void => {
    const dd = relayout(g, d, from, runs[i].outLayout, runs[i].plan.output);
    grad[i] = grad[i] === undefined ? dd : g.add(grad[i]!, dd);
  };
  const lastRun = runs[n - 1];
  if (lossOut.fused && !(lastRun.act && activationDef(lastRun.act.kind)?.fusable)) {
    // A final activation layer (Softmax, log_softmax): the fused gradient is already w.r.t. its input.
    stage[n - 1] = 'x';
  } else if (lossOut.fused) stage[n - 1] = 'z';
  const lossGrad = lossOut.fused || plan.outputShape.length < 2 || plan.framework === 'pytorch' || layoutIsTrivial(plan.outputShape) ? lossOut.grad : toOnnxLayout(g, lossOut.grad, plan.outputShape);
  grad[n - 1] = relayout(g, lossGrad, 'nchw', lastRun.outLayout, lastRun.plan.output);
  for (let i = n - 1; i >= 0; i--) {
    const r = runs[i];
    const dy = grad[i];
    if (dy === undefined || !needsGrad[i]) continue;
    const needDx = r.plan.inputs.map((j) => j >= 0 && needsGrad[j]);
    if (stage[i] === 'x') {
      // A ReLU layer folded into its consumer (or a final Softmax fused with the loss): pass through.
      r.plan.inputs.forEach((j, k) => {
        if (needDx[k]) addGrad(j, dy, r.outLayout);
      });
      continue;
    }
    const dz = r.act && stage[i] === 'y' ? activationBackward(g, r.act, r.z, r.y, dy) : dy;
    const only = r.plan.inputs.length === 1 ? r.plan.inputs[0] : -1;
    const inputIsRelu = only >= 0 && consumers[only] === 1 && isReluOutput(runs[only]);
    const b = r.train.backward(g, r.node, { xs: r.xs, fwd: r.fwd, dy: dz, needDx, inputIsRelu });
    for (const w of Object.values(r.node.w)) {
      const pw = planWeights(plan).find((x) => x.name === w);
      if (!pw?.trainable) continue;
      const key = w.slice(r.plan.name.length + 1);
      const gr = b.grads[key];
      if (!gr) throw new Error(`${r.plan.className} '${r.plan.node}': the backward emitter gave no gradient for '${key}'`);
      grads.set(w, grads.has(w) ? g.add(grads.get(w)!, gr) : gr);
    }
    r.plan.inputs.forEach((j, k) => {
      if (!needDx[k]) return;
      const dx = b.dxs[k];
      if (!dx) throw new Error(`${r.plan.className} '${r.plan.node}': the backward emitter gave no input gradient`);
      addGrad(j, dx, r.inLayouts[k]);
      if (b.throughRelu && inputIsRelu) stage[j] = runs[j].act ? 'z' : 'x';
    });
  }

  // Optimizer step and the moving statistics. The updates are ordered after the loss and every
  // gradient, so the trainer may have them overwrite the weights it fed in (see optimizerShared).
  const shared = optimizerShared(g, plan.optimizer, GRAPH_NAMES.lr, usesStep ? GRAPH_NAMES.step : undefined, [GRAPH_NAMES.loss, GRAPH_NAMES.correct, ...grads.values()]);
  const gradients: Record<string, string> = {};
  const masks: Record<string, string> = {};
  for (const w of planWeights(plan)) {
    if (w.trainable) {
      const gr = grads.get(w.name);
      if (!gr) throw new Error(`no gradient reaches '${w.name}'`);
      const state = Object.fromEntries(slots.map((s) => [s.slot, slotName(w.name, s.slot)]));
      const next = Object.fromEntries(slots.map((s) => [s.slot, nextName(slotName(w.name, s.slot))]));
      const step = optimizerStep(g, plan.optimizer, shared, w.name, gr, state, { w: nextName(w.name), slots: next });
      g.output(step.w, w.shape);
      for (const s of slots) g.output(step.slots[s.slot], w.shape);
      if (opts.exposeGradients) gradients[w.name] = g.output(g.identity(gr, `grad:${w.name}`), w.shape);
    } else {
      g.output(g.identity(updates.get(w.name) ?? w.name, nextName(w.name)), w.shape);
    }
  }
  if (opts.exposeGradients) {
    for (const r of runs) {
      for (const kind of ['mask', 'noise']) {
        const t = r.fwd.saved?.[kind];
        if (t) masks[`${kind}:${r.plan.node}`] = g.output(g.identity(t, `${kind}:${r.plan.node}`));
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
export function compileEvalGraph(plan: TrainingPlan, opts: { nchwcBlock?: number } = {}): EvalGraph {
  const g = new GraphBuilder({ name: `${plan.model}_eval` });
  g.input(GRAPH_NAMES.x, ['N', ...plan.inputShape]);
  g.input(GRAPH_NAMES.labels, ['N'], 'int64');
  const weights = planWeights(plan).map((w) => ({ name: w.name, shape: w.shape }));
  for (const w of weights) g.input(w.name, w.shape);
  const runs = forward(g, plan, GRAPH_NAMES.x, 'infer', 0, opts.nchwcBlock);
  const h = head(g, plan, runs);
  const l = emitLoss(g, plan.loss, { ...h, units: plan.outputShape[0] }, GRAPH_NAMES.labels, plan.lossOptions);
  g.output(g.identity(l.loss, GRAPH_NAMES.loss), []);
  g.output(g.identity(l.correct, GRAPH_NAMES.correct), []);
  g.output(g.identity(h.output, GRAPH_NAMES.output), ['N', ...plan.outputShape]);
  return { bytes: g.toModelBytes(), weights };
}

/** Weights by name (Keras layout), as checkpoints hold them. */
export type WeightMap = ReadonlyMap<string, Float32Array>;

/** Declares every weight of the plan as an initializer (Keras layout), checking its size. */
export function weightInitializers(g: GraphBuilder, plan: TrainingPlan, weights: WeightMap): void {
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
  /** The layer call's node name (`conv2d`, `dense_1[1]` for a shared layer's second call). */
  layer: string;
  className: string;
  /** The calls (or `input`) it reads: where its branch comes from. */
  inputs: string[];
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
    const name = `act:${r.plan.node}`;
    g.output(g.identity(toModelLayout(g, plan, relayout(g, r.y, r.outLayout, 'nchw', r.plan.output), r.plan.output), name), ['N', ...r.plan.output]);
    return { layer: r.plan.node, className: r.plan.className, inputs: r.plan.inputs.map((i) => (i < 0 ? 'input' : plan.layers[i].node)), name, shape: r.plan.output };
  });
  return { bytes: g.toModelBytes(), outputs };
}

/** Whether a shared layer's later call reads trainable weights (declared on its first call). */
function sharedTrainable(plan: TrainingPlan, l: PlanLayer): boolean {
  const owner = plan.layers.find((x) => x.name === l.name && x.weights.length > 0);
  return !!owner && owner.weights.some((w) => w.trainable);
}

/** Fresh weights (Keras initialisers, seeded per weight) and optimizer slots for a plan. */
export function initialState(plan: TrainingPlan, seed: number): Map<string, Float32Array> {
  const state = new Map<string, Float32Array>();
  const slots = optimizerSlots(plan.optimizer);
  for (const w of planWeights(plan)) {
    state.set(w.name, initialize(w.initializer, w.shape, hashSeed(seed, w.name), w.fanIn));
    if (!w.trainable) continue;
    const count = w.shape.reduce((a, b) => a * b, 1);
    for (const s of slots) state.set(slotName(w.name, s.slot), new Float32Array(count).fill(s.init));
  }
  return state;
}
