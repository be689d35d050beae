/**
 * Agents booted on VMs: with `bullmq({ boot: { driver } })` a node is not an agent that happens to be on
 * the queue but one the pool made — a VM created through a `VmDriver` (a cloud's VM API, or `localVms()`
 * from flotilla/cloud-vm), on which the agent's command line runs as a long-lived command; the node is
 * that agent once it is seen alive. Stopping the node aborts the agent's command (SIGTERM: it drains and
 * exits) and deletes the VM; a VM the driver reports lost or preempted is a lost or preempted node.
 */
import { FlotillaError, messageOf } from "../../../src/errors.ts";
import type { CommandSpec } from "../../../src/provider-kit/body-specs.ts";
import { type VmInfo, nodeLostError, wait } from "../../../src/provider-kit/index.ts";
import type { NodePriority, NodeReport } from "../../../src/provider.ts";
import type { Runtime } from "../../../src/runtime.ts";
import type { TaskContext } from "../../../src/task-context.ts";
import type { ResolvedOptions } from "../options.ts";
import type { AgentNode } from "./agent-node.ts";
import type { ResolvedBoot } from "./boot-options.ts";
import type { AgentSeen } from "./transport.ts";

/** The `flotilla agent` command spec for an agent named `name`. */
export function agentSpec(boot: ResolvedBoot, name: string, queue: string, prefix: string): CommandSpec<undefined> {
  const argv = [...boot.command, "agent", "--queue", queue, "--name", name, "--prefix", prefix, "--concurrency", String(boot.concurrency)];
  if (boot.modules !== undefined) argv.push("--modules", boot.modules);
  argv.push(...boot.args);
  // The URL goes in the environment, so a password is not on a command line.
  return Object.freeze({ kind: "command", argv, options: Object.freeze({ env: { FLOTILLA_REDIS_URL: boot.redisUrl }, output: "none" as const }) });
}

/** The context of the agent's long-lived command on its VM: `abort()` stops the agent. */
export function agentContext(vm: VmInfo, name: string, runtime: Runtime): { readonly ctx: TaskContext<any>; abort(reason: unknown): void; tail(): string } {
  const controller = new AbortController();
  const lines: string[] = [];
  const ctx: TaskContext<any> = {
    taskId: `agent ${name}`,
    attempt: 1,
    signal: controller.signal,
    deps: {},
    failures: {},
    node: { id: vm.id, slots: 1 },
    sleep: (ms) => wait(runtime, ms, controller.signal),
    onAbort: (listener) => {
      if (controller.signal.aborted) {
        listener(controller.signal.reason);
        return () => {};
      }
      const heard = () => listener(controller.signal.reason);
      controller.signal.addEventListener("abort", heard, { once: true });
      return () => controller.signal.removeEventListener("abort", heard);
    },
    log: (line) => {
      lines.push(line);
      if (lines.length > 20) lines.shift();
    },
  };
  return { ctx, abort: (reason) => controller.abort(reason), tail: () => lines.join("\n") };
}

/** `it ended: <why>; its last lines: ...`, for a lost agent's message. */
export function agentEnded(outcome: unknown, tail: string): string {
  const why = outcome instanceof Error || (typeof outcome === "object" && outcome !== null) ? messageOf(outcome) : "it exited";
  return `its agent process ended (${why})${tail === "" ? "" : `; its last lines:\n${tail.replace(/^/gm, "  ")}`}`;
}

/** A VM's priority as the pool asked for it. */
export type BootPriority = NodePriority;

/** A booted agent's VM, and how to stop the agent's command. */
export interface BootedVm {
  readonly vm: VmInfo;
  readonly stop: (reason: unknown) => void;
  /** Settles when the agent's command has ended. */
  readonly ended: Promise<void>;
}

