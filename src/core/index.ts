/** The ConvLens core: pure analysis of Keras model files, shared by the CLI, the extension and the worker. */
export { analyzeSource, mayBuildModels, type FileAnalysis, type LayerReport, type ModelReport, type ReceptiveField, type AnalyzeOptions } from './analyze';
export type { Problem, Severity, Fix, TextEdit } from './diagnostics';
export { LineIndex, type Position } from './text';
export { formatSummary, formatShape, formatCount, formatBytes, formatCompact, formatParams, formatReceptiveField } from './format';
export type { PythonParse, SyntaxTree, SyntaxCursor } from './parse/syntaxTree';
export type { Span } from './parse/pythonAst';
export type { Dim, DataFormat } from './shape';
export { LAYERS, findLayer } from './layers/index';
export { toJsonReport, type JsonReport } from './report';
