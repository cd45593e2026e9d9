import uPlot from 'uplot';
import type { PanelEvaluationParams, PanelRun, PanelRunsParams } from '../../src/core/protocol/panel';
import { decodeTensor } from '../../src/core/protocol/panel';
import type { TrainingDoneParams, TrainingEpochParams, TrainingProgressParams, TrainingStartedParams } from '../../src/core/protocol/training';
import { paint } from '../../src/core/render/colormap';
import { normalize } from '../../src/core/render/featureMaps';
import { alignSeries, curvesCsv, emaSmooth, runCurves, type RunCurves, type XAxis } from '../../src/core/run/curves';
import { byId, clear, el, fmt, imageCanvas } from './dom';

/** Theme colours from VS Code's CSS variables, read when a chart is made (charts are remade when the theme changes). */
function themeColor(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

const PALETTE: [string, string][] = [
  ['--vscode-charts-blue', '#3794ff'],
  ['--vscode-charts-orange', '#d18616'],
  ['--vscode-charts-green', '#89d185'],
  ['--vscode-charts-purple', '#b180d7'],
  ['--vscode-charts-red', '#f14c4c'],
  ['--vscode-charts-yellow', '#cca700'],
];

/** The runs view's choices, kept in the webview state. */
export interface RunsState {
  selected: string[];
  smoothing: number;
  x: XAxis;
  log: boolean;
}

const X_LABEL: Record<XAxis, string> = { step: 'step (batches)', epoch: 'epoch', wall: 'wall time (s)' };

/** A colour with an alpha, from a CSS colour the theme gives (#rgb, #rrggbb or rgb()). */
function faint(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})/i.exec(color);
  if (hex) {
    const h = hex[1].length === 3 ? hex[1].replace(/./g, (c) => c + c) : hex[1];
    return `rgba(${parseInt(h.slice(0, 2), 16)}, ${parseInt(h.slice(2, 4), 16)}, ${parseInt(h.slice(4, 6), 16)}, ${alpha})`;
  }
  return color;
}

/**
 * The run history and the live run: pick runs to overlay, per-batch curves with TensorBoard's
 * smoothing over the raw values drawn faint, epoch means as points, validation, x by step, epoch
 * or wall time, log scale, CSV. Below: the focused run's status, its epoch table and evaluation.
 */
export class TrainingView {
  private runs: PanelRun[] = [];
  private folder = '';
  private running?: string;
  private state: RunsState;
  private charts: { loss?: uPlot; acc?: uPlot } = {};
  private started?: TrainingStartedParams;
  private redraw = 0;

