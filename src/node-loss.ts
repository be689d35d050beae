/**
 * What a run does when a node is lost, or a pool can start none: every attempt on a lost node is
 * released and requeued, and who pays for the loss is decided here (the charging rule below). The
 * node's replacement is its keeper's (node-keeper.ts); placing the requeued tasks is placement's.
 */
import type { Attempt } from "./attempt.ts";
import type { AttemptRunner } from "./attempt-runner.ts";
import { NodeLostError, messageOf } from "./errors.ts";
import type { NodeExit } from "./node-pool.ts";
import type { Pool } from "./pool.ts";
import type { ProviderNode } from "./provider.ts";
import type { RunState } from "./run-state.ts";
import type { TaskLifecycle } from "./task-lifecycle.ts";
import { RUNNING, SUCCEEDED } from "./task-state.ts";

export class NodeLoss {
  /** Counts lost nodes (placement goes round again when a node it just started dies at once). */
  losses = 0;
  /** Times each task's attempts were preempted (made at the first preemption). */
  #preemptions: Map<number, number> | undefined = undefined;

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

  /**
   * The node under attempt `under` (or a dispatch to it) is gone: its pool forgets it, and every run
   * using the pool moves its attempts off it (`gone`). A node no longer in use (already lost and
   * replaced) affects only the reporting attempt.
   */
  lost(pool: Pool, node: ProviderNode, error: NodeLostError, under?: Attempt): void {
    if (!pool.nodes.lose(node, error, "lost", pool.tenant, under) && under !== undefined) this.lostAttempt(under, error, true);
  }

  /**
   * Node `node` at position k of `pool` left (`exit`), and with it every attempt of this run still
   * there: each is aborted, its slot freed at once (what it reports later is ignored) and requeued.
   * A lost node's attempts follow the charging rule below; a preempted node's are requeued free (at
   * most `maxPreemptions` times per task), as are those of a node the autoscaler let go.
   * `under`: the attempt whose failure reported it.
   */
  gone(pool: Pool, k: number, node: ProviderNode, error: NodeLostError, exit: NodeExit, under: Attempt | undefined): void {
    this.losses++;
    const t = this.#s.t;
    const all: Attempt[] = under === undefined ? [] : [under];
    for (let i = 0; i < t.count; i++) {
      const a = t.current[i];
      if (t.state[i] !== RUNNING || a === undefined || a.node !== node || a === under) continue;
      t.current[i] = undefined;
      a.decided = true;
      this.#attempts.release(a);
      all.push(a);
    }
    // Attempts aborted earlier were winding down on the node.
    this.#attempts.releaseWindingDown(node);
    if (exit !== "lost") {
      // (A preemption is counted against attempts that ran on the node, not those still in its queue.)
      for (const a of all) this.#evicted(a, error, exit === "preempted" && !a.queued);
      for (const a of all) a.abort(error);
      return;
    }
    // Attempts still waiting in the node's queue (ProviderNode.prefetch) never ran there: they cannot
    // have killed it, so they are requeued free and take no part in the charging rule below.
    const victims = all.filter((a) => !a.queued);
    for (const a of all) if (a.queued && t.state[a.task] === RUNNING) this.#tasks.requeue(a, error);
    // Shared over the attempt's whole life, not only now: a culprit whose aborted attempt settled a
    // moment before its neighbour reported the loss shared the node as much as one still on it.
    const placements = pool.placements[k]!;
    const shared = victims.length > 1 || victims.some((a) => a.placement !== placements);
    // On a shared node, each attempt's error names its own task (the provider's error is about the
    // attempt that reported the loss, if one did).
    const errors = victims.map((a) => (a === under || victims.length === 1 ? error : sharedLoss(error, a, victims.length)));
    for (let v = 0; v < victims.length; v++) this.lostAttempt(victims[v]!, errors[v]!, !shared);
    // After the tasks' moves: abort listeners run user code.
    for (let v = 0; v < victims.length; v++) victims[v]!.abort(errors[v]);
    for (const a of all) if (a.queued) a.abort(error);
    // The caller pumps: the requeued attempts find another node, or a replacement is started.
  }

  /** An attempt on a node preempted or let go by the autoscaler: requeued without spending a retry. */
  #evicted(a: Attempt, error: NodeLostError, preempted: boolean): void {
    const i = a.task;
    const t = this.#s.t;
    if (t.state[i] !== RUNNING) return;
    if (preempted) {
      const count = ((this.#preemptions ??= new Map()).get(i) ?? 0) + 1;
      this.#preemptions.set(i, count);
      if (count > this.#s.options.maxPreemptions) {
        t.failedAttempts[i]!++;
        this.#tasks.fail(
          i,
          new NodeLostError(
            error.nodeId,
            `task "${a.taskId}" was preempted ${count} times (run option maxPreemptions: ${this.#s.options.maxPreemptions}); last: ${error.message}`,
            { cause: error },
          ),
        );
        return;
      }
    }
    this.#tasks.requeue(a, error);
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
