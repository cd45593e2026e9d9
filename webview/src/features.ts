import type { PanelActivationsParams, PanelExplainParams, PanelFiltersParams, PanelModelParams } from '../../src/core/protocol/panel';
import { RequestActivations, RequestDataSource, RequestExplain, RequestFilters, decodeTensor } from '../../src/core/protocol/panel';
import { colorAt, paint } from '../../src/core/render/colormap';
import { channelPlane, gridLayout, normalize, normalizeSigned, stats, tileScale, topK } from '../../src/core/render/featureMaps';
import { upsampleBilinear } from '../../src/core/render/featureMaps';
import { byId, clear, el, fmt, imageCanvas } from './dom';
import { post } from './host';
import type { Kernel } from '../../src/core/render/playground';
import { rgbToRgba } from './training';

/** The current input as a greyscale plane, shared with the filters playground. */
export interface CurrentInput {
  data: Float32Array;
  h: number;
  w: number;
  c: number;
  label: string;
}

interface LayerData {
  name: string;
  className: string;
  inputs?: string[];
  data: Float32Array;
  shape: number[];
}

/**
 * Input choice (dataset sample, image file, drawing), every layer's channels as numbered heatmaps
 * with a colour scale, what produced a channel (its input channels and kernels), probabilities,
 * filters, and Grad-CAM / saliency over the input.
 */
export class FeatureMapsView {
  private model?: PanelModelParams;
  /** The layer shown just above (a call reading another one is marked with its branch). */
  private previous = 'input';
  input?: CurrentInput;
  private layers = new Map<string, LayerData>();
  private kernels = new Map<string, { data: Float32Array; shape: number[] }>();
  private pendingDetail?: { layer: string; channel: number };
  private probabilities: number[] = [];
  private readonly listeners: ((i: CurrentInput) => void)[] = [];
  private kernelListeners: ((k: Kernel) => void)[] = [];
  private drawing = new Float32Array(28 * 28);
  private drawSize = 28;
  private explained?: PanelExplainParams;

  constructor() {
    byId('sample-go').addEventListener('click', () => this.requestSample());
    byId('sample-random').addEventListener('click', () => {
      (byId('sample-index') as HTMLInputElement).value = String(Math.floor(Math.random() * 1000));
      this.requestSample();
    });
    byId('sample-source').addEventListener('change', () => {
      const id = (byId('sample-source') as HTMLSelectElement).value;
      post(RequestDataSource, { id });
      this.requestSample();
    });
    byId('pick-file').addEventListener('click', () => post(RequestActivations, { source: 'file' }));
    byId('draw-clear').addEventListener('click', () => {
      this.drawing.fill(0);
      this.paintDrawing();
    });
    this.setupDrawing();
    byId('overlay').addEventListener('click', (e) => {
      if (e.target === byId('overlay') || (e.target as HTMLElement).dataset.close !== undefined) byId('overlay').classList.remove('open');
    });
    document.addEventListener('keydown', (e) => e.key === 'Escape' && byId('overlay').classList.remove('open'));
    byId('filters-layer').addEventListener('change', (e) => {
      const layer = (e.target as HTMLSelectElement).value;
      if (layer) post(RequestFilters, { layer });
    });
    for (const id of ['explain-layer', 'explain-class']) byId(id).addEventListener('change', () => this.requestExplain());
    byId('explain-opacity').addEventListener('input', () => this.explained && this.showExplain(this.explained));
  }

  onInput(f: (i: CurrentInput) => void): void {
    this.listeners.push(f);
  }

  onKernel(f: (k: Kernel) => void): void {
    this.kernelListeners.push(f);
  }

