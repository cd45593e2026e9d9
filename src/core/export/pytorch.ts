/**
 * `convlens export FILE --to pytorch`: a {@link TrainingPlan} as one self-contained Python file —
 * the model as `class Model(nn.Module)` with Keras' semantics reproduced exactly (per-layer code
 * in pytorchLayers.ts), ConvLens checkpoints read and written in Keras' layouts, the file's
 * optimizer, loss, batch size and epochs, the data formats ConvLens reads, and a
 * DistributedDataParallel training loop that runs as `python3 FILE.py` or under `torchrun`.
 *
 * Pure: the plan in, the text out (or the layers that have no faithful PyTorch equivalent, each
 * at its line). The CLI writes the file.
 */
import { architectureFingerprint, architectureOf } from '../train/architecture';
import { computeFans } from '../train/initializers';
import { describeOptimizer, type OptimizerConfig } from '../train/optimizers';
import { planWeights, type PlanLayer, type PlanProblem, type TrainingPlan } from '../train/plan';
import { TORCH_HELPERS } from './pytorchHelpers';
import { activationCode, emitTorchLayer, type TorchHelper, type TorchLayerContext, type TorchWeight } from './pytorchLayers';
import { DATA_CODE, FIT_CODE, OPTIMIZER_CODE, TRAIN_CODE, WEIGHTS_CODE } from './pytorchRuntime';
import { indent, NameAllocator, NN_MODULE_ATTRIBUTES, pyFloat, pyLiteral, pyString, pyTuple } from './python';

/** Where the model came from and what the file should default to. */
export interface PytorchExportOptions {
  /** The model file as the user named it (shown in the file's docstring and --help). */
  source: string;
  /** The model's line in it. */
  line?: number;
  /** The script's file name, for its usage lines (default train_model.py). */
  script?: string;
  /** ConvLens' version, for the header. */
  version?: string;
  /** The export date (YYYY-MM-DD). */
  date?: string;
  /** The Keras dataset the file loads (`mnist`): the script's default --data. */
  dataset?: string;
  /**
   * A checkpoint the script loads by default (`--weights`): a path relative to the script's
   * folder (`relative: true`) or absolute.
   */
  weights?: { path: string; relative: boolean };
}

/** One Keras weight as the exported module holds it. */
export interface ExportedWeight {
  keras: string;
  torch: string;
  shape: number[];
  perm?: number[];
  reshape?: number[];
  trainable: boolean;
}

/** The exported file and what it holds. */
export interface PytorchExport {
  text: string;
  /** Every Keras weight and where it lives in `Model().state_dict()`. */
  weights: ExportedWeight[];
  /** What the file does differently from ConvLens' own training, in words (shown by the CLI). */
  notes: string[];
}

/** The exported file, or why the model cannot be exported (each reason at a layer's line). */
export type PytorchExportResult = { ok: true; export: PytorchExport } | { ok: false; problems: PlanProblem[] };

/** How the model ends: the activation the loss is fused with (computed from logits), if any. */
type Head = 'softmax' | 'sigmoid' | null;

interface ForwardLine {
  comment?: string;
  code: string;
}

const PY_RESERVED_VARIABLES = new Set(['self', 'x', 'logits', 'torch', 'nn', 'F', 'math', 'inputs', 'z']);

