/**
 * PyTorch model files as users write them: the import spellings, nn.Module subclasses with
 * containers, loops, helper blocks and builders, data flow in forward, the places an input
 * shape comes from, the diagnostics on the exact argument with their quick fixes, and what the
 * editor and the reports show. Expected numbers were checked by running the same code with
 * Debian's torch 1.13 (each test says what it printed), or are PyTorch's rules worked by hand
 * in the test's name (Conv2d: out·(in·k·k) + out).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { analyzeSource, formatSummary, toJsonReport, type FileAnalysis, type ModelReport, type Problem } from '../../src/core/index';
import { hintLabel, layerHover, layerSites, modelLensTitle } from '../../src/core/present';
import { siblingModuleLoader } from '../../src/node/moduleLoader';
import { analyze, covered, parser } from './helpers';

const HEAD = 'import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n';

const byVar = (a: FileAnalysis, v: string): ModelReport => {
  const m = a.models.find((x) => x.varName === v);
  assert.ok(m, `no model '${v}' (have ${a.models.map((x) => x.varName ?? x.name).join(', ')})`);
  return m;
};
const whole = (m: ModelReport): (number | null)[] | null => (m.outputShape === null ? null : [m.outputBatch, ...m.outputShape]);
const errors = (a: FileAnalysis): Problem[] => a.problems.filter((p) => p.severity === 'error');
/** Leaf module calls in order: `name class [shape]`. */
const leaves = (m: ModelReport): string[] => (m.modules ?? []).filter((r) => r.leaf && r.called).map((r) => `${r.name} ${r.className} ${JSON.stringify(r.outputShape)}`);
/** The text after applying a fix's edits. */
function applyFix(text: string, p: Problem, which = 0): string {
  const edits = [...p.fixes![which].edits].sort((a, b) => b.span.start - a.span.start);
  let out = text;
  for (const e of edits) out = out.slice(0, e.span.start) + e.newText + out.slice(e.span.end);
  return out;
}

/** The tutorial's MNIST Net (pytorch/examples mnist/main.py), with its fc1 written for a 12x12x32 map. */
const MNIST = `${HEAD}
class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.fc1 = nn.Linear(4608, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1)


model = Net()
output = model(torch.randn(64, 1, 28, 28))
`;

