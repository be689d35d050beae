/**
 * Autoscaling: what a pool's policy sees (PoolMetrics), what it answers (PoolTargets), the default
 * policy, and the check of an answer. A policy is a plain function of the metrics, so it can be run on
 * sample metrics (`pool.evaluate`) without touching a node.
 */
import { FlotillaError, describe } from "./errors.ts";

/** Nodes of one priority, by state. */
export interface NodeCounts {
  /** Asked of the provider, not up yet (retries waiting included). */
  readonly starting: number;
  /** Up, running no attempt. */
  readonly idle: number;
  /** Up, running at least one attempt. */
  readonly busy: number;
  /** Idle for longer than the pool's `idleTimeoutMs` (counted in `idle` too). */
  readonly idleTimedOut: number;
  /** Taking no new work, to be stopped once empty (`onScaleDown: "wait"`); counted in `busy` too. */
  readonly draining: number;
}

/** Tasks and the slots they need. */
export interface Demand {
  readonly tasks: number;
  readonly slots: number;
}

/** What an autoscale policy sees, for the pool as a whole (every run using it). */
export interface PoolMetrics {
  /** The pool's clock (its runtime's), in ms. */
  readonly now: number;
  /** Tasks ready to run and waiting for a slot. */
  readonly ready: Demand;
  /** Tasks with an attempt on a node now. */
  readonly running: Demand;
  /** Tasks of the pool not ready yet (their dependencies are still running, or a retry's backoff). */
  readonly waiting: Demand;
  readonly nodes: { readonly dedicated: NodeCounts; readonly lowPriority: NodeCounts };
  /** Nodes preempted since the last evaluation. */
  readonly preemptions: number;
  /** Node starts that failed since the last evaluation. */
  readonly startFailures: number;
  /** Cost so far (node-hours × the pool's `costPerNodeHour`). */
  readonly cost: number;
  /** Slots of one node: the pool's `slotsPerNode`, else those of its nodes so far, else 1. */
  readonly slotsPerNode: number;
}

/** How many nodes of each priority the pool should have (starting or up). */
export interface PoolTargets {
  readonly dedicated: number;
  readonly lowPriority: number;
}

export type AutoscalePolicy = (metrics: PoolMetrics) => PoolTargets;

/** The bounds a pool's targets must keep. */
export interface TargetBounds {
  readonly minNodes: number;
  readonly maxNodes: number;
  readonly minLowPriority: number;
  readonly maxLowPriority: number;
}

/**
 * The default policy: enough nodes for the slots of ready and running tasks (dedicated first, then
 * low-priority ones up to their bound), keeping an idle node until it has been idle `idleTimeoutMs`,
 * never below the minimums.
 */
export function defaultTargets(m: PoolMetrics, bounds: TargetBounds): PoolTargets {
  const need = Math.ceil((m.ready.slots + m.running.slots) / m.slotsPerNode);
  const d = m.nodes.dedicated;
  const l = m.nodes.lowPriority;
  // Nodes kept whatever the demand: busy ones, those on their way, and idle ones not timed out yet.
  const holdD = d.starting + d.busy - d.draining + d.idle - d.idleTimedOut;
  const holdL = l.starting + l.busy - l.draining + l.idle - l.idleTimedOut;
  const dedicated = clamp(Math.max(Math.min(need, bounds.maxNodes), holdD), bounds.minNodes, bounds.maxNodes);
  const lowPriority = clamp(Math.max(need - dedicated, holdL), bounds.minLowPriority, bounds.maxLowPriority);
  return { dedicated, lowPriority };
}

function clamp(n: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, n));
}

/** Checks a policy's answer; throws E_INVALID_OPTION saying what is wrong with it. */
export function checkTargets(where: string, answer: unknown, bounds: TargetBounds): PoolTargets {
  if (typeof answer !== "object" || answer === null) {
    throw new FlotillaError("E_INVALID_OPTION", `${where}: the autoscale policy must return { dedicated, lowPriority }, it returned ${describe(answer)}`);
  }
  const { dedicated, lowPriority } = answer as Record<string, unknown>;
  const check = (name: string, value: unknown, min: number, max: number, bound: string): number => {
    if (!(typeof value === "number" && Number.isInteger(value))) {
      throw new FlotillaError("E_INVALID_OPTION", `${where}: the autoscale policy's "${name}" must be an integer, it returned ${describe(value)}`);
    }
    if (value < 0) throw new FlotillaError("E_INVALID_OPTION", `${where}: the autoscale policy's "${name}" must be >= 0, it returned ${value}`);
    if (value > max) {
      throw new FlotillaError("E_INVALID_OPTION", `${where}: the autoscale policy's "${name}" (${value}) is above the pool's ${bound} (${max})`);
    }
    return Math.max(value, min); // below the minimum: the minimum holds (documented)
  };
  return {
    dedicated: check("dedicated", dedicated, bounds.minNodes, bounds.maxNodes, "maxNodes"),
    lowPriority: check("lowPriority", lowPriority, bounds.minLowPriority, bounds.maxLowPriority, "lowPriority.maxNodes"),
  };
}
