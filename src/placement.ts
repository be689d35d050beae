/**
 * Placement: which node of which pool takes the next ready task. Each pool has its ready queue (best
 * first); a ready task goes to a node of its pool with its `slots` free (the pool's `placement` says
 * which), and when none has them the pool grows (a private pool starts nodes up to its provider's
 * `maxNodes`; a shared one asks its autoscale policy). A task that must run alone (see node-loss.ts)
 * waits for an empty node; one that needs more slots than any node has free waits for one where it
 * fits, while smaller tasks go ahead. On a pool shared by several runs, the run whose turn it is
 * (node-pool.ts) takes the next free slot. Capacity is the run's `concurrency` and the nodes' slots.
 * A pool owns its nodes and their load (node-pool.ts); the attempt runner runs what is placed.
 */
import type { Attempt } from "./attempt.ts";
import type { AttemptRunner } from "./attempt-runner.ts";
import { type CancelSource, FlotillaError, NodeLostError } from "./errors.ts";
import type { FaultInjection } from "./fault-injection.ts";
import type { NodeLoss } from "./node-loss.ts";
import { NodePool, type PoolRunStats, type Tenant } from "./node-pool.ts";
import { Pool, poolForTask } from "./pool.ts";
import { privatePoolOptions } from "./pool-options.ts";
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
  /** Some pool is shared with other runs (its autoscaler counts this run's tasks). */
  readonly anyShared: boolean;

  readonly #s: RunState;
  readonly #tasks: TaskLifecycle;
  readonly #attempts: AttemptRunner;
  readonly #nodes: NodeLoss;
  readonly #faults: FaultInjection | undefined;
  readonly #cancelRun: (source: CancelSource, reason: unknown) => void;

  constructor(
    state: RunState,
    rooms: { tasks: TaskLifecycle; attempts: AttemptRunner; nodes: NodeLoss; faults: FaultInjection | undefined },
    cancelRun: (source: CancelSource, reason: unknown) => void,
  ) {
    this.#s = state;
    this.#tasks = rooms.tasks;
    this.#attempts = rooms.attempts;
    this.#nodes = rooms.nodes;
    this.#faults = rooms.faults;
    this.#cancelRun = cancelRun;
    const t = state.t;
    const o = state.options;
    this.pools = o.pools.map(({ name, provider, shared }, p) => {
      this.#index.set(name, p);
      const nodes = shared ?? new NodePool(provider, privatePoolOptions(provider, name, o.runtime, o.stopTimeoutMs), false);
      return new Pool(name, nodes, new ReadyQueue(t.priority, t.rank));
    });
    this.#poolOf = this.pools.length > 1 ? [] : undefined;
    this.anyShared = this.pools.some((pool) => pool.nodes.shared);
    this.#functionsOnly = this.pools.length === 1 && this.pools[0]!.kinds.includes("function") && !this.anyShared;
    for (let i = 0; i < t.count; i++) this.check(i);
    // (Last: a run refused by the checks above never attaches.) Runs made with a shared pool attach
    // when they begin; a pool closing meanwhile waits for them.
    for (const pool of this.pools) if (pool.nodes.shared) pool.nodes.expect();
  }

  /** Checks task i's pool, body kind and slots (E_INVALID_OPTION before anything runs) and records its pool. */
  check(i: number): void {
    const g = this.#s.t.graph;
    const policy = g.policies[i];
    const name = policy?.pool ?? "default";
    if (this.#functionsOnly && name === "default" && typeof g.bodies[i] === "function" && (policy === undefined || policy.slots === 1)) return;
    const need = policy?.slots ?? 1;
    const p = poolForTask(this.pools, this.#index, g.ids[i]!, name, g.bodies[i]!, need);
    if (this.#poolOf !== undefined) this.#poolOf[i] = p;
    const pool = this.pools[p]!;
    if (pool.nodes.shared) {
      pool.tasks++;
      pool.taskSlots += need;
    }
  }

  /** Slots task i needs on one node. */
  slotsOf(i: number): number {
    return this.#s.t.graph.policies[i]?.slots ?? 1;
  }

  /** Task i reached a final state (counted for a shared pool's autoscaler). */
  ended(i: number): void {
    const pool = this.poolFor(i);
    if (!pool.nodes.shared) return;
    pool.ended++;
    pool.endedSlots += this.slotsOf(i);
  }

  poolFor(i: number): Pool {
    return this.pools[this.#poolOf === undefined ? 0 : this.#poolOf[i]!]!;
  }

  /**
   * Whether `pool` has a task of this run that is still ready (entries of tasks cancelled while they
   * waited are dropped on the way): a shared pool asks before it gives this run the turn.
   */
  hasReady(pool: Pool): boolean {
    if (this.#attempts.busy >= this.#s.options.concurrency) return false; // could take no slot now
    const state = this.#s.t.state;
    // Tasks waiting for a node of their own, or for more free slots, count when they could go now.
    if (pool.alone.length > 0 && pool.nodes.hasEmpty()) for (const i of pool.alone) if (state[i] === READY) return true;
    for (const i of pool.wide) if (state[i] === READY && pool.free(this.slotsOf(i)) >= 0) return true;
    const queue = pool.queue;
    for (let i = queue.pop(); i >= 0; i = queue.pop()) {
      if (state[i] === READY) {
        queue.push(i); // the best ready task goes back where it was: first
        return true;
      }
      pool.queuedSlots -= this.slotsOf(i);
    }
    return false;
  }

  /** Ready task i waits in its pool's queue. */
  enqueue(i: number): void {
    const pool = this.poolFor(i);
    pool.queue.push(i);
    if (pool.nodes.shared) pool.queuedSlots += this.slotsOf(i);
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
    const nodes = pool.nodes;
    const shared = nodes.shared;
    // A pool of one node keeps using it while it has room (no search per task); with several nodes
    // each attempt goes where the pool's placement says.
    const single = pool.maxNodes === 1;
    let k = -1;
    let node: ProviderNode | undefined;
    let nodeLost = false;
    // Moves of queued attempts this pass may make (see #moveQueued): each takes a free slot, so at most
    // as many as there were; counted when the first is wanted.
    let moves = -1;
    if (pool.alone.length > 0) this.#placeAlone(pool);
    if (pool.wide.length > 0) this.#placeWide(pool);
    while (attempts.busy < concurrency && s.cancel === undefined) {
      if (shared && nodes.tenants > 1 && pool.waitingTasks > 0) {
        // Another run's turn on the shared pool: it is woken, and this run is when a slot frees.
        const other = nodes.turn(pool.tenant);
        if (other !== undefined) {
          other.wake();
          return;
        }
      }
      if (!single || pool.restricted || k < 0 || pool.load[k]! >= node!.slots + pool.keepers[k]!.prefetch || pool.keepers[k]!.node !== node) {
        k = pool.free(1);
        if (k < 0) {
          if (queue.size === 0 && pool.alone.length === 0 && pool.wide.length === 0) return;
          const losses = this.#nodes.losses;
          pool.grow(pool.waitingTasks);
          // A provider that starts nodes synchronously has one up already.
          if (pool.alone.length > 0) this.#placeAlone(pool);
          if (pool.wide.length > 0) this.#placeWide(pool);
          k = pool.free(1);
          // That node may have been lost at once, under a task run alone on it (and charged for it):
          // go round again, so a replacement is started. (Each round charges a loss, so it ends.)
          if (k < 0 && this.#nodes.losses !== losses) continue;
          // No slot free: a node that queues attempts may take it into its queue (ProviderNode.prefetch).
          if (k < 0) k = nodes.queueRoom(1, pool.waitingTasks);
          if (k < 0) {
            // (A shared pool fails its waiting tasks itself, when a start gives up with no node left.)
            if (!pool.alive && pool.startError !== undefined && !nodes.shared) this.#failQueued(pool);
            return;
          }
        }
        node = pool.keepers[k]!.node!;
      }
      const i = queue.pop();
      if (i < 0) {
        // Nothing ready, and a slot free here: an attempt waiting behind another node's work moves to it.
        if (attempts.queued > 0 && k >= 0 && pool.load[k]! < nodes.slotsOf(k)) {
          if (moves < 0) moves = nodes.slotsFree();
          if (moves > 0 && this.#moveQueued(pool, k)) {
            moves--;
            continue;
          }
        }
        // Tasks waiting for a node where they fit count as demand: a shared pool may grow for them.
        if (shared && pool.wide.length > 0) pool.grow(pool.waitingTasks);
        return;
      }
      const need = this.slotsOf(i);
      if (shared) pool.queuedSlots -= need;
      // (Read afresh: a listener or body may have added tasks, and the table may have grown.)
      if (s.t.state[i] !== READY) continue; // cancelled while queued
      if (s.t.alone[i] === 1) {
        // Must run alone: on an empty node, or it waits for one (see node-loss.ts).
        pool.alone.push(i);
        this.#placeAlone(pool);
        k = -1;
        continue;
      }
      let at = k;
      if (need > 1 && pool.load[k]! + need > nodes.slotsOf(k)) {
        at = pool.free(need);
        if (at < 0) at = nodes.queueRoom(need, pool.waitingTasks + 1);
        if (at < 0) {
          // Waits for a node where it fits; smaller tasks go ahead meanwhile.
          pool.wide.push(i);
          if (!nodes.fits(need)) this.#tooWide(pool, i, need);
          continue;
        }
      }
      if (this.#faults !== undefined) {
        const cancel = this.#faults.cancelBeforeDispatch(i, pool.keepers[at]!.node!);
        if (cancel !== undefined) {
          this.#cancelRun("fault", cancel.reason);
          return;
        }
        // At most one injected loss per pass, so a rule that always fires cannot spin here.
        const lost = nodeLost ? undefined : this.#faults.nodeLossBeforeDispatch(i, pool.keepers[at]!.node!);
        if (lost !== undefined) {
          this.#nodes.lost(pool, pool.keepers[at]!.node!, lost);
          nodeLost = true;
          k = -1;
          queue.push(i); // not dispatched: it goes to another node, or the replacement
          if (shared) pool.queuedSlots += need;
          continue;
        }
      }
      attempts.start(i, pool, at, pool.keepers[at]!.node!, need);
      if (shared) nodes.took(pool.tenant);
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
      this.#attempts.start(i, pool, k, pool.keepers[k]!.node!, this.slotsOf(i));
      if (pool.nodes.shared) pool.nodes.took(pool.tenant);
    }
    if (waiting.length === 0) pool.nodes.unreserve(pool.tenant);
  }

  /** Starts the tasks waiting for more free slots than a node had that now find a node where they fit. */
  #placeWide(pool: Pool): void {
    const s = this.#s;
    const waiting = pool.wide;
    for (let w = 0; w < waiting.length && this.#attempts.busy < s.options.concurrency && s.cancel === undefined; ) {
      const i = waiting[w]!;
      if (s.t.state[i] !== READY) {
        waiting.splice(w, 1); // cancelled meanwhile
        continue;
      }
      const need = this.slotsOf(i);
      const k = pool.free(need);
      if (k < 0) {
        if (!pool.nodes.fits(need)) {
          waiting.splice(w, 1);
          this.#tooWide(pool, i, need);
        } else w++;
        continue;
      }
      waiting.splice(w, 1);
      this.#attempts.start(i, pool, k, pool.keepers[k]!.node!, need);
      if (pool.nodes.shared) pool.nodes.took(pool.tenant);
    }
  }

  /** Task i needs more slots than any node of its pool has: it fails, saying so. */
  #tooWide(pool: Pool, i: number, need: number): void {
    const at = pool.wide.indexOf(i);
    if (at >= 0) pool.wide.splice(at, 1);
    let most = 0;
    for (let k = 0; k < pool.keepers.length; k++) if (pool.keepers[k]!.node !== undefined) most = Math.max(most, pool.nodes.slotsOf(k));
    this.#tasks.fail(
      i,
      new FlotillaError(
        "E_INVALID_OPTION",
        `task "${this.#s.t.graph.ids[i]}": option "slots" is ${need}, but the nodes of pool "${pool.name}" (provider "${pool.provider.name}") have at most ${most} slot${most === 1 ? "" : "s"}; give the task at most ${most}, or give the pool a provider with bigger nodes`,
      ),
    );
  }

  /**
   * Position k has a free slot and nothing is ready: the attempt of this run placed last on a node
   * holding more attempts than it has slots (so it waits there behind running work) is taken back and
   * requeued free, to run here now. The provider hears it as an abort: it withdraws the attempt from
   * the node's queue (or, if the node took it meanwhile, stops it: delivery is at least once).
   * Returns whether one was moved.
   */
  #moveQueued(pool: Pool, k: number): boolean {
    let pick: Attempt | undefined;
    for (const a of this.#attempts.queuedIn(pool)) {
      const at = a.keeper;
      // (Not one already decided — cancelled, its withdrawal under way — nor one on another position's
      // node, nor one needing more slots than k has free: it would only go to a queue again.)
      if (
        !a.decided &&
        at !== k &&
        pool.keepers[at]!.node === a.node &&
        pool.load[at]! > pool.nodes.slotsOf(at) &&
        a.slots <= pool.nodes.slotsOf(k) - pool.load[k]!
      )
        pick = a;
    }
    if (pick === undefined) return false;
    const to = pool.keepers[k]!.node!;
    const error = new NodeLostError(
      pick.node.id,
      `task "${pick.taskId}" attempt ${pick.attempt} waited in node "${pick.node.id}"'s queue while node "${to.id}" of pool "${pool.name}" had a free slot: moved there`,
    );
    pick.decided = true;
    this.#s.t.current[pick.task] = undefined;
    this.#attempts.release(pick);
    this.#tasks.requeue(pick, error);
    pick.abort(error); // after the task's move: abort listeners run the provider's code
    return true;
  }

  /** Fails the ready tasks of a pool that has no node and can start none. */
  #failQueued(pool: Pool): void {
    for (let i = pool.queue.pop(); i >= 0; i = pool.queue.pop()) {
      if (pool.nodes.shared) pool.queuedSlots -= this.slotsOf(i);
      if (this.#s.t.state[i] === READY) this.#tasks.fail(i, pool.startError);
    }
    for (const i of pool.wide.splice(0)) if (this.#s.t.state[i] === READY) this.#tasks.fail(i, pool.startError);
  }

  /** The most slots the run may hold now: min(concurrency, the slots of the nodes up). */
  capacity(): number {
    // (A loop: explore() asks after every step, and reduce's callback allocated each time.)
    let slots = 0;
    for (let p = 0; p < this.pools.length; p++) slots += this.pools[p]!.slots;
    return Math.min(this.#s.options.concurrency, slots);
  }

  /** The run starts using its pools. */
  attach(tenantFor: (pool: Pool) => Tenant): void {
    for (const pool of this.pools) {
      pool.tenant = tenantFor(pool);
      pool.nodes.attach(pool.tenant);
    }
  }

  /**
   * At the end of the run: a private pool starts no more nodes and stops every one (resolves when every
   * stop has finished); a shared pool goes on without this run. Returns what each pool did for the run.
   */
  async close(): Promise<Record<string, PoolRunStats>> {
    await Promise.all(this.pools.map((pool) => (pool.nodes.shared ? undefined : pool.nodes.close())));
    const stats: Record<string, PoolRunStats> = {};
    for (const pool of this.pools) stats[pool.name] = pool.nodes.detach(pool.tenant);
    return stats;
  }
}
