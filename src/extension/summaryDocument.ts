import * as vscode from 'vscode';
import { formatSummary } from '../core/index';
import type { Ctx } from './context';

export const SUMMARY_SCHEME = 'convlens-summary';

/** `model.summary()` tables as read-only documents: convlens-summary:/model.py summary?uri=…&model=… */
export function registerSummaryDocuments(ctx: Ctx): vscode.Disposable {
  const changed = new vscode.EventEmitter<vscode.Uri>();
  const open = new Set<string>();
  const provider: vscode.TextDocumentContentProvider = {
    onDidChange: changed.event,
    async provideTextDocumentContent(uri) {
      const q = new URLSearchParams(uri.query);
      const source = vscode.Uri.parse(q.get('uri') ?? '');
      const doc = await vscode.workspace.openTextDocument(source);
      const a = await ctx.analyze(doc);
      if (!a) return `${source.fsPath}: no Keras model found`;
      open.add(uri.toString());
      const wanted = q.get('model');
      const models = a.analysis.models.filter((m) => m.analysed && (wanted === null || wanted === 'all' || String(m.id) === wanted));
      if (!models.length) return `${source.fsPath}: no analysed Sequential model`;
      return models.map((m) => formatSummary(m)).join('\n\n') + '\n';
    },
  };
  return vscode.Disposable.from(
    vscode.workspace.registerTextDocumentContentProvider(SUMMARY_SCHEME, provider),
    // Keep an open summary in step with its model file.
    ctx.analysis.onDidAnalyze((a) => {
      for (const u of open) if (new URLSearchParams(vscode.Uri.parse(u).query).get('uri') === a.uri) changed.fire(vscode.Uri.parse(u));
    }),
    changed,
  );
}

export function summaryUri(source: vscode.Uri, modelId: number | 'all'): vscode.Uri {
  const name = source.path.split('/').pop() ?? 'model.py';
  return vscode.Uri.from({ scheme: SUMMARY_SCHEME, path: `/${name} summary`, query: new URLSearchParams({ uri: source.toString(), model: String(modelId) }).toString() });
}
