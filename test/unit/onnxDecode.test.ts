/**
 * The ONNX decoder of the .onnx viewer: a model exported by PyTorch's own exporter (not ConvLens;
 * test/pytorch/export_onnx.py, outputs recorded by PyTorch), ConvLens' own inference model, the
 * graph view built from them, reading intermediate tensors through extra graph outputs (run with
 * onnxruntime and compared with PyTorch's numbers), and damaged files as errors naming the byte.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { decodeOnnx, imageInput, OnnxDecodeError, withExtraOutputs } from '../../src/core/onnx/decode';
import { compileInferenceGraph, initialState } from '../../src/core/train/compile';
import { planTraining, planWeights } from '../../src/core/train/plan';
import { graphOfOnnx, valueInfoLabel } from '../../src/core/view/onnxGraph';
import { analyze, fixturePath } from './helpers';

const torchNet = readFileSync(fixturePath('onnx', 'cifar10_tutorial_net.onnx'));
const torchRef = JSON.parse(readFileSync(fixturePath('onnx', 'cifar10_tutorial_net.json'), 'utf8')) as { params: number; conv1_sum: number; conv1_shape: number[]; logits: number[] };

describe('ONNX decoder', () => {
  it("reads PyTorch's export of the CIFAR-10 tutorial network: producer, opset, inputs, operators, initializer sizes", () => {
    const m = decodeOnnx(torchNet);
    assert.equal(m.producerName, 'pytorch');
    assert.deepEqual(m.opsets, [{ domain: '', version: 13 }]);
    assert.deepEqual(m.graph.inputs.map(valueInfoLabel), ['float32 (batch, 3, 32, 32)']);
    assert.deepEqual(m.graph.outputs.map((o) => `${o.name} ${valueInfoLabel(o)}`), ['logits float32 (batch, 10)']);
    assert.deepEqual(m.graph.nodes.map((n) => n.opType), ['Conv', 'Relu', 'MaxPool', 'Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm']);
    const conv = m.graph.nodes[0];
    assert.deepEqual(Object.fromEntries(conv.attributes.map((a) => [a.name, a.value])), { dilations: [1, 1], group: 1, kernel_shape: [5, 5], pads: [0, 0, 0, 0], strides: [1, 1] });
    // Every parameter PyTorch counts (62,006) is an initializer; float32 is 4 bytes each.
    const count = m.graph.initializers.reduce((a, t) => a + t.count, 0);
    assert.equal(count, torchRef.params);
    assert.equal(m.graph.initializers.reduce((a, t) => a + t.bytes, 0), 4 * torchRef.params);
    assert.deepEqual(m.graph.initializers[0], { ...m.graph.initializers[0], name: 'conv1.weight', dims: [6, 3, 5, 5], count: 450, bytes: 1800 });
    assert.deepEqual(imageInput(m), { name: 'input', layout: 'NCHW', channels: 3, height: 32, width: 32 });
  });

  it('draws the operator graph: inputs, one node per operator with the parameters it reads, edges by tensor', () => {
    const g = graphOfOnnx(decodeOnnx(torchNet));
    assert.deepEqual(g.nodes.map((n) => `${n.name}:${n.className}:${n.params}`).slice(0, 4), ['input:Input:0', '/conv1/Conv:Conv:456', '/Relu:Relu:0', '/pool/MaxPool:MaxPool:0']);
    assert.equal(g.nodes.reduce((a, n) => a + (n.params ?? 0), 0), torchRef.params);
    assert.equal(g.edges.length, 12);
    assert.deepEqual(g.nodes.filter((n) => n.output).map((n) => n.name), ['/fc3/Gemm']);
    assert.equal(g.nodes.find((n) => n.name === '/fc3/Gemm')!.shape, '(batch, 10)');
  });

  it("reads an intermediate tensor through an added graph output: onnxruntime's conv1 and logits match PyTorch's", async () => {
    const m = decodeOnnx(torchNet);
    const conv1 = m.graph.nodes[0].outputs[0];
    const bytes = withExtraOutputs(torchNet, [{ name: conv1, elemType: 1 }]);
    // The rest of the model is untouched: it decodes to the same nodes, with one more output.
    const again = decodeOnnx(bytes);
    assert.deepEqual(again.graph.nodes, m.graph.nodes);
    assert.deepEqual(again.graph.outputs.map((o) => o.name), ['logits', conv1]);
    const session = await ort.InferenceSession.create(bytes);
    const x = new Float32Array(3 * 32 * 32);
    for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let xx = 0; xx < 32; xx++) x[(c * 32 + y) * 32 + xx] = ((c * 7 + y * 3 + xx) % 11) / 10;
    const out = await session.run({ input: new ort.Tensor('float32', x, [1, 3, 32, 32]) });
    assert.deepEqual(out[conv1].dims, torchRef.conv1_shape);
    const sum = (out[conv1].data as Float32Array).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - torchRef.conv1_sum) < 1e-3, `${sum} vs ${torchRef.conv1_sum}`);
    Array.from(out.logits.data as Float32Array).forEach((v, i) => assert.ok(Math.abs(v - torchRef.logits[i]) < 1e-5, `logit ${i}: ${v} vs ${torchRef.logits[i]}`));
  });

  it("reads ConvLens' own inference model (NHWC input, initializers named as Keras weights)", async () => {
    const text = 'import keras\nfrom keras import layers\nmodel = keras.Sequential([keras.Input((12, 12, 1)), layers.Conv2D(4, 3, activation="relu"), layers.Flatten(), layers.Dense(3, activation="softmax")])\n';
    const plan = planTraining((await analyze(text)).models[0], text, { epochs: 1, batchSize: 1 }).plan!;
    const state = initialState(plan, 1);
    const bytes = compileInferenceGraph(plan, new Map(planWeights(plan).map((w) => [w.name, state.get(w.name)!])), '0.1.0');
    const m = decodeOnnx(bytes);
    assert.equal(m.producerName, 'convlens');
    assert.deepEqual(imageInput(m), { name: 'input', layout: 'NHWC', channels: 1, height: 12, width: 12 });
    assert.deepEqual(m.graph.initializers.map((t) => `${t.name} ${t.dims.join('×')}`).filter((s) => s.includes('/')), ['conv2d/kernel 3×3×1×4', 'conv2d/bias 4', 'dense/kernel 400×3', 'dense/bias 3']);
    // 4·(3·3·1) + 4 = 40 and 400·3 + 3 = 1,203 parameters, as the summary counts them.
    const named = m.graph.initializers.filter((t) => t.name.includes('/')).reduce((a, t) => a + t.count, 0);
    assert.equal(named, 40 + 1203);
  });

  it('reports a damaged or foreign file with the byte where reading failed, and never throws anything else', () => {
    assert.throws(() => decodeOnnx(new Uint8Array(0)), /byte 0: the file is empty/);
    assert.throws(() => decodeOnnx(new TextEncoder().encode('{"not": "onnx"}')), (e) => e instanceof OnnxDecodeError && /byte \d+: /.test(e.message));
    assert.throws(() => decodeOnnx(torchNet.subarray(0, 1000)), /runs past the end of its message|ends inside/);
    // Every truncation and every single-byte change of the first 4 KB: a model or an OnnxDecodeError.
    let errors = 0;
    for (let n = 0; n < 4096; n += 7) {
      try {
        decodeOnnx(torchNet.subarray(0, n));
      } catch (e) {
        assert.ok(e instanceof OnnxDecodeError, `truncated at ${n}: ${(e as Error).message}`);
        errors++;
      }
      const flipped = Uint8Array.from(torchNet);
      flipped[n] ^= 0xff;
      try {
        decodeOnnx(flipped);
      } catch (e) {
        assert.ok(e instanceof OnnxDecodeError, `byte ${n} flipped: ${(e as Error).message}`);
      }
    }
    assert.ok(errors > 500);
  });
});
