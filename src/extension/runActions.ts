import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { RUN_FILES, runLayout, runSettingsProblem, type RunSettings } from '../core/run/runHome';
import { architectureFingerprint, architectureOf } from '../core/train/architecture';
import { readCheckpointFile } from '../train/checkpointFile';
import type { Ctx } from './context';
import { exportOnnx } from './exportOnnx';
import { chooseModel, configuredDataFolder, planOrExplain } from './models';
import { ModelPanel } from './panel';

/** What an explorer action on a checkpoint or a run folder works with. */
interface Target {
  checkpoint: string;
  runDir?: string;
  settings?: RunSettings;
  /** The model file to analyse: the original, or the run's own copy when the original changed or is gone. */
  modelFile: string;
  modelName: string;
}

/**
 * The explorer's actions on a checkpoint (`.ckpt`) or a run folder: evaluate it on a dataset,
 * show its feature maps, export it to ONNX, resume training from it.
 */
export async function runAction(ctx: Ctx, action: 'evaluate' | 'features' | 'export' | 'resume', arg?: unknown, data?: unknown): Promise<void> {
  const uri = arg instanceof vscode.Uri ? arg : typeof arg === 'string' ? (/^[a-z][\w+.-]*:/.test(arg) ? vscode.Uri.parse(arg) : vscode.Uri.file(arg)) : undefined;
  const picked = uri ?? (await vscode.window.showOpenDialog({ title: 'A ConvLens checkpoint or run folder', canSelectFolders: true, filters: { 'ConvLens checkpoints': ['ckpt'] } }))?.[0];
  if (!picked) return;
  const t = await resolveTarget(ctx, picked.fsPath, action === 'resume' ? 'last' : 'best');
  if (!t) return;
  const model = vscode.Uri.file(t.modelFile).toString();
  if (action === 'features') {
    await ModelPanel.show(ctx, model, t.modelName, 'features', { checkpoint: t.checkpoint });
  } else if (action === 'evaluate') {
    // The data may be given (keybindings, tests); otherwise asked.
    const chosen = typeof data === 'string' ? data : await pickData(t);
    if (!chosen) return;
    await ModelPanel.show(ctx, model, t.modelName, 'training', { checkpoint: t.checkpoint, data: chosen, evaluate: true });
  } else if (action === 'export') {
    await exportOnnx(ctx, model, t.modelName, t.checkpoint);
  } else {
    const s = t.settings?.settings as { epochs?: number; batchSize?: number } | undefined;
    await vscode.commands.executeCommand('convlens.train', model, t.modelName, { resume: t.runDir ?? t.checkpoint, data: t.settings?.data.source, epochs: s?.epochs, batchSize: s?.batchSize });
  }
}

async function resolveTarget(ctx: Ctx, p: string, prefer: 'best' | 'last'): Promise<Target | undefined> {
  let checkpoint: string;
  let runDir: string | undefined;
  try {
    if (statSync(p).isDirectory()) {
      runDir = p;
      const files = runLayout(p);
      const order = prefer === 'best' ? [files.best, files.last] : [files.last, files.best];
      const found = order.find((f) => existsSync(f));
      if (!found) throw new Error(`${path.basename(p)} has no checkpoint yet (the run ended before its first epoch)`);
      checkpoint = found;
    } else {
      checkpoint = p;
      if (existsSync(path.join(path.dirname(p), RUN_FILES.settings))) runDir = path.dirname(p);
    }
  } catch (e) {
    void vscode.window.showErrorMessage(`ConvLens: ${(e as Error).message}`);
    return undefined;
  }
  let settings: RunSettings | undefined;
  if (runDir) {
    try {
      const s = JSON.parse(readFileSync(path.join(runDir, RUN_FILES.settings), 'utf8')) as unknown;
      const problem = runSettingsProblem(s);
      if (problem) throw new Error(problem);
      settings = s as RunSettings;
    } catch (e) {
      void vscode.window.showErrorMessage(`ConvLens: ${path.join(runDir, RUN_FILES.settings)} cannot be read: ${(e as Error).message}`);
      return undefined;
    }
  }
  let modelName: string;
  try {
    modelName = settings?.model ?? readCheckpointFile(checkpoint).header.model;
  } catch (e) {
    void vscode.window.showErrorMessage(`ConvLens: ${(e as Error).message}`);
    return undefined;
  }
  let modelFile = settings?.modelFile;
  if (!modelFile) {
    const pick = await vscode.window.showOpenDialog({ title: `Which file builds ${modelName}?`, filters: { Python: ['py', 'ipynb'] }, defaultUri: vscode.Uri.file(path.dirname(checkpoint)) });
    if (!pick?.[0]) return undefined;
    modelFile = pick[0].fsPath;
  }
  // The original file as it is now, if it still builds the architecture the run trained; else the run's own copy.
  const copy = runDir ? path.join(runDir, RUN_FILES.source) : undefined;
  if (copy && existsSync(copy) && settings) {
    let same = false;
    if (existsSync(modelFile)) {
      const chosen = await chooseModel(ctx, vscode.Uri.file(modelFile).toString(), modelName);
      const plan = chosen && chosen.model.name === modelName ? (await planOrExplain(ctx, chosen)).plan : undefined;
      same = !!plan && architectureFingerprint(architectureOf(plan)) === settings.fingerprint;
    }
    if (!same) {
      ctx.log.info(`${modelFile} no longer builds the ${modelName} that run ${settings.id} trained: using the run's copy ${copy}`);
      modelFile = copy;
    }
  }
  return { checkpoint, runDir, settings, modelFile, modelName };
}

/** Which data to evaluate on: the run's training data (its test split), the built-in digits, a configured or chosen folder. */
async function pickData(t: Target): Promise<string | undefined> {
  type Item = vscode.QuickPickItem & { data?: string };
  const items: Item[] = [];
  const runData = t.settings?.data.source;
  if (runData) items.push({ label: `$(history) ${runData === 'synthetic' ? 'synthetic digits' : path.basename(runData)}`, description: `the run's training data (${runData}): its test images`, data: runData });
  const hint = t.settings?.data.hint;
  const configured = configuredDataFolder(hint);
  if (configured && existsSync(configured) && configured !== runData) items.push({ label: `$(database) ${hint} from ${configured}`, description: 'convlens.data.folders', data: configured });
  if (runData !== 'synthetic') items.push({ label: '$(sparkle) Built-in synthetic digits', description: '28×28, drawn procedurally', data: 'synthetic' });
  items.push({ label: '$(folder) A dataset folder or file…' });
  const pick = await vscode.window.showQuickPick(items, { title: `Evaluate ${path.basename(t.checkpoint)} on which data?` });
  if (!pick) return undefined;
  if (pick.data) return pick.data;
  const uris = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: true, openLabel: 'Evaluate on this' });
  return uris?.[0]?.fsPath;
}
