import type { FileAnalysis } from './analyze';
import type { Severity } from './diagnostics';
import type { Dim } from './shape';
import { LineIndex } from './text';

/** The documented `convlens summary --json` object for one file (lines and columns 1-based). */
export interface JsonReport {
  file: string;
  models: {
    name: string;
    variable: string | null;
    kind: string;
    analysed: boolean;
    line: number;
    inputShape: (number | null)[] | null;
    layers: {
      name: string;
      type: string;
      line: number;
      column: number;
      outputShape: (number | null)[] | null;
      params: number | null;
      trainableParams: number | null;
      nonTrainableParams: number | null;
      macs: number | null;
      receptiveField: { size: number[]; stride: number[] } | 'global' | null;
      activationBytes: number | null;
      formula: string | null;
    }[];
    totalParams: number | null;
    trainableParams: number | null;
    nonTrainableParams: number | null;
    macs: number | null;
  }[];
  diagnostics: { line: number; column: number; endLine: number; endColumn: number; severity: Severity; code: string; message: string }[];
}

const withBatch = (s: Dim[] | null, partial: boolean): (number | null)[] | null => (s === null || partial ? null : [null, ...s]);

export function toJsonReport(file: string, text: string, analysis: FileAnalysis): JsonReport {
  const index = new LineIndex(text);
  const pos = (o: number) => {
    const p = index.position(o);
    return { line: p.line + 1, column: p.character + 1 };
  };
  return {
    file,
    models: analysis.models.map((m) => ({
      name: m.name,
      variable: m.varName ?? null,
      kind: m.kind,
      analysed: m.analysed,
      line: pos(m.span.start).line,
      inputShape: withBatch(m.inputShape, false),
      layers: m.layers.map((l) => ({
        name: l.name,
        type: l.className,
        line: pos(l.span.start).line,
        column: pos(l.span.start).column,
        outputShape: withBatch(l.outputShape, l.partialShape),
        params: l.params,
        trainableParams: l.trainableParams,
        nonTrainableParams: l.nonTrainableParams,
        macs: l.macs,
        receptiveField: l.receptiveField,
        activationBytes: l.activationBytes,
        formula: l.formula ?? null,
      })),
      totalParams: m.totalParams,
      trainableParams: m.trainableParams,
      nonTrainableParams: m.nonTrainableParams,
      macs: m.macs,
    })),
    diagnostics: analysis.problems.map((p) => {
      const s = pos(p.span.start);
      const e = pos(p.span.end);
      return { line: s.line, column: s.column, endLine: e.line, endColumn: e.column, severity: p.severity, code: p.code, message: p.message };
    }),
  };
}
