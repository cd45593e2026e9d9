/**
 * The parts of an exported PyTorch file that do not depend on the model: Keras weights ↔ the
 * module's state, ConvLens checkpoints (format 2) read and written with their checks, the data
 * formats ConvLens reads with its preprocessing, Keras' optimizers, fit()'s callbacks and
 * schedules, and the torch.distributed training loop. Python source, assembled by pytorch.ts;
 * each part mirrors the TypeScript it is named after, so a run of the exported script and a run
 * of `convlens train` treat the data and the weights the same way.
 */

/** Keras layouts ↔ PyTorch layouts, Keras' initialisers, and checkpoint files (core/train/checkpoint.ts). */
export const WEIGHTS_CODE = String.raw`
# ---------------------------------------------------------------------------------------------
# Keras weights <-> this module's state, and ConvLens checkpoints


class CheckpointError(Exception):
    """A checkpoint that cannot be used: the file, the byte and what is wrong."""


def keras_to_torch(w, value):
    """A weight in Keras' layout (as ConvLens' checkpoints hold it) in this module's layout."""
    value = value.reshape(w.shape)
    if w.perm is not None:
        value = value.permute(*w.perm)
    if w.reshape is not None:
        value = value.reshape(w.reshape)
    return value.contiguous()


def torch_to_keras(w, value):
    """The inverse of keras_to_torch: this module's tensor in Keras' layout."""
    if w.reshape is not None:
        value = value.reshape([w.shape[p] for p in w.perm])
    if w.perm is not None:
        inverse = [0] * len(w.perm)
        for i, p in enumerate(w.perm):
            inverse[p] = i
        value = value.permute(*inverse)
    return value.contiguous()


def initial_value(w, generator):
    """Keras' initialiser of a weight, drawn in Keras' layout (fans as Keras computes them)."""
    fan_in, fan_out = w.fans
    if w.init == "zeros":
        return torch.zeros(w.shape)
    if w.init == "ones":
        return torch.ones(w.shape)

    def uniform(limit):
        return (torch.rand(w.shape, generator=generator) * 2 - 1) * limit

    def truncated(stddev):
        # Keras' truncated normal: redrawn beyond two standard deviations.
        v = torch.randn(w.shape, generator=generator)
        while True:
            outside = v.abs() > 2
            count = int(outside.sum())
            if count == 0:
                return v * stddev
            v[outside] = torch.randn(count, generator=generator)

    correction = 0.8796256610342398  # restores the variance the truncation removes
    if w.init == "glorot_uniform":
        return uniform(math.sqrt(6 / (fan_in + fan_out)))
    if w.init == "glorot_normal":
        return truncated(math.sqrt(2 / (fan_in + fan_out)) / correction)
    if w.init == "he_uniform":
        return uniform(math.sqrt(6 / fan_in))
    if w.init == "he_normal":
        return truncated(math.sqrt(2 / fan_in) / correction)
    if w.init == "lecun_uniform":
        return uniform(math.sqrt(3 / fan_in))
    if w.init == "lecun_normal":
        return truncated(math.sqrt(1 / fan_in) / correction)
    if w.init == "random_uniform":
        return uniform(0.05)
    if w.init == "random_normal":
        return torch.randn(w.shape, generator=generator) * 0.05
    if w.init == "truncated_normal":
        return truncated(0.05)
    raise ValueError(f"unknown initialiser {w.init!r}")


@torch.no_grad()
def keras_initialize(model, seed):
    """Every weight from its Keras initialiser (glorot_uniform kernels, zero biases unless the
    model file says otherwise), drawn from one seeded generator: the same on every process."""
    generator = torch.Generator().manual_seed(seed)
    state = model.state_dict()
    for w in KERAS_WEIGHTS:
        state[w.torch].copy_(keras_to_torch(w, initial_value(w, generator)))


CHECKPOINT_MAGIC = b"CLCKPT\r\n"
MAX_CHECKPOINT_BYTES = 8 * 1024 ** 3


def _align8(n):
    return (n + 7) // 8 * 8


def read_convlens_checkpoint(path):
    """Reads a ConvLens checkpoint (format 2, or 1) with every check ConvLens makes: the
    signature, the header's and the data's CRC-32, each field before it is used, each tensor's
    CRC-32. Returns (header, {weight name: float32 tensor in Keras' layout}); optimizer slots
    are not returned. Raises CheckpointError naming the file and the byte that is wrong."""

    def fail(message, byte=None):
        raise CheckpointError(f"{path}: {'' if byte is None else f'byte {byte}: '}{message}")

    try:
        st = os.stat(path)
    except FileNotFoundError:
        fail("no such file")
    except OSError as e:
        fail(e.strerror or str(e))
    if stat.S_ISDIR(st.st_mode):
        fail("is a folder, not a checkpoint file (a run folder holds best.ckpt and last.ckpt)")
    if not stat.S_ISREG(st.st_mode):
        fail("is not a regular file (a device, a pipe or a socket), so it is not a checkpoint")
    if st.st_size > MAX_CHECKPOINT_BYTES:
        fail(f"is {st.st_size} bytes, larger than any checkpoint ConvLens writes")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        fail(e.strerror or str(e))
    n = len(data)
    if n < 16:
        fail(f"file is truncated: {n} bytes, the fixed header alone is 16 (it ends at byte {n})", n)
    for i in range(8):
        if data[i] != CHECKPOINT_MAGIC[i]:
            fail(f"not a ConvLens checkpoint: byte {i} is 0x{data[i]:02x}, expected the signature \"CLCKPT\\r\\n\" at bytes 0-7", i)
    version, header_length = struct.unpack_from("<II", data, 8)
    start = {1: 16, 2: 24}.get(version)
    if start is None:
        fail(f"checkpoint format version {version} (bytes 8-11) is not supported: this script reads versions 1 and 2", 8)
    if n < start:
        fail(f"file is truncated: the fixed header is {start} bytes, but the file ends at byte {n}", n)
    if start + header_length > n:
        fail(f"file is truncated: the header needs bytes {start}-{start + header_length - 1}, but the file ends at byte {n}", n)
    raw = data[start:start + header_length]
    if version >= 2 and zlib.crc32(raw, zlib.crc32(data[:16])) != struct.unpack_from("<I", data, 16)[0]:
        fail(f"the header (bytes 0-15 and {start}-{start + header_length - 1}) is corrupt: its CRC-32 (bytes 16-19) does not match", 16)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        fail(f"the header at bytes {start}-{start + header_length - 1} is not valid JSON ({e})", start)
    where = f"the header at bytes {start}-{start + header_length - 1} is not a valid ConvLens checkpoint header"
    if not isinstance(header, dict) or header.get("format") != "convlens-checkpoint":
        fail(f'{where}: it has no "format": "convlens-checkpoint"', start)
    if header.get("version") != version:
        fail(f"the header says version {header.get('version')} but bytes 8-11 say {version}", 8)
    data_bytes = header.get("dataBytes")
    tensors = header.get("tensors")
    if not isinstance(data_bytes, int) or isinstance(data_bytes, bool) or data_bytes < 0:
        fail(f'{where}: "dataBytes" is not a whole number >= 0', start)
    if not isinstance(tensors, list):
        fail(f'{where}: "tensors" is not a list', start)
    data_start = _align8(start + header_length)
    if data_start + data_bytes > n:
        fail(f"file is truncated: it should be {data_start + data_bytes} bytes but ends at byte {n}", n)
    if data_start + data_bytes < n:
        fail(f"{where}: the data section should end at byte {data_start + data_bytes}, but the file goes on to byte {n}", start)
    for i in range(start + header_length, data_start):
        if data[i] != 0:
            fail(f"byte {i} (padding between the header and the data) is 0x{data[i]:02x}, expected 0: the file is corrupt", i)
    section = data[data_start:data_start + data_bytes]
    data_ok = version < 2 or zlib.crc32(section) == struct.unpack_from("<I", data, 20)[0]
    weights, names, spans = {}, set(), []
    for i, t in enumerate(tensors):
        if not isinstance(t, dict):
            fail(f"{where}: tensor {i} is not an object", start)
        name = t.get("name")
        who = f"tensor '{name}'" if isinstance(name, str) else f"tensor {i}"
        shape, offset, crc = t.get("shape"), t.get("offset"), t.get("crc32")
        if not isinstance(name, str) or not name or len(name) > 1024:
            fail(f"{where}: {who} has no valid name", start)
        if name in names:
            fail(f"{where}: {who} appears twice", start)
        names.add(name)
        if t.get("kind") not in ("weight", "slot"):
            fail(f"{where}: {who} has kind {json.dumps(t.get('kind'))}, expected \"weight\" or \"slot\"", start)
        if not isinstance(shape, list) or len(shape) > 8 or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 2 ** 31 for d in shape):
            fail(f"{where}: {who} has an invalid shape {json.dumps(shape)}", start)
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0 or offset % 8:
            fail(f"{where}: {who} has an invalid offset {json.dumps(offset)} (a multiple of 8 is expected)", start)
        count = math.prod(shape)
        size = 4 * count
        if offset + size > data_bytes:
            fail(f"{where}: {who} ({size} bytes from offset {offset}) lies beyond the {data_bytes}-byte data section", start)
        if not isinstance(crc, int) or isinstance(crc, bool) or not 0 <= crc <= 0xFFFFFFFF:
            fail(f"{where}: {who} has an invalid CRC-32", start)
        spans.append((offset, offset + size, name))
        blob = section[offset:offset + size]
        if (not data_ok or version < 2) and zlib.crc32(blob) != crc:
            at = data_start + offset
            fail(f"{who} (bytes {at}-{at + size - 1}) is corrupt: its CRC-32 does not match", at)
        if t["kind"] == "weight":
            values = array.array("f")
            values.frombytes(blob)
            if sys.byteorder != "little":
                values.byteswap()
            weights[name] = torch.frombuffer(values, dtype=torch.float32).clone().reshape(shape) if count else torch.zeros(shape)
    spans.sort()
    for a, b in zip(spans, spans[1:]):
        if b[0] < a[1]:
            fail(f"{where}: tensors '{a[2]}' and '{b[2]}' overlap", start)
    if not data_ok:
        fail(f"the data section (bytes {data_start}-{data_start + data_bytes - 1}) is corrupt: its CRC-32 (bytes 20-23) does not match (the damage is outside every tensor)", data_start)
    return header, weights


def _shape_text(shape):
    return "x".join(str(d) for d in shape) or "scalar"


@torch.no_grad()
def load_convlens_checkpoint(model, path):
    """Loads a ConvLens checkpoint's weights into the model (Keras layouts converted); refuses a
    checkpoint of another architecture, naming what differs. Returns the checkpoint's header."""
    header, weights = read_convlens_checkpoint(path)
    problems = []
    expected = {w.keras: w for w in KERAS_WEIGHTS}
    for w in KERAS_WEIGHTS:
        value = weights.get(w.keras)
        if value is None:
            problems.append(f"it has no '{w.keras}'")
        elif tuple(value.shape) != tuple(w.shape):
            problems.append(f"'{w.keras}' is {_shape_text(value.shape)} there but {_shape_text(w.shape)} in this model")
    problems += [f"it holds a weight this model does not have: '{name}'" for name in weights if name not in expected]
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise CheckpointError(f"{path} does not belong to '{MODEL_NAME}' as exported here: {'; '.join(problems[:3])}{more}")
    fingerprint = header.get("fingerprint")
    if header.get("version", 1) >= 2 and fingerprint != ARCHITECTURE_FINGERPRINT:
        raise CheckpointError(
            f"{path} was trained with another architecture of '{header.get('model')}' ({fingerprint}) than this file's "
            f"({ARCHITECTURE_FINGERPRINT}): its weights have the same names and shapes, but layer settings differ. "
            f"'convlens export MODEL.py --weights {path} --to pytorch' names the differences"
        )
    state = model.state_dict()
    for w in KERAS_WEIGHTS:
        state[w.torch].copy_(keras_to_torch(w, weights[w.keras]))
    return header


def write_atomic(path, data):
    """Writes bytes to path through a temporary file in the same folder: a kill at any moment
    leaves the previous file or the new one, never half of one."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _finite_or_none(v):
    return float(v) if v is not None and math.isfinite(v) else None


@torch.no_grad()
def convlens_checkpoint_bytes(model, epoch, step, metrics, monitor, mode, best, seed, learning_rate):
    """The model's weights as a ConvLens checkpoint (format 2, weights only, Keras layouts):
    'convlens export MODEL.py --weights FILE' and the feature-map panel read it."""
    state = model.state_dict()
    blobs, tensors, offset = [], [], 0
    for w in KERAS_WEIGHTS:
        value = torch_to_keras(w, state[w.torch].detach().to("cpu", torch.float32))
        values = array.array("f", value.reshape(-1).tolist())
        if sys.byteorder != "little":
            values.byteswap()
        raw = values.tobytes()
        tensors.append({"name": w.keras, "kind": "weight", "shape": list(w.shape), "offset": offset, "crc32": zlib.crc32(raw)})
        blobs.append((offset, raw))
        offset = _align8(offset + len(raw))
    header = {
        "format": "convlens-checkpoint",
        "version": 2,
        "model": MODEL_NAME,
        "fingerprint": ARCHITECTURE_FINGERPRINT,
        "architecture": ARCHITECTURE,
        "epoch": epoch,
        "batch": 0,
        "step": step,
        "monitor": monitor,
        "mode": mode,
        "best": _finite_or_none(best),
        "metrics": {k: _finite_or_none(v) for k, v in metrics.items()},
        "optimizer": OPTIMIZER,
        "seed": seed,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "dataBytes": offset,
        "tensors": tensors,
    }
    if learning_rate != OPTIMIZER["learningRate"] and learning_rate > 0:
        header["learningRate"] = learning_rate
    text = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    data_start = _align8(24 + len(text))
    out = bytearray(data_start + offset)
    out[0:8] = CHECKPOINT_MAGIC
    struct.pack_into("<II", out, 8, 2, len(text))
    out[24:24 + len(text)] = text
    for at, raw in blobs:
        out[data_start + at:data_start + at + len(raw)] = raw
    struct.pack_into("<I", out, 16, zlib.crc32(text, zlib.crc32(bytes(out[:16]))))
    struct.pack_into("<I", out, 20, zlib.crc32(bytes(out[data_start:])))
    return bytes(out)
`;

