// Finite-difference checks of the training graphs AS COMPILED FROM MODEL FILES: each case is a
// small Keras file per layer family; the compiled training step exposes its gradients, which are
// compared with central differences of an independent float64 forward pass of the same model in
// Keras layout (test/unit/trainReference.ts). This checks the wiring the recipes' own tests do
// not: layouts, kernel transposes, flatten order, activation fusion, ReLU folding, loss heads.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { compileTrainGraph, GRAPH_NAMES } from '../../src/core/train/compile';
import { planTraining, planWeights, type TrainingPlan } from '../../src/core/train/plan';
import { Random } from '../../src/core/train/random';
import { DEVICE_LABEL, planDevice, type Device } from '../../src/core/train/device';
import { GraphBuilder } from '../../src/core/onnx/graphBuilder';
import { deviceFacts, deviceSessionOptions, openOnDevice } from '../../src/train/devices';
import { nchwcBlockSize } from '../../src/train/trainSession';
import { analyze } from './helpers';
import { kerasLoss, modelForward, type Draws } from './trainReference';

const THRESHOLD = 1e-3;
const summary: string[] = [];

interface Case {
  label: string;
  input: string;
  layers: string[];
  /** A whole model file (functional models); `input` and `layers` are then only for the label. */
  text?: string;
  loss: string;
  classes: number;
  batch?: number;
  seed?: number;
  /** Compile with onnxruntime's NCHWc kernels (the block size this machine's onnxruntime uses). */
  nchwc?: boolean;
  /**
   * Scale of the random weights (default 1: uniform in ±0.5). Wide layers need less, or the
   * softmax saturates below Keras' 1e-7 probability clip, where the reference's clipped loss and
   * the fused logits loss part ways.
   */
  weightScale?: number;
}

const trunk = (k: number, act: string) => ["Conv2D(2, 3, activation='relu')", 'Flatten()', `Dense(${k}, activation='${act}')`];

