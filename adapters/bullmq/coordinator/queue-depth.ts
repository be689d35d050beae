/**
 * How many attempts wait in one agent's queue (its node's `prefetch`), sized by time: enough for about
 * QUEUE_MS of the agent's work, so it never idles while its refill travels, and no more, so a task placed
 * on a busy agent does not wait long behind others (nor is stuck there when another agent frees up).
 * Tiny tasks get a deep queue, up to the pool's `prefetch` option; tasks of a second or more, none.
 * The time of an attempt is measured from its agent taking it (BullMQ's "active") to its answer.
 */
import type { NodeReport } from "../../../src/provider.ts";

/** About this much of an agent's work waits in its queue. */
const QUEUE_MS = 25;
/** Weight of the newest attempt's time in the running average. */
const WEIGHT = 0.2;
/** Times below this (a clock that did not move) count as this. */
const FLOOR_MS = 0.01;

export class QueueDepth {
  /** Attempts queued beyond the slots now (the node's prefetch as the run knows it). */
  current: number;
  readonly #slots: number;
  readonly #most: number;
  readonly #report: NodeReport | undefined;
  #averageMs: number | undefined = undefined;

  /** `most`: the deepest queue (the pool's `prefetch` option, as attempts beyond the slots). */
  constructor(slots: number, most: number, report: NodeReport | undefined) {
    this.#slots = slots;
    this.#most = most;
    this.#report = report;
    // Until an attempt's time is known, one more round at most: long tasks are not piled on the first agent.
    this.current = Math.min(most, slots);
  }

  /** An attempt on the agent took `ms` from being taken to its answer. */
  measured(ms: number): void {
    if (this.#most === 0) return;
    const average = this.#averageMs === undefined ? ms : this.#averageMs + WEIGHT * (ms - this.#averageMs);
    this.#averageMs = average;
    const wanted = Math.min(this.#most, Math.floor((this.#slots * QUEUE_MS) / Math.max(average, FLOOR_MS)));
    // Told only on a real change (a quarter, or from or to nothing): a larger room wakes the runs.
    const change = Math.abs(wanted - this.current);
    if (change === 0 || (change < Math.max(1, this.current / 4) && wanted !== 0)) return;
    this.current = wanted;
    this.#report?.prefetch?.(wanted);
  }
}
