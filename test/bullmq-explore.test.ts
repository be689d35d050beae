/**
 * The bullmq() coordinator (adapters/bullmq/coordinator) under explore(), on a model of the queue
 * (bullmq-model.ts) instead of Redis: a job of ten command() and workerTask() tasks (a diamond, a chain,
 * a pair) on two or three model agents, with delays on every operation, results heard twice or never,
 * jobs run twice, finished jobs evicted, an agent dying, a Redis outage (perhaps coming back empty),
 * and cancels of a task or of the run at random moments. Checked each schedule: every task ends, every
 * output is the one an uninterrupted run gives, every resolved attempt was answered by the model for
 * its own job, a job id is never reused, a lost agent's attempts are requeued without spending a retry,
 * cancelled tasks end cancelled with their jobs withdrawn or cancelled, and the transport is closed.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { remoteProvider } from "../adapters/bullmq/provider.ts";
import { resolveOptions } from "../adapters/bullmq/options.ts";
import { command } from "../adapters/child-process/spec.ts";
import { workerTask } from "../adapters/worker-threads/spec.ts";
import { type ComputeProvider, Job, type TimerHandle, start } from "../src/index.ts";
import { readEnv } from "../src/testing/env.ts";
import { type ExploreContext, ScheduleFailure, explore, replay } from "../src/testing/index.ts";
import { QueueModel, drawFaults, outputOf } from "./bullmq-model.ts";
import { scheduleFailureOf } from "./helpers.ts";

const ITERATIONS = Number(readEnv("FLOTILLA_BULLMQ_ITERATIONS") ?? 400);
const MODULES = "file:///agents/tasks/";

/** id, body kind, dependencies, input (for workerTask bodies). */
const TASKS: ReadonlyArray<readonly [string, "command" | "worker-thread", readonly string[], number?]> = [
  ["a", "command", []],
  ["b", "worker-thread", ["a"], 2],
  ["c", "command", ["a"]],
  ["d", "worker-thread", ["b", "c"], 4],
  ["e", "command", ["d"]],
  ["f", "worker-thread", ["e"], 6],
  ["g", "command", ["f"]],
  ["h", "worker-thread", [], 8],
  ["i", "command", ["h"]],
  ["j", "worker-thread", ["g", "i"], 10],
];

/** What an uninterrupted run gives. */
const EXPECTED: Record<string, unknown> = {};
for (const [id, kind, deps, input] of TASKS) EXPECTED[id] = outputOf(kind, id, input, Object.fromEntries(deps.map((d) => [d, EXPECTED[d]])));

function buildJob() {
  const job = new Job<Record<string, unknown>>("remote");
  for (const [id, kind, dependsOn, input] of TASKS) {
    const body = kind === "command" ? command(["make", id]) : workerTask(new URL(`${MODULES}steps/build.js`), "build", input);
    job.task(id, { dependsOn: [...dependsOn], retries: 0 }, body);
  }
  return job;
}

/** An attempt as the run asked for it: when its signal aborted (before it settled), when it settled, its output; cancelled: it rejected with its signal's reason. */
type AttemptSeen = { abortedAt?: number; settledAt?: number; value?: unknown; cancelled?: boolean };

