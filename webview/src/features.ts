import type { PanelActivationsParams, PanelFiltersParams, PanelModelParams } from '../../src/core/protocol/panel';
import { RequestActivations, RequestFilters, decodeTensor } from '../../src/core/protocol/panel';
import { paint } from '../../src/core/render/colormap';
import { channelPlane, gridLayout, normalize, normalizeSigned, stats, tileScale, topK } from '../../src/core/render/featureMaps';
import { byId, clear, el, fmt, imageCanvas } from './dom';
import { post } from './host';
import { rgbToRgba } from './training';

/** The current input as a greyscale plane, shared with the filters playground. */
export interface CurrentInput {
  data: Float32Array;
  h: number;
  w: number;
  c: number;
  label: string;
}

/** Input choice (dataset sample, image file, drawing), every layer's channels as heatmaps, probabilities, filters. */
export class FeatureMapsView {
  private model?: PanelModelParams;
  /** The layer shown just above (a call reading another one is marked with its branch). */
  private previous = 'input';
  input?: CurrentInput;
  private readonly listeners: ((i: CurrentInput) => void)[] = [];
  private drawing = new Float32Array(28 * 28);
  private drawSize = 28;

  constructor() {
    byId('sample-go').addEventListener('click', () => this.requestSample());
    byId('sample-random').addEventListener('click', () => {
      (byId('sample-index') as HTMLInputElement).value = String(Math.floor(Math.random() * 1000));
      this.requestSample();
    });
    byId('pick-file').addEventListener('click', () => post(RequestActivations, { source: 'file' }));
    byId('draw-clear').addEventListener('click', () => {
      this.drawing.fill(0);
      this.paintDrawing();
    });
    this.setupDrawing();
    byId('overlay').addEventListener('click', () => byId('overlay').classList.remove('open'));
    byId('filters-layer').addEventListener('change', (e) => {
      const layer = (e.target as HTMLSelectElement).value;
      if (layer) post(RequestFilters, { layer });
    });
  }

  onInput(f: (i: CurrentInput) => void): void {
    this.listeners.push(f);
  }

  setModel(m: PanelModelParams): void {
    this.model = m;
    const sources = byId('sample-source') as HTMLSelectElement;
    const keep = sources.value;
    clear(sources);
    for (const s of m.dataSources) sources.append(el('option', { value: s.id }, s.label));
    if (m.dataSources.some((s) => s.id === keep)) sources.value = keep;
    const [h, w] = m.inputShape ?? [28, 28];
    if (h !== this.drawSize || w !== this.drawSize) {
      this.drawSize = Math.max(h, w);
      this.drawing = new Float32Array(this.drawSize * this.drawSize);
      const canvas = byId('draw') as HTMLCanvasElement;
      canvas.width = canvas.height = this.drawSize;
      this.paintDrawing();
    }
    const select = byId('filters-layer') as HTMLSelectElement;
    clear(select);
    select.append(el('option', { value: '' }, 'Show the kernels of…'));
    for (const l of m.layers.filter((x) => /Conv/.test(x.className))) select.append(el('option', { value: l.name }, `${l.name} (${l.className})`));
    byId('model-problem').textContent = m.problem ?? '';
  }

  requestSample(): void {
    const index = Math.max(0, Math.floor(Number((byId('sample-index') as HTMLInputElement).value) || 0));
    post(RequestActivations, { source: 'sample', dataSource: (byId('sample-source') as HTMLSelectElement).value, index });
  }

  show(a: PanelActivationsParams): void {
    const [h, w, c] = a.input.shape;
    const data = decodeTensor(a.input);
    this.input = { data, h, w, c, label: a.inputLabel };
    for (const f of this.listeners) f(this.input);
    byId('input-label').textContent = `${a.inputLabel} · weights: ${a.weights} · ${a.milliseconds.toFixed(0)} ms`;
    const preview = byId('input-preview');
    clear(preview);
    preview.append(imageCanvas(c === 3 ? rgbToRgba(data, h * w) : paint(normalize(data, { min: 0, max: 1 }), 'gray'), w, h, Math.max(1, Math.floor(112 / Math.max(h, w))), 'input'));
    this.showProbabilities(a.probabilities);
    const root = byId('layers');
    clear(root);
    this.previous = 'input';
    for (const layer of a.layers) root.append(this.layerSection(layer.name, layer.className, decodeTensor(layer.activation), layer.activation.shape, layer.inputs));
    const firstConv = this.model?.layers.find((l) => /Conv/.test(l.className));
    if (firstConv && !byId('filters').dataset.layer) post(RequestFilters, { layer: firstConv.name });
  }

