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

/**
 * A functional ResNet50 written as a user writes one (bottleneck helper, loops over stages,
 * projection shortcuts): 177 layers, the "ResNet50-size functional file".
 */
export function functionalResNet50Source(): string {
  return `import keras
from keras import layers

def bottleneck(x, filters, stride=1, project=False, name=""):
    shortcut = x
    if project:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=name + "_0_conv")(x)
        shortcut = layers.BatchNormalization(epsilon=1.001e-5, name=name + "_0_bn")(shortcut)
    x = layers.Conv2D(filters, 1, strides=stride, name=name + "_1_conv")(x)
    x = layers.BatchNormalization(epsilon=1.001e-5, name=name + "_1_bn")(x)
    x = layers.Activation("relu", name=name + "_1_relu")(x)
    x = layers.Conv2D(filters, 3, padding="same", name=name + "_2_conv")(x)
    x = layers.BatchNormalization(epsilon=1.001e-5, name=name + "_2_bn")(x)
    x = layers.Activation("relu", name=name + "_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=name + "_3_conv")(x)
    x = layers.BatchNormalization(epsilon=1.001e-5, name=name + "_3_bn")(x)
    x = layers.Add(name=name + "_add")([shortcut, x])
    return layers.Activation("relu", name=name + "_out")(x)

inputs = keras.Input(shape=(224, 224, 3))
x = layers.ZeroPadding2D(padding=3, name="conv1_pad")(inputs)
x = layers.Conv2D(64, 7, strides=2, name="conv1_conv")(x)
x = layers.BatchNormalization(epsilon=1.001e-5, name="conv1_bn")(x)
x = layers.Activation("relu", name="conv1_relu")(x)
x = layers.ZeroPadding2D(padding=1, name="pool1_pad")(x)
x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
for stage, (filters, blocks, stride) in enumerate([(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]):
    for b in range(blocks):
        x = bottleneck(x, filters, stride if b == 0 else 1, project=(b == 0), name=f"conv{stage + 2}_block{b + 1}")
x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
outputs = layers.Dense(1000, activation="softmax", name="predictions")(x)
model = keras.Model(inputs, outputs, name="resnet50")
`;
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

  // The functional ResNet50 (issue 8's figure: < 10 ms median).
  const resnet = functionalResNet50Source();
  const r = analyzeSource(resnet, parse);
  const rows = r.models[0].layers.length;
  for (let i = 0; i < 30; i++) analyzeSource(resnet, parse);
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    analyzeSource(resnet, parse);
    times.push(performance.now() - t0);
  }
  console.log(`\nAnalysis of a functional ResNet50 file (${rows} layer calls, ${r.models[0].totalParams?.toLocaleString('en-US')} params), 200 runs after 30 warm-up runs`);
  row('analyzeSource (total)', times);
  const rm = stats(times).median;
  console.log(`  target: < 10 ms median → ${rm < 10 ? 'met' : 'NOT met'} (${f(rm)} ms)`);
}