/** What booting an agent needs of the hub. */
export interface BootHost {
  readonly options: ResolvedOptions;
  readonly runtime: Runtime;
  /** The agents on the queue (bounded by redisTimeoutMs). */
  agents(): Promise<readonly AgentSeen[]>;
  /** Takes the live agent as the node, with its VM. */
  take(seen: AgentSeen, vm: BootedVm): Promise<AgentNode>;
  /** The node's VM was lost or preempted, or its agent's command ended (ignored unless it is a node). */
  gone(agentId: string, how: "lost" | "preempted", why: string, reason: unknown): void;
}

/** For a start whose report has no signal (a test calling `startNode` by hand): one that never aborts. */
const NEVER = new AbortController().signal;

/** Boots agent `name` on a new VM and takes it as the node once it is seen alive. */
export async function bootAgent(host: BootHost, name: string, report: NodeReport | undefined): Promise<AgentNode> {
  const boot = host.options.boot!;
  const signal = report?.signal ?? NEVER;
  let taken = false;
  // Set by callbacks (the VM's events, the agent's command ending) at any time, before or after the take.
  const heard: { gone?: { how: "lost" | "preempted"; reason: unknown }; ended?: { outcome: unknown } } = {};
  const heardNow = (): typeof heard => heard;
  const vmGone = (how: "lost" | "preempted", reason: unknown): void => {
    heard.gone ??= { how, reason };
    if (taken) host.gone(name, how, `its VM "${vm?.id ?? name}" was ${how}`, reason);
  };
  const vm: VmInfo = await boot.driver.create({
    name,
    priority: report?.priority ?? "dedicated",
    signal,
    events: { lost: (reason) => vmGone("lost", reason), preempted: (reason) => vmGone("preempted", reason) },
    runtime: host.runtime,
  });
  const agent = agentContext(vm, name, host.runtime);
  const ended = Promise.resolve()
    .then(() => boot.driver.run(vm, agentSpec(boot, name, host.options.queue, host.options.prefix), agent.ctx))
    .then(
      (value) => value,
      (error: unknown) => error,
    )
    .then((outcome) => {
      heard.ended = { outcome };
      if (taken) host.gone(name, "lost", agentEnded(outcome, agent.tail()), undefined);
    });
  const booted: BootedVm = { vm, stop: agent.abort, ended };
  try {
    for (;;) {
      signal.throwIfAborted();
      if (heard.gone !== undefined)
        throw nodeLostError(name, undefined, `its VM "${vm.id}" was ${heard.gone.how} before the agent was ready`, heard.gone.reason);
      if (heard.ended !== undefined) {
        throw new FlotillaError("E_NODE_LOST", `agent "${name}" on VM "${vm.id}": ${agentEnded(heard.ended.outcome, agent.tail())}, before it was ready`);
      }
      const mine = (await host.agents()).find((s) => s.info.id === name && s.live);
      if (mine !== undefined) {
        const node = await host.take(mine, booted);
        taken = true;
        // What was heard while it was being taken (read again: callbacks set it meanwhile).
        const { gone, ended: end } = heardNow();
        if (gone !== undefined) host.gone(name, gone.how, `its VM "${vm.id}" was ${gone.how}`, gone.reason);
        if (end !== undefined) host.gone(name, "lost", agentEnded(end.outcome, agent.tail()), undefined);
        return node;
      }
      await wait(host.runtime, host.options.heartbeatMs, signal);
    }
  } catch (error) {
    await unboot(booted, host.options);
    throw error;
  }
}

/** Stops a booted agent's command (SIGTERM: it drains, it has nothing left) and deletes its VM. */
export async function unboot(booted: BootedVm | undefined, options: ResolvedOptions): Promise<void> {
  if (booted === undefined) return;
  booted.stop(new FlotillaError("E_CANCELLED", `agent on VM "${booted.vm.id}" is no longer needed`));
  await booted.ended;
  // A driver's delete may throw at once or return no promise: neither may keep the node from stopping.
  const driver = options.boot!.driver;
  await Promise.resolve()
    .then(() => driver.delete(booted.vm.id))
    .catch(() => {});
}
