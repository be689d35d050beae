import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FlotillaError, Job, NodeLostError, inProcess, run, start, type ComputeProvider, type ProviderNode } from "../src/index.ts";
import { virtualRuntime } from "../src/testing/index.ts";
import { deferred, flush } from "./helpers.ts";

/** A provider whose nodes can be killed by the test, like a worker crashing under an attempt. */
function crashyProvider(options: { slots?: number; crashWhen: (taskId: string, nodeId: string) => boolean }) {
  let started = 0;
  const stopped: string[] = [];
  const provider: ComputeProvider = {
    name: "crashy",
    startNode: async () => ({ id: `node-${++started}`, slots: options.slots ?? 2 }),
    stopNode: (node: ProviderNode) => void stopped.push(node.id),
    run: async (node, body, ctx) => {
      if (options.crashWhen(ctx.taskId, node.id)) throw new NodeLostError(node.id, `node "${node.id}" crashed`);
      return body(ctx);
    },
  };
  return { provider, stopped, started: () => started };
}

describe("providers and lost nodes", () => {
  it("the in-process provider runs bodies as function calls on one unlimited node", async () => {
    const provider = inProcess();
    const node = await provider.startNode({ lost: () => {} });
    assert.deepEqual(node, { id: "in-process", slots: Infinity });
    const result = await run(
      new Job("j").task("a", (ctx) => `${ctx.node.id}/${ctx.node.slots}`),
      { provider },
    );
    assert.equal(result.output("a"), "in-process/Infinity");
  });

  it("requeues an attempt whose node was lost without spending a retry, on a fresh node", async () => {
    const { provider, stopped, started } = crashyProvider({ crashWhen: (taskId, nodeId) => taskId === "b" && nodeId === "node-1" });
    const handle = start(
      new Job("j").task("a", () => 1).task("b", { dependsOn: ["a"] }, ({ deps }) => deps.a + 1),
      { provider },
    );
    const requeued: string[] = [];
    handle.on("task:requeued", (e) => requeued.push(`${e.taskId}#${e.attempt}`));
    const result = await handle.result;
    assert.equal(result.status, "succeeded");
    assert.equal(result.output("b"), 2);
    assert.equal(result.tasks.get("b").attempts, 2);
    assert.deepEqual(requeued, ["b#1"]);
    assert.equal(started(), 2);
    assert.deepEqual(stopped.sort(), ["node-1", "node-2"], "every started node is stopped");
  });

  it("fails a poison task with E_NODE_LOST after maxNodeLosses requeues", async () => {
    const { provider, stopped, started } = crashyProvider({ crashWhen: (taskId) => taskId === "poison" });
    const result = await run(
      new Job("j").task("poison", { retries: 5 }, () => 1).task("fine", () => 2),
      { provider, maxNodeLosses: 2 },
    );
    const poison = result.tasks.get("poison");
    assert.equal(poison.status, "failed");
    // Its first node also ran "fine": that loss is charged to nobody; alone afterwards, two losses are
    // charged (maxNodeLosses) and the third fails it. Retries are never spent on lost nodes.
    assert.equal(poison.attempts, 4, "first attempt (shared node, free requeue) plus two charged requeues");
    assert.ok(poison.error instanceof NodeLostError);
    assert.equal(poison.error.code, "E_NODE_LOST");
    assert.equal(result.output("fine"), 2);
    assert.equal(stopped.length, started());
  });

  it("respects a node's slots as well as concurrency", async () => {
    let running = 0;
    let peak = 0;
    const gate = deferred();
    const provider: ComputeProvider = { name: "two-slots", startNode: () => ({ id: "n", slots: 2 }), stopNode: () => {}, run: (_n, body, ctx) => body(ctx) };
    const job = new Job<Record<string, unknown>>("j");
    for (let i = 0; i < 5; i++) {
      job.task(`t${i}`, async () => {
        peak = Math.max(peak, ++running);
        await gate.promise;
        running--;
      });
    }
    const pending = run(job, { provider, concurrency: 10 });
    await flush();
    gate.resolve();
    await pending;
    assert.equal(peak, 2);
  });

  it("does not settle before every node it started has stopped, lost ones included", async () => {
    const stops = new Map<string, ReturnType<typeof deferred<void>>>();
    let started = 0;
    const provider: ComputeProvider = {
      name: "slow-stop",
      startNode: () => ({ id: `n${++started}`, slots: 1 }),
      stopNode: (node) => {
        const d = deferred();
        stops.set(node.id, d);
        return d.promise;
      },
      run: (node, body, ctx) => (node.id === "n1" ? Promise.reject(new NodeLostError(node.id)) : body(ctx)),
    };
    let settled = false;
    const pending = run(
      new Job("j").task("a", () => 1),
      { provider },
    ).then((r) => ((settled = true), r));
    while (stops.size < 2) await flush();
    await flush();
    assert.equal(settled, false, "waits for n1 (lost) and n2 (finished) to stop");
    stops.get("n2")!.resolve();
    await flush();
    assert.equal(settled, false, "still waits for n1");
    stops.get("n1")!.resolve();
    const result = await pending;
    assert.equal(result.output("a"), 1);
  });

  it("retries a node that fails to start, then fails every waiting task with the error", async () => {
    let attempts = 0;
    const provider: ComputeProvider = {
      name: "broken",
      startNode: () => (attempts++, Promise.reject(new Error("quota exceeded"))),
      stopNode: () => {},
      run: () => undefined,
    };
    const runtime = virtualRuntime();
    const result = await run(
      new Job("j").task("a", () => 1).task("b", { dependsOn: ["a"] }, () => 2),
      { provider, runtime },
    );
    assert.equal(attempts, 4, "the first start and three retries");
    assert.equal(result.finishedAt, 700, "after 100 + 200 + 400 ms of backoff");
    assert.equal(result.status, "failed");
    const a = result.tasks.get("a");
    assert.equal(a.status, "failed");
    assert.match((a.error as Error).message, /provider "broken" of pool "default" could not start a node: quota exceeded/);
    assert.equal(result.tasks.get("b").status, "skipped");
  });

  it("does not retry a start refused with E_INVALID_OPTION: it would be refused every time", async () => {
    let attempts = 0;
    const provider: ComputeProvider = {
      name: "misconfigured",
      startNode: () => {
        attempts++;
        throw new FlotillaError("E_INVALID_OPTION", 'misconfigured(): option "region" is unknown to the cloud');
      },
      stopNode: () => {},
      run: () => undefined,
    };
    const result = await run(
      new Job("j").task("a", () => 1),
      { provider, runtime: virtualRuntime() },
    );
    assert.equal(attempts, 1);
    assert.equal(result.finishedAt, 0, "no backoff waited");
    assert.match((result.tasks.get("a").error as Error).message, /could not start a node: misconfigured\(\): option "region"/);
  });
});