/** Writes the PyTorch file for a plan. */
export function exportPytorch(plan: TrainingPlan, opts: PytorchExportOptions): PytorchExportResult {
  const problems: PlanProblem[] = [];
  if (plan.framework === 'pytorch') {
    const message = `'${plan.model}' is already a PyTorch model: --to pytorch writes Keras models as PyTorch; export it to ONNX with convlens export FILE --out model.onnx`;
    return { ok: false, problems: [{ message, line: plan.layers[0]?.line ?? 1, column: plan.layers[0]?.column ?? 1 }] };
  }
  if (OPTIMIZER_CODE[optimizerClassKey(plan.optimizer)] === undefined) {
    problems.push({ message: `the PyTorch export has no code for the optimizer ${describeOptimizer(plan.optimizer)} yet`, line: plan.layers[0]?.line ?? 1, column: plan.layers[0]?.column ?? 1 });
  }
  const attrs = new NameAllocator(new Set([...NN_MODULE_ATTRIBUTES, 'INPUT_SHAPE']));
  const vars = new NameAllocator(PY_RESERVED_VARIABLES);
  const helpers = new Set<TorchHelper>();
  const attrOf = new Map<string, string>();
  const moduleOf = new Map<string, string>();
  const initLines: string[] = [];
  const bufferLines: string[] = [];
  const buffers = new Set<string>();
  const frozenLines: string[] = [];
  const weights: ExportedWeight[] = [];
  const table: string[] = [];
  const forward: ForwardLine[] = [];
  const n = plan.layers.length;

  // Who reads each call's output (and the model input, -1): a chain reuses `x`, a branch gets a name.
  const consumers = new Map<number, number[]>();
  plan.layers.forEach((l, i) => l.inputs.forEach((j) => consumers.set(j, [...(consumers.get(j) ?? []), i])));
  const isChain = (j: number): boolean => {
    const c = consumers.get(j) ?? [];
    return c.length === 1 && c[0] === j + 1 && plan.layers[j + 1].inputs.filter((k) => k === j).length === 1;
  };
  const inputVar = isChain(-1) ? 'x' : 'inputs';
  if (inputVar === 'inputs') forward.push({ code: 'inputs = x' });
  const outVar: string[] = [];
  const varOf = (j: number): string => (j < 0 ? inputVar : outVar[j]);

  let head: Head = null;
  let returnLines: string[] = [];

  plan.layers.forEach((layer, i) => {
    const where = { line: layer.line, column: layer.column };
    const who = `${layer.className} '${layer.node}'`;
    const xs = layer.inputs.map(varOf);
    const attr = (): string => {
      let a = attrOf.get(layer.name);
      if (!a) {
        a = attrs.allocate(layer.name);
        attrOf.set(layer.name, a);
      }
      return a;
    };
    const ctx: TorchLayerContext = {
      layer,
      inputs: layer.inputShapes,
      output: layer.output,
      xs,
      module: () => `self.${attr()}`,
      buffer(suffix, shape, values) {
        const name = `${attr()}_${suffix}`;
        if (!buffers.has(name)) {
          buffers.add(name);
          attrs.take(name);
          const list = Array.from(values, (v) => pyFloat(v)).join(', ');
          bufferLines.push(`self.register_buffer(${pyString(name)}, torch.tensor([${list}]).reshape(${pyTuple(shape)}), persistent=False)`);
        }
        return `self.${name}`;
      },
      helper(name) {
        helpers.add(name);
        return name;
      },
    };
    const code = emitTorchLayer(ctx);
    if ('refuse' in code) {
      problems.push({ message: `${who}: ${code.refuse}`, ...where });
      outVar[i] = 'x';
      return;
    }
    if (code.module !== undefined) {
      const known = moduleOf.get(layer.name);
      if (known === undefined) {
        moduleOf.set(layer.name, code.module);
        initLines.push(`self.${attr()} = ${code.module}`);
      } else if (known !== code.module) {
        problems.push({ message: `${who}: this shared layer is called on inputs that need another padding or size than its first call, which is not exported yet`, ...where });
      }
    }
    if (layer.weights.length > 0) {
      for (const w of layer.weights) {
        const key = w.name.slice(layer.name.length + 1);
        const tw: TorchWeight | undefined = code.weights?.[key];
        if (!tw) {
          problems.push({ message: `${who}: its weight '${key}' has no place in the PyTorch module (a ConvLens bug)`, ...where });
          continue;
        }
        const torchKey = `${attr()}.${tw.key}`;
        weights.push({ keras: w.name, torch: torchKey, shape: w.shape, perm: tw.perm, reshape: tw.reshape, trainable: w.trainable });
        const fans = computeFans(w.shape);
        table.push(
          `KerasWeight(${pyString(w.name)}, ${pyString(torchKey)}, ${pyTuple(w.shape)}, ${tw.perm ? pyTuple(tw.perm) : 'None'}, ${tw.reshape ? pyTuple(tw.reshape) : 'None'}, ${pyString(w.initializer)}, (${fans.fanIn}, ${fans.fanOut}), ${w.trainable ? 'True' : 'False'}),`,
        );
        if (!w.trainable && !/^running_/.test(tw.key.split('.').pop()!)) frozenLines.push(`self.${torchKey}.requires_grad_(False)  # trainable=False in the model file`);
      }
    }

    const activation = layer.config.activation as string | null | undefined;
    const last = i === n - 1;
    if (last) {
      const lastHead = finalHead(plan, layer);
      head = lastHead.head;
      returnLines = finish(forward, code.call, code.comment, xs, activation, lastHead);
      outVar[i] = 'z';
      return;
    }
    const value = activationCode(activation, code.call);
    if (value === undefined) {
      problems.push({ message: `${who}: activation='${String(activation)}' is not exported`, ...where });
      outVar[i] = 'x';
      return;
    }
    const target = isChain(i) ? 'x' : vars.allocate(layer.node);
    outVar[i] = target;
    if (value === target) return;
    if (code.comment) forward.push({ comment: code.comment, code: '' });
    forward.push({ code: `${target} = ${value}` });
  });

  if (problems.length > 0) return { ok: false, problems };

  const notes = [...(plan.fit?.ignored ?? [])];
  const text = assemble(plan, opts, {
    helpers: [...helpers],
    init: [...initLines, ...bufferLines, ...frozenLines],
    forward,
    returnLines,
    table,
    head,
  });
  return { ok: true, export: { text, weights, notes } };
}

