/**
 * torchvision's mobile families, written for ConvLens' interpreter from the architectures
 * torchvision documents, with torchvision's module names: MobileNetV2 (Sandler et al. 2018:
 * inverted residuals with linear bottlenecks, ReLU6), MobileNetV3 Large / Small (Howard et al.
 * 2019: hard-swish, squeeze-and-excitation with a hard sigmoid, the paper's block tables),
 * ShuffleNetV2 (Ma et al. 2018: channel split, two branches, channel shuffle) and EfficientNet
 * B0–B7 (Tan & Le 2019: MBConv blocks with SiLU and squeeze-and-excitation, width and depth scaled
 * per variant, stochastic depth that grows along the blocks).
 */
/** MobileNetV2. */
export const TV_MOBILENET_V2_SOURCE = `
class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand_ratio, norm_layer=None):
        super().__init__()
        if stride not in [1, 2]:
            raise ValueError(f"stride should be 1 or 2 instead of {stride}")
        norm = norm_layer or nn.BatchNorm2d
        hidden = int(round(inp * expand_ratio))
        self.stride = stride
        self.use_res_connect = stride == 1 and inp == oup
        parts = []
        if expand_ratio != 1:
            parts.append(Conv2dNormActivation(inp, hidden, kernel_size=1, norm_layer=norm, activation_layer=nn.ReLU6))
        parts.append(Conv2dNormActivation(hidden, hidden, stride=stride, groups=hidden, norm_layer=norm, activation_layer=nn.ReLU6))
        parts.append(nn.Conv2d(hidden, oup, 1, 1, 0, bias=False))
        parts.append(norm(oup))
        self.conv = nn.Sequential(*parts)
        self.out_channels = oup
        self._is_cn = stride > 1

    def forward(self, x):
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, num_classes=1000, width_mult=1.0, inverted_residual_setting=None, round_nearest=8, block=None, norm_layer=None, dropout=0.2):
        super().__init__()
        block = block or InvertedResidual
        norm = norm_layer or nn.BatchNorm2d
        setting = inverted_residual_setting or [
            [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
        ]
        if len(setting) == 0 or len(setting[0]) != 4:
            raise ValueError(f"inverted_residual_setting should be non-empty or a 4-element list, got {setting}")
        channels = _make_divisible(32 * width_mult, round_nearest)
        self.last_channel = _make_divisible(1280 * max(1.0, width_mult), round_nearest)
        feats = [Conv2dNormActivation(3, channels, stride=2, norm_layer=norm, activation_layer=nn.ReLU6)]
        for t, c, n, s in setting:
            out = _make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                feats.append(block(channels, out, s if i == 0 else 1, expand_ratio=t, norm_layer=norm))
                channels = out
        feats.append(Conv2dNormActivation(channels, self.last_channel, kernel_size=1, norm_layer=norm, activation_layer=nn.ReLU6))
        self.features = nn.Sequential(*feats)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes))

    def forward(self, x):
        x = self.features(x)
        x = nn.functional.adaptive_avg_pool2d(x, (1, 1))
        x = torch.flatten(x, 1)
        return self.classifier(x)


def mobilenet_v2(*, weights=None, progress=True, **kwargs):
    _with_weights(weights, kwargs)
    return MobileNetV2(**kwargs)

`;

