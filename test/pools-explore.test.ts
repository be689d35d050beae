/**
 * Campaigns on the simulated cloud: random jobs on pools of cloud VMs (start failures, quota,
 * throttling, API errors, preemptions, scale-downs, cancellations, runs sharing a pool), each
 * schedule checked for what must always hold: every task ends exactly once, no attempt's body goes on
 * after its task ended, nodes never exceed their bounds, every VM made is deleted by the end (after a
 * cancel too), and cost is accounted.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cloudVm } from "../adapters/cloud-vm/index.ts";
import { Job, type RunEvent, type RunResult, type TaskContext, pool, start } from "../src/index.ts";
import { type ExploreContext, explore, simulatedCloud } from "../src/testing/index.ts";
import { readEnv } from "../src/testing/env.ts";

const ITERATIONS = Number(readEnv("FLOTILLA_POOL_ITERATIONS") ?? 1000);
const TERMINAL = new Set(["task:succeeded", "task:failed", "task:cancelled", "task:skipped"]);

/** A random job of 4 to 12 tasks: dependencies on earlier tasks, 1 or 2 slots, a few retries. */
function randomJob(t: ExploreContext, name: string, bodyEnded: (id: string, aborted: boolean) => void) {
  const live = new Map<string, Set<TaskContext<any>>>();
  const job = new Job<Record<string, unknown>>(name);
  const count = 4 + Math.floor(t.random() * 9);
  for (let i = 0; i < count; i++) {
    const dependsOn = i > 0 && t.random() < 0.5 ? [`${name}${Math.floor(t.random() * i)}`] : [];
    const ms = 1 + Math.floor(t.random() * 200);
    const fails = t.random() < 0.15;
    job.task(
      `${name}${i}`,
      { pool: "render", dependsOn, slots: t.random() < 0.3 ? 2 : 1, retries: Math.floor(t.random() * 3), backoff: { initialMs: 5 } },
      async (ctx) => {
        // Two attempts of a task never run at once: an earlier one still running was aborted (its node lost, preempted or let go).
        const others = live.get(ctx.taskId) ?? new Set();
        for (const other of others)
          if (!other.signal.aborted) throw new Error(`task "${ctx.taskId}": attempts ${other.attempt} and ${ctx.attempt} run at once`);
        live.set(ctx.taskId, others.add(ctx));
        try {
          await ctx.sleep(ms);
        } catch (error) {
          bodyEnded(ctx.taskId, true);
          throw error;
        } finally {
          others.delete(ctx);
        }
        bodyEnded(ctx.taskId, false);
        if (fails && ctx.attempt === 1) throw new Error(`${ctx.taskId} failed once`);
        return ctx.attempt;
      },
    );
  }
  return job;
}

