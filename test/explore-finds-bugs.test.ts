/**
 * Bugs that ordinary tests miss and explore() finds from a fixed seed within a bounded number of
 * schedules: an ordering bug between task bodies, a timer-ordering bug, a retry/cancel race, a
 * check-then-create race against a modelled database, and a deadlock.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Job, run, start } from "../src/index.ts";
import { ScheduleFailure, explore, replay, virtualRuntime, type ExploreContext } from "../src/testing/index.ts";
import { scheduleFailureOf } from "./helpers.ts";

const failureOf = (body: (t: ExploreContext) => Promise<void>, options: Parameters<typeof explore>[1]) => scheduleFailureOf(explore(body, options));

describe("explore finds what ordinary tests miss", () => {
  it("an ordering bug between two task bodies, and replays it exactly", async () => {
    const raceJob = (log: string[]) =>
      new Job("race")
        .task("a", async ({ sleep }) => {
          await sleep(5);
          log.push("a");
        })
        .task("b", async ({ sleep }) => {
          await sleep(5);
          log.push("b");
        });
    const body = async (t: ExploreContext) => {
      const log: string[] = [];
      await run(raceJob(log), { runtime: t.runtime });
      assert.deepEqual(log, ["a", "b"], "assumes a finishes first");
    };
    // An ordinary run always orders the two sleeps the same way, so the bug never shows:
    const plain: string[] = [];
    await run(raceJob(plain), { runtime: virtualRuntime() });
    assert.deepEqual(plain, ["a", "b"]);
    const failure = await failureOf(body, { iterations: 50, seed: 11 });
    assert.ok(failure.iteration < 10, `found after ${failure.iteration + 1} schedules`);
    assert.match(failure.message, /schedule failed at step \d+ of iteration \d+ \(seed \d+, strategy (random|pct), explore seed 11\)/);
    assert.match(failure.message, /replay it: await replay\(test, failure\)/);
    assert.match(failure.message, /sleep b#1\.1 \[\d of 2 ready\]/);
    // Replaying gives the same failure at the same step, from the object or from its JSON.
    for (const from of [failure, JSON.stringify(failure.trace)]) {
      const again = await replay(body, from).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(again instanceof ScheduleFailure);
      assert.equal(again.step, failure.step);
      assert.deepEqual(again.trace.labels, failure.trace.labels);
      assert.equal((again.cause as Error).message, (failure.cause as Error).message);
    }
  });

  it("a bug that depends on the order of two timers due at the same moment", async () => {
    const failure = await failureOf(
      async (t) => {
        const order: string[] = [];
        await new Promise<void>((resolve) => {
          t.runtime.setTimer(10, () => order.push("flush"), "timer flush");
          t.runtime.setTimer(
            10,
            () => {
              order.push("close");
              resolve();
            },
            "timer close",
          );
        });
        assert.deepEqual(order, ["flush", "close"], "close must come after flush");
      },
      { iterations: 20, seed: 5, strategy: "random" },
    );
    assert.ok(failure.iteration < 10);
    assert.deepEqual(failure.trace.labels[0], "timer close");
  });

  it("a retry/cancel race: a charge that still happens after its task was cancelled", async () => {
    const failure = await failureOf(
      async (t) => {
        let charges = 0;
        const job = new Job("pay").task("charge", { retries: 2 }, async ({ sleep }) => {
          await sleep(10);
          charges++; // bug: never checks its signal after waiting
        });
        const handle = start(job, { runtime: t.runtime });
        t.runtime.setTimer(10, () => handle.cancel("user gave up"), "timer cancel");
        const result = await handle.result;
        if (result.status === "cancelled") assert.equal(charges, 0, "a cancelled payment must not charge");
      },
      { iterations: 50, seed: 3 },
    );
    assert.match((failure.cause as Error).message, /a cancelled payment must not charge/);
  });

  it("a check-then-create race against a modelled database: found, replayed, then shown fixed", async () => {
    const test = (fixed: boolean) => async (t: ExploreContext) => {
      const rows = new Set<string>();
      const db = t.service("db", { latencyMs: [1, 5] });
      const createUser = async () => {
        if (fixed) {
          // An atomic insert-if-absent: one call, no window between the check and the create.
          await db.call("insertIfAbsent", () => void rows.add("ada"));
          return;
        }
        const exists = await db.call("get", () => rows.has("ada"));
        if (!exists) {
          await db.call("insert", () => {
            if (rows.has("ada")) throw new Error('duplicate key "ada"');
            rows.add("ada");
          });
        }
      };
      const job = new Job("signup").task("web", createUser).task("mobile", createUser);
      const result = await run(job, { runtime: t.runtime });
      assert.equal(result.status, "succeeded", String(result.error));
    };
    const failure = await failureOf(test(false), { iterations: 200, seed: 1 });
    assert.match((failure.cause as Error).message, /duplicate key "ada"/);
    assert.ok(failure.trace.labels.includes("call db.insert"));
    await assert.rejects(replay(test(false), failure), (e: unknown) => e instanceof ScheduleFailure && e.step === failure.step);
    const report = await explore(test(true), { iterations: 200, seed: 1 });
    assert.equal(report.iterations, 200);
  });

  it("a deadlock: a task waits for something only its dependent would do", async () => {
    const failure = await failureOf(
      async (t) => {
        let release!: () => void;
        const lock = new Promise<void>((resolve) => (release = resolve));
        const job = new Job("stuck").task("consumer", async () => lock).task("producer", { dependsOn: ["consumer"] }, () => release());
        await run(job, { runtime: t.runtime });
      },
      { iterations: 5 },
    );
    assert.match(failure.message, /deadlock/);
    assert.match((failure.cause as Error).message, /nothing the runtime controls is pending/);
    assert.match((failure.cause as Error).message, /Still unfinished: job "stuck": task "consumer" \(attempt 1\) is running; 1 more has not started/);
  });
});
