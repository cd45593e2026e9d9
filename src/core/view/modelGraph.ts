/**
 * What the model-graph view draws, built from the analysis (the same graph every feature reads):
 * one node per layer call with its output shape and parameters, an edge per tensor a call reads,
 * repeated blocks grouped as the inlay hints group them (calls made by the same source, one
 * group instance per run of a helper or loop body), nested models as expandable nodes.
 *
 * Two steps, both pure: {@link graphOfModel} turns a model report into a {@link ModelGraph} (what
 * the host sends to the panel), and {@link viewOfGraph} applies what the user collapsed or
 * expanded and returns the nodes, edges and boxes to lay out. The layout itself (dagre) runs in
 * the webview.
 */
import { formatFrameworkShape } from '../format';
import type { FrameworkName } from '../layers/define';
import type { Span } from '../parse/pythonAst';
import type { Dim } from '../shape';

/** The parts of a layer row ({@link import('../analyze').LayerReport}) the graph reads. */
export interface GraphSourceLayer {
  /** PyTorch's rows are labelled as PyTorch prints shapes, `[1, 32, 26, 26]`; Keras' as Keras does. */
  framework?: FrameworkName;
  batch?: Dim;
  id: number;
  name: string;
  className: string;
  span: Span;
  addSpan: Span;
  outputShape: Dim[] | null;
  partialShape?: boolean;
  inputRows: number[];
  params: number | null;
  status: 'ok' | 'error' | 'unknown' | 'unsupported';
  isInput: boolean;
  shared?: boolean;
  foreign: boolean;
  activation?: string | null;
  nested?: GraphSourceModel;
}

/** The parts of a model report the graph reads. */
export interface GraphSourceModel {
  framework?: FrameworkName;
  id: number;
  name: string;
  kind: string;
  inputShape: Dim[] | null;
  layers: GraphSourceLayer[];
  totalParams?: number | null;
}

/** One layer call (or the model's input) as the graph shows it. */
export interface GraphNode {
  /** Unique in the graph: `n<layer row id>`, prefixed by its nested model's node id when inside one. */
  id: string;
  kind: 'input' | 'layer' | 'model';
  name: string;
  className: string;
  /** `(None, 24, 24, 10)`; `?` for a dimension or shape ConvLens cannot know. */
  shape: string;
  params: number | null;
  status: GraphSourceLayer['status'];
  /** The call that applied the layer, and its constructor, as offsets in the analysed program; absent for another file's code. */
  call?: Span;
  ctor?: Span;
  /** How many calls of this graph the same source call made (×N in the inlay hint). */
  repeat: number;
  /** The layer's weights are shared with other calls. */
  shared: boolean;
  /** Problems reported on its call or constructor (set by the host from the diagnostics). */
  problems?: { severity: 'error' | 'warning' | 'info'; message: string }[];
  /** Reads no tensor of this graph but the model's input, or produces one of its outputs. */
  output: boolean;
  /** For a nested model: its own graph (drawn inside this node's box when expanded). */
  nested?: ModelGraph;
  activation?: string | null;
}

/** A tensor one call reads from another. */
export interface GraphEdge {
  from: string;
  to: string;
  /** Which input of `to` it is (merges read several). */
  port: number;
}

/** One run of a repeated block: the calls one invocation of a helper (or one pass of a loop) made. */
export interface GraphGroup {
  /** `g<key>#<instance>`: unique. */
  id: string;
  /** The same for every instance of the block (what collapsing acts on). */
  key: string;
  /** `residual_block()` or `for loop (line 12)`. */
  label: string;
  /** 1-based instance number, and how many instances the block has. */
  instance: number;
  count: number;
  nodes: string[];
}

export interface ModelGraph {
  model: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
  groups: GraphGroup[];
}

/** What the user collapsed and expanded, by group key and nested-model node id. */
export interface GraphViewState {
  collapsed?: ReadonlySet<string>;
  expanded?: ReadonlySet<string>;
}

/** A node to lay out: a call, an input, a collapsed block or a collapsed nested model. */
export interface ViewNode extends Omit<GraphNode, 'nested'> {
  /** The box it is drawn in (a group instance or an expanded nested model), if any. */
  parent?: string;
  /** For a collapsed block: the calls it stands for. */
  members?: string[];
  /** For a nested model: whether it is shown expanded (then it is a box, not a node). */
  expandable?: boolean;
}

/** A box drawn around nodes: a block instance, or an expanded nested model. */
export interface ViewBox {
  id: string;
  label: string;
  kind: 'group' | 'model';
  parent?: string;
  /** The group key, for the collapse toggle; the nested node id for a model. */
  key: string;
}

