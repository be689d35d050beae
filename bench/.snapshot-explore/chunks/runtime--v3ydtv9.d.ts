/**
 * flotilla's error classes. Every error has a fixed `name`, a stable `code` to branch on, and a
 * `Symbol.for` brand so `instanceof` keeps working across realms (worker threads, duplicated copies
 * of the library) where the class identity differs.
 */
/** Every code a flotilla error can carry. Codes are a contract: they never change meaning. */
type ErrorCode = "E_DUPLICATE_TASK" | "E_INVALID_OPTION" | "E_UNKNOWN_DEPENDENCY" | "E_UNKNOWN_TASK" | "E_CYCLE" | "E_TIMEOUT" | "E_CANCELLED" | "E_DEPENDENCY_FAILED" | "E_NODE_LOST" | "E_RUN_ENDED" | "E_SCHEDULE_FAILED" | "E_SCHEDULE_DIVERGED";
/** The base class of every error flotilla raises. Branch on `code`, not on the message. */
declare class FlotillaError extends Error {
    readonly code: ErrorCode;
    constructor(code: ErrorCode, message: string, options?: {
        cause?: unknown;
    });
    get name(): string;
    /** Recognises flotilla errors from any copy of the library, in any realm. */
    static [Symbol.hasInstance](value: unknown): boolean;
}
/** A dependency cycle. `path` lists the task ids around it, first id repeated at the end. */
declare class CycleError extends FlotillaError {
    readonly path: readonly string[];
    constructor(jobName: string, path: readonly string[]);
    get name(): string;
}
/** An attempt ran past its task's `timeoutMs`; it was aborted through its signal. */
declare class TimeoutError extends FlotillaError {
    readonly taskId: string;
    readonly timeoutMs: number;
    constructor(taskId: string, attempt: number, timeoutMs: number);
    get name(): string;
}
/** Who cancelled: the caller's signal, `handle.cancel`, `handle.cancelTask`, `failFast`, or a fault. */
type CancelSource = "signal" | "cancel" | "cancelTask" | "failFast" | "fault";
/** Work that was cancelled. `reason` is what the canceller gave; `source` says who it was. */
declare class CancelledError extends FlotillaError {
    readonly reason: unknown;
    readonly source: CancelSource;
    constructor(message: string, source: CancelSource, reason: unknown);
    get name(): string;
}
/** Why a task was skipped: a dependency it blocks on failed, was cancelled or was skipped. */
declare class DependencyFailedError extends FlotillaError {
    readonly taskId: string;
    readonly dependency: string;
    /** `dependencyStatus` is the dependency's final status: "failed", "cancelled" or "skipped". */
    constructor(taskId: string, dependency: string, dependencyStatus: string, cause: unknown);
    get name(): string;
}
/**
 * A provider lost the node an attempt ran on (a crashed worker, a preempted VM). The executor
 * requeues the attempt without spending a retry, up to `maxNodeLosses`.
 */
declare class NodeLostError extends FlotillaError {
    readonly nodeId: string;
    constructor(nodeId: string, message?: string, options?: {
        cause?: unknown;
    });
    get name(): string;
}
/** True when `value` is a flotilla error, optionally with the given code. */
declare function isFlotillaError(value: unknown, code?: ErrorCode): value is FlotillaError;

