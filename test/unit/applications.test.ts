/**
 * keras.applications builders called in a user's file (`keras.applications.ResNet50(...)`) are run
 * from ConvLens' own definitions (src/core/applications/). They must build the model Keras
 * builds: for every builder and a grid of arguments, the user's call gives the same summary —
 * every row's name, class, output shape, parameters, trainable split and "Connected to", the
 * model's name and totals — as the same call appended to Keras' own source of that module
 * (test/fixtures/keras/app_*.py, verbatim, analysed by the same interpreter). The totals are
 * also held to the published numbers (the keras.io applications table; a printed tf.keras
 * summary of every builder frozen; the transfer-learning guide's and Deep Learning with
 * Python's include_top=False bases), and the transfer-learning idioms users write around a
 * base are checked end to end.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { analyzeSource, type FileAnalysis, type ModelReport } from '../../src/core/index';
import { DEFAULT_LIMITS } from '../../src/core/parse/interpreter';
import { APPLICATIONS } from '../../src/core/applications/index';
import { covered, fixturePath, oneModel, parser, readFixture } from './helpers';

/** A grid of several bases in one file is larger than one model the default budget is sized for. */
const LIMITS = { ...DEFAULT_LIMITS, maxSteps: 2_000_000, maxNodes: 100_000 };

async function analyze(text: string): Promise<FileAnalysis> {
  return analyzeSource(text, await parser(), { limits: LIMITS });
}

interface Family {
  /** Keras' source of the module (and of the modules it imports), in the order they run. */
  sources: string[];
  /** Python run after the sources: binds the module names Keras' source imports (`resnet`). */
  bind?: string;
  builders: string[];
  /** Arguments only this family takes (width and depth options, preprocessing). */
  options: string[];
  /** Keras finds the architecture by the model's name, so it refuses `name=` (tested below). */
  fixedName?: boolean;
}

const FAMILIES: Record<string, Family> = {
  vgg16: { sources: ['app_vgg16.py'], builders: ['VGG16'], options: [] },
  vgg19: { sources: ['app_vgg19.py'], builders: ['VGG19'], options: [] },
  resnet: { sources: ['app_resnet.py'], builders: ['ResNet50', 'ResNet101', 'ResNet152'], options: [] },
  resnetV2: {
    sources: ['app_resnet.py', 'app_resnet_v2.py'],
    bind: 'class resnet:\n    ResNet = ResNet\n    stack_residual_blocks_v2 = stack_residual_blocks_v2\n',
    builders: ['ResNet50V2', 'ResNet101V2', 'ResNet152V2'],
    options: [],
  },
  mobilenet: {
    sources: ['app_mobilenet.py'],
    builders: ['MobileNet'],
    options: ['weights=None, alpha=0.5, depth_multiplier=2, classes=10', 'alpha=0.25, input_shape=(128, 128, 3)', 'alpha=0.75, include_top=False, input_shape=(160, 160, 3)', 'weights=None, dropout=0.5, input_shape=(200, 180, 3)'],
  },
  mobilenetV2: {
    sources: ['app_mobilenet_v2.py'],
    builders: ['MobileNetV2'],
    options: ['alpha=0.35, include_top=False, input_shape=(96, 96, 3)', 'alpha=1.4, input_shape=(192, 192, 3)', 'weights=None, alpha=1.3, classes=10', 'input_tensor=keras.Input(shape=(160, 160, 3))'],
  },
  mobilenetV3: {
    sources: ['app_mobilenet_v3.py'],
    builders: ['MobileNetV3Small', 'MobileNetV3Large'],
    options: ['alpha=0.75', 'minimalistic=True, include_top=False, input_shape=(96, 96, 3)', 'weights=None, alpha=1.25, dropout_rate=0.0', 'include_preprocessing=False, pooling="avg", include_top=False'],
  },
  xception: { sources: ['app_xception.py'], builders: ['Xception'], options: [] },
  inceptionV3: { sources: ['app_inception_v3.py'], builders: ['InceptionV3'], options: [] },
  inceptionResNetV2: { sources: ['app_inception_resnet_v2.py'], builders: ['InceptionResNetV2'], options: [] },
  densenet: { sources: ['app_densenet.py'], builders: ['DenseNet121', 'DenseNet169', 'DenseNet201'], options: [] },
  efficientnet: { sources: ['app_efficientnet.py'], builders: ['EfficientNetB0', 'EfficientNetB1', 'EfficientNetB2', 'EfficientNetB3', 'EfficientNetB4', 'EfficientNetB5', 'EfficientNetB6', 'EfficientNetB7'], options: [] },
  efficientnetV2: {
    sources: ['app_efficientnet_v2.py'],
    builders: ['EfficientNetV2B0', 'EfficientNetV2B1', 'EfficientNetV2B2', 'EfficientNetV2B3', 'EfficientNetV2S', 'EfficientNetV2M', 'EfficientNetV2L'],
    options: ['include_preprocessing=False, weights=None, classes=10', 'weights=None, include_top=False, input_shape=(64, 64, 1), pooling="avg"'],
    fixedName: true,
  },
};

