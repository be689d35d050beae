/**
 * flotilla/cloud-vm's cloudVm() against a small fake cloud written here: throttled calls retried after
 * the retryAfterMs the API asked for (on a virtual clock: no real time passes), transient API errors
 * retried with backoff, quota errors rejected at once, the queue's concurrency bound, a create whose
 * answer was lost reconciled through list(), an aborted create leaving no VM, preemption and loss
 * reported to the pool, and the option checks. Runs under Node and Deno, against the built package.
 *
 * The fake cloud never waits on time: a call that must stay in flight waits on a gate the test opens.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
// Deno does not look for a .d.ts beside a .js file by itself; tsc does, and ignores these comments.
// @ts-types="../dist/index.d.ts"
import { Job, NodeLostError, isFlotillaError, run, start, type NodeReport, type ProviderNode, type TaskContext } from "../dist/index.js";
// @ts-types="../dist/provider-kit.d.ts"
import { vmApiError, vmQuotaExceeded, vmThrottled, type VmCreateRequest, type VmDriver, type VmInfo } from "../dist/provider-kit.js";
// @ts-types="../dist/cloud-vm.d.ts"
import { cloudVm, type VmNode } from "../dist/cloud-vm.js";
// @ts-types="../dist/testing.d.ts"
import { explore, virtualRuntime } from "../dist/testing.js";

/** What the fake does on one call: answer (undefined), throw an error, or make the VM and lose the answer. */
type Planned = Error | "lose-answer" | { gate: Promise<void> } | undefined;

// Its members written out: Deno's type check of the built declarations loses some inherited ones.
interface FakeVm {
  readonly id: string;
  readonly name: string;
  readonly priority: VmInfo["priority"];
  readonly state: VmInfo["state"];
  readonly slots?: number;
  readonly request: VmCreateRequest;
}

/** A cloud in memory: VMs by id, a log of calls, and planned outcomes per operation (first call first). */
class FakeCloud implements VmDriver {
  readonly name = "fake";
  readonly vms = new Map<string, FakeVm>();
  readonly calls: string[] = [];
  readonly plan: { create: Planned[]; delete: Planned[]; list: Planned[] } = { create: [], delete: [], list: [] };
  /** Honour the create's signal (reject with its reason, leaving the VM "creating") or ignore it. */
  honourAbort = true;
  #ids = 0;

  async create(request: VmCreateRequest): Promise<VmInfo> {
    this.calls.push(`create ${request.name}`);
    const planned = this.plan.create.shift();
    if (planned instanceof Error) throw planned;
    const vm: FakeVm = { id: `i-${++this.#ids}`, name: request.name, priority: request.priority, state: "creating", request };
    this.vms.set(vm.id, vm);
    if (planned === "lose-answer") throw vmApiError("connection reset while creating");
    if (typeof planned === "object") {
      const aborted = new Promise<never>((_, reject) => {
        if (this.honourAbort) request.signal.addEventListener("abort", () => reject(request.signal.reason), { once: true });
      });
      await Promise.race([planned.gate, aborted]);
    }
    const running = { ...vm, state: "running" as const };
    this.vms.set(vm.id, running);
    return running;
  }

  async delete(vmId: string): Promise<void> {
    this.calls.push(`delete ${vmId}`);
    const planned = this.plan.delete.shift();
    if (planned instanceof Error) throw planned;
    if (typeof planned === "object" && planned !== null && planned !== undefined && "gate" in planned) await planned.gate;
    this.vms.delete(vmId);
  }

  async list(): Promise<readonly VmInfo[]> {
    this.calls.push("list");
    const planned = this.plan.list.shift();
    if (planned instanceof Error) throw planned;
    return [...this.vms.values()];
  }

  run(_vm: VmInfo, body: (ctx: TaskContext<any>) => unknown, ctx: TaskContext<any>): unknown {
    return body(ctx);
  }

  count(op: string): number {
    return this.calls.filter((c) => c.startsWith(op)).length;
  }
}

function gate(): { gate: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { gate: promise, open };
}

/** A report of our own, as a pool would give one; it records what the provider reports. */
function report(runtime = virtualRuntime(), extra: Partial<NodeReport> = {}) {
  const heard: string[] = [];
  const controller = new AbortController();
  const r: NodeReport = {
    lost: (reason: unknown) => heard.push(`lost: ${(reason as Error)?.message ?? reason}`),
    preempted: (reason: unknown) => heard.push(`preempted: ${(reason as Error)?.message ?? reason}`),
    runtime,
    signal: controller.signal,
    ...extra,
  };
  return { report: r, heard, runtime, abort: (reason: unknown) => controller.abort(reason) };
}

