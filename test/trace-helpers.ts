/** Helpers of the trace and report tests: small jobs described as data, run with a recorder listening to every event. */
import assert from "node:assert/strict";
import { Job, start, type ComputeProvider, type RunOptions, type RunResult, type RunHandle, type TaskContext } from "../src/index.ts";
import { RUN_EVENT_NAMES } from "../src/events.ts";
import { TraceRecorder, type AttemptSpan, type ChromeTrace } from "../src/trace/index.ts";

/** One task of a test job: it sleeps `ms` on the run's clock, and its first `fails` attempts throw. */
export interface TaskSpecForTest {
  readonly id: string;
  readonly deps?: readonly string[];
  readonly ms?: number;
  readonly fails?: number;
  readonly pool?: string;
  readonly retries?: number;
  readonly slots?: number;
  readonly timeoutMs?: number;
  /** Replaces the sleeping body. */
  readonly body?: (ctx: TaskContext<any>) => unknown;
}

/** The job the specs describe, and its dependencies by task id (what the recorder is given). */
export function jobOf(name: string, specs: readonly TaskSpecForTest[]): { job: Job<Record<string, unknown>>; deps: Map<string, readonly string[]> } {
  const job = new Job<Record<string, unknown>>(name);
  const deps = new Map<string, readonly string[]>();
  for (const spec of specs) {
    deps.set(spec.id, spec.deps ?? []);
    const body =
      spec.body ??
      (async ({ sleep, attempt }: TaskContext<any>) => {
        await sleep(spec.ms ?? 1);
        if (attempt <= (spec.fails ?? 0)) throw new Error(`${spec.id} failed on attempt ${attempt}`);
        return spec.id;
      });
    job.task(
      spec.id,
      {
        dependsOn: [...(spec.deps ?? [])],
        retries: spec.retries ?? 0,
        backoff: { initialMs: 5 },
        ...(spec.pool ? { pool: spec.pool } : {}),
        ...(spec.slots ? { slots: spec.slots } : {}),
        ...(spec.timeoutMs ? { timeoutMs: spec.timeoutMs } : {}),
      },
      body as never,
    );
  }
  return { job, deps };
}

/** A provider of numbered nodes (`cpu-1`, `cpu-2`, ...) with `slots` each, running function bodies in this process. */
export function slotProvider(name: string, slots: number, maxNodes: number, run?: ComputeProvider["run"]): ComputeProvider {
  let started = 0;
  return {
    name,
    maxNodes,
    startNode: () => ({ id: `${name}-${++started}`, slots }),
    stopNode: () => {},
    run: run ?? ((_node, body, ctx) => (body as (c: TaskContext<any>) => unknown)(ctx)),
  };
}

/** Runs `job` with a recorder hearing every event name; `steer` may act on the handle (cancel it, listen). */
export async function tracedRun(
  job: Job<Record<string, unknown>>,
  deps: ReadonlyMap<string, readonly string[]>,
  options: RunOptions,
  steer?: (handle: RunHandle<Record<string, unknown>>) => void,
): Promise<{ result: RunResult<Record<string, unknown>>; trace: ChromeTrace }> {
  const recorder = new TraceRecorder(job.name, (id) => deps.get(id) ?? []);
  const handle = start(job, options);
  for (const name of RUN_EVENT_NAMES) handle.on(name, (event) => recorder.record(event));
  steer?.(handle);
  const result = await handle.result;
  return { result, trace: recorder.finish() };
}

export function attemptSpans(trace: ChromeTrace): AttemptSpan[] {
  return trace.traceEvents.filter((e): e is AttemptSpan => e.ph === "X" && e.cat === "attempt");
}

/** The spans of `task`, by attempt number. */
export function spansOf(trace: ChromeTrace, task: string): AttemptSpan[] {
  return attemptSpans(trace)
    .filter((s) => s.args.task === task)
    .sort((a, b) => a.args.attempt - b.args.attempt);
}

/** Fails when two complete events on one thread overlap (they must follow each other). */
export function assertNoOverlap(trace: ChromeTrace): void {
  const byThread = new Map<string, { ts: number; dur: number; name: string }[]>();
  for (const e of trace.traceEvents) {
    if (e.ph !== "X" || e.cat === "job") continue;
    const key = `${e.pid}/${e.tid}`;
    byThread.set(key, [...(byThread.get(key) ?? []), e]);
  }
  for (const [key, spans] of byThread) {
    spans.sort((a, b) => a.ts - b.ts);
    for (let i = 1; i < spans.length; i++) {
      const before = spans[i - 1]!;
      const after = spans[i]!;
      assert.ok(before.ts + before.dur <= after.ts, `on thread ${key}, "${before.name}" (${before.ts} + ${before.dur}) overlaps "${after.name}" (${after.ts})`);
    }
  }
}
