// Cancel latency: N tasks in flight (each waiting on its abort), then `handle.cancel()`; the figure is
// the time from the cancel call to the run's result (every attempt aborted, its body settled, every
// slot released, the result built), with the part spent inside `cancel()` itself. Beside it, the
// floor of a library that gives each task its own AbortSignal: N AbortControllers, one listener each,
// all aborted. Each case runs in its own process (a case's garbage is not another's), a forced GC just
// before the cancel keeps the garbage of building and starting out of the figure, and the cases
// alternate process by process for `--processes` rounds.
//   node bench/cancel.mjs [--tasks 10000] [--rounds 12] [--processes 3] [--module dist/index.js] [--base other/dist/index.js]
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { count, flag } from "./args.mjs";

const n = count("tasks", "10000");
const rounds = count("rounds", "12");
const CASES = ["onAbort", "signal", "sleep", "floor"];

/** Bodies that wait for their abort: through `onAbort`, `signal` or `sleep`. */
const BODIES = {
  onAbort: (ctx) => new Promise((_resolve, reject) => ctx.onAbort(reject)),
  signal: (ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true })),
  sleep: (ctx) => ctx.sleep(3_600_000),
};

/** One round of a flotilla case: [ms inside cancel(), ms to the result]. */
async function flotilla(lib, kind) {
  const job = new lib.Job("cancel");
  let started = 0;
  let allStarted;
  const ready = new Promise((done) => (allStarted = done));
  const body = BODIES[kind];
  for (let i = 0; i < n; i++) {
    job.task(`t${i}`, (ctx) => {
      if (++started === n) allStarted();
      return body(ctx);
    });
  }
  const handle = lib.start(job, { concurrency: n });
  await ready;
  globalThis.gc();
  const t0 = performance.now();
  handle.cancel("bench");
  const inside = performance.now() - t0;
  const result = await handle.result;
  const ms = performance.now() - t0;
  if (result.status !== "cancelled") throw new Error(`expected a cancelled run, got ${result.status}`);
  return [inside, ms];
}

/** One round of the floor: one AbortController per task, as a library that gives each task its own signal has. */
async function floor() {
  const controllers = [];
  const waiting = [];
  for (let i = 0; i < n; i++) {
    const controller = new AbortController();
    controllers.push(controller);
    waiting.push(new Promise((_resolve, reject) => controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true })));
  }
  globalThis.gc();
  const t0 = performance.now();
  for (const controller of controllers) controller.abort("bench");
  const inside = performance.now() - t0;
  await Promise.allSettled(waiting);
  return [inside, performance.now() - t0];
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const child = flag("case", undefined);
if (child !== undefined) {
  // A child: one case, `rounds` measured after two warm-up rounds; prints the medians as JSON.
  const lib = child === "floor" ? undefined : await import(pathToFileURL(resolve(flag("module", "dist/index.js"))).href);
  const figures = [];
  for (let r = 0; r < rounds + 2; r++) {
    const f = child === "floor" ? await floor() : await flotilla(lib, child);
    if (r >= 2) figures.push(f);
  }
  console.log(JSON.stringify({ inside: median(figures.map((f) => f[0])), ms: median(figures.map((f) => f[1])) }));
} else {
  const builds = { flotilla: flag("module", "dist/index.js"), ...(flag("base", undefined) ? { base: flag("base") } : {}) };
  const runs = [];
  for (const [build, module] of Object.entries(builds)) for (const c of CASES) if (c !== "floor" || build === "flotilla") runs.push([build, c, module]);
  const results = new Map(runs.map(([build, c]) => [`${build} ${c}`, []]));
  for (let p = 0; p < count("processes", "3"); p++) {
    for (const [build, c, module] of runs) {
      const out = spawnSync(
        process.execPath,
        ["--expose-gc", new URL(import.meta.url).pathname, "--case", c, "--module", module, "--tasks", String(n), "--rounds", String(rounds)],
        { encoding: "utf8" },
      );
      if (out.status !== 0) throw new Error(`${build} ${c} failed: ${out.stderr}`);
      results.get(`${build} ${c}`).push(JSON.parse(out.stdout));
    }
  }
  const floorMs = median(results.get("flotilla floor").map((f) => f.ms));
  console.log(`cancel of ${n} in-flight tasks: cancel() to result, median over processes of each process's median of ${rounds} rounds`);
  for (const [name, figures] of results) {
    const ms = median(figures.map((f) => f.ms));
    const inside = median(figures.map((f) => f.inside));
    console.log(
      `  ${(name.endsWith("floor") ? "floor: AbortControllers" : name).padEnd(24)} ${ms.toFixed(2).padStart(7)} ms   (inside cancel() ${inside.toFixed(2)} ms)   ${(ms / floorMs).toFixed(2)}x the floor`,
    );
  }
}
