// flotilla/bullmq beside raw BullMQ, in the same run, on one loopback redis-server (issue 12's goal:
// flotilla within 1.2x of raw BullMQ on throughput and latency).
//
//   npm run -s build && node bench/bullmq.mjs [--tasks 5000] [--concurrency 8] [--rounds 3] [--trips 200]
//                                             [--threads 1] [--only throughput|trip] [--cases raw,agent,flotilla,...]
//                                             [--commands yes] [--agents 1,2] [--task-ms 0] [--dist-b DIR]
//
// Every worker and every agent runs in a worker thread of its own (own event loop and connections, like
// a separate process); they are started and ready before the clock starts, and stopped after, every
// round. The agent runs worker modules on its local workerThreads({ threads: --threads, tasksPerThread:
// concurrency / threads }) provider: a second thread hop the raw worker does not make. The work is
// test/fixtures/bullmq-remote/tasks.mjs `add({ value: i }, { deps: {} })`, which returns i.
//
// Throughput (--tasks per round, 1 and 2 workers/agents of --concurrency each), tasks/s:
//   raw         BullMQ Worker, processor returns { i } (bullmq-raw.mjs's own figure), addBulk of all jobs
//   raw+results the same, the round ends when this thread has read every result from QueueEvents
//               "completed" events (as a producer that needs the results does)
//   raw+import  the same, the processor calls `add` of the worker module (imported once) in its thread
//   raw+hop     the same, the call goes through flotilla's workerThreads provider (the agent's thread hop)
//   agent       a flotilla agent fed straight from a BullMQ Queue (addBulk of the attempts, as the
//               coordinator encodes them) — the agent alone, no coordinator; counted on "attempt:end"
//   flotilla    run(job) of --tasks independent workerTask(tasks.mjs, "add") tasks, pool bullmq({ maxNodes })
//               on the agents: coordinator + agents, from start(job) to its result (taking the agents as
//               nodes included: the job is built before the clock); bullmq's default prefetch (16, the
//               most: each agent's queue is sized to ~25 ms of its work)
//   +inThread   (agent+inThread, flotilla+inThread) the agents run modules in their own thread (inThread()):
//               no thread hop
//   +prefetchN  (flotilla+prefetchN, flotilla+inThread+prefetchN) bullmq({ prefetch: N }) (1: no attempt
//               waits in an agent's queue)
// --dist-b DIR: another build's dist/ (a copy of this one's, or another checkout's, inside this repository so
// its imports resolve); any agent or flotilla case ending "@b" runs on it (coordinator and agents), interleaved
// with the others: two builds compared in one run, since this machine's speed drifts 2x between runs.
// --agents 1,2,4: the worker/agent counts of the throughput rounds (scaling is read against the first);
// --task-ms N: each throughput task waits N ms (tasks.mjs `sleep`; raw's processor likewise), so the agents,
// not the 2 cores, bound throughput: the scaling of the coordinator and Redis with agents shows.
// Beside each throughput figure: CPU µs per task, this process (every thread) + redis-server (its INFO),
// setup included (starting the threads of the round and their imports: ~10-20% of a row at 5,000 tasks);
// --commands yes prints the Redis commands per task of each round (INFO commandstats).
// Round trip (one at a time, one worker/agent of concurrency 1), ms:
//   raw / raw+hop / agent   queue.add + job.waitUntilFinished(queueEvents), 20 warm-up trips then --trips
//   flotilla    a chain of 20 + --trips tasks, each depending on the previous: each task's time is from
//               its predecessor's task:succeeded to its own (dispatch, send, run, result, scheduling)
// Cold = the first round of a case in this process; warm = median of the later rounds.
import { availableParallelism, cpus } from "node:os";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { count, flag } from "./args.mjs";
import { completionReporter, startReportingThreads } from "./reporting-threads.mjs";
import { TASKS, median, percentile, roundTrips, throughputRound } from "./bullmq-raw.mjs";

const DIST = new URL("../dist/", import.meta.url);
/** --dist-b DIR: a second build (another checkout's dist/); cases ending "@b" run on it, coordinator and agents. */
const DIST_B = flag("dist-b", undefined) === undefined ? undefined : new URL(`${flag("dist-b")}/`.replace(/\/+$/, "/"), `file://${process.cwd()}/`);
const MODULES = new URL("./", TASKS);
const MODULE_PATH = TASKS.href.slice(MODULES.href.length); // "tasks.mjs", as the coordinator sends it

