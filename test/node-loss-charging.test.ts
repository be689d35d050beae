/**
 * Who pays for a lost node. A node that dies takes every attempt on it; only the task that ran alone
 * there can be its cause for sure. The rule (the same for every provider): a loss on a shared node
 * is charged to nobody — each attempt is requeued free and its task runs alone from then on — and a
 * loss while running alone counts against the task's `maxNodeLosses`.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FlotillaError, Job, NodeLostError, isFlotillaError, start, type ComputeProvider, type NodeReport, type ProviderNode } from "../src/index.ts";
import { explore, virtualRuntime } from "../src/testing/index.ts";

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
    assert.equal(result.tasks.get("x").status, "succeeded", `${String(result.tasks.get("x").error)}\n${company.join("\n")}`);
    assert.equal(result.output("x"), "x");
    assert.equal(result.output("y"), "y");
    const crasher = result.tasks.get("crasher");
    assert.equal(crasher.status, "failed");
    assert.ok(isFlotillaError(crasher.error, "E_NODE_LOST"));
    assert.equal(crasher.attempts, 2, "one free requeue from the shared node, then its own loss (maxNodeLosses: 0)");
    assert.deepEqual(requeued.sort(), ["crasher#1", "x#1", "y#1"], "the shared loss is charged to nobody");
    // The first attempts shared node-1; after its loss, every requeued attempt ran alone.
    assert.deepEqual(company.filter((line) => line.includes("#1 ")).length, 3);
    assert.ok(
      company.some((line) => line.includes("#1 ") && !line.endsWith("with 0 others")),
      company.join("\n"),
    );
    const later = company.filter((line) => !line.includes("#1 "));
    assert.equal(later.length, 3, company.join("\n"));
    for (const line of later) assert.match(line, /with 0 others$/);
  });

  it("a task that crashes its node while running alone is charged every time: maxNodeLosses requeues, then E_NODE_LOST", async () => {
    const { provider } = crashingNodes(1, 2);
    const handle = start(
      new Job("alone").task("crasher", { retries: 5 }, () => 1).task("fine", () => 2),
      { provider, maxNodeLosses: 2 },
    );
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

  it("a neighbour is not charged when the culprit's aborted attempt settled a moment before the loss was reported", async () => {
    // p times out and ignores its signal, then its node dies: the provider settles p's attempt (with its
    // abort reason) before b's NodeLostError arrives, so at that moment b looks alone on the node. It
    // shared the node all along, so it is requeued free.
    const runtime = virtualRuntime();
    let started = 0;
    const deaths: (() => void)[] = [];
    const provider: ComputeProvider = {
      name: "dies-later",
      startNode: () => ({ id: `node-${++started}`, slots: 2 }),
      stopNode: () => {},
      run: (node, body, ctx) => {
        if (node.id !== "node-1") return body(ctx);
        let aborted: unknown;
        ctx.onAbort((reason) => (aborted = reason));
        if (deaths.length === 0) runtime.setTimer(20, () => deaths.forEach((die) => die()));
        return new Promise((_, reject) =>
          deaths.push(() => reject(aborted ?? new NodeLostError(node.id, `node "${node.id}" died under task "${ctx.taskId}"`))),
        );
      },
    };
    const job = new Job("j").task("p", { timeoutMs: 10, priority: 1 }, () => "p").task("b", () => "b");
    const result = await start(job, { runtime, provider, maxNodeLosses: 0, cancelGraceMs: 1_000 }).result;
    assert.ok(isFlotillaError(result.tasks.get("p").error, "E_TIMEOUT"));
    assert.equal(result.output("b"), "b", String(result.tasks.get("b").error));
    assert.equal(result.tasks.get("b").attempts, 2);
  });

  it("a task waiting to run alone is not stranded when the node reserved for it is lost for good", async () => {
    // Three nodes of two slots and a stream of 200 shared tasks. C's node dies under it (shared: C is
    // requeued free, to run alone); the node then reserved for C empties... and is lost, and its
    // position cannot start another. C must get another node promptly, not after the whole stream.
    const runtime = virtualRuntime();
    let starts = 0;
    const reports = new Map<string, NodeReport>();
    const kills = new Map<string, Set<() => void>>();
    const provider: ComputeProvider = {
      name: "quota",
      maxNodes: 3,
      startNode: (report) => {
        if (++starts > 3) throw new FlotillaError("E_INVALID_OPTION", "no more nodes (quota)"); // permanent
        const node = { id: `n${starts}`, slots: 2 };
        reports.set(node.id, report);
        kills.set(node.id, new Set());
        return node;
      },
      stopNode: () => {},
      run: (node, body, ctx) =>
        new Promise((resolve, reject) => {
          const kill = () => reject(new NodeLostError(node.id, `${node.id} died under task "${ctx.taskId}"`));
          kills.get(node.id)!.add(kill);
          if (ctx.taskId === "C" && ctx.attempt === 1) runtime.setTimer(5, () => kills.get(node.id)!.forEach((k) => k()));
          Promise.resolve(body(ctx))
            .then(resolve, reject)
            .finally(() => kills.get(node.id)!.delete(kill));
        }),
    };
    const job = new Job<Record<string, unknown>>("starve").task("C", { priority: 10 }, async ({ sleep }) => (await sleep(20), "c"));
    for (let i = 0; i < 200; i++) job.task(`S${i}`, async ({ sleep }) => (await sleep(7 + (i % 5) * 3), i));
    const handle = start(job, { provider, runtime });
    let restartedAt = -1;
    handle.on("task:start", (e) => {
      if (e.taskId === "C" && e.attempt === 2) restartedAt = e.at;
    });
    runtime.setTimer(8, () => {
      kills.get("n2")!.forEach((k) => k());
      reports.get("n2")!.lost("preempted");
    });
    const result = await handle.result;
    assert.equal(result.output("C"), "c");
    assert.ok(restartedAt >= 0 && restartedAt < 100, `C ran again at ${restartedAt} ms (virtual); the stream takes over 600 ms`);
  });

  it("a NodeLostError about another node, thrown by a body (a nested run's error), is an ordinary failure", async () => {
    const runtime = virtualRuntime();
    let siblingAborted = false;
    const job = new Job("j")
      .task("nested", { retries: 1, backoff: { initialMs: 0 } }, ({ attempt }) => {
        if (attempt === 1) throw new NodeLostError("some-vm", 'node "some-vm" of a nested run was lost');
        return "second";
      })
      .task("sibling", async ({ sleep, signal }) => {
        signal.addEventListener("abort", () => (siblingAborted = true));
        await sleep(10);
        return "sibling";
      });
    const result = await start(job, { runtime, maxNodeLosses: 0 }).result;
    assert.equal(result.output("nested"), "second", "its retry was spent: the failure was the body's");
    assert.equal(result.output("sibling"), "sibling");
    assert.equal(siblingAborted, false, "the in-process node was not taken down");
    assert.equal(result.tasks.get("sibling").attempts, 1);
  });

  it("a task that kills every node it is dispatched to, synchronously, ends with E_NODE_LOST; its neighbours finish", async () => {
    // x's first loss is shared with a (free), so both run alone afterwards; then a's node is reported
    // lost, and every replacement dies at once under x until x is out of losses.
    await explore(
      async (t) => {
        const reports: NodeReport[] = [];
        let starts = 0;
        const provider: ComputeProvider = {
          name: "sync-deaths",
          startNode: (report) => (reports.push(report), { id: `node-${++starts}`, slots: 3 }),
          stopNode: () => {},
          run: (node, body, ctx) => {
            if (ctx.taskId === "x") throw new NodeLostError(node.id, `${node.id} died under task "x" attempt ${ctx.attempt}`);
            if (ctx.taskId === "a" && ctx.attempt === 2) t.runtime.setTimer(2, () => reports.at(-1)!.lost("preempted"));
            return body(ctx);
          },
        };
        const job = new Job("j")
          .task("a", { priority: 3 }, async ({ sleep }) => (await sleep(5), "a"))
          .task("x", { priority: 2 }, () => "x")
          .task("b", { priority: 1 }, async ({ sleep }) => (await sleep(1), "b"));
        const result = await start(job, { runtime: t.runtime, provider, maxNodeLosses: 3 }).result;
        assert.equal(result.output("a"), "a");
        assert.equal(result.output("b"), "b");
        assert.ok(isFlotillaError(result.tasks.get("x").error, "E_NODE_LOST"));
      },
      { iterations: 20, seed: 3 },
    );
  });
});
