// biome-ignore-all lint/suspicious/noTemplateCurlyInString: job files write a range's placeholder as ${i} in plain strings
/**
 * The dry run of a job file: the job against simulated-cloud pools in virtual time, every task waiting
 * its `estimateMs`, nothing executed. Makespans follow from the estimates, start latencies and slots;
 * peak nodes and cost from the pools' declarations; the same seed gives the same report.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadJobFile } from "../cli/job-file/index.ts";
import { FlotillaError } from "../src/index.ts";

const examples = fileURLToPath(new URL("../examples/jobs/", import.meta.url));
const fixtures = fileURLToPath(new URL("./fixtures/job-files/", import.meta.url));
const dir = realpathSync(mkdtempSync(join(tmpdir(), "flotilla-job-file-dry-")));
after(() => rmSync(dir, { recursive: true, force: true }));

function jobFile(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, lines.join("\n"));
  return path;
}

/** 1,000 tasks: a start, then 333 chains a-i -> b-i -> c-i, each task 1000 ms, on a cloud of 333 VMs that boot in 30 s. */
function thousandTasks(name: string, pool: string): string {
  return jobFile(name, [
    "name: thousand",
    "defaults: { estimateMs: 1000 }",
    "pools:",
    `  vms: { provider: cloud, ${pool}, startLatencyMs: 30000, apiLatencyMs: 0, deleteLatencyMs: 0, costPerNodeHour: 0.5, maxConcurrentCalls: 1000, maxConcurrentStarts: 1000 }`,
    "tasks:",
    "  - { id: start, command: [echo] }",
    '  - { id: "a-${i}", range: { from: 1, to: 333 }, command: [echo], dependsOn: [start] }',
    '  - { id: "b-${i}", range: { from: 1, to: 333 }, command: [echo], dependsOn: ["a-${i}"] }',
    '  - { id: "c-${i}", range: { from: 1, to: 333 }, worker: { module: ./tasks.mjs }, dependsOn: ["b-${i}"] }',
  ]);
}
writeFileSync(join(dir, "tasks.mjs"), "export default () => 1;\n");

