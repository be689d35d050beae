// Benchmark driver: runs every (body, shape, size, lib) case in a fresh child process
// (bench/case.mjs), takes the median of the repetitions, prints the tables and ratios to stdout
// and writes them as markdown to bench/results.md.
//   node --expose-gc bench/run.mjs [--quick] [--sizes 10000,100000] [--libs flotilla,minimal]
//     [--shapes chain,fanout,layered] [--bodies async,sync] [--reps N] [--concurrency 64] [--timeout 60]
//     [--cold | --warm] [--rounds N] [--warmup N] [--gc] [--base path/to/other/dist]
// Two sections: "cold" (every case in a fresh process, bench/case.mjs) and "warm" (one process per size
// running job after job, flotilla interleaved with the minimal executor, bench/warm.mjs); both run by
// default, `--cold` or `--warm` runs one. The warm section runs the layered shape with the async body
// unless --shapes / --bodies are given; `--base` adds a second flotilla build to it, interleaved.
import { execSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import os from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import { SHAPES } from "./graphs.mjs";
import { count, flag, has } from "./args.mjs";

const LIBS = ["flotilla", "minimal", "pgraph", "pqueue"];
const LABEL = { flotilla: "flotilla", minimal: "minimal", pgraph: "p-graph@2", pqueue: "p-queue@9 Kahn" };
const SYNC_LIBS = ["flotilla", "minimal"]; // p-graph and p-queue always await, a sync body changes nothing for them

const list = (name, fallback) => flag(name, fallback.join(",")).split(",").filter(Boolean);
const quick = has("quick");
const sizes = list("sizes", quick ? ["10000"] : ["10000", "100000", "1000000"]).map(Number);
const libs = list("libs", LIBS);
const shapes = list("shapes", SHAPES);
const bodies = list("bodies", ["async", "sync"]);
const concurrency = count("concurrency", "64");
const timeoutS = count("timeout", "60");
const repsFor = (n) => count("reps", n <= 100_000 ? "3" : "1");
const coldOn = !has("warm");
const warmOn = !has("cold");
const warmShapes = flag("shapes", "layered").split(",").filter(Boolean);
const warmBodies = flag("bodies", "async").split(",").filter(Boolean);
const baseDir = flag("base", undefined);
for (const l of libs) if (!LIBS.includes(l)) throw new Error(`unknown lib ${l}; known: ${LIBS.join(", ")}`);
for (const s of shapes) if (!SHAPES.includes(s)) throw new Error(`unknown shape ${s}; known: ${SHAPES.join(", ")}`);

const caseFile = fileURLToPath(new URL("./case.mjs", import.meta.url));
const warmFile = fileURLToPath(new URL("./warm.mjs", import.meta.url));

/** Runs one case once in a child process: resolves to the case's JSON figures, { timeout }, or { error }. */
function runOnce(lib, shape, n, body) {
  return new Promise((resolve) => {
    const argv = ["--expose-gc", caseFile, lib, shape, String(n), body, String(concurrency)];
    const env = { ...process.env, FLOTILLA_MODULE: pathToFileURL(snapshot).href };
    const child = spawn(process.execPath, argv, { env, stdio: ["ignore", "pipe", "pipe"], timeout: timeoutS * 1000, killSignal: "SIGKILL" });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code, signal) => {
      if (signal === "SIGKILL") return resolve({ timeout: true });
      if (code !== 0) return resolve({ error: err.trim().split("\n").slice(0, 8).join("\n") || `exit ${code} ${signal}` });
      resolve(JSON.parse(out.trim().split("\n").pop()));
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs a case `reps` times (stopping at a timeout or error) and keeps the median of each figure. */
async function runCase(lib, shape, n, body) {
  const runs = [];
  for (let r = 0; r < repsFor(n); r++) {
    const res = await runOnce(lib, shape, n, body);
    if (res.timeout || res.error) return { lib, shape, n, body, ...res };
    runs.push(res);
  }
  const pick = (k) => median(runs.map((x) => x[k]));
  return { lib, shape, n, body, reps: runs.length, ms: pick("ms"), rssMB: pick("rssMB"), heapMB: pick("heapMB"), maxRssMB: pick("maxRssMB") };
}

// ---- formatting ----
const f = (x, d = 1) => (x === undefined ? "" : x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d }));
const sizeLabel = (n) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));
const ratio = (a, b) => (a === undefined || b === undefined || b <= 0 ? "–" : `${f(a / b, 2)}x`);

