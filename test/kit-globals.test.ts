/**
 * explore() patches process-wide globals for each schedule (setTimeout, setInterval, the unhandled
 * rejection listeners) to catch what a schedule cannot control. They are always put back: after a
 * passing or failing exploration, after a replay, and when a second exploration is refused because
 * one is already running.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FlotillaError, Job, run } from "../src/index.ts";
import { ScheduleFailure, explore, replay, type ExploreContext } from "../src/testing/index.ts";
import { scheduleFailureOf } from "./helpers.ts";

const proc = (globalThis as { Deno?: unknown }).Deno === undefined ? (globalThis as { process?: NodeJS.Process }).process : undefined;

/** The globals a schedule patches, to compare before and after. */
function globals() {
  return {
    setTimeout: globalThis.setTimeout,
    setInterval: globalThis.setInterval,
    // Deno: the kit listens with addEventListener, which cannot be counted; the identities still can.
    rejectionListeners: proc?.listeners("unhandledRejection") ?? [],
  };
}

function assertRestored(before: ReturnType<typeof globals>, what: string): void {
  const after = globals();
  assert.equal(after.setTimeout, before.setTimeout, `${what}: globalThis.setTimeout is the original again`);
  assert.equal(after.setInterval, before.setInterval, `${what}: globalThis.setInterval is the original again`);
  assert.deepEqual(after.rejectionListeners, before.rejectionListeners, `${what}: the same unhandledRejection listeners, in the same order`);
}

const passing = async (t: ExploreContext) => {
  const result = await run(
    new Job("j").task("a", ({ sleep }) => sleep(2)).task("b", ({ sleep }) => sleep(2)),
    { runtime: t.runtime },
  );
  assert.equal(result.status, "succeeded");
};

const failureOf = scheduleFailureOf;

const isAlreadyRunning = (e: unknown) =>
  e instanceof FlotillaError &&
  e.code === "E_INVALID_OPTION" &&
  /explore\(\) is already running: await it before starting another explore\(\) or replay\(\)/.test(e.message);

describe("explore() puts the globals it patches back", () => {
  it("after an exploration that passes, and one whose test body throws", async () => {
    const before = globals();
    await explore(passing, { iterations: 3, seed: 1 });
    assertRestored(before, "passing");
    await assert.rejects(
      explore(() => Promise.reject(new Error("boom")), { iterations: 3, seed: 1 }),
      ScheduleFailure,
    );
    assertRestored(before, "body threw");
    await assert.rejects(
      explore(
        () => {
          throw new Error("sync boom");
        },
        { iterations: 3, seed: 1 },
      ),
      ScheduleFailure,
    );
    assertRestored(before, "body threw synchronously");
  });

  it("after a schedule that started a real timer or got stuck, and after a replay", async () => {
    const before = globals();
    const f = await failureOf(explore(() => new Promise((resolve) => setTimeout(resolve, 1)), { iterations: 2, seed: 1 }));
    assertRestored(before, "real timer");
    await assert.rejects(
      explore(() => new Promise(() => {}), { iterations: 2, seed: 1 }),
      ScheduleFailure,
    );
    assertRestored(before, "stuck");
    await assert.rejects(
      replay(() => new Promise((resolve) => setTimeout(resolve, 1)), f),
      ScheduleFailure,
    );
    assertRestored(before, "replay");
  });

  it("refuses a second explore() while one runs, with a typed error; both leave the globals as they were", async () => {
    const before = globals();
    const [first, second] = await Promise.allSettled([explore(passing, { iterations: 20, seed: 1 }), explore(passing, { iterations: 20, seed: 2 })]);
    assert.equal(first.status, "fulfilled");
    assert.equal(first.value.iterations, 20);
    assert.equal(second.status, "rejected");
    assert.ok(isAlreadyRunning(second.reason), String(second.reason));
    assertRestored(before, "concurrent");
    // A replay is refused the same way, and the refusal does not disturb the exploration running.
    const f = await failureOf(explore(() => Promise.reject(new Error("boom")), { iterations: 1, seed: 1 }));
    const [again, refused] = await Promise.allSettled([explore(passing, { iterations: 5, seed: 1 }), replay(() => {}, f)]);
    assert.equal(again.status, "fulfilled");
    assert.equal(refused.status, "rejected");
    assert.ok(isAlreadyRunning(refused.reason), String(refused.reason));
    assertRestored(before, "explore and replay at once");
    // Once the first has settled, the next one runs.
    assert.equal((await explore(passing, { iterations: 2, seed: 1 })).iterations, 2);
  });

  it("refuses an explore() started from inside an explored test", async () => {
    const before = globals();
    let inner: unknown;
    await explore(
      async () => {
        inner = await explore(passing, { iterations: 1 }).then(
          () => "ran",
          (e: unknown) => e,
        );
      },
      { iterations: 1, seed: 1 },
    );
    assert.ok(isAlreadyRunning(inner), String(inner));
    assertRestored(before, "nested");
  });

  it("a real setInterval a schedule started is flagged and cleared when the schedule ends", async () => {
    const realClearInterval = globalThis.clearInterval;
    const cleared: unknown[] = [];
    let handle: unknown;
    globalThis.clearInterval = ((h: Parameters<typeof clearInterval>[0]) => {
      cleared.push(h);
      realClearInterval(h);
    }) as typeof clearInterval;
    try {
      const f = await failureOf(
        explore(
          async (t) => {
            handle = setInterval(() => {}, 1);
            await new Promise<void>((resolve) => t.runtime.setTimer(1, resolve, "timer tick"));
          },
          { iterations: 1, seed: 1 },
        ),
      );
      assert.match((f.cause as Error).message, /started a real timer \(setInterval, 1 ms\)/);
      assert.ok(handle !== undefined && cleared.includes(handle), "the interval was cleared when the schedule ended");
    } finally {
      globalThis.clearInterval = realClearInterval;
    }
  });
});
