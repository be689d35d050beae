/**
 * The kit has one virtual clock: virtualRuntime fires its timers by itself whenever the program is
 * idle, explore()'s controlled runtime lets a strategy choose among the timers due together, and both
 * order timers by due time, then by the order they were set. virtualRuntime checks its options up front.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FlotillaError, type Runtime } from "../src/index.ts";
import { explore, virtualRuntime } from "../src/testing/index.ts";

/** Sets timers (two due together, one cleared, one set by another) and resolves with what fired when. */
function timers(runtime: Runtime): Promise<string[]> {
  return new Promise((resolve) => {
    const fired: string[] = [];
    const fire = (name: string) => () => {
      fired.push(`${name}@${runtime.now()}`);
      if (name === "s") runtime.setTimer(2, fire("s2"));
      if (fired.length === 5) resolve(fired);
    };
    runtime.setTimer(5, fire("p"));
    runtime.setTimer(0, fire("q"));
    runtime.setTimer(5, fire("r"));
    runtime.clearTimer(runtime.setTimer(4, fire("cleared")));
    runtime.setTimer(3, fire("s"));
  });
}

const ORDER = ["q@0", "s@3", "p@5", "r@5", "s2@5"];

describe("the kit's virtual clock", () => {
  it("orders timers by due time, then by the order they were set, under virtualRuntime", async () => {
    const runtime = virtualRuntime();
    const fired = timers(runtime);
    assert.equal(runtime.pendingTimers, 4, "the cleared timer is not pending");
    assert.deepEqual(await fired, ORDER);
    assert.equal(runtime.pendingTimers, 0);
    assert.equal(runtime.firedTimers, 5);
  });

  it("is the same clock under explore(): the first exhaustive schedule takes the timers in that order", async () => {
    let seen: string[] = [];
    const report = await explore(async (t) => void (seen = await timers(t.runtime)), { strategy: "exhaustive", iterations: 1 });
    assert.equal(report.iterations, 1);
    assert.deepEqual(seen, ORDER);
  });

  it("starts where virtualRuntime's startAt says", async () => {
    const runtime = virtualRuntime({ startAt: 1_000 });
    assert.deepEqual(
      await timers(runtime),
      ORDER.map((f) => f.replace(/@(\d+)/, (_, t: string) => `@${1_000 + Number(t)}`)),
    );
  });

  it("ignores a timer handle that is not one of its own, or that already fired", async () => {
    const a = virtualRuntime();
    const b = virtualRuntime();
    let fired = 0;
    const handle = a.setTimer(5, () => fired++);
    for (const other of [undefined, null, 42, {}, handle]) b.clearTimer(other);
    assert.equal(a.pendingTimers, 1);
    assert.equal(b.pendingTimers, 0);
    await a.idle();
    assert.equal(fired, 1);
    a.clearTimer(handle);
    assert.equal(a.pendingTimers, 0);
  });

  it("refuses virtualRuntime options it cannot use, naming the option", () => {
    const cases: [unknown, RegExp][] = [
      [{ seeed: 1 }, /^virtualRuntime: unknown option "seeed" \(did you mean "seed"\?\); known options: seed, startAt, fault$/],
      [{ seed: 1.5 }, /^virtualRuntime: option "seed" must be an integer, received number 1.5$/],
      [{ startAt: Infinity }, /^virtualRuntime: option "startAt" must be a finite number of milliseconds, received number Infinity$/],
      [{ fault: "none" }, /^virtualRuntime: option "fault" must be a function \(point, context\) => FaultAction \| undefined, received string "none"$/],
      [7, /^virtualRuntime: options must be an object, received number 7$/],
    ];
    for (const [options, pattern] of cases) {
      assert.throws(
        () => virtualRuntime(options as never),
        (e: unknown) => e instanceof FlotillaError && e.code === "E_INVALID_OPTION" && pattern.test(e.message),
        String(pattern),
      );
    }
  });
});