/** The activation the loss is fused with, and the expression of the logits. */
function finalHead(plan: TrainingPlan, last: PlanLayer): { head: Head; softmaxLayer: boolean } {
  if (plan.outputShape.length !== 1) return { head: null, softmaxLayer: false };
  const act = last.config.activation;
  if (act === 'softmax' || act === 'sigmoid') return { head: act, softmaxLayer: false };
  if (last.className === 'Softmax') {
    const axis = last.config.axis as number;
    if (axis === -1 || axis === 1) return { head: 'softmax', softmaxLayer: true };
  }
  return { head: null, softmaxLayer: false };
}

/** The end of forward(): the logits when asked for, else the model's output as Keras returns it. */
function finish(forward: ForwardLine[], call: string, comment: string | undefined, xs: readonly string[], activation: string | null | undefined, h: { head: Head; softmaxLayer: boolean }): string[] {
  if (comment) forward.push({ comment, code: '' });
  if (h.softmaxLayer) {
    return ['if logits:', `    return ${xs[0]}`, `return torch.softmax(${xs[0]}, dim=1)`];
  }
  forward.push({ code: `z = ${call}` });
  if (h.head) return ['if logits:', '    return z', `return ${activationCode(h.head, 'z')}`];
  const out = activationCode(activation, 'z');
  if (out === undefined) throw new Error(`activation '${String(activation)}' of the last layer has no PyTorch code`);
  return [`return ${out}`];
}

interface Parts {
  helpers: TorchHelper[];
  init: string[];
  forward: ForwardLine[];
  returnLines: string[];
  table: string[];
  head: Head;
}

const SECTION = (title: string) => `# ${'-'.repeat(93)}\n# ${title}\n`;

