/**
 * redisJournal (flotilla/bullmq) against a real redis-server: records round-trip across close and open;
 * a real run resumes through core; one coordinator per journal (a live holder refused naming it, a
 * crashed one's lock taken over after its TTL, a lost lock stops appends); garbage and other formats
 * refused; Redis stopped or restarted mid-run fails clearly within timeoutMs; bad options. And a
 * coordinator process SIGKILLed mid-run, resumed by another from Redis. Runs under Node and Deno;
 * skipped when redis-server is not installed (.ci/run installs Debian's package).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { redisJournal } from "../adapters/bullmq/redis-journal.ts";
import { Job, type JournalRecord, run } from "../src/index.ts";
import { type RedisServer, hasRedisServer, startRedisServer } from "./redis-server.ts";

const COORDINATOR = fileURLToPath(new URL("./fixtures/redis-journal-coordinator.ts", import.meta.url));
const HEADER = "flotilla-journal 1";

const record = (id: string, output?: string): JournalRecord => ({
  type: "task",
  id,
  status: "succeeded",
  attempts: 1,
  ...(output === undefined ? {} : { output }),
  at: 1,
});

/** A client for looking at (and tampering with) Redis by hand; quiet while the server is away. */
function rawClient(server: RedisServer): Redis {
  const client = new Redis(server.url, { maxRetriesPerRequest: null });
  client.on("error", () => {});
  return client;
}

/** Checks a rejection's code and that its message matches every pattern. */
async function rejectsWith(promise: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, code, String(error));
    for (const pattern of patterns) assert.match((error as Error).message, pattern);
    return true;
  });
}

function throwsWith(call: () => unknown, pattern: RegExp): void {
  assert.throws(call, (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, "E_INVALID_OPTION", String(error));
    assert.match((error as Error).message, pattern);
    return true;
  });
}

let keys = 0;
const newKey = () => `test:journal:${++keys}`;

