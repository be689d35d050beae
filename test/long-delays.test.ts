/**
 * Delays of any size: Node and Deno keep a timer of at most 2^31-1 ms and fire a longer one after
 * about 1 ms. The real runtime re-arms long delays leg by leg, and no computed delay (backoff) is ever
 * NaN or Infinity, however many attempts or however large the factor.
 */
import { afterEach, describe, it, mock } from "node:test";
import assert from "node:assert/strict";
import { Job, isFlotillaError, realRuntime, run, start } from "../src/index.ts";
import { backoffDelay, DEFAULT_POLICY, type TaskPolicy } from "../src/task-options.ts";
import { virtualRuntime } from "../src/testing/index.ts";
import { untilAborted } from "./helpers.ts";

afterEach(() => mock.timers.reset());

const LONGEST = 2 ** 31 - 1;

describe("long delays", () => {
  it("the real runtime fires a timer longer than 2^31-1 ms on time, not after 1 ms, and can clear it between legs", () => {
    mock.timers.enable({ apis: ["setTimeout", "Date"], now: 0 });
    let fired = 0;
    realRuntime.setTimer(LONGEST + 11, () => fired++);
    mock.timers.tick(1);
    assert.equal(fired, 0, "not early");
    mock.timers.tick(LONGEST - 1);
    assert.equal(fired, 0, "one leg is not the whole delay");
    mock.timers.tick(10);
    assert.equal(fired, 0);
    mock.timers.tick(1);
    assert.equal(fired, 1, "on time");
    const handle = realRuntime.setTimer(2 ** 33, () => fired++);
    mock.timers.tick(LONGEST + 5); // into the second leg
    realRuntime.clearTimer(handle);
    mock.timers.tick(2 ** 34);
    assert.equal(fired, 1, "cleared in its second leg");
  });

  it("a task's timeoutMs of 2^31 ms does not fire early", async () => {
    mock.timers.enable({ apis: ["setTimeout", "Date"], now: 0 });
    const handle = start(new Job("j").task("a", { timeoutMs: 2 ** 31 }, untilAborted));
    let failed: unknown;
    handle.on("task:failed", (e) => (failed = e.error));
    await Promise.resolve(); // start() begins on a microtask; the timer is armed once it has
    mock.timers.tick(1_000);
    assert.equal(failed, undefined, "it used to time out after about 1 ms");
    handle.cancel();
    assert.equal((await handle.result).tasks.get("a").status, "cancelled");
  });

  it("a timeoutMs, cancelGraceMs or sleep longer than 2^31 ms is accepted and honoured on the run's clock", async () => {
    const runtime = virtualRuntime();
    const result = await run(
      new Job("j").task("a", { timeoutMs: 2 ** 40 }, async ({ sleep }) => (await sleep(2 ** 32), runtime.now())),
      { runtime, cancelGraceMs: 2 ** 33 },
    );
    assert.equal(result.output("a"), 2 ** 32);
  });
});

describe("backoff delays are always finite", () => {
  const policy = (p: Partial<TaskPolicy>): TaskPolicy => ({ ...DEFAULT_POLICY, ...p });

  it("initialMs 0 stays 0 however many attempts (0 * factor^n would become NaN)", () => {
    for (const attempt of [2, 10, 1_000, 100_000])
      assert.equal(
        backoffDelay(policy({ initialMs: 0, factor: 10 }), attempt, () => 0.5),
        0,
      );
  });

  it("a huge factor or attempt count is capped, never Infinity or NaN", () => {
    for (const [factor, attempt, jitter] of [
      [1e200, 3, 0],
      [2, 5_000, 0],
      [1e200, 4, 0.5],
    ] as const) {
      const delay = backoffDelay(policy({ factor, jitter }), attempt, () => 0.5);
      assert.ok(Number.isFinite(delay) && delay > 0, `${factor}^${attempt}: ${delay}`);
    }
    assert.equal(
      backoffDelay(policy({ factor: 1e200, maxMs: 5_000 }), 5, () => 0),
      5_000,
    );
  });

  for (const backoff of [
    { initialMs: 0, factor: 10 },
    { initialMs: 1, factor: 1e200 },
  ]) {
    it(`a task with backoff ${JSON.stringify(backoff)} and many retries ends (it used to stay "retrying" forever)`, async () => {
      const runtime = virtualRuntime();
      const result = await run(
        new Job("j").task("a", { retries: 400, backoff }, () => Promise.reject(new Error("no"))),
        { runtime },
      );
      const a = result.tasks.get("a");
      assert.equal(a.status, "failed");
      assert.equal(a.attempts, 401);
    });
  }

  it("a delay option that is not a number is still refused", async () => {
    assert.throws(
      () => new Job("j").task("a", { timeoutMs: Infinity }, () => 1),
      (e) => isFlotillaError(e, "E_INVALID_OPTION"),
    );
    await assert.rejects(
      run(
        new Job("j").task("a", () => 1),
        { cancelGraceMs: Number.NaN },
      ),
      (e) => isFlotillaError(e, "E_INVALID_OPTION"),
    );
  });
});
