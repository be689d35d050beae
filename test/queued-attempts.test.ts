/**
 * Nodes that queue attempts (`ProviderNode.prefetch`): a run places up to `slots + prefetch` attempts on
 * such a node, and an attempt waiting in its queue has not started — its `task:start` and its timeout
 * begin when the provider calls `ctx.started()`, or when it ends without the call. A cancel of a
 * queued attempt never starts it; a malformed `prefetch` is refused like a malformed node.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ComputeProvider, type NodeReport, type RunEvent, type TaskContext, Job, pool, start } from "../src/index.ts";
import { explore, virtualRuntime } from "../src/testing/index.ts";

interface Queued {
  readonly body: (ctx: TaskContext<any>) => unknown;
  readonly ctx: TaskContext<any>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * A provider whose nodes each run `slots` attempts at a time and keep up to `prefetch` more in a FIFO
 * of their own, like a remote agent's queue. `tell` false: it never calls `ctx.started()`. An attempt
 * takes the slots `wide` gives its task (1 by default); the queue is run in order.
 */
function queueingProvider(slots: number, prefetch: unknown, tell = true, maxNodes = 1, laterStartsMs = 0, wide: Record<string, number> = {}) {
  const nodes = new Map<string, { waiting: Queued[]; running: number; report: NodeReport }>();
  let started = 0;
  let placedMost = 0;
  const ran = new Map<string, string[]>(); // node id -> tasks it took
  const pump = (node: { waiting: Queued[]; running: number }) => {
    while (node.waiting.length > 0) {
      const item = node.waiting[0]!;
      if (item.ctx.signal.aborted) {
        node.waiting.shift();
        item.reject(item.ctx.signal.reason); // withdrawn from the queue: it never runs
        continue;
      }
      const need = wide[item.ctx.taskId] ?? 1;
      if (node.running + need > slots) return;
      node.waiting.shift();
      node.running += need;
      ran.set(item.ctx.node.id, [...(ran.get(item.ctx.node.id) ?? []), item.ctx.taskId]);
      if (tell) item.ctx.started?.();
      // Its slot is free before the run hears the outcome (as an agent's is before its answer arrives).
      const end = (settle: (value: unknown) => void) => (value: unknown) => {
        node.running -= need;
        settle(value);
        pump(node);
      };
      Promise.resolve()
        .then(() => item.body(item.ctx))
        .then(end(item.resolve), end(item.reject));
    }
  };
  const provider: ComputeProvider = {
    name: "queueing",
    maxNodes,
    startNode: (report) => {
      const id = `q${++started}`;
      nodes.set(id, { waiting: [], running: 0, report });
      const node = { id, slots, prefetch } as never;
      if (started === 1 || laterStartsMs === 0) return node;
      if (laterStartsMs === Infinity) {
        // A start that waits for capacity that never comes (an agent that never joins), until the run gives it up.
        return new Promise((_resolve, reject) => report.signal!.addEventListener("abort", () => reject(report.signal!.reason)));
      }
      return new Promise((resolve) => report.runtime!.setTimer(laterStartsMs, () => resolve(node)));
    },
    stopNode: (node) => void nodes.delete(node.id),
    run: (node, body, ctx) =>
      new Promise((resolve, reject) => {
        const held = nodes.get(node.id)!;
        const item = { body: body as Queued["body"], ctx, resolve, reject };
        held.waiting.push(item);
        // A cancel withdraws it from the queue (as an agent's job not started is withdrawn).
        ctx.onAbort((reason) => {
          const at = held.waiting.indexOf(item);
          if (at >= 0) held.waiting.splice(at, 1) && reject(reason);
        });
        placedMost = Math.max(placedMost, held.waiting.length + held.running);
        queueMicrotask(() => pump(held));
      }),
  };
  return { provider, placedMost: () => placedMost, ran, nodes };
}

