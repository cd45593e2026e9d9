/**
 * fit() as the file wrote it: the data selection followed from load_data(), the callbacks and
 * the learning-rate schedules, each against Keras 3 itself (test/fixtures/kerasFit/fit_reference.json,
 * made by make_fit_reference.py with Keras 3.15.1) or named as ignored.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectRows } from '../../src/core/parse/dataOrigin';
import { FitCallbacks, scheduleRate, type CallbackPlan, type SchedulePlan } from '../../src/core/train/fitOptions';
import { planTraining, type TrainingPlan } from '../../src/core/train/plan';
import { oneModel, readFixture } from './helpers';

interface Reference {
  keras: string;
  steps: number[];
  schedules: { class: string; args: Record<string, unknown>; values: number[] }[];
  callbacks: { class: string; args: Record<string, unknown>; logs: string; learningRates: number[]; stoppedAtEpoch: number | null; weightsAfter: number }[];
  logs: Record<string, number[]>;
}
const ref = JSON.parse(readFixture('kerasFit', 'fit_reference.json')) as Reference;

async function planOf(text: string, overrides = {}): Promise<{ plan?: TrainingPlan; notes: string[]; problems: { message: string }[] }> {
  const { model } = await oneModel(text);
  return planTraining(model, text, overrides);
}

const MODEL = [
  'import math',
  'from tensorflow import keras',
  'from keras import layers',
  'from keras.datasets import mnist',
  '(x_train, y_train), (x_test, y_test) = mnist.load_data()',
  'x_train = x_train.reshape((60000, 28, 28, 1)).astype("float32") / 255',
  'x_test = x_test.reshape((10000, 28, 28, 1)).astype("float32") / 255',
  'model = keras.Sequential([layers.Conv2D(4, 3, activation="relu", input_shape=(28, 28, 1)), layers.Flatten(), layers.Dense(10, activation="softmax")])',
];

describe('learning-rate schedules, as Keras computes them', () => {
  it(`match Keras ${ref.keras} at every step of the reference (${ref.schedules.length} schedules × ${ref.steps.length} steps)`, async () => {
    for (const s of ref.schedules) {
      const text = [...MODEL, `model.compile(optimizer=keras.optimizers.SGD(learning_rate=keras.optimizers.schedules.${s.class}(${Object.entries(s.args).map(([k, v]) => `${k}=${JSON.stringify(v).replace('true', 'True')}`).join(', ')})), loss="sparse_categorical_crossentropy")`, 'model.fit(x_train, y_train, epochs=1)', ''].join('\n');
      const r = await planOf(text);
      assert.deepEqual(r.problems, [], s.class);
      const sch = r.plan!.fit!.schedule as SchedulePlan;
      assert.ok(sch, `${s.class}: read from the optimizer's learning_rate`);
      const first = (s.args.initial_learning_rate ?? (s.args.values as number[])[0]) as number;
      assert.equal(r.plan!.optimizer.learningRate, first, 'the plan starts from the initial rate');
      ref.steps.forEach((step, i) => {
        const got = scheduleRate(sch, step);
        const want = s.values[i];
        assert.ok(Math.abs(got - want) <= 1e-5 * Math.abs(want) + 1e-9,  `${s.class}(${JSON.stringify(s.args)}) at step ${step}: ${got}, Keras ${want}`);
      });
    }
  });
});

describe('callbacks, as Keras runs them', () => {
  it(`EarlyStopping and ReduceLROnPlateau decide as Keras ${ref.keras} does on the same logs (${ref.callbacks.length} cases)`, () => {
    for (const c of ref.callbacks) {
      const a = c.args as Record<string, number | string | boolean>;
      const monitor = String(a.monitor);
      const mode = (a.mode as 'min' | 'max' | undefined) ?? (monitor.endsWith('accuracy') ? 'max' : 'min');
      const plan: CallbackPlan =
        c.class === 'EarlyStopping'
          ? { kind: 'EarlyStopping', monitor, mode, minDelta: Number(a.min_delta ?? 0), patience: Number(a.patience ?? 0), baseline: (a.baseline as number) ?? null, restoreBestWeights: a.restore_best_weights === true, startFromEpoch: Number(a.start_from_epoch ?? 0), line: 1 }
          : { kind: 'ReduceLROnPlateau', monitor, mode, factor: Number(a.factor ?? 0.1), patience: Number(a.patience ?? 10), minDelta: Number(a.min_delta ?? 1e-4), cooldown: Number(a.cooldown ?? 0), minLr: Number(a.min_lr ?? 0), line: 1 };
      const cbs = new FitCallbacks([plan]);
      let lr = 0.01;
      const lrs: number[] = [];
      let stopped: number | null = null;
      let weights = 0;
      for (const [e, v] of ref.logs[c.logs].entries()) {
        const d = cbs.epochEnd(e, { [monitor]: v }, lr);
        lr = d.learningRate;
        lrs.push(lr);
        weights = e + 1;
        if (d.keepWeights) weights = e + 1;
        if (d.stop) {
          stopped = e;
          break;
        }
      }
      const label = `${c.class}(${JSON.stringify(c.args)}) on ${c.logs}`;
      assert.equal(stopped, c.stoppedAtEpoch, `${label}: stopped at`);
      assert.equal(lrs.length, c.learningRates.length, label);
      lrs.forEach((v, i) => assert.ok(Math.abs(v - c.learningRates[i]) <= 1e-12 + 1e-9 * v, `${label}: epoch ${i} lr ${v}, Keras ${c.learningRates[i]}`));
      if (a.restore_best_weights) {
        // Which epoch's weights EarlyStopping keeps: the last one it asked to keep.
        const again = new FitCallbacks([plan]);
        let kept = 0;
        for (const [e, v] of ref.logs[c.logs].entries()) {
          const d = again.epochEnd(e, { [monitor]: v }, 0.01);
          if (d.keepWeights) kept = e + 1;
          if (d.stop) break;
        }
        assert.equal(kept, c.weightsAfter, `${label}: restored weights`);
      }
    }
  });

  it('saves and restores its counters, so a resumed run stops where an uninterrupted one would', () => {
    const plan: CallbackPlan[] = [
      { kind: 'EarlyStopping', monitor: 'val_loss', mode: 'min', minDelta: 0, patience: 2, baseline: null, restoreBestWeights: false, startFromEpoch: 0, line: 1 },
      { kind: 'ReduceLROnPlateau', monitor: 'val_loss', mode: 'min', factor: 0.5, patience: 1, minDelta: 1e-4, cooldown: 0, minLr: 0, line: 2 },
    ];
    const logs = ref.logs.plateau;
    const run = (cbs: FitCallbacks, from: number, to: number, lr: number) => {
      const out: string[] = [];
      for (let e = from; e < to; e++) {
        const d = cbs.epochEnd(e, { val_loss: logs[e] }, lr);
        lr = d.learningRate;
        out.push(`${e}:${lr}:${d.stop}`);
        if (d.stop) break;
      }
      return { out, lr };
    };
    const whole = run(new FitCallbacks(plan), 0, logs.length, 0.01).out;
    const first = new FitCallbacks(plan);
    const a = run(first, 0, 3, 0.01);
    const saved = JSON.parse(JSON.stringify(first.save()));
    const second = new FitCallbacks(plan);
    second.restore(saved);
    const b = run(second, 3, logs.length, a.lr);
    assert.deepEqual([...a.out, ...b.out], whole);
  });

  it('LearningRateScheduler: a lambda or a def with math.exp is evaluated per epoch from the file, as Keras calls schedule(epoch, lr)', async () => {
    const lambda = await planOf([...MODEL, 'model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")', 'model.fit(x_train, y_train, epochs=4, callbacks=[keras.callbacks.LearningRateScheduler(lambda epoch: 1e-3 * 0.5 ** epoch)])', ''].join('\n'));
    const l = lambda.plan!.fit!.callbacks[0];
    assert.equal(l.kind, 'LearningRateScheduler');
    assert.deepEqual(l.kind === 'LearningRateScheduler' && l.values, [1e-3, 5e-4, 2.5e-4, 1.25e-4]);
    const def = await planOf(
      [...MODEL, 'def scheduler(epoch, lr):', '    if epoch < 2:', '        return lr', '    else:', '        return lr * math.exp(-0.1)', 'model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")', 'model.fit(x_train, y_train, epochs=4, callbacks=[keras.callbacks.LearningRateScheduler(scheduler)])', ''].join('\n'),
    );
    const d = def.plan!.fit!.callbacks[0];
    // Keras' example from the LearningRateScheduler docs, from SGD's default rate 0.01.
    assert.ok(d.kind === 'LearningRateScheduler');
    const want = [0.01, 0.01, 0.01 * Math.exp(-0.1), 0.01 * Math.exp(-0.2)];
    d.values.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-15, `epoch ${i}: ${v}`));
    // --lr 0.1 scales a chain that reads its lr argument.
    const scaled = (await planOf([...MODEL, 'def scheduler(epoch, lr):', '    return lr * 0.5', 'model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")', 'model.fit(x_train, y_train, epochs=2, callbacks=[keras.callbacks.LearningRateScheduler(scheduler)])', ''].join('\n'), { learningRate: 0.1 })).plan!.fit!.callbacks[0];
    assert.deepEqual(scaled.kind === 'LearningRateScheduler' && scaled.values, [0.05, 0.025]);
    const cbs = new FitCallbacks(def.plan!.fit!.callbacks);
    assert.equal(cbs.epochBegin(0, 0.01), 0.01);
    assert.equal(cbs.epochBegin(3, 0.01), d.values[3]);
    assert.equal(cbs.epochBegin(99, 0.01), d.values[3], 'beyond the evaluated epochs: the last rate');
  });

  it('ModelCheckpoint chooses the best checkpoint’s monitor and mode; what is not honoured is named, never dropped', async () => {
    const r = await planOf(
      [
        ...MODEL,
        'model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])',
        'cbs = [keras.callbacks.ModelCheckpoint("best.keras", monitor="val_accuracy", save_best_only=True), keras.callbacks.TensorBoard(log_dir="logs"), keras.callbacks.EarlyStopping(monitor="val_f1", patience=2), keras.callbacks.CSVLogger("log.csv")]',
        'model.fit(x_train, y_train, epochs=3, validation_split=0.2, callbacks=cbs)',
        '',
      ].join('\n'),
    );
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.plan!.fit!.checkpoint, { monitor: 'val_accuracy', mode: 'max', initial: null, line: 10 });
    const text = r.notes.join('\n');
    assert.match(text, /ModelCheckpoint\(monitor='val_accuracy', mode='max'\) \(line 10\): the best checkpoint is best\.ckpt in the run folder, not to best\.keras/);
    assert.match(text, /TensorBoard\(…\) \(line 10\) is not applied: ConvLens honours EarlyStopping, ReduceLROnPlateau, ModelCheckpoint and LearningRateScheduler/);
    assert.match(text, /EarlyStopping\(…\) \(line 10\): monitor='val_f1' is not a metric ConvLens logs/);
    assert.match(text, /CSVLogger\(…\) \(line 10\) is not applied/);
    assert.equal(r.plan!.fit!.callbacks.length, 0);
  });

  it('refuses ReduceLROnPlateau(factor ≥ 1) at its line, as Keras does', async () => {
    const r = await planOf([...MODEL, 'model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")', 'model.fit(x_train, y_train, callbacks=[keras.callbacks.ReduceLROnPlateau(factor=2)])', ''].join('\n'));
    assert.match(r.problems[0]?.message ?? '', /ReduceLROnPlateau does not support a factor ≥ 1 \(got 2\)/);
  });
});

describe('validation_data and the rows fit() trains on', () => {
  it('validation_data=(x_test, y_test) validates on the test set (no 10% split any more)', async () => {
    const r = await planOf([...MODEL, 'model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")', 'model.fit(x_train, y_train, epochs=1, validation_data=(x_test, y_test))', ''].join('\n'));
    assert.equal(r.plan!.validationSplit, 0);
    assert.deepEqual(r.plan!.fit!.validation, { split: 'test', rows: { shuffled: false, slices: [], of: 10000 }, line: 10, dataset: 'mnist' });
    assert.ok(!r.notes.some((n) => /10%/.test(n)), r.notes.join('\n'));
  });

  it('seed 000 (CIFAR-10): x_train[5000:] for training and x_train[:5000] for validation, as the notebook slices them', async () => {
    const r = await planOf(readFixture('seeds', '000_cifar10_cnn.py'));
    const f = r.plan!.fit!;
    assert.deepEqual([f.train?.split, f.train?.rows.slices], ['train', [{ start: 5000 }]]);
    assert.deepEqual([f.validation?.split, f.validation?.rows.slices], ['train', [{ stop: 5000 }]]);
    const pick = (rows: NonNullable<typeof f.train>['rows']) => selectRows(rows, 50000, () => []).indices;
    assert.deepEqual([pick(f.train!.rows)[0], pick(f.train!.rows).length], [5000, 45000]);
    assert.deepEqual([pick(f.validation!.rows)[0], pick(f.validation!.rows).length], [0, 5000]);
  });

  it('seed 001 (MNIST): two disjoint slices of one np.random.permutation(60000), 50,000 to train and 10,000 to validate', async () => {
    const r = await planOf(readFixture('seeds', '001_mnist_cnn.py'));
    const f = r.plan!.fit!;
    assert.ok(f.train!.rows.shuffled && f.validation!.rows.shuffled);
    const perm = Uint32Array.from({ length: 60000 }, (_, i) => (i * 7919) % 60000);
    const t = selectRows(f.train!.rows, 60000, () => perm).indices;
    const v = selectRows(f.validation!.rows, 60000, () => perm).indices;
    assert.equal(t.length, 50000);
    assert.equal(v.length, 10000);
    const seen = new Set(t);
    assert.ok(Array.from(v).every((i) => !seen.has(i)), 'disjoint');
    // With less data (--limit, another dataset) the same fractions are used.
    const small = selectRows(f.validation!.rows, 600, (n) => Uint32Array.from({ length: n }, (_, i) => i));
    assert.deepEqual([small.indices.length, small.scaled], [100, true]);
  });

  it('validation_data it cannot follow falls back to a 10% hold-out and says why', async () => {
    const r = await planOf([...MODEL, 'import numpy as np', 'xv = np.load("v.npy")', 'model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")', 'model.fit(x_train, y_train, validation_data=(xv, y_test))', ''].join('\n'));
    assert.equal(r.plan!.validationSplit, 0.1);
    assert.match(r.notes.join('\n'), /fit\(validation_data=…\): which samples validation_data holds is known only when the code runs; holding out the last 10% of the training samples instead/);
  });
});