// ---- an agent, in a worker thread of this file ------------------------------------------------------

async function agentThread() {
  const { url, queue, name, concurrency, threads, inThread: here, report, dist } = workerData;
  const { startAgent } = await import(new URL("bullmq.js", dist).href);
  const completed = completionReporter(parentPort);
  const { inThread, workerThreads } = await import(new URL("worker-threads.js", dist).href);
  const agent = await startAgent({
    connection: url,
    queue,
    name,
    modules: MODULES,
    concurrency,
    providers: [here ? inThread() : workerThreads({ threads, tasksPerThread: Math.ceil(concurrency / threads) })],
    onEvent: (event) => {
      if (event.type === "attempt:end" && report) {
        if (event.outcome === "ok") completed();
        else parentPort.postMessage(`error attempt ${event.outcome} ${event.detail}`);
      } else if (event.type === "error") parentPort.postMessage(`error ${event.error?.message ?? event.error}`);
    },
  });
  parentPort.on("message", async (message) => {
    if (message !== "close") return;
    await agent.close();
    parentPort.postMessage("closed");
    parentPort.close();
  });
  parentPort.postMessage({ ready: agent.info.queue });
}

/** Starts `agents` agent threads on `queue`, modules on `threads` threads or `inThread`; resolves with their BullMQ queue names and a stop(). */
async function startAgents(url, queue, agents, concurrency, { threads, inThread = false, dist = DIST }, onCompleted) {
  const report = onCompleted !== undefined;
  const workerDataOf = (a) => ({ bench: "bullmq-agent", url, queue, name: `a${a}`, concurrency, threads, inThread, report, dist: dist.href });
  const { values, stop } = await startReportingThreads(new URL(import.meta.url), agents, workerDataOf, onCompleted);
  return { queues: values, stop };
}

// ---- the cases -----------------------------------------------------------------------------------

let counter = 0;
const freshQueue = () => `fl-${process.pid}-${++counter}`;

/** --task-ms: each throughput task waits this long (tasks.mjs `sleep`; raw's processor likewise), 0: none (`add`). */
const TASK_MS = Number(flag("task-ms", "0"));
if (!(TASK_MS >= 0 && Number.isFinite(TASK_MS)))
  throw new Error(`--task-ms must be a number of milliseconds >= 0, received ${JSON.stringify(flag("task-ms"))}`);
/** The worker module export and input of throughput task `i`. */
const work = (i) => (TASK_MS > 0 ? { export: "sleep", input: { value: i, ms: TASK_MS } } : { export: "add", input: { value: i } });

/** The job data of attempt `i` as the coordinator sends it (wire.ts's AttemptData). */
const attemptData = (i) => ({
  v: 1,
  key: `bench-${counter}-${i}`,
  taskId: `t${i}`,
  attempt: 1,
  body: { kind: "worker-thread", path: MODULE_PATH, export: work(i).export },
  payload: JSON.stringify({ input: work(i).input, deps: {}, failures: {} }),
});

/** The agent alone: attempts added straight to the agents' queues (split evenly), counted as they end. */
async function agentThroughput(env, tasks, agents, concurrency, variant) {
  let completed = 0;
  let resolveAll;
  let rejectAll;
  const all = new Promise((resolve, reject) => {
    resolveAll = resolve;
    rejectAll = reject;
  });
  const started = await startAgents(env.url, freshQueue(), agents, concurrency, variant, (n) => {
    completed += n;
    if (completed === tasks) resolveAll(performance.now());
  }).catch((error) => {
    rejectAll(error);
    throw error;
  });
  const queues = started.queues.map((name) => new Queue(name, { connection: env.connection }));
  await Promise.all(queues.map((q) => q.waitUntilReady()));
  const batches = queues.map(() => []);
  for (let i = 0; i < tasks; i++)
    batches[i % queues.length].push({ name: `t${i}`, data: attemptData(i), opts: { jobId: `j${i}`, attempts: 1, removeOnComplete: true, removeOnFail: true } });
  const t0 = performance.now();
  await Promise.all(queues.map((q, n) => q.addBulk(batches[n])));
  const ended = await all;
  await started.stop();
  await Promise.all(queues.map((q) => q.close()));
  await env.flush();
  return tasks / ((ended - t0) / 1000);
}

