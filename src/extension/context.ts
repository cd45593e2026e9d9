import * as path from 'node:path';
import * as vscode from 'vscode';
import type { HintMode } from '../core/present';
import { AnalysisService } from './analysisService';
import { InferenceClient } from './inferenceClient';
import { TrainingManager } from './training';

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
  private inferenceClient: InferenceClient | undefined;
  private trainingManager: TrainingManager | undefined;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('ConvLens', { log: true });
    this.analysis = new AnalysisService(this.log);
  }

  /** The inference process client, created on first use (the process starts on the first request). */
  get inference(): InferenceClient {
    return (this.inferenceClient ??= new InferenceClient(path.join(this.extension.extensionPath, 'dist'), this.log));
  }

  get training(): TrainingManager {
    return (this.trainingManager ??= new TrainingManager(this));
  }

  /** Analysis of a candidate document, loading the parser on first need. */
  async analyze(doc: vscode.TextDocument) {
    const cached = this.analysis.peek(doc);
    if (cached) return cached;
    if (!AnalysisService.isCandidate(doc)) return undefined;
    if (!this.analysis.isReady) await this.analysis.ready();
    return this.analysis.analyze(doc);
  }

  dispose(): void {
    this.trainingManager?.dispose();
    this.inferenceClient?.dispose();
    this.analysis.dispose();
    this.log.dispose();
  }
}
