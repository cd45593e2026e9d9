import { activation, bool, int } from './args';
import { defineLayer, product } from './define';

export const Dense = defineLayer({
  name: 'Dense',
  category: 'core',
  doc: 'Fully connected layer: every output unit is a weighted sum of all inputs on the last axis, plus a bias.',
  args: {
    units: int({ min: 1 }),
    activation: activation(),
    use_bias: bool(true),
  },
  extraArgs: [
    'kernel_initializer', 'bias_initializer', 'kernel_regularizer', 'bias_regularizer', 'activity_regularizer',
    'kernel_constraint', 'bias_constraint', 'lora_rank', 'lora_alpha',
  ],
  inputRank: { min: 1 },
  outputShape(input, a, ctx) {
    if (input.length > 1) {
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
});
