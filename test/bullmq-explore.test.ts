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
import { type ComputeProvider, Job, type RunResult, type TimerHandle, start } from "../src/index.ts";
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

/** One attempt as the run asked for it: when its signal aborted (if before it settled), when it settled, its output. */
interface AttemptSeen {
  abortedAt?: number;
  settledAt?: number;
  value?: unknown;
  /** It rejected with its signal's reason: it ended because it was cancelled. */
  cancelled?: boolean;
}

/** What one schedule saw, for the checks and for the counts the test reports. */
interface Seen {
  readonly model: QueueModel;
  readonly result: RunResult<Record<string, unknown>>;
  readonly requeued: Map<string, number>;
  readonly cancelledTasks: Set<string>;
  readonly runCancelled: boolean;
  /** Attempts that ended because they were cancelled in flight. */
  readonly cancelledAttempts: number;
}

/** Runs the job once on model agents with faults drawn from the schedule, and checks what must always hold. */
async function schedule(t: ExploreContext): Promise<Seen> {
  const runtime = t.runtime;
  const random = () => t.random();
  const concurrencies = Array.from({ length: 2 + Math.floor(random() * 2) }, () => 1 + Math.floor(random() * 2));
  const model = new QueueModel(runtime, random, concurrencies, drawFaults(random));
  t.invariant(
    "the model saw nothing impossible (a job id reused, a closed transport used)",
    () => model.violations.length === 0 || model.violations.join("; "),
  );
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
  const send = model.send.bind(model);
  model.send = (agentId, jobs) => {
    for (const { jobId, data } of jobs) {
      const seen = attempts.get(`${data.taskId}#${data.attempt}`);
      if (seen?.abortedAt !== undefined && seen.settledAt === undefined) model.violations.push(`job ${jobId} sent after its attempt was cancelled`);
    }
    return send(agentId, jobs);
  };
  // The hub forgets a settled attempt: it may still be looking up a batch it began before (a reconcile's
  // turns wait for Redis), but never a job whose attempt settled long before.
  const states = model.states.bind(model);
  model.states = (agentId, jobIds) => {
    for (const jobId of jobIds) {
      const owner = model.owners.get(jobId);
      const settledAt = owner === undefined ? undefined : attempts.get(owner)?.settledAt;
      if (settledAt !== undefined && runtime.now() - settledAt > 500)
        model.violations.push(`job ${jobId} looked up ${runtime.now() - settledAt} ms after its attempt settled`);
    }
    return states(agentId, jobIds);
  };
  const provider: ComputeProvider<any> = {
    ...hub,
    run(node, body, ctx) {
      const key = `${ctx.taskId}#${ctx.attempt}`;
      assert.ok(!attempts.has(key), `attempt ${key} run twice`);
      const seen: AttemptSeen = {};
      attempts.set(key, seen);
      ctx.signal.addEventListener("abort", () => void (seen.settledAt === undefined && (seen.abortedAt = runtime.now())));
      return Promise.resolve(hub.run(node, body, ctx)).then(
        (value: unknown) => {
          seen.settledAt = runtime.now();
          seen.value = value;
          return value;
        },
        (error: unknown) => {
          seen.settledAt = runtime.now();
          seen.cancelled = ctx.signal.aborted && error === ctx.signal.reason;
          throw error;
        },
      );
    },
  };

  const handle = start(buildJob(), { runtime, provider, maxNodeLosses: 20, cancelGraceMs: 2000 });
  const requeued = new Map<string, number>();
  handle.on("task:requeued", (e) => void requeued.set(e.taskId, (requeued.get(e.taskId) ?? 0) + 1));
  // Model agents heartbeat while alive, and Redis is never away for redisTimeoutMs: only a dead agent is lost.
  handle.on("node:lost", (e) => {
    if (model.agentList.find((a) => a.info.id === e.nodeId)?.alive) model.violations.push(`agent ${e.nodeId} lost while alive: ${String(e.error)}`);
  });
  const timers: TimerHandle[] = [];
  const at = (ms: number, what: () => void) => timers.push(runtime.setTimer(Math.floor(random() * ms), what, "test fault"));
  if (random() < 0.35) at(400, () => model.kill(`agent${Math.floor(random() * concurrencies.length)}`));
  if (random() < 0.35) at(400, () => model.outage(20 + Math.floor(random() * 300), random() < 0.5));
  const cancelledTasks = new Set<string>();
  if (random() < 0.25) {
    const id = TASKS[Math.floor(random() * TASKS.length)]![0];
    at(400, () => void (handle.cancelTask(id, "cancelled by the test") && cancelledTasks.add(id)));
  }
  let runCancelled = false;
  if (random() < 0.1) at(600, () => ((runCancelled = true), handle.cancel("run cancelled by the test")));
  const result = await handle.result;
  for (const timer of timers) runtime.clearTimer(timer);
  await model.drained();

  const problems = model.violations;
  assert.deepEqual(problems, []);
  for (const [id, task] of result.tasks) {
    if (task.status === "succeeded") {
      assert.deepEqual(task.output, EXPECTED[id], `output of ${id}`);
      // retries: 0, so every attempt after the first is a requeue after a lost agent (free).
      assert.equal(task.attempts, 1 + (requeued.get(id) ?? 0), `${id}: ${task.attempts} attempts, ${requeued.get(id) ?? 0} requeued`);
    } else if (cancelledTasks.has(id) || runCancelled) assert.ok(task.status === "cancelled" || task.status === "skipped", `${id} ended ${task.status}`);
    else if (cancelledTasks.size > 0) assert.equal(task.status, "skipped", `${id} ended ${task.status}: ${String(task.error)}`);
    else assert.fail(`task ${id} ended ${task.status}: ${String(task.error)}`);
  }
  for (const id of cancelledTasks) assert.equal(result.tasks.get(id)?.status, "cancelled", `${id} was cancelled`);
  for (const [key, seen] of attempts) {
    const jobs = model.jobs.filter((j) => `${j.data.taskId}#${j.data.attempt}` === key);
    assert.ok(seen.settledAt !== undefined, `attempt ${key} never settled (still in flight in the hub)`);
    if ("value" in seen) {
      // Resolved: with the output the model computed, for a job of this very attempt that the model finished.
      assert.deepEqual(seen.value, EXPECTED[key.split("#")[0]!], `attempt ${key}'s output`);
      assert.ok(
        jobs.some((j) => j.result !== undefined),
        `attempt ${key} resolved but the model never finished a job of it`,
      );
    }
    const abortedAt = seen.abortedAt;
    assert.ok(!("value" in seen && abortedAt! < seen.settledAt!), `attempt ${key} was cancelled in flight, yet resolved`);
    if (seen.cancelled && abortedAt !== undefined) {
      // Cancelled in flight: the coordinator asked to withdraw or cancel each of its jobs that had not ended (nor vanished) by then.
      for (const j of jobs) {
        const over = (j.endedAt !== undefined && j.endedAt <= abortedAt) || j.state === "vanished";
        assert.ok(
          over || model.cancelsAsked.has(j.id),
          `attempt ${key} was cancelled but job ${j.id} (${j.state} on ${j.agentId}) was never withdrawn nor cancelled`,
        );
        if (j.state === "withdrawn")
          assert.ok(
            seen.settledAt! - abortedAt < options.cancelAnswerMs,
            `attempt ${key}: withdrawn, yet settled ${seen.settledAt! - abortedAt} ms after its cancel`,
          );
      }
    }
  }
  assert.ok(model.transports >= 1 && !model.isOpen, `the hub made ${model.transports} transports and closed ${model.closes}`);
  const cancelledAttempts = [...attempts.values()].filter((a) => a.cancelled).length;
  return { model, result, requeued, cancelledTasks, runCancelled, cancelledAttempts };
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
      const again = await replay(body, from, { maxSteps: 20_000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(again instanceof ScheduleFailure);
      assert.equal(again.step, failure.step);
      assert.deepEqual(again.trace.labels, failure.trace.labels);
      assert.equal((again.cause as Error).message, (failure.cause as Error).message);
    }
  });
});
