// Warm mode: one process runs job after job, flotilla interleaved with the minimal executor on the
// same inputs, and prints one JSON line per (shape, body) with the medians.
//   node --expose-gc bench/warm.mjs <size> [--shapes layered] [--bodies async] [--rounds N] [--warmup N] [--concurrency 64] [--gc]
// FLOTILLA_MODULE (default ../dist/index.js) is the build under test; FLOTILLA_BASE_MODULE, when set,
// is a second build (e.g. the commit before a change) run interleaved with it, so both are measured in
// the same process under the same load.
//
// Per round and per contestant (with --gc, after a forced GC, untimed; without it, the garbage of one
// contestant may be collected in another's time, as in a server; the rotation spreads that evenly):
// - "full": build through the public builder (`new Job(...)`, `job.task(id, { dependsOn }, body)`) + `run()`;
//   for minimal, `runMinimal(spec, body, concurrency)` (builds its structures from the spec, then runs);
// - "builder": the build alone: flotilla's builder against `kahnGraph(spec)`, the minimal executor's own
//   build from the same spec of string ids.
// The order of the contestants rotates every round. Ratios are the median over rounds of the ratio
// within a round (contestants of one round ran seconds apart, under the same load).
// Memory: heapUsed + arrayBuffers after two forced GCs with the built structures alive, minus the same before the build.
import { makeGraph } from "./graphs.mjs";
import { kahnGraph } from "./kahn-graph.mjs";
import { runMinimal } from "./minimal-executor.mjs";
import { count, flag, has } from "./args.mjs";

const n = Number(process.argv[2]);
if (!(n >= 3)) throw new Error(`usage: node --expose-gc bench/warm.mjs <size> [...]; received size ${process.argv[2]}`);
if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc");
const shapes = flag("shapes", "layered").split(",").filter(Boolean);
const bodies = flag("bodies", "async").split(",").filter(Boolean);
const concurrency = count("concurrency", "64");
const rounds = count("rounds", n <= 10_000 ? "31" : n <= 100_000 ? "11" : "5");
const warmup = count("warmup", n <= 10_000 ? "20" : n <= 100_000 ? "3" : "1");
const forceGc = has("gc");

const mod = await import(process.env.FLOTILLA_MODULE ?? "../dist/index.js");
const baseUrl = process.env.FLOTILLA_BASE_MODULE;
const base = baseUrl ? await import(baseUrl) : undefined;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
let sink; // keeps a result alive where the measurement needs it

// One copy of the flotilla contestant's code per build (see warm-flotilla.mjs).
const flotillaCode = await import("./warm-flotilla.mjs?flotilla");
const baseCode = base ? await import("./warm-flotilla.mjs?base") : undefined;

function contestants(spec, bodyKind) {
  const ran = { count: 0 };
  const body = bodyKind === "sync" ? () => void ran.count++ : async () => void ran.count++;
  const flotilla = flotillaCode.contestant(mod, spec, body, concurrency, ran);
  const c = { full: { flotilla: flotilla.full }, builder: { flotilla: flotilla.build } };
  if (base) {
    const b = baseCode.contestant(base, spec, body, concurrency, ran);
    c.full.base = b.full;
    c.builder.base = b.build;
  }
  c.full.minimal = async () => {
    ran.count = 0;
    const done = await runMinimal(spec, body, concurrency);
    if (done !== n || ran.count !== n) throw new Error(`minimal: ${ran.count} bodies ran, expected ${n}`);
    return done;
  };
  c.builder.minimal = () => kahnGraph(spec);
  return c;
}

/** Times every contestant of a group once per round (order rotating); returns ms per contestant per round. */
async function measure(group, total, keep) {
  const names = Object.keys(group);
  const times = Object.fromEntries(names.map((k) => [k, []]));
  for (let r = 0; r < total; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length];
      if (forceGc) globalThis.gc();
      const t0 = performance.now();
      sink = await group[name]();
      const ms = performance.now() - t0;
      sink = undefined;
      if (r >= total - keep) times[name].push(ms);
    }
  }
  return times;
}

/** Heap used, typed arrays' buffers included (they live outside V8's heap). */
const used = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/** Memory used with `build()`'s result alive, minus before it (both after two forced GCs), in MB. */
function retainedMB(build) {
  globalThis.gc();
  globalThis.gc();
  const before = used();
  sink = build();
  globalThis.gc();
  globalThis.gc();
  const after = used();
  sink = undefined;
  return (after - before) / (1024 * 1024);
}

function summary(times) {
  const out = {};
  for (const [name, ts] of Object.entries(times)) {
    out[name] = { ms: median(ts), nsPerTask: (median(ts) * 1e6) / n };
    if (name !== "minimal") out[name].ratio = median(ts.map((t, r) => t / times.minimal[r]));
  }
  if (times.base) out.flotilla.vsBase = median(times.flotilla.map((t, r) => t / times.base[r]));
  return out;
}

for (const shape of shapes) {
  const spec = makeGraph(shape, n);
  for (const bodyKind of bodies) {
    const c = contestants(spec, bodyKind);
    const full = await measure(c.full, warmup + rounds, rounds);
    const builder = await measure(c.builder, warmup + rounds, rounds);
    const memory = {};
    for (const [name, build] of Object.entries(c.builder)) memory[name] = retainedMB(build);
    console.log(
      JSON.stringify({ shape, n, body: bodyKind, concurrency, rounds, warmup, forceGc, full: summary(full), builder: summary(builder), memoryMB: memory }),
    );
  }
}
