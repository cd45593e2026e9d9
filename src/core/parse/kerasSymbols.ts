import { KNOWN_UNSUPPORTED, findLayer } from '../layers/index';

/**
 * Maps the many spellings of Keras' modules onto one: `tensorflow.keras.layers`,
 * `tf_keras.layers`, `keras.src.layers.convolutional.conv2d` all become `keras.layers`.
 */
export function normalizeModulePath(path: string): string {
  const known = normalized.get(path);
  if (known !== undefined) return known;
  const p = normalizePath(path);
  // Every attribute of a module goes through here (`nn.Conv2d`, `F.relu` in a forward pass).
  if (normalized.size < 4096) normalized.set(path, p);
  return p;
}

const normalized = new Map<string, string>();

function normalizePath(path: string): string {
  let p = path
    .replace(/^tensorflow\.(python\.)?keras(?=\.|$)/, 'keras')
    .replace(/^tensorflow\.compat\.v[12]\.keras(?=\.|$)/, 'keras')
    .replace(/^tf_keras(?=\.|$)/, 'keras')
    .replace(/^keras\.api\._v2\.keras(?=\.|$)/, 'keras')
    .replace(/^keras\.src(?=\.|$)/, 'keras');
  // keras.layers.convolutional.Conv2D, keras.layers.core.Dense → keras.layers.X
  const layersSub = /^keras\.layers\.(?:[a-z_0-9]+\.)+([A-Za-z_0-9]+)$/.exec(p);
  if (layersSub) p = /^[A-Z]/.test(layersSub[1]) ? `keras.layers.${layersSub[1]}` : 'keras.layers';
  p = p.replace(/^keras\.engine\.(?:sequential|training|functional)\./, 'keras.models.');
  p = p.replace(/^keras\.optimizers\.(?:legacy|experimental|schedules)\./, 'keras.optimizers.');
  return p;
}

/** What a call to a Keras path does. */
export type KerasCallee =
  | { kind: 'layer'; className: string }
  | { kind: 'sequential' }
  | { kind: 'functionalModel' }
  | { kind: 'input' }
  | { kind: 'optimizer'; name: string }
  /** `keras.losses.SparseCategoricalCrossentropy(from_logits=True)`: a loss object for compile(). */
  | { kind: 'loss'; name: string }
  | { kind: 'loadData'; dataset: string }
  | { kind: 'toCategorical' }
  /** `layers.add([a, b])`, `layers.concatenate([...], axis=…)`: a merge layer made and called at once. */
  | { kind: 'mergeFunction'; className: string }
  | { kind: 'other' };

const MERGE_FUNCTIONS: Record<string, string> = {
  add: 'Add', subtract: 'Subtract', multiply: 'Multiply', average: 'Average', maximum: 'Maximum', minimum: 'Minimum', concatenate: 'Concatenate', dot: 'Dot',
};

const OPTIMIZERS = new Set(['SGD', 'RMSprop', 'Adam', 'AdamW', 'Adagrad', 'Adadelta', 'Adamax', 'Nadam', 'Ftrl', 'Lion', 'Adafactor', 'LossScaleOptimizer']);

/** Classifies a normalized path such as `keras.layers.Conv2D` or `keras.Sequential`. */
export function classifyKerasPath(path: string): KerasCallee {
  if (!/^keras(\.|$)/.test(path)) return { kind: 'other' };
  const parts = path.split('.');
  const last = parts[parts.length - 1];
  if (last === 'Sequential') return { kind: 'sequential' };
  if (last === 'Model' || last === 'Functional') return { kind: 'functionalModel' };
  if (last === 'Input') return { kind: 'input' };
  if (last === 'load_data' && parts.includes('datasets')) return { kind: 'loadData', dataset: parts[parts.length - 2] };
  if (last === 'to_categorical') return { kind: 'toCategorical' };
  if (parts[1] === 'layers' && parts.length === 3 && MERGE_FUNCTIONS[last]) return { kind: 'mergeFunction', className: MERGE_FUNCTIONS[last] };
  if (parts.includes('optimizers') && OPTIMIZERS.has(last)) return { kind: 'optimizer', name: last };
  if (parts[1] === 'losses' && /^[A-Z]/.test(last)) return { kind: 'loss', name: last };
  const def = findLayer(last);
  if (def) return { kind: 'layer', className: def.name };
  if (KNOWN_UNSUPPORTED.has(last)) return { kind: 'layer', className: last };
  if (parts[1] === 'layers' && parts.length === 3 && /^[A-Z]/.test(last)) return { kind: 'layer', className: last };
  return { kind: 'other' };
}

/** Shapes of what `keras.datasets.X.load_data()` returns: ((x_train, y_train), (x_test, y_test)). */
export const DATASET_SHAPES: Record<string, { train: number[]; test: number[]; labels: 'flat' | 'column' }> = {
  mnist: { train: [60000, 28, 28], test: [10000, 28, 28], labels: 'flat' },
  fashion_mnist: { train: [60000, 28, 28], test: [10000, 28, 28], labels: 'flat' },
  cifar10: { train: [50000, 32, 32, 3], test: [10000, 32, 32, 3], labels: 'column' },
  cifar100: { train: [50000, 32, 32, 3], test: [10000, 32, 32, 3], labels: 'column' },
};
