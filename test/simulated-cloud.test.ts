/**
 * simulatedCloud(): a cloud's VM API as a VmDriver, in virtual time. A VM is made when its create call
 * lands, runs after its start latency and is gone after its delete latency, all on the runtime's clock
 * and drawn from one seed; the ledger bills it from its accepted create until it is gone.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { NodeLostError, type Runtime } from "../src/index.ts";
import { simulatedCloud, virtualRuntime, type CloudTimelineEntry, type SimulatedCloud } from "../src/testing/index.ts";
import { rejection, request, until } from "./simulated-cloud-helpers.ts";

const FIXED = { apiLatencyMs: 100, startLatencyMs: 1_000, deleteLatencyMs: 500 };

/** Everything a cloud did, to compare two clouds. */
const story = (cloud: SimulatedCloud) => ({ timeline: cloud.timeline(), ledger: cloud.ledger() });

/** Creates `count` VMs at once (every other one low-priority), then deletes each as soon as it runs. */
async function churn(cloud: SimulatedCloud, runtime: ReturnType<typeof virtualRuntime>, count: number): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const vm = await cloud.create(request(runtime, `vm${i}`, i % 2 === 0 ? "dedicated" : "lowPriority").req);
      await cloud.delete(vm.id);
    }),
  );
}

