/**
 * Autoscaling of a shared pool (`pool(provider, options)`): what its policy sees (`metrics()`), running
 * the policy (`dryRun()`, `evaluate()`), and meeting its targets by starting nodes or letting them go
 * (`#reconcile`). It also owns what decides when to evaluate: the idle candidates looked at once a step
 * is over, the idle timeout timer, the periodic evaluation while runs use the pool, an evaluation asked
 * for "soon" (once per step), the backoff after starts failed for good, and skipping an evaluation on
 * demand when no node changed state since the last one.
 *
 * It is apart from NodePool (node-pool.ts) so the sizing of a pool can be read on its own. NodePool
 * makes one with every shared pool (a run's private pool never evaluates, so it has none) and hands it
 * itself, as the AutoscaledPool below: the
 * nodes, their loads and the calls that retire, renew, add or drain a position stay NodePool's.
 */
import { type AutoscalePolicy, checkTargets, defaultTargets, type NodeCounts, type PoolMetrics, type PoolTargets } from "./autoscale.ts";
import { NodeLostError } from "./errors.ts";
import type { NodeKeeper } from "./node-keeper.ts";
import type { ResolvedPoolOptions } from "./pool-options.ts";
import type { PoolMeter } from "./pool-meter.ts";
import type { PoolTurns } from "./pool-turns.ts";
import type { PoolEventMap, Tenant } from "./pool-types.ts";
import type { NodePriority } from "./provider.ts";
import type { Runtime, TimerHandle } from "./runtime.ts";
import { type PoolTimer, poolLabel } from "./trace-labels.ts";

/** What the autoscaler needs of its pool (NodePool's engine-internal members). */
export interface AutoscaledPool {
  readonly name: string;
  readonly options: ResolvedPoolOptions;
  readonly runtime: Runtime;
  readonly closed: boolean;
  readonly keepers: NodeKeeper[];
  readonly load: number[];
  readonly draining: boolean[];
  readonly idleSince: number[];
  readonly meter: PoolMeter;
  readonly turns: PoolTurns;
  /** Largest node seen, for the default policy when `slotsPerNode` is not given. */
  readonly seenSlots: number;
  emit<K extends keyof PoolEventMap>(type: K, payload: PoolEventMap[K]): void;
  retire(k: number): void;
  renew(k: number): void;
  addPosition(tenant: Tenant | undefined): number;
  /** Position k takes no new work and is stopped once empty (`on`), or takes work again. */
  drain(k: number, on: boolean): void;
}

export class PoolAutoscaler {
  readonly #pool: AutoscaledPool;
  #targets: PoolTargets = { dedicated: 0, lowPriority: 0 };
  #preemptionsSince = 0;
  #startFailuresSince = 0;
  #evaluating = false;
  #evaluateQueued = false;
  #idleTimer: TimerHandle | undefined = undefined;
  #idleDue = Infinity;
  /** After starts failed for good, no new start before this time (backoff doubles, up to a minute). */
  #startBackoffMs = 0;
  #startBackoffTimer: TimerHandle | undefined = undefined;
  readonly #idleCandidates: number[] = [];
  #idleCheckQueued = false;
  /** Counts changes of node state; an evaluation on demand is skipped when none happened since the last. */
  #changes = 0;
  #evaluatedChanges = -1;
  #intervalTimer: TimerHandle | undefined = undefined;

  constructor(pool: AutoscaledPool) {
    this.#pool = pool;
  }

  /** The targets of the last evaluation. */
  get targets(): PoolTargets {
    return this.#targets;
  }

