/**
 * The types a pool's rooms share: how a node left, the pool's events, and what a pool asks of a run
 * using it. They live here, apart from NodePool (node-pool.ts), so the rooms that NodePool is built
 * from (pool-turns.ts, pool-autoscaler.ts) can name them without importing NodePool back: no import
 * cycle, type-only ones included.
 */
import type { NodeLostError } from "./errors.ts";
import type { NodePriority, ProviderNode } from "./provider.ts";
import type { FaultAction, FaultPoint } from "./runtime.ts";

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
