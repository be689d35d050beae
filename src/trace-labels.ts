/**
 * The names core gives its timers and deferred completions under a controlled runtime. They are a
 * protocol between core and the testing kit: a saved trace records the label of every step, and
 * replay compares them, so renaming one breaks saved traces. Every label is built here, and
 * `LABEL_FORMAT` is bumped whenever one changes; a trace records it and replay refuses a trace of
 * another format with a message that says so.
 */

/** The version of the label format below. */
export const LABEL_FORMAT = 1;

/** What an attempt's timer or deferred completion is for. */
export type AttemptEvent = "timeout" | "complete" | "delayed" | "grace" | "retry";

/** `timeout load#1`: attempt 1 of task "load"'s timeout (or completion, grace period, ...). */
export function attemptLabel(event: AttemptEvent, taskId: string, attempt: number): string {
  return `${event} ${taskId}#${attempt}`;
}

/** `sleep load#1.2`: the second `ctx.sleep` of attempt 1 of "load". */
export function sleepLabel(taskId: string, attempt: number, call: number): string {
  return `sleep ${taskId}#${attempt}.${call}`;
}

/** What a node position's timer is for: the backoff before a failed start is retried, or the bound on a wait for the provider. */
export type NodeEvent = "retry node start" | "provider wait";

/** `retry node start default#0`: position 0 of pool "default". */
export function nodeLabel(event: NodeEvent, pool: string, position: number): string {
  return `${event} ${pool}#${position}`;
}
