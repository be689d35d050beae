/**
 * Running attempts: an attempt takes a slot of a node, its body runs through the pool's provider,
 * and its outcome (returned synchronously, or through a thenable) is delivered to the task lifecycle
 * once. An attempt that times out or is cancelled is aborted and keeps its slot until its body
 * settles or its grace period (`cancelGraceMs`) ends; then it is abandoned. Bodies that return
 * synchronously complete inside the dispatch loop, without a promise. An attempt placed on a node that
 * queues attempts (`ProviderNode.prefetch`) is sent to its provider at once but begins (`task:start`,
 * its timeout) only when the provider says it left the node's queue (`ctx.started()`) or it settles.
 */
import { Attempt, type AttemptHost, type GraceBatch } from "./attempt.ts";
import { NodeLostError, TimeoutError } from "./errors.ts";
import type { FaultInjection } from "./fault-injection.ts";
import type { Pool } from "./pool.ts";
import type { ProviderNode } from "./provider.ts";
import type { RunState } from "./run-state.ts";
import type { Runtime, TimerHandle } from "./runtime.ts";
import type { TaskLifecycle } from "./task-lifecycle.ts";
import type { OutputStream } from "./task-context.ts";
import { FAILED, RUNNING, SUCCEEDED } from "./task-state.ts";
import { thenOf } from "./thenable.ts";

export class AttemptRunner implements AttemptHost {
  /** Slots held by attempts now (aborted attempts winding down included). */
  busy = 0;
  readonly runtime: Runtime;
  readonly controlled: boolean;

  readonly #s: RunState;
  readonly #tasks: TaskLifecycle;
  readonly #faults: FaultInjection | undefined;
  readonly #pump: () => void;
  /** Aborted attempts still holding their slot until their body settles or their grace ends (see `abort`). */
  readonly #windingDown: Attempt[] = [];
  /** Entries of `#windingDown` still holding their slot (the list empties when none is left). */
  #windingDownLeft = 0;
  /** Under the real runtime, the attempts aborted in the current burst, which share one grace timer. */
  #burst: GraceBatch | undefined = undefined;
  /** Per pool, its attempts waiting in a node's queue, not begun (`ProviderNode.prefetch`), oldest first. */
  readonly #queued = new Map<Pool, Set<Attempt>>();
  /** How many attempts wait in nodes' queues, every pool together (0 for a run without such nodes). */
  queued = 0;
  /** Completions held back by a `delay` fault at task.complete (testing only). */
  #delays: Map<Attempt, TimerHandle> | undefined = undefined;

  constructor(state: RunState, tasks: TaskLifecycle, faults: FaultInjection | undefined, pump: () => void) {
    this.#s = state;
    this.runtime = state.runtime;
    this.controlled = state.controlled;
    this.#tasks = tasks;
    this.#faults = faults;
    this.#pump = pump;
  }

  /** The attempts of this run waiting in the queues of `pool`'s nodes, not begun, oldest first. */
  queuedIn(pool: Pool): ReadonlySet<Attempt> {
    return this.#queued.get(pool) ?? NONE_QUEUED;
  }

