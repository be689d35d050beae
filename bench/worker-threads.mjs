// Worker-thread throughput and latency: flotilla's workerThreads() (from dist/) beside piscina@5,
// tinypool@2 and a bare postMessage round trip, in one process, on the same tiny task.
//   npm run build && node bench/worker-threads.mjs [--tasks 100000] [--rounds 5] [--latency 2000]
//     [--threads 2] [--per-thread N] [--only flotilla,piscina,piscina-matched,tinypool,bare]
// This file is also the task module: in a worker thread it only exports `tiny` (and `echo`).
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

/** The tiny task: returns its input. */
export function tiny(x) {
  return x;
}
/** piscina and tinypool call the default export unless told a name. */
export default tiny;

if (!isMainThread && workerData === "echo") parentPort.on("message", (m) => parentPort.postMessage(m));

if (isMainThread) await main();

async function main() {
  const os = await import("node:os");
  const { execSync } = await import("node:child_process");
  const { Job, run } = await import("../dist/index.js");
  const { workerThreads, workerTask } = await import("../dist/worker-threads.js");
  const { Piscina } = await import("piscina");
  const { Tinypool } = await import("tinypool");

  const args = process.argv.slice(2);
  const flag = (name, fallback) => {
    const i = args.indexOf(`--${name}`);
    return i === -1 ? fallback : args[i + 1];
  };
  const N = Number(flag("tasks", "100000"));
  const ROUNDS = Number(flag("rounds", "5"));
  const LAT = Number(flag("latency", "2000"));
  const THREADS = Number(flag("threads", "2"));
  const perThreadFlag = flag("per-thread", undefined);
  const only = flag("only", "flotilla,piscina,piscina-matched,tinypool,bare").split(",");
  const self = new URL(import.meta.url);
  const filename = self.href;

  // Figure out flotilla's default tasksPerThread from a provider's first node (no public getter needed).
  const probe = workerThreads({ threads: 1 });
  const probeNode = probe.startNode({ lost() {} });
  const PER_THREAD = Number(perThreadFlag ?? probeNode.slots);
  await probe.stopNode(probeNode);
  const provider = () => workerThreads({ threads: THREADS, ...(perThreadFlag ? { tasksPerThread: PER_THREAD } : {}) });

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rows = [];
  const results = {};
  const note = (lib, what, value) => ((results[lib] ??= {})[what] = value);

  const tinyJob = (n) => {
    const job = new Job("tiny");
    for (let i = 0; i < n; i++) job.task(`t${i}`, workerTask(self, "tiny", i));
    return job;
  };
  const chainJob = (n) => {
    const job = new Job("chain");
    job.task("t0", workerTask(self, "tiny", 0));
    for (let i = 1; i < n; i++) job.task(`t${i}`, { dependsOn: [`t${i - 1}`] }, workerTask(self, "tiny", i));
    return job;
  };

  // --- throughput ------------------------------------------------------------------------------
  if (only.includes("flotilla")) {
    const job = tinyJob(N);
    const times = [];
    for (let r = 0; r < ROUNDS + 1; r++) {
      const t0 = performance.now();
      const result = await run(job, { provider: provider() });
      const ms = performance.now() - t0;
      if (result.status !== "succeeded" || result.counts.succeeded !== N) throw new Error(`flotilla run ${result.status}: ${result.error}`);
      if (r > 0) times.push(ms); // round 0 warms up the main thread's JIT
    }
    note("flotilla", "throughput", N / (median(times) / 1000));
    // Build cost of the job itself, outside the timed region above.
    const t0 = performance.now();
    tinyJob(N);
    note("flotilla", "build", (performance.now() - t0) / N * 1000);
  }

  async function poolThroughput(lib, pool, runOne) {
    await Promise.all(Array.from({ length: THREADS * 4 }, (_, i) => runOne(pool, i))); // threads up and warm
    const times = [];
    for (let r = 0; r < ROUNDS + 1; r++) {
      const t0 = performance.now();
      const promises = new Array(N);
      for (let i = 0; i < N; i++) promises[i] = runOne(pool, i);
      const out = await Promise.all(promises);
      const ms = performance.now() - t0;
      if (out[N - 1] !== N - 1) throw new Error(`${lib}: wrong output`);
      if (r > 0) times.push(ms);
    }
    note(lib, "throughput", N / (median(times) / 1000));
  }

  const piscina = (perWorker) => new Piscina({ filename, minThreads: THREADS, maxThreads: THREADS, concurrentTasksPerWorker: perWorker, idleTimeout: 60_000 });
  const tinypool = () => new Tinypool({ filename, minThreads: THREADS, maxThreads: THREADS, idleTimeout: 60_000 });
  const piscinaRun = (pool, i) => pool.run(i);
  const tinypoolRun = (pool, i) => pool.run(i);

  for (const [lib, make, runOne] of [
    ["piscina", () => piscina(1), piscinaRun],
    ["piscina-matched", () => piscina(PER_THREAD), piscinaRun],
    ["tinypool", tinypool, tinypoolRun],
  ]) {
    if (!only.includes(lib)) continue;
    const pool = make();
    await poolThroughput(lib, pool, runOne);
    // Single-task latency, warm pool: one task at a time.
    const times = [];
    for (let i = 0; i < LAT; i++) {
      const t0 = performance.now();
      await runOne(pool, i);
      times.push(performance.now() - t0);
    }
    note(lib, "latency", median(times) * 1000);
    await pool.destroy();
    // Cold: a new pool, one task, destroyed (what a one-task flotilla run pays for its thread).
    const cold = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      const p = make();
      await runOne(p, 1);
      await p.destroy();
      cold.push(performance.now() - t0);
    }
    note(lib, "cold", median(cold));
  }

  // --- latency: flotilla -------------------------------------------------------------------------
  if (only.includes("flotilla")) {
    // Warm: a chain of LAT tasks, each waiting for the one before, in one run (threads stay up):
    // per task = dispatch, the round trip to the thread, completion, releasing the next task.
    const job = chainJob(LAT);
    const times = [];
    for (let r = 0; r < 4; r++) {
      const t0 = performance.now();
      const result = await run(job, { provider: provider() });
      if (result.status !== "succeeded") throw new Error(`flotilla chain ${result.status}`);
      if (r > 0) times.push((performance.now() - t0) / LAT);
    }
    note("flotilla", "latency", median(times) * 1000);
    // Cold: a one-task run, which starts and stops its thread.
    const one = tinyJob(1);
    const cold = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      await run(one, { provider: provider() });
      cold.push(performance.now() - t0);
    }
    note("flotilla", "cold", median(cold));
  }

  // --- bare postMessage ------------------------------------------------------------------------
  if (only.includes("bare")) {
    const worker = new Worker(self, { workerData: "echo" });
    const roundTrip = (i) =>
      new Promise((resolve) => {
        worker.once("message", resolve);
        worker.postMessage(i);
      });
    for (let i = 0; i < 1000; i++) await roundTrip(i);
    const t0 = performance.now();
    for (let i = 0; i < LAT * 5; i++) await roundTrip(i);
    const us = ((performance.now() - t0) / (LAT * 5)) * 1000;
    note("bare", "latency", us);
    note("bare", "throughput", 1e6 / us);
    await worker.terminate();
  }

  // --- report ----------------------------------------------------------------------------------
  const label = {
    flotilla: `flotilla workerThreads (${THREADS} threads, tasksPerThread ${PER_THREAD})`,
    piscina: `piscina@5 (${THREADS} threads, concurrentTasksPerWorker 1)`,
    "piscina-matched": `piscina@5 (${THREADS} threads, concurrentTasksPerWorker ${PER_THREAD})`,
    tinypool: `tinypool@2 (${THREADS} threads)`,
    bare: "bare postMessage round trip (1 thread, sequential)",
  };
  const base = results.piscina?.throughput;
  const fmt = (x, digits = 0) => (x === undefined ? "—" : x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }));
  rows.push("| runner | tiny tasks/s | vs piscina | warm latency per task (µs) | cold one-task (ms) |");
  rows.push("| --- | ---: | ---: | ---: | ---: |");
  for (const lib of ["flotilla", "piscina", "piscina-matched", "tinypool", "bare"]) {
    const r = results[lib];
    if (r === undefined) continue;
    rows.push(`| ${label[lib]} | ${fmt(r.throughput)} | ${base && r.throughput && lib !== "bare" ? `${(r.throughput / base).toFixed(2)}x` : "—"} | ${fmt(r.latency, 1)} | ${fmt(r.cold, 1)} |`);
  }
  let head = "";
  try {
    head = execSync("git rev-parse --short HEAD", { encoding: "utf8" }).trim();
  } catch {}
  console.log(`${N.toLocaleString("en-US")} tiny tasks, median of ${ROUNDS} rounds; latency: median of ${LAT} (flotilla: chain of ${LAT}, median of 3 runs)`);
  console.log(`${os.cpus().length} cpus ${os.cpus()[0]?.model ?? ""}, Node ${process.version}, git ${head}${results.flotilla?.build ? `; building the flotilla job: ${results.flotilla.build.toFixed(2)} µs per task (not timed above)` : ""}`);
  console.log(rows.join("\n"));
}
