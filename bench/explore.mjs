// bench/explore.mjs: how fast flotilla/testing's explore() runs schedules, and how quickly it finds
// ordering bugs, against fast-check's scheduler (fc.scheduler) on the same DAG shape.
//
//   npm run build && node bench/explore.mjs            # full run (~1 min on 2 cores)
//   node bench/explore.mjs --quick                     # smoke run: 1 rep, shorter rows, fewer seeds
//   node bench/explore.mjs --reps 5 --target-ms 2000   # more repetitions, longer rows
//   node bench/explore.mjs --dist /tmp/other-build      # benchmark another build of dist/
//
// 1. Throughput: schedules/s and µs per scheduling decision of explore() on a seeded random DAG of
//    20 and 200 tasks (each depends on 1-2 earlier tasks; bodies `await sleep(k)`, k in 0..3;
//    concurrency 4; retries 1 with 1 ms backoff; `task.attempt` faults p=0.05), strategies random,
//    pct and default; and fast-check 4 driving the same graph as bare promises through a tiny
//    executor. The goal (issue 9): explore() at least 1.5x fast-check's schedules/s, same run.
// 2. Bug finding: schedules needed (50 seeds) to find a promise-ordering bug and a timer-ordering
//    bug, with explore (random, pct, default) and with fast-check.
// 3. Anomaly checks: determinism (same seed, same decisionHash, across processes too) and known
//    false positives of explore's built-in invariants.
//
// Every throughput row runs in a fresh child process (`node bench/explore.mjs --case '<json>'`),
// warms up, calibrates its iteration count to --target-ms, and is repeated --reps times (median
// shown); the reps go round the rows, so load changes during the run hit every row alike. dist/ is copied to bench/.snapshot-explore/ at start (deleted at exit) so a rebuild during
// the run cannot mix builds. Writes bench/explore-results.md and bench/explore-README.md.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import { mulberry32 } from "./graphs.mjs";
import { count, flag, has } from "./args.mjs";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const SNAPSHOT = `${HERE}.snapshot-explore/`;

// ---------------------------------------------------------------------------------------------
// The graph, shared by both libraries
// ---------------------------------------------------------------------------------------------

/**
 * A seeded random DAG of n tasks: task i > 0 depends on one random earlier task and, half the
 * time, on a second distinct one; sleeps[i] in 0..3 is its body's sleep. Task 0 is the only root.
 */
function makeGraph(n, seed = 42) {
  const rand = mulberry32(seed);
  const deps = [[]];
  const sleeps = [Math.floor(rand() * 4)];
  for (let i = 1; i < n; i++) {
    const a = Math.floor(rand() * i);
    const d = [a];
    if (i > 1 && rand() < 0.5) {
      let b = Math.floor(rand() * i);
      while (b === a) b = Math.floor(rand() * i);
      d.push(b);
    }
    deps.push(d);
    sleeps.push(Math.floor(rand() * 4));
  }
  return { n, deps, sleeps };
}

const CONCURRENCY = 4;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function loadFlotilla() {
  const dir = process.env.EXPLORE_BENCH_DIST ?? pathToFileURL(`${HERE}../dist/`).href;
  const [core, testing] = await Promise.all([import(`${dir}index.js`), import(`${dir}testing.js`)]);
  return { ...core, ...testing };
}

// ---------------------------------------------------------------------------------------------
// Child-process cases
// ---------------------------------------------------------------------------------------------

/**
 * The fault plan of the throughput rows: `task.attempt` fails with probability 0.05. On a build where
 * a task failing for good by the end of step 1 trips a false invariant violation (the anomaly checks
 * run first and tell), the rows add `when: step > 0`, which keeps faults out of the run's start.
 */
const BRIEF_FAULTS = { "task.attempt": { probability: 0.05, action: { kind: "fail" } } };
const GUARDED_FAULTS = { "task.attempt": { probability: 0.05, when: (site) => site.step > 0, action: { kind: "fail" } } };

/**
 * The iteration count for a row of ~targetMs (at least the brief's 2000 / 200): two timed passes after
 * the warm-up, the second sized from the first to ~300 ms, because the JIT is still speeding up.
 */
async function calibrate(n, targetMs, timeIt) {
  let k = n <= 20 ? 300 : 30;
  let ms = await timeIt(k, 2);
  k = Math.max(k, Math.ceil((k / Math.max(1, ms)) * 300));
  ms = await timeIt(k, 3);
  return Math.max(n <= 20 ? 2000 : 200, Math.ceil((k / Math.max(1, ms)) * targetMs));
}

/** explore() on the graph: warm up, calibrate, time one exploration, check determinism in-process. */
async function flotillaCase({ n, strategy, faults, guardFaults, iterations, seed, targetMs }) {
  const { Job, run, explore } = await loadFlotilla();
  const g = makeGraph(n);
  const job = new Job(`dag${n}`);
  for (let i = 0; i < n; i++) {
    const k = g.sleeps[i];
    job.task(`t${i}`, { dependsOn: g.deps[i].map((d) => `t${d}`), retries: 1, backoff: { initialMs: 1 } }, async ({ sleep }) => {
      await sleep(k);
    });
  }
  let stepSum = 0;
  const statuses = { succeeded: 0, failed: 0 };
  const body = async (t) => {
    const result = await run(job, { runtime: t.runtime, concurrency: CONCURRENCY });
    if (result.status !== "succeeded" && result.status !== "failed") throw new Error(`run did not settle as succeeded/failed: ${result.status}`);
    const c = result.counts;
    if (c.succeeded + c.failed + c.skipped + c.cancelled !== n) throw new Error(`wrong result: counts ${JSON.stringify(c)} for ${n} tasks`);
    statuses[result.status]++;
    stepSum += t.step; // the body ends in the microtasks of the last step, so this is the schedule's step count
  };
  const options = { strategy, maxSteps: 10_000, ...(faults ? { faults: guardFaults ? GUARDED_FAULTS : BRIEF_FAULTS } : {}) };
  const warm = n <= 20 ? 1000 : 100;
  await explore(body, { ...options, iterations: warm, seed: 1 }); // JIT warm-up
  if (iterations === undefined)
    iterations = await calibrate(n, targetMs, async (k, s) => (await explore(body, { ...options, iterations: k, seed: s })).durationMs);
  stepSum = 0;
  statuses.succeeded = statuses.failed = 0;
  const t0 = performance.now();
  const report = await explore(body, { ...options, iterations, seed });
  const wallMs = performance.now() - t0;
  const totalSteps = stepSum;
  const done = { ...statuses };
  // Determinism, in-process: the same seed twice gives the same decisions.
  const small = n <= 20 ? 200 : 20;
  const h1 = (await explore(body, { ...options, iterations: small, seed: 99 })).decisionHash;
  const h2 = (await explore(body, { ...options, iterations: small, seed: 99 })).decisionHash;
  return { report, wallMs, totalSteps, statuses: done, iterations, deterministicInProcess: h1 === h2, hashes: [h1, h2] };
}

