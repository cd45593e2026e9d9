/**
 * What training a model means, decided before any graph is built: the layers with their
 * arguments and static shapes, the loss, the optimizer, batch size, epochs and validation split,
 * read from the file's `compile()` and `fit()` calls and overridable. A model ConvLens cannot
 * train is refused here with every reason, each at its layer's line.
 */
import type { LayerReport, ModelReport } from '../analyze';
import { findLayer, type FrameworkName } from '../layers/index';
import { LineIndex } from '../text';
import { activationSpec } from './activations';
import { describeLossOptions, impliedLoss, lossDef, lossesFor, lossName, readLossOptions, type LossName, type LossOptions } from './losses';
import { schedulerRates } from './schedulers';
import { defaultOptimizer, describeOptimizer, frameworkDefaultOptimizer, optimizerName, optimizerNamesFor, readOptimizer, type OptimizerConfig } from './optimizers';
import { kerasDefaultInitializer, resolveInitializer, type InitializerName } from './initializers';
import { planFit, type FitPlan } from './fitOptions';

/** One weight of a planned layer, Keras layout. */
export interface PlanWeight {
  /** `conv2d/kernel`: the layer's name and Keras' weight name. */
  name: string;
  shape: number[];
  /** False for frozen weights and BatchNormalization's moving statistics. */
  trainable: boolean;
  initializer: InitializerName;
  /** The fan-in the initialiser draws with when not the weight's own (a PyTorch bias: its weight's). */
  fanIn?: number;
}

/**
 * One call of a layer (a node of the model graph) as the compiler needs it; plain data (it
 * crosses to the trainer process). Layers run in this order; each reads the outputs of earlier
 * plan layers (or the model input).
 */
export interface PlanLayer {
  /** The layer's Keras name (`conv2d_1`); its weights are named after it. */
  name: string;
  /** A name unique to this call: the layer's, or `dense_1[1]` for a shared layer's second call. */
  node: string;
  className: string;
  /** 1-based line and column of the layer call. */
  line: number;
  column: number;
  /** The layer's arguments with Keras defaults (LayerReport.config). */
  config: Record<string, unknown>;
  /** Which plan layers produce the inputs, in order; -1 is the model input. */
  inputs: number[];
  /** Per-sample shapes of every input and of the output, Keras order. */
  inputShapes: number[][];
  /** The first input's shape (most layers have one). */
  input: number[];
  output: number[];
  /** The layer's weights; empty on a shared layer's later calls (they use the first call's). */
  weights: PlanWeight[];
}

/** Everything the trainer needs to build its graphs and run; JSON-serialisable. */
export interface TrainingPlan {
  model: string;
  /**
   * Whose model it is. Keras (absent): data and outputs channels-last, transposed at the graph's
   * edges. PyTorch: channels-first throughout, as ONNX is; weights named `conv1.weight`.
   */
  framework?: FrameworkName;
  inputShape: number[];
  outputShape: number[];
  /** Every layer call in execution order; the last one's output is the model's. */
  layers: PlanLayer[];
  loss: LossName;
  /** The loss's settings from the file (`from_logits=True`, `label_smoothing=0.1`); absent: the defaults. */
  lossOptions?: LossOptions;
  optimizer: OptimizerConfig;
  batchSize: number;
  epochs: number;
  /** Fraction of the training set held out for validation (0: none). */
  validationSplit: number;
  shuffle: boolean;
  /** Multiply-accumulates of one sample's forward pass (for FLOP/s figures). */
  macs: number;
  /** fit()'s data selection, callbacks and learning-rate schedule (fitOptions.ts). */
  fit?: FitPlan;
  /**
   * PyTorch: the training set's `transforms.Normalize`, one mean and std per input channel,
   * applied to every sample the model is given (training, evaluation, the panel) after the ÷ 255.
   */
  inputNormalization?: { mean: number[]; std: number[] };
}

/** A reason the model cannot be trained, at a 1-based line and column of the file. */
export interface PlanProblem {
  message: string;
  line: number;
  column: number;
}

