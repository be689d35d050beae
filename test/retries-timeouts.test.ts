import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Job, TimeoutError, run, start } from "../src/index.ts";
import { virtualRuntime } from "../src/testing/index.ts";
import { untilAborted } from "./helpers.ts";

describe("retries, backoff and timeouts", () => {
  it("retries a failing task with exponential backoff on the run's clock", async () => {
    const runtime = virtualRuntime();
    const startedAt: number[] = [];
    const job = new Job("flaky").task("call", { retries: 3, backoff: { initialMs: 100, factor: 3, maxMs: 500 } }, ({ attempt }) => {
      startedAt.push(runtime.now());
      if (attempt < 4) throw new Error(`attempt ${attempt} failed`);
      return "ok";
    });
    const handle = start(job, { runtime });
    const delays: number[] = [];
    handle.on("task:retry", (e) => delays.push(e.delayMs));
    const result = await handle.result;
    assert.equal(result.status, "succeeded");
    assert.equal(result.tasks.get("call").attempts, 4);
    assert.deepEqual(delays, [100, 300, 500]); // 100, 100*3, min(500, 900)
    assert.deepEqual(startedAt, [0, 100, 400, 900]);
    assert.equal(runtime.pendingTimers, 0);
  });

  it("fails the task with the last error once retries are spent", async () => {
    const runtime = virtualRuntime();
    const result = await run(
      new Job("j").task("a", { retries: 2, backoff: { initialMs: 0 } }, ({ attempt }) => {
        throw new Error(`try ${attempt}`);
      }),
      { runtime },
    );
    const a = result.tasks.get("a");
    assert.equal(a.status, "failed");
    assert.equal(a.attempts, 3);
    assert.equal((a.error as Error).message, "try 3");
  });

  it("randomises backoff by at most its jitter, reproducibly from the runtime's seed", async () => {
    const delaysFor = async (seed: number) => {
      const runtime = virtualRuntime({ seed });
      const handle = start(
        new Job("j").task("a", { retries: 3, backoff: { initialMs: 1000, factor: 1, jitter: 0.5 } }, () => {
          throw new Error("x");
        }),
        { runtime },
      );
      const delays: number[] = [];
      handle.on("task:retry", (e) => delays.push(e.delayMs));
      await handle.result;
      return delays;
    };
    const first = await delaysFor(42);
    assert.deepEqual(await delaysFor(42), first);
    assert.notDeepEqual(await delaysFor(43), first);
    for (const d of first) assert.ok(d > 500 && d <= 1000, `delay ${d} within jitter`);
  });

  it("aborts an attempt that runs past timeoutMs through its signal and counts it as a failed attempt", async () => {
    const runtime = virtualRuntime();
    const reasons: unknown[] = [];
    const job = new Job("slow").task("fetch", { timeoutMs: 1_000, retries: 1, backoff: { initialMs: 50 } }, async (ctx) => {
      if (ctx.attempt === 2) return "fast enough";
      try {
        return await untilAborted(ctx);
      } catch (error) {
        reasons.push(error);
        throw error;
      }
    });
    const handle = start(job, { runtime });
    const retries: unknown[] = [];
    handle.on("task:retry", (e) => retries.push(e.error));
    const result = await handle.result;
    assert.equal(result.status, "succeeded");
    assert.equal(result.output("fetch"), "fast enough");
    assert.equal(reasons.length, 1);
    assert.ok(reasons[0] instanceof TimeoutError);
    assert.equal((reasons[0] as TimeoutError).code, "E_TIMEOUT");
    assert.match((reasons[0] as Error).message, /task "fetch" attempt 1 timed out after 1000 ms/);
    assert.equal(retries[0], reasons[0]);
    assert.equal(result.tasks.get("fetch").finishedAt, 1_050);
  });

  it("fails with E_TIMEOUT when every attempt times out, even if the body ignores its signal", async () => {
    const runtime = virtualRuntime();
    const result = await run(
      new Job("j").task("stuck", { timeoutMs: 10 }, () => new Promise(() => {})),
      { runtime, cancelGraceMs: 5 },
    );
    const stuck = result.tasks.get("stuck");
    assert.equal(stuck.status, "failed");
    assert.equal((stuck.error as TimeoutError).code, "E_TIMEOUT");
    assert.equal(runtime.pendingTimers, 0);
    assert.equal(result.finishedAt, 15); // timed out at 10, abandoned after the 5 ms grace period
  });

  it("lets a body wait on the run's clock with ctx.sleep, cancellable by its signal", async () => {
    const runtime = virtualRuntime();
    const job = new Job("sleepy").task("nap", async ({ sleep }) => {
      await sleep(60 * 60 * 1000);
      return runtime.now();
    });
    const result = await run(job, { runtime });
    assert.equal(result.output("nap"), 3_600_000);
  });
});
