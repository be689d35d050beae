/**
 * The data behind a job: its tasks as parallel arrays (see JobGraph). Its own module so the builder
 * (job.ts) and the planner (plan.ts) both use it without importing each other; the plan's shape is
 * here too (a graph keeps its last plan).
 */
import { IdIndex } from "./id-index.ts";
import type { TaskBody, TaskSpec } from "./task-context.ts";
import type { TaskPolicy } from "./task-options.ts";

/**
 * The graph a job holds, as parallel arrays indexed by insertion order (the executor's input).
 * Dependencies are stored flat as task indices — task i's are `deps[depEnd[i-1] .. depEnd[i])` — so a
 * million tasks cost two typed arrays, not a million small arrays of strings. A dependency on a task
 * not declared yet is stored as -1 with its id in `forward`, and resolved when a run is planned.
 * The arrays only ever grow (typed arrays by reallocation), so earlier entries never change meaning.
 */
export interface JobGraph {
  readonly name: string;
  /** Task ids by index (the same array as `index.ids`). */
  readonly ids: string[];
  /** Functions (run in process) or specs (a module export, a command) a provider knows how to run. */
  readonly bodies: (TaskBody<any, unknown> | TaskSpec)[];
  /**
   * Policies by task index; undefined means all defaults. The array may be shorter than `ids` (it
   * grows only when a task has a policy), so read it as `policies[i]`, not by iterating it.
   */
  readonly policies: (TaskPolicy | undefined)[];
  /** Id -> index (`get`, `has`, `size` as on a Map). */
  readonly index: IdIndex;
  deps: Int32Array;
  depEnd: Int32Array;
  edges: number;
  /** Dependency ids not yet declared when their task was added, by edge position. */
  readonly forward: Map<number, string>;
  /** True while every dependency was declared before its dependent (insertion order is topological). */
  ordered: boolean;
  /** The last plan made of this graph (see plan.ts); valid while it covers every task. */
  plan?: Plan;
}

export function emptyGraph(name: string): JobGraph {
  const index = new IdIndex();
  return {
    name,
    ids: index.ids,
    bodies: [],
    policies: [],
    index,
    deps: new Int32Array(16),
    depEnd: new Int32Array(16),
    edges: 0,
    forward: new Map(),
    ordered: true,
    plan: undefined,
  };
}

/** A job's dependency plan (see plan.ts). */
export interface Plan {
  /** Tasks planned. */
  readonly count: number;
  /** Task i's dependencies are `deps[depStart[i] .. depStart[i + 1])`. */
  readonly depStart: Int32Array;
  readonly deps: Int32Array;
  /** Task i's dependents are `dependents[outStart[i] .. outStart[i + 1])`. */
  readonly outStart: Int32Array;
  readonly dependents: Int32Array;
  /** Effective priority: max of own priority and every transitive dependent's. */
  readonly priority: Float64Array;
  /** Longest path (in tasks) from this task to a sink; 0 for sinks. */
  readonly rank: Int32Array;
}