async function campaign(t: ExploreContext): Promise<void> {
  const runtime = t.runtime;
  const maxNodes = 1 + Math.floor(t.random() * 3);
  const maxLow = Math.floor(t.random() * 4);
  const cloud = simulatedCloud({
    runtime,
    apiLatencyMs: { min: 1, max: 5 },
    startLatencyMs: { min: 5, max: 120 },
    deleteLatencyMs: { min: 1, max: 20 },
    startFailureRate: 0.1,
    apiErrorRate: 0.05,
    throttleRate: 0.05,
    throttleRetryAfterMs: 10,
    quota: { dedicated: maxNodes, lowPriority: Math.max(1, maxLow - 1) },
    preemptionsPerHour: 36_000, // one every 100 ms of a low-priority VM's life, on average
    costPerNodeHour: { dedicated: 1, lowPriority: 0.2 },
  });
  const custom = t.random() < 0.3;
  const render = pool(cloudVm({ driver: cloud, maxNodes: 10, retryDelayMs: 5, maxRetryDelayMs: 50 }), {
    runtime,
    maxNodes,
    lowPriority: { maxNodes: maxLow },
    slotsPerNode: 2,
    idleTimeoutMs: 30,
    evaluateIntervalMs: 25,
    startTimeoutMs: t.random() < 0.3 ? 60 : Infinity,
    onScaleDown: t.random() < 0.5 ? "requeue" : "wait",
    placement: t.random() < 0.5 ? "pack" : "spread",
    costPerNodeHour: { dedicated: 1, lowPriority: 0.2 },
    // A policy that changes its mind every half second (scale-downs of busy nodes, starts in flight
    // aborted), and wants nothing once there is no work.
    autoscale: custom
      ? (m) => {
          const work = m.ready.tasks + m.running.tasks > 0;
          const high = Math.floor(m.now / 500) % 2 === 0;
          return { dedicated: work ? (high ? maxNodes : Math.min(1, maxNodes)) : 0, lowPriority: work && (high || maxNodes === 0) ? maxLow : 0 };
        }
      : undefined,
  });
  t.invariant("nodes never exceed their bounds", () => {
    const held = cloud.vms();
    const dedicated = held.filter((vm) => vm.priority === "dedicated" && vm.state !== "deleting").length;
    const low = held.filter((vm) => vm.priority === "lowPriority" && vm.state !== "deleting").length;
    return dedicated <= maxNodes && low <= maxLow;
  });
  t.invariant("no slot is over-committed, and no attempt runs on a VM that is not running", () =>
    cloud.vms().every((vm) => vm.attempts <= 2 && (vm.attempts === 0 || vm.state === "running")),
  );

  const ended = new Map<string, number>();
  const runs: Promise<RunResult<any>>[] = [];
  const handles = [];
  const cancels: unknown[] = [];
  const shared = t.random() < 0.4;
  for (const name of shared ? ["a", "b"] : ["a"]) {
    const job = randomJob(t, name, (id, aborted) => {
      // A body that finished normally after its task ended ran past its task's end.
      if (!aborted && ended.has(id)) throw new Error(`task "${id}": an attempt's body went on after its task ended`);
    });
    const controller = new AbortController();
    if (t.random() < 0.25) cancels.push(runtime.setTimer(Math.floor(t.random() * 400), () => controller.abort(new Error("cancelled by the test"))));
    const handle = start(job, { pools: { render }, runtime, signal: controller.signal, priority: name === "a" ? 1 : 0, cancelGraceMs: 50 });
    for (const type of TERMINAL) {
      handle.on(type as "task:succeeded", (e: RunEvent) => {
        const id = (e as { taskId: string }).taskId;
        ended.set(id, (ended.get(id) ?? 0) + 1);
      });
    }
    handles.push(handle);
    runs.push(handle.result);
  }
  const results = await Promise.all(runs);
  for (const timer of cancels) runtime.clearTimer(timer);
  for (const result of results) {
    for (const [id, task] of result.tasks) {
      assert.ok(["succeeded", "failed", "cancelled", "skipped"].includes(task.status), `${id} ended ${task.status}`);
      assert.equal(ended.get(id), 1, `task "${id}" ended ${ended.get(id) ?? 0} times`);
    }
    const stats = result.pools.render!;
    // Cost is node-hours at the rates: between all-low-priority and all-dedicated.
    assert.ok(stats.cost <= (stats.nodeSeconds / 3600) * 1 + 1e-9 && stats.cost >= (stats.nodeSeconds / 3600) * 0.2 - 1e-9, JSON.stringify(stats));
  }
  await render.close();
  assert.deepEqual(cloud.vms(), [], "every VM made was deleted");
  const whole = render.stats();
  assert.ok(whole.peakNodes <= maxNodes + maxLow, `peak ${whole.peakNodes}`);
  // The pool counts each node from its start request to the end of its stop, which holds the cloud's
  // billing of that VM (from its accepted create until it was gone).
  const ledger = cloud.ledger();
  assert.ok(whole.nodeSeconds + 1e-9 >= ledger.nodeSeconds, `pool ${whole.nodeSeconds} node-seconds, cloud ${ledger.nodeSeconds}`);
  assert.ok(whole.cost <= (whole.nodeSeconds / 3600) * 1 + 1e-9 && whole.cost >= (whole.nodeSeconds / 3600) * 0.2 - 1e-9);
}

describe("pools on the simulated cloud, explored", () => {
  test(`${ITERATIONS} schedules of random jobs with start failures, quota, throttling, preemptions, scale-downs and cancels`, async () => {
    const report = await explore(campaign, { iterations: ITERATIONS, seed: 11, maxSteps: 50_000 });
    assert.equal(report.iterations, ITERATIONS);
  });
});
