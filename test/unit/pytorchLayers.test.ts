/**
 * PyTorch layers and tensor operations, family by family, against what PyTorch itself computes:
 * test/fixtures/pytorch/layers.json is written by test/pytorch/layer_facts.py with Debian's torch
 * (each case run on zeros: the output shape, parameters and buffer elements, or the error PyTorch
 * raises). Each case is analysed inside an nn.Module called on `torch.zeros` of its input size,
 * as a user writes it; an error PyTorch raises must be an error here, quoting PyTorch's words.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LAYERS, findLayer } from '../../src/core/index';
import { analyze, readFixture } from './helpers';

interface Case {
  family: string;
  code: string;
  input: number[];
  outputShape?: number[];
  params?: number;
  buffers?: number;
  error?: string;
}

const facts = JSON.parse(readFixture('pytorch', 'layers.json')) as { torch: string; cases: Case[] };

/** The case as a model file: a module built in __init__ and called in forward, or an expression of x in forward. */
function source(c: Case): string {
  const module = c.code.startsWith('nn.');
  return [
    'import torch',
    'import torch.nn as nn',
    'import torch.nn.functional as F',
    '',
    'class M(nn.Module):',
    '    def __init__(self):',
    '        super().__init__()',
    module ? `        self.m = ${c.code}` : '        self.unused = nn.Identity()',
    '',
    '    def forward(self, x):',
    `        return ${module ? 'self.m(x)' : c.code}`,
    '',
    'model = M()',
    `y = model(torch.zeros(${c.input.join(', ')}))`,
    '',
  ].join('\n');
}

