import * as vscode from 'vscode';
import { hintLabel, layerHover, layerSites } from '../core/present';
import { settings, type Ctx } from './context';
import { toPosition } from './convert';

/** `→ (None, 24, 24, 10) · 260 params` at the end of every layer call. */
export function registerInlayHints(ctx: Ctx): vscode.Disposable {
  const changed = new vscode.EventEmitter<void>();
  const provider: vscode.InlayHintsProvider = {
    onDidChangeInlayHints: changed.event,
    async provideInlayHints(doc, range, token) {
      const mode = settings().inlayHints;
      if (mode === 'off') return [];
      const a = await ctx.analyze(doc);
      if (!a || token.isCancellationRequested) return [];
      const hints: vscode.InlayHint[] = [];
      for (const site of layerSites(a.analysis)) {
        const at = toPosition(a.lines, site.anchor);
        if (!range.contains(at)) continue;
        const label = hintLabel(site, mode);
        if (!label) continue;
        const hint = new vscode.InlayHint(at, label, vscode.InlayHintKind.Type);
        hint.paddingLeft = true;
        hint.tooltip = new vscode.MarkdownString(layerHover(site));
        hints.push(hint);
      }
      return hints;
    },
  };
  return vscode.Disposable.from(
    vscode.languages.registerInlayHintsProvider({ language: 'python' }, provider),
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('convlens.inlayHints') && changed.fire()),
    changed,
  );
}
