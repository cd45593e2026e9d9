import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { Ctx } from './context';
import { registerModelContext } from './modelContext';
import { registerOnnxEditor } from './onnxEditor';
import { registerStatusBar } from './statusBar';
import { registerSummaryDocuments } from './summaryDocument';

const FEATURES = [registerCommands, registerSummaryDocuments, registerStatusBar, registerModelContext, registerOnnxEditor];

/**
 * Activation stays cheap: the language server (a child process) starts, and it loads the
 * tree-sitter parser only when a Python file that mentions Keras or PyTorch is opened. Inlay hints, hover,
 * code lens, diagnostics and quick fixes come from the server; onnxruntime-node is never loaded here.
 */
export function activate(context: vscode.ExtensionContext): { ctx: Ctx } {
  const ctx = new Ctx(context);
  context.subscriptions.push(ctx);
  for (const register of FEATURES) {
    try {
      context.subscriptions.push(register(ctx));
    } catch (e) {
      ctx.log.error(`could not start ${register.name}: ${(e as Error).stack ?? e}`);
    }
  }
  void ctx.server.start().catch(() => undefined);
  ctx.log.info(`ConvLens ${context.extension.packageJSON.version} activated`);
  return { ctx };
}

export function deactivate(): void {}
