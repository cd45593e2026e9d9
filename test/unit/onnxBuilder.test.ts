// Protobuf writer, ONNX encoding and GraphBuilder, checked byte-for-byte where
// the wire format is fixed and end-to-end through onnxruntime-node.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { ProtoWriter, readFields, utf8Decode, utf8Encode, varintToSigned } from '../../src/core/onnx/protobuf';
import { DEFAULT_IR_VERSION, DEFAULT_OPSET } from '../../src/core/onnx/onnxProto';
import { attr, GraphBuilder } from '../../src/core/onnx/graphBuilder';
import { mulberry32 } from '../../src/core/train/random';

const rand = mulberry32(99);
const uniform = (n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());

async function run(g: GraphBuilder, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.OnnxValueMapType> {
  const session = await ort.InferenceSession.create(g.toModelBytes(), { intraOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('protobuf writer', () => {
  test('varints match the protobuf encoding', () => {
    const cases: [number | bigint, string][] = [
      [0, '00'],
      [1, '01'],
      [127, '7f'],
      [128, '8001'],
      [300, 'ac02'],
      [2 ** 32, '8080808010'],
      [Number.MAX_SAFE_INTEGER, 'ffffffffffffff0f'],
      [-1, 'ffffffffffffffffff01'],
      [-2n, 'feffffffffffffffff01'],
      [(1n << 63n) - 1n, 'ffffffffffffffff7f'],
    ];
    for (const [v, want] of cases) assert.equal(hex(new ProtoWriter().rawVarint(v).finish()), want, `varint ${v}`);
    assert.throws(() => new ProtoWriter().rawVarint(1.5));
    assert.throws(() => new ProtoWriter().rawVarint(1n << 64n));
  });

  test('scalar, string, packed and nested fields', () => {
    const w = new ProtoWriter();
    w.int64(1, 150); // 08 96 01
    w.string(2, 'testing'); // 12 07 ...
    w.float(3, 1.5); // 1d 0000c03f
    w.packedVarints(4, [3, 270, 86942]); // 22 06 03 8e02 9ea705
    w.packedFloats(5, Float32Array.of(1, -2)); // 2a 08 0000803f 000000c0
    w.message(6, (m) => m.int64(1, 1)); // 32 02 08 01
    assert.equal(
      hex(w.finish()),
      '089601' + '120774657374696e67' + '1d0000c03f' + '2206038e029ea705' + '2a080000803f000000c0' + '32020801',
    );
  });

  test('nested lengths above 127 bytes and deep nesting', () => {
    const big = new Uint8Array(300).fill(7);
    const w = new ProtoWriter();
    w.message(1, (a) => a.message(2, (b) => b.message(3, (c) => c.bytes(4, big))));
    const bytes = w.finish();
    const l1 = readFields(bytes);
    assert.equal(l1.length, 1);
    const l2 = readFields(l1[0].bytes!);
    const l3 = readFields(l2[0].bytes!);
    const l4 = readFields(l3[0].bytes!);
    assert.deepEqual([l1[0].field, l2[0].field, l3[0].field, l4[0].field], [1, 2, 3, 4]);
    assert.deepEqual(l4[0].bytes, big);
    assert.equal(bytes.length, 300 + 2 + 1 + 2 + 1 + 2 + 1 + 2 + 1);
  });

  test('UTF-8 matches Node for BMP, astral and lone-surrogate text', () => {
    for (const s of ['', 'abc', 'conv2d_1/kernel:0', 'é€𝄞日本', 'a\ud800b', '\udc00']) {
      assert.equal(hex(utf8Encode(s)), Buffer.from(s, 'utf8').toString('hex'), JSON.stringify(s));
      assert.equal(utf8Decode(utf8Encode(s)), Buffer.from(s, 'utf8').toString('utf8'));
    }
  });

  test('negative int64 round-trips through readFields', () => {
    const f = readFields(new ProtoWriter().int64(3, -7).finish());
    assert.equal(varintToSigned(f[0].varint!), -7n);
  });

  test('4 MB of raw data encodes quickly', () => {
    const data = new Float32Array(1 << 20);
    const t0 = performance.now();
    const w = new ProtoWriter();
    for (let i = 0; i < 200; i++) w.message(1, (m) => m.int64(1, i).string(2, `node_${i}`));
    w.message(5, (t) => t.bytes(9, new Uint8Array(data.buffer)));
    const out = w.finish();
    assert.ok(out.length > data.byteLength);
    assert.ok(performance.now() - t0 < 2000);
  });
});

describe('ONNX model encoding', () => {
  test('ModelProto fields follow onnx.proto numbering', () => {
    const g = new GraphBuilder({ name: 'tiny' });
    g.input('x', ['N', 3]);
    g.output(g.relu('x', 'y'), ['N', 3]);
    const fields = readFields(g.toModelBytes());
    const byField = (n: number) => fields.filter((f) => f.field === n);
    assert.equal(byField(1)[0].varint, BigInt(DEFAULT_IR_VERSION)); // ir_version = 1
    assert.equal(utf8Decode(byField(2)[0].bytes!), 'convlens'); // producer_name = 2
    const opset = readFields(byField(8)[0].bytes!); // opset_import = 8
    assert.deepEqual(
      opset.map((f) => [f.field, f.varint]),
      [[2, BigInt(DEFAULT_OPSET)]],
    );
    const graph = readFields(byField(7)[0].bytes!); // graph = 7
    const node = readFields(graph.find((f) => f.field === 1)!.bytes!); // node = 1
    assert.deepEqual(
      node.filter((f) => f.field !== 3).map((f) => [f.field, utf8Decode(f.bytes!)]),
      [
        [1, 'x'],
        [2, 'y'],
        [4, 'Relu'],
      ],
    );
    assert.equal(utf8Decode(graph.find((f) => f.field === 2)!.bytes!), 'tiny'); // name = 2
    const input = readFields(graph.find((f) => f.field === 11)!.bytes!); // input = 11
    const type = readFields(readFields(input.find((f) => f.field === 2)!.bytes!)[0].bytes!); // TypeProto.tensor_type = 1
    assert.equal(type.find((f) => f.field === 1)!.varint, 1n); // elem_type FLOAT
    const dims = readFields(type.find((f) => f.field === 2)!.bytes!).map((d) => readFields(d.bytes!)[0]);
    assert.equal(utf8Decode(dims[0].bytes!), 'N'); // dim_param = 2
    assert.equal(dims[1].varint, 3n); // dim_value = 1
    assert.ok(graph.some((f) => f.field === 12)); // output = 12
  });

  test('initializer TensorProto: dims, data_type, name, raw_data', () => {
    const g = new GraphBuilder();
    g.initializer('w', Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]);
    g.output(g.identity('w', 'y'));
    const graph = readFields(readFields(g.toModelBytes()).find((f) => f.field === 7)!.bytes!);
    const t = readFields(graph.find((f) => f.field === 5)!.bytes!);
    assert.deepEqual(
      t.filter((f) => f.field === 1).map((f) => f.varint),
      [2n, 3n],
    );
    assert.equal(t.find((f) => f.field === 2)!.varint, 1n);
    assert.equal(utf8Decode(t.find((f) => f.field === 8)!.bytes!), 'w');
    assert.deepEqual(new Float32Array(t.find((f) => f.field === 9)!.bytes!.slice().buffer), Float32Array.of(1, 2, 3, 4, 5, 6));
  });
});

// float64 reference for the end-to-end forward test
function refForward(x: Float32Array, w1: Float32Array, b1: Float32Array, w2: Float32Array, b2: Float32Array, N: number): Float64Array {
  const [C, H, W, M, K] = [2, 10, 10, 4, 3];
  const OH = H - K + 1;
  const conv = new Float64Array(N * M * OH * OH);
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++)
      for (let i = 0; i < OH; i++)
        for (let j = 0; j < OH; j++) {
          let s = b1[m];
          for (let c = 0; c < C; c++)
            for (let a = 0; a < K; a++) for (let b = 0; b < K; b++) s += x[((n * C + c) * H + i + a) * W + j + b] * w1[((m * C + c) * K + a) * K + b];
          conv[((n * M + m) * OH + i) * OH + j] = Math.max(s, 0);
        }
  const P = 4; // MaxPool 2x2 s2 on 8x8
  const F = M * P * P;
  const feat = new Float64Array(N * F);
  for (let nm = 0; nm < N * M; nm++)
    for (let i = 0; i < P; i++)
      for (let j = 0; j < P; j++) {
        let v = -Infinity;
        for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) v = Math.max(v, conv[(nm * OH + 2 * i + a) * OH + 2 * j + b]);
        feat[nm * P * P + i * P + j] = v;
      }
  const out = new Float64Array(N * 5);
  for (let n = 0; n < N; n++)
    for (let k = 0; k < 5; k++) {
      let s = b2[k];
      for (let f = 0; f < F; f++) s += feat[n * F + f] * w2[f * 5 + k];
      out[n * 5 + k] = s;
    }
  return out;
}

describe('GraphBuilder through onnxruntime-node', () => {
  test('Conv + Relu + MaxPool + Flatten + Gemm forward matches a JS reference, symbolic batch', async () => {
    const w1 = uniform(4 * 2 * 3 * 3);
    const b1 = uniform(4);
    const w2 = uniform(64 * 5);
    const b2 = uniform(5);
    const g = new GraphBuilder();
    g.input('x', ['N', 2, 10, 10]);
    g.initializer('w1', w1, [4, 2, 3, 3]);
    g.initializer('b1', b1, [4]);
    g.initializer('w2', w2, [64, 5]);
    g.initializer('b2', b2, [5]);
    const c = g.relu(g.conv('x', 'w1', 'b1', { kernelShape: [3, 3] }));
    const p = g.maxPool(c, { kernelShape: [2, 2], strides: [2, 2] });
    g.output(g.gemm(g.flatten(p, 1), 'w2', 'b2', {}, 'logits'), ['N', 5]);
    const session = await ort.InferenceSession.create(g.toModelBytes(), { intraOpNumThreads: 1, logSeverityLevel: 3 });
    for (const N of [1, 3]) {
      const x = uniform(N * 200);
      const r = await session.run({ x: new ort.Tensor('float32', x, [N, 2, 10, 10]) });
      assert.deepEqual(r.logits.dims, [N, 5]);
      const got = r.logits.data as Float32Array;
      const want = refForward(x, w1, b1, w2, b2, N);
      for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-4 * Math.max(1, Math.abs(want[i])), `logit ${i}: ${got[i]} vs ${want[i]}`);
    }
    await session.release();
  });

  test('attribute kinds: int, ints, float, floats, string, tensor', async () => {
    const g = new GraphBuilder();
    g.input('x', [2, 3]);
    const floats = g.node('Constant', [], 1, { value_floats: attr.floats([0.5, 1.5, 2.5]) })[0]; // FLOATS
    const intsC = g.node('Constant', [], 1, { value_ints: [2, 3] })[0]; // INTS (inferred)
    const fC = g.node('Constant', [], 1, { value_float: attr.float(2) })[0]; // FLOAT (explicit, integral)
    const iC = g.node('Constant', [], 1, { value_int: 7 })[0]; // INT (inferred)
    const t = g.constant(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]); // TENSOR
    const lr = g.leakyRelu(g.sub('x', t), 0.25); // FLOAT alpha
    const padded = g.pad('x', [0, 1, 0, 1], 0, 'reflect'); // STRING mode
    const softmaxOut = g.softmax('x', 1); // INT axis
    g.output(g.identity(floats, 'floats'));
    g.output(g.identity(intsC, 'ints'), [2], 'int64');
    g.output(g.identity(fC, 'f'));
    g.output(g.identity(iC, 'i'), [], 'int64');
    g.output(g.identity(lr, 'lrelu'));
    g.output(g.identity(padded, 'padded'));
    g.output(g.identity(softmaxOut, 'sm'));
    const x = Float32Array.of(0, 3, 1, 9, 2, 4);
    const r = await run(g, { x: new ort.Tensor('float32', x, [2, 3]) });
    assert.deepEqual(Array.from(r.floats.data as Float32Array), [0.5, 1.5, 2.5]);
    assert.deepEqual(Array.from(r.ints.data as BigInt64Array), [2n, 3n]);
    assert.deepEqual(Array.from(r.f.data as Float32Array), [2]);
    assert.deepEqual(Array.from(r.i.data as BigInt64Array), [7n]);
    const lrelu = Array.from(r.lrelu.data as Float32Array);
    assert.deepEqual(lrelu, [-0.25, 1, -0.5, 5, -0.75, -0.5]);
    assert.deepEqual(Array.from(r.padded.data as Float32Array), [3, 0, 3, 1, 3, 2, 9, 2, 4, 2]);
    const sm = r.sm.data as Float32Array;
    assert.ok(Math.abs(sm[0] + sm[1] + sm[2] - 1) < 1e-6);
  });

  test('int64 and int32 initializers, cached constants, ScatterElements add', async () => {
    const g = new GraphBuilder();
    g.input('a', [4], 'int32');
    g.initializer('b', Int32Array.of(10, -20, 30, -40), [4], 'int32');
    g.output(g.add('a', 'b', 'sum'), [4], 'int32');
    g.initializer('shape', BigInt64Array.of(2n, -1n), [2]);
    g.output(g.reshape(g.cast('a', 'float32'), 'shape', 'r'), [2, 2]);
    assert.equal(g.scalar(1), g.scalar(1));
    assert.notEqual(g.scalar(1), g.scalar(1, 'int64'));
    assert.equal(g.int64s([1, 2]), g.int64s([1, 2]));
    const zeros = g.constantOfShape([5]);
    const idx = g.initializer('idx', BigInt64Array.of(0n, 2n, 2n, 4n), [4]);
    g.output(g.scatterElements(zeros, idx, g.cast('a', 'float32'), 0, 'add', 'scattered'), [5]);
    const r = await run(g, { a: new ort.Tensor('int32', Int32Array.of(1, 2, 3, 4), [4]) });
    assert.deepEqual(Array.from(r.sum.data as Int32Array), [11, -18, 33, -36]);
    assert.deepEqual(r.r.dims, [2, 2]);
    assert.deepEqual(Array.from(r.scattered.data as Float32Array), [1, 0, 5, 0, 4]);
  });

  test('opset 18 switches reduce axes to inputs', async () => {
    for (const opset of [17, 18]) {
      const g = new GraphBuilder({ opset });
      g.input('x', [2, 3]);
      g.output(g.reduceMean('x', [1], false, 'm'));
      g.output(g.reduceMax('x', undefined, false, 'mx'));
      g.output(g.reduceSum('x', [0], true, 's'));
      const r = await run(g, { x: new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]) });
      assert.deepEqual(Array.from(r.m.data as Float32Array), [2, 5]);
      assert.deepEqual(Array.from(r.mx.data as Float32Array), [6]);
      assert.deepEqual(Array.from(r.s.data as Float32Array), [5, 7, 9]);
    }
  });

  test('non-ASCII tensor names survive encoding', async () => {
    const g = new GraphBuilder();
    g.input('entrée_é', [2]);
    g.output(g.neg('entrée_é', 'sortie_日本'));
    const r = await run(g, { 'entrée_é': new ort.Tensor('float32', Float32Array.of(1, -2), [2]) });
    assert.deepEqual(Array.from(r['sortie_日本'].data as Float32Array), [-1, 2]);
  });

  test('after(x, deps) is x exactly (also when a dependency holds NaN or ±Inf) and orders an in-place write after the dependencies', async () => {
    // y = 2x is written into x's own buffer (a pre-allocated output); z reads x. Only the
    // dependency through after() makes onnxruntime compute z before it overwrites x.
    const g = new GraphBuilder();
    g.input('x', [6]);
    g.input('bad', [3]);
    const z = g.reduceSum(g.mul('x', g.scalar(3)), [0], false, 'z');
    g.output(z, []);
    g.output(g.after(g.scalar(2), [z, 'bad'], 'two'), []);
    g.output(g.mul('x', 'two', 'y'), [6]);
    const session = await ort.InferenceSession.create(g.toModelBytes(), { intraOpNumThreads: 1, logSeverityLevel: 3 });
    try {
      const x = Float32Array.of(1, 2, 3, 4, 5, 6);
      const xt = new ort.Tensor('float32', x, [6]);
      const r = await session.run({ x: xt, bad: new ort.Tensor('float32', Float32Array.of(NaN, Infinity, -Infinity), [3]) }, { z: null, two: null, y: xt });
      assert.equal((r.two.data as Float32Array)[0], 2);
      assert.equal((r.z.data as Float32Array)[0], 63);
      assert.deepEqual([...x], [2, 4, 6, 8, 10, 12]);
    } finally {
      await session.release();
    }
  });

  test('naming: fresh names are unique, wiring errors are caught early', () => {
    const g = new GraphBuilder();
    g.input('relu_0', [1]);
    const a = g.relu('relu_0');
    const b = g.relu(a);
    assert.notEqual(a, 'relu_0');
    assert.notEqual(a, b);
    assert.throws(() => g.relu('nope'), /not defined/);
    assert.throws(() => g.input('relu_0', [1]), /already defined/);
    assert.throws(() => g.relu(a, b), /already defined/);
    g.output('ghost');
    assert.throws(() => g.toModelBytes(), /never produced/);
    assert.throws(() => new GraphBuilder({ opset: 12 }), /opset 13/);
  });
});
