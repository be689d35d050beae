/** Options of `workerThreads()`, with defaults and bounds, and their single check. */
import { availableParallelism } from "node:os";
import { SHARE_ENV } from "node:worker_threads";
import { checkDelayMs, checkKnownKeys, checkOptionsObject, invalidOption } from "../../src/validation.ts";

/** Heap and stack limits of each thread, in MB (Node's `ResourceLimits`, declared here so the types need no @types/node). */
export interface WorkerResourceLimits {
  /** The largest heap space for recently created objects. */
  readonly maxYoungGenerationSizeMb?: number;
  /** The largest main heap. */
  readonly maxOldGenerationSizeMb?: number;
  /** The size of the range reserved for generated code. */
  readonly codeRangeSizeMb?: number;
  /** The largest stack of the thread. @default 4 */
  readonly stackSizeMb?: number;
}

/**
 * @example workerThreads({ threads: 2, tasksPerThread: 1, resourceLimits: { maxOldGenerationSizeMb: 256 } })
 */
export interface WorkerThreadsOptions {
  /**
   * Most worker threads a run keeps (the pool's nodes). Threads start as ready work needs them.
   * @default Math.min(4, os.availableParallelism()). Bounds: integer >= 1.
   */
  readonly threads?: number;
  /**
   * Attempts one thread holds at once (its node's slots). Several per thread let tiny or I/O-bound
   * tasks travel in batches (bench/worker-threads.md: 8 per thread moves about 5 times as many tiny
   * tasks as 1). A synchronous body still runs alone, so the others wait in the thread, their
   * `timeoutMs` running: set 1 for long CPU-bound tasks, so each waits for a free thread instead.
   * @default 8. Bounds: integer >= 1.
   */
  readonly tasksPerThread?: number;
  /** Passed to each `Worker` (heap and stack limits); a thread that exceeds them is a lost node. Ignored by Deno. */
  readonly resourceLimits?: WorkerResourceLimits;
  /**
   * The threads' `process.env`: an object of strings, or `SHARE_ENV` from node:worker_threads (the
   * threads then share the main thread's). @default a copy of process.env as the thread starts
   */
  readonly env?: Readonly<Record<string, string>> | symbol;
  /** Strings appended to `process.argv` in each thread. @default [] */
  readonly argv?: readonly string[];
  /** Node options for each thread (`process.execArgv` there). @default the main thread's */
  readonly execArgv?: readonly string[];
  /**
   * A thread idle this long is terminated; it starts again, with fresh module state, when its node
   * is next used. @default 30_000. Bounds: > 0, or Infinity.
   */
  readonly idleTimeoutMs?: number;
  /**
   * How long a cancelled or timed-out attempt's body may keep running after its signal aborted before
   * its thread is terminated (other attempts on that thread are then requeued as on a lost node).
   * While the thread is still starting or loading the attempt's module, the body has not run: it is
   * not terminated on that attempt's account if other attempts on it would be lost (the thread ends
   * the attempt itself once it can read the abort), and the grace starts again when the module has loaded.
   * Keep it below the run's `cancelGraceMs`. @default 500. Bounds: finite, >= 0.
   */
  readonly terminateGraceMs?: number;
}

export interface ResolvedOptions {
  readonly threads: number;
  readonly tasksPerThread: number;
  readonly resourceLimits: WorkerResourceLimits | undefined;
  readonly env: Readonly<Record<string, string>> | typeof SHARE_ENV | undefined;
  readonly argv: readonly string[] | undefined;
  readonly execArgv: readonly string[] | undefined;
  readonly idleTimeoutMs: number;
  readonly terminateGraceMs: number;
}

const WHERE = "workerThreads()";
const OPTION_NAMES = ["threads", "tasksPerThread", "resourceLimits", "env", "argv", "execArgv", "idleTimeoutMs", "terminateGraceMs"];
const LIMIT_NAMES = ["maxYoungGenerationSizeMb", "maxOldGenerationSizeMb", "codeRangeSizeMb", "stackSizeMb"];

/** Checks every option once, up front; throws E_INVALID_OPTION naming the option, what was expected and what came. */
export function resolveOptions(options: WorkerThreadsOptions | undefined): ResolvedOptions {
  if (options === undefined) options = {};
  checkOptionsObject(WHERE, options, OPTION_NAMES);
  const o = options;
  const threads = o.threads ?? defaultThreads();
  if (!(Number.isInteger(threads) && threads >= 1)) throw invalidOption(WHERE, "threads", "an integer >= 1", threads);
  const tasksPerThread = o.tasksPerThread ?? 8;
  if (!(Number.isInteger(tasksPerThread) && tasksPerThread >= 1)) throw invalidOption(WHERE, "tasksPerThread", "an integer >= 1", tasksPerThread);
  const idleTimeoutMs = o.idleTimeoutMs ?? 30_000;
  if (!(typeof idleTimeoutMs === "number" && idleTimeoutMs > 0))
    throw invalidOption(WHERE, "idleTimeoutMs", "a number of milliseconds > 0, or Infinity", idleTimeoutMs);
  const terminateGraceMs = o.terminateGraceMs ?? 500;
  checkDelayMs(WHERE, "terminateGraceMs", terminateGraceMs);
  const limits = o.resourceLimits;
  if (limits !== undefined) {
    if (typeof limits !== "object" || limits === null || Array.isArray(limits))
      throw invalidOption(WHERE, "resourceLimits", "an object of sizes in MB", limits);
    checkKnownKeys(`${WHERE}: option "resourceLimits"`, limits, LIMIT_NAMES, "limit");
    for (const [key, value] of Object.entries(limits)) {
      if (value !== undefined && !(typeof value === "number" && Number.isFinite(value) && value > 0)) {
        throw invalidOption(WHERE, `resourceLimits.${key}`, "a number of MB > 0", value);
      }
    }
  }
  const env = o.env;
  if (env !== undefined && env !== SHARE_ENV) {
    if (typeof env !== "object" || env === null || Array.isArray(env))
      throw invalidOption(WHERE, "env", "an object of strings or SHARE_ENV (from node:worker_threads)", env);
    for (const [key, value] of Object.entries(env)) {
      if (typeof value !== "string") throw invalidOption(WHERE, `env.${key}`, "a string", value);
    }
  }
  checkStrings("argv", o.argv);
  checkStrings("execArgv", o.execArgv);
  return {
    threads,
    tasksPerThread,
    resourceLimits: limits === undefined ? undefined : { ...limits },
    env: env === undefined || env === SHARE_ENV ? (env as typeof SHARE_ENV | undefined) : { ...(env as Record<string, string>) },
    argv: o.argv === undefined ? undefined : [...o.argv],
    execArgv: o.execArgv === undefined ? undefined : [...o.execArgv],
    idleTimeoutMs,
    terminateGraceMs,
  };
}

function checkStrings(option: string, value: unknown): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) throw invalidOption(WHERE, option, "an array of strings", value);
  value.forEach((item, i) => {
    if (typeof item !== "string") throw invalidOption(WHERE, `${option}[${i}]`, "a string", item);
  });
}

function defaultThreads(): number {
  return Math.min(4, availableParallelism()); // availableParallelism() is at least 1
}