/** The virtual clock's time (read through a plain type: see FakeVm). */
function nowOf(runtime: unknown): number {
  return (runtime as { now(): number }).now();
}

async function rejection(promise: unknown): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected a rejection");
}

describe("cloudVm: the provider", () => {
  it("is a provider of the driver's kinds, with maxNodes passed through", () => {
    const provider = cloudVm({ driver: new FakeCloud(), maxNodes: 5 });
    assert.deepEqual(provider.kinds, ["function"]);
    assert.equal(provider.maxNodes, 5);
    assert.match(provider.name, /fake/);
    const commands = cloudVm({ driver: Object.assign(new FakeCloud(), { kinds: ["command"] }) });
    assert.deepEqual(commands.kinds, ["command"]);
    assert.equal(commands.maxNodes, 1);
  });

  it("starts a node per VM: its id is the VM's, its slots the VM's or slotsPerVm, and it keeps the VmInfo", async () => {
    const cloud = new FakeCloud();
    const provider = cloudVm({ driver: cloud, slotsPerVm: 3, namePrefix: "t" });
    const r = report();
    const node = (await provider.startNode(r.report)) as VmNode;
    assert.equal(node.id, "i-1");
    assert.equal(node.slots, 3);
    assert.equal(node.vm.name, "t-1");
    assert.equal(node.vm.state, "running");
    assert.equal(cloud.vms.get("i-1")!.request.priority, "dedicated");
    await provider.stopNode(node);
    assert.equal(cloud.vms.size, 0);
    assert.deepEqual(cloud.calls, ["create t-1", "delete i-1"]);
  });

  it("asks for the priority the pool asks for", async () => {
    const cloud = new FakeCloud();
    const provider = cloudVm({ driver: cloud });
    const node = await provider.startNode(report(undefined, { priority: "lowPriority" }).report);
    assert.equal(cloud.vms.get(node.id)!.priority, "lowPriority");
    await provider.stopNode(node);
  });

  it("runs a job on VMs and deletes every one when the run ends", async () => {
    const cloud = new FakeCloud();
    let job = new Job<Record<string, unknown>>("vms");
    for (let i = 0; i < 6; i++) job = job.task(`t${i}`, ({ node }: TaskContext) => `${i} on ${node.id}`);
    const result = await run(job, { pools: { default: cloudVm({ driver: cloud, maxNodes: 2 }) } });
    assert.equal(result.status, "succeeded");
    assert.match(String(result.output("t0")), /^0 on i-\d$/);
    assert.equal(cloud.vms.size, 0);
    assert.equal(cloud.count("create"), cloud.count("delete"));
  });
});

