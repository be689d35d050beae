import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Job, inProcess, run, start, type ComputeProvider, type NodeReport, type ProviderNode, type RunEvent, type TaskSpec } from "../src/index.ts";
import { virtualRuntime } from "../src/testing/index.ts";
import { deferred } from "./helpers.ts";

/** A spec body of kind "echo": its provider returns `value` (or waits for `gate` first). */
interface Echo extends TaskSpec<string> {
  readonly kind: "echo";
  readonly value: string;
  readonly gate?: Promise<void>;
}
const echo = (value: string, gate?: Promise<void>): Echo => ({ kind: "echo", value, gate });

/** A provider of "echo" bodies with several one-slot nodes; it records what it was asked. */
function echoProvider(maxNodes: number, options: { failStarts?: boolean } = {}) {
  const started: string[] = [];
  const stopped: string[] = [];
  const reports = new Map<string, NodeReport>();
  const busy = new Map<string, number>();
  let peak = 0;
  const provider: ComputeProvider<Echo> = {
    name: "echo",
    kinds: ["echo"],
    maxNodes,
    startNode: async (report) => {
      if (options.failStarts) throw new Error("no capacity");
      const node: ProviderNode = { id: `echo-${started.length + 1}`, slots: 1 };
      started.push(node.id);
      reports.set(node.id, report);
      return node;
    },
    stopNode: (node) => void stopped.push(node.id),
    run: async (node, body, ctx) => {
      busy.set(node.id, (busy.get(node.id) ?? 0) + 1);
      peak = Math.max(peak, busy.get(node.id)!);
      try {
        await body.gate;
        ctx.log(`${body.value} on ${node.id}`);
        return body.value;
      } finally {
        busy.set(node.id, busy.get(node.id)! - 1);
      }
    },
  };
  return { provider, started, stopped, reports, peak: () => peak };
}

