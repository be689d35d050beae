// Worker-thread throughput and latency: flotilla's workerThreads() (from dist/) beside piscina@5,
// tinypool@2 and a bare postMessage round trip, in one process, on the same tiny task. Runners take
// turns round by round, so a slow spell of the machine hits all of them alike; figures are medians.
//   npm run build && node bench/worker-threads.mjs [--tasks 100000] [--rounds 5] [--latency 5000]
//     [--chain 20000] [--threads 2] [--per-thread N]
// Method and figures: bench/worker-threads.md. This file is also the task module: in a worker
// thread it only exports `tiny` (or echoes messages, for the bare round trip).
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

/** The tiny task: returns its input. */
export function tiny(x) {
  return x;
}
/** piscina and tinypool call the default export. */
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
  const LAT = Number(flag("latency", "5000"));
  const CHAIN = Number(flag("chain", "20000"));
  const THREADS = Number(flag("threads", "2"));
  const perThreadFlag = flag("per-thread", undefined);
  const self = new URL(import.meta.url);
  const filename = self.href;
  const options = perThreadFlag ? { threads: THREADS, tasksPerThread: Number(perThreadFlag) } : { threads: THREADS };

  // flotilla's tasksPerThread as the provider's nodes report it (the default unless --per-thread).
  const probe = workerThreads(options);
  const probeNode = probe.startNode({ lost() {} });
  const PER_THREAD = probeNode.slots;
  await probe.stopNode(probeNode);

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const samples = {};
  const record = (lib, what, value) => (((samples[lib] ??= {})[what] ??= []).push(value));

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

  // ---- the runners -------------------------------------------------------------------------------
  const pools = {
    piscina: new Piscina({ filename, minThreads: THREADS, maxThreads: THREADS, concurrentTasksPerWorker: 1, idleTimeout: 600_000 }),
    "piscina-matched": new Piscina({ filename, minThreads: THREADS, maxThreads: THREADS, concurrentTasksPerWorker: PER_THREAD, idleTimeout: 600_000 }),
    tinypool: new Tinypool({ filename, minThreads: THREADS, maxThreads: THREADS, idleTimeout: 600_000 }),
  };
  const echo = new Worker(self, { workerData: "echo" });
  let pendingEcho;
  echo.on("message", (m) => pendingEcho(m));
  const roundTrip = (i) =>
    new Promise((resolve) => {
      pendingEcho = resolve;
      echo.postMessage(i);
    });
  // One flotilla node driven directly (no executor): the provider's own round trip. The context is
  // built like a run's: its signal is an AbortController made when read.
  const direct = workerThreads({ threads: 1 });
  const directNode = direct.startNode({ lost() {} });
  const directSpec = workerTask(self, "tiny", 1);
  const directCtx = (i) => ({ taskId: `t${i}`, attempt: 1, deps: {}, failures: {}, node: directNode, log() {}, sleep: async () => {}, onAbort: () => () => {}, get signal() { return new AbortController().signal; } });
  const directRun = (i) => direct.run(directNode, directSpec, directCtx(i));
  // The same warm node under run(), to tell the executor's share from a fresh thread's warm-up.
  const warm = { name: "warm", kinds: direct.kinds, maxNodes: 1, startNode: () => directNode, stopNode() {}, run: (node, body, ctx) => direct.run(directNode, body, ctx) };

  // Warm-up: every thread up, and as much JIT warm-up for each as the measured rounds give the others.
  for (const pool of Object.values(pools)) await Promise.all(Array.from({ length: N }, (_, i) => pool.run(i)));
  for (let i = 0; i < N; i++) await roundTrip(i);
  for (let i = 0; i < N; i++) await directRun(i);
  await run(tinyJob(1000), { provider: workerThreads(options) });

  // ---- throughput: N independent tiny tasks at once ---------------------------------------------
  const job = tinyJob(N);
  for (let r = 0; r < ROUNDS; r++) {
    let t0 = performance.now();
    const result = await run(job, { provider: workerThreads(options) }); // threads start (and stop) inside the timed run
    record("flotilla", "throughput", N / ((performance.now() - t0) / 1000));
    if (result.status !== "succeeded" || result.counts.succeeded !== N) throw new Error(`flotilla run ${result.status}: ${result.error}`);
    for (const [lib, pool] of Object.entries(pools)) {
      t0 = performance.now();
      const promises = new Array(N);
      for (let i = 0; i < N; i++) promises[i] = pool.run(i);
      const out = await Promise.all(promises);
      record(lib, "throughput", N / ((performance.now() - t0) / 1000));
      if (out[N - 1] !== N - 1) throw new Error(`${lib}: wrong output`);
    }
  }

  // ---- latency: one task at a time, warm threads ------------------------------------------------
  const sequential = async (lib, one) => {
    const t0 = performance.now();
    for (let i = 0; i < LAT; i++) await one(i);
    record(lib, "latency", ((performance.now() - t0) / LAT) * 1000);
  };
  const chainWarm = chainJob(LAT);
  const chainShort = chainJob(CHAIN / 5);
  const chainLong = chainJob(CHAIN);
  for (let r = 0; r < ROUNDS; r++) {
    await sequential("flotilla-direct", directRun);
    for (const [lib, pool] of Object.entries(pools)) await sequential(lib, (i) => pool.run(i));
    await sequential("bare", roundTrip);
    // Through run(): a chain, each task waiting for the one before. The difference of a long and a
    // short chain leaves out starting and warming up the run's thread.
    let t0 = performance.now();
    await run(chainShort, { provider: workerThreads(options) });
    const short = performance.now() - t0;
    t0 = performance.now();
    const result = await run(chainLong, { provider: workerThreads(options) });
    const long = performance.now() - t0;
    if (result.status !== "succeeded") throw new Error(`flotilla chain ${result.status}`);
    record("flotilla", "latency", ((long - short) / (CHAIN - CHAIN / 5)) * 1000);
    t0 = performance.now();
    if ((await run(chainWarm, { provider: warm })).status !== "succeeded") throw new Error("flotilla warm chain failed");
    record("flotilla-warm", "latency", ((performance.now() - t0) / LAT) * 1000);
  }

  // ---- cold: a one-task run starts and stops its thread; a new pool + one task + destroy -----------
  const one = tinyJob(1);
  const make = {
    piscina: () => new Piscina({ filename, minThreads: THREADS, maxThreads: THREADS }),
    "piscina-matched": () => new Piscina({ filename, minThreads: THREADS, maxThreads: THREADS, concurrentTasksPerWorker: PER_THREAD }),
    tinypool: () => new Tinypool({ filename, minThreads: THREADS, maxThreads: THREADS }),
  };
  for (let r = 0; r < ROUNDS; r++) {
    let t0 = performance.now();
    await run(one, { provider: workerThreads(options) });
    record("flotilla", "cold", performance.now() - t0);
    for (const [lib, create] of Object.entries(make)) {
      t0 = performance.now();
      const pool = create();
      await pool.run(1);
      await pool.destroy();
      record(lib, "cold", performance.now() - t0);
    }
  }

  for (const pool of Object.values(pools)) await pool.destroy();
  await echo.terminate();
  await direct.stopNode(directNode);

  // ---- report -------------------------------------------------------------------------------------
  const label = {
    flotilla: `flotilla \`run()\` + workerThreads (${THREADS} threads, tasksPerThread ${PER_THREAD})`,
    "flotilla-direct": "flotilla workerThreads node, `provider.run` without the executor (1 thread)",
    "flotilla-warm": "flotilla `run()` of a chain on that same warm node (1 thread)",
    piscina: `piscina@5 (${THREADS} threads, concurrentTasksPerWorker 1)`,
    "piscina-matched": `piscina@5 (${THREADS} threads, concurrentTasksPerWorker ${PER_THREAD})`,
    tinypool: `tinypool@2 (${THREADS} threads)`,
    bare: "bare postMessage round trip (1 thread)",
  };
  const get = (lib, what) => (samples[lib]?.[what] ? median(samples[lib][what]) : undefined);
  const fmt = (x, digits = 0) => (x === undefined ? "—" : x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }));
  const base = get("piscina", "throughput");
  const baseLatency = get("piscina", "latency");
  const rows = [
    "| runner | tiny tasks/s | vs piscina | latency, one task at a time (µs) | vs piscina | cold one-task (ms) |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const lib of ["flotilla", "flotilla-direct", "flotilla-warm", "piscina", "piscina-matched", "tinypool", "bare"]) {
    const tp = get(lib, "throughput");
    const lat = get(lib, "latency");
    rows.push(
      `| ${label[lib]} | ${fmt(tp)} | ${tp && base ? `${(tp / base).toFixed(2)}x` : "—"} | ${fmt(lat, 1)} | ${lat && baseLatency ? `${(lat / baseLatency).toFixed(2)}x` : "—"} | ${fmt(get(lib, "cold"), 1)} |`,
    );
  }
  let head = "";
  try {
    head = execSync("git rev-parse --short HEAD", { encoding: "utf8" }).trim();
  } catch {}
  console.log(`${N.toLocaleString("en-US")} tiny tasks per throughput round; ${LAT.toLocaleString("en-US")} sequential tasks per latency round (flotilla run(): chains of ${CHAIN.toLocaleString("en-US")} minus ${(CHAIN / 5).toLocaleString("en-US")}); medians of ${ROUNDS} rounds`);
  console.log(`${os.cpus().length} cpus ${os.cpus()[0]?.model ?? ""}, Node ${process.version}, git ${head}, ${new Date().toISOString().slice(0, 10)}`);
  console.log(rows.join("\n"));
  const spread = (lib, what) => (samples[lib]?.[what] ?? []).map((x) => fmt(x, what === "throughput" ? 0 : 1)).join(", ");
  console.log("\nevery round:");
  for (const lib of Object.keys(label)) for (const what of ["throughput", "latency", "cold"]) if (samples[lib]?.[what]) console.log(`  ${lib} ${what}: ${spread(lib, what)}`);
}