describe("cloudVm: retries on the pool's runtime", () => {
  it("retries a throttled create after the retryAfterMs it was given, on the virtual clock", async () => {
    const cloud = new FakeCloud();
    cloud.plan.create.push(vmThrottled("slow down", 600_000), vmThrottled("slow down", 600_000));
    const provider = cloudVm({ driver: cloud });
    const r = report();
    const node = await provider.startNode(r.report);
    assert.equal(cloud.count("create"), 3);
    // Twenty virtual minutes passed (a real timer would hold this test for twenty minutes).
    assert.equal(nowOf(r.runtime), 1_200_000);
    await provider.stopNode(node);
    assert.equal(r.runtime.pendingTimers, 0);
  });

  it("gives up after maxThrottleRetries and rejects with E_VM_THROTTLED", async () => {
    const cloud = new FakeCloud();
    cloud.plan.create.push(vmThrottled("slow down", 10), vmThrottled("slow down", 10), vmThrottled("slow down", 10));
    const provider = cloudVm({ driver: cloud, maxThrottleRetries: 2 });
    const error = await rejection(provider.startNode(report().report));
    assert.ok(isFlotillaError(error, "E_VM_THROTTLED"), String(error));
    assert.equal(cloud.count("create"), 3);
    assert.equal(cloud.count("list"), 0, "a throttled call made nothing: no reconciliation");
  });

  it("retries a delete that failed transiently, with backoff", async () => {
    const cloud = new FakeCloud();
    const provider = cloudVm({ driver: cloud, retryDelayMs: 1_000 });
    const r = report();
    const node = await provider.startNode(r.report);
    cloud.plan.delete.push(vmApiError("503"), vmApiError("503"));
    await provider.stopNode(node);
    assert.equal(cloud.count("delete"), 3);
    assert.equal(cloud.vms.size, 0);
    // Backoff: between half and all of 1000, then of 2000 ms.
    assert.ok(nowOf(r.runtime) >= 1_500 && nowOf(r.runtime) <= 3_000, `virtual time ${nowOf(r.runtime)}`);
  });

  it("does not retry a quota error: the start rejects with E_VM_QUOTA at once", async () => {
    const cloud = new FakeCloud();
    cloud.plan.create.push(vmQuotaExceeded("no more low-priority cores"));
    const provider = cloudVm({ driver: cloud });
    const r = report();
    const error = await rejection(provider.startNode(r.report));
    assert.ok(isFlotillaError(error, "E_VM_QUOTA"), String(error));
    assert.deepEqual(
      cloud.calls.map((c) => c.split(" ")[0]),
      ["create"],
    );
    assert.equal(nowOf(r.runtime), 0);
  });

  it("keeps at most maxConcurrentCalls calls in flight; the others wait in the queue", async () => {
    const cloud = new FakeCloud();
    const first = gate();
    cloud.plan.create.push(first);
    const provider = cloudVm({ driver: cloud, maxConcurrentCalls: 1, maxNodes: 2 });
    const a = provider.startNode(report().report);
    const b = provider.startNode(report().report);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(cloud.count("create"), 1, "the second create waits for the first");
    first.open();
    const nodes = await Promise.all([a, b]);
    assert.equal(cloud.count("create"), 2);
    await Promise.all(nodes.map((n: ProviderNode) => provider.stopNode(n)));
    assert.equal(cloud.vms.size, 0);
  });

  it("runs under explore(): its happy path starts no real timer", async () => {
    const explored = await explore(
      async (t) => {
        const cloud = new FakeCloud();
        const job = new Job("explored").task("a", () => 1).task("b", { dependsOn: ["a"] }, ({ deps }: TaskContext<{ a: number }>) => deps.a + 1);
        const result = await run(job, { runtime: t.runtime, pools: { default: cloudVm({ driver: cloud, maxNodes: 2 }) } });
        assert.equal(result.status, "succeeded");
        assert.equal(cloud.vms.size, 0);
      },
      { iterations: 20, seed: 3 },
    );
    assert.equal(explored.iterations, 20);
  });
});