/**
 * The same graph run by a tiny promise executor under fc.scheduler(): each task is
 * `await s.schedule(Promise.resolve(k))` (its "sleep"), and its completion is delivered through a
 * second scheduled promise, so a task is two scheduled items, like explore's sleep + completion.
 */
async function fastcheckCase({ n, wait, iterations, seed, targetMs }) {
  const fc = (await import("fast-check")).default;
  const g = makeGraph(n);
  const dependents = Array.from({ length: n }, () => []);
  g.deps.forEach((ds, i) => ds.forEach((d) => dependents[d].push(i)));
  let items = 0;
  let incomplete = 0;

  function execute(s) {
    const remaining = g.deps.map((d) => d.length);
    const ready = [];
    for (let i = 0; i < n; i++) if (remaining[i] === 0) ready.push(i);
    let busy = 0;
    let done = 0;
    let finish;
    const finished = new Promise((resolve) => (finish = resolve));
    const body = async (i) => {
      items++;
      await s.schedule(Promise.resolve(g.sleeps[i]), `sleep t${i}`);
    };
    const complete = (i) => {
      busy--;
      done++;
      for (const d of dependents[i]) if (--remaining[d] === 0) ready.push(d);
      pump();
    };
    const pump = () => {
      while (busy < CONCURRENCY && ready.length > 0) {
        const i = ready.shift();
        busy++;
        body(i)
          .then(() => {
            items++;
            return s.schedule(Promise.resolve(i), `complete t${i}`);
          })
          .then(() => complete(i));
      }
      if (done === n) finish();
    };
    pump();
    return { finished, done: () => done };
  }

  const property = fc.asyncProperty(fc.scheduler(), async (s) => {
    const e = execute(s);
    if (wait === "waitFor") await s.waitFor(e.finished);
    else if (wait === "waitIdle") await s.waitIdle();
    else await s.waitAll();
    if (e.done() !== n) {
      incomplete++;
      throw new Error(`only ${e.done()} of ${n} tasks completed after ${wait}`);
    }
  });
  const check = async (numRuns, s) => {
    items = 0;
    const t0 = performance.now();
    const out = await fc.check(property, { numRuns, seed: s, endOnFailure: true });
    return { ms: performance.now() - t0, out };
  };
  const warm = n <= 20 ? 1000 : 100;
  const w = await check(iterations === undefined ? warm : Math.min(warm, iterations), 1);
  if (w.out.failed) return { failed: true, error: String(w.out.errorInstance?.message ?? w.out.error), incomplete };
  if (iterations === undefined) iterations = await calibrate(n, targetMs, async (k, s) => (await check(k, s)).ms);
  const r = await check(iterations, seed);
  if (r.out.failed) return { failed: true, error: String(r.out.errorInstance?.message ?? r.out.error), incomplete };
  return { wallMs: r.ms, items, iterations };
}

/** Not found within the cap: Infinity here, null in the JSON the driver reads. */
const orNull = (x) => (Number.isFinite(x) ? x : null);

