/**
 * Starting one VM for a pool: create it through the queue, and never leave one behind.
 *
 * - A create that fails with an unknown outcome (a transient API error, a timeout, an abort, anything
 *   but a refusal) may still have made a VM: the provider lists the driver's VMs, deletes any with the
 *   request's name, and only then tries again (with a new name) or gives up.
 * - A create aborted through `report.signal` whose VM arrives anyway has that VM deleted.
 * - A VM the driver reports preempted or lost before its create answered is deleted, and the start
 *   fails with a transient error, so the pool starts another.
 */
import { FlotillaError, describe, messageOf } from "../../src/errors.ts";
import { vmApiError, wait, type NodePriority, type VmDriver, type VmInfo } from "../../src/provider-kit/index.ts";
import type { Runtime } from "../../src/runtime.ts";
import type { ApiCalls } from "./api-calls.ts";
import { VmEventsLink } from "./node.ts";
import { isSlots, type ResolvedOptions } from "./options.ts";
import { outcomeUnknown, retryDelay, type RetryCount } from "./retry-policy.ts";

/** What a start needs from its provider. */
export interface StartHost {
  readonly options: ResolvedOptions<unknown>;
  readonly calls: ApiCalls;
  /** The provider's name, for messages. */
  readonly name: string;
  /** A VM name no other request of this provider used. */
  nextName(): string;
  /** Deletes a VM through the queue, retried; rejects when it could not. */
  deleteVm(vmId: string, runtime: Runtime): Promise<void>;
}

/** A VM up and running, with its events' link and its slots. */
export interface StartedVm {
  readonly vm: VmInfo;
  readonly slots: number;
  readonly events: VmEventsLink;
}

export interface StartRequest {
  readonly runtime: Runtime;
  readonly signal: AbortSignal;
  readonly priority: NodePriority;
}

export async function startVm(host: StartHost, request: StartRequest): Promise<StartedVm> {
  const { runtime, signal, priority } = request;
  const driver = host.options.driver as VmDriver<unknown>;
  const count: RetryCount = { throttled: 0, api: 0 };
  for (;;) {
    signal.throwIfAborted();
    const name = host.nextName();
    const events = new VmEventsLink();
    let vm: VmInfo;
    // Whether the cloud was called at all: a start aborted while its call waited in the queue made nothing.
    let called = false;
    const create = () => {
      called = true;
      return driver.create({ name, priority, signal, events, runtime });
    };
    try {
      vm = await host.calls.run(create, { runtime, signal, retryApiErrors: false, count });
    } catch (error) {
      if (!called || !outcomeUnknown(error)) throw error;
      await reconcile(host, name, runtime, error);
      signal.throwIfAborted();
      const delay = retryDelay(error, count, host.options, () => runtime.random(), true);
      if (delay === undefined) throw error;
      await wait(runtime, delay, signal);
      continue;
    }
    const id = idOf(vm);
    if (id === undefined) {
      // Nothing to delete it by: the listing finds it by name, if the driver made one.
      await reconcile(host, name, runtime, undefined);
      throw new FlotillaError(
        "E_INVALID_OPTION",
        `${host.name}: driver "${driver.name}" answered create("${name}") with ${describe(vm)}, not a VmInfo { id: string, name, priority, state }`,
      );
    }
    if (signal.aborted) {
      await host.deleteVm(id, runtime);
      signal.throwIfAborted();
    }
    const gone = events.gone;
    const slotsProblem = badSlots(vm);
    if (gone !== undefined || slotsProblem !== undefined) {
      await host.deleteVm(id, runtime);
      if (slotsProblem !== undefined) throw new FlotillaError("E_INVALID_OPTION", `${host.name}: driver "${driver.name}": VM "${id}" ${slotsProblem}`);
      throw vmApiError(`${host.name}: VM "${id}" (${name}) was ${gone!.how} before it could be used`, gone!.reason);
    }
    return { vm, slots: (vm.slots as number | undefined) ?? host.options.slotsPerVm, events };
  }
}

/**
 * The create of `name` failed without saying whether a VM was made: list the driver's VMs and delete
 * every one with that name. Rejects (E_VM_API) when that could not be done, saying a VM may be left.
 */
async function reconcile(host: StartHost, name: string, runtime: Runtime, createError: unknown): Promise<void> {
  const driver = host.options.driver;
  try {
    const vms = await host.calls.run(() => driver.list(), { runtime });
    if (!Array.isArray(vms))
      throw new FlotillaError("E_INVALID_OPTION", `driver "${driver.name}": list() resolved with ${describe(vms)}, not an array of VmInfo`);
    const made = vms.filter((vm) => nameOf(vm) === name);
    for (const vm of made) {
      const id = idOf(vm);
      if (id !== undefined) await host.deleteVm(id, runtime);
    }
  } catch (error) {
    const after = createError === undefined ? "" : ` after create failed (${messageOf(createError)})`;
    throw vmApiError(
      `${host.name}: could not check whether create("${name}") made a VM${after}: ${messageOf(error)}; a VM named "${name}" may be left in driver "${driver.name}"`,
      error,
    );
  }
}

function idOf(vm: unknown): string | undefined {
  try {
    const id = (vm as { id?: unknown } | null | undefined)?.id;
    return typeof id === "string" && id.length > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

function nameOf(vm: unknown): unknown {
  try {
    return (vm as { name?: unknown } | null | undefined)?.name;
  } catch {
    return undefined;
  }
}

/** Why a VM's `slots` is unusable, or undefined when it is fine (or absent). */
function badSlots(vm: VmInfo): string | undefined {
  const slots: unknown = vm.slots;
  return slots === undefined || isSlots(slots) ? undefined : `has slots ${describe(slots)}; a VM's slots must be an integer >= 1 or Infinity`;
}
