/**
 * The nodes of a pool, and who may use their slots. One NodePool serves either one run (a bare
 * provider in the run's `pools`: nodes start as that run's ready work needs them, up to the provider's
 * `maxNodes`, and all stop when the run ends) or every run given it (`pool(provider, options)`: it
 * lives until `close()`, sizes itself with its autoscale policy, and lets runs take free slots in
 * order of their `priority`, without starving any).
 *
 * Node positions: `keepers[k]` keeps the node at position k (its start, retries, stop); `load[k]` is the
 * slots its attempts hold, `placements[k]` the attempts ever placed there (the charging rule of lost
 * nodes, node-loss.ts). A position whose node is gone takes a new start later.
 *
 * This file owns the node positions and their slots (what an attempt holds, a node reserved for a
 * task that must run alone), the pool's events and closing it; the searches for a position with room
 * are in pool-slots.ts. Three rooms hold the rest, each made here and reaching back through the
 * members marked engine-internal: the keepers of the positions and what they report (a node up, lost,
 * preempted, a start given up on, a position let go) in pool-keepers.ts; the runs using the pool and
 * their turns in pool-turns.ts; sizing a shared pool (its policy, idle nodes, its timers) in
 * pool-autoscaler.ts.
 *
 * A private pool is made per run, and explore() starts a run per schedule: it makes nothing it never
 * uses (no autoscaler, no emitter, no timers).
 */
import { EventEmitter } from "eventemitter3";
import type { PoolMetrics, PoolTargets } from "./autoscale.ts";
import type { NodeLostError } from "./errors.ts";
import { GuardedListeners } from "./guarded-listeners.ts";
import type { NodeKeeper } from "./node-keeper.ts";
import { PoolAutoscaler } from "./pool-autoscaler.ts";
import { PoolKeepers } from "./pool-keepers.ts";
import { PoolMeter } from "./pool-meter.ts";
import type { ResolvedPoolOptions } from "./pool-options.ts";
import { QueueRoom } from "./pool-queue-room.ts";
import { fitsSomeNode, freePosition, hasEmptyPosition, slotsFree } from "./pool-slots.ts";
import type { PoolRunStats, PoolStats } from "./pool-stats.ts";
import { PoolTurns } from "./pool-turns.ts";
import type { NodeExit, PoolEventMap, Tenant } from "./pool-types.ts";
import type { ComputeProvider, ProviderNode } from "./provider.ts";
import type { Runtime } from "./runtime.ts";

export type { PoolRunStats, PoolStats } from "./pool-stats.ts";
export type { NodeExit, PoolEventMap, Tenant } from "./pool-types.ts";
export { STARVATION_BOUND } from "./pool-turns.ts";

type PoolListeners = { [K in keyof PoolEventMap]: (event: PoolEventMap[K] & { type: K; pool: string; at: number }) => void };

/** The kinds of a provider that names none (one frozen list for every pool). */
const FUNCTIONS_ONLY: readonly string[] = Object.freeze(["function"]);

export class NodePool {
  readonly name: string;
  readonly provider: ComputeProvider<any>;
  readonly kinds: readonly string[];
  readonly options: ResolvedPoolOptions;
  readonly runtime: Runtime;
  /** Made with `pool()`: several runs may use it, and it lives until `close()`. */
  readonly shared: boolean;
  /** Most nodes (dedicated and low-priority) at once. */
  readonly maxNodes: number;

  readonly keepers: NodeKeeper[] = [];
  readonly load: number[] = [];
  readonly placements: number[] = [];
  /** Per position: slots of `load` held by attempts waiting in the node's queue, not begun (`ProviderNode.prefetch`). */
  readonly queuedLoad: number[] = [];
  readonly exclusive: boolean[] = [];
  /** Per position: the node takes no new work and is stopped once empty (scale-down with "wait"). */
  readonly draining: boolean[] = [];
  /** Per position: when its node last became idle (NaN while busy or down). */
  readonly idleSince: number[] = [];
  /** A node position kept free of new work until a task waiting to run alone gets it, or -1. */
  reserved = -1;
  /** The run whose task waiting to run alone holds `reserved`. */
  #reservedBy: Tenant | undefined = undefined;
  /** The last error of a start that failed for good, if no node could be started. */
  startError: unknown = undefined;
  /** Engine-internal: largest node seen, for `fits()` and the default policy when `slotsPerNode` is not given. */
  seenSlots = 0;

