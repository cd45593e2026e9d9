/**
 * Finds the training data a `--data` value names and fits it to a model: `synthetic` (the
 * built-in digits), a Keras dataset name (`mnist`, `fashion_mnist`, `cifar10`: its folder, then
 * Keras' cache), a folder (MNIST-style IDX files or CIFAR-10 batches), or a `.npz` file.
 */
import { existsSync, statSync } from 'node:fs';
import { DataError, loadDataset, type Dataset, type DatasetSpec, type ImageSet } from './datasets/index';
import { findIdxFiles } from './datasets/idx';
import { findCifar10 } from './datasets/cifar10';
import { kerasDatasetName } from './datasets/keras';
import { scanImageFolder } from './datasets/imageFolder';
import type { TrainingPlan } from '../core/train/plan';
import { channelsLastShape, toModelInput } from '../core/train/sampleLayout';

/** The dataset spec a `--data` value stands for; `inputShape` sizes a folder of images per class. */
export function dataSpec(data: string, hint?: string, inputShape?: readonly number[]): DatasetSpec {
  if (data === 'synthetic') return { kind: 'synthetic' };
  const named = kerasDatasetName(data);
  if (named && !existsSync(data)) return { kind: 'keras', name: named };
  if (!existsSync(data)) throw new DataError(`${data}: no such file or folder (use --data synthetic, mnist, fashion_mnist, cifar10, a folder or a .npz file)`, data);
  if (statSync(data).isFile()) {
    if (/\.npz$/i.test(data)) return { kind: 'npz', file: data };
    if (/\.tar\.gz$|\.tgz$/i.test(data)) return { kind: 'cifar10', path: data };
    throw new DataError(`${data}: ConvLens reads .npz files, folders of IDX (MNIST) files or CIFAR-10 batches`, data);
  }
  const hinted = hint ? kerasDatasetName(hint) : undefined;
  if (hinted) return { kind: 'keras', name: hinted, folder: data };
  const idx = findIdxFiles(data);
  if (idx.trainImages && idx.trainLabels) return { kind: 'idx', folder: data };
  if (findCifar10(data)) return { kind: 'cifar10', path: data };
  if (looksLikeImageFolder(data)) {
    const [h, w, c] = inputShape ?? [];
    if (!h || !w || (c !== 1 && c !== 3)) {
      throw new DataError(`${data}: a folder of images per class needs a model whose input is (height, width, 1 or 3 channels)${inputShape ? `, not (${inputShape.join(', ')})` : ''}`, data);
    }
    // Images are resized to the model's input; a fifth of them is the test set.
    return { kind: 'imageFolder', root: data, size: [h, w], channels: c, interpolation: 'area', testFraction: 0.2 };
  }
  throw new DataError(`${data}: found no MNIST-style IDX files (train-images-idx3-ubyte[.gz], …), no CIFAR-10 batches, and no subfolders of PNG/JPEG images (one per class) in this folder`, data);
}

/** Loads the dataset a `--data` value names. */
export async function openDataset(data: string, hint?: string, limit?: { train?: number; test?: number }, inputShape?: readonly number[]): Promise<Dataset> {
  return loadDataset({ ...dataSpec(data, hint, inputShape), limit });
}

/** A folder with at least one subfolder holding PNG or JPEG files (the Keras image_dataset_from_directory layout). */
function looksLikeImageFolder(root: string): boolean {
  try {
    return scanImageFolder(root).files.length > 0;
  } catch {
    return false;
  }
}

/**
 * Checks that a dataset fits a model's input and output: the same values per sample (a
 * (28, 28, 1) image feeds a (784,) input unchanged, as NumPy's reshape would), and one output
 * per class (or one sigmoid output for two classes).
 */
export function checkFit(ds: Dataset, inputShape: readonly number[], outputShape: readonly number[]): string[] {
  const notes: string[] = [];
  const per = ds.shape.reduce((a, b) => a * b, 1);
  const want = inputShape.reduce((a, b) => a * b, 1);
  const shown = (s: readonly number[]) => `(${s.join(', ')})`;
  if (per !== want) {
    throw new DataError(`the model's input is ${shown(inputShape)} (${want} values per sample), but ${ds.name} samples are ${shown(ds.shape)} (${per} values)`);
  }
  if (shown(inputShape) !== shown(ds.shape)) notes.push(`samples of ${shown(ds.shape)} are fed to the model's ${shown(inputShape)} input in the same order (as NumPy's reshape)`);
  const units = outputShape[0];
  if (!(units === ds.numClasses || (units === 1 && ds.numClasses === 2))) {
    throw new DataError(`the model has ${units} output${units === 1 ? '' : 's'}, but ${ds.name} has ${ds.numClasses} classes: the last layer needs ${ds.numClasses === 2 ? '1 (sigmoid) or 2' : ds.numClasses} units`);
  }
  return notes;
}

/**
 * The dataset as the model takes its samples: unchanged for Keras; for a PyTorch model whose input
 * is the dataset's image channels-first, (C, H, W) for the dataset's (H, W, C), the samples are
 * transposed once, as torchvision's ToTensor gives images (a single channel needs no copy), and
 * normalized as the file's `transforms.Normalize` says (a copy: the loaded dataset is cached).
 */
export function datasetForModel(ds: Dataset, plan: Pick<TrainingPlan, 'framework' | 'inputShape' | 'inputNormalization'>): Dataset {
  const shown = channelsLastShape(plan, plan.inputShape);
  if (plan.framework !== 'pytorch' || shown.join() !== ds.shape.join() || plan.inputShape.length !== 3) return ds;
  const move = (set: ImageSet): ImageSet => ({ ...set, x: toModelInput(plan, set.x, plan.inputShape, set.count) });
  const n = plan.inputNormalization;
  const normalization = n ? `${ds.normalization}, then transforms.Normalize: (x − (${n.mean.join(', ')})) / (${n.std.join(', ')})` : ds.normalization;
  return { ...ds, shape: plan.inputShape as [number, number, number], train: move(ds.train), ...(ds.test ? { test: move(ds.test) } : {}), normalization };
}

export type { Dataset, ImageSet };

/**
 * Refuses data holding NaN or infinite values (a float .npy, say): they would make the loss NaN
 * and look like a learning rate problem. The error names the set, the sample and the value.
 */
export function checkFinite(ds: Dataset): void {
  const per = ds.shape[0] * ds.shape[1] * ds.shape[2];
  for (const [name, set] of [['training', ds.train], ['test', ds.test]] as const) {
    if (!set) continue;
    const x = set.x;
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (v - v !== 0) {
        const sample = Math.floor(i / per);
        throw new DataError(
          `${ds.name}: the ${name} data holds ${Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'} at sample ${sample.toLocaleString('en-US')} (value ${(i % per).toLocaleString('en-US')} of its ${per.toLocaleString('en-US')}); ConvLens cannot train on NaN or infinite inputs: clean the data first (e.g. np.nan_to_num)`,
        );
      }
    }
  }
}