const cases: Case[] = [
  {
    label: 'conv valid+relu → maxpool (mask, ReLU fold) ×2 → flatten → dense relu → dense softmax; categorical CE (fused)',
    input: '(8, 8, 1)',
    layers: ["Conv2D(3, (3, 3), activation='relu')", 'MaxPooling2D((2, 2))', "Conv2D(4, 2, activation='relu')", 'MaxPooling2D()', 'Flatten()', "Dense(5, activation='relu')", "Dense(3, activation='softmax')"],
    loss: 'categorical_crossentropy',
    classes: 3,
  },
  {
    label: "Conv2D strides 2 'same' tanh, dilation 2 + groups 2 without bias, elu",
    input: '(9, 9, 4)',
    layers: ["Conv2D(4, 3, strides=2, padding='same', activation='tanh')", "Conv2D(4, (2, 3), dilation_rate=2, groups=2, use_bias=False, activation='elu')", 'Flatten()', "Dense(3, activation='softmax')"],
    loss: 'categorical_crossentropy',
    classes: 3,
  },
  {
    label: "Conv1D causal dilation 2, MaxPooling1D, Conv1D strides 2 'same', AveragePooling1D 'same', GlobalAveragePooling1D; sparse CE",
    input: '(12, 3)',
    layers: ["Conv1D(4, 3, padding='causal', dilation_rate=2, activation='relu')", 'MaxPooling1D(2)', "Conv1D(4, 2, strides=2, padding='same', activation='sigmoid')", "AveragePooling1D(2, padding='same')", 'GlobalAveragePooling1D()', "Dense(3, activation='softmax')"],
    loss: 'sparse_categorical_crossentropy',
    classes: 3,
  },
  {
    label: "DepthwiseConv2D multiplier 2 'same', SeparableConv2D strides 2, GlobalMaxPooling2D",
    input: '(7, 7, 2)',
    layers: ["DepthwiseConv2D(3, depth_multiplier=2, padding='same', activation='relu')", "SeparableConv2D(3, 3, strides=2, depth_multiplier=2, activation='relu')", 'GlobalMaxPooling2D()', "Dense(3, activation='softmax')"],
    loss: 'categorical_crossentropy',
    classes: 3,
  },
  {
    label: "pooling: overlapping MaxPooling2D (scatter, ReLU fold), AveragePooling2D 'same' s1, MaxPooling2D 'same' odd, GlobalAveragePooling2D keepdims",
    input: '(9, 9, 2)',
    layers: ["Conv2D(3, 2, activation='relu')", 'MaxPooling2D(3, strides=2)', "AveragePooling2D(2, strides=1, padding='same')", "MaxPooling2D(2, padding='same')", 'GlobalAveragePooling2D(keepdims=True)', 'Flatten()', "Dense(3, activation='softmax')"],
    loss: 'categorical_crossentropy',
    classes: 3,
  },
  {
    label: 'BatchNormalization (conv and dense), Dropout, SpatialDropout2D, GaussianNoise, GaussianDropout (training mode)',
    input: '(6, 6, 2)',
    layers: ['Conv2D(4, 3, use_bias=False)', 'BatchNormalization()', "Activation('relu')", 'SpatialDropout2D(0.3)', 'Flatten()', 'Dense(6)', 'BatchNormalization(momentum=0.9, epsilon=0.01)', "Activation('relu')", 'Dropout(0.4)', 'GaussianNoise(0.1)', 'GaussianDropout(0.2)', "Dense(3, activation='softmax')"],
    loss: 'categorical_crossentropy',
    classes: 3,
    batch: 6,
  },
  {
    label: 'activation layers and arguments: ReLU(max, slope, threshold), LeakyReLU, ELU, PReLU, selu, softplus, swish, relu6, leaky_relu, sigmoid; final Softmax layer (fused CE)',
    input: '(10,)',
    layers: [
      'Dense(6)', 'ReLU(max_value=1.5, negative_slope=0.1, threshold=0.2)', 'Dense(6)', 'LeakyReLU(negative_slope=0.2)', 'Dense(6)', 'ELU(alpha=0.7)', 'Dense(6)', 'PReLU()',
      "Dense(6, activation='selu')", "Dense(6, activation='softplus')", "Dense(6, activation='swish')", "Dense(6, activation='relu6')", "Dense(6, activation='leaky_relu')",
      "Dense(6, activation='sigmoid')", 'Dense(3)', 'Softmax()',
    ],
    loss: 'categorical_crossentropy',
    classes: 3,
  },
  {
    label: 'PReLU shared_axes, ZeroPadding2D/Cropping2D asymmetric, UpSampling2D, Reshape, Conv1D, ZeroPadding1D, Cropping1D, UpSampling1D',
    input: '(4, 4, 2)',
    layers: [
      "Conv2D(3, 3, padding='same')", 'PReLU(shared_axes=[1, 2])', 'ZeroPadding2D(((1, 0), (2, 1)))', 'Cropping2D(((0, 1), (1, 1)))', 'UpSampling2D(2)', 'Reshape((20, 12))',
      'Conv1D(2, 3)', 'ZeroPadding1D(2)', 'Cropping1D((1, 3))', 'UpSampling1D(2)', 'Flatten()', "Dense(3, activation='softmax')",
    ],
    loss: 'categorical_crossentropy',
    classes: 3,
  },
  {
    label: 'Rescaling, frozen Conv2D (trainable=False), LayerNormalization (conv and dense)',
    input: '(5, 5, 2)',
    layers: ['Rescaling(0.5, offset=0.1)', 'Conv2D(3, 2, trainable=False)', 'LayerNormalization()', 'Flatten()', "Dense(4, activation='tanh')", 'LayerNormalization()', "Dense(3, activation='softmax')"],
    loss: 'categorical_crossentropy',
    classes: 3,
  },
  {
    label: "3-D: Conv3D strides 2 'same', ZeroPadding3D, MaxPooling3D (mask, partial), UpSampling3D, Cropping3D, AveragePooling3D 'same' s1, SpatialDropout3D, Conv3DTranspose s2, GlobalMaxPooling3D",
    input: '(5, 6, 5, 2)',
    layers: [
      "Conv3D(3, 3, strides=2, padding='same', activation='relu')", 'ZeroPadding3D(((1, 0), (0, 1), (1, 1)))', 'MaxPooling3D(2)', 'UpSampling3D((1, 2, 1))',
      'Cropping3D(((0, 1), (1, 1), (0, 0)))', "AveragePooling3D(2, strides=1, padding='same')", 'SpatialDropout3D(0.3)', "Conv3DTranspose(2, 2, strides=2, activation='tanh')",
      'GlobalMaxPooling3D()', "Dense(3, activation='softmax')",
    ],
    loss: 'categorical_crossentropy',
    classes: 3,
  },
  {
    label: "3-D: Conv3D dilation 2 without bias, overlapping MaxPooling3D (scatter), Conv3DTranspose 'same' s2 output_padding 1, GlobalAveragePooling3D keepdims",
    input: '(7, 6, 6, 2)',
    layers: [
      "Conv3D(2, (2, 3, 2), dilation_rate=2, use_bias=False, activation='relu')", 'MaxPooling3D(2, strides=1)',
      "Conv3DTranspose(3, 3, strides=2, padding='same', output_padding=1)", 'GlobalAveragePooling3D(keepdims=True)', 'Flatten()', "Dense(3, activation='softmax')",
    ],
    loss: 'categorical_crossentropy',
    classes: 3,
  },
  {
    label: "3-D with 16 input channels: Conv3D 'same' (dw by the merged-axis 'gemm' Conv), Conv3D strides (1, 2, 1) and Conv3D dilation 2 from 16 channels (rank-4 'gemm' declined)",
    input: '(4, 5, 4, 16)',
    layers: ["Conv3D(16, 3, padding='same', activation='relu')", "Conv3D(16, 2, strides=(1, 2, 1), activation='relu')", "Conv3D(2, 2, dilation_rate=(1, 1, 2), padding='same')", 'Flatten()', "Dense(3, activation='softmax')"],
    loss: 'categorical_crossentropy',
    classes: 3,
    weightScale: 0.4,
  },
  {
    label: "Conv2DTranspose: 'same' s2, valid (2, 3) s(2, 1), dilation 2, 4×4 'same' s2 output_padding 1",
    input: '(3, 2, 2)',
    layers: [
      "Conv2DTranspose(3, 3, strides=2, padding='same', activation='relu')", 'Conv2DTranspose(2, (2, 3), strides=(2, 1))', "Conv2DTranspose(2, 3, dilation_rate=2, activation='tanh')",
      "Conv2DTranspose(2, 4, strides=2, padding='same', output_padding=1)", 'GlobalAveragePooling2D()', "Dense(3, activation='softmax')",
    ],
    loss: 'categorical_crossentropy',
    classes: 3,
  },
  {
    label: "Conv1DTranspose: valid s3, 'same' s2 output_padding 1 without bias",
    input: '(5, 3)',
    layers: ["Conv1DTranspose(3, 2, strides=3, activation='relu')", "Conv1DTranspose(2, 3, strides=2, padding='same', output_padding=1, use_bias=False)", 'Flatten()', "Dense(3, activation='softmax')"],
    loss: 'categorical_crossentropy',
    classes: 3,
  },
  {
    label: "DepthwiseConv1D multiplier 2 'same' s2, SeparableConv1D dilation 2, LocallyConnected2D s(2, 1), LocallyConnected1D without bias (implementation 1)",
    input: '(6, 5, 2)',
    layers: [
      "LocallyConnected2D(3, (2, 3), strides=(2, 1), activation='relu')", 'Reshape((-1, 3))', "DepthwiseConv1D(3, strides=2, padding='same', depth_multiplier=2, activation='tanh')",
      "SeparableConv1D(4, 2, dilation_rate=2, depth_multiplier=2)", 'LocallyConnected1D(3, 2, use_bias=False)', 'Flatten()', "Dense(3, activation='softmax')",
    ],
    loss: 'categorical_crossentropy',
    classes: 3,
  },
  {
    label: 'UnitNormalization (two spatial axes; channels), GroupNormalization (groups 2, instance without center, on a vector), Normalization(mean=, variance=) per channel and inverted scalar, ThresholdedReLU',
    input: '(4, 4, 4)',
    layers: [
      'Conv2D(4, 2)', 'UnitNormalization(axis=(1, 2))', 'GroupNormalization(groups=2)', 'Normalization(mean=[0.1, -0.2, 0.3, 0.0], variance=[1.0, 2.0, 0.5, 4.0])', 'UnitNormalization()',
      'GroupNormalization(-1, center=False)', 'ThresholdedReLU(theta=0.1)', 'Normalization(axis=None, mean=0.5, variance=2.0, invert=True)', 'Flatten()', 'Dense(6)', 'GroupNormalization(2)', "Dense(3, activation='softmax')",
    ],
    loss: 'categorical_crossentropy',
    classes: 3,
  },
  {
    label: 'Permute, RepeatVector, Identity, AlphaDropout, ActivityRegularization (no penalty)',
    input: '(3, 4, 2)',
    layers: [
      'Permute((2, 3, 1))', "Conv2D(3, 2, activation='relu')", 'Permute((3, 1, 2))', 'Flatten()', 'Identity()', 'Dense(5)', 'RepeatVector(3)', 'Conv1D(2, 2)', 'AlphaDropout(0.2)',
      'ActivityRegularization()', 'Flatten()', "Dense(3, activation='softmax')",
    ],
    loss: 'categorical_crossentropy',
    classes: 3,
    batch: 6,
  },
  {
    label: "augmentation in training mode: RandomFlip (both axes, then 'horizontal'), RandomRotation/RandomZoom/RandomContrast passed through, CenterCrop",
    input: '(5, 6, 2)',
    layers: [
      'RandomFlip()', 'RandomRotation(0.2)', 'RandomZoom(0.1)', 'RandomContrast(0.3)', "Conv2D(3, 2, activation='relu')", "RandomFlip('horizontal')", 'CenterCrop(3, 4)', 'Flatten()',
      "Dense(3, activation='softmax')",
    ],
    loss: 'categorical_crossentropy',
    classes: 3,
    batch: 8,
  },
  {
    label: 'adaptive pooling with even windows (AdaptiveMaxPooling2D tiling, AdaptiveAveragePooling3D and 1D), RMSNormalization (channels and on a vector)',
    input: '(6, 4, 2)',
    layers: [
      "Conv2D(3, 1, activation='relu')", 'AdaptiveMaxPooling2D((3, 2))', 'RMSNormalization()', 'Reshape((6, 1, 1, 3))', 'AdaptiveAveragePooling3D((3, 1, 1))', 'Reshape((3, 3))',
      'AdaptiveAveragePooling1D(1)', 'Flatten()', 'Dense(4)', 'RMSNormalization(epsilon=0.01)', "Dense(3, activation='softmax')",
    ],
    loss: 'categorical_crossentropy',
    classes: 3,
  },
  { label: 'loss: categorical CE on probabilities (sigmoid outputs, not fused)', input: '(5, 5, 1)', layers: trunk(3, 'sigmoid'), loss: 'categorical_crossentropy', classes: 3 },
  { label: 'loss: binary CE fused (one sigmoid output)', input: '(5, 5, 1)', layers: trunk(1, 'sigmoid'), loss: 'binary_crossentropy', classes: 2 },
  { label: 'loss: binary CE on probabilities (softmax outputs, one-hot targets)', input: '(5, 5, 1)', layers: trunk(3, 'softmax'), loss: 'binary_crossentropy', classes: 3 },
  { label: 'loss: mse on softmax outputs', input: '(5, 5, 1)', layers: trunk(3, 'softmax'), loss: 'mse', classes: 3 },
  { label: 'loss: mean_absolute_error on tanh outputs', input: '(5, 5, 1)', layers: trunk(3, 'tanh'), loss: 'mean_absolute_error', classes: 3 },
  { label: 'loss: mse on one linear output', input: '(5, 5, 1)', layers: trunk(1, 'linear'), loss: 'mean_squared_error', classes: 2 },
  // onnxruntime's NCHWc kernels (16 and 32 channels: whole blocks of 8 or 16).
  {
    label: "NCHWc: conv from 3 channels, 'same' conv (NCHWc dx), maxpool (NCHWc, ReLU fold), 'valid' conv, flatten from NCHWc, dense",
    input: '(6, 6, 3)',
    layers: ["Conv2D(16, 3, padding='same', activation='relu')", "Conv2D(16, 3, padding='same', activation='relu')", 'MaxPooling2D(2)', "Conv2D(32, 2, activation='relu')", 'Flatten()', "Dense(3, activation='softmax')"],
    loss: 'sparse_categorical_crossentropy',
    classes: 3,
    nchwc: true,
    weightScale: 0.4,
  },

  {
    label: "NCHWc: strided 'same' conv with tanh (ConvTranspose dx), no bias, maxpool with a remainder (NCHW fallback), dropout between",
    input: '(8, 8, 16)',
    layers: ["Conv2D(16, 3, strides=2, padding='same', activation='tanh')", "Conv2D(32, 2, use_bias=False, activation='relu')", 'MaxPooling2D(2)', 'Dropout(0.2)', "Conv2D(16, 1, activation='relu')", 'Flatten()', "Dense(3, activation='softmax')"],
    loss: 'categorical_crossentropy',
    classes: 3,
    nchwc: true,
    weightScale: 0.4,
  },
];

