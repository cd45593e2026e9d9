import type { FileAnalysis, ModelReport } from './analyze';
import type { Severity } from './diagnostics';
import type { Dim } from './shape';
import { LineIndex } from './text';

/** The documented `convlens summary --json` object for one file (lines and columns 1-based). */
export interface JsonReport {
  file: string;
  models: {
    name: string;
    /** `keras` or `pytorch`. */
    framework: string;
    variable: string | null;
    /** The same as `variable` (the document's variable for the model). */
    varName: string | null;
    kind: string;
    analysed: boolean;
    line: number;
    /** Full shapes, batch axis first (`null` for None; PyTorch's batch is the example input's). */
    inputShape: (number | null)[] | null;
    outputShape: (number | null)[] | null;
    inputs: { name: string; shape: (number | null)[] | null }[];
    outputs: { name: string; shape: (number | null)[] | null }[];
    /** One entry per call of a layer, in execution order. */
    layers: {
      name: string;
      type: string;
      /** PyTorch: the module's qualified name (`layer1.0.conv1`); absent for operations (`F.relu`, `+`). */
      module?: string;
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
    /** Where the input shape came from when the file did not declare it (`the call of the model on an example input`). */
    inputFrom?: string;
    /** PyTorch: buffers, which are not parameters (BatchNorm's running statistics). */
    buffers?: { tensors: number; elements: number | null };
    /** PyTorch: torchinfo's rows, one per module call (containers included), with its Param # rules' inputs. */
    modules?: {
      name: string;
      type: string;
      depth: number;
      depthIndex: number;
      leaf: boolean;
      recursive: boolean;
      outputShape: (number | null)[] | null;
      params: number | null;
      multAdds: number | null;
      line: number | null;
    }[];
  }[];
  diagnostics: { line: number; column: number; endLine: number; endColumn: number; severity: Severity; code: string; message: string }[];
}

const withBatch = (s: Dim[] | null, partial: boolean, batch: Dim = null): (number | null)[] | null => (s === null || partial ? null : [batch, ...s]);

/** PyTorch shapes keep their batch (the example input's); Keras' print None for it, as model.summary() does. */
function withFramework(m: ModelReport): { m: ModelReport; b: (batch: Dim) => Dim } {
  return { m, b: m.framework === 'pytorch' ? (batch) => batch : () => null };
}

export function toJsonReport(file: string, text: string, analysis: FileAnalysis): JsonReport {
  const index = new LineIndex(text);
  const pos = (o: number) => {
    const p = index.position(o);
    return { line: p.line + 1, column: p.character + 1 };
  };
  return {
    file,
    models: analysis.models.map((m) => withFramework(m)).map(({ m, b }) => ({
      name: m.name,
      framework: m.framework,
      variable: m.varName ?? null,
      varName: m.varName ?? null,
      kind: m.kind,
      analysed: m.analysed,
      line: pos(m.span.start).line,
      inputShape: withBatch(m.inputShape, false, b(m.inputBatch)),
      outputShape: withBatch(m.outputShape, false, b(m.outputBatch)),
      inputs: m.inputs.map((t) => ({ name: t.name, shape: withBatch(t.shape, false, b(m.inputBatch)) })),
      outputs: m.outputs.map((t) => ({ name: t.name, shape: withBatch(t.shape, false, b(m.outputBatch)) })),
      layers: m.layers.map((l) => ({
        name: l.name,
        type: l.className,
        ...(l.module !== undefined ? { module: l.module } : {}),
        nodeIndex: l.nodeIndex,
        line: pos(l.span.start).line,
        column: pos(l.span.start).column,
        inputs: l.inputRows.filter((r) => r >= 0).map((r) => m.layers[r].name),
        connectedTo: m.kind === 'functional' ? l.inputs : [],
        inputShapes: l.inputShapes.map((s, i) => withBatch(s, false, b(l.inputBatches[i] ?? null))),
        outputShape: withBatch(l.outputShape, l.partialShape, b(l.batch)),
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
          outputShape: last ? withBatch(last.outputShape, last.partialShape, b(last.batch)) : null,
          params: r.unbuilt ? 0 : r.params,
          connectedTo: m.kind === 'functional' ? r.calls.flatMap((i) => m.layers[i].inputs) : [],
        };
      }),
      totalParams: m.totalParams,
      trainableParams: m.trainableParams,
      nonTrainableParams: m.nonTrainableParams,
      macs: m.macs,
      ...(m.inputFrom ? { inputFrom: m.inputFrom } : {}),
      ...(m.buffers ? { buffers: m.buffers } : {}),
      ...(m.modules
        ? {
            modules: m.modules.map((r) => ({
              name: r.name,
              type: r.className,
              depth: r.depth,
              depthIndex: r.depthIndex,
              leaf: r.leaf,
              recursive: r.recursive,
              outputShape: r.outputShape,
              params: r.params,
              multAdds: r.multAdds,
              line: r.span ? pos(r.span.start).line : null,
            })),
          }
        : {}),
    })),
    diagnostics: analysis.problems.map((p) => {
      const s = pos(p.span.start);
      const e = pos(p.span.end);
      return { line: s.line, column: s.column, endLine: e.line, endColumn: e.column, severity: p.severity, code: p.code, message: p.message };
    }),
  };
}