/** Settings given on the command line or in the UI, over the file's. */
export interface PlanOverrides {
  optimizer?: string;
  learningRate?: number;
  loss?: string;
  batchSize?: number;
  epochs?: number;
  validationSplit?: number;
}

export interface PlanResult {
  plan?: TrainingPlan;
  problems: PlanProblem[];
  /** What ConvLens assumed where the file did not say (or could not be read). */
  notes: string[];
}

/** The initialiser argument of a weight: `kernel` ← kernel_initializer, `depthwise_kernel` ← depthwise_initializer. */
function initializerOf(l: LayerReport, weight: string, notes: string[], line: number): InitializerName {
  const keys = [`${weight}_initializer`, `${weight.replace(/_kernel$/, '')}_initializer`];
  const given = keys.map((k) => l.config[k]).find((v) => typeof v === 'string') as string | undefined;
  const fallback = kerasDefaultInitializer(weight);
  if (given === undefined) return fallback;
  if (given === '') {
    notes.push(`line ${line}: cannot read ${l.name}'s ${keys[keys.length - 1]} without running the code; using ${fallback}`);
    return fallback;
  }
  const resolved = resolveInitializer(given);
  if (!resolved) notes.push(`line ${line}: initializer '${given}' of ${l.name} is not reproduced by ConvLens; using ${fallback}`);
  return resolved ?? fallback;
}

