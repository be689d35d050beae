import { test } from "node:test";
import assert from "node:assert/strict";
import { FlotillaError, declareErrorCodes, declareFaultPoints, errorCodes, faultPoints } from "../src/index.ts";

test("core's error codes and fault points are declared, with owner and meaning", () => {
  assert.equal(errorCodes().get("E_CYCLE")?.owner, "flotilla");
  assert.match(errorCodes().get("E_NODE_LOST")!.meaning, /node/);
  assert.equal(faultPoints().get("task.attempt")?.owner, "flotilla");
  // The kit's point is the kit's, not core's.
  assert.notEqual(faultPoints().get("service.call")?.owner, "flotilla");
});

test("an extension declares its own codes and points, typed as literals, and raises them as FlotillaErrors", () => {
  const CODES = declareErrorCodes("vocabulary-test", { E_VOCAB_QUOTA: "the cloud refused a node: quota" });
  const POINTS = declareFaultPoints("vocabulary-test", { "vocab.boot": "before a VM boots" });
  const code: "E_VOCAB_QUOTA" = CODES.E_VOCAB_QUOTA;
  const error = new FlotillaError(code, "no quota");
  assert.ok(error instanceof FlotillaError);
  assert.equal(error.code, "E_VOCAB_QUOTA");
  assert.deepEqual(errorCodes().get("E_VOCAB_QUOTA"), { owner: "vocabulary-test", meaning: "the cloud refused a node: quota" });
  assert.equal(POINTS["vocab.boot"], "vocab.boot");
  assert.equal(faultPoints().get("vocab.boot")?.owner, "vocabulary-test");
  // The same owner may declare the same words again (a second copy of the module).
  assert.doesNotThrow(() => declareErrorCodes("vocabulary-test", { E_VOCAB_QUOTA: "the cloud refused a node: quota" }));
});

test("a declaration that takes another owner's word, or is malformed, is refused with what was wrong", () => {
  const refused = (f: () => unknown, pattern: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof FlotillaError && e.code === "E_INVALID_OPTION" && pattern.test(e.message));
  refused(() => declareErrorCodes("other", { E_CYCLE: "my cycle" }), /other: error code "E_CYCLE" is already declared by flotilla/);
  refused(() => declareFaultPoints("other", { "task.attempt": "mine" }), /fault point "task.attempt" is already declared by flotilla/);
  refused(() => declareErrorCodes("other", { e_lower: "x" } as never), /error code "e_lower" is malformed: expected E_ and upper-case/);
  refused(() => declareFaultPoints("other", { Boot: "x" }), /fault point "Boot" is malformed: expected dotted lower-case words/);
  refused(() => declareErrorCodes("other", { E_VOCAB_EMPTY: "" }), /needs its meaning as a non-empty string/);
  refused(() => declareErrorCodes("", { E_VOCAB_X: "x" }), /the owner must be a non-empty string/);
  refused(() => declareErrorCodes("other", null as never), /must be declared as an object/);
  // Nothing of a refused declaration is kept.
  assert.equal(errorCodes().has("E_VOCAB_EMPTY"), false);
});
