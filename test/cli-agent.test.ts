/**
 * `flotilla agent`, run as a user runs it (`node bin/flotilla.mjs agent ...`, built by `npm run -s
 * build`) against a real redis-server: its ready line, one attempt through it, SIGTERM (drain, exit
 * 0), bad flags (exit 2), and SIGKILL. The test plays the coordinator with a BullMQ Queue.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Queue, QueueEvents } from "bullmq";
import { type AttemptData, type AttemptResult, WIRE_VERSION } from "../adapters/bullmq/wire.ts";
import { bin, flotilla, killStrays, type Running, sendSignal, startCommand } from "./fixtures/cli/flotilla.ts";
import { untilGone } from "./processes.ts";
import { hasRedisServer, type RedisServer, startRedisServer } from "./redis-server.ts";

const MODULES = fileURLToPath(new URL("./fixtures/bullmq-modules/", import.meta.url));
const seenPids: number[] = [];
const cleanUp = (): void => killStrays(seenPids);
after(cleanUp);
process.on("exit", cleanUp);

function attempt(body: AttemptData["body"], input?: unknown): AttemptData {
  return { v: WIRE_VERSION, key: randomUUID(), taskId: "t", attempt: 1, body, payload: JSON.stringify({ input, deps: {}, failures: {} }) };
}

describe("flotilla agent: exit codes for bad flags", () => {
  it("exits 2 with a clear message for a missing --queue, a missing Redis URL, a bad --concurrency and a bad queue name", async () => {
    const noQueue = await flotilla(["agent", "--redis", "redis://127.0.0.1:1"]);
    assert.equal(noQueue.code, 2);
    assert.match(noQueue.stderr, /^flotilla: E_INVALID_OPTION: flotilla agent needs --queue NAME/);
    const noRedis = await flotilla(["agent", "--queue", "q"], { FLOTILLA_REDIS_URL: "" });
    assert.equal(noRedis.code, 2);
    assert.match(noRedis.stderr, /give --redis redis:\/\/HOST:PORT or set FLOTILLA_REDIS_URL/);
    const concurrency = await flotilla(["agent", "--redis", "redis://127.0.0.1:1", "--queue", "q", "--concurrency", "0"]);
    assert.equal(concurrency.code, 2);
    assert.match(concurrency.stderr, /--concurrency must be a whole number >= 1/);
    const queue = await flotilla(["agent", "--redis", "redis://127.0.0.1:1", "--queue", "a:b"]);
    assert.equal(queue.code, 2);
    assert.match(queue.stderr, /queue must be 1 to 40 letters/);
    const unknown = await flotilla(["agent", "--queue", "q", "--bogus"]);
    assert.equal(unknown.code, 2);
  });
});

describe("flotilla agent", { skip: hasRedisServer() ? false : "redis-server is not installed (.ci/run installs Debian's redis-server)" }, () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedisServer();
  });
  after(async () => {
    await redis?.stop();
  });

  /** Starts an agent (Redis URL from FLOTILLA_REDIS_URL) and waits for its ready line. */
  async function startAgentCommand(name: string, extra: string[] = []): Promise<Running> {
    const running = startCommand("node", [bin, "agent", "--queue", "cliq", "--name", name, "--concurrency", "2", "--modules", MODULES, ...extra], {
      FLOTILLA_REDIS_URL: redis.url,
    });
    seenPids.push(running.child.pid!);
    await running.stdout.until(
      (line) => line === `agent ${name} ready on queue cliq (concurrency 2, kinds worker-thread, command)` || line.includes('"ready"'),
    );
    return running;
  }

  function coordinator(name: string): { queue: Queue; events: QueueEvents; close(): Promise<void> } {
    const connection = { host: "127.0.0.1", port: redis.port, maxRetriesPerRequest: null };
    const queue = new Queue(`cliq-agent-${name}`, { connection });
    const events = new QueueEvents(`cliq-agent-${name}`, { connection });
    return { queue, events, close: async () => (await events.close(), await queue.close()) };
  }

  it("prints its ready line, runs an attempt with a line at its start and end, and drains and exits 0 on SIGTERM", async () => {
    const agent = await startAgentCommand("c1");
    const c = coordinator("c1");
    try {
      await c.events.waitUntilReady();
      const job = await c.queue.add("attempt", attempt({ kind: "worker-thread", path: "tasks.mjs", export: "big" }, 3), { jobId: "j1" });
      const result = (await job.waitUntilFinished(c.events)) as AttemptResult;
      assert.deepEqual(result, { t: "ok", json: '"xxx"' });
      await agent.stdout.until((line) => /^start j1: task "t" attempt 1 \(worker-thread\)$/.test(line));
      await agent.stdout.until((line) => /^end j1: task "t" attempt 1 ok after \d+ ms$/.test(line));
    } finally {
      await c.close();
    }
    sendSignal(agent, "SIGTERM");
    const exit = await agent.exited;
    assert.equal(exit.code, 0, agent.stderr.text);
  });

  it("with --in-thread, runs worker modules in its own thread, without --in-thread on worker threads", async () => {
    for (const [name, flags, where] of [
      ["c4", ["--in-thread"], "main"],
      ["c5", [], "worker"],
    ] as const) {
      const agent = await startAgentCommand(name, [...flags]);
      const c = coordinator(name);
      try {
        await c.events.waitUntilReady();
        const job = await c.queue.add("attempt", attempt({ kind: "worker-thread", path: "tasks.mjs", export: "thread" }), { jobId: `${name}-j` });
        assert.deepEqual(await job.waitUntilFinished(c.events), { t: "ok", json: JSON.stringify(where) }, `agent ${name} ${flags.join(" ")}`);
      } finally {
        await c.close();
      }
      sendSignal(agent, "SIGTERM");
      assert.equal((await agent.exited).code, 0, agent.stderr.text);
    }
  });

  it("with --json, writes one JSON object per event; SIGKILL mid-attempt leaves no process of the agent behind", async () => {
    const agent = await startAgentCommand("c2", ["--json"]);
    const c = coordinator("c2");
    try {
      await c.events.waitUntilReady();
      const ready = JSON.parse(agent.stdout.lines[0]!) as { type: string; info: { id: string } };
      assert.equal(ready.type, "ready");
      assert.equal(ready.info.id, "c2");
      await c.queue.add("attempt", attempt({ kind: "worker-thread", path: "tasks.mjs", export: "honours" }), { jobId: "k1" });
      const script = "console.log(process.pid); setInterval(() => {}, 1000)";
      await c.queue.add("attempt", attempt({ kind: "command", argv: ["node", "-e", script], options: { output: "none" } }), { jobId: "k2" });
      // Both running: the module has said "started", the command has printed its pid.
      let commandPid = 0;
      await new Promise<void>((resolve) => {
        const seen = new Set<string>();
        c.events.on("progress", ({ jobId, data }) => {
          const log = (data as { log: [string, string][] }).log;
          if (jobId === "k2") commandPid = Number(log[0]![1]);
          seen.add(jobId);
          if (seen.size === 2) resolve();
        });
      });
      seenPids.push(commandPid);
      const starts = agent.stdout.lines.map((line) => JSON.parse(line) as { type: string }).filter((e) => e.type === "attempt:start");
      assert.equal(starts.length, 2);
      sendSignal(agent, "SIGKILL");
      await agent.exited;
      await untilGone(agent.child.pid!);
      // Worker threads die with the agent. A command's process group is its own (so a cancel reaches its
      // children), and a SIGKILLed agent runs no exit hook: the child-process provider's reaper stops it.
      await untilGone(commandPid);
    } finally {
      await c.close();
    }
  });
  it("SIGTERM twice aborts the running attempts and exits 130; their jobs fail", async () => {
    const agent = await startAgentCommand("c3");
    const c = coordinator("c3");
    try {
      await c.events.waitUntilReady();
      const started = new Promise<void>((resolve) => c.events.once("progress", () => resolve()));
      const job = await c.queue.add("attempt", attempt({ kind: "worker-thread", path: "tasks.mjs", export: "honours" }), { jobId: "m1" });
      await started;
      sendSignal(agent, "SIGTERM");
      // Signals sent together may arrive as one: the second goes once the first was heard.
      await agent.stdout.until((line) => line === "agent c3 stopping (SIGTERM): draining 1 running attempt(s); SIGTERM again aborts them");
      sendSignal(agent, "SIGTERM");
      await assert.rejects(job.waitUntilFinished(c.events), /aborted on agent "c3": agent "c3" was closed with force/);
      const exit = await agent.exited;
      assert.equal(exit.code, 130, agent.stderr.text);
    } finally {
      await c.close();
    }
  });
});
