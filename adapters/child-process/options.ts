/** Options of `childProcess()`, with defaults and bounds, and their single check. */
import { availableParallelism } from "node:os";
import { FlotillaError } from "../../src/errors.ts";
import { checkDelayMs, checkOptionsObject, invalidOption } from "../../src/validation.ts";

/**
 * Options of the child-process provider.
 *
 * @example run(job, { provider: childProcess({ slots: 4, killGraceMs: 2_000 }) })
 */
export interface ChildProcessOptions {
  /**
   * How many commands run at once (the slots of its one node).
   * @default os.availableParallelism(). Bounds: integer >= 1, or Infinity.
   */
  readonly slots?: number;
  /**
   * Default for commands that do not set their own: milliseconds between SIGTERM and SIGKILL when a
   * command is cancelled, times out or exceeds its output cap. Keep it below the run's
   * `cancelGraceMs` (1000 by default), so the kill lands before the run stops waiting.
   * @default 500. Bounds: finite, >= 0.
   */
  readonly killGraceMs?: number;
  /**
   * Default for commands that do not set their own: most bytes of stdout kept as a task's output.
   * @default 1_048_576 (1 MiB). Bounds: integer >= 0, or Infinity.
   */
  readonly maxOutputBytes?: number;
}

/** The options checked, with their defaults; `killGraceMs` and `maxOutputBytes` serve commands that set none. */
export interface ResolvedOptions {
  readonly slots: number;
  readonly killGraceMs: number;
  readonly maxOutputBytes: number;
}

const WHERE = "childProcess()";
const OPTION_NAMES = ["slots", "killGraceMs", "maxOutputBytes"];

/** Checks every option once, up front; throws E_INVALID_OPTION naming the option, what was expected and what came. */
export function resolveOptions(options: ChildProcessOptions | undefined): ResolvedOptions {
  if (options === undefined) options = {};
  checkOptionsObject(WHERE, options, OPTION_NAMES);
  const { slots = availableParallelism(), killGraceMs = 500, maxOutputBytes = 1024 * 1024 } = options;
  if (!(slots === Infinity || (Number.isInteger(slots) && slots >= 1))) throw invalidOption(WHERE, "slots", "an integer >= 1 or Infinity", slots);
  checkDelayMs(WHERE, "killGraceMs", killGraceMs);
  checkMaxOutputBytes(WHERE, maxOutputBytes);
  if (process.platform === "win32") {
    throw new FlotillaError("E_INVALID_OPTION", `${WHERE}: child processes need POSIX process groups (Linux, macOS); this platform is win32`);
  }
  return { slots, killGraceMs, maxOutputBytes };
}

/** The check of `maxOutputBytes`, here and in `command()`'s options. */
export function checkMaxOutputBytes(where: string, value: unknown): void {
  if (!(value === Infinity || (Number.isInteger(value) && (value as number) >= 0)))
    throw invalidOption(where, "maxOutputBytes", "an integer >= 0 or Infinity", value);
}
