// Pools at scale, on the simulated cloud in virtual time (so the figure is flotilla's own work, not
// the cloud's latencies): N independent tasks on a shared pool of up to 1,000 VMs (1 slot each, 30-90 s
// to boot, idle ones let go after a minute), and the real time the run takes. Each size runs in a
// fresh process (cold: JIT warm-up included) and three times in one process (warm: the third run),
// so growth in tasks shows as ms per 1,000 tasks. Then the quick turnaround: a pool asked for 1,000
// VMs whose target drops to 0 while the starts are in flight, and one whose 1,000 idle VMs are let go
// at once: the real time from the scale-down decision to the last node's stop, and the virtual time
// (the cloud's delete latency, here 0-2 s).
//   node bench/pools.mjs [--sizes 25000,50000,100000] [--nodes 1000]
import { spawnSync } from "node:child_process";
import { flag } from "./args.mjs";

const sizes = (flag("sizes") ?? "25000,50000,100000").split(",").map(Number);
const nodes = Number(flag("nodes") ?? "1000");
const dist = new URL("../dist/", import.meta.url);

async function load() {
  const [core, testing, cloudVm] = await Promise.all(["index.js", "testing.js", "cloud-vm.js"].map((f) => import(new URL(f, dist).href)));
  return { ...core, ...testing, ...cloudVm };
}

/** One run of `n` tasks on a fresh pool and cloud: real ms, and what the pool says. */
async function runOnce(lib, n) {
  const runtime = lib.virtualRuntime({ seed: 1 });
  const cloud = lib.simulatedCloud({
    runtime,
    seed: 1,
    apiLatencyMs: { min: 10, max: 100 },
    startLatencyMs: { min: 30_000, max: 90_000 },
    deleteLatencyMs: { min: 0, max: 2_000 },
  });
  const render = lib.pool(lib.cloudVm({ driver: cloud, maxNodes: nodes, maxConcurrentCalls: 1_000 }), {
    runtime,
    maxNodes: nodes,
    maxConcurrentStarts: nodes,
    idleTimeoutMs: 60_000,
  });
  const job = new lib.Job("wide");
  for (let i = 0; i < n; i++) job.task(`t${i}`, { pool: "render" }, ({ sleep }) => sleep(60_000 + (i % 13) * 5_000));
  const t0 = performance.now();
  const result = await lib.run(job, { pools: { render }, runtime });
  const ms = performance.now() - t0;
  await render.close();
  if (result.status !== "succeeded" || cloud.vms().length > 0) throw new Error(`run ${result.status}, ${cloud.vms().length} VMs left`);
  return { ms, virtualMinutes: result.durationMs / 60_000, ...result.pools.render };
}

/**
 * Scale-down: a pool whose policy wants `nodes` VMs while a run uses it, then 0. `inFlight`: the target
 * drops while the starts are in flight (they are aborted); otherwise once every VM is up and idle. The
 * figures: real ms of the evaluation that decides it (`pool:resize` to 0), and real and virtual ms from
 * that decision to the last VM gone from the cloud.
 */
async function scaleDown(lib, inFlight) {
  const runtime = lib.virtualRuntime({ seed: 2 });
  const cloud = lib.simulatedCloud({
    runtime,
    seed: 2,
    apiLatencyMs: 1,
    startLatencyMs: { min: 30_000, max: 90_000 },
    deleteLatencyMs: { min: 0, max: 2_000 },
  });
  let target = nodes;
  const render = lib.pool(lib.cloudVm({ driver: cloud, maxNodes: nodes, maxConcurrentCalls: 1_000 }), {
    runtime,
    maxNodes: nodes,
    maxConcurrentStarts: nodes,
    evaluateIntervalMs: 1_000,
    stopTimeoutMs: 60_000,
    autoscale: () => ({ dedicated: target, lowPriority: 0 }),
  });
  let up = 0;
  render.on("node:start", () => up++);
  let decided;
  render.on("pool:resize", (e) => {
    if (e.dedicated === 0 && decided === undefined) decided = { real: performance.now(), virtual: runtime.now() };
  });
  // A run keeps the pool evaluating (on demand, then every second) until the test says stop.
  let stop;
  const job = new lib.Job("keep").task("keep", () => new Promise((resolve) => (stop = resolve)));
  const kept = lib.run(job, { pools: { render }, runtime }); // its task runs in-process; the run uses the pool
  if (inFlight) while (render.stats().nodes.dedicated.starting < nodes) await new Promise((resolve) => runtime.setTimer(1, resolve));
  else while (up < nodes) await new Promise((resolve) => runtime.setTimer(1_000, resolve));
  const starting = render.stats().nodes.dedicated.starting;
  target = 0;
  while (decided === undefined || cloud.vms().length > 0) await new Promise((resolve) => runtime.setTimer(100, resolve));
  const released = { real: performance.now(), virtual: runtime.now() };
  stop();
  await kept;
  await render.close();
  if (cloud.vms().length > 0) throw new Error(`${cloud.vms().length} VMs left`);
  return { releasedMs: released.real - decided.real, virtualMs: released.virtual - decided.virtual, up, starting };
}

const mode = process.argv[2];
if (mode === "--child") {
  const lib = await load();
  const n = Number(process.argv[3]);
  const cold = await runOnce(lib, n);
  await runOnce(lib, n);
  const warm = await runOnce(lib, n);
  process.stdout.write(JSON.stringify({ n, cold, warm }));
} else if (mode === "--scale-down") {
  const lib = await load();
  process.stdout.write(JSON.stringify({ inFlight: await scaleDown(lib, true), idle: await scaleDown(lib, false) }));
} else {
  console.log(`pools: N tasks on up to ${nodes} simulated VMs (virtual time), Node ${process.version}`);
  console.log("tasks      cold ms   warm ms   warm ms/1k tasks   peak nodes   virtual min   utilization");
  for (const n of sizes) {
    const child = spawnSync(process.execPath, ["--expose-gc", new URL(import.meta.url).pathname, "--child", String(n)], {
      encoding: "utf8",
      maxBuffer: 1 << 24,
    });
    if (child.status !== 0) throw new Error(child.stderr);
    const { cold, warm } = JSON.parse(child.stdout);
    console.log(
      `${String(n).padEnd(10)} ${cold.ms.toFixed(0).padStart(7)}   ${warm.ms.toFixed(0).padStart(7)}   ${((warm.ms / n) * 1000).toFixed(1).padStart(16)}   ${String(warm.peakNodes).padStart(10)}   ${warm.virtualMinutes.toFixed(1).padStart(11)}   ${(warm.utilization * 100).toFixed(0).padStart(10)}%`,
    );
  }
  const child = spawnSync(process.execPath, [new URL(import.meta.url).pathname, "--scale-down"], { encoding: "utf8" });
  if (child.status !== 0) throw new Error(child.stderr);
  const { inFlight, idle } = JSON.parse(child.stdout);
  console.log(
    `scale-down of ${inFlight.starting} starts in flight: every start aborted and its VM gone ${inFlight.releasedMs.toFixed(0)} ms real / ${(inFlight.virtualMs / 1000).toFixed(1)} s virtual after the decision`,
  );
  console.log(
    `scale-down of ${idle.up} idle VMs: capacity released ${idle.releasedMs.toFixed(0)} ms real / ${(idle.virtualMs / 1000).toFixed(1)} s virtual after the decision (the cloud's delete latency: 0-2 s)`,
  );
}
