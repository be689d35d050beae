/**
 * The redis-server harness (test/redis-server.ts) that issue 12's tests and bench start their Redis with:
 * it answers PING on its port, a restart keeps the port and loses the data (nothing is saved) while a
 * client reconnects, stop leaves no process behind, and two servers at once get different ports.
 * Runs under Node and Deno, with ioredis as the client. Skipped when redis-server is not installed
 * (.ci/run installs Debian's package).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect } from "node:net";
import { Redis } from "ioredis";
import { isRunning } from "./processes.ts";
import { hasRedisServer, type RedisServer, startRedisServer } from "./redis-server.ts";

/** A client that stays quiet while the server is away (ioredis reports each failed reconnect as an error event). */
function client(server: RedisServer): Redis {
  const redis = new Redis(server.url, { maxRetriesPerRequest: null });
  redis.on("error", () => {});
  return redis;
}

/** Whether anything accepts a TCP connection on the loopback port. */
async function accepts(port: number): Promise<boolean> {
  const socket = connect(port, "127.0.0.1");
  try {
    await once(socket, "connect");
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ECONNREFUSED") return false;
    throw error;
  } finally {
    socket.destroy();
  }
}

describe("test/redis-server.ts", { skip: hasRedisServer() ? false : "redis-server is not installed (.ci/run installs Debian's redis-server)" }, () => {
  it("starts a redis-server on a loopback port that answers PING", async () => {
    const server = await startRedisServer();
    const redis = client(server);
    try {
      assert.equal(server.url, `redis://127.0.0.1:${server.port}`);
      assert.ok(isRunning(server.pid));
      assert.equal(await redis.ping(), "PONG");
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });

  it("restarts on the same port with a new process and no data, and a client reconnects by itself", async () => {
    const server = await startRedisServer();
    const redis = client(server);
    try {
      await redis.set("kept?", "no");
      assert.equal(await redis.get("kept?"), "no");
      const { port, pid } = server;

      await server.restart();

      assert.equal(server.port, port);
      assert.notEqual(server.pid, pid);
      assert.equal(isRunning(pid), false, `the first redis-server (pid ${pid}) still runs after restart()`);
      // The same client, never told about the restart: its command waits in the offline queue until it reconnects.
      assert.equal(await redis.get("kept?"), null);
      assert.equal(await redis.ping(), "PONG");
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });

  it("stops the process and frees the port; stopping twice is harmless", async () => {
    const server = await startRedisServer();
    const { pid, port } = server;
    assert.equal(await accepts(port), true);

    await server.stop();

    assert.equal(isRunning(pid), false, `redis-server (pid ${pid}) still runs after stop()`);
    assert.equal(await accepts(port), false);
    await server.stop();
  });

  it("runs two servers at once on different ports, each with its own data", async () => {
    const [first, second] = await Promise.all([startRedisServer(), startRedisServer()]);
    const a = client(first);
    const b = client(second);
    try {
      assert.notEqual(first.port, second.port);
      await a.set("who", "first");
      await b.set("who", "second");
      assert.equal(await a.get("who"), "first");
      assert.equal(await b.get("who"), "second");
    } finally {
      a.disconnect();
      b.disconnect();
      await Promise.all([first.stop(), second.stop()]);
    }
  });

  it("passes extra arguments to redis-server: --requirepass makes it ask for the password", async () => {
    const server = await startRedisServer({ args: ["--requirepass", "s3cret"] });
    const anonymous = client(server);
    const authed = new Redis(`redis://:s3cret@127.0.0.1:${server.port}`, { maxRetriesPerRequest: null });
    try {
      await assert.rejects(anonymous.ping(), /NOAUTH/);
      assert.equal(await authed.ping(), "PONG");
    } finally {
      anonymous.disconnect();
      authed.disconnect();
      await server.stop();
    }
  });

  it("fails with the program's name when it cannot be run", async () => {
    await assert.rejects(startRedisServer({ command: "redis-server-that-does-not-exist" }), /cannot run redis-server-that-does-not-exist/);
  });
});
