# PyTorch twin of vgg16.py (torchvision's vgg16 without its adaptive pooling and dropout).
import torch
from torch import nn

input_shape = (3, 224, 224)
classes = 1000


def model():
    layers, c_in = [], 3
    for filters, convs in [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]:
        for _ in range(convs):
            layers += [nn.Conv2d(c_in, filters, 3, padding=1), nn.ReLU()]
            c_in = filters
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(512 * 7 * 7, 4096), nn.ReLU(),
                         nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 1000))


def optimizer(params):
    return torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-7)


loss = nn.CrossEntropyLoss()
