/**
 * flotilla/report without a browser: the critical path of hand-made traces and of a real run, the summary
 * as plain data, and the HTML page as text (self-contained, hostile task ids kept inert). The page's
 * drawing is checked in Chromium by test/browser/report.test.ts.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isFlotillaError } from "../src/index.ts";
import { criticalPath, htmlReport, summarize } from "../src/report/index.ts";
import { PAGE_SCRIPT } from "../src/report/page-script.ts";
import { virtualRuntime } from "../src/testing/index.ts";
import type { AttemptOutcome, AttemptSpan, ChromeTrace, NodeSpan, TaskTrace } from "../src/trace/index.ts";
import { jobOf, slotProvider, tracedRun } from "./trace-helpers.ts";

interface HandSpan {
  task: string;
  from: number;
  to: number;
  deps?: string[];
  attempt?: number;
  outcome?: AttemptOutcome;
  error?: string;
}

/** A trace written by hand: one attempt span per entry (times in ms), on lane `tid` 10 + index. */
function handTrace(spans: HandSpan[], tasks?: TaskTrace[]): ChromeTrace {
  const traceEvents: AttemptSpan[] = spans.map((s, i) => ({
    ph: "X",
    name: s.task,
    cat: "attempt",
    pid: 2,
    tid: 10 + i,
    ts: s.from * 1000,
    dur: (s.to - s.from) * 1000,
    args: {
      task: s.task,
      attempt: s.attempt ?? 1,
      outcome: s.outcome ?? "succeeded",
      pool: "default",
      node: "n-1",
      slots: 1,
      dependsOn: s.deps ?? [],
      ...(s.error ? { error: s.error } : {}),
    },
  }));
  const makespanMs = Math.max(0, ...spans.map((s) => s.to));
  return { traceEvents, displayTimeUnit: "ms", otherData: { job: "hand", format: 1, status: "succeeded", startedAt: 0, makespanMs, tasks: tasks ?? [] } };
}

describe("criticalPath", () => {
  it("follows, from the last task to finish, the dependency that finished last", () => {
    // a -> {b, c} -> d: b finished after c, so d waited for b.
    const trace = handTrace([
      { task: "a", from: 0, to: 10 },
      { task: "c", from: 10, to: 15, deps: ["a"] },
      { task: "b", from: 10, to: 30, deps: ["a"] },
      { task: "d", from: 30, to: 40, deps: ["c", "b"] },
      { task: "side", from: 0, to: 25 },
    ]);
    const path = criticalPath(trace);
    assert.deepEqual(path.tasks, ["a", "b", "d"]);
    assert.equal(path.durationMs, 40);
    assert.deepEqual(
      path.steps.map((s) => [s.task, s.startMs, s.endMs, s.attempts]),
      [
        ["a", 0, 10, 1],
        ["b", 10, 30, 1],
        ["d", 30, 40, 1],
      ],
    );
    // The same from the trace's JSON text, as read back from a file.
    assert.deepEqual(criticalPath(JSON.parse(JSON.stringify(trace))), path);
  });

  it("counts a task's retries, ends on a task that failed, and leaves out restored tasks that took no time", () => {
    const trace = handTrace(
      [
        { task: "fetch", from: 5, to: 8, outcome: "retry", error: "reset" },
        { task: "fetch", from: 12, to: 20, attempt: 2 },
        { task: "load", from: 20, to: 26, deps: ["restored", "fetch"], outcome: "failed", error: "disk full" },
      ],
      [
        { id: "restored", status: "succeeded", attempts: 0, dependsOn: [], restored: true },
        { id: "fetch", status: "succeeded", attempts: 2, dependsOn: [] },
        { id: "load", status: "failed", attempts: 1, dependsOn: ["restored", "fetch"], error: "disk full" },
      ],
    );
    const path = criticalPath(trace);
    assert.deepEqual(path.tasks, ["fetch", "load"]);
    assert.equal(path.durationMs, 21);
    assert.deepEqual(path.steps[0], { task: "fetch", startMs: 5, endMs: 20, attempts: 2 });
  });

  it("breaks ties by dependency order, and is empty when nothing ran", () => {
    const tie = handTrace([
      { task: "x", from: 0, to: 10 },
      { task: "y", from: 0, to: 10 },
      { task: "z", from: 10, to: 12, deps: ["y", "x"] },
    ]);
    assert.deepEqual(criticalPath(tie).tasks, ["y", "z"]);
    assert.deepEqual(criticalPath(handTrace([])), { tasks: [], durationMs: 0, steps: [] });
  });

  it("explains a real run's makespan", async () => {
    const { job, deps } = jobOf("real", [
      { id: "setup", ms: 10 },
      { id: "quick", deps: ["setup"], ms: 5 },
      { id: "slow", deps: ["setup"], ms: 40 },
      { id: "flaky", deps: ["quick"], ms: 8, fails: 1, retries: 1 },
      { id: "merge", deps: ["slow", "flaky"], ms: 7 },
    ]);
    const { trace } = await tracedRun(job, deps, { runtime: virtualRuntime(), provider: slotProvider("cpu", 4, 1) });
    const path = criticalPath(trace);
    assert.deepEqual(path.tasks, ["setup", "slow", "merge"]);
    assert.equal(path.durationMs, trace.otherData.makespanMs);
    assert.equal(path.durationMs, 57);
  });

  it("refuses a value that is not a trace, saying what it expected", () => {
    assert.throws(
      () => criticalPath({ events: [] } as never),
      (e: unknown) => isFlotillaError(e, "E_INVALID_OPTION") && /^criticalPath\(trace\): the trace must be a ChromeTrace .*"traceEvents" array/.test(e.message),
    );
  });
});

