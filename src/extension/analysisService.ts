import * as vscode from 'vscode';
import type { Parser, Tree } from 'web-tree-sitter';
import { Edit } from 'web-tree-sitter';
import { analyzeSource, LineIndex, type FileAnalysis } from '../core/index';
import type { SyntaxTree } from '../core/parse/syntaxTree';
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
  private readonly trees = new Map<string, { tree: Tree; version: number }>();
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
      analysis = analyzeSource(text, (t) => this.parse(uri, doc.version, t, text));
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

  /** Parses the document text incrementally from its previous tree; other text (a repaired copy) from scratch. */
  private parse(uri: string, version: number, text: string, documentText: string): SyntaxTree {
    const parser = this.parser!;
    if (text !== documentText) return parser.parse(text)!;
    const previous = this.trees.get(uri);
    const tree = parser.parse(text, previous?.tree ?? null)!;
    previous?.tree.delete();
    this.trees.set(uri, { tree, version });
    // The core deletes the trees it is given; this one is kept for the next keystroke.
    return { walk: () => tree.walk(), rootNode: tree.rootNode };
  }

  /** Tells the kept tree about an edit so the next parse can reuse the unchanged parts. */
  private noteEdits(e: vscode.TextDocumentChangeEvent): void {
    const uri = e.document.uri.toString();
    const kept = this.trees.get(uri);
    if (!kept || e.contentChanges.length === 0) return;
    if (e.contentChanges.length > 1) {
      // Several changes at once (multi-cursor): re-parse from scratch rather than trust the order.
      kept.tree.delete();
      this.trees.delete(uri);
      return;
    }
    const c = e.contentChanges[0];
    const lines = c.text.split('\n');
    const endRow = c.range.start.line + lines.length - 1;
    const endColumn = lines.length === 1 ? c.range.start.character + c.text.length : lines[lines.length - 1].length;
    kept.tree.edit(
      new Edit({
        startIndex: c.rangeOffset,
        oldEndIndex: c.rangeOffset + c.rangeLength,
        newEndIndex: c.rangeOffset + c.text.length,
        startPosition: { row: c.range.start.line, column: c.range.start.character },
        oldEndPosition: { row: c.range.end.line, column: c.range.end.character },
        newEndPosition: { row: endRow, column: endColumn },
      }),
    );
  }

  private forget(uri: string): void {
    this.cache.delete(uri);
    this.trees.get(uri)?.tree.delete();
    this.trees.delete(uri);
  }

  dispose(): void {
    for (const { tree } of this.trees.values()) tree.delete();
    this.trees.clear();
    this.cache.clear();
    this.onDidAnalyzeEmitter.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
