/**
 * The node-loss charging rule with real worker threads (against the BUILT package: `npm run build`
 * first): a task that crashes its thread with process.exit shares it with innocent tasks; they succeed
 * and the crashing task ends with E_NODE_LOST, even with maxNodeLosses 0.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
// Deno does not look for a .d.ts beside a .js file by itself; tsc does, and ignores these comments.
// @ts-types="../dist/index.d.ts"
import { Job, isFlotillaError, start } from "../dist/index.js";
// @ts-types="../dist/worker-threads.d.ts"
import { workerTask, workerThreads } from "../dist/worker-threads.js";

const tasks = new URL("./fixtures/worker/loss-charging.mjs", import.meta.url);

describe("worker threads: who pays for a crashed thread", () => {
  it("innocent tasks sharing a thread with one that calls process.exit succeed; that task fails with E_NODE_LOST", async () => {
    const go = new Int32Array(new SharedArrayBuffer(4));
    // The innocents go first (priority) and wait, without blocking the thread, until the crash has
    // been seen; so all three are on the one thread when it dies.
    const job = new Job("crash")
      .task("x", { priority: 1 }, workerTask<string>(tasks, "waitsForGo", { go, value: "x" }))
      .task("y", { priority: 1 }, workerTask<string>(tasks, "waitsForGo", { go, value: "y" }))
      .task("exits", workerTask(tasks, "crashes"));
    const handle = start(job, { provider: workerThreads({ threads: 1, tasksPerThread: 4 }), maxNodeLosses: 0 });
    const requeued: string[] = [];
    let losses = 0;
    handle.on("node:lost", () => {
      losses++;
      Atomics.store(go, 0, 1);
      Atomics.notify(go, 0);
    });
    handle.on("task:requeued", (e) => requeued.push(e.taskId));
    const result = await handle.result;
    assert.equal(result.tasks.get("x").status, "succeeded", String(result.tasks.get("x").error));
    assert.equal(result.output("x"), "x");
    assert.equal(result.output("y"), "y");
    const exits = result.tasks.get("exits");
    assert.equal(exits.status, "failed");
    assert.ok(isFlotillaError(exits.error, "E_NODE_LOST"), String(exits.error));
    assert.equal(exits.attempts, 2, "a free requeue from the shared thread, then its own crash");
    assert.deepEqual(requeued.sort(), ["exits", "x", "y"]);
    assert.equal(losses, 2);
  });
});
