/**
 * simulatedCloud() refuses what a cloud refuses: a create beyond its priority's quota, calls while it
 * throttles (with retry-after), transient API errors (some after the cloud acted, so a create leaves a
 * VM that only list() reveals), a name in use, a delete of a VM it does not hold, failed and hung
 * starts, and options or requests it cannot use.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FlotillaError } from "../src/index.ts";
import { VmApiError, type VmInfo } from "../src/provider-kit/index.ts";
import { simulatedCloud, virtualRuntime, type SimulatedCloud } from "../src/testing/index.ts";
import { rejection, request, until } from "./simulated-cloud-helpers.ts";

const FIXED = { apiLatencyMs: 100, startLatencyMs: 1_000, deleteLatencyMs: 500, name: "c" };

const code = (error: unknown) => (error as { code?: unknown }).code;

/** Retries a call until the cloud answers it (for a cloud that fails calls at random). */
async function retried<T>(call: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await call();
    } catch (error) {
      if (i === 50 || !(error instanceof VmApiError)) throw error;
    }
  }
}

describe("simulatedCloud refuses what a cloud refuses", () => {
  it("refuses a create beyond its priority's quota, counting VMs still being deleted", async () => {
    const runtime = virtualRuntime();
    const cloud = simulatedCloud({ runtime, ...FIXED, quota: { dedicated: 1, lowPriority: 0 } });
    const vm = await cloud.create(request(runtime, "a").req);
    const sentAt = runtime.now();
    const error = await rejection(cloud.create(request(runtime, "b").req));
    assert.ok(error instanceof VmApiError && error.code === "E_VM_QUOTA", String(error));
    assert.equal(error.message, 'simulated cloud "c": create refused: the dedicated quota of 1 VM is used up');
    assert.equal(runtime.now(), sentAt + 100, "refused as the call lands, not after a start");
    const low = await rejection(cloud.create(request(runtime, "l", "lowPriority").req));
    assert.match((low as Error).message, /the lowPriority quota of 0 VMs is used up/);
    const deleting = cloud.delete(vm.id);
    await until(runtime, runtime.now() + 150);
    assert.equal(code(await rejection(cloud.create(request(runtime, "c").req))), "E_VM_QUOTA", "a VM being deleted still counts");
    await deleting;
    const next = await cloud.create(request(runtime, "d").req);
    await cloud.delete(next.id);
    assert.equal(cloud.ledger().refused.quotaExceeded, 3);
    assert.deepEqual(cloud.vms(), []);
  });

  it("throttles with a retry-after, and refuses every call until it has passed", async () => {
    const runtime = virtualRuntime();
    const cloud = simulatedCloud({ runtime, ...FIXED, throttleRate: 1, throttleRetryAfterMs: 1_000 });
    const first = cloud.list();
    await until(runtime, 50);
    const second = cloud.list();
    const [a, b] = await Promise.all([rejection(first), rejection(second)]);
    assert.ok(a instanceof VmApiError && a.code === "E_VM_THROTTLED" && a.retryAfterMs === 1_000, String(a));
    assert.equal(a.message, 'simulated cloud "c": list throttled (HTTP 429): retry after 1000 ms');
    assert.ok(b instanceof VmApiError && b.code === "E_VM_THROTTLED");
    assert.equal(b.retryAfterMs, 950, "the second call landed 50 ms into the window: the rest of it");
    assert.equal(cloud.ledger().refused.throttled, 2);
  });

  it("lets calls through again once the retry-after has passed", async () => {
    const runtime = virtualRuntime();
    const cloud = simulatedCloud({ runtime, ...FIXED, throttleRate: 0.5, throttleRetryAfterMs: 300, seed: 9 });
    let throttled = 0;
    for (let i = 0; i < 30; i++) {
      const error = await cloud.list().then(
        () => undefined,
        (e: unknown) => e,
      );
      if (error instanceof VmApiError) {
        throttled++;
        await until(runtime, runtime.now() + error.retryAfterMs!);
      }
    }
    assert.ok(throttled > 5 && throttled < 25, `throttled ${throttled} of 30 calls that each waited out the last retry-after`);
    assert.equal(cloud.ledger().refused.throttled, throttled);
  });

  it("fails calls with transient API errors; after half of them the cloud had acted, and list() shows the VM a failed create made", async () => {
    const runtime = virtualRuntime();
    const cloud = simulatedCloud({ runtime, ...FIXED, apiErrorRate: 0.5, seed: 3 });
    const made: string[] = [];
    const notMade: string[] = [];
    const messages = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const name = `n${i}`;
      const outcome = await cloud.create(request(runtime, name).req).then(
        (vm) => vm,
        (e: unknown) => e,
      );
      if (!(outcome instanceof VmApiError)) continue;
      assert.equal(outcome.code, "E_VM_API");
      messages.add(outcome.message.replace(name, "NAME"));
      (cloud.vms().some((v) => v.name === name) ? made : notMade).push(name);
    }
    assert.ok(made.length > 0 && notMade.length > 0, `made ${made.join()} / not made ${notMade.join()}`);
    assert.deepEqual(
      [...messages],
      ['simulated cloud "c": create "NAME" failed with a transient API error (HTTP 503); whether the VM was made is unknown: list() tells'],
      "the caller cannot tell from the error whether the VM was made",
    );
    // The VMs whose answer was lost start like any other; the caller finds them by name and deletes them.
    await until(runtime, runtime.now() + 1_000);
    const listed: readonly VmInfo[] = await retried(() => cloud.list());
    for (const name of made) assert.equal(listed.find((v) => v.name === name)?.state, "running", name);
    for (const vm of listed) {
      await retried(() =>
        cloud.delete(vm.id).catch((e: unknown) => {
          if (code(e) !== "E_VM_UNKNOWN") throw e; // an earlier try was accepted, but its answer lost
        }),
      );
    }
    await runtime.idle();
    assert.deepEqual(cloud.vms(), []);
    const ledger = cloud.ledger();
    assert.ok(ledger.refused.apiErrors >= made.length + notMade.length);
    assert.equal(ledger.dedicated.created, ledger.dedicated.deleted);
  });

  it("refuses a create with the name of a VM it holds, until that VM is gone", async () => {
    const runtime = virtualRuntime();
    const cloud = simulatedCloud({ runtime, ...FIXED });
    const [first, second] = await Promise.allSettled([cloud.create(request(runtime, "web").req), cloud.create(request(runtime, "web").req)]);
    assert.equal(first.status, "fulfilled");
    assert.ok(second.status === "rejected" && second.reason instanceof FlotillaError);
    assert.equal(second.reason.code, "E_VM_NAME_IN_USE");
    assert.equal(
      second.reason.message,
      'simulated cloud "c": create refused: the name "web" is in use by vm-1; names are unique among the VMs the cloud holds',
    );
    await cloud.delete("vm-1");
    const again = await cloud.create(request(runtime, "web").req);
    assert.equal(again.id, "vm-2");
    await cloud.delete(again.id);
    assert.equal(cloud.ledger().refused.nameInUse, 1);
  });

  it("fails a start after its latency when startFailureRate says so: nothing runs, the VM is cleaned up and billed for its start", async () => {
    const runtime = virtualRuntime();
    const cloud = simulatedCloud({ runtime, ...FIXED, startFailureRate: 1, costPerNodeHour: { dedicated: 3.6 } });
    const error = await rejection(cloud.create(request(runtime, "a").req));
    assert.ok(error instanceof VmApiError && error.code === "E_VM_API", String(error));
    assert.equal(error.message, 'simulated cloud "c": VM vm-1 ("a") failed to start (its boot failed after 1000 ms); it was cleaned up');
    assert.equal(runtime.now(), 1_100);
    assert.deepEqual(cloud.vms(), []);
    const { dedicated } = cloud.ledger();
    assert.deepEqual(
      [dedicated.created, dedicated.started, dedicated.failedStarts, dedicated.held, dedicated.nodeSeconds, dedicated.cost],
      [1, 0, 1, 0, 1, 0.001],
    );
  });

  it("lets a start hang when hangRate says so: the create waits until its signal aborts", async () => {
    const runtime = virtualRuntime();
    const cloud = simulatedCloud({ runtime, ...FIXED, hangRate: 1 });
    const { req, controller } = request(runtime, "a");
    const creating = rejection(cloud.create(req));
    await runtime.idle();
    assert.equal(runtime.pendingTimers, 0, "nothing is armed for a hung start");
    assert.deepEqual(
      cloud.vms().map((v) => v.state),
      ["creating"],
    );
    controller.abort("gave up");
    assert.equal(await creating, "gave up");
    assert.deepEqual(cloud.vms(), []);
  });

  it("fails a call at the provider.call fault point, with the injected error or a transient one that says so", async () => {
    const seen: string[] = [];
    const boom = new Error("boom");
    const runtime = virtualRuntime({
      fault: (point, context) => {
        if (point !== "provider.call") return undefined;
        seen.push(context.detail!);
        if (context.detail === "cloud c call list") return { kind: "fail", error: boom };
        if (context.detail === "cloud c call create b") return { kind: "fail" };
        return undefined;
      },
    });
    const cloud = simulatedCloud({ runtime, ...FIXED });
    assert.equal(await rejection(cloud.list()), boom);
    const injected = await rejection(cloud.create(request(runtime, "b").req));
    assert.ok(injected instanceof VmApiError && injected.code === "E_VM_API");
    assert.equal(injected.message, 'simulated cloud "c": create "b" failed: injected fault at provider.call');
    const vm = await cloud.create(request(runtime, "a").req);
    await cloud.delete(vm.id);
    assert.deepEqual(seen, ["cloud c call list", "cloud c call create b", "cloud c call create a", "cloud c call delete vm-1"]);
    assert.equal(cloud.ledger().refused.injected, 2);
  });
});

