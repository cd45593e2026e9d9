import * as vscode from 'vscode';
import type { Problem } from '../core/index';
import { settings, type Ctx } from './context';
import { AnalysisService } from './analysisService';
import { toRange } from './convert';

const SEVERITY: Record<Problem['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  information: vscode.DiagnosticSeverity.Information,
  hint: vscode.DiagnosticSeverity.Hint,
};

/** The core's problems in the Problems panel, refreshed (debounced) as the user types. */
export function registerDiagnostics(ctx: Ctx): vscode.Disposable {
  const collection = vscode.languages.createDiagnosticCollection('convlens');
  const timers = new Map<string, NodeJS.Timeout>();

  const refresh = async (doc: vscode.TextDocument) => {
    const cfg = settings();
    if (!cfg.diagnostics || !AnalysisService.isCandidate(doc)) {
      collection.delete(doc.uri);
      return;
    }
    const a = await ctx.analyze(doc);
    if (!a || a.version !== doc.version) return;
    const diagnostics = a.analysis.problems
      .filter((p) => cfg.reportSyntaxErrors || p.code !== 'syntax')
      .map((p) => {
        const d = new vscode.Diagnostic(toRange(a.lines, p.span), p.message, SEVERITY[p.severity]);
        d.source = 'ConvLens';
        d.code = p.code;
        return d;
      });
    collection.set(doc.uri, diagnostics);
  };

  const schedule = (doc: vscode.TextDocument) => {
    const key = doc.uri.toString();
    clearTimeout(timers.get(key));
    timers.set(
      key,
      setTimeout(() => {
        timers.delete(key);
        refresh(doc).catch((e) => ctx.log.error(`diagnostics: ${e}`));
      }, settings().debounceMs),
    );
  };

  for (const doc of vscode.workspace.textDocuments) schedule(doc);
  return vscode.Disposable.from(
    collection,
    vscode.workspace.onDidOpenTextDocument(schedule),
    vscode.workspace.onDidChangeTextDocument((e) => schedule(e.document)),
    vscode.workspace.onDidCloseTextDocument((d) => {
      clearTimeout(timers.get(d.uri.toString()));
      collection.delete(d.uri);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('convlens.diagnostics')) for (const doc of vscode.workspace.textDocuments) schedule(doc);
    }),
    { dispose: () => timers.forEach((t) => clearTimeout(t)) },
  );
}
