import assert from "node:assert/strict";
import { catchReported } from "./helpers.ts";
import { describe, mock, test } from "node:test";
import { type ComputeProvider, FlotillaError, Job, type NodeReport, type PoolMetrics, pool, run, type RunEvent, start } from "../src/index.ts";
import type { Runtime } from "../src/runtime.ts";
import { virtualRuntime } from "../src/testing/index.ts";

/** A provider whose nodes take `startMs` of the runtime's time to start, and that records what it did. */
function fakeCloud(runtime: Runtime, options: { slots?: number; startMs?: number | ((n: number) => number); failStarts?: boolean } = {}) {
  const { slots = 2, startMs = 10, failStarts = false } = options;
  const live = new Map<string, NodeReport>();
  const aborted: string[] = [];
  const started: string[] = [];
  let n = 0;
  const provider: ComputeProvider = {
    name: "fake-cloud",
    maxNodes: 100,
    startNode(report) {
      const id = `vm${++n}`;
      const ms = typeof startMs === "number" ? startMs : startMs(n);
      return new Promise((resolve, reject) => {
        const timer = runtime.setTimer(ms, () => {
          if (failStarts) return reject(new Error(`no capacity for ${id}`));
          live.set(id, report);
          started.push(`${id}:${report.priority ?? "dedicated"}`);
          resolve({ id, slots });
        });
        report.signal?.addEventListener("abort", () => {
          runtime.clearTimer(timer);
          aborted.push(id);
          reject(report.signal!.reason);
        });
      });
    },
    stopNode(node) {
      live.delete(node.id);
    },
    run: (_node, body, ctx) => (body as (c: typeof ctx) => unknown)(ctx),
  };
  return { provider, live, aborted, started };
}

/** A job of `count` independent tasks that each sleep `ms` and record the node they ran on. */
function sleepers(name: string, count: number, ms: number, options: { slots?: number; retries?: number } = {}, onNode?: (id: string, node: string) => void) {
  const job = new Job(name);
  for (let i = 0; i < count; i++) {
    job.task(`${name}${i}`, { pool: "render", ...options }, async (ctx) => {
      onNode?.(ctx.taskId, ctx.node.id);
      await ctx.sleep(ms);
      return i;
    });
  }
  return job;
}

describe("pool(provider, options)", () => {
  test("refuses bad options, naming the option and what it must be", () => {
    const { provider } = fakeCloud(virtualRuntime());
    const refused = (options: object, pattern: RegExp) =>
      assert.throws(
        () => pool(provider, options as never),
        (e: unknown) => e instanceof FlotillaError && e.code === "E_INVALID_OPTION" && pattern.test(e.message),
      );
    refused({ maxNodes: 0, lowPriority: { maxNodes: 0 } }, /both 0/);
    refused({ maxNodes: 2, minNodes: 3 }, /"minNodes" must be at most maxNodes \(2\)/);
    refused({ placement: "random" }, /"placement" must be "pack" or "spread"/);
    refused({ slotsPerNode: 0 }, /"slotsPerNode" must be an integer >= 1/);
    refused({ maxNodez: 3 }, /unknown pool option "maxNodez" \(did you mean "maxNodes"\?\)/);
    refused({ onScaleDown: "kill" }, /"onScaleDown" must be "requeue" or "wait"/);
    refused({ autoscale: 3 }, /"autoscale" must be a function/);
    assert.throws(() => pool({} as never), /not a ComputeProvider/);
  });

  test("a task needing more slots than a node has, or naming an unknown pool, is refused before the run", async () => {
    const runtime = virtualRuntime();
    const { provider, started } = fakeCloud(runtime);
    const render = pool(provider, { slotsPerNode: 4, maxNodes: 2, runtime });
    const wide = new Job("wide").task("big", { pool: "render", slots: 5 }, () => 1);
    await assert.rejects(
      run(wide, { pools: { render }, runtime }),
      /task "big": option "slots" is 5, but a node of pool "render" has 4 slots \(pool option slotsPerNode\)/,
    );
    const lost = new Job("lost").task("a", { pool: "rendr" }, () => 1);
    await assert.rejects(run(lost, { pools: { render }, runtime }), /names pool "rendr", which this run does not have \(did you mean "render"\?\)/);
    assert.throws(() => new Job("j").task("a", { slots: 1.5 }, () => 1), /option "slots" must be an integer >= 1, received number 1.5/);
    assert.deepEqual(started, []);
    await render.close();
  });

  test("a run on another runtime, or after close(), is refused", async () => {
    const runtime = virtualRuntime();
    const render = pool(fakeCloud(runtime).provider, { runtime });
    const job = new Job("j").task("a", { pool: "render" }, () => 1);
    await assert.rejects(run(job, { pools: { render }, runtime: virtualRuntime() }), /runs on another runtime than this run/);
    await render.close();
    await assert.rejects(run(job, { pools: { render }, runtime }), /pool "render" \(fake-cloud\) is closed/);
  });
});

