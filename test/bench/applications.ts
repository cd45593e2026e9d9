/**
 * keras.applications speed: the time from a file calling one builder
 * (`m = keras.applications.InceptionResNetV2()`) to its analysed model, for every builder
 * ConvLens defines (issue 8's target: an InceptionResNetV2-size graph, ~780 layers, in under
 * 40 ms), and what parsing ConvLens' definition of the family costs (paid once per process:
 * the parsed definitions are shared by every analysis).
 */
import { analyzeSource } from '../../src/core/index';
import { APPLICATIONS } from '../../src/core/applications/index';
import { lowerModule } from '../../src/core/parse/pythonAst';
import { copyTree } from '../../src/core/parse/syntaxTree';
import { createPythonParse } from '../../src/node/pythonParser';

function median(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function min(samples: number[]): number {
  return Math.min(...samples);
}

function p95(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.floor(s.length * 0.95)];
}

export async function benchApplications(): Promise<void> {
  const parse = await createPythonParse();
  const runs = 40;
  const f = (x: number) => x.toFixed(1).padStart(6);
  console.log(`\nkeras.applications: a file calling one builder with its defaults, ${runs} runs after 10 warm-up runs`);
  console.log(`  ${'builder'.padEnd(20)} ${'layers'.padStart(6)}     min   median      p95   definition parse (once per process)`);
  const results: { name: string; layers: number; median: number }[] = [];
  for (const name of Object.keys(APPLICATIONS)) {
    const text = `import keras\nm = keras.applications.${name}()\n`;
    const layers = analyzeSource(text, parse).models[0]?.layers.length ?? 0;
    for (let i = 0; i < 10; i++) analyzeSource(text, parse);
    const total: number[] = [];
    const defParse: number[] = [];
    const source = APPLICATIONS[name].source;
    for (let i = 0; i < runs; i++) {
      let t0 = performance.now();
      analyzeSource(text, parse);
      total.push(performance.now() - t0);
      // What each analysis spends reading ConvLens' definition of the family.
      t0 = performance.now();
      const tree = parse(source)!;
      lowerModule(copyTree(tree), source);
      tree.delete?.();
      defParse.push(performance.now() - t0);
    }
    results.push({ name, layers, median: median(total) });
    console.log(`  ${name.padEnd(20)} ${String(layers).padStart(6)} ${f(min(total))} ms ${f(median(total))} ms ${f(p95(total))} ms ${f(median(defParse))} ms`);
  }
  const irv2 = results.find((r) => r.name === 'InceptionResNetV2')!;
  console.log(`  target: InceptionResNetV2 (${irv2.layers} layers) < 40 ms median → ${irv2.median < 40 ? 'met' : 'NOT met'} (${f(irv2.median)} ms)`);
}
