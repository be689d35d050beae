// Cancel latency: N tasks in flight (each waiting on its abort signal), then `handle.cancel()`; the
// figure is the time from the cancel call to the run's result (every attempt aborted, its body
// settled, every slot released, the result built). Beside it, in the same process and rounds, the
// floor: N promises each waiting on its own AbortSignal, all aborted (what a library that gives each
// task a signal pays at least).
//   node --expose-gc bench/cancel.mjs [--tasks 10000] [--rounds 15] [--module ../dist/index.js]
import { count, flag } from "./args.mjs";

const n = count("tasks", "10000");
const rounds = count("rounds", "15");
const { Job, start } = await import(flag("module", "../dist/index.js"));

/** Bodies that wait for their abort: through `onAbort`, `signal` or `sleep`. */
const BODIES = {
  onAbort: (ctx) => new Promise((_resolve, reject) => ctx.onAbort(reject)),
  signal: (ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true })),
  sleep: (ctx) => ctx.sleep(3_600_000),
};

async function flotilla(kind) {
  const job = new Job("cancel");
  let started = 0;
  let allStarted;
  const ready = new Promise((resolve) => (allStarted = resolve));
  const body = BODIES[kind];
  for (let i = 0; i < n; i++) {
    job.task(`t${i}`, (ctx) => {
      if (++started === n) allStarted();
      return body(ctx);
    });
  }
  const handle = start(job, { concurrency: n });
  await ready;
  const t0 = performance.now();
  handle.cancel("bench");
  const result = await handle.result;
  const ms = performance.now() - t0;
  if (result.status !== "cancelled") throw new Error(`expected a cancelled run, got ${result.status}`);
  return ms;
}

async function floor() {
  // One AbortController per task, as a library that gives each task its own signal has.
  const controllers = [];
  const waiting = [];
  for (let i = 0; i < n; i++) {
    const controller = new AbortController();
    controllers.push(controller);
    waiting.push(new Promise((_resolve, reject) => controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true })));
  }
  const t0 = performance.now();
  for (const controller of controllers) controller.abort("bench");
  await Promise.allSettled(waiting);
  return performance.now() - t0;
}

const cases = { ...Object.fromEntries(Object.keys(BODIES).map((k) => [`flotilla ${k}`, () => flotilla(k)])), "floor: AbortControllers": floor };
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let r = 0; r < rounds + 2; r++) {
  for (const [name, once] of Object.entries(cases)) {
    globalThis.gc?.();
    const ms = await once();
    if (r >= 2) times[name].push(ms); // two warm-up rounds
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const floorMs = median(times["floor: AbortControllers"]);
console.log(`cancel of ${n} in-flight tasks: cancel() to result, median of ${rounds} rounds (warm process)`);
for (const [name, xs] of Object.entries(times)) {
  const m = median(xs);
  console.log(`  ${name.padEnd(24)} ${m.toFixed(2).padStart(8)} ms   (min ${Math.min(...xs).toFixed(2)}, max ${Math.max(...xs).toFixed(2)})   ${(m / floorMs).toFixed(1)}x the floor`);
}
