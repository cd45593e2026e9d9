/**
 * The small PyTorch modules an exported file defines where `torch.nn` has no layer that computes
 * exactly what Keras (and ConvLens' training graph) computes. Each is Python source; the
 * exporter includes only the ones the model uses.
 */
import type { TorchHelper } from './pytorchLayers';

export const TORCH_HELPERS: Readonly<Record<TorchHelper, string>> = {
  BatchNorm: String.raw`
class BatchNorm(nn.Module):
    """Keras' BatchNormalization over the channel axis (dim 1), exactly.

    Training normalises with the batch mean and biased variance and moves the running statistics
    towards them with the *biased* variance, as Keras does (torch.nn.BatchNorm2d moves its
    running variance with the unbiased one). momentum is PyTorch's convention:
    running = (1 - momentum) * running + momentum * batch, so Keras' momentum m is 1 - m here.
    """

    def __init__(self, channels, eps, momentum, scale=True, center=True):
        super().__init__()
        self.eps = eps
        self.momentum = momentum
        self.weight = nn.Parameter(torch.ones(channels)) if scale else None
        self.bias = nn.Parameter(torch.zeros(channels)) if center else None
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def forward(self, x):
        if not self.training:
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)
        with torch.no_grad():
            var, mean = torch.var_mean(x, dim=[0] + list(range(2, x.dim())), unbiased=False)
            self.running_mean.mul_(1 - self.momentum).add_(mean, alpha=self.momentum)
            self.running_var.mul_(1 - self.momentum).add_(var, alpha=self.momentum)
        # Batch statistics for the output (F.batch_norm normalises with the biased variance).
        return F.batch_norm(x, None, None, self.weight, self.bias, True, 0.0, self.eps)

    def extra_repr(self):
        return f"{self.running_mean.numel()}, eps={self.eps}, momentum={self.momentum}"
`,
  LayerNorm: String.raw`
class LayerNorm(nn.Module):
    """Keras' LayerNormalization over the channel axis (Keras' axis=-1 is dim 1 here)."""

    def __init__(self, channels, eps, scale=True, center=True):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels)) if scale else None
        self.bias = nn.Parameter(torch.zeros(channels)) if center else None

    def forward(self, x):
        var, mean = torch.var_mean(x, dim=1, keepdim=True, unbiased=False)
        y = (x - mean) * torch.rsqrt(var + self.eps)
        shape = [1, -1] + [1] * (x.dim() - 2)
        if self.weight is not None:
            y = y * self.weight.view(shape)
        if self.bias is not None:
            y = y + self.bias.view(shape)
        return y
`,
  GroupNorm: String.raw`
class GroupNorm(nn.Module):
    """Keras' GroupNormalization without its scale or its offset (nn.GroupNorm has both or neither)."""

    def __init__(self, groups, channels, eps, scale=True, center=True):
        super().__init__()
        self.groups = groups
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels)) if scale else None
        self.bias = nn.Parameter(torch.zeros(channels)) if center else None

    def forward(self, x):
        return F.group_norm(x, self.groups, self.weight, self.bias, self.eps)
`,
  RMSNorm: String.raw`
class RMSNorm(nn.Module):
    """Keras' RMSNormalization over the channel axis: x / sqrt(mean(x^2) + eps) * scale."""

    def __init__(self, channels, eps):
        super().__init__()
        self.eps = eps
        self.scale = nn.Parameter(torch.ones(channels))

    def forward(self, x):
        r = torch.rsqrt((x * x).mean(dim=1, keepdim=True) + self.eps)
        return x * r * self.scale.view([1, -1] + [1] * (x.dim() - 2))
`,
  PReLU: String.raw`
class PReLU(nn.Module):
    """Keras' PReLU: a learned slope for every input element (1 on shared axes), channels first."""

    def __init__(self, shape):
        super().__init__()
        self.alpha = nn.Parameter(torch.zeros(shape))

    def forward(self, x):
        return torch.where(x > 0, x, x * self.alpha)
`,
  SeparableConv: String.raw`
class SeparableConv(nn.Module):
    """Keras' SeparableConv: a depthwise convolution (no bias), then a 1x1 pointwise one."""

    def __init__(self, depthwise, pointwise):
        super().__init__()
        self.depthwise = depthwise
        self.pointwise = pointwise

    def forward(self, x):
        return self.pointwise(self.depthwise(x))
`,
  AvgPoolSame: String.raw`
class AvgPoolSame(nn.Module):
    """Keras' average pooling with padding='same' where it pads unevenly: each window is divided
    by the number of real (not padded) values under it."""

    def __init__(self, kernel, stride, pads, spatial):
        super().__init__()
        self.kernel, self.stride, self.pads = kernel, stride, pads
        pool = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[len(kernel)]
        self.pool = pool
        ones = F.pad(torch.ones((1, 1) + tuple(spatial)), pads)
        self.register_buffer("fraction", pool(ones, kernel, stride), persistent=False)

    def forward(self, x):
        return self.pool(F.pad(x, self.pads), self.kernel, self.stride) / self.fraction
`,
  LocallyConnected: String.raw`
class LocallyConnected(nn.Module):
    """tf.keras' LocallyConnected1D/2D (implementation=1, padding='valid'): a convolution whose
    kernel differs at every output position. Weights keep Keras' layouts: kernel (positions,
    kernel taps * channels, filters), bias (output positions..., filters)."""

    def __init__(self, in_spatial, channels, out_spatial, filters, kernel, strides, bias=True):
        super().__init__()
        self.in_spatial, self.out_spatial, self.filters = tuple(in_spatial), tuple(out_spatial), filters
        positions, taps = math.prod(out_spatial), math.prod(kernel)
        self.kernel = nn.Parameter(torch.zeros(positions, taps * channels, filters))
        self.bias = nn.Parameter(torch.zeros(tuple(out_spatial) + (filters,))) if bias else None
        # Where each entry of Keras' patch matrix comes from in a flattened channels_last sample.
        r = len(in_spatial)
        flat = torch.zeros([1] * (2 * r), dtype=torch.long)
        step = 1
        for d in reversed(range(r)):
            start = (torch.arange(out_spatial[d]) * strides[d]).view([1] * d + [-1] + [1] * (2 * r - d - 1))
            tap = torch.arange(kernel[d]).view([1] * (r + d) + [-1] + [1] * (r - d - 1))
            flat = flat + (start + tap) * step
            step *= in_spatial[d]
        index = (flat.reshape(-1, 1) * channels + torch.arange(channels)).reshape(positions, taps * channels)
        self.register_buffer("index", index, persistent=False)

    def forward(self, x):
        n = x.shape[0]
        keras = x.permute([0] + list(range(2, x.dim())) + [1]).reshape(n, -1)
        patches = keras[:, self.index]
        y = torch.einsum("npk,pkf->npf", patches, self.kernel)
        if self.bias is not None:
            y = y + self.bias.reshape(-1, self.filters)
        y = y.reshape((n,) + self.out_spatial + (self.filters,))
        return y.permute([0, y.dim() - 1] + list(range(1, y.dim() - 1)))
`,
  GaussianNoise: String.raw`
class GaussianNoise(nn.Module):
    """Keras' GaussianNoise: adds N(0, stddev^2) noise while training."""

    def __init__(self, stddev):
        super().__init__()
        self.stddev = stddev

    def forward(self, x):
        if not self.training or self.stddev == 0:
            return x
        return x + torch.randn_like(x) * self.stddev
`,
  SharedDropout: String.raw`
class SharedDropout(nn.Module):
    """Keras' Dropout(noise_shape=...): one keep-or-drop draw per position of the axes kept,
    shared along the axes given as 1 (\`shared\`, channels-first dims after the batch; the batch
    itself when \`batch\` is set), scaled by 1 / (1 - rate) while training."""

    def __init__(self, rate, shared, batch=False):
        super().__init__()
        self.rate = rate
        self.shared = set(shared)
        self.batch = batch

    def forward(self, x):
        if not self.training or self.rate == 0:
            return x
        shape = [1 if (i == 0 and self.batch) or i in self.shared else d for i, d in enumerate(x.shape)]
        keep = (torch.rand(shape, device=x.device) >= self.rate).to(x.dtype)
        return x * keep / (1 - self.rate)
`,
  GaussianDropout: String.raw`
class GaussianDropout(nn.Module):
    """Keras' GaussianDropout: multiplies by N(1, rate / (1 - rate)) noise while training."""

    def __init__(self, rate):
        super().__init__()
        self.rate = rate

    def forward(self, x):
        if not self.training or self.rate == 0:
            return x
        return x * (1 + torch.randn_like(x) * math.sqrt(self.rate / (1 - self.rate)))
`,
  AlphaDropout: String.raw`
class AlphaDropout(nn.Module):
    """Keras' AlphaDropout: dropped values become SELU's saturation alpha_p, then a*y + b keeps
    the mean and variance (Keras' constants, computed by ConvLens)."""

    def __init__(self, rate, a, b, alpha_p):
        super().__init__()
        self.rate, self.a, self.b, self.alpha_p = rate, a, b, alpha_p

    def forward(self, x):
        if not self.training or self.rate == 0:
            return x
        kept = (torch.rand_like(x) >= self.rate).to(x.dtype)
        return (x * kept + self.alpha_p * (1 - kept)) * self.a + self.b
`,
  RandomFlip: String.raw`
class RandomFlip(nn.Module):
    """Keras 3's RandomFlip: while training, flips each image with probability 1/2 (both axes
    together in 'horizontal_and_vertical'); nothing at inference."""

    AXES = {"horizontal": [3], "vertical": [2], "horizontal_and_vertical": [2, 3]}

    def __init__(self, mode):
        super().__init__()
        self.mode = mode

    def forward(self, x):
        if not self.training:
            return x
        flip = torch.rand(x.shape[0], 1, 1, 1, device=x.device) <= 0.5
        return torch.where(flip, x.flip(self.AXES[self.mode]), x)
`,
};
