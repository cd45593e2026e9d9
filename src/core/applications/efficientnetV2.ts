/**
 * EfficientNetV2 B0–B3, S, M and L (Tan & Le, 2021) as keras.applications builds them: input
 * scaling (with ImageNet normalisation for the B variants), a 3×3/2 stem, stages of
 * Fused-MBConv blocks (one k×k convolution in place of the 1×1 expansion and depthwise pair)
 * followed by MBConv blocks with squeeze-and-excitation, and a 1×1 head. Keras finds a variant's
 * stage table by the model's name, so it refuses any other `name`; so does this definition.
 * Layer names are Keras' (`block1a_project_conv`, …).
 */
export const EFFICIENTNET_V2_SOURCE = `
import math

# Stages as (fused, kernel, repeats, filters in, filters out, expansion, SE ratio, stride).
_B = [(True, 3, 1, 32, 16, 1, 0, 1), (True, 3, 2, 16, 32, 4, 0, 2), (True, 3, 2, 32, 48, 4, 0, 2),
      (False, 3, 3, 48, 96, 4, 0.25, 2), (False, 3, 5, 96, 112, 6, 0.25, 1), (False, 3, 8, 112, 192, 6, 0.25, 2)]
_STAGES = {
    "efficientnetv2-b0": _B, "efficientnetv2-b1": _B, "efficientnetv2-b2": _B, "efficientnetv2-b3": _B,
    "efficientnetv2-s": [(True, 3, 2, 24, 24, 1, 0, 1), (True, 3, 4, 24, 48, 4, 0, 2), (True, 3, 4, 48, 64, 4, 0, 2),
                         (False, 3, 6, 64, 128, 4, 0.25, 2), (False, 3, 9, 128, 160, 6, 0.25, 1), (False, 3, 15, 160, 256, 6, 0.25, 2)],
    "efficientnetv2-m": [(True, 3, 3, 24, 24, 1, 0, 1), (True, 3, 5, 24, 48, 4, 0, 2), (True, 3, 5, 48, 80, 4, 0, 2),
                         (False, 3, 7, 80, 160, 4, 0.25, 2), (False, 3, 14, 160, 176, 6, 0.25, 1), (False, 3, 18, 176, 304, 6, 0.25, 2),
                         (False, 3, 5, 304, 512, 6, 0.25, 1)],
    "efficientnetv2-l": [(True, 3, 4, 32, 32, 1, 0, 1), (True, 3, 7, 32, 64, 4, 0, 2), (True, 3, 7, 64, 96, 4, 0, 2),
                         (False, 3, 10, 96, 192, 4, 0.25, 2), (False, 3, 19, 192, 224, 6, 0.25, 1), (False, 3, 25, 224, 384, 6, 0.25, 2),
                         (False, 3, 7, 384, 640, 6, 0.25, 1)],
}

def _round_filters(filters, width):
    # Unlike V1, no correction upwards when rounding loses more than 10%.
    return int(max(8, int(filters * width + 4) // 8 * 8))

def _bn_act(x, name, activation):
    x = layers.BatchNormalization(axis=3, momentum=0.9, name=f"{name}bn" if name.endswith("_") else f"{name}_bn")(x)
    return layers.Activation(activation, name=f"{name}activation" if name.endswith("_") else f"{name}_activation")(x)

def _squeeze_excite(x, filters_in, filters, se_ratio, name, activation):
    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se = layers.Reshape((1, 1, filters), name=f"{name}se_reshape")(se)
    se = layers.Conv2D(max(1, int(filters_in * se_ratio)), 1, padding="same", activation=activation, name=f"{name}se_reduce")(se)
    se = layers.Conv2D(filters, 1, padding="same", activation="sigmoid", name=f"{name}se_expand")(se)
    return layers.multiply([x, se], name=f"{name}se_excite")

def _block(inputs, fused, kernel, filters_in, filters_out, expansion, se_ratio, stride, drop_rate, name, activation):
    filters = filters_in * expansion
    x = inputs
    if expansion != 1:
        # Fused: the expansion is the k x k (strided) convolution itself.
        x = layers.Conv2D(filters, kernel_size=kernel if fused else 1, strides=stride if fused else 1, padding="same", use_bias=False, name=f"{name}expand_conv")(x)
        x = _bn_act(x, f"{name}expand", activation)
    if not fused:
        x = layers.DepthwiseConv2D(kernel_size=kernel, strides=stride, padding="same", use_bias=False, name=f"{name}dwconv2")(x)
        x = _bn_act(x, name, activation)
    if 0 < se_ratio <= 1:
        x = _squeeze_excite(x, filters_in, filters, se_ratio, name, activation)
    # A fused block without expansion does its k x k convolution here, as the projection.
    alone = fused and expansion == 1
    x = layers.Conv2D(filters_out, kernel_size=kernel if alone else 1, strides=stride if alone else 1, padding="same", use_bias=False, name=f"{name}project_conv")(x)
    x = layers.BatchNormalization(axis=3, momentum=0.9, name=f"{name}project_bn")(x)
    if alone:
        x = layers.Activation(activation, name=f"{name}project_activation")(x)
    if stride == 1 and filters_in == filters_out:
        if drop_rate:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x

def _efficientnet_v2(width, depth, default_size, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, include_preprocessing, name, dropout_rate=0.2, drop_connect_rate=0.2, activation="swish"):
    if name not in _STAGES:
        raise ValueError(f"Keras looks up the EfficientNetV2 architecture by the model's name, so \`name\` must stay one of {sorted(_STAGES)} (Keras raises KeyError: '{name}')")
    stages = _STAGES[name]
    _check_weights(weights, include_top, classes)
    input_shape = _input_shape(input_shape, default_size, 32, include_top, weights)
    img_input = _image_input(input_tensor, input_shape)
    x = img_input
    if include_preprocessing:
        if name.split("-")[-1].startswith("b") and input_shape[2] == 3:
            x = layers.Rescaling(scale=1.0 / 255)(x)
            x = layers.Normalization(mean=[0.485, 0.456, 0.406], variance=[0.229**2, 0.224**2, 0.225**2], axis=3)(x)
        else:
            x = layers.Rescaling(scale=1.0 / 128.0, offset=-1)(x)
    x = layers.Conv2D(_round_filters(stages[0][3], width), kernel_size=3, strides=2, padding="same", use_bias=False, name="stem_conv")(x)
    x = _bn_act(x, "stem", activation)
    # Drop-connect grows over the blocks, counted before depth scaling (as Keras counts them).
    total = float(sum(stage[2] for stage in stages))
    b = 0
    for i, (fused, kernel, repeats, filters_in, filters_out, expansion, se_ratio, stride) in enumerate(stages):
        filters_in, filters_out = _round_filters(filters_in, width), _round_filters(filters_out, width)
        for j in range(int(math.ceil(depth * repeats))):
            x = _block(x, fused, kernel, filters_in if j == 0 else filters_out, filters_out, expansion, se_ratio, stride if j == 0 else 1, drop_connect_rate * b / total, f"block{i + 1}{chr(j + 97)}_", activation)
            b += 1
    x = layers.Conv2D(_round_filters(1280, width), kernel_size=1, strides=1, padding="same", use_bias=False, name="top_conv")(x)
    x = _bn_act(x, "top", activation)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        _check_classifier(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _pooled(x, pooling, "avg_pool", "max_pool")
    return _model(input_tensor, img_input, x, name)

def EfficientNetV2B0(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", include_preprocessing=True, name="efficientnetv2-b0"):
    return _efficientnet_v2(1.0, 1.0, 224, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, include_preprocessing, name)

def EfficientNetV2B1(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", include_preprocessing=True, name="efficientnetv2-b1"):
    return _efficientnet_v2(1.0, 1.1, 240, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, include_preprocessing, name)

def EfficientNetV2B2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", include_preprocessing=True, name="efficientnetv2-b2"):
    return _efficientnet_v2(1.1, 1.2, 260, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, include_preprocessing, name)

def EfficientNetV2B3(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", include_preprocessing=True, name="efficientnetv2-b3"):
    return _efficientnet_v2(1.2, 1.4, 300, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, include_preprocessing, name)

def EfficientNetV2S(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", include_preprocessing=True, name="efficientnetv2-s"):
    return _efficientnet_v2(1.0, 1.0, 384, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, include_preprocessing, name)

def EfficientNetV2M(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", include_preprocessing=True, name="efficientnetv2-m"):
    return _efficientnet_v2(1.0, 1.0, 480, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, include_preprocessing, name)

def EfficientNetV2L(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", include_preprocessing=True, name="efficientnetv2-l"):
    return _efficientnet_v2(1.0, 1.0, 480, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, include_preprocessing, name)
`;