/** Readers of the data formats ConvLens reads (src/train/datasets/*), with its preprocessing. */
export const DATA_CODE = String.raw`
# ---------------------------------------------------------------------------------------------
# Data: the formats ConvLens reads, preprocessed as ConvLens does (src/train/datasets/)


class DataError(Exception):
    """Data that cannot be used: the file, the byte and what is wrong."""


class Dataset:
    """Images as float32 (count, height, width, channels), channels last, and int64 labels."""

    def __init__(self, name, train, test, classes, class_names=None):
        self.name, self.train, self.test, self.classes = name, train, test, classes
        self.class_names = class_names or [str(i) for i in range(classes)]


# uint8 -> float32 exactly as ConvLens does it: float32(i / 255), computed in double precision.
DIV255 = torch.tensor([i / 255 for i in range(256)], dtype=torch.float32)


def _bytes_to_images(raw, shape):
    pixels = torch.frombuffer(bytearray(raw), dtype=torch.uint8).long() if raw else torch.zeros(0, dtype=torch.long)
    return DIV255[pixels].reshape(shape)


def _is_gzip(path):
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def _find_idx(folder, base):
    dotted = re.sub(r"-(idx\d-ubyte)$", r".\1", base)
    for name in (base + ".gz", base, dotted + ".gz", dotted):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    return None


def _read_idx(path, ndims):
    """An IDX file of unsigned bytes (raw or .gz): its sizes and data, never more than its header claims."""
    name = os.path.basename(path)
    try:
        with (gzip.open(path, "rb") if _is_gzip(path) else open(path, "rb")) as f:
            head = f.read(4)
            if len(head) < 4:
                raise DataError(f"{name}: byte {len(head)}: file is truncated inside the 4-byte IDX header")
            magic = int.from_bytes(head, "big")
            if magic != 0x800 + ndims:
                raise DataError(f"{name}: byte 0: magic number 0x{magic:08x}, expected 0x{0x800 + ndims:08x} (IDX unsigned bytes, {ndims} dimension{'s' if ndims > 1 else ''})")
            dims = struct.unpack(f">{ndims}I", f.read(4 * ndims).ljust(4 * ndims, b"\0"))
            size = math.prod(dims)
            body = f.read(size)
            if len(body) < size:
                raise DataError(f"{name}: byte {4 + 4 * ndims + len(body)}: file is truncated: its header promises {size} bytes of data ({' x '.join(map(str, dims))})")
            if f.read(1):
                raise DataError(f"{name}: byte {4 + 4 * ndims + size}: unexpected bytes after the {size} bytes its header promises")
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{name}: cannot be read ({e})")
    return dims, body


def load_idx_folder(folder, class_names=None):
    """MNIST / Fashion-MNIST IDX files (train-images-idx3-ubyte[.gz], …) in a folder."""
    paths = {k: _find_idx(folder, v) for k, v in IDX_FILES.items()}
    if not paths["train_images"] or not paths["train_labels"]:
        raise DataError(f"{folder}: no {IDX_FILES['train_images']}[.gz] and {IDX_FILES['train_labels']}[.gz]")

    def load(images, labels):
        (count, rows, cols), pixels = _read_idx(images, 3)
        (n,), raw = _read_idx(labels, 1)
        if n != count:
            raise DataError(f"{os.path.basename(labels)} holds {n} labels but {os.path.basename(images)} holds {count} images")
        return _bytes_to_images(pixels, (count, rows, cols, 1)), torch.frombuffer(bytearray(raw), dtype=torch.uint8).long() if raw else torch.zeros(0, dtype=torch.long)

    train = load(paths["train_images"], paths["train_labels"])
    test = load(paths["test_images"], paths["test_labels"]) if paths["test_images"] and paths["test_labels"] else None
    classes = int(max(train[1].max(), test[1].max() if test else 0)) + 1 if len(train[1]) else 0
    return Dataset(f"IDX files ({folder})", train, test, max(classes, len(class_names or [])), class_names)


CIFAR_RECORD = 3073
CIFAR_TRAIN = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"]
CIFAR_TEST = "test_batch.bin"
CIFAR10_CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _cifar_batches(raws):
    """CIFAR-10 binary records (1 label byte, then the red, green and blue 32x32 planes) -> HWC images."""
    for name, raw in raws:
        if len(raw) == 0 or len(raw) % CIFAR_RECORD:
            raise DataError(f"{name}: {len(raw)} bytes is not a whole number of {CIFAR_RECORD}-byte records (1 label byte + 3,072 pixel bytes)")
    raw = b"".join(r for _, r in raws)
    records = torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(-1, CIFAR_RECORD)
    labels = records[:, 0].long()
    bad = (labels >= 10).nonzero()
    if len(bad):
        i = int(bad[0])
        raise DataError(f"label {int(labels[i])} of record {i} is outside 0-9")
    planes = records[:, 1:].reshape(-1, 3, 32, 32).permute(0, 2, 3, 1).contiguous()
    return DIV255[planes.long()], labels


def load_cifar10(path):
    """CIFAR-10's binary version: a folder of data_batch_*.bin and test_batch.bin (or its
    cifar-10-batches-bin subfolder), or the cifar-10-binary.tar.gz archive."""
    files, meta = {}, None
    if os.path.isfile(path):
        try:
            with tarfile.open(path, "r:*") as tar:
                for m in tar.getmembers():
                    base = os.path.basename(m.name)
                    if m.isfile() and (base in CIFAR_TRAIN or base == CIFAR_TEST or base == "batches.meta.txt"):
                        if m.size > 64 * 1024 * 1024:
                            raise DataError(f"{path}: {m.name} claims {m.size} bytes, more than a CIFAR-10 batch")
                        files[base] = (m.name, tar.extractfile(m).read())
        except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
            raise DataError(f"{path}: cannot be read as a .tar.gz archive ({e})")
    else:
        folder = path
        if not os.path.isfile(os.path.join(folder, CIFAR_TRAIN[0])) and os.path.isdir(os.path.join(folder, "cifar-10-batches-bin")):
            folder = os.path.join(folder, "cifar-10-batches-bin")
        for base in CIFAR_TRAIN + [CIFAR_TEST, "batches.meta.txt"]:
            p = os.path.join(folder, base)
            if os.path.isfile(p):
                with open(p, "rb") as f:
                    files[base] = (p, f.read())
    missing = [b for b in CIFAR_TRAIN if b not in files]
    if missing:
        raise DataError(f"{path}: no CIFAR-10 binary batches {', '.join(missing)}")
    if "batches.meta.txt" in files:
        names = [line.strip() for line in files["batches.meta.txt"][1].decode("utf-8", "replace").splitlines() if line.strip()]
    else:
        names = []
    names = names if len(names) == 10 else CIFAR10_CLASS_NAMES
    train = _cifar_batches([files[b] for b in CIFAR_TRAIN])
    test = _cifar_batches([files[CIFAR_TEST]]) if CIFAR_TEST in files else None
    return Dataset(f"CIFAR-10 ({path})", train, test, 10, names)


def _npy_images(a, name):
    import numpy as np

    if a.ndim == 3:
        a = a[..., None]
    if a.ndim != 4 or len(a) == 0:
        raise DataError(f"{name}: an image array of shape {a.shape}: expected (count, height, width) or (count, height, width, channels)")
    if a.dtype == np.uint8:
        return DIV255[torch.from_numpy(np.ascontiguousarray(a)).long()]
    if a.dtype == np.bool_:
        return torch.from_numpy(a.astype(np.float32))
    if a.dtype.kind == "f":
        return torch.from_numpy(a.astype(np.float32))
    if a.dtype.kind in "iu":
        return torch.from_numpy(a.astype(np.float64) / 255).float()
    raise DataError(f"{name}: unsupported dtype {a.dtype}")


def _npy_labels(a, name):
    import numpy as np

    if a.ndim == 2 and a.shape[1] > 1:
        ones = (a == 1).sum(axis=1)
        if not ((ones == 1) & ((a == 0) | (a == 1)).all(axis=1)).all():
            raise DataError(f"{name}: labels of shape {a.shape} are not one-hot rows")
        return torch.from_numpy(a.argmax(axis=1).astype(np.int64)), a.shape[1]
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise DataError(f"{name}: labels of shape {a.shape}: expected (count,), (count, 1) or one-hot (count, classes)")
    v = a.astype(np.float64)
    bad = np.nonzero((v < 0) | (v > 255) | (v != np.floor(v)))[0]
    if len(bad):
        raise DataError(f"{name}: label {a[bad[0]]} (sample {bad[0]}) is not an integer in 0-255")
    labels = torch.from_numpy(v.astype(np.int64))
    return labels, int(labels.max()) + 1 if len(labels) else 0


def load_npz(path, class_names=None):
    """A NumPy .npz archive with x_train, y_train (and x_test, y_test), as Keras' caches hold them."""
    try:
        import numpy as np
    except ImportError:
        raise DataError(f"{path}: reading .npz files needs NumPy (pip install numpy)")
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = set(z.files)
            missing = [k for k in ("x_train", "y_train") if k not in keys]
            if missing:
                raise DataError(f"{path}: no {', '.join(missing)} array; it holds {', '.join(sorted(keys)) or 'nothing'} (expected x_train, y_train, x_test, y_test)")
            arrays = {k: z[k] for k in ("x_train", "y_train", "x_test", "y_test") if k in keys}
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise DataError(f"{path}: cannot be read as a NumPy .npz archive ({e})")

    def pair(x, y):
        images = _npy_images(arrays[x], f"{path}:{x}")
        labels, classes = _npy_labels(arrays[y], f"{path}:{y}")
        if len(labels) != len(images):
            raise DataError(f"{path}: {y} holds {len(labels)} labels but {x} holds {len(images)} images")
        return (images, labels), classes

    train, classes = pair("x_train", "y_train")
    test, test_classes = pair("x_test", "y_test") if "x_test" in arrays and "y_test" in arrays else (None, 0)
    return Dataset(f"{os.path.basename(path)} ({path})", train, test, max(classes, test_classes, len(class_names or [])), class_names)


def _mulberry32(seed):
    """ConvLens' seeded generator (src/core/train/random.ts): the same stream for the same seed."""
    state = [seed & 0xFFFFFFFF]

    def imul(a, b):
        return (a * b) & 0xFFFFFFFF

    def next_value():
        state[0] = (state[0] + 0x6D2B79F5) & 0xFFFFFFFF
        t = state[0]
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    return next_value


def _shuffle(items, rng):
    """Fisher-Yates with ConvLens' draws, in place."""
    for i in range(len(items) - 1, 0, -1):
        j = math.floor(rng() * (i + 1))
        items[i], items[j] = items[j], items[i]
    return items


def _resize_taps(size, out, mode):
    """The (out x size) resampling matrix of ConvLens' image-folder reader: 'area' averages the
    source pixels each output pixel covers, 'bilinear' uses half-pixel centres without antialiasing."""
    taps = torch.zeros(out, size, dtype=torch.float64)
    scale = size / out
    for o in range(out):
        if mode == "bilinear":
            s = min(max((o + 0.5) * scale - 0.5, 0), size - 1)
            i0 = math.floor(s)
            f = s - i0
            taps[o, i0] += 1 - f
            if f > 0 and i0 + 1 < size:
                taps[o, i0 + 1] += f
        else:
            a, b = o * scale, (o + 1) * scale
            for i in range(math.floor(a), min(math.ceil(b) - 1, size - 1) + 1):
                w = min(b, i + 1) - max(a, i)
                if w > 1e-9:
                    taps[o, i] += w / scale
    return taps


IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


def load_image_folder(root, size, channels, test_fraction=0.2, interpolation="area", seed=1337):
    """A folder of images per class (root/<class>/...): converted to the model's channels
    (grayscale by ITU-R BT.601 luma, alpha dropped), resized with ConvLens' resampling, shuffled
    with ConvLens' seeded generator; the last test_fraction is the test set, as ConvLens splits it."""
    try:
        from PIL import Image
    except ImportError:
        raise DataError(f"{root}: reading image folders needs Pillow (pip install pillow)")
    classes = sorted(e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith("."))
    if not classes:
        raise DataError(f"{root}: no class subfolders; expected <root>/<class name>/*.png|jpg|jpeg")

    def images(folder, depth=0):
        out = []
        for e in sorted(os.scandir(folder), key=lambda e: e.name):
            if e.is_dir() and depth < 32:
                out += images(e.path, depth + 1)
            elif e.is_file() and os.path.splitext(e.name)[1].lower() in IMAGE_EXTENSIONS:
                out.append(e.path)
        return out

    files = [(f, label) for label, c in enumerate(classes) for f in images(os.path.join(root, c))]
    if not files:
        raise DataError(f"{root}: no .png, .jpg or .jpeg files in its class subfolders")
    _shuffle(files, _mulberry32(seed))
    height, width = size
    x = torch.zeros(len(files), height, width, channels)
    for i, (f, _) in enumerate(files):
        try:
            with Image.open(f) as img:
                img.load()
                if channels == 1 and img.mode in ("L", "LA", "1"):
                    pixels = torch.frombuffer(bytearray(img.convert("L").tobytes()), dtype=torch.uint8).double().reshape(img.height, img.width, 1)
                else:
                    rgb = torch.frombuffer(bytearray(img.convert("RGB").tobytes()), dtype=torch.uint8).double().reshape(img.height, img.width, 3)
                    pixels = rgb if channels == 3 else (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]).unsqueeze(-1)
        except (OSError, ValueError) as e:
            raise DataError(f"{f}: cannot be decoded as an image ({e})")
        if pixels.shape[0] != height or pixels.shape[1] != width:
            ty, tx = _resize_taps(pixels.shape[0], height, interpolation), _resize_taps(pixels.shape[1], width, interpolation)
            pixels = torch.einsum("yh,hwc,xw->yxc", ty, pixels, tx)
        x[i] = (pixels * (1 / 255)).float()
    y = torch.tensor([label for _, label in files], dtype=torch.long)
    n = len(files) - math.floor(test_fraction * len(files))
    test = (x[n:], y[n:]) if n < len(files) else None
    return Dataset(f"images ({root})", (x[:n], y[:n]), test, len(classes), classes)


KERAS_DATASETS = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}
FASHION_MNIST_CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def load_data(data, input_shape):
    """The dataset a --data value names: a folder of MNIST-style IDX files, of CIFAR-10 binary
    batches or of images per class, a .npz or CIFAR .tar.gz file, or mnist / fashion_mnist /
    cifar10 (found in Keras' cache, $KERAS_HOME or ~/.keras/datasets)."""
    name = data.strip().lower().replace("-", "_")
    if name in KERAS_DATASETS and not os.path.exists(data):
        cache = os.path.join(os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras"), "datasets")
        if name == "mnist" and os.path.isfile(os.path.join(cache, "mnist.npz")):
            return load_npz(os.path.join(cache, "mnist.npz"))
        if name == "fashion_mnist" and _find_idx(os.path.join(cache, "fashion-mnist"), IDX_FILES["train_images"]):
            return load_idx_folder(os.path.join(cache, "fashion-mnist"), FASHION_MNIST_CLASS_NAMES)
        if name == "cifar10":
            for candidate in (os.path.join(cache, "cifar-10-batches-bin"), os.path.join(cache, "cifar-10-binary.tar.gz")):
                if os.path.exists(candidate):
                    return load_cifar10(candidate)
        raise DataError(f"{KERAS_DATASETS[name]} not found in {cache}; pass --data with the folder that holds its files")
    if not os.path.exists(data):
        raise DataError(f"{data}: no such file or folder (use a folder, a .npz file, or mnist, fashion_mnist, cifar10)")
    if os.path.isfile(data):
        if data.lower().endswith(".npz"):
            return load_npz(data)
        if data.lower().endswith((".tar.gz", ".tgz")):
            return load_cifar10(data)
        raise DataError(f"{data}: this script reads .npz files, CIFAR-10 .tar.gz archives and folders")
    if _find_idx(data, IDX_FILES["train_images"]):
        return load_idx_folder(data, FASHION_MNIST_CLASS_NAMES if DATASET == "fashion_mnist" else None)
    if os.path.isfile(os.path.join(data, CIFAR_TRAIN[0])) or os.path.isdir(os.path.join(data, "cifar-10-batches-bin")):
        return load_cifar10(data)
    if DATASET == "mnist" and os.path.isfile(os.path.join(data, "mnist.npz")):
        return load_npz(os.path.join(data, "mnist.npz"))
    if any(e.is_dir() and not e.name.startswith(".") for e in os.scandir(data)):
        if len(input_shape) != 3 or input_shape[2] not in (1, 3):
            raise DataError(f"{data}: a folder of images per class needs a model whose input is (height, width, 1 or 3 channels), not {tuple(input_shape)}")
        return load_image_folder(data, input_shape[:2], input_shape[2])
    raise DataError(f"{data}: found no MNIST-style IDX files, no CIFAR-10 batches and no subfolders of images (one per class)")


def _hash_seed(*parts):
    """ConvLens' hashSeed (src/train/datasets/common.ts)."""
    h = 0x811C9DC5
    for p in parts:
        h = ((h ^ (p & 0xFFFFFFFF)) * 0x01000193) & 0xFFFFFFFF
        h ^= h >> 15
        h = (h * 0x85EBCA6B) & 0xFFFFFFFF
        h ^= h >> 13
    return h


def _permutation(n, seed):
    """0 ... n-1 in the order ConvLens' np.random.permutation stands for with this seed."""
    return _shuffle(list(range(n)), _mulberry32(_hash_seed(seed, 0x9E3779B9)))


def select_rows(rows, count, seed):
    """The samples fit() names (ConvLens' selectRows): a seeded permutation when the file shuffles
    with np.random.permutation, then each slice, scaled when the data has another size than the
    file's dataset."""
    index = _permutation(count, seed) if rows["shuffled"] else list(range(count))
    of = rows.get("of")
    scale = count / of if of and of != count else 1
    length = of if of is not None else count
    for s in rows["slices"]:
        a, b, _ = slice(s.get("start"), s.get("stop")).indices(length)
        b = max(a, b)
        length = b - a
        lo = min(round_half_up(a * scale), len(index))
        hi = min(len(index), round_half_up(b * scale))
        index = index[lo:max(lo, hi)]
    return index


def round_half_up(v):
    """JavaScript's Math.round (halves go up), which ConvLens uses."""
    return math.floor(v + 0.5)
`;

