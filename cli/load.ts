/** The command's one door to job files (cli/job-file/ reads YAML, JSON and modules). */
export { loadJobFile, validateJobFile, type LoadedJob, type DryRunReport } from "./job-file/index.ts";
