/** The types a task body sees. */
import type { ProviderNode } from "./provider-node.ts";

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
  readonly failures: { readonly [K in keyof Deps]?: unknown };
  /** The node this attempt runs on (`{ id, slots }`), as the run's provider started it. */
  readonly node: ProviderNode;
  /** Waits `ms` milliseconds on the run's clock; rejects with the signal's reason when aborted. */
  sleep(ms: number): Promise<void>;
  /**
   * Calls `listener` with the abort reason when this attempt is aborted (at once if it already was);
   * returns a function that removes it. The same moment as `signal`'s abort event, without building
   * an AbortController: providers use it to forward cancellation cheaply.
   */
  onAbort(listener: (reason: unknown) => void): () => void;
  /**
   * Reports a line of output as a `task:output` event (`stream` "log" unless given). Providers use it
   * for a command's stdout and stderr lines; bodies may use it for progress. Free when nobody listens.
   */
  log(line: string, stream?: OutputStream): void;
  /**
   * For providers whose nodes queue attempts (`ProviderNode.prefetch`): this attempt left the node's
   * queue and runs now, so its `task:start` is emitted and its timeout starts. An attempt that ends
   * without the call is started as it ends. A no-op on other nodes, and after the first call.
   * (Optional so a context built by hand, in a provider's own tests, needs no such member: call it
   * as `ctx.started?.()`.)
   */
  started?(): void;
}

/** Where a `task:output` line came from. */
export type OutputStream = "log" | "stdout" | "stderr";

declare const OUTPUT: unique symbol;

/**
 * A task body that is not a function but a portable description a provider knows how to run: a
 * module export for a worker thread (`workerTask`), a command line for a child process (`command`).
 * A pool's provider lists the kinds it runs (`ComputeProvider.kinds`).
 */
export interface TaskSpec<Output = unknown> {
  /** Which providers can run it. */
  readonly kind: string;
  /** Type-only: the output its task produces (never set at run time). */
  readonly [OUTPUT]?: Output;
}

/** A task body: an in-process function of its context. */
export type TaskBody<Deps = Record<string, unknown>, Output = unknown> = (ctx: TaskContext<Deps>) => Output | PromiseLike<Output>;
