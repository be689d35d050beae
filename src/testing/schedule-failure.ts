/**
 * What a failed schedule leaves behind: the seed, the strategy, the step, the cause, and a trace of
 * every decision that replays it exactly (`replay(test, failure)`, or the trace's JSON in
 * FLOTILLA_REPLAY). The readable form is one line per step, built only when a failure is shown.
 */
import { FlotillaError, describe, messageOf } from "../errors.ts";
import type { FaultAction, FaultContext, FaultPoint } from "../runtime.ts";
import { LABEL_FORMAT, faultSiteLabel } from "../trace-labels.ts";
import { ACTION_KINDS } from "./faults.ts";
import { STRATEGY_NAMES } from "./strategies.ts";
import { KIT_ERROR_CODES } from "./vocabulary.ts";

/** The trace format. 2 added `labelFormat`. */
export const TRACE_VERSION = 2;

/** A schedule's decisions, serialisable to JSON. */
export interface ScheduleTrace {
  readonly version: number;
  /**
   * The format of the labels and fault sites in it (`LABEL_FORMAT` of the flotilla that recorded
   * it): replay matches them against the events of the code it runs, so it refuses another format.
   */
  readonly labelFormat: number;
  /** Seed of the schedule itself (derived from the explore seed and the iteration). */
  readonly seed: number;
  /** Seed of the exploration the schedule was part of (FLOTILLA_SEED runs its schedules again). */
  readonly exploreSeed?: number;
  readonly iteration: number;
  readonly strategy: string;
  readonly maxSteps: number;
  /** Per step: index chosen among the ready events, how many were ready, the virtual time, the label chosen. */
  readonly choices: readonly number[];
  readonly counts: readonly number[];
  readonly times: readonly number[];
  readonly labels: readonly string[];
  /** Faults fired, in order; `replay` fires exactly these again. */
  readonly faults: readonly RecordedFault[];
}

/** A fault as recorded in a trace: where it fired and the action, with its details as text. */
export interface RecordedFault {
  readonly step: number;
  readonly point: FaultPoint;
  readonly where: string;
  readonly action: string;
  /** The error message (fail), reason (cancel) or delay in ms (delay), when there was one. */
  readonly detail?: string | number;
}

/** A schedule failed: explore rejects with this. */
export class ScheduleFailure extends FlotillaError {
  readonly seed: number;
  readonly iteration: number;
  readonly strategy: string;
  readonly step: number;
  readonly trace: ScheduleTrace;

  constructor(trace: ScheduleTrace, cause: unknown, what = "schedule failed") {
    const reason = messageOf(cause);
    const explored = trace.exploreSeed !== undefined ? `, explore seed ${trace.exploreSeed}` : "";
    const rerun =
      trace.exploreSeed !== undefined ? `  run its schedules again: explore(test, { seed: ${trace.exploreSeed} }) or FLOTILLA_SEED=${trace.exploreSeed}\n` : "";
    super(
      KIT_ERROR_CODES.E_SCHEDULE_FAILED,
      `${what} at step ${trace.choices.length} of iteration ${trace.iteration} (seed ${trace.seed}, strategy ${trace.strategy}${explored}): ${reason}\n` +
        rerun +
        `  replay it: await replay(test, failure), or rerun the test with FLOTILLA_REPLAY='${JSON.stringify(trace)}'\n` +
        formatTrace(trace, 30),
      { cause },
    );
    this.seed = trace.seed;
    this.iteration = trace.iteration;
    this.strategy = trace.strategy;
    this.step = trace.choices.length;
    this.trace = trace;
  }

  override get name(): string {
    return "ScheduleFailure";
  }
}

/** One line per step: virtual time, the chosen event out of how many were ready, faults fired. */
export function formatTrace(trace: ScheduleTrace, lastSteps = Infinity): string {
  const from = Math.max(0, trace.choices.length - lastSteps);
  const faultsAt = new Map<number, string[]>();
  for (const f of trace.faults) faultsAt.set(f.step, [...(faultsAt.get(f.step) ?? []), `${f.action} at ${f.point} (${f.where})`]);
  const lines = (faultsAt.get(0) ?? []).map((f) => `  before step 1  ⚡ ${f}`);
  if (from > 0) lines.push(`  … ${from} earlier steps`);
  for (let s = from; s < trace.choices.length; s++) {
    const choice = trace.counts[s]! > 1 ? ` [${trace.choices[s]! + 1} of ${trace.counts[s]} ready]` : "";
    const faults =
      faultsAt
        .get(s + 1)
        ?.map((f) => `  ⚡ ${f}`)
        .join("") ?? "";
    lines.push(`  step ${String(s + 1).padStart(4)}  t=${trace.times[s]}ms  ${trace.labels[s]}${choice}${faults}`);
  }
  return lines.join("\n");
}

/** Reads a trace given as a failure, a trace object or its JSON text, and checks every field of it. */
export function toTrace(from: ScheduleFailure | ScheduleTrace | string): ScheduleTrace {
  const expected = `replay: expected a ScheduleFailure, its trace, or the trace's JSON (version ${TRACE_VERSION})`;
  let trace: unknown;
  try {
    trace = typeof from === "string" ? JSON.parse(from) : from instanceof ScheduleFailure ? from.trace : from;
  } catch (error) {
    throw new FlotillaError("E_INVALID_OPTION", `${expected}; the text is not JSON: ${messageOf(error)}`, { cause: error });
  }
  if (typeof trace !== "object" || trace === null || Array.isArray(trace))
    throw new FlotillaError("E_INVALID_OPTION", `${expected}, received ${describe(trace)}`);
  checkTrace(trace as Record<string, unknown>);
  return trace as ScheduleTrace;
}

