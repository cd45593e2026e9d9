/**
 * Every file a training run writes goes through here: atomic writes (a temporary file in the same
 * folder, flushed, renamed over the target), only ever replacing a regular file, every path
 * checked against the folders and files it may write (core/run/paths.ts), temporary files
 * removed on any error and, when a process was killed mid-write, by the next run; a full disk,
 * a read-only file system or a missing permission become an {@link OutputError} in words.
 */
import { appendFileSync, closeSync, fsyncSync, lstatSync, openSync, readdirSync, realpathSync, renameSync, rmSync, writeSync, type Stats } from 'node:fs';
import * as path from 'node:path';
import { checkOutputPath, isInside, PathPolicyError } from '../core/run/paths';

/** A file ConvLens was asked to write and could not (or refused to). */
export class OutputError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'OutputError';
  }
}

/** Where a write may go: inside these folders, or exactly these files (absolute paths). */
export interface WritePolicy {
  folders: string[];
  files?: string[];
}

/** What a file system error means for the user. */
export function writeError(file: string, e: unknown, what = 'file'): OutputError {
  if (e instanceof OutputError) return e;
  if (e instanceof PathPolicyError) return new OutputError(e.message, file, 'EPOLICY');
  const err = e as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    ENOSPC: 'the disk is full',
    EDQUOT: 'the disk quota is exhausted',
    EROFS: 'the file system is read-only',
    EACCES: 'permission denied',
    EPERM: 'the operation is not permitted',
    ENOENT: 'its folder does not exist',
    ENOTDIR: 'a part of its path is not a folder',
    EISDIR: 'it is a folder',
    EFBIG: 'the file is larger than the system allows',
    EMFILE: 'too many files are open',
    ENAMETOOLONG: 'the path is too long',
    EIO: 'an input/output error occurred',
  };
  const reason = (err && err.code && why[err.code]) || (err instanceof Error ? err.message : String(e));
  return new OutputError(`cannot write the ${what} ${file}: ${reason}${err?.code === 'ENOSPC' || err?.code === 'EDQUOT' ? ' (free some space and try again; nothing was replaced)' : ''}`, file, err?.code);
}

function lstatOrUndefined(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** What a non-regular file is, in words. */
function kindOf(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a folder';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Refuses a target that exists and is not a regular file (devices, pipes, links, folders). */
export function checkReplaceable(file: string, what = 'file'): 'absent' | 'file' {
  const st = lstatOrUndefined(file);
  if (!st) return 'absent';
  if (!st.isFile()) throw new OutputError(`refusing to replace the ${what} ${file}: it is ${kindOf(st)}, and ConvLens only ever replaces regular files`, file, 'ENOTREG');
  return 'file';
}

/**
 * Checks `file` against a policy: its path (core rule), then the real location of its folder,
 * so a symbolic link inside an allowed folder cannot lead a write elsewhere.
 */
export function checkPolicy(file: string, policy: WritePolicy, what = 'file'): void {
  const abs = path.resolve(file);
  checkOutputPath(abs, policy, what);
  if (policy.files?.some((f) => path.resolve(f) === abs)) return;
  let realDir: string;
  try {
    realDir = realpathSync(path.dirname(abs));
  } catch (e) {
    throw writeError(abs, e, what);
  }
  const realFolders = policy.folders.map((d) => {
    try {
      return realpathSync(d);
    } catch {
      return path.resolve(d);
    }
  });
  if (!realFolders.some((d) => isInside(d, path.join(realDir, path.basename(abs))))) {
    throw new OutputError(`refusing to write the ${what} ${abs}: its folder is really ${realDir}, outside ${realFolders.join(' and ')}`, abs, 'EPOLICY');
  }
}

const TEMP_SUFFIX = '.tmp';
/** `.best.ckpt.12345-k3j2x.tmp` (and the older `.best.ckpt.12345.lz3k2.tmp`): the owner's pid is in the name. */
const TEMP_PATTERN = /^\..+\.(\d+)[.-][a-z0-9]+\.tmp$/;

const pending = new Set<string>();
let exitHook = false;

/** Removes this process's unfinished temporary files (on exit; writes are synchronous, so this is a last resort). */
export function removePendingTemps(): void {
  for (const t of pending) rmSync(t, { force: true });
  pending.clear();
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temporary files left in `dir` by a process that no longer runs (a `kill -9` during a
 * write); with `only`, just those of these file names (in a folder of the user's). Returns the
 * names removed. Never follows links, never touches other files.
 */
export function removeStaleTemps(dir: string, only?: readonly string[]): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const m = TEMP_PATTERN.exec(n);
    if (!m || processAlive(Number(m[1]))) continue;
    if (only && !only.some((base) => n.startsWith(`.${base}.`))) continue;
    const p = path.join(dir, n);
    const st = lstatOrUndefined(p);
    if (!st?.isFile()) continue;
    try {
      rmSync(p, { force: true });
      removed.push(n);
    } catch {
      /* someone else's: leave it */
    }
  }
  return removed;
}

/** Options of {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** Where the write may go; without it only the non-regular-file rule applies. */
  policy?: WritePolicy;
  /** What the file is, for messages ("checkpoint", "model"). */
  what?: string;
  /** Refuse when the target exists at all (the caller promised never to replace it). */
  noReplace?: boolean;
}

/**
 * Writes `bytes` to `file` atomically: a temporary file in the same folder (created exclusively,
 * so it never follows a link), flushed, then renamed over the target. A crash or a kill at any
 * moment leaves either the previous file or the new one; an error removes the temporary file
 * and leaves the target as it was.
 */
export function writeFileAtomic(file: string, bytes: Uint8Array, options: AtomicWriteOptions = {}): void {
  const what = options.what ?? 'file';
  const abs = path.resolve(file);
  if (options.policy) checkPolicy(abs, options.policy, what);
  const state = (() => {
    try {
      return checkReplaceable(abs, what);
    } catch (e) {
      throw writeError(abs, e, what);
    }
  })();
  if (options.noReplace && state !== 'absent') throw new OutputError(`refusing to replace ${abs}: it already exists`, abs, 'EEXIST');
  if (!exitHook) {
    exitHook = true;
    process.on('exit', removePendingTemps);
  }
  const dir = path.dirname(abs);
  const tmp = path.join(dir, `.${path.basename(abs)}.${process.pid}-${Math.random().toString(36).slice(2, 8)}${TEMP_SUFFIX}`);
  let fd: number | undefined;
  try {
    pending.add(tmp);
    fd = openSync(tmp, 'wx', 0o644);
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    // The target may have changed kind while we wrote (a link or a pipe put there meanwhile).
    checkReplaceable(abs, what);
    renameSync(tmp, abs);
    pending.delete(tmp);
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    rmSync(tmp, { force: true });
    pending.delete(tmp);
    throw writeError(abs, e, what);
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

/**
 * Appends one line to a JSON-lines or text file. A kill can at worst cut the last line short;
 * readers skip a last line that does not parse.
 */
export function appendLine(file: string, line: string, options: { policy?: WritePolicy; what?: string } = {}): void {
  const abs = path.resolve(file);
  try {
    if (options.policy) checkPolicy(abs, options.policy, options.what);
    checkReplaceable(abs, options.what);
    appendFileSync(abs, `${line}\n`, { flag: 'a', mode: 0o644 });
  } catch (e) {
    throw writeError(abs, e, options.what);
  }
}
