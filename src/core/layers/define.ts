import type { ActivationSpec } from '../onnx/activations';
import type { GraphBuilder } from '../onnx/graphBuilder';
import type { ActLayout } from '../onnx/nchwc';
import type { Dim } from '../shape';
import type { ArgSpecs, ArgValues, DataFormat } from './args';

/** The framework whose semantics a layer type follows (names, argument order, layouts). */
export type FrameworkName = 'keras' | 'pytorch';

/**
 * A weight tensor of a layer, in its framework's layout: Keras' kernel `(kh, kw, c_in, filters)`,
 * PyTorch's weight `(out_channels, in_channels / groups, kh, kw)`.
 */
export interface WeightSpec {
  name: string;
  shape: Dim[];
  trainable: boolean;
  /**
   * A PyTorch buffer (BatchNorm's `running_mean`, `running_var`, `num_batches_tracked`): state of
   * the module, never a parameter, so it counts in no parameter total.
   */
  buffer?: boolean;
  /**
   * The initialiser the layer's framework gives this weight (an initialiser registry name:
   * PyTorch's `torch_kaiming_uniform` for a convolution's weight); absent: Keras' rule by weight name.
   */
  init?: string;
  /** The fan-in the initialiser draws with, when not the weight's own (a PyTorch bias takes its weight's). */
  fanIn?: number;
}

/**
 * How a layer changes the receptive field along each spatial axis: a window of `kernel`
 * taps spaced `dilation` apart moved by `stride`; `upsample` divides the step (transposed
 * convolution, UpSampling); `global` sees the whole input; `unknown` moves axes around (Permute),
 * after which a per-axis receptive field no longer means anything.
 */
export type ReceptiveFieldStep =
  | { kind: 'window'; kernel: number[]; stride: number[]; dilation?: number[] }
  | { kind: 'upsample'; factor: number[]; kernel?: number[] }
  | { kind: 'global' }
  | { kind: 'identity' }
  | { kind: 'unknown' };

/** A suggested source change attached to a shape problem; analysis turns it into text edits. */
export type FixHint =
  | { kind: 'setArg'; arg: string; code: string; title: string }
  | { kind: 'insertLayerBefore'; layer: string; title: string };

/** Thrown by a layer's rules when the input or arguments make the layer impossible. */
export class ShapeError extends Error {
  constructor(
    message: string,
    readonly arg?: string,
    readonly fixes: FixHint[] = [],
    readonly code = 'shape',
    /** The input's shape is half of the conflict: the message is completed with where the input came from. */
    readonly blameInput = false,
  ) {
    super(message);
  }
}

/** Passed to a layer's rules so they can warn without failing. */
export interface LayerContext {
  warn(message: string, opts?: { arg?: string; code?: string; fixes?: FixHint[] }): void;
  /** The input's batch size when the file fixes it (PyTorch's `torch.randn(1, 3, 32, 32)`), for messages. */
  readonly batch?: Dim;
}

export type LayerCategory = 'input' | 'convolution' | 'pooling' | 'core' | 'normalization' | 'activation' | 'regularization' | 'reshaping' | 'preprocessing';

