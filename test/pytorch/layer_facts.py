#!/usr/bin/env python3
"""Record what PyTorch says about single layers and operations, for ConvLens' per-family tests.

Each case is a module constructor (`nn.Conv2d(3, 16, 3, stride=2, padding=1)`) or an expression
of a tensor `x` (`F.max_pool2d(x, 3, 2, ceil_mode=True)`, `x.view(x.size(0), -1)`) and an input
size. This runs it with the installed torch on zeros and writes test/fixtures/pytorch/layers.json:
the output shape, parameters and buffer elements (modules), or the text of the error PyTorch
raises. ConvLens' test builds the same layer inside an nn.Module and compares.

Usage (Debian: apt-get install python3-torch):
    /usr/bin/python3 test/pytorch/layer_facts.py            # rewrite layers.json
    /usr/bin/python3 test/pytorch/layer_facts.py --check    # fail if layers.json differs
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "fixtures", "pytorch", "layers.json"))

# (family, code, input size). Modules start with "nn."; anything else is an expression of x.
CASES = [
    # convolution
    ("convolution", "nn.Conv1d(4, 8, 5, stride=2, padding=2)", [2, 4, 50]),
    ("convolution", "nn.Conv2d(3, 16, 3, stride=2, padding=1)", [1, 3, 32, 32]),
    ("convolution", "nn.Conv2d(3, 16, (3, 5), stride=(1, 2), padding=(1, 0), bias=False)", [1, 3, 28, 28]),
    ("convolution", "nn.Conv2d(16, 32, 3, padding='same', dilation=2)", [1, 16, 20, 20]),
    ("convolution", "nn.Conv2d(16, 32, 3, padding='valid', groups=4)", [1, 16, 20, 20]),
    ("convolution", "nn.Conv2d(32, 32, 3, padding=1, groups=32, padding_mode='reflect')", [1, 32, 14, 14]),
    ("convolution", "nn.Conv3d(2, 4, 3, stride=(1, 2, 2), padding=1)", [1, 2, 8, 16, 16]),
    ("convolution", "nn.ConvTranspose1d(8, 4, 4, stride=2, padding=1)", [1, 8, 25]),
    ("convolution", "nn.ConvTranspose2d(64, 32, 2, stride=2)", [1, 64, 16, 16]),
    ("convolution", "nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1, groups=2)", [1, 16, 7, 7]),
    ("convolution", "nn.ConvTranspose3d(4, 2, 3, stride=2, padding=1, dilation=2)", [1, 4, 4, 6, 6]),
    ("convolution", "nn.Conv2d(3, 8, 3)", [1, 1, 28, 28]),
    ("convolution", "nn.Conv2d(3, 8, 7)", [1, 3, 4, 4]),
    ("convolution", "nn.Conv2d(3, 8, 3, stride=2, padding='same')", [1, 3, 32, 32]),
    # pooling
    ("pooling", "nn.MaxPool2d(2)", [1, 8, 15, 15]),
    ("pooling", "nn.MaxPool2d(3, stride=2, ceil_mode=True)", [1, 8, 14, 14]),
    ("pooling", "nn.MaxPool2d(3, stride=2, padding=1, dilation=2)", [1, 8, 17, 17]),
    ("pooling", "nn.MaxPool1d(3, stride=2, ceil_mode=True)", [1, 4, 10]),
    ("pooling", "nn.MaxPool3d(2, stride=2)", [1, 2, 9, 8, 8]),
    ("pooling", "nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True)", [1, 8, 15, 15]),
    ("pooling", "nn.AvgPool1d(4)", [1, 3, 17]),
    ("pooling", "nn.AdaptiveAvgPool2d((1, 1))", [1, 512, 7, 7]),
    ("pooling", "nn.AdaptiveAvgPool2d((None, 3))", [1, 8, 10, 12]),
    ("pooling", "nn.AdaptiveMaxPool1d(5)", [1, 4, 23]),
    ("pooling", "nn.AdaptiveAvgPool3d(2)", [1, 2, 5, 6, 7]),
    ("pooling", "nn.MaxPool2d(3, padding=2)", [1, 8, 10, 10]),
    ("pooling", "nn.MaxPool2d(4)", [1, 8, 3, 3]),
    ("pooling", "F.max_pool2d(x, 3, 2, 1, ceil_mode=True)", [1, 8, 16, 16]),
    ("pooling", "F.avg_pool2d(x, 4)", [1, 512, 4, 4]),
    ("pooling", "F.adaptive_avg_pool2d(x, 1)", [1, 64, 9, 9]),
    # linear and friends
    ("linear", "nn.Linear(320, 50)", [2, 320]),
    ("linear", "nn.Linear(16, 4, bias=False)", [2, 7, 16]),
    ("linear", "nn.Linear(4608, 128)", [64, 9216]),
    ("linear", "nn.Embedding(1000, 64)", [2, 12]),
    ("linear", "nn.Identity(54, unused=0.1)", [3, 7]),
    # normalization
    ("normalization", "nn.BatchNorm1d(32)", [4, 32]),
    ("normalization", "nn.BatchNorm1d(8, affine=False)", [4, 8, 20]),
    ("normalization", "nn.BatchNorm2d(64)", [1, 64, 8, 8]),
    ("normalization", "nn.BatchNorm2d(16, track_running_stats=False)", [2, 16, 4, 4]),
    ("normalization", "nn.BatchNorm3d(4)", [1, 4, 3, 5, 5]),
    ("normalization", "nn.BatchNorm2d(32)", [1, 16, 8, 8]),
    ("normalization", "nn.GroupNorm(4, 32)", [1, 32, 8, 8]),
    ("normalization", "nn.LayerNorm([16, 8, 8])", [2, 16, 8, 8]),
    ("normalization", "nn.LayerNorm(10, elementwise_affine=False)", [3, 5, 10]),
    ("normalization", "nn.InstanceNorm2d(32, affine=True)", [1, 32, 8, 8]),
    ("normalization", "nn.InstanceNorm1d(6)", [2, 6, 11]),
    ("normalization", "nn.LocalResponseNorm(5)", [1, 16, 8, 8]),
    # activation and dropout
    ("activation", "nn.ReLU(inplace=True)", [1, 8, 4, 4]),
    ("activation", "nn.LeakyReLU(0.2)", [1, 8, 4, 4]),
    ("activation", "nn.PReLU(num_parameters=8)", [1, 8, 4, 4]),
    ("activation", "nn.PReLU()", [1, 8, 4, 4]),
    ("activation", "nn.GELU()", [2, 10]),
    ("activation", "nn.Softmax(dim=1)", [2, 10]),
    ("activation", "nn.LogSoftmax(dim=-1)", [2, 3, 10]),
    ("activation", "nn.Hardswish()", [1, 16, 8, 8]),
    ("activation", "nn.Dropout2d(0.3)", [1, 16, 8, 8]),
    ("activation", "F.log_softmax(x, dim=1)", [2, 10]),
    ("activation", "F.dropout(x, p=0.5, training=self.training)", [2, 10]),
    ("activation", "torch.sigmoid(x)", [2, 10]),
    ("activation", "x.relu()", [2, 10]),
    # reshaping
    ("reshaping", "nn.Flatten()", [2, 16, 5, 5]),
    ("reshaping", "nn.Flatten(0, 1)", [2, 16, 5, 5]),
    ("reshaping", "nn.Unflatten(1, (16, 5, 5))", [2, 400]),
    ("reshaping", "nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)", [1, 64, 16, 16]),
    ("reshaping", "nn.Upsample(size=(20, 30))", [1, 3, 10, 10]),
    ("reshaping", "nn.PixelShuffle(3)", [1, 9, 85, 85]),
    ("reshaping", "nn.PixelUnshuffle(2)", [1, 1, 8, 8]),
    ("reshaping", "nn.ReflectionPad2d(4)", [1, 3, 32, 32]),
    ("reshaping", "nn.ReplicationPad2d((1, 2, 3, 4))", [1, 3, 10, 10]),
    ("reshaping", "nn.ZeroPad2d((1, 0, 1, 0))", [1, 3, 10, 10]),
    ("reshaping", "nn.ConstantPad1d(2, 3.5)", [1, 3, 10]),
    ("reshaping", "nn.ReflectionPad2d(4)", [1, 3, 4, 4]),
    ("reshaping", "nn.ChannelShuffle(2)", [1, 4, 3, 3]),
    ("reshaping", "torch.flatten(x, 1)", [2, 16, 5, 5]),
    ("reshaping", "torch.flatten(x)", [2, 16, 5, 5]),
    ("reshaping", "x.view(x.size(0), -1)", [2, 16, 5, 5]),
    ("reshaping", "x.view(-1, 16 * 5 * 5)", [2, 16, 5, 5]),
    ("reshaping", "x.view(-1, 300)", [2, 16, 5, 5]),
    ("reshaping", "x.reshape(2, 4, -1)", [2, 16, 5, 5]),
    ("reshaping", "x.permute(0, 2, 3, 1)", [2, 16, 5, 7]),
    ("reshaping", "x.transpose(1, 2)", [2, 16, 5]),
    ("reshaping", "x.unsqueeze(1)", [2, 16]),
    ("reshaping", "x.squeeze()", [2, 1, 16, 1]),
    ("reshaping", "x.squeeze(1)", [2, 1, 16, 1]),
    ("reshaping", "x.mean((2, 3))", [2, 16, 5, 7]),
    ("reshaping", "x.mean(dim=[2, 3], keepdim=True)", [2, 16, 5, 7]),
    ("reshaping", "x.sum(1)", [2, 16, 5]),
    ("reshaping", "x[:, :8]", [2, 16, 5, 5]),
    ("reshaping", "x[:, 8:, ::2]", [2, 16, 5, 5]),
    ("reshaping", "x[..., 0]", [2, 16, 5, 5]),
    ("reshaping", "x[:, None]", [2, 16]),
    ("reshaping", "F.interpolate(x, scale_factor=2, mode='nearest')", [1, 8, 7, 9]),
    ("reshaping", "F.interpolate(x, size=(12, 12), mode='bilinear', align_corners=False)", [1, 8, 7, 9]),
    ("reshaping", "F.pad(x, [1, 2, 3, 4])", [1, 8, 7, 9]),
    ("reshaping", "F.pad(x, (2, 2))", [1, 8, 7]),
    ("reshaping", "x.chunk(2, dim=1)[1]", [1, 10, 4, 4]),
    ("reshaping", "torch.split(x, [3, 7], dim=1)[1]", [1, 10, 4, 4]),
    ("reshaping", "x.expand(2, 8, 4, 4)", [1, 8, 1, 1]),
    ("reshaping", "F.pixel_shuffle(x, 2)", [1, 16, 5, 5]),
    # merges
    ("merge", "torch.cat([x, x], dim=1)", [1, 8, 5, 5]),
    ("merge", "torch.cat([x, x[:, :, :4]], dim=1)", [1, 8, 5, 5]),
    ("merge", "torch.stack([x, x], dim=0)", [2, 3]),
    ("merge", "x + x.mean((2, 3), keepdim=True)", [1, 8, 5, 5]),
    ("merge", "x * torch.sigmoid(x.mean((2, 3), keepdim=True))", [1, 8, 5, 5]),
    ("merge", "x + x[:, :, :4, :4]", [1, 8, 5, 5]),
    ("merge", "x * 0.5 + 1", [1, 8, 5, 5]),
]


def run(code, size):
    # An embedding reads integer indices; everything else floats.
    x = torch.zeros(*size, dtype=torch.long if code.startswith("nn.Embedding") else torch.float32)
    if code.startswith("nn."):
        m = eval(code)
        m.eval()
        with torch.no_grad():
            y = m(x)
        params = sum(p.numel() for p in m.parameters())
        buffers = sum(b.numel() for b in m.buffers())
        return {"outputShape": list(y.shape), "params": params, "buffers": buffers}

    class Holder(nn.Module):  # `self.training` for the expressions that read it
        pass

    self = Holder().eval()
    with torch.no_grad():
        y = eval(code)
    return {"outputShape": list(y.shape)}


def record():
    cases = []
    for family, code, size in CASES:
        entry = {"family": family, "code": code, "input": size}
        try:
            entry.update(run(code, size))
        except Exception as e:  # the error PyTorch raises is the fact
            entry["error"] = str(e).splitlines()[0]
        cases.append(entry)
    return {"torch": torch.__version__, "cases": cases}


if __name__ == "__main__":
    data = record()
    text = json.dumps(data, indent=1) + "\n"
    if "--check" in sys.argv:
        with open(OUT) as f:
            if f.read() != text:
                sys.exit(f"{OUT} is not what torch {torch.__version__} records; run without --check")
        print("layers.json matches")
    else:
        with open(OUT, "w") as f:
            f.write(text)
        print(f"wrote {len(data['cases'])} cases to {OUT}")
