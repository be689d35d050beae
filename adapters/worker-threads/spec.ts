/** `workerTask()`: the task body of this adapter, a module export called in a worker thread. */
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import { FlotillaError, describe } from "../../src/errors.ts";
import type { TaskSpec } from "../../src/task-context.ts";

/** The body kind `workerThreads()` runs. */
export const WORKER_THREAD_KIND = "worker-thread";

/**
 * A task body for `workerThreads()`: the export `export` of the module at `module` (an absolute URL),
 * called in a worker thread as `fn(input, ctx)`. A plain object, so it can be built anywhere.
 */
export interface WorkerTaskSpec<Output = unknown> extends TaskSpec<Output> {
  readonly kind: "worker-thread";
  /** The module's absolute URL (`file:`, `data:`, ...). */
  readonly module: string;
  /** The name of the exported function (`"default"` for the default export). */
  readonly export: string;
  /** The first argument of the function; crosses to the thread by structured clone. */
  readonly input: unknown;
}

/**
 * What a worker export receives as its second argument.
 *
 * @example
 * // tasks.mjs
 * export async function resize(input, { deps, signal, log }) {
 *   log(`resizing ${deps.fetch.length} bytes`);
 *   return sharp(deps.fetch).resize(input.width).toBuffer({ signal });
 * }
 */
export interface WorkerTaskContext<Deps = Record<string, unknown>> {
  /** The task's id. */
  readonly taskId: string;
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  readonly attempt: number;
  /** Aborted when the attempt is cancelled or times out (reason: an Error with the main thread's name, message and code). */
  readonly signal: AbortSignal;
  /** The outputs of the task's dependencies, by id (structured clones). */
  readonly deps: Deps;
  /**
   * Errors of dependencies that failed with `onFailure: "satisfy"`, by id (their `deps` entry is
   * undefined): Errors with the original's name, message, stack and properties such as `code`.
   */
  readonly failures: Readonly<Record<string, unknown>>;
  /** Reports a line as a `task:output` event on the main thread. */
  readonly log: (line: string) => void;
}

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
