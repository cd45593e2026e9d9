/**
 * Why the model decided what it did, for the panel: Grad-CAM (Selvaraju et al., 2017) over any
 * convolution layer and plain gradient saliency (Simonyan et al., 2013), for the predicted or a
 * chosen class. The ONNX graph is the inference forward pass followed by the training
 * compiler's own backward emitters, run from the class score (the logit, before a final softmax
 * or sigmoid) back to the chosen layer and on to the input:
 *
 * - `activation` A (h, w, k) of the layer and `gradient` ∂score/∂A;
 * - `cam` = ReLU(Σ_k α_k A_k) with α_k the spatial mean of ∂score/∂A_k (h, w);
 * - `saliency` = max over channels of |∂score/∂input| (H, W);
 * - `probabilities`, the model's output.
 *
 * The graph works on one image; the class is an input (one-hot), so one session serves every class.
 */
import { activationBackward } from '../onnx/grad';
import { GraphBuilder } from '../onnx/graphBuilder';
import { toKerasLayout } from '../onnx/layout';
import { forward, weightInitializers, type LayerRun, type WeightMap } from './compile';
import { layerWeights, type TrainingPlan } from './plan';

/** Names of the explanation graph's inputs and outputs. */
export const EXPLAIN_NAMES = {
  input: 'input',
  /** float32 (1, classes): 1 at the class to explain. */
  classOneHot: 'class',
  probabilities: 'probabilities',
  activation: 'activation',
  gradient: 'gradient',
  cam: 'cam',
  saliency: 'saliency',
} as const;

/** The layers Grad-CAM can look at: calls with a spatial output (h, w, channels). */
export function explainableLayers(plan: TrainingPlan): { node: string; className: string; shape: number[] }[] {
  return plan.layers.filter((l) => l.output.length === 3).map((l) => ({ node: l.node, className: l.className, shape: l.output }));
}

/**
 * Compiles the explanation graph for the layer call `target` (a plan node name, `conv2d_1`).
 * Throws, in words, when the layer has no spatial output or a layer's gradient cannot be built.
 */
export function compileExplainGraph(plan: TrainingPlan, weights: WeightMap, target: string): Uint8Array {
  const t = plan.layers.findIndex((l) => l.node === target);
  if (t < 0) throw new Error(`the model has no layer call '${target}'`);
  const targetLayer = plan.layers[t];
  // Per-sample shapes in the model's own layout: Keras' (h, w, k), PyTorch's (k, h, w).
  const torch = plan.framework === 'pytorch';
  if (targetLayer.output.length !== 3) throw new Error(`Grad-CAM needs a layer with a spatial output (${torch ? 'channels, height, width' : 'height, width, channels'}); ${target} gives (${targetLayer.output.join(', ')})`);
  const [camH, camW] = torch ? targetLayer.output.slice(1) : targetLayer.output.slice(0, 2);
  const inModelLayout = (x: string, shape: readonly number[]) => (torch ? x : toKerasLayout(g, x, shape));
  const classes = plan.outputShape[plan.outputShape.length - 1];
  const g = new GraphBuilder({ name: `${plan.model}_explain` });
  g.input(EXPLAIN_NAMES.input, [1, ...plan.inputShape]);
  g.input(EXPLAIN_NAMES.classOneHot, [1, classes]);
  weightInitializers(g, plan, weights);
  // The input enters through a layout change that ONNX differentiates as the identity of
  // values: the gradient w.r.t. it is moved back to Keras layout below.
  const runs = forward(g, plan, EXPLAIN_NAMES.input, 'infer', 0);
  const n = runs.length;
  const last = runs[n - 1];
  g.output(g.identity(inModelLayout(last.y, plan.outputShape), EXPLAIN_NAMES.probabilities), [1, ...plan.outputShape]);

  // The score: the class logit. After a final softmax or sigmoid (as `activation=` or a Softmax
  // layer) the gradient starts below it; otherwise at the output itself.
  const grad: (string | undefined)[] = new Array(n);
  const stage: ('y' | 'z' | 'x')[] = new Array(n).fill('y');
  if (plan.outputShape.length !== 1) throw new Error(`Grad-CAM explains a classifier's output vector; this model outputs (${plan.outputShape.join(', ')})`);
  grad[n - 1] = EXPLAIN_NAMES.classOneHot;
  // A final layer that is itself the activation (Keras' Softmax, PyTorch's F.log_softmax or
  // nn.Softmax) passes the one-hot straight on to its input, the logits.
  const squashing = (kind: string | undefined) => kind === 'softmax' || kind === 'sigmoid' || kind === 'log_softmax';
  if (last.act && squashing(last.act.kind)) stage[n - 1] = 'z';
  else if (!last.act && squashing(last.train.outputActivation(last.node)?.kind)) stage[n - 1] = 'x';

  let inputGrad: string | undefined;
  let targetGrad: string | undefined;
  const addInto = (j: number, d: string) => {
    if (j < 0) inputGrad = inputGrad === undefined ? d : g.add(inputGrad, d);
    else grad[j] = grad[j] === undefined ? d : g.add(grad[j]!, d);
  };
  for (let i = n - 1; i >= 0; i--) {
    const r = runs[i];
    const dy = grad[i];
    if (i === t) targetGrad = dy;
    if (dy === undefined) continue;
    if (stage[i] === 'x') {
      r.plan.inputs.forEach((j) => addInto(j, dy));
      continue;
    }
    const dz = r.act && stage[i] === 'y' ? activationBackward(g, r.act, r.z, r.y, dy) : dy;
    const dxs = inputGradients(g, plan, r, dz);
    r.plan.inputs.forEach((j, k) => addInto(j, dxs[k]));
  }
  if (!targetGrad) throw new Error(`no gradient reaches ${target}: nothing after it leads to the output`);
  if (!inputGrad) throw new Error('no gradient reaches the input');

  // A and ∂score/∂A in ONNX layout (1, k, h, w): α_k = mean over (h, w); cam = ReLU(Σ_k α_k·A_k).
  const a = runs[t].y;
  const alpha = g.reduceMean(targetGrad, [2, 3], true);
  const cam = g.relu(g.reduceSum(g.mul(a, alpha), [1], false));
  g.output(g.identity(cam, EXPLAIN_NAMES.cam), [1, camH, camW]);
  g.output(g.identity(inModelLayout(a, targetLayer.output), EXPLAIN_NAMES.activation), [1, ...targetLayer.output]);
  g.output(g.identity(inModelLayout(targetGrad, targetLayer.output), EXPLAIN_NAMES.gradient), [1, ...targetLayer.output]);
  // Saliency: |∂score/∂x|, the largest over the input's channels (Keras: the last axis; PyTorch: the first after the batch).
  const dx = inModelLayout(inputGrad, plan.inputShape);
  const rank = plan.inputShape.length + 1;
  g.output(g.identity(plan.inputShape.length === 3 ? g.reduceMax(g.abs(dx), [torch ? 1 : rank - 1], false) : g.abs(dx), EXPLAIN_NAMES.saliency));
  return g.toModelBytes();
}

