import * as vscode from 'vscode';
import { modelLensTitle } from '../core/present';
import { settings, type Ctx } from './context';
import { toRange } from './convert';

/** Above each model: `38,390 params (149.96 KB) · 497 K MACs` and `Show summary`. */
export function registerCodeLens(ctx: Ctx): vscode.Disposable {
  const changed = new vscode.EventEmitter<void>();
  const provider: vscode.CodeLensProvider = {
    onDidChangeCodeLenses: changed.event,
    async provideCodeLenses(doc, token) {
      if (!settings().codeLens) return [];
      const a = await ctx.analyze(doc);
      if (!a || token.isCancellationRequested) return [];
      const lenses: vscode.CodeLens[] = [];
      for (const m of a.analysis.models) {
        const range = toRange(a.lines, m.span);
        const line = new vscode.Range(range.start.line, 0, range.start.line, 0);
        const args = [doc.uri.toString(), m.id];
        lenses.push(new vscode.CodeLens(line, { title: modelLensTitle(m), command: m.analysed ? 'convlens.showSummary' : '', arguments: args, tooltip: 'Open the model summary' }));
        if (m.analysed) {
          lenses.push(new vscode.CodeLens(line, { title: 'Show summary', command: 'convlens.showSummary', arguments: args }));
          lenses.push(new vscode.CodeLens(line, { title: 'Train', command: 'convlens.train', arguments: args, tooltip: 'Train this model (runs in a separate process)' }));
          lenses.push(new vscode.CodeLens(line, { title: 'Feature maps', command: 'convlens.showFeatureMaps', arguments: args, tooltip: 'What every layer makes of an input image' }));
        }
      }
      return lenses;
    },
  };
  return vscode.Disposable.from(
    vscode.languages.registerCodeLensProvider({ language: 'python' }, provider),
    ctx.analysis.onDidAnalyze(() => changed.fire()),
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('convlens.codeLens') && changed.fire()),
    changed,
  );
}
