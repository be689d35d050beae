/**
 * From a job file's data to a runnable plan: the shape checked part by part (schema.ts), ranges
 * expanded (ranges.ts), pools resolved (pools.ts), then what only the whole file can tell: duplicate
 * ids, unknown dependencies, unknown or unfit pools, tasks wider than their pool's nodes, worker
 * modules that do not exist, and a dependency cycle (core's CycleError, mapped to the file). Every
 * problem is collected; the plan is returned only when there are none.
 */
import { stat } from "node:fs/promises";
import { CycleError, messageOf } from "../../src/errors.ts";
import { graphOf, Job } from "../../src/job.ts";
import { planOf } from "../../src/plan.ts";
import type { TaskSpec } from "../../src/task-context.ts";
import { DEFAULT_POLICY, type TaskOptions } from "../../src/task-options.ts";
import { commandBody, modulePath, workerBody } from "./bodies.ts";
import { JobFileError } from "./errors.ts";
import { type PoolPlan, PoolChooser, type TaskKind, declaredPools } from "./pools.ts";
import { type DataPath, Problems, found } from "./problems.ts";
import { dependencyIds, type ExpandedTask, expandTask } from "./ranges.ts";
import { checkObjectPart, checkPart } from "./schema-problems.ts";
import { COMMAND_ONLY_KEYS, DEFAULTS_SCHEMA, type DefaultsDecl, FILE_SCHEMA, TASK_SCHEMA } from "./schema.ts";
import type { JobSource } from "./source.ts";

/** How long the dry run assumes a task takes when neither it nor `defaults` say. */
export const DEFAULT_ESTIMATE_MS = 1_000;

/** Core's first backoff delay when a task's `backoff` gives none (task-options.ts). */
const DEFAULT_BACKOFF_INITIAL_MS = DEFAULT_POLICY.initialMs;

/** One task of the plan, as the job runs it and the dry run imitates it. */
export interface PlannedTask {
  readonly id: string;
  /** Its declaration's index in the file's `tasks`. */
  readonly index: number;
  /** "function": a task of a module's Job whose body is a function (run in-process). */
  readonly kind: TaskKind | "function";
  /** Its options as given to `job.task` (pool and dependsOn included). */
  readonly options: TaskOptions;
  readonly estimateMs: number;
}

/** A job file checked and turned into a Job, its pools and what the dry run needs. */
export interface JobPlan {
  readonly name: string;
  readonly job: Job<any>;
  readonly tasks: readonly PlannedTask[];
  /** The pools tasks use or the file declares (implicit ones last). */
  readonly pools: ReadonlyMap<string, PoolPlan>;
}

type DataSource = Extract<JobSource, { kind: "data" }>;

