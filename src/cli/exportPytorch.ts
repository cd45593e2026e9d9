/**
 * `convlens export FILE --to pytorch --out train_model.py [--weights CKPT|RUN]`: the model file's
 * training plan as one self-contained PyTorch script (core/export/pytorch.ts writes the text;
 * this side reads the model, checks the checkpoint and the output path, and writes the file
 * atomically, never over an existing file without --force).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { exportPytorch } from '../core/export/pytorch';
import { checkpointMismatch } from '../core/train/architecture';
import { formatNumber } from '../core/train/validate';
import { planWeights } from '../core/train/plan';
import { readCheckpointFile } from '../train/checkpointFile';
import { resolveCheckpointRef, RunError } from '../train/runStore';
import { checkReplaceable, OutputError, writeFileAtomic } from '../train/safeFs';
import { EXIT } from './exitCodes';
import { exportSource, loadModel, plan, sameFile, shown, UsageError, type ExportArgs } from './train';

/** The export targets `--to` accepts. */
export const EXPORT_TARGETS = ['onnx', 'pytorch'] as const;

/** True for a file an earlier `convlens export --to pytorch` wrote. */
function writtenByExport(file: string): boolean {
  try {
    return readFileSync(file).subarray(0, 400).toString('utf8').includes('exported by ConvLens');
  } catch {
    return false;
  }
}

/** `convlens export FILE|RUN --to pytorch --out FILE.py`; returns the exit code. */
export async function exportPytorchCommand(a: ExportArgs): Promise<number> {
  if (!a.out) throw new UsageError('export --to pytorch needs --out FILE.py (the script to write)');
  if (!/\.py$/i.test(a.out)) throw new UsageError(`--out ${a.out}: the PyTorch script must end in .py (Python imports it by that name)`);
  const { file, weights } = exportSource(a.file, a.weights);
  const loaded = await loadModel(file, a.model);
  const { plan: p } = plan(file, loaded, {});
  if (!p) return EXIT.model;

  // A checkpoint given now must belong to the model; the script loads it by default.
  let checkpoint: string | undefined;
  if (weights) {
    const ref = resolveCheckpointRef(weights, { modelFile: path.resolve(file), modelName: p.model, runsFolder: a.runsDir, prefer: 'best' });
    const ckpt = readCheckpointFile(ref.checkpoint);
    const mismatch = checkpointMismatch(p, ckpt.header, ckpt.tensors);
    if (mismatch) throw new RunError(`${ref.checkpoint} does not belong to '${p.model}' in ${file}: ${mismatch}`);
    checkpoint = path.resolve(ref.checkpoint);
  }

  const out = path.resolve(a.out);
  const dir = path.dirname(out);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`cannot write ${a.out}: folder ${dir} does not exist`);
  for (const protect of [
    { file: path.resolve(file), why: 'the model file' },
    ...(checkpoint ? [{ file: checkpoint, why: 'the checkpoint being exported' }] : []),
  ]) {
    if (sameFile(out, protect.file)) throw new UsageError(`--out ${a.out} is ${protect.why}: choose another path`);
  }
  let state: 'absent' | 'file';
  try {
    state = checkReplaceable(out, 'PyTorch script');
  } catch (e) {
    throw new OutputError((e as Error).message, out, 'ENOTREG');
  }
  if (state === 'file' && !a.force) {
    const whose = writtenByExport(out) ? 'from an earlier export' : 'and was not written by ConvLens';
    throw new UsageError(`${a.out} already exists (${whose}); pass --force to replace it, or choose another path`);
  }

  const relative = checkpoint ? path.relative(dir, checkpoint) : undefined;
  const line = loaded.text.slice(0, loaded.model.span.start).split('\n').length;
  const r = exportPytorch(p, {
    source: path.basename(file),
    script: path.basename(out),
    line,
    version: typeof VERSION === 'string' ? VERSION : undefined,
    date: new Date().toISOString().slice(0, 10),
    dataset: loaded.datasets[0],
    weights: checkpoint ? (relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? { path: relative, relative: true } : { path: checkpoint, relative: false }) : undefined,
  });
  if (!r.ok) {
    for (const q of r.problems) process.stderr.write(`${file}:${q.line}:${q.column}: error: ${q.message}\n`);
    return EXIT.model;
  }
  writeFileAtomic(out, new TextEncoder().encode(r.export.text), { what: 'PyTorch script', policy: { folders: [], files: [out] } });
  const total = planWeights(p).reduce((s, w) => s + w.shape.reduce((x, y) => x * y, 1), 0);
  const script = shown(out);
  const lines = [
    `Wrote ${script}: ${p.model} as a PyTorch Model() (${formatNumber(total)} parameters), ${p.optimizer.name}, ${p.loss}, batch size ${p.batchSize}, ${p.epochs} epoch${p.epochs === 1 ? '' : 's'}${checkpoint ? `, weights from ${shown(checkpoint)}` : ''}.`,
    `Train: python3 ${script} --data DIR   or   torchrun --standalone --nproc_per_node=2 ${script} --data DIR`,
    ...r.export.notes.map((n) => `note: ${n}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

declare const VERSION: string;