function assemble(plan: TrainingPlan, opts: PytorchExportOptions, p: Parts): string {
  const arch = architectureOf(plan);
  const fingerprint = architectureFingerprint(arch);
  const torchInput = plan.inputShape.length >= 2 ? [plan.inputShape[plan.inputShape.length - 1], ...plan.inputShape.slice(0, -1)] : plan.inputShape;
  const trainable = planWeights(plan).filter((w) => w.trainable).reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1), 0);
  const total = planWeights(plan).reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1), 0);
  const source = `${opts.source}${opts.line ? `, line ${opts.line}` : ''}`;
  const script = opts.script ?? 'train_model.py';
  const docstring = [
    `"""${plan.model}: the Keras model of ${source}, exported by ConvLens${opts.version ? ` ${opts.version}` : ''}${opts.date ? ` on ${opts.date}` : ''}.`,
    '',
    `${total.toLocaleString('en-US')} parameters (${trainable.toLocaleString('en-US')} trainable), as ConvLens and Keras count them. The PyTorch`,
    "module computes what Keras computes: 'same' padding as Keras pads (unevenly where Keras does),",
    "Flatten in Keras' channels_last order, BatchNormalization with Keras' epsilon, momentum and moving",
    "variance, Keras' activations, initialisers and optimizers. Tensors are channels first inside: a",
    `sample is ${pyTuple(torchInput)} here, ${pyTuple(plan.inputShape)} in Keras.`,
    '',
    'Train (one process, or many with torch.distributed; gloo on CPUs, nccl on GPUs):',
    `    python3 ${script} --data DIR`,
    `    torchrun --standalone --nproc_per_node=4 ${script} --data DIR`,
    `    torchrun --nnodes=2 --nproc_per_node=8 --rdzv_backend=c10d --rdzv_endpoint=HOST:29500 ${script} --data DIR`,
    'It prints Keras-style epoch lines, writes model.pt and ConvLens checkpoints (last.ckpt, best.ckpt)',
    'to --out, and ends with "test_accuracy: 0.9871". --help lists the options.',
    '',
    'Use the model:',
    `    from ${script.replace(/\.py$/, '')} import Model, load_convlens_checkpoint`,
    '    model = Model().eval()',
    '    load_convlens_checkpoint(model, "best.ckpt")   # a ConvLens checkpoint, Keras layouts converted',
    `    probabilities = model(images)                  # images: (N, ${torchInput.join(', ')}) float32`,
    '"""',
  ].join('\n');

  const forwardBody = [
    ...p.forward.map((l) => (l.code === '' ? `# ${l.comment}` : l.code)),
    ...p.returnLines,
  ];
  const modelClass = [
    'class Model(nn.Module):',
    `    """${plan.model} (${source}). forward(x) takes (N, ${torchInput.join(', ')}) and returns what Keras' model`,
    `    returns${p.head ? `; forward(x, logits=True) returns the input of the final ${p.head}, which the loss uses` : ''}."""`,
    '',
    `    INPUT_SHAPE = ${pyTuple(torchInput)}`,
    '',
    '    def __init__(self):',
    '        super().__init__()',
    indent(p.init.length ? p.init.join('\n') : 'pass', 8),
    '',
    '    def forward(self, x, logits=False):',
    indent(forwardBody.join('\n'), 8),
  ].join('\n');

  const helperCode = p.helpers.length ? `${SECTION('Layers whose Keras definition torch.nn does not compute exactly')}${p.helpers.map((h) => TORCH_HELPERS[h]).join('\n')}` : '';

  const fit = plan.fit;
  const rows = (r: NonNullable<typeof fit>['train']) => (r ? pyLiteral({ split: r.split, rows: r.rows, line: r.line, dataset: r.dataset }) : 'None');
  const checkpoint = fit?.checkpoint ?? { monitor: 'val_loss', mode: 'min', initial: null };
  const settings = [
    SECTION('Training as the model file says (compile() and fit()), as ConvLens trains it'),
    `BATCH_SIZE = ${plan.batchSize}`,
    `EPOCHS = ${plan.epochs}`,
    `SHUFFLE = ${plan.shuffle ? 'True' : 'False'}`,
    `VALIDATION_SPLIT = ${pyFloat(plan.validationSplit)}`,
    `# fit()'s training and validation rows (None: the whole training set / validation_split).`,
    `TRAIN_ROWS = ${rows(fit?.train)}`,
    `VALIDATION_ROWS = ${rows(fit?.validation)}`,
    `SCHEDULE = ${fit?.schedule ? pyLiteral(fit.schedule) : 'None'}`,
    `CALLBACKS = ${pyLiteral(fit?.callbacks ?? [])}`,
    `# The best checkpoint is chosen by this (ModelCheckpoint's monitor, else val_loss or loss).`,
    `CHECKPOINT = ${pyLiteral({ monitor: checkpoint.monitor, mode: checkpoint.mode, initial: checkpoint.initial })}`,
    `# The dataset the model file loads (the default --data; None: --data is required).`,
    `DATASET = ${opts.dataset ? pyString(opts.dataset) : 'None'}`,
    `DEFAULT_WEIGHTS = ${defaultWeights(opts)}`,
    `# ConvLens' record of the optimizer (its checkpoints carry it).`,
    `OPTIMIZER = ${pyLiteral(plan.optimizer)}`,
    `OPTIMIZER_TEXT = ${pyString(describeOptimizer(plan.optimizer))}`,
    `LOSS = ${pyString(plan.loss)}`,
    '',
    '',
    lossCode(plan, p.head),
    '',
    OPTIMIZER_CODE[optimizerClassKey(plan.optimizer)],
    '',
    makeOptimizerCode(plan.optimizer),
  ].join('\n');

  const weightTable = [
    SECTION("Every Keras weight: ConvLens' name, where it lives in Model().state_dict(), and how its layout changes"),
    'class KerasWeight(NamedTuple):',
    '    keras: str  # ConvLens\' (and Keras\') name, layer/weight',
    '    torch: str  # the key in Model().state_dict()',
    '    shape: tuple  # Keras\' layout, as checkpoints hold it',
    '    perm: Optional[tuple]  # Keras axes -> PyTorch axes (None: the same)',
    '    reshape: Optional[tuple]  # after the permutation (depthwise kernels), or None',
    '    init: str  # Keras\' initialiser',
    '    fans: tuple  # (fan_in, fan_out) as Keras computes them from its layout',
    '    trainable: bool',
    '',
    '',
    'KERAS_WEIGHTS = [',
    indent(p.table.join('\n'), 4),
    ']',
  ].join('\n');

  const record = [
    SECTION("The architecture ConvLens recorded (checkpoints carry it; the fingerprint says which model they belong to)"),
    `ARCHITECTURE_FINGERPRINT = ${pyString(fingerprint)}`,
    'ARCHITECTURE = {',
    `    "model": ${pyString(arch.model)},`,
    `    "input": ${pyLiteral(arch.input)},`,
    '    "layers": [',
    ...arch.layers.map((l) => `        ${pyLiteral(l)},`),
    '    ],',
    '}',
  ].join('\n');

  const header = [
    '#!/usr/bin/env python3',
    docstring,
    'import argparse',
    'import array',
    'import gzip',
    'import io',
    'import json',
    'import math',
    'import os',
    'import re',
    'import stat',
    'import struct',
    'import sys',
    'import tarfile',
    'import tempfile',
    'import time',
    'import warnings',
    'import zipfile',
    'import zlib',
    'from typing import NamedTuple, Optional',
    '',
    'import torch',
    'import torch.distributed as dist',
    'import torch.nn as nn',
    'import torch.nn.functional as F',
    'from torch.nn.parallel import DistributedDataParallel as DDP',
    'from torch.utils.data.distributed import DistributedSampler',
    '',
    `MODEL_NAME = ${pyString(plan.model)}`,
    `SOURCE = ${pyString(source)}`,
    `INPUT_SHAPE = ${pyTuple(plan.inputShape)}  # one sample, Keras' layout (channels last)`,
    `CLASSES = ${plan.outputShape[0]}`,
  ].join('\n');

  const text = [
    header,
    '',
    helperCode,
    SECTION('The model'),
    modelClass,
    '',
    '',
    weightTable,
    WEIGHTS_CODE,
    settings,
    FIT_CODE,
    DATA_CODE,
    TRAIN_CODE,
    record,
    '',
    '',
    'if __name__ == "__main__":',
    '    sys.exit(main())',
    '',
  ].join('\n');
  return pep8Spacing(text);
}

