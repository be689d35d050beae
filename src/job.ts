/** The Job builder: tasks, their options and bodies, checked as they are added. */
import { FlotillaError, describe } from "./errors.ts";
import { checkTaskId, checkTaskOptions, type TaskOptions, type TaskPolicy } from "./task-options.ts";
import type { TaskBody } from "./task-context.ts";

/** The graph a job holds, as parallel arrays indexed by insertion order (the executor's input). */
export interface JobGraph {
  readonly name: string;
  readonly ids: string[];
  readonly bodies: TaskBody<any, unknown>[];
  readonly deps: (readonly string[])[];
  readonly policies: (TaskPolicy | undefined)[];
  readonly index: Map<string, number>;
}

const graphs = new WeakMap<Job<any>, JobGraph>();

/** The graph behind a job (internal: the executor reads it; users never see it). */
export function graphOf(job: unknown): JobGraph | undefined {
  return graphs.get(job as Job<any>);
}

const EMPTY: readonly string[] = Object.freeze([]);

/** Adds one task to a graph after checking it; shared by `Job.task` and `RunHandle.addTask`. */
export function addToGraph(graph: JobGraph, id: unknown, optionsOrBody: unknown, maybeBody: unknown): number {
  const where = `job "${graph.name}"`;
  checkTaskId(where, id);
  const taskWhere = `task "${id}"`;
  if (graph.index.has(id)) {
    throw new FlotillaError("E_DUPLICATE_TASK", `${where} already has a task "${id}"; task ids must be unique`);
  }
  let body = maybeBody;
  let deps = EMPTY;
  let policy: TaskPolicy | undefined;
  if (typeof optionsOrBody === "function") {
    if (maybeBody !== undefined) {
      throw new FlotillaError("E_INVALID_OPTION", `${taskWhere}: give (id, body) or (id, options, body), received a function then ${describe(maybeBody)}`);
    }
    body = optionsOrBody;
  } else if (optionsOrBody !== undefined) {
    ({ deps, policy } = checkTaskOptions(taskWhere, optionsOrBody));
  }
  if (typeof body !== "function") {
    throw new FlotillaError("E_INVALID_OPTION", `${taskWhere}: the body must be a function (ctx) => value, received ${describe(body)}`);
  }
  const i = graph.ids.length;
  graph.ids.push(id);
  graph.bodies.push(body as TaskBody<any, unknown>);
  graph.deps.push(deps);
  graph.policies.push(policy);
  graph.index.set(id, i);
  return i;
}

type DepsOf<Outputs, D extends keyof Outputs> = { readonly [K in D]: Outputs[K] };

/**
 * A graph of tasks with dependencies. `task()` adds a task and returns the same job with its
 * output type recorded, so a dependent's `ctx.deps` is typed.
 *
 * In TypeScript a task can only name dependencies declared before it (the type of `dependsOn` is the
 * ids declared so far). For graphs built in a loop, type the job as `new Job<Record<string, T>>(name)`.
 *
 * @example
 * const job = new Job("etl")
 *   .task("extract", async ({ signal }) => fetchRows(signal))
 *   .task("double", { dependsOn: ["extract"] }, ({ deps }) => deps.extract.map((r) => r * 2));
 */
export class Job<Outputs extends Record<string, unknown> = {}> {
  /** The job's name, used in messages and events. */
  readonly name: string;

  constructor(name: string) {
    if (typeof name !== "string" || name.length === 0) {
      throw new FlotillaError("E_INVALID_OPTION", `new Job(name): the name must be a non-empty string, received ${describe(name)}`);
    }
    this.name = name;
    graphs.set(this, { name, ids: [], bodies: [], deps: [], policies: [], index: new Map() });
  }

  /** Adds a task with no options. Throws E_DUPLICATE_TASK or E_INVALID_OPTION. */
  task<Id extends string, R>(id: Id, body: TaskBody<{}, R>): Job<Outputs & { [K in Id]: Awaited<R> }>;
  /** Adds a task with options. Throws E_DUPLICATE_TASK or E_INVALID_OPTION. */
  task<Id extends string, R, D extends keyof Outputs & string = never>(
    id: Id,
    options: TaskOptions<D>,
    body: TaskBody<DepsOf<Outputs, D>, R>,
  ): Job<Outputs & { [K in Id]: Awaited<R> }>;
  task(id: string, optionsOrBody: unknown, body?: unknown): Job<any> {
    addToGraph(graphs.get(this)!, id, optionsOrBody, body);
    return this;
  }

  /** How many tasks the job has. */
  get size(): number {
    return graphs.get(this)!.ids.length;
  }

  /** Whether the job has a task with this id. */
  has(id: string): boolean {
    return graphs.get(this)!.index.has(id);
  }
}