/** The declarative definition of one Keras layer type; every feature reads it. */
export interface LayerDef<A extends ArgSpecs = ArgSpecs> {
  /** The class name, e.g. Keras' `Conv2D` or PyTorch's `Conv2d`. */
  readonly name: string;
  /** Whose layer it is (default Keras); a name is looked up only among its framework's layers. */
  readonly framework?: FrameworkName;
  /**
   * The rules see and return whole shapes, batch axis first, instead of one sample's: PyTorch's
   * `view`, `flatten(0)` or `permute` can move or merge the batch axis.
   */
  readonly withBatch?: boolean;
  /** Other class names that mean the same layer (`Convolution2D`). */
  readonly aliases?: readonly string[];
  readonly category: LayerCategory;
  /** One line for hovers and docs. */
  readonly doc: string;
  /** Arguments in Keras signature order (the order positional arguments bind in). */
  readonly args: A;
  /** Keyword arguments Keras accepts that do not change shapes or counts (initialisers, …). */
  readonly extraArgs?: readonly string[];
  /** Rank of one sample the layer accepts (3 for Conv2D: height, width, channels). */
  readonly inputRank: number | { min: number } | 'any';
  /** Human words for the expected input, used when the rank is wrong. */
  readonly inputWords?: string;
  /** The layer declares the model input (InputLayer); it is not a row of the summary. */
  readonly isInput?: boolean;
  outputShape(input: Dim[], a: ArgValues<A>, ctx: LayerContext): Dim[];
  weights?(input: Dim[], a: ArgValues<A>): WeightSpec[];
  /** The parameter count written out with its numbers, e.g. `10 × (5·5·1) + 10 = 260`. */
  formula?(input: Dim[], a: ArgValues<A>, total: number): string;
  /** Multiply-accumulate operations for one sample. */
  macs?(input: Dim[], output: Dim[], a: ArgValues<A>): number | null;
  receptiveField?(a: ArgValues<A>, input: Dim[]): ReceptiveFieldStep;
  /** ONNX training emitters; a layer without them is refused by the trainer, by name and line. */
  train?: LayerTrain<NoInfer<A>>;
  /** Why a layer without emitters cannot be trained, said with the refusal (otherwise it is refused in general words). */
  readonly untrainable?: string;
}

/**
 * One layer instance as the training-graph compiler hands it to the layer's emitters. Tensors
 * between layers are in ONNX layout (N, C, spatial…; see `core/onnx/layout.ts`), weights in
 * Keras layout (Conv2D kernel (kh, kw, c_in, filters), Dense kernel (in, units)).
 */
export interface TrainLayer<A extends ArgSpecs = ArgSpecs> {
  /** Keras' name for the layer (`conv2d_1`); emitters use it to name tensors. */
  readonly name: string;
  readonly a: ArgValues<A>;
  /** Per-sample input and output shapes in Keras order (channels_last), every size known. */
  readonly input: readonly number[];
  readonly output: readonly number[];
  /** Graph tensors holding the layer's weights, by Keras weight name (`kernel`, `bias`, `gamma`…). */
  readonly w: Readonly<Record<string, string>>;
  /** Seed for the layer's random ops (Dropout), derived from the training seed and the layer. */
  readonly seed: number;
  /**
   * onnxruntime's NCHWc block size when the graph may use NCHWc kernels (`core/onnx/nchwc.ts`),
   * else 0. Only training and evaluation graphs set it; exported models use standard ops.
   */
  readonly nchwc: number;
  /** Layout of the forward input (NCHWc only for layers whose {@link LayerTrain.acceptsNchwc} said yes). */
  readonly inputLayout: ActLayout;
  /** Names of the layer's weights that are not trained (frozen, or statistics), as the plan knows them; empty in the compiler. */
  readonly frozen: readonly string[];
  /**
   * What the forward pass must fold into its output, set by the compiler only where
   * {@link LayerTrain.acceptsEpilogue} said yes: the output becomes relu?(y + sum).
   */
  readonly epilogue?: Epilogue;
}

/**
 * Work the compiler moves into a layer's last op from the layers after it: a residual `Add`
 * of a tensor computed earlier (same shape and layout as the output) and a ReLU.
 */
export interface Epilogue {
  sum?: string;
  relu: boolean;
}

/** What a forward emitter produced. */
export interface ForwardResult {
  /** The output (before the `activation=` argument, which the compiler applies). */
  y: string;
  /** Tensors the backward emitter needs, by any name the layer chooses. */
  saved?: Record<string, string | undefined>;
  /** Next values of non-trainable weights (BatchNormalization's moving statistics), training mode only. */
  updates?: Record<string, string>;
  /** Layout of `y` (default 'nchw'); 'nchwc' only when `TrainLayer.nchwc` is set. */
  layout?: ActLayout;
  /** `y` already has the layer's `activation=` applied (fused into its last op). */
  activated?: boolean;
}

/** What a backward emitter receives. */
export interface BackwardArgs {
  /** The forward input. */
  x: string;
  fwd: ForwardResult;
  /** Gradient of the loss with respect to the forward output `fwd.y`, in the layout of `fwd.y`. */
  dy: string;
  /** False for the first layer: no gradient with respect to the data. */
  needDx: boolean;
  /** The input `x` is the output of a plain ReLU, which the layer may fold into its own backward pass. */
  inputIsRelu: boolean;
}

