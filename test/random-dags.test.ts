/**
 * The executor's invariants, checked over hundreds of seeded random jobs on the virtual clock: random
 * shapes, retries, timeouts, failure policies, priorities, concurrency, and cancellations of tasks and
 * whole runs at random moments. Each seed is reproducible: a failure message names it.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Job, start, type TaskContext, type TaskStatus } from "../src/index.ts";
import { seededRandom, virtualRuntime } from "../src/testing/index.ts";

interface Spec {
  id: string;
  deps: string[];
  satisfy: boolean;
}

/** `leak`: one body sets a timer nobody clears, to show the leak check is not vacuous. */
async function checkSeed(seed: number, { leak = false } = {}): Promise<Record<string, number>> {
  const rand = seededRandom(seed);
  const pick = (n: number) => Math.floor(rand() * n);
  const size = 1 + pick(30);
  const concurrency = 1 + pick(5);
  const runtime = virtualRuntime({ seed });
  const specs: Spec[] = [];
  const job = new Job<Record<string, unknown>>(`random-${seed}`);
  const status = new Map<string, TaskStatus>();
  // Attempts holding a slot: abandoned ones (ignored their signal past the grace period) give it up.
  const holding = new Set<string>();
  let peak = 0;
  const starts: string[] = [];
  // The test's own timers (cancellations, hung bodies): cleared once the run settled, so what is
  // pending after that is what the run left behind.
  const own: unknown[] = [];

  for (let i = 0; i < size; i++) {
    const id = `t${i}`;
    const deps = i === 0 ? [] : [...new Set(Array.from({ length: pick(3) }, () => `t${pick(i)}`))];
    const satisfy = rand() < 0.2;
    const failUntil = rand() < 0.3 ? 1 + pick(3) : 0; // fails its first attempts
    const hangs = rand() < 0.1; // ignores its signal on attempt 1
    const work = pick(50);
    const timeoutMs = rand() < 0.3 ? 10 + pick(60) : undefined;
    specs.push({ id, deps, satisfy });
    job.task(
      id,
      {
        dependsOn: deps,
        retries: pick(3),
        backoff: { initialMs: pick(20), jitter: rand() < 0.5 ? 0 : 0.5 },
        timeoutMs,
        onFailure: satisfy ? "satisfy" : "block",
        priority: pick(3),
      },
      async (ctx: TaskContext) => {
        const key = `${id}#${ctx.attempt}`;
        holding.add(key);
        peak = Math.max(peak, holding.size);
        try {
          if (hangs && ctx.attempt === 1) await new Promise<void>((resolve) => own.push(runtime.setTimer(500, resolve)));
          else await ctx.sleep(work);
          if (leak && i === 0) runtime.setTimer(1_000, () => {});
          if (ctx.attempt <= failUntil) throw new Error(`${id} attempt ${ctx.attempt}`);
          return id;
        } finally {
          holding.delete(key);
        }
      },
    );
  }

  const handle = start(job, { runtime, concurrency, cancelGraceMs: 100 });
  handle.on("task:start", (e) => {
    starts.push(e.taskId);
    const spec = specs[Number(e.taskId.slice(1))]!;
    for (const dep of spec.deps) {
      const s = status.get(dep);
      const depSpec = specs[Number(dep.slice(1))]!;
      assert.ok(s === "succeeded" || (s === "failed" && depSpec.satisfy), `seed ${seed}: ${e.taskId} started while ${dep} was ${s ?? "unfinished"}`);
    }
  });
  handle.on("task:abandoned", (e) => holding.delete(`${e.taskId}#${e.attempt}`));
  for (const name of ["task:succeeded", "task:failed", "task:cancelled", "task:skipped"] as const) {
    handle.on(name, (e) => {
      assert.ok(!status.has(e.taskId), `seed ${seed}: ${e.taskId} reached a second terminal state (${name})`);
      status.set(e.taskId, name.slice(5) as TaskStatus);
    });
  }
  // Cancellations at random moments of the virtual clock.
  const cancelAt = rand() < 0.3 ? pick(200) : -1;
  if (cancelAt >= 0) own.push(runtime.setTimer(cancelAt, () => handle.cancel("random cancel")));
  const cancelTaskAt = rand() < 0.4 ? pick(150) : -1;
  const victim = `t${pick(size)}`;
  if (cancelTaskAt >= 0) own.push(runtime.setTimer(cancelTaskAt, () => void handle.cancelTask(victim)));

  const result = await handle.result;
  // Checked at once: the virtual clock runs every pending timer as soon as the program is idle, so
  // after any wait (runtime.idle() above all) a timer the run left behind has fired and is gone.
  for (const timer of own) runtime.clearTimer(timer);
  const leftBehind = runtime.pendingTimers;
  assert.equal(result.tasks.size, size);
  for (const spec of specs) {
    const task = result.tasks.get(spec.id)!;
    assert.equal(task.status, status.get(spec.id), `seed ${seed}: ${spec.id} event and result agree`);
    if (task.status === "succeeded") assert.equal(task.output, spec.id);
    if (task.status === "skipped") {
      assert.ok(
        spec.deps.some((d) => {
          const s = result.tasks.get(d)!.status;
          return s !== "succeeded" && !(s === "failed" && specs[Number(d.slice(1))]!.satisfy);
        }),
        `seed ${seed}: ${spec.id} skipped without cause`,
      );
    }
  }
  assert.ok(peak <= concurrency, `seed ${seed}: ${peak} attempts held slots at once, concurrency ${concurrency}`);
  const expected = result.counts.failed > 0 ? "failed" : result.counts.cancelled > 0 ? "cancelled" : "succeeded";
  if (cancelAt < 0 || result.status !== "cancelled") assert.equal(result.status, expected, `seed ${seed}: job status`);
  assert.equal(leftBehind, 0, `seed ${seed}: timers left behind`);
  return { ...result.counts, [`job ${result.status}`]: 1 };
}

