/**
 * MobileNet (Howard et al., 2017) and MobileNetV2 (Sandler et al., 2018) as keras.applications
 * builds them. V1: a strided 3×3 convolution, then thirteen depthwise-separable blocks (3×3
 * depthwise, 1×1 pointwise, each with batch norm and ReLU6), widths scaled by `alpha` and the
 * depthwise channels by `depth_multiplier`; its top is a 1×1 convolution over the pooled map.
 * V2: inverted residual blocks (1×1 expansion, 3×3 depthwise, linear 1×1 projection, added to
 * the input when the shapes agree). Both name the model after `alpha` and the input rows, as
 * Keras does (`mobilenet_1.00_224`). Layer names are Keras'.
 */
export const MOBILENET_SOURCE = `
def _separable_block(x, filters, alpha, depth_multiplier, stride, block_id):
    if stride == 2:
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D((3, 3), padding="same" if stride == 1 else "valid", depth_multiplier=depth_multiplier, strides=stride, use_bias=False, name=f"conv_dw_{block_id}")(x)
    x = layers.BatchNormalization(axis=-1, name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(int(filters * alpha), (1, 1), padding="same", use_bias=False, strides=(1, 1), name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(axis=-1, name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)

def MobileNet(input_shape=None, alpha=1.0, depth_multiplier=1, dropout=1e-3, include_top=True, weights="imagenet", input_tensor=None, pooling=None, classes=1000, classifier_activation="softmax", name=None):
    _check_weights(weights, include_top, classes)
    default_size = 224
    if input_shape is not None and input_shape[0] == input_shape[1] and input_shape[0] in [128, 160, 192, 224]:
        default_size = input_shape[0]
    input_shape = _input_shape(input_shape, default_size, 32, include_top, weights)
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise ValueError(f"If imagenet weights are being loaded, depth multiplier must be 1. Received depth_multiplier={depth_multiplier}")
        if alpha not in [0.25, 0.50, 0.75, 1.0]:
            raise ValueError(f"If imagenet weights are being loaded, alpha can be one of \`0.25\`, \`0.50\`, \`0.75\` or \`1.0\` only. Received alpha={alpha}")
    rows = _rows_for_weights(weights, input_shape[0], input_shape[1], [128, 160, 192, 224])
    img_input = _image_input(input_tensor, input_shape)
    x = layers.Conv2D(int(32 * alpha), (3, 3), padding="same", use_bias=False, strides=(2, 2), name="conv1")(img_input)
    x = layers.BatchNormalization(axis=-1, name="conv1_bn")(x)
    x = layers.ReLU(6.0, name="conv1_relu")(x)
    blocks = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    for block_id, (filters, stride) in enumerate(blocks):
        x = _separable_block(x, filters, alpha, depth_multiplier, stride, block_id + 1)
    if include_top:
        # The classifier is a 1x1 convolution over the pooled 1x1 map.
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        _check_classifier(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = _pooled(x, pooling)
    if name is None:
        name = f"mobilenet_{alpha:0.2f}_{rows}"
    return _model(input_tensor, img_input, x, name)
`;

export const MOBILENET_V2_SOURCE = `
def _inverted_residual(inputs, filters, alpha, stride, expansion, block_id):
    in_channels = inputs.shape[-1]
    out_channels = _make_divisible(int(filters * alpha), 8)
    x = inputs
    if block_id:
        prefix = f"block_{block_id}_"
        x = layers.Conv2D(expansion * in_channels, kernel_size=1, padding="same", use_bias=False, activation=None, name=f"{prefix}expand")(x)
        x = layers.BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name=f"{prefix}expand_BN")(x)
        x = layers.ReLU(6.0, name=f"{prefix}expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D(padding=_correct_pad(x, 3), name=f"{prefix}pad")(x)
    x = layers.DepthwiseConv2D(kernel_size=3, strides=stride, activation=None, use_bias=False, padding="same" if stride == 1 else "valid", name=f"{prefix}depthwise")(x)
    x = layers.BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name=f"{prefix}depthwise_BN")(x)
    x = layers.ReLU(6.0, name=f"{prefix}depthwise_relu")(x)
    x = layers.Conv2D(out_channels, kernel_size=1, padding="same", use_bias=False, activation=None, name=f"{prefix}project")(x)
    x = layers.BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name=f"{prefix}project_BN")(x)
    if in_channels == out_channels and stride == 1:
        return layers.Add(name=f"{prefix}add")([inputs, x])
    return x

def MobileNetV2(input_shape=None, alpha=1.0, include_top=True, weights="imagenet", input_tensor=None, pooling=None, classes=1000, classifier_activation="softmax", name=None):
    _check_weights(weights, include_top, classes)
    sizes = [96, 128, 160, 192, 224]
    if input_tensor is not None and input_shape is not None and backend.is_keras_tensor(input_tensor) and input_tensor.shape[2] != input_shape[1]:
        raise ValueError(f"input_tensor.shape[2] must equal input_shape[1]; Received \`input_tensor.shape={input_tensor.shape}\`, \`input_shape={input_shape}\`")
    # The default size follows the input (given as a shape or as a tensor) when weights exist for it.
    given = input_shape
    if given is None and input_tensor is not None and backend.is_keras_tensor(input_tensor):
        given = input_tensor.shape[1:]
    default_size = 224
    if given is not None and given[0] == given[1] and given[0] in sizes:
        default_size = given[0]
    input_shape = _input_shape(input_shape, default_size, 32, include_top, weights)
    if weights == "imagenet" and alpha not in [0.35, 0.50, 0.75, 1.0, 1.3, 1.4]:
        raise ValueError(f"If imagenet weights are being loaded, alpha must be one of \`0.35\`, \`0.50\`, \`0.75\`, \`1.0\`, \`1.3\` or \`1.4\` only; Received \`alpha={alpha}\`")
    rows = _rows_for_weights(weights, input_shape[0], input_shape[1], sizes)
    img_input = _image_input(input_tensor, input_shape)
    x = layers.Conv2D(_make_divisible(32 * alpha, 8), kernel_size=3, strides=(2, 2), padding="same", use_bias=False, name="Conv1")(img_input)
    x = layers.BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name="bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    # (filters, repeats, stride of the first repeat, expansion)
    block_id = 0
    for filters, repeats, stride, expansion in [(16, 1, 1, 1), (24, 2, 2, 6), (32, 3, 2, 6), (64, 4, 2, 6), (96, 3, 1, 6), (160, 3, 2, 6), (320, 1, 1, 6)]:
        for i in range(repeats):
            x = _inverted_residual(x, filters, alpha, stride if i == 0 else 1, expansion, block_id)
            block_id += 1
    last_filters = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last_filters, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = layers.BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name="Conv_1_bn")(x)
    x = layers.ReLU(6.0, name="out_relu")(x)
    if include_top:
        x = _classifier(x, classes, classifier_activation, weights, pool=None)
    else:
        x = _pooled(x, pooling)
    if name is None:
        name = f"mobilenetv2_{alpha:0.2f}_{rows}"
    return _model(input_tensor, img_input, x, name)
`;
