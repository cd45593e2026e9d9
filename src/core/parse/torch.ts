/**
 * What PyTorch code means: `nn.Module` subclasses whose `__init__` registers modules (attributes,
 * `nn.Sequential`, `ModuleList`, `ModuleDict`, `add_module`) and whose `forward` is traced on
 * symbolic tensors; leaf modules (`nn.Conv2d`, …) whose calls become graph nodes shape-checked by
 * the registry; functional operations (`F.relu`, `torch.cat`, `x.view(x.size(0), -1)`, `+`)
 * that become nodes too; eager tensors (`torch.randn(1, 3, 32, 32)`), torchvision datasets and
 * data loaders, `torchinfo.summary`, which give a model its input.
 *
 * A module made outside any other module's `__init__` is a model candidate; at the end, those
 * that no other module registered are the file's models. A model's forward pass is traced once
 * per input shape: every module call is recorded (`ModelBuild.moduleCalls`, what torchinfo's hooks
 * see) and the graph holds the leaf modules' and operations' nodes in execution order.
 */
import { TORCHVISION_MODELS, torchvisionModule } from '../applications/torchvision';
import { findLayer, layerNames, type LayerType, type WeightSpec } from '../layers/index';
import type { FieldState, LayerInstance, ModelBuild, ModuleCall, SymTensor } from '../model/graph';
import type { CallSite, Tracer } from '../model/trace';
import { product, type Dim } from '../shape';
import type { FrameworkSemantics, IndexItem } from './framework';
import type { Interpreter, Scope } from './interpreter';
import { reshapeArray } from './library';
import type { Expr, Span } from './pythonAst';
import { NONE, UNKNOWN, num, str, tuple, type ArgValue, type CallArgs, type ClassValue, type InputNormalization, type LossArgs, type ObjectValue, type OptimizerSpec, type Value } from './values';

type CallExpr = Extract<Expr, { t: 'call' }>;
type LayerValue = Extract<Value, { k: 'layer' }>;

/** Torch ids live apart from Keras' (both count from their own start; reports key rows by id). */
const ID_BASE = 1_000_000_000;

/** What kind of module an instance is. */
type ModuleKind =
  /** A registry layer (`nn.Conv2d`), or a class ConvLens does not analyse (opaque). */
  | 'leaf'
  | 'sequential'
  | 'list'
  | 'dict'
  /** A user `nn.Module` subclass (its own `forward`). */
  | 'user'
  /** A loss module (`nn.CrossEntropyLoss()`): no parameters, not part of a forward pass. */
  | 'loss';

/** A PyTorch module instance: its registered children (`_modules`), attributes and class. */
interface TorchModule {
  readonly layer: LayerInstance;
  kind: ModuleKind;
  /** `_modules` in registration order; a key set to None keeps its place. */
  readonly children: Map<string, LayerInstance | null>;
  /** Plain attributes (`self.in_planes = 64`, a Python list of modules PyTorch does not register). */
  readonly attrs: Map<string, Value>;
  /** The user class, for subclasses of `nn.Module`, containers or layers. */
  readonly cls?: ClassValue;
  readonly obj?: ObjectValue;
  /** The module that registered this one first. */
  parent?: LayerInstance;
  /** Where each child of a container built from an argument list is written (its hint goes there). */
  readonly itemSpans: Map<LayerInstance, Span>;
  /** A model candidate: made outside any module's `__init__`. */
  model?: ModelBuild;
  /** The class is a loss (for the trainer to come): `CrossEntropyLoss`, … */
  loss?: string;
  /** The loss's constructor arguments (`label_smoothing=0.1`), keyword-named. */
  lossArgs?: LossArgs;
}

/** The tracing of one model's forward pass. */
interface TraceFrame {
  model: ModelBuild;
  /** Qualified names and depths of the model's modules (`layer1.0.conv1`), as named_modules() gives them. */
  names: Map<LayerInstance, { name: string; depth: number }>;
  calls: ModuleCall[];
  stack: ModuleCall[];
}

/** Classes of torch.nn that build no layer of ConvLens' registry but are known. */
const CONTAINERS: Record<string, ModuleKind> = { Sequential: 'sequential', ModuleList: 'list', ModuleDict: 'dict' };
const LOSSES = new Set([
  'CrossEntropyLoss', 'NLLLoss', 'MSELoss', 'L1Loss', 'BCELoss', 'BCEWithLogitsLoss', 'SmoothL1Loss', 'HuberLoss', 'KLDivLoss',
  'CTCLoss', 'PoissonNLLLoss', 'GaussianNLLLoss', 'MarginRankingLoss', 'HingeEmbeddingLoss', 'MultiLabelMarginLoss',
  'SoftMarginLoss', 'MultiLabelSoftMarginLoss', 'CosineEmbeddingLoss', 'MultiMarginLoss', 'TripletMarginLoss', 'TripletMarginWithDistanceLoss',
]);
/** torch.nn.functional's losses: recorded for the trainer, their value a scalar. */
const FUNCTIONAL_LOSSES = new Set([
  'nll_loss', 'cross_entropy', 'mse_loss', 'l1_loss', 'binary_cross_entropy', 'binary_cross_entropy_with_logits', 'smooth_l1_loss', 'huber_loss', 'kl_div',
]);
/** torch.nn classes ConvLens recognises but does not analyse yet: reported once, shapes after them unknown. */
const NOT_YET = new Set([
  'LSTM', 'GRU', 'RNN', 'LSTMCell', 'GRUCell', 'RNNCell', 'MultiheadAttention', 'Transformer', 'TransformerEncoder', 'TransformerDecoder',
  'TransformerEncoderLayer', 'TransformerDecoderLayer', 'LazyLinear', 'LazyConv1d', 'LazyConv2d', 'LazyConv3d', 'LazyBatchNorm1d',
  'LazyBatchNorm2d', 'LazyBatchNorm3d', 'Fold', 'Unfold', 'EmbeddingBag', 'CosineSimilarity', 'PairwiseDistance', 'DataParallel',
  'ParameterList', 'ParameterDict', 'SyncBatchNorm', 'RMSNorm', 'LPPool1d', 'LPPool2d', 'FractionalMaxPool2d', 'FractionalMaxPool3d',
  'MaxUnpool1d', 'MaxUnpool2d', 'MaxUnpool3d', 'AdaptiveLogSoftmaxWithLoss', 'Container',
]);

/** `F.x` → the module whose rules it follows, its positional parameters after the input, and keywords the module does not take. */
interface Functional {
  type: string;
  params?: string[];
  drop?: string[];
}
const act = (type: string, params: string[] = []): Functional => ({ type, params });
const FUNCTIONAL: Record<string, Functional> = {
  relu: act('ReLU', ['inplace']), relu_: act('ReLU'), relu6: act('ReLU6', ['inplace']), leaky_relu: act('LeakyReLU', ['negative_slope', 'inplace']),
  leaky_relu_: act('LeakyReLU', ['negative_slope']), elu: act('ELU', ['alpha', 'inplace']), selu: act('SELU', ['inplace']), celu: act('CELU', ['alpha', 'inplace']),
  gelu: act('GELU', ['approximate']), silu: act('SiLU', ['inplace']), mish: act('Mish', ['inplace']), sigmoid: act('Sigmoid'), tanh: act('Tanh'),
  hardswish: act('Hardswish', ['inplace']), hardsigmoid: act('Hardsigmoid', ['inplace']), hardtanh: act('Hardtanh', ['min_val', 'max_val', 'inplace']),
  softplus: act('Softplus', ['beta', 'threshold']), softsign: act('Softsign'), logsigmoid: act('LogSigmoid'), tanhshrink: act('Tanhshrink'),
  softshrink: act('Softshrink', ['lambd']), hardshrink: act('Hardshrink', ['lambd']), threshold: act('Threshold', ['threshold', 'value', 'inplace']),
  prelu: { type: '' },
  softmax: { type: 'Softmax', params: ['dim'], drop: ['_stacklevel', 'dtype'] },
  log_softmax: { type: 'LogSoftmax', params: ['dim'], drop: ['_stacklevel', 'dtype'] },
  softmin: { type: 'Softmin', params: ['dim'], drop: ['_stacklevel', 'dtype'] },
  dropout: { type: 'Dropout', params: ['p', 'training', 'inplace'], drop: ['training'] },
  dropout1d: { type: 'Dropout1d', params: ['p', 'training', 'inplace'], drop: ['training'] },
  dropout2d: { type: 'Dropout2d', params: ['p', 'training', 'inplace'], drop: ['training'] },
  dropout3d: { type: 'Dropout3d', params: ['p', 'training', 'inplace'], drop: ['training'] },
  alpha_dropout: { type: 'AlphaDropout', params: ['p', 'training', 'inplace'], drop: ['training'] },
  feature_alpha_dropout: { type: 'FeatureAlphaDropout', params: ['p', 'training', 'inplace'], drop: ['training'] },
  interpolate: { type: 'Upsample', params: ['size', 'scale_factor', 'mode', 'align_corners', 'recompute_scale_factor'], drop: ['antialias'] },
  upsample: { type: 'Upsample', params: ['size', 'scale_factor', 'mode', 'align_corners'] },
  pixel_shuffle: { type: 'PixelShuffle', params: ['upscale_factor'] },
  pixel_unshuffle: { type: 'PixelUnshuffle', params: ['downscale_factor'] },
};
for (const r of [1, 2, 3]) {
  FUNCTIONAL[`max_pool${r}d`] = { type: `MaxPool${r}d`, params: ['kernel_size', 'stride', 'padding', 'dilation', 'ceil_mode', 'return_indices'] };
  FUNCTIONAL[`avg_pool${r}d`] = { type: `AvgPool${r}d`, params: ['kernel_size', 'stride', 'padding', 'ceil_mode', 'count_include_pad', 'divisor_override'] };
  FUNCTIONAL[`adaptive_avg_pool${r}d`] = { type: `AdaptiveAvgPool${r}d`, params: ['output_size'] };
  FUNCTIONAL[`adaptive_max_pool${r}d`] = { type: `AdaptiveMaxPool${r}d`, params: ['output_size', 'return_indices'] };
}
delete FUNCTIONAL.prelu;

/** nn.Module's own methods (what `module.X` means when X is not an attribute). */
const MODULE_METHODS = new Set([
  'parameters', 'named_parameters', 'buffers', 'named_buffers', 'modules', 'named_modules', 'children', 'named_children', 'add_module',
  'register_module', 'register_buffer', 'register_parameter', 'append', 'extend', 'insert', 'keys', 'values', 'items', 'to', 'cuda', 'cpu',
  'float', 'double', 'half', 'train', 'eval', 'requires_grad_', 'share_memory', 'apply', 'zero_grad', 'load_state_dict', 'state_dict',
  'extra_repr', 'register_forward_hook', 'register_forward_pre_hook', 'register_full_backward_hook', 'forward', '__len__', 'get_submodule',
  'get_parameter', 'type', 'bfloat16', 'pop', 'update', '__setattr__', '__getattr__',
]);

/** Element-wise functions of `torch.*`, `F.*` and tensor methods that keep the shape. */
const UNARY_FUNCTIONS = new Set(['exp', 'log', 'log2', 'log1p', 'sqrt', 'rsqrt', 'abs', 'neg', 'sign', 'sin', 'cos', 'floor', 'ceil', 'round', 'square', 'reciprocal', 'clamp', 'clip', 'normalize', 'erf', 'layer_norm', 'group_norm', 'batch_norm', 'instance_norm']);
/** Methods that give the same tensor back, as far as shapes go. */
const SAME_TENSOR = new Set(['contiguous', 'clone', 'detach', 'float', 'double', 'half', 'bfloat16', 'to', 'cuda', 'cpu', 'type_as', 'requires_grad_', 'masked_fill', 'masked_fill_', 'type', 'long', 'int', 'bool', 'zero_', 'fill_', 'normal_', 'uniform_', 'bernoulli_', 'pin_memory', 'share_memory_', 'retain_grad']);
/** A tensor's device flags. */
const DEVICE_FLAGS = new Set(['is_cuda', 'is_xpu', 'is_mps', 'is_meta', 'is_cpu']);
/** Reductions: `x.mean((2, 3))`. */
const REDUCTIONS = new Set(['mean', 'sum', 'amax', 'amin', 'prod', 'std', 'var', 'logsumexp', 'norm']);
/** Tensor constructors whose result is data of a shape (`torch.randn(1, 3, 32, 32)`). */
const CONSTRUCTORS = new Set(['randn', 'rand', 'zeros', 'ones', 'empty', 'full', 'randint', 'normal']);

/** torchvision datasets: the shape of one image as the files store it, and the class count. */
const DATASETS: Record<string, { sample: number[]; size: number; classes: number }> = {
  MNIST: { sample: [1, 28, 28], size: 60000, classes: 10 },
  FashionMNIST: { sample: [1, 28, 28], size: 60000, classes: 10 },
  KMNIST: { sample: [1, 28, 28], size: 60000, classes: 10 },
  EMNIST: { sample: [1, 28, 28], size: 60000, classes: 47 },
  QMNIST: { sample: [1, 28, 28], size: 60000, classes: 10 },
  CIFAR10: { sample: [3, 32, 32], size: 50000, classes: 10 },
  CIFAR100: { sample: [3, 32, 32], size: 50000, classes: 100 },
  SVHN: { sample: [3, 32, 32], size: 73257, classes: 10 },
  STL10: { sample: [3, 96, 96], size: 5000, classes: 10 },
};

/** A native object of the PyTorch side (a dataset, a data loader, a transform). */
const NATIVE = (name: string): ClassValue => ({ name, bases: [], members: new Map(), file: { module: '<torch>', text: '' }, span: { start: 0, end: 0 }, native: `torch.${name}` });
const DATASET_CLASS = NATIVE('Dataset');
const LOADER_CLASS = NATIVE('DataLoader');
const TRANSFORM_CLASS = NATIVE('Transform');

/** A PIL-style image as transforms see it: channels and size (unknown when a transform cannot be followed). */
interface ImageShape {
  channels: number | null;
  height: number | null;
  width: number | null;
}

export class TorchSemantics implements FrameworkSemantics {
  readonly name = 'pytorch' as const;
  private readonly modules = new WeakMap<LayerInstance, TorchModule>();
  /** Every module made outside another module's `__init__`, in creation order (the model candidates). */
  private readonly candidates: TorchModule[] = [];
  /**
   * What the file's training code says, for the trainer: the first optimizer and lr_scheduler
   * made, the first loss computed, the training DataLoader's batch size (epochs come from the
   * script's `--epochs` default).
   */
  /** Where each `transforms.Normalize(…)` was written, for the trainer's note and errors. */
  private readonly transformSpans = new WeakMap<ObjectValue, Span>();
  private readonly recipe: {
    optimizer?: OptimizerSpec;
    scheduler?: OptimizerSpec;
    normalize?: InputNormalization;
    loss?: { name: string; span: Span; args?: LossArgs };
    lossMade?: { name: string; span: Span; args?: LossArgs };
    batchSize?: number;
  } = {};
  /** Arrays made by `nn.Parameter(…)` (registered as parameters when assigned to a module). */
  private readonly parameters = new WeakSet<object>();
  /** A parameter read from a module (`for p in model.parameters()`): its module and tensor, so `p.requires_grad = False` freezes it. */
  private readonly owners = new WeakMap<object, { layer: LayerInstance; weight: WeightSpec }>();
  /** The input size torchvision's weights were trained at, for a builtin torchvision model whose file shows none. */
  private readonly builtinInputs = new Map<TorchModule, { shape: number[]; from: string }>();
  private nextLayerId = ID_BASE;
  private nextModelId = ID_BASE;
  /** Depth of module `__init__`s running: a module made inside one is a child, not a model. */
  private constructing = 0;
  /** Depth of traces whose nodes are replays (a model called again on other shapes). */
  private replaying = 0;
  private frame?: TraceFrame;
  /** The `--input-shape` of the command line: the input of every model whose file shows none. */
  private defaultInput?: { shape: number[]; from: string };
  private inputLayerType = findLayer('InputLayer');

