/**
 * PyTorch's activation and dropout modules (`nn.ReLU`, `nn.Softmax(dim=1)`, `nn.Dropout2d`, …):
 * element-wise, shape-preserving, with PyTorch's arguments. `PReLU` is the one with a weight.
 * `F.relu(x)`, `torch.sigmoid(x)` and `x.relu()` are calls of the same definitions.
 */
import type { ActivationSpec } from '../../onnx/activations';
import type { ArgSpec, ArgSpecs, ArgValues } from '../args';
import { bool, choice, float, int } from '../args';
import { ShapeError, countText, defineLayer, type LayerTrain, type LayerType } from '../define';
import { NOT_TRAINABLE_YET, channelMismatch, dimArg, inputText, torchAxis } from './common';
import { activationTrain, channelDropoutTrain, dropoutTrain } from './train';

/**
 * A shape-preserving element-wise module; `recipe` maps its arguments to the activation registry's
 * recipe (or says why they are not trainable), absent: not trainable yet.
 */
function elementwise<A extends ArgSpecs>(name: string, doc: string, args: A, recipe?: (a: ArgValues<A>) => ActivationSpec | string): LayerType {
  return defineLayer({
    name,
    framework: 'pytorch',
    category: 'activation',
    doc,
    args,
    inputRank: 'any',
    outputShape: (input) => input,
    receptiveField: () => ({ kind: 'identity' }),
    ...(recipe ? { train: activationTrain<A>((a) => recipe(a)) } : { untrainable: NOT_TRAINABLE_YET }),
  });
}

const inplace = () => bool(false);

export const ReLU = elementwise('ReLU', 'Rectified linear unit max(x, 0), element-wise (PyTorch).', { inplace: inplace() }, () => ({ kind: 'relu' }));
export const ReLU6 = elementwise('ReLU6', 'min(max(x, 0), 6), element-wise (PyTorch; MobileNet).', { inplace: inplace() }, () => ({ kind: 'relu6' }));
export const LeakyReLU = elementwise('LeakyReLU', 'x for x ≥ 0, negative_slope·x below (PyTorch; default slope 0.01).', { negative_slope: float({ default: 0.01 }), inplace: inplace() }, (a) => ({ kind: 'leaky_relu', alpha: a.negative_slope }));
export const ELU = elementwise('ELU', 'x for x > 0, alpha·(eˣ − 1) below (PyTorch).', { alpha: float({ default: 1 }), inplace: inplace() }, (a) => ({ kind: 'elu', alpha: a.alpha }));
export const CELU = elementwise('CELU', 'max(0, x) + min(0, alpha·(e^(x/alpha) − 1)) (PyTorch).', { alpha: float({ default: 1 }), inplace: inplace() });
export const SELU = elementwise('SELU', 'Scaled ELU with the self-normalising constants (PyTorch).', { inplace: inplace() }, () => ({ kind: 'selu' }));
export const GELU = elementwise('GELU', 'Gaussian error linear unit x·Φ(x) (PyTorch; `approximate=\'tanh\'` for the tanh form).', { approximate: choice(['none', 'tanh'], 'none') }, (a) => ({ kind: 'gelu', approximate: a.approximate === 'tanh' }));
export const SiLU = elementwise('SiLU', 'Sigmoid linear unit (swish) x·σ(x) (PyTorch).', { inplace: inplace() }, () => ({ kind: 'silu' }));
export const Mish = elementwise('Mish', 'x·tanh(softplus(x)) (PyTorch).', { inplace: inplace() }, () => ({ kind: 'mish' }));
export const Sigmoid = elementwise('Sigmoid', 'Logistic sigmoid 1 / (1 + e⁻ˣ), element-wise (PyTorch).', {}, () => ({ kind: 'sigmoid' }));
export const Tanh = elementwise('Tanh', 'Hyperbolic tangent, element-wise (PyTorch).', {}, () => ({ kind: 'tanh' }));
export const Hardswish = elementwise('Hardswish', 'x·ReLU6(x + 3) / 6 (PyTorch; MobileNetV3).', { inplace: inplace() }, () => ({ kind: 'hard_silu' }));
export const Hardsigmoid = elementwise('Hardsigmoid', 'ReLU6(x + 3) / 6 (PyTorch).', { inplace: inplace() }, () => ({ kind: 'hard_sigmoid' }));
export const Hardtanh = elementwise('Hardtanh', 'x clipped to [min_val, max_val] (PyTorch).', { min_val: float({ default: -1 }), max_val: float({ default: 1 }), inplace: inplace() });
export const Softplus = elementwise('Softplus', 'log(1 + e^(beta·x)) / beta, linear above `threshold` (PyTorch).', { beta: float({ default: 1 }), threshold: float({ default: 20 }) }, (a) =>
  a.beta === 1 ? { kind: 'softplus' } : `Softplus(beta=${a.beta}) is not trainable yet (beta=1 is)`,
);
export const Softsign = elementwise('Softsign', 'x / (1 + |x|) (PyTorch).', {});
export const LogSigmoid = elementwise('LogSigmoid', 'log σ(x), element-wise (PyTorch).', {});
export const Tanhshrink = elementwise('Tanhshrink', 'x − tanh(x) (PyTorch).', {});
export const Softshrink = elementwise('Softshrink', 'Shrinks x towards 0 by `lambd` (PyTorch).', { lambd: float({ min: 0, default: 0.5 }) });
export const Hardshrink = elementwise('Hardshrink', 'x where |x| > lambd, else 0 (PyTorch).', { lambd: float({ min: 0, default: 0.5 }) });
export const Threshold = elementwise('Threshold', 'x where x > threshold, else `value` (PyTorch).', { threshold: float(), value: float(), inplace: inplace() });

