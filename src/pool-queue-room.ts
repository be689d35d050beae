/**
 * Room in the queues of a pool's nodes (`ProviderNode.prefetch`): which node takes an attempt into
 * its queue once every slot is taken, and the wake for work held back meanwhile for starts on their
 * way. Apart from NodePool (node-pool.ts), which owns the positions and their load.
 */
import { COMING_MS, type SlotView, freePosition, slotsComing, slotsFree } from "./pool-slots.ts";
import type { Runtime, TimerHandle } from "./runtime.ts";
import { poolLabel } from "./trace-labels.ts";

/** What the queue room reads of its pool (NodePool's members). */
export interface QueueRoomPool extends SlotView {
  readonly name: string;
  readonly runtime: Runtime;
}

export class QueueRoom {
  readonly #pool: QueueRoomPool;
  /** Wakes the runs using the pool, to place their ready work again. */
  readonly #wake: () => void;
  /** The wake for when the oldest start on its way stops counting as such, while pending. */
  #timer: TimerHandle | undefined = undefined;
  #stopped = false;

  constructor(pool: QueueRoomPool, wake: () => void) {
    this.#pool = pool;
    this.#wake = wake;
  }

  /**
   * A position whose node's queue has room for `need`, when the `ready` tasks are more than the slots
   * free or on their way; otherwise -1: they wait for a slot, so a node being started or taken still
   * gets its share instead of finding the work queued elsewhere.
   */
  position(need: number, ready: number): number {
    const pool = this.#pool;
    const now = pool.runtime.now();
    const coming = slotsComing(pool, now);
    if (ready <= slotsFree(pool) + coming.slots) {
      if (coming.since !== Infinity) this.#wakeAt(coming.since + COMING_MS - now);
      return -1;
    }
    return freePosition(pool, need, true);
  }

  /** The pool is closing: no more wakes. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#pool.runtime.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  /** In `ms`, when the oldest start on its way stops counting, the runs place what they held back. */
  #wakeAt(ms: number): void {
    if (this.#timer !== undefined || this.#stopped) return;
    const runtime = this.#pool.runtime;
    this.#timer = runtime.setTimer(
      ms,
      () => {
        this.#timer = undefined;
        this.#wake();
      },
      typeof runtime.defer === "function" ? poolLabel("pool start no longer coming", this.#pool.name) : undefined,
    );
  }
}
