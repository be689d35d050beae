/**
 * The coordinator's reader of an agent queue's events stream (coordinator/event-reader.ts), against a
 * real redis-server: the entries it tells (and those it skips), from the entry it was given on, across
 * a Redis restart, a connection gone silent, a burst read with the pause after it, and its close (also
 * while Redis cannot be reached). The test writes the entries as BullMQ's scripts do (XADD with an
 * `event` field first). Skipped without redis-server.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, connect, type Socket } from "node:net";
import { Redis } from "ioredis";
import { EventReader, type EventSink, pauseAfter } from "../adapters/bullmq/coordinator/event-reader.ts";
import { hasRedisServer, type RedisServer, startRedisServer } from "./redis-server.ts";

/** A sink that records what it is told, and resolves `until(n)` once it has n lines. */
function recorder(): { sink: EventSink; lines: string[]; until(n: number): Promise<void> } {
  const lines: string[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const push = (line: string): void => {
    lines.push(line);
    for (const w of waiters.splice(0))
      if (lines.length >= w.n) w.resolve();
      else waiters.push(w);
  };
  return {
    lines,
    sink: {
      active: (jobId) => push(`active ${jobId}`),
      completed: (jobId, value) => push(`completed ${jobId} ${JSON.stringify(value)}`),
      failed: (jobId, reason) => push(`failed ${jobId} ${reason}`),
      progress: (jobId, data) => push(`progress ${jobId} ${JSON.stringify(data)}`),
    },
    until: (n) => (lines.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
  };
}

describe("the events stream reader's pause between reads", () => {
  it("reads a quiet stream again at once, and a busy one no sooner than 5 ms after the last read was sent", () => {
    assert.equal(pauseAfter(1, 0), 0);
    assert.equal(pauseAfter(15, 0), 0, "fewer than four jobs' entries: no pause");
    assert.equal(pauseAfter(16, 0), 5);
    assert.equal(pauseAfter(400, 1.5), 3.5, "the time the read took counts");
    assert.equal(pauseAfter(400, 9), 0, "a read that took longer than the gap: no pause");
  });
});

describe("the coordinator's events stream reader", {
  skip: hasRedisServer() ? false : "redis-server is not installed (.ci/run installs Debian's redis-server)",
}, () => {
  let redis: RedisServer;
  let client: Redis;
  before(async () => {
    redis = await startRedisServer();
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
  });
  after(async () => {
    client?.disconnect();
    await redis?.stop();
  });
  const options = () => ({ host: "127.0.0.1", port: redis.port });

  it("tells active, completed, failed and progress entries after the one it was given, and skips the others", async () => {
    const key = "bull:q1:events";
    const first = await client.xadd(key, "*", "event", "completed", "jobId", "old", "returnvalue", "1");
    const { sink, lines, until } = recorder();
    const reader = new EventReader(options(), key, first!, sink);
    try {
      await client.xadd(key, "*", "event", "added", "jobId", "j1", "name", "t1");
      await client.xadd(key, "*", "event", "waiting", "jobId", "j1", "prev", "");
      await client.xadd(key, "*", "event", "active", "jobId", "j1", "prev", "waiting");
      await client.xadd(key, "*", "event", "progress", "jobId", "j1", "data", '{"log":[["log","hi"]]}');
      await client.xadd(key, "*", "event", "completed", "jobId", "j1", "returnvalue", '{"t":"ok","json":"2"}', "prev", "active");
      await client.xadd(key, "*", "event", "completed", "jobId", "j2", "returnvalue", "not json");
      await client.xadd(key, "*", "event", "drained");
      await client.xadd(key, "*", "event", "failed", "jobId", "j3", "failedReason", "cancelled", "prev", "active");
      await until(4);
      assert.deepEqual(lines, ["active j1", 'progress j1 {"log":[["log","hi"]]}', 'completed j1 {"t":"ok","json":"2"}', "failed j3 cancelled"]);
    } finally {
      await reader.close();
    }
  });

  it("tells every entry of a burst, then those written while it paused, in order; a close cuts its pause", async () => {
    const key = "bull:q3:events";
    const { sink, lines, until } = recorder();
    const reader = new EventReader(options(), key, "0-0", sink);
    const burst = (from: number, n: number) => {
      const pipeline = client.pipeline();
      for (let i = from; i < from + n; i++) pipeline.xadd(key, "*", "event", "active", "jobId", `j${i}`);
      return pipeline.exec();
    };
    try {
      await burst(0, 40); // one read of 40 entries (or more reads): it pauses after a big one
      await burst(40, 40); // written while it reads or pauses: none is skipped
      await until(80);
      assert.deepEqual(
        lines,
        Array.from({ length: 80 }, (_, i) => `active j${i}`),
      );
      await burst(80, 20);
      await until(100);
    } finally {
      await reader.close(); // right after a read of 20 entries: its pause is cut short, and nothing more is read
    }
    await burst(100, 1);
    await client.ping();
    assert.equal(lines.length, 100);
  });

  it("goes on reading when its sink throws", async () => {
    const key = "bull:q4:events";
    const { sink, lines, until } = recorder();
    let thrown = 0;
    const reader = new EventReader(options(), key, "0-0", {
      ...sink,
      active: (jobId) => {
        if (jobId === "bad") {
          thrown++;
          throw new Error("a bug in the listener");
        }
        sink.active(jobId);
      },
    });
    try {
      await client.xadd(key, "*", "event", "active", "jobId", "bad");
      await client.xadd(key, "*", "event", "active", "jobId", "good");
      await until(1);
      assert.deepEqual(lines, ["active good"]);
      assert.equal(thrown, 1);
    } finally {
      await reader.close();
    }
  });

  it("hears its stream again after its connection goes silent (no FIN, no RST: a dead host, a partition)", { timeout: 60_000 }, async () => {
    // A TCP proxy whose connections open so far can be made to drop every byte, both ways, and stay open.
    const pairs: { near: Socket; far: Socket; silent: boolean }[] = [];
    const proxy = createServer((near) => {
      const far = connect(redis.port, "127.0.0.1");
      const pair = { near, far, silent: false };
      pairs.push(pair);
      near.on("data", (d) => void (pair.silent || far.write(d)));
      far.on("data", (d) => void (pair.silent || near.write(d)));
      for (const [a, b] of [
        [near, far],
        [far, near],
      ] as const) {
        a.on("error", () => {});
        a.on("close", () => b.destroy());
      }
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const key = "bull:q5:events";
    const { sink, lines, until } = recorder();
    const reader = new EventReader({ host: "127.0.0.1", port: (proxy.address() as { port: number }).port }, key, "0-0", sink);
    try {
      await client.xadd(key, "*", "event", "active", "jobId", "before");
      await until(1);
      for (const pair of pairs) pair.silent = true;
      await client.xadd(key, "*", "event", "active", "jobId", "after");
      await until(2); // the silent connection is dropped, and the read sent again on a new one
      assert.deepEqual(lines, ["active before", "active after"]);
    } finally {
      await reader.close();
      for (const pair of pairs) pair.near.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it("closes while Redis cannot be reached (its read waits to be sent), telling nothing", { timeout: 60_000 }, async () => {
    const nobody = createServer();
    await new Promise<void>((resolve) => nobody.listen(0, "127.0.0.1", resolve));
    const port = (nobody.address() as { port: number }).port;
    await new Promise((resolve) => nobody.close(resolve)); // nothing listens there now
    const { sink, lines } = recorder();
    // ioredis asks its retryStrategy when a connection attempt failed, and then waits to reconnect: the
    // state in which disconnect() leaves a queued read pending.
    let waiting!: () => void;
    const reconnecting = new Promise<void>((resolve) => (waiting = resolve));
    const retryStrategy = () => (waiting(), 60_000);
    const reader = new EventReader({ host: "127.0.0.1", port, retryStrategy }, "bull:q6:events", "0-0", sink);
    await reconnecting;
    await reader.close(); // its read, queued until Redis is back, is not answered: close does not wait for it
    assert.deepEqual(lines, []);
  });

  it("goes on from the last entry it read after Redis restarts, and its close ends the read in flight", async () => {
    const key = "bull:q2:events";
    const { sink, lines, until } = recorder();
    const reader = new EventReader(options(), key, "0-0", sink);
    try {
      await client.xadd(key, "*", "event", "active", "jobId", "a");
      await until(1);
      await redis.restart(); // empty: the stream is gone, and later entries have later ids
      await client.xadd(key, "*", "event", "active", "jobId", "b");
      await until(2);
      assert.deepEqual(lines, ["active a", "active b"]);
    } finally {
      await reader.close();
    }
    await client.xadd(key, "*", "event", "active", "jobId", "c");
    await client.ping();
    assert.deepEqual(lines, ["active a", "active b"], "nothing is told after close");
  });
});
