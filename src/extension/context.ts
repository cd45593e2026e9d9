import * as vscode from 'vscode';
import type { HintMode } from '../core/present';
import { AnalysisService } from './analysisService';

/** Settings under `convlens.*`, read fresh on each use. */
export function settings() {
  const c = vscode.workspace.getConfiguration('convlens');
  return {
    inlayHints: c.get<HintMode>('inlayHints.show', 'both'),
    codeLens: c.get<boolean>('codeLens.enabled', true),
    statusBar: c.get<boolean>('statusBar.enabled', true),
    diagnostics: c.get<boolean>('diagnostics.enabled', true),
    reportSyntaxErrors: c.get<boolean>('diagnostics.reportSyntaxErrors', true),
    debounceMs: Math.max(0, c.get<number>('diagnostics.debounceMs', 150)),
  };
}

/** What every feature shares: one analysis service, one log. Built once in activate(). */
export class Ctx implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly analysis: AnalysisService;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('ConvLens', { log: true });
    this.analysis = new AnalysisService(this.log);
  }

  /** Analysis of a candidate document, loading the parser on first need. */
  async analyze(doc: vscode.TextDocument) {
    if (!AnalysisService.isCandidate(doc)) return undefined;
    if (!this.analysis.isReady) await this.analysis.ready();
    return this.analysis.analyze(doc);
  }

  dispose(): void {
    this.analysis.dispose();
    this.log.dispose();
  }
}
