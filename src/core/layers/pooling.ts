import { bool, choice, dataFormat, ints, optional } from './args';
import { checkWindowOutput, convOutputLength, defineLayer, joinChannels, splitChannels } from './define';

function windowPool(kind: 'Max' | 'Average', rank: 1 | 2) {
  const name = `${kind}Pooling${rank}D`;
  const what = kind === 'Max' ? 'the maximum' : 'the average';
  return defineLayer({
    name,
    aliases: [`${kind === 'Max' ? 'Max' : 'Avg'}Pool${rank}D`],
    category: 'pooling',
    doc: `Downsamples each channel by taking ${what} of every ${rank === 1 ? 'window' : 'pool_size window'}; strides default to pool_size.`,
    args: {
      pool_size: ints(rank, { min: 1, default: 2 }),
      strides: optional(ints(rank, { min: 1 })),
      padding: choice(['valid', 'same'], 'valid'),
      data_format: dataFormat(),
    },
    inputRank: rank + 1,
    inputWords: rank === 1 ? '(steps, channels)' : '(height, width, channels)',
    outputShape(input, a) {
      const strides = a.strides ?? a.pool_size;
      const { spatial, channels } = splitChannels(input, a.data_format);
      const out = spatial.map((d, i) => convOutputLength(d, a.pool_size[i], strides[i], a.padding));
      checkWindowOutput(name, spatial, a.pool_size, strides, [], out, 'pool_size');
      return joinChannels(out, channels, a.data_format);
    },
    receptiveField: (a) => ({ kind: 'window', kernel: a.pool_size, stride: a.strides ?? a.pool_size }),
  });
}

export const MaxPooling1D = windowPool('Max', 1);
export const MaxPooling2D = windowPool('Max', 2);
export const AveragePooling1D = windowPool('Average', 1);
export const AveragePooling2D = windowPool('Average', 2);

function globalPool(kind: 'Max' | 'Average', rank: 1 | 2) {
  return defineLayer({
    name: `Global${kind}Pooling${rank}D`,
    aliases: [`Global${kind === 'Max' ? 'Max' : 'Avg'}Pool${rank}D`],
    category: 'pooling',
    doc: `Reduces each channel to one number, ${kind === 'Max' ? 'its maximum' : 'its mean'} over all ${rank === 1 ? 'steps' : 'positions'}.`,
    args: {
      data_format: dataFormat(),
      keepdims: bool(false),
    },
    inputRank: rank + 1,
    inputWords: rank === 1 ? '(steps, channels)' : '(height, width, channels)',
    outputShape(input, a) {
      const { spatial, channels } = splitChannels(input, a.data_format);
      return a.keepdims ? joinChannels(spatial.map(() => 1), channels, a.data_format) : [channels];
    },
    receptiveField: () => ({ kind: 'global' }),
  });
}

export const GlobalMaxPooling1D = globalPool('Max', 1);
export const GlobalMaxPooling2D = globalPool('Max', 2);
export const GlobalAveragePooling1D = globalPool('Average', 1);
export const GlobalAveragePooling2D = globalPool('Average', 2);
