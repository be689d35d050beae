/**
 * explore() and replay(): run a test body many times under the controlled runtime, each time with a
 * different schedule (and fault decisions), check the built-in invariants and the test's own
 * assertions after every step, and turn the first failure into a ScheduleFailure that replays it.
 * One schedule is schedule.ts; the options are explore-options.ts; traces are schedule-failure.ts.
 */
import { FlotillaError, describe } from "../errors.ts";
import { realRuntime } from "../runtime.ts";
import { readEnv } from "./env.ts";
import { resolveOptions, type ExploreOptions, type Resolved } from "./explore-options.ts";
import { type ScheduleFailure, toTrace, type ScheduleTrace } from "./schedule-failure.ts";
import { REPLAY, runSchedule, type ExploreBody } from "./schedule.ts";
import { exhaustiveStrategy, strategyFor, type Strategy, type StrategyName } from "./strategies.ts";
import { type UncontrolledWatch, watchUncontrolled } from "./uncontrolled.ts";

export type { ExploreOptions } from "./explore-options.ts";
export type { ExploreBody, ExploreContext } from "./schedule.ts";

export interface ExploreReport {
  readonly iterations: number;
  /** The exploration's seed: the `seed` option, FLOTILLA_SEED, or the one drawn for this call. */
  readonly seed: number;
  /** The seed of each schedule run, in order (pass one to FLOTILLA_REPLAY's trace, or compare runs). */
  readonly seeds: readonly number[];
  readonly strategy: StrategyName;
  /** Steps per schedule. */
  readonly steps: { readonly min: number; readonly median: number; readonly max: number };
  readonly durationMs: number;
  /** Faults fired, by fault point. */
  readonly faultsFired: Readonly<Record<string, number>>;
  /** Schedules that reached maxSteps (with onMaxSteps: "pass"). */
  readonly boundedSchedules: number;
  /** A hash of every decision made; the same seed gives the same hash. */
  readonly decisionHash: string;
  /** Exhaustive strategy only: distinct schedules run, and whether that was all of them. */
  readonly schedules?: { readonly explored: number; readonly complete: boolean };
}

/**
 * Runs `body` under many schedules. Resolves with a report when all pass; rejects with a
 * ScheduleFailure (seed, iteration, strategy, step, cause, trace) at the first that fails.
 *
 * @example
 * await explore(async (t) => {
 *   const result = await run(job, { runtime: t.runtime, concurrency: 4 });
 *   assert.equal(result.status, "succeeded");
 * }, { iterations: 500, seed: 7, strategy: "pct" });
 */
export async function explore(body: ExploreBody, options: ExploreOptions = {}): Promise<ExploreReport> {
  checkBody("explore", body);
  const o = resolveOptions(options);
  const replayJson = readEnv("FLOTILLA_REPLAY");
  if (replayJson !== undefined) {
    const trace = toTrace(replayJson);
    await exclusively("explore", () => replayTrace(body, trace, o));
    return report(o, [], [], {}, 0, 0, 0);
  }
  return exclusively("explore", () => watching((watch) => exploreAll(body, o, watch)));
}

async function exploreAll(body: ExploreBody, o: Resolved, watch: UncontrolledWatch): Promise<ExploreReport> {
  const started = realRuntime.now();
  const stepCounts: number[] = [];
  const seeds: number[] = [];
  const faultsFired: Record<string, number> = {};
  let hash = 0x811c9dc5;
  let bounded = 0;
  const exhaustive = o.strategy === "exhaustive" ? exhaustiveStrategy() : undefined;
  const strategies: Strategy[] =
    exhaustive !== undefined
      ? [exhaustive]
      : o.strategy === "default"
        ? [strategyFor("random", o.pctDepth), strategyFor("pct", o.pctDepth)]
        : [strategyFor(o.strategy, o.pctDepth)];
  for (let i = 0; i < o.iterations; i++) {
    // Exhaustive search needs the program to behave the same given the same choices, so every
    // schedule gets the same seed (the same random numbers); the others get a seed each.
    const seed = iterationSeed(o.seed, exhaustive !== undefined ? 0 : i);
    const strategy = strategies[i % strategies.length]!;
    seeds.push(seed);
    const outcome = await runSchedule(body, o, { seed, exploreSeed: o.seed, iteration: i, strategy }, watch);
    stepCounts.push(outcome.trace.choices.length);
    for (const f of outcome.trace.faults) faultsFired[f.point] = (faultsFired[f.point] ?? 0) + 1;
    for (let s = 0; s < outcome.trace.choices.length; s++) hash = Math.imul(hash ^ (outcome.trace.choices[s]! * 31 + outcome.trace.counts[s]!), 0x01000193);
    if (outcome.bounded) bounded++;
    if (outcome.failure !== undefined) throw outcome.failure;
    if (!strategy.end(outcome.trace.choices.length)) break; // only exhaustive ever runs out
  }
  return report(o, seeds, stepCounts, faultsFired, bounded, realRuntime.now() - started, hash, exhaustive);
}