  constructor(private readonly interp: Interpreter) {}

  private get tracer(): Tracer {
    return this.interp.tracer;
  }

  /** Sets the input of models whose file gives none (`convlens summary --input-shape 1,3,32,32`). */
  setDefaultInput(shape: number[], from: string): void {
    this.defaultInput = { shape, from };
  }

  // ------------------------------------------------------------------------------------------
  // Ownership

  ownsPath(path: string): boolean {
    return /^(torch|torchvision|torchinfo|torchsummary)(\.|$)/.test(path);
  }

  ownsValue(v: Value): boolean {
    switch (v.k) {
      case 'layer':
        return v.layer.framework === 'pytorch';
      case 'model':
        return v.model.framework === 'pytorch';
      case 'tensor':
        return v.t.producer.layer.framework === 'pytorch';
      case 'array':
        return v.framework === 'pytorch';
      case 'object':
        return v.obj.cls.native?.startsWith('torch.') ?? false;
      default:
        return false;
    }
  }

  buildsModels(path: string): boolean {
    const last = path.slice(path.lastIndexOf('.') + 1);
    return /^torch\.nn\.[A-Z]/.test(path) && (!!findLayer(last, 'pytorch') || last in CONTAINERS);
  }

  bundledModule(name: string): { module: string; source: string } | undefined {
    return torchvisionModule(name);
  }

  /** Calling a module runs it; it builds nothing (a training loop ConvLens skips loses no layer). */
  callBuildsModels(): boolean {
    return false;
  }

  lenientName(): Value | undefined {
    return undefined;
  }

  importStar(path: string, scope: Scope): void {
    // `from torch.nn import *`: the module classes; `from torch.nn.functional import *`: the functions.
    if (path === 'torch.nn' || path === 'torch.nn.modules') {
      for (const name of [...Object.keys(CONTAINERS), ...LOSSES]) scope.set(name, { k: 'module', path: `torch.nn.${name}` });
      for (const n of ['Module', 'Parameter', 'Identity']) scope.set(n, { k: 'module', path: `torch.nn.${n}` });
      for (const t of this.moduleTypeNames()) scope.set(t, { k: 'module', path: `torch.nn.${t}` });
    } else if (path === 'torch.nn.functional') {
      for (const f of [...Object.keys(FUNCTIONAL), ...UNARY_FUNCTIONS, 'pad']) scope.set(f, { k: 'module', path: `torch.nn.functional.${f}` });
    }
  }

  /** The module classes of the registry (`Conv2d`, `ReLU`, …), for `from torch.nn import *`. */
  private moduleTypeNames(): string[] {
    return layerNames('pytorch').filter((n) => /^[A-Z]/.test(n));
  }

  // ------------------------------------------------------------------------------------------
  // Modules as values

  private site(span: Span, anchor?: number): CallSite {
    const s = this.interp.here(span);
    return { span: s, anchor: anchor ?? s.end, foreign: this.interp.foreign, replay: this.replaying > 0 };
  }

  private newLayer(className: string, type: LayerType | undefined, args: CallArgs, span: Span, calleeSpan: Span, opaque?: string, bind = true): LayerInstance {
    const here = this.interp.here(span);
    const layer: LayerInstance = {
      id: this.nextLayerId++,
      framework: 'pytorch',
      className,
      kerasName: className,
      type,
      args,
      span: here,
      calleeSpan: this.interp.foreign ? here : calleeSpan,
      opaque: opaque ?? (args.opaque ? 'arguments passed with * or ** could not be read' : undefined),
      trainable: true,
      nodes: [],
      foreign: this.interp.foreign,
    };
    if (type && bind) {
      const b = this.tracer.bind(type, args, layer.calleeSpan, this.interp.out);
      layer.bound = b.bound;
      layer.bindFailed = b.failed;
      // A PyTorch module's weights depend on its arguments only: known before any call.
      if (b.bound && !layer.opaque) {
        try {
          layer.weights = b.bound.weights([[]]);
        } catch {
          layer.weights = undefined;
        }
      }
    }
    this.interp.touched();
    return layer;
  }

  /** Registers a new module; outside any `__init__` it is a model candidate. */
  private newModule(layer: LayerInstance, kind: ModuleKind, extra: Partial<TorchModule> = {}): TorchModule {
    const m: TorchModule = { layer, kind, children: new Map(), attrs: new Map(), itemSpans: new Map(), ...extra };
    this.modules.set(layer, m);
    this.interp.layers.push(layer);
    return m;
  }

  /** Makes a module a model candidate (after its `__init__`, when made at the top level). */
  private candidate(m: TorchModule, span: Span): void {
    if (this.constructing > 0 || this.frame || m.kind === 'leaf' || m.kind === 'list' || m.kind === 'dict' || m.kind === 'loss') return;
    const model: ModelBuild = {
      id: this.nextModelId++,
      framework: 'pytorch',
      kind: m.kind === 'sequential' && !m.cls ? 'sequential' : 'subclassed',
      kerasName: m.layer.className,
      span: this.interp.here(span),
      sequence: [],
      tracked: [],
      snapshots: [],
      trainable: true,
      foreign: this.interp.foreign,
      moduleCalls: [],
    };
    m.model = model;
    this.candidates.push(m);
    this.interp.models.push(model);
    this.interp.touched();
  }

  private value(layer: LayerInstance): LayerValue {
    return { k: 'layer', layer };
  }

  moduleOf(v: Value): TorchModule | undefined {
    return v.k === 'layer' ? this.modules.get(v.layer) : undefined;
  }

  /** `nn.Sequential(…)`, `nn.ModuleList([...])`, `nn.ModuleDict({...})`. */
  private container(kind: ModuleKind, className: string, args: CallArgs, span: Span, calleeSpan: Span, e?: CallExpr, cls?: ClassValue, obj?: ObjectValue): TorchModule {
    const layer = this.newLayer(className, undefined, { positional: [], keyword: new Map(), span: args.span }, span, calleeSpan);
    layer.weights = [];
    const m = this.newModule(layer, kind, { cls, obj });
    this.fillContainer(m, args, e);
    return m;
  }

  /** The children a container's constructor (or `super().__init__(…)`) is given. */
  private fillContainer(m: TorchModule, args: CallArgs, e?: CallExpr): void {
    const p = args.positional;
    if (m.kind === 'sequential') {
      if (p.length === 1 && p[0].value.k === 'dict') {
        for (const en of p[0].value.entries.values()) this.addChild(m, en.key.k === 'str' ? en.key.v : String(m.children.size), en.value);
        return;
      }
      const spans = e ? argItemSpans(e) : [];
      p.forEach((a, i) => {
        const child = this.addChild(m, String(m.children.size), a.value);
        const s = spans[i];
        if (child && s && !this.interp.foreign && !args.opaque) m.itemSpans.set(child, s);
      });
      if (args.opaque) m.layer.opaque = 'modules passed with * that ConvLens could not read';
      return;
    }
    const items = p[0]?.value ?? args.keyword.get('modules')?.value;
    if (!items || items.k === 'none') return;
    if (m.kind === 'list') {
      const it = this.interp.iterate(items, args.span);
      if (!it) {
        m.layer.opaque = 'modules ConvLens could not list';
        return;
      }
      for (const v of it) this.addChild(m, String(m.children.size), v);
    } else if (m.kind === 'dict') {
      if (items.k === 'dict') for (const en of items.entries.values()) this.addChild(m, en.key.k === 'str' ? en.key.v : String(m.children.size), en.value);
      else {
        const it = this.interp.iterate(items, args.span);
        for (const pair of it ?? []) if (pair.k === 'seq' && pair.items.length === 2 && pair.items[0].k === 'str') this.addChild(m, pair.items[0].v, pair.items[1]);
      }
    }
  }

  /** Registers `v` as child `name` of `m` (PyTorch's `add_module`); a value that is not a module is a placeholder ConvLens cannot see into. */
  private addChild(m: TorchModule, name: string, v: Value): LayerInstance | undefined {
    let child: LayerInstance;
    if (v.k === 'none') {
      m.children.set(name, null);
      this.treeVersion++;
      return undefined;
    }
    const mod = this.moduleOf(v);
    if (mod) child = mod.layer;
    else {
      child = this.newLayer('?', undefined, { positional: [], keyword: new Map(), span: m.layer.span }, m.layer.span, m.layer.span, v.k === 'unknown' && v.why ? v.why : `a ${v.k} where a module was expected`);
      this.newModule(child, 'leaf');
    }
    this.adopt(m, name, child);
    return child;
  }

  private adopt(m: TorchModule, name: string, child: LayerInstance): void {
    m.children.set(name, child);
    this.treeVersion++;
    const c = this.modules.get(child);
    if (c && !c.parent && c !== m) c.parent = m.layer;
    this.interp.touched();
  }

  /** A leaf module of the registry, an opaque one, a loss or a container from a `torch.nn.X` call. */
  private constructModule(name: string, args: CallArgs, span: Span, e?: CallExpr): Value {
    const calleeSpan = e ? e.fn.span : span;
    if (name in CONTAINERS) {
      const m = this.container(CONTAINERS[name], name, args, span, calleeSpan, e);
      this.candidate(m, span);
      return this.value(m.layer);
    }
    if (LOSSES.has(name)) {
      const layer = this.newLayer(name, undefined, args, span, calleeSpan);
      layer.weights = [];
      const lossArgs = torchLossArgs(args, 0);
      this.newModule(layer, 'loss', { loss: name, lossArgs });
      // A criterion made and never seen called (its loop not followed) is still the one training uses.
      this.recipe.lossMade ??= { name, span: this.interp.here(span), args: lossArgs };
      return this.value(layer);
    }
    if (name === 'Module') {
      const layer = this.newLayer('Module', undefined, { positional: [], keyword: new Map(), span: args.span }, span, calleeSpan);
      layer.weights = [];
      this.newModule(layer, 'user');
      return this.value(layer);
    }
    if (name === 'Identity') {
      // nn.Identity(*args, **kwargs) ignores its arguments.
      const layer = this.newLayer('Identity', findLayer('Identity', 'pytorch'), { positional: [], keyword: new Map(), span: args.span }, span, calleeSpan);
      this.newModule(layer, 'leaf');
      return this.value(layer);
    }
    const type = findLayer(name, 'pytorch');
    if (type && /^[A-Z]/.test(type.name)) {
      const layer = this.newLayer(type.name, type, args, span, calleeSpan);
      this.newModule(layer, 'leaf');
      return this.value(layer);
    }
    const why = NOT_YET.has(name) ? 'not analysed yet' : undefined;
    const layer = this.newLayer(name, undefined, args, span, calleeSpan, why);
    this.newModule(layer, 'leaf');
    return this.value(layer);
  }

  // ------------------------------------------------------------------------------------------
  // User classes

  isModelClass(cls: ClassValue): boolean {
    return this.torchBase(cls) !== undefined;
  }

  /** The nearest torch.nn base of a user class (`Module`, `Sequential`, `Conv2d`, …). */
  private torchBase(cls: ClassValue): string | undefined {
    for (const b of this.interp.frameworkBases(cls)) {
      const m = /^torch\.nn\.(?:modules\.[a-z_.]+\.)?([A-Za-z_0-9]+)$/.exec(b);
      if (m) return m[1];
    }
    return undefined;
  }

  userClassOf(v: Value): ClassValue | undefined {
    return this.moduleOf(v)?.cls;
  }

  instantiate(cls: ClassValue, args: CallArgs, span: Span): Value | undefined {
    const base = this.torchBase(cls);
    if (!base) return undefined;
    const obj: ObjectValue = { cls, attrs: new Map() };
    let m: TorchModule;
    const calleeSpan = span;
    if (base in CONTAINERS) {
      m = this.container(CONTAINERS[base], cls.name, { positional: [], keyword: new Map(), span: args.span }, span, calleeSpan, undefined, cls, obj);
    } else {
      const type = base === 'Module' ? undefined : findLayer(base, 'pytorch');
      // A subclass of a layer (`class MyConv(nn.Conv2d)`) binds the arguments super().__init__ receives
      // (its own, when it defines no __init__), never the empty list it starts with.
      const layer = this.newLayer(cls.name, type, { positional: [], keyword: new Map(), span: args.span }, span, calleeSpan, undefined, false);
      if (!type) layer.weights = [];
      m = this.newModule(layer, type ? 'leaf' : base === 'Module' || !LOSSES.has(base) ? 'user' : 'loss', { cls, obj });
      if (type) layer.bound = undefined;
      if (!type && base !== 'Module' && !LOSSES.has(base)) layer.opaque = `a subclass of torch.nn.${base}, which ConvLens does not analyse`;
    }
    const self = this.value(m.layer);
    const init = this.interp.classMember(cls, '__init__');
    this.constructing++;
    try {
      if (init?.k === 'func') this.interp.inFile(init.fn.file, span, () => this.interp.callFunction(init.fn, args, span, self));
      else if (m.kind === 'leaf' && m.layer.type) this.superInit(self, args, span);
    } finally {
      this.constructing--;
    }
    this.candidate(m, span);
    return self;
  }

  superAttribute(self: Value, name: string, after: ClassValue): Value {
    void after;
    if (name === '__init__') return { k: 'method', self, name: '__super_init__' };
    if (name === 'forward') return { k: 'method', self, name: '__super_forward__' };
    return this.attribute(self, name, { start: 0, end: 0 });
  }

  /** `super().__init__(…)`: a container subclass takes its children, a layer subclass its arguments. */
  private superInit(self: Value, args: CallArgs, span: Span): Value {
    const m = this.moduleOf(self);
    if (!m) return NONE;
    if (m.kind === 'sequential' || m.kind === 'list' || m.kind === 'dict') this.fillContainer(m, args);
    else if (m.kind === 'leaf' && m.layer.type) {
      const layer = m.layer;
      (layer as { args: CallArgs }).args = args;
      const b = this.tracer.bind(layer.type!, args, layer.calleeSpan, this.interp.out);
      layer.bound = b.bound;
      layer.bindFailed = b.failed;
      layer.opaque = args.opaque ? 'arguments passed with * or ** could not be read' : undefined;
      layer.weights = b.bound ? b.bound.weights([[]]) : undefined;
    }
    void span;
    return NONE;
  }

