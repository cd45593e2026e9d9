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
    /** Full shapes, batch axis first (`null` for None). */
    inputShape: (number | null)[] | null;
    outputShape: (number | null)[] | null;
    inputs: { name: string; shape: (number | null)[] | null }[];
    outputs: { name: string; shape: (number | null)[] | null }[];
    /** One entry per call of a layer, in execution order. */
    layers: {
      name: string;
      type: string;
      /** Which call of the layer (Keras' node index; > 0 for a shared layer's later calls). */
      nodeIndex: number;
      line: number;
      column: number;
      /** Names of the layers whose outputs this call reads. */
      inputs: string[];
      /** Keras' "Connected to": `conv2d[0][0]`. */
      connectedTo: string[];
      inputShapes: ((number | null)[] | null)[];
      outputShape: (number | null)[] | null;
      params: number | null;
      trainableParams: number | null;
      nonTrainableParams: number | null;
      macs: number | null;
      receptiveField: { size: number[]; stride: number[] } | 'global' | null;
      activationBytes: number | null;
      formula: string | null;
    }[];
    /** Keras' summary rows: one per layer, in Keras' order, with the shape of its last call. */
    summary: { name: string; type: string; outputShape: (number | null)[] | null; params: number | null; connectedTo: string[] }[];
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
      outputShape: withBatch(m.outputShape, false),
      inputs: m.inputs.map((t) => ({ name: t.name, shape: withBatch(t.shape, false) })),
      outputs: m.outputs.map((t) => ({ name: t.name, shape: withBatch(t.shape, false) })),
      layers: m.layers.map((l) => ({
        name: l.name,
        type: l.className,
        nodeIndex: l.nodeIndex,
        line: pos(l.span.start).line,
        column: pos(l.span.start).column,
        inputs: l.inputRows.filter((r) => r >= 0).map((r) => m.layers[r].name),
        connectedTo: m.kind === 'functional' ? l.inputs : [],
        inputShapes: l.inputShapes.map((s) => withBatch(s, false)),
        outputShape: withBatch(l.outputShape, l.partialShape),
        params: l.params,
        trainableParams: l.trainableParams,
        nonTrainableParams: l.nonTrainableParams,
        macs: l.macs,
        receptiveField: l.receptiveField,
        activationBytes: l.activationBytes,
        formula: l.formula ?? null,
      })),
      summary: m.summary.map((r) => {
        const last = m.layers[r.calls[r.calls.length - 1]];
        return {
          name: r.name,
          type: r.className,
          outputShape: last ? withBatch(last.outputShape, last.partialShape) : null,
          params: r.unbuilt ? 0 : r.params,
          connectedTo: m.kind === 'functional' ? r.calls.flatMap((i) => m.layers[i].inputs) : [],
        };
      }),
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