/** A functional model file: `body` builds `outputs` from `inputs`. */
const functional = (input: string, body: string, loss = 'categorical_crossentropy'): string =>
  `import keras\nfrom keras import layers\ninputs = keras.Input(shape=${input})\n${body.trim()}\nmodel = keras.Model(inputs, outputs)\nmodel.compile(optimizer='sgd', loss='${loss}')\n`;

cases.push(
  {
    label: 'merge layers: Add (3 inputs, fan-out of one tensor), Subtract, Multiply, Average, Maximum, Minimum, Concatenate (channels), Dot, tensor × number',
    input: '(4, 4, 2)',
    layers: [],
    text: functional(
      '(4, 4, 2)',
      `
a = layers.Conv2D(3, 2, activation='tanh')(inputs)
b = layers.Conv2D(3, 2)(inputs)
c = layers.Conv2D(3, 2, activation='sigmoid')(inputs)
s = layers.add([a, b, a])
d = layers.subtract([s, c])
m = layers.multiply([d, b])
v = layers.average([m, c])
hi = layers.maximum([v, a])
lo = layers.Minimum()([hi, b])
cat = layers.Concatenate()([lo, a, c])
f = layers.Flatten()(cat)
u = layers.Dense(4, activation='tanh')(f)
w = layers.Dense(4)(f)
dot = layers.Dot(axes=1)([u, w]) * 0.5
outputs = layers.Dense(3, activation='softmax')(layers.concatenate([u, dot]))
`,
    ),
    loss: 'categorical_crossentropy',
    classes: 3,
  },
  {
    // keras.applications' EfficientNet: its squeeze-and-excitation multiplies (H, W, C) by (1, 1, C),
    // its stochastic depth is Dropout(noise_shape=(None, 1, 1, 1)); a vector broadcast against a map too.
    label: 'broadcasting merges: squeeze-and-excitation Multiply (4×4×6 × 1×1×6), Add of a (6,) vector to a map, Maximum of (4, 1, 6) and a map; Dropout(noise_shape=(None, 1, 1, 1)) and (None, 1, 1, 6); Dense on a map (its last axis), gelu',
    input: '(5, 5, 2)',
    layers: [],
    text: functional(
      '(5, 5, 2)',
      `
x = layers.Conv2D(6, 2, activation='tanh')(inputs)
se = layers.GlobalAveragePooling2D(keepdims=True)(x)
se = layers.Conv2D(3, 1, activation='relu')(se)
se = layers.Conv2D(6, 1, activation='sigmoid')(se)
x = layers.multiply([x, se])
v = layers.Dense(6)(layers.GlobalAveragePooling2D()(x))
x = layers.Add()([x, v])
col = layers.Conv2D(6, (1, 4), activation='tanh')(x)
x = layers.Maximum()([col, x])
x = layers.Dropout(0.4, noise_shape=(None, 1, 1, 1))(x)
x = layers.Dropout(0.3, noise_shape=(None, 1, 1, 6))(x)
x = layers.Dense(5, activation='gelu')(x)
x = layers.Flatten()(x)
outputs = layers.Dense(3, activation='softmax')(x)
`,
    ),
    loss: 'categorical_crossentropy',
    classes: 3,
    batch: 4,
  },
  {
    label: 'small ResNet: Conv-BN-ReLU stem, identity block, strided block with 1×1 projection, shared Dense twice, GlobalAveragePooling',
    input: '(6, 6, 2)',
    layers: [],
    text: functional(
      '(6, 6, 2)',
      `
def block(x, filters, stride):
    shortcut = x
    y = layers.Conv2D(filters, 3, strides=stride, padding='same', use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.Activation('relu')(y)
    y = layers.Conv2D(filters, 3, padding='same')(y)
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride)(x)
    return layers.ReLU()(layers.add([y, shortcut]))
x = layers.Conv2D(3, 3, padding='same', activation='relu')(inputs)
x = block(x, 3, 1)
x = block(x, 4, 2)
x = layers.GlobalAveragePooling2D()(x)
shared = layers.Dense(4, activation='tanh')
x = shared(shared(x))
outputs = layers.Dense(3, activation='softmax')(x)
`,
    ),
    loss: 'categorical_crossentropy',
    classes: 3,
    batch: 5,
  },
  {
    label: 'small U-Net: two levels down (conv, max pool), up through UpSampling2D and Conv2DTranspose, Concatenate skips, 1×1 head',
    input: '(8, 8, 1)',
    layers: [],
    text: functional(
      '(8, 8, 1)',
      `
c1 = layers.Conv2D(2, 3, padding='same', activation='relu')(inputs)
p1 = layers.MaxPooling2D()(c1)
c2 = layers.Conv2D(3, 3, padding='same', activation='relu')(p1)
p2 = layers.MaxPooling2D()(c2)
b = layers.Conv2D(4, 3, padding='same', activation='relu')(p2)
u2 = layers.Conv2DTranspose(3, 2, strides=2, padding='same')(b)
m2 = layers.concatenate([u2, c2])
c3 = layers.Conv2D(3, 3, padding='same', activation='relu')(m2)
u1 = layers.UpSampling2D()(c3)
m1 = layers.Concatenate(axis=-1)([u1, c1])
c4 = layers.Conv2D(2, 3, padding='same', activation='relu')(m1)
h = layers.Conv2D(1, 1)(c4)
outputs = layers.Dense(3, activation='softmax')(layers.Flatten()(h))
`,
    ),
    loss: 'categorical_crossentropy',
    classes: 3,
  },
);

