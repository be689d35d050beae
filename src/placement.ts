/**
 * Placement: which node of which pool takes the next ready task. Each pool has its ready queue (best
 * first); a ready task goes to the least loaded node of its pool with a free slot, and when none has
 * one the pool starts more nodes (up to its provider's `maxNodes`). A task that must run alone (see
 * node-loss.ts) waits for an empty node. Capacity is the run's `concurrency` and the nodes' slots.
 * A pool owns its nodes and their load (pool.ts); the attempt runner runs what is placed.
 */
import type { AttemptRunner } from "./attempt-runner.ts";
import type { CancelSource } from "./errors.ts";
import type { FaultInjection } from "./fault-injection.ts";
import type { NodeKeeperHost } from "./node-keeper.ts";
import type { NodeLoss } from "./node-loss.ts";
import { Pool, poolForTask } from "./pool.ts";
import type { ProviderNode } from "./provider.ts";
import { ReadyQueue } from "./ready-queue.ts";
import type { RunState } from "./run-state.ts";
import type { TaskLifecycle } from "./task-lifecycle.ts";
import { READY } from "./task-state.ts";

export class Placement {
  /** The run's pools; the first is "default". */
  readonly pools: Pool[];
  readonly #index = new Map<string, number>();
  /** Each task's pool index, when the run has more than one pool (otherwise every task is in pool 0). */
  readonly #poolOf: number[] | undefined;
  /** The run's only pool runs functions: a function task without a pool option needs no check. */
  readonly #functionsOnly: boolean;

  readonly #s: RunState;
  readonly #tasks: TaskLifecycle;
  readonly #attempts: AttemptRunner;
  readonly #nodes: NodeLoss;
  readonly #faults: FaultInjection | undefined;
  readonly #cancelRun: (source: CancelSource, reason: unknown) => void;

  constructor(
    state: RunState,
    rooms: { tasks: TaskLifecycle; attempts: AttemptRunner; nodes: NodeLoss; faults: FaultInjection | undefined },
    hostFor: (pool: Pool, position: number) => NodeKeeperHost,
    cancelRun: (source: CancelSource, reason: unknown) => void,
  ) {
    this.#s = state;
    this.#tasks = rooms.tasks;
    this.#attempts = rooms.attempts;
    this.#nodes = rooms.nodes;
    this.#faults = rooms.faults;
    this.#cancelRun = cancelRun;
    const t = state.t;
    this.pools = state.options.pools.map(({ name, provider }, p) => {
      this.#index.set(name, p);
      return new Pool(name, provider, new ReadyQueue(t.priority, t.rank), hostFor);
    });
    this.#poolOf = this.pools.length > 1 ? [] : undefined;
    this.#functionsOnly = this.pools.length === 1 && this.pools[0]!.kinds.includes("function");
    for (let i = 0; i < t.count; i++) this.check(i);
  }

