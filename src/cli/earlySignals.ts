/**
 * Imported first by the CLI, before the rest of the bundle and onnxruntime-node load (a few
 * hundred milliseconds on a loaded machine): a Ctrl-C, SIGTERM or SIGHUP that reaches
 * `convlens train` before it installs its own handlers ends the way the exit-code scheme says
 * (130, "stopped before training started"), not by the signal's default action. Other commands
 * keep the default.
 */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

const stopBeforeStart = (): void => {
  process.stderr.write('convlens: stopped before training started; nothing was written\n');
  process.exit(130);
};

if (process.argv[2] === 'train') for (const s of SIGNALS) process.on(s, stopBeforeStart);

/** Hands the signals over to the train command's own handlers (installed just before). */
export function releaseEarlySignals(): void {
  for (const s of SIGNALS) process.off(s, stopBeforeStart);
}