/**
 * PEP 8's blank lines: two before every top-level definition and after one (before the comment
 * lines that introduce it), none doubled elsewhere at the top level.
 */
export function pep8Spacing(text: string): string {
  const out: string[] = [];
  const indented = (l: string) => /^\s/.test(l);
  // The last line of code (not blank, not a comment) seen.
  let code = '';
  for (const line of text.split('\n')) {
    const top = line !== '' && !indented(line) && !line.startsWith('#') && !/^[)\]}]/.test(line);
    const definition = /^(class|def) |^@|^if __name__/.test(line);
    const afterDefinition = indented(code) || /^(class|def) /.test(code);
    if (top && (definition || afterDefinition) && !code.startsWith('@')) {
      // The comment lines just above go with it.
      const comments: string[] = [];
      while (out.length && out[out.length - 1].startsWith('#')) comments.unshift(out.pop()!);
      while (out.length && out[out.length - 1] === '') out.pop();
      if (out.length) out.push('', '');
      out.push(...comments);
    } else if (line.startsWith('#') && indented(code) && (out.length === 0 || out[out.length - 1] === '')) {
      // A section comment after a definition's body: two blank lines before it, the code after it follows it.
      while (out.length && out[out.length - 1] === '') out.pop();
      out.push('', '');
      code = line;
    } else if (line === '' && out.length && out[out.length - 1] === '' && !indented(code) && (out.length < 2 || out[out.length - 2] === '')) {
      continue;
    }
    out.push(line);
    if (line !== '' && !line.startsWith('#')) code = line;
  }
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}