  private showProbabilities(p: number[]): void {
    const names = this.model?.classNames ?? p.map((_, i) => String(i));
    const root = byId('probabilities');
    clear(root);
    const best = topK(p, 1)[0];
    p.forEach((v, i) => {
      const bar = el('div', { class: 'bar' });
      bar.style.width = `${(v * 100).toFixed(1)}%`;
      root.append(el('div', { class: `bar-row${best && best[0] === i ? ' best' : ''}` }, el('span', { class: 'bar-label' }, names[i] ?? String(i)), el('div', { class: 'bar-track' }, bar), el('span', { class: 'bar-value' }, `${(v * 100).toFixed(1)}%`)));
    });
  }

  private layerSection(name: string, className: string, data: Float32Array, shape: number[], inputs?: string[]): HTMLElement {
    const section = el('section', { class: 'layer', 'data-layer': name });
    // Where a call reads more than one tensor, or not the call just above, say so: that is the branch.
    const from = inputs && inputs.length > 0 && (inputs.length > 1 || inputs[0] !== this.previous) ? ` ← ${inputs.join(' + ')}` : '';
    this.previous = name;
    section.append(el('h3', {}, `${name} `, el('span', { class: 'muted' }, `(${className}) → (None, ${shape.join(', ')})${from}`)));
    const grid = el('div', { class: 'channels' });
    if (shape.length === 3) {
      const [h, w, c] = shape;
      const { columns } = gridLayout(c, w, h);
      grid.style.gridTemplateColumns = `repeat(${columns}, max-content)`;
      const scale = tileScale(h, w, c > 32 ? 40 : 64);
      for (let ch = 0; ch < c; ch++) {
        const plane = channelPlane(data, h, w, c, ch);
        const range = stats(plane);
        const canvas = imageCanvas(paint(normalize(plane, range), 'viridis'), w, h, scale);
        canvas.title = `channel ${ch} · min ${fmt(range.min, 3)} · max ${fmt(range.max, 3)} · mean ${fmt(range.mean, 3)}`;
        canvas.dataset.channel = String(ch);
        canvas.addEventListener('mousemove', (e) => this.readout(e, canvas, plane, w, h, ch, range));
        canvas.addEventListener('click', () => this.enlarge(`${name} · channel ${ch}`, plane, w, h, range));
        grid.append(canvas);
      }
    } else {
      // A vector (Flatten, Dense): one strip of cells, wrapped.
      const n = data.length;
      const w = Math.min(n, 64);
      const h = Math.ceil(n / w);
      const padded = new Float32Array(w * h);
      padded.set(data);
      const range = stats(data);
      const canvas = imageCanvas(paint(normalize(padded, range), 'viridis'), w, h, n <= 16 ? 16 : 6, 'strip');
      canvas.title = `${n} values · min ${fmt(range.min, 3)} · max ${fmt(range.max, 3)}`;
      canvas.addEventListener('mousemove', (e) => this.readout(e, canvas, padded, w, h, -1, range, n));
      grid.append(canvas);
    }
    section.append(grid);
    return section;
  }

  private readout(e: MouseEvent, canvas: HTMLCanvasElement, plane: Float32Array, w: number, h: number, ch: number, range: { min: number; max: number }, count = w * h): void {
    const r = canvas.getBoundingClientRect();
    const x = Math.min(w - 1, Math.floor(((e.clientX - r.left) / r.width) * w));
    const y = Math.min(h - 1, Math.floor(((e.clientY - r.top) / r.height) * h));
    const i = y * w + x;
    const where = ch >= 0 ? `channel ${ch} · (row ${y}, col ${x})` : `unit ${i}`;
    byId('readout').textContent = i < count ? `${where} = ${fmt(plane[i])}   [min ${fmt(range.min, 3)}, max ${fmt(range.max, 3)}]` : '';
  }

