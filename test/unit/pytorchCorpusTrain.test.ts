/**
 * Which real PyTorch classifiers of test/fixtures/pytorch ConvLens can train: every model of the
 * corpus whose output is one vector per sample is built as pytorchCorpus.test.ts builds it (its
 * builder with the manifest's arguments, called on zeros, written after the file's code) and
 * planned with `planTraining`. All of them must be accepted but the few listed below, each refused
 * for the reason given; and every accepted plan must compile to a training graph. (The gradients
 * of the operations these models use are checked against torch in pytorchTrain.test.ts.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { analyzeSource } from '../../src/core/index';
import { compileTrainGraph } from '../../src/core/train/compile';
import { planTraining } from '../../src/core/train/plan';
import { siblingModuleLoader } from '../../src/node/moduleLoader';
import { fixturePath, parser } from './helpers';

interface RecordedModel {
  builder: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  input: number[];
}

const dir = fixturePath('pytorch');
const expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as { files: Record<string, { models: RecordedModel[] }> };
const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { fixtures: { file: string; globals?: Record<string, unknown> }[] };

function py(v: unknown): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return `'${v}'`;
  if (v === null) return 'None';
  if (Array.isArray(v)) return `[${v.map(py).join(', ')}]`;
  return String(v);
}

/** The models ConvLens does not train, with (a part of) the reason it gives. */
const REFUSED: Record<string, string> = {
  'pytorch_examples/vae_main.py:VAE()': 'ConvLens trains models with one input and one output',
  'yunjey/vae_main.py:VAE()': 'ConvLens trains models with one input and one output',
  'tutorials/neural_networks_tutorial.py:Net()': "loss 'MSELoss' is not supported",
};

describe('the real PyTorch classifiers of the corpus are trainable', () => {
  it('every model whose output is a vector is planned (but the listed ones, for their reason) and compiles to a training graph', async () => {
    const trained: string[] = [];
    const wrong: string[] = [];
    for (const [file, f] of Object.entries(expected.files)) {
      const full = path.join(dir, file);
      const globals = Object.entries(manifest.fixtures.find((x) => x.file === file)?.globals ?? {}).map(([k, v]) => `\n${k} = ${py(v)}`);
      let text = readFileSync(full, 'utf8') + globals.join('');
      f.models.forEach((m, i) => {
        const args = [...m.args.map(py), ...Object.entries(m.kwargs).map(([k, v]) => `${k}=${py(v)}`)].join(', ');
        text += `\nimport torch\n__expected_${i} = ${m.builder}(${args})\n__output_${i} = __expected_${i}(torch.zeros(${m.input.join(', ')}))\n`;
      });
      const a = analyzeSource(text, await parser(), { loadModule: siblingModuleLoader(full) });
      f.models.forEach((m, i) => {
        const model = a.models.find((x) => x.varName === `__expected_${i}`);
        if (!model?.outputShape || model.outputShape.length !== 1) return;
        const label = `${file}:${m.builder}(${m.args.map(py).join(', ')})`;
        const r = planTraining(model, text);
        const why = REFUSED[label];
        if (why) {
          if (!r.problems.some((p) => p.message.includes(why))) wrong.push(`${label}: expected to be refused with "${why}", got ${JSON.stringify(r.problems.map((p) => p.message))}`);
          return;
        }
        if (r.problems.length) {
          wrong.push(`${label}: ${r.problems.slice(0, 3).map((p) => `line ${p.line}: ${p.message}`).join('; ')}${r.problems.length > 3 ? ` (${r.problems.length} problems)` : ''}`);
          return;
        }
        compileTrainGraph(r.plan!, { seed: 1 });
        trained.push(label);
      });
    }
    assert.deepEqual(wrong, []);
    console.log(`  ${trained.length} classifiers planned and compiled; ${Object.keys(REFUSED).length} refused as listed`);
    assert.ok(trained.length >= 63, `only ${trained.length} trainable`);
  });
});