  // ------------------------------------------------------------------------------------------
  // Attributes and methods of modules

  setAttribute(target: Value, name: string, v: Value): void {
    if (target.k === 'array') {
      // `param.requires_grad = False`: torch counts p.requires_grad as trainable.
      const owner = this.owners.get(target);
      if (owner && name === 'requires_grad' && v.k === 'bool' && !owner.weight.buffer) {
        owner.weight.trainable = v.v;
        owner.layer.trainable = (owner.layer.weights ?? []).some((w) => !w.buffer && w.trainable);
        this.interp.touched();
      }
      return;
    }
    const m = this.moduleOf(target);
    if (!m) return;
    const child = this.moduleOf(v);
    if (child) {
      m.attrs.delete(name);
      this.adopt(m, name, child.layer);
      return;
    }
    if (v.k === 'none' && m.children.has(name)) {
      m.children.set(name, null);
      this.treeVersion++;
      return;
    }
    if (v.k === 'array' && this.parameters.has(v)) {
      this.setParameter(m, name, v.shape, true, false);
      return;
    }
    if (name === 'training') return;
    m.attrs.set(name, v);
    this.interp.touched();
  }

  /** `del self.fc`: the child module, parameter, buffer or plain attribute goes (`nn.Module.__delattr__`). */
  deleteAttribute(target: Value, name: string): void {
    const m = this.moduleOf(target);
    if (!m) return;
    if (m.children.delete(name)) this.treeVersion++;
    const weights = m.layer.weights;
    const at = weights ? weights.findIndex((w) => w.name === name) : -1;
    if (weights && at >= 0) weights.splice(at, 1);
    m.attrs.delete(name);
    this.interp.touched();
  }

  /**
   * `del container[key]`: a ModuleDict's key; a Sequential's or ModuleList's index, after which
   * PyTorch renumbers the rest from 0 (`__delitem__` rebuilds `_modules`).
   */
  deleteItem(target: Value, key: Value): void {
    const m = this.moduleOf(target);
    if (!m) return;
    if (m.kind === 'dict' && key.k === 'str') {
      if (m.children.delete(key.v)) this.treeVersion++;
    } else if ((m.kind === 'sequential' || m.kind === 'list') && key.k === 'num' && Number.isInteger(key.v)) {
      const kept = [...m.children.values()];
      const i = key.v < 0 ? kept.length + key.v : key.v;
      if (i < 0 || i >= kept.length) return;
      kept.splice(i, 1);
      m.children.clear();
      kept.forEach((c, j) => m.children.set(String(j), c));
      this.treeVersion++;
    } else return;
    this.interp.touched();
  }

  private setParameter(m: TorchModule, name: string, shape: Dim[], trainable: boolean, buffer: boolean): void {
    const weights = (m.layer.weights ??= []);
    const spec: WeightSpec = { name, shape, trainable, ...(buffer ? { buffer: true } : {}) };
    const at = weights.findIndex((w) => w.name === name);
    if (at >= 0) weights[at] = spec;
    else weights.push(spec);
    this.interp.touched();
  }

  attribute(obj: Value, name: string, span: Span): Value {
    switch (obj.k) {
      case 'layer':
        return this.moduleAttribute(obj, name, span);
      case 'tensor':
        return this.tensorAttribute(obj.t, name, obj);
      case 'array':
        return this.arrayAttribute(obj, name);
      case 'object':
        return { k: 'method', self: obj, name };
      default:
        return UNKNOWN;
    }
  }

  private moduleAttribute(self: LayerValue, name: string, span: Span): Value {
    const m = this.moduleOf(self);
    if (!m) return UNKNOWN;
    const child = m.children.get(name);
    if (child !== undefined) return child === null ? NONE : this.value(child);
    const own = m.attrs.get(name);
    if (own !== undefined) return own;
    const w = m.layer.weights?.find((x) => x.name === name);
    if (w) {
      const v = this.parameterValue(w.shape);
      this.owners.set(v, { layer: m.layer, weight: w });
      return v;
    }
    if (m.cls) {
      const member = this.interp.classMember(m.cls, name);
      if (member?.k === 'func') return this.interp.bindMember(member, self, span);
      if (member !== undefined) return member;
    }
    if (name === 'training') return { k: 'bool', v: false };
    if (m.layer.type && m.layer.bound && name in m.layer.bound.config) return fromConfig(m.layer.bound.config[name]);
    if (m.layer.type && (name === 'weight' || name === 'bias')) return NONE;
    if (MODULE_METHODS.has(name)) return { k: 'method', self, name };
    if (m.layer.opaque || m.layer.bindFailed || (m.cls && this.interp.frameworkBases(m.cls).some((b) => !/^torch\.nn\./.test(b)))) return { k: 'unknown', why: `'${name}' of ${m.layer.className}` };
    return { k: 'unknown', why: `'${m.layer.className}' object has no attribute '${name}'`, missing: true };
  }

  /** A parameter read as a value: an array of its shape (`self.conv1.weight.size()`). */
  private parameterValue(shape: Dim[]): Value {
    const v: Value = { k: 'array', shape, framework: 'pytorch' };
    this.parameters.add(v);
    return v;
  }

  method(self: Value, name: string, args: CallArgs, span: Span, e?: CallExpr): Value {
    if (self.k === 'layer') return this.moduleMethod(self, name, args, span);
    if (self.k === 'tensor') return this.tensorMethod(self.t, name, args, span, e);
    if (self.k === 'array' && name === 'requires_grad_' && this.owners.has(self)) {
      const flag = args.positional[0]?.value ?? args.keyword.get('requires_grad')?.value;
      this.setAttribute(self, 'requires_grad', flag ?? { k: 'bool', v: true });
      return self;
    }
    if (self.k === 'array') return this.arrayMethod(self, name, args);
    // Datasets, loaders and transforms have no method whose result ConvLens needs.
    return UNKNOWN;
  }

  private moduleMethod(self: LayerValue, name: string, args: CallArgs, span: Span): Value {
    const m = this.moduleOf(self);
    if (!m) return UNKNOWN;
    const p = args.positional.map((a) => a.value);
    switch (name) {
      case '__super_init__':
        return this.superInit(self, args, span);
      case '__super_forward__':
        return this.callModule(m, args, span, { superForward: true });
      case 'parameters':
      case 'named_parameters':
      case 'buffers':
      case 'named_buffers': {
        const buffers = name.includes('buffers');
        const out: Value[] = [];
        for (const [prefix, mod] of this.namedModules(m)) {
          for (const w of mod.layer.weights ?? []) {
            if (!!w.buffer !== buffers) continue;
            const v = this.parameterValue(w.shape);
            this.owners.set(v, { layer: mod.layer, weight: w });
            out.push(name.startsWith('named') ? tuple([str(prefix ? `${prefix}.${w.name}` : w.name), v]) : v);
          }
        }
        return this.interp.seq('list', out, span);
      }
      case 'modules':
      case 'named_modules':
        return this.interp.seq('list', this.namedModules(m).map(([n, mod]) => (name === 'modules' ? this.value(mod.layer) : tuple([str(n), this.value(mod.layer)]))), span);
      case 'children':
      case 'named_children': {
        const out: Value[] = [];
        const seen = new Set<LayerInstance>();
        for (const [n, c] of m.children) {
          if (!c || seen.has(c)) continue;
          seen.add(c);
          out.push(name === 'children' ? this.value(c) : tuple([str(n), this.value(c)]));
        }
        return this.interp.seq('list', out, span);
      }
      case 'add_module':
      case 'register_module':
        if (p[0]?.k === 'str' && p[1]) this.addChild(m, p[0].v, p[1]);
        return NONE;
      // `self.__setattr__('level_%d' % i, subtree)` is `setattr(self, …)` (kuangliu's DLA trees).
      case '__setattr__':
        if (p[0]?.k === 'str' && p[1]) this.setAttribute(self, p[0].v, p[1]);
        return NONE;
      case '__getattr__':
        return p[0]?.k === 'str' ? this.attribute(self, p[0].v, span) : UNKNOWN;
      // `model.classifier[6] = nn.Linear(4096, 2)`: Sequential and ModuleList replace the child at
      // that position (its name kept), ModuleDict the one of that key.
      case '__setitem__': {
        const [key, v] = p;
        if (!key || !v) return NONE;
        if (m.kind === 'dict' && key.k === 'str') this.setAttribute(self, key.v, v);
        else if ((m.kind === 'sequential' || m.kind === 'list') && key.k === 'num' && Number.isInteger(key.v)) {
          const names = [...m.children.keys()];
          const i = key.v < 0 ? names.length + key.v : key.v;
          if (i >= 0 && i < names.length) this.setAttribute(self, names[i], v);
          else this.interp.warn('index-out-of-range', this.interp.here(span), `${m.layer.className} index ${key.v} is out of range: it has ${names.length} modules, and PyTorch raises IndexError`);
        }
        return NONE;
      }
      case 'register_buffer':
      case 'register_parameter': {
        const key = p[0];
        const t = p[1] ?? args.keyword.get('tensor')?.value ?? args.keyword.get('param')?.value;
        const persistent = args.keyword.get('persistent')?.value;
        if (key?.k === 'str' && t?.k === 'array') {
          if (name === 'register_buffer' && persistent?.k === 'bool' && !persistent.v) m.attrs.set(key.v, t);
          else this.setParameter(m, key.v, t.shape, true, name === 'register_buffer');
        }
        return NONE;
      }
      case 'append':
        if (p[0] && (m.kind === 'list' || m.kind === 'sequential')) this.addChild(m, String(m.children.size), p[0]);
        return self;
      case 'extend': {
        const it = p[0] ? this.interp.iterate(p[0], span) : undefined;
        if (it) for (const v of it) this.addChild(m, String(m.children.size), v);
        return self;
      }
      case 'insert': {
        if (p.length !== 2 || p[0].k !== 'num') return NONE;
        const items = [...m.children.values()];
        const i = p[0].v < 0 ? Math.max(0, items.length + p[0].v) : Math.min(p[0].v, items.length);
        const child = this.moduleOf(p[1])?.layer;
        if (!child) return NONE;
        items.splice(i, 0, child);
        m.children.clear();
        items.forEach((c, k) => m.children.set(String(k), c));
        this.treeVersion++;
        this.adopt(m, String(i), child);
        return NONE;
      }
      case 'keys':
      case 'values':
      case 'items': {
        const entries = [...m.children].filter(([, c]) => c !== null) as [string, LayerInstance][];
        const out = entries.map(([k, c]) => (name === 'keys' ? str(k) : name === 'values' ? this.value(c) : tuple([str(k), this.value(c)])));
        return this.interp.seq('list', out, span);
      }
      case 'to':
      case 'cuda':
      case 'cpu':
      case 'float':
      case 'double':
      case 'half':
      case 'train':
      case 'eval':
      case 'requires_grad_':
      case 'share_memory':
        if (name === 'requires_grad_') this.freeze(m, !(p[0]?.k === 'bool' && !p[0].v));
        return self;
      case 'apply': {
        const fn = p[0];
        if (fn && (fn.k === 'func' || fn.k === 'module')) for (const [, mod] of this.namedModules(m)) this.interp.callValue(fn, { positional: [{ value: this.value(mod.layer), span }], keyword: new Map(), span }, span, undefined as unknown as Scope);
        return self;
      }
      case 'zero_grad':
      case 'load_state_dict':
      case 'extra_repr':
      case 'register_forward_hook':
      case 'register_forward_pre_hook':
      case 'register_full_backward_hook':
        return NONE;
      case 'state_dict':
        return UNKNOWN;
      case 'forward':
        return this.callModule(m, args, span);
      case '__len__':
        return this.len(self);
      default:
        return UNKNOWN;
    }
  }

  /** `module.requires_grad_(False)`: its parameters (and its children's) stop training. */
  private freeze(m: TorchModule, trainable: boolean): void {
    for (const [, mod] of this.namedModules(m)) {
      mod.layer.trainable = trainable;
      for (const w of mod.layer.weights ?? []) if (!w.buffer) w.trainable = trainable;
    }
    this.interp.touched();
  }

  /** Bumped whenever a module gains, loses or replaces a child: cached walks of the trees are stale then. */
  private treeVersion = 0;
  private readonly walks = new WeakMap<TorchModule, { version: number; modules: [string, TorchModule][] }>();

  /** `named_modules()`: the module, then its children depth-first, each module once (cached while no tree changes). */
  private namedModules(root: TorchModule): [string, TorchModule][] {
    const cached = this.walks.get(root);
    if (cached && cached.version === this.treeVersion) return cached.modules;
    const modules = this.walkModules(root);
    this.walks.set(root, { version: this.treeVersion, modules });
    return modules;
  }

  private walkModules(root: TorchModule): [string, TorchModule][] {
    const out: [string, TorchModule][] = [];
    const seen = new Set<LayerInstance>();
    const visit = (m: TorchModule, prefix: string, depth: number): void => {
      if (seen.has(m.layer) || depth > 64) return;
      seen.add(m.layer);
      out.push([prefix, m]);
      for (const [n, c] of m.children) {
        const cm = c ? this.modules.get(c) : undefined;
        if (cm) visit(cm, prefix ? `${prefix}.${n}` : n, depth + 1);
      }
    };
    visit(root, '', 0);
    return out;
  }

  // ------------------------------------------------------------------------------------------
  // Calling modules

  callLayerOrModel(callee: Extract<Value, { k: 'layer' | 'model' }>, args: CallArgs, span: Span): Value {
    const m = this.moduleOf(callee);
    if (!m) return UNKNOWN;
    const first = args.positional[0]?.value ?? args.keyword.get('input')?.value ?? args.keyword.get('x')?.value;
    if (!first) return { k: 'unknown', why: `${m.layer.className} called without an input` };
    if (m.kind === 'loss') {
      if (m.loss) this.noteLoss(m.loss, span, m.lossArgs);
      return { k: 'array', shape: [], framework: 'pytorch' };
    }
    if (first.k === 'array' || (first.k === 'seq' && first.items.some((x) => x.k === 'array'))) return this.callOnData(m, args, span);
    return this.callModule(m, args, span);
  }

