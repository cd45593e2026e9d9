/**
 * The model IR every feature reads: a model is a graph of nodes (layer calls) over symbolic
 * tensors, as Keras' functional API (`KerasTensor`, `Node`) and torch.fx keep it. A Sequential
 * model is a chain; a functional model is the graph between its inputs and outputs; a subclassed
 * model is the graph its `call` traced. Nodes are shape-checked as the interpreter creates them,
 * so code that reads `x.shape[-1]` sees the same numbers the summary prints.
 */
import type { BoundLayer, FrameworkName, LayerType, WeightSpec } from '../layers/define';
import type { CallArgs, CompileSpec, FitSpec } from '../parse/values';
import type { Span } from '../parse/pythonAst';
import type { Dim } from '../shape';

/** How the receptive field of one position has grown: per spatial axis size and step, 'global', or unknown. */
export type FieldState = { size: number[]; jump: number[] } | 'global' | null;

/** A tensor flowing through the graph, as Keras' `KerasTensor`: a shape, no values. */
export interface SymTensor {
  readonly id: number;
  /** The batch size when the file fixes it (an example input `torch.zeros(1, 3, 32, 32)`), else null (Keras' None). */
  readonly batch: Dim;
  /** Shape of one sample; null when not even the rank is known. */
  readonly sample: Dim[] | null;
  /** Only the trailing axes of `sample` are known (a model without an input shape). */
  readonly partial: boolean;
  readonly field: FieldState;
  /** The node that computed it and which of its outputs it is (`conv2d[0][0]` in Keras' words). */
  readonly producer: GraphNode;
  readonly index: number;
}

/** Which file a piece of code comes from: the analysed document, a sibling module, or ConvLens' own definitions. */
export interface SourceFile {
  /** `''` for the analysed document; a module name (`my_blocks`, `keras.applications.resnet50`) otherwise. */
  readonly module: string;
  readonly text: string;
}

/** A layer object (`layers.Conv2D(32, 3)`, an `Input`, a nested model used as a layer). */
export interface LayerInstance {
  /** Creation order in the analysis, unique. */
  readonly id: number;
  /** Whose layer it is; undefined means Keras. A PyTorch module (leaf, container or user class) is a layer. */
  readonly framework?: FrameworkName;
  /** The class name users see: Keras' (`Conv2D`) or their own subclass (`StandardizedConv2D`). */
  readonly className: string;
  /** Keras' name: auto-numbered (`conv2d_1`) or the `name=` argument. */
  kerasName: string;
  /** The registry type whose rules apply (the Keras base class of a user subclass). */
  readonly type?: LayerType;
  /** The arguments read and bound; undefined when they could not be (see `bindFailed`). */
  bound?: BoundLayer;
  bindFailed?: 'error' | 'unknown';
  readonly args: CallArgs;
  /** The constructor call `layers.Conv2D(32, 3)`, in the analysed document (see `attributed`). */
  readonly span: Span;
  readonly calleeSpan: Span;
  /** Why nothing is known about what this layer computes (an unknown class, `**kwargs`, …). */
  opaque?: string;
  /** The layer's own `trainable` flag (Keras: weights are trainable only when every owner is). */
  trainable: boolean;
  /**
   * An operation on tensors (`x * 0.5`, `ops.relu(x)`, `tf.nn.depth_to_space(x, 2)`) shown under
   * Keras' name for it (`relu (Relu)`, `TFOpLambda`); `type` is the rule ConvLens applies.
   */
  op?: boolean;
  /** Weights, fixed by the first call (Keras builds a layer once); undefined before that. */
  weights?: WeightSpec[];
  /** The per-sample input shapes the weights were built for. */
  builtFor?: Dim[][];
  /** Every call of the layer, in order: node index k is `nodes[k]`. */
  readonly nodes: GraphNode[];
  /** A nested model used as a layer: its own graph, run on each call. */
  composite?: ModelBuild;
  /** A custom layer (a subclass of `keras.layers.Layer`): the layers its attributes hold. */
  sublayers?: LayerInstance[];
  /** A custom layer: its class defines `call`, so it is traced on each call. */
  custom?: boolean;
  /** True when the constructor ran outside the analysed document (a sibling module, a bundled application). */
  readonly foreign: boolean;
}

export type NodeStatus = 'ok' | 'error' | 'unknown' | 'unsupported';