cases.push({
  label: 'nested models inlined: a Sequential block used twice on two branches (shared weights) and a functional encoder with a frozen layer',
  input: '(6, 6, 2)',
  layers: [],
  text: functional(
    '(6, 6, 2)',
    `
block = keras.Sequential([layers.Conv2D(2, 3, padding='same', activation='relu'), layers.Conv2D(2, 1)], name='block')
enc_in = keras.Input((6, 6, 2))
h = layers.Conv2D(3, 3, activation='tanh', trainable=False)(enc_in)
encoder = keras.Model(enc_in, layers.Flatten()(h), name='encoder')
a = block(inputs)
b = block(layers.Conv2D(2, 1)(inputs))
z = encoder(layers.add([a, b]))
outputs = layers.Dense(3, activation='softmax')(z)
`,
  ),
  loss: 'categorical_crossentropy',
  classes: 3,
});

cases.push({
  label: 'NCHWc in a graph: a residual block (one NCHWc output feeding a conv, a pooling and an Add that takes NCHW), gradients summed across layouts',
  input: '(8, 8, 3)',
  layers: [],
  text: functional(
    '(8, 8, 3)',
    `
c0 = layers.Conv2D(16, 3, padding='same', activation='relu')(inputs)
c1 = layers.Conv2D(16, 3, padding='same', activation='relu')(c0)
c2 = layers.Conv2D(16, 3, padding='same')(c1)
s = layers.Activation('relu')(layers.add([c0, c2]))
p = layers.MaxPooling2D()(c0)
q = layers.Conv2D(16, 1, activation='relu')(s)
outputs = layers.Dense(3, activation='softmax')(layers.concatenate([layers.Flatten()(p), layers.Flatten()(layers.MaxPooling2D(4)(q))]))
`,
  ),
  loss: 'categorical_crossentropy',
  classes: 3,
  nchwc: true,
  weightScale: 0.4,
});

