import type { FileAnalysis } from '../core/index';

/** Main thread → analysis worker. */
export type ToWorker =
  | { type: 'analyze'; id: number; key: string; text: string; /** The file on disk, whose folder's modules imports read. */ file?: string }
  | { type: 'forget'; key: string };

/** Analysis worker → main thread. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'result'; id: number; analysis: FileAnalysis; ms: number }
  | { type: 'failed'; id: number; message: string };

/** Options the worker is started with (its `workerData`). */
export interface WorkerOptions {
  /** tree-sitter's time budget per parse, in ms. */
  parseBudgetMs: number;
}