  readonly meter: PoolMeter;
  /** Engine-internal: the runs using the pool and their turns (pool-turns.ts). */
  readonly turns: PoolTurns;
  /**
   * Engine-internal: the pool's sizing (pool-autoscaler.ts), a shared pool's only: a private pool
   * starts nodes as its run needs them and never evaluates (and explore() makes one per schedule).
   */
  readonly autoscaler: PoolAutoscaler | undefined;
  /** The node keepers and what they report (pool-keepers.ts). */
  readonly #keepers: PoolKeepers;
  /** The pool's own listeners (made when the first is added: a run's private pool never has any). */
  #events: EventEmitter<PoolListeners> | undefined = undefined;
  #guarded: GuardedListeners | undefined = undefined;
  #exclusiveCount = 0;
  #drainingCount = 0;
  #closed = false;
  /** Room in the nodes' queues (`ProviderNode.prefetch`). */
  readonly #queues: QueueRoom = new QueueRoom(this, () => this.turns.wakeAll());
  #closing: Promise<void> | undefined = undefined;
  /** Runs that ended while the pool waited to close. */
  #idleRuns: (() => void) | undefined = undefined;

  constructor(provider: ComputeProvider<any>, options: ResolvedPoolOptions, shared: boolean) {
    this.name = options.name;
    this.provider = provider;
    this.kinds = provider.kinds ?? FUNCTIONS_ONLY;
    this.options = options;
    this.runtime = options.runtime;
    this.shared = shared;
    this.maxNodes = options.maxNodes + options.maxLowPriority;
    this.meter = new PoolMeter(options.runtime, options.costPerNodeHour);
    this.turns = new PoolTurns(this.meter);
    this.autoscaler = shared ? new PoolAutoscaler(this) : undefined;
    this.#keepers = new PoolKeepers(this);
  }

  /** Adds a user's listener (`pool.on`), guarded: a throw stops neither the other listeners nor the pool. */
  listen<K extends keyof PoolEventMap>(event: K, listener: PoolListeners[K]): void {
    this.#events ??= new EventEmitter<PoolListeners>();
    this.#guarded ??= new GuardedListeners();
    this.#events.on(event, this.#guarded.wrap(listener as (event: never) => void) as never);
  }

