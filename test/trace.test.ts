/**
 * The trace of a run (TraceRecorder): real jobs run under the virtual clock with a recorder hearing every
 * event, and the spans it writes are checked: one per attempt, on named lanes that never overlap, with
 * retries, timeouts, cancellations, abandonments and lost nodes where they happened, in a JSON trace.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FlotillaError, inProcess, NodeLostError } from "../src/index.ts";
import type { RunEvent } from "../src/events.ts";
import { seededRandom, virtualRuntime } from "../src/testing/index.ts";
import { type Lane, LaneSet } from "../src/trace/lanes.ts";
import { TraceRecorder, type ChromeTrace, type TraceInstant, type TraceMetadata, type NodeSpan } from "../src/trace/index.ts";
import { assertNoOverlap, attemptSpans, jobOf, slotProvider, spansOf, tracedRun } from "./trace-helpers.ts";

const marks = (trace: ChromeTrace, name: string) => trace.traceEvents.filter((e): e is TraceInstant => e.ph === "i" && e.name === name);
const nodeSpans = (trace: ChromeTrace) => trace.traceEvents.filter((e): e is NodeSpan => e.ph === "X" && e.cat === "node");
const threadNames = (trace: ChromeTrace) =>
  new Map(
    trace.traceEvents
      .filter((e): e is TraceMetadata => e.ph === "M" && e.name === "thread_name")
      .map((e) => [`${e.pid}/${e.tid}`, (e.args as { name: string }).name]),
  );

describe("TraceRecorder", () => {
  it("gives every attempt one span on a named lane of its node, and spans on one lane never overlap", async () => {
    // Two pools: "default" with two 2-slot nodes, "gpu" with one 1-slot node; a fan-out and a fan-in.
    const { job, deps } = jobOf("fan", [
      { id: "root", ms: 10 },
      ...Array.from({ length: 8 }, (_, k) => ({ id: `leaf-${k}`, deps: ["root"], ms: 5 + k * 3 })),
      { id: "render", deps: ["leaf-0", "leaf-1"], ms: 12, pool: "gpu" },
      { id: "sum", deps: [...Array.from({ length: 8 }, (_, k) => `leaf-${k}`), "render"], ms: 4 },
    ]);
    const { result, trace } = await tracedRun(job, deps, {
      runtime: virtualRuntime(),
      pools: { default: slotProvider("cpu", 2, 2), gpu: slotProvider("gpu", 1, 1) },
    });
    assert.equal(result.status, "succeeded");

    const spans = attemptSpans(trace);
    assert.equal(spans.length, 11);
    assert.deepEqual(new Set(spans.map((s) => s.args.task)), new Set(result.tasks.keys()));
    assertNoOverlap(trace);

    // Times are the run's clock in microseconds from its start: root ran 0-10 ms, sum last.
    const [root] = spansOf(trace, "root");
    assert.deepEqual([root!.ts, root!.dur], [0, 10_000]);
    const [sum] = spansOf(trace, "sum");
    assert.equal(sum!.ts + sum!.dur, trace.otherData.makespanMs * 1000);
    assert.deepEqual(sum!.args.dependsOn, deps.get("sum"));

    // Each pool is a process, each lane a thread named after its node; every pid and tid used has a name.
    const processNames = new Map(
      trace.traceEvents.filter((e): e is TraceMetadata => e.ph === "M" && e.name === "process_name").map((e) => [e.pid, (e.args as { name: string }).name]),
    );
    const names = threadNames(trace);
    for (const e of trace.traceEvents) {
      assert.ok(processNames.has(e.pid), `pid ${e.pid} has no process_name`);
      if (e.ph !== "M") assert.ok(names.has(`${e.pid}/${e.tid}`), `thread ${e.pid}/${e.tid} has no thread_name`);
    }
    for (const s of spans) {
      assert.equal(processNames.get(s.pid), `pool ${s.args.pool}`);
      assert.match(names.get(`${s.pid}/${s.tid}`)!, new RegExp(`^${s.args.node} slot [12]$`));
    }
    assert.equal(spansOf(trace, "render")[0]!.args.pool, "gpu");
    assert.equal(processNames.get(1), "job fan");

    // Four 1-slot attempts ran at once on two 2-slot nodes: two lanes per node, no more.
    const lanes = [...names.values()].filter((n) => n.startsWith("cpu-"));
    assert.deepEqual(lanes.sort(), ["cpu-1 slot 1", "cpu-1 slot 2", "cpu-2 slot 1", "cpu-2 slot 2"]);

    // Node lives, on the pool's "nodes" track, end with the run's stop.
    const lives = nodeSpans(trace);
    assert.deepEqual(lives.map((n) => n.args.node).sort(), ["cpu-1", "cpu-2", "gpu-1"]);
    for (const n of lives) {
      assert.equal(n.args.end, "stop");
      assert.match(names.get(`${n.pid}/${n.tid}`)!, /^nodes( \d+)?$/);
    }
    // Lanes sort in order: the nodes track first, then each node's slots.
    const sorted = trace.traceEvents
      .filter((e): e is TraceMetadata => e.ph === "M" && e.name === "thread_sort_index" && e.pid === lives[0]!.pid)
      .sort((a, b) => (a.args as { sort_index: number }).sort_index - (b.args as { sort_index: number }).sort_index)
      .map((e) => names.get(`${e.pid}/${e.tid}`));
    assert.deepEqual(sorted.slice(-4), ["cpu-1 slot 1", "cpu-1 slot 2", "cpu-2 slot 1", "cpu-2 slot 2"]);
    assert.match(sorted[0]!, /^nodes/);

    assert.deepEqual(trace.otherData.job, "fan");
    assert.equal(trace.otherData.status, "succeeded");
    assert.equal(trace.otherData.tasks.length, 11);
    assert.equal(trace.displayTimeUnit, "ms");
  });

  it("round-trips through JSON, an in-process node's unlimited slots included", async () => {
    const { job, deps } = jobOf("json", [{ id: "a" }, { id: "b", deps: ["a"], fails: 1, retries: 1 }]);
    const { trace } = await tracedRun(job, deps, { runtime: virtualRuntime(), provider: inProcess() });
    assert.deepEqual(JSON.parse(JSON.stringify(trace)), trace);
    assert.equal(nodeSpans(trace)[0]!.args.slots, "unlimited");
  });

  it("shows a retried task as one span per attempt with the error, and a retry mark", async () => {
    const { job, deps } = jobOf("retry", [{ id: "flaky", ms: 4, fails: 2, retries: 2 }]);
    const { trace } = await tracedRun(job, deps, { runtime: virtualRuntime(), provider: slotProvider("cpu", 1, 1) });
    const spans = spansOf(trace, "flaky");
    assert.deepEqual(
      spans.map((s) => s.args.outcome),
      ["retry", "retry", "succeeded"],
    );
    assert.deepEqual(
      spans.map((s) => s.args.error),
      ["flaky failed on attempt 1", "flaky failed on attempt 2", undefined],
    );
    // Attempt 2 became ready after a 5 ms backoff and started at once: its readyMs is its start.
    assert.equal(spans[1]!.args.readyMs! * 1000, spans[1]!.ts);
    assert.equal(spans[1]!.ts, spans[0]!.ts + spans[0]!.dur + 5_000);
    const retries = marks(trace, "retry");
    assert.deepEqual(
      retries.map((m) => [m.args.attempt, m.args.delayMs, m.tid]),
      [
        [1, 5, spans[0]!.tid],
        [2, 10, spans[1]!.tid],
      ],
    );
    assertNoOverlap(trace);
  });

  it("marks a timed-out attempt 'timeout' and the task failed, with its error code", async () => {
    const { job, deps } = jobOf("slow", [{ id: "slow", ms: 100, timeoutMs: 20 }]);
    const { trace } = await tracedRun(job, deps, { runtime: virtualRuntime(), provider: slotProvider("cpu", 1, 1) });
    const [span] = spansOf(trace, "slow");
    assert.equal(span!.args.outcome, "timeout");
    assert.equal(span!.args.errorCode, "E_TIMEOUT");
    assert.equal(span!.dur, 20_000);
    assert.deepEqual(
      trace.otherData.tasks.map((t) => [t.id, t.status, t.errorCode]),
      [["slow", "failed", "E_TIMEOUT"]],
    );
  });

  it("closes the spans of a cancelled run at the cancellation, and runs an abandoned attempt's span on to its abandonment", async () => {
    const runtime = virtualRuntime();
    const { job, deps } = jobOf("stop", [
      { id: "done", ms: 2 },
      { id: "obedient", deps: ["done"], ms: 1_000 },
      // Ignores its signal: keeps its slot until the grace period (30 ms) ends, then is abandoned.
      { id: "stubborn", deps: ["done"], body: () => new Promise((resolve) => runtime.setTimer(5_000, () => resolve("late"))) },
      { id: "later", deps: ["obedient"] },
    ]);
    let started = 0;
    const { result, trace } = await tracedRun(job, deps, { runtime, cancelGraceMs: 30, provider: slotProvider("cpu", 4, 1) }, (handle) =>
      handle.on("task:start", () => {
        if (++started === 3) runtime.setTimer(8, () => handle.cancel("enough"));
      }),
    );
    assert.equal(result.status, "cancelled");
    const [obedient] = spansOf(trace, "obedient");
    const [stubborn] = spansOf(trace, "stubborn");
    assert.equal(obedient!.args.outcome, "cancelled");
    assert.deepEqual([obedient!.ts, obedient!.dur], [2_000, 8_000]);
    assert.equal(stubborn!.args.outcome, "abandoned");
    assert.deepEqual([stubborn!.ts, stubborn!.dur, stubborn!.args.abortedMs], [2_000, 38_000, 10]);
    assert.equal(obedient!.args.errorCode, "E_CANCELLED");
    // Running attempts are marked on their lanes; "later", which never ran, on the job's own thread.
    assert.deepEqual(
      marks(trace, "cancelled").map((m) => [m.args.task, m.pid === 1]),
      [
        ["obedient", false],
        ["stubborn", false],
        ["later", true],
      ],
    );
    assert.deepEqual(
      marks(trace, "abandoned").map((m) => [m.args.task, m.ts]),
      [["stubborn", 40_000]],
    );
    // The task that never ran has no span; its final state is in otherData.
    assert.deepEqual(spansOf(trace, "later"), []);
    assert.equal(trace.otherData.tasks.find((t) => t.id === "later")?.status, "cancelled");
    assert.equal(trace.otherData.status, "cancelled");
    assertNoOverlap(trace);
  });

  it("puts a new attempt on the lane of an aborted one that must have settled (a 1-slot node keeps one lane)", async () => {
    const runtime = virtualRuntime();
    const { job, deps } = jobOf("lanes", [
      // Times out at 10 ms, ignores its signal until 15 ms (within the grace period): its slot is free at 15 ms.
      { id: "late", timeoutMs: 10, body: () => new Promise((resolve) => runtime.setTimer(15, () => resolve(1))) },
      { id: "next", deps: [], ms: 5 },
    ]);
    const { trace } = await tracedRun(job, deps, { runtime, cancelGraceMs: 1_000, provider: slotProvider("cpu", 1, 1) });
    const lanes = [...threadNames(trace).values()].filter((n) => n.startsWith("cpu-1 slot"));
    assert.deepEqual(lanes, ["cpu-1 slot 1"]);
    assert.equal(spansOf(trace, "late")[0]!.args.outcome, "timeout");
    assert.equal(spansOf(trace, "next")[0]!.ts, 15_000);
    assertNoOverlap(trace);
  });

  it("ends a lost node's life with 'lost', marks it, and shows its attempt requeued elsewhere", async () => {
    let lost = false;
    const provider = slotProvider("cpu", 1, 2, (node, body, ctx) => {
      if (ctx.taskId === "victim" && !lost) {
        lost = true;
        throw new NodeLostError(node.id, `node "${node.id}" vanished`);
      }
      return (body as (c: typeof ctx) => unknown)(ctx);
    });
    const { job, deps } = jobOf("lost", [{ id: "victim", ms: 3 }]);
    const { result, trace } = await tracedRun(job, deps, { runtime: virtualRuntime(), provider });
    assert.equal(result.status, "succeeded");
    const spans = spansOf(trace, "victim");
    assert.deepEqual(
      spans.map((s) => [s.args.outcome, s.args.node]),
      [
        ["requeued", "cpu-1"],
        ["succeeded", "cpu-2"],
      ],
    );
    assert.equal(spans[0]!.args.errorCode, "E_NODE_LOST");
    assert.deepEqual(
      marks(trace, "requeued").map((m) => m.args.task),
      ["victim"],
    );
    const lives = new Map(nodeSpans(trace).map((n) => [n.args.node, n.args]));
    assert.equal(lives.get("cpu-1")?.end, "lost");
    assert.match(lives.get("cpu-1")?.error ?? "", /vanished/);
    assert.equal(lives.get("cpu-2")?.end, "stop");
    assert.deepEqual(
      marks(trace, "node lost").map((m) => m.args.node),
      ["cpu-1"],
    );
    assertNoOverlap(trace);
  });

  it("draws an attempt that holds several slots on one lane, with its slots in args", async () => {
    const { job, deps } = jobOf("wide", [
      { id: "wide", ms: 5, slots: 2 },
      { id: "narrow", ms: 5 },
    ]);
    const { trace } = await tracedRun(job, deps, { runtime: virtualRuntime(), provider: slotProvider("cpu", 3, 1) });
    assert.deepEqual(
      attemptSpans(trace).map((s) => [s.args.task, s.args.slots]),
      [
        ["wide", 2],
        ["narrow", 1],
      ],
    );
    assert.deepEqual([...threadNames(trace).values()].filter((n) => n.startsWith("cpu-1")).sort(), ["cpu-1 slot 1", "cpu-1 slot 2"]);
  });

  it("marks a task restored from a journal at a moment, never as a span, and can be read mid-run", () => {
    const recorder = new TraceRecorder("resume", (id) => (id === "b" ? ["a"] : []));
    const events: RunEvent[] = [
      { type: "job:start", job: "resume", tasks: 2, at: 100 },
      { type: "task:succeeded", taskId: "a", attempt: 1, output: 1, at: 100, restored: true } as RunEvent,
      { type: "task:ready", taskId: "b", at: 101 },
      { type: "node:start", pool: "default", nodeId: "n", slots: 1, priority: "dedicated", at: 101 },
      { type: "task:start", taskId: "b", attempt: 1, pool: "default", nodeId: "n", slots: 1, at: 102 },
    ];
    for (const e of events) recorder.record(e);
    const midway = recorder.finish();
    assert.deepEqual(
      attemptSpans(midway).map((s) => [s.args.task, s.args.outcome, s.ts, s.dur]),
      [["b", "running", 2_000, 0]],
    );
    assert.equal(midway.otherData.status, "running");
    assert.deepEqual(
      marks(midway, "restored").map((m) => [m.args.task, m.ts, m.pid]),
      [["a", 0, 1]],
    );
    assert.deepEqual(midway.otherData.tasks[0], { id: "a", status: "succeeded", attempts: 0, dependsOn: [], restored: true });

    // The run goes on and ends with b still running (a listener ended it): b is closed at job:end as cancelled.
    recorder.record({ type: "job:end", job: "resume", status: "cancelled", result: undefined as never, at: 110 });
    const done = recorder.finish();
    assert.deepEqual(
      attemptSpans(done).map((s) => [s.args.task, s.args.outcome, s.ts, s.dur]),
      [["b", "cancelled", 2_000, 8_000]],
    );
    assert.equal(nodeSpans(done)[0]!.args.end, "running");
    assert.equal(done.otherData.makespanMs, 10);
    assert.equal(done.otherData.startedAt, 100);
  });

  it("hands out the lowest-numbered free lane, whatever the order lanes are freed in", () => {
    const random = seededRandom(11);
    let tid = 0;
    const set = new LaneSet<number>(() => ++tid);
    const held: Lane<number>[] = [];
    for (let step = 0; step < 2_000; step++) {
      if (held.length > 0 && random() < 0.45) {
        const [lane] = held.splice(Math.floor(random() * held.length), 1);
        set.release(lane!);
      } else {
        const busy = new Set(held.map((l) => l.number));
        let lowest = 1;
        while (busy.has(lowest)) lowest++;
        const lane = set.claim();
        lane.occupant = step;
        assert.equal(lane.number, lowest, `step ${step}`);
        held.push(lane);
      }
    }
    assert.ok(set.lanes.length > 10);
  });

  it("refuses a job name that is not a string and a dependsOn that is not a function", () => {
    assert.throws(
      () => new TraceRecorder("", () => []),
      (e: unknown) => e instanceof FlotillaError && /"job" must be a non-empty string/.test(e.message),
    );
    assert.throws(
      () => new TraceRecorder("j", [] as never),
      (e: unknown) => e instanceof FlotillaError && e.code === "E_INVALID_OPTION" && /"dependsOn" must be a function/.test(e.message),
    );
  });
});
