import * as vscode from 'vscode';
import type { LineIndex, Span } from '../core/index';

/** A core span as a VS Code range. */
export function toRange(lines: LineIndex, span: Span): vscode.Range {
  const s = lines.position(span.start);
  const e = lines.position(span.end);
  return new vscode.Range(s.line, s.character, e.line, e.character);
}

export function toPosition(lines: LineIndex, offset: number): vscode.Position {
  const p = lines.position(offset);
  return new vscode.Position(p.line, p.character);
}