describe("summarize", () => {
  it("counts tasks and attempts, lists failures with their errors, the slowest tasks and each pool's peak nodes", async () => {
    const { job, deps } = jobOf("sum", [
      { id: "a", ms: 30 },
      { id: "b", ms: 20, fails: 1, retries: 1 },
      { id: "c", ms: 10, fails: 5, retries: 1 },
      { id: "after-c", deps: ["c"] },
      { id: "gpu", ms: 3, pool: "gpu" },
    ]);
    const { trace } = await tracedRun(job, deps, { runtime: virtualRuntime(), pools: { default: slotProvider("cpu", 1, 3), gpu: slotProvider("gpu", 1, 1) } });
    const s = summarize(trace, { slowest: 2 });
    assert.equal(s.job, "sum");
    assert.equal(s.status, "failed");
    assert.deepEqual(s.tasks, { total: 5, succeeded: 3, failed: 1, cancelled: 0, skipped: 1, restored: 0, unfinished: 0 });
    assert.deepEqual({ ...s.attempts }, { total: 6, succeeded: 3, failed: 1, retry: 2, timeout: 0, requeued: 0, cancelled: 0, abandoned: 0, running: 0 });
    assert.deepEqual(s.failed, [{ task: "c", attempts: 2, error: "c failed on attempt 2" }]);
    // b: 20 ms, 5 ms backoff, 20 ms again = 45 ms; a: 30 ms.
    assert.deepEqual(
      s.slowest.map((t) => [t.task, t.durationMs, t.attempts]),
      [
        ["b", 45, 2],
        ["a", 30, 1],
      ],
    );
    assert.deepEqual(
      s.pools.map((p) => [p.pool, p.peakNodes, p.nodes, p.attempts]),
      [
        ["default", 3, 3, 5],
        ["gpu", 1, 1, 1],
      ],
    );
    assert.equal(s.makespanMs, 45);
    assert.deepEqual(s.criticalPath.tasks, ["b"]);
    // Plain data: it survives JSON unchanged.
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
  });

  it("counts a pool's peak nodes as those up at one moment: a node stopping as another starts is not two", () => {
    const life = (node: string, from: number, to: number, end: NodeSpan["args"]["end"] = "stop"): NodeSpan => ({
      ph: "X",
      name: node,
      cat: "node",
      pid: 2,
      tid: 1,
      ts: from * 1000,
      dur: (to - from) * 1000,
      args: { pool: "vm", node, slots: 4, priority: "dedicated", end },
    });
    const base = handTrace([]);
    const trace = { ...base, traceEvents: [life("v1", 0, 10), life("v2", 10, 20, "lost"), life("v3", 5, 15, "preempted"), life("v4", 20, 30)] };
    assert.deepEqual(summarize(trace).pools, [{ pool: "vm", peakNodes: 2, nodes: 4, attempts: 0, lost: 1, preempted: 1 }]);
  });

  it("refuses a bad slowest option", () => {
    assert.throws(
      () => summarize(handTrace([]), { slowest: -1 }),
      (e: unknown) => isFlotillaError(e, "E_INVALID_OPTION") && /"slowest" must be an integer >= 0/.test(e.message),
    );
  });
});