cases.push({
  label: 'NCHWc ResNet: conv → BN → ReLU → conv → BN (no scale, no center) + Add → ReLU, strided projection with BN (two blocks of channels), blocked GlobalAveragePooling; an Add of blocked and grouped (NCHW) branches',
  input: '(6, 6, 3)',
  layers: [],
  text: functional(
    '(6, 6, 3)',
    `
def block(x, filters, stride, plain):
    y = layers.Conv2D(filters, 3, strides=stride, padding='same', use_bias=False)(x)
    y = layers.BatchNormalization(momentum=0.9)(y)
    y = layers.Activation('relu')(y)
    y = layers.Conv2D(filters, 3, padding='same', use_bias=False)(y)
    y = layers.BatchNormalization(scale=plain, center=plain, epsilon=0.01)(y)
    if stride != 1:
        x = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(x)
        x = layers.BatchNormalization()(x)
    return layers.ReLU()(layers.add([x, y]))
x = layers.Conv2D(16, 3, padding='same', use_bias=False)(inputs)
x = layers.BatchNormalization()(x)
x = layers.Activation('relu')(x)
x = block(x, 16, 1, False)
x = block(x, 32, 2, True)
g = layers.Conv2D(32, 1, groups=2)(x)
x = layers.add([x, layers.BatchNormalization()(g)])
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(3, activation='softmax')(x)
`,
  ),
  loss: 'categorical_crossentropy',
  classes: 3,
  batch: 2,
  nchwc: true,
  weightScale: 0.4,
});

