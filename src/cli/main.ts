// First: a signal during startup must not kill `convlens train` outright (see earlySignals.ts).
import './earlySignals';
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import { analyzeSource, formatSummary, LineIndex, toJsonReport, type FileAnalysis } from '../core/index';
import { cellPosition, notebookProgram, readIpynb, type NotebookProgram } from '../core/notebook';
import { printable } from '../core/text';
import { registryOptions } from './registryHelp';
import { DEVICE_REQUESTS, parseDeviceRequest, type DeviceRequest } from '../core/train/device';
import { siblingModuleLoader } from '../node/moduleLoader';
import { createPythonParse } from '../node/pythonParser';
import { runLanguageServer } from '../server/main';
import { benchCommand } from './bench';
import { EXIT, exitCodeOfError } from './exitCodes';
import { EXPORT_TARGETS, exportPytorchCommand } from './exportPytorch';
import { exportCommand, runsCommand, trainCommand, UsageError } from './train';

const USAGE = `Usage: convlens <command> [options]

Commands:
  summary FILE... [--json] [--expand-nested] [--model NAME] [--input-shape N,C,H,W] [--depth N]
                             Shapes, parameters, MACs and receptive fields of every Keras or
                             PyTorch model in the files: Keras' as model.summary() prints them
                             (Sequential, functional and subclassed models), PyTorch's as
                             torchinfo.summary() does (nn.Module classes traced through their
                             forward); modules imported from the same folder are followed.
                             Problems as FILE:LINE:COL: severity: message; exit code 1 when
                             there is an error. --expand-nested lists the layers of nested Keras
                             models under their row. --model shows one model (its variable, its
                             class or Keras name, or the builder function that makes it).
                             --input-shape gives PyTorch models whose file shows no input one,
                             batch first. --depth: the deepest module level of a PyTorch table
                             (torchinfo's depth, default 3).
                             A Jupyter notebook (.ipynb) is read as its code cells in order;
                             its problems are FILE#cellN:LINE:COL (N counts every cell from 1).

  lsp --stdio                The ConvLens language server over stdin/stdout, for editors
                             (inlay hints, hover, code lens, diagnostics, quick fixes).

  train FILE [options]       Train the model with onnxruntime (in a separate process) into a new
                             run folder, .convlens/runs/<model>/<time>-<id>/ next to FILE; settings
                             default to the file's compile() and fit() calls (validation_data,
                             callbacks and learning-rate schedules included).
    --data D                 synthetic | mnist | fashion_mnist | cifar10 | a folder | a .npz file
                             (default: the dataset the file loads, e.g. mnist.load_data())
    --epochs N  --batch-size N  --lr X
${registryOptions()}
    --validation-split F     fraction of the training set held out (default: fit()'s)
    --seed N                 weights, shuffling and dropout (default 1)
    --threads N              onnxruntime threads, 1 to the CPU count (default: all CPUs)
    --device D               auto | cpu | webgpu | dml | cuda (default cpu): where the training
                             step runs; auto tries CUDA, DirectML, WebGPU, then the CPU. A device
                             that cannot be had is a warning and the CPU (README: Training on a GPU)
    --resume RUN|CKPT        continue a run (its id, folder or 'last') or a checkpoint, in a new run
    --out model.onnx         also write the trained inference model here
    --checkpoint FILE        also write the best checkpoint here
    --runs-dir DIR           where run folders go (default: .convlens/runs next to FILE)
    --keep-runs N            afterwards, delete this model's runs beyond the newest N
    --limit N                use at most N training and N test samples
    --json                   one JSON line per epoch and a final {"test_loss", "test_accuracy"}
                             Ctrl-C (or SIGTERM) stops after the current step, writes the
                             checkpoint to resume from and exits 130; twice: at once.
  runs [FILE]                List the runs of FILE's models (or of every model in ./.convlens/runs)
    --json                   one JSON object per run
    --delete RUN             delete one run folder          --keep N   delete all but the newest N
  export FILE|RUN --weights CKPT|RUN --out model.onnx
                             Write the inference model with a checkpoint's weights (a run: its
                             best checkpoint; export RUN alone uses the model file as trained).
  export FILE|RUN --to pytorch --out train_model.py [--weights CKPT|RUN]
                             Write one self-contained PyTorch script: the model as an nn.Module
                             with Keras' semantics, ConvLens checkpoints read and written, the
                             file's optimizer, loss, batch size and epochs, and a training loop
                             with DistributedDataParallel (python3 FILE.py, or torchrun
                             --nproc_per_node=N / --nnodes=M on a cluster). --weights: the
                             checkpoint it starts from by default.
    --to onnx|pytorch        what to export (default onnx)

  bench FILE [options]       Time training steps of the model on random data: ms/step,
                             samples/s, GFLOP/s, peak memory, and how long one epoch of the
                             dataset the file loads would take on this machine.
    --batch N                batch size (default: the file's fit())
    --threads N              onnxruntime intra-op threads (default: all CPUs)
    --device D               auto | cpu | webgpu | dml | cuda (default cpu), as for train
    --steps N                timed steps after 2 warm-up steps (default: about 3 s worth)
    --json                   one object: {"ms_per_step", "samples_per_s", "gflops",
                             "peak_rss_mb", "epoch", …}

Options:
  --json        One JSON object per file (see README: "convlens summary --json")
  --model NAME  The model to show, train or export when the file has several (variable, class or
                Keras name; for summary also the builder function, e.g. resnet18)
  --force       Replace existing output files (regular files only)
  -h, --help    Show this help
  --version     Show the version

Exit codes: 0 done, 1 an error in the model file (or training diverged), 2 bad usage,
3 internal error, 4 data error, 5 checkpoint or run error, 6 cannot write an output,
130 stopped by Ctrl-C / SIGTERM.
`;

