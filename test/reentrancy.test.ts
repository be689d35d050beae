/**
 * User code that runs in the middle of the executor's own work — listeners, abort handlers, task
 * bodies calling back into the handle — must never corrupt the run. Each case here was a bug found
 * in review; each test fails without its fix.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FlotillaError, Job, NodeLostError, start, type ComputeProvider, type RunEvent } from "../src/index.ts";
import { explore, virtualRuntime } from "../src/testing/index.ts";
import { flush } from "./helpers.ts";

describe("re-entrant user code", () => {
  it("a task added from a task:succeeded listener starts after the finished task's own dependents (dispatch order does not depend on where addTask is called)", async () => {
    const order: string[] = [];
    const job = new Job<Record<string, unknown>>("j").task("a", async () => 1).task("b", { dependsOn: ["a"] }, () => void order.push("b"));
    const handle = start(job, { concurrency: 1 });
    handle.on("task:succeeded", (e) => {
      if (e.taskId === "a") handle.addTask("extra", { dependsOn: ["a"] }, () => void order.push("extra"));
    });
    const started: string[] = [];
    handle.on("task:start", (e) => started.push(e.taskId));
    await handle.result;
    // "b" and "extra" are equal in priority and path; "b" is earlier in insertion order.
    assert.deepEqual(started, ["a", "b", "extra"]);
    assert.deepEqual(order, ["b", "extra"]);
  });

  it("explore(): a task added from a task:succeeded listener never starts before its dependency is seen finished", async () => {
    await explore(
      async (t) => {
        const job = new Job<Record<string, unknown>>("j")
          .task("a", async ({ sleep }) => (await sleep(1), 1))
          .task("b", { dependsOn: ["a"] }, async ({ sleep }) => (await sleep(1), 2));
        const handle = start(job, { runtime: t.runtime });
        handle.on("task:succeeded", (e) => {
          if (e.taskId === "a") handle.addTask("extra", { dependsOn: ["a"] }, () => 3);
        });
        const result = await handle.result;
        assert.equal(result.output("extra"), 3);
      },
      { iterations: 50, seed: 12 },
    );
  });

  it("a task added from a task:output listener of an async body still runs (its dispatch is not lost)", async () => {
    const runtime = virtualRuntime();
    const handle = start(
      new Job<Record<string, unknown>>("j").task("a", async ({ log, sleep }) => (await sleep(1), log("add"), await sleep(1), 1)),
      { runtime },
    );
    handle.once("task:output", () => handle.addTask("extra", () => "added"));
    const result = await handle.result;
    assert.equal(result.output("extra"), "added");
  });

  it("a synchronous body that adds 100 tasks to its running job: they all run and the run settles", async () => {
    const runtime = virtualRuntime();
    const handle = start(
      new Job<Record<string, unknown>>("grow").task("a", () => {
        for (let k = 0; k < 100; k++) handle.addTask(`x${k}`, () => k);
        return 1;
      }),
      { runtime },
    );
    const result = await handle.result;
    assert.equal(result.status, "succeeded");
    assert.equal(result.counts.succeeded, 101);
  });

  it("a task added by a task:succeeded listener still waits for its other, unfinished dependency", async () => {
    const runtime = virtualRuntime();
    const handle = start(
      new Job("j").task("a", () => 1).task("b", async ({ sleep }) => (await sleep(100), "b")),
      { runtime },
    );
    const padded = handle.addTask("pad", () => 0);
    let seen: unknown = "not run";
    handle.on("task:succeeded", (e) => {
      if (e.taskId === "a") padded.addTask("c", { dependsOn: ["a", "b"] }, ({ deps }) => void (seen = [deps.b, runtime.now()]));
    });
    await handle.result;
    assert.deepEqual(seen, ["b", 100]);
  });

  for (const how of ["cancelTask", "timeout"] as const) {
    it(`an abort listener that cancels the whole run (during ${how}) leaves a settled, cancelled run`, async () => {
      const runtime = virtualRuntime();
      const job = new Job("j")
        .task(
          "a",
          { timeoutMs: how === "timeout" ? 20 : undefined },
          ({ signal }) => new Promise((resolve) => signal.addEventListener("abort", () => (handle.cancel("from a listener"), resolve(0)))),
        )
        .task("b", ({ signal }) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))));
      const handle = start(job, { runtime });
      if (how === "cancelTask") runtime.setTimer(5, () => void handle.cancelTask("a"));
      const result = await handle.result;
      assert.equal(result.status, "cancelled");
      assert.equal(result.tasks.get("b")!.status, "cancelled");
      assert.equal(runtime.pendingTimers, 0);
    });
  }

  it("a task added by a task:failed listener while no node can start ends exactly once", async () => {
    const runtime = virtualRuntime();
    const provider: ComputeProvider = {
      name: "down",
      startNode: () => {
        throw new Error("no capacity");
      },
      stopNode: () => {},
      run: () => undefined,
    };
    const handle = start(
      new Job("j").task("a", () => 1).task("b", { dependsOn: ["a"] }, () => 2),
      { runtime, provider },
    );
    const terminal: string[] = [];
    let added = false;
    for (const name of ["task:succeeded", "task:failed", "task:skipped", "task:cancelled"] as const) {
      handle.on(name, (e: RunEvent) => void terminal.push(`${e.type} ${"taskId" in e ? e.taskId : ""}`));
    }
    handle.on("task:failed", () => {
      if (!added) (added = true), handle.addTask("late", () => 3);
    });
    const result = await handle.result;
    assert.equal(new Set(terminal.map((t) => t.split(" ")[1])).size, terminal.length, `one terminal event per task: ${terminal.join(", ")}`);
    assert.equal(result.tasks.size, 3);
    for (const [, task] of result.tasks) assert.ok(["failed", "skipped"].includes(task.status));
  });

  it("a task waiting to retry is failed cleanly when no node can be started again: no timer left", async () => {
    const runtime = virtualRuntime();
    let starts = 0;
    const provider: ComputeProvider = {
      name: "flaky",
      startNode: () => {
        if (++starts > 1) throw new Error("quota");
        return { id: "n1", slots: 4 };
      },
      stopNode: () => {},
      run: (node, body, ctx) => (ctx.taskId === "lost" ? Promise.reject(new NodeLostError(node.id)) : body(ctx)),
    };
    const job = new Job("j").task("flaky", { retries: 1, backoff: { initialMs: 60_000 } }, () => Promise.reject(new Error("no"))).task("lost", () => 1);
    const result = await start(job, { runtime, provider }).result;
    assert.equal(result.status, "failed");
    assert.equal(runtime.pendingTimers, 0);
  });
});

describe("fault points and providers that misbehave", () => {
  it("a delayed completion of a timed-out attempt leaves no timer", async () => {
    const runtime = virtualRuntime({ fault: (p) => (p === "task.complete" ? { kind: "delay", ms: 60_000 } : undefined) });
    const result = await start(
      new Job("j").task("a", { timeoutMs: 10 }, async () => 1),
      { runtime, cancelGraceMs: 5 },
    ).result;
    assert.equal(result.status, "failed");
    assert.equal(runtime.pendingTimers, 0);
  });

  it("a lost dispatch requeues that task only; the node and what runs on it go on", async () => {
    let aRuns = 0;
    let fired = false;
    const runtime = virtualRuntime({
      fault: (p, c) => (p === "task.dispatch" && c.taskId === "b" && !fired ? ((fired = true), { kind: "fail" as const }) : undefined),
    });
    const job = new Job("j").task("a", { priority: 1 }, async ({ sleep }) => (aRuns++, await sleep(10), "a")).task("b", () => "b");
    const result = await start(job, { runtime }).result;
    assert.equal(result.status, "succeeded");
    assert.equal(aRuns, 1);
    assert.equal(result.tasks.get("b")!.attempts, 2);
  });

  it("a node with 0 slots is refused with a typed error instead of hanging", async () => {
    const runtime = virtualRuntime();
    const provider: ComputeProvider = { name: "zero", startNode: () => ({ id: "n", slots: 0 }), stopNode: () => {}, run: (_n, body, ctx) => body(ctx) };
    const result = await start(
      new Job("j").task("a", () => 1),
      { runtime, provider },
    ).result;
    assert.equal(result.status, "failed");
    const cause = (result.tasks.get("a")!.error as Error).cause;
    assert.ok(cause instanceof FlotillaError && cause.code === "E_INVALID_OPTION" && /slots: number 0/.test(cause.message), String(cause));
  });

  it("a refused run that is only iterated (and caught) raises no unhandled rejection", async () => {
    const handle = start(
      new Job("j").task("a", () => 1),
      { concurrency: 0 },
    );
    await assert.rejects(async () => {
      for await (const e of handle) void e;
    }, /concurrency/);
    handle.cancel();
    await flush(); // one turn of the event loop: an unhandled rejection would fail this test
  });
});
