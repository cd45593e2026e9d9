/**
 * Layers that wrap another layer: `TimeDistributed(layer)` applies it to every step of a
 * sequence, `Bidirectional(rnn)` runs a recurrent layer forwards and backwards. Their rules are
 * the wrapped layer's rules (it is bound like any layer when the file creates it), applied as
 * Keras' wrappers do (`keras/src/layers/rnn/time_distributed.py`, `bidirectional.py`).
 */
import type { Value } from '../parse/values';
import type { Dim } from '../shape';
import { any, choice, layerInstance } from './args';
import { ShapeError, defineLayer, type BoundLayer, type WeightSpec } from './define';

/** The rules of the wrapped layer (`layer=`), or a clear refusal when ConvLens has none. */
function inner(v: Value | undefined, wrapper: string): BoundLayer {
  // The argument spec lets only layers through; backward_layer= is read unchecked.
  if (v?.k !== 'layer') throw new ShapeError(`${wrapper} needs a layer instance to wrap (such as ${wrapper === 'Bidirectional' ? 'LSTM(64)' : 'Dense(10)'})`, 'layer', [], 'opaque-layer');
  const bound = (v.layer as { bound?: BoundLayer }).bound;
  if (!bound) throw new ShapeError(`${wrapper}: ConvLens does not know what the wrapped ${v.layer.className} computes, so the shapes after it are unknown`, 'layer', [], 'opaque-layer');
  return bound;
}

const silent = { warn: () => undefined };

export const TimeDistributed = defineLayer({
  name: 'TimeDistributed',
  category: 'core',
  doc: 'Applies the wrapped layer to every step of a sequence (axis 1) with the same weights: (timesteps, …) → (timesteps, layer output).',
  args: { layer: layerInstance('Dense(10)') },
  inputRank: { min: 2 },
  inputWords: 'a sequence (timesteps, …)',
  outputShape(input, a, ctx) {
    return [input[0], ...inner(a.layer, 'TimeDistributed').outputShape([input.slice(1)], ctx)];
  },
  weights: (input, a) => inner(a.layer, 'TimeDistributed').weights([input.slice(1)]),
  formula(input, a, total) {
    const f = inner(a.layer, 'TimeDistributed').formula([input.slice(1)], total);
    return f ? `the wrapped layer's: ${f}` : `the wrapped layer's ${total.toLocaleString('en-US')}`;
  },
  macs(input, output, a) {
    const per = inner(a.layer, 'TimeDistributed').macs([input.slice(1)], output.slice(1));
    return per === null || input[0] === null ? null : per * input[0];
  },
  receptiveField: () => ({ kind: 'unknown' }),
  untrainable: 'ConvLens cannot train TimeDistributed layers yet',
});

/** The backward copy of a wrapped recurrent layer has the same weights, named apart as Keras does. */
const backwardCopy = (ws: WeightSpec[]): WeightSpec[] => ws.map((w) => ({ ...w, name: `backward_${w.name}` }));

export const Bidirectional = defineLayer({
  name: 'Bidirectional',
  category: 'core',
  doc: 'Runs the wrapped recurrent layer forwards and a copy of it backwards over the sequence and merges the two outputs (concatenated by default: twice the units).',
  args: { layer: layerInstance('LSTM(64)'), merge_mode: choice(['concat', 'sum', 'mul', 'ave'], 'concat'), weights: any(), backward_layer: any() },
  inputRank: 2,
  inputWords: 'a sequence (timesteps, features)',
  outputShape(input, a, ctx) {
    const forward = inner(a.layer, 'Bidirectional').outputShape([input], ctx);
    if (a.backward_layer !== undefined && a.backward_layer.k !== 'none') {
      const back = inner(a.backward_layer, 'Bidirectional').outputShape([input], silent);
      if (a.merge_mode === 'concat') return [...forward.slice(0, -1), addDims(forward[forward.length - 1], back[back.length - 1])];
    }
    if (a.merge_mode !== 'concat') return forward;
    return [...forward.slice(0, -1), addDims(forward[forward.length - 1], forward[forward.length - 1])];
  },
  weights(input, a) {
    const forward = inner(a.layer, 'Bidirectional').weights([input]);
    const back = a.backward_layer !== undefined && a.backward_layer.k !== 'none' ? inner(a.backward_layer, 'Bidirectional').weights([input]) : forward;
    return [...forward.map((w) => ({ ...w, name: `forward_${w.name}` })), ...backwardCopy(back)];
  },
  formula(input, a, total) {
    const f = inner(a.layer, 'Bidirectional').formula([input], total / 2);
    return `2 × (${f ?? (total / 2).toLocaleString('en-US')})`;
  },
  macs(input, output, a) {
    const b = inner(a.layer, 'Bidirectional');
    const per = b.macs([input], b.outputShape([input], silent));
    return per === null ? null : 2 * per;
  },
  receptiveField: () => ({ kind: 'unknown' }),
  untrainable: 'ConvLens cannot train Bidirectional layers yet',
});

function addDims(a: Dim, b: Dim): Dim {
  return a === null || b === null ? null : a + b;
}