/** A file to summarise: its program text and, for a notebook, where each line of it comes from. */
interface SourceFile {
  text: string;
  notebook?: { program: NotebookProgram; lines: Map<number, LineIndex> };
}

/** Reads a Python file, or a notebook's code cells joined in order. Throws a message for the user. */
function readSource(file: string): SourceFile {
  const raw = readFileSync(file, 'utf8');
  if (!/\.ipynb$/i.test(file)) return { text: raw };
  const program = notebookProgram(readIpynb(raw));
  const lines = new Map(program.cells.map((c) => [c.index, new LineIndex(program.text.slice(c.start, c.end))]));
  return { text: program.text, notebook: { program, lines } };
}

/** `FILE:LINE:COL`, or `FILE#cellN:LINE:COL` in a notebook (1-based). */
function where(file: string, source: SourceFile, lines: LineIndex, offset: number, withColumn = true): string {
  if (source.notebook) {
    const at = cellPosition(source.notebook.program, source.notebook.lines, offset);
    if (at) return `${file}#cell${at.cell + 1}:${at.position.line + 1}${withColumn ? `:${at.position.character + 1}` : ''}`;
  }
  const p = lines.position(offset);
  return `${file}:${p.line + 1}${withColumn ? `:${p.character + 1}` : ''}`;
}

/** `line 12`, or in a notebook `cell 8 line 3`, for notes inside a summary. */
function placeLabel(source: SourceFile, lines: LineIndex, offset: number): string {
  if (source.notebook) {
    const at = cellPosition(source.notebook.program, source.notebook.lines, offset);
    if (at) return `cell ${at.cell + 1} line ${at.position.line + 1}`;
  }
  return `line ${lines.position(offset).line + 1}`;
}

interface SummaryFlags {
  json: boolean;
  expandNested: boolean;
  model?: string;
  inputShape?: number[];
  depth?: number;
}

/** The models `--model NAME` means: by variable, class or Keras name, or the builder that made it. */
function pickModels<M extends { name: string; varName?: string; speculative?: string }>(models: M[], which: string | undefined): M[] {
  if (which === undefined) return models;
  const bare = which.replace(/\(\)$/, '');
  return models.filter((m) => m.varName === which || m.name === which || m.speculative === `${bare}()`);
}

