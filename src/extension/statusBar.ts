import * as vscode from 'vscode';
import { settings, type Ctx } from './context';

/** Total parameters of the model under the cursor (asked of the language server). */
export function registerStatusBar(ctx: Ctx): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('convlens.params', vscode.StatusBarAlignment.Right, 100);
  item.name = 'ConvLens: model parameters';
  let asked = 0;

  const update = async () => {
    const editor = vscode.window.activeTextEditor;
    if (!editor || !settings().statusBar || editor.document.languageId !== 'python') return item.hide();
    const mine = ++asked;
    const model = await ctx.server.modelAt(editor.document.uri.toString(), editor.selection.active);
    // A newer question (the cursor moved, another editor) answers instead.
    if (mine !== asked) return;
    if (!model || !model.analysed || vscode.window.activeTextEditor !== editor) return item.hide();
    item.text = `$(symbol-structure) ${model.statusText}`;
    item.tooltip = new vscode.MarkdownString(model.tooltip);
    item.command = { title: 'Show summary', command: 'convlens.showSummary', arguments: [model.uri, model.id] };
    item.show();
  };
  const run = () => void update().catch((e) => ctx.log.error(`status bar: ${e}`));
  run();
  return vscode.Disposable.from(
    item,
    vscode.window.onDidChangeActiveTextEditor(run),
    vscode.window.onDidChangeTextEditorSelection(run),
    ctx.server.onDidAnalyze(run),
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('convlens.statusBar') && run()),
  );
}
