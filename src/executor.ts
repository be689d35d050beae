/**
 * The scheduling engine behind `run` and `start`: the ready queue, capacity, dispatch, completion,
 * retries, timeouts and cancellation of one run.
 *
 * Per-task state lives in parallel arrays indexed by the task's insertion order, so the hot path (pop
 * a ready task, start it, record its outcome, release its dependents) allocates one attempt object and
 * nothing else. Bodies that return synchronously complete inside the dispatch loop, without a promise.
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
  type CancelSource,
} from "./errors.ts";
import type { RunEvents, RunEventName } from "./events.ts";
import { addToGraph, type JobGraph } from "./job.ts";
import { planJob, resolveDependency } from "./plan.ts";
import type { ComputeProvider, ProviderNode } from "./provider.ts";
import { ReadyQueue } from "./ready-queue.ts";
import { buildResult } from "./result-view.ts";
import type { JobStatus, RunResult } from "./result.ts";
import type { ResolvedRunOptions } from "./run-options.ts";
import type { FaultAction, FaultPoint, Runtime, TimerHandle } from "./runtime.ts";
import { DEFAULT_POLICY, backoffDelay, type TaskPolicy } from "./task-options.ts";
import { CANCELLED, FAILED, PENDING, READY, RETRYING, RUNNING, SKIPPED, STATE_NAMES, SUCCEEDED } from "./task-state.ts";

type Phase = "created" | "running" | "ending" | "ended";
type Listeners = { [K in RunEventName]: (event: RunEvents[K]) => void };

export class Executor implements AttemptHost {
  readonly emitter = new EventEmitter<Listeners>();
  readonly runtime: Runtime;
  readonly result: Promise<RunResult<any>>;

  readonly #options: ResolvedRunOptions;
  readonly #provider: ComputeProvider;
  readonly #faults: boolean;
  readonly #graph: JobGraph;
  readonly #deps: (readonly number[])[];
  readonly #dependents: (number[] | undefined)[];
  readonly #priority: number[];
  readonly #rank: number[];
  readonly #queue: ReadyQueue;

  readonly #state: number[];
  readonly #remaining: number[];
  readonly #attempts: number[];
  readonly #failedAttempts: number[];
  readonly #nodeLosses: number[];
  readonly #outputs: unknown[];
  readonly #errors: unknown[];
  readonly #startedAt: (number | undefined)[];
  readonly #finishedAt: (number | undefined)[];
  readonly #current: (Attempt | undefined)[];
  readonly #retryTimers = new Map<number, TimerHandle>();

  #phase: Phase = "created";
  #open: number;
  #busy = 0;
  #pumping = false;
  #node: ProviderNode | undefined = undefined;
  #nodeStarting: Promise<void> | undefined = undefined;
  #capacity = 0;
  #cancel: CancelledError | undefined = undefined;
  #firstError: unknown = undefined;
  #startTime = 0;
  #resolve!: (result: RunResult<any>) => void;
  #onCallerAbort: (() => void) | undefined = undefined;

  /** Checks the job (unknown dependencies, cycles) and prepares the run; throws the job's errors. */
  constructor(graph: JobGraph, options: ResolvedRunOptions) {
    this.#options = options;
    this.runtime = options.runtime;
    this.#provider = options.provider;
    this.#faults = typeof options.runtime.fault === "function";
    // The run owns copies, so tasks added to the run never reach the job, and the job stays reusable.
    this.#graph = {
      name: graph.name,
      ids: graph.ids.slice(),
      bodies: graph.bodies.slice(),
      deps: graph.deps.slice(),
      policies: graph.policies.slice(),
      index: new Map(graph.index),
    };
    const plan = planJob(this.#graph);
    this.#deps = plan.deps;
    this.#dependents = plan.dependents;
    this.#priority = plan.priority;
    this.#rank = plan.rank;
    this.#queue = new ReadyQueue(this.#priority, this.#rank);
    const n = graph.ids.length;
    this.#state = new Array(n).fill(PENDING);
    this.#remaining = this.#deps.map((d) => d.length);
    this.#attempts = new Array(n).fill(0);
    this.#failedAttempts = new Array(n).fill(0);
    this.#nodeLosses = new Array(n).fill(0);
    this.#outputs = new Array(n).fill(undefined);
    this.#errors = new Array(n).fill(undefined);
    this.#startedAt = new Array(n).fill(undefined);
    this.#finishedAt = new Array(n).fill(undefined);
    this.#current = new Array(n).fill(undefined);
    this.#open = n;
    this.result = new Promise((resolve) => (this.#resolve = resolve));
  }

  get jobName(): string {
    return this.#graph.name;
  }

  /** "running" until the run settles, then its final status. */
  get status(): "running" | JobStatus {
    return this.#phase === "ended" ? this.#jobStatus() : "running";
  }

  /** Starts the run. Called once, a microtask after `start()`, so listeners added right after it see everything. */
  begin(): void {
    if (this.#phase !== "created") return;
    this.#phase = "running";
    this.#startTime = this.runtime.now();
    const signal = this.#options.signal;
    if (signal !== undefined) {
      if (signal.aborted) {
        this.#emitJobStart();
        this.#cancelRun("signal", signal.reason);
        return;
      }
      this.#onCallerAbort = () => this.#cancelRun("signal", signal.reason);
      signal.addEventListener("abort", this.#onCallerAbort, { once: true });
    }
    this.#emitJobStart();
    const n = this.#graph.ids.length;
    for (let i = 0; i < n; i++) if (this.#remaining[i] === 0) this.#makeReady(i);
    if (n > 0) this.#startNode();
    this.#pump();
  }

  // ---- public operations (through RunHandle) ----

  cancel(reason: unknown): void {
    this.#cancelRun("cancel", reason);
  }

  cancelTask(id: string, reason: unknown): boolean {
    const i = this.#indexOf(id, "cancelTask");
    if (this.#phase !== "running" || this.#state[i]! >= SUCCEEDED) return false;
    const why = reason === undefined ? "" : `: ${reason instanceof Error ? reason.message : String(reason)}`;
    this.#cancelOne(i, new CancelledError(`task "${id}" was cancelled${why}`, "cancelTask", reason));
    this.#skipDependents(i);
    this.#pump();
    return true;
  }

  addTask(id: unknown, optionsOrBody: unknown, body: unknown): void {
    if (this.#phase === "ending" || this.#phase === "ended" || this.#cancel !== undefined) {
      throw new FlotillaError(
        "E_RUN_ENDED",
        `cannot add task ${typeof id === "string" ? `"${id}"` : describe(id)}: the run of job "${this.#graph.name}" has ${this.#cancel ? "been cancelled" : "ended"}`,
      );
    }
    const graph = this.#graph;
    const i = addToGraph(graph, id, optionsOrBody, body);
    let deps: number[];
    try {
      deps = graph.deps[i]!.map((dep) => resolveDependency(graph, graph.ids[i]!, dep));
    } catch (error) {
      // Refused: leave the run exactly as it was.
      graph.index.delete(graph.ids.pop()!);
      graph.bodies.pop();
      graph.deps.pop();
      graph.policies.pop();
      throw error;
    }
    this.#deps.push(deps);
    this.#dependents.push(undefined);
    this.#priority.push(graph.policies[i]?.priority ?? 0);
    this.#rank.push(0);
    this.#state.push(PENDING);
    this.#attempts.push(0);
    this.#failedAttempts.push(0);
    this.#nodeLosses.push(0);
    this.#outputs.push(undefined);
    this.#errors.push(undefined);
    this.#startedAt.push(undefined);
    this.#finishedAt.push(undefined);
    this.#current.push(undefined);
    this.#open++;
    let remaining = 0;
    let blocker = -1;
    for (const d of deps) {
      (this.#dependents[d] ??= []).push(i);
      const s = this.#state[d]!;
      if (s === SUCCEEDED || (s === FAILED && this.#satisfies(d))) continue;
      if (s >= SUCCEEDED) blocker = d;
      else remaining++;
    }
    this.#remaining.push(remaining);
    this.#raiseAncestors(i);
    if (this.#phase === "created") return; // begin() readies it with the others
    if (blocker >= 0) this.#skip(i, blocker);
    else if (remaining === 0) this.#makeReady(i);
    this.#pump();
  }

  // ---- AttemptHost ----

  depsOf(task: number): Record<string, unknown> {
    const deps: Record<string, unknown> = {};
    for (const d of this.#deps[task]!) if (this.#state[d] === SUCCEEDED) put(deps, this.#graph.ids[d]!, this.#outputs[d]);
    return deps;
  }

  failuresOf(task: number): Record<string, unknown> {
    const failures: Record<string, unknown> = {};
    for (const d of this.#deps[task]!) if (this.#state[d] === FAILED) put(failures, this.#graph.ids[d]!, this.#errors[d]);
    return failures;
  }

  // ---- the loop ----

  /** Starts ready tasks while there is capacity. Re-entrant calls (from synchronous completions) return at once. */
  #pump(): void {
    if (this.#pumping || this.#phase !== "running") return;
    this.#pumping = true;
    try {
      const queue = this.#queue;
      const state = this.#state;
      while (this.#busy < this.#capacity && this.#cancel === undefined) {
        const i = queue.pop();
        if (i < 0) break;
        if (state[i] !== READY) continue; // cancelled while queued
        if (this.#faults && this.#injectCancel(i)) break;
        this.#startAttempt(i);
      }
    } finally {
      this.#pumping = false;
    }
    if (this.#open === 0 && this.#busy === 0) void this.#finish();
  }

  #startAttempt(i: number): void {
    const number = ++this.#attempts[i]!;
    const a = new Attempt(this, i, this.#graph.ids[i]!, number, this.#node!);
    this.#state[i] = RUNNING;
    this.#current[i] = a;
    this.#busy++;
    if (this.#startedAt[i] === undefined) this.#startedAt[i] = this.runtime.now();
    if (this.emitter.listenerCount("task:start") > 0) {
      this.#emit("task:start", { type: "task:start", taskId: a.taskId, attempt: number, at: this.runtime.now() });
    }
    if (a.decided) {
      // A task:start listener cancelled it: the body never runs.
      this.#release(a);
      return;
    }
    const policy = this.#graph.policies[i];
    if (policy !== undefined && policy.timeoutMs > 0) {
      a.timeoutTimer = this.runtime.setTimer(policy.timeoutMs, () => this.#timedOut(a, policy.timeoutMs));
    }
    let result: unknown;
    try {
      if (this.#faults) {
        const fault = this.#fault("task.attempt", a);
        if (fault?.kind === "timeout") {
          this.#timedOut(a, policy?.timeoutMs ?? 0);
          this.#release(a);
          return;
        }
        if (fault?.kind === "fail") throw injected(fault, "task.attempt", a);
      }
      result = this.#provider.run(a.node, this.#graph.bodies[i]!, a);
    } catch (error) {
      this.#settle(a, false, error);
      return;
    }
    if (isThenable(result)) {
      result.then(
        (value) => this.#settle(a, true, value),
        (error) => this.#settle(a, false, error),
      );
    } else {
      this.#settle(a, true, result);
    }
  }

  /** The body of attempt `a` returned or threw. */
  #settle(a: Attempt, ok: boolean, value: unknown): void {
    if (a.released) return; // abandoned after its grace period: nobody waits for it any more
    this.#release(a);
    if (!a.decided) {
      a.decided = true;
      this.#current[a.task] = undefined;
      if (this.#faults) {
        const fault = this.#fault("task.complete", a);
        if (fault?.kind === "fail" || fault?.kind === "timeout") {
          ok = false;
          value = fault.kind === "fail" ? injected(fault, "task.complete", a) : new TimeoutError(a.taskId, a.attempt, 0);
        }
      }
      if (ok) this.#succeed(a, value);
      else this.#attemptFailed(a, value);
    }
    this.#pump();
  }

  #release(a: Attempt): void {
    a.released = true;
    this.#busy--;
    if (a.timeoutTimer !== undefined) this.runtime.clearTimer(a.timeoutTimer);
    if (a.graceTimer !== undefined) this.runtime.clearTimer(a.graceTimer);
    a.timeoutTimer = a.graceTimer = undefined;
  }

  #timedOut(a: Attempt, timeoutMs: number): void {
    a.timeoutTimer = undefined;
    if (a.decided) return;
    a.decided = true;
    this.#current[a.task] = undefined;
    const error = new TimeoutError(a.taskId, a.attempt, timeoutMs);
    this.#abort(a, error);
    this.#attemptFailed(a, error);
    this.#pump();
  }

  /** Aborts a running attempt; its slot stays taken until the body settles or the grace period ends. */
  #abort(a: Attempt, reason: unknown): void {
    a.abort(reason);
    if (a.released || a.graceTimer !== undefined) return;
    a.graceTimer = this.runtime.setTimer(this.#options.cancelGraceMs, () => {
      a.graceTimer = undefined;
      if (a.released) return;
      this.#release(a);
      if (this.emitter.listenerCount("task:abandoned") > 0) {
        this.#emit("task:abandoned", { type: "task:abandoned", taskId: a.taskId, attempt: a.attempt, at: this.runtime.now() });
      }
      this.#pump();
    });
  }

  #succeed(a: Attempt, output: unknown): void {
    const i = a.task;
    this.#state[i] = SUCCEEDED;
    this.#outputs[i] = output;
    this.#finishedAt[i] = this.runtime.now();
    this.#open--;
    if (this.emitter.listenerCount("task:succeeded") > 0) {
      this.#emit("task:succeeded", { type: "task:succeeded", taskId: a.taskId, attempt: a.attempt, output, at: this.#finishedAt[i]! });
    }
    this.#releaseDependents(i);
  }

  #attemptFailed(a: Attempt, error: unknown): void {
    const i = a.task;
    if (error instanceof NodeLostError && this.#cancel === undefined && this.#nodeLosses[i]! < this.#options.maxNodeLosses) {
      this.#nodeLosses[i]!++;
      if (this.#node === a.node) this.#replaceNode();
      if (this.emitter.listenerCount("task:requeued") > 0) {
        this.#emit("task:requeued", { type: "task:requeued", taskId: a.taskId, attempt: a.attempt, error, at: this.runtime.now() });
      }
      this.#makeReady(i);
      return;
    }
    const failed = ++this.#failedAttempts[i]!;
    const policy = this.#graph.policies[i] ?? DEFAULT_POLICY;
    if (failed <= policy.retries && this.#cancel === undefined && !(error instanceof NodeLostError)) {
      this.#retry(i, a, error, policy, failed + 1);
      return;
    }
    this.#fail(i, error);
  }

  #retry(i: number, a: Attempt, error: unknown, policy: TaskPolicy, nextTry: number): void {
    const delayMs = backoffDelay(policy, nextTry, this.runtime.random);
    this.#state[i] = RETRYING;
    if (delayMs > 0) {
      const timer = this.runtime.setTimer(delayMs, () => {
        this.#retryTimers.delete(i);
        if (this.#state[i] !== RETRYING) return;
        this.#makeReady(i);
        this.#pump();
      });
      this.#retryTimers.set(i, timer);
    }
    // Emitted once the timer is armed: a listener that cancels here must find it to clear it.
    if (this.emitter.listenerCount("task:retry") > 0) {
      this.#emit("task:retry", { type: "task:retry", taskId: a.taskId, attempt: a.attempt, error, delayMs, at: this.runtime.now() });
    }
    if (delayMs <= 0 && this.#state[i] === RETRYING) this.#makeReady(i);
  }

  #fail(i: number, error: unknown): void {
    this.#state[i] = FAILED;
    this.#errors[i] = error;
    this.#finishedAt[i] = this.runtime.now();
    this.#open--;
    if (this.#firstError === undefined) this.#firstError = error;
    if (this.emitter.listenerCount("task:failed") > 0) {
      this.#emit("task:failed", { type: "task:failed", taskId: this.#graph.ids[i]!, attempts: this.#attempts[i]!, error, at: this.#finishedAt[i]! });
    }
    if (this.#satisfies(i)) this.#releaseDependents(i);
    else this.#skipDependents(i);
    if (this.#options.failFast) this.#cancelRun("failFast", error);
  }

  #satisfies(i: number): boolean {
    return this.#graph.policies[i]?.satisfy === true;
  }

  #makeReady(i: number): void {
    this.#state[i] = READY;
    this.#queue.push(i);
    if (this.emitter.listenerCount("task:ready") > 0) {
      this.#emit("task:ready", { type: "task:ready", taskId: this.#graph.ids[i]!, at: this.runtime.now() });
    }
  }

  #releaseDependents(i: number): void {
    const out = this.#dependents[i];
    if (out === undefined) return;
    const remaining = this.#remaining;
    const state = this.#state;
    for (let k = 0; k < out.length; k++) {
      const d = out[k]!;
      if (--remaining[d]! === 0 && state[d] === PENDING) this.#makeReady(d);
    }
  }

  /** Skips every pending transitive dependent of `i` (which failed, was cancelled or was skipped). */
  #skipDependents(i: number): void {
    const stack = [i];
    while (stack.length > 0) {
      const j = stack.pop()!;
      const out = this.#dependents[j];
      if (out === undefined) continue;
      for (const d of out) {
        if (this.#state[d] !== PENDING) continue;
        this.#skip(d, j);
        stack.push(d);
      }
    }
  }

  #skip(d: number, because: number): void {
    const ids = this.#graph.ids;
    const error = new DependencyFailedError(ids[d]!, ids[because]!, STATE_NAMES[this.#state[because]!]!, this.#errors[because]);
    this.#state[d] = SKIPPED;
    this.#errors[d] = error;
    this.#finishedAt[d] = this.runtime.now();
    this.#open--;
    if (this.emitter.listenerCount("task:skipped") > 0) {
      this.#emit("task:skipped", { type: "task:skipped", taskId: ids[d]!, error, at: this.#finishedAt[d]! });
    }
  }

  /** Moves a non-terminal task to "cancelled", aborting its running attempt or pending retry. */
  #cancelOne(i: number, error: CancelledError): void {
    const s = this.#state[i]!;
    if (s === RETRYING) {
      const timer = this.#retryTimers.get(i);
      if (timer !== undefined) this.runtime.clearTimer(timer);
      this.#retryTimers.delete(i);
    } else if (s === RUNNING) {
      const a = this.#current[i]!;
      this.#current[i] = undefined;
      a.decided = true;
      this.#abort(a, error);
    }
    this.#state[i] = CANCELLED;
    this.#errors[i] = error;
    this.#finishedAt[i] = this.runtime.now();
    this.#open--;
    if (this.emitter.listenerCount("task:cancelled") > 0) {
      this.#emit("task:cancelled", { type: "task:cancelled", taskId: this.#graph.ids[i]!, error, at: this.#finishedAt[i]! });
    }
  }

  #cancelRun(source: CancelSource, reason: unknown): void {
    if (this.#cancel !== undefined || (this.#phase !== "running" && this.#phase !== "created")) return;
    const why = reason === undefined ? "" : `: ${reason instanceof Error ? reason.message : String(reason)}`;
    const by = { signal: "by its signal", cancel: "by cancel()", cancelTask: "", failFast: "by failFast after a task failed", fault: "by an injected fault" }[source];
    this.#cancel = new CancelledError(`the run of job "${this.#graph.name}" was cancelled ${by}${why}`, source, reason);
    const state = this.#state;
    for (let i = 0; i < state.length; i++) if (state[i]! < SUCCEEDED) this.#cancelOne(i, this.#cancel);
    this.#pump();
  }

  #injectCancel(i: number): boolean {
    const fault = this.#fault("job.cancel", undefined, i);
    if (fault?.kind !== "cancel") return false;
    this.#cancelRun("fault", fault.reason ?? "injected fault at job.cancel");
    return true;
  }

  #fault(point: FaultPoint, a: Attempt | undefined, task = a?.task ?? -1): FaultAction | undefined {
    const action = this.runtime.fault!(point, {
      point,
      jobName: this.#graph.name,
      taskId: task >= 0 ? this.#graph.ids[task] : undefined,
      attempt: a?.attempt ?? (task >= 0 ? this.#attempts[task]! + 1 : undefined),
      nodeId: a?.node.id,
    });
    return action ?? undefined;
  }

  // ---- nodes ----

  #startNode(): void {
    let started: ProviderNode | PromiseLike<ProviderNode>;
    try {
      started = this.#provider.startNode();
    } catch (error) {
      this.#nodeFailed(error);
      return;
    }
    if (!isThenable(started)) {
      this.#useNode(started as ProviderNode);
      return;
    }
    this.#nodeStarting = Promise.resolve(started).then(
      (node) => {
        this.#nodeStarting = undefined;
        if (this.#phase === "running") this.#useNode(node);
        else void this.#stopNode(node);
      },
      (error) => {
        this.#nodeStarting = undefined;
        this.#nodeFailed(error);
      },
    );
  }

  #useNode(node: ProviderNode): void {
    this.#node = node;
    this.#capacity = Math.min(this.#options.concurrency, node.slots);
    this.#pump();
  }

  #replaceNode(): void {
    const lost = this.#node!;
    this.#node = undefined;
    this.#capacity = 0;
    void this.#stopNode(lost);
    if (this.#open > 0) this.#startNode();
  }

  /** No node could be started: every task still waiting fails with that error. */
  #nodeFailed(error: unknown): void {
    if (this.#phase !== "running") return;
    const cause = new NodeLostError("(none)", `provider "${this.#provider.name}" could not start a node: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    const state = this.#state;
    for (let i = 0; i < state.length; i++) if (state[i]! < SUCCEEDED && state[i] !== RUNNING) this.#fail(i, cause);
    this.#pump();
  }

  async #stopNode(node: ProviderNode): Promise<void> {
    try {
      await this.#provider.stopNode(node);
    } catch {
      // A node that fails to stop cannot be helped from here; the run's outcome stands.
    }
  }

  // ---- the end ----

  async #finish(): Promise<void> {
    if (this.#phase !== "running") return;
    this.#phase = "ending";
    if (this.#onCallerAbort !== undefined) this.#options.signal!.removeEventListener("abort", this.#onCallerAbort);
    this.#onCallerAbort = undefined;
    if (this.#nodeStarting !== undefined) await this.#nodeStarting;
    if (this.#node !== undefined) await this.#stopNode(this.#node);
    this.#node = undefined;
    this.#phase = "ended";
    const finishedAt = this.runtime.now();
    const status = this.#jobStatus();
    const result = buildResult({
      job: this.#graph.name,
      status,
      error: status === "cancelled" && this.#cancel !== undefined ? this.#cancel : (this.#firstError ?? this.#firstCancel()),
      ids: this.#graph.ids,
      index: this.#graph.index,
      state: this.#state,
      attempts: this.#attempts,
      outputs: this.#outputs,
      errors: this.#errors,
      startedAt: this.#startedAt,
      finishedAt: this.#finishedAt,
      runStartedAt: this.#startTime,
      runFinishedAt: finishedAt,
    });
    if (this.emitter.listenerCount("job:end") > 0) {
      this.#emit("job:end", { type: "job:end", job: this.#graph.name, status, result, at: finishedAt });
    }
    this.emitter.removeAllListeners();
    this.#resolve(result);
  }

  #jobStatus(): JobStatus {
    if (this.#cancel !== undefined && this.#cancel.source !== "failFast") return "cancelled";
    if (this.#firstError !== undefined || this.#state.includes(FAILED)) return "failed";
    return this.#state.includes(CANCELLED) ? "cancelled" : "succeeded";
  }

  #firstCancel(): unknown {
    const i = this.#state.indexOf(CANCELLED);
    return i < 0 ? undefined : this.#errors[i];
  }

  // ---- helpers ----

  #emitJobStart(): void {
    if (this.emitter.listenerCount("job:start") > 0) {
      this.#emit("job:start", { type: "job:start", job: this.#graph.name, tasks: this.#graph.ids.length, at: this.#startTime });
    }
  }

  /** Emits to listeners; a listener that throws must not break the run, so its error is rethrown on its own. */
  #emit<K extends RunEventName>(name: K, event: RunEvents[K]): void {
    try {
      (this.emitter.emit as (name: K, event: RunEvents[K]) => boolean)(name, event);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  #indexOf(id: unknown, operation: string): number {
    const i = typeof id === "string" ? this.#graph.index.get(id) : undefined;
    if (i === undefined) {
      throw new FlotillaError("E_UNKNOWN_TASK", `${operation}: the run of job "${this.#graph.name}" has no task ${typeof id === "string" ? `"${id}"` : describe(id)}`);
    }
    return i;
  }

  /** After a task is added to a running job: its dependencies may now lead to a longer path or a higher priority. */
  #raiseAncestors(task: number): void {
    let reorder = false;
    const stack = [task];
    while (stack.length > 0) {
      const j = stack.pop()!;
      for (const d of this.#deps[j]!) {
        const r = this.#rank[j]! + 1;
        const p = this.#priority[j]!;
        if (this.#rank[d]! >= r && this.#priority[d]! >= p) continue;
        if (this.#rank[d]! < r) this.#rank[d] = r;
        if (this.#priority[d]! < p) this.#priority[d] = p;
        if (this.#state[d] === READY) reorder = true;
        stack.push(d);
      }
    }
    if (reorder) this.#queue.reorder();
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") && typeof (value as PromiseLike<unknown>).then === "function";
}

/** Sets an own property, also for the id "__proto__". */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function injected(fault: FaultAction & { kind: "fail" }, point: FaultPoint, a: Attempt): unknown {
  return fault.error ?? new Error(`injected fault at ${point} (task "${a.taskId}", attempt ${a.attempt})`);
}
