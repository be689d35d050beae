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
 * Providers add their own (`node.start`, `node.run`, `node.lost`, `provider.call`).
 */
type FaultPoint = "task.attempt" | "task.complete" | "job.cancel" | "task.dispatch" | "node.start" | "node.run" | "node.lost" | "provider.call" | (string & {});
/** What is known at a fault point. */
interface FaultContext {
    readonly point: FaultPoint;
    readonly jobName: string;
    readonly taskId?: string;
    readonly attempt?: number;
    readonly nodeId?: string;
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
    /** Calls `callback` once after `ms` milliseconds. */
    setTimer(ms: number, callback: () => void): TimerHandle;
    /** Cancels a timer; harmless for a timer that already fired or was cleared. */
    clearTimer(handle: TimerHandle): void;
    /** A number in [0, 1). */
    random(): number;
    /** Optional: consulted at fault points; returning nothing means "no fault". */
    fault?(point: FaultPoint, context: FaultContext): FaultAction | undefined | void;
}
/** The default runtime: the real clock, real timers and `Math.random`; it injects no faults. */
declare const realRuntime: Runtime;

export { realRuntime as r };
export type { FaultAction as F, Runtime as R, TimerHandle as T, FaultContext as a, FaultPoint as b };
