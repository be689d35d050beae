/**
 * flotilla/file-journal against the built package: records round-trip across close and open; a torn
 * tail (even one holding newlines) is dropped and cut off, a bad line before an intact one is refused
 * with its number; one writer per
 * journal (in this process, through a symbolic link, from another process), a lock left by a killed
 * process taken over; a process killed while appending leaves a journal that opens; file system errors
 * and bad arguments. Runs under Node and Deno.
 *
 * The other process signals by lines on its stdout ("locked", "appended N"); nothing sleeps.
 */
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
// Deno does not look for a .d.ts beside a .js file by itself; tsc does, and ignores these comments.
// @ts-types="../dist/file-journal.d.ts"
import { fileJournal } from "../dist/file-journal.js";
import type { JournalRecord } from "../src/journal.ts";
import { crc32Hex } from "../adapters/file-journal/crc32.ts";
import { takeOver } from "../adapters/file-journal/lock.ts";

const HOLDER = fileURLToPath(new URL("./fixtures/file-journal/holder.mjs", import.meta.url));
const isDeno = "Deno" in globalThis;
const HEADER = "flotilla-journal 1\n";

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "flotilla-file-journal-"));
  path = join(dir, "run.journal");
});
afterEach(() => {
  mock.restoreAll();
  rmSync(dir, { recursive: true, force: true });
});

const run = (at: number): JournalRecord => ({ type: "run", at, restored: 0 });
const task = (id: string, output?: string): JournalRecord => ({
  type: "task",
  id,
  status: "succeeded",
  attempts: 1,
  ...(output === undefined ? {} : { output }),
  at: 1,
});

/** A line as the journal writes it: the records as JSON, a tab, the CRC-32 of the JSON. */
function line(records: readonly JournalRecord[]): string {
  const json = JSON.stringify(records);
  return `${json}\t${crc32Hex(new TextEncoder().encode(json))}\n`;
}

/** Checks a rejection's code and that its message matches every pattern. */
async function rejectsWith(promise: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<Error> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    assert.equal((error as { code?: unknown }).code, code, String(error));
    for (const pattern of patterns) assert.match((error as Error).message, pattern);
    return true;
  });
  return caught as Error;
}

function throwsWith(call: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(call, (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, code, String(error));
    assert.match((error as Error).message, pattern);
    return true;
  });
}

/** Opens, appends each batch, closes. */
async function write(...batches: JournalRecord[][]): Promise<void> {
  const journal = fileJournal(path);
  await journal.open();
  for (const batch of batches) await journal.append(batch);
  await journal.close();
}

async function readBack(): Promise<readonly JournalRecord[]> {
  const journal = fileJournal(path);
  try {
    return await journal.open();
  } finally {
    await journal.close();
  }
}

/** A pattern matching `text` as it is. */
const literal = (text: string) => new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));

describe("fileJournal: records", () => {
  it("returns what earlier runs appended, in order, across close and open; the file is one checksummed line per append", async () => {
    const journal = fileJournal(path);
    assert.equal(journal.name, path);
    assert.deepEqual(await journal.open(), []);
    // Strings with tabs, newlines and non-ASCII text cannot break a line: JSON escapes the first two.
    const first = [run(1), task("naïve\ttab\nnewline 🚀", JSON.stringify({ n: 1 }))];
    await journal.append(first);
    await journal.append([]); // nothing to write: no line
    await journal.append([task("b")]);
    await journal.close();
    assert.equal(readFileSync(path, "utf8"), HEADER + line(first) + line([task("b")]));

    const again = fileJournal(path);
    assert.deepEqual(await again.open(), [...first, task("b")]);
    await again.append([run(2)]);
    await again.close();
    assert.deepEqual(await readBack(), [...first, task("b"), run(2)]);
  });

  it("the same journal opens again after close, and appends that were not awaited land in call order", async () => {
    const journal = fileJournal(path);
    await journal.open();
    await Promise.all([journal.append([run(1)]), journal.append([run(2), run(3)]), journal.append([run(4)])]);
    await journal.close();
    assert.deepEqual(await journal.open(), [run(1), run(2), run(3), run(4)]);
    await journal.close();
  });

  it("an empty file, or one holding the start of the header (its creator stopped), is a new journal", async () => {
    for (const content of ["", "flotilla-jour", "flotilla-journal 1"]) {
      writeFileSync(path, content);
      await write([run(1)]);
      assert.equal(readFileSync(path, "utf8"), HEADER + line([run(1)]), JSON.stringify(content));
    }
  });

  it("records that are not JSON are refused with E_JOURNAL_FAILED and nothing is written; the journal goes on", async () => {
    const journal = fileJournal(path);
    await journal.open();
    await rejectsWith(journal.append([{ type: "run", at: 10n } as unknown as JournalRecord]), "E_JOURNAL_FAILED", /cannot write the records as JSON/);
    await journal.append([run(1)]);
    await journal.close();
    assert.deepEqual(await readBack(), [run(1)]);
  });
});

