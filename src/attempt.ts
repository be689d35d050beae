/**
 * One attempt of a task: the executor's bookkeeping for it (`Attempt`) and the context its body sees
 * (`AttemptContext`). They are two objects so the context holds only the documented members: a body
 * that lists or writes its context's keys cannot see or break the run's state. `signal`, `deps` and
 * `failures` are built on first use, so a body that never reads them costs no AbortController and no
 * object.
 */
import { sleepLabel } from "./trace-labels.ts";
import { execute } from "abort-controller-x";
import { FlotillaError, describe } from "./errors.ts";
import type { Pool } from "./pool.ts";
import type { ProviderNode } from "./provider.ts";
import type { Runtime, TimerHandle } from "./runtime.ts";
import type { OutputStream, TaskContext } from "./task-context.ts";

/** What an attempt asks of the run it belongs to. */
export interface AttemptHost {
  readonly runtime: Runtime;
  /** True when the runtime explores schedules: timers then carry labels for its traces. */
  readonly controlled: boolean;
  depsOf(task: number): Record<string, unknown>;
  failuresOf(task: number): Record<string, unknown>;
  /** A line of output from attempt `a` (emitted as `task:output`). */
  output(a: Attempt, line: string, stream: OutputStream): void;
  /** User code called with the abort (an `onAbort` listener) threw: reported, never thrown into the run. */
  callbackFailed(error: unknown): void;
  /** Attempt `a`, queued on its node (`ProviderNode.prefetch`), began to run (`ctx.started()`). */
  began(a: Attempt): void;
}

/** Attempts aborted together, whose graces one timer ends (see AttemptRunner.abort). */
export interface GraceBatch {
  readonly attempts: Attempt[];
  /** How many of them still hold their slot; at 0 the timer is cleared. */
  left: number;
  timer: TimerHandle | undefined;
}

const NOT_ABORTED = Symbol("not aborted");
const NOTHING_TO_REMOVE = () => {};

/** The executor's record of one attempt. Never handed to user code (that gets `ctx`). */
export class Attempt {
  readonly taskId: string;
  readonly attempt: number;
  /** The task's index in the run. */
  readonly task: number;
  /** The node it runs on. */
  readonly node: ProviderNode;
  /** What the body (and the provider) sees. */
  readonly ctx: AttemptContext;
  /** The pool it runs in, and its node's position there (set by the executor at dispatch). */
  pool!: Pool;
  keeper = 0;
  /** Slots of its node it holds (its task's `slots`). */
  slots = 1;
  /** The armed timer: the timeout while it runs, the grace period once aborted. */
  timer: TimerHandle | undefined = undefined;
  /** The task's outcome for this attempt is recorded (settled, timed out or cancelled). */
  decided = false;
  /** The slot is free again (the body settled, or was abandoned). */
  released = false;
  /**
   * Placed on a node that queues attempts (`ProviderNode.prefetch`) and not yet begun: no `task:start`
   * and no timeout until its provider calls `ctx.started()` or it settles.
   */
  queued = false;
  /** Aborted while holding its slot (the executor tracks these apart). */
  windingDown = false;
  /** Once aborted under the real runtime: the burst of aborts whose grace timer it shares (see AttemptRunner.abort). */
  grace: GraceBatch | undefined = undefined;
  /** Runs once the slot is free (a retry of the same task waiting for this attempt to end). */
  onReleased: (() => void) | undefined = undefined;
  /**
   * Its place in the sequence of attempts placed on its node position (`Pool.placements`), negated
   * when the node already held another attempt: with the position's count unchanged and this positive,
   * the attempt had the node to itself.
   */
  placement = 0;
  /** How many `sleep` calls the body made (each gets its own trace label). */
  sleeps = 0;

  readonly host: AttemptHost;
  #controller: AbortController | undefined = undefined;
  #abortReason: unknown = NOT_ABORTED;
  #hookSignal: AbortHook | undefined = undefined;
  #deps: Record<string, unknown> | undefined = undefined;
  #failures: Record<string, unknown> | undefined = undefined;

