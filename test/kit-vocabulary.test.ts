/**
 * The testing kit declares its words like any extension: its error codes (E_SCHEDULE_FAILED,
 * E_SCHEDULE_DIVERGED) and its fault point (service.call). A fault plan is checked against every
 * declared point — core's, the kit's and those an extension declared before — so a near miss of
 * any of them is named as a typo.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FlotillaError, declareFaultPoints, errorCodes, faultPoints } from "../src/index.ts";
import { ScheduleFailure, explore, type ExploreContext } from "../src/testing/index.ts";

const refused = (options: object, pattern: RegExp) =>
  assert.rejects(
    explore(() => {}, { iterations: 1, ...options }),
    (e: unknown) => e instanceof FlotillaError && e.code === "E_INVALID_OPTION" && pattern.test(e.message),
  );

describe("the testing kit's vocabulary", () => {
  it("declares its error codes and its fault point as flotilla/testing's", () => {
    for (const code of ["E_SCHEDULE_FAILED", "E_SCHEDULE_DIVERGED"]) assert.equal(errorCodes().get(code)?.owner, "flotilla/testing", code);
    assert.equal(faultPoints().get("service.call")?.owner, "flotilla/testing");
    assert.match(faultPoints().get("service.call")!.meaning, /modelled service/);
  });

  it("raises the codes it declared", async () => {
    const failure = await explore(() => assert.fail("boom"), { iterations: 1, seed: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(failure instanceof ScheduleFailure && failure.code === "E_SCHEDULE_FAILED", String(failure));
    assert.ok(errorCodes().has(failure.code));
  });

  it("checks a fault plan against the points declared by then, an extension's included", async () => {
    // Undeclared and far from every declared point: taken as a point an extension consults without declaring it.
    await explore(() => {}, { iterations: 1, faults: { "kitvocab.bot": { action: { kind: "fail" } } } });
    declareFaultPoints("kit-vocabulary-test", { "kitvocab.boot": "before a simulated VM boots" });
    await refused(
      { faults: { "kitvocab.bot": { action: { kind: "fail" } } } },
      /^explore: unknown fault point "kitvocab.bot" \(did you mean "kitvocab.boot"\?\); known fault points: .*service\.call, kitvocab\.boot$/,
    );
    // The declared point itself is accepted, and a runtime consults it like any other.
    let fired = 0;
    const report = await explore(
      (t: ExploreContext) => {
        if (t.runtime.fault?.("kitvocab.boot", { point: "kitvocab.boot", jobName: "" })?.kind === "fail") fired++;
      },
      { iterations: 3, seed: 1, faults: { "kitvocab.boot": { action: { kind: "fail" } } } },
    );
    assert.equal(report.faultsFired["kitvocab.boot"], 3);
    assert.equal(fired, 3);
  });
});
