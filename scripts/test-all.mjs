#!/usr/bin/env node
/**
 * `npm test`: runs every stage of the suite, even after one fails, then prints each stage's result and
 * duration and exits non-zero if any stage did not pass. Each stage is one of package.json's scripts, so
 * it still runs alone (`npm run test:deno`).
 *
 * The build runs first. Every later stage except vitest and lint uses dist/ (the built package, its .d.ts
 * files, or both), so when the build fails those stages are reported as not run instead of failing for a
 * reason that is not theirs.
 *
 * A stage that runs past its time limit is stopped: its whole process group gets SIGTERM, then SIGKILL,
 * and the summary names it with its last lines of output (for Deno, the test that was running). The
 * limits are far above a loaded 2-core run; they exist so a hang ends the run long before CI's 90 minutes.
 * Per-test timeouts (60 s) are set in each runner: scripts/node-test-timeout.mjs for node --test,
 * testTimeout in vitest.config.mjs, scripts/deno-test-timeout.mjs for Deno.
 *
 * After the build, two stages run at a time (most stages keep about one core busy; on the 2-core machine
 * this cut the run by a fifth to a third), and each line of output carries its stage's name. `--jobs 1`
 * runs them one after another with plain output.
 *
 * Usage: node scripts/test-all.mjs [--jobs N] [stage ...]
 *   --jobs N   stages run at once after the build (default: 2, or 1 on a 1-core machine;
 *              FLOTILLA_TEST_JOBS).
 *   stage ...  run only these stages (the build still runs first when one of them needs dist/).
 */
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";

/** In the order they run; `minutes` is the stage's time limit. */
const STAGES = [
  { name: "build", minutes: 5, needsDist: false },
  { name: "typecheck", minutes: 5, needsDist: true },
  { name: "test:node", minutes: 10, needsDist: true },
  { name: "test:deno", minutes: 15, needsDist: true },
  { name: "test:vitest", minutes: 5, needsDist: false },
  { name: "test:types", minutes: 5, needsDist: true },
  { name: "test:exports", minutes: 5, needsDist: true },
  { name: "test:examples", minutes: 10, needsDist: true },
  { name: "test:browser", minutes: 5, needsDist: true },
  { name: "test:lint", minutes: 2, needsDist: false },
];
const KILL_GRACE_MS = 5_000;
const TAIL_LINES = 15;

function parseArgs(argv) {
  let jobs = process.env.FLOTILLA_TEST_JOBS ?? String(Math.min(2, availableParallelism()));
  const names = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--jobs") jobs = argv[++i];
    else if (argv[i].startsWith("--jobs=")) jobs = argv[i].slice("--jobs=".length);
    else names.push(argv[i]);
  }
  const jobCount = Number(jobs);
  if (!Number.isInteger(jobCount) || jobCount < 1) fail(`--jobs must be a whole number of at least 1, received ${JSON.stringify(jobs)}`);
  const unknown = names.filter((n) => !STAGES.some((s) => s.name === n));
  if (unknown.length > 0) fail(`unknown stage ${unknown.map((n) => JSON.stringify(n)).join(", ")}; the stages are ${STAGES.map((s) => s.name).join(", ")}`);
  return { jobs: jobCount, names };
}

function fail(message) {
  console.error(`test-all: ${message}`);
  process.exit(2);
}

const { jobs, names } = parseArgs(process.argv.slice(2));
const selected =
  names.length === 0
    ? STAGES
    : STAGES.filter((s) => names.includes(s.name) || (s.name === "build" && STAGES.some((t) => names.includes(t.name) && t.needsDist)));
const build = selected.find((s) => s.name === "build");
const rest = selected.filter((s) => s !== build);

/** @type {Map<string, { status: "passed" | "failed" | "timed out" | "not run", ms: number, detail?: string, tail?: string[] }>} */
const results = new Map();
const running = new Set();
let interrupted = false;

// npm sets npm_execpath when it runs this script; calling it through node avoids a shell.
const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ["npm"];