describe("shared pools", () => {
  test("two runs share one pool: its nodes serve both, outlive each run, and stop at close()", async () => {
    const runtime = virtualRuntime();
    const cloud = fakeCloud(runtime, { slots: 2 });
    const render = pool(cloud.provider, { maxNodes: 2, runtime, idleTimeoutMs: Infinity, costPerNodeHour: { dedicated: 3.6 } });
    const nodesOf = new Set<string>();
    const [a, b] = await Promise.all([
      run(
        sleepers("a", 4, 100, {}, (_t, n) => nodesOf.add(n)),
        { pools: { render }, runtime },
      ),
      run(
        sleepers("b", 4, 100, {}, (_t, n) => nodesOf.add(n)),
        { pools: { render }, runtime },
      ),
    ]);
    assert.equal(a.status, "succeeded");
    assert.equal(b.status, "succeeded");
    assert.equal(nodesOf.size, 2, "both runs used the same two nodes");
    assert.equal(cloud.live.size, 2, "the nodes outlive the runs");
    assert.equal(a.pools.render!.peakNodes, 2);
    assert.ok(a.pools.render!.nodeSeconds > 0);
    assert.ok(a.pools.render!.utilization > 0 && a.pools.render!.utilization <= 1);
    // A third run reuses them: no new start.
    const c = await run(sleepers("c", 2, 10), { pools: { render }, runtime });
    assert.equal(c.status, "succeeded");
    assert.equal(cloud.started.length, 2);
    await render.close();
    assert.equal(cloud.live.size, 0, "close() stopped every node");
    const stats = render.stats();
    assert.equal(stats.closed, true);
    // 3.6 per node-hour = 0.001 per node-second.
    assert.ok(Math.abs(stats.cost - stats.nodeSeconds * 0.001) < 1e-9, `cost ${stats.cost} for ${stats.nodeSeconds} node-seconds`);
  });

  test("slots: a task takes its slots of one node, and no node is over-committed", async () => {
    const runtime = virtualRuntime();
    const cloud = fakeCloud(runtime, { slots: 4 });
    const render = pool(cloud.provider, { maxNodes: 2, runtime });
    const load = new Map<string, number>();
    let worst = 0;
    const job = new Job("slots");
    for (let i = 0; i < 8; i++) {
      const slots = i % 2 === 0 ? 3 : 1;
      job.task(`t${i}`, { pool: "render", slots }, async (ctx) => {
        load.set(ctx.node.id, (load.get(ctx.node.id) ?? 0) + slots);
        worst = Math.max(worst, load.get(ctx.node.id)!);
        await ctx.sleep(50);
        load.set(ctx.node.id, load.get(ctx.node.id)! - slots);
      });
    }
    const result = await run(job, { pools: { render }, runtime });
    assert.equal(result.status, "succeeded");
    assert.equal(worst, 4, "a node's four slots filled, never more");
    await render.close();
  });

  test("placement: pack fills a node before the next, spread uses the least loaded", async () => {
    for (const placement of ["pack", "spread"] as const) {
      const runtime = virtualRuntime();
      const render = pool(fakeCloud(runtime, { slots: 4 }).provider, { maxNodes: 2, minNodes: 2, runtime, placement });
      // Both nodes up first (minNodes), then two tasks at once.
      await run(
        new Job("warm").task("w", { pool: "render" }, () => 1),
        { pools: { render }, runtime },
      );
      while (render.stats().nodes.dedicated.idle < 2) await runtime.idle();
      const nodes: string[] = [];
      const job = new Job(placement)
        .task("x", { pool: "render" }, async (ctx) => (nodes.push(ctx.node.id), ctx.sleep(10)))
        .task("y", { pool: "render" }, async (ctx) => (nodes.push(ctx.node.id), ctx.sleep(10)));
      await run(job, { pools: { render }, runtime });
      assert.equal(new Set(nodes).size, placement === "pack" ? 1 : 2, placement);
      await render.close();
    }
  });

  test("the default policy grows with demand up to maxNodes, and lets idle nodes go after idleTimeoutMs, down to minNodes", async () => {
    const runtime = virtualRuntime();
    const cloud = fakeCloud(runtime, { slots: 2 });
    const render = pool(cloud.provider, { maxNodes: 3, minNodes: 1, runtime, idleTimeoutMs: 1_000 });
    const events: string[] = [];
    render.on("node:stop", (e) => events.push(`stop ${e.nodeId}`));
    render.on("pool:resize", (e) => events.push(`resize ${e.dedicated} (${e.reason})`));
    const result = await run(sleepers("grow", 12, 100), { pools: { render }, runtime });
    assert.equal(result.status, "succeeded");
    assert.equal(result.pools.render!.peakNodes, 3);
    assert.equal(cloud.started.length, 3);
    await runtime.idle(); // the idle timeout passes in virtual time
    assert.equal(cloud.live.size, 1, "down to minNodes");
    assert.equal(events.filter((e) => e.startsWith("stop")).length, 2);
    assert.ok(events.includes("resize 3 (demand)"), events.join("; "));
    assert.ok(
      events.some((e) => e.startsWith("resize 1 (idle timeout)")),
      events.join("; "),
    );
    await render.close();
    assert.equal(cloud.live.size, 0);
  });

  test("evaluate() dry-runs the policy on sample metrics, and says why an answer is invalid", async () => {
    const runtime = virtualRuntime();
    const { provider } = fakeCloud(runtime);
    let answer: unknown = { dedicated: 2, lowPriority: 5 };
    const seen: PoolMetrics[] = [];
    const render = pool(provider, {
      maxNodes: 4,
      lowPriority: { maxNodes: 10 },
      runtime,
      autoscale: (m) => (seen.push(m), answer as never),
    });
    assert.deepEqual(render.evaluate({ ready: { tasks: 7, slots: 14 } }), { dedicated: 2, lowPriority: 5 });
    assert.equal(seen[0]!.ready.slots, 14);
    assert.equal(seen[0]!.nodes.lowPriority.busy, 0);
    answer = { dedicated: 1.5, lowPriority: 0 };
    assert.throws(() => render.evaluate(), /"dedicated" must be an integer, it returned number 1.5/);
    answer = { dedicated: 1, lowPriority: -1 };
    assert.throws(() => render.evaluate(), /"lowPriority" must be >= 0, it returned -1/);
    answer = { dedicated: 5, lowPriority: 0 };
    assert.throws(() => render.evaluate(), /"dedicated" \(5\) is above the pool's maxNodes \(4\)/);
    answer = "lots";
    assert.throws(() => render.evaluate(), /must return \{ dedicated, lowPriority \}, it returned string "lots"/);
    assert.equal(render.stats().nodes.dedicated.starting, 0, "a dry run touches no node");
    // Sample metrics that are not metrics are refused, naming which.
    answer = { dedicated: 1, lowPriority: 0 };
    assert.throws(
      () => render.evaluate({ ready: { slots: -1 } }),
      /evaluate\(metrics\): option "ready.slots" must be a finite number >= 0, received number -1/,
    );
    assert.throws(() => render.evaluate({ redy: { tasks: 1 } } as never), /unknown metric "redy" \(did you mean "ready"\?\)/);
    assert.throws(
      () => render.evaluate({ nodes: { dedicated: { idle: "2" } } } as never),
      /option "nodes.dedicated.idle" must be a finite number >= 0, received string "2"/,
    );
    assert.throws(() => render.evaluate(7 as never), /metrics: options must be an object, received number 7/);
    // The default policy: demand over slots per node, dedicated first.
    const plain = pool(provider, { maxNodes: 2, slotsPerNode: 4, lowPriority: { maxNodes: 10 }, runtime });
    assert.deepEqual(plain.evaluate({ ready: { tasks: 20, slots: 20 }, running: { tasks: 4, slots: 4 } }), { dedicated: 2, lowPriority: 4 });
    await render.close();
    await plain.close();
  });

  test("a lower target cancels node starts still in flight (the provider's start is aborted)", async () => {
    const runtime = virtualRuntime();
    const cloud = fakeCloud(runtime, { slots: 1, startMs: (n) => n * 1_000 });
    let target = 3;
    const render = pool(cloud.provider, { maxNodes: 3, runtime, autoscale: () => ({ dedicated: target, lowPriority: 0 }) });
    const job = new Job("quick").task("a", { pool: "render" }, async (ctx) => {
      target = 1;
      await ctx.sleep(1);
    });
    const result = await run(job, { pools: { render }, runtime });
    assert.equal(result.status, "succeeded");
    await runtime.idle();
    assert.deepEqual(cloud.aborted.sort(), ["vm2", "vm3"], "the starts still in flight");
    assert.equal(cloud.live.size, 1);
    await render.close();
    assert.equal(cloud.live.size, 0);
  });

  test('onScaleDown "requeue": a busy node let go has its attempts requeued without spending a retry', async () => {
    const runtime = virtualRuntime();
    const cloud = fakeCloud(runtime, { slots: 1 });
    let target = 2;
    const render = pool(cloud.provider, {
      maxNodes: 2,
      runtime,
      onScaleDown: "requeue",
      evaluateIntervalMs: 100,
      autoscale: () => ({ dedicated: target, lowPriority: 0 }),
    });
    const events: RunEvent[] = [];
    let running = 0;
    const body = async (ctx: { sleep(ms: number): Promise<void> }) => {
      // Once both nodes are busy, the next evaluation (within 100 ms) lets one of them go.
      if (++running === 2) target = 1;
      await ctx.sleep(1_000);
    };
    const job = new Job("evict").task("a", { pool: "render", retries: 0 }, body).task("b", { pool: "render", retries: 0 }, body);
    const handle = start(job, { pools: { render }, runtime });
    handle.on("task:requeued", (e) => events.push(e));
    const result = await handle.result;
    assert.equal(result.status, "succeeded", String(result.error));
    assert.equal(events.length, 1, "the attempt on the node let go was requeued");
    assert.equal(result.tasks.get("a")!.attempts + result.tasks.get("b")!.attempts, 3, "one more attempt, no retry spent (retries: 0)");
    assert.equal(render.stats().peakNodes, 2);
    await render.close();
    assert.equal(cloud.live.size, 0);
  });

  test("preempted low-priority nodes: attempts requeued free, counted, bounded by maxPreemptions", async () => {
    const runtime = virtualRuntime();
    const cloud = fakeCloud(runtime, { slots: 1 });
    const spot = pool(cloud.provider, { maxNodes: 0, lowPriority: { maxNodes: 2 }, runtime });
    let preemptions = 2;
    const job = new Job("spot").task("t", { pool: "render", retries: 0 }, async (ctx) => {
      if (preemptions-- > 0) cloud.live.get(ctx.node.id)!.preempted!(new Error("spot capacity reclaimed"));
      await ctx.sleep(10);
      return ctx.attempt;
    });
    const result = await run(job, { pools: { render: spot }, runtime });
    assert.equal(result.status, "succeeded", String(result.error));
    assert.equal(result.output("t"), 3, "two preempted attempts, then one that finished");
    assert.equal(result.pools.render!.preemptions, 2);
    assert.ok(
      cloud.started.every((s) => s.endsWith(":lowPriority")),
      cloud.started.join(),
    );
    // Bounded: with maxPreemptions 1 the second preemption fails the task.
    preemptions = 5;
    const bounded = await run(job, { pools: { render: spot }, runtime, maxPreemptions: 1 });
    assert.equal(bounded.status, "failed");
    assert.match(String((bounded.tasks.get("t")!.error as Error).message), /preempted 2 times \(run option maxPreemptions: 1\)/);
    await spot.close();
    assert.equal(cloud.live.size, 0);
  });

  test("a pool that can never start a node fails the tasks waiting for it, clearly", async () => {
    const runtime = virtualRuntime();
    const cloud = fakeCloud(runtime, { failStarts: true });
    const render = pool(cloud.provider, { maxNodes: 2, runtime });
    const result = await run(sleepers("never", 3, 10), { pools: { render }, runtime });
    assert.equal(result.status, "failed");
    assert.match(String((result.error as Error).message), /could not start a node: no capacity/);
    assert.ok(result.pools.render!.startFailures >= 1);
    await render.close();
  });

  test("priority: a higher-priority run takes free slots first, and a lower one still progresses within the bound", async () => {
    const runtime = virtualRuntime();
    const render = pool(fakeCloud(runtime, { slots: 1 }).provider, { maxNodes: 1, minNodes: 1, runtime });
    await run(
      new Job("warm").task("w", { pool: "render" }, () => 1),
      { pools: { render }, runtime },
    );
    const order: string[] = [];
    const job = (name: string) => {
      const j = new Job(name);
      for (let i = 0; i < 30; i++) j.task(`${name}${i}`, { pool: "render" }, async (ctx) => (order.push(name), ctx.sleep(5)));
      return j;
    };
    const [high, low] = await Promise.all([run(job("high"), { pools: { render }, runtime, priority: 10 }), run(job("low"), { pools: { render }, runtime })]);
    assert.equal(high.status, "succeeded");
    assert.equal(low.status, "succeeded");
    const firstLow = order.indexOf("low");
    assert.ok(firstLow > 0 && firstLow <= 9, `low's first slot came at ${firstLow}: ${order.join(",")}`);
    // While both have ready work, high gets most slots, and low never waits more than 8 in a row.
    let streak = 0;
    for (const who of order.slice(0, order.lastIndexOf("high"))) {
      streak = who === "high" ? streak + 1 : 0;
      assert.ok(streak <= 9, order.join(","));
    }
    assert.ok(order.slice(0, 20).filter((w) => w === "high").length >= 15, order.join(","));
    await render.close();
  });
});

describe("shared pools: bounds and policy errors", () => {
  test("a policy that throws during a run is reported (provider:error, operation autoscale) and the default policy sizes the pool", async () => {
    const runtime = virtualRuntime();
    const cloud = fakeCloud(runtime, { slots: 1 });
    const render = pool(cloud.provider, {
      maxNodes: 2,
      runtime,
      autoscale: () => {
        throw new Error("policy bug");
      },
    });
    const errors: unknown[] = [];
    render.on("provider:error", (e) => errors.push(e.operation === "autoscale" && (e.error as Error).message));
    const result = await run(sleepers("p", 3, 10), { pools: { render }, runtime });
    assert.equal(result.status, "succeeded");
    assert.ok(errors.length > 0 && errors.every((e) => e === "policy bug"), String(errors));
    await render.close();
    assert.equal(cloud.live.size, 0);
  });

  test("a node still stopping counts against the bound: no new start until its stop finished", async () => {
    const runtime = virtualRuntime();
    let stopsInFlight = 0;
    let most = 0;
    let alive = 0;
    let n = 0;
    const provider: ComputeProvider = {
      name: "slow-stop",
      startNode: () => {
        alive++;
        most = Math.max(most, alive);
        return { id: `n${++n}`, slots: 1 };
      },
      stopNode: () =>
        new Promise<void>((resolve) => {
          stopsInFlight++;
          runtime.setTimer(500, () => {
            stopsInFlight--;
            alive--;
            resolve();
          });
        }),
      run: (_node, body, ctx) => (body as (c: typeof ctx) => unknown)(ctx),
    };
    let target = 1;
    const render = pool(provider, {
      maxNodes: 1,
      runtime,
      onScaleDown: "requeue",
      evaluateIntervalMs: 10,
      autoscale: () => ({ dedicated: target, lowPriority: 0 }),
    });
    const job = new Job("bound").task("a", { pool: "render" }, async (ctx) => {
      if (ctx.attempt === 1) target = 0; // let the busy node go (requeue); it takes 500 ms to stop
      await ctx.sleep(50);
    });
    // Once its attempt is requeued the pool wants a node again at once, while the old one still stops.
    const handle = start(job, { pools: { render }, runtime });
    handle.on("task:requeued", () => {
      target = 1;
    });
    const result = await handle.result;
    assert.equal(result.status, "succeeded");
    assert.equal(most, 1, "never two nodes of a pool bounded at one, even while one was stopping");
    await render.close();
    assert.equal(stopsInFlight, 0);
  });
});

describe("shared pools: starts, drains and slots", () => {
  test("a start not done within startTimeoutMs is aborted (report.signal) and retried; the job goes on", async () => {
    const runtime = virtualRuntime();
    let starts = 0;
    const aborted: unknown[] = [];
    const live = new Set<string>();
    const provider: ComputeProvider = {
      name: "hangs-once",
      maxNodes: 4,
      startNode: (report) =>
        new Promise((resolve, reject) => {
          const id = `n${++starts}`;
          report.signal?.addEventListener("abort", () => {
            aborted.push(report.signal!.reason);
            reject(report.signal!.reason);
          });
          if (starts > 1) runtime.setTimer(10, () => (live.add(id), resolve({ id, slots: 1 }))); // the first start hangs
        }),
      stopNode: (node) => void live.delete(node.id),
      run: (_node, body, ctx) => (body as (c: typeof ctx) => unknown)(ctx),
    };
    const render = pool(provider, { maxNodes: 1, runtime, startTimeoutMs: 1_000 });
    const result = await run(sleepers("slow", 2, 10), { pools: { render }, runtime });
    assert.equal(result.status, "succeeded");
    assert.equal(aborted.length, 1);
    assert.match(String((aborted[0] as Error).message), /did not start a node within 1000 ms \(pool option startTimeoutMs\)/);
    assert.equal(result.pools.render!.startFailures, 0, "retried within the keeper's three retries, not given up");
    await render.close();
    assert.equal(live.size, 0);
  });

  test('onScaleDown "wait": a busy node let go takes no new work and stops once empty', async () => {
    const runtime = virtualRuntime();
    const cloud = fakeCloud(runtime, { slots: 2 });
    let target = 2;
    const render = pool(cloud.provider, { maxNodes: 2, runtime, evaluateIntervalMs: 5, autoscale: () => ({ dedicated: target, lowPriority: 0 }) });
    const stops: number[] = [];
    render.on("node:stop", (e) => stops.push(e.at));
    const nodeOf = new Map<string, string>();
    const job = new Job<Record<string, unknown>>("drain");
    // t0, t1 fill one node and t2, t3 the other (pack); t3 drops the target to 1, so the second node
    // drains. At 100 ms t1 and t3 end, each node has a free slot, and t4, t5 become ready: both must
    // go to the node kept, never to the draining one.
    const ms: Record<string, number> = { t0: 500, t1: 100, t2: 500, t3: 100, t4: 100, t5: 100 };
    for (let i = 0; i < 6; i++) {
      // (Priorities place t0, t1, t2, t3 in that order.)
      job.task(`t${i}`, { pool: "render", priority: Math.max(0, 4 - i), dependsOn: i >= 4 ? ["t1", "t3"] : [] }, async (ctx) => {
        nodeOf.set(ctx.taskId, ctx.node.id);
        if (ctx.taskId === "t3") target = 1;
        await ctx.sleep(ms[ctx.taskId]!);
      });
    }
    const handle = start(job, { pools: { render }, runtime });
    const requeued: unknown[] = [];
    handle.on("task:requeued", (e) => requeued.push(e));
    const result = await handle.result;
    assert.equal(result.status, "succeeded");
    assert.deepEqual(requeued, [], "nothing is requeued when a node drains");
    assert.notEqual(nodeOf.get("t2"), nodeOf.get("t0"), JSON.stringify([...nodeOf]));
    assert.equal(nodeOf.get("t4"), nodeOf.get("t0"), "no new work on the draining node");
    assert.equal(nodeOf.get("t5"), nodeOf.get("t0"), "no new work on the draining node");
    assert.equal(stops.length, 1, "the drained node stopped once empty");
    await render.close();
    assert.equal(cloud.live.size, 0);
  });

  test("a task needing more slots than its private pool's nodes turn out to have fails, saying so", async () => {
    const runtime = virtualRuntime();
    const cloud = fakeCloud(runtime, { slots: 2 });
    const job = new Job("wide").task("big", { pool: "render", slots: 3 }, () => 1);
    const result = await run(job, { pools: { render: cloud.provider }, runtime });
    assert.equal(result.status, "failed");
    assert.match(
      String((result.error as Error).message),
      /task "big": option "slots" is 3, but the nodes of pool "render" \(provider "fake-cloud"\) have at most 2 slots/,
    );
    assert.equal(cloud.live.size, 0);
  });
});

describe("shared pools: listeners", () => {
  test("a pool listener that throws changes nothing: the other listeners hear the event, the run settles, the error surfaces once", async () => {
    const runtime = virtualRuntime();
    const cloud = fakeCloud(runtime, { slots: 1 });
    const render = pool(cloud.provider, { maxNodes: 1, runtime });
    const heard: string[] = [];
    render.on("node:start", () => {
      throw new Error("listener bug");
    });
    render.on("node:start", (e) => heard.push(e.nodeId));
    assert.throws(() => render.on("node:stop", 5 as never), /pool "fake-cloud": the listener must be a function, received number 5/);
    const surfaced = catchReported();
    try {
      const result = await run(sleepers("l", 2, 10), { pools: { render }, runtime });
      assert.equal(result.status, "succeeded");
    } finally {
      mock.restoreAll();
    }
    assert.deepEqual(heard, ["vm1"]);
    assert.deepEqual(
      surfaced.map((e) => (e as Error).message),
      ["listener bug"],
    );
    await render.close();
    assert.equal(cloud.live.size, 0);
  });
});
