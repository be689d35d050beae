// Raw BullMQ on a loopback Redis: the peer figure issue 12's goal (flotilla within 1.2x) is measured against.
//
//   node bench/bullmq-raw.mjs [--jobs 5000] [--concurrency 8] [--rounds 3] [--trips 200] [--keep]
//
// It starts its own redis-server (test/redis-server.ts, loaded through tsx: Debian's package, free
// loopback port, nothing saved) and measures:
//   throughput  addBulk of --jobs jobs into a fresh queue, processed by 1 and by 2 workers of
//               --concurrency each; jobs/s from just before addBulk to the last worker "completed"
//               event. Each worker runs in its own worker thread (its own event loop and connections,
//               like separate agent processes); the workers are ready (connected, waiting) before the
//               clock starts. Jobs are removed on completion (kept with --keep). Median over --rounds.
//   round trip  one worker (concurrency 1, in a worker thread); this thread adds one job and awaits
//               job.waitUntilFinished(queueEvents); median and p90 of --trips sequential trips after 20
//               warm-up trips. Completed jobs are kept here: waitUntilFinished reports a job that is
//               already gone as failed, so removeOnComplete would race it.
// The processor returns a small value ({ i }). Every connection has maxRetriesPerRequest: null.
//
// bench/bullmq.mjs imports throughputRound, roundTrips, median and percentile from here (main() runs only
// when this file is the command), and adds two processors for its breakdown: "import" (the same call of
// a worker module's export in the worker's own thread) and "hop" (that call through flotilla's
// workerThreads provider, as an agent makes it: one postMessage round trip to a thread of its own).
import { realpathSync } from "node:fs";
import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { Queue, QueueEvents, Worker } from "bullmq";
import { count, has } from "./args.mjs";
import { completionReporter, startReportingThreads } from "./reporting-threads.mjs";

/** In a worker thread: one BullMQ worker; says it is ready once connected, reports its completions; closes on "close". */
async function workerThread() {
  const { queueName, port, concurrency, processor = "value", threads, taskMs = 0 } = workerData;
  const { process: processJob, stop } = await makeProcessor(processor, concurrency, threads, taskMs);
  const worker = new Worker(queueName, processJob, {
    connection: { host: "127.0.0.1", port, maxRetriesPerRequest: null },
    concurrency,
  });
  worker.on("completed", completionReporter(parentPort));
  worker.on("error", (error) => parentPort.postMessage(`error ${error.message}`));
  parentPort.on("message", async (message) => {
    if (message !== "close") return;
    await worker.close();
    await stop();
    parentPort.postMessage("closed");
    parentPort.close();
  });
  await worker.waitUntilReady();
  parentPort.postMessage({ ready: true });
}

/** The worker module bench/bullmq.mjs runs: `add(input, { deps })` returns input.value plus the deps' outputs. */
export const TASKS = new URL("../test/fixtures/bullmq-remote/tasks.mjs", import.meta.url);

/**
 * A job's processor: "value" returns { i } (this file's own figures; after `taskMs` when given); "import" calls TASKS' `add` in this
 * thread; "hop" runs that call through flotilla's workerThreads provider (dist/, `npm run build`) on
 * `threads` threads of `concurrency / threads` tasks each, as an agent does.
 */
async function makeProcessor(kind, concurrency, threads = 1, taskMs = 0) {
  if (kind === "value" && taskMs > 0) {
    // --task-ms (bench/bullmq.mjs): the job waits that long, as test/fixtures/bullmq-remote/tasks.mjs `sleep` does.
    return { process: (job) => new Promise((resolve) => setTimeout(() => resolve({ i: job.data.i }), taskMs)), stop: async () => {} };
  }
  if (kind === "value") return { process: async (job) => ({ i: job.data.i }), stop: async () => {} };
  if (kind === "import") {
    const { add } = await import(TASKS.href);
    return { process: async (job) => add({ value: job.data.i }, { deps: {} }), stop: async () => {} };
  }
  if (kind !== "hop") throw new Error(`unknown processor ${JSON.stringify(kind)}`);
  const { workerThreads } = await import(new URL("../dist/worker-threads.js", import.meta.url).href);
  const provider = workerThreads({ threads, tasksPerThread: Math.ceil(concurrency / threads) });
  const nodes = await Promise.all(Array.from({ length: threads }, () => provider.startNode({ lost() {}, preempted() {} })));
  const never = new AbortController().signal;
  let next = 0;
  const ctx = (job, node) => ({
    taskId: `t${job.data.i}`,
    attempt: 1,
    signal: never,
    deps: {},
    failures: {},
    node,
    onAbort: () => () => {},
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    log: () => {},
  });
  return {
    process: (job) => {
      const node = nodes[next++ % nodes.length];
      return provider.run(node, { kind: "worker-thread", module: TASKS.href, export: "add", input: { value: job.data.i } }, ctx(job, node));
    },
    stop: () => Promise.all(nodes.map((node) => provider.stopNode(node))),
  };
}

/** Starts `workers` worker threads on `queueName`; resolves with their stop() once all are ready. */
async function startWorkers(queueName, port, workers, concurrency, onCompleted, processor = "value", threads = 1, taskMs = 0) {
  const workerDataOf = () => ({ bench: "bullmq-raw", queueName, port, concurrency, processor, threads, taskMs });
  const { stop } = await startReportingThreads(new URL(import.meta.url), workers, workerDataOf, onCompleted);
  return stop;
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
export const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
};

