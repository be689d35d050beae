/**
 * `simulatedCloud()`: a model of a cloud's VM API as an external service, meeting the VmDriver
 * contract (flotilla/provider-kit) as a real cloud's driver would, so a pool on `cloudVm({ driver })`
 * can be tested against it in virtual time: a capacity plan or a failover test takes milliseconds and
 * replays from a seed. It refuses what a cloud refuses (quota, throttling with retry-after, transient
 * errors, unknown VMs, names in use), takes low-priority VMs back, and keeps books of what it made and
 * billed. The parts: options (simulated-cloud-options.ts), the API's front door (-api), the VMs' lives
 * (-engine, -vm), attempts (-run), books (-ledger), words (-errors) and timer labels (-labels).
 */
import { FlotillaError, describe } from "../errors.ts";
import { Outcome } from "../provider-kit/outcome.ts";
import type { VmCreateRequest, VmDriver, VmInfo } from "../provider-kit/vm-driver.ts";
import type { TaskBody, TaskContext } from "../task-context.ts";
import { CloudEngine } from "./simulated-cloud-engine.ts";
import { cloudName, unknownVm } from "./simulated-cloud-errors.ts";
import type { CloudLedger } from "./simulated-cloud-ledger.ts";
import { resolveCloudOptions, type SimulatedCloudOptions } from "./simulated-cloud-options.ts";
import { runOnVm } from "./simulated-cloud-run.ts";
import type { CloudTimelineEntry, SimulatedVm } from "./simulated-cloud-vm.ts";

export type { SimulatedCloudOptions, LatencyMs, PerPriority } from "./simulated-cloud-options.ts";
export type { CloudLedger, PriorityLedger } from "./simulated-cloud-ledger.ts";
export type { SimulatedVm, CloudTimelineEntry } from "./simulated-cloud-vm.ts";

/** A simulated cloud: a VmDriver, plus what a test reads of it (never API calls: no latency, no faults). */
export interface SimulatedCloud extends VmDriver<TaskBody<any, unknown>> {
  readonly name: string;
  readonly kinds: readonly string[];
  /**
   * Runs one attempt's body (a function, called in-process with `ctx`) on a running VM; rejects with a
   * NodeLostError if the VM is preempted, lost or deleted before the body settles.
   */
  run(vm: VmInfo, body: TaskBody<any, unknown>, ctx: TaskContext<any>): Promise<unknown>;
  /** The VMs it holds now (creating, running or deleting), in the order they were made: empty once everything made was deleted. */
  vms(): readonly SimulatedVm[];
  /** Its books now: VMs made and how they ended, VM-seconds and cost per priority, calls and refusals. */
  ledger(): CloudLedger;
  /** Every step of every VM's life so far, in order (two clouds with the same seed and calls have the same). */
  timeline(): readonly CloudTimelineEntry[];
}

const FUNCTION_KIND: readonly string[] = Object.freeze(["function"]);

/**
 * Makes a simulated cloud on `options.runtime`. Its API calls take `apiLatencyMs` and may be throttled
 * or fail; a create resolves once the VM runs (`startLatencyMs`) and honours its request's signal (an
 * abort deletes what was made, and the create rejects with the signal's reason once it is gone); a
 * delete resolves once the VM is gone (`deleteLatencyMs`); a VM whose create's answer was lost is found
 * by name with `list()`. Create with a name a held VM has is refused (E_VM_NAME_IN_USE: no silent
 * idempotency, the caller reconciles with `list()`); delete of a VM it does not hold is refused
 * (E_VM_UNKNOWN); a second delete of a VM being deleted resolves with the first.
 *
 * @example
 * const runtime = virtualRuntime({ seed: 3 });
 * const cloud = simulatedCloud({ runtime, quota: { lowPriority: 2 }, preemptionsPerHour: 1 });
 * const vm = await cloud.create({ name: "a", priority: "lowPriority", signal, events, runtime });
 * await cloud.delete(vm.id);
 * assert.deepEqual(cloud.vms(), []);
 * assert.equal(cloud.ledger().lowPriority.deleted, 1);
 */