/** What a run resolves to. */
/** Final state of a job. */
type JobStatus = "succeeded" | "failed" | "cancelled";
/** Final state of a task. */
type TaskStatus = "succeeded" | "failed" | "cancelled" | "skipped";
/** The outcome of one task. */
interface TaskResult<Output = unknown> {
    readonly status: TaskStatus;
    /** Attempts started (0 when the task never ran). */
    readonly attempts: number;
    /** The body's return value when `status` is "succeeded". */
    readonly output: Output | undefined;
    /** Why it did not succeed: the body's error, a TimeoutError, a CancelledError or a DependencyFailedError. */
    readonly error: unknown;
    /** Runtime clock when the first attempt started (undefined when it never ran). */
    readonly startedAt: number | undefined;
    /** Runtime clock when the task reached its final state. */
    readonly finishedAt: number | undefined;
}
/** Task outcomes by id: a read-only Map, typed from the job. */
interface TaskResults<Outputs> extends ReadonlyMap<string, TaskResult> {
    get<K extends keyof Outputs & string>(id: K): TaskResult<Outputs[K]>;
    get(id: string): TaskResult | undefined;
}
interface RunResult<Outputs = Record<string, unknown>> {
    readonly job: string;
    /** "succeeded" when every task succeeded; "cancelled" when the run (or, with no failure, a task) was cancelled; otherwise "failed". */
    readonly status: JobStatus;
    readonly tasks: TaskResults<Outputs>;
    /** Why the run did not succeed: the first final task error, or the run's CancelledError. */
    readonly error: unknown;
    readonly counts: {
        readonly succeeded: number;
        readonly failed: number;
        readonly cancelled: number;
        readonly skipped: number;
    };
    /** Runtime clock at start and end, and the difference. */
    readonly startedAt: number;
    readonly finishedAt: number;
    readonly durationMs: number;
    /** The output of a task, or undefined when it did not succeed. */
    output<K extends keyof Outputs & string>(id: K): Outputs[K] | undefined;
}

/** The typed event map of a run. Every payload carries its own `type`, so the async iterator yields a union. */

interface RunEvents {
    /** The run began (after the job was checked). */
    "job:start": {
        readonly type: "job:start";
        readonly job: string;
        readonly tasks: number;
        readonly at: number;
    };
    /** The run settled; `result` is what `handle.result` resolves to. */
    "job:end": {
        readonly type: "job:end";
        readonly job: string;
        readonly status: JobStatus;
        readonly result: RunResult<any>;
        readonly at: number;
    };
    /** All dependencies of a task are satisfied; it waits for a slot. Also after a retry's backoff. */
    "task:ready": {
        readonly type: "task:ready";
        readonly taskId: string;
        readonly at: number;
    };
    /** An attempt began. */
    "task:start": {
        readonly type: "task:start";
        readonly taskId: string;
        readonly attempt: number;
        readonly at: number;
    };
    /** An attempt failed and another will follow after `delayMs`. */
    "task:retry": {
        readonly type: "task:retry";
        readonly taskId: string;
        readonly attempt: number;
        readonly error: unknown;
        readonly delayMs: number;
        readonly at: number;
    };
    /** The task succeeded with `output`. */
    "task:succeeded": {
        readonly type: "task:succeeded";
        readonly taskId: string;
        readonly attempt: number;
        readonly output: unknown;
        readonly at: number;
    };
    /** The task failed for good. */
    "task:failed": {
        readonly type: "task:failed";
        readonly taskId: string;
        readonly attempts: number;
        readonly error: unknown;
        readonly at: number;
    };
    /** The task was cancelled; `error.source` says by whom. */
    "task:cancelled": {
        readonly type: "task:cancelled";
        readonly taskId: string;
        readonly error: CancelledError;
        readonly at: number;
    };
    /** The task will not run because a dependency it blocks on did not succeed. */
    "task:skipped": {
        readonly type: "task:skipped";
        readonly taskId: string;
        readonly error: DependencyFailedError;
        readonly at: number;
    };
    /** A node lost an attempt; the attempt goes back to the queue without spending a retry. */
    "task:requeued": {
        readonly type: "task:requeued";
        readonly taskId: string;
        readonly attempt: number;
        readonly error: unknown;
        readonly at: number;
    };
    /** An aborted attempt ignored its signal past `cancelGraceMs`; its slot was freed and its outcome will be ignored. */
    "task:abandoned": {
        readonly type: "task:abandoned";
        readonly taskId: string;
        readonly attempt: number;
        readonly at: number;
    };
}
type RunEventName = keyof RunEvents;
/** Any event of a run (what `for await (const e of handle)` yields). */
type RunEvent = RunEvents[RunEventName];

/**
 * The determinism seam. Everything in the core that depends on time, timers or randomness asks the
 * `Runtime`, so a controlled runtime (flotilla/testing) can make a run reproducible: virtual time,
 * a seeded random source and faults injected at named points. Only `realRuntime` below touches the
 * real clock, real timers and `Math.random`; a test in the suite enforces that.
 */