describe('PyTorch imports and module idioms', () => {
  for (const [imports, label] of [
    ['import torch\nimport torch.nn as nn\nimport torch.nn.functional as F', 'import torch.nn as nn'],
    ['import torch\nfrom torch import nn\nfrom torch.nn import functional as F', 'from torch import nn'],
    ['import torch\nfrom torch.nn import Module, Conv2d, Linear, Sequential\nimport torch.nn as nn\nimport torch.nn.functional as F', 'from torch.nn import Conv2d'],
  ] as const) {
    it(`${label}: the classes and F.* resolve the same (conv 16·(3·3·3) + 16 = 448, linear 16·10 + 10 = 170)`, async () => {
      const body = label.startsWith('from torch.nn import Conv2d')
        ? 'class M(Module):\n    def __init__(self):\n        super().__init__()\n        self.c = Conv2d(3, 16, 3, padding=1)\n        self.f = Linear(16, 10)\n'
        : 'class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.c = nn.Conv2d(3, 16, 3, padding=1)\n        self.f = nn.Linear(16, 10)\n';
      const a = await analyze(`${imports}\n\n${body}\n    def forward(self, x):\n        return self.f(F.adaptive_avg_pool2d(F.relu(self.c(x)), 1).flatten(1))\n\nm = M()\ny = m(torch.zeros(2, 3, 8, 8))\n`);
      const m = byVar(a, 'm');
      assert.equal(m.framework, 'pytorch');
      assert.equal(m.totalParams, 618);
      assert.deepEqual(whole(m), [2, 10]);
      assert.deepEqual(errors(a), []);
    });
  }

  it('containers, loops, helper blocks and builders (torch 1.13 printed 105291 params, 386 buffer values, outputs [8, 10] and [8])', async () => {
    const a = await analyze(`import argparse
from collections import OrderedDict
import torch
from torch import nn
from torch.nn import functional as F

parser = argparse.ArgumentParser()
parser.add_argument('--classes', type=int, default=10)
args = parser.parse_args()


class Block(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.body = nn.Sequential(OrderedDict([
            ('conv', nn.Conv2d(cin, cout, 3, stride, 1, bias=False)),
            ('bn', nn.BatchNorm2d(cout)),
            ('act', nn.ReLU(inplace=True)),
        ]))
        self.skip = nn.Identity() if stride == 1 and cin == cout else nn.Conv2d(cin, cout, 1, stride)

    def forward(self, x):
        return self.body(x) + self.skip(x)


class Net(nn.Module):
    def __init__(self, cfg=(32, 64, 128), classes=args.classes):
        super().__init__()
        self.stem = nn.Conv2d(3, cfg[0], 3, padding=1)
        self.blocks = nn.ModuleList([Block(a, b, 2) for a, b in zip(cfg[:-1], cfg[1:])])
        self.heads = nn.ModuleDict({'cls': nn.Linear(cfg[-1], classes), 'aux': nn.Linear(cfg[-1], 1)})
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        x = F.relu(self.stem(x))
        for block in self.blocks:
            x = block(x)
        n, c, h, w = x.shape
        x = self.pool(x).view(x.size(0), -1)
        feat = x.unsqueeze(1).squeeze(1)
        return self.heads['cls'](feat), self.heads['aux'](x).squeeze(-1)


def build(num_classes=args.classes):
    return Net(classes=num_classes)


model = build()
logits, aux = model(torch.randn(8, 3, 64, 64))
`);
    const m = byVar(a, 'model');
    assert.equal(m.totalParams, 105291);
    assert.deepEqual(m.buffers, { tensors: 6, elements: 386 });
    assert.deepEqual(m.outputs.map((o) => [m.outputBatch, ...o.shape!]), [[8, 10], [8]]);
    assert.deepEqual(leaves(m), [
      'stem Conv2d [8,32,64,64]',
      'blocks.0.body.conv Conv2d [8,64,32,32]',
      'blocks.0.body.bn BatchNorm2d [8,64,32,32]',
      'blocks.0.body.act ReLU [8,64,32,32]',
      'blocks.0.skip Conv2d [8,64,32,32]',
      'blocks.1.body.conv Conv2d [8,128,16,16]',
      'blocks.1.body.bn BatchNorm2d [8,128,16,16]',
      'blocks.1.body.act ReLU [8,128,16,16]',
      'blocks.1.skip Conv2d [8,128,16,16]',
      'pool AdaptiveAvgPool2d [8,128,1,1]',
      'heads.cls Linear [8,10]',
      'heads.aux Linear [8,1]',
    ]);
    assert.deepEqual(errors(a), []);
  });

  it('a module called twice runs twice, its parameters count once; a Python list of modules is not registered, as in PyTorch', async () => {
    const a = await analyze(`${HEAD}
class Twice(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3, padding=1)
        self.extra = [nn.Linear(8, 8)]

    def forward(self, x):
        return self.conv(F.relu(self.conv(x)))

m = Twice()
y = m(torch.zeros(1, 8, 4, 4))
`);
    const m = byVar(a, 'm');
    // 8·(8·3·3) + 8 = 584, once; the Linear in a plain list is no parameter of the module.
    assert.equal(m.totalParams, 584);
    assert.deepEqual(leaves(m), ['conv Conv2d [1,8,4,4]', 'conv Conv2d [1,8,4,4]']);
    assert.deepEqual((m.modules ?? []).map((r) => r.recursive), [false, false, true]);
  });

  it('x.size(n), x.shape[n], torch.Size arithmetic, chunk and residual arithmetic drive the shapes', async () => {
    const a = await analyze(`${HEAD}
class Shuffle(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Conv2d(16, 16, 1)

    def forward(self, x):
        n, c, h, w = x.size()
        g = 2
        x = x.view(n, g, c // g, h, w).permute(0, 2, 1, 3, 4).reshape(n, c, h, w)
        a, b = x.chunk(2, dim=1)
        y = torch.cat([a, self.proj(x)[:, :x.shape[1] // 2]], 1) * 0.5 + x
        return y.mean((2, 3))

m = Shuffle()
y = m(torch.zeros(3, 16, 5, 5))
`);
    assert.deepEqual(whole(byVar(a, 'm')), [3, 16]);
    assert.deepEqual(errors(a), []);
  });

  it("a sibling file's blocks (from model_parts import DoubleConv) and a relative package import (from .parts import *)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'convlens-torch-'));
    const parts = `import torch.nn as nn\n\nclass DoubleConv(nn.Module):\n    def __init__(self, cin, cout):\n        super().__init__()\n        self.net = nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU())\n\n    def forward(self, x):\n        return self.net(x)\n`;
    writeFileSync(path.join(dir, 'model_parts.py'), parts);
    writeFileSync(path.join(dir, 'parts.py'), parts);
    for (const imp of ['from model_parts import DoubleConv', 'from .parts import *']) {
      const file = path.join(dir, imp.includes('.parts') ? 'unet_like.py' : 'net.py');
      const text = `import torch\nimport torch.nn as nn\n${imp}\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.inc = DoubleConv(3, 8)\n        self.out = nn.Conv2d(8, 2, 1)\n\n    def forward(self, x):\n        return self.out(self.inc(x))\n\nnet = Net()\ny = net(torch.zeros(1, 3, 16, 16))\n`;
      writeFileSync(file, text);
      const a = analyzeSource(text, await parser(), { loadModule: siblingModuleLoader(file) });
      const m = byVar(a, 'net');
      // 8·(3·3·3) + 8 = 224, 8·(8·3·3) + 8 = 584, 2·8 + 2 = 18.
      assert.equal(m.totalParams, 826, imp);
      assert.deepEqual(whole(m), [1, 2, 16, 16], imp);
    }
  });

  it('builders the file never calls are built with their defaults, their classes noted as lacking an input, with a quick fix that writes one', async () => {
    const text = `${HEAD}
class Tiny(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8, classes)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.conv(x), 1).flatten(1))
`;
    const a = await analyze(text);
    const m = a.models[0];
    assert.equal(m.speculative, 'Tiny()');
    assert.equal(m.totalParams, 224 + 90);
    // Without an input only what the layers fix is known: the batch and the map size are not.
    assert.deepEqual(whole(m), [null, 10]);
    assert.deepEqual(leaves(m), ['conv Conv2d [null,8,null,null]', 'fc Linear [null,10]']);
    const note = a.problems.find((p) => p.code === 'no-input-shape')!;
    assert.equal(note.severity, 'information');
    assert.equal(covered(text, note), 'class Tiny(nn.Module):');
    assert.match(note.message, /Tiny has no input shape in this file/);
    const fixed = applyFix(text, note);
    assert.match(fixed, /# convlens: input_shape=\(1, 3, 32, 32\)\nclass Tiny/);
    const b = await analyze(fixed);
    assert.deepEqual(whole(b.models[0]), [1, 10]);
    assert.equal(b.problems.find((p) => p.code === 'no-input-shape'), undefined);
  });
});

