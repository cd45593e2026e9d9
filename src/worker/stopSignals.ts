/**
 * Imported first by the trainer process, before onnxruntime loads (which takes a few hundred
 * milliseconds): from then on SIGINT, SIGTERM and SIGHUP only ask for a stop, so Ctrl-C to the
 * process group can never kill the trainer outright, whenever it arrives.
 */
export const stopRequest = { requested: false, signal: undefined as NodeJS.Signals | undefined, listeners: [] as ((s: NodeJS.Signals) => void)[] };

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    stopRequest.requested = true;
    stopRequest.signal = signal;
    for (const l of stopRequest.listeners) l(signal);
  });
}