/** Checks a job file's data; throws a JobFileError listing every problem, or returns its plan. */
export async function planJobFile(source: DataSource): Promise<JobPlan> {
  const problems = new Problems();
  const raw = isRecord(source.data) ? source.data : {};
  const top = checkPart(FILE_SCHEMA, source.data, [], problems);
  const defaults: DefaultsDecl = (raw.defaults === undefined ? {} : checkPart(DEFAULTS_SCHEMA, raw.defaults, ["defaults"], problems)) ?? {};
  const { plans, names } = declaredPools(isRecord(raw.pools) ? raw.pools : undefined, problems);
  const chooser = new PoolChooser(plans, names, defaults.pool);

  const expanded: ExpandedTask[] = [];
  const rawTasks = Array.isArray(raw.tasks) ? raw.tasks : [];
  rawTasks.forEach((value, index) => {
    const checked = checkObjectPart(TASK_SCHEMA, value, ["tasks", index], problems);
    if (checked !== undefined) expanded.push(...expandTask(checked.value, index, checked.complete, problems));
  });

  // Ids first, so a dependency may name a task declared later (as with Job.task).
  const firstIndex = new Map<string, number>();
  const unique: ExpandedTask[] = [];
  for (const task of expanded) {
    const first = firstIndex.get(task.decl.id);
    if (first === undefined) {
      firstIndex.set(task.decl.id, task.index);
      unique.push(task);
    } else {
      problems.add(["tasks", task.index, "id"], `expected a unique task id, found "${task.decl.id}" again (first declared by tasks[${first}])`, {
        generated: task.generated,
      });
    }
  }
  const ids = new Set(firstIndex.keys());
  const missingModules = await missingFiles(unique.flatMap((t) => (t.decl.worker === undefined ? [] : [modulePath(source.dir, t.decl.worker.module)])));
  const context: Context = { source, defaults, chooser, ids, missingModules, problems };
  const planned = unique.map((task) => planTask(task, context));

  const name = top?.name ?? (typeof raw.name === "string" && raw.name !== "" ? raw.name : "job");
  const job = new Job<any>(name);
  const tasks: PlannedTask[] = [];
  if (problems.size === 0) {
    for (const { task, body } of planned) {
      try {
        job.task(task!.id, task!.options, body!);
        tasks.push(task!);
      } catch (error) {
        problems.add(["tasks", task!.index], messageOf(error));
      }
    }
  }
  // With problems, the job is incomplete: the cycle is looked for in the tasks' dependencies alone.
  findCycle(problems.size === 0 ? job : shapeOf(name, unique, planned), unique, planned, problems);
  if (problems.size > 0) throw new JobFileError(source.shown, problems.list(source.locate));
  return { name: job.name, job, tasks, pools: chooser.plans };
}

/** What planTask makes of a task: the task and its body when nothing is wrong with it, its dependencies always. */
interface Planned {
  readonly task: PlannedTask | undefined;
  readonly body: TaskSpec | undefined;
  /** The ids it depends on that exist. */
  readonly deps: readonly string[];
  /** For each dependency, the index of the `dependsOn` entry that names it (to point at a cycle's edge). */
  readonly entries: ReadonlyMap<string, number>;
}

interface Context {
  readonly source: DataSource;
  readonly defaults: DefaultsDecl;
  readonly chooser: PoolChooser;
  readonly ids: ReadonlySet<string>;
  readonly missingModules: ReadonlySet<string>;
  readonly problems: Problems;
}

