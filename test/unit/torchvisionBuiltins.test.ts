/**
 * torchvision.models' builders as ConvLens defines them itself (src/core/applications/tv*.ts),
 * called from a user's file as users call them, against what torchvision 0.14.1 records for the
 * same call (test/pytorch/record_builtins.py → test/fixtures/pytorch/builtins/expected.json): totals,
 * trainable and non-trainable parameters, buffers, every leaf's class, parameters and outputs, the
 * call order. Then the idioms of fine-tuning code around them, and the transfer-learning tutorial.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { analyzeSource, type FileAnalysis } from '../../src/core/index';
import { TORCHVISION_MODELS } from '../../src/core/applications/torchvision';
import { planTraining } from '../../src/core/train/plan';
import { fixturePath, parser } from './helpers';
import { compareWithTorch, type RecordedModel } from './torchRecord';

const recorded = JSON.parse(readFileSync(fixturePath('pytorch', 'builtins', 'expected.json'), 'utf8')) as {
  torchvision: string;
  builders: RecordedModel[];
  tutorial: { file: string; models: RecordedModel[] };
};

/** A JSON value as Python source. */
function py(v: unknown): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return `[${v.map(py).join(', ')}]`;
  return String(v);
}

/** The three ways users reach a builder, taken in turn. */
function userFile(m: RecordedModel, i: number): string {
  const args = Object.entries(m.kwargs).map(([k, v]) => `${k}=${py(v)}`).join(', ');
  const call = `(torch.zeros(${m.input.join(', ')}))`;
  switch (i % 3) {
    case 0:
      return `import torch\nimport torchvision\nmodel = torchvision.models.${m.builder}(${args})\nout = model${call}\n`;
    case 1:
      return `import torch\nfrom torchvision import models\nmodel = models.${m.builder}(${args})\nout = model${call}\n`;
    default:
      return `import torch\nfrom torchvision.models import ${m.builder}\nmodel = ${m.builder}(${args})\nout = model${call}\n`;
  }
}

async function analyze(text: string): Promise<FileAnalysis> {
  return analyzeSource(text, await parser());
}

function errors(a: FileAnalysis): string[] {
  return a.problems.filter((p) => p.severity === 'error').map((p) => p.message);
}

describe('torchvision.models builders equal torchvision 0.14.1', () => {
  it('were recorded by torchvision 0.14', () => assert.match(recorded.torchvision, /^0\.14\./));

  it('every builder ConvLens defines is recorded', () => {
    const seen = new Set(recorded.builders.map((m) => m.builder));
    const missing = Object.keys(TORCHVISION_MODELS).filter((b) => !seen.has(b) && !/^(resnext101_|wide_resnet101)/.test(b));
    assert.deepEqual(missing, []);
  });

  recorded.builders.forEach((m, i) => {
    it(`${m.builder}(${Object.entries(m.kwargs).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}) on ${m.input.join('×')}`, async () => {
      const a = await analyze(userFile(m, i));
      const got = a.models.find((x) => x.varName === 'model');
      assert.ok(got, `no model (found ${a.models.map((x) => x.varName ?? x.name).join(', ')})`);
      const diffs = [...compareWithTorch(m, got), ...errors(a)];
      assert.deepEqual(diffs.length > 16 ? [...diffs.slice(0, 16), `… and ${diffs.length - 16} more`] : diffs, []);
      assert.equal(got.pretrained, undefined, 'no weights were asked for');
    });
  });
});

