/**
 * The keepers of a pool's node positions, and what they report. It adds a position (a private pool
 * adds and starts them as its run's ready work needs nodes: `grow`) or renews one, making its
 * NodeKeeper and the host the keeper reports to; then it carries out what the keeper reports: a node
 * up (its slots counted, the runs woken), a node lost or preempted (`lose`: forgotten, and every run
 * using the pool moves its attempts off it), a start given up on, nodes metered from their start
 * request until their stop finished. It also lets go of a position (`retire`) and keeps the stops in
 * flight that `close()` waits for.
 *
 * It is apart from NodePool so the life of a node can be read on its own; the positions' slots, the
 * runs using the pool and its events stay with NodePool, reached through the KeptPool below (like the
 * autoscaler's AutoscaledPool: no import of NodePool, so no import cycle).
 */
import { NodeLostError, messageOf } from "./errors.ts";
import { NodeKeeper, type NodeKeeperHost } from "./node-keeper.ts";
import type { PoolAutoscaler } from "./pool-autoscaler.ts";
import type { PoolMeter } from "./pool-meter.ts";
import type { ResolvedPoolOptions } from "./pool-options.ts";
import type { PoolTurns } from "./pool-turns.ts";
import type { NodeExit, PoolEventMap, Tenant } from "./pool-types.ts";
import type { ComputeProvider, NodePriority, ProviderNode } from "./provider.ts";
import type { FaultPoint, Runtime } from "./runtime.ts";
import { nodeLabel } from "./trace-labels.ts";

/** What the keepers' room needs of its pool (NodePool's engine-internal members). */
export interface KeptPool {
  readonly name: string;
  readonly provider: ComputeProvider<any>;
  readonly options: ResolvedPoolOptions;
  readonly runtime: Runtime;
  readonly closed: boolean;
  /** Most nodes (dedicated and low-priority) at once. */
  readonly maxNodes: number;
  readonly keepers: NodeKeeper[];
  readonly load: number[];
  readonly placements: number[];
  readonly queuedLoad: number[];
  readonly exclusive: boolean[];
  readonly draining: boolean[];
  readonly idleSince: number[];
  reserved: number;
  startError: unknown;
  seenSlots: number;
  readonly meter: PoolMeter;
  readonly turns: PoolTurns;
  /** A shared pool's autoscaler (told of node changes); a private pool has none. */
  readonly autoscaler: PoolAutoscaler | undefined;
  /** Whether some node is up or starting. */
  readonly alive: boolean;
  keeperOf(node: object): number;
  /** Position k holds a task that runs alone (`on`), or no longer. */
  hold(k: number, on: boolean): void;
  /** Position k takes no new work and is stopped once empty (`on`), or takes work again. */
  drain(k: number, on: boolean): void;
  emit<K extends keyof PoolEventMap>(type: K, payload: PoolEventMap[K]): void;
}

export class PoolKeepers {
  readonly #pool: KeptPool;
  /** Per position: the slots its node adds to the pool's metered capacity (0 while down). */
  readonly #counted: number[] = [];
  /** The stops of retired positions still in flight (made at the first retirement). */
  #retiring: Promise<void>[] | undefined = undefined;

  constructor(pool: KeptPool) {
    this.#pool = pool;
  }

  /**
   * The stops in flight (`close()` waits until none is left: `Promise.all` of it, again while it is not
   * empty), or undefined while no position was ever retired.
   */
  get retiring(): readonly Promise<void>[] | undefined {
    return this.#retiring;
  }

  /**
   * A private pool's ready work of `tenant` found no free slot: one node is started per waiting task (a
   * new node has at least one slot), counting those on their way, up to `maxNodes`.
   */
  grow(waiting: number, tenant: Tenant): void {
    const keepers = this.#pool.keepers;
    let coming = 0;
    for (const keeper of keepers) if (keeper.starting) coming++;
    for (let k = 0; k < this.#pool.maxNodes && coming < waiting; k++) {
      if (k === keepers.length) this.addPosition(tenant);
      const keeper = keepers[k]!;
      if (keeper.node !== undefined || keeper.starting || keeper.gaveUp) continue;
      coming++;
      keeper.start();
    }
  }

