/**
 * One schedule: the test body run once under a fresh controlled runtime, with the invariants of
 * every run it starts and its own checks tested after each step, and the trace of every decision
 * kept whatever the outcome. explore() runs many of these; replay() one, following a trace.
 */
import { FlotillaError, describe } from "../errors.ts";
import { LABEL_FORMAT } from "../trace-labels.ts";
import { checkOptionsObject, invalidOption } from "../validation.ts";
import type { Runtime } from "../runtime.ts";
import { Controller, type StopReason } from "./controller.ts";
import type { Resolved } from "./explore-options.ts";
import { faultDecider } from "./faults.ts";
import { InvariantViolation, RunInvariants } from "./invariants.ts";
import { ScheduleFailure, TRACE_VERSION, recordFault, replayFaults, type ScheduleTrace } from "./schedule-failure.ts";
import { serviceModel, type ServiceModel, type ServiceOptions } from "./service-model.ts";
import type { Strategy } from "./strategies.ts";
import { seededRandom } from "./seeded-random.ts";
import type { UncontrolledWatch } from "./uncontrolled.ts";
import { KIT_ERROR_CODES } from "./vocabulary.ts";

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

export type ExploreBody = (t: ExploreContext) => unknown;

/** Replays never consult a strategy: the controller follows the trace's choices. */
export const REPLAY: Strategy = { name: "replay", begin: () => {}, pick: () => 0, end: () => true };

interface Check {
  readonly name: string;
  readonly check: () => unknown;
}

interface Eventually {
  readonly name: string;
  readonly check: () => boolean;
  readonly by: number;
  held: boolean;
}

/** Where a context keeps its controller, for the shared `step` getter (not enumerable, so not in `Object.keys(t)`). */
const CONTROLLER = Symbol("flotilla.testing.controller");

/**
 * `t.step`: one getter for every schedule. Built as an object literal with a getter, each context got
 * a new closure and with it a hidden class of its own, which V8 keeps in old space until a full
 * collection; through it every schedule (its controller, its run, everything) survived every
 * young-generation collection and was promoted, and scavenges cost several times as much.
 */
const STEP: PropertyDescriptor = {
  get(this: { readonly [CONTROLLER]: Controller }): number {
    return this[CONTROLLER].step;
  },
  enumerable: true,
  configurable: true,
};

/**
 * The ExploreContext of one schedule: an object literal (one hidden class for all of them; a class
 * instance built field by field in its constructor still kept each schedule alive through scavenges,
 * measured), whose `step` then becomes the shared accessor above, in its place among the keys.
 */
function scheduleContext(
  controller: Controller,
  s: { readonly iteration: number; readonly seed: number },
  o: Resolved,
  invariants: Check[],
  eventually: Eventually[],
): ExploreContext {
  const runtime = controller.runtime;
  const t: ExploreContext = {
    runtime,
    iteration: s.iteration,
    seed: s.seed,
    step: 0,
    random: runtime.random,
    invariant: (name, check) => {
      checkCheck("t.invariant", name, check);
      invariants.push({ name, check });
    },
    eventually: (name, check, options) => {
      checkCheck("t.eventually", name, check);
      const where = `t.eventually("${name}")`;
      if (options !== undefined) checkOptionsObject(where, options, ["withinSteps"]);
      const within = options?.withinSteps ?? o.maxSteps;
      if (!(Number.isInteger(within) && within >= 0)) throw invalidOption(where, "withinSteps", "an integer >= 0", within);
      eventually.push({ name, check, by: (Number.isFinite(o.faultsStopAfter) ? o.faultsStopAfter : 0) + within, held: false });
    },
    service: (name, options) => serviceModel(runtime, name, options),
  };
  Object.defineProperty(t, CONTROLLER, { value: controller });
  return Object.defineProperty(t, "step", STEP);
}

export interface Outcome {
  trace: ScheduleTrace;
  failure: ScheduleFailure | undefined;
  bounded: boolean;
}

/**
 * Runs `body` under one schedule: the strategy's (seeded by `s.seed`), or the one `s.replaying`
 * recorded. `watch` is the exploration's watch on what the runtime does not control (uncontrolled.ts).
 */
export async function runSchedule(
  body: ExploreBody,
  o: Resolved,
  s: { seed: number; exploreSeed: number | undefined; iteration: number; strategy: Strategy; replaying?: ScheduleTrace },
  watch: UncontrolledWatch,
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
  const invariants: Check[] = [];
  const eventually: Eventually[] = [];
  const t = scheduleContext(controller, s, o, invariants, eventually);

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

  watch.begin();
  let done = false;
  let bodyError: unknown;
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
    watch.end();
  }

  const trace: ScheduleTrace = {
    version: TRACE_VERSION,
    labelFormat: LABEL_FORMAT,
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
      new FlotillaError(
        KIT_ERROR_CODES.E_SCHEDULE_DIVERGED,
        `replay diverged: the test finished after ${controller.step} steps, but the trace has ${s.replaying.choices.length}; a trace replays only on the same code, job and options`,
      ),
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
  if (typeof name !== "string" || name.length === 0)
    throw new FlotillaError("E_INVALID_OPTION", `${where}(name, check): the name must be a non-empty string, received ${describe(name)}`);
  if (typeof check !== "function")
    throw new FlotillaError("E_INVALID_OPTION", `${where}("${name}", check): the check must be a function, received ${describe(check)}`);
}
