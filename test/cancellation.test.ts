import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CancelledError, FlotillaError, Job, run, start } from "../src/index.ts";
import { virtualRuntime } from "../src/testing/index.ts";
import { deferred, flush, untilAborted } from "./helpers.ts";

/** A job whose "work" task runs until aborted and records its abort reason. */
function blockingJob() {
  const started = deferred();
  const reason = deferred<unknown>();
  const job = new Job("blocking")
    .task("quick", () => "q")
    .task("work", async (ctx) => {
      started.resolve();
      try {
        return await untilAborted(ctx);
      } catch (error) {
        reason.resolve(error);
        throw error;
      }
    })
    .task("after", { dependsOn: ["work"] }, () => "a")
    .task("later", { dependsOn: ["quick"] }, () => "l");
  return { job, started: started.promise, reason: reason.promise };
}

describe("cancellation", () => {
  it("cancels a run from the caller's AbortSignal and removes its listener afterwards", async () => {
    const { job, started, reason } = blockingJob();
    const controller = new AbortController();
    let listeners = 0;
    const add = controller.signal.addEventListener.bind(controller.signal);
    const remove = controller.signal.removeEventListener.bind(controller.signal);
    controller.signal.addEventListener = ((...args: Parameters<typeof add>) => (listeners++, add(...args))) as typeof add;
    controller.signal.removeEventListener = ((...args: Parameters<typeof remove>) => (listeners--, remove(...args))) as typeof remove;
    const pending = run(job, { signal: controller.signal });
    await started;
    controller.abort("user left");
    const result = await pending;
    assert.equal(result.status, "cancelled");
    const why = await reason;
    assert.ok(why instanceof CancelledError);
    assert.equal(why.source, "signal");
    assert.equal(why.reason, "user left");
    assert.equal(result.error, why);
    assert.equal(result.tasks.get("work")!.status, "cancelled");
    assert.equal(result.tasks.get("after")!.status, "cancelled");
    assert.equal(result.output("quick"), "q");
    assert.equal(listeners, 0, "the run removed its abort listener");
  });

  it("removes its listener from the caller's signal when the run ends normally", async () => {
    const controller = new AbortController();
    let removed = 0;
    const remove = controller.signal.removeEventListener.bind(controller.signal);
    controller.signal.removeEventListener = ((...args: Parameters<typeof remove>) => (removed++, remove(...args))) as typeof remove;
    await run(
      new Job("j").task("a", () => 1),
      { signal: controller.signal },
    );
    assert.equal(removed, 1);
  });

  it("with an already-aborted signal, runs nothing and ends cancelled", async () => {
    let ran = false;
    const result = await run(
      new Job("j").task("a", () => void (ran = true)),
      { signal: AbortSignal.abort("too late") },
    );
    assert.equal(ran, false);
    assert.equal(result.status, "cancelled");
    assert.equal(result.tasks.get("a")!.status, "cancelled");
    assert.equal(result.tasks.get("a")!.attempts, 0);
  });

  it("cancel(reason) aborts in-flight work at once; cancelling twice or after the end is harmless", async () => {
    const { job, started, reason } = blockingJob();
    const handle = start(job);
    await started;
    handle.cancel("stop");
    handle.cancel("again");
    const result = await handle.result;
    assert.equal(result.status, "cancelled");
    const why = (await reason) as CancelledError;
    assert.equal(why.source, "cancel");
    assert.equal(why.reason, "stop");
    assert.match(why.message, /the run of job "blocking" was cancelled by cancel\(\): stop/);
    handle.cancel("after the end");
    assert.equal(handle.cancelTask("work"), false);
    assert.equal(handle.status, "cancelled");
  });

  it("cancelTask aborts one task, skips what depends on it, and lets the rest finish", async () => {
    const { job, started, reason } = blockingJob();
    const handle = start(job);
    await started;
    assert.equal(handle.cancelTask("work", "not needed"), true);
    assert.equal(handle.cancelTask("work"), false, "a second cancel changes nothing");
    const result = await handle.result;
    const why = (await reason) as CancelledError;
    assert.equal(why.source, "cancelTask");
    assert.equal(result.tasks.get("work")!.status, "cancelled");
    assert.equal(result.tasks.get("after")!.status, "skipped");
    assert.match(String((result.tasks.get("after")!.error as Error).message), /its dependency "work" was cancelled/);
    assert.equal(result.output("later"), "l");
    assert.equal(result.status, "cancelled");
  });

  it("cancelTask on a task that has not started yet cancels it before it runs", async () => {
    const gate = deferred();
    let ran = false;
    const job = new Job("j").task("first", () => gate.promise).task("second", { dependsOn: ["first"] }, () => void (ran = true));
    const handle = start(job);
    await flush();
    handle.cancelTask("second");
    gate.resolve();
    const result = await handle.result;
    assert.equal(ran, false);
    assert.equal(result.tasks.get("second")!.attempts, 0);
    assert.equal(result.tasks.get("second")!.status, "cancelled");
  });

  it("cancel and cancelTask right after start, before anything ran, run nothing of what they cancel", async () => {
    let ran: string[] = [];
    const job = new Job("early").task("a", () => void ran.push("a")).task("b", () => void ran.push("b"));
    const whole = start(job);
    const events: string[] = [];
    whole.on("job:start", () => events.push("job:start"));
    whole.on("task:cancelled", (e) => events.push(`cancelled ${e.taskId}`));
    whole.cancel("changed my mind");
    const result = await whole.result;
    assert.equal(result.status, "cancelled");
    assert.deepEqual(ran, []);
    assert.deepEqual(events, ["job:start", "cancelled a", "cancelled b"]);

    ran = [];
    const one = start(job);
    assert.equal(one.cancelTask("a"), true);
    const partial = await one.result;
    assert.deepEqual(ran, ["b"]);
    assert.equal(partial.tasks.get("a")!.status, "cancelled");
  });

  it("cancelTask with an unknown id throws E_UNKNOWN_TASK", async () => {
    const handle = start(new Job("j").task("a", () => 1));
    assert.throws(
      () => handle.cancelTask("b" as never),
      (e: unknown) => e instanceof FlotillaError && e.code === "E_UNKNOWN_TASK" && /has no task "b"/.test(e.message),
    );
    await handle.result;
  });

  it("cancels a task waiting for its retry backoff, clearing the timer", async () => {
    const runtime = virtualRuntime();
    const handle = start(
      new Job("j").task("a", { retries: 5, backoff: { initialMs: 60_000 } }, () => Promise.reject(new Error("no"))),
      { runtime },
    );
    handle.once("task:retry", () => handle.cancel("enough"));
    const result = await handle.result;
    assert.equal(result.status, "cancelled");
    assert.equal(result.tasks.get("a")!.attempts, 1);
    assert.equal(runtime.pendingTimers, 0);
    assert.equal(runtime.now(), 0, "no time passed: the backoff timer was cleared, not waited for");
  });

  it("abandons a body that ignores its signal after cancelGraceMs instead of hanging", async () => {
    const runtime = virtualRuntime();
    const started = deferred();
    const handle = start(
      new Job("j").task("deaf", () => {
        started.resolve();
        return new Promise(() => {}); // never settles, never looks at its signal
      }),
      { runtime, cancelGraceMs: 2_000 },
    );
    const abandoned: string[] = [];
    handle.on("task:abandoned", (e) => abandoned.push(e.taskId));
    await started.promise;
    handle.cancel();
    const result = await handle.result;
    assert.equal(result.status, "cancelled");
    assert.deepEqual(abandoned, ["deaf"]);
    assert.equal(result.finishedAt, 2_000);
    assert.equal(runtime.pendingTimers, 0);
  });

  it("gives a body that reads its signal after the cancel an already-aborted signal", async () => {
    const gate = deferred();
    const seen = deferred<boolean>();
    const handle = start(
      new Job("j").task("late", async (ctx) => {
        await gate.promise;
        seen.resolve(ctx.signal.aborted);
      }),
    );
    await flush();
    handle.cancel();
    gate.resolve();
    assert.equal(await seen.promise, true);
    await handle.result;
  });

  it("ctx.onAbort calls its listener once with the reason, can be removed, and fires at once after an abort", async () => {
    const heard: unknown[] = [];
    const removedHeard: unknown[] = [];
    const late: unknown[] = [];
    const started = deferred();
    const handle = start(
      new Job("j").task("work", async ({ onAbort, sleep }) => {
        onAbort((reason) => heard.push(reason));
        const remove = onAbort((reason) => removedHeard.push(reason));
        remove();
        started.resolve();
        try {
          await sleep(60_000);
        } finally {
          onAbort((reason) => late.push(reason)); // already aborted: called at once
        }
      }),
      { runtime: virtualRuntime() },
    );
    await started.promise;
    handle.cancelTask("work", "stop now");
    const result = await handle.result;
    assert.equal(result.tasks.get("work").status, "cancelled");
    assert.equal(heard.length, 1);
    assert.ok(heard[0] instanceof CancelledError && /stop now/.test(heard[0].message));
    assert.deepEqual(removedHeard, []);
    assert.equal(late[0], heard[0]);
  });
});
