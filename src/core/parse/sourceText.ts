/**
 * The text tree-sitter is given: the document's text with the same length and offsets, changed
 * only where tree-sitter-python 0.25 misreads or crawls.
 *
 * - A lone `\r` becomes `\n`: Python (universal newlines), VS Code and the LSP end a line there,
 *   but the grammar's scanner treats `\r` as a space, so a CR-only file would read as one long line.
 * - Comment-only lines become spaces: before each comment the grammar's scanner looks ahead over
 *   every following comment line to find the next line's indentation, so a block of n comment lines
 *   costs O(n²) (8,000 lines: 7.5 s). Blank lines cost nothing, and a comment never matters to the
 *   analysis.
 * - A backslash that continues a line (outside strings) becomes spaces, with its line break: the
 *   scanner looks ahead over every following continued line each time, so n of them cost O(n²)
 *   (5,000 lines of `\`: 1.8 s in tree-sitter, 10,000: 8.8 s; a 10 KB file froze `convlens summary`).
 *   Python joins such lines into one, which is what the spaces say.
 */
export function parseableText(text: string): string {
  if (!text.includes('#') && !text.includes('\r') && !text.includes('\\')) return text;
  const out: string[] = [];
  let copied = 0;
  const n = text.length;
  let i = 0;
  let lineStart = true;
  let continued = false; // this line ends with a backslash
  let lineContinued = false; // the previous line ended with a backslash
  let quote = ''; // the open string's delimiter, when inside a string
  const newLine = () => {
    lineStart = true;
    lineContinued = continued;
    continued = false;
    // A one-quote string ends at the line's end unless a backslash continues it.
    if (quote.length === 1 && !lineContinued) quote = '';
  };
  const replace = (from: number, to: number, withText: string) => {
    out.push(text.slice(copied, from), withText);
    copied = to;
  };
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 13 /* \r */) {
      if (text.charCodeAt(i + 1) !== 10) replace(i, i + 1, '\n');
      else i++;
      i++;
      newLine();
      continue;
    }
    if (c === 10) {
      i++;
      newLine();
      continue;
    }
    if (quote) {
      if (c === 92 /* \ */) {
        continued = text.charCodeAt(i + 1) === 10 || text.charCodeAt(i + 1) === 13;
        i += continued ? 1 : 2;
        continue;
      }
      if (text.startsWith(quote, i)) {
        i += quote.length;
        quote = '';
      } else i++;
      continue;
    }
    if (lineStart) {
      lineStart = false;
      let k = i;
      while (k < n && (text.charCodeAt(k) === 32 || text.charCodeAt(k) === 9 || text.charCodeAt(k) === 12)) k++;
      if (!lineContinued && text.charCodeAt(k) === 35 /* # */) {
        let end = k;
        while (end < n && text.charCodeAt(end) !== 10 && text.charCodeAt(end) !== 13) end++;
        replace(k, end, ' '.repeat(end - k));
        i = end;
        continue;
      }
      i = k;
      continue;
    }
    if (c === 35) {
      // A comment after code: skip it (the scanner handles those in constant time).
      while (i < n && text.charCodeAt(i) !== 10 && text.charCodeAt(i) !== 13) i++;
      continue;
    }
    if (c === 34 || c === 39) {
      const q = String.fromCharCode(c);
      quote = text.startsWith(q + q + q, i) ? q + q + q : q;
      i += quote.length;
      continue;
    }
    if (c === 92) {
      const next = text.charCodeAt(i + 1);
      if (next !== 10 && next !== 13) {
        i += 2;
        continue;
      }
      const end = i + (next === 13 && text.charCodeAt(i + 2) === 10 ? 3 : 2);
      replace(i, end, ' '.repeat(end - i));
      i = end;
      continued = true;
      newLine();
      continue;
    }
    i++;
  }
  if (copied === 0) return text;
  out.push(text.slice(copied));
  return out.join('');
}