  constructor(saved: Partial<RunsState> | undefined, private readonly save: (s: RunsState) => void, private readonly onCsv: (csv: string, name: string) => void) {
    this.state = { selected: saved?.selected ?? [], smoothing: saved?.smoothing ?? 0.6, x: saved?.x ?? 'step', log: saved?.log ?? false };
    new ResizeObserver(() => this.resize()).observe(byId('charts'));
    const smooth = byId('smoothing') as HTMLInputElement;
    smooth.value = String(this.state.smoothing);
    byId('smoothing-value').textContent = this.state.smoothing.toFixed(2);
    let relabel = 0;
    smooth.addEventListener('input', () => {
      this.state.smoothing = Number(smooth.value);
      byId('smoothing-value').textContent = this.state.smoothing.toFixed(2);
      this.changed();
      // The legend names the smoothing: remade once the slider rests.
      clearTimeout(relabel);
      relabel = window.setTimeout(() => this.rebuild(), 250);
    });
    const x = byId('x-axis') as HTMLSelectElement;
    x.value = this.state.x;
    x.addEventListener('change', () => {
      this.state.x = x.value as XAxis;
      this.rebuild();
    });
    const log = byId('log-scale') as HTMLInputElement;
    log.checked = this.state.log;
    log.addEventListener('change', () => {
      this.state.log = log.checked;
      this.rebuild();
    });
    byId('export-csv').addEventListener('click', () => {
      const shown = this.shownRuns();
      if (!shown.length) return;
      this.onCsv(curvesCsv(shown.map((r) => ({ run: r.id, curves: this.curves(r) })), this.state.smoothing), shown.length === 1 ? `${shown[0].id}.csv` : 'runs.csv');
    });
    // VS Code changes the body's theme class: charts draw their axes on a canvas, so remake them.
    new MutationObserver(() => this.rebuild()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  }

  /** The run history from the host (on open, after each run). Keeps what arrived live for a run still going. */
  setRuns(p: PanelRunsParams): void {
    const live = new Map(this.runs.map((r) => [r.id, r]));
    this.runs = p.runs.map((r) => {
      const mine = live.get(r.id);
      if (!mine) return r;
      // Whatever is newer: the records on disk, or those that streamed in.
      return mine.progress.length > r.progress.length || mine.epochRecords.length > r.epochRecords.length ? { ...r, progress: mine.progress, epochRecords: mine.epochRecords } : r;
    });
    for (const r of live.values()) if (r.status === 'running' && !this.runs.some((x) => x.id === r.id)) this.runs.unshift(r);
    this.folder = p.folder;
    this.running = p.running ?? this.runs.find((r) => r.status === 'running')?.id;
    // Shown by default: the run in progress, else the newest.
    const ids = new Set(this.runs.map((r) => r.id));
    this.state.selected = this.state.selected.filter((id) => ids.has(id));
    if (!this.state.selected.length && this.runs.length) this.state.selected = [this.running ?? this.runs[0].id];
    if (this.running && !this.state.selected.includes(this.running)) this.state.selected.unshift(this.running);
    this.renderList();
    this.rebuild();
    this.renderFocus();
  }

  /** A run started (live, or re-announced when the panel reopens mid-run). */
  start(started: TrainingStartedParams): void {
    this.started = started;
    const id = started.runDir ? started.runDir.split(/[\\/]/).pop()! : 'this run';
    let run = this.runs.find((r) => r.id === id);
    if (!run) {
      run = { id, status: 'running', created: new Date().toISOString(), data: started.dataset.name, epochs: started.epochs, epochsDone: started.startEpoch - 1, batchSize: started.batchSize, trainSamples: started.dataset.train, current: true, progress: [], epochRecords: [] };
      this.runs.unshift(run);
    }
    run.status = 'running';
    run.trainSamples = started.dataset.train;
    run.batchSize = started.batchSize;
    this.running = id;
    if (!this.state.selected.includes(id)) this.state.selected.unshift(id);
    byId('training-status').textContent = `Training on ${started.dataset.name}: ${started.dataset.train.toLocaleString('en-US')} training images, ${started.dataset.validation.toLocaleString('en-US')} for validation, ${started.dataset.test.toLocaleString('en-US')} for the test · ${started.optimizer}, ${started.loss}, batch ${started.batchSize}, ${started.threads} thread${started.threads === 1 ? '' : 's'} · run ${id}`;
    for (const note of started.notes) byId('training-status').append(el('div', { class: 'note' }, note));
    clear(byId('evaluation'));
    this.renderList();
    this.changed();
    this.renderFocus();
  }

  progress(p: TrainingProgressParams): void {
    const run = this.live();
    if (run) {
      const last = run.progress[run.progress.length - 1];
      // A record the run history already holds (the panel reopened mid-run) is not added twice.
      if (!last || p.epoch > last.epoch || (p.epoch === last.epoch && p.batch > last.batch)) run.progress.push({ epoch: p.epoch, batch: p.batch, batches: p.batches, loss: p.loss, accuracy: p.accuracy, epochSeconds: p.epochSeconds, samplesPerSecond: p.samplesPerSecond });
    }
    const eta = p.etaSeconds >= 1 ? ` · ETA ${Math.round(p.etaSeconds)} s` : '';
    byId('training-progress').className = '';
    byId('training-progress').textContent = `Epoch ${p.epoch}/${p.epochs} · batch ${p.batch}/${p.batches} · training loss ${fmt(p.loss)} · accuracy ${fmt(p.accuracy)} (means over this epoch so far) · ${Math.round(p.samplesPerSecond).toLocaleString('en-US')} samples/s${eta}`;
    (byId('training-bar') as HTMLProgressElement).value = ((p.epoch - 1 + p.batch / p.batches) / p.epochs) * 100;
    this.changed();
  }

  epoch(e: TrainingEpochParams): void {
    const run = this.live();
    if (run && !run.epochRecords.some((x) => x.epoch === e.epoch)) {
      run.epochRecords.push({ epoch: e.epoch, loss: e.loss, accuracy: e.accuracy, val_loss: e.val_loss, val_accuracy: e.val_accuracy, seconds: e.seconds, learning_rate: e.learning_rate });
      run.epochsDone = e.epoch;
    }
    this.changed();
    this.renderList();
    this.renderFocus();
  }

  done(d: TrainingDoneParams): void {
    const run = this.live();
    if (run) run.status = d.reason;
    this.running = undefined;
    const words: Record<string, string> = { completed: 'Training finished', cancelled: 'Training stopped', diverged: 'Training stopped: the loss diverged', failed: 'Training failed' };
    const test = d.test ? ` · test accuracy ${(d.test.accuracy * 100).toFixed(2)}% on ${d.test.count.toLocaleString('en-US')} test images (loss ${fmt(d.test.loss)}, weights of epoch ${d.test.epoch})` : '';
    byId('training-progress').textContent = `${words[d.reason] ?? d.reason} after ${d.epochs} epoch${d.epochs === 1 ? '' : 's'}${test}${d.message ? ` — ${d.message}` : ''}`;
    byId('training-progress').className = d.reason === 'completed' ? 'ok' : d.reason === 'cancelled' ? '' : 'error';
    this.renderList();
  }

  private live(): PanelRun | undefined {
    return this.runs.find((r) => r.id === this.running);
  }

  private shownRuns(): PanelRun[] {
    return this.runs.filter((r) => this.state.selected.includes(r.id));
  }

  private curves(r: PanelRun): RunCurves {
    return runCurves(r.progress, r.epochRecords, { batchSize: r.batchSize, trainSamples: r.trainSamples });
  }

  private renderList(): void {
    const list = byId('run-list');
    clear(list);
    byId('tab-training').classList.toggle('no-runs', !this.runs.length);
    if (!this.runs.length) {
      byId('training-status').textContent = `No runs of this model yet in ${this.folder}: press Train, or run ConvLens: Train Model.`;
      return;
    }
    this.runs.forEach((r, i) => {
      const id = `run-${i}`;
      const box = el('input', { type: 'checkbox', id, 'data-run': r.id });
      box.checked = this.state.selected.includes(r.id);
      box.addEventListener('change', () => {
        this.state.selected = box.checked ? [...this.state.selected, r.id] : this.state.selected.filter((x) => x !== r.id);
        this.rebuild();
        this.renderFocus();
      });
      const color = themeColor(...PALETTE[i % PALETTE.length]);
      const swatch = el('span', { class: 'swatch' });
      swatch.style.background = color;
      const best = r.best ? ` · best ${r.best.monitor} ${fmt(r.best.value)} (epoch ${r.best.epoch})` : '';
      const test = r.test ? ` · test ${(r.test.accuracy * 100).toFixed(2)}%` : '';
      list.append(
        el(
          'label',
          { for: id, class: `run${r.status === 'running' ? ' running' : ''}`, title: `${r.id}\ndata: ${r.data}${r.current ? '' : '\nTrained with another version of the model file.'}` },
          box,
          swatch,
          el('span', { class: 'run-id' }, r.id.replace(/^(\d{4}-\d\d-\d\d)T(\d\d)(\d\d)\d\d\.\d{3}Z-/, '$1 $2:$3 · ')),
          el('span', { class: 'muted' }, ` ${r.status}, ${r.epochsDone}/${r.epochs} epochs · ${shortData(r.data)}${best}${test}${r.current ? '' : ' · other architecture'}`),
        ),
      );
    });
  }

  /** Data changed: redraw at the next frame (live batches arrive faster than the screen). */
  private changed(): void {
    if (this.redraw) return;
    this.redraw = requestAnimationFrame(() => {
      this.redraw = 0;
      this.draw();
    });
  }

  private rebuild(): void {
    this.charts.loss?.destroy();
    this.charts.acc?.destroy();
    this.charts = {};
    clear(byId('chart-loss'));
    clear(byId('chart-accuracy'));
    this.save(this.state);
    this.draw();
  }

  /** Series of one metric for the runs shown: raw (faint), smoothed, epoch means, validation. */
  private data(metric: 'loss' | 'accuracy'): { data: uPlot.AlignedData; series: uPlot.Series[] } {
    const shown = this.shownRuns();
    const parts: { x: number[]; y: (number | null)[] }[] = [];
    const series: uPlot.Series[] = [{ label: X_LABEL[this.state.x], value: (_u, v) => (v === null || v === undefined ? '—' : this.state.x === 'wall' ? `${v.toFixed(1)} s` : this.state.x === 'epoch' ? v.toFixed(2) : String(Math.round(v))) }];
    const pos = (v: number | null) => (v === null || !Number.isFinite(v) ? null : this.state.log && metric === 'loss' && v <= 0 ? null : v);
    for (const r of shown) {
      const c = this.curves(r);
      const color = themeColor(...PALETTE[this.runs.indexOf(r) % PALETTE.length]);
      const xs = c.batch[this.state.x];
      const raw = c.batch[metric];
      const short = r.id.slice(-6);
      parts.push({ x: xs, y: raw.map(pos) }, { x: xs, y: emaSmooth(raw, this.state.smoothing).map(pos) });
      series.push(
        { label: `${short} training (raw)`, stroke: faint(color, 0.28), width: 1, spanGaps: true, points: { show: false } },
        { label: `${short} training (smoothed ${this.state.smoothing.toFixed(2)})`, stroke: color, width: 2, spanGaps: true, points: { show: false } },
      );
      const ex = c.epoch[this.state.x];
      parts.push({ x: ex, y: c.epoch[metric].map(pos) }, { x: ex, y: c.epoch[metric === 'loss' ? 'val_loss' : 'val_accuracy'].map(pos) });
      series.push(
        { label: `${short} epoch mean`, stroke: color, width: 0, paths: () => null, points: { show: true, size: 7, fill: color, stroke: color } },
        { label: `${short} validation`, stroke: color, width: 1.5, dash: [6, 4], spanGaps: true, points: { show: true, size: 7, fill: themeColor('--vscode-editor-background', '#1e1e1e'), stroke: color } },
      );
    }
    const aligned = alignSeries(parts);
    return { data: [aligned.x, ...aligned.ys] as uPlot.AlignedData, series };
  }

  private draw(): void {
    // What is drawn, for people reading the DOM (and the integration tests): each run's points.
    byId('charts').dataset.drawn = JSON.stringify(
      this.shownRuns().map((r) => {
        const c = this.curves(r);
        return { run: r.id, batches: c.batch.step.length, firstStep: c.batch.step[0] ?? null, lastStep: c.batch.step[c.batch.step.length - 1] ?? null, epochs: c.epoch.epoch.length, smoothing: this.state.smoothing, x: this.state.x };
      }),
    );
    const width = chartWidth();
    const make = (metric: 'loss' | 'accuracy', target: HTMLElement): uPlot => {
      const fg = themeColor('--vscode-foreground', '#ccc');
      const grid = themeColor('--vscode-editorWidget-border', '#8884');
      const font = `12px ${themeColor('--vscode-font-family', 'sans-serif')}`;
      const { data, series } = this.data(metric);
      const axis = (label: string): uPlot.Axis => ({ label, stroke: fg, labelFont: `600 ${font}`, font, grid: { stroke: faint(grid, 0.5), width: 1 }, ticks: { stroke: grid } });
      const opts: uPlot.Options = {
        title: metric === 'loss' ? `Loss (training per batch; epoch means; validation)${this.state.log ? ', log scale' : ''}` : 'Accuracy (training per batch; epoch means; validation)',
        width,
        height: 240,
        scales: { x: { time: false }, y: metric === 'loss' && this.state.log ? { distr: 3 } : {} },
        axes: [axis(X_LABEL[this.state.x]), axis(metric)],
        series,
        legend: { live: true },
        cursor: { drag: { x: true, y: false } },
      };
      return new uPlot(opts, data, target);
    };
    if (!this.charts.loss) {
      this.charts.loss = make('loss', byId('chart-loss'));
      this.charts.acc = make('accuracy', byId('chart-accuracy'));
      return;
    }
    const loss = this.data('loss');
    const acc = this.data('accuracy');
    // The same runs, new points: keep the charts (and the user's zoom), replace the data.
    if (loss.series.length !== this.charts.loss.series.length) {
      this.rebuild();
      return;
    }
    this.charts.loss.setData(loss.data);
    this.charts.acc!.setData(acc.data);
  }

  private resize(): void {
    if (!this.charts.loss) return;
    const width = chartWidth();
    this.charts.loss.setSize({ width, height: 240 });
    this.charts.acc!.setSize({ width, height: 240 });
  }

  /** The epoch table of the run in focus: the one training, else the newest shown. */
  private renderFocus(): void {
    const run = this.live() ?? this.shownRuns()[0];
    const rows = byId('epoch-rows');
    clear(rows);
    byId('epochs-title').textContent = run ? `Epochs of run ${run.id} (training data: ${shortData(run.data)})` : 'Epochs';
    if (!run) return;
    if (!this.running && !this.started) {
      byId('training-status').textContent = `Run ${run.id}: ${run.status}, ${run.epochsDone}/${run.epochs} epochs, trained on ${shortData(run.data)}${run.test ? ` · test accuracy ${(run.test.accuracy * 100).toFixed(2)}%` : ''}`;
    }
    const cell = (v: number | undefined) => el('td', {}, v === undefined || v === null ? '—' : fmt(v));
    for (const e of run.epochRecords) {
      rows.append(el('tr', {}, el('td', {}, `${e.epoch}`), cell(e.loss), cell(e.accuracy), cell(e.val_loss), cell(e.val_accuracy), el('td', {}, `${e.seconds.toFixed(1)} s`), el('td', {}, e.learning_rate !== undefined ? e.learning_rate.toPrecision(3) : '—'), el('td', {}, run.best?.epoch === e.epoch ? `★ best ${run.best.monitor}` : '')));
    }
  }

  evaluation(ev: PanelEvaluationParams): void {
    const root = byId('evaluation');
    clear(root);
    const n = ev.classNames.length;
    const max = Math.max(1, ...ev.confusion.flat());
    const table = el('table', { class: 'confusion', 'aria-label': 'confusion matrix' });
    table.append(el('tr', {}, el('th', {}, 'true ╲ predicted'), ...ev.classNames.map((c) => el('th', {}, c))));
    ev.confusion.forEach((row, t) => {
      const tr = el('tr', {}, el('th', {}, ev.classNames[t]));
      row.forEach((v, p) => {
        const td = el('td', { title: `${v} × true ${ev.classNames[t]} predicted ${ev.classNames[p]}` }, String(v));
        td.style.setProperty('--alpha', String(v / max));
        td.className = t === p ? 'diag' : v > 0 ? 'off' : '';
        tr.append(td);
      });
      table.append(tr);
    });
    const perClass = el('div', { class: 'per-class' });
    for (let c = 0; c < n; c++) {
      const total = ev.confusion[c].reduce((a, b) => a + b, 0);
      const acc = total ? ev.confusion[c][c] / total : 0;
      const bar = el('div', { class: 'bar' });
      bar.style.width = `${(acc * 100).toFixed(1)}%`;
      perClass.append(el('div', { class: 'bar-row' }, el('span', { class: 'bar-label' }, ev.classNames[c]), el('div', { class: 'bar-track' }, bar), el('span', { class: 'bar-value' }, `${(acc * 100).toFixed(1)}%`)));
    }
    const grid = el('div', { class: 'sample-grid' });
    for (const s of ev.samples) {
      const [h, w, ch] = s.image.shape;
      const data = decodeTensor(s.image);
      const gray = ch === 1 ? normalize(data, { min: 0, max: 1 }) : undefined;
      const rgba = gray ? paint(gray, 'gray') : rgbToRgba(data, h * w);
      const ok = s.predicted === s.label;
      grid.append(el('figure', { class: ok ? 'correct' : 'wrong' }, imageCanvas(rgba, w, h, 2), el('figcaption', {}, `${ev.classNames[s.predicted]} (${ev.classNames[s.label]})`)));
    }
    const what = ev.dataset ?? 'test images';
    const count = ev.count !== undefined ? `${ev.count.toLocaleString('en-US')} ` : '';
    root.append(
      el('h3', {}, `${count}${what}: ${(ev.accuracy * 100).toFixed(2)}% correct${ev.weights ? ` with ${ev.weights}` : ''}`),
      el('div', { class: 'eval-row' }, el('div', { class: 'table-scroll' }, el('h4', {}, 'Confusion matrix'), table), el('div', {}, el('h4', {}, 'Accuracy per class'), perClass)),
      el('h4', {}, `Some of these ${what}: predicted (true) — blue when right, red when wrong`),
      grid,
    );
  }

  get hasRun(): boolean {
    return this.runs.length > 0;
  }
}

/** `mnist (…/datasets/mnist)` for a folder, `synthetic digits` for the built-in set. */
function shortData(data: string): string {
  if (data === 'synthetic') return 'synthetic digits';
  const parts = data.split(/[\\/]/).filter(Boolean);
  return parts.length > 2 ? `…/${parts.slice(-2).join('/')}` : data;
}

/** Two charts side by side when the panel is wide, stacked at full width when it is narrow. */
function chartWidth(): number {
  const w = byId('charts').clientWidth;
  return Math.max(220, w >= 760 ? Math.floor((w - 16) / 2) : w - 4);
}

/** channels_last RGB floats in [0, 1] → RGBA bytes. */
export function rgbToRgba(data: Float32Array, pixels: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(pixels * 4);
  for (let p = 0; p < pixels; p++) {
    out[p * 4] = data[p * 3] * 255;
    out[p * 4 + 1] = data[p * 3 + 1] * 255;
    out[p * 4 + 2] = data[p * 3 + 2] * 255;
    out[p * 4 + 3] = 255;
  }
  return out;
}
