# VGG16 (Simonyan & Zisserman, configuration D) as keras.applications.VGG16 builds it with
# include_top=True: 138,357,544 parameters at 224×224×3 and 1000 classes. Issue 11's memory
# benchmark trains it at batch 8 with Adam on random data.
from tensorflow import keras
from keras import layers

model = keras.Sequential(name='vgg16')
model.add(keras.Input(shape=(224, 224, 3)))
for filters, convs in [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]:
    for _ in range(convs):
        model.add(layers.Conv2D(filters, (3, 3), activation='relu', padding='same'))
    model.add(layers.MaxPooling2D((2, 2), strides=(2, 2)))
model.add(layers.Flatten())
model.add(layers.Dense(4096, activation='relu'))
model.add(layers.Dense(4096, activation='relu'))
model.add(layers.Dense(1000, activation='softmax'))

model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
model.fit(x_train, y_train, batch_size=8, epochs=1)
