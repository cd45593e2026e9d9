/**
 * Checkpoint files on disk: written atomically through safeFs (a crash or a kill at any moment
 * leaves either the previous file or the new one), read only from regular files of a plausible
 * size, and every problem reported with the file and the byte it is at.
 */
import { readFileSync, statSync } from 'node:fs';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, type Checkpoint, type CheckpointHeader } from '../core/train/checkpoint';
import { writeFileAtomic, type AtomicWriteOptions } from './safeFs';

export { writeFileAtomic } from './safeFs';

/** The largest checkpoint read (larger files are not checkpoints ConvLens wrote for a CNN it can train). */
export const MAX_CHECKPOINT_BYTES = 8 * 1024 ** 3;

/** Writes a checkpoint atomically. */
export function writeCheckpointFile(file: string, ckpt: Checkpoint, options: AtomicWriteOptions = {}): void {
  writeFileAtomic(file, encodeCheckpoint(ckpt), { what: 'checkpoint', ...options });
}

/** A checkpoint file that cannot be used, with the file and the byte the problem is at. */
export class CheckpointFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
    readonly byteOffset?: number,
  ) {
    super(`${file}${byteOffset === undefined ? '' : `: byte ${byteOffset}`}: ${message}`);
    this.name = 'CheckpointFileError';
  }
}

/** Reads and checks a checkpoint file; errors name the file and the byte offset. */
export function readCheckpointFile(file: string): Checkpoint & { header: CheckpointHeader } {
  let bytes: Uint8Array;
  try {
    // A pipe or a device would block or never end: only regular files are read.
    const st = statSync(file);
    if (st.isDirectory()) throw new CheckpointFileError(file, 'is a folder, not a checkpoint file');
    if (!st.isFile()) throw new CheckpointFileError(file, 'is not a regular file (a device, a pipe or a socket), so it is not a checkpoint');
    if (st.size > MAX_CHECKPOINT_BYTES) throw new CheckpointFileError(file, `is ${st.size} bytes, larger than any checkpoint ConvLens writes`);
    bytes = readFileSync(file);
  } catch (e) {
    if (e instanceof CheckpointFileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointFileError(file, code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message);
  }
  try {
    return decodeCheckpoint(bytes);
  } catch (e) {
    if (e instanceof CheckpointError) throw new CheckpointFileError(file, e.message, e.byteOffset);
    throw new CheckpointFileError(file, `cannot be read as a checkpoint (${(e as Error).message})`);
  }
}
