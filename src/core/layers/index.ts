/**
 * The layer registry: the only list of supported layer types. Adding a layer means defining it
 * in its family's file and naming it here; hover, hints, diagnostics, the summary and the
 * training graph builders all read the definitions.
 */
import type { LayerType } from './define';
import { Activation, ELU, LeakyReLU, PReLU, ReLU, Softmax } from './activation';
import { Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D } from './conv';
import { Dense } from './dense';
import { InputLayer } from './input';
import { Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract } from './merge';
import { ScalarOp } from './ops';
import { BatchNormalization, LayerNormalization } from './normalization';
import {
  AveragePooling1D,
  AveragePooling2D,
  GlobalAveragePooling1D,
  GlobalAveragePooling2D,
  GlobalMaxPooling1D,
  GlobalMaxPooling2D,
  MaxPooling1D,
  MaxPooling2D,
} from './pooling';
import { Rescaling, Resizing } from './preprocessing';
import { Dropout, GaussianDropout, GaussianNoise, SpatialDropout1D, SpatialDropout2D } from './regularization';
import {
  Cropping1D,
  Cropping2D,
  Flatten,
  Reshape,
  UpSampling1D,
  UpSampling2D,
  ZeroPadding1D,
  ZeroPadding2D,
} from './reshaping';

export const LAYERS: readonly LayerType[] = [
  InputLayer,
  Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D,
  MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D,
  GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D,
  Dense,
  BatchNormalization, LayerNormalization,
  Activation, ReLU, LeakyReLU, ELU, Softmax, PReLU,
  Dropout, SpatialDropout1D, SpatialDropout2D, GaussianNoise, GaussianDropout,
  Flatten, Reshape, ZeroPadding1D, ZeroPadding2D, Cropping1D, Cropping2D, UpSampling1D, UpSampling2D,
  Rescaling, Resizing,
  Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot,
  ScalarOp,
];

const byName = new Map<string, LayerType>();
for (const def of LAYERS) {
  byName.set(def.name, def);
  for (const alias of def.aliases) byName.set(alias, def);
}

/** The definition for a Keras class name or alias (`Conv2D`, `Convolution2D`), if supported. */
export function findLayer(className: string): LayerType | undefined {
  return byName.get(className);
}

/** Every class name and alias the registry knows. */
export function layerNames(): string[] {
  return [...byName.keys()];
}

/**
 * Keras layer classes ConvLens recognises but does not analyse yet: reported as information,
 * never guessed at.
 */
export const KNOWN_UNSUPPORTED = new Set([
  'Conv3D', 'Conv3DTranspose', 'Conv1DTranspose', 'SeparableConv1D', 'DepthwiseConv1D', 'MaxPooling3D', 'AveragePooling3D',
  'GlobalMaxPooling3D', 'GlobalAveragePooling3D', 'UpSampling3D', 'ZeroPadding3D', 'Cropping3D', 'SpatialDropout3D',
  'LSTM', 'GRU', 'SimpleRNN', 'Bidirectional', 'TimeDistributed', 'ConvLSTM2D', 'Embedding', 'MultiHeadAttention',
  'Attention', 'Lambda',
  'Permute', 'RepeatVector', 'Masking', 'LocallyConnected2D', 'LocallyConnected1D', 'GroupNormalization',
  'UnitNormalization', 'Normalization', 'RandomFlip', 'RandomRotation', 'RandomZoom', 'RandomCrop', 'RandomTranslation',
  'RandomContrast', 'CenterCrop', 'ThresholdedReLU', 'ActivityRegularization', 'AlphaDropout', 'Identity', 'TFSMLayer',
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
  let s = name.replace(/\W+/g, '');
  s = s.replace(/(.)([A-Z][a-z]+)/g, '$1_$2');
  s = s.replace(/([a-z])([A-Z])/g, '$1_$2');
  return s.toLowerCase();
}

export type { LayerDef, LayerType, BoundLayer, WeightSpec, ReceptiveFieldStep, FixHint } from './define';
