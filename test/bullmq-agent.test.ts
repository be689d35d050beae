/**
 * The remote agent of flotilla/bullmq (`startAgent`), against a real redis-server: the test plays the
 * coordinator, adding jobs (AttemptData) to the agent's own BullMQ queue, reading results and log
 * lines through QueueEvents and sending cancels through the Relay. Skipped without redis-server.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Queue, QueueEvents, Relay } from "bullmq";
import { Redis } from "ioredis";
import { type Agent, type AgentEvent, startAgent } from "../adapters/bullmq/agent/index.ts";
import { agentsKey, cancelTopic, relayNamespace } from "../adapters/bullmq/names.ts";
import { type AttemptData, type AttemptResult, CANCELLED_JOB, type ErrorWire, WIRE_VERSION, errorWire } from "../adapters/bullmq/wire.ts";
import { childProcess } from "../adapters/child-process/index.ts";
import { workerThreads } from "../adapters/worker-threads/index.ts";
import { CancelledError, FlotillaError } from "../src/errors.ts";
import { hasRedisServer, type RedisServer, startRedisServer } from "./redis-server.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/bullmq-modules/", import.meta.url));
const GRACE_MS = 200;

/** The events an agent reported, and a way to wait for one. */
class Events {
  readonly seen: AgentEvent[] = [];
  readonly #waiters = new Set<{ match: (e: AgentEvent) => boolean; resolve: (e: AgentEvent) => void }>();
  readonly push = (event: AgentEvent): void => {
    this.seen.push(event);
    for (const w of this.#waiters) if (w.match(event)) this.#waiters.delete(w), w.resolve(event);
  };
  until<T extends AgentEvent>(match: (e: AgentEvent) => e is T): Promise<T>;
  until(match: (e: AgentEvent) => boolean): Promise<AgentEvent>;
  until(match: (e: AgentEvent) => boolean): Promise<AgentEvent> {
    const seen = this.seen.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.add({ match, resolve }));
  }
}

/** The coordinator's side of one agent queue. */
class Coordinator {
  readonly queue: Queue;
  readonly events: QueueEvents;
  readonly #logs = new Map<string, [string, string][]>();
  constructor(url: string, name: string) {
    this.queue = new Queue(name, { connection: { ...urlOptions(url), maxRetriesPerRequest: null } });
    this.events = new QueueEvents(name, { connection: { ...urlOptions(url), maxRetriesPerRequest: null } });
    this.events.on("progress", ({ jobId, data }) => {
      const lines = this.#logs.get(jobId) ?? [];
      lines.push(...((data as { log: [string, string][] }).log ?? []));
      this.#logs.set(jobId, lines);
    });
  }
  logs(jobId: string): [string, string][] {
    return this.#logs.get(jobId) ?? [];
  }
  /** Adds the job and resolves with how it ended: its AttemptResult, or the reason it failed. */
  async run(data: AttemptData, jobId = randomUUID()): Promise<{ jobId: string; result?: AttemptResult; failed?: string }> {
    const ended = this.ended(jobId);
    await this.queue.add("attempt", data, { jobId, removeOnComplete: true, removeOnFail: true });
    return ended;
  }
  ended(jobId: string): Promise<{ jobId: string; result?: AttemptResult; failed?: string }> {
    return new Promise((resolve) => {
      const done = (outcome: { result?: AttemptResult; failed?: string }) => {
        this.events.off("completed", completed);
        this.events.off("failed", failed);
        resolve({ jobId, ...outcome });
      };
      const completed = (args: { jobId: string; returnvalue: unknown }) => {
        if (args.jobId !== jobId) return;
        const value = typeof args.returnvalue === "string" ? JSON.parse(args.returnvalue) : args.returnvalue;
        done({ result: value as AttemptResult });
      };
      const failed = (args: { jobId: string; failedReason: string }) => {
        if (args.jobId === jobId) done({ failed: args.failedReason });
      };
      this.events.on("completed", completed);
      this.events.on("failed", failed);
    });
  }
  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
  }
}

