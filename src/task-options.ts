/** Task options: their documented types, defaults and bounds, and the one place they are checked. */
import { FlotillaError, describe } from "./errors.ts";
import { checkKnownKeys, checkOptionsObject, invalidOption } from "./validation.ts";

/**
 * How long to wait before retrying a failed attempt. Attempt n (n >= 2) waits
 * `min(maxMs, initialMs * factor ** (n - 2))`, reduced by up to `jitter` of itself at random.
 *
 * @example { initialMs: 200, factor: 2, maxMs: 5_000, jitter: 0.2 }
 */
export interface BackoffOptions {
  /** First delay. @default 100. Bounds: finite, >= 0. */
  readonly initialMs?: number;
  /** Growth per attempt. @default 2. Bounds: finite, >= 1. */
  readonly factor?: number;
  /** Ceiling of any one delay. @default Infinity (no ceiling). Bounds: >= initialMs. */
  readonly maxMs?: number;
  /** Fraction of each delay that is randomised away (0 = exact). @default 0. Bounds: 0..1. */
  readonly jitter?: number;
}

/**
 * Options of one task.
 *
 * @example job.task("load", { dependsOn: ["transform"], retries: 2, timeoutMs: 5_000 }, save)
 */
export interface TaskOptions<Dep extends string = string> {
  /** Ids of the tasks this one waits for. They may be declared later in the job. @default [] */
  readonly dependsOn?: readonly Dep[];
  /** Extra attempts after the first one fails. @default 0. Bounds: integer, >= 0. */
  readonly retries?: number;
  /** Delay between attempts. @default { initialMs: 100, factor: 2, maxMs: Infinity, jitter: 0 } */
  readonly backoff?: BackoffOptions;
  /** Per-attempt time limit; the attempt's signal is aborted when it runs out. @default none. Bounds: finite, > 0. */
  readonly timeoutMs?: number;
  /**
   * What a final failure means for this task's dependents: `"block"` skips them (and their
   * dependents) with E_DEPENDENCY_FAILED; `"satisfy"` lets them run, and they see the error in
   * `ctx.failures`. @default "block"
   */
  readonly onFailure?: "block" | "satisfy";
  /**
   * Higher starts first among ready tasks. A task's effective priority is the highest of its own and
   * that of every task that (transitively) depends on it. @default 0. Bounds: finite.
   */
  readonly priority?: number;
  /**
   * The pool (run option `pools`) whose nodes run this task. Its provider must run this body's kind,
   * or the run is refused before it starts. @default "default"
   */
  readonly pool?: string;
  /**
   * Slots of one node the task's attempt holds (a task that needs a whole 4-slot node says 4). A task
   * needing more than its pool's nodes have is refused before the run (pool option `slotsPerNode`), or
   * fails when the pool's nodes turn out smaller. @default 1. Bounds: integer >= 1.
   */
  readonly slots?: number;
}

/** Options of a task whose failure satisfies its dependents: its output is `Output | undefined` in theirs. */
export type SatisfyOptions<Dep extends string = string> = TaskOptions<Dep> & { readonly onFailure: "satisfy" };

/** The retry, timeout and failure policy of a task, normalised. Absent means all defaults. */
export interface TaskPolicy {
  readonly retries: number;
  readonly initialMs: number;
  readonly factor: number;
  readonly maxMs: number;
  readonly jitter: number;
  readonly timeoutMs: number; // 0 = no timeout
  readonly satisfy: boolean;
  readonly priority: number;
  readonly pool: string; // "default" unless given
  readonly slots: number;
}

export const DEFAULT_POLICY: TaskPolicy = Object.freeze({
  retries: 0,
  initialMs: 100,
  factor: 2,
  maxMs: Infinity,
  jitter: 0,
  timeoutMs: 0,
  satisfy: false,
  priority: 0,
  pool: "default",
  slots: 1,
});

const TASK_OPTION_NAMES = ["dependsOn", "retries", "backoff", "timeoutMs", "onFailure", "priority", "pool", "slots"];
const BACKOFF_OPTION_NAMES = ["initialMs", "factor", "maxMs", "jitter"];
const NO_DEPS: readonly string[] = Object.freeze([]);

function isFiniteNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** Checks a task id; `where` names the job for the message. */
export function checkTaskId(where: string, id: unknown): asserts id is string {
  if (typeof id !== "string" || id.length === 0) {
    throw new FlotillaError("E_INVALID_OPTION", `${where}: a task id must be a non-empty string, received ${describe(id)}`);
  }
}

/** Where a message about task `id`'s options starts; built only when there is something to report. */
function aboutTask(id: string): string {
  return `task "${id}"`;
}

/** Validates `dependsOn` of task `id`: an array of non-empty ids, none listed twice. Returns it (or an empty list). */
export function checkDependsOn(id: string, value: unknown): readonly string[] {
  if (value === undefined) return NO_DEPS;
  if (!Array.isArray(value)) throw invalidOption(aboutTask(id), "dependsOn", "an array of task ids", value);
  const n = value.length;
  for (let i = 0; i < n; i++) {
    const dep: unknown = value[i];
    if (typeof dep !== "string" || dep.length === 0) {
      throw invalidOption(aboutTask(id), `dependsOn[${i}]`, "a non-empty task id string", dep);
    }
  }
  // Pairwise for the usual handful of ids; a Set for a wide fan-in, so the check stays linear.
  if (n <= 16) {
    for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) if (value[j] === value[i]) throw listedTwice(id, value[i]);
  } else if (new Set(value).size !== n) {
    const seen = new Set<string>();
    for (const dep of value as string[]) {
      if (seen.has(dep)) throw listedTwice(id, dep);
      seen.add(dep);
    }
  }
  return value as readonly string[];
}