/** Decides how to train `model` (a file's analysis) or says why it cannot be trained. */
export function planTraining(model: ModelReport, text: string, overrides: PlanOverrides = {}): PlanResult {
  const lines = new LineIndex(text);
  const at = (offset: number) => {
    const p = lines.position(offset);
    return { line: p.line + 1, column: p.character + 1 };
  };
  const problems: PlanProblem[] = [];
  const notes: string[] = [];
  const modelAt = at(model.span.start);
  const refuse = (message: string, where = modelAt) => problems.push({ message, ...where });

  if (!model.analysed) {
    refuse(`model '${model.name}' could not be followed by ConvLens (${model.incomplete ?? 'its structure is unknown'}), so it cannot be trained`);
    return { problems, notes };
  }
  if (model.hasErrors) refuse(`model '${model.name}' has errors (see \`convlens summary\`); fix them before training`);
  if (model.inputs.length > 1 || model.outputs.length > 1) {
    refuse(`model '${model.name}' has ${model.inputs.length} inputs and ${model.outputs.length} outputs: ConvLens trains models with one input and one output`);
    return { problems, notes };
  }
  const input = model.inputShape;
  if (!input || input.some((d) => d === null)) {
    refuse(`model '${model.name}' has no complete input shape: give the first layer input_shape=(…)`);
    return { problems, notes };
  }
  const rows = model.layers.filter((l) => !l.isInput);
  if (rows.length === 0) refuse(`model '${model.name}' has no layers`);

  const layers: PlanLayer[] = [];
  const owners = new Set<number>();
  const framework: FrameworkName = model.framework;
  const torch = framework === 'pytorch';
  if (torch && model.pretrained) {
    // torchvision's published weights (weights='IMAGENET1K_V1'): ConvLens cannot download them.
    const frozen = model.nonTrainableParams ?? 0;
    if (frozen > 0) {
      refuse(`model '${model.name}' keeps ${frozen.toLocaleString('en-US')} parameters frozen (requires_grad=False) to keep its '${model.pretrained}' weights, which ConvLens cannot download, so training would leave them at random initial values; use weights=None, or leave them trainable`);
    } else notes.push(`line ${modelAt.line}: ${model.name}'s '${model.pretrained}' weights cannot be downloaded; ConvLens trains it from random initial weights`);
  }
  // PyTorch operations (`F.relu`) have no unique names: their calls are numbered, `F.relu_1`.
  const opCalls = new Map<string, number>();
  const torchNode = (l: LayerReport): string => {
    if (l.module) return l.nodeIndex === 0 ? l.module : `${l.module}[${l.nodeIndex}]`;
    const k = opCalls.get(l.name) ?? 0;
    opCalls.set(l.name, k + 1);
    return k === 0 ? l.name : `${l.name}_${k}`;
  };

  /**
   * Plans the calls of a model (the top one, or a nested model inlined into it); `sources` are the
   * plan layers feeding its inputs (-1: the data). Returns the plan layer of its output (-2 when
   * that call was refused).
   */
  const addRows = (report: ModelReport, sources: number[], depth: number): number => {
    const rowPlan = new Map<number, number>();
    const sourceOf = (r: number): number => (r < 0 ? (sources[0] ?? -1) : (rowPlan.get(r) ?? -2));
    for (const l of report.layers) {
      if (l.isInput) {
        const k = report.inputs.findIndex((i) => i.name === l.name);
        rowPlan.set(l.index, sources[k] ?? -2);
        continue;
      }
      const where = at(l.span.start);
      const who = `${l.className} '${l.name}'`;
      const inputs = l.inputRows.map(sourceOf);
      if (l.nested) {
        const n = l.nested;
        if (depth >= 8) refuse(`${who}: models nested more than 8 deep are not trainable`, where);
        else if (n.pretrained && n.trainableParams === 0) {
          refuse(`${who}: ${n.name} is frozen (trainable=False) to keep its '${n.pretrained}' weights, which ConvLens cannot download, so training would start it from random frozen weights; use weights=None, or leave it trainable`, where);
        } else {
          if (n.pretrained) notes.push(`line ${where.line}: ${n.name}'s '${n.pretrained}' weights cannot be downloaded; ConvLens trains it from random initial weights`);
          rowPlan.set(l.index, addRows(n, inputs, depth + 1));
          continue;
        }
        rowPlan.set(l.index, -2);
        continue;
      }
      const def = findLayer(l.typeName ?? l.className, l.framework);
      const refusedHere = (message: string): void => {
        refuse(`${who}: ${message}`, where);
        rowPlan.set(l.index, -2);
      };
      if (l.status === 'unsupported' || !def) {
        refusedHere('ConvLens does not know this layer, so it cannot train the model');
        continue;
      }
      if (l.status !== 'ok' || l.outputShape === null || l.inputShapes.some((sh) => sh === null) || [...l.inputShapes.flat(), ...l.outputShape].some((d) => d === null)) {
        refusedHere('its shapes are unknown, so it cannot be trained');
        continue;
      }
      if (!def.declares.train) {
        refusedHere(def.untrainable ?? `ConvLens cannot train ${l.className} layers yet`);
        continue;
      }
      const activation = l.config.activation;
      if (typeof activation === 'string' && activationSpec(activation) === undefined) refuse(`${who}: activation='${activation}' is not trainable yet`, where);
      const first = !owners.has(l.layerId);
      owners.add(l.layerId);
      // PyTorch names weights as its state_dict does (`layer1.0.conv1.weight`), Keras `conv2d/kernel`.
      const owner = torch ? (l.module ?? l.name) : l.name;
      const weights: PlanWeight[] = first
        ? l.weights.map((w) => ({
            name: torch ? `${owner}.${w.name}` : `${l.name}/${w.name}`,
            shape: w.shape as number[],
            trainable: w.trainable,
            initializer: w.init ?? initializerOf(l, w.name, notes, where.line),
            ...(w.fanIn !== undefined ? { fanIn: w.fanIn } : {}),
          }))
        : [];
      if (first && weights.some((w) => layers.some((x) => x.weights.some((y) => y.name === w.name)))) {
        refuse(`${who}: another layer of the model (or of a model nested in it) is also named '${l.name}'; ConvLens names weights after layers, so they must be unique`, where);
      }
      const inputShapes = l.inputShapes as number[][];
      const planned: PlanLayer = {
        name: owner,
        node: torch ? torchNode(l) : l.nodeIndex === 0 ? l.name : `${l.name}[${l.nodeIndex}]`,
        className: def.name,
        ...where,
        config: l.config,
        inputs,
        inputShapes,
        input: inputShapes[0],
        output: l.outputShape as number[],
        weights,
      };
      const train = def.bind(l.config).train;
      const frozen = l.weights.filter((w) => !w.trainable).map((w) => w.name);
      const node = { name: l.name, inputs: inputShapes, output: planned.output, w: {}, seed: 0, nchwc: 0, inputLayouts: inputShapes.map(() => 'nchw' as const), frozen };
      const why = train?.refuse(node);
      if (why) refuse(`${who}: ${why}`, where);
      const note = train?.note(node);
      if (note) notes.push(`line ${where.line}: ${who}: ${note}`);
      rowPlan.set(l.index, layers.length);
      layers.push(planned);
    }
    const outName = report.outputs[0]?.name;
    const outRow = [...report.layers].reverse().find((l) => l.name === outName) ?? report.layers[report.layers.length - 1];
    return outRow ? (rowPlan.get(outRow.index) ?? -2) : -2;
  };
  addRows(model, [-1], 0);
  const last = rows[rows.length - 1];
  const outputShape = (model.outputShape ?? []) as number[];
  if (last && model.outputShape && outputShape.length !== 1) {
    refuse(`the model's output is (None, ${outputShape.join(', ')}): ConvLens trains classifiers whose output is one vector per sample (add Flatten() and Dense(classes))`, at(last.span.start));
  }

  // Loss: the override, the file's, or what the model's end implies.
  const compileAt = model.compile ? at(model.compile.span.start) : modelAt;
  const lossWords = (): string => lossesFor(framework).map((d) => d.name).join(', ');
  let loss: LossName | undefined;
  const lossText = overrides.loss ?? model.compile?.loss;
  if (lossText !== undefined) {
    loss = lossName(lossText, framework);
    if (!loss) refuse(`loss '${lossText}' is not supported for training ${torch ? 'PyTorch models ' : ''}yet (use one of ${lossWords()})`, compileAt);
  } else if (torch) {
    loss = impliedLoss(framework, finalActivation(model));
    notes.push(`the file shows no loss ConvLens can read (criterion = nn.CrossEntropyLoss(), F.nll_loss(output, target)); using ${loss} (pass --loss to choose)`);
  } else {
    loss = impliedLoss(framework, finalActivation(model));
    notes.push(
      model.compile
        ? `cannot read the loss of compile() at line ${compileAt.line}; using ${loss} (pass --loss to choose)`
        : `the file does not call compile(); using ${loss} (pass --loss to choose)`,
    );
  }
  // The loss's own arguments, when the loss trained is the one the file made.
  let lossOptions: LossOptions | undefined;
  const fileLoss = model.compile?.loss;
  const lossArgs = model.compile?.lossArgs;
  if (loss && lossArgs && fileLoss !== undefined && lossName(fileLoss, framework) === loss) {
    const r = readLossOptions(loss, lossArgs.keywords, lossArgs.positional, notes, fileLoss);
    if ('error' in r) refuse(r.error, compileAt);
    else if (describeLossOptions(r.options)) {
      lossOptions = r.options;
      const end = finalActivation(model);
      if (r.options.fromLogits && (end === 'softmax' || end === 'sigmoid')) {
        notes.push(`line ${compileAt.line}: ${fileLoss}(from_logits=True), but the model ends in a ${end}: its probabilities are taken as logits, as Keras does (Keras warns about this too; remove from_logits or the ${end})`);
      }
    }
  }
  const units = outputShape[0] ?? 0;
  if (loss && lossDef(loss).perClass && units < 2 && outputShape.length === 1) {
    refuse(`${loss} needs one output per class, but the model has ${units} output${torch ? '' : ' (use binary_crossentropy with one sigmoid output)'}`, compileAt);
  }

  // Optimizer: the override (with the file's arguments when it names the same optimizer), else the file's.
  let optimizer: OptimizerConfig | undefined;
  const fileOpt = model.compile?.optimizer;
  const optWords = (): string => optimizerNamesFor(framework).join(', ');
  if (overrides.optimizer !== undefined) {
    const name = optimizerName(overrides.optimizer, framework);
    if (!name) refuse(`optimizer '${overrides.optimizer}' is not supported${torch ? ' for PyTorch models' : ''} (use one of ${optWords()})`, compileAt);
    else if (fileOpt && optimizerName(fileOpt.name, framework) === name) {
      const r = readOptimizer(fileOpt, notes, framework);
      optimizer = 'error' in r ? defaultOptimizer(name, framework) : r.config;
    } else optimizer = defaultOptimizer(name, framework);
  } else if (fileOpt) {
    const r = readOptimizer(fileOpt, notes, framework);
    if ('error' in r) refuse(r.error, at(fileOpt.span.start));
    else optimizer = r.config;
  } else if (torch) {
    optimizer = defaultOptimizer(frameworkDefaultOptimizer(framework), framework);
    notes.push(`the file creates no torch.optim optimizer ConvLens can read; using ${describeOptimizer(optimizer)} (pass --optimizer to choose)`);
  } else {
    optimizer = defaultOptimizer(frameworkDefaultOptimizer(framework));
    notes.push('the file does not call compile(); using RMSprop, Keras’ default');
  }
  if (optimizer && overrides.learningRate !== undefined) optimizer = { ...optimizer, learningRate: overrides.learningRate };

  const fit = model.fit;
  const batchSize = overrides.batchSize ?? fit?.batchSize ?? 32;
  const epochs = overrides.epochs ?? fit?.epochs ?? 1;
  const fitPlan = planFit(fit, model.compile, {
    lineOf: (offset) => at(offset).line,
    learningRate: optimizer?.learningRate ?? 0,
    validationOverride: overrides.validationSplit !== undefined,
    refuse: (message, offset) => refuse(message, at(offset)),
  });
  const scheduler = model.compile?.scheduler;
  if (scheduler && optimizer) {
    // A torch.optim.lr_scheduler stepped after each epoch: the registry gives every epoch's rate.
    const line = at(scheduler.span.start).line;
    const r = schedulerRates(scheduler, optimizer.learningRate, overrides.epochs ?? model.fit?.epochs ?? 1);
    if ('error' in r) refuse(r.error, at(scheduler.span.start));
    else {
      fitPlan.callbacks.push({ kind: 'LearningRateScheduler', values: r.values, line });
      fitPlan.honoured.push(`${scheduler.name} (line ${line}): ${r.description}`);
    }
  }
  notes.push(...fitPlan.honoured, ...fitPlan.ignored);
  const inputNormalization = torch && model.compile?.normalize ? readNormalization(model.compile.normalize, input as number[], (m) => refuse(m, at(model.compile!.normalize!.span.start)), notes, at(model.compile.normalize.span.start).line) : undefined;
  let validationSplit = overrides.validationSplit ?? fit?.validationSplit;
  if (validationSplit === undefined) validationSplit = fit?.hasValidationData && !fitPlan.validation ? 0.1 : 0;
  // As in Keras, validation_data wins over validation_split.
  if (fitPlan.validation) validationSplit = 0;
  if (!Number.isInteger(batchSize) || batchSize < 1) refuse(`batch size must be a positive integer, got ${batchSize}`, fit ? at(fit.span.start) : modelAt);
  if (!Number.isInteger(epochs) || epochs < 1) refuse(`epochs must be a positive integer, got ${epochs}`, fit ? at(fit.span.start) : modelAt);
  if (!(validationSplit >= 0 && validationSplit < 1)) refuse(`validation split must be in [0, 1), got ${validationSplit}`, fit ? at(fit.span.start) : modelAt);

  if (problems.length > 0 || !loss || !optimizer) return { problems, notes };
  return {
    plan: {
      model: model.name,
      ...(torch ? { framework } : {}),
      inputShape: input as number[],
      outputShape,
      layers,
      loss,
      ...(lossOptions ? { lossOptions } : {}),
      optimizer,
      batchSize,
      epochs,
      validationSplit,
      shuffle: fit?.shuffle ?? true,
      macs: model.macs ?? 0,
      fit: fitPlan,
      ...(inputNormalization ? { inputNormalization } : {}),
    },
    problems,
    notes,
  };
}

