/**
 * What a run does when a node is lost, or a pool can start none: every attempt on a lost node is
 * released and requeued, and who pays for the loss is decided here (the charging rule below). The
 * node's replacement is its keeper's (node-keeper.ts); placing the requeued tasks is placement's.
 */
import type { Attempt } from "./attempt.ts";
import type { AttemptRunner } from "./attempt-runner.ts";
import { NodeLostError, messageOf } from "./errors.ts";
import type { Pool } from "./pool.ts";
import type { ProviderNode } from "./provider.ts";
import type { RunState } from "./run-state.ts";
import type { TaskLifecycle } from "./task-lifecycle.ts";
import { RUNNING, SUCCEEDED } from "./task-state.ts";

export class NodeLoss {
  /** Counts lost nodes (placement goes round again when a node it just started dies at once). */
  losses = 0;

  readonly #s: RunState;
  readonly #tasks: TaskLifecycle;
  readonly #attempts: AttemptRunner;
  readonly #poolOf: (task: number) => Pool;

  constructor(state: RunState, tasks: TaskLifecycle, attempts: AttemptRunner, poolOf: (task: number) => Pool) {
    this.#s = state;
    this.#tasks = tasks;
    this.#attempts = attempts;
    this.#poolOf = poolOf;
  }

  /** The provider reported a node of `pool` lost (between attempts, or under them). */
  reported(pool: Pool, node: ProviderNode, reason: unknown): void {
    const why = reason === undefined ? "reported lost by its provider" : messageOf(reason);
    this.lost(pool, node, new NodeLostError(node.id, `node "${node.id}" of pool "${pool.name}" was lost: ${why}`, { cause: reason }));
  }

  /**
   * A node is gone, and with it every attempt still running there: each is aborted, its slot freed at
   * once (what it reports later is ignored) and it is requeued like any attempt on a lost node; a
   * replacement node is started when work remains. `under`: the attempt whose failure reported it.
   */
  lost(pool: Pool, node: ProviderNode, error: NodeLostError, under?: Attempt): void {
    // Forgotten first, so the attempts failed below do not each lose it again.
    const position = pool.keeperOf(node);
    if (position < 0) {
      // A node no longer in use (already lost and replaced): only the reporting attempt is affected.
      if (under !== undefined) this.lostAttempt(under, error, true);
      return;
    }
    pool.keepers[position]!.forget(node);
    this.losses++;
    const s = this.#s;
    if (s.events.wants("node:lost")) s.events.emit("node:lost", { type: "node:lost", pool: pool.name, nodeId: node.id, error, at: s.runtime.now() });
    const t = s.t;
    const victims: Attempt[] = under === undefined ? [] : [under];
    for (let k = 0; k < t.count; k++) {
      const a = t.current[k];
      if (t.state[k] !== RUNNING || a === undefined || a.node !== node || a === under) continue;
      t.current[k] = undefined;
      a.decided = true;
      this.#attempts.release(a);
      victims.push(a);
    }
    // Attempts aborted earlier were winding down on the lost node.
    this.#attempts.releaseWindingDown(node);
    // Shared over the attempt's whole life, not only now: a culprit whose aborted attempt settled a
    // moment before its neighbour reported the loss shared the node as much as one still on it.
    const placements = pool.placements[position]!;
    const shared = victims.length > 1 || victims.some((a) => a.placement !== placements);
    // On a shared node, each attempt's error names its own task (the provider's error is about the
    // attempt that reported the loss, if one did).
    const errors = victims.map((a) => (a === under || victims.length === 1 ? error : sharedLoss(error, a, victims.length)));
    for (let v = 0; v < victims.length; v++) this.lostAttempt(victims[v]!, errors[v]!, !shared);
    // After the tasks' moves: abort listeners run user code.
    for (let v = 0; v < victims.length; v++) victims[v]!.abort(errors[v]);
    // The caller pumps: the requeued attempts find another node, or a replacement is started.
  }

  /**
   * An attempt lost with its node (or its dispatch) goes back to the queue without spending a retry.
   * Who pays for a loss: when the attempt ran alone on the node, the loss counts against its task
   * (`maxNodeLosses` of them, then the task fails with E_NODE_LOST); when it shared the node, any of
   * the attempts there may have killed it, so none is charged — each is requeued free and from then
   * on runs alone, so the next loss it is part of is charged to it. Innocent neighbours of a task
   * that crashes its nodes thus succeed, and the crashing task ends with E_NODE_LOST.
   */
  lostAttempt(a: Attempt, error: NodeLostError, charged: boolean): void {
    const i = a.task;
    const t = this.#s.t;
    if (t.state[i] !== RUNNING) return; // cancelled meanwhile (by a failFast of another victim)
    if (!charged) t.alone[i] = 1;
    else if (t.nodeLosses[i]! < this.#s.options.maxNodeLosses) t.nodeLosses[i]!++;
    else {
      t.failedAttempts[i]!++;
      this.#tasks.fail(i, error);
      return;
    }
    this.#tasks.requeue(a, error);
  }

  /**
   * A node position of `pool` could not start a node, retries included. While another node of the
   * pool is up or starting, its work goes there; otherwise every task of the pool still waiting fails
   * (and true is returned: the run has moved).
   */
  startFailed(pool: Pool, error: unknown): boolean {
    pool.startError = new NodeLostError("(none)", `provider "${pool.provider.name}" of pool "${pool.name}" could not start a node: ${messageOf(error)}`, {
      cause: error,
    });
    if (pool.alive) return false;
    const t = this.#s.t;
    for (let i = 0; i < t.count; i++) {
      const state = t.state[i]!;
      if (state < SUCCEEDED && state !== RUNNING && this.#poolOf(i) === pool) this.#tasks.fail(i, pool.startError);
    }
    return true;
  }
}

/** The error of attempt `a`, one of `count` attempts lost with the same node. */
function sharedLoss(error: NodeLostError, a: Attempt, count: number): NodeLostError {
  return new NodeLostError(
    error.nodeId,
    `task "${a.taskId}" attempt ${a.attempt} was on node "${error.nodeId}" (with ${count - 1} other attempt${count === 2 ? "" : "s"}) when it was lost: ${error.message}`,
    { cause: error },
  );
}