function resultRow(r) {
  const head = [LABEL[r.lib], r.shape, sizeLabel(r.n)];
  if (r.timeout) return [...head, `timeout (>${timeoutS} s)`, "", "", "", "", ""];
  if (r.error) return [...head, "ERROR", "", "", "", "", ""];
  const ns = (r.ms * 1e6) / r.n;
  return [...head, f(r.ms), f(ns, 0), f((r.n / r.ms) * 1000, 0), f(r.rssMB), f(r.heapMB), f(r.maxRssMB, 0)];
}
const RESULT_HEAD = ["lib", "shape", "tasks", "ms", "ns/task", "tasks/s", "peak RSS Δ MB", "heap Δ MB", "maxRSS MB"];

/** a/b of times; a timed-out side counts as the time limit, giving a bound (">" or "<"). */
function timeRatio(a, b) {
  if (!a || !b || a.error || b.error) return "–";
  if (a.timeout && b.timeout) return "both timeout";
  const limit = timeoutS * 1000;
  return (a.timeout ? ">" : b.timeout ? "<" : "") + ratio(a.timeout ? limit : a.ms, b.timeout ? limit : b.ms);
}

function ratioRows(results, body) {
  const get = (lib, shape, n) => results.find((r) => r.lib === lib && r.shape === shape && r.n === n && r.body === body);
  const rows = [];
  for (const n of sizes) {
    for (const shape of shapes) {
      const [fl, mi, pg, pq] = ["flotilla", "minimal", "pgraph", "pqueue"].map((lib) => get(lib, shape, n));
      const slow = fl?.ms !== undefined && mi?.ms !== undefined ? fl.ms / mi.ms > 2 : fl?.timeout && mi?.ms !== undefined;
      rows.push([
        shape,
        sizeLabel(n),
        (slow ? "⚠ " : "") + timeRatio(fl, mi),
        ratio(fl?.rssMB, mi?.rssMB),
        ratio(fl?.heapMB, mi?.heapMB),
        timeRatio(pg, fl),
        timeRatio(pq, fl),
      ]);
    }
  }
  return rows;
}
const RATIO_HEAD = [
  "shape",
  "tasks",
  "flotilla/minimal time",
  "flotilla/minimal peak RSS Δ",
  "flotilla/minimal heap Δ",
  "p-graph/flotilla time",
  "p-queue/flotilla time",
];

