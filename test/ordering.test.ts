import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Job, run, start } from "../src/index.ts";
import { deferred, flush } from "./helpers.ts";

/** Runs a job with concurrency 1 and returns the order in which bodies started. */
async function startOrder(build: (job: Job<Record<string, unknown>>, log: (id: string) => () => void) => void): Promise<string[]> {
  const order: string[] = [];
  const job = new Job<Record<string, unknown>>("order");
  build(job, (id) => () => void order.push(id));
  const result = await run(job, { concurrency: 1 });
  assert.equal(result.status, "succeeded");
  return order;
}

describe("dependency order and parallelism", () => {
  it("never starts a task before all its dependencies succeeded, and passes their outputs", async () => {
    const finished = new Set<string>();
    const job = new Job("diamond")
      .task("a", async () => {
        await flush();
        finished.add("a");
        return 1;
      })
      .task("b", { dependsOn: ["a"] }, async ({ deps }) => {
        assert.ok(finished.has("a"));
        await flush();
        finished.add("b");
        return deps.a + 1;
      })
      .task("c", { dependsOn: ["a"] }, ({ deps }) => {
        assert.ok(finished.has("a"));
        finished.add("c");
        return deps.a + 2;
      })
      .task("d", { dependsOn: ["b", "c"] }, ({ deps }) => {
        assert.ok(finished.has("b") && finished.has("c"));
        return deps.b * deps.c;
      });
    const result = await run(job);
    assert.equal(result.status, "succeeded");
    assert.equal(result.output("d"), 6);
    assert.deepEqual(result.counts, { succeeded: 4, failed: 0, cancelled: 0, skipped: 0 });
    for (const [, task] of result.tasks) assert.equal(task.attempts, 1);
  });

  it("runs independent tasks in parallel up to concurrency, and never more", async () => {
    const gates = Array.from({ length: 6 }, () => deferred());
    let running = 0;
    let peak = 0;
    const job = new Job<Record<string, unknown>>("wide");
    gates.forEach((gate, i) =>
      job.task(`t${i}`, async () => {
        running++;
        peak = Math.max(peak, running);
        await gate.promise;
        running--;
      }),
    );
    const handle = start(job, { concurrency: 3 });
    await flush();
    assert.equal(running, 3, "three tasks start at once");
    gates[0]!.resolve();
    await flush();
    assert.equal(running, 3, "a finished task's slot is refilled");
    gates.forEach((g) => g.resolve());
    const result = await handle.result;
    assert.equal(result.status, "succeeded");
    assert.equal(peak, 3);
  });

  it("starts ready tasks by priority, then longest path to a sink, then insertion order", async () => {
    const order = await startOrder((job, log) => {
      job.task("short", log("short")); // a sink: path length 0
      job.task("long1", log("long1")); // heads a chain of 3
      job.task("long2", { dependsOn: ["long1"] }, log("long2"));
      job.task("long3", { dependsOn: ["long2"] }, log("long3"));
      job.task("urgent", { priority: 5 }, log("urgent"));
      job.task("tie1", log("tie1"));
    });
    // long3 and short tie on priority and path length (both sinks), so insertion order decides.
    assert.deepEqual(order, ["urgent", "long1", "long2", "short", "long3", "tie1"]);
  });

  it("gives the work an urgent task waits on that task's priority (effective priority)", async () => {
    const order = await startOrder((job, log) => {
      job.task("other", { priority: 1 }, log("other"));
      job.task("prep", log("prep")); // priority 0 of its own, but "report" (10) needs it
      job.task("report", { dependsOn: ["prep"], priority: 10 }, log("report"));
    });
    assert.deepEqual(order, ["prep", "report", "other"]);
  });

  it("completes a long chain of synchronous bodies without growing the stack", async () => {
    const job = new Job<Record<string, number>>("chain");
    job.task("t0", () => 0);
    for (let i = 1; i < 50_000; i++) job.task(`t${i}`, { dependsOn: [`t${i - 1}`] }, ({ deps }) => deps[`t${i - 1}`]! + 1);
    const result = await run(job);
    assert.equal(result.status, "succeeded");
    assert.equal(result.output("t49999"), 49_999);
  });

  it("lets a task depend on tasks declared after it (plain JavaScript builds)", async () => {
    const job = new Job<Record<string, number>>("forward")
      .task("sum", { dependsOn: ["x", "y"] }, ({ deps }) => deps.x! + deps.y!)
      .task("x", () => 1)
      .task("y", { dependsOn: ["x"] }, ({ deps }) => deps.x! + 1);
    const result = await run(job);
    assert.equal(result.output("sum"), 3);
    assert.equal((await run(job)).output("sum"), 3, "and again, on the same job");
  });

  it("accepts thenables that are not native promises", async () => {
    const thenable = { then: (ok: (v: number) => void) => ok(7) };
    const result = await run(new Job("t").task("a", () => thenable as unknown as Promise<number>));
    assert.equal(result.output("a"), 7);
  });

  it("reports a task body that throws synchronously as that task's failure", async () => {
    const result = await run(
      new Job("t").task("a", () => {
        throw new Error("boom");
      }),
    );
    assert.equal(result.status, "failed");
    assert.equal((result.tasks.get("a").error as Error).message, "boom");
    assert.equal((result.error as Error).message, "boom");
  });
});
