import * as path from 'node:path';
import * as vscode from 'vscode';
import { runLayout } from '../core/run/runHome';
import { checkpointMismatch } from '../core/train/architecture';
import { compileInferenceGraph, GRAPH_NAMES } from '../core/train/compile';
import { readCheckpointFile } from '../train/checkpointFile';
import { listRuns } from '../train/runStore';
import { writeFileAtomic } from '../train/safeFs';
import type { Ctx } from './context';
import { chooseModel, planOrExplain } from './models';
import { runsFolderSetting } from './training';

/**
 * ConvLens: Export to ONNX — the inference model with a checkpoint's weights: one of the model's
 * runs (newest first, its best checkpoint) or a checkpoint file, refused with the differences
 * when it was trained with another architecture; written atomically where the user chooses.
 */
export async function exportOnnx(ctx: Ctx, uri?: unknown, modelId?: unknown, preselected?: string): Promise<void> {
  const chosen = await chooseModel(ctx, uri, modelId);
  if (!chosen) return;
  const { plan, explanation } = await planOrExplain(ctx, chosen);
  if (!plan) {
    void vscode.window.showErrorMessage(`ConvLens cannot export ${chosen.model.name}: ${explanation}`);
    return;
  }
  const file = chosen.doc.uri.fsPath;
  type Item = vscode.QuickPickItem & { checkpoint?: string };
  const items: Item[] = [];
  for (const r of listRuns(file, runsFolderSetting(), plan.model).reverse()) {
    if (!('id' in r)) continue;
    const files = runLayout(r.dir);
    const about = `${r.status}, ${r.epochsDone}/${r.epochs} epochs${r.test ? `, test accuracy ${(r.test.accuracy * 100).toFixed(2)}%` : ''}`;
    if (r.checkpoints.best) items.push({ label: `${r.id} · best.ckpt`, description: r.best ? `epoch ${r.best.epoch}, ${r.best.monitor} ${r.best.value.toFixed(4)}` : 'the best epoch', detail: about, checkpoint: files.best });
    if (r.checkpoints.last) items.push({ label: `${r.id} · last.ckpt`, description: 'the latest state', detail: about, checkpoint: files.last });
  }
  items.push({ label: '$(file) A checkpoint file…' });
  // Always asked (even with one run): the choice says which weights the file will hold.
  const pick = preselected ? { label: preselected, checkpoint: preselected } : await vscode.window.showQuickPick(items, { title: `Export ${plan.model} to ONNX: which weights?`, placeHolder: 'A checkpoint of one of this model’s runs, newest first' });
  if (!pick) return;
  const checkpoint =
    pick.checkpoint ??
    (await vscode.window.showOpenDialog({ title: 'Weights to export (a ConvLens checkpoint)', filters: { 'ConvLens checkpoints': ['ckpt'] }, defaultUri: vscode.Uri.file(path.dirname(file)) }))?.[0]?.fsPath;
  if (!checkpoint) return;
  let ckpt;
  try {
    ckpt = readCheckpointFile(checkpoint);
  } catch (e) {
    void vscode.window.showErrorMessage(`ConvLens: ${(e as Error).message}`);
    return;
  }
  const mismatch = checkpointMismatch(plan, ckpt.header, ckpt.tensors);
  if (mismatch) {
    ctx.log.error(`cannot export ${plan.model} with ${checkpoint}: ${mismatch}`);
    void vscode.window.showErrorMessage(`ConvLens: ${path.basename(path.dirname(checkpoint))}/${path.basename(checkpoint)} holds weights for another version of ${plan.model} (${mismatch.split('\n')[1]?.replace(/^\s*- /, '') ?? mismatch}). Train again, or export the run's own model.py.`, 'Show log').then((a) => a && ctx.log.show());
    return;
  }
  const out = await vscode.window.showSaveDialog({ title: 'Write the ONNX model to', defaultUri: vscode.Uri.file(file.replace(/\.py$/i, '.onnx')), filters: { ONNX: ['onnx'] } });
  if (!out) return;
  const weights = new Map([...ckpt.tensors].filter(([, t]) => t.kind === 'weight').map(([k, t]) => [k, t.data]));
  try {
    writeFileAtomic(out.fsPath, compileInferenceGraph(plan, weights, ctx.extension.extension.packageJSON.version), { what: 'model', policy: { folders: [], files: [out.fsPath] } });
  } catch (e) {
    void vscode.window.showErrorMessage(`ConvLens: ${(e as Error).message}`);
    return;
  }
  ctx.log.info(`exported ${chosen.model.name} with ${checkpoint} (epoch ${ckpt.header.epoch}) to ${out.fsPath}`);
  void vscode.window.showInformationMessage(`ConvLens wrote ${path.basename(out.fsPath)}: input '${GRAPH_NAMES.input}' (N, ${plan.inputShape.join(', ')}), output '${GRAPH_NAMES.output}'.`);
}