  setModel(m: PanelModelParams): void {
    this.model = m;
    const sources = byId('sample-source') as HTMLSelectElement;
    const keep = sources.value;
    clear(sources);
    for (const s of m.dataSources) sources.append(el('option', { value: s.id }, s.label));
    sources.value = m.dataSources.some((s) => s.id === m.dataSource) ? m.dataSource! : m.dataSources.some((s) => s.id === keep) ? keep : (m.dataSources[0]?.id ?? '');
    byId('sample-row').hidden = m.dataSources.length === 0;
    const [h, w] = m.inputShape ?? [28, 28];
    if (h !== this.drawSize || w !== this.drawSize) {
      this.drawSize = Math.max(h, w);
      this.drawing = new Float32Array(this.drawSize * this.drawSize);
      const canvas = byId('draw') as HTMLCanvasElement;
      canvas.width = canvas.height = this.drawSize;
      this.paintDrawing();
    }
    const select = byId('filters-layer') as HTMLSelectElement;
    const chosen = select.value;
    clear(select);
    select.append(el('option', { value: '' }, 'Show the kernels of…'));
    for (const l of m.layers.filter((x) => /Conv/.test(x.className))) select.append(el('option', { value: l.name }, `${l.name} (${l.className})`));
    select.value = [...select.options].some((o) => o.value === chosen) ? chosen : '';
    const layer = byId('explain-layer') as HTMLSelectElement;
    const keepLayer = layer.value;
    clear(layer);
    const explainable = m.explainable ?? [];
    for (const l of explainable) layer.append(el('option', { value: l }, l));
    // Grad-CAM's usual choice: the last convolution (the most semantic map that still has a layout).
    const lastConv = [...m.layers].reverse().find((l) => /Conv/.test(l.className) && explainable.includes(l.name))?.name;
    layer.value = explainable.includes(keepLayer) ? keepLayer : (lastConv ?? explainable[explainable.length - 1] ?? '');
    const cls = byId('explain-class') as HTMLSelectElement;
    const keepCls = cls.value;
    clear(cls);
    cls.append(el('option', { value: '' }, 'the predicted class'));
    m.classNames.forEach((c, i) => cls.append(el('option', { value: String(i) }, `class ${c}`)));
    cls.value = keepCls && Number(keepCls) < m.classNames.length ? keepCls : '';
    byId('explain-box').hidden = explainable.length === 0;
    this.kernels.clear();
  }

  requestSample(): void {
    const index = Math.max(0, Math.floor(Number((byId('sample-index') as HTMLInputElement).value) || 0));
    const dataSource = (byId('sample-source') as HTMLSelectElement).value;
    if (!dataSource) return;
    post(RequestActivations, { source: 'sample', dataSource, index });
  }

  private requestExplain(): void {
    const layer = (byId('explain-layer') as HTMLSelectElement).value;
    const cls = (byId('explain-class') as HTMLSelectElement).value;
    if (!layer || !this.input) return;
    post(RequestExplain, { layer, ...(cls ? { cls: Number(cls) } : {}) });
  }

  show(a: PanelActivationsParams): void {
    const [h, w, c] = a.input.shape;
    const data = decodeTensor(a.input);
    this.input = { data, h, w, c, label: a.inputLabel };
    for (const f of this.listeners) f(this.input);
    byId('input-label').textContent = `${a.inputLabel} · weights: ${a.weights} · ${a.milliseconds.toFixed(0)} ms`;
    const preview = byId('input-preview');
    clear(preview);
    preview.append(imageCanvas(this.inputRgba(), w, h, Math.max(1, Math.floor(112 / Math.max(h, w))), 'input'));
    this.probabilities = a.probabilities;
    this.showProbabilities(a.probabilities);
    const root = byId('layers');
    clear(root);
    this.previous = 'input';
    this.layers.clear();
    for (const layer of a.layers) {
      const d: LayerData = { name: layer.name, className: layer.className, inputs: layer.inputs, data: decodeTensor(layer.activation), shape: layer.activation.shape };
      this.layers.set(layer.name, d);
      root.append(this.layerSection(d));
    }
    const firstConv = this.model?.layers.find((l) => /Conv/.test(l.className));
    if (firstConv && !byId('filters').dataset.layer) post(RequestFilters, { layer: firstConv.name });
    this.requestExplain();
  }