/** An opaque timer handle returned by `Runtime.setTimer`. */
type TimerHandle = unknown;
/**
 * Named places where a runtime may inject a fault. The executor consults:
 * - `task.attempt` — just before an attempt's body runs (context: taskId, attempt).
 * - `task.complete` — when an attempt's body has returned, before its outcome is recorded.
 * - `job.cancel` — before each dispatch of a ready task (context: taskId, attempt).
 * Providers add their own (`node.start`, `node.run`, `node.lost`, `provider.call`); service models
 * of flotilla/testing consult `service.call`.
 */
type FaultPoint = "task.attempt" | "task.complete" | "job.cancel" | "task.dispatch" | "node.start" | "node.run" | "node.lost" | "provider.call" | "service.call" | (string & {});
/** What is known at a fault point. */
interface FaultContext {
    readonly point: FaultPoint;
    readonly jobName: string;
    readonly taskId?: string;
    readonly attempt?: number;
    readonly nodeId?: string;
    /** Free-form detail of the call at this point (e.g. a modelled service's operation). */
    readonly detail?: string;
}
/**
 * What a runtime asks the code at a fault point to do.
 * - `fail`: the attempt fails with `error` (or an injected-fault error).
 * - `timeout`: the attempt fails as if it had run past its `timeoutMs`.
 * - `cancel`: the whole run is cancelled with `reason` (at `job.cancel`).
 */
type FaultAction = {
    readonly kind: "fail";
    readonly error?: unknown;
} | {
    readonly kind: "timeout";
} | {
    readonly kind: "cancel";
    readonly reason?: unknown;
};
/**
 * The clock, timers, randomness and fault points a run uses.
 *
 * @example
 * // A runtime whose clock starts at zero and that fails the first attempt of "load".
 * const runtime = { ...realRuntime, fault: (p, c) => p === "task.attempt" && c.taskId === "load" && c.attempt === 1 ? { kind: "fail" } : undefined };
 */
interface Runtime {
    /** Milliseconds since an arbitrary epoch; never goes backwards. */
    now(): number;
    /**
     * Calls `callback` once after `ms` milliseconds. `label` (given only to runtimes with `defer`)
     * names the timer in traces, e.g. `timeout load#1`.
     */
    setTimer(ms: number, callback: () => void, label?: string): TimerHandle;
    /** Cancels a timer; harmless for a timer that already fired or was cleared. */
    clearTimer(handle: TimerHandle): void;
    /** A number in [0, 1). */
    random(): number;
    /** Optional: consulted at fault points; returning nothing means "no fault". */
    fault?(point: FaultPoint, context: FaultContext): FaultAction | undefined | void;
    /**
     * Optional, for controlled runtimes: hands over a completion (an attempt's body settled) to be
     * delivered when the runtime chooses, so the order of simultaneous completions can be explored.
     * Without it, completions are delivered at once.
     */
    defer?(label: string, deliver: () => void): void;
    /** Optional, for testing runtimes: told about each run that starts on this runtime. */
    observe?(run: RunObservation): void;
}
/** What a testing runtime may watch of a run (to check invariants after every step). */
interface RunObservation {
    readonly job: string;
    /** Listens to the run's events. */
    on<K extends RunEventName>(event: K, listener: (event: RunEvents[K]) => void): void;
    /** Slots held by attempts now (aborted attempts winding down included). */
    busy(): number;
    /** The most slots the run may hold: min(concurrency, the node's slots). */
    capacity(): number;
    /** Ids of a task's dependencies. */
    dependencies(taskId: string): readonly string[];
    /** Whether a failure of this task lets its dependents run (`onFailure: "satisfy"`). */
    satisfiesOnFailure(taskId: string): boolean;
    /** True once the run has settled. */
    settled(): boolean;
}
/** The default runtime: the real clock, real timers and `Math.random`; it injects no faults. */
declare const realRuntime: Runtime;

export { DependencyFailedError as D, NodeLostError as N, CancelledError as e, CycleError as f, FlotillaError as i, TimeoutError as l, isFlotillaError as n, realRuntime as r };
export type { CancelSource as C, ErrorCode as E, FaultAction as F, JobStatus as J, Runtime as R, TaskResult as T, RunEventName as a, RunEvents as b, RunResult as c, RunEvent as d, FaultContext as g, FaultPoint as h, TaskResults as j, TaskStatus as k, TimerHandle as m };
