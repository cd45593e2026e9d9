/**
 * PyTorch's reshaping modules: `Flatten`/`Unflatten` (whole shapes: they may merge the batch
 * axis), `Upsample`, `PixelShuffle`/`PixelUnshuffle`, the padding layers and `ChannelShuffle`.
 */
import { padShape, product, torchShape, type Dim, type SpatialRank } from '../../shape';
import { any, choice, int } from '../args';
import { ShapeError, defineLayer, type LayerType } from '../define';
import { NOT_TRAINABLE_YET, inputText, intList, sidePadding, torchAxis, torchInputWords } from './common';
import { constantPadTrain, reshapeTrain } from './train';
import type { ArgSpec, Parsed } from '../args';
import { showValue, type Value } from '../../parse/values';

export const Flatten = defineLayer({
  name: 'Flatten',
  framework: 'pytorch',
  withBatch: true,
  category: 'reshaping',
  doc: 'Flattens the axes start_dim…end_dim into one (PyTorch; by default every axis but the batch: [N, C, H, W] → [N, C·H·W]).',
  args: { start_dim: int({ default: 1 }), end_dim: int({ default: -1 }) },
  inputRank: 'any',
  outputShape(input, a) {
    if (input.length === 0) return [1];
    const s = torchAxis('Flatten', a.start_dim, input.length, 'start_dim');
    const e = torchAxis('Flatten', a.end_dim, input.length, 'end_dim');
    if (s > e) throw new ShapeError(`Flatten: start_dim=${a.start_dim} comes after end_dim=${a.end_dim} (PyTorch raises "flatten() has invalid args: start_dim cannot come after end_dim")`, 'start_dim', [], 'axis');
    return [...input.slice(0, s), product(input.slice(s, e + 1)), ...input.slice(e + 1)];
  },
  receptiveField: () => ({ kind: 'identity' }),
  train: reshapeTrain((a) => a.start_dim !== 0, 'a flatten'),
});

export const Unflatten = defineLayer({
  name: 'Unflatten',
  framework: 'pytorch',
  withBatch: true,
  category: 'reshaping',
  doc: 'Splits axis `dim` into the sizes `unflattened_size` (PyTorch; one may be -1).',
  args: { dim: int(), unflattened_size: intList({ allowMinusOne: true, min: 1 }) },
  inputRank: 'any',
  outputShape(input, a, ctx) {
    const i = torchAxis('Unflatten', a.dim, input.length);
    const sizes = a.unflattened_size;
    const d = input[i];
    const rest = sizes.filter((x) => x !== -1).reduce((p, x) => p * x, 1);
    if (sizes.filter((x) => x === -1).length > 1) throw new ShapeError('Unflatten: only one size can be -1', 'unflattened_size', [], 'reshape');
    let filled: Dim[] = sizes;
    if (sizes.includes(-1)) filled = sizes.map((x) => (x === -1 ? (d === null ? null : d / rest) : x));
    if (d !== null && (filled.some((x) => x !== null && !Number.isInteger(x)) || product(filled) !== d)) {
      throw new ShapeError(`Unflatten: sizes (${sizes.join(', ')}) do not multiply to ${d}, the size of dim ${a.dim} of ${torchShape(ctx.batch ?? null, input.slice(1))}`, 'unflattened_size', [], 'reshape');
    }
    return [...input.slice(0, i), ...filled, ...input.slice(i + 1)];
  },
  receptiveField: () => ({ kind: 'unknown' }),
  untrainable: NOT_TRAINABLE_YET,
});

/** An int or a tuple of ints, or a float or tuple of floats (Upsample's size / scale_factor), or None. */
function sizeOrScale(integer: boolean): ArgSpec<number[] | number | null> {
  const words = integer ? 'an integer or a tuple of integers, or None' : 'a number or a tuple of numbers, or None';
  return {
    expected: words,
    required: false,
    default: null,
    parse(v: Value): Parsed<number[] | number | null> {
      if (v.k === 'unknown') return { ok: 'unknown', why: v.why };
      if (v.k === 'none') return { ok: true, value: null };
      const good = (x: Value): x is Extract<Value, { k: 'num' }> => x.k === 'num' && x.v > 0 && (!integer || Number.isInteger(x.v));
      if (good(v)) return { ok: true, value: v.v };
      if (v.k === 'seq' && v.items.every(good)) return { ok: true, value: v.items.map((x) => (x as { v: number }).v) };
      return { ok: false, message: `must be ${words}, got ${showValue(v)}` };
    },
  };
}