async function summary(files: string[], flags: SummaryFlags): Promise<number> {
  const { json, expandNested } = flags;
  if (files.length === 0) {
    process.stderr.write('convlens summary: give at least one Python file\n\n' + USAGE);
    return 2;
  }
  const parse = await createPythonParse();
  let exit = 0;
  for (const file of files) {
    let source: SourceFile;
    try {
      source = readSource(file);
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
      process.stderr.write(`convlens: cannot read ${printable(file)}: ${printable(why)}\n`);
      exit = 2;
      continue;
    }
    const text = source.text;
    const full: FileAnalysis = analyzeSource(text, parse, { loadModule: siblingModuleLoader(file), inputShape: flags.inputShape });
    const picked = pickModels(full.models, flags.model);
    if (flags.model !== undefined && picked.length === 0) {
      const names = full.models.map((m) => m.varName ?? m.speculative ?? m.name);
      process.stderr.write(`convlens: ${printable(file)} has no model '${printable(flags.model)}'${names.length ? ` (it has ${[...new Set(names)].map(printable).join(', ')})` : ''}\n`);
      exit = 2;
      continue;
    }
    const analysis: FileAnalysis = { ...full, models: picked };
    if (analysis.problems.some((p) => p.severity === 'error')) exit = Math.max(exit, 1);
    if (json) {
      const report = toJsonReport(file, text, analysis);
      if (source.notebook) addCells(report, source, analysis);
      process.stdout.write(JSON.stringify(report) + '\n');
      continue;
    }
    const lines = new LineIndex(text);
    const name = printable(file);
    const out: string[] = [];
    if (analysis.models.length === 0) out.push(`${name}: no Keras or PyTorch model found`);
    for (const m of analysis.models) {
      const at = where(name, source, lines, m.span.start, false);
      if (!m.analysed) {
        out.push(`${at}: model '${printable(m.name)}': ConvLens could not follow its structure${m.incomplete ? ` (${printable(m.incomplete)})` : ''}\n`);
        continue;
      }
      out.push(`${at}:`);
      out.push(formatSummary(m, { expandNested, depth: flags.depth, where: (o) => placeLabel(source, lines, o) }));
      out.push('');
    }
    const sorted = [...analysis.problems].sort((a, b) => a.span.start - b.span.start);
    for (const p of sorted) out.push(`${where(name, source, lines, p.span.start)}: ${p.severity}: ${printable(p.message)}`);
    process.stdout.write(out.join('\n') + '\n');
  }
  return exit;
}

