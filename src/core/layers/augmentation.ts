/**
 * Keras' random image augmentation layers. Each changes images only while training and passes
 * them through unchanged at inference (Keras' `training=False`), so they never change the
 * analysis but for RandomCrop (and tf.keras 2's RandomHeight / RandomWidth), which change the
 * output size. While training, RandomFlip is reproduced; the others pass images through
 * unchanged and the trainer says so before it starts.
 */
import type { GraphBuilder } from '../onnx/graphBuilder';
import { refuseChannelsFirst } from '../onnx/layout';
import { any, choice, dataFormat, factor, float, int, optional, type ArgSpecs } from './args';
import { defineLayer, type LayerTrain, type LayerType } from './define';
import { joinChannels, splitChannels } from '../shape';

const FILL_MODES = ['reflect', 'wrap', 'constant', 'nearest'] as const;
const INTERPOLATIONS = ['nearest', 'bilinear'] as const;

/** Training emitters of an augmentation ConvLens does not reproduce: the identity, with a note before training. */
function passThrough<A extends ArgSpecs>(what: string): LayerTrain<A> {
  return {
    note: () =>
      `passes images through unchanged while training: ConvLens does not reproduce Keras' random ${what} yet, so the model sees less varied data than under Keras (inference is the same: Keras does not augment there either)`,
    forward: (_g, _l, x) => ({ y: x }),
    backward: (_g, _l, b) => ({ dx: b.needDx ? b.dy : undefined, grads: {} }),
  };
}

/** A shape-preserving image augmentation layer. */
function augmentation<A extends ArgSpecs>(name: string, doc: string, args: A, what: string): LayerType {
  return defineLayer({
    name,
    category: 'preprocessing',
    doc,
    args,
    extraArgs: ['seed', 'data_format', 'value_range', 'bounding_box_format'],
    inputRank: 3,
    inputWords: '(height, width, channels)',
    outputShape: (input) => input,
    receptiveField: () => ({ kind: 'identity' }),
    train: passThrough<A>(what),
  });
}

/** `x` reversed along ONNX axis `axis` of static size `size`. */
const reverse = (g: GraphBuilder, x: string, axis: number, size: number): string => g.slice(x, [-1], [-(size + 1)], [axis], [-1]);

const flipArgs = { mode: choice(['horizontal', 'vertical', 'horizontal_and_vertical'], 'horizontal_and_vertical'), seed: any(), data_format: dataFormat() };

export const RandomFlip = defineLayer({
  name: 'RandomFlip',
  category: 'preprocessing',
  doc: "While training, flips each image left-right and/or top-bottom (`mode`) with probability ½ (Keras 3 flips both axes of an image together in 'horizontal_and_vertical'); does nothing at inference.",
  args: flipArgs,
  inputRank: 3,
  inputWords: '(height, width, channels)',
  outputShape: (input) => input,
  receptiveField: () => ({ kind: 'identity' }),
  // Keras 3: flip = (u ≤ ½) per image, u uniform in [0, 1); y = flip ? reverse(x) : x over the mode's axes.
  train: {
    refuse: (l) => refuseChannelsFirst(l.a),
    forward(g, l, x, mode) {
      if (mode !== 'train') return { y: x };
      const u = g.randomUniformLike(g.reduceMean(x, [1, 2, 3], true), 0, 1, l.seed);
      const flip = g.cast(g.node('Not', [g.greater(u, g.scalar(0.5))])[0], 'float32');
      return { y: flipWhere(g, x, flip, l.a.mode, l.input), saved: { mask: flip } };
    },
    backward: (g, l, b) => ({ dx: b.needDx ? flipWhere(g, b.dy, b.fwd.saved!.mask!, l.a.mode, l.input) : undefined, grads: {} }),
  },
});

/** x where `flip` (N, 1, 1, 1) is 0, x reversed over the mode's axes where it is 1; its own adjoint. */
function flipWhere(g: GraphBuilder, x: string, flip: string, mode: string, input: readonly number[]): string {
  let flipped = x;
  if (mode !== 'vertical') flipped = reverse(g, flipped, 3, input[1]);
  if (mode !== 'horizontal') flipped = reverse(g, flipped, 2, input[0]);
  return g.add(x, g.mul(flip, g.sub(flipped, x)));
}

