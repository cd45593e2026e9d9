/**
 * Checkpoint and model files on disk. Every write goes to a temporary file in the same folder,
 * is flushed, then renamed over the target, so a crash or a kill at any moment leaves either the
 * previous file or the new one, never a partial file.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, type Checkpoint, type CheckpointHeader } from '../core/train/checkpoint';

/** Writes `bytes` to `file` atomically (temporary file + fsync + rename). */
export function writeFileAtomic(file: string, bytes: Uint8Array): void {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  // The rename itself is durable once the folder is flushed (not supported everywhere).
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Best effort.
  }
}

/** Writes a checkpoint atomically. */
export function writeCheckpointFile(file: string, ckpt: Checkpoint): void {
  writeFileAtomic(file, encodeCheckpoint(ckpt));
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
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointFileError(file, code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a checkpoint file' : (e as Error).message);
  }
  try {
    return decodeCheckpoint(bytes);
  } catch (e) {
    if (e instanceof CheckpointError) throw new CheckpointFileError(file, e.message, e.byteOffset);
    throw e;
  }
}
