/**
 * The ConvLens language server: the pure core behind the Language Server Protocol. Inlay hints,
 * hover, code lens, diagnostics (pushed) and quick fixes for Python files and Jupyter notebooks,
 * plus the custom requests of src/core/protocol/lsp.ts for the editor's commands. Analyses run in a
 * worker thread with a deadline and a heap limit (analysisHost.ts), so this thread always answers.
 */
import {
  CodeActionKind,
  DiagnosticSeverity,
  InlayHintKind,
  NotebookCellKind,
  NotebookDocuments,
  TextDocumentSyncKind,
  TextDocuments,
  type CodeAction,
  type CodeLens,
  type Connection,
  type Diagnostic,
  type Hover,
  type InitializeParams,
  type InitializeResult,
  type InlayHint,
  type Range,
  type TextEdit,
} from 'vscode-languageserver/node';
import { fileURLToPath } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { formatSummary, type ModelReport, type Problem } from '../core/index';
import { hintLabel, layerHover, layerSites, modelAt, modelLensTitle, modelStatusText, modelTooltip, type HintMode } from '../core/present';
import {
  ConvLensMethods,
  toWireModel,
  type AnalysisResult,
  type DidAnalyzeParams,
  type DocumentParams,
  type InitializationOptions,
  type ModelAtParams,
  type ModelAtResult,
  type PlanAnswer,
  type PlanParams,
  type ServerSettings,
  type SummaryParams,
  type SummaryResult,
} from '../core/protocol/lsp';
import { planTraining } from '../core/train/plan';
import { AnalysisHost, type AnalysedVersion } from './analysisHost';
import { Program } from './programs';

/** Settings with their defaults filled in. */
interface Settings {
  hints: HintMode;
  codeLens: boolean;
  diagnostics: boolean;
  syntaxErrors: boolean;
  debounceMs: number;
}

function readSettings(s: ServerSettings | undefined): Settings {
  const hints = s?.inlayHints?.show;
  return {
    hints: hints === 'shapes' || hints === 'params' || hints === 'off' ? hints : 'both',
    codeLens: s?.codeLens?.enabled !== false,
    diagnostics: s?.diagnostics?.enabled !== false,
    syntaxErrors: s?.diagnostics?.reportSyntaxErrors !== false,
    debounceMs: typeof s?.diagnostics?.debounceMs === 'number' && s.diagnostics.debounceMs >= 0 ? s.diagnostics.debounceMs : 150,
  };
}

