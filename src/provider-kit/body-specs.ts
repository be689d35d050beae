/**
 * The portable task bodies that more than one provider runs, as types only: a module export
 * (`WorkerTaskSpec`, kind "worker-thread") and a command line (`CommandSpec`, kind "command"). Their
 * builders and checks stay with the adapters that own them (`workerTask` in flotilla/worker-threads,
 * `command` in flotilla/child-process); the types live here so another provider (flotilla/cloud-vm's
 * `localVms()`) can run the same task definitions without importing an adapter.
 */
import type { TaskSpec } from "../task-context.ts";

/**
 * A task body for `workerThreads()` (and `localVms()`): the export `export` of the module at `module`
 * (an absolute URL), called as `fn(input, ctx)`. A plain object, so it can be built anywhere.
 */
export interface WorkerTaskSpec<Output = unknown> extends TaskSpec<Output> {
  readonly kind: "worker-thread";
  /** The module's absolute URL (`file:`, `data:`, ...). */
  readonly module: string;
  /** The name of the exported function (`"default"` for the default export). */
  readonly export: string;
  /** The first argument of the function; crosses to the thread by structured clone (to a local VM, as JSON). */
  readonly input: unknown;
}

/**
 * What a worker export receives as its second argument.
 *
 * @example
 * // tasks.mjs
 * export async function resize(input, { deps, signal, log }) {
 *   log(`resizing ${deps.fetch.length} bytes`);
 *   return sharp(deps.fetch).resize(input.width).toBuffer({ signal });
 * }
 */
export interface WorkerTaskContext<Deps = Record<string, unknown>> {
  /** The task's id. */
  readonly taskId: string;
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  readonly attempt: number;
  /** Aborted when the attempt is cancelled or times out (reason: an Error with the main thread's name, message and code). */
  readonly signal: AbortSignal;
  /** The outputs of the task's dependencies, by id (structured clones). */
  readonly deps: Deps;
  /**
   * Errors of dependencies that failed with `onFailure: "satisfy"`, by id (their `deps` entry is
   * undefined): Errors with the original's name, message, stack and properties such as `code`.
   */
  readonly failures: Readonly<Record<string, unknown>>;
  /** Reports a line as a `task:output` event on the main thread. */
  readonly log: (line: string) => void;
}

/**
 * Options of one command.
 *
 * @example command(["convert", "in.png", "out.jpg"], { cwd: "/tmp/images", env: { MAGICK_THREAD_LIMIT: "1" } })
 */
export interface CommandOptions {
  /**
   * Environment variables, merged over this program's environment as it was when the run began
   * (or replacing it with `inheritEnv: false`). A value of `undefined` removes an inherited variable.
   * flotilla always sets `FLOTILLA_TASK_ID`, `FLOTILLA_ATTEMPT` and `FLOTILLA_DEPS_FILE` on top. @default {}
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Whether the command starts from this process's environment. @default true */
  readonly inheritEnv?: boolean;
  /** Working directory (a path or a `file:` URL). @default this process's current directory */
  readonly cwd?: string | URL;
  /** Written to the command's stdin, which is then closed. Without it stdin is empty (/dev/null). @default none */
  readonly stdin?: string | Uint8Array;
  /**
   * `false`: argv[0] is the program and argv[1..] its arguments, never interpreted by a shell.
   * `true` (or a shell's path): argv[0] is a shell line run with `/bin/sh -c` (or that shell), and
   * argv[1..] are its positional parameters `$1`, `$2`, …  @default false
   *
   * @example command(['tar czf "$1" .', "out.tgz"], { shell: true })
   */
  readonly shell?: boolean | string;
  /**
   * What the task's output is: `"text"`, stdout as a string with one final newline removed;
   * `"json"`, stdout parsed as JSON (invalid JSON fails the attempt); `"none"`, undefined (stdout is
   * still reported line by line, and not capped). @default "text"
   */
  readonly output?: "text" | "json" | "none";
  /**
   * Most bytes of stdout kept. A command that writes more is stopped and its attempt fails with
   * `failure: "output-limit"` (output is never silently truncated). Applies to "text" and "json".
   * @default the provider's (1 MiB). Bounds: integer >= 0, or Infinity.
   */
  readonly maxOutputBytes?: number;
  /**
   * After a cancel, a timeout or the output cap, the command's process group gets SIGTERM, then
   * SIGKILL after this many milliseconds if its leader has not exited.
   * @default the provider's (500). Bounds: finite, >= 0. Keep it below the run's `cancelGraceMs`.
   */
  readonly killGraceMs?: number;
}

/** The task body `command()` returns: a plain, frozen description of the command to run. */
export interface CommandSpec<Output = string> extends TaskSpec<Output> {
  readonly kind: "command";
  /** The command line as given. */
  readonly argv: readonly string[];
  /** The options as given. */
  readonly options: CommandOptions;
}
