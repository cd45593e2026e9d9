/**
 * The path policy of everything a training run writes, pure so the CLI, the extension and the
 * trainer share one rule: names that come from a model file (`Sequential(name=…)`, the file's
 * stem) become one safe path segment, and every output path must lie inside the folder it was
 * meant for. Paths are plain strings; both '/' and '\' separate segments, and a drive letter
 * (`C:`) or a leading separator marks an absolute path. The Node side resolves paths first
 * (`path.resolve`, `realpath`) and asks these functions whether the result is allowed.
 */

/** Windows' reserved device names, refused as a file name on every platform (a run folder may be copied there). */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/** The longest segment a sanitised name yields (file systems allow 255 bytes; room is left for suffixes). */
export const MAX_SEGMENT = 80;

/**
 * One safe path segment from a name that may hold anything: letters, digits, `.`, `_` and `-`
 * are kept; separators, `..`, control characters, spaces and other punctuation become `_`;
 * leading dots are dropped (no hidden files, no `..`); Windows' reserved names get a `_` prefix;
 * an empty result becomes `fallback`. Runs of dots are squeezed to one, so no segment is ever
 * `..`: `x/../../../../tmp/escaped` gives `x_._._._._tmp_escaped`.
 */
export function safeSegment(name: string, fallback = 'model'): string {
  let s = Array.from(name.normalize('NFC'))
    .map((ch) => (/^[A-Za-z0-9._-]$/.test(ch) ? ch : '_'))
    .join('');
  s = s.replace(/\.{2,}/g, '.').replace(/_{2,}/g, '_').replace(/^[._]+/, '').replace(/[. ]+$/, '');
  if (s.length > MAX_SEGMENT) s = s.slice(0, MAX_SEGMENT).replace(/[.]+$/, '');
  if (s === '' || s === '_') return fallback;
  if (WINDOWS_RESERVED.test(s)) s = `_${s}`;
  return s;
}

/** Why a name cannot be used as a path segment as it is, or undefined when it can. */
export function unsafeSegmentReason(name: string): string | undefined {
  if (name === '') return 'it is empty';
  if (/[\\/]/.test(name)) return 'it contains a path separator';
  if (name === '.' || name === '..') return `'${name}' names a folder`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'it contains a control character';
  return undefined;
}

/** True for `/x`, `\\server\share`, `C:\x`, `C:/x`. */
export function isAbsolutePath(p: string): boolean {
  return /^([A-Za-z]:)?[\\/]/.test(p);
}

/** The path with '/' separators, `.` and `..` segments resolved, no trailing separator; undefined when `..` climbs above the root. */
export function normalizePath(p: string): string | undefined {
  const drive = /^[A-Za-z]:/.exec(p)?.[0] ?? '';
  const rest = p.slice(drive.length);
  const absolute = /^[\\/]/.test(rest);
  const out: string[] = [];
  for (const seg of rest.split(/[\\/]+/)) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0 || out[out.length - 1] === '..') {
        if (absolute) return undefined;
        out.push('..');
      } else out.pop();
    } else out.push(seg);
  }
  const body = out.join('/');
  return `${drive}${absolute ? '/' : ''}${body}` || (absolute ? '/' : '.');
}

/** Joins segments with '/' and normalises; a later absolute segment replaces what came before. */
export function joinPath(...parts: string[]): string {
  let acc = '';
  for (const p of parts) {
    if (p === '') continue;
    acc = acc === '' || isAbsolutePath(p) ? p : `${acc}/${p}`;
  }
  return normalizePath(acc) ?? acc;
}

/** The folder part of a path ('.' when it has none). */
export function dirnameOf(p: string): string {
  const i = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  if (i < 0) return '.';
  if (i === 0) return p.slice(0, 1);
  if (i === 2 && /^[A-Za-z]:/.test(p)) return p.slice(0, 3);
  return p.slice(0, i);
}

/** The last segment of a path. */
export function basenameOf(p: string): string {
  const i = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return p.slice(i + 1);
}

/** Whether paths compare case-insensitively (a Windows drive letter). */
function caseInsensitive(p: string): boolean {
  return /^[A-Za-z]:/.test(p);
}

/**
 * Whether `child` is `parent` itself (when `orSame`) or lies below it, after normalising both.
 * Both must be absolute; a relative path is never inside anything (resolve it first).
 */
export function isInside(parent: string, child: string, orSame = false): boolean {
  if (!isAbsolutePath(parent) || !isAbsolutePath(child)) return false;
  let a = normalizePath(parent);
  let b = normalizePath(child);
  if (a === undefined || b === undefined) return false;
  if (caseInsensitive(a) || caseInsensitive(b)) {
    a = a.toLowerCase();
    b = b.toLowerCase();
  }
  if (a === b) return orSame;
  return b.startsWith(a.endsWith('/') ? a : `${a}/`);
}

/** Two absolute paths naming the same file after normalisation (case-insensitively on Windows drives). */
export function samePath(a: string, b: string): boolean {
  const x = normalizePath(a);
  const y = normalizePath(b);
  if (x === undefined || y === undefined) return false;
  return caseInsensitive(x) || caseInsensitive(y) ? x.toLowerCase() === y.toLowerCase() : x === y;
}

/** A path refused by the policy, with the reason in words. */
export class PathPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PathPolicyError';
  }
}

/**
 * Checks that `file` (absolute) lies inside one of `allowed` (absolute folders, or exact files
 * the user chose); throws a {@link PathPolicyError} naming the file and the folders otherwise.
 */
export function checkOutputPath(file: string, allowed: { folders: string[]; files?: string[] }, what = 'output'): void {
  if (!isAbsolutePath(file)) throw new PathPolicyError(`the ${what} path '${file}' is not absolute (resolve it first)`);
  if (normalizePath(file) === undefined) throw new PathPolicyError(`the ${what} path '${file}' climbs above the root`);
  if (allowed.files?.some((f) => samePath(f, file))) return;
  if (allowed.folders.some((d) => isInside(d, file))) return;
  const where = [...allowed.folders.map((d) => `inside ${d}`), ...(allowed.files ?? []).map((f) => `at ${f}`)].join(' or ');
  throw new PathPolicyError(`refusing to write the ${what} ${file}: ConvLens only writes ${where || 'where it was told to'}`);
}
