/** The Job builder: tasks, their options and bodies, checked as they are added. */
import { FlotillaError, describe } from "./errors.ts";
import { hashId } from "./id-index.ts";
import { emptyGraph, type JobGraph } from "./job-graph.ts";
import { checkTaskId, checkTaskOptions, type SatisfyOptions, type TaskOptions, type TaskPolicy } from "./task-options.ts";
import type { TaskBody, TaskSpec } from "./task-context.ts";

/** The graph behind a job (internal: the executor reads it; users never see it). */
export let graphOf: (job: unknown) => JobGraph | undefined;

/** Adds one task to a graph after checking it; shared by `Job.task` and `RunHandle.addTask`. */
export function addToGraph(graph: JobGraph, id: unknown, optionsOrBody: unknown, maybeBody: unknown): number {
  if (typeof id !== "string" || id.length === 0) checkTaskId(`job "${graph.name}"`, id);
  const index = graph.index;
  const hash = hashId(id);
  const before = index.size;
  if (index.find(id, hash) >= 0) throw duplicateTask(graph, id);
  let body = maybeBody;
  let deps: readonly string[] | undefined;
  let policy: TaskPolicy | undefined;
  if (typeof optionsOrBody === "function" || (maybeBody === undefined && isTaskSpec(optionsOrBody))) {
    if (maybeBody !== undefined) {
      throw new FlotillaError("E_INVALID_OPTION", `task "${id}": give (id, body) or (id, options, body), received a body then ${describe(maybeBody)}`);
    }
    body = optionsOrBody;
  } else if (maybeBody === undefined && (typeof optionsOrBody !== "object" || optionsOrBody === null || Array.isArray(optionsOrBody))) {
    // (id, x) with no third argument: x was meant as the body, so the body is what is wrong.
    body = optionsOrBody;
  } else if (optionsOrBody !== undefined) {
    ({ deps, policy } = checkTaskOptions(id, optionsOrBody));
  }
  if (typeof body !== "function" && !isTaskSpec(body)) {
    throw new FlotillaError(
      "E_INVALID_OPTION",
      `task "${id}": the body must be a function (ctx) => value or a task spec with a "kind" (workerTask(...), command(...)), received ${describe(body)}`,
    );
  }
  // A getter of the options may have added tasks meanwhile, this id among them.
  if (index.size !== before && index.find(id, hash) >= 0) throw duplicateTask(graph, id);
  // Copied as indices: later edits to the caller's array cannot reach the job.
  let edges = graph.edges;
  if (deps !== undefined && deps.length > 0) {
    const m = deps.length;
    if (edges + m > graph.deps.length) graph.deps = grown(graph.deps, edges + m);
    const out = graph.deps;
    for (let k = 0; k < m; k++) {
      const dep = deps[k]!;
      const d = index.indexOf(dep);
      if (d < 0) {
        graph.forward.set(edges, dep);
        graph.ordered = false;
      }
      out[edges++] = d;
    }
    graph.edges = edges;
  }
  const i = index.add(id, hash);
  graph.bodies.push(body as TaskBody<any, unknown> | TaskSpec);
  if (policy !== undefined) {
    const policies = graph.policies;
    while (policies.length < i) policies.push(undefined);
    policies.push(policy);
  }
  if (i === graph.depEnd.length) graph.depEnd = grown(graph.depEnd, i + 1);
  graph.depEnd[i] = edges;
  return i;
}

function duplicateTask(graph: JobGraph, id: string): FlotillaError {
  return new FlotillaError("E_DUPLICATE_TASK", `job "${graph.name}" already has a task "${id}"; task ids must be unique`);
}

function isTaskSpec(body: unknown): body is TaskSpec {
  return typeof body === "object" && body !== null && typeof (body as TaskSpec).kind === "string" && (body as TaskSpec).kind.length > 0;
}

/** Undoes the last `addToGraph` (a task refused after it was added, e.g. for an unknown dependency). */
export function removeLastTask(graph: JobGraph): void {
  graph.index.removeLast();
  graph.bodies.pop();
  const n = graph.ids.length;
  if (graph.policies.length > n) graph.policies.length = n;
  const edges = n === 0 ? 0 : graph.depEnd[n - 1]!;
  for (let e = edges; e < graph.edges; e++) graph.forward.delete(e);
  graph.edges = edges;
}

