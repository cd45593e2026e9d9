/**
 * Lays out the model graph with dagre (top to bottom, blocks and expanded nested models as
 * boxes around their nodes). No DOM here: sizes come from the text lengths.
 */
import dagre from '@dagrejs/dagre';
import type { GraphView, ViewNode } from '../../src/core/view/modelGraph';

export interface Placed {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Layout {
  width: number;
  height: number;
  nodes: Map<string, Placed>;
  boxes: Map<string, Placed>;
  edges: { from: string; to: string; points: { x: number; y: number }[] }[];
}

/** Width of a text in the graph's 12px font, approximately (no DOM measurement in the layout). */
const textWidth = (s: string, px = 6.8) => s.length * px;

/** The two lines a node shows. */
export function nodeLines(n: ViewNode): [string, string] {
  const params = n.params === null ? '? params' : n.params === 0 ? '' : ` · ${n.params.toLocaleString('en-US')}`;
  const repeat = n.repeat > 1 ? ` ×${n.repeat}` : '';
  return [`${n.name}${repeat}`, `${n.className} → ${n.shape}${params}`];
}

export function layoutGraph(view: GraphView): Layout {
  const g = new dagre.graphlib.Graph({ compound: true, multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 18, ranksep: 28, edgesep: 8, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of view.nodes) {
    const [a, b] = nodeLines(n);
    g.setNode(n.id, { width: Math.max(120, Math.ceil(Math.max(textWidth(a, 7.2), textWidth(b)) + 24)), height: 40 });
  }
  for (const b of view.boxes) g.setNode(b.id, { label: b.label, paddingTop: 26, paddingLeft: 10, paddingRight: 10, paddingBottom: 10 });
  for (const b of view.boxes) if (b.parent) g.setParent(b.id, b.parent);
  for (const n of view.nodes) if (n.parent) g.setParent(n.id, n.parent);
  view.edges.forEach((e, i) => g.setEdge(e.from, e.to, {}, `e${i}`));
  dagre.layout(g);
  const nodes = new Map<string, Placed>();
  const boxes = new Map<string, Placed>();
  for (const n of view.nodes) {
    const p = g.node(n.id);
    nodes.set(n.id, { x: p.x - p.width / 2, y: p.y - p.height / 2, width: p.width, height: p.height });
  }
  for (const b of view.boxes) {
    const p = g.node(b.id);
    if (p && p.width !== undefined) boxes.set(b.id, { x: p.x - p.width / 2, y: p.y - p.height / 2, width: p.width, height: p.height });
  }
  const edges = view.edges.map((e, i) => ({ from: e.from, to: e.to, points: (g.edge(e.from, e.to, `e${i}`)?.points ?? []) as { x: number; y: number }[] }));
  const graph = g.graph();
  return { width: (graph.width as number) ?? 0, height: (graph.height as number) ?? 0, nodes, boxes, edges };
}
