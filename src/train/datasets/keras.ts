/**
 * Where `mnist.load_data()`, `fashion_mnist.load_data()` and `cifar10.load_data()` find their
 * data without a download: a configured folder first, then Keras' own cache
 * ($KERAS_HOME or ~/.keras, under datasets/). When nothing is found, the DataError says exactly
 * which files to put where.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { type PixelScale } from './common';
import {
  CIFAR10_ARCHIVE,
  CIFAR10_BIN_DIR,
  CIFAR10_BINARY_URL,
  CIFAR10_TEST_FILE,
  CIFAR10_TRAIN_FILES,
  findCifar10,
  loadCifar10,
} from './cifar10';
import { findFile, isDirectory, isFile } from './files';
import { FASHION_MNIST_CLASS_NAMES, findIdxFiles, IDX_FILE_LIST, loadIdxFolder, MNIST_CLASS_NAMES } from './idx';
import { loadNpz } from './npz';
import { DataError, type Dataset } from './types';

export type KerasDatasetName = 'mnist' | 'fashion_mnist' | 'cifar10';

export const KERAS_DATASET_NAMES: readonly KerasDatasetName[] = ['mnist', 'fashion_mnist', 'cifar10'];

const KERAS_ORIGIN = 'https://storage.googleapis.com/tensorflow/tf-keras-datasets/';

export interface KerasResolveOptions {
  /** A folder configured by the user for this dataset (checked first). */
  folder?: string;
  /** Keras' home; default $KERAS_HOME, else ~/.keras. */
  kerasHome?: string;
  /** How messages refer to the folder when none is configured; default "a folder of your choice (then set it as the <name> folder)". */
  folderHint?: string;
  scale?: PixelScale;
}

/** Where a dataset was found. */
export interface ResolvedDataset {
  name: KerasDatasetName;
  kind: 'idx' | 'npz' | 'cifar10';
  /** The folder (idx, cifar10) or file (npz, cifar10 archive). */
  path: string;
}

/** $KERAS_HOME, else ~/.keras. */
export function defaultKerasHome(): string {
  return process.env.KERAS_HOME || path.join(os.homedir(), '.keras');
}

/** "mnist", "Fashion-MNIST", "fashion_mnist.load_data()", "cifar10" … → the dataset name, or undefined. */
export function kerasDatasetName(text: string): KerasDatasetName | undefined {
  const t = text
    .trim()
    .toLowerCase()
    .replace(/\.load_data\(\)$/, '')
    .replace(/^(tf\.)?(keras\.)?datasets\./, '')
    .replace(/-/g, '_');
  if (t === 'mnist') return 'mnist';
  if (t === 'fashion_mnist' || t === 'fashionmnist') return 'fashion_mnist';
  if (t === 'cifar10' || t === 'cifar_10') return 'cifar10';
  return undefined;
}

const LABELS: Record<KerasDatasetName, string> = { mnist: 'MNIST', fashion_mnist: 'Fashion-MNIST', cifar10: 'CIFAR-10' };

function hasAnyIdx(folder: string): boolean {
  const f = findIdxFiles(folder);
  return Object.values(f).some((v) => v !== undefined);
}

/**
 * Finds a dataset's files: the configured folder, then Keras' cache. Throws a DataError that
 * lists where it looked and which files to put where.
 */
