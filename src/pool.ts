/**
 * A pool: the nodes one provider runs for a run, the ready tasks waiting for them, and how many
 * attempts each node holds. Nodes start as ready work needs them (up to the provider's `maxNodes`),
 * each kept by its own NodeKeeper (replaced when lost, a failed start retried), and all are stopped
 * when the run ends.
 */
import { FlotillaError } from "./errors.ts";
import { bodyKind, type ComputeProvider } from "./provider.ts";
import { NodeKeeper, type NodeKeeperHost } from "./node-keeper.ts";
import type { ReadyQueue } from "./ready-queue.ts";
import type { TaskBody, TaskSpec } from "./task-context.ts";
import { closest } from "./validation.ts";

export class Pool {
  readonly name: string;
  readonly provider: ComputeProvider<any>;
  readonly kinds: readonly string[];
  readonly maxNodes: number;
  /** Ready tasks of this pool, best first. */
  readonly queue: ReadyQueue;
  /** One keeper per node position, made as demand grows. */
  readonly keepers: NodeKeeper[] = [];
  /** Attempts holding a slot on `keepers[k]`'s node. */
  readonly load: number[] = [];
  /**
   * Attempts ever placed on position k. An attempt that found its node empty and sees the same count
   * when the node is lost had the node to itself its whole life (see the executor's `#nodeLost`).
   */
  readonly placements: number[] = [];
  /** The last error of a start that failed for good, if no node could be started. */
  startError: unknown = undefined;
  /**
   * Ready tasks that must run alone on a node (requeued from a node lost while they shared it, so
   * one of them may have killed it), waiting for an empty node. See the executor's `#nodeLost`.
   */
  readonly alone: number[] = [];
  /** Per node position: held by an attempt that runs alone (no other attempt goes there). */
  readonly exclusive: boolean[] = [];
  /** A node position kept free of new work until a task waiting in `alone` gets it, or -1. */
  reserved = -1;
  /** How many positions are exclusive now (0: the fast paths need not look). */
  #exclusiveCount = 0;

  readonly #hostFor: (pool: Pool, keeper: number) => NodeKeeperHost;

  constructor(name: string, provider: ComputeProvider<any>, queue: ReadyQueue, hostFor: (pool: Pool, keeper: number) => NodeKeeperHost) {
    this.name = name;
    this.provider = provider;
    this.kinds = provider.kinds ?? ["function"];
    this.maxNodes = provider.maxNodes ?? 1;
    this.queue = queue;
    this.#hostFor = hostFor;
  }

  /** True while some node takes no shared work (held alone, or reserved for a task that must run alone). */
  get restricted(): boolean {
    return this.#exclusiveCount > 0 || this.reserved >= 0;
  }

  /** The keeper whose node is up and has a free slot (the least loaded) and takes shared work, or -1. */
  free(): number {
    const keepers = this.keepers;
    const restricted = this.restricted;
    let best = -1;
    let bestLoad = Infinity;
    for (let k = 0; k < keepers.length; k++) {
      const node = keepers[k]!.node;
      const load = this.load[k]!;
      if (node === undefined || load >= node.slots || load >= bestLoad) continue;
      if (restricted && (this.exclusive[k] === true || k === this.reserved)) continue;
      best = k;
      bestLoad = load;
      if (load === 0) break;
    }
    return best;
  }

  /**
   * A node position for a task that must run alone: an up node with nothing on it (the reserved one
   * first), or -1. When there is none, the least loaded node is reserved: it takes no new work, so it
   * empties and the task cannot wait forever behind a stream of other tasks.
   */
  empty(): number {
    // A reservation on a position whose node is gone helps nobody: reserve a live node instead.
    if (this.reserved >= 0 && this.keepers[this.reserved]!.node === undefined) this.reserved = -1;
    if (this.reserved >= 0 && this.load[this.reserved] === 0) return this.reserved;
    let best = -1;
    let bestLoad = Infinity;
    for (let k = 0; k < this.keepers.length; k++) {
      if (this.keepers[k]!.node === undefined || this.exclusive[k] === true) continue;
      if (this.load[k] === 0) return k;
      if (this.reserved < 0 && this.load[k]! < bestLoad) [best, bestLoad] = [k, this.load[k]!];
    }
    if (this.reserved < 0 && best >= 0) this.reserved = best;
    return -1;
  }