/** Runs the job once on model agents, with faults drawn from the schedule, and checks what must always hold. */
async function schedule(t: ExploreContext) {
  const { runtime } = t;
  const random = () => t.random();
  const concurrencies = Array.from({ length: 2 + Math.floor(random() * 2) }, () => 1 + Math.floor(random() * 2));
  const model = new QueueModel(runtime, random, concurrencies, drawFaults(random));
  t.invariant("nothing impossible reached the model", () => assert.deepEqual(model.violations, []));
  const options = resolveOptions({
    connection: "redis://model.invalid:6379",
    queue: "model",
    modules: MODULES,
    heartbeatMs: 50,
    lostAfterMs: 200,
    cancelAnswerMs: 1000,
  });
  const hub = remoteProvider(options, (listener) => model.attach(listener));
  const attempts = new Map<string, AttemptSeen>();
  const settled = (seen: AttemptSeen) => (seen.settledAt = runtime.now());
  const provider: ComputeProvider<any> = {
    ...hub,
    run(node, body, ctx) {
      const key = `${ctx.taskId}#${ctx.attempt}`;
      assert.ok(!attempts.has(key), `attempt ${key} run twice`);
      const seen: AttemptSeen = {};
      attempts.set(key, seen);
      ctx.signal.addEventListener("abort", () => void (seen.settledAt === undefined && (seen.abortedAt = runtime.now())));
      const ran = (error: unknown) => ((seen.cancelled = ctx.signal.aborted && error === ctx.signal.reason), settled(seen), Promise.reject(error));
      return Promise.resolve(hub.run(node, body, ctx)).then((value: unknown) => (settled(seen), (seen.value = value)), ran);
    },
  };
  // At the moment the hub calls: it never sends a job of an attempt cancelled in flight, nor looks up one settled long before
  // (a reconcile may still be on a batch it began earlier, its turns waiting for Redis).
  const seenOf = (jobId: string, data?: { taskId: string; attempt: number }) =>
    attempts.get(data ? `${data.taskId}#${data.attempt}` : (model.owners.get(jobId) ?? ""));
  const [send, states] = [model.send.bind(model), model.states.bind(model)];
  model.send = (agentId, jobs) => {
    for (const { jobId, data } of jobs)
      if (seenOf(jobId, data)?.abortedAt !== undefined && seenOf(jobId, data)?.settledAt === undefined)
        model.violations.push(`job ${jobId} sent after its attempt was cancelled`);
    return send(agentId, jobs);
  };
  model.states = (agentId, jobIds) => {
    for (const jobId of jobIds)
      if (runtime.now() - (seenOf(jobId)?.settledAt ?? Infinity) > 500) model.violations.push(`job ${jobId} looked up long after its attempt settled`);
    return states(agentId, jobIds);
  };

  const handle = start(buildJob(), { runtime, provider, maxNodeLosses: 20, cancelGraceMs: runtime.random() < 0.5 ? 0 : 2000 });
  const requeued = new Map<string, number>();
  handle.on("task:requeued", (e) => void requeued.set(e.taskId, (requeued.get(e.taskId) ?? 0) + 1));
  // Model agents heartbeat while alive, and Redis is never away for redisTimeoutMs: only a dead agent is ever lost.
  handle.on("node:lost", (e) => {
    if (model.agentList.find((a) => a.info.id === e.nodeId)?.alive) model.violations.push(`agent ${e.nodeId} lost while alive: ${String(e.error)}`);
  });
  const timers: TimerHandle[] = [];
  const at = (ms: number, what: () => void) => timers.push(runtime.setTimer(Math.floor(random() * ms), what, "test fault"));
  if (random() < 0.35) at(400, () => model.kill(`agent${Math.floor(random() * concurrencies.length)}`));
  if (random() < 0.35) at(400, () => model.outage(20 + Math.floor(random() * 300), random() < 0.5));
  const cancelledTasks = new Set<string>();
  const victim = TASKS[Math.floor(random() * TASKS.length)]![0];
  if (random() < 0.25) at(400, () => void (handle.cancelTask(victim, "cancelled by the test") && cancelledTasks.add(victim)));
  let runCancelled = false;
  if (random() < 0.1) at(600, () => ((runCancelled = true), handle.cancel("run cancelled by the test")));
  const result = await handle.result;
  for (const timer of timers) runtime.clearTimer(timer);
  await model.drained();

  for (const [id, task] of result.tasks) {
    if (task.status === "succeeded") {
      assert.deepEqual(task.output, EXPECTED[id], `output of ${id}`);
      // retries: 0, so every attempt after the first is a free requeue after a lost agent.
      assert.equal(task.attempts, 1 + (requeued.get(id) ?? 0), `${id}: ${task.attempts} attempts, ${requeued.get(id) ?? 0} requeued`);
    } else if (cancelledTasks.has(id) || runCancelled) assert.ok(task.status === "cancelled" || task.status === "skipped", `${id} ended ${task.status}`);
    else assert.ok(cancelledTasks.size > 0 && task.status === "skipped", `${id} ended ${task.status}: ${String(task.error)}`);
  }
  for (const id of cancelledTasks) assert.equal(result.tasks.get(id)?.status, "cancelled", `${id} was cancelled`);
  for (const [key, seen] of attempts) {
    const jobs = model.jobs.filter((j) => `${j.data.taskId}#${j.data.attempt}` === key);
    const { abortedAt, settledAt } = seen;
    assert.ok(settledAt !== undefined, `attempt ${key} never settled (still in flight in the hub)`);
    if ("value" in seen) {
      assert.deepEqual(seen.value, EXPECTED[key.split("#")[0]!], `attempt ${key}'s output`);
      assert.ok(
        jobs.some((j) => j.result !== undefined),
        `attempt ${key} resolved, but the model never finished a job of it`,
      );
      assert.ok(!(abortedAt! < settledAt), `attempt ${key} was cancelled in flight, yet resolved`);
    }
    if (!seen.cancelled || abortedAt === undefined) continue;
    // Cancelled in flight: each of its jobs that had not ended (nor vanished) by then was withdrawn or cancelled, and a withdrawn one ended it at once.
    for (const j of jobs) {
      const over = (j.endedAt !== undefined && j.endedAt <= abortedAt) || j.state === "vanished";
      assert.ok(
        over || model.cancelsAsked.has(j.id),
        `attempt ${key} was cancelled but job ${j.id} (${j.state} on ${j.agentId}) was never withdrawn nor cancelled`,
      );
      if (j.state === "withdrawn")
        assert.ok(settledAt - abortedAt < options.cancelAnswerMs, `attempt ${key}: withdrawn, yet ended ${settledAt - abortedAt} ms after its cancel`);
    }
  }
  assert.ok(model.transports >= 1 && !model.isOpen, `the hub made ${model.transports} transports and closed ${model.closes}`);
  return { model, requeued, cancelledAttempts: [...attempts.values()].filter((a) => a.cancelled).length };
}

