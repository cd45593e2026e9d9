import * as vscode from 'vscode';
import type { Parser } from 'web-tree-sitter';
import { analyzeSource, LineIndex, type FileAnalysis } from '../core/index';
import { siblingModuleLoader } from '../node/moduleLoader';
import { IncrementalParser } from '../node/incrementalParser';
import { loadPythonParser } from '../node/pythonParser';

/** A document's analysis, valid for one version of its text. */
export interface DocumentAnalysis {
  uri: string;
  version: number;
  text: string;
  lines: LineIndex;
  analysis: FileAnalysis;
}

/** Cheap test run before loading anything: does this file look like it builds a Keras model? */
const KERAS_HINT = /\b(?:keras|Sequential|Conv[123]D|Dense)\b/;

/**
 * Analyses documents on demand, one result per document version, and keeps each document's
 * tree-sitter tree so a keystroke re-parses incrementally.
 */
export class AnalysisService implements vscode.Disposable {
  private parser: Parser | undefined;
  private loading: Promise<Parser> | undefined;
  private readonly cache = new Map<string, DocumentAnalysis>();
  private readonly parsers = new Map<string, IncrementalParser>();
  private readonly onDidAnalyzeEmitter = new vscode.EventEmitter<DocumentAnalysis>();
  readonly onDidAnalyze = this.onDidAnalyzeEmitter.event;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.subscriptions.push(
      vscode.workspace.onDidChangeTextDocument((e) => this.noteEdits(e)),
      vscode.workspace.onDidCloseTextDocument((d) => this.forget(d.uri.toString())),
    );
  }

  /** Whether the document is worth analysing (Python that mentions Keras). */
  static isCandidate(doc: vscode.TextDocument): boolean {
    return doc.languageId === 'python' && KERAS_HINT.test(doc.getText());
  }

  /** Loads tree-sitter on first need: activation stays cheap until a model file shows up. */
  async ready(): Promise<void> {
    if (this.parser) return;
    this.loading ??= loadPythonParser().then((p) => {
      this.parser = p;
      this.log.info('tree-sitter Python parser loaded');
      return p;
    });
    await this.loading;
  }

  get isReady(): boolean {
    return this.parser !== undefined;
  }

  /** The cached analysis for the document's current version, if any. */
  peek(doc: vscode.TextDocument): DocumentAnalysis | undefined {
    const c = this.cache.get(doc.uri.toString());
    return c && c.version === doc.version ? c : undefined;
  }

  /** Analyses the current version (synchronously once the parser is loaded). */
  analyze(doc: vscode.TextDocument): DocumentAnalysis | undefined {
    const cached = this.peek(doc);
    if (cached) return cached;
    if (!this.parser) return undefined;
    const uri = doc.uri.toString();
    const text = doc.getText();
    const started = performance.now();
    let analysis: FileAnalysis;
    try {
      let incremental = this.parsers.get(uri);
      if (!incremental) this.parsers.set(uri, (incremental = new IncrementalParser(this.parser)));
      analysis = analyzeSource(text, incremental.parseFor(text), doc.uri.scheme === 'file' ? { loadModule: siblingModuleLoader(doc.uri.fsPath) } : {});
    } catch (e) {
      // The core never throws on any text; if it ever does, log it and show nothing rather than crash.
      this.log.error(`analysis of ${doc.uri.fsPath} failed: ${(e as Error).stack ?? e}`);
      return undefined;
    }
    const result: DocumentAnalysis = { uri, version: doc.version, text, lines: new LineIndex(text), analysis };
    this.cache.set(uri, result);
    this.log.trace(`analysed ${doc.uri.fsPath} v${doc.version} in ${(performance.now() - started).toFixed(1)} ms: ${analysis.models.length} model(s), ${analysis.problems.length} problem(s)`);
    this.onDidAnalyzeEmitter.fire(result);
    return result;
  }

  /** Tells the document's kept tree about an edit so the next parse reuses the unchanged parts. */
  private noteEdits(e: vscode.TextDocumentChangeEvent): void {
    this.parsers.get(e.document.uri.toString())?.applyChanges(
      e.contentChanges.map((c) => ({ rangeOffset: c.rangeOffset, rangeLength: c.rangeLength, text: c.text, start: c.range.start, end: c.range.end })),
    );
  }

  private forget(uri: string): void {
    this.cache.delete(uri);
    this.parsers.get(uri)?.dispose();
    this.parsers.delete(uri);
  }

  dispose(): void {
    for (const p of this.parsers.values()) p.dispose();
    this.parsers.clear();
    this.cache.clear();
    this.onDidAnalyzeEmitter.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
