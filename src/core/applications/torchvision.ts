/**
 * The parts of torchvision that model definitions import besides torch.nn, written for
 * ConvLens' interpreter: `torchvision.ops.misc`'s Conv2dNormActivation, SqueezeExcitation and
 * Permute blocks, `torchvision.ops`' StochasticDepth, `torchvision.models._utils`' helpers (`_make_divisible`, `_ovewrite_named_param`), and
 * the weights registry of `torchvision.models._api` reduced to what a builder called without
 * weights reads. A copy of a torchvision model file (`from ..ops.misc import …`) then analyses as
 * torchvision runs it. Behaviour follows torchvision's documentation: Conv → norm → activation,
 * padding (kernel − 1) // 2 · dilation by default, a bias only without a norm layer.
 */
import { withTvCommon } from './tvCommon';
import { TV_DENSENET_SOURCE, TV_GOOGLENET_SOURCE, TV_INCEPTION_V3_SOURCE } from './tvInception';
import { TV_EFFICIENTNET_SOURCE, TV_MOBILENET_V2_SOURCE, TV_MOBILENET_V3_SOURCE, TV_SHUFFLENET_SOURCE } from './tvMobile';
import { TV_CLASSIC_SOURCE, TV_RESNET_SOURCE } from './tvResnet';

const OPS_MISC = `
import torch
from torch import nn


class ConvNormActivation(nn.Sequential):
    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1, inplace=True, bias=None,
                 conv_layer=nn.Conv2d):
        if padding is None:
            if isinstance(kernel_size, int) and isinstance(dilation, int):
                padding = (kernel_size - 1) // 2 * dilation
            else:
                n = len(kernel_size) if not isinstance(kernel_size, int) else len(dilation)
                ks = kernel_size if not isinstance(kernel_size, int) else [kernel_size] * n
                ds = dilation if not isinstance(dilation, int) else [dilation] * n
                padding = tuple((ks[i] - 1) // 2 * ds[i] for i in range(n))
        if bias is None:
            bias = norm_layer is None
        layers = [conv_layer(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation, groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            params = {} if inplace is None else {"inplace": inplace}
            layers.append(activation_layer(**params))
        super().__init__(*layers)
        self.out_channels = out_channels


class Conv2dNormActivation(ConvNormActivation):
    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1, inplace=True, bias=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, groups, norm_layer,
                         activation_layer, dilation, inplace, bias, nn.Conv2d)


class Conv3dNormActivation(ConvNormActivation):
    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer=nn.BatchNorm3d, activation_layer=nn.ReLU, dilation=1, inplace=True, bias=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, groups, norm_layer,
                         activation_layer, dilation, inplace, bias, nn.Conv3d)


class SqueezeExcitation(nn.Module):
    def __init__(self, input_channels, squeeze_channels, activation=nn.ReLU, scale_activation=nn.Sigmoid):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def forward(self, input):
        scale = self.avgpool(input)
        scale = self.fc1(scale)
        scale = self.activation(scale)
        scale = self.fc2(scale)
        scale = self.scale_activation(scale)
        return scale * input


class Permute(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return torch.permute(x, self.dims)


class StochasticDepth(nn.Module):
    def __init__(self, p, mode):
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, input):
        # Row or batch dropout while training; the identity in eval(), where shapes are read.
        return input
`;

const MODELS_UTILS = `
def _make_divisible(v, divisor, min_value=None):
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _ovewrite_named_param(kwargs, param, new_value):
    if param in kwargs:
        if kwargs[param] != new_value:
            raise ValueError(f"The parameter '{param}' expected value {new_value} but got {kwargs[param]} instead.")
    else:
        kwargs[param] = new_value


def _ovewrite_value_param(param, actual, expected):
    if actual is not None:
        if actual != expected:
            raise ValueError(f"The parameter '{param}' expected value {expected} but got {actual} instead.")
    return expected


def handle_legacy_interface(**weights):
    def outer_wrapper(builder):
        return builder
    return outer_wrapper
`;

const MODELS_API = `
class Weights:
    def __init__(self, url, transforms, meta):
        self.url = url
        self.transforms = transforms
        self.meta = meta


class WeightsEnum:
    @classmethod
    def verify(cls, obj):
        return obj


def register_model(name=None):
    def wrapper(fn):
        return fn
    return wrapper
`;

const UTILS = `
def _log_api_usage_once(obj):
    pass
`;

