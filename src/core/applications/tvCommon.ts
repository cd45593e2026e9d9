/**
 * What every torchvision.models builder of ConvLens' own does around its architecture, as Python
 * for the interpreter: the imports the definitions share and the weights rule of torchvision ≥ 0.13
 * (published weights are for the 1000 ImageNet classes, so `num_classes` must be 1000 with them,
 * as torchvision's `_ovewrite_named_param` insists). Prepended to each family's definition.
 */
export const TV_COMMON_SOURCE = `
import math
from functools import partial
import torch
from torch import nn
import torch.nn.functional as F
from torchvision.ops.misc import Conv2dNormActivation, SqueezeExcitation, StochasticDepth, Permute
from torchvision.models._utils import _make_divisible


def _with_weights(weights, kwargs, classes=1000):
    # Published weights fix the head: torchvision raises when num_classes disagrees with them.
    if weights is not None:
        if "num_classes" in kwargs and kwargs["num_classes"] != classes:
            raise ValueError(f"The parameter 'num_classes' expected value {classes} but got {kwargs['num_classes']} instead.")
        kwargs["num_classes"] = classes
`;

/** A family's module source: the shared prelude, then the family's own definitions. */
export const withTvCommon = (source: string): string => TV_COMMON_SOURCE + source;
