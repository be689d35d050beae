/**
 * Job files for the `flotilla` command: a job written as YAML, JSON or a module, loaded into a Job with
 * its pools, checked with every problem reported at its path in the file, and planned in virtual time
 * with a dry run.
 *
 * Files: load.ts (the entry points), source.ts (reading YAML, JSON and modules), schema.ts (the keys
 * and their types) with schema-problems.ts (zod's issues as problems), ranges.ts (generated tasks and
 * ranges of ids), pools.ts (pools and which one a task goes to), job-plan.ts (the checks of the whole
 * file and the Job built), bodies.ts (command and worker bodies), job-export.ts (a module exporting a
 * Job), providers.ts (the pools of a real run), dry-run.ts (the plan in virtual time), problems.ts and
 * errors.ts (E_JOB_FILE and its problems).
 */
export { loadJobFile, validateJobFile, type LoadedJob } from "./load.ts";
export type { DryRunReport, DryRunPoolReport, DryRunOptions } from "./dry-run.ts";
export { JobFileError, JOB_FILE_ERROR_CODES, problemLine, type JobFileProblem } from "./errors.ts";
