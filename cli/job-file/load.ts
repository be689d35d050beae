/**
 * `loadJobFile` and `validateJobFile`: a job file (YAML, JSON, or a module exporting a job file object
 * or a Job) read, checked with every problem collected, and turned into a runnable Job with the pools
 * for a real run and a dry run in virtual time.
 */
import type { Job } from "../../src/job.ts";
import type { ComputeProvider } from "../../src/provider.ts";
import { type DryRunOptions, type DryRunReport, dryRunPlan } from "./dry-run.ts";
import { planJobExport } from "./job-export.ts";
import { type JobPlan, planJobFile } from "./job-plan.ts";
import { realProviders } from "./providers.ts";
import { readJobSource } from "./source.ts";

/** A job file, checked and ready to run. */
export interface LoadedJob {
  /** The job file's absolute path. */
  readonly file: string;
  /** The job's name (its `name` key, or the exported Job's). */
  readonly name: string;
  /** The job, its tasks' bodies made with `command()` and `workerTask()` (a module's Job as exported). */
  readonly job: Job<any>;
  /** The pools its tasks use or the file declares, in the file's order (implicit pools last). */
  readonly poolNames: readonly string[];
  /**
   * Real pools for a run (`childProcess`, `workerThreads`, `inProcess` for a Job module's functions), new
   * ones at each call: `run(loaded.job, { pools: loaded.makePools() })`. Throws E_JOB_FILE when a task
   * uses a "cloud" pool: a simulated cloud is only for a dry run.
   */
  makePools(): Record<string, ComputeProvider<any>>;
  /** Runs the job against the simulated cloud in virtual time; nothing is executed. */
  dryRun(options?: DryRunOptions): Promise<DryRunReport>;
}

/**
 * Reads, checks and builds a job file. Rejects with a JobFileError (E_JOB_FILE) listing every problem
 * of the file, each with its path inside it (and line and column for YAML and JSON).
 *
 * @example
 * const loaded = await loadJobFile("jobs/nightly.yaml");
 * const result = await run(loaded.job, { pools: loaded.makePools() });
 */
export async function loadJobFile(path: string): Promise<LoadedJob> {
  const source = await readJobSource(path);
  const plan: JobPlan = source.kind === "data" ? await planJobFile(source) : planJobExport(source);
  const file = { shown: source.shown, locate: source.kind === "data" ? source.locate : undefined };
  const used = new Set(plan.tasks.map((t) => t.options.pool!));
  return Object.freeze({
    file: source.file,
    name: plan.name,
    job: plan.job,
    poolNames: Object.freeze([...plan.pools.keys()]),
    makePools: () => realProviders(plan.pools, used, file),
    dryRun: (options?: DryRunOptions) => dryRunPlan(plan.name, plan.tasks, plan.pools, options),
  });
}

/**
 * Checks a job file without running anything: how many tasks (ranges expanded) and which pools.
 * Rejects with a JobFileError (E_JOB_FILE) listing every problem.
 */
export async function validateJobFile(path: string): Promise<{ tasks: number; pools: string[] }> {
  const loaded = await loadJobFile(path);
  return { tasks: loaded.job.size, pools: [...loaded.poolNames] };
}
