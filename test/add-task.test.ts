import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FlotillaError, Job, start } from "../src/index.ts";
import { deferred, flush } from "./helpers.ts";

const code = (expected: string, pattern?: RegExp) => (e: unknown) =>
  e instanceof FlotillaError && e.code === expected && (pattern === undefined || pattern.test(e.message));

describe("adding tasks to a running job", () => {
  it("runs a task added while the job runs, with typed access to earlier outputs", async () => {
    const gate = deferred();
    const handle = start(
      new Job("grow").task("seed", async () => {
        await gate.promise;
        return 20;
      }),
    );
    await flush();
    const grown = handle.addTask("double", { dependsOn: ["seed"] }, ({ deps }) => deps.seed * 2);
    const both = grown.addTask("independent", () => "free");
    gate.resolve();
    const result = await both.result;
    assert.equal(result.status, "succeeded");
    assert.equal(result.output("double"), 40);
    assert.equal(result.output("independent"), "free");
  });

  it("starts an added task at once when its dependencies already succeeded", async () => {
    const gate = deferred();
    const handle = start(new Job("j").task("a", () => 1).task("hold", () => gate.promise));
    await flush();
    const ran = deferred<number>();
    handle.addTask("b", { dependsOn: ["a"] }, ({ deps }) => ran.resolve(deps.a));
    assert.equal(await ran.promise, 1);
    gate.resolve();
    assert.equal((await handle.result).status, "succeeded");
  });

  it("skips an added task whose dependency already failed", async () => {
    const gate = deferred();
    const handle = start(
      new Job("j")
        .task("bad", () => {
          throw new Error("x");
        })
        .task("hold", () => gate.promise),
    );
    await flush();
    handle.addTask("after", { dependsOn: ["bad"] }, () => 1);
    gate.resolve();
    const result = await handle.result;
    assert.equal(result.tasks.get("after")!.status, "skipped");
  });

  it("refuses an unknown dependency, a self-cycle and a duplicate with the same errors as the builder, leaving the run unchanged", async () => {
    const gate = deferred();
    const handle = start(new Job("j").task("a", () => gate.promise));
    await flush();
    assert.throws(
      () => handle.addTask("b", { dependsOn: ["nope" as never] }, () => 1),
      code("E_UNKNOWN_DEPENDENCY", /task "b" depends on unknown task "nope"/),
    );
    assert.throws(() => handle.addTask("c", { dependsOn: ["c" as never] }, () => 1), code("E_CYCLE", /c -> c/));
    assert.throws(() => handle.addTask("a", () => 1), code("E_DUPLICATE_TASK"));
    assert.throws(() => handle.addTask("d", { retries: -1 }, () => 1), code("E_INVALID_OPTION"));
    // The refused ids are free again.
    handle.addTask("b", () => "b");
    gate.resolve();
    const result = await handle.result;
    assert.deepEqual([...result.tasks.keys()], ["a", "b"]);
  });

  it("raises the priority of the work an added urgent task needs", async () => {
    const order: string[] = [];
    const gate = deferred();
    const job = new Job<Record<string, unknown>>("j")
      .task("hold", () => gate.promise)
      .task("x", { dependsOn: ["hold"] }, () => void order.push("x"))
      .task("y", { dependsOn: ["hold"] }, () => void order.push("y"));
    const handle = start(job, { concurrency: 1 });
    await flush();
    handle.addTask("urgent", { dependsOn: ["y"], priority: 9 }, () => void order.push("urgent"));
    gate.resolve();
    await handle.result;
    assert.deepEqual(order, ["y", "urgent", "x"]);
  });

  it("refuses tasks once the run has ended or was cancelled (E_RUN_ENDED)", async () => {
    const handle = start(new Job("j").task("a", () => 1));
    await handle.result;
    assert.throws(() => handle.addTask("late", () => 1), code("E_RUN_ENDED", /the run of job "j" has ended/));
    const gate = deferred();
    const other = start(new Job("k").task("a", () => gate.promise));
    other.cancel();
    assert.throws(() => other.addTask("late", () => 1), code("E_RUN_ENDED", /has been cancelled/));
    gate.resolve();
    await other.result;
  });
});
