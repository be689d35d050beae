/** `run` and `start`: the entry points, and the handle a running job is steered through. */
import { FlotillaError, describe } from "./errors.ts";
import { RUN_EVENT_NAMES, type RunEvent, type RunEventName, type RunEvents } from "./events.ts";
import { Executor } from "./executor.ts";
import { graphOf, type Job } from "./job.ts";
import type { JobStatus, RunResult } from "./result.ts";
import { resolveRunOptions, type RunOptions } from "./run-options.ts";
import type { TaskBody, TaskSpec } from "./task-context.ts";
import type { SatisfyOptions, TaskOptions } from "./task-options.ts";
import { closest } from "./validation.ts";

type Listener<K extends RunEventName> = (event: RunEvents[K]) => void;
type DepsOf<Outputs, D extends keyof Outputs> = { readonly [K in D]: Outputs[K] };

/**
 * A running job: its events, its result, and the ways to steer it.
 *
 * @example
 * const handle = start(job, { concurrency: 4 });
 * handle.on("task:failed", (e) => console.error(e.taskId, e.error));
 * stopButton.onclick = () => handle.cancel("user pressed stop");
 * const result = await handle.result;
 */
/** Makes a handle (the constructor is private: see there). */
let newHandle: (exec: Executor | undefined, refusal?: unknown) => RunHandle<any>;

export class RunHandle<Outputs extends Record<string, unknown> = Record<string, unknown>> implements AsyncIterable<RunEvent> {
  /** Resolves when the run settles (also when it failed or was cancelled); rejects only when the job or options are invalid. */
  readonly result: Promise<RunResult<Outputs>>;
  readonly #exec: Executor | undefined;
  readonly #refusal: unknown;

  // Private, so the public declarations name none of the engine's types: `start()` makes handles.
  private constructor(exec: Executor | undefined, refusal?: unknown) {
    this.#exec = exec;
    this.#refusal = refusal;
    this.result = exec !== undefined ? exec.result : Promise.reject(refusal);
    // A refused run reports through `result` and the event iterator; a caller that only iterates
    // (and catches there) must not also get an unhandled rejection.
    if (exec === undefined) this.result.catch(() => {});
  }

  static {
    newHandle = (exec, refusal) => new RunHandle(exec, refusal);
  }

  /** "running" until the run settles, then its final status. "failed" for a run that was refused. */
  get status(): "running" | JobStatus {
    return this.#exec?.status ?? "failed";
  }

  /**
   * Listens to an event. Listeners observe; they never change scheduling. A listener that throws
   * does not stop the run or the other listeners (each hears every event); its error surfaces once,
   * as an unhandled promise rejection.
   */
  on<K extends RunEventName>(event: K, listener: Listener<K>): this {
    checkListener("on", event, listener);
    this.#exec?.listen(event, listener as never, false);
    return this;
  }

  /** Listens to the next occurrence of an event only (a throwing listener is handled as with `on`). */
  once<K extends RunEventName>(event: K, listener: Listener<K>): this {
    checkListener("once", event, listener);
    this.#exec?.listen(event, listener as never, true);
    return this;
  }

  /** Removes a listener added with `on` or `once`. */
  off<K extends RunEventName>(event: K, listener: Listener<K>): this {
    checkListener("off", event, listener);
    this.#exec?.unlisten(event, listener as never);
    return this;
  }

  /**
   * Cancels the whole run: running attempts are aborted through their signals, everything not yet
   * finished ends "cancelled", and the run settles with status "cancelled". Harmless when repeated or
   * after the end.
   */
  cancel(reason?: unknown): void {
    this.#exec?.cancel(reason);
  }

  /**
   * Cancels one task (aborting its running attempt) and skips what depends on it; the rest goes on.
   * Returns false when the task had already finished. Throws E_UNKNOWN_TASK for an id the run lacks.
   */
  cancelTask(id: keyof Outputs & string, reason?: unknown): boolean;
  cancelTask(id: string, reason?: unknown): boolean;
  cancelTask(id: string, reason?: unknown): boolean {
    return this.#exec?.cancelTask(id, reason) ?? false;
  }

