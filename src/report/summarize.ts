/**
 * A run's summary as plain data (numbers, strings, arrays): what the command line prints at the end of a
 * run and what the HTML report shows above its timeline.
 */
import { FlotillaError, describe } from "../errors.ts";
import { ATTEMPT_OUTCOMES, type AttemptOutcome, type ChromeTrace } from "../trace/chrome-trace.ts";
import { type CriticalPath, criticalPathOf, roundMs } from "./critical-path.ts";
import { readTrace, type TraceModel } from "./trace-model.ts";

export interface SummarizeOptions {
  /** How many of the slowest tasks to list. @default 5. Bounds: integer >= 0. */
  readonly slowest?: number;
}

export interface RunSummary {
  readonly job: string;
  /** "succeeded", "failed", "cancelled", or "running" for a trace taken mid-run. */
  readonly status: string;
  /** From the run's start to its end. */
  readonly makespanMs: number;
  /** Tasks by final state; `unfinished` counts those still pending or running in a trace taken mid-run. */
  readonly tasks: {
    readonly total: number;
    readonly succeeded: number;
    readonly failed: number;
    readonly cancelled: number;
    readonly skipped: number;
    /** Of the succeeded: restored from a journal, not run again. */
    readonly restored: number;
    readonly unfinished: number;
  };
  /** Attempts by how they ended. */
  readonly attempts: { readonly total: number } & { readonly [K in AttemptOutcome]: number };
  /** Every task that failed, in the order the run reported them, with its error's message. */
  readonly failed: readonly { readonly task: string; readonly attempts: number; readonly error: string; readonly errorCode?: string }[];
  /** The tasks that took longest, from the start of their first attempt to the end of their last. */
  readonly slowest: readonly { readonly task: string; readonly durationMs: number; readonly attempts: number; readonly pool: string; readonly node: string }[];
  readonly criticalPath: CriticalPath;
  /** Each pool: the most nodes up at once, nodes started, attempts run, nodes lost and preempted. */
  readonly pools: readonly {
    readonly pool: string;
    readonly peakNodes: number;
    readonly nodes: number;
    readonly attempts: number;
    readonly lost: number;
    readonly preempted: number;
  }[];
}

/**
 * @example
 * const s = summarize(result.trace);
 * console.log(`${s.tasks.succeeded}/${s.tasks.total} succeeded in ${s.makespanMs} ms; critical path ${s.criticalPath.tasks.join(" -> ")}`);
 */
export function summarize(trace: ChromeTrace, options: SummarizeOptions = {}): RunSummary {
  const slowest = options?.slowest ?? 5;
  if (!(Number.isInteger(slowest) && slowest >= 0)) {
    throw new FlotillaError("E_INVALID_OPTION", `summarize(trace, options): option "slowest" must be an integer >= 0, received ${describe(slowest)}`);
  }
  return summaryOf(readTrace(trace, "summarize(trace)"), slowest);
}

export function summaryOf(model: TraceModel, slowestCount = 5): RunSummary {
  const tasks = { total: model.tasks.length, succeeded: 0, failed: 0, cancelled: 0, skipped: 0, restored: 0, unfinished: 0 };
  for (const t of model.tasks) {
    if (t.status === "succeeded" || t.status === "failed" || t.status === "cancelled" || t.status === "skipped") tasks[t.status]++;
    else tasks.unfinished++;
    if (t.restored === true) tasks.restored++;
  }
  const attempts = { total: model.attempts.length } as { total: number } & Record<AttemptOutcome, number>;
  for (const outcome of ATTEMPT_OUTCOMES) attempts[outcome] = 0;
  for (const a of model.attempts) attempts[a.outcome]++;

  const lastAttempt = new Map<string, (typeof model.attempts)[number]>();
  const firstStart = new Map<string, number>();
  const attemptCount = new Map<string, number>();
  for (const a of model.attempts) {
    const last = lastAttempt.get(a.task);
    if (last === undefined || a.endMs >= last.endMs) lastAttempt.set(a.task, a);
    if (!firstStart.has(a.task)) firstStart.set(a.task, a.startMs);
    attemptCount.set(a.task, (attemptCount.get(a.task) ?? 0) + 1);
  }
  const failed = model.tasks
    .filter((t) => t.status === "failed")
    .map((t) => ({
      task: t.id,
      attempts: t.attempts,
      error: t.error ?? lastAttempt.get(t.id)?.error ?? "",
      ...(t.errorCode === undefined ? {} : { errorCode: t.errorCode }),
    }));
  const slowest = [...lastAttempt.values()]
    .map((a) => ({ task: a.task, durationMs: roundMs(a.endMs - firstStart.get(a.task)!), attempts: attemptCount.get(a.task)!, pool: a.pool, node: a.node }))
    .sort((x, y) => y.durationMs - x.durationMs)
    .slice(0, slowestCount);
  return {
    job: model.job,
    status: model.status,
    makespanMs: model.makespanMs,
    tasks,
    attempts,
    failed,
    slowest,
    criticalPath: criticalPathOf(model),
    pools: model.pools.map((pool) => {
      const lives = model.nodes.filter((n) => n.pool === pool);
      return {
        pool,
        peakNodes: peakOf(lives),
        nodes: lives.length,
        attempts: model.attempts.filter((a) => a.pool === pool).length,
        lost: lives.filter((n) => n.end === "lost").length,
        preempted: lives.filter((n) => n.end === "preempted").length,
      };
    }),
  };
}

/** The most of these lives overlapping at one moment (a node ending when another starts is not an overlap). */
function peakOf(lives: readonly { startMs: number; endMs: number }[]): number {
  const changes = lives.flatMap((n) => [
    { at: n.startMs, delta: 1 },
    { at: n.endMs, delta: -1 },
  ]);
  changes.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let up = 0;
  let peak = 0;
  for (const c of changes) peak = Math.max(peak, (up += c.delta));
  return peak;
}