describe("cloudVm: no VM is left behind", () => {
  it("reconciles a create whose answer was lost: the VM it made is found by name and deleted, and another is made", async () => {
    const cloud = new FakeCloud();
    cloud.plan.create.push("lose-answer");
    const provider = cloudVm({ driver: cloud, namePrefix: "r" });
    const node = await provider.startNode(report().report);
    assert.deepEqual(cloud.calls, ["create r-1", "list", "delete i-1", "create r-2"]);
    assert.equal(node.id, "i-2");
    assert.deepEqual([...cloud.vms.keys()], ["i-2"]);
    await provider.stopNode(node);
    assert.equal(cloud.vms.size, 0);
  });

  it("reconciles a create that failed with an error of unknown outcome, then rejects with that error", async () => {
    const cloud = new FakeCloud();
    const odd = new TypeError("driver bug");
    cloud.plan.create.push(odd);
    const provider = cloudVm({ driver: cloud, namePrefix: "u" });
    assert.equal(await rejection(provider.startNode(report().report)), odd);
    assert.deepEqual(cloud.calls, ["create u-1", "list"]);
  });

  it("says a VM may be left when reconciliation itself fails", async () => {
    const cloud = new FakeCloud();
    cloud.plan.create.push("lose-answer");
    cloud.plan.list.push(new TypeError("listing is broken"));
    const provider = cloudVm({ driver: cloud, namePrefix: "f" });
    const error = await rejection(provider.startNode(report().report));
    assert.ok(isFlotillaError(error, "E_VM_API"), String(error));
    assert.match((error as Error).message, /a VM named "f-1" may be left in driver "fake"/);
  });

  it("deletes the VM of an aborted create that the driver made anyway", async () => {
    const cloud = new FakeCloud();
    cloud.honourAbort = false;
    const slow = gate();
    cloud.plan.create.push(slow);
    const provider = cloudVm({ driver: cloud, namePrefix: "a" });
    const r = report();
    const starting = provider.startNode(r.report);
    await new Promise((resolve) => setImmediate(resolve));
    r.abort(new Error("no longer wanted"));
    slow.open();
    assert.equal(((await rejection(starting)) as Error).message, "no longer wanted");
    assert.equal(cloud.vms.size, 0);
    assert.deepEqual(cloud.calls, ["create a-1", "delete i-1"]);
  });

  it("reconciles an aborted create that the driver gave up on while its VM was still being made", async () => {
    const cloud = new FakeCloud();
    cloud.plan.create.push(gate());
    const provider = cloudVm({ driver: cloud, namePrefix: "b" });
    const r = report();
    const starting = provider.startNode(r.report);
    await new Promise((resolve) => setImmediate(resolve));
    r.abort(new Error("scaled down"));
    assert.equal(((await rejection(starting)) as Error).message, "scaled down");
    assert.equal(cloud.vms.size, 0);
    assert.deepEqual(cloud.calls, ["create b-1", "list", "delete i-1"]);
  });

  it("takes an aborted start out of the queue before it calls the cloud", async () => {
    const cloud = new FakeCloud();
    const first = gate();
    cloud.plan.create.push(first);
    const provider = cloudVm({ driver: cloud, maxConcurrentCalls: 1, maxNodes: 2 });
    const a = provider.startNode(report().report);
    const r = report();
    const b = provider.startNode(r.report);
    await new Promise((resolve) => setImmediate(resolve));
    r.abort(new Error("not needed"));
    assert.equal(((await rejection(b)) as Error).message, "not needed");
    first.open();
    await provider.stopNode(await a);
    assert.equal(cloud.count("create"), 1);
    assert.equal(cloud.vms.size, 0);
  });
});

describe("cloudVm: preemption and loss", () => {
  it("reports a preempted VM through report.preempted, and a lost one through report.lost", async () => {
    const cloud = new FakeCloud();
    const provider = cloudVm({ driver: cloud, maxNodes: 2 });
    const r1 = report();
    const r2 = report();
    const spot = await provider.startNode(r1.report);
    const other = await provider.startNode(r2.report);
    cloud.vms.get(spot.id)!.request.events.preempted(new Error("spot capacity reclaimed"));
    cloud.vms.get(spot.id)!.request.events.lost(new Error("a second report is ignored"));
    cloud.vms.get(other.id)!.request.events.lost(new Error("host failure"));
    assert.deepEqual(r1.heard, ["preempted: spot capacity reclaimed"]);
    assert.deepEqual(r2.heard, ["lost: host failure"]);
    // A lost node runs nothing more.
    const error = await rejection(provider.run(spot, () => 1, { taskId: "t", attempt: 1 } as TaskContext<any>));
    assert.ok(error instanceof NodeLostError, String(error));
    await provider.stopNode(spot);
    await provider.stopNode(other);
    assert.equal(cloud.vms.size, 0);
  });

  it("falls back to report.lost for a preemption when the pool gives no report.preempted", async () => {
    const cloud = new FakeCloud();
    const provider = cloudVm({ driver: cloud });
    const heard: unknown[] = [];
    const node = await provider.startNode({ lost: (reason: unknown) => heard.push(reason) });
    cloud.vms.get(node.id)!.request.events.preempted();
    assert.equal(heard.length, 1);
    assert.ok(heard[0] instanceof NodeLostError);
    assert.match((heard[0] as Error).message, /was preempted/);
    await provider.stopNode(node);
  });

  it("requeues the attempt of a VM preempted under it, and the job completes on another VM", async () => {
    const cloud = new FakeCloud();
    cloud.run = (vm, body, ctx) => {
      if (ctx.attempt === 1 && ctx.taskId === "victim") {
        cloud.vms.get(vm.id)!.request.events.preempted(new Error("reclaimed"));
        return Promise.reject(new NodeLostError(vm.id, `VM ${vm.id} was preempted under the attempt`));
      }
      return body(ctx);
    };
    const handle = start(
      new Job("spot").task("victim", ({ node }: TaskContext) => node.id),
      {
        pools: { default: cloudVm({ driver: cloud }) },
      },
    );
    let requeued = 0;
    handle.on("task:requeued", () => requeued++);
    const result = await handle.result;
    assert.equal(result.status, "succeeded");
    assert.equal(requeued, 1);
    assert.equal(result.output("victim"), "i-2");
    assert.equal(cloud.vms.size, 0);
  });

  it("deletes a VM reported gone before its create answered, and the start fails transiently", async () => {
    const cloud = new FakeCloud();
    const slow = gate();
    cloud.plan.create.push(slow);
    const provider = cloudVm({ driver: cloud });
    const starting = provider.startNode(report().report);
    await new Promise((resolve) => setImmediate(resolve));
    cloud.vms.get("i-1")!.request.events.preempted(new Error("reclaimed while booting"));
    slow.open();
    const error = await rejection(starting);
    assert.ok(isFlotillaError(error, "E_VM_API"), String(error));
    assert.match((error as Error).message, /was preempted before it could be used/);
    assert.equal(cloud.vms.size, 0);
  });
});