/** In a notebook's JSON report, lines and columns count inside each item's cell, named by `cell` (1-based). */
function addCells(report: ReturnType<typeof toJsonReport>, source: SourceFile, analysis: FileAnalysis): void {
  const nb = source.notebook!;
  const at = (offset: number) => cellPosition(nb.program, nb.lines, offset);
  report.models.forEach((m, i) => {
    const model = analysis.models[i];
    const head = at(model.span.start);
    Object.assign(m, head ? { cell: head.cell + 1, line: head.position.line + 1 } : {});
    m.layers.forEach((l, j) => {
      const p = at(model.layers[j].span.start);
      if (p) Object.assign(l, { cell: p.cell + 1, line: p.position.line + 1, column: p.position.character + 1 });
    });
  });
  report.diagnostics.forEach((d, i) => {
    const s = at(analysis.problems[i].span.start);
    const e = at(analysis.problems[i].span.end);
    if (s) Object.assign(d, { cell: s.cell + 1, line: s.position.line + 1, column: s.position.character + 1 });
    if (e) Object.assign(d, { endLine: e.position.line + 1, endColumn: e.position.character + 1 });
  });
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'lsp') {
    // The server reads its transport (--stdio, --node-ipc, --socket=N) from the command line itself.
    runLanguageServer();
    return new Promise(() => undefined);
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
        data: { type: 'string' },
        epochs: { type: 'string' },
        'batch-size': { type: 'string' },
        optimizer: { type: 'string' },
        lr: { type: 'string' },
        loss: { type: 'string' },
        'validation-split': { type: 'string' },
        seed: { type: 'string' },
        threads: { type: 'string' },
        device: { type: 'string' },
        out: { type: 'string' },
        checkpoint: { type: 'string' },
        resume: { type: 'string' },
        limit: { type: 'string' },
        model: { type: 'string' },
        weights: { type: 'string' },
        'runs-dir': { type: 'string' },
        'keep-runs': { type: 'string' },
        delete: { type: 'string' },
        keep: { type: 'string' },
        force: { type: 'boolean' },
        'expand-nested': { type: 'boolean' },
        'input-shape': { type: 'string' },
        depth: { type: 'string' },
        batch: { type: 'string' },
        steps: { type: 'string' },
        to: { type: 'string' },
      },
    });
  } catch (e) {
    process.stderr.write(`convlens: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  if (values.to !== undefined && command !== 'export') {
    process.stderr.write(`convlens: --to is an option of export, not of ${command}\n`);
    return 2;
  }
  // A --runs-dir on the command line is relative to the working folder (in settings: to the model file).
  const runsDir = values['runs-dir'] === undefined ? undefined : resolvePath(values['runs-dir']);
  try {
    switch (command) {
      case 'summary':
        return await summary(rest, {
          json: values.json ?? false,
          expandNested: values['expand-nested'] ?? false,
          model: values.model,
          inputShape: shapeOption(values['input-shape']),
          depth: intOption('--depth', values.depth, 0),
        });
      case 'train': {
        const file = oneFile('train', rest);
        return await trainCommand({
          file,
          data: values.data,
          epochs: intOption('--epochs', values.epochs, 1),
          batchSize: intOption('--batch-size', values['batch-size'], 1),
          optimizer: values.optimizer,
          learningRate: numberOption('--lr', values.lr, (x) => x > 0, 'a positive number'),
          loss: values.loss,
          validationSplit: numberOption('--validation-split', values['validation-split'], (x) => x >= 0 && x < 1, 'a number in [0, 1)'),
          seed: intOption('--seed', values.seed, 0) ?? 1,
          threads: intOption('--threads', values.threads, 1),
          device: deviceOption(values.device),
          out: values.out,
          checkpoint: values.checkpoint,
          resume: values.resume,
          limit: intOption('--limit', values.limit, 1),
          model: values.model,
          runsDir,
          keepRuns: intOption('--keep-runs', values['keep-runs'], 1),
          json: values.json ?? false,
          force: values.force ?? false,
        });
      }
      case 'runs':
        if (rest.length > 1) throw new UsageError(`runs takes at most one model file, got ${rest.join(' ')}`);
        return await runsCommand({ file: rest[0], model: values.model, runsDir, json: values.json ?? false, delete: values.delete, keep: intOption('--keep', values.keep, 1) });
      case 'bench':
        return await benchCommand({
          file: oneFile('bench', rest),
          batch: intOption('--batch', values.batch, 1),
          threads: intOption('--threads', values.threads, 1),
          device: deviceOption(values.device),
          steps: intOption('--steps', values.steps, 1),
          model: values.model,
          json: values.json ?? false,
        });
      case 'export': {
        const args = { file: oneFile('export', rest), weights: values.weights, out: values.out, model: values.model, runsDir, force: values.force ?? false };
        const to = values.to ?? 'onnx';
        if (!(EXPORT_TARGETS as readonly string[]).includes(to)) throw new UsageError(`--to must be ${EXPORT_TARGETS.join(' or ')}, got '${to}'`);
        return await (to === 'pytorch' ? exportPytorchCommand(args) : exportCommand(args));
      }
    }
  } catch (e) {
    const code = e instanceof UsageError ? EXIT.usage : exitCodeOfError(e);
    if (code === undefined) throw e;
    process.stderr.write(`convlens: ${(e as Error).message}\n`);
    return code;
  }
  switch (command) {
    default:
      process.stderr.write(`convlens: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

function oneFile(command: string, rest: string[]): string {
  if (rest.length !== 1) throw new UsageError(`${command} takes one model file, got ${rest.length === 0 ? 'none' : rest.join(' ')}`);
  return rest[0];
}

/** `--input-shape 1,3,32,32` (or `(1, 3, 32, 32)`): positive sizes, batch first. */
function shapeOption(v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  const parts = v.replace(/^[([]|[)\]]$/g, '').split(/[,x×\s]+/).filter((p) => p.length);
  const dims = parts.map(Number);
  if (dims.length === 0 || dims.some((d) => !Number.isInteger(d) || d <= 0)) throw new UsageError(`--input-shape must be positive sizes separated by commas, batch first (e.g. 1,3,32,32), got '${v}'`);
  return dims;
}

function numberOption(name: string, v: string | undefined, ok: (x: number) => boolean, words: string): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || !ok(x)) throw new UsageError(`${name} must be ${words}, got '${v}'`);
  return x;
}

function intOption(name: string, v: string | undefined, min: number): number | undefined {
  return numberOption(name, v, (x) => Number.isInteger(x) && x >= min, min === 0 ? 'an integer ≥ 0' : `an integer ≥ ${min}`);
}

/** `--device auto|cpu|webgpu|dml|cuda`. */
function deviceOption(v: string | undefined): DeviceRequest | undefined {
  if (v === undefined) return undefined;
  const d = parseDeviceRequest(v);
  if (!d) throw new UsageError(`--device must be ${DEVICE_REQUESTS.join(', ')}, got '${v}'`);
  return d;
}

declare const VERSION: string;

// `convlens summary FILE | head`: when the reader closes the pipe, stop quietly, as CLIs do.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`convlens: internal error: ${(e as Error).stack ?? e}\n`);
    process.exitCode = EXIT.internal;
  },
);