describe("simulatedCloud: a VM's life on the runtime's clock", () => {
  it("makes a VM when the create lands, runs it after the start latency, and removes it after the delete latency", async () => {
    const runtime = virtualRuntime();
    const cloud = simulatedCloud({ runtime, ...FIXED, name: "c" });
    const { req } = request(runtime, "web-1");
    const creating = cloud.create(req);
    assert.deepEqual(cloud.vms(), [], "nothing is made before the call lands");
    await until(runtime, 100);
    assert.deepEqual(
      cloud.vms().map((v) => [v.id, v.name, v.state, v.createdAt]),
      [["vm-1", "web-1", "creating", 100]],
    );
    const vm = await creating;
    assert.deepEqual(vm, { id: "vm-1", name: "web-1", priority: "dedicated", state: "running", slots: 1 });
    assert.equal(runtime.now(), 1_100);
    assert.deepEqual(await cloud.list(), [vm]);
    await cloud.delete(vm.id);
    assert.equal(runtime.now(), 1_100 + 100 + 100 + 500, "list and delete each took the API latency, then the delete latency");
    assert.deepEqual(cloud.vms(), []);
    assert.deepEqual(
      cloud.timeline().map((e) => `${e.event}@${e.at}`),
      ["created@100", "running@1100", "deleting@1300", "deleted@1800"],
    );
    const ledger = cloud.ledger();
    assert.deepEqual(
      { ...ledger.dedicated, cost: undefined },
      { created: 1, started: 1, deleted: 1, preempted: 0, lost: 0, failedStarts: 0, held: 0, nodeSeconds: 1.7, cost: undefined },
    );
    assert.deepEqual(ledger.calls, { create: 1, delete: 1, list: 1 });
    assert.equal(runtime.pendingTimers, 0);
  });

  it("draws each latency from its range, per call and per VM", async () => {
    const runtime = virtualRuntime({ seed: 11 });
    const cloud = simulatedCloud({
      runtime,
      apiLatencyMs: { min: 10, max: 20 },
      startLatencyMs: { min: 1_000, max: 3_000 },
      deleteLatencyMs: { min: 50, max: 60 },
    });
    await churn(cloud, runtime, 40);
    const byVm = new Map<string, CloudTimelineEntry[]>();
    for (const e of cloud.timeline()) byVm.set(e.vmId, [...(byVm.get(e.vmId) ?? []), e]);
    const starts: number[] = [];
    for (const [vmId, events] of byVm) {
      const at = Object.fromEntries(events.map((e) => [e.event, e.at]));
      assert.ok(at.created! >= 10 && at.created! <= 20, `${vmId} was made ${at.created} ms after its create was sent`);
      starts.push(at.running! - at.created!);
      const deleting = at.deleted! - at.deleting!;
      assert.ok(deleting >= 50 && deleting <= 60, `${vmId} took ${deleting} ms to delete`);
    }
    assert.equal(starts.length, 40);
    assert.ok(
      starts.every((ms) => Number.isInteger(ms) && ms >= 1_000 && ms <= 3_000),
      `start latencies ${starts.join(", ")}`,
    );
    assert.ok(new Set(starts).size > 30, "drawn per VM, not once");
    assert.deepEqual(cloud.vms(), []);
  });

  it("is the same cloud for the same seed: identical timelines and ledgers, whatever the runtime draws", async () => {
    const stories = [];
    for (const runtimeSeed of [1, 2]) {
      const runtime = virtualRuntime({ seed: runtimeSeed });
      const cloud = simulatedCloud({ runtime, seed: 42, preemptionsPerHour: 60, apiErrorRate: 0 });
      await churn(cloud, runtime, 10);
      stories.push(story(cloud));
    }
    assert.deepEqual(stories[0], stories[1]);
    const runtime = virtualRuntime({ seed: 1 });
    const other = simulatedCloud({ runtime, seed: 43 });
    await churn(other, runtime, 10);
    assert.notDeepEqual(story(other).timeline, stories[0]!.timeline, "another seed, another cloud");
  });

  it("draws from runtime.random() without a seed of its own: the runtime's seed decides", async () => {
    const run = async (seed: number) => {
      const runtime = virtualRuntime({ seed });
      const cloud = simulatedCloud({ runtime });
      await churn(cloud, runtime, 6);
      return story(cloud);
    };
    assert.deepEqual(await run(5), await run(5));
    assert.notDeepEqual((await run(5)).timeline, (await run(6)).timeline);
  });

  it("bills each VM from its accepted create until it is gone, at its priority's price per node-hour", async () => {
    const HOUR = 3_600_000;
    const runtime = virtualRuntime();
    const cloud = simulatedCloud({
      runtime,
      apiLatencyMs: 0,
      startLatencyMs: 60_000,
      deleteLatencyMs: 0,
      costPerNodeHour: { dedicated: 0.5, lowPriority: 0.125 },
    });
    const [d, l] = await Promise.all([cloud.create(request(runtime, "d").req), cloud.create(request(runtime, "l", "lowPriority").req)]);
    await until(runtime, HOUR);
    await cloud.delete(d!.id);
    await until(runtime, 1.5 * HOUR);
    const mid = cloud.ledger();
    assert.equal(mid.at, 1.5 * HOUR);
    assert.equal(mid.dedicated.nodeSeconds, 3_600, "billed from 0 (the create landed), not from when it ran");
    assert.equal(mid.lowPriority.nodeSeconds, 5_400, "a VM still held is billed up to the moment the ledger is read");
    assert.equal(mid.lowPriority.held, 1);
    await until(runtime, 2 * HOUR);
    await cloud.delete(l!.id);
    const end = cloud.ledger();
    assert.deepEqual(
      [end.dedicated.nodeSeconds, end.dedicated.cost, end.lowPriority.nodeSeconds, end.lowPriority.cost, end.nodeSeconds, end.cost],
      [3_600, 0.5, 7_200, 0.25, 10_800, 0.75],
    );
    assert.deepEqual(cloud.ledger(), end, "nothing is billed once everything is gone");
  });

  it("labels every timer it sets for traces: the cloud, what is due, and the VM (or the create's name)", async () => {
    const base = virtualRuntime();
    const labels: (string | undefined)[] = [];
    const runtime: Runtime = { ...base, setTimer: (ms, callback, label) => (labels.push(label), base.setTimer(ms, callback, label)) };
    const cloud = simulatedCloud({ runtime, ...FIXED, name: "eu", preemptionsPerHour: 1 });
    const vm = await cloud.create(request(runtime, "web-1", "lowPriority").req);
    await cloud.list();
    await cloud.delete(vm.id);
    assert.deepEqual(labels, [
      "cloud eu call create web-1",
      "cloud eu start vm-1",
      "cloud eu preempt vm-1",
      "cloud eu call list",
      "cloud eu call delete vm-1",
      "cloud eu gone vm-1",
    ]);
    assert.equal(base.pendingTimers, 0, "the preemption timer was cleared by the delete");
  });

  it("uses its defaults: 1 slot, ids vm-1, vm-2, … in the order creates land, and a start latency of 20 to 60 s", async () => {
    const runtime = virtualRuntime();
    const cloud = simulatedCloud({ runtime });
    assert.equal(cloud.name, "simulated-cloud");
    assert.deepEqual(cloud.kinds, ["function"]);
    const vms = await Promise.all([cloud.create(request(runtime, "a").req), cloud.create(request(runtime, "b").req)]);
    assert.deepEqual(vms.map((v) => [v.id, v.slots]).sort(), [
      ["vm-1", 1],
      ["vm-2", 1],
    ]);
    for (const v of cloud.vms()) assert.ok(v.runningAt! - v.createdAt >= 20_000 && v.runningAt! - v.createdAt <= 60_000);
    await Promise.all(vms.map((v) => cloud.delete(v.id)));
    assert.deepEqual(cloud.vms(), []);
  });
});