describe("cloudVm: options", () => {
  const bad: [string, unknown, RegExp][] = [
    ["no options", undefined, /cloudVm\(\): options must be an object with a "driver"/],
    ["no driver", {}, /option "driver" must be a VmDriver object/],
    ["a driver without methods", { driver: { name: "x" } }, /is not a VmDriver: missing create, delete, list, run/],
    ["a driver with bad kinds", { driver: Object.assign(new FakeCloud(), { kinds: [] }) }, /"kinds" must be a non-empty array/],
    ["a typo", { driver: new FakeCloud(), maxNode: 2 }, /unknown option "maxNode" \(did you mean "maxNodes"\?\)/],
    ["maxNodes 0", { driver: new FakeCloud(), maxNodes: 0 }, /option "maxNodes" must be an integer >= 1, received number 0/],
    ["slotsPerVm 1.5", { driver: new FakeCloud(), slotsPerVm: 1.5 }, /option "slotsPerVm" must be an integer >= 1 or Infinity/],
    ["a namePrefix with spaces", { driver: new FakeCloud(), namePrefix: "my vms" }, /option "namePrefix" must be 1 to 40 letters/],
    ["maxConcurrentCalls 0", { driver: new FakeCloud(), maxConcurrentCalls: 0 }, /option "maxConcurrentCalls"/],
    ["a rateLimit without a window", { driver: new FakeCloud(), rateLimit: { callsPerInterval: 2 } }, /option "rateLimit.intervalMs"/],
    ["a rateLimit typo", { driver: new FakeCloud(), rateLimit: { intervalMs: 10, calls: 2 } }, /unknown option "calls"/],
    ["maxThrottleRetries -1", { driver: new FakeCloud(), maxThrottleRetries: -1 }, /option "maxThrottleRetries" must be an integer >= 0/],
    ["maxApiRetries NaN", { driver: new FakeCloud(), maxApiRetries: Number.NaN }, /option "maxApiRetries"/],
    ["retryDelayMs -5", { driver: new FakeCloud(), retryDelayMs: -5 }, /option "retryDelayMs" must be a number of milliseconds/],
  ];
  for (const [what, options, message] of bad) {
    it(`refuses ${what} with E_INVALID_OPTION naming it`, () => {
      assert.throws(
        () => cloudVm(options as never),
        (error: unknown) => isFlotillaError(error, "E_INVALID_OPTION") && message.test((error as Error).message),
      );
    });
  }

  it("refuses a VM with unusable slots, deleting it", async () => {
    const cloud = new FakeCloud();
    const create = cloud.create.bind(cloud);
    cloud.create = async (request) => ({ ...(await create(request)), slots: 0 });
    const provider = cloudVm({ driver: cloud });
    const error = await rejection(provider.startNode(report().report));
    assert.ok(isFlotillaError(error, "E_INVALID_OPTION"), String(error));
    assert.match((error as Error).message, /has slots number 0/);
    assert.equal(cloud.vms.size, 0);
  });

  it("refuses to run on a node it did not start", async () => {
    const provider = cloudVm({ driver: new FakeCloud() });
    const foreign: ProviderNode = { id: "elsewhere", slots: 1 };
    const error = await rejection(provider.run(foreign, () => 1, { taskId: "t", attempt: 1 } as TaskContext<any>));
    assert.ok(isFlotillaError(error, "E_INVALID_OPTION"), String(error));
  });
});
