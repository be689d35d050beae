/**
 * What a failed schedule leaves behind: the seed, the strategy, the step, the cause, and a trace of
 * every decision that replays it exactly (`replay(test, failure)`, or the trace's JSON in
 * FLOTILLA_REPLAY). The readable form is one line per step, built only when a failure is shown.
 */
import { FlotillaError, messageOf } from "../errors.ts";
import type { FaultPoint } from "../runtime.ts";

export const TRACE_VERSION = 1;

/** A schedule's decisions, serialisable to JSON. */
export interface ScheduleTrace {
  readonly version: number;
  /** Seed of the schedule itself (derived from the explore seed and the iteration). */
  readonly seed: number;
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
    super(
      "E_SCHEDULE_FAILED",
      `${what} at step ${trace.choices.length} of iteration ${trace.iteration} (seed ${trace.seed}, strategy ${trace.strategy}): ${reason}\n` +
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
    const faults = faultsAt.get(s + 1)?.map((f) => `  ⚡ ${f}`).join("") ?? "";
    lines.push(`  step ${String(s + 1).padStart(4)}  t=${trace.times[s]}ms  ${trace.labels[s]}${choice}${faults}`);
  }
  return lines.join("\n");
}

/** Reads a trace given as a failure, a trace object or its JSON text. */
export function toTrace(from: ScheduleFailure | ScheduleTrace | string): ScheduleTrace {
  const expected = `replay: expected a ScheduleFailure, its trace, or the trace's JSON (version ${TRACE_VERSION})`;
  let trace: ScheduleTrace;
  try {
    trace = typeof from === "string" ? (JSON.parse(from) as ScheduleTrace) : from instanceof ScheduleFailure ? from.trace : from;
  } catch (error) {
    throw new FlotillaError("E_INVALID_OPTION", `${expected}; the text is not JSON: ${messageOf(error)}`, { cause: error });
  }
  const arrays = ["choices", "counts", "times", "labels"] as const;
  if (
    trace?.version !== TRACE_VERSION ||
    !Array.isArray(trace.faults) ||
    arrays.some((k) => !Array.isArray(trace[k]) || trace[k].length !== trace.choices.length) ||
    !Number.isInteger(trace.seed) ||
    !Number.isInteger(trace.maxSteps)
  ) {
    throw new FlotillaError("E_INVALID_OPTION", expected);
  }
  return trace;
}