export function simulatedCloud(options: SimulatedCloudOptions): SimulatedCloud {
  const engine = new CloudEngine(resolveCloudOptions(options));
  const name = engine.name;
  return Object.freeze({
    name,
    kinds: FUNCTION_KIND,
    create: (request: VmCreateRequest) => create(engine, request),
    delete: (vmId: string) => deleteVm(engine, vmId),
    list: () => list(engine),
    run: (vm: VmInfo, body: TaskBody<any, unknown>, ctx: TaskContext<any>) => runOnVm(engine, vm, body, ctx),
    vms: () => engine.views(),
    ledger: () => engine.snapshot(),
    timeline: () => engine.timeline(),
  });
}

function create(engine: CloudEngine, request: VmCreateRequest): Promise<VmInfo> {
  const bad = badRequest(request);
  if (bad !== undefined) return Promise.reject(new FlotillaError("E_INVALID_OPTION", `${cloudName(engine.name)}: create(request): ${bad}`));
  const { signal } = request;
  if (signal.aborted) return Promise.reject(signal.reason);
  const outcome = new Outcome<VmInfo>();
  let made: ReturnType<CloudEngine["make"]> | undefined;
  // Before the call lands, an abort only marks it: what the call makes is deleted as it lands.
  const onAbort = (): void => {
    if (made !== undefined) engine.abortCreate(made, signal.reason);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  outcome.onSettle(() => signal.removeEventListener("abort", onAbort));
  engine.gate.call(
    "create",
    request.name,
    (answerLost) => {
      const refusal = engine.refusal(request);
      if (refusal !== undefined) {
        if (!answerLost) outcome.reject(signal.aborted ? signal.reason : refusal);
        return;
      }
      // A VM whose answer was lost has no create waiting for it: it runs for whoever finds it with list().
      const vm = engine.make(request, answerLost ? undefined : outcome);
      if (answerLost) return;
      made = vm;
      if (signal.aborted) engine.abortCreate(vm, signal.reason);
    },
    (error) => outcome.reject(signal.aborted ? signal.reason : error),
  );
  return outcome.promise;
}

function deleteVm(engine: CloudEngine, vmId: string): Promise<void> {
  if (typeof vmId !== "string" || vmId.length === 0) {
    return Promise.reject(new FlotillaError("E_INVALID_OPTION", `${cloudName(engine.name)}: delete(vmId) needs a VM's id, received ${describe(vmId)}`));
  }
  const outcome = new Outcome<void>();
  engine.gate.call(
    "delete",
    vmId,
    (answerLost) => {
      const vm = engine.held(vmId);
      if (vm === undefined) {
        engine.ledger.refuse("unknownVm");
        if (!answerLost) outcome.reject(unknownVm(engine.name, "delete", vmId, engine.find(vmId)?.end));
        return;
      }
      const gone = engine.delete(vm);
      if (!answerLost) outcome.resolve(gone);
    },
    (error) => outcome.reject(error),
  );
  return outcome.promise;
}

function list(engine: CloudEngine): Promise<readonly VmInfo[]> {
  const outcome = new Outcome<readonly VmInfo[]>();
  engine.gate.call(
    "list",
    undefined,
    (answerLost) => {
      if (!answerLost) outcome.resolve(engine.infos());
    },
    (error) => outcome.reject(error),
  );
  return outcome.promise;
}

/** What is wrong with a create request, or undefined. */
function badRequest(request: unknown): string | undefined {
  if (typeof request !== "object" || request === null)
    return `the request must be an object { name, priority, signal, events, runtime }, received ${describe(request)}`;
  const r = request as Partial<VmCreateRequest>;
  if (typeof r.name !== "string" || r.name.length === 0) return `"name" must be a non-empty string, received ${describe(r.name)}`;
  if (r.priority !== "dedicated" && r.priority !== "lowPriority") return `"priority" must be "dedicated" or "lowPriority", received ${describe(r.priority)}`;
  const signal = r.signal as Partial<AbortSignal> | undefined;
  if (typeof signal !== "object" || signal === null || typeof signal.aborted !== "boolean" || typeof signal.addEventListener !== "function") {
    return `"signal" must be an AbortSignal, received ${describe(signal)}`;
  }
  const events = r.events as Partial<VmCreateRequest["events"]> | undefined;
  if (typeof events !== "object" || events === null || typeof events.preempted !== "function" || typeof events.lost !== "function") {
    return `"events" must be an object { preempted(reason), lost(reason) }, received ${describe(events)}`;
  }
  return undefined;
}