  /** A new position (at the end of each of the pool's per-position arrays), with a keeper whose node is not started yet. */
  addPosition(tenant: Tenant | undefined): number {
    const pool = this.#pool;
    const k = pool.keepers.length;
    pool.keepers.push(this.#keeper(k, tenant));
    this.#counted.push(0);
    pool.load.push(0);
    pool.placements.push(0);
    pool.queuedLoad.push(0);
    pool.exclusive.push(false);
    pool.draining.push(false);
    pool.idleSince.push(NaN);
    return k;
  }

  /** Position k's keeper was retired earlier: a fresh keeper takes the position. */
  renew(k: number): void {
    const pool = this.#pool;
    if (!pool.keepers[k]!.retired) return;
    pool.keepers[k] = this.#keeper(k, undefined);
    pool.placements[k] = 0;
    pool.queuedLoad[k] = 0;
    pool.load[k] = 0;
    if (pool.exclusive[k]) pool.hold(k, false);
  }

  /** A keeper for position k (its host's meter and errors stay with it after the position is renewed). */
  #keeper(k: number, tenant: Tenant | undefined): NodeKeeper {
    let keeper: NodeKeeper | undefined;
    const host = this.#hostFor(k, tenant, () => keeper!);
    keeper = new NodeKeeper(host);
    return keeper;
  }

  /**
   * Lets go of position k's node (or its start in flight): it takes no more work and is stopped
   * (`close()` waits for that).
   */
  retire(k: number): void {
    const pool = this.#pool;
    pool.autoscaler?.changed();
    const keeper = pool.keepers[k]!;
    const node = keeper.node;
    this.#down(k);
    keeper.retired = true;
    const priority = keeper.priority;
    const retiring = (this.#retiring ??= []);
    const closing = keeper.close().then(() => {
      retiring.splice(retiring.indexOf(closing), 1);
      if (node !== undefined) pool.emit("node:stop", { nodeId: node.id, priority });
      // Its place under the bound is free again: a start held back for it may go now.
      pool.autoscaler?.evaluateSoon();
    });
    retiring.push(closing);
  }

  #hostFor(k: number, tenant: Tenant | undefined, self: () => NodeKeeper): NodeKeeperHost {
    const pool = this.#pool;
    const runtime = pool.runtime;
    const controlled = tenant === undefined ? typeof runtime.defer === "function" : tenant.controlled;
    const runtimeFault = runtime.fault;
    const fault =
      tenant !== undefined
        ? tenant.fault
        : typeof runtimeFault === "function"
          ? (point: FaultPoint) => runtimeFault.call(runtime, point, { point, jobName: `pool ${pool.name}` }) ?? undefined
          : undefined;
    return {
      runtime,
      provider: pool.provider,
      fault,
      wanted: () => (tenant !== undefined ? tenant.wanted() : !pool.closed && !self().retired),
      mayStart: () => pool.autoscaler?.underBound(self().priority) ?? true,
      ready: (node) => this.#up(k, node),
      failed: (error) => this.#gaveUp(k, error),
      lost: (node, reason) => this.#reported(node, reason, "lost"),
      preempted: (node, reason) => this.#reported(node, reason, "preempted"),
      roomGrew: () => pool.turns.wakeAll(),
      meter: (delta, priority) => this.#metered(priority, delta),
      startTimeoutMs: pool.options.startTimeoutMs,
      retryLabel: controlled ? nodeLabel("retry node start", pool.name, k) : undefined,
      boundLabel: controlled ? nodeLabel("provider wait", pool.name, k) : undefined,
      stopTimeoutMs: pool.options.stopTimeoutMs,
      providerError: (operation, nodeId, error) => pool.emit("provider:error", { operation, nodeId, error }),
    };
  }

