/**
 * The life of a task between attempts: pending → ready → (running) → succeeded, failed, skipped or
 * cancelled, with retries (a backoff, then ready again once the previous attempt has let go of its
 * slot), dependents released or skipped, and the count of tasks still open. Running attempts are the
 * attempt runner's (attempt-runner.ts); where a ready task goes is placement's (placement.ts).
 */
import type { Attempt } from "./attempt.ts";
import { type CancelledError, DependencyFailedError, NodeLostError, type CancelSource } from "./errors.ts";
import type { Pool } from "./pool.ts";
import type { ProviderNode } from "./provider.ts";
import type { RunState } from "./run-state.ts";
import type { TimerHandle } from "./runtime.ts";
import { DEFAULT_POLICY, backoffDelay, type TaskPolicy } from "./task-options.ts";
import { CANCELLED, FAILED, PENDING, READY, RETRYING, SKIPPED, STATE_NAMES, SUCCEEDED } from "./task-state.ts";

/** What the task lifecycle asks of the other rooms. */
export interface LifecycleHost {
  /** Task i is ready: into its pool's queue. */
  enqueue(task: number): void;
  /** Aborts a running attempt (its slot stays taken until it settles or its grace ends). */
  abort(a: Attempt, reason: unknown): void;
  /** The node under attempt `under` is gone, with every attempt on it (node-loss.ts). */
  nodeLost(pool: Pool, node: ProviderNode, error: NodeLostError, under: Attempt): void;
  /** Attempt `a`'s dispatch alone was lost: requeued, charged as a loss (node-loss.ts). */
  lostAttempt(a: Attempt, error: NodeLostError, charged: boolean): void;
  /** Task i reached its final state. */
  ended(task: number): void;
  /** Cancels the whole run (failFast). */
  cancelRun(source: CancelSource, reason: unknown): void;
  pump(): void;
}

export class TaskLifecycle {
  /** Tasks not yet in a final state. */
  open: number;
  /** The first error a task failed with. */
  firstError: unknown = undefined;
  /** Counts tasks made ready, so a pump over several pools knows when to go round again. */
  readied = 0;

  readonly #s: RunState;
  readonly #host: LifecycleHost;
  readonly #retryTimers = new Map<number, TimerHandle>();

  constructor(state: RunState, host: LifecycleHost) {
    this.#s = state;
    this.#host = host;
    this.open = state.t.count;
  }

  /** At the start of the run: every task with no dependency left becomes ready. */
  readyRoots(): void {
    const t = this.#s.t;
    for (let i = 0, n = t.count; i < n; i++) if (t.remaining[i] === 0 && t.state[i] === PENDING) this.makeReady(i);
  }

