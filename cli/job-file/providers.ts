/**
 * The providers of a real run, one per pool: `childProcess()` for processes, `workerThreads()` for
 * threads, `inProcess()` for a Job module's function tasks. A cloud pool is a simulated cloud, only
 * for a dry run: a real run whose tasks use one is refused with E_JOB_FILE.
 */
import { childProcess } from "../../adapters/child-process/index.ts";
import { workerThreads } from "../../adapters/worker-threads/index.ts";
import { inProcess, type ComputeProvider } from "../../src/provider.ts";
import { JobFileError, type JobFileProblem } from "./errors.ts";
import type { PoolPlan } from "./pools.ts";
import { type DataPath, type Locate, pathText } from "./problems.ts";

/** Where problems of a loaded file are reported: its name and, for YAML and JSON, its positions. */
export interface FileRef {
  readonly shown: string;
  readonly locate: Locate | undefined;
}

/** A provider for each pool; pools the tasks do not use are left out when they could not run anyway. */
export function realProviders(pools: ReadonlyMap<string, PoolPlan>, used: ReadonlySet<string>, file: FileRef): Record<string, ComputeProvider<any>> {
  const cloud = [...pools.values()].filter((p) => p.provider === "cloud" && used.has(p.name));
  if (cloud.length > 0) {
    throw new JobFileError(
      file.shown,
      cloud.map((p) =>
        problemAt(
          file,
          ["pools", p.name, "provider"],
          `pool "${p.name}" is a simulated cloud (provider cloud), for planning only: run with --dry-run, or give its tasks a pool of provider processes or threads`,
        ),
      ),
    );
  }
  const providers: Record<string, ComputeProvider<any>> = {};
  for (const plan of pools.values()) {
    const decl = plan.decl;
    if (decl.provider === "processes") {
      providers[plan.name] = childProcess({
        ...(decl.slots === undefined ? {} : { slots: decl.slots }),
        ...(decl.killGraceMs === undefined ? {} : { killGraceMs: decl.killGraceMs }),
        ...(decl.maxOutputBytes === undefined ? {} : { maxOutputBytes: decl.maxOutputBytes }),
      });
    } else if (decl.provider === "threads") {
      providers[plan.name] = workerThreads({
        ...(decl.threads === undefined ? {} : { threads: decl.threads }),
        ...(decl.tasksPerThread === undefined ? {} : { tasksPerThread: decl.tasksPerThread }),
        ...(decl.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: decl.idleTimeoutMs }),
        ...(decl.terminateGraceMs === undefined ? {} : { terminateGraceMs: decl.terminateGraceMs }),
      });
    } else if (decl.provider === "in-process") {
      providers[plan.name] = inProcess();
    } else if (decl.provider === "custom") {
      providers[plan.name] = decl.instance;
    }
  }
  return providers;
}

export function problemAt(file: FileRef, path: DataPath, message: string): JobFileProblem {
  const at = file.locate?.(path);
  return { path: pathText(path), message, ...(at === undefined ? {} : { line: at.line, column: at.column }) };
}
