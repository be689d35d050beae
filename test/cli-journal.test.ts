/**
 * `flotilla run --journal PATH`: the command SIGKILLed mid-job, then run again with the same journal,
 * restores what succeeded and runs the rest; another job's journal is refused (exit 2).
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixture, flotilla, killStrays, sendSignal, startCommand, bin } from "./fixtures/cli/flotilla.ts";

const dir = mkdtempSync(join(tmpdir(), "flotilla-cli-journal-"));
const strays: number[] = [];
after(() => {
  killStrays(strays);
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Resolves once the journal file holds `text`. It is written by another process, which says nothing when
 * an append is synced: this reads the file once per macrotask and fails after 5 s (a bound on a failure,
 * not a wait for success).
 */
async function journalHolds(path: string, text: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(existsSync(path) && readFileSync(path, "utf8").includes(text))) {
    if (Date.now() > deadline) assert.fail(`the journal ${path} never held ${text}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("flotilla run --journal", () => {
  it("resumes after the command was SIGKILLed: succeeded tasks are restored, not run again", async () => {
    const journal = join(dir, "resume.journal");
    const env = { RESUME_LOG: join(dir, "runs.log"), RESUME_MARKER: join(dir, "marker") };
    const first = startCommand("node", [bin, "run", fixture("resume.yaml"), "--journal", journal, "--json"], env);
    const pidLine = await first.stdout.until((line) => line.includes('"task:output"') && line.includes("pid "));
    const pid = Number(/pid (\d+)/.exec(pidLine)![1]);
    strays.push(pid);
    // "gate" may start before the journal's append of "second" is synced (appends are batched): wait for
    // that record, or the kill would lose it and the resumed run would rightly run "second" again.
    await journalHolds(journal, '{"type":"task","id":"second"');
    sendSignal(first, "SIGKILL");
    assert.equal((await first.exited).signal, "SIGKILL");
    // The command's process group outlives a SIGKILLed coordinator: end the waiting command by hand.
    process.kill(pid, "SIGKILL");

    writeFileSync(env.RESUME_MARKER, "");
    const again = await flotilla(["run", fixture("resume.yaml"), "--journal", journal], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /✓ first \(restored from the journal\)/);
    assert.match(again.stdout, /✓ second \(restored from the journal\)/);
    assert.match(again.stdout, /journal .*resume\.journal: 2 tasks restored from an earlier run/);
    assert.deepEqual(readFileSync(env.RESUME_LOG, "utf8").trim().split("\n"), ["first", "second", "gate", "gate", "last"]);

    // Once more: everything is restored, nothing runs.
    const third = await flotilla(["run", fixture("resume.yaml"), "--journal", journal], env);
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stdout, /4 tasks restored/);
    assert.equal(readFileSync(env.RESUME_LOG, "utf8").trim().split("\n").length, 5);
  });

  it("refuses another job's journal with exit 2, naming what differs", async () => {
    const journal = join(dir, "other.journal");
    const env = { RESUME_LOG: join(dir, "other.log"), RESUME_MARKER: join(dir, "marker") };
    writeFileSync(env.RESUME_MARKER, "");
    assert.equal((await flotilla(["run", fixture("resume.yaml"), "--journal", journal], env)).code, 0);
    const trace = join(dir, "other-trace.json");
    const other = await flotilla(["run", fixture("ok.mjs"), "--journal", journal, "--trace", trace]);
    assert.equal(other.code, 2);
    assert.match(other.stderr, /E_JOURNAL_MISMATCH: journal ".*other\.journal" belongs to another job: the journal's job is "resume"/);
    assert.equal(other.stdout, "", "no summary, and no line of a run that did not happen (no `⊘ fetch cancelled`)");
    assert.equal(existsSync(trace), false, "no trace of a run that did not happen");
  });

  it("refuses a --journal whose folder does not exist with exit 2 before anything runs", async () => {
    const { code, stdout, stderr } = await flotilla(["run", fixture("ok.mjs"), "--journal", join(dir, "no-such-folder", "j")]);
    assert.equal(code, 2);
    assert.match(stderr, /^flotilla: E_INVALID_OPTION: --journal .*no-such-folder\/j: its folder .* does not exist; nothing was run\n$/);
    assert.equal(stdout, "", "nothing ran");
  });

  it("refuses a --journal that is not a journal with exit 2: the error, no summary, no trace file", async () => {
    const notJournal = join(dir, "data.csv");
    writeFileSync(notJournal, "name,value\n1,2\n");
    const trace = join(dir, "refused-trace.json");
    const { code, stdout, stderr } = await flotilla(["run", fixture("ok.mjs"), "-q", "--journal", notJournal, "--trace", trace]);
    assert.equal(code, 2, stderr);
    assert.match(stderr, /^flotilla: E_JOURNAL_FAILED: file journal ".*data\.csv": the file is not a flotilla journal/m);
    assert.doesNotMatch(stdout, /job "ok" failed|succeeded │|restored from an earlier run/, "no summary");
    assert.equal(existsSync(trace), false, "no trace of a run that did not happen");
    assert.equal(readFileSync(notJournal, "utf8"), "name,value\n1,2\n", "the file is untouched");
  });
});