describe("fileJournal: torn and damaged lines", () => {
  const torn: [string, string][] = [
    ["an incomplete last line (no newline)", line([run(3), run(4)]).slice(0, 25)],
    ["a last line whose checksum does not match", line([run(3)]).replace('"at":3', '"at":9')],
    ["a last line with a page of zeros inside", `[{"type":"run",${"\0".repeat(40)}}]\t00000000\n`],
    ["a last line without a checksum", "\0\0\0\0\n"],
    // Power loss: the unwritten part of the last append holds stale bytes of an older file, newlines included.
    ["a torn last line whose stale bytes hold newlines", `[{"type":"task","id":"a","sta${"old log line 1\nold log line 2\nold lo"}`],
    ["a torn last line whose stale bytes end with a newline", `[{"type":"run","at":3}]\t0000${"\nold log line\n\n"}`],
  ];
  for (const [what, tail] of torn) {
    it(`drops ${what}, cuts it off, and later appends read back cleanly`, async () => {
      await write([run(1)], [run(2)]);
      const intact = statSync(path).size;
      writeFileSync(path, tail, { flag: "a" });
      const journal = fileJournal(path);
      assert.deepEqual(await journal.open(), [run(1), run(2)]);
      assert.equal(statSync(path).size, intact, "the torn line is cut off");
      await journal.append([run(5)]);
      await journal.close();
      assert.deepEqual(await readBack(), [run(1), run(2), run(5)]);
    });
  }

  it("refuses a damaged line before the last one with E_JOURNAL_FAILED naming the file and the line, and changes nothing", async () => {
    await write([run(1)], [run(2)], [run(3)]);
    const text = readFileSync(path, "utf8");
    const damaged = text.replace('"at":2', '"at":7');
    writeFileSync(path, damaged);
    await rejectsWith(readBack(), "E_JOURNAL_FAILED", literal(path), /damaged at line 3 of 4/, /checksum does not match/, /head -n 2/);
    assert.equal(readFileSync(path, "utf8"), damaged);
    assert.equal(existsSync(`${path}.lock`), false, "the lock is released");
  });

  it("refuses bad lines followed by an intact one, naming the first bad line: the torn tail ends at the last intact line", async () => {
    await write([run(1)], [run(2)]);
    const damaged = `${readFileSync(path, "utf8")}no checksum\nnor here\n${line([run(3)])}`;
    writeFileSync(path, damaged);
    await rejectsWith(readBack(), "E_JOURNAL_FAILED", /damaged at line 4 of 6: it has no checksum, and line 6 after it is intact/, /head -n 3/);
    assert.equal(readFileSync(path, "utf8"), damaged);
  });

  it("refuses a line whose checksum matches but that holds no records, even the last one", async () => {
    await write([run(1)]);
    const json = '{"not":"a list"}';
    writeFileSync(path, `${json}\t${crc32Hex(new TextEncoder().encode(json))}\n`, { flag: "a" });
    await rejectsWith(readBack(), "E_JOURNAL_FAILED", /damaged at line 3 of 3/, /not a list of records/);
  });

  it("neither reads nor changes a file that is not a journal", async () => {
    for (const content of ["hello", "name,value\n1,2\n"]) {
      writeFileSync(path, content);
      await rejectsWith(readBack(), "E_JOURNAL_FAILED", literal(path), /not a flotilla journal/);
      assert.equal(readFileSync(path, "utf8"), content);
    }
  });

  it("refuses a journal of another format version with E_JOURNAL_MISMATCH", async () => {
    writeFileSync(path, "flotilla-journal 2\n");
    await rejectsWith(readBack(), "E_JOURNAL_MISMATCH", /format 2/, /reads format 1/);
  });
});

