/** The .onnx viewer's summary: producer, inputs and outputs, operators, initializers and their sizes. */
import { RequestOnnxScale, type OnnxSummaryParams } from '../../src/core/protocol/panel';
import { byId, clear, el } from './dom';
import { post } from './host';

const bytes = (n: number): string => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(2)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KB` : `${n} B`);

export function showOnnxSummary(s: OnnxSummaryParams): void {
  byId('model-title').textContent = s.file;
  byId('weights').textContent = s.producer;
  const root = byId('onnx-summary');
  clear(root);
  if (s.error) {
    root.append(el('p', { class: 'error' }, s.error));
    return;
  }
  const io = (title: string, items: { name: string; type: string }[]) =>
    el('div', {}, el('h4', {}, title), el('table', {}, ...items.map((i) => el('tr', {}, el('th', {}, i.name), el('td', { class: 'left' }, i.type)))));
  const total = s.initializers.reduce((a, t) => a + t.count, 0);
  const totalBytes = s.initializers.reduce((a, t) => a + t.bytes, 0);
  const table = el('table', { class: 'initializers' }, el('tr', {}, el('th', { class: 'left' }, 'initializer'), el('th', {}, 'shape'), el('th', {}, 'type'), el('th', {}, 'values'), el('th', {}, 'size')));
  for (const t of s.initializers) table.append(el('tr', {}, el('td', { class: 'left' }, t.name), el('td', {}, `(${t.dims.join(', ')})`), el('td', {}, t.type), el('td', {}, t.count.toLocaleString('en-US')), el('td', {}, bytes(t.bytes))));
  root.append(
    el('div', { class: 'eval-row' }, io('Inputs', s.inputs), io('Outputs', s.outputs), el('div', {}, el('h4', {}, 'Operators'), el('p', {}, s.ops.map((o) => `${o.op} ×${o.count}`).join(' · ')))),
    el('h4', {}, `Initializers: ${s.initializers.length}, ${total.toLocaleString('en-US')} values, ${bytes(totalBytes)}`),
    el('div', { class: 'table-scroll' }, table),
  );
  const fm = byId('onnx-image');
  clear(fm);
  if (s.image) {
    const scale = el('select', { id: 'onnx-scale', 'aria-label': 'pixel scaling' }, el('option', { value: 'unit' }, 'pixels in [0, 1]'), el('option', { value: 'byte' }, 'pixels in [0, 255]'), el('option', { value: 'imagenet' }, "ImageNet's mean and deviation"));
    scale.addEventListener('change', () => post(RequestOnnxScale, { scale: scale.value as 'unit' | 'byte' | 'imagenet' }));
    fm.append(el('span', { class: 'muted' }, `Image input '${s.image.name}': ${s.image.layout} ${s.image.channels}×${s.image.height}×${s.image.width}. `), el('label', {}, 'Feed ', scale));
  } else fm.append(el('span', { class: 'muted' }, 'No feature maps: the model has no single image input (rank 4, 1 or 3 channels).'));
}
