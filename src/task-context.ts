/** The types a task body sees. */
import type { ProviderNode } from "./provider.ts";

/**
 * What a task body receives.
 *
 * @example
 * job.task("load", { dependsOn: ["transform"] }, async ({ deps, signal, attempt, sleep }) => {
 *   if (attempt > 1) await sleep(1_000);
 *   return save(deps.transform, { signal });
 * });
 */
export interface TaskContext<Deps = Record<string, unknown>> {
  /** The task's id. */
  readonly taskId: string;
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  readonly attempt: number;
  /**
   * Aborted when this attempt must stop: the run or task was cancelled (reason: a CancelledError)
   * or the attempt ran past `timeoutMs` (reason: a TimeoutError). Pass it to everything that waits.
   */
  readonly signal: AbortSignal;
  /** The outputs of the dependencies, by id (typed from the builder). */
  readonly deps: Deps;
  /**
   * Errors of dependencies that failed with `onFailure: "satisfy"`, by id; their entry in `deps`
   * is undefined. Empty when every dependency succeeded.
   */
  readonly failures: Readonly<Record<string, unknown>>;
  /** The node this attempt runs on (`{ id, slots }`), as the run's provider started it. */
  readonly node: ProviderNode;
  /** Waits `ms` milliseconds on the run's clock; rejects with the signal's reason when aborted. */
  sleep(ms: number): Promise<void>;
}

/** A task body: an in-process function of its context. */
export type TaskBody<Deps = Record<string, unknown>, Output = unknown> = (ctx: TaskContext<Deps>) => Output | PromiseLike<Output>;
