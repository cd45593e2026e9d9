/**
 * The layer registry: the only list of supported layer types. Adding a layer means defining it
 * in its family's file and naming it here; hover, hints, diagnostics, the summary and the
 * training graph builders all read the definitions.
 */
import type { FrameworkName, LayerType } from './define';
import { TORCH_LAYERS } from './torch/index';
import { Activation, ELU, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU } from './activation';
import {
  RandomBrightness,
  RandomColorDegeneration,
  RandomColorJitter,
  RandomContrast,
  RandomCrop,
  RandomElasticTransform,
  RandomErasing,
  RandomFlip,
  RandomGaussianBlur,
  RandomGrayscale,
  RandomHeight,
  RandomHue,
  RandomInvert,
  RandomPerspective,
  RandomPosterization,
  RandomRotation,
  RandomSaturation,
  RandomSharpness,
  RandomShear,
  RandomTranslation,
  RandomWidth,
  RandomZoom,
} from './augmentation';
import {
  Conv1D,
  Conv1DTranspose,
  Conv2D,
  Conv2DTranspose,
  Conv3D,
  Conv3DTranspose,
  DepthwiseConv1D,
  DepthwiseConv2D,
  SeparableConv1D,
  SeparableConv2D,
} from './conv';
import { Embedding, Identity, Masking } from './core';
import { Dense } from './dense';
import { InputLayer } from './input';
import { Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Stack, Subtract } from './merge';
import { Bidirectional, TimeDistributed } from './wrappers';
import { MultiHeadAttention } from './attention';
import { ConvLSTM1D, ConvLSTM2D, ConvLSTM3D, GRU, LSTM, SimpleRNN } from './recurrent';
import { DepthToSpace, ExpandDims, ExtractPatches, GetItem, Reduce, ResizeImages, ScalarOp, SpaceToDepth, Squeeze, Transpose, UnaryOp } from './ops';
import { LocallyConnected1D, LocallyConnected2D } from './locallyConnected';
import { BatchNormalization, GroupNormalization, LayerNormalization, RMSNormalization, UnitNormalization } from './normalization';
import {
  AdaptiveAveragePooling1D,
  AdaptiveAveragePooling2D,
  AdaptiveAveragePooling3D,
  AdaptiveMaxPooling1D,
  AdaptiveMaxPooling2D,
  AdaptiveMaxPooling3D,
  AveragePooling1D,
  AveragePooling2D,
  AveragePooling3D,
  GlobalAveragePooling1D,
  GlobalAveragePooling2D,
  GlobalAveragePooling3D,
  GlobalMaxPooling1D,
  GlobalMaxPooling2D,
  GlobalMaxPooling3D,
  MaxPooling1D,
  MaxPooling2D,
  MaxPooling3D,
} from './pooling';
import { CenterCrop, Normalization, Rescaling, Resizing } from './preprocessing';
import {
  ActivityRegularization,
  AlphaDropout,
  Dropout,
  GaussianDropout,
  GaussianNoise,
  SpatialDropout1D,
  SpatialDropout2D,
  SpatialDropout3D,
} from './regularization';
import {
  Cropping1D,
  Cropping2D,
  Cropping3D,
  Flatten,
  Permute,
  RepeatVector,
  Reshape,
  UpSampling1D,
  UpSampling2D,
  UpSampling3D,
  ZeroPadding1D,
  ZeroPadding2D,
  ZeroPadding3D,
} from './reshaping';