describe("simulatedCloud: deleting, and aborting a create", () => {
  it("aborting a create while its VM starts deletes the VM, then rejects with the signal's reason once it is gone", async () => {
    const runtime = virtualRuntime();
    const cloud = simulatedCloud({ runtime, ...FIXED });
    const { req, controller } = request(runtime, "a");
    const creating = cloud.create(req);
    let settledAt: number | undefined;
    creating.catch(() => (settledAt = runtime.now()));
    await until(runtime, 400);
    assert.equal(cloud.vms()[0]?.state, "creating");
    const reason = new Error("scaled down");
    controller.abort(reason);
    assert.equal(cloud.vms()[0]?.state, "deleting", "the creation stops at once");
    assert.equal(await rejection(creating), reason);
    assert.equal(settledAt, 900, "rejected once the VM was gone, after the delete latency");
    assert.deepEqual(cloud.vms(), []);
    assert.deepEqual(
      cloud.timeline().map((e) => `${e.event}@${e.at}`),
      ["created@100", "deleting@400", "deleted@900"],
    );
    assert.equal(cloud.ledger().dedicated.deleted, 1);
    assert.equal(cloud.ledger().dedicated.started, 0);
    assert.equal(runtime.pendingTimers, 0);
  });

  it("aborting a create before its call lands deletes what the call makes as it lands", async () => {
    const runtime = virtualRuntime();
    const cloud = simulatedCloud({ runtime, ...FIXED });
    const { req, controller } = request(runtime, "a");
    const creating = cloud.create(req);
    controller.abort("gone");
    assert.equal(await rejection(creating), "gone");
    assert.deepEqual(
      cloud.timeline().map((e) => `${e.event}@${e.at}`),
      ["created@100", "deleting@100", "deleted@600"],
    );
    assert.deepEqual(cloud.vms(), []);
  });

  it("refuses a create whose signal has already aborted, without calling the cloud", async () => {
    const runtime = virtualRuntime();
    const cloud = simulatedCloud({ runtime, ...FIXED });
    const { req, controller } = request(runtime, "a");
    controller.abort("no");
    assert.equal(await rejection(cloud.create(req)), "no");
    assert.equal(cloud.ledger().calls.create, 0);
    assert.equal(runtime.pendingTimers, 0);
  });

  it("ignores an abort once the create resolved: the VM is the caller's to delete", async () => {
    const runtime = virtualRuntime();
    const cloud = simulatedCloud({ runtime, ...FIXED });
    const { req, controller } = request(runtime, "a");
    const vm = await cloud.create(req);
    controller.abort();
    await runtime.idle();
    assert.deepEqual(
      cloud.vms().map((v) => v.state),
      ["running"],
    );
    await cloud.delete(vm.id);
  });

  it("deleting a VM still creating cancels the creation: its create rejects with a NodeLostError", async () => {
    const runtime = virtualRuntime();
    const cloud = simulatedCloud({ runtime, ...FIXED, name: "c" });
    const creating = rejection(cloud.create(request(runtime, "a").req));
    await until(runtime, 900);
    // The delete lands at 1000; the start would have been due at 1100, while the VM is being deleted.
    await cloud.delete("vm-1");
    const error = await creating;
    assert.ok(error instanceof NodeLostError, String(error));
    assert.equal(error.message, 'simulated cloud "c": VM vm-1 ("a") was deleted before it started');
    await runtime.idle();
    assert.deepEqual(cloud.vms(), []);
    assert.deepEqual(
      cloud.timeline().map((e) => `${e.event}@${e.at}`),
      ["created@100", "deleting@1000", "deleted@1500"],
    );
    assert.equal(cloud.ledger().dedicated.started, 0);
  });

  it("answers a second delete of a VM being deleted with the first, and refuses one of a VM that is gone", async () => {
    const runtime = virtualRuntime();
    const cloud = simulatedCloud({ runtime, ...FIXED, name: "c" });
    const vm = await cloud.create(request(runtime, "a").req);
    const first = cloud.delete(vm.id);
    await until(runtime, runtime.now() + 150);
    const second = cloud.delete(vm.id);
    await Promise.all([first, second]);
    assert.equal(cloud.ledger().dedicated.deleted, 1);
    const error = await rejection(cloud.delete(vm.id));
    assert.equal((error as { code?: string }).code, "E_VM_UNKNOWN");
    assert.equal((error as Error).message, 'simulated cloud "c": delete "vm-1" refused: that VM is gone (deleted)');
    const never = await rejection(cloud.delete("vm-9"));
    assert.equal((never as Error).message, 'simulated cloud "c": delete "vm-9" refused: it holds no VM with that id');
    assert.equal(cloud.ledger().refused.unknownVm, 2);
  });
});
