/**
 * CIFAR-10's binary version (cifar-10-binary.tar.gz → cifar-10-batches-bin/): data_batch_1.bin
 * … data_batch_5.bin and test_batch.bin, each a run of 3,073-byte records: 1 label byte, then
 * the 32×32 red plane, green plane and blue plane (1,024 bytes each). Converted to HWC.
 */
import * as path from 'node:path';
import { fmt, normalizationLabel, pixelTable, type PixelScale } from './common';
import { displayName, findFile, isDirectory, readBytes, readDataFile } from './files';
import { readTar } from './tar';
import { DataError, type Dataset, type ImageSet } from './types';

export const CIFAR10_CLASS_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
export const CIFAR_SIDE = 32;
export const CIFAR_PLANE = CIFAR_SIDE * CIFAR_SIDE;
export const CIFAR_RECORD = 1 + 3 * CIFAR_PLANE; // 3,073
export const CIFAR10_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const CIFAR10_TEST_FILE = 'test_batch.bin';
export const CIFAR10_ARCHIVE = 'cifar-10-binary.tar.gz';
export const CIFAR10_BIN_DIR = 'cifar-10-batches-bin';
export const CIFAR10_BINARY_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';

/** Checks a batch file's length and labels; returns its record count. */
export function checkCifarBatch(bytes: Uint8Array, file: string, numClasses = 10): number {
  const name = displayName(file);
  if (bytes.length === 0) throw new DataError(`${name}: empty file, expected records of ${fmt(CIFAR_RECORD)} bytes (1 label byte + 3,072 pixel bytes)`, file, 0);
  const count = Math.floor(bytes.length / CIFAR_RECORD);
  if (bytes.length % CIFAR_RECORD !== 0) {
    throw new DataError(
      `${name}: the file ends at byte ${fmt(bytes.length)}, in the middle of record ${fmt(count)} (which starts at byte ${fmt(count * CIFAR_RECORD)}): ` +
        `expected a whole number of ${fmt(CIFAR_RECORD)}-byte records (1 label byte + 3,072 pixel bytes)`,
      file,
      bytes.length,
    );
  }
  for (let r = 0; r < count; r++) {
    const label = bytes[r * CIFAR_RECORD];
    if (label >= numClasses) {
      const at = r * CIFAR_RECORD;
      throw new DataError(`${name}: label ${label} at byte ${fmt(at)} (record ${fmt(r)}) is outside 0–${numClasses - 1}`, file, at);
    }
  }
  return count;
}

/** Decodes batch files (already checked) into one HWC float32 set. */
export function cifarBatchesToSet(batches: Uint8Array[], scale: PixelScale): ImageSet {
  const total = batches.reduce((s, b) => s + b.length / CIFAR_RECORD, 0);
  const x = new Float32Array(total * 3 * CIFAR_PLANE);
  const y = new Uint8Array(total);
  const lut = pixelTable(scale);
  let n = 0;
  for (const b of batches) {
    const records = b.length / CIFAR_RECORD;
    for (let r = 0; r < records; r++, n++) {
      const base = r * CIFAR_RECORD;
      y[n] = b[base];
      const rp = base + 1;
      const gp = rp + CIFAR_PLANE;
      const bp = gp + CIFAR_PLANE;
      let o = n * 3 * CIFAR_PLANE;
      for (let p = 0; p < CIFAR_PLANE; p++, o += 3) {
        x[o] = lut[b[rp + p]];
        x[o + 1] = lut[b[gp + p]];
        x[o + 2] = lut[b[bp + p]];
      }
    }
  }
  return { x, y, count: total };
}