  /**
   * A module called on data (`model(torch.randn(1, 3, 32, 32))`, a batch of a data loader): its
   * forward pass is traced on that input the first time, and the result is data of the output's shape.
   */
  private callOnData(m: TorchModule, args: CallArgs, span: Span): Value {
    const arrays = args.positional.filter((a) => a.value.k === 'array').map((a) => (a.value as { shape: Dim[] }).shape);
    if (arrays.length === 0 || arrays.some((s) => s.length === 0)) return UNKNOWN;
    const model = m.model;
    let outputs: SymTensor[] | undefined;
    let keys: string[] | undefined;
    if (model && !model.graph && !this.frame) {
      this.traceModel(m, model, arrays, span, 'the call of the model on an example input', args);
      outputs = (model as ModelBuild).graph?.outputs;
      keys = (model as ModelBuild).graph?.outputKeys;
    } else if (model?.graph && model.graph.inputs.length === arrays.length && model.graph.inputs.every((t, i) => sameWhole(t, arrays[i]))) {
      outputs = model.graph.outputs;
      keys = model.graph.outputKeys;
    } else {
      // Another shape, or a module that is not a model: its result, from a trace that shows nowhere (a leaf called at the top level shows its hint).
      const leaf = m.kind === 'leaf';
      if (!leaf) this.replaying++;
      try {
        const inputs = arrays.map((s) => this.hiddenInput(s.slice(1), s[0] ?? null, span, !leaf));
        let k = 0;
        const positional = args.positional.map((a): ArgValue => (a.value.k === 'array' ? { value: { k: 'tensor', t: inputs[k++] }, span } : a));
        const r = this.callModule(m, { ...args, positional }, span);
        outputs = flatten(r, 0, true);
        keys = dictKeys(r, outputs);
      } finally {
        if (!leaf) this.replaying--;
      }
    }
    if (!outputs || outputs.length === 0) return UNKNOWN;
    const data = outputs.map((t): Value => (t.sample === null || t.partial ? UNKNOWN : { k: 'array', shape: [t.batch, ...t.sample], framework: 'pytorch' }));
    if (keys) return { k: 'dict', entries: new Map(keys.map((key, i) => [`s:${key}`, { key: str(key), value: data[i] }])) };
    return data.length === 1 ? data[0] : tuple(data);
  }

  /** A tensor standing for data given to a model: a node without inputs (channels-first receptive field). */
  private hiddenInput(sample: Dim[] | null, batch: Dim, span: Span, replay = true): SymTensor {
    const here = this.interp.here(span);
    const layer: LayerInstance = {
      id: this.nextLayerId++,
      framework: 'pytorch',
      className: 'InputLayer',
      kerasName: 'input',
      type: this.inputLayerType,
      bound: this.inputLayerType?.bind({}),
      args: { positional: [], keyword: new Map(), span: here },
      span: here,
      calleeSpan: here,
      trainable: true,
      nodes: [],
      foreign: true,
    };
    const field: FieldState = sample === null ? null : { size: sample.slice(1).map(() => 1), jump: sample.slice(1).map(() => 1) };
    return this.tracer.input(layer, sample, batch, { span: here, anchor: here.end, foreign: true, replay }, field);
  }

  /**
   * Traces a model's forward pass on inputs of the given whole shapes (batch first; null:
   * unknown). `call`: the call on data it comes from, whose other arguments forward() receives too.
   */
  private traceModel(m: TorchModule, model: ModelBuild, shapes: (Dim[] | null)[], span: Span | undefined, from: string | undefined, call?: CallArgs): void {
    const names = new Map<LayerInstance, { name: string; depth: number }>();
    for (const [n, mod] of this.namedModules(m)) {
      names.set(mod.layer, { name: n, depth: n ? n.split('.').length : 0 });
      if (n && !this.qualified.has(mod.layer)) {
        mod.layer.kerasName = n;
        this.qualified.add(mod.layer);
      }
    }
    // A module without forward() that the file never calls (the forward-forward example runs its
    // layers from other methods) is no error: PyTorch raises only when it is called.
    if (!call && m.kind === 'user' && m.cls && this.interp.classMember(m.cls, 'forward')?.k !== 'func') {
      model.incomplete ??= 'it defines no forward(), and the file never calls it';
      return;
    }
    const first = shapes[0];
    if (first && span) model.input = { sample: first.slice(1), batch: first[0] ?? null, span: this.interp.here(span), from };
    const start = this.tracer.nodes.length;
    const inputs = shapes.map((s) => this.hiddenInput(s === null ? null : s.slice(1), s === null ? null : (s[0] ?? null), model.span));
    const outer = this.frame;
    this.frame = { model, names, calls: [], stack: [] };
    let result: Value;
    try {
      let k = 0;
      const tensor = (t: SymTensor): ArgValue => ({ value: { k: 'tensor', t }, span: model.span });
      const positional = call ? call.positional.map((a) => (a.value.k === 'array' ? tensor(inputs[k++]) : a)) : inputs.map(tensor);
      result = this.callModule(m, { positional, keyword: call?.keyword ?? new Map(), span: model.span }, model.span);
    } finally {
      model.moduleCalls = this.frame.calls;
      this.frame = outer;
    }
    model.tracked.length = 0;
    for (const [, mod] of this.namedModules(m)) model.tracked.push(mod.layer);
    const outputs = flatten(result, 0, true);
    if (!outputs || outputs.length === 0) {
      model.incomplete ??= 'its forward() could not be followed';
      return;
    }
    const keys = dictKeys(result, outputs);
    model.graph = { inputs, outputs, nodes: this.tracer.nodes.slice(start), ...(keys ? { outputKeys: keys } : {}) };
  }

  /** Modules already given their qualified name by a model (the first model that registers one names it). */
  private readonly qualified = new WeakSet<LayerInstance>();

  /**
   * Calls a module on tensors: a leaf is a node of the graph; a container runs its children in
   * order; a user module runs its `forward`. Each call is recorded for the model being traced.
   */
  private callModule(m: TorchModule, args: CallArgs, span: Span, opts: { superForward?: boolean; itemSite?: CallSite } = {}): Value {
    const { superForward = false, itemSite } = opts;
    const frame = this.frame;
    const place = frame?.names.get(m.layer);
    let call: ModuleCall | undefined;
    const tensorsIn = args.positional.flatMap((a) => flatten(a.value) ?? []);
    if (frame && place && !superForward) {
      call = { layer: m.layer, name: place.name, depth: place.depth, parent: frame.stack[frame.stack.length - 1], span: this.interp.here(span), foreign: this.interp.foreign, inputs: tensorsIn, outputs: [] };
      frame.calls.push(call);
      frame.stack.push(call);
    }
    let result: Value = UNKNOWN;
    try {
      result = this.runModule(m, args, span, superForward, itemSite);
    } finally {
      if (call) {
        frame!.stack.pop();
        call.outputs = flatten(result, 0, true) ?? [];
        if (m.kind === 'leaf' && call.outputs[0]) call.node = call.outputs[0].producer;
      }
    }
    this.interp.touched();
    return result;
  }

  private runModule(m: TorchModule, args: CallArgs, span: Span, superForward: boolean, itemSite?: CallSite): Value {
    const forward = m.cls && !superForward ? this.interp.classMember(m.cls, 'forward') : undefined;
    if (forward?.k === 'func') {
      return this.interp.inFile(forward.fn.file, span, () => this.interp.callFunction(forward.fn, args, span, this.value(m.layer)));
    }
    if (m.kind === 'sequential') {
      let x: Value = args.positional[0]?.value ?? UNKNOWN;
      for (const child of m.children.values()) {
        const cm = child ? this.modules.get(child) : undefined;
        if (!cm) continue;
        const s = m.itemSpans.get(child!) ?? (child!.foreign ? undefined : child!.span);
        const childSite = s ? this.site(s) : this.site(span);
        x = this.callModule(cm, { positional: [{ value: x, span }], keyword: new Map(), span }, s ?? span, { itemSite: childSite });
      }
      return x;
    }
    if (m.kind === 'list' || m.kind === 'dict') {
      if (!this.replaying) this.interp.warn('not-callable', this.interp.here(span), `${m.layer.className} is not callable: iterate over it (for layer in self.${m.layer.kerasName}: x = layer(x)); PyTorch raises NotImplementedError`);
      return UNKNOWN;
    }
    if (m.kind === 'user') {
      if (m.cls && !superForward) {
        if (!this.replaying) this.interp.warn('no-forward', this.interp.here(span), `${m.layer.className} defines no forward(): PyTorch raises "Module [${m.layer.className}] is missing the required \\"forward\\" function"`);
      }
      return UNKNOWN;
    }
    // A leaf: one node of the graph.
    const tensors = args.positional.flatMap((a) => flatten(a.value) ?? []);
    if (tensors.length === 0 || tensors.length !== args.positional.length) return { k: 'unknown', why: `${m.layer.className} called on values ConvLens could not follow` };
    const site = itemSite ?? this.site(span);
    const outs = this.tracer.apply(m.layer, tensors, site, this.interp.out);
    return { k: 'tensor', t: outs[0] };
  }

  // ------------------------------------------------------------------------------------------
  // Calls of torch paths

  call(path: string, args: CallArgs, span: Span, e?: CallExpr): Value {
    const parts = path.split('.');
    const last = parts[parts.length - 1];
    const p = args.positional.map((a) => a.value);
    if (path === 'torch.nn.Module.__init__') return NONE;
    if (/^torch\.nn\.(modules\.[a-z_.]+\.)?[A-Z]/.test(path) && parts.length >= 3) {
      if (last === 'Parameter') {
        const data = p[0] ?? args.keyword.get('data')?.value;
        const shape = data?.k === 'array' ? data.shape : data?.k === 'tensor' && data.t.sample ? [data.t.batch, ...data.t.sample] : undefined;
        if (!shape) return UNKNOWN;
        const v: Value = { k: 'array', shape, framework: 'pytorch' };
        this.parameters.add(v);
        return v;
      }
      if (last === 'DataParallel' || last === 'DistributedDataParallel') return p[0] ?? UNKNOWN;
      return this.constructModule(last, args, span, e);
    }
    if (path.startsWith('torch.nn.functional.')) return this.functional(path.slice('torch.nn.functional.'.length), args, span, e);
    if (path.startsWith('torch.nn.init.') || path.startsWith('torch.nn.utils.')) return p[0] ?? NONE;
    if (path.startsWith('torch.optim.')) return this.optimizer(path, args, span);
    if (path === 'torch.utils.data.DataLoader') return this.loader(args);
    if (path.startsWith('torchvision.datasets.')) return this.dataset(last, args);
    if (path.startsWith('torchvision.transforms.')) return this.transform(last, args);
    if (path.startsWith('torchvision.models.')) {
      const built = this.torchvisionModel(last, args, span);
      if (built) return built;
      if (/^[a-z]/.test(last) && !last.startsWith('get_')) this.interp.info('unsupported-application', this.interp.here(span), `ConvLens does not know torchvision.models.${last} yet: its parameters and shapes are unknown (a copy of its definition in your folder is analysed)`);
      return { k: 'unknown', why: `torchvision.models.${last}` };
    }
    if (path === 'torchinfo.summary' || path === 'torchsummary.summary') return this.summaryCall(path, args, span);
    if (parts[0] === 'torch') return this.torchFunction(parts.slice(1).join('.'), args, span, e);
    return UNKNOWN;
  }

  /**
   * `torchvision.models.resnet18(weights=…)`: ConvLens' own definition of the builder, run as the
   * user's code is. Published weights (`weights='IMAGENET1K_V1'`, `ResNet18_Weights.DEFAULT`, the
   * legacy `pretrained=True`) are recorded on the model: ConvLens cannot download them, and the
   * trainer must say so. Undefined for a builder ConvLens does not define.
   */
  private torchvisionModel(name: string, args: CallArgs, span: Span): Value | undefined {
    const def = TORCHVISION_MODELS[name];
    if (!def) return undefined;
    const builder = this.interp.bundledModule(def.module, def.source, span).get(name);
    if (builder?.k !== 'func') return undefined;
    const keyword = new Map(args.keyword);
    // torchvision < 0.13 spelled it `pretrained=True` (positionally too); 0.13+ maps it onto weights.
    const legacy = keyword.get('pretrained') ?? args.positional[0];
    keyword.delete('pretrained');
    let weights = keyword.get('weights')?.value;
    if ((!weights || weights.k === 'none') && legacy?.value.k === 'bool' && legacy.value.v) {
      weights = { k: 'str', v: 'DEFAULT' };
      keyword.set('weights', { value: weights, span: legacy.span });
    }
    const positional = args.positional[0]?.value.k === 'bool' ? args.positional.slice(1) : args.positional;
    const model = this.interp.callFunction(builder.fn, { ...args, positional, keyword }, span);
    const m = this.moduleOf(model);
    const label = weights ? weightsLabel(weights) : undefined;
    if (m?.model && label) m.model.pretrained = label;
    // Any size runs (adaptive pooling); the weights were trained at this one.
    const size = name === 'inception_v3' ? 299 : 224;
    if (m?.model) this.builtinInputs.set(m, { shape: [1, 3, size, size], from: `torchvision's ${name} input size (3×${size}×${size})` });
    return model;
  }

  /** `torch.X(…)`: tensor constructors on data, tensor functions on symbolic tensors. */
  private torchFunction(fn: string, args: CallArgs, span: Span, e?: CallExpr): Value {
    const p = args.positional.map((a) => a.value);
    if (CONSTRUCTORS.has(fn)) {
      const shape = constructorShape(fn, args);
      return shape ? { k: 'array', shape, framework: 'pytorch' } : UNKNOWN;
    }
    if (fn.endsWith('_like') && ['randn_like', 'rand_like', 'zeros_like', 'ones_like', 'empty_like', 'full_like', 'randint_like'].includes(fn)) {
      const x = p[0];
      if (x?.k === 'array') return { k: 'array', shape: x.shape, framework: 'pytorch' };
      if (x?.k === 'tensor' && x.t.sample && !x.t.partial) return { k: 'array', shape: [x.t.batch, ...x.t.sample], framework: 'pytorch' };
      return UNKNOWN;
    }
    if (fn === 'tensor' || fn === 'as_tensor' || fn === 'from_numpy' || fn === 'Tensor' || fn === 'FloatTensor' || fn === 'LongTensor') {
      const x = p[0];
      if (x?.k === 'array') return { ...x, framework: 'pytorch' };
      const shape = x ? nestedShape(x) : undefined;
      return shape ? { k: 'array', shape, framework: 'pytorch' } : UNKNOWN;
    }
    if (fn === 'Size') return p[0] ?? tuple([]);
    if (fn === 'is_tensor') return { k: 'bool', v: p[0]?.k === 'tensor' || p[0]?.k === 'array' };
    if (fn === 'jit.is_scripting' || fn === 'jit.is_tracing') return { k: 'bool', v: false };
    if (fn === 'jit.annotate') return p[1] ?? UNKNOWN;
    if (fn === 'no_grad' || fn === 'enable_grad' || fn === 'manual_seed' || fn === 'set_grad_enabled' || fn === 'inference_mode') return NONE;
    if (fn === 'device') return p[0] ?? UNKNOWN;
    // Functions of tensors: the first argument is the tensor (or the list, for cat/stack).
    const x = p[0] ?? args.keyword.get('input')?.value ?? args.keyword.get('tensors')?.value;
    if (!x) return UNKNOWN;
    if (fn === 'cat' || fn === 'concat' || fn === 'concatenate' || fn === 'stack') {
      const dim = args.keyword.get('dim') ?? args.keyword.get('axis') ?? args.positional[1];
      return this.joinTensors(fn === 'stack' ? 'stack' : 'cat', x, dim, span, e);
    }
    if (x.k === 'array') return this.arrayFunction(fn, x, args);
    if (x.k !== 'tensor') return UNKNOWN;
    const rest: CallArgs = { ...args, positional: args.positional.slice(1) };
    return this.tensorMethod(x.t, fn, rest, span, e, `torch.${fn}`);
  }