/** The agent alone, one attempt at a time: queue.add + waitUntilFinished on the agent's queue. */
async function agentTrips(env, trips, variant) {
  const started = await startAgents(env.url, freshQueue(), 1, 1, variant);
  const queue = new Queue(started.queues[0], { connection: env.connection });
  const events = new QueueEvents(started.queues[0], { connection: env.connection });
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  const times = [];
  for (let t = 0; t < 20 + trips; t++) {
    const t0 = performance.now();
    const job = await queue.add(`t${t}`, attemptData(t), { jobId: `j${t}`, attempts: 1 });
    const result = await job.waitUntilFinished(events);
    const took = performance.now() - t0;
    if (result?.t !== "ok" || result.json !== String(t)) throw new Error(`agent trip ${t}: ${JSON.stringify(result)}`);
    if (t >= 20) times.push(took);
  }
  await started.stop();
  await Promise.all([events.close(), queue.close()]);
  await env.flush();
  return { median: median(times), p90: percentile(times, 0.9), times };
}

/** flotilla: a job of `tasks` independent module tasks on `agents` agents; tasks/s from start to result. */
async function flotillaThroughput(env, tasks, agents, concurrency, variant) {
  const { flotilla, bullmq, workerTask } = variant.lib;
  const { Job, run } = flotilla;
  const queue = freshQueue();
  const prefetch = variant.prefetch;
  const started = await startAgents(env.url, queue, agents, concurrency, variant);
  const job = new Job("throughput");
  for (let i = 0; i < tasks; i++) job.task(`t${i}`, workerTask(TASKS, work(i).export, work(i).input));
  const provider = bullmq({ connection: env.url, queue, modules: MODULES, maxNodes: agents, prefetch });
  try {
    const t0 = performance.now();
    const result = await run(job, { pools: { default: provider } });
    const t1 = performance.now();
    if (result.status !== "succeeded") throw new Error(`flotilla throughput: ${result.status} ${result.error?.message ?? result.error}`);
    if (result.tasks.get(`t${tasks - 1}`).output !== tasks - 1) throw new Error("flotilla throughput: wrong output");
    return tasks / ((t1 - t0) / 1000);
  } finally {
    await started.stop();
    await env.flush();
  }
}

/** flotilla, one task at a time: a chain; each task's latency from its predecessor's end to its own. */
async function flotillaTrips(env, trips, variant) {
  const { flotilla, bullmq, workerTask } = variant.lib;
  const { Job, start } = flotilla;
  const queue = freshQueue();
  const started = await startAgents(env.url, queue, 1, 1, variant);
  const n = 20 + trips;
  const job = new Job("chain");
  for (let i = 0; i < n; i++) job.task(`t${i}`, i === 0 ? {} : { dependsOn: [`t${i - 1}`] }, workerTask(TASKS, "add", { value: 1 }));
  const provider = bullmq({ connection: env.url, queue, modules: MODULES, maxNodes: 1 });
  const ends = [];
  const t0 = performance.now();
  const handle = start(job, { pools: { default: provider } });
  handle.on("task:succeeded", () => ends.push(performance.now()));
  let t1;
  try {
    const result = await handle.result;
    t1 = performance.now();
    if (result.status !== "succeeded") throw new Error(`flotilla chain: ${result.status} ${result.error?.message ?? result.error}`);
    if (result.tasks.get(`t${n - 1}`).output !== n) throw new Error("flotilla chain: wrong output");
  } finally {
    await started.stop();
    await env.flush();
  }
  const times = ends.slice(20).map((end, k) => end - ends[19 + k]);
  return { median: median(times), p90: percentile(times, 0.9), times, makespan: t1 - t0, perTask: (t1 - t0) / n };
}

// ---- main ----------------------------------------------------------------------------------------

/** A round that failed (a run whose status is not "succeeded") is reported and counted as NaN; the bench goes on. */
async function failedAsNaN(name, round) {
  try {
    return await round();
  } catch (error) {
    console.error(`${name}: round FAILED: ${error.message}`);
    return Number.NaN;
  }
}