  #queue(a: Attempt): void {
    a.queued = true;
    this.queued++;
    let set = this.#queued.get(a.pool);
    if (set === undefined) this.#queued.set(a.pool, (set = new Set()));
    set.add(a);
  }

  /** Attempt `a` left its node's queue: it began, or it was released before it did. */
  #unqueue(a: Attempt): void {
    this.queued--;
    this.#queued.get(a.pool)!.delete(a);
  }

  /** Starts an attempt of ready task i on the node at position k of `pool`, taking `slots` of it. */
  start(i: number, pool: Pool, k: number, node: ProviderNode, slots: number): void {
    const s = this.#s;
    const t = s.t;
    const number = ++t.attempts[i]!;
    const a = new Attempt(this, i, t.graph.ids[i]!, number, node);
    a.pool = pool;
    a.keeper = k;
    a.slots = slots;
    // On a node that queues attempts, it waits there until its provider says it began (ctx.started()).
    if (pool.keepers[k]!.prefetch > 0) this.#queue(a);
    a.placement = pool.take(k, slots, a.queued);
    t.state[i] = RUNNING;
    t.current[i] = a;
    this.busy++;
    if (!a.queued) {
      this.#begin(a);
      if (a.decided) {
        // A task:start listener cancelled it: the body never runs.
        this.release(a);
        return;
      }
    }
    const policy = t.graph.policies[i];
    let result: unknown;
    let then: PromiseLike<unknown>["then"] | undefined;
    try {
      if (this.#faults !== undefined) {
        const fault = this.#faults.beforeBody(a);
        if (fault?.kind === "lost") {
          this.release(a);
          a.decided = true;
          t.current[i] = undefined;
          this.#tasks.attemptFailed(a, fault.error, false);
          return;
        }
        if (fault?.kind === "timeout") {
          if (a.queued) this.#begin(a);
          if (a.timer !== undefined) this.runtime.clearTimer(a.timer); // its own timeout: the fault came first
          this.#timedOut(a, policy?.timeoutMs ?? 0);
          this.release(a);
          return;
        }
        if (fault?.kind === "fail") throw fault.error;
      }
      result = pool.provider.run(a.node, t.graph.bodies[i]!, a.ctx);
      // A body's thenable is user code: its `then` getter, or `then` itself, may throw. Either fails
      // this attempt (below), never the dispatch loop. `then` is read once.
      then = thenOf(result);
      if (then !== undefined) {
        if (this.controlled) {
          // The runtime decides when the completion arrives, so the order of completions is explored.
          // (An abandoned attempt's completion changes nothing, so it is not scheduled.)
          const label = s.label("complete", a)!;
          then.call(
            result,
            (value) => (a.released ? undefined : this.runtime.defer!(label, () => this.#settle(a, true, value))),
            (error) => (a.released ? undefined : this.runtime.defer!(label, () => this.#settle(a, false, error))),
          );
        } else {
          then.call(
            result,
            (value) => this.#settle(a, true, value),
            (error) => this.#settle(a, false, error),
          );
        }
      }
    } catch (error) {
      // (Harmless if a misbehaving thenable already settled it: a settled attempt ignores the rest.)
      this.#settle(a, false, error);
      return;
    }
    if (then === undefined) this.#settle(a, true, result);
  }

  /** Attempt `a` runs from now: its `task:start` is emitted and its timeout armed. */
  #begin(a: Attempt): void {
    if (a.queued) {
      a.queued = false;
      this.#unqueue(a);
      a.placement = a.pool.began(a.keeper, a.slots);
    }
    const s = this.#s;
    const t = s.t;
    const i = a.task;
    // (Its first attempt to begin: an earlier one may have been requeued from a node's queue unbegun.)
    if (Number.isNaN(t.startedAt[i]!)) t.startedAt[i] = this.runtime.now();
    if (s.events.wants("task:start")) {
      s.events.emit("task:start", {
        type: "task:start",
        taskId: a.taskId,
        attempt: a.attempt,
        pool: a.pool.name,
        nodeId: a.node.id,
        slots: a.slots,
        at: this.runtime.now(),
      });
    }
    const policy = t.graph.policies[i];
    if (policy !== undefined && policy.timeoutMs > 0 && !a.decided) {
      a.timer = this.runtime.setTimer(policy.timeoutMs, () => this.#timedOut(a, policy.timeoutMs), s.label("timeout", a));
    }
  }

  /** The body of attempt `a` returned or threw. */
  #settle(a: Attempt, ok: boolean, value: unknown, faultsChecked = false): void {
    if (a.released) return; // abandoned after its grace period: nobody waits for it any more
    // Ended while its node still had it queued: it ran, so it is started first (task:start, then its
    // end) — unless its node was lost before it left the queue.
    if (a.queued && !a.decided && !(!ok && lostHere(a, value))) this.#begin(a);
    if (this.#faults !== undefined && !faultsChecked && !a.decided) {
      const fault = this.#faults.afterBody(a);
      if (fault?.kind === "delay") {
        // The attempt keeps its slot (and its timeout) meanwhile; released early, the delay is cleared.
        const delays = (this.#delays ??= new Map());
        delays.set(
          a,
          this.runtime.setTimer(fault.ms, () => (delays.delete(a), this.#settle(a, ok, value, true)), this.#s.label("delayed", a)),
        );
        return;
      }
      if (fault?.kind === "fail") {
        ok = false;
        value = fault.error;
      }
    }
    this.release(a);
    if (!a.decided) {
      a.decided = true;
      this.#s.t.current[a.task] = undefined;
      if (ok) this.#tasks.succeed(a, value);
      else this.#tasks.attemptFailed(a, value);
    }
    this.#pump();
  }

  /** Frees attempt `a`'s slot (its body settled, it was abandoned, or its node was lost). */
  release(a: Attempt): void {
    a.released = true;
    this.busy--;
    if (a.queued) this.#unqueue(a);
    a.pool.give(a.keeper, a.slots, a.queued);
    if (a.windingDown && --this.#windingDownLeft === 0) this.#windingDown.length = 0;
    const batch = a.grace;
    if (batch !== undefined && --batch.left === 0 && batch.timer !== undefined) {
      this.runtime.clearTimer(batch.timer);
      batch.timer = undefined;
    }
    if (this.#delays !== undefined && this.#delays.size > 0) {
      const delay = this.#delays.get(a);
      if (delay !== undefined) this.runtime.clearTimer(delay);
      this.#delays.delete(a);
    }
    if (a.timer !== undefined) this.runtime.clearTimer(a.timer);
    a.timer = undefined;
    const then = a.onReleased;
    if (then !== undefined) {
      a.onReleased = undefined;
      then();
    }
  }

  /** Releases the aborted attempts still winding down on `node` (which is gone). */
  releaseWindingDown(node: ProviderNode): void {
    const list = this.#windingDown;
    for (let k = 0; k < list.length; k++) {
      const a = list[k]!;
      if (!a.released && a.node === node) this.release(a);
    }
  }

  #timedOut(a: Attempt, timeoutMs: number): void {
    a.timer = undefined;
    if (a.decided) return;
    a.decided = true;
    this.#s.t.current[a.task] = undefined;
    const error = new TimeoutError(a.taskId, a.attempt, timeoutMs);
    this.#tasks.attemptFailed(a, error);
    this.abort(a, error); // after the task's move: abort listeners run user code
    this.#pump();
  }

  /** Aborts a running attempt; its slot stays taken until the body settles or the grace period ends. */
  abort(a: Attempt, reason: unknown): void {
    a.abort(reason);
    if (a.released) return;
    a.windingDown = true;
    this.#windingDown.push(a);
    this.#windingDownLeft++;
    // The outcome is decided, so a pending timeout no longer matters; the grace now bounds the wind-down.
    if (a.timer !== undefined) this.runtime.clearTimer(a.timer);
    a.timer = undefined;
    const graceMs = this.#s.options.cancelGraceMs;
    if (this.controlled) {
      // Each grace its own labelled timer, so exploration orders it against everything else.
      a.timer = this.runtime.setTimer(
        graceMs,
        () => {
          a.timer = undefined;
          if (a.released) return;
          this.#abandon(a);
          this.#pump();
        },
        this.#s.label("grace", a),
      );
      return;
    }
    // Under the real runtime the attempts aborted in one burst (a cancelled run's, a lost node's)
    // share one timer, armed once the burst is over, so every grace lasts at least cancelGraceMs.
    let burst = this.#burst;
    if (burst === undefined) {
      const batch: GraceBatch = (burst = this.#burst = { attempts: [], left: 0, timer: undefined });
      queueMicrotask(() => {
        this.#burst = undefined;
        if (batch.left === 0) return;
        try {
          batch.timer = this.runtime.setTimer(graceMs, () => this.#gracesEnded(batch));
        } catch (error) {
          // A user runtime whose setTimer throws: reported, and the graces end now, so the run still settles.
          this.callbackFailed(error);
          this.#gracesEnded(batch);
        }
      });
    }
    burst.attempts.push(a);
    burst.left++;
    a.grace = burst;
  }

  /** A burst's grace timer fired: every attempt of it still holding its slot is abandoned. */
  #gracesEnded(batch: GraceBatch): void {
    batch.timer = undefined;
    for (const a of batch.attempts) this.#abandon(a);
    this.#pump();
  }

  /** Attempt `a`'s grace ended with its body still running: its slot is taken back, and it is ignored from now on. */
  #abandon(a: Attempt): void {
    if (a.released) return;
    this.release(a);
    const events = this.#s.events;
    // (One that never left its node's queue never started: nothing of it runs on.)
    if (events.wants("task:abandoned") && !a.queued)
      events.emit("task:abandoned", { type: "task:abandoned", taskId: a.taskId, attempt: a.attempt, at: this.runtime.now() });
  }

  // ---- AttemptHost: what an attempt's context asks of the run ----

  depsOf(task: number): Record<string, unknown> {
    return this.#s.t.collect(task, SUCCEEDED, this.#s.t.outputs);
  }

  failuresOf(task: number): Record<string, unknown> {
    return this.#s.t.collect(task, FAILED, this.#s.t.errors);
  }

  output(a: Attempt, line: string, stream: OutputStream): void {
    const events = this.#s.events;
    if (a.released || !events.wants("task:output")) return;
    events.emit("task:output", { type: "task:output", taskId: a.taskId, attempt: a.attempt, stream, line: String(line), at: this.runtime.now() });
  }

  callbackFailed(error: unknown): void {
    this.#s.events.callbackFailed(error);
  }

  began(a: Attempt): void {
    // Only an attempt still queued on its node and still wanted begins (a late or second call is ignored).
    if (a.queued && !a.decided && !a.released) this.#begin(a);
  }
}

const NONE_QUEUED: ReadonlySet<Attempt> = new Set();

/** `error` says attempt `a`'s own node was lost. */
function lostHere(a: Attempt, error: unknown): boolean {
  return error instanceof NodeLostError && error.nodeId === a.node.id;
}