let queueCounter = 0;
const freshQueueName = () => `bench-${process.pid}-${++queueCounter}`;

/**
 * One round: `jobs` jobs added in one addBulk, processed by `workers` worker threads (each job taking
 * `taskMs` when given); jobs/s. With
 * `results`, the round ends when this thread has read every job's result from a QueueEvents "completed"
 * event (as a producer that needs the results does), not when the workers report their completions.
 */
export async function throughputRound(port, connection, jobs, workers, concurrency, processor = "value", threads = 1, results = false, taskMs = 0) {
  const queueName = freshQueueName();
  const queue = new Queue(queueName, { connection, defaultJobOptions: { removeOnComplete: !has("keep"), removeOnFail: !has("keep") } });
  let completed = 0;
  let resolveAll;
  const all = new Promise((resolve) => {
    resolveAll = resolve;
  });
  const counted = (n) => {
    completed += n;
    if (completed === jobs) resolveAll(performance.now());
  };
  const stopWorkers = await startWorkers(queueName, port, workers, concurrency, results ? () => {} : counted, processor, threads, taskMs);
  const queueEvents = results ? new QueueEvents(queueName, { connection }) : undefined;
  queueEvents?.on("completed", ({ returnvalue }) => {
    if (returnvalue?.i === undefined) throw new Error(`raw+results: unexpected result ${JSON.stringify(returnvalue)}`);
    counted(1);
  });
  await Promise.all([queue.waitUntilReady(), queueEvents?.waitUntilReady()]);
  const batch = Array.from({ length: jobs }, (_, i) => ({ name: "job", data: { i } }));
  const started = performance.now();
  await queue.addBulk(batch);
  const ended = await all;
  await stopWorkers();
  await queue.obliterate({ force: true });
  await Promise.all([queueEvents?.close(), queue.close()]);
  return jobs / ((ended - started) / 1000);
}

/** `trips` sequential one-job round trips (after 20 warm-up ones) on one worker of concurrency 1: { median, p90, times } in ms. */
export async function roundTrips(port, connection, trips, processor = "value") {
  const queueName = freshQueueName();
  const queue = new Queue(queueName, { connection });
  const queueEvents = new QueueEvents(queueName, { connection });
  const stopWorkers = await startWorkers(queueName, port, 1, 1, () => {}, processor, 1);
  await Promise.all([queue.waitUntilReady(), queueEvents.waitUntilReady()]);
  const times = [];
  const warmUp = 20;
  for (let t = 0; t < warmUp + trips; t++) {
    const started = performance.now();
    const job = await queue.add("trip", { i: t });
    const result = await job.waitUntilFinished(queueEvents);
    const took = performance.now() - started;
    if ((processor === "value" ? result?.i : result) !== t) throw new Error(`round trip ${t}: unexpected result ${JSON.stringify(result)}`);
    if (t >= warmUp) times.push(took);
  }
  await stopWorkers();
  await queue.obliterate({ force: true });
  await Promise.all([queueEvents.close(), queue.close()]);
  return { median: median(times), p90: percentile(times, 0.9), times };
}

async function main() {
  const jobs = count("jobs", 5000);
  const concurrency = count("concurrency", 8);
  const rounds = count("rounds", 3);
  const trips = count("trips", 200);
  const { tsImport } = await import("tsx/esm/api");
  const { startRedisServer } = await tsImport("../test/redis-server.ts", import.meta.url);
  const redis = await startRedisServer();
  const connection = { host: "127.0.0.1", port: redis.port, maxRetriesPerRequest: null };
  try {
    const rows = [];
    for (const workers of [1, 2]) {
      const rates = [];
      for (let r = 0; r < rounds; r++) rates.push(await throughputRound(redis.port, connection, jobs, workers, concurrency));
      rows.push({ workers, rates });
    }
    const trip = await roundTrips(redis.port, connection, trips);

    console.log(
      `\nRaw BullMQ ${(await import("bullmq/package.json", { with: { type: "json" } })).default.version}, redis-server on 127.0.0.1:${redis.port}, Node ${process.version}, ${availableParallelism()} cores`,
    );
    console.log(`${jobs} jobs per round, concurrency ${concurrency} per worker, median of ${rounds} rounds; ${trips} sequential round trips\n`);
    console.log("| case | median | all rounds |");
    console.log("|---|---:|---|");
    for (const { workers, rates } of rows) {
      console.log(
        `| throughput, ${workers} worker${workers > 1 ? "s" : ""} x concurrency ${concurrency} | ${Math.round(median(rates))} jobs/s | ${rates.map((rate) => Math.round(rate)).join(", ")} |`,
      );
    }
    console.log(`| one-job round trip (add -> waitUntilFinished) | ${trip.median.toFixed(2)} ms | p90 ${trip.p90.toFixed(2)} ms |`);
  } finally {
    await redis.stop();
  }
}

// Last, so that every const above is initialised when main() runs. main() only when this file is the
// command (not when bench/bullmq.mjs imports it); a worker thread only when it is one of ours.
const isCommand = process.argv[1] !== undefined && pathToFileURL(realpathSync(process.argv[1])).href === import.meta.url;
if (isMainThread && isCommand) await main();
else if (!isMainThread && workerData?.bench === "bullmq-raw") await workerThread();
