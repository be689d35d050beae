/**
 * Turns a job's graph into what the executor runs on: dependency and dependent lists in compressed
 * form (one Int32Array of edges plus offsets each, instead of two small arrays per task), and the two
 * ordering keys (effective priority, longest path to a sink). Rejects unknown dependencies and cycles,
 * naming the whole cycle. O(tasks + edges).
 */
import { CycleError, FlotillaError } from "./errors.ts";
import type { JobGraph, Plan } from "./job-graph.ts";
import { closest } from "./validation.ts";

/**
 * The plan of a graph, made once and reused by later runs of the same job while it has no new tasks
 * (a job's tasks and edges never change once added). Callers must not modify it.
 */
export function planOf(graph: JobGraph): Plan {
  if (graph.plan === undefined || graph.plan.count !== graph.ids.length) graph.plan = planJob(graph);
  return graph.plan;
}

export function planJob(graph: JobGraph): Plan {
  const { ids, policies, depEnd } = graph;
  const n = ids.length;
  const edges = n === 0 ? 0 : depEnd[n - 1]!;
  const depStart = new Int32Array(n + 1);
  depStart.set(depEnd.subarray(0, n), 1);
  resolveForward(graph, depStart, n);
  // A view, not a copy: the job's edges below `edges` never change (it only appends).
  const deps = graph.deps.subarray(0, edges);
  const outCount = new Int32Array(n + 1);
  for (let e = 0; e < edges; e++) outCount[deps[e]!]!++;
  // Dependents by counting sort: offsets from the counts, then fill.
  const outStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) outStart[i + 1] = outStart[i]! + outCount[i]!;
  const fill = outStart.slice(0, n);
  const dependents = new Int32Array(edges);
  for (let i = 0; i < n; i++) for (let e = depStart[i]!, end = depStart[i + 1]!; e < end; e++) dependents[fill[deps[e]!]!++] = i;

  const order = graph.forward.size === 0 && graph.ordered ? undefined : topologicalOrder(graph, depStart, deps, outStart, dependents);

  const priority = new Float64Array(n);
  const rank = new Int32Array(n);
  // With no task policy at all (the policies array grows only for tasks that have one), every
  // priority is 0: only the ranks need the walk.
  const prioritized = policies.length > 0;
  for (let k = n - 1; k >= 0; k--) {
    const i = order === undefined ? k : order[k]!;
    let r = 0;
    if (prioritized) {
      let p = policies[i]?.priority ?? 0;
      for (let e = outStart[i]!, end = outStart[i + 1]!; e < end; e++) {
        const d = dependents[e]!;
        if (priority[d]! > p) p = priority[d]!;
        if (rank[d]! + 1 > r) r = rank[d]! + 1;
      }
      priority[i] = p;
    } else {
      for (let e = outStart[i]!, end = outStart[i + 1]!; e < end; e++) {
        const d = rank[dependents[e]!]! + 1;
        if (d > r) r = d;
      }
    }
    rank[i] = r;
  }
  return { count: n, depStart, deps, outStart, dependents, priority, rank };
}

/**
 * Kahn's algorithm: a topological order, or E_CYCLE naming the cycle. Only needed when some task was
 * declared before one of its dependencies; otherwise insertion order is already topological, and no
 * cycle can exist (every edge points to an earlier task).
 */
function topologicalOrder(graph: JobGraph, depStart: Int32Array, deps: Int32Array, outStart: Int32Array, dependents: Int32Array): Int32Array {
  const n = graph.ids.length;
  const indegree = new Int32Array(n);
  const order = new Int32Array(n);
  let tail = 0;
  for (let i = 0; i < n; i++) {
    indegree[i] = depStart[i + 1]! - depStart[i]!;
    if (indegree[i] === 0) order[tail++] = i;
  }
  for (let head = 0; head < tail; head++) {
    const j = order[head]!;
    for (let e = outStart[j]!, end = outStart[j + 1]!; e < end; e++) {
      const d = dependents[e]!;
      if (--indegree[d]! === 0) order[tail++] = d;
    }
  }
  if (tail < n) throw new CycleError(graph.name, findCycle(graph.ids, depStart, deps, indegree));
  return order;
}

/**
 * Resolves dependencies on tasks declared after their dependent, in place (a resolved index stays
 * right for good: ids are never removed). Throws E_CYCLE for a task that depends on itself and
 * E_UNKNOWN_DEPENDENCY for an id the job lacks.
 */
function resolveForward(graph: JobGraph, depStart: Int32Array, n: number): void {
  if (graph.forward.size === 0) return;
  let task = 0;
  for (const [edge, dep] of [...graph.forward].sort((a, b) => a[0] - b[0])) {
    while (task < n && depStart[task + 1]! <= edge) task++;
    if (task >= n) break;
    graph.deps[edge] = resolveDependency(graph, graph.ids[task]!, dep);
    graph.forward.delete(edge);
  }
}

/** The index of dependency `dep` of task `taskId`, or a typed error naming both. */
export function resolveDependency(graph: JobGraph, taskId: string, dep: string): number {
  if (dep === taskId) throw new CycleError(graph.name, [taskId, taskId]);
  const d = graph.index.get(dep);
  if (d !== undefined) return d;
  throw new FlotillaError("E_UNKNOWN_DEPENDENCY", `task "${taskId}" depends on unknown task "${dep}" in job "${graph.name}"${suggest(graph, dep)}`);
}

function suggest(graph: JobGraph, dep: string): string {
  // A suggestion is worth a scan of a normal-sized job, not of a million-task one.
  if (graph.index.size > 10_000) return "";
  const hint = closest(dep, graph.ids);
  return hint === undefined ? "" : ` (did you mean "${hint}"?)`;
}

/**
 * Walks dependencies among the tasks Kahn's algorithm could not order (indegree > 0) until a task
 * repeats; the stretch between the repeats is a cycle. Every such task has an unordered dependency.
 */
function findCycle(ids: string[], depStart: Int32Array, deps: Int32Array, indegree: Int32Array): string[] {
  const seenAt = new Map<number, number>();
  const path: number[] = [];
  let i = indegree.findIndex((d) => d > 0);
  while (!seenAt.has(i)) {
    seenAt.set(i, path.length);
    path.push(i);
    let next = -1;
    for (let e = depStart[i]!; e < depStart[i + 1]!; e++) {
      if (indegree[deps[e]!]! > 0) {
        next = deps[e]!;
        break;
      }
    }
    i = next;
  }
  const cycle = path.slice(seenAt.get(i)!).map((k) => ids[k]!);
  cycle.push(ids[i]!);
  return cycle;
}
