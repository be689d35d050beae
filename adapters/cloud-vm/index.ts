/**
 * flotilla/cloud-vm: run a pool's nodes as VMs of a cloud. `cloudVm({ driver })` turns any `VmDriver`
 * (the small contract in flotilla/provider-kit: create, delete, list, run) into a compute provider,
 * with one rate-limited queue for the cloud's API, retries after throttling and transient errors, and
 * reconciliation so no VM is left behind. `localVms()` is a driver whose "VMs" are processes on this
 * machine running a flotilla agent: the same `workerTask()` and `command()` bodies as the worker-thread
 * and child-process providers run on them.
 *
 * Files, as in every adapter: provider.ts (the factory), options.ts (its options, their check and the
 * driver's guard), node.ts (one node: a VM, and its events), errors.ts (its code and errors); specific
 * to clouds: api-calls.ts (the queue), retry-policy.ts (what is retried when), vm-start.ts (a create
 * and its reconciliation). local/ is the `localVms()` driver: driver.ts (the factory), options.ts,
 * vm-process.ts (one agent process), attempt.ts (one attempt on it), wire.ts (what crosses), and
 * agent-main.ts with agent-script.ts (the code the agent process runs).
 */
export { cloudVm } from "./provider.ts";
export type { CloudVmOptions, CloudVmRateLimit } from "./options.ts";
export type { VmNode } from "./node.ts";
export { localVms, type LocalVmsDriver } from "./local/driver.ts";
export type { LocalVmsOptions } from "./local/options.ts";
export type { LocalVmInfo } from "./local/vm-process.ts";
export type { LocalVmBody } from "./local/body.ts";
export { CLOUD_VM_ERROR_CODES, VmTaskFailedError, type VmTaskFailure, type VmTaskFailedDetails } from "./errors.ts";
