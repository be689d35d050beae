/**
 * One node of `cloudVm()`: a VM, as a pool and a task's context see it (`{ id, slots, vm }`, nothing
 * else), and the link through which its driver reports it gone.
 */
import type { VmEvents, VmInfo } from "../../src/provider-kit/index.ts";
import type { ProviderNode } from "../../src/provider.ts";

/** A VM as a pool sees it: `id` is the VM's id, `vm` what the driver said about it when it was created. */
export interface VmNode extends ProviderNode {
  /** The VM's id, as the driver gave it. */
  readonly id: string;
  readonly slots: number;
  /** The driver's description of the VM, as `create` returned it. */
  readonly vm: VmInfo;
}

export function vmNode(vm: VmInfo, slots: number): VmNode {
  return Object.freeze({ id: vm.id, slots, vm });
}

/** How a VM ended, when its driver reported it. */
export type VmGone = { readonly how: "preempted" | "lost"; readonly reason: unknown };

/**
 * The `events` a create request carries. The driver may report the VM gone at any time, even before
 * its create has answered; what it says is kept until the provider connects the VM to its node (and
 * then passed on), so no report is lost and only the first counts. Its methods are bound (a driver may
 * pass `events.lost` around on its own).
 */
export class VmEventsLink implements VmEvents {
  #gone: VmGone | undefined = undefined;
  #target: ((gone: VmGone) => void) | undefined = undefined;

  readonly preempted = (reason?: unknown): void => this.#report("preempted", reason);
  readonly lost = (reason?: unknown): void => this.#report("lost", reason);

  /** What the driver reported before the VM was connected, if anything. */
  get gone(): VmGone | undefined {
    return this.#gone;
  }

  /** From now on, a report goes to `target` (at once, if one came already). */
  connect(target: (gone: VmGone) => void): void {
    this.#target = target;
    if (this.#gone !== undefined) target(this.#gone);
  }

  /** The node was stopped: later reports are ignored. */
  disconnect(): void {
    this.#target = undefined;
    this.#gone ??= { how: "lost", reason: undefined };
  }

  #report(how: VmGone["how"], reason: unknown): void {
    if (this.#gone !== undefined) return;
    const gone = (this.#gone = { how, reason });
    this.#target?.(gone);
  }
}
