/**
 * explore()'s seed: a fresh one per call unless the test fixes it (the `seed` option, FLOTILLA_SEED),
 * so every run of a suite tries new schedules; the seed is in the report and in every failure, and
 * running with it gives the same schedules and the same failure again.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Job, run } from "../src/index.ts";
import { explore, replay, type ExploreContext } from "../src/testing/index.ts";
import { scheduleFailureOf } from "./helpers.ts";

const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process!.env;

/** Two sleeps of the same length: which completes first is the strategy's choice. */
const twoSleeps = async (t: ExploreContext) => {
  const result = await run(
    new Job("j").task("a", ({ sleep }) => sleep(3)).task("b", ({ sleep }) => sleep(3)),
    { runtime: t.runtime },
  );
  assert.equal(result.status, "succeeded");
};

/** Fails in the schedules where b completes first. */
const racy = async (t: ExploreContext) => {
  const log: string[] = [];
  const job = new Job("race")
    .task("a", async ({ sleep }) => void (await sleep(5), log.push("a")))
    .task("b", async ({ sleep }) => void (await sleep(5), log.push("b")));
  await run(job, { runtime: t.runtime });
  assert.deepEqual(log, ["a", "b"]);
};

const failureOf = scheduleFailureOf;

describe("the seed of an exploration", () => {
  it("is fresh for each explore() call that does not fix it, and reported", async () => {
    const first = await explore(twoSleeps, { iterations: 5 });
    const second = await explore(twoSleeps, { iterations: 5 });
    for (const report of [first, second]) assert.ok(Number.isInteger(report.seed) && report.seed >= 0 && report.seed < 2 ** 32, String(report.seed));
    assert.notEqual(first.seed, second.seed, "two calls, two seeds");
    assert.notDeepEqual(first.seeds, second.seeds);
    // The reported seed runs the same schedules again.
    const again = await explore(twoSleeps, { iterations: 5, seed: first.seed });
    assert.deepEqual(again.seeds, first.seeds);
    assert.equal(again.decisionHash, first.decisionHash);
  });

  it("is fixed by the seed option, and FLOTILLA_SEED overrides both", async () => {
    const a = await explore(twoSleeps, { iterations: 5, seed: 7 });
    const b = await explore(twoSleeps, { iterations: 5, seed: 7 });
    assert.equal(a.seed, 7);
    assert.deepEqual(a.seeds, b.seeds);
    env.FLOTILLA_SEED = "12";
    try {
      assert.equal((await explore(twoSleeps, { iterations: 5 })).seed, 12);
      assert.equal((await explore(twoSleeps, { iterations: 5, seed: 7 })).seed, 12);
    } finally {
      delete env.FLOTILLA_SEED;
    }
  });

  it("is named in every failure, and the same seed fails the same way again", async () => {
    const f = await failureOf(explore(racy, { iterations: 200 }));
    const seed = f.trace.exploreSeed;
    assert.ok(Number.isInteger(seed), "the trace records the exploration's seed");
    assert.ok(f.message.includes(`(seed ${f.seed}, strategy ${f.strategy}, explore seed ${seed})`), f.message);
    assert.ok(f.message.includes(`run its schedules again: explore(test, { seed: ${seed} }) or FLOTILLA_SEED=${seed}`), f.message);
    for (const rerun of [
      () => explore(racy, { iterations: 200, seed }),
      () => {
        env.FLOTILLA_SEED = String(seed);
        return explore(racy, { iterations: 200 }).finally(() => delete env.FLOTILLA_SEED);
      },
    ]) {
      const again = await failureOf(rerun());
      assert.equal(again.iteration, f.iteration);
      assert.equal(again.seed, f.seed);
      assert.deepEqual(again.trace, f.trace);
    }
    const replayed = await failureOf(replay(racy, f));
    assert.equal(replayed.trace.exploreSeed, seed, "a replay's failure names it too");
    assert.ok(replayed.message.includes(`explore seed ${seed}`));
  });
});
