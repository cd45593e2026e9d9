import { any, int, optional, shape } from './args';
import { defineLayer } from './define';

/**
 * `InputLayer(input_shape=…)` (Keras 2) or `InputLayer(shape=…)` (Keras 3). It declares the
 * model input and is not a row of `model.summary()` for a Sequential model.
 */
export const InputLayer = defineLayer({
  name: 'InputLayer',
  category: 'input',
  doc: 'Declares the shape of one input sample; Sequential models do not list it in their summary.',
  args: {
    shape: shape({ default: null }),
    batch_size: optional(int({ min: 1 })),
    dtype: any(),
    sparse: any(),
    batch_shape: any(),
    input_tensor: any(),
    ragged: any(),
  },
  inputRank: 'any',
  isInput: true,
  outputShape: (input) => input,
});
