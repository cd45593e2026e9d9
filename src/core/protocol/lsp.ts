/**
 * The ConvLens language server's own requests and notifications, beside the standard LSP ones
 * (hints, hover, code lens, diagnostics, code actions). Declared once here; the server and the
 * VS Code client both import these names and types, and any other client can send them.
 */
import type { LayerReport, ModelReport } from '../analyze';
import type { Position } from '../text';
import type { PlanOverrides, TrainingPlan } from '../train/plan';

/** Method names of the custom messages. */
export const ConvLensMethods = {
  /** Request: a document's (or notebook's) analysis, for the commands. */
  analysis: 'convlens/analysis',
  /** Request: the model under the cursor, with its status-bar text and tooltip. */
  modelAt: 'convlens/modelAt',
  /** Request: `model.summary()` tables of a document's models. */
  summary: 'convlens/summary',
  /** Request: the training plan of a model, or the problems that stop it. */
  plan: 'convlens/plan',
  /** Notification, server → client: a document or notebook has a new analysis. */
  didAnalyze: 'convlens/didAnalyze',
} as const;

/** A model as it travels: the report without what only the server needs (argument values, compile() internals). */
export type WireLayer = Omit<LayerReport, 'config'>;
export type WireModel = Omit<ModelReport, 'compile' | 'layers'> & { layers: WireLayer[] };

/** Where a notebook cell's source sits in the notebook's program. */
export interface WireCell {
  /** The cell document's URI (VS Code: `vscode-notebook-cell:…`). */
  uri: string;
  /** Its index among all the notebook's cells. */
  index: number;
  start: number;
  end: number;
}

export interface DocumentParams {
  /** A text document's URI, a notebook's, or one of its cells' (which means the whole notebook). */
  uri: string;
}

export interface AnalysisResult {
  /** The analysed program: the text document, or the notebook a cell belongs to. */
  uri: string;
  version: number;
  /** The program text the spans refer to (a notebook: its code cells joined). */
  text: string;
  models: WireModel[];
  /** Keras datasets the file loads (`mnist`). */
  datasets: string[];
  /** For a notebook, where each code cell is in `text`. */
  cells?: WireCell[];
}

export interface ModelAtParams {
  uri: string;
  position: Position;
}

export interface ModelAtResult {
  /** The program the model is in (see {@link AnalysisResult.uri}). */
  uri: string;
  id: number;
  name: string;
  analysed: boolean;
  /** `sequential: 38,390 params`, safe for a status bar. */
  statusText: string;
  /** Markdown with the totals, names escaped. */
  tooltip: string;
}

export interface SummaryParams {
  uri: string;
  /** A model's id, or every analysed model. */
  model: number | 'all';
}

export interface SummaryResult {
  text: string;
}

export interface PlanParams {
  uri: string;
  model: number;
  overrides?: PlanOverrides;
}

/** A problem that stops training, where it is (1-based; `cell`: 1-based index among a notebook's cells). */
export interface PlanAnswerProblem {
  line: number;
  column: number;
  cell?: number;
  message: string;
}

export interface PlanAnswer {
  plan?: TrainingPlan;
  problems: PlanAnswerProblem[];
  notes: string[];
}

export interface DidAnalyzeParams {
  uri: string;
  version: number;
}

/** Strips a model report to what travels. */
export function toWireModel(m: ModelReport): WireModel {
  const { compile: _compile, layers, ...rest } = m;
  return { ...rest, layers: layers.map(({ config: _config, ...l }) => l) };
}

/** Settings the server reads (VS Code: `convlens.*`; other editors: the `convlens` section of their LSP settings). */
export interface ServerSettings {
  inlayHints?: { show?: 'both' | 'shapes' | 'params' | 'off' };
  codeLens?: { enabled?: boolean };
  diagnostics?: { enabled?: boolean; reportSyntaxErrors?: boolean; debounceMs?: number };
}

/** What the client may pass in `initializationOptions`. */
export interface InitializationOptions {
  settings?: ServerSettings;
  /** The client runs the `convlens.*` commands code lenses name (the VS Code extension does). */
  clientCommands?: boolean;
  /** How long one analysis may take before the file is reported as too complex (default 900 ms). */
  analysisTimeoutMs?: number;
  /** The analysis worker's heap limit in MB (default 256). */
  analysisMemoryMb?: number;
}