/** Runs one npm script in its own process group; output streams through, lines prefixed when `prefix`. */
function runStage(stage, prefix) {
  return new Promise((resolve) => {
    const started = Date.now();
    const tail = [];
    const [command, ...args] = npm;
    const child = spawn(command, [...args, "run", stage.name], { stdio: ["ignore", "pipe", "pipe"], detached: true });
    const entry = { child, stage };
    running.add(entry);
    console.log(`\n▶ ${stage.name} (limit ${stage.minutes} min)`);

    for (const [stream, out] of [
      [child.stdout, process.stdout],
      [child.stderr, process.stderr],
    ]) {
      let partial = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk) => {
        const lines = (partial + chunk).split("\n");
        partial = lines.pop();
        for (const line of lines) keep(line);
        out.write(prefix ? lines.map((l) => `${prefix}${l}\n`).join("") : chunk);
      });
      stream.on("end", () => {
        if (partial) {
          keep(partial);
          if (prefix) out.write(`${prefix}${partial}\n`);
        }
      });
    }
    function keep(line) {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
    }

    let timedOut = false;
    const limit = setTimeout(() => {
      timedOut = true;
      console.error(`\n✖ ${stage.name} ran past its ${stage.minutes} min limit: stopping its process group`);
      stopGroup(child);
    }, stage.minutes * 60_000);

    child.on("error", (error) => {
      clearTimeout(limit);
      running.delete(entry);
      resolve({ status: "failed", ms: Date.now() - started, detail: `could not start: ${error.message}` });
    });
    child.on("close", (code, signal) => {
      clearTimeout(limit);
      running.delete(entry);
      const ms = Date.now() - started;
      if (timedOut) resolve({ status: "timed out", ms, detail: `stopped after ${stage.minutes} min; its last lines:`, tail });
      else if (code === 0) resolve({ status: "passed", ms });
      else if (interrupted) resolve({ status: "failed", ms, detail: "stopped: the run was interrupted" });
      else resolve({ status: "failed", ms, detail: signal ? `ended by ${signal}` : `exit code ${code}` });
    });
  });
}

/** SIGTERM to the stage's whole process group (npm, the runner, its workers), SIGKILL if it lingers. */
function stopGroup(child) {
  const signalGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // The group is already gone.
    }
  };
  signalGroup("SIGTERM");
  setTimeout(() => signalGroup("SIGKILL"), KILL_GRACE_MS).unref();
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    interrupted = true;
    console.error(`\ntest-all: ${signal}: stopping ${[...running].map((r) => r.stage.name).join(", ") || "nothing"}`);
    for (const { child } of running) stopGroup(child);
  });
}

const suiteStarted = Date.now();
if (build) results.set(build.name, await runStage(build, ""));
const buildFailed = build !== undefined && results.get(build.name).status !== "passed";

const queue = rest.filter((stage) => {
  if (interrupted) {
    results.set(stage.name, { status: "not run", ms: 0, detail: "interrupted" });
    return false;
  }
  if (buildFailed && stage.needsDist) {
    results.set(stage.name, { status: "not run", ms: 0, detail: "it needs dist/ and the build failed" });
    return false;
  }
  return true;
});
const width = Math.max(...queue.map((s) => s.name.length));
const lanes = Math.min(jobs, queue.length);
await Promise.all(
  Array.from({ length: lanes }, async () => {
    for (let stage = queue.shift(); stage; stage = queue.shift()) {
      if (interrupted) results.set(stage.name, { status: "not run", ms: 0, detail: "interrupted" });
      else results.set(stage.name, await runStage(stage, lanes > 1 ? `${stage.name.padEnd(width)} │ ` : ""));
    }
  }),
);

const mark = { passed: "✔", failed: "✖", "timed out": "⏱", "not run": "–" };
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
console.log(`\n── test summary ${"─".repeat(40)}`);
for (const stage of selected) {
  const r = results.get(stage.name) ?? { status: "not run", ms: 0, detail: "interrupted" };
  console.log(
    `${mark[r.status]} ${stage.name.padEnd(14)} ${r.status.padEnd(9)} ${r.status === "not run" ? "" : seconds(r.ms).padStart(8)}${r.detail ? `  ${r.detail}` : ""}`,
  );
  for (const line of r.tail ?? []) console.log(`      │ ${line}`);
}
console.log(`total ${seconds(Date.now() - suiteStarted)}${lanes > 1 ? ` (${lanes} stages at a time)` : ""}`);
const counts = {};
for (const stage of selected) {
  const status = results.get(stage.name)?.status ?? "not run";
  if (status !== "passed") counts[status] = (counts[status] ?? 0) + 1;
}
if (Object.keys(counts).length > 0) {
  const rerun = selected.filter((s) => ["failed", "timed out"].includes(results.get(s.name)?.status)).map((s) => `npm run ${s.name}`);
  console.log(
    `${Object.entries(counts)
      .map(([status, n]) => `${n} ${status}`)
      .join(", ")} of ${selected.length} stages${rerun.length > 0 ? `; to rerun one alone: ${rerun.join(" / ")}` : ""}`,
  );
  process.exitCode = interrupted ? 130 : 1;
}
