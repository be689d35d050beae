/**
 * flotilla/bullmq with the real thing, end to end: a coordinator PROCESS (test/fixtures/bullmq-remote/
 * coordinator.ts) runs a 40-task job on two agent processes through bullmq(), journaled with
 * redisJournal; it is SIGKILLed mid-job, and a second coordinator process started on the same key waits
 * for the dead one's lock, resumes, and ends the job. The agents keep running across both.
 *
 * What the dead coordinator had sent may still run and finish on the agents after its death (delivery
 * is at least once): such attempts are tolerated and counted, never asserted away. What is asserted:
 * no task the journal held as succeeded at the kill runs again; every task ran at least once; the
 * outputs are those of an uninterrupted run. Runs under Node and Deno (the coordinators, agents and
 * commands are Node processes either way); skipped when redis-server is not installed.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import type { JournalRecord } from "../src/index.ts";
import { expectedOutputs, plan } from "./fixtures/bullmq-remote/coordinator.ts";
import { type RedisServer, hasRedisServer, startRedisServer } from "./redis-server.ts";

const MODULES = fileURLToPath(new URL("./fixtures/bullmq-remote/", import.meta.url));
const AGENT = fileURLToPath(new URL("./fixtures/bullmq-remote/agent.ts", import.meta.url));
const COORDINATOR = fileURLToPath(new URL("./fixtures/bullmq-remote/coordinator.ts", import.meta.url));
// Agents, coordinators and their commands run on Node (with tsx for the sources), also when this test runs under Deno.
const NODE = (process.versions as { deno?: string }).deno === undefined ? process.execPath : "node";
const skip = hasRedisServer() ? false : "redis-server is not installed (.ci/run installs it)";

/** An agent process and the events it printed (one JSON object per line). */
interface AgentProcess {
  readonly child: ChildProcess;
  readonly events: Array<Record<string, unknown>>;
  readonly exited: Promise<void>;
}

function startAgentProcess(redis: RedisServer, queue: string, name: string): Promise<AgentProcess> {
  const child = spawn(NODE, ["--import", "tsx", AGENT, redis.url, queue, name, MODULES, "600"], { stdio: ["ignore", "pipe", "inherit"] });
  const events: Array<Record<string, unknown>> = [];
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const event = JSON.parse(line) as Record<string, unknown>;
      events.push(event);
      if (event.type === "ready") resolve({ child, events, exited });
    });
    void exited.then(() => reject(new Error(`agent ${name} exited before it was ready`)));
  });
}

async function stopAgents(agents: readonly AgentProcess[]): Promise<void> {
  await Promise.all(
    agents.map((a) => {
      if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill("SIGTERM");
      return a.exited;
    }),
  );
}

interface CoordinatorRun {
  readonly signal: NodeJS.Signals | null;
  readonly exit: number | null;
  /** The tasks it started (sent to agents) and the ones it saw succeed (restored or run). */
  readonly started: readonly string[];
  readonly succeeded: readonly string[];
  readonly restored: readonly string[];
  /** Its last line: `done <status> <outputs>`. */
  readonly done: string | undefined;
  readonly lines: readonly string[];
}

