/**
 * The engine of a simulated cloud: the VMs it holds and every step of their lives. A create accepted
 * makes a VM (`creating`); after its start latency it runs, or its start fails and it is cleaned up, or
 * (hangRate) it never gets there. A running low-priority VM has a time to preemption armed. A delete
 * accepted makes it `deleting` (ending the attempts on it and any creation in progress) and, after the
 * delete latency, gone. Preemption and loss take it away at once, telling the VM's `events`. Every
 * step is a runtime timer, labelled by simulated-cloud-labels.ts, and the lifecycle fault points are
 * consulted where the VM gets to them.
 */
import { NodeLostError } from "../errors.ts";
import type { CoreFaultPoint } from "../fault-points.ts";
import { nodeLostError, nodeStoppedError } from "../provider-kit/node-errors.ts";
import type { Outcome } from "../provider-kit/outcome.ts";
import type { VmCreateRequest, VmInfo } from "../provider-kit/vm-driver.ts";
import type { FaultAction, FaultContext, Runtime } from "../runtime.ts";
import { ApiGate } from "./simulated-cloud-api.ts";
import { Draws } from "./simulated-cloud-draws.ts";
import { deletedWhileCreating, nameInUse, quotaExceeded, startFailed, type VmEnd, vmGone } from "./simulated-cloud-errors.ts";
import { type CloudEvent, cloudLabel } from "./simulated-cloud-labels.ts";
import { type CloudLedger, Ledger } from "./simulated-cloud-ledger.ts";
import type { CloudConfig } from "./simulated-cloud-options.ts";
import { seededRandom } from "./seeded-random.ts";
import { type CloudTimelineEntry, SimVm, type SimulatedVm } from "./simulated-cloud-vm.ts";

export class CloudEngine {
  readonly name: string;
  readonly runtime: Runtime;
  readonly gate: ApiGate;
  readonly ledger: Ledger;
  readonly #config: CloudConfig;
  readonly #draws: Draws;
  /** Every VM it ever made, by id (so a run on a VM that is gone is told so). */
  readonly #all = new Map<string, SimVm>();
  /** The VMs it holds now, in the order they were made. */
  readonly #held = new Map<string, SimVm>();
  readonly #byName = new Map<string, SimVm>();
  readonly #timeline: CloudTimelineEntry[] = [];
  #made = 0;