  constructor(host: AttemptHost, task: number, taskId: string, attempt: number, node: ProviderNode) {
    this.host = host;
    this.task = task;
    this.taskId = taskId;
    this.attempt = attempt;
    this.node = node;
    this.ctx = new AttemptContext(this);
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#abortReason !== NOT_ABORTED) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  get deps(): Record<string, unknown> {
    return (this.#deps ??= this.host.depsOf(this.task));
  }

  get failures(): Record<string, unknown> {
    return (this.#failures ??= this.host.failuresOf(this.task));
  }

  sleep(ms: number): Promise<void> {
    if (!(typeof ms === "number" && ms >= 0 && ms <= Number.MAX_SAFE_INTEGER)) {
      return Promise.reject(
        new FlotillaError("E_INVALID_OPTION", `task "${this.taskId}": sleep(ms) needs a number of milliseconds >= 0, received ${describe(ms)}`),
      );
    }
    const runtime = this.host.runtime;
    // Each call its own label, so a trace tells which `await` of the body raced.
    const label = this.host.controlled ? sleepLabel(this.taskId, this.attempt, ++this.sleeps) : undefined;
    // A real AbortSignal costs an AbortController; until the body asks for `signal`, sleep listens
    // on the attempt's own lightweight abort hook instead.
    return execute<void>(this.#controller?.signal ?? this.#hook(), (resolve) => {
      const timer = runtime.setTimer(ms, () => resolve(), label);
      return () => runtime.clearTimer(timer);
    });
  }

  onAbort(listener: (reason: unknown) => void): () => void {
    if (this.#abortReason !== NOT_ABORTED) {
      listener(this.#abortReason);
      return NOTHING_TO_REMOVE;
    }
    const hook = this.#hook();
    const call = () => listener(hook.reason);
    hook.addEventListener("abort", call);
    return () => hook.removeEventListener("abort", call);
  }

  /**
   * Aborts the signal with `reason` (now, or when the body first reads `signal`). A listener that
   * throws is reported through the host; the others still hear the abort.
   */
  abort(reason: unknown): void {
    if (this.#abortReason !== NOT_ABORTED) return;
    this.#abortReason = reason;
    // AbortSignal reports its listeners' errors itself (as uncaught), without stopping the others.
    this.#controller?.abort(reason);
    this.#hookSignal?.fire(reason, this.host);
  }

  /** The part of AbortSignal that abort-controller-x's `execute` uses, without an AbortController. */
  #hook(): AbortSignal {
    if (this.#hookSignal === undefined) {
      this.#hookSignal = new AbortHook();
      if (this.#abortReason !== NOT_ABORTED) this.#hookSignal.fire(this.#abortReason, this.host);
    }
    return this.#hookSignal as unknown as AbortSignal;
  }
}

/**
 * The `TaskContext` a body receives: the documented members only, as accessors on the prototype, so
 * `Object.keys(ctx)` is empty and an assignment to a member changes nothing the run reads.
 */
export class AttemptContext implements TaskContext<Record<string, unknown>> {
  readonly #a: Attempt;

  constructor(attempt: Attempt) {
    this.#a = attempt;
  }

  get taskId(): string {
    return this.#a.taskId;
  }

  get attempt(): number {
    return this.#a.attempt;
  }

  get node(): ProviderNode {
    return this.#a.node;
  }

  get signal(): AbortSignal {
    return this.#a.signal;
  }

  get deps(): Record<string, unknown> {
    return this.#a.deps;
  }

  get failures(): Record<string, unknown> {
    return this.#a.failures;
  }

  // Getters that return functions, so `({ sleep, onAbort, log }) => ...` works; a closure is only
  // made for bodies that ask.
  get sleep(): (ms: number) => Promise<void> {
    const a = this.#a;
    return (ms) => a.sleep(ms);
  }

  get onAbort(): (listener: (reason: unknown) => void) => () => void {
    const a = this.#a;
    return (listener) => a.onAbort(listener);
  }

  get log(): (line: string, stream?: OutputStream) => void {
    const a = this.#a;
    return (line, stream = "log") => a.host.output(a, line, stream);
  }

  get started(): () => void {
    const a = this.#a;
    return () => a.host.began(a);
  }
}

/** A minimal abort signal: enough for `execute` (aborted, reason, add/removeEventListener). */
class AbortHook {
  aborted = false;
  reason: unknown = undefined;
  #listeners: (() => void)[] = [];

  addEventListener(_type: string, listener: () => void): void {
    this.#listeners.push(listener);
  }

  removeEventListener(_type: string, listener: () => void): void {
    const i = this.#listeners.indexOf(listener);
    if (i >= 0) this.#listeners.splice(i, 1);
  }

  /** Calls every listener, each in its own try: one that throws is reported and the rest still run. */
  fire(reason: unknown, host: AttemptHost): void {
    this.aborted = true;
    this.reason = reason;
    const listeners = this.#listeners;
    this.#listeners = [];
    for (const listener of listeners) {
      try {
        listener();
      } catch (error) {
        host.callbackFailed(error);
      }
    }
  }
}