/** One call of a layer on tensors. */
export interface GraphNode {
  readonly id: number;
  readonly layer: LayerInstance;
  /** Which call of its layer this is (Keras' node index: `layer.nodes[callIndex]` is this node). */
  readonly callIndex: number;
  readonly inputs: SymTensor[];
  outputs: SymTensor[];
  /** The call in the analysed document: `layers.Conv2D(32, 3)(x)`, `model.add(…)`, a list item of `Sequential([…])`. */
  readonly span: Span;
  /** Where the inlay hint goes: the end of the statement or item holding the call. */
  readonly anchor: number;
  readonly status: NodeStatus;
  /** Multiply-accumulates of one sample through this call. */
  readonly macs: number | null;
  /** Created by ConvLens replaying a model on new shapes, or a declaration not shown (no hint of its own). */
  replay: boolean;
  /** Created while running code of another file or ConvLens' own definitions. */
  readonly foreign: boolean;
  /** For a composite: the graph its call ran (inputs → outputs of the inner model). */
  inner?: { inputs: SymTensor[]; outputs: SymTensor[] };
}

export type ModelKind = 'sequential' | 'functional' | 'subclassed';

/** Each layer's own `trainable` flag at one point of the file. */
export type TrainableFlags = ReadonlyMap<LayerInstance, boolean>;

/** A model as the file builds it. */
export interface ModelBuild {
  readonly id: number;
  /** Whose model it is; undefined means Keras. */
  readonly framework?: FrameworkName;
  readonly kind: ModelKind;
  kerasName: string;
  /** The variable the model was first assigned to (`model`). */
  varName?: string;
  /** The constructor call (or class statement) in the analysed document. */
  span: Span;
  /** Sequential: the layers added, in order, with the statement or item that added each. */
  readonly sequence: { layer: LayerInstance; span: Span; anchor: number }[];
  /** Explicit input: `Input(shape=…)`, `InputLayer(…)`, `model.build(…)`, or the data fit() was called on. */
  input?: { sample: Dim[]; span: Span; batch?: Dim; from?: string };
  /**
   * The graph: set for functional models, traced for subclassed ones, chained for Sequential ones.
   * `nodes`: the nodes a traced forward pass made, in execution order, calls whose results are
   * not used included (PyTorch; otherwise the nodes between inputs and outputs are the graph's).
   */
  graph?: {
    inputs: SymTensor[];
    outputs: SymTensor[];
    nodes?: GraphNode[];
    /** Each output's key when the forward pass returns a dict (torchvision's segmentation models' `{'out': …}`). */
    outputKeys?: string[];
  };
  /** Every layer the model tracks, in Keras' `model.layers` order for subclassed models (attribute order). */
  readonly tracked: LayerInstance[];
  trainable: boolean;
  compile?: CompileSpec;
  fit?: FitSpec;
  /** Layers were added in code ConvLens could not follow, or analysis stopped early. */
  incomplete?: string;
  /** Built by ConvLens calling a builder function or class the file never calls, with its defaults. */
  speculative?: string;
  /** A keras.applications model asked for pretrained weights (`'imagenet'`, a file) ConvLens cannot load. */
  pretrained?: string;
  /** What each `model.summary()` call of the file would print, at the time of the call. */
  readonly snapshots: { span: Span; trainable: number | null; nonTrainable: number | null; layers: number; flags: TrainableFlags }[];
  /**
   * The `trainable` flags of every layer of the model (nested ones included) when `compile()` was
   * last called: Keras fixes the trainable weights a model trains with then, so a later
   * `base.trainable = False` changes the next compile(), not this one.
   */
  compiledFlags?: TrainableFlags;
  /** The LayerInstance standing for this model when it is used as a layer (one per model). */
  asLayer?: LayerInstance;
  readonly foreign: boolean;
  /**
   * A PyTorch model: every module call of its traced forward pass in the order the calls began
   * (what torchinfo's pre-hooks see), containers and leaves, each with its place in the module
   * tree. The graph itself holds only leaf modules and functional operations.
   */
  moduleCalls?: ModuleCall[];
}

/** One call of a PyTorch module during a traced forward pass (a torchinfo row). */
export interface ModuleCall {
  readonly layer: LayerInstance;
  /** The module's qualified name in the model (`layer1.0.conv1`; `''` for the model itself), as `named_modules()` gives it. */
  readonly name: string;
  /** Depth in the module tree (the model is 0, its children 1, …). */
  readonly depth: number;
  /** The module whose forward made this call, if any. */
  readonly parent?: ModuleCall;
  /** The call in the analysed document (the call that entered another file, for code there). */
  readonly span: Span;
  /** Made while running another file's code. */
  readonly foreign: boolean;
  readonly inputs: SymTensor[];
  /** Set when the call returns. */
  outputs: SymTensor[];
  /** A leaf module: the graph node of this call. */
  node?: GraphNode;
}

/**
 * The nodes between a graph's inputs and outputs in Keras' order (`Functional._operations`):
 * depth-first from the outputs, layers sorted by decreasing depth, ties by first visit. Returns
 * the nodes in execution order and the layers in Keras' summary order.
 */
