/** The command's exit codes, and how an error that ends it is shown and which code it gets. */
import { FlotillaError, messageOf } from "../src/errors.ts";
import type { JobStatus } from "../src/result.ts";

export const EXIT = {
  /** The job succeeded (or validate / --dry-run found nothing wrong). */
  succeeded: 0,
  /** The job failed: a task failed for good. */
  failed: 1,
  /** The job file or the command's options are invalid: nothing ran. */
  invalid: 2,
  /** The run was cancelled (Ctrl-C, SIGTERM): 128 + SIGINT, as shells report an interrupted program. */
  cancelled: 130,
} as const;

/** Codes that mean "what you asked for cannot run": the job file or an option is wrong. */
const INVALID_CODES: ReadonlySet<string> = new Set(["E_JOB_FILE", "E_INVALID_OPTION", "E_CYCLE", "E_UNKNOWN_DEPENDENCY", "E_DUPLICATE_TASK"]);

export function exitCodeOfStatus(status: JobStatus): number {
  return status === "succeeded" ? EXIT.succeeded : status === "cancelled" ? EXIT.cancelled : EXIT.failed;
}

export function exitCodeOfError(error: unknown): number {
  return error instanceof FlotillaError && INVALID_CODES.has(error.code) ? EXIT.invalid : EXIT.failed;
}

/**
 * How an error that stops the command reads on stderr. A user's mistake (any flotilla error) reads as
 * its code and message, never a stack; E_JOB_FILE's message already lists the file's problems. Anything
 * else is a fault of the command or of the job's own code, and keeps its stack for the bug report.
 */
export function describeError(error: unknown): string {
  if (error instanceof FlotillaError) return error.code === "E_JOB_FILE" ? `flotilla: ${error.message}` : `flotilla: ${error.code}: ${error.message}`;
  const stack = error instanceof Error && typeof error.stack === "string" ? error.stack : undefined;
  return `flotilla: unexpected error: ${stack ?? messageOf(error)}`;
}
