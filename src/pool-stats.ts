/** What a pool reports of itself: its own file, so the run result can name it without importing the engine. */
import type { PoolMetrics, PoolTargets } from "./autoscale.ts";

/** What a pool did for one run (`result.pools[name]`), or for its whole life (`pool.stats()`). */
export interface PoolRunStats {
  /** Most nodes up or starting at once. */
  readonly peakNodes: number;
  /** Node-seconds: from each start request until its node's stop finished. */
  readonly nodeSeconds: number;
  /** nodeSeconds × the pool's `costPerNodeHour` of each priority / 3600. */
  readonly cost: number;
  readonly preemptions: number;
  readonly startFailures: number;
  /** Busy slot-seconds over available slot-seconds (0 when the nodes have unlimited slots). */
  readonly utilization: number;
}

/** What a shared pool reports of itself as a whole (`pool.stats()`). */
export interface PoolStats extends PoolRunStats {
  readonly targets: PoolTargets;
  readonly nodes: PoolMetrics["nodes"];
  /** Runs using the pool now. */
  readonly runs: number;
  readonly closed: boolean;
}
