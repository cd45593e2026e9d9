/**
 * VGG16 and VGG19 (Simonyan & Zisserman, 2014) as keras.applications builds them: blocks of
 * 3×3 same-padded ReLU convolutions (64, 128, 256, 512, 512 filters) each closed by a 2×2 max
 * pool, then the 4096-4096-classes top. Written for ConvLens' interpreter; the layer names are
 * Keras' so summaries and `get_layer()` read the same.
 */
export const VGG_SOURCE = `
def _vgg(convs_per_block, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name):
    _check_weights(weights, include_top, classes)
    input_shape = _input_shape(input_shape, 224, 32, include_top, weights)
    img_input = _image_input(input_tensor, input_shape)
    x = img_input
    for block, filters in enumerate([64, 128, 256, 512, 512]):
        for i in range(convs_per_block[block]):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"block{block + 1}_conv{i + 1}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block + 1}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        _check_classifier(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _pooled(x, pooling)
    return _model(input_tensor, img_input, x, name)

def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="vgg16"):
    return _vgg([2, 2, 3, 3, 3], include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)

def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="vgg19"):
    return _vgg([2, 2, 4, 4, 4], include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)
`;
