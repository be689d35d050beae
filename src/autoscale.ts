/**
 * Autoscaling: what a pool's policy sees (PoolMetrics), what it answers (PoolTargets), the default
 * policy, and the check of an answer. A policy is a plain function of the metrics, so it can be run on
 * sample metrics (`pool.evaluate`) without touching a node.
 */
import { FlotillaError, describe } from "./errors.ts";
import { checkOptionsObject, invalidOption } from "./validation.ts";

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

const DEMAND_NAMES = ["tasks", "slots"];
const COUNT_NAMES = ["starting", "idle", "busy", "idleTimedOut", "draining"];
const METRIC_NAMES = ["now", "ready", "running", "waiting", "nodes", "preemptions", "startFailures", "cost", "slotsPerNode"];

/**
 * Sample metrics (`pool.evaluate`) completed: anything left out is 0 (`now`: the pool's clock; a
 * demand's `slots`: its `tasks`; `slotsPerNode`: the pool's). Throws E_INVALID_OPTION naming a metric
 * that is not a number >= 0 (or an object where one is expected), or one that does not exist.
 */
export function completeSample(where: string, m: unknown, now: number, slotsPerNode: number): PoolMetrics {
  const object = (path: string, value: unknown, names: readonly string[]): Record<string, unknown> => {
    if (value === undefined) return {};
    checkOptionsObject(`${where}: ${path}`, value, names, "metric");
    return value as Record<string, unknown>;
  };
  const count = (path: string, value: unknown, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!(typeof value === "number" && value >= 0 && Number.isFinite(value))) throw invalidOption(where, path, "a finite number >= 0", value);
    return value;
  };
  const finite = (path: string, value: unknown): number => {
    if (!(typeof value === "number" && Number.isFinite(value))) throw invalidOption(where, path, "a finite number of milliseconds", value);
    return value;
  };
  const top = object("metrics", m, METRIC_NAMES);
  const demand = (name: string): Demand => {
    const d = object(name, top[name], DEMAND_NAMES);
    const tasks = count(`${name}.tasks`, d.tasks, 0);
    return { tasks, slots: count(`${name}.slots`, d.slots, tasks) };
  };
  const nodes = object("nodes", top.nodes, ["dedicated", "lowPriority"]);
  const counts = (name: string): NodeCounts => {
    const c = object(`nodes.${name}`, nodes[name], COUNT_NAMES);
    const [starting, idle, busy, idleTimedOut, draining] = COUNT_NAMES.map((n) => count(`nodes.${name}.${n}`, c[n], 0)) as [
      number,
      number,
      number,
      number,
      number,
    ];
    return { starting, idle, busy, idleTimedOut, draining };
  };
  return {
    now: top.now === undefined ? now : finite("now", top.now),
    ready: demand("ready"),
    running: demand("running"),
    waiting: demand("waiting"),
    nodes: { dedicated: counts("dedicated"), lowPriority: counts("lowPriority") },
    preemptions: count("preemptions", top.preemptions, 0),
    startFailures: count("startFailures", top.startFailures, 0),
    cost: count("cost", top.cost, 0),
    slotsPerNode: count("slotsPerNode", top.slotsPerNode, slotsPerNode),
  };
}