/** Arguments every builder takes, in the combinations transfer learning uses. */
const GRID = [
  '',
  'include_top=False, input_shape=(150, 150, 3)',
  'include_top=False, input_shape=(224, 224, 3), pooling="avg"',
  'include_top=False, input_shape=(96, 96, 3), pooling="max"',
  'include_top=False',
  'weights=None, classes=10',
  'weights=None, classes=10, classifier_activation=None, name="backbone"',
  'input_tensor=keras.Input(shape=(128, 128, 3)), include_top=False, pooling="avg"',
  'weights=None, include_top=False, input_shape=(112, 112, 1)',
];
/** The deeper variants of a family share its code path: fewer arguments for them. */
const SHORT_GRID = GRID.slice(0, 2).concat(GRID[5]);

/** A row as `model.summary()` prints it, with every call's shape and inputs and the trainable split. */
function summaryRows(m: ModelReport): string[] {
  const shape = (s: (number | null)[] | null): string => (s === null ? '?' : `(None, ${s.map((d) => d ?? 'None').join(', ')})`);
  return m.summary.map((r) => {
    const calls = r.calls.map((c) => `${shape(m.layers[c].outputShape)} <- ${m.layers[c].inputs.join(', ')}`).join(' | ');
    return `${r.name} (${r.className}) ${calls} ${r.params} [${r.trainableParams}/${r.nonTrainableParams}]`;
  });
}

function describeModel(m: ModelReport): string[] {
  return [`${m.name}: total ${m.totalParams}, trainable ${m.trainableParams}, non-trainable ${m.nonTrainableParams}, ${m.summary.length} rows`, ...summaryRows(m)];
}

function modelsByVar(a: FileAnalysis, count: number): ModelReport[] {
  return Array.from({ length: count }, (_, i) => {
    const m = a.models.find((x) => x.varName === `m${i}` && !x.speculative);
    assert.ok(m, `no model for m${i}: found ${a.models.map((x) => x.varName ?? x.name).join(', ')}`);
    return m;
  });
}

const errors = (a: FileAnalysis): string[] => a.problems.filter((p) => p.severity === 'error' || p.code === 'analysis-budget').map((p) => p.message);

describe('keras.applications: ConvLens’ definitions build what Keras’ source builds', () => {
  for (const [family, f] of Object.entries(FAMILIES)) {
    f.builders.forEach((builder, k) => {
      const common = f.fixedName ? GRID.filter((args) => !args.includes('name=')) : GRID;
      const grid = k === 0 ? [...common, ...f.options] : SHORT_GRID;
      it(`${builder} (${grid.length} argument sets)`, async () => {
        const calls = grid.map((args, i) => `m${i} = ${builder}(${args})`);
        // (a) the user's file; (b) Keras' source with the same calls appended. Both files make the
        // same calls in the same order, so Keras' name counters (`add_3`, `input_layer_2`) agree too.
        const user = await analyze(['import keras', ...calls.map((c) => c.replace(`= ${builder}(`, `= keras.applications.${builder}(`))].join('\n'));
        const keras = await analyze([...f.sources.map((s) => readFixture('keras', s)), f.bind ?? '', 'import keras', ...calls].join('\n'));
        // Not even a note: a correct call of a Keras builder is nothing to report.
        assert.deepEqual(user.problems.map((p) => `${p.severity}: ${p.message}`), [], `${family}: the user's calls`);
        assert.deepEqual(errors(keras), [], `${family}: Keras' source`);
        const ours = modelsByVar(user, grid.length);
        const theirs = modelsByVar(keras, grid.length);
        grid.forEach((args, i) => {
          assert.equal(ours[i].foreign, true, 'built by ConvLens’ definition');
          assert.deepEqual(describeModel(ours[i]), describeModel(theirs[i]), `${builder}(${args})`);
          assert.deepEqual([ours[i].inputShape, ours[i].outputShape], [theirs[i].inputShape, theirs[i].outputShape], `${builder}(${args}) input and output`);
        });
      });
    });
  }

  it('knows every builder it defines, and defines every builder it lists', async () => {
    const tested = Object.values(FAMILIES).flatMap((f) => f.builders).sort();
    assert.deepEqual(Object.keys(APPLICATIONS).sort(), tested);
  });
});

