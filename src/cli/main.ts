import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { analyzeSource, formatSummary, LineIndex, toJsonReport } from '../core/index';
import { createPythonParse } from '../node/pythonParser';

const USAGE = `Usage: convlens <command> [options]

Commands:
  summary FILE... [--json]   Shapes, parameters, MACs and receptive fields of every Keras
                             model in the files, as model.summary() prints them, plus problems
                             as FILE:LINE:COL: severity: message. Exit code 1 when there is an error.

Options:
  --json        One JSON object per file (see README: "convlens summary --json")
  -h, --help    Show this help
  --version     Show the version
`;

async function summary(files: string[], json: boolean): Promise<number> {
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
    const analysis = analyzeSource(text, parse);
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
        out.push(`${file}:${line}: model '${m.name}' uses the ${m.kind === 'functional' ? 'Functional API' : 'subclassing API'}: recognised, not analysed yet\n`);
        continue;
      }
      out.push(`${file}:${line}:`);
      out.push(formatSummary(m));
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
      options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' } },
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
  switch (command) {
    case 'summary':
      return summary(rest, values.json ?? false);
    default:
      process.stderr.write(`convlens: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

declare const VERSION: string;

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`convlens: internal error: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 3;
  },
);
