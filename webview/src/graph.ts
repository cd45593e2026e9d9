/**
 * The model graph: every layer call a node (name, class, output shape, parameters), edges as the
 * tensors flow, repeated blocks and nested models as boxes that collapse and expand, problems
 * marked. A click selects a node (its property sheet) and shows its call in the source; the
 * cursor in the source highlights nodes. SVG, coloured from the VS Code theme.
 */
import type { PanelNodeArgsParams } from '../../src/core/protocol/panel';
import { findNode, viewOfGraph, type GraphView, type ModelGraph, type ViewNode } from '../../src/core/view/modelGraph';
import { byId, clear, el } from './dom';
import { layoutGraph, nodeLines, type Layout } from './graphLayout';

const SVG = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, ...children: (Node | string)[]): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) e.append(c);
  return e;
}

/** A colour family per kind of layer, from the theme's chart colours. */
export function layerKind(className: string): string {
  if (/^Input/.test(className)) return 'input';
  if (/Conv|LocallyConnected/.test(className)) return 'conv';
  if (/Pool/.test(className)) return 'pool';
  if (/^(Dense|Gemm|MatMul|Embedding)$/.test(className)) return 'dense';
  if (/Norm/.test(className)) return 'norm';
  if (/^(Add|Subtract|Multiply|Average|Maximum|Minimum|Concatenate|Dot|Sum|Mul|Concat)$/.test(className)) return 'merge';
  if (/Activation|ReLU|Relu|Softmax|Sigmoid|Tanh|ELU|Elu|Clip/.test(className)) return 'act';
  if (/Dropout|Noise|Random/.test(className)) return 'reg';
  return 'other';
}

export interface GraphCallbacks {
  select(node: string): void;
  reveal(node: string): void;
  edit(node: string, arg: string, value: string): void;
  /** Persist what is collapsed / expanded. */
  saveState(state: { collapsed: string[]; expanded: string[] }): void;
}

export class GraphPanel {
  private graph?: ModelGraph;
  private view?: GraphView;
  private layout?: Layout;
  private collapsed = new Set<string>();
  private expanded = new Set<string>();
  private selected?: string;
  private highlighted = new Set<string>();
  private zoom = 1;
  private readonly canvas: HTMLElement;

  constructor(private readonly cb: GraphCallbacks, saved?: { collapsed?: string[]; expanded?: string[] }) {
    this.canvas = byId('graph-canvas');
    this.collapsed = new Set(saved?.collapsed ?? []);
    this.expanded = new Set(saved?.expanded ?? []);
    byId('graph-fit').addEventListener('click', () => this.fit());
    byId('graph-zoom-in').addEventListener('click', () => this.setZoom(this.zoom * 1.25));
    byId('graph-zoom-out').addEventListener('click', () => this.setZoom(this.zoom / 1.25));
    byId('graph-collapse').addEventListener('click', () => {
      const keys = new Set((this.graph ? allGroups(this.graph) : []).map((g) => g.key));
      const all = [...keys].every((k) => this.collapsed.has(k));
      this.collapsed = all ? new Set() : keys;
      this.render();
    });
    this.canvas.addEventListener(
      'wheel',
      (e) => {
        if (!e.ctrlKey) return;
        e.preventDefault();
        this.setZoom(this.zoom * (e.deltaY < 0 ? 1.1 : 1 / 1.1));
      },
      { passive: false },
    );
  }

  setGraph(graph: ModelGraph, file: string): void {
    const first = !this.graph;
    this.graph = graph;
    const blocks = new Set(graph.groups.map((g) => g.key)).size;
    byId('graph-title').textContent = `${graph.model}: ${countCalls(graph)} layer calls${blocks ? `, ${blocks} repeated block${blocks === 1 ? '' : 's'}` : ''}`;
    byId('graph-title').title = file;
    this.render();
    if (first) this.fitWidth();
    if (this.selected) {
      if (findNode(graph, this.selected) || this.view?.nodes.some((n) => n.id === this.selected)) this.cb.select(this.selected);
      else this.select(undefined);
    }
  }