/**
 * A trace that could not have been recorded (edited by hand, cut short, from another tool) is refused
 * up front, naming the field, rather than replayed into a confusing divergence or a TypeError.
 */
function checkTrace(t: Record<string, unknown>): void {
  const check = (ok: boolean, field: string, expected: string, value: unknown, received = describe(value)): void => {
    if (!ok) throw new FlotillaError("E_INVALID_OPTION", `replay: the trace's "${field}" must be ${expected}, received ${received}`);
  };
  const isInt = (v: unknown, min: number): v is number => Number.isInteger(v) && (v as number) >= min;
  check(t.version === TRACE_VERSION, "version", `${TRACE_VERSION} (the trace format this version of flotilla reads)`, t.version);
  check(isInt(t.labelFormat, 1), "labelFormat", "an integer >= 1 (the format of its labels)", t.labelFormat);
  if (t.labelFormat !== LABEL_FORMAT) {
    const rerun = Number.isInteger(t.exploreSeed) ? ` (explore(test, { seed: ${String(t.exploreSeed)} }) or FLOTILLA_SEED=${String(t.exploreSeed)})` : "";
    throw new FlotillaError(
      "E_INVALID_OPTION",
      `replay: the trace was recorded by a flotilla whose trace labels differ from this one's (label format ${String(t.labelFormat)}; this flotilla's is ${LABEL_FORMAT}), ` +
        `so its steps cannot be matched to the events of this version. Run the exploration again${rerun} for a trace this version replays`,
    );
  }
  check(Number.isInteger(t.seed), "seed", "an integer", t.seed);
  check(isInt(t.iteration, 0), "iteration", "an integer >= 0", t.iteration);
  check(
    typeof t.strategy === "string" && t.strategy !== "default" && STRATEGY_NAMES.includes(t.strategy as never),
    "strategy",
    `"random", "pct" or "exhaustive"`,
    t.strategy,
  );
  check(isInt(t.maxSteps, 1), "maxSteps", "an integer >= 1", t.maxSteps);
  check(t.exploreSeed === undefined || Number.isInteger(t.exploreSeed), "exploreSeed", "an integer when given", t.exploreSeed);
  for (const field of ["choices", "counts", "times", "labels", "faults"]) check(Array.isArray(t[field]), field, "an array", t[field]);
  const [choices, counts, times, labels, faults] = [t.choices, t.counts, t.times, t.labels, t.faults] as unknown[][];
  const steps = choices!.length;
  check(steps <= (t.maxSteps as number), "choices", `at most maxSteps (${String(t.maxSteps)}) entries`, choices, `${steps}`);
  for (const [field, list] of [
    ["counts", counts],
    ["times", times],
    ["labels", labels],
  ] as const) {
    check(list!.length === steps, field, `as long as "choices" (${steps} entries)`, list, `${list!.length}`);
  }
  for (let s = 0; s < steps; s++) {
    check(isInt(counts![s], 1), `counts[${s}]`, "an integer >= 1 (events ready at that step)", counts![s]);
    check(
      isInt(choices![s], 0) && (choices![s] as number) < (counts![s] as number),
      `choices[${s}]`,
      `an integer from 0 to counts[${s}] - 1 (${(counts![s] as number) - 1})`,
      choices![s],
    );
    check(
      typeof times![s] === "number" && (times![s] as number) >= (s === 0 ? 0 : (times![s - 1] as number)),
      `times[${s}]`,
      s === 0 ? "a number >= 0" : `a number >= times[${s - 1}] (virtual time never goes back)`,
      times![s],
    );
    check(typeof labels![s] === "string", `labels[${s}]`, "a string", labels![s]);
  }
  faults!.forEach((f, i) => {
    check(typeof f === "object" && f !== null && !Array.isArray(f), `faults[${i}]`, "an object { step, point, where, action, detail? }", f);
    const r = f as Record<string, unknown>;
    check(isInt(r.step, 0) && (r.step as number) <= steps, `faults[${i}].step`, `an integer from 0 to ${steps}`, r.step);
    check(typeof r.point === "string" && r.point.length > 0, `faults[${i}].point`, "a fault point's name", r.point);
    check(typeof r.where === "string", `faults[${i}].where`, "a string", r.where);
    check(typeof r.action === "string" && ACTION_KINDS.includes(r.action), `faults[${i}].action`, `"fail", "timeout", "cancel" or "delay"`, r.action);
    check(
      r.detail === undefined || typeof r.detail === "string" || typeof r.detail === "number",
      `faults[${i}].detail`,
      "a string or a number when given",
      r.detail,
    );
  });
}

/** A fault as the trace records it: the action's details as text, and where it fired as the same text replay looks for. */
export function recordFault(step: number, point: FaultPoint, context: FaultContext, action: FaultAction): RecordedFault {
  const detail =
    action.kind === "delay"
      ? action.ms
      : action.kind === "fail" && action.error instanceof Error
        ? action.error.message
        : action.kind === "cancel" && action.reason !== undefined
          ? String(action.reason)
          : undefined;
  return { step, point, where: faultSiteLabel(context), action: action.kind, ...(detail !== undefined ? { detail } : {}) };
}

/** In a replay, faults fire exactly where the trace says they did (the plan's functions are not in it). */
export function replayFaults(trace: ScheduleTrace): (point: FaultPoint, context: FaultContext, step: number) => FaultAction | undefined {
  let next = 0;
  return (point, context, step) => {
    const f = trace.faults[next];
    if (f === undefined || f.step !== step || f.point !== point || f.where !== faultSiteLabel(context)) return undefined;
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
