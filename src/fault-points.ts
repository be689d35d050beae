/**
 * The fault points core consults: the one list (the kit checks a fault plan against the declared
 * points, see vocabulary.ts). Extensions declare their own points with `declareFaultPoints`.
 */
export const CORE_FAULT_POINTS = {
  "task.dispatch": "as a ready task is sent to its node; fail: the dispatch is lost (requeued like an attempt on a lost node, no retry spent)",
  "task.attempt": "just before an attempt's body runs; fail or timeout instead of running it",
  "task.complete": "when a body has returned, before its outcome counts; fail/timeout lose the completion, delay delivers it ms later",
  "node.run": "after a body ran; fail: the node died under it (its side effects happened; the attempt is requeued: at-least-once)",
  "node.lost": "before each dispatch; fail: the node is lost now, with everything running on it",
  "node.start": "before the provider starts a node; fail: that start fails (retried, up to 3 times, with backoff)",
  "node.preempt": "where a provider may preempt a low-priority node (the simulated cloud consults it); fail: that node is preempted now",
  "provider.call": "before the provider is called to start or stop a node; fail: that call fails",
  "job.cancel": "before each dispatch; cancel: the run is cancelled",
} as const;

/** A point core consults. */
export type CoreFaultPoint = keyof typeof CORE_FAULT_POINTS;
