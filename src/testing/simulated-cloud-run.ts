/**
 * One attempt on a simulated cloud's VM. Bodies are in-process functions run in the run's own time;
 * the VM only decides whether the attempt may start (it must be running), whether it dies before
 * (`node.preempt` for a low-priority VM, `node.lost`) or under the body (`node.run`, when the body has
 * settled: its side effects happened), and it ends the attempt with a NodeLostError when it is
 * preempted, lost or deleted while the body runs (the body's own promise is then abandoned).
 */
import { FlotillaError, describe } from "../errors.ts";
import { foreignNodeError, nodeGoneError } from "../provider-kit/node-errors.ts";
import { Outcome } from "../provider-kit/outcome.ts";
import type { TaskContext } from "../task-context.ts";
import type { CloudEngine } from "./simulated-cloud-engine.ts";
import { cloudName, notRunning } from "./simulated-cloud-errors.ts";
import type { VmAttempt } from "./simulated-cloud-vm.ts";

export function runOnVm(engine: CloudEngine, vmArg: unknown, body: unknown, ctx: TaskContext<any>): Promise<unknown> {
  if (typeof ctx !== "object" || ctx === null) {
    return Promise.reject(
      new FlotillaError("E_INVALID_OPTION", `${cloudName(engine.name)}: run(vm, body, ctx) needs the attempt's context, received ${describe(ctx)}`),
    );
  }
  let id: unknown;
  try {
    id = (vmArg as { id?: unknown } | null | undefined)?.id;
  } catch {
    id = undefined;
  }
  const vm = typeof id === "string" ? engine.find(id) : undefined;
  if (vm === undefined) return Promise.reject(foreignNodeError(engine.name, vmArg, ctx.taskId));
  if (typeof body !== "function") {
    const kind = typeof body === "object" && body !== null ? `a "${String((body as { kind?: unknown }).kind)}" spec` : describe(body);
    return Promise.reject(
      new FlotillaError(
        "E_INVALID_OPTION",
        `${cloudName(engine.name)}: task "${ctx.taskId}": its VMs run function bodies only (kinds ["function"]), received ${kind}`,
      ),
    );
  }
  switch (vm.state) {
    case "creating":
      return Promise.reject(notRunning(engine.name, vm.id, ctx));
    case "deleting":
      return Promise.reject(nodeGoneError(vm.id, "stopped", ctx));
    case "gone":
      return Promise.reject(nodeGoneError(vm.id, vm.end === "deleted" ? "stopped" : "lost", ctx));
  }
  const outcome = new Outcome<unknown>();
  const attempt: VmAttempt = { ctx, outcome };
  vm.attempts.add(attempt);
  outcome.onSettle(() => vm.attempts.delete(attempt));
  const site = { nodeId: vm.id, taskId: ctx.taskId, attempt: ctx.attempt, detail: engine.label("run", vm.id) };
  // The VM's end rejects the attempt (it is on the VM by now), before its body ever runs.
  if (vm.priority === "lowPriority" && engine.fault("node.preempt", site)?.kind === "fail") {
    engine.preempt(vm, "injected fault at node.preempt");
    return outcome.promise;
  }
  if (engine.fault("node.lost", site)?.kind === "fail") {
    engine.lose(vm, "injected fault at node.lost");
    return outcome.promise;
  }
  const settle = (ok: boolean, value: unknown): void => {
    if (outcome.settled) return; // the VM ended first: the body's outcome is lost with it
    if (engine.fault("node.run", site)?.kind === "fail") {
      engine.lose(vm, "injected fault at node.run (its body had run)");
      return;
    }
    if (ok) outcome.resolve(value);
    else outcome.reject(value);
  };
  let result: unknown;
  try {
    result = (body as (ctx: TaskContext<any>) => unknown)(ctx);
  } catch (error) {
    settle(false, error);
    return outcome.promise;
  }
  Promise.resolve(result).then(
    (value) => settle(true, value),
    (error: unknown) => settle(false, error),
  );
  return outcome.promise;
}