/** A job of independent tasks `ids`, each sleeping `ms` on the run's clock and returning its id. */
function sleepers(name: string, ids: readonly string[], ms: number): Job {
  const job = new Job(name);
  for (const id of ids) job.task(id, async (ctx) => (await ctx.sleep(ms), id));
  return job;
}

/** Events of a run, in order, as "type taskId@at". */
function recorder(handle: { on(event: RunEvent["type"], listener: (e: RunEvent) => void): unknown }) {
  const seen: string[] = [];
  for (const type of ["task:start", "task:succeeded", "task:failed", "task:cancelled", "task:retry", "task:requeued"] as const) {
    handle.on(type, (e) => seen.push(`${e.type} ${(e as { taskId: string }).taskId}@${e.at}`));
  }
  return seen;
}

describe("nodes that queue attempts (ProviderNode.prefetch)", () => {
  it("places slots + prefetch attempts at once; each starts, and its timeout runs, from ctx.started()", async () => {
    const runtime = virtualRuntime();
    const { provider, placedMost } = queueingProvider(1, 2);
    const job = new Job("queued");
    for (const id of ["a", "b", "c"]) job.task(id, { timeoutMs: 100 }, async (ctx) => (await ctx.sleep(80), id));
    const handle = start(job, { runtime, provider });
    const seen = recorder(handle);
    const result = await handle.result;
    assert.equal(result.status, "succeeded", "80 ms each, one at a time, under a 100 ms timeout: none timed out");
    assert.equal(placedMost(), 3, "all three were placed on the node at once");
    // (The node takes b as a's slot frees, before the run hears a's end: b's start may come first.)
    assert.deepEqual(
      seen.filter((line) => line.startsWith("task:start")),
      ["task:start a@0", "task:start b@80", "task:start c@160"],
    );
    assert.deepEqual(
      seen.filter((line) => line.startsWith("task:succeeded")),
      ["task:succeeded a@80", "task:succeeded b@160", "task:succeeded c@240"],
    );
    assert.equal(result.tasks.get("c")!.startedAt, 160, "a task's startedAt is when it left the queue");
  });

  it("in a pool of several nodes too, each node takes slots + prefetch attempts", async () => {
    const { provider, placedMost } = queueingProvider(1, 1, true, 2);
    const job = sleepers("spread", ["a", "b", "c", "d"], 10);
    const result = await start(job, { runtime: virtualRuntime(), provider }).result;
    assert.equal(result.status, "succeeded");
    assert.equal(placedMost(), 2, "a node of 1 slot held a second attempt in its queue");
  });

  it("work is queued on a node only beyond the slots free or on their way: a node still starting gets its share", async () => {
    const { provider, ran } = queueingProvider(2, 4, true, 2, 10);
    const job = sleepers("share", ["a", "b", "c", "d", "e", "f"], 100);
    const result = await start(job, { runtime: virtualRuntime(), provider }).result;
    assert.equal(result.status, "succeeded");
    // q1 is up at once (2 run, 2 queued: 4 ready were more than the 2 slots coming); q2 is up at 10 ms.
    assert.deepEqual(ran.get("q1"), ["a", "b", "c", "d"]);
    assert.deepEqual(ran.get("q2"), ["e", "f"]);
  });

  it("a start pending for more than a second no longer holds work back from the queues of the nodes up", async () => {
    const { provider, placedMost } = queueingProvider(1, 2, true, 10, Infinity);
    const job = sleepers("patience", ["a", "b", "c", "d", "e", "f", "g", "h"], 300);
    const handle = start(job, { runtime: virtualRuntime(), provider });
    const starts: number[] = [];
    handle.on("task:start", (e) => starts.push(e.at));
    const result = await handle.result;
    assert.equal(result.status, "succeeded");
    assert.equal(placedMost(), 3, "once the other starts had waited a second, q1 queued work again");
    // While nine starts were on their way (their slots enough for the ready tasks), nothing was queued.
    assert.deepEqual(starts, [0, 300, 600, 900, 1200, 1500, 1800, 2100]);
  });

  it("when a start stops counting as on its way, the work it held back goes to the queues of the nodes up at once", async () => {
    const { provider, placedMost } = queueingProvider(1, 3, true, 2, Infinity);
    const job = new Job("wake").task("long", { priority: 1 }, async (ctx) => (await ctx.sleep(10_000), 1)).task("b", () => 2);
    const result = await start(job, { runtime: virtualRuntime(), provider }).result;
    assert.equal(result.status, "succeeded");
    // b was held back at 0 (q2's start counted as on its way) and queued on q1 at 1 s, not when long ended.
    assert.equal(placedMost(), 2);
  });

  it("an attempt waiting behind another node's work moves to a node with a free slot (one that came up late)", async () => {
    const { provider, ran } = queueingProvider(2, 4, true, 2, 2_000);
    const job = new Job("move");
    let inside = 0;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    // x ends at 1.5 s; a, b and c wait for each other: they end only if all three run at once.
    job.task("x", { priority: 1 }, async (ctx) => (await ctx.sleep(1_500), "x"));
    for (const id of ["a", "b", "c"]) {
      job.task(id, async (ctx) => {
        if (++inside === 3) open();
        return Promise.race([gate.then(() => "together"), ctx.sleep(10_000).then(() => "alone")]);
      });
    }
    const handle = start(job, { runtime: virtualRuntime(), provider });
    const requeued: string[] = [];
    handle.on("task:requeued", (e) => requeued.push(`${e.taskId}: ${(e.error as Error).message}`));
    const result = await handle.result;
    for (const id of ["a", "b", "c"]) assert.equal(result.tasks.get(id)!.output, "together", `task ${id}`);
    // At 1.5 s q2's start had waited more than a second: q1 took b into x's slot and c into its queue,
    // behind a and b; q2 came up at 2 s with nothing ready and took c back from q1's queue.
    assert.deepEqual(ran.get("q1"), ["x", "a", "b"]);
    assert.deepEqual(ran.get("q2"), ["c"]);
    assert.deepEqual(requeued, ['c: task "c" attempt 1 waited in node "q1"\'s queue while node "q2" of pool "default" had a free slot: moved there']);
    assert.equal(result.tasks.get("c")!.attempts, 2, "moved: a second attempt, no retry spent");
  });

  it("an attempt needing more slots than a node has free is not moved there (it would only be queued again)", async () => {
    // Found looping forever: X (2 slots) queued on one node was moved to the other's single free slot,
    // went back to the first node's queue, and was moved again.
    const wide = { X: 2, W2: 2, W3: 2 };
    const { provider } = queueingProvider(2, 1, true, 2, 0, wide);
    const sleeping = (ms: number, id: string) => async (ctx: TaskContext<any>) => (await ctx.sleep(ms), id);
    const job = new Job<Record<string, unknown>>("no-ping-pong")
      .task("L1", { priority: 10 }, sleeping(1_000, "L1"))
      .task("L2", { priority: 9 }, sleeping(1_000, "L2"))
      .task("X", { priority: 8, slots: 2 }, sleeping(10, "X"))
      .task("S", { priority: 7 }, sleeping(100, "S"))
      .task("W2", { priority: 6, slots: 2 }, sleeping(10, "W2"))
      .task("W3", { priority: 5, slots: 2 }, sleeping(10, "W3"));
    const result = await start(job, { runtime: virtualRuntime(), provider }).result;
    assert.equal(result.status, "succeeded");
    assert.deepEqual(
      [...result.tasks].map(([id, task]) => `${id}:${task.attempts}`),
      ["L1:1", "L2:1", "X:1", "S:1", "W2:1", "W3:1"],
    );
  });

  it("an attempt that ends without ctx.started() is started as it ends; a queued attempt still times out once begun", async () => {
    const runtime = virtualRuntime();
    const { provider } = queueingProvider(1, 1, false);
    const job = new Job("silent")
      .task("a", async (ctx) => (await ctx.sleep(30), 1))
      .task("b", { timeoutMs: 10, retries: 0 }, async (ctx) => {
        await ctx.sleep(50);
        return 2;
      });
    const handle = start(job, { runtime, provider });
    const seen = recorder(handle);
    const result = await handle.result;
    assert.equal(result.tasks.get("a")!.status, "succeeded");
    assert.deepEqual(seen.slice(0, 2), ["task:start a@30", "task:succeeded a@30"], "started as it ended, then its end");
    // b never got its start either (the provider never says): it ends at 80 and is started then; its 10 ms
    // timeout begins only at that start, so it succeeds.
    assert.deepEqual(seen.slice(2), ["task:start b@80", "task:succeeded b@80"]);

    const told = queueingProvider(1, 1);
    const again = await start(job, { runtime: virtualRuntime(), provider: told.provider }).result;
    assert.equal(again.tasks.get("b")!.status, "failed", "told when b began, its 10 ms timeout ran from then");
    assert.equal((again.tasks.get("b")!.error as Error).name, "TimeoutError");
  });

  it("a queued attempt cancelled before it began never starts; the others run", async () => {
    const runtime = virtualRuntime();
    const { provider } = queueingProvider(1, 3);
    const job = sleepers("cancel-queued", ["a", "b", "c"], 50);
    const handle = start(job, { runtime, provider });
    const seen = recorder(handle);
    handle.once("task:start", () => queueMicrotask(() => handle.cancelTask("b", "not needed")));
    const result = await handle.result;
    assert.equal(result.tasks.get("b")!.status, "cancelled");
    assert.ok(!seen.some((line) => line.startsWith("task:start b")), `b never started: ${seen.join(", ")}`);
    assert.equal(result.tasks.get("c")!.status, "succeeded");
    assert.equal(result.tasks.get("c")!.startedAt, 50, "c ran right after a: b's place in the queue was given up");
  });

  it("report.prefetch(n) changes the node's queue room from then on: more is placed at once, or nothing more is queued", async () => {
    const { provider, placedMost, nodes } = queueingProvider(1, 0);
    const report = () => nodes.get("q1")!.report;
    const waiting = () => nodes.get("q1")!.waiting.length;
    const seen: string[] = [];
    let stoppedReport: NodeReport | undefined;
    const job = new Job("resized");
    for (const id of ["a", "b", "c", "d", "e", "f"]) {
      job.task(id, async (ctx) => {
        if (id === "a") {
          stoppedReport = report();
          assert.throws(
            () => report().prefetch!(-1),
            /provider "queueing" reported "prefetch" number -1 for node "q1": it must be an integer >= 0 \(attempts the node queues beyond its slots\)$/,
          );
          report().prefetch!(2);
          await ctx.sleep(1);
          seen.push(`a sees ${waiting()} queued`); // placed at once: the run was woken by the larger room
        }
        if (id === "c") report().prefetch!(0);
        seen.push(`${id} behind ${waiting()}`);
        await ctx.sleep(10);
        return id;
      });
    }
    const result = await start(job, { runtime: virtualRuntime(), provider }).result;
    assert.equal(result.status, "succeeded", String([...result.tasks.values()].map((t) => t.error)));
    assert.equal(placedMost(), 3, "after prefetch(2), one running and two queued");
    // a: b and c queued as soon as its prefetch(2) came; b: c and d queued; e and f: nothing queued
    // after c's prefetch(0).
    assert.deepEqual(seen, ["a sees 2 queued", "a behind 2", "b behind 2", "c behind 2", "d behind 1", "e behind 0", "f behind 0"]);
    assert.equal(nodes.size, 0);
    stoppedReport!.prefetch!(5); // its node was stopped with the run: ignored
  });

  it("a report.prefetch(n) made while the node is still starting applies once the run has it", async () => {
    const { provider: base, placedMost } = queueingProvider(1, 0);
    const provider: ComputeProvider = {
      ...base,
      startNode: async (report) => {
        const node = await base.startNode(report);
        report.prefetch!(3);
        return node;
      },
    };
    const job = sleepers("early", ["a", "b", "c", "d"], 10);
    const result = await start(job, { runtime: virtualRuntime(), provider }).result;
    assert.equal(result.status, "succeeded");
    assert.equal(placedMost(), 4, "one running, three queued");
  });

  it("a task wider than the node's slots is never put in its queue room (refused as without prefetch)", async () => {
    const { provider } = queueingProvider(2, 2);
    const job = new Job("wide").task("w", { slots: 3 }, () => "w").task("x", () => "x");
    const result = await start(job, { runtime: virtualRuntime(), provider }).result;
    assert.equal(result.tasks.get("w")!.status, "failed");
    assert.equal((result.tasks.get("w")!.error as { code?: string }).code, "E_INVALID_OPTION");
    assert.equal(result.tasks.get("x")!.status, "succeeded");
  });

  for (const exit of ["lost", "preempted"] as const) {
    it(`a node ${exit} with attempts in its queue: those are requeued free; the loss is charged only to what ran there`, async () => {
      const { provider, nodes } = queueingProvider(1, 1);
      const job = new Job("loss")
        .task("a", { priority: 10 }, async (ctx) => {
          await ctx.sleep(5);
          const report = nodes.get(ctx.node.id)!.report;
          if (exit === "lost") report.lost(new Error("a crashed its node"));
          else report.preempted!(new Error("taken back"));
          await ctx.sleep(1_000);
          return "a";
        })
        .task("b", async (ctx) => (await ctx.sleep(10), "b"));
      const result = await start(job, { runtime: virtualRuntime(), provider, maxNodeLosses: 0, maxPreemptions: 0 }).result;
      const a = result.tasks.get("a")!;
      const b = result.tasks.get("b")!;
      // a ran alone on the node: charged at once (maxNodeLosses / maxPreemptions 0), as without a queue.
      assert.equal(a.status, "failed");
      assert.equal(a.attempts, 1);
      assert.equal(b.status, "succeeded", String(b.error));
      assert.equal(b.startedAt, 5, "b's first attempt never began; it started on the next node");
    });
  }

  it("only running attempts count as busy: a pool's utilization stays <= 1", async () => {
    const { provider } = queueingProvider(1, 3);
    const job = sleepers("util", ["a", "b", "c", "d"], 100);
    const result = await start(job, { runtime: virtualRuntime(), provider }).result;
    assert.equal(result.status, "succeeded");
    assert.ok(Math.abs(result.pools.default!.utilization - 1) < 0.01, `utilization ${result.pools.default!.utilization}`);
  });

  for (const bad of [-1, 1.5, "2", Number.NaN]) {
    it(`a node with prefetch ${String(bad)} is refused with E_INVALID_OPTION naming it`, async () => {
      const { provider } = queueingProvider(1, bad);
      const result = await start(
        new Job("bad").task("a", () => 1),
        { runtime: virtualRuntime(), provider },
      ).result;
      assert.equal(result.status, "failed");
      const cause = (result.tasks.get("a")!.error as Error).cause as Error & { code?: string };
      assert.equal(cause.code, "E_INVALID_OPTION");
      assert.match(cause.message, /provider "queueing" started node "q1" with "prefetch" .*: it must be an integer >= 0/);
    });
  }

  it("under explore(): every task ends once, never more attempts on the node than slots + prefetch, timeouts and cancels included", async () => {
    let cancelled = 0;
    let timedOut = 0;
    await explore(
      async (t) => {
        const slots = 1 + Math.floor(t.random() * 2);
        const prefetch = Math.floor(t.random() * 3);
        const { provider, placedMost } = queueingProvider(slots, prefetch, t.random() < 0.8, 1 + Math.floor(t.random() * 2));
        const job = new Job<Record<string, unknown>>("campaign");
        for (let i = 0; i < 8; i++) {
          const dependsOn = i > 1 && t.random() < 0.4 ? [`t${Math.floor(t.random() * i)}`] : [];
          job.task(
            `t${i}`,
            { dependsOn, retries: 1, ...(t.random() < 0.3 ? { timeoutMs: 40 } : {}) },
            async (ctx) => (await ctx.sleep(5 + Math.floor(t.random() * 50)), i),
          );
        }
        const handle = start(job, { runtime: t.runtime, provider, cancelGraceMs: 20 });
        const starts = new Map<string, number>();
        handle.on("task:start", (e) => {
          const key = `${e.taskId}#${e.attempt}`;
          starts.set(key, (starts.get(key) ?? 0) + 1);
        });
        if (t.random() < 0.5) handle.once("task:start", (e) => void handle.cancelTask(e.taskId === "t7" ? "t6" : "t7"));
        const result = await handle.result;
        assert.equal(result.tasks.size, 8);
        for (const [key, n] of starts) assert.equal(n, 1, `attempt ${key} started ${n} times`);
        assert.ok(placedMost() <= slots + prefetch, `${placedMost()} attempts on a node of ${slots} slots + ${prefetch} queued`);
        for (const task of result.tasks.values()) {
          if (task.status === "cancelled") cancelled++;
          if ((task.error as Error | undefined)?.name === "TimeoutError") timedOut++;
        }
      },
      { iterations: 200, seed: 11 },
    );
    assert.ok(cancelled > 0 && timedOut > 0, `the schedules saw ${cancelled} cancels and ${timedOut} timeouts`);
  });

  it("under explore(): two runs sharing an autoscaled pool of such nodes, tasks of 1 or 2 slots, failed starts, lost nodes and queues resized", async () => {
    // (A schedule of this campaign once looped forever: a 2-slot attempt moved back and forth.)
    let resized = 0;
    await explore(
      async (t) => {
        const slots = 1 + Math.floor(t.random() * 2);
        const wide: Record<string, number> = {};
        const { provider, nodes } = queueingProvider(slots, Math.floor(t.random() * 3), t.random() < 0.7, 4, Math.floor(t.random() * 60), wide);
        const shared = pool(provider, {
          runtime: t.runtime,
          maxNodes: 1 + Math.floor(t.random() * 3),
          idleTimeoutMs: 30,
          onScaleDown: t.random() < 0.5 ? "requeue" : "wait",
          placement: t.random() < 0.5 ? "pack" : "spread",
        });
        const jobOf = (name: string) => {
          const job = new Job<Record<string, unknown>>(name);
          for (let i = 0; i < 5; i++) {
            const need = 1 + Math.floor(t.random() * slots);
            wide[`${name}${i}`] = need;
            job.task(`${name}${i}`, { retries: 1, slots: need, ...(t.random() < 0.2 ? { timeoutMs: 40 } : {}) }, async (ctx) => {
              // The provider resizes the node's queue as it runs (as bullmq does from its agents' answers).
              if (t.random() < 0.3) nodes.get(ctx.node.id)?.report.prefetch?.(Math.floor(t.random() * 4)), resized++;
              await ctx.sleep(5 + Math.floor(t.random() * 40));
              return i;
            });
          }
          return job;
        };
        const a = start(jobOf("a"), { runtime: t.runtime, pools: { default: shared }, cancelGraceMs: 20 });
        const b = start(jobOf("b"), { runtime: t.runtime, pools: { default: shared }, cancelGraceMs: 20, priority: 1 });
        if (t.random() < 0.3) b.once("task:start", () => b.cancel("enough"));
        const [ra, rb] = await Promise.all([a.result, b.result]);
        assert.equal(ra.tasks.size + rb.tasks.size, 10);
        await shared.close();
      },
      {
        iterations: 300,
        seed: 5,
        faults: {
          "node.start": { probability: 0.2, action: { kind: "fail" } },
          "node.lost": { probability: 0.05, action: { kind: "fail" } },
          // The run hears an end late (as a remote node's next attempt may start before its answer arrives).
          "task.complete": { probability: 0.3, action: { kind: "delay", ms: 2 } },
        },
      },
    );
    assert.ok(resized > 0);
  });
});
