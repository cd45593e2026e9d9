import * as path from 'node:path';
import * as vscode from 'vscode';
import { CloseAction, ErrorAction, LanguageClient, State, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import {
  ConvLensMethods,
  type AnalysisResult,
  type DidAnalyzeParams,
  type InitializationOptions,
  type ModelAtResult,
  type PlanAnswer,
  type ServerSettings,
  type SummaryResult,
} from '../core/protocol/lsp';
import type { PlanOverrides } from '../core/train/plan';

/** Restarts allowed within {@link RESTART_WINDOW_MS} before the client gives up. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 3 * 60_000;

/**
 * The client of the ConvLens language server (`dist/cli.js lsp --stdio`, a child process). Inlay
 * hints, hover, code lens, diagnostics and quick fixes are the LSP client's own providers; this
 * class adds the custom requests the commands, status bar and summary documents need, and
 * restarts a server that dies, with a message, without touching the extension host.
 */
export class ConvLensClient implements vscode.Disposable {
  readonly client: LanguageClient;
  private readonly analysed = new vscode.EventEmitter<DidAnalyzeParams>();
  /** Fires when the server has analysed a document or notebook (URI of the file or notebook). */
  readonly onDidAnalyze = this.analysed.event;
  private readonly restarts: number[] = [];
  /** How many times the server was restarted after stopping unexpectedly. */
  restartCount = 0;
  private starting: Promise<void> | undefined;

  constructor(distDir: string, private readonly log: vscode.LogOutputChannel) {
    const module = path.join(distDir, 'cli.js');
    const server: ServerOptions = {
      run: { module, args: ['lsp'], transport: TransportKind.stdio },
      debug: { module, args: ['lsp'], transport: TransportKind.stdio },
    };
    const options: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: 'python' },
        { scheme: 'untitled', language: 'python' },
        { scheme: 'vscode-notebook-cell', language: 'python' },
      ],
      outputChannel: log,
      initializationOptions: (): InitializationOptions => ({ clientCommands: true, settings: vscode.workspace.getConfiguration().get<ServerSettings>('convlens') }),
      synchronize: { configurationSection: 'convlens' },
      errorHandler: {
        error: (_e, _m, count) => ({ action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown }),
        closed: () => {
          const now = Date.now();
          this.restarts.push(now);
          while (this.restarts.length && this.restarts[0] < now - RESTART_WINDOW_MS) this.restarts.shift();
          if (this.restarts.length > MAX_RESTARTS) {
            const message = `The ConvLens language server stopped ${this.restarts.length} times in 3 minutes and will not be restarted: shapes and diagnostics are off until the window is reloaded. The ConvLens output channel has the details.`;
            void vscode.window.showErrorMessage(message);
            return { action: CloseAction.DoNotRestart, message, handled: true };
          }
          this.restartCount++;
          log.warn('the ConvLens language server stopped unexpectedly; restarting it');
          void vscode.window.showWarningMessage('The ConvLens language server stopped unexpectedly and was restarted.');
          return { action: CloseAction.Restart, handled: true };
        },
      },
    };
    this.client = new LanguageClient('convlens', 'ConvLens', server, options);
    this.client.onNotification(ConvLensMethods.didAnalyze, (p: DidAnalyzeParams) => this.analysed.fire(p));
  }

  /** Starts the server (once). */
  start(): Promise<void> {
    this.starting ??= this.client.start().then(
      () => this.log.info(`ConvLens language server started (pid ${this.pid})`),
      (e) => {
        this.log.error(`the ConvLens language server did not start: ${(e as Error).message}`);
        throw e;
      },
    );
    return this.starting;
  }

  /** The server process's id, as it reported it (for the restart test and the log). */
  get pid(): number | undefined {
    return (this.client.initializeResult?.capabilities.experimental as { convlens?: { pid?: number } } | undefined)?.convlens?.pid;
  }

  get running(): boolean {
    return this.client.state === State.Running;
  }

  private async request<R>(method: string, params: unknown): Promise<R | undefined> {
    await this.start();
    try {
      return await this.client.sendRequest<R>(method, params);
    } catch (e) {
      this.log.warn(`${method}: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** A document's or notebook's analysis (any cell's URI means its notebook). */
  analysis(uri: string): Promise<AnalysisResult | undefined> {
    return this.request<AnalysisResult | null>(ConvLensMethods.analysis, { uri }).then((r) => r ?? undefined);
  }

  modelAt(uri: string, position: vscode.Position): Promise<ModelAtResult | undefined> {
    return this.request<ModelAtResult | null>(ConvLensMethods.modelAt, { uri, position: { line: position.line, character: position.character } }).then((r) => r ?? undefined);
  }

  summary(uri: string, model: number | 'all'): Promise<SummaryResult | undefined> {
    return this.request<SummaryResult>(ConvLensMethods.summary, { uri, model });
  }

  plan(uri: string, model: number, overrides?: PlanOverrides): Promise<PlanAnswer | undefined> {
    return this.request<PlanAnswer | null>(ConvLensMethods.plan, { uri, model, overrides }).then((r) => r ?? undefined);
  }

  dispose(): void {
    this.analysed.dispose();
    void this.client.stop(2000).catch(() => undefined);
  }
}