/** What a backward emitter produced. */
export interface BackwardResult {
  /** In the layout of the forward input (`TrainLayer.inputLayout`). */
  dx?: string;
  /** Gradients of the trainable weights, by Keras weight name, in Keras layout. */
  grads: Record<string, string>;
  /** `dx` is already the gradient with respect to the ReLU's input (see {@link BackwardArgs.inputIsRelu}). */
  throughRelu?: boolean;
}

/** Training emitters of a layer: forward (training or inference mode) and backward, using `core/onnx/grad.ts` recipes. */
export interface LayerTrain<A extends ArgSpecs = ArgSpecs> {
  /** Why these arguments cannot be trained yet (said to the user with the layer's name and line). */
  refuse?(l: TrainLayer<A>): string | undefined;
  /**
   * Where training deliberately differs from Keras (an augmentation passed through unchanged):
   * the trainer says it, with the layer's name and line, before it starts.
   */
  note?(l: TrainLayer<A>): string | undefined;
  /** The output is a plain ReLU's (max(x, 0)), so the next layer may fold its backward pass. */
  reluOutput?(l: TrainLayer<A>): boolean;
  /** The layer takes an NCHWc input as it is (else the compiler converts it to NCHW first). */
  acceptsNchwc?(l: TrainLayer<A>): boolean;
  /**
   * The layer is this activation of its input (a Softmax layer, PyTorch's `F.log_softmax`): a loss
   * that fuses with it may compute from the layer's input when the layer ends the model.
   */
  outputActivation?(l: TrainLayer<A>): ActivationSpec | undefined;
  /** The forward pass can apply an {@link Epilogue} in its last op (in the input layout `l.inputLayout`). */
  acceptsEpilogue?(l: TrainLayer<A>): boolean;
  /** The layer is max(x, 0) of its input and nothing else (the compiler may fold it into the producer's epilogue). */
  isRelu?(l: TrainLayer<A>): boolean;
  forward(g: GraphBuilder, l: TrainLayer<A>, x: string, mode: 'train' | 'infer'): ForwardResult;
  backward(g: GraphBuilder, l: TrainLayer<A>, b: BackwardArgs): BackwardResult;
}

// ---------------------------------------------------------------------------------------------
// Merge layers: several inputs (Add, Concatenate, …).

/** The declarative definition of a layer that takes several inputs (`Add()([a, b])`). */
export interface MergeLayerDef<A extends ArgSpecs = ArgSpecs> {
  readonly name: string;
  readonly framework?: FrameworkName;
  /** The rules see whole shapes, batch axis first (PyTorch's `torch.cat(xs, dim=0)`). */
  readonly withBatch?: boolean;
  /** The per-input rank the layer accepts (merge layers accept any rank by default). */
  readonly inputRank?: number | { min: number } | 'any';
  readonly aliases?: readonly string[];
  readonly category: LayerCategory;
  readonly doc: string;
  readonly args: A;
  readonly extraArgs?: readonly string[];
  /** Fewest inputs the layer accepts (Keras: 1 for most merges, exactly 2 for Subtract and Dot). */
  readonly minInputs: number;
  readonly maxInputs?: number;
  /** Output shape of one sample from every input's sample shape; throws {@link ShapeError}. */
  outputShape(inputs: Dim[][], a: ArgValues<A>, ctx: LayerContext): Dim[];
  /** Weights of a layer of several inputs (PyTorch's Bilinear). */
  weights?(inputs: Dim[][], a: ArgValues<A>): WeightSpec[];
  formula?(inputs: Dim[][], a: ArgValues<A>, total: number): string;
  macs?(inputs: Dim[][], output: Dim[], a: ArgValues<A>): number | null;
  train?: MergeTrain<NoInfer<A>>;
  readonly untrainable?: string;
}