/** Schedules needed to find two ordering bugs, over 50 seeds each. */
async function bugsCase({ seeds, maxSchedules }) {
  const { Job, run, start, explore, ScheduleFailure } = await loadFlotilla();
  const fc = (await import("fast-check")).default;
  const rows = [];

  // (a) promise-ordering bug: two tasks sleep 5 ms, then log their id; the test expects [a, b].
  let log = [];
  const twoTasks = new Job("two")
    .task("a", async ({ sleep }) => {
      await sleep(5);
      log.push("a");
    })
    .task("b", async ({ sleep }) => {
      await sleep(5);
      log.push("b");
    });
  const promiseBug = async (t) => {
    log = [];
    await run(twoTasks, { runtime: t.runtime, concurrency: CONCURRENCY });
    if (log.join() !== "a,b") throw new Error(`ORDER ${log.join()}`);
  };
  // (a') completion-ordering bug: two bodies that return at once; a task:succeeded listener logs the
  // order, so only the order in which explore delivers the two completions matters (no timer at all).
  const twoInstant = new Job("instant").task("a", async () => "a").task("b", async () => "b");
  const completionBug = async (t) => {
    const order = [];
    const handle = start(twoInstant, { runtime: t.runtime, concurrency: CONCURRENCY });
    handle.on("task:succeeded", (e) => order.push(e.taskId));
    await handle.result;
    if (order.join() !== "a,b") throw new Error(`ORDER ${order.join()}`);
  };
  // (c) timer-ordering bug: two timers due at the same virtual time; the test expects A before B.
  const timerBug = (labelled) => async (t) => {
    const fired = [];
    await new Promise((resolve) => {
      const done = () => fired.length === 2 && resolve();
      t.runtime.setTimer(10, () => (fired.push("A"), done()), labelled ? "timer A" : undefined);
      t.runtime.setTimer(10, () => (fired.push("B"), done()), labelled ? "timer B" : undefined);
    });
    if (fired.join() !== "A,B") throw new Error(`ORDER ${fired.join()}`);
  };

  const exploreFind = async (body, strategy, seed) => {
    try {
      await explore(body, { strategy, seed, iterations: maxSchedules });
      return Infinity;
    } catch (error) {
      if (!(error instanceof ScheduleFailure) || !String(error.cause?.message).startsWith("ORDER")) throw error;
      return error.iteration + 1;
    }
  };
  const flotillaBugs = [
    ["(a) promise order: 2 tasks `await sleep(5)` then log", promiseBug],
    ["(a') completion order: 2 tasks `async () => id`, `task:succeeded` logs", completionBug],
    ["(c) timer order: `runtime.setTimer(10, A)`, `setTimer(10, B)`, no labels", timerBug(false)],
    ['(c) timer order: same, labelled "timer A" / "timer B"', timerBug(true)],
  ];
  for (const [bug, body] of flotillaBugs) {
    for (const strategy of ["random", "pct", "default"]) {
      const found = [];
      const t0 = performance.now();
      for (let seed = 1; seed <= seeds; seed++) found.push(await exploreFind(body, strategy, seed));
      rows.push({ bug, lib: "flotilla explore", how: strategy, cap: maxSchedules, found: found.map(orNull), ms: performance.now() - t0 });
    }
  }

  // fast-check: (b) the same bug as two scheduled promises; (c) two real timers, unwrapped and wrapped.
  const fcPromiseBug = fc.asyncProperty(fc.scheduler(), async (s) => {
    const order = [];
    const a = s.schedule(Promise.resolve("a")).then((v) => order.push(v));
    const b = s.schedule(Promise.resolve("b")).then((v) => order.push(v));
    await s.waitFor(Promise.all([a, b]));
    if (order.join() !== "a,b") throw new Error(`ORDER ${order.join()}`);
  });
  const fcRealTimers = fc.asyncProperty(fc.scheduler(), async (s) => {
    const fired = [];
    await s.waitFor(
      new Promise((resolve) => {
        const done = () => fired.length === 2 && resolve();
        setTimeout(() => (fired.push("A"), done()), 10);
        setTimeout(() => (fired.push("B"), done()), 10);
      }),
    );
    if (fired.join() !== "A,B") throw new Error(`ORDER ${fired.join()}`);
  });
  const fcWrappedTimers = fc.asyncProperty(fc.scheduler(), async (s) => {
    const fired = [];
    const sleep = (ms) => s.schedule(new Promise((resolve) => setTimeout(resolve, ms)));
    const a = sleep(10).then(() => fired.push("A"));
    const b = sleep(10).then(() => fired.push("B"));
    await s.waitFor(Promise.all([a, b]));
    if (fired.join() !== "A,B") throw new Error(`ORDER ${fired.join()}`);
  });
  const fcFind = async (property, seed, numRuns) => {
    const out = await fc.check(property, { seed, numRuns, endOnFailure: true });
    if (out.failed && !String(out.errorInstance?.message).startsWith("ORDER")) throw out.errorInstance;
    return out.failed ? out.numRuns : Infinity;
  };
  const fcRuns = Math.min(maxSchedules, 50); // real timers take 10 ms a run
  const fcBugs = [
    ["(b) promise order: 2 `s.schedule(Promise.resolve(id))`, then log", fcPromiseBug, maxSchedules, false],
    ["(c) timer order: 2 real `setTimeout(…, 10)` callbacks", fcRealTimers, fcRuns, true],
    ["(c) timer order: 2 real timers wrapped as `s.schedule(sleep(10))`", fcWrappedTimers, fcRuns, true],
  ];
  for (const [bug, property, cap, concurrent] of fcBugs) {
    const t0 = performance.now();
    const seedList = Array.from({ length: seeds }, (_, i) => i + 1);
    // Runs with real timers wait 10 ms each, so their seeds run side by side (each check is independent).
    let found = [];
    if (concurrent) found = await Promise.all(seedList.map((seed) => fcFind(property, seed, cap)));
    else for (const seed of seedList) found.push(await fcFind(property, seed, cap));
    rows.push({ bug, lib: "fast-check", how: "fc.scheduler", cap, found: found.map(orNull), ms: performance.now() - t0, concurrent });
  }
  return rows;
}

/** Known problems, each checked fresh so the notes stay true after a fix. */
async function anomaliesCase() {
  const { Job, run, explore, ScheduleFailure } = await loadFlotilla();
  const out = {};
  const firstLine = (e) => String(e?.message ?? e).split("\n")[0];

  // 1. A task that settles before the end of step 1 is invisible to the built-in invariants.
  const syncFirst = new Job("g")
    .task("a", () => "sync")
    .task("b", async ({ sleep }) => {
      await sleep(1);
    });
  try {
    await explore(
      async (t) => {
        const r = await run(syncFirst, { runtime: t.runtime });
        if (r.status !== "succeeded") throw new Error(r.status);
      },
      { iterations: 1 },
    );
    out.syncTaskFalsePositive = { present: false };
  } catch (e) {
    out.syncTaskFalsePositive = { present: e instanceof ScheduleFailure, message: firstLine(e) };
  }

  // 2. The same through a fault: the only task fails attempt 1 at the start and attempt 2 at step 1.
  const oneTask = new Job("g").task("a", { retries: 1, backoff: { initialMs: 1 } }, async ({ sleep }) => {
    await sleep(1);
  });
  try {
    await explore(
      async (t) => {
        const r = await run(oneTask, { runtime: t.runtime });
        if (r.status !== "failed") throw new Error(`expected failed, got ${r.status}`);
      },
      { iterations: 1, faults: { "task.attempt": { action: { kind: "fail" } } } },
    );
    out.faultFalsePositive = { present: false };
  } catch (e) {
    out.faultFalsePositive = { present: e instanceof ScheduleFailure, message: firstLine(e) };
  }

  // 3. The brief's exact fault plan (no `when`) on the 20-task job: 5000 schedules, seed 7.
  const g = makeGraph(20);
  const job = new Job("dag20");
  for (let i = 0; i < 20; i++) {
    const k = g.sleeps[i];
    job.task(`t${i}`, { dependsOn: g.deps[i].map((d) => `t${d}`), retries: 1, backoff: { initialMs: 1 } }, async ({ sleep }) => {
      await sleep(k);
    });
  }
  for (const strategy of ["random", "pct"]) {
    try {
      const r = await explore(
        async (t) => {
          const res = await run(job, { runtime: t.runtime, concurrency: CONCURRENCY });
          if (res.status !== "succeeded" && res.status !== "failed") throw new Error(res.status);
        },
        { iterations: 5000, seed: 7, strategy, faults: BRIEF_FAULTS },
      );
      out[`briefPlan_${strategy}`] = { present: false, iterations: r.iterations };
    } catch (e) {
      out[`briefPlan_${strategy}`] = { present: e instanceof ScheduleFailure, iteration: e.iteration, message: firstLine(e) };
    }
  }

  // 5. fast-check usage note: the deprecated waitAll() leaves the DAG executor unfinished.
  const wa = await fastcheckCase({ n: 20, wait: "waitAll", iterations: 5, seed: 1, targetMs: 0 });
  out.fcWaitAll = { incomplete: wa.failed === true, message: wa.error?.split("\n")[0] };
  return out;
}

