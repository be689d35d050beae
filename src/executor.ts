/**
 * The scheduling engine behind `run` and `start`: the ready queue, capacity, dispatch, completion,
 * retries, timeouts and cancellation of one run.
 *
 * Per-task state lives in a TaskTable (parallel typed arrays indexed by insertion order), so the hot
 * path (pop a ready task, start it, record its outcome, release its dependents) allocates one attempt
 * object and nothing else. Bodies that return synchronously complete inside the dispatch loop, without
 * a promise.
 */
import { EventEmitter } from "eventemitter3";
import { Attempt, type AttemptHost } from "./attempt.ts";
import {
  CancelledError,
  DependencyFailedError,
  FlotillaError,
  NodeLostError,
  TimeoutError,
  describe,
  messageOf,
  type CancelSource,
} from "./errors.ts";
import type { RunEvents, RunEventName } from "./events.ts";
import type { JobGraph } from "./job.ts";
import type { ProviderNode } from "./provider.ts";
import type { NodeKeeperHost } from "./node-keeper.ts";
import { Pool, poolForTask } from "./pool.ts";
import { ReadyQueue } from "./ready-queue.ts";
import { buildResult } from "./result-view.ts";
import type { JobStatus, RunResult } from "./result.ts";
import type { ResolvedRunOptions } from "./run-options.ts";
import type { FaultAction, FaultPoint, Runtime, TimerHandle } from "./runtime.ts";
import { TaskTable } from "./task-table.ts";
import { attemptLabel, nodeLabel, type AttemptEvent } from "./trace-labels.ts";
import { DEFAULT_POLICY, backoffDelay, type TaskPolicy } from "./task-options.ts";
import type { OutputStream } from "./task-context.ts";
import { CANCELLED, FAILED, PENDING, READY, RETRYING, RUNNING, SKIPPED, STATE_NAMES, SUCCEEDED } from "./task-state.ts";

type Phase = "created" | "running" | "ending" | "ended";
type Listeners = { [K in RunEventName]: (event: RunEvents[K]) => void };

export class Executor implements AttemptHost {
  readonly emitter = new EventEmitter<Listeners>();
  /**
   * False until the first listener is added: until then no event is even looked up (one field read
   * per event site instead of a lookup in the emitter), which matters on the hot path.
   */
  #heard = false;
  readonly runtime: Runtime;
  readonly result: Promise<RunResult<any>>;

  readonly #options: ResolvedRunOptions;
  readonly #faults: boolean;
  readonly controlled: boolean;
  readonly #t: TaskTable;
  /** The run's pools; the first is "default". */
  readonly #pools: Pool[];
  readonly #poolIndex = new Map<string, number>();
  /** Each task's pool index, when the run has more than one pool (otherwise every task is in pool 0). */
  readonly #poolOf: number[] | undefined;
  /** The run's only pool runs functions: a function task without a pool option needs no check. */
  readonly #functionsOnly: boolean;
  readonly #retryTimers = new Map<number, TimerHandle>();
  /** Aborted attempts still holding their slot until their body settles or their grace ends. */
  readonly #windingDown = new Set<Attempt>();
  /** Completions held back by a `delay` fault at task.complete (testing only). */
  #delays: Map<Attempt, TimerHandle> | undefined = undefined;

  #phase: Phase = "created";
  #open: number;
  #busy = 0;
  #pumping = false;
  #cancel: CancelledError | undefined = undefined;
  #firstError: unknown = undefined;
  #startTime = 0;
  #resolve!: (result: RunResult<any>) => void;
  #onCallerAbort: (() => void) | undefined = undefined;
  /** Depth of event emission (listeners may call back into the run). */
  #emitting = 0;
  #pumpQueued = false;
  /** Counts tasks made ready, so a pump over several pools knows when to go round again. */
  #readied = 0;
  /** Counts lost nodes (see #pumpPool). */
  #losses = 0;
  /** The guarded wrapper of each user listener, so `off` finds it. */
  readonly #guarded = new WeakMap<Function, (event: never) => void>();