/** MobileNetV3 Large and Small. */
export const TV_MOBILENET_V3_SOURCE = `
class InvertedResidualConfig:
    def __init__(self, input_channels, kernel, expanded_channels, out_channels, use_se, activation, stride, dilation, width_mult):
        self.input_channels = _make_divisible(input_channels * width_mult, 8)
        self.kernel = kernel
        self.expanded_channels = _make_divisible(expanded_channels * width_mult, 8)
        self.out_channels = _make_divisible(out_channels * width_mult, 8)
        self.use_se = use_se
        self.use_hs = activation == "HS"
        self.stride = stride
        self.dilation = dilation


class InvertedResidual(nn.Module):
    def __init__(self, cnf, norm_layer):
        super().__init__()
        if not (1 <= cnf.stride <= 2):
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        act = nn.Hardswish if cnf.use_hs else nn.ReLU
        parts = []
        if cnf.expanded_channels != cnf.input_channels:
            parts.append(Conv2dNormActivation(cnf.input_channels, cnf.expanded_channels, kernel_size=1, norm_layer=norm_layer, activation_layer=act))
        stride = 1 if cnf.dilation > 1 else cnf.stride
        parts.append(Conv2dNormActivation(cnf.expanded_channels, cnf.expanded_channels, kernel_size=cnf.kernel, stride=stride,
                                          dilation=cnf.dilation, groups=cnf.expanded_channels, norm_layer=norm_layer, activation_layer=act))
        if cnf.use_se:
            parts.append(SqueezeExcitation(cnf.expanded_channels, _make_divisible(cnf.expanded_channels // 4, 8), scale_activation=nn.Hardsigmoid))
        parts.append(Conv2dNormActivation(cnf.expanded_channels, cnf.out_channels, kernel_size=1, norm_layer=norm_layer, activation_layer=None))
        self.block = nn.Sequential(*parts)
        self.out_channels = cnf.out_channels
        self._is_cn = cnf.stride > 1

    def forward(self, x):
        y = self.block(x)
        if self.use_res_connect:
            y += x
        return y


class MobileNetV3(nn.Module):
    def __init__(self, inverted_residual_setting, last_channel, num_classes=1000, block=None, norm_layer=None, dropout=0.2):
        super().__init__()
        block = block or InvertedResidual
        norm = norm_layer or partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
        first = inverted_residual_setting[0].input_channels
        feats = [Conv2dNormActivation(3, first, kernel_size=3, stride=2, norm_layer=norm, activation_layer=nn.Hardswish)]
        for cnf in inverted_residual_setting:
            feats.append(block(cnf, norm))
        last_in = inverted_residual_setting[-1].out_channels
        last_out = 6 * last_in
        feats.append(Conv2dNormActivation(last_in, last_out, kernel_size=1, norm_layer=norm, activation_layer=nn.Hardswish))
        self.features = nn.Sequential(*feats)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(last_out, last_channel), nn.Hardswish(inplace=True), nn.Dropout(p=dropout, inplace=True), nn.Linear(last_channel, num_classes)
        )

    def forward(self, x):
        x = self.avgpool(self.features(x))
        x = torch.flatten(x, 1)
        return self.classifier(x)


def _mobilenet_v3_conf(arch, width_mult=1.0, reduced_tail=False, dilated=False):
    r = 2 if reduced_tail else 1
    d = 2 if dilated else 1
    c = lambda i, k, e, o, se, act, s, dil: InvertedResidualConfig(i, k, e, o, se, act, s, dil, width_mult)
    if arch == "mobilenet_v3_large":
        table = [
            c(16, 3, 16, 16, False, "RE", 1, 1), c(16, 3, 64, 24, False, "RE", 2, 1), c(24, 3, 72, 24, False, "RE", 1, 1),
            c(24, 5, 72, 40, True, "RE", 2, 1), c(40, 5, 120, 40, True, "RE", 1, 1), c(40, 5, 120, 40, True, "RE", 1, 1),
            c(40, 3, 240, 80, False, "HS", 2, 1), c(80, 3, 200, 80, False, "HS", 1, 1), c(80, 3, 184, 80, False, "HS", 1, 1),
            c(80, 3, 184, 80, False, "HS", 1, 1), c(80, 3, 480, 112, True, "HS", 1, 1), c(112, 3, 672, 112, True, "HS", 1, 1),
            c(112, 5, 672, 160 // r, True, "HS", 2, d), c(160 // r, 5, 960 // r, 160 // r, True, "HS", 1, d),
            c(160 // r, 5, 960 // r, 160 // r, True, "HS", 1, d),
        ]
        last = _make_divisible(1280 // r * width_mult, 8)
    elif arch == "mobilenet_v3_small":
        table = [
            c(16, 3, 16, 16, True, "RE", 2, 1), c(16, 3, 72, 24, False, "RE", 2, 1), c(24, 3, 88, 24, False, "RE", 1, 1),
            c(24, 5, 96, 40, True, "HS", 2, 1), c(40, 5, 240, 40, True, "HS", 1, 1), c(40, 5, 240, 40, True, "HS", 1, 1),
            c(40, 5, 120, 48, True, "HS", 1, 1), c(48, 5, 144, 48, True, "HS", 1, 1),
            c(48, 5, 288, 96 // r, True, "HS", 2, d), c(96 // r, 5, 576 // r, 96 // r, True, "HS", 1, d),
            c(96 // r, 5, 576 // r, 96 // r, True, "HS", 1, d),
        ]
        last = _make_divisible(1024 // r * width_mult, 8)
    else:
        raise ValueError(f"Unsupported model type {arch}")
    return table, last


def _mobilenet_v3(arch, weights, kwargs):
    _with_weights(weights, kwargs)
    conf = {k: kwargs.pop(k) for k in ["width_mult", "reduced_tail", "dilated"] if k in kwargs}
    table, last = _mobilenet_v3_conf(arch, **conf)
    return MobileNetV3(table, last, **kwargs)


def mobilenet_v3_large(*, weights=None, progress=True, **kwargs):
    return _mobilenet_v3("mobilenet_v3_large", weights, kwargs)


def mobilenet_v3_small(*, weights=None, progress=True, **kwargs):
    return _mobilenet_v3("mobilenet_v3_small", weights, kwargs)

`;

