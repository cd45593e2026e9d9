/**
 * Feature maps for the panel: from choosing an input to every layer's activations, through the
 * inference process the extension uses (target: under 200 ms for a 28×28 input through the seed
 * MNIST model).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { analyzeSource } from '../../src/core/index';
import { encodeTensor } from '../../src/core/protocol/panel';
import { planTraining } from '../../src/core/train/plan';
import { InferenceClient } from '../../src/extension/inferenceClient';
import { drawDigitFloat } from '../../src/train/datasets/synthetic';
import { createPythonParse } from '../../src/node/pythonParser';
import { readFileSync } from 'node:fs';

const quiet = { info() {}, warn() {}, error() {}, debug() {}, trace() {} } as never;

export async function benchFeatureMaps(): Promise<void> {
  const root = path.join(__dirname, '..', '..');
  const dist = path.join(root, 'dist');
  if (!existsSync(path.join(dist, 'inference.js'))) {
    console.log('\nFeature maps: skipped (run npm run build first)');
    return;
  }
  const file = path.join(root, 'test', 'fixtures', 'seeds', '001_mnist_cnn.py');
  const text = readFileSync(file, 'utf8');
  const model = analyzeSource(text, await createPythonParse()).models[0];
  const { plan } = planTraining(model, text);
  if (!plan) throw new Error('the seed MNIST model cannot be planned');
  const client = new InferenceClient(dist, quiet);
  const input = (seed: number) => ({ kind: 'pixels' as const, tensor: encodeTensor(drawDigitFloat(seed % 10, seed), [28, 28]) });
  try {
    let t0 = performance.now();
    await client.activations({ plan, weights: { kind: 'random', seed: 1 }, input: input(0) });
    const cold = performance.now() - t0;
    const samples: number[] = [];
    for (let i = 1; i <= 60; i++) {
      t0 = performance.now();
      const r = await client.activations({ plan, weights: { kind: 'random', seed: 1 }, input: input(i) });
      if (r.layers.length !== 7) throw new Error(`expected 7 layers, got ${r.layers.length}`);
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    const q = (f: number) => samples[Math.floor(samples.length * f)].toFixed(1).padStart(6);
    console.log(`\nFeature maps: a 28×28 drawing through the seed MNIST model (7 layers), request → every activation, via the inference process`);
    console.log(`  first request (process start, graph build, session)   ${cold.toFixed(0).padStart(6)} ms`);
    console.log(`  next requests: median ${q(0.5)} ms   p95 ${q(0.95)} ms   target: < 200 ms → ${samples[samples.length >> 1] < 200 ? 'met' : 'NOT met'}`);
  } finally {
    client.dispose();
  }
}
