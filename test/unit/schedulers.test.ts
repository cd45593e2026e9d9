/**
 * PyTorch's learning-rate schedulers (src/core/train/schedulers.ts): read from a file as written
 * (keywords or positional arguments after the optimizer), planned as one rate per epoch, and each
 * rate equal to what torch.optim.lr_scheduler gives when stepped once per epoch (Debian's
 * python3-torch; those comparisons are skipped with a message when `import torch` fails).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { planTraining } from '../../src/core/train/plan';
import { SCHEDULERS } from '../../src/core/train/schedulers';
import { analyze, pythonModulesMissing } from './helpers';

const PYTHON = '/usr/bin/python3';
const torchMissing = pythonModulesMissing('torch', 'the comparisons with torch.optim.lr_scheduler');

/** A PyTorch training script in the usual shape, with `scheduler` made on its optimizer. */
const script = (optimizer: string, scheduler: string, epochs = 12): string => `import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import ConstantLR, CosineAnnealingLR, ExponentialLR, LinearLR, MultiStepLR, OneCycleLR, StepLR


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4 * 26 * 26, 10)

    def forward(self, x):
        x = F.relu(self.conv(x))
        return self.fc(torch.flatten(x, 1))


model = Net()
out = model(torch.randn(8, 1, 28, 28))
optimizer = ${optimizer}
scheduler = ${scheduler}
for epoch in range(${epochs}):
    loss = F.cross_entropy(model(torch.randn(8, 1, 28, 28)), torch.zeros(8, dtype=torch.long))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
`;

async function planOf(text: string, epochs = 12) {
  const a = await analyze(text);
  return planTraining(a.models.find((m) => m.name === 'Net')!, text, { epochs });
}

function ratesOf(r: Awaited<ReturnType<typeof planOf>>): number[] {
  assert.deepEqual(r.problems, []);
  const c = r.plan!.fit?.callbacks.find((x) => x.kind === 'LearningRateScheduler');
  if (c === undefined || c.kind !== 'LearningRateScheduler') return assert.fail('a per-epoch schedule');
  return c.values;
}

/** torch.optim.lr_scheduler's rate before each of `epochs` epochs, stepping once per epoch. */
function torchRates(optimizer: string, scheduler: string, epochs: number): number[] {
  const code = `import json, torch
from torch import optim
from torch.optim.lr_scheduler import *
p = [torch.nn.Parameter(torch.zeros(1))]
optimizer = ${optimizer.replace('model.parameters()', 'p')}
scheduler = ${scheduler}
rates = []
for e in range(${epochs}):
    rates.append(optimizer.param_groups[0]["lr"])
    optimizer.step()
    scheduler.step()
print(json.dumps(rates))
`;
  const r = spawnSync(PYTHON, ['-c', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as number[];
}

const CASES: { optimizer: string; scheduler: string; epochs?: number }[] = [
  { optimizer: 'optim.Adadelta(model.parameters(), lr=1.0)', scheduler: 'StepLR(optimizer, step_size=1, gamma=0.7)' },
  { optimizer: 'optim.SGD(model.parameters(), lr=0.1, momentum=0.9)', scheduler: 'StepLR(optimizer, 3)' },
  { optimizer: 'optim.SGD(model.parameters(), lr=0.1)', scheduler: 'MultiStepLR(optimizer, milestones=[3, 7, 7], gamma=0.5)' },
  { optimizer: 'optim.Adam(model.parameters(), lr=0.01)', scheduler: 'ExponentialLR(optimizer, 0.9)' },
  // kuangliu/pytorch-cifar main.py: CosineAnnealingLR(optimizer, T_max=200); here over 12 epochs and past T_max.
  { optimizer: 'optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)', scheduler: 'CosineAnnealingLR(optimizer, T_max=8)', epochs: 20 },
  { optimizer: 'optim.SGD(model.parameters(), lr=0.05)', scheduler: 'CosineAnnealingLR(optimizer, 10, eta_min=0.001)' },
  { optimizer: 'optim.SGD(model.parameters(), lr=0.1)', scheduler: 'ConstantLR(optimizer, factor=0.5, total_iters=4)' },
  { optimizer: 'optim.SGD(model.parameters(), lr=0.1)', scheduler: 'LinearLR(optimizer, start_factor=0.25, total_iters=6)' },
  { optimizer: 'optim.AdamW(model.parameters())', scheduler: 'LinearLR(optimizer)' },
];

describe('PyTorch learning-rate schedulers', () => {
  it('every registered scheduler has a case here (a new one needs its comparison with PyTorch)', () => {
    assert.deepEqual([...new Set(CASES.map((c) => c.scheduler.slice(0, c.scheduler.indexOf('('))))].sort(), SCHEDULERS.map((s) => s.name).sort());
  });

  it('the pytorch/examples MNIST idiom: StepLR(optimizer, step_size=1, gamma=0.7) → 1, 0.7, 0.49, … and a note naming the line', async () => {
    const r = await planOf(script('optim.Adadelta(model.parameters(), lr=1.0)', 'StepLR(optimizer, step_size=1, gamma=0.7)'), 4);
    const v = ratesOf(r);
    assert.deepEqual(v.map((x) => +x.toFixed(6)), [1, 0.7, 0.49, 0.343]);
    assert.ok(r.notes.some((n) => n === 'StepLR (line 22): the learning rate × 0.7 every 1 epoch'), r.notes.join('\n'));
  });

  it('refuses, on the scheduler’s line, what it cannot reproduce: another class, a required argument missing, last_epoch, bad factors', async () => {
    const refusal = async (s: string) => {
      const r = await planOf(script('optim.SGD(model.parameters(), lr=0.1)', s));
      assert.equal(r.plan, undefined, s);
      assert.equal(r.problems[0].line, 22);
      return r.problems[0].message;
    };
    assert.match(await refusal('OneCycleLR(optimizer, max_lr=0.1, total_steps=100)'), /torch\.optim\.lr_scheduler\.OneCycleLR is not reproduced by ConvLens yet \(StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, ConstantLR, LinearLR are\)/);
    assert.match(await refusal('StepLR(optimizer, gamma=0.5)'), /StepLR\(step_size=…\) is required/);
    assert.match(await refusal('ExponentialLR(optimizer, gamma=0.9, last_epoch=3)'), /last_epoch=…\) resumes a schedule/);
    assert.match(await refusal('ConstantLR(optimizer, factor=2)'), /ConstantLR: ConstantLR\(factor=…\) must be between 0 and 1/);
    assert.match(await refusal('MultiStepLR(optimizer, milestones=range(3))'), /MultiStepLR\(milestones=…\) cannot be read/);
  });

  for (const c of CASES) {
    it(`${c.scheduler} with ${c.optimizer.replace('(model.parameters()', '(').replace('(, ', '(')}: every epoch's rate equals torch.optim.lr_scheduler's`, { skip: torchMissing }, async () => {
      const epochs = c.epochs ?? 12;
      const ours = ratesOf(await planOf(script(c.optimizer, c.scheduler, epochs), epochs));
      const theirs = torchRates(c.optimizer, c.scheduler, epochs);
      assert.equal(ours.length, theirs.length);
      ours.forEach((v, e) => assert.ok(Math.abs(v - theirs[e]) <= 1e-9 + 1e-6 * Math.abs(theirs[e]), `epoch ${e}: ${v} vs PyTorch ${theirs[e]}\nours   ${ours.join(', ')}\nPyTorch ${theirs.join(', ')}`));
    });
  }
});
