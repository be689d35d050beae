/**
 * The determinism seam. Everything in the core that depends on time, timers or randomness asks the
 * `Runtime`, so a controlled runtime (flotilla/testing) can make a run reproducible: virtual time,
 * a seeded random source and faults injected at named points. Only `realRuntime` below touches the
 * real clock, real timers and `Math.random`; a test in the suite enforces that.
 */

import type { RunEventName, RunEvents } from "./events.ts";
import type { CoreFaultPoint } from "./fault-points.ts";
import { MAX_TIMER_MS } from "./validation.ts";

/** An opaque timer handle returned by `Runtime.setTimer`. */
export type TimerHandle = unknown;

/**
 * Named places where a runtime may inject a fault: core's (`CoreFaultPoint`, listed with their
 * meanings in fault-points.ts: task.dispatch, task.attempt, task.complete, node.run, node.lost,
 * node.start, provider.call, job.cancel) or an extension's, declared with `declareFaultPoints`
 * (the testing kit's service models consult `service.call`).
 */
export type FaultPoint = CoreFaultPoint | (string & {});

/** What is known at a fault point. */
export interface FaultContext {
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
 * - `fail`: the attempt (or call) fails with `error` (or an injected-fault error).
 * - `timeout`: the attempt fails as if it had run past its `timeoutMs`.
 * - `cancel`: the whole run is cancelled with `reason` (at `job.cancel`).
 * - `delay`: the completion arrives `ms` later (at `task.complete`).
 */
export type FaultAction =
  | { readonly kind: "fail"; readonly error?: unknown }
  | { readonly kind: "timeout" }
  | { readonly kind: "cancel"; readonly reason?: unknown }
  | { readonly kind: "delay"; readonly ms: number };

/**
 * The clock, timers, randomness and fault points a run uses.
 *
 * @example
 * // A runtime whose clock starts at zero and that fails the first attempt of "load".
 * const runtime = { ...realRuntime, fault: (p, c) => p === "task.attempt" && c.taskId === "load" && c.attempt === 1 ? { kind: "fail" } : undefined };
 */
export interface Runtime {
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
export interface RunObservation {
  readonly job: string;
  /** Listens to the run's events. */
  on<K extends RunEventName>(event: K, listener: (event: RunEvents[K]) => void): void;
  /** Slots held by attempts now (aborted attempts winding down included). */
  busy(): number;
  /** The most slots the run may hold: min(concurrency, the nodes' slots and what they queue). */
  capacity(): number;
  /** Ids of a task's dependencies. */
  dependencies(taskId: string): readonly string[];
  /** Whether a failure of this task lets its dependents run (`onFailure: "satisfy"`). */
  satisfiesOnFailure(taskId: string): boolean;
  /** True once the run has settled. */
  settled(): boolean;
}

/**
 * A delay longer than one timer can hold (Node and Deno fire a timer over MAX_TIMER_MS after about
 * 1 ms): re-armed leg by leg, so no delay ever fires early; `current` is the leg now armed.
 */
class LongTimer {
  current: ReturnType<typeof setTimeout>;
  constructor(due: number, callback: () => void) {
    const leg = (): void => {
      const left = due - Date.now();
      if (left <= 0) callback();
      else this.current = setTimeout(leg, Math.min(left, MAX_TIMER_MS));
    };
    this.current = setTimeout(leg, MAX_TIMER_MS);
  }
}

/** The default runtime: the real clock, real timers and `Math.random`; it injects no faults. */
export const realRuntime: Runtime = Object.freeze({
  now: Date.now, // ignores its receiver, so no wrapper call per read
  setTimer: (ms: number, callback: () => void): TimerHandle => (ms > MAX_TIMER_MS ? new LongTimer(Date.now() + ms, callback) : setTimeout(callback, ms)),
  clearTimer: (handle: TimerHandle): void => clearTimeout(handle instanceof LongTimer ? handle.current : (handle as ReturnType<typeof setTimeout>)),
  random: () => Math.random(),
});

const RUNTIME_MEMBERS = ["now", "setTimer", "clearTimer", "random"] as const;

/** Names the members a user's runtime object lacks (empty when it is usable). */
export function missingRuntimeMembers(value: object): string[] {
  const missing: string[] = RUNTIME_MEMBERS.filter((m) => typeof (value as Record<string, unknown>)[m] !== "function");
  for (const optional of ["fault", "defer", "observe"]) {
    const member = (value as Record<string, unknown>)[optional];
    if (member !== undefined && typeof member !== "function") missing.push(`${optional} (must be a function when given)`);
  }
  return missing;
}
