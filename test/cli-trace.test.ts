/** `flotilla run --trace FILE --report FILE`: the run's Chrome trace and its HTML timeline, written where asked. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
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

  it("refuses a --trace or --report path whose folder is missing, or that is a folder, with exit 2 before anything runs", async () => {
    const missing = await flotilla(["run", fixture("ok.mjs"), "--trace", join(dir, "no-such-folder", "t.json")]);
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /^flotilla: E_INVALID_OPTION: --trace .*no-such-folder\/t\.json: its folder .*no-such-folder does not exist; nothing was run\n$/,
    );
    assert.equal(missing.stdout, "", "nothing ran");
    const folder = await flotilla(["run", fixture("ok.mjs"), "--report", dir]);
    assert.equal(folder.code, 2);
    assert.match(folder.stderr, /^flotilla: E_INVALID_OPTION: --report .*: it is a folder, not a file; nothing was run\n$/);
    assert.equal(folder.stdout, "", "nothing ran");
  });

  it("a trace that cannot be written after the run: the summary comes first, the failure is said without a stack, the exit code is the run's", async () => {
    // The job's one task removes the trace's folder: it is there when the flags are checked, gone after the run.
    const doomed = join(dir, "doomed");
    mkdirSync(doomed);
    const report = join(dir, "kept.html");
    const { code, stdout, stderr } = await flotilla(["run", fixture("removes-folder.yaml"), "--trace", join(doomed, "t.json"), "--report", report], {
      DOOMED_DIR: doomed,
    });
    assert.equal(existsSync(doomed), false, "the task removed the folder");
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^job "removes-folder" succeeded in /m);
    assert.match(stderr, /^flotilla: --trace: could not write the trace to .*doomed\/t\.json: ENOENT/m);
    assert.doesNotMatch(stderr, /\n\s+at /, "no stack");
    assert.match(stderr, /report written to .*kept\.html/, "the other file is still written");
    assert.ok(existsSync(report));
  });
});
