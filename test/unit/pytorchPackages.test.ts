/**
 * What torchvision's segmentation models and its package layout need (found by running ConvLens on
 * torchvision 0.14's `models/segmentation/*.py`): `_utils.IntermediateLayerGetter`, an nn.ModuleDict
 * subclass rebuilt from `named_children()` up to the last of `return_layers` (`del` of the dict's keys,
 * `break`) whose forward returns an OrderedDict; `del` in general (names, dict keys, list items and
 * slices, a module's child, a container's item); a classmethod called through a subclass (`WeightsEnum.verify`);
 * a module imported relatively whose own relative imports start from its folder, not the model
 * file's; and an absolute import of a package's own module (`from torchvision.models.resnet import …`)
 * resolved to the copy of it in the folders the file is in. Every expected number was printed by
 * Debian's torch 1.13 running the same snippet (forward hooks on the leaves for the shapes).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { analyzeSource, type FileAnalysis, type ModelReport } from '../../src/core/index';
import { siblingModuleLoader } from '../../src/node/moduleLoader';
import { analyze, parser } from './helpers';

const byVar = (a: FileAnalysis, v: string): ModelReport => {
  const m = a.models.find((x) => x.varName === v);
  assert.ok(m, `no model '${v}' (have ${a.models.map((x) => x.varName ?? x.name).join(', ')})`);
  return m;
};
/** Leaf module calls in order: `name class [shape]`. */
const leaves = (m: ModelReport): string[] => (m.modules ?? []).filter((r) => r.leaf && r.called).map((r) => `${r.name} ${r.className} ${JSON.stringify(r.outputShape)}`);
const errors = (a: FileAnalysis): string[] => a.problems.filter((p) => p.severity === 'error').map((p) => p.message);
/** The model's outputs by key, as PyTorch prints a dict of shapes. */
const keyed = (m: ModelReport): Record<string, unknown> => Object.fromEntries(m.outputs.map((o) => [o.key ?? '?', o.shape && [m.outputBatch, ...o.shape]]));

/** torchvision 0.14.1 `models/_utils.py`'s IntermediateLayerGetter, verbatim (BSD-3-Clause), on a small backbone. */
const GETTER = `from collections import OrderedDict
from typing import Dict
import torch
from torch import nn


class IntermediateLayerGetter(nn.ModuleDict):
    _version = 2
    __annotations__ = {
        "return_layers": Dict[str, str],
    }

    def __init__(self, model: nn.Module, return_layers: Dict[str, str]) -> None:
        if not set(return_layers).issubset([name for name, _ in model.named_children()]):
            raise ValueError("return_layers are not present in model")
        orig_return_layers = return_layers
        return_layers = {str(k): str(v) for k, v in return_layers.items()}
        layers = OrderedDict()
        for name, module in model.named_children():
            layers[name] = module
            if name in return_layers:
                del return_layers[name]
            if not return_layers:
                break

        super().__init__(layers)
        self.return_layers = orig_return_layers

    def forward(self, x):
        out = OrderedDict()
        for name, module in self.items():
            x = module(x)
            if name in self.return_layers:
                out_name = self.return_layers[name]
                out[out_name] = x
        return out


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(8, 16, 3)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.conv2(self.relu(self.conv1(x)))), 1))


class Seg(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = IntermediateLayerGetter(Net(), return_layers={"relu": "aux", "conv2": "out"})
        self.head = nn.Conv2d(16, 4, 1)

    def forward(self, x):
        features = self.backbone(x)
        result = OrderedDict()
        x = features["out"]
        result["out"] = self.head(x)
        return result


model = Seg()
y = model(torch.zeros(1, 3, 16, 16))
`;

/** `del` of every kind, and a classmethod reading the subclass's table. */
const DELETE = `import torch
from torch import nn


class Config:
    widths = [8, 16, 32, 64, 128]

    @classmethod
    def make(cls, n):
        ws = list(cls.widths)
        del ws[n:]
        return ws


class Small(Config):
    widths = [4, 8, 12, 16, 20]


class Net(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        ws = cfg.make(3)
        del ws[0]
        stages = nn.Sequential(nn.Conv2d(3, ws[0], 3), nn.ReLU(), nn.Conv2d(ws[0], ws[1], 3), nn.Identity())
        del stages[1]
        del stages[-1]
        self.stages = stages
        self.heads = nn.ModuleDict({"a": nn.Conv2d(ws[1], 2, 1), "b": nn.Conv2d(ws[1], 3, 1)})
        del self.heads["b"]
        self.fc = nn.Linear(4, 4)
        del self.fc
        tmp = 5
        del tmp

    def forward(self, x):
        x = self.stages(x)
        return {name: head(x) for name, head in self.heads.items()}


model = Net(Small)
y = model(torch.zeros(1, 3, 16, 16))
`;

