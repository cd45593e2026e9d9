/**
 * Python idioms of real PyTorch model files that ConvLens follows as Python runs them, found by
 * running it on public code it had not seen (torchvision's EfficientNet, MobileNetV3 and ConvNeXt,
 * kuangliu's DLA, pytorch/examples' forward-forward MNIST): `functools.partial` layer factories,
 * `@dataclass` configurations, a static method read from its class, a subclass of a layer class,
 * `F.layer_norm`, `self.__setattr__` / `self.__getattr__` with computed names, `Linear(…, device,
 * dtype)` by position, and a module without forward() that the file never calls. Every expected
 * number was printed by Debian's torch 1.13 running the same snippet (its forward hooks for the shapes).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FileAnalysis, ModelReport } from '../../src/core/index';
import { analyze } from './helpers';

const byVar = (a: FileAnalysis, v: string): ModelReport => {
  const m = a.models.find((x) => x.varName === v);
  assert.ok(m, `no model '${v}' (have ${a.models.map((x) => x.varName ?? x.name).join(', ')})`);
  return m;
};
/** Leaf module calls in order: `name class [shape]`. */
const leaves = (m: ModelReport): string[] => (m.modules ?? []).filter((r) => r.leaf && r.called).map((r) => `${r.name} ${r.className} ${JSON.stringify(r.outputShape)}`);

/** partial, a dataclass config with a static method, a LayerNorm subclass, __setattr__/__getattr__. */
const IDIOMS = `import torch
import torch.nn as nn
import torch.nn.functional as F
from dataclasses import dataclass
from functools import partial


@dataclass
class _BlockConfig:
    in_ch: int
    out_ch: int
    stride: int = 1

    @staticmethod
    def adjust(channels: int, mult: float) -> int:
        return int(channels * mult)


class BlockConfig(_BlockConfig):
    def __init__(self, in_ch, out_ch, stride=1, mult=1.0):
        super().__init__(self.adjust(in_ch, mult), self.adjust(out_ch, mult), stride)


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class Net(nn.Module):
    def __init__(self, mult=2.0):
        super().__init__()
        norm = partial(nn.BatchNorm2d, eps=0.001)
        widen = partial(BlockConfig.adjust, mult=mult)
        cfgs = [BlockConfig(3, 8, 2, mult), BlockConfig(8, 16, 1, mult)]
        layers = []
        for c in cfgs:
            layers.append(nn.Conv2d(3 if not layers else c.in_ch, c.out_ch, 3, c.stride, 1))
            layers.append(norm(c.out_ch))
        self.features = nn.Sequential(*layers)
        self.ln = partial(LayerNorm2d, eps=1e-6)(cfgs[-1].out_ch)
        for i in range(2):
            self.__setattr__('head_%d' % i, nn.Linear(cfgs[-1].out_ch, widen(5)))

    def forward(self, x):
        x = self.ln(self.features(x))
        x = x.mean((2, 3))
        return self.__getattr__('head_%d' % 0)(x) + self.head_1(x)


net = Net()
y = net(torch.zeros(1, 3, 32, 32))
`;

/** pytorch/examples mnist_forward_forward's shape: a Linear subclass passing device and dtype by position, a Net run only by its own methods. */
const FORWARD_FORWARD = `import torch
from torch import nn


class Layer(nn.Linear):
    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__(in_features, out_features, bias, device, dtype)
        self.relu = torch.nn.ReLU()

    def forward(self, x):
        return self.relu(super().forward(x))


class Net(torch.nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.layers = nn.ModuleList([Layer(dims[d], dims[d + 1]) for d in range(len(dims) - 1)])

    def predict(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


net = Net([784, 500, 500])
`;

describe('Python idioms of real PyTorch files', () => {
  it('partial layer factories, @dataclass configs, a static method from its class, F.layer_norm and __setattr__ names (torch 1.13: 5908 params, 98 buffer values, [1, 10])', async () => {
    const a = await analyze(IDIOMS);
    assert.deepEqual(a.problems.filter((p) => p.severity !== 'information').map((p) => p.message), []);
    const m = byVar(a, 'net');
    assert.equal(m.totalParams, 5908);
    assert.equal(m.buffers?.elements, 98);
    assert.deepEqual([m.outputBatch, ...(m.outputShape ?? [])], [1, 10]);
    assert.deepEqual(leaves(m), [
      'features.0 Conv2d [1,16,16,16]',
      'features.1 BatchNorm2d [1,16,16,16]',
      'features.2 Conv2d [1,32,16,16]',
      'features.3 BatchNorm2d [1,32,16,16]',
      'ln LayerNorm2d [1,32,16,16]',
      'head_0 Linear [1,10]',
      'head_1 Linear [1,10]',
    ]);
  });

  it('a Linear subclass called with (in, out, bias, device, dtype) and a module the file never calls raise nothing (torch 1.13: 643000 params)', async () => {
    const a = await analyze(FORWARD_FORWARD);
    assert.deepEqual(a.problems.filter((p) => p.severity !== 'information').map((p) => p.message), []);
    assert.equal(byVar(a, 'net').totalParams, 643000);
  });

  it('a module without forward() is still a warning where the file calls it', async () => {
    const a = await analyze(`${FORWARD_FORWARD}y = net(torch.zeros(1, 784))\n`);
    assert.ok(a.problems.some((p) => p.severity === 'warning' && /Net defines no forward\(\)/.test(p.message)));
  });

  it('too many positional arguments is still an error past the factory arguments', async () => {
    const a = await analyze('import torch.nn as nn\nm = nn.Linear(4, 2, True, None, None, 7)\n');
    assert.deepEqual(a.problems.filter((p) => p.severity === 'error').map((p) => p.message), ['Linear takes at most 3 positional arguments (in_features, out_features, bias); this is number 6']);
  });
});

