/** The typed event map of a run. Every payload carries its own `type`, so the async iterator yields a union. */
import type { CancelledError, DependencyFailedError } from "./errors.ts";
import type { RunResult, JobStatus } from "./result.ts";
import type { NodePriority } from "./provider-node.ts";
import type { OutputStream } from "./task-context.ts";

export interface RunEvents {
  /** The run began (after the job was checked). */
  "job:start": { readonly type: "job:start"; readonly job: string; readonly tasks: number; readonly at: number };
  /** The run settled; `result` is what `handle.result` resolves to. */
  "job:end": { readonly type: "job:end"; readonly job: string; readonly status: JobStatus; readonly result: RunResult<any>; readonly at: number };
  /** All dependencies of a task are satisfied; it waits for a slot. Also after a retry's backoff. */
  "task:ready": { readonly type: "task:ready"; readonly taskId: string; readonly at: number };
  /** An attempt began on node `nodeId` of pool `pool` (the run's name for it), taking `slots` of it. */
  "task:start": {
    readonly type: "task:start";
    readonly taskId: string;
    readonly attempt: number;
    readonly pool: string;
    readonly nodeId: string;
    readonly slots: number;
    readonly at: number;
  };
  /** An attempt failed and another will follow after `delayMs`. */
  "task:retry": {
    readonly type: "task:retry";
    readonly taskId: string;
    readonly attempt: number;
    readonly error: unknown;
    readonly delayMs: number;
    readonly at: number;
  };
  /** The task succeeded with `output`; `restored`: in an earlier run, its output read back from the run's journal. */
  "task:succeeded": {
    readonly type: "task:succeeded";
    readonly taskId: string;
    readonly attempt: number;
    readonly output: unknown;
    readonly restored?: true;
    readonly at: number;
  };
  /** The task failed for good. */
  "task:failed": { readonly type: "task:failed"; readonly taskId: string; readonly attempts: number; readonly error: unknown; readonly at: number };
  /** The task was cancelled; `error.source` says by whom. */
  "task:cancelled": { readonly type: "task:cancelled"; readonly taskId: string; readonly error: CancelledError; readonly at: number };
  /** The task will not run because a dependency it blocks on did not succeed. */
  "task:skipped": { readonly type: "task:skipped"; readonly taskId: string; readonly error: DependencyFailedError; readonly at: number };
  /** A node lost an attempt; the attempt goes back to the queue without spending a retry. */
  "task:requeued": { readonly type: "task:requeued"; readonly taskId: string; readonly attempt: number; readonly error: unknown; readonly at: number };
  /** An aborted attempt ignored its signal past `cancelGraceMs`; its slot was freed and its outcome will be ignored. */
  "task:abandoned": { readonly type: "task:abandoned"; readonly taskId: string; readonly attempt: number; readonly at: number };
  /** A line of an attempt's output: a command's stdout or stderr, or a body's `ctx.log(line)`. */
  "task:output": {
    readonly type: "task:output";
    readonly taskId: string;
    readonly attempt: number;
    readonly stream: OutputStream;
    readonly line: string;
    readonly at: number;
  };
  /** A pool's node is up and takes attempts. */
  "node:start": {
    readonly type: "node:start";
    readonly pool: string;
    readonly nodeId: string;
    readonly slots: number;
    readonly priority: NodePriority;
    readonly at: number;
  };
  /** A node of a shared pool runs no attempt any more. */
  "node:idle": { readonly type: "node:idle"; readonly pool: string; readonly nodeId: string; readonly at: number };
  /** A node's stop finished (scaled down, pool closed, run ended for a private pool). */
  "node:stop": { readonly type: "node:stop"; readonly pool: string; readonly nodeId: string; readonly priority: NodePriority; readonly at: number };
  /** A node died (crashed, was killed, was reported lost); its attempts are requeued. */
  "node:lost": { readonly type: "node:lost"; readonly pool: string; readonly nodeId: string; readonly error: unknown; readonly at: number };
  /** A low-priority node was taken back by its provider; its attempts are requeued without spending a retry. */
  "node:preempted": { readonly type: "node:preempted"; readonly pool: string; readonly nodeId: string; readonly error: unknown; readonly at: number };
  /** A shared pool set new target node counts (`reason`: what made it look: demand, idle timeout, ...). */
  "pool:resize": {
    readonly type: "pool:resize";
    readonly pool: string;
    readonly dedicated: number;
    readonly lowPriority: number;
    readonly reason: string;
    readonly at: number;
  };
  /**
   * A provider call failed or did not answer within `stopTimeoutMs` where no task reports it: a
   * `stopNode` (the node may still be running), or a node start the ending run stopped waiting for.
   * The run's outcome stands.
   */
  "provider:error": {
    readonly type: "provider:error";
    readonly pool: string;
    /** The provider call that failed, or `"autoscale"`: a shared pool's policy threw or answered nonsense. */
    readonly operation: "startNode" | "stopNode" | "autoscale";
    readonly nodeId: string | undefined;
    readonly error: unknown;
    readonly at: number;
  };
}

export type RunEventName = keyof RunEvents;
/** Any event of a run (what `for await (const e of handle)` yields). */
export type RunEvent = RunEvents[RunEventName];

export const RUN_EVENT_NAMES: readonly RunEventName[] = [
  "job:start",
  "job:end",
  "task:ready",
  "task:start",
  "task:retry",
  "task:succeeded",
  "task:failed",
  "task:cancelled",
  "task:skipped",
  "task:requeued",
  "task:abandoned",
  "task:output",
  "node:start",
  "node:idle",
  "node:stop",
  "node:lost",
  "node:preempted",
  "pool:resize",
  "provider:error",
];
