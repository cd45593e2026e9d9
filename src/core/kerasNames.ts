/**
 * Keras' rule for the `name=` of layers and models: a string without '/' (Keras 3 raises
 * `ValueError: Argument 'name' must be a string and cannot contain character '/'`, in
 * keras/src/ops/operation.py). A name breaking it is an error in the editor; ConvLens' own run
 * folders never use a name as it is written anyway (core/run/paths.ts makes it a safe segment).
 */
import type { ProblemSink } from './diagnostics';
import type { Span } from './parse/pythonAst';
import type { ModelBuild } from './model/graph';

/** Why Keras would refuse a name, or undefined when it accepts it. */
export function kerasNameProblem(name: string): string | undefined {
  if (name.includes('/')) return `Keras refuses the name '${name}': a layer or model name cannot contain '/' (Keras raises ValueError)`;
  return undefined;
}

/** Reports every layer and model name Keras would refuse, at the name's string. */
export function checkKerasNames(models: readonly ModelBuild[], text: string, sink: ProblemSink): void {
  const seen = new Set<number>();
  for (const m of models) {
    // Keras' rule: a PyTorch model's names are its attributes, which Python already keeps plain.
    if (m.foreign || m.framework === 'pytorch') continue;
    const modelProblem = kerasNameProblem(m.kerasName);
    if (modelProblem) sink.error('keras-name', nameSpan(text, m.span, m.kerasName) ?? m.span, modelProblem);
    for (const layer of [...m.sequence.map((x) => x.layer), ...m.tracked]) {
      if (seen.has(layer.id) || layer.foreign) continue;
      seen.add(layer.id);
      const arg = layer.args.keyword.get('name');
      const why = arg?.value.k === 'str' ? kerasNameProblem(arg.value.v) : undefined;
      if (why) sink.error('keras-name', arg!.span, why);
    }
  }
}

/** Where `name='…'` holding `name` is written inside a call, if it is written there literally. */
function nameSpan(text: string, call: Span, name: string): Span | undefined {
  const body = text.slice(call.start, call.end);
  const m = /\bname\s*=\s*(['"])/.exec(body);
  if (!m) return undefined;
  const start = call.start + m.index + m[0].length - 1;
  const close = text.indexOf(m[1], start + 1);
  if (close < 0 || close > call.end || text.slice(start + 1, close) !== name) return undefined;
  return { start, end: close + 1 };
}
