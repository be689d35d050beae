/**
 * Each invariant explore() checks by itself can fire. A deliberately broken subject — a fake run,
 * handed to the controlled runtime through `observe` exactly as the executor hands over a real one —
 * emits an impossible sequence of events, and the schedule fails at the step after it, naming the
 * invariant. A well-behaved fake passes, so each failure is the invariant's doing.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { RunEventName, RunEvents } from "../src/index.ts";
// Runtime.observe's argument type is not exported from the package (yet); the seam's own file has it.
import type { RunObservation } from "../src/index.ts";
import { ScheduleFailure, explore, type ExploreContext } from "../src/testing/index.ts";

/** A run that does only what the test makes it do. */
function fakeRun(t: ExploreContext, shape: { dependencies?: Record<string, string[]>; satisfies?: string[]; capacity?: number } = {}) {
  const listeners = new Map<string, ((event: unknown) => void)[]>();
  let busy = 0;
  let settled = false;
  const observation: RunObservation = {
    job: "fake",
    on<K extends RunEventName>(event: K, listener: (event: RunEvents[K]) => void) {
      listeners.set(event, [...(listeners.get(event) ?? []), listener as (event: unknown) => void]);
    },
    busy: () => busy,
    capacity: () => shape.capacity ?? 2,
    dependencies: (id) => shape.dependencies?.[id] ?? [],
    satisfiesOnFailure: (id) => shape.satisfies?.includes(id) ?? false,
    settled: () => settled,
  };
  t.runtime.observe!(observation);
  const emit = (type: RunEventName, fields: Record<string, unknown>) => {
    for (const listener of listeners.get(type) ?? []) listener({ type, at: t.runtime.now(), ...fields });
  };
  return {
    start: (taskId: string, attempt = 1) => emit("task:start", { taskId, attempt }),
    succeed: (taskId: string) => emit("task:succeeded", { taskId, attempt: 1, output: undefined }),
    fail: (taskId: string) => emit("task:failed", { taskId, attempts: 1, error: new Error("failed") }),
    hold: (slots: number) => void (busy = slots),
    /** Settles the run: `job:end` with a result of `tasks` tasks. */
    end: (tasks: number) => {
      settled = true;
      emit("job:end", { job: "fake", status: "succeeded", result: { tasks: { size: tasks } } });
    },
  };
}

/** One step of the schedule: the invariants are checked after it. */
const step = (t: ExploreContext) => new Promise<void>((resolve) => t.runtime.setTimer(1, resolve, "timer step"));

async function violation(body: (t: ExploreContext) => Promise<void>): Promise<string> {
  const error = await explore(body, { iterations: 1, seed: 1 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof ScheduleFailure, `expected a ScheduleFailure, got ${String(error)}`);
  assert.equal((error.cause as Error).name, "InvariantViolation");
  return (error.cause as Error).message;
}

describe("the built-in invariants fire on a broken run", () => {
  it("a well-behaved run passes (the control for the cases below)", async () => {
    await explore(
      async (t) => {
        const run = fakeRun(t, { dependencies: { b: ["a"], c: ["x"] }, satisfies: ["x"] });
        run.start("a");
        run.start("x");
        run.hold(2);
        await step(t);
        run.succeed("a");
        run.fail("x"); // a failure that satisfies its dependents (onFailure: "satisfy")
        run.hold(0);
        await step(t);
        run.start("b");
        run.start("c");
        await step(t);
        run.succeed("b");
        run.succeed("c");
        run.end(4);
        await step(t);
      },
      { iterations: 1, seed: 1 },
    );
  });

  it("dependency order: a task that starts before its dependency finished", async () => {
    const message = await violation(async (t) => {
      const run = fakeRun(t, { dependencies: { b: ["a"] } });
      run.start("a");
      run.start("b");
      await step(t);
    });
    assert.equal(message, `invariant violated in job "fake": task "b" started attempt 1 while its dependency "a" was not finished`);
  });

  it("dependency order: a task that starts after its dependency failed (and the failure does not satisfy it)", async () => {
    const message = await violation(async (t) => {
      const run = fakeRun(t, { dependencies: { b: ["a"] } });
      run.start("a");
      run.fail("a");
      run.start("b", 2);
      await step(t);
    });
    assert.match(message, /task "b" started attempt 2 while its dependency "a" was failed$/);
  });

  it("exactly one terminal state: a task that ends twice", async () => {
    const message = await violation(async (t) => {
      const run = fakeRun(t);
      run.start("a");
      run.succeed("a");
      run.fail("a");
      await step(t);
    });
    assert.equal(message, `invariant violated in job "fake": task "a" reached a second terminal state: succeeded, then failed`);
  });

  it("exactly one terminal state: a run that ends with a task that never reached one", async () => {
    const message = await violation(async (t) => {
      const run = fakeRun(t);
      run.start("a");
      run.start("b");
      run.succeed("a");
      run.end(2);
      await step(t);
    });
    assert.equal(message, `invariant violated in job "fake": 2 tasks, but 1 reached a terminal state`);
  });

  it("no slot over-commit: a run holding more slots than it may", async () => {
    const message = await violation(async (t) => {
      const run = fakeRun(t, { capacity: 2 });
      run.start("a");
      run.start("b");
      run.start("c");
      run.hold(3);
      await step(t);
    });
    assert.equal(message, `invariant violated in job "fake": 3 attempts hold slots, but only 2 may`);
  });

  it("settles: a run still going when the test ended", async () => {
    const message = await violation(async (t) => {
      fakeRun(t).start("a");
    });
    assert.equal(message, `the run of job "fake" had not settled when the test ended (await its result)`);
  });

  it("no leaked timers: a timer the run left behind", async () => {
    const message = await violation(async (t) => {
      const run = fakeRun(t);
      run.start("a");
      t.runtime.setTimer(50, () => {}, "timeout a#1"); // the run "forgets" to clear it
      run.succeed("a");
      run.end(1);
      await step(t);
    });
    assert.equal(message, `left behind when the test ended: timeout a#1`);
  });
});
