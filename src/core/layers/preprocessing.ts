import { any, choice, dataFormat, float, int } from './args';
import { defineLayer } from './define';
import { joinChannels, splitChannels } from '../shape';

export const Rescaling = defineLayer({
  name: 'Rescaling',
  category: 'preprocessing',
  doc: 'Multiplies inputs by `scale` and adds `offset` (Rescaling(1./255) maps pixels to [0, 1]).',
  args: { scale: float(), offset: float({ default: 0 }) },
  inputRank: 'any',
  outputShape: (input) => input,
  train: {
    forward: (g, l, x) => ({ y: g.add(g.mul(x, g.scalar(l.a.scale)), g.scalar(l.a.offset)) }),
    backward: (g, l, b) => ({ dx: b.needDx ? g.mul(b.dy, g.scalar(l.a.scale)) : undefined, grads: {} }),
  },
});

export const Resizing = defineLayer({
  name: 'Resizing',
  category: 'preprocessing',
  doc: 'Resizes images to height × width with the chosen interpolation.',
  args: {
    height: int({ min: 1 }),
    width: int({ min: 1 }),
    interpolation: choice(['bilinear', 'nearest', 'bicubic', 'lanczos3', 'lanczos5', 'area'], 'bilinear'),
    crop_to_aspect_ratio: any(),
    pad_to_aspect_ratio: any(),
    fill_mode: any(),
    fill_value: any(),
    data_format: dataFormat(),
  },
  inputRank: 3,
  inputWords: '(height, width, channels)',
  outputShape(input, a) {
    const { channels } = splitChannels(input, a.data_format);
    return joinChannels([a.height, a.width], channels, a.data_format);
  },
  receptiveField: () => ({ kind: 'global' }),
});