export const RandomRotation = augmentation(
  'RandomRotation',
  'While training, rotates each image by a random angle of up to `factor` × 2π, filling the corners per `fill_mode`; does nothing at inference.',
  {
    factor: factor({ min: -1, max: 1 }),
    fill_mode: choice(FILL_MODES, 'reflect'),
    interpolation: choice(INTERPOLATIONS, 'bilinear'),
    seed: any(),
    fill_value: float({ default: 0 }),
    data_format: dataFormat(),
  },
  'rotations',
);

export const RandomZoom = augmentation(
  'RandomZoom',
  'While training, zooms each image in or out by a random fraction (`height_factor`, `width_factor`; negative zooms in), filling per `fill_mode`; does nothing at inference.',
  {
    height_factor: factor({ min: -1, max: 1, minExclusive: true }),
    width_factor: optional(factor({ min: -1, max: 1, minExclusive: true })),
    fill_mode: choice(FILL_MODES, 'reflect'),
    interpolation: choice(INTERPOLATIONS, 'bilinear'),
    seed: any(),
    fill_value: float({ default: 0 }),
    data_format: dataFormat(),
  },
  'zooms',
);

export const RandomTranslation = augmentation(
  'RandomTranslation',
  'While training, shifts each image by a random fraction of its height and width, filling per `fill_mode`; does nothing at inference.',
  {
    height_factor: factor({ min: -1, max: 1, minExclusive: true }),
    width_factor: factor({ min: -1, max: 1, minExclusive: true }),
    fill_mode: choice(FILL_MODES, 'reflect'),
    interpolation: choice(INTERPOLATIONS, 'bilinear'),
    seed: any(),
    fill_value: float({ default: 0 }),
    data_format: dataFormat(),
  },
  'translations',
);

export const RandomContrast = augmentation(
  'RandomContrast',
  'While training, scales each image channel\'s deviation from its mean by a random factor in [1 − lower, 1 + upper] and clips to `value_range`; does nothing at inference.',
  { factor: factor({ min: 0, max: 1 }), value_range: any(), seed: any() },
  'contrast changes',
);

export const RandomBrightness = augmentation(
  'RandomBrightness',
  'While training, adds a random fraction (`factor`) of `value_range` to each image and clips to it; does nothing at inference.',
  { factor: factor({ min: -1, max: 1 }), value_range: any(), seed: any() },
  'brightness changes',
);

