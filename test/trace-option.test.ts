/** The run option `trace: true`: `result.trace` is the run's Chrome trace, there already when job:end is heard. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Job, run, start, type AttemptSpan, type ChromeTrace } from "../src/index.ts";
import { virtualRuntime } from "../src/testing/index.ts";
import { criticalPath } from "../src/report/index.ts";

const spans = (trace: ChromeTrace) => trace.traceEvents.filter((e): e is AttemptSpan => e.ph === "X" && e.cat === "attempt");

describe("run option trace", () => {
  it("puts the run's trace in result.trace: a span per attempt, retries included, and the critical path", async () => {
    const runtime = virtualRuntime();
    const job = new Job("traced")
      .task("a", async ({ sleep }) => sleep(100))
      .task("b", { dependsOn: ["a"], retries: 1, backoff: { initialMs: 10 } }, async ({ sleep, attempt }) => {
        await sleep(50);
        if (attempt === 1) throw new Error("flaky");
      })
      .task("c", { dependsOn: ["a"] }, async ({ sleep }) => sleep(20));
    const handle = start(job, { runtime, trace: true });
    let seenAtEnd: ChromeTrace | undefined;
    handle.on("job:end", (e) => (seenAtEnd = e.result.trace));
    const result = await handle.result;
    assert.equal(result.status, "succeeded");
    const trace = result.trace!;
    assert.ok(trace !== undefined && trace === seenAtEnd, "result.trace is there when job:end is heard");
    assert.deepEqual(
      spans(trace).map((s) => [s.name, s.args.attempt, s.args.outcome, s.dur / 1000]),
      [
        ["a", 1, "succeeded", 100],
        ["b", 1, "retry", 50],
        ["c", 1, "succeeded", 20],
        ["b", 2, "succeeded", 50],
      ],
    );
    assert.deepEqual(JSON.parse(JSON.stringify(trace)), trace);
    assert.deepEqual(criticalPath(trace).tasks, ["a", "b"]);
  });

  it("is absent without the option", async () => {
    const result = await run(new Job("plain").task("a", () => 1));
    assert.equal(result.trace, undefined);
  });
});
