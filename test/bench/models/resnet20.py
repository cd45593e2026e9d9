# ResNet-20 for CIFAR-10 (He et al. 2016, section 4.2): a 3×3 convolution with 16 filters, three
# stages of three basic blocks (16, 32, 64 filters; the first block of stages 2 and 3 halves the
# resolution, its shortcut a 1×1 strided convolution), global average pooling, Dense 10.
# BatchNormalization after every convolution. Keras functional API; batch 64, Adam.
from tensorflow import keras
from keras import layers
from keras.datasets import cifar10

(x_train, y_train), (x_test, y_test) = cifar10.load_data()
x_train = x_train.astype('float32') / 255
x_test = x_test.astype('float32') / 255


def block(x, filters, stride):
    y = layers.Conv2D(filters, 3, strides=stride, padding='same', use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.Activation('relu')(y)
    y = layers.Conv2D(filters, 3, padding='same', use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    if stride != 1:
        x = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(x)
        x = layers.BatchNormalization()(x)
    return layers.Activation('relu')(layers.add([x, y]))


inputs = keras.Input(shape=(32, 32, 3))
x = layers.Conv2D(16, 3, padding='same', use_bias=False)(inputs)
x = layers.BatchNormalization()(x)
x = layers.Activation('relu')(x)
for filters, stride in [(16, 1), (32, 2), (64, 2)]:
    for i in range(3):
        x = block(x, filters, stride if i == 0 else 1)
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(10, activation='softmax')(x)
model = keras.Model(inputs, outputs, name='resnet20')

model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
model.fit(x_train, y_train, batch_size=64, epochs=10, validation_split=0.1)
