/**
 * Attempts on a simulated cloud's VMs, and VMs taken away: a running low-priority VM is preempted
 * after an exponentially distributed time (preemptionsPerHour), and any VM can be lost or preempted
 * at the fault points the cloud consults. Attempts on a VM that goes away reject with a NodeLostError,
 * and the VM's events are told once.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FlotillaError, NodeLostError, type FaultContext, type FaultPoint } from "../src/index.ts";
import { simulatedCloud, virtualRuntime } from "../src/testing/index.ts";
import { context, rejection, request, until } from "./simulated-cloud-helpers.ts";

const FIXED = { apiLatencyMs: 100, startLatencyMs: 1_000, deleteLatencyMs: 500, name: "c" };
const HOUR = 3_600_000;

describe("simulatedCloud: preemption of low-priority VMs", () => {
  it("preempts each running low-priority VM after an exponential time with the configured mean, and never a dedicated one", async () => {
    const runtime = virtualRuntime({ seed: 1 });
    const cloud = simulatedCloud({ runtime, apiLatencyMs: 0, startLatencyMs: 0, deleteLatencyMs: 0, preemptionsPerHour: 2 });
    const low = Array.from({ length: 200 }, (_, i) => request(runtime, `low${i}`, "lowPriority"));
    const dedicated = Array.from({ length: 20 }, (_, i) => request(runtime, `d${i}`));
    const vms = await Promise.all([...low, ...dedicated].map((r) => cloud.create(r.req)));
    await until(runtime, HOUR / 2);
    // After half an hour at 2 an hour, each is gone with probability 1 - e^-1 (126 of 200 expected; sd 7).
    const early = cloud.ledger().lowPriority.preempted;
    assert.ok(early > 90 && early < 160, `${early} of 200 preempted after half an hour`);
    await runtime.idle();
    const ledger = cloud.ledger();
    assert.equal(ledger.lowPriority.preempted, 200, "every low-priority VM is preempted in the end");
    assert.equal(ledger.dedicated.preempted, 0);
    assert.equal(cloud.vms().length, 20);
    // Time to preemption: its mean is 1/2 hour (sd of the mean of 200: 3.5%).
    const mean = (ledger.lowPriority.nodeSeconds * 1000) / 200;
    assert.ok(mean > 0.4 * HOUR && mean < 0.6 * HOUR, `mean time to preemption ${mean} ms`);
    for (const r of low) {
      assert.equal(r.preempted.length, 1, "events.preempted is told once");
      assert.ok(r.preempted[0] instanceof NodeLostError);
      assert.equal(r.lost.length, 0);
    }
    assert.equal(cloud.timeline().filter((e) => e.event === "preempted").length, 200);
    await Promise.all(vms.slice(200).map((vm) => cloud.delete(vm.id)));
    assert.deepEqual(cloud.vms(), []);
    assert.equal(runtime.pendingTimers, 0);
  });

  it("rejects the attempts on a VM preempted under them with a NodeLostError, and refuses runs on it afterwards", async () => {
    const runtime = virtualRuntime({ seed: 2 });
    const cloud = simulatedCloud({ runtime, ...FIXED, preemptionsPerHour: 60 });
    const { req, preempted } = request(runtime, "spot", "lowPriority");
    const vm = await cloud.create(req);
    let bodyEnded = false;
    const body = async (ctx: ReturnType<typeof context>) => {
      await ctx.sleep(10 * HOUR); // far beyond a preemption expected within a minute
      bodyEnded = true;
      return "done";
    };
    const [a, b] = [cloud.run(vm, body, context(runtime, "a")), cloud.run(vm, body, context(runtime, "b", 2))];
    const [ea, eb] = await Promise.all([rejection(a), rejection(b)]);
    assert.equal(bodyEnded, false);
    assert.ok(ea instanceof NodeLostError && eb instanceof NodeLostError);
    assert.equal(ea.code, "E_NODE_LOST");
    assert.equal(ea.nodeId, "vm-1");
    assert.match(
      ea.message,
      /^node "vm-1" was lost running task "a" attempt 1: simulated cloud "c" preempted VM vm-1 \("spot"\): the cloud took its capacity back after \d+ ms of running$/,
    );
    assert.match(eb.message, /running task "b" attempt 2/);
    assert.equal(preempted.length, 1);
    const after = await rejection(cloud.run(vm, body, context(runtime, "c")));
    assert.ok(after instanceof NodeLostError);
    assert.equal(after.message, 'node "vm-1" is lost; task "c" attempt 1 cannot run on it');
    assert.deepEqual(cloud.vms(), []);
    assert.equal(code(await rejection(cloud.delete(vm.id))), "E_VM_UNKNOWN");
    await runtime.idle(); // the abandoned bodies' sleeps
  });
});

const code = (error: unknown) => (error as { code?: unknown }).code;

describe("simulatedCloud: attempts on its VMs", () => {
  it("runs a body in-process on a running VM: its output, its error, a synchronous throw", async () => {
    const runtime = virtualRuntime();
    const cloud = simulatedCloud({ runtime, ...FIXED });
    const vm = await cloud.create(request(runtime, "a").req);
    assert.equal(await cloud.run(vm, async ({ taskId, sleep }) => (await sleep(60_000), `${taskId}@${runtime.now()}`), context(runtime, "x")), "x@61100");
    const failure = new Error("bad input");
    assert.equal(await rejection(cloud.run(vm, () => Promise.reject(failure), context(runtime))), failure);
    assert.equal(
      await rejection(
        cloud.run(
          vm,
          () => {
            throw failure;
          },
          context(runtime),
        ),
      ),
      failure,
    );
    assert.equal(cloud.vms()[0]?.attempts, 0, "attempts leave the VM when they end");
    await cloud.delete(vm.id);
  });

  it("ends the attempts on a VM deleted under them, without telling its events", async () => {
    const runtime = virtualRuntime();
    const cloud = simulatedCloud({ runtime, ...FIXED });
    const { req, preempted, lost } = request(runtime, "a");
    const vm = await cloud.create(req);
    const running = rejection(cloud.run(vm, (ctx) => ctx.sleep(HOUR), context(runtime, "t")));
    assert.equal(cloud.vms()[0]?.attempts, 1);
    await cloud.delete(vm.id);
    const error = await running;
    assert.ok(error instanceof NodeLostError);
    assert.equal(error.message, 'task "t" attempt 1: node "vm-1" was stopped while its body ran; the VM was deleted under it');
    assert.deepEqual([preempted, lost], [[], []]);
    await runtime.idle();
  });

  it("refuses runs it cannot do: on a VM still creating or being deleted, on a VM it never made, a body that is not a function", async () => {
    const runtime = virtualRuntime();
    const cloud = simulatedCloud({ runtime, ...FIXED });
    const ctx = context(runtime, "t");
    const creating = cloud.create(request(runtime, "a").req);
    await until(runtime, 200);
    const early = await rejection(cloud.run({ id: "vm-1", name: "a", priority: "dedicated", state: "creating" }, () => 1, ctx));
    assert.ok(early instanceof FlotillaError && early.code === "E_INVALID_OPTION");
    assert.equal(
      early.message,
      'simulated cloud "c": task "t" attempt 1 cannot run on VM vm-1: it is still creating (run only on a VM its create resolved with)',
    );
    const vm = await creating;
    const foreign = await rejection(cloud.run({ ...vm, id: "vm-7" }, () => 1, ctx));
    assert.ok(foreign instanceof FlotillaError && foreign.code === "E_INVALID_OPTION");
    assert.equal(foreign.message, 'task "t": provider "c" was asked to run on node string "vm-7", which it did not start');
    const spec = await rejection(cloud.run(vm, { kind: "command" } as never, ctx));
    assert.equal((spec as Error).message, 'simulated cloud "c": task "t": its VMs run function bodies only (kinds ["function"]), received a "command" spec');
    const deleting = cloud.delete(vm.id);
    await until(runtime, runtime.now() + 150);
    const stopping = await rejection(cloud.run(vm, () => 1, ctx));
    assert.ok(stopping instanceof NodeLostError);
    assert.equal(stopping.message, 'node "vm-1" is stopped; task "t" attempt 1 cannot run on it');
    await deleting;
  });
});

describe("simulatedCloud: the fault points it consults", () => {
  /** A runtime that records each consultation and fails those `fail` picks. */
  function faulty(fail: (point: FaultPoint, context: FaultContext) => boolean) {
    const seen: string[] = [];
    const runtime = virtualRuntime({
      fault: (point, c) => {
        seen.push(`${point} ${c.detail ?? ""}${c.taskId ? ` ${c.taskId}#${c.attempt}` : ""}`);
        return fail(point, c) ? { kind: "fail" } : undefined;
      },
    });
    return { runtime, seen };
  }

  it("consults provider.call for each call, node.start, node.lost and (low priority) node.preempt at a start, and node.preempt, node.lost, node.run for an attempt", async () => {
    const { runtime, seen } = faulty(() => false);
    const cloud = simulatedCloud({ runtime, ...FIXED });
    const low = await cloud.create(request(runtime, "l", "lowPriority").req);
    const dedicated = await cloud.create(request(runtime, "d").req);
    await cloud.run(low, () => 1, context(runtime, "t"));
    await cloud.run(dedicated, () => 1, context(runtime, "u", 2));
    await cloud.list();
    await Promise.all([cloud.delete(low.id), cloud.delete(dedicated.id)]);
    assert.deepEqual(seen, [
      "provider.call cloud c call create l",
      "node.start cloud c start vm-1",
      "node.preempt cloud c start vm-1",
      "node.lost cloud c start vm-1",
      "provider.call cloud c call create d",
      "node.start cloud c start vm-2",
      "node.lost cloud c start vm-2",
      "node.preempt cloud c run vm-1 t#1",
      "node.lost cloud c run vm-1 t#1",
      "node.run cloud c run vm-1 t#1",
      "node.lost cloud c run vm-2 u#2",
      "node.run cloud c run vm-2 u#2",
      "provider.call cloud c call list",
      "provider.call cloud c call delete vm-1",
      "provider.call cloud c call delete vm-2",
    ]);
  });

  it("node.start: the start fails, and the VM is cleaned up", async () => {
    const { runtime } = faulty((point) => point === "node.start");
    const cloud = simulatedCloud({ runtime, ...FIXED });
    const error = await rejection(cloud.create(request(runtime, "a").req));
    assert.equal(code(error), "E_VM_API");
    assert.equal((error as Error).message, 'simulated cloud "c": VM vm-1 ("a") failed to start (injected fault at node.start); it was cleaned up');
    assert.deepEqual(cloud.vms(), []);
    assert.equal(cloud.ledger().dedicated.failedStarts, 1);
  });

  it("node.run: the VM dies under the attempt once its body has run; events.lost is told", async () => {
    const { runtime } = faulty((point) => point === "node.run");
    const cloud = simulatedCloud({ runtime, ...FIXED });
    const { req, lost } = request(runtime, "a");
    const vm = await cloud.create(req);
    let ran = false;
    const error = await rejection(cloud.run(vm, () => void (ran = true), context(runtime, "t")));
    assert.equal(ran, true, "its side effects happened");
    assert.ok(error instanceof NodeLostError);
    assert.equal(
      error.message,
      'node "vm-1" was lost running task "t" attempt 1: simulated cloud "c" lost VM vm-1 ("a"): injected fault at node.run (its body had run)',
    );
    assert.equal(lost.length, 1);
    assert.deepEqual(cloud.vms(), []);
    assert.equal(cloud.ledger().dedicated.lost, 1);
  });

  it("node.lost before an attempt: the VM is lost and the body never runs", async () => {
    let armed = false;
    const { runtime } = faulty((point, c) => armed && point === "node.lost" && c.taskId === "t");
    const cloud = simulatedCloud({ runtime, ...FIXED });
    const { req, lost } = request(runtime, "a");
    const vm = await cloud.create(req);
    armed = true;
    let ran = false;
    const error = await rejection(cloud.run(vm, () => void (ran = true), context(runtime, "t")));
    assert.ok(error instanceof NodeLostError);
    assert.equal(ran, false);
    assert.equal(lost.length, 1);
    assert.equal(cloud.ledger().dedicated.lost, 1);
  });

  it("node.preempt and node.lost at a start: the VM runs, its create resolves, then it is taken away as a step of its own", async () => {
    for (const point of ["node.preempt", "node.lost"] as const) {
      const { runtime } = faulty((p, c) => p === point && c.detail!.includes(" start "));
      const cloud = simulatedCloud({ runtime, ...FIXED });
      const { req, preempted, lost } = request(runtime, "a", "lowPriority");
      const vm = await cloud.create(req);
      assert.equal(vm.state, "running");
      assert.deepEqual([preempted.length, lost.length], [0, 0], "not yet: the create's caller hears of its VM first");
      await runtime.idle();
      assert.deepEqual([preempted.length, lost.length], point === "node.preempt" ? [1, 0] : [0, 1], point);
      assert.deepEqual(cloud.vms(), []);
      assert.deepEqual(
        cloud.timeline().map((e) => `${e.event}@${e.at}`),
        ["created@100", "running@1100", `${point === "node.preempt" ? "preempted" : "lost"}@1100`],
      );
    }
  });
});
