/**
 * bullmq({ boot }): a pool that boots its own agents on VMs of a VmDriver — here `localVms()` (VMs are
 * processes on this machine) running the built `flotilla agent` — takes each as a node once it is seen
 * alive, replaces one whose VM dies mid-job, and deletes every VM when the pool closes. Real Redis,
 * real processes. The agents run dist/ (bin/flotilla.mjs): `npm test` builds it first; alone, run
 * `npm run -s build` before.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bullmq } from "../adapters/bullmq/index.ts";
import { localVms } from "../adapters/cloud-vm/index.ts";
import { workerTask } from "../adapters/worker-threads/index.ts";
import { Job, pool, start } from "../src/index.ts";
import { deferred } from "./helpers.ts";
import { type RedisServer, hasRedisServer, startRedisServer } from "./redis-server.ts";

const MODULES = new URL("./fixtures/bullmq-remote/", import.meta.url);
const TASKS = new URL("tasks.mjs", MODULES);
const ROOT = fileURLToPath(new URL("../", import.meta.url));
// The agents run the built command on Node, also when this test runs under Deno.
const NODE = (process.versions as { deno?: string }).deno === undefined ? process.execPath : "node";
const skip = hasRedisServer() ? false : "redis-server is not installed (.ci/run installs it)";

describe("bullmq({ boot }): agents booted on VMs", { skip }, () => {
  let redis: RedisServer;
  let dir: string;
  before(async () => {
    redis = await startRedisServer();
    dir = mkdtempSync(join(tmpdir(), "flotilla-boot-"));
  });
  after(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const bootedPool = (queue: string, driver: ReturnType<typeof localVms>) =>
    pool(
      bullmq({
        connection: redis.url,
        queue,
        modules: MODULES,
        heartbeatMs: 100,
        lostAfterMs: 800,
        // The VM-loss test needs its four gated attempts running at once on the two VMs, and counts its
        // requeues: none waits in the queue of the VM booted first (to move when the second is up).
        prefetch: 1,
        boot: { driver, concurrency: 2, args: ["--lease-ms", "600"], command: [NODE, join(ROOT, "bin", "flotilla.mjs")] },
      }),
      { maxNodes: 2 },
    );

  it("boots agents as the pool needs them, runs the job on them, and deletes every VM when the pool closes", async () => {
    const driver = localVms();
    const agents = bootedPool("boot1", driver);
    try {
      const job: Job<Record<string, unknown>> = new Job("booted");
      for (let i = 0; i < 6; i++) job.task(`n${i}`, workerTask<number>(TASKS, "add", { value: i }));
      job.task("sum", { dependsOn: [0, 1, 2, 3, 4, 5].map((i) => `n${i}`) }, workerTask<number>(TASKS, "add", { value: 0 }));
      const handle = start(job, { pools: { default: agents } });
      const nodes = new Set<string>();
      handle.on("task:start", (e) => nodes.add(e.nodeId));
      const result = await handle.result;
      assert.equal(result.status, "succeeded", String(result.error));
      assert.equal(result.tasks.get("sum")?.output, 15);
      assert.ok(nodes.size >= 1 && [...nodes].every((id) => /-boot-\d+$/.test(id)), [...nodes].join(", "));
      assert.ok((await driver.list()).length >= 1, "its VMs live on with the pool");
    } finally {
      await agents.close();
    }
    assert.deepEqual(await driver.list(), [], "no VM is left once the pool closed");
  });

  it("a VM killed mid-job: its node is lost, its attempts requeued, and the pool boots another agent", async () => {
    const driver = localVms();
    const agents = bootedPool("boot2", driver);
    const gate = join(dir, "gate");
    try {
      const job: Job<Record<string, unknown>> = new Job("vm-loss");
      for (let i = 0; i < 4; i++) job.task(`g${i}`, workerTask<number>(TASKS, "gate", { value: i, gate }));
      const handle = start(job, { pools: { default: agents } });
      const started = new Set<string>();
      const nodes = new Set<string>();
      const allStarted = deferred();
      const lost = deferred<string>();
      handle.on("task:start", (e) => nodes.add(e.nodeId));
      handle.on("task:output", (e) => {
        if (e.line === "started" && started.add(e.taskId).size === 4) allStarted.resolve();
      });
      handle.on("node:lost", (e) => lost.resolve(e.nodeId));
      const requeued = new Set<string>();
      handle.on("task:requeued", (e) => requeued.add(e.taskId));
      await allStarted.promise;
      const vms = await driver.list();
      assert.equal(vms.length, 2, "two VMs for four attempts of two slots each");
      process.kill(vms[0]!.pid!, "SIGKILL");
      const lostNode = await lost.promise;
      writeFileSync(gate, "");
      const result = await handle.result;
      assert.equal(result.status, "succeeded", String(result.error));
      for (let i = 0; i < 4; i++) assert.equal(result.tasks.get(`g${i}`)?.output, i);
      assert.ok(requeued.size > 0 && [...requeued].every((id) => started.has(id)), "the lost VM's attempts were requeued");
      assert.ok(!(await driver.list()).some((vm) => vm.id === vms[0]!.id), `the lost VM (node ${lostNode}) was deleted`);
    } finally {
      writeFileSync(gate, "");
      await agents.close();
    }
    assert.deepEqual(await driver.list(), []);
  });

  it("refuses a bad boot option with E_INVALID_OPTION", () => {
    assert.throws(() => bullmq({ connection: redis.url, queue: "x", boot: { driver: {} as never } }), /boot\.driver must be a VmDriver/);
    assert.throws(() => bullmq({ connection: { host: "127.0.0.1" }, queue: "x", boot: { driver: localVms() } }), /boot\.redisUrl must be/);
    assert.throws(
      () => bullmq({ connection: redis.url, queue: "x", boot: { driver: localVms(), concurrency: 0 } }),
      /boot\.concurrency must be an integer >= 1/,
    );
  });
});
