import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import { analyzeSource, formatSummary, LineIndex, toJsonReport } from '../core/index';
import { siblingModuleLoader } from '../node/moduleLoader';
import { createPythonParse } from '../node/pythonParser';
import { EXIT, exitCodeOfError } from './exitCodes';
import { exportCommand, runsCommand, trainCommand, UsageError } from './train';

const USAGE = `Usage: convlens <command> [options]

Commands:
  summary FILE... [--json] [--expand-nested]
                             Shapes, parameters, MACs and receptive fields of every Keras
                             model in the files, as model.summary() prints them (Sequential,
                             functional and subclassed models; modules imported from the same
                             folder are followed), plus problems as FILE:LINE:COL: severity:
                             message. Exit code 1 when there is an error. --expand-nested lists
                             the layers of nested models under their row.

  train FILE [options]       Train the model with onnxruntime (in a separate process) into a new
                             run folder, .convlens/runs/<model>/<time>-<id>/ next to FILE; settings
                             default to the file's compile() and fit() calls (validation_data,
                             callbacks and learning-rate schedules included).
    --data D                 synthetic | mnist | fashion_mnist | cifar10 | a folder | a .npz file
                             (default: the dataset the file loads, e.g. mnist.load_data())
    --epochs N  --batch-size N  --optimizer sgd|rmsprop|adam|adamw|adagrad  --lr X
    --loss NAME              categorical_crossentropy, sparse_categorical_crossentropy,
                             binary_crossentropy, mse, mae
    --validation-split F     fraction of the training set held out (default: fit()'s)
    --seed N                 weights, shuffling and dropout (default 1)
    --threads N              onnxruntime threads, 1 to the CPU count (default: all CPUs)
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

Options:
  --json        One JSON object per file (see README: "convlens summary --json")
  --model NAME  The model to train or export when the file has several (Keras name or variable)
  --force       Replace existing output files (regular files only)
  -h, --help    Show this help
  --version     Show the version

Exit codes: 0 done, 1 an error in the model file (or training diverged), 2 bad usage,
3 internal error, 4 data error, 5 checkpoint or run error, 6 cannot write an output,
130 stopped by Ctrl-C / SIGTERM.
`;

async function summary(files: string[], json: boolean, expandNested = false): Promise<number> {
  if (files.length === 0) {
    process.stderr.write('convlens summary: give at least one Python file\n\n' + USAGE);
    return 2;
  }
  const parse = await createPythonParse();
  let exit = 0;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      process.stderr.write(`convlens: cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}\n`);
      exit = 2;
      continue;
    }
    const analysis = analyzeSource(text, parse, { loadModule: siblingModuleLoader(file) });
    if (analysis.problems.some((p) => p.severity === 'error')) exit = Math.max(exit, 1);
    if (json) {
      process.stdout.write(JSON.stringify(toJsonReport(file, text, analysis)) + '\n');
      continue;
    }
    const lines = new LineIndex(text);
    const out: string[] = [];
    if (analysis.models.length === 0) out.push(`${file}: no Keras model found`);
    for (const m of analysis.models) {
      const line = lines.position(m.span.start).line + 1;
      if (!m.analysed) {
        out.push(`${file}:${line}: model '${m.name}': ConvLens could not follow its structure${m.incomplete ? ` (${m.incomplete})` : ''}\n`);
        continue;
      }
      out.push(`${file}:${line}:`);
      out.push(formatSummary(m, { expandNested }));
      out.push('');
    }
    const sorted = [...analysis.problems].sort((a, b) => a.span.start - b.span.start);
    for (const p of sorted) {
      const pos = lines.position(p.span.start);
      out.push(`${file}:${pos.line + 1}:${pos.character + 1}: ${p.severity}: ${p.message}`);
    }
    process.stdout.write(out.join('\n') + '\n');
  }
  return exit;
}

async function main(argv: string[]): Promise<number> {
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
  // A --runs-dir on the command line is relative to the working folder (in settings: to the model file).
  const runsDir = values['runs-dir'] === undefined ? undefined : resolvePath(values['runs-dir']);
  try {
    switch (command) {
      case 'summary':
        return await summary(rest, values.json ?? false, values['expand-nested'] ?? false);
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
      case 'export':
        return await exportCommand({ file: oneFile('export', rest), weights: values.weights, out: values.out, model: values.model, runsDir, force: values.force ?? false });
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

function numberOption(name: string, v: string | undefined, ok: (x: number) => boolean, words: string): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || !ok(x)) throw new UsageError(`${name} must be ${words}, got '${v}'`);
  return x;
}

function intOption(name: string, v: string | undefined, min: number): number | undefined {
  return numberOption(name, v, (x) => Number.isInteger(x) && x >= min, min === 0 ? 'an integer ≥ 0' : `an integer ≥ ${min}`);
}

declare const VERSION: string;

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`convlens: internal error: ${(e as Error).stack ?? e}\n`);
    process.exitCode = EXIT.internal;
  },
);