describe("random jobs on the virtual clock", () => {
  it("hold every invariant over 300 seeds", async () => {
    const seen: Record<string, number> = {};
    for (let seed = 1; seed <= 300; seed++) {
      for (const [key, n] of Object.entries(await checkSeed(seed))) seen[key] = (seen[key] ?? 0) + n;
    }
    // The seeds really exercise every outcome, so the invariants above were tested on each.
    for (const key of ["succeeded", "failed", "cancelled", "skipped", "job succeeded", "job failed", "job cancelled"]) {
      assert.ok((seen[key] ?? 0) >= 10, `only ${seen[key] ?? 0} × ${key} in 300 seeds`);
    }
  });

  it("notice a timer the run left behind (the check is not vacuous)", async () => {
    for (const seed of [1, 2, 3]) await assert.rejects(checkSeed(seed, { leak: true }), new RegExp(`seed ${seed}: timers left behind`));
  });

  it("run identically from the same seed", async () => {
    const trace = async (seed: number) => {
      const runtime = virtualRuntime({ seed });
      const rand = seededRandom(seed);
      const job = new Job<Record<string, unknown>>("same");
      for (let i = 0; i < 20; i++) {
        job.task(
          `t${i}`,
          { dependsOn: i === 0 ? [] : [`t${Math.floor(rand() * i)}`], retries: 1, backoff: { initialMs: 5, jitter: 1 } },
          async ({ sleep, attempt }) => {
            await sleep(Math.floor(rand() * 30));
            if (attempt === 1 && rand() < 0.3) throw new Error("flaky");
          },
        );
      }
      const handle = start(job, { runtime, concurrency: 3 });
      const events: string[] = [];
      for await (const e of handle) events.push(`${e.at} ${e.type} ${"taskId" in e ? e.taskId : ""}`);
      return events.join("\n");
    };
    assert.equal(await trace(5), await trace(5));
    assert.notEqual(await trace(5), await trace(6));
  });
});