/** One merge-layer instance as the compiler hands it to the emitters (shapes per input). */
export interface MergeTrainLayer<A extends ArgSpecs = ArgSpecs> {
  readonly name: string;
  readonly a: ArgValues<A>;
  readonly inputs: readonly (readonly number[])[];
  readonly output: readonly number[];
  readonly seed: number;
  /** onnxruntime's NCHWc block size, or 0 (see {@link TrainLayer.nchwc}). */
  readonly nchwc: number;
  /** Layout of each forward input (NCHWc only where {@link MergeTrain.acceptsNchwc} said yes). */
  readonly inputLayouts: readonly ActLayout[];
}

/** Training emitters of a merge layer: every input gets its own gradient. */
export interface MergeTrain<A extends ArgSpecs = ArgSpecs> {
  refuse?(l: MergeTrainLayer<A>): string | undefined;
  /** The layer takes its NCHWc inputs as they are (else the compiler converts every input to NCHW first). */
  acceptsNchwc?(l: MergeTrainLayer<A>): boolean;
  forward(g: GraphBuilder, l: MergeTrainLayer<A>, xs: string[], mode: 'train' | 'infer'): ForwardResult;
  backward(g: GraphBuilder, l: MergeTrainLayer<A>, b: { xs: string[]; fwd: ForwardResult; dy: string; needDx: boolean[] }): { dxs: (string | undefined)[] };
}

// ---------------------------------------------------------------------------------------------
// The registry's view: a layer type, and a layer type bound to one call's arguments.

/** What every feature may ask of a layer type, whatever its arity. */
export interface LayerType {
  readonly name: string;
  readonly framework: FrameworkName;
  /** The rules see whole shapes, batch axis first (see {@link LayerDef.withBatch}). */
  readonly withBatch: boolean;
  readonly aliases: readonly string[];
  readonly category: LayerCategory;
  readonly doc: string;
  /** Arguments in Keras signature order. */
  readonly args: ArgSpecs;
  readonly extraArgs: readonly string[];
  /** `one`: a single input tensor of `inputRank`; `many`: a list of inputs (merge layers). */
  readonly arity: 'one' | 'many';
  readonly inputRank: number | { min: number } | 'any';
  readonly inputWords?: string;
  readonly minInputs: number;
  readonly maxInputs?: number;
  readonly isInput: boolean;
  /** Which rules the definition declares (the registry-wide tests check them). */
  readonly declares: { weights: boolean; formula: boolean; macs: boolean; receptiveField: boolean; train: boolean };
  /** Why a layer type without emitters cannot be trained (said with the refusal). */
  readonly untrainable?: string;
  /**
   * The layer with its arguments read (values as the arguments' specs parse them, Keras defaults
   * filled in). The one place argument values meet the typed rules.
   */
  bind(config: Readonly<Record<string, unknown>>): BoundLayer;
}

/** A layer type with its arguments: the rules every feature calls, for every input shape. */
export interface BoundLayer {
  readonly type: LayerType;
  readonly config: Readonly<Record<string, unknown>>;
  /** Per-sample output shape from the per-sample input shapes; throws {@link ShapeError}. */
  outputShape(inputs: Dim[][], ctx: LayerContext): Dim[];
  weights(inputs: Dim[][]): WeightSpec[];
  formula(inputs: Dim[][], total: number): string | undefined;
  macs(inputs: Dim[][], output: Dim[]): number | null;
  receptiveField(inputs: Dim[][]): ReceptiveFieldStep;
  /** Training emitters; absent when the layer type cannot be trained. */
  readonly train?: BoundTrain;
}

/** A node of the training graph as the compiler sees it: shapes of every input, Keras layout. */
export interface TrainNode {
  readonly name: string;
  readonly inputs: readonly (readonly number[])[];
  readonly output: readonly number[];
  /** Graph tensors holding the layer's weights, by Keras weight name. */
  readonly w: Readonly<Record<string, string>>;
  readonly seed: number;
  /** onnxruntime's NCHWc block size, 0 for standard ops only (see {@link TrainLayer.nchwc}). */
  readonly nchwc: number;
  /** Layout of each input as the forward pass receives it. */
  readonly inputLayouts: readonly ActLayout[];
  /** The layer's weights that are not trained (see {@link TrainLayer.frozen}). */
  readonly frozen?: readonly string[];
  /** See {@link TrainLayer.epilogue}. */
  readonly epilogue?: Epilogue;
}

