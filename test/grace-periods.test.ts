import { mock, test } from "node:test";
import assert from "node:assert/strict";
import { Job, start } from "../src/index.ts";
import { virtualRuntime } from "../src/testing/index.ts";
import { catchReported, deferred } from "./helpers.ts";

// Under the real runtime (here its virtual twin: no `defer`) one timer serves the grace periods of every
// aborted attempt. Each attempt must still be abandoned exactly when its own grace ends, whatever was
// aborted before or after it, released meanwhile, or aborted by a task:abandoned listener.
test("each aborted attempt is abandoned when its own grace period ends, one timer serving them all", async () => {
  const runtime = virtualRuntime();
  const deaf = () => new Promise(() => {}); // never settles, ignores its signal
  const job = new Job("graces")
    .task("a", { timeoutMs: 10 }, deaf)
    .task("b", { timeoutMs: 20 }, deaf)
    .task("listens", { timeoutMs: 15 }, (ctx) => new Promise((_resolve, reject) => ctx.onAbort(reject)))
    .task("c", { timeoutMs: 30 }, deaf)
    .task("d", deaf);
  const handle = start(job, { runtime, cancelGraceMs: 100 });
  const abandoned: string[] = [];
  handle.on("task:abandoned", (e) => {
    abandoned.push(`${e.taskId}@${e.at}`);
    // Aborting another attempt from here starts its grace now, while the run is abandoning others.
    if (e.taskId === "a") handle.cancelTask("d");
  });
  const result = await handle.result;
  assert.deepEqual(abandoned, ["a@110", "b@120", "c@130", "d@210"]);
  assert.equal(result.tasks.get("listens")!.status, "failed", "settled when aborted: released, never abandoned");
  assert.equal(result.tasks.get("d")!.status, "cancelled");
  assert.equal(result.finishedAt, 210);
  assert.equal(runtime.pendingTimers, 0, "no timer left behind");
});

test("a run whose aborted attempts all settle in time leaves no grace timer behind", async () => {
  const runtime = virtualRuntime();
  const polite = (ctx: { onAbort(listener: (reason: unknown) => void): void }) => new Promise((_resolve, reject) => ctx.onAbort(reject));
  const job = new Job("polite")
    .task("a", polite)
    .task("b", polite)
    .task("c", { dependsOn: ["a"] }, () => 1);
  const handle = start(job, { runtime, cancelGraceMs: 60_000 });
  const abandoned: string[] = [];
  handle.on("task:abandoned", (e) => abandoned.push(e.taskId));
  handle.on("task:start", (e) => {
    if (e.taskId === "b") handle.cancel("enough");
  });
  const result = await handle.result;
  assert.equal(result.status, "cancelled");
  assert.deepEqual(abandoned, []);
  assert.equal(result.finishedAt, 0, "no time passed: nothing waited for a grace period");
  assert.equal(runtime.pendingTimers, 0);
});

test("a runtime whose setTimer throws for a grace period: the error is reported and the run still settles", async () => {
  const base = virtualRuntime();
  const graceMs = 7_777;
  const broken = new Error("no timers today");
  const runtime = {
    now: () => base.now(),
    random: () => base.random(),
    clearTimer: (handle: unknown) => base.clearTimer(handle),
    setTimer: (ms: number, callback: () => void) => {
      if (ms === graceMs) throw broken;
      return base.setTimer(ms, callback);
    },
  };
  const reported = catchReported();
  try {
    const started = deferred();
    const handle = start(
      new Job("broken-timers").task("deaf", () => {
        started.resolve();
        return new Promise(() => {}); // never settles, ignores its signal
      }),
      { runtime, cancelGraceMs: graceMs },
    );
    const abandoned: string[] = [];
    handle.on("task:abandoned", (e) => abandoned.push(e.taskId));
    await started.promise;
    handle.cancel("stop");
    const result = await handle.result;
    assert.equal(result.status, "cancelled");
    assert.deepEqual(abandoned, ["deaf"], "abandoned at once: no timer could bound its grace");
    assert.deepEqual(reported, [broken], "the runtime's error surfaces once, as an unhandled rejection");
  } finally {
    mock.restoreAll();
  }
});
