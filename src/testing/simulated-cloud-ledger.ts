/**
 * A simulated cloud's books: what it made, how each VM ended, what it was asked and refused, and what
 * it billed. A VM is billed from the moment its create is accepted until it is gone (deleted, preempted,
 * lost, or cleaned up after a failed start), at its priority's price per node-hour.
 */
import type { NodePriority } from "../provider-node.ts";
import type { VmEnd } from "./simulated-cloud-errors.ts";
import type { PerPriority } from "./simulated-cloud-options.ts";

const MS_PER_HOUR = 3_600_000;

/** The books of one priority. Counts are of VMs; `created = held + deleted + preempted + lost + failedStarts`. */
export interface PriorityLedger {
  /** Creates the cloud accepted (each made a VM). */
  readonly created: number;
  /** VMs that reached `running`. */
  readonly started: number;
  /** VMs gone through a delete (the caller's, or the cleanup after a create's signal aborted). */
  readonly deleted: number;
  readonly preempted: number;
  readonly lost: number;
  /** VMs whose start failed (or was failed at `node.start`), cleaned up by the cloud. */
  readonly failedStarts: number;
  /** VMs held now: creating, running or deleting. */
  readonly held: number;
  /** VM-seconds billed up to the moment the ledger was read (VMs still held included). */
  readonly nodeSeconds: number;
  /** `nodeSeconds / 3600 × costPerNodeHour` of the priority, in the unit of `costPerNodeHour`. */
  readonly cost: number;
}

/** What `cloud.ledger()` returns: a snapshot, in the cloud's runtime time. */
export interface CloudLedger {
  /** `runtime.now()` when it was read (ms). */
  readonly at: number;
  readonly dedicated: PriorityLedger;
  readonly lowPriority: PriorityLedger;
  /** Both priorities' VM-seconds. */
  readonly nodeSeconds: number;
  /** Both priorities' cost. */
  readonly cost: number;
  /** API calls that reached the cloud, by operation (refused ones included). */
  readonly calls: { readonly create: number; readonly delete: number; readonly list: number };
  /** Calls answered with an error, by reason (`apiErrors` counts those after which the cloud acted too). */
  readonly refused: {
    readonly throttled: number;
    readonly quotaExceeded: number;
    readonly apiErrors: number;
    /** Failed at the `provider.call` fault point. */
    readonly injected: number;
    readonly nameInUse: number;
    readonly unknownVm: number;
  };
}

export type CallOp = keyof CloudLedger["calls"];
export type Refusal = keyof CloudLedger["refused"];

interface Counts {
  created: number;
  started: number;
  deleted: number;
  preempted: number;
  lost: number;
  failedStarts: number;
  held: number;
  /** Billed ms of VMs that are gone. */
  closedMs: number;
}

const END_COUNT: Record<VmEnd, "deleted" | "preempted" | "lost" | "failedStarts"> = {
  deleted: "deleted",
  preempted: "preempted",
  lost: "lost",
  failed: "failedStarts",
};

export class Ledger {
  readonly #rates: PerPriority;
  readonly #counts: Record<NodePriority, Counts> = { dedicated: counts(), lowPriority: counts() };
  readonly #calls = { create: 0, delete: 0, list: 0 };
  readonly #refused = { throttled: 0, quotaExceeded: 0, apiErrors: 0, injected: 0, nameInUse: 0, unknownVm: 0 };

  constructor(rates: PerPriority) {
    this.#rates = rates;
  }

  call(op: CallOp): void {
    this.#calls[op]++;
  }

  refuse(reason: Refusal): void {
    this.#refused[reason]++;
  }

  created(priority: NodePriority): void {
    this.#counts[priority].created++;
    this.#counts[priority].held++;
  }

  started(priority: NodePriority): void {
    this.#counts[priority].started++;
  }

  /** A VM is gone: it ended as `end` after `billedMs` of life. */
  closed(priority: NodePriority, end: VmEnd, billedMs: number): void {
    const c = this.#counts[priority];
    c[END_COUNT[end]]++;
    c.held--;
    c.closedMs += billedMs;
  }

  /** The books at `now`; `liveMs` is what the VMs still held have run up by then, per priority. */
  snapshot(now: number, liveMs: PerPriority): CloudLedger {
    const dedicated = this.#priority("dedicated", liveMs.dedicated);
    const lowPriority = this.#priority("lowPriority", liveMs.lowPriority);
    return Object.freeze({
      at: now,
      dedicated,
      lowPriority,
      nodeSeconds: dedicated.nodeSeconds + lowPriority.nodeSeconds,
      cost: dedicated.cost + lowPriority.cost,
      calls: Object.freeze({ ...this.#calls }),
      refused: Object.freeze({ ...this.#refused }),
    });
  }

  #priority(priority: NodePriority, liveMs: number): PriorityLedger {
    const { closedMs, ...c } = this.#counts[priority];
    const ms = closedMs + liveMs;
    return Object.freeze({ ...c, nodeSeconds: ms / 1000, cost: (ms * this.#rates[priority]) / MS_PER_HOUR });
  }
}

function counts(): Counts {
  return { created: 0, started: 0, deleted: 0, preempted: 0, lost: 0, failedStarts: 0, held: 0, closedMs: 0 };
}
