// The testing kit from vitest: explore() is an ordinary async function, so it runs in any test runner.
import { expect, test } from "vitest";
import { Job, run } from "../../src/index.ts";
import { ScheduleFailure, explore } from "../../src/testing/index.ts";

test("explore finds a timer-ordering bug and passes a correct job under vitest", async () => {
  const racy = async (t: Parameters<Parameters<typeof explore>[0]>[0]) => {
    const log: string[] = [];
    const job = new Job("race")
      .task("a", async ({ sleep }) => void (await sleep(5), log.push("a")))
      .task("b", async ({ sleep }) => void (await sleep(5), log.push("b")));
    await run(job, { runtime: t.runtime });
    expect(log).toEqual(["a", "b"]);
  };
  await expect(explore(racy, { iterations: 50, seed: 11 })).rejects.toBeInstanceOf(ScheduleFailure);
  const report = await explore(
    async (t) => {
      const result = await run(
        new Job("ok").task("a", ({ sleep }) => sleep(5)),
        { runtime: t.runtime },
      );
      expect(result.status).toBe("succeeded");
    },
    { iterations: 50 },
  );
  expect(report.iterations).toBe(50);
});
