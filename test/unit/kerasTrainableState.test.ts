/**
 * Which `trainable` state a model's numbers show when code changes `trainable` after
 * `summary()` or `compile()`. Keras prints the state at each `summary()` call and trains with
 * the state of the last `compile()`; ConvLens' model report (the table, the hover, training)
 * takes the last compile()'s state, else the last summary()'s, and keeps every summary()
 * call's own numbers in `snapshots`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { formatSummary } from '../../src/core/index';
import { planTraining } from '../../src/core/train/plan';
import { analyze, fixturePath } from './helpers';

const dir = fixturePath('keras');
const expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as {
  files: Record<string, { models: { var: string; totalParams: number; trainableParams: number; nonTrainableParams: number }[] }>;
};

/** A notebook's code cells joined in order. */
function notebookCode(file: string): string {
  const nb = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { cells: { cell_type: string; source: string | string[] }[] };
  return nb.cells
    .filter((c) => c.cell_type === 'code')
    .map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source))
    .join('\n\n');
}

describe('trainable state of a summary() and of a compile()', () => {
  it('DLWP 8.5: the discriminator shows the state it was printed and compiled with, the GAN freezes it', async () => {
    // Published (the notebook's cell 7 output, expected.json): discriminator 790,913 params, all
    // trainable. The notebook then sets discriminator.trainable = False, which "will only apply
    // to the gan model" — the GAN is compiled after it.
    const file = 'dlwp1_8.5-introduction-to-gans.ipynb';
    const published = expected.files[file].models;
    const disc = published.find((m) => m.var === 'discriminator')!;
    const gen = published.find((m) => m.var === 'generator')!;
    const text = notebookCode(file);
    const a = await analyze(text);
    const d = a.models.find((m) => m.varName === 'discriminator')!;
    assert.deepEqual([d.totalParams, d.trainableParams, d.nonTrainableParams], [disc.totalParams, disc.trainableParams, disc.nonTrainableParams]);
    assert.equal(d.trainableFrom?.call, 'compile');
    assert.match(formatSummary(d, { where: () => 'there' }), /Trainable split as compile\(\) at there fixed it/);
    // The GAN trains the generator only: its trainable count is the generator's total.
    const gan = a.models.find((m) => m.varName === 'gan')!;
    assert.deepEqual([gan.totalParams, gan.trainableParams, gan.nonTrainableParams], [gen.totalParams + disc.totalParams, gen.totalParams, disc.totalParams]);
    // Training follows the same states: the discriminator's weights are updated when it is
    // trained on its own, and held when the GAN is.
    const trainable = (m: typeof d): number => {
      const r = planTraining(m, text);
      assert.deepEqual(r.problems, []);
      return r.plan!.layers.flatMap((l) => l.weights).filter((w) => w.trainable).reduce((n, w) => n + w.shape.reduce((x, y) => x * y, 1), 0);
    };
    assert.equal(trainable(d), disc.trainableParams);
    assert.equal(trainable(gan), gen.totalParams);
  });

  it('a model never compiled shows the state its last summary() printed, a later freeze is noted', async () => {
    // The idiom of NimaPourmoradi/Brain-Tumor Brain_Tumor_keras3.ipynb @ 7892f3ad93 (cells 51, 52,
    // 57): ResNet50V2(include_top=False) printed, then every layer before conv5_block1_preact_bn
    // frozen. Its printed summary (cell 52, Keras 3): Total params: 23,564,800, Trainable params:
    // 23,519,360, Non-trainable params: 45,440.
    const text = [
      'import keras',
      "pre_trained_model = keras.applications.ResNet50V2(weights='imagenet', classes=4, input_shape=(224, 224, 3), include_top=False)",
      'pre_trained_model.summary()',
      'pre_trained_model.trainable = True',
      'set_trainable = False',
      'for layer in pre_trained_model.layers:',
      "    if layer.name == 'conv5_block1_preact_bn':",
      '        set_trainable = True',
      '    if set_trainable:',
      '        layer.trainable = True',
      '    else:',
      '        layer.trainable = False',
      '',
    ].join('\n');
    const a = await analyze(text);
    const m = a.models.find((x) => x.varName === 'pre_trained_model')!;
    assert.deepEqual([m.totalParams, m.trainableParams, m.nonTrainableParams], [23_564_800, 23_519_360, 45_440]);
    assert.equal(m.trainableFrom?.call, 'summary');
    assert.equal(text.slice(m.trainableFrom!.span.start, m.trainableFrom!.span.end), 'pre_trained_model.summary()');
    assert.deepEqual(m.snapshots.map((s) => s.trainableParams), [23_519_360]);
  });

  it('a summary() after the freeze and before compile(): both agree, no note', async () => {
    const text = [
      'from tensorflow import keras',
      'from tensorflow.keras import layers',
      'base = keras.Sequential([keras.Input((8,)), layers.Dense(4), layers.Dense(2)])',
      'base.summary()',
      'base.trainable = False',
      'model = keras.Sequential([base, layers.Dense(1)])',
      'model.summary()',
      "model.compile(optimizer='adam', loss='mse')",
      '',
    ].join('\n');
    const a = await analyze(text);
    const model = a.models.find((x) => x.varName === 'model')!;
    // Dense(8→4) 36 + Dense(4→2) 10 frozen, Dense(2→1) 3 trainable.
    assert.deepEqual([model.trainableParams, model.nonTrainableParams], [3, 46]);
    assert.equal(model.trainableFrom, undefined);
    const base = a.models.find((x) => x.varName === 'base')!;
    // base.summary() printed it trainable; the freeze came after, and base is never compiled.
    assert.deepEqual([base.trainableParams, base.nonTrainableParams, base.trainableFrom?.call], [46, 0, 'summary']);
  });
});
