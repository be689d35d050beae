/**
 * A pool's accounting: node-seconds per priority (from each start request until its stop finished),
 * cost, busy and available slot-seconds, preemptions and failed starts. Integrals of piecewise-constant
 * counts, advanced on the pool's clock at every change, so any window (a run's life, the pool's) is the
 * difference of two readings.
 */
import type { PoolRunStats } from "./pool-stats.ts";
import type { Runtime } from "./runtime.ts";

/** The meter's integrals at one moment. */
export interface MeterReading {
  readonly at: number;
  readonly nodeMs: readonly [number, number];
  readonly slotMs: number;
  readonly busyMs: number;
  readonly preemptions: number;
  readonly startFailures: number;
}

export class PoolMeter {
  preemptions = 0;
  startFailures = 0;
  /** Most nodes counted at once over the pool's life. */
  peak = 0;
  /** Whether busy slots are measured (once a node of finite slots is up: unlimited slots have no utilisation). */
  metered = false;

  readonly #runtime: Runtime;
  readonly #rates: readonly [number, number];
  #at: number;
  readonly #alive: [number, number] = [0, 0];
  readonly #nodeMs: [number, number] = [0, 0];
  #slots = 0;
  #busy = 0;
  #slotMs = 0;
  #busyMs = 0;

  constructor(runtime: Runtime, costPerNodeHour: readonly [number, number]) {
    this.#runtime = runtime;
    this.#rates = costPerNodeHour;
    this.#at = runtime.now();
  }

  #advance(): void {
    const now = this.#runtime.now();
    const dt = now - this.#at;
    if (dt > 0) {
      this.#nodeMs[0] += this.#alive[0] * dt;
      this.#nodeMs[1] += this.#alive[1] * dt;
      this.#slotMs += this.#slots * dt;
      this.#busyMs += this.#busy * dt;
    }
    this.#at = now;
  }

  /** A node of priority `p` (0 dedicated, 1 low-priority) was asked for (+1), or its life ended (-1). */
  nodes(p: 0 | 1, delta: 1 | -1): void {
    this.#advance();
    this.#alive[p] += delta;
    this.peak = Math.max(this.peak, this.#alive[0] + this.#alive[1]);
  }

  /** Slots of nodes up changed by `delta` (unlimited slots are not measured). */
  slotsUp(delta: number): void {
    if (!Number.isFinite(delta)) return;
    this.#advance();
    this.#slots += delta;
    if (this.#slots > 0) this.metered = true; // for good: attempts on a node gone still give their slots back
  }

  /** Slots held by attempts changed by `delta`. */
  busy(delta: number): void {
    this.#advance();
    this.#busy += delta;
  }

  /** Nodes of priority `p` counted now (from their start request until their stop finished). */
  aliveOf(p: 0 | 1): number {
    return this.#alive[p];
  }

  /** Nodes counted now (from their start request until their stop finished). */
  get alive(): number {
    return this.#alive[0] + this.#alive[1];
  }

  read(): MeterReading {
    this.#advance();
    return {
      at: this.#at,
      nodeMs: [this.#nodeMs[0], this.#nodeMs[1]],
      slotMs: this.#slotMs,
      busyMs: this.#busyMs,
      preemptions: this.preemptions,
      startFailures: this.startFailures,
    };
  }

  /** Cost so far. */
  cost(): number {
    this.#advance();
    return costOf(this.#nodeMs, this.#rates);
  }

  /** What happened since `from` (or since the pool was made). */
  since(from: MeterReading | undefined, peakNodes: number): PoolRunStats {
    const now = this.read();
    const nodeMs: [number, number] = [now.nodeMs[0] - (from?.nodeMs[0] ?? 0), now.nodeMs[1] - (from?.nodeMs[1] ?? 0)];
    const slotMs = now.slotMs - (from?.slotMs ?? 0);
    const busyMs = now.busyMs - (from?.busyMs ?? 0);
    return {
      peakNodes,
      nodeSeconds: (nodeMs[0] + nodeMs[1]) / 1000,
      cost: costOf(nodeMs, this.#rates),
      preemptions: now.preemptions - (from?.preemptions ?? 0),
      startFailures: now.startFailures - (from?.startFailures ?? 0),
      utilization: slotMs > 0 ? busyMs / slotMs : 0,
    };
  }
}

function costOf(nodeMs: readonly [number, number], rates: readonly [number, number]): number {
  return (nodeMs[0] * rates[0] + nodeMs[1] * rates[1]) / 3_600_000;
}
