/**
 * simulatedCloud() under explore(): all its delays are timers of the controlled runtime and all its
 * draws come from the schedule's seed, so the order of simultaneous cloud events is explored like any
 * other, and every schedule ends with nothing left behind: no VM, no timer.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Job, run, type ComputeProvider, type Runtime } from "../src/index.ts";
import type { NodePriority, VmInfo } from "../src/provider-kit/index.ts";
import { explore, simulatedCloud, type ExploreContext, type SimulatedCloud } from "../src/testing/index.ts";

const code = (error: unknown) => (error as { code?: unknown }).code;

/** Calls again while the cloud answers with a transient error or throttles (waiting out its retry-after). */
async function retried<T>(runtime: Runtime, call: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (code(error) === "E_VM_THROTTLED") await new Promise<void>((resolve) => runtime.setTimer((error as { retryAfterMs: number }).retryAfterMs, resolve));
      else if (code(error) !== "E_VM_API") throw error;
    }
  }
}

/** Deletes a VM, retried; a VM already gone (an earlier try's answer was lost, or it was preempted) counts as deleted. */
const deleted = (runtime: Runtime, cloud: SimulatedCloud, id: string) =>
  retried(runtime, () =>
    cloud.delete(id).catch((e: unknown) => {
      if (code(e) !== "E_VM_UNKNOWN") throw e;
    }),
  );

/**
 * One VM's life as a careful caller lives it: create (aborted at a random moment for odd `i`), then
 * delete; after any failed create, find what it may have left with list() and delete that.
 */
async function oneVm(t: ExploreContext, cloud: SimulatedCloud, i: number): Promise<void> {
  const controller = new AbortController();
  const abort = i % 2 === 1 ? t.runtime.setTimer(Math.floor(t.random() * 60), () => controller.abort("scaled down"), `abort ${i}`) : undefined;
  const name = `vm${i}`;
  const priority: NodePriority = i % 3 === 0 ? "dedicated" : "lowPriority";
  try {
    const vm = await cloud.create({ name, priority, signal: controller.signal, events: { preempted() {}, lost() {} }, runtime: t.runtime });
    await deleted(t.runtime, cloud, vm.id);
  } catch {
    const left = (await retried(t.runtime, () => cloud.list())).find((vm) => vm.name === name);
    if (left !== undefined) await deleted(t.runtime, cloud, left.id);
  } finally {
    t.runtime.clearTimer(abort);
  }
}

describe("simulatedCloud under explore()", () => {
  it("creates, aborts and deletes VMs under every schedule, and leaves no VM and no timer behind", async () => {
    let preempted = 0;
    let apiErrors = 0;
    const report = await explore(
      async (t) => {
        const cloud = simulatedCloud({
          runtime: t.runtime,
          apiLatencyMs: { min: 0, max: 5 },
          startLatencyMs: { min: 10, max: 40 },
          deleteLatencyMs: { min: 0, max: 10 },
          apiErrorRate: 0.2,
          throttleRate: 0.05,
          throttleRetryAfterMs: 20,
          preemptionsPerHour: 60_000,
          quota: { lowPriority: 4 },
        });
        t.invariant("the quota holds", () => cloud.vms().filter((vm) => vm.priority === "lowPriority").length <= 4);
        await Promise.all(Array.from({ length: 6 }, (_, i) => oneVm(t, cloud, i)));
        assert.deepEqual(cloud.vms(), []);
        const ledger = cloud.ledger();
        for (const p of [ledger.dedicated, ledger.lowPriority]) {
          assert.equal(p.held, 0);
          assert.equal(p.created, p.deleted + p.preempted + p.lost + p.failedStarts);
        }
        preempted += ledger.lowPriority.preempted;
        apiErrors += ledger.refused.apiErrors;
      },
      { iterations: 40, seed: 5 },
    );
    assert.equal(report.iterations, 40);
    assert.ok(report.steps.max > 20, `schedules of ${report.steps.min}..${report.steps.max} steps`);
    assert.ok(preempted > 0 && apiErrors > 0, `the schedules saw ${preempted} preemptions and ${apiErrors} API errors`);
  });

  it("is a provider's cloud: a job on low-priority VMs that get preempted still succeeds, and every VM is deleted by the end", async () => {
    let nodeLosses = 0;
    await explore(
      async (t) => {
        const cloud = simulatedCloud({
          runtime: t.runtime,
          apiLatencyMs: { min: 1, max: 5 },
          startLatencyMs: { min: 100, max: 500 },
          deleteLatencyMs: { min: 10, max: 100 },
          preemptionsPerHour: 30,
        });
        const job = new Job("on-spot")
          .task("a", ({ sleep }) => sleep(60_000).then(() => 1))
          .task("b", { dependsOn: ["a"] }, ({ sleep, deps }) => sleep(60_000).then(() => deps.a + 1))
          .task("c", { dependsOn: ["a"] }, ({ sleep, deps }) => sleep(60_000).then(() => deps.a + 2))
          .task("d", { dependsOn: ["b", "c"] }, ({ deps }) => deps.b + deps.c);
        const handle = run(job, { runtime: t.runtime, provider: vmProvider(cloud, t.runtime, "lowPriority"), maxNodeLosses: 100 });
        const result = await handle;
        assert.equal(result.status, "succeeded", String(result.error));
        assert.equal(result.output("d"), 5);
        assert.deepEqual(cloud.vms(), [], "every VM was deleted before the run settled");
        nodeLosses += cloud.ledger().lowPriority.preempted;
      },
      { iterations: 30, seed: 8 },
    );
    assert.ok(nodeLosses > 0, "some schedules preempted a VM under an attempt");
  });
});

/**
 * A minimal provider on a VmDriver, for this test only (flotilla/cloud-vm is the real one): a node is
 * a VM of `priority`, a start is a create (aborted by the run's signal), a stop a delete.
 */
function vmProvider(cloud: SimulatedCloud, runtime: Runtime, priority: NodePriority): ComputeProvider {
  let started = 0;
  const vms = new Map<string, VmInfo>();
  return {
    name: "simulated-vms",
    maxNodes: 2,
    async startNode(report) {
      const vm = await cloud.create({
        name: `node-${++started}`,
        priority,
        signal: report.signal ?? new AbortController().signal,
        events: { preempted: (reason) => (report.preempted ? report.preempted(reason) : report.lost(reason)), lost: (reason) => report.lost(reason) },
        runtime,
      });
      vms.set(vm.id, vm);
      return { id: vm.id, slots: vm.slots ?? 1 };
    },
    stopNode: (node) => deleted(runtime, cloud, node.id),
    run: (node, body, ctx) => cloud.run(vms.get(node.id)!, body, ctx),
  };
}