/** Runs a coordinator process to its end; with `killAfter`, SIGKILLs it once that many tasks succeeded. */
function coordinator(args: readonly string[], killAfter?: number): Promise<CoordinatorRun> {
  const child = spawn(NODE, ["--import", "tsx", COORDINATOR, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const started: string[] = [];
  const succeeded: string[] = [];
  const restored: string[] = [];
  const lines: string[] = [];
  let done: string | undefined;
  createInterface({ input: child.stdout! }).on("line", (line) => {
    lines.push(line);
    const [what, id, flag] = line.split(" ");
    if (what === "start") started.push(id!);
    else if (what === "succeeded") {
      succeeded.push(id!);
      if (flag === "restored") restored.push(id!);
      if (succeeded.length === killAfter) child.kill("SIGKILL");
    } else if (what === "done") done = line;
  });
  return new Promise((resolve) => child.on("close", (exit, signal) => resolve({ exit, signal, started, succeeded, restored, done, lines })));
}

/** The tasks the journal in Redis holds as succeeded (read by hand: entry 0 is the header, then JSON arrays of records). */
async function journaledSuccesses(raw: Redis, key: string): Promise<Set<string>> {
  const [header, ...entries] = await raw.lrange(key, 0, -1);
  assert.equal(header, "flotilla-journal 1");
  const records = entries.flatMap((e) => JSON.parse(e) as JournalRecord[]);
  return new Set(records.flatMap((r) => (r.type === "task" && r.status === "succeeded" ? [r.id] : [])));
}

/** Bodies the agents started per task (a second delivery that joined a running one is not a start). */
function agentStarts(events: ReadonlyArray<Record<string, unknown>>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of events)
    if (e.type === "attempt:start" && e.duplicateOf === undefined) counts.set(e.taskId as string, (counts.get(e.taskId as string) ?? 0) + 1);
  return counts;
}

describe("bullmq(): the coordinator SIGKILLed mid-job, resumed from the Redis journal", { skip }, () => {
  let redis: RedisServer;
  let raw: Redis;
  let dir: string;
  before(async () => {
    redis = await startRedisServer();
    raw = new Redis(redis.url, { maxRetriesPerRequest: null });
    dir = mkdtempSync(join(tmpdir(), "flotilla-bullmq-resume-"));
  });
  after(async () => {
    raw?.disconnect();
    await redis?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("a second coordinator process waits for the dead one's lock, does not run again what the journal held, and ends the job with the uninterrupted outputs", async () => {
    const agents = await Promise.all([startAgentProcess(redis, "resume", "r1"), startAgentProcess(redis, "resume", "r2")]);
    const log = join(dir, "commands.log");
    const gate = join(dir, "gate");
    const key = "journal:resume";
    const TOTAL = plan().length;
    try {
      // Layers 2 and 3 wait for "gate" (it waits for the file `gate`), so the kill lands mid-job: after
      // 12 successes, with at least 19 tasks still to run.
      writeFileSync(`${log}.run`, "1");
      const first = await coordinator([redis.url, "resume", key, log, gate], 12);
      assert.equal(first.signal, "SIGKILL", `the first coordinator was not killed:\n${first.lines.join("\n")}`);
      assert.ok((await raw.pttl(`${key}:lock`)) > 0, "the killed coordinator left its lock");
      const held = await journaledSuccesses(raw, key);
      assert.ok(held.size >= 1 && held.size < TOTAL, `the journal held ${held.size} successes at the kill`);
      for (const id of held) assert.ok(first.succeeded.includes(id), `${id} is journaled as succeeded but the first coordinator never said so`);
      const agentEventsAtKill = agents.map((a) => a.events.length);

      // From now on commands note "2": a late command of the first coordinator may too, but none of a held task (it had ended).
      writeFileSync(`${log}.run`, "2");
      // The gate opens: the first coordinator's "gate" attempt, still running on an agent, may now finish there unheard.
      writeFileSync(gate, "");
      // Started at once: it waits in open() for the dead coordinator's lock to expire (lockTtlMs 2000), then resumes.
      const second = await coordinator([redis.url, "resume", key, log, gate]);
      assert.equal(second.exit, 0, `the second coordinator did not succeed:\n${second.lines.join("\n")}`);
      assert.match(second.done ?? "", /^done succeeded /);

      // Nothing the journal held ran again: not sent by the second coordinator, ...
      assert.deepEqual([...second.restored].sort(), [...held].sort(), "the second coordinator restored exactly what the journal held");
      for (const id of second.started) assert.ok(!held.has(id), `the second coordinator sent ${id} again although the journal held its success`);
      // ... no command of it ran with the second coordinator's run number, ...
      const ran = readFileSync(log, "utf8").trim().split("\n");
      for (const line of ran) {
        const [run, id] = line.split(" ");
        if (run === "2") assert.ok(!held.has(id!), `command ${id} ran again although the journal held its success`);
      }
      // ... and no agent started it after the kill (its only attempt had ended before its success was journaled).
      const afterKill = agents.flatMap((a, i) => a.events.slice(agentEventsAtKill[i]));
      for (const [id] of agentStarts(afterKill)) assert.ok(!held.has(id), `an agent ran ${id} after the kill although the journal held its success`);

      // Every task ran at least once on an agent; the outputs are those of an uninterrupted run.
      const starts = agentStarts(agents.flatMap((a) => a.events));
      for (const t of plan()) assert.ok((starts.get(t.id) ?? 0) >= 1, `${t.id} never ran on an agent`);
      for (const t of plan().filter((p) => p.kind === "command"))
        assert.ok(
          ran.some((l) => l.endsWith(` ${t.id}`)),
          `command ${t.id} never ran`,
        );
      const outputs = JSON.parse(second.done!.slice("done succeeded ".length)) as Record<string, number>;
      assert.deepEqual(outputs, Object.fromEntries(expectedOutputs()));
      assert.equal((await journaledSuccesses(raw, key)).size, TOTAL);
      assert.equal(await raw.exists(`${key}:lock`), 0, "the second coordinator released the lock");

      // At least once, tolerated: tasks the dead coordinator had sent but not journaled may have run twice.
      const twice = [...starts].filter(([, n]) => n > 1).map(([id]) => id);
      console.log(
        `journal held ${held.size} of ${TOTAL} successes at the kill; the second coordinator ran ${second.started.length} tasks; ran twice (sent by the dead coordinator, then again): ${twice.join(", ") || "none"}`,
      );
      assert.ok(existsSync(gate));
    } finally {
      await stopAgents(agents);
    }
  });
});
