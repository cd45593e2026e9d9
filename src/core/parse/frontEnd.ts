import type { ProblemSink } from '../diagnostics';
import { lowerModule, MAX_NESTING, type Module } from './pythonAst';
import { repairBrackets, unmapTree } from './repair';
import { parseableText } from './sourceText';
import { copyTree, type PythonParse, type RawNode } from './syntaxTree';

/**
 * Source text → the interpreter's AST, with every syntax problem reported to `sink`: tree-sitter's
 * parse of the parseable text, the bracket repair when the file has syntax errors, the lowering.
 * Undefined when the host's parser gave up (its time budget ran out); a warning then says so.
 */
export function readModule(text: string, parse: PythonParse, sink: ProblemSink): Module | undefined {
  const source = parseableText(text);
  const first = parseRaw(parse, source);
  if (!first) {
    sink.report(tooComplexProblem(text, 'parse'));
    return undefined;
  }
  let module = lowerModule(first, source);
  if (module.syntaxProblems.length > 0) {
    // A half-typed call swallows the rest of the file; close its brackets and read again.
    const repair = repairBrackets(source);
    const raw = repair && parseRaw(parse, repair.text);
    if (repair && raw) {
      unmapTree(raw, repair);
      module = lowerModule(raw, source);
      for (const ins of repair.inserts) {
        const opener = source[ins.opener];
        const closers = ins.text.length > 12 ? `${ins.text.slice(0, 12)}… (${ins.text.length} brackets)` : ins.text;
        sink.error('syntax', { start: ins.opener, end: ins.opener + 1 }, `Syntax error: this '${opener}' is never closed (ConvLens reads the statement as if '${closers}' followed on this line)`);
      }
    }
  }
  for (const p of module.syntaxProblems) {
    if (p.tooDeep) {
      sink.warning('too-deep', { start: p.span.start, end: Math.min(p.span.end, p.span.start + 1) }, `ConvLens skipped this code: it is nested more than ${MAX_NESTING} levels deep`);
      continue;
    }
    const lineEnd = source.indexOf('\n', p.span.start);
    const end = p.missing ? p.span.end : Math.max(p.span.start, Math.min(p.span.end, lineEnd < 0 ? source.length : lineEnd));
    const shownEnd = end === p.span.start && p.missing === undefined ? Math.min(source.length, end + 1) : end;
    sink.error(
      'syntax',
      { start: p.span.start, end: shownEnd },
      p.missing ? `Syntax error: missing '${p.missing}'` : 'Syntax error: ConvLens skipped the code it could not read here',
    );
  }
  return module;
}

function parseRaw(parse: PythonParse, text: string): RawNode | undefined {
  const tree = parse(text);
  if (!tree) return undefined;
  try {
    return copyTree(tree);
  } finally {
    tree.delete?.();
  }
}

/** Why an analysis stopped short of the whole file. */
export type TooComplexReason = 'parse' | 'time' | 'memory' | 'size' | 'crash';

/**
 * The warning shown when a file could not be analysed in the time or memory allowed: on its first
 * line, so it shows whatever the file holds.
 */
export function tooComplexProblem(text: string, reason: TooComplexReason, limit?: number) {
  const lineEnd = text.search(/[\r\n]/);
  const why = {
    parse: 'reading it took longer than the time allowed',
    time: `analysing it took longer than ${limit ? `${limit} ms` : 'the time allowed'}`,
    memory: `analysing it needed more than ${limit ? `${limit} MB` : 'the memory allowed'}`,
    size: `it builds more than ${limit ? limit.toLocaleString('en-US') : 'the'} layers or problems an editor can show`,
    crash: 'the analysis stopped unexpectedly',
  }[reason];
  return {
    severity: 'warning' as const,
    code: 'too-complex',
    span: { start: 0, end: lineEnd < 0 ? text.length : lineEnd },
    message: `ConvLens did not analyse this file: ${why}. The file is too large or complex to follow while you type; \`convlens summary\` on the command line has no time limit.`,
  };
}