  /** `torch.cat([a, b], dim=1)`, `torch.stack(…)`: a node joining the tensors. */
  private joinTensors(kind: 'cat' | 'stack', list: Value, dim: ArgValue | undefined, span: Span, e?: CallExpr): Value {
    const ts = flatten(list);
    if (!ts || ts.length === 0) return list.k === 'seq' && list.items.every((x) => x.k === 'array') ? this.arrayJoin(kind, list, dim?.value) : UNKNOWN;
    const config = new Map<string, Value>(dim ? [['dim', dim.value]] : []);
    const spans = e?.args[0] && (e.args[0].value.t === 'list' || e.args[0].value.t === 'tuple') ? e.args[0].value.items.map((i) => i.span) : undefined;
    return this.op(kind, `torch.${kind}`, config, ts, span, e, spans);
  }

  private arrayJoin(kind: 'cat' | 'stack', list: Extract<Value, { k: 'seq' }>, dim: Value | undefined): Value {
    const shapes = list.items.map((x) => (x as { shape: Dim[] }).shape);
    const d0 = dim?.k === 'num' ? dim.v : 0;
    const first = shapes[0];
    if (kind === 'stack') {
      const i = d0 < 0 ? first.length + 1 + d0 : d0;
      return { k: 'array', shape: [...first.slice(0, i), shapes.length, ...first.slice(i)], framework: 'pytorch' };
    }
    const i = d0 < 0 ? first.length + d0 : d0;
    const out = first.slice();
    let total: Dim = 0;
    for (const s of shapes) total = total === null || s[i] === null || s[i] === undefined ? null : total + (s[i] as number);
    out[i] = total;
    return { k: 'array', shape: out, framework: 'pytorch' };
  }

  /**
   * A node of the graph for an operation: its registry type bound to `config` (a value per
   * argument name), applied to `inputs`. `display` names it in rows and hovers (`F.relu`).
   */
  private op(typeName: string, display: string, config: Map<string, Value>, inputs: SymTensor[], span: Span, e?: CallExpr, inputSpans?: Span[]): Value {
    const type = findLayer(typeName, 'pytorch');
    const here = this.interp.here(span);
    const keyword = new Map<string, ArgValue>([...config].map(([k, v]) => [k, { value: v, span: here }]));
    const args: CallArgs = { positional: [], keyword, span: here };
    const calleeSpan = e ? this.interp.here(e.fn.span) : here;
    // Sizes read from a tensor whose shape is unknown (`x.view(x.size(0), -1)` with no input):
    // the result is unknown too, which needs no note of its own.
    const blind = inputs.some((t) => t.sample === null || t.partial || t.batch === null || t.sample.some((d) => d === null)) && [...config.values()].some(hasUnknown);
    const layer = this.newLayer(display, blind ? undefined : type, args, span, calleeSpan);
    if (blind) {
      (layer as { type?: LayerType }).type = type;
      layer.bindFailed = 'unknown';
    }
    const site = this.site(span);
    if (inputSpans && !site.foreign) site.inputSpans = inputSpans;
    const outs = this.tracer.apply(layer, inputs, site, this.interp.out);
    return outs.length === 1 ? { k: 'tensor', t: outs[0] } : tuple(outs.map((t) => ({ k: 'tensor', t }) as Value));
  }

  /** `F.relu(x)`, `F.max_pool2d(x, 2)`, `F.interpolate(x, scale_factor=2)`, `F.pad(x, [1, 1])`: the module definitions applied once. */
  private functional(fn: string, args: CallArgs, span: Span, e?: CallExpr): Value {
    if (FUNCTIONAL_LOSSES.has(fn)) {
      // F.cross_entropy(input, target, weight, …): the loss's own arguments follow the two tensors.
      this.noteLoss(`F.${fn}`, span, torchLossArgs(args, 2));
      return { k: 'array', shape: [], framework: 'pytorch' };
    }
    const x = args.positional[0]?.value ?? args.keyword.get('input')?.value;
    const ts = x ? flatten(x) : undefined;
    if (!x || !ts || ts.length !== 1) return x?.k === 'array' ? { ...x } : UNKNOWN;
    const rest: CallArgs = { ...args, positional: args.positional.slice(1), keyword: new Map([...args.keyword].filter(([k]) => k !== 'input')) };
    if (fn === 'pad') {
      const pad = rest.positional[0]?.value ?? rest.keyword.get('pad')?.value;
      const mode = rest.positional[1]?.value ?? rest.keyword.get('mode')?.value;
      const config = new Map<string, Value>(pad ? [['pad', pad]] : []);
      if (mode) config.set('mode', mode);
      // The fill value trains into the graph: F.pad(x, p, 'constant', 1.0) is not a zero pad.
      const value = rest.positional[2]?.value ?? rest.keyword.get('value')?.value;
      if (value) config.set('value', value);
      return this.op('pad', 'F.pad', config, ts, span, e);
    }
    if (UNARY_FUNCTIONS.has(fn)) return this.op('unary', `F.${fn}`, new Map([['fn', str(fn === 'clip' ? 'clamp' : fn)]]), ts, span, e);
    const spec = FUNCTIONAL[fn];
    if (!spec) return { k: 'unknown', why: `F.${fn}() is not analysed yet` };
    const keyword = new Map<string, ArgValue>();
    rest.positional.forEach((a, i) => {
      const name = spec.params?.[i];
      if (name) keyword.set(name, a);
    });
    for (const [k, v] of rest.keyword) keyword.set(k, v);
    for (const d of spec.drop ?? []) keyword.delete(d);
    const config = new Map([...keyword].map(([k, v]) => [k, v.value]));
    return this.op(spec.type, `F.${fn}`, config, ts, span, e);
  }

  // ------------------------------------------------------------------------------------------
  // Tensors

  private tensorAttribute(t: SymTensor, name: string, self: Value): Value {
    // The device flags (`is_cuda`, `is_xpu`, `is_mps`): ConvLens traces on no device.
    if (DEVICE_FLAGS.has(name)) return { k: 'bool', v: name === 'is_cpu' };
    switch (name) {
      case 'shape':
        return this.sizeOf(t);
      case 'ndim':
        return t.sample === null || t.partial ? UNKNOWN : num(t.sample.length + 1);
      case 'requires_grad':
      case 'is_sparse':
      case 'is_quantized':
        return { k: 'bool', v: false };
      case 'dtype':
        return { k: 'module', path: 'torch.float32' };
      case 'device':
        return { k: 'module', path: 'torch.device' };
      case 'data':
        return self;
      case 'T':
        return t.sample && !t.partial ? this.shapeOp(t, 'permute', new Map([['dims', tuple([...Array(t.sample.length + 1).keys()].reverse().map((i) => num(i)))]]), { start: 0, end: 0 }) : UNKNOWN;
      default:
        return { k: 'method', self, name };
    }
  }

  /** `x.size()` / `x.shape`: torch.Size, batch first. */
  private sizeOf(t: SymTensor): Value {
    if (t.sample === null || t.partial) return { k: 'unknown', why: 'the shape of a tensor ConvLens does not know' };
    return tuple([t.batch, ...t.sample].map((d) => (d === null ? { k: 'unknown', why: 'a size ConvLens does not know' } : num(d))));
  }

  private shapeOp(t: SymTensor, typeName: string, config: Map<string, Value>, span: Span, e?: CallExpr, display?: string): Value {
    return this.op(typeName, display ?? `.${typeName}`, config, [t], span, e);
  }

  /** Sizes given as separate ints or as one tuple (`x.view(-1, 784)`, `x.view((-1, 784))`, `x.permute(0, 2, 1)`). */
  private sizesArg(args: CallArgs, key: string): Value | undefined {
    const p = args.positional.map((a) => a.value);
    if (p.length === 1 && (p[0].k === 'seq' || p[0].k === 'unknown')) return p[0];
    if (p.length) return tuple(p);
    return args.keyword.get(key)?.value;
  }

  private tensorMethod(t: SymTensor, name: string, args: CallArgs, span: Span, e?: CallExpr, display?: string): Value {
    const p = args.positional.map((a) => a.value);
    const kw = (k: string, i: number): Value | undefined => args.keyword.get(k)?.value ?? p[i];
    const label = display ?? `.${name}`;
    const self: Value = { k: 'tensor', t };
    if (SAME_TENSOR.has(name)) return self;
    switch (name) {
      case 'size': {
        const size = this.sizeOf(t);
        const d = kw('dim', 0);
        if (!d) return size;
        if (d.k !== 'num' || size.k !== 'seq') return UNKNOWN;
        const i = d.v < 0 ? size.items.length + d.v : d.v;
        return size.items[i] ?? UNKNOWN;
      }
      case 'dim':
      case 'ndimension':
        return t.sample === null || t.partial ? UNKNOWN : num(t.sample.length + 1);
      case 'numel':
      case 'nelement': {
        if (t.sample === null || t.partial) return UNKNOWN;
        const n = product([t.batch, ...t.sample]);
        return n === null ? UNKNOWN : num(n);
      }
      case 'view':
      case 'reshape': {
        const shape = this.sizesArg(args, 'shape');
        if (!shape) return UNKNOWN;
        return this.shapeOp(t, 'view', new Map([['shape', shape]]), span, e, label);
      }
      case 'view_as':
      case 'reshape_as':
      case 'expand_as': {
        const o = p[0];
        const shape = o?.k === 'tensor' ? this.sizeOf(o.t) : o?.k === 'array' ? tuple(o.shape.map((d) => (d === null ? UNKNOWN : num(d)))) : UNKNOWN;
        return this.shapeOp(t, name === 'expand_as' ? 'expand' : 'view', new Map([[name === 'expand_as' ? 'sizes' : 'shape', shape]]), span, e, label);
      }
      case 'flatten': {
        const config = new Map<string, Value>([['start_dim', kw('start_dim', 0) ?? num(0)]]);
        const end = kw('end_dim', 1);
        if (end) config.set('end_dim', end);
        return this.op('Flatten', label, config, [t], span, e);
      }
      case 'permute': {
        const dims = this.sizesArg(args, 'dims');
        return dims ? this.shapeOp(t, 'permute', new Map([['dims', dims]]), span, e, label) : UNKNOWN;
      }
      case 'transpose':
      case 'swapaxes': {
        const a = kw('dim0', 0);
        const b = kw('dim1', 1);
        if (a?.k !== 'num' || b?.k !== 'num' || t.sample === null || t.partial) return UNKNOWN;
        const rank = t.sample.length + 1;
        const order = [...Array(rank).keys()];
        const i = a.v < 0 ? rank + a.v : a.v;
        const j = b.v < 0 ? rank + b.v : b.v;
        if (order[i] === undefined || order[j] === undefined) return this.shapeOp(t, 'permute', new Map([['dims', tuple([a, b])]]), span, e, label);
        [order[i], order[j]] = [order[j], order[i]];
        return this.shapeOp(t, 'permute', new Map([['dims', tuple(order.map((x) => num(x)))]]), span, e, label);
      }
      case 't': {
        if (t.sample === null || t.partial) return UNKNOWN;
        return this.shapeOp(t, 'permute', new Map([['dims', tuple([...Array(t.sample.length + 1).keys()].reverse().map((i) => num(i)))]]), span, e, label);
      }
      case 'squeeze':
      case 'unsqueeze': {
        const d = kw('dim', 0);
        return this.shapeOp(t, name, new Map(d ? [['dim', d]] : []), span, e, label);
      }
      case 'expand': {
        const sizes = this.sizesArg(args, 'size');
        return sizes ? this.shapeOp(t, 'expand', new Map([['sizes', sizes]]), span, e, label) : UNKNOWN;
      }
      case 'max':
      case 'min': {
        const d = kw('dim', 0);
        if (d?.k === 'tensor') return { k: 'unknown', why: `the element-wise ${name} of two tensors is not analysed yet` };
        if (!d) return this.op('reduce', label, new Map([['fn', str(name === 'max' ? 'amax' : 'amin')]]), [t], span, e);
        const keepdim = kw('keepdim', 1);
        const values = this.op('reduce', label, new Map<string, Value>([['fn', str(name === 'max' ? 'amax' : 'amin')], ['dim', d], ...(keepdim ? [['keepdim', keepdim] as [string, Value]] : [])]), [t], span, e);
        // (values, indices): the indices have the values' shape.
        return tuple([values, values]);
      }
      case 'chunk':
      case 'split':
      case 'tensor_split':
      case 'unbind':
        return this.splitTensor(t, name, args, span, e, label);
      case 'add':
      case 'add_':
      case 'sub':
      case 'sub_':
      case 'mul':
      case 'mul_':
      case 'div':
      case 'div_':
      case 'pow':
      case 'pow_': {
        const other = kw('other', 0) ?? kw('exponent', 0);
        const op = name.startsWith('add') ? '+' : name.startsWith('sub') ? '-' : name.startsWith('mul') ? '*' : name.startsWith('div') ? '/' : '**';
        return other ? this.binary(op, self, other, span) : UNKNOWN;
      }
      case 'matmul':
      case 'mm':
      case 'bmm':
        return { k: 'unknown', why: `${label}() is not analysed yet` };
      case 'numpy':
      case 'item':
      case 'tolist':
        return UNKNOWN;
      case 'repeat':
        return { k: 'unknown', why: 'repeat() is not analysed yet' };
      default:
        break;
    }
    if (REDUCTIONS.has(name)) {
      const config = new Map<string, Value>([['fn', str(name)]]);
      const d = kw('dim', 0) ?? args.keyword.get('axis')?.value;
      if (d) config.set('dim', d);
      const keepdim = kw('keepdim', 1);
      if (keepdim) config.set('keepdim', keepdim);
      return this.op('reduce', label, config, [t], span, e);
    }
    if (UNARY_FUNCTIONS.has(name) || UNARY_FUNCTIONS.has(name.replace(/_$/, ''))) return this.op('unary', label, new Map([['fn', str(name.replace(/_$/, '').replace('clip', 'clamp'))]]), [t], span, e);
    const fnSpec = FUNCTIONAL[name] ?? FUNCTIONAL[name.replace(/_$/, '')];
    if (fnSpec && (/^(relu|relu6|sigmoid|tanh|softmax|log_softmax|softmin|gelu|silu|elu|leaky_relu|hardswish|hardsigmoid|mish|softplus)_?$/.test(name))) {
      const keyword = new Map<string, ArgValue>();
      args.positional.forEach((a, i) => {
        const n = fnSpec.params?.[i];
        if (n) keyword.set(n, a);
      });
      for (const [k, v] of args.keyword) keyword.set(k, v);
      for (const d of fnSpec.drop ?? []) keyword.delete(d);
      return this.op(fnSpec.type, label, new Map([...keyword].map(([k, v]) => [k, v.value])), [t], span, e);
    }
    if (display && FUNCTIONAL[name]) return this.functional(name, { ...args, positional: [{ value: self, span }, ...args.positional] }, span, e);
    return { k: 'unknown', why: `${label}() on a tensor is not analysed yet` };
  }

