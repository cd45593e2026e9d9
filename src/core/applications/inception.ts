/**
 * InceptionV3 (Szegedy et al., 2015) and Inception-ResNet-v2 (Szegedy et al., 2016) as
 * keras.applications builds them. Both are a stem of convolutions and max pools, then
 * "mixed" modules: parallel branches (1×1, factorised n×n as 1×n then n×1, pooling) whose
 * outputs are concatenated. Inception-ResNet adds each module's output, scaled, back to its
 * input (`CustomScaleLayer`). Every convolution is conv → batch norm (no scale) → ReLU.
 * A branch below is a list of steps: `(filters, rows, cols)` optionally with `strides` and
 * `padding`, or "avg" / "max" for the pooling branch. Layer names are Keras'.
 */
export const INCEPTION_V3_SOURCE = `
def _conv_bn(x, filters, rows, cols, strides=(1, 1), padding="same", name=None):
    x = layers.Conv2D(filters, (rows, cols), strides=strides, padding=padding, use_bias=False, name=None if name is None else f"{name}_conv")(x)
    x = layers.BatchNormalization(axis=3, scale=False, name=None if name is None else f"{name}_bn")(x)
    return layers.Activation("relu", name=name)(x)

def _branch(x, steps):
    for step in steps:
        if isinstance(step, tuple):
            x = _conv_bn(x, *step)
        elif step == "avg":
            x = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)
        elif step == "max":
            x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    return x

def _mixed(x, branches, name):
    return layers.concatenate([_branch(x, steps) for steps in branches], axis=3, name=name)

def _split(x, filters, name=None):
    # A 1x3 and a 3x1 convolution side by side, concatenated.
    return layers.concatenate([_conv_bn(x, filters, 1, 3), _conv_bn(x, filters, 3, 1)], axis=3, name=name)

def InceptionV3(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="inception_v3"):
    _check_weights(weights, include_top, classes)
    input_shape = _input_shape(input_shape, 299, 75, include_top, weights)
    img_input = _image_input(input_tensor, input_shape)
    x = _branch(img_input, [(32, 3, 3, (2, 2), "valid"), (32, 3, 3, (1, 1), "valid"), (64, 3, 3), "max", (80, 1, 1, (1, 1), "valid"), (192, 3, 3, (1, 1), "valid"), "max"])
    for i, pool_filters in enumerate([32, 64, 64]):
        x = _mixed(x, [[(64, 1, 1)], [(48, 1, 1), (64, 5, 5)], [(64, 1, 1), (96, 3, 3), (96, 3, 3)], ["avg", (pool_filters, 1, 1)]], f"mixed{i}")
    x = _mixed(x, [[(384, 3, 3, (2, 2), "valid")], [(64, 1, 1), (96, 3, 3), (96, 3, 3, (2, 2), "valid")], ["max"]], "mixed3")
    for i, c in enumerate([128, 160, 160, 192]):
        # 7x7 convolutions factorised into 1x7 and 7x1.
        x = _mixed(x, [[(192, 1, 1)], [(c, 1, 1), (c, 1, 7), (192, 7, 1)], [(c, 1, 1), (c, 7, 1), (c, 1, 7), (c, 7, 1), (192, 1, 7)], ["avg", (192, 1, 1)]], f"mixed{4 + i}")
    x = _mixed(x, [[(192, 1, 1), (320, 3, 3, (2, 2), "valid")], [(192, 1, 1), (192, 1, 7), (192, 7, 1), (192, 3, 3, (2, 2), "valid")], ["max"]], "mixed8")
    for i in range(2):
        branch1x1 = _conv_bn(x, 320, 1, 1)
        branch3x3 = _split(_conv_bn(x, 384, 1, 1), 384, f"mixed9_{i}")
        branch3x3dbl = _split(_branch(x, [(448, 1, 1), (384, 3, 3)]), 384)
        branch_pool = _branch(x, ["avg", (192, 1, 1)])
        x = layers.concatenate([branch1x1, branch3x3, branch3x3dbl, branch_pool], axis=3, name=f"mixed{9 + i}")
    if include_top:
        x = _classifier(x, classes, classifier_activation, weights)
    else:
        x = _pooled(x, pooling)
    return _model(input_tensor, img_input, x, name)
`;

