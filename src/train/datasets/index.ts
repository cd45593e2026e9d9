/**
 * The dataset readers' entry point: `loadDataset(spec)` for every supported source, and the
 * shared helpers the trainer uses (batches, splits, shuffles, one-hot). Node only (it reads
 * files); the webview imports `./synthetic` and `./common` directly, which have no Node imports.
 *
 *   const ds = await loadDataset({ kind: 'keras', name: 'mnist', folder: configuredFolder });
 *   const { train, validation } = validationSplit(ds.train, 0.1);
 *   const feeder = new BatchFeeder(train, ds.shape, ds.numClasses, { batchSize: 128, seed: 1 });
 *   for (const batch of feeder.epoch(0)) … new ort.Tensor('float32', batch.x, [batch.count, 28, 28, 1]) …
 */
import { limitDataset, type PixelScale } from './common';
import { loadCifar10 } from './cifar10';
import { loadIdxFolder } from './idx';
import { loadImageFolder, type Interpolation } from './imageFolder';
import { loadKerasDataset, type KerasDatasetName } from './keras';
import { loadNpyFiles } from './npy';
import { loadNpz, type NpzKeys } from './npz';
import { syntheticDigits } from './synthetic';
import { DataError, type Dataset } from './types';

export type DatasetSpec = (
  | {
      /** `mnist` / `fashion_mnist` / `cifar10` `.load_data()`: the folder, then Keras' cache. */
      kind: 'keras';
      name: KerasDatasetName;
      folder?: string;
      kerasHome?: string;
      folderHint?: string;
    }
  | { kind: 'idx'; folder: string; label?: string; classNames?: string[] }
  | { kind: 'cifar10'; /** A folder (batches, cifar-10-batches-bin/ or the .tar.gz) or the .tar.gz. */ path: string }
  | { kind: 'npz'; file: string; keys?: NpzKeys; classNames?: string[]; numClasses?: number }
  | { kind: 'npy'; xTrain: string; yTrain: string; xTest?: string; yTest?: string; classNames?: string[]; numClasses?: number }
  | {
      kind: 'imageFolder';
      root: string;
      /** [height, width] */
      size: [number, number];
      channels: 1 | 3;
      interpolation?: Interpolation;
      testFraction?: number;
      seed?: number;
    }
  | { kind: 'synthetic'; train?: number; test?: number; seed?: number }
) & {
  /** uint8 pixels ÷255 (default, as the Keras examples do) or kept 0–255. Not used by 'synthetic'. */
  scale?: PixelScale;
  /** Keep at most this many samples (the first ones), e.g. for a quick run. */
  limit?: { train?: number; test?: number };
};

/** Loads a dataset. Bad or missing input gives a DataError, never a crash or a hang. */
export async function loadDataset(spec: DatasetSpec): Promise<Dataset> {
  const ds = await load(spec);
  return spec.limit ? limitDataset(ds, spec.limit) : ds;
}

async function load(spec: DatasetSpec): Promise<Dataset> {
  const scale = spec.scale;
  switch (spec.kind) {
    case 'keras':
      return loadKerasDataset(spec.name, { folder: spec.folder, kerasHome: spec.kerasHome, folderHint: spec.folderHint, scale });
    case 'idx':
      return loadIdxFolder(spec.folder, { label: spec.label, classNames: spec.classNames, scale });
    case 'cifar10':
      return loadCifar10(spec.path, { scale });
    case 'npz':
      return loadNpz(spec.file, { keys: spec.keys, classNames: spec.classNames, numClasses: spec.numClasses, scale });
    case 'npy':
      return loadNpyFiles({ ...spec, scale });
    case 'imageFolder':
      return loadImageFolder({ ...spec, scale });
    case 'synthetic':
      return syntheticDigits(spec);
    default:
      throw new DataError(`unknown dataset kind "${(spec as { kind: unknown }).kind}"`);
  }
}

export { DataError, type Dataset, type ImageSet } from './types';
export * from './common';
export { drawDigit, drawDigitFloat, syntheticDigits, SYNTHETIC_DEFAULTS, type SyntheticOptions, type DrawDigitOptions } from './synthetic';
export { loadIdxFolder, parseIdx, findIdxFiles, MNIST_CLASS_NAMES, FASHION_MNIST_CLASS_NAMES, IDX_FILES, type IdxArray } from './idx';
export { loadCifar10, findCifar10, CIFAR10_CLASS_NAMES, parseBatchesMeta } from './cifar10';
export { loadNpz, parseNpz, KERAS_NPZ_KEYS, type NpzKeys } from './npz';
export { loadNpyFiles, parseNpy, readNpy, npyToImages, npyToLabels, type NpyArray } from './npy';
export { readZip, crc32, type ZipArchive, type ZipEntry } from './zip';
export { loadImageFolder, decodeImage, resizeInto, scanImageFolder, type ImageFolderOptions, type Interpolation } from './imageFolder';
export {
  loadKerasDataset,
  resolveKerasDataset,
  kerasDatasetName,
  defaultKerasHome,
  KERAS_DATASET_NAMES,
  type KerasDatasetName,
  type KerasResolveOptions,
  type ResolvedDataset,
} from './keras';
export { readDataFile, readDataFileSync, isGzip } from './files';