function defaultWeights(opts: PytorchExportOptions): string {
  if (!opts.weights) return 'None';
  if (!opts.weights.relative) return pyString(opts.weights.path);
  return `os.path.join(os.path.dirname(os.path.abspath(__file__)), ${pyString(opts.weights.path)})`;
}

const optimizerClassKey = (o: OptimizerConfig): string => (o.name === 'adamw' ? 'adam' : o.name);

function makeOptimizerCode(o: OptimizerConfig): string {
  const args = (() => {
    switch (o.name) {
      case 'sgd':
        return `KerasSGD(params, lr, momentum=${pyFloat(o.momentum as number)}, nesterov=${o.nesterov ? 'True' : 'False'}, weight_decay=${pyFloat(o.weightDecay as number)})`;
      case 'rmsprop':
        return `KerasRMSprop(params, lr, rho=${pyFloat(o.rho as number)}, momentum=${pyFloat(o.momentum as number)}, epsilon=${pyFloat(o.epsilon as number)}, centered=${o.centered ? 'True' : 'False'}, weight_decay=${pyFloat(o.weightDecay as number)})`;
      case 'adam':
      case 'adamw':
        return `KerasAdam(params, lr, beta_1=${pyFloat(o.beta1 as number)}, beta_2=${pyFloat(o.beta2 as number)}, epsilon=${pyFloat(o.epsilon as number)}, weight_decay=${pyFloat(o.weightDecay as number)})`;
      case 'adagrad':
        return `KerasAdagrad(params, lr, initial_accumulator_value=${pyFloat(o.initialAccumulator as number)}, epsilon=${pyFloat(o.epsilon as number)}, weight_decay=${pyFloat(o.weightDecay as number)})`;
      case 'adamax':
      case 'nadam':
        return `Keras${o.name === 'adamax' ? 'Adamax' : 'Nadam'}(params, lr, beta_1=${pyFloat(o.beta1 as number)}, beta_2=${pyFloat(o.beta2 as number)}, epsilon=${pyFloat(o.epsilon as number)}, weight_decay=${pyFloat(o.weightDecay as number)})`;
    }
  })();
  return ['', `def make_optimizer(params, lr):`, `    """${describeOptimizer(o)}, as compile() says."""`, `    return ${args}`].join('\n');
}

