import * as vscode from 'vscode';
import { layerHover, layerSites, modelTooltip } from '../core/present';
import type { Ctx } from './context';
import { toRange } from './convert';

/** Hovering a layer call: input → output, the parameter formula, MACs, receptive field, memory. */
export function registerHover(ctx: Ctx): vscode.Disposable {
  return vscode.languages.registerHoverProvider(
    { language: 'python' },
    {
      async provideHover(doc, position, token) {
        const a = await ctx.analyze(doc);
        if (!a || token.isCancellationRequested) return undefined;
        const offset = a.lines.offset({ line: position.line, character: position.character });
        // The innermost layer call under the cursor.
        const site = layerSites(a.analysis)
          .filter((s) => s.span.start <= offset && offset <= s.span.end)
          .sort((x, y) => x.span.end - x.span.start - (y.span.end - y.span.start))[0];
        if (site) {
          const md = new vscode.MarkdownString(layerHover(site));
          return new vscode.Hover(md, toRange(a.lines, site.span));
        }
        const model = a.analysis.models.find((m) => m.span.start <= offset && offset <= m.span.end && m.analysed);
        if (model) return new vscode.Hover(new vscode.MarkdownString(modelTooltip(model)), toRange(a.lines, model.span));
        return undefined;
      },
    },
  );
}
