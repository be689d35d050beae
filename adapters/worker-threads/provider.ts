/** `workerThreads()`: the provider whose nodes are worker threads. */
import { FlotillaError } from "../../src/errors.ts";
import { StartedNodes, bodyName } from "../../src/provider-kit/index.ts";
import type { ComputeProvider, NodeReport, ProviderNode } from "../../src/provider.ts";
import type { TaskContext } from "../../src/task-context.ts";
import { execArgvError } from "./errors.ts";
import { ThreadNode, type ThreadHost } from "./node.ts";
import { resolveOptions, type ResolvedOptions, type WorkerThreadsOptions } from "./options.ts";
import { WORKER_THREAD_KIND, isWorkerTaskSpec, type WorkerTaskSpec } from "./spec.ts";

const NAME = "worker-threads";
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
    name: NAME,
    kinds: KINDS,
    maxNodes: host.options.threads,
    startNode: (report) => host.start(report),
    stopNode: (node) => host.stop(node),
    run: (node, body, ctx) => host.run(node, body, ctx),
  };
}

class Host implements ThreadHost {
  readonly options: ResolvedOptions;
  readonly nodes = new StartedNodes<ThreadNode>(NAME);
  readonly #fnIds = new Map<string, Map<string, number>>();
  #fnCount = 0;
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
    try {
      return this.nodes.add(new ThreadNode(this, `worker-thread-${++this.#started}`, report));
    } catch (error) {
      throw execArgvError(error) ?? error;
    }
  }

  stop(node: ProviderNode): Promise<void> | undefined {
    const ours = this.nodes.markStopped(node);
    if (ours === undefined) return undefined;
    // With no thread left, no thread knows any function id: forget them, so a provider that lives
    // long (and sees many modules) does not grow.
    if (this.nodes.size === 0) this.#fnIds.clear();
    return ours.stop();
  }

  run(node: ProviderNode, body: unknown, ctx: TaskContext<any>): Promise<unknown> {
    if (!isWorkerTaskSpec(body)) {
      return Promise.reject(
        new FlotillaError(
          "E_INVALID_OPTION",
          `task "${ctx.taskId}": provider "${NAME}" runs workerTask(module, export, input) bodies (kind "${WORKER_THREAD_KIND}"), received ${bodyName(body)}`,
        ),
      );
    }
    // A stopped or lost node rejects with NodeLostError; a node of another provider, with E_INVALID_OPTION.
    return this.nodes.run(node, ctx, (thread) => thread.run(body, ctx));
  }
}