function source(c: Case): string {
  if (c.text) return c.text;
  return [
    'from tensorflow.keras import layers, models',
    'model = models.Sequential()',
    `model.add(layers.InputLayer(shape=${c.input}))`,
    ...c.layers.map((l) => `model.add(layers.${l})`),
    `model.compile(optimizer='sgd', loss='${c.loss}', metrics=['accuracy'])`,
    '',
  ].join('\n');
}

async function plan(c: Case): Promise<TrainingPlan> {
  const text = source(c);
  // The file's model is the one named `model` (others may be nested in it).
  const model = (await analyze(text)).models.find((m) => m.varName === 'model')!;
  const r = planTraining(model, text);
  assert.deepEqual(r.problems, [], `${c.label}: planning failed`);
  return r.plan!;
}

function maxRelError(analytic: ArrayLike<number>, numeric: ArrayLike<number>, idx: number[]): number {
  let num = 0;
  let den = 0;
  for (const i of idx) {
    num = Math.max(num, Math.abs(analytic[i] - numeric[i]));
    den = Math.max(den, Math.abs(numeric[i]));
  }
  return den === 0 ? num : num / den;
}

async function check(c: Case, device: Device = 'cpu'): Promise<void> {
  const p = await plan(c);
  const rng = new Random(c.seed ?? 7);
  const nchwcBlock = c.nchwc && device === 'cpu' ? await nchwcBlockSize() : 0;
  const graph = compileTrainGraph(p, { seed: 3, exposeGradients: true, nchwcBlock });
  if (c.nchwc) assert.ok(graph.bytes.length > 0 && Buffer.from(graph.bytes).includes(Buffer.from('com.microsoft.nchwc')), `${c.label}: the graph uses the NCHWc kernels`);
  const session = await ort.InferenceSession.create(graph.bytes, { intraOpNumThreads: 1, logSeverityLevel: 3, ...deviceSessionOptions(device) });
  const N = c.batch ?? 4;
  const xDims = [N, ...p.inputShape];
  const x = Float32Array.from({ length: xDims.reduce((a, b) => a * b, 1) }, () => rng.next() * 2 - 1);
  const labels = Array.from({ length: N }, (_, i) => (i + rng.int(c.classes)) % c.classes);
  const weights: Record<string, Float32Array> = {};
  for (const w of planWeights(p)) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const positive = /gamma|moving_variance/.test(w.name);
    weights[w.name] = Float32Array.from({ length: n }, () => (positive ? 0.5 + rng.next() : (rng.next() - 0.5) * (c.weightScale ?? 1)));
  }
  const feeds: Record<string, ort.Tensor> = {
    [GRAPH_NAMES.x]: new ort.Tensor('float32', x, xDims),
    [GRAPH_NAMES.labels]: new ort.Tensor('int64', BigInt64Array.from(labels, BigInt), [N]),
    [GRAPH_NAMES.lr]: new ort.Tensor('float32', Float32Array.of(0), []),
  };
  if (graph.usesStep) feeds[GRAPH_NAMES.step] = new ort.Tensor('float32', Float32Array.of(1), []);
  for (const t of graph.carried) feeds[t.name] = new ort.Tensor('float32', t.kind === 'weight' ? weights[t.name] : new Float32Array(t.shape.reduce((a, b) => a * b, 1)), t.shape);
  const out = await session.run(feeds);
  await session.release();

  const draws: Draws = {};
  for (const [k, name] of Object.entries(graph.masks)) draws[k] = { data: out[name].data as Float32Array, dims: out[name].dims as number[] };
  const x64 = { d: Float64Array.from(x), s: xDims };
  const w64: Record<string, Float64Array> = Object.fromEntries(Object.entries(weights).map(([k, v]) => [k, Float64Array.from(v)]));
  const lossOf = () => kerasLoss(p.loss, modelForward(p, x64, w64, draws), labels);

  const parts: string[] = [];
  const refLoss = lossOf();
  const gotLoss = (out[GRAPH_NAMES.loss].data as Float32Array)[0];
  const fErr = Math.abs(gotLoss - refLoss) / Math.max(Math.abs(refLoss), 1e-6);
  assert.ok(fErr < 1e-4, `${c.label}: loss ${gotLoss} vs reference ${refLoss}`);
  parts.push(`loss ${fErr.toExponential(1)}`);

  // The accuracy count against the reference predictions.
  const pred = modelForward(p, x64, w64, draws);
  const K = pred.s[1];
  let correct = 0;
  for (let n = 0; n < N; n++) {
    const row = Array.from(pred.d.subarray(n * K, (n + 1) * K));
    const cls = K === 1 ? (row[0] > 0.5 ? 1 : 0) : row.indexOf(Math.max(...row));
    if (cls === labels[n]) correct++;
  }
  assert.equal((out[GRAPH_NAMES.correct].data as Float32Array)[0], correct, `${c.label}: correct count`);

  const trainable = planWeights(p).filter((w) => w.trainable);
  assert.deepEqual(Object.keys(graph.gradients).sort(), trainable.map((w) => w.name).sort(), `${c.label}: a gradient per trainable weight`);
  let worst = 0;
  for (const w of trainable) {
    const analytic = out[graph.gradients[w.name]].data as Float32Array;
    const v = w64[w.name];
    assert.equal(analytic.length, v.length);
    const count = Math.min(v.length, 24);
    const idx = Array.from({ length: count }, (_, k) => Math.floor((k * v.length) / count));
    const numeric = new Float64Array(v.length);
    for (const i of idx) {
      const orig = v[i];
      const h = 1e-5 * Math.max(1, Math.abs(orig));
      v[i] = orig + h;
      const lp = lossOf();
      v[i] = orig - h;
      const lm = lossOf();
      v[i] = orig;
      numeric[i] = (lp - lm) / (2 * h);
    }
    const err = maxRelError(analytic, numeric, idx);
    worst = Math.max(worst, err);
    parts.push(`${w.name} ${err.toExponential(1)}`);
    assert.ok(err < THRESHOLD, `${c.label}: d${w.name} max relative error ${err} (analytic ${Array.from(idx, (i) => analytic[i].toPrecision(4))} vs numeric ${Array.from(idx, (i) => numeric[i].toPrecision(4))})`);
  }
  summary.push(`${device === 'cpu' ? '' : `[${DEVICE_LABEL[device]}] `}${c.label}: max rel err ${worst.toExponential(2)}\n      (${parts.join(', ')})`);
}