if (process.argv[2] === "--case") {
  const spec = JSON.parse(process.argv[3]);
  const cases = { flotilla: flotillaCase, fastcheck: fastcheckCase, bugs: bugsCase, anomalies: anomaliesCase };
  const result = await cases[spec.kind](spec);
  process.stdout.write(`\n@@RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------

const quick = has("quick");
const reps = count("reps", quick ? "1" : "3");
const targetMs = count("target-ms", quick ? "400" : "1300");
const seeds = count("seeds", quick ? "20" : "50");
const maxSchedules = count("max-schedules", "1000");

const here = fileURLToPath(import.meta.url);
const distDir = (flag("dist", `${HERE}../dist`) + "/").replace(/\/+$/, "/"); // --dist DIR: another build (index.js, testing.js, chunks/)
if (!existsSync(`${distDir}testing.js`)) {
  console.error("dist/testing.js is missing: run `npm run build` first");
  process.exit(1);
}
rmSync(SNAPSHOT, { recursive: true, force: true });
mkdirSync(SNAPSHOT, { recursive: true });
for (const f of ["index.js", "testing.js", "chunks"]) cpSync(`${distDir}${f}`, `${SNAPSHOT}${f}`, { recursive: true });
const cleanup = () => rmSync(SNAPSHOT, { recursive: true, force: true });
process.on("exit", cleanup);
process.on("SIGINT", () => process.exit(130));
const sha = (f) =>
  createHash("sha256")
    .update(readFileSync(`${SNAPSHOT}${f}`))
    .digest("hex")
    .slice(0, 12);
const gitHead = (() => {
  try {
    return spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: HERE, encoding: "utf8" }).stdout.trim() || "?";
  } catch {
    return "?";
  }
})();

/** Runs one case in a fresh process (FLOTILLA_* variables removed: they override explore's options). */
function runCase(spec) {
  const env = { ...process.env, EXPLORE_BENCH_DIST: pathToFileURL(SNAPSHOT).href };
  for (const k of ["FLOTILLA_ITERATIONS", "FLOTILLA_SEED", "FLOTILLA_REPLAY"]) delete env[k];
  const r = spawnSync(process.execPath, [here, "--case", JSON.stringify(spec)], { env, encoding: "utf8", maxBuffer: 64 << 20 });
  const line = r.stdout.split("\n").find((l) => l.startsWith("@@RESULT "));
  if (r.status !== 0 || line === undefined) {
    const why = (r.stderr || r.stdout).trim().split("\n").slice(0, 3).join(" | ");
    return { crashed: true, error: why.slice(0, 400) };
  }
  return JSON.parse(line.slice("@@RESULT ".length));
}

const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d }) : String(x));
const started = Date.now();
const log = (...a) => console.error(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s]`, ...a);
log(`flotilla explore benchmark: testing.js ${sha("testing.js")}, index.js ${sha("index.js")}, git ${gitHead}; ${reps} rep(s), rows of ~${targetMs} ms`);

// ---- 1. anomaly checks (first: they decide whether the fault plan needs its guard) ----
const anomalies = [];
log("anomaly checks …");
const an = runCase({ kind: "anomalies" });
if (an.crashed) anomalies.push(`anomaly case crashed: ${an.error}`);
const falsePositive =
  !an.crashed && (an.syncTaskFalsePositive.present || an.faultFalsePositive.present || an.briefPlan_random.present || an.briefPlan_pct.present);
const guardFaults = an.crashed || falsePositive;

// ---- 2. throughput ----
const SEED = 7;
const rows = [
  { kind: "flotilla", n: 20, strategy: "random", faults: true },
  { kind: "flotilla", n: 20, strategy: "pct", faults: true },
  { kind: "flotilla", n: 20, strategy: "default", faults: true },
  { kind: "flotilla", n: 20, strategy: "random", faults: false },
  { kind: "fastcheck", n: 20, wait: "waitIdle" },
  { kind: "fastcheck", n: 20, wait: "waitFor" },
  { kind: "flotilla", n: 200, strategy: "random", faults: true },
  { kind: "flotilla", n: 200, strategy: "pct", faults: true },
  { kind: "flotilla", n: 200, strategy: "default", faults: true },
  { kind: "flotilla", n: 200, strategy: "random", faults: false },
  { kind: "fastcheck", n: 200, wait: "waitIdle" },
  { kind: "fastcheck", n: 200, wait: "waitFor" },
];
const rowName = (row) => (row.kind === "flotilla" ? `flotilla ${row.strategy}${row.faults ? "" : " (no faults)"}` : `fast-check ${row.wait}`);
// Reps go round the rows (rep 1 of every row, then rep 2, ...) rather than row by row, so that a
// change of load on the machine during the run hits every row alike and the ratios stay fair.
const runsOf = rows.map(() => []);
const iterationsOf = rows.map(() => undefined);
const failedRow = rows.map(() => false);
for (let rep = 0; rep < reps; rep++) {
  rows.forEach((row, i) => {
    if (failedRow[i]) return;
    const r = runCase({ ...row, guardFaults, seed: SEED, targetMs, iterations: iterationsOf[i] });
    if (r.crashed || r.failed) {
      anomalies.push(`${rowName(row)}, ${row.n} tasks: ${r.error}`);
      log(`${rowName(row)} ${row.n}: FAILED ${r.error}`);
      failedRow[i] = true;
      return;
    }
    iterationsOf[i] = r.iterations; // later reps repeat the same exploration: their decision hashes must match
    runsOf[i].push(r);
    const rate = r.report !== undefined ? r.iterations / (r.report.durationMs / 1000) : r.iterations / (r.wallMs / 1000);
    log(`rep ${rep + 1}/${reps}: ${rowName(row).padEnd(27)} ${String(row.n).padStart(3)} tasks: ${fmt(rate).padStart(6)} schedules/s`);
  });
}
const measured = [];
rows.forEach((row, i) => {
  const name = rowName(row);
  const runs = runsOf[i];
  if (runs.length === 0) {
    measured.push({ row, name, failed: true });
    return;
  }
  // Per process: schedules (or runs) per second, µs per decision (median run and mean), wall ms.
  const per =
    row.kind === "flotilla"
      ? runs.map((r) => ({
          rate: r.iterations / (r.report.durationMs / 1000),
          us: (r.report.durationMs * 1000) / (r.iterations * r.report.steps.median),
          usMean: (r.report.durationMs * 1000) / r.totalSteps,
          ms: r.report.durationMs,
        }))
      : runs.map((r) => ({ rate: r.iterations / (r.wallMs / 1000), us: (r.wallMs * 1000) / r.items, usMean: (r.wallMs * 1000) / r.items, ms: r.wallMs }));
  const r0 = runs[0];
  let m = {
    rate: median(per.map((p) => p.rate)),
    rates: per.map((p) => p.rate),
    us: median(per.map((p) => p.us)),
    usMean: median(per.map((p) => p.usMean)),
    ms: median(per.map((p) => p.ms)),
    iterations: r0.iterations,
  };
  if (row.kind === "flotilla") {
    const hashes = [...new Set(runs.map((r) => r.report.decisionHash))];
    if (hashes.length > 1)
      anomalies.push(`${name}, ${row.n} tasks: the same seed and iterations gave different decisionHash in different processes: ${hashes.join(", ")}`);
    for (const r of runs)
      if (!r.deterministicInProcess) anomalies.push(`${name}, ${row.n} tasks: same seed twice in one process gave ${r.hashes.join(" vs ")}`);
    m = {
      ...m,
      steps: `${r0.report.steps.min}/${r0.report.steps.median}/${r0.report.steps.max}`,
      meanSteps: r0.totalSteps / r0.iterations,
      faults: r0.report.faultsFired["task.attempt"] ?? 0,
      statuses: r0.statuses,
      hash: hashes.join(","),
      deterministic: hashes.length === 1 && runs.every((r) => r.deterministicInProcess),
    };
  } else {
    m = { ...m, steps: `${r0.items / r0.iterations}`, meanSteps: r0.items / r0.iterations };
  }
  measured.push({ row, name, ...m });
  log(
    `${name.padEnd(27)} ${String(row.n).padStart(3)} tasks: ${fmt(m.rate).padStart(6)} schedules/s, ${fmt(m.us, 2)} µs/decision (reps ${m.rates.map((x) => fmt(x)).join(", ")})`,
  );
});

// ---- 3. bug finding ----
log("bug finding …");
const bugs = runCase({ kind: "bugs", seeds, maxSchedules });
if (bugs.crashed) anomalies.push(`bug-finding case crashed: ${bugs.error}`);
else for (const r of bugs) r.found = r.found.map((x) => x ?? Infinity);
const pctMissesUnlabelled =
  !bugs.crashed &&
  bugs.some((r) => r.lib === "flotilla explore" && r.how === "pct" && r.bug.includes("no labels") && r.found.every((x) => !Number.isFinite(x)));

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

// Issue 9's goal: explore() runs at least 1.5 times as many schedules a second as fast-check's
// scheduler (waitIdle) on the same graph, measured in the same run, at 20 and at 200 tasks, with the
// whole executor and faults on.
const GOAL_RATIO = 1.5;
const find = (kind, n, key) =>
  measured.find(
    (m) => !m.failed && m.row.kind === kind && m.row.n === n && (m.row.strategy === key || m.row.wait === key) && (kind !== "flotilla" || m.row.faults),
  );
const noFaults = (n) => measured.find((m) => !m.failed && m.row.kind === "flotilla" && m.row.n === n && !m.row.faults);
/** The ratio of two rows' medians, and the ratio within each rep (the rows of a rep ran minutes apart at most). */
const ratioOf = (a, b) => ({ median: a.rate / b.rate, reps: a.rates.slice(0, b.rates.length).map((x, i) => x / b.rates[i]) });
const thru = [
  `| lib / driver | tasks | faults | schedules × reps | s per rep | schedules/s | goal: ≥ ${GOAL_RATIO}x fast-check waitIdle | steps/schedule min/median/max | µs/decision (median steps) | µs/decision (all steps) |`,
  "| --- | ---: | --- | ---: | ---: | ---: | --- | --- | ---: | ---: |",
];
for (const m of measured) {
  if (m.failed) {
    thru.push(`| ${m.name} | ${m.row.n} | | failed (see anomalies) | | | | | | |`);
    continue;
  }
  const fl = m.row.kind === "flotilla";
  const fw = find("fastcheck", m.row.n, "waitIdle");
  const x = fl && m.row.faults && fw ? m.rate / fw.rate : undefined;
  const goal = x === undefined ? "" : `${x >= GOAL_RATIO ? "✔" : "✘"} ${fmt(x, 2)}x`;
  const faults = fl ? (m.row.faults ? `p=0.05${guardFaults ? ", step > 0" : ""} (${fmt(m.faults / m.iterations, 2)} fired/schedule)` : "off") : "none";
  thru.push(
    `| ${m.name} | ${m.row.n} | ${faults} | ${fmt(m.iterations)} × ${m.rates.length} | ${fmt(m.ms / 1000, 2)} | **${fmt(m.rate)}** | ${goal} | ${fl ? m.steps : `${m.steps} items`} | **${fmt(m.us, 2)}** | ${fmt(m.usMean, 2)} |`,
  );
}

const ratio = [
  "| tasks | schedules/s, flotilla random ÷ fast-check waitIdle | flotilla pct ÷ fast-check waitIdle | flotilla default ÷ fast-check waitIdle | flotilla random without faults ÷ fast-check waitIdle | µs/decision, flotilla random ÷ fast-check µs/item |",
  "| ---: | ---: | ---: | ---: | ---: | ---: |",
];
const stands = [];
const repsText = (r) => (r.reps.length > 1 ? ` (per rep ${r.reps.map((x) => fmt(x, 2)).join(", ")})` : "");
for (const n of [20, 200]) {
  const fr = find("flotilla", n, "random");
  const fp = find("flotilla", n, "pct");
  const fd = find("flotilla", n, "default");
  const fw = find("fastcheck", n, "waitIdle");
  const f0 = noFaults(n);
  const cell = (m) => (m && fw ? `${fmt(m.rate / fw.rate, 2)}x` : "");
  if (fw) ratio.push(`| ${n} | ${cell(fr)} | ${cell(fp)} | ${cell(fd)} | ${cell(f0)} | ${fr ? `${fmt(fr.us / fw.us, 2)}x` : ""} |`);
  if (fw) {
    const parts = [];
    for (const [key, m] of [
      ["random", fr],
      ["pct", fp],
      ["default", fd],
    ]) {
      if (!m) continue;
      const r = ratioOf(m, fw);
      parts.push(`${key} ${fmt(m.rate)}/s = ${fmt(r.median, 2)}x${repsText(r)} ${r.median >= GOAL_RATIO ? "✔" : "✘"}`);
    }
    stands.push(`${n} tasks: fast-check waitIdle ${fmt(fw.rate)}/s; flotilla ${parts.join("; ")}`);
  }
}
const flat = [];
for (const key of ["random", "pct", "default"]) {
  const a = find("flotilla", 20, key);
  const b = find("flotilla", 200, key);
  if (a && b) flat.push(`flotilla ${key}: ${fmt(a.us, 2)} µs/decision at 20 tasks, ${fmt(b.us, 2)} at 200 (×${fmt(b.us / a.us, 2)})`);
}
for (const key of ["waitIdle", "waitFor"]) {
  const a = find("fastcheck", 20, key);
  const b = find("fastcheck", 200, key);
  if (a && b) flat.push(`fast-check ${key}: ${fmt(a.us, 2)} µs/item at 20 tasks, ${fmt(b.us, 2)} at 200 (×${fmt(b.us / a.us, 2)})`);
}

const bugTable = [
  "| bug | lib | strategy | found (of seeds) | median schedules to find | max | cap per seed | wall ms (all seeds) |",
  "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
];
if (!bugs.crashed) {
  for (const r of bugs) {
    const hits = r.found.filter(Number.isFinite);
    const med = median(r.found);
    bugTable.push(
      `| ${r.bug} | ${r.lib} | ${r.how} | ${hits.length} / ${r.found.length} | ${Number.isFinite(med) ? fmt(med, med % 1 ? 1 : 0) : `never (> ${r.cap})`} | ${hits.length === r.found.length ? fmt(Math.max(...r.found)) : `> ${r.cap}`} | ${r.cap} | ${fmt(r.ms)}${r.concurrent ? " (seeds run side by side)" : ""} |`,
    );
    const explained = pctMissesUnlabelled && r.how === "pct" && r.bug.includes("no labels"); // has its own note below
    if (r.lib === "flotilla explore" && hits.length < r.found.length && !explained) {
      anomalies.push(
        `explore with strategy ${r.how} missed the bug "${r.bug}" for ${r.found.length - hits.length} of ${r.found.length} seeds (${r.cap} schedules each)`,
      );
    }
  }
}

// Is the timer-ordering bug found as quickly as the promise-ordering one, strategy by strategy?
const bugSummary = [];
if (!bugs.crashed) {
  for (const how of ["random", "pct", "default"]) {
    const get = (text) => bugs.find((r) => r.lib === "flotilla explore" && r.how === how && r.bug.includes(text));
    const p = get("(a) promise");
    const t = get("no labels");
    const tl = get("labelled");
    const m = (r) =>
      r.found.every(Number.isFinite)
        ? `median ${fmt(median(r.found), median(r.found) % 1 ? 1 : 0)}, max ${fmt(Math.max(...r.found))}`
        : `found for ${r.found.filter(Number.isFinite).length}/${r.found.length} seeds`;
    if (p && t && tl) bugSummary.push(`${how}: promise order ${m(p)}; timer order ${m(t)} (unlabelled), ${m(tl)} (labelled)`);
  }
}

const notes = [];
if (!an.crashed) {
  if (an.syncTaskFalsePositive.present) {
    notes.push(
      "**False invariant violation when a task settles before the end of step 1.** explore() attaches its built-in run invariants " +
        "(`RunInvariants`) in `afterStep`, i.e. only after the first step has run, so task events emitted while the run starts (a synchronous " +
        "body, a fault at `task.attempt` of a root task) and during step 1 are never seen; at the end, `job:end` reports all tasks and `finish()` " +
        'fails with "N tasks, but M reached a terminal state". Repro (no faults): a job `a: () => "sync"`, `b: async ({ sleep }) => { await sleep(1) }`, ' +
        `explored once: \`${an.syncTaskFalsePositive.message}\`. ` +
        "The same cause means a run that settles without any step is never checked at all, and a `task:start` in step 1 skips the dependency check.",
    );
  }
  if (an.faultFalsePositive.present) {
    notes.push(
      "Same bug through faults: a one-task job with `retries: 1`, `backoff: { initialMs: 1 }` and `task.attempt` always failing (the test expects " +
        `status "failed"): \`${an.faultFalsePositive.message}\` (with \`retries: 0\` or \`2\` it passes).`,
    );
  }
  const brief = ["random", "pct"].filter((s) => an[`briefPlan_${s}`]?.present);
  if (brief.length > 0) {
    notes.push(
      "With the brief's plain fault plan (`task.attempt` p=0.05, no `when`), the 20-task exploration (seed 7, 5000 schedules) rejects: " +
        brief.map((s) => `${s} at iteration ${an[`briefPlan_${s}`].iteration}`).join(", ") +
        ` with \`${an[`briefPlan_${brief[0]}`].message.replace(/^.*?: /, "")}\` (task t0, the only root, fails attempt 1 at the start and attempt 2 at step 1). ` +
        "The throughput rows therefore use `when: (site) => site.step > 0`, which only keeps faults out of the run's synchronous start.",
    );
  }
  if (an.fcWaitAll.incomplete) {
    notes.push(
      "fast-check usage note (not a fast-check bug): the deprecated `s.waitAll()` returns as soon as the scheduled queue is momentarily empty, " +
        `before the executor schedules its next item, so it does not drive this DAG to the end (\`${an.fcWaitAll.message}\`); the rows use \`waitIdle()\` ` +
        "(its replacement) and `waitFor(executorDone)`.",
    );
  }
}
if (!bugs.crashed) {
  if (pctMissesUnlabelled) {
    notes.push(
      "**pct did not reorder two unlabelled timers due together** (random did): a regression of the strategies, where every event " +
        "(unlabelled timers included, as `timer <seq>`) is an actor of its own.",
    );
  }
}
for (const a of anomalies) notes.push(a);
const deterministic = measured.filter((m) => m.row.kind === "flotilla" && !m.failed);
const detLine = deterministic.length
  ? `Determinism: every flotilla row's ${reps} process(es) (same seed, same iteration count) gave the same decisionHash ` +
    `(${deterministic.every((m) => m.deterministic) ? "all equal" : "MISMATCH, see anomalies"}), and each process re-ran seed 99 twice with equal hashes.`
  : "";

const header = [
  `Run ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? "?"}), Node ${process.versions.node}, ${process.platform} ${process.arch}; ` +
    `fast-check ${JSON.parse(readFileSync(fileURLToPath(new URL("../node_modules/fast-check/package.json", import.meta.url)), "utf8")).version}; ` +
    `flotilla ${flag("dist", undefined) ? `build ${flag("dist")}` : "dist/"} testing.js sha256 ${sha("testing.js")}, index.js ${sha("index.js")} (git HEAD ${gitHead}). ` +
    `${reps} rep(s) per row in fresh processes, rows calibrated to ~${targetMs} ms, median shown; total ${((Date.now() - started) / 1000).toFixed(0)} s.`,
];

const body = [
  "### Throughput",
  "",
  ...thru,
  "",
  ...ratio,
  "",
  `Where flotilla stands (issue 9's goal: explore() at least ${GOAL_RATIO}x fast-check's schedules/s at 20 and 200 tasks, the whole executor included, faults on; ratios of the medians, and within each rep):`,
  "",
  ...stands.map((f) => `- ${f}`),
  "",
  "Cost per decision as jobs grow:",
  "",
  ...flat.map((f) => `- ${f}`),
  "",
  detLine,
  "",
  `### Bug finding (${seeds} seeds each; schedules = explore's failing iteration + 1, fast-check's numRuns at the failure)`,
  "",
  ...bugTable,
  "",
  "Timer-ordering vs promise-ordering bug, schedules to find (flotilla):",
  "",
  ...bugSummary.map((f) => `- ${f}`),
  "",
  "### Anomalies",
  "",
  ...(notes.length ? notes.map((n) => `- ${n}`) : ["- none"]),
  "",
];

console.log(["", ...header, "", ...body].join("\n"));
writeFileSync(
  `${HERE}explore-results.md`,
  ["<!-- bench/explore-results.md: written by bench/explore.mjs, overwritten each run. -->", "# explore() benchmark results", "", ...header, "", ...body].join(
    "\n",
  ),
);

// Static: a CPU profile taken by hand (not re-measured by this script), kept with the build it describes.
const PROFILE = [
  "### Where explore's time goes (profiled by hand on 2026-11-29, build testing.js 90c87df38777 / index.js ee956ea7d7f1; not re-measured by the script)",
  "",
  '`node --cpu-prof --cpu-prof-interval 100 bench/explore.mjs --case \'{"kind":"flotilla","n":20,"strategy":"random","faults":true,"seed":7,"iterations":20000}\'`',
  "(the case runs on dist/; n 200 with 2000 iterations likewise), faults on, on a shared 2-core machine. By area: the per-step macrotask",
  "and Node's native work around it ~33%, core (executor, attempts, task table) ~33%, the testing kit ~18%, GC 8-10% (was 26-28%). Top self time:",
  "",
  "| function | 20 tasks | 200 tasks | what it is |",
  "| --- | ---: | ---: | --- |",
  "| (program) + postMessage + (idle) + MessagePort/Event dispatch | ~32% | ~32% | the one real macrotask per step (controller `drive` → `macrotask()`) and Node's work around it. It stays: it is how the controller knows that every promise callback, `process.nextTick` and unhandled-rejection report of a step has happened before it looks at what is ready. Batching steps on `process.nextTick` would stop unhandled rejections being reported at the step that caused them (and miss one handled a step later); forcing Node's rejection processing with a marker rejection costs more than the message (1.2 against 0.8 µs, measured); `setImmediate` and `Atomics.waitAsync` cost 4 and 13 µs. Listening with `port.on(\"message\")` instead of `onmessage` saves ~15% of it |",
  "| (garbage collector) | 7.5% | 10.0% | was 26-28%: whole schedules were promoted to the old generation at every scavenge (see below) |",
  "| `TaskTable` (task-table.ts) | 6.2% | 1.7% | ten typed arrays and three arrays made and filled per run: the largest per-schedule cost left, weighing on small jobs |",
  "| `Controller.drive` | 5.6% | 6.9% | the step loop: mostly the `await` of the macrotask's promise (kept: it runs each step in the exploration's async context) |",
  "| `start` / `sleep` / `#settle` (attempt-runner.ts, attempt.ts) | 8.8% | 9.1% | the attempt and its body's `sleep` (abort-controller-x's `execute`: a promise and four closures per sleep) |",
  "| run invariants (invariants.ts listeners, `afterStep`) | 5.0% | 5.8% | the per-event and per-step checks explore() makes of every run |",
  "| `consult` (fault-injection.ts) | 2.3% | 1.3% | a fault context object per fault point consulted (6 per task), even for points the plan has no rule for |",
  "| `FlotillaError` (task-lifecycle.ts `DependencyFailedError`) | 0.8% | 1.9% | a stack trace captured for each task skipped after a dependency failed for good |",
  "",
  "GC, what changed: every schedule's whole state used to survive each scavenge and be promoted (~1 MB per scavenge at 20 tasks, 5-17 ms pauses),",
  "because something old pointed at it: the test context's `step` getter (an object literal's getter is a new closure, so each context had a",
  "hidden class of its own, and V8 keeps those until a full collection), the controlled runtime's `fault` closure added after the object was",
  "made, the uncontrolled-work watch swapping process-wide listeners per schedule, and an AbortSignal per node start (Node's AbortSignals",
  "survive scavenges; node-keeper.ts now makes it when a provider reads `report.signal`). Now scavenges promote ~30 KB and pause ~1 ms.",
  "Measured on Node 20: storing a closure into an existing field or array element, or adding it as a new property, keeps it (and what it",
  "closes over) alive until the next full GC; an object literal, a constructor parameter, a push or a Map does not.",
];

const readme = [
  "<!-- bench/explore-README.md: a section to paste into bench/README.md; bench/explore.mjs rewrites it each run. -->",
  "## Benchmark: flotilla/testing `explore` vs fast-check's scheduler",
  "",
  "`bench/explore.mjs` measures, in one run, how fast `explore()` (flotilla/testing) runs schedules and how quickly it finds ordering bugs,",
  "against fast-check 4's `fc.scheduler()` on the same DAG shape.",
  "",
  "### What is measured",
  "",
  "- **Graph** (same generator for both libraries, mulberry32 seed 42): n tasks; task i > 0 depends on one random earlier task and, half the time,",
  "  on a second one (task 0 is the only root); body `async ({ sleep }) => { await sleep(k) }` with k in 0..3 ms; concurrency 4.",
  "- **flotilla**: the job is built once; each schedule is `await run(job, { runtime: t.runtime, concurrency: 4 })` inside",
  "  `explore(body, { iterations, seed: 7, strategy })` and asserts the run settled (`succeeded` or `failed`, counts adding up to n).",
  `  Tasks have \`retries: 1, backoff: { initialMs: 1 }\`; faults \`task.attempt\` p=0.05 \`fail\`${guardFaults ? " (with `when: step > 0`, see Anomalies)" : ""},`,
  "  strategies random, pct and default (random and pct in turn: what explore() uses when given no strategy), plus one random row without",
  "  faults. Each task costs 2 decisions (its sleep timer and its completion),",
  "  a retry 1 more. Schedules/s = iterations / `report.durationMs`; µs/decision = `durationMs * 1000 / (iterations * steps.median)`",
  "  (the brief's formula) and, next to it, over the exact number of steps.",
  "- **fast-check**: `fc.check(fc.asyncProperty(fc.scheduler(), body), { numRuns, seed: 7 })`; the body runs the graph with a ~30-line promise",
  "  executor (ready list, concurrency 4): a task is `await s.schedule(Promise.resolve(k))`, and its completion is delivered through a second",
  "  `s.schedule(...)`, so 2 scheduled items per task like flotilla; driven by `s.waitIdle()` or `s.waitFor(executorDone)`; each run checks all",
  "  n tasks completed. No faults, no retries, no invariants: this is the bare cost of fast-check's scheduler. µs/item = wall time / items.",
  "- Each row runs in a fresh process: warm-up (1000 or 100 schedules), calibration, then one timed exploration sized to ~1.3 s (at least 2000",
  `  schedules at 20 tasks, 200 at 200); repeated ${reps} time(s) (same seed and iteration count), median shown. The reps go round the`,
  "  rows (rep 1 of every row, then rep 2, ...), so a change of load on the machine during the run hits every row alike; the goal is a",
  "  ratio of two rows of the same run, and each rep's own ratio is shown too. dist/ is snapshotted to `bench/.snapshot-explore/` (deleted",
  "  at exit).",
  "- **Bug finding**, 50 seeds each: (a) two tasks each `await sleep(5)` then push their id; the test expects `[a, b]`; explore's schedules to",
  "  find = `ScheduleFailure.iteration + 1` (cap 1000); (a') two tasks `async () => id` whose `task:succeeded` events are logged, so only the",
  "  order of the two completions explore delivers matters. (b) the same with fast-check: two `s.schedule(Promise.resolve(id))` then push;",
  "  `numRuns` of `fc.check(..., { seed, endOnFailure: true })`. (c) a timer-ordering bug: `t.runtime.setTimer(10, A)` and `setTimer(10, B)`",
  "  due at the same virtual time, the test expects A first (unlabelled, and labelled `timer A` / `timer B`); for fast-check, two real",
  "  `setTimeout(…, 10)` callbacks (fast-check has no clock and cannot reorder them) and, for contrast, the same timers wrapped in `s.schedule`",
  "  (then fast-check reorders the code awaiting each timer, not the timer callbacks, and real time still passes: 10 ms a run).",
  "",
  "### Running it",
  "",
  "```sh",
  "npm run build && node bench/explore.mjs          # ~1 min",
  "node bench/explore.mjs --quick                   # smoke run: 1 rep, ~0.4 s rows, 20 seeds",
  "node bench/explore.mjs --reps 5 --target-ms 2000 --seeds 50 --max-schedules 1000",
  "```",
  "",
  "Output: the tables on stdout, `bench/explore-results.md` and this section (`bench/explore-README.md`), both overwritten each run.",
  "",
  `### Results (${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores ${os.cpus()[0]?.model.trim().split(" ").slice(0, 2).join(" ") ?? "?"}, Node ${process.versions.node}, ${process.platform} ${process.arch})`,
  "",
  ...header,
  "",
  ...body.map((l) => l.replace(/^### /, "#### ")),
  ...PROFILE.map((l) => l.replace(/^### /, "#### ")),
  "",
];
writeFileSync(`${HERE}explore-README.md`, readme.join("\n"));
log("wrote bench/explore-results.md and bench/explore-README.md");