/** Parses batches.meta.txt: one class name per line (blank lines ignored). */
export function parseBatchesMeta(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

interface CifarSource {
  where: string;
  train: { file: string; bytes: Uint8Array }[];
  test?: { file: string; bytes: Uint8Array };
  meta?: string;
}

async function fromFolder(dir: string): Promise<CifarSource> {
  const trainFiles = CIFAR10_TRAIN_FILES.map((f) => findFile(dir, [f, `${f}.gz`]));
  const testFile = findFile(dir, [CIFAR10_TEST_FILE, `${CIFAR10_TEST_FILE}.gz`]);
  const missing = CIFAR10_TRAIN_FILES.filter((_, i) => trainFiles[i] === undefined);
  if (testFile === undefined) missing.push(CIFAR10_TEST_FILE);
  if (missing.length > 0) {
    throw new DataError(
      `${path.resolve(dir)}: missing ${missing.join(', ')}; expected ${CIFAR10_TRAIN_FILES.join(', ')} and ${CIFAR10_TEST_FILE} (the binary version, ${CIFAR10_BINARY_URL})`,
    );
  }
  const all = [...(trainFiles as string[]), testFile!];
  // One file at a time: six batches inflating at once would hold six streams' buffers.
  const bytes: Buffer[] = [];
  for (const f of all) bytes.push(await readDataFile(f));
  const metaFile = findFile(dir, ['batches.meta.txt']);
  const meta = metaFile === undefined ? undefined : (await readBytes(metaFile)).toString('utf8');
  return {
    where: dir,
    train: bytes.slice(0, 5).map((b, i) => ({ file: all[i], bytes: b })),
    test: { file: all[5], bytes: bytes[5] },
    meta,
  };
}

async function fromArchive(archive: string): Promise<CifarSource> {
  const entries = readTar(await readDataFile(archive), archive);
  const byBase = new Map(entries.map((e) => [e.name.split('/').pop()!, e]));
  const name = displayName(archive);
  const missing = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE].filter((f) => !byBase.has(f));
  if (missing.length > 0) throw new DataError(`${name}: the archive lacks ${missing.join(', ')}; expected the CIFAR-10 binary version (${CIFAR10_BINARY_URL})`, archive);
  const entry = (f: string) => ({ file: `${name}:${f}`, bytes: byBase.get(f)!.data });
  const meta = byBase.get('batches.meta.txt');
  return {
    where: archive,
    train: CIFAR10_TRAIN_FILES.map(entry),
    test: entry(CIFAR10_TEST_FILE),
    meta: meta === undefined ? undefined : Buffer.from(meta.data).toString('utf8'),
  };
}

/** Where CIFAR-10 binary data lies under `folder`: the batches, a cifar-10-batches-bin subfolder, or the .tar.gz. */
export function findCifar10(folder: string): { kind: 'folder' | 'archive'; path: string } | undefined {
  if (findFile(folder, ['data_batch_1.bin', 'data_batch_1.bin.gz']) !== undefined) return { kind: 'folder', path: folder };
  const sub = path.join(folder, CIFAR10_BIN_DIR);
  if (isDirectory(sub)) return { kind: 'folder', path: sub };
  const archive = findFile(folder, [CIFAR10_ARCHIVE, 'cifar-10-binary.tar']);
  if (archive !== undefined) return { kind: 'archive', path: archive };
  return undefined;
}

export interface Cifar10Options {
  scale?: PixelScale;
}

/**
 * Loads CIFAR-10 (binary version) from a folder holding the .bin batches, a
 * cifar-10-batches-bin subfolder, or cifar-10-binary.tar.gz; or from the .tar.gz itself.
 */
export async function loadCifar10(folderOrArchive: string, options: Cifar10Options = {}): Promise<Dataset> {
  const scale = options.scale ?? 'div255';
  const found = isDirectory(folderOrArchive) ? findCifar10(folderOrArchive) : { kind: 'archive' as const, path: folderOrArchive };
  if (found === undefined) {
    throw new DataError(
      `${path.resolve(folderOrArchive)}: no CIFAR-10 binary data: expected ${CIFAR10_TRAIN_FILES.join(', ')} and ${CIFAR10_TEST_FILE}, ` +
        `a ${CIFAR10_BIN_DIR} folder holding them, or ${CIFAR10_ARCHIVE} (${CIFAR10_BINARY_URL})`,
    );
  }
  const src = found.kind === 'folder' ? await fromFolder(found.path) : await fromArchive(found.path);
  let classNames = CIFAR10_CLASS_NAMES;
  if (src.meta !== undefined) {
    const names = parseBatchesMeta(src.meta);
    if (names.length === 10) classNames = names;
  }
  for (const b of [...src.train, ...(src.test ? [src.test] : [])]) checkCifarBatch(b.bytes, b.file, classNames.length);
  const train = cifarBatchesToSet(
    src.train.map((b) => b.bytes),
    scale,
  );
  const test = src.test === undefined ? undefined : cifarBatchesToSet([src.test.bytes], scale);
  return {
    name: `CIFAR-10 (${src.where})`,
    shape: [CIFAR_SIDE, CIFAR_SIDE, 3],
    numClasses: classNames.length,
    classNames: [...classNames],
    train,
    test,
    normalization: normalizationLabel(scale),
  };
}
