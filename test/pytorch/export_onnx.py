"""Writes test/fixtures/onnx/cifar10_tutorial_net.onnx: a CNN exported by PyTorch's own ONNX
exporter (not ConvLens), for the .onnx viewer's tests. The network is the one of PyTorch's
"Training a Classifier" tutorial (pytorch/tutorials, beginner_source/blitz/cifar10_tutorial.py,
BSD-3-Clause; the file is also test/fixtures/pytorch/tutorials/cifar10_tutorial.py), with seeded
random weights. Also records its outputs for a fixed input, as PyTorch computes them, in
cifar10_tutorial_net.json.

Run with Debian's torch (apt-get install python3-torch): /usr/bin/python3 test/pytorch/export_onnx.py
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):  # as in the tutorial
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


torch.manual_seed(0)
net = Net().eval()
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'onnx')
os.makedirs(here, exist_ok=True)
path = os.path.join(here, 'cifar10_tutorial_net.onnx')
x = torch.zeros(1, 3, 32, 32)
torch.onnx.export(net, x, path, input_names=['input'], output_names=['logits'], opset_version=13,
                  dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})
# A fixed input: pixel (c, y, x) = ((c * 7 + y * 3 + x) % 11) / 10, in [0, 1].
ref = torch.tensor([[[[((c * 7 + y * 3 + xx) % 11) / 10 for xx in range(32)] for y in range(32)] for c in range(3)]])
with torch.no_grad():
    conv1 = net.conv1(ref)
    logits = net(ref)
json.dump({
    'source': 'pytorch/tutorials beginner_source/blitz/cifar10_tutorial.py (Net), torch.manual_seed(0), torch %s' % torch.__version__,
    'input': 'pixel (c, y, x) = ((c * 7 + y * 3 + x) % 11) / 10, NCHW (1, 3, 32, 32)',
    'params': sum(p.numel() for p in net.parameters()),
    'conv1_sum': float(conv1.sum()),
    'conv1_shape': list(conv1.shape),
    'logits': [float(v) for v in logits[0]],
}, open(os.path.join(here, 'cifar10_tutorial_net.json'), 'w'), indent=2)
print(path, os.path.getsize(path))