export interface GraphView {
  nodes: ViewNode[];
  boxes: ViewBox[];
  edges: GraphEdge[];
}

/** Keras' shape notation with `?` for what is not known. */
export function shapeLabel(shape: Dim[] | null, partial = false): string {
  if (shape === null) return '?';
  const dims = shape.map((d) => (d === null ? '?' : String(d)));
  return partial ? `(None, …, ${dims.join(', ')})` : `(${['None', ...dims].join(', ')})`;
}

/**
 * The graph of a model. `text` is the analysed program, used to name repeated blocks by the
 * function or loop that made them; calls made by another file's code are drawn but carry no
 * source span (a click cannot reveal them).
 */
export function graphOfModel(model: GraphSourceModel, text: string, prefix = ''): ModelGraph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const id = (row: number) => `${prefix}n${model.layers[row].id}`;
  const needsInput = model.layers.some((l) => l.inputRows.includes(-1));
  const inputId = `${prefix}input`;
  if (needsInput) {
    nodes.push({ id: inputId, kind: 'input', name: 'input', className: 'Input', shape: model.framework === 'pytorch' ? formatFrameworkShape('pytorch', model.layers.find((l) => l.inputRows.includes(-1))?.batch ?? null, model.inputShape) : shapeLabel(model.inputShape), params: 0, status: 'ok', repeat: 1, shared: false, output: false });
  }
  const read = new Set<number>();
  for (const l of model.layers) for (const r of l.inputRows) if (r >= 0) read.add(r);
  const repeats = new Map<string, number>();
  const callKey = (l: GraphSourceLayer) => `${l.addSpan.start}:${l.addSpan.end}`;
  for (const l of model.layers) if (!l.foreign) repeats.set(callKey(l), (repeats.get(callKey(l)) ?? 0) + 1);
  model.layers.forEach((l, row) => {
    const nid = id(row);
    const node: GraphNode = {
      id: nid,
      kind: l.isInput ? 'input' : l.nested ? 'model' : 'layer',
      name: l.name,
      className: l.className,
      shape: l.framework === 'pytorch' ? formatFrameworkShape('pytorch', l.batch ?? null, l.outputShape, l.partialShape) : shapeLabel(l.outputShape, l.partialShape),
      params: l.params,
      status: l.status,
      repeat: l.foreign ? 1 : (repeats.get(callKey(l)) ?? 1),
      shared: !!l.shared,
      output: !read.has(row) && !l.isInput,
      ...(l.foreign ? {} : { call: l.addSpan, ctor: l.span }),
      ...(l.activation !== undefined ? { activation: l.activation } : {}),
    };
    if (l.nested && l.nested.layers.length > 0) node.nested = graphOfModel(l.nested, text, `${nid}/`);
    nodes.push(node);
    l.inputRows.forEach((r, port) => edges.push({ from: r >= 0 ? id(r) : inputId, to: nid, port }));
  });
  return { model: model.name, nodes, edges, groups: repeatedBlocks(model, text, id) };
}

/**
 * Repeated blocks: calls whose source lies in the body of one function or loop that made more
 * than one of them, split into one instance per run (a new instance starts where a call of the
 * body comes again). A comprehension or a loop with a single call is not a block.
 */
function repeatedBlocks(model: GraphSourceModel, text: string, id: (row: number) => string): GraphGroup[] {
  const byBlock = new Map<string, { label: string; rows: number[] }>();
  model.layers.forEach((l, row) => {
    if (l.foreign || l.isInput) return;
    const block = enclosingBlock(text, l.addSpan.start);
    if (!block) return;
    const key = String(block.start);
    const b = byBlock.get(key) ?? { label: block.label, rows: [] };
    b.rows.push(row);
    byBlock.set(key, b);
  });
  const groups: GraphGroup[] = [];
  for (const [key, b] of byBlock) {
    const instances: number[][] = [];
    let seen = new Set<string>();
    for (const row of b.rows) {
      const span = model.layers[row].addSpan;
      const k = `${span.start}:${span.end}`;
      if (instances.length === 0 || seen.has(k)) {
        instances.push([]);
        seen = new Set();
      }
      seen.add(k);
      instances[instances.length - 1].push(row);
    }
    if (instances.length < 2 || instances.every((i) => i.length < 2)) continue;
    instances.forEach((rows, i) =>
      groups.push({ id: `g${key}#${i + 1}`, key: `g${key}`, label: b.label, instance: i + 1, count: instances.length, nodes: rows.map(id) }),
    );
  }
  return groups;
}

/**
 * The innermost `def` or loop whose body holds `offset`, read from the indentation (the
 * analysed program is Python): its start offset and a label. Undefined at module level.
 */
