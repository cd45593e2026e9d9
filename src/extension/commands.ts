import * as vscode from 'vscode';
import type { Ctx } from './context';
import { exportOnnx } from './exportOnnx';
import { ModelPanel } from './panel';
import { runAction } from './runActions';
import { summaryUri } from './summaryDocument';
import type { TrainOptions } from './training';

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
  'convlens.train': async (ctx, uri?: unknown, model?: unknown, options?: unknown) => {
    // The panel opens first, so the curves are there from the first batch.
    if (vscode.workspace.getConfiguration('convlens.training').get<boolean>('showPanel', true)) await ModelPanel.show(ctx, uri, model, 'training');
    return ctx.training.train(uri, model, typeof options === 'object' && options !== null ? (options as TrainOptions) : {});
  },
  'convlens.stopTraining': (ctx) => ctx.training.stop(),
  'convlens.showFeatureMaps': (ctx, uri?: unknown, model?: unknown) => ModelPanel.show(ctx, uri, model, 'features'),
  'convlens.showGraph': (ctx, uri?: unknown, model?: unknown) => ModelPanel.show(ctx, uri, model, 'graph'),
  'convlens.showRuns': (ctx, uri?: unknown, model?: unknown) => ModelPanel.show(ctx, uri, model, 'training'),
  'convlens.evaluateCheckpoint': (ctx, target?: unknown, data?: unknown) => runAction(ctx, 'evaluate', target, data),
  'convlens.checkpointFeatureMaps': (ctx, target?: unknown) => runAction(ctx, 'features', target),
  'convlens.exportCheckpoint': (ctx, target?: unknown) => runAction(ctx, 'export', target),
  'convlens.resumeTraining': (ctx, target?: unknown) => runAction(ctx, 'resume', target),
  'convlens.exportOnnx': (ctx, uri?: unknown, model?: unknown, checkpoint?: unknown) => exportOnnx(ctx, uri, model, typeof checkpoint === 'string' ? checkpoint : undefined),
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
