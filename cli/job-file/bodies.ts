/**
 * The task bodies of a job file: a `command` becomes flotilla/child-process `command(argv, options)`,
 * a `worker` becomes flotilla/worker-threads `workerTask(module, export, input)`. Paths (a worker's
 * module, a command's `cwd`) are relative to the job file's folder.
 */
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { command } from "../../adapters/child-process/index.ts";
import { workerTask } from "../../adapters/worker-threads/index.ts";
import type { CommandOptions } from "../../src/provider-kit/body-specs.ts";
import type { TaskSpec } from "../../src/task-context.ts";
import type { DefaultsDecl, TaskDecl } from "./schema.ts";

/** The absolute path of a worker module named in the file (relative, absolute, or a file: URL). */
export function modulePath(dir: string, module: string): string {
  if (module.startsWith("file:")) return fileURLToPath(module);
  return isAbsolute(module) ? module : resolve(dir, module);
}

/** A command task's body. Throws E_INVALID_OPTION as `command()` does (the caller reports it at the task). */
export function commandBody(decl: TaskDecl, defaults: DefaultsDecl, dir: string): TaskSpec {
  const argv = typeof decl.command === "string" ? [decl.command] : decl.command!;
  const env = decl.env === undefined && defaults.env === undefined ? undefined : { ...defaults.env, ...decl.env };
  const options: CommandOptions = {
    cwd: resolve(dir, decl.cwd ?? defaults.cwd ?? "."),
    ...(env === undefined ? {} : { env }),
    ...(decl.inheritEnv === undefined ? {} : { inheritEnv: decl.inheritEnv }),
    ...(decl.stdin === undefined ? {} : { stdin: decl.stdin }),
    ...(decl.shell === undefined ? {} : { shell: decl.shell }),
    ...(decl.output === undefined ? {} : { output: decl.output }),
  };
  return command(argv, options);
}

/** A worker task's body: the module's export, called in a worker thread as `fn(input, ctx)`. */
export function workerBody(decl: TaskDecl, dir: string): TaskSpec {
  const worker = decl.worker!;
  return workerTask(pathToFileURL(modulePath(dir, worker.module)), worker.export ?? "default", worker.input);
}
