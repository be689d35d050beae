/**
 * The runs using a pool, and whose turn it is for a free slot. A NodePool (node-pool.ts) has one
 * PoolTurns: it keeps an entry per run using the pool (how often the run was passed over, the most
 * nodes it saw, the meter reading it began at), counts the runs made with the pool that have not begun
 * yet (so `close()` waits for them), picks the run whose turn it is (a starving one first, then the
 * highest priority), and wakes every run once after a step that may have freed a slot for them.
 *
 * It is apart from NodePool so the rules of sharing a pool among runs can be read on their own; the
 * nodes and their slots stay with NodePool, which calls in here.
 */
import type { MeterReading, PoolMeter } from "./pool-meter.ts";
import type { Tenant } from "./pool-types.ts";

/** A run using the pool, as its turns see it. */
export interface TenantEntry {
  readonly tenant: Tenant;
  /** Slots given to other runs while this one had ready work, since it last got one. */
  passed: number;
  /** Most nodes up or starting while the run used the pool. */
  peak: number;
  readonly from: MeterReading;
}

/** A run with ready work gets a slot after at most this many slots went to other runs of the pool. */
export const STARVATION_BOUND = 8;

export class PoolTurns {
  /**
   * Engine-internal: the runs using the pool, in the order they attached. NodePool and its autoscaler
   * walk it to tell every run of a node's events (this very array: a copy is made where a run may
   * detach meanwhile).
   */
  readonly entries: TenantEntry[] = [];
  readonly #meter: PoolMeter;
  /** Runs made with the pool that have not begun yet. */
  #expected = 0;
  #wakeQueued = false;

  constructor(meter: PoolMeter) {
    this.#meter = meter;
  }

  /** Whether no run uses the pool and none made with it is still to begin. */
  get none(): boolean {
    return this.entries.length === 0 && this.#expected === 0;
  }

  /**
   * A run was made with this pool and will attach when it begins (a microtask later): `close()` called
   * meanwhile waits for it too.
   */
  expect(): void {
    this.#expected++;
  }

  /** A run starts using the pool. */
  attach(tenant: Tenant): void {
    if (this.#expected > 0) this.#expected--;
    this.entries.push({ tenant, passed: 0, peak: this.#meter.alive, from: this.#meter.read() });
  }

  /** A run stopped using the pool: its entry (for what the pool did for it meanwhile). */
  detach(tenant: Tenant): TenantEntry {
    const at = this.entries.findIndex((each) => each.tenant === tenant);
    const entry = this.entries[at]!;
    this.entries.splice(at, 1);
    return entry;
  }

  /** Nodes came up or began starting: each run's peak counts them. */
  peaked(): void {
    for (const entry of this.entries) entry.peak = Math.max(entry.peak, this.#meter.alive);
  }

  /**
   * The run whose turn it is when `asking` wants a slot, if not `asking`: a starving run first (passed
   * over STARVATION_BOUND times), then the highest priority among runs with ready work. Only shared
   * pools with several runs have turns.
   */
  turn(asking: Tenant): Tenant | undefined {
    const tenants = this.entries;
    if (tenants.length < 2) return undefined;
    let best: TenantEntry | undefined;
    for (const entry of tenants) {
      if (entry.tenant !== asking && !entry.tenant.hasReady()) continue;
      if (best === undefined || outranks(entry, best)) best = entry;
    }
    return best === undefined || best.tenant === asking ? undefined : best.tenant;
  }

  /** `tenant` took a slot: every other run with ready work was passed over once more. */
  took(tenant: Tenant): void {
    const tenants = this.entries;
    if (tenants.length < 2) return;
    for (const entry of tenants) {
      if (entry.tenant === tenant) entry.passed = 0;
      else if (entry.tenant.hasReady()) entry.passed++;
    }
  }

  /** Wakes every run using the shared pool, once, after the current step. */
  wakeAll(): void {
    if (this.#wakeQueued) return;
    this.#wakeQueued = true;
    queueMicrotask(() => {
      this.#wakeQueued = false;
      for (const entry of this.entries.slice()) entry.tenant.wake();
    });
  }
}

/** Which of two runs gets the next slot: a starving one, else the higher priority, else the one passed over more. */
function outranks(a: TenantEntry, b: TenantEntry): boolean {
  const starvingA = a.passed >= STARVATION_BOUND;
  const starvingB = b.passed >= STARVATION_BOUND;
  if (starvingA !== starvingB) return starvingA;
  if (starvingA) return a.passed > b.passed;
  if (a.tenant.priority !== b.tenant.priority) return a.tenant.priority > b.tenant.priority;
  return a.passed > b.passed;
}