export const LAYERS: readonly LayerType[] = [
  InputLayer,
  Conv1D, Conv2D, Conv3D, Conv1DTranspose, Conv2DTranspose, Conv3DTranspose,
  DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D, SeparableConv2D, LocallyConnected1D, LocallyConnected2D,
  MaxPooling1D, MaxPooling2D, MaxPooling3D, AveragePooling1D, AveragePooling2D, AveragePooling3D,
  GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D, GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D,
  AdaptiveMaxPooling1D, AdaptiveMaxPooling2D, AdaptiveMaxPooling3D, AdaptiveAveragePooling1D, AdaptiveAveragePooling2D, AdaptiveAveragePooling3D,
  Dense, Embedding, Identity, Masking,
  BatchNormalization, LayerNormalization, GroupNormalization, UnitNormalization, RMSNormalization,
  Activation, ReLU, LeakyReLU, ELU, Softmax, PReLU, ThresholdedReLU,
  Dropout, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D, GaussianNoise, GaussianDropout, AlphaDropout, ActivityRegularization,
  Flatten, Reshape, Permute, RepeatVector,
  ZeroPadding1D, ZeroPadding2D, ZeroPadding3D, Cropping1D, Cropping2D, Cropping3D, UpSampling1D, UpSampling2D, UpSampling3D,
  Rescaling, Resizing, Normalization, CenterCrop,
  RandomFlip, RandomRotation, RandomZoom, RandomTranslation, RandomContrast, RandomBrightness, RandomCrop, RandomHeight, RandomWidth,
  RandomGrayscale, RandomHue, RandomSaturation, RandomSharpness, RandomShear, RandomColorJitter, RandomInvert, RandomPosterization,
  RandomErasing, RandomGaussianBlur, RandomPerspective, RandomColorDegeneration, RandomElasticTransform,
  Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot, Stack,
  ScalarOp, UnaryOp, DepthToSpace, SpaceToDepth, ResizeImages, Reduce, ExpandDims, Squeeze, Transpose, GetItem, ExtractPatches,
  SimpleRNN, GRU, LSTM, ConvLSTM1D, ConvLSTM2D, ConvLSTM3D, TimeDistributed, Bidirectional, MultiHeadAttention,
  // PyTorch's modules and tensor operations (torch/): names of their own, looked up for PyTorch code only.
  ...TORCH_LAYERS,
];

/** Class names per framework: Keras' `ReLU` and PyTorch's `ReLU` are different layers. */
const byName: Record<FrameworkName, Map<string, LayerType>> = { keras: new Map(), pytorch: new Map() };
for (const def of LAYERS) {
  const names = byName[def.framework];
  names.set(def.name, def);
  for (const alias of def.aliases) names.set(alias, def);
}

/** The definition for a class name or alias of a framework (`Conv2D`, `Convolution2D`; PyTorch's `Conv2d`), if supported. */
export function findLayer(className: string, framework: FrameworkName = 'keras'): LayerType | undefined {
  return byName[framework].get(className);
}

/** Every class name and alias the registry knows for a framework. */
export function layerNames(framework: FrameworkName = 'keras'): string[] {
  return [...byName[framework].keys()];
}

/**
 * Keras layer classes ConvLens recognises but does not analyse yet: reported as information,
 * never guessed at.
 */
export const KNOWN_UNSUPPORTED = new Set([
  'Attention', 'AdditiveAttention', 'Lambda',
  'TFSMLayer', 'EinsumDense', 'SpectralNormalization',
  'AutoContrast', 'Equalization', 'Solarization', 'MixUp', 'CutMix', 'RandAugment', 'AugMix',
]);

/**
 * Keyword arguments every Keras layer accepts. The input ones declare the model input when
 * given to the first layer.
 */
export const BASE_ARGS = new Set([
  'name', 'dtype', 'trainable', 'input_shape', 'batch_input_shape', 'batch_size', 'input_dim', 'input_length',
  'autocast', 'weights', 'dynamic', 'dtype_policy',
]);

/** Keras' `to_snake_case`, which names layers: MaxPooling2D → max_pooling2d, LeakyReLU → leaky_re_lu. */
export function kerasSnakeCase(name: string): string {
  const cached = snakeCache.get(name);
  if (cached !== undefined) return cached;
  const snake = toSnake(name);
  if (snakeCache.size < 4096) snakeCache.set(name, snake);
  return snake;
}

const snakeCache = new Map<string, string>();

function toSnake(name: string): string {
  let s = name.replace(/\W+/g, '');
  s = s.replace(/(.)([A-Z][a-z]+)/g, '$1_$2');
  s = s.replace(/([a-z])([A-Z])/g, '$1_$2');
  return s.toLowerCase();
}

export type { LayerDef, LayerType, BoundLayer, WeightSpec, ReceptiveFieldStep, FixHint, FrameworkName } from './define';
