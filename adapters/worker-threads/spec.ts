/** `workerTask()`: the task body of this adapter, a module export called in a worker thread. */
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import { FlotillaError, describe } from "../../src/errors.ts";
import type { WorkerTaskSpec } from "../../src/provider-kit/body-specs.ts";

// The types live in the provider kit, so other providers run the same bodies (see body-specs.ts).
export type { WorkerTaskSpec, WorkerTaskContext } from "../../src/provider-kit/body-specs.ts";

/** The body kind `workerThreads()` runs. */
export const WORKER_THREAD_KIND = "worker-thread";

/**
 * A task body that runs `exportName` from the module at `moduleUrl` in a worker thread of
 * `workerThreads()`, as `fn(input, ctx)`. Give `Output` to type the task's output.
 *
 * @example
 * job.task("resize", { dependsOn: ["fetch"] }, workerTask<Size>(new URL("./tasks.js", import.meta.url), "resize", { width: 640 }))
 */
export function workerTask<Output = unknown>(moduleUrl: URL | string, exportName: string, input?: unknown): WorkerTaskSpec<Output> {
  return { kind: WORKER_THREAD_KIND, module: moduleHref(moduleUrl), export: checkExportName(exportName), input };
}

function moduleHref(moduleUrl: unknown): string {
  if (moduleUrl instanceof URL) return moduleUrl.href;
  if (typeof moduleUrl === "string" && moduleUrl.length > 0) {
    if (isAbsolute(moduleUrl)) return pathToFileURL(moduleUrl).href;
    if (URL.canParse(moduleUrl) && /^[a-z][a-z0-9+.-]+:/i.test(moduleUrl)) return new URL(moduleUrl).href;
  }
  throw new FlotillaError(
    "E_INVALID_OPTION",
    `workerTask(moduleUrl, exportName, input): moduleUrl must be a URL, an absolute URL string or an absolute path (e.g. new URL("./tasks.js", import.meta.url)), received ${describe(moduleUrl)}`,
  );
}

function checkExportName(exportName: unknown): string {
  if (typeof exportName === "string" && exportName.length > 0) return exportName;
  throw new FlotillaError(
    "E_INVALID_OPTION",
    `workerTask(moduleUrl, exportName, input): exportName must be a non-empty string (the name of the module's exported function), received ${describe(exportName)}`,
  );
}

/** Whether a task body is a workerTask spec. */
export function isWorkerTaskSpec(body: unknown): body is WorkerTaskSpec {
  if (typeof body !== "object" || body === null) return false;
  const spec = body as Partial<WorkerTaskSpec>;
  return spec.kind === WORKER_THREAD_KIND && typeof spec.module === "string" && typeof spec.export === "string";
}
