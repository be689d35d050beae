/**
 * One attempt of a task. The same object is the `TaskContext` its body receives: `signal`, `deps`
 * and `failures` are built on first use, so a body that never reads them costs no AbortController and
 * no object. The executor keeps its bookkeeping for the attempt (timers, whether the outcome is
 * decided, whether the slot is released) on the object too; none of it is part of the public type.
 */
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
}

const NOT_ABORTED = Symbol("not aborted");
const NOTHING_TO_REMOVE = () => {};

export class Attempt implements TaskContext<Record<string, unknown>> {
  readonly taskId: string;
  readonly attempt: number;
  /** @internal The task's index in the run. */
  readonly task: number;
  /** @internal The node it runs on. */
  readonly node: ProviderNode;
  /** @internal The pool it runs in, and its node's position there (set by the executor at dispatch). */
  pool!: Pool;
  keeper = 0;
  /** @internal The armed timer: the timeout while it runs, the grace period once aborted. */
  timer: TimerHandle | undefined = undefined;
  /** @internal The task's outcome for this attempt is recorded (settled, timed out or cancelled). */
  decided = false;
  /** @internal The slot is free again (the body settled, or was abandoned). */
  released = false;
  /** @internal Aborted while holding its slot (the executor tracks these apart). */
  windingDown = false;

  readonly #host: AttemptHost;
  #controller: AbortController | undefined = undefined;
  #abortReason: unknown = NOT_ABORTED;
  #deps: Record<string, unknown> | undefined = undefined;
  #failures: Record<string, unknown> | undefined = undefined;

  constructor(host: AttemptHost, task: number, taskId: string, attempt: number, node: ProviderNode) {
    this.#host = host;
    this.task = task;
    this.taskId = taskId;
    this.attempt = attempt;
    this.node = node;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#abortReason !== NOT_ABORTED) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  get deps(): Record<string, unknown> {
    return (this.#deps ??= this.#host.depsOf(this.task));
  }

  get failures(): Record<string, unknown> {
    return (this.#failures ??= this.#host.failuresOf(this.task));
  }

  // A getter, so `({ sleep }) => sleep(10)` works; the closure is only made for bodies that ask.
  get sleep(): (ms: number) => Promise<void> {
    return (ms) => this.#sleep(ms);
  }

  #sleep(ms: number): Promise<void> {
    if (!(typeof ms === "number" && ms >= 0 && ms <= Number.MAX_SAFE_INTEGER)) {
      return Promise.reject(
        new FlotillaError("E_INVALID_OPTION", `task "${this.taskId}": sleep(ms) needs a number of milliseconds >= 0, received ${describe(ms)}`),
      );
    }
    const runtime = this.#host.runtime;
    // A real AbortSignal costs an AbortController; until the body asks for `signal`, sleep listens
    // on the attempt's own lightweight abort hook instead.
    return execute<void>(this.#controller?.signal ?? this.#hook(), (resolve) => {
      const timer = runtime.setTimer(ms, () => resolve(), this.#host.controlled ? `sleep ${this.taskId}#${this.attempt}` : undefined);
      return () => runtime.clearTimer(timer);
    });
  }

  // Getters like `sleep`, so `({ onAbort, log }) => ...` works.
  get onAbort(): (listener: (reason: unknown) => void) => () => void {
    return (listener) => this.#onAbort(listener);
  }

  #onAbort(listener: (reason: unknown) => void): () => void {
    if (this.#abortReason !== NOT_ABORTED) {
      listener(this.#abortReason);
      return NOTHING_TO_REMOVE;
    }
    const hook = this.#hook();
    const call = () => listener(hook.reason);
    hook.addEventListener("abort", call);
    return () => hook.removeEventListener("abort", call);
  }

  get log(): (line: string, stream?: OutputStream) => void {
    return (line, stream = "log") => this.#host.output(this, line, stream);
  }

  /** @internal Aborts the signal with `reason` (now, or when the body first reads `signal`). */
  abort(reason: unknown): void {
    if (this.#abortReason !== NOT_ABORTED) return;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
    this.#hookSignal?.fire(reason);
  }

  #hookSignal: AbortHook | undefined = undefined;

  /** The part of AbortSignal that abort-controller-x's `execute` uses, without an AbortController. */
  #hook(): AbortSignal {
    if (this.#hookSignal === undefined) {
      this.#hookSignal = new AbortHook();
      if (this.#abortReason !== NOT_ABORTED) this.#hookSignal.fire(this.#abortReason);
    }
    return this.#hookSignal as unknown as AbortSignal;
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

  fire(reason: unknown): void {
    this.aborted = true;
    this.reason = reason;
    const listeners = this.#listeners;
    this.#listeners = [];
    for (const listener of listeners) listener();
  }
}