  /**
   * Checks the job (unknown dependencies, cycles, tasks their pool cannot run) and prepares the run;
   * throws the job's errors.
   */
  constructor(graph: JobGraph, options: ResolvedRunOptions) {
    this.#options = options;
    this.runtime = options.runtime;
    this.#faults = typeof options.runtime.fault === "function";
    this.controlled = typeof options.runtime.defer === "function";
    this.#t = new TaskTable(graph);
    this.#open = this.#t.count;
    this.result = new Promise((resolve) => (this.#resolve = resolve));
    const hostFor = (pool: Pool, k: number) => this.#keeperHost(pool, k);
    this.#pools = options.pools.map(({ name, provider }, p) => {
      this.#poolIndex.set(name, p);
      return new Pool(name, provider, new ReadyQueue(this.#t.priority, this.#t.rank), hostFor);
    });
    if (this.#pools.length > 1) this.#poolOf = [];
    this.#functionsOnly = this.#pools.length === 1 && this.#pools[0]!.kinds.includes("function");
    for (let i = 0; i < this.#t.count; i++) this.#placeTask(i);
  }

  /** Checks task i's pool and body kind (E_INVALID_OPTION before anything runs) and records its pool. */
  #placeTask(i: number): void {
    const g = this.#t.graph;
    const name = g.policies[i]?.pool ?? "default";
    if (this.#functionsOnly && name === "default" && typeof g.bodies[i] === "function") return;
    const p = poolForTask(this.#pools, this.#poolIndex, g.ids[i]!, name, g.bodies[i]!);
    if (this.#poolOf !== undefined) this.#poolOf[i] = p;
  }

  #poolFor(i: number): Pool {
    return this.#pools[this.#poolOf === undefined ? 0 : this.#poolOf[i]!]!;
  }

  /** What the keeper of node position `k` of `pool` asks of the run. */
  #keeperHost(pool: Pool, k: number): NodeKeeperHost {
    return {
      runtime: this.runtime,
      provider: pool.provider,
      fault: this.#faults ? (point) => this.#fault(point, undefined) : undefined,
      wanted: () => this.#phase === "running" && this.#open > 0,
      ready: (node) => {
        if (this.#heard && this.emitter.listenerCount("node:start") > 0) {
          this.#emit("node:start", { type: "node:start", pool: pool.name, nodeId: node.id, slots: node.slots, at: this.runtime.now() });
        }
        this.#pump();
      },
      failed: (error) => this.#nodeFailed(pool, error),
      lost: (node, reason) => {
        if (this.#phase !== "running") return;
        const why = reason === undefined ? "reported lost by its provider" : messageOf(reason);
        this.#nodeLost(pool, node, new NodeLostError(node.id, `node "${node.id}" of pool "${pool.name}" was lost: ${why}`, { cause: reason }));
        this.#pump();
      },
      retryLabel: this.controlled ? nodeLabel("retry node start", pool.name, k) : undefined,
      boundLabel: this.controlled ? nodeLabel("provider wait", pool.name, k) : undefined,
      stopTimeoutMs: this.#options.stopTimeoutMs,
      providerError: (operation, nodeId, error) => {
        if (this.#heard && this.emitter.listenerCount("provider:error") > 0) {
          this.#emit("provider:error", { type: "provider:error", pool: pool.name, operation, nodeId, error, at: this.runtime.now() });
        }
      },
    };
  }

  /** Called by everything that adds a listener to `emitter` (the handle, its iterator, an observer). */
  listened(): void {
    this.#heard = true;
  }

  /** "running" until the run settles, then its final status. */
  get status(): "running" | JobStatus {
    return this.#phase === "ended" ? this.#jobStatus() : "running";
  }

  /**
   * Starts the run. Called once, a microtask after `start()`, so listeners added right after it see
   * everything; `early` runs after job:start and before any task is dispatched (a cancellation made
   * before the run's first microtask must stop tasks from running, even synchronous ones).
   */
  begin(early?: () => void): void {
    if (this.#phase !== "created") return;
    this.#phase = "running";
    this.#startTime = this.runtime.now();
    if (typeof this.runtime.observe === "function") this.#observe();
    const signal = this.#options.signal;
    if (signal !== undefined && !signal.aborted) {
      this.#onCallerAbort = () => this.#cancelRun("signal", signal.reason);
      signal.addEventListener("abort", this.#onCallerAbort, { once: true });
    }
    this.#emitJobStart();
    if (signal?.aborted) this.#cancelRun("signal", signal.reason);
    else early?.();
    if (this.#cancel !== undefined) return;
    const t = this.#t;
    const n = t.count;
    for (let i = 0; i < n; i++) if (t.remaining[i] === 0 && t.state[i] === PENDING) this.#makeReady(i);
    this.#pump();
  }

  // ---- public operations (through RunHandle) ----

  cancel(reason: unknown): void {
    if (this.#phase === "created") this.begin(() => this.#cancelRun("cancel", reason));
    else this.#cancelRun("cancel", reason);
  }

  cancelTask(id: string, reason: unknown): boolean {
    const i = this.#t.require(id, "cancelTask");
    let cancelled = false;
    const cancel = () => {
      if (this.#phase !== "running" || this.#t.state[i]! >= SUCCEEDED) return;
      const why = because(reason);
      this.#cancelOne(i, new CancelledError(`task "${id}" was cancelled${why}`, "cancelTask", reason));
      this.#skipDependents(i);
      cancelled = true;
    };
    if (this.#phase === "created") this.begin(cancel);
    else {
      cancel();
      this.#pumpSoon();
    }
    return cancelled;
  }

  addTask(id: unknown, optionsOrBody: unknown, body: unknown): void {
    if (this.#phase === "ending" || this.#phase === "ended" || this.#cancel !== undefined) {
      throw new FlotillaError(
        "E_RUN_ENDED",
        `cannot add task ${typeof id === "string" ? `"${id}"` : describe(id)}: the run of job "${this.#t.graph.name}" has ${this.#cancel ? "been cancelled" : "ended"}`,
      );
    }
    const t = this.#t;
    const i = t.add(id, optionsOrBody, body, (task) => this.#placeTask(task));
    for (const pool of this.#pools) pool.queue.rekey(t.priority, t.rank);
    this.#open++;
    let remaining = 0;
    let blocker = -1;
    const deps = t.depsOf(i);
    for (let k = 0; k < deps.length; k++) {
      const d = deps[k]!;
      const s = t.state[d]!;
      if (s === SUCCEEDED || (s === FAILED && this.#satisfies(d))) continue;
      if (s >= SUCCEEDED) blocker = d;
      else remaining++;
    }
    t.remaining[i] = remaining;
    if (t.raiseAncestors(i)) for (const pool of this.#pools) pool.queue.reorder();
    if (this.#phase === "created") return; // begin() readies it with the others
    if (blocker >= 0) this.#skip(i, blocker);
    else if (remaining === 0) this.#makeReady(i);
    this.#pumpSoon();
  }

  // ---- AttemptHost ----

  depsOf(task: number): Record<string, unknown> {
    return this.#t.collect(task, SUCCEEDED, this.#t.outputs);
  }

  failuresOf(task: number): Record<string, unknown> {
    return this.#t.collect(task, FAILED, this.#t.errors);
  }

  output(a: Attempt, line: string, stream: OutputStream): void {
    if (a.released || !this.#heard || this.emitter.listenerCount("task:output") === 0) return;
    this.#emit("task:output", { type: "task:output", taskId: a.taskId, attempt: a.attempt, stream, line: String(line), at: this.runtime.now() });
  }

  // ---- the loop ----

  /**
   * Starts ready tasks while there is capacity: in each pool, on its least loaded node with a free
   * slot, starting more nodes when none has one. Re-entrant calls (from synchronous completions)
   * return at once.
   */
  #pump(): void {
    if (this.#pumping || this.#phase !== "running") return;
    this.#pumping = true;
    try {
      const pools = this.#pools;
      if (pools.length === 1) this.#pumpPool(pools[0]!);
      else {
        // A synchronous completion in one pool may ready tasks of a pool already served in this pass.
        let readied: number;
        do {
          readied = this.#readied;
          for (let p = 0; p < pools.length; p++) this.#pumpPool(pools[p]!);
        } while (readied !== this.#readied && this.#cancel === undefined);
      }
    } finally {
      this.#pumping = false;
    }
    if (this.#open === 0 && this.#busy === 0) void this.#finish();
  }

  #pumpPool(pool: Pool): void {
    const queue = pool.queue;
    const concurrency = this.#options.concurrency;
    // A pool of one node keeps using it while it has room (no search per task); with several nodes
    // each attempt goes to the least loaded one.
    const single = pool.maxNodes === 1;
    let k = -1;
    let node: ProviderNode | undefined;
    let nodeLost = false;
    if (pool.alone.length > 0) this.#placeAlone(pool);
    while (this.#busy < concurrency && this.#cancel === undefined) {
      if (!single || pool.restricted || k < 0 || pool.load[k]! >= node!.slots || pool.keepers[k]!.node !== node) {
        k = pool.free();
        if (k < 0) {
          if (queue.size === 0 && pool.alone.length === 0) return;
          const losses = this.#losses;
          pool.grow(queue.size + pool.alone.length);
          // A provider that starts nodes synchronously has one up already.
          if (pool.alone.length > 0) this.#placeAlone(pool);
          k = pool.free();
          // That node may have been lost at once, under a task run alone on it (and charged for it):
          // go round again, so a replacement is started. (Each round charges a loss, so it ends.)
          if (k < 0 && this.#losses !== losses) continue;
          if (k < 0) {
            if (!pool.alive && pool.startError !== undefined) this.#failQueued(pool);
            return;
          }
        }
        node = pool.keepers[k]!.node!;
      }
      const i = queue.pop();
      if (i < 0) return;
      // (Read afresh: a listener or body may have added tasks, and the table may have grown.)
      if (this.#t.state[i] !== READY) continue; // cancelled while queued
      if (this.#t.alone[i] === 1) {
        // Must run alone: on an empty node, or it waits for one (see #nodeLost).
        pool.alone.push(i);
        this.#placeAlone(pool);
        k = -1;
        continue;
      }
      if (this.#faults) {
        if (this.#injectCancel(i, node!)) return;
        // At most one injected loss per pass, so a rule that always fires cannot spin here.
        if (!nodeLost && this.#injectNodeLoss(i, pool, node!)) {
          nodeLost = true;
          k = -1;
          queue.push(i); // not dispatched: it goes to another node, or the replacement
          continue;
        }
      }
      this.#startAttempt(i, pool, k, node!);
    }
  }

  /** Starts the tasks waiting to run alone that find an empty node (see #nodeLost). */
  #placeAlone(pool: Pool): void {
    const waiting = pool.alone;
    while (waiting.length > 0 && this.#busy < this.#options.concurrency && this.#cancel === undefined) {
      if (this.#t.state[waiting[0]!] !== READY) {
        waiting.shift(); // cancelled meanwhile
        continue;
      }
      const k = pool.empty();
      if (k < 0) return;
      const i = waiting.shift()!;
      pool.hold(k, true);
      this.#startAttempt(i, pool, k, pool.keepers[k]!.node!);
    }
    if (waiting.length === 0) pool.reserved = -1;
  }

  #startAttempt(i: number, pool: Pool, k: number, node: ProviderNode): void {
    const number = ++this.#t.attempts[i]!;
    const a = new Attempt(this, i, this.#t.graph.ids[i]!, number, node);
    a.pool = pool;
    a.keeper = k;
    const placed = ++pool.placements[k]!;
    a.placement = pool.load[k] === 0 ? placed : -placed;
    pool.load[k]!++;
    this.#t.state[i] = RUNNING;
    this.#t.current[i] = a;
    this.#busy++;
    if (number === 1) this.#t.startedAt[i] = this.runtime.now();
    if (this.#heard && this.emitter.listenerCount("task:start") > 0) {
      this.#emit("task:start", { type: "task:start", taskId: a.taskId, attempt: number, at: this.runtime.now() });
    }
    if (a.decided) {
      // A task:start listener cancelled it: the body never runs.
      this.#release(a);
      return;
    }
    const policy = this.#t.graph.policies[i];
    if (policy !== undefined && policy.timeoutMs > 0) {
      a.timer = this.runtime.setTimer(policy.timeoutMs, () => this.#timedOut(a, policy.timeoutMs), this.#label("timeout", a));
    }
    let result: unknown;
    let then: unknown;
    try {
      if (this.#faults) {
        if (this.#fault("task.dispatch", a)?.kind === "fail") {
          // Only this dispatch is lost, not the node: requeued like an attempt on a lost node.
          this.#release(a);
          a.decided = true;
          this.#t.current[i] = undefined;
          this.#attemptFailed(a, new NodeLostError(a.node.id, `dispatching task "${a.taskId}" attempt ${a.attempt} to node "${a.node.id}" failed (injected fault at task.dispatch)`), false);
          return;
        }
        const fault = this.#fault("task.attempt", a);
        if (fault?.kind === "timeout") {
          this.#timedOut(a, policy?.timeoutMs ?? 0);
          this.#release(a);
          return;
        }
        if (fault?.kind === "fail") throw injected(fault, "task.attempt", a);
      }
      result = pool.provider.run(a.node, this.#t.graph.bodies[i]!, a.ctx);
      // A body's thenable is user code: its `then` getter, or `then` itself, may throw. Either fails
      // this attempt (below), never the dispatch loop. `then` is read once.
      then = thenOf(result);
      if (then !== undefined) {
        if (this.controlled) {
          // The runtime decides when the completion arrives, so the order of completions is explored.
          // (An abandoned attempt's completion changes nothing, so it is not scheduled.)
          const label = this.#label("complete", a)!;
          (then as PromiseLike<unknown>["then"]).call(
            result,
            (value) => (a.released ? undefined : this.runtime.defer!(label, () => this.#settle(a, true, value))),
            (error) => (a.released ? undefined : this.runtime.defer!(label, () => this.#settle(a, false, error))),
          );
        } else {
          (then as PromiseLike<unknown>["then"]).call(
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

  /** The body of attempt `a` returned or threw. */
  #settle(a: Attempt, ok: boolean, value: unknown, faultsChecked = false): void {
    if (a.released) return; // abandoned after its grace period: nobody waits for it any more
    if (this.#faults && !faultsChecked && !a.decided) {
      const fault = this.#fault("task.complete", a);
      if (fault?.kind === "delay") {
        // The attempt keeps its slot (and its timeout) meanwhile; released early, the delay is cleared.
        const delays = (this.#delays ??= new Map());
        delays.set(a, this.runtime.setTimer(fault.ms, () => (delays.delete(a), this.#settle(a, ok, value, true)), this.#label("delayed", a)));
        return;
      }
      if (fault?.kind === "fail" || fault?.kind === "timeout") {
        ok = false;
        value = fault.kind === "fail" ? injected(fault, "task.complete", a) : new TimeoutError(a.taskId, a.attempt, 0);
      } else if (this.#fault("node.run", a)?.kind === "fail") {
        ok = false;
        value = new NodeLostError(a.node.id, `node "${a.node.id}" was lost running task "${a.taskId}" attempt ${a.attempt} (injected fault at node.run)`);
      }
    }
    this.#release(a);
    if (!a.decided) {
      a.decided = true;
      this.#t.current[a.task] = undefined;
      if (ok) this.#succeed(a, value);
      else this.#attemptFailed(a, value);
    }
    this.#pump();
  }

  #release(a: Attempt): void {
    a.released = true;
    this.#busy--;
    a.pool.load[a.keeper]!--;
    // An exclusive position holds one attempt, the one running alone there: this one.
    if (a.pool.restricted && a.pool.exclusive[a.keeper] === true) a.pool.hold(a.keeper, false);
    if (a.windingDown) this.#windingDown.delete(a);
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

  #timedOut(a: Attempt, timeoutMs: number): void {
    a.timer = undefined;
    if (a.decided) return;
    a.decided = true;
    this.#t.current[a.task] = undefined;
    const error = new TimeoutError(a.taskId, a.attempt, timeoutMs);
    this.#attemptFailed(a, error);
    this.#abort(a, error); // after the task's move: abort listeners run user code
    this.#pump();
  }

  /** Aborts a running attempt; its slot stays taken until the body settles or the grace period ends. */
  #abort(a: Attempt, reason: unknown): void {
    a.abort(reason);
    if (a.released) return;
    a.windingDown = true;
    this.#windingDown.add(a);
    // The outcome is decided, so a pending timeout no longer matters; the timer now bounds the wind-down.
    if (a.timer !== undefined) this.runtime.clearTimer(a.timer);
    a.timer = this.runtime.setTimer(
      this.#options.cancelGraceMs,
      () => {
        a.timer = undefined;
        if (a.released) return;
        this.#release(a);
        if (this.#heard && this.emitter.listenerCount("task:abandoned") > 0) {
          this.#emit("task:abandoned", { type: "task:abandoned", taskId: a.taskId, attempt: a.attempt, at: this.runtime.now() });
        }
        this.#pump();
      },
      this.#label("grace", a),
    );
  }

  #succeed(a: Attempt, output: unknown): void {
    const i = a.task;
    this.#t.state[i] = SUCCEEDED;
    this.#t.outputs[i] = output;
    this.#t.finishedAt[i] = this.runtime.now();
    this.#open--;
    if (this.#heard && this.emitter.listenerCount("task:succeeded") > 0) {
      this.#emit("task:succeeded", { type: "task:succeeded", taskId: a.taskId, attempt: a.attempt, output, at: this.#t.finishedAt[i]! });
    }
    this.#releaseDependents(i);
  }

  /** `nodeGone`: a NodeLostError means the node is gone (false when only one dispatch was lost). */
  #attemptFailed(a: Attempt, error: unknown, nodeGone = true): void {
    const i = a.task;
    // (A NodeLostError about another node — a body rethrowing a nested run's error — is an ordinary failure.)
    if (error instanceof NodeLostError && error.nodeId === a.node.id && this.#cancel === undefined) {
      // A lost dispatch is this attempt's alone; a lost node takes every attempt on it.
      if (nodeGone) this.#nodeLost(a.pool, a.node, error, a);
      else this.#lostAttempt(a, error, true);
      return;
    }
    const failed = ++this.#t.failedAttempts[i]!;
    const policy = this.#t.graph.policies[i] ?? DEFAULT_POLICY;
    if (failed <= policy.retries && this.#cancel === undefined) {
      this.#retry(i, a, error, policy, failed + 1);
      return;
    }
    this.#fail(i, error);
  }

  #retry(i: number, a: Attempt, error: unknown, policy: TaskPolicy, nextTry: number): void {
    const delayMs = backoffDelay(policy, nextTry, this.runtime.random);
    this.#t.state[i] = RETRYING;
    if (delayMs > 0) {
      const timer = this.runtime.setTimer(
        delayMs,
        () => {
          this.#retryTimers.delete(i);
          if (this.#t.state[i] !== RETRYING) return;
          this.#retryWhenFree(i, a);
          this.#pump();
        },
        this.#label("retry", a),
      );
      this.#retryTimers.set(i, timer);
    }
    // Emitted once the timer is armed: a listener that cancels here must find it to clear it.
    if (this.#heard && this.emitter.listenerCount("task:retry") > 0) {
      this.#emit("task:retry", { type: "task:retry", taskId: a.taskId, attempt: a.attempt, error, delayMs, at: this.runtime.now() });
    }
    if (delayMs <= 0 && this.#t.state[i] === RETRYING) this.#retryWhenFree(i, a);
  }

  /**
   * At most one attempt of a task runs at a time: a retry becomes ready only once the previous attempt
   * has settled or was abandoned (a timed-out body that ignores its signal holds its retry back until
   * its grace period ends), so a side effect is never performed by two attempts at once.
   */
  #retryWhenFree(i: number, previous: Attempt): void {
    if (previous.released) this.#makeReady(i);
    else {
      previous.onReleased = () => {
        if (this.#t.state[i] === RETRYING) this.#makeReady(i);
      };
    }
  }

  #fail(i: number, error: unknown): void {
    this.#clearRetry(i);
    this.#t.state[i] = FAILED;
    this.#t.errors[i] = error;
    this.#t.finishedAt[i] = this.runtime.now();
    this.#open--;
    if (this.#firstError === undefined) this.#firstError = error;
    if (this.#heard && this.emitter.listenerCount("task:failed") > 0) {
      this.#emit("task:failed", { type: "task:failed", taskId: this.#t.graph.ids[i]!, attempts: this.#t.attempts[i]!, error, at: this.#t.finishedAt[i]! });
    }
    if (this.#satisfies(i)) this.#releaseDependents(i);
    else this.#skipDependents(i);
    if (this.#options.failFast) this.#cancelRun("failFast", error);
  }

  #satisfies(i: number): boolean {
    return this.#t.graph.policies[i]?.satisfy === true;
  }

  #makeReady(i: number): void {
    this.#readied++;
    this.#t.state[i] = READY;
    this.#poolFor(i).queue.push(i);
    if (this.#heard && this.emitter.listenerCount("task:ready") > 0) {
      this.#emit("task:ready", { type: "task:ready", taskId: this.#t.graph.ids[i]!, at: this.runtime.now() });
    }
  }

  #releaseDependents(i: number): void {
    const t = this.#t;
    if (i < t.planned) {
      const { outStart, dependents } = t.plan;
      for (let e = outStart[i]!, end = outStart[i + 1]!; e < end; e++) this.#dependencySettled(dependents[e]!);
    }
    const more = t.moreDependents(i);
    if (more !== undefined) for (let k = 0; k < more.length; k++) this.#dependencySettled(more[k]!);
  }

  #dependencySettled(d: number): void {
    const t = this.#t;
    if (--t.remaining[d]! === 0 && t.state[d] === PENDING) this.#makeReady(d);
  }

  /** Skips every pending transitive dependent of `i` (which failed, was cancelled or was skipped). */
  #skipDependents(i: number): void {
    const stack = [i];
    while (stack.length > 0) {
      const j = stack.pop()!;
      for (const d of this.#t.dependentsOf(j)) {
        if (this.#t.state[d] !== PENDING) continue;
        this.#skip(d, j);
        stack.push(d);
      }
    }
  }

  #skip(d: number, because: number): void {
    const ids = this.#t.graph.ids;
    const error = new DependencyFailedError(ids[d]!, ids[because]!, STATE_NAMES[this.#t.state[because]!]!, this.#t.errors[because]);
    this.#t.state[d] = SKIPPED;
    this.#t.errors[d] = error;
    this.#t.finishedAt[d] = this.runtime.now();
    this.#open--;
    if (this.#heard && this.emitter.listenerCount("task:skipped") > 0) {
      this.#emit("task:skipped", { type: "task:skipped", taskId: ids[d]!, error, at: this.#t.finishedAt[d]! });
    }
  }

  /** Moves a non-terminal task to "cancelled", aborting its running attempt or pending retry. */
  #cancelOne(i: number, error: CancelledError): void {
    this.#clearRetry(i);
    const a = this.#t.current[i];
    this.#t.current[i] = undefined;
    this.#t.state[i] = CANCELLED;
    this.#t.errors[i] = error;
    this.#t.finishedAt[i] = this.runtime.now();
    this.#open--;
    if (a !== undefined) {
      a.decided = true;
      // After the task's own move: abort listeners run user code, which may cancel more.
      this.#abort(a, error);
    }
    if (this.#heard && this.emitter.listenerCount("task:cancelled") > 0) {
      this.#emit("task:cancelled", { type: "task:cancelled", taskId: this.#t.graph.ids[i]!, error, at: this.#t.finishedAt[i]! });
    }
  }

  /** Clears the backoff timer of a task waiting to retry, if it has one. */
  #clearRetry(i: number): void {
    const timer = this.#retryTimers.get(i);
    if (timer === undefined) return;
    this.runtime.clearTimer(timer);
    this.#retryTimers.delete(i);
  }

  #cancelRun(source: CancelSource, reason: unknown): void {
    if (this.#cancel !== undefined || this.#phase !== "running") return;
    const why = because(reason);
    const by = { signal: "by its signal", cancel: "by cancel()", cancelTask: "", failFast: "by failFast after a task failed", fault: "by an injected fault" }[source];
    this.#cancel = new CancelledError(`the run of job "${this.#t.graph.name}" was cancelled ${by}${why}`, source, reason);
    for (let i = 0; i < this.#t.count; i++) if (this.#t.state[i]! < SUCCEEDED) this.#cancelOne(i, this.#cancel);
    this.#pump();
  }

  #injectCancel(i: number, node: ProviderNode): boolean {
    const fault = this.#fault("job.cancel", undefined, i, node);
    if (fault?.kind !== "cancel") return false;
    this.#cancelRun("fault", fault.reason ?? "injected fault at job.cancel");
    return true;
  }

  /** At `node.lost`: the node task i was about to go to dies now, with every attempt on it (each is requeued). */
  #injectNodeLoss(i: number, pool: Pool, node: ProviderNode): boolean {
    if (this.#fault("node.lost", undefined, i, node)?.kind !== "fail") return false;
    this.#nodeLost(pool, node, new NodeLostError(node.id, `node "${node.id}" was lost (injected fault at node.lost)`));
    return true;
  }

  #fault(point: FaultPoint, a: Attempt | undefined, task = a?.task ?? -1, node?: ProviderNode): FaultAction | undefined {
    const action = this.runtime.fault!(point, {
      point,
      jobName: this.#t.graph.name,
      taskId: task >= 0 ? this.#t.graph.ids[task] : undefined,
      attempt: a?.attempt ?? (task >= 0 ? this.#t.attempts[task]! + 1 : undefined),
      nodeId: a?.node.id ?? node?.id,
    });
    return action ?? undefined;
  }

  // ---- nodes ----

  /**
   * A node is gone, and with it every attempt still running there: each is aborted, its slot freed at
   * once (what it reports later is ignored) and it is requeued like any attempt on a lost node; a
   * replacement node is started when work remains.
   */
  #nodeLost(pool: Pool, lost: ProviderNode, error: NodeLostError, under?: Attempt): void {
    // Forgotten first, so the attempts failed below do not each lose it again.
    const position = pool.keeperOf(lost);
    if (position < 0) {
      // A node no longer in use (already lost and replaced): only the reporting attempt is affected.
      if (under !== undefined) this.#lostAttempt(under, error, true);
      return;
    }
    pool.keepers[position]!.forget(lost);
    this.#losses++;
    if (this.#heard && this.emitter.listenerCount("node:lost") > 0) {
      this.#emit("node:lost", { type: "node:lost", pool: pool.name, nodeId: lost.id, error, at: this.runtime.now() });
    }
    const t = this.#t;
    const victims: Attempt[] = under === undefined ? [] : [under];
    for (let k = 0; k < t.count; k++) {
      const a = t.current[k];
      if (t.state[k] !== RUNNING || a === undefined || a.node !== lost || a === under) continue;
      t.current[k] = undefined;
      a.decided = true;
      this.#release(a);
      victims.push(a);
    }
    // Attempts aborted earlier were winding down on the lost node.
    for (const a of this.#windingDown) if (a.node === lost) this.#release(a);
    // Shared over the attempt's whole life, not only now: a culprit whose aborted attempt settled a
    // moment before its neighbour reported the loss shared the node as much as one still on it.
    const placements = pool.placements[position]!;
    const shared = victims.length > 1 || victims.some((a) => a.placement !== placements);
    // On a shared node, each attempt's error names its own task (the provider's error is about the
    // attempt that reported the loss, if one did).
    const errors = victims.map((a) => (a === under || victims.length === 1 ? error : sharedLoss(error, a, victims.length)));
    for (let v = 0; v < victims.length; v++) this.#lostAttempt(victims[v]!, errors[v]!, !shared);
    // After the tasks' moves: abort listeners run user code.
    for (let v = 0; v < victims.length; v++) victims[v]!.abort(errors[v]);
    // The caller pumps: the requeued attempts find another node, or a replacement is started.
  }

  /**
   * An attempt lost with its node (or its dispatch) goes back to the queue without spending a retry.
   * Who pays for a loss: when the attempt ran alone on the node, the loss counts against its task
   * (`maxNodeLosses` of them, then the task fails with E_NODE_LOST); when it shared the node, any of
   * the attempts there may have killed it, so none is charged — each is requeued free and from then
   * on runs alone, so the next loss it is part of is charged to it. Innocent neighbours of a task
   * that crashes its nodes thus succeed, and the crashing task ends with E_NODE_LOST.
   */
  #lostAttempt(a: Attempt, error: NodeLostError, charged: boolean): void {
    const i = a.task;
    const t = this.#t;
    if (t.state[i] !== RUNNING) return; // cancelled meanwhile (by a failFast of another victim)
    if (!charged) t.alone[i] = 1;
    else if (t.nodeLosses[i]! < this.#options.maxNodeLosses) t.nodeLosses[i]!++;
    else {
      t.failedAttempts[i]!++;
      this.#fail(i, error);
      return;
    }
    if (this.#heard && this.emitter.listenerCount("task:requeued") > 0) {
      this.#emit("task:requeued", { type: "task:requeued", taskId: a.taskId, attempt: a.attempt, error, at: this.runtime.now() });
    }
    this.#makeReady(i);
  }

  /**
   * A node position of `pool` could not start a node, retries included. While another node of the
   * pool is up or starting, its work goes there; otherwise every task of the pool still waiting fails.
   */
  #nodeFailed(pool: Pool, error: unknown): void {
    if (this.#phase !== "running") return;
    pool.startError = new NodeLostError(
      "(none)",
      `provider "${pool.provider.name}" of pool "${pool.name}" could not start a node: ${messageOf(error)}`,
      { cause: error },
    );
    if (pool.alive) return;
    for (let i = 0; i < this.#t.count; i++) {
      const state = this.#t.state[i]!;
      if (state < SUCCEEDED && state !== RUNNING && this.#poolFor(i) === pool) this.#fail(i, pool.startError);
    }
    this.#pump();
  }

  /** Fails the ready tasks of a pool that has no node and can start none. */
  #failQueued(pool: Pool): void {
    for (let i = pool.queue.pop(); i >= 0; i = pool.queue.pop()) if (this.#t.state[i] === READY) this.#fail(i, pool.startError);
  }

  // ---- the end ----

  async #finish(): Promise<void> {
    if (this.#phase !== "running") return;
    this.#phase = "ending";
    if (this.#onCallerAbort !== undefined) this.#options.signal!.removeEventListener("abort", this.#onCallerAbort);
    this.#onCallerAbort = undefined;
    await Promise.all(this.#pools.map((pool) => pool.close()));
    this.#phase = "ended";
    const finishedAt = this.runtime.now();
    const status = this.#jobStatus();
    const result = buildResult(this.#t, {
      job: this.#t.graph.name,
      status,
      error: status === "cancelled" && this.#cancel !== undefined ? this.#cancel : (this.#firstError ?? this.#firstCancel()),
      startedAt: this.#startTime,
      finishedAt,
    });
    if (this.#heard && this.emitter.listenerCount("job:end") > 0) {
      this.#emit("job:end", { type: "job:end", job: this.#t.graph.name, status, result, at: finishedAt });
    }
    this.emitter.removeAllListeners();
    this.#resolve(result);
  }

  #jobStatus(): JobStatus {
    if (this.#cancel !== undefined && this.#cancel.source !== "failFast") return "cancelled";
    const states = this.#t.state.subarray(0, this.#t.count);
    if (this.#firstError !== undefined || states.includes(FAILED)) return "failed";
    return states.includes(CANCELLED) ? "cancelled" : "succeeded";
  }

  #firstCancel(): unknown {
    const i = this.#t.state.subarray(0, this.#t.count).indexOf(CANCELLED);
    return i < 0 ? undefined : this.#t.errors[i];
  }

  // ---- helpers ----

  /** A trace label for a timer or completion of attempt `a`, only under a controlled runtime. */
  #label(event: AttemptEvent, a: Attempt): string | undefined {
    return this.controlled ? attemptLabel(event, a.taskId, a.attempt) : undefined;
  }

  /** Lets a testing runtime watch this run (its invariants are checked after every step). */
  #observe(): void {
    const t = this.#t;
    this.#heard = true;
    this.runtime.observe!({
      job: t.graph.name,
      on: (event, listener) => void this.emitter.on(event, listener as never),
      busy: () => this.#busy,
      capacity: () => Math.min(this.#options.concurrency, this.#pools.reduce((sum, pool) => sum + pool.slots, 0)),
      dependencies: (id) => Array.from(t.depsOf(t.require(id, "observe")), (d) => t.graph.ids[d]!),
      satisfiesOnFailure: (id) => this.#satisfies(t.require(id, "observe")),
      settled: () => this.#phase === "ended",
    });
  }

  #emitJobStart(): void {
    if (this.#heard && this.emitter.listenerCount("job:start") > 0) {
      this.#emit("job:start", { type: "job:start", job: this.#t.graph.name, tasks: this.#t.graph.ids.length, at: this.#startTime });
    }
  }

  /**
   * Emits to listeners. User listeners are guarded (see `listen`), so each one hears every event
   * whatever the others do; `#emitting` lets operations started from a listener wait for the step
   * that emitted to finish.
   */
  #emit<K extends RunEventName>(name: K, event: RunEvents[K]): void {
    this.#emitting++;
    try {
      (this.emitter.emit as (name: K, event: RunEvents[K]) => boolean)(name, event);
    } catch (error) {
      this.callbackFailed(error);
    } finally {
      this.#emitting--;
    }
  }

  /**
   * Adds a user's listener. It is wrapped so that a throw cannot stop the other listeners of the
   * event, the run, or a `for await` over the handle; the error is reported by `callbackFailed`.
   */
  listen(event: RunEventName, listener: (event: never) => void, once: boolean): void {
    this.#heard = true;
    let guarded = this.#guarded.get(listener);
    if (guarded === undefined) {
      guarded = (e: never) => {
        try {
          listener(e);
        } catch (error) {
          this.callbackFailed(error);
        }
      };
      this.#guarded.set(listener, guarded);
    }
    if (once) this.emitter.once(event, guarded as never);
    else this.emitter.on(event, guarded as never);
  }

  /** Removes a listener added with `listen`. */
  unlisten(event: RunEventName, listener: (event: never) => void): void {
    const guarded = this.#guarded.get(listener);
    if (guarded !== undefined) this.emitter.off(event, guarded as never);
  }

  /**
   * User code the run called (an event listener, an `onAbort` listener) threw. The run goes on; the
   * error surfaces once, as an unhandled promise rejection: Node (by default) and Deno end the
   * process with it, a test runner fails the test that caused it (Deno's swallows an error thrown
   * on a bare microtask), and explore() fails the schedule.
   */
  callbackFailed(error: unknown): void {
    void Promise.reject(error);
  }

  /**
   * Pumps now, or, when called from inside an event listener, once the step that emitted has finished
   * (a task added from `task:succeeded` must not start before the finished task's own dependents are
   * released): dispatch order does not depend on where an operation was called from.
   */
  #pumpSoon(): void {
    if (this.#emitting === 0) this.#pump();
    else if (!this.#pumpQueued) {
      this.#pumpQueued = true;
      queueMicrotask(() => {
        this.#pumpQueued = false;
        this.#pump();
      });
    }
  }

}

/** The `then` method of a thenable, or undefined for any other value (reads `then` once; may throw). */
function thenOf(value: unknown): unknown {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return undefined;
  const then = (value as PromiseLike<unknown>).then;
  return typeof then === "function" ? then : undefined;
}

/** The error of attempt `a`, one of `count` attempts lost with the same node. */
function sharedLoss(error: NodeLostError, a: Attempt, count: number): NodeLostError {
  return new NodeLostError(error.nodeId, `task "${a.taskId}" attempt ${a.attempt} was on node "${error.nodeId}" (with ${count - 1} other attempt${count === 2 ? "" : "s"}) when it was lost: ${error.message}`, { cause: error });
}

function injected(fault: FaultAction & { kind: "fail" }, point: FaultPoint, a: Attempt): unknown {
  return fault.error ?? new Error(`injected fault at ${point} (task "${a.taskId}", attempt ${a.attempt})`);
}

/** ": <reason>" for a message, or nothing when no reason was given. */
function because(reason: unknown): string {
  return reason === undefined ? "" : `: ${messageOf(reason)}`;
}
