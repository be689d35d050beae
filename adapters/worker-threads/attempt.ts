/**
 * One attempt of a `workerTask` on a thread node: its outcome, its place in the node's outbox, and its
 * abort, passed on to the thread and forced by the grace policy below.
 */
import { AbortGrace, Outcome } from "../../src/provider-kit/index.ts";
import type { TaskContext } from "../../src/task-context.ts";
import type { WorkerTaskSpec } from "./spec.ts";

/**
 * How many times the grace of an attempt whose module never finished loading is renewed to spare the
 * other attempts on its thread (see `renewsGrace`): a thread blocked for good in a module's top-level
 * code runs nothing else either, so past this it is terminated (10 s at the default grace of 500 ms).
 */
const MAX_LOAD_RENEWALS = 20;

/** What an attempt's abort asks of its node. */
export interface AttemptNode {
  /** The attempt was aborted: drop it if not posted yet, else tell the thread (its grace is running). */
  abort(attempt: ThreadAttempt): void;
  /** The attempt's grace ran out: terminate its thread, or renew the grace (`renewsGrace`). */
  graceExpired(attempt: ThreadAttempt): void;
}

export class ThreadAttempt {
  readonly id: number;
  readonly spec: WorkerTaskSpec;
  readonly ctx: TaskContext<any>;
  /** The id of its function (`ThreadHost.fnId`). */
  readonly fnId: number;
  readonly outcome = new Outcome<unknown>();
  /** Its abort: `stop` posts an ABORT to the thread, `escalate` terminates the thread. */
  readonly grace: AbortGrace;
  /** The outbox generation it was queued in, and where its RUN record is there. */
  batch = -1;
  at = -1;
  /** Graces renewed while its module was still loading. */
  #renewals = 0;

  constructor(id: number, node: AttemptNode, spec: WorkerTaskSpec, ctx: TaskContext<any>, fnId: number, graceMs: number) {
    this.id = id;
    this.spec = spec;
    this.ctx = ctx;
    this.fnId = fnId;
    this.grace = new AbortGrace({ graceMs, stop: () => node.abort(this), escalate: () => node.graceExpired(this) });
  }

  /**
   * The grace is meant for a body that could hear its abort and did not stop. Until the thread
   * reports the attempt's function loaded (LOADED, which it posts before any body of the function
   * runs), the body has not started: the thread is still booting or loading the module, perhaps
   * blocked in the module's top-level code, and when it reads the ABORT it settles the attempt itself
   * (thread-main.ts). So the grace of such an attempt starts again in full when LOADED comes (the
   * node calls `grace.restart()`); if it expires before, the thread is terminated only when that costs
   * no other attempt (every attempt on it is aborted), and otherwise the grace is renewed. Attempts b
   * and c sharing the thread are never lost because a thread that was still loading could not answer
   * for a. A thread that never finishes loading (blocked for good in the module's top-level code) runs
   * nothing else either: after MAX_LOAD_RENEWALS renewals it is terminated, and b and c are requeued
   * (free: they shared the node).
   *
   * Whether to renew this attempt's grace rather than terminate its thread, now that it ran out.
   */
  renewsGrace(functionLoaded: boolean, othersRunning: () => boolean): boolean {
    return !functionLoaded && othersRunning() && this.#renewals++ < MAX_LOAD_RENEWALS;
  }
}
