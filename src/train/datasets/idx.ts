/**
 * The IDX format of MNIST and Fashion-MNIST: a big-endian magic number 0x000008NN (0x08 =
 * unsigned bytes, NN = number of dimensions), NN big-endian uint32 sizes, then the data.
 * Image files are 0x00000803 (count, rows, cols); label files 0x00000801 (count).
 */
import * as path from 'node:path';
import { bytesToFloat, fmt, hex32, normalizationLabel, type PixelScale } from './common';
import { displayName, findFile, readDataFile } from './files';
import { DataError, type Dataset, type ImageSet } from './types';

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

export const MNIST_CLASS_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
export const FASHION_MNIST_CLASS_NAMES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** The four files of an MNIST-style folder, and the spellings accepted for each. */
export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** `train-images-idx3-ubyte` → itself, `.gz`, and the `train-images.idx3-ubyte` spelling of some mirrors. */
export function idxCandidates(base: string): string[] {
  const dotted = base.replace(/-(idx\d-ubyte)$/, '.$1');
  return [`${base}.gz`, base, `${dotted}.gz`, dotted];
}

/** The IDX file names expected in a folder, for messages. */
export const IDX_FILE_LIST = `${IDX_FILES.trainImages}.gz, ${IDX_FILES.trainLabels}.gz, ${IDX_FILES.testImages}.gz and ${IDX_FILES.testLabels}.gz`;

function describeMagic(bytes: Uint8Array): string {
  const head = Buffer.from(bytes.subarray(0, 64)).toString('latin1').trimStart().toLowerCase();
  if (head.startsWith('<!doctype') || head.startsWith('<html') || head.startsWith('<?xml')) {
    return ' (the file is an HTML/XML page, not data: the download failed)';
  }
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return ' (the file is a zip archive)';
  return '';
}

/**
 * The size an IDX file's header implies (magic, dimension count, sizes): what decompression may
 * produce at most. A wrong magic needs no more than the first bytes for its error message.
 */
export function idxClaim(head: Uint8Array): { size: number; what: string } | { need: number } | { prefix: number } {
  if (head.length < 4) return { need: 4 };
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const magic = dv.getUint32(0, false);
  if (magic >>> 8 !== 0x08) return { prefix: 64 };
  const ndims = magic & 0xff;
  if (head.length < 4 + 4 * ndims) return { need: 4 + 4 * ndims };
  let total = 1;
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) {
    dims.push(dv.getUint32(4 + 4 * d, false));
    total *= dims[d];
  }
  return { size: 4 + 4 * ndims + total, what: `its IDX header implies (${dims.map(fmt).join(' × ')} bytes after a ${4 + 4 * ndims}-byte header)` };
}

/** The parsed header and data (a view) of an IDX file of unsigned bytes. */
export interface IdxArray {
  dims: number[];
  /** The data bytes, a view after the header. */
  data: Uint8Array;
  /** Byte offset of the data in the (decompressed) file. */
  dataOffset: number;
}

/**
 * Parses an IDX file of unsigned bytes whose magic must be `expectedMagic` (0x00000803 images,
 * 0x00000801 labels). `file` names the file in messages; offsets are in the decompressed bytes.
 */
export function parseIdx(bytes: Uint8Array, file: string, expectedMagic: number): IdxArray {
  const name = displayName(file);
  const kind = expectedMagic === IDX_IMAGES_MAGIC ? 'an IDX image file' : expectedMagic === IDX_LABELS_MAGIC ? 'an IDX label file' : 'an IDX file';
  if (bytes.length < 4) {
    throw new DataError(`${name}: the file ends at byte ${fmt(bytes.length)}, expected a 4-byte magic number ${hex32(expectedMagic)} for ${kind}`, file, bytes.length);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint32(0, false);
  if (magic !== expectedMagic) {
    let hint = describeMagic(bytes);
    if (!hint && magic === IDX_LABELS_MAGIC) hint = ' (this is an IDX label file)';
    else if (!hint && magic === IDX_IMAGES_MAGIC) hint = ' (this is an IDX image file)';
    else if (!hint && magic >>> 16 === 0 && ((magic >>> 8) & 0xff) !== 0x08 && ((magic >>> 8) & 0xff) >= 0x09 && ((magic >>> 8) & 0xff) <= 0x0e) {
      hint = ' (an IDX file of another element type: only unsigned bytes, type 0x08, are supported)';
    }
    throw new DataError(`${name}: bad magic ${hex32(magic)} at byte 0, expected ${hex32(expectedMagic)} for ${kind}${hint}`, file, 0);
  }
  const ndims = magic & 0xff;
  const headerLen = 4 + 4 * ndims;
  if (bytes.length < headerLen) {
    throw new DataError(
      `${name}: the file ends at byte ${fmt(bytes.length)} inside the header, expected ${headerLen} header bytes (${ndims} dimension sizes)`,
      file,
      bytes.length,
    );
  }
  const dims: number[] = [];
  let total = 1;
  for (let d = 0; d < ndims; d++) {
    const v = dv.getUint32(4 + 4 * d, false);
    if (v === 0) throw new DataError(`${name}: dimension ${d} is 0 (at byte ${4 + 4 * d}), expected a positive size`, file, 4 + 4 * d);
    dims.push(v);
    total *= v;
  }
  const expectedLen = headerLen + total;
  const what = expectedMagic === IDX_IMAGES_MAGIC && ndims === 3 ? `(${fmt(dims[0])} images of ${dims[1]}×${dims[2]})` : `(${dims.map(fmt).join(' × ')})`;
  const noun = expectedMagic === IDX_LABELS_MAGIC ? 'labels' : 'pixels';
  if (bytes.length < expectedLen) {
    throw new DataError(
      `${name}: expected ${fmt(total)} bytes of ${noun} after the ${headerLen}-byte header ${what}, ${fmt(expectedLen)} bytes in all; the file ends at byte ${fmt(bytes.length)}` +
        (isGzipName(file) ? ' (after decompression)' : ''),
      file,
      bytes.length,
    );
  }
  if (bytes.length > expectedLen) {
    throw new DataError(
      `${name}: ${fmt(bytes.length - expectedLen)} unexpected bytes after the data: the header ${what} accounts for ${fmt(expectedLen)} bytes, the file has ${fmt(bytes.length)} (extra data from byte ${fmt(expectedLen)})`,
      file,
      expectedLen,
    );
  }
  return { dims, data: bytes.subarray(headerLen, expectedLen), dataOffset: headerLen };
}

function isGzipName(file: string): boolean {
  return file.toLowerCase().endsWith('.gz');
}

/** Checks that each label is below `numClasses`; the error names the byte offset. */
export function checkLabels(labels: Uint8Array, numClasses: number, file: string, dataOffset: number, itemSize = 1): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= numClasses) {
      const at = dataOffset + i * itemSize;
      throw new DataError(
        `${displayName(file)}: label ${labels[i]} at byte ${fmt(at)} (sample ${fmt(i)}) is outside 0–${numClasses - 1}`,
        file,
        at,
      );
    }
  }
}

