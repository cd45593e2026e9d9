import * as vscode from 'vscode';
import type { Ctx } from './context';

/**
 * The `convlens.hasModel` context key: true while the active editor (or notebook) holds a model
 * the language server analysed, so the title-bar buttons and the palette's model commands appear
 * only there, not on every Python file.
 */
export function registerModelContext(ctx: Ctx): vscode.Disposable {
  let generation = 0;
  let last: boolean | undefined;
  const update = async () => {
    const mine = ++generation;
    const uri = vscode.window.activeTextEditor?.document.uri ?? vscode.window.activeNotebookEditor?.notebook.uri;
    const python = !!uri && (vscode.window.activeTextEditor?.document.languageId === 'python' || !!vscode.window.activeNotebookEditor);
    const a = python ? await ctx.server.analysis(uri!.toString()) : undefined;
    if (mine !== generation) return;
    const has = !!a?.models.some((m) => m.analysed);
    if (has === last) return;
    last = has;
    void vscode.commands.executeCommand('setContext', 'convlens.hasModel', has);
  };
  void update();
  return vscode.Disposable.from(
    vscode.window.onDidChangeActiveTextEditor(() => void update()),
    vscode.window.onDidChangeActiveNotebookEditor(() => void update()),
    ctx.server.onDidAnalyze((p) => {
      const active = vscode.window.activeTextEditor?.document.uri.toString() ?? vscode.window.activeNotebookEditor?.notebook.uri.toString();
      const cells = vscode.window.activeNotebookEditor?.notebook.getCells().map((c) => c.document.uri.toString()) ?? [];
      if (p.uri === active || cells.includes(p.uri)) void update();
    }),
  );
}