/** Keras 3's other random image layers: shape-preserving, identity at inference; arguments in Keras' order. */
export const RandomGrayscale = augmentation('RandomGrayscale', 'While training, turns a random fraction `factor` of the images to grayscale (keeping the channel count); does nothing at inference.', { factor: float({ min: 0, max: 1, default: 0.5 }), data_format: dataFormat(), seed: any() }, 'grayscale conversions');
export const RandomHue = augmentation('RandomHue', 'While training, shifts the hue of each image by a random amount; does nothing at inference.', { factor: any(), value_range: any(), data_format: dataFormat(), seed: any() }, 'hue shifts');
export const RandomSaturation = augmentation('RandomSaturation', 'While training, changes the saturation of each image by a random amount; does nothing at inference.', { factor: any(), value_range: any(), data_format: dataFormat(), seed: any() }, 'saturation changes');
export const RandomSharpness = augmentation('RandomSharpness', 'While training, sharpens or blurs each image by a random amount; does nothing at inference.', { factor: any(), value_range: any(), data_format: dataFormat(), seed: any() }, 'sharpness changes');
export const RandomShear = augmentation(
  'RandomShear',
  'While training, shears each image by a random amount along x and y, filling per `fill_mode`; does nothing at inference.',
  { x_factor: any(), y_factor: any(), interpolation: choice(INTERPOLATIONS, 'bilinear'), fill_mode: choice(FILL_MODES, 'reflect'), fill_value: float({ default: 0 }), data_format: dataFormat(), seed: any() },
  'shears',
);
export const RandomColorJitter = augmentation(
  'RandomColorJitter',
  'While training, changes brightness, contrast, saturation and hue of each image by random amounts; does nothing at inference.',
  { value_range: any(), brightness_factor: any(), contrast_factor: any(), saturation_factor: any(), hue_factor: any(), seed: any(), data_format: dataFormat() },
  'colour jitter',
);
export const RandomInvert = augmentation('RandomInvert', 'While training, inverts a random fraction `factor` of the images within `value_range`; does nothing at inference.', { factor: any(), value_range: any(), seed: any(), data_format: dataFormat() }, 'inversions');
export const RandomPosterization = augmentation('RandomPosterization', 'While training, reduces the bits per colour channel of each image to a random number up to `factor`; does nothing at inference.', { factor: any(), value_range: any(), data_format: dataFormat(), seed: any() }, 'posterization');
export const RandomErasing = augmentation('RandomErasing', 'While training, erases a random rectangle of some images (fills it with `fill_value` or noise); does nothing at inference.', { factor: any(), scale: any(), fill_value: any(), value_range: any(), seed: any(), data_format: dataFormat() }, 'erasing');
export const RandomGaussianBlur = augmentation('RandomGaussianBlur', 'While training, blurs some images with a Gaussian kernel of random width; does nothing at inference.', { factor: any(), kernel_size: any(), sigma: any(), value_range: any(), data_format: dataFormat(), seed: any() }, 'blurs');
export const RandomPerspective = augmentation('RandomPerspective', 'While training, applies a random perspective warp to some images; does nothing at inference.', { factor: any(), scale: any(), interpolation: choice(INTERPOLATIONS, 'bilinear'), fill_value: float({ default: 0 }), seed: any(), data_format: dataFormat() }, 'perspective warps');
export const RandomColorDegeneration = augmentation('RandomColorDegeneration', 'While training, blends each image with its grayscale version by a random amount; does nothing at inference.', { factor: any(), value_range: any(), data_format: dataFormat(), seed: any() }, 'colour degeneration');
export const RandomElasticTransform = augmentation(
  'RandomElasticTransform',
  'While training, applies a random elastic deformation to some images; does nothing at inference.',
  { factor: any(), scale: any(), interpolation: choice(INTERPOLATIONS, 'bilinear'), fill_mode: choice(FILL_MODES, 'reflect'), fill_value: float({ default: 0 }), value_range: any(), seed: any(), data_format: dataFormat() },
  'elastic deformations',
);

export const RandomCrop = defineLayer({
  name: 'RandomCrop',
  category: 'preprocessing',
  doc: 'Crops a random height × width window of each batch while training. At inference tf.keras 2 centre-crops (resizing a smaller image); Keras 3 returns images uncropped (keras-team/keras#21868) although its summary shows height × width.',
  args: { height: int({ min: 1 }), width: int({ min: 1 }), seed: any(), data_format: dataFormat() },
  inputRank: 3,
  inputWords: '(height, width, channels)',
  outputShape(input, a) {
    const { channels } = splitChannels(input, a.data_format);
    return joinChannels([a.height, a.width], channels, a.data_format);
  },
  receptiveField: () => ({ kind: 'identity' }),
  untrainable: 'RandomCrop is not trainable yet: Keras crops at a random place while training and differently at inference (Keras 3 does not crop there); use CenterCrop, or crop the data beforehand',
});

/** tf.keras 2's RandomHeight / RandomWidth: the resized axis has no fixed size (None). */
function randomSize(axis: 'height' | 'width') {
  const name = axis === 'height' ? 'RandomHeight' : 'RandomWidth';
  return defineLayer({
    name,
    category: 'preprocessing',
    doc: `tf.keras 2 (removed in Keras 3): while training, resizes the ${axis} of each batch by a random factor, so the output ${axis} is None; does nothing at inference.`,
    args: { factor: factor({ min: -1 }), interpolation: choice(['bilinear', 'nearest', 'bicubic', 'area', 'lanczos3', 'lanczos5', 'gaussian', 'mitchellcubic'], 'bilinear'), seed: any() },
    inputRank: 3,
    inputWords: '(height, width, channels)',
    outputShape: (input) => (axis === 'height' ? [null, input[1], input[2]] : [input[0], null, input[2]]),
    receptiveField: () => ({ kind: 'global' }),
    untrainable: `${name} gives batches of random ${axis}s, which ConvLens cannot train`,
  });
}

export const RandomHeight = randomSize('height');
export const RandomWidth = randomSize('width');