const SEVERITY: Record<Problem['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

const rangesTouch = (a: Range, b: Range): boolean =>
  !(a.end.line < b.start.line || (a.end.line === b.start.line && a.end.character < b.start.character) || b.end.line < a.start.line || (b.end.line === a.start.line && b.end.character < a.start.character));

/** The path of a `file:` URI (modules beside it are read); undefined for untitled and virtual documents. */
function filePath(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

/** Wires the server's handlers to a connection (stdio for `convlens lsp --stdio`) and starts listening. */
export function startServer(connection: Connection): void {
  const documents = new TextDocuments(TextDocument);
  const notebooks = new NotebookDocuments(TextDocument);
  let settings = readSettings(undefined);
  /** Settings the client gave at initialization: what a pull that finds no `convlens` section falls back to. */
  let initialSettings: ServerSettings | undefined;
  let pullConfiguration = false;
  let clientCommands = false;
  let host: AnalysisHost | undefined;
  /** Notebook program versions: bumped whenever the joined text changes. */
  const notebookVersions = new Map<string, { text: string; version: number }>();
  const timers = new Map<string, NodeJS.Timeout>();
  /** Documents (URIs) that were last sent diagnostics, per program, to clear them when they leave. */
  const published = new Map<string, Set<string>>();
  const log = (m: string) => connection.console.log(m);

  const analyses = (): AnalysisHost => host!;

  /** The program a document or cell URI belongs to, as its text is now. */
  function programOf(uri: string): Program | undefined {
    const notebook = notebooks.getNotebookDocument(uri) ?? notebooks.findNotebookDocumentForCell(uri);
    if (notebook) {
      const cells = notebook.cells.map((cell) => {
        const doc = notebooks.getCellTextDocument(cell);
        return { uri: cell.document, kind: cell.kind === NotebookCellKind.Code ? ('code' as const) : ('markdown' as const), source: doc?.getText() ?? '', language: doc?.languageId };
      });
      const probe = Program.ofNotebook(notebook.uri, 0, cells);
      const known = notebookVersions.get(notebook.uri);
      const version = known && known.text === probe.text ? known.version : (known?.version ?? 0) + 1;
      notebookVersions.set(notebook.uri, { text: probe.text, version });
      return Program.ofNotebook(notebook.uri, version, cells);
    }
    const doc = documents.get(uri);
    return doc && Program.ofText(uri, doc.version, doc.getText());
  }

  async function analysisOf(uri: string): Promise<{ program: Program; result: AnalysedVersion } | undefined> {
    const program = programOf(uri);
    if (!program) return undefined;
    const result = await analyses().analyse(program.key, program.version, program.text, filePath(program.key));
    // The text may have moved on while the worker ran: map with the program the result is for.
    const current = result.version === program.version ? program : programOf(uri);
    if (!current || current.version !== result.version) return { program: programFor(result, program), result };
    return { program: current, result };
  }

  /** A program object for an older result: same documents, the result's text. */
  function programFor(result: AnalysedVersion, like: Program): Program {
    if (!like.notebook) return Program.ofText(like.key, result.version, result.text);
    return like; // a notebook's cells moved on; positions may be off until the next result
  }

  function diagnosticsFor(program: Program, result: AnalysedVersion): Map<string, Diagnostic[]> {
    const out = new Map<string, Diagnostic[]>(program.parts.map((p) => [p.uri, []]));
    if (!settings.diagnostics) return out;
    for (const p of result.analysis.problems) {
      if (!settings.syntaxErrors && p.code === 'syntax') continue;
      const at = program.range(p.span);
      if (!at) continue;
      out.get(at.part.uri)!.push({ range: at.range, message: p.message, severity: SEVERITY[p.severity], source: 'ConvLens', code: p.code });
    }
    return out;
  }

  function publish(program: Program, result: AnalysedVersion): void {
    const byDoc = diagnosticsFor(program, result);
    const before = published.get(program.key) ?? new Set();
    for (const uri of before) if (!byDoc.has(uri)) void connection.sendDiagnostics({ uri, diagnostics: [] });
    for (const [uri, diagnostics] of byDoc) {
      const doc = documents.get(uri);
      void connection.sendDiagnostics({ uri, version: doc?.version, diagnostics });
    }
    published.set(program.key, new Set(byDoc.keys()));
  }

  function schedule(uri: string, delay = settings.debounceMs): void {
    clearTimeout(timers.get(uri));
    timers.set(
      uri,
      setTimeout(() => {
        timers.delete(uri);
        void analysisOf(uri)
          .then((a) => {
            const now = programOf(uri);
            if (a && now && now.version === a.result.version) publish(a.program, a.result);
          })
          .catch((e) => log(`diagnostics of ${uri}: ${(e as Error).stack ?? e}`));
      }, delay),
    );
  }

  function clear(key: string): void {
    clearTimeout(timers.get(key));
    timers.delete(key);
    for (const uri of published.get(key) ?? []) void connection.sendDiagnostics({ uri, diagnostics: [] });
    published.delete(key);
    notebookVersions.delete(key);
    host?.forget(key);
  }

  async function refreshSettings(fromPush?: unknown): Promise<void> {
    if (pullConfiguration) {
      const [pulled] = (await connection.workspace.getConfiguration([{ section: 'convlens' }])) as [ServerSettings | undefined];
      settings = readSettings(pulled ?? initialSettings);
    } else if (fromPush && typeof fromPush === 'object' && 'convlens' in fromPush) {
      settings = readSettings((fromPush as { convlens: ServerSettings }).convlens);
    }
    void connection.languages.inlayHint.refresh().catch(() => undefined);
    void connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined);
    for (const doc of documents.all()) schedule(doc.uri, 0);
    for (const nb of notebookVersions.keys()) schedule(nb, 0);
  }

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    const init = (params.initializationOptions ?? {}) as InitializationOptions;
    initialSettings = init.settings;
    settings = readSettings(init.settings);
    clientCommands = init.clientCommands === true;
    pullConfiguration = params.capabilities.workspace?.configuration === true;
    const timeoutMs = typeof init.analysisTimeoutMs === 'number' && init.analysisTimeoutMs > 0 ? init.analysisTimeoutMs : 900;
    const memoryMb = typeof init.analysisMemoryMb === 'number' && init.analysisMemoryMb >= 32 ? init.analysisMemoryMb : 256;
    host = new AnalysisHost({ timeoutMs, memoryMb, log });
    host.onDidAnalyze = (r) => void connection.sendNotification(ConvLensMethods.didAnalyze, { uri: r.key, version: r.version } satisfies DidAnalyzeParams);
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        notebookDocumentSync: { notebookSelector: [{ notebook: { notebookType: 'jupyter-notebook' }, cells: [{ language: 'python' }] }] },
        inlayHintProvider: true,
        hoverProvider: true,
        codeLensProvider: { resolveProvider: false },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        experimental: { convlens: { pid: process.pid } },
      },
      serverInfo: { name: 'convlens', version: VERSION },
    };
  });

  connection.onInitialized(() => {
    if (pullConfiguration) void refreshSettings().catch((e) => log(`settings: ${e}`));
  });
  connection.onDidChangeConfiguration((p) => void refreshSettings(p.settings).catch((e) => log(`settings: ${e}`)));

  documents.onDidOpen((e) => schedule(e.document.uri, 0));
  documents.onDidChangeContent((e) => schedule(e.document.uri));
  documents.onDidClose((e) => clear(e.document.uri));
  notebooks.onDidOpen((nb) => schedule(nb.uri, 0));
  notebooks.onDidChange((e) => schedule(e.notebookDocument.uri));
  notebooks.onDidClose((nb) => {
    clear(nb.uri);
    for (const cell of nb.cells) void connection.sendDiagnostics({ uri: cell.document, diagnostics: [] });
  });

  connection.languages.inlayHint.on(async ({ textDocument, range }, token) => {
    if (settings.hints === 'off') return [];
    const a = await analysisOf(textDocument.uri);
    const part = a?.program.part(textDocument.uri);
    if (!a || !part || token.isCancellationRequested) return [];
    const from = part.start + part.lines.offset(range.start);
    const to = part.start + part.lines.offset(range.end);
    const hints: InlayHint[] = [];
    for (const site of layerSites(a.result.analysis)) {
      if (site.anchor < part.start || site.anchor > part.end || site.anchor < from || site.anchor > to) continue;
      const label = hintLabel(site, settings.hints);
      if (!label) continue;
      hints.push({ position: part.lines.position(site.anchor - part.start), label, kind: InlayHintKind.Type, paddingLeft: true, tooltip: { kind: 'markdown', value: layerHover(site) } });
    }
    return hints;
  });

  connection.onHover(async ({ textDocument, position }, token): Promise<Hover | null> => {
    const a = await analysisOf(textDocument.uri);
    const part = a?.program.part(textDocument.uri);
    if (!a || !part || token.isCancellationRequested) return null;
    const offset = a.program.offset(part, position);
    // The innermost layer call under the cursor.
    const site = layerSites(a.result.analysis)
      .filter((s) => s.span.start <= offset && offset <= s.span.end)
      .sort((x, y) => x.span.end - x.span.start - (y.span.end - y.span.start))[0];
    if (site) return { contents: { kind: 'markdown', value: layerHover(site) }, range: a.program.range(site.span)?.range };
    const model = a.result.analysis.models.find((m) => m.span.start <= offset && offset <= m.span.end && m.analysed);
    if (model) return { contents: { kind: 'markdown', value: modelTooltip(model) }, range: a.program.range(model.span)?.range };
    return null;
  });

  connection.onCodeLens(async ({ textDocument }, token): Promise<CodeLens[]> => {
    if (!settings.codeLens) return [];
    const a = await analysisOf(textDocument.uri);
    const part = a?.program.part(textDocument.uri);
    if (!a || !part || token.isCancellationRequested) return [];
    const lenses: CodeLens[] = [];
    for (const m of a.result.analysis.models) {
      const at = a.program.range(m.span);
      if (!at || at.part !== part) continue;
      const range = { start: { line: at.range.start.line, character: 0 }, end: { line: at.range.start.line, character: 0 } };
      const args = [a.program.key, m.id];
      if (!clientCommands) {
        lenses.push({ range, command: { title: modelLensTitle(m), command: '' } });
        continue;
      }
      lenses.push({ range, command: { title: modelLensTitle(m), command: m.analysed ? 'convlens.showSummary' : '', arguments: args, tooltip: 'Open the model summary' } as CodeLens['command'] });
      if (m.analysed) {
        lenses.push({ range, command: { title: 'Show summary', command: 'convlens.showSummary', arguments: args } });
        lenses.push({ range, command: { title: 'Train', command: 'convlens.train', arguments: args, tooltip: 'Train this model (runs in a separate process)' } as CodeLens['command'] });
        lenses.push({ range, command: { title: 'Feature maps', command: 'convlens.showFeatureMaps', arguments: args, tooltip: 'What every layer makes of an input image' } as CodeLens['command'] });
      }
    }
    return lenses;
  });

  connection.onCodeAction(async ({ textDocument, range, context }, token): Promise<CodeAction[]> => {
    const a = await analysisOf(textDocument.uri);
    const part = a?.program.part(textDocument.uri);
    if (!a || !part || token.isCancellationRequested) return [];
    const actions: CodeAction[] = [];
    for (const problem of a.result.analysis.problems) {
      if (!problem.fixes?.length) continue;
      const at = a.program.range(problem.span);
      if (!at || at.part !== part || !rangesTouch(at.range, range)) continue;
      const diagnostic: Diagnostic = { range: at.range, message: problem.message, severity: SEVERITY[problem.severity], source: 'ConvLens', code: problem.code };
      // When the editor names the diagnostics it asks about, answer only for ours among them.
      if (context.diagnostics.length && !context.diagnostics.some((d) => d.source === 'ConvLens' && d.code === problem.code && d.message === problem.message)) continue;
      problem.fixes.forEach((fix, i) => {
        const changes: Record<string, TextEdit[]> = {};
        for (const e of fix.edits) {
          const where = a.program.range(e.span);
          if (where) (changes[where.part.uri] ??= []).push({ range: where.range, newText: e.newText });
        }
        actions.push({ title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], isPreferred: i === 0, edit: { changes } });
      });
    }
    return actions;
  });

  connection.onRequest(ConvLensMethods.analysis, async ({ uri }: DocumentParams): Promise<AnalysisResult | null> => {
    const a = await analysisOf(uri);
    if (!a) return null;
    return {
      uri: a.program.key,
      version: a.result.version,
      text: a.result.text,
      models: a.result.analysis.models.map(toWireModel),
      datasets: a.result.analysis.datasets,
      cells: a.program.notebook ? a.program.parts.map((p) => ({ uri: p.uri, index: p.cell!, start: p.start, end: p.end })) : undefined,
    };
  });

  connection.onRequest(ConvLensMethods.modelAt, async ({ uri, position }: ModelAtParams): Promise<ModelAtResult | null> => {
    const a = await analysisOf(uri);
    const part = a?.program.part(uri);
    if (!a || !part) return null;
    const m = modelAt(a.result.analysis, a.program.offset(part, position));
    if (!m) return null;
    return { uri: a.program.key, id: m.id, name: m.name, analysed: m.analysed, statusText: modelStatusText(m), tooltip: modelTooltip(m) };
  });

  connection.onRequest(ConvLensMethods.summary, async ({ uri, model }: SummaryParams): Promise<SummaryResult> => {
    const a = await analysisOf(uri);
    if (!a) return { text: `${uri}: not open in the editor` };
    const models = a.result.analysis.models.filter((m) => m.analysed && (model === 'all' || m.id === model));
    if (!models.length) return { text: a.result.analysis.models.length ? 'No analysed Sequential model' : 'No Keras or PyTorch model found' };
    return { text: models.map((m) => formatSummary(m)).join('\n\n') + '\n' };
  });

  connection.onRequest(ConvLensMethods.plan, async ({ uri, model, overrides }: PlanParams): Promise<PlanAnswer | null> => {
    const a = await analysisOf(uri);
    const m: ModelReport | undefined = a?.result.analysis.models.find((x) => x.id === model);
    if (!a || !m) return null;
    const r = planTraining(m, a.result.text, overrides ?? {});
    return {
      plan: r.plan,
      notes: r.notes,
      problems: r.problems.map((p) => {
        if (!a.program.notebook) return p;
        const at = a.program.position(a.program.lines.offset({ line: p.line - 1, character: p.column - 1 }));
        return at ? { message: p.message, line: at.position.line + 1, column: at.position.character + 1, cell: (at.part.cell ?? 0) + 1 } : p;
      }),
    };
  });

  connection.onShutdown(() => {
    for (const t of timers.values()) clearTimeout(t);
    host?.dispose();
  });

  documents.listen(connection);
  notebooks.listen(connection);
  connection.listen();
}

declare const VERSION: string;