  /** `x.chunk(2, dim=1)`, `torch.split(x, [a, b], 1)`: one indexing node per part. */
  private splitTensor(t: SymTensor, name: string, args: CallArgs, span: Span, e: CallExpr | undefined, label: string): Value {
    const p = args.positional.map((a) => a.value);
    if (t.sample === null || t.partial) return UNKNOWN;
    const whole = [t.batch, ...t.sample];
    const dimV = args.keyword.get('dim')?.value ?? p[1];
    const d0 = name === 'unbind' ? (p[0]?.k === 'num' ? p[0].v : 0) : dimV?.k === 'num' ? dimV.v : 0;
    const dim = d0 < 0 ? whole.length + d0 : d0;
    const size = whole[dim];
    if (size === null || size === undefined) return UNKNOWN;
    let parts: number[];
    const arg = p[0] ?? args.keyword.get('chunks')?.value ?? args.keyword.get('split_size_or_sections')?.value ?? args.keyword.get('split_size')?.value;
    if (name === 'unbind') parts = Array(size).fill(1);
    else if (arg?.k === 'num' && name === 'chunk') {
      const each = Math.ceil(size / arg.v);
      parts = [];
      for (let s = 0; s < size; s += each) parts.push(Math.min(each, size - s));
    } else if (arg?.k === 'num' && name === 'split') {
      parts = [];
      for (let s = 0; s < size; s += arg.v) parts.push(Math.min(arg.v, size - s));
    } else if (arg?.k === 'seq' && arg.items.every((x) => x.k === 'num')) parts = arg.items.map((x) => (x as { v: number }).v);
    else return UNKNOWN;
    if (parts.length > 64) return UNKNOWN;
    const out: Value[] = [];
    let start = 0;
    for (const n of parts) {
      const index: Value[] = whole.map((_, i) => (i === dim ? (name === 'unbind' ? tuple([str('int'), num(start)]) : tuple([str('slice'), num(start), num(start + n), num(1)])) : tuple([str('slice'), NONE, NONE, num(1)])));
      out.push(this.op('getitem', label, new Map([['index', tuple(index)]]), [t], span, e));
      start += n;
    }
    return tuple(out);
  }

  /** Two tensors combined element-wise: a node with both inputs. */
  private binaryTensors(typeName: 'add' | 'sub' | 'mul' | 'div', a: SymTensor, b: SymTensor, span: Span, e?: CallExpr): Value {
    return this.op(typeName, typeName, new Map(), [a, b], span, e);
  }

  binary(op: string, l: Value, r: Value, span: Span): Value {
    const names: Record<string, 'add' | 'sub' | 'mul' | 'div'> = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div' };
    if (l.k === 'tensor' && r.k === 'tensor') {
      const typeName = names[op];
      if (!typeName) return { k: 'unknown', why: `'${op}' between tensors` };
      return this.binaryTensors(typeName, l.t, r.t, span);
    }
    const t = l.k === 'tensor' ? l : r.k === 'tensor' ? r : undefined;
    if (t) {
      const c = t === l ? r : l;
      if (!['+', '-', '*', '/', '**'].includes(op)) return { k: 'unknown', why: `'${op}' of a tensor` };
      const config = new Map<string, Value>([['op', str(op)], ['reversed', { k: 'bool', v: t === r }]]);
      if (c.k === 'num' || c.k === 'bool') config.set('scalar', c.k === 'bool' ? num(c.v ? 1 : 0) : c);
      else if (c.k === 'array') config.set('shape', tuple(c.shape.map((d) => (d === null ? UNKNOWN : num(d)))));
      else if (c.k !== 'unknown') return { k: 'unknown', why: `'${op}' of a tensor and ${c.k}` };
      if (c.k === 'unknown') return { k: 'unknown', why: `'${op}' of a tensor and a value ConvLens does not know` };
      return this.op('arith', op === '+' ? 'add' : op === '-' ? 'sub' : op === '*' ? 'mul' : op === '/' ? 'div' : 'pow', config, [t.t], span);
    }
    // Data stays data: element-wise operations broadcast the shapes.
    const la = l.k === 'array' ? l.shape : undefined;
    const ra = r.k === 'array' ? r.shape : undefined;
    if (la && ra) return { k: 'array', shape: broadcastData(la, ra), framework: 'pytorch' };
    if (la && (r.k === 'num' || r.k === 'bool')) return l;
    if (ra && (l.k === 'num' || l.k === 'bool')) return r;
    return UNKNOWN;
  }

  subscript(v: Value, index: IndexItem[], span: Span): Value {
    if (v.k === 'layer') return this.moduleSubscript(v, index, span);
    if (v.k === 'array') return this.interp.keras.subscript(v, index, span);
    if (v.k !== 'tensor') return UNKNOWN;
    const items: Value[] = [];
    const flat = index.length === 1 && 'k' in index[0] && index[0].k === 'seq' ? index[0].items : index;
    for (const it of flat) {
      if ('slice' in it) {
        const b = (x: Value | undefined): Value | undefined => (x === undefined || x.k === 'none' ? NONE : x.k === 'num' && Number.isInteger(x.v) ? x : undefined);
        const [lo, hi, st] = [b(it.lower), b(it.upper), b(it.step)];
        if (!lo || !hi || !st) return { k: 'unknown', why: 'a slice ConvLens cannot evaluate' };
        items.push(tuple([str('slice'), lo, hi, st.k === 'none' ? num(1) : st]));
      } else if (it.k === 'num' && Number.isInteger(it.v)) items.push(tuple([str('int'), it]));
      else if (it.k === 'none') items.push(tuple([str('none')]));
      else if (it.k === 'module' && it.path === 'Ellipsis') items.push(tuple([str('ellipsis')]));
      else return { k: 'unknown', why: 'indexing a tensor with values ConvLens cannot read' };
    }
    return this.op('getitem', 'getitem', new Map([['index', tuple(items)]]), [v.t], span);
  }

  /** `self.features[0]`, `self.features[:-1]` (a Sequential of those children), `self.blocks['a']`. */
  private moduleSubscript(v: LayerValue, index: IndexItem[], span: Span): Value {
    const m = this.moduleOf(v);
    if (!m || index.length !== 1) return UNKNOWN;
    const ix = index[0];
    const children = [...m.children.values()].filter((c): c is LayerInstance => c !== null);
    if ('slice' in ix) {
      if (m.kind !== 'sequential' && m.kind !== 'list') return UNKNOWN;
      const n = (x: Value | undefined): number | undefined | null => (x === undefined || x.k === 'none' ? undefined : x.k === 'num' ? x.v : null);
      const [lo, hi, st] = [n(ix.lower), n(ix.upper), n(ix.step)];
      if (lo === null || hi === null || st === null) return UNKNOWN;
      const picked = sliceItems(children, lo, hi, st ?? 1);
      const layer = this.newLayer(m.kind === 'list' ? 'ModuleList' : 'Sequential', undefined, { positional: [], keyword: new Map(), span }, span, span);
      layer.weights = [];
      const out = this.newModule(layer, m.kind);
      // Slicing keeps the children's names (PyTorch's Sequential.__getitem__ with a slice).
      const keys = [...m.children].filter(([, c]) => c !== null && picked.includes(c)).map(([k]) => k);
      picked.forEach((c, i) => out.children.set(keys[i] ?? String(i), c));
      this.treeVersion++;
      for (const c of picked) if (m.itemSpans.has(c)) out.itemSpans.set(c, m.itemSpans.get(c)!);
      this.candidate(out, span);
      return this.value(layer);
    }
    if (ix.k === 'str') {
      const c = m.children.get(ix.v);
      return c ? this.value(c) : UNKNOWN;
    }
    if (ix.k === 'num' && Number.isInteger(ix.v)) {
      const c = children[ix.v < 0 ? children.length + ix.v : ix.v];
      return c ? this.value(c) : UNKNOWN;
    }
    return UNKNOWN;
  }

  iterate(v: Value, span: Span): Iterable<Value> | undefined {
    const m = this.moduleOf(v);
    if (m) {
      const children = [...m.children].filter(([, c]) => c !== null) as [string, LayerInstance][];
      return m.kind === 'dict' ? children.map(([k]) => str(k)) : children.map(([, c]) => this.value(c));
    }
    if (v.k === 'object' && v.obj.cls === LOADER_CLASS) {
      // One batch stands for them all: its shapes are what the loop's code sees.
      const batch = v.obj.attrs.get('batch');
      return batch ? [batch] : undefined;
    }
    if (v.k === 'object' && v.obj.cls === DATASET_CLASS) {
      const sample = v.obj.attrs.get('sample');
      return sample ? [sample] : undefined;
    }
    void span;
    return undefined;
  }

  len(v: Value): Value {
    const m = this.moduleOf(v);
    if (m) return num([...m.children.values()].filter((c) => c !== null).length);
    if (v.k === 'object' && v.obj.cls === DATASET_CLASS) return v.obj.attrs.get('size') ?? UNKNOWN;
    return UNKNOWN;
  }

  isInstance(v: Value, path: string): boolean | undefined {
    const last = path.slice(path.lastIndexOf('.') + 1);
    if (path === 'torch.Tensor' || path === 'torch.nn.Parameter') return v.k === 'tensor' || v.k === 'array' ? true : v.k === 'unknown' ? undefined : false;
    if (!/^torch\.nn\./.test(path)) return undefined;
    const m = this.moduleOf(v);
    if (!m) return v.k === 'unknown' ? undefined : false;
    if (last === 'Module') return true;
    if (last in CONTAINERS) return m.kind === CONTAINERS[last];
    const type = m.layer.type?.name ?? m.layer.className;
    if (type === last) return true;
    return m.cls ? this.interp.frameworkBases(m.cls).some((b) => b.endsWith(`.${last}`)) : false;
  }

  named(v: Value, name: string, global: boolean): void {
    const m = this.moduleOf(v);
    const model = m?.model;
    if (!model) return;
    if (model.varName === undefined || (global && !this.globallyNamed.has(model))) model.varName = name;
    if (global) this.globallyNamed.add(model);
  }

  private readonly globallyNamed = new WeakSet<ModelBuild>();

  // ------------------------------------------------------------------------------------------
  // Data: arrays, datasets, loaders, transforms

  private arrayAttribute(a: Extract<Value, { k: 'array' }>, name: string): Value {
    if (name === 'shape') return tuple(a.shape.map((d) => (d === null ? UNKNOWN : num(d))));
    if (name === 'ndim') return num(a.shape.length);
    if (name === 'T') return { ...a, shape: [...a.shape].reverse() };
    if (name === 'data') return a;
    if (name === 'requires_grad') {
      const owner = this.owners.get(a);
      return { k: 'bool', v: owner ? !owner.weight.buffer && owner.weight.trainable : false };
    }
    if (/^is_(cuda|xpu|mps|meta)$/.test(name)) return { k: 'bool', v: false };
    return { k: 'method', self: a, name };
  }

  private arrayMethod(a: Extract<Value, { k: 'array' }>, name: string, args: CallArgs): Value {
    const p = args.positional.map((x) => x.value);
    if (SAME_TENSOR.has(name) || name === 'numpy') return a;
    switch (name) {
      case 'size': {
        const size = tuple(a.shape.map((d) => (d === null ? UNKNOWN : num(d))));
        const d = p[0] ?? args.keyword.get('dim')?.value;
        if (!d) return size;
        if (d.k !== 'num') return UNKNOWN;
        return (size as { items: Value[] }).items[d.v < 0 ? a.shape.length + d.v : d.v] ?? UNKNOWN;
      }
      case 'dim':
        return num(a.shape.length);
      case 'numel': {
        const n = product(a.shape);
        return n === null ? UNKNOWN : num(n);
      }
      case 'view':
      case 'reshape': {
        const dims = p.length === 1 ? p[0] : tuple(p);
        const r = reshapeArray(a.shape, dims);
        return r.k === 'array' ? { ...r, framework: 'pytorch' } : r;
      }
      case 'unsqueeze': {
        const d = p[0]?.k === 'num' ? p[0].v : undefined;
        if (d === undefined) return UNKNOWN;
        const s = a.shape.slice();
        s.splice(d < 0 ? s.length + 1 + d : d, 0, 1);
        return { k: 'array', shape: s, framework: 'pytorch' };
      }
      case 'squeeze': {
        const d = p[0]?.k === 'num' ? p[0].v : undefined;
        const shape = d === undefined ? a.shape.filter((x) => x !== 1) : a.shape.filter((x, i) => !(i === (d < 0 ? a.shape.length + d : d) && x === 1));
        return { k: 'array', shape, framework: 'pytorch' };
      }
      case 'permute': {
        const dims = (p.length === 1 && p[0].k === 'seq' ? p[0].items : p).map((x) => (x.k === 'num' ? x.v : NaN));
        if (dims.length !== a.shape.length || dims.some((x) => Number.isNaN(x))) return UNKNOWN;
        return { k: 'array', shape: dims.map((i) => a.shape[i < 0 ? a.shape.length + i : i] ?? null), framework: 'pytorch' };
      }
      case 'flatten':
        return { k: 'array', shape: [product(a.shape)], framework: 'pytorch' };
      default:
        return UNKNOWN;
    }
  }

  /** `torch.flatten(data)`, `torch.unsqueeze(data, 0)` on data: the method of the data. */
  private arrayFunction(fn: string, a: Extract<Value, { k: 'array' }>, args: CallArgs): Value {
    return this.arrayMethod(a, fn, { ...args, positional: args.positional.slice(1) });
  }

  /** torchvision.datasets.X(root, train=…, transform=…): the shape of one sample after the transform. */
  private dataset(name: string, args: CallArgs): Value {
    const ds = DATASETS[name];
    if (!ds) return { k: 'unknown', why: `torchvision.datasets.${name}` };
    // Named as the trainer names its data (Keras' dataset names).
    const dataName = name === 'FashionMNIST' ? 'fashion_mnist' : name.toLowerCase();
    if (!this.interp.datasets.includes(dataName)) this.interp.datasets.push(dataName);
    let image: ImageShape = { channels: ds.sample[0], height: ds.sample[1], width: ds.sample[2] };
    const transform = args.keyword.get('transform')?.value;
    let tensor = false;
    if (transform?.k === 'object' && transform.obj.cls === TRANSFORM_CLASS) {
      const steps = transform.obj.attrs.get('steps');
      for (const s of steps?.k === 'seq' ? steps.items : []) {
        const r = applyTransform(s, image);
        image = r.image;
        tensor ||= r.tensor;
      }
    } else if (transform && transform.k !== 'none') image = { channels: null, height: null, width: null };
    const train = args.keyword.get('train')?.value;
    // The training set's Normalize is the trainer's (a test set's is normally the same).
    const normalize = transform ? this.normalizationOf(transform) : undefined;
    if (normalize && !(train?.k === 'bool' && !train.v)) this.recipe.normalize ??= normalize;
    const size = train?.k === 'bool' && !train.v ? (name.includes('MNIST') ? 10000 : 10000) : ds.size;
    const sample: Value = tensor && image.channels !== null && image.height !== null && image.width !== null ? { k: 'array', shape: [image.channels, image.height, image.width], framework: 'pytorch' } : { k: 'unknown', why: 'a PIL image (add transforms.ToTensor() to get tensors)' };
    return {
      k: 'object',
      obj: { cls: DATASET_CLASS, attrs: new Map([['sample', tuple([sample, { k: 'unknown', why: 'a label' }])], ['size', num(size)], ['classes', num(ds.classes)], ['train', { k: 'bool', v: !(train?.k === 'bool' && !train.v) }]]) },
    };
  }

