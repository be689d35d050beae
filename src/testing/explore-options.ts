/**
 * explore()'s options: their types, defaults and bounds, and the one check that turns what a test
 * passed (and FLOTILLA_SEED / FLOTILLA_ITERATIONS) into the settings an exploration runs with.
 */
import { checkOptionsObject, invalidOption } from "../validation.ts";
import { realRuntime } from "../runtime.ts";
import { readEnv } from "./env.ts";
import { checkFaultPlan, type FaultPlan } from "./faults.ts";
import { STRATEGY_NAMES, type StrategyName } from "./strategies.ts";

export interface ExploreOptions {
  /** Schedules to try (exhaustive: the most to try). @default 100; env FLOTILLA_ITERATIONS overrides. */
  readonly iterations?: number;
  /**
   * Seed of the whole exploration; iteration i's seed derives from (seed, i). Env FLOTILLA_SEED
   * overrides it. @default a fresh random seed per explore() call, so every run of the suite tries
   * new schedules; it is in `report.seed` and in the message of every failure, to run them again.
   * @example { seed: 7 } // the same schedules on every run
   */
  readonly seed?: number;
  /** @default "default" (random and pct in turn) */
  readonly strategy?: StrategyName;
  /** Steps one schedule may take before it counts as not terminating. @default 10_000 */
  readonly maxSteps?: number;
  /** What reaching maxSteps means: a liveness failure, or a pass. @default "fail" */
  readonly onMaxSteps?: "fail" | "pass";
  /** Priority change points of the pct strategy, plus one. @default 3 */
  readonly pctDepth?: number;
  /** Fault rules by fault point. */
  readonly faults?: FaultPlan;
  /** Faults fire only in the first this many steps of a schedule; `eventually` checks count from there. @default Infinity */
  readonly faultsStopAfter?: number;
}

/** The options checked, with their defaults and the environment's overrides applied. */
export interface Resolved {
  readonly iterations: number;
  readonly seed: number;
  readonly strategy: StrategyName;
  readonly maxSteps: number;
  readonly onMaxSteps: "fail" | "pass";
  readonly pctDepth: number;
  readonly faults: ReturnType<typeof checkFaultPlan>;
  readonly faultsStopAfter: number;
}

const OPTION_NAMES = ["iterations", "seed", "strategy", "maxSteps", "onMaxSteps", "pctDepth", "faults", "faultsStopAfter"];

/** Checks explore()'s (or replay()'s) options once, up front: E_INVALID_OPTION naming the option otherwise. */
export function resolveOptions(options: ExploreOptions): Resolved {
  checkOptionsObject("explore", options, OPTION_NAMES);
  const envSeed = readEnv("FLOTILLA_SEED");
  const envIterations = readEnv("FLOTILLA_ITERATIONS");
  const iterations = envIterations !== undefined ? Number(envIterations) : (options.iterations ?? 100);
  const seed = envSeed !== undefined ? Number(envSeed) : (options.seed ?? freshSeed());
  const strategy = options.strategy ?? "default";
  const maxSteps = options.maxSteps ?? 10_000;
  const pctDepth = options.pctDepth ?? 3;
  const onMaxSteps = options.onMaxSteps ?? "fail";
  const faultsStopAfter = options.faultsStopAfter ?? Infinity;
  const check = (ok: boolean, name: string, expected: string, value: unknown) => {
    if (!ok) throw invalidOption("explore", name, expected, value);
  };
  check(Number.isInteger(iterations) && iterations >= 1, "iterations", "an integer >= 1 (FLOTILLA_ITERATIONS too)", iterations);
  check(Number.isInteger(seed), "seed", "an integer (FLOTILLA_SEED too)", seed);
  const names = STRATEGY_NAMES.map((n) => `"${n}"`);
  check(STRATEGY_NAMES.includes(strategy), "strategy", `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`, strategy);
  check(Number.isInteger(maxSteps) && maxSteps >= 1, "maxSteps", "an integer >= 1", maxSteps);
  check(Number.isInteger(pctDepth) && pctDepth >= 1, "pctDepth", "an integer >= 1", pctDepth);
  check(onMaxSteps === "fail" || onMaxSteps === "pass", "onMaxSteps", `"fail" or "pass"`, onMaxSteps);
  check(faultsStopAfter === Infinity || (Number.isInteger(faultsStopAfter) && faultsStopAfter >= 0), "faultsStopAfter", "an integer >= 0", faultsStopAfter);
  return { iterations, seed, strategy, maxSteps, onMaxSteps, pctDepth, faults: checkFaultPlan(options.faults), faultsStopAfter };
}

/**
 * A seed nobody chose, so that each run of a suite explores schedules the previous runs did not. The
 * real runtime's randomness is the kit's one way to it (src/ never calls Math.random itself); the
 * seed is reported, so the schedules it led to can be run again.
 */
function freshSeed(): number {
  return Math.floor(realRuntime.random() * 2 ** 32);
}
