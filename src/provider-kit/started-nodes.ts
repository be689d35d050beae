/** `StartedNodes`: which nodes a provider started, and the guard that keeps `run` and `stopNode` to them. */
import type { ProviderNode } from "../provider.ts";
import { foreignNodeError, nodeGoneError, type AttemptRef } from "./node-errors.ts";

/** Where a started node is: running attempts, lost (died; not stopped yet), or stopped. */
export type NodeState = "live" | "lost" | "stopped";

/**
 * The nodes one provider started, each with its state, so `run` and `stopNode` can tell a node of
 * theirs from a foreign one (a node of another provider, a hand-made object) and from one that is gone.
 * Nodes are held weakly: a stopped node is forgotten with its last reference.
 *
 * @example
 * const nodes = new StartedNodes<VmNode>("my-cloud");
 * const provider: ComputeProvider<VmSpec> = {
 *   name: "my-cloud",
 *   startNode: async (report) => nodes.add(await VmNode.boot(report)),
 *   stopNode: (node) => nodes.markStopped(node)?.shutdown(),
 *   run: (node, spec, ctx) => nodes.run(node, ctx, (vm) => vm.run(spec, ctx)),
 * };
 */
export class StartedNodes<N extends ProviderNode> {
  /** The provider's name, for messages. */
  readonly provider: string;
  readonly #states = new WeakMap<object, NodeState>();
  #open = 0;

  constructor(provider: string) {
    this.provider = provider;
  }

  /** Records a node the provider started; returns it. */
  add(node: N): N {
    if (this.#states.get(node) === undefined) this.#open++;
    this.#states.set(node, "live");
    return node;
  }

  /** The node died: until it is stopped, `run` on it rejects with a NodeLostError saying it is lost. */
  markLost(node: N): void {
    if (this.#states.get(node) === "live") this.#states.set(node, "lost");
  }

  /**
   * For `stopNode`: the node, now marked stopped, when the provider started it and has not stopped it
   * yet; undefined for a foreign node or a second stop (then there is nothing to do).
   */
  markStopped(node: ProviderNode): N | undefined {
    const state = this.stateOf(node);
    if (state === undefined || state === "stopped") return undefined;
    this.#states.set(node, "stopped");
    this.#open--;
    return node as N;
  }

  /** The node's state, or undefined when this provider did not start it. */
  stateOf(node: unknown): NodeState | undefined {
    return typeof node === "object" && node !== null ? this.#states.get(node) : undefined;
  }

  /** How many started nodes are not stopped yet (live or lost). */
  get size(): number {
    return this.#open;
  }

  /**
   * For `run`: calls `attempt` with the node when it is a live node of this provider, and returns its
   * result as a promise. Rejects, never throws: E_INVALID_OPTION for a node the provider did not
   * start, a NodeLostError for a lost or stopped one, or whatever `attempt` throws.
   */
  run<T>(node: ProviderNode, ctx: AttemptRef, attempt: (node: N) => T | PromiseLike<T>): Promise<T> {
    const state = this.stateOf(node);
    if (state === undefined) return Promise.reject(foreignNodeError(this.provider, node, ctx.taskId));
    if (state !== "live") return Promise.reject(nodeGoneError(node.id, state, ctx));
    try {
      return Promise.resolve(attempt(node as N));
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