/** `| [ResNet50](resnet/#resnet50-function) | 98 MB | … | 25,636,712 | …` → { ResNet50: 25636712 } */
function publishedTable(): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of readFixture('keras', 'published', 'keras_applications_table.txt').split('\n')) {
    const m = /^\| \[(\w+)\]\([^)]*\) \|(?:[^|]*\|){3}\s*([\d,]+) \|/.exec(line);
    if (m) out.set(m[1], Number(m[2].replace(/,/g, '')));
  }
  return out;
}

/** The printed block of a tf.keras run over every builder with `model.trainable = False`. */
function publishedFrozen(): Map<string, { total: number; trainable: number; nonTrainable: number }> {
  const out = new Map<string, { total: number; trainable: number; nonTrainable: number }>();
  const text = readFixture('keras', 'published', 'keras71_all_transfer_learning.txt');
  const re = /^(\w+)\nTotal params: ([\d,]+)\nTrainable params: ([\d,]+)\nNon-trainable params: ([\d,]+)$/gm;
  for (const m of text.matchAll(re)) {
    const n = (s: string): number => Number(s.replace(/,/g, ''));
    out.set(m[1], { total: n(m[2]), trainable: n(m[3]), nonTrainable: n(m[4]) });
  }
  return out;
}

describe('keras.applications: the published numbers', () => {
  it('every builder in the keras.io applications table has its published total', async () => {
    const table = publishedTable();
    const known = [...table.keys()].filter((b) => APPLICATIONS[b]);
    assert.ok(known.length >= 24, `${known.length} builders of the table are known`);
    const a = await analyze(['import keras', ...known.map((b, i) => `m${i} = keras.applications.${b}()`)].join('\n'));
    assert.deepEqual(errors(a), []);
    const got = modelsByVar(a, known.length).map((m, i) => [known[i], m.totalParams]);
    assert.deepEqual(got, known.map((b) => [b, table.get(b)]));
  });

  it('every builder frozen with base.trainable = False prints the published split (tf.keras 2.x, keras71_ALL_TransferLeaning.py)', async () => {
    const frozen = publishedFrozen();
    const known = [...frozen.keys()].filter((b) => APPLICATIONS[b]);
    assert.ok(known.includes('MobileNetV3Small') && known.includes('MobileNetV3Large') && known.length >= 19, known.join(' '));
    const lines = ['from tensorflow.keras import applications'];
    known.forEach((b, i) => lines.push(`m${i} = applications.${b}()`, `m${i}.trainable = False`, `m${i}.summary()`));
    const a = await analyze(lines.join('\n'));
    assert.deepEqual(errors(a), []);
    const got = modelsByVar(a, known.length).map((m, i) => [known[i], m.snapshots.map((s) => [s.totalParams, s.trainableParams, s.nonTrainableParams])]);
    assert.deepEqual(got, known.map((b) => [b, [[frozen.get(b)!.total, frozen.get(b)!.trainable, frozen.get(b)!.nonTrainable]]]));
  });

  it('the include_top=False bases the corpus publishes: VGG16 and Xception at 150×150', async () => {
    // Deep Learning with Python 5.3 (conv_base) and the keras.io transfer-learning guide (base_model).
    const vgg = await oneModel("from keras.applications import VGG16\nconv_base = VGG16(weights='imagenet', include_top=False, input_shape=(150, 150, 3))\n");
    assert.equal(vgg.model.totalParams, 14_714_688);
    assert.deepEqual(vgg.model.outputShape, [4, 4, 512]);
    const xception = await oneModel('from tensorflow import keras\nbase_model = keras.applications.Xception(weights="imagenet", input_shape=(150, 150, 3), include_top=False)\n');
    assert.equal(xception.model.totalParams, 20_861_480);
    assert.deepEqual(xception.model.outputShape, [5, 5, 2048]);
  });
});