  private enlarge(title: string, plane: Float32Array, w: number, h: number, range: { min: number; max: number }): void {
    const box = byId('overlay-content');
    clear(box);
    const canvas = imageCanvas(paint(normalize(plane, range), 'viridis'), w, h, Math.max(1, Math.floor(360 / Math.max(w, h))), 'large');
    canvas.addEventListener('mousemove', (e) => this.readout(e, canvas, plane, w, h, 0, range));
    box.append(el('h3', {}, title), canvas, el('p', { class: 'muted' }, `min ${fmt(range.min)} · max ${fmt(range.max)} · click anywhere to close`));
    byId('overlay').classList.add('open');
  }

  showFilters(f: PanelFiltersParams): void {
    const root = byId('filters');
    root.dataset.layer = f.layer;
    clear(root);
    const [kh, kw, cin, cout] = f.kernel.shape;
    const data = decodeTensor(f.kernel);
    root.append(el('h3', {}, `Kernels of ${f.layer} `, el('span', { class: 'muted' }, `(${kh}×${kw}, ${cin} input channel${cin === 1 ? '' : 's'}, ${cout} filters · ${f.weights}; blue negative, red positive)`)));
    const grid = el('div', { class: 'channels' });
    const shown = Math.min(cout, 64);
    grid.style.gridTemplateColumns = `repeat(${gridLayout(shown, 1, 1).columns}, max-content)`;
    const scale = Math.max(4, Math.floor(48 / Math.max(kh, kw)));
    for (let o = 0; o < shown; o++) {
      // Kernel (kh, kw, cin, cout): average the input channels for one picture per filter.
      const plane = new Float32Array(kh * kw);
      for (let p = 0; p < kh * kw; p++) {
        let s = 0;
        for (let i = 0; i < cin; i++) s += data[(p * cin + i) * cout + o];
        plane[p] = s / cin;
      }
      const canvas = imageCanvas(paint(normalizeSigned(plane), 'diverging'), kw, kh, scale);
      canvas.title = `filter ${o}: ${Array.from(plane, (v) => v.toFixed(2)).join(' ')}`;
      grid.append(canvas);
    }
    root.append(grid);
    if (cout > shown) root.append(el('p', { class: 'muted' }, `${shown} of ${cout} filters shown`));
    (byId('filters-layer') as HTMLSelectElement).value = f.layer;
  }

  private setupDrawing(): void {
    const canvas = byId('draw') as HTMLCanvasElement;
    let down = false;
    const stroke = (e: PointerEvent) => {
      const r = canvas.getBoundingClientRect();
      const n = this.drawSize;
      const cx = ((e.clientX - r.left) / r.width) * n;
      const cy = ((e.clientY - r.top) / r.height) * n;
      // A soft round brush about 2.5 pixels wide at 28×28, like a pen stroke in MNIST.
      const radius = (n / 28) * 1.4;
      for (let y = Math.floor(cy - radius - 1); y <= cy + radius + 1; y++) {
        for (let x = Math.floor(cx - radius - 1); x <= cx + radius + 1; x++) {
          if (x < 0 || y < 0 || x >= n || y >= n) continue;
          const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
          const v = Math.max(0, Math.min(1, (radius + 0.5 - d) / 1));
          this.drawing[y * n + x] = Math.max(this.drawing[y * n + x], v);
        }
      }
      this.paintDrawing();
    };
    canvas.addEventListener('pointerdown', (e) => {
      down = true;
      canvas.setPointerCapture(e.pointerId);
      stroke(e);
    });
    canvas.addEventListener('pointermove', (e) => down && stroke(e));
    canvas.addEventListener('pointerup', () => {
      down = false;
      post(RequestActivations, { source: 'drawing', pixels: Array.from(this.drawing, (v) => Math.round(v * 1000) / 1000) });
    });
    this.paintDrawing();
  }

  private paintDrawing(): void {
    const canvas = byId('draw') as HTMLCanvasElement;
    const ctx = canvas.getContext('2d');
    if (ctx) ctx.putImageData(new ImageData(paint(this.drawing, 'gray'), this.drawSize, this.drawSize), 0, 0);
  }
}