describe('torchvision segmentation idioms', () => {
  it('IntermediateLayerGetter keeps the backbone up to the last returned layer and returns an OrderedDict', async () => {
    const a = await analyze(GETTER);
    assert.deepEqual(errors(a), []);
    const m = byVar(a, 'model');
    // torch 1.13: 1460 parameters (pool and fc are cut off), {'out': [1, 4, 12, 12]}.
    assert.equal(m.totalParams, 1460);
    assert.deepEqual(keyed(m), { out: [1, 4, 12, 12] });
    assert.deepEqual(leaves(m), ['backbone.conv1 Conv2d [1,8,14,14]', 'backbone.relu ReLU [1,8,14,14]', 'backbone.conv2 Conv2d [1,16,12,12]', 'head Conv2d [1,4,12,12]']);
  });

  it('del removes names, dict keys, list items and slices, a child module, a container item (renumbered)', async () => {
    const a = await analyze(DELETE);
    assert.deepEqual(errors(a), []);
    const m = byVar(a, 'model');
    // torch 1.13: 1126 parameters; leaves stages.0 Conv2d 224, stages.1 Conv2d 876, heads.a Conv2d 26; {'a': [1, 2, 12, 12]}.
    assert.equal(m.totalParams, 1126);
    assert.deepEqual(keyed(m), { a: [1, 2, 12, 12] });
    assert.deepEqual(leaves(m), ['stages.0 Conv2d [1,8,14,14]', 'stages.1 Conv2d [1,12,12,12]', 'heads.a Conv2d [1,2,12,12]']);
    assert.deepEqual(m.summary.filter((s) => s.name).map((s) => `${s.name} ${s.params}`).filter((s) => !s.startsWith('stages ') && !s.startsWith('heads ')), ['stages.0 224', 'stages.1 876', 'heads.a 26']);
  });
});

describe('modules of a package', () => {
  // pkg/models/{_utils,blocks}.py and pkg/models/seg/{_utils,net}.py: blocks.py's `._utils` is
  // pkg/models/_utils.py (width 12), not the model file's pkg/models/seg/_utils.py (width 99).
  const root = mkdtempSync(path.join(tmpdir(), 'convlens-pkg-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const FILES: Record<string, string> = {
    '_utils.py': `def width():
    return 12
`,
    'blocks.py': `from torch import nn
from ._utils import width


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, width(), 3)

    def forward(self, x):
        return self.conv(x)
`,
    'seg/_utils.py': `def width():
    return 99
`,
    'seg/net.py': `import torch
from torch import nn
from pkg.models.blocks import Block as Absolute
from ..blocks import Block


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = Block(3)
        self.head = nn.Conv2d(12, 2 if Absolute is Block else 5, 1)

    def forward(self, x):
        return self.head(self.body(x))


model = Net()
y = model(torch.zeros(1, 3, 8, 8))
`,
  };
  mkdirSync(path.join(root, 'pkg', 'models', 'seg'), { recursive: true });
  for (const [f, text] of Object.entries(FILES)) writeFileSync(path.join(root, 'pkg', 'models', f), text);

  it("an imported module's relative imports start from its own folder; an absolute import of the package's own module is the same module", async () => {
    const file = path.join(root, 'pkg', 'models', 'seg', 'net.py');
    const a = analyzeSource(FILES['seg/net.py'], await parser(), { loadModule: siblingModuleLoader(file) });
    assert.deepEqual(errors(a), []);
    const m = byVar(a, 'model');
    // python3 -c 'import pkg.models.seg.net' (torch 1.13): 362 parameters, output [1, 2, 6, 6].
    assert.equal(m.totalParams, 362);
    assert.deepEqual(leaves(m), ['body.conv Conv2d [1,12,6,6]', 'head Conv2d [1,2,6,6]']);
  });

  it('an absolute import of a module the folders do not hold stays unknown', async () => {
    const file = path.join(root, 'pkg', 'models', 'seg', 'net.py');
    const text = FILES['seg/net.py'].replace('from pkg.models.blocks import', 'from pkg.models.missing import');
    const a = analyzeSource(text, await parser(), { loadModule: siblingModuleLoader(file) });
    const m = byVar(a, 'model');
    // `Absolute is Block` cannot be decided: the head's width is not invented.
    assert.equal(m.totalParams, null);
    assert.ok(a.problems.some((p) => p.severity === 'information' && /cannot evaluate 'out_channels'/.test(p.message)), JSON.stringify(a.problems.map((p) => p.message)));
  });
});