  /** Checks task i's pool and body kind (E_INVALID_OPTION before anything runs) and records its pool. */
  check(i: number): void {
    const g = this.#s.t.graph;
    const name = g.policies[i]?.pool ?? "default";
    if (this.#functionsOnly && name === "default" && typeof g.bodies[i] === "function") return;
    const p = poolForTask(this.pools, this.#index, g.ids[i]!, name, g.bodies[i]!);
    if (this.#poolOf !== undefined) this.#poolOf[i] = p;
  }

  poolFor(i: number): Pool {
    return this.pools[this.#poolOf === undefined ? 0 : this.#poolOf[i]!]!;
  }

  /** Ready task i waits in its pool's queue. */
  enqueue(i: number): void {
    this.poolFor(i).queue.push(i);
  }

  /** Tasks were added: the queues see the grown table; `reordered`: some task's rank rose. */
  grown(reordered: boolean): void {
    const t = this.#s.t;
    for (const pool of this.pools) pool.queue.rekey(t.priority, t.rank);
    if (reordered) for (const pool of this.pools) pool.queue.reorder();
  }

  /** Starts ready tasks while there is capacity, in every pool. */
  fill(): void {
    const pools = this.pools;
    if (pools.length === 1) this.#fillPool(pools[0]!);
    else {
      // A synchronous completion in one pool may ready tasks of a pool already served in this pass.
      let readied: number;
      do {
        readied = this.#tasks.readied;
        for (let p = 0; p < pools.length; p++) this.#fillPool(pools[p]!);
      } while (readied !== this.#tasks.readied && this.#s.cancel === undefined);
    }
  }

  #fillPool(pool: Pool): void {
    const s = this.#s;
    const queue = pool.queue;
    const concurrency = s.options.concurrency;
    const attempts = this.#attempts;
    // A pool of one node keeps using it while it has room (no search per task); with several nodes
    // each attempt goes to the least loaded one.
    const single = pool.maxNodes === 1;
    let k = -1;
    let node: ProviderNode | undefined;
    let nodeLost = false;
    if (pool.alone.length > 0) this.#placeAlone(pool);
    while (attempts.busy < concurrency && s.cancel === undefined) {
      if (!single || pool.restricted || k < 0 || pool.load[k]! >= node!.slots || pool.keepers[k]!.node !== node) {
        k = pool.free();
        if (k < 0) {
          if (queue.size === 0 && pool.alone.length === 0) return;
          const losses = this.#nodes.losses;
          pool.grow(queue.size + pool.alone.length);
          // A provider that starts nodes synchronously has one up already.
          if (pool.alone.length > 0) this.#placeAlone(pool);
          k = pool.free();
          // That node may have been lost at once, under a task run alone on it (and charged for it):
          // go round again, so a replacement is started. (Each round charges a loss, so it ends.)
          if (k < 0 && this.#nodes.losses !== losses) continue;
          if (k < 0) {
            if (!pool.alive && pool.startError !== undefined) this.#failQueued(pool);
            return;
          }
        }
        node = pool.keepers[k]!.node!;
      }
      const i = queue.pop();
      if (i < 0) return;
      // (Read afresh: a listener or body may have added tasks, and the table may have grown.)
      if (s.t.state[i] !== READY) continue; // cancelled while queued
      if (s.t.alone[i] === 1) {
        // Must run alone: on an empty node, or it waits for one (see node-loss.ts).
        pool.alone.push(i);
        this.#placeAlone(pool);
        k = -1;
        continue;
      }
      if (this.#faults !== undefined) {
        const cancel = this.#faults.cancelBeforeDispatch(i, node!);
        if (cancel !== undefined) {
          this.#cancelRun("fault", cancel.reason);
          return;
        }
        // At most one injected loss per pass, so a rule that always fires cannot spin here.
        const lost = nodeLost ? undefined : this.#faults.nodeLossBeforeDispatch(i, node!);
        if (lost !== undefined) {
          this.#nodes.lost(pool, node!, lost);
          nodeLost = true;
          k = -1;
          queue.push(i); // not dispatched: it goes to another node, or the replacement
          continue;
        }
      }
      attempts.start(i, pool, k, node!);
    }
  }

  /** Starts the tasks waiting to run alone that find an empty node (see node-loss.ts). */
  #placeAlone(pool: Pool): void {
    const s = this.#s;
    const waiting = pool.alone;
    while (waiting.length > 0 && this.#attempts.busy < s.options.concurrency && s.cancel === undefined) {
      if (s.t.state[waiting[0]!] !== READY) {
        waiting.shift(); // cancelled meanwhile
        continue;
      }
      const k = pool.empty();
      if (k < 0) return;
      const i = waiting.shift()!;
      pool.hold(k, true);
      this.#attempts.start(i, pool, k, pool.keepers[k]!.node!);
    }
    if (waiting.length === 0) pool.reserved = -1;
  }

  /** Fails the ready tasks of a pool that has no node and can start none. */
  #failQueued(pool: Pool): void {
    for (let i = pool.queue.pop(); i >= 0; i = pool.queue.pop()) if (this.#s.t.state[i] === READY) this.#tasks.fail(i, pool.startError);
  }

  /** The most slots the run may hold now: min(concurrency, the slots of the nodes up). */
  capacity(): number {
    // (A loop: explore() asks after every step, and reduce's callback allocated each time.)
    let slots = 0;
    for (let p = 0; p < this.pools.length; p++) slots += this.pools[p]!.slots;
    return Math.min(this.#s.options.concurrency, slots);
  }

  /** No more node starts; every node stopped; resolves when every stop has finished. */
  async close(): Promise<void> {
    await Promise.all(this.pools.map((pool) => pool.close()));
  }
}
