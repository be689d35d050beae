import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CancelledError, DependencyFailedError, Job, run } from "../src/index.ts";
import { deferred, untilAborted } from "./helpers.ts";

const fail = (message: string) => () => {
  throw new Error(message);
};

describe("what a failure means for the rest of the job", () => {
  it("skips the transitive dependents of a failed task (onFailure: block) while unrelated branches go on", async () => {
    const job = new Job<Record<string, unknown>>("etl")
      .task("extract", fail("source down"))
      .task("transform", { dependsOn: ["extract"] }, () => "t")
      .task("load", { dependsOn: ["transform"] }, () => "l")
      .task("audit", () => "audited");
    const result = await run(job);
    assert.equal(result.status, "failed");
    assert.equal((result.error as Error).message, "source down");
    assert.deepEqual(result.counts, { succeeded: 1, failed: 1, cancelled: 0, skipped: 2 });
    const transform = result.tasks.get("transform")!;
    assert.equal(transform.status, "skipped");
    assert.equal(transform.attempts, 0);
    assert.ok(transform.error instanceof DependencyFailedError);
    assert.equal(transform.error.code, "E_DEPENDENCY_FAILED");
    assert.equal(transform.error.message, 'task "transform" was skipped: its dependency "extract" failed');
    assert.equal(transform.error.dependency, "extract");
    const load = result.tasks.get("load")!.error as DependencyFailedError;
    assert.equal(load.message, 'task "load" was skipped: its dependency "transform" was skipped');
    assert.equal(result.output("audit"), "audited");
  });

  it("lets dependents run and see the error when the failed task has onFailure: satisfy", async () => {
    const job = new Job("cleanup")
      .task("work", { onFailure: "satisfy" }, fail("disk full"))
      .task("ok", () => 5)
      .task("report", { dependsOn: ["work", "ok"] }, ({ deps, failures }) => ({
        work: deps.work,
        ok: deps.ok,
        failed: Object.keys(failures),
        why: (failures.work as Error).message,
      }));
    const result = await run(job);
    assert.equal(result.status, "failed");
    assert.deepEqual(result.output("report"), { work: undefined, ok: 5, failed: ["work"], why: "disk full" });
  });

  it("cancels everything still running or waiting at the first failure with failFast", async () => {
    const aborted = deferred<unknown>();
    const job = new Job<Record<string, unknown>>("ff")
      .task("slow", async (ctx) => {
        ctx.signal.addEventListener("abort", () => aborted.resolve(ctx.signal.reason));
        return untilAborted(ctx);
      })
      .task("bad", async () => {
        await Promise.resolve();
        throw new Error("bad input");
      })
      .task("after", { dependsOn: ["slow"] }, () => 1);
    const result = await run(job, { failFast: true });
    assert.equal(result.status, "failed");
    assert.equal((result.error as Error).message, "bad input");
    assert.equal(result.tasks.get("bad")!.status, "failed");
    for (const id of ["slow", "after"]) {
      const task = result.tasks.get(id)!;
      assert.equal(task.status, "cancelled", id);
      assert.ok(task.error instanceof CancelledError);
      assert.equal(task.error.source, "failFast");
    }
    const reason = await aborted.promise;
    assert.ok(reason instanceof CancelledError);
    assert.match(reason.message, /cancelled by failFast after a task failed: bad input/);
  });

  it("without failFast, a failure leaves running siblings to finish", async () => {
    const job = new Job("no-ff").task("bad", fail("x")).task("sibling", async () => {
      await Promise.resolve();
      return "done";
    });
    const result = await run(job);
    assert.equal(result.status, "failed");
    assert.equal(result.output("sibling"), "done");
  });

  it("keeps a thrown non-Error value as the task's error", async () => {
    const result = await run(
      new Job("j").task("a", () => {
        throw "plain string";
      }),
    );
    assert.equal(result.tasks.get("a").error, "plain string");
  });
});
