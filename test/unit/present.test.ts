/** What the editor shows, word for word: hint labels, hovers, code-lens and status texts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hintLabel, layerHover, layerSites, modelAt, modelLensTitle, modelStatusText } from '../../src/core/present';
import { analyze, readFixture } from './helpers';

describe('inlay hints', () => {
  it('one hint per layer call, after the model.add(...)', async () => {
    const text = readFixture('seeds', '001_mnist_cnn.py');
    const a = await analyze(text);
    const sites = layerSites(a);
    assert.equal(sites.length, 7);
    assert.deepEqual(
      sites.map((s) => hintLabel(s, 'both')),
      [
        '→ (None, 24, 24, 10) · 260 params',
        '→ (None, 12, 12, 10) · 0 params',
        '→ (None, 8, 8, 20) · 5,020 params',
        '→ (None, 4, 4, 20) · 0 params',
        '→ (None, 320) · 0 params',
        '→ (None, 100) · 32,100 params',
        '→ (None, 10) · 1,010 params',
      ],
    );
    const first = sites[0];
    // Right after the closing parenthesis of model.add(…), at the end of the line.
    assert.equal(text.slice(first.anchor - 4, first.anchor + 1), '1)))\n');
    assert.equal(hintLabel(first, 'shapes'), '→ (None, 24, 24, 10)');
    assert.equal(hintLabel(first, 'params'), '→ 260 params');
    assert.equal(hintLabel(first, 'off'), undefined);
  });

  it('a call run three times with one result collapses to ×3 … each', async () => {
    const a = await analyze(`from keras import layers, models
model = models.Sequential([layers.Input((56, 56, 256))])
for _ in range(3):
    model.add(layers.Conv2D(256, 3, padding='same'))
`);
    assert.deepEqual(layerSites(a).map((s) => hintLabel(s, 'both')), ['×3 → (None, 56, 56, 256) · 590,080 params each']);
  });

  it('a helper called with different arguments lists each distinct result', async () => {
    const a = await analyze(`from keras import layers, models
def block(m, f):
    m.add(layers.Conv2D(f, 3, padding='same'))
model = models.Sequential([layers.Input((8, 8, 3))])
block(model, 16)
block(model, 32)
`);
    assert.deepEqual(layerSites(a).map((s) => hintLabel(s, 'both')), ['×2 → (None, 8, 8, 16) · 448 params | (None, 8, 8, 32) · 4,640 params']);
  });
});

describe('hover', () => {
  it('shows input → output, the formula, MACs, receptive field, memory and a doc line', async () => {
    const a = await analyze(readFixture('seeds', '001_mnist_cnn.py'));
    const md = layerHover(layerSites(a)[2]);
    assert.match(md, /^\*\*Conv2D\*\* — 2-D convolution/);
    assert.match(md, /`conv2d_1` in `model`: `\(None, 12, 12, 10\)` → `\(None, 8, 8, 20\)`/);
    assert.match(md, /Params: `20 × \(5·5·10\) \+ 20 = 5,020`/);
    assert.match(md, /Weights: kernel `\(5, 5, 10, 20\)`, bias `\(20\)`/);
    assert.match(md, /MACs: 320,000 \(320 K\)/);
    assert.match(md, /Receptive field: 14×14 input pixels, step 2×2/);
    assert.match(md, /Activation memory: 5\.00 KB per sample/);
    assert.match(md, /Activation: `relu`/);
  });
  it('BatchNormalization shows the trainable split', async () => {
    const a = await analyze('from keras import layers, models\nm = models.Sequential([layers.Input((4, 4, 8)), layers.BatchNormalization()])\n');
    assert.match(layerHover(layerSites(a)[0]), /Params: `4 × 8 = 32 \(γ, β trainable; moving mean and variance not trainable\)` \(16 trainable, 16 non-trainable\)/);
  });
});

describe('code lens and status bar', () => {
  it('totals with memory and MACs', async () => {
    const a = await analyze(readFixture('seeds', '001_mnist_cnn.py'));
    assert.equal(modelLensTitle(a.models[0]), '38,390 params (149.96 KB) · 497 K MACs');
    assert.equal(modelStatusText(a.models[0]), 'sequential: 38,390 params');
  });
  it('the model under the cursor', async () => {
    const text = readFixture('seeds', '004_padding_strides.py');
    const a = await analyze(text);
    assert.equal(modelAt(a, text.indexOf("strides=(2, 2)"))?.name, 'sequential_2');
    assert.equal(modelAt(a, text.indexOf("padding='same'"))?.name, 'sequential_1');
    assert.equal(modelAt(a, 0)?.name, 'sequential', 'above every model: the first one');
  });
  it('functional models get their totals; a model ConvLens cannot follow says why', async () => {
    let a = await analyze('import keras\ni = keras.Input((3,))\nm = keras.Model(i, keras.layers.Dense(2)(i))\n');
    assert.equal(modelLensTitle(a.models[0]), '8 params (32.00 B) · 6 MACs');
    a = await analyze('import keras\ni = keras.Input((3,))\nm = keras.Model(i, something_unknown(i))\n');
    assert.equal(modelLensTitle(a.models[0]), 'functional: ConvLens could not follow this model (its inputs or outputs could not be followed)');
  });
});
