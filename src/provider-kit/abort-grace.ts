/** `AbortGrace`: an attempt's abort, passed on to its work, then forced after a grace period. */
import { realRuntime, type Runtime, type TimerHandle } from "../runtime.ts";
import type { TaskContext } from "../task-context.ts";

/** The timers a grace is armed on: the run's `Runtime` has them (`realRuntime` by default). */
export type GraceTimers = Pick<Runtime, "setTimer" | "clearTimer">;

/**
 * What an `AbortGrace` does, and when.
 *
 * @example
 * { graceMs: 500, stop: () => group.signal("SIGTERM"), escalate: () => group.signal("SIGKILL") }
 */
export interface AbortGraceOptions {
  /**
   * Milliseconds between `stop` and `escalate`. Bounds: >= 0. Not checked here, where it is read once
   * per attempt: check it once, with the provider's options, naming the option.
   */
  readonly graceMs: number;
  /**
   * Asks the work to stop, gently: post an abort to a thread, SIGTERM to a process group, revoke a
   * remote job. Called at most once, with the attempt's abort reason (or what `stopNow` was given).
   * It may settle the attempt at once (work that had not started): release the grace then, and no
   * grace period runs.
   */
  readonly stop: (reason: unknown) => void;
  /**
   * The grace period ran out and the grace was not released: force the work to end (terminate the
   * thread, SIGKILL the group). May call `restart()` to give the work another full grace instead.
   */
  readonly escalate: () => void;
  /** Where the grace period's one timer is armed. @default realRuntime (real timers) */
  readonly timers?: GraceTimers;
}

/**
 * Cancellation for one attempt of a provider: listens for the attempt's abort (`watch(ctx)`, through
 * `ctx.onAbort`, which costs no AbortController), asks the work to stop, and escalates if it has not
 * ended `graceMs` later. It holds one listener and at most one timer, and lets go of both on
 * `release()`: call it when the attempt settles (`outcome.onSettle(() => grace.release())`) or when
 * the work is known to have ended (a process exited).
 *
 * @example
 * const grace = new AbortGrace({ graceMs, stop: () => job.revoke(), escalate: () => job.kill() }).watch(ctx);
 * outcome.onSettle(() => grace.release());
 */
export class AbortGrace {
  readonly #options: AbortGraceOptions;
  readonly #timers: GraceTimers;
  #timer: TimerHandle = undefined;
  #armed = false;
  #unlisten: (() => void) | undefined = undefined;
  #aborted = false;
  #reason: unknown = undefined;
  #stopping = false;
  #released = false;

  constructor(options: AbortGraceOptions) {
    this.#options = options;
    this.#timers = options.timers ?? realRuntime;
  }

  /**
   * Starts listening for the attempt's abort. An attempt aborted already is heard at once (`stop` runs
   * before `watch` returns). Call it once, after the work is in place for `stop` to act on.
   */
  watch(ctx: Pick<TaskContext<any>, "onAbort">): this {
    if (this.#released) return this;
    const unlisten = ctx.onAbort((reason) => this.#heard(reason));
    if (this.#released)
      unlisten(); // the abort came at once and settled the attempt
    else this.#unlisten = unlisten;
    return this;
  }

  /** Whether the attempt's abort was heard. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** The abort's reason, once `aborted`. */
  get reason(): unknown {
    return this.#reason;
  }

  /** Whether `stop` was called (for an abort, or through `stopNow`). */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** Whether `release` was called. */
  get released(): boolean {
    return this.#released;
  }

  /**
   * Stops the work now, for a reason of the provider's own (an output cap, a quota): `stop(reason)`,
   * then the grace period. Nothing happens if it is stopping already or released. A later abort is
   * still recorded (`aborted`, `reason`) but asks for no second stop.
   */
  stopNow(reason?: unknown): void {
    if (this.#stopping || this.#released) return;
    this.#stop(reason);
  }

  /** Gives the work a full grace period again from now (when it is stopping and not released). */
  restart(): void {
    if (!this.#stopping || this.#released) return;
    this.#clearTimer();
    this.#arm();
  }

  /** The attempt ended: stop listening and drop the timer. Later calls do nothing. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#clearTimer();
    const unlisten = this.#unlisten;
    this.#unlisten = undefined;
    unlisten?.();
  }

  #heard(reason: unknown): void {
    if (this.#aborted || this.#released) return;
    this.#aborted = true;
    this.#reason = reason;
    if (!this.#stopping) this.#stop(reason);
  }

  #stop(reason: unknown): void {
    this.#stopping = true;
    // Armed first: if `stop` throws, the work is still forced when the grace runs out; if it settles
    // the attempt, its release clears the timer.
    this.#arm();
    this.#options.stop(reason);
  }

  #arm(): void {
    this.#armed = true;
    this.#timer = this.#timers.setTimer(this.#options.graceMs, () => this.#expired());
  }

  #expired(): void {
    this.#armed = false;
    this.#timer = undefined;
    if (!this.#released) this.#options.escalate();
  }

  #clearTimer(): void {
    if (!this.#armed) return;
    this.#armed = false;
    this.#timers.clearTimer(this.#timer);
    this.#timer = undefined;
  }
}