function textTable(head, rows) {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i < 3 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  ");
  return [line(head), w.map((x) => "-".repeat(x)).join("  "), ...rows.map(line)].join("\n");
}
function mdTable(head, rows) {
  const align = head.map((_, i) => (i < 3 ? "---" : "---:"));
  return [head, align, ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

// ---- main ----
// Every case imports the same snapshot of dist/ (index.js and the chunks it shares with the other
// entries), so a rebuild during the run cannot mix builds.
// It lives under bench/ so its bare imports still resolve from node_modules; it is removed on exit.
const snapshotDir = fileURLToPath(new URL("./.snapshot/", import.meta.url));
const snapshot = snapshotDir + "index.js";
cpSync(fileURLToPath(new URL("../dist/", import.meta.url)), snapshotDir, { recursive: true });
process.on("exit", () => rmSync(snapshotDir, { recursive: true, force: true }));
process.on("SIGINT", () => process.exit(130));
const { Job, run } = await import(pathToFileURL(snapshot).href); // fail early on a broken build
if (typeof Job !== "function" || typeof run !== "function") throw new Error("dist/index.js does not export Job and run");
const distHash = () => createHash("sha256").update(readFileSync(snapshot)).digest("hex").slice(0, 12);
const gitHead = () => {
  try {
    return execSync("git rev-parse --short HEAD", { cwd: fileURLToPath(new URL(".", import.meta.url)), stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return "unknown";
  }
};
const started = new Date();
const baseModule = baseDir === undefined ? undefined : pathToFileURL(resolvePath(baseDir, baseDir.endsWith(".js") ? "" : "index.js")).href;
const about = [
  `Date: ${started.toISOString().slice(0, 10)}; Node ${process.version}; ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}); ${os.platform()} ${os.arch()}.`,
  `flotilla: dist/index.js sha256 ${distHash()}… (snapshot taken at start) (git HEAD ${gitHead()}).` +
    (baseModule === undefined
      ? ""
      : ` Base build (warm section): ${fileURLToPath(baseModule)}, sha256 ${createHash("sha256")
          .update(readFileSync(new URL(baseModule)))
          .digest("hex")
          .slice(0, 12)}….`),
  `Concurrency ${concurrency} for every executor.`,
];
const coldAbout = [
  `Each case runs in a fresh \`node --expose-gc\` process; ` +
    `figures are the median of 3 processes for 10k/100k tasks and a single process for 1M (time limit ${timeoutS} s).`,
  `Timed region = building the executor's own structures from the plain spec + running every task to completion.`,
  `peak RSS Δ = peak RSS (Linux VmHWM, reset after the baseline) minus the RSS baseline after GC; heap Δ = heapUsed after the run (before GC, result still alive) minus baseline; maxRSS = process.resourceUsage().maxRSS (absolute, includes Node itself).`,
];
console.log(about.join("\n") + "\n");

const md = [`# flotilla benchmark results\n`, ...about.map((a) => a + "  "), ""];
if (coldOn) await cold();
if (warmOn) await warm();
writeFileSync(new URL("./results.md", import.meta.url), md.join("\n"));
console.log(`\nWrote bench/results.md (${((Date.now() - started) / 1000).toFixed(0)} s).`);

async function cold() {
  console.log(coldAbout.join("\n"));
  md.push("## Cold: every case in a fresh process\n", ...coldAbout.map((a) => a + "  "), "");
  const results = [];
  const plan = [];
  for (const body of bodies)
    for (const n of sizes)
      for (const shape of shapes) for (const lib of libs) if (body === "async" || SYNC_LIBS.includes(lib)) plan.push([lib, shape, n, body]);
  for (const [i, [lib, shape, n, body]] of plan.entries()) {
    const r = await runCase(lib, shape, n, body);
    results.push(r);
    const what = r.timeout ? "timeout" : r.error ? `ERROR\n${r.error}` : `${f(r.ms)} ms, ${f(r.rssMB)} MB`;
    console.error(`[${i + 1}/${plan.length}] ${body} ${LABEL[lib]} ${shape} ${sizeLabel(n)}: ${what}`);
  }

  for (const body of bodies) {
    const rows = results.filter((r) => r.body === body).map(resultRow);
    if (rows.length === 0) continue;
    const title = body === "async" ? "Body `async () => {}` (every task returns a promise)" : "Body `() => undefined` (synchronous; flotilla and minimal only)";
    console.log(`\n== ${title} ==\n${textTable(RESULT_HEAD, rows)}`);
    md.push(`### ${title}\n`, mdTable(RESULT_HEAD, rows), "");
    if (libs.includes("flotilla")) {
      const rr = ratioRows(results, body);
      console.log(`\nRatios (${body} body; ⚠ = flotilla more than 2x the minimal floor):\n${textTable(RATIO_HEAD, rr)}`);
      md.push(`#### Ratios (${body} body; ⚠ = flotilla more than 2x the minimal floor)\n`, mdTable(RATIO_HEAD, rr), "");
    }
  }
  const errors = results.filter((r) => r.error);
  for (const r of errors) {
    const msg = `\nERROR in ${r.body} ${LABEL[r.lib]} ${r.shape} ${sizeLabel(r.n)} (repro: node --expose-gc bench/case.mjs ${r.lib} ${r.shape} ${r.n} ${r.body} ${concurrency}):\n${r.error}`;
    console.log(msg);
    md.push("```", msg.trim(), "```", "");
  }
}

// ---- warm section: one bench/warm.mjs process per size ----

/** Runs bench/warm.mjs for one size: resolves to its JSON lines, or { error }. */
function runWarm(n) {
  return new Promise((resolve) => {
    const argv = ["--expose-gc", warmFile, String(n), "--shapes", warmShapes.join(","), "--bodies", warmBodies.join(","), "--concurrency", String(concurrency)];
    for (const name of ["rounds", "warmup"]) if (flag(name, undefined) !== undefined) argv.push(`--${name}`, String(count(name)));
    if (has("gc")) argv.push("--gc");
    const env = { ...process.env, FLOTILLA_MODULE: pathToFileURL(snapshot).href };
    if (baseModule !== undefined) env.FLOTILLA_BASE_MODULE = baseModule;
    else delete env.FLOTILLA_BASE_MODULE;
    const child = spawn(process.execPath, argv, { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code, signal) => {
      if (code !== 0) return resolve({ error: err.trim().split("\n").slice(0, 8).join("\n") || `exit ${code} ${signal}` });
      resolve(
        out
          .trim()
          .split("\n")
          .filter(Boolean)
          .map((line) => JSON.parse(line)),
      );
    });
  });
}

async function warm() {
  const warmAbout = [
    `One process per size runs job after job: each round times${has("gc") ? ", after a forced GC (untimed; --gc)," : " (no forced GC: a contestant may pay for collecting another's garbage, as in a server; the rotating order spreads it)"} flotilla (\`new Job()\` + \`job.task(id, { dependsOn }, body)\` per task + \`run()\`)` +
      `${baseModule === undefined ? "" : ", the base build (same)"} and the minimal executor (its build from the same spec + run), in an order that rotates every round; ` +
      `then the same for the build alone (flotilla's builder against the minimal executor's \`kahnGraph(spec)\`). Warm-up rounds first, then measured rounds (by default 20 + 31 at 10k, 3 + 11 at 100k, 1 + 5 at 1M; \`--warmup\`, \`--rounds\`).`,
    `µs/task = median over the measured rounds; ratio = median over rounds of flotilla's time / minimal's time in the same round. ` +
      `heap MB = heapUsed + arrayBuffers (typed arrays' memory) after two forced GCs with the built job (flotilla) or graph (minimal) alive, minus the same before the build.`,
  ];
  console.log("\n== Warm: job after job in one process ==\n" + warmAbout.join("\n"));
  md.push("## Warm: job after job in one process\n", ...warmAbout.map((a) => a + "  "), "");
  const rows = [];
  for (const n of sizes) {
    const lines = await runWarm(n);
    if (lines.error) {
      console.log(`\nERROR in warm ${sizeLabel(n)}:\n${lines.error}`);
      md.push("```", `ERROR in warm ${sizeLabel(n)}:\n${lines.error}`, "```", "");
      continue;
    }
    for (const r of lines) {
      const us = (x) => f(x.nsPerTask / 1000, 3);
      const mem = r.memoryMB;
      const row = [
        r.shape,
        r.body,
        sizeLabel(r.n),
        us(r.full.flotilla),
        us(r.full.minimal),
        `${f(r.full.flotilla.ratio, 2)}x`,
        us(r.builder.flotilla),
        us(r.builder.minimal),
        `${f(r.builder.flotilla.ratio, 2)}x`,
        f(mem.flotilla, 1),
        f(mem.minimal, 1),
        ratio(mem.flotilla, mem.minimal),
      ];
      if (baseModule !== undefined) {
        row.push(
          us(r.full.base),
          `${f(r.full.base.ratio, 2)}x`,
          `${f(r.full.flotilla.vsBase, 2)}x`,
          us(r.builder.base),
          `${f(r.builder.base.ratio, 2)}x`,
          `${f(r.builder.flotilla.vsBase, 2)}x`,
          f(mem.base, 1),
        );
      }
      rows.push(row);
      console.error(`[warm ${sizeLabel(n)}] ${r.shape} ${r.body}: full ${f(r.full.flotilla.ratio, 2)}x, builder ${f(r.builder.flotilla.ratio, 2)}x`);
    }
  }
  const head = [
    "shape",
    "body",
    "tasks",
    "flotilla µs/task",
    "minimal µs/task",
    "flotilla/minimal",
    "builder µs/task",
    "minimal build µs/task",
    "builder/minimal build",
    "flotilla heap MB",
    "minimal heap MB",
    "heap ratio",
  ];
  if (baseModule !== undefined)
    head.push("base µs/task", "base/minimal", "flotilla/base", "base builder µs/task", "base builder/minimal build", "builder/base builder", "base heap MB");
  if (rows.length > 0) {
    console.log("\n" + textTable(head, rows));
    md.push(mdTable(head, rows), "");
  }
}