/** Softmax-like modules normalise along `dim` (an axis of the whole tensor, batch included); `kind`: the registry's recipe. */
function alongDim(name: string, doc: string, kind?: 'softmax' | 'log_softmax'): LayerType {
  return defineLayer({
    name,
    framework: 'pytorch',
    category: 'activation',
    doc,
    args: { dim: dimArg(null) },
    inputRank: 'any',
    outputShape(input, a) {
      if (a.dim !== null) torchAxis(name, a.dim, input.length + 1);
      return input;
    },
    receptiveField: () => ({ kind: 'identity' }),
    // The axis is one of the whole tensor, as ONNX counts them. dim=None is PyTorch's legacy guess (dim 1 for most inputs): refused.
    ...(kind
      ? { train: activationTrain<{ dim: ArgSpec<number | null> }>((a, l) => (a.dim === null ? `${name} without dim= is not trainable (PyTorch warns and guesses the axis): pass dim=1` : { kind, axis: torchAxis(name, a.dim, l.input.length + 1) })) }
      : { untrainable: NOT_TRAINABLE_YET }),
  });
}

export const Softmax = alongDim('Softmax', 'Softmax along `dim` (PyTorch): exponentials normalised to sum to 1, e.g. class probabilities with dim=1.', 'softmax');
export const LogSoftmax = alongDim('LogSoftmax', 'log(softmax(x)) along `dim` (PyTorch): the log-probabilities NLLLoss expects.', 'log_softmax');
export const Softmin = alongDim('Softmin', 'Softmax of −x along `dim` (PyTorch).');
export const Softmax2d = elementwise('Softmax2d', 'Softmax over the channels at every position of a [N, C, H, W] input (PyTorch).', {});

export const PReLU = defineLayer({
  name: 'PReLU',
  framework: 'pytorch',
  category: 'activation',
  doc: 'Parametric ReLU (PyTorch): x for x ≥ 0, a·x below, with `a` learned (one for all channels, or one per channel).',
  args: { num_parameters: int({ min: 1, default: 1 }), init: float({ default: 0.25 }) },
  extraArgs: ['device', 'dtype'],
  inputRank: 'any',
  outputShape(input, a, ctx) {
    const c = input[0];
    if (a.num_parameters > 1 && c !== undefined && c !== null && c !== a.num_parameters) {
      throw channelMismatch('PReLU', 'num_parameters', a.num_parameters, c, inputText(ctx, input), `Mismatch of parameter numbers and input channel size. Found parameter numbers = ${a.num_parameters} and channel size = ${c}.`);
    }
    return input;
  },
  weights: (_input, a) => [{ name: 'weight', shape: [a.num_parameters], trainable: true }],
  formula: (_input, a, total) => `${a.num_parameters} = ${countText(total)}`,
  macs: () => 0,
  receptiveField: () => ({ kind: 'identity' }),
  untrainable: NOT_TRAINABLE_YET,
});

/** Dropout modules: identity shapes; PyTorch checks the probability when the module is built. Dropout and the channel-wise Dropout1d/2d/3d train. */
function dropout(name: string, doc: string, train?: LayerTrain<{ p: ArgSpec<number>; inplace: ArgSpec<boolean> }>): LayerType {
  return defineLayer({
    name,
    framework: 'pytorch',
    category: 'regularization',
    doc,
    args: { p: float({ default: 0.5 }), inplace: inplace() },
    inputRank: 'any',
    outputShape(input, a) {
      if (a.p < 0 || a.p > 1) throw new ShapeError(`${name}: dropout probability has to be between 0 and 1, but got ${a.p}`, 'p', [], 'invalid-arg');
      return input;
    },
    receptiveField: () => ({ kind: 'identity' }),
    ...(train ? { train } : { untrainable: NOT_TRAINABLE_YET }),
  });
}

export const Dropout = dropout('Dropout', 'Zeroes each value with probability `p` while training and scales the rest by 1/(1 − p); the identity in eval() (PyTorch).', dropoutTrain());
export const Dropout1d = dropout('Dropout1d', 'Zeroes whole channels of a [N, C, L] input with probability `p` while training (PyTorch).', channelDropoutTrain(1));
export const Dropout2d = dropout('Dropout2d', 'Zeroes whole channels of a [N, C, H, W] input with probability `p` while training (PyTorch).', channelDropoutTrain(2));
export const Dropout3d = dropout('Dropout3d', 'Zeroes whole channels of a [N, C, D, H, W] input with probability `p` while training (PyTorch).', channelDropoutTrain(3));
export const AlphaDropout = dropout('AlphaDropout', 'Dropout that keeps the mean and variance of SELU activations (PyTorch).');
export const FeatureAlphaDropout = dropout('FeatureAlphaDropout', 'AlphaDropout of whole channels (PyTorch).');

export const TORCH_ACTIVATION: readonly LayerType[] = [
  ReLU, ReLU6, LeakyReLU, ELU, CELU, SELU, GELU, SiLU, Mish, Sigmoid, Tanh, Hardswish, Hardsigmoid, Hardtanh, Softplus, Softsign, LogSigmoid,
  Tanhshrink, Softshrink, Hardshrink, Threshold, Softmax, LogSoftmax, Softmin, Softmax2d, PReLU,
  Dropout, Dropout1d, Dropout2d, Dropout3d, AlphaDropout, FeatureAlphaDropout,
];
