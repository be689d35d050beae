/**
 * Every place core consults a runtime's fault points (listed with their meanings in fault-points.ts),
 * and what each answer means there. It only decides; the rooms act on the answer. Exists only when
 * the runtime injects faults (`runtime.fault`), so a normal run pays one undefined check per site.
 */
import type { Attempt } from "./attempt.ts";
import { NodeLostError, TimeoutError } from "./errors.ts";
import type { CoreFaultPoint } from "./fault-points.ts";
import type { ProviderNode } from "./provider.ts";
import type { FaultAction, FaultPoint, Runtime } from "./runtime.ts";
import type { TaskTable } from "./task-table.ts";

/** What happens instead of running a body: its dispatch is lost, it times out, or it fails. */
export type BodyFault =
  | { readonly kind: "lost"; readonly error: NodeLostError }
  | { readonly kind: "timeout" }
  | { readonly kind: "fail"; readonly error: unknown };

/** What happens to a body's outcome: it arrives later, or it is lost and the attempt fails. */
export type OutcomeFault = { readonly kind: "delay"; readonly ms: number } | { readonly kind: "fail"; readonly error: unknown };

export class FaultInjection {
  readonly #runtime: Runtime;
  readonly #t: TaskTable;

  constructor(runtime: Runtime, t: TaskTable) {
    this.#runtime = runtime;
    this.#t = t;
  }

  /** Consults `point` about attempt `a`, or about the next attempt of `task` on `node`. */
  consult(point: FaultPoint, a: Attempt | undefined, task = a?.task ?? -1, node?: ProviderNode): FaultAction | undefined {
    const t = this.#t;
    const action = this.#runtime.fault!(point, {
      point,
      jobName: t.graph.name,
      taskId: task >= 0 ? t.graph.ids[task] : undefined,
      attempt: a?.attempt ?? (task >= 0 ? t.attempts[task]! + 1 : undefined),
      nodeId: a?.node.id ?? node?.id,
    });
    return action ?? undefined;
  }

  /** At `job.cancel`, before task i goes to `node`: the reason the run is cancelled, if it is. */
  cancelBeforeDispatch(i: number, node: ProviderNode): { reason: unknown } | undefined {
    const fault = this.consult("job.cancel", undefined, i, node);
    return fault?.kind === "cancel" ? { reason: fault.reason ?? "injected fault at job.cancel" } : undefined;
  }

  /** At `node.lost`: the node task i was about to go to dies now (the error to lose it with). */
  nodeLossBeforeDispatch(i: number, node: ProviderNode): NodeLostError | undefined {
    if (this.consult("node.lost", undefined, i, node)?.kind !== "fail") return undefined;
    return unstacked(() => new NodeLostError(node.id, `node "${node.id}" was lost (injected fault at node.lost)`));
  }

  /** At `task.dispatch` and `task.attempt`, just before attempt `a`'s body would run. */
  beforeBody(a: Attempt): BodyFault | undefined {
    if (this.consult("task.dispatch", a)?.kind === "fail") {
      // Only this dispatch is lost, not the node: requeued like an attempt on a lost node.
      const error = unstacked(
        () =>
          new NodeLostError(a.node.id, `dispatching task "${a.taskId}" attempt ${a.attempt} to node "${a.node.id}" failed (injected fault at task.dispatch)`),
      );
      return { kind: "lost", error };
    }
    const fault = this.consult("task.attempt", a);
    if (fault?.kind === "timeout") return fault;
    if (fault?.kind === "fail") return { kind: "fail", error: injected(fault, "task.attempt", a) };
    return undefined;
  }

  /** At `task.complete` and `node.run`, when attempt `a`'s body has settled, before its outcome counts. */
  afterBody(a: Attempt): OutcomeFault | undefined {
    const fault = this.consult("task.complete", a);
    if (fault?.kind === "delay") return fault;
    if (fault?.kind === "fail") return { kind: "fail", error: injected(fault, "task.complete", a) };
    if (fault?.kind === "timeout") return { kind: "fail", error: unstacked(() => new TimeoutError(a.taskId, a.attempt, 0)) };
    if (this.consult("node.run", a)?.kind === "fail") {
      return {
        kind: "fail",
        error: unstacked(
          () => new NodeLostError(a.node.id, `node "${a.node.id}" was lost running task "${a.taskId}" attempt ${a.attempt} (injected fault at node.run)`),
        ),
      };
    }
    return undefined;
  }
}

function injected(fault: FaultAction & { kind: "fail" }, point: CoreFaultPoint, a: Attempt): unknown {
  return fault.error ?? unstacked(() => new Error(`injected fault at ${point} (task "${a.taskId}", attempt ${a.attempt})`));
}

/**
 * An error standing in for an injected fault, made without a stack trace: it would show only the
 * executor's own frames, and capturing one costs about 6 µs on Node 20 (the rest of an explored step
 * costs 2-3). Its message says where the fault was injected. Where `Error.stackTraceLimit` cannot be
 * set (frozen intrinsics), the error keeps its stack.
 */
function unstacked<E>(make: () => E): E {
  const limit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 0;
  } catch {
    return make();
  }
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