  #metered(priority: NodePriority, delta: 1 | -1): void {
    const pool = this.#pool;
    pool.meter.nodes(priority === "lowPriority" ? 1 : 0, delta);
    // A node's life ended (its stop finished, or its start failed): a start held back for room may go.
    if (delta === -1) pool.autoscaler?.evaluateSoon();
    if (delta === 1) pool.turns.peaked();
  }

  #up(k: number, node: ProviderNode): void {
    const pool = this.#pool;
    const autoscaler = pool.autoscaler;
    if (autoscaler !== undefined) {
      autoscaler.changed();
      // Starts work again: the backoff after failed starts ends, and their error is history.
      autoscaler.startsWork();
    }
    pool.startError = undefined;
    const slots = pool.options.slotsPerNode ?? node.slots;
    if (Number.isFinite(node.slots)) pool.seenSlots = Math.max(pool.seenSlots, node.slots);
    this.#counted[k] = slots;
    pool.meter.slotsUp(slots);
    pool.idleSince[k] = pool.runtime.now();
    pool.emit("node:start", { nodeId: node.id, slots, priority: pool.keepers[k]!.priority });
    if (autoscaler !== undefined) {
      autoscaler.becameIdle(k);
      pool.turns.wakeAll();
    } else pool.turns.entries[0]?.tenant.wake();
  }

  /** Node `node` is gone (reported by its provider, or under an attempt): its attempts move. */
  #reported(node: ProviderNode, reason: unknown, exit: NodeExit): void {
    const why = reason === undefined ? `reported ${exit === "preempted" ? "preempted" : "lost"} by its provider` : messageOf(reason);
    const error = new NodeLostError(node.id, `node "${node.id}" of pool "${this.#pool.name}" was ${exit === "preempted" ? "preempted" : "lost"}: ${why}`, {
      cause: reason,
    });
    this.lose(node, error, exit, undefined, undefined);
  }

  /**
   * A node left: it is forgotten (and stopped), counted, and every run using the pool moves its
   * attempts off it (`under`: the attempt of `origin` that reported it). Returns false when the node
   * was no longer in use.
   */
  lose(node: ProviderNode, error: NodeLostError, exit: NodeExit, origin: Tenant | undefined, under: unknown): boolean {
    const pool = this.#pool;
    const k = pool.keeperOf(node);
    if (k < 0) return false;
    this.#down(k);
    pool.keepers[k]!.forget(node);
    if (exit === "preempted") {
      pool.meter.preemptions++;
      pool.autoscaler?.preempted();
      pool.emit("node:preempted", { nodeId: node.id, error });
    } else if (exit === "lost") pool.emit("node:lost", { nodeId: node.id, error });
    for (const entry of pool.turns.entries.slice()) entry.tenant.nodeGone(k, node, error, exit, entry.tenant === origin ? under : undefined);
    pool.autoscaler?.evaluateSoon();
    return true;
  }

  /** Position k's node leaves the pool's counts (it is being stopped). Idempotent. */
  #down(k: number): void {
    const pool = this.#pool;
    pool.autoscaler?.changed();
    if (this.#counted[k]! > 0) pool.meter.slotsUp(-this.#counted[k]!);
    this.#counted[k] = 0;
    pool.idleSince[k] = NaN;
    if (pool.draining[k]) pool.drain(k, false);
    if (pool.reserved === k) pool.reserved = -1;
  }

  #gaveUp(k: number, error: unknown): void {
    const pool = this.#pool;
    const autoscaler = pool.autoscaler;
    autoscaler?.changed();
    pool.meter.startFailures++;
    autoscaler?.startFailed();
    if (autoscaler === undefined) {
      pool.turns.entries[0]?.tenant.startFailed(error);
      return;
    }
    pool.startError = error;
    // The position gives up; the pool tries again later, backing off while starts keep failing.
    this.retire(k);
    autoscaler.backOff();
    if (!pool.alive) for (const entry of pool.turns.entries.slice()) entry.tenant.startFailed(error);
  }
}