describe("redisJournal", { skip: hasRedisServer() ? false : "redis-server is not installed (.ci/run installs Debian's redis-server)" }, () => {
  let server: RedisServer;
  let raw: Redis;
  let where: RegExp;
  before(async () => {
    server = await startRedisServer();
    raw = rawClient(server);
    where = new RegExp(`redis journal "test:journal:\\d+" on 127\\.0\\.0\\.1:${server.port}`);
  });
  after(async () => {
    raw?.disconnect();
    await server?.stop();
  });

  it("returns what earlier opens appended, in order; each append is one list entry after a header; close releases the lock", async () => {
    const key = newKey();
    const journal = redisJournal({ connection: server.url, key });
    assert.equal(journal.name, key);
    assert.deepEqual(await journal.open(), []);
    assert.ok((await raw.pttl(`${key}:lock`)) > 0, "open holds the lock");
    const first = [record("a", JSON.stringify({ n: 1 })), record("naïve\ttab\nnewline 🚀")];
    await journal.append(first);
    await journal.append([]); // nothing to write: no entry
    // Appends not awaited land in call order.
    await Promise.all([journal.append([record("b")]), journal.append([record("c")])]);
    await journal.close();
    assert.equal(await raw.exists(`${key}:lock`), 0, "close released the lock");
    assert.deepEqual(await raw.lrange(key, 0, -1), [HEADER, JSON.stringify(first), JSON.stringify([record("b")]), JSON.stringify([record("c")])]);

    const again = redisJournal({ connection: { host: "127.0.0.1", port: server.port }, key });
    assert.deepEqual(await again.open(), [...first, record("b"), record("c")]);
    await again.append([record("d")]);
    await again.close();
    await again.close(); // twice is fine
    const third = redisJournal({ connection: server.url, key });
    assert.equal((await third.open()).length, 5);
    await rejectsWith(third.open(), "E_JOURNAL_LOCKED", /already open/);
    await third.close();
    await rejectsWith(third.append([record("e")]), "E_JOURNAL_FAILED", /needs an open journal/);
  });

  it("a run resumes through core on the same key: succeeded tasks are restored, not run again", async () => {
    const key = newKey();
    const runs: Record<string, number> = {};
    let failC = true;
    const job = () =>
      new Job("resume")
        .task("a", () => ((runs.a = (runs.a ?? 0) + 1), { n: 1 }))
        .task("b", { dependsOn: ["a"] }, ({ deps }) => ((runs.b = (runs.b ?? 0) + 1), deps.a.n + 1))
        .task("c", { dependsOn: ["b"] }, ({ deps }) => {
          runs.c = (runs.c ?? 0) + 1;
          if (failC) throw new Error("c fails the first time");
          return deps.b * 10;
        });
    const first = await run(job(), { journal: redisJournal({ connection: server.url, key }) });
    assert.equal(first.status, "failed");
    failC = false;
    const second = await run(job(), { journal: redisJournal({ connection: server.url, key }) });
    assert.equal(second.status, "succeeded", String(second.error));
    assert.deepEqual(runs, { a: 1, b: 1, c: 2 }, "only c ran again");
    assert.equal(second.tasks.get("a")?.restored, true);
    assert.equal(second.tasks.get("b")?.restored, true);
    assert.equal(second.output("c"), 20);
    assert.deepEqual(second.output("a"), { n: 1 });
    assert.equal(await raw.exists(`${key}:lock`), 0, "both runs released the lock");

    // Another job on the same key is refused by core.
    const other = await run(
      new Job("another").task("x", () => 1),
      { journal: redisJournal({ connection: server.url, key }) },
    );
    assert.equal(other.status, "failed");
    assert.equal((other.error as { code?: string }).code, "E_JOURNAL_MISMATCH");
  });

  it("a second open while a live coordinator holds the journal is refused with E_JOURNAL_LOCKED naming the holder", async () => {
    const key = newKey();
    // A TTL long enough that a busy test machine does not let it expire between renewals.
    const holder = redisJournal({ connection: server.url, key, lockTtlMs: 2_000 });
    await holder.open();
    try {
      const since = /since \d{4}-\d\d-\d\dT[\d:.]+Z/;
      const who = new RegExp(`process ${process.pid} on host "${hostname().replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"`);
      // It waits long, but sees the holder renew its lock: refused without waiting out lockWaitMs.
      const patient = redisJournal({ connection: server.url, key, lockWaitMs: 600_000 });
      await rejectsWith(patient.open(), "E_JOURNAL_LOCKED", where, who, since, /keeps renewing its lock/);
      const hasty = redisJournal({ connection: server.url, key, lockWaitMs: 0 });
      await rejectsWith(hasty.open(), "E_JOURNAL_LOCKED", where, who, /neither released nor did it expire within lockWaitMs \(0 ms/);
      await holder.append([record("a")]); // the holder still writes
    } finally {
      await holder.close();
    }
    const next = redisJournal({ connection: server.url, key, lockWaitMs: 0 });
    assert.deepEqual(await next.open(), [record("a")]);
    await next.close();
  });

  it("the lock of a coordinator that ended without closing is taken over once it expires, and its records are kept", async () => {
    const key = newKey();
    await raw.rpush(key, HEADER, JSON.stringify([record("a")]));
    // What a SIGKILLed coordinator leaves (the end-to-end test below kills a real one): a lock nobody renews.
    const dead = JSON.stringify({ token: "dead", host: "elsewhere", pid: 1, since: new Date().toISOString() });
    await raw.set(`${key}:lock`, dead, "PX", 300);
    const journal = redisJournal({ connection: server.url, key, lockWaitMs: 60_000 });
    assert.deepEqual(await journal.open(), [record("a")]);
    await journal.append([record("b")]);
    await journal.close();
    assert.equal(await raw.llen(key), 3);

    // A lock key without an expiry (not flotilla's) is never released by itself: refused, named.
    await raw.set(`${key}:lock`, "someone's");
    await rejectsWith(redisJournal({ connection: server.url, key }).open(), "E_JOURNAL_LOCKED", where, /unknown holder/, /has no expiry/);
    await raw.del(`${key}:lock`);
  });

  it("an append after the lock was lost fails with E_JOURNAL_FAILED saying why, and writes nothing", async () => {
    const key = newKey();
    const journal = redisJournal({ connection: server.url, key });
    await journal.open();
    await journal.append([record("a")]);
    await raw.del(`${key}:lock`);
    await rejectsWith(journal.append([record("b")]), "E_JOURNAL_FAILED", where, /lost its lock/, /Nothing more is written/);
    await rejectsWith(journal.append([record("c")]), "E_JOURNAL_FAILED", /an earlier append failed/);
    await journal.close();

    const second = redisJournal({ connection: server.url, key });
    await second.open();
    await raw.set(`${key}:lock`, JSON.stringify({ token: "t", host: "other-machine", pid: 42, since: "2026-11-30T00:00:00.000Z" }), "PX", 60_000);
    await rejectsWith(second.append([record("d")]), "E_JOURNAL_FAILED", /process 42 on host "other-machine" .* took the journal over/);
    await second.close();
    assert.ok(await raw.exists(`${key}:lock`), "close leaves another holder's lock alone");
    await raw.del(`${key}:lock`);
    assert.deepEqual(await raw.lrange(key, 0, -1), [HEADER, JSON.stringify([record("a")])]);
  });

  it("a key that is not a flotilla journal, or another format, or damaged, is refused and left as it is", async () => {
    const cases: [(key: string) => Promise<unknown>, string, RegExp][] = [
      [(key) => raw.set(key, "hello"), "E_JOURNAL_FAILED", /holds a string, not a flotilla journal/],
      [(key) => raw.rpush(key, "not a header", "[]"), "E_JOURNAL_FAILED", /not a flotilla journal \(its first entry is "not a header"/],
      [(key) => raw.rpush(key, "flotilla-journal 2"), "E_JOURNAL_MISMATCH", /written in format 2.*reads format 1/],
      [(key) => raw.rpush(key, HEADER, "[]", "{oops", "[]"), "E_JOURNAL_FAILED", /damaged: entry 3 of 4 is not a JSON list of records/],
    ];
    for (const [plant, code, pattern] of cases) {
      const key = newKey();
      await plant(key);
      const planted = await raw.dump(key);
      await rejectsWith(redisJournal({ connection: server.url, key }).open(), code, where, pattern);
      // The failed open released its lock: the same error again, not E_JOURNAL_LOCKED.
      await rejectsWith(redisJournal({ connection: server.url, key, lockWaitMs: 0 }).open(), code, pattern);
      assert.deepEqual(await raw.dump(key), planted);
    }
  });

  it("waitReplicas: an append no replica acknowledged fails clearly", async () => {
    const journal = redisJournal({ connection: server.url, key: newKey(), waitReplicas: 1, timeoutMs: 1_000 });
    await rejectsWith(journal.open(), "E_JOURNAL_FAILED", where, /only 0 of the 1 replicas asked for \(waitReplicas\) acknowledged it within 1000 ms/);
  });

  it("a client of the caller's is used and not closed", async () => {
    const client = rawClient(server);
    try {
      const journal = redisJournal({ connection: client, key: newKey() });
      await journal.open();
      await journal.append([record("a")]);
      await journal.close();
      assert.equal(await client.ping(), "PONG");
    } finally {
      client.disconnect();
    }
  });
});

describe("redisJournal when Redis goes away", { skip: hasRedisServer() ? false : "redis-server is not installed" }, () => {
  it("Redis stopped while appending: the append fails with E_JOURNAL_FAILED within timeoutMs, naming host:port, and close ends", async () => {
    const server = await startRedisServer();
    try {
      // Not shorter: on a busy machine, connecting and opening must fit in it too.
      const journal = redisJournal({ connection: server.url, key: "j", timeoutMs: 1_000 });
      await journal.open();
      await journal.append([record("a")]);
      await server.stop();
      await rejectsWith(
        journal.append([record("b")]),
        "E_JOURNAL_FAILED",
        new RegExp(`redis journal "j" on 127\\.0\\.0\\.1:${server.port}: cannot append: Redis did not answer within 1000 ms`),
      );
      await journal.close();
    } finally {
      await server.stop();
    }
  });

  it("Redis restarted without persistence: the next append fails saying Redis lost the data; a new open starts afresh", async () => {
    const server = await startRedisServer();
    try {
      const journal = redisJournal({ connection: server.url, key: "j" });
      await journal.open();
      await journal.append([record("a")]);
      await server.restart();
      await rejectsWith(journal.append([record("b")]), "E_JOURNAL_FAILED", /Redis lost data: the list has 0 of the 2 entries written and the lock is gone/);
      await journal.close();
      const next = redisJournal({ connection: server.url, key: "j" });
      assert.deepEqual(await next.open(), []);
      await next.close();
    } finally {
      await server.stop();
    }
  });

  it("open against a Redis that does not answer fails within timeoutMs and never shows the password", async () => {
    const server = await startRedisServer();
    await server.stop(); // nothing listens on its port now
    const journal = redisJournal({ connection: `redis://user:s3cret@127.0.0.1:${server.port}/0`, key: "j", timeoutMs: 200 });
    await assert.rejects(journal.open(), (error: Error & { code?: string }) => {
      assert.equal(error.code, "E_JOURNAL_FAILED");
      assert.match(error.message, new RegExp(`redis journal "j" on 127\\.0\\.0\\.1:${server.port}: cannot take its lock: Redis did not answer within 200 ms`));
      assert.match(error.message, /ECONNREFUSED/);
      assert.doesNotMatch(error.message, /s3cret/);
      return true;
    });
  });
});

describe("redisJournal options", () => {
  it("every bad option is E_INVALID_OPTION naming it", () => {
    const url = "redis://127.0.0.1:6379";
    throwsWith(() => redisJournal(undefined as never), /takes options/);
    throwsWith(() => redisJournal({ key: "k" } as never), /option "connection" must be/);
    throwsWith(() => redisJournal({ connection: "http://x", key: "k" }), /connection must be a redis:\/\/ or rediss:\/\/ URL/);
    throwsWith(() => redisJournal({ connection: "redis://u:pw@h:1/x", key: "k" }), /database must be a number/);
    throwsWith(() => redisJournal({ connection: url } as never), /option "key" must be a non-empty string/);
    throwsWith(() => redisJournal({ connection: url, key: "" }), /option "key"/);
    throwsWith(
      () => redisJournal({ connection: url, key: " \t" }),
      /option "key" must be a non-empty string, not only whitespace.*received " \\t"|option "key"/,
    );
    throwsWith(() => redisJournal({ connection: url, key: "k", lockTtlMs: 50 }), /option "lockTtlMs" must be an integer from 100/);
    throwsWith(() => redisJournal({ connection: url, key: "k", lockTtlMs: 1.5 }), /lockTtlMs/);
    throwsWith(() => redisJournal({ connection: url, key: "k", lockWaitMs: -1 }), /option "lockWaitMs" must be an integer from 0/);
    throwsWith(() => redisJournal({ connection: url, key: "k", timeoutMs: 0 }), /option "timeoutMs" must be an integer from 1/);
    throwsWith(() => redisJournal({ connection: url, key: "k", timeoutMs: Number.POSITIVE_INFINITY }), /timeoutMs/);
    throwsWith(() => redisJournal({ connection: url, key: "k", waitReplicas: -1 }), /option "waitReplicas" must be an integer from 0 to 1000/);
    throwsWith(() => redisJournal({ connection: url, key: "k", lockTtl: 1 } as never), /unknown option "lockTtl" \(did you mean "lockTtlMs"\?\)/);
  });
});

/** The tasks the journal in Redis holds as succeeded (read by hand: the dead coordinator's lock is still there). */
async function durablySucceeded(raw: Redis, key: string): Promise<Set<string>> {
  const entries = await raw.lrange(key, 1, -1);
  const records = entries.flatMap((e) => JSON.parse(e) as JournalRecord[]);
  return new Set(records.flatMap((r) => (r.type === "task" && r.status === "succeeded" ? [r.id] : [])));
}

interface Outcome {
  readonly signal: NodeJS.Signals | null;
  readonly exit: number | null;
  readonly done: string | undefined;
}

/** Runs the coordinator process; with `killAfter`, SIGKILLs it once that many tasks ran (counted from its stdout). */
function coordinator(url: string, key: string, log: string, runNumber: number, killAfter?: number): Promise<Outcome> {
  // Always Node (also when the test runs under Deno): the coordinator is a Node program.
  const child = spawn("node", ["--import", "tsx", COORDINATOR, url, key], {
    env: { ...process.env, CRASH_LOG: log, CRASH_RUN: String(runNumber) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let ended = 0;
  let done: string | undefined;
  createInterface({ input: child.stdout! }).on("line", (line) => {
    if (line.startsWith("ended ") && !line.endsWith(" restored")) {
      ended++;
      if (ended === killAfter) child.kill("SIGKILL");
    } else if (line.startsWith("done ")) done = line;
  });
  return new Promise((resolve) => child.on("close", (exit, signal) => resolve({ exit, signal, done })));
}

describe("redisJournal: SIGKILL of the coordinator", { skip: hasRedisServer() ? false : "redis-server is not installed" }, () => {
  it("a coordinator process killed mid-run is resumed by another from Redis: no succeeded task runs again, every task ends succeeded", async () => {
    const server = await startRedisServer();
    const raw = rawClient(server);
    const dir = mkdtempSync(join(tmpdir(), "flotilla-redis-journal-"));
    try {
      const log = join(dir, "runs.log");
      const killed = await coordinator(server.url, "crash", log, 1, 40);
      assert.equal(killed.signal, "SIGKILL", `the first coordinator was not killed: ${killed.done}`);
      assert.ok((await raw.pttl("crash:lock")) > 0, "the killed coordinator left its lock");
      const held = await durablySucceeded(raw, "crash");
      assert.ok(held.size >= 1, "the journal held some successes");

      // Started at once: it waits for the dead coordinator's lock to expire, then resumes.
      const resumed = await coordinator(server.url, "crash", log, 2);
      assert.equal(resumed.exit, 0, `the second coordinator did not succeed: ${resumed.done}`);
      assert.match(resumed.done ?? "", /^done succeeded \{"succeeded":100,"failed":0,"cancelled":0,"skipped":0\}/);

      const lines = readFileSync(log, "utf8").trim().split("\n");
      const ranSecond = lines.filter((l) => l.startsWith("2 ")).map((l) => l.slice(2));
      for (const id of ranSecond) assert.ok(!held.has(id), `task ${id} ran again although the journal held its success`);
      assert.ok(ranSecond.length < 100, "the second run redid everything");
      assert.equal(new Set(lines.map((l) => l.split(" ")[1])).size, 100, "every task ran at least once");
      assert.equal((await durablySucceeded(raw, "crash")).size, 100);
      assert.equal(await raw.exists("crash:lock"), 0, "the second coordinator released the lock");
    } finally {
      rmSync(dir, { recursive: true, force: true });
      raw.disconnect();
      await server.stop();
    }
  });
});