/**
 * `transforms.Normalize(mean, std)` as one value per input channel (a single value serves every
 * channel, as PyTorch broadcasts it), or a refusal in PyTorch's terms.
 */
function readNormalization(n: { mean: number[]; std: number[] }, input: number[], refuse: (message: string) => void, notes: string[], line: number): { mean: number[]; std: number[] } | undefined {
  const channels = input.length >= 2 ? input[0] : 1;
  const fits = (v: number[]) => v.length === channels || v.length === 1;
  if (!fits(n.mean) || !fits(n.std)) {
    refuse(`transforms.Normalize has ${n.mean.length} mean and ${n.std.length} std values for a ${channels}-channel input (PyTorch takes one, or one per channel)`);
    return undefined;
  }
  const per = (v: number[]) => (v.length === channels ? v : new Array<number>(channels).fill(v[0]));
  const mean = per(n.mean);
  const std = per(n.std);
  if (std.some((s) => s === 0 || !Number.isFinite(s)) || mean.some((m) => !Number.isFinite(m))) {
    refuse('transforms.Normalize needs finite means and non-zero standard deviations (PyTorch raises ValueError for a std of 0)');
    return undefined;
  }
  notes.push(`transforms.Normalize (line ${line}): every input is (x − mean) / std per channel, mean (${n.mean.join(', ')}), std (${n.std.join(', ')}), after ToTensor's ÷ 255`);
  return { mean, std };
}

