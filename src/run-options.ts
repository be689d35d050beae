/** Options of a run, with defaults and bounds, and their single check. */
import { FlotillaError } from "./errors.ts";
import type { NodePool } from "./node-pool.ts";
import { type Pool, checkSharedPool, sharedPoolOf } from "./shared-pool.ts";
import { checkProvider, inProcess, type ComputeProvider } from "./provider.ts";
import { missingRuntimeMembers, realRuntime, type Runtime } from "./runtime.ts";
import { checkOptionsObject, invalidOption } from "./validation.ts";
import type { Journal } from "./journal.ts";

/**
 * @example await run(job, { concurrency: 8, signal: AbortSignal.timeout(60_000), failFast: true })
 */
export interface RunOptions {
  /** Most attempts running at once. @default Infinity. Bounds: integer >= 1, or Infinity. */
  readonly concurrency?: number;
  /** Aborting it cancels the run (source "signal", reason `signal.reason`). */
  readonly signal?: AbortSignal;
  /** Cancel everything at the first task that fails for good; the run then ends "failed". @default false */
  readonly failFast?: boolean;
  /** The clock, timers, randomness and fault points. @default realRuntime */
  readonly runtime?: Runtime;
  /** Where bodies run: the provider of the "default" pool (shorthand for `pools: { default: provider }`). @default inProcess() */
  readonly provider?: ComputeProvider<any>;
  /**
   * Named pools, each the nodes of one provider; a task picks one with its `pool` option (tasks
   * without one use "default", which is `inProcess()` unless given here). Not together with `provider`.
   *
   * @example { default: inProcess(), cpu: workerThreads({ threads: 2 }), sh: childProcess({ slots: 4 }) }
   */
  readonly pools?: Readonly<Record<string, ComputeProvider<any> | Pool>>;
  /**
   * Among runs sharing a pool (made with `pool()`), higher takes free slots first; a run with ready
   * work still gets a slot after at most 8 went to other runs (STARVATION_BOUND). @default 0. Bounds: finite.
   */
  readonly priority?: number;
  /**
   * How many times a task's attempt may be requeued because its low-priority node was preempted,
   * before the task fails with E_NODE_LOST. Preemptions spend no retry. @default 10. Bounds: integer >= 0.
   */
  readonly maxPreemptions?: number;
  /**
   * How long an aborted attempt (cancelled or timed out) may keep its slot while it winds down. A body
   * that ignores its signal longer is abandoned: its slot is freed and its outcome ignored.
   * @default 1_000. Bounds: finite, >= 0 (any size: long delays are re-armed, never fired early).
   */
  readonly cancelGraceMs?: number;
  /**
   * How many times a task's attempt may be requeued because its node was lost while the task ran
   * alone there, before the task fails with E_NODE_LOST. A loss on a node shared with other attempts
   * is charged to none of them (each is requeued free and then runs alone), so a task that keeps
   * killing its nodes fails and the innocent tasks beside it succeed. @default 3. Bounds: integer >= 0.
   */
  readonly maxNodeLosses?: number;
  /**
   * How long the end of a run waits for its providers: for a node start still in flight (which is
   * aborted through `report.signal` first) and for each `stopNode`. Past it the run settles anyway
   * and emits `provider:error`; a node that arrives later is still stopped.
   * @default 10_000. Bounds: finite, >= 0.
   */
  readonly stopTimeoutMs?: number;
  /**
   * Where each task's final state and output are recorded, so that running the same job again with the
   * same journal resumes it: tasks that succeeded are restored (`task:succeeded` with `restored: true`,
   * their outputs read back as JSON), the others run. Attempts that were running when the process died
   * run again (at least once). `memoryJournal()` here; `fileJournal(path)` from flotilla/file-journal
   * survives a process that was killed. A journal of another job is refused (E_JOURNAL_MISMATCH), as is one
   * another run holds (E_JOURNAL_LOCKED); a journal that fails to write stops the run (E_JOURNAL_FAILED).
   */
  readonly journal?: Journal;
  /**
   * Records the run as a Chrome trace-event / Perfetto JSON object in `result.trace`: a track per node
   * and slot, a span per attempt, node lifecycles, retries and cancellations. @default false
   */
  readonly trace?: boolean;
}

export interface ResolvedRunOptions {
  readonly concurrency: number;
  readonly signal: AbortSignal | undefined;
  readonly failFast: boolean;
  readonly runtime: Runtime;
  /** The pools, "default" first. */
  readonly pools: readonly { readonly name: string; readonly provider: ComputeProvider<any>; readonly shared?: NodePool }[];
  readonly priority: number;
  readonly maxPreemptions: number;
  readonly cancelGraceMs: number;
  readonly maxNodeLosses: number;
  readonly stopTimeoutMs: number;
  readonly journal: Journal | undefined;
  readonly trace: boolean;
}

const RUN_OPTION_NAMES = [
  "concurrency",
  "signal",
  "failFast",
  "runtime",
  "provider",
  "pools",
  "cancelGraceMs",
  "maxNodeLosses",
  "stopTimeoutMs",
  "priority",
  "maxPreemptions",
  "journal",
  "trace",
];