describe('training graphs compiled from model files: gradients vs finite differences', async () => {
  const block = await nchwcBlockSize();
  for (const c of cases) {
    const skip = c.nchwc && block === 0 ? "this machine's onnxruntime has no NCHWc kernels (no AVX2)" : false;
    test(c.label, { skip }, () => check(c));
  }
});

/**
 * The GPU device this machine has, if any: `--device auto`'s choice, opened for real on a one-node
 * graph (the first device that opens); the CPU, with the reasons, where none can be had.
 */
async function gpuDevice(): Promise<{ device: Device; why: string }> {
  const g = new GraphBuilder({ name: 'device_probe' });
  g.input('x', [1, 4]);
  g.output(g.node('Relu', ['x'])[0], [1, 4]);
  const bytes = g.toModelBytes();
  const opened = await openOnDevice(planDevice('auto', deviceFacts()), async (d) => {
    const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3, ...deviceSessionOptions(d) });
    await s.release();
    return d;
  });
  return { device: opened.device, why: opened.warnings.join('; ') || 'no GPU backend can be tried' };
}

describe('the same gradient checks on the GPU device, when this machine has one', async () => {
  const gpu = await gpuDevice();
  if (gpu.device === 'cpu') {
    test('every case above', { skip: `no GPU device here: ${gpu.why}` }, () => {});
    return;
  }
  for (const c of cases) test(c.label, { skip: c.nchwc ? "NCHWc kernels are the CPU provider's own" : false }, () => check(c, gpu.device));
});

after(() => {
  console.log(`\ncompiled training graphs, max relative gradient error (threshold ${THRESHOLD}):\n  ${summary.join('\n  ')}`);
});
