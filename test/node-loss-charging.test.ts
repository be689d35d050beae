/**
 * Who pays for a lost node. A node that dies takes every attempt on it; only the task that ran alone
 * there can be its cause for sure. The rule (the same for every provider): a loss on a shared node
 * is charged to nobody — each attempt is requeued free and its task runs alone from then on — and a
 * loss while running alone counts against the task's `maxNodeLosses`.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Job, NodeLostError, isFlotillaError, start, type ComputeProvider, type ProviderNode } from "../src/index.ts";

/**
 * Nodes of `slots` slots; a node dies (every attempt on it rejects with NodeLostError) as soon as a
 * task named "crasher…" runs on it. Records, per attempt, how many attempts shared its node.
 */
function crashingNodes(slots: number, maxNodes: number) {
  let started = 0;
  const kills = new Map<ProviderNode, () => void>();
  const running = new Map<ProviderNode, number>();
  const company: string[] = [];
  const provider: ComputeProvider = {
    name: "crashing",
    maxNodes,
    startNode: () => ({ id: `node-${++started}`, slots }),
    stopNode: (node) => void kills.delete(node),
    run: (node, body, ctx) => {
      running.set(node, (running.get(node) ?? 0) + 1);
      company.push(`${ctx.taskId}#${ctx.attempt} on ${node.id} with ${running.get(node)! - 1} others`);
      // Every attempt on the node rejects when it dies, each with an error naming its own task.
      const died = new Promise<never>((_, reject) => {
        const previous = kills.get(node);
        kills.set(node, () => {
          previous?.();
          reject(new NodeLostError(node.id, `node "${node.id}" crashed under task "${ctx.taskId}"`));
        });
      });
      const crash = ctx.taskId.startsWith("crasher");
      if (crash) queueMicrotask(() => kills.get(node)?.());
      return Promise.race(crash ? [died] : [Promise.resolve(body(ctx)), died]).finally(() => running.set(node, running.get(node)! - 1));
    },
  };
  return { provider, company };
}

describe("charging node losses", () => {
  it("innocent tasks that shared a node with a crashing task succeed; the crashing task ends with E_NODE_LOST", async () => {
    // One node of four slots: after the loss, the three requeued tasks take turns on its replacement.
    const { provider, company } = crashingNodes(4, 1);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    // The innocents wait on the gate, so they are on the node when the crasher kills it; the gate
    // opens at the first loss, so afterwards they finish.
    const job = new Job("shared")
      .task("x", { priority: 1 }, async () => (await gate, "x"))
      .task("y", { priority: 1 }, async () => (await gate, "y"))
      .task("crasher", () => "never");
    const handle = start(job, { provider, maxNodeLosses: 0 });
    const requeued: string[] = [];
    handle.on("node:lost", () => open());
    const named: boolean[] = [];
    handle.on("task:requeued", (e) => {
      requeued.push(`${e.taskId}#${e.attempt}`);
      named.push((e.error as Error).message.includes(`"${e.taskId}"`));
    });
    const result = await handle.result;
    assert.deepEqual(named, [true, true, true], "each requeued attempt's error names its own task");
    assert.equal(result.tasks.get("x").status, "succeeded", String(result.tasks.get("x").error) + "\n" + company.join("\n"));
    assert.equal(result.output("x"), "x");
    assert.equal(result.output("y"), "y");
    const crasher = result.tasks.get("crasher");
    assert.equal(crasher.status, "failed");
    assert.ok(isFlotillaError(crasher.error, "E_NODE_LOST"));
    assert.equal(crasher.attempts, 2, "one free requeue from the shared node, then its own loss (maxNodeLosses: 0)");
    assert.deepEqual(requeued.sort(), ["crasher#1", "x#1", "y#1"], "the shared loss is charged to nobody");
    // The first attempts shared node-1; after its loss, every requeued attempt ran alone.
    assert.deepEqual(company.filter((line) => line.includes("#1 ")).length, 3);
    assert.ok(company.some((line) => line.includes("#1 ") && !line.endsWith("with 0 others")), company.join("\n"));
    const later = company.filter((line) => !line.includes("#1 "));
    assert.equal(later.length, 3, company.join("\n"));
    for (const line of later) assert.match(line, /with 0 others$/);
  });

  it("a task that crashes its node while running alone is charged every time: maxNodeLosses requeues, then E_NODE_LOST", async () => {
    const { provider } = crashingNodes(1, 2);
    const handle = start(new Job("alone").task("crasher", { retries: 5 }, () => 1).task("fine", () => 2), { provider, maxNodeLosses: 2 });
    const result = await handle.result;
    const crasher = result.tasks.get("crasher");
    assert.equal(crasher.status, "failed");
    assert.ok(crasher.error instanceof NodeLostError);
    assert.equal(crasher.attempts, 3, "the first attempt and two requeues; retries are not spent on lost nodes");
    assert.equal(result.output("fine"), 2);
  });

  it("a lost node never spends a retry: lost once, failed once, it still has its retry", async () => {
    let started = 0;
    const provider: ComputeProvider = {
      name: "loses-first",
      startNode: () => ({ id: `node-${++started}`, slots: 1 }),
      stopNode: () => {},
      run: async (node, body, ctx) => {
        if (ctx.attempt === 1) throw new NodeLostError(node.id, "lost under attempt 1");
        return body(ctx);
      },
    };
    const job = new Job("j").task("t", { retries: 1, backoff: { initialMs: 0 } }, ({ attempt }) => {
      if (attempt === 2) throw new Error("a real failure");
      return "third time";
    });
    const result = await start(job, { provider }).result;
    assert.equal(result.output("t"), "third time");
    assert.equal(result.tasks.get("t").attempts, 3);
  });
});
