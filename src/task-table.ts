/**
 * The per-task state of one run, in parallel arrays indexed by insertion order: typed arrays for the
 * numbers (one allocation each, however many tasks) and plain arrays for outputs, errors and the
 * running attempt. Tasks planned at the start use the plan's compressed edge lists; tasks added to the
 * running job keep small lists of their own. The job's graph is shared until the run adds a task, then
 * copied, so a job stays reusable and its later tasks never leak into this run.
 */
import type { Attempt } from "./attempt.ts";
import { FlotillaError, describe } from "./errors.ts";
import { emptyGraph, type JobGraph, type Plan } from "./job-graph.ts";
import { addToGraph, copyGraph, removeLastTask } from "./job.ts";
import { planOf, resolveDependency } from "./plan.ts";
import { PENDING, READY, SUCCEEDED } from "./task-state.ts";

export class TaskTable {
  graph: JobGraph;
  /** Tasks in the run. */
  count: number;
  /** Tasks planned at the start (their edges live in `plan`). */
  readonly planned: number;
  readonly plan: Plan;

  state: Uint8Array;
  remaining: Int32Array;
  attempts: Int32Array;
  failedAttempts: Int32Array;
  nodeLosses: Int32Array;
  /** 1: the task must run alone on a node (it was on a node lost while sharing it). */
  alone: Uint8Array;
  priority: Float64Array;
  rank: Int32Array;
  /** NaN until the first attempt starts / the task reaches its final state. */
  startedAt: Float64Array;
  finishedAt: Float64Array;
  readonly outputs: unknown[];
  readonly errors: unknown[];
  readonly current: (Attempt | undefined)[];
  /** Tasks restored from a journal instead of run (a run with a journal sets it). */
  restored: ReadonlySet<number> | undefined = undefined;

  #ownsGraph = false;
  readonly #addedDeps: number[][] = [];
  #moreDependents: Map<number, number[]> | undefined = undefined;

  /**
   * A table that lives as long as the class: V8 holds a class's hidden class only through live
   * instances, so without one a full GC between two runs would take the optimised code of everything
   * that reads a table with it (see IdIndex).
   */
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: read by nobody on purpose: it only keeps the hidden class alive (see above)
  static readonly #keepShape: TaskTable = new TaskTable(emptyGraph("shape"));

  /** Plans the graph; throws E_UNKNOWN_DEPENDENCY or E_CYCLE. */
  constructor(graph: JobGraph) {
    this.graph = graph;
    const plan = (this.plan = planOf(graph));
    const n = (this.count = this.planned = plan.count);
    this.state = new Uint8Array(n).fill(PENDING);
    const remaining = (this.remaining = new Int32Array(n));
    const depStart = plan.depStart;
    for (let i = 0; i < n; i++) remaining[i] = depStart[i + 1]! - depStart[i]!;
    this.attempts = new Int32Array(n);
    this.failedAttempts = new Int32Array(n);
    this.nodeLosses = new Int32Array(n);
    this.alone = new Uint8Array(n);
    // Copies: tasks added to this run may raise them, and the plan is shared with other runs.
    this.priority = plan.priority.slice();
    this.rank = plan.rank.slice();
    this.startedAt = new Float64Array(n).fill(NaN);
    this.finishedAt = new Float64Array(n).fill(NaN);
    this.outputs = new Array(n).fill(undefined);
    this.errors = new Array(n).fill(undefined);
    this.current = new Array(n).fill(undefined);
  }

  /** The index of a task of this run, or undefined. */
  indexOf(id: unknown): number | undefined {
    const i = typeof id === "string" ? this.graph.index.get(id) : undefined;
    return i !== undefined && i < this.count ? i : undefined;
  }

  /** The index of a task of this run, or E_UNKNOWN_TASK naming the operation. */
  require(id: unknown, operation: string): number {
    const i = this.indexOf(id);
    if (i === undefined) {
      throw new FlotillaError(
        "E_UNKNOWN_TASK",
        `${operation}: the run of job "${this.graph.name}" has no task ${typeof id === "string" ? `"${id}"` : describe(id)}`,
      );
    }
    return i;
  }

  /** Dependencies of task i. */
  depsOf(i: number): ArrayLike<number> {
    if (i >= this.planned) return this.#addedDeps[i - this.planned]!;
    return this.plan.deps.subarray(this.plan.depStart[i], this.plan.depStart[i + 1]);
  }

  /** Dependents of task i gained after planning (tasks added to the running job), if any. */
  moreDependents(i: number): number[] | undefined {
    return this.#moreDependents?.get(i);
  }

