/** `cloudVm()`: the provider that turns any `VmDriver` (a cloud's VM API, or `localVms()`) into a pool's nodes. */
import { NodeLostError } from "../../src/errors.ts";
import { StartedNodes } from "../../src/provider-kit/index.ts";
import type { ComputeProvider, NodeReport, ProviderNode } from "../../src/provider.ts";
import { realRuntime, type Runtime } from "../../src/runtime.ts";
import type { TaskBody, TaskContext } from "../../src/task-context.ts";
import { ApiCalls } from "./api-calls.ts";
import { vmNode, type VmEventsLink, type VmGone, type VmNode } from "./node.ts";
import { resolveOptions, type CloudVmOptions, type ResolvedOptions } from "./options.ts";
import { startVm, type StartHost } from "./vm-start.ts";

const FUNCTION_KIND = Object.freeze(["function"]);
/** For a start whose report has no signal (a test calling `startNode` by hand): one that never aborts. */
const NEVER = new AbortController().signal;

/**
 * A compute provider whose nodes are VMs of `driver`: `startNode` creates a VM (of the priority the
 * pool asks for), `stopNode` deletes it, `run` hands the attempt to the driver. Every API call goes
 * through one queue (`maxConcurrentCalls`), throttled calls are retried after the `retryAfterMs` the API
 * asked for, transient errors with backoff; a create whose outcome is unknown is reconciled (the VM it
 * may have made is found by name and deleted), and an aborted create leaves no VM. A VM the driver
 * reports preempted or lost is reported to the pool (its attempts are requeued). Waits use the pool's
 * runtime, so the provider runs under `explore()` and `virtualRuntime()` (unless `rateLimit` is set).
 * Throws E_INVALID_OPTION for a bad option or driver.
 *
 * @example
 * import { cloudVm, localVms } from "flotilla/cloud-vm";
 * const vms = cloudVm({ driver: localVms({ slots: 2 }), maxNodes: 3 });
 * const result = await run(job, { pools: { default: vms } });
 */
export function cloudVm<Body = TaskBody<any, unknown>>(options: CloudVmOptions<Body>): ComputeProvider<Body> {
  const host = new CloudHost(resolveOptions(options) as ResolvedOptions<unknown>);
  const driver = host.options.driver;
  return {
    name: host.name,
    kinds: driver.kinds === undefined ? FUNCTION_KIND : Object.freeze([...driver.kinds]),
    maxNodes: host.options.maxNodes,
    startNode: (report) => host.start(report),
    stopNode: (node) => host.stop(node),
    run: (node, body, ctx) => host.run(node, body, ctx),
  };
}

/** What the provider keeps about a node of its own. */
interface Held {
  readonly runtime: Runtime;
  readonly events: VmEventsLink;
}

class CloudHost implements StartHost {
  readonly options: ResolvedOptions<unknown>;
  readonly calls: ApiCalls;
  readonly name: string;
  readonly nodes: StartedNodes<VmNode>;
  readonly #held = new WeakMap<VmNode, Held>();
  #names = 0;

  constructor(options: ResolvedOptions<unknown>) {
    this.options = options;
    this.calls = new ApiCalls(options);
    this.name = `cloud-vm:${options.driver.name}`;
    this.nodes = new StartedNodes<VmNode>(this.name);
  }

  nextName(): string {
    return `${this.options.namePrefix}-${++this.#names}`;
  }

  deleteVm(vmId: string, runtime: Runtime): Promise<void> {
    const driver = this.options.driver;
    return this.calls.run(() => driver.delete(vmId), { runtime });
  }

  async start(report: NodeReport | undefined): Promise<VmNode> {
    const runtime = report?.runtime ?? realRuntime;
    const started = await startVm(this, { runtime, signal: report?.signal ?? NEVER, priority: report?.priority ?? "dedicated" });
    const node = this.nodes.add(vmNode(started.vm, started.slots));
    this.#held.set(node, { runtime, events: started.events });
    started.events.connect((gone) => this.#gone(node, gone, report));
    return node;
  }

  stop(node: ProviderNode): Promise<void> | undefined {
    const ours = this.nodes.markStopped(node);
    if (ours === undefined) return undefined;
    const held = this.#held.get(ours)!;
    held.events.disconnect();
    return this.deleteVm(ours.id, held.runtime);
  }

  run(node: ProviderNode, body: unknown, ctx: TaskContext<any>): Promise<unknown> {
    // A stopped or lost node rejects with NodeLostError; a node of another provider, with E_INVALID_OPTION.
    return this.nodes.run(node, ctx, (vm) => this.options.driver.run(vm.vm, body, ctx));
  }

  #gone(node: VmNode, gone: VmGone, report: NodeReport | undefined): void {
    if (this.nodes.stateOf(node) !== "live") return;
    this.nodes.markLost(node);
    if (report === undefined) return;
    const reason = gone.reason ?? new NodeLostError(node.id, `node "${node.id}" (VM "${node.vm.name}") was ${gone.how} (driver "${this.options.driver.name}")`);
    // Preemption where the pool hears it (requeued free, counted as preemption); a loss otherwise.
    if (gone.how === "preempted" && typeof report.preempted === "function") report.preempted(reason);
    else report.lost(reason);
  }
}