/** The loss and the correct count, from what forward(x, logits=True) returns (core/train/losses.ts). */
function lossCode(plan: TrainingPlan, head: Head): string {
  const units = plan.outputShape[0];
  const o = plan.lossOptions ?? {};
  const eps = o.labelSmoothing ?? 0;
  // Keras' label smoothing: (1 − ε)·y + ε/K, or + ε/2 for one sigmoid output.
  const smooth = (y: string) => (eps === 0 ? y : `(${y} * ${pyFloat(1 - eps)} + ${pyFloat(eps / (units > 1 ? units : 2))})`);
  const targetsOf = (v: string) => smooth(units > 1 ? `F.one_hot(labels, CLASSES).to(${v}.dtype)` : `labels.to(${v}.dtype).view(-1, 1)`);
  const out = head === 'softmax' ? 'torch.softmax(z, dim=1)' : head === 'sigmoid' ? 'torch.sigmoid(z)' : 'z';
  const lines: string[] = [];
  const crossEntropy = plan.loss === 'categorical_crossentropy' || plan.loss === 'sparse_categorical_crossentropy';
  // from_logits=True: the model output itself is the logits (after any final activation, as Keras takes it).
  const fused = (crossEntropy && head === 'softmax') || (plan.loss === 'binary_crossentropy' && head === 'sigmoid');
  const logits = o.fromLogits ? out : fused ? 'z' : undefined;
  const what = o.fromLogits ? `${plan.loss}(from_logits=True) of the output` : `${plan.loss} of the ${head} output, from its logits`;
  lines.push('def loss_fn(z, labels):');
  if (logits && crossEntropy) {
    lines.push(`    """${what} (exact and stable; Keras does the same)."""`, `    return F.cross_entropy(${logits}, labels${eps === 0 ? '' : `, label_smoothing=${pyFloat(eps)}`})`);
  } else if (logits && plan.loss === 'binary_crossentropy') {
    lines.push(`    """${what} (exact and stable), averaged over every output."""`, `    return F.binary_cross_entropy_with_logits(${logits}, ${targetsOf('z')})`);
  } else {
    lines.push(`    p = ${out}`, `    y = ${targetsOf('p')}`);
    switch (plan.loss) {
      case 'mean_squared_error':
        lines.push('    return ((p - y) ** 2).mean()');
        break;
      case 'mean_absolute_error':
        lines.push('    return (p - y).abs().mean()');
        break;
      case 'binary_crossentropy':
        lines.push(
          "    # Keras on probabilities: clipped to [epsilon, 1 - epsilon].",
          '    q = p.clamp(1e-7, 1 - 1e-7)',
          '    return -(y * torch.log(q) + (1 - y) * torch.log(1 - q)).mean()',
        );
        break;
      default:
        lines.push(
          "    # Keras on probabilities: rescaled to sum to 1, clipped to [epsilon, 1 - epsilon].",
          '    q = (p / p.sum(dim=1, keepdim=True)).clamp(1e-7, 1 - 1e-7)',
          '    return -(y * torch.log(q)).sum(dim=1).mean()',
        );
    }
  }
  lines.push('', '', 'def correct_count(z, labels):', '    """Correctly classified samples: the arg-max class, or output > 0.5 for a single output."""');
  if (units > 1) lines.push('    return (z.argmax(dim=1) == labels).sum()');
  else if (head === 'sigmoid' || o.fromLogits) lines.push('    return ((z > 0).long().view(-1) == labels).sum()');
  else lines.push('    return ((z > 0.5).long().view(-1) == labels).sum()');
  return lines.join('\n');
}
