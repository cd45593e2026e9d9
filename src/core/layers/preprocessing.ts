import type { GraphBuilder } from '../onnx/graphBuilder';
import { any, choice, dataFormat, floatOrList, int } from './args';
import { ShapeError, defineLayer } from './define';
import { joinChannels, splitChannels } from '../shape';

export const Rescaling = defineLayer({
  name: 'Rescaling',
  category: 'preprocessing',
  doc: 'Multiplies inputs by `scale` and adds `offset` (Rescaling(1./255) maps pixels to [0, 1]); a list scales each channel.',
  args: { scale: floatOrList(), offset: floatOrList({ default: 0 }) },
  inputRank: 'any',
  outputShape(input, a) {
    const c = input[input.length - 1];
    for (const [name, v] of [['scale', a.scale], ['offset', a.offset]] as const) {
      if (Array.isArray(v) && v.length !== 1 && c !== null && v.length !== c) {
        throw new ShapeError(`Rescaling: '${name}' has ${v.length} values but the input has ${c} channels`, name, [], 'channels');
      }
    }
    return input;
  },
  train: {
    forward: (g, l, x) => ({ y: g.add(g.mul(x, channelConstant(g, l.a.scale, l.input)), channelConstant(g, l.a.offset, l.input)) }),
    backward: (g, l, b) => ({ dx: b.needDx ? g.mul(b.dy, channelConstant(g, l.a.scale, l.input)) : undefined, grads: {} }),
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

/** A number, or one number per channel shaped to broadcast over an ONNX-layout (N, C, …) tensor. */
function channelConstant(g: GraphBuilder, v: number | number[], input: readonly number[]): string {
  if (!Array.isArray(v)) return g.scalar(v);
  if (v.length === 1) return g.scalar(v[0]);
  const rank = input.length;
  const dims = rank < 2 ? [v.length] : [v.length, ...Array(rank - 1).fill(1)];
  return g.constant(new Float32Array(v), dims);
}
