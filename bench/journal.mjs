// The journal's cost per task: the same job run without a journal, with memoryJournal() and with
// fileJournal() (append + fsync per batch), in one run of this script so the ratios compare. Two jobs:
// N in-process tasks that do nothing (the journal's whole cost shows: a worst case), in a layered graph
// (bench/graphs.mjs) at concurrency 64; and M real commands (`sh -c true`) on childProcess(), where the
// fsync competes with real work. Each case runs in a fresh process (cold) and three times in one process
// (warm: the third). Also counted: appends (= fsyncs for the file journal) per task, i.e. how well
// group commit batches.
//   node bench/journal.mjs [--tasks 10000] [--commands 500]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flag } from "./args.mjs";
import { makeGraph } from "./graphs.mjs";

const tasks = Number(flag("tasks") ?? "10000");
const commands = Number(flag("commands") ?? "500");
const dist = new URL("../dist/", import.meta.url);
const KINDS = ["none", "memory", "file"];

async function load() {
  const mods = await Promise.all(["index.js", "file-journal.js", "child-process.js"].map((f) => import(new URL(f, dist).href)));
  return Object.assign({}, ...mods);
}

/** One run: real ms and appends, for journal `kind` and job `which` ("inproc" | "commands"). */
async function runOnce(lib, which, kind) {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-bench-journal-"));
  try {
    let appends = 0;
    let journal;
    if (kind !== "none") {
      const inner = kind === "memory" ? lib.memoryJournal() : lib.fileJournal(join(dir, "bench.journal"));
      journal = { name: inner.name, open: () => inner.open(), append: (r) => (appends++, inner.append(r)), close: () => inner.close() };
    }
    const job = new lib.Job("bench");
    let options;
    let n;
    if (which === "inproc") {
      const { ids, deps } = makeGraph("layered", tasks);
      for (let i = 0; i < ids.length; i++) job.task(ids[i], { dependsOn: deps[i] }, async () => i);
      options = { concurrency: 64 };
      n = tasks;
    } else {
      const { ids, deps } = makeGraph("layered", commands);
      for (let i = 0; i < ids.length; i++) job.task(ids[i], { dependsOn: deps[i] }, lib.command(["sh", "-c", "true"], { output: "none" }));
      options = { provider: lib.childProcess({ slots: 8 }) };
      n = commands;
    }
    const t0 = performance.now();
    const result = await lib.run(job, { ...options, journal });
    const ms = performance.now() - t0;
    if (result.status !== "succeeded" || result.counts.succeeded !== n) throw new Error(`${which}/${kind}: ${result.status} ${result.error}`);
    return { ms, appends, n };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function child(which, kind, mode) {
  const lib = await load();
  let last;
  for (let i = 0; i < (mode === "warm" ? 3 : 1); i++) last = await runOnce(lib, which, kind);
  process.stdout.write(`${JSON.stringify(last)}\n`);
}

function measure(which, kind, mode) {
  const argv = [new URL(import.meta.url).pathname, "--child", which, kind, mode, "--tasks", String(tasks), "--commands", String(commands)];
  const out = spawnSync(process.execPath, argv, { encoding: "utf8" });
  if (out.status !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout.trim().split("\n").pop());
}

const args = process.argv.slice(2);
if (args[0] === "--child") await child(args[1], args[2], args[3]);
else {
  console.log(`journal cost (${tasks} in-process tasks, ${commands} commands; Node ${process.version})`);
  console.log("| job | mode | journal | ms | µs per task | vs none | appends per task |");
  console.log("| --- | --- | --- | ---: | ---: | ---: | ---: |");
  for (const which of ["inproc", "commands"]) {
    for (const mode of ["cold", "warm"]) {
      // Interleaved rounds, the median of three, so a busy moment does not land on one kind only.
      const rounds = KINDS.map(() => []);
      for (let r = 0; r < 3; r++) KINDS.forEach((kind, k) => rounds[k].push(measure(which, kind, mode)));
      const median = (xs) => xs.sort((a, b) => a.ms - b.ms)[1];
      const base = median(rounds[0]).ms;
      KINDS.forEach((kind, k) => {
        const m = median(rounds[k]);
        const label = which === "inproc" ? `${tasks} in-process` : `${commands} commands`;
        console.log(
          `| ${label} | ${mode} | ${kind} | ${m.ms.toFixed(0)} | ${((m.ms * 1000) / m.n).toFixed(1)} | ${(m.ms / base).toFixed(2)}x | ${(m.appends / m.n).toFixed(3)} |`,
        );
      });
    }
  }
}
