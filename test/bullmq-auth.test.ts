/**
 * flotilla/bullmq's Redis auth and TLS options pass through to ioredis, against a real redis-server:
 * one started with `--requirepass`, and (when redis-server was built with TLS and `openssl` is here)
 * one listening with TLS only, on a self-signed certificate made for the test. A job runs when the
 * agent and the provider authenticate (a URL with the password, ioredis options); an agent or a
 * provider given a wrong password fails in bounded time, and no message shows the password. The
 * agent runs in this process (startAgent). Runs under Node and Deno; skipped when redis-server is
 * not installed.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis, type RedisOptions } from "ioredis";
import { type Agent, type AgentEvent, type RedisConnection, bullmq, startAgent } from "../adapters/bullmq/index.ts";
import { workerTask, workerThreads } from "../adapters/worker-threads/index.ts";
import { Job, start } from "../src/index.ts";
import { type RedisServer, hasRedisServer, startRedisServer } from "./redis-server.ts";

const MODULES = new URL("./fixtures/bullmq-remote/", import.meta.url);
const TASKS = new URL("tasks.mjs", MODULES);
const PASSWORD = "s3cret";
const WRONG = "not-the-pa55word";
const skip = hasRedisServer() ? false : "redis-server is not installed (.ci/run installs it)";

function agentOn(connection: RedisConnection, queue: string, extra: { startTimeoutMs?: number; onEvent?: (e: AgentEvent) => void } = {}): Promise<Agent> {
  return startAgent({
    connection,
    queue,
    modules: MODULES,
    concurrency: 1,
    providers: [workerThreads({ threads: 1, tasksPerThread: 1 })],
    leaseMs: 600,
    ...extra,
  });
}

/** A two-task job (a dependency) on a bullmq() pool on `connection`; resolves with its run's result. */
function runJob(connection: RedisConnection, queue: string, redisTimeoutMs = 30_000) {
  const job = new Job("auth")
    .task("a", workerTask<number>(TASKS, "add", { value: 1 }))
    .task("b", { dependsOn: ["a"] }, workerTask<number>(TASKS, "add", { value: 10 }));
  const provider = bullmq({ connection, queue, modules: MODULES, heartbeatMs: 100, lostAfterMs: 800, redisTimeoutMs });
  return start(job, { pools: { default: provider } }).result;
}

describe("bullmq(): Redis with a password (--requirepass)", { skip }, () => {
  let redis: RedisServer;
  let url: string;
  before(async () => {
    redis = await startRedisServer({ args: ["--requirepass", PASSWORD] });
    url = `redis://:${PASSWORD}@127.0.0.1:${redis.port}`;
  });
  after(async () => {
    await redis?.stop();
  });

  it("a job runs when the agent and the provider give the password: in the URL, or as ioredis options", async () => {
    const agent = await agentOn(url, "auth1");
    try {
      assert.doesNotMatch(JSON.stringify(agent.info), new RegExp(PASSWORD), "the agent's info shows no password");
      for (const connection of [url, { host: "127.0.0.1", port: redis.port, password: PASSWORD }]) {
        const result = await runJob(connection, "auth1");
        assert.equal(result.status, "succeeded", String(result.error));
        assert.equal(result.tasks.get("b").output, 11);
      }
    } finally {
      await agent.close();
    }
  });

  it("an agent given a wrong password: startAgent rejects at once, saying Redis refused its credentials (WRONGPASS), never the password", async () => {
    const errors: unknown[] = [];
    const onEvent = (e: AgentEvent) => {
      if (e.type === "error") errors.push(e.error);
    };
    await assert.rejects(
      agentOn(`redis://:${WRONG}@127.0.0.1:${redis.port}`, "auth2", { startTimeoutMs: 60_000, onEvent }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, "E_REDIS_UNAVAILABLE", String(error));
        assert.match(error.message, new RegExp(`Redis at 127\\.0\\.0\\.1:${redis.port} refused its credentials: WRONGPASS`));
        assert.doesNotMatch(`${error.message} ${String(error.cause)}`, new RegExp(WRONG));
        return true;
      },
    );
    // Not after the start timeout (60 s, longer than the test's own limit): the refusal ends the start.
    assert.ok(
      errors.some((e) => /WRONGPASS/.test(String(e))),
      `no error event says WRONGPASS: ${errors.map(String).join("; ")}`,
    );
    for (const e of errors) assert.doesNotMatch(String(e), new RegExp(WRONG));
  });

  it("a provider given a wrong password: the run fails, its tasks with WRONGPASS, and the password is not shown", async () => {
    const agent = await agentOn(url, "auth3");
    try {
      for (const connection of [`redis://:${WRONG}@127.0.0.1:${redis.port}`, { host: "127.0.0.1", port: redis.port, password: WRONG }]) {
        const result = await runJob(connection, "auth3", 1_000);
        assert.equal(result.status, "failed");
        const error = result.tasks.get("a").error as Error & { code?: string };
        assert.equal(error.code, "E_NODE_LOST", String(error));
        assert.match(error.message, /provider "bullmq:auth3" of pool "default" could not start a node: WRONGPASS invalid username-password pair/);
        assert.doesNotMatch(`${error.message} ${String(result.error)}`, new RegExp(WRONG));
        assert.equal(result.tasks.get("b").status, "skipped");
      }
    } finally {
      await agent.close();
    }
  });
});