describe("dry runs", () => {
  it("plans a 1,000-task job: nodes started up front, the chain of 4 × 1000 ms after their 30 s boot", async (t) => {
    const loaded = await loadJobFile(thousandTasks("thousand-fixed.yaml", "maxNodes: 333, minNodes: 333"));
    const started = performance.now();
    const report = await loaded.dryRun();
    t.diagnostic(`dry run of ${report.tasks} tasks: ${Math.round(performance.now() - started)} ms of real time`);
    assert.equal(report.status, "succeeded");
    assert.equal(report.tasks, 1000);
    assert.equal(report.criticalPathMs, 4000);
    assert.deepEqual(report.criticalPath.slice(0, 2), ["start", "a-1"]);
    assert.equal(report.criticalPath.length, 4);
    // Every node boots at once (minNodes), the longest chain then runs without waiting: 30 s + 4 s.
    assert.equal(report.makespanMs, 30_000 + 4_000);
    assert.deepEqual(report.peakNodes, { vms: 333 });
    // 333 nodes from their start request to the end of the run, at 0.5 a node-hour.
    assert.ok(Math.abs(report.cost - (333 * 34 * 0.5) / 3600) < 1e-9, String(report.cost));
    assert.equal(report.pools.vms!.tasks, 1000);
    assert.equal(report.pools.vms!.provider, "cloud");
  });

  it("plans the same job with nodes started on demand: one boot for start, a second for the 332 more its dependents need", async () => {
    const report = await (await loadJobFile(thousandTasks("thousand-scaled.yaml", "maxNodes: 333"))).dryRun();
    assert.ok(report.makespanMs >= report.criticalPathMs + 30_000);
    assert.equal(report.makespanMs, 30_000 + 1_000 + 30_000 + 3_000);
    assert.equal(report.peakNodes.vms, 333);
  });

  it("models a processes pool as one node of its slots that starts at once and costs nothing", async () => {
    const path = jobFile("local.yaml", [
      "name: local",
      "pools:",
      "  sh: { provider: processes, slots: 4 }",
      "tasks:",
      '  - { id: "t-${i}", range: { from: 1, to: 8 }, command: [echo], estimateMs: 1000 }',
      '  - { id: wide, command: [echo], slots: 4, estimateMs: 500, dependsOn: ["t-[1..8]"] }',
    ]);
    const report = await (await loadJobFile(path)).dryRun();
    // 8 tasks on 4 slots take two rounds; the wide task then takes the whole node.
    assert.equal(report.makespanMs, 2_500);
    assert.deepEqual(report.peakNodes, { sh: 1 });
    assert.equal(report.cost, 0);
    assert.deepEqual(
      { provider: report.pools.sh!.provider, maxNodes: report.pools.sh!.maxNodes, slotsPerNode: report.pools.sh!.slotsPerNode },
      {
        provider: "processes",
        maxNodes: 1,
        slotsPerNode: 4,
      },
    );
  });

  it("models a threads pool as its threads, each with tasksPerThread slots", async () => {
    const path = jobFile("threads.yaml", [
      "name: threads",
      "pools:",
      "  cpu: { provider: threads, threads: 3, tasksPerThread: 1 }",
      "tasks:",
      `  - { id: "w-\${i}", range: { from: 1, to: 6 }, worker: { module: ${join(fixtures, "tasks.mjs")} }, estimateMs: 700 }`,
    ]);
    const report = await (await loadJobFile(path)).dryRun();
    assert.equal(report.makespanMs, 1_400);
    assert.deepEqual(report.peakNodes, { cpu: 3 });
  });

  it("runs nothing: a command that would write a file leaves none", async () => {
    const path = jobFile("touch.yaml", [
      "name: touch",
      "tasks:",
      "  - id: touch",
      "    command: [node, -e, \"require('node:fs').writeFileSync('touched.txt', 'x')\"]",
    ]);
    const report = await (await loadJobFile(path)).dryRun();
    assert.equal(report.status, "succeeded");
    assert.equal(report.makespanMs, 1_000); // the default estimate
    assert.equal(existsSync(join(dir, "touched.txt")), false);
  });

  it("prices cloud nodes by costPerNodeHour, low-priority ones at a fifth unless given", async () => {
    const path = jobFile("spot.yaml", [
      "name: spot",
      "pools:",
      "  vms: { provider: cloud, maxNodes: 0, lowPriority: { maxNodes: 2, minNodes: 2 }, startLatencyMs: 0, apiLatencyMs: 0, deleteLatencyMs: 0, costPerNodeHour: 10 }",
      "tasks:",
      "  - { id: a, command: [echo], estimateMs: 3600000 }",
      "  - { id: b, command: [echo], estimateMs: 3600000 }",
    ]);
    const report = await (await loadJobFile(path)).dryRun();
    assert.equal(report.makespanMs, 3_600_000);
    assert.ok(Math.abs(report.cost - 2 * 10 * 0.2) < 1e-9, String(report.cost));
  });

  it("gives the same report for the same seed, and draws other start latencies for another", async () => {
    const path = jobFile("seeded.yaml", [
      "name: seeded",
      "pools:",
      "  vms: { provider: cloud, maxNodes: 5, startLatencyMs: { min: 10000, max: 90000 } }",
      "tasks:",
      '  - { id: "t-${i}", range: { from: 1, to: 20 }, command: [echo], estimateMs: 5000 }',
    ]);
    const loaded = await loadJobFile(path);
    const makespans = await Promise.all([1, 1, 2, 3, 4].map(async (seed) => (await loaded.dryRun({ seed })).makespanMs));
    assert.equal(makespans[0], makespans[1]);
    assert.ok(new Set(makespans).size > 1, `the same makespan for every seed: ${makespans}`);
    assert.equal((await loaded.dryRun({ seed: 2 })).seed, 2);
    await assert.rejects(loaded.dryRun({ seed: 1.5 }), (e: unknown) => e instanceof FlotillaError && /option "seed" must be an integer/.test(e.message));
  });

  it("reports a plan that fails: a timeoutMs shorter than the task's estimate times out, and its dependents are skipped", async () => {
    const path = jobFile("timeout.yaml", [
      "name: timeout",
      "tasks:",
      "  - { id: slow, command: [echo], estimateMs: 5000, timeoutMs: 1000, retries: 1 }",
      "  - { id: after, command: [echo], dependsOn: [slow] }",
    ]);
    const report = await (await loadJobFile(path)).dryRun();
    assert.equal(report.status, "failed");
    assert.deepEqual(
      report.unfinished.map((u) => [u.id, u.status]),
      [
        ["slow", "failed"],
        ["after", "skipped"],
      ],
    );
    assert.match(report.unfinished[0]!.reason, /timed out after 1000 ms/);
  });

  it("plans the examples, and a module's Job (each task assumed to take 1 s)", async () => {
    const shards = await (await loadJobFile(join(examples, "shards.yaml"))).dryRun();
    // prepare 5 s, then 8 shards of 30 s on 4 slots, then merge 10 s.
    assert.equal(shards.makespanMs, 5_000 + 2 * 30_000 + 10_000);
    assert.deepEqual(shards.criticalPath, ["prepare", "shard-1", "merge"]);
    const words = await (await loadJobFile(join(examples, "word-count.json"))).dryRun();
    assert.equal(words.makespanMs, 2_000 + 2_000 + 500);
    const instance = await (await loadJobFile(join(fixtures, "job-instance.mjs"))).dryRun();
    assert.equal(instance.makespanMs, 2_000);
    assert.deepEqual(Object.keys(instance.peakNodes), ["sh", "default"]);
  });
});
