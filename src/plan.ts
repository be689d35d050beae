/**
 * Turns a job's graph into what the executor runs on: dependency indices, dependents, and the two
 * ordering keys (effective priority, longest path to a sink). Rejects unknown dependencies and
 * cycles, naming the whole cycle. O(tasks + edges).
 */
import { CycleError, FlotillaError } from "./errors.ts";
import type { JobGraph } from "./job.ts";
import { closest } from "./task-options.ts";

export interface Plan {
  /** Dependency indices per task (shared empty array when none). */
  readonly deps: (readonly number[])[];
  /** Dependent indices per task (undefined when none). */
  readonly dependents: (number[] | undefined)[];
  /** Effective priority: max of own priority and every transitive dependent's. */
  readonly priority: number[];
  /** Longest path (in tasks) from this task to a sink; 0 for sinks. */
  readonly rank: number[];
}

const NONE: readonly number[] = Object.freeze([]);

export function planJob(graph: JobGraph): Plan {
  const { ids, index, policies, name } = graph;
  const n = ids.length;
  const deps: (readonly number[])[] = new Array(n);
  const dependents: (number[] | undefined)[] = new Array(n).fill(undefined);
  const indegree: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const names = graph.deps[i]!;
    const m = names.length;
    if (m === 0) {
      deps[i] = NONE;
      indegree[i] = 0;
      continue;
    }
    const list: number[] = new Array(m);
    for (let k = 0; k < m; k++) {
      const d = resolveDependency(graph, ids[i]!, names[k]!);
      list[k] = d;
      const out = dependents[d];
      if (out === undefined) dependents[d] = [i];
      else out.push(i);
    }
    deps[i] = list;
    indegree[i] = m;
  }

  // Kahn's algorithm: `order` ends up a topological order; anything left out sits on or behind a cycle.
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (indegree[i] === 0) order.push(i);
  for (let head = 0; head < order.length; head++) {
    const out = dependents[order[head]!];
    if (out === undefined) continue;
    for (let k = 0; k < out.length; k++) {
      const d = out[k]!;
      if (--indegree[d]! === 0) order.push(d);
    }
  }
  if (order.length < n) throw new CycleError(name, findCycle(ids, deps, indegree));

  const priority: number[] = new Array(n);
  const rank: number[] = new Array(n);
  for (let k = n - 1; k >= 0; k--) {
    const i = order[k]!;
    let p = policies[i]?.priority ?? 0;
    let r = 0;
    const out = dependents[i];
    if (out !== undefined) {
      for (let j = 0; j < out.length; j++) {
        const d = out[j]!;
        if (priority[d]! > p) p = priority[d]!;
        if (rank[d]! + 1 > r) r = rank[d]! + 1;
      }
    }
    priority[i] = p;
    rank[i] = r;
  }
  return { deps, dependents, priority, rank };
}

/** The index of dependency `dep` of task `taskId`, or a typed error naming both. */
export function resolveDependency(graph: JobGraph, taskId: string, dep: string): number {
  if (dep === taskId) throw new CycleError(graph.name, [taskId, taskId]);
  const d = graph.index.get(dep);
  if (d !== undefined) return d;
  throw new FlotillaError(
    "E_UNKNOWN_DEPENDENCY",
    `task "${taskId}" depends on unknown task "${dep}" in job "${graph.name}"${suggest(graph, dep)}`,
  );
}

function suggest(graph: JobGraph, dep: string): string {
  // A suggestion is worth a scan of a normal-sized job, not of a million-task one.
  if (graph.index.size > 10_000) return "";
  const hint = closest(dep, [...graph.index.keys()]);
  return hint === undefined ? "" : ` (did you mean "${hint}"?)`;
}

/**
 * Walks dependencies among the tasks Kahn's algorithm could not order (indegree > 0) until a task
 * repeats; the stretch between the repeats is a cycle. Every such task has an unordered dependency.
 */
function findCycle(ids: string[], deps: (readonly number[])[], indegree: number[]): string[] {
  let start = indegree.findIndex((d) => d > 0);
  const seenAt = new Map<number, number>();
  const path: number[] = [];
  let i = start;
  while (!seenAt.has(i)) {
    seenAt.set(i, path.length);
    path.push(i);
    i = deps[i]!.find((d) => indegree[d]! > 0)!;
  }
  const cycle = path.slice(seenAt.get(i)!).map((k) => ids[k]!);
  cycle.push(ids[i]!);
  return cycle;
}
