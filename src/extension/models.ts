import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ModelReport } from '../core/index';
import { modelAt } from '../core/present';
import { planTraining, type PlanOverrides, type PlanResult } from '../core/train/plan';
import type { Ctx } from './context';

/** A model of a document, chosen for training or the panel. */
export interface ChosenModel {
  doc: vscode.TextDocument;
  model: ModelReport;
  text: string;
  /** The Keras dataset the file loads (`mnist`), if any. */
  datasetHint?: string;
}

/**
 * The model a command acts on: the one with the given id, else the one under the cursor in the
 * active editor, else the file's first analysed model.
 */
export async function chooseModel(ctx: Ctx, uri?: unknown, modelId?: unknown): Promise<ChosenModel | undefined> {
  const target = typeof uri === 'string' ? vscode.Uri.parse(uri) : uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
  if (!target) {
    void vscode.window.showInformationMessage('ConvLens: open a Python file with a Keras model first.');
    return undefined;
  }
  const doc = await vscode.workspace.openTextDocument(target);
  const a = await ctx.analyze(doc);
  const analysed = a?.analysis.models.filter((m) => m.analysed) ?? [];
  if (!a || analysed.length === 0) {
    void vscode.window.showWarningMessage(`ConvLens: ${vscode.workspace.asRelativePath(target)} has no Sequential Keras model to work with.`);
    return undefined;
  }
  let model = typeof modelId === 'number' ? analysed.find((m) => m.id === modelId) : undefined;
  const editor = vscode.window.activeTextEditor;
  if (!model && editor?.document.uri.toString() === doc.uri.toString()) {
    const at = modelAt(a.analysis, a.lines.offset({ line: editor.selection.active.line, character: editor.selection.active.character }));
    model = at?.analysed ? at : undefined;
  }
  return { doc, model: model ?? analysed[0], text: a.text, datasetHint: a.analysis.datasets[0] };
}

/** The training plan, or the problems that stop it, said once in words. */
export function planOrExplain(chosen: ChosenModel, overrides: PlanOverrides = {}): PlanResult & { explanation?: string } {
  const r = planTraining(chosen.model, chosen.text, overrides);
  if (r.plan) return r;
  const where = vscode.workspace.asRelativePath(chosen.doc.uri);
  const explanation = r.problems.map((p) => `${where}:${p.line}:${p.column}: ${p.message}`).join('\n');
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
