/**
 * Analysis speed of PyTorch files (issue 12: parity with Keras, a ResNet50-size model in < 10 ms
 * median): torchvision's own ResNet definitions with one `resnet50()` traced on an input, the same
 * whole torchvision file (nine more builders built from their defaults), and a user's CIFAR
 * ResNet50 (kuangliu/pytorch-cifar), each after warm-up runs, with a keystroke's worth of edit.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { analyzeSource } from '../../src/core/index';
import { createPythonParse } from '../../src/node/pythonParser';

const fixtures = path.join(__dirname, '..', 'fixtures', 'pytorch');
const read = (...p: string[]) => readFileSync(path.join(fixtures, ...p), 'utf8');

/** torchvision 0.14.1's resnet.py up to its `_resnet` helper (imports, blocks, ResNet), then resnet50 built and called. */
export function torchvisionResNet50Source(): string {
  const full = read('torchvision', 'resnet.py');
  const cut = full.indexOf('class ResNet18_Weights');
  return `${full.slice(0, cut)}\ndef resnet50(**kwargs):\n    return _resnet(Bottleneck, [3, 4, 6, 3], None, True, **kwargs)\n\n\nmodel = resnet50()\nout = model(torch.randn(1, 3, 224, 224))\n`;
}

function stats(samples: number[]): { median: number; p95: number; min: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p95: s[Math.floor(s.length * 0.95)], min: s[0] };
}

export async function benchPytorch(): Promise<void> {
  const parse = await createPythonParse();
  const f = (x: number) => x.toFixed(2).padStart(6);
  const cases: [string, string, number][] = [
    ["torchvision's ResNet50 (its definitions, resnet50() called on [1, 3, 224, 224])", torchvisionResNet50Source(), 200],
    ["torchvision's whole resnet.py + resnet50() called (9 more builders built from their defaults)", `${read('torchvision', 'resnet.py')}\nmodel = resnet50()\nout = model(torch.randn(1, 3, 224, 224))\n`, 40],
    ["kuangliu's CIFAR ResNet50 alone, called on [1, 3, 32, 32]", `${read('kuangliu', 'resnet.py').split('def ResNet18')[0]}\nnet = ResNet(Bottleneck, [3, 4, 6, 3])\ny = net(torch.randn(1, 3, 32, 32))\n`, 200],
  ];
  for (const [label, text, runs] of cases) {
    const a = analyzeSource(text, parse);
    const m = a.models.find((x) => x.varName === 'model' || x.varName === 'net')!;
    for (let i = 0; i < 20; i++) analyzeSource(text, parse);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      analyzeSource(text, parse);
      times.push(performance.now() - t0);
    }
    const s = stats(times);
    const calls = (m.modules ?? []).filter((r) => r.leaf && r.called).length;
    console.log(`\n${label}: ${a.models.length} model${a.models.length === 1 ? '' : 's'}, ${calls} leaf module calls, ${m.totalParams?.toLocaleString('en-US')} params; ${runs} runs after 20 warm-up runs`);
    console.log(`  analyzeSource (total)              median ${f(s.median)} ms   p95 ${f(s.p95)} ms   min ${f(s.min)} ms`);
    if (a.models.length === 1) console.log(`  target: < 10 ms median → ${s.median < 10 ? 'met' : 'NOT met'} (${f(s.median)} ms)`);
  }
}