export function mapGraph(inputs: readonly SymTensor[], outputs: readonly SymTensor[]): { nodes: GraphNode[]; layers: LayerInstance[]; disconnected: SymTensor[] } {
  const inputSet = new Set(inputs);
  const finished = new Set<GraphNode>();
  const ordered: GraphNode[] = [];
  const layerIndex = new Map<LayerInstance, number>();
  const disconnected: SymTensor[] = [];
  // Iterative DFS (graphs of thousands of nodes must not exhaust the stack).
  for (const out of outputs) {
    const stack: { node: GraphNode; next: number }[] = [];
    const inProgress = new Set<GraphNode>();
    const visit = (t: SymTensor): void => {
      const node = t.producer;
      if (finished.has(node)) return;
      if (inputSet.has(t) && !node.layer.type?.isInput) {
        finished.add(node);
        return;
      }
      if (inProgress.has(node)) return; // a cycle cannot be built by code, but never loop
      if (!layerIndex.has(node.layer)) layerIndex.set(node.layer, layerIndex.size);
      inProgress.add(node);
      stack.push({ node, next: 0 });
    };
    visit(out);
    while (stack.length) {
      const top = stack[stack.length - 1];
      if (top.next < top.node.inputs.length) {
        const t = top.node.inputs[top.next++];
        visit(t);
        continue;
      }
      stack.pop();
      inProgress.delete(top.node);
      finished.add(top.node);
      ordered.push(top.node);
      if (top.node.inputs.length === 0 && !inputSet.has(top.node.outputs[0])) disconnected.push(top.node.outputs[0]);
    }
  }
  // Depths: the longest path to an output, so a shared layer sits at its deepest use.
  const nodeDepth = new Map<GraphNode, number>();
  const layerDepth = new Map<LayerInstance, number>();
  for (let i = ordered.length - 1; i >= 0; i--) {
    const node = ordered[i];
    let depth = nodeDepth.get(node) ?? 0;
    depth = Math.max(depth, layerDepth.get(node.layer) ?? 0);
    layerDepth.set(node.layer, depth);
    nodeDepth.set(node, depth);
    for (const t of node.inputs) {
      const parent = t.producer;
      if (!finished.has(parent) || (inputSet.has(t) && !parent.layer.type?.isInput)) continue;
      nodeDepth.set(parent, Math.max(depth + 1, nodeDepth.get(parent) ?? 0));
    }
  }
  for (const t of inputs) {
    const layer = t.producer.layer;
    if (!layerDepth.has(layer) && layer.type?.isInput) {
      layerDepth.set(layer, 0);
      layerIndex.set(layer, -1);
    }
  }
  const layers = [...layerDepth.keys()].sort((a, b) => (layerDepth.get(b)! - layerDepth.get(a)!) || (layerIndex.get(a)! - layerIndex.get(b)!));
  return { nodes: ordered, layers, disconnected };
}

/** The index of a node among its layer's calls (Keras' `node_index`). */
export const nodeIndex = (node: GraphNode): number => node.callIndex;

/** Keras' name for a tensor in "Connected to": `conv2d[0][0]`. */
export const tensorName = (t: SymTensor): string => `${t.producer.layer.kerasName}[${nodeIndex(t.producer)}][${t.index}]`;

/** Parameter counts of a layer, with Keras' trainable split; null where unknown (unbuilt). */
export interface ParamCounts {
  trainable: number | null;
  nonTrainable: number | null;
}

const addCount = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : a + b);

/**
 * A layer's parameters as Keras counts them: its weights once (shared layers included), a
 * weight trainable only when the layer is; a nested model or custom layer counts the layers
 * inside it (`inner`), each once, plus its own `add_weight` weights.
 */
export function paramCounts(layer: LayerInstance, inner: (l: LayerInstance) => LayerInstance[], seen = new Set<LayerInstance>()): ParamCounts {
  if (seen.has(layer)) return { trainable: 0, nonTrainable: 0 };
  seen.add(layer);
  let trainable: number | null = 0;
  let nonTrainable: number | null = 0;
  const composite = !!layer.composite || !!layer.custom;
  if (composite) {
    for (const l of inner(layer)) {
      const c = paramCounts(l, inner, seen);
      trainable = addCount(trainable, c.trainable);
      nonTrainable = addCount(nonTrainable, c.nonTrainable);
    }
    if (layer.composite) return { trainable, nonTrainable };
  } else if (layer.weights === undefined) {
    // Never called: a layer type without weights has none; one with weights is unbuilt.
    const none = layer.type && !layer.type.declares.weights ? 0 : null;
    return { trainable: none, nonTrainable: none };
  }
  for (const w of layer.weights ?? []) {
    if (w.buffer) continue;
    let n: number | null = 1;
    for (const d of w.shape) n = n === null || d === null ? null : n * d;
    if (w.trainable && layer.trainable) trainable = addCount(trainable, n);
    else nonTrainable = addCount(nonTrainable, n);
  }
  return { trainable, nonTrainable };
}
