/** `workerThreads()`: the provider whose nodes are worker threads. */
import { FlotillaError, describe } from "../../src/errors.ts";
import type { ComputeProvider, NodeReport, ProviderNode } from "../../src/provider.ts";
import type { TaskContext } from "../../src/task-context.ts";
import { resolveOptions, type ResolvedOptions, type WorkerThreadsOptions } from "./options.ts";
import { ThreadNode, type ThreadHost } from "./thread-node.ts";
import { WORKER_THREAD_KIND, isWorkerTaskSpec, type WorkerTaskSpec } from "./worker-task.ts";

const KINDS = Object.freeze([WORKER_THREAD_KIND]);

/**
 * A compute provider whose nodes are worker threads: one node per thread, up to `threads`, each with
 * `tasksPerThread` slots. It runs `workerTask(...)` bodies. Throws E_INVALID_OPTION for a bad option.
 *
 * @example
 * const result = await run(job, { provider: workerThreads({ threads: 2 }) });
 * // or beside in-process tasks: run(job, { pools: { default: inProcess(), cpu: workerThreads() } })
 */
export function workerThreads(options?: WorkerThreadsOptions): ComputeProvider<WorkerTaskSpec> {
  const host = new Host(resolveOptions(options));
  return {
    name: "worker-threads",
    kinds: KINDS,
    maxNodes: host.options.threads,
    startNode: (report) => host.start(report),
    stopNode: (node) => host.stop(node),
    run: (node, body, ctx) => host.run(node, body, ctx),
  };
}

class Host implements ThreadHost {
  readonly options: ResolvedOptions;
  readonly #fnIds = new Map<string, Map<string, number>>();
  #fnCount = 0;
  readonly #nodes = new Set<ThreadNode>();
  #calls = 0;
  #started = 0;

  constructor(options: ResolvedOptions) {
    this.options = options;
  }

  fnId(spec: WorkerTaskSpec): number {
    // By module, then export: no key string built per attempt.
    let byExport = this.#fnIds.get(spec.module);
    if (byExport === undefined) this.#fnIds.set(spec.module, (byExport = new Map()));
    let id = byExport.get(spec.export);
    if (id === undefined) byExport.set(spec.export, (id = this.#fnCount++));
    return id;
  }

  nextCallId(): number {
    return ++this.#calls;
  }

  start(report: NodeReport | undefined): ThreadNode {
    let node: ThreadNode;
    try {
      node = new ThreadNode(this, `worker-thread-${++this.#started}`, report);
    } catch (error) {
      // Node checks execArgv only when a thread starts; a refused flag will be refused every time.
      if ((error as { code?: unknown })?.code !== "ERR_WORKER_INVALID_EXEC_ARGV") throw error;
      throw new FlotillaError("E_INVALID_OPTION", `workerThreads(): option "execArgv" is refused by worker threads: ${(error as Error).message}`, { cause: error });
    }
    this.#nodes.add(node);
    return node;
  }

  stop(node: ProviderNode): Promise<void> | undefined {
    if (!(node instanceof ThreadNode) || !this.#nodes.delete(node)) return undefined;
    // With no thread left, no thread knows any function id: forget them, so a provider that lives
    // long (and sees many modules) does not grow.
    if (this.#nodes.size === 0) this.#fnIds.clear();
    return node.stop();
  }

  run(node: ProviderNode, body: unknown, ctx: TaskContext<any>): Promise<unknown> {
    if (!isWorkerTaskSpec(body)) {
      const received = typeof body === "function" ? "a function" : typeof body === "object" && body !== null ? `a spec of kind ${describe((body as { kind?: unknown }).kind)}` : describe(body);
      return Promise.reject(
        new FlotillaError("E_INVALID_OPTION", `task "${ctx.taskId}": provider "worker-threads" runs workerTask(module, export, input) bodies (kind "${WORKER_THREAD_KIND}"), received ${received}`),
      );
    }
    if (!(node instanceof ThreadNode)) {
      return Promise.reject(new FlotillaError("E_INVALID_OPTION", `task "${ctx.taskId}": provider "worker-threads" was asked to run on node ${describe(node?.id)}, which it did not start`));
    }
    return node.run(body, ctx); // a stopped node rejects with NodeLostError, like a lost one
  }
}