export const INCEPTION_RESNET_V2_SOURCE = `
class CustomScaleLayer(layers.Layer):
    # inputs[0] + scale * inputs[1]: the residual sum of an Inception-ResNet module.
    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, inputs):
        return inputs[0] + inputs[1] * self.scale

def _conv_bn(x, filters, kernel_size, strides=1, padding="same", activation="relu", use_bias=False, name=None):
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias, name=name)(x)
    if not use_bias:
        x = layers.BatchNormalization(axis=3, scale=False, name=None if name is None else f"{name}_bn")(x)
    if activation is not None:
        x = layers.Activation(activation, name=None if name is None else f"{name}_ac")(x)
    return x

def _branch(x, steps):
    for step in steps:
        if isinstance(step, tuple):
            x = _conv_bn(x, *step)
        elif step == "avg":
            x = layers.AveragePooling2D(3, strides=1, padding="same")(x)
        elif step == "max":
            x = layers.MaxPooling2D(3, strides=2, padding="valid")(x)
    return x

def _mixed(x, branches, name):
    return layers.Concatenate(axis=3, name=name)([_branch(x, steps) for steps in branches])

# The three residual module types: their branches (each a list of (filters, kernel) steps).
_MODULES = {
    "block35": [[(32, 1)], [(32, 1), (32, 3)], [(32, 1), (48, 3), (64, 3)]],
    "block17": [[(192, 1)], [(128, 1), (160, [1, 7]), (192, [7, 1])]],
    "block8": [[(192, 1)], [(192, 1), (224, [1, 3]), (256, [3, 1])]],
}

def _residual_module(x, scale, block_type, block_idx, activation="relu"):
    name = f"{block_type}_{block_idx}"
    mixed = _mixed(x, _MODULES[block_type], f"{name}_mixed")
    up = _conv_bn(mixed, x.shape[3], 1, activation=None, use_bias=True, name=f"{name}_conv")
    x = CustomScaleLayer(scale)([x, up])
    if activation is not None:
        x = layers.Activation(activation, name=f"{name}_ac")(x)
    return x

def InceptionResNetV2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="inception_resnet_v2"):
    _check_weights(weights, include_top, classes)
    input_shape = _input_shape(input_shape, 299, 75, include_top, weights)
    img_input = _image_input(input_tensor, input_shape)
    x = _branch(img_input, [(32, 3, 2, "valid"), (32, 3, 1, "valid"), (64, 3), "max", (80, 1, 1, "valid"), (192, 3, 1, "valid"), "max"])
    x = _mixed(x, [[(96, 1)], [(48, 1), (64, 5)], [(64, 1), (96, 3), (96, 3)], ["avg", (64, 1)]], "mixed_5b")
    for i in range(1, 11):
        x = _residual_module(x, 0.17, "block35", i)
    x = _mixed(x, [[(384, 3, 2, "valid")], [(256, 1), (256, 3), (384, 3, 2, "valid")], ["max"]], "mixed_6a")
    for i in range(1, 21):
        x = _residual_module(x, 0.1, "block17", i)
    x = _mixed(x, [[(256, 1), (384, 3, 2, "valid")], [(256, 1), (288, 3, 2, "valid")], [(256, 1), (288, 3), (320, 3, 2, "valid")], ["max"]], "mixed_7a")
    for i in range(1, 10):
        x = _residual_module(x, 0.2, "block8", i)
    x = _residual_module(x, 1.0, "block8", 10, activation=None)
    x = _conv_bn(x, 1536, 1, name="conv_7b")
    if include_top:
        x = _classifier(x, classes, classifier_activation, weights)
    else:
        x = _pooled(x, pooling)
    return _model(input_tensor, img_input, x, name)
`;
