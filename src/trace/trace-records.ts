/**
 * What the recorder keeps while a run goes on: attempts, node lives and marks, with times in
 * microseconds from the run's start. trace-output.ts turns them into trace events.
 */
import type { AttemptOutcome, NodeArgs, TaskTraceStatus } from "./chrome-trace.ts";
import type { Lane, LaneSet } from "./lanes.ts";

export interface AttemptRecord {
  readonly task: string;
  readonly attempt: number;
  readonly node: NodeTrack;
  readonly slots: number;
  readonly startUs: number;
  readonly readyUs: number | undefined;
  readonly lane: Lane<AttemptRecord>;
  /** Set when the attempt ended; undefined while it runs. */
  outcome: AttemptOutcome | undefined;
  endUs: number;
  error: string | undefined;
  errorCode: string | undefined;
  /**
   * Aborted (cancelled or timed out) and maybe still holding its slot: an aborted body keeps its slot until
   * it settles, which no event reports, or until it is abandoned (`task:abandoned`), which extends its span.
   */
  windingDown: boolean;
  /** When an abandoned attempt was aborted (its span runs on to the abandonment). */
  abortedUs: number | undefined;
}

export interface NodeLife {
  readonly node: NodeTrack;
  readonly startUs: number;
  readonly slots: number;
  readonly priority: string;
  readonly lane: Lane<NodeLife>;
  end: NodeArgs["end"];
  endUs: number;
  error: string | undefined;
}

/** One node of a pool: its lanes (threads) and what of its capacity attempts hold. */
export interface NodeTrack {
  readonly pool: PoolTrack;
  readonly id: string;
  /** Order of first appearance within its pool (its lanes are listed in this order). */
  readonly order: number;
  readonly lanes: LaneSet<AttemptRecord>;
  /** Slots the node has (from `node:start`; unbounded until then). */
  capacity: number;
  /** Slots held by attempts on its lanes, winding-down ones included. */
  held: number;
  life: NodeLife | undefined;
}

/** One pool: a process of the trace. */
export interface PoolTrack {
  readonly name: string;
  readonly pid: number;
  readonly nodes: Map<string, NodeTrack>;
  /** The "nodes" threads: node lifetimes, one lane per node alive at once. */
  readonly lifeLanes: LaneSet<NodeLife>;
  /** Nodes up now (the "nodes" counter). */
  up: number;
}

export interface TaskRecord {
  readonly id: string;
  status: TaskTraceStatus;
  attempts: number;
  restored: boolean;
  error: string | undefined;
  errorCode: string | undefined;
}
