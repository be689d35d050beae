/**
 * Every cloud API call of a `cloudVm()` provider (create, delete, list) goes through one queue: at most
 * `maxConcurrentCalls` in flight, optionally spaced by `rateLimit`, and retried as retry-policy.ts says.
 *
 * The queue is p-queue, used for its concurrency limit (and, when asked, its interval cap). Every wait
 * of our own (a retry's delay) is a timer of the pool's runtime, so a provider without `rateLimit`
 * runs under `explore()` and `virtualRuntime()`, where retries after throttling take no real time.
 *
 * A call's `signal` takes it out of the queue while it waits there, and ends a retry's wait; a call
 * already running is not left behind (its driver got the same signal and answers soon), because a
 * create that is forgotten while it runs could make a VM nobody deletes.
 */
import PQueue from "p-queue";
import { wait } from "../../src/provider-kit/index.ts";
import type { Runtime } from "../../src/runtime.ts";
import type { ResolvedOptions } from "./options.ts";
import { retryDelay, type RetryCount, type RetryOptions } from "./retry-policy.ts";

/** How one call is made. */
export interface CallOptions {
  /** The pool's runtime: its timers for retry delays, its random numbers for jitter. */
  readonly runtime: Runtime;
  /** Takes the call out of the queue (and out of a retry's wait) when aborted. */
  readonly signal?: AbortSignal | undefined;
  /** Whether a transient API error (E_VM_API) is retried here. @default true */
  readonly retryApiErrors?: boolean;
  /** Retries already spent by this operation (a create tried again after reconciliation goes on counting). */
  readonly count?: RetryCount;
}

export class ApiCalls {
  readonly #queue: PQueue;
  readonly #retry: RetryOptions;

  constructor(options: ResolvedOptions<unknown>) {
    const { maxConcurrentCalls, rateLimit } = options;
    this.#queue = new PQueue(
      rateLimit === undefined
        ? { concurrency: maxConcurrentCalls }
        : { concurrency: maxConcurrentCalls, interval: rateLimit.intervalMs, intervalCap: rateLimit.callsPerInterval },
    );
    this.#retry = options;
  }

  /** Calls in flight and waiting (for tests and diagnostics). */
  get pending(): number {
    return this.#queue.pending + this.#queue.size;
  }

  /** Runs `call` through the queue, retried after throttling (and transient errors, unless told not to). */
  async run<T>(call: () => PromiseLike<T>, options: CallOptions): Promise<T> {
    const { runtime, signal } = options;
    const count = options.count ?? { throttled: 0, api: 0 };
    for (;;) {
      signal?.throwIfAborted();
      try {
        return await this.#once(call, signal);
      } catch (error) {
        const delay = retryDelay(error, count, this.#retry, () => runtime.random(), options.retryApiErrors ?? true);
        if (delay === undefined) throw error;
        await wait(runtime, delay, signal);
      }
    }
  }

  /** One try: queued, then run to its end even when `signal` aborts meanwhile (see the file's comment). */
  #once<T>(call: () => PromiseLike<T>, signal: AbortSignal | undefined): Promise<T> {
    if (signal === undefined) return this.#queue.add(() => call());
    // p-queue's own signal would also abandon a running call: this one aborts only while it waits.
    const queued = new AbortController();
    let started = false;
    const onAbort = () => {
      if (!started) queued.abort(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    return this.#queue
      .add(
        () => {
          started = true;
          return call();
        },
        { signal: queued.signal },
      )
      .finally(() => signal.removeEventListener("abort", onAbort));
  }
}
