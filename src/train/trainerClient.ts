/**
 * The host side of the trainer process: forks it, sends the start message, validates every
 * message it gets back, and turns the process's end into one {@link TrainingDoneParams}
 * whatever happens (a crash, a kill, a malformed message). Used by the CLI and the extension.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { isMessage, type Message } from '../core/protocol/messages';
import {
  TrainingCancel,
  TrainingDone,
  TrainingEpoch,
  TrainingLog,
  TrainingProgress,
  TrainingStart,
  TrainingStarted,
  type TrainingDoneParams,
  type TrainingStartParams,
} from '../core/protocol/training';

/** Where the trainer entry point is and how to start it. */
export interface TrainerScript {
  script: string;
  execArgv: string[];
}

/**
 * The bundled dist/trainer.js beside this bundle, or the TypeScript source run through tsx
 * when ConvLens runs from source (tests).
 */
export function findTrainerScript(): TrainerScript {
  const bundled = [path.join(__dirname, 'trainer.js'), path.join(__dirname, '..', '..', 'dist', 'trainer.js')];
  const source = [path.join(__dirname, '..', 'worker', 'trainer.ts')];
  const fromSource = __filename.endsWith('.ts');
  for (const s of fromSource ? source : bundled) if (existsSync(s)) return { script: s, execArgv: s.endsWith('.ts') ? ['--import', 'tsx'] : [] };
  for (const s of fromSource ? bundled : source) if (existsSync(s)) return { script: s, execArgv: s.endsWith('.ts') ? ['--import', 'tsx'] : [] };
  throw new Error(`ConvLens could not find its trainer (looked for ${[...bundled, ...source].join(', ')}); run 'npm run build'`);
}

/** Callbacks for the trainer's messages; every one is validated before it is passed on. */
export interface TrainerListener {
  onMessage?(m: Message): void;
  /** A message that failed validation (ignored otherwise). */
  onInvalid?(m: unknown, why: string): void;
  /** The trainer's stderr and stdout, line by line. */
  onStderr?(line: string): void;
}

/** A running trainer. */
export interface TrainerHandle {
  /** Settles once, with the trainer's own `training/done` or one made up from how the process ended. */
  readonly done: Promise<TrainingDoneParams>;
  /** Asks the trainer to stop after its current step; kills it if it has not ended after `graceMs`. */
  cancel(graceMs?: number): void;
  /** Ends the process at once (SIGKILL). Checkpoints on disk stay whole: they are written atomically. */
  kill(): void;
  readonly process: ChildProcess;
}

const KNOWN = [TrainingStarted, TrainingProgress, TrainingEpoch, TrainingLog, TrainingDone];

/** Forks the trainer and starts a training run. */
export function startTrainer(params: TrainingStartParams, listener: TrainerListener = {}, script: TrainerScript = findTrainerScript()): TrainerHandle {
  const t0 = Date.now();
  // stdout is piped too: nothing the trainer's libraries print may mix into the host's output.
  const child = fork(script.script, [], { execArgv: script.execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'json' });
  let result: TrainingDoneParams | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  let cancelRequested = false;
  let stderr = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
      if (listener.onStderr) for (const line of chunk.split('\n')) if (line.trim()) listener.onStderr(line);
    });
  }
  child.on('message', (m: unknown) => {
    const type = isMessage(m) ? KNOWN.find((k) => k.method === m.method) : undefined;
    if (!type || !type.is(m)) {
      listener.onInvalid?.(m, !isMessage(m) ? 'not a message' : !type ? `unknown method '${m.method}'` : (type.problem(m) ?? 'invalid'));
      return;
    }
    if (TrainingDone.is(m)) result ??= m.params;
    listener.onMessage?.(m);
  });
  const done = new Promise<TrainingDoneParams>((resolve) => {
    const end = (code: number | null, signal: NodeJS.Signals | null) => {
      if (killTimer) clearTimeout(killTimer);
      if (result) return resolve(result);
      const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
      const last = stderr.trim().split('\n').slice(-3).join(' | ');
      resolve({
        // A stop signal to the process group (Ctrl-C) is a stop, even when it beat the host's own handler.
        reason: (signal && (cancelRequested || signal === 'SIGINT' || signal === 'SIGTERM' || signal === 'SIGHUP')) || code === 130 ? 'cancelled' : 'failed',
        message: `the trainer process ${how} before finishing${last ? `: ${last}` : ''}`,
        epochs: 0,
        seconds: (Date.now() - t0) / 1000,
      });
    };
    child.on('exit', end);
    child.on('error', (e) => {
      // A process that started and then died (a Ctrl-C to the group while it boots) fails the
      // start message with EPIPE: its 'exit' says how it ended. Only a process that never started ends here.
      if (child.pid !== undefined && (e as NodeJS.ErrnoException).code !== 'ENOENT') return;
      result ??= { reason: 'failed', message: `cannot run the trainer: ${e.message}`, epochs: 0, seconds: 0 };
      resolve(result);
    });
  });
  child.send(TrainingStart.create(params));
  return {
    done,
    process: child,
    cancel(graceMs = 10_000) {
      if (cancelRequested || child.exitCode !== null) return;
      cancelRequested = true;
      if (child.connected) child.send(TrainingCancel.create({}));
      killTimer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      killTimer.unref();
    },
    kill() {
      cancelRequested = true;
      child.kill('SIGKILL');
    },
  };
}
