/**
 * The analysis worker (dist/analysisWorker.js): parses and analyses programs for the language
 * server, one at a time, keeping each program's tree-sitter tree for incremental re-parsing. It runs
 * in a worker thread with a heap limit, so a file that makes the analysis blow up, loop or recurse
 * costs this thread, never the server: the server terminates it past a deadline and starts another.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { analyzeSource, type FileAnalysis } from '../core/index';
import { tooComplexProblem } from '../core/parse/frontEnd';
import { IncrementalParser } from '../node/incrementalParser';
import { siblingModuleLoader } from '../node/moduleLoader';
import { loadPythonParser } from '../node/pythonParser';
import type { FromWorker, ToWorker, WorkerOptions } from './workerProtocol';

const options = workerData as WorkerOptions;
const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);

void loadPythonParser().then(
  (parser) => {
    const programs = new Map<string, IncrementalParser>();
    port.on('message', (m: ToWorker) => {
      if (m.type === 'forget') {
        programs.get(m.key)?.dispose();
        programs.delete(m.key);
        return;
      }
      let doc = programs.get(m.key);
      if (!doc) programs.set(m.key, (doc = new IncrementalParser(parser, options.parseBudgetMs)));
      const t0 = performance.now();
      try {
        const analysis = bounded(m.text, analyzeSource(m.text, doc.parse(), m.file ? { loadModule: siblingModuleLoader(m.file) } : {}));
        post({ type: 'result', id: m.id, analysis, ms: performance.now() - t0 });
      } catch (e) {
        // The core never throws on any text; if it does, the server reports it and keeps going.
        doc.invalidate();
        post({ type: 'failed', id: m.id, message: (e as Error).stack ?? String(e) });
      }
    });
    post({ type: 'ready' });
  },
  (e) => {
    post({ type: 'failed', id: -1, message: `could not load the Python parser: ${(e as Error).message}` });
    process.exit(1);
  },
);

/** Past this many layers and problems an analysis is not sent: copying it to the server would stall it. */
const MAX_ITEMS = 20_000;

function bounded(text: string, a: FileAnalysis): FileAnalysis {
  let items = a.problems.length;
  for (const m of a.models) items += m.layers.length;
  return items <= MAX_ITEMS ? a : { models: [], problems: [tooComplexProblem(text, 'size', MAX_ITEMS)], datasets: a.datasets, calls: [] };
}
