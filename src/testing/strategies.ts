/**
 * Scheduling strategies: which of the events that are ready at the same moment runs next. Each
 * strategy sees only how many events are ready and who they belong to (their actor: a task, a
 * service), and answers with an index; the controller records every answer, so any schedule can be
 * replayed by answering the same again.
 */
import { FlotillaError } from "../errors.ts";
import type { ClockEntry } from "./virtual-clock.ts";
import { KIT_ERROR_CODES } from "./vocabulary.ts";

/** "random": uniform among ready events; "pct": random priorities per actor with a few change
 * points; "exhaustive": every distinct schedule, depth first; "default": random and pct in turn. */
export type StrategyName = "random" | "pct" | "exhaustive" | "default";

/** Every strategy name; a recorded trace names one of them other than "default". */
export const STRATEGY_NAMES: readonly StrategyName[] = ["random", "pct", "exhaustive", "default"];

export interface Strategy {
  readonly name: Exclude<StrategyName, "default"> | "replay";
  /** Called at the start of each iteration with that iteration's random source. */
  begin(random: () => number): void;
  /**
   * Index of the event to run among the `count` ready ones, `ready[0 .. count)`; event k's actor is
   * its label (`complete load#1`, `timer 3`). A strategy may note things on the events (pct caches
   * the priority of each event's actor there) but must not change which are ready or their order.
   */
  pick(count: number, step: number, ready: readonly ClockEntry[]): number;
  /** Called at the end of each iteration with its step count; false means "nothing left to explore". */
  end(steps: number): boolean;
}

function randomStrategy(): Strategy {
  let random: () => number = () => 0; // replaced by the iteration's seeded source in begin()
  return {
    name: "random",
    begin: (r) => void (random = r),
    pick: (count) => (count === 1 ? 0 : Math.floor(random() * count)),
    end: () => true,
  };
}

/**
 * PCT (probabilistic concurrency testing): every actor gets a random priority; the ready event of
 * the highest-priority actor runs; at `depth - 1` random steps the running actor drops below all
 * others. It finds ordering bugs that need a few specific preemptions with good probability.
 */
function pctStrategy(depth = 3): Strategy {
  let random: () => number = () => 0;
  // The priority of each actor (label) seen in this iteration. Labels recur from one iteration to the
  // next (the same job has the same tasks), so they keep their slot across iterations and a slot's
  // priority counts only if it was drawn in this one (`drawnIn`): no map to empty and refill each time.
  const slots = new Map<string, number>();
  let priority = new Float64Array(256);
  let drawnIn = new Int32Array(256);
  let iteration = 0;
  let changeAt: number[] = [];
  let lowered = 0;
  let expectedSteps = 50; // learnt from the previous iteration's length
  // Each event also caches its actor's priority (ClockEntry.priority) with the epoch it was read in;
  // the epoch moves on at each iteration and each priority change, so a cached value is always
  // current, and each event's label is looked up once instead of once per step it waits.
  let epoch = 0;
  const priorityOf = (label: string): number => {
    let slot = slots.get(label);
    if (slot === undefined) {
      slot = slots.size;
      slots.set(label, slot);
      if (slot === priority.length) {
        const grown = new Float64Array(slot * 2);
        grown.set(priority);
        priority = grown;
        const drawn = new Int32Array(slot * 2);
        drawn.set(drawnIn);
        drawnIn = drawn;
      }
    }
    // A new actor draws its priority when first seen, as it always has (same draws, same order).
    if (drawnIn[slot] !== iteration) {
      drawnIn[slot] = iteration;
      priority[slot] = 1 + random();
    }
    return priority[slot]!;
  };
  return {
    name: "pct",
    begin(r) {
      random = r;
      // (Labels that never recur, e.g. ones carrying an iteration number, would grow the map forever.)
      if (slots.size > 1 << 16) {
        slots.clear();
        drawnIn.fill(0);
      }
      iteration++;
      epoch++;
      lowered = 0;
      changeAt = Array.from({ length: Math.max(0, depth - 1) }, () => Math.floor(random() * expectedSteps));
    },
    pick(count, step, ready) {
      const change = changeAt.includes(step);
      if (count === 1 && !change) return 0;
      let best = 0;
      let bestPriority = -Infinity;
      for (let k = 0; k < count; k++) {
        const event = ready[k]!;
        let p: number;
        if (event.priorityEpoch === epoch) p = event.priority;
        else {
          p = event.priority = priorityOf(event.label);
          event.priorityEpoch = epoch;
        }
        if (p > bestPriority) {
          best = k;
          bestPriority = p;
        }
      }
      if (change) {
        // The running actor drops below every other (its slot was just read, so it is this iteration's).
        priority[slots.get(ready[best]!.label)!] = -++lowered;
        epoch++;
      }
      return best;
    },
    end(steps) {
      expectedSteps = Math.max(1, steps);
      return true;
    },
  };
}

/**
 * Depth-first enumeration of every distinct schedule: the first iteration always takes event 0;
 * each next one changes the deepest choice that still has an untried alternative. The program
 * must be deterministic given its choices (it is, under the controlled runtime).
 */
export function exhaustiveStrategy(): Strategy & { readonly explored: number; readonly complete: boolean } {
  const choices: number[] = [];
  const counts: number[] = [];
  let explored = 0;
  let complete = false;
  return {
    name: "exhaustive",
    get explored() {
      return explored;
    },
    get complete() {
      return complete;
    },
    begin: () => {},
    pick(count, step) {
      if (step < choices.length) {
        if (counts[step] !== count) {
          throw new FlotillaError(
            KIT_ERROR_CODES.E_SCHEDULE_DIVERGED,
            `exhaustive exploration: step ${step} had ${counts[step]} ready events before and ${count} now; the test is not deterministic under the controlled runtime (does it use real time, real I/O or an unseeded random source?)`,
          );
        }
        return choices[step]!;
      }
      choices.push(0);
      counts.push(count);
      return 0;
    },
    end(steps) {
      explored++;
      choices.length = counts.length = Math.min(choices.length, steps);
      while (choices.length > 0 && choices[choices.length - 1]! + 1 >= counts[counts.length - 1]!) {
        choices.pop();
        counts.pop();
      }
      if (choices.length === 0) {
        complete = true;
        return false;
      }
      choices[choices.length - 1]!++;
      return true;
    },
  };
}

export function strategyFor(name: Exclude<StrategyName, "default">, pctDepth: number): Strategy {
  if (name === "random") return randomStrategy();
  if (name === "pct") return pctStrategy(pctDepth);
  return exhaustiveStrategy();
}