  constructor(config: CloudConfig) {
    this.#config = config;
    this.name = config.name;
    this.runtime = config.runtime;
    const runtime = config.runtime;
    this.#draws = new Draws(config.seed !== undefined ? seededRandom(config.seed) : () => runtime.random());
    this.ledger = new Ledger(config.costPerNodeHour);
    this.gate = new ApiGate(config, this.#draws, this.ledger);
  }

  label(event: CloudEvent, subject?: string): string {
    return cloudLabel(this.name, event, subject);
  }

  /** Consults a fault point of the runtime, if it injects faults. */
  fault(point: CoreFaultPoint, context: Omit<FaultContext, "point" | "jobName">): FaultAction | undefined {
    return this.runtime.fault?.(point, { point, jobName: "", ...context }) ?? undefined;
  }

  /** A VM it made, held or gone. */
  find(id: string): SimVm | undefined {
    return this.#all.get(id);
  }

  /** A VM it holds now. */
  held(id: string): SimVm | undefined {
    return this.#held.get(id);
  }

  /** Why the cloud refuses to make this VM now (its name is in use, its priority's quota is used up), counted in the ledger. */
  refusal(request: VmCreateRequest): Error | undefined {
    const holder = this.#byName.get(request.name);
    if (holder !== undefined) {
      this.ledger.refuse("nameInUse");
      return nameInUse(this.name, holder);
    }
    const quota = this.#config.quota[request.priority];
    let count = 0;
    for (const vm of this.#held.values()) if (vm.priority === request.priority) count++;
    if (count >= quota) {
      this.ledger.refuse("quotaExceeded");
      return quotaExceeded(this.name, request.priority, quota);
    }
    return undefined;
  }

  /** Makes the VM a create asked for; `waiter` (the create call) settles when it runs or cannot. */
  make(request: VmCreateRequest, waiter: Outcome<VmInfo> | undefined): SimVm {
    const id = `vm-${++this.#made}`;
    const vm = new SimVm(id, request.name, request.priority, this.#config.slotsPerVm, this.runtime.now(), request.events, waiter);
    this.#all.set(id, vm);
    this.#held.set(id, vm);
    this.#byName.set(vm.name, vm);
    this.ledger.created(vm.priority);
    this.#record(vm, "created");
    // A start that hangs arms nothing: the VM stays creating until it is deleted.
    if (!this.#draws.chance(this.#config.hangRate)) {
      const ms = this.#draws.ms(this.#config.startLatencyMs);
      vm.arm(this.runtime, ms, this.label("start", id), () => this.#startDue(vm, ms));
    }
    return vm;
  }

  #startDue(vm: SimVm, ms: number): void {
    const detail = this.label("start", vm.id);
    const fault = this.fault("node.start", { nodeId: vm.id, detail });
    if (fault?.kind === "fail") {
      this.#end(vm, "failed", fault.error ?? startFailed(this.name, vm, "injected fault at node.start"));
      return;
    }
    if (this.#draws.chance(this.#config.startFailureRate)) {
      this.#end(vm, "failed", startFailed(this.name, vm, `its boot failed after ${ms} ms`));
      return;
    }
    vm.state = "running";
    vm.runningAt = this.runtime.now();
    this.ledger.started(vm.priority);
    this.#record(vm, "running");
    if (vm.priority === "lowPriority") {
      const perHour = this.#config.preemptionsPerHour;
      if (perHour > 0) {
        const after = this.#draws.timeToEvent(perHour);
        vm.arm(this.runtime, after, this.label("preempt", vm.id), () => this.preempt(vm, `the cloud took its capacity back after ${after} ms of running`));
      }
      if (this.fault("node.preempt", { nodeId: vm.id, detail })?.kind === "fail") {
        vm.arm(this.runtime, 0, this.label("preempt", vm.id), () => this.preempt(vm, "injected fault at node.preempt"));
      }
    }
    if (this.fault("node.lost", { nodeId: vm.id, detail })?.kind === "fail") {
      vm.arm(this.runtime, 0, this.label("lose", vm.id), () => this.lose(vm, "injected fault at node.lost"));
    }
    const waiter = vm.waiter;
    vm.waiter = undefined;
    waiter?.resolve(vm.info());
  }

  /**
   * Deletes a VM it holds: ends the attempts on it and a creation in progress, and resolves once it is
   * gone. A second delete while it is deleting gets the same promise.
   */
  delete(vm: SimVm): Promise<void> {
    if (vm.deletion !== undefined) return vm.deletion;
    const wasCreating = vm.state === "creating";
    // Its start (or its preemption) will not come: a VM being deleted only goes away.
    vm.clearTimers(this.runtime);
    vm.state = "deleting";
    this.#record(vm, "deleting");
    for (const a of vm.attempts) a.outcome.reject(nodeStoppedError(vm.id, a.ctx, "its body", "the VM was deleted under it"));
    if (wasCreating && vm.abortReason === undefined) {
      const waiter = vm.waiter;
      vm.waiter = undefined;
      waiter?.reject(deletedWhileCreating(this.name, vm));
    }
    vm.deletion = new Promise<void>((resolve) => {
      vm.arm(this.runtime, this.#draws.ms(this.#config.deleteLatencyMs), this.label("gone", vm.id), () => {
        this.#end(vm, "deleted", undefined);
        resolve();
      });
    });
    return vm.deletion;
  }

  /** The create waiting for `vm` was aborted: delete what was made; the create rejects with `reason` once it is gone. */
  abortCreate(vm: SimVm, reason: unknown): void {
    if (vm.state !== "creating") return;
    vm.abortReason = { reason };
    void this.delete(vm);
  }

  /** The cloud takes a running low-priority VM back now. */
  preempt(vm: SimVm, why: string): void {
    if (vm.state === "running") this.#end(vm, "preempted", new NodeLostError(vm.id, vmGone(this.name, vm, "preempted", why)));
  }

  /** A running VM dies now. */
  lose(vm: SimVm, why: string): void {
    if (vm.state === "running") this.#end(vm, "lost", new NodeLostError(vm.id, vmGone(this.name, vm, "lost", why)));
  }

  /** The VM is gone: billed up to now, its name free; its waiting create, its attempts and its events are told why. */
  #end(vm: SimVm, end: VmEnd, error: unknown): void {
    vm.clearTimers(this.runtime);
    vm.state = "gone";
    vm.end = end;
    this.#held.delete(vm.id);
    this.#byName.delete(vm.name);
    this.ledger.closed(vm.priority, end, this.runtime.now() - vm.createdAt);
    this.#record(vm, end);
    const waiter = vm.waiter;
    vm.waiter = undefined;
    waiter?.reject(vm.abortReason !== undefined ? vm.abortReason.reason : error);
    if (end !== "preempted" && end !== "lost") return;
    const why = (error as NodeLostError).message;
    for (const a of vm.attempts) a.outcome.reject(nodeLostError(vm.id, a.ctx, why, error));
    // Last, after the cloud's own state is whole: a listener that throws cannot leave it half done.
    if (end === "preempted") vm.events.preempted(error);
    else vm.events.lost(error);
  }

  #record(vm: SimVm, event: CloudTimelineEntry["event"]): void {
    this.#timeline.push(Object.freeze({ at: this.runtime.now(), vmId: vm.id, name: vm.name, priority: vm.priority, event }));
  }

  infos(): readonly VmInfo[] {
    return Object.freeze([...this.#held.values()].map((vm) => vm.info()));
  }

  views(): readonly SimulatedVm[] {
    return Object.freeze([...this.#held.values()].map((vm) => vm.view()));
  }

  timeline(): readonly CloudTimelineEntry[] {
    return Object.freeze(this.#timeline.slice());
  }

  snapshot(): CloudLedger {
    const now = this.runtime.now();
    const live = { dedicated: 0, lowPriority: 0 };
    for (const vm of this.#held.values()) live[vm.priority] += now - vm.createdAt;
    return this.ledger.snapshot(now, live);
  }
}