/** torchvision module → its source here; relative spellings (`..ops.misc`) as a torchvision model file writes them. */
const MODULES: Readonly<Record<string, string>> = {
  'torchvision.ops.misc': OPS_MISC,
  'torchvision.ops': OPS_MISC,
  'torchvision.ops.stochastic_depth': OPS_MISC,
  'torchvision.models._utils': MODELS_UTILS,
  'torchvision.models._api': MODELS_API,
  'torchvision.utils': UTILS,
};
const RELATIVE: Readonly<Record<string, string>> = {
  'ops.misc': 'torchvision.ops.misc',
  ops: 'torchvision.ops',
  'ops.stochastic_depth': 'torchvision.ops.stochastic_depth',
  _utils: 'torchvision.models._utils',
  _api: 'torchvision.models._api',
  utils: 'torchvision.utils',
};

/**
 * ConvLens' definition of a torchvision module imported by `name` (`torchvision.ops.misc`, or
 * relatively from a copy of a torchvision model file: `..ops.misc`, `._utils`); undefined otherwise.
 */
export function torchvisionModule(name: string): { module: string; source: string } | undefined {
  const relative = /^\.+/.exec(name);
  const module = relative ? RELATIVE[name.slice(relative[0].length)] : name in MODULES ? name : undefined;
  return module ? { module, source: MODULES[module] } : undefined;
}

/** A family of torchvision.models builders: the module its definition runs as, and its source. */
export interface TorchvisionModelDef {
  module: string;
  source: string;
}

const tvFamily = (module: string, source: string): TorchvisionModelDef => ({ module: `torchvision.models.${module}`, source: withTvCommon(source) });
const TV_RESNET = tvFamily('resnet', TV_RESNET_SOURCE);
const TV_CLASSIC = tvFamily('vgg', TV_CLASSIC_SOURCE);
const TV_MOBILENET_V2 = tvFamily('mobilenetv2', TV_MOBILENET_V2_SOURCE);
const TV_MOBILENET_V3 = tvFamily('mobilenetv3', TV_MOBILENET_V3_SOURCE);
const TV_SHUFFLENET = tvFamily('shufflenetv2', TV_SHUFFLENET_SOURCE);
const TV_EFFICIENTNET = tvFamily('efficientnet', TV_EFFICIENTNET_SOURCE);
const TV_DENSENET = tvFamily('densenet', TV_DENSENET_SOURCE);
const TV_GOOGLENET = tvFamily('googlenet', TV_GOOGLENET_SOURCE);
const TV_INCEPTION_V3 = tvFamily('inception', TV_INCEPTION_V3_SOURCE);
const each = (family: TorchvisionModelDef, builders: string[]): [string, TorchvisionModelDef][] => builders.map((b) => [b, family]);

/**
 * The torchvision.models builders ConvLens knows (`resnet18`, `vgg16_bn`, …), each ConvLens' own
 * Python definition run by the interpreter as the user's code is: builder name → its family.
 */
export const TORCHVISION_MODELS: Readonly<Record<string, TorchvisionModelDef>> = Object.fromEntries([
  ...each(TV_RESNET, ['resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152', 'resnext50_32x4d', 'resnext101_32x8d', 'resnext101_64x4d', 'wide_resnet50_2', 'wide_resnet101_2']),
  ...each(TV_CLASSIC, ['vgg11', 'vgg11_bn', 'vgg13', 'vgg13_bn', 'vgg16', 'vgg16_bn', 'vgg19', 'vgg19_bn', 'alexnet', 'squeezenet1_0', 'squeezenet1_1']),
  ...each(TV_MOBILENET_V2, ['mobilenet_v2']),
  ...each(TV_MOBILENET_V3, ['mobilenet_v3_large', 'mobilenet_v3_small']),
  ...each(TV_SHUFFLENET, ['shufflenet_v2_x0_5', 'shufflenet_v2_x1_0', 'shufflenet_v2_x1_5', 'shufflenet_v2_x2_0']),
  ...each(TV_EFFICIENTNET, ['efficientnet_b0', 'efficientnet_b1', 'efficientnet_b2', 'efficientnet_b3', 'efficientnet_b4', 'efficientnet_b5', 'efficientnet_b6', 'efficientnet_b7']),
  ...each(TV_DENSENET, ['densenet121', 'densenet161', 'densenet169', 'densenet201']),
  ...each(TV_GOOGLENET, ['googlenet']),
  ...each(TV_INCEPTION_V3, ['inception_v3']),
]);