/** ShuffleNetV2 ×0.5 … ×2.0. */
export const TV_SHUFFLENET_SOURCE = `
def channel_shuffle(x, groups):
    n, c, h, w = x.size()
    x = x.view(n, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(n, -1, h, w)


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride):
        super().__init__()
        if not (1 <= stride <= 3):
            raise ValueError("illegal stride value")
        self.stride = stride
        half = oup // 2
        if stride == 1 and inp != half << 1:
            raise ValueError(f"Invalid combination of stride {stride}, inp {inp} and oup {oup} values. If stride == 1 then inp should be equal to oup // 2 << 1.")
        if stride > 1:
            self.branch1 = nn.Sequential(
                nn.Conv2d(inp, inp, 3, stride, 1, bias=False, groups=inp), nn.BatchNorm2d(inp),
                nn.Conv2d(inp, half, kernel_size=1, stride=1, padding=0, bias=False), nn.BatchNorm2d(half), nn.ReLU(inplace=True),
            )
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            nn.Conv2d(inp if stride > 1 else half, half, kernel_size=1, stride=1, padding=0, bias=False), nn.BatchNorm2d(half), nn.ReLU(inplace=True),
            nn.Conv2d(half, half, 3, stride, 1, bias=False, groups=half), nn.BatchNorm2d(half),
            nn.Conv2d(half, half, kernel_size=1, stride=1, padding=0, bias=False), nn.BatchNorm2d(half), nn.ReLU(inplace=True),
        )

    def forward(self, x):
        if self.stride == 1:
            a, b = x.chunk(2, dim=1)
            out = torch.cat((a, self.branch2(b)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    def __init__(self, stages_repeats, stages_out_channels, num_classes=1000, inverted_residual=None):
        super().__init__()
        if len(stages_repeats) != 3:
            raise ValueError("expected stages_repeats as list of 3 positive ints")
        if len(stages_out_channels) != 5:
            raise ValueError("expected stages_out_channels as list of 5 positive ints")
        unit = inverted_residual or InvertedResidual
        self._stage_out_channels = stages_out_channels
        channels = stages_out_channels[0]
        self.conv1 = nn.Sequential(nn.Conv2d(3, channels, 3, 2, 1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(inplace=True))
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for i in range(3):
            out = stages_out_channels[i + 1]
            units = [unit(channels, out, 2)]
            for _ in range(stages_repeats[i] - 1):
                units.append(unit(out, out, 1))
            setattr(self, f"stage{i + 2}", nn.Sequential(*units))
            channels = out
        last = stages_out_channels[-1]
        self.conv5 = nn.Sequential(nn.Conv2d(channels, last, 1, 1, 0, bias=False), nn.BatchNorm2d(last), nn.ReLU(inplace=True))
        self.fc = nn.Linear(last, num_classes)

    def forward(self, x):
        x = self.maxpool(self.conv1(x))
        x = self.stage4(self.stage3(self.stage2(x)))
        x = self.conv5(x)
        x = x.mean([2, 3])
        return self.fc(x)


def _shufflenet(widths, weights, kwargs):
    _with_weights(weights, kwargs)
    return ShuffleNetV2([4, 8, 4], widths, **kwargs)


def shufflenet_v2_x0_5(*, weights=None, progress=True, **kwargs):
    return _shufflenet([24, 48, 96, 192, 1024], weights, kwargs)


def shufflenet_v2_x1_0(*, weights=None, progress=True, **kwargs):
    return _shufflenet([24, 116, 232, 464, 1024], weights, kwargs)


def shufflenet_v2_x1_5(*, weights=None, progress=True, **kwargs):
    return _shufflenet([24, 176, 352, 704, 1024], weights, kwargs)


def shufflenet_v2_x2_0(*, weights=None, progress=True, **kwargs):
    return _shufflenet([24, 244, 488, 976, 2048], weights, kwargs)

`;

