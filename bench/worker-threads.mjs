// Worker-thread throughput and latency: flotilla's workerThreads() (from dist/) beside piscina@5,
// tinypool@2 and a bare postMessage round trip, in one process, on the same tiny task. Runners take
// turns (latency: in short segments, in rotating order), so a slow spell of the machine hits all of
// them alike; figures are medians.
//   npm run build && node bench/worker-threads.mjs [--tasks 100000] [--rounds 5] [--segment 1000]
//     [--cycles 20] [--chain 20000] [--threads 2] [--per-thread N] [--pin same|cross]
// --pin takes the scheduler's placement out of the latency figures (Linux, needs taskset): `same` runs
// the whole process on CPU 0, so every round trip is a same-CPU hand-off (throughput is then one
// CPU's); `cross` pins the main thread to CPU 0 and every warm worker thread to CPU 1 for the latency
// segments, so every round trip wakes the other CPU (the fresh-thread row is then left out).
// Method and figures: bench/worker-threads.md. This file is also the task module: in a worker
// thread it only exports `tiny` (or echoes messages, for the bare round trip).
import { execFileSync } from "node:child_process";
import { readlinkSync } from "node:fs";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

/** The tiny task: returns its input. */
export function tiny(x) {
  return x;
}
/** piscina and tinypool call the default export. */
export default tiny;

/** Pins the calling thread to `cpus` (a taskset list such as "1"); returns its thread id. For --pin cross. */
export function pin(cpus) {
  const tid = readlinkSync("/proc/thread-self").split("/").pop();
  execFileSync("taskset", ["-pc", String(cpus), tid], { stdio: "ignore" });
  return tid;
}

if (!isMainThread && workerData === "echo") parentPort.on("message", (m) => parentPort.postMessage(typeof m === "object" ? pin(m.pin) : m));

if (isMainThread) await main();