/** Keras 3's optimizers as ConvLens runs them (core/onnx/optim.ts), one class each. */
export const OPTIMIZER_CODE: Readonly<Record<string, string>> = {
  sgd: String.raw`
class KerasSGD(torch.optim.Optimizer):
    """Keras' SGD: w <- w - lr*g; with momentum v <- momentum*v - lr*g, w <- w + v (Nesterov:
    w <- w + momentum*v - lr*g). weight_decay is Keras' decoupled decay, w <- w - w*lr*decay."""

    def __init__(self, params, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, momentum = group["lr"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if group["weight_decay"]:
                    p.sub_(p * (lr * group["weight_decay"]))
                g = p.grad
                if momentum == 0:
                    p.sub_(g * lr)
                    continue
                v = self.state[p].setdefault("momentum", torch.zeros_like(p))
                v.mul_(momentum).sub_(g * lr)
                if group["nesterov"]:
                    p.add_(v * momentum).sub_(g * lr)
                else:
                    p.add_(v)
`,
  rmsprop: String.raw`
class KerasRMSprop(torch.optim.Optimizer):
    """Keras' RMSprop: v <- rho*v + (1 - rho)*g^2; w <- w - lr*g / sqrt(v + epsilon). Keras puts
    epsilon inside the root (torch.optim.RMSprop adds it outside). centered and momentum as Keras;
    weight_decay is Keras' decoupled decay."""

    def __init__(self, params, lr, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, rho=rho, momentum=momentum, epsilon=epsilon, centered=centered, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, rho, eps = group["lr"], group["rho"], group["epsilon"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if group["weight_decay"]:
                    p.sub_(p * (lr * group["weight_decay"]))
                g = p.grad
                state = self.state[p]
                v = state.setdefault("velocity", torch.zeros_like(p))
                v.mul_(rho).add_(g * g * (1 - rho))
                if group["centered"]:
                    a = state.setdefault("average_gradient", torch.zeros_like(p))
                    a.mul_(rho).add_(g * (1 - rho))
                    denominator = v - a * a + eps
                else:
                    denominator = v + eps
                update = g * lr / torch.sqrt(denominator)
                if group["momentum"] > 0:
                    m = state.setdefault("momentum", torch.zeros_like(p))
                    m.mul_(group["momentum"]).add_(update)
                    update = m
                p.sub_(update)
`,
  adam: String.raw`
class KerasAdam(torch.optim.Optimizer):
    """Keras' Adam (and AdamW): m <- m + (g - m)(1 - beta_1); v <- v + (g^2 - v)(1 - beta_2);
    w <- w - alpha*m / (sqrt(v) + epsilon) with alpha = lr*sqrt(1 - beta_2^t) / (1 - beta_1^t).
    Keras' epsilon is not bias-corrected (torch.optim.Adam's is). weight_decay is Keras'
    decoupled decay, applied first (AdamW's default is 0.004)."""

    def __init__(self, params, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, weight_decay=weight_decay))
        self.iterations = 0

    @torch.no_grad()
    def step(self):
        self.iterations += 1
        t = self.iterations
        for group in self.param_groups:
            lr, b1, b2 = group["lr"], group["beta_1"], group["beta_2"]
            alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            for p in group["params"]:
                if p.grad is None:
                    continue
                if group["weight_decay"]:
                    p.sub_(p * (lr * group["weight_decay"]))
                g = p.grad
                state = self.state[p]
                m = state.setdefault("momentum", torch.zeros_like(p))
                v = state.setdefault("velocity", torch.zeros_like(p))
                m.add_((g - m) * (1 - b1))
                v.add_((g * g - v) * (1 - b2))
                p.sub_(m * alpha / (torch.sqrt(v) + group["epsilon"]))

    def state_dict(self):
        return {**super().state_dict(), "iterations": self.iterations}

    def load_state_dict(self, state):
        self.iterations = state.pop("iterations", 0)
        super().load_state_dict(state)
`,
  adagrad: String.raw`
class KerasAdagrad(torch.optim.Optimizer):
    """Keras' Adagrad: acc <- acc + g^2 (starting at initial_accumulator_value);
    w <- w - lr*g / sqrt(acc + epsilon). weight_decay is Keras' decoupled decay."""

    def __init__(self, params, lr, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, initial=initial_accumulator_value, epsilon=epsilon, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr = group["lr"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if group["weight_decay"]:
                    p.sub_(p * (lr * group["weight_decay"]))
                g = p.grad
                acc = self.state[p].setdefault("accumulator", torch.full_like(p, group["initial"]))
                acc.add_(g * g)
                p.sub_(g * lr / torch.sqrt(acc + group["epsilon"]))
`,
  adamax: String.raw`
class KerasAdamax(torch.optim.Optimizer):
    """Keras' Adamax: m <- m + (g - m)(1 - beta_1); u <- max(beta_2*u, |g|);
    w <- w - lr*m / ((1 - beta_1^t)(u + epsilon)). weight_decay is Keras' decoupled decay."""

    def __init__(self, params, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, weight_decay=weight_decay))
        self.iterations = 0

    @torch.no_grad()
    def step(self):
        self.iterations += 1
        t = self.iterations
        for group in self.param_groups:
            lr, b1, b2 = group["lr"], group["beta_1"], group["beta_2"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if group["weight_decay"]:
                    p.sub_(p * (lr * group["weight_decay"]))
                g = p.grad
                state = self.state[p]
                m = state.setdefault("momentum", torch.zeros_like(p))
                u = state.setdefault("norm", torch.zeros_like(p))
                m.add_((g - m) * (1 - b1))
                torch.maximum(u * b2, g.abs(), out=u)
                p.sub_(m * lr / ((1 - b1 ** t) * (u + group["epsilon"])))

    def state_dict(self):
        return {**super().state_dict(), "iterations": self.iterations}

    def load_state_dict(self, state):
        self.iterations = state.pop("iterations", 0)
        super().load_state_dict(state)
`,
  nadam: String.raw`
class KerasNadam(torch.optim.Optimizer):
    """Keras' Nadam: u_t = beta_1(1 - 0.5*0.96^t), their product kept from step to step;
    m_hat = u_{t+1} m / (1 - prod_{t+1}) + (1 - u_t) g / (1 - prod_t), v_hat = v / (1 - beta_2^t);
    w <- w - lr*m_hat / (sqrt(v_hat) + epsilon). weight_decay is Keras' decoupled decay."""

    def __init__(self, params, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, weight_decay=weight_decay))
        self.iterations = 0
        self.u_product = 1.0

    @torch.no_grad()
    def step(self):
        self.iterations += 1
        t = self.iterations
        for group in self.param_groups:
            lr, b1, b2 = group["lr"], group["beta_1"], group["beta_2"]
            u_t = b1 * (1.0 - 0.5 * 0.96 ** t)
            u_t1 = b1 * (1.0 - 0.5 * 0.96 ** (t + 1))
            product = self.u_product * u_t
            product1 = product * u_t1
            for p in group["params"]:
                if p.grad is None:
                    continue
                if group["weight_decay"]:
                    p.sub_(p * (lr * group["weight_decay"]))
                g = p.grad
                state = self.state[p]
                m = state.setdefault("momentum", torch.zeros_like(p))
                v = state.setdefault("velocity", torch.zeros_like(p))
                m.add_((g - m) * (1 - b1))
                v.add_((g * g - v) * (1 - b2))
                m_hat = m * (u_t1 / (1 - product1)) + g * ((1 - u_t) / (1 - product))
                v_hat = v / (1 - b2 ** t)
                p.sub_(m_hat * lr / (torch.sqrt(v_hat) + group["epsilon"]))
        # One product for all groups, as Keras keeps one variable (multiplied by the first group's beta_1).
        self.u_product *= self.param_groups[0]["beta_1"] * (1.0 - 0.5 * 0.96 ** t)

    def state_dict(self):
        return {**super().state_dict(), "iterations": self.iterations, "u_product": self.u_product}

    def load_state_dict(self, state):
        self.iterations = state.pop("iterations", 0)
        self.u_product = state.pop("u_product", 1.0)
        super().load_state_dict(state)
`,
};