describe("htmlReport", () => {
  const HOSTILE = "</script><script>alert(1)</script><!--";

  it("is one page that loads nothing: no URL, no linked file, no external font", async () => {
    const { job, deps } = jobOf("page", [
      { id: "a", ms: 5 },
      { id: "b", deps: ["a"], fails: 3 },
    ]);
    const { trace } = await tracedRun(job, deps, { runtime: virtualRuntime(), provider: slotProvider("cpu", 2, 1) });
    const html = htmlReport(trace);
    assert.match(html, /^<!doctype html>/);
    for (const banned of [/https?:\/\//i, /\ssrc\s*=/i, /\shref\s*=/i, /url\(/i, /@import/i, /<link/i, /@font-face/i]) {
      assert.doesNotMatch(html, banned);
    }
    assert.match(html, /<title>Run report: page<\/title>/);
    assert.match(html, /<section id="summary" data-tasks="2" data-attempts="2" data-succeeded="1" data-failed="1"/);
    assert.match(html, /b failed on attempt 1/);
  });

  it("keeps a hostile task id and title inert: the data element cannot be closed early", () => {
    const trace = handTrace([
      { task: HOSTILE, from: 0, to: 5, outcome: "failed", error: "<img onerror=alert(2)>" },
      { task: "after", from: 5, to: 6, deps: [HOSTILE] },
    ]);
    const html = htmlReport(trace, { title: "<b>nightly</b>" });
    // Exactly the page's own two script elements, and no comment opened by the data.
    assert.equal(html.match(/<\/script/gi)?.length, 2);
    assert.equal(html.match(/<script/gi)?.length, 2);
    assert.doesNotMatch(html, /<!--/);
    assert.doesNotMatch(html, /<img/);
    assert.match(html, /<title>&lt;b&gt;nightly&lt;\/b&gt;<\/title>/);
    // The data reads back with the id as it was.
    const json = html.match(/<script type="application\/json" id="flotilla-data">([\s\S]*?)<\/script>/)![1]!;
    const data = JSON.parse(json) as { tasks: { id: string; c: number }[]; bars: { err?: string }[] };
    assert.deepEqual(
      data.tasks.map((t) => [t.id, t.c]),
      [
        [HOSTILE, 1],
        ["after", 1],
      ],
    );
    assert.equal(data.bars[0]!.err, "<img onerror=alert(2)>");
  });

  it("has a script that parses, and refuses a value that is not a trace or a title that is not a string", () => {
    assert.doesNotThrow(() => new Function(PAGE_SCRIPT));
    assert.throws(
      () => htmlReport(null as never),
      (e: unknown) => isFlotillaError(e, "E_INVALID_OPTION") && /^htmlReport\(trace\): the trace must be/.test(e.message),
    );
    assert.throws(
      () => htmlReport(handTrace([]), { title: 3 as never }),
      (e: unknown) => isFlotillaError(e, "E_INVALID_OPTION") && /"title" must be a string/.test(e.message),
    );
  });
});