describe("fileJournal: one writer", () => {
  it("refuses a second journal on the same file while the first is open (E_JOURNAL_LOCKED), and the same one opened twice", async () => {
    const first = fileJournal(path);
    await first.open();
    assert.ok(existsSync(`${path}.lock`));
    await rejectsWith(fileJournal(path).open(), "E_JOURNAL_LOCKED", literal(path), /already open in this process/, new RegExp(`pid ${process.pid}`));
    await rejectsWith(first.open(), "E_JOURNAL_LOCKED", /already open/);
    await first.close();
    assert.equal(existsSync(`${path}.lock`), false, "close() removes the lock");
    assert.deepEqual(await readBack(), []);
  });

  it("one lock for every spelling of the path: a symbolic link to the journal is refused too", async () => {
    const first = fileJournal(path);
    await first.open();
    const alias = join(dir, "alias.journal");
    symlinkSync(path, alias);
    await rejectsWith(fileJournal(alias).open(), "E_JOURNAL_LOCKED", /already open/);
    await first.close();
  });

  it("refuses while another process holds the journal, naming it; once that process is killed, its lock is taken over", async () => {
    await write([run(0)]);
    const child = startHolder("hold");
    try {
      const pid = Number((await child.line(/^locked (\d+)$/))[1]);
      const error = await rejectsWith(
        fileJournal(path).open(),
        "E_JOURNAL_LOCKED",
        /is in use/,
        new RegExp(`process ${pid} on this host`),
        /delete the lock file/,
      );
      assert.equal(error.name, "FlotillaError");
      await child.kill();
      const journal = fileJournal(path);
      assert.deepEqual(await journal.open(), [run(0), run(1)], "what the killed process appended is there");
      assert.equal(JSON.parse(readFileSync(`${path}.lock`, "utf8")).pid, process.pid, "the lock is ours now");
      await journal.close();
      assert.equal(existsSync(`${path}.lock`), false);
    } finally {
      await child.kill();
    }
  });

  it("a process killed while appending leaves a journal that opens, holding every append it saw settle, in order", async () => {
    const child = startHolder("append");
    let acknowledged: number;
    try {
      acknowledged = Number((await child.line(/^appended (\d{3,})$/))[1]);
    } finally {
      await child.kill();
    }
    const records = (await readBack()) as (JournalRecord & { at: number })[];
    assert.ok(records.length >= acknowledged, `${records.length} records, ${acknowledged} acknowledged`);
    assert.deepEqual(
      records.map((r) => r.at),
      records.map((_, i) => i),
    );
  });

  it("of processes starting together on a stale lock, exactly one takes it over; the others are refused", async () => {
    writeLock({ pid: spawnSync("true").pid!, hostname: hostname(), startedAt: new Date().toISOString() });
    const contenders = Array.from({ length: 5 }, () => startHolder("hold"));
    try {
      const outcomes = await Promise.all(contenders.map((c) => c.line(/^(locked \d+|refused E_JOURNAL_LOCKED)$/)));
      const winners = outcomes.filter((m) => m[1]!.startsWith("locked"));
      assert.equal(winners.length, 1, outcomes.map((m) => m[1]).join(", "));
      assert.equal(`locked ${JSON.parse(readFileSync(`${path}.lock`, "utf8")).pid}`, winners[0]![1]);
    } finally {
      await Promise.all(contenders.map((c) => c.kill()));
    }
  });

  it("a takeover removes only the lock it judged stale: one taken since (by a process that came first) stays", async () => {
    const stale = { pid: 4242, hostname: hostname(), startedAt: "2000-01-01T00:00:00.000Z", lockedAt: "2000-01-01T00:00:00.000Z", token: "stale" };
    writeFileSync(`${path}.lock`, JSON.stringify({ ...stale, pid: 4343, token: "taken-since" }));
    writeFileSync(`${path}.mine`, "{}");
    await takeOver(`${path}.mine`, `${path}.lock`, JSON.stringify(stale), stale, path);
    assert.match(readFileSync(`${path}.lock`, "utf8"), /taken-since/);
    assert.equal(existsSync(`${path}.lock.takeover`), false, "the takeover lock is released");

    writeFileSync(`${path}.lock`, JSON.stringify(stale));
    await takeOver(`${path}.mine`, `${path}.lock`, JSON.stringify(stale), stale, path);
    assert.equal(existsSync(`${path}.lock`), false, "the stale lock is removed");
  });

  it("knows its own lock in this process even after the clock jumped", async () => {
    const first = fileJournal(path);
    await first.open();
    const now = Date.now;
    mock.method(Date, "now", () => now() + 3_600_000);
    await rejectsWith(fileJournal(path).open(), "E_JOURNAL_LOCKED", /already open in this process/);
    mock.restoreAll();
    await first.close();
  });

  it("takes over a lock of a process that has ended, and of an earlier process that had this pid", async () => {
    const ended = spawnSync("true").pid;
    assert.ok(ended !== undefined && ended > 0);
    for (const holder of [
      { pid: ended, startedAt: new Date().toISOString() },
      { pid: process.pid, startedAt: "2000-01-01T00:00:00.000Z" }, // a container restarted: the same pid, another process
    ]) {
      writeLock({ ...holder, hostname: hostname() });
      const journal = fileJournal(path);
      await journal.open();
      const lock = JSON.parse(readFileSync(`${path}.lock`, "utf8"));
      assert.ok(lock.pid === process.pid && lock.token !== "an-earlier-lock", "the lock is ours now");
      await journal.close();
      assert.equal(existsSync(`${path}.lock`), false);
    }
  });

  it("refuses a lock of another host, an unreadable lock, and a stale lock another process is taking over; each message says what to delete", async () => {
    writeLock({ pid: 4242, hostname: "elsewhere.example", startedAt: new Date().toISOString() });
    await rejectsWith(
      readBack(),
      "E_JOURNAL_LOCKED",
      /process 4242 on host "elsewhere.example"/,
      /cannot check/,
      literal(`delete the lock file "${path}.lock"`),
    );

    writeFileSync(`${path}.lock`, "");
    await rejectsWith(readBack(), "E_JOURNAL_LOCKED", /does not name a holder \(it is empty\)/, /delete it/);

    writeLock({ pid: spawnSync("true").pid!, hostname: hostname(), startedAt: new Date().toISOString() });
    writeFileSync(`${path}.lock.takeover`, "{}");
    await rejectsWith(readBack(), "E_JOURNAL_LOCKED", /taking it over right now/, literal(`delete "${path}.lock.takeover"`));
    assert.ok(existsSync(`${path}.lock`) && existsSync(`${path}.lock.takeover`), "neither file is touched");
  });

  it("close() leaves a lock that is no longer its own (deleted by hand and taken by another run)", async () => {
    const journal = fileJournal(path);
    await journal.open();
    rmSync(`${path}.lock`);
    const other = fileJournal(path);
    await other.open();
    const lock = readFileSync(`${path}.lock`, "utf8");
    await journal.close();
    assert.equal(readFileSync(`${path}.lock`, "utf8"), lock);
    await other.close();
    assert.equal(existsSync(`${path}.lock`), false);
  });
});

