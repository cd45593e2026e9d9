/**
 * A model's architecture as a run and its checkpoints record it: every layer's name, class,
 * output shape, weights and settings, and a fingerprint (a hash of all that). A checkpoint only
 * resumes or exports into the architecture it was trained with; when the model file changed
 * since, the error names what differs, layer by layer.
 */
import type { TrainingPlan } from './plan';

/** One layer call as recorded (a shared layer's later calls are `dense_1[1]`). */
export interface ArchitectureLayer {
  name: string;
  /** The calls whose outputs it reads (`input` for the model input), when the model is a graph. */
  inputs?: string[];
  className: string;
  /** Per-sample output shape. */
  output: number[];
  /** `kernel 5×5×1×10` … */
  weights: string[];
  /** The layer's settings (Keras argument names), as JSON-safe values; `name` left out. */
  config: Record<string, unknown>;
}

/** A model's architecture as recorded in run.json and checkpoint headers. */
export interface Architecture {
  model: string;
  input: number[];
  layers: ArchitectureLayer[];
}

const jsonSafe = (v: unknown): unknown => {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined && typeof x !== 'function') out[k] = jsonSafe(x);
    }
    return out;
  }
  return String(v);
};

/** The architecture of a plan. */
export function architectureOf(plan: TrainingPlan): Architecture {
  return {
    model: plan.model,
    input: [...plan.inputShape],
    layers: plan.layers.map((l, i) => {
      const config = jsonSafe(l.config) as Record<string, unknown>;
      delete config.name;
      const g = l as { node?: string; inputs?: number[] };
      const name = g.node ?? l.name;
      const nodeOf = (k: number) => (k < 0 ? 'input' : ((plan.layers[k] as { node?: string }).node ?? plan.layers[k].name));
      // A plain chain (each layer reading the one before) records no edges.
      const chain = !g.inputs || (g.inputs.length === 1 && g.inputs[0] === i - 1);
      return {
        name,
        ...(chain ? {} : { inputs: g.inputs!.map(nodeOf) }),
        className: l.className,
        output: [...l.output],
        weights: l.weights.map((w) => `${w.name.slice(w.name.lastIndexOf('/') + 1)} ${w.shape.join('×')}${w.trainable ? '' : ' (frozen)'}`),
        config,
      };
    }),
  };
}

/** FNV-1a over UTF-16 code units, 32 bits, with a given offset basis. */
function fnv1a(text: string, basis: number): number {
  let h = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A canonical JSON text (sorted keys) of a value. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(jsonSafe(v));
}

/** `arch1-` and 16 hex digits: the same for the same architecture, whatever the file's formatting. */
export function architectureFingerprint(a: Architecture): string {
  const text = canonicalJson({ input: a.input, layers: a.layers });
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  return `arch1-${hex(fnv1a(text, 0x811c9dc5))}${hex(fnv1a(text, 0x2f6b1a57))}`;
}

const shape = (s: readonly number[]) => `(None, ${s.join(', ')})`;

/**
 * What differs between the architecture a checkpoint was trained with (`was`) and the one the
 * file builds now (`now`), one line per difference (at most `limit`); empty when they agree.
 */
export function architectureDiff(was: Architecture, now: Architecture, limit = 8): string[] {
  const out: string[] = [];
  if (was.input.join() !== now.input.join()) out.push(`the input is ${shape(was.input)} in the checkpoint, ${shape(now.input)} in the file`);
  const byName = new Map(now.layers.map((l) => [l.name, l]));
  const wasNames = new Set(was.layers.map((l) => l.name));
  for (const l of was.layers) {
    const n = byName.get(l.name);
    if (!n) {
      out.push(`layer '${l.name}' (${l.className}) is in the checkpoint but not in the file`);
      continue;
    }
    if (n.className !== l.className) out.push(`layer '${l.name}' is ${l.className} in the checkpoint, ${n.className} in the file`);
    else {
      if ((n.inputs ?? []).join() !== (l.inputs ?? []).join()) out.push(`layer '${l.name}' reads ${(l.inputs ?? ['the layer before']).join(', ')} in the checkpoint, ${(n.inputs ?? ['the layer before']).join(', ')} in the file`);
      if (n.output.join() !== l.output.join()) out.push(`layer '${l.name}' outputs ${shape(l.output)} in the checkpoint, ${shape(n.output)} in the file`);
      if (n.weights.join() !== l.weights.join()) out.push(`layer '${l.name}' has weights ${l.weights.join(', ') || 'none'} in the checkpoint, ${n.weights.join(', ') || 'none'} in the file`);
      const keys = [...new Set([...Object.keys(l.config), ...Object.keys(n.config)])].sort();
      for (const k of keys) {
        const a = canonicalJson(l.config[k]);
        const b = canonicalJson(n.config[k]);
        if (a !== b) out.push(`layer '${l.name}': ${k}=${a ?? 'unset'} in the checkpoint, ${k}=${b ?? 'unset'} in the file`);
      }
    }
  }
  for (const n of now.layers) if (!wasNames.has(n.name)) out.push(`layer '${n.name}' (${n.className}) is in the file but not in the checkpoint`);
  const order = (a: Architecture) => a.layers.map((l) => l.name).join(',');
  if (out.length === 0 && order(was) !== order(now)) out.push(`the layers are in another order: ${was.layers.map((l) => l.name).join(' → ')} in the checkpoint, ${now.layers.map((l) => l.name).join(' → ')} in the file`);
  return out.length > limit ? [...out.slice(0, limit), `… and ${out.length - limit} more differences`] : out;
}

