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
 */
import { EventEmitter } from "eventemitter3";
import { type AutoscalePolicy, checkTargets, defaultTargets, type NodeCounts, type PoolMetrics, type PoolTargets } from "./autoscale.ts";
import { NodeLostError, messageOf } from "./errors.ts";
import { NodeKeeper, type NodeKeeperHost } from "./node-keeper.ts";
import { PoolMeter, type MeterReading } from "./pool-meter.ts";
import type { PoolRunStats } from "./pool-stats.ts";

export type { PoolRunStats } from "./pool-stats.ts";
import type { ResolvedPoolOptions } from "./pool-options.ts";
import type { ComputeProvider, NodePriority, ProviderNode } from "./provider.ts";
import type { FaultAction, FaultPoint, Runtime, TimerHandle } from "./runtime.ts";
import { nodeLabel, poolLabel } from "./trace-labels.ts";

/** How a node left: lost (crashed, unreachable), preempted (taken back by its cloud), or let go by the pool while busy. */
export type NodeExit = "lost" | "preempted" | "scaleDown";

/** The events of a pool (also emitted to each run using it, with the run's name for the pool). */
export interface PoolEventMap {
  "pool:resize": { readonly dedicated: number; readonly lowPriority: number; readonly reason: string };
  "node:start": { readonly nodeId: string; readonly slots: number; readonly priority: NodePriority };
  "node:idle": { readonly nodeId: string };
  "node:stop": { readonly nodeId: string; readonly priority: NodePriority };
  "node:preempted": { readonly nodeId: string; readonly error: unknown };
  "node:lost": { readonly nodeId: string; readonly error: unknown };
  "provider:error": { readonly operation: "startNode" | "stopNode" | "autoscale"; readonly nodeId: string | undefined; readonly error: unknown };
}

type PoolListeners = { [K in keyof PoolEventMap]: (event: PoolEventMap[K] & { type: K; pool: string; at: number }) => void };

/** What a pool asks of a run using it. */
export interface Tenant {
  /** The run's priority for free slots (run option `priority`). */
  readonly priority: number;
  /** Whether the run has a ready task waiting for the pool (a slot, or a node of its own). */
  hasReady(): boolean;
  /** Demand of this run on the pool, for the autoscaler. */
  demand(): { ready: number; readySlots: number; running: number; runningSlots: number; waiting: number; waitingSlots: number };
  /** Whether the run still wants nodes (it runs and has work left). */
  wanted(): boolean;
  /** Consults a fault point of the run's runtime (undefined: none are injected). */
  readonly fault: ((point: FaultPoint) => FaultAction | undefined) | undefined;
  /** Whether the run's runtime is controlled (timers get trace labels). */
  readonly controlled: boolean;
  /** A node is up, or a slot freed that this run may want: place ready tasks (private pools: now; shared: soon). */
  wake(): void;
  /** Node `node` at position k left (`exit`): the run's attempts on it are released and requeued. `under`: the attempt that reported it. */
  nodeGone(k: number, node: ProviderNode, error: NodeLostError, exit: NodeExit, under: unknown): void;
  /** No node could be started, and none is up or on its way. */
  startFailed(error: unknown): void;
  /** An event of the pool, for the run's listeners. */
  event<K extends keyof PoolEventMap>(type: K, payload: PoolEventMap[K]): void;
}

interface TenantEntry {
  readonly tenant: Tenant;
  /** Slots given to other runs while this one had ready work, since it last got one. */
  passed: number;
  /** Most nodes up or starting while the run used the pool. */
  peak: number;
  readonly from: MeterReading;
}

