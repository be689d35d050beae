/**
 * At most one attempt of a task runs at a time: a retry waits until the previous attempt settled or
 * was abandoned after its grace period. (A timed-out body that ignores its signal used to keep running
 * while its retries started: three executions of one "charge the card" at once.)
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Job, start } from "../src/index.ts";
import { virtualRuntime } from "../src/testing/index.ts";

describe("one live attempt per task", () => {
  it("a timed-out body that ignores its signal holds its retry back until it settles", async () => {
    const runtime = virtualRuntime();
    let live = 0;
    let mostAtOnce = 0;
    const starts: number[] = [];
    // Each attempt ignores its signal and takes 50 ms; the timeout is 10 ms, the grace 1 s.
    const job = new Job("pay").task("charge", { timeoutMs: 10, retries: 2, backoff: { initialMs: 0 } }, async () => {
      starts.push(runtime.now());
      live++;
      mostAtOnce = Math.max(mostAtOnce, live);
      await new Promise<void>((resolve) => runtime.setTimer(50, resolve));
      live--;
      return "charged";
    });
    const handle = start(job, { runtime, cancelGraceMs: 1_000 });
    const result = await handle.result;
    assert.equal(mostAtOnce, 1, "never two executions at once");
    assert.deepEqual(starts, [0, 50, 100], "each retry started when the previous attempt settled");
    assert.equal(result.tasks.get("charge").status, "failed");
    assert.equal(result.tasks.get("charge").attempts, 3);
  });

  it("a retry of a body that never settles starts when its grace period ends (the attempt is abandoned)", async () => {
    const runtime = virtualRuntime();
    const starts: number[] = [];
    const abandoned: number[] = [];
    const job = new Job("j").task("stuck", { timeoutMs: 10, retries: 1, backoff: { initialMs: 0 } }, ({ attempt }) => {
      starts.push(runtime.now());
      return attempt === 1 ? new Promise(() => {}) : "second";
    });
    const handle = start(job, { runtime, cancelGraceMs: 30 });
    handle.on("task:abandoned", () => abandoned.push(runtime.now()));
    const result = await handle.result;
    assert.deepEqual(abandoned, [40]);
    assert.deepEqual(starts, [0, 40]);
    assert.equal(result.output("stuck"), "second");
  });

  it("a backoff longer than the wind-down is not lengthened by it", async () => {
    const runtime = virtualRuntime();
    const starts: number[] = [];
    const job = new Job("j").task("t", { timeoutMs: 10, retries: 1, backoff: { initialMs: 100 } }, ({ attempt, signal }) => {
      starts.push(runtime.now());
      if (attempt === 2) return "ok";
      return new Promise((_, reject) => signal.addEventListener("abort", () => runtime.setTimer(5, () => reject(signal.reason))));
    });
    const result = await start(job, { runtime }).result;
    assert.deepEqual(starts, [0, 110]);
    assert.equal(result.output("t"), "ok");
  });
});
