/**
 * Which node position of a pool has room for an attempt: the searches NodePool (node-pool.ts) answers
 * `free()`, `fits()` and `hasEmpty()` with. They only read the pool's per-position arrays, so they live
 * apart from the pool that keeps those arrays, reaching it through the SlotView below (no import of
 * NodePool, so no import cycle). Taking and giving back slots, and reserving a node for a task that must
 * run alone, stay with NodePool.
 */
import type { NodeKeeper } from "./node-keeper.ts";
import type { ResolvedPoolOptions } from "./pool-options.ts";

/** What the searches read of a pool (NodePool's members). */
export interface SlotView {
  readonly options: ResolvedPoolOptions;
  readonly keepers: readonly NodeKeeper[];
  readonly load: readonly number[];
  readonly exclusive: readonly boolean[];
  readonly draining: readonly boolean[];
  /** A node position kept free of new work until a task waiting to run alone gets it, or -1. */
  readonly reserved: number;
  /** Some position takes no shared work (held by a task run alone, reserved, or draining). */
  readonly restricted: boolean;
  /** Largest node seen. */
  readonly seenSlots: number;
}

/**
 * A position whose node is up, takes shared work and has `need` free slots, or -1: the least loaded
 * (`spread`), or the fullest that fits (`pack`, so the others empty and can go). `queued`: room in
 * the nodes' queues counts too (`ProviderNode.prefetch`).
 */
export function freePosition(pool: SlotView, need: number, queued = false): number {
  const keepers = pool.keepers;
  const loads = pool.load;
  const restricted = pool.restricted;
  const pack = pool.options.pack;
  const fixed = pool.options.slotsPerNode;
  let best = -1;
  let bestLoad = pack ? -1 : Infinity;
  for (let k = 0; k < keepers.length; k++) {
    const node = keepers[k]!.node;
    const load = loads[k]!;
    if (node === undefined) continue;
    const slots = fixed ?? node.slots;
    // (Queue room only for what the node could run: a task wider than its slots never waits there.)
    if (load + need > slots + (queued && need <= slots ? keepers[k]!.prefetch : 0)) continue;
    if (pack ? load <= bestLoad : load >= bestLoad) continue;
    if (restricted && (pool.exclusive[k] === true || k === pool.reserved || pool.draining[k] === true)) continue;
    best = k;
    bestLoad = load;
    if (!pack && load === 0) break;
  }
  return best;
}

/**
 * How long a node being started counts as on its way (`slotsFreeOrComing`). A start that waits longer
 * may never end (a remote pool's start waits for an agent to join): work is queued on the nodes up
 * meanwhile, bounded by their queues' room, and a node that arrives later takes what is still ready.
 */
export const COMING_MS = 1_000;

/**
 * Slots free on the nodes up (their queues' room not counted). An attempt placed in a free slot counts
 * as running there, begun or not: the node takes it at once.
 */
export function slotsFree(pool: SlotView): number {
  const fixed = pool.options.slotsPerNode;
  let slots = 0;
  for (let k = 0; k < pool.keepers.length; k++) {
    const node = pool.keepers[k]!.node;
    if (node !== undefined) slots += Math.max(0, (fixed ?? node.slots) - pool.load[k]!);
  }
  return slots;
}

/**
 * Slots of the nodes on their way for less than COMING_MS at `now` (a node not up yet counted as the
 * pool's `slotsPerNode`, else the largest seen, else 1), and when the oldest of those starts began
 * (Infinity for none).
 */
export function slotsComing(pool: SlotView, now: number): { slots: number; since: number } {
  const each = pool.options.slotsPerNode ?? Math.max(1, pool.seenSlots);
  let slots = 0;
  let since = Infinity;
  for (const keeper of pool.keepers) {
    if (keeper.node !== undefined || !keeper.starting || now - keeper.startingSince >= COMING_MS) continue;
    slots += each;
    since = Math.min(since, keeper.startingSince);
  }
  return { slots, since };
}

/** Whether some node up (or one the pool may still start) could ever hold `need` slots. */
export function fitsSomeNode(pool: SlotView, need: number): boolean {
  const fixed = pool.options.slotsPerNode;
  if (fixed !== undefined) return need <= fixed;
  for (const keeper of pool.keepers) if (keeper.node !== undefined && keeper.node.slots >= need) return true;
  return pool.seenSlots === 0 || need <= pool.seenSlots;
}

/** Whether some up node that takes work has nothing on it (a task that must run alone could go there now). */
export function hasEmptyPosition(pool: SlotView): boolean {
  for (let k = 0; k < pool.keepers.length; k++) {
    if (pool.keepers[k]!.node !== undefined && pool.load[k] === 0 && pool.exclusive[k] !== true && pool.draining[k] !== true) return true;
  }
  return false;
}