describe('where a PyTorch model gets its input', () => {
  const NET = `${HEAD}
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4 * 30 * 30, 10)

    def forward(self, x):
        return self.fc(torch.flatten(F.relu(self.conv(x)), 1))
`;
  for (const [code, input, from] of [
    ['net = Net()\nout = net(torch.randn(2, 1, 32, 32))', [2, 1, 32, 32], 'the call of the model on an example input'],
    ['net = Net()\nx = torch.zeros((5, 1, 32, 32))\nout = net(x)', [5, 1, 32, 32], 'the call of the model on an example input'],
    ['import torchinfo\nnet = Net()\ntorchinfo.summary(net, input_size=(1, 1, 32, 32))', [1, 1, 32, 32], 'torchinfo.summary()'],
    ['from torchsummary import summary\nnet = Net()\nsummary(net, (1, 32, 32))', [2, 1, 32, 32], 'torchsummary.summary() (which runs a batch of 2)'],
    [
      'from torchvision import datasets, transforms\ntf = transforms.Compose([transforms.Resize(32), transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])\ndata = datasets.MNIST("../data", train=True, download=True, transform=tf)\nloader = torch.utils.data.DataLoader(data, batch_size=64, shuffle=True)\nnet = Net()\nfor batch_idx, (x, target) in enumerate(loader):\n    loss = F.nll_loss(net(x), target)\n    loss.backward()',
      [64, 1, 32, 32],
      'the call of the model on an example input',
    ],
  ] as const) {
    it(`${code.split('\n').find((l) => /summary|randn|zeros|DataLoader/.test(l))!.trim()} → [${input.join(', ')}]`, async () => {
      const a = await analyze(`${NET}\n${code}\n`);
      const m = byVar(a, 'net');
      assert.deepEqual([m.inputBatch, ...m.inputShape!], input);
      assert.deepEqual(whole(m), [input[0], 10]);
      assert.equal(m.inputFrom, from);
      assert.deepEqual(a.problems.filter((p) => p.severity !== 'information'), []);
    });
  }

  it('a # convlens: input_shape comment above the class', async () => {
    const a = await analyze(NET.replace('class Net', '# convlens: input_shape=(3, 1, 32, 32)\nclass Net'));
    assert.deepEqual([a.models[0].inputBatch, ...a.models[0].inputShape!], [3, 1, 32, 32]);
    assert.equal(a.models[0].inputFrom, 'the # convlens: input_shape comment');
  });

  it('the command line (--input-shape) gives models without one theirs, and only those', async () => {
    const a = analyzeSource(`${NET}\nnet = Net()\nb = Net()\ny = b(torch.zeros(7, 1, 32, 32))\n`, await parser(), { inputShape: [4, 1, 32, 32] });
    assert.deepEqual([byVar(a, 'net').inputBatch, ...byVar(a, 'net').inputShape!], [4, 1, 32, 32]);
    assert.deepEqual([byVar(a, 'b').inputBatch, ...byVar(a, 'b').inputShape!], [7, 1, 32, 32]);
  });

  it('without any: parameters, rows and in-channel checks still; shapes unknown', async () => {
    const a = await analyze(`${NET}\nnet = Net()\n`);
    const m = byVar(a, 'net');
    assert.equal(m.totalParams, 40 + 36010);
    assert.deepEqual(whole(m), [null, 10]);
    assert.deepEqual(leaves(m), ['conv Conv2d [null,4,null,null]', 'fc Linear [null,10]']);
  });
});

