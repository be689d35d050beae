/**
 * The command's one door to job files. The job-file loader (cli/job-file/) reads job files and job
 * modules; until it is connected, the command reads job modules only (job-module.ts). To connect it,
 * replace the body of this file with:
 *
 *   export { loadJobFile, validateJobFile, type LoadedJob, type DryRunReport } from "./job-file/index.ts";
 */
export { loadJobModule as loadJobFile, validateJobModule as validateJobFile, type LoadedJob, type DryRunReport } from "./job-module.ts";
