/**
 * VGG16 and VGG19 (Simonyan & Zisserman, 2014) as keras.applications builds them: blocks of
 * 3×3 same-padded ReLU convolutions (64, 128, 256, 512, 512 filters) each closed by a 2×2 max
 * pool, then the 4096-4096-classes top. Written for ConvLens' interpreter; the layer names are
 * Keras' so summaries and `get_layer()` read the same.
 */
export const VGG_SOURCE = `
from keras import layers, Model, Input
from keras.applications import imagenet_utils

def _vgg(convs_per_block, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name):
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError("If using weights='imagenet' with include_top=True, classes should be 1000")
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=224, min_size=32, data_format="channels_last", require_flatten=include_top, weights=weights)
    img_input = Input(shape=input_shape) if input_tensor is None else input_tensor
    x = img_input
    for block, filters in enumerate([64, 128, 256, 512, 512]):
        for i in range(convs_per_block[block]):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"block{block + 1}_conv{i + 1}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block + 1}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)
    return Model(img_input, x, name=name)

def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="vgg16"):
    return _vgg([2, 2, 3, 3, 3], include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)

def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", name="vgg19"):
    return _vgg([2, 2, 4, 4, 4], include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)
`;
