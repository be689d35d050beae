/** The agent's memory of recent cancels and outcomes stays bounded: by count, and outcomes by bytes too. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RecentCancels, RecentOutcomes } from "../adapters/bullmq/agent/cancels.ts";

describe("agent: recent cancels and outcomes", () => {
  it("keeps outcomes by key, and drops the oldest past 64 MiB of outputs", () => {
    const kept = new RecentOutcomes<string>();
    const mib = 1024 * 1024;
    for (let i = 0; i < 70; i++) kept.add(`k${i}`, `out${i}`, mib);
    assert.equal(kept.get("k69"), "out69");
    assert.equal(kept.get("k6"), "out6", "the newest 64 MiB are kept");
    assert.equal(kept.get("k5"), undefined, "the oldest went first");
    kept.add("k6", "again", 0); // kept again: counted once, with its new size
    assert.equal(kept.get("k6"), "again");
  });

  it("keeps at most 10,000 outcomes and 10,000 cancels", () => {
    const kept = new RecentOutcomes<number>();
    const cancels = new RecentCancels();
    for (let i = 0; i < 10_005; i++) {
      kept.add(`k${i}`, i);
      cancels.add(`j${i}`, performance.now());
    }
    assert.equal(kept.get("k4"), undefined);
    assert.equal(kept.get("k5"), 5);
    assert.equal(cancels.get("j4"), undefined);
    assert.notEqual(cancels.get("j5"), undefined);
  });
});
