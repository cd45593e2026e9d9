/**
 * The inference process (dist/inference.js): runs models with onnxruntime-node for the panel, so
 * the extension host never loads native code or blocks on a session. Sessions and datasets are
 * cached between requests; every request is answered with a result or an InferenceError.
 */
import { readFileSync, statSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { isMessage } from '../core/protocol/messages';
import {
  ActivationsRequest,
  ActivationsResult,
  EvaluateRequest,
  EvaluateResult,
  ExplainRequest,
  ExplainResult,
  FiltersRequest,
  FiltersResult,
  InferenceError,
  OnnxActivationsRequest,
  OnnxActivationsResult,
  type ActivationsRequestParams,
  type ExplainRequestParams,
  type OnnxActivationsRequestParams,
  type EvaluateRequestParams,
  type FiltersRequestParams,
  type InputSource,
  type WeightsSource,
} from '../core/protocol/inference';
import { decodeTensor, encodeTensor } from '../core/protocol/panel';
import { decodeOnnx, withExtraOutputs } from '../core/onnx/decode';
import { compileActivationsGraph, initialState } from '../core/train/compile';
import { compileExplainGraph, EXPLAIN_NAMES } from '../core/train/explain';
import { upsampleBilinear } from '../core/render/featureMaps';
import { architectureFingerprint, architectureOf, checkpointMismatch } from '../core/train/architecture';
import { planWeights, type TrainingPlan } from '../core/train/plan';
import { channelsLastShape, toChannelsLast, toModelInput } from '../core/train/sampleLayout';
import { readCheckpointFile } from '../train/checkpointFile';
import { openDataset, type Dataset } from '../train/data';
import { imageRows, resizeRows } from '../train/datasets/imageFolder';

interface Loaded {
  session: ort.InferenceSession;
  outputs: { layer: string; className: string; inputs: string[]; name: string; shape: number[] }[];
  weights: Map<string, Float32Array>;
  label: string;
}

const sessions = new Map<string, Promise<Loaded>>();
const datasets = new Map<string, Promise<Dataset>>();

function weightsKey(w: WeightsSource): string {
  if (w.kind === 'random') return `random:${w.seed}`;
  const st = statSync(w.path);
  return `ckpt:${w.path}:${st.mtimeMs}:${st.size}`;
}

async function load(plan: TrainingPlan, source: WeightsSource): Promise<Loaded> {
  const key = `${architectureFingerprint(architectureOf(plan))}|${weightsKey(source)}`;
  let p = sessions.get(key);
  if (!p) {
    p = (async () => {
      let weights: Map<string, Float32Array>;
      let label: string;
      if (source.kind === 'random') {
        weights = initialState(plan, source.seed);
        label = `random (untrained, seed ${source.seed})`;
      } else {
        const ckpt = readCheckpointFile(source.path);
        const mismatch = checkpointMismatch(plan, ckpt.header, ckpt.tensors);
        if (mismatch) throw new Error(`${source.path} does not fit the model as the file is now: ${mismatch.replace(/\n\s*- /g, '; ')}`);
        weights = new Map([...ckpt.tensors].filter(([, t]) => t.kind === 'weight').map(([k, t]) => [k, t.data]));
        const m = ckpt.header.metrics;
        label = `checkpoint: epoch ${ckpt.header.epoch}${m.val_accuracy !== undefined ? `, val_accuracy ${m.val_accuracy.toFixed(4)}` : ''}`;
      }
      const { bytes, outputs } = compileActivationsGraph(plan, weights);
      const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
      return { session, outputs, weights, label };
    })();
    sessions.set(key, p);
    p.catch(() => sessions.delete(key));
    // Keep a few sessions: one model's random and trained weights, and a previous version.
    while (sessions.size > 4) sessions.delete(sessions.keys().next().value!);
  }
  return p;
}

/** The explanation graph's session for a layer, built once per model, weights and layer. */
const explainSessions = new Map<string, Promise<ort.InferenceSession>>();

async function explainSession(plan: TrainingPlan, source: WeightsSource, layer: string): Promise<{ session: ort.InferenceSession; label: string }> {
  const loaded = await load(plan, source);
  const key = `${architectureFingerprint(architectureOf(plan))}|${weightsKey(source)}|${layer}`;
  let p = explainSessions.get(key);
  if (!p) {
    p = ort.InferenceSession.create(compileExplainGraph(plan, loaded.weights, layer), { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
    explainSessions.set(key, p);
    p.catch(() => explainSessions.delete(key));
    while (explainSessions.size > 6) explainSessions.delete(explainSessions.keys().next().value!);
  }
  return { session: await p, label: loaded.label };
}

async function explain(p: ExplainRequestParams): Promise<void> {
  const { session, label } = await explainSession(p.plan, p.weights, p.layer);
  // Read channels-last as the panel shows it, fed in the model's own layout (PyTorch's channels-first).
  const { x: shown, label: inputLabel } = await readInput(p.input, channelsLastShape(p.plan, p.plan.inputShape));
  const x = toModelInput(p.plan, shown, p.plan.inputShape, 1);
  const classes = p.plan.outputShape[p.plan.outputShape.length - 1];
  const run = (cls: number) => {
    const onehot = new Float32Array(classes);
    onehot[cls] = 1;
    return session.run({ [EXPLAIN_NAMES.input]: new ort.Tensor('float32', x, [1, ...p.plan.inputShape]), [EXPLAIN_NAMES.classOneHot]: new ort.Tensor('float32', onehot, [1, classes]) });
  };
  let out = await run(p.cls ?? 0);
  const probs = Array.from(out[EXPLAIN_NAMES.probabilities].data as Float32Array);
  const predicted = probs.indexOf(Math.max(...probs));
  const cls = p.cls ?? predicted;
  if (cls < 0 || cls >= classes) throw new Error(`class ${cls} is not one of the model's ${classes} classes`);
  if (cls !== (p.cls ?? 0)) out = await run(cls);
  const cam = out[EXPLAIN_NAMES.cam];
  const sal = out[EXPLAIN_NAMES.saliency];
  send(
    ExplainResult.create({
      id: p.id,
      layer: p.layer,
      cls,
      predicted,
      cam: encodeTensor(cam.data as Float32Array, cam.dims.slice(1).map(Number)),
      saliency: encodeTensor(sal.data as Float32Array, sal.dims.slice(1).map(Number)),
      probabilities: probabilities(out[EXPLAIN_NAMES.probabilities].data as Float32Array, p.plan),
      weights: label,
      inputLabel,
    }),
  );
}

/** Sessions of .onnx files opened in the viewer, with their extra outputs, per file version. */
const onnxSessions = new Map<string, Promise<ort.InferenceSession>>();

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

async function onnxActivations(p: OnnxActivationsRequestParams): Promise<void> {
  const t0 = performance.now();
  const st = statSync(p.path);
  const key = `${p.path}|${st.mtimeMs}|${st.size}|${p.tensors.map((t) => t.tensor).join(',')}`;
  let sp = onnxSessions.get(key);
  if (!sp) {
    sp = (async () => {
      const bytes = new Uint8Array(readFileSync(p.path));
      const m = decodeOnnx(bytes);
      const declared = new Set(m.graph.outputs.map((o) => o.name));
      const extra = p.tensors.filter((t) => !declared.has(t.tensor)).map((t) => ({ name: t.tensor, elemType: 1 }));
      return ort.InferenceSession.create(extra.length ? withExtraOutputs(bytes, extra) : bytes, { intraOpNumThreads: 1 });
    })();
    onnxSessions.set(key, sp);
    sp.catch(() => onnxSessions.delete(key));
    while (onnxSessions.size > 3) onnxSessions.delete(onnxSessions.keys().next().value!);
  }
  const session = await sp;
  const { height: H, width: W, channels: C } = p.input;
  // The image as (H, W, C) in [0, 1].
  const hwc = new Float32Array(H * W * C);
  let label: string;
  if (p.source.kind === 'image') {
    const img = imageRows(readFileSync(p.source.path), p.source.path);
    resizeRows(img, C as 1 | 3, H, W, 'area', hwc, 0, 1 / 255);
    label = `${p.source.path.split(/[\\/]/).pop()} (${img.width}×${img.height} → ${H}×${W})`;
  } else {
    const ds = await dataset('synthetic', undefined, [28, 28, 1]);
    const set = ds.test ?? ds.train;
    const i = ((p.source.index % set.count) + set.count) % set.count;
    const digit = upsampleBilinear(set.x.subarray(i * 784, (i + 1) * 784), 28, 28, H, W);
    for (let q = 0; q < H * W; q++) for (let c = 0; c < C; c++) hwc[q * C + c] = digit[q];
    label = `synthetic digit ${i} (label ${set.y[i]}), 28×28 → ${H}×${W}${C > 1 ? `, repeated over ${C} channels` : ''}`;
  }
  const fed = new Float32Array(hwc.length);
  for (let q = 0; q < H * W; q++) {
    for (let c = 0; c < C; c++) {
      const v = hwc[q * C + c];
      const scaled = p.input.scale === 'byte' ? v * 255 : p.input.scale === 'imagenet' ? (v - IMAGENET.mean[C === 3 ? c : 0]) / IMAGENET.std[C === 3 ? c : 0] : v;
      if (p.input.layout === 'NHWC') fed[q * C + c] = scaled;
      else fed[c * H * W + q] = scaled;
    }
  }
  const dims = p.input.layout === 'NHWC' ? [1, H, W, C] : [1, C, H, W];
  const result = await session.run({ [p.input.name]: new ort.Tensor('float32', fed, dims) });
  const layers: { name: string; className: string; activation: ReturnType<typeof encodeTensor> }[] = [];
  const shapes: { tensor: string; shape: number[] }[] = [];
  for (const t of p.tensors) {
    const v = result[t.tensor];
    if (!v || v.type !== 'float32') continue;
    const d = v.dims.map(Number);
    shapes.push({ tensor: t.tensor, shape: d });
    const data = v.data as Float32Array;
    if (d.length === 4 && d[0] === 1) {
      // ONNX operators are channels-first: (1, C, h, w) → (h, w, C) for the tiles.
      const [, c, h, w] = d;
      const out = new Float32Array(c * h * w);
      for (let k = 0; k < c; k++) for (let q = 0; q < h * w; q++) out[q * c + k] = data[k * h * w + q];
      layers.push({ name: t.name, className: t.opType, activation: encodeTensor(out, [h, w, c]) });
    } else layers.push({ name: t.name, className: t.opType, activation: encodeTensor(Float32Array.from(data), [data.length]) });
  }
  const first = result[session.outputNames[0]];
  let probs: number[] = [];
  if (first && first.type === 'float32' && first.dims.length === 2 && Number(first.dims[0]) === 1 && Number(first.dims[1]) <= 1000) {
    const v = Array.from(first.data as Float32Array);
    const sum = v.reduce((a, b) => a + b, 0);
    if (v.every((x) => x >= 0 && x <= 1) && Math.abs(sum - 1) < 1e-3) probs = v;
    else {
      const mx = Math.max(...v);
      const e = v.map((x) => Math.exp(x - mx));
      const s2 = e.reduce((a, b) => a + b, 0);
      probs = e.map((x) => x / s2);
    }
  }
  send(OnnxActivationsResult.create({ id: p.id, input: encodeTensor(hwc, [H, W, C]), inputLabel: label, layers, shapes, probabilities: probs, milliseconds: performance.now() - t0 }));
}

function dataset(data: string, hint: string | undefined, inputShape: readonly number[]): Promise<Dataset> {
  const key = `${data}|${hint ?? ''}|${inputShape.join()}`;
  let p = datasets.get(key);
  if (!p) {
    p = openDataset(data, hint, undefined, inputShape);
    datasets.set(key, p);
    p.catch(() => datasets.delete(key));
  }
  return p;
}

/** The input as one (H, W, C) float32 sample, from a dataset, pixels, or an image file. */
async function readInput(source: InputSource, shape: number[]): Promise<{ x: Float32Array; label: string }> {
  const [h, w, c] = shape;
  const size = shape.reduce((a, b) => a * b, 1);
  if (source.kind === 'pixels') {
    const x = decodeTensor(source.tensor);
    if (x.length === size) return { x, label: 'your drawing' };
    if (source.tensor.shape.length === 2 && c !== undefined) {
      // A one-channel drawing for an RGB model: repeat it in every channel.
      const out = new Float32Array(size);
      for (let p = 0; p < h * w; p++) for (let k = 0; k < c; k++) out[p * c + k] = x[p];
      return { x: out, label: 'your drawing' };
    }
    throw new Error(`the drawing has ${x.length} values; the model wants (${shape.join(', ')})`);
  }
  if (source.kind === 'image') {
    if (shape.length !== 3 || (c !== 1 && c !== 3)) throw new Error(`the model's input (${shape.join(', ')}) is not an image with 1 or 3 channels`);
    const st = statSync(source.path);
    if (!st.isFile()) throw new Error(`${source.path} is not a regular file`);
    const img = imageRows(readFileSync(source.path), source.path);
    const x = new Float32Array(size);
    resizeRows(img, c as 1 | 3, h, w, 'area', x, 0, 1 / 255);
    return { x, label: `${source.path.split(/[\\/]/).pop()} (${img.width}×${img.height} → ${h}×${w})` };
  }
  const ds = await dataset(source.data, source.dataHint, shape);
  const set = ds.test ?? ds.train;
  const n = set.count;
  const i = ((source.index % n) + n) % n;
  const per = ds.shape[0] * ds.shape[1] * ds.shape[2];
  if (per !== size) throw new Error(`${ds.name} images are (${ds.shape.join(', ')}); the model wants (${shape.join(', ')})`);
  return { x: set.x.slice(i * per, (i + 1) * per), label: `${ds.name}, ${ds.test ? 'test' : 'training'} image ${i} (label ${ds.classNames[set.y[i]] ?? set.y[i]})` };
}

async function activations(p: ActivationsRequestParams): Promise<void> {
  const t0 = performance.now();
  const loaded = await load(p.plan, p.weights);
  // The panel shows samples and feature maps channels-last; a PyTorch model takes and makes them channels-first.
  const shown = channelsLastShape(p.plan, p.plan.inputShape);
  const { x, label } = await readInput(p.input, shown);
  const feeds = { input: new ort.Tensor('float32', toModelInput(p.plan, x, p.plan.inputShape, 1), [1, ...p.plan.inputShape]) };
  const inputName = loaded.session.inputNames[0];
  const result = await loaded.session.run({ [inputName]: feeds.input });
  const layers = loaded.outputs.map((o) => ({
    name: o.layer,
    className: o.className,
    inputs: o.inputs,
    activation: encodeTensor(toChannelsLast(p.plan, result[o.name].data as Float32Array, o.shape), channelsLastShape(p.plan, o.shape)),
  }));
  const last = result[loaded.outputs[loaded.outputs.length - 1].name].data as Float32Array;
  send(
    ActivationsResult.create({
      id: p.id,
      input: encodeTensor(x, shown),
      inputLabel: label,
      layers,
      probabilities: probabilities(last, p.plan),
      weights: loaded.label,
      milliseconds: performance.now() - t0,
    }),
  );
}

/** The last layer's output as class probabilities (softmax applied when the model ends in logits). */
function probabilities(out: Float32Array, plan: TrainingPlan): number[] {
  const last = plan.layers[plan.layers.length - 1];
  const act = (last?.config.activation as string | null | undefined) ?? (last?.className === 'Softmax' ? 'softmax' : null);
  const v = Array.from(out);
  if (act === 'softmax' || act === 'sigmoid') return v;
  const m = Math.max(...v);
  const e = v.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

async function filters(p: FiltersRequestParams): Promise<void> {
  const loaded = await load(p.plan, p.weights);
  const torch = p.plan.framework === 'pytorch';
  const w = planWeights(p.plan).find((x) => (torch ? x.name === `${p.layer}.weight` && x.shape.length >= 3 : x.name === `${p.layer}/kernel` || x.name === `${p.layer}/depthwise_kernel`));
  if (!w) throw new Error(`${p.layer} has no convolution kernel`);
  const data = loaded.weights.get(w.name);
  if (!data) throw new Error(`the weights have no ${w.name}`);
  // The panel draws Keras' kernel layout (k…, c_in, c_out); PyTorch stores (c_out, c_in, k…).
  const kernel = torch ? oihwToKeras(data, w.shape) : { data, shape: w.shape };
  send(FiltersResult.create({ id: p.id, layer: p.layer, kernel: encodeTensor(kernel.data, kernel.shape), weights: loaded.label }));
}

/** A PyTorch kernel (c_out, c_in, k…) in Keras' layout (k…, c_in, c_out). */
function oihwToKeras(data: Float32Array, shape: readonly number[]): { data: Float32Array; shape: number[] } {
  const [o, i, ...k] = shape;
  const plane = k.reduce((a, b) => a * b, 1);
  const out = new Float32Array(data.length);
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let p = 0; p < plane; p++) out[(p * i + b) * o + a] = data[(a * i + b) * plane + p];
  return { data: out, shape: [...k, i, o] };
}

async function evaluate(p: EvaluateRequestParams): Promise<void> {
  const loaded = await load(p.plan, p.weights);
  const shown = channelsLastShape(p.plan, p.plan.inputShape);
  const ds = await dataset(p.data, p.dataHint, shown);
  const set = ds.test ?? ds.train;
  const n = Math.min(set.count, p.limit ?? set.count);
  const per = p.plan.inputShape.reduce((a, b) => a * b, 1);
  const classes = ds.numClasses;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const outName = loaded.outputs[loaded.outputs.length - 1].name;
  const inputName = loaded.session.inputNames[0];
  const batch = 256;
  const predicted = new Uint8Array(n);
  const confidence = new Float32Array(n);
  for (let start = 0; start < n; start += batch) {
    const m = Math.min(batch, n - start);
    const x = toModelInput(p.plan, set.x.subarray(start * per, (start + m) * per), p.plan.inputShape, m);
    const r = await loaded.session.run({ [inputName]: new ort.Tensor('float32', x, [m, ...p.plan.inputShape]) });
    const out = r[outName].data as Float32Array;
    const k = out.length / m;
    for (let i = 0; i < m; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (out[i * k + j] > out[i * k + best]) best = j;
      predicted[start + i] = best;
      confidence[start + i] = probabilities(out.subarray(i * k, (i + 1) * k), p.plan)[best];
      const t = set.y[start + i];
      if (t < classes && best < classes) confusion[t][best]++;
    }
  }
  let correct = 0;
  for (let i = 0; i < n; i++) if (predicted[i] === set.y[i]) correct++;
  // The grid shows a spread of test images, wrong ones first so mistakes are visible.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => Number(predicted[a] === set.y[a]) - Number(predicted[b] === set.y[b]) || a - b);
  const wrong = order.filter((i) => predicted[i] !== set.y[i]).slice(0, Math.ceil(p.samples / 4));
  const stride = Math.max(1, Math.floor(n / p.samples));
  const right: number[] = [];
  for (let i = 0; i < n && wrong.length + right.length < p.samples; i += stride) if (predicted[i] === set.y[i]) right.push(i);
  const samples = [...wrong, ...right].sort((a, b) => a - b).map((i) => ({
    image: encodeTensor(set.x.slice(i * per, (i + 1) * per), shown),
    label: set.y[i],
    predicted: predicted[i],
    probability: confidence[i],
  }));
  send(EvaluateResult.create({ id: p.id, dataset: `${ds.name} ${ds.test ? 'test' : 'training'} images`, count: n, classNames: ds.classNames, confusion, accuracy: n ? correct / n : 0, samples }));
}

function send(m: unknown): void {
  process.send?.(m);
}

process.on('message', (m: unknown) => {
  const id = isMessage(m) && typeof (m.params as { id?: unknown })?.id === 'number' ? (m.params as { id: number }).id : -1;
  const fail = (e: unknown) => send(InferenceError.create({ id, message: e instanceof Error ? e.message : String(e) }));
  try {
    if (ActivationsRequest.is(m)) activations(m.params).catch(fail);
    else if (FiltersRequest.is(m)) filters(m.params).catch(fail);
    else if (EvaluateRequest.is(m)) evaluate(m.params).catch(fail);
    else if (ExplainRequest.is(m)) explain(m.params).catch(fail);
    else if (OnnxActivationsRequest.is(m)) onnxActivations(m.params).catch(fail);
    else fail(new Error(`the inference process does not understand ${isMessage(m) ? m.method : 'this message'}`));
  } catch (e) {
    fail(e);
  }
});
process.on('disconnect', () => process.exit(0));
