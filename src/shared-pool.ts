/**
 * `pool(provider, options)`: a pool that outlives a run. Several runs may use it at once (name it in
 * each run's `pools`); it sizes itself with its autoscale policy and stops its nodes on `close()`.
 * The object users hold is a small facade over the engine's NodePool (node-pool.ts).
 */
import { type NodeCounts, type PoolMetrics, type PoolTargets, completeSample } from "./autoscale.ts";
import { FlotillaError, describe } from "./errors.ts";
import { NodePool, type PoolEventMap, type PoolStats } from "./node-pool.ts";
import { resolvePoolOptions, type PoolOptions } from "./pool-options.ts";
import { checkProvider, type ComputeProvider } from "./provider.ts";
import type { Runtime } from "./runtime.ts";

/** An event of a pool, as its own listeners get it. */
export type PoolEvent<K extends keyof PoolEventMap = keyof PoolEventMap> = PoolEventMap[K] & { readonly type: K; readonly pool: string; readonly at: number };

/** Sample metrics for `pool.evaluate`: anything left out counts as 0 (and `now` as the pool's clock). */
export type SampleMetrics = {
  readonly [K in keyof PoolMetrics]?: PoolMetrics[K] extends number
    ? number
    : K extends "nodes"
      ? { readonly dedicated?: Partial<NodeCounts>; readonly lowPriority?: Partial<NodeCounts> }
      : Partial<PoolMetrics[K]>;
};

/** A pool made with `pool()`. */
export interface Pool {
  readonly name: string;
  readonly provider: ComputeProvider<any>;
  /** True once `close()` was called. */
  readonly closed: boolean;
  /** Targets, node counts, and the accounting of the pool's whole life (peakNodes, nodeSeconds, cost, ...). */
  stats(): PoolStats;
  /**
   * Runs the autoscale policy on sample metrics without touching a node (a dry run): the targets it
   * would set. Throws E_INVALID_OPTION saying why the policy's answer is invalid.
   */
  evaluate(metrics?: SampleMetrics): PoolTargets;
  /** Listens to the pool's events (every run using it gets them too). */
  on<K extends keyof PoolEventMap>(event: K, listener: (event: PoolEvent<K>) => void): this;
  off<K extends keyof PoolEventMap>(event: K, listener: (event: PoolEvent<K>) => void): this;
  /**
   * Takes no new run, waits for the runs using it to end, then stops every node; resolves when every
   * stop finished (each bounded by `stopTimeoutMs`).
   */
  close(): Promise<void>;
}

const engines = new WeakMap<object, NodePool>();

class SharedPool implements Pool {
  readonly #nodes: NodePool;
  constructor(nodes: NodePool) {
    this.#nodes = nodes;
    engines.set(this, nodes);
  }
  get name(): string {
    return this.#nodes.name;
  }
  get provider(): ComputeProvider<any> {
    return this.#nodes.provider;
  }
  get closed(): boolean {
    return this.#nodes.closing;
  }
  stats(): PoolStats {
    return this.#nodes.stats();
  }
  evaluate(metrics: SampleMetrics = {}): PoolTargets {
    return this.#nodes.dryRun(sample(this.#nodes, metrics));
  }
  on<K extends keyof PoolEventMap>(event: K, listener: (event: PoolEvent<K>) => void): this {
    checkEventName(this.#nodes.name, event);
    if (typeof listener !== "function") {
      throw new FlotillaError("E_INVALID_OPTION", `pool "${this.#nodes.name}": the listener must be a function, received ${describe(listener)}`);
    }
    this.#nodes.listen(event, listener as never);
    return this;
  }
  off<K extends keyof PoolEventMap>(event: K, listener: (event: PoolEvent<K>) => void): this {
    this.#nodes.unlisten(event, listener as never);
    return this;
  }
  close(): Promise<void> {
    return this.#nodes.close();
  }
  get [Symbol.toStringTag](): string {
    return "Pool";
  }
}

const POOL_EVENTS: readonly (keyof PoolEventMap)[] = ["pool:resize", "node:start", "node:idle", "node:stop", "node:preempted", "node:lost", "provider:error"];

function checkEventName(name: string, event: unknown): void {
  if (!POOL_EVENTS.includes(event as keyof PoolEventMap)) {
    throw new FlotillaError("E_INVALID_OPTION", `pool "${name}": unknown event ${describe(event)}; its events: ${POOL_EVENTS.join(", ")}`);
  }
}

/**
 * A pool that lives until `close()`, for several runs at once.
 *
 * @example
 * const render = pool(cloudVm({ driver }), { maxNodes: 50, slotsPerNode: 4, lowPriority: { maxNodes: 200 } });
 * const [a, b] = await Promise.all([run(jobA, { pools: { render }, priority: 10 }), run(jobB, { pools: { render } })]);
 * await render.close();
 */
export function pool(provider: ComputeProvider<any>, options?: PoolOptions): Pool {
  checkProvider("pool(provider, options): provider", provider);
  const nodes = new NodePool(provider, resolvePoolOptions(provider, options), true);
  // Its minimum of nodes starts now, before any run needs it.
  if (nodes.options.minNodes > 0 || nodes.options.minLowPriority > 0) nodes.evaluate("minNodes");
  return new SharedPool(nodes);
}

/** The engine of a pool made with `pool()`, or undefined for anything else (a bare provider). */
export function sharedPoolOf(value: unknown): NodePool | undefined {
  return typeof value === "object" && value !== null ? engines.get(value) : undefined;
}

/** Refuses a closed pool, or one on another runtime than the run's. */
export function checkSharedPool(where: string, name: string, nodes: NodePool, runtime: Runtime): void {
  if (nodes.closing) throw new FlotillaError("E_INVALID_OPTION", `${where}: pool "${name}" (${nodes.name}) is closed; make a new one with pool()`);
  if (nodes.runtime !== runtime) {
    throw new FlotillaError(
      "E_INVALID_OPTION",
      `${where}: pool "${name}" (${nodes.name}) runs on another runtime than this run; give pool() and run() the same { runtime }`,
    );
  }
}

/** Sample metrics for a dry run, completed with zeros (and the pool's clock and node size). */
function sample(nodes: NodePool, m: SampleMetrics): PoolMetrics {
  return completeSample(`pool "${nodes.name}": evaluate(metrics)`, m, nodes.runtime.now(), nodes.options.slotsPerNode ?? 1);
}