describe('PyTorch diagnostics on the exact argument, with the other shape and where it came from', () => {
  it("the run-time 'mat1 and mat2 shapes cannot be multiplied (64x9216 and 4608x128)' is reported on in_features, fixed by 9216", async () => {
    const a = await analyze(MNIST);
    const [e] = errors(a);
    assert.equal(e.code, 'in-features-mismatch');
    assert.equal(covered(MNIST, e), '4608');
    assert.equal(
      e.message,
      'Linear(in_features=4608) gets 9216 features from its input [64, 9216]; PyTorch raises "mat1 and mat2 shapes cannot be multiplied (64x9216 and 4608x128)"; the input comes from torch.flatten (line 19)',
    );
    assert.equal(e.fixes?.[0].title, 'Set in_features to 9216');
    const fixed = applyFix(MNIST, e);
    assert.match(fixed, /self\.fc1 = nn\.Linear\(9216, 128\)/);
    const b = await analyze(fixed);
    assert.deepEqual(errors(b), []);
    assert.deepEqual(whole(byVar(b, 'model')), [64, 10]);
    assert.equal(byVar(b, 'model').totalParams, 1199882);
  });

  it('a Conv2d in_channels mismatch, on the argument, with the channels that fit and the layer they come from', async () => {
    const text = `${HEAD}
class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 16, 3, padding=1)
        self.bn = nn.BatchNorm2d(16)
        self.b = nn.Conv2d(8, 32, 3)

    def forward(self, x):
        return self.b(self.bn(self.a(x)))

m = M()
y = m(torch.zeros(1, 3, 8, 8))
`;
    const a = await analyze(text);
    const [e] = errors(a);
    assert.equal(covered(text, e), '8');
    assert.match(e.message, /^Conv2d\(in_channels=8\) gets an input with 16 channels \[1, 16, 8, 8\]; PyTorch raises "Given groups=1, weight of size \[32, 8, 3, 3\], expected input\[1, 16, 8, 8\] to have 8 channels, but got 16 channels instead"; the input comes from bn \(BatchNorm2d, line 13\)$/);
    assert.deepEqual(await errorsAfter(text, e), []);
  });

  it('a BatchNorm2d num_features mismatch, fixed to the channels it gets', async () => {
    const text = `${HEAD}\nnet = nn.Sequential(nn.Conv2d(3, 24, 3), nn.BatchNorm2d(32), nn.ReLU())\ny = net(torch.zeros(1, 3, 10, 10))\n`;
    const a = await analyze(text);
    const [e] = errors(a);
    assert.equal(covered(text, e), '32');
    assert.match(e.message, /running_mean should contain 24 elements not 32/);
    assert.equal(e.fixes?.[0].title, 'Set num_features to 24');
    assert.deepEqual(await errorsAfter(text, e), []);
  });

  it("view sizes that don't divide, at the view; a view(-1, N) that changes the batch, as a warning where it happens", async () => {
    const bad = await analyze(`${HEAD}\nclass M(nn.Module):\n    def forward(self, x):\n        return x.view(-1, 300)\n\nm = M()\ny = m(torch.zeros(2, 16, 5, 5))\n`);
    assert.match(errors(bad)[0].message, /^view: shape '\[-1, 300\]' is invalid for input of size 800 \(the tensor is \[2, 16, 5, 5\]/);
    const batch = await analyze(`${HEAD}\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4608, 10)\n\n    def forward(self, x):\n        return self.fc(x.view(-1, 4608))\n\nm = M()\ny = m(torch.zeros(64, 64, 12, 12))\n`);
    const w = batch.problems.find((p) => p.code === 'view-batch')!;
    assert.equal(w.severity, 'warning');
    assert.equal(w.message, 'view(-1, 4608) turns the batch of 64 into 128: one sample has 9216 values, not 4608. The next layer will see [128, 4608]; view(x.size(0), -1) keeps the batch');
  });

  it('torch.cat of tensors that differ off the joined axis, at the call, naming both inputs and their lines', async () => {
    const text = `${HEAD}
class Up(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = nn.ConvTranspose2d(16, 8, 2, stride=2)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        return torch.cat([x2, x1], dim=1)

m = Up()
y = m(torch.zeros(1, 16, 8, 8), torch.zeros(1, 8, 15, 15))
`;
    const a = await analyze(text);
    const [e] = errors(a);
    assert.equal(covered(text, e), 'torch.cat([x2, x1], dim=1)');
    assert.equal(e.message, 'torch.cat on dim 1: tensor 1 is [1, 8, 16, 16] and tensor 0 is [1, 8, 15, 15]; every other axis must match. PyTorch raises "Sizes of tensors must match except in dimension 1. Expected size 15 but got size 16 for tensor number 1 in the list."; input 1 comes from the model\'s input, input 2 comes from up (ConvTranspose2d, line 11)');
  });

  it("a kernel larger than its input, on kernel_size; padding='same' with stride 2, on padding, with explicit padding as the fix", async () => {
    const text = `${HEAD}
class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.big = nn.Conv2d(4, 4, 5)
        self.strided = nn.Conv2d(4, 4, 3, stride=2, padding='same')

    def forward(self, x):
        return self.big(self.pool(x)), self.strided(x)

m = M()
y = m(torch.zeros(1, 4, 16, 16))
`;
    const a = await analyze(text);
    const big = a.problems.find((p) => p.code === 'kernel-too-large')!;
    assert.equal(covered(text, big), '5');
    assert.match(big.message, /Calculated padded input size per channel: \(2 x 2\)\. Kernel size: \(5 x 5\)\. Kernel size can't be greater than actual input size"; the input comes from pool \(AdaptiveAvgPool2d, line 13\)$/);
    const same = a.problems.find((p) => p.code === 'same-padding-stride')!;
    assert.equal(covered(text, same), "'same'");
    assert.equal(same.fixes?.[0].title, 'Use padding=(1, 1)');
    assert.deepEqual((await analyze(applyFix(text, same))).problems.filter((p) => p.code === 'same-padding-stride'), []);
  });
});

async function errorsAfter(text: string, p: Problem): Promise<Problem[]> {
  return errors(await analyze(applyFix(text, p)));
}

describe('what the editor and the reports show for PyTorch', () => {
  it('hints: parameters at definitions in __init__, whole shapes at calls in forward, none for an operation that keeps the shape', async () => {
    const text = MNIST.replace('4608', '9216');
    const a = await analyze(text);
    const hints = layerSites(a)
      .map((s) => [text.slice(text.lastIndexOf('\n', s.anchor - 1) + 1, text.indexOf('\n', s.anchor)).trim(), hintLabel(s, 'both')])
      .filter(([, h]) => h);
    assert.deepEqual(hints, [
      ['self.conv1 = nn.Conv2d(1, 32, 3, 1)', '320 params'],
      ['self.conv2 = nn.Conv2d(32, 64, 3, 1)', '18,496 params'],
      ['self.fc1 = nn.Linear(9216, 128)', '1,179,776 params'],
      ['self.fc2 = nn.Linear(128, 10)', '1,290 params'],
      ['x = F.relu(self.conv1(x))', '→ [64, 32, 26, 26]'],
      ['x = F.relu(self.conv2(x))', '→ [64, 64, 24, 24]'],
      ['x = F.max_pool2d(x, 2)', '→ [64, 64, 12, 12]'],
      ['x = self.dropout1(x)', '→ [64, 64, 12, 12]'],
      ['x = torch.flatten(x, 1)', '→ [64, 9216]'],
      ['x = F.relu(self.fc1(x))', '→ [64, 128]'],
      ['return F.log_softmax(self.fc2(x), dim=1)', '→ [64, 10]'],
    ]);
  });

  it("hints at a container's call and on each item of an nn.Sequential", async () => {
    const text = `${HEAD}\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.features = nn.Sequential(\n            nn.Conv2d(3, 8, 3),\n            nn.ReLU(),\n        )\n\n    def forward(self, x):\n        return self.features(x)\n\nm = M()\ny = m(torch.zeros(1, 3, 10, 10))\n`;
    const a = await analyze(text);
    const labels = layerSites(a).map((s) => `${text.slice(s.span.start, s.span.end).split('\n')[0]} ⟶ ${hintLabel(s, 'both')}`);
    assert.deepEqual(labels, [
      'nn.Sequential( ⟶ 224 params',
      'nn.Conv2d(3, 8, 3) ⟶ → [1, 8, 8, 8] · 224 params',
      'nn.ReLU() ⟶ → [1, 8, 8, 8] · 0 params',
      'self.features(x) ⟶ → [1, 8, 8, 8]',
    ]);
  });

  it("hover: PyTorch's doc, whole shapes, the formula, weights in PyTorch's layout, buffers apart", async () => {
    const a = await analyze(`${HEAD}\nnet = nn.Sequential(nn.Conv2d(3, 16, 3), nn.BatchNorm2d(16))\ny = net(torch.zeros(2, 3, 8, 8))\n`);
    const bn = layerSites(a).find((s) => s.rows[0].layer.className === 'BatchNorm2d')!;
    const md = layerHover(bn);
    assert.match(md, /^\*\*BatchNorm2d\*\* — Batch normalization over \(N, C, H, W\) inputs \(PyTorch\)/);
    assert.match(md, /`\[2, 16, 6, 6\]` → `\[2, 16, 6, 6\]`/);
    assert.match(md, /Params: `weight 16 \+ bias 16 = 32`/);
    assert.match(md, /Weights: weight `\(16\)`, bias `\(16\)`/);
    assert.match(md, /Buffers \(not parameters\): running_mean `\(16\)`, running_var `\(16\)`, num_batches_tracked `\(\)`/);
    const conv = layerHover(layerSites(a).find((s) => s.rows[0].layer.className === 'Conv2d')!);
    assert.match(conv, /Params: `16 × \(3·3·3\) \+ 16 = 448`/);
    assert.match(conv, /Weights: weight `\(16, 3, 3, 3\)`, bias `\(16\)`/);
  });

  it('the code lens and the summary: torchinfo\'s table; --json: framework, varName, shapes with the batch', async () => {
    const a = await analyze(MNIST.replace('4608', '9216'));
    const m = byVar(a, 'model');
    // MACs of one sample, as for Keras; torchinfo's mult-adds count the batch (and the biases).
    assert.equal(modelLensTitle(m), '1,199,882 params (4.58 MB) · 12 M MACs');
    const table = formatSummary(m);
    assert.match(table, /^Layer \(type:depth-idx\) +Output Shape +Param # +Mult-Adds +Receptive field$/m);
    assert.match(table, /^├─Linear: 1-4 +\[64, 128\] +1,179,776 +75,505,664 +global$/m);
    assert.match(table, /^Total mult-adds \(M\): 771\.27$/m);
    const json = toJsonReport('net.py', MNIST, a).models[0];
    assert.equal(json.framework, 'pytorch');
    assert.equal(json.varName, 'model');
    assert.deepEqual(json.inputShape, [64, 1, 28, 28]);
    assert.deepEqual(json.outputShape, [64, 10]);
    assert.deepEqual(json.layers.filter((l) => l.module).map((l) => `${l.module} ${JSON.stringify(l.outputShape)}`), [
      'conv1 [64,32,26,26]', 'conv2 [64,64,24,24]', 'dropout1 [64,64,12,12]', 'fc1 [64,128]', 'fc2 [64,10]',
    ]);
    assert.equal(json.modules?.[0].type, 'Net');
  });
});