/** One task's kind, body, pool and dependencies; no task or body when something is wrong with it (reported). */
function planTask(expanded: ExpandedTask, { source, defaults, chooser, ids, missingModules, problems }: Context): Planned {
  const { index, decl, generated, complete } = expanded;
  const at: DataPath = ["tasks", index];
  // `added`, not `size`: a range's later tasks repeat a problem already listed, and are as wrong.
  const before = problems.added;
  const add = (path: DataPath, message: string) => problems.add(path, message, { generated });
  let kind: TaskKind | undefined;
  if (decl.command !== undefined && decl.worker !== undefined) add(at, 'expected either "command" or "worker", found both');
  else if (decl.command === undefined && decl.worker === undefined) {
    // A task with a bad or unknown key may have meant a command there: that key's problem says so.
    if (complete) add(at, 'missing: expected "command" (the program and its arguments) or "worker" ({ module, export, input })');
  } else kind = decl.command !== undefined ? "command" : "worker";

  if (kind === "command" && typeof decl.command === "string" && decl.shell !== true)
    add(
      [...at, "command"],
      `expected an array of strings (the program, then its arguments), found ${found(decl.command)} (a single string is a shell line: add shell: true)`,
    );
  if (kind === "worker") {
    for (const key of COMMAND_ONLY_KEYS) {
      if (decl[key] !== undefined) add([...at, key], `expected no "${key}" on a worker task (it is for commands), found ${found(decl[key])}`);
    }
    const module = modulePath(source.dir, decl.worker!.module);
    if (missingModules.has(module))
      add([...at, "worker", "module"], `expected an existing module file, found "${decl.worker!.module}" (there is no file ${module})`);
  }

  const pool = kind === undefined ? undefined : chooser.poolFor(kind, decl.pool, at, problems, generated);
  if (pool !== undefined && decl.slots !== undefined && decl.slots > pool.slotsPerNode) {
    add([...at, "slots"], `expected at most ${pool.slotsPerNode} (the slots of one node of pool "${pool.name}"), found number ${decl.slots}`);
  }

  const deps: string[] = [];
  const entries = new Map<string, number>();
  const seen = new Set<string>();
  (decl.dependsOn ?? []).forEach((entry, k) => {
    if (seen.has(entry)) add([...at, "dependsOn", k], `expected each dependency once, found "${entry}" again`);
    seen.add(entry);
    for (const id of dependencyIds(entry, ids, [...at, "dependsOn", k], problems, generated)) {
      // Ranges may overlap: a task named twice is one dependency.
      if (entries.has(id)) continue;
      entries.set(id, k);
      deps.push(id);
    }
  });

  const backoff = decl.backoff;
  if (backoff?.maxMs !== undefined && backoff.maxMs < (backoff.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS)) {
    add([...at, "backoff", "maxMs"], `expected at least initialMs (${backoff.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS}), found number ${backoff.maxMs}`);
  }

  let body: TaskSpec | undefined;
  if (kind !== undefined && complete && problems.added === before) {
    try {
      body = kind === "command" ? commandBody(decl, defaults, source.dir) : workerBody(decl, source.dir);
    } catch (error) {
      add([...at, kind], `expected a runnable ${kind}: ${messageOf(error)}`);
    }
  }
  if (body === undefined || pool === undefined || problems.added !== before) return { task: undefined, body: undefined, deps, entries };
  const retries = decl.retries ?? defaults.retries;
  const timeoutMs = decl.timeoutMs ?? defaults.timeoutMs;
  const options: TaskOptions = {
    dependsOn: deps,
    pool: pool.name,
    ...(retries === undefined ? {} : { retries }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(decl.backoff === undefined ? {} : { backoff: decl.backoff }),
    ...(decl.onFailure === undefined ? {} : { onFailure: decl.onFailure }),
    ...(decl.priority === undefined ? {} : { priority: decl.priority }),
    ...(decl.slots === undefined ? {} : { slots: decl.slots }),
  };
  const estimateMs = decl.estimateMs ?? defaults.estimateMs ?? DEFAULT_ESTIMATE_MS;
  return { task: { id: decl.id, index, kind: kind!, options, estimateMs }, body, deps, entries };
}

/** The tasks and their dependencies only, to look for a cycle in a job that has other problems. */
function shapeOf(name: string, unique: readonly ExpandedTask[], planned: readonly Planned[]): Job<any> {
  const shape = new Job<any>(name);
  unique.forEach((task, k) => shape.task(task.decl.id, { dependsOn: planned[k]!.deps }, () => undefined));
  return shape;
}

/** Core's planner finds a cycle with its whole path; it is reported at the dependency that closes it. */
function findCycle(job: Job<any>, unique: readonly ExpandedTask[], planned: readonly Planned[], problems: Problems): void {
  try {
    // planOf keeps the plan on the job's graph: the run reuses it.
    planOf(graphOf(job)!);
  } catch (error) {
    if (!(error instanceof CycleError)) throw error;
    const [first, second] = error.path as [string, string];
    const k = unique.findIndex((t) => t.decl.id === first);
    const entry = planned[k]!.entries.get(second);
    const at: DataPath = entry === undefined ? ["tasks", unique[k]!.index, "dependsOn"] : ["tasks", unique[k]!.index, "dependsOn", entry];
    problems.add(at, `expected no dependency cycle, found ${error.path.join(" -> ")} (each task depends on the next)`);
  }
}

/** The files among `paths` that do not exist (each looked up once). */
async function missingFiles(paths: readonly string[]): Promise<Set<string>> {
  const unique = [...new Set(paths)];
  const exists = await Promise.all(
    unique.map((p) =>
      stat(p).then(
        (s) => s.isFile(),
        () => false,
      ),
    ),
  );
  return new Set(unique.filter((_, k) => !exists[k]));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
