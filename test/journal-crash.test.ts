/**
 * The coordinator killed with SIGKILL at random points of a 500-task job of real commands, again and
 * again, each time started again on the same file journal: no task whose success the journal held
 * runs again, and the last run ends with every task succeeded.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { fileJournal } from "../dist/file-journal.js";
import type { JournalRecord } from "../src/journal.ts";
import { seededRandom } from "../src/testing/index.ts";
import { crashJobShape } from "./fixtures/journal-crash/job-shape.mjs";

const COORDINATOR = fileURLToPath(new URL("./fixtures/journal-crash/coordinator.mjs", import.meta.url));
const KILLS = 8;

interface Outcome {
  readonly exit: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly ended: number;
  readonly done: string | undefined;
}

/** Runs the coordinator; with `killAfter`, SIGKILLs it once that many tasks ended (counted from its stdout). */
function coordinator(journal: string, log: string, run: number, killAfter?: number): Promise<Outcome> {
  // Always Node (also when the test runs under Deno): the coordinator is a Node program.
  const child = spawn("node", [COORDINATOR, journal], {
    env: { ...process.env, CRASH_LOG: log, CRASH_RUN: String(run) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let ended = 0;
  let done: string | undefined;
  createInterface({ input: child.stdout! }).on("line", (line) => {
    if (line.startsWith("ended ")) {
      // Restored tasks end at once: count only what this run did, so the kill lands among real work.
      if (!line.endsWith(" restored")) ended++;
      if (killAfter !== undefined && ended === killAfter) child.kill("SIGKILL");
    } else if (line.startsWith("done ")) done = line;
  });
  return new Promise((resolve) => child.on("close", (exit, signal) => resolve({ exit, signal, ended, done })));
}

/** The tasks a journal durably holds as succeeded (read after the coordinator is dead). */
async function durablySucceeded(path: string): Promise<Set<string>> {
  const journal = fileJournal(path);
  // Typed here: Deno infers the built module's types from its JavaScript.
  const records: readonly JournalRecord[] = await journal.open();
  await journal.close();
  return new Set(records.flatMap((r) => (r.type === "task" && r.status === "succeeded" ? [r.id] : [])));
}

describe("journal: SIGKILL of the coordinator", () => {
  it(`a 500-task job of real commands survives ${KILLS} kills at random points: no succeeded task runs twice, nothing is lost`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "flotilla-crash-"));
    try {
      const journal = join(dir, "job.journal");
      const log = join(dir, "runs.log");
      const random = seededRandom(20261130);
      const ids = crashJobShape().map((t) => t.id);
      const durableBefore: Set<string>[] = [new Set()];
      let run = 1;
      for (; run <= KILLS; run++) {
        const killAfter = 1 + Math.floor(random() * 90);
        const outcome = await coordinator(journal, log, run, killAfter);
        if (outcome.signal !== "SIGKILL") break; // finished before the kill point
        durableBefore.push(await durablySucceeded(journal));
      }
      const last = await coordinator(journal, log, run);
      assert.equal(last.exit, 0, `the last run did not succeed: ${last.done}`);
      assert.match(last.done ?? "", /^done succeeded \{"succeeded":500,"failed":0,"cancelled":0,"skipped":0\}/);

      // Who ran where: "<run> <task>" per command that ran.
      const lines = readFileSync(log, "utf8").trim().split("\n");
      const ranIn = new Map<number, Set<string>>();
      for (const line of lines) {
        const [r, id] = line.split(" ");
        const set = ranIn.get(Number(r)) ?? new Set();
        ranIn.set(Number(r), set.add(id!));
      }
      assert.ok(durableBefore.length >= 3, `expected several kills, got ${durableBefore.length - 1}`);
      for (let r = 2; r <= run; r++) {
        const before = durableBefore[r - 1] ?? durableBefore.at(-1)!;
        for (const id of ranIn.get(r) ?? []) assert.ok(!before.has(id), `task ${id} ran in run ${r} although the journal held its success`);
      }
      // Nothing lost: every task ran at least once, and the journal holds every task's success.
      const everRan = new Set(lines.map((l) => l.split(" ")[1]!));
      for (const id of ids) assert.ok(everRan.has(id), `task ${id} never ran`);
      assert.equal((await durablySucceeded(journal)).size, 500);
      // Runs after a kill restored work rather than redoing it.
      assert.ok((ranIn.get(run)?.size ?? 0) < 500, "the last run redid everything");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
