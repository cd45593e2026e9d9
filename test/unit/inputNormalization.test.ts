/**
 * `transforms.Normalize(mean, std)` of a PyTorch training set: read from the file (positional or
 * keywords, inside Compose), planned as one mean and std per input channel, refused where PyTorch
 * would fail, and applied to every sample the model is given (core/train/sampleLayout.ts'
 * toModelInput, the trainer's datasetForModel) — compared with torchvision's own Normalize
 * (Debian's python3-torchvision; skipped with a message when it cannot be imported).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { planTraining } from '../../src/core/train/plan';
import { toModelInput } from '../../src/core/train/sampleLayout';
import { datasetForModel } from '../../src/train/data';
import { analyze, pythonModulesMissing, readFixture } from './helpers';

const PYTHON = '/usr/bin/python3';
const torchvisionMissing = pythonModulesMissing('torch, torchvision', 'the comparison with torchvision');

async function planOf(text: string, cls = 'Net') {
  const a = await analyze(text);
  return planTraining(a.models.find((m) => m.name === cls)!, text);
}

/** A small MNIST script in pytorch/examples' shape with `transform` for its training set. */
const script = (transform: string) => `import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import datasets, transforms


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4 * 26 * 26, 10)

    def forward(self, x):
        return F.log_softmax(self.fc(torch.flatten(F.relu(self.conv(x)), 1)), dim=1)


transform = ${transform}
train_set = datasets.MNIST('../data', train=True, download=True, transform=transform)
train_loader = torch.utils.data.DataLoader(train_set, batch_size=64)
model = Net()
for data, target in train_loader:
    loss = F.nll_loss(model(data), target)
`;

describe('transforms.Normalize of a PyTorch training set', () => {
  it("pytorch/examples mnist/main.py: Normalize((0.1307,), (0.3081,)) at line 118, in the plan and its notes", async () => {
    const r = await planOf(readFixture('pytorch', 'pytorch_examples', 'mnist_main.py'));
    assert.deepEqual(r.plan!.inputNormalization, { mean: [0.1307], std: [0.3081] });
    assert.ok(r.notes.includes("transforms.Normalize (line 118): every input is (x − mean) / std per channel, mean (0.1307), std (0.3081), after ToTensor's ÷ 255"), r.notes.join('\n'));
  });

  it("the CIFAR-10 tutorial's Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)): one value per channel of (3, 32, 32)", async () => {
    const r = await planOf(readFixture('pytorch', 'tutorials', 'cifar10_tutorial.py'));
    assert.deepEqual(r.plan!.inputNormalization, { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
  });

  it('keywords and a nested Compose are read; a transform without Normalize leaves the inputs as ToTensor gives them', async () => {
    let r = await planOf(script('transforms.Compose([transforms.Compose([transforms.ToTensor()]), transforms.Normalize(mean=[0.2], std=[0.25])])'));
    assert.deepEqual(r.plan!.inputNormalization, { mean: [0.2], std: [0.25] });
    r = await planOf(script('transforms.Compose([transforms.ToTensor()])'));
    assert.equal(r.plan!.inputNormalization, undefined);
  });

  it('refuses, at the Normalize call, three means for one channel and a std of 0', async () => {
    let r = await planOf(script('transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])'));
    assert.equal(r.plan, undefined);
    assert.deepEqual(r.problems.map((p) => [p.line, p.message]), [[17, 'transforms.Normalize has 3 mean and 3 std values for a 1-channel input (PyTorch takes one, or one per channel)']]);
    r = await planOf(script('transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0,))])'));
    assert.match(r.problems[0].message, /non-zero standard deviations/);
  });

  it('applied per channel to channels-first samples, the cached dataset left as it was', () => {
    const plan = { framework: 'pytorch' as const, inputShape: [2, 1, 2], inputNormalization: { mean: [0.5, 0.1], std: [0.5, 0.2] } };
    // Two samples, channels-last (1, 2, 2): pixel-major, channel-minor.
    const hwc = Float32Array.of(0, 1, 0.5, 0.3, 1, 0.1, 0.25, 0.5);
    const before = Float32Array.from(hwc);
    const x = toModelInput(plan, hwc, plan.inputShape, 2);
    assert.deepEqual(Array.from(x).map((v) => +v.toFixed(6)), [-1, 0, 4.5, 1, 1, -0.5, 0, 2]);
    assert.deepEqual(hwc, before);
    const ds = { name: 'two', shape: [1, 2, 2] as [number, number, number], numClasses: 2, classNames: ['a', 'b'], train: { x: hwc, y: Uint8Array.of(0, 1), count: 2 }, normalization: '÷255' };
    const moved = datasetForModel(ds, plan);
    assert.deepEqual(Array.from(moved.train.x), Array.from(x));
    assert.equal(ds.train.x, hwc, 'the loaded dataset is not altered');
    assert.match(moved.normalization, /^÷255, then transforms\.Normalize: \(x − \(0\.5, 0\.1\)\) \/ \(0\.5, 0\.2\)$/);
  });

  it("equals torchvision's transforms.Normalize on the same tensor", { skip: torchvisionMissing }, () => {
    const plan = { framework: 'pytorch' as const, inputShape: [3, 4, 5], inputNormalization: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } };
    const hwc = Float32Array.from({ length: 2 * 60 }, (_, i) => (i * 37) % 101 / 100);
    const ours = toModelInput(plan, hwc, plan.inputShape, 2);
    const code = `import json, sys, torch
from torchvision import transforms
x = torch.tensor(json.load(sys.stdin), dtype=torch.float32).reshape(2, 4, 5, 3).permute(0, 3, 1, 2)
n = transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
print(json.dumps(torch.stack([n(s) for s in x]).reshape(-1).tolist()))
`;
    const r = spawnSync(PYTHON, ['-c', code], { input: JSON.stringify(Array.from(hwc)), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const theirs = JSON.parse(r.stdout) as number[];
    assert.equal(theirs.length, ours.length);
    theirs.forEach((v, i) => assert.ok(Math.abs(v - ours[i]) < 1e-5, `value ${i}: ${ours[i]} vs torchvision ${v}`));
  });
});