describe("pools", () => {
  it("a task made ready by a synchronous completion in a later pool still runs in an earlier pool (found by a 15,000-schedule campaign)", async () => {
    const inline: ComputeProvider = {
      name: "inline",
      startNode: () => ({ id: "inline-1", slots: 1 }),
      stopNode: () => {},
      run: (_node, body, ctx) => body(ctx),
    };
    const job = new Job("j").task("x", { pool: "other" }, () => 1).task("y", { dependsOn: ["x"] }, ({ deps }) => deps.x + 1);
    const result = await run(job, { pools: { default: inProcess(), other: inline } });
    assert.equal(result.output("y"), 2);
  });

  it("runs each task in its pool, on several nodes started as work needs them, one attempt per slot", async () => {
    const echoes = echoProvider(3);
    const gate = deferred();
    const job = new Job("mixed")
      .task("plain", () => "in process")
      .task("a", { pool: "echo" }, echo("A", gate.promise))
      .task("b", { pool: "echo" }, echo("B", gate.promise))
      .task("c", { pool: "echo", dependsOn: ["a", "b"] }, echo("C"))
      .task("sum", { dependsOn: ["c", "plain"] }, ({ deps }) => `${deps.c}+${deps.plain}`);
    const handle = start(job, { pools: { echo: echoes.provider } });
    const lines: string[] = [];
    handle.on("task:output", (e) => lines.push(`${e.taskId}:${e.line}`));
    const nodes: string[] = [];
    handle.on("node:start", (e) => {
      nodes.push(`${e.pool}/${e.nodeId}`);
      if (e.nodeId === "echo-2") gate.resolve(); // both ready tasks have a node of their own
    });
    const result = await handle.result;
    assert.equal(result.status, "succeeded");
    assert.equal(result.output("sum"), "C+in process");
    // Two tasks were ready at once: two nodes, not the pool's maximum of three.
    assert.deepEqual(echoes.started, ["echo-1", "echo-2"]);
    assert.deepEqual([...echoes.stopped].sort(), ["echo-1", "echo-2"]);
    assert.equal(echoes.peak(), 1);
    assert.deepEqual(nodes.sort(), ["default/in-process", "echo/echo-1", "echo/echo-2"]);
    assert.deepEqual(lines.sort(), ["a:A on echo-1", "b:B on echo-2", "c:C on echo-1"].sort());
  });

  it("refuses a task naming an unknown pool before anything runs, suggesting the closest", async () => {
    let ran = false;
    const job = new Job("j").task("a", () => (ran = true)).task("b", { pool: "ecko" }, echo("B"));
    await assert.rejects(run(job, { pools: { echo: echoProvider(1).provider } }), {
      code: "E_INVALID_OPTION",
      message: /task "b": option "pool" names pool "ecko", which this run does not have \(did you mean "echo"\?\); its pools: default, echo/,
    });
    assert.equal(ran, false);
  });

  it("refuses a body its pool cannot run, naming the task, the body kind and the pool", async () => {
    const job = new Job("j").task("b", echo("B"));
    await assert.rejects(run(job), {
      code: "E_INVALID_OPTION",
      message: /task "b": its body is of kind "echo", which pool "default" \(provider "in-process"\) cannot run \(it runs "function"\); add a pool/,
    });
    await assert.rejects(run(job, { pools: { e: echoProvider(1).provider } }), { message: /give the task \{ pool: "e" \}/ });
    const fn = new Job("k").task("f", { pool: "e" }, () => 1);
    await assert.rejects(run(fn, { pools: { e: echoProvider(1).provider } }), {
      message: /task "f": its body is of kind "function", which pool "e" \(provider "echo"\)/,
    });
  });

  it("checks the pools option: not with provider, every pool a provider, data members well formed", async () => {
    const job = new Job("j").task("a", () => 1);
    const refused = (options: object) => run(job, options);
    await assert.rejects(refused({ provider: inProcess(), pools: {} }), { code: "E_INVALID_OPTION", message: /not both/ });
    await assert.rejects(refused({ pools: [] }), { message: /option "pools" must be an object of named providers/ });
    await assert.rejects(refused({ pools: { cpu: { name: "x" } } }), { message: /pool "cpu" is not a ComputeProvider: missing startNode, stopNode, run/ });
    await assert.rejects(refused({ pools: { cpu: { ...inProcess(), maxNodes: 0 } } }), { message: /"maxNodes" must be an integer >= 1, received number 0/ });
    await assert.rejects(refused({ pools: { cpu: { ...inProcess(), kinds: [] } } }), { message: /"kinds" must be a non-empty array/ });
  });

  it("a node reported lost is stopped and replaced, the attempt on it requeued; a stale report is ignored", async () => {
    const echoes = echoProvider(1);
    const second = deferred();
    const job = new Job("j").task("a", { pool: "echo" }, echo("A")).task("b", { pool: "echo", dependsOn: ["a"] }, echo("B", second.promise));
    const events: string[] = [];
    const handle = start(job, { pools: { echo: echoes.provider } });
    handle.on("task:start", (e) => {
      events.push(`start ${e.taskId}#${e.attempt}`);
      // b runs on echo-1: the provider reports that node lost while b waits on its gate.
      if (e.taskId === "b" && e.attempt === 1) queueMicrotask(() => echoes.reports.get("echo-1")!.lost(new Error("host rebooted")));
      if (e.taskId === "b" && e.attempt === 2) second.resolve();
    });
    handle.on("node:lost", (e) => events.push(`lost ${e.nodeId}: ${(e.error as Error).message}`));
    handle.on("task:requeued", (e) => events.push(`requeued ${e.taskId}`));
    const result = await handle.result;
    assert.equal(result.status, "succeeded");
    assert.equal(result.output("b"), "B");
    assert.equal(result.tasks.get("b").attempts, 2);
    assert.deepEqual(events, ["start a#1", "start b#1", 'lost echo-1: node "echo-1" of pool "echo" was lost: host rebooted', "requeued b", "start b#2"]);
    assert.deepEqual(echoes.started, ["echo-1", "echo-2"]);
    assert.deepEqual(echoes.stopped, ["echo-1", "echo-2"]);
    // A report about a node already gone changes nothing (it is not stopped twice).
    echoes.reports.get("echo-1")!.lost();
    echoes.reports.get("echo-2")!.lost();
    assert.deepEqual(echoes.stopped, ["echo-1", "echo-2"]);
  });

  it("a pool that cannot start a node fails its own tasks; other pools' tasks still run", async () => {
    const broken = echoProvider(2, { failStarts: true });
    const job = new Job("j")
      .task("ok", () => "fine")
      .task("e", { pool: "echo" }, echo("E"))
      .task("after-e", { dependsOn: ["e"] }, () => "never");
    const result = await run(job, { pools: { echo: broken.provider }, runtime: virtualRuntime() });
    assert.equal(result.status, "failed");
    assert.equal(result.output("ok"), "fine");
    assert.equal(result.tasks.get("e").status, "failed");
    assert.match((result.tasks.get("e").error as Error).message, /provider "echo" of pool "echo" could not start a node: no capacity/);
    assert.equal(result.tasks.get("after-e").status, "skipped");
  });

  it("addTask checks the new task's pool and leaves the run unchanged when refused", async () => {
    const gate = deferred();
    const handle = start(
      new Job("j").task("a", () => gate.promise),
      { pools: { echo: echoProvider(1).provider } },
    );
    assert.throws(() => handle.addTask("x", { pool: "nope" }, () => 1), { code: "E_INVALID_OPTION", message: /task "x": option "pool" names pool "nope"/ });
    assert.throws(() => handle.addTask("y", echo("Y")), { message: /task "y": its body is of kind "echo"/ });
    const more = handle.addTask("x", { pool: "echo", dependsOn: ["a"] }, echo("X"));
    gate.resolve();
    const result = await more.result;
    assert.deepEqual([...result.tasks.keys()].sort(), ["a", "x"]);
    assert.equal(result.output("x"), "X");
  });

  it("ctx.log lines of in-process bodies arrive as task:output events, in order", async () => {
    const events: RunEvent[] = [];
    const handle = start(
      new Job("j").task("a", ({ log }) => {
        log("one");
        log("two", "stderr");
      }),
    );
    handle.on("task:output", (e) => events.push(e));
    await handle.result;
    assert.deepEqual(
      events.map((e) => e.type === "task:output" && `${e.stream}:${e.line}`),
      ["log:one", "stderr:two"],
    );
  });
});