/** Parses an IDX image file (3 dims) and its label file into a float32 set. */
export function idxToImageSet(
  imageBytes: Uint8Array,
  imageFile: string,
  labelBytes: Uint8Array,
  labelFile: string,
  numClasses: number,
  scale: PixelScale,
): { set: ImageSet; rows: number; cols: number } {
  const images = parseIdx(imageBytes, imageFile, IDX_IMAGES_MAGIC);
  if (images.dims.length !== 3) {
    throw new DataError(`${displayName(imageFile)}: expected 3 dimensions (count, rows, cols), the header has ${images.dims.length}`, imageFile, 3);
  }
  const labels = parseIdx(labelBytes, labelFile, IDX_LABELS_MAGIC);
  if (labels.dims.length !== 1) {
    throw new DataError(`${displayName(labelFile)}: expected 1 dimension (count), the header has ${labels.dims.length}`, labelFile, 3);
  }
  const [count, rows, cols] = images.dims;
  if (labels.dims[0] !== count) {
    throw new DataError(
      `${displayName(labelFile)} holds ${fmt(labels.dims[0])} labels but ${displayName(imageFile)} holds ${fmt(count)} images`,
      labelFile,
      4,
    );
  }
  checkLabels(labels.data, numClasses, labelFile, labels.dataOffset);
  const x = bytesToFloat(images.data, scale);
  return { set: { x, y: new Uint8Array(labels.data), count }, rows, cols };
}

export interface IdxFolderOptions {
  /** The dataset's name in summaries ("MNIST", "Fashion-MNIST"); default "MNIST". */
  label?: string;
  classNames?: string[];
  scale?: PixelScale;
}

/** The IDX files found in a folder (undefined where absent). */
export function findIdxFiles(folder: string): Record<keyof typeof IDX_FILES, string | undefined> {
  return {
    trainImages: findFile(folder, idxCandidates(IDX_FILES.trainImages)),
    trainLabels: findFile(folder, idxCandidates(IDX_FILES.trainLabels)),
    testImages: findFile(folder, idxCandidates(IDX_FILES.testImages)),
    testLabels: findFile(folder, idxCandidates(IDX_FILES.testLabels)),
  };
}

/**
 * Loads an MNIST-style folder: train-images-idx3-ubyte(.gz) and train-labels-idx1-ubyte(.gz),
 * plus the t10k pair for the test set. The files are read one at a time, each decompressed no
 * further than its header implies.
 */
export async function loadIdxFolder(folder: string, options: IdxFolderOptions = {}): Promise<Dataset> {
  const found = findIdxFiles(folder);
  const missing = (Object.keys(IDX_FILES) as (keyof typeof IDX_FILES)[]).filter((k) => found[k] === undefined).map((k) => `${IDX_FILES[k]}(.gz)`);
  const testPresent = found.testImages !== undefined || found.testLabels !== undefined;
  if (found.trainImages === undefined || found.trainLabels === undefined || (testPresent && missing.length > 0)) {
    throw new DataError(`${path.resolve(folder)}: missing ${missing.join(', ')}; expected ${IDX_FILE_LIST}`);
  }
  const classNames = options.classNames ?? MNIST_CLASS_NAMES;
  const scale = options.scale ?? 'div255';
  const files = [found.trainImages, found.trainLabels, found.testImages, found.testLabels];
  const read = async (f: string | undefined) => (f === undefined ? undefined : readDataFile(f, idxClaim));
  const train = idxToImageSet((await read(files[0]))!, files[0]!, (await read(files[1]))!, files[1]!, classNames.length, scale);
  const testImages = await read(files[2]);
  const test = testImages === undefined ? undefined : idxToImageSet(testImages, files[2]!, (await read(files[3]))!, files[3]!, classNames.length, scale);
  if (test !== undefined && (test.rows !== train.rows || test.cols !== train.cols)) {
    throw new DataError(
      `${displayName(files[2]!)} holds ${test.rows}×${test.cols} images but ${displayName(files[0]!)} holds ${train.rows}×${train.cols}`,
      files[2],
      8,
    );
  }
  return {
    name: `${options.label ?? 'MNIST'} (${folder})`,
    shape: [train.rows, train.cols, 1],
    numClasses: classNames.length,
    classNames: [...classNames],
    train: train.set,
    test: test?.set,
    normalization: normalizationLabel(scale),
  };
}
