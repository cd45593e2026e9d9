/**
 * DenseNet121/169/201 (Huang et al., 2017) as keras.applications builds them: a 7×7/2
 * convolution and a 3×3/2 max pool, then four dense blocks — each layer a BN-ReLU-1×1 (128)
 * and BN-ReLU-3×3 (32, the growth rate) whose output is concatenated to its input — joined by
 * transitions that halve the channels (1×1) and the map (2×2 average pool). Layer names are Keras'.
 */
export const DENSENET_SOURCE = `
def _bn_relu(x, name):
    x = layers.BatchNormalization(axis=3, epsilon=1.001e-5, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)

def _dense_layer(x, name):
    y = _bn_relu(x, f"{name}_0")
    y = layers.Conv2D(4 * 32, 1, use_bias=False, name=f"{name}_1_conv")(y)
    y = _bn_relu(y, f"{name}_1")
    y = layers.Conv2D(32, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(y)
    return layers.Concatenate(axis=3, name=f"{name}_concat")([x, y])

def _transition(x, name):
    x = _bn_relu(x, name)
    x = layers.Conv2D(int(x.shape[3] * 0.5), 1, use_bias=False, name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)

def _densenet(blocks, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name):
    _check_weights(weights, include_top, classes)
    input_shape = _input_shape(input_shape, 224, 32, include_top, weights)
    img_input = _image_input(input_tensor, input_shape)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = _bn_relu(x, "conv1")
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for stage, layers_in_block in enumerate(blocks):
        for i in range(layers_in_block):
            x = _dense_layer(x, f"conv{stage + 2}_block{i + 1}")
        if stage < 3:
            x = _transition(x, f"pool{stage + 2}")
    x = layers.BatchNormalization(axis=3, epsilon=1.001e-5, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    if include_top:
        x = _classifier(x, classes, classifier_activation, weights)
    else:
        x = _pooled(x, pooling, "avg_pool", "max_pool")
    return _model(input_tensor, img_input, x, name)

def DenseNet121(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="densenet121"):
    return _densenet([6, 12, 24, 16], include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)

def DenseNet169(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="densenet169"):
    return _densenet([6, 12, 32, 32], include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)

def DenseNet201(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="densenet201"):
    return _densenet([6, 12, 48, 32], include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)
`;