  /**
   * An attempt takes a slot at position k. Returns its placement: its number in the sequence of
   * attempts placed there, negated when the node already held another (see `placements`).
   */
  take(k: number): number {
    const placed = ++this.placements[k]!;
    return this.load[k]!++ === 0 ? placed : -placed;
  }

  /** An attempt at position k let go of its slot. */
  give(k: number): void {
    this.load[k]!--;
    // An exclusive position holds one attempt, the one running alone there: this one.
    if (this.#exclusiveCount > 0 && this.exclusive[k] === true) this.hold(k, false);
  }

  /** Position `k` is held by an attempt running alone (`on`), or free for shared work again. */
  hold(k: number, on: boolean): void {
    if (this.exclusive[k] === on) return;
    this.exclusive[k] = on;
    this.#exclusiveCount += on ? 1 : -1;
    if (on && this.reserved === k) this.reserved = -1;
  }

  /**
   * Starts nodes for `waiting` ready tasks that found no free slot: one more node per waiting task
   * (a new node has at least one slot), counting those already on their way, up to `maxNodes`.
   */
  grow(waiting: number): void {
    let coming = 0;
    for (const keeper of this.keepers) if (keeper.starting) coming++;
    for (let k = 0; k < this.maxNodes && coming < waiting; k++) {
      if (k === this.keepers.length) {
        this.keepers.push(new NodeKeeper(this.#hostFor(this, k)));
        this.load.push(0);
        this.placements.push(0);
        this.exclusive.push(false);
      }
      const keeper = this.keepers[k]!;
      if (keeper.node !== undefined || keeper.starting || keeper.gaveUp) continue;
      coming++;
      keeper.start();
    }
  }

  /** Whether a node is up or on its way (false: every start failed for good, or none was asked for). */
  get alive(): boolean {
    for (const keeper of this.keepers) if (keeper.node !== undefined || keeper.starting) return true;
    return false;
  }

  /** Slots of the nodes up now. */
  get slots(): number {
    let slots = 0;
    for (const keeper of this.keepers) slots += keeper.node?.slots ?? 0;
    return slots;
  }

  /** The position of the keeper holding `node`, or -1 when it is no longer in use. */
  keeperOf(node: object): number {
    for (let k = 0; k < this.keepers.length; k++) if (this.keepers[k]!.node === node) return k;
    return -1;
  }

  /** No more starts; every node stopped; resolves when every stop has finished. */
  async close(): Promise<void> {
    await Promise.all(this.keepers.map((keeper) => keeper.close()));
  }
}

/**
 * The index of the pool task `taskId` names (`pool`), after checking that the run has it and that its
 * provider runs this body's kind; throws E_INVALID_OPTION naming the task, the kind and the pool, and
 * which pool could run it.
 */
export function poolForTask(
  pools: readonly Pool[],
  index: ReadonlyMap<string, number>,
  taskId: string,
  name: string,
  body: TaskBody<any, unknown> | TaskSpec,
): number {
  const p = index.get(name);
  if (p === undefined) {
    const names = pools.map((each) => each.name);
    const hint = closest(name, names);
    throw new FlotillaError(
      "E_INVALID_OPTION",
      `task "${taskId}": option "pool" names pool "${name}", which this run does not have${hint ? ` (did you mean "${hint}"?)` : ""}; its pools: ${names.join(", ")}`,
    );
  }
  const kind = bodyKind(body);
  const pool = pools[p]!;
  if (!pool.kinds.includes(kind)) {
    const able = pools.filter((other) => other.kinds.includes(kind)).map((other) => `"${other.name}"`);
    throw new FlotillaError(
      "E_INVALID_OPTION",
      `task "${taskId}": its body is of kind "${kind}", which pool "${name}" (provider "${pool.provider.name}") cannot run (it runs ${pool.kinds.map((k) => `"${k}"`).join(", ")}); ` +
        (able.length > 0
          ? `give the task { pool: ${able.join(" or ")} }`
          : `add a pool whose provider runs "${kind}" bodies to the run's "pools" and name it in the task's "pool" option`),
    );
  }
  return p;
}
