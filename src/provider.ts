/**
 * The compute provider contract, and the default in-process provider.
 *
 * A provider supplies nodes (a process, a worker, a VM), each with a number of slots, and runs one
 * attempt of a task on a node. When the node dies under an attempt, `run` rejects with a
 * `NodeLostError` and the executor requeues the attempt without spending a retry.
 */
import { FlotillaError } from "./errors.ts";
import type { TaskBody, TaskContext } from "./task-context.ts";

/** A unit of compute a provider started. */
export interface ProviderNode {
  /** Unique among the provider's nodes; used in messages and events. */
  readonly id: string;
  /** How many attempts may run on it at once (Infinity for no limit). */
  readonly slots: number;
}

/**
 * What a run needs from a provider. Keep implementations small; `flotilla/testing` will carry a
 * contract suite every provider must pass.
 *
 * @example
 * const provider: ComputeProvider = {
 *   name: "inline",
 *   startNode: () => ({ id: "inline-1", slots: 4 }),
 *   stopNode: () => {},
 *   run: (node, body, ctx) => body(ctx),
 * };
 */
export interface ComputeProvider {
  /** Names the provider in messages. */
  readonly name: string;
  /** Starts a node. May return it directly or as a promise. */
  startNode(): ProviderNode | PromiseLike<ProviderNode>;
  /** Stops a node and releases everything it holds. Called once per started node. */
  stopNode(node: ProviderNode): void | PromiseLike<void>;
  /**
   * Runs one attempt. Returns the output (or a promise of it); throws or rejects with the attempt's
   * error, or with a `NodeLostError` when the node died. Must stop the work when `ctx.signal` aborts.
   */
  run(node: ProviderNode, body: TaskBody<any, unknown>, ctx: TaskContext<any>): unknown;
}

const PROVIDER_MEMBERS = ["startNode", "stopNode", "run"] as const;

/** Throws E_INVALID_OPTION naming what a user's provider object lacks. */
export function checkProvider(where: string, value: unknown): asserts value is ComputeProvider {
  if (typeof value !== "object" || value === null) {
    throw new FlotillaError("E_INVALID_OPTION", `${where}: option "provider" must be a ComputeProvider object, received ${value === null ? "null" : typeof value}`);
  }
  const missing: string[] = PROVIDER_MEMBERS.filter((m) => typeof (value as Record<string, unknown>)[m] !== "function");
  if (typeof (value as { name?: unknown }).name !== "string") missing.push("name (a string)");
  if (missing.length > 0) {
    throw new FlotillaError("E_INVALID_OPTION", `${where}: option "provider" is not a ComputeProvider: missing ${missing.join(", ")}`);
  }
}

const IN_PROCESS_NODE: ProviderNode = Object.freeze({ id: "in-process", slots: Infinity });

/** Runs bodies as plain function calls in this process; one node with unlimited slots. The default. */
export function inProcess(): ComputeProvider {
  return {
    name: "in-process",
    startNode: () => IN_PROCESS_NODE,
    stopNode: () => {},
    run: (_node, body, ctx) => body(ctx),
  };
}