  /**
   * A task added to the run (`addTask`): counts its unfinished dependencies; once the run is under
   * way, it is skipped at once when one of them did not succeed, or made ready when none is left.
   */
  admit(i: number): void {
    const t = this.#s.t;
    this.open++;
    let remaining = 0;
    let blocker = -1;
    const deps = t.depsOf(i);
    for (let k = 0; k < deps.length; k++) {
      const d = deps[k]!;
      const s = t.state[d]!;
      if (s === SUCCEEDED || (s === FAILED && this.satisfies(d))) continue;
      if (s >= SUCCEEDED) blocker = d;
      else remaining++;
    }
    t.remaining[i] = remaining;
    // The start of the run readies it with the others (also once a journal being read said what to restore).
    if (this.#s.phase === "created") return;
    if (this.#s.opening) {
      if (blocker >= 0) this.#skip(i, blocker);
      return;
    }
    if (blocker >= 0) this.#skip(i, blocker);
    else if (remaining === 0) this.makeReady(i);
  }

  makeReady(i: number): void {
    const s = this.#s;
    this.readied++;
    s.t.state[i] = READY;
    this.#host.enqueue(i);
    if (s.events.wants("task:ready")) s.events.emit("task:ready", { type: "task:ready", taskId: s.t.graph.ids[i]!, at: s.runtime.now() });
  }

  succeed(a: Attempt, output: unknown): void {
    const s = this.#s;
    const i = a.task;
    s.t.outputs[i] = output;
    const at = this.#end(i, SUCCEEDED);
    if (s.events.wants("task:succeeded")) {
      s.events.emit("task:succeeded", { type: "task:succeeded", taskId: a.taskId, attempt: a.attempt, output, at });
    }
    this.#releaseDependents(i);
  }

  /** Task i succeeded in an earlier run (its journal says so): it ends succeeded without running. */
  restore(i: number, output: unknown, attempts: number): void {
    const s = this.#s;
    const t = s.t;
    t.outputs[i] = output;
    t.attempts[i] = attempts;
    const at = this.#end(i, SUCCEEDED);
    t.startedAt[i] = at;
    if (s.events.wants("task:succeeded")) {
      s.events.emit("task:succeeded", { type: "task:succeeded", taskId: t.graph.ids[i]!, attempt: attempts, output, restored: true, at });
    }
    this.#releaseDependents(i);
  }

  /** `nodeGone`: a NodeLostError means the node is gone (false when only one dispatch was lost). */
  attemptFailed(a: Attempt, error: unknown, nodeGone = true): void {
    const s = this.#s;
    const i = a.task;
    // (A NodeLostError about another node — a body rethrowing a nested run's error — is an ordinary failure.)
    if (error instanceof NodeLostError && error.nodeId === a.node.id && s.cancel === undefined) {
      // A lost dispatch is this attempt's alone; a lost node takes every attempt on it.
      if (nodeGone) this.#host.nodeLost(a.pool, a.node, error, a);
      else this.#host.lostAttempt(a, error, true);
      return;
    }
    const failed = ++s.t.failedAttempts[i]!;
    const policy = s.t.graph.policies[i] ?? DEFAULT_POLICY;
    if (failed <= policy.retries && s.cancel === undefined) {
      this.#retry(i, a, error, policy, failed + 1);
      return;
    }
    this.fail(i, error);
  }

  #retry(i: number, a: Attempt, error: unknown, policy: TaskPolicy, nextTry: number): void {
    const s = this.#s;
    const delayMs = backoffDelay(policy, nextTry, s.runtime.random);
    s.t.state[i] = RETRYING;
    if (delayMs > 0) {
      const timer = s.runtime.setTimer(
        delayMs,
        () => {
          this.#retryTimers.delete(i);
          if (s.t.state[i] !== RETRYING) return;
          this.#retryWhenFree(i, a);
          this.#host.pump();
        },
        s.label("retry", a),
      );
      this.#retryTimers.set(i, timer);
    }
    // Emitted once the timer is armed: a listener that cancels here must find it to clear it.
    if (s.events.wants("task:retry")) {
      s.events.emit("task:retry", { type: "task:retry", taskId: a.taskId, attempt: a.attempt, error, delayMs, at: s.runtime.now() });
    }
    if (delayMs <= 0 && s.t.state[i] === RETRYING) this.#retryWhenFree(i, a);
  }

  /**
   * At most one attempt of a task runs at a time: a retry becomes ready only once the previous attempt
   * has settled or was abandoned (a timed-out body that ignores its signal holds its retry back until
   * its grace period ends), so a side effect is never performed by two attempts at once.
   */
  #retryWhenFree(i: number, previous: Attempt): void {
    if (previous.released) this.makeReady(i);
    else {
      previous.onReleased = () => {
        if (this.#s.t.state[i] === RETRYING) this.makeReady(i);
      };
    }
  }

  fail(i: number, error: unknown): void {
    const s = this.#s;
    this.#clearRetry(i);
    s.t.errors[i] = error;
    const at = this.#end(i, FAILED);
    if (this.firstError === undefined) this.firstError = error;
    if (s.events.wants("task:failed")) {
      s.events.emit("task:failed", { type: "task:failed", taskId: s.t.graph.ids[i]!, attempts: s.t.attempts[i]!, error, at });
    }
    if (this.satisfies(i)) this.#releaseDependents(i);
    else this.skipDependents(i);
    if (s.options.failFast) this.#host.cancelRun("failFast", error);
  }