describe("fileJournal: errors", () => {
  it("a folder that does not exist, a path that is a folder: E_JOURNAL_FAILED naming the path and the step, with the cause; no lock left", async () => {
    const missing = join(dir, "no-such-folder", "run.journal");
    const error = await rejectsWith(fileJournal(missing).open(), "E_JOURNAL_FAILED", literal(missing), /cannot find its folder/, /ENOENT/);
    assert.equal((error.cause as { code?: string }).code, "ENOENT");

    const folder = join(dir, "folder");
    mkdirSync(folder);
    const isFolder = await rejectsWith(fileJournal(folder).open(), "E_JOURNAL_FAILED", /cannot open the file/, /EISDIR/, /the path is a folder/);
    assert.ok(isFolder.cause instanceof Error);
    assert.equal(existsSync(`${folder}.lock`), false, "the lock is released after the failure");
  });

  it("an append the file system refuses rejects with E_JOURNAL_FAILED; its partial line is cut off, nothing more is written, close() still releases", async () => {
    await write([run(1)]);
    const journal = fileJournal(path);
    await journal.open();
    const size = statSync(path).size;
    // The fsync fails after the write went through, as a disk that reports an I/O error does.
    const handle = await open(join(dir, "probe"), "w");
    const prototype = Object.getPrototypeOf(handle);
    await handle.close();
    mock.method(prototype, "datasync", () => Promise.reject(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" })));
    const error = await rejectsWith(journal.append([run(2)]), "E_JOURNAL_FAILED", literal(path), /cannot append: EIO/);
    assert.equal((error.cause as { code?: string }).code, "EIO");
    mock.restoreAll();
    assert.equal(statSync(path).size, size, "the line written before the failed fsync is cut off");
    await rejectsWith(journal.append([run(3)]), "E_JOURNAL_FAILED", /an earlier append failed/);
    await journal.close();
    assert.equal(existsSync(`${path}.lock`), false);
    assert.deepEqual(await readBack(), [run(1)]);
  });

  it("append() before open() or after close() is refused; close() without open() does nothing", async () => {
    const journal = fileJournal(path);
    await journal.close();
    await rejectsWith(journal.append([run(1)]), "E_JOURNAL_FAILED", /needs an open journal/);
    await journal.open();
    await journal.close();
    await journal.close();
    await rejectsWith(journal.append([run(1)]), "E_JOURNAL_FAILED", /needs an open journal/);
  });

  it("refuses a path that is not a non-empty string, and a second argument, with E_INVALID_OPTION", () => {
    const loose = fileJournal as unknown as (...args: unknown[]) => unknown;
    throwsWith(() => loose(""), "E_INVALID_OPTION", /fileJournal\(\): option "path" must be a non-empty string/);
    throwsWith(() => loose(42), "E_INVALID_OPTION", /received number 42/);
    throwsWith(() => loose(new URL("file:///tmp/x")), "E_INVALID_OPTION", /received object/);
    throwsWith(() => loose(path, { sync: false }), "E_INVALID_OPTION", /takes one argument/);
  });
});

/** Writes a lock file as another process would have left it. */
function writeLock(holder: { pid: number; hostname: string; startedAt: string }): void {
  writeFileSync(`${path}.lock`, JSON.stringify({ ...holder, lockedAt: holder.startedAt, token: "an-earlier-lock" }));
}

/** The holder fixture on this journal, in this runtime: `line(re)` waits for a line of its output, `kill()` SIGKILLs it and waits for its end. */
function startHolder(mode: "hold" | "append"): { line(pattern: RegExp): Promise<RegExpExecArray>; kill(): Promise<void> } {
  const args = isDeno ? ["run", "--allow-all", HOLDER, path, mode] : [HOLDER, path, mode];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  return {
    line: (pattern) =>
      new Promise((resolve, reject) => {
        const onLine = (text: string) => {
          const match = pattern.exec(text);
          if (match) {
            lines.off("line", onLine);
            resolve(match);
          }
        };
        lines.on("line", onLine);
        exited.then(() => reject(new Error(`the holder exited before printing ${pattern}: ${stderr}`)));
      }),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited; // reaped: its pid no longer runs
      lines.close();
    },
  };
}