/** The part of PyTorch's message that names the problem (argument numbers and what follows ", but got:" vary by version). */
const essence = (message: string): string => message.replace(/^Argument #\d+: /, '').split(', but got:')[0];

describe(`PyTorch layers and operations against torch ${facts.torch}`, () => {
  const families = [...new Set(facts.cases.map((c) => c.family))];
  for (const family of families) {
    describe(family, () => {
      for (const c of facts.cases.filter((x) => x.family === family)) {
        const title = `${c.code} on [${c.input.join(', ')}] → ${c.error ? `error: ${c.error}` : `[${c.outputShape!.join(', ')}]${c.params !== undefined ? `, ${c.params} params, ${c.buffers} buffer values` : ''}`}`;
        it(title, async () => {
          const a = await analyze(source(c));
          const model = a.models.find((m) => m.varName === 'model');
          assert.ok(model, 'the model is found');
          const errors = a.problems.filter((p) => p.severity === 'error');
          if (c.error) {
            assert.ok(errors.length > 0, `PyTorch raises "${c.error}", ConvLens reports ${JSON.stringify(a.problems.map((p) => p.message))}`);
            assert.ok(errors.some((p) => p.message.includes(essence(c.error!))), `an error quotes PyTorch's "${essence(c.error)}": ${errors.map((p) => p.message).join(' | ')}`);
            return;
          }
          assert.deepEqual(errors.map((p) => p.message), []);
          assert.deepEqual(model.outputShape === null ? null : [model.outputBatch, ...model.outputShape], c.outputShape);
          if (c.params !== undefined) {
            assert.equal(model.totalParams, c.params);
            assert.equal(model.buffers?.elements ?? 0, c.buffers);
          }
        });
      }
    });
  }
});

describe('the PyTorch registry', () => {
  it("every PyTorch module class of torch.nn the issue names is registered under PyTorch's name, apart from Keras' layers", () => {
    for (const name of [
      'Conv1d', 'Conv2d', 'Conv3d', 'ConvTranspose1d', 'ConvTranspose2d', 'ConvTranspose3d', 'Linear', 'Bilinear', 'BatchNorm1d', 'BatchNorm2d',
      'BatchNorm3d', 'GroupNorm', 'LayerNorm', 'InstanceNorm1d', 'InstanceNorm2d', 'InstanceNorm3d', 'MaxPool1d', 'MaxPool2d', 'MaxPool3d',
      'AvgPool1d', 'AvgPool2d', 'AvgPool3d', 'AdaptiveAvgPool1d', 'AdaptiveAvgPool2d', 'AdaptiveAvgPool3d', 'AdaptiveMaxPool1d', 'AdaptiveMaxPool2d',
      'AdaptiveMaxPool3d', 'Dropout', 'Dropout1d', 'Dropout2d', 'Dropout3d', 'AlphaDropout', 'ReLU', 'LeakyReLU', 'PReLU', 'ELU', 'GELU', 'SiLU',
      'Sigmoid', 'Tanh', 'Softmax', 'LogSoftmax', 'ReLU6', 'Hardswish', 'Flatten', 'Unflatten', 'Upsample', 'PixelShuffle', 'ReflectionPad2d',
      'ReplicationPad2d', 'ZeroPad2d', 'Embedding', 'Identity',
    ]) {
      const def = findLayer(name, 'pytorch');
      assert.ok(def, `${name} is not registered for PyTorch`);
      assert.equal(def.framework, 'pytorch');
    }
    // The same class names mean different layers in each framework.
    assert.notEqual(findLayer('ReLU', 'pytorch'), findLayer('ReLU'));
    assert.equal(findLayer('Conv2d'), undefined, "Keras has no 'Conv2d'");
    assert.equal(findLayer('Conv2D', 'pytorch'), undefined, "PyTorch has no 'Conv2D'");
  });

  it("weights in PyTorch's layout and names; BatchNorm's running statistics are buffers", () => {
    const conv = findLayer('Conv2d', 'pytorch')!.bind({ in_channels: 3, out_channels: 16, kernel_size: [3, 5], stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1, bias: true, padding_mode: 'zeros' });
    // PyTorch's own initialisers: kaiming_uniform(a=√5) for the weight, U(±1/√fan_in) with the weight's fan-in 3·3·5 for the bias.
    assert.deepEqual(conv.weights([[]]), [
      { name: 'weight', shape: [16, 3, 3, 5], trainable: true, init: 'torch_kaiming_uniform' },
      { name: 'bias', shape: [16], trainable: true, init: 'torch_bias_uniform', fanIn: 45 },
    ]);
    const bn = findLayer('BatchNorm2d', 'pytorch')!.bind({ num_features: 8, eps: 1e-5, momentum: 0.1, affine: true, track_running_stats: true });
    assert.deepEqual(bn.weights([[]]).map((w) => `${w.name}${w.buffer ? ' (buffer)' : ''} [${w.shape.join(', ')}]`), [
      'weight [8]', 'bias [8]', 'running_mean (buffer) [8]', 'running_var (buffer) [8]', 'num_batches_tracked (buffer) []',
    ]);
  });

  it('every PyTorch layer has a doc, and training emitters or the reason it is not trainable yet', () => {
    const trainable: string[] = [];
    for (const def of LAYERS.filter((l) => l.framework === 'pytorch')) {
      assert.ok(def.doc.length > 20, def.name);
      if (def.declares.train) trainable.push(def.name);
      else assert.match(def.untrainable ?? '', /PyTorch/, def.name);
    }
    // The layers issue 12 asks to train (and what came with their families).
    for (const name of ['Conv1d', 'Conv2d', 'Conv3d', 'Linear', 'Identity', 'BatchNorm1d', 'BatchNorm2d', 'MaxPool2d', 'AvgPool2d', 'AdaptiveAvgPool2d', 'AdaptiveMaxPool2d', 'Dropout', 'ReLU', 'LeakyReLU', 'ELU', 'Sigmoid', 'Tanh', 'Softmax', 'LogSoftmax', 'Flatten', 'view', 'add', 'cat']) {
      assert.ok(trainable.includes(name), `${name} should be trainable`);
    }
  });
});
