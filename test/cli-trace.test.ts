/** `flotilla run --trace FILE --report FILE`: the run's Chrome trace and its HTML timeline, written where asked. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { criticalPath } from "../dist/report.js";
import { fixture, flotilla } from "./fixtures/cli/flotilla.ts";

const dir = mkdtempSync(join(tmpdir(), "flotilla-cli-trace-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("flotilla run --trace --report", () => {
  it("writes the trace as JSON and a self-contained report, and says where", async () => {
    const trace = join(dir, "run.json");
    const report = join(dir, "run.html");
    const { code, stdout, stderr } = await flotilla(["run", fixture("ok.mjs"), "--trace", trace, "--report", report]);
    assert.equal(code, 0, stderr);
    assert.match(stderr, new RegExp(`trace written to ${trace.replaceAll("/", "\\/")}`));
    assert.match(stderr, /report written to .*run\.html/);
    const parsed = JSON.parse(readFileSync(trace, "utf8"));
    const attempts = parsed.traceEvents.filter((e: { ph: string; cat?: string }) => e.ph === "X" && e.cat === "attempt");
    assert.equal(attempts.length, 3, "one span per attempt of the 3 tasks");
    const path = criticalPath(parsed).tasks;
    assert.ok(path.length > 0);
    // The summary's critical path is the same chain.
    assert.match(stdout, new RegExp(`critical path[\\s\\S]*${path.join("[\\s\\S]*")}`));
    const html = readFileSync(report, "utf8");
    assert.match(html, /^<!doctype html>/i);
    assert.doesNotMatch(html, /https?:\/\//, "nothing loaded from the network");
  });
});
