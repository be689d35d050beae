/**
 * The engine behind `run` and `start`: one run of a job. It wires the rooms and owns the run's
 * phase, its cancellation and its end:
 * - task-lifecycle.ts — a task's states, retries, dependents released or skipped;
 * - placement.ts — which node of which pool takes the next ready task (pools own nodes and load);
 * - attempt-runner.ts — an attempt's body run on its node, its outcome, timeout, abort and grace;
 * - node-loss.ts — lost nodes and failed starts, and who is charged for a loss;
 * - fault-injection.ts — every fault point core consults (only under a testing runtime);
 * - run-events.ts — the run's events, and whether anyone listens;
 * - run-journal.ts — the run's journal: tasks restored at the start, final states recorded.
 * Per-task state lives in a TaskTable (parallel typed arrays indexed by insertion order), so the hot
 * path (pop a ready task, start it, record its outcome, release its dependents) allocates one attempt
 * object and nothing else.
 */
import type { Attempt } from "./attempt.ts";
import { AttemptRunner } from "./attempt-runner.ts";
import { CancelledError, FlotillaError, describe, messageOf, type CancelSource, type NodeLostError } from "./errors.ts";
import { FaultInjection } from "./fault-injection.ts";
import type { JobGraph, Plan } from "./job-graph.ts";
import { NodeLoss } from "./node-loss.ts";
import type { Tenant } from "./node-pool.ts";
import { Placement } from "./placement.ts";
import type { Pool } from "./pool.ts";
import type { ProviderNode } from "./provider.ts";
import { buildResult } from "./result-view.ts";
import type { JobStatus, RunResult } from "./result.ts";
import type { ResolvedRunOptions } from "./run-options.ts";
import { RunEventBus } from "./run-events.ts";
import { RUN_EVENT_NAMES, type RunEvent, type RunEvents, type RunEventName } from "./events.ts";
import { RunJournal } from "./run-journal.ts";
import { TraceRecorder } from "./trace/index.ts";
import { RunState } from "./run-state.ts";
import type { Runtime } from "./runtime.ts";
import { TaskLifecycle, type LifecycleHost } from "./task-lifecycle.ts";
import { TaskTable } from "./task-table.ts";
import { CANCELLED, FAILED, PENDING, SUCCEEDED } from "./task-state.ts";

export class Executor implements LifecycleHost {
  readonly runtime: Runtime;
  readonly result: Promise<RunResult<any>>;

  readonly #s: RunState;
  readonly #events = new RunEventBus();
  readonly #tasks: TaskLifecycle;
  readonly #attempts: AttemptRunner;
  readonly #nodes: NodeLoss;
  readonly #placement: Placement;
  readonly #faults: FaultInjection | undefined;
  readonly #journal: RunJournal | undefined;
  readonly #trace: TraceRecorder | undefined;

  #pumping = false;
  #pumpQueued = false;
  #startTime = 0;
  #resolve!: (result: RunResult<any>) => void;
  #onCallerAbort: (() => void) | undefined = undefined;