  /**
   * Adds a task to the running job (not to the Job object, which stays as it was). Its dependencies
   * must already be in the run. Throws E_DUPLICATE_TASK, E_INVALID_OPTION, E_UNKNOWN_DEPENDENCY,
   * E_CYCLE, or E_RUN_ENDED once the run is over or cancelled.
   */
  addTask<Id extends string, R, D extends keyof Outputs & string = never>(
    id: Id,
    options: SatisfyOptions<D>,
    body: TaskBody<DepsOf<Outputs, D>, R>,
  ): RunHandle<Outputs & { [K in Id]: Awaited<R> | undefined }>;
  addTask<Id extends string, R, D extends keyof Outputs & string = never>(
    id: Id,
    options: SatisfyOptions<D>,
    body: TaskSpec<R>,
  ): RunHandle<Outputs & { [K in Id]: R | undefined }>;
  addTask<Id extends string, R>(id: Id, body: TaskBody<{}, R>): RunHandle<Outputs & { [K in Id]: Awaited<R> }>;
  addTask<Id extends string, R>(id: Id, body: TaskSpec<R>): RunHandle<Outputs & { [K in Id]: R }>;
  addTask<Id extends string, R, D extends keyof Outputs & string = never>(
    id: Id,
    options: TaskOptions<D>,
    body: TaskBody<DepsOf<Outputs, D>, R>,
  ): RunHandle<Outputs & { [K in Id]: Awaited<R> }>;
  addTask<Id extends string, R, D extends keyof Outputs & string = never>(
    id: Id,
    options: TaskOptions<D>,
    body: TaskSpec<R>,
  ): RunHandle<Outputs & { [K in Id]: R }>;
  addTask(id: string, optionsOrBody: unknown, body?: unknown): RunHandle<any> {
    if (this.#exec === undefined) throw new FlotillaError("E_RUN_ENDED", `cannot add task "${id}": the run was refused`, { cause: this.#refusal });
    this.#exec.addTask(id, optionsOrBody, body);
    return this;
  }

  /** Every event from now until `job:end`, in order. Breaking out of the loop stops listening. */
  [Symbol.asyncIterator](): AsyncIterableIterator<RunEvent> {
    const exec = this.#exec;
    const buffer: RunEvent[] = [];
    let head = 0;
    let ended = exec === undefined || exec.status !== "running";
    let wake: (() => void) | undefined;
    const listener = (event: RunEvent): void => {
      buffer.push(event);
      if (event.type === "job:end") stop();
      wake?.();
      wake = undefined;
    };
    const stop = (): void => {
      ended = true;
      for (const name of RUN_EVENT_NAMES) exec?.emitter.off(name, listener as never);
    };
    if (!ended) {
      exec!.listened();
      for (const name of RUN_EVENT_NAMES) exec!.emitter.on(name, listener as never);
    }
    const refusal = this.#refusal;
    return {
      async next(): Promise<IteratorResult<RunEvent>> {
        if (exec === undefined) throw refusal;
        while (head === buffer.length) {
          if (ended) return { done: true, value: undefined };
          await new Promise<void>((resolve) => (wake = resolve));
        }
        const value = buffer[head]!;
        buffer[head++] = undefined as never;
        return { done: false, value };
      },
      async return(): Promise<IteratorResult<RunEvent>> {
        stop();
        head = buffer.length;
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }
}

function checkListener(method: string, event: unknown, listener: unknown): void {
  if (!RUN_EVENT_NAMES.includes(event as RunEventName)) {
    const hint = typeof event === "string" ? closest(event, RUN_EVENT_NAMES) : undefined;
    throw new FlotillaError(
      "E_INVALID_OPTION",
      `handle.${method}(event, listener): unknown event ${describe(event)}${hint ? ` (did you mean "${hint}"?)` : ""}; events: ${RUN_EVENT_NAMES.join(", ")}`,
    );
  }
  if (typeof listener !== "function") {
    throw new FlotillaError(
      "E_INVALID_OPTION",
      `handle.${method}("${event as string}", listener): the listener must be a function, received ${describe(listener)}`,
    );
  }
}

/**
 * Starts a run and returns its handle at once. The run begins on the next microtask, so listeners
 * added right after `start` see every event. An invalid job or option makes `handle.result` reject.
 */
export function start<Outputs extends Record<string, unknown>>(job: Job<Outputs>, options?: RunOptions): RunHandle<Outputs> {
  let exec: Executor;
  try {
    const graph = graphOf(job);
    if (graph === undefined) throw new FlotillaError("E_INVALID_OPTION", `run(job): job must be a Job, received ${describe(job)}`);
    exec = new Executor(graph, resolveRunOptions(graph.name, options));
  } catch (error) {
    return newHandle(undefined, error);
  }
  queueMicrotask(() => exec.begin());
  return newHandle(exec);
}

/**
 * Runs a job to the end. Resolves with the result whether the job succeeded, failed or was cancelled;
 * rejects with E_UNKNOWN_DEPENDENCY, E_CYCLE or E_INVALID_OPTION when the job or options are invalid.
 *
 * @example
 * const result = await run(job, { concurrency: 8, signal });
 * if (result.status !== "succeeded") console.error(result.error);
 */
export function run<Outputs extends Record<string, unknown>>(job: Job<Outputs>, options?: RunOptions): Promise<RunResult<Outputs>> {
  return start(job, options).result;
}
