/**
 * The errors of flotilla/child-process: its declared code (E_COMMAND_FAILED) and the error a command
 * attempt fails with: a non-zero exit, a signal, a failed start, or bad output.
 */
import { FlotillaError } from "../../src/errors.ts";
import { declareErrorCodes } from "../../src/vocabulary.ts";

/** The codes this adapter raises, declared as its own (see `errorCodes()` from flotilla). */
export const CHILD_PROCESS_ERROR_CODES = declareErrorCodes("flotilla/child-process", {
  E_COMMAND_FAILED: "a command exited non-zero, was killed by a signal, could not start, or its output was over the cap or not JSON (CommandFailedError)",
});

/**
 * Why a command attempt failed:
 * - `"exit"`: it exited with a non-zero code (`exitCode`);
 * - `"signal"`: it was killed by a signal it did not get from flotilla (`signal`);
 * - `"spawn"`: it could not be started (command not found, not executable, missing `cwd`);
 * - `"output-limit"`: it wrote more than `maxOutputBytes` to stdout and was stopped;
 * - `"output-json"`: it exited 0 but its stdout is not valid JSON (`output: "json"`);
 * - `"deps"`: its dependencies' outputs could not be written as JSON for `FLOTILLA_DEPS_FILE`.
 */
export type CommandFailure = "exit" | "signal" | "spawn" | "output-limit" | "output-json" | "deps";

/** What a `CommandFailedError` carries besides its message. */
export interface CommandFailedDetails {
  readonly failure: CommandFailure;
  readonly argv: readonly string[];
  readonly taskId: string;
  readonly attempt: number;
  readonly exitCode?: number | null;
  readonly signal?: string | null;
  readonly stderrTail?: string;
}

/**
 * A command attempt failed (code `E_COMMAND_FAILED`). Branch on `failure`; `exitCode`, `signal` and
 * `stderrTail` say how the process ended, `argv` what ran. A cancelled or timed-out attempt does not
 * raise this: it rejects with its signal's reason (a `CancelledError` or `TimeoutError`).
 *
 * @example
 * const error = result.tasks.get("build").error;
 * if (error instanceof CommandFailedError && error.failure === "exit") console.error(error.exitCode, error.stderrTail);
 */
export class CommandFailedError extends FlotillaError {
  /** Why it failed. */
  readonly failure: CommandFailure;
  /** The command line as given to `command()`. */
  readonly argv: readonly string[];
  /** The task and attempt it failed in. */
  readonly taskId: string;
  readonly attempt: number;
  /** The exit code, or null when it did not exit on its own (a signal, a failed start). */
  readonly exitCode: number | null;
  /** The signal that ended it (`"SIGSEGV"`), or null. */
  readonly signal: string | null;
  /** The last lines of its stderr (at most 20 lines and 4 KiB), "" when it wrote none. */
  readonly stderrTail: string;

  constructor(details: CommandFailedDetails, message: string, options?: { cause?: unknown }) {
    super(CHILD_PROCESS_ERROR_CODES.E_COMMAND_FAILED, message, options);
    this.failure = details.failure;
    this.argv = details.argv;
    this.taskId = details.taskId;
    this.attempt = details.attempt;
    this.exitCode = details.exitCode ?? null;
    this.signal = details.signal ?? null;
    this.stderrTail = details.stderrTail ?? "";
  }

  override get name(): string {
    return "CommandFailedError";
  }
}
