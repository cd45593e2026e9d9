/**
 * Xception (Chollet, 2017) as keras.applications builds it: two plain convolutions, three
 * "entry" blocks of separable convolutions that halve the map (a strided 1×1 projection on the
 * shortcut), eight "middle" blocks of three 728-wide separable convolutions around an identity
 * shortcut, one "exit" block, and two wide separable convolutions. Layer names are Keras'.
 */
export const XCEPTION_SOURCE = `
def _sep_bn(x, filters, name):
    x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(axis=-1, name=f"{name}_bn")(x)

def _reduction_block(x, block, filters1, filters2, activate_first):
    # Two separable convolutions and a strided max pool, added to a strided 1x1 projection.
    residual = layers.Conv2D(filters2, (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
    residual = layers.BatchNormalization(axis=-1)(residual)
    if activate_first:
        x = layers.Activation("relu", name=f"block{block}_sepconv1_act")(x)
    x = _sep_bn(x, filters1, f"block{block}_sepconv1")
    x = layers.Activation("relu", name=f"block{block}_sepconv2_act")(x)
    x = _sep_bn(x, filters2, f"block{block}_sepconv2")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=f"block{block}_pool")(x)
    return layers.add([x, residual])

def Xception(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="xception"):
    _check_weights(weights, include_top, classes)
    input_shape = _input_shape(input_shape, 299, 71, include_top, weights)
    img_input = _image_input(input_tensor, input_shape)
    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(img_input)
    x = layers.BatchNormalization(axis=-1, name="block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = layers.BatchNormalization(axis=-1, name="block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)
    for block, filters in [(2, 128), (3, 256), (4, 728)]:
        x = _reduction_block(x, block, filters, filters, block > 2)
    for block in range(5, 13):
        residual = x
        for i in range(1, 4):
            x = layers.Activation("relu", name=f"block{block}_sepconv{i}_act")(x)
            x = _sep_bn(x, 728, f"block{block}_sepconv{i}")
        x = layers.add([x, residual])
    x = _reduction_block(x, 13, 728, 1024, True)
    for i, filters in [(1, 1536), (2, 2048)]:
        x = _sep_bn(x, filters, f"block14_sepconv{i}")
        x = layers.Activation("relu", name=f"block14_sepconv{i}_act")(x)
    if include_top:
        x = _classifier(x, classes, classifier_activation, weights)
    else:
        x = _pooled(x, pooling)
    return _model(input_tensor, img_input, x, name)
`;
