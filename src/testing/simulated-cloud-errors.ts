/**
 * What a simulated cloud answers when it refuses, worded in one place. The refusals a real cloud's
 * driver reports through the VmDriver contract use its errors (`vmThrottled`, `vmQuotaExceeded`,
 * `vmApiError`, `vmUnknown`, `vmNameInUse`); a VM gone under an attempt is a NodeLostError, as from every provider.
 */
import { FlotillaError, NodeLostError } from "../errors.ts";
import { type AttemptRef, attemptName } from "../provider-kit/node-errors.ts";
import { type VmApiError, vmApiError, vmNameInUse, vmQuotaExceeded, vmThrottled, vmUnknown } from "../provider-kit/vm-driver.ts";
import type { NodePriority } from "../provider-node.ts";

/** How a VM ended, once it is gone. */
export type VmEnd = "deleted" | "preempted" | "lost" | "failed";

/** `simulated cloud "aws"`: how every message names the cloud. */
export function cloudName(cloud: string): string {
  return `simulated cloud "${cloud}"`;
}

/** `vm-3 ("pool#2")`: how messages name a VM. */
export function vmName(vm: { readonly id: string; readonly name: string }): string {
  return `VM ${vm.id} ("${vm.name}")`;
}

export function unknownVm(cloud: string, op: string, vmId: string, end: VmEnd | undefined): FlotillaError {
  const why = end === undefined ? "it holds no VM with that id" : `that VM is gone (${end})`;
  return vmUnknown(`${cloudName(cloud)}: ${op} ${JSON.stringify(vmId)} refused: ${why}`);
}

export function nameInUse(cloud: string, vm: { readonly id: string; readonly name: string }): FlotillaError {
  return vmNameInUse(`${cloudName(cloud)}: create refused: the name "${vm.name}" is in use by ${vm.id}; names are unique among the VMs the cloud holds`);
}

export function throttled(cloud: string, op: string, retryAfterMs: number): VmApiError {
  return vmThrottled(`${cloudName(cloud)}: ${op} throttled (HTTP 429): retry after ${retryAfterMs} ms`, retryAfterMs);
}

export function quotaExceeded(cloud: string, priority: NodePriority, quota: number): VmApiError {
  return vmQuotaExceeded(`${cloudName(cloud)}: create refused: the ${priority} quota of ${quota} VM${quota === 1 ? "" : "s"} is used up`);
}

/** The same words whether or not the cloud acted before the answer was lost: the caller cannot tell. */
export function transientApiError(cloud: string, op: string, cause?: unknown): VmApiError {
  const unknown = op.startsWith("create")
    ? "; whether the VM was made is unknown: list() tells"
    : op.startsWith("delete")
      ? "; whether the delete was accepted is unknown"
      : "";
  return vmApiError(`${cloudName(cloud)}: ${op} failed with a transient API error (HTTP 503)${unknown}`, cause);
}

/** A call failed at a fault point with no error of its own: a transient API error that says so. */
export function injectedFault(cloud: string, what: string, point: string): VmApiError {
  return vmApiError(`${cloudName(cloud)}: ${what} failed: injected fault at ${point}`);
}

export function startFailed(cloud: string, vm: { readonly id: string; readonly name: string }, why: string, cause?: unknown): VmApiError {
  return vmApiError(`${cloudName(cloud)}: ${vmName(vm)} failed to start (${why}); it was cleaned up`, cause);
}

export function deletedWhileCreating(cloud: string, vm: { readonly id: string; readonly name: string }): NodeLostError {
  return new NodeLostError(vm.id, `${cloudName(cloud)}: ${vmName(vm)} was deleted before it started`);
}

/** The reason given to `events.preempted` / `events.lost`, and to the attempts that were on the VM. */
export function vmGone(cloud: string, vm: { readonly id: string; readonly name: string }, how: "preempted" | "lost", why: string): string {
  return `${cloudName(cloud)} ${how === "preempted" ? "preempted" : "lost"} ${vmName(vm)}: ${why}`;
}

export function notRunning(cloud: string, vmId: string, attempt: AttemptRef): FlotillaError {
  return new FlotillaError(
    "E_INVALID_OPTION",
    `${cloudName(cloud)}: ${attemptName(attempt)} cannot run on VM ${vmId}: it is still creating (run only on a VM its create resolved with)`,
  );
}
