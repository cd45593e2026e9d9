# PyTorch twin of vgg_cifar.py (the same layers, Keras' initial weights do not matter for speed).
# Read by test/bench/peer/torchPeer.py: `model()` builds the network for channels-first input,
# `input_shape` is one sample's (C, H, W), `optimizer(params)` and `loss` train it as the Keras
# file's compile() says.
import torch
from torch import nn

input_shape = (3, 32, 32)
classes = 10


def model():
    def block(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.Conv2d(c_out, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
    return nn.Sequential(*block(3, 64), *block(64, 128), *block(128, 256), nn.Flatten(),
                         nn.Linear(256 * 4 * 4, 256), nn.ReLU(), nn.Linear(256, 10))


def optimizer(params):
    return torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-7)


loss = nn.CrossEntropyLoss()
