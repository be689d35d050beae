/** Options of a pool made with `pool(provider, options)`, with defaults and bounds, and their single check. */
import type { AutoscalePolicy } from "./autoscale.ts";
import { FlotillaError } from "./errors.ts";
import type { ComputeProvider } from "./provider.ts";
import { missingRuntimeMembers, realRuntime, type Runtime } from "./runtime.ts";
import { checkOptionsObject, invalidOption } from "./validation.ts";

/**
 * @example
 * pool(cloudVm({ driver }), { maxNodes: 50, slotsPerNode: 4, lowPriority: { maxNodes: 200 }, idleTimeoutMs: 120_000 })
 */
export interface PoolOptions {
  /** Names the pool in messages and events. @default the provider's name */
  readonly name?: string;
  /** Dedicated nodes kept even with no work. @default 0. Bounds: integer >= 0, <= maxNodes. */
  readonly minNodes?: number;
  /** Most dedicated nodes at once. @default the provider's `maxNodes`, else 1. Bounds: integer >= 0. */
  readonly maxNodes?: number;
  /** Low-priority (spot) nodes: cheaper, may be preempted. @default { minNodes: 0, maxNodes: 0 } */
  readonly lowPriority?: { readonly minNodes?: number; readonly maxNodes?: number };
  /** Slots of every node (attempts at once; a task takes its `slots`). @default what each node reports */
  readonly slotsPerNode?: number;
  /**
   * While runs use the pool, its policy is also evaluated at this interval (besides on demand, idle
   * nodes, lost nodes and runs coming and going). @default 10_000. Bounds: > 0, or Infinity.
   */
  readonly evaluateIntervalMs?: number;
  /** How long a node may stay idle before the default policy lets it go. @default 60_000. Bounds: >= 0, or Infinity. */
  readonly idleTimeoutMs?: number;
  /** `pack`: fill a node before the next, so idle nodes can go; `spread`: the least loaded node first. @default "pack" */
  readonly placement?: "pack" | "spread";
  /** A policy of your own: metrics in, target node counts out. @default sized from demand (see README) */
  readonly autoscale?: AutoscalePolicy;
  /** Most node starts in flight at once. @default 10. Bounds: integer >= 1. */
  readonly maxConcurrentStarts?: number;
  /**
   * A busy node the pool lets go: `"requeue"` cancels its attempts and requeues them without spending a
   * retry; `"wait"` gives it no new work and stops it once empty. @default "wait"
   */
  readonly onScaleDown?: "requeue" | "wait";
  /** A node start not done within it is aborted and counts as a failed start. @default Infinity */
  readonly startTimeoutMs?: number;
  /** Price of one node-hour of each priority, for `cost`. @default 0 each */
  readonly costPerNodeHour?: { readonly dedicated?: number; readonly lowPriority?: number };
  /** The clock, timers and randomness of the pool (runs using it must use the same). @default realRuntime */
  readonly runtime?: Runtime;
  /** How long `close()` (and a scale-down) waits for each stop of a node, and for a start being aborted. @default 10_000 */
  readonly stopTimeoutMs?: number;
}

export interface ResolvedPoolOptions {
  readonly name: string;
  readonly minNodes: number;
  readonly maxNodes: number;
  readonly minLowPriority: number;
  readonly maxLowPriority: number;
  readonly slotsPerNode: number | undefined;
  readonly idleTimeoutMs: number;
  readonly evaluateIntervalMs: number;
  readonly pack: boolean;
  readonly autoscale: AutoscalePolicy | undefined;
  readonly maxConcurrentStarts: number;
  readonly requeueOnScaleDown: boolean;
  readonly startTimeoutMs: number;
  readonly costPerNodeHour: readonly [dedicated: number, lowPriority: number];
  readonly runtime: Runtime;
  readonly stopTimeoutMs: number;
}

const NAMES = [
  "name",
  "minNodes",
  "maxNodes",
  "lowPriority",
  "slotsPerNode",
  "idleTimeoutMs",
  "evaluateIntervalMs",
  "placement",
  "autoscale",
  "maxConcurrentStarts",
  "onScaleDown",
  "startTimeoutMs",
  "costPerNodeHour",
  "runtime",
  "stopTimeoutMs",
];

