/**
 * flotilla's error classes. Every error has a fixed `name`, a stable `code` to branch on, and a
 * `Symbol.for` brand so `instanceof` keeps working across realms (worker threads, duplicated copies
 * of the library) where the class identity differs.
 */

/**
 * The codes core raises, with their meanings. Codes are a contract: they never change meaning.
 * Extensions declare their own with `declareErrorCodes` (vocabulary.ts).
 */
export const CORE_ERROR_CODES = {
  E_DUPLICATE_TASK: "two tasks of a job have the same id",
  E_INVALID_OPTION: "an option, argument or job definition is invalid (refused before anything runs)",
  E_UNKNOWN_DEPENDENCY: "a task depends on an id the job does not have",
  E_UNKNOWN_TASK: "an operation named a task the run does not have",
  E_CYCLE: "the job's dependencies form a cycle",
  E_TIMEOUT: "an attempt ran past its task's timeoutMs",
  E_CANCELLED: "work was cancelled",
  E_DEPENDENCY_FAILED: "a task was skipped: a dependency it blocks on did not succeed",
  E_NODE_LOST: "the node an attempt ran on was lost, or a pool could not start a node",
  E_RUN_ENDED: "an operation needs a run that has not ended",
  E_JOURNAL_LOCKED: "a journal is held by another run (or process)",
  E_JOURNAL_MISMATCH: "a journal belongs to another job, or was written in another format",
  E_JOURNAL_FAILED: "a journal could not be read or written; the run stops",
} as const;

/** A code of core's. */
export type CoreErrorCode = keyof typeof CORE_ERROR_CODES;

/**
 * A flotilla error's code: one of core's, or one an extension declared (`E_COMMAND_FAILED` of
 * flotilla/child-process, `E_SCHEDULE_FAILED` of flotilla/testing, a user adapter's own). The set is
 * open, so a `switch` on it needs a default; editors still offer core's codes.
 */
export type ErrorCode = CoreErrorCode | (string & {});

const BRAND = Symbol.for("flotilla.error");

/** The base class of every error flotilla raises. Branch on `code`, not on the message. */
export class FlotillaError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  override get name(): string {
    return "FlotillaError";
  }

  /** Recognises flotilla errors from any copy of the library, in any realm. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    try {
      if (typeof value !== "object" || value === null || !(BRAND in value)) return false;
      // Subclasses keep their own identity: `x instanceof CycleError` needs the right name too.
      // biome-ignore lint/complexity/noThisInStatic: `this` is the class `instanceof` was called on (a subclass too), not FlotillaError
      return this === FlotillaError || (value as { name?: unknown }).name === this.prototype.name;
    } catch {
      return false; // a revoked proxy, or a `name` getter that throws: not one of ours
    }
  }
}

/** A dependency cycle. `path` lists the task ids around it, first id repeated at the end. */
export class CycleError extends FlotillaError {
  readonly path: readonly string[];
  constructor(jobName: string, path: readonly string[]) {
    super("E_CYCLE", `job "${jobName}" has a dependency cycle: ${path.join(" -> ")} (each task depends on the next)`);
    this.path = path;
  }
  override get name(): string {
    return "CycleError";
  }
}

/** An attempt ran past its task's `timeoutMs`; it was aborted through its signal. */
export class TimeoutError extends FlotillaError {
  readonly taskId: string;
  readonly timeoutMs: number;
  constructor(taskId: string, attempt: number, timeoutMs: number) {
    super("E_TIMEOUT", `task "${taskId}" attempt ${attempt} timed out after ${timeoutMs} ms`);
    this.taskId = taskId;
    this.timeoutMs = timeoutMs;
  }
  override get name(): string {
    return "TimeoutError";
  }
}

/** Who cancelled: the caller's signal, `handle.cancel`, `handle.cancelTask`, `failFast`, a fault, or a journal that failed. */
export type CancelSource = "signal" | "cancel" | "cancelTask" | "failFast" | "fault" | "journal";

/** Work that was cancelled. `reason` is what the canceller gave; `source` says who it was. */
export class CancelledError extends FlotillaError {
  readonly reason: unknown;
  readonly source: CancelSource;
  constructor(message: string, source: CancelSource, reason: unknown) {
    super("E_CANCELLED", message, reason instanceof Error ? { cause: reason } : undefined);
    this.source = source;
    this.reason = reason;
  }
  override get name(): string {
    return "CancelledError";
  }
}

/** Why a task was skipped: a dependency it blocks on failed, was cancelled or was skipped. */
export class DependencyFailedError extends FlotillaError {
  readonly taskId: string;
  readonly dependency: string;
  /** `dependencyStatus` is the dependency's final status: "failed", "cancelled" or "skipped". */
  constructor(taskId: string, dependency: string, dependencyStatus: string, cause: unknown) {
    super(
      "E_DEPENDENCY_FAILED",
      `task "${taskId}" was skipped: its dependency "${dependency}" ${dependencyStatus === "failed" ? "failed" : `was ${dependencyStatus}`}`,
      { cause },
    );
    this.taskId = taskId;
    this.dependency = dependency;
  }
  override get name(): string {
    return "DependencyFailedError";
  }
}

/**
 * A provider lost the node an attempt ran on (a crashed worker, a preempted VM). The executor
 * requeues the attempt without spending a retry, up to `maxNodeLosses`.
 */
export class NodeLostError extends FlotillaError {
  readonly nodeId: string;
  constructor(nodeId: string, message?: string, options?: { cause?: unknown }) {
    super("E_NODE_LOST", message ?? `node "${nodeId}" was lost`, options);
    this.nodeId = nodeId;
  }
  override get name(): string {
    return "NodeLostError";
  }
}

/** True when `value` is a flotilla error, optionally with the given code. */
export function isFlotillaError(value: unknown, code?: ErrorCode): value is FlotillaError {
  return value instanceof FlotillaError && (code === undefined || value.code === code);
}

/**
 * The message of an Error, or the thrown value as a string (for messages that quote a cause). Never
 * throws: a value whose `message` getter or `toString` throws, or that has no string form at all
 * (`Object.create(null)`, a revoked proxy), is described by its type instead.
 */
export function messageOf(error: unknown): string {
  try {
    if (error instanceof Error) {
      const message: unknown = error.message;
      if (typeof message === "string") return message;
    }
    return String(error);
  } catch {
    return `(${describe(error)} that cannot be converted to a string)`;
  }
}

/** Describes a received value for error messages: `string "abc"`, `number -1`, `array`, `null`. Never throws. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case "number":
    case "boolean":
    case "bigint":
      return `${typeof value} ${String(value)}`;
    case "function":
      return "function";
    case "undefined":
      return "undefined";
    case "symbol":
      return "symbol";
    default:
      try {
        return Array.isArray(value) ? "array" : "object";
      } catch {
        return "object"; // a revoked proxy
      }
  }
}
