import { any, bool, float, initializer, int } from './args';
import { defineLayer } from './define';

export const Embedding = defineLayer({
  name: 'Embedding',
  category: 'core',
  doc: 'Looks up a learned vector of `output_dim` numbers for each integer token id in [0, input_dim): (…) ids become (…, output_dim).',
  args: {
    input_dim: int({ min: 1 }),
    output_dim: int({ min: 1 }),
    embeddings_initializer: initializer('uniform'),
    embeddings_regularizer: any(),
    embeddings_constraint: any(),
    mask_zero: bool(false),
  },
  // input_length is Keras 2's (in BASE_ARGS); lora_* and quantization_config are Keras 3's.
  extraArgs: ['activity_regularizer', 'lora_rank', 'lora_alpha', 'quantization_config', 'sparse'],
  inputRank: 'any',
  outputShape: (input, a) => [...input, a.output_dim],
  weights: (_input, a) => [{ name: 'embeddings', shape: [a.input_dim, a.output_dim], trainable: true }],
  formula: (_input, a, total) => `${a.input_dim} × ${a.output_dim} = ${total.toLocaleString('en-US')}`,
  // A lookup, not a product.
  macs: () => 0,
  receptiveField: () => ({ kind: 'identity' }),
  untrainable: 'Embedding reads integer token ids; ConvLens trains on image data (float pixels) and cannot feed it token ids yet',
});

export const Identity = defineLayer({
  name: 'Identity',
  category: 'core',
  doc: 'Returns its input unchanged (a placeholder, e.g. where a block may or may not have a layer).',
  args: {},
  inputRank: 'any',
  outputShape: (input) => input,
  receptiveField: () => ({ kind: 'identity' }),
  train: {
    forward: (_g, _l, x) => ({ y: x }),
    backward: (_g, _l, b) => ({ dx: b.needDx ? b.dy : undefined, grads: {} }),
  },
});

export const Masking = defineLayer({
  name: 'Masking',
  category: 'core',
  doc: 'Marks the steps whose features all equal `mask_value` as padding (zeroing them) so that mask-aware layers after it (RNNs, GlobalAveragePooling1D) skip them.',
  args: { mask_value: float({ default: 0 }) },
  inputRank: { min: 1 },
  outputShape: (input) => input,
  receptiveField: () => ({ kind: 'identity' }),
  untrainable: "Masking passes a mask to the layers after it (GlobalAveragePooling1D averages only unmasked steps), which ConvLens' trainer does not propagate yet",
});
