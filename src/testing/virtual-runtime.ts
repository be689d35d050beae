/**
 * A runtime with a virtual clock: time stands still while anything can still run, and jumps to the
 * next timer only when the program is idle (one real macrotask has passed since the last timer fired,
 * so every promise callback queued by it has run). A job that waits for hours of backoff and timeouts
 * finishes in milliseconds, the same way every time. Randomness comes from a seed.
 *
 * Its clock is the one the controlled runtime of `explore()` uses too (virtual-clock.ts); on its own
 * it is what a test needs to check timeouts, backoff and grace periods without sleeping.
 *
 * Because time jumps as soon as the program is idle, a body should wait only on this runtime's
 * timers (`ctx.sleep`, `setTimer`) and on promises that settle without real time passing. While a
 * body awaits real I/O (a file, the network, a real timer) the program looks idle, virtual time races
 * ahead, and the attempt's `timeoutMs` fires at once: test such bodies with the real runtime.
 */
import { checkOptionsObject, invalidOption } from "../validation.ts";
import type { FaultAction, FaultContext, FaultPoint, Runtime, TimerHandle } from "../runtime.ts";
import { macrotask } from "./macrotask.ts";
import { seededRandom } from "./seeded-random.ts";
import { VirtualClock } from "./virtual-clock.ts";

export interface VirtualRuntimeOptions {
  /** Seed of `random()`: an integer. @default 1 */
  readonly seed?: number;
  /** Clock value at creation: a finite number of milliseconds. @default 0 */
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

const OPTION_NAMES = ["seed", "startAt", "fault"];

/**
 * @example
 * const runtime = virtualRuntime({ seed: 7 });
 * const result = await run(job, { runtime });   // backoff and timeouts take no real time
 * assert.equal(runtime.pendingTimers, 0);
 */
export function virtualRuntime(options: VirtualRuntimeOptions = {}): VirtualRuntime {
  checkOptionsObject("virtualRuntime", options, OPTION_NAMES);
  const { seed = 1, startAt = 0, fault } = options;
  if (!Number.isInteger(seed)) throw invalidOption("virtualRuntime", "seed", "an integer", seed);
  if (!Number.isFinite(startAt)) throw invalidOption("virtualRuntime", "startAt", "a finite number of milliseconds", startAt);
  if (fault !== undefined && typeof fault !== "function")
    throw invalidOption("virtualRuntime", "fault", "a function (point, context) => FaultAction | undefined", fault);
  const clock = new VirtualClock(startAt);
  let fired = 0;
  let ticking = false;
  const idleWaiters: (() => void)[] = [];

  // Fires the earliest timer once the program is idle, then waits for idle again; stops when none is left.
  const tick = (): void => {
    const timer = clock.takeNext();
    if (timer === undefined) {
      ticking = false;
      for (const wake of idleWaiters.splice(0)) wake();
      return;
    }
    fired++;
    try {
      timer.run();
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
    now: () => clock.now(),
    setTimer(ms: number, callback: () => void, label?: string): TimerHandle {
      const timer = clock.setTimer(ms, callback, label);
      ensureTicking();
      return timer;
    },
    clearTimer(handle: TimerHandle): void {
      clock.clearTimer(handle);
    },
    random: seededRandom(seed),
    get pendingTimers() {
      return clock.pending;
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
  if (fault !== undefined) runtime.fault = fault;
  return runtime;
}
