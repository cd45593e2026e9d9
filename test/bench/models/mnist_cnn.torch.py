# PyTorch twin of the seed MNIST CNN (test/fixtures/seeds/001_mnist_cnn.py): Conv 10 5×5, pool,
# Conv 20 5×5, pool, Dense 100, Dense 10; RMSprop(lr=1e-4) as the file compiles it.
import torch
from torch import nn

input_shape = (1, 28, 28)
classes = 10


def model():
    return nn.Sequential(nn.Conv2d(1, 10, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(10, 20, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(320, 100), nn.ReLU(), nn.Linear(100, 10))


def optimizer(params):
    # Keras' rho is PyTorch's alpha; Keras' epsilon default is 1e-7.
    return torch.optim.RMSprop(params, lr=1e-4, alpha=0.9, eps=1e-7)


loss = nn.CrossEntropyLoss()
