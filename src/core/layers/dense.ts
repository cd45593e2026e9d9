import { denseBackward, denseForward } from '../onnx/grad';
import { toKerasPerm, toOnnxPerm } from '../onnx/layout';
import { activation, bool, initializer, int } from './args';
import { defineLayer } from './define';
import { product } from '../shape';

export const Dense = defineLayer({
  name: 'Dense',
  category: 'core',
  doc: 'Fully connected layer: every output unit is a weighted sum of all inputs on the last axis, plus a bias.',
  args: {
    units: int({ min: 1 }),
    activation: activation(),
    use_bias: bool(true),
    kernel_initializer: initializer('glorot_uniform'),
    bias_initializer: initializer('zeros'),
  },
  extraArgs: [
    'kernel_regularizer', 'bias_regularizer', 'activity_regularizer',
    'kernel_constraint', 'bias_constraint', 'lora_rank', 'lora_alpha',
  ],
  inputRank: { min: 1 },
  outputShape(input, a, ctx) {
    // A feature map (height, width, channels) is the likely slip; a sequence (steps, features) is
    // how transformers and RNN heads use Dense, on purpose.
    if (input.length > 2) {
      const shown = `(None, ${input.map((d) => d ?? 'None').join(', ')})`;
      ctx.warn(
        `Dense acts on the last axis only: on ${shown} it keeps the leading axes and connects just the ${input[input.length - 1] ?? '?'} values of the last one. Did you mean to add Flatten() first?`,
        { code: 'dense-on-nd', fixes: [{ kind: 'insertLayerBefore', layer: 'Flatten', title: 'Insert Flatten() before this Dense layer' }] },
      );
    }
    return [...input.slice(0, -1), a.units];
  },
  weights(input, a) {
    return [
      { name: 'kernel', shape: [input[input.length - 1], a.units], trainable: true },
      ...(a.use_bias ? [{ name: 'bias', shape: [a.units], trainable: true }] : []),
    ];
  },
  formula(input, a, total) {
    const n = input[input.length - 1];
    return `${a.units} × ${n ?? '?'}${a.use_bias ? ` + ${a.units}` : ''} = ${total.toLocaleString('en-US')}`;
  },
  macs(input, _output, a) {
    const n = product(input);
    return n === null ? null : n * a.units;
  },
  receptiveField: (_a, input) => (input.length === 1 ? { kind: 'global' } : { kind: 'identity' }),
  train: {
    // On a (…, features) input Dense acts on the last axis: the graphs hold it channels-first, so
    // the features are moved last, the rows flattened to (positions, features), and back.
    forward(g, l, x) {
      const bias = l.a.use_bias ? l.w.bias : undefined;
      const r = l.input.length;
      if (r === 1) return { y: denseForward(g, x, l.w.kernel, bias) };
      const rows = g.reshape(g.transpose(x, toKerasPerm(r)), [-1, l.input[r - 1]]);
      const y = g.transpose(g.reshape(denseForward(g, rows, l.w.kernel, bias), [-1, ...l.input.slice(0, -1), l.a.units]), toOnnxPerm(r));
      return { y, saved: { rows } };
    },
    backward(g, l, b) {
      const r = l.input.length;
      const rows = r === 1 ? b.x : b.fwd.saved!.rows!;
      const dy = r === 1 ? b.dy : g.reshape(g.transpose(b.dy, toKerasPerm(r)), [-1, l.a.units]);
      const d = denseBackward(g, rows, l.w.kernel, dy, { dx: b.needDx, db: l.a.use_bias });
      const grads: Record<string, string> = { kernel: d.dw! };
      if (l.a.use_bias) grads.bias = d.db!;
      const dx = d.dx && r > 1 ? g.transpose(g.reshape(d.dx, [-1, ...l.input]), toOnnxPerm(r)) : d.dx;
      return { dx, grads };
    },
  },
});
