/**
 * The one place a simulated cloud names what it does: the label of each of its timers (a scheduling
 * point under explore(), recorded in traces and compared by replay) and the `detail` of each fault point
 * it consults (so a fault plan's `when` can tell the cloud's consultations from core's). Built here
 * only, so a trace stays readable and a rename is one edit. (Core's labels live in trace-labels.ts,
 * which the kit does not extend.)
 */

/** What a cloud's timer (or fault consultation) is about. */
export type CloudEvent = "call create" | "call delete" | "call list" | "start" | "gone" | "preempt" | "lose" | "run";

/** `cloud aws start vm-3`, `cloud aws call create pool#2`, `cloud aws call list`. */
export function cloudLabel(cloud: string, event: CloudEvent, subject?: string): string {
  return subject === undefined ? `cloud ${cloud} ${event}` : `cloud ${cloud} ${event} ${subject}`;
}
