/** What the simulated cloud's tests share: create requests that record their VM's events, a task context, and waits on the runtime's clock. */
import type { Runtime, TaskContext } from "../src/index.ts";
import type { NodePriority, VmCreateRequest } from "../src/provider-kit/index.ts";

/** A create request whose events are recorded in `preempted` / `lost`, with its AbortController. */
export function request(runtime: Runtime, name: string, priority: NodePriority = "dedicated") {
  const controller = new AbortController();
  const preempted: unknown[] = [];
  const lost: unknown[] = [];
  const req: VmCreateRequest = {
    name,
    priority,
    signal: controller.signal,
    events: { preempted: (reason) => void preempted.push(reason), lost: (reason) => void lost.push(reason) },
    runtime,
  };
  return { req, controller, preempted, lost };
}

/** The context of attempt `attempt` of task `taskId`, as a run would give it (sleep on `runtime`). */
export function context(runtime: Runtime, taskId = "t", attempt = 1): TaskContext<any> {
  const controller = new AbortController();
  return {
    taskId,
    attempt,
    signal: controller.signal,
    deps: {},
    failures: {},
    node: { id: "?", slots: 1 },
    sleep: (ms) => new Promise((resolve) => runtime.setTimer(ms, resolve)),
    onAbort: () => () => {},
    log: () => {},
  };
}

/** Resolves when the runtime's clock reaches `at` (ms). */
export function until(runtime: Runtime, at: number): Promise<void> {
  return new Promise((resolve) => runtime.setTimer(at - runtime.now(), resolve));
}

/** The error a promise rejects with (fails if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${String(value)}`);
    },
    (error: unknown) => error,
  );
}
