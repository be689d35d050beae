/**
 * What a provider's node is, as core and a task's context see it. Its own file so the provider
 * contract (provider.ts) and the task context (task-context.ts) both use it without importing each other.
 */

/** A unit of compute a provider started. */
export interface ProviderNode {
  /** Unique among the provider's nodes; used in messages and events. */
  readonly id: string;
  /** How many attempts may run on it at once (Infinity for no limit). */
  readonly slots: number;
  /**
   * How many attempts beyond `slots` it accepts to wait in a queue of its own, so the next one is at
   * hand when a slot frees (a remote agent's queue: no round trip to the run between two attempts).
   * An attempt placed on such a node has not started until its provider calls `ctx.started()` (or it
   * ends): only then is its `task:start` emitted and its `timeoutMs` counted. Integer >= 0. @default 0
   */
  readonly prefetch?: number;
}

/**
 * Which kind of node a pool asks for: `dedicated` (kept until the pool lets it go) or `lowPriority`
 * (a spot VM: cheaper, and its provider may take it back at any time: `report.preempted()`).
 */
export type NodePriority = "dedicated" | "lowPriority";