  /**
   * The first `transforms.Normalize(mean, std)` of a transform (inside a Compose, however nested)
   * whose mean and std are numbers or sequences of numbers; undefined otherwise.
   */
  private normalizationOf(v: Value): InputNormalization | undefined {
    if (v.k !== 'object' || v.obj.cls !== TRANSFORM_CLASS) return undefined;
    const kind = v.obj.attrs.get('kind');
    if (kind?.k === 'str' && kind.v === 'Normalize') {
      const numbers = (x: Value | undefined): number[] | undefined =>
        x?.k === 'num' ? [x.v] : x?.k === 'seq' && x.items.length > 0 && x.items.every((d) => d.k === 'num') ? x.items.map((d) => (d as { v: number }).v) : undefined;
      const mean = numbers(v.obj.attrs.get('arg'));
      const std = numbers(v.obj.attrs.get('std'));
      const span = this.transformSpans.get(v.obj);
      return mean && std && span ? { mean, std, span } : undefined;
    }
    if (kind?.k === 'str' && kind.v === 'Compose') {
      const steps = v.obj.attrs.get('steps');
      for (const s of steps?.k === 'seq' ? steps.items : []) {
        const n = this.normalizationOf(s);
        if (n) return n;
      }
    }
    return undefined;
  }

  /** transforms.Compose([...]), transforms.ToTensor(), transforms.Resize(32), …: the steps, applied to a dataset's images. */
  private transform(name: string, args: CallArgs): Value {
    const p = args.positional.map((a) => a.value);
    const step = (kind: string, value?: Value): Value => ({ k: 'object', obj: { cls: TRANSFORM_CLASS, attrs: new Map<string, Value>([['kind', str(kind)], ['arg', value ?? NONE], ['steps', tuple([])]]) } });
    if (name === 'Compose') {
      const list = p[0] ?? args.keyword.get('transforms')?.value;
      const it = list ? this.interp.iterate(list, args.span) : undefined;
      const items = it ? [...it] : [];
      const v = step('Compose');
      (v as { obj: ObjectValue }).obj.attrs.set('steps', tuple(items));
      return v;
    }
    const arg =
      name === 'Grayscale'
        ? (args.keyword.get('num_output_channels')?.value ?? p[0] ?? num(1))
        : name === 'Normalize'
          ? (p[0] ?? args.keyword.get('mean')?.value)
          : (p[0] ?? args.keyword.get('size')?.value ?? args.keyword.get('padding')?.value);
    const v = step(name, arg);
    if (name === 'Normalize') {
      const obj = (v as { obj: ObjectValue }).obj;
      obj.attrs.set('std', p[1] ?? args.keyword.get('std')?.value ?? NONE);
      this.transformSpans.set(obj, this.interp.here(args.span));
    }
    (v as { obj: ObjectValue }).obj.attrs.set('steps', tuple([v]));
    return v;
  }

  /** DataLoader(dataset, batch_size=…): its first batch, for the loops that read it. */
  private loader(args: CallArgs): Value {
    const ds = args.positional[0]?.value ?? args.keyword.get('dataset')?.value;
    const bsArg = args.keyword.get('batch_size')?.value ?? args.positional[1]?.value;
    const batchSize: Dim = bsArg === undefined ? 1 : bsArg.k === 'num' ? bsArg.v : bsArg.k === 'none' ? null : null;
    // The training loader's batch size is the trainer's (a test loader, train=False, is not).
    const trainSet = !(ds?.k === 'object' && ds.obj.cls === DATASET_CLASS && ds.obj.attrs.get('train')?.k === 'bool' && !(ds.obj.attrs.get('train') as { v: boolean }).v);
    if (trainSet && batchSize !== null && this.recipe.batchSize === undefined) this.recipe.batchSize = batchSize;
    let batch: Value = { k: 'unknown', why: 'a batch of data ConvLens cannot see' };
    if (ds?.k === 'object' && ds.obj.cls === DATASET_CLASS) {
      const sample = ds.obj.attrs.get('sample');
      const x = sample?.k === 'seq' ? sample.items[0] : undefined;
      if (x?.k === 'array' && batchSize !== null) batch = tuple([{ k: 'array', shape: [batchSize, ...x.shape], framework: 'pytorch' }, { k: 'array', shape: [batchSize], framework: 'pytorch' }]);
    }
    return { k: 'object', obj: { cls: LOADER_CLASS, attrs: new Map([['batch', batch]]) } };
  }

  /** torch.optim.X(model.parameters(), lr=…) and torch.optim.lr_scheduler.X(optimizer, …): recorded for the trainer (the first of each). */
  private optimizer(path: string, args: CallArgs, span: Span): Value {
    const name = path.slice(path.lastIndexOf('.') + 1);
    if (!/^[A-Z]/.test(name)) return UNKNOWN;
    const a = new Map<string, Value>();
    for (const [k, v] of args.keyword) a.set(k, v.value);
    if (path.includes('lr_scheduler')) {
      // Positional arguments are named by the scheduler registry (core/train/schedulers.ts), which knows each signature.
      this.recipe.scheduler ??= { name, args: a, positional: args.positional.slice(1).map((p) => p.value), span: this.interp.here(span) };
      return UNKNOWN;
    }
    if (args.positional[1] && !a.has('lr')) a.set('lr', args.positional[1].value);
    const spec = { name, args: a, span: this.interp.here(span) };
    this.recipe.optimizer ??= spec;
    return { k: 'optimizer', spec };
  }

  /** A loss the training code computes (`F.nll_loss(output, target)`, `criterion(output, target)`): the first one is the trainer's. */
  private noteLoss(name: string, span: Span, args?: LossArgs): void {
    this.recipe.loss ??= { name, span: this.interp.here(span), ...(args ? { args } : {}) };
  }

  /** torchinfo.summary(model, input_size=(1, 3, 32, 32)) / torchsummary.summary(model, (3, 32, 32)): the model's input. */
  private summaryCall(path: string, args: CallArgs, span: Span): Value {
    const model = args.positional[0]?.value ?? args.keyword.get('model')?.value;
    const m = model ? this.moduleOf(model) : undefined;
    if (!m?.model) return NONE;
    const data = args.keyword.get('input_data')?.value ?? (path === 'torchinfo.summary' ? args.positional[2]?.value : undefined);
    let shapes: Dim[][] | undefined;
    if (data) {
      const arrays = data.k === 'array' ? [data] : data.k === 'seq' ? data.items : [];
      if (arrays.length && arrays.every((x) => x.k === 'array')) shapes = arrays.map((x) => (x as { shape: Dim[] }).shape);
    } else {
      const size = args.keyword.get('input_size')?.value ?? args.positional[1]?.value;
      const dims = size ? shapesOf(size) : undefined;
      if (dims) {
        if (path === 'torchsummary.summary') {
          // torchsummary takes one sample's shape; its forward pass runs a batch of 2 (printed as -1).
          const bs = args.keyword.get('batch_size')?.value ?? args.positional[2]?.value;
          const b = bs?.k === 'num' && bs.v > 0 ? bs.v : 2;
          shapes = dims.map((d) => [b, ...d]);
        } else {
          const bs = args.keyword.get('batch_dim')?.value;
          shapes = bs?.k === 'num' ? dims.map((d) => [...d.slice(0, bs.v), 1, ...d.slice(bs.v)]) : dims;
        }
      }
    }
    const from = path === 'torchsummary.summary' ? 'torchsummary.summary() (which runs a batch of 2)' : 'torchinfo.summary()';
    if (shapes && !m.model.graph && !this.frame) this.traceModel(m, m.model, shapes, span, from);
    return NONE;
  }

  // ------------------------------------------------------------------------------------------
  // The end of the analysis

  finish(): void {
    for (const m of this.candidates) {
      const model = m.model!;
      if (m.parent) {
        // Registered inside another module: a part, not a model of its own.
        const i = this.interp.models.indexOf(model);
        if (i >= 0) this.interp.models.splice(i, 1);
        continue;
      }
      this.attachRecipe(model);
      if (model.graph) continue;
      const comment = inputComment(this.interp.documentText, model, m.cls);
      // Each trace runs forward() under the interpreter's guard: a budget or a raise ends that model's trace only.
      if (comment) {
        this.interp.guard(() => this.traceModel(m, model, [comment.shape], comment.span, 'the # convlens: input_shape comment'));
        continue;
      }
      const input = this.defaultInput;
      if (input) {
        this.interp.guard(() => this.traceModel(m, model, [input.shape], model.span, input.from));
        continue;
      }
      const builtin = this.builtinInputs.get(m);
      if (builtin) {
        this.traceModel(m, model, [builtin.shape], model.span, builtin.from);
        continue;
      }
      // No input: parameters, hovers and rows still; shapes unknown.
      this.interp.guard(() => this.traceModel(m, model, [null], undefined, undefined));
    }
  }

  /**
   * The training code's optimizer, loss, batch size and epochs, as the trainer reads a Keras
   * model's compile() and fit(). Epochs come from an argparse option named `epochs` (the script's
   * default), the one setting a training loop reads that its calls do not show.
   */
  private attachRecipe(model: ModelBuild): void {
    const r = this.recipe;
    const loss = r.loss ?? r.lossMade;
    if (!model.compile && (r.optimizer || loss || r.normalize)) {
      model.compile = {
        optimizer: r.optimizer,
        loss: loss?.name,
        ...(loss?.args ? { lossArgs: loss.args } : {}),
        metrics: [],
        span: loss?.span ?? r.optimizer?.span ?? r.normalize!.span,
        ...(r.scheduler ? { scheduler: r.scheduler } : {}),
        ...(r.normalize ? { normalize: r.normalize } : {}),
      };
    }
    const epochs = this.interp.parsedArguments.map((ns) => ns.attrs.get('epochs')).find((v) => v?.k === 'num');
    if (!model.fit && (r.batchSize !== undefined || epochs)) {
      model.fit = {
        batchSize: r.batchSize,
        epochs: epochs?.k === 'num' && Number.isInteger(epochs.v) ? epochs.v : undefined,
        hasValidationData: false,
        span: r.optimizer?.span ?? model.span,
      };
    }
  }

  reportLayers(model: ModelBuild): LayerInstance[] {
    // The modules that own parameters or are leaves, in named_modules() order: their rows add up to the total.
    return model.tracked.filter((l) => {
      const m = this.modules.get(l);
      if (!m) return false;
      const leaf = !hasChildren(m);
      return leaf || (l.weights ?? []).length > 0;
    });
  }

  innerLayers(layer: LayerInstance): LayerInstance[] {
    const m = this.modules.get(layer);
    return m ? [...m.children.values()].filter((c): c is LayerInstance => c !== null) : [];
  }

  /** Whether a layer is a PyTorch module (not an operation such as `F.relu` or `+`). */
  isModule(layer: LayerInstance): boolean {
    return this.modules.has(layer);
  }

  /** The user class of a model, if it is one. */
  classOf(model: ModelBuild): ClassValue | undefined {
    return this.candidates.find((m) => m.model === model)?.cls;
  }

  /** The module a model was made from. */
  rootOf(model: ModelBuild): LayerInstance | undefined {
    return this.candidates.find((m) => m.model === model)?.layer;
  }

  /**
   * A guess at an input for a model without one, from its first layer: (1, C, 28, 28) for one
   * channel, (1, C, 32, 32) for three, (1, C, 224, 224) otherwise; (1, in_features) for Linear.
   */
  guessInput(model: ModelBuild): number[] {
    const first = model.moduleCalls?.find((c) => c.node && c.layer.bound)?.layer;
    const cfg = first?.bound?.config ?? {};
    const c = typeof cfg.in_channels === 'number' ? cfg.in_channels : undefined;
    const name = first?.type?.name ?? '';
    if (c !== undefined && /1d$/.test(name)) return [1, c, 128];
    if (c !== undefined && /3d$/.test(name)) return [1, c, 16, 112, 112];
    if (c !== undefined) return [1, c, ...(c === 1 ? [28, 28] : c === 3 ? [32, 32] : [224, 224])];
    if (typeof cfg.in_features === 'number') return [1, cfg.in_features];
    return [1, 3, 224, 224];
  }

  /** Parameters of a module and everything under it, each tensor once; buffers apart. */
  totals(layer: LayerInstance): ModuleTotals {
    const m = this.modules.get(layer);
    if (!m) return { params: null, trainable: null, buffers: null, bufferTensors: 0 };
    const t: ModuleTotals = { params: 0, trainable: 0, buffers: 0, bufferTensors: 0 };
    for (const [, mod] of this.namedModules(m)) addOwn(t, mod.layer);
    return t;
  }

  /**
   * The totals of every module of a tree, each computed once from its children's: exact when
   * no module is registered twice under one parent's subtree (then each row walks its own).
   */
  private treeTotals(root: TorchModule): (layer: LayerInstance) => ModuleTotals {
    const memo = new Map<LayerInstance, ModuleTotals>();
    const visits = new Set<LayerInstance>();
    let shared = false;
    const walk = (m: TorchModule, depth: number): ModuleTotals => {
      const known = memo.get(m.layer);
      if (known) {
        shared = true;
        return known;
      }
      const t: ModuleTotals = { params: 0, trainable: 0, buffers: 0, bufferTensors: 0 };
      visits.add(m.layer);
      addOwn(t, m.layer);
      if (depth < 64) {
        for (const c of m.children.values()) {
          const cm = c ? this.modules.get(c) : undefined;
          if (!cm || cm === m) continue;
          const ct = walk(cm, depth + 1);
          t.params = t.params === null || ct.params === null ? null : t.params + ct.params;
          t.trainable = t.trainable === null || ct.trainable === null ? null : t.trainable + ct.trainable;
          t.buffers = t.buffers === null || ct.buffers === null ? null : t.buffers + ct.buffers;
          t.bufferTensors += ct.bufferTensors;
        }
      }
      memo.set(m.layer, t);
      return t;
    };
    walk(root, 0);
    return (layer) => (shared ? this.totals(layer) : (memo.get(layer) ?? this.totals(layer)));
  }

