/**
 * A job module as a job file: a `.mjs`/`.js` file whose default export is a flotilla `Job` and whose
 * optional `pools` export names the pools its tasks use (`{ default: childProcess() }`), and optional
 * `dryRun(options)` export answers `--dry-run`. The command's stand-in until the job-file loader
 * (cli/job-file/) is connected through cli/load.ts; that loader reads modules too.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { FlotillaError, describe, messageOf } from "../src/errors.ts";
import { graphOf, type Job } from "../src/job.ts";
import type { ComputeProvider } from "../src/provider.ts";
import { dependenciesOf } from "./job-deps.ts";

/** What `--dry-run` prints: a simulated run's length, the most nodes each pool held, and its cost. */
export interface DryRunReport {
  makespanMs: number;
  peakNodes: Record<string, number>;
  cost: number;
  tasks: number;
}

/** A job file, loaded: the job, and how to make the pools it runs on. */
export interface LoadedJob {
  readonly file: string;
  readonly name: string;
  readonly job: Job<any>;
  readonly poolNames: readonly string[];
  makePools(): Record<string, ComputeProvider<any>>;
  dryRun(options?: { seed?: number }): Promise<DryRunReport>;
}

/** An E_JOB_FILE error listing what is wrong with `file`. */
function jobFileError(file: string, problems: readonly string[], cause?: unknown): FlotillaError {
  return new FlotillaError("E_JOB_FILE", `job file "${file}" is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`, { cause });
}

export async function loadJobModule(path: string): Promise<LoadedJob> {
  const file = resolve(path);
  if (!existsSync(file)) throw jobFileError(file, ["the file does not exist"]);
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    // A job the module builds wrongly (a duplicate id, a bad option) says so with its own code.
    if (error instanceof FlotillaError) throw error;
    throw jobFileError(file, [`it could not be loaded: ${messageOf(error)}`], error);
  }
  const job = exports.default;
  if (graphOf(job) === undefined) {
    const named = typeof job === "object" && job !== null && (job as object).constructor?.name === "Job";
    throw jobFileError(file, [
      named
        ? "its default export is a Job of another copy of flotilla: import Job from the flotilla this command belongs to"
        : `its default export must be a flotilla Job, received ${describe(job)}`,
    ]);
  }
  const pools = exports.pools;
  if (pools !== undefined && (typeof pools !== "object" || pools === null || Array.isArray(pools))) {
    throw jobFileError(file, [`its "pools" export must be an object of providers by pool name, received ${describe(pools)}`]);
  }
  const dryRun = exports.dryRun;
  const theJob = job as Job<any>;
  return {
    file,
    name: theJob.name,
    job: theJob,
    poolNames: Object.keys(pools ?? {}),
    makePools: () => ({ ...(pools as Record<string, ComputeProvider<any>>) }),
    dryRun: async (options) => {
      if (typeof dryRun !== "function") throw jobFileError(file, ["--dry-run needs a job file, or a job module that exports dryRun(options)"]);
      return (await dryRun(options)) as DryRunReport;
    },
  };
}

/** Loads a job module and checks its graph (cycles, unknown dependencies) without running anything. */
export async function validateJobModule(path: string): Promise<{ tasks: number; pools: string[] }> {
  const loaded = await loadJobModule(path);
  dependenciesOf(loaded.job);
  return { tasks: loaded.job.size, pools: [...loaded.poolNames] };
}