/**
 * Runs `body` once more under the schedule a failure recorded, and throws what it throws: the same
 * ScheduleFailure at the same step, or an E_SCHEDULE_DIVERGED error naming the first step where the
 * ready events differ (the trace replays only on the same code and configuration).
 */
export async function replay(body: ExploreBody, failure: ScheduleFailure | ScheduleTrace | string, options: ExploreOptions = {}): Promise<void> {
  checkBody("replay", body);
  const trace = toTrace(failure);
  const o = resolveOptions(options);
  await exclusively("replay", () => replayTrace(body, trace, o));
}

async function replayTrace(body: ExploreBody, trace: ScheduleTrace, o: Resolved): Promise<void> {
  const outcome = await watching((watch) =>
    runSchedule(
      body,
      { ...o, maxSteps: trace.maxSteps },
      { seed: trace.seed, exploreSeed: trace.exploreSeed, iteration: trace.iteration, strategy: REPLAY, replaying: trace },
      watch,
    ),
  );
  if (outcome.failure !== undefined) throw outcome.failure;
}

/** Runs `work` with the globals patched to watch what the runtime does not control (uncontrolled.ts), and puts them back after. */
async function watching<T>(work: (watch: UncontrolledWatch) => Promise<T>): Promise<T> {
  const watch = watchUncontrolled();
  try {
    return await work(watch);
  } finally {
    watch.restore();
  }
}

// Which exploration (or replay) is running, kept on globalThis so that two copies of the library in
// one process (a test importing both the source and the build) see each other too.
const RUNNING = Symbol.for("flotilla.testing.running");

/**
 * Runs `work` unless an exploration or a replay is already running. Each exploration patches
 * process-wide globals (the real timer functions, the unhandled-rejection listeners) and the
 * kit cannot tell which exploration a real timer or a rejection belongs to, so two explorations
 * cannot overlap: the second is refused before it touches anything, and the first goes on unharmed.
 */
async function exclusively<T>(name: "explore" | "replay", work: () => Promise<T>): Promise<T> {
  const g = globalThis as { [RUNNING]?: string };
  const running = g[RUNNING];
  if (running !== undefined) {
    throw new FlotillaError(
      "E_INVALID_OPTION",
      `${name}(): ${running}() is already running: await it before starting another explore() or replay(). ` +
        `Each exploration patches process-wide globals (the real timer functions, the unhandled-rejection listeners) while it runs, so explorations cannot overlap: ` +
        `do not run tests that call explore() concurrently (describe({ concurrency: true }), test.concurrent, Promise.all), nor call it from inside an explored test`,
    );
  }
  g[RUNNING] = name;
  try {
    return await work();
  } finally {
    delete g[RUNNING];
  }
}

function checkBody(name: string, body: unknown): void {
  if (typeof body !== "function")
    throw new FlotillaError("E_INVALID_OPTION", `${name}(test, …): the test must be a function (t) => …, received ${describe(body)}`);
}

/** Iteration i's seed: a mix of the exploration seed and i (splitmix32), so neighbouring seeds differ fully. */
function iterationSeed(seed: number, i: number): number {
  let z = (Math.imul(seed, 0x9e3779b1) + Math.imul(i + 1, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

function report(
  o: Resolved,
  seeds: number[],
  steps: number[],
  faultsFired: Record<string, number>,
  bounded: number,
  durationMs: number,
  hash: number,
  exhaustive?: { explored: number; complete: boolean },
): ExploreReport {
  const sorted = [...steps].sort((a, b) => a - b);
  return {
    iterations: steps.length,
    seed: o.seed,
    seeds,
    strategy: o.strategy,
    steps: { min: sorted[0] ?? 0, median: sorted[sorted.length >> 1] ?? 0, max: sorted[sorted.length - 1] ?? 0 },
    durationMs,
    faultsFired,
    boundedSchedules: bounded,
    decisionHash: (hash >>> 0).toString(16).padStart(8, "0"),
    ...(exhaustive !== undefined ? { schedules: { explored: exhaustive.explored, complete: exhaustive.complete } } : {}),
  };
}