/** CPU time used so far, µs: this process (every thread) and redis-server (its INFO). */
async function cpuNow(admin) {
  const { user, system } = process.cpuUsage();
  const info = await admin.info("cpu");
  const field = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN) * 1e6;
  return { node: user + system, redis: field("used_cpu_user") + field("used_cpu_sys") };
}

/** Redis commands run since the last RESETSTAT, per task, most frequent first ("evalsha 3.0, xread 0.5"). */
async function commandsPerTask(admin, tasks) {
  const info = await admin.info("commandstats");
  const rows = [...info.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)].map(([, name, calls]) => [name, Number(calls) / tasks]);
  const total = rows.reduce((sum, [, n]) => sum + n, 0);
  return `${total.toFixed(1)} (${rows
    .sort((a, b) => b[1] - a[1])
    .filter(([, n]) => n >= 0.05)
    .map(([name, n]) => `${name} ${n.toFixed(2)}`)
    .join(", ")})`;
}

const TP_CASES = ["raw", "raw+results", "raw+import", "raw+hop", "agent", "agent+inThread", "flotilla", "flotilla+inThread", "flotilla+prefetch1"];
const TRIP_CASES = ["raw", "raw+hop", "agent", "flotilla", "flotilla+inThread"];
const fmt = (n) => (Number.isNaN(n) ? "failed" : Math.round(n).toLocaleString("en-US"));
const ms = (n) => (Number.isNaN(n) ? "failed" : n.toFixed(2));