/** Backward of one node: the gradient of every input (undefined where not needed). */
export interface NodeBackwardResult {
  dxs: (string | undefined)[];
  grads: Record<string, string>;
  throughRelu?: boolean;
}

/** Training emitters bound to a layer's arguments, for one or several inputs. */
export interface BoundTrain {
  refuse(n: TrainNode): string | undefined;
  /** Where training deliberately differs from Keras (an augmentation passed through), said before training. */
  note(n: TrainNode): string | undefined;
  reluOutput(n: TrainNode): boolean;
  /** The node takes NCHWc inputs as they are (else the compiler converts them to NCHW first). */
  acceptsNchwc(n: TrainNode): boolean;
  /** The activation of its input the node computes, if it is one (see {@link LayerTrain.outputActivation}). */
  outputActivation(n: TrainNode): ActivationSpec | undefined;
  /** See {@link LayerTrain.acceptsEpilogue}. */
  acceptsEpilogue(n: TrainNode): boolean;
  /** See {@link LayerTrain.isRelu}. */
  isRelu(n: TrainNode): boolean;
  forward(g: GraphBuilder, n: TrainNode, xs: string[], mode: 'train' | 'infer'): ForwardResult;
  backward(g: GraphBuilder, n: TrainNode, b: { xs: string[]; fwd: ForwardResult; dy: string; needDx: boolean[]; inputIsRelu: boolean }): NodeBackwardResult;
}

function commonType(def: { name: string; framework?: FrameworkName; withBatch?: boolean; aliases?: readonly string[]; category: LayerCategory; doc: string; args: ArgSpecs; extraArgs?: readonly string[] }) {
  return {
    name: def.name,
    framework: def.framework ?? 'keras',
    withBatch: def.withBatch ?? false,
    aliases: def.aliases ?? [],
    category: def.category,
    doc: def.doc,
    args: def.args,
    extraArgs: def.extraArgs ?? [],
  };
}

/**
 * Declares a single-input layer. The rules are typed by the argument specs; binding is where
 * the parsed arguments become those typed values, once per layer.
 */
export function defineLayer<A extends ArgSpecs>(def: LayerDef<A>): LayerType {
  const type: LayerType = {
    ...commonType(def),
    arity: 'one',
    inputRank: def.inputRank,
    inputWords: def.inputWords,
    minInputs: 1,
    maxInputs: 1,
    isInput: def.isInput ?? false,
    declares: { weights: !!def.weights, formula: !!def.formula, macs: !!def.macs, receptiveField: !!def.receptiveField, train: !!def.train },
    untrainable: def.untrainable,
    bind(config) {
      // The config was produced by parsing exactly these specs (see `model/bind.ts`).
      const a = config as ArgValues<A>;
      const t = def.train;
      const layerOf = (n: TrainNode): TrainLayer<A> => ({ name: n.name, a, input: n.inputs[0], output: n.output, w: n.w, seed: n.seed, nchwc: n.nchwc, inputLayout: n.inputLayouts[0] ?? 'nchw', frozen: n.frozen ?? [], epilogue: n.epilogue });
      return {
        type,
        config,
        outputShape: (inputs, ctx) => def.outputShape(inputs[0], a, ctx),
        weights: (inputs) => (def.weights ? def.weights(inputs[0], a) : []),
        formula: (inputs, total) => def.formula?.(inputs[0], a, total),
        macs: (inputs, output) => (def.macs ? def.macs(inputs[0], output, a) : 0),
        receptiveField: (inputs) => (def.receptiveField ? def.receptiveField(a, inputs[0]) : { kind: 'identity' }),
        train: t && {
          refuse: (n) => t.refuse?.(layerOf(n)),
          note: (n) => t.note?.(layerOf(n)),
          reluOutput: (n) => t.reluOutput?.(layerOf(n)) ?? false,
          acceptsNchwc: (n) => n.nchwc > 0 && (t.acceptsNchwc?.(layerOf(n)) ?? false),
          outputActivation: (n) => t.outputActivation?.(layerOf(n)),
          acceptsEpilogue: (n) => t.acceptsEpilogue?.(layerOf(n)) ?? false,
          isRelu: (n) => t.isRelu?.(layerOf(n)) ?? false,
          forward: (g, n, xs, mode) => t.forward(g, layerOf(n), xs[0], mode),
          backward: (g, n, b) => {
            const r = t.backward(g, layerOf(n), { x: b.xs[0], fwd: b.fwd, dy: b.dy, needDx: b.needDx[0], inputIsRelu: b.inputIsRelu });
            return { dxs: [r.dx], grads: r.grads, throughRelu: r.throughRelu };
          },
        },
      };
    },
  };
  return type;
}

