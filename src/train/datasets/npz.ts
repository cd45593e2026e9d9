/**
 * NumPy .npz archives (a zip of .npy files, stored or deflated), such as Keras' cache
 * ~/.keras/datasets/mnist.npz with x_train, y_train, x_test and y_test.
 */
import { type PixelScale } from './common';
import { displayName, readBytes } from './files';
import { assembleNpyDataset, npyClaim, parseNpy, type NpyArray } from './npy';
import { DataError, type Dataset } from './types';
import { readZip } from './zip';

/** The arrays of an .npz archive, by name (without ".npy"). */
export function parseNpz(bytes: Uint8Array, file: string, only?: readonly string[]): Map<string, NpyArray> {
  const zip = readZip(bytes, file);
  const out = new Map<string, NpyArray>();
  for (const e of zip.entries) {
    if (e.name.endsWith('/')) continue;
    const key = e.name.replace(/\.npy$/, '');
    if (only !== undefined && !only.includes(key)) continue;
    out.set(key, parseNpy(zip.read(e), `${file}:${e.name}`));
  }
  return out;
}

export interface NpzKeys {
  xTrain: string;
  yTrain: string;
  xTest?: string;
  yTest?: string;
}

/** The keys of Keras' dataset caches. */
export const KERAS_NPZ_KEYS: NpzKeys = { xTrain: 'x_train', yTrain: 'y_train', xTest: 'x_test', yTest: 'y_test' };

export interface NpzOptions {
  keys?: NpzKeys;
  classNames?: string[];
  numClasses?: number;
  scale?: PixelScale;
  /** The dataset's name in summaries; default "<file name> (<path>)". */
  label?: string;
}

/** Loads a dataset from an .npz archive (by default Keras' x_train / y_train / x_test / y_test). */
export async function loadNpz(file: string, options: NpzOptions = {}): Promise<Dataset> {
  const keys = options.keys ?? KERAS_NPZ_KEYS;
  const wanted = [keys.xTrain, keys.yTrain, ...(keys.xTest !== undefined && keys.yTest !== undefined ? [keys.xTest, keys.yTest] : [])];
  const bytes = await readBytes(file);
  const zip = readZip(bytes, file);
  const names = zip.entries.map((e) => e.name.replace(/\.npy$/, ''));
  const missing = wanted.slice(0, 2).filter((k) => !names.includes(k));
  if (missing.length > 0) {
    throw new DataError(`${displayName(file)}: no ${missing.join(', ')} array; it holds ${names.join(', ') || 'nothing'} (expected ${wanted.join(', ')})`, file);
  }
  const hasTest = wanted.length === 4 && wanted.slice(2).every((k) => names.includes(k));
  const use = hasTest ? wanted : wanted.slice(0, 2);
  // One array at a time, each inflated into a buffer of the size its headers agree on.
  const arrays: NpyArray[] = [];
  for (const k of use) {
    const e = zip.entries.find((x) => x.name === `${k}.npy` || x.name === k)!;
    arrays.push(parseNpy(await zip.readAsync(e, npyClaim), `${file}:${e.name}`));
  }
  return assembleNpyDataset(arrays, {
    numClasses: options.numClasses,
    classNames: options.classNames,
    scale: options.scale,
    name: `${options.label ?? displayName(file)} (${file})`,
  });
}
