import * as vscode from 'vscode';
import { modelAt, modelStatusText, modelTooltip } from '../core/present';
import { settings, type Ctx } from './context';

/** Total parameters of the model under the cursor. */
export function registerStatusBar(ctx: Ctx): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('convlens.params', vscode.StatusBarAlignment.Right, 100);
  item.name = 'ConvLens: model parameters';

  const update = async () => {
    const editor = vscode.window.activeTextEditor;
    if (!editor || !settings().statusBar) return item.hide();
    const a = await ctx.analyze(editor.document);
    if (!a || vscode.window.activeTextEditor !== editor) return item.hide();
    const model = modelAt(a.analysis, a.lines.offset({ line: editor.selection.active.line, character: editor.selection.active.character }));
    if (!model || !model.analysed) return item.hide();
    item.text = `$(symbol-structure) ${modelStatusText(model)}`;
    item.tooltip = new vscode.MarkdownString(modelTooltip(model));
    item.command = { title: 'Show summary', command: 'convlens.showSummary', arguments: [editor.document.uri.toString(), model.id] };
    item.show();
  };
  const run = () => void update().catch((e) => ctx.log.error(`status bar: ${e}`));
  run();
  return vscode.Disposable.from(
    item,
    vscode.window.onDidChangeActiveTextEditor(run),
    vscode.window.onDidChangeTextEditorSelection(run),
    ctx.analysis.onDidAnalyze(run),
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('convlens.statusBar') && run()),
  );
}
