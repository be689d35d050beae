/**
 * From a job file's data to a runnable plan: the shape checked part by part (schema.ts), ranges
 * expanded (ranges.ts), pools resolved (pools.ts), then what only the whole file can tell: duplicate
 * ids, unknown dependencies, unknown or unfit pools, tasks wider than their pool's nodes, worker
 * modules that do not exist, and a dependency cycle (core's CycleError, mapped to the file). Every
 * problem is collected; the plan is returned only when there are none.
 */
import { stat } from "node:fs/promises";
import { CycleError, FlotillaError, messageOf } from "../../src/errors.ts";
import { graphOf, Job } from "../../src/job.ts";
import { planJob } from "../../src/plan.ts";
import type { TaskSpec } from "../../src/task-context.ts";
import type { TaskOptions } from "../../src/task-options.ts";
import { commandBody, modulePath, workerBody } from "./bodies.ts";
import { JobFileError } from "./errors.ts";
import { type PoolPlan, PoolChooser, type TaskKind, declaredPools } from "./pools.ts";
import { type DataPath, Problems, found } from "./problems.ts";
import { dependencyIds, type ExpandedTask, expandTask } from "./ranges.ts";
import { checkPart } from "./schema-problems.ts";
import { COMMAND_ONLY_KEYS, DEFAULTS_SCHEMA, type DefaultsDecl, FILE_SCHEMA, TASK_SCHEMA } from "./schema.ts";
import type { JobSource } from "./source.ts";

/** How long the dry run assumes a task takes when neither it nor `defaults` say. */
export const DEFAULT_ESTIMATE_MS = 1_000;

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
    const decl = checkPart(TASK_SCHEMA, value, ["tasks", index], problems);
    if (decl !== undefined) expanded.push(...expandTask(decl, index, problems));
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

  const job = new Job<any>(top?.name ?? (typeof raw.name === "string" && raw.name !== "" ? raw.name : "job"));
  const tasks: PlannedTask[] = [];
  /** For each task, which `dependsOn` entry names each dependency (to point at a cycle's edge). */
  const entryOf = new Map<string, Map<string, number>>();
  for (const task of unique) {
    const planned = planTask(task, { source, defaults, chooser, ids, missingModules, problems });
    if (planned === undefined) continue;
    entryOf.set(planned.task.id, planned.entries);
    try {
      job.task(planned.task.id, planned.task.options, planned.body);
      tasks.push(planned.task);
    } catch (error) {
      problems.add(["tasks", task.index], `${messageOf(error)}`, { generated: task.generated });
    }
  }
  if (problems.size === 0 || tasks.length > 0) findCycle(job, tasks, entryOf, problems);
  if (problems.size > 0) throw new JobFileError(source.shown, problems.list(source.locate));
  return { name: job.name, job, tasks, pools: chooser.plans };
}

interface Context {
  readonly source: DataSource;
  readonly defaults: DefaultsDecl;
  readonly chooser: PoolChooser;
  readonly ids: ReadonlySet<string>;
  readonly missingModules: ReadonlySet<string>;
  readonly problems: Problems;
}

/** One task's kind, body, pool and dependencies; undefined when something is wrong with it (reported). */
function planTask(
  { index, decl, generated }: ExpandedTask,
  { source, defaults, chooser, ids, missingModules, problems }: Context,
): { task: PlannedTask; body: TaskSpec; entries: Map<string, number> } | undefined {
  const at: DataPath = ["tasks", index];
  const before = problems.size;
  const add = (path: DataPath, message: string) => problems.add(path, message, { generated });
  let kind: TaskKind | undefined;
  if (decl.command !== undefined && decl.worker !== undefined) add(at, 'expected either "command" or "worker", found both');
  else if (decl.command === undefined && decl.worker === undefined)
    add(at, 'missing: expected "command" (the program and its arguments) or "worker" ({ module, export, input })');
  else kind = decl.command !== undefined ? "command" : "worker";

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

  let body: TaskSpec | undefined;
  if (kind !== undefined && problems.size === before) {
    try {
      body = kind === "command" ? commandBody(decl, defaults, source.dir) : workerBody(decl, source.dir);
    } catch (error) {
      add([...at, kind], `expected a runnable ${kind}: ${messageOf(error)}`);
    }
  }
  if (body === undefined || pool === undefined || problems.size !== before) return undefined;
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
  return { task: { id: decl.id, index, kind: kind!, options, estimateMs }, body, entries };
}

/** Core's planner finds a cycle with its whole path; it is reported at the dependency that closes it. */
function findCycle(job: Job<any>, tasks: readonly PlannedTask[], entryOf: Map<string, Map<string, number>>, problems: Problems): void {
  try {
    planJob(graphOf(job)!);
  } catch (error) {
    if (error instanceof CycleError) {
      const [first, second] = error.path as [string, string];
      const task = tasks.find((t) => t.id === first)!;
      const k = entryOf.get(first)?.get(second);
      problems.add(
        k === undefined ? ["tasks", task.index, "dependsOn"] : ["tasks", task.index, "dependsOn", k],
        `expected no dependency cycle, found ${error.path.join(" -> ")} (each task depends on the next)`,
      );
    } else if (!(error instanceof FlotillaError && error.code === "E_UNKNOWN_DEPENDENCY")) {
      throw error;
    }
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
