/**
 * Analysis speed: the time from source text to shapes and problems for a 200-layer file
 * (target: under 10 ms median after warm-up), with where the time goes.
 */
import { Edit } from 'web-tree-sitter';
import { LineIndex, analyzeSource } from '../../src/core/index';
import { lowerModule } from '../../src/core/parse/pythonAst';
import { copyTree } from '../../src/core/parse/syntaxTree';
import { asSyntaxTree, createPythonParse, loadPythonParser } from '../../src/node/pythonParser';

/** A realistic 200-layer Sequential file: conv blocks, batch norm, pooling, a dense head. */
export function bigModelSource(layers = 200): string {
  const lines = ['from tensorflow.keras import layers, models', '', 'model = models.Sequential()', "model.add(layers.Conv2D(32, (3, 3), padding='same', activation='relu', input_shape=(224, 224, 3)))"];
  let n = 1;
  let size = 224;
  let filters = 32;
  while (n < layers - 3) {
    lines.push(`model.add(layers.Conv2D(${filters}, (3, 3), padding='same', use_bias=False))`);
    lines.push('model.add(layers.BatchNormalization())');
    lines.push("model.add(layers.Activation('relu'))");
    n += 3;
    if (n % 24 === 1 && size > 7) {
      lines.push('model.add(layers.MaxPooling2D((2, 2)))');
      size /= 2;
      filters = Math.min(filters * 2, 512);
      n++;
    }
  }
  lines.push('model.add(layers.GlobalAveragePooling2D())', "model.add(layers.Dense(256, activation='relu'))", "model.add(layers.Dense(10, activation='softmax'))");
  return lines.join('\n') + '\n';
}

function stats(samples: number[]): { median: number; p95: number; min: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p95: s[Math.floor(s.length * 0.95)], min: s[0] };
}

export async function benchAnalysis(): Promise<void> {
  const parse = await createPythonParse();
  const parser = await loadPythonParser();
  const text = bigModelSource(200);
  const count = analyzeSource(text, parse).models[0].layers.length;
  const runs = 300;
  for (let i = 0; i < 50; i++) analyzeSource(text, parse);
  const total: number[] = [];
  const parseOnly: number[] = [];
  const copyOnly: number[] = [];
  const lowerOnly: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t0 = performance.now();
    analyzeSource(text, parse);
    total.push(performance.now() - t0);
    t0 = performance.now();
    const tree = parser.parse(text)!;
    const t1 = performance.now();
    const raw = copyTree(asSyntaxTree(tree, false));
    const t2 = performance.now();
    lowerModule(raw, text);
    const t3 = performance.now();
    tree.delete();
    parseOnly.push(t1 - t0);
    copyOnly.push(t2 - t1);
    lowerOnly.push(t3 - t2);
  }
  // Incremental re-parse after a one-character edit, as the editor does on a keystroke.
  const old = parser.parse(text)!;
  const at = text.indexOf('Conv2D(64') + 7;
  const edited = text.slice(0, at) + '5' + text.slice(at + 1);
  const lines = new LineIndex(text);
  const incremental: number[] = [];
  for (let i = 0; i < 100; i++) {
    const copy = old.copy();
    const p = lines.position(at);
    const start = { row: p.line, column: p.character };
    const end = { row: p.line, column: p.character + 1 };
    copy.edit(new Edit({ startIndex: at, oldEndIndex: at + 1, newEndIndex: at + 1, startPosition: start, oldEndPosition: end, newEndPosition: end }));
    const t0 = performance.now();
    const t = parser.parse(edited, copy)!;
    incremental.push(performance.now() - t0);
    t.delete();
    copy.delete();
  }
  const f = (x: number) => x.toFixed(2).padStart(6);
  const row = (name: string, s: number[]) => {
    const r = stats(s);
    console.log(`  ${name.padEnd(34)} median ${f(r.median)} ms   p95 ${f(r.p95)} ms   min ${f(r.min)} ms`);
  };
  console.log(`\nAnalysis of a ${count}-layer Sequential file (${text.split('\n').length} lines, ${text.length} chars), ${runs} runs after 50 warm-up runs`);
  row('analyzeSource (total)', total);
  row('  tree-sitter parse', parseOnly);
  row('  copy tree out of wasm', copyOnly);
  row('  lower to AST', lowerOnly);
  row('tree-sitter incremental re-parse', incremental);
  const med = stats(total).median;
  console.log(`  target: < 10 ms median → ${med < 10 ? 'met' : 'NOT met'} (${f(med)} ms)`);
}