describe('torchvision builders in fine-tuning code', () => {
  it('weights= and pretrained= are recorded as weights ConvLens cannot load; torchvision refuses another num_classes with them', async () => {
    const a = await analyze(`import torch, torchvision
from torchvision import models
from torchvision.models import ResNet50_Weights
a = models.resnet50(weights=ResNet50_Weights.IMAGENET1K_V2)
b = torchvision.models.vgg16(pretrained=True)
c = models.mobilenet_v2(weights=None)
d = models.efficientnet_b0(weights='DEFAULT', num_classes=10)
`);
    const by = (n: string) => a.models.find((m) => m.varName === n);
    assert.equal(by('a')?.pretrained, 'ResNet50_Weights.IMAGENET1K_V2');
    assert.equal(by('b')?.pretrained, 'DEFAULT');
    assert.equal(by('c')?.pretrained, undefined);
    assert.equal(by('a')?.totalParams, 25_557_032);
    assert.ok(
      a.problems.some((p) => p.message.includes("The parameter 'num_classes' expected value 1000 but got 10 instead")),
      a.problems.map((p) => p.message).join('\n'),
    );
  });

  it('reads constructor attributes, replaces heads by attribute and by index, and counts frozen parameters as torch does', async () => {
    const a = await analyze(`import torch, torch.nn as nn
from torchvision import models
r = models.resnet18()
for param in r.parameters():
    param.requires_grad = False
r.fc = nn.Linear(r.fc.in_features, 2)
v = models.vgg16()
v.classifier[6] = nn.Linear(v.classifier[6].in_features, 2)
v.features.requires_grad_(False)
m = models.mobilenet_v2()
m.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(m.classifier[1].in_features, 3))
width = m.features[0][0].out_channels
head = nn.Linear(width, 4)
d = models.densenet121()
for name, p in d.named_parameters():
    if 'classifier' not in name:
        p.requires_grad = False
d.classifier = nn.Linear(d.classifier.in_features, 5)
`);
    const by = (n: string) => a.models.find((m) => m.varName === n)!;
    // torch: resnet18 with a 2-class fc, all else frozen.
    assert.deepEqual([by('r').totalParams, by('r').trainableParams, by('r').outputs[0].shape], [11_177_538, 1_026, [2]]);
    // vgg16: 138,357,544 − 4,097,000 + 8,194; the 14,714,688 of features frozen.
    assert.deepEqual([by('v').totalParams, by('v').nonTrainableParams, by('v').outputs[0].shape], [134_268_738, 14_714_688, [2]]);
    assert.deepEqual([by('m').totalParams, by('m').trainableParams, by('m').outputs[0].shape], [2_227_715, 2_227_715, [3]]);
    // densenet121's classifier replaced after freezing everything but the old one: only the new head trains.
    assert.deepEqual([by('d').totalParams, by('d').trainableParams], [6_958_981, 5_125]);
    assert.equal(a.models.find((x) => x.varName === 'head'), undefined, 'a lone Linear is no model');
    assert.deepEqual(errors(a), []);
  });

  it('an index past a Sequential is PyTorch’s IndexError', async () => {
    const a = await analyze(`import torch.nn as nn
from torchvision import models
v = models.alexnet()
v.classifier[7] = nn.Linear(4096, 2)
`);
    assert.ok(a.problems.some((p) => /index 7 is out of range: it has 7 modules/.test(p.message)));
  });
});

describe('PyTorch transfer-learning tutorial (pytorch/tutorials beginner_source/transfer_learning_tutorial.py)', () => {
  it('gives the numbers torch gives for model_ft and model_conv, with the pretrained weights noted', async () => {
    const file = fixturePath('pytorch', ...recorded.tutorial.file.split('/'));
    const a = await analyze(readFileSync(file, 'utf8'));
    for (const m of recorded.tutorial.models) {
      const got = a.models.find((x) => x.varName === m.builder);
      assert.ok(got, `${m.builder}: no model (found ${a.models.map((x) => x.varName ?? x.name).join(', ')})`);
      assert.deepEqual(compareWithTorch(m, got).slice(0, 16), [], m.builder);
      assert.equal(got.pretrained, 'IMAGENET1K_V1');
    }
    assert.deepEqual(errors(a), []);
  });

  it('the trainer says the ImageNet weights are not loaded, and refuses a frozen backbone it would leave random', async () => {
    const text = readFileSync(fixturePath('pytorch', 'tutorials', 'transfer_learning_tutorial.py'), 'utf8');
    const a = await analyze(text);
    const ft = planTraining(a.models.find((x) => x.varName === 'model_ft')!, text);
    assert.ok(ft.plan, JSON.stringify(ft.problems));
    assert.ok(ft.notes.some((n) => /IMAGENET1K_V1' weights cannot be downloaded/.test(n)), ft.notes.join('\n'));
    const conv = planTraining(a.models.find((x) => x.varName === 'model_conv')!, text);
    assert.ok(conv.problems.some((r) => /11,176,512 parameters frozen \(requires_grad=False\) to keep its 'IMAGENET1K_V1' weights/.test(r.message)), JSON.stringify(conv.problems));
  });
});