describe("bullmq() coordinator on a model of the queue, explored", () => {
  test(`${ITERATIONS} schedules of a ten-task job with delays, duplicates, lost results, a dying agent, Redis outages and cancels`, async () => {
    const total: Record<string, number> = {};
    let requeues = 0;
    let cancelled = 0;
    const report = await explore(
      async (t) => {
        const seen = await schedule(t);
        for (const [k, n] of Object.entries(seen.model.count)) total[k] = (total[k] ?? 0) + n;
        for (const n of seen.requeued.values()) requeues += n;
        cancelled += seen.cancelledAttempts;
      },
      { iterations: ITERATIONS, seed: 12, maxSteps: 20_000 },
    );
    assert.equal(report.iterations, ITERATIONS);
    if (readEnv("MODEL_DEBUG")) console.log(JSON.stringify({ total, requeues, cancelled, steps: report.steps, ms: report.durationMs }));
    // Every fault happened in some schedule, so the checks above were tested against each.
    for (const k of Object.keys(total)) assert.ok(total[k]! > 0, `no schedule saw ${k}: ${JSON.stringify(total)}`);
    assert.ok(requeues > 0 && cancelled > 0, `requeues ${requeues}, attempts cancelled in flight ${cancelled}`);
  });

  test("a failing schedule replays identically", async () => {
    // A claim that is false when an agent dies under an attempt: explore() finds such a schedule, and replay() repeats it step for step.
    const body = async (t: ExploreContext) => {
      const seen = await schedule(t);
      assert.equal([...seen.requeued.values()].length, 0, "no attempt was requeued");
    };
    const failure = await scheduleFailureOf(explore(body, { iterations: 200, seed: 3, maxSteps: 20_000 }));
    assert.match((failure.cause as Error).message, /no attempt was requeued/);
    for (const from of [failure, JSON.stringify(failure.trace)]) {
      const again = await replay(body, from, { maxSteps: 20_000 }).catch((e: unknown) => e);
      assert.ok(again instanceof ScheduleFailure);
      assert.equal(again.step, failure.step);
      assert.deepEqual(again.trace.labels, failure.trace.labels);
      assert.equal((again.cause as Error).message, (failure.cause as Error).message);
    }
  });
});

describe("bullmq() coordinator: Redis away for longer than redisTimeoutMs, explored", () => {
  // Once found by this test: a heartbeat waiting on Redis when it went away kept later heartbeats from
  // checking how long Redis had been down, and the hub never gave up.
  test("the hub gives up its attempts (E_REDIS_UNAVAILABLE) and the run goes on", {}, async () => {
    await explore(
      async (t) => {
        const model = new QueueModel(t.runtime, () => t.random(), [1, 1], { lostEvent: 0, duplicateEvent: 0, duplicateRun: 0, evict: 0 });
        const options = resolveOptions({ connection: "redis://model:1", queue: "model", heartbeatMs: 50, lostAfterMs: 200, redisTimeoutMs: 300 });
        const job = new Job<Record<string, unknown>>("chain");
        ["a", "b", "c", "d", "e"].forEach((id, i, ids) => job.task(id, { dependsOn: ids.slice(Math.max(0, i - 1), i) }, command([id])));
        const handle = start(job, { runtime: t.runtime, provider: remoteProvider(options, (l) => model.attach(l)), maxNodeLosses: 20 });
        let lost = 0;
        handle.on("node:lost", () => void lost++);
        const outage = t.runtime.setTimer(100 + Math.floor(t.random() * 60), () => model.outage(2000, false), "test outage");
        const result = await handle.result;
        t.runtime.clearTimer(outage);
        await model.drained();
        assert.equal(result.status, "succeeded", String(result.error));
        if (model.count.outages > 0) assert.ok(lost > 0, "Redis was away for 2000 ms (redisTimeoutMs 300), and the hub never gave up");
      },
      { iterations: 200, seed: 1, maxSteps: 50_000 },
    );
  });
});
