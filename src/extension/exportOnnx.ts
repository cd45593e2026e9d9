import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { compileInferenceGraph, GRAPH_NAMES } from '../core/train/compile';
import { planFingerprint } from '../core/train/plan';
import { outputPaths } from '../core/trainFlow';
import { readCheckpointFile, writeFileAtomic } from '../train/checkpointFile';
import type { Ctx } from './context';
import { chooseModel, planOrExplain } from './models';

/** ConvLens: Export to ONNX — the inference model with a checkpoint's weights, written atomically. */
export async function exportOnnx(ctx: Ctx, uri?: unknown, modelId?: unknown): Promise<void> {
  const chosen = await chooseModel(ctx, uri, modelId);
  if (!chosen) return;
  const { plan, explanation } = planOrExplain(chosen);
  if (!plan) {
    void vscode.window.showErrorMessage(`ConvLens cannot export ${chosen.model.name}: ${explanation}`);
    return;
  }
  const file = chosen.doc.uri.fsPath;
  const out0 = outputPaths(file, chosen.model.name, vscode.workspace.getConfiguration('convlens.training').get<string>('outputFolder', ''));
  const run = ctx.training.lastRuns.get(chosen.doc.uri.toString());
  const guess = [run?.checkpoint, path.resolve(out0.checkpoint)].find((p) => p && existsSync(p));
  const picked = guess
    ? vscode.Uri.file(guess)
    : (await vscode.window.showOpenDialog({ title: 'Weights to export (a ConvLens checkpoint)', filters: { 'ConvLens checkpoints': ['ckpt'] }, defaultUri: vscode.Uri.file(path.dirname(file)) }))?.[0];
  if (!picked) return;
  const out = await vscode.window.showSaveDialog({ title: 'Write the ONNX model to', defaultUri: vscode.Uri.file(path.resolve(out0.onnx)), filters: { ONNX: ['onnx'] } });
  if (!out) return;
  const ckpt = readCheckpointFile(picked.fsPath);
  if (ckpt.header.fingerprint !== planFingerprint(plan)) {
    void vscode.window.showErrorMessage(`ConvLens: ${path.basename(picked.fsPath)} holds weights for another version of ${chosen.model.name} (its layers changed since training). Train again, or export with the matching file.`);
    return;
  }
  const weights = new Map([...ckpt.tensors].filter(([, t]) => t.kind === 'weight').map(([k, t]) => [k, t.data]));
  writeFileAtomic(out.fsPath, compileInferenceGraph(plan, weights, ctx.extension.extension.packageJSON.version));
  ctx.log.info(`exported ${chosen.model.name} with ${picked.fsPath} (epoch ${ckpt.header.epoch}) to ${out.fsPath}`);
  void vscode.window.showInformationMessage(`ConvLens wrote ${path.basename(out.fsPath)}: input '${GRAPH_NAMES.input}' (N, ${plan.inputShape.join(', ')}), output '${GRAPH_NAMES.output}'.`);
}
