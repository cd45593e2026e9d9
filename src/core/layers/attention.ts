/**
 * Attention layers. MultiHeadAttention takes a query, a value and optionally a key
 * (`mha(query, value)` / `mha(query, value, key)`), each projected by its own EinsumDense, and
 * projects the heads back to the query's width (or `output_shape`), as
 * `keras/src/layers/attention/multi_head_attention.py` builds it.
 */
import { product } from '../shape';
import { any, bool, int, optional } from './args';
import { ShapeError, defineMergeLayer } from './define';

export const MultiHeadAttention = defineMergeLayer({
  name: 'MultiHeadAttention',
  category: 'core',
  doc: 'Multi-head attention: `num_heads` heads of `key_dim` each attend from the query sequence to the value (key) sequence; the output has the query\'s shape (last axis: `output_shape`, default the query\'s width).',
  args: {
    num_heads: int({ min: 1 }),
    key_dim: int({ min: 1 }),
    value_dim: optional(int({ min: 1 })),
    dropout: any(),
    use_bias: bool(true),
    output_shape: any(),
    attention_axes: any(),
  },
  extraArgs: ['kernel_initializer', 'bias_initializer', 'kernel_regularizer', 'bias_regularizer', 'activity_regularizer', 'kernel_constraint', 'bias_constraint', 'seed', 'flash_attention'],
  minInputs: 2,
  maxInputs: 3,
  outputShape([query, value], a) {
    if (query.length < 2 || value.length < 2) throw new ShapeError('MultiHeadAttention needs (sequence, features) inputs: a query and a value of rank ≥ 3 with the batch', undefined, [], 'shape', true);
    const out = a.output_shape;
    if (out === undefined || out.k === 'none') return query;
    if (out.k === 'num' && Number.isInteger(out.v)) return [...query.slice(0, -1), out.v];
    throw new ShapeError('MultiHeadAttention: ConvLens reads output_shape only as one integer', 'output_shape');
  },
  weights([query, value, key], a) {
    const k = key ?? value;
    const vd = a.value_dim ?? a.key_dim;
    const last = (s: typeof query) => s[s.length - 1];
    const outDim = a.output_shape?.k === 'num' ? a.output_shape.v : last(query);
    const b = (name: string, shape: (number | null)[]) => (a.use_bias ? [{ name, shape, trainable: true }] : []);
    return [
      { name: 'query/kernel', shape: [last(query), a.num_heads, a.key_dim], trainable: true },
      ...b('query/bias', [a.num_heads, a.key_dim]),
      { name: 'key/kernel', shape: [last(k), a.num_heads, a.key_dim], trainable: true },
      ...b('key/bias', [a.num_heads, a.key_dim]),
      { name: 'value/kernel', shape: [last(value), a.num_heads, vd], trainable: true },
      ...b('value/bias', [a.num_heads, vd]),
      { name: 'attention_output/kernel', shape: [a.num_heads, vd, outDim], trainable: true },
      ...b('attention_output/bias', [outDim]),
    ];
  },
  formula([query, value, key], a, total) {
    const k = key ?? value;
    const vd = a.value_dim ?? a.key_dim;
    const h = a.num_heads;
    const last = (s: typeof query) => s[s.length - 1] ?? '?';
    const bias = a.use_bias ? ' + bias' : '';
    return `${h}·${a.key_dim}·(${last(query)} + ${last(k)}) + ${h}·${vd}·${last(value)} + ${h}·${vd}·${last(query)}${bias} = ${total.toLocaleString('en-US')}`;
  },
  macs([query, value, key], output, a) {
    const k = key ?? value;
    const vd = a.value_dim ?? a.key_dim;
    const tq = product(query.slice(0, -1));
    const tv = product(value.slice(0, -1));
    const dq = query[query.length - 1], dk = k[k.length - 1], dv = value[value.length - 1], dout = output[output.length - 1];
    if (tq === null || tv === null || dq === null || dk === null || dv === null || dout === null) return null;
    const h = a.num_heads;
    // Projections, scores (q·k), weighted sum of values, output projection.
    return tq * dq * h * a.key_dim + tv * dk * h * a.key_dim + tv * dv * h * vd + h * tq * tv * a.key_dim + h * tq * tv * vd + tq * h * vd * dout;
  },
  untrainable: 'ConvLens cannot train MultiHeadAttention yet',
});