  /**
   * Checks the job (unknown dependencies, cycles, tasks their pool cannot run) and prepares the run;
   * throws the job's errors.
   */
  constructor(graph: JobGraph, options: ResolvedRunOptions) {
    this.runtime = options.runtime;
    const s = (this.#s = new RunState(new TaskTable(graph), options, this.#events));
    this.result = new Promise((resolve) => (this.#resolve = resolve));
    const faults = typeof options.runtime.fault === "function" ? new FaultInjection(options.runtime, s.t) : undefined;
    const pump = () => this.#pump();
    this.#tasks = new TaskLifecycle(s, this);
    this.#attempts = new AttemptRunner(s, this.#tasks, faults, pump);
    this.#nodes = new NodeLoss(s, this.#tasks, this.#attempts, (i) => this.#placement.poolFor(i));
    const rooms = { tasks: this.#tasks, attempts: this.#attempts, nodes: this.#nodes, faults };
    this.#placement = new Placement(s, rooms, (source, reason) => this.cancelRun(source, reason));
    this.#faults = faults;
    if (options.trace) this.#trace = this.#recordTrace();
    const journal = options.journal;
    if (journal !== undefined) {
      this.#journal = new RunJournal(journal, s.t, (error) => this.cancelRun("journal", error));
      s.t.restored = this.#journal.restored;
    }
  }

  /** The run's event emitter (the handle's iterator listens on it directly). */
  get emitter(): RunEventBus["emitter"] {
    return this.#events.emitter;
  }

  /** Called by everything that adds a listener to `emitter` (the handle, its iterator, an observer). */
  listened(): void {
    this.#events.heard = true;
  }

  /** Adds a user's listener, guarded: a throw stops neither the other listeners, nor the run. */
  listen(event: RunEventName, listener: (event: never) => void, once: boolean): void {
    this.#events.listen(event, listener, once);
  }

  /** Removes a listener added with `listen`. */
  unlisten(event: RunEventName, listener: (event: never) => void): void {
    this.#events.unlisten(event, listener);
  }

  /** "running" until the run settles, then its final status. */
  get status(): "running" | JobStatus {
    return this.#s.phase === "ended" ? this.#jobStatus() : "running";
  }

  /**
   * Starts the run. Called once, a microtask after `start()`, so listeners added right after it see
   * everything; `early` runs after job:start and before any task is dispatched (a cancellation made
   * before the run's first microtask must stop tasks from running, even synchronous ones).
   */
  begin(early?: () => void): void {
    const s = this.#s;
    if (s.phase !== "created") return;
    s.phase = "running";
    this.#startTime = this.runtime.now();
    this.#placement.attach((pool) => this.#tenantFor(pool));
    if (typeof this.runtime.observe === "function") this.#observe();
    const signal = s.options.signal;
    if (signal !== undefined && !signal.aborted) {
      this.#onCallerAbort = () => this.cancelRun("signal", signal.reason);
      signal.addEventListener("abort", this.#onCallerAbort, { once: true });
    }
    if (s.events.wants("job:start")) s.events.emit("job:start", { type: "job:start", job: s.t.graph.name, tasks: s.t.graph.ids.length, at: this.#startTime });
    if (signal?.aborted) this.cancelRun("signal", signal.reason);
    else early?.();
    if (s.cancel !== undefined) return;
    if (this.#journal === undefined) {
      this.#tasks.readyRoots();
      this.#pump();
      return;
    }
    // Nothing is ready before the journal said what an earlier run finished; cancelling meanwhile ends
    // the run (the journal is closed once its open settled).
    s.opening = true;
    void this.#journal.open().then((restore) => {
      s.opening = false;
      if (restore === undefined || s.cancel !== undefined || s.phase !== "running") return;
      const journal = this.#journal!;
      // Dependents first (ascending rank): a restored task is never made ready by a restored dependency.
      const t = s.t;
      const order = [...restore.keys()].sort((a, b) => t.rank[a]! - t.rank[b]!);
      for (const i of order) {
        if (t.state[i]! !== PENDING) continue;
        journal.restored.add(i);
        const task = restore.get(i)!;
        this.#tasks.restore(i, task.output, task.attempts);
      }
      journal.began(this.#startTime);
      this.#tasks.readyRoots();
      this.#pump();
    });
  }

  // ---- public operations (through RunHandle) ----

  cancel(reason: unknown): void {
    if (this.#s.phase === "created") this.begin(() => this.cancelRun("cancel", reason));
    else this.cancelRun("cancel", reason);
  }

  cancelTask(id: string, reason: unknown): boolean {
    const s = this.#s;
    const i = s.t.require(id, "cancelTask");
    let cancelled = false;
    const cancel = () => {
      if (s.phase !== "running" || s.t.state[i]! >= SUCCEEDED) return;
      this.#tasks.cancel(i, new CancelledError(`task "${id}" was cancelled${because(reason)}`, "cancelTask", reason));
      this.#tasks.skipDependents(i);
      cancelled = true;
    };
    if (s.phase === "created") this.begin(cancel);
    else {
      cancel();
      this.#pumpSoon();
    }
    return cancelled;
  }

  addTask(id: unknown, optionsOrBody: unknown, body: unknown): void {
    const s = this.#s;
    if (s.phase === "ending" || s.phase === "ended" || s.cancel !== undefined) {
      throw new FlotillaError(
        "E_RUN_ENDED",
        `cannot add task ${typeof id === "string" ? `"${id}"` : describe(id)}: the run of job "${s.t.graph.name}" has ${s.cancel ? "been cancelled" : "ended"}`,
      );
    }
    const i = s.t.add(id, optionsOrBody, body, (task) => this.#placement.check(task));
    this.#placement.grown(s.t.raiseAncestors(i));
    this.#tasks.admit(i);
    if (s.phase !== "created") this.#pumpSoon(); // (before the run starts, begin() readies it with the others)
  }

  cancelRun(source: CancelSource, reason: unknown): void {
    const s = this.#s;
    if (s.cancel !== undefined || s.phase !== "running") return;
    const by = {
      signal: "by its signal",
      cancel: "by cancel()",
      cancelTask: "",
      failFast: "by failFast after a task failed",
      fault: "by an injected fault",
      journal: "because its journal failed",
    }[source];
    s.cancel = new CancelledError(`the run of job "${s.t.graph.name}" was cancelled ${by}${because(reason)}`, source, reason);
    this.#tasks.cancelAll(s.cancel);
    this.#pump();
  }

  // ---- LifecycleHost: what the task lifecycle asks of the other rooms ----

  enqueue(task: number): void {
    this.#placement.enqueue(task);
  }

  abort(a: Attempt, reason: unknown): void {
    this.#attempts.abort(a, reason);
  }

  nodeLost(pool: Pool, node: ProviderNode, error: NodeLostError, under: Attempt): void {
    this.#nodes.lost(pool, node, error, under);
  }

  lostAttempt(a: Attempt, error: NodeLostError, charged: boolean): void {
    this.#nodes.lostAttempt(a, error, charged);
  }

  ended(task: number): void {
    if (this.#placement.anyShared) this.#placement.ended(task);
    this.#journal?.ended(task, this.runtime.now());
  }

  // ---- the loop ----

  /**
   * Starts ready tasks while there is capacity (placement.ts). Re-entrant calls (from synchronous
   * completions) return at once. The run ends when no task is open and no slot is held.
   */
  pump(): void {
    this.#pump();
  }

  #pump(): void {
    if (this.#pumping || this.#s.phase !== "running") return;
    this.#pumping = true;
    try {
      this.#placement.fill();
    } finally {
      this.#pumping = false;
    }
    if (this.#tasks.open === 0 && this.#attempts.busy === 0) void this.#finish();
  }

  /**
   * Pumps now, or, when called from inside an event listener, once the step that emitted has finished
   * (a task added from `task:succeeded` must not start before the finished task's own dependents are
   * released): dispatch order does not depend on where an operation was called from.
   */
  #pumpSoon(): void {
    if (!this.#events.emitting) this.#pump();
    else if (!this.#pumpQueued) {
      this.#pumpQueued = true;
      queueMicrotask(() => {
        this.#pumpQueued = false;
        this.#pump();
      });
    }
  }

  // ---- nodes ----

  /** The run as one of its pools sees it (node-pool.ts). */
  #tenantFor(pool: Pool): Tenant {
    const s = this.#s;
    const faults = this.#faults;
    const placement = this.#placement;
    return {
      priority: s.options.priority,
      hasReady: () => s.phase === "running" && s.cancel === undefined && placement.hasReady(pool),
      demand: () => {
        let extra = 0;
        for (const i of pool.alone) extra += placement.slotsOf(i);
        for (const i of pool.wide) extra += placement.slotsOf(i);
        const ready = pool.waitingTasks;
        const readySlots = pool.queuedSlots + extra;
        const waiting = Math.max(0, pool.tasks - pool.ended - ready - pool.running);
        const waitingSlots = Math.max(0, pool.taskSlots - pool.endedSlots - readySlots - pool.runningSlots);
        return { ready, readySlots, running: pool.running, runningSlots: pool.runningSlots, waiting, waitingSlots };
      },
      wanted: () => s.phase === "running" && this.#tasks.open > 0,
      fault: faults === undefined ? undefined : (point) => faults.consult(point, undefined),
      controlled: s.controlled,
      // A shared pool wakes its runs from another run's step: each pumps after it, not inside it.
      wake: pool.nodes.shared ? () => this.#pumpLater() : () => this.#pump(),
      nodeGone: (k, node, error, exit, under) => {
        if (under === undefined && s.phase !== "running") return;
        this.#nodes.gone(pool, k, node, error, exit, under as Attempt | undefined);
        // (An attempt that reported its node lost is inside a step that pumps after it.)
        if (under === undefined) this.#pump();
      },
      startFailed: (error) => {
        if (s.phase === "running" && this.#nodes.startFailed(pool, error)) this.#pump();
      },
      event: (type, payload) => {
        if (s.events.wants(type)) s.events.emit(type, { type, pool: pool.name, ...payload, at: this.runtime.now() } as never);
      },
    };
  }

  /** Pumps once the current step is over (a shared pool's wake). */
  #pumpLater(): void {
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(() => {
      this.#pumpQueued = false;
      this.#pump();
    });
  }

  // ---- the end ----

  async #finish(): Promise<void> {
    const s = this.#s;
    if (s.phase !== "running") return;
    s.phase = "ending";
    if (this.#onCallerAbort !== undefined) s.options.signal!.removeEventListener("abort", this.#onCallerAbort);
    this.#onCallerAbort = undefined;
    const pools = await this.#placement.close();
    if (this.#journal !== undefined) await this.#journal.close(this.runtime, s.options.stopTimeoutMs);
    s.phase = "ended";
    const finishedAt = this.runtime.now();
    const status = this.#jobStatus();
    const result = buildResult(s.t, {
      job: s.t.graph.name,
      status,
      error: this.#journal?.error ?? (status === "cancelled" && s.cancel !== undefined ? s.cancel : (this.#tasks.firstError ?? this.#firstCancel())),
      startedAt: this.#startTime,
      finishedAt,
      pools,
    });
    const end: RunEvents["job:end"] = { type: "job:end", job: s.t.graph.name, status, result, at: finishedAt };
    if (this.#trace !== undefined) {
      this.#trace.record(end);
      // Not enumerable: JSON.stringify(result) (and the command's --json job:end line) leaves it out.
      Object.defineProperty(result, "trace", { value: this.#trace.finish(), enumerable: false, configurable: true });
    }
    if (s.events.wants("job:end")) s.events.emit("job:end", end);
    s.events.emitter.removeAllListeners();
    this.#resolve(result);
  }

  #jobStatus(): JobStatus {
    const s = this.#s;
    // A journal that failed (to open, to append, to close) fails the run: its record cannot be trusted.
    if (this.#journal?.error !== undefined) return "failed";
    if (s.cancel !== undefined && s.cancel.source !== "failFast") return "cancelled";
    if (this.#tasks.firstError !== undefined) return "failed";
    // One pass over the states, without a subarray (explore() ends a run per schedule).
    const { state, count } = s.t;
    let cancelled = false;
    for (let i = 0; i < count; i++) {
      if (state[i] === FAILED) return "failed";
      if (state[i] === CANCELLED) cancelled = true;
    }
    return cancelled ? "cancelled" : "succeeded";
  }

  #firstCancel(): unknown {
    const t = this.#s.t;
    for (let i = 0; i < t.count; i++) if (t.state[i] === CANCELLED) return t.errors[i];
    return undefined;
  }

  /**
   * The run's trace (`trace: true`): a recorder hearing every event before any user listener (it is
   * added first); job:end it is given by hand, so that `result.trace` is there when job:end is heard.
   */
  #recordTrace(): TraceRecorder {
    const s = this.#s;
    const t = s.t;
    const recorder = new TraceRecorder(t.graph.name, (id) => {
      const i = t.indexOf(id);
      return i === undefined ? [] : dependencyIds(t, i);
    });
    const record = (event: RunEvent): void => recorder.record(event);
    for (const name of RUN_EVENT_NAMES) if (name !== "job:end") s.events.emitter.on(name, record as never);
    s.events.heard = true;
    return recorder;
  }

  /** Lets a testing runtime watch this run (its invariants are checked after every step). */
  #observe(): void {
    const s = this.#s;
    const t = s.t;
    s.events.heard = true;
    this.runtime.observe!({
      job: t.graph.name,
      on: (event, listener) => void s.events.emitter.on(event, listener as never),
      busy: () => this.#attempts.busy,
      capacity: () => this.#placement.capacity(),
      dependencies: (id) => dependencyIds(t, t.require(id, "observe")),
      satisfiesOnFailure: (id) => this.#tasks.satisfies(t.require(id, "observe")),
      settled: () => s.phase === "ended",
    });
  }
}

/** The dependency ids of each planned task, by plan: every run of an unchanged job shares its plan. */
const planDependencyIds = new WeakMap<Plan, (readonly string[])[]>();

/**
 * Ids of task i's dependencies, for a testing runtime's observer: explore() asks at every task:start
 * of every schedule, so those of planned tasks are made once per plan (and frozen, being shared).
 */
function dependencyIds(t: TaskTable, i: number): readonly string[] {
  if (i >= t.planned) return Array.from(t.depsOf(i), (d) => t.graph.ids[d]!);
  let byTask = planDependencyIds.get(t.plan);
  if (byTask === undefined) planDependencyIds.set(t.plan, (byTask = []));
  return (byTask[i] ??= Object.freeze(Array.from(t.depsOf(i), (d) => t.graph.ids[d]!)));
}

/** ": <reason>" for a message, or nothing when no reason was given. */
function because(reason: unknown): string {
  return reason === undefined ? "" : `: ${messageOf(reason)}`;
}