/** Checks the shape of an architecture read from a file; a reason when it is not one. */
export function architectureProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return 'not an object';
  const a = v as Partial<Architecture>;
  if (typeof a.model !== 'string' || !Array.isArray(a.input) || !Array.isArray(a.layers)) return 'needs "model", "input" and "layers"';
  for (const [i, l] of a.layers.entries()) {
    if (typeof l !== 'object' || l === null) return `layer ${i} is not an object`;
    const x = l as Partial<ArchitectureLayer>;
    if (typeof x.name !== 'string' || typeof x.className !== 'string' || !Array.isArray(x.output) || !Array.isArray(x.weights) || typeof x.config !== 'object' || x.config === null) {
      return `layer ${i} needs "name", "className", "output", "weights" and "config"`;
    }
  }
  return undefined;
}

/**
 * Why a checkpoint does not belong to the model a plan trains, in words (the differences of the
 * two architectures, or the first weight missing or shaped differently); undefined when it does.
 * `expected` lists every tensor name the caller will read (weights, and optimizer slots when
 * resuming); a tensor in the checkpoint outside that list is an error too, so a damaged name is
 * never silently dropped.
 */
export function checkpointMismatch(
  plan: TrainingPlan,
  header: { fingerprint: string; architecture?: Architecture; model: string },
  tensors: ReadonlyMap<string, { shape: readonly number[]; kind: string }>,
  expected?: ReadonlySet<string>,
): string | undefined {
  const now = architectureOf(plan);
  if (header.architecture && architectureFingerprint(header.architecture) !== header.fingerprint) {
    return `its architecture record does not match its own fingerprint ${header.fingerprint}: the header was edited`;
  }
  if (header.architecture && header.fingerprint !== architectureFingerprint(now)) {
    const diff = architectureDiff(header.architecture, now);
    const lines = diff.length > 0 ? diff : ['the fingerprints differ, although the recorded layers agree (the checkpoint header was edited?)'];
    return `it was trained with another architecture of '${header.model}' than the file builds now:\n  - ${lines.join('\n  - ')}`;
  }
  const weights = new Set<string>();
  for (const l of plan.layers) {
    for (const w of l.weights) {
      weights.add(w.name);
      const s = tensors.get(w.name);
      if (!s) return `it has no '${w.name}'`;
      if (s.kind !== 'weight') return `'${w.name}' is stored as an optimizer slot, not a weight`;
      if (s.shape.join('×') !== w.shape.join('×')) return `'${w.name}' is ${s.shape.join('×')} there but ${w.shape.join('×')} in the model`;
    }
  }
  for (const [name, t] of tensors) {
    if (t.kind === 'weight' && !weights.has(name)) return `it holds a weight the model does not have: '${name}'`;
    if (t.kind === 'slot' && !weights.has(name.slice(0, name.lastIndexOf('.')))) return `it holds optimizer state for a weight the model does not have: '${name}'`;
  }
  if (expected) {
    const extra = [...tensors.keys()].filter((n) => !expected.has(n));
    if (extra.length > 0) return `it holds ${extra.length === 1 ? 'a tensor' : 'tensors'} the model does not have: ${extra.slice(0, 4).map((n) => `'${n}'`).join(', ')}${extra.length > 4 ? ', …' : ''}`;
  }
  return undefined;
}
