/**
 * The names given to timers, deferred completions and fault sites under a controlled runtime: core's
 * and the testing kit's own (unlabelled timers, service calls). They are a protocol between core and
 * the testing kit: a saved trace records the label of every step and the site of every fault, and
 * replay compares them, so renaming one breaks saved traces. Every label is built here, and
 * `LABEL_FORMAT` is bumped whenever one changes; a trace records it and replay refuses a trace of
 * another format with a message that says so. (Nothing here imports the kit: core never does.)
 */
import type { FaultContext } from "./runtime.ts";

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

/** What a shared pool's own timer is for. */
export type PoolTimer = "pool start backoff" | "pool idle timeout" | "pool evaluate" | "pool start no longer coming";

/** `pool idle timeout render`: the timer of pool "render" (made with `pool()`). */
export function poolLabel(event: PoolTimer, pool: string): string {
  return `${event} ${pool}`;
}

/** `timer 3`: a timer set without a label, named by its sequence number on its virtual clock. */
export function timerLabel(seq: number): string {
  return `timer ${seq}`;
}

/** `db.get`: operation "get" of the modelled service "db" (the `detail` of its `service.call` fault point). */
export function serviceCallDetail(service: string, op: string): string {
  return `${service}.${op}`;
}

/** `call db.get`: the timer that delivers a call to a modelled service. */
export function serviceCallLabel(detail: string): string {
  return `call ${detail}`;
}

/** `task load, attempt 1, db.get`: where a fault fired, as a trace records it (replay fires it where the same text comes up). */
export function faultSiteLabel(context: FaultContext): string {
  return [context.taskId && `task ${context.taskId}`, context.attempt && `attempt ${context.attempt}`, context.detail].filter(Boolean).join(", ");
}