/** Declares a layer of several inputs (merge layers). */
export function defineMergeLayer<A extends ArgSpecs>(def: MergeLayerDef<A>): LayerType {
  const type: LayerType = {
    ...commonType(def),
    arity: 'many',
    inputRank: def.inputRank ?? { min: 1 },
    minInputs: def.minInputs,
    maxInputs: def.maxInputs,
    isInput: false,
    declares: { weights: !!def.weights, formula: !!def.formula, macs: !!def.macs, receptiveField: false, train: !!def.train },
    untrainable: def.untrainable,
    bind(config) {
      const a = config as ArgValues<A>;
      const t = def.train;
      const layerOf = (n: TrainNode): MergeTrainLayer<A> => ({ name: n.name, a, inputs: n.inputs, output: n.output, seed: n.seed, nchwc: n.nchwc, inputLayouts: n.inputLayouts });
      return {
        type,
        config,
        outputShape: (inputs, ctx) => def.outputShape(inputs, a, ctx),
        weights: (inputs) => (def.weights ? def.weights(inputs, a) : []),
        formula: (inputs, total) => def.formula?.(inputs, a, total),
        macs: (inputs, output) => (def.macs ? def.macs(inputs, output, a) : 0),
        receptiveField: () => ({ kind: 'identity' }),
        train: t && {
          refuse: (n) => t.refuse?.(layerOf(n)),
          note: () => undefined,
          reluOutput: () => false,
          acceptsNchwc: (n) => n.nchwc > 0 && (t.acceptsNchwc?.(layerOf(n)) ?? false),
          outputActivation: () => undefined,
          acceptsEpilogue: () => false,
          isRelu: () => false,
          forward: (g, n, xs, mode) => t.forward(g, layerOf(n), xs, mode),
          backward: (g, n, b) => ({ dxs: t.backward(g, layerOf(n), b).dxs, grads: {} }),
        },
      };
    },
  };
  return type;
}

const COUNTS = new Intl.NumberFormat('en-US');

/** 38390 → `38,390`, with one formatter for all (`toLocaleString` builds one per call, which a 200-layer file feels). */
export const countText = (n: number): string => COUNTS.format(n);

/** `a·b·c` for formulas. */
export const dotJoin = (xs: (number | null)[]): string => xs.map((x) => (x === null ? '?' : String(x))).join('·');

/**
 * Explains an empty or negative convolution/pooling output along one axis, in the words a
 * student uses: `(4 − 5) / 1 + 1 = 0`.
 */
export function explainEmptyAxis(input: number, kernel: number, stride: number, out: number): string {
  const ratio = stride === 1 ? `(${input} − ${kernel}) / 1` : `⌊(${input} − ${kernel}) / ${stride}⌋`;
  return `${ratio} + 1 = ${out}`;
}

/**
 * Fails with a student-readable message when a windowed layer's output would be empty (its
 * kernel or pool is larger than its input), offering the largest kernel that fits, a smaller
 * dilation when the dilation is what makes it too large, and `padding='same'`. With
 * `padding='same'` the output is never empty, but a kernel larger than the input then sees
 * mostly zeros: that is a warning (`ctx`).
 */