  /** Removes a listener added with `listen`. */
  unlisten<K extends keyof PoolEventMap>(event: K, listener: PoolListeners[K]): void {
    const guarded = this.#guarded?.wrapped(listener as (event: never) => void);
    if (guarded !== undefined) this.#events?.off(event, guarded as never);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** `close()` was called (it may still wait for runs to end). */
  get closing(): boolean {
    return this.#closing !== undefined;
  }

  /** The runs using the pool now. */
  get tenants(): number {
    return this.turns.entries.length;
  }

  // ---- runs (their entries and turns: pool-turns.ts) ----

  /**
   * A run was made with this pool and will attach when it begins (a microtask later): `close()` called
   * meanwhile waits for it too.
   */
  expect(): void {
    this.turns.expect();
  }

  /** A run starts using the pool. */
  attach(tenant: Tenant): void {
    this.turns.attach(tenant);
    const scaler = this.autoscaler;
    if (scaler !== undefined) {
      scaler.armInterval();
      scaler.evaluateSoon(); // a run came: its policy may want nodes ahead of its first ready task
    }
  }

  /** A run stopped using the pool; returns what the pool did for it meanwhile. */
  detach(tenant: Tenant): PoolRunStats {
    const entry = this.turns.detach(tenant);
    this.unreserve(tenant);
    const stats = this.meter.since(entry.from, entry.peak);
    const scaler = this.autoscaler;
    if (scaler !== undefined) {
      scaler.evaluateSoon();
      // The runs left may have been waiting for this one's turn.
      this.turns.wakeAll();
      if (this.turns.none) {
        // No run to serve: no periodic evaluation either (idle nodes still time out).
        scaler.stopInterval();
        this.#idleRuns?.();
      }
    }
    return stats;
  }

  /** The run whose turn it is when `asking` wants a slot, if not `asking` (see PoolTurns.turn). */
  turn(asking: Tenant): Tenant | undefined {
    return this.turns.turn(asking);
  }

  /** `tenant` took a slot: every other run with ready work was passed over once more. */
  took(tenant: Tenant): void {
    this.turns.took(tenant);
  }

  // ---- slots ----

  get restricted(): boolean {
    return this.#exclusiveCount > 0 || this.reserved >= 0 || this.#drainingCount > 0;
  }

  /** Slots of the node at position k (the pool's `slotsPerNode`, else the node's own). */
  slotsOf(k: number): number {
    return this.options.slotsPerNode ?? this.keepers[k]!.node!.slots;
  }

  /**
   * Attempts the node at position k may hold: its slots, and those it queues (`ProviderNode.prefetch`);
   * after its provider shrank the queue (`NodeReport.prefetch`), also what it holds from before, up to
   * the room it had then (placement never puts it back over the new room, so that part only shrinks).
   */
  roomOf(k: number): number {
    const keeper = this.keepers[k]!;
    const slots = this.slotsOf(k);
    const room = slots + keeper.prefetch;
    return keeper.heldPrefetch > keeper.prefetch ? Math.max(room, Math.min(slots + keeper.heldPrefetch, this.load[k]!)) : room;
  }

  /** A position whose node is up, takes shared work and has `need` free slots, or -1 (pool-slots.ts). */
  free(need: number): number {
    return freePosition(this, need);
  }

  /** A position whose node's queue has room for `need`, when `ready` tasks are more than the slots free or coming; else -1 (pool-queue-room.ts). */
  queueRoom(need: number, ready: number): number {
    return this.#queues.position(need, ready);
  }

  /** Slots free on the nodes up (pool-slots.ts). */
  slotsFree(): number {
    return slotsFree(this);
  }

  /** Whether some node up (or one the pool may still start) could ever hold `need` slots. */
  fits(need: number): boolean {
    return fitsSomeNode(this, need);
  }

  /**
   * A position for a task that must run alone: an up node with nothing on it (the reserved one first),
   * or -1. When there is none, the least loaded node is reserved: it takes no new work, so it empties
   * and the task cannot wait forever behind a stream of other tasks.
   */
  empty(tenant: Tenant | undefined): number {
    if (this.reserved >= 0 && this.keepers[this.reserved]!.node === undefined) this.reserved = -1;
    if (this.reserved >= 0 && this.load[this.reserved] === 0) return this.reserved;
    let best = -1;
    let bestLoad = Infinity;
    for (let k = 0; k < this.keepers.length; k++) {
      if (this.keepers[k]!.node === undefined || this.exclusive[k] === true || this.draining[k] === true) continue;
      if (this.load[k] === 0) return k;
      if (this.reserved < 0 && this.load[k]! < bestLoad) [best, bestLoad] = [k, this.load[k]!];
    }
    if (this.reserved < 0 && best >= 0) {
      this.reserved = best;
      this.#reservedBy = tenant;
    }
    return -1;
  }

  /** `tenant` has no task waiting to run alone any more: its reservation (if it holds it) ends. */
  unreserve(tenant: Tenant | undefined): void {
    if (this.#reservedBy === tenant) this.reserved = -1;
  }

  /** Whether some up node that takes work has nothing on it (a task that must run alone could go there now). */
  hasEmpty(): boolean {
    return hasEmptyPosition(this);
  }

  /**
   * An attempt takes `need` slots at position k. Returns its placement (see node-loss.ts), or 0 for
   * one `queued` in the node's queue: it gets its placement when it begins (`began`).
   */
  take(k: number, need: number, queued = false): number {
    const load = this.load[k]!;
    this.load[k] = load + need;
    if (load === 0) this.idleSince[k] = NaN;
    if (queued) {
      this.queuedLoad[k]! += need;
      return 0;
    }
    return this.#placed(k, need, load - this.queuedLoad[k]!);
  }

  /** A queued attempt at position k began to run. Returns its placement (see node-loss.ts). */
  began(k: number, need: number): number {
    this.queuedLoad[k]! -= need;
    return this.#placed(k, need, this.load[k]! - this.queuedLoad[k]! - need);
  }

  /** An attempt runs at position k, where `others` slots were running: counted, and its placement. */
  #placed(k: number, need: number, others: number): number {
    const placed = ++this.placements[k]!;
    // Only running attempts are busy: one waiting in a node's queue does not use the node yet.
    if (this.meter.metered) this.meter.busy(need);
    return others === 0 ? placed : -placed;
  }

  /** An attempt at position k let go of its `need` slots (`queued`: it never began). */
  give(k: number, need: number, queued = false): void {
    const load = (this.load[k] = this.load[k]! - need);
    if (queued) this.queuedLoad[k]! -= need;
    else if (this.meter.metered) this.meter.busy(-need);
    if (this.#exclusiveCount > 0 && this.exclusive[k] === true) this.hold(k, false);
    const scaler = this.autoscaler;
    if (scaler !== undefined) {
      if (load === 0) scaler.maybeIdle(k);
      // Another run may be waiting for its turn: it is woken after this step.
      if (this.turns.entries.length > 1) this.turns.wakeAll();
    }
  }

  hold(k: number, on: boolean): void {
    if (this.exclusive[k] === on) return;
    this.exclusive[k] = on;
    this.#exclusiveCount += on ? 1 : -1;
    if (on && this.reserved === k) this.reserved = -1;
  }

  get alive(): boolean {
    for (const keeper of this.keepers) if (keeper.node !== undefined || keeper.starting) return true;
    return false;
  }

  /** Attempts the nodes up now may hold: their slots, and what they queue (`ProviderNode.prefetch`). */
  get slots(): number {
    let slots = 0;
    for (let k = 0; k < this.keepers.length; k++) if (this.keepers[k]!.node !== undefined) slots += this.roomOf(k);
    return slots;
  }

  keeperOf(node: object): number {
    for (let k = 0; k < this.keepers.length; k++) if (this.keepers[k]!.node === node) return k;
    return -1;
  }

  /** Engine-internal (the autoscaler's scale-down): position k takes no new work and is stopped once empty (`on`), or takes work again. */
  drain(k: number, on: boolean): void {
    this.draining[k] = on;
    this.#drainingCount += on ? 1 : -1;
  }

  // ---- the positions' keepers (pool-keepers.ts) ----

  /**
   * Ready work of `tenant` found no free slot. A private pool starts one node per waiting task (a new
   * node has at least one slot), counting those on their way, up to `maxNodes`; a shared pool asks its
   * policy.
   */
  grow(waiting: number, tenant: Tenant): void {
    const scaler = this.autoscaler;
    if (scaler !== undefined) scaler.grow();
    else this.#keepers.grow(waiting, tenant);
  }

  /** Engine-internal (also the autoscaler's): a new position, with a keeper whose node is not started yet. */
  addPosition(tenant: Tenant | undefined): number {
    return this.#keepers.addPosition(tenant);
  }

  /** Engine-internal (the autoscaler's): position k's keeper was retired earlier: a fresh keeper takes the position. */
  renew(k: number): void {
    this.#keepers.renew(k);
  }

  /**
   * Engine-internal (also the autoscaler's): lets go of position k's node (or its start in flight): it
   * takes no more work and is stopped (`close()` waits for that). Only a node with no attempt left is
   * retired (or one whose attempts were moved off it).
   */
  retire(k: number): void {
    this.#keepers.retire(k);
  }

  /** A node left: every run using the pool moves its attempts off it (see PoolKeepers.lose). False: the node was no longer in use. */
  lose(node: ProviderNode, error: NodeLostError, exit: NodeExit, origin: Tenant | undefined, under: unknown): boolean {
    return this.#keepers.lose(node, error, exit, origin, under);
  }

  // ---- events ----

  /** Engine-internal (also the autoscaler's): tells every run using the pool, then the pool's own listeners. */
  emit<K extends keyof PoolEventMap>(type: K, payload: PoolEventMap[K]): void {
    for (const entry of this.turns.entries) entry.tenant.event(type, payload);
    const events = this.#events;
    if (events !== undefined && events.listenerCount(type) > 0)
      (events.emit as (t: string, e: unknown) => void)(type, { type, pool: this.name, ...payload, at: this.runtime.now() });
  }

  // ---- sizing (pool-autoscaler.ts; a shared pool's: `pool()` is their only caller) ----

  /** What the policy sees now. */
  metrics(): PoolMetrics {
    return this.autoscaler!.metrics();
  }

  /** Runs the policy on `metrics` without touching a node; throws E_INVALID_OPTION when its answer is invalid. */
  dryRun(metrics: PoolMetrics): PoolTargets {
    return this.autoscaler!.dryRun(metrics);
  }

  /** Sizes the pool now: runs the policy on the metrics and starts or lets go of nodes to meet its targets. */
  evaluate(reason: string): void {
    this.autoscaler?.evaluate(reason);
  }

  // ---- the whole pool ----

  /** Targets, node counts and accounting of the pool as a whole. */
  stats(): PoolStats {
    const m = this.metrics();
    return {
      ...this.meter.since(undefined, this.meter.peak),
      targets: this.autoscaler!.targets,
      nodes: m.nodes,
      runs: this.turns.entries.length,
      closed: this.#closed,
    };
  }

  /**
   * No more starts; every node stopped; resolves when every stop has finished. A shared pool first waits
   * for the runs using it to end.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closing = (async () => {
      if (this.shared && !this.turns.none) await new Promise<void>((resolve) => (this.#idleRuns = resolve));
      this.#closed = true;
      this.autoscaler?.stop();
      this.#queues.stop();
      for (let k = 0; k < this.keepers.length; k++) if (!this.keepers[k]!.retired) this.retire(k);
      const retiring = this.#keepers.retiring;
      while (retiring !== undefined && retiring.length > 0) await Promise.all(retiring);
    })();
    return this.#closing;
  }
}
