/**
 * What the editor shows, as plain strings: inlay-hint labels, hover markdown, code-lens titles.
 * Kept in the core so every word a user reads is unit-tested without VS Code.
 */
import type { FileAnalysis, LayerReport, ModelReport } from './analyze';
import { findLayer } from './layers/index';
import type { Span } from './parse/pythonAst';
import { formatBytes, formatCompact, formatCount, formatFrameworkShape, formatParams, trimNum } from './format';
import { printable } from './text';

/**
 * Text from the user's file as inline code in markdown: a backtick fence longer than any run of
 * backticks inside (CommonMark), control characters escaped, so a name like ``a`b**c**`` shows
 * as written and cannot break out into the hover's markdown.
 */
export function codeSpan(s: string): string {
  const text = printable(s);
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') || text === '' ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/**
 * Text from the user's file as plain inline markdown text (never at a line's start): the characters
 * that could open markup are backslash-escaped, and only where they could (`_` at a word's edge, `]`
 * before `(` or `:`), so ordinary names such as `batch_normalization_1[0][0]` stay as they are.
 */
export function escapeMarkdown(s: string): string {
  return printable(s)
    .replace(/[\\`*<>&~|$]/g, '\\$&')
    .replace(/(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g, '\\_')
    .replace(/\]([(:])/g, '\\]$1');
}

/** Text for a VS Code status bar or code lens, where `$(name)` would draw an icon. */
export function escapeIcons(s: string): string {
  return printable(s).replace(/\$\(/g, '$\u200b(');
}

export type HintMode = 'both' | 'shapes' | 'params' | 'off';

/** All the results one source call produced (a loop or a helper runs it several times). */
export interface LayerSite {
  /**
   * The call: `layers.Conv2D(…)(x)`, `model.add(…)` or a list item (`call`); or the constructor
   * of a layer called elsewhere, `self.conv1 = layers.Conv2D(32, 3)` (`definition`).
   */
  span: Span;
  kind: 'call' | 'definition';
  /** Where the hint goes: just after the call, statement or list item. */
  anchor: number;
  rows: { model?: ModelReport; layer: LayerReport }[];
}

/**
 * Groups every layer call of the document by the source range that made it, in document order;
 * a layer constructed apart from its calls (a shared layer, an attribute in `__init__`) also gets
 * a site at its constructor.
 */
export function layerSites(analysis: FileAnalysis): LayerSite[] {
  const modelOf = new Map<number, ModelReport>();
  for (const m of analysis.models) for (const l of m.layers) if (!modelOf.has(l.id)) modelOf.set(l.id, m);
  const byKey = new Map<string, LayerSite>();
  const add = (kind: LayerSite['kind'], span: Span, anchor: number, layer: LayerReport): void => {
    const key = `${kind}:${span.start}:${span.end}`;
    let site = byKey.get(key);
    if (!site) {
      site = { span, kind, anchor, rows: [] };
      byKey.set(key, site);
    }
    if (kind === 'definition' && site.rows.some((r) => r.layer.layerId === layer.layerId)) return;
    site.rows.push({ model: modelOf.get(layer.id), layer });
  };
  for (const layer of analysis.calls) {
    if (layer.className === '?' || layer.foreign || unchangingOperation(layer)) continue;
    add('call', layer.addSpan, layer.anchor, layer);
    const inside = layer.addSpan.start <= layer.span.start && layer.addSpan.end >= layer.span.end;
    if (!inside && !layer.isInput) add('definition', layer.span, layer.span.end, layer);
  }
  // A call traced both on a known input and without one (a class the file instantiates and
  // ConvLens also builds from its defaults): the unknown results say nothing the known ones do not.
  for (const site of byKey.values()) {
    if (site.kind !== 'call') continue;
    const known = site.rows.filter((r) => r.layer.outputShape !== null && !r.layer.partialShape && r.layer.outputShape.every((d) => d !== null));
    if (known.length && known.length < site.rows.length) site.rows = known;
  }
  return [...byKey.values()].sort((a, b) => a.span.start - b.span.start || (a.kind === 'call' ? -1 : 1));
}

/**
 * A PyTorch operation that leaves the shape as it was (`F.relu(x)`, `x.contiguous()`, a
 * residual `+`): its hint would repeat the one of the call it wraps or follows, so it has none.
 */
function unchangingOperation(l: LayerReport): boolean {
  if (l.framework !== 'pytorch' || l.module !== undefined || l.status !== 'ok' || l.outputShape === null) return false;
  const s = l.inputShapes[0];
  return !!s && l.inputBatches[0] === l.batch && s.length === l.outputShape.length && s.every((d, i) => d === l.outputShape![i]);
}

/** A layer's output shape as its framework prints it. */
const outputText = (l: LayerReport): string => formatFrameworkShape(l.framework, l.batch, l.outputShape, l.partialShape, '?');

const paramWords = (n: number | null): string => (n === null ? '? params' : `${formatCount(n)} param${n === 1 ? '' : 's'}`);

/** One result as a hint: `→ (None, 24, 24, 10) · 260 params`. */
function hintPart(l: LayerReport, mode: HintMode, each = ''): string {
  const shape = outputText(l);
  if (mode === 'shapes') return shape;
  if (mode === 'params') return `${paramWords(l.params)}${each}`;
  return `${shape} · ${paramWords(l.params)}${each}`;
}

/**
 * The inlay hint for a source site, or undefined when there is nothing to say. Repeated results
 * collapse: `×3 → (None, 56, 56, 256) · 590,080 params each`. A call of a layer constructed
 * elsewhere shows its output shape; the constructor shows the parameters.
 */
export function hintLabel(site: LayerSite, mode: HintMode): string | undefined {
  if (mode === 'off' || site.rows.length === 0) return undefined;
  if (site.kind === 'definition') {
    // A layer made apart from its calls (`self.conv = Conv2D(…)`): its parameters, when it has any;
    // made in a loop or a helper (`_make_layer`), each distinct count once.
    const counts = [...new Set(site.rows.map((r) => r.layer.params))];
    if (mode === 'shapes' || (counts.length === 1 && counts[0] === 0)) return undefined;
    if (counts.length === 1) return site.rows.length === 1 ? paramWords(counts[0]) : `×${site.rows.length} · ${paramWords(counts[0])} each`;
    const shown = counts.slice(0, 3).map(paramWords).join(' | ');
    return `×${site.rows.length} · ${shown}${counts.length > 3 ? ` | … (${counts.length - 3} more)` : ''}`;
  }
  // A layer made elsewhere shows its parameters there; a PyTorch operation (`F.max_pool2d`) has none.
  const separate = site.rows.every((r) => r.layer.isInput || (r.layer.framework === 'pytorch' && r.layer.module === undefined) || !(site.span.start <= r.layer.span.start && site.span.end >= r.layer.span.end));
  const m: HintMode = separate && mode === 'both' ? 'shapes' : separate && mode === 'params' ? 'off' : mode;
  if (m === 'off') return undefined;
  const parts = site.rows.map((r) => hintPart(r.layer, m));
  const distinct = [...new Set(parts)];
  if (site.rows.length === 1) return `→ ${parts[0]}`;
  if (distinct.length === 1) return `×${site.rows.length} → ${hintPart(site.rows[0].layer, m, ' each')}`;
  const shown = distinct.slice(0, 3).join(' | ');
  return `×${site.rows.length} → ${shown}${distinct.length > 3 ? ` | … (${distinct.length - 3} more)` : ''}`;
}

const rfWords = (l: LayerReport): string => {
  const rf = l.receptiveField;
  if (rf === null) return 'unknown';
  if (rf === 'global') return 'the whole input';
  if (rf.size.length === 0) return '—';
  return `${rf.size.map(trimNum).join('×')} input pixels, step ${rf.stride.map(trimNum).join('×')}`;
};

/** Markdown for hovering a layer call. */
export function layerHover(site: LayerSite): string {
  const first = site.rows[0].layer;
  const doc = first.doc ?? findLayer(first.className)?.doc;
  const out: string[] = [];
  out.push(`**${escapeMarkdown(first.className)}**${doc ? ` — ${doc}` : ''}`);
  const many = site.rows.length > 1;
  if (many) out.push(`\nThis call adds ${site.rows.length} layers (it runs in a loop or a helper function):`);
  for (const { model, layer } of site.rows.slice(0, 8)) {
    const lines: string[] = [];
    const shape = (s: (number | null)[] | null, i: number) => formatFrameworkShape(layer.framework, layer.inputBatches[i] ?? null, s, false, '?');
    const ins = layer.inputShapes.length === 0 ? '' : layer.inputShapes.length === 1 ? `\`${shape(layer.inputShape, 0)}\`` : `[${layer.inputShapes.map((s, i) => `\`${shape(s, i)}\` (${escapeMarkdown(layer.inputs[i] ?? '?')})`).join(', ')}]`;
    const where = model?.varName ? ` in ${codeSpan(model.varName)}` : model ? ` in ${codeSpan(model.name)}` : '';
    lines.push(`${codeSpan(layer.name)}${where}: ${ins ? `${ins} → ` : ''}\`${outputText(layer)}\``);
    if (layer.shared) lines.push(`Shared: called ${site.rows.length > 1 ? 'here and elsewhere' : 'more than once'}; its weights count once`);
    if (layer.nested) lines.push(`Nested model: ${layer.nested.summary.length} layers (${layer.nested.totalParams === null ? '?' : formatCount(layer.nested.totalParams)} params)`);
    if (layer.params !== null) {
      const split = layer.nonTrainableParams ? ` (${formatCount(layer.trainableParams ?? 0)} trainable, ${formatCount(layer.nonTrainableParams)} non-trainable)` : '';
      lines.push(`Params: ${layer.formula ? codeSpan(layer.formula) : formatCount(layer.params)}${split}`);
    } else {
      lines.push('Params: unknown (the input shape is not known here)');
    }
    const weights = layer.weights.filter((w) => !w.buffer);
    const buffers = layer.weights.filter((w) => w.buffer);
    if (weights.length) lines.push(`Weights: ${weights.map((w) => `${escapeMarkdown(w.name)} \`(${w.shape.map((d) => d ?? '?').join(', ')})\``).join(', ')}`);
    if (buffers.length) lines.push(`Buffers (not parameters): ${buffers.map((w) => `${escapeMarkdown(w.name)} \`(${w.shape.map((d) => d ?? '?').join(', ')})\``).join(', ')}`);
    lines.push(`MACs: ${layer.macs === null ? 'unknown' : `${formatCount(layer.macs)}${layer.macs >= 1000 ? ` (${formatCompact(layer.macs)})` : ''}`}`);
    lines.push(`Receptive field: ${rfWords(layer)}`);
    lines.push(`Activation memory: ${layer.activationBytes === null ? 'unknown' : `${formatBytes(layer.activationBytes)} per sample`}`);
    if (layer.activation) lines.push(`Activation: ${codeSpan(layer.activation)}`);
    out.push((many ? '\n---\n' : '\n') + lines.join('  \n'));
  }
  if (site.rows.length > 8) out.push(`\n…and ${site.rows.length - 8} more`);
  return out.join('\n');
}

/** Code-lens title above a model: `38,390 params (149.96 KB) · 497 K MACs`. */
export function modelLensTitle(model: ModelReport): string {
  if (!model.analysed) return `${escapeIcons(model.name)}: ConvLens could not follow this model${model.incomplete ? ` (${escapeIcons(model.incomplete)})` : ''}`;
  const params = model.totalParams === null ? '? params' : `${formatCount(model.totalParams)} params (${formatBytes(model.totalParams * 4)})`;
  const macs = model.macs === null ? '? MACs' : `${formatCompact(model.macs)} MACs`;
  const errors = model.hasErrors ? ' · ⚠ shape errors' : '';
  return `${params} · ${macs}${errors}`;
}

/** Status-bar text for the model under the cursor. */
export function modelStatusText(model: ModelReport): string {
  const name = escapeIcons(model.name);
  return model.totalParams === null ? `${name}: ? params` : `${name}: ${formatCount(model.totalParams)} params`;
}

/** Markdown tooltip with the model totals. */
export function modelTooltip(model: ModelReport): string {
  const p = (n: number | null) => (n === null ? 'unknown' : formatParams(n));
  return [
    `**${escapeMarkdown(model.name)}**${model.varName ? ` (${codeSpan(model.varName)})` : ''} — ${model.summary.length} layers`,
    `Total params: ${p(model.totalParams)}`,
    `Trainable params: ${p(model.trainableParams)}`,
    `Non-trainable params: ${p(model.nonTrainableParams)}`,
    ...(model.trainableFrom ? [model.trainableFrom.call === 'compile' ? '_Trainable split as its compile() fixed it for training (trainable was changed after it)._' : '_Trainable split as its summary() printed it (trainable was changed after it)._'] : []),
    ...(model.buffers && model.buffers.tensors ? [`Buffers (not parameters): ${model.buffers.elements === null ? '?' : formatCount(model.buffers.elements)} values in ${model.buffers.tensors} tensors`] : []),
    `MACs: ${model.macs === null ? 'unknown' : `${formatCount(model.macs)} (${formatCompact(model.macs)})`}`,
  ].join('  \n');
}

/** The model whose source region holds `offset` (from its constructor to its last layer), else the closest before it, else the first. */
export function modelAt(analysis: FileAnalysis, offset: number): ModelReport | undefined {
  let best: ModelReport | undefined;
  for (const m of analysis.models) {
    // A loop, not Math.max(...): a model may have a million layers, past the argument limit.
    let end = m.span.end;
    for (const l of m.layers) end = Math.max(end, l.addSpan.end);
    if (offset >= m.span.start && offset <= end) return m;
    if (m.span.start <= offset && (!best || m.span.start > best.span.start)) best = m;
  }
  return best ?? analysis.models[0];
}
