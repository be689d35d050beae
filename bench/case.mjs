// One benchmark case in a fresh process: `node --expose-gc bench/case.mjs <lib> <shape> <size> <async|sync> <concurrency>`.
// Builds the spec (untimed), takes a memory baseline after GC, then times building the library's
// own structures + running every task to completion, and prints one JSON line with the figures.
import { readFileSync, writeFileSync } from "node:fs";
import { makeGraph } from "./graphs.mjs";

const [lib, shape, sizeArg, bodyKind = "async", concArg = "64"] = process.argv.slice(2);
const n = Number(sizeArg);
const concurrency = Number(concArg);

let ran = 0;
const body = bodyKind === "sync" ? () => void ran++ : async () => void ran++;

// Each runner: build from the spec, run, verify, and return what the library hands back (kept alive until measured).
const runners = {
  async flotilla(spec) {
    // run.mjs passes a snapshot of dist/index.js taken at its start; run alone, the case uses dist directly.
    const { Job, run } = await import(process.env.FLOTILLA_MODULE ?? "../dist/index.js");
    return async () => {
      const job = new Job("bench");
      const { ids, deps } = spec;
      for (let i = 0; i < ids.length; i++) {
        if (deps[i].length === 0) job.task(ids[i], body);
        else job.task(ids[i], { dependsOn: deps[i] }, body);
      }
      const result = await run(job, { concurrency });
      if (result.status !== "succeeded" || result.counts.succeeded !== n) {
        throw new Error(`flotilla: status ${result.status}, counts ${JSON.stringify(result.counts)}, error ${result.error?.stack ?? result.error}`);
      }
      return result;
    };
  },
  async minimal(spec) {
    const { runMinimal } = await import("./minimal-executor.mjs");
    return () => runMinimal(spec, body, concurrency);
  },
  async pgraph(spec) {
    const { PGraph } = (await import("p-graph")).default;
    return async () => {
      const { ids, deps } = spec;
      const nodes = new Map();
      const edges = [];
      for (let i = 0; i < ids.length; i++) {
        nodes.set(ids[i], { run: body });
        for (const d of deps[i]) edges.push([d, ids[i]]);
      }
      return new PGraph(nodes, edges).run({ concurrency });
    };
  },
  async pqueue(spec) {
    const { runPQueue } = await import("./pqueue-executor.mjs");
    return () => runPQueue(spec, body, concurrency);
  },
};

/** Peak resident set size (VmHWM) in bytes, or undefined off Linux. */
function hwm() {
  try {
    return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))[1]) * 1024;
  } catch {
    return undefined;
  }
}

if (!runners[lib]) throw new Error(`unknown lib "${lib}" (expected one of ${Object.keys(runners).join(", ")})`);
const spec = makeGraph(shape, n);
const go = await runners[lib](spec);

globalThis.gc();
globalThis.gc();
const base = process.memoryUsage();
let hwmReset = false;
try {
  writeFileSync("/proc/self/clear_refs", "5"); // Linux: reset VmHWM to the current RSS
  hwmReset = true;
} catch {}
let peakHeap = base.heapUsed;
let peakRss = base.rss;
let samples = 0;
const sample = () => {
  const m = process.memoryUsage();
  samples++;
  if (m.heapUsed > peakHeap) peakHeap = m.heapUsed;
  if (m.rss > peakRss) peakRss = m.rss;
};
const timer = setInterval(sample, 5).unref();

const t0 = performance.now();
const output = await go();
const ms = performance.now() - t0;

clearInterval(timer);
sample(); // final sample: after the run, before any forced GC, with the output still alive
if (ran !== n) throw new Error(`${lib}: ${ran} bodies ran, expected ${n}`);
const maxRss = process.resourceUsage().maxRSS * 1024;
const hw = hwmReset ? hwm() : undefined;
const MB = 1024 * 1024;
console.log(
  JSON.stringify({
    lib,
    shape,
    n,
    body: bodyKind,
    concurrency,
    ms,
    // Peak RSS over the baseline: VmHWM (reset at baseline) when available, else the sampled peak.
    rssMB: ((hw ?? peakRss) - base.rss) / MB,
    heapMB: (peakHeap - base.heapUsed) / MB,
    maxRssMB: maxRss / MB,
    baseRssMB: base.rss / MB,
    samples,
    kept: typeof output,
  }),
);
