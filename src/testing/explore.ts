/**
 * explore() and replay(): run a test body many times under the controlled runtime, each time with a
 * different schedule (and fault decisions), check the built-in invariants and the test's own
 * assertions after every step, and turn the first failure into a ScheduleFailure that replays it.
 */
import { FlotillaError, describe } from "../errors.ts";
import { checkKnownKeys } from "../validation.ts";
import { realRuntime, type FaultAction, type FaultContext, type FaultPoint, type Runtime } from "../runtime.ts";
import { Controller, type StopReason } from "./controller.ts";
import { readEnv } from "./env.ts";
import { checkFaultPlan, faultDecider, type FaultPlan } from "./faults.ts";
import { InvariantViolation, RunInvariants } from "./invariants.ts";
import { ScheduleFailure, TRACE_VERSION, toTrace, type RecordedFault, type ScheduleTrace } from "./schedule-failure.ts";
import { serviceModel, type ServiceModel, type ServiceOptions } from "./service-model.ts";
import { STRATEGY_NAMES, exhaustiveStrategy, strategyFor, type Strategy, type StrategyName } from "./strategies.ts";
import { seededRandom } from "./seeded-random.ts";
import { watchUncontrolled } from "./uncontrolled.ts";

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

/** What the test body gets in each schedule. */
export interface ExploreContext {
  /** Pass it to `run`/`start` (and to your own models): the controlled runtime of this schedule. */
  readonly runtime: Runtime;
  readonly iteration: number;
  /** This schedule's seed. */
  readonly seed: number;
  /** Steps taken so far. */
  readonly step: number;
  /** A number in [0, 1) from this schedule's seed. */
  random(): number;
  /** A check run after every step; throw (or return false) to fail the schedule. */
  invariant(name: string, check: () => unknown): void;
  /** Must hold by `withinSteps` steps after faults stop (faultsStopAfter), and by the end of the test. */
  eventually(name: string, check: () => boolean, options?: { withinSteps?: number }): void;
  /** A model of an external service whose calls are scheduling points. */
  service(name: string, options?: ServiceOptions): ServiceModel;
}

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

export type ExploreBody = (t: ExploreContext) => unknown;

interface Resolved {
  iterations: number;
  seed: number;
  strategy: StrategyName;
  maxSteps: number;
  onMaxSteps: "fail" | "pass";
  pctDepth: number;
  faults: ReturnType<typeof checkFaultPlan>;
  faultsStopAfter: number;
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
  const o = resolve(options);
  const replayJson = readEnv("FLOTILLA_REPLAY");
  if (replayJson !== undefined) {
    const trace = toTrace(replayJson);
    await exclusively("explore", () => replayTrace(body, trace, o));
    return report(o, [], [], {}, 0, 0, 0);
  }
  return exclusively("explore", () => exploreAll(body, o));
}