export function checkWindowOutput(
  layer: string,
  spatialIn: Dim[],
  kernel: number[],
  stride: number[],
  dilation: number[],
  out: Dim[],
  kernelArg: string,
  opts: { padding?: string; ctx?: LayerContext } = {},
): void {
  const effective = kernel.map((kk, i) => (kk - 1) * (dilation[i] ?? 1) + 1);
  const pool = kernelArg === 'pool_size';
  const what = pool ? 'pool' : effective.some((e, i) => e !== kernel[i]) ? 'dilated kernel' : 'kernel';
  const input = spatialIn.map((d) => (d === null ? '?' : d)).join('×');
  if (opts.padding === 'same' && opts.ctx && effective.some((k, i) => spatialIn[i] !== null && k > (spatialIn[i] as number))) {
    opts.ctx.warn(
      `${layer}'s ${effective.join('×')} ${what} is larger than its ${input} input: padding='same' keeps the size, but most of the ${what} then covers padding zeros`,
      { arg: kernelArg, code: 'kernel-larger-than-input', fixes: largestFit(kernel, dilation, spatialIn, kernelArg) },
    );
  }
  const bad = out.findIndex((d) => d !== null && d <= 0);
  if (bad < 0) return;
  const k = effective[bad];
  const n = spatialIn[bad] as number;
  const s = stride[bad];
  const positions = Math.floor((n - k) / s) + 1;
  const shown = positions < 0 ? `−${-positions}` : String(positions);
  const arithmetic = s === 1 ? `(${n} − ${k}) / 1 + 1 = ${shown}` : `⌊(${n} − ${k}) / ${s}⌋ + 1 = ${shown}`;
  const fixes = [...largestFit(kernel, dilation, spatialIn, kernelArg), { kind: 'setArg' as const, arg: 'padding', code: "'same'", title: "Use padding='same'" }];
  throw new ShapeError(
    `${layer}'s ${effective.join('×')} ${what} is larger than its ${input} input, so it has no output position: ${arithmetic}; use a ${pool ? 'pool' : 'kernel'} of at most ${spatialIn.map((d, i) => (d === null ? effective[i] : Math.min(d, effective[i]))).join('×')}${pool ? '' : ", or padding='same'"}`,
    kernelArg,
    fixes,
    'output-empty',
  );
}

/** The quick fixes for a window larger than its input: the largest kernel that fits, or a smaller dilation. */
function largestFit(kernel: number[], dilation: number[], spatialIn: Dim[], kernelArg: string): FixHint[] {
  const fixes: FixHint[] = [];
  const fits = kernel.map((kk, i) => {
    const n = spatialIn[i];
    const d = dilation[i] ?? 1;
    if (n === null) return kk;
    return Math.max(1, Math.min(kk, Math.floor((n - 1) / d) + 1));
  });
  if (fits.some((f, i) => f !== kernel[i])) {
    const code = fits.every((f) => f === fits[0]) ? String(fits[0]) : `(${fits.join(', ')})`;
    fixes.push({ kind: 'setArg', arg: kernelArg, code, title: `Use ${kernelArg}=${code}, the largest that fits` });
  }
  const dil = dilation.map((d, i) => {
    const n = spatialIn[i];
    if (n === null || d <= 1 || kernel[i] <= 1) return d;
    return Math.max(1, Math.min(d, Math.floor((n - 1) / (kernel[i] - 1))));
  });
  if (dil.some((d, i) => d !== (dilation[i] ?? 1)) && kernel.every((kk, i) => spatialIn[i] === null || kk <= (spatialIn[i] as number))) {
    const code = dil.every((d) => d === dil[0]) ? String(dil[0]) : `(${dil.join(', ')})`;
    fixes.push({ kind: 'setArg', arg: 'dilation_rate', code, title: `Use dilation_rate=${code}, the largest that fits` });
  }
  return fixes;
}

/** Keras' `axis` counts the batch axis: axis=-1 is the last, axis=1 the first per-sample axis. */
export function sampleAxis(name: string, axis: number, input: Dim[]): number {
  const i = axis < 0 ? input.length + axis : axis - 1;
  if (i < 0 || i >= input.length) {
    throw new ShapeError(`${name}: axis=${axis} does not exist for an input of rank ${input.length + 1} (with the batch axis)`, 'axis', [], 'axis');
  }
  return i;
}

