/**
 * NumPy's .npy format (versions 1.0, 2.0 and 3.0): the magic "\x93NUMPY", a version, a header
 * length (uint16 in 1.0, uint32 after), a Python-literal header dict {'descr', 'fortran_order',
 * 'shape'}, then the raw C-order data.
 */
import { bytesToFloat, fmt, normalizationLabel, type PixelScale } from './common';
import { displayName, readDataFile } from './files';
import { DataError, type Dataset, type ImageSet } from './types';

type NpyTyped = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

export interface NpyArray {
  file: string;
  /** The dtype as stored ("|u1", "<f4", …). */
  descr: string;
  shape: number[];
  /** Elements, in C order, as a typed array (|b1 → Uint8Array of 0/1). */
  data: NpyTyped;
  /** Offset of the data after the header. */
  dataOffset: number;
  itemSize: number;
  /** 'u' unsigned, 'i' signed, 'f' float, 'b' bool. */
  kind: 'u' | 'i' | 'f' | 'b';
  /** The header version, "1.0" … "3.0". */
  version: string;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function typedFor(kind: string, size: number): ((b: ArrayBuffer, o: number, n: number) => NpyTyped) | undefined {
  switch (`${kind}${size}`) {
    case 'u1':
    case 'b1':
      return (b, o, n) => new Uint8Array(b, o, n);
    case 'i1':
      return (b, o, n) => new Int8Array(b, o, n);
    case 'u2':
      return (b, o, n) => new Uint16Array(b, o, n);
    case 'i2':
      return (b, o, n) => new Int16Array(b, o, n);
    case 'u4':
      return (b, o, n) => new Uint32Array(b, o, n);
    case 'i4':
      return (b, o, n) => new Int32Array(b, o, n);
    case 'f4':
      return (b, o, n) => new Float32Array(b, o, n);
    case 'f8':
      return (b, o, n) => new Float64Array(b, o, n);
    case 'i8':
      return (b, o, n) => new BigInt64Array(b, o, n);
    case 'u8':
      return (b, o, n) => new BigUint64Array(b, o, n);
    default:
      return undefined;
  }
}

const SUPPORTED = '|u1, |i1, |b1, <u2, <i2, <i4, <u4, <i8, <u8, <f4, <f8 (and their big-endian ">" forms)';

/** Parses a .npy file held in memory. `file` names it in messages (offsets are into `bytes`). */
export function parseNpy(bytes: Uint8Array, file: string): NpyArray {
  const name = displayName(file);
  const fail = (msg: string, at: number): never => {
    throw new DataError(`${name}: ${msg}`, file, at);
  };
  if (bytes.length < 10) fail(`the file ends at byte ${fmt(bytes.length)}, expected at least a 10-byte .npy preamble (magic \\x93NUMPY, version, header length)`, bytes.length);
  for (let i = 0; i < 6; i++) {
    if (bytes[i] !== MAGIC[i]) {
      const seen = Array.from(bytes.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(' ');
      fail(`not a .npy file: bad magic (${seen}) at byte 0, expected 93 4e 55 4d 50 59 ("\\x93NUMPY")`, 0);
    }
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (major < 1 || major > 3) fail(`unsupported .npy format version ${major}.${minor} at byte 6, expected 1.0, 2.0 or 3.0`, 6);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major >= 2 && bytes.length < 12) fail(`the file ends at byte ${fmt(bytes.length)}, expected a 4-byte header length at byte 8 (version ${major}.0)`, bytes.length);
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const dataOffset = headerStart + headerLen;
  if (dataOffset > bytes.length) fail(`the header is ${fmt(headerLen)} bytes from byte ${headerStart}, the file ends at byte ${fmt(bytes.length)}`, bytes.length);
  const header = Buffer.from(bytes.subarray(headerStart, dataOffset)).toString(major === 3 ? 'utf8' : 'latin1');

  const q = `['"]`;
  if (new RegExp(`${q}descr${q}\\s*:\\s*\\[`).test(header)) fail(`structured dtypes (a list 'descr') are not supported; expected a plain ${SUPPORTED}`, headerStart);
  const descrM = new RegExp(`${q}descr${q}\\s*:\\s*${q}([^'"]*)${q}`).exec(header);
  const fortranM = new RegExp(`${q}fortran_order${q}\\s*:\\s*(True|False)`).exec(header);
  const shapeM = new RegExp(`${q}shape${q}\\s*:\\s*\\(([^)]*)\\)`).exec(header);
  if (!descrM || !fortranM || !shapeM) {
    const missing = [!descrM && "'descr'", !fortranM && "'fortran_order'", !shapeM && "'shape'"].filter(Boolean).join(', ');
    fail(`bad header at byte ${headerStart}: missing ${missing} in ${JSON.stringify(header.trim().slice(0, 200))}`, headerStart);
  }
  const descr = descrM![1];
  if (fortranM![1] === 'True') {
    fail(
      `fortran_order is True (column-major data; header at byte ${headerStart}): only C order is supported; save the array with np.save(path, np.ascontiguousarray(a))`,
      headerStart + fortranM!.index,
    );
  }
  const shape: number[] = [];
  for (const part of shapeM![1].split(',')) {
    const t = part.trim().replace(/L$/, '');
    if (t === '') continue;
    if (!/^\d+$/.test(t)) fail(`bad shape (${shapeM![1]}) in the header at byte ${headerStart}`, headerStart + shapeM!.index);
    shape.push(Number(t));
  }

  const dm = /^([<>|=])([uifb])(\d+)$/.exec(descr);
  const make = dm ? typedFor(dm[2], Number(dm[3])) : undefined;
  if (!dm || !make) {
    const hint = /^[<>|=]?O/.test(descr) ? ' (Python objects, pickled)' : /^[<>|=]?[US]/.test(descr) ? ' (strings)' : '';
    return fail(`unsupported dtype '${descr}'${hint} in the header at byte ${headerStart}; supported: ${SUPPORTED}`, headerStart + descrM!.index);
  }
  const kind = dm[2] as NpyArray['kind'];
  const itemSize = Number(dm[3]);
  const bigEndian = dm[1] === '>' || (dm[1] === '=' && !LITTLE_ENDIAN);
  const count = shape.reduce((a, b) => a * b, 1);
  const need = count * itemSize;
  if (dataOffset + need > bytes.length) {
    fail(
      `expected ${fmt(need)} bytes of data after the ${fmt(dataOffset)}-byte header (shape (${shape.join(', ')}) of ${descr}), ${fmt(dataOffset + need)} bytes in all; the file ends at byte ${fmt(bytes.length)}`,
      bytes.length,
    );
  }
  if (dataOffset + need < bytes.length) {
    fail(`${fmt(bytes.length - dataOffset - need)} unexpected bytes after the data, which ends at byte ${fmt(dataOffset + need)} (shape (${shape.join(', ')}) of ${descr})`, dataOffset + need);
  }
  // A typed array needs an aligned offset, and native byte order: copy when either fails.
  let buf = bytes.buffer as ArrayBuffer;
  let off = bytes.byteOffset + dataOffset;
  if (itemSize > 1 && (off % itemSize !== 0 || bigEndian !== !LITTLE_ENDIAN)) {
    const copy = new Uint8Array(need);
    copy.set(bytes.subarray(dataOffset, dataOffset + need));
    if (bigEndian !== !LITTLE_ENDIAN) {
      for (let i = 0; i < need; i += itemSize) copy.subarray(i, i + itemSize).reverse();
    }
    buf = copy.buffer;
    off = 0;
  }
  return { file, descr, shape, data: make(buf, off, count), dataOffset, itemSize, kind, version: `${major}.${minor}` };
}

/**
 * The size a .npy header implies (preamble, header dict, shape × item size): what decompression
 * may produce at most. A damaged preamble needs only the first bytes for its error message.
 */
export function npyClaim(head: Uint8Array): { size: number; what: string } | { need: number } | { prefix: number } {
  if (head.length < 10) return { need: 12 };
  if (!MAGIC.every((b, i) => head[i] === b) || head[6] < 1 || head[6] > 3) return { prefix: 64 };
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (head[6] >= 2 && head.length < 12) return { need: 12 };
  const headerLen = head[6] === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = head[6] === 1 ? 10 : 12;
  if (headerLen > 1 << 20) return { prefix: 64 };
  if (head.length < start + headerLen) return { need: start + headerLen };
  const header = Buffer.from(head.subarray(start, start + headerLen)).toString('latin1');
  const descr = /['"]descr['"]\s*:\s*['"][<>|=]?[uifb](\d+)['"]/.exec(header);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !shape) return { prefix: start + headerLen };
  const dims = shape[1].split(',').map((t) => t.trim().replace(/L$/, '')).filter((t) => t !== '');
  if (!dims.every((t) => /^\d+$/.test(t))) return { prefix: start + headerLen };
  const count = dims.reduce((a, t) => a * Number(t), 1);
  return { size: start + headerLen + count * Number(descr[1]), what: `its .npy header implies (shape (${dims.join(', ')}) of ${descr[1]}-byte items)` };
}

/** Reads and parses a .npy file (gzip-compressed accepted, inflated no further than its header implies). */
export async function readNpy(file: string): Promise<NpyArray> {
  return parseNpy(await readDataFile(file, npyClaim), file);
}

/** A .npy array of images → float32 samples: (N, H, W) → C = 1, (N, H, W, C); integers are scaled, floats kept. */
export function npyToImages(
  arr: NpyArray,
  scale: PixelScale = 'div255',
  sampleShape?: [number, number, number],
): { x: Float32Array; count: number; shape: [number, number, number]; normalization: string } {
  const name = displayName(arr.file);
  const [count, ...rest] = arr.shape;
  let shape: [number, number, number];
  const per = rest.reduce((a, b) => a * b, 1);
  if (sampleShape) {
    if (sampleShape[0] * sampleShape[1] * sampleShape[2] !== per) {
      throw new DataError(`${name}: samples of shape (${rest.join(', ')}) cannot be reshaped to (${sampleShape.join(', ')})`, arr.file);
    }
    shape = [...sampleShape];
  } else if (rest.length === 2) shape = [rest[0], rest[1], 1];
  else if (rest.length === 3) shape = [rest[0], rest[1], rest[2]];
  else {
    throw new DataError(
      `${name}: an image array of shape (${arr.shape.join(', ')}): expected (count, height, width) or (count, height, width, channels)`,
      arr.file,
    );
  }
  if (count === undefined || count === 0) throw new DataError(`${name}: holds no samples (shape (${arr.shape.join(', ')}))`, arr.file);
  let x: Float32Array;
  let normalization: string;
  const d = arr.data;
  if (arr.descr.endsWith('u1') || arr.kind === 'b') {
    x = bytesToFloat(d as Uint8Array, arr.kind === 'b' ? 'none' : scale);
    normalization = arr.kind === 'b' ? 'none (booleans as 0/1)' : normalizationLabel(scale);
  } else if (arr.kind === 'f') {
    x = d instanceof Float32Array ? d.slice() : Float32Array.from(d as Float64Array);
    normalization = `none (${arr.descr} as stored)`;
  } else {
    const div = scale === 'div255' ? 255 : 1;
    x = new Float32Array(d.length);
    if (d instanceof BigInt64Array || d instanceof BigUint64Array) for (let i = 0; i < d.length; i++) x[i] = Number(d[i]) / div;
    else for (let i = 0; i < d.length; i++) x[i] = (d[i] as number) / div;
    normalization = normalizationLabel(scale);
  }
  return { x, count, shape, normalization };
}

/**
 * A .npy array of labels → class indices: (N,) or (N, 1) integers, booleans or integral floats,
 * or (N, K) one-hot rows. Each label must be in 0 … numClasses − 1 (numClasses ≤ 256; inferred
 * as max + 1 when not given). Errors name the byte offset of the bad label.
 */
export function npyToLabels(arr: NpyArray, numClasses?: number): { y: Uint8Array; numClasses: number } {
  const name = displayName(arr.file);
  const shape = arr.shape;
  const d = arr.data;
  const get = d instanceof BigInt64Array || d instanceof BigUint64Array ? (i: number) => Number(d[i]) : (i: number) => (d as Exclude<NpyTyped, BigInt64Array | BigUint64Array>)[i];
  const limit = numClasses ?? 256;
  const range = numClasses === undefined ? '0–255' : `0–${numClasses - 1}`;
  const at = (i: number) => arr.dataOffset + i * arr.itemSize;
  let y: Uint8Array;
  if (shape.length === 1 || (shape.length === 2 && shape[1] === 1)) {
    const n = shape[0];
    y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const v = get(i);
      if (!(v >= 0 && v < limit && Number.isInteger(v))) {
        throw new DataError(`${name}: label ${v} at byte ${fmt(at(i))} (sample ${fmt(i)}) is ${Number.isInteger(v) ? 'outside' : 'not an integer in'} ${range}`, arr.file, at(i));
      }
      y[i] = v;
    }
  } else if (shape.length === 2) {
    const [n, k] = shape;
    if (numClasses !== undefined && k !== numClasses) throw new DataError(`${name}: one-hot labels of shape (${n}, ${k}) for ${numClasses} classes`, arr.file);
    if (k > 256) throw new DataError(`${name}: labels of shape (${n}, ${k}): more than 256 classes`, arr.file);
    y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      let ones = 0;
      for (let c = 0; c < k; c++) {
        const v = get(i * k + c);
        if (v === 1) {
          ones++;
          y[i] = c;
        } else if (v !== 0) {
          ones = 2;
          break;
        }
      }
      if (ones !== 1) {
        throw new DataError(`${name}: row ${fmt(i)} of the (${n}, ${k}) labels (at byte ${fmt(at(i * k))}) is not one-hot: expected a single 1 among 0s`, arr.file, at(i * k));
      }
    }
    return { y, numClasses: numClasses ?? k };
  } else {
    throw new DataError(`${name}: labels of shape (${shape.join(', ')}): expected (count,), (count, 1) or one-hot (count, classes)`, arr.file);
  }
  let max = 0;
  for (let i = 0; i < y.length; i++) if (y[i] > max) max = y[i];
  return { y, numClasses: numClasses ?? max + 1 };
}

/** Images and labels from two .npy arrays → a set (checking the counts agree). */
export function npyPairToSet(
  xArr: NpyArray,
  yArr: NpyArray,
  scale: PixelScale,
  numClasses?: number,
): { set: ImageSet; shape: [number, number, number]; numClasses: number; normalization: string } {
  const images = npyToImages(xArr, scale);
  const labels = npyToLabels(yArr, numClasses);
  if (labels.y.length !== images.count) {
    throw new DataError(`${displayName(yArr.file)} holds ${fmt(labels.y.length)} labels but ${displayName(xArr.file)} holds ${fmt(images.count)} images`, yArr.file);
  }
  return { set: { x: images.x, y: labels.y, count: images.count }, shape: images.shape, numClasses: labels.numClasses, normalization: images.normalization };
}

export interface NpyFilesOptions {
  xTrain: string;
  yTrain: string;
  xTest?: string;
  yTest?: string;
  numClasses?: number;
  classNames?: string[];
  scale?: PixelScale;
  name?: string;
}

/** A dataset from .npy files: x_train / y_train, and optionally x_test / y_test. */
export async function loadNpyFiles(o: NpyFilesOptions): Promise<Dataset> {
  if ((o.xTest === undefined) !== (o.yTest === undefined)) throw new DataError(`give both xTest and yTest, or neither`);
  const files = [o.xTrain, o.yTrain, ...(o.xTest !== undefined ? [o.xTest, o.yTest!] : [])];
  const arrays: NpyArray[] = [];
  for (const f of files) arrays.push(await readNpy(f));
  return assembleNpyDataset(arrays, { ...o, name: o.name ?? `NumPy arrays (${displayName(o.xTrain)})` });
}

/** [x_train, y_train, x_test?, y_test?] arrays → a Dataset. */
export function assembleNpyDataset(arrays: NpyArray[], o: { numClasses?: number; classNames?: string[]; scale?: PixelScale; name: string }): Dataset {
  const scale = o.scale ?? 'div255';
  const numClasses = o.numClasses ?? o.classNames?.length;
  const train = npyPairToSet(arrays[0], arrays[1], scale, numClasses);
  const test = arrays.length >= 4 ? npyPairToSet(arrays[2], arrays[3], scale, numClasses) : undefined;
  if (test && test.shape.join() !== train.shape.join()) {
    throw new DataError(`${displayName(arrays[2].file)} holds samples of shape (${test.shape.join(', ')}) but ${displayName(arrays[0].file)} holds (${train.shape.join(', ')})`, arrays[2].file);
  }
  const classes = Math.max(train.numClasses, test?.numClasses ?? 0);
  return {
    name: o.name,
    shape: train.shape,
    numClasses: classes,
    classNames: o.classNames ?? Array.from({ length: classes }, (_, i) => String(i)),
    train: train.set,
    test: test?.set,
    normalization: train.normalization,
  };
}
