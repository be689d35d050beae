/** What a run resolves to. */
import type { PoolRunStats } from "./pool-stats.ts";
import type { ChromeTrace } from "./trace/chrome-trace.ts";

/** Final state of a job. */
export type JobStatus = "succeeded" | "failed" | "cancelled";
/** Final state of a task. */
export type TaskStatus = "succeeded" | "failed" | "cancelled" | "skipped";

/** The outcome of one task. */
export interface TaskResult<Output = unknown> {
  readonly status: TaskStatus;
  /**
   * Attempts placed on a node (0 when the task never ran). On a node that queues attempts
   * (`ProviderNode.prefetch`), one that moved or was requeued before it began counts too.
   */
  readonly attempts: number;
  /** The body's return value when `status` is "succeeded". */
  readonly output: Output | undefined;
  /** Why it did not succeed: the body's error, a TimeoutError, a CancelledError or a DependencyFailedError. */
  readonly error: unknown;
  /** Runtime clock when the first attempt started (undefined when it never ran). */
  readonly startedAt: number | undefined;
  /** Runtime clock when the task reached its final state. */
  readonly finishedAt: number | undefined;
  /** True when the task succeeded in an earlier run and was restored from the run's journal (its times are this run's start). */
  readonly restored?: true;
}

/** Task outcomes by id: a read-only Map, typed from the job. */
export interface TaskResults<Outputs> extends ReadonlyMap<string, TaskResult> {
  get<K extends keyof Outputs & string>(id: K): TaskResult<Outputs[K]>;
  get(id: string): TaskResult | undefined;
}

export interface RunResult<Outputs = Record<string, unknown>> {
  readonly job: string;
  /** "succeeded" when every task succeeded; "cancelled" when the run (or, with no failure, a task) was cancelled; otherwise "failed". */
  readonly status: JobStatus;
  readonly tasks: TaskResults<Outputs>;
  /** Why the run did not succeed: the first final task error, or the run's CancelledError. */
  readonly error: unknown;
  readonly counts: { readonly succeeded: number; readonly failed: number; readonly cancelled: number; readonly skipped: number };
  /** Runtime clock at start and end, and the difference. */
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly durationMs: number;
  /**
   * What each of the run's pools did while the run used it: `{ peakNodes, nodeSeconds, cost,
   * preemptions, startFailures, utilization }`, by the name the run gave the pool. For a pool shared
   * with other runs, these are the pool's figures over the run's life (not the run's share).
   */
  readonly pools: Readonly<Record<string, PoolRunStats>>;
  /**
   * The run as Chrome trace-event / Perfetto JSON (`JSON.stringify` it to a `.json` file; `htmlReport`
   * from flotilla/report makes a timeline page of it). Only with the run option `trace: true`.
   */
  readonly trace?: ChromeTrace;
  /** The output of a task, or undefined when it did not succeed. */
  output<K extends keyof Outputs & string>(id: K): Outputs[K] | undefined;
  /**
   * What `JSON.stringify(result)` writes: every field, `tasks` as an object by id, errors as
   * `{ name, code, message }`. (`console.log(result)` shows the tasks as a Map.)
   */
  toJSON(): Record<string, unknown>;
}
