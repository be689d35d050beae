/**
 * The agent's per-attempt abort (AbortPoint): what the local providers hear through `ctx.onAbort`, and
 * a standard signal only when something asks for one.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AbortPoint } from "../adapters/bullmq/agent/abort-point.ts";

describe("AbortPoint (the agent's abort of one attempt)", () => {
  it("calls each listener once with the reason; one added after the abort hears it at once", () => {
    const point = new AbortPoint();
    const heard: unknown[] = [];
    point.onAbort((reason) => heard.push(["first", reason]));
    point.abort("stop");
    point.abort("again"); // ignored
    point.onAbort((reason) => heard.push(["late", reason]));
    assert.deepEqual(heard, [
      ["first", "stop"],
      ["late", "stop"],
    ]);
    assert.equal(point.aborted, true);
    assert.equal(point.reason, "stop");
  });

  it("a listener that throws is reported and the others still hear the abort; one removed meanwhile does not", () => {
    const point = new AbortPoint();
    const heard: string[] = [];
    const reported: unknown[] = [];
    let removeThird = (): void => {};
    point.onAbort(() => {
      throw new Error("listener broke");
    });
    point.onAbort(() => {
      heard.push("second");
      removeThird();
    });
    removeThird = point.onAbort(() => heard.push("third"));
    const removed = point.onAbort(() => heard.push("removed before"));
    removed();
    point.abort("stop", (error) => reported.push((error as Error).message));
    assert.deepEqual(heard, ["second"]);
    assert.deepEqual(reported, ["listener broke"]);
  });

  it("builds a standard AbortSignal only when asked, aborted with the same reason", () => {
    const before = new AbortPoint();
    const signal = before.signal;
    assert.equal(signal.aborted, false);
    before.abort("now");
    assert.equal(signal.aborted, true);
    assert.equal(signal.reason, "now");
    const after = new AbortPoint();
    after.abort("earlier");
    assert.equal(after.signal.aborted, true);
    assert.equal(after.signal.reason, "earlier");
  });
});