function urlOptions(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

let n = 0;
function moduleAttempt(path: string, name: string, input?: unknown, extra: Partial<AttemptData> = {}, payload?: object): AttemptData {
  const key = `key-${++n}-${randomUUID()}`;
  return {
    v: WIRE_VERSION,
    key,
    taskId: `t${n}`,
    attempt: 1,
    body: { kind: "worker-thread", path, export: name },
    payload: JSON.stringify(payload ?? { input, deps: {}, failures: {} }),
    ...extra,
  };
}

function commandAttempt(argv: string[], options: object = {}, payload?: object): AttemptData {
  const key = `key-${++n}-${randomUUID()}`;
  return {
    v: WIRE_VERSION,
    key,
    taskId: `c${n}`,
    attempt: 1,
    body: { kind: "command", argv, options },
    payload: JSON.stringify(payload ?? { deps: {}, failures: {} }),
  };
}

const ok = (json: unknown): AttemptResult => ({ t: "ok", json: JSON.stringify(json) });

describe("flotilla/bullmq agent", { skip: hasRedisServer() ? false : "redis-server is not installed (.ci/run installs Debian's redis-server)" }, () => {
  let redis: RedisServer;
  let modules: string;
  let agent: Agent;
  let events: Events;
  let coordinator: Coordinator;
  let relay: Relay;

  before(async () => {
    redis = await startRedisServer();
    // The modules folder: a copy of the fixtures, and a symlink in it that points out of it.
    modules = mkdtempSync(join(tmpdir(), "flotilla-agent-modules-"));
    copyFileSync(join(FIXTURES, "tasks.mjs"), join(modules, "tasks.mjs"));
    symlinkSync(join(FIXTURES, "tasks.mjs"), join(modules, "escape.mjs"));
    events = new Events();
    agent = await startAgent({
      connection: redis.url,
      queue: "agent-test",
      name: "a1",
      concurrency: 4,
      modules,
      providers: [workerThreads({ threads: 4, tasksPerThread: 1, terminateGraceMs: GRACE_MS }), childProcess({ slots: 4, killGraceMs: GRACE_MS })],
      maxPayloadBytes: 10_000,
      maxOutputBytes: 1_000,
      onEvent: events.push,
    });
    coordinator = new Coordinator(redis.url, agent.info.queue);
    await coordinator.events.waitUntilReady();
    relay = new Relay({ connection: { ...urlOptions(redis.url), maxRetriesPerRequest: null }, namespace: relayNamespace("agent-test"), nodeId: "coordinator" });
    await relay.waitUntilReady();
  });

  after(async () => {
    await relay?.close();
    await coordinator?.close();
    await agent?.close();
    await redis?.stop();
    if (modules !== undefined) rmSync(modules, { recursive: true, force: true });
  });

  it("describes itself in the agents hash and is a live node of the queue's Relay namespace", async () => {
    assert.equal(agent.id, "a1");
    assert.equal(agent.info.queue, "agent-test-agent-a1");
    assert.deepEqual(agent.info.kinds, ["worker-thread", "command"]);
    const client = new Redis(redis.url);
    try {
      const stored = JSON.parse((await client.hget(agentsKey("bull", "agent-test"), "a1"))!);
      assert.deepEqual(stored, agent.info);
    } finally {
      client.disconnect();
    }
    const nodes = await relay.getNodes();
    assert.ok(
      nodes.some((node) => node.id === "a1"),
      JSON.stringify(nodes),
    );
    assert.ok(events.seen.some((e) => e.type === "ready"));
  });

  it("runs a module's export: its input, deps and failures arrive, its output comes back", async () => {
    const failure = errorWire(Object.assign(new FlotillaError("E_COMMAND_FAILED", "exit 3"), { exitCode: 3 }));
    const data = moduleAttempt("tasks.mjs", "echo", undefined, {}, { input: { a: 1 }, deps: { up: [1, 2] }, failures: { broken: failure } });
    const { result } = await coordinator.run(data);
    assert.deepEqual(result, {
      t: "ok",
      json: JSON.stringify({
        input: { a: 1 },
        deps: { up: [1, 2] },
        failures: { broken: { name: "FlotillaError", message: "exit 3", code: "E_COMMAND_FAILED", exitCode: 3, branded: true } },
        taskId: data.taskId,
        attempt: 1,
      }),
    });
  });
});
