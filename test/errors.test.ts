import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CancelledError, CycleError, FlotillaError, NodeLostError, TimeoutError, isFlotillaError } from "../src/index.ts";

describe("errors", () => {
  it("carry a stable code, a fixed name and the cause", () => {
    const cause = new Error("root");
    const lost = new NodeLostError("n1", undefined, { cause });
    assert.equal(lost.code, "E_NODE_LOST");
    assert.equal(lost.name, "NodeLostError");
    assert.equal(lost.message, 'node "n1" was lost');
    assert.equal(lost.cause, cause);
    assert.ok(lost instanceof FlotillaError && lost instanceof Error);
    assert.ok(isFlotillaError(lost, "E_NODE_LOST"));
    assert.ok(!isFlotillaError(lost, "E_CYCLE"));
    assert.ok(!isFlotillaError(new Error("x")));
  });

  it("instanceof works on errors from another copy of the library (brand), but still tells subclasses apart", () => {
    const foreign = Object.assign(new Error("cycle"), { code: "E_CYCLE" });
    Object.defineProperty(foreign, Symbol.for("flotilla.error"), { value: true });
    Object.defineProperty(foreign, "name", { value: "CycleError" });
    assert.ok(foreign instanceof FlotillaError);
    assert.ok(foreign instanceof CycleError);
    assert.ok(!(foreign instanceof TimeoutError));
    assert.ok(!(new Error("plain") instanceof FlotillaError));
  });

  it("a cancellation records its source and reason, keeping an Error reason as cause", () => {
    const reason = new Error("shutdown");
    const error = new CancelledError("cancelled", "signal", reason);
    assert.equal(error.source, "signal");
    assert.equal(error.reason, reason);
    assert.equal(error.cause, reason);
    assert.equal(error.code, "E_CANCELLED");
  });
});
