/**
 * The remote agent of flotilla/bullmq (`startAgent`), against a real redis-server: the test plays the
 * coordinator, adding jobs (AttemptData) to the agent's own BullMQ queue, reading results and log
 * lines through QueueEvents and sending cancels through the Relay. Skipped without redis-server.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Queue, QueueEvents, Relay } from "bullmq";
import { Redis } from "ioredis";
import { type Agent, type AgentEvent, startAgent } from "../adapters/bullmq/agent/index.ts";
import { agentsKey, cancelTopic, relayNamespace } from "../adapters/bullmq/names.ts";
import { type AttemptData, type AttemptResult, CANCELLED_JOB, type ErrorWire, WIRE_VERSION, errorWire } from "../adapters/bullmq/wire.ts";
import { childProcess } from "../adapters/child-process/index.ts";
import { inThread, workerThreads } from "../adapters/worker-threads/index.ts";
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
  async run(data: AttemptData, jobId: string = randomUUID()): Promise<{ jobId: string; result?: AttemptResult; failed?: string }> {
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
  it("runs a command: stdout as text or JSON, FLOTILLA_IDEMPOTENCY_KEY in its environment, stdin from base64", async () => {
    const text = commandAttempt(["node", "-e", "process.stdout.write(process.env.FLOTILLA_IDEMPOTENCY_KEY + ' ' + process.env.MINE + '\\n')"], {
      env: { MINE: "yes", HOME: null },
    });
    assert.deepEqual((await coordinator.run(text)).result, ok(`${text.key} yes`));
    const json = commandAttempt(["node", "-e", "let s='';process.stdin.on('data',(d)=>s+=d).on('end',()=>console.log(JSON.stringify({got:s})))"], {
      output: "json",
      stdinBase64: Buffer.from("héllo").toString("base64"),
    });
    assert.deepEqual((await coordinator.run(json)).result, ok({ got: "héllo" }));
  });

  it("sends log lines as progress, in order, before the result", async () => {
    const data = moduleAttempt("tasks.mjs", "logs", 50);
    const { jobId, result } = await coordinator.run(data);
    assert.deepEqual(result, ok(50));
    assert.deepEqual(
      coordinator.logs(jobId),
      Array.from({ length: 50 }, (_, i) => ["log", `line ${i}`]),
    );
    const cmd = await coordinator.run(commandAttempt(["sh", "-c", "echo out; echo err >&2"], { output: "none" }));
    assert.deepEqual(cmd.result, { t: "ok" });
    assert.deepEqual(coordinator.logs(cmd.jobId).sort(), [
      ["stderr", "err"],
      ["stdout", "out"],
    ]);
  });

  it("keeps a thrown error's name, message, code and properties", async () => {
    const { result } = await coordinator.run(moduleAttempt("tasks.mjs", "throws"));
    assert.equal(result?.t, "threw");
    const error = (result as { error: ErrorWire }).error;
    assert.deepEqual([error.name, error.message, error.code, error.props], ["RangeError", "out of range", "E_RANGE", { limit: 10, retryable: false }]);
    const failed = await coordinator.run(commandAttempt(["sh", "-c", "echo disk full >&2; exit 3"]));
    const wire = (failed.result as { error: ErrorWire }).error;
    assert.equal(wire.code, "E_COMMAND_FAILED");
    assert.equal(wire.props?.exitCode, 3);
    assert.equal(wire.props?.stderrTail, "disk full");
  });

  it("refuses a module path that leaves the modules folder: ../, absolute, a symlink out, a missing file", async () => {
    const refusal = async (path: string) => (await coordinator.run(moduleAttempt(path, "echo"))).result as AttemptResult & { t: "refused" };
    for (const path of ["../tasks.mjs", "sub/../../tasks.mjs", join(modules, "tasks.mjs"), "escape.mjs", "none.mjs", "a\\b.mjs"]) {
      const result = await refusal(path);
      assert.equal(result.t, "refused", path);
      assert.equal(result.refusal, "module", path);
    }
    assert.match((await refusal("escape.mjs")).message, /outside the agent's modules folder/);
    assert.match((await refusal("../tasks.mjs")).message, /contains "\.\."/);
  });

  it("refuses a payload over maxPayloadBytes, a shell without allowShell, an unknown kind and another wire version", async () => {
    const payload = (await coordinator.run(moduleAttempt("tasks.mjs", "echo", "y".repeat(20_000)))).result;
    assert.equal(payload?.t === "refused" && payload.refusal, "payload");
    assert.match((payload as { message: string }).message, /is 200\d\d bytes, over agent "a1"'s limit of 10000 bytes/);
    const shell = (await coordinator.run(commandAttempt(["echo hi"], { shell: true }))).result;
    assert.equal(shell?.t === "refused" && shell.refusal, "shell");
    assert.match((shell as { message: string }).message, /--allow-shell/);
    const kind = (await coordinator.run({ ...moduleAttempt("tasks.mjs", "echo"), body: { kind: "python", path: "x" } as never })).result;
    assert.equal(kind?.t === "refused" && kind.refusal, "kind");
    const version = (await coordinator.run({ ...moduleAttempt("tasks.mjs", "echo"), v: WIRE_VERSION + 1 })).result;
    assert.equal(version?.t === "refused" && version.refusal, "version");
  });

  it("refuses an output over maxOutputBytes, and fails one JSON cannot carry", async () => {
    const big = (await coordinator.run(moduleAttempt("tasks.mjs", "big", 2_000))).result;
    assert.equal(big?.t === "refused" && big.refusal, "output");
    assert.deepEqual((await coordinator.run(moduleAttempt("tasks.mjs", "big", 10))).result, ok("x".repeat(10)));
    const bigint = (await coordinator.run(moduleAttempt("tasks.mjs", "bigint"))).result;
    assert.equal(bigint?.t, "threw");
    assert.match((bigint as { error: ErrorWire }).error.message, /cannot be sent back .* as JSON/);
  });

  /** Starts `data`, waits for its "started" line, cancels it through the Relay and returns how it ended. */
  async function cancelMidway(
    data: AttemptData,
    on: { coordinator: Coordinator; agent: Agent; events: Events } = { coordinator, agent, events },
  ): Promise<{ failed?: string; stoppedAfterMs: number }> {
    const jobId = randomUUID();
    const ended = on.coordinator.ended(jobId);
    const started = new Promise<void>((resolve) => {
      const progress = (args: { jobId: string; data: unknown }) => {
        if (args.jobId !== jobId) return;
        on.coordinator.events.off("progress", progress);
        resolve();
      };
      on.coordinator.events.on("progress", progress);
    });
    await on.coordinator.queue.add("attempt", data, { jobId, removeOnComplete: true, removeOnFail: true });
    await started;
    const reason = errorWire(new CancelledError("run cancelled", "cancel", undefined));
    await relay.publish(cancelTopic(on.agent.id), { jobId, reason });
    const { failed } = await ended;
    const cancel = await on.events.until((e): e is AgentEvent & { type: "cancel" } => e.type === "cancel" && e.jobId === jobId);
    return { failed, stoppedAfterMs: cancel.stoppedAfterMs };
  }

  it("cancels through the Relay a module that honours its signal, one that ignores it (its thread is terminated) and a command that ignores SIGTERM (its group is killed)", async () => {
    const figures: string[] = [];
    const honours = await cancelMidway(moduleAttempt("tasks.mjs", "honours"));
    assert.equal(honours.failed, CANCELLED_JOB);
    figures.push(`honours ${honours.stoppedAfterMs.toFixed(1)} ms`);
    const ignores = await cancelMidway(moduleAttempt("tasks.mjs", "ignores"));
    assert.equal(ignores.failed, CANCELLED_JOB);
    assert.ok(ignores.stoppedAfterMs >= GRACE_MS, `stopped after ${ignores.stoppedAfterMs} ms, before the grace`);
    figures.push(`ignores ${ignores.stoppedAfterMs.toFixed(1)} ms`);
    const pidFile = join(modules, `pid-${randomUUID()}`);
    const command = await cancelMidway(commandAttempt(["sh", "-c", `trap '' TERM; echo $$ > ${pidFile}; echo started; while :; do :; done`]));
    assert.equal(command.failed, CANCELLED_JOB);
    const pid = Number(readFileSync(pidFile, "utf8"));
    assert.throws(() => process.kill(pid, 0), /ESRCH/, "the command's shell is gone");
    figures.push(`command ${command.stoppedAfterMs.toFixed(1)} ms`);
    // The agent still runs attempts on the thread that replaced the terminated one.
    assert.deepEqual((await coordinator.run(moduleAttempt("tasks.mjs", "logs", 1))).result, ok(1));
    console.log(`cancel-to-stopped: ${figures.join(", ")} (grace ${GRACE_MS} ms)`);
  });

  it("runs modules in its own thread with inThread(): the same input, deps, failures and output; a cancel stops a body that honours its signal", async () => {
    const inThreadEvents = new Events();
    const own = await startAgent({
      connection: redis.url,
      queue: "agent-test",
      name: "a3",
      concurrency: 2,
      modules,
      providers: [inThread({ abandonGraceMs: GRACE_MS })],
      onEvent: inThreadEvents.push,
    });
    const other = new Coordinator(redis.url, own.info.queue);
    try {
      await other.events.waitUntilReady();
      assert.deepEqual(own.info.kinds, ["worker-thread"]);
      const failure = errorWire(new FlotillaError("E_COMMAND_FAILED", "exit 3"));
      const payload = { input: { a: 1 }, deps: { up: [1, 2] }, failures: { broken: failure } };
      const [here, threaded] = [moduleAttempt("tasks.mjs", "echo", undefined, {}, payload), moduleAttempt("tasks.mjs", "echo", undefined, {}, payload)];
      const [a, b] = await Promise.all([other.run(here), coordinator.run({ ...threaded, taskId: here.taskId })]);
      assert.equal(a.result?.t, "ok");
      assert.deepEqual(a.result, b.result, "the same result as on a worker thread");
      const honours = await cancelMidway(moduleAttempt("tasks.mjs", "honours"), { coordinator: other, agent: own, events: inThreadEvents });
      assert.equal(honours.failed, CANCELLED_JOB);
    } finally {
      await other.close();
      await own.close();
    }
  });

  it("stops a job whose cancel arrived before it started, without running it", async () => {
    const jobId = randomUUID();
    const marker = join(modules, `ran-${jobId}`);
    await relay.publish(cancelTopic(agent.id), { jobId, reason: errorWire(new CancelledError("cancelled early", "cancel", undefined)) });
    // Messages on a topic arrive in order: once the agent reports this unreadable one, it has the cancel.
    await relay.publish(cancelTopic(agent.id), { unreadable: jobId });
    await events.until((e) => e.type === "error" && String(e.error).includes(jobId));
    const { failed } = await coordinator.run(commandAttempt(["touch", marker]), jobId);
    assert.equal(failed, CANCELLED_JOB);
    assert.equal(existsSync(marker), false, "the command never ran");
    assert.ok(events.seen.some((e) => e.type === "cancel" && e.jobId === jobId));
  });

  it("runs the body once when the same attempt is delivered twice, and gives both jobs its outcome", async () => {
    const count = join(modules, `count-${randomUUID()}`);
    const release = join(modules, `release-${randomUUID()}`);
    const first = commandAttempt(["sh", "-c", 'echo run >> "$0"; while [ ! -e "$1" ]; do sleep 0.01; done; echo done', count, release]);
    const one = coordinator.run(first, "dup-1");
    await events.until((e) => e.type === "attempt:start" && e.jobId === "dup-1");
    const two = coordinator.run(first, "dup-2");
    await events.until((e) => e.type === "attempt:start" && e.jobId === "dup-2" && e.duplicateOf === "dup-1");
    copyFileSync(join(modules, "tasks.mjs"), release);
    assert.deepEqual((await one).result, ok("done"));
    assert.deepEqual((await two).result, ok("done"));
    assert.equal(readFileSync(count, "utf8"), "run\n");
  });

  it("gives two agents on the same queue name a queue each", async () => {
    const second = await startAgent({
      connection: redis.url,
      queue: "agent-test",
      name: "a2",
      concurrency: 1,
      modules,
      providers: [childProcess({ slots: 1 })],
    });
    const other = new Coordinator(redis.url, second.info.queue);
    try {
      assert.equal(second.info.queue, "agent-test-agent-a2");
      assert.notEqual(second.info.queue, agent.info.queue);
      const [a, b] = await Promise.all([coordinator.run(commandAttempt(["echo", "one"])), other.run(commandAttempt(["echo", "two"]))]);
      assert.deepEqual([a.result, b.result], [ok("one"), ok("two")]);
      const refused = (await other.run(moduleAttempt("tasks.mjs", "echo"))).result;
      assert.equal(refused?.t === "refused" && refused.refusal, "kind");
    } finally {
      await other.close();
      await second.close();
    }
    const client = new Redis(redis.url);
    try {
      assert.deepEqual(Object.keys(await client.hgetall(agentsKey("bull", "agent-test"))), ["a1"], "close removed a2 from the hash");
    } finally {
      client.disconnect();
    }
    assert.ok(!(await relay.getNodes()).some((node) => node.id === "a2"), "close removed a2 from the Relay");
  });

  it("rejects a start when Redis cannot be reached, and refuses bad options", async () => {
    // A port nobody listens on: ioredis retries for ever, the start gives up after startTimeoutMs and releases what it made.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const free = (server.address() as AddressInfo).port;
        server.close(() => resolve(free));
      });
    });
    await assert.rejects(
      startAgent({ connection: `redis://127.0.0.1:${port}`, queue: "q", providers: [childProcess()], startTimeoutMs: 300, onEvent: () => {} }),
      (error: FlotillaError) => error.code === "E_REDIS_UNAVAILABLE" && /127\.0\.0\.1:\d+ could not be reached within 300 ms/.test(error.message),
    );
    await assert.rejects(startAgent({ connection: "http://x", queue: "q", providers: [childProcess()] }), /redis:\/\/ or rediss:\/\//);
    await assert.rejects(startAgent({ connection: redis.url, queue: "a:b", providers: [childProcess()] }), /queue must be/);
    await assert.rejects(startAgent({ connection: redis.url, queue: "q", providers: [] }), /providers/);
    await assert.rejects(
      startAgent({ connection: redis.url, queue: "q", modules: join(modules, "none"), providers: [childProcess()] }),
      /must name an existing folder/,
    );
  });
  it("close({ force: true }) aborts running attempts, then releases its queue, hash entry and Relay node", async () => {
    const third = await startAgent({
      connection: redis.url,
      queue: "agent-test",
      name: "a3",
      concurrency: 2,
      modules,
      providers: [workerThreads({ threads: 1, tasksPerThread: 1 })],
    });
    const other = new Coordinator(redis.url, third.info.queue);
    try {
      const jobId = randomUUID();
      const ended = other.ended(jobId);
      const started = new Promise<void>((resolve) => other.events.once("progress", () => resolve()));
      await other.queue.add("attempt", moduleAttempt("tasks.mjs", "honours"), { jobId });
      await started;
      assert.equal(third.running, 1);
      await third.close({ force: true });
      assert.equal(third.running, 0);
      assert.match((await ended).failed ?? "", /aborted on agent "a3": agent "a3" was closed with force/);
      await third.close(); // idempotent
    } finally {
      await other.close();
    }
    assert.ok(!(await relay.getNodes()).some((node) => node.id === "a3"));
  });
});
