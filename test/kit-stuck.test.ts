/**
 * A schedule whose test waits while nothing the runtime controls is pending cannot go on. explore()
 * fails it and says what it is: waiting on work the runtime does not control (real I/O, a real timer,
 * a promise from outside) or a deadlock, which tasks are still running or waiting, and what to do.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Job, run, type ComputeProvider } from "../src/index.ts";
import { explore, type ExploreContext } from "../src/testing/index.ts";
import { deferred, scheduleFailureOf } from "./helpers.ts";

const failureOf = (body: (t: ExploreContext) => unknown) => scheduleFailureOf(explore(body, { iterations: 3, seed: 1 }));

const ADVICE = [
  /nothing the runtime controls is pending \(no timer, no task completion, no service call\), so the schedule cannot go on/,
  /waits on work the runtime does not control — real I\/O \(fs, fetch, a database client\), a real timer, a promise from outside the run — or on something that never happens \(a deadlock/,
  /ctx\.sleep for delays, t\.service\(name\)\.call\(op, effect\) for I\/O, with simulated latency/,
  /test code that needs real I\/O with the real runtime \(no runtime option\) instead/,
];

describe("a schedule waiting on what the runtime does not control", () => {
  // A real file read behaves the same, but whether it completes before the controller looks again
  // depends on the event loop (on Deno it sometimes does): a promise the test holds is deterministic.
  it("a task body awaiting a promise from outside: names the task running and those waiting for it", async () => {
    const outside = deferred<string>();
    const f = await failureOf(async (t) => {
      const job = new Job("io")
        .task("read", () => outside.promise)
        .task("parse", { dependsOn: ["read"] }, ({ deps }) => deps.read.length)
        .task("store", { dependsOn: ["parse"] }, () => 1);
      await run(job, { runtime: t.runtime });
    });
    outside.resolve("late"); // the abandoned schedule may finish now; nothing observes it
    assert.match(f.message, /^stuck at step \d+ of iteration 0 /);
    const cause = (f.cause as Error).message;
    assert.match(
      cause,
      /Still unfinished: job "io": task "read" \(attempt 1\) is running; 2 more have not started \(waiting for dependencies, a slot, or a node the provider is starting\)\./,
    );
    for (const advice of ADVICE) assert.match(cause, advice);
  });

  it("several tasks at once, and one waiting for the node its provider is starting", async () => {
    const node = deferred<{ id: string; slots: number }>();
    const slowStart: ComputeProvider = { name: "slow", startNode: () => node.promise, stopNode: () => {}, run: (_node, body, ctx) => body(ctx) };
    const never = new Promise<never>(() => {});
    const f = await failureOf(async (t) => {
      const job = new Job<Record<string, unknown>>("many");
      for (const id of ["a", "b", "c", "d", "e", "f", "g"]) job.task(id, () => never);
      job.task("remote", { pool: "slow" }, () => 1);
      await run(job, { runtime: t.runtime, pools: { slow: slowStart } });
    });
    const cause = (f.cause as Error).message;
    assert.match(
      cause,
      /tasks "a" \(attempt 1\), "b" \(attempt 1\), "c" \(attempt 1\), "d" \(attempt 1\), "e" \(attempt 1\) and 2 more are running; 1 more has not started \(waiting for dependencies, a slot, or a node the provider is starting\)\./,
    );
  });

  it("the test body itself waiting, with no run in progress", async () => {
    const outside = deferred();
    const f = await failureOf(async () => {
      await outside.promise;
    });
    outside.resolve();
    assert.match((f.cause as Error).message, /No run is in progress: the test body itself is waiting\. It waits on work the runtime does not control/);
  });
});
