/**
 * The trainer process (bundled as dist/trainer.js and started with child_process.fork). It
 * waits for one `training/start`, trains, sends `training/done` and exits. A `training/cancel`
 * stops it after the current step and writes the checkpoint to resume from; so do SIGINT,
 * SIGTERM and SIGHUP (Ctrl-C in a terminal reaches the whole process group, the trainer
 * included) and the host going away. Writes are synchronous, so no signal lands mid-write. A
 * worker thread is not used: terminating one during `session.run` aborts the whole process.
 */
import { stopRequest } from './stopSignals';
import { isMessage, type Message } from '../core/protocol/messages';
import { TrainingCancel, TrainingDone, TrainingLog, TrainingStart, type TrainingDoneParams } from '../core/protocol/training';
import { runTraining } from '../train/trainer';

let cancelled = false;
let started = false;

function send(m: Message): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(m, undefined, {}, () => resolve());
  });
}

async function finish(done: TrainingDoneParams, code: number): Promise<void> {
  await send(TrainingDone.create(done));
  process.disconnect?.();
  process.exitCode = code;
  // ORT's thread pool may hold the event loop open: leave once the last message is out.
  setTimeout(() => process.exit(code), 50).unref();
}

process.on('message', (m: unknown) => {
  if (TrainingCancel.is(m)) {
    cancelled = true;
    return;
  }
  if (TrainingStart.is(m)) {
    if (started) return void send(TrainingLog.create({ level: 'warning', message: 'the trainer is already running; a second training/start was ignored' }));
    started = true;
    void runTraining(m.params, { emit: (msg) => void send(msg), cancelled: () => cancelled }).then(
      (done) => finish(done, done.reason === 'failed' ? 1 : 0),
      (e) => finish({ reason: 'failed', errorKind: 'internal', message: `internal error: ${(e as Error).stack ?? e}`, epochs: 0, seconds: 0 }, 1),
    );
    return;
  }
  const why = isMessage(m) ? (m.method === TrainingStart.method ? TrainingStart.problem(m) : `unknown method '${m.method}'`) : 'not a message';
  void send(TrainingLog.create({ level: 'warning', message: `the trainer ignored a message: ${why}` }));
});

const onStop = () => {
  cancelled = true;
  if (!started) process.exit(130);
};
stopRequest.listeners.push(onStop);
if (stopRequest.requested) onStop();

process.on('disconnect', () => {
  cancelled = true;
  if (!started) process.exit(0);
});

if (!process.send) {
  process.stderr.write('dist/trainer.js is started by ConvLens (child_process.fork); run `convlens train` instead\n');
  process.exit(2);
}