/** A copy of the first `count` tasks of a graph, for a run that adds tasks of its own. */
export function copyGraph(graph: JobGraph, count: number): JobGraph {
  const edges = count === 0 ? 0 : graph.depEnd[count - 1]!;
  const index = graph.index.copy(count);
  const forward = new Map<number, string>();
  for (const [e, name] of graph.forward) if (e < edges) forward.set(e, name);
  return {
    name: graph.name,
    ids: index.ids,
    bodies: graph.bodies.slice(0, count),
    policies: graph.policies.slice(0, count),
    index,
    deps: graph.deps.slice(0, Math.max(16, edges)),
    depEnd: graph.depEnd.slice(0, Math.max(16, count)),
    edges,
    forward,
    ordered: graph.ordered,
    plan: undefined,
  };
}

/** `from` copied into a typed array at least `min` long (doubling, so appends stay amortised O(1)). */
function grown(from: Int32Array, min: number): Int32Array {
  const to = new Int32Array(Math.max(min, from.length * 2));
  to.set(from);
  return to;
}

type DepsOf<Outputs, D extends keyof Outputs> = { readonly [K in D]: Outputs[K] };

/**
 * A graph of tasks with dependencies. `task()` adds a task to this job and returns this same job
 * (not a copy), typed with the new task's output recorded so a dependent's `ctx.deps` is typed:
 * `j.task(...) === j`. Keep the returned value (the wider type); to branch a job, build two jobs.
 *
 * In TypeScript a task can only name dependencies declared before it (the type of `dependsOn` is the
 * ids declared so far). For graphs built in a loop, type the job as `new Job<Record<string, T>>(name)`.
 * A job can be run many times; tasks added to it later take part in later runs only.
 *
 * @example
 * const job = new Job("etl")
 *   .task("extract", async ({ signal }) => fetchRows(signal))
 *   .task("double", { dependsOn: ["extract"] }, ({ deps }) => deps.extract.map((r) => r * 2));
 */
export class Job<Outputs extends Record<string, unknown> = {}> {
  /** The job's name, used in messages and events. */
  readonly name: string;
  readonly #graph: JobGraph;

  static {
    graphOf = (job) => (job instanceof Job ? job.#graph : undefined);
  }

  /** Keeps the hidden class of a job alive between jobs (see IdIndex's own), so `task` stays optimised. */
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: read by nobody on purpose: it only keeps the hidden class alive (see above)
  static readonly #keepShape: Job = new Job("shape");

  constructor(name: string) {
    if (typeof name !== "string" || name.length === 0) {
      throw new FlotillaError("E_INVALID_OPTION", `new Job(name): the name must be a non-empty string, received ${describe(name)}`);
    }
    this.name = name;
    this.#graph = emptyGraph(name);
  }

  /** Adds a task with no options. Throws E_DUPLICATE_TASK or E_INVALID_OPTION. */
  task<Id extends string, R>(id: Id, body: TaskBody<{}, R>): Job<Outputs & { [K in Id]: Awaited<R> }>;
  /** Adds a task whose body is a spec (`workerTask(...)`, `command(...)`) run by its pool's provider. */
  task<Id extends string, R>(id: Id, body: TaskSpec<R>): Job<Outputs & { [K in Id]: R }>;
  /**
   * Adds a task whose failure satisfies its dependents (`onFailure: "satisfy"`): they run anyway, so
   * its output reaches their `ctx.deps` typed `Output | undefined` (undefined when it failed).
   */
  task<Id extends string, R, D extends keyof Outputs & string = never>(
    id: Id,
    options: SatisfyOptions<D>,
    body: TaskBody<DepsOf<Outputs, D>, R>,
  ): Job<Outputs & { [K in Id]: Awaited<R> | undefined }>;
  /** A spec task whose failure satisfies its dependents: its output is typed `Output | undefined` in theirs. */
  task<Id extends string, R, D extends keyof Outputs & string = never>(
    id: Id,
    options: SatisfyOptions<D>,
    body: TaskSpec<R>,
  ): Job<Outputs & { [K in Id]: R | undefined }>;
  /** Adds a task with options. Throws E_DUPLICATE_TASK or E_INVALID_OPTION. */
  task<Id extends string, R, D extends keyof Outputs & string = never>(
    id: Id,
    options: TaskOptions<D>,
    body: TaskBody<DepsOf<Outputs, D>, R>,
  ): Job<Outputs & { [K in Id]: Awaited<R> }>;
  /** Adds a task with options whose body is a spec run by its pool's provider. */
  task<Id extends string, R, D extends keyof Outputs & string = never>(id: Id, options: TaskOptions<D>, body: TaskSpec<R>): Job<Outputs & { [K in Id]: R }>;
  task(id: string, optionsOrBody: unknown, body?: unknown): Job<any> {
    addToGraph(this.#graph, id, optionsOrBody, body);
    return this;
  }

  /** How many tasks the job has. */
  get size(): number {
    return this.#graph.ids.length;
  }

  /** Whether the job has a task with this id. */
  has(id: string): boolean {
    return this.#graph.index.has(id);
  }
}