/** fit()'s learning-rate schedules and callbacks (core/train/fitOptions.ts), as Keras 3 runs them. */
export const FIT_CODE = String.raw`
# ---------------------------------------------------------------------------------------------
# fit()'s learning-rate schedule and callbacks, as Keras 3 runs them (src/core/train/fitOptions.ts)


def schedule_rate(s, step):
    """The learning rate of a schedule given as the optimizer's learning_rate at iteration step (0 first)."""
    kind = s["kind"]
    if kind in ("ExponentialDecay", "InverseTimeDecay"):
        p = step // s["decaySteps"] if s["staircase"] else step / s["decaySteps"]
        return s["initial"] * s["decayRate"] ** p if kind == "ExponentialDecay" else s["initial"] / (1 + s["decayRate"] * p)
    if kind == "CosineDecay":
        def decay(t, start):
            cosine = 0.5 * (1 + math.cos(math.pi * (t / s["decaySteps"])))
            return start * ((1 - s["alpha"]) * cosine + s["alpha"])

        if s["warmupTarget"] is None:
            return decay(min(step, s["decaySteps"]), s["initial"])
        t = min(step, s["decaySteps"] + s["warmupSteps"])
        if t < s["warmupSteps"]:
            return (s["warmupTarget"] - s["initial"]) * (t / s["warmupSteps"]) + s["initial"]
        return decay(t - s["warmupSteps"], s["warmupTarget"])
    if kind == "PiecewiseConstantDecay":
        b, v = s["boundaries"], s["values"]
        for i, boundary in enumerate(b):
            if step <= boundary:
                return v[i]
        return v[-1]
    if kind == "PolynomialDecay":
        t, d = step, s["decaySteps"]
        if s["cycle"]:
            d = d * (1 if t == 0 else math.ceil(t / s["decaySteps"]))
        else:
            t = min(t, d)
        return (s["initial"] - s["end"]) * (1 - t / d) ** s["power"] + s["end"]
    raise ValueError(f"unknown schedule {kind}")


def is_improvement(mode, current, reference, min_delta=0.0):
    """Keras' MonitorCallback comparison."""
    if reference is None:
        return True
    return current + min_delta < reference if mode == "min" else current - min_delta > reference


def _float32(v):
    return struct.unpack("<f", struct.pack("<f", v))[0]


class FitCallbacks:
    """EarlyStopping, ReduceLROnPlateau and LearningRateScheduler, epoch by epoch (0-based)."""

    def __init__(self, callbacks):
        self.callbacks = callbacks
        self.state = [dict(wait=0, best=None, cooldown=0) for _ in callbacks]

    def epoch_begin(self, epoch, lr):
        for c in self.callbacks:
            if c["kind"] == "LearningRateScheduler":
                lr = c["values"][min(epoch, len(c["values"]) - 1)]
        return lr

    def epoch_end(self, epoch, logs, lr):
        """Returns (stop, learning rate, keep these weights, messages)."""
        stop, keep, messages = False, False, []
        for c, s in zip(self.callbacks, self.state):
            if c["kind"] == "EarlyStopping":
                current = logs.get(c["monitor"])
                if current is None or epoch < c["startFromEpoch"]:
                    if current is None:
                        messages.append(f"EarlyStopping: {c['monitor']} is not available ({', '.join(logs)})")
                    continue
                if c["restoreBestWeights"] and s["best"] is None:
                    keep = True
                s["wait"] += 1
                if is_improvement(c["mode"], current, s["best"], c["minDelta"]):
                    s["best"] = current
                    keep = keep or c["restoreBestWeights"]
                    if c["baseline"] is None or is_improvement(c["mode"], current, c["baseline"], c["minDelta"]):
                        s["wait"] = 0
                    continue
                if s["wait"] >= c["patience"] and epoch > 0:
                    stop = True
                    messages.append(f"Epoch {epoch + 1}: early stopping ({c['monitor']} has not improved for {s['wait']} epochs; EarlyStopping at line {c['line']})")
            elif c["kind"] == "ReduceLROnPlateau":
                current = lr if c["monitor"] == "learning_rate" else logs.get(c["monitor"])
                if current is None:
                    messages.append(f"ReduceLROnPlateau: {c['monitor']} is not available ({', '.join(logs)})")
                    continue
                if s["cooldown"] > 0:
                    s["cooldown"] -= 1
                    s["wait"] = 0
                if is_improvement(c["mode"], current, s["best"], c["minDelta"]):
                    s["best"] = current
                    s["wait"] = 0
                elif not s["cooldown"] > 0:
                    s["wait"] += 1
                    if s["wait"] >= c["patience"] and lr > _float32(c["minLr"]):
                        lr = max(lr * c["factor"], c["minLr"])
                        messages.append(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {float(f'{lr:.6g}')}.")
                        s["cooldown"] = c["cooldown"]
                        s["wait"] = 0
        return stop, lr, keep, messages
`;

