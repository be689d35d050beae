/**
 * The shape of a run's trace: the JSON Object Format of Chrome's Trace Event Format, which Perfetto UI
 * (ui.perfetto.dev) and chrome://tracing open as is. Times are microseconds from the run's start.
 *
 * Layout: process 1 is the job (one thread, "run", holding the job's span); every pool is a process of
 * its own, with "nodes" threads (node lifetimes, one row per node alive at once) and one thread per lane
 * of a node ("node-3 slot 1"), where each attempt is a complete event. Task-level marks (retries,
 * requeues, cancellations, restored tasks) are instant events; `otherData` carries what has no place on
 * a timeline (every task's final status, including skipped tasks that never ran).
 */

/** How an attempt ended. `running`: the trace was taken before the attempt ended. */
export type AttemptOutcome = "succeeded" | "failed" | "retry" | "requeued" | "cancelled" | "abandoned" | "timeout" | "running";

/** Every outcome, in the order summaries list them. */
export const ATTEMPT_OUTCOMES: readonly AttemptOutcome[] = ["succeeded", "failed", "retry", "timeout", "requeued", "cancelled", "abandoned", "running"];

/** A task's state in the trace: its final one once the run ended. */
export type TaskTraceStatus = "pending" | "ready" | "running" | "retrying" | "succeeded" | "failed" | "cancelled" | "skipped";

/** The `cat` of every event the recorder writes: what the event is about. */
export type TraceCategory = "job" | "attempt" | "node" | "task" | "pool";

/** A process or thread name, or its place among its siblings (lower first). */
export interface TraceMetadata {
  readonly ph: "M";
  readonly name: "process_name" | "thread_name" | "process_sort_index" | "thread_sort_index";
  readonly pid: number;
  readonly tid: number;
  readonly ts: 0;
  readonly args: { readonly name: string } | { readonly sort_index: number };
}

interface SpanBase {
  readonly ph: "X";
  readonly name: string;
  readonly pid: number;
  readonly tid: number;
  /** Start, in microseconds from the run's start. */
  readonly ts: number;
  /** Duration in microseconds. */
  readonly dur: number;
}

/** One attempt of a task on one lane of a node. Its `name` is the task id. */
export interface AttemptSpan extends SpanBase {
  readonly cat: "attempt";
  readonly args: AttemptArgs;
}

export interface AttemptArgs {
  readonly task: string;
  readonly attempt: number;
  readonly outcome: AttemptOutcome;
  readonly pool: string;
  readonly node: string;
  /** Slots of the node the attempt held (it is drawn on one lane whatever the number). */
  readonly slots: number;
  /** The task's dependencies (ids). */
  readonly dependsOn: readonly string[];
  /** When the attempt's task became ready (ms from the run's start): the wait for a slot is `start - readyMs`. */
  readonly readyMs?: number;
  /** Why it did not succeed: the error's message. */
  readonly error?: string;
  /** The error's flotilla code, when it has one (`E_TIMEOUT`, `E_NODE_LOST`, ...). */
  readonly errorCode?: string;
  /** For an attempt aborted (cancelled, timed out) whose body then ignored its signal: when it was aborted (ms). */
  readonly abortedMs?: number;
}

/** A node's life, from `node:start` to its stop, loss or preemption. Its `name` is the node id. */
export interface NodeSpan extends SpanBase {
  readonly cat: "node";
  readonly args: NodeArgs;
}

export interface NodeArgs {
  readonly pool: string;
  readonly node: string;
  readonly slots: number | "unlimited";
  readonly priority: string;
  /** How its life ended; `running`: it was still up when the trace ended (a shared pool's node outlives the run). */
  readonly end: "stop" | "lost" | "preempted" | "running";
  readonly error?: string;
}

/** The whole run. Its `name` is the job's name. */
export interface JobSpan extends SpanBase {
  readonly cat: "job";
  readonly args: { readonly job: string; readonly status: JobTraceStatus; readonly tasks: number };
}

/** A moment: a retry, requeue, cancellation, abandonment, restored task, lost or preempted node, pool resize. */
export interface TraceInstant {
  readonly ph: "i";
  readonly name: string;
  readonly cat: TraceCategory;
  readonly pid: number;
  readonly tid: number;
  readonly ts: number;
  /** Thread scope: drawn on the lane it belongs to. */
  readonly s: "t";
  readonly args: { readonly [key: string]: string | number | boolean | readonly string[] };
}

/** How many nodes of a pool are up (a counter track per pool). */
export interface TraceCounter {
  readonly ph: "C";
  readonly name: "nodes";
  readonly cat: "pool";
  readonly pid: number;
  readonly tid: number;
  readonly ts: number;
  readonly args: { readonly up: number };
}

export type TraceEvent = TraceMetadata | AttemptSpan | NodeSpan | JobSpan | TraceInstant | TraceCounter;

export type JobTraceStatus = "succeeded" | "failed" | "cancelled" | "running";

/** A task as the trace saw it: its final status, attempts, and why it did not succeed. */
export interface TaskTrace {
  readonly id: string;
  readonly status: TaskTraceStatus;
  /** Attempts started in this run (0 for a task skipped, cancelled before it ran, or restored). */
  readonly attempts: number;
  readonly dependsOn: readonly string[];
  /** Restored from a journal: succeeded in an earlier run, not run again. */
  readonly restored?: true;
  readonly error?: string;
  readonly errorCode?: string;
}

/** What the trace says about the run as a whole (readers of the trace format ignore it). */
export interface TraceInfo {
  readonly job: string;
  /** The version of this layout; bumped when it changes. */
  readonly format: 1;
  readonly status: JobTraceStatus;
  /** The run's clock (ms) at `job:start`: every `ts` counts from it. */
  readonly startedAt: number;
  /** From `job:start` to `job:end` (or to the last event, for a trace taken mid-run). */
  readonly makespanMs: number;
  /** Every task the run reported on, in the order it first did. */
  readonly tasks: readonly TaskTrace[];
}

/**
 * A run's trace: `JSON.stringify` it to a `.json` file and open it in Perfetto UI or chrome://tracing,
 * or pass it to `htmlReport`, `criticalPath` or `summarize` (flotilla/report).
 */
export interface ChromeTrace {
  readonly traceEvents: readonly TraceEvent[];
  readonly displayTimeUnit: "ms";
  readonly otherData: TraceInfo;
}

/** The format of `otherData.format`. */
export const TRACE_FORMAT = 1;

/** The job's own process and thread: its span, and the marks of tasks that were on no lane. */
export const JOB_PID = 1;
export const JOB_TID = 1;