describe("simulatedCloud checks what it is given", () => {
  const runtime = virtualRuntime();
  const refused = (options: unknown, message: string) =>
    assert.throws(
      () => simulatedCloud(options as never),
      (e: unknown) => e instanceof FlotillaError && e.code === "E_INVALID_OPTION" && e.message === message,
      message,
    );

  it("refuses options it cannot use, naming the option, what was expected and what was received", () => {
    const R = "a Runtime with now, setTimer, clearTimer and random (t.runtime under explore(), or a virtualRuntime())";
    refused(undefined, "simulatedCloud: options must be an object, received undefined");
    refused({}, `simulatedCloud: option "runtime" must be ${R}, received undefined`);
    refused({ runtime: { now: () => 0 } }, `simulatedCloud: option "runtime" must be ${R}, received object`);
    refused({ runtime, quotas: {} }, 'simulatedCloud: unknown option "quotas" (did you mean "quota"?); known options: ' + OPTION_LIST);
    refused({ runtime, name: "" }, 'simulatedCloud: option "name" must be a non-empty string, received string ""');
    refused({ runtime, seed: 1.5 }, 'simulatedCloud: option "seed" must be an integer, received number 1.5');
    refused(
      { runtime, startLatencyMs: -1 },
      'simulatedCloud: option "startLatencyMs" must be an integer number of milliseconds >= 0, or { min, max } with integers 0 <= min <= max, received number -1',
    );
    refused(
      { runtime, startLatencyMs: { min: 5, max: 2 } },
      'simulatedCloud: option "startLatencyMs.max" must be an integer number of milliseconds >= min (5), received number 2',
    );
    refused(
      { runtime, apiLatencyMs: { min: 1, mx: 2 } },
      'simulatedCloud: option "apiLatencyMs": unknown field "mx" (did you mean "max"?); known fields: min, max',
    );
    refused(
      { runtime, apiLatencyMs: [1, 2] },
      'simulatedCloud: option "apiLatencyMs" must be an integer number of milliseconds >= 0, or { min, max } with integers 0 <= min <= max, received array',
    );
    refused({ runtime, apiErrorRate: 1.5 }, 'simulatedCloud: option "apiErrorRate" must be a number from 0 to 1, received number 1.5');
    refused(
      { runtime, throttleRetryAfterMs: 0.5 },
      'simulatedCloud: option "throttleRetryAfterMs" must be an integer number of milliseconds >= 0, received number 0.5',
    );
    refused({ runtime, preemptionsPerHour: Infinity }, 'simulatedCloud: option "preemptionsPerHour" must be a finite number >= 0, received number Infinity');
    refused({ runtime, quota: { dedicated: -1 } }, 'simulatedCloud: option "quota.dedicated" must be an integer >= 0 or Infinity, received number -1');
    refused(
      { runtime, quota: { lowpriority: 1 } },
      'simulatedCloud: option "quota": unknown field "lowpriority" (did you mean "lowPriority"?); known fields: dedicated, lowPriority',
    );
    refused({ runtime, costPerNodeHour: 2 }, 'simulatedCloud: option "costPerNodeHour" must be an object { dedicated?, lowPriority? }, received number 2');
    refused({ runtime, slotsPerVm: 0 }, 'simulatedCloud: option "slotsPerVm" must be an integer >= 1, received number 0');
  });

  it("rejects a create request or a delete it cannot use (never throws), naming what is wrong", async () => {
    const cloud: SimulatedCloud = simulatedCloud({ runtime, ...FIXED });
    const { req } = request(runtime, "a");
    const cases: [unknown, string][] = [
      [null, "the request must be an object { name, priority, signal, events, runtime }, received null"],
      [{ ...req, name: 3 }, '"name" must be a non-empty string, received number 3'],
      [{ ...req, priority: "spot" }, '"priority" must be "dedicated" or "lowPriority", received string "spot"'],
      [{ ...req, signal: undefined }, '"signal" must be an AbortSignal, received undefined'],
      [{ ...req, events: { lost() {} } }, '"events" must be an object { preempted(reason), lost(reason) }, received object'],
    ];
    for (const [bad, message] of cases) {
      let promise: Promise<unknown> | undefined;
      assert.doesNotThrow(() => void (promise = cloud.create(bad as never)));
      const error = await rejection(promise!);
      assert.ok(error instanceof FlotillaError && error.code === "E_INVALID_OPTION");
      assert.equal(error.message, `simulated cloud "c": create(request): ${message}`);
    }
    const error = await rejection(cloud.delete(42 as never));
    assert.equal((error as Error).message, 'simulated cloud "c": delete(vmId) needs a VM\'s id, received number 42');
    assert.equal(cloud.ledger().calls.create + cloud.ledger().calls.delete, 0);
  });
});

const OPTION_LIST =
  "runtime, name, seed, apiLatencyMs, startLatencyMs, deleteLatencyMs, startFailureRate, hangRate, apiErrorRate, throttleRate, throttleRetryAfterMs, preemptionsPerHour, quota, costPerNodeHour, slotsPerVm";
