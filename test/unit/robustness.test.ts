/**
 * 1,000 random character-level mutations of each fixture: analysis never throws, never hangs
 * (each run is bounded), and every diagnostic range lies inside the document.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { analyze, fixturePath, readFixture } from './helpers';
import { mutations } from './mutations';


const MUTATIONS = 1000;
/** Graph-model files (functional, nested, custom and subclassed layers), fewer mutations each: they are longer. */
const GRAPH_MUTATIONS = 300;
/** PyTorch files (forward passes traced, data loaders followed): fewer, each analysis does more. */
const TORCH_MUTATIONS = 200;
const fixtures = [
  ...['seeds', 'layers', 'graphs'].flatMap((dir) => readdirSync(fixturePath(dir)).filter((f) => f.endsWith('.py')).map((f) => [dir, f, MUTATIONS] as const)),
  ...['oxford_pets_unet.py', 'functional_api_guide.py', 'vae.py', 'dcgan.py'].map((f) => ['keras', f, GRAPH_MUTATIONS] as const),
  // PyTorch files: nn.Module classes traced through forward, containers, data loaders, F.* and tensor methods.
  ...['pytorch_examples/mnist_main.py', 'tutorials/cifar10_tutorial.py', 'kuangliu/lenet.py', 'kuangliu/shufflenetv2.py', 'torchvision/models/alexnet.py', 'torchinfo/models.py'].map((f) => ['pytorch', f, TORCH_MUTATIONS] as const),
];

describe(`robustness: ${MUTATIONS} mutations per fixture (${GRAPH_MUTATIONS} for the real Keras files, ${TORCH_MUTATIONS} for the PyTorch ones)`, () => {
  for (const [dir, file, count] of fixtures) {
    it(`${dir}/${file}`, async () => {
      const original = readFixture(dir, file);
      let withModels = 0;
      let withProblems = 0;
      for (const [i, text] of mutations(original, file, count).entries()) {
        let a;
        try {
          a = await analyze(text);
        } catch (e) {
          assert.fail(`mutation ${i} of ${file} threw ${(e as Error).stack}\n--- text ---\n${text}`);
        }
        for (const p of a.problems) {
          assert.ok(p.span.start >= 0 && p.span.start <= p.span.end && p.span.end <= text.length, `mutation ${i}: range ${p.span.start}-${p.span.end} outside 0-${text.length}: ${p.message}`);
          for (const f of p.fixes ?? []) for (const e of f.edits) assert.ok(e.span.start >= 0 && e.span.end <= text.length);
          assert.ok(p.message.length > 0);
        }
        for (const l of [...a.models.flatMap((m) => m.layers), ...a.calls]) {
          assert.ok(l.span.start >= 0 && l.span.end <= text.length && l.addSpan.start >= 0 && l.addSpan.end <= text.length && l.anchor <= text.length, `mutation ${i}: a layer's range is outside the text`);
        }
        if (a.models.length) withModels++;
        if (a.problems.length) withProblems++;
      }
      // The mutations must still exercise analysis, not just produce garbage.
      assert.ok(withModels > count / 2, `only ${withModels} mutations still had a model`);
      assert.ok(withProblems > 0);
    });
  }
});
