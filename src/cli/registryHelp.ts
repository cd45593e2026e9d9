import type { FrameworkName } from '../core/layers/index';
import { lossesFor } from '../core/train/losses';
import { optimizerNamesFor } from '../core/train/optimizers';

/**
 * The --optimizer and --loss lines of the usage text, from the registries (core/train/optimizers.ts,
 * losses.ts), per framework, wrapped to the text's columns.
 */
export function registryOptions(): string {
  const indent = ' '.repeat(29);
  const lines = (flag: string, groups: [string, string[]][]): string => {
    const out: string[] = [];
    let line = `    ${flag}`.padEnd(29);
    for (const [framework, names] of groups) {
      const words = [`${framework}:`, ...names.map((n, i) => `${n}${i < names.length - 1 ? ',' : ';'}`)];
      for (const w of words) {
        if (line.trim().length > 0 && line.length + w.length + 1 > 100 && line !== indent) {
          out.push(line.trimEnd());
          line = indent;
        }
        line += (line.endsWith(' ') ? '' : ' ') + w;
      }
    }
    out.push(line.replace(/;$/, ''));
    return out.join('\n');
  };
  const frameworks: [FrameworkName, string][] = [['keras', 'Keras'], ['pytorch', 'PyTorch']];
  return [
    lines('--optimizer NAME', frameworks.map(([f, label]) => [label, optimizerNamesFor(f)])),
    lines('--loss NAME', frameworks.map(([f, label]) => [label, lossesFor(f).map((l) => l.name)])),
  ].join('\n');
}
