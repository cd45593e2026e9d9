import * as vscode from 'vscode';
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
      const source = q.get('uri') ?? '';
      const wanted = q.get('model');
      // The server answers for documents open in the editor: open the file first if it is not.
      if (!vscode.workspace.textDocuments.some((d) => d.uri.toString() === source) && !vscode.workspace.notebookDocuments.some((n) => n.uri.toString() === source)) {
        const target = vscode.Uri.parse(source);
        if (/\.ipynb$/i.test(target.path)) await vscode.workspace.openNotebookDocument(target);
        else await vscode.workspace.openTextDocument(target);
      }
      open.add(uri.toString());
      const r = await ctx.server.summary(source, wanted === null || wanted === 'all' ? 'all' : Number(wanted));
      return r?.text ?? `${vscode.Uri.parse(source).fsPath}: the ConvLens language server did not answer (see the ConvLens output channel)`;
    },
  };
  return vscode.Disposable.from(
    vscode.workspace.registerTextDocumentContentProvider(SUMMARY_SCHEME, provider),
    // Keep an open summary in step with its model file.
    ctx.server.onDidAnalyze((a) => {
      for (const u of open) if (new URLSearchParams(vscode.Uri.parse(u).query).get('uri') === a.uri) changed.fire(vscode.Uri.parse(u));
    }),
    vscode.workspace.onDidCloseTextDocument((d) => open.delete(d.uri.toString())),
    changed,
  );
}

export function summaryUri(source: vscode.Uri, modelId: number | 'all'): vscode.Uri {
  const name = source.path.split('/').pop() ?? 'model.py';
  return vscode.Uri.from({ scheme: SUMMARY_SCHEME, path: `/${name} summary`, query: new URLSearchParams({ uri: source.toString(), model: String(modelId) }).toString() });
}
