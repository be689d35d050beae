/**
 * Finding a race with flotilla/testing: two tasks sign the same user up through a modelled database,
 * each checking that the record is absent before creating it. Every ordinary run passes; explore()
 * finds the interleaving where both checks happen before either insert, replay() reproduces it
 * exactly, and the fixed version (one atomic insert-if-absent) passes every schedule tried.
 */
import assert from "node:assert/strict";
import { Job, run } from "flotilla";
import { ScheduleFailure, explore, replay, type ExploreContext } from "flotilla/testing";

function signupTest(fixed: boolean) {
  return async (t: ExploreContext) => {
    const users = new Map<string, string>();
    const db = t.service("db", { latencyMs: [1, 20] }); // each call is a scheduling point
    const signUp = (source: string) => async () => {
      if (fixed) {
        await db.call("insertIfAbsent", () => void (users.has("ada") || users.set("ada", source)));
        return;
      }
      const exists = await db.call("get", () => users.has("ada"));
      if (!exists) {
        await db.call("insert", () => {
          if (users.has("ada")) throw new Error(`duplicate key "ada" (inserted by ${users.get("ada")}, then by ${source})`);
          users.set("ada", source);
        });
      }
    };
    const job = new Job("signup").task("from-web", signUp("web")).task("from-mobile", signUp("mobile"));
    const result = await run(job, { runtime: t.runtime });
    if (result.status !== "succeeded") throw result.error;
  };
}

// 1. Found.
const failure = await explore(signupTest(false), { iterations: 500, seed: 42 }).then(
  () => assert.fail("the race should have been found"),
  (error: unknown) => error as ScheduleFailure,
);
assert.ok(failure instanceof ScheduleFailure);
console.log(`found after ${failure.iteration + 1} schedule(s): ${(failure.cause as Error).message}`);
console.log(failure.trace.labels.filter((l) => l.startsWith("call")).join(" -> "));

// 2. Replayed: the same steps, the same error.
const again = await replay(signupTest(false), JSON.stringify(failure.trace)).then(
  () => assert.fail("the replay should fail the same way"),
  (error: unknown) => error as ScheduleFailure,
);
assert.equal(again.step, failure.step);
console.log(`replayed: the same failure at step ${again.step}`);

// 3. Fixed: every schedule passes.
const report = await explore(signupTest(true), { iterations: 500, seed: 42 });
console.log(`fixed: ${report.iterations} schedules passed (steps ${report.steps.min}-${report.steps.max})`);
