/**
 * ResNet (He et al., 2015) and ResNetV2 (He et al., 2016) as keras.applications builds them.
 * Both open with a 7×7/2 convolution and a 3×3/2 max pool, then four stages of bottleneck
 * blocks (1×1 reduce, 3×3, 1×1 expand to 4× the width) named `conv2`…`conv5`. V1 adds the
 * block to its input and applies ReLU after (batch norm after each convolution, stride in the
 * first block's 1×1); V2 normalises before each convolution ("pre-activation"), strides in the
 * last block of a stage, and closes with `post_bn`/`post_relu`. Layer names are Keras'.
 */
export const RESNET_SOURCE = `
def _bn(x, name):
    return layers.BatchNormalization(axis=3, epsilon=1.001e-5, name=name)(x)

def _block_v1(x, filters, stride, project, name):
    if project:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = _bn(shortcut, f"{name}_0_bn")
    else:
        shortcut = x
    # 1x1 (carrying the stride), 3x3, then the 1x1 expansion without activation before the sum.
    for i, (width, kernel, strides) in enumerate([(filters, 1, stride), (filters, 3, 1), (4 * filters, 1, 1)]):
        x = layers.Conv2D(width, kernel, strides=strides, padding="same" if kernel == 3 else "valid", name=f"{name}_{i + 1}_conv")(x)
        x = _bn(x, f"{name}_{i + 1}_bn")
        if i < 2:
            x = layers.Activation("relu", name=f"{name}_{i + 1}_relu")(x)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)

def _block_v2(x, filters, stride, project, name):
    preact = _bn(x, f"{name}_preact_bn")
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(preact)
    if project:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(preact)
    elif stride > 1:
        shortcut = layers.MaxPooling2D(1, strides=stride)(x)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=1, use_bias=False, name=f"{name}_1_conv")(preact)
    x = _bn(x, f"{name}_1_bn")
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_2_pad")(x)
    x = layers.Conv2D(filters, 3, strides=stride, use_bias=False, name=f"{name}_2_conv")(x)
    x = _bn(x, f"{name}_2_bn")
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    return layers.Add(name=f"{name}_out")([shortcut, x])

def _resnet(depths, preact, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name):
    _check_weights(weights, include_top, classes)
    input_shape = _input_shape(input_shape, 224, 32, include_top, weights)
    img_input = _image_input(input_tensor, input_shape)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = layers.Conv2D(64, 7, strides=2, name="conv1_conv")(x)
    if not preact:
        x = _bn(x, "conv1_bn")
        x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, blocks in enumerate(depths):
        filters = 64 * 2 ** stage
        prefix = f"conv{stage + 2}"
        for b in range(1, blocks + 1):
            if preact:
                # V2 downsamples in the last block of each stage but the last one.
                stride = 2 if b == blocks and stage < 3 else 1
                x = _block_v2(x, filters, stride, b == 1, f"{prefix}_block{b}")
            else:
                stride = 2 if b == 1 and stage > 0 else 1
                x = _block_v1(x, filters, stride, b == 1, f"{prefix}_block{b}")
    if preact:
        x = _bn(x, "post_bn")
        x = layers.Activation("relu", name="post_relu")(x)
    if include_top:
        x = _classifier(x, classes, classifier_activation, weights)
    else:
        x = _pooled(x, pooling, "avg_pool", "max_pool")
    return _model(input_tensor, img_input, x, name)

def ResNet50(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="resnet50"):
    return _resnet([3, 4, 6, 3], False, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)

def ResNet101(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="resnet101"):
    return _resnet([3, 4, 23, 3], False, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)

def ResNet152(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="resnet152"):
    return _resnet([3, 8, 36, 3], False, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)

def ResNet50V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="resnet50v2"):
    return _resnet([3, 4, 6, 3], True, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)

def ResNet101V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="resnet101v2"):
    return _resnet([3, 4, 23, 3], True, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)

def ResNet152V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="resnet152v2"):
    return _resnet([3, 8, 36, 3], True, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)
`;
