import * as path from 'node:path';
import * as vscode from 'vscode';
import { ConvLensClient } from './client';
import { InferenceClient } from './inferenceClient';
import { TrainingManager } from './training';

/** Settings under `convlens.*` the extension itself reads (the language server reads the rest). */
export function settings() {
  const c = vscode.workspace.getConfiguration('convlens');
  return {
    statusBar: c.get<boolean>('statusBar.enabled', true),
  };
}

/** What every feature shares: the language-server client, one log. Built once in activate(). */
export class Ctx implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly server: ConvLensClient;
  private inferenceClient: InferenceClient | undefined;
  private trainingManager: TrainingManager | undefined;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('ConvLens', { log: true });
    this.server = new ConvLensClient(path.join(extension.extensionPath, 'dist'), this.log);
  }

  /** The inference process client, created on first use (the process starts on the first request). */
  get inference(): InferenceClient {
    return (this.inferenceClient ??= new InferenceClient(path.join(this.extension.extensionPath, 'dist'), this.log));
  }

  get training(): TrainingManager {
    return (this.trainingManager ??= new TrainingManager(this));
  }

  dispose(): void {
    this.trainingManager?.dispose();
    this.inferenceClient?.dispose();
    this.server.dispose();
    this.log.dispose();
  }
}
