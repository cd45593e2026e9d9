/**
 * The command line's exit codes: one scheme for every command, whichever process (the CLI or
 * the trainer) finds the problem.
 */
import type { TrainingDoneParams } from '../core/protocol/training';

export const EXIT = {
  /** Done; for `summary`, no error in any file. */
  ok: 0,
  /** An error in the model file (or a model ConvLens cannot train), or training diverged. */
  model: 1,
  /** Bad usage: an unknown command or option, an option value out of range, a file argument that cannot be read. */
  usage: 2,
  /** A bug in ConvLens (reported with a stack trace). */
  internal: 3,
  /** The data cannot be read or does not fit the model (whichever process finds it). */
  data: 4,
  /** A checkpoint or run cannot be used: corrupt, another architecture, no such run. */
  checkpoint: 5,
  /** An output cannot be written: disk full, read-only, not a regular file, outside the allowed folders. */
  output: 6,
  /** Stopped by Ctrl-C, SIGTERM or SIGHUP (after writing the checkpoint to resume from). */
  stopped: 130,
} as const;

/** The exit code of an error's name (DataError, CheckpointFileError, OutputError, …), or undefined when it is not a user-facing error. */
export function exitCodeOfError(e: unknown): number | undefined {
  const name = e instanceof Error ? e.name : '';
  switch (name) {
    case 'DataError':
      return EXIT.data;
    case 'CheckpointFileError':
    case 'CheckpointError':
    case 'RunError':
    case 'ResumeError':
      return EXIT.checkpoint;
    case 'OutputError':
    case 'PathPolicyError':
      return EXIT.output;
    case 'SettingsError':
      return EXIT.usage;
    default:
      return undefined;
  }
}

/** The exit code of a training run's end. */
export function exitCodeOfDone(done: TrainingDoneParams): number {
  switch (done.reason) {
    case 'completed':
      return EXIT.ok;
    case 'cancelled':
      return EXIT.stopped;
    case 'diverged':
      return EXIT.model;
    case 'failed':
      switch (done.errorKind) {
        case 'data':
          return EXIT.data;
        case 'checkpoint':
          return EXIT.checkpoint;
        case 'output':
          return EXIT.output;
        case 'settings':
          return EXIT.usage;
        default:
          return EXIT.internal;
      }
  }
}