async function exploreAll(body: ExploreBody, o: Resolved): Promise<ExploreReport> {
  const started = realRuntime.now();
  const stepCounts: number[] = [];
  const seeds: number[] = [];
  const faultsFired: Record<string, number> = {};
  let hash = 0x811c9dc5;
  let bounded = 0;
  const exhaustive = o.strategy === "exhaustive" ? exhaustiveStrategy() : undefined;
  const strategies: Strategy[] =
    exhaustive !== undefined ? [exhaustive] : o.strategy === "default" ? [strategyFor("random", o.pctDepth), strategyFor("pct", o.pctDepth)] : [strategyFor(o.strategy, o.pctDepth)];
  for (let i = 0; i < o.iterations; i++) {
    // Exhaustive search needs the program to behave the same given the same choices, so every
    // schedule gets the same seed (the same random numbers); the others get a seed each.
    const seed = iterationSeed(o.seed, exhaustive !== undefined ? 0 : i);
    const strategy = strategies[i % strategies.length]!;
    seeds.push(seed);
    const outcome = await runSchedule(body, o, { seed, exploreSeed: o.seed, iteration: i, strategy });
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
  const o = resolve(options);
  await exclusively("replay", () => replayTrace(body, trace, o));
}

async function replayTrace(body: ExploreBody, trace: ScheduleTrace, o: Resolved): Promise<void> {
  const outcome = await runSchedule(
    body,
    { ...o, maxSteps: trace.maxSteps },
    { seed: trace.seed, exploreSeed: trace.exploreSeed, iteration: trace.iteration, strategy: REPLAY, replaying: trace },
  );
  if (outcome.failure !== undefined) throw outcome.failure;
}

// Which exploration (or replay) is running, kept on globalThis so that two copies of the library in
// one process (a test importing both the source and the build) see each other too.
const RUNNING = Symbol.for("flotilla.testing.running");

/**
 * Runs `work` unless an exploration or a replay is already running. Each schedule patches
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
        `Each schedule patches process-wide globals (the real timer functions, the unhandled-rejection listeners), so explorations cannot overlap: ` +
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

/** Where a fault fired, as text: the same text identifies the same place in a replay. */
function whereOf(context: FaultContext): string {
  return [context.taskId && `task ${context.taskId}`, context.attempt && `attempt ${context.attempt}`, context.detail].filter(Boolean).join(", ");
}

function recordFault(step: number, point: FaultPoint, context: FaultContext, action: FaultAction): RecordedFault {
  const detail =
    action.kind === "delay" ? action.ms : action.kind === "fail" && action.error instanceof Error ? action.error.message : action.kind === "cancel" && action.reason !== undefined ? String(action.reason) : undefined;
  return { step, point, where: whereOf(context), action: action.kind, ...(detail !== undefined ? { detail } : {}) };
}

/** In a replay, faults fire exactly where the trace says they did (the plan's functions are not in it). */
function replayFaults(trace: ScheduleTrace): (point: FaultPoint, context: FaultContext, step: number) => FaultAction | undefined {
  let next = 0;
  return (point, context, step) => {
    const f = trace.faults[next];
    if (f === undefined || f.step !== step || f.point !== point || f.where !== whereOf(context)) return undefined;
    next++;
    switch (f.action) {
      case "delay":
        return { kind: "delay", ms: Number(f.detail ?? 0) };
      case "cancel":
        return { kind: "cancel", reason: f.detail };
      case "timeout":
        return { kind: "timeout" };
      default:
        return f.detail !== undefined ? { kind: "fail", error: new Error(String(f.detail)) } : { kind: "fail" };
    }
  };
}

/** Replays never consult a strategy: the controller follows the trace's choices. */
const REPLAY: Strategy = { name: "replay", begin: () => {}, pick: () => 0, end: () => true };

interface Outcome {
  trace: ScheduleTrace;
  failure: ScheduleFailure | undefined;
  bounded: boolean;
}

async function runSchedule(
  body: ExploreBody,
  o: Resolved,
  s: { seed: number; exploreSeed: number | undefined; iteration: number; strategy: Strategy; replaying?: ScheduleTrace },
): Promise<Outcome> {
  // Three streams: the strategy's, the fault decisions' and the program's (runtime.random), so a
  // replay, which asks no strategy, still draws the same faults and hands the program the same numbers.
  s.strategy.begin(seededRandom(s.seed ^ 0x5bd1e995));
  const faultRandom = seededRandom(s.seed ^ 0x2545f491);
  const runs: RunInvariants[] = [];
  const controller = new Controller({
    observe: (run) => void runs.push(new RunInvariants(run)),
    strategy: s.strategy,
    random: seededRandom(s.seed),
    fault: s.replaying !== undefined ? replayFaults(s.replaying) : faultDecider(o.faults, faultRandom, o.faultsStopAfter),
    ...(s.replaying !== undefined ? { replay: s.replaying } : {}),
  });
  const invariants: { name: string; check: () => unknown }[] = [];
  const eventually: { name: string; check: () => boolean; by: number; held: boolean }[] = [];
  const t: ExploreContext = {
    runtime: controller.runtime,
    iteration: s.iteration,
    seed: s.seed,
    get step() {
      return controller.step;
    },
    random: controller.runtime.random,
    invariant: (name, check) => {
      checkCheck("t.invariant", name, check);
      invariants.push({ name, check });
    },
    eventually: (name, check, options) => {
      checkCheck("t.eventually", name, check);
      const within = options?.withinSteps ?? o.maxSteps;
      if (!(Number.isInteger(within) && within >= 0)) {
        throw new FlotillaError("E_INVALID_OPTION", `t.eventually("${name}"): option "withinSteps" must be an integer >= 0, received ${describe(within)}`);
      }
      eventually.push({ name, check, by: (Number.isFinite(o.faultsStopAfter) ? o.faultsStopAfter : 0) + within, held: false });
    },
    service: (name, options) => serviceModel(controller.runtime, name, options),
  };

  const afterStep = (): void => {
    for (const run of runs) run.check();
    for (const inv of invariants) {
      if (inv.check() === false) throw new InvariantViolation(`invariant "${inv.name}" does not hold`);
    }
    for (const e of eventually) {
      if (!e.held && e.check()) e.held = true;
      if (!e.held && controller.step > e.by) throw new InvariantViolation(`liveness: "${e.name}" did not hold within ${e.by} steps`);
    }
  };

  const watch = watchUncontrolled();
  let done = false;
  let bodyError: unknown = undefined;
  let bodyFailed = false;
  let stop: StopReason | undefined;
  try {
    Promise.resolve()
      .then(() => body(t))
      .then(
        () => void (done = true),
        (error: unknown) => {
          bodyFailed = true;
          bodyError = error;
          done = true;
        },
      );
    stop = await controller.drive(() => done || watch.escaped() !== undefined || watch.rejection() !== undefined, o.maxSteps, afterStep);
  } finally {
    watch.restore();
  }

  const trace: ScheduleTrace = {
    version: TRACE_VERSION,
    seed: s.seed,
    ...(s.exploreSeed !== undefined ? { exploreSeed: s.exploreSeed } : {}),
    iteration: s.iteration,
    strategy: s.replaying?.strategy ?? s.strategy.name,
    maxSteps: o.maxSteps,
    choices: controller.choices,
    counts: controller.counts,
    times: controller.times,
    labels: controller.labels,
    faults: controller.faults.map((f) => recordFault(f.step, f.point, f.context, f.action)),
  };
  const fail = (cause: unknown, what?: string): Outcome => ({ trace, failure: new ScheduleFailure(trace, cause, what), bounded: false });

  const escaped = watch.escaped();
  if (escaped !== undefined) return fail(escaped);
  const rejection = watch.rejection();
  if (rejection !== undefined) return fail(rejection, "unhandled rejection");
  if (stop?.kind === "error") return fail(stop.error);
  if (stop?.kind === "maxSteps") {
    if (o.onMaxSteps === "pass") return { trace, failure: undefined, bounded: true };
    return fail(new InvariantViolation(`the test had not finished after maxSteps (${o.maxSteps}) steps: a livelock, or raise maxSteps`), "liveness");
  }
  if (stop?.kind === "stuck") return fail(new InvariantViolation(stuckMessage(runs)), "stuck");
  if (bodyFailed) return fail(bodyError);
  if (s.replaying !== undefined && controller.step < s.replaying.choices.length) {
    return fail(
      new FlotillaError("E_SCHEDULE_DIVERGED", `replay diverged: the test finished after ${controller.step} steps, but the trace has ${s.replaying.choices.length}; a trace replays only on the same code, job and options`),
    );
  }
  try {
    for (const run of runs) run.finish();
    for (const e of eventually) if (!e.held && !e.check()) throw new InvariantViolation(`liveness: "${e.name}" never held`);
    const left = controller.pendingTimerLabels();
    if (left.length > 0) throw new InvariantViolation(`left behind when the test ended: ${left.join(", ")}`);
  } catch (error) {
    return fail(error);
  }
  return { trace, failure: undefined, bounded: false };
}

/**
 * Why a schedule cannot go on, for a test that waits while nothing the runtime controls is pending:
 * what each unsettled run still waits for, the likely causes, and what to do instead.
 */
function stuckMessage(runs: readonly RunInvariants[]): string {
  const waiting = runs.map((run) => run.waitingFor()).filter((w) => w !== undefined);
  return (
    `the test has not finished, but nothing the runtime controls is pending (no timer, no task completion, no service call), so the schedule cannot go on. ` +
    (waiting.length > 0 ? `Still unfinished: ${waiting.join("; ")}. ` : `No run is in progress: the test body itself is waiting. `) +
    `It waits on work the runtime does not control — real I/O (fs, fetch, a database client), a real timer, a promise from outside the run — ` +
    `or on something that never happens (a deadlock, e.g. a task waiting for its own dependent). ` +
    `Under explore(), what a body waits on must go through t.runtime: ctx.sleep for delays, t.service(name).call(op, effect) for I/O, with simulated latency; ` +
    `test code that needs real I/O with the real runtime (no runtime option) instead`
  );
}

function checkCheck(where: string, name: unknown, check: unknown): void {
  if (typeof name !== "string" || name.length === 0) throw new FlotillaError("E_INVALID_OPTION", `${where}(name, check): the name must be a non-empty string, received ${describe(name)}`);
  if (typeof check !== "function") throw new FlotillaError("E_INVALID_OPTION", `${where}("${name}", check): the check must be a function, received ${describe(check)}`);
}

function checkBody(name: string, body: unknown): void {
  if (typeof body !== "function") throw new FlotillaError("E_INVALID_OPTION", `${name}(test, …): the test must be a function (t) => …, received ${describe(body)}`);
}

const OPTION_NAMES = ["iterations", "seed", "strategy", "maxSteps", "onMaxSteps", "pctDepth", "faults", "faultsStopAfter"];

function resolve(options: ExploreOptions): Resolved {
  if (typeof options !== "object" || options === null) throw new FlotillaError("E_INVALID_OPTION", `explore: options must be an object, received ${describe(options)}`);
  checkKnownKeys("explore", options, OPTION_NAMES);
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
    if (!ok) throw new FlotillaError("E_INVALID_OPTION", `explore: option "${name}" must be ${expected}, received ${describe(value)}`);
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