/** The training script: torch.distributed setup, the loop, evaluation, outputs. */
export const TRAIN_CODE = String.raw`
# ---------------------------------------------------------------------------------------------
# Training: one process (python3 this_file.py) or many (torchrun), DistributedDataParallel


class UsageError(Exception):
    pass


class OutputError(Exception):
    pass


class Diverged(Exception):
    pass


EXIT_CODES = {UsageError: 2, DataError: 4, CheckpointError: 5, OutputError: 6, Diverged: 1}
OUTPUT_FILES = ("model.pt", "last.ckpt", "best.ckpt", "metrics.jsonl")
BAR = "\u2501" * 20  # Keras' progress bar, full


def _count(text, minimum):
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise argparse.ArgumentTypeError(f"must be a whole number >= {minimum}, got {text!r}")
    return value


def _positive(text):
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=f"Train {MODEL_NAME!r} (exported by ConvLens from {SOURCE}) with PyTorch, on one process or many.",
        epilog="Many processes: torchrun --nproc_per_node=N %(prog)s ... (one machine), or torchrun --nnodes=M "
        "--nproc_per_node=N --rdzv_backend=c10d --rdzv_endpoint=HOST:PORT %(prog)s ... on each of M machines. "
        "gloo on CPUs, nccl on GPUs (one process per GPU).",
    )
    p.add_argument("--data", metavar="DIR", default=DATASET, required=DATASET is None, help="a folder (MNIST IDX files, CIFAR-10 batches, images per class), a .npz file, or mnist / fashion_mnist / cifar10 from Keras' cache" + (f" (default: {DATASET}, as the model file loads)" if DATASET else ""))
    p.add_argument("--epochs", metavar="N", type=lambda t: _count(t, 0), default=EPOCHS, help=f"default {EPOCHS}, as the model file says; 0 only evaluates")
    p.add_argument("--batch-size", metavar="N", type=lambda t: _count(t, 1), default=BATCH_SIZE, help=f"the global batch, split across the processes (default {BATCH_SIZE})")
    p.add_argument("--lr", metavar="RATE", type=_positive, help=f"learning rate (default {OPTIMIZER['learningRate']})")
    p.add_argument("--weights", metavar="CKPT", default=DEFAULT_WEIGHTS, help="start from a ConvLens checkpoint (.ckpt)" + (f" (default: {DEFAULT_WEIGHTS})" if DEFAULT_WEIGHTS else ""))
    p.add_argument("--out", metavar="DIR", default=f"{MODEL_NAME}-pytorch", help="folder for model.pt, last.ckpt, best.ckpt and metrics.jsonl (default: %(default)s)")
    p.add_argument("--force", action="store_true", help="replace those files when the folder already holds them")
    p.add_argument("--seed", metavar="N", type=lambda t: _count(t, 0), default=1, help="initial weights, ConvLens' data selection, shuffling and dropout (default 1)")
    p.add_argument("--limit", metavar="N", type=lambda t: _count(t, 1), help="use at most N training and N test samples")
    p.add_argument("--threads", metavar="N", type=lambda t: _count(t, 1), help="CPU threads per process (torchrun sets 1 when it starts several)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="auto: a GPU per process when there are GPUs")
    return p.parse_args(argv)


class Distributed:
    """This process's place in the job: torchrun's environment, or a single process."""

    def __init__(self, device_choice):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        cuda = torch.cuda.is_available() and device_choice != "cpu"
        if device_choice == "cuda" and not torch.cuda.is_available():
            raise UsageError("--device cuda: PyTorch sees no CUDA GPU on this machine")
        if cuda:
            if self.local_rank >= torch.cuda.device_count():
                raise UsageError(f"process {self.local_rank} on this machine has no GPU of its own ({torch.cuda.device_count()} GPUs): start at most that many processes per machine")
            torch.cuda.set_device(self.local_rank)
            self.device = torch.device("cuda", self.local_rank)
        else:
            self.device = torch.device("cpu")
        self.backend = "nccl" if cuda else "gloo"
        self.started = "RANK" in os.environ and "MASTER_ADDR" in os.environ
        if self.started:
            dist.init_process_group(backend=self.backend)
            self.world, self.rank = dist.get_world_size(), dist.get_rank()

    @property
    def main(self):
        return self.rank == 0

    def sum(self, values):
        """Sums a list of numbers over every process."""
        t = torch.tensor(values, dtype=torch.float64, device=self.device if self.backend == "nccl" else "cpu")
        if self.started:
            dist.all_reduce(t)
        return t.tolist()

    def close(self):
        if self.started:
            dist.destroy_process_group()


def as_model_input(x):
    """Samples (count, H, W, C) fed to the model's input as NumPy's reshape would (ConvLens does
    the same), then channels first."""
    keras = x.reshape((len(x),) + tuple(INPUT_SHAPE))
    if len(INPUT_SHAPE) < 2:
        return keras.contiguous()
    return keras.permute(0, keras.dim() - 1, *range(1, keras.dim() - 1)).contiguous()


def split_data(ds, seed, limit):
    """Training, validation and test sets as the model file's fit() chooses them."""
    train_x, train_y = ds.train
    if limit:
        train_x, train_y = train_x[:limit], train_y[:limit]
    test = ds.test
    if test is not None and limit:
        test = (test[0][:limit], test[1][:limit])
    sets = {"train": (train_x, train_y), "test": test}

    def pick(rows, what):
        source = sets[rows["split"]]
        if source is None:
            raise DataError(f"{ds.name} has no test set, but fit() at line {rows['line']} takes its {what} data from it")
        index = select_rows(rows["rows"], len(source[0]), seed)
        if not index:
            raise DataError(f"fit() at line {rows['line']} selects no {what} samples out of the {len(source[0])} of {ds.name}")
        index = torch.tensor(index)
        return source[0][index], source[1][index]

    train = pick(TRAIN_ROWS, "training") if TRAIN_ROWS else (train_x, train_y)
    validation = None
    if VALIDATION_ROWS:
        validation = pick(VALIDATION_ROWS, "validation")
    elif VALIDATION_SPLIT > 0:
        # Keras' validation_split: the last fraction, before any shuffling.
        at = math.floor(len(train[0]) * (1 - VALIDATION_SPLIT))
        if at == 0 or at == len(train[0]):
            raise DataError(f"validation_split={VALIDATION_SPLIT} leaves {'no training' if at == 0 else 'no validation'} samples out of {len(train[0])}")
        train, validation = (train[0][:at], train[1][:at]), (train[0][at:], train[1][at:])
    if len(train[0]) == 0:
        raise DataError(f"{ds.name} has no training samples")
    return train, validation, test


def check_fit(ds):
    per_sample = math.prod(ds.train[0].shape[1:])
    want = math.prod(INPUT_SHAPE)
    if per_sample != want:
        raise DataError(f"the model's input is {tuple(INPUT_SHAPE)} ({want} values per sample), but {ds.name} samples are {tuple(ds.train[0].shape[1:])} ({per_sample} values)")
    # Labels must have an output each (one sigmoid output serves two classes); a file whose labels
    # do not reach every class (a small subset) is fine.
    if ds.classes > max(CLASSES, 2):
        raise DataError(f"the model has {CLASSES} output{'s' if CLASSES != 1 else ''}, but {ds.name} has {ds.classes} classes: the last layer needs {ds.classes} units")
    for name, part in (("training", ds.train), ("test", ds.test)):
        if part is not None and not torch.isfinite(part[0]).all():
            raise DataError(f"{ds.name}: the {name} data holds NaN or infinite values; clean it first")


def check_outputs(folder, force):
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise OutputError(f"--out {folder} is not a folder")
    for name in OUTPUT_FILES:
        path = os.path.join(folder, name)
        if os.path.islink(path) or (os.path.exists(path) and not os.path.isfile(path)):
            raise OutputError(f"refusing to replace {path}: it is not a regular file")
        if os.path.exists(path) and not force:
            raise OutputError(f"{path} already exists; pass --force to replace it, or choose another --out")


def step_time(ms):
    if ms >= 1000:
        return f"{round(ms / 1000)}s/step"
    if ms >= 1:
        return f"{round(ms)}ms/step"
    return f"{round(ms * 1000)}us/step"


def metrics_text(m):
    parts = [f"accuracy: {m['accuracy']:.4f}", f"loss: {m['loss']:.4f}"]
    if "val_accuracy" in m:
        parts += [f"val_accuracy: {m['val_accuracy']:.4f}", f"val_loss: {m['val_loss']:.4f}"]
    return " - ".join(parts)


@torch.no_grad()
def evaluate(model, data, job, batch_size):
    """Mean loss and accuracy over a set, each process taking every world-th sample."""
    was_training = model.training
    model.eval()
    x, y = data
    index = torch.arange(job.rank, len(x), job.world)
    loss_sum, correct = 0.0, 0.0
    for start in range(0, len(index), batch_size):
        batch = index[start:start + batch_size]
        xb, yb = x[batch].to(job.device), y[batch].to(job.device)
        z = model(xb, logits=True)
        loss_sum += float(loss_fn(z, yb)) * len(batch)
        correct += float(correct_count(z, yb))
    model.train(was_training)
    loss_sum, correct = job.sum([loss_sum, correct])
    return loss_sum / len(x), correct / len(x)


def sync_buffers(model, job):
    """Every process takes process 0's BatchNormalization statistics (each moved them with its own batches)."""
    if job.started:
        for b in model.buffers():
            dist.broadcast(b, 0)


def run(args, job):
    if args.threads:
        torch.set_num_threads(args.threads)
    say = print if job.main else (lambda *a, **k: None)
    if args.weights:
        args.weights = os.path.expanduser(args.weights)
    if job.main:
        check_outputs(args.out, args.force)
    ds = load_data(args.data, INPUT_SHAPE)
    check_fit(ds)
    train, validation, test = split_data(ds, args.seed, args.limit)
    train_x, train_y = as_model_input(train[0]), train[1]
    validation = validation and (as_model_input(validation[0]), validation[1])
    test = test and (as_model_input(test[0]), test[1])

    model = Model()
    keras_initialize(model, args.seed)
    if args.weights:
        header = load_convlens_checkpoint(model, args.weights)
        say(f"Loaded {args.weights}: weights of epoch {header.get('epoch')} of '{header.get('model')}'")
    model.to(job.device)
    torch.manual_seed(args.seed * 1000 + job.rank)  # dropout and noise differ between processes
    net = DDP(model, device_ids=[job.local_rank] if job.device.type == "cuda" else None) if job.started else model

    per_process = args.batch_size // job.world
    if per_process < 1:
        raise UsageError(f"--batch-size {args.batch_size} is smaller than the {job.world} processes: each needs at least one sample")
    if per_process * job.world != args.batch_size:
        say(f"note: the batch of {args.batch_size} is split into {job.world} x {per_process} = {per_process * job.world} samples per step")
    lr = args.lr or OPTIMIZER["learningRate"]
    optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad], lr)
    sampler = DistributedSampler(range(len(train_x)), num_replicas=job.world, rank=job.rank, shuffle=SHUFFLE, seed=args.seed, drop_last=False)
    steps = math.ceil(len(sampler) / per_process)
    say(
        f"{MODEL_NAME}: {OPTIMIZER_TEXT}, loss {LOSS}, batch size {per_process * job.world} "
        f"({job.world} process{'es' if job.world > 1 else ''} x {per_process}, {job.backend}, {job.device.type}), {args.epochs} epochs, seed {args.seed}; "
        f"{ds.name}: {len(train_x)} training, {len(validation[0]) if validation else 0} validation, {len(test[0]) if test else 0} test samples"
    )

    callbacks = FitCallbacks(CALLBACKS)
    monitor = CHECKPOINT["monitor"] if validation is not None or not CHECKPOINT["monitor"].startswith("val_") else "loss"
    mode = CHECKPOINT["mode"] if monitor == CHECKPOINT["monitor"] else "min"
    best = CHECKPOINT["initial"] if monitor == CHECKPOINT["monitor"] else None
    if job.main:
        os.makedirs(args.out, exist_ok=True)
    step, kept, epochs_done = 0, None, 0
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        order = list(sampler)
        lr = callbacks.epoch_begin(epoch, lr)
        net.train()
        started = time.perf_counter()
        loss_sum = torch.zeros((), dtype=torch.float64, device=job.device)
        correct = torch.zeros((), dtype=torch.float64, device=job.device)
        for b in range(steps):
            batch = torch.tensor(order[b * per_process:(b + 1) * per_process])
            xb = train_x[batch].to(job.device, non_blocking=True)
            yb = train_y[batch].to(job.device, non_blocking=True)
            if SCHEDULE is not None:
                lr = schedule_rate(SCHEDULE, step)
            for group in optimizer.param_groups:
                group["lr"] = lr
            z = net(xb, logits=True)
            loss = loss_fn(z, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            loss_sum += loss.detach().double() * len(batch)
            correct += correct_count(z.detach(), yb)
        seconds = time.perf_counter() - started
        seen, loss_total, correct_total = job.sum([len(order), float(loss_sum), float(correct)])
        metrics = {"loss": loss_total / seen, "accuracy": correct_total / seen}
        if not math.isfinite(metrics["loss"]):
            raise Diverged(f"the loss became {metrics['loss']} in epoch {epoch + 1}: training stopped. The learning rate ({lr}) may be too high for this model and data")
        sync_buffers(model, job)
        if validation is not None:
            metrics["val_loss"], metrics["val_accuracy"] = evaluate(model, validation, job, max(per_process, 256))
        epoch_lr = lr
        stop, lr, keep, messages = callbacks.epoch_end(epoch, {**metrics, "learning_rate": lr}, lr)
        if keep:
            kept = (epoch + 1, {k: v.detach().clone() for k, v in model.state_dict().items()})
        epochs_done = epoch + 1
        say(f"Epoch {epoch + 1}/{args.epochs}")
        say(f"{steps}/{steps} {BAR} {round(seconds)}s {step_time(seconds * 1000 / steps)} - {metrics_text(metrics)}")
        for m in messages:
            say(m)
        if job.main:
            record = {"epoch": epoch + 1, **metrics, "learning_rate": epoch_lr, "seconds": seconds, "step": step}
            improved = monitor in metrics and math.isfinite(metrics[monitor]) and is_improvement(mode, metrics[monitor], best)
            if improved:
                best = metrics[monitor]
                write_atomic(os.path.join(args.out, "best.ckpt"), convlens_checkpoint_bytes(model, epoch + 1, step, metrics, monitor, mode, best, args.seed, lr))
                record["checkpoint"] = "best.ckpt"
            write_atomic(os.path.join(args.out, "last.ckpt"), convlens_checkpoint_bytes(model, epoch + 1, step, metrics, monitor, mode, best, args.seed, lr))
            with open(os.path.join(args.out, "metrics.jsonl"), "a" if epoch else "w") as f:
                f.write(json.dumps(record) + "\n")
        if stop:
            break

    if kept is not None and any(c["kind"] == "EarlyStopping" and c["restoreBestWeights"] for c in CALLBACKS):
        model.load_state_dict(kept[1])
        say(f"EarlyStopping(restore_best_weights=True): the model keeps the weights of epoch {kept[0]}")
    if job.main:
        buffer = io.BytesIO()
        torch.save(model.state_dict(), buffer)
        write_atomic(os.path.join(args.out, "model.pt"), buffer.getvalue())
    if test is None:
        say(f"{ds.name} has no test set: test_accuracy is measured on the {'validation' if validation else 'training'} data")
        test = validation or (train_x, train_y)
    test_loss, test_accuracy = evaluate(model, test, job, max(per_process, 256))
    say(f"test_loss: {test_loss:.4f}")
    say(f"test_accuracy: {test_accuracy:.4f}")
    return 0


def main(argv=None):
    # DDP's notice about a 1-channel kernel's gradient strides (a size-1 axis) is harmless noise.
    warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
    args = parse_args(argv)
    job = None
    try:
        job = Distributed(args.device)
        return run(args, job)
    except tuple(EXIT_CODES) as e:
        prefix = f"[process {job.rank}] " if job is not None and job.world > 1 else ""
        if job is None or job.main or not isinstance(e, (UsageError, OutputError)):
            print(f"{os.path.basename(sys.argv[0] or 'train')}: {prefix}{'error' if not isinstance(e, Diverged) else 'diverged'}: {e}", file=sys.stderr)
        return EXIT_CODES[type(e)]
    except KeyboardInterrupt:
        print("stopped (Ctrl-C); the checkpoints written so far are whole", file=sys.stderr)
        return 130
    finally:
        if job is not None:
            job.close()
`;
