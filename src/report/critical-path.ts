/**
 * The critical path of a run: the chain of tasks that explains when it ended. It ends with the task that
 * finished last; each task before it is, among the dependencies of the one after, the one that finished
 * last, since a task cannot start before its last dependency is done. Shortening the run means shortening
 * (or starting sooner) a task on this chain; a task off it could run longer for free.
 */
import type { ChromeTrace } from "../trace/chrome-trace.ts";
import { readTrace, type TraceModel } from "./trace-model.ts";

/** One task of the critical path: from the start of its first attempt to the end of its last (ms from the run's start). */
export interface CriticalStep {
  readonly task: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly attempts: number;
}

export interface CriticalPath {
  /** The chain's tasks, first to last. Empty when no attempt ran. */
  readonly tasks: string[];
  /** From the start of the first task's first attempt to the end of the last task. */
  readonly durationMs: number;
  /** The same tasks, with their times. */
  readonly steps: CriticalStep[];
}

/**
 * The chain of tasks ending with the last task to finish, walking back each time to the dependency that
 * finished last. Tasks restored from a journal took no time in this run and are not on it.
 *
 * @example
 * const { tasks, durationMs } = criticalPath(result.trace);
 * console.log(`${tasks.join(" -> ")}: ${durationMs} ms of ${result.trace.otherData.makespanMs}`);
 */
export function criticalPath(trace: ChromeTrace): CriticalPath {
  return criticalPathOf(readTrace(trace, "criticalPath(trace)"));
}

export function criticalPathOf(model: TraceModel): CriticalPath {
  const spans = new Map<string, { startMs: number; endMs: number; attempts: number; order: number }>();
  for (const a of model.attempts) {
    const span = spans.get(a.task);
    if (span === undefined) spans.set(a.task, { startMs: a.startMs, endMs: a.endMs, attempts: 1, order: spans.size });
    else {
      span.startMs = Math.min(span.startMs, a.startMs);
      span.endMs = Math.max(span.endMs, a.endMs);
      span.attempts++;
    }
  }
  let last: string | undefined;
  for (const [task, span] of spans) if (last === undefined || span.endMs > spans.get(last)!.endMs) last = task;
  if (last === undefined) return { tasks: [], durationMs: 0, steps: [] };

  const dependsOn = new Map<string, readonly string[]>(model.tasks.map((t) => [t.id, t.dependsOn]));
  for (const a of model.attempts) if (!dependsOn.has(a.task)) dependsOn.set(a.task, a.dependsOn);
  const chain: string[] = [];
  const seen = new Set<string>();
  for (let task: string | undefined = last; task !== undefined && !seen.has(task); ) {
    seen.add(task);
    chain.push(task);
    let gate: string | undefined;
    for (const dep of dependsOn.get(task) ?? []) {
      const span = spans.get(dep);
      if (span !== undefined && (gate === undefined || span.endMs > spans.get(gate)!.endMs)) gate = dep;
    }
    task = gate;
  }
  chain.reverse();
  const steps = chain.map((task) => {
    const { startMs, endMs, attempts } = spans.get(task)!;
    return { task, startMs, endMs, attempts };
  });
  return { tasks: chain, durationMs: roundMs(steps[steps.length - 1]!.endMs - steps[0]!.startMs), steps };
}

/** Microsecond precision, without the float noise of a subtraction (0.30000000000000004). */
export function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
