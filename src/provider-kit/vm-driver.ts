/**
 * The VmDriver contract: what `cloudVm({ driver })` (flotilla/cloud-vm) needs from a cloud's VM API to
 * turn it into a compute provider. Small on purpose: create a VM (abortable), delete it, list the VMs
 * the driver holds (to reconcile after an error left the outcome of a call unknown), run one attempt on
 * a VM, and report a VM preempted or lost. The simulated cloud of flotilla/testing implements it, as a
 * driver for a real cloud would; so does `localVms()` (OS processes on this machine).
 *
 * Errors a driver's calls should throw so the provider can react: `vmThrottled` (the API asks to slow
 * down: retried after `retryAfterMs`), `vmQuotaExceeded` (no more VMs of that priority now: the pool
 * retries later with backoff) and `vmApiError` (a transient failure: retried). Anything else fails the
 * call as it is.
 */
import { FlotillaError } from "../errors.ts";
import type { NodePriority } from "../provider-node.ts";
import type { Runtime } from "../runtime.ts";
import type { TaskBody, TaskContext } from "../task-context.ts";
import { declareErrorCodes } from "../vocabulary.ts";

export type { NodePriority } from "../provider-node.ts";

/** The codes a VM driver's calls fail with (see the helpers below). */
export const VM_ERROR_CODES = declareErrorCodes("flotilla/provider-kit", {
  E_VM_THROTTLED: "a cloud API call was throttled; retry after `retryAfterMs` (VmApiError)",
  E_VM_QUOTA: "a VM could not be created: the account's quota for that priority is used up (VmApiError)",
  E_VM_API: "a cloud API call failed transiently; it may be retried (VmApiError)",
  E_VM_UNKNOWN: "a cloud API call named a VM the cloud does not hold (never made, or already gone): a delete may count it as done (VmApiError; HTTP 404)",
  E_VM_NAME_IN_USE: "a create was refused: a VM the cloud holds already has that name (VmApiError; HTTP 409)",
});

/** Why a VM API call failed, in a form the provider can act on. */
export class VmApiError extends FlotillaError {
  /** For E_VM_THROTTLED: how long the API asked to wait before the next call (ms). */
  readonly retryAfterMs: number | undefined;
  constructor(code: keyof typeof VM_ERROR_CODES, message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(code, message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
  override get name(): string {
    return "VmApiError";
  }
}

/** The API asked to slow down; the call may be retried after `retryAfterMs`. */
export function vmThrottled(message: string, retryAfterMs: number): VmApiError {
  return new VmApiError("E_VM_THROTTLED", message, { retryAfterMs });
}

/** No VM of that priority can be created now (the quota is used up). */
export function vmQuotaExceeded(message: string): VmApiError {
  return new VmApiError("E_VM_QUOTA", message);
}

/** A transient API failure (an HTTP 5xx, a dropped connection): the call may be retried. */
export function vmApiError(message: string, cause?: unknown): VmApiError {
  return new VmApiError("E_VM_API", message, { cause });
}

/** The cloud holds no VM by that id (never made, or already gone): a delete whose first answer was lost may get it. */
export function vmUnknown(message: string): VmApiError {
  return new VmApiError("E_VM_UNKNOWN", message);
}

/** A create named its VM as one the cloud already holds (names are unique, so `list()` can find a VM by its create's name). */
export function vmNameInUse(message: string): VmApiError {
  return new VmApiError("E_VM_NAME_IN_USE", message);
}

/** A VM as the driver describes it. */
export interface VmInfo {
  /** The cloud's id for the VM (unique among the driver's VMs). */
  readonly id: string;
  /** The name the create request gave it (how `list()` finds a VM whose create call's answer was lost). */
  readonly name: string;
  readonly priority: NodePriority;
  /** `creating` until it can run attempts, then `running`; `deleting` once a delete was accepted. */
  readonly state: "creating" | "running" | "deleting";
  /** Attempts it runs at once (the pool's `slotsPerNode` overrides it). @default 1 */
  readonly slots?: number;
}

/** How a driver tells the provider that a VM it created is gone. Calls after the first are ignored. */
export interface VmEvents {
  /** The cloud took a low-priority VM back: its attempts are requeued without spending a retry. */
  preempted(reason?: unknown): void;
  /** The VM died or became unreachable: its attempts are requeued (the charging rule of lost nodes applies). */
  lost(reason?: unknown): void;
}

/** What `create` is asked for. */
export interface VmCreateRequest {
  /** A name unique to this request; use it as the VM's name, so `list()` finds the VM if the call's answer is lost. */
  readonly name: string;
  readonly priority: NodePriority;
  /** Aborted when the pool no longer wants the VM (scaled down, run ended): give up, and delete what was made. */
  readonly signal: AbortSignal;
  /** Where to report this VM's preemption or loss, for as long as it lives. */
  readonly events: VmEvents;
  /** The pool's clock, timers and randomness (a virtual one under test). */
  readonly runtime: Runtime;
}

/**
 * A cloud's VM API as `cloudVm` uses it. `Body` is what `run` receives: task functions (the default), or
 * specs of the kinds it lists (a command, a worker module).
 */
export interface VmDriver<Body = TaskBody<any, unknown>> {
  /** Names the driver in messages (e.g. "gcp-europe-west1"). */
  readonly name: string;
  /** The body kinds its VMs run. @default ["function"] */
  readonly kinds?: readonly string[];
  /** Creates a VM and resolves once it can run attempts; rejects with a VmApiError when the cloud refuses. */
  create(request: VmCreateRequest): Promise<VmInfo>;
  /** Deletes a VM (one still creating too) and releases what it holds; resolves once it is gone. */
  delete(vmId: string): Promise<void>;
  /** The VMs the driver holds now (any state). */
  list(): Promise<readonly VmInfo[]>;
  /** Runs one attempt on a running VM, as a provider's `run` does (rejects with a NodeLostError if the VM dies). */
  run(vm: VmInfo, body: Body, ctx: TaskContext<any>): unknown;
}
