/**
 * flotilla/bullmq end to end, with the real thing: a redis-server started here, agent processes
 * (test/fixtures/bullmq-remote/agent.ts), and a coordinator (this process) running jobs on them through
 * `bullmq()`. An agent SIGKILLed mid-job, a cancel mid-job (the agent reports how long its attempts
 * took to stop), Redis restarted mid-job, and what cannot be sent. No mocks of Redis or BullMQ.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bullmq, startAgent } from "../adapters/bullmq/index.ts";
import { childProcess, command } from "../adapters/child-process/index.ts";
import { workerTask, workerThreads } from "../adapters/worker-threads/index.ts";
import { Job, type RunEvents, start } from "../src/index.ts";
import { deferred } from "./helpers.ts";
import { type RedisServer, hasRedisServer, startRedisServer } from "./redis-server.ts";

const MODULES = new URL("./fixtures/bullmq-remote/", import.meta.url);
const TASKS = new URL("tasks.mjs", MODULES);
const AGENT = new URL("./fixtures/bullmq-remote/agent.ts", import.meta.url);
// Agents and the commands they run use Node (with tsx for the sources), also when the coordinator runs under Deno.
const NODE = (process.versions as { deno?: string }).deno === undefined ? process.execPath : "node";
const skip = hasRedisServer() ? false : "redis-server is not installed (.ci/run installs it)";

/** An agent process and the events it printed. */
interface AgentProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly events: Array<Record<string, unknown>>;
  /** Resolves with the first event (seen or to come) that `match` accepts. */
  next(match: (event: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  readonly exited: Promise<void>;
}

function startAgentProcess(redis: RedisServer, queue: string, name: string): Promise<AgentProcess> {
  const child = spawn(NODE, ["--import", "tsx", AGENT.pathname, redis.url, queue, name, MODULES.pathname, "600"], { stdio: ["ignore", "pipe", "inherit"] });
  const events: Array<Record<string, unknown>> = [];
  const waiters: Array<{ match: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }> = [];
  let pending = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop()!;
    for (const line of lines) {
      const event = JSON.parse(line) as Record<string, unknown>;
      events.push(event);
      for (const w of [...waiters]) if (w.match(event)) waiters.splice(waiters.indexOf(w), 1) && w.resolve(event);
    }
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const agent: AgentProcess = {
    name,
    child,
    events,
    exited,
    next: (match) => {
      const seen = events.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
  return Promise.race([
    agent.next((e) => e.type === "ready").then(() => agent),
    exited.then(() => Promise.reject(new Error(`agent ${name} exited before it was ready`))),
  ]);
}

/** The `nth` event (1-based) across the agents that `match` accepts. */
function allEvents(agents: readonly AgentProcess[], match: (e: Record<string, unknown>) => boolean, nth: number): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const check = () => {
      const all = agents.flatMap((a) => a.events.filter(match));
      if (all.length >= nth) resolve(all[nth - 1]!);
      else for (const a of agents) void a.next((e) => match(e) && !a.events.slice(0, -1).includes(e)).then(check);
    };
    check();
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

/** Resolves when `count` attempts have said "started" (their `task:output` line), with the node each started on. */
function whenStarted(handle: { on<E extends keyof RunEvents>(type: E, listener: (event: RunEvents[E]) => void): unknown }, count: number) {
  const done = deferred<Map<string, string>>();
  const nodeOf = new Map<string, string>();
  const started = new Map<string, string>();
  handle.on("task:start", (e) => nodeOf.set(e.taskId, e.nodeId));
  handle.on("task:output", (e) => {
    if (e.line !== "started") return;
    started.set(e.taskId, nodeOf.get(e.taskId)!);
    if (started.size === count) done.resolve(new Map(started));
  });
  return done.promise;
}

const provider = (redis: RedisServer, queue: string, extra: Record<string, unknown> = {}) =>
  bullmq({ connection: redis.url, queue, modules: MODULES, heartbeatMs: 100, lostAfterMs: 800, ...extra });

/**
 * For a job of gated attempts that must all be running at once and whose requeues are counted: none
 * waits in an agent's queue (with the default prefetch, an agent taken while the other's take is slow
 * could hold them all, and their move to the other agent would be requeues these tests do not expect).
 */
const NO_QUEUE = { prefetch: 1 };

describe("bullmq(): a job on agent processes", { skip }, () => {
  let redis: RedisServer;
  let dir: string;
  before(async () => {
    redis = await startRedisServer();
    dir = mkdtempSync(join(tmpdir(), "flotilla-bullmq-"));
  });
  after(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs worker modules and commands with their dependencies on two agents, and both take work", async () => {
    const agents = await Promise.all([startAgentProcess(redis, "q1", "a1"), startAgentProcess(redis, "q1", "a2")]);
    try {
      const job: Job<Record<string, unknown>> = new Job("remote");
      for (let i = 0; i < 6; i++) job.task(`leaf${i}`, workerTask<number>(TASKS, "add", { value: i }));
      job.task("sum", { dependsOn: ["leaf0", "leaf1", "leaf2", "leaf3", "leaf4", "leaf5"] }, workerTask<number>(TASKS, "add", { value: 100 }));
      job.task(
        "echo",
        { dependsOn: ["sum"] },
        command([NODE, "-e", "process.stdout.write(process.env.FLOTILLA_TASK_ID + ':' + (process.env.FLOTILLA_IDEMPOTENCY_KEY ? 'keyed' : 'no key'))"]),
      );
      const handle = start(job, { pools: { default: provider(redis, "q1") } });
      const nodes = new Set<string>();
      handle.on("task:start", (e) => nodes.add(e.nodeId));
      const result = await handle.result;
      assert.equal(result.status, "succeeded", String(result.error));
      assert.equal(result.tasks.get("sum").output, 115);
      assert.equal(result.tasks.get("echo").output, "echo:keyed");
      assert.deepEqual([...nodes].sort(), ["a1", "a2"]);
    } finally {
      await stopAgents(agents);
    }
  });

  it("an agent SIGKILLed mid-job: its attempts are requeued on the other agent without spending a retry", async () => {
    const agents = await Promise.all([startAgentProcess(redis, "q2", "b1"), startAgentProcess(redis, "q2", "b2")]);
    const gate = join(dir, "gate-kill");
    try {
      const job: Job<Record<string, unknown>> = new Job("kill");
      for (let i = 0; i < 4; i++) job.task(`t${i}`, { retries: 0 }, workerTask<number>(TASKS, "gate", { value: i, gate }));
      const handle = start(job, { pools: { default: provider(redis, "q2", NO_QUEUE) } });
      const lost = deferred<string>();
      const requeued: string[] = [];
      handle.on("node:lost", (e) => lost.resolve(e.nodeId));
      handle.on("task:requeued", (e) => requeued.push(e.taskId));
      const started = await whenStarted(handle, 4);
      const victim = agents.find((a) => a.name === "b1")!;
      const onVictim = [...started].filter(([, node]) => node === "b1").map(([task]) => task);
      assert.ok(onVictim.length > 0, "the first agent took attempts");
      victim.child.kill("SIGKILL");
      assert.equal(await lost.promise, "b1");
      writeFileSync(gate, "");
      const result = await handle.result;
      assert.equal(result.status, "succeeded", String(result.error));
      for (let i = 0; i < 4; i++) assert.equal(result.tasks.get(`t${i}`).output, i);
      assert.deepEqual(requeued.sort(), onVictim.sort());
      // retries: 0, so a charged loss would have failed them: two attempts, the lost one free.
      for (const task of onVictim) assert.equal(result.tasks.get(task)?.attempts, 2, `${task}: the lost attempt, then one on the other agent`);
    } finally {
      await stopAgents(agents);
    }
  });

  it("a cancel mid-job stops the attempts in the agent: one that honours its signal, a blocked thread, a command that ignores SIGTERM", async () => {
    const agents = await Promise.all([startAgentProcess(redis, "q3", "c1"), startAgentProcess(redis, "q3", "c2")]);
    try {
      const job = new Job("cancel")
        .task("hang", workerTask(TASKS, "hang"))
        .task("block", workerTask(TASKS, "block"))
        .task("stubborn", command([NODE, "-e", "process.on('SIGTERM', () => {}); console.log('started'); setInterval(() => {}, 1000)"]));
      const handle = start(job, { pools: { default: provider(redis, "q3", NO_QUEUE) }, cancelGraceMs: 10_000 });
      await whenStarted(handle, 3);
      handle.cancel("enough");
      const result = await handle.result;
      assert.equal(result.status, "cancelled");
      for (const id of ["hang", "block", "stubborn"]) assert.equal(result.tasks.get(id)?.status, "cancelled", id);
      const cancels = await Promise.all([0, 1, 2].map((n) => allEvents(agents, (e) => e.type === "cancel", n + 1)));
      for (const c of cancels) assert.equal(typeof c.stoppedAfterMs, "number");
      console.log(`cancel to stopped in the agents (ms): ${cancels.map((c) => c.stoppedAfterMs).join(", ")}`);
    } finally {
      await stopAgents(agents);
    }
  });
  it("Redis restarted mid-job: the run waits, sends again what Redis lost, and finishes", async () => {
    const agents = await Promise.all([startAgentProcess(redis, "q4", "d1"), startAgentProcess(redis, "q4", "d2")]);
    const gate = join(dir, "gate-restart");
    try {
      const job: Job<Record<string, unknown>> = new Job("restart");
      for (let i = 0; i < 3; i++) job.task(`r${i}`, workerTask<number>(TASKS, "gate", { value: i, gate }));
      job.task("after", { dependsOn: ["r0", "r1", "r2"] }, workerTask<number>(TASKS, "add", { value: 10 }));
      const handle = start(job, { pools: { default: provider(redis, "q4", { lostAfterMs: 3000, ...NO_QUEUE }) } });
      await whenStarted(handle, 3);
      await redis.restart();
      // The gate stays shut until an agent has found a job's lock gone with Redis' data: its attempt goes on.
      await Promise.any(agents.map((a) => a.next((e) => e.type === "error" && /lost the lock of job/.test(String(e.error)))));
      writeFileSync(gate, "");
      const result = await handle.result;
      assert.equal(result.status, "succeeded", String(result.error));
      assert.equal(result.tasks.get("after").output, 13);
      // Each body ran once: the jobs Redis lost were sent again under the same keys, and the agents
      // answered them from the attempts running (or just ended) there.
      for (const id of ["r0", "r1", "r2"]) {
        const runs = agents.flatMap((a) => a.events).filter((e) => e.type === "attempt:start" && e.taskId === id && e.duplicateOf === undefined);
        assert.equal(runs.length, 1, `${id} ran ${runs.length} times`);
      }
    } finally {
      await stopAgents(agents);
    }
  });

  it("what cannot be sent fails before Redis: a payload over the limit, a module outside the folder", async () => {
    const agents = [await startAgentProcess(redis, "q5", "e1")];
    try {
      const outside = new URL("../helpers.ts", MODULES);
      const job = new Job("refused")
        .task("big", workerTask(TASKS, "add", { value: 1, pad: "x".repeat(2000) }))
        .task("outside", workerTask(outside, "deferred"))
        .task("stdin", command(["wc", "-c"], { stdin: "y".repeat(2000) }));
      const result = await start(job, { pools: { default: provider(redis, "q5", { maxPayloadBytes: 1000 }) } }).result;
      assert.equal(result.status, "failed");
      const big = result.tasks.get("big").error as { code?: string; message: string };
      assert.equal(big.code, "E_PAYLOAD_TOO_LARGE");
      assert.match(
        big.message,
        /task "big" attempt 1: its input and dependencies' outputs are \d+ bytes as JSON, over the 1000 bytes .*; the largest is the input/,
      );
      const out = result.tasks.get("outside").error as { code?: string; message: string };
      assert.equal(out.code, "E_INVALID_OPTION");
      assert.match(out.message, /outside the modules folder/);
      const stdin = result.tasks.get("stdin")?.error as { code?: string; message: string };
      assert.equal(stdin.code, "E_PAYLOAD_TOO_LARGE");
      assert.match(stdin.message, /and its command \(argv, env, stdin\) \d+ bytes, over the 1000 bytes .*; the largest is the command/);
    } finally {
      await stopAgents(agents);
    }
  });

  it("works under another key prefix, and a command does not see the agent's Redis URL", async () => {
    const agent = await startAgent({
      connection: redis.url,
      queue: "q7",
      name: "p1",
      prefix: "myapp",
      modules: MODULES,
      concurrency: 1,
      providers: [workerThreads({ threads: 1 }), childProcess({ slots: 1 })],
      leaseMs: 600,
    });
    process.env.FLOTILLA_REDIS_URL = redis.url; // as `flotilla agent` is told it
    try {
      const job = new Job("prefixed")
        .task("add", workerTask<number>(TASKS, "add", { value: 2 }))
        .task("env", command([NODE, "-e", "process.stdout.write(String(process.env.FLOTILLA_REDIS_URL))"]));
      const result = await start(job, { pools: { default: provider(redis, "q7", { prefix: "myapp" }) } }).result;
      assert.equal(result.status, "succeeded", String(result.error));
      assert.equal(result.tasks.get("add")?.output, 2);
      assert.equal(result.tasks.get("env")?.output, "undefined");
    } finally {
      delete process.env.FLOTILLA_REDIS_URL;
      await agent.close();
    }
  });

  it("Redis frozen (SIGSTOP) for longer than redisTimeoutMs: the run gives up and says so, instead of waiting", async () => {
    const agents = [await startAgentProcess(redis, "q8", "f1")];
    const gate = join(dir, "gate-frozen");
    try {
      const job = new Job("frozen").task("g", { retries: 0 }, workerTask<number>(TASKS, "gate", { value: 1, gate }));
      const handle = start(job, { pools: { default: provider(redis, "q8", { redisTimeoutMs: 1500 }) }, maxNodeLosses: 0 });
      await whenStarted(handle, 1);
      process.kill(redis.pid, "SIGSTOP");
      const result = await handle.result;
      process.kill(redis.pid, "SIGCONT");
      assert.equal(result.status, "failed");
      const error = result.tasks.get("g")?.error as { code?: string; message: string; cause?: { code?: string } };
      assert.match(
        `${error.message} ${String(error.cause)}`,
        /Redis has not answered for \d+ ms \(redisTimeoutMs 1500\)|could not list the agents: Redis did not answer/,
      );
    } finally {
      process.kill(redis.pid, "SIGCONT");
      writeFileSync(gate, "");
      await stopAgents(agents);
    }
  });

  it("a function body is refused before the run starts: agents run specs only", async () => {
    const job = new Job("fn").task("fn", () => 1);
    await assert.rejects(start(job, { pools: { default: provider(redis, "q6") } }).result, /"function"/);
  });
});