  private inputRgba(): Uint8ClampedArray {
    const i = this.input!;
    return i.c === 3 ? rgbToRgba(i.data, i.h * i.w) : paint(normalize(i.c === 1 ? i.data : channelPlane(i.data, i.h, i.w, i.c, 0), { min: 0, max: 1 }), 'gray');
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

  private layerSection(l: LayerData): HTMLElement {
    const { name, className, data, shape, inputs } = l;
    const section = el('section', { class: 'layer', 'data-layer': name });
    // Where a call reads more than one tensor, or not the call just above, say so: that is the branch.
    const from = inputs && inputs.length > 0 && (inputs.length > 1 || inputs[0] !== this.previous) ? ` ← ${inputs.join(' + ')}` : '';
    this.previous = name;
    // The panel holds activations channels-last; a PyTorch model's are printed back in its order, (C, H, W) after a batch of one.
    const printed = this.model?.framework === 'pytorch' ? `[1, ${(shape.length >= 2 ? [shape[shape.length - 1], ...shape.slice(0, -1)] : shape).join(', ')}]` : `(None, ${shape.join(', ')})`;
    section.append(el('h3', {}, `${name} `, el('span', { class: 'muted' }, `(${className}) → ${printed}${from}`)));
    const grid = el('div', { class: 'channels' });
    if (shape.length === 3) {
      const [h, w, c] = shape;
      section.append(scaleLegend(`each channel coloured from its own minimum to its maximum (hover a tile for its values${/Conv|Pool|Activation|ReLU|Normalization|Dropout/.test(className) ? '; click it for what produced it' : ''})`));
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
        canvas.addEventListener('click', () => this.detail(name, ch));
        grid.append(el('figure', { class: 'tile' }, canvas, el('figcaption', {}, String(ch))));
      }
    } else {
      // A vector (Flatten, Dense): one strip of cells, wrapped.
      const n = data.length;
      const w = Math.min(n, 64);
      const h = Math.ceil(n / w);
      const padded = new Float32Array(w * h);
      padded.set(data);
      const range = stats(data);
      section.append(scaleLegend(`${n} values, from ${fmt(range.min, 3)} to ${fmt(range.max, 3)}, row by row`));
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

  /** The input tensor a layer call reads first: an earlier call's output, or the model input. */
  private inputOf(l: LayerData): LayerData | undefined {
    const from = l.inputs?.[0];
    if (from && from !== 'input') return this.layers.get(from);
    if (!this.input) return undefined;
    return { name: 'input', className: 'Input', data: this.input.data, shape: [this.input.h, this.input.w, this.input.c] };
  }

  /** A channel enlarged, with what produced it: for a convolution, every input channel with its kernel. */
  private detail(layer: string, ch: number): void {
    const l = this.layers.get(layer);
    if (!l) return;
    const [h, w, c] = l.shape;
    const plane = channelPlane(l.data, h, w, c, ch);
    const range = stats(plane);
    const box = byId('overlay-content');
    clear(box);
    const big = imageCanvas(paint(normalize(plane, range), 'viridis'), w, h, Math.max(1, Math.floor(220 / Math.max(w, h))), 'large');
    big.addEventListener('mousemove', (e) => this.readout(e, big, plane, w, h, ch, range));
    box.append(el('button', { class: 'close', 'data-close': '', 'aria-label': 'close' }, '×'), el('h3', {}, `${layer} · channel ${ch}`), big, el('p', { class: 'muted' }, `min ${fmt(range.min)} · max ${fmt(range.max)} · mean ${fmt(range.mean)}`));
    const source = this.inputOf(l);
    const why = el('div', { class: 'produced-by' });
    box.append(why);
    byId('overlay').classList.add('open');
    if (!source || source.shape.length !== 3) return;
    const [sh, sw, sc] = source.shape;
    const tile = (k: number) => {
      const p = channelPlane(source.data, sh, sw, sc, k);
      return imageCanvas(paint(normalize(p, stats(p)), 'viridis'), sw, sh, Math.max(1, Math.floor(56 / Math.max(sw, sh))));
    };
    if (/^(Conv[123]D|Conv2D|DepthwiseConv2D)$/.test(l.className)) {
      const k = this.kernels.get(layer);
      if (!k) {
        this.pendingDetail = { layer, channel: ch };
        why.append(el('p', { class: 'muted' }, 'Reading the kernels…'));
        post(RequestFilters, { layer });
        return;
      }
      const [kh, kw, kin, kout] = k.shape;
      const depthwise = l.className === 'DepthwiseConv2D';
      const pairs: { input: number; kernel: Float32Array; weight: number }[] = [];
      for (let i = 0; i < (depthwise ? 1 : kin); i++) {
        const inCh = depthwise ? Math.floor(ch / kout) : i;
        const kernel = new Float32Array(kh * kw);
        for (let p = 0; p < kh * kw; p++) kernel[p] = depthwise ? k.data[(p * kin + inCh) * kout + (ch % kout)] : k.data[(p * kin + i) * kout + ch];
        pairs.push({ input: inCh, kernel, weight: kernel.reduce((a, v) => a + Math.abs(v), 0) });
      }
      pairs.sort((a, b) => b.weight - a.weight);
      const shown = pairs.slice(0, 16);
      why.append(el('h4', {}, `Produced by ${depthwise ? 'one input channel' : `all ${kin} channels of ${source.name}`}, each convolved with its ${kh}×${kw} kernel, summed, plus the bias${l.className === 'Conv2D' ? ' (then the activation)' : ''}. Largest kernels first:`));
      const list = el('div', { class: 'pairs' });
      for (const pr of shown) {
        const kc = imageCanvas(paint(normalizeSigned(pr.kernel), 'diverging'), kw, kh, Math.max(4, Math.floor(56 / Math.max(kh, kw))));
        kc.title = Array.from(pr.kernel, (v) => v.toFixed(3)).join(' ');
        const tryIt = el('button', { title: 'Apply this learned kernel to the input in the filters playground' }, 'Try in playground');
        tryIt.disabled = kh !== kw;
        tryIt.addEventListener('click', () => {
          for (const f of this.kernelListeners) f({ name: `${layer} channel ${ch} ← ${source.name} channel ${pr.input}`, size: kh, values: Array.from(pr.kernel), note: `A kernel the model learned (${layer}, output channel ${ch}, input channel ${pr.input}).` });
          byId('overlay').classList.remove('open');
        });
        list.append(el('figure', { class: 'pair' }, tile(pr.input), el('span', { class: 'op' }, '⊛'), kc, el('figcaption', {}, `${source.name} ch ${pr.input} · Σ|w| ${pr.weight.toFixed(2)}`), tryIt));
      }
      why.append(list);
      if (pairs.length > shown.length) why.append(el('p', { class: 'muted' }, `… and ${pairs.length - shown.length} more input channels with smaller kernels.`));
    } else if (sc === c) {
      why.append(el('h4', {}, `Produced from channel ${ch} of ${source.name} by ${l.className} (it works on each channel on its own):`), el('figure', { class: 'pair' }, tile(ch), el('figcaption', {}, `${source.name} ch ${ch}`)));
    }
  }

  showFilters(f: PanelFiltersParams): void {
    const data = decodeTensor(f.kernel);
    this.kernels.set(f.layer, { data, shape: f.kernel.shape });
    if (this.pendingDetail?.layer === f.layer) {
      const p = this.pendingDetail;
      this.pendingDetail = undefined;
      if (byId('overlay').classList.contains('open')) this.detail(p.layer, p.channel);
      return;
    }
    const root = byId('filters');
    root.dataset.layer = f.layer;
    clear(root);
    const [kh, kw, cin, cout] = f.kernel.shape;
    root.append(el('h3', {}, `Kernels of ${f.layer} `, el('span', { class: 'muted' }, `(${kh}×${kw}, ${cin} input channel${cin === 1 ? '' : 's'}, ${cout} filters · ${f.weights}; blue negative, white 0, red positive; averaged over the input channels)`)));
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
      canvas.title = `filter ${o}: ${Array.from(plane, (v) => v.toFixed(2)).join(' ')}${cin === 1 && kh === kw ? ' · click to try it in the playground' : ''}`;
      if (cin === 1 && kh === kw) {
        canvas.classList.add('clickable');
        canvas.addEventListener('click', () => {
          for (const l of this.kernelListeners) l({ name: `${f.layer} filter ${o}`, size: kh, values: Array.from(plane), note: `A kernel the model learned: filter ${o} of ${f.layer} (${f.weights}).` });
        });
      }
      grid.append(el('figure', { class: 'tile' }, canvas, el('figcaption', {}, String(o))));
    }
    root.append(grid);
    if (cout > shown) root.append(el('p', { class: 'muted' }, `${shown} of ${cout} filters shown`));
    (byId('filters-layer') as HTMLSelectElement).value = f.layer;
  }

  /** Grad-CAM and saliency drawn over the input. */
  showExplain(x: PanelExplainParams): void {
    this.explained = x;
    const root = byId('explain');
    clear(root);
    if (!this.input) return;
    const { h, w } = this.input;
    const cam = decodeTensor(x.cam);
    const [ch, cw] = x.cam.shape;
    const up = upsampleBilinear(cam, ch, cw, h, w);
    const sal = decodeTensor(x.saliency);
    const opacity = Number((byId('explain-opacity') as HTMLInputElement).value);
    const base = this.inputRgba();
    const scale = Math.max(1, Math.floor(168 / Math.max(h, w)));
    const names = this.model?.classNames ?? [];
    const name = (c: number) => names[c] ?? String(c);
    const p = this.probabilities[x.cls];
    const camMax = stats(up).max;
    root.append(
      el(
        'div',
        { class: 'eval-row' },
        el('figure', {}, imageCanvas(overlay(base, up, opacity), w, h, scale, 'large'), el('figcaption', {}, `Grad-CAM over ${x.layer} (${ch}×${cw}, upsampled)`)),
        el('figure', {}, imageCanvas(overlay(base, sal, opacity), w, h, scale, 'large'), el('figcaption', {}, 'Saliency: |∂ score / ∂ pixel|')),
      ),
      scaleLegend('colour: how much a region raises the score (each map scaled to its own maximum)', 'turbo'),
      el('p', { class: 'muted' }, `Class ${name(x.cls)}${x.cls === x.predicted ? ' (the predicted class)' : ` (the model predicts ${name(x.predicted)})`}${p !== undefined ? `, probability ${(p * 100).toFixed(1)}%` : ''} · input: ${x.inputLabel} · weights: ${x.weights}${camMax === 0 ? ' · the map is 0 everywhere: nothing in this layer raises that class score' : ''}`),
    );
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

/** A colour bar: low → high, with what the colours mean. */
function scaleLegend(text: string, map: 'viridis' | 'turbo' = 'viridis'): HTMLElement {
  const bar = el('canvas', { class: 'scale-bar', width: '64', height: '1', 'aria-hidden': 'true' });
  const ctx = bar.getContext('2d');
  if (ctx) {
    const img = new ImageData(64, 1);
    for (let i = 0; i < 64; i++) {
      const [r, g, b] = colorAt(map, i / 63);
      img.data.set([r, g, b, 255], i * 4);
    }
    ctx.putImageData(img, 0, 0);
  }
  return el('div', { class: 'scale-legend muted' }, el('span', {}, 'low'), bar, el('span', {}, 'high'), el('span', { class: 'scale-text' }, ` · ${text}`));
}

/** A heat map (values ≥ 0, scaled to its maximum) drawn over an image with the turbo colours. */
function overlay(base: Uint8ClampedArray, map: Float32Array, opacity: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(base);
  const max = stats(map).max;
  for (let p = 0; p < map.length; p++) {
    const t = max > 0 ? Math.max(0, map[p]) / max : 0;
    const [r, g, b] = colorAt('turbo', t);
    const a = opacity * Math.sqrt(t);
    out[p * 4] = out[p * 4] * (1 - a) + r * a;
    out[p * 4 + 1] = out[p * 4 + 1] * (1 - a) + g * a;
    out[p * 4 + 2] = out[p * 4 + 2] * (1 - a) + b * a;
  }
  return out;
}