  private render(): void {
    if (!this.graph) return;
    this.cb.saveState({ collapsed: [...this.collapsed], expanded: [...this.expanded] });
    this.view = viewOfGraph(this.graph, { collapsed: this.collapsed, expanded: this.expanded });
    this.layout = layoutGraph(this.view);
    const L = this.layout;
    const root = svg('svg', { id: 'graph-svg', role: 'img', 'aria-label': `graph of ${this.graph.model}`, viewBox: `0 0 ${Math.max(1, L.width)} ${Math.max(1, L.height)}` });
    root.append(
      svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow' }))),
    );
    // Boxes first (outermost first, so inner ones are drawn on top).
    const depth = (id: string | undefined): number => {
      let d = 0;
      for (let b = this.view!.boxes.find((x) => x.id === id); b?.parent; b = this.view!.boxes.find((x) => x.id === b!.parent)) d++;
      return d;
    };
    for (const b of [...this.view.boxes].sort((a, b2) => depth(a.id) - depth(b2.id))) {
      const p = L.boxes.get(b.id);
      if (!p) continue;
      const g = svg('g', { class: `box ${b.kind}`, 'data-box': b.id });
      const toggle = b.kind === 'group' ? '▾ ' : '⊟ ';
      const title = svg('text', { x: p.x + 8, y: p.y + 16, class: 'box-label' }, `${toggle}${b.label}`);
      const hit = svg('rect', { x: p.x, y: p.y, width: p.width, height: 22, class: 'box-hit' });
      const toggleBox = () => {
        if (b.kind === 'group') this.collapsed.add(b.key);
        else this.expanded.delete(b.key);
        this.render();
      };
      hit.addEventListener('click', toggleBox);
      title.addEventListener('click', toggleBox);
      g.append(svg('rect', { x: p.x, y: p.y, width: p.width, height: p.height, rx: 6, class: 'box-frame' }), hit, title);
      g.append(svg('title', {}, b.kind === 'group' ? `${b.label}: calls made by one run of this code. Click to collapse every run into one node.` : `${b.label}: a nested model. Click to collapse.`));
      root.append(g);
    }
    for (const e of L.edges) {
      if (e.points.length < 2) continue;
      const d = e.points.map((p, i) => `${i ? 'L' : 'M'} ${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(' ');
      root.append(svg('path', { d, class: 'edge', 'marker-end': 'url(#arrow)', 'data-from': e.from, 'data-to': e.to }));
    }
    for (const n of this.view.nodes) {
      const p = L.nodes.get(n.id)!;
      root.append(this.nodeElement(n, p));
    }
    const legend = el('div', { class: 'muted graph-legend' }, 'Click a node: its call in the source and its arguments · boxes: repeated code (click the title to collapse) · ⊞ nested model (click to expand) · Ctrl + wheel: zoom');
    clear(this.canvas);
    this.canvas.append(root);
    byId('graph-legend').replaceWith(Object.assign(legend, { id: 'graph-legend' }));
    this.setZoom(this.zoom);
    this.applyHighlight();
  }

  private nodeElement(n: ViewNode, p: { x: number; y: number; width: number; height: number }): SVGGElement {
    const [a, b] = nodeLines(n);
    const problems = n.problems ?? [];
    const status = n.status === 'error' || problems.some((x) => x.severity === 'error') ? 'error' : problems.length || n.status !== 'ok' ? 'warning' : 'ok';
    const g = svg('g', { class: `node kind-${layerKind(n.className)} status-${status}${n.members ? ' block' : ''}${n.expandable ? ' expandable' : ''}`, 'data-node': n.id, tabindex: 0, role: 'button' });
    g.append(
      svg('rect', { x: p.x, y: p.y, width: p.width, height: p.height, rx: 4, class: 'frame' }),
      svg('rect', { x: p.x, y: p.y, width: 5, height: p.height, rx: 2, class: 'stripe' }),
      svg('text', { x: p.x + 12, y: p.y + 16, class: 'name' }, a),
      svg('text', { x: p.x + 12, y: p.y + 32, class: 'detail' }, b),
    );
    if (n.expandable || n.members) {
      const sign = svg('text', { x: p.x + p.width - 16, y: p.y + 16, class: 'toggle' }, '⊞');
      sign.addEventListener('click', (e) => {
        e.stopPropagation();
        if (n.members) this.collapsed.delete(keyOfBlock(this.graph!, n.id));
        else this.expanded.add(n.id);
        this.render();
      });
      g.append(sign);
    }
    const tip = [`${n.name} (${n.className}) → ${n.shape}`, n.params !== null ? `${n.params.toLocaleString('en-US')} params` : 'parameters unknown', ...(n.repeat > 1 ? [`this source line made ${n.repeat} calls`] : []), ...problems.map((x) => `${x.severity}: ${x.message}`)];
    g.append(svg('title', {}, tip.join('\n')));
    const activate = () => {
      this.select(n.id);
      if (n.call) this.cb.reveal(n.id);
    };
    g.addEventListener('click', activate);
    g.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        activate();
      }
    });
    return g;
  }

  select(id: string | undefined): void {
    this.selected = id;
    for (const e of this.canvas.querySelectorAll('.node.selected')) e.classList.remove('selected');
    if (id) this.canvas.querySelector(`[data-node="${CSS.escape(id)}"]`)?.classList.add('selected');
    const sheet = byId('graph-sheet');
    if (!id) {
      clear(sheet);
      sheet.append(el('p', { class: 'muted' }, 'Select a node to see and edit its arguments.'));
      return;
    }
    const n = this.view?.nodes.find((x) => x.id === id);
    if (!n) return;
    this.renderSheet(n, undefined);
    this.cb.select(id);
  }

  /** The host's answer: the node's arguments as the source writes them. */
  showArgs(p: PanelNodeArgsParams): void {
    if (p.node !== this.selected) return;
    const n = this.view?.nodes.find((x) => x.id === p.node);
    if (n) this.renderSheet(n, p);
  }

  private renderSheet(n: ViewNode, args: PanelNodeArgsParams | undefined): void {
    const sheet = byId('graph-sheet');
    clear(sheet);
    sheet.append(el('h3', {}, n.name), el('div', { class: 'muted' }, `${n.className} → ${n.shape} · ${n.params === null ? 'parameters unknown' : `${n.params.toLocaleString('en-US')} params`}`));
    for (const pr of n.problems ?? []) sheet.append(el('div', { class: pr.severity === 'error' ? 'error' : 'warning' }, pr.message));
    if (n.members) {
      sheet.append(el('p', { class: 'muted' }, `A collapsed block of ${n.members.length} calls. Expand it (⊞) to edit one of them.`));
      return;
    }
    if (!args) {
      sheet.append(el('p', { class: 'muted' }, 'Reading its arguments…'));
      return;
    }
    if (args.note) sheet.append(el('p', { class: 'note' }, args.note));
    if (args.readOnly) {
      sheet.append(el('p', { class: 'muted' }, args.readOnly));
      return;
    }
    if (!args.fields.length) sheet.append(el('p', { class: 'muted' }, `${n.className} has no arguments the graph edits (filters, units, kernel_size, pool_size, strides, padding, activation, rate).`));
    const form = el('form', { class: 'sheet', 'aria-label': `arguments of ${n.name}` });
    form.addEventListener('submit', (e) => e.preventDefault());
    for (const f of args.fields) {
      const id = `arg-${f.name}`;
      let input: HTMLInputElement | HTMLSelectElement;
      if (f.kind === 'choice' && f.choices) {
        const select = el('select', { id, 'data-arg': f.name });
        const current = f.written ?? f.default ?? '';
        const norm = (s: string) => s.replace(/^["']|["']$/g, '').toLowerCase();
        const options = f.choices.some((c) => norm(c) === norm(current)) ? f.choices : [current, ...f.choices];
        for (const c of options) select.append(el('option', { value: norm(c) === 'none' ? 'None' : norm(c) }, c));
        select.value = norm(current) === 'none' ? 'None' : norm(current);
        input = select;
      } else {
        input = el('input', { id, 'data-arg': f.name, type: 'text', value: f.written ?? '', placeholder: f.default !== undefined ? `default ${f.default}` : 'required', spellcheck: 'false' });
      }
      input.title = `${f.name}: ${f.expected}`;
      input.addEventListener('change', () => this.cb.edit(n.id, f.name, input.value));
      form.append(el('label', { for: id }, el('span', { class: 'arg-name' }, f.name), input, el('span', { class: 'muted arg-default' }, f.written === undefined && f.default !== undefined ? `(default ${f.default})` : '')));
    }
    sheet.append(form);
    if (args.error) sheet.append(el('div', { class: 'error', id: 'sheet-error' }, args.error));
    sheet.append(el('p', { class: 'muted' }, 'A change is written into the source at this call (Ctrl+Z in the editor undoes it); the shapes follow.'));
  }

  highlight(ids: string[]): void {
    this.highlighted = new Set(ids);
    this.applyHighlight();
    // Bring the first one into view.
    const first = this.layout && ids.map((id) => this.layout!.nodes.get(this.drawnFor(id))).find(Boolean);
    if (first) {
      const c = this.canvas;
      const x = (first.x + first.width / 2) * this.zoom - c.clientWidth / 2;
      const y = (first.y + first.height / 2) * this.zoom - c.clientHeight / 2;
      c.scrollTo({ left: Math.max(0, x), top: Math.max(0, y), behavior: 'smooth' });
    }
  }

  /** The drawn node standing for a call: itself, or its collapsed block. */
  private drawnFor(id: string): string {
    if (this.view?.nodes.some((n) => n.id === id)) return id;
    return this.view?.nodes.find((n) => n.members?.includes(id))?.id ?? id;
  }

  private applyHighlight(): void {
    const drawn = new Set([...this.highlighted].map((id) => this.drawnFor(id)));
    for (const e of this.canvas.querySelectorAll<SVGGElement>('.node')) e.classList.toggle('highlight', drawn.has(e.dataset.node!));
  }

  private setZoom(z: number): void {
    this.zoom = Math.min(4, Math.max(0.1, z));
    const s = this.canvas.querySelector('svg');
    if (s && this.layout) {
      s.setAttribute('width', String(Math.ceil(this.layout.width * this.zoom)));
      s.setAttribute('height', String(Math.ceil(this.layout.height * this.zoom)));
    }
  }

  private fit(): void {
    if (!this.layout) return;
    const c = this.canvas;
    this.setZoom(Math.min(c.clientWidth / Math.max(1, this.layout.width), c.clientHeight / Math.max(1, this.layout.height)));
  }

  /** The first view: as wide as the box allows, never enlarged, never below a readable size. */
  private fitWidth(): void {
    if (!this.layout) return;
    this.setZoom(Math.max(0.45, Math.min(1, this.canvas.clientWidth / Math.max(1, this.layout.width))));
  }
}

function allGroups(g: ModelGraph): ModelGraph['groups'] {
  return [...g.groups, ...g.nodes.flatMap((n) => (n.nested ? allGroups(n.nested) : []))];
}

function keyOfBlock(g: ModelGraph, blockId: string): string {
  return allGroups(g).find((x) => x.id === blockId)?.key ?? blockId;
}

function countCalls(g: ModelGraph): number {
  return g.nodes.filter((n) => n.kind !== 'input').length;
}