  /**
   * torchinfo's rows for a traced model: every module call in the order the calls began, with
   * the containers that were never called (ModuleList, ModuleDict) put back above their children,
   * each row's depth, torchinfo's depth index, parameters and mult-adds.
   */
  moduleRows(model: ModelBuild): ModuleRowData[] {
    const calls = model.moduleCalls ?? [];
    const root = calls[0] ? this.modules.get(calls[0].layer) : undefined;
    if (!root) return [];
    const byName = new Map<string, TorchModule>();
    for (const [n, mod] of this.namedModules(root)) byName.set(n, mod);
    const rows: ModuleRowData[] = [];
    const seen = new Set<LayerInstance>();
    const totalsOf = this.treeTotals(root);
    const make = (mod: TorchModule, name: string, call?: ModuleCall): ModuleRowData => {
      const recursive = seen.has(mod.layer);
      seen.add(mod.layer);
      const leaf = !hasChildren(mod);
      const totals = totalsOf(mod.layer);
      const outputs = (call?.outputs ?? []).map((t) => (t.sample !== null && !t.partial ? [t.batch, ...t.sample] : null));
      const whole = outputs[0] ?? null;
      return { layer: mod.layer, call, name, depth: name ? name.split('.').length : 0, className: mod.layer.className, leaf, recursive, totals, output: whole, outputs, multAdds: leaf && call ? torchinfoMacs(mod.layer, whole) : 0, depthIndex: 0 };
    };
    const current = new Map<number, LayerInstance>();
    for (const call of calls) {
      const mod = this.modules.get(call.layer);
      if (!mod) continue;
      // Containers the forward pass never called (a ModuleList) still head their children, as torchinfo shows them.
      const parts = call.name ? call.name.split('.') : [];
      for (let d = 1; d < parts.length; d++) {
        const ancestor = byName.get(parts.slice(0, d).join('.'));
        if (!ancestor) continue;
        const prev = rows[rows.length - 1];
        if (current.get(d) !== ancestor.layer && prev?.layer !== ancestor.layer) {
          rows.push(make(ancestor, parts.slice(0, d).join('.')));
          current.set(d, ancestor.layer);
        }
      }
      rows.push(make(mod, call.name, call));
      current.set(parts.length, mod.layer);
      for (let d = parts.length + 1; current.has(d); d++) current.delete(d);
    }
    const counters = new Map<number, number>();
    for (const r of rows) {
      const k = (counters.get(r.depth) ?? 0) + 1;
      counters.set(r.depth, k);
      r.depthIndex = k;
    }
    return rows;
  }
}

/** How published torchvision weights are named (`IMAGENET1K_V1`, `ResNet18_Weights.DEFAULT`); undefined for None. */
function weightsLabel(v: Value): string | undefined {
  if (v.k === 'str') return v.v;
  if (v.k === 'module') return v.path.split('.').slice(-2).join('.');
  if (v.k === 'none' || (v.k === 'bool' && !v.v)) return undefined;
  return 'pretrained weights';
}

/** Adds a module's own parameters and buffers to running totals (unknown when its arguments could not be read). */
function addOwn(t: ModuleTotals, layer: LayerInstance): void {
  if (layer.weights === undefined) {
    // A layer without weights has none; one with weights whose arguments could not be read has unknown ones.
    if (layer.type?.declares.weights !== false) t.params = t.trainable = null;
    return;
  }
  for (const w of layer.weights) {
    const n = product(w.shape);
    if (w.buffer) {
      t.bufferTensors++;
      t.buffers = t.buffers === null || n === null ? null : t.buffers + n;
    } else {
      t.params = t.params === null || n === null ? null : t.params + n;
      if (w.trainable && layer.trainable) t.trainable = t.trainable === null || n === null ? null : t.trainable + n;
    }
  }
}

/** Parameters of a module and its children, and its buffers. */
export interface ModuleTotals {
  params: number | null;
  trainable: number | null;
  buffers: number | null;
  bufferTensors: number;
}

/** One row of torchinfo's table: a module call (or a container never called, above its children). */
export interface ModuleRowData {
  layer: LayerInstance;
  call?: ModuleCall;
  /** Qualified name (`layer1.0.conv1`; `''` for the model). */
  name: string;
  depth: number;
  /** torchinfo's index of the row among the rows of its depth, counted over the whole table. */
  depthIndex: number;
  className: string;
  /** A module without children (what torchinfo counts mult-adds and activations of). */
  leaf: boolean;
  /** The module has a row above already (a second call, a shared module): torchinfo prints "(recursive)". */
  recursive: boolean;
  totals: ModuleTotals;
  /** The whole output shape of the call, batch first. */
  output: Dim[] | null;
  /** Every output's (a module may return a tuple). */
  outputs: (Dim[] | null)[];
  /** torchinfo's mult-adds of the call: every weight and bias times the output positions, batch included. */
  multAdds: number | null;
}

/**
 * torchinfo's mult-adds of a leaf module's call: each `weight` and `bias` parameter times the
 * output positions (Conv: batch × spatial positions; Linear: every axis but the last; other
 * layers: the batch), as `LayerInfo.calculate_macs` counts them.
 */
function torchinfoMacs(layer: LayerInstance, output: Dim[] | null): number | null {
  let macs = 0;
  for (const w of layer.weights ?? []) {
    if (w.buffer) continue;
    const n = product(w.shape);
    if (n === null) return null;
    if (output === null) return null;
    const cls = layer.className;
    const positions = /Conv/.test(cls) ? product([output[0], ...output.slice(2)]) : /Linear/.test(cls) ? product(output.slice(0, -1)) : output[0];
    if (positions === null) return null;
    macs += n * positions;
  }
  return macs;
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** The symbolic tensors in a value (one, or a list/tuple of them, or with `dicts` a dict of them); undefined if any item is not one. */
function flatten(v: Value, depth = 0, dicts = false): SymTensor[] | undefined {
  if (v.k === 'tensor') return [v.t];
  if (depth > 4 || (v.k !== 'seq' && !(dicts && v.k === 'dict'))) return undefined;
  const out: SymTensor[] = [];
  // With `dicts`, a dict's values in insertion order (a module's `OrderedDict` of named outputs).
  for (const x of v.k === 'dict' ? [...v.entries.values()].map((e) => e.value) : v.items) {
    const ts = flatten(x, depth + 1, dicts);
    if (!ts) return undefined;
    out.push(...ts);
  }
  return out;
}

/** A forward pass's dict result: its string keys, one per output tensor; undefined for any other result. */
function dictKeys(v: Value, outputs: SymTensor[] | undefined): string[] | undefined {
  if (v.k !== 'dict' || !outputs) return undefined;
  const keys = [...v.entries.values()].map((e) => (e.key.k === 'str' ? e.key.v : undefined));
  return keys.length === outputs.length && keys.every((k) => k !== undefined) ? (keys as string[]) : undefined;
}

function hasChildren(m: TorchModule): boolean {
  for (const c of m.children.values()) if (c !== null) return true;
  return false;
}

function hasUnknown(v: Value, depth = 0): boolean {
  return v.k === 'unknown' || (v.k === 'seq' && depth < 4 && v.items.some((x) => hasUnknown(x, depth + 1)));
}

function sameWhole(t: SymTensor, shape: Dim[]): boolean {
  if (t.sample === null) return false;
  const whole = [t.batch, ...t.sample];
  return whole.length === shape.length && whole.every((d, i) => d === shape[i]);
}

function fromConfig(v: unknown): Value {
  if (typeof v === 'number') return num(v);
  if (typeof v === 'boolean') return { k: 'bool', v };
  if (typeof v === 'string') return str(v);
  if (v === null) return NONE;
  if (Array.isArray(v)) return tuple(v.map(fromConfig));
  return UNKNOWN;
}

/** `torch.randn(1, 3, 32, 32)`, `torch.zeros((1, 3, 32, 32))`, `torch.full((2, 3), 7)`, `torch.randint(0, 10, (4,))`. */
function constructorShape(fn: string, args: CallArgs): Dim[] | undefined {
  const p = args.positional.map((a) => a.value);
  const size = args.keyword.get('size')?.value;
  const read = (v: Value | undefined): Dim[] | undefined => {
    if (!v) return undefined;
    if (v.k === 'num' && Number.isInteger(v.v)) return [v.v];
    if (v.k === 'seq' && v.items.every((x) => x.k === 'num' && Number.isInteger(x.v))) return v.items.map((x) => (x as { v: number }).v);
    return undefined;
  };
  if (fn === 'randint') return read(size ?? p[p.length - 1]);
  if (fn === 'full') return read(size ?? p[0]);
  if (fn === 'normal') return read(size ?? p[2]);
  if (size) return read(size);
  if (p.length === 1) return read(p[0]);
  if (p.length > 1 && p.every((x) => x.k === 'num' && Number.isInteger(x.v))) return p.map((x) => (x as { v: number }).v);
  return undefined;
}

function nestedShape(v: Value, depth = 0): Dim[] | undefined {
  if (v.k === 'num' || v.k === 'bool') return [];
  if (v.k === 'array') return v.shape;
  if (v.k !== 'seq' || depth > 8) return undefined;
  if (v.items.length === 0) return [0];
  const inner = nestedShape(v.items[0], depth + 1);
  return inner ? [v.items.length, ...inner] : undefined;
}

/** Shapes given as `(1, 3, 32, 32)` or a list of them `[(1, 3, 32, 32), (1, 10)]`. */
function shapesOf(v: Value): Dim[][] | undefined {
  const one = (x: Value): Dim[] | undefined => (x.k === 'seq' && x.items.every((d) => d.k === 'num' && Number.isInteger(d.v) && d.v > 0) ? x.items.map((d) => (d as { v: number }).v) : undefined);
  if (v.k !== 'seq') return undefined;
  const single = one(v);
  if (single) return [single];
  const many = v.items.map(one);
  return many.length && many.every((x) => x !== undefined) ? (many as Dim[][]) : undefined;
}

function broadcastData(a: Dim[], b: Dim[]): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = a.length - n + i >= 0 ? a[a.length - n + i] : 1;
    const y = b.length - n + i >= 0 ? b[b.length - n + i] : 1;
    out.push(x === 1 ? y : y === 1 ? x : x ?? y);
  }
  return out;
}

function sliceItems<T>(xs: T[], lo: number | undefined, hi: number | undefined, step: number): T[] {
  const len = xs.length;
  const norm = (x: number): number => (x < 0 ? Math.max(0, len + x) : Math.min(len, x));
  if (step <= 0) return [];
  const out: T[] = [];
  for (let i = lo === undefined ? 0 : norm(lo); i < (hi === undefined ? len : norm(hi)); i += step) out.push(xs[i]);
  return out;
}

/**
 * A PyTorch loss's arguments by keyword: the positional ones after `skip` (the input and target
 * of a functional loss) named as torch.nn's classification losses order them.
 */
function torchLossArgs(args: CallArgs, skip: number): LossArgs {
  const order = ['weight', 'size_average', 'ignore_index', 'reduce', 'reduction', 'label_smoothing'];
  const keywords = new Map<string, Value>([...args.keyword].map(([k, v]) => [k, v.value]));
  args.positional.slice(skip).forEach((p, i) => {
    if (order[i] && !keywords.has(order[i])) keywords.set(order[i], p.value);
  });
  return { keywords, positional: [] };
}

/** Each positional argument's own range in a call, `*` arguments left out. */
function argItemSpans(e: CallExpr): (Span | undefined)[] {
  return e.args.filter((a) => a.name === undefined).map((a) => (a.star ? undefined : a.value.span));
}

/** What a torchvision transform does to an image's shape; `tensor`: the image is a tensor from here on. */
function applyTransform(v: Value, image: ImageShape): { image: ImageShape; tensor: boolean } {
  if (v.k !== 'object' || v.obj.cls !== TRANSFORM_CLASS) return { image: { channels: null, height: null, width: null }, tensor: false };
  const kind = v.obj.attrs.get('kind');
  const arg = v.obj.attrs.get('arg') ?? NONE;
  const name = kind?.k === 'str' ? kind.v : '';
  const size = (x: Value): [number | null, number | null] | 'short' | undefined =>
    x.k === 'num' ? 'short' : x.k === 'seq' && x.items.length === 2 && x.items.every((d) => d.k === 'num') ? [(x.items[0] as { v: number }).v, (x.items[1] as { v: number }).v] : undefined;
  switch (name) {
    case 'Compose': {
      let img = image;
      let tensor = false;
      const steps = v.obj.attrs.get('steps');
      for (const s of steps?.k === 'seq' ? steps.items : []) {
        const r = applyTransform(s, img);
        img = r.image;
        tensor ||= r.tensor;
      }
      return { image: img, tensor };
    }
    case 'ToTensor':
    case 'PILToTensor':
      return { image, tensor: true };
    case 'Resize':
    case 'CenterCrop':
    case 'RandomCrop':
    case 'RandomResizedCrop': {
      const s = size(arg);
      if (s === 'short' && arg.k === 'num') {
        if (name === 'Resize') {
          // Resize(n) scales the shorter side to n.
          const { height: h, width: w } = image;
          if (h === null || w === null) return { image: { ...image, height: null, width: null }, tensor: false };
          const scale = arg.v / Math.min(h, w);
          return { image: { ...image, height: h <= w ? arg.v : Math.floor(h * scale), width: w <= h ? arg.v : Math.floor(w * scale) }, tensor: false };
        }
        return { image: { ...image, height: arg.v, width: arg.v }, tensor: false };
      }
      if (Array.isArray(s)) return { image: { ...image, height: s[0], width: s[1] }, tensor: false };
      return { image: { ...image, height: null, width: null }, tensor: false };
    }
    case 'Grayscale':
      return { image: { ...image, channels: arg.k === 'num' ? arg.v : 1 }, tensor: false };
    case 'Pad': {
      if (arg.k === 'num' && image.height !== null && image.width !== null) return { image: { ...image, height: image.height + 2 * arg.v, width: image.width + 2 * arg.v }, tensor: false };
      return { image: { ...image, height: null, width: null }, tensor: false };
    }
    case 'Normalize':
    case 'RandomHorizontalFlip':
    case 'RandomVerticalFlip':
    case 'RandomRotation':
    case 'ColorJitter':
    case 'RandomAffine':
    case 'RandomErasing':
    case 'ConvertImageDtype':
    case 'AutoAugment':
    case 'RandAugment':
    case 'TrivialAugmentWide':
    case 'GaussianBlur':
      return { image, tensor: false };
    case 'Lambda':
    default:
      return { image: { channels: null, height: null, width: null }, tensor: false };
  }
}

/**
 * A `# convlens: input_shape=(1, 3, 32, 32)` comment for a model: on the line of its class
 * statement or constructor call, or on the lines just above them (comments and decorators between).
 */
export function inputComment(text: string, model: ModelBuild, cls: ClassValue | undefined): { shape: number[]; span: Span } | undefined {
  const anchors = [model.span.start, ...(cls && cls.file.module === '' ? [cls.span.start] : [])];
  for (const at of anchors) {
    let lineStart = text.lastIndexOf('\n', at - 1) + 1;
    let lineEnd = text.indexOf('\n', at);
    if (lineEnd < 0) lineEnd = text.length;
    // The anchor's own line, then the comment, decorator and blank lines above it.
    for (let guard = 0; guard < 32 && lineStart >= 0; guard++) {
      const line = text.slice(lineStart, lineEnd);
      const m = /#\s*convlens:\s*input_shape\s*=\s*[([]([^)\]]*)[)\]]/.exec(line);
      if (m) {
        const dims = m[1].split(',').map((s) => s.trim()).filter((s) => s.length);
        if (dims.length && dims.every((d) => /^\d+$/.test(d) && Number(d) > 0)) return { shape: dims.map(Number), span: { start: lineStart + m.index, end: lineStart + m.index + m[0].length } };
      }
      if (guard > 0 && !/^\s*(#.*|@.*)?$/.test(line)) break;
      if (lineStart === 0) break;
      lineEnd = lineStart - 1;
      lineStart = text.lastIndexOf('\n', lineEnd - 1) + 1;
    }
  }
  return undefined;
}

