import * as vscode from 'vscode';
import type { Ctx } from './context';
import { summaryUri } from './summaryDocument';

type Handler = (ctx: Ctx, ...args: unknown[]) => unknown;

/** Every command, by name: the package.json `contributes.commands` list matches this table. */
export const COMMANDS: Record<string, Handler> = {
  'convlens.showSummary': async (_ctx, uri?: unknown, model?: unknown) => {
    const source = typeof uri === 'string' ? vscode.Uri.parse(uri) : vscode.window.activeTextEditor?.document.uri;
    if (!source) {
      void vscode.window.showInformationMessage('ConvLens: open a Python file with a Keras model first.');
      return;
    }
    const doc = await vscode.workspace.openTextDocument(summaryUri(source, typeof model === 'number' ? model : 'all'));
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
  },
};

export function registerCommands(ctx: Ctx): vscode.Disposable {
  return vscode.Disposable.from(
    ...Object.entries(COMMANDS).map(([name, handler]) =>
      vscode.commands.registerCommand(name, async (...args: unknown[]) => {
        try {
          return await handler(ctx, ...args);
        } catch (e) {
          ctx.log.error(`${name}: ${(e as Error).stack ?? e}`);
          void vscode.window.showErrorMessage(`ConvLens: ${(e as Error).message}`);
        }
      }),
    ),
  );
}