export function enclosingBlock(text: string, offset: number): { start: number; label: string } | undefined {
  let lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  let indent = indentOf(text, lineStart);
  // Continuation lines of a bracketed call are indented more than their statement: a header
  // must be indented less than the line the call starts on, and start a block (end with ':').
  while (lineStart > 0 && indent > 0) {
    const prevEnd = lineStart - 1;
    const prevStart = text.lastIndexOf('\n', prevEnd - 1) + 1;
    lineStart = prevStart;
    const line = text.slice(prevStart, prevEnd);
    if (!line.trim() || line.trimStart().startsWith('#')) continue;
    const ind = indentOf(text, prevStart);
    if (ind >= indent) continue;
    const head = line.trim();
    if (!/:\s*(#.*)?$/.test(head)) continue;
    indent = ind;
    const def = /^(?:async\s+)?def\s+([A-Za-z_]\w*)/.exec(head);
    if (def) return { start: prevStart + ind, label: `${def[1]}()` };
    if (/^(?:async\s+)?for\b/.test(head) || /^while\b/.test(head)) {
      const line1 = text.slice(0, prevStart).split('\n').length;
      return { start: prevStart + ind, label: `${head.startsWith('while') ? 'while' : 'for'} loop (line ${line1})` };
    }
    if (/^class\b/.test(head)) return undefined;
  }
  return undefined;
}

function indentOf(text: string, lineStart: number): number {
  let i = lineStart;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  return i - lineStart;
}

/**
 * The nodes to lay out for what the user collapsed (block keys) and expanded (nested-model node
 * ids): a collapsed block instance becomes one node with the instance's outside edges; an
 * expanded nested model becomes a box holding its own graph, with the edges into it leading to
 * the calls that read its input and out of it from its outputs.
 */
export function viewOfGraph(graph: ModelGraph, state: GraphViewState = {}): GraphView {
  const collapsed = state.collapsed ?? new Set<string>();
  const expanded = state.expanded ?? new Set<string>();
  const nodes: ViewNode[] = [];
  const boxes: ViewBox[] = [];
  const edges: GraphEdge[] = [];
  // Where an edge that named a node now ends: itself, its collapsed block, or (for an expanded
  // nested model) the calls reading its input / producing its output.
  const asTarget = new Map<string, string[]>();
  const asSource = new Map<string, string[]>();

  const add = (g: ModelGraph, parent: string | undefined) => {
    const groupOf = new Map<string, GraphGroup>();
    for (const gr of g.groups) for (const n of gr.nodes) groupOf.set(n, gr);
    const blockNodes = new Map<string, ViewNode>();
    for (const gr of g.groups) {
      if (collapsed.has(gr.key)) {
        const members = gr.nodes.map((id) => g.nodes.find((n) => n.id === id)!).filter(Boolean);
        const last = members[members.length - 1];
        let params: number | null = 0;
        for (const m of members) params = params === null || m.params === null ? null : params + m.params;
        const bad = members.find((m) => m.status === 'error') ?? members.find((m) => m.status !== 'ok');
        const block: ViewNode = {
          id: gr.id,
          kind: 'layer',
          name: `${gr.label} ${gr.instance}/${gr.count}`,
          className: `${members.length} calls`,
          shape: last?.shape ?? '?',
          params,
          status: bad?.status ?? 'ok',
          repeat: 1,
          shared: false,
          output: members.some((m) => m.output),
          members: gr.nodes,
          ...(parent ? { parent } : {}),
          ...(members[0]?.call ? { call: members[0].call, ctor: members[0].ctor } : {}),
          problems: members.flatMap((m) => m.problems ?? []),
        };
        blockNodes.set(gr.id, block);
        for (const id of gr.nodes) {
          asTarget.set(id, [gr.id]);
          asSource.set(id, [gr.id]);
        }
      } else {
        boxes.push({ id: gr.id, label: `${gr.label} ${gr.instance}/${gr.count}`, kind: 'group', key: gr.key, ...(parent ? { parent } : {}) });
      }
    }
    for (const n of g.nodes) {
      const gr = groupOf.get(n.id);
      if (gr && collapsed.has(gr.key)) {
        // The block stands where its first call was, so the order stays the execution order.
        const block = blockNodes.get(gr.id);
        if (block && gr.nodes[0] === n.id) nodes.push(block);
        continue;
      }
      const box = gr ? gr.id : parent;
      const { nested, ...rest } = n;
      if (nested && expanded.has(n.id)) {
        boxes.push({ id: n.id, label: `${n.name} (${n.className}) → ${n.shape}`, kind: 'model', key: n.id, ...(box ? { parent: box } : {}) });
        add(nested, n.id);
        // Into the box: the calls that read the nested model's input; out of it: its outputs.
        const inner = nested.nodes;
        const inputs = inner.filter((x) => x.kind === 'input').map((x) => x.id);
        const outs = inner.filter((x) => x.output).map((x) => x.id);
        asTarget.set(n.id, inputs.length ? inputs : inner.slice(0, 1).map((x) => x.id));
        asSource.set(n.id, outs.length ? outs : inner.slice(-1).map((x) => x.id));
        continue;
      }
      nodes.push({ ...rest, ...(box ? { parent: box } : {}), ...(nested ? { expandable: true } : {}) });
    }
    for (const e of g.edges) edges.push(e);
  };
  add(graph, undefined);

  // Resolve every edge to what is drawn (targets first through blocks, then through expanded
  // models, possibly nested several levels), dropping edges inside one collapsed block.
  const resolve = (id: string, map: Map<string, string[]>, depth = 0): string[] => {
    const next = map.get(id);
    if (!next || depth > 64) return [id];
    if (next.length === 1 && next[0] === id) return [id];
    return next.flatMap((x) => (x === id ? [x] : resolve(x, map, depth + 1)));
  };
  const drawn = new Set(nodes.map((n) => n.id));
  const seen = new Set<string>();
  const out: GraphEdge[] = [];
  for (const e of edges) {
    for (const from of resolve(e.from, asSource)) {
      for (const to of resolve(e.to, asTarget)) {
        if (from === to || !drawn.has(from) || !drawn.has(to)) continue;
        const k = `${from}>${to}>${e.port}`;
        if (seen.has(k)) continue;
        seen.add(k);
        out.push({ from, to, port: e.port });
      }
    }
  }
  // Boxes with nothing left in them (a block whose nodes all live elsewhere) are not drawn.
  const used = new Set<string>();
  for (const n of nodes) if (n.parent) used.add(n.parent);
  for (let changed = true; changed; ) {
    changed = false;
    for (const b of boxes) if (used.has(b.id) && b.parent && !used.has(b.parent)) { used.add(b.parent); changed = true; }
  }
  return { nodes, boxes: boxes.filter((b) => used.has(b.id)), edges: out };
}

/**
 * The nodes whose call or constructor holds a program offset (the cursor), innermost first:
 * every call a helper made when the cursor is in the helper. Searches nested graphs too.
 */
export function nodesAt(graph: ModelGraph, offset: number): string[] {
  const hits: { id: string; size: number }[] = [];
  const visit = (g: ModelGraph) => {
    for (const n of g.nodes) {
      for (const s of [n.call, n.ctor]) {
        if (s && offset >= s.start && offset <= s.end) {
          hits.push({ id: n.id, size: s.end - s.start });
          break;
        }
      }
      if (n.nested) visit(n.nested);
    }
  };
  visit(graph);
  if (!hits.length) return [];
  const best = Math.min(...hits.map((h) => h.size));
  // Every node of the innermost span (all calls of a helper line), then the enclosing ones.
  return [...hits.filter((h) => h.size === best), ...hits.filter((h) => h.size !== best).sort((a, b) => a.size - b.size)].map((h) => h.id).filter((id, i, a) => a.indexOf(id) === i);
}

/** Finds a node by id anywhere in the graph (nested graphs included). */
export function findNode(graph: ModelGraph, id: string): GraphNode | undefined {
  for (const n of graph.nodes) {
    if (n.id === id) return n;
    if (n.nested) {
      const inner = findNode(n.nested, id);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** Attaches problems (offset ranges in the program) to the nodes whose call or constructor holds them; a problem inside a nested model goes to its innermost call only. */
export function attachProblems(graph: ModelGraph, problems: readonly { start: number; end: number; severity: 'error' | 'warning' | 'info'; message: string }[]): void {
  const key = (p: { start: number; end: number; message: string }) => `${p.start}:${p.end}:${p.message}`;
  const visit = (g: ModelGraph): Set<string> => {
    const claimed = new Set<string>();
    for (const n of g.nodes) {
      const inner = n.nested ? visit(n.nested) : new Set<string>();
      for (const k of inner) claimed.add(k);
      const mine = problems.filter((p) => !inner.has(key(p)) && [n.ctor, n.call].some((s) => s && p.start >= s.start && p.end <= s.end));
      if (mine.length) n.problems = mine.map((p) => ({ severity: p.severity, message: p.message }));
      else delete n.problems;
      for (const p of mine) claimed.add(key(p));
    }
    return claimed;
  };
  visit(graph);
}