function listedTwice(id: string, dep: string): FlotillaError {
  return new FlotillaError("E_INVALID_OPTION", `${aboutTask(id)}: option "dependsOn" lists "${dep}" twice`);
}

/** Validates everything but `dependsOn` of task `id`; returns undefined when every policy option is the default. */
export function checkPolicy(id: string, options: TaskOptions): TaskPolicy | undefined {
  const { retries, backoff, timeoutMs, onFailure, priority, pool, slots } = options;
  if (
    retries === undefined &&
    backoff === undefined &&
    timeoutMs === undefined &&
    onFailure === undefined &&
    priority === undefined &&
    pool === undefined &&
    slots === undefined
  ) {
    return undefined;
  }
  if (retries !== undefined && !(Number.isInteger(retries) && retries >= 0)) {
    throw invalidOption(aboutTask(id), "retries", "a non-negative integer", retries);
  }
  if (timeoutMs !== undefined && !(isFiniteNumber(timeoutMs) && timeoutMs > 0)) {
    throw invalidOption(aboutTask(id), "timeoutMs", "a finite number of milliseconds > 0", timeoutMs);
  }
  if (onFailure !== undefined && onFailure !== "block" && onFailure !== "satisfy") {
    throw invalidOption(aboutTask(id), "onFailure", `"block" or "satisfy"`, onFailure);
  }
  if (priority !== undefined && !isFiniteNumber(priority)) {
    throw invalidOption(aboutTask(id), "priority", "a finite number", priority);
  }
  if (pool !== undefined && !(typeof pool === "string" && pool.length > 0)) {
    throw invalidOption(aboutTask(id), "pool", "the name of a pool (a non-empty string)", pool);
  }
  if (slots !== undefined && !(Number.isInteger(slots) && slots >= 1)) throw invalidOption(aboutTask(id), "slots", "an integer >= 1", slots);
  const b = checkBackoff(aboutTask(id), backoff);
  return Object.freeze({
    retries: retries ?? 0,
    ...b,
    timeoutMs: timeoutMs ?? 0,
    satisfy: onFailure === "satisfy",
    priority: priority ?? 0,
    pool: pool ?? "default",
    slots: slots ?? 1,
  });
}

function checkBackoff(where: string, backoff: unknown): Pick<TaskPolicy, "initialMs" | "factor" | "maxMs" | "jitter"> {
  const d = DEFAULT_POLICY;
  if (backoff === undefined) return { initialMs: d.initialMs, factor: d.factor, maxMs: d.maxMs, jitter: d.jitter };
  if (typeof backoff !== "object" || backoff === null || Array.isArray(backoff)) {
    throw invalidOption(where, "backoff", "an object { initialMs, factor, maxMs, jitter }", backoff);
  }
  checkKnownKeys(where, backoff, BACKOFF_OPTION_NAMES, "backoff option");
  const { initialMs = d.initialMs, factor = d.factor, maxMs = d.maxMs, jitter = d.jitter } = backoff as BackoffOptions;
  if (!(isFiniteNumber(initialMs) && initialMs >= 0)) throw invalidOption(where, "backoff.initialMs", "a finite number >= 0", initialMs);
  if (!(isFiniteNumber(factor) && factor >= 1)) throw invalidOption(where, "backoff.factor", "a finite number >= 1", factor);
  if (!(typeof maxMs === "number" && maxMs >= initialMs)) throw invalidOption(where, "backoff.maxMs", `a number >= backoff.initialMs (${initialMs})`, maxMs);
  if (!(isFiniteNumber(jitter) && jitter >= 0 && jitter <= 1)) throw invalidOption(where, "backoff.jitter", "a number from 0 to 1", jitter);
  return { initialMs, factor, maxMs, jitter };
}

/** Validates a whole options object of task `id` (unknown names included). */
export function checkTaskOptions(id: string, options: unknown): { deps: readonly string[] | undefined; policy: TaskPolicy | undefined } {
  if (typeof options !== "object" || options === null || Array.isArray(options)) checkOptionsObject(aboutTask(id), options, TASK_OPTION_NAMES);
  for (const key in options) {
    // The message is checkKnownKeys' own, built from the first unknown name alone, so the caller's
    // object is enumerated once.
    if (key !== "dependsOn" && !TASK_OPTION_NAMES.includes(key)) checkKnownKeys(aboutTask(id), { [key]: undefined }, TASK_OPTION_NAMES);
  }
  return { deps: checkDependsOn(id, (options as TaskOptions).dependsOn), policy: checkPolicy(id, options as TaskOptions) };
}

/**
 * The delay before attempt `nextAttempt` (2 = first retry): always a finite number >= 0, however many
 * attempts (`0 * factor ** n` would be NaN once `factor ** n` overflows, and a huge factor Infinity).
 * A delay past every bound is capped at MAX_DELAY_MS.
 */
export function backoffDelay(policy: TaskPolicy, nextAttempt: number, random: () => number): number {
  if (policy.initialMs === 0) return 0;
  const grown = policy.initialMs * policy.factor ** (nextAttempt - 2);
  const raw = Math.min(policy.maxMs, Number.isFinite(grown) ? grown : Infinity, MAX_DELAY_MS);
  return policy.jitter === 0 ? raw : raw * (1 - policy.jitter * random());
}

/** The longest delay the core ever asks a runtime for (about 285,000 years): finite, exact in a double. */
export const MAX_DELAY_MS = Number.MAX_SAFE_INTEGER;
