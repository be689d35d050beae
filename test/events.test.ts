import { describe, it, mock } from "node:test";
import { EventEmitter } from "eventemitter3";
import assert from "node:assert/strict";
import { catchReported } from "./helpers.ts";
import { Job, start, type RunEvent } from "../src/index.ts";

describe("events", () => {
  it("emits the life of a run in order, with typed payloads", async () => {
    const handle = start(
      new Job("ev")
        .task("a", { retries: 1, backoff: { initialMs: 0 } }, ({ attempt }) => {
          if (attempt === 1) throw new Error("retry me");
          return 1;
        })
        .task("b", { dependsOn: ["a"] }, () => 2),
    );
    const seen: string[] = [];
    for (const name of ["job:start", "task:ready", "task:start", "task:retry", "task:succeeded", "job:end"] as const) {
      handle.on(name, (e: RunEvent) => seen.push("taskId" in e ? `${e.type} ${e.taskId}` : e.type));
    }
    handle.on("task:succeeded", (e) => assert.equal(typeof e.attempt, "number"));
    handle.on("job:end", (e) => assert.equal(e.result.status, "succeeded"));
    await handle.result;
    assert.deepEqual(seen, [
      "job:start",
      "task:ready a",
      "task:start a",
      "task:retry a",
      "task:ready a",
      "task:start a",
      "task:succeeded a",
      "task:ready b",
      "task:start b",
      "task:succeeded b",
      "job:end",
    ]);
  });

  it("yields every event through for await, ending after job:end", async () => {
    const handle = start(
      new Job("it")
        .task("a", () => 1)
        .task("b", () => {
          throw new Error("x");
        })
        .task("c", { dependsOn: ["b"] }, () => 3),
    );
    const types: string[] = [];
    for await (const event of handle) types.push(event.type);
    assert.equal(types[0], "job:start");
    assert.equal(types.at(-1), "job:end");
    assert.ok(types.includes("task:failed") && types.includes("task:skipped"));
  });

  it("stops listening when the loop breaks early: its listeners are removed at once", async () => {
    // The run's emitter is caught as the iterator adds its listeners to it.
    let emitter: EventEmitter | undefined;
    const on = EventEmitter.prototype.on;
    mock.method(EventEmitter.prototype, "on", function (this: EventEmitter, ...args: Parameters<EventEmitter["on"]>) {
      emitter = this;
      return on.apply(this, args);
    });
    try {
      const handle = start(new Job("it").task("a", async () => 1).task("b", { dependsOn: ["a"] }, () => 2));
      for await (const event of handle) if (event.type === "task:start") break;
      assert.ok(emitter !== undefined);
      assert.deepEqual(emitter.eventNames(), [], "no listener left while the run goes on");
      const result = await handle.result;
      assert.equal(result.status, "succeeded");
    } finally {
      mock.restoreAll();
    }
  });

  it("iterating a finished run yields nothing", async () => {
    const handle = start(new Job("it").task("a", () => 1));
    await handle.result;
    const events: RunEvent[] = [];
    for await (const e of handle) events.push(e);
    assert.deepEqual(events, []);
  });

  it("a listener that throws does not change the run; each of its errors surfaces as an unhandled rejection", async () => {
    const handle = start(new Job("j").task("a", () => 1).task("b", { dependsOn: ["a"] }, () => 2));
    const surfaced = catchReported();
    try {
      handle.on("task:succeeded", () => {
        throw new Error("listener bug");
      });
      const result = await handle.result;
      assert.equal(result.status, "succeeded");
      assert.equal(result.counts.succeeded, 2);
    } finally {
      mock.restoreAll();
    }
    assert.equal(surfaced.length, 2, "each listener error surfaces on its own");
  });

  it("refuses an unknown event name or a listener that is not a function", async () => {
    const handle = start(new Job("j").task("a", () => 1));
    assert.throws(() => handle.on("task:strat" as never, () => {}), /unknown event string "task:strat" \(did you mean "task:start"\?\)/);
    assert.throws(() => handle.once("task:start", 5 as never), /the listener must be a function, received number 5/);
    await handle.result;
  });

  it("once and off remove listeners", async () => {
    const handle = start(new Job("j").task("a", () => 1).task("b", () => 2));
    let onceCount = 0;
    let offCount = 0;
    const off = () => offCount++;
    handle.once("task:succeeded", () => onceCount++);
    handle.on("task:succeeded", off);
    handle.off("task:succeeded", off);
    await handle.result;
    assert.equal(onceCount, 1);
    assert.equal(offCount, 0);
  });
});