describe('keras.applications: EfficientNetV2, published elsewhere', () => {
  it('the bases without the top have the parameters of KerasCV’s EfficientNetV2 backbones', async () => {
    const text = readFixture('keras', 'published', 'keras_cv_efficientnet_v2_presets.txt');
    const presets = [...text.matchAll(/"efficientnetv2_(\w+)": \{\n\s+"params": (\d+),/g)].map((m) => [`EfficientNetV2${m[1].toUpperCase()}`, Number(m[2])] as [string, number]);
    assert.equal(presets.length, 7);
    const a = await analyze(['import keras', ...presets.map(([b], i) => `m${i} = keras.applications.${b}(include_top=False)`)].join('\n'));
    assert.deepEqual(errors(a), []);
    assert.deepEqual(modelsByVar(a, presets.length).map((m, i) => [presets[i][0], m.totalParams]), presets);
  });

  it('the Kaggle leukemia recipe: a pooled EfficientNetV2B3 under BatchNormalization and Dense, as printed', async () => {
    const text = [
      'import tensorflow as tf',
      'from tensorflow.keras.models import Sequential',
      'from tensorflow.keras.layers import Dense, Dropout, BatchNormalization',
      'from tensorflow.keras import regularizers',
      'img_shape = (224, 224, 3)',
      'base_model = tf.keras.applications.EfficientNetV2B3(include_top= False, weights= "imagenet", input_shape= img_shape, pooling= \'max\')',
      'model = Sequential([',
      '  base_model,',
      '  BatchNormalization(axis= -1, momentum= 0.99, epsilon= 0.001),',
      '  Dense(256, kernel_regularizer= regularizers.l2(l= 0.016), activity_regularizer= regularizers.l1(0.006), bias_regularizer= regularizers.l1(0.006), activation= \'relu\'),',
      '  Dropout(rate= 0.45, seed= 123),',
      "  Dense(2, activation= 'softmax')",
      '])',
    ].join('\n');
    const a = await analyze(text);
    const model = a.models.find((m) => m.varName === 'model')!;
    const published = readFixture('keras', 'published', 'leukemia_classification_efficientnetv2.txt');
    const n = (label: string): number => Number(new RegExp(`${label} params: ([\\d,]+)`).exec(published)![1].replace(/,/g, ''));
    assert.deepEqual([model.totalParams, model.trainableParams, model.nonTrainableParams], [n('Total'), n('Trainable'), n('Non-trainable')]);
    assert.deepEqual(model.summary.map((r) => [r.className, r.params]), [['Functional', 12_930_622], ['BatchNormalization', 6_144], ['Dense', 393_472], ['Dropout', 0], ['Dense', 514]]);
  });
});

describe('keras.applications: transfer learning around a base', () => {
  const VGG = "base = keras.applications.VGG16(weights='imagenet', include_top=False, input_shape=(150, 150, 3))";

  it('Sequential([base, Flatten(), Dense(1)]) nests the base as one Functional row', async () => {
    const a = await analyze(`import keras\nfrom keras import layers\n${VGG}\nmodel = keras.Sequential([base, layers.Flatten(), layers.Dense(1)])\n`);
    const model = a.models.find((m) => m.varName === 'model')!;
    const rows = model.summary.map((r) => [r.name, r.className, r.params]);
    // 4·4·512 = 8192 features into Dense(1): 8192 + 1 parameters.
    assert.deepEqual(rows, [['vgg16', 'Functional', 14_714_688], ['flatten', 'Flatten', 0], ['dense', 'Dense', 8_193]]);
    assert.deepEqual(model.outputShape, [1]);
    assert.equal(model.totalParams, 14_714_688 + 8_193);
  });

  it('base.trainable = False before summary(): the base counts as non-trainable', async () => {
    const text = `import keras\nfrom keras import layers\n${VGG}\nbase.trainable = False\nmodel = keras.Sequential([base, layers.Flatten(), layers.Dense(256, activation="relu"), layers.Dense(1, activation="sigmoid")])\nmodel.summary()\nbase.trainable = True\nmodel.summary()\n`;
    const a = await analyze(text);
    const model = a.models.find((m) => m.varName === 'model')!;
    // Dense(256) on 8192 features and Dense(1) on 256: the head Deep Learning with Python 5.3 trains.
    const head = 8192 * 256 + 256 + 256 + 1;
    assert.deepEqual(model.snapshots.map((s) => [s.trainableParams, s.nonTrainableParams]), [[head, 14_714_688], [14_714_688 + head, 0]]);
  });

  it('a functional head on base.output, and an intermediate layer with get_layer(...).output', async () => {
    const text = [
      'import keras',
      'from keras import layers',
      'base = keras.applications.ResNet50(weights="imagenet", include_top=False, input_shape=(224, 224, 3))',
      'x = layers.GlobalAveragePooling2D()(base.output)',
      'out = layers.Dense(5, activation="softmax")(x)',
      'model = keras.Model(inputs=base.input, outputs=out)',
      'features = keras.Model(inputs=base.input, outputs=base.get_layer("conv4_block6_out").output)',
      'vgg = keras.applications.VGG19(weights="imagenet")',
      'block4 = keras.Model(inputs=vgg.input, outputs=vgg.get_layer("block4_pool").output)',
    ].join('\n');
    const a = await analyze(text);
    assert.deepEqual(errors(a), []);
    const get = (v: string): ModelReport => a.models.find((m) => m.varName === v)!;
    const base = get('base');
    const model = get('model');
    // The base's 175 rows (its input included), then the two head layers; 2048·5 + 5 parameters on top.
    assert.deepEqual(model.summary.slice(0, base.summary.length).map((r) => r.name), base.summary.map((r) => r.name));
    assert.deepEqual(model.summary.slice(base.summary.length).map((r) => [r.className, r.params]), [['GlobalAveragePooling2D', 0], ['Dense', 2048 * 5 + 5]]);
    assert.equal(model.totalParams, base.totalParams! + 2048 * 5 + 5);
    assert.deepEqual(get('features').outputShape, [14, 14, 1024]);
    assert.equal(get('features').summary[get('features').summary.length - 1].name, 'conv4_block6_out');
    assert.deepEqual(get('block4').outputShape, [14, 14, 512]);
  });

  it('freezing single layers (the keras.io InceptionV3 fine-tuning recipe) moves exactly their weights', async () => {
    const text = [
      'from tensorflow.keras.applications.inception_v3 import InceptionV3',
      'from tensorflow.keras.models import Model',
      'from tensorflow.keras.layers import Dense, GlobalAveragePooling2D',
      "base_model = InceptionV3(weights='imagenet', include_top=False)",
      'x = base_model.output',
      'x = GlobalAveragePooling2D()(x)',
      "x = Dense(1024, activation='relu')(x)",
      "predictions = Dense(200, activation='softmax')(x)",
      'model = Model(inputs=base_model.input, outputs=predictions)',
      'for layer in model.layers[:249]:',
      '    layer.trainable = False',
      'for layer in model.layers[249:]:',
      '    layer.trainable = True',
    ].join('\n');
    const a = await analyze(text);
    assert.deepEqual(errors(a), []);
    const model = a.models.find((m) => m.varName === 'model')!;
    // include_top=False without input_shape: height and width stay free, as in Keras.
    assert.deepEqual(model.inputShape, [null, null, 3]);
    const rows = model.summary;
    const trainable = rows.slice(249).reduce((s, r) => s + r.trainableParams!, 0);
    const frozen = rows.slice(0, 249).reduce((s, r) => s + r.params!, 0);
    assert.equal(rows.slice(0, 249).reduce((s, r) => s + r.trainableParams!, 0), 0, 'the first 249 layers are frozen');
    assert.equal(model.trainableParams, trainable);
    assert.equal(model.nonTrainableParams, frozen + rows.slice(249).reduce((s, r) => s + r.nonTrainableParams!, 0));
    // The recipe trains "the top 2 inception blocks" by leaving layers 249 on trainable: 248 is mixed8.
    assert.equal(rows[248].name, 'mixed8');
  });

  it('import spellings reach the same builder', async () => {
    const spellings = [
      'import keras\nm = keras.applications.MobileNetV2(weights=None)',
      'import tensorflow as tf\nm = tf.keras.applications.MobileNetV2(weights=None)',
      'from tensorflow.keras.applications import MobileNetV2\nm = MobileNetV2(weights=None)',
      'from keras.applications.mobilenet_v2 import MobileNetV2\nm = MobileNetV2(weights=None)',
      'from keras.applications import mobilenet_v2\nm = mobilenet_v2.MobileNetV2(weights=None)',
    ];
    for (const s of spellings) {
      const { model } = await oneModel(s);
      assert.deepEqual([model.name, model.totalParams], ['mobilenetv2_1.00_224', 3_538_984], s);
    }
  });

  it('an input_tensor computed from an Input: the base starts at that Input and holds the layers before it', async () => {
    const text = 'import keras\nfrom keras import layers\ninp = keras.Input(shape=(160, 160, 3))\nx = layers.Rescaling(1 / 255)(inp)\nbase = keras.applications.DenseNet121(input_tensor=x, include_top=False, weights=None)\n';
    const a = await analyze(text);
    const base = a.models.find((m) => m.varName === 'base')!;
    assert.deepEqual(base.summary.slice(0, 3).map((r) => r.className), ['InputLayer', 'Rescaling', 'ZeroPadding2D']);
    assert.deepEqual(base.outputShape, [5, 5, 1024]);
  });
});

describe('keras.applications: arguments Keras refuses', () => {
  const cases: [string, RegExp][] = [
    ['keras.applications.ResNet50(classes=10)', /`classes` should be 1000. Received: classes=10/],
    ['keras.applications.VGG16(input_shape=(150, 150, 3))', /`input_shape` should be \(224, 224, 3\)/],
    ['keras.applications.Xception(include_top=False, input_shape=(64, 64, 3))', /Input size must be at least 71x71/],
    ['keras.applications.DenseNet121(include_top=False, input_shape=(96, 96, 1))', /must have 3 channels/],
    ['keras.applications.EfficientNetB0(weights=None, input_shape=(None, None, 3))', /specify a static `input_shape`/],
    ['keras.applications.InceptionV3(classifier_activation="sigmoid")', /Only `None` and `softmax` activations are allowed/],
    ['keras.applications.MobileNet(alpha=0.3)', /alpha can be one of `0.25`, `0.50`, `0.75` or `1.0`/],
    ['keras.applications.MobileNet(depth_multiplier=2)', /depth multiplier must be 1/],
    ['keras.applications.MobileNetV2(alpha=0.6)', /alpha must be one of `0.35`/],
    ['keras.applications.MobileNetV3Small(alpha=0.5)', /alpha can be one of `0.75`, `1.0` for non minimalistic/],
    ['keras.applications.MobileNetV3Large(input_shape=(16, 16, 3), include_top=False)', /at least 32x32/],
    ['keras.applications.ResNet50(weights=3)', /The `weights` argument should be either/],
    ['keras.applications.EfficientNetV2B0(name="backbone")', /`name` must stay one of .*KeyError: 'backbone'/],
  ];
  for (const [call, message] of cases) {
    it(call, async () => {
      const text = `import keras\nbase = ${call}\n`;
      const a = await analyze(text);
      const errs = a.problems.filter((p) => p.severity === 'error');
      assert.equal(errs.length, 1, JSON.stringify(a.problems));
      assert.match(errs[0].message, message);
      assert.equal(covered(text, errs[0]), call, 'the error is on the user’s call');
      assert.equal(a.models.length, 0, 'Keras builds no model');
    });
  }
});

describe('keras.applications: the definitions', () => {
  it('are ConvLens’ own words: no passage of Keras’ source copied', () => {
    // A layer call with Keras' layer name is bound to read like Keras' (that is the point of the
    // names); a copied passage shows as a run of identical lines, or as many of them.
    const keras = new Set<string>();
    for (const f of Object.values(FAMILIES)) for (const s of f.sources) for (const line of readFileSync(fixturePath('keras', s), 'utf8').split('\n')) keras.add(line.trim());
    for (const def of new Set(Object.values(APPLICATIONS))) {
      const lines = def.source.split('\n').map((l) => l.trim()).filter((l) => l.length > 20);
      let run = 0;
      let longest = 0;
      for (const l of lines) {
        run = keras.has(l) ? run + 1 : 0;
        longest = Math.max(longest, run);
      }
      const same = lines.filter((l) => keras.has(l)).length;
      assert.ok(longest <= 4, `${def.module}: ${longest} consecutive lines as in Keras' source`);
      assert.ok(same / lines.length < 0.15, `${def.module}: ${same} of ${lines.length} lines as in Keras' source`);
    }
  });
});
