import { paint } from '../../src/core/render/colormap';
import { normalize } from '../../src/core/render/featureMaps';
import { KERNELS, convolve, parseKernel, type Kernel, type PaddingChoice } from '../../src/core/render/playground';
import { byId, clear, el, imageCanvas } from './dom';
import type { CurrentInput } from './features';

/** The classic kernels and a typed one, applied to the current input with stride and padding, formula shown. */
export class PlaygroundView {
  private input?: CurrentInput;
  private kernel: Kernel = KERNELS[1];

  constructor() {
    const select = byId('kernel-preset') as HTMLSelectElement;
    KERNELS.forEach((k, i) => select.append(el('option', { value: String(i) }, k.name)));
    select.append(el('option', { value: 'custom' }, 'Custom…'));
    select.value = '1';
    select.addEventListener('change', () => {
      if (select.value !== 'custom') {
        this.kernel = KERNELS[Number(select.value)];
        (byId('kernel-text') as HTMLTextAreaElement).value = kernelText(this.kernel);
      }
      this.render();
    });
    const text = byId('kernel-text') as HTMLTextAreaElement;
    text.value = kernelText(this.kernel);
    text.addEventListener('input', () => {
      select.value = 'custom';
      this.render();
    });
    for (const id of ['stride', 'padding']) byId(id).addEventListener('change', () => this.render());
  }

  /** A kernel from elsewhere (a learned one from the feature maps): shown as a custom kernel and applied. */
  setKernel(k: Kernel): void {
    this.kernel = k;
    const select = byId('kernel-preset') as HTMLSelectElement;
    select.value = 'custom';
    (byId('kernel-text') as HTMLTextAreaElement).value = kernelText(k);
    this.learned = k;
    this.render();
  }

  private learned?: Kernel;

  setInput(i: CurrentInput): void {
    this.input = i;
    this.render();
  }

  render(): void {
    const out = byId('playground-output');
    clear(out);
    const select = byId('kernel-preset') as HTMLSelectElement;
    if (select.value === 'custom') {
      const text = (byId('kernel-text') as HTMLTextAreaElement).value;
      const parsed = parseKernel(text);
      if ('error' in parsed) {
        byId('kernel-error').textContent = parsed.error;
        return;
      }
      // A learned kernel keeps its name and note while its numbers are unchanged.
      this.kernel = this.learned && kernelText(this.learned) === text ? this.learned : parsed;
    }
    byId('kernel-error').textContent = '';
    byId('kernel-note').textContent = this.kernel === this.learned ? `${this.kernel.name}: ${this.kernel.note}` : this.kernel.note;
    if (!this.input) {
      out.append(el('p', { class: 'muted' }, 'Choose an input on the Feature maps tab (a sample, an image or a drawing).'));
      return;
    }
    const { h, w, c } = this.input;
    // The playground works on one greyscale plane: the mean of the channels.
    const gray = new Float32Array(h * w);
    for (let p = 0; p < h * w; p++) {
      let s = 0;
      for (let k = 0; k < c; k++) s += this.input.data[p * c + k];
      gray[p] = s / c;
    }
    const stride = Number((byId('stride') as HTMLSelectElement).value);
    const pv = (byId('padding') as HTMLSelectElement).value;
    const padding: PaddingChoice = pv === 'valid' || pv === 'same' ? pv : Number(pv);
    const r = convolve(gray, h, w, this.kernel, stride, padding);
    const scale = Math.max(1, Math.floor(168 / Math.max(h, w)));
    const formula = el(
      'div',
      { class: 'formula' },
      el('div', {}, `n = ${h}×${w}, f = ${this.kernel.size}, s = ${stride}, p = ${pv === 'same' ? `'same'` : pv === 'valid' ? '0 (valid)' : pv}`),
      el('div', {}, `rows: ${r.rows.formula}`),
      el('div', {}, `columns: ${r.cols.formula}`),
      el('div', { class: 'strong' }, `output: ${Math.max(0, r.rows.out)}×${Math.max(0, r.cols.out)}`),
    );
    const input = imageCanvas(paint(normalize(gray, { min: 0, max: 1 }), 'gray'), w, h, scale, 'large');
    const output =
      r.h > 0 && r.w > 0
        ? imageCanvas(paint(normalize(r.data), 'gray'), r.w, r.h, Math.max(1, Math.floor(168 / Math.max(r.h, r.w))), 'large')
        : el('p', { class: 'error' }, 'The kernel does not fit: the output is empty.');
    out.append(el('div', { class: 'eval-row' }, el('figure', {}, input, el('figcaption', {}, `input ${h}×${w}`)), el('figure', {}, output, el('figcaption', {}, `output ${Math.max(0, r.h)}×${Math.max(0, r.w)}`))), formula);
  }
}

function kernelText(k: Kernel): string {
  const rows: string[] = [];
  for (let r = 0; r < k.size; r++) rows.push(k.values.slice(r * k.size, (r + 1) * k.size).map((v) => (Number.isInteger(v) ? String(v) : v.toFixed(4).replace(/0+$/, ''))).join(' '));
  return rows.join('\n');
}