export function resolveKerasDataset(name: KerasDatasetName, o: KerasResolveOptions = {}): ResolvedDataset {
  const home = o.kerasHome ?? defaultKerasHome();
  const cache = path.join(home, 'datasets');
  const label = LABELS[name];
  const target = o.folder ?? o.folderHint ?? `a folder of your choice (then set it as the ${label} folder)`;
  const looked: string[] = [];
  const folderOk = o.folder !== undefined && isDirectory(o.folder);
  if (o.folder !== undefined && !folderOk) looked.push(`${o.folder} (${isFile(o.folder) ? 'a file, not a folder' : 'no such folder'})`);

  if (name === 'mnist' || name === 'fashion_mnist') {
    if (folderOk) {
      if (hasAnyIdx(o.folder!)) return { name, kind: 'idx', path: o.folder! };
      if (name === 'mnist') {
        const npz = findFile(o.folder!, ['mnist.npz']);
        if (npz) return { name, kind: 'npz', path: npz };
      }
      looked.push(`${o.folder} (no IDX files${name === 'mnist' ? ' and no mnist.npz' : ''})`);
    }
    if (name === 'mnist') {
      const npz = path.join(cache, 'mnist.npz');
      if (isFile(npz)) return { name, kind: 'npz', path: npz };
      looked.push(`${npz} (absent)`);
      throw new DataError(
        `MNIST not found. Looked in: ${looked.join('; ')}. ` +
          `Put ${IDX_FILE_LIST} into ${target} (from ${KERAS_ORIGIN} or http://yann.lecun.com/exdb/mnist/), ` +
          `or mnist.npz into ${cache}${path.sep} (from ${KERAS_ORIGIN}mnist.npz).`,
      );
    }
    const fashionCache = path.join(cache, 'fashion-mnist');
    if (isDirectory(fashionCache) && hasAnyIdx(fashionCache)) return { name, kind: 'idx', path: fashionCache };
    looked.push(`${fashionCache}${path.sep} (${isDirectory(fashionCache) ? 'no IDX files' : 'absent'})`);
    throw new DataError(
      `Fashion-MNIST not found. Looked in: ${looked.join('; ')}. ` +
        `Put ${IDX_FILE_LIST} (the Fashion-MNIST files, from ${KERAS_ORIGIN} or https://github.com/zalandoresearch/fashion-mnist) ` +
        `into ${target}, or into ${fashionCache}${path.sep}.`,
    );
  }

  // cifar10
  if (folderOk) {
    const f = findCifar10(o.folder!);
    if (f) return { name, kind: 'cifar10', path: f.path };
    looked.push(`${o.folder} (no CIFAR-10 binary batches)`);
  }
  const inCache = isDirectory(cache) ? findCifar10(cache) : undefined;
  if (inCache) return { name, kind: 'cifar10', path: inCache.path };
  looked.push(`${path.join(cache, CIFAR10_BIN_DIR)}${path.sep} and ${path.join(cache, CIFAR10_ARCHIVE)} (absent)`);
  const pickled = ['cifar-10-batches-py', 'cifar-10-batches-py.tar.gz', 'cifar-10-python.tar.gz', 'cifar-10-batches-py_extracted']
    .map((p) => path.join(cache, p))
    .find((p) => isDirectory(p) || isFile(p));
  const how =
    `Download the binary version (${CIFAR10_BINARY_URL}) and put ${CIFAR10_ARCHIVE}, or its ${CIFAR10_BIN_DIR} folder ` +
    `(${CIFAR10_TRAIN_FILES.join(', ')}, ${CIFAR10_TEST_FILE}, batches.meta.txt), into ${target} or into ${cache}${path.sep}.`;
  if (pickled) {
    throw new DataError(
      `CIFAR-10: found Keras' Python version at ${pickled}, which is pickled Python objects that ConvLens cannot read (not supported). ${how}`,
      pickled,
    );
  }
  throw new DataError(`CIFAR-10 not found. Looked in: ${looked.join('; ')}. ${how}`);
}

/** `<name>.load_data()` without a download: resolves the files, then loads them. */
export async function loadKerasDataset(name: KerasDatasetName, o: KerasResolveOptions = {}): Promise<Dataset> {
  const r = resolveKerasDataset(name, o);
  const label = LABELS[name];
  const classNames = name === 'fashion_mnist' ? FASHION_MNIST_CLASS_NAMES : MNIST_CLASS_NAMES;
  switch (r.kind) {
    case 'idx':
      return loadIdxFolder(r.path, { label, classNames, scale: o.scale });
    case 'npz':
      return loadNpz(r.path, { label, classNames, scale: o.scale });
    case 'cifar10':
      return loadCifar10(r.path, { scale: o.scale });
  }
}
