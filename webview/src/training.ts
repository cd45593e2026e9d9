import uPlot from 'uplot';
import type { PanelEvaluationParams } from '../../src/core/protocol/panel';
import { decodeTensor } from '../../src/core/protocol/panel';
import type { TrainingDoneParams, TrainingEpochParams, TrainingProgressParams, TrainingStartedParams } from '../../src/core/protocol/training';
import { paint } from '../../src/core/render/colormap';
import { normalize } from '../../src/core/render/featureMaps';
import { byId, clear, el, fmt, imageCanvas } from './dom';

/** Theme colours from VS Code's CSS variables, so charts follow light, dark and high-contrast themes. */
function themeColor(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

interface Series {
  x: number[];
  train: (number | null)[];
  val: (number | null)[];
}

/** Live loss and accuracy curves (per batch for training, per epoch for validation), the epoch table and the evaluation. */
export class TrainingView {
  private loss: Series = { x: [], train: [], val: [] };
  private acc: Series = { x: [], train: [], val: [] };
  private charts: { loss?: uPlot; acc?: uPlot } = {};
  private started?: TrainingStartedParams;

  constructor() {
    new ResizeObserver(() => this.resize()).observe(byId('charts'));
  }

  reset(started: TrainingStartedParams): void {
    this.started = started;
    this.loss = { x: [], train: [], val: [] };
    this.acc = { x: [], train: [], val: [] };
    clear(byId('epoch-rows'));
    clear(byId('evaluation'));
    byId('training-status').textContent = `Training on ${started.dataset.name}: ${started.dataset.train.toLocaleString('en-US')} samples, ${started.dataset.validation.toLocaleString('en-US')} for validation · ${started.optimizer}, ${started.loss}, batch ${started.batchSize}, ${started.threads} thread${started.threads === 1 ? '' : 's'}`;
    for (const note of started.notes) byId('training-status').append(el('div', { class: 'note' }, note));
    this.draw();
  }

  progress(p: TrainingProgressParams): void {
    const x = p.epoch - 1 + p.batch / p.batches;
    this.loss.x.push(x);
    this.loss.train.push(p.loss);
    this.loss.val.push(null);
    this.acc.x.push(x);
    this.acc.train.push(p.accuracy);
    this.acc.val.push(null);
    const eta = p.etaSeconds >= 1 ? ` · ETA ${Math.round(p.etaSeconds)} s` : '';
    byId('training-progress').textContent = `Epoch ${p.epoch}/${p.epochs} · batch ${p.batch}/${p.batches} · loss ${fmt(p.loss)} · accuracy ${fmt(p.accuracy)} · ${Math.round(p.samplesPerSecond).toLocaleString('en-US')} samples/s${eta}`;
    (byId('training-bar') as HTMLProgressElement).value = (x / p.epochs) * 100;
    this.draw();
  }

  epoch(e: TrainingEpochParams): void {
    const x = e.epoch;
    if (e.val_loss !== undefined) {
      this.loss.x.push(x);
      this.loss.train.push(null);
      this.loss.val.push(e.val_loss);
    }
    if (e.val_accuracy !== undefined) {
      this.acc.x.push(x);
      this.acc.train.push(null);
      this.acc.val.push(e.val_accuracy);
    }
    const cell = (v: number | undefined) => el('td', {}, v === undefined ? '—' : fmt(v));
    byId('epoch-rows').append(
      el(
        'tr',
        {},
        el('td', {}, `${e.epoch}`),
        cell(e.loss),
        cell(e.accuracy),
        cell(e.val_loss),
        cell(e.val_accuracy),
        el('td', {}, `${e.seconds.toFixed(1)} s`),
        el('td', {}, Math.round(e.samplesPerSecond).toLocaleString('en-US')),
        el('td', { title: e.checkpoint ? `saved ${e.checkpoint.path}` : '' }, e.checkpoint ? `★ ${e.checkpoint.monitor} improved` : ''),
      ),
    );
    this.draw();
  }

  done(d: TrainingDoneParams): void {
    const words: Record<string, string> = { completed: 'Training finished', cancelled: 'Training stopped', diverged: 'Training stopped: the loss diverged', failed: 'Training failed' };
    const test = d.test ? ` · test accuracy ${(d.test.accuracy * 100).toFixed(2)}% (loss ${fmt(d.test.loss)}, ${d.test.count.toLocaleString('en-US')} images, weights of epoch ${d.test.epoch})` : '';
    byId('training-progress').textContent = `${words[d.reason] ?? d.reason} after ${d.epochs} epoch${d.epochs === 1 ? '' : 's'}${test}${d.message ? ` — ${d.message}` : ''}`;
    byId('training-progress').className = d.reason === 'completed' ? 'ok' : d.reason === 'cancelled' ? '' : 'error';
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
      grid.append(
        el(
          'figure',
          { class: ok ? 'correct' : 'wrong' },
          imageCanvas(rgba, w, h, 2),
          el('figcaption', {}, `${ev.classNames[s.predicted]} (${ev.classNames[s.label]})`),
        ),
      );
    }
    root.append(
      el('h3', {}, `Test set: ${(ev.accuracy * 100).toFixed(2)}% correct`),
      el('div', { class: 'eval-row' }, el('div', {}, el('h4', {}, 'Confusion matrix'), table), el('div', {}, el('h4', {}, 'Accuracy per class'), perClass)),
      el('h4', {}, 'Test images: predicted (true) — blue when right, red when wrong'),
      grid,
    );
  }

  private draw(): void {
    const width = chartWidth();
    const make = (title: string, s: Series, yLabel: string): uPlot => {
      const fg = themeColor('--vscode-foreground', '#ccc');
      const grid = themeColor('--vscode-editorWidget-border', '#8884');
      const opts: uPlot.Options = {
        title,
        width,
        height: 220,
        scales: { x: { time: false } },
        axes: [
          { label: 'epoch', stroke: fg, grid: { stroke: grid }, ticks: { stroke: grid } },
          { label: yLabel, stroke: fg, grid: { stroke: grid }, ticks: { stroke: grid } },
        ],
        series: [
          {},
          { label: 'train (epoch running mean)', stroke: themeColor('--vscode-charts-blue', '#3794ff'), width: 1.5, spanGaps: true, points: { show: false } },
          { label: 'validation', stroke: themeColor('--vscode-charts-red', '#f14c4c'), width: 2, spanGaps: true, points: { show: true, size: 6 } },
        ],
        legend: { live: true },
      };
      return new uPlot(opts, [s.x, s.train, s.val] as uPlot.AlignedData, byId(title === 'Loss' ? 'chart-loss' : 'chart-accuracy'));
    };
    if (!this.charts.loss) {
      this.charts.loss = make('Loss', this.loss, 'loss');
      this.charts.acc = make('Accuracy', this.acc, 'accuracy');
    } else {
      this.charts.loss.setData([this.loss.x, this.loss.train, this.loss.val] as uPlot.AlignedData);
      this.charts.acc!.setData([this.acc.x, this.acc.train, this.acc.val] as uPlot.AlignedData);
    }
  }

  private resize(): void {
    if (!this.charts.loss) return;
    const width = chartWidth();
    this.charts.loss.setSize({ width, height: 220 });
    this.charts.acc!.setSize({ width, height: 220 });
  }

  get hasRun(): boolean {
    return this.started !== undefined;
  }
}

/** Two charts side by side when the panel is wide, stacked at full width when it is narrow. */
function chartWidth(): number {
  const w = byId('charts').clientWidth;
  return Math.max(240, w >= 700 ? Math.floor((w - 16) / 2) : w - 4);
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
