import type { RawNode } from './syntaxTree';

/** Text with closing brackets inserted, and where (in original offsets) each insertion went. */
export interface Repair {
  text: string;
  inserts: { at: number; text: string; opener: number }[];
}

const STATEMENT_START =
  /^(?:(?:def|class|while|with|return|import|from|try|elif|except|finally|pass|raise|assert|del|global|nonlocal|async|await|print)\b|@|(?:if|for|else)\b.*:\s*(?:#.*)?$|[A-Za-z_][\w.]*\s*(?:\.\s*\w+\s*\(|\(|=[^=]|\+=|-=|\*=|\/=|\[))/;

/**
 * Python brackets may span lines, so tree-sitter reads everything after a half-typed
 * `model.add(layers.Conv2D(32,` as part of that call and loses the rest of the file. This
 * closes the open brackets at the end of a line when the next line clearly starts a new
 * statement at the same or a lower indentation. Only used when the file has syntax errors,
 * so valid code is never changed.
 */
export function repairBrackets(text: string): Repair | undefined {
  const inserts: Repair['inserts'] = [];
  const stack: { ch: string; at: number }[] = [];
  let stmtIndent = 0;
  let lineStart = 0;
  let lastCode = -1; // offset just after the last code character on the current line
  let i = 0;
  const n = text.length;
  const closer: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

  const indentAt = (start: number): number => {
    let k = start;
    while (k < n && (text[k] === ' ' || text[k] === '\t')) k++;
    return k - start;
  };

  const closeAll = (at: number): void => {
    if (!stack.length) return;
    inserts.push({ at, text: stack.map((s) => closer[s.ch]).reverse().join(''), opener: stack[0].at });
    stack.length = 0;
  };

  while (i < n) {
    const c = text[i];
    if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '\n') {
      if (stack.length) {
        // Find the next line with code.
        let j = i + 1;
        for (;;) {
          const ind = indentAt(j);
          const k = j + ind;
          if (k >= n) {
            j = -1;
            break;
          }
          if (text[k] === '\n' || text[k] === '#' || text[k] === '\r') {
            const nl = text.indexOf('\n', k);
            if (nl < 0) {
              j = -1;
              break;
            }
            j = nl + 1;
            continue;
          }
          break;
        }
        if (j < 0) closeAll(lastCode >= 0 ? lastCode : i);
        else {
          const ind = indentAt(j);
          const lineEnd = text.indexOf('\n', j);
          const next = text.slice(j + ind, lineEnd < 0 ? n : lineEnd);
          if (ind <= stmtIndent && STATEMENT_START.test(next)) closeAll(lastCode >= 0 ? lastCode : i);
        }
      }
      i++;
      lineStart = i;
      lastCode = -1;
      if (!stack.length) stmtIndent = indentAt(lineStart);
      continue;
    }
    if (c === '"' || c === "'") {
      const triple = text.startsWith(c.repeat(3), i);
      const q = triple ? c.repeat(3) : c;
      i += q.length;
      while (i < n) {
        if (text[i] === '\\') {
          i += 2;
          continue;
        }
        if (!triple && text[i] === '\n') break;
        if (text.startsWith(q, i)) {
          i += q.length;
          break;
        }
        i++;
      }
      lastCode = Math.min(i, n);
      continue;
    }
    if (c === '(' || c === '[' || c === '{') stack.push({ ch: c, at: i });
    else if (c === ')' || c === ']' || c === '}') {
      if (stack.length && closer[stack[stack.length - 1].ch] === c) stack.pop();
    }
    if (c !== ' ' && c !== '\t' && c !== '\r') lastCode = i + 1;
    i++;
  }
  closeAll(lastCode >= 0 ? lastCode : n);
  if (!inserts.length) return undefined;
  let out = '';
  let pos = 0;
  for (const ins of inserts) {
    out += text.slice(pos, ins.at) + ins.text;
    pos = ins.at;
  }
  out += text.slice(pos);
  return { text: out, inserts };
}

/** Maps offsets of the repaired text back to the original text, in place. */
export function unmapTree(root: RawNode, repair: Repair): void {
  // Boundaries in repaired coordinates: the k-th insertion starts at at + (sum of earlier lengths).
  const starts: number[] = [];
  const lens: number[] = [];
  let shift = 0;
  for (const ins of repair.inserts) {
    starts.push(ins.at + shift);
    lens.push(ins.text.length);
    shift += ins.text.length;
  }
  // sums[k]: the length of all insertions before the k-th. Binary search: a file may have thousands.
  const sums: number[] = [];
  for (let k = 0, total = 0; k < lens.length; k++) {
    sums.push(total);
    total += lens[k];
  }
  const map = (o: number): number => {
    let lo = 0;
    let hi = starts.length - 1;
    if (hi < 0 || o <= starts[0]) return o;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] < o) lo = mid;
      else hi = mid - 1;
    }
    return o - sums[lo] - Math.min(lens[lo], o - starts[lo]);
  };
  // Iteratively: a tree may nest 100,000 levels deep.
  const stack: RawNode[] = [root];
  while (stack.length) {
    const node = stack.pop()!;
    node.start = map(node.start);
    node.end = map(node.end);
    for (const c of node.children) stack.push(c);
  }
}