/** EfficientNet B0–B7. */
export const TV_EFFICIENTNET_SOURCE = `
class MBConvConfig:
    def __init__(self, expand_ratio, kernel, stride, input_channels, out_channels, num_layers, width_mult=1.0, depth_mult=1.0):
        self.expand_ratio = expand_ratio
        self.kernel = kernel
        self.stride = stride
        self.input_channels = _make_divisible(input_channels * width_mult, 8)
        self.out_channels = _make_divisible(out_channels * width_mult, 8)
        self.num_layers = int(math.ceil(num_layers * depth_mult))


class MBConv(nn.Module):
    def __init__(self, cnf, stochastic_depth_prob, norm_layer, input_channels, stride):
        super().__init__()
        if not (1 <= stride <= 2):
            raise ValueError("illegal stride value")
        self.use_res_connect = stride == 1 and input_channels == cnf.out_channels
        expanded = _make_divisible(input_channels * cnf.expand_ratio, 8)
        parts = []
        if expanded != input_channels:
            parts.append(Conv2dNormActivation(input_channels, expanded, kernel_size=1, norm_layer=norm_layer, activation_layer=nn.SiLU))
        parts.append(Conv2dNormActivation(expanded, expanded, kernel_size=cnf.kernel, stride=stride, groups=expanded, norm_layer=norm_layer, activation_layer=nn.SiLU))
        parts.append(SqueezeExcitation(expanded, max(1, input_channels // 4), activation=nn.SiLU))
        parts.append(Conv2dNormActivation(expanded, cnf.out_channels, kernel_size=1, norm_layer=norm_layer, activation_layer=None))
        self.block = nn.Sequential(*parts)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, x):
        y = self.block(x)
        if self.use_res_connect:
            y = self.stochastic_depth(y)
            y += x
        return y


class EfficientNet(nn.Module):
    def __init__(self, inverted_residual_setting, dropout, stochastic_depth_prob=0.2, num_classes=1000, norm_layer=None, last_channel=None):
        super().__init__()
        norm = norm_layer or nn.BatchNorm2d
        first = inverted_residual_setting[0].input_channels
        feats = [Conv2dNormActivation(3, first, kernel_size=3, stride=2, norm_layer=norm, activation_layer=nn.SiLU)]
        total = sum(cnf.num_layers for cnf in inverted_residual_setting)
        k = 0
        for cnf in inverted_residual_setting:
            stage = []
            for j in range(cnf.num_layers):
                # The first block of a stage changes width and stride; the rest keep them.
                stage.append(MBConv(cnf, stochastic_depth_prob * float(k) / total, norm,
                                    cnf.input_channels if j == 0 else cnf.out_channels, cnf.stride if j == 0 else 1))
                k += 1
            feats.append(nn.Sequential(*stage))
        last_in = inverted_residual_setting[-1].out_channels
        last_out = last_channel if last_channel is not None else 4 * last_in
        feats.append(Conv2dNormActivation(last_in, last_out, kernel_size=1, norm_layer=norm, activation_layer=nn.SiLU))
        self.features = nn.Sequential(*feats)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True), nn.Linear(last_out, num_classes))

    def forward(self, x):
        x = self.avgpool(self.features(x))
        x = torch.flatten(x, 1)
        return self.classifier(x)


def _efficientnet(width_mult, depth_mult, dropout, weights, kwargs):
    _with_weights(weights, kwargs)
    table = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
             (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]
    setting = [MBConvConfig(e, k, s, i, o, n, width_mult, depth_mult) for e, k, s, i, o, n in table]
    if "dropout" in kwargs:
        # torchvision 0.14 passes the variant's dropout itself.
        raise TypeError("_efficientnet() got multiple values for argument 'dropout'")
    return EfficientNet(setting, dropout, **kwargs)


def efficientnet_b0(*, weights=None, progress=True, **kwargs):
    return _efficientnet(1.0, 1.0, 0.2, weights, kwargs)


def efficientnet_b1(*, weights=None, progress=True, **kwargs):
    return _efficientnet(1.0, 1.1, 0.2, weights, kwargs)


def efficientnet_b2(*, weights=None, progress=True, **kwargs):
    return _efficientnet(1.1, 1.2, 0.3, weights, kwargs)


def efficientnet_b3(*, weights=None, progress=True, **kwargs):
    return _efficientnet(1.2, 1.4, 0.3, weights, kwargs)


def efficientnet_b4(*, weights=None, progress=True, **kwargs):
    return _efficientnet(1.4, 1.8, 0.4, weights, kwargs)


# The largest three were trained with TensorFlow's batch-norm settings.
def efficientnet_b5(*, weights=None, progress=True, **kwargs):
    return _efficientnet(1.6, 2.2, 0.4, weights, {"norm_layer": partial(nn.BatchNorm2d, eps=0.001, momentum=0.01), **kwargs})


def efficientnet_b6(*, weights=None, progress=True, **kwargs):
    return _efficientnet(1.8, 2.6, 0.5, weights, {"norm_layer": partial(nn.BatchNorm2d, eps=0.001, momentum=0.01), **kwargs})


def efficientnet_b7(*, weights=None, progress=True, **kwargs):
    return _efficientnet(2.0, 3.1, 0.5, weights, {"norm_layer": partial(nn.BatchNorm2d, eps=0.001, momentum=0.01), **kwargs})
`;
