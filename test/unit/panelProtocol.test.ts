/** The panel's messages: validation on receipt and exact tensor transport. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PanelActivations, RequestActivations, base64ToBytes, bytesToBase64, decodeTensor, encodeTensor } from '../../src/core/protocol/panel';

describe('panel protocol', () => {
  it('base64 matches Node for every length remainder', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 255, 1000, 4097 * 3 + 1]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 131 + 7) & 255);
      const b64 = bytesToBase64(bytes);
      assert.equal(b64, Buffer.from(bytes).toString('base64'), `length ${n}`);
      assert.deepEqual(base64ToBytes(b64), bytes);
    }
  });
  it('float32 tensors round-trip exactly, including NaN and infinities', () => {
    const data = Float32Array.from([0, -1.5, Math.PI, NaN, Infinity, -0, 1e-30]);
    const back = decodeTensor(encodeTensor(data, [7]));
    assert.deepEqual([...back].map(String), [...data].map(String));
    assert.throws(() => decodeTensor({ shape: [8], base64: encodeTensor(data, [7]).base64 }), /needs 32 bytes, got 28/);
  });
  it('rejects malformed messages', () => {
    assert.ok(RequestActivations.is(RequestActivations.create({ source: 'sample', dataSource: 'synthetic', index: 3 })));
    assert.ok(!RequestActivations.is({ method: 'panel/requestActivations', params: { source: 'camera' } }));
    assert.ok(!RequestActivations.is({ method: 'panel/requestActivations', params: { source: 'sample', index: '3' } }));
    assert.ok(!PanelActivations.is({ method: 'panel/activations', params: null }));
    assert.ok(!PanelActivations.is('panel/activations'));
  });
});