export function resolveRunOptions(jobName: string, options: unknown): ResolvedRunOptions {
  const where = `run of job "${jobName}"`;
  if (options === undefined) options = {};
  checkOptionsObject(where, options, RUN_OPTION_NAMES, "run option");
  const o = options as RunOptions;
  const concurrency = o.concurrency === undefined ? Infinity : o.concurrency;
  if (!(concurrency === Infinity || (Number.isInteger(concurrency) && concurrency >= 1))) {
    throw invalidOption(where, "concurrency", "an integer >= 1 or Infinity", concurrency);
  }
  const signal = o.signal;
  if (signal !== undefined && !isAbortSignal(signal)) throw invalidOption(where, "signal", "an AbortSignal", signal);
  const failFast = o.failFast === undefined ? false : o.failFast;
  if (typeof failFast !== "boolean") throw invalidOption(where, "failFast", "a boolean", failFast);
  // Here and above: null is not "the default"; a caller passing null has a bug to hear about.
  const runtime = o.runtime === undefined ? realRuntime : o.runtime;
  if (typeof runtime !== "object" || runtime === null) throw invalidOption(where, "runtime", "a Runtime object", runtime);
  const missing = missingRuntimeMembers(runtime);
  if (missing.length > 0) {
    throw new FlotillaError("E_INVALID_OPTION", `${where}: option "runtime" is not a Runtime: missing ${missing.join(", ")}`);
  }
  const pools = resolvePools(where, o, runtime);
  const cancelGraceMs = millis(where, "cancelGraceMs", o.cancelGraceMs, 1_000);
  const maxNodeLosses = o.maxNodeLosses === undefined ? 3 : o.maxNodeLosses;
  if (!(Number.isInteger(maxNodeLosses) && maxNodeLosses >= 0)) {
    throw invalidOption(where, "maxNodeLosses", "an integer >= 0", maxNodeLosses);
  }
  const stopTimeoutMs = millis(where, "stopTimeoutMs", o.stopTimeoutMs, 10_000);
  const priority = o.priority === undefined ? 0 : o.priority;
  if (!(typeof priority === "number" && Number.isFinite(priority))) throw invalidOption(where, "priority", "a finite number", priority);
  const maxPreemptions = o.maxPreemptions === undefined ? 10 : o.maxPreemptions;
  if (!(Number.isInteger(maxPreemptions) && maxPreemptions >= 0)) throw invalidOption(where, "maxPreemptions", "an integer >= 0", maxPreemptions);
  const journal = o.journal;
  if (journal !== undefined) checkJournal(where, journal);
  const trace = o.trace === undefined ? false : o.trace;
  if (typeof trace !== "boolean") throw invalidOption(where, "trace", "a boolean", trace);
  return { concurrency, signal, failFast, runtime, pools, cancelGraceMs, maxNodeLosses, stopTimeoutMs, priority, maxPreemptions, journal, trace };
}

/**
 * The pools of a run given neither `provider` nor `pools`: one in-process provider, which keeps no
 * state, so every such run shares it (explore() starts a run per schedule; making and checking a
 * provider each time was most of the cost of resolving the options).
 */
let defaultPools: ResolvedRunOptions["pools"] | undefined;

function resolvePools(where: string, o: RunOptions, runtime: Runtime): ResolvedRunOptions["pools"] {
  if (o.pools === undefined && o.provider === undefined) return (defaultPools ??= Object.freeze([Object.freeze({ name: "default", provider: inProcess() })]));
  if (o.pools === undefined) {
    const provider = o.provider === undefined ? inProcess() : o.provider;
    checkProvider(`${where}: option "provider"`, provider);
    return [{ name: "default", provider }];
  }
  if (o.provider !== undefined) {
    throw new FlotillaError(
      "E_INVALID_OPTION",
      `${where}: give "provider" (one default pool) or "pools" (named pools), not both; put the provider in pools.default`,
    );
  }
  const given = o.pools as unknown;
  if (typeof given !== "object" || given === null || Array.isArray(given)) {
    throw invalidOption(where, "pools", "an object of named providers, like { default: inProcess(), cpu: workerThreads() }", given);
  }
  const pools: { name: string; provider: ComputeProvider<any>; shared?: NodePool }[] = [];
  for (const name of Object.keys(given)) {
    const entry = (given as Record<string, unknown>)[name];
    const shared = sharedPoolOf(entry);
    if (shared !== undefined) {
      checkSharedPool(where, name, shared, runtime);
      pools.push({ name, provider: shared.provider, shared });
      continue;
    }
    checkProvider(`${where}: pool "${name}"`, entry);
    pools.push({ name, provider: entry });
  }
  const d = pools.findIndex((pool) => pool.name === "default");
  if (d < 0) pools.unshift({ name: "default", provider: inProcess() });
  else pools.unshift(...pools.splice(d, 1));
  return pools;
}

/** A journal is an object with a string `name` and the methods open, append and close. */
function checkJournal(where: string, journal: unknown): void {
  if (typeof journal !== "object" || journal === null) throw invalidOption(where, "journal", "a Journal (memoryJournal(), fileJournal(path))", journal);
  const j = journal as Record<string, unknown>;
  const missing = ["open", "append", "close"].filter((m) => typeof j[m] !== "function");
  if (typeof j.name !== "string") missing.unshift("name (a string)");
  if (missing.length > 0) throw new FlotillaError("E_INVALID_OPTION", `${where}: option "journal" is not a Journal: missing ${missing.join(", ")}`);
}

/** A delay option: `fallback` when not given, else a finite number of milliseconds >= 0 (any size). */
function millis(where: string, option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(typeof value === "number" && Number.isFinite(value) && value >= 0)) throw invalidOption(where, option, "a finite number of milliseconds >= 0", value);
  return value;
}

function isAbortSignal(value: unknown): value is AbortSignal {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as AbortSignal).aborted === "boolean" &&
    typeof (value as AbortSignal).addEventListener === "function" &&
    typeof (value as AbortSignal).removeEventListener === "function"
  );
}