/** A run with ready work gets a slot after at most this many slots went to other runs of the pool. */
export const STARVATION_BOUND = 8;

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

  readonly meter: PoolMeter;
  /** The pool's own listeners (made when the first is added: a run's private pool never has any). */
  #events: EventEmitter<PoolListeners> | undefined = undefined;
  readonly #tenants: TenantEntry[] = [];
  #exclusiveCount = 0;
  /** Per position: the slots its node adds to the pool's metered capacity (0 while down). */
  readonly #counted: number[] = [];
  #closed = false;
  #closing: Promise<void> | undefined = undefined;
  readonly #retiring = new Set<Promise<void>>();
  #targets: PoolTargets = { dedicated: 0, lowPriority: 0 };
  #preemptionsSince = 0;
  #startFailuresSince = 0;
  /** Largest node seen, for the default policy when `slotsPerNode` is not given. */
  #seenSlots = 0;
  #evaluating = false;
  #evaluateQueued = false;
  #idleTimer: TimerHandle | undefined = undefined;
  #idleDue = Infinity;
  /** After starts failed for good, no new start before this time (backoff doubles, up to a minute). */
  #startBackoffMs = 0;
  #startBackoffTimer: TimerHandle | undefined = undefined;
  #wakeQueued = false;
  /** Runs made with the pool that have not begun yet. */
  #expected = 0;
  readonly #idleCandidates: number[] = [];
  #idleCheckQueued = false;
  /** Counts changes of node state; an evaluation on demand is skipped when none happened since the last. */
  #changes = 0;
  #evaluatedChanges = -1;
  #intervalTimer: TimerHandle | undefined = undefined;
  /** Runs that ended while the pool waited to close. */
  #idleRuns: (() => void) | undefined = undefined;

  constructor(provider: ComputeProvider<any>, options: ResolvedPoolOptions, shared: boolean) {
    this.name = options.name;
    this.provider = provider;
    this.kinds = provider.kinds ?? ["function"];
    this.options = options;
    this.runtime = options.runtime;
    this.shared = shared;
    this.maxNodes = options.maxNodes + options.maxLowPriority;
    this.meter = new PoolMeter(options.runtime, options.costPerNodeHour);
  }

  get events(): EventEmitter<PoolListeners> {
    return (this.#events ??= new EventEmitter<PoolListeners>());
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
    return this.#tenants.length;
  }

  // ---- runs ----

  /** A run starts using the pool. */
  /**
   * A run was made with this pool and will attach when it begins (a microtask later): `close()` called
   * meanwhile waits for it too.
   */
  expect(): void {
    this.#expected++;
  }

  attach(tenant: Tenant): void {
    if (this.#expected > 0) this.#expected--;
    this.#tenants.push({ tenant, passed: 0, peak: this.meter.alive, from: this.meter.read() });
    if (this.shared) {
      this.#armInterval();
      this.#evaluateSoon(); // a run came: its policy may want nodes ahead of its first ready task
    }
  }

  /** A run stopped using the pool; returns what the pool did for it meanwhile. */
  detach(tenant: Tenant): PoolRunStats {
    const at = this.#tenants.findIndex((each) => each.tenant === tenant);
    const entry = this.#tenants[at]!;
    this.#tenants.splice(at, 1);
    this.unreserve(tenant);
    const stats = this.meter.since(entry.from, entry.peak);
    if (this.shared) {
      this.#evaluateSoon();
      // The runs left may have been waiting for this one's turn.
      this.#wakeAll();
      if (this.#tenants.length === 0 && this.#expected === 0) {
        // No run to serve: no periodic evaluation either (idle nodes still time out).
        if (this.#intervalTimer !== undefined) this.runtime.clearTimer(this.#intervalTimer);
        this.#intervalTimer = undefined;
        this.#idleRuns?.();
      }
    }
    return stats;
  }

  /**
   * The run whose turn it is when `asking` wants a slot, if not `asking`: a starving run first (passed
   * over STARVATION_BOUND times), then the highest priority among runs with ready work. Only shared
   * pools with several runs have turns.
   */
  turn(asking: Tenant): Tenant | undefined {
    const tenants = this.#tenants;
    if (tenants.length < 2) return undefined;
    let best: TenantEntry | undefined;
    for (const entry of tenants) {
      if (entry.tenant !== asking && !entry.tenant.hasReady()) continue;
      if (best === undefined || outranks(entry, best)) best = entry;
    }
    return best === undefined || best.tenant === asking ? undefined : best.tenant;
  }

  /** `tenant` took a slot: every other run with ready work was passed over once more. */
  took(tenant: Tenant): void {
    const tenants = this.#tenants;
    if (tenants.length < 2) return;
    for (const entry of tenants) {
      if (entry.tenant === tenant) entry.passed = 0;
      else if (entry.tenant.hasReady()) entry.passed++;
    }
  }

  // ---- slots ----

  get restricted(): boolean {
    return this.#exclusiveCount > 0 || this.reserved >= 0 || this.#drainingCount > 0;
  }

  #drainingCount = 0;

  /** Slots of the node at position k (the pool's `slotsPerNode`, else the node's own). */
  slotsOf(k: number): number {
    return this.options.slotsPerNode ?? this.keepers[k]!.node!.slots;
  }

  /**
   * A position whose node is up, takes shared work and has `need` free slots, or -1: the least loaded
   * (`spread`), or the fullest that fits (`pack`, so the others empty and can go).
   */
  free(need: number): number {
    const keepers = this.keepers;
    const restricted = this.restricted;
    const pack = this.options.pack;
    const fixed = this.options.slotsPerNode;
    let best = -1;
    let bestLoad = pack ? -1 : Infinity;
    for (let k = 0; k < keepers.length; k++) {
      const node = keepers[k]!.node;
      const load = this.load[k]!;
      if (node === undefined || load + need > (fixed ?? node.slots)) continue;
      if (pack ? load <= bestLoad : load >= bestLoad) continue;
      if (restricted && (this.exclusive[k] === true || k === this.reserved || this.draining[k] === true)) continue;
      best = k;
      bestLoad = load;
      if (!pack && load === 0) break;
    }
    return best;
  }

  /** Whether some node up (or one the pool may still start) could ever hold `need` slots. */
  fits(need: number): boolean {
    if (this.options.slotsPerNode !== undefined) return need <= this.options.slotsPerNode;
    for (const keeper of this.keepers) if (keeper.node !== undefined && keeper.node.slots >= need) return true;
    return this.#seenSlots === 0 || need <= this.#seenSlots;
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
    for (let k = 0; k < this.keepers.length; k++) {
      if (this.keepers[k]!.node !== undefined && this.load[k] === 0 && this.exclusive[k] !== true && this.draining[k] !== true) return true;
    }
    return false;
  }

  /** An attempt takes `need` slots at position k. Returns its placement (see node-loss.ts). */
  take(k: number, need: number): number {
    const placed = ++this.placements[k]!;
    const load = this.load[k]!;
    this.load[k] = load + need;
    if (this.meter.metered) this.meter.busy(need);
    if (load === 0) this.idleSince[k] = NaN;
    return load === 0 ? placed : -placed;
  }

  /** An attempt at position k let go of its `need` slots. */
  give(k: number, need: number): void {
    const load = (this.load[k] = this.load[k]! - need);
    if (this.meter.metered) this.meter.busy(-need);
    if (this.#exclusiveCount > 0 && this.exclusive[k] === true) this.hold(k, false);
    if (this.shared) {
      if (load === 0) this.#maybeIdle(k);
      // Another run may be waiting for its turn: it is woken after this step.
      if (this.#tenants.length > 1) this.#wakeAll();
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

  /** Slots of the nodes up now. */
  get slots(): number {
    let slots = 0;
    for (let k = 0; k < this.keepers.length; k++) if (this.keepers[k]!.node !== undefined) slots += this.slotsOf(k);
    return slots;
  }

  keeperOf(node: object): number {
    for (let k = 0; k < this.keepers.length; k++) if (this.keepers[k]!.node === node) return k;
    return -1;
  }

  // ---- growth ----

  /**
   * Ready work of `tenant` found no free slot. A private pool starts one node per waiting task (a new
   * node has at least one slot), counting those on their way, up to `maxNodes`; a shared pool asks its
   * policy.
   */
  grow(waiting: number, tenant: Tenant): void {
    if (this.shared) {
      // Nothing can grow a pool already at its bounds until a node comes or goes: no need to ask again.
      const o = this.options;
      if (this.#changes === this.#evaluatedChanges && this.#targets.dedicated === o.maxNodes && this.#targets.lowPriority === o.maxLowPriority) return;
      this.evaluate("demand");
      return;
    }
    let coming = 0;
    for (const keeper of this.keepers) if (keeper.starting) coming++;
    for (let k = 0; k < this.maxNodes && coming < waiting; k++) {
      if (k === this.keepers.length) this.#addPosition(tenant);
      const keeper = this.keepers[k]!;
      if (keeper.node !== undefined || keeper.starting || keeper.gaveUp) continue;
      coming++;
      keeper.start();
    }
  }

  #addPosition(tenant: Tenant | undefined): number {
    const k = this.keepers.length;
    this.keepers.push(this.#keeper(k, tenant));
    this.#counted.push(0);
    this.load.push(0);
    this.placements.push(0);
    this.exclusive.push(false);
    this.draining.push(false);
    this.idleSince.push(NaN);
    return k;
  }

  // ---- what the keepers report ----

  /** A keeper for position k (its host's meter and errors stay with it after the position is renewed). */
  #keeper(k: number, tenant: Tenant | undefined): NodeKeeper {
    let keeper: NodeKeeper | undefined;
    const host = this.#hostFor(k, tenant, () => keeper!);
    keeper = new NodeKeeper(host);
    return keeper;
  }

  #hostFor(k: number, tenant: Tenant | undefined, self: () => NodeKeeper): NodeKeeperHost {
    const controlled = tenant === undefined ? typeof this.runtime.defer === "function" : tenant.controlled;
    const runtimeFault = this.runtime.fault;
    const fault =
      tenant !== undefined
        ? tenant.fault
        : typeof runtimeFault === "function"
          ? (point: FaultPoint) => runtimeFault.call(this.runtime, point, { point, jobName: `pool ${this.name}` }) ?? undefined
          : undefined;
    return {
      runtime: this.runtime,
      provider: this.provider,
      fault,
      wanted: () => (tenant !== undefined ? tenant.wanted() : !this.#closed && !self().retired),
      mayStart: () => tenant !== undefined || this.#underBound(self().priority),
      ready: (node) => this.#up(k, node),
      failed: (error) => this.#gaveUp(k, error),
      lost: (node, reason) => this.#reported(k, node, reason, "lost"),
      preempted: (node, reason) => this.#reported(k, node, reason, "preempted"),
      meter: (delta, priority) => this.#metered(priority, delta),
      startTimeoutMs: this.options.startTimeoutMs,
      retryLabel: controlled ? nodeLabel("retry node start", this.name, k) : undefined,
      boundLabel: controlled ? nodeLabel("provider wait", this.name, k) : undefined,
      stopTimeoutMs: this.options.stopTimeoutMs,
      providerError: (operation, nodeId, error) => this.#emit("provider:error", { operation, nodeId, error }),
    };
  }

  #metered(priority: NodePriority, delta: 1 | -1): void {
    this.meter.nodes(priority === "lowPriority" ? 1 : 0, delta);
    // A node's life ended (its stop finished, or its start failed): a start held back for room may go.
    if (delta === -1 && this.shared) this.#evaluateSoon();
    if (delta === 1) for (const entry of this.#tenants) entry.peak = Math.max(entry.peak, this.meter.alive);
  }

  #up(k: number, node: ProviderNode): void {
    this.#changes++;
    // Starts work again: the backoff after failed starts ends, and their error is history.
    this.#startBackoffMs = 0;
    this.startError = undefined;
    const slots = this.options.slotsPerNode ?? node.slots;
    if (Number.isFinite(node.slots)) this.#seenSlots = Math.max(this.#seenSlots, node.slots);
    this.#counted[k] = slots;
    this.meter.slotsUp(slots);
    this.idleSince[k] = this.runtime.now();
    this.#emit("node:start", { nodeId: node.id, slots, priority: this.keepers[k]!.priority });
    if (this.shared) {
      this.#becameIdle(k);
      this.#wakeAll();
    } else this.#tenants[0]?.tenant.wake();
  }

  /** Node `node` at position k is gone (reported by its provider, or under an attempt): its attempts move. */
  #reported(k: number, node: ProviderNode, reason: unknown, exit: NodeExit): void {
    const why = reason === undefined ? `reported ${exit === "preempted" ? "preempted" : "lost"} by its provider` : messageOf(reason);
    const error = new NodeLostError(node.id, `node "${node.id}" of pool "${this.name}" was ${exit === "preempted" ? "preempted" : "lost"}: ${why}`, {
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
    const k = this.keeperOf(node);
    if (k < 0) return false;
    this.#down(k);
    this.keepers[k]!.forget(node);
    if (exit === "preempted") {
      this.meter.preemptions++;
      this.#preemptionsSince++;
      this.#emit("node:preempted", { nodeId: node.id, error });
    } else if (exit === "lost") this.#emit("node:lost", { nodeId: node.id, error });
    for (const entry of this.#tenants.slice()) entry.tenant.nodeGone(k, node, error, exit, entry.tenant === origin ? under : undefined);
    if (this.shared) this.#evaluateSoon();
    return true;
  }

  /** Position k's node leaves the pool's counts (it is being stopped). Idempotent. */
  #down(k: number): void {
    this.#changes++;
    if (this.#counted[k]! > 0) this.meter.slotsUp(-this.#counted[k]!);
    this.#counted[k] = 0;
    this.idleSince[k] = NaN;
    if (this.draining[k]) {
      this.draining[k] = false;
      this.#drainingCount--;
    }
    if (this.reserved === k) this.reserved = -1;
  }

  #gaveUp(k: number, error: unknown): void {
    this.#changes++;
    this.meter.startFailures++;
    this.#startFailuresSince++;
    if (!this.shared) {
      this.#tenants[0]?.tenant.startFailed(error);
      return;
    }
    this.startError = error;
    // The position gives up; the pool tries again later, backing off while starts keep failing.
    this.#retire(k, "start failed");
    this.#startBackoffMs = Math.min(60_000, this.#startBackoffMs === 0 ? 1_000 : this.#startBackoffMs * 2);
    if (this.#startBackoffTimer === undefined && !this.#closed) {
      this.#startBackoffTimer = this.runtime.setTimer(
        this.#startBackoffMs,
        () => {
          this.#startBackoffTimer = undefined;
          this.evaluate("start backoff over");
        },
        typeof this.runtime.defer === "function" ? poolLabel("pool start backoff", this.name) : undefined,
      );
    }
    if (!this.alive) for (const entry of this.#tenants.slice()) entry.tenant.startFailed(error);
  }

  // ---- events ----

  #emit<K extends keyof PoolEventMap>(type: K, payload: PoolEventMap[K]): void {
    for (const entry of this.#tenants) entry.tenant.event(type, payload);
    const events = this.#events;
    if (events !== undefined && events.listenerCount(type) > 0)
      (events.emit as (t: string, e: unknown) => void)(type, { type, pool: this.name, ...payload, at: this.runtime.now() });
  }

  /** Wakes every run using the shared pool, once, after the current step. */
  #wakeAll(): void {
    if (this.#wakeQueued) return;
    this.#wakeQueued = true;
    queueMicrotask(() => {
      this.#wakeQueued = false;
      for (const entry of this.#tenants.slice()) entry.tenant.wake();
    });
  }

  // ---- autoscaling (shared pools) ----

  /**
   * Position k's last attempt let go. Usually the next one takes it in the same step, so whether it
   * stays idle is looked at once the step is over (an event and an evaluation per attempt would be
   * most of a big run's cost).
   */
  #maybeIdle(k: number): void {
    this.#idleCandidates.push(k);
    if (this.#idleCheckQueued) return;
    this.#idleCheckQueued = true;
    queueMicrotask(() => {
      this.#idleCheckQueued = false;
      const candidates = this.#idleCandidates;
      for (let c = 0; c < candidates.length; c++) {
        const at = candidates[c]!;
        if (this.load[at] === 0 && Number.isNaN(this.idleSince[at]!)) this.#becameIdle(at);
      }
      candidates.length = 0;
    });
  }

  #becameIdle(k: number): void {
    if (this.keepers[k]!.node === undefined || this.keepers[k]!.retired) return;
    const now = this.runtime.now();
    this.idleSince[k] = now;
    this.#emit("node:idle", { nodeId: this.keepers[k]!.node!.id });
    if (this.draining[k]) {
      this.#retire(k, "drained");
      return;
    }
    this.#armIdleTimer(now + this.options.idleTimeoutMs);
    this.#evaluateSoon();
  }

  #armIdleTimer(due: number): void {
    if (!Number.isFinite(due) || this.#closed || due >= this.#idleDue) return;
    if (this.#idleTimer !== undefined) this.runtime.clearTimer(this.#idleTimer);
    this.#idleDue = due;
    this.#idleTimer = this.runtime.setTimer(
      Math.max(0, due - this.runtime.now()),
      () => {
        this.#idleTimer = undefined;
        this.#idleDue = Infinity;
        this.evaluate("idle timeout");
        // The next node to time out, if any is idle still.
        let next = Infinity;
        for (let k = 0; k < this.keepers.length; k++)
          if (!Number.isNaN(this.idleSince[k]!)) next = Math.min(next, this.idleSince[k]! + this.options.idleTimeoutMs);
        if (next > this.runtime.now()) this.#armIdleTimer(next);
      },
      typeof this.runtime.defer === "function" ? poolLabel("pool idle timeout", this.name) : undefined,
    );
  }

  /** While runs use the pool, its policy is also evaluated every `evaluateIntervalMs`. */
  #armInterval(): void {
    if (this.#intervalTimer !== undefined || this.#closed || this.options.evaluateIntervalMs === Infinity) return;
    this.#intervalTimer = this.runtime.setTimer(
      this.options.evaluateIntervalMs,
      () => {
        this.#intervalTimer = undefined;
        if (this.#tenants.length === 0) return;
        this.evaluate("interval");
        this.#armInterval();
      },
      typeof this.runtime.defer === "function" ? poolLabel("pool evaluate", this.name) : undefined,
    );
  }

  #evaluateSoon(): void {
    if (this.#evaluateQueued || this.#closed) return;
    this.#evaluateQueued = true;
    queueMicrotask(() => {
      this.#evaluateQueued = false;
      this.evaluate("demand changed");
    });
  }

  /** What the policy sees now. */
  metrics(): PoolMetrics {
    let ready = 0;
    let readySlots = 0;
    let running = 0;
    let runningSlots = 0;
    let waiting = 0;
    let waitingSlots = 0;
    for (const entry of this.#tenants) {
      const d = entry.tenant.demand();
      ready += d.ready;
      readySlots += d.readySlots;
      running += d.running;
      runningSlots += d.runningSlots;
      waiting += d.waiting;
      waitingSlots += d.waitingSlots;
    }
    const now = this.runtime.now();
    const timeout = this.options.idleTimeoutMs;
    const counts = [newCounts(), newCounts()] as const;
    for (let k = 0; k < this.keepers.length; k++) {
      const keeper = this.keepers[k]!;
      const c = counts[keeper.priority === "lowPriority" ? 1 : 0];
      if (keeper.node === undefined) {
        if (keeper.starting && !keeper.retired) c.starting++;
      } else if (this.load[k]! > 0) {
        c.busy++;
        if (this.draining[k]) c.draining++;
      } else {
        c.idle++;
        if (now - this.idleSince[k]! >= timeout) c.idleTimedOut++;
      }
    }
    const metrics: PoolMetrics = {
      now,
      ready: { tasks: ready, slots: readySlots },
      running: { tasks: running, slots: runningSlots },
      waiting: { tasks: waiting, slots: waitingSlots },
      nodes: { dedicated: counts[0], lowPriority: counts[1] },
      preemptions: this.#preemptionsSince,
      startFailures: this.#startFailuresSince,
      cost: this.meter.cost(),
      slotsPerNode: this.options.slotsPerNode ?? (this.#seenSlots > 0 ? this.#seenSlots : 1),
    };
    return metrics;
  }

  /** Runs the policy on `metrics` without touching a node; throws E_INVALID_OPTION when its answer is invalid. */
  dryRun(metrics: PoolMetrics): PoolTargets {
    const o = this.options;
    const policy: AutoscalePolicy = o.autoscale ?? ((m) => defaultTargets(m, o));
    return checkTargets(`pool "${this.name}"`, policy(metrics), o);
  }

  /** Sizes the pool now: runs the policy on the metrics and starts or lets go of nodes to meet its targets. */
  evaluate(reason: string): void {
    if (!this.shared || this.#closed) return;
    if (this.#evaluating) {
      // Asked again from inside an evaluation (a run placing the attempts a scale-down moved): once this one is over.
      this.#evaluateSoon();
      return;
    }
    this.#evaluating = true;
    try {
      this.#evaluatedChanges = this.#changes;
      const metrics = this.metrics();
      let targets: PoolTargets;
      try {
        targets = this.dryRun(metrics);
      } catch (error) {
        // A policy that throws or answers nonsense is reported; the default policy sizes the pool meanwhile.
        this.#emit("provider:error", { operation: "autoscale", nodeId: undefined, error });
        targets = defaultTargets(metrics, this.options);
      }
      this.#preemptionsSince = 0;
      this.#startFailuresSince = 0;
      if (targets.dedicated !== this.#targets.dedicated || targets.lowPriority !== this.#targets.lowPriority) {
        this.#targets = targets;
        this.#emit("pool:resize", { dedicated: targets.dedicated, lowPriority: targets.lowPriority, reason });
      }
      this.#reconcile("dedicated", targets.dedicated);
      this.#reconcile("lowPriority", targets.lowPriority);
    } finally {
      this.#evaluating = false;
    }
  }

  /** Starts or lets go of nodes of one priority until those starting or up (and not draining) meet `target`. */
  #reconcile(priority: NodePriority, target: number): void {
    const keepers = this.keepers;
    let current = 0;
    let startingAll = 0;
    for (let k = 0; k < keepers.length; k++) {
      const keeper = keepers[k]!;
      if (keeper.retired) continue;
      const on = keeper.node !== undefined || keeper.starting;
      if (keeper.starting && keeper.node === undefined) startingAll++;
      if (on && keeper.priority === priority && !this.draining[k]) current++;
    }
    if (current < target) {
      // Quick turnaround: a node draining is kept again before a new one is started.
      for (let k = 0; k < keepers.length && current < target; k++) {
        if (this.draining[k] && keepers[k]!.priority === priority) {
          this.draining[k] = false;
          this.#drainingCount--;
          current++;
        }
      }
      if (this.#startBackoffTimer !== undefined) return;
      while (current < target && startingAll < this.options.maxConcurrentStarts && this.#underBound(priority)) {
        let k = keepers.findIndex((each) => each.node === undefined && !each.starting && !each.gaveUp);
        if (k < 0) k = keepers.findIndex((each) => each.retired);
        if (k < 0) k = this.#addPosition(undefined);
        else this.#renew(k);
        const keeper = keepers[k]!;
        keeper.priority = priority;
        keeper.start();
        current++;
        startingAll++;
      }
      return;
    }
    // Too many: starts in flight go first (newest first), then idle nodes (longest idle first), then busy ones.
    for (let k = keepers.length - 1; k >= 0 && current > target; k--) {
      const keeper = keepers[k]!;
      if (keeper.priority === priority && keeper.node === undefined && keeper.starting && !keeper.retired) {
        this.#retire(k, "scaled down");
        current--;
      }
    }
    while (current > target) {
      let oldest = -1;
      for (let k = 0; k < keepers.length; k++) {
        const keeper = keepers[k]!;
        if (keeper.retired || keeper.priority !== priority || keeper.node === undefined || this.load[k]! > 0 || this.draining[k]) continue;
        if (oldest < 0 || this.idleSince[k]! < this.idleSince[oldest]!) oldest = k;
      }
      if (oldest < 0) break;
      this.#retire(oldest, "scaled down");
      current--;
    }
    for (let k = keepers.length - 1; k >= 0 && current > target; k--) {
      const keeper = keepers[k]!;
      if (keeper.retired || keeper.priority !== priority || keeper.node === undefined || this.draining[k]) continue;
      current--;
      if (this.options.requeueOnScaleDown) {
        const node = keeper.node;
        const error = new NodeLostError(node.id, `node "${node.id}" of pool "${this.name}" was let go by its autoscaler (onScaleDown: "requeue")`);
        // Retired first (its keeper forgets it at once), so no run places an attempt on it again and
        // the attempts let go below do not make it look idle.
        this.#retire(k, "scaled down");
        for (const entry of this.#tenants.slice()) entry.tenant.nodeGone(k, node, error, "scaleDown", undefined);
      } else {
        this.draining[k] = true;
        this.#drainingCount++;
      }
    }
  }

  /**
   * Whether one more node of `priority` fits under the pool's bound. Nodes count from their start
   * request until their stop finished (a node still stopping, a start given up on that the provider
   * has not finished), so the provider never holds more than the bound.
   */
  #underBound(priority: NodePriority): boolean {
    return priority === "lowPriority" ? this.meter.aliveOf(1) < this.options.maxLowPriority : this.meter.aliveOf(0) < this.options.maxNodes;
  }

  /** Position k's keeper was retired earlier: a fresh keeper takes the position. */
  #renew(k: number): void {
    if (!this.keepers[k]!.retired) return;
    this.keepers[k] = this.#keeper(k, undefined);
    this.placements[k] = 0;
    this.load[k] = 0;
    if (this.exclusive[k]) this.hold(k, false);
  }

  /**
   * Lets go of position k's node (or its start in flight): it takes no more work and is stopped
   * (`close()` waits for that). Only a node with no attempt left is retired (or one whose attempts
   * were moved off it).
   */
  #retire(k: number, _why: string): void {
    this.#changes++;
    const keeper = this.keepers[k]!;
    const node = keeper.node;
    this.#down(k);
    keeper.retired = true;
    const priority = keeper.priority;
    const closing = keeper.close().then(() => {
      this.#retiring.delete(closing);
      if (node !== undefined) this.#emit("node:stop", { nodeId: node.id, priority });
      // Its place under the bound is free again: a start held back for it may go now.
      if (this.shared) this.#evaluateSoon();
    });
    this.#retiring.add(closing);
  }

  // ---- the whole pool ----

  /** Targets, node counts and accounting of the pool as a whole. */
  stats(): PoolStats {
    const m = this.metrics();
    return {
      ...this.meter.since(undefined, this.meter.peak),
      targets: this.#targets,
      nodes: m.nodes,
      runs: this.#tenants.length,
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
      if (this.shared && (this.#tenants.length > 0 || this.#expected > 0)) await new Promise<void>((resolve) => (this.#idleRuns = resolve));
      this.#closed = true;
      if (this.#idleTimer !== undefined) this.runtime.clearTimer(this.#idleTimer);
      if (this.#startBackoffTimer !== undefined) this.runtime.clearTimer(this.#startBackoffTimer);
      if (this.#intervalTimer !== undefined) this.runtime.clearTimer(this.#intervalTimer);
      this.#idleTimer = this.#startBackoffTimer = this.#intervalTimer = undefined;
      for (let k = 0; k < this.keepers.length; k++) if (!this.keepers[k]!.retired) this.#retire(k, "pool closed");
      while (this.#retiring.size > 0) await Promise.all(this.#retiring);
    })();
    return this.#closing;
  }
}

/** Which of two runs gets the next slot: a starving one, else the higher priority, else the one passed over more. */
function outranks(a: TenantEntry, b: TenantEntry): boolean {
  const starvingA = a.passed >= STARVATION_BOUND;
  const starvingB = b.passed >= STARVATION_BOUND;
  if (starvingA !== starvingB) return starvingA;
  if (starvingA) return a.passed > b.passed;
  if (a.tenant.priority !== b.tenant.priority) return a.tenant.priority > b.tenant.priority;
  return a.passed > b.passed;
}

function newCounts(): { starting: number; idle: number; busy: number; idleTimedOut: number; draining: number } & NodeCounts {
  return { starting: 0, idle: 0, busy: 0, idleTimedOut: 0, draining: 0 };
}

export interface PoolStats extends PoolRunStats {
  readonly targets: PoolTargets;
  readonly nodes: PoolMetrics["nodes"];
  /** Runs using the pool now. */
  readonly runs: number;
  readonly closed: boolean;
}