async function main() {
  const os = await import("node:os");
  const { execSync, spawnSync } = await import("node:child_process");
  const pinMode = process.argv.includes("--pin") ? process.argv[process.argv.indexOf("--pin") + 1] : undefined;
  if (pinMode !== undefined && pinMode !== "same" && pinMode !== "cross") throw new Error(`--pin takes "same" or "cross", received ${pinMode}`);
  if (pinMode === "same" && process.env.FLOTILLA_BENCH_PINNED === undefined) {
    const child = spawnSync("taskset", ["-c", "0", process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
      stdio: "inherit",
      env: { ...process.env, FLOTILLA_BENCH_PINNED: "same" },
    });
    if (child.error) throw new Error(`--pin same needs taskset (util-linux): ${child.error.message}`);
    process.exit(child.status ?? 1);
  }
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
  const SEGMENT = Number(flag("segment", "1000"));
  const CYCLES = Number(flag("cycles", "20"));
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
  const record = (lib, what, value) => ((samples[lib] ??= {})[what] ??= []).push(value);

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
  const directCtx = (i) => ({
    taskId: `t${i}`,
    attempt: 1,
    deps: {},
    failures: {},
    node: directNode,
    log() {},
    sleep: async () => {},
    onAbort: () => () => {},
    get signal() {
      return new AbortController().signal;
    },
  });
  const directRun = (i) => direct.run(directNode, directSpec, directCtx(i));
  // The same warm node under run(), to tell the executor's share from a fresh thread's warm-up.
  const warm = {
    name: "warm",
    kinds: direct.kinds,
    maxNodes: 1,
    startNode: () => directNode,
    stopNode() {},
    run: (node, body, ctx) => direct.run(directNode, body, ctx),
  };

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
    const seconds = (performance.now() - t0) / 1000;
    if (result.status !== "succeeded" || result.counts.succeeded !== N) throw new Error(`flotilla run ${result.status}: ${result.error}`);
    record("flotilla", "throughput", N / seconds);
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
  // Segments of SEGMENT sequential tasks; every cycle each runner runs one segment, in an order that
  // rotates from cycle to cycle. A round trip on a 2-vCPU VM is either a same-CPU hand-off or a
  // cross-CPU wake-up (about 3x slower), as the scheduler places the threads; short interleaved
  // segments give every runner the same mix, and p10/p90 show the two modes.
  const sequentialSegment = (one) => async () => {
    for (let i = 0; i < SEGMENT; i++) await one(i);
  };
  const chainWarm = chainJob(SEGMENT);
  const latencyRunners = {
    "flotilla-warm": async () => {
      if ((await run(chainWarm, { provider: warm })).status !== "succeeded") throw new Error("flotilla warm chain failed");
    },
    "flotilla-direct": sequentialSegment(directRun),
    ...Object.fromEntries(Object.entries(pools).map(([lib, pool]) => [lib, sequentialSegment((i) => pool.run(i))])),
    bare: sequentialSegment(roundTrip),
  };
  const latencyNames = Object.keys(latencyRunners);
  if (pinMode === "cross") {
    pin("0");
    await roundTrip({ pin: "1" });
    await direct.run(directNode, workerTask(self, "pin", "1"), directCtx(0));
    for (const [lib, pool] of Object.entries(pools)) {
      const tids = new Set();
      for (let k = 0; k < 20 && tids.size < THREADS; k++) {
        for (const tid of await Promise.all(Array.from({ length: 4 * PER_THREAD }, () => pool.run("1", { name: "pin" })))) tids.add(tid);
      }
      if (tids.size < THREADS) throw new Error(`--pin cross: pinned ${tids.size} of ${lib}'s ${THREADS} threads`);
    }
  }
  // The one-at-a-time paths (a chain's dependency handling in the executor, a lone message per trip)
  // are not the throughput rounds' paths: warm each runner up on its own path first (>= 20,000 tasks).
  for (let k = 0; k < Math.ceil(20_000 / SEGMENT); k++) for (const lib of latencyNames) await latencyRunners[lib]();
  for (let c = 0; c < CYCLES; c++) {
    for (let k = 0; k < latencyNames.length; k++) {
      const lib = latencyNames[(k + c) % latencyNames.length];
      const t0 = performance.now();
      await latencyRunners[lib]();
      record(lib, "latency", ((performance.now() - t0) / SEGMENT) * 1000);
    }
  }
  // Through run() with the run's own, fresh threads (what a run gets: a provider's threads stop when
  // the run ends): a chain, each task waiting for the one before. The difference of a long and a short
  // chain leaves out starting the thread and its first CHAIN/5 tasks of JIT warm-up, not all of it.
  const chainShort = chainJob(CHAIN / 5);
  const chainLong = chainJob(CHAIN);
  if (pinMode === "cross") pin(`0-${os.cpus().length - 1}`); // new threads would inherit CPU 0
  for (let r = 0; r < (pinMode === "cross" ? 0 : ROUNDS); r++) {
    let t0 = performance.now();
    const shortResult = await run(chainShort, { provider: workerThreads(options) });
    const short = performance.now() - t0;
    if (shortResult.status !== "succeeded") throw new Error(`flotilla short chain ${shortResult.status}`);
    t0 = performance.now();
    const result = await run(chainLong, { provider: workerThreads(options) });
    const long = performance.now() - t0;
    if (result.status !== "succeeded") throw new Error(`flotilla chain ${result.status}`);
    record("flotilla-fresh", "latency", ((long - short) / (CHAIN - CHAIN / 5)) * 1000);
    t0 = performance.now(); // a same-moment reference for the fresh-thread figure
    await latencyRunners.bare();
    record("bare-beside-fresh", "latency", ((performance.now() - t0) / SEGMENT) * 1000);
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
  // [label, samples of throughput, of latency, of cold]
  const rowsOf = [
    [
      `flotilla \`run()\` + workerThreads (${THREADS} threads, tasksPerThread ${PER_THREAD}); latency: \`run()\` of a chain on a warm thread`,
      "flotilla",
      "flotilla-warm",
      "flotilla",
    ],
    ["flotilla workerThreads node, `provider.run` without the executor (1 warm thread)", undefined, "flotilla-direct", undefined],
    [
      `flotilla \`run()\` with the run's own fresh threads (chain of ${CHAIN.toLocaleString("en-US")} − ${(CHAIN / 5).toLocaleString("en-US")})`,
      undefined,
      "flotilla-fresh",
      undefined,
    ],
    [`piscina@5 (${THREADS} threads, concurrentTasksPerWorker 1)`, "piscina", "piscina", "piscina"],
    [`piscina@5 (${THREADS} threads, concurrentTasksPerWorker ${PER_THREAD})`, "piscina-matched", "piscina-matched", "piscina-matched"],
    [`tinypool@2 (${THREADS} threads)`, "tinypool", "tinypool", "tinypool"],
    ["bare postMessage round trip (1 thread)", undefined, "bare", undefined],
  ];
  const get = (lib, what) => (lib !== undefined && samples[lib]?.[what] ? median(samples[lib][what]) : undefined);
  const quantile = (lib, f) => {
    const xs = [...samples[lib].latency].sort((a, b) => a - b);
    return xs[Math.min(xs.length - 1, Math.floor(xs.length * f))];
  };
  const fmt = (x, digits = 0) => (x === undefined ? "—" : x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }));
  const base = get("piscina", "throughput");
  const baseLatency = get("piscina", "latency");
  const rows = [
    "| runner | tiny tasks/s | vs piscina | latency, one task at a time (µs) | vs piscina | cold one-task (ms) |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const [label, tpKey, latKey, coldKey] of rowsOf) {
    const tp = get(tpKey, "throughput");
    const lat = get(latKey, "latency");
    rows.push(
      `| ${label} | ${fmt(tp)} | ${tp && base ? `${(tp / base).toFixed(2)}x` : "—"} | ${fmt(lat, 1)} | ${lat && baseLatency ? `${(lat / baseLatency).toFixed(2)}x` : "—"} | ${fmt(get(coldKey, "cold"), 1)} |`,
    );
  }
  let head = "";
  try {
    head = execSync("git rev-parse --short HEAD", { encoding: "utf8" }).trim();
  } catch {}
  const pinned =
    pinMode === "same"
      ? ", --pin same (all threads on CPU 0)"
      : pinMode === "cross"
        ? ", --pin cross (latency: main thread on CPU 0, warm workers on CPU 1)"
        : "";
  console.log(
    `${N.toLocaleString("en-US")} tiny tasks per throughput round, medians of ${ROUNDS} rounds; latency: medians of ${CYCLES} segments of ${SEGMENT.toLocaleString("en-US")} sequential tasks per runner (fresh threads: ${ROUNDS} rounds)`,
  );
  console.log(`${os.cpus().length} cpus ${os.cpus()[0]?.model ?? ""}, Node ${process.version}, git ${head}, ${new Date().toISOString().slice(0, 10)}${pinned}`);
  console.log(rows.join("\n"));
  console.log("\nlatency spread over the segments (µs): median, p10, p90 (p10 near the same-CPU figure, p90 near the cross-CPU one when both occur)");
  for (const lib of ["flotilla-warm", "flotilla-direct", "piscina", "piscina-matched", "tinypool", "bare"]) {
    console.log(
      `  ${lib.padEnd(16)} ${fmt(get(lib, "latency"), 1).padStart(6)} ${fmt(quantile(lib, 0.1), 1).padStart(6)} ${fmt(quantile(lib, 0.9), 1).padStart(6)}`,
    );
  }
  const spread = (lib, what) => (samples[lib]?.[what] ?? []).map((x) => fmt(x, what === "throughput" ? 0 : 1)).join(", ");
  console.log("\nevery round:");
  for (const lib of Object.keys(samples))
    for (const what of ["throughput", "latency", "cold"]) if (samples[lib]?.[what]) console.log(`  ${lib} ${what}: ${spread(lib, what)}`);
}