export function resolvePoolOptions(provider: ComputeProvider<any>, options: unknown): ResolvedPoolOptions {
  if (options === undefined) options = {};
  const where0 = `pool(${provider.name})`;
  checkOptionsObject(where0, options, NAMES, "pool option");
  const o = options as PoolOptions;
  const name = o.name ?? provider.name;
  if (typeof name !== "string" || name.length === 0) throw invalidOption(where0, "name", "a non-empty string", name);
  const where = `pool "${name}"`;
  const count = (option: string, value: unknown, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!(Number.isInteger(value) && (value as number) >= 0)) throw invalidOption(where, option, "an integer >= 0", value);
    return value as number;
  };
  const maxNodes = count("maxNodes", o.maxNodes, provider.maxNodes ?? 1);
  const minNodes = count("minNodes", o.minNodes, 0);
  if (minNodes > maxNodes) throw invalidOption(where, "minNodes", `at most maxNodes (${maxNodes})`, minNodes);
  const low = o.lowPriority ?? {};
  checkOptionsObject(`${where}: option "lowPriority"`, low, ["minNodes", "maxNodes"]);
  const maxLowPriority = count("lowPriority.maxNodes", low.maxNodes, 0);
  const minLowPriority = count("lowPriority.minNodes", low.minNodes, 0);
  if (minLowPriority > maxLowPriority) throw invalidOption(where, "lowPriority.minNodes", `at most lowPriority.maxNodes (${maxLowPriority})`, minLowPriority);
  if (maxNodes === 0 && maxLowPriority === 0) {
    throw new FlotillaError(
      "E_INVALID_OPTION",
      `${where}: "maxNodes" and "lowPriority.maxNodes" are both 0, so the pool could never run anything; give one of them a bound >= 1`,
    );
  }
  const slotsPerNode = o.slotsPerNode;
  if (slotsPerNode !== undefined && !(Number.isInteger(slotsPerNode) && slotsPerNode >= 1)) {
    throw invalidOption(where, "slotsPerNode", "an integer >= 1", slotsPerNode);
  }
  const idleTimeoutMs = delay(where, "idleTimeoutMs", o.idleTimeoutMs, 60_000, true);
  const evaluateIntervalMs = delay(where, "evaluateIntervalMs", o.evaluateIntervalMs, 10_000, true);
  if (evaluateIntervalMs === 0) throw invalidOption(where, "evaluateIntervalMs", "a number of milliseconds > 0 (or Infinity)", 0);
  const placement = o.placement ?? "pack";
  if (placement !== "pack" && placement !== "spread") throw invalidOption(where, "placement", `"pack" or "spread"`, placement);
  const autoscale = o.autoscale;
  if (autoscale !== undefined && typeof autoscale !== "function")
    throw invalidOption(where, "autoscale", "a function (metrics) => { dedicated, lowPriority }", autoscale);
  const maxConcurrentStarts = o.maxConcurrentStarts ?? 10;
  if (!(Number.isInteger(maxConcurrentStarts) && maxConcurrentStarts >= 1))
    throw invalidOption(where, "maxConcurrentStarts", "an integer >= 1", maxConcurrentStarts);
  const onScaleDown = o.onScaleDown ?? "wait";
  if (onScaleDown !== "requeue" && onScaleDown !== "wait") throw invalidOption(where, "onScaleDown", `"requeue" or "wait"`, onScaleDown);
  const startTimeoutMs = delay(where, "startTimeoutMs", o.startTimeoutMs, Infinity, true);
  const cost = o.costPerNodeHour ?? {};
  checkOptionsObject(`${where}: option "costPerNodeHour"`, cost, ["dedicated", "lowPriority"]);
  const rate = (option: string, value: unknown): number => {
    if (value === undefined) return 0;
    if (!(typeof value === "number" && Number.isFinite(value) && value >= 0)) throw invalidOption(where, option, "a finite number >= 0", value);
    return value;
  };
  const costPerNodeHour = [rate("costPerNodeHour.dedicated", cost.dedicated), rate("costPerNodeHour.lowPriority", cost.lowPriority)] as const;
  const runtime = o.runtime ?? realRuntime;
  if (typeof runtime !== "object" || runtime === null) throw invalidOption(where, "runtime", "a Runtime object", runtime);
  const missing = missingRuntimeMembers(runtime);
  if (missing.length > 0) throw new FlotillaError("E_INVALID_OPTION", `${where}: option "runtime" is not a Runtime: missing ${missing.join(", ")}`);
  const stopTimeoutMs = delay(where, "stopTimeoutMs", o.stopTimeoutMs, 10_000, false);
  return {
    name,
    minNodes,
    maxNodes,
    minLowPriority,
    maxLowPriority,
    slotsPerNode,
    idleTimeoutMs,
    evaluateIntervalMs,
    pack: placement === "pack",
    autoscale,
    maxConcurrentStarts,
    requeueOnScaleDown: onScaleDown === "requeue",
    startTimeoutMs,
    costPerNodeHour,
    runtime,
    stopTimeoutMs,
  };
}

/** The options of the pool a bare provider in a run's `pools` gets: private to the run, as before pools were shared. */
/** A private pool costs nothing per node (one frozen pair for every run: explore() makes a pool per schedule). */
const NO_COST: readonly [number, number] = Object.freeze([0, 0] as [number, number]);

export function privatePoolOptions(provider: ComputeProvider<any>, name: string, runtime: Runtime, stopTimeoutMs: number): ResolvedPoolOptions {
  return {
    name,
    minNodes: 0,
    maxNodes: provider.maxNodes ?? 1,
    minLowPriority: 0,
    maxLowPriority: 0,
    slotsPerNode: undefined,
    idleTimeoutMs: Infinity,
    evaluateIntervalMs: Infinity,
    pack: false,
    autoscale: undefined,
    maxConcurrentStarts: Infinity,
    requeueOnScaleDown: false,
    startTimeoutMs: Infinity,
    costPerNodeHour: NO_COST,
    runtime,
    stopTimeoutMs,
  };
}

function delay(where: string, option: string, value: unknown, fallback: number, infinite: boolean): number {
  if (value === undefined) return fallback;
  if (!(typeof value === "number" && value >= 0 && (Number.isFinite(value) || (infinite && value === Infinity)))) {
    throw invalidOption(where, option, `a number of milliseconds >= 0${infinite ? " (or Infinity)" : ""}`, value);
  }
  return value;
}
