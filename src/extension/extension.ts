import * as vscode from 'vscode';
import { registerCodeActions } from './codeActions';
import { registerCodeLens } from './codeLens';
import { registerCommands } from './commands';
import { Ctx } from './context';
import { registerDiagnostics } from './diagnostics';
import { registerHover } from './hover';
import { registerInlayHints } from './inlayHints';
import { registerStatusBar } from './statusBar';
import { registerSummaryDocuments } from './summaryDocument';

const FEATURES = [registerCommands, registerSummaryDocuments, registerDiagnostics, registerInlayHints, registerHover, registerCodeLens, registerCodeActions, registerStatusBar];

/**
 * Activation stays cheap: features register, and the tree-sitter parser loads only when a
 * Python file that mentions Keras is analysed. onnxruntime-node is never loaded here.
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
  ctx.log.info(`ConvLens ${context.extension.packageJSON.version} activated`);
  return { ctx };
}

export function deactivate(): void {}
