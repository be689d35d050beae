/**
 * Testing a job under faults: an ETL job whose load step retries, explored over 300 schedules with
 * attempts failing at random (5%), a chosen crash (the first attempt of "load"), and lost completions,
 * checking after every step that nothing is loaded twice, and that once faults stop the job finishes.
 */
import assert from "node:assert/strict";
import { Job, run } from "flotilla";
import { explore } from "flotilla/testing";

const report = await explore(
  async (t) => {
    const warehouse = t.service("warehouse", { latencyMs: [5, 50] });
    let loaded = 0;
    t.invariant("loaded at most once", () => loaded <= 1);
    const job = new Job("etl")
      .task("extract", { retries: 3, backoff: { initialMs: 100 } }, async ({ sleep }) => {
        await sleep(30);
        return [1, 2, 3];
      })
      .task("transform", { dependsOn: ["extract"], retries: 3 }, ({ deps }) => deps.extract.map((x) => x * 10))
      .task("load", { dependsOn: ["transform"], retries: 5, timeoutMs: 1_000, backoff: { initialMs: 200, jitter: 0.5 } }, async ({ deps }) => {
        // Idempotent by design: a retried load after a lost completion must not load twice.
        await warehouse.call("upsert", () => void (loaded = 1));
        return deps.transform.length;
      });
    const result = await run(job, { runtime: t.runtime, concurrency: 2 });
    assert.equal(result.status, "succeeded", String(result.error));
    assert.equal(result.output("load"), 3);
  },
  {
    iterations: 300,
    seed: 7,
    faults: {
      "task.attempt": [
        { when: (c) => c.taskId === "load" && c.attempt === 1, action: { kind: "fail", error: new Error("worker crashed") } },
        { probability: 0.05, action: { kind: "fail" } },
      ],
      "task.complete": { probability: 0.05, action: { kind: "timeout" } },
    },
  },
);
console.log(`${report.iterations} schedules passed in ${report.durationMs} ms; faults fired: ${JSON.stringify(report.faultsFired)}`);