  /** Task i reaches a final state: it is no longer open. Returns when. */
  #end(i: number, state: number): number {
    const t = this.#s.t;
    t.state[i] = state;
    this.open--;
    this.#host.ended(i);
    return (t.finishedAt[i] = this.#s.runtime.now());
  }

  /** Whether a failure of task i lets its dependents run (`onFailure: "satisfy"`). */
  satisfies(i: number): boolean {
    return this.#s.t.graph.policies[i]?.satisfy === true;
  }

  /** A lost attempt's task goes back to the queue (its loss already counted by node-loss.ts). */
  requeue(a: Attempt, error: NodeLostError): void {
    const s = this.#s;
    if (s.events.wants("task:requeued")) {
      s.events.emit("task:requeued", { type: "task:requeued", taskId: a.taskId, attempt: a.attempt, error, at: s.runtime.now() });
    }
    this.makeReady(a.task);
  }

  #releaseDependents(i: number): void {
    const t = this.#s.t;
    if (i < t.planned) {
      const { outStart, dependents } = t.plan;
      for (let e = outStart[i]!, end = outStart[i + 1]!; e < end; e++) this.#dependencySettled(dependents[e]!);
    }
    const more = t.moreDependents(i);
    if (more !== undefined) for (let k = 0; k < more.length; k++) this.#dependencySettled(more[k]!);
  }

  #dependencySettled(d: number): void {
    const t = this.#s.t;
    if (--t.remaining[d]! === 0 && t.state[d] === PENDING) this.makeReady(d);
  }

  /** Skips every pending transitive dependent of `i` (which failed, was cancelled or was skipped). */
  skipDependents(i: number): void {
    const t = this.#s.t;
    const stack = [i];
    while (stack.length > 0) {
      const j = stack.pop()!;
      for (const d of t.dependentsOf(j)) {
        if (t.state[d] !== PENDING) continue;
        this.#skip(d, j);
        stack.push(d);
      }
    }
  }

  #skip(d: number, because: number): void {
    const s = this.#s;
    const t = s.t;
    const ids = t.graph.ids;
    const error = new DependencyFailedError(ids[d]!, ids[because]!, STATE_NAMES[t.state[because]!]!, t.errors[because]);
    t.errors[d] = error;
    const at = this.#end(d, SKIPPED);
    if (s.events.wants("task:skipped")) s.events.emit("task:skipped", { type: "task:skipped", taskId: ids[d]!, error, at });
  }

  /** Moves a non-terminal task to "cancelled", aborting its running attempt or pending retry. */
  cancel(i: number, error: CancelledError): void {
    const s = this.#s;
    const t = s.t;
    this.#clearRetry(i);
    const a = t.current[i];
    t.current[i] = undefined;
    t.errors[i] = error;
    const at = this.#end(i, CANCELLED);
    if (a !== undefined) {
      a.decided = true;
      // After the task's own move: abort listeners run user code, which may cancel more.
      this.#host.abort(a, error);
    }
    if (s.events.wants("task:cancelled")) {
      s.events.emit("task:cancelled", { type: "task:cancelled", taskId: t.graph.ids[i]!, error, at });
    }
  }

  /** Cancels every task not yet in a final state. */
  cancelAll(error: CancelledError): void {
    const t = this.#s.t;
    for (let i = 0; i < t.count; i++) if (t.state[i]! < SUCCEEDED) this.cancel(i, error);
  }

  /** Clears the backoff timer of a task waiting to retry, if it has one. */
  #clearRetry(i: number): void {
    const timer = this.#retryTimers.get(i);
    if (timer === undefined) return;
    this.#s.runtime.clearTimer(timer);
    this.#retryTimers.delete(i);
  }
}