const MODES = ['nearest', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area', 'nearest-exact'] as const;
const MODE_RANK: Partial<Record<(typeof MODES)[number], number>> = { linear: 1, bilinear: 2, bicubic: 2, trilinear: 3 };

/** The output size of an interpolation on the spatial axes: `size`, or ⌊n·scale⌋. */
export function interpolatedSize(op: string, spatial: Dim[], size: number[] | number | null, scale: number[] | number | null, mode: string): Dim[] {
  if (size === null && scale === null) throw new ShapeError(`${op}: either size or scale_factor should be defined`, 'size', [], 'invalid-arg');
  if (size !== null && scale !== null) throw new ShapeError(`${op}: only one of size or scale_factor should be defined`, 'scale_factor', [], 'invalid-arg');
  const want = MODE_RANK[mode as (typeof MODES)[number]];
  if (want !== undefined && want !== spatial.length) {
    throw new ShapeError(`${op}: mode='${mode}' needs a ${want + 2}-D input, but got a ${spatial.length + 2}-D input`, 'mode', [], 'input-rank', true);
  }
  const per = (x: number[] | number, what: string): number[] => {
    if (typeof x === 'number') return spatial.map(() => x);
    if (x.length !== spatial.length) throw new ShapeError(`${op}: ${what} has ${x.length} values for ${spatial.length} spatial axes`, what, [], 'invalid-arg');
    return x;
  };
  if (size !== null) return per(size, 'size');
  const s = per(scale!, 'scale_factor');
  return spatial.map((d, i) => (d === null ? null : Math.floor(d * s[i])));
}

export const Upsample = defineLayer({
  name: 'Upsample',
  framework: 'pytorch',
  category: 'reshaping',
  doc: 'Resizes the spatial axes to `size` or by `scale_factor` (PyTorch; nearest, (bi/tri)linear or bicubic interpolation).',
  args: { size: sizeOrScale(true), scale_factor: sizeOrScale(false), mode: choice(MODES, 'nearest'), align_corners: any(), recompute_scale_factor: any() },
  inputRank: { min: 2 },
  inputWords: '[N, C, …spatial]',
  outputShape(input, a) {
    const [c, ...spatial] = input;
    return [c, ...interpolatedSize('Upsample', spatial, a.size, a.scale_factor, a.mode)];
  },
  receptiveField(a, input) {
    const f = typeof a.scale_factor === 'number' ? input.slice(1).map(() => a.scale_factor as number) : a.scale_factor;
    return f && f.every((x) => Number.isInteger(x)) ? { kind: 'upsample', factor: f } : { kind: 'unknown' };
  },
  untrainable: NOT_TRAINABLE_YET,
});

function fixedUpsample(name: string, mode: string): LayerType {
  return defineLayer({
    name,
    framework: 'pytorch',
    category: 'reshaping',
    doc: `${mode === 'nearest' ? 'Nearest-neighbour' : 'Bilinear'} 2-D upsampling to \`size\` or by \`scale_factor\` (PyTorch; Upsample(mode='${mode}')).`,
    args: { size: sizeOrScale(true), scale_factor: sizeOrScale(false) },
    inputRank: 3,
    inputWords: torchInputWords(2),
    outputShape(input, a) {
      const [c, ...spatial] = input;
      return [c, ...interpolatedSize(name, spatial, a.size, a.scale_factor, mode)];
    },
    receptiveField: (a) => (typeof a.scale_factor === 'number' && Number.isInteger(a.scale_factor) ? { kind: 'upsample', factor: [a.scale_factor, a.scale_factor] } : { kind: 'unknown' }),
    untrainable: NOT_TRAINABLE_YET,
  });
}

export const UpsamplingNearest2d = fixedUpsample('UpsamplingNearest2d', 'nearest');
export const UpsamplingBilinear2d = fixedUpsample('UpsamplingBilinear2d', 'bilinear');

export const PixelShuffle = defineLayer({
  name: 'PixelShuffle',
  framework: 'pytorch',
  category: 'reshaping',
  doc: 'Moves channels into space (PyTorch; sub-pixel convolution): [N, C·r², H, W] → [N, C, H·r, W·r].',
  args: { upscale_factor: int({ min: 1 }) },
  inputRank: { min: 3 },
  inputWords: '[N, C·r², H, W]',
  outputShape(input, a, ctx) {
    const r = a.upscale_factor;
    const lead = input.slice(0, -3);
    const [c, h, w] = input.slice(-3);
    if (c !== null && c % (r * r) !== 0) {
      throw new ShapeError(`PixelShuffle(upscale_factor=${r}) needs channels divisible by ${r * r}, but its input ${inputText(ctx, input)} has ${c}; PyTorch raises "pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor"`, 'upscale_factor', [], 'pixel-shuffle', true);
    }
    return [...lead, c === null ? null : c / (r * r), h === null ? null : h * r, w === null ? null : w * r];
  },
  receptiveField: (a) => ({ kind: 'upsample', factor: [a.upscale_factor, a.upscale_factor] }),
  untrainable: NOT_TRAINABLE_YET,
});

export const PixelUnshuffle = defineLayer({
  name: 'PixelUnshuffle',
  framework: 'pytorch',
  category: 'reshaping',
  doc: 'Moves space into channels (PyTorch): [N, C, H·r, W·r] → [N, C·r², H, W].',
  args: { downscale_factor: int({ min: 1 }) },
  inputRank: { min: 3 },
  outputShape(input, a, ctx) {
    const r = a.downscale_factor;
    const lead = input.slice(0, -3);
    const [c, h, w] = input.slice(-3);
    if ((h !== null && h % r !== 0) || (w !== null && w % r !== 0)) {
      throw new ShapeError(`PixelUnshuffle(downscale_factor=${r}) needs a height and width divisible by ${r}, but its input is ${inputText(ctx, input)}`, 'downscale_factor', [], 'pixel-shuffle', true);
    }
    return [...lead, c === null ? null : c * r * r, h === null ? null : h / r, w === null ? null : w / r];
  },
  receptiveField: (a) => ({ kind: 'window', kernel: [a.downscale_factor, a.downscale_factor], stride: [a.downscale_factor, a.downscale_factor] }),
  untrainable: NOT_TRAINABLE_YET,
});

export const ChannelShuffle = defineLayer({
  name: 'ChannelShuffle',
  framework: 'pytorch',
  category: 'reshaping',
  doc: 'Interleaves the channels of `groups` groups (PyTorch; ShuffleNet); the shape does not change.',
  args: { groups: int({ min: 1 }) },
  inputRank: { min: 1 },
  outputShape(input, a, ctx) {
    if (input[0] !== null && input[0] % a.groups !== 0) throw new ShapeError(`ChannelShuffle: the ${input[0]} channels of ${inputText(ctx, input)} do not split into groups=${a.groups}`, 'groups', [], 'groups', true);
    return input;
  },
  receptiveField: () => ({ kind: 'identity' }),
  untrainable: NOT_TRAINABLE_YET,
});

type PadKind = 'Reflection' | 'Replication' | 'Zero' | 'Constant' | 'Circular';

const PAD_DOCS: Record<PadKind, string> = {
  Reflection: 'mirrors the input at its borders (without repeating the edge)',
  Replication: 'repeats the edge values',
  Zero: 'adds zeros',
  Constant: 'adds a constant `value`',
  Circular: 'wraps around (the other side\'s values)',
};

function padLayer(kind: PadKind, rank: SpatialRank): LayerType {
  const name = `${kind}Pad${rank}d`;
  // Negative amounts crop, as F.pad's do (pytorch-cifar100's NASNet crops with ConstantPad2d((-1, 0, -1, 0), 0)).
  const padding = sidePadding(rank, { allowNegative: true });
  const args = kind === 'Constant' ? { padding, value: any() } : { padding };
  return defineLayer({
    name,
    framework: 'pytorch',
    category: 'reshaping',
    doc: `Pads the ${rank === 1 ? 'last axis' : `last ${rank} axes`} (PyTorch): ${PAD_DOCS[kind]}; \`padding\` is an int or (left, right${rank > 1 ? ', top, bottom' : ''}${rank > 2 ? ', front, back' : ''}).`,
    args: args as { padding: ArgSpec<[number, number][]> },
    inputRank: rank + 1,
    inputWords: torchInputWords(rank),
    outputShape(input, a, ctx) {
      const [c, ...spatial] = input;
      if (kind === 'Reflection' || kind === 'Circular') {
        spatial.forEach((d, i) => {
          const [b, e] = a.padding[i];
          if (d !== null && (kind === 'Reflection' ? Math.max(b, e) >= d : Math.max(b, e) > d)) {
            throw new ShapeError(`${name}: padding (${b}, ${e}) is too large for an axis of size ${d} in ${inputText(ctx, input)}; PyTorch raises "Padding size should be less than the corresponding input dimension"`, 'padding', [], 'pad-too-large', true);
          }
        });
      }
      const out = padShape(spatial, a.padding);
      out.forEach((d, i) => {
        if (d !== null && d < 0) {
          throw new ShapeError(`${name}: padding (${a.padding[i].join(', ')}) leaves an axis of size ${spatial[i]} with a negative size (${d}) in ${inputText(ctx, input)}; PyTorch raises "start + length exceeds dimension size"`, 'padding', [], 'pad-too-large', true);
        }
      });
      return [c, ...out];
    },
    receptiveField: () => ({ kind: 'identity' }),
    ...(kind === 'Zero' || kind === 'Constant'
      ? {
          train: constantPadTrain((l) => {
            const given = (l.a as { value?: Value }).value;
            const value = kind === 'Zero' ? 0 : given?.k === 'num' ? given.v : undefined;
            if (typeof value !== 'number') return `${name}'s value is not a number ConvLens can read, so it cannot train it`;
            return { amounts: [[0, 0], ...(l.a as unknown as { padding: [number, number][] }).padding], value };
          }),
        }
      : { untrainable: NOT_TRAINABLE_YET }),
  });
}

const PAD_KINDS: PadKind[] = ['Reflection', 'Replication', 'Zero', 'Constant', 'Circular'];
export const TORCH_PADDING: readonly LayerType[] = PAD_KINDS.flatMap((k) => ([1, 2, 3] as SpatialRank[]).map((r) => padLayer(k, r)));

export const TORCH_RESHAPING: readonly LayerType[] = [Flatten, Unflatten, Upsample, UpsamplingNearest2d, UpsamplingBilinear2d, PixelShuffle, PixelUnshuffle, ChannelShuffle, ...TORCH_PADDING];