  /** The trace label of one of its timers, under a controlled runtime (undefined otherwise). */
  #label(event: PoolTimer): string | undefined {
    const pool = this.#pool;
    return typeof pool.runtime.defer === "function" ? poolLabel(event, pool.name) : undefined;
  }

  // ---- what the pool tells it (engine-internal) ----

  /** A node changed state (up, down, retired, a start given up on). */
  changed(): void {
    this.#changes++;
  }

  /** A node was preempted (for the policy's `preemptions`). */
  preempted(): void {
    this.#preemptionsSince++;
  }

  /** A node start failed for good (for the policy's `startFailures`). */
  startFailed(): void {
    this.#startFailuresSince++;
  }

  /** A node came up: starts work again, so the backoff after failed starts ends. */
  startsWork(): void {
    this.#startBackoffMs = 0;
  }

  /** A start failed for good: no new start for a while, backing off while starts keep failing. */
  backOff(): void {
    const pool = this.#pool;
    this.#startBackoffMs = Math.min(60_000, this.#startBackoffMs === 0 ? 1_000 : this.#startBackoffMs * 2);
    if (this.#startBackoffTimer === undefined && !pool.closed) {
      this.#startBackoffTimer = pool.runtime.setTimer(
        this.#startBackoffMs,
        () => {
          this.#startBackoffTimer = undefined;
          this.evaluate("start backoff over");
        },
        this.#label("pool start backoff"),
      );
    }
  }

  /** Ready work found no free slot: asks the policy, unless nothing could grow a pool already at its bounds. */
  grow(): void {
    // Nothing can grow a pool already at its bounds until a node comes or goes: no need to ask again.
    const o = this.#pool.options;
    if (this.#changes === this.#evaluatedChanges && this.#targets.dedicated === o.maxNodes && this.#targets.lowPriority === o.maxLowPriority) return;
    this.evaluate("demand");
  }

  /** No run uses the pool: no periodic evaluation either (idle nodes still time out). */
  stopInterval(): void {
    if (this.#intervalTimer !== undefined) this.#pool.runtime.clearTimer(this.#intervalTimer);
    this.#intervalTimer = undefined;
  }

  /** The pool closed: every timer of the autoscaler is cleared. */
  stop(): void {
    const runtime = this.#pool.runtime;
    if (this.#idleTimer !== undefined) runtime.clearTimer(this.#idleTimer);
    if (this.#startBackoffTimer !== undefined) runtime.clearTimer(this.#startBackoffTimer);
    if (this.#intervalTimer !== undefined) runtime.clearTimer(this.#intervalTimer);
    this.#idleTimer = this.#startBackoffTimer = this.#intervalTimer = undefined;
  }

  // ---- when to evaluate ----

  /**
   * Position k's last attempt let go. Usually the next one takes it in the same step, so whether it
   * stays idle is looked at once the step is over (an event and an evaluation per attempt would be
   * most of a big run's cost).
   */
  maybeIdle(k: number): void {
    this.#idleCandidates.push(k);
    if (this.#idleCheckQueued) return;
    this.#idleCheckQueued = true;
    queueMicrotask(() => {
      this.#idleCheckQueued = false;
      const candidates = this.#idleCandidates;
      const pool = this.#pool;
      for (let c = 0; c < candidates.length; c++) {
        const at = candidates[c]!;
        if (pool.load[at] === 0 && Number.isNaN(pool.idleSince[at]!)) this.becameIdle(at);
      }
      candidates.length = 0;
    });
  }

  /** Position k's node has nothing on it now (it just came up, or its last attempt let go). */
  becameIdle(k: number): void {
    const pool = this.#pool;
    if (pool.keepers[k]!.node === undefined || pool.keepers[k]!.retired) return;
    const now = pool.runtime.now();
    pool.idleSince[k] = now;
    pool.emit("node:idle", { nodeId: pool.keepers[k]!.node!.id });
    if (pool.draining[k]) {
      pool.retire(k);
      return;
    }
    this.#armIdleTimer(now + pool.options.idleTimeoutMs);
    this.evaluateSoon();
  }

  #armIdleTimer(due: number): void {
    const pool = this.#pool;
    if (!Number.isFinite(due) || pool.closed || due >= this.#idleDue) return;
    const runtime = pool.runtime;
    if (this.#idleTimer !== undefined) runtime.clearTimer(this.#idleTimer);
    this.#idleDue = due;
    this.#idleTimer = runtime.setTimer(
      Math.max(0, due - runtime.now()),
      () => {
        this.#idleTimer = undefined;
        this.#idleDue = Infinity;
        this.evaluate("idle timeout");
        // The next node to time out, if any is idle still.
        let next = Infinity;
        for (let k = 0; k < pool.keepers.length; k++)
          if (!Number.isNaN(pool.idleSince[k]!)) next = Math.min(next, pool.idleSince[k]! + pool.options.idleTimeoutMs);
        if (next > runtime.now()) this.#armIdleTimer(next);
      },
      this.#label("pool idle timeout"),
    );
  }

  /** While runs use the pool, its policy is also evaluated every `evaluateIntervalMs`. */
  armInterval(): void {
    const pool = this.#pool;
    if (this.#intervalTimer !== undefined || pool.closed || pool.options.evaluateIntervalMs === Infinity) return;
    this.#intervalTimer = pool.runtime.setTimer(
      pool.options.evaluateIntervalMs,
      () => {
        this.#intervalTimer = undefined;
        if (pool.turns.entries.length === 0) return;
        this.evaluate("interval");
        this.armInterval();
      },
      this.#label("pool evaluate"),
    );
  }

  /** Evaluates once the current step is over (once, however often it is asked for meanwhile). */
  evaluateSoon(): void {
    if (this.#evaluateQueued || this.#pool.closed) return;
    this.#evaluateQueued = true;
    queueMicrotask(() => {
      this.#evaluateQueued = false;
      this.evaluate("demand changed");
    });
  }

  // ---- the policy ----

  /** What the policy sees now. */
  metrics(): PoolMetrics {
    const pool = this.#pool;
    let ready = 0;
    let readySlots = 0;
    let running = 0;
    let runningSlots = 0;
    let waiting = 0;
    let waitingSlots = 0;
    for (const entry of pool.turns.entries) {
      const d = entry.tenant.demand();
      ready += d.ready;
      readySlots += d.readySlots;
      running += d.running;
      runningSlots += d.runningSlots;
      waiting += d.waiting;
      waitingSlots += d.waitingSlots;
    }
    const now = pool.runtime.now();
    const timeout = pool.options.idleTimeoutMs;
    const counts = [newCounts(), newCounts()] as const;
    for (let k = 0; k < pool.keepers.length; k++) {
      const keeper = pool.keepers[k]!;
      const c = counts[keeper.priority === "lowPriority" ? 1 : 0];
      if (keeper.node === undefined) {
        if (keeper.starting && !keeper.retired) c.starting++;
      } else if (pool.load[k]! > 0) {
        c.busy++;
        if (pool.draining[k]) c.draining++;
      } else {
        c.idle++;
        if (now - pool.idleSince[k]! >= timeout) c.idleTimedOut++;
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
      cost: pool.meter.cost(),
      slotsPerNode: pool.options.slotsPerNode ?? (pool.seenSlots > 0 ? pool.seenSlots : 1),
    };
    return metrics;
  }

  /** Runs the policy on `metrics` without touching a node; throws E_INVALID_OPTION when its answer is invalid. */
  dryRun(metrics: PoolMetrics): PoolTargets {
    const o = this.#pool.options;
    const policy: AutoscalePolicy = o.autoscale ?? ((m) => defaultTargets(m, o));
    return checkTargets(`pool "${this.#pool.name}"`, policy(metrics), o);
  }

  /** Sizes the pool now: runs the policy on the metrics and starts or lets go of nodes to meet its targets. */
  evaluate(reason: string): void {
    const pool = this.#pool;
    if (pool.closed) return;
    if (this.#evaluating) {
      // Asked again from inside an evaluation (a run placing the attempts a scale-down moved): once this one is over.
      this.evaluateSoon();
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
        pool.emit("provider:error", { operation: "autoscale", nodeId: undefined, error });
        targets = defaultTargets(metrics, pool.options);
      }
      this.#preemptionsSince = 0;
      this.#startFailuresSince = 0;
      if (targets.dedicated !== this.#targets.dedicated || targets.lowPriority !== this.#targets.lowPriority) {
        this.#targets = targets;
        pool.emit("pool:resize", { dedicated: targets.dedicated, lowPriority: targets.lowPriority, reason });
      }
      this.#reconcile("dedicated", targets.dedicated);
      this.#reconcile("lowPriority", targets.lowPriority);
    } finally {
      this.#evaluating = false;
    }
  }

  /** Starts or lets go of nodes of one priority until those starting or up (and not draining) meet `target`. */
  #reconcile(priority: NodePriority, target: number): void {
    const pool = this.#pool;
    const keepers = pool.keepers;
    let current = 0;
    let startingAll = 0;
    for (let k = 0; k < keepers.length; k++) {
      const keeper = keepers[k]!;
      if (keeper.retired) continue;
      const on = keeper.node !== undefined || keeper.starting;
      if (keeper.starting && keeper.node === undefined) startingAll++;
      if (on && keeper.priority === priority && !pool.draining[k]) current++;
    }
    if (current < target) {
      // Quick turnaround: a node draining is kept again before a new one is started.
      for (let k = 0; k < keepers.length && current < target; k++) {
        if (pool.draining[k] && keepers[k]!.priority === priority) {
          pool.drain(k, false);
          current++;
        }
      }
      if (this.#startBackoffTimer !== undefined) return;
      while (current < target && startingAll < pool.options.maxConcurrentStarts && this.underBound(priority)) {
        let k = keepers.findIndex((each) => each.node === undefined && !each.starting && !each.gaveUp);
        if (k < 0) k = keepers.findIndex((each) => each.retired);
        if (k < 0) k = pool.addPosition(undefined);
        else pool.renew(k);
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
        pool.retire(k);
        current--;
      }
    }
    while (current > target) {
      let oldest = -1;
      for (let k = 0; k < keepers.length; k++) {
        const keeper = keepers[k]!;
        if (keeper.retired || keeper.priority !== priority || keeper.node === undefined || pool.load[k]! > 0 || pool.draining[k]) continue;
        if (oldest < 0 || pool.idleSince[k]! < pool.idleSince[oldest]!) oldest = k;
      }
      if (oldest < 0) break;
      pool.retire(oldest);
      current--;
    }
    for (let k = keepers.length - 1; k >= 0 && current > target; k--) {
      const keeper = keepers[k]!;
      if (keeper.retired || keeper.priority !== priority || keeper.node === undefined || pool.draining[k]) continue;
      current--;
      if (pool.options.requeueOnScaleDown) {
        const node = keeper.node;
        const error = new NodeLostError(node.id, `node "${node.id}" of pool "${pool.name}" was let go by its autoscaler (onScaleDown: "requeue")`);
        // Retired first (its keeper forgets it at once), so no run places an attempt on it again and
        // the attempts let go below do not make it look idle.
        pool.retire(k);
        for (const entry of pool.turns.entries.slice()) entry.tenant.nodeGone(k, node, error, "scaleDown", undefined);
      } else pool.drain(k, true);
    }
  }

  /**
   * Whether one more node of `priority` fits under the pool's bound. Nodes count from their start
   * request until their stop finished (a node still stopping, a start given up on that the provider
   * has not finished), so the provider never holds more than the bound.
   */
  underBound(priority: NodePriority): boolean {
    const pool = this.#pool;
    return priority === "lowPriority" ? pool.meter.aliveOf(1) < pool.options.maxLowPriority : pool.meter.aliveOf(0) < pool.options.maxNodes;
  }
}

function newCounts(): { starting: number; idle: number; busy: number; idleTimedOut: number; draining: number } & NodeCounts {
  return { starting: 0, idle: 0, busy: 0, idleTimedOut: 0, draining: 0 };
}