/** The activation the model ends with (`activation=` of the last layer, or a final activation layer: Softmax, PyTorch's log_softmax). */
function finalActivation(model: ModelReport): string | undefined {
  const last = model.layers[model.layers.length - 1];
  if (!last) return undefined;
  if (typeof last.config.activation === 'string') return last.config.activation;
  const def = findLayer(last.typeName ?? last.className, last.framework);
  const sample = (last.inputShapes[0] ?? []).map((d) => d ?? 1);
  const node = { name: last.name, inputs: [sample], output: sample, w: {}, seed: 0, nchwc: 0, inputLayouts: ['nchw' as const] };
  try {
    return def?.bind(last.config).train?.outputActivation(node)?.kind;
  } catch {
    return undefined;
  }
}

/** Every weight of a plan, in layer order (a shared layer's once). */
export function planWeights(plan: TrainingPlan): PlanWeight[] {
  return plan.layers.flatMap((l) => l.weights);
}

/** The weights a plan layer reads, by Keras weight name (`kernel`), shared layers included. */
export function layerWeights(plan: TrainingPlan, l: PlanLayer): Record<string, string> {
  const owner = plan.layers.find((x) => x.name === l.name && x.weights.length > 0) ?? l;
  const w: Record<string, string> = {};
  for (const pw of owner.weights) w[pw.name.slice(owner.name.length + 1)] = pw.name;
  return w;
}

/** A short identity of a plan's weights (names and shapes): checkpoints and exports must match it. */
export function planFingerprint(plan: TrainingPlan): string {
  return planWeights(plan)
    .map((w) => `${w.name}:${w.shape.join('x')}`)
    .join(',');
}

/**
 * Why saved weights (name → shape) do not fit a plan: the first weight missing or shaped
 * differently, in words; undefined when every weight of the plan is there with its shape.
 */
export function weightMismatch(plan: TrainingPlan, saved: ReadonlyMap<string, { shape: readonly number[] }>): string | undefined {
  for (const w of planWeights(plan)) {
    const s = saved.get(w.name);
    if (!s) return `it has no '${w.name}'`;
    if (s.shape.join('×') !== w.shape.join('×')) return `'${w.name}' is ${s.shape.join('×')} there but ${w.shape.join('×')} in the model`;
  }
  return undefined;
}
