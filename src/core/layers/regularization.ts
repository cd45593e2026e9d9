import { any, dataFormat, float } from './args';
import { defineLayer } from './define';

export const Dropout = defineLayer({
  name: 'Dropout',
  category: 'regularization',
  doc: 'While training, sets a random fraction `rate` of the inputs to 0 and scales the rest by 1/(1 − rate); does nothing at inference.',
  args: {
    rate: float({ min: 0, max: 1 }),
    noise_shape: any(),
    seed: any(),
  },
  inputRank: 'any',
  outputShape: (input) => input,
});

function spatialDropout(rank: 1 | 2) {
  return defineLayer({
    name: `SpatialDropout${rank}D`,
    category: 'regularization',
    doc: 'Like Dropout, but drops whole feature maps (channels) at once, which suits convolutional features.',
    args: { rate: float({ min: 0, max: 1 }), data_format: dataFormat() },
    extraArgs: ['seed'],
    inputRank: rank + 1,
    inputWords: rank === 1 ? '(steps, channels)' : '(height, width, channels)',
    outputShape: (input) => input,
  });
}

export const SpatialDropout1D = spatialDropout(1);
export const SpatialDropout2D = spatialDropout(2);

export const GaussianNoise = defineLayer({
  name: 'GaussianNoise',
  category: 'regularization',
  doc: 'While training, adds zero-centred Gaussian noise with standard deviation `stddev`.',
  args: { stddev: float({ min: 0 }) },
  extraArgs: ['seed'],
  inputRank: 'any',
  outputShape: (input) => input,
});

export const GaussianDropout = defineLayer({
  name: 'GaussianDropout',
  category: 'regularization',
  doc: 'While training, multiplies inputs by Gaussian noise centred on 1 with variance rate/(1 − rate).',
  args: { rate: float({ min: 0, max: 1 }) },
  extraArgs: ['seed'],
  inputRank: 'any',
  outputShape: (input) => input,
});
