/**
 * The model-graph view's input: nodes, edges and repeated-block groups built from the analysis
 * of real model files (the residual network of the graph fixtures, a Sequential stack built in a
 * loop, a nested model), and what collapsing and expanding leaves to lay out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attachProblems, enclosingBlock, findNode, graphOfModel, nodesAt, viewOfGraph, type ModelGraph } from '../../src/core/view/modelGraph';
import { analyze, readFixture } from './helpers';

const names = (g: ModelGraph, ids: string[]) => ids.map((id) => findNode(g, id)?.name ?? id);
const edgeNames = (g: ModelGraph) => g.edges.map((e) => `${findNode(g, e.from)?.name}→${findNode(g, e.to)?.name}`);

describe('model graph: nodes, edges and blocks from the analysis', () => {
  it("a PyTorch module's nodes are labelled as PyTorch prints shapes, batch first, channels before height and width", async () => {
    // pytorch/examples mnist/main.py: the train loader's batch_size=64 is the batch the hints show too.
    const text = readFixture('pytorch', 'pytorch_examples', 'mnist_main.py');
    const a = await analyze(text);
    const g = graphOfModel(a.models.find((x) => x.name === 'Net')!, text);
    const shape = (name: string) => g.nodes.find((n) => n.name === name)!.shape;
    assert.equal(g.nodes[0].shape, '[64, 1, 28, 28]');
    assert.equal(shape('conv1'), '[64, 32, 26, 26]');
    assert.equal(shape('F.max_pool2d'), '[64, 64, 12, 12]');
    assert.equal(shape('torch.flatten'), '[64, 9216]');
    assert.equal(shape('fc2'), '[64, 10]');
  });

  it('the residual network: every call a node with its shape and parameters, the merges with both inputs, the helper as a block run twice', async () => {
    const text = readFixture('graphs', 'residual_digits.py');
    const a = await analyze(text);
    const m = a.models.find((x) => x.name === 'residual_digits')!;
    const g = graphOfModel(m, text);
    // Input + stem + 7 calls in the first block + 9 in the second (projection shortcut) + pool + head.
    assert.equal(g.nodes.length, 1 + 1 + 7 + 9 + 2);
    assert.equal(g.nodes[0].kind, 'input');
    assert.equal(g.nodes[0].shape, '(None, 28, 28, 1)');
    const stem = g.nodes.find((n) => n.name === 'conv2d')!;
    // 16 · (3·3·1) + 16 = 160, as the hint says.
    assert.equal(stem.params, 160);
    assert.equal(stem.shape, '(None, 14, 14, 16)');
    assert.equal(stem.repeat, 1);
    assert.equal(text.slice(stem.call!.start, stem.call!.end), 'layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(inputs)');
    // Both adds read the block's main path and its shortcut: the branch is drawn as it is.
    const adds = g.nodes.filter((n) => n.className === 'Add');
    assert.equal(adds.length, 2);
    assert.deepEqual(
      g.edges.filter((e) => e.to === adds[0].id).map((e) => [findNode(g, e.from)!.name, e.port]),
      [['batch_normalization_1', 0], ['conv2d', 1]],
    );
    assert.deepEqual(
      g.edges.filter((e) => e.to === adds[1].id).map((e) => [findNode(g, e.from)!.name, e.port]),
      [['batch_normalization_3', 0], ['batch_normalization_4', 1]],
    );
    // The helper's calls ran twice: ×2 as in the inlay hint; the projection ran once.
    assert.equal(g.nodes.find((n) => n.name === 'conv2d_1')!.repeat, 2);
    assert.equal(g.nodes.find((n) => n.name === 'conv2d_5')!.repeat, 1);
    assert.deepEqual(
      g.groups.map((x) => [x.label, x.instance, x.count, names(g, x.nodes).join(' ')]),
      [
        ['residual_block()', 1, 2, 'conv2d_1 batch_normalization activation conv2d_2 batch_normalization_1 add activation_1'],
        ['residual_block()', 2, 2, 'conv2d_3 batch_normalization_2 activation_2 conv2d_4 batch_normalization_3 conv2d_5 batch_normalization_4 add_1 activation_3'],
      ],
    );
    assert.equal(g.groups[0].key, g.groups[1].key);
    // The softmax head is the output; nothing reads it.
    assert.deepEqual(g.nodes.filter((n) => n.output).map((n) => n.name), ['dense']);
  });

  it('collapsing the block leaves one node per run of it, with the edges that cross its border', async () => {
    const text = readFixture('graphs', 'residual_digits.py');
    const m = (await analyze(text)).models.find((x) => x.name === 'residual_digits')!;
    const g = graphOfModel(m, text);
    const open = viewOfGraph(g);
    assert.equal(open.nodes.length, g.nodes.length);
    assert.deepEqual(open.boxes.map((b) => b.label), ['residual_block() 1/2', 'residual_block() 2/2']);
    assert.equal(open.nodes.filter((n) => n.parent === g.groups[0].id).length, 7);
    const closed = viewOfGraph(g, { collapsed: new Set([g.groups[0].key]) });
    assert.deepEqual(closed.nodes.map((n) => n.name), ['input_layer', 'conv2d', 'residual_block() 1/2', 'residual_block() 2/2', 'global_average_pooling2d', 'dense']);
    assert.deepEqual(closed.boxes, []);
    const block1 = closed.nodes.find((n) => n.name === 'residual_block() 1/2')!;
    // Its parameters: 2 convs of 16·(3·3·16) = 2,304 (no bias) and 2 BatchNorms of 4·16 = 64.
    assert.equal(block1.params, 2 * 2304 + 2 * 64);
    assert.equal(block1.shape, '(None, 14, 14, 16)');
    const shown = (id: string) => closed.nodes.find((n) => n.id === id)!.name;
    // The stem feeds block 1 twice (main path and shortcut): two edges, ports 0 and 1 of the add.
    assert.deepEqual(closed.edges.map((e) => `${shown(e.from)}→${shown(e.to)}`), [
      'input_layer→conv2d',
      'conv2d→residual_block() 1/2',
      'conv2d→residual_block() 1/2',
      // activation_1 feeds both the main path and the projection of block 2, each as its input 0: one edge.
      'residual_block() 1/2→residual_block() 2/2',
      'residual_block() 2/2→global_average_pooling2d',
      'global_average_pooling2d→dense',
    ]);
  });

  it('a Sequential stack built in a loop: the loop is the block, the model input a node, each call ×3', async () => {
    const text = `import keras
from keras import layers
model = keras.Sequential([keras.Input((32, 32, 3))])
for filters in [16, 32, 64]:
    model.add(layers.Conv2D(filters, 3, padding="same", activation="relu"))
    model.add(layers.MaxPooling2D())
model.add(layers.Flatten())
model.add(layers.Dense(10))
`;
    const m = (await analyze(text)).models[0];
    const g = graphOfModel(m, text);
    assert.deepEqual(g.nodes.map((n) => `${n.name} ${n.shape}`), [
      'input (None, 32, 32, 3)',
      'conv2d (None, 32, 32, 16)',
      'max_pooling2d (None, 16, 16, 16)',
      'conv2d_1 (None, 16, 16, 32)',
      'max_pooling2d_1 (None, 8, 8, 32)',
      'conv2d_2 (None, 8, 8, 64)',
      'max_pooling2d_2 (None, 4, 4, 64)',
      'flatten (None, 1024)',
      'dense (None, 10)',
    ]);
    assert.deepEqual(edgeNames(g), ['input→conv2d', 'conv2d→max_pooling2d', 'max_pooling2d→conv2d_1', 'conv2d_1→max_pooling2d_1', 'max_pooling2d_1→conv2d_2', 'conv2d_2→max_pooling2d_2', 'max_pooling2d_2→flatten', 'flatten→dense']);
    assert.deepEqual(g.groups.map((x) => `${x.label} ${x.instance}/${x.count}: ${names(g, x.nodes).join(' ')}`), [
      'for loop (line 4) 1/3: conv2d max_pooling2d',
      'for loop (line 4) 2/3: conv2d_1 max_pooling2d_1',
      'for loop (line 4) 3/3: conv2d_2 max_pooling2d_2',
    ]);
    assert.equal(g.nodes[1].repeat, 3);
    // The cursor on the loop's Conv2D line highlights the three calls it made.
    const at = text.indexOf('Conv2D(filters') + 3;
    assert.deepEqual(names(g, nodesAt(g, at)), ['conv2d', 'conv2d_1', 'conv2d_2']);
    assert.deepEqual(nodesAt(g, text.indexOf('Flatten')), [g.nodes.find((n) => n.name === 'flatten')!.id]);
    assert.deepEqual(nodesAt(g, 0), []);
  });

  it('a nested model is one node until expanded; expanded, a box whose edges lead to its first and last calls', async () => {
    const text = `import keras
from keras import layers
encoder = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, 3), layers.Flatten()], name="encoder")
inputs = keras.Input((28, 28, 1))
x = encoder(inputs)
outputs = layers.Dense(10)(x)
model = keras.Model(inputs, outputs)
`;
    const a = await analyze(text);
    const m = a.models.find((x) => x.varName === 'model')!;
    const g = graphOfModel(m, text);
    const enc = g.nodes.find((n) => n.name === 'encoder')!;
    assert.equal(enc.kind, 'model');
    // 8 · (3·3·1) + 8 = 80 parameters inside.
    assert.equal(enc.params, 80);
    assert.deepEqual(enc.nested!.nodes.map((n) => `${n.name} ${n.shape}`), ['input (None, 28, 28, 1)', 'conv2d (None, 26, 26, 8)', 'flatten (None, 5408)']);
    const closed = viewOfGraph(g);
    assert.ok(closed.nodes.find((n) => n.id === enc.id)!.expandable);
    assert.equal(closed.boxes.length, 0);
    const open = viewOfGraph(g, { expanded: new Set([enc.id]) });
    assert.deepEqual(open.boxes.map((b) => [b.kind, b.label]), [['model', 'encoder (Sequential) → (None, 5408)']]);
    const label = (id: string) => open.nodes.find((n) => n.id === id)!.name;
    assert.deepEqual(open.edges.map((e) => `${label(e.from)}→${label(e.to)}`).sort(), ['conv2d→flatten', 'flatten→dense', 'input→conv2d', 'input_layer_1→input'].sort());
    assert.ok(open.nodes.filter((n) => n.parent === enc.id).length === 3);
  });

  it('marks the calls that have problems, the innermost one only', async () => {
    const text = `import keras
from keras import layers
model = keras.Sequential([keras.Input((4, 4, 1)), layers.Conv2D(8, 5), layers.Flatten()])
`;
    const a = await analyze(text);
    const g = graphOfModel(a.models[0], text);
    attachProblems(g, a.problems.map((p) => ({ start: p.span.start, end: p.span.end, severity: p.severity === 'hint' ? 'info' : (p.severity as 'error'), message: p.message })));
    const conv = g.nodes.find((n) => n.className === 'Conv2D')!;
    assert.equal(conv.status, 'error');
    assert.equal(conv.problems?.length, 1);
    assert.match(conv.problems![0].message, /Conv2D's 5×5 kernel is larger than its 4×4 input/);
    assert.equal(g.nodes.find((n) => n.className === 'Flatten')!.problems, undefined);
  });

  it('names the block a call sits in by its def or loop, and nothing at module level', () => {
    const text = 'def block(x):\n    if x:\n        y = f(\n            x)\n    return y\nfor i in range(3):\n    z = g(i)\nw = h()\n';
    assert.deepEqual(enclosingBlock(text, text.indexOf('f(')), { start: 0, label: 'block()' });
    assert.deepEqual(enclosingBlock(text, text.indexOf('    x)') + 4), { start: 0, label: 'block()' });
    assert.equal(enclosingBlock(text, text.indexOf('g(i)'))?.label, 'for loop (line 6)');
    assert.equal(enclosingBlock(text, text.indexOf('h()')), undefined);
    assert.equal(enclosingBlock('class A:\n    def __init__(self):\n        pass\n    x = f()\n', 50), undefined);
  });
});
