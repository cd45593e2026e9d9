import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LineIndex } from '../core/index';
import type { PlanAnswer, WireCell, WireModel } from '../core/protocol/lsp';
import type { PlanOverrides } from '../core/train/plan';
import type { Ctx } from './context';

/** A model of a Python file or notebook, chosen for training or the panel. */
export interface ChosenModel {
  /** The model file, or the notebook (never one of its cells). */
  doc: { uri: vscode.Uri };
  model: WireModel;
  /** The program text the model's spans refer to (a notebook: its code cells joined). */
  text: string;
  /** The Keras dataset the file loads (`mnist`), if any. */
  datasetHint?: string;
  /** Where a program offset is, as a person reads it: its line (in a notebook, inside its cell). */
  lineOf(offset: number): number;
  /** For a notebook: where each code cell is in `text`. */
  cells?: WireCell[];
}

const isNotebookFile = (uri: vscode.Uri) => /\.ipynb$/i.test(uri.path);

/** Makes sure the language server has the file: a file not open in the editor is opened (not shown). */
async function ensureOpen(target: vscode.Uri): Promise<void> {
  const key = target.toString();
  if (vscode.workspace.textDocuments.some((d) => d.uri.toString() === key)) return;
  if (vscode.workspace.notebookDocuments.some((n) => n.uri.toString() === key || n.getCells().some((c) => c.document.uri.toString() === key))) return;
  if (isNotebookFile(target)) await vscode.workspace.openNotebookDocument(target);
  else await vscode.workspace.openTextDocument(target);
}

/**
 * The model a command acts on: the one with the given id, else the one under the cursor in the
 * active editor, else the file's first analysed model. A notebook cell's URI means its notebook.
 */
export async function chooseModel(ctx: Ctx, uri?: unknown, modelId?: unknown): Promise<ChosenModel | undefined> {
  const editor = vscode.window.activeTextEditor;
  const target = typeof uri === 'string' ? vscode.Uri.parse(uri) : uri instanceof vscode.Uri ? uri : (editor?.document.uri ?? vscode.window.activeNotebookEditor?.notebook.uri);
  if (!target) {
    void vscode.window.showInformationMessage('ConvLens: open a Python file or notebook with a Keras model first.');
    return undefined;
  }
  await ensureOpen(target);
  const a = await ctx.server.analysis(target.toString());
  const analysed = a?.models.filter((m) => m.analysed) ?? [];
  if (!a || analysed.length === 0) {
    void vscode.window.showWarningMessage(`ConvLens: ${vscode.workspace.asRelativePath(target)} has no Sequential Keras model to work with.`);
    return undefined;
  }
  // A model by id (code lenses), or by name (a run folder records its model's name).
  let model = typeof modelId === 'number' ? analysed.find((m) => m.id === modelId) : typeof modelId === 'string' ? analysed.find((m) => m.name === modelId) : undefined;
  if (!model && editor) {
    const at = await ctx.server.modelAt(editor.document.uri.toString(), editor.selection.active);
    model = at?.uri === a.uri && at.analysed ? analysed.find((m) => m.id === at.id) : undefined;
  }
  return { doc: { uri: vscode.Uri.parse(a.uri) }, model: model ?? analysed[0], text: a.text, datasetHint: a.datasets[0], lineOf: lineFinder(a.text, a.cells), cells: a.cells };
}

function lineFinder(text: string, cells: WireCell[] | undefined): (offset: number) => number {
  const program = new LineIndex(text);
  if (!cells) return (o) => program.position(o).line + 1;
  return (o) => {
    const cell = cells.find((c) => o >= c.start && o <= c.end);
    return cell ? new LineIndex(text.slice(cell.start, cell.end)).position(o - cell.start).line + 1 : program.position(o).line + 1;
  };
}

/** The training plan (made by the language server), or the problems that stop it, said once in words. */
export async function planOrExplain(ctx: Ctx, chosen: ChosenModel, overrides: PlanOverrides = {}): Promise<PlanAnswer & { explanation?: string }> {
  const r = (await ctx.server.plan(chosen.doc.uri.toString(), chosen.model.id, overrides)) ?? {
    problems: [{ line: 1, column: 1, message: 'the ConvLens language server did not answer (see the ConvLens output channel)' }],
    notes: [],
  };
  if (r.plan) return r;
  const where = vscode.workspace.asRelativePath(chosen.doc.uri);
  const explanation = r.problems.map((p) => `${where}${p.cell ? `#cell${p.cell}` : ''}:${p.line}:${p.column}: ${p.message}`).join('\n');
  return { ...r, explanation };
}

/** The folder `convlens.data.folders` names for a Keras dataset (`mnist`), if any and if it exists. */
export function configuredDataFolder(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const folders = vscode.workspace.getConfiguration('convlens.data').get<Record<string, string>>('folders', {});
  const folder = folders[name];
  if (!folder) return undefined;
  const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  return path.resolve(base, folder.replace(/^~(?=\/|$)/, os.homedir()));
}