async function main() {
  const tasks = count("tasks", 5000);
  const concurrency = count("concurrency", 8);
  const rounds = count("rounds", 3);
  const trips = count("trips", 200);
  const threads = count("threads", 1);
  const only = flag("only", "all");
  const showCommands = flag("commands", "no") !== "no";
  const agentCounts = flag("agents", "1,2")
    .split(",")
    .map((text) => {
      const n = Number(text);
      if (!(Number.isInteger(n) && n >= 1)) throw new Error(`--agents must list whole numbers >= 1, received ${JSON.stringify(text)}`);
      return n;
    });
  const { tsImport } = await import("tsx/esm/api");
  const { startRedisServer } = await tsImport("../test/redis-server.ts", import.meta.url);
  const redis = await startRedisServer();
  const connection = { host: "127.0.0.1", port: redis.port, maxRetriesPerRequest: null };
  const admin = new Redis(connection);
  const libOf = async (dist) => {
    const [flotilla, { bullmq }, { workerTask }] = await Promise.all(["index.js", "bullmq.js", "worker-threads.js"].map((f) => import(new URL(f, dist).href)));
    return { flotilla, bullmq, workerTask };
  };
  const libs = { a: await libOf(DIST), b: DIST_B === undefined ? undefined : await libOf(DIST_B) };
  const env = { url: redis.url, connection, threads, flush: () => admin.flushall() };
  const tp = new Map(); // case -> rates by round
  const trip = new Map(); // case -> { median, p90 } by round
  const cpu = new Map(); // case -> { node, redis } CPU µs per task by round (setup and teardown included)
  const push = (map, key, value) => map.set(key, [...(map.get(key) ?? []), value]);
  const cases = [...new Set(flag("cases", [...TP_CASES, ...TRIP_CASES].join(",")).split(","))];
  if (TASK_MS > 0) {
    const unfit = cases.filter((c) => c === "raw+import" || c === "raw+hop");
    if (unfit.length > 0) throw new Error(`--task-ms: ${unfit.join(", ")} call add, not sleep; leave them out of --cases`);
  }
  // agent and flotilla cases: "+inThread" runs the agents' modules in their own thread (inThread()),
  // "+prefetchN" gives the coordinator's bullmq() pool prefetch N (flotilla+inThread+prefetch16, ...),
  // "@b" runs the case on the --dist-b build.
  if (cases.some((c) => c.endsWith("@b")) && DIST_B === undefined) throw new Error("cases ending @b need --dist-b DIR (another build's dist/)");
  const variantOf = (c) => ({
    threads,
    dist: c.endsWith("@b") ? DIST_B : DIST,
    lib: c.endsWith("@b") ? libs.b : libs.a,
    inThread: c.includes("+inThread"),
    prefetch: /\+prefetch(\d+)/.test(c) ? Number(/\+prefetch(\d+)/.exec(c)[1]) : undefined,
  });
  const throughput = {
    raw: (n) => throughputRound(redis.port, connection, tasks, n, concurrency, "value", 1, false, TASK_MS),
    "raw+results": (n) => throughputRound(redis.port, connection, tasks, n, concurrency, "value", 1, true, TASK_MS),
    "raw+import": (n) => throughputRound(redis.port, connection, tasks, n, concurrency, "import"),
    "raw+hop": (n) => throughputRound(redis.port, connection, tasks, n, concurrency, "hop", threads),
  };
  const trips_ = {
    raw: () => roundTrips(redis.port, connection, trips, "value"),
    "raw+hop": () => roundTrips(redis.port, connection, trips, "hop"),
  };
  for (const c of cases) {
    if (/^agent(\+inThread)?(@b)?$/.test(c)) {
      throughput[c] = (n) => agentThroughput(env, tasks, n, concurrency, variantOf(c));
      trips_[c] = () => agentTrips(env, trips, variantOf(c));
    } else if (/^flotilla(\+inThread)?(\+prefetch\d+)?(@b)?$/.test(c)) {
      throughput[c] = (n) => flotillaThroughput(env, tasks, n, concurrency, variantOf(c));
      if (!c.includes("+prefetch")) trips_[c] = () => flotillaTrips(env, trips, variantOf(c));
    } else if (!(c in throughput))
      throw new Error(
        `unknown case ${JSON.stringify(c)}; known: ${[...TP_CASES, ...TRIP_CASES].join(", ")}, agent+inThread, flotilla+inThread+prefetchN, any agent/flotilla case + "@b" (with --dist-b)`,
      );
  }
  try {
    for (let r = 0; r < rounds; r++) {
      // Interleaved, so drift (other load on the machine) falls on every case alike.
      if (only !== "trip") {
        for (const n of agentCounts) {
          for (const c of cases.filter((k) => k in throughput)) {
            if (showCommands) await admin.config("RESETSTAT");
            const before = await cpuNow(admin);
            push(tp, `${c} ${n}`, await failedAsNaN(c, () => throughput[c](n)));
            const after = await cpuNow(admin);
            if (showCommands) console.error(`  ${c} ${n}: Redis commands per task: ${await commandsPerTask(admin, tasks)}`);
            push(cpu, `${c} ${n}`, { node: (after.node - before.node) / tasks, redis: (after.redis - before.redis) / tasks });
          }
          console.error(
            `round ${r + 1}, ${n} worker(s)/agent(s), tasks/s: ${[...tp]
              .filter(([k]) => k.endsWith(` ${n}`))
              .map(([k, v]) => `${k.split(" ")[0]} ${fmt(v[r])}`)
              .join(", ")}`,
          );
        }
      }
      if (only !== "throughput") {
        for (const c of cases.filter((k) => k in trips_)) {
          const t = await failedAsNaN(c, () => trips_[c]());
          push(trip, c, typeof t === "number" ? { median: t, p90: t, times: [], perTask: t } : t);
        }
        const f = trip.get("flotilla")?.[r];
        console.error(
          `round ${r + 1}, trips (median ms): ${[...trip].map(([k, v]) => `${k} ${ms(v[r].median)}`).join(", ")}${f ? `; flotilla chain makespan/task ${ms(f.perTask)}` : ""}`,
        );
      }
    }
  } finally {
    await admin.quit();
    await redis.stop();
  }

  const bullmqVersion = (await import("bullmq/package.json", { with: { type: "json" } })).default.version;
  console.log(
    `\nflotilla/bullmq beside raw BullMQ ${bullmqVersion}, one redis-server on 127.0.0.1, Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model.trim()})`,
  );
  console.log(
    `${tasks} tasks per throughput round, concurrency ${concurrency} per worker/agent, agent module threads ${threads} x ${Math.ceil(concurrency / threads)}; ${rounds} rounds; ${trips} trips\n`,
  );
  // Failed rounds (NaN) are left out of the medians; "all rounds" shows them.
  const ok = (values) => values.filter((v) => !Number.isNaN(v));
  const mid = (values) => {
    const sorted = ok(values).sort((a, b) => a - b);
    const h = sorted.length / 2;
    return sorted.length === 0 ? Number.NaN : sorted.length % 2 ? sorted[Math.floor(h)] : (sorted[h - 1] + sorted[h]) / 2;
  };
  const warm = (values) => (values.length > 1 ? mid(values.slice(1)) : values[0]);
  if (tp.size > 0) {
    console.log(
      "| throughput (tasks/s) | cold (round 1) | warm (median of later rounds) | all rounds | this ÷ flotilla, warm (goal ≤ 1.2) | CPU µs per task, warm: node + redis-server |",
    );
    console.log("|---|---:|---:|---|---:|---:|");
    for (const n of agentCounts) {
      const fl = tp.has(`flotilla ${n}`) ? warm(tp.get(`flotilla ${n}`)) : Number.NaN;
      for (const c of cases.filter((k) => tp.has(`${k} ${n}`))) {
        const rates = tp.get(`${c} ${n}`);
        const ratio = c === "flotilla" || Number.isNaN(fl) ? "" : `${(warm(rates) / fl).toFixed(2)}`;
        const used = cpu.get(`${c} ${n}`) ?? [];
        const usedWarm = (side) => Math.round(warm(used.map((u) => u[side])));
        console.log(
          `| ${c}, ${n} ${c.startsWith("agent") || c.startsWith("flotilla") ? "agent" : "worker"}${n > 1 ? "s" : ""} | ${fmt(rates[0])} | ${fmt(warm(rates))} | ${rates.map(fmt).join(", ")} | ${ratio} | ${usedWarm("node")} + ${usedWarm("redis")} |`,
        );
      }
    }
    // The goal's ratio for every other flotilla case.
    for (const c of cases.filter((k) => k.startsWith("flotilla+"))) {
      for (const n of agentCounts.filter((k) => tp.has(`${c} ${k}`) && tp.has(`raw ${k}`))) {
        console.log(`| raw ÷ ${c}, ${n} agent${n > 1 ? "s" : ""} (goal ≤ 1.2) | | ${(warm(tp.get(`raw ${n}`)) / warm(tp.get(`${c} ${n}`))).toFixed(2)} | | |`);
      }
    }
    // Scaling: n workers/agents against the first count given (1 by default).
    const [base, ...more] = agentCounts;
    for (const c of cases.filter((k) => tp.has(`${k} ${base}`) && (k === "raw" || k.startsWith("flotilla")))) {
      for (const n of more.filter((k) => tp.has(`${c} ${k}`))) {
        console.log(
          `| ${c}: ${n} / ${base} ${c === "raw" ? "workers" : "agents"} | | ${(warm(tp.get(`${c} ${n}`)) / warm(tp.get(`${c} ${base}`))).toFixed(2)}x | | |`,
        );
      }
    }
  }
  if (trip.size > 0) {
    console.log("\n| round trip (ms) | cold median | cold p90 | warm median | warm p90 | flotilla ÷ this, warm (median, p90; goal ≤ 1.2) |");
    console.log("|---|---:|---:|---:|---:|---:|");
    const pooled = (c) => {
      const later = trip.get(c).slice(trip.get(c).length > 1 ? 1 : 0);
      const times = later.flatMap((x) => x.times);
      return { median: median(times), p90: percentile(times, 0.9) };
    };
    const fl = trip.has("flotilla") ? pooled("flotilla") : { median: Number.NaN, p90: Number.NaN };
    for (const c of cases.filter((k) => trip.has(k))) {
      const cold = trip.get(c)[0];
      const w = pooled(c);
      const ratio = c === "flotilla" || Number.isNaN(fl.median) ? "" : `${(fl.median / w.median).toFixed(2)}x, ${(fl.p90 / w.p90).toFixed(2)}x`;
      console.log(`| ${c} | ${ms(cold.median)} | ${ms(cold.p90)} | ${ms(w.median)} | ${ms(w.p90)} | ${ratio} |`);
    }
    const f = trip.get("flotilla") ?? [];
    if (f.length > 0)
      console.log(`| flotilla chain: makespan / tasks | ${ms(f[0].perTask)} | | ${ms(median(f.slice(f.length > 1 ? 1 : 0).map((x) => x.perTask)))} | | |`);
  }
}

// Last, so that every const above is initialised. A worker thread of this file is an agent.
if (isMainThread) await main();
else if (workerData?.bench === "bullmq-agent") await agentThread();
