/**
 * What every keras.applications builder does around its architecture, as ConvLens' own Python:
 * the argument checks (with the substance of Keras' messages), the input shape rule of
 * `imagenet_utils.obtain_input_shape`, the image input (`input_tensor` or a new `Input`), the
 * classifier or pooling head, and the model over the input's source. Prepended to each family's
 * definition (each runs as its own module), so a family reads as its architecture only.
 */
export const COMMON_SOURCE = `
import keras
from keras import layers, backend, Model, Input

def _check_weights(weights, include_top, classes):
    # Keras also accepts the path of an existing weights file; a path cannot be checked here.
    if not (weights is None or isinstance(weights, str)):
        raise ValueError(f"The \`weights\` argument should be either \`None\` (random initialization), 'imagenet' (pre-training on ImageNet), or the path to the weights file to be loaded. Received: weights={weights}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(f"If using \`weights='imagenet'\` with \`include_top=True\`, \`classes\` should be 1000. Received: classes={classes}")

def _input_shape(input_shape, default_size, min_size, include_top, weights):
    # obtain_input_shape: the size the weights were trained at when the top is kept, the given
    # shape (checked) otherwise, and a free height and width when there is neither.
    channels = input_shape[-1] if weights != "imagenet" and input_shape and len(input_shape) == 3 else 3
    default_shape = (default_size, default_size, channels)
    if weights == "imagenet" and include_top:
        if input_shape is not None and tuple(input_shape) != default_shape:
            raise ValueError(f"When setting \`include_top=True\` and loading \`imagenet\` weights, \`input_shape\` should be {default_shape}. Received: input_shape={input_shape}")
        return default_shape
    if input_shape:
        if len(input_shape) != 3:
            raise ValueError(f"\`input_shape\` must be a tuple of three integers. Received: input_shape={input_shape}")
        if input_shape[-1] != 3 and weights == "imagenet":
            raise ValueError(f"The input must have 3 channels (imagenet weights); Received: input_shape={input_shape}")
        if (input_shape[0] is not None and input_shape[0] < min_size) or (input_shape[1] is not None and input_shape[1] < min_size):
            raise ValueError(f"Input size must be at least {min_size}x{min_size}; Received: input_shape={input_shape}")
        shape = tuple(input_shape)
    elif include_top:
        shape = default_shape
    else:
        shape = (None, None, 3)
    if include_top and None in shape:
        raise ValueError(f"If \`include_top\` is True, you should specify a static \`input_shape\`. Received: input_shape={shape}")
    return shape

def _image_input(input_tensor, input_shape):
    if input_tensor is None:
        return Input(shape=input_shape)
    if not backend.is_keras_tensor(input_tensor):
        return Input(tensor=input_tensor, shape=input_shape)
    return input_tensor

def _check_classifier(classifier_activation, weights):
    # Pretrained top layers were trained with softmax: only softmax or logits make sense.
    if weights is not None and isinstance(classifier_activation, str) and classifier_activation != "softmax":
        raise ValueError(f"Only \`None\` and \`softmax\` activations are allowed for the \`classifier_activation\` argument when using pretrained weights, with \`include_top=True\`; Received: classifier_activation={classifier_activation}")

def _classifier(x, classes, classifier_activation, weights, pool="avg_pool"):
    # Global average pooling (named \`pool\`, or Keras' default name when None), then the Dense top.
    x = layers.GlobalAveragePooling2D(name=pool)(x)
    _check_classifier(classifier_activation, weights)
    return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)

def _pooled(x, pooling, avg_name=None, max_name=None):
    # The feature-extraction head: \`pooling="avg"\` / \`"max"\` flatten the last feature map.
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=avg_name)(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=max_name)(x)
    return x

def _make_divisible(v, divisor=8):
    # The nearest multiple of \`divisor\` (at least \`divisor\`), never more than 10% below \`v\`.
    rounded = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * v else rounded

def _correct_pad(x, kernel_size):
    # The padding before a strided 'valid' convolution that centres it as 'same' would.
    half = kernel_size // 2
    height, width = x.shape[1], x.shape[2]
    adjust = (1, 1) if height is None else (1 - height % 2, 1 - width % 2)
    return ((half - adjust[0], half), (half - adjust[1], half))

def _rows_for_weights(weights, rows, cols, sizes):
    # The pretrained weights exist for square inputs of these sizes; others load the 224 ones.
    if weights == "imagenet" and (rows != cols or rows not in sizes):
        return 224
    return rows

def _model(input_tensor, img_input, x, name):
    # A given input tensor: the model starts at the Input it comes from.
    inputs = img_input if input_tensor is None else keras.utils.get_source_inputs(input_tensor)
    return Model(inputs, x, name=name)
`;

/** A family's Python definition with the shared helpers in front of it. */
export const withCommon = (source: string): string => COMMON_SOURCE + source;