/**
 * Control flow and values of real CIFAR model zoos (bearpaw/pytorch-classification's DenseNet,
 * weiaicunzai/pytorch-cifar100's VGG, Inception-v4 and NASNet): `continue` and `break` in a
 * layer-building loop, a class compared with `==`, `block.__name__` in module names and a
 * negative (cropping) ConstantPad2d. torch 1.13 on this file: 11778 parameters, output [1, 10].
 */
const CONTROL = `import torch
import torch.nn as nn


class Basic(nn.Module):
    def __init__(self, c, growth):
        super().__init__()
        self.conv = nn.Conv2d(c, growth, 3, padding=1, bias=False)

    def forward(self, x):
        return torch.cat([x, self.conv(x)], 1)


class Bottleneck(Basic):
    pass


class Net(nn.Module):
    def __init__(self, depth=10, block=Bottleneck, cfg=(8, 'M', 16, 'M', 'stop', 32)):
        super().__init__()
        n = (depth - 4) // 3 if block == Basic else (depth - 4) // 6
        layers = []
        c = 3
        for v in cfg:
            if v == 'M':
                layers += [nn.MaxPool2d(2)]
                continue
            if v == 'stop':
                break
            layers += [nn.Conv2d(c, v, 3, padding=1)]
            c = v
        self.features = nn.Sequential(*layers)
        self.blocks = nn.Sequential()
        for i in range(n):
            self.blocks.add_module('{}_{}'.format(block.__name__, i), block(c, 4))
            c += 4
        self.crop = nn.ConstantPad2d((-1, 0, -1, 0), 0)
        self.fc = nn.Linear(c * 7 * 7, 10)

    def forward(self, x):
        x = self.crop(self.blocks(self.features(x)))
        return self.fc(torch.flatten(x, 1))


net = Net()
y = net(torch.zeros(1, 3, 32, 32))
`;

describe('control flow and values of real CIFAR model zoos', () => {
  it('continue, break, a class compared with ==, block.__name__ and a cropping ConstantPad2d give torch 1.13\'s numbers', async () => {
    const a = await analyze(CONTROL);
    assert.deepEqual(a.problems.filter((p) => p.severity !== 'information').map((p) => p.message), []);
    const m = byVar(a, 'net');
    assert.equal(m.totalParams, 11778);
    assert.deepEqual([m.outputBatch, ...(m.outputShape ?? [])], [1, 10]);
    assert.deepEqual(leaves(m), [
      'features.0 Conv2d [1,8,32,32]',
      'features.1 MaxPool2d [1,8,16,16]',
      'features.2 Conv2d [1,16,16,16]',
      'features.3 MaxPool2d [1,16,8,8]',
      'blocks.Bottleneck_0.conv Conv2d [1,4,8,8]',
      'crop ConstantPad2d [1,20,7,7]',
      'fc Linear [1,10]',
    ]);
  });

  it('a class equals itself only; a while loop ends at its break', async () => {
    const a = await analyze(`import torch
import torch.nn as nn
class A(nn.Module):
    pass
class B(nn.Module):
    pass
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        i = 0
        while True:
            i += 1
            if i == 3:
                break
        same = A == A and A != B and not (A == 3)
        self.fc = nn.Linear(i, 2) if same else nn.Linear(1, 1)
    def forward(self, x):
        return self.fc(x)
m = Net()
`);
    assert.equal(byVar(a, 'm').totalParams, 8);
  });

  it('a crop past the whole axis is an error quoting PyTorch', async () => {
    const a = await analyze('import torch\nimport torch.nn as nn\npad = nn.ConstantPad2d((-3, -2, 0, 0), 0)\ny = pad(torch.zeros(1, 2, 4, 4))\n');
    const errs = a.problems.filter((p) => p.severity === 'error').map((p) => p.message);
    assert.equal(errs.length, 1, errs.join('\n'));
    assert.match(errs[0], /ConstantPad2d: padding \(-3, -2\) leaves an axis of size 4 with a negative size \(-1\).*exceeds dimension size/);
  });
});
