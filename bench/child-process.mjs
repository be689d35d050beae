// Per-task cost of flotilla's child-process provider beside bare child_process.spawn, in one run.
//
//   npm run build && node bench/child-process.mjs [tasks=500] [rounds=7]
//
// Each round runs four cases on `tasks` spawns of /bin/true, interleaved so drift hits them alike:
//   bare 1      spawn("/bin/true"), awaited ("close") one at a time
//   bare 4      the same, 4 at a time
//   flotilla 1  run(job, { provider: childProcess({ slots: 1 }) }), job = `tasks` independent command(["/bin/true"]) tasks
//   flotilla 4  the same with slots: 4
// and reports the median over rounds of the wall time per task and of this process's CPU time per
// task (user + system: the fork and exec happen in this process), and flotilla's ratios to bare.
import { spawn } from "node:child_process";
import { Job, run } from "../dist/index.js";
import { childProcess, command } from "../dist/child-process.js";

const tasks = Number(process.argv[2] ?? 500);
const rounds = Number(process.argv[3] ?? 7);
const TRUE = "/bin/true";

function spawnTrue() {
  return new Promise((resolve, reject) => {
    const child = spawn(TRUE);
    child.on("error", reject);
    child.on("close", resolve);
  });
}

async function bare(parallel) {
  let next = 0;
  const lane = async () => {
    while (next < tasks) {
      next++;
      await spawnTrue();
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
}

const job = new Job("bench");
for (let i = 0; i < tasks; i++) job.task(`t${i}`, command([TRUE]));

async function flotilla(slots) {
  const result = await run(job, { provider: childProcess({ slots }) });
  if (result.status !== "succeeded") throw new Error(`run ${result.status}: ${result.error}`);
}

const cases = { "bare 1": () => bare(1), "bare 4": () => bare(4), "flotilla 1": () => flotilla(1), "flotilla 4": () => flotilla(4) };
const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
const cpu = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));

for (const fn of Object.values(cases)) await fn(); // warm-up round
for (let r = 0; r < rounds; r++) {
  for (const [name, fn] of Object.entries(cases)) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    samples[name].push((performance.now() - t0) / tasks);
    const c = process.cpuUsage(c0);
    cpu[name].push((c.user + c.system) / 1000 / tasks);
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const m = Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, median(xs)]));
const mc = Object.fromEntries(Object.entries(cpu).map(([k, xs]) => [k, median(xs)]));
console.log(`node ${process.version}, ${tasks} tasks x ${rounds} rounds; medians per task (wall min-max)`);
console.log("case         wall ms               cpu ms");
for (const [name, xs] of Object.entries(samples)) {
  console.log(`${name.padEnd(11)}  ${m[name].toFixed(3)} (${Math.min(...xs).toFixed(3)}-${Math.max(...xs).toFixed(3)})  ${mc[name].toFixed(3)}`);
}
const ratio = (a, b) => (a / b).toFixed(2);
console.log(`flotilla / bare, wall: slots 1 ${ratio(m["flotilla 1"], m["bare 1"])}x, slots 4 ${ratio(m["flotilla 4"], m["bare 4"])}x`);
console.log(`flotilla / bare, cpu:  slots 1 ${ratio(mc["flotilla 1"], mc["bare 1"])}x, slots 4 ${ratio(mc["flotilla 4"], mc["bare 4"])}x`);
console.log(
  `overhead per task, wall: slots 1 ${((m["flotilla 1"] - m["bare 1"]) * 1000).toFixed(0)} µs, slots 4 ${((m["flotilla 4"] - m["bare 4"]) * 1000).toFixed(0)} µs`,
);
