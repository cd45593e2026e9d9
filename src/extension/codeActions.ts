import * as vscode from 'vscode';
import type { Ctx } from './context';
import { toRange } from './convert';

/** Quick fixes the core attached to its problems: `padding='same'`, insert `Flatten()`. */
export function registerCodeActions(ctx: Ctx): vscode.Disposable {
  return vscode.languages.registerCodeActionsProvider(
    { language: 'python' },
    {
      async provideCodeActions(doc, _range, context, token) {
        const ours = context.diagnostics.filter((d) => d.source === 'ConvLens');
        if (!ours.length) return [];
        const a = await ctx.analyze(doc);
        if (!a || token.isCancellationRequested) return [];
        const actions: vscode.CodeAction[] = [];
        for (const diagnostic of ours) {
          const problem = a.analysis.problems.find((p) => p.code === diagnostic.code && p.message === diagnostic.message && toRange(a.lines, p.span).isEqual(diagnostic.range));
          for (const fix of problem?.fixes ?? []) {
            const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
            action.diagnostics = [diagnostic];
            action.isPreferred = fix === problem!.fixes![0];
            action.edit = new vscode.WorkspaceEdit();
            for (const e of fix.edits) action.edit.replace(doc.uri, toRange(a.lines, e.span), e.newText);
            actions.push(action);
          }
        }
        return actions;
      },
    },
    { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] },
  );
}