  /** Every dependent of task i (off the hot path: it allocates). */
  dependentsOf(i: number): number[] {
    const list: number[] = [];
    if (i < this.planned) {
      const { outStart, dependents } = this.plan;
      for (let e = outStart[i]!; e < outStart[i + 1]!; e++) list.push(dependents[e]!);
    }
    const more = this.moreDependents(i);
    if (more !== undefined) list.push(...more);
    return list;
  }

  /** `values[d]` by id, for each dependency d of `task` in state `state` (a body's `deps`, `failures`). */
  collect(task: number, state: number, values: readonly unknown[]): Record<string, unknown> {
    const deps = this.depsOf(task);
    const out: Record<string, unknown> = {};
    for (let k = 0; k < deps.length; k++) {
      const d = deps[k]!;
      if (this.state[d] === state) put(out, this.graph.ids[d]!, values[d]);
    }
    return out;
  }

  /**
   * After task `task` was added to the running job: its dependencies may now lead to a longer path or
   * a higher priority. Returns true when a queued (ready) task's keys changed.
   */
  raiseAncestors(task: number): boolean {
    let changedReady = false;
    const stack = [task];
    while (stack.length > 0) {
      const j = stack.pop()!;
      const deps = this.depsOf(j);
      for (let k = 0; k < deps.length; k++) {
        const d = deps[k]!;
        const r = this.rank[j]! + 1;
        const p = this.priority[j]!;
        if (this.rank[d]! >= r && this.priority[d]! >= p) continue;
        if (this.rank[d]! < r) this.rank[d] = r;
        if (this.priority[d]! < p) this.priority[d] = p;
        if (this.state[d] === READY) changedReady = true;
        stack.push(d);
      }
    }
    return changedReady;
  }

  /**
   * Checks and adds a task to the run; throws the builder's errors, or those of `check` (the run's
   * own checks of the new task), and leaves the run unchanged then.
   */
  add(id: unknown, optionsOrBody: unknown, body: unknown, check: (task: number) => void): number {
    if (!this.#ownsGraph) {
      this.graph = copyGraph(this.graph, this.count);
      this.#ownsGraph = true;
    }
    const graph = this.graph;
    const i = addToGraph(graph, id, optionsOrBody, body);
    const first = i === 0 ? 0 : graph.depEnd[i - 1]!;
    try {
      // Unlike a job, a running job has no "later": every dependency must exist now.
      for (let e = first; e < graph.edges; e++) {
        const name = graph.forward.get(e);
        if (name !== undefined) resolveDependency(graph, graph.ids[i]!, name);
      }
      check(i);
    } catch (error) {
      removeLastTask(graph);
      throw error;
    }
    const deps = Array.from(graph.deps.subarray(first, graph.edges));
    if (i === this.state.length) this.#grow();
    this.count++;
    this.#addedDeps.push(deps);
    const more = (this.#moreDependents ??= new Map());
    for (const d of deps) {
      // A dependency that already finished will not release anything again; the run settles this
      // task against it when adding it (and it may be finishing right now, mid-release).
      if (this.state[d]! >= SUCCEEDED) continue;
      const list = more.get(d);
      if (list === undefined) more.set(d, [i]);
      else list.push(i);
    }
    this.state[i] = PENDING;
    this.priority[i] = graph.policies[i]?.priority ?? 0;
    this.rank[i] = 0;
    this.startedAt[i] = NaN;
    this.finishedAt[i] = NaN;
    this.outputs.push(undefined);
    this.errors.push(undefined);
    this.current.push(undefined);
    return i;
  }

  #grow(): void {
    const size = Math.max(8, this.state.length * 2);
    this.state = grown(this.state, new Uint8Array(size));
    this.remaining = grown(this.remaining, new Int32Array(size));
    this.attempts = grown(this.attempts, new Int32Array(size));
    this.failedAttempts = grown(this.failedAttempts, new Int32Array(size));
    this.nodeLosses = grown(this.nodeLosses, new Int32Array(size));
    this.alone = grown(this.alone, new Uint8Array(size));
    this.priority = grown(this.priority, new Float64Array(size));
    this.rank = grown(this.rank, new Int32Array(size));
    this.startedAt = grown(this.startedAt, new Float64Array(size));
    this.finishedAt = grown(this.finishedAt, new Float64Array(size));
  }
}

function grown<T extends Uint8Array | Int32Array | Float64Array>(from: T, to: T): T {
  to.set(from as never);
  return to;
}

/** Sets an own property, also for the id "__proto__". */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
