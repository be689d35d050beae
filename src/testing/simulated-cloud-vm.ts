/**
 * One VM of a simulated cloud, as the cloud holds it: its identity, where it is in its life, the timers
 * armed for it, the create call waiting for it to run, and the attempts running on it. The cloud's
 * engine moves it from state to state; what it shows the outside are frozen snapshots.
 */
import type { Outcome } from "../provider-kit/outcome.ts";
import type { VmEvents, VmInfo } from "../provider-kit/vm-driver.ts";
import type { NodePriority } from "../provider-node.ts";
import type { Runtime, TimerHandle } from "../runtime.ts";
import type { TaskContext } from "../task-context.ts";
import type { VmEnd } from "./simulated-cloud-errors.ts";

/** A VM the cloud holds, as `cloud.vms()` shows it. */
export interface SimulatedVm {
  readonly id: string;
  readonly name: string;
  readonly priority: NodePriority;
  readonly state: "creating" | "running" | "deleting";
  readonly slots: number;
  /** When its create was accepted (runtime ms): billing starts here. */
  readonly createdAt: number;
  /** When it started running (runtime ms); undefined while it never ran. */
  readonly runningAt: number | undefined;
  /** Attempts running on it now. */
  readonly attempts: number;
}

/** A step in a VM's life, as `cloud.timeline()` lists them. */
export interface CloudTimelineEntry {
  /** Runtime ms. */
  readonly at: number;
  readonly vmId: string;
  readonly name: string;
  readonly priority: NodePriority;
  /** `created` (create accepted), `running`, `deleting` (delete accepted), then how it ended: `deleted`, `preempted`, `lost` or `failed` (its start). */
  readonly event: "created" | "running" | "deleting" | VmEnd;
}

/** An attempt running on a VM: ended by the VM's end if its body has not settled first. */
export interface VmAttempt {
  readonly ctx: TaskContext<any>;
  readonly outcome: Outcome<unknown>;
}

export class SimVm {
  state: "creating" | "running" | "deleting" | "gone" = "creating";
  end: VmEnd | undefined = undefined;
  runningAt: number | undefined = undefined;
  /** The create call waiting for this VM to run (none when its answer was lost). */
  waiter: Outcome<VmInfo> | undefined;
  /** Set when the waiting create's signal aborted: the create rejects with it once the VM is gone. */
  abortReason: { readonly reason: unknown } | undefined = undefined;
  /** Settles once the VM is gone, after a delete was accepted. */
  deletion: Promise<void> | undefined = undefined;
  readonly attempts = new Set<VmAttempt>();
  readonly #timers: TimerHandle[] = [];

  constructor(
    readonly id: string,
    readonly name: string,
    readonly priority: NodePriority,
    readonly slots: number,
    readonly createdAt: number,
    readonly events: VmEvents,
    waiter: Outcome<VmInfo> | undefined,
  ) {
    this.waiter = waiter;
  }

  /** Arms a timer for this VM, cleared by `clearTimers` when it changes state. */
  arm(runtime: Runtime, ms: number, label: string, callback: () => void): void {
    this.#timers.push(runtime.setTimer(ms, callback, label));
  }

  clearTimers(runtime: Runtime): void {
    for (const timer of this.#timers.splice(0)) runtime.clearTimer(timer);
  }

  /** What the VmDriver contract reports (not while it is gone). */
  info(): VmInfo {
    return Object.freeze({ id: this.id, name: this.name, priority: this.priority, state: this.state as VmInfo["state"], slots: this.slots });
  }

  view(): SimulatedVm {
    return Object.freeze({
      id: this.id,
      name: this.name,
      priority: this.priority,
      state: this.state as SimulatedVm["state"],
      slots: this.slots,
      createdAt: this.createdAt,
      runningAt: this.runningAt,
      attempts: this.attempts.size,
    });
  }
}
