/**
 * MobileNetV3Small and MobileNetV3Large (Howard et al., 2019) as keras.applications builds
 * them: an optional rescaling to [-1, 1], a 3×3/2 stem, inverted residual blocks with
 * squeeze-and-excitation gated by a hard sigmoid (ReLU6(x + 3) / 6) and hard-swish or ReLU
 * activations, a 1×1 head and a 1×1-convolution classifier. `minimalistic` drops SE, hard-swish
 * and 5×5 kernels. Layer names are Keras'; the unnamed activations take Keras' counters.
 */
export const MOBILENET_V3_SOURCE = `
def _relu(x):
    return layers.ReLU()(x)

def _hard_sigmoid(x):
    return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)

def _hard_swish(x):
    return layers.Activation("hard_swish")(x)

def _squeeze_excite(inputs, filters, se_ratio, prefix):
    x = layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}squeeze_excite_avg_pool")(inputs)
    x = layers.Conv2D(_make_divisible(filters * se_ratio), kernel_size=1, padding="same", name=f"{prefix}squeeze_excite_conv")(x)
    x = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(x)
    x = layers.Conv2D(filters, kernel_size=1, padding="same", name=f"{prefix}squeeze_excite_conv_1")(x)
    x = _hard_sigmoid(x)
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([inputs, x])

def _bn(x, name):
    return layers.BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name=name)(x)

def _block(x, expansion, filters, kernel_size, stride, se_ratio, activation, block_id):
    shortcut = x
    in_filters = x.shape[-1]
    expanded = _make_divisible(in_filters * expansion)
    prefix = "expanded_conv_"
    if block_id:
        prefix = f"expanded_conv_{block_id}_"
        x = layers.Conv2D(expanded, kernel_size=1, padding="same", use_bias=False, name=f"{prefix}expand")(x)
        x = activation(_bn(x, f"{prefix}expand_bn"))
    if stride == 2:
        x = layers.ZeroPadding2D(padding=_correct_pad(x, kernel_size), name=f"{prefix}depthwise_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=stride, padding="same" if stride == 1 else "valid", use_bias=False, name=f"{prefix}depthwise")(x)
    x = activation(_bn(x, f"{prefix}depthwise_bn"))
    if se_ratio:
        x = _squeeze_excite(x, expanded, se_ratio, prefix)
    x = layers.Conv2D(filters, kernel_size=1, padding="same", use_bias=False, name=f"{prefix}project")(x)
    x = _bn(x, f"{prefix}project_bn")
    if stride == 1 and in_filters == filters:
        x = layers.Add(name=f"{prefix}add")([shortcut, x])
    return x

# Blocks as (expansion, filters, kernel, stride, squeeze-excite, activation); kernel "k" is
# 5 (3 when minimalistic), activation "hs" hard-swish (ReLU when minimalistic).
_SMALL = [(1, 16, 3, 2, True, "relu"), (72.0 / 16, 24, 3, 2, False, "relu"), (88.0 / 24, 24, 3, 1, False, "relu"),
          (4, 40, "k", 2, True, "hs"), (6, 40, "k", 1, True, "hs"), (6, 40, "k", 1, True, "hs"), (3, 48, "k", 1, True, "hs"),
          (3, 48, "k", 1, True, "hs"), (6, 96, "k", 2, True, "hs"), (6, 96, "k", 1, True, "hs"), (6, 96, "k", 1, True, "hs")]
_LARGE = [(1, 16, 3, 1, False, "relu"), (4, 24, 3, 2, False, "relu"), (3, 24, 3, 1, False, "relu"), (3, 40, "k", 2, True, "relu"),
          (3, 40, "k", 1, True, "relu"), (3, 40, "k", 1, True, "relu"), (6, 80, 3, 2, False, "hs"), (2.5, 80, 3, 1, False, "hs"),
          (2.3, 80, 3, 1, False, "hs"), (2.3, 80, 3, 1, False, "hs"), (6, 112, 3, 1, True, "hs"), (6, 112, 3, 1, True, "hs"),
          (6, 160, "k", 2, True, "hs"), (6, 160, "k", 1, True, "hs"), (6, 160, "k", 1, True, "hs")]

def _mobilenet_v3(blocks, last_point_ch, input_shape, alpha, minimalistic, include_top, weights, input_tensor, classes, pooling, dropout_rate, classifier_activation, include_preprocessing, name):
    _check_weights(weights, include_top, classes)
    if input_tensor is not None and input_shape is not None and backend.is_keras_tensor(input_tensor) and input_tensor.shape[2] != input_shape[1]:
        raise ValueError(f"input_shape[1] must equal input_tensor.shape[2]. Received input_shape={input_shape}, input_tensor.shape={input_tensor.shape}")
    if input_shape is None and input_tensor is not None and backend.is_keras_tensor(input_tensor):
        # Keras reads the size from the tensor (columns first: it only matters for the checks below).
        input_shape = (input_tensor.shape[2], input_tensor.shape[1], 3)
    if input_shape is None:
        input_shape = (None, None, 3)
    rows, cols = input_shape[0], input_shape[1]
    if rows and cols and (rows < 32 or cols < 32):
        raise ValueError(f"Input size must be at least 32x32; Received \`input_shape={input_shape}\`")
    if weights == "imagenet" and ((not minimalistic and alpha not in [0.75, 1.0]) or (minimalistic and alpha != 1.0)):
        raise ValueError("If imagenet weights are being loaded, alpha can be one of \`0.75\`, \`1.0\` for non minimalistic or \`1.0\` for minimalistic only.")
    img_input = _image_input(input_tensor, input_shape)
    kernel = 3 if minimalistic else 5
    activation = _relu if minimalistic else _hard_swish
    se_ratio = None if minimalistic else 0.25
    x = img_input
    if include_preprocessing:
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
    x = layers.Conv2D(16, kernel_size=3, strides=(2, 2), padding="same", use_bias=False, name="conv")(x)
    x = activation(_bn(x, "conv_bn"))
    for block_id, (expansion, filters, k, stride, se, act) in enumerate(blocks):
        x = _block(x, expansion, _make_divisible(filters * alpha), kernel if k == "k" else k, stride, se_ratio if se else None, activation if act == "hs" else _relu, block_id)
    last_conv_ch = _make_divisible(x.shape[-1] * 6)
    if alpha > 1.0:
        last_point_ch = _make_divisible(last_point_ch * alpha)
    x = layers.Conv2D(last_conv_ch, kernel_size=1, padding="same", use_bias=False, name="conv_1")(x)
    x = activation(_bn(x, "conv_1_bn"))
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Conv2D(last_point_ch, kernel_size=1, padding="same", use_bias=True, name="conv_2")(x)
        x = activation(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate)(x)
        x = layers.Conv2D(classes, kernel_size=1, padding="same", name="logits")(x)
        x = layers.Flatten()(x)
        _check_classifier(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = _pooled(x, pooling, "avg_pool", "max_pool")
    return _model(input_tensor, img_input, x, name)

def MobileNetV3Small(input_shape=None, alpha=1.0, minimalistic=False, include_top=True, weights="imagenet", input_tensor=None, classes=1000, pooling=None, dropout_rate=0.2, classifier_activation="softmax", include_preprocessing=True, name="MobileNetV3Small"):
    return _mobilenet_v3(_SMALL, 1024, input_shape, alpha, minimalistic, include_top, weights, input_tensor, classes, pooling, dropout_rate, classifier_activation, include_preprocessing, name)

def MobileNetV3Large(input_shape=None, alpha=1.0, minimalistic=False, include_top=True, weights="imagenet", input_tensor=None, classes=1000, pooling=None, dropout_rate=0.2, classifier_activation="softmax", include_preprocessing=True, name="MobileNetV3Large"):
    return _mobilenet_v3(_LARGE, 1280, input_shape, alpha, minimalistic, include_top, weights, input_tensor, classes, pooling, dropout_rate, classifier_activation, include_preprocessing, name)
`;
