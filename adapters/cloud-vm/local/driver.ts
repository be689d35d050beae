/**
 * `localVms()`: a VmDriver whose "VMs" are processes on this machine, each running a flotilla agent.
 * For trying a cloud setup without a cloud (the same `cloudVm()` provider, the same bodies), for tests
 * of what a real VM's death does to a job, and for spreading work over processes with a VM's lifecycle.
 */
import { NodeLostError } from "../../../src/errors.ts";
import type { VmCreateRequest, VmDriver } from "../../../src/provider-kit/index.ts";
import type { TaskContext } from "../../../src/task-context.ts";
import { runOnVm } from "./attempt.ts";
import { LOCAL_VM_KINDS, bodyWire, type LocalVmBody } from "./body.ts";
import { resolveLocalOptions, type LocalVmsOptions, type ResolvedLocalOptions } from "./options.ts";
import { LocalVm, type LocalVmInfo } from "./vm-process.ts";

/** A `VmDriver` of local VMs; `list()` also gives each VM's pid. */
export interface LocalVmsDriver extends VmDriver<LocalVmBody> {
  create(request: VmCreateRequest): Promise<LocalVmInfo>;
  list(): Promise<readonly LocalVmInfo[]>;
}

let drivers = 0;

/**
 * A VM driver whose VMs are processes on this machine (`process.execPath` running flotilla's agent:
 * Node, or Deno under Deno). A VM runs `workerTask(moduleUrl, exportName, input)` bodies (from
 * flotilla/worker-threads: the export is called in the VM's process as `fn(input, ctx)`, with input,
 * dependency outputs and output crossing as JSON) and `command(argv, options)` bodies (from
 * flotilla/child-process: run in a process group of their own, as that provider runs them). A VM whose
 * process dies is reported lost, and its attempts are requeued. POSIX only. Throws E_INVALID_OPTION
 * for a bad option.
 *
 * @example
 * import { cloudVm, localVms } from "flotilla/cloud-vm";
 * import { workerTask } from "flotilla/worker-threads";
 * const job = new Job("primes").task("count", workerTask<number>(new URL("./tasks.mjs", import.meta.url), "countPrimes", { below: 100_000 }));
 * const result = await run(job, { pools: { default: cloudVm({ driver: localVms(), maxNodes: 2 }) } });
 */
export function localVms(options?: LocalVmsOptions): LocalVmsDriver {
  const resolved = resolveLocalOptions(options);
  const name = `local-${++drivers}`;
  const vms = new Map<string, LocalVm>();
  let made = 0;
  return {
    name,
    kinds: LOCAL_VM_KINDS,
    create: (request) => create(`${name}-vm-${++made}`, request, resolved, vms),
    delete: async (vmId) => {
      const vm = vms.get(vmId);
      if (vm === undefined) return; // gone already: deleting twice is not an error
      await vm.delete();
      vms.delete(vmId);
    },
    list: async () => [...vms.values()].map((vm) => vm.info),
    run: (info, body, ctx) => run(vms, info.id, body, ctx, resolved),
  };
}

function create(id: string, request: VmCreateRequest, options: ResolvedLocalOptions, vms: Map<string, LocalVm>): Promise<LocalVmInfo> {
  const { signal } = request;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<LocalVmInfo>((resolve, reject) => {
    let vm: LocalVm | undefined;
    const onAbort = () => {
      // Given up: the process goes, and the create rejects with the abort's reason.
      reject(signal.reason);
      if (vm !== undefined) void vm.delete().then(() => vms.delete(id));
    };
    const ready = (error?: unknown) => {
      signal.removeEventListener("abort", onAbort);
      if (error !== undefined) {
        vms.delete(id);
        reject(error);
      } else resolve(vm!.info);
    };
    try {
      vm = new LocalVm(id, request.name, request.priority, request.events, request.runtime, options, ready);
    } catch (error) {
      reject(error);
      return;
    }
    vms.set(id, vm);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function run(vms: Map<string, LocalVm>, vmId: string, body: unknown, ctx: TaskContext<any>, options: ResolvedLocalOptions): Promise<unknown> {
  const vm = vms.get(vmId);
  if (vm === undefined)
    return Promise.reject(new NodeLostError(vmId, `local VM "${vmId}" is gone; task "${ctx.taskId}" attempt ${ctx.attempt} cannot run on it`));
  let wire: ReturnType<typeof bodyWire>;
  try {
    wire = bodyWire(body, ctx.taskId, options);
  } catch (error) {
    return Promise.reject(error);
  }
  const input = wire.kind === "module" ? (body as { input?: unknown }).input : undefined;
  try {
    return runOnVm(vm, wire, input, ctx, options);
  } catch (error) {
    return Promise.reject(error); // an attempt aborted before it was sent
  }
}
