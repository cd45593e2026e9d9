/**
 * EfficientNetB0–B7 (Tan & Le, 2019) as keras.applications builds them: input scaling and
 * normalisation layers, a 3×3/2 stem, seven stages of MBConv blocks (1×1 expansion, k×k
 * depthwise, squeeze-and-excitation, linear 1×1 projection, a drop-connect Dropout and a
 * residual sum where shapes allow), and a 1×1 head. B1–B7 scale the B0 stages' widths and
 * repeats by compound coefficients. Layer names are Keras' (`block2a_expand_conv`, …).
 */
export const EFFICIENTNET_SOURCE = `
import math

# The B0 stages: (kernel, repeats, filters in, filters out, expansion, stride); every block has SE ratio 0.25.
_STAGES = [(3, 1, 32, 16, 1, 1), (3, 2, 16, 24, 6, 2), (5, 2, 24, 40, 6, 2), (3, 3, 40, 80, 6, 2), (5, 3, 80, 112, 6, 1), (5, 4, 112, 192, 6, 2), (3, 1, 192, 320, 6, 1)]

def _mbconv(inputs, activation, drop_rate, name, filters_in, filters_out, kernel_size, strides, expand_ratio, se_ratio=0.25):
    filters = filters_in * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"{name}expand_conv")(x)
        x = layers.BatchNormalization(axis=3, name=f"{name}expand_bn")(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(x)
    if strides == 2:
        x = layers.ZeroPadding2D(padding=_correct_pad(x, kernel_size), name=f"{name}dwconv_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=strides, padding="valid" if strides == 2 else "same", use_bias=False, name=f"{name}dwconv")(x)
    x = layers.BatchNormalization(axis=3, name=f"{name}bn")(x)
    x = layers.Activation(activation, name=f"{name}activation")(x)
    # Squeeze and excitation: per-channel weights from the pooled map.
    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se = layers.Reshape((1, 1, filters), name=f"{name}se_reshape")(se)
    se = layers.Conv2D(max(1, int(filters_in * se_ratio)), 1, padding="same", activation=activation, name=f"{name}se_reduce")(se)
    se = layers.Conv2D(filters, 1, padding="same", activation="sigmoid", name=f"{name}se_expand")(se)
    x = layers.multiply([x, se], name=f"{name}se_excite")
    x = layers.Conv2D(filters_out, 1, padding="same", use_bias=False, name=f"{name}project_conv")(x)
    x = layers.BatchNormalization(axis=3, name=f"{name}project_bn")(x)
    if strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x

def _efficientnet(width, depth, default_size, dropout_rate, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name, drop_connect_rate=0.2, activation="swish"):
    _check_weights(weights, include_top, classes)
    input_shape = _input_shape(input_shape, default_size, 32, include_top, weights)
    img_input = _image_input(input_tensor, input_shape)

    def widen(filters):
        return _make_divisible(filters * width, 8)

    def repeat(n):
        return int(math.ceil(depth * n))

    x = layers.Rescaling(1.0 / 255.0)(img_input)
    x = layers.Normalization(axis=3)(x)
    if weights == "imagenet":
        # The pretrained weights expect ImageNet's standard deviation divided out.
        x = layers.Rescaling([1.0 / math.sqrt(s) for s in [0.229, 0.224, 0.225]])(x)
    x = layers.ZeroPadding2D(padding=_correct_pad(x, 3), name="stem_conv_pad")(x)
    x = layers.Conv2D(widen(32), 3, strides=2, padding="valid", use_bias=False, name="stem_conv")(x)
    x = layers.BatchNormalization(axis=3, name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)
    total = float(sum(repeat(stage[1]) for stage in _STAGES))
    b = 0
    for i, (kernel, repeats, filters_in, filters_out, expansion, stride) in enumerate(_STAGES):
        for j in range(repeat(repeats)):
            # Later repeats of a stage keep its width and size; drop-connect grows with depth.
            x = _mbconv(x, activation, drop_connect_rate * b / total, f"block{i + 1}{chr(j + 97)}_", widen(filters_in) if j == 0 else widen(filters_out), widen(filters_out), kernel, stride if j == 0 else 1, expansion)
            b += 1
    x = layers.Conv2D(widen(1280), 1, padding="same", use_bias=False, name="top_conv")(x)
    x = layers.BatchNormalization(axis=3, name="top_bn")(x)
    x = layers.Activation(activation, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        _check_classifier(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _pooled(x, pooling, "avg_pool", "max_pool")
    return _model(input_tensor, img_input, x, name)

def EfficientNetB0(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="efficientnetb0"):
    return _efficientnet(1.0, 1.0, 224, 0.2, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)

def EfficientNetB1(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="efficientnetb1"):
    return _efficientnet(1.0, 1.1, 240, 0.2, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)

def EfficientNetB2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="efficientnetb2"):
    return _efficientnet(1.1, 1.2, 260, 0.3, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)

def EfficientNetB3(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="efficientnetb3"):
    return _efficientnet(1.2, 1.4, 300, 0.3, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)

def EfficientNetB4(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="efficientnetb4"):
    return _efficientnet(1.4, 1.8, 380, 0.4, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)

def EfficientNetB5(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="efficientnetb5"):
    return _efficientnet(1.6, 2.2, 456, 0.4, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)

def EfficientNetB6(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="efficientnetb6"):
    return _efficientnet(1.8, 2.6, 528, 0.5, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)

def EfficientNetB7(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="efficientnetb7"):
    return _efficientnet(2.0, 3.1, 600, 0.5, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)
`;
