/**
 * Capacity planning in virtual time: the same 2,000-task render job against a simulated cloud under
 * three autoscale settings, with makespan, peak nodes and cost side by side. VMs take 30 to 90 s to
 * boot, spot VMs cost a fifth and are preempted now and then; hours of cloud time take well under a
 * second of real time, and the same seed gives the same table every time.
 */
import { Job, type PoolOptions, pool, run } from "flotilla";
import { cloudVm } from "flotilla/cloud-vm";
import { simulatedCloud, virtualRuntime } from "flotilla/testing";

/** 20 scenes: a setup, 98 frames that wait for it, and an encode (a whole 4-slot node) that waits for every frame: 2,000 tasks. */
function renderJob(): Job<Record<string, unknown>> {
  const job = new Job<Record<string, unknown>>("render");
  for (let s = 0; s < 20; s++) {
    job.task(`scene${s}`, { pool: "render" }, ({ sleep }) => sleep(20_000));
    const frames: string[] = [];
    for (let f = 0; f < 98; f++) {
      frames.push(`scene${s}-frame${f}`);
      job.task(`scene${s}-frame${f}`, { pool: "render", dependsOn: [`scene${s}`] }, ({ sleep }) => sleep(30_000 + ((s * 7 + f * 13) % 20) * 1_000));
    }
    job.task(`scene${s}-encode`, { pool: "render", slots: 4, dependsOn: frames }, ({ sleep }) => sleep(120_000));
  }
  return job;
}

const settings: Record<string, PoolOptions> = {
  "20 dedicated, fixed": { minNodes: 20, maxNodes: 20 },
  "up to 100 dedicated": { maxNodes: 100 },
  "10 dedicated + 150 spot": { maxNodes: 10, lowPriority: { maxNodes: 150 } },
};

const rows: string[][] = [];
const started = performance.now();
for (const [label, options] of Object.entries(settings)) {
  const runtime = virtualRuntime({ seed: 42 });
  const cloud = simulatedCloud({
    runtime,
    seed: 42,
    startLatencyMs: { min: 30_000, max: 90_000 },
    preemptionsPerHour: 0.5,
    costPerNodeHour: { dedicated: 0.4, lowPriority: 0.08 },
  });
  // Clouds take seconds to delete a VM: the pool waits for every delete (up to 2 minutes each) at close().
  const render = pool(cloudVm({ driver: cloud, maxNodes: 1_000, maxConcurrentCalls: 100 }), {
    ...options,
    runtime,
    slotsPerNode: 4,
    idleTimeoutMs: 60_000,
    maxConcurrentStarts: 50,
    costPerNodeHour: { dedicated: 0.4, lowPriority: 0.08 },
    stopTimeoutMs: 120_000,
  });
  const result = await run(renderJob(), { pools: { render }, runtime });
  await render.close();
  const stats = result.pools.render!;
  if (result.status !== "succeeded" || cloud.vms().length > 0) throw new Error(`${label}: ${result.status}, ${cloud.vms().length} VMs left`);
  rows.push([
    label,
    `${(result.durationMs / 60_000).toFixed(1)} min`,
    String(stats.peakNodes),
    `$${stats.cost.toFixed(2)}`,
    String(stats.preemptions),
    `${Math.round(stats.utilization * 100)}%`,
  ]);
}
const real = performance.now() - started;

const header = ["autoscale setting", "makespan", "peak nodes", "cost", "preemptions", "utilization"];
const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c]!)).join("  ");
console.log(line(header));
for (const row of rows) console.log(line(row));
console.log(`3 plans of a 2000-task job in ${real < 1000 ? "under a second" : `${(real / 1000).toFixed(1)} s`} of real time`);
