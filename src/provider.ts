/**
 * The compute provider contract, its guard, and the default in-process provider.
 *
 * A provider supplies nodes (a thread, a process slot, a VM), each with a number of slots, and runs
 * one attempt of a task on a node. When a node dies under an attempt, `run` rejects with a
 * `NodeLostError` and the executor requeues the attempt without spending a retry; a node that dies
 * between attempts is reported through the `lost` callback its start was given.
 */
import { FlotillaError, describe } from "./errors.ts";
import type { NodePriority, ProviderNode } from "./provider-node.ts";
import type { Runtime } from "./runtime.ts";
import type { TaskBody, TaskContext, TaskSpec } from "./task-context.ts";

export type { NodePriority, ProviderNode } from "./provider-node.ts";

/** Given to `startNode`: how the provider tells the run that this node died between attempts. */
export interface NodeReport {
  /**
   * The node is gone: attempts still on it are requeued, it is stopped, and a replacement is
   * started when work remains. Calls after the first, or after the node was stopped, are ignored.
   */
  lost(reason?: unknown): void;
  /**
   * The node was preempted (a low-priority node taken back by its cloud): attempts on it are requeued
   * without spending a retry (at most the run's `maxPreemptions` times per task), it is counted in the
   * pool's `preemptions`, and the autoscaler replaces the capacity. Ignored after the first report.
   * (Optional so a test may call `startNode` with a report of its own.)
   */
  preempted?(reason?: unknown): void;
  /**
   * For a node that queues attempts: from now on it queues up to `n` beyond its slots (its
   * `ProviderNode.prefetch` changes), e.g. as the provider learns how long its attempts take. Attempts
   * queued already stay; more room is filled when the run next places work. Throws E_INVALID_OPTION
   * unless `n` is an integer >= 0; ignored once the node is no longer in use. (Optional so a test may
   * call `startNode` with a report of its own: call it as `report.prefetch?.(n)`.)
   */
  prefetch?(n: number): void;
  /** Which kind of node the pool asks for. A provider without low-priority nodes may ignore it. @default "dedicated" */
  readonly priority?: NodePriority;
  /**
   * The pool's runtime: its clock, timers and randomness (virtual under test). A provider that waits
   * or draws at random should use it, so it stays deterministic under `explore()`.
   */
  readonly runtime?: Runtime;
  /**
   * Aborted when the run no longer wants the node this start brings (the run ended or was cancelled
   * while the start was in flight). A provider whose start waits on something slow (a cloud API)
   * should pass it on and give up; a node it still returns is stopped at once. (Always given by a
   * run; optional so a test may call `startNode` by hand.)
   */
  readonly signal?: AbortSignal;
}

/**
 * What a run needs from a provider: six members, three of them optional data. A run keeps up to
 * `maxNodes` nodes of each provider (a pool), starting them as ready work needs them and stopping
 * every one before it settles. `flotilla/testing` exports `providerContract`, the checks every
 * provider must pass. `Body` is what its `run` receives: task functions (the default), or the specs
 * of its kinds (`ComputeProvider<WorkerTaskSpec>`).
 *
 * @example
 * const provider: ComputeProvider = {
 *   name: "inline",
 *   startNode: () => ({ id: "inline-1", slots: 4 }),
 *   stopNode: () => {},
 *   run: (node, body, ctx) => body(ctx),
 * };
 */
export interface ComputeProvider<Body = TaskBody<any, unknown>> {
  /** Names the provider in messages. */
  readonly name: string;
  /**
   * The body kinds it runs: `"function"` for in-process functions, otherwise the `kind` of the task
   * specs it understands (`"worker-thread"`, `"command"`). A task whose body kind its pool's provider
   * does not list is refused before the run starts. @default ["function"]
   */
  readonly kinds?: readonly string[];
  /** Most nodes a run keeps of this provider at once. @default 1. Bounds: integer >= 1. */
  readonly maxNodes?: number;
  /** Starts a node. May return it directly or as a promise. */
  startNode(report: NodeReport): ProviderNode | PromiseLike<ProviderNode>;
  /** Stops a node and releases everything it holds. Called once per started node. */
  stopNode(node: ProviderNode): void | PromiseLike<void>;
  /**
   * Runs one attempt. Returns the output (or a promise of it); throws or rejects with the attempt's
   * error, or with a `NodeLostError` when the node died. Must stop the work when the attempt aborts (`ctx.onAbort(listener)` hears it without an AbortController).
   */
  run(node: ProviderNode, body: Body, ctx: TaskContext<any>): unknown;
}

const PROVIDER_METHODS = ["startNode", "stopNode", "run"] as const;

/** Throws E_INVALID_OPTION naming what a user's provider object lacks or has wrong. */
export function checkProvider(where: string, value: unknown): asserts value is ComputeProvider<any> {
  if (typeof value !== "object" || value === null) {
    throw new FlotillaError("E_INVALID_OPTION", `${where} must be a ComputeProvider object, received ${describe(value)}`);
  }
  const p = value as Record<string, unknown>;
  const missing: string[] = PROVIDER_METHODS.filter((m) => typeof p[m] !== "function");
  if (typeof p.name !== "string" || p.name.length === 0) missing.push("name (a non-empty string)");
  if (missing.length > 0) throw new FlotillaError("E_INVALID_OPTION", `${where} is not a ComputeProvider: missing ${missing.join(", ")}`);
  const kinds = p.kinds;
  if (kinds !== undefined && !(Array.isArray(kinds) && kinds.length > 0 && kinds.every((k) => typeof k === "string" && k.length > 0))) {
    throw new FlotillaError(
      "E_INVALID_OPTION",
      `${where} (provider "${p.name}"): "kinds" must be a non-empty array of body kinds, received ${describe(kinds)}`,
    );
  }
  const maxNodes = p.maxNodes;
  if (maxNodes !== undefined && !(Number.isInteger(maxNodes) && (maxNodes as number) >= 1)) {
    throw new FlotillaError("E_INVALID_OPTION", `${where} (provider "${p.name}"): "maxNodes" must be an integer >= 1, received ${describe(maxNodes)}`);
  }
}

/** The kind of a task body: "function" for a function, the spec's `kind` otherwise. */
export function bodyKind(body: TaskBody<any, unknown> | TaskSpec): string {
  return typeof body === "function" ? "function" : body.kind;
}

const IN_PROCESS_NODE: ProviderNode = Object.freeze({ id: "in-process", slots: Infinity });
const FUNCTION_KIND = Object.freeze(["function"]);

/** Runs bodies as plain function calls in this process; one node with unlimited slots. The default. */
export function inProcess(): ComputeProvider {
  return {
    name: "in-process",
    kinds: FUNCTION_KIND,
    startNode: () => IN_PROCESS_NODE,
    stopNode: () => {},
    run: (_node, body, ctx) => body(ctx),
  };
}
