/**
 * A runtime with a virtual clock: time stands still while anything can still run, and jumps to the
 * next timer only when the program is idle (one real macrotask has passed since the last timer fired,
 * so every promise callback queued by it has run). A job that waits for hours of backoff and timeouts
 * finishes in milliseconds, the same way every time. Randomness comes from a seed.
 *
 * This is the clock the controlled scheduler of `flotilla/testing` builds on; on its own it is what a
 * test needs to check timeouts, backoff and grace periods without sleeping.
 *
 * Because time jumps as soon as the program is idle, a body should wait only on this runtime's
 * timers (`ctx.sleep`, `setTimer`) and on promises that settle without real time passing. While a
 * body awaits real I/O (a file, the network, a real timer) the program looks idle, virtual time races
 * ahead, and the attempt's `timeoutMs` fires at once: test such bodies with the real runtime.
 */
import { macrotask } from "./macrotask.ts";
import { seededRandom } from "./seeded-random.ts";
import type { FaultAction, FaultContext, FaultPoint, Runtime, TimerHandle } from "../runtime.ts";

export interface VirtualRuntimeOptions {
  /** Seed of `random()`. @default 1 */
  readonly seed?: number;
  /** Clock value at creation. @default 0 */
  readonly startAt?: number;
  /** Consulted at every fault point (see `Runtime.fault`). @default no faults */
  readonly fault?: (point: FaultPoint, context: FaultContext) => FaultAction | undefined | void;
}

export interface VirtualRuntime extends Runtime {
  /** Timers set and neither fired nor cleared: 0 after a run means the run left none behind. */
  readonly pendingTimers: number;
  /** How many timers have fired so far. */
  readonly firedTimers: number;
  /**
   * Resolves once no timer is pending and the program is idle: it runs every pending timer, so
   * `pendingTimers` is 0 after it by construction. To check that a run left no timer behind, read
   * `pendingTimers` right after its result, before awaiting anything else (this, above all).
   */
  idle(): Promise<void>;
}

interface VirtualTimer {
  readonly due: number;
  readonly seq: number;
  readonly callback: () => void;
}

/**
 * @example
 * const runtime = virtualRuntime({ seed: 7 });
 * const result = await run(job, { runtime });   // backoff and timeouts take no real time
 * assert.equal(runtime.pendingTimers, 0);
 */
export function virtualRuntime(options: VirtualRuntimeOptions = {}): VirtualRuntime {
  let now = options.startAt ?? 0;
  let seq = 0;
  let fired = 0;
  let ticking = false;
  const timers: VirtualTimer[] = [];
  const idleWaiters: (() => void)[] = [];
  const random = seededRandom(options.seed ?? 1);

  const tick = (): void => {
    if (timers.length === 0) {
      ticking = false;
      for (const wake of idleWaiters.splice(0)) wake();
      return;
    }
    let first = 0;
    for (let i = 1; i < timers.length; i++) {
      const t = timers[i]!;
      const f = timers[first]!;
      if (t.due < f.due || (t.due === f.due && t.seq < f.seq)) first = i;
    }
    const [timer] = timers.splice(first, 1);
    if (timer!.due > now) now = timer!.due;
    fired++;
    try {
      timer!.callback();
    } finally {
      void macrotask().then(tick);
    }
  };

  const ensureTicking = (): void => {
    if (ticking) return;
    ticking = true;
    void macrotask().then(tick);
  };

  const runtime: VirtualRuntime = {
    now: () => now,
    setTimer(ms: number, callback: () => void): TimerHandle {
      const timer: VirtualTimer = { due: now + Math.max(0, ms), seq: seq++, callback };
      timers.push(timer);
      ensureTicking();
      return timer;
    },
    clearTimer(handle: TimerHandle): void {
      const i = timers.indexOf(handle as VirtualTimer);
      if (i >= 0) timers.splice(i, 1);
    },
    random,
    get pendingTimers() {
      return timers.length;
    },
    get firedTimers() {
      return fired;
    },
    idle(): Promise<void> {
      return new Promise((resolve) => {
        idleWaiters.push(resolve);
        ensureTicking();
      });
    },
  };
  if (options.fault !== undefined) runtime.fault = options.fault;
  return runtime;
}