/** Whether `openssl` can be run here. */
function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("bullmq(): Redis over TLS (rediss)", {
  skip: skip || (hasOpenssl() ? false : "openssl is not installed (a certificate is made for the test)"),
}, () => {
  let redis: RedisServer | undefined;
  let dir: string;
  let ca: Buffer;
  let notBuilt: string | undefined;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "flotilla-bullmq-tls-"));
    // A self-signed certificate for 127.0.0.1, also its own CA.
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1"].concat([
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ]),
      { stdio: "ignore" },
    );
    ca = readFileSync(join(dir, "cert.pem"));
    const tls = ["--tls-cert-file", join(dir, "cert.pem"), "--tls-key-file", join(dir, "key.pem"), "--tls-ca-cert-file", join(dir, "cert.pem")];
    try {
      // TLS only: the plain port is off, the TLS one is the harness' port.
      redis = await startRedisServer({
        args: (port) => ["--port", "0", "--tls-port", String(port), ...tls, "--tls-auth-clients", "no", "--requirepass", PASSWORD],
      });
    } catch (error) {
      // A redis-server built without TLS refuses the tls-* options at start.
      if (!/tls/i.test(String(error))) throw error;
      notBuilt = `redis-server was built without TLS: ${String(error).split("\n").slice(-3).join(" ")}`;
    }
  });
  after(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a job runs when the agent and the provider connect with ioredis' tls: { ca } (and a password)", async (t) => {
    if (redis === undefined) return t.skip(notBuilt);
    const connection: RedisOptions = { host: "127.0.0.1", port: redis.port, password: PASSWORD, tls: { ca } };
    // The server speaks TLS only: a plain client is refused.
    const plain = new Redis({ host: "127.0.0.1", port: redis.port, password: PASSWORD, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    plain.on("error", () => {});
    await assert.rejects(plain.connect().then(() => plain.ping()));
    plain.disconnect();
    const agent = await agentOn(connection, "tls1");
    try {
      const result = await runJob(connection, "tls1");
      assert.equal(result.status, "succeeded", String(result.error));
      assert.equal(result.tasks.get("b").output, 11);
    } finally {
      await agent.close();
    }
  });

  it("a provider on rediss:// without the CA (a self-signed certificate): the run fails, each node start bounded by redisTimeoutMs", async (t) => {
    if (redis === undefined) return t.skip(notBuilt);
    const agent = await agentOn({ host: "127.0.0.1", port: redis.port, password: PASSWORD, tls: { ca } }, "tls2");
    try {
      const result = await runJob(`rediss://:${PASSWORD}@127.0.0.1:${redis.port}`, "tls2", 1_000);
      assert.equal(result.status, "failed");
      const error = result.tasks.get("a").error as Error & { code?: string };
      console.log(`rediss:// without the CA, what the user sees: ${error.message}`);
      // It does not say why (ioredis' last error is the certificate's): see the report of issue 12's "resume" helper.
      assert.match(
        error.message,
        /could not start a node: provider "bullmq:tls2" could not list the agents: Redis did not answer within 1000 ms \(redisTimeoutMs\)/,
      );
      assert.doesNotMatch(error.message, new RegExp(PASSWORD));
    } finally {
      await agent.close();
    }
  });
});
