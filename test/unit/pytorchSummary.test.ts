/**
 * ConvLens' torchinfo-style table against what torchinfo itself printed for the same models
 * (test/fixtures/pytorch/torchinfo: torchinfo's test outputs and models, MIT): every row's tree
 * drawing, depth index, output shape and "Param #" — torchinfo's leftover and "(recursive)"
 * rules, containers never called put back above their children — and the footer's totals,
 * mult-adds and sizes in torchinfo's units, character for character.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { analyzeSource, type ModelReport } from '../../src/core/index';
import { formatTorchSummary } from '../../src/core/formatTorch';
import { siblingModuleLoader } from '../../src/node/moduleLoader';
import { fixturePath, parser } from './helpers';

const dir = fixturePath('pytorch', 'torchinfo');
const printed = (file: string): string[] => readFileSync(path.join(dir, file), 'utf8').trimEnd().split('\n');

/** The models of `file` after `code` runs (the calls torchinfo's tests make), by variable. */
async function models(file: string, code: string): Promise<Map<string, ModelReport>> {
  const text = `${readFileSync(file, 'utf8')}\n${code}\n`;
  const a = analyzeSource(text, await parser(), { loadModule: siblingModuleLoader(file) });
  assert.deepEqual(a.problems.filter((p) => p.severity === 'error'), []);
  return new Map(a.models.filter((m) => m.varName).map((m) => [m.varName!, m]));
}

const table = (m: ModelReport | undefined, depth = 3): string[] => {
  assert.ok(m, 'the model is found');
  return formatTorchSummary(m, { depth, columns: ['output_size', 'num_params'] }).split('\n').filter((l) => !/^(Buffers|Input \[)/.test(l));
};

describe("the summary table is torchinfo's", () => {
  const models_py = path.join(dir, 'models.py');

  it('SingleInputNet on (2, 1, 28, 28): rows, totals, mult-adds (k), sizes (kB)', async () => {
    const m = await models(models_py, 'net = SingleInputNet()\nout = net(torch.rand(2, 1, 28, 28))');
    assert.deepEqual(table(m.get('net')), printed('single_input.out'));
  });

  it('RecursiveNet: one Conv2d called six times, "(recursive)" after the first', async () => {
    const m = await models(models_py, 'net = RecursiveNet()\nout = net(torch.rand(1, 64, 28, 28))');
    assert.deepEqual(table(m.get('net')), printed('recursive.out'));
  });

  it('ModuleDictModel with forward() keyword arguments: the ModuleDict rows put back, an unused choice counted where it sits', async () => {
    const m = await models(models_py, [
      'a = ModuleDictModel()',
      'ya = a(torch.randn(1, 10, 3, 3), layer_type="conv", activation_type="lrelu")',
      'b = ModuleDictModel()',
      'yb = b(torch.randn(1, 10, 3, 3), layer_type="pool", activation_type="prelu")',
    ].join('\n'));
    const out = printed('module_dict.out');
    // The two tables, one after the other: the second starts at its own divider above its header.
    const half = out.indexOf(out[1], 2) - 1;
    assert.deepEqual(table(m.get('a')), out.slice(0, half));
    assert.deepEqual(table(m.get('b')), out.slice(half));
  });

  it('ContainerModule at depth 4: a ModuleList of blocks, a Sequential called and looped over', async () => {
    const m = await models(models_py, 'net = ContainerModule()\nout = net(torch.rand(1, 5))');
    assert.deepEqual(table(m.get('net'), 4), printed('container.out'));
  });

  it("torchvision's resnet50 on (2, 3, 224, 224): 150 rows at depth 3, 8.18 G mult-adds, 459.10 MB", async () => {
    const m = await models(fixturePath('pytorch', 'torchvision', 'models', 'resnet.py'), 'net = resnet50()\nout = net(torch.rand(2, 3, 224, 224))');
    assert.deepEqual(table(m.get('net')), printed('resnet50.out'));
  });
});