/**
 * The gradients w.r.t. a call's inputs, from the gradient w.r.t. its output before the
 * activation. The training emitters do this for every layer; two inference-mode cases differ
 * from training: a BatchNormalization with its moving statistics (a fixed scale per channel),
 * and layers that are the identity at inference (Dropout, noise, augmentation).
 */
function inputGradients(g: GraphBuilder, plan: TrainingPlan, r: LayerRun, dz: string): string[] {
  const needDx = r.plan.inputs.map(() => true);
  const bn = inferenceBatchNorm(plan, r);
  if (bn) {
    const gamma = bn.gamma ?? g.float32s(new Array<number>(bn.channels).fill(1));
    const scale = g.div(gamma, g.sqrt(g.add(bn.variance, g.scalar(bn.epsilon))));
    // The graph holds activations channels-first whatever the framework: (C, spatial…) per sample.
    const trailing = r.plan.input.length - 1;
    return [g.mul(dz, trailing > 0 ? g.reshape(scale, [bn.channels, ...new Array<number>(trailing).fill(1)]) : scale)];
  }
  if (r.fwd.y === r.xs[0] && r.xs.length === 1) return [dz];
  const b = r.train.backward(g, r.node, { xs: r.xs, fwd: r.fwd, dy: dz, needDx, inputIsRelu: false });
  return r.plan.inputs.map((_, k) => {
    const d = b.dxs[k];
    if (!d) throw new Error(`${r.plan.className} '${r.plan.node}' (line ${r.plan.line}) gives no input gradient`);
    return d;
  });
}

/**
 * A batch normalization at inference, y = γ·(x − mean)/√(var + ε) + β with its running statistics:
 * its weights under the framework's names (Keras' gamma/moving_variance, PyTorch's
 * weight/running_var), or undefined for any other layer.
 */
function inferenceBatchNorm(plan: TrainingPlan, r: LayerRun): { channels: number; gamma?: string; variance: string; epsilon: number } | undefined {
  const c = r.plan.config;
  if (plan.framework === 'pytorch') {
    if (!/^BatchNorm[123]d$/.test(r.plan.className)) return undefined;
    const w = layerWeights(plan, r.plan);
    return { channels: r.plan.input[0], gamma: c.affine === false ? undefined : w.weight, variance: w.running_var, epsilon: (c.eps as number | undefined) ?? 1e-5 };
  }
  if (r.plan.className !== 'BatchNormalization') return undefined;
  const w = layerWeights(plan, r.plan);
  return { channels: r.plan.input[r.plan.input.length - 1], gamma: w.gamma, variance: w.moving_variance, epsilon: (c.epsilon as number | undefined) ?? 1e-3 };
}
